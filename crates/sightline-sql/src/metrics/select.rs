//! A selection's reads: its series, their samples, their label names and
//! the values of one label.

use sightline_plan::Selection;

use super::{push_days, push_matchers, push_series_ids, push_window};
use crate::dialect::{ClickHouseDialect, Dialect};
use crate::statement::{Builder, Param, Statement};

/// The series of the selection. With a series table (ClickHouse):
/// `series_id` and `labels` (a map) of every matching series with a row
/// for a day of the window. Without one (the archive): the distinct
/// `labels` (JSON text) of the rows in the window whose metric name the
/// dialect matched. `None` when no stored day can fall in the window.
/// Matchers the dialect does not evaluate ([`Dialect::evaluates`]) are the
/// caller's to apply.
pub fn series(d: &dyn Dialect, sel: &Selection) -> Option<Statement> {
    let days = d.day_bounds(sel.start_ms(), sel.end_ms())?;
    let tables = d.metric_tables();
    let mut b = Builder::new(d, sel);
    match tables.series {
        Some(series) => {
            b.push("SELECT DISTINCT series_id, labels");
            b.from_where_tenant(series);
            push_days(&mut b, days);
            push_matchers(&mut b, sel);
        }
        None => {
            b.push("SELECT DISTINCT labels");
            b.from_where_tenant(tables.samples);
            push_days(&mut b, days);
            push_window(&mut b, sel);
            push_matchers(&mut b, sel);
        }
    }
    Some(b.finish())
}

/// The samples in the selection's window. With a series table
/// (ClickHouse): `series_id`, `timestamp_ms`, `value` of the matching
/// series, ordered by series and time. Without one (the archive):
/// `labels` (JSON text), `timestamp_ms`, `value` of the rows whose metric
/// name the dialect matched, in no order. `None` when no stored day can
/// fall in the window. Matchers the dialect does not evaluate are the
/// caller's to apply.
pub fn samples(d: &dyn Dialect, sel: &Selection) -> Option<Statement> {
    let days = d.day_bounds(sel.start_ms(), sel.end_ms())?;
    let tables = d.metric_tables();
    let mut b = Builder::new(d, sel);
    match tables.series {
        Some(series) => {
            b.push("SELECT series_id, timestamp_ms, value");
            b.from_where_tenant(tables.samples);
            push_window(&mut b, sel);
            push_series_ids(&mut b, series, sel, days);
            b.push(" ORDER BY series_id, timestamp_ms");
        }
        None => {
            b.push("SELECT labels, timestamp_ms, value");
            b.from_where_tenant(tables.samples);
            push_days(&mut b, days);
            push_window(&mut b, sel);
            push_matchers(&mut b, sel);
        }
    }
    Some(b.finish())
}

/// The label names of the selection's series (`name` column), from
/// ClickHouse's series table. `None` when no day can match.
pub fn label_names(d: &ClickHouseDialect, sel: &Selection) -> Option<Statement> {
    let days = d.day_bounds(sel.start_ms(), sel.end_ms())?;
    let mut b = Builder::new(d, sel);
    b.push("SELECT DISTINCT arrayJoin(mapKeys(labels)) AS name");
    b.from_where_tenant(ClickHouseDialect::SERIES_TABLE);
    push_days(&mut b, days);
    push_matchers(&mut b, sel);
    Some(b.finish())
}

/// The values of label `name` among the selection's series that carry it
/// (`value` column), from ClickHouse's series table. The name is bound,
/// never spliced. `None` when no day can match.
pub fn label_values(d: &ClickHouseDialect, sel: &Selection, name: &str) -> Option<Statement> {
    let days = d.day_bounds(sel.start_ms(), sel.end_ms())?;
    let mut b = Builder::new(d, sel);
    let ln = b.bind("ln", Param::Str(name.to_string()));
    b.push("SELECT DISTINCT ");
    b.push(&ClickHouseDialect::label(&ln));
    b.push(" AS value");
    b.from_where_tenant(ClickHouseDialect::SERIES_TABLE);
    push_days(&mut b, days);
    push_matchers(&mut b, sel);
    b.push(" AND mapContains(labels, ");
    b.push(&ln);
    b.push(")");
    Some(b.finish())
}
