//! The PromQL function registry: one [`Function`] per function the parser
//! accepts, and its facts in one table, [`FUNCTIONS`]: name, argument and
//! return types and arity (as Prometheus's parser defines them), whether it
//! is experimental, whether it windows a range vector, whether it keeps
//! `__name__`, whether storage may compute it on a step grid (and whether
//! ClickHouse does, exactly), and whether it only works on native
//! histograms. The parser resolves names here, the checker and the
//! evaluator take types and arity from here, the evaluator its name
//! keeping, and the engine its pushdown decision.

use std::fmt;

use crate::ast::{AggOp, Expr, ValueType};

use self::Function as F;

/// A PromQL function, resolved from its name by the parser. Its facts are
/// [`Function::info`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Abs,
    Absent,
    AbsentOverTime,
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atanh,
    AvgOverTime,
    Ceil,
    Changes,
    Clamp,
    ClampMax,
    ClampMin,
    Cos,
    Cosh,
    CountOverTime,
    DaysInMonth,
    DayOfMonth,
    DayOfWeek,
    DayOfYear,
    Deg,
    End,
    Delta,
    Deriv,
    Exp,
    FirstOverTime,
    Floor,
    HistogramAvg,
    HistogramCount,
    HistogramSum,
    HistogramStddev,
    HistogramStdvar,
    HistogramFraction,
    HistogramQuantile,
    HistogramQuantiles,
    DoubleExponentialSmoothing,
    Hour,
    Idelta,
    Increase,
    Info,
    Irate,
    LabelReplace,
    LabelJoin,
    MaxOf,
    LastOverTime,
    MinOf,
    Ln,
    Log10,
    Log2,
    MadOverTime,
    MaxOverTime,
    MinOverTime,
    TsOfFirstOverTime,
    TsOfMaxOverTime,
    TsOfMinOverTime,
    TsOfLastOverTime,
    Minute,
    Month,
    Pi,
    PredictLinear,
    PresentOverTime,
    QuantileOverTime,
    Rad,
    Range,
    Rate,
    Resets,
    Round,
    Scalar,
    Sgn,
    Sin,
    Sinh,
    Sort,
    SortDesc,
    SortByLabel,
    SortByLabelDesc,
    Sqrt,
    Start,
    StartTimestamp,
    Step,
    StddevOverTime,
    StdvarOverTime,
    SumOverTime,
    Tan,
    Tanh,
    Time,
    Timestamp,
    Vector,
    Year,
}

/// How many functions there are. `Year` is the last variant.
const COUNT: usize = Function::Year as usize + 1;

impl Function {
    /// The function called `name` (case-sensitive, as in Prometheus).
    pub fn from_name(name: &str) -> Option<Function> {
        FUNCTIONS.iter().find(|f| f.name == name).map(|f| f.func)
    }

    /// The name PromQL spells it with.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The function's facts.
    pub fn info(self) -> &'static FunctionInfo {
        // In bounds: the table has one entry per variant (its length is the
        // last variant's index plus one), in declaration order.
        &FUNCTIONS[self as usize]
    }

    /// Every function, in the order of Prometheus's table.
    pub fn all() -> impl Iterator<Item = Function> {
        FUNCTIONS.iter().map(|f| f.func)
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether storage may compute a range function on a whole step grid at
/// once instead of the evaluator reading raw samples. Ordered: each level
/// promises more than the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GridExactness {
    /// Only the evaluator computes it, from raw samples.
    No,
    /// The evaluator offers it to storage on a grid (`range_grid`); a tier
    /// answers only where its arithmetic gives the evaluator's values bit
    /// for bit (see [`FunctionInfo::clickhouse_grid`]).
    Exact,
    /// As [`GridExactness::Exact`], and every value is a whole number, never
    /// NaN: sums, minima and maxima over it agree in any order, so storage
    /// may aggregate it with `sum`, `min` and `max` as well.
    ExactWholeNumbers,
}

