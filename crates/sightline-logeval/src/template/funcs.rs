//! Every function a Loki template can call: Go's builtins, Loki's own
//! (pkg/logql/log/fmt.go) and the sprig functions Loki selects, each with
//! its Go signature, because text/template checks arguments against it.
//!
//! This file holds the signatures and the dispatch by name; the functions
//! live by family: `builtins` (Go's `len`, `index`, `slice` and
//! comparisons), `strings`, `numbers` (sprig's math and spf13/cast's
//! conversions), `time` (Loki's `unixToTime`), `regexp` and `encoding`
//! (the HTML, JS, URL and base64 escapers). `bytes` is go-humanize's
//! `ParseBytes` from the pipeline's Go conversions (`pipeline::convert`),
//! and dates and durations come from Go's `time` (`gotime`).

mod builtins;
mod encoding;
mod numbers;
mod regexp;
mod strings;
mod time;

use super::MAX_OUTPUT_BYTES;
use super::fmt::{quote_go, sprint, sprintf, sprintln};
use super::gotime::{self, GoTime, Loc};
use super::value::Value;
use crate::pipeline::convert::parse_bytes;
use builtins::{builtin_index, builtin_len, builtin_slice, eq, lt};
use encoding::{
    b64_decode_loki, b64_encode, eval_args, html_escape, js_escape, query_escape, query_unescape,
};
use numbers::{cast_to_f64, cast_to_i64, decimal_op, go_max, go_min};
use regexp::{regex_count, regex_replace};
use strings::{
    align, go_lower, go_repeat, go_replace, go_title, go_upper, indent, sprig_substr, sprig_trunc,
    trim_cutset,
};
use time::unix_to_time;

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
        "bytes" => Value::Float(parse_bytes(s(&a[0]))? as f64),
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

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
