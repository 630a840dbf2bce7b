//! Static result types of expressions and the signatures of PromQL's
//! functions, so evaluation can check a tree it is handed (it may not come
//! from the parser) and refuse a malformed one instead of panicking.

use crate::EvalError;
use crate::ast::{Expr, ValueType};

use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

/// A function's argument types and result type. `variadic` follows
/// Prometheus: 0 means exactly `args.len()` arguments, `n > 0` means the
/// last argument is optional and may repeat up to `n` times, `-1` means the
/// last argument may repeat without limit.
pub(crate) struct FuncSig {
    pub name: &'static str,
    pub args: &'static [ValueType],
    pub ret: ValueType,
    pub variadic: i32,
}

macro_rules! sig {
    ($name:literal, [$($a:expr),*], $ret:expr) => {
        FuncSig { name: $name, args: &[$($a),*], ret: $ret, variadic: 0 }
    };
    ($name:literal, [$($a:expr),*], $ret:expr, $var:expr) => {
        FuncSig { name: $name, args: &[$($a),*], ret: $ret, variadic: $var }
    };
}

const FUNCS: &[FuncSig] = &[
    sig!("abs", [V], V),
    sig!("absent", [V], V),
    sig!("absent_over_time", [M], V),
    sig!("acos", [V], V),
    sig!("acosh", [V], V),
    sig!("asin", [V], V),
    sig!("asinh", [V], V),
    sig!("atan", [V], V),
    sig!("atanh", [V], V),
    sig!("avg_over_time", [M], V),
    sig!("ceil", [V], V),
    sig!("changes", [M], V),
    sig!("clamp", [V, S, S], V),
    sig!("clamp_max", [V, S], V),
    sig!("clamp_min", [V, S], V),
    sig!("cos", [V], V),
    sig!("cosh", [V], V),
    sig!("count_over_time", [M], V),
    sig!("days_in_month", [V], V, 1),
    sig!("day_of_month", [V], V, 1),
    sig!("day_of_week", [V], V, 1),
    sig!("day_of_year", [V], V, 1),
    sig!("deg", [V], V),
    sig!("delta", [M], V),
    sig!("deriv", [M], V),
    sig!("double_exponential_smoothing", [M, S, S], V),
    sig!("exp", [V], V),
    sig!("first_over_time", [M], V),
    sig!("floor", [V], V),
    sig!("histogram_avg", [V], V),
    sig!("histogram_count", [V], V),
    sig!("histogram_sum", [V], V),
    sig!("histogram_stddev", [V], V),
    sig!("histogram_stdvar", [V], V),
    sig!("histogram_fraction", [S, S, V], V),
    sig!("histogram_quantile", [S, V], V),
    sig!("histogram_quantiles", [V, Str, S, S], V, 9),
    sig!("hour", [V], V, 1),
    sig!("idelta", [M], V),
    sig!("increase", [M], V),
    sig!("info", [V, V], V, 1),
    sig!("irate", [M], V),
    sig!("label_replace", [V, Str, Str, Str, Str], V),
    sig!("label_join", [V, Str, Str, Str], V, -1),
    sig!("last_over_time", [M], V),
    sig!("ln", [V], V),
    sig!("log10", [V], V),
    sig!("log2", [V], V),
    sig!("mad_over_time", [M], V),
    sig!("max_of", [S, S], S),
    sig!("max_over_time", [M], V),
    sig!("min_of", [S, S], S),
    sig!("min_over_time", [M], V),
    sig!("minute", [V], V, 1),
    sig!("month", [V], V, 1),
    sig!("pi", [], S),
    sig!("start", [], S),
    sig!("end", [], S),
    sig!("range", [], S),
    sig!("step", [], S),
    sig!("predict_linear", [M, S], V),
    sig!("present_over_time", [M], V),
    sig!("quantile_over_time", [S, M], V),
    sig!("rad", [V], V),
    sig!("rate", [M], V),
    sig!("resets", [M], V),
    sig!("round", [V, S], V, 1),
    sig!("scalar", [V], S),
    sig!("sgn", [V], V),
    sig!("sin", [V], V),
    sig!("sinh", [V], V),
    sig!("sort", [V], V),
    sig!("sort_desc", [V], V),
    sig!("sort_by_label", [V, Str], V, -1),
    sig!("sort_by_label_desc", [V, Str], V, -1),
    sig!("sqrt", [V], V),
    sig!("start_timestamp", [V], V),
    sig!("stddev_over_time", [M], V),
    sig!("stdvar_over_time", [M], V),
    sig!("sum_over_time", [M], V),
    sig!("tan", [V], V),
    sig!("tanh", [V], V),
    sig!("time", [], S),
    sig!("timestamp", [V], V),
    sig!("ts_of_first_over_time", [M], V),
    sig!("ts_of_last_over_time", [M], V),
    sig!("ts_of_max_over_time", [M], V),
    sig!("ts_of_min_over_time", [M], V),
    sig!("vector", [S], V),
    sig!("year", [V], V, 1),
];