/// One PromQL function's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionInfo {
    pub func: Function,
    pub name: &'static str,
    /// Declared argument types. Arguments past the end of this list (for
    /// variadic functions) take the type of the last entry.
    pub arg_types: &'static [ValueType],
    /// `0`: exactly `arg_types.len()` arguments. `n > 0`: between
    /// `arg_types.len() - 1` and `arg_types.len() - 1 + n`. `-1`: at least
    /// `arg_types.len() - 1`, no maximum.
    pub variadic: i32,
    pub return_type: ValueType,
    /// Prometheus gates these behind `promql-experimental-functions`.
    pub experimental: bool,
    /// A range function: it takes a range vector and computes one value per
    /// series and step over the window `(t - range, t]`.
    pub range: bool,
    /// Each result series keeps its input's `__name__` (removed only when
    /// the input was already marked for removal): `last_over_time` and
    /// `first_over_time`, which act like an offset, the `sort` family and
    /// the label rewriters. Every other function over series drops it, as
    /// in Prometheus 3.
    pub keeps_name: bool,
    /// Whether storage may compute it on a step grid.
    pub grid: GridExactness,
    /// ClickHouse's `timeSeries*ToGrid` aggregates compute it on a grid
    /// value for value as the evaluator (and Prometheus 3) does. Not so for
    /// `rate`, `increase` and `delta`: ClickHouse 26.9's
    /// `timeSeriesRateToGrid` and friends multiply in Prometheus 2's order
    /// and can differ from Prometheus 3 in the last bit (promqltest
    /// `functions.test:178`: 0.26666666666666666 against
    /// 0.2666666666666667), so those are evaluated from raw samples. Which
    /// aggregate computes each is a dialect fact, in `sightline-sql`.
    pub clickhouse_grid: bool,
    /// It computes only over native histograms, which Sightline does not
    /// store: evaluation refuses it.
    pub native_histograms_only: bool,
}

impl FunctionInfo {
    /// The least number of arguments a call may have.
    pub fn min_args(&self) -> usize {
        if self.variadic == 0 {
            self.arg_types.len()
        } else {
            self.arg_types.len().saturating_sub(1)
        }
    }

    /// The most arguments a call may have; `None` when unbounded.
    pub fn max_args(&self) -> Option<usize> {
        match self.variadic {
            0 => Some(self.arg_types.len()),
            n if n > 0 => Some(self.arg_types.len().saturating_sub(1) + n as usize),
            _ => None,
        }
    }

    /// The expected type of argument `i` (0-based).
    pub fn arg_type(&self, i: usize) -> Option<ValueType> {
        self.arg_types
            .get(i)
            .or_else(|| self.arg_types.last())
            .copied()
    }

    const fn experimental_only(self) -> Self {
        FunctionInfo {
            experimental: true,
            ..self
        }
    }

    const fn keeping_name(self) -> Self {
        FunctionInfo {
            keeps_name: true,
            ..self
        }
    }

    const fn on_grid(self, grid: GridExactness) -> Self {
        FunctionInfo { grid, ..self }
    }

    const fn in_clickhouse(self) -> Self {
        FunctionInfo {
            clickhouse_grid: true,
            ..self
        }
    }

    const fn native_histograms(self) -> Self {
        FunctionInfo {
            native_histograms_only: true,
            ..self
        }
    }
}

impl AggOp {
    /// The least [`GridExactness`] a range function needs for storage to
    /// compute this aggregation over it on a grid: `count` and `group` over
    /// any grid function, `sum`, `min` and `max` only over whole-number
    /// ones (never NaN, and any summation order gives the same float).
    /// `None`: never computed by storage.
    pub fn grid_input(self) -> Option<GridExactness> {
        match self {
            AggOp::Count | AggOp::Group => Some(GridExactness::Exact),
            AggOp::Sum | AggOp::Min | AggOp::Max => Some(GridExactness::ExactWholeNumbers),
            _ => None,
        }
    }
}

const V: ValueType = ValueType::Vector;
const M: ValueType = ValueType::Matrix;
const S: ValueType = ValueType::Scalar;
const STR: ValueType = ValueType::String;

/// Whether any of `args` is a range vector.
const fn takes_range(args: &[ValueType]) -> bool {
    let mut i = 0;
    while i < args.len() {
        if matches!(args[i], ValueType::Matrix) {
            return true;
        }
        i += 1;
    }
    false
}

/// A function with the given signature and no other property; a range
/// function when it takes a range vector.
const fn f(
    func: Function,
    name: &'static str,
    arg_types: &'static [ValueType],
    variadic: i32,
    return_type: ValueType,
) -> FunctionInfo {
    FunctionInfo {
        func,
        name,
        arg_types,
        variadic,
        return_type,
        experimental: false,
        range: takes_range(arg_types),
        keeps_name: false,
        grid: GridExactness::No,
        clickhouse_grid: false,
        native_histograms_only: false,
    }
}

