//! The one interface every storage tier answers reads through: the head
//! (recent samples in memory), the Parquet archive, ClickHouse, and the
//! engine that merges them.
//!
//! [`StorageTier`] lives here, beside [`Selection`], because this is the
//! lowest crate that knows what a read is, and declaring it needs no I/O:
//! its methods return `impl Future`, which names no runtime (a future is
//! only a value until someone polls it). The tiers that implement it bring
//! their own I/O; the evaluator, which must stay pure, can carry a
//! [`TierError`] without depending on any of them.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use sightline_core::span::StoredSpan;
use sightline_core::{Labels, LogStream, Sample, Signal};
use sightline_promql::ast::AggOp;
use sightline_promql::functions::Function;

use crate::{LogSelection, Selection, SpanSelection};

/// One series read from a tier: its labels and its samples in the
/// selection's window, sorted by time, timestamps unique.
pub type SeriesSamples = (Labels, Vec<Sample>);

/// One series (or group) on a grid: its labels and one value per grid
/// point, `None` where there is none.
pub type GridRow = (Labels, Vec<Option<f64>>);

/// A step grid: points `start, start + step, … <= end`, each computed over
/// the samples in `(t - range, t]`. A selection read for it spans
/// `[start - range + 1, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
    pub range_ms: i64,
}

/// An aggregation's grouping: `by` or `without` these labels.
#[derive(Debug, Clone, Copy)]
pub struct Grouping<'a> {
    pub without: bool,
    /// Sorted label names; never `__name__`.
    pub labels: &'a [String],
}

/// What kind of failure a tier reports; callers turn the kind into a
/// status and never need to know which tier failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TierErrorKind {
    /// The request was refused as input (for example a regular expression
    /// the tier's engine cannot compile).
    BadQuery,
    /// The tier cannot answer now (down, unreachable, refusing work); a
    /// retry may succeed.
    Unavailable,
    /// The tier holds or returned data it cannot read.
    Corrupt,
    /// The answer passes a limit (too many series).
    Limit,
    /// The selection asks for a signal this tier does not hold.
    UnsupportedSignal,
    /// Anything else.
    Internal,
}

