//! Static result types of expressions and calls checked against their
//! function's signature (from `sightline_promql::functions`), so evaluation
//! can check a tree it is handed (it may not come from the parser) and
//! refuse a malformed one instead of panicking.

use sightline_promql::functions::{Function, FunctionInfo};

use crate::EvalError;
use crate::ast::{Expr, ValueType};

use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

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
        Expr::Call(c) => c.func.info().return_type,
        Expr::Paren { .. } | Expr::Unary { .. } | Expr::Binary(_) => value_type(e),
    }
}

/// Checks a call's argument count and types against the signature.
pub(crate) fn check_call(
    func: Function,
    args: &[Expr],
) -> Result<&'static FunctionInfo, EvalError> {
    let sig = func.info();
    let name = sig.name;
    let n = args.len() as i64;
    let k = sig.arg_types.len() as i64;
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
        let want = sig.arg_types[i.min(sig.arg_types.len().saturating_sub(1))];
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
