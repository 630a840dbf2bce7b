//! Exact PromQL evaluation with Prometheus 3's semantics.
//!
//! The evaluator walks a parsed [`Expr`] and reads raw samples through the
//! [`Queryable`] trait. It knows nothing of tenants, storage tiers or I/O: the
//! caller hands it a view that is already scoped to one tenant (see
//! `sightline-engine`). It reads no clock: evaluation times come in as
//! arguments.
//!
//! Entry points: [`eval_instant`], [`eval_range`] (and their
//! `*_with_annotations` forms, which also return Prometheus's warnings and
//! infos as [`Annotation`]s), and [`selections`] (the exact time windows
//! each selector reads, so storage can prefetch them).
//! [`MemStorage`] is an in-memory [`Queryable`] for tests and benches.
//!
//! Like Prometheus's engine, every expression is evaluated over a grid of
//! steps (an instant query is a range query with one step). Operations that
//! change a value's meaning mark series for `__name__` removal; by default
//! the name goes at that operation, as in Prometheus out of the box, and
//! with [`QueryOptions::delayed_name_removal`] it goes once at the end of the
//! query (Prometheus's `promql-delayed-name-removal`, which its own test
//! scripts run with).
//!
//! Invariants kept here:
//! - answers are exact or refused: native histograms and the few constructs
//!   not implemented fail with [`EvalError::Unsupported`] naming them, never
//!   with an approximate answer;
//! - evaluation never panics on input: malformed trees (wrong argument
//!   types or counts) fail with [`EvalError::BadQuery`];
//! - evaluation recurses only into nesting (calls, aggregations,
//!   parentheses, unary signs, subqueries): a tree of binary operators is
//!   evaluated from a work list (`binary::eval_binary`), so a chain such as
//!   `a or b or ... or z` costs no stack however long it is;
//! - the number of samples held at once is counted as Prometheus counts it
//!   and bounded by [`QueryOptions::max_samples`].
//!
//! Layout: `evaluator` (the step grid, `@`/offset resolution, delayed name
//! removal), `selectors` (instant and range selectors, subqueries),
//! `binary` (operators and vector matching), `aggregate` (aggregation
//! operators), `functions` (function calls; `functions/range` for functions
//! over range vectors, `functions/histogram` for classic `histogram_*`),
//! `annotations` (warnings and infos, with Prometheus's wording),
//! `types` (static result types; calls checked against the signatures of
//! `sightline_promql::functions`, the one function registry), `prefetch`
//! ([`selections`]), `storage` ([`MemStorage`]).

use sightline_core::{Labels, Matcher, Sample};

pub(crate) use sightline_promql::ast;
use sightline_promql::ast::{AggOp, Expr};
use sightline_promql::functions::Function;

mod aggregate;
mod annotations;
mod binary;
mod error;
mod evaluator;
mod functions;
mod prefetch;
mod selectors;
mod storage;
mod types;
mod util;

#[cfg(test)]
mod tests;

pub use annotations::{Annotation, AnnotationKind};
pub use error::EvalError;
pub use prefetch::selections;
pub use storage::MemStorage;

/// One series with its samples, sorted by time, timestamps unique.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

/// Raw sample access for the evaluator. Implementations return every series
/// matching all `matchers` with the samples whose timestamps lie in
/// `[start_ms, end_ms]` (both inclusive), samples sorted and de-duplicated.
/// Staleness markers are returned as stored.
pub trait Queryable {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, EvalError>;

    /// Pushdown: a range function over a plain range selector, computed by
    /// storage on the whole step grid at once. `None` (the default) means
    /// storage cannot compute this one exactly and the evaluator reads raw
    /// samples instead. An answer must equal, value for value, what the
    /// evaluator computes from [`Queryable::select`].
    fn range_grid(&self, _req: &GridRequest<'_>) -> Option<Result<Vec<GridSeries>, EvalError>> {
        None
    }

    /// Pushdown of an aggregation over a range function (see
    /// [`AggGridRequest`]): one [`GridSeries`] per group, labelled with the
    /// group's labels. `None` (the default): not computed by storage.
    fn aggregate_grid(
        &self,
        _req: &AggGridRequest<'_>,
    ) -> Option<Result<Vec<GridSeries>, EvalError>> {
        None
    }
}

/// `op by|without (grouping) (inner)` on the inner request's grid. The
/// grouping never names `__name__` (the evaluator keeps those itself); for
/// `without`, `__name__` is dropped as well.
#[derive(Debug, Clone)]
pub struct AggGridRequest<'a> {
    /// An aggregation storage may compute over `inner` (see
    /// [`AggOp::grid_input`]: `count` and `group` over any grid function;
    /// `sum`, `min` and `max` only over whole-number ones).
    pub op: AggOp,
    pub without: bool,
    /// Sorted label names.
    pub grouping: &'a [String],
    pub inner: GridRequest<'a>,
}

