//! Dynamic values with the Go types Loki's templates can meet, so that
//! error messages name the Go type (`int` and `int64` differ in Go, and
//! `repeat (add 1 2) "x"` fails for exactly that reason).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::gotime::GoTime;
use super::parse::{go_parse_float, go_parse_int};

#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// An invalid `reflect.Value` or nil interface: prints `<no value>` as
    /// an action's result and `<nil>` through `fmt`.
    Nil,
    Str(String),
    /// Go `int`.
    Int(i64),
    /// Go `int64` (sprig's integer arithmetic returns it).
    Int64(i64),
    /// Go `uint8`: `index` on a string yields a byte.
    Uint8(u8),
    Float(f64),
    Bool(bool),
    Time(GoTime),
    /// `[]interface {}` (from `fromJson`).
    List(Rc<Vec<Value>>),
    /// `map[string]interface {}` (from `fromJson`).
    Map(Rc<BTreeMap<String, Value>>),
    /// The template's data: the entry's labels as `map[string]string`,
    /// readable by key only.
    Labels,
}

impl Value {
    /// The Go type name, as `reflect.Type.String()` prints it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Uint8(_) => "uint8",
            Value::Float(_) => "float64",
            Value::Bool(_) => "bool",
            Value::Time(_) => "time.Time",
            Value::List(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Labels => "map[string]string",
        }
    }

    /// Go's `template.isTrue`.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Str(s) => !s.is_empty(),
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Uint8(u) => *u != 0,
            Value::Float(f) => *f != 0.0,
            Value::Bool(b) => *b,
            Value::Time(_) => true,
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Labels => true,
        }
    }

    /// sprig's `empty`: the zero value of its type.
    pub fn is_empty(&self) -> bool {
        !self.truth() && !matches!(self, Value::Time(_))
    }

    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(a) => {
                Value::List(Rc::new(a.iter().map(Value::from_json).collect()))
            }
            serde_json::Value::Object(o) => Value::Map(Rc::new(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            )),
        }
    }
}

/// Go's float-to-int64 conversion as amd64 performs it: NaN and values out
/// of range become `math.MinInt64`.
pub(crate) fn f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
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
pub(crate) fn cast_to_i64(v: &Value) -> i64 {
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
pub(crate) fn cast_to_f64(v: &Value) -> f64 {
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