/// The signature of a function, if PromQL has it.
pub(crate) fn lookup(name: &str) -> Option<&'static FuncSig> {
    FUNCS.iter().find(|f| f.name == name)
}

/// The type of an expression's result. A binary expression is a scalar
/// when all its operands are; they are looked at from a work list, so a
/// chain of any length costs no stack.
pub(crate) fn value_type(e: &Expr) -> ValueType {
    let mut pending: Vec<&Expr> = Vec::new();
    let mut binary = false;
    let mut e = e;
    loop {
        match e {
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => e = expr,
            Expr::Binary(b) => {
                binary = true;
                match &*b.lhs {
                    Expr::Paren { .. } | Expr::Unary { .. } | Expr::Binary(_) => {
                        pending.push(&b.lhs);
                    }
                    lhs if operand_type(lhs) != S => return V,
                    _ => {}
                }
                e = &b.rhs;
            }
            operand => {
                let t = operand_type(operand);
                if !binary {
                    return t;
                }
                if t != S {
                    return V;
                }
                match pending.pop() {
                    Some(next) => e = next,
                    None => return S,
                }
            }
        }
    }
}

/// The type of an expression that is not a parenthesis, unary or binary
/// expression (for those, [`value_type`]).
fn operand_type(e: &Expr) -> ValueType {
    match e {
        Expr::Number { .. } => S,
        Expr::String { .. } => Str,
        Expr::Vector(_) | Expr::Aggregate(_) => V,
        Expr::Matrix(_) | Expr::Subquery(_) => M,
        Expr::Call(c) => lookup(&c.func).map_or(V, |f| f.ret),
        Expr::Paren { .. } | Expr::Unary { .. } | Expr::Binary(_) => value_type(e),
    }
}

/// Checks a call's argument count and types against the signature.
pub(crate) fn check_call(name: &str, args: &[Expr]) -> Result<&'static FuncSig, EvalError> {
    let sig = lookup(name)
        .ok_or_else(|| EvalError::bad(format!("unknown function with name {name:?}")))?;
    let n = args.len() as i64;
    let k = sig.args.len() as i64;
    let ok = match sig.variadic {
        0 => n == k,
        -1 => n >= k - 1,
        v => n >= k - 1 && n <= k - 1 + i64::from(v),
    };
    if !ok {
        return Err(EvalError::bad(format!(
            "wrong number of arguments for function {name:?}: got {n}"
        )));
    }
    for (i, a) in args.iter().enumerate() {
        let want = sig.args[i.min(sig.args.len().saturating_sub(1))];
        let got = value_type(a);
        if got != want {
            return Err(EvalError::bad(format!(
                "expected type {} in call to function {name:?}, got {}",
                want.name(),
                got.name()
            )));
        }
    }
    Ok(sig)
}
