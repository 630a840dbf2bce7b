//! Log plan nodes lowered to statements: a log selection's entries, and the
//! label sets of the streams a selection matches.
//!
//! What is pushed into SQL is only ever a superset of the answer: the
//! tenant, the window, the stream matchers the dialect can read (the
//! archive's stream labels are JSON text, matched by the caller), and the
//! substring filters `|=` / `!=` of plain strings. Regular expressions and
//! pattern filters stay with the evaluator, which applies every filter
//! again, because SQL engines' regex dialects differ from Loki's.

use sightline_core::Matcher;
use sightline_logql::ast::{FilterValue, LineFilterOp};
use sightline_plan::{LogSelection, Selection};

use crate::dialect::{DataFusionDialect, Dialect};
use crate::statement::{Builder, Param};

/// `labels, timestamp_ns, line, metadata` of the selection's entries (the
/// dialect's column names for them, in that order): the tenant's rows in
/// `[start_ns, end_ns)`, with the stream matchers the dialect reads and
/// the literal line filters. With a limit and a dialect that can (ClickHouse:
/// `LIMIT n BY` the stream), at most `limit` rows per stream from the
/// direction's end.
pub fn entries(d: &dyn Dialect, sel: &LogSelection) -> crate::Statement {
    let t = d.log_table();
    let mut b = Builder::new(d, sel.selection());
    b.push(&format!(
        "SELECT {}, {}, {}, {}",
        t.labels, t.time, t.line, t.metadata
    ));
    b.from_where_tenant(t.table);
    push_log_window(&mut b, sel.start_ns(), sel.end_ns());
    push_stream_matchers(&mut b, sel.selection().matchers());
    push_line_filters(&mut b, sel);
    if let Some(n) = sel.limit()
        && !d.day_partitions()
    {
        let order = match sel.direction() {
            sightline_core::Direction::Forward => "ASC",
            sightline_core::Direction::Backward => "DESC",
        };
        let n = b.bind("limit", Param::I64(i64::try_from(n).unwrap_or(i64::MAX)));
        b.push(&format!(
            " ORDER BY {} {order} LIMIT {n} BY {}",
            t.time, t.labels
        ));
    }
    b.finish()
}

/// The distinct stream label sets (the dialect's labels column) of the
/// tenant's entries in the selection's millisecond window, with the stream
/// matchers the dialect reads.
pub fn streams(d: &dyn Dialect, sel: &Selection) -> crate::Statement {
    let t = d.log_table();
    let mut b = Builder::new(d, sel);
    b.push(&format!("SELECT DISTINCT {}", t.labels));
    b.from_where_tenant(t.table);
    let start_ns = sel.start_ms().saturating_mul(1_000_000);
    let end_ns = sel.end_ms().saturating_add(1).saturating_mul(1_000_000);
    push_log_window(&mut b, start_ns, end_ns);
    push_stream_matchers(&mut b, sel.matchers());
    b.finish()
}

/// ` AND <days> AND time >= <start> AND time < <end>`.
fn push_log_window(b: &mut Builder<'_>, start_ns: i64, end_ns: i64) {
    let d = b.dialect();
    let t = d.log_table();
    if d.day_partitions() {
        let (d0, d1) = DataFusionDialect::date_range(
            start_ns.div_euclid(1_000_000),
            end_ns.saturating_sub(1).div_euclid(1_000_000),
        );
        let lo = b.bind("d0", Param::Str(d0));
        let hi = b.bind("d1", Param::Str(d1));
        let days = d.day_between(&lo, &hi);
        b.push(" AND ");
        b.push(&days);
    }
    let start = b.bind("start", Param::I64(start_ns));
    let end = b.bind("end", Param::I64(end_ns));
    b.push(&format!(
        " AND {} >= {start} AND {} < {end}",
        t.time, t.time
    ));
}

/// ` AND <m>` for each stream matcher, where the dialect reads stream
/// labels; regular expressions anchored as Prometheus anchors them.
fn push_stream_matchers(b: &mut Builder<'_>, matchers: &[Matcher]) {
    let d = b.dialect();
    for (i, m) in matchers.iter().enumerate() {
        let Some(column) = b.bind_with(&format!("k{i}"), Param::Str(m.name.clone()), |k| {
            d.stream_label_value(k)
        }) else {
            continue;
        };
        crate::metrics::push_matcher(b, i, &column, m);
    }
}

