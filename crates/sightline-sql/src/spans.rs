//! Span plan nodes lowered to statements, for the archive's DataFusion
//! tables (the ClickHouse spans table follows): the tenant's spans of a
//! window, by trace when the selection names one. A span is found by the
//! day it starts on; the selection's millisecond window starts a day early
//! for that (see `ReadScope::select_spans`).

use sightline_plan::SpanSelection;

use crate::dialect::{DataFusionDialect, Dialect};
use crate::statement::{Builder, Param};

/// Every column of the archive's spans table, in its order.
pub const SPAN_COLUMNS: &str = "trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, \
     status_code, service_name, attributes, resource, otlp";

/// The archive's spans of the selection.
pub fn spans(d: &DataFusionDialect, sel: &SpanSelection) -> crate::Statement {
    let mut b = Builder::new(d, sel.selection());
    b.push(&format!("SELECT {SPAN_COLUMNS}"));
    b.from_where_tenant(DataFusionDialect::SPANS_TABLE);
    let (d0, d1) =
        DataFusionDialect::date_range(sel.selection().start_ms(), sel.selection().end_ms());
    let lo = b.bind("d0", Param::Str(d0));
    let hi = b.bind("d1", Param::Str(d1));
    let days = d.day_between(&lo, &hi);
    b.push(" AND ");
    b.push(&days);
    let start = b.bind("start", Param::I64(sel.start_ns()));
    let end = b.bind("end", Param::I64(sel.end_ns()));
    b.push(&format!(" AND end_ns >= {start} AND start_ns < {end}"));
    if let Some(t) = sel.trace_id() {
        let t = b.bind("trace", Param::Str(sightline_core::span::hex(t)));
        b.push(&format!(" AND trace_id = {t}"));
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use sightline_core::TenantId;
    use sightline_plan::ReadScope;

    use super::*;

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
}