/// Every function's facts, in the order of Prometheus's table, which is
/// also the order of [`Function`]'s variants: entry `i` is variant `i`.
#[rustfmt::skip]
pub static FUNCTIONS: [FunctionInfo; COUNT] = [
    f(F::Abs, "abs", &[V], 0, V),
    f(F::Absent, "absent", &[V], 0, V),
    f(F::AbsentOverTime, "absent_over_time", &[M], 0, V),
    f(F::Acos, "acos", &[V], 0, V),
    f(F::Acosh, "acosh", &[V], 0, V),
    f(F::Asin, "asin", &[V], 0, V),
    f(F::Asinh, "asinh", &[V], 0, V),
    f(F::Atan, "atan", &[V], 0, V),
    f(F::Atanh, "atanh", &[V], 0, V),
    f(F::AvgOverTime, "avg_over_time", &[M], 0, V),
    f(F::Ceil, "ceil", &[V], 0, V),
    f(F::Changes, "changes", &[M], 0, V).on_grid(GridExactness::ExactWholeNumbers).in_clickhouse(),
    f(F::Clamp, "clamp", &[V, S, S], 0, V),
    f(F::ClampMax, "clamp_max", &[V, S], 0, V),
    f(F::ClampMin, "clamp_min", &[V, S], 0, V),
    f(F::Cos, "cos", &[V], 0, V),
    f(F::Cosh, "cosh", &[V], 0, V),
    f(F::CountOverTime, "count_over_time", &[M], 0, V).on_grid(GridExactness::ExactWholeNumbers).in_clickhouse(),
    f(F::DaysInMonth, "days_in_month", &[V], 1, V),
    f(F::DayOfMonth, "day_of_month", &[V], 1, V),
    f(F::DayOfWeek, "day_of_week", &[V], 1, V),
    f(F::DayOfYear, "day_of_year", &[V], 1, V),
    f(F::Deg, "deg", &[V], 0, V),
    f(F::End, "end", &[], 0, S).experimental_only(),
    f(F::Delta, "delta", &[M], 0, V).on_grid(GridExactness::Exact),
    f(F::Deriv, "deriv", &[M], 0, V),
    f(F::Exp, "exp", &[V], 0, V),
    f(F::FirstOverTime, "first_over_time", &[M], 0, V).keeping_name(),
    f(F::Floor, "floor", &[V], 0, V),
    f(F::HistogramAvg, "histogram_avg", &[V], 0, V).native_histograms(),
    f(F::HistogramCount, "histogram_count", &[V], 0, V).native_histograms(),
    f(F::HistogramSum, "histogram_sum", &[V], 0, V).native_histograms(),
    f(F::HistogramStddev, "histogram_stddev", &[V], 0, V).native_histograms(),
    f(F::HistogramStdvar, "histogram_stdvar", &[V], 0, V).native_histograms(),
    f(F::HistogramFraction, "histogram_fraction", &[S, S, V], 0, V),
    f(F::HistogramQuantile, "histogram_quantile", &[S, V], 0, V),
    f(F::HistogramQuantiles, "histogram_quantiles", &[V, STR, S, S], 9, V).experimental_only(),
    f(F::DoubleExponentialSmoothing, "double_exponential_smoothing", &[M, S, S], 0, V).experimental_only(),
    f(F::Hour, "hour", &[V], 1, V),
    f(F::Idelta, "idelta", &[M], 0, V).on_grid(GridExactness::Exact).in_clickhouse(),
    f(F::Increase, "increase", &[M], 0, V).on_grid(GridExactness::Exact),
    f(F::Info, "info", &[V, V], 1, V).experimental_only(),
    f(F::Irate, "irate", &[M], 0, V).on_grid(GridExactness::Exact).in_clickhouse(),
    f(F::LabelReplace, "label_replace", &[V, STR, STR, STR, STR], 0, V).keeping_name(),
    f(F::LabelJoin, "label_join", &[V, STR, STR, STR], -1, V).keeping_name(),
    f(F::MaxOf, "max_of", &[S, S], 0, S).experimental_only(),
    f(F::LastOverTime, "last_over_time", &[M], 0, V).keeping_name(),
    f(F::MinOf, "min_of", &[S, S], 0, S).experimental_only(),
    f(F::Ln, "ln", &[V], 0, V),
    f(F::Log10, "log10", &[V], 0, V),
    f(F::Log2, "log2", &[V], 0, V),
    f(F::MadOverTime, "mad_over_time", &[M], 0, V).experimental_only(),
    f(F::MaxOverTime, "max_over_time", &[M], 0, V),
    f(F::MinOverTime, "min_over_time", &[M], 0, V),
    f(F::TsOfFirstOverTime, "ts_of_first_over_time", &[M], 0, V).experimental_only(),
    f(F::TsOfMaxOverTime, "ts_of_max_over_time", &[M], 0, V).experimental_only(),
    f(F::TsOfMinOverTime, "ts_of_min_over_time", &[M], 0, V).experimental_only(),
    f(F::TsOfLastOverTime, "ts_of_last_over_time", &[M], 0, V).experimental_only(),
    f(F::Minute, "minute", &[V], 1, V),
    f(F::Month, "month", &[V], 1, V),
    f(F::Pi, "pi", &[], 0, S),
    f(F::PredictLinear, "predict_linear", &[M, S], 0, V),
    f(F::PresentOverTime, "present_over_time", &[M], 0, V),
    f(F::QuantileOverTime, "quantile_over_time", &[S, M], 0, V),
    f(F::Rad, "rad", &[V], 0, V),
    f(F::Range, "range", &[], 0, S).experimental_only(),
    f(F::Rate, "rate", &[M], 0, V).on_grid(GridExactness::Exact),
    f(F::Resets, "resets", &[M], 0, V).on_grid(GridExactness::ExactWholeNumbers).in_clickhouse(),
    f(F::Round, "round", &[V, S], 1, V),
    f(F::Scalar, "scalar", &[V], 0, S),
    f(F::Sgn, "sgn", &[V], 0, V),
    f(F::Sin, "sin", &[V], 0, V),
    f(F::Sinh, "sinh", &[V], 0, V),
    f(F::Sort, "sort", &[V], 0, V).keeping_name(),
    f(F::SortDesc, "sort_desc", &[V], 0, V).keeping_name(),
    f(F::SortByLabel, "sort_by_label", &[V, STR], -1, V).experimental_only().keeping_name(),
    f(F::SortByLabelDesc, "sort_by_label_desc", &[V, STR], -1, V).experimental_only().keeping_name(),
    f(F::Sqrt, "sqrt", &[V], 0, V),
    f(F::Start, "start", &[], 0, S).experimental_only(),
    f(F::StartTimestamp, "start_timestamp", &[V], 0, V).experimental_only(),
    f(F::Step, "step", &[], 0, S).experimental_only(),
    f(F::StddevOverTime, "stddev_over_time", &[M], 0, V),
    f(F::StdvarOverTime, "stdvar_over_time", &[M], 0, V),
    f(F::SumOverTime, "sum_over_time", &[M], 0, V),
    f(F::Tan, "tan", &[V], 0, V),
    f(F::Tanh, "tanh", &[V], 0, V),
    f(F::Time, "time", &[], 0, S),
    f(F::Timestamp, "timestamp", &[V], 0, V),
    f(F::Vector, "vector", &[S], 0, V),
    f(F::Year, "year", &[V], 1, V),
];

