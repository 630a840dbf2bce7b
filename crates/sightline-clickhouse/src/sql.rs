//! Lowering selections to ClickHouse SQL with server-side parameters.

use sightline_core::{METRIC_NAME, MatchOp, Matcher};
use sightline_plan::Selection;

const DAY_MS: i64 = 86_400_000;
/// The last day ClickHouse's `Date` holds (2149-06-06).
const MAX_DATE_DAY: i64 = 65_535;

/// A bound parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Str(String),
    StrArray(Vec<String>),
    I64(i64),
    U16(u16),
}

/// One SQL statement with `{name:Type}` placeholders and their values.
///
/// The fields are private and the only constructors take a
/// [`Selection`], which cannot exist without a tenant; every statement
/// starts its `WHERE` with `tenant = {tenant:String}`. Building one by
/// hand does not compile:
///
/// ```compile_fail
/// let s = sightline_clickhouse::Statement { sql: "SELECT 1".into(), params: vec![] };
/// ```
#[derive(Debug, Clone)]
pub struct Statement {
    sql: String,
    params: Vec<(String, Param)>,
}

impl Statement {
    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn params(&self) -> &[(String, Param)] {
        &self.params
    }

    fn scoped(sel: &Selection, head: &str) -> Statement {
        let mut s = Statement {
            sql: format!("{head} WHERE tenant = {{tenant:String}}"),
            params: Vec::new(),
        };
        s.bind("tenant", Param::Str(sel.tenant().as_str().to_string()));
        s
    }

    fn bind(&mut self, name: &str, p: Param) {
        self.params.push((name.to_string(), p));
    }

    /// Days `[d0, d1]` of the selection as `Date` bounds, or `None` when
    /// the window lies wholly outside what `Date` holds.
    fn days(sel: &Selection) -> Option<(u16, u16)> {
        let d0 = sel.start_ms().div_euclid(DAY_MS).max(0);
        let d1 = sel.end_ms().div_euclid(DAY_MS).min(MAX_DATE_DAY);
        (d0 <= d1 && d1 >= 0 && d0 <= MAX_DATE_DAY).then(|| (d0 as u16, d1 as u16))
    }

    /// Adds one matcher over the series table. Label names are bound as
    /// map keys; regular expressions are anchored as Prometheus anchors
    /// them (`^(?s:re)$`).
    fn push_matcher(&mut self, i: usize, m: &Matcher) {
        let col = if m.name == METRIC_NAME {
            "metric_name".to_string()
        } else {
            self.bind(&format!("k{i}"), Param::Str(m.name.clone()));
            format!("labels[{{k{i}:String}}]")
        };
        let v = format!("{{v{i}:String}}");
        let cond = match m.op {
            MatchOp::Equal => format!("{col} = {v}"),
            MatchOp::NotEqual => format!("{col} != {v}"),
            MatchOp::Regex => format!("match({col}, {v})"),
            MatchOp::NotRegex => format!("NOT match({col}, {v})"),
        };
        let value = match m.op {
            MatchOp::Regex | MatchOp::NotRegex => format!("^(?s:{})$", m.value),
            _ => m.value.clone(),
        };
        self.bind(&format!("v{i}"), Param::Str(value));
        self.sql.push_str(" AND ");
        self.sql.push_str(&cond);
    }

    /// `head` over the series table, filtered to the selection's tenant,
    /// days and matchers; `None` when no day can match.
    fn over_series(sel: &Selection, head: &str) -> Option<Statement> {
        let (d0, d1) = Self::days(sel)?;
        let mut s = Self::scoped(sel, head);
        s.sql
            .push_str(" AND day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16})");
        s.bind("d0", Param::U16(d0));
        s.bind("d1", Param::U16(d1));
        for (i, m) in sel.matchers().iter().enumerate() {
            s.push_matcher(i, m);
        }
        Some(s)
    }

    /// The series of the selection (id and labels) with a row for a day in
    /// its window; `None` when no day can match.
    pub fn series(sel: &Selection) -> Option<Statement> {
        Self::over_series(sel, "SELECT DISTINCT series_id, labels FROM metric_series")
    }

    /// The label names of the selection's series (`name` column).
    pub fn label_names(sel: &Selection) -> Option<Statement> {
        Self::over_series(
            sel,
            "SELECT DISTINCT arrayJoin(mapKeys(labels)) AS name FROM metric_series",
        )
    }

