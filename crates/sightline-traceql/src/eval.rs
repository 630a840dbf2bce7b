//! A query over one trace's spans: which spans each span set holds, and
//! whether the trace is in the answer.
//!
//! Comparisons keep TraceQL's types: a string equals only a string, a
//! number compares with a number (an integer and a float by value), a
//! duration with a duration, a status or kind with its keyword. A field the
//! span lacks meets no comparison but `= nil` (`!=` included, as in Tempo).

use std::cmp::Ordering;

use crate::ast::{AttrScope, Field, Intrinsic, Op, Operand, SpanExpr, SpansetExpr, Value};

/// One span as a query reads it.
pub trait SpanView {
    /// The span's own intrinsics (name, status, status message, kind,
    /// duration, its ids as hex); `None` for the trace-level ones.
    fn intrinsic(&self, i: Intrinsic) -> Option<Value>;
    /// An attribute in `scope` ([`AttrScope::Any`]: the span's, else the
    /// resource's).
    fn attribute(&self, scope: AttrScope, key: &str) -> Option<Value>;
}

/// What the trace-level intrinsics read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceFacts {
    /// The root span's name and service, when the root span is stored.
    pub root_name: Option<String>,
    pub root_service: Option<String>,
    /// The latest end less the earliest start of the trace's spans.
    pub duration_ns: i64,
}

/// The value of `f` for a span of a trace.
pub fn field_value(f: &Field, span: &dyn SpanView, trace: &TraceFacts) -> Option<Value> {
    match f {
        Field::Intrinsic(Intrinsic::RootName) => trace.root_name.clone().map(Value::Str),
        Field::Intrinsic(Intrinsic::RootServiceName) => trace.root_service.clone().map(Value::Str),
        Field::Intrinsic(Intrinsic::TraceDuration) => Some(Value::Duration(trace.duration_ns)),
        Field::Intrinsic(i) => span.intrinsic(*i),
        Field::Attr { scope, key } => span.attribute(*scope, key),
    }
}

fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Status(x), Value::Status(y)) | (Value::Kind(x), Value::Kind(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(have: Option<Value>, op: Op, operand: &Operand) -> bool {
    match operand {
        Operand::Nil => match op {
            Op::Eq => have.is_none(),
            _ => have.is_some(),
        },
        Operand::Regex(re, _) => match have {
            Some(Value::Str(s)) => re.is_match(&s) == (op == Op::Re),
            _ => false,
        },
        Operand::Value(want) => {
            let Some(have) = have else {
                return false;
            };
            let Some(o) = order(&have, want) else {
                return false;
            };
            match op {
                Op::Eq => o == Ordering::Equal,
                Op::Ne => o != Ordering::Equal,
                Op::Gt => o == Ordering::Greater,
                Op::Ge => o != Ordering::Less,
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
                Op::Re | Op::NotRe => false,
            }
        }
    }
}

/// Whether a span meets a condition.
pub fn matches(e: &SpanExpr, span: &dyn SpanView, trace: &TraceFacts) -> bool {
    match e {
        SpanExpr::True => true,
        SpanExpr::False => false,
        SpanExpr::Cmp(f, op, operand) => compare(field_value(f, span, trace), *op, operand),
        SpanExpr::And(a, b) => matches(a, span, trace) && matches(b, span, trace),
        SpanExpr::Or(a, b) => matches(a, span, trace) || matches(b, span, trace),
    }
}

/// The spans (by index, ascending) of the trace's answer, or `None` when
/// the trace is not in it: a filter's matching spans; `a && b` both span
/// sets when neither is empty; `a || b` the ones that are not empty.
pub fn spanset<S: SpanView>(
    e: &SpansetExpr,
    spans: &[S],
    trace: &TraceFacts,
) -> Option<Vec<usize>> {
    match e {
        SpansetExpr::Filter(c) => {
            let hits: Vec<usize> = spans
                .iter()
                .enumerate()
                .filter(|(_, s)| matches(c, *s, trace))
                .map(|(i, _)| i)
                .collect();
            (!hits.is_empty()).then_some(hits)
        }
        SpansetExpr::And(a, b) => {
            let x = spanset(a, spans, trace)?;
            let y = spanset(b, spans, trace)?;
            Some(union(x, y))
        }
        SpansetExpr::Or(a, b) => match (spanset(a, spans, trace), spanset(b, spans, trace)) {
            (Some(x), Some(y)) => Some(union(x, y)),
            (Some(x), None) | (None, Some(x)) => Some(x),
            (None, None) => None,
        },
    }
}

fn union(mut x: Vec<usize>, y: Vec<usize>) -> Vec<usize> {
    x.extend(y);
    x.sort_unstable();
    x.dedup();
    x
}
