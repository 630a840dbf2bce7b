//! OTLP spans into stored spans: the request checked (ids of the right
//! length and not zero, an end not before its start: `validate.rs`), the
//! token's scope
//! written over the producer's resource attributes, values under sensitive
//! keys redacted in every attribute list (resource, scope, span, events,
//! links), then kept both as fields and as its own OTLP `ResourceSpans`
//! (`sightline_core::span`).

use std::sync::Arc;

use prost::Message;
use prost::encoding::{self, WireType};
use sightline_core::span::StoredSpan;
use sightline_core::{Label, Labels, TenantId};

use super::proto::collector::trace::v1::ExportTraceServiceRequest;
use super::proto::common::v1::{AnyValue, KeyValue, any_value};
use super::proto::trace::v1::{ResourceSpans, Span};
use super::{attribute, value_string};
use crate::error::IngestError;
pub use crate::record::SpanBatch;

/// What the token makes of the spans it writes.
pub struct SpanPolicy<'a> {
    /// Resource attributes the token sets (its project, application and
    /// environment), written over the producer's.
    pub scope: &'a [(String, String)],
    /// Whether the value under a key is redacted.
    pub redact: &'a dyn Fn(&str) -> bool,
    /// What a redacted value becomes.
    pub redacted: &'a str,
}

/// Redacts the values under sensitive keys, at any depth: in the maps an
/// attribute holds and in the maps inside its arrays too.
fn redact(attrs: &mut [KeyValue], p: &SpanPolicy<'_>) {
    for kv in attrs {
        if (p.redact)(&kv.key) {
            kv.value = Some(AnyValue {
                value: Some(any_value::Value::StringValue(p.redacted.to_string())),
            });
        } else if let Some(v) = kv.value.as_mut() {
            redact_within(v, p, 0);
        }
    }
}

/// Deepest nesting of maps and arrays redaction looks into (OTLP's
/// decoders stop well before it); anything deeper is redacted whole.
const MAX_VALUE_DEPTH: usize = 128;

fn redact_within(v: &mut AnyValue, p: &SpanPolicy<'_>, depth: usize) {
    if depth >= MAX_VALUE_DEPTH {
        // Deeper than redaction looks: the rest is redacted whole.
        v.value = Some(any_value::Value::StringValue(p.redacted.to_string()));
        return;
    }
    match v.value.as_mut() {
        Some(any_value::Value::KvlistValue(kvs)) => {
            for kv in &mut kvs.values {
                if (p.redact)(&kv.key) {
                    kv.value = Some(AnyValue {
                        value: Some(any_value::Value::StringValue(p.redacted.to_string())),
                    });
                } else if let Some(inner) = kv.value.as_mut() {
                    redact_within(inner, p, depth + 1);
                }
            }
        }
        Some(any_value::Value::ArrayValue(arr)) => {
            for inner in &mut arr.values {
                redact_within(inner, p, depth + 1);
            }
        }
        _ => {}
    }
}

fn text(attrs: &[KeyValue]) -> Labels {
    let mut v: Vec<Label> = attrs
        .iter()
        .map(|kv| Label {
            name: kv.key.clone(),
            value: value_string(kv.value.as_ref()),
        })
        .filter(|l| !l.value.is_empty())
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    // The first value of a repeated key wins.
    v.dedup_by(|b, a| a.name == b.name);
    Labels::from_sorted(v)
}

fn id<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    let id: [u8; N] = b.try_into().ok()?;
    (id != [0; N]).then_some(id)
}

/// A stored span from its OTLP form (a `ResourceSpans` of one span, as
/// [`translate`] writes it): how the WAL, the archive and ClickHouse give
/// spans back.
pub fn stored_span(otlp: Vec<u8>) -> Result<StoredSpan, IngestError> {
    let one = ResourceSpans::decode(otlp.as_slice())
        .map_err(|e| IngestError::BadInput(format!("stored span: {e}")))?;
    fields(&one, otlp).map_err(|e| IngestError::BadInput(format!("stored span: {e}")))
}