    /// The values of label `name` among the selection's series that carry
    /// it (`value` column). The name is bound, never spliced.
    pub fn label_values(sel: &Selection, name: &str) -> Option<Statement> {
        let mut s = Self::over_series(
            sel,
            "SELECT DISTINCT labels[{ln:String}] AS value FROM metric_series",
        )?;
        s.sql.push_str(" AND mapContains(labels, {ln:String})");
        s.bind("ln", Param::Str(name.to_string()));
        Some(s)
    }

    /// The samples in the selection's window of the series the selection
    /// matches, ordered by series and time.
    pub fn samples(sel: &Selection) -> Option<Statement> {
        let ids = Self::over_series(sel, "SELECT series_id FROM metric_series")?;
        let mut s = Self::scoped(
            sel,
            "SELECT series_id, timestamp_ms, value FROM metric_samples",
        );
        s.sql
            .push_str(" AND timestamp_ms >= {start:Int64} AND timestamp_ms <= {end:Int64}");
        s.bind("start", Param::I64(sel.start_ms()));
        s.bind("end", Param::I64(sel.end_ms()));
        // Both levels bind the same tenant value under the same name.
        s.sql.push_str(&format!(" AND series_id IN ({})", ids.sql));
        s.params
            .extend(ids.params.into_iter().filter(|(n, _)| n != "tenant"));
        s.sql.push_str(" ORDER BY series_id, timestamp_ms");
        Some(s)
    }
}

/// PromQL range functions and the ClickHouse aggregate computing each on a
/// grid, value for value as Sightline's evaluator (and Prometheus 3) does.
/// Only names from this table reach SQL text.
///
/// Not here: `rate`, `increase` and `delta`. ClickHouse 26.9's
/// `timeSeriesRateToGrid` and friends multiply in Prometheus 2's order and
/// can differ from Prometheus 3 in the last bit (promqltest
/// `functions.test:178`: 0.26666666666666666 against 0.2666666666666667),
/// so those are evaluated from raw samples.
pub const GRID_AGGREGATES: &[(&str, &str)] = &[
    ("irate", "timeSeriesInstantRateToGrid"),
    ("idelta", "timeSeriesInstantDeltaToGrid"),
    ("changes", "timeSeriesChangesToGrid"),
    ("resets", "timeSeriesResetsToGrid"),
    ("count_over_time", "timeSeriesCountToGrid"),
];

/// Bit pattern of Prometheus's staleness marker, which range functions skip.
const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// A grid: points `start, start + step, … <= end`, each over `(t - range, t]`.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
    pub range_ms: i64,
}

impl Statement {
    /// `func` over the selection's series on `grid`, one row per series
    /// (`series_id`, `values` with one nullable value per grid point).
    /// `None` for a function outside [`GRID_AGGREGATES`] or a window no day
    /// can match. The selection's window must be `[grid.start - range + 1,
    /// grid.end]`.
    pub fn grid(sel: &Selection, func: &str, grid: Grid) -> Option<Statement> {
        let (_, agg) = GRID_AGGREGATES.iter().find(|(f, _)| *f == func)?;
        let ids = Self::over_series(sel, "SELECT series_id FROM metric_series")?;
        let mut s = Self::scoped(
            sel,
            &format!(
                "SELECT series_id, {agg}(fromUnixTimestamp64Milli({{gs:Int64}}), \
                 fromUnixTimestamp64Milli({{ge:Int64}}), toDecimal64({{gstep:Int64}}, 3) / 1000, \
                 toDecimal64({{grange:Int64}}, 3) / 1000)(fromUnixTimestamp64Milli(timestamp_ms), value) \
                 AS values FROM metric_samples"
            ),
        );
        s.bind("gs", Param::I64(grid.start_ms));
        s.bind("ge", Param::I64(grid.end_ms));
        s.bind("gstep", Param::I64(grid.step_ms));
        s.bind("grange", Param::I64(grid.range_ms));
        s.sql
            .push_str(" AND timestamp_ms >= {start:Int64} AND timestamp_ms <= {end:Int64}");
        s.bind("start", Param::I64(sel.start_ms()));
        s.bind("end", Param::I64(sel.end_ms()));
        s.sql.push_str(&format!(
            " AND reinterpretAsUInt64(value) != {STALE_NAN_BITS} AND series_id IN ({})",
            ids.sql
        ));
        s.params
            .extend(ids.params.into_iter().filter(|(n, _)| n != "tenant"));
        s.sql.push_str(" GROUP BY series_id");
        Some(s)
    }
}

/// An aggregation over a grid function, grouped by labels.
#[derive(Debug, Clone, Copy)]
pub struct Grouping<'a> {
    pub without: bool,
    pub labels: &'a [String],
}