/// A tier's error: its kind, a message fit to show a client, and the
/// tier's own error as its source.
#[derive(Debug)]
pub struct TierError {
    kind: TierErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TierError {
    /// An error without a source.
    pub fn new(kind: TierErrorKind, message: impl Into<String>) -> Self {
        TierError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error of `kind` caused by `source`, with the source's own words
    /// as its message.
    pub fn from_source<E>(kind: TierErrorKind, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        TierError {
            kind,
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// An answer past a limit.
    pub fn limit(message: impl Into<String>) -> Self {
        TierError::new(TierErrorKind::Limit, message)
    }

    /// `tier` does not hold `signal`.
    pub fn unsupported_signal(tier: &str, signal: Signal) -> Self {
        TierError::new(
            TierErrorKind::UnsupportedSignal,
            format!("unsupported: the {tier} holds no {signal}"),
        )
    }

    pub fn kind(&self) -> TierErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TierError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Two errors are equal when their kind and message are; sources are not
/// compared (so that results carrying an error can be compared in tests).
impl PartialEq for TierError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

/// Refuses a selection of any signal but `held`: a tier asked for what it
/// does not hold says so, and never answers with nothing.
pub fn check_signal(sel: &Selection, held: Signal, tier: &str) -> Result<(), TierError> {
    if sel.signal() == held {
        Ok(())
    } else {
        Err(TierError::unsupported_signal(tier, sel.signal()))
    }
}

/// A storage tier: answers reads of a [`Selection`] (which always carries
/// its tenant and signal) for that tenant only.
///
/// Every method's future is `Send`, so the engine's merges can run on any
/// async worker; the tier is `Sync`, as concurrent queries share it.
///
/// Architecture invariant: the engine merges tiers, and the evaluator's
/// adapter (`sightline_engine::TierView`) reads, only through this trait,
/// so a new tier (or a new signal in an old one) is one implementation.
pub trait StorageTier: Sync {
    /// Every series matching the selection with its samples in the window;
    /// series without a sample there are left out. Staleness markers are
    /// returned as stored.
    fn select(
        &self,
        sel: &Selection,
    ) -> impl Future<Output = Result<Vec<SeriesSamples>, TierError>> + Send;

    /// The label sets of the series matching the selection with a sample in
    /// its window.
    fn series(
        &self,
        sel: &Selection,
    ) -> impl Future<Output = Result<Vec<Labels>, TierError>> + Send;

    /// The label names in use by the selection's series, sorted. By default
    /// taken from [`StorageTier::series`].
    fn label_names(
        &self,
        sel: &Selection,
    ) -> impl Future<Output = Result<Vec<String>, TierError>> + Send {
        async move {
            let mut names = std::collections::BTreeSet::new();
            for l in self.series(sel).await? {
                names.extend(l.iter().map(|x| x.name.clone()));
            }
            Ok::<Vec<String>, TierError>(names.into_iter().collect())
        }
    }

    /// The values of label `name` among the selection's series, sorted and
    /// unique. By default taken from [`StorageTier::series`].
    fn label_values(
        &self,
        sel: &Selection,
        name: &str,
    ) -> impl Future<Output = Result<Vec<String>, TierError>> + Send {
        async move {
            let mut values = std::collections::BTreeSet::new();
            for l in self.series(sel).await? {
                if let Some(v) = l.get(name) {
                    values.insert(v.to_string());
                }
            }
            Ok::<Vec<String>, TierError>(values.into_iter().collect())
        }
    }

    /// Log entries: every stream the selection matches that has an entry
    /// in the window, with those entries (ascending by time), after the
    /// tier applied as many of the selection's line filters as it can
    /// (see [`LogSelection`]). The default: this tier holds no logs.
    fn select_logs(
        &self,
        sel: &LogSelection,
    ) -> impl Future<Output = Result<Vec<LogStream>, TierError>> + Send {
        let signal = sel.selection().signal();
        async move { Err(TierError::unsupported_signal("tier", signal)) }
    }

    /// The spans the selection admits ([`SpanSelection::admits`]). The
    /// default: this tier holds no spans.
    fn select_spans(
        &self,
        sel: &SpanSelection,
    ) -> impl Future<Output = Result<Vec<StoredSpan>, TierError>> + Send {
        let signal = sel.selection().signal();
        async move { Err(TierError::unsupported_signal("tier", signal)) }
    }

    /// Pushdown: range function `func` (one storage may compute on a grid,
    /// per the function registry) of the selection's series on `grid`,
    /// computed by the tier. The selection's window is `[grid.start_ms -
    /// grid.range_ms + 1, grid.end_ms]`. `None` (the default): the tier
    /// cannot compute this one exactly and the caller reads raw samples.
    fn range_grid(
        &self,
        _sel: &Selection,
        _func: Function,
        _grid: Grid,
    ) -> impl Future<Output = Option<Result<Vec<GridRow>, TierError>>> + Send {
        async { None }
    }

    /// Pushdown: aggregation `op` by `grouping` of range function `func` on
    /// `grid` (see [`StorageTier::range_grid`]), one row per group labelled
    /// with the group's labels. `None` (the default): not computed here.
    fn aggregate_grid(
        &self,
        _sel: &Selection,
        _func: Function,
        _grid: Grid,
        _op: AggOp,
        _grouping: Grouping<'_>,
    ) -> impl Future<Output = Option<Result<Vec<GridRow>, TierError>>> + Send {
        async { None }
    }
}

/// A shared tier is the tier.
impl<T: StorageTier + Send> StorageTier for Arc<T> {
    fn select(
        &self,
        sel: &Selection,
    ) -> impl Future<Output = Result<Vec<SeriesSamples>, TierError>> + Send {
        T::select(self, sel)
    }

    fn series(
        &self,
        sel: &Selection,
    ) -> impl Future<Output = Result<Vec<Labels>, TierError>> + Send {
        T::series(self, sel)
    }

    fn label_names(
        &self,
        sel: &Selection,
    ) -> impl Future<Output = Result<Vec<String>, TierError>> + Send {
        T::label_names(self, sel)
    }

    fn label_values(
        &self,
        sel: &Selection,
        name: &str,
    ) -> impl Future<Output = Result<Vec<String>, TierError>> + Send {
        T::label_values(self, sel, name)
    }

    fn select_logs(
        &self,
        sel: &LogSelection,
    ) -> impl Future<Output = Result<Vec<LogStream>, TierError>> + Send {
        T::select_logs(self, sel)
    }

    fn select_spans(
        &self,
        sel: &SpanSelection,
    ) -> impl Future<Output = Result<Vec<StoredSpan>, TierError>> + Send {
        T::select_spans(self, sel)
    }

    fn range_grid(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
    ) -> impl Future<Output = Option<Result<Vec<GridRow>, TierError>>> + Send {
        T::range_grid(self, sel, func, grid)
    }

    fn aggregate_grid(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
        op: AggOp,
        grouping: Grouping<'_>,
    ) -> impl Future<Output = Option<Result<Vec<GridRow>, TierError>>> + Send {
        T::aggregate_grid(self, sel, func, grid, op, grouping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::TenantId;

    #[test]
    fn a_tier_refuses_a_signal_it_does_not_hold() {
        let t = TenantId::new("a").expect("valid");
        let metrics = Selection::new(t.clone(), vec![], 0, 10).expect("selection");
        assert_eq!(metrics.signal(), Signal::Metrics);
        assert!(check_signal(&metrics, Signal::Metrics, "head").is_ok());
        let logs = Selection::for_signal(t, Signal::Logs, vec![], 0, 10).expect("selection");
        let err = check_signal(&logs, Signal::Metrics, "head").expect_err("refused");
        assert_eq!(err.kind(), TierErrorKind::UnsupportedSignal);
        assert_eq!(err.to_string(), "unsupported: the head holds no logs");
    }

    #[test]
    fn errors_keep_their_source() {
        use std::error::Error as _;
        let io = std::io::Error::other("disk gone");
        let e = TierError::from_source(TierErrorKind::Unavailable, io);
        assert_eq!(e.kind(), TierErrorKind::Unavailable);
        assert_eq!(e.to_string(), "disk gone");
        let source = e.source().expect("a source");
        assert!(source.downcast_ref::<std::io::Error>().is_some());
        assert!(TierError::limit("too many").source().is_none());
    }
}
