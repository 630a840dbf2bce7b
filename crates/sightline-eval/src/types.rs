//! Static result types of expressions and calls checked against their
//! function's signature (from `sightline_promql::functions`), so evaluation
//! can check a tree it is handed (it may not come from the parser) and
//! refuse a malformed one instead of panicking.

use sightline_promql::functions::{Function, FunctionInfo};

use crate::EvalError;
use crate::ast::{Expr, ValueType};

/// The type of an expression's result (the parser's own rule, which walks
/// a chain of any length without recursion).
pub(crate) fn value_type(e: &Expr) -> ValueType {
    e.value_type()
}

/// Checks a call's argument count and types against the signature.
pub(crate) fn check_call(
    func: Function,
    args: &[Expr],
) -> Result<&'static FunctionInfo, EvalError> {
    let sig = func.info();
    let name = sig.name;
    let n = args.len();
    if n < sig.min_args() || sig.max_args().is_some_and(|max| n > max) {
        return Err(EvalError::bad(format!(
            "wrong number of arguments for function {name:?}: got {n}"
        )));
    }
    for (i, a) in args.iter().enumerate() {
        let got = value_type(a);
        if let Some(want) = sig.arg_type(i)
            && got != want
        {
            return Err(EvalError::bad(format!(
                "expected type {} in call to function {name:?}, got {}",
                want.name(),
                got.name()
            )));
        }
    }
    Ok(sig)
}