/// `func(selector[range])` evaluated at `start, start + step, … <= end`
/// (offset already applied): each value over the samples in
/// `(t - range, t]`, staleness markers excluded.
#[derive(Debug, Clone)]
pub struct GridRequest<'a> {
    /// A function storage may compute on a grid: its registry fact
    /// [`sightline_promql::functions::FunctionInfo::grid`] is not `No`.
    pub func: Function,
    pub matchers: &'a [Matcher],
    pub range_ms: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
}

impl GridRequest<'_> {
    /// Grid points.
    pub fn steps(&self) -> usize {
        ((self.end_ms - self.start_ms) / self.step_ms.max(1) + 1).max(0) as usize
    }

    /// The window of samples the grid reads, `[start - range + 1, end]`;
    /// `None` when it does not fit in an `i64` (nothing is pushed down
    /// then).
    pub fn window(&self) -> Option<(i64, i64)> {
        let lo = self.start_ms.checked_sub(self.range_ms)?.checked_add(1)?;
        Some((lo, self.end_ms))
    }
}

/// One series' values on a grid: `None` where the function has no value.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSeries {
    pub labels: Labels,
    pub values: Vec<Option<f64>>,
}

/// Limits and knobs for one query.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// How far back an instant selector looks for a sample (default 5m).
    pub lookback_delta_ms: i64,
    /// Most samples a query may hold in memory at once.
    pub max_samples: usize,
    /// Step of a subquery written without one (`x[5m:]`); Prometheus uses
    /// the global evaluation interval, 1m by default.
    pub default_subquery_step_ms: i64,
    /// Prometheus's `promql-delayed-name-removal`: keep `__name__` on
    /// series through the query and remove it once at the end, instead of
    /// at the operation that changes a value's meaning. Off by default, as
    /// in Prometheus; Prometheus's own test scripts run with it on.
    pub delayed_name_removal: bool,
    /// LogQL's arithmetic: a division by zero is NaN, as Loki computes it
    /// (PromQL's is IEEE: ±Inf, or NaN for 0/0). Off for PromQL.
    pub zero_division_nan: bool,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            default_subquery_step_ms: 60 * 1000,
            delayed_name_removal: false,
            zero_division_nan: false,
        }
    }
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// The result of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vec<InstantSample>),
    Matrix(Vec<Series>),
}

/// Evaluates `expr` at one instant, as Prometheus's `/api/v1/query` does.
///
/// An instant-vector expression yields [`Value::Vector`] (every sample
/// stamped with `t_ms`, in evaluation order), a scalar [`Value::Scalar`], a
/// string [`Value::String`], and a range-vector expression (a range selector
/// or a subquery) [`Value::Matrix`] sorted by labels.
pub fn eval_instant(
    expr: &Expr,
    t_ms: i64,
    opts: &QueryOptions,
    q: &dyn Queryable,
) -> Result<Value, EvalError> {
    eval_instant_with_annotations(expr, t_ms, opts, q).map(|(v, _)| v)
}

/// [`eval_instant`], also returning the warnings and infos Prometheus
/// would report for the query (deduplicated by message). Render them for
/// users with [`Annotation::render`] and the query text.
pub fn eval_instant_with_annotations(
    expr: &Expr,
    t_ms: i64,
    opts: &QueryOptions,
    q: &dyn Queryable,
) -> Result<(Value, Vec<Annotation>), EvalError> {
    evaluator::run_instant(expr, t_ms, opts, q)
}

/// Evaluates `expr` at `start_ms, start_ms + step_ms, ... <= end_ms`, as
/// Prometheus's `/api/v1/query_range` does: the result is always a
/// [`Value::Matrix`] sorted by labels (a scalar expression yields one series
/// with empty labels). Range-vector and string expressions are refused.
pub fn eval_range(
    expr: &Expr,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    opts: &QueryOptions,
    q: &dyn Queryable,
) -> Result<Value, EvalError> {
    eval_range_with_annotations(expr, start_ms, end_ms, step_ms, opts, q).map(|(v, _)| v)
}

/// [`eval_range`], also returning the query's warnings and infos.
pub fn eval_range_with_annotations(
    expr: &Expr,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    opts: &QueryOptions,
    q: &dyn Queryable,
) -> Result<(Value, Vec<Annotation>), EvalError> {
    evaluator::run_range(expr, start_ms, end_ms, step_ms, opts, q)
}
