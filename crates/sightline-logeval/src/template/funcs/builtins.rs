//! Go's builtin template functions that look into values: `len`,
//! `index`, `slice`, and the comparisons `eq` and `lt` (from which `ne`,
//! `le`, `gt` and `ge` follow) with Go's rules for basic kinds.

use std::rc::Rc;

use super::{CallCtx, R, lossy};
use crate::template::value::Value;

pub(super) fn builtin_len(v: &Value) -> R {
    Ok(Value::Int(match v {
        Value::Str(s) => s.len() as i64,
        Value::List(l) => l.len() as i64,
        Value::Map(m) => m.len() as i64,
        Value::Nil => return Err("len of nil pointer".into()),
        Value::Labels => {
            return Err(
                "len of the label map is not available: labels can only be read by name".into(),
            );
        }
        v => return Err(format!("len of type {}", v.type_name())),
    }))
}

fn index_arg(v: &Value, cap: usize) -> Result<usize, String> {
    let x: i64 = match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Uint8(u) => *u as i64,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        v => {
            return Err(format!(
                "cannot index slice/array with type {}",
                v.type_name()
            ));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

pub(super) fn builtin_index(item: &Value, idx: &[Value], cx: &CallCtx<'_>) -> R {
    let mut item = item.clone();
    if let Value::Nil = item {
        return Err("index of untyped nil".into());
    }
    for ix in idx {
        item = match &item {
            Value::Str(s) => {
                let x = index_arg(ix, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Value::Uint8(*b),
                    None => return Err("reflect: string index out of range".into()),
                }
            }
            Value::List(l) => {
                let x = index_arg(ix, l.len())?;
                match l.get(x) {
                    Some(v) => v.clone(),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::Map(m) => match ix {
                Value::Str(k) => m.get(k).cloned().unwrap_or(Value::Nil),
                Value::Nil => Value::Nil,
                v => {
                    return Err(format!(
                        "value has type {}; should be string",
                        v.type_name()
                    ));
                }
            },
            Value::Labels => match ix {
                Value::Str(k) => Value::Str((cx.labels)(k).unwrap_or_default()),
                Value::Nil => return Err("value is nil; should be of type string".into()),
                v => {
                    return Err(format!(
                        "value has type {}; should be string",
                        v.type_name()
                    ));
                }
            },
            Value::Nil => return Err("index of nil pointer".into()),
            v => return Err(format!("can't index item of type {}", v.type_name())),
        };
    }
    Ok(item)
}

pub(super) fn builtin_slice(item: &Value, idx: &[Value]) -> R {
    if let Value::Nil = item {
        return Err("slice of untyped nil".into());
    }
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    let len = match item {
        Value::Str(s) => {
            if idx.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        v => return Err(format!("can't slice item of type {}", v.type_name())),
    };
    let mut ix = [0usize, len, len];
    for (k, v) in idx.iter().enumerate() {
        ix[k] = index_arg(v, len)?;
    }
    if ix[0] > ix[1] {
        return Err(format!("invalid slice index: {} > {}", ix[0], ix[1]));
    }
    if idx.len() == 3 && ix[1] > ix[2] {
        return Err(format!("invalid slice index: {} > {}", ix[1], ix[2]));
    }
    Ok(match item {
        Value::Str(s) => Value::Str(lossy(&s.as_bytes()[ix[0]..ix[1]])),
        Value::List(l) => Value::List(Rc::new(l[ix[0]..ix[1]].to_vec())),
        _ => Value::Nil,
    })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    Str,
    Other,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Uint8(_) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        _ => Kind::Other,
    }
}

/// Go's `eq`: true if `a` equals any of `rest`.
pub(super) fn eq(a: &Value, rest: &[Value]) -> Result<bool, String> {
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for b in rest {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            match (a, b) {
                (Value::Int(x) | Value::Int64(x), Value::Uint8(y)) => {
                    *x >= 0 && *x as u64 == *y as u64
                }
                (Value::Uint8(x), Value::Int(y) | Value::Int64(y)) => {
                    *y >= 0 && *x as u64 == *y as u64
                }
                _ => {
                    if !matches!(a, Value::Nil) && !matches!(b, Value::Nil) {
                        return Err("incompatible types for comparison".into());
                    }
                    false
                }
            }
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x == y,
                (Value::Uint8(x), Value::Uint8(y)) => x == y,
                (Value::Str(x), Value::Str(y)) => x == y,
                (Value::Nil, Value::Nil) => true,
                (Value::Time(x), Value::Time(y)) => x == y,
                (x, y) if x.type_name() != y.type_name() => {
                    return Err("incompatible types for comparison".into());
                }
                (x, _) => return Err(format!("non-comparable type {}", x.type_name())),
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub(super) fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let k1 = basic_kind(a);
    let k2 = basic_kind(b);
    if matches!(k1, Kind::Invalid | Kind::Other) || matches!(k2, Kind::Invalid | Kind::Other) {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return match (a, b) {
            (Value::Int(x) | Value::Int64(x), Value::Uint8(y)) => {
                Ok(*x < 0 || (*x as u64) < *y as u64)
            }
            (Value::Uint8(x), Value::Int(y) | Value::Int64(y)) => {
                Ok(*y >= 0 && (*x as u64) < *y as u64)
            }
            _ => Err("incompatible types for comparison".into()),
        };
    }
    Ok(match (a, b) {
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x < y,
        (Value::Uint8(x), Value::Uint8(y)) => x < y,
        (Value::Str(x), Value::Str(y)) => x < y,
        _ => return Err("invalid type for comparison".into()),
    })
}