/// ` AND (<line> contains a OR … )` for `|= "a" or …`, and
/// ` AND NOT (… )` for `!=`, for the filters whose alternatives are all
/// plain strings; values bound.
fn push_line_filters(b: &mut Builder<'_>, sel: &LogSelection) {
    let d = b.dialect();
    let line = d.log_table().line;
    for (i, f) in sel.line_filters().iter().enumerate() {
        let negate = match f.op {
            LineFilterOp::Contains => false,
            LineFilterOp::NotContains => true,
            _ => continue,
        };
        let mut strs = Vec::with_capacity(f.values.len());
        for v in &f.values {
            match v {
                FilterValue::Str(s) => strs.push(s.clone()),
                FilterValue::Ip(_) => break,
            }
        }
        if strs.len() != f.values.len() || strs.is_empty() {
            continue;
        }
        let alts: Vec<String> = strs
            .into_iter()
            .enumerate()
            .map(|(j, s)| {
                let p = b.bind(&format!("f{i}_{j}"), Param::Str(s));
                d.contains(line, &p)
            })
            .collect();
        let any = format!("({})", alts.join(" OR "));
        b.push(" AND ");
        if negate {
            b.push("NOT ");
        }
        b.push(&any);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::ClickHouseDialect;
    use sightline_core::{Direction, TenantId};
    use sightline_logql::ast::{Expr, Stage};
    use sightline_plan::ReadScope;

    fn log_sel(q: &str, start: i64, end: i64) -> LogSelection {
        let Expr::Log(l) = sightline_logql::parse(q).expect("parses") else {
            panic!("a log query");
        };
        let filters = l
            .stages
            .iter()
            .filter_map(|s| match s {
                Stage::LineFilter(f) => Some(f.clone()),
                _ => None,
            })
            .collect();
        ReadScope::tenant(TenantId::new("acme").expect("valid"))
            .select_logs(l.matchers, start, end)
            .expect("selection")
            .with_line_filters(filters)
    }

    #[test]
    fn clickhouse_entries_bind_every_value() {
        let sel = log_sel(
            r#"{app="a'b", env=~"p.*"} |= "x" or "y" != "}{" |~ "re" |= ip("1.2.3.4")"#,
            1_000,
            2_000,
        )
        .with_limit(Some(100))
        .with_direction(Direction::Backward);
        let st = entries(&ClickHouseDialect, &sel);
        assert_eq!(
            st.sql(),
            "SELECT stream_labels, timestamp_ns, body, log_attributes FROM logs \
             WHERE tenant = {tenant:String} \
             AND timestamp_ns >= {start:Int64} AND timestamp_ns < {end:Int64} \
             AND stream_labels[{k0:String}] = {v0:String} \
             AND match(stream_labels[{k1:String}], {v1:String}) \
             AND (position(body, {f0_0:String}) > 0 OR position(body, {f0_1:String}) > 0) \
             AND NOT (position(body, {f1_0:String}) > 0) \
             ORDER BY timestamp_ns DESC LIMIT {limit:Int64} BY stream_labels"
        );
        let values: Vec<String> = st.params().iter().map(|(_, p)| format!("{p:?}")).collect();
        assert_eq!(values.len(), 11);
        assert!(values[0].contains("acme"), "the tenant first: {values:?}");
        assert!(values.iter().any(|v| v.contains("a'b")));
        assert!(values.iter().any(|v| v.contains("^(?s:p.*)$")));
        assert!(values.iter().any(|v| v.contains("}{")));
    }

    #[test]
    fn datafusion_entries_name_days_and_leave_labels_to_the_caller() {
        let sel =
            log_sel(r#"{app="a"} != "drop" "#, 1_000, 86_400_000_000_000 + 5).with_limit(Some(10));
        let st = entries(&DataFusionDialect, &sel);
        assert_eq!(
            st.sql(),
            "SELECT labels, timestamp_ns, line, metadata FROM logs WHERE tenant = $1 \
             AND date >= $2 AND date <= $3 AND timestamp_ns >= $4 AND timestamp_ns < $5 \
             AND NOT (strpos(line, $6) > 0)"
        );
        let values: Vec<String> = st.params().iter().map(|(_, p)| format!("{p:?}")).collect();
        assert!(
            values[1].contains("1970-01-01") && values[2].contains("1970-01-02"),
            "{values:?}"
        );
    }

    #[test]
    fn streams_cover_the_millisecond_window() {
        let sel = ReadScope::tenant(TenantId::new("acme").expect("valid"))
            .select_signal(sightline_core::Signal::Logs, vec![], 5, 9)
            .expect("selection");
        let st = streams(&ClickHouseDialect, &sel);
        assert_eq!(
            st.sql(),
            "SELECT DISTINCT stream_labels FROM logs WHERE tenant = {tenant:String} \
             AND timestamp_ns >= {start:Int64} AND timestamp_ns < {end:Int64}"
        );
        assert_eq!(st.params()[1].1, Param::I64(5_000_000));
        assert_eq!(st.params()[2].1, Param::I64(10_000_000));
    }
}
