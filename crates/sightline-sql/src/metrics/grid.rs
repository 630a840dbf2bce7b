//! A range function pushed down onto a step grid: ClickHouse's
//! `timeSeries*ToGrid` aggregates over each series' samples.

use sightline_core::STALE_NAN_BITS;
use sightline_plan::Selection;
use sightline_promql::functions::Function;

use super::{push_series_ids, push_window};
use crate::dialect::{ClickHouseDialect, Dialect};
use crate::statement::{Builder, Param, Statement};

/// The ClickHouse aggregate computing range function `func` on a grid,
/// value for value as Sightline's evaluator (and Prometheus 3) does: one
/// for each function the registry marks `clickhouse_grid` (see
/// [`sightline_promql::functions::FunctionInfo::clickhouse_grid`] for why
/// `rate`, `increase` and `delta` are not), `None` for every other. Only
/// names from this match reach SQL text.
pub fn grid_aggregate(func: Function) -> Option<&'static str> {
    if !func.info().clickhouse_grid {
        return None;
    }
    match func {
        Function::Irate => Some("timeSeriesInstantRateToGrid"),
        Function::Idelta => Some("timeSeriesInstantDeltaToGrid"),
        Function::Changes => Some("timeSeriesChangesToGrid"),
        Function::Resets => Some("timeSeriesResetsToGrid"),
        Function::CountOverTime => Some("timeSeriesCountToGrid"),
        _ => None,
    }
}

/// A grid: points `start, start + step, … <= end`, each over `(t - range, t]`
/// (a plan node, defined beside [`Selection`]).
pub use sightline_plan::Grid;

/// `func` over the selection's series on `grid`, one row per series
/// (`series_id`, `values` with one nullable value per grid point),
/// staleness markers skipped. `None` for a function without a
/// [`grid_aggregate`] or a window no day can match. The selection's window
/// must be `[grid.start - range + 1, grid.end]`.
pub fn grid(
    d: &ClickHouseDialect,
    sel: &Selection,
    func: Function,
    grid: Grid,
) -> Option<Statement> {
    let agg = grid_aggregate(func)?;
    let days = d.day_bounds(sel.start_ms(), sel.end_ms())?;
    let mut b = Builder::new(d, sel);
    push_grid(&mut b, sel, agg, grid, days);
    Some(b.finish())
}

/// The per-series grid query, `agg` taken from [`grid_aggregate`].
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
