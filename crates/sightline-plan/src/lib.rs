//! The query plan: a parsed query bound to exactly one tenant, with every
//! identifier checked against the allow-list and every time bound known.
//!
//! Architecture invariant: a [`Selection`] — the only thing storage accepts —
//! cannot be built without a [`TenantId`]; its fields are private and the
//! tenant is not an `Option`. Storage code takes `&Selection`, so a read
//! without a tenant predicate does not type-check. A selection also names
//! its [`Signal`]; a tier that does not hold it refuses the read.
//!
//! Every tier answers selections through one trait, [`StorageTier`]
//! (`tier.rs`), with one error type, [`TierError`], whose kind callers turn
//! into a status.
//!
//! This crate is pure: no I/O, no clock, no runtime. `StorageTier`'s
//! methods return futures, which need no runtime to declare.

mod logs;
mod spans;
mod tier;

pub use logs::LogSelection;
pub use spans::SpanSelection;

pub use tier::{
    Grid, GridRow, Grouping, SeriesSamples, StorageTier, TierError, TierErrorKind, check_signal,
};

use sightline_core::{Matcher, Signal, TenantId};
use thiserror::Error;

/// Errors raised while planning a query.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PlanError {
    #[error("invalid label name {0:?}")]
    LabelName(String),
    #[error("invalid time range: end {end} is before start {start}")]
    TimeRange { start: i64, end: i64 },
    #[error("{0}")]
    Limit(String),
    /// A range query whose `(end - start) / step` passes the most points a
    /// series may have; worded as Prometheus words it (`11,000`).
    #[error(
        "exceeded maximum resolution of {} points per timeseries. Try decreasing the query resolution (?step=XX)",
        grouped(.max)
    )]
    Resolution { max: i64 },
}

