//! The PromQL function table: argument types, arity and return type of
//! every function the parser accepts, as Prometheus's parser defines them.

use crate::ast::{Expr, ValueType};

/// One PromQL function's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
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
}

impl Function {
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
}

const V: ValueType = ValueType::Vector;
const M: ValueType = ValueType::Matrix;
const S: ValueType = ValueType::Scalar;
const STR: ValueType = ValueType::String;

const fn f(
    name: &'static str,
    arg_types: &'static [ValueType],
    variadic: i32,
    return_type: ValueType,
    experimental: bool,
) -> Function {
    Function {
        name,
        arg_types,
        variadic,
        return_type,
        experimental,
    }
}

/// Every function, in the order of Prometheus's table.
pub static FUNCTIONS: &[Function] = &[
    f("abs", &[V], 0, V, false),
    f("absent", &[V], 0, V, false),
    f("absent_over_time", &[M], 0, V, false),
    f("acos", &[V], 0, V, false),
    f("acosh", &[V], 0, V, false),
    f("asin", &[V], 0, V, false),
    f("asinh", &[V], 0, V, false),
    f("atan", &[V], 0, V, false),
    f("atanh", &[V], 0, V, false),
    f("avg_over_time", &[M], 0, V, false),
    f("ceil", &[V], 0, V, false),
    f("changes", &[M], 0, V, false),
    f("clamp", &[V, S, S], 0, V, false),
    f("clamp_max", &[V, S], 0, V, false),
    f("clamp_min", &[V, S], 0, V, false),
    f("cos", &[V], 0, V, false),
    f("cosh", &[V], 0, V, false),
    f("count_over_time", &[M], 0, V, false),
    f("days_in_month", &[V], 1, V, false),
    f("day_of_month", &[V], 1, V, false),
    f("day_of_week", &[V], 1, V, false),
    f("day_of_year", &[V], 1, V, false),
    f("deg", &[V], 0, V, false),
    f("end", &[], 0, S, true),
    f("delta", &[M], 0, V, false),
    f("deriv", &[M], 0, V, false),
    f("exp", &[V], 0, V, false),
    f("first_over_time", &[M], 0, V, false),
    f("floor", &[V], 0, V, false),
    f("histogram_avg", &[V], 0, V, false),
    f("histogram_count", &[V], 0, V, false),
    f("histogram_sum", &[V], 0, V, false),
    f("histogram_stddev", &[V], 0, V, false),
    f("histogram_stdvar", &[V], 0, V, false),
    f("histogram_fraction", &[S, S, V], 0, V, false),
    f("histogram_quantile", &[S, V], 0, V, false),
    f("histogram_quantiles", &[V, STR, S, S], 9, V, true),
    f("double_exponential_smoothing", &[M, S, S], 0, V, true),
    f("hour", &[V], 1, V, false),
    f("idelta", &[M], 0, V, false),
    f("increase", &[M], 0, V, false),
    f("info", &[V, V], 1, V, true),
    f("irate", &[M], 0, V, false),
    f("label_replace", &[V, STR, STR, STR, STR], 0, V, false),
    f("label_join", &[V, STR, STR, STR], -1, V, false),
    f("max_of", &[S, S], 0, S, true),
    f("last_over_time", &[M], 0, V, false),
    f("min_of", &[S, S], 0, S, true),
    f("ln", &[V], 0, V, false),
    f("log10", &[V], 0, V, false),
    f("log2", &[V], 0, V, false),
    f("mad_over_time", &[M], 0, V, true),
    f("max_over_time", &[M], 0, V, false),
    f("min_over_time", &[M], 0, V, false),
    f("ts_of_first_over_time", &[M], 0, V, true),
    f("ts_of_max_over_time", &[M], 0, V, true),
    f("ts_of_min_over_time", &[M], 0, V, true),
    f("ts_of_last_over_time", &[M], 0, V, true),
    f("minute", &[V], 1, V, false),
    f("month", &[V], 1, V, false),
    f("pi", &[], 0, S, false),
    f("predict_linear", &[M, S], 0, V, false),
    f("present_over_time", &[M], 0, V, false),
    f("quantile_over_time", &[S, M], 0, V, false),
    f("rad", &[V], 0, V, false),
    f("range", &[], 0, S, true),
    f("rate", &[M], 0, V, false),
    f("resets", &[M], 0, V, false),
    f("round", &[V, S], 1, V, false),
    f("scalar", &[V], 0, S, false),
    f("sgn", &[V], 0, V, false),
    f("sin", &[V], 0, V, false),
    f("sinh", &[V], 0, V, false),
    f("sort", &[V], 0, V, false),
    f("sort_desc", &[V], 0, V, false),
    f("sort_by_label", &[V, STR], -1, V, true),
    f("sort_by_label_desc", &[V, STR], -1, V, true),
    f("sqrt", &[V], 0, V, false),
    f("start", &[], 0, S, true),
    f("start_timestamp", &[V], 0, V, true),
    f("step", &[], 0, S, true),
    f("stddev_over_time", &[M], 0, V, false),
    f("stdvar_over_time", &[M], 0, V, false),
    f("sum_over_time", &[M], 0, V, false),
    f("tan", &[V], 0, V, false),
    f("tanh", &[V], 0, V, false),
    f("time", &[], 0, S, false),
    f("timestamp", &[V], 0, V, false),
    f("vector", &[S], 0, V, false),
    f("year", &[V], 1, V, false),
];

/// The function called `name` (case-sensitive, as in Prometheus).
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

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
            Expr::Call(c) => lookup(&c.func).map_or(ValueType::Vector, |f| f.return_type),
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => expr.value_type(),
            Expr::Binary(_) => self.value_type(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_reference_list() {
        assert_eq!(FUNCTIONS.len(), 90);
        let round = lookup("round").expect("round exists");
        assert_eq!((round.min_args(), round.max_args()), (1, Some(2)));
        let join = lookup("label_join").expect("label_join exists");
        assert_eq!((join.min_args(), join.max_args()), (3, None));
        assert_eq!(join.arg_type(7), Some(STR));
        let hour = lookup("hour").expect("hour exists");
        assert_eq!((hour.min_args(), hour.max_args()), (0, Some(1)));
        let hq = lookup("histogram_quantiles").expect("exists");
        assert_eq!((hq.min_args(), hq.max_args()), (3, Some(12)));
        assert!(lookup("Rate").is_none());
    }
}
