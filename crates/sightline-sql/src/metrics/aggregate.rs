//! An aggregation over a grid function, grouped by labels, computed by
//! ClickHouse.

use sightline_plan::Selection;
use sightline_promql::functions::Function;

use super::grid::{Grid, grid_aggregate, push_grid};
use super::{push_days, push_matchers};
use crate::dialect::{ClickHouseDialect, Dialect};
use crate::statement::{Builder, Param, Statement};

/// An aggregation's grouping: `by` or `without` these labels (a plan
/// node, defined beside [`Selection`]).
pub use sightline_plan::Grouping;

/// `func` on `grid` per series, then per group of `grouping` (the series'
/// labels kept by `by`, or all but the listed ones and `__name__` for
/// `without`): `key` (the group's labels), `n` (series with a value, per
/// grid point), `s` (their sum), `lo` and `hi` (their least and greatest
/// value; infinite where none has one). `None` for a function without a
/// [`super::grid_aggregate`] or a window no day can match.
pub fn grid_groups(
    d: &ClickHouseDialect,
    sel: &Selection,
    func: Function,
    grid: Grid,
    grouping: Grouping<'_>,
) -> Option<Statement> {
    let agg = grid_aggregate(func)?;
    let days = d.day_bounds(sel.start_ms(), sel.end_ms())?;
    let mut b = Builder::new(d, sel);
    let gl = b.bind("gl", Param::StrArray(grouping.labels.to_vec()));
    let key = if grouping.without {
        format!("mapFilter((k, v) -> NOT has({gl}, k) AND k != '__name__', s.labels)")
    } else {
        format!("mapFilter((k, v) -> has({gl}, k), s.labels)")
    };
    b.push(
        "SELECT key, countForEach(values) AS n, \
         sumForEach(arrayMap(x -> ifNull(x, 0.), values)) AS s, \
         minForEach(arrayMap(x -> ifNull(x, inf), values)) AS lo, \
         maxForEach(arrayMap(x -> ifNull(x, -inf), values)) AS hi FROM (SELECT ",
    );
    b.push(&key);
    b.push(" AS key, g.values AS values FROM (");
    // Both halves bind the same tenant, days and matchers under the same
    // names with the same values: one parameter each.
    push_grid(&mut b, sel, agg, grid, days.clone());
    b.push(") AS g INNER JOIN (SELECT series_id, any(labels) AS labels");
    b.from_where_tenant(ClickHouseDialect::SERIES_TABLE);
    push_days(&mut b, days);
    push_matchers(&mut b, sel);
    b.push(" GROUP BY series_id) AS s ON g.series_id = s.series_id) GROUP BY key");
    Some(b.finish())
}
