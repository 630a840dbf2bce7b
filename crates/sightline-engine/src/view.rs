//! The evaluator's window onto storage: [`TierView`], a
//! [`Queryable`] over any [`StorageTier`], bound to one [`ReadScope`].
//!
//! The engine evaluates over a view of itself (the merged tiers); the
//! compatibility runner over a view of ClickHouse. The arithmetic from an
//! evaluator request to a selection and a grid is written here once.

use std::time::Instant;

use sightline_core::Matcher;
use sightline_eval::{AggGridRequest, EvalError, GridRequest, GridSeries, Queryable, Series};
use sightline_plan::{Grid, GridRow, Grouping, ReadScope, Selection, StorageTier, TierError};

/// A [`Queryable`] reading `tier` within `scope`: every selector becomes a
/// selection of the scope (so a scoped token's labels are always
/// required), and each read blocks on `rt` until the tier answers.
///
/// Call it from a blocking thread (never from an async worker), as the
/// engine's evaluation threads and the runner's main thread do.
pub struct TierView<T> {
    tier: T,
    scope: ReadScope,
    rt: tokio::runtime::Handle,
    /// Past this instant the caller has already been answered with a
    /// timeout: further reads are refused so the evaluation stops early,
    /// and nothing more is pushed down.
    deadline: Option<Instant>,
}

impl<T: StorageTier> TierView<T> {
    /// A view of `tier` within `scope`, without a deadline.
    pub fn new(tier: T, scope: ReadScope, rt: tokio::runtime::Handle) -> Self {
        TierView {
            tier,
            scope,
            rt,
            deadline: None,
        }
    }

    /// The same view, refusing reads after `deadline`.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    pub fn tier(&self) -> &T {
        &self.tier
    }

    pub fn scope(&self) -> &ReadScope {
        &self.scope
    }

    /// The tier back, for a view of another scope.
    pub fn into_tier(self) -> T {
        self.tier
    }

    fn timed_out(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() > d)
    }

    /// The selection and grid a pushed-down request reads: the window
    /// `[start - range + 1, end]` of the scope. `None` (read raw samples
    /// instead) once the deadline has passed, when the window does not fit
    /// in an `i64`, or when the selection is refused (the raw read then
    /// reports why).
    fn pushdown(&self, req: &GridRequest<'_>) -> Option<(Selection, Grid)> {
        if self.timed_out() {
            return None;
        }
        let (lo, hi) = req.window()?;
        let sel = self.scope.select(req.matchers.to_vec(), lo, hi).ok()?;
        let grid = Grid {
            start_ms: req.start_ms,
            end_ms: req.end_ms,
            step_ms: req.step_ms,
            range_ms: req.range_ms,
        };
        Some((sel, grid))
    }
}

/// A pushed-down answer as the evaluator takes it.
fn grid_series(rows: Result<Vec<GridRow>, TierError>) -> Result<Vec<GridSeries>, EvalError> {
    Ok(rows?
        .into_iter()
        .map(|(labels, values)| GridSeries { labels, values })
        .collect())
}

impl<T: StorageTier> Queryable for TierView<T> {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, EvalError> {
        if self.timed_out() {
            return Err(EvalError::Execution("query timed out".into()));
        }
        let sel = self
            .scope
            .select(matchers.to_vec(), start_ms, end_ms)
            .map_err(|e| EvalError::BadQuery(e.to_string()))?;
        let rows = self.rt.block_on(self.tier.select(&sel))?;
        Ok(rows
            .into_iter()
            .map(|(labels, samples)| Series { labels, samples })
            .collect())
    }

    fn range_grid(&self, req: &GridRequest<'_>) -> Option<Result<Vec<GridSeries>, EvalError>> {
        let (sel, grid) = self.pushdown(req)?;
        let rows = self
            .rt
            .block_on(self.tier.range_grid(&sel, req.func, grid))?;
        Some(grid_series(rows))
    }