impl Statement {
    /// `func` on `grid` per series, then per group of `grouping` (the
    /// series' labels kept by `by`, or all but the listed ones and
    /// `__name__` for `without`): `key` (the group's labels), `n` (series
    /// with a value, per grid point), `s` (their sum), `lo` and `hi` (their
    /// least and greatest value; infinite where none has one).
    pub fn grid_groups(
        sel: &Selection,
        func: &str,
        grid: Grid,
        grouping: Grouping<'_>,
    ) -> Option<Statement> {
        let per_series = Self::grid(sel, func, grid)?;
        let labels = Self::over_series(
            sel,
            "SELECT series_id, any(labels) AS labels FROM metric_series",
        )?;
        let key = if grouping.without {
            "mapFilter((k, v) -> NOT has({gl:Array(String)}, k) AND k != '__name__', s.labels)"
        } else {
            "mapFilter((k, v) -> has({gl:Array(String)}, k), s.labels)"
        };
        let mut st = Statement {
            sql: format!(
                "SELECT key, countForEach(values) AS n, \
                 sumForEach(arrayMap(x -> ifNull(x, 0.), values)) AS s, \
                 minForEach(arrayMap(x -> ifNull(x, inf), values)) AS lo, \
                 maxForEach(arrayMap(x -> ifNull(x, -inf), values)) AS hi FROM \
                 (SELECT {key} AS key, g.values AS values FROM ({}) AS g \
                 INNER JOIN ({} GROUP BY series_id) AS s ON g.series_id = s.series_id) \
                 GROUP BY key",
                per_series.sql, labels.sql
            ),
            params: per_series.params,
        };
        // Both halves bind the same tenant, days and matchers under the
        // same names with the same values.
        for (n, p) in labels.params {
            if !st.params.iter().any(|(m, _)| *m == n) {
                st.params.push((n, p));
            }
        }
        st.bind("gl", Param::StrArray(grouping.labels.to_vec()));
        Some(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::TenantId;

    fn sel(ms: Vec<Matcher>) -> Selection {
        Selection::new(TenantId::new("acme").expect("valid"), ms, 0, 3 * DAY_MS).expect("valid")
    }

    #[test]
    fn every_statement_is_scoped_and_carries_no_values() {
        let hostile = "x'); DROP TABLE metric_samples; --\\\u{0}";
        let ms = vec![
            Matcher::new("__name__", MatchOp::Equal, "up").expect("valid"),
            Matcher::new("job", MatchOp::Regex, "a|b").expect("valid"),
            Matcher::new("inst", MatchOp::NotEqual, hostile).expect("valid"),
            Matcher::new("zone", MatchOp::NotRegex, "us-.*").expect("valid"),
        ];
        for st in [
            Statement::series(&sel(ms.clone())),
            Statement::samples(&sel(ms.clone())),
        ] {
            let st = st.expect("in range");
            assert!(
                st.sql().contains("WHERE tenant = {tenant:String}"),
                "{}",
                st.sql()
            );
            assert_eq!(st.params().iter().filter(|(n, _)| n == "tenant").count(), 1);
            assert!(!st.sql().contains("DROP"), "{}", st.sql());
            assert!(!st.sql().contains("acme"));
            assert!(!st.sql().contains("job"));
            assert!(
                st.params()
                    .iter()
                    .any(|(_, p)| *p == Param::Str(hostile.into()))
            );
            assert!(
                st.params()
                    .iter()
                    .any(|(_, p)| *p == Param::Str("^(?s:a|b)$".into()))
            );
        }
        // Every WHERE (also the nested one) starts with the tenant.
        let s = Statement::samples(&sel(ms)).expect("in range");
        assert_eq!(s.sql().matches("WHERE tenant = {tenant:String}").count(), 2);
    }

    #[test]
    fn windows_outside_dates_select_nothing() {
        let t = TenantId::new("acme").expect("valid");
        let m = vec![Matcher::new("__name__", MatchOp::Equal, "up").expect("valid")];
        let before = Selection::new(t.clone(), m.clone(), -5 * DAY_MS, -2 * DAY_MS).expect("valid");
        assert!(Statement::series(&before).is_none());
        let wide = Selection::new(t, m, -5 * DAY_MS, i64::MAX / 2).expect("valid");
        let s = Statement::series(&wide).expect("clamped");
        assert!(s.params().contains(&("d1".to_string(), Param::U16(65_535))));
    }
}
