//! Traces in OTLP's JSON mapping (the OTLP specification's JSON
//! encoding of protobuf): lowerCamelCase names, trace and span ids as hex,
//! enums as numbers, 64-bit integers as strings, fields at their default
//! value left out. The ingest decoder (`sightline_ingest::otlp::json`)
//! reads exactly this back.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use sightline_core::span::hex;
use sightline_ingest::otlp::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value,
};
use sightline_ingest::otlp::proto::resource::v1::Resource;
use sightline_ingest::otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

/// Sets `key` unless the value is its field's default.
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Self {
        Obj(Map::new())
    }

    fn str(mut self, key: &str, v: &str) -> Self {
        if !v.is_empty() {
            self.0.insert(key.into(), Value::String(v.into()));
        }
        self
    }

    fn id(self, key: &str, v: &[u8]) -> Self {
        self.str(key, &hex(v))
    }

    fn u32(mut self, key: &str, v: u32) -> Self {
        if v != 0 {
            self.0.insert(key.into(), json!(v));
        }
        self
    }

    fn i32(mut self, key: &str, v: i32) -> Self {
        if v != 0 {
            self.0.insert(key.into(), json!(v));
        }
        self
    }

    /// A 64-bit integer, as a string.
    fn u64(mut self, key: &str, v: u64) -> Self {
        if v != 0 {
            self.0.insert(key.into(), Value::String(v.to_string()));
        }
        self
    }

    fn list(mut self, key: &str, v: Vec<Value>) -> Self {
        if !v.is_empty() {
            self.0.insert(key.into(), Value::Array(v));
        }
        self
    }

    fn obj(mut self, key: &str, v: Option<Value>) -> Self {
        if let Some(v) = v {
            self.0.insert(key.into(), v);
        }
        self
    }

    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

/// An attribute value.
pub fn any_value(v: &AnyValue) -> Value {
    use any_value::Value as V;
    match &v.value {
        None => json!({}),
        Some(V::StringValue(s)) => json!({ "stringValue": s }),
        Some(V::BoolValue(b)) => json!({ "boolValue": b }),
        Some(V::IntValue(i)) => json!({ "intValue": i.to_string() }),
        Some(V::DoubleValue(d)) => {
            let d = if d.is_finite() {
                json!(d)
            } else if d.is_nan() {
                json!("NaN")
            } else if *d > 0.0 {
                json!("Infinity")
            } else {
                json!("-Infinity")
            };
            json!({ "doubleValue": d })
        }
        Some(V::ArrayValue(a)) => {
            json!({ "arrayValue": Obj::new().list("values", a.values.iter().map(any_value).collect()).done() })
        }
        Some(V::KvlistValue(kv)) => {
            json!({ "kvlistValue": Obj::new().list("values", attributes(&kv.values)).done() })
        }
        Some(V::BytesValue(b)) => {
            json!({ "bytesValue": base64::engine::general_purpose::STANDARD.encode(b) })
        }
        // An index into a profile's string table: nothing outside profiles.
        Some(V::StringValueStrindex(_)) => json!({}),
    }
}

/// A list of attributes.
pub fn attributes(kvs: &[KeyValue]) -> Vec<Value> {
    kvs.iter()
        .map(|kv| {
            Obj::new()
                .str("key", &kv.key)
                .obj("value", kv.value.as_ref().map(any_value))
                .done()
        })
        .collect()
}

fn resource(r: &Resource) -> Value {
    Obj::new()
        .list("attributes", attributes(&r.attributes))
        .u32("droppedAttributesCount", r.dropped_attributes_count)
        .done()
}

fn scope(s: &InstrumentationScope) -> Value {
    Obj::new()
        .str("name", &s.name)
        .str("version", &s.version)
        .list("attributes", attributes(&s.attributes))
        .u32("droppedAttributesCount", s.dropped_attributes_count)
        .done()
}

fn status(s: &Status) -> Value {
    Obj::new()
        .str("message", &s.message)
        .i32("code", s.code)
        .done()
}

fn event(e: &span::Event) -> Value {
    Obj::new()
        .u64("timeUnixNano", e.time_unix_nano)
        .str("name", &e.name)
        .list("attributes", attributes(&e.attributes))
        .u32("droppedAttributesCount", e.dropped_attributes_count)
        .done()
}

fn link(l: &span::Link) -> Value {
    Obj::new()
        .id("traceId", &l.trace_id)
        .id("spanId", &l.span_id)
        .str("traceState", &l.trace_state)
        .list("attributes", attributes(&l.attributes))
        .u32("droppedAttributesCount", l.dropped_attributes_count)
        .u32("flags", l.flags)
        .done()
}

