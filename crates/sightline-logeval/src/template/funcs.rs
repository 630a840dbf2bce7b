//! Every function a Loki template can call: Go's builtins, Loki's own
//! (pkg/logql/log/fmt.go) and the sprig functions Loki selects, each with
//! its Go signature, because text/template checks arguments against it.

use std::rc::Rc;

use super::MAX_OUTPUT_BYTES;
use super::decimal::Decimal;
use super::fmt::{is_print, quote_go, sprint, sprintf, sprintln};
use super::gotime::{self, GoTime, Loc};
use super::parse::go_parse_float;
use super::value::{Value, cast_to_f64, cast_to_i64};

/// A parameter's Go type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum P {
    Str,
    Int,
    Float,
    Time,
    /// `interface{}`.
    Any,
    /// `reflect.Value` (the builtins).
    Val,
}

impl P {
    pub fn go_name(self) -> &'static str {
        match self {
            P::Str => "string",
            P::Int => "int",
            P::Float => "float64",
            P::Time => "time.Time",
            P::Any => "interface {}",
            P::Val => "reflect.Value",
        }
    }

    pub fn can_be_nil(self) -> bool {
        matches!(self, P::Any | P::Val)
    }
}

pub(crate) struct Sig {
    pub params: &'static [P],
    pub variadic: Option<P>,
}

const fn f(params: &'static [P]) -> Sig {
    Sig {
        params,
        variadic: None,
    }
}

const fn v(params: &'static [P], rest: P) -> Sig {
    Sig {
        params,
        variadic: Some(rest),
    }
}

use P::*;

/// The signature of a function, or `None` if no such function exists.
pub(crate) fn lookup(name: &str) -> Option<Sig> {
    Some(match name {
        // Go builtins.
        "and" | "or" => v(&[Val], Val),
        "not" | "len" => f(&[Val]),
        "index" | "slice" => v(&[Val], Val),
        "print" | "println" | "html" | "js" | "urlquery" => v(&[], Any),
        "printf" => v(&[Str], Any),
        "eq" => v(&[Val], Val),
        "ne" | "lt" | "le" | "gt" | "ge" => f(&[Val, Val]),
        "call" => v(&[Val], Val),
        // Loki's own.
        "ToLower" | "ToUpper" | "TrimSpace" => f(&[Str]),
        "Replace" => f(&[Str, Str, Str, Int]),
        "Trim" | "TrimLeft" | "TrimRight" | "TrimPrefix" | "TrimSuffix" => f(&[Str, Str]),
        "regexReplaceAll" | "regexReplaceAllLiteral" => f(&[Str, Str, Str]),
        "count" => f(&[Str, Str]),
        "urldecode" | "urlencode" | "bytes" | "duration" | "duration_seconds" | "unixToTime"
        | "b64dec" => f(&[Str]),
        "unixEpochMillis" | "unixEpochNanos" | "unixEpoch" => f(&[Time]),
        "toDateInZone" => f(&[Str, Str, Str]),
        "alignLeft" | "alignRight" => f(&[Int, Str]),
        "__line__" | "__timestamp__" | "now" => f(&[]),
        // sprig.
        "b64enc" | "lower" | "upper" | "title" | "trim" | "fromJson" => f(&[Str]),
        "trunc" | "indent" | "nindent" | "repeat" => f(&[Int, Str]),
        "substr" => f(&[Int, Int, Str]),
        "contains" | "hasPrefix" | "hasSuffix" | "trimAll" | "trimSuffix" | "trimPrefix"
        | "toDate" => f(&[Str, Str]),
        "replace" => f(&[Str, Str, Str]),
        "int" | "float64" | "ceil" | "floor" => f(&[Any]),
        "add" | "addf" => v(&[], Any),
        "sub" | "div" | "mod" => f(&[Any, Any]),
        "mul" | "subf" | "divf" | "mulf" | "max" | "min" | "maxf" | "minf" | "default" => {
            v(&[Any], Any)
        }
        "round" => v(&[Any, Int], Float),
        "date" => f(&[Str, Any]),
        _ => return None,
    })
}

pub(crate) fn exists(name: &str) -> bool {
    lookup(name).is_some()
}

