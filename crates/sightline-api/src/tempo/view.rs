//! Stored spans as the trace API reads them: each span's OTLP form
//! decoded (typed attribute values, for TraceQL and for tag values), and a
//! trace's spans put back together as OTLP `ResourceSpans`, one per
//! resource and scope.

use prost::Message;
use sightline_core::span::{StoredSpan, hex};
use sightline_ingest::otlp::proto::common::v1::{AnyValue, KeyValue, any_value};
use sightline_ingest::otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use sightline_ingest::otlp::value_string;
use sightline_traceql::{AttrScope, Intrinsic, SpanView, TraceFacts, Value};

/// A stored span with its OTLP form decoded.
pub struct Decoded {
    pub stored: StoredSpan,
    /// The OTLP form: one resource, one scope, this span.
    pub otlp: ResourceSpans,
}

impl Decoded {
    /// Decodes a stored span; `None` for one whose OTLP form does not
    /// decode (counted and logged by the caller).
    pub fn new(stored: StoredSpan) -> Option<Decoded> {
        let otlp = ResourceSpans::decode(stored.otlp.as_slice()).ok()?;
        otlp.scope_spans.first()?.spans.first()?;
        Some(Decoded { stored, otlp })
    }

    pub fn span(&self) -> &Span {
        // `new` admits only a span with a scope and a span in it.
        &self.otlp.scope_spans[0].spans[0]
    }

    pub fn resource_attributes(&self) -> &[KeyValue] {
        self.otlp
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..])
    }

    pub fn status_message(&self) -> &str {
        self.span()
            .status
            .as_ref()
            .map_or("", |s| s.message.as_str())
    }
}

/// An OTLP attribute value as TraceQL types it: strings, integers,
/// doubles and booleans as themselves, anything else as its text.
pub fn traceql_value(v: &AnyValue) -> Option<Value> {
    use any_value::Value as V;
    Some(match v.value.as_ref()? {
        V::StringValue(s) => Value::Str(s.clone()),
        V::IntValue(i) => Value::Int(*i),
        V::DoubleValue(d) => Value::Float(*d),
        V::BoolValue(b) => Value::Bool(*b),
        _ => Value::Str(value_string(Some(v))),
    })
}

fn find(attrs: &[KeyValue], key: &str) -> Option<Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(traceql_value)
}

impl SpanView for Decoded {
    fn intrinsic(&self, i: Intrinsic) -> Option<Value> {
        let s = &self.stored;
        Some(match i {
            Intrinsic::Name => Value::Str(s.name.clone()),
            Intrinsic::Status => Value::Status(s.status_code),
            Intrinsic::StatusMessage => Value::Str(self.status_message().to_string()),
            Intrinsic::Kind => Value::Kind(s.kind),
            Intrinsic::Duration => Value::Duration(s.duration_ns()),
            Intrinsic::SpanId => Value::Str(s.span_hex()),
            Intrinsic::ParentId => Value::Str(s.parent_span_id.map(|p| hex(&p))?),
            Intrinsic::TraceId => Value::Str(s.trace_hex()),
            Intrinsic::RootName | Intrinsic::RootServiceName | Intrinsic::TraceDuration => {
                return None;
            }
        })
    }

    fn attribute(&self, scope: AttrScope, key: &str) -> Option<Value> {
        match scope {
            AttrScope::Span => find(&self.span().attributes, key),
            AttrScope::Resource => find(self.resource_attributes(), key),
            AttrScope::Any => {
                find(&self.span().attributes, key).or_else(|| find(self.resource_attributes(), key))
            }
        }
    }
}

/// One trace's spans.
pub struct Trace {
    pub trace_id: [u8; 16],
    pub spans: Vec<Decoded>,
    pub facts: TraceFacts,
    /// The earliest start, in nanoseconds.
    pub start_ns: i64,
}

impl Trace {
    /// A trace from its spans (at least one): the root is the span
    /// without a parent (the earliest, if several claim it).
    pub fn new(trace_id: [u8; 16], mut spans: Vec<Decoded>) -> Trace {
        spans.sort_by_key(|d| (d.stored.start_ns, d.stored.span_id));
        let start_ns = spans.iter().map(|d| d.stored.start_ns).min().unwrap_or(0);
        let end_ns = spans.iter().map(|d| d.stored.end_ns).max().unwrap_or(0);
        let root = spans.iter().find(|d| d.stored.parent_span_id.is_none());
        let facts = TraceFacts {
            root_name: root.map(|r| r.stored.name.clone()),
            root_service: root.map(|r| r.stored.service_name.clone()),
            duration_ns: end_ns.saturating_sub(start_ns),
        };
        Trace {
            trace_id,
            spans,
            facts,
            start_ns,
        }
    }
}

/// Groups spans by trace, each trace's spans in start order, the traces in
/// trace id order; spans whose OTLP form does not decode are left out and
/// counted in the second value.
pub fn traces(spans: Vec<StoredSpan>) -> (Vec<Trace>, usize) {
    let mut by: std::collections::BTreeMap<[u8; 16], Vec<Decoded>> = Default::default();
    let mut bad = 0;
    for s in spans {
        let id = s.trace_id;
        match Decoded::new(s) {
            Some(d) => by.entry(id).or_default().push(d),
            None => bad += 1,
        }
    }
    (
        by.into_iter().map(|(id, v)| Trace::new(id, v)).collect(),
        bad,
    )
}

/// A trace's spans as OTLP: one `ResourceSpans` per distinct resource
/// (and schema), one `ScopeSpans` in it per distinct scope, in the order
/// they first appear.
pub fn resource_spans(spans: &[Decoded]) -> Vec<ResourceSpans> {
    let mut out: Vec<((Vec<u8>, &str), ResourceSpans)> = Vec::new();
    for d in spans {
        let rs = &d.otlp;
        let key = (
            rs.resource.clone().unwrap_or_default().encode_to_vec(),
            rs.schema_url.as_str(),
        );
        let at = match out.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                out.push((
                    key,
                    ResourceSpans {
                        resource: rs.resource.clone(),
                        scope_spans: Vec::new(),
                        schema_url: rs.schema_url.clone(),
                    },
                ));
                out.len() - 1
            }
        };
        let ss = &rs.scope_spans[0];
        let group = &mut out[at].1.scope_spans;
        match group
            .iter_mut()
            .find(|g| g.scope == ss.scope && g.schema_url == ss.schema_url)
        {
            Some(g) => g.spans.push(d.span().clone()),
            None => group.push(ScopeSpans {
                scope: ss.scope.clone(),
                spans: vec![d.span().clone()],
                schema_url: ss.schema_url.clone(),
            }),
        }
    }
    out.into_iter().map(|(_, rs)| rs).collect()
}