fn span_json(s: &Span) -> Value {
    Obj::new()
        .id("traceId", &s.trace_id)
        .id("spanId", &s.span_id)
        .str("traceState", &s.trace_state)
        .id("parentSpanId", &s.parent_span_id)
        .u32("flags", s.flags)
        .str("name", &s.name)
        .i32("kind", s.kind)
        .u64("startTimeUnixNano", s.start_time_unix_nano)
        .u64("endTimeUnixNano", s.end_time_unix_nano)
        .list("attributes", attributes(&s.attributes))
        .u32("droppedAttributesCount", s.dropped_attributes_count)
        .list("events", s.events.iter().map(event).collect())
        .u32("droppedEventsCount", s.dropped_events_count)
        .list("links", s.links.iter().map(link).collect())
        .u32("droppedLinksCount", s.dropped_links_count)
        .obj("status", s.status.as_ref().map(status))
        .done()
}

fn scope_spans(ss: &ScopeSpans) -> Value {
    Obj::new()
        .obj("scope", ss.scope.as_ref().map(scope))
        .list("spans", ss.spans.iter().map(span_json).collect())
        .str("schemaUrl", &ss.schema_url)
        .done()
}

/// One resource's spans.
pub fn resource_spans(rs: &ResourceSpans) -> Value {
    Obj::new()
        .obj("resource", rs.resource.as_ref().map(resource))
        .list(
            "scopeSpans",
            rs.scope_spans.iter().map(scope_spans).collect(),
        )
        .str("schemaUrl", &rs.schema_url)
        .done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_ingest::otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
    use sightline_ingest::otlp::proto::common::v1::{ArrayValue, KeyValueList};

    fn kv(k: &str, v: any_value::Value) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    /// What this writes, the ingest decoder reads back as it was.
    #[test]
    fn traces_round_trip_through_the_ingest_decoder() {
        use any_value::Value as V;
        let attrs = vec![
            kv("s", V::StringValue("x\"y".into())),
            kv("b", V::BoolValue(true)),
            kv("i", V::IntValue(-9_007_199_254_740_993)),
            kv("d", V::DoubleValue(1.5)),
            kv("bytes", V::BytesValue(vec![0, 255, 7])),
            kv(
                "a",
                V::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(V::IntValue(1)),
                    }],
                }),
            ),
            kv(
                "m",
                V::KvlistValue(KeyValueList {
                    values: vec![kv("k", V::StringValue("v".into()))],
                }),
            ),
        ];
        let rs = ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", V::StringValue("checkout".into()))],
                dropped_attributes_count: 2,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "lib".into(),
                    version: "1.0".into(),
                    ..Default::default()
                }),
                spans: vec![Span {
                    trace_id: vec![0x5b; 16],
                    span_id: vec![0x01; 8],
                    parent_span_id: vec![0x02; 8],
                    trace_state: "k=v".into(),
                    flags: 257,
                    name: "GET /cart".into(),
                    kind: 2,
                    start_time_unix_nano: 1_700_000_000_000_000_001,
                    end_time_unix_nano: 1_700_000_000_100_000_001,
                    attributes: attrs.clone(),
                    dropped_attributes_count: 1,
                    events: vec![span::Event {
                        time_unix_nano: 1_700_000_000_050_000_000,
                        name: "retry".into(),
                        attributes: attrs.clone(),
                        dropped_attributes_count: 3,
                    }],
                    dropped_events_count: 4,
                    links: vec![span::Link {
                        trace_id: vec![0x0a; 16],
                        span_id: vec![0x0b; 8],
                        trace_state: "a=b".into(),
                        attributes: attrs,
                        dropped_attributes_count: 5,
                        flags: 1,
                    }],
                    dropped_links_count: 6,
                    status: Some(Status {
                        message: "boom".into(),
                        code: 2,
                    }),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.20.0".into(),
        };
        let body = json!({ "resourceSpans": [resource_spans(&rs)] }).to_string();
        let back = sightline_ingest::otlp::json::decode_traces(body.as_bytes()).expect("decodes");
        assert_eq!(
            back,
            ExportTraceServiceRequest {
                resource_spans: vec![rs]
            }
        );
        assert!(
            body.contains(r#""traceId":"5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b""#),
            "{body}"
        );
        assert!(
            body.contains(r#""startTimeUnixNano":"1700000000000000001""#),
            "{body}"
        );
        assert!(body.contains(r#""kind":2"#), "{body}");
    }
}
