//! Span plan nodes lowered to statements, for the archive's DataFusion
//! tables and ClickHouse's spans table: the tenant's spans of a window, by
//! trace when the selection names one. A span is found by the day it
//! starts on; the selection's millisecond window starts a day early for
//! that (see `ReadScope::select_spans`).

use sightline_plan::SpanSelection;

use crate::dialect::{DataFusionDialect, Dialect};
use crate::statement::{Builder, Param};

/// Every column of the archive's spans table, in its order: what every
/// dialect's span statement selects (under its own column names).
pub const SPAN_COLUMNS: &str = "trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, \
     status_code, service_name, attributes, resource, otlp";

/// The spans of the selection: the tenant's, overlapping its window (in
/// the days it names, where the dialect partitions by day), of its trace.
pub fn spans(d: &dyn Dialect, sel: &SpanSelection) -> crate::Statement {
    let t = d.span_table();
    let mut b = Builder::new(d, sel.selection());
    b.push(&format!("SELECT {}", t.columns));
    b.from_where_tenant(t.table);
    if d.day_partitions() {
        let (d0, d1) =
            DataFusionDialect::date_range(sel.selection().start_ms(), sel.selection().end_ms());
        let lo = b.bind("d0", Param::Str(d0));
        let hi = b.bind("d1", Param::Str(d1));
        let days = d.day_between(&lo, &hi);
        b.push(" AND ");
        b.push(&days);
    }
    // The start bound on the start column (which partitions and orders
    // the rows), a day early as the selection's window is; the overlap
    // itself on the end.
    let first = b.bind(
        "first",
        Param::I64(sel.selection().start_ms().saturating_mul(1_000_000)),
    );
    let start = b.bind("start", Param::I64(sel.start_ns()));
    let end = b.bind("end", Param::I64(sel.end_ns()));
    b.push(&format!(
        " AND {s} >= {first} AND {e} >= {start} AND {s} < {end}",
        s = t.start,
        e = t.end
    ));
    if let Some(id) = sel.trace_id() {
        let id = b.bind("trace", Param::Str(sightline_core::span::hex(id)));
        b.push(&format!(" AND {} = {id}", t.trace_id));
    }
    if let Some(n) = sel.limit() {
        // A count the server sets, never a caller's text.
        b.push(&format!(" LIMIT {n}"));
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use sightline_core::TenantId;
    use sightline_plan::ReadScope;

    use super::*;
    use crate::dialect::ClickHouseDialect;

    #[test]
    fn the_tenant_the_days_the_window_and_the_trace_are_bound() {
        let scope = ReadScope::tenant(TenantId::new("a").expect("tenant"));
        let sel = scope
            .select_spans(Some([1; 16]), 86_400_000_000_000, 86_400_000_000_001)
            .expect("selection");
        let st = spans(&DataFusionDialect, &sel);
        assert!(st.sql().contains("tenant = $1"), "{}", st.sql());
        assert!(st.sql().contains("trace_id = $"), "{}", st.sql());
        let texts: Vec<String> = st
            .params()
            .iter()
            .filter_map(|(_, p)| match p {
                Param::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            texts,
            ["a", "1970-01-01", "1970-01-02", &"01".repeat(16)],
            "the day before the window is read too"
        );
    }

    #[test]
    fn clickhouse_reads_the_same_spans_by_its_own_columns() {
        let scope = ReadScope::tenant(TenantId::new("a").expect("tenant"));
        let sel = scope
            .select_spans(Some([1; 16]), 86_400_000_000_000, 86_400_000_000_001)
            .expect("selection");
        let st = spans(&ClickHouseDialect, &sel);
        let sql = st.sql();
        assert!(
            sql.contains("FROM spans WHERE tenant = {tenant:String}"),
            "{sql}"
        );
        assert!(sql.contains("timestamp_ns >= {first:Int64}"), "{sql}");
        assert!(
            sql.contains("(timestamp_ns + toInt64(duration_ns)) >= {start:Int64}"),
            "{sql}"
        );
        assert!(sql.contains("trace_id = {trace:String}"), "{sql}");
        assert!(!sql.contains("date"), "no day partitions: {sql}");
        let ints: Vec<i64> = st
            .params()
            .iter()
            .filter_map(|(_, p)| match p {
                Param::I64(v) => Some(*v),
                _ => None,
            })
            .collect();
        assert_eq!(ints, [0, 86_400_000_000_000, 86_400_000_000_001]);
        let st = spans(&ClickHouseDialect, &sel.clone().with_limit(5));
        assert!(st.sql().ends_with(" LIMIT 5"), "{}", st.sql());
        assert!(
            sel.with_limit(5).check_rows_read(5).is_err(),
            "the limit read: refused"
        );
    }
}