impl Expr {
    /// The type of value the expression evaluates to. A binary expression
    /// is a scalar when all its operands are; they are looked at from a
    /// work list, so a chain of any length costs no stack.
    pub fn value_type(&self) -> ValueType {
        let mut pending: Vec<&Expr> = Vec::new();
        let mut binary = false;
        let mut e = self;
        loop {
            match e {
                Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => e = expr,
                Expr::Binary(b) => {
                    binary = true;
                    match &*b.lhs {
                        Expr::Paren { .. } | Expr::Unary { .. } | Expr::Binary(_) => {
                            pending.push(&b.lhs);
                        }
                        lhs if lhs.operand_type() != ValueType::Scalar => {
                            return ValueType::Vector;
                        }
                        _ => {}
                    }
                    e = &b.rhs;
                }
                operand => {
                    let t = operand.operand_type();
                    if !binary {
                        return t;
                    }
                    if t != ValueType::Scalar {
                        return ValueType::Vector;
                    }
                    match pending.pop() {
                        Some(next) => e = next,
                        None => return ValueType::Scalar,
                    }
                }
            }
        }
    }

    /// The type of an expression that is not a parenthesis, unary or
    /// binary expression.
    fn operand_type(&self) -> ValueType {
        match self {
            Expr::Number { .. } => ValueType::Scalar,
            Expr::String { .. } => ValueType::String,
            Expr::Vector(_) | Expr::Aggregate(_) => ValueType::Vector,
            Expr::Matrix(_) | Expr::Subquery(_) => ValueType::Matrix,
            Expr::Call(c) => c.func.info().return_type,
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => expr.value_type(),
            Expr::Binary(_) => self.value_type(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str) -> &'static FunctionInfo {
        Function::from_name(name).expect("function exists").info()
    }

    #[test]
    fn table_matches_the_reference_list() {
        assert_eq!(FUNCTIONS.len(), 90);
        let round = info("round");
        assert_eq!((round.min_args(), round.max_args()), (1, Some(2)));
        let join = info("label_join");
        assert_eq!((join.min_args(), join.max_args()), (3, None));
        assert_eq!(join.arg_type(7), Some(STR));
        let hour = info("hour");
        assert_eq!((hour.min_args(), hour.max_args()), (0, Some(1)));
        let hq = info("histogram_quantiles");
        assert_eq!((hq.min_args(), hq.max_args()), (3, Some(12)));
        assert!(Function::from_name("Rate").is_none());
    }

    /// `TsOfFirstOverTime` → `ts_of_first_over_time`.
    fn snake_case(variant: &str) -> String {
        let mut out = String::new();
        for (i, c) in variant.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    #[test]
    fn every_variant_has_its_own_entry() {
        for (i, f) in FUNCTIONS.iter().enumerate() {
            assert_eq!(f.func as usize, i, "{}", f.name);
            assert_eq!(snake_case(&format!("{:?}", f.func)), f.name);
            assert_eq!(f.func.info().name, f.name);
            assert_eq!(Function::from_name(f.func.name()), Some(f.func));
            assert_eq!(f.func.to_string(), f.name);
        }
        assert_eq!(Function::all().count(), COUNT);
        assert_eq!(Function::Rate.name(), "rate");
        assert_eq!(Function::Year.name(), "year");
    }

    #[test]
    fn grid_facts() {
        let on_grid: Vec<&str> = Function::all()
            .filter(|f| f.info().grid != GridExactness::No)
            .map(Function::name)
            .collect();
        assert_eq!(
            on_grid,
            [
                "changes",
                "count_over_time",
                "delta",
                "idelta",
                "increase",
                "irate",
                "rate",
                "resets"
            ]
        );
        let whole: Vec<&str> = Function::all()
            .filter(|f| f.info().grid == GridExactness::ExactWholeNumbers)
            .map(Function::name)
            .collect();
        assert_eq!(whole, ["changes", "count_over_time", "resets"]);
        let clickhouse: Vec<&str> = Function::all()
            .filter(|f| f.info().clickhouse_grid)
            .map(Function::name)
            .collect();
        assert_eq!(
            clickhouse,
            ["changes", "count_over_time", "idelta", "irate", "resets"]
        );
        // Only grid functions are computed by ClickHouse, and only range
        // functions are grid functions.
        for f in FUNCTIONS.iter() {
            assert!(
                !f.clickhouse_grid || f.grid != GridExactness::No,
                "{}",
                f.name
            );
            assert!(f.grid == GridExactness::No || f.range, "{}", f.name);
        }
        assert_eq!(
            AggOp::Sum.grid_input(),
            Some(GridExactness::ExactWholeNumbers)
        );
        assert_eq!(AggOp::Count.grid_input(), Some(GridExactness::Exact));
        assert_eq!(AggOp::Avg.grid_input(), None);
    }

    #[test]
    fn name_and_range_facts() {
        let keep: Vec<&str> = Function::all()
            .filter(|f| f.info().keeps_name && f.info().range)
            .map(Function::name)
            .collect();
        assert_eq!(keep, ["first_over_time", "last_over_time"]);
        assert!(info("rate").range && info("quantile_over_time").range);
        assert!(!info("abs").range && !info("time").range);
        assert!(info("histogram_sum").native_histograms_only);
        assert!(!info("histogram_quantile").native_histograms_only);
    }
}