/// An integer with a comma between groups of three digits: `11,000`.
fn grouped(n: &i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if *n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Longest label name the planner lets through.
pub const MAX_LABEL_NAME_BYTES: usize = 1024;

/// The identifier allow-list for label names: non-empty UTF-8 of bounded
/// length without control characters (Prometheus 3 accepts quoted UTF-8
/// names). Names never reach SQL text; this keeps logs and errors sane and
/// bounds the work a name can cause.
pub fn check_label_name(name: &str) -> Result<(), PlanError> {
    if name.is_empty() || name.len() > MAX_LABEL_NAME_BYTES || name.chars().any(char::is_control) {
        return Err(PlanError::LabelName(name.chars().take(64).collect()));
    }
    Ok(())
}

/// One read from storage: a tenant, a signal, matchers and an inclusive
/// time window.
#[derive(Debug, Clone)]
pub struct Selection {
    tenant: TenantId,
    signal: Signal,
    matchers: Vec<Matcher>,
    start_ms: i64,
    end_ms: i64,
}

impl Selection {
    /// A selection of metrics, after checking every matcher's label name
    /// and the window.
    pub fn new(
        tenant: TenantId,
        matchers: Vec<Matcher>,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Self, PlanError> {
        Selection::for_signal(tenant, Signal::Metrics, matchers, start_ms, end_ms)
    }

    /// A selection of `signal`, checked as [`Selection::new`] checks one.
    pub fn for_signal(
        tenant: TenantId,
        signal: Signal,
        matchers: Vec<Matcher>,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Self, PlanError> {
        for m in &matchers {
            check_label_name(&m.name)?;
        }
        if end_ms < start_ms {
            return Err(PlanError::TimeRange {
                start: start_ms,
                end: end_ms,
            });
        }
        Ok(Selection {
            tenant,
            signal,
            matchers,
            start_ms,
            end_ms,
        })
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The kind of telemetry read.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    pub fn end_ms(&self) -> i64 {
        self.end_ms
    }
}

/// Whose data a read may see: one tenant and, for a token scoped below its
/// workspace (a project, application or environment), the labels every
/// series it reads must carry. Selections are built only through a scope,
/// so a scoped token's read always carries its label matchers.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadScope {
    tenant: TenantId,
    required: Vec<Matcher>,
}

impl ReadScope {
    /// All of a tenant's data.
    pub fn tenant(tenant: TenantId) -> Self {
        ReadScope {
            tenant,
            required: Vec::new(),
        }
    }

    /// A tenant's series that carry every `(name, value)` label.
    pub fn with_labels(tenant: TenantId, labels: &[(String, String)]) -> Result<Self, PlanError> {
        let required = labels
            .iter()
            .map(|(n, v)| {
                check_label_name(n)?;
                Matcher::new(n, sightline_core::MatchOp::Equal, v)
                    .map_err(|e| PlanError::LabelName(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ReadScope { tenant, required })
    }

    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant
    }

    /// The label matchers every read of this scope carries.
    pub fn required(&self) -> &[Matcher] {
        &self.required
    }

    /// A metrics selection of this scope: `matchers` and the scope's own.
    pub fn select(
        &self,
        matchers: Vec<Matcher>,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Selection, PlanError> {
        self.select_signal(Signal::Metrics, matchers, start_ms, end_ms)
    }

    /// A selection of `signal` in this scope: `matchers` and the scope's
    /// own.
    pub fn select_signal(
        &self,
        signal: Signal,
        mut matchers: Vec<Matcher>,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Selection, PlanError> {
        matchers.extend(self.required.iter().cloned());
        Selection::for_signal(self.tenant.clone(), signal, matchers, start_ms, end_ms)
    }
}

/// Limits a query plan must respect.
#[derive(Debug, Clone, Copy)]
pub struct PlanLimits {
    /// Most points one series of a range query may have.
    pub max_points_per_series: i64,
}

impl Default for PlanLimits {
    fn default() -> Self {
        PlanLimits {
            max_points_per_series: 11_000,
        }
    }
}

/// Checks a range query's shape: step positive, end not before start, and
/// not more points per series than allowed.
pub fn check_range(
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    limits: &PlanLimits,
) -> Result<(), PlanError> {
    if end_ms < start_ms {
        return Err(PlanError::TimeRange {
            start: start_ms,
            end: end_ms,
        });
    }
    if step_ms <= 0 {
        return Err(PlanError::Limit(
            "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
        ));
    }
    // Widened so that no pair of i64 times can overflow; as in Prometheus,
    // the limit bounds (end - start) / step.
    let intervals = (i128::from(end_ms) - i128::from(start_ms)) / i128::from(step_ms);
    if intervals > i128::from(limits.max_points_per_series) {
        return Err(PlanError::Resolution {
            max: limits.max_points_per_series,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::MatchOp;

    #[test]
    fn selection_checks_names_and_window() {
        let t = TenantId::new("a").expect("valid");
        let ok = Matcher::new("job", MatchOp::Equal, "x").expect("valid");
        assert!(Selection::new(t.clone(), vec![ok.clone()], 0, 10).is_ok());
        assert!(Selection::new(t.clone(), vec![ok], 10, 0).is_err());
        let bad = Matcher::new("a\u{0}b", MatchOp::Equal, "x").expect("valid");
        assert!(Selection::new(t, vec![bad], 0, 10).is_err());
    }

    #[test]
    fn a_scoped_read_carries_its_labels() {
        let t = TenantId::new("a").expect("valid");
        let scope = ReadScope::with_labels(t.clone(), &[("application".into(), "shop".into())])
            .expect("scope");
        let sel = scope.select(vec![], 0, 10).expect("selection");
        assert_eq!(sel.matchers().len(), 1);
        assert_eq!(sel.matchers()[0].name, "application");
        assert!(sel.matchers()[0].matches("shop"));
        assert!(!sel.matchers()[0].matches("other"));
        assert!(
            ReadScope::tenant(t)
                .select(vec![], 0, 10)
                .expect("sel")
                .matchers()
                .is_empty()
        );
    }

    #[test]
    fn range_limits() {
        let l = PlanLimits::default();
        assert!(check_range(0, 11_000, 1, &l).is_ok());
        assert_eq!(
            check_range(0, 11_001, 1, &l),
            Err(PlanError::Resolution { max: 11_000 })
        );
        assert_eq!(
            PlanError::Resolution { max: 11_000 }.to_string(),
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
        );
        assert!(check_range(-9_100_000_000_000_000, 9_100_000_000_000_000, 1, &l).is_err());
        assert!(check_range(0, 10, 0, &l).is_err());
    }

    #[test]
    fn limits_print_with_thousands_separators() {
        for (n, s) in [
            (0, "0"),
            (100, "100"),
            (1_000, "1,000"),
            (11_000, "11,000"),
            (1_234_567, "1,234,567"),
            (-5_000, "-5,000"),
            (i64::MIN, "-9,223,372,036,854,775,808"),
        ] {
            assert_eq!(grouped(&n), s);
        }
    }
}
