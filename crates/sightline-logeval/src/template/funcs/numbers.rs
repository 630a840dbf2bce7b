//! sprig's arithmetic helpers (Go's `math.Max`/`math.Min` for `maxf` and
//! `minf`, exact decimal arithmetic for `addf` … `divf`) and spf13/cast's
//! conversions, which sprig's math applies to every argument.

use crate::template::decimal::Decimal;
use crate::template::strconv::{go_parse_float, go_parse_int};
use crate::template::value::Value;

pub(super) fn go_max(x: f64, y: f64) -> f64 {
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

pub(super) fn go_min(x: f64, y: f64) -> f64 {
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

pub(super) fn decimal_op(
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

/// spf13/cast v1.10's `trimDecimal`: `"12.50"` → `"12"`, so integer casts
/// of decimal strings truncate.
fn trim_decimal(s: &str) -> String {
    if !s.contains('.') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_end = i;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i != b.len() {
        return s.to_string();
    }
    let mut head = s[..int_end].to_string();
    if int_end == int_start {
        head.push('0');
    }
    head
}

/// spf13/cast's `ToInt64` (and `ToInt`, the same on 64-bit Go): errors
/// become 0, as sprig ignores them.
pub(super) fn cast_to_i64(v: &Value) -> i64 {
    match v {
        Value::Nil => 0,
        Value::Str(s) => {
            if s.is_empty() {
                return 0;
            }
            go_parse_int(&trim_decimal(s)).unwrap_or(0)
        }
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Uint8(u) => *u as i64,
        Value::Float(f) => f64_to_i64(*f),
        Value::Bool(b) => *b as i64,
        Value::Time(_) | Value::List(_) | Value::Map(_) | Value::Labels => 0,
    }
}

/// spf13/cast's `ToFloat64`, errors becoming 0.
pub(super) fn cast_to_f64(v: &Value) -> f64 {
    match v {
        Value::Nil => 0.0,
        Value::Str(s) => {
            if s.is_empty() {
                return 0.0;
            }
            go_parse_float(s).unwrap_or(0.0)
        }
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Uint8(u) => *u as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => *b as i64 as f64,
        Value::Time(_) | Value::List(_) | Value::Map(_) | Value::Labels => 0.0,
    }
}

/// Go's float-to-int64 conversion as amd64 performs it: NaN and values out
/// of range become `math.MinInt64`.
fn f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}