/// What a function call can read besides its arguments.
pub(crate) struct CallCtx<'a> {
    pub labels: &'a dyn Fn(&str) -> Option<String>,
    pub line: &'a str,
    pub timestamp_ns: i64,
    pub now_ns: i64,
}

type R = Result<Value, String>;

fn s(v: &Value) -> &str {
    match v {
        Value::Str(s) => s,
        _ => "",
    }
}

fn i(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

fn t(v: &Value) -> GoTime {
    match v {
        Value::Time(t) => t.clone(),
        _ => GoTime::zero(),
    }
}

fn too_long() -> String {
    format!("output would exceed {MAX_OUTPUT_BYTES} bytes")
}

fn check_len(n: usize) -> Result<(), String> {
    if n > MAX_OUTPUT_BYTES {
        return Err(too_long());
    }
    Ok(())
}

/// Calls a function whose arguments have already been checked against its
/// signature. `Err` carries Go's error (or recovered panic) text, which
/// the caller wraps as `error calling NAME: …`.
pub(crate) fn call(name: &str, a: &[Value], cx: &CallCtx<'_>) -> R {
    let unprintable = |_| "cannot print the label map: labels can only be read by name".to_string();
    Ok(match name {
        "not" => Value::Bool(!a[0].truth()),
        "len" => builtin_len(&a[0])?,
        "index" => builtin_index(&a[0], &a[1..], cx)?,
        "slice" => builtin_slice(&a[0], &a[1..])?,
        "print" => Value::Str(sprint(a).map_err(unprintable)?),
        "println" => Value::Str(sprintln(a).map_err(unprintable)?),
        "printf" => Value::Str(sprintf(s(&a[0]), &a[1..]).map_err(unprintable)?),
        "html" => Value::Str(html_escape(&eval_args(a).map_err(unprintable)?)),
        "js" => Value::Str(js_escape(&eval_args(a).map_err(unprintable)?)),
        "urlquery" => Value::Str(query_escape(&eval_args(a).map_err(unprintable)?)),
        "eq" => Value::Bool(eq(&a[0], &a[1..])?),
        "ne" => Value::Bool(!eq(&a[0], &a[1..])?),
        "lt" => Value::Bool(lt(&a[0], &a[1])?),
        "le" => Value::Bool(lt(&a[0], &a[1])? || eq(&a[0], &a[1..])?),
        "gt" => Value::Bool(!(lt(&a[0], &a[1])? || eq(&a[0], &a[1..])?)),
        "ge" => Value::Bool(!lt(&a[0], &a[1])?),

        "ToLower" | "lower" => Value::Str(go_lower(s(&a[0]))),
        "ToUpper" | "upper" => Value::Str(go_upper(s(&a[0]))),
        "TrimSpace" | "trim" => Value::Str(s(&a[0]).trim_matches(char::is_whitespace).to_string()),
        "Replace" => Value::Str(go_replace(s(&a[0]), s(&a[1]), s(&a[2]), i(&a[3]))?),
        "replace" => Value::Str(go_replace(s(&a[2]), s(&a[0]), s(&a[1]), -1)?),
        "Trim" => Value::Str(trim_cutset(s(&a[0]), s(&a[1]), true, true)),
        "trimAll" => Value::Str(trim_cutset(s(&a[1]), s(&a[0]), true, true)),
        "TrimLeft" => Value::Str(trim_cutset(s(&a[0]), s(&a[1]), true, false)),
        "TrimRight" => Value::Str(trim_cutset(s(&a[0]), s(&a[1]), false, true)),
        "TrimPrefix" => Value::Str(
            s(&a[0])
                .strip_prefix(s(&a[1]))
                .unwrap_or(s(&a[0]))
                .to_string(),
        ),
        "TrimSuffix" => Value::Str(
            s(&a[0])
                .strip_suffix(s(&a[1]))
                .unwrap_or(s(&a[0]))
                .to_string(),
        ),
        "trimPrefix" => Value::Str(
            s(&a[1])
                .strip_prefix(s(&a[0]))
                .unwrap_or(s(&a[1]))
                .to_string(),
        ),
        "trimSuffix" => Value::Str(
            s(&a[1])
                .strip_suffix(s(&a[0]))
                .unwrap_or(s(&a[1]))
                .to_string(),
        ),
        "regexReplaceAll" => Value::Str(regex_replace(s(&a[0]), s(&a[1]), s(&a[2]), false)?),
        "regexReplaceAllLiteral" => Value::Str(regex_replace(s(&a[0]), s(&a[1]), s(&a[2]), true)?),
        "count" => Value::Int(regex_count(s(&a[0]), s(&a[1]))?),
        "urldecode" => Value::Str(query_unescape(s(&a[0]))?),
        "urlencode" => Value::Str(query_escape(s(&a[0]))),
        "bytes" => Value::Float(parse_bytes(s(&a[0]))?),
        "duration" | "duration_seconds" => {
            Value::Float(gotime::duration_seconds(gotime::parse_duration(s(&a[0]))?))
        }
        "unixEpochMillis" => Value::Str(t(&a[0]).unix_millis().to_string()),
        "unixEpochNanos" => Value::Str(t(&a[0]).unix_nanos().to_string()),
        "unixEpoch" => Value::Str(t(&a[0]).secs.to_string()),
        "toDateInZone" => {
            let loc = gotime::load_location(s(&a[1]));
            Value::Time(
                gotime::parse_in_location(s(&a[0]), s(&a[2]), &loc).unwrap_or_else(GoTime::zero),
            )
        }
        "toDate" => Value::Time(
            gotime::parse_in_location(s(&a[0]), s(&a[1]), &Loc::Utc).unwrap_or_else(GoTime::zero),
        ),
        "unixToTime" => Value::Time(unix_to_time(s(&a[0]))?),
        "alignLeft" => Value::Str(align(i(&a[0]), s(&a[1]), true)?),
        "alignRight" => Value::Str(align(i(&a[0]), s(&a[1]), false)?),
        "b64dec" => Value::Str(b64_decode_loki(s(&a[0]))),
        "b64enc" => Value::Str(b64_encode(s(&a[0]).as_bytes())),
        "__line__" => Value::Str(cx.line.to_string()),
        "__timestamp__" => Value::Time(GoTime::from_unix_nanos(cx.timestamp_ns)),
        "now" => Value::Time(GoTime::from_unix_nanos(cx.now_ns)),
        "date" => {
            let tm = match &a[1] {
                Value::Time(t) => t.clone(),
                Value::Int(n) | Value::Int64(n) => GoTime::from_unix(*n),
                _ => GoTime::from_unix_nanos(cx.now_ns),
            };
            Value::Str(tm.in_utc().format(s(&a[0])))
        }
        "title" => Value::Str(go_title(s(&a[0]))),
        "trunc" => Value::Str(sprig_trunc(i(&a[0]), s(&a[1]))),
        "substr" => Value::Str(sprig_substr(i(&a[0]), i(&a[1]), s(&a[2]))?),
        "contains" => Value::Bool(s(&a[1]).contains(s(&a[0]))),
        "hasPrefix" => Value::Bool(s(&a[1]).starts_with(s(&a[0]))),
        "hasSuffix" => Value::Bool(s(&a[1]).ends_with(s(&a[0]))),
        "indent" => Value::Str(indent(i(&a[0]), s(&a[1]))?),
        "nindent" => Value::Str(format!("\n{}", indent(i(&a[0]), s(&a[1]))?)),
        "repeat" => Value::Str(go_repeat(s(&a[1]), i(&a[0]))?),
        "fromJson" => match serde_json::from_str::<serde_json::Value>(s(&a[0])) {
            Ok(j) => Value::from_json(&j),
            Err(_) => Value::Nil,
        },
        "int" => Value::Int(cast_to_i64(&a[0])),
        "float64" => Value::Float(cast_to_f64(&a[0])),
        "add" => Value::Int64(
            a.iter()
                .fold(0i64, |acc, x| acc.wrapping_add(cast_to_i64(x))),
        ),
        "sub" => Value::Int64(cast_to_i64(&a[0]).wrapping_sub(cast_to_i64(&a[1]))),
        "mul" => Value::Int64(a[1..].iter().fold(cast_to_i64(&a[0]), |acc, x| {
            acc.wrapping_mul(cast_to_i64(x))
        })),
        "div" | "mod" => {
            let (x, y) = (cast_to_i64(&a[0]), cast_to_i64(&a[1]));
            if y == 0 {
                return Err("runtime error: integer divide by zero".into());
            }
            Value::Int64(if name == "div" {
                x.wrapping_div(y)
            } else {
                x.wrapping_rem(y)
            })
        }
        "addf" => Value::Float(decimal_op(&Value::Float(0.0), a, |x, y| Ok(x.add(y)))?),
        "subf" => Value::Float(decimal_op(&a[0], &a[1..], |x, y| Ok(x.sub(y)))?),
        "mulf" => Value::Float(decimal_op(&a[0], &a[1..], |x, y| Ok(x.mul(y)))?),
        "divf" => Value::Float(decimal_op(&a[0], &a[1..], |x, y| x.div(y))?),
        "max" => Value::Int64(
            a[1..]
                .iter()
                .map(cast_to_i64)
                .fold(cast_to_i64(&a[0]), i64::max),
        ),
        "min" => Value::Int64(
            a[1..]
                .iter()
                .map(cast_to_i64)
                .fold(cast_to_i64(&a[0]), i64::min),
        ),
        "maxf" => Value::Float(
            a[1..]
                .iter()
                .map(cast_to_f64)
                .fold(cast_to_f64(&a[0]), go_max),
        ),
        "minf" => Value::Float(
            a[1..]
                .iter()
                .map(cast_to_f64)
                .fold(cast_to_f64(&a[0]), go_min),
        ),
        "ceil" => Value::Float(cast_to_f64(&a[0]).ceil()),
        "floor" => Value::Float(cast_to_f64(&a[0]).floor()),
        "round" => {
            let round_on = match a.get(2) {
                Some(Value::Float(r)) => *r,
                _ => 0.5,
            };
            let val = cast_to_f64(&a[0]);
            let pow = 10f64.powf(i(&a[1]) as f64);
            let digit = pow * val;
            let frac = digit - digit.trunc();
            let r = if frac >= round_on {
                digit.ceil()
            } else {
                digit.floor()
            };
            Value::Float(r / pow)
        }
        "default" => {
            if a.len() < 2 || a[1].is_empty() {
                a[0].clone()
            } else {
                a[1].clone()
            }
        }
        "call" => {
            // Only functions can be called, and no template value is one.
            return Err(match &a[1] {
                Value::Nil => "call of nil".into(),
                v => format!("non-function {} of type {}", s(&a[0]), v.type_name()),
            });
        }
        other => return Err(format!("function {} not implemented", quote_go(other))),
    })
}

fn go_max(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x > 0.0 || y.is_infinite() && y > 0.0 {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y { x } else { y }
}

fn go_min(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x < 0.0 || y.is_infinite() && y < 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y { x } else { y }
}

fn decimal_op(
    first: &Value,
    rest: &[Value],
    op: impl Fn(&Decimal, &Decimal) -> Result<Decimal, String>,
) -> Result<f64, String> {
    let mut acc = Decimal::from_f64(cast_to_f64(first))?;
    for x in rest {
        let d = Decimal::from_f64(cast_to_f64(x))?;
        acc = op(&acc, &d)?;
    }
    Ok(acc.to_f64())
}

fn builtin_len(v: &Value) -> R {
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

fn builtin_index(item: &Value, idx: &[Value], cx: &CallCtx<'_>) -> R {
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

fn builtin_slice(item: &Value, idx: &[Value]) -> R {
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

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
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
fn eq(a: &Value, rest: &[Value]) -> Result<bool, String> {
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
fn lt(a: &Value, b: &Value) -> Result<bool, String> {
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

/// The text/template escapers' argument rule: one string as is, else
/// `fmt.Sprint` of everything.
fn eval_args(a: &[Value]) -> Result<String, super::fmt::Unprintable> {
    if let [Value::Str(s)] = a {
        return Ok(s.clone());
    }
    sprint(a)
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if c.is_ascii() || is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.QueryUnescape`.
fn query_unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                if i + 2 >= b.len() || hex(b[i + 1]).is_none() || hex(b[i + 2]).is_none() {
                    let end = (i + 3).min(b.len());
                    return Err(format!(
                        "invalid URL escape {}",
                        quote_go(&lossy(&b[i..end]))
                    ));
                }
                let v = hex(b[i + 1]).unwrap_or(0) * 16 + hex(b[i + 2]).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(lossy(&out))
}

/// go-humanize's `ParseBytes`.
fn parse_bytes(s: &str) -> Result<f64, String> {
    let mut last = 0;
    let mut has_comma = false;
    for c in s.chars() {
        if !(c.is_ascii_digit() || c == '.' || c == ',') {
            break;
        }
        if c == ',' {
            has_comma = true;
        }
        last += 1;
    }
    let mut num = s[..last].to_string();
    if has_comma {
        num = num.replace(',', "");
    }
    let f = go_parse_float(&num).map_err(|e| strconv_err("ParseFloat", &num, e))?;
    let extra = s[last..].trim_matches(char::is_whitespace).to_lowercase();
    let m: u64 = match extra.as_str() {
        "b" | "" => 1,
        "kib" | "ki" => 1 << 10,
        "kb" | "k" => 1000,
        "mib" | "mi" => 1 << 20,
        "mb" | "m" => 1_000_000,
        "gib" | "gi" => 1 << 30,
        "gb" | "g" => 1_000_000_000,
        "tib" | "ti" => 1 << 40,
        "tb" | "t" => 1_000_000_000_000,
        "pib" | "pi" => 1 << 50,
        "pb" | "p" => 1_000_000_000_000_000,
        "eib" | "ei" => 1 << 60,
        "eb" | "e" => 1_000_000_000_000_000_000,
        _ => return Err(format!("unhandled size name: {extra}")),
    };
    let v = f * m as f64;
    if v >= u64::MAX as f64 {
        return Err(format!("too large: {s}"));
    }
    Ok((v as u64) as f64)
}

pub(crate) fn strconv_err(func: &str, s: &str, e: super::parse::NumErr) -> String {
    let why = match e {
        super::parse::NumErr::Syntax => "invalid syntax",
        super::parse::NumErr::Range => "value out of range",
    };
    format!("strconv.{func}: parsing {}: {why}", quote_go(s))
}

/// Go's `strconv.ParseInt(s, 10, 64)`.
fn parse_int10(s: &str) -> Result<i64, super::parse::NumErr> {
    use super::parse::NumErr;
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit()) {
        return Err(NumErr::Syntax);
    }
    s.parse::<i64>().map_err(|_| NumErr::Range)
}

/// Loki's `unixToTime`: the unit follows from the number of characters.
fn unix_to_time(epoch: &str) -> Result<GoTime, String> {
    let n = parse_int10(epoch).map_err(|e| {
        format!(
            "unable to parse time '{epoch}': {}",
            strconv_err("ParseInt", epoch, e)
        )
    })?;
    Ok(match epoch.len() {
        5 => GoTime::from_unix(n.wrapping_mul(86400)),
        10 => GoTime::from_unix(n),
        13 => GoTime::from_unix_nanos(n.wrapping_mul(1_000_000)),
        16 => GoTime::from_unix_nanos(n.wrapping_mul(1000)),
        19 => GoTime::from_unix_nanos(n),
        _ => return Err(format!("unable to parse time '{epoch}': %!w(<nil>)")),
    })
}

fn go_repeat(s: &str, count: i64) -> Result<String, String> {
    if count < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let total = (s.len() as u128) * (count as u128);
    check_len(total.min(usize::MAX as u128) as usize)?;
    Ok(s.repeat(count as usize))
}

fn indent(spaces: i64, v: &str) -> Result<String, String> {
    let pad = go_repeat(" ", spaces)?;
    let lines = v.matches('\n').count() as u128 + 1;
    check_len((lines * pad.len() as u128 + v.len() as u128).min(usize::MAX as u128) as usize)?;
    Ok(format!("{pad}{}", v.replace('\n', &format!("\n{pad}"))))
}

fn align(count: i64, src: &str, left: bool) -> Result<String, String> {
    let runes: Vec<char> = src.chars().collect();
    let l = runes.len() as i64;
    if count < 0 || count == l {
        return Ok(src.to_string());
    }
    let pad = count - l;
    if pad > 0 {
        let p = go_repeat(" ", pad)?;
        return Ok(if left {
            format!("{src}{p}")
        } else {
            format!("{p}{src}")
        });
    }
    let c = count as usize;
    Ok(if left {
        runes[..c].iter().collect()
    } else {
        runes[runes.len() - c..].iter().collect()
    })
}

fn sprig_trunc(c: i64, s: &str) -> String {
    let l = s.len() as i64;
    if c < 0 && l + c > 0 {
        return lossy(&s.as_bytes()[(l + c) as usize..]);
    }
    if c >= 0 && l > c {
        return lossy(&s.as_bytes()[..c as usize]);
    }
    s.to_string()
}

fn sprig_substr(start: i64, end: i64, s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let l = b.len() as i64;
    let oob = |m: String| format!("runtime error: slice bounds out of range {m}");
    if start < 0 {
        if end < 0 {
            return Err(oob(format!("[:{end}]")));
        }
        if end > l {
            return Err(oob(format!("[:{end}] with length {l}")));
        }
        return Ok(lossy(&b[..end as usize]));
    }
    if end < 0 || end > l {
        if start > l {
            return Err(oob(format!("[{start}:{l}]")));
        }
        return Ok(lossy(&b[start as usize..]));
    }
    if start > end {
        return Err(oob(format!("[{start}:{end}]")));
    }
    Ok(lossy(&b[start as usize..end as usize]))
}

/// Go's `unicode.ToUpper` per rune: a character whose uppercase is more
/// than one character (ß) stays as it is.
fn go_upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut u = c.to_uppercase();
            match (u.next(), u.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        })
        .collect()
}

fn go_lower(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut u = c.to_lowercase();
            match (u.next(), u.next()) {
                (Some(x), None) => x,
                (Some(x), Some(_)) => x,
                _ => c,
            }
        })
        .collect()
}

/// Go's deprecated `strings.Title`.
fn go_title(s: &str) -> String {
    let is_sep = |r: char| {
        if r.is_ascii() {
            return !(r.is_ascii_alphanumeric() || r == '_');
        }
        if r.is_alphabetic() || r.is_numeric() {
            return false;
        }
        r.is_whitespace()
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_sep(prev) {
                go_upper(&c.to_string()).chars().next().unwrap_or(c)
            } else {
                c
            };
            prev = c;
            out
        })
        .collect()
}

fn trim_cutset(s: &str, cutset: &str, left: bool, right: bool) -> String {
    if cutset.is_empty() {
        return s.to_string();
    }
    let inset = |c: char| cutset.contains(c);
    let mut r = s;
    if left {
        r = r.trim_start_matches(inset);
    }
    if right {
        r = r.trim_end_matches(inset);
    }
    r.to_string()
}

/// Go's `strings.Replace(s, old, new, n)`.
fn go_replace(s: &str, old: &str, new: &str, n: i64) -> Result<String, String> {
    if old == new || n == 0 {
        return Ok(s.to_string());
    }
    let matches = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    };
    if matches == 0 {
        return Ok(s.to_string());
    }
    let m = if n < 0 {
        matches
    } else {
        matches.min(n as usize)
    };
    let est = s.len() as u128 + (m as u128) * (new.len() as u128);
    check_len(est.min(usize::MAX as u128) as usize)?;
    if old.is_empty() {
        let mut out = String::new();
        let mut done = 0;
        let mut chars = s.char_indices().peekable();
        while done < m {
            out.push_str(new);
            done += 1;
            match chars.next() {
                Some((_, c)) => out.push(c),
                None => return Ok(out),
            }
        }
        for (_, c) in chars {
            out.push(c);
        }
        return Ok(out);
    }
    Ok(s.replacen(old, new, m))
}

fn compile(re: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| format!("error parsing regexp: {}", regex_err_text(&e)))
}

fn regex_err_text(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .trim_start_matches("error: ")
            .to_string(),
        regex::Error::CompiledTooBig(_) => "expression too large".into(),
        _ => e.to_string(),
    }
}

/// Go's match iteration: an empty match right after a previous match is
/// skipped.
fn for_each_match(
    re: &regex::Regex,
    s: &str,
    mut f: impl FnMut(regex::Captures<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let mut pos = 0;
    let mut prev_end: Option<usize> = None;
    while pos <= s.len() {
        let Some(caps) = re.captures_at(s, pos) else {
            break;
        };
        let m = caps
            .get(0)
            .map(|m| (m.start(), m.end()))
            .unwrap_or((pos, pos));
        let mut accept = true;
        if m.1 == m.0 {
            if Some(m.0) == prev_end {
                accept = false;
            }
            pos = match s[m.1..].chars().next() {
                Some(c) => m.1 + c.len_utf8(),
                None => s.len() + 1,
            };
        } else {
            pos = m.1;
        }
        prev_end = Some(m.1);
        if accept {
            f(caps)?;
        }
    }
    Ok(())
}

fn regex_count(re: &str, s: &str) -> Result<i64, String> {
    let re = compile(re)?;
    let mut n = 0;
    for_each_match(&re, s, |_| {
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// Go's `Regexp.ReplaceAllString` / `ReplaceAllLiteralString`.
fn regex_replace(re: &str, src: &str, repl: &str, literal: bool) -> Result<String, String> {
    let re = compile(re)?;
    let mut out = String::new();
    let mut last_end = 0;
    let mut search = 0;
    while search <= src.len() {
        let Some(caps) = re.captures_at(src, search) else {
            break;
        };
        let (a0, a1) = caps
            .get(0)
            .map(|m| (m.start(), m.end()))
            .unwrap_or((search, search));
        out.push_str(&src[last_end..a0]);
        if a1 > last_end || a0 == 0 {
            if literal {
                out.push_str(repl);
            } else {
                caps.expand(repl, &mut out);
            }
            check_len(out.len())?;
        }
        last_end = a1;
        let width = src[search..]
            .chars()
            .next()
            .map(char::len_utf8)
            .unwrap_or(0);
        if search + width > a1 {
            search += width;
        } else if search + 1 > a1 {
            search += 1;
        } else {
            search = a1;
        }
    }
    if last_end <= src.len() {
        out.push_str(&src[last_end..]);
    }
    Ok(out)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk.len();
        let v = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= n {
                out.push(B64[(v >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base64.StdEncoding.DecodeString` (newlines ignored, padding
/// required, trailing bits tolerated), with its error text.
fn b64_decode(src: &[u8]) -> Result<Vec<u8>, String> {
    let dec = |c: u8| B64.iter().position(|&x| x == c).map(|p| p as u32);
    let corrupt = |at: usize| format!("illegal base64 data at input byte {at}");
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        let mut dbuf = [0u32; 4];
        let mut dlen = 4;
        let mut err: Option<String> = None;
        let mut j = 0;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(corrupt(si - j));
            }
            let c = src[si];
            si += 1;
            if let Some(d) = dec(c) {
                dbuf[j] = d;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(corrupt(si - 1));
            }
            match j {
                0 | 1 => return Err(corrupt(si - 1)),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(corrupt(src.len()));
                    }
                    if src[si] != b'=' {
                        return Err(corrupt(si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                err = Some(corrupt(si));
            }
            dlen = j;
            break;
        }
        let v = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3];
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        match dlen {
            4 => out.extend_from_slice(&bytes),
            3 => out.extend_from_slice(&bytes[..2]),
            2 => out.push(bytes[0]),
            _ => {}
        }
        if let Some(e) = err {
            return Err(e);
        }
        if dlen < 4 {
            return Ok(out);
        }
    }
    Ok(out)
}

/// Loki's `b64dec`: adds missing padding, and returns the error text as
/// the result rather than failing.
fn b64_decode_loki(v: &str) -> String {
    let mut v = v.to_string();
    let rem = v.len() % 4;
    if rem != 0 && rem != 1 {
        v.push_str(&"=".repeat(4 - rem));
    }
    match b64_decode(v.as_bytes()) {
        Ok(b) => lossy(&b),
        Err(e) => e,
    }
}