    fn aggregate_grid(
        &self,
        req: &AggGridRequest<'_>,
    ) -> Option<Result<Vec<GridSeries>, EvalError>> {
        let (sel, grid) = self.pushdown(&req.inner)?;
        let grouping = Grouping {
            without: req.without,
            labels: req.grouping,
        };
        let rows = self.rt.block_on(self.tier.aggregate_grid(
            &sel,
            req.inner.func,
            grid,
            req.op,
            grouping,
        ))?;
        Some(grid_series(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::{Labels, MatchOp, Sample, TenantId};
    use sightline_plan::{SeriesSamples, TierErrorKind};
    use sightline_promql::functions::Function;

    /// A tier answering every read with one series, refusing regexes as
    /// input, and pushing down `changes` as the grid's start times.
    struct Fixed;

    impl StorageTier for Fixed {
        async fn select(&self, sel: &Selection) -> Result<Vec<SeriesSamples>, TierError> {
            if sel.matchers().iter().any(|m| m.op == MatchOp::Regex) {
                return Err(TierError::new(TierErrorKind::BadQuery, "no regexes here"));
            }
            let labels = Labels::from_pairs([("__name__", "x")]).expect("labels");
            Ok(vec![(
                labels,
                vec![Sample {
                    t: sel.start_ms(),
                    v: sel.end_ms() as f64,
                }],
            )])
        }

        async fn series(&self, _sel: &Selection) -> Result<Vec<Labels>, TierError> {
            Ok(Vec::new())
        }

        async fn range_grid(
            &self,
            sel: &Selection,
            func: Function,
            grid: Grid,
        ) -> Option<Result<Vec<GridRow>, TierError>> {
            (func == Function::Changes).then(|| {
                Ok(vec![(
                    Labels::default(),
                    vec![Some(sel.start_ms() as f64), Some(grid.range_ms as f64)],
                )])
            })
        }
    }

    fn view() -> (tokio::runtime::Runtime, TierView<Fixed>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let scope = ReadScope::tenant(TenantId::new("a").expect("tenant"));
        let v = TierView::new(Fixed, scope, rt.handle().clone());
        (rt, v)
    }

    fn grid_request(func: Function, matchers: &[Matcher], start: i64) -> GridRequest<'_> {
        GridRequest {
            func,
            matchers,
            range_ms: 60_000,
            start_ms: start,
            end_ms: start + 60_000,
            step_ms: 60_000,
        }
    }

    #[test]
    fn reads_and_pushdown_go_through_the_tier() {
        let (_rt, v) = view();
        let got = v.select(&[], 10, 20).expect("select");
        assert_eq!(got[0].samples, vec![Sample { t: 10, v: 20.0 }]);
        // The grid's window is (start - range, end].
        let req = grid_request(Function::Changes, &[], 100_000);
        let rows = v.range_grid(&req).expect("pushed").expect("answer");
        assert_eq!(rows[0].values, vec![Some(40_001.0), Some(60_000.0)]);
        // Not computed by the tier: read raw samples instead.
        assert!(
            v.range_grid(&grid_request(Function::Resets, &[], 0))
                .is_none()
        );
        // A window that does not fit in an i64 is never pushed down.
        assert!(
            v.range_grid(&grid_request(Function::Changes, &[], i64::MIN + 1))
                .is_none()
        );
    }

    #[test]
    fn tier_errors_keep_their_kind_through_the_evaluator() {
        let (_rt, v) = view();
        let re = [Matcher::new("job", MatchOp::Regex, "a.*").expect("matcher")];
        match v.select(&re, 0, 1) {
            Err(EvalError::Storage(e)) => assert_eq!(e.kind(), TierErrorKind::BadQuery),
            other => panic!("{other:?}"),
        }
        let expired = v.with_deadline(Instant::now() - std::time::Duration::from_secs(1));
        assert!(matches!(
            expired.select(&[], 0, 1),
            Err(EvalError::Execution(_))
        ));
        assert!(
            expired
                .range_grid(&grid_request(Function::Changes, &[], 100_000))
                .is_none()
        );
    }
}
