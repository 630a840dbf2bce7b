//! A read of log entries: a logs [`Selection`] (tenant, stream matchers)
//! with a window in nanoseconds and what the tier may do for the caller.

use sightline_core::{Direction, Matcher, Signal};
use sightline_logql::ast::{FilterValue, LineFilter, LineFilterOp};

use crate::{PlanError, ReadScope, Selection};

/// The entries of the streams a selection matches with timestamps in
/// `[start_ns, end_ns)` (Loki's bounds: start inclusive, end exclusive).
///
/// `line_filters` are the query's leading line filters: a tier may apply
/// them (ClickHouse and DataFusion as bound predicates) or not; the
/// evaluator applies them again either way, so they only ever save work.
/// `limit`, when set, lets a tier return only the first `limit` entries
/// (in `direction` order) that pass the line filters: the caller sets it
/// only when nothing after the filters can drop an entry.
#[derive(Debug, Clone)]
pub struct LogSelection {
    selection: Selection,
    start_ns: i64,
    end_ns: i64,
    line_filters: Vec<LineFilter>,
    direction: Direction,
    limit: Option<usize>,
}

impl LogSelection {
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    pub fn start_ns(&self) -> i64 {
        self.start_ns
    }

    pub fn end_ns(&self) -> i64 {
        self.end_ns
    }

    pub fn line_filters(&self) -> &[LineFilter] {
        &self.line_filters
    }

    pub fn direction(&self) -> Direction {
        self.direction
    }

    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// Whether `line` passes the selection's substring filters (`|=` and
    /// `!=` of plain strings, with their `or` alternatives: `|= "a" or "b"`
    /// keeps a line holding either, `!= "a" or "b"` one holding neither, as
    /// Loki reads them). Other filters pass every line here: tiers that
    /// apply only these leave the rest to the evaluator.
    pub fn passes_literal_filters(&self, line: &str) -> bool {
        self.line_filters.iter().all(|f| {
            let mut strs = f.values.iter().map(|v| match v {
                FilterValue::Str(s) => Some(s.as_str()),
                FilterValue::Ip(_) => None,
            });
            match f.op {
                LineFilterOp::Contains if f.values.iter().all(is_str) => {
                    strs.any(|s| s.is_some_and(|s| line.contains(s)))
                }
                LineFilterOp::NotContains if f.values.iter().all(is_str) => {
                    !strs.any(|s| s.is_some_and(|s| line.contains(s)))
                }
                _ => true,
            }
        })
    }

    /// Whether `ts_ns` is inside the window.
    pub fn contains(&self, ts_ns: i64) -> bool {
        ts_ns >= self.start_ns && ts_ns < self.end_ns
    }

    pub fn with_line_filters(mut self, filters: Vec<LineFilter>) -> Self {
        self.line_filters = filters;
        self
    }

    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        self.limit = limit;
        self
    }
}

fn is_str(v: &FilterValue) -> bool {
    matches!(v, FilterValue::Str(_))
}

/// The millisecond window holding every nanosecond of `[start_ns, end_ns)`.
fn ms_cover(start_ns: i64, end_ns: i64) -> (i64, i64) {
    let start = start_ns.div_euclid(1_000_000);
    let end = (end_ns.saturating_sub(1)).div_euclid(1_000_000);
    (start, end.max(start))
}

impl ReadScope {
    /// A read of this scope's log entries in `[start_ns, end_ns)`, newest
    /// first, with no line filters and no limit.
    pub fn select_logs(
        &self,
        matchers: Vec<Matcher>,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<LogSelection, PlanError> {
        if end_ns < start_ns {
            return Err(PlanError::TimeRange {
                start: start_ns,
                end: end_ns,
            });
        }
        let (start_ms, end_ms) = ms_cover(start_ns, end_ns);
        let selection = self.select_signal(Signal::Logs, matchers, start_ms, end_ms)?;
        Ok(LogSelection {
            selection,
            start_ns,
            end_ns,
            line_filters: Vec::new(),
            direction: Direction::Backward,
            limit: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::{MatchOp, TenantId};

    #[test]
    fn a_log_selection_carries_the_scope_and_covers_its_window() {
        let t = TenantId::new("a").expect("valid");
        let scope =
            ReadScope::with_labels(t.clone(), &[("env".into(), "prod".into())]).expect("scope");
        let m = Matcher::new("app", MatchOp::Equal, "api").expect("matcher");
        let sel = scope
            .select_logs(vec![m], 1_500_000, 3_000_000)
            .expect("selection");
        assert_eq!(sel.selection().signal(), Signal::Logs);
        assert_eq!(sel.selection().tenant(), &t);
        assert_eq!(
            sel.selection().matchers().len(),
            2,
            "the scope's matcher added"
        );
        assert_eq!(
            (sel.selection().start_ms(), sel.selection().end_ms()),
            (1, 2)
        );
        assert!(sel.contains(1_500_000) && sel.contains(2_999_999));
        assert!(!sel.contains(3_000_000) && !sel.contains(1_499_999));
        assert!(scope.select_logs(vec![], 10, 5).is_err());
        let empty = scope.select_logs(vec![], 10, 10).expect("an empty window");
        assert!(!empty.contains(10));
    }

    #[test]
    fn literal_filters_read_or_as_loki_does() {
        let filters = |q: &str| match sightline_logql::parse(q).expect("parses") {
            sightline_logql::ast::Expr::Log(l) => l
                .stages
                .into_iter()
                .filter_map(|s| match s {
                    sightline_logql::ast::Stage::LineFilter(f) => Some(f),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let scope = ReadScope::tenant(TenantId::new("a").expect("valid"));
        let sel = |q: &str| {
            scope
                .select_logs(vec![], 0, 1)
                .expect("selection")
                .with_line_filters(filters(q))
        };
        let s = sel(r#"{a="b"} |= "x" or "y" != "z""#);
        assert!(s.passes_literal_filters("..y.."));
        assert!(!s.passes_literal_filters("..y..z"));
        assert!(!s.passes_literal_filters("nothing"));
        let s = sel(r#"{a="b"} != "x" or "y""#);
        assert!(s.passes_literal_filters("abc"));
        assert!(!s.passes_literal_filters("x"));
        assert!(!s.passes_literal_filters("y"));
        // Filters this check does not read pass everything.
        let s = sel(r#"{a="b"} |~ "x+" |= ip("10.0.0.1") |> "<_> x""#);
        assert!(s.passes_literal_filters("anything"));
    }
}
