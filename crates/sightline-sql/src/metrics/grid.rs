//! A range function pushed down onto a step grid: ClickHouse's
//! `timeSeries*ToGrid` aggregates over each series' samples.

use sightline_core::STALE_NAN_BITS;
use sightline_plan::Selection;

use super::{push_series_ids, push_window};
use crate::dialect::{ClickHouseDialect, Dialect};
use crate::statement::{Builder, Param, Statement};

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

/// A grid: points `start, start + step, … <= end`, each over `(t - range, t]`
/// (a plan node, defined beside [`Selection`]).
pub use sightline_plan::Grid;

/// The ClickHouse aggregate of range function `func`, if it has one.
pub(super) fn aggregate_of(func: &str) -> Option<&'static str> {
    GRID_AGGREGATES
        .iter()
        .find(|(f, _)| *f == func)
        .map(|(_, agg)| *agg)
}

/// `func` over the selection's series on `grid`, one row per series
/// (`series_id`, `values` with one nullable value per grid point),
/// staleness markers skipped. `None` for a function outside
/// [`GRID_AGGREGATES`] or a window no day can match. The selection's
/// window must be `[grid.start - range + 1, grid.end]`.
pub fn grid(d: &ClickHouseDialect, sel: &Selection, func: &str, grid: Grid) -> Option<Statement> {
    let agg = aggregate_of(func)?;
    let days = d.day_bounds(sel.start_ms(), sel.end_ms())?;
    let mut b = Builder::new(d, sel);
    push_grid(&mut b, sel, agg, grid, days);
    Some(b.finish())
}

/// The per-series grid query, `agg` taken from [`GRID_AGGREGATES`].
pub(super) fn push_grid(
    b: &mut Builder<'_>,
    sel: &Selection,
    agg: &'static str,
    grid: Grid,
    days: (Param, Param),
) {
    let gs = b.bind("gs", Param::I64(grid.start_ms));
    let ge = b.bind("ge", Param::I64(grid.end_ms));
    let step = b.bind("gstep", Param::I64(grid.step_ms));
    let range = b.bind("grange", Param::I64(grid.range_ms));
    b.push("SELECT series_id, ");
    b.push(agg);
    b.push(&format!(
        "(fromUnixTimestamp64Milli({gs}), fromUnixTimestamp64Milli({ge}), \
         toDecimal64({step}, 3) / 1000, toDecimal64({range}, 3) / 1000)\
         (fromUnixTimestamp64Milli(timestamp_ms), value) AS values"
    ));
    b.from_where_tenant(ClickHouseDialect::SAMPLES_TABLE);
    push_window(b, sel);
    b.push(&format!(
        " AND reinterpretAsUInt64(value) != {STALE_NAN_BITS}"
    ));
    push_series_ids(b, ClickHouseDialect::SERIES_TABLE, sel, days);
    b.push(" GROUP BY series_id");
}
