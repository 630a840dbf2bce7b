//! Dynamic values with the Go types Loki's templates can meet, so that
//! error messages name the Go type (`int` and `int64` differ in Go, and
//! `repeat (add 1 2) "x"` fails for exactly that reason).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::gotime::GoTime;

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
