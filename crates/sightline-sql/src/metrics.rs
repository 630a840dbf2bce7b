//! Metric plan nodes lowered to statements, one file per node kind:
//! `select.rs` (a selection's series, samples, label names and label
//! values), `grid.rs` (a range function on a step grid, computed by
//! ClickHouse) and `aggregate.rs` (an aggregation over one).
//!
//! The predicates every node shares are here: the selection's days, its
//! time window and its matchers, each bound as parameters.

mod aggregate;
mod grid;
mod select;

pub use aggregate::{Grouping, grid_groups};
pub use grid::{Grid, grid, grid_aggregate};
pub use select::{label_names, label_values, samples, series};

use sightline_core::{METRIC_NAME, MatchOp};
use sightline_plan::Selection;

use crate::statement::{Builder, Param};

/// The metric name's own column, beside the labels.
const METRIC_NAME_COLUMN: &str = "metric_name";

/// ` AND <day column between the bounds>`.
fn push_days(b: &mut Builder<'_>, (lo, hi): (Param, Param)) {
    let lo = b.bind("d0", lo);
    let hi = b.bind("d1", hi);
    let days = b.dialect().day_between(&lo, &hi);
    b.push(" AND ");
    b.push(&days);
}

/// ` AND timestamp_ms >= <start> AND timestamp_ms <= <end>`.
fn push_window(b: &mut Builder<'_>, sel: &Selection) {
    let start = b.bind("start", Param::I64(sel.start_ms()));
    let end = b.bind("end", Param::I64(sel.end_ms()));
    b.push(" AND timestamp_ms >= ");
    b.push(&start);
    b.push(" AND timestamp_ms <= ");
    b.push(&end);
}

/// ` AND <m>` for each of the selection's matchers the dialect evaluates.
/// Label names are bound (map keys), values too; regular expressions are
/// anchored as Prometheus anchors them (`^(?s:re)$`).
fn push_matchers(b: &mut Builder<'_>, sel: &Selection) {
    let d = b.dialect();
    for (i, m) in sel.matchers().iter().enumerate() {
        if !d.evaluates(m) {
            continue;
        }
        let column = if m.name == METRIC_NAME {
            Some(METRIC_NAME_COLUMN.to_string())
        } else {
            b.bind_with(&format!("k{i}"), Param::Str(m.name.clone()), |k| {
                d.label_value(k)
            })
        };
        // `evaluates` admits label matchers only where labels can be read.
        let Some(column) = column else { continue };
        push_matcher(b, i, &column, m);
    }
}

/// ` AND <column> <op> <value>` for matcher number `i`, the value bound;
/// regular expressions anchored as Prometheus anchors them
/// (`^(?s:re)$`). Shared by every node that matches labels in SQL.
pub(crate) fn push_matcher(
    b: &mut Builder<'_>,
    i: usize,
    column: &str,
    m: &sightline_core::Matcher,
) {
    let d = b.dialect();
    let value = match m.op {
        MatchOp::Regex | MatchOp::NotRegex => format!("^(?s:{})$", m.value),
        MatchOp::Equal | MatchOp::NotEqual => m.value.clone(),
    };
    let v = b.bind(&format!("v{i}"), Param::Str(value));
    let cond = match m.op {
        MatchOp::Equal => format!("{column} = {v}"),
        MatchOp::NotEqual => format!("{column} != {v}"),
        MatchOp::Regex => d.regex_match(column, &v),
        MatchOp::NotRegex => format!("NOT {}", d.regex_match(column, &v)),
    };
    b.push(" AND ");
    b.push(&cond);
}

/// ` AND series_id IN (SELECT series_id FROM <series> WHERE tenant = …
/// AND <days> AND <matchers>)`: the selection's series, for statements
/// over a samples table that carries only series ids.
fn push_series_ids(
    b: &mut Builder<'_>,
    series: &'static str,
    sel: &Selection,
    days: (Param, Param),
) {
    b.push(" AND series_id IN (SELECT series_id");
    b.from_where_tenant(series);
    push_days(b, days);
    push_matchers(b, sel);
    b.push(")");
}

#[cfg(test)]
mod tests;