/// The fields of the one span in `one`, whose encoding is `otlp`.
fn fields(one: &ResourceSpans, otlp: Vec<u8>) -> Result<StoredSpan, String> {
    let resource = one.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
    let span = one
        .scope_spans
        .first()
        .and_then(|ss| ss.spans.first())
        .ok_or("no span")?;
    let shared = Shared::of(resource);
    span_fields(span, &shared, otlp)
}

/// What every span of one resource shares: its attributes as text and its
/// service.
struct Shared {
    resource: Arc<Labels>,
    service_name: String,
}

impl Shared {
    fn of(resource: &[KeyValue]) -> Self {
        Shared {
            resource: Arc::new(text(resource)),
            service_name: attribute(resource, "service.name")
                .map(|v| value_string(Some(v)))
                .unwrap_or_default(),
        }
    }
}

/// The fields of `span`, of the resource `shared` describes, whose
/// `ResourceSpans` encoding is `otlp`.
fn span_fields(span: &Span, shared: &Shared, otlp: Vec<u8>) -> Result<StoredSpan, String> {
    let (Some(trace_id), Some(span_id)) = (id::<16>(&span.trace_id), id::<8>(&span.span_id)) else {
        return Err(format!(
            "span {:?}: ids of 16 and 8 bytes, not all zero",
            span.name
        ));
    };
    let (Ok(start_ns), Ok(end_ns)) = (
        i64::try_from(span.start_time_unix_nano),
        i64::try_from(span.end_time_unix_nano),
    ) else {
        return Err(format!("span {:?}: a time past the year 2262", span.name));
    };
    Ok(StoredSpan {
        trace_id,
        span_id,
        parent_span_id: id::<8>(&span.parent_span_id),
        name: span.name.clone(),
        kind: span.kind,
        start_ns,
        end_ns,
        status_code: span.status.as_ref().map_or(0, |s| s.code),
        service_name: shared.service_name.clone(),
        attributes: text(&span.attributes),
        resource: Arc::clone(&shared.resource),
        otlp,
    })
}

/// Appends a length-delimited field `tag` holding `bytes`.
fn put_field(tag: u32, bytes: &[u8], out: &mut Vec<u8>) {
    encoding::encode_key(tag, WireType::LengthDelimited, out);
    encoding::encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// The encoded length of a length-delimited field `tag` of `len` bytes.
fn field_len(tag: u32, len: usize) -> usize {
    encoding::key_len(tag) + encoding::encoded_len_varint(len as u64) + len
}

/// A `ResourceSpans` of `span` alone, with its resource and scope, from
/// their encodings (each encoded once per request, not once per span):
/// the bytes `ResourceSpans::encode_to_vec` writes for the same message,
/// written into one buffer of the exact size.
fn one_span(
    resource: &[u8],
    scope: &[u8],
    span: &Span,
    scope_schema: &str,
    resource_schema: &str,
) -> Vec<u8> {
    let span_len = span.encoded_len();
    let optional = |tag, s: &str| {
        if s.is_empty() {
            0
        } else {
            field_len(tag, s.len())
        }
    };
    let inner = field_len(1, scope.len()) + field_len(2, span_len) + optional(3, scope_schema);
    let total = field_len(1, resource.len()) + field_len(2, inner) + optional(3, resource_schema);
    let mut out = Vec::with_capacity(total);
    put_field(1, resource, &mut out);
    encoding::encode_key(2, WireType::LengthDelimited, &mut out);
    encoding::encode_varint(inner as u64, &mut out);
    put_field(1, scope, &mut out);
    encoding::encode_key(2, WireType::LengthDelimited, &mut out);
    encoding::encode_varint(span_len as u64, &mut out);
    span.encode_raw(&mut out);
    if !scope_schema.is_empty() {
        put_field(3, scope_schema.as_bytes(), &mut out);
    }
    if !resource_schema.is_empty() {
        put_field(3, resource_schema.as_bytes(), &mut out);
    }
    debug_assert_eq!(out.len(), total);
    out
}

/// Translates one request for `tenant`; a malformed request
/// ([`super::validate::traces`]) is refused whole.
pub fn translate(
    tenant: &TenantId,
    req: ExportTraceServiceRequest,
    policy: &SpanPolicy<'_>,
) -> Result<SpanBatch, IngestError> {
    super::validate::traces(&req)?;
    let count = req
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum();
    let mut spans = Vec::with_capacity(count);
    for rs in req.resource_spans {
        let mut resource = rs.resource.unwrap_or_default();
        for (k, v) in policy.scope {
            resource.attributes.retain(|kv| &kv.key != k);
            resource.attributes.push(KeyValue {
                key: k.clone(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(v.clone())),
                }),
                ..Default::default()
            });
        }
        redact(&mut resource.attributes, policy);
        let shared = Shared::of(&resource.attributes);
        let resource_bytes = resource.encode_to_vec();
        for ss in rs.scope_spans {
            let mut scope = ss.scope.unwrap_or_default();
            redact(&mut scope.attributes, policy);
            let scope_bytes = scope.encode_to_vec();
            for mut span in ss.spans {
                redact(&mut span.attributes, policy);
                for e in &mut span.events {
                    redact(&mut e.attributes, policy);
                }
                for l in &mut span.links {
                    redact(&mut l.attributes, policy);
                }
                let otlp = one_span(
                    &resource_bytes,
                    &scope_bytes,
                    &span,
                    &ss.schema_url,
                    &rs.schema_url,
                );
                spans.push(span_fields(&span, &shared, otlp).map_err(IngestError::BadInput)?);
            }
        }
    }
    Ok(SpanBatch {
        tenant: tenant.clone(),
        spans,
    })
}

#[cfg(test)]
mod tests {
    use super::super::proto::common::v1::{ArrayValue, KeyValueList};
    use super::super::proto::resource::v1::Resource;
    use super::super::proto::trace::v1::{ScopeSpans, Span, Status, span};
    use super::*;

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
            ..Default::default()
        }
    }

    fn text(v: &str) -> AnyValue {
        AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }
    }

    fn kvlist(kvs: Vec<(&str, AnyValue)>) -> AnyValue {
        AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList {
                values: kvs
                    .into_iter()
                    .map(|(k, v)| KeyValue {
                        key: k.into(),
                        value: Some(v),
                        ..Default::default()
                    })
                    .collect(),
            })),
        }
    }

    fn span(name: &str, trace: u8, id: u8, parent: Option<u8>) -> Span {
        Span {
            trace_id: vec![trace; 16],
            span_id: vec![id; 8],
            parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
            name: name.into(),
            kind: span::SpanKind::Server as i32,
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 3_000,
            attributes: vec![
                kv("http.route", "/cart"),
                kv("db.password", "hunter2"),
                KeyValue {
                    key: "http.request".into(),
                    value: Some(kvlist(vec![
                        (
                            "headers",
                            kvlist(vec![("token", text("abc")), ("x", text("1"))]),
                        ),
                        (
                            "list",
                            AnyValue {
                                value: Some(any_value::Value::ArrayValue(ArrayValue {
                                    values: vec![kvlist(vec![("token", text("abc"))])],
                                })),
                            },
                        ),
                    ])),
                    ..Default::default()
                },
            ],
            events: vec![span::Event {
                name: "e".into(),
                time_unix_nano: 2_000,
                attributes: vec![kv("token", "abc")],
                ..Default::default()
            }],
            status: Some(Status {
                code: 2,
                message: "boom".into(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn spans_keep_every_field_with_scope_and_redaction_applied() {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", "checkout"), kv("application", "forged")],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![span("root", 1, 2, None), span("child", 1, 3, Some(2))],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let scope = vec![("application".to_string(), "shop".to_string())];
        let sensitive = |k: &str| k.contains("password") || k == "token";
        let policy = SpanPolicy {
            scope: &scope,
            redact: &sensitive,
            redacted: "[REDACTED]",
        };
        let tenant = TenantId::new("t").expect("tenant");
        let mut malformed = req.clone();
        malformed.resource_spans[0].scope_spans[0].spans.push(Span {
            end_time_unix_nano: 500,
            ..span("backwards", 1, 5, None)
        });
        let e = translate(&tenant, malformed, &policy).expect_err("refused whole");
        assert!(e.to_string().contains("spans[2].endTimeUnixNano"), "{e}");
        let batch = translate(&tenant, req, &policy).expect("well formed");
        assert_eq!(batch.spans.len(), 2);
        let root = &batch.spans[0];
        assert_eq!(root.parent_span_id, None);
        assert_eq!(batch.spans[1].parent_span_id, Some([2; 8]));
        assert_eq!(root.service_name, "checkout");
        assert_eq!(root.resource.get("application"), Some("shop"));
        assert_eq!(root.attributes.get("db.password"), Some("[REDACTED]"));
        assert_eq!((root.duration_ns(), root.status_code), (2_000, 2));
        // The stored OTLP form is the span as sent, but for the policy.
        let back = ResourceSpans::decode(root.otlp.as_slice()).expect("decodes");
        let s = &back.scope_spans[0].spans[0];
        assert_eq!(s.name, "root");
        assert_eq!(
            s.events[0].attributes[0].value,
            kv("token", "[REDACTED]").value
        );
        assert_eq!(s.status.as_ref().map(|x| x.message.as_str()), Some("boom"));
        // Through the WAL's encoding and into the head, found by trace.
        let mut wal = Vec::new();
        crate::record::Record::Spans(batch.clone()).encode(&mut wal);
        let replayed = crate::record::Record::decode(&wal).expect("decodes");
        assert_eq!(replayed, crate::record::Record::Spans(batch.clone()));
        let head = crate::head::Head::new();
        head.apply_record(replayed);
        assert_eq!(
            head.select_spans(&tenant, Some(&[1; 16]), 0, i64::MAX)
                .len(),
            2
        );
        assert_eq!(
            head.select_spans(&tenant, Some(&[1; 16]), 3_001, i64::MAX)
                .len(),
            0
        );
        assert_eq!(head.select_spans(&tenant, None, 0, 1_500).len(), 2);
        let other = TenantId::new("u").expect("tenant");
        assert!(head.select_spans(&other, None, 0, i64::MAX).is_empty());
        // A sensitive key inside a map attribute, and inside a map in an
        // array, is redacted too.
        let nested = back.scope_spans[0].spans[0]
            .attributes
            .iter()
            .find(|kv| kv.key == "http.request")
            .expect("nested attribute");
        assert_eq!(
            value_string(nested.value.as_ref()),
            r#"{"headers":{"token":"[REDACTED]","x":"1"},"list":[{"token":"[REDACTED]"}]}"#
        );
        let res = back.resource.expect("resource");
        assert_eq!(
            super::super::attribute(&res.attributes, "application").map(|v| value_string(Some(v))),
            Some("shop".into())
        );
    }

    #[test]
    fn one_span_is_the_encoding_of_its_resource_spans() {
        let resource = Resource {
            attributes: vec![kv("service.name", "checkout")],
            ..Default::default()
        };
        let scope = super::super::proto::common::v1::InstrumentationScope {
            name: "lib".into(),
            ..Default::default()
        };
        for (scope_schema, resource_schema) in [("", ""), ("s1", ""), ("", "r1"), ("s1", "r1")] {
            let s = span("root", 1, 2, None);
            let whole = ResourceSpans {
                resource: Some(resource.clone()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(scope.clone()),
                    spans: vec![s.clone()],
                    schema_url: scope_schema.into(),
                }],
                schema_url: resource_schema.into(),
            };
            let framed = one_span(
                &resource.encode_to_vec(),
                &scope.encode_to_vec(),
                &s,
                scope_schema,
                resource_schema,
            );
            assert_eq!(
                framed,
                whole.encode_to_vec(),
                "{scope_schema:?} {resource_schema:?}"
            );
        }
    }
}
