//! The OTLP JSON encoding (`docs/otlp-semantics.md` §3), decoded into the
//! generated protobuf types, as leniently as the Collector reads it:
//! field names in lowerCamelCase or as in the `.proto` files, 64-bit
//! integers as strings or numbers, enums as integers or their names, trace
//! and span ids in hex, bytes in base64, unknown fields ignored. A value
//! of the wrong kind is an error naming its path
//! (`resourceSpans[0].scopeSpans[0].spans[3].traceId: ...`).

use serde_json::{Map, Value};

use super::proto::collector::logs::v1::ExportLogsServiceRequest;
use super::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use super::proto::collector::trace::v1::ExportTraceServiceRequest;
use super::proto::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use super::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use super::proto::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint, exemplar, exponential_histogram_data_point, metric,
    number_data_point, summary_data_point,
};
use super::proto::resource::v1::Resource;
use super::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};
use crate::error::IngestError;

type R<T> = Result<T, IngestError>;

fn bad(path: &str, what: impl std::fmt::Display) -> IngestError {
    IngestError::BadInput(format!("{path}: {what}"))
}

/// An object's fields, found by their JSON name or their `.proto` name.
struct Obj<'a> {
    m: &'a Map<String, Value>,
    path: String,
}

fn snake(camel: &str) -> String {
    let mut s = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            s.push('_');
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

fn obj<'a>(v: &'a Value, path: String) -> R<Obj<'a>> {
    match v {
        Value::Object(m) => Ok(Obj { m, path }),
        other => Err(bad(
            &path,
            format!("expected an object, got {}", kind(other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Obj<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.m
            .get(key)
            .or_else(|| self.m.get(&snake(key)))
            .filter(|v| !v.is_null())
    }

    fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    fn child(&self, key: &str) -> R<Option<Obj<'a>>> {
        self.get(key).map(|v| obj(v, self.at(key))).transpose()
    }

    /// The elements of an array field (none when absent), with their paths.
    fn list(&self, key: &str) -> R<Vec<(&'a Value, String)>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a
                .iter()
                .enumerate()
                .map(|(i, v)| (v, format!("{}.{key}[{i}]", self.path)))
                .collect()),
            Some(other) => Err(bad(
                &self.at(key),
                format!("expected an array, got {}", kind(other)),
            )),
        }
    }

    fn objects(&self, key: &str) -> R<Vec<Obj<'a>>> {
        self.list(key)?
            .into_iter()
            .map(|(v, p)| obj(v, p))
            .collect()
    }

    fn string(&self, key: &str) -> R<String> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(bad(
                &self.at(key),
                format!("expected a string, got {}", kind(other)),
            )),
        }
    }

    fn boolean(&self, key: &str) -> R<bool> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(bad(
                &self.at(key),
                format!("expected a boolean, got {}", kind(other)),
            )),
        }
    }

    fn u64(&self, key: &str) -> R<u64> {
        self.get(key).map_or(Ok(0), |v| u64_of(v, &self.at(key)))
    }

    fn u32(&self, key: &str) -> R<u32> {
        let n = self.u64(key)?;
        u32::try_from(n).map_err(|_| bad(&self.at(key), format!("{n} does not fit 32 bits")))
    }

    fn i64(&self, key: &str) -> R<Option<i64>> {
        self.get(key).map(|v| i64_of(v, &self.at(key))).transpose()
    }

    fn f64(&self, key: &str) -> R<Option<f64>> {
        self.get(key).map(|v| f64_of(v, &self.at(key))).transpose()
    }

    /// An enum by number or by name (`SPAN_KIND_SERVER`).
    fn enumeration(&self, key: &str, by_name: fn(&str) -> Option<i32>) -> R<i32> {
        match self.get(key) {
            None => Ok(0),
            Some(Value::String(s)) => {
                if let Ok(n) = s.parse::<i32>() {
                    return Ok(n);
                }
                by_name(s).ok_or_else(|| bad(&self.at(key), format!("unknown value {s:?}")))
            }
            Some(v @ Value::Number(_)) => {
                let n = i64_of(v, &self.at(key))?;
                i32::try_from(n).map_err(|_| bad(&self.at(key), format!("{n} is out of range")))
            }
            Some(other) => Err(bad(
                &self.at(key),
                format!("expected an enum, got {}", kind(other)),
            )),
        }
    }

    /// A trace id (16 bytes) or span id (8 bytes) in hex; empty when absent.
    fn id(&self, key: &str, len: usize) -> R<Vec<u8>> {
        let s = self.string(key)?;
        if s.is_empty() {
            return Ok(Vec::new());
        }
        sightline_core::span::from_hex(&s, len).ok_or_else(|| {
            bad(
                &self.at(key),
                format!("expected {} hex digits, got {:?}", len * 2, s),
            )
        })
    }

    fn u64_list(&self, key: &str) -> R<Vec<u64>> {
        self.list(key)?.iter().map(|(v, p)| u64_of(v, p)).collect()
    }

    fn f64_list(&self, key: &str) -> R<Vec<f64>> {
        self.list(key)?.iter().map(|(v, p)| f64_of(v, p)).collect()
    }
}

fn u64_of(v: &Value, path: &str) -> R<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| bad(path, format!("expected an unsigned integer, got {n}"))),
        Value::String(s) => s
            .parse()
            .map_err(|_| bad(path, format!("expected an unsigned integer, got {s:?}"))),
        other => Err(bad(
            path,
            format!("expected an integer, got {}", kind(other)),
        )),
    }
}

fn i64_of(v: &Value, path: &str) -> R<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| bad(path, format!("expected an integer, got {n}"))),
        Value::String(s) => s
            .parse()
            .map_err(|_| bad(path, format!("expected an integer, got {s:?}"))),
        other => Err(bad(
            path,
            format!("expected an integer, got {}", kind(other)),
        )),
    }
}

fn f64_of(v: &Value, path: &str) -> R<f64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| bad(path, format!("expected a number, got {n}"))),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            s => s
                .parse()
                .map_err(|_| bad(path, format!("expected a number, got {s:?}"))),
        },
        other => Err(bad(path, format!("expected a number, got {}", kind(other)))),
    }
}

fn any_value(o: &Obj<'_>) -> R<AnyValue> {
    use any_value::Value as V;
    let value = if let Some(v) = o.get("stringValue") {
        match v {
            Value::String(s) => Some(V::StringValue(s.clone())),
            other => {
                return Err(bad(
                    &o.at("stringValue"),
                    format!("expected a string, got {}", kind(other)),
                ));
            }
        }
    } else if o.get("boolValue").is_some() {
        Some(V::BoolValue(o.boolean("boolValue")?))
    } else if let Some(i) = o.i64("intValue")? {
        Some(V::IntValue(i))
    } else if let Some(f) = o.f64("doubleValue")? {
        Some(V::DoubleValue(f))
    } else if let Some(a) = o.child("arrayValue")? {
        let values = a
            .objects("values")?
            .iter()
            .map(any_value)
            .collect::<R<Vec<_>>>()?;
        Some(V::ArrayValue(ArrayValue { values }))
    } else if let Some(kv) = o.child("kvlistValue")? {
        Some(V::KvlistValue(KeyValueList {
            values: key_values(&kv, "values")?,
        }))
    } else if o.get("bytesValue").is_some() {
        use base64::Engine;
        let s = o.string("bytesValue")?;
        let b = base64::engine::general_purpose::STANDARD
            .decode(&s)
            .map_err(|e| bad(&o.at("bytesValue"), format!("not base64: {e}")))?;
        Some(V::BytesValue(b))
    } else {
        None
    };
    Ok(AnyValue { value })
}

fn key_values(o: &Obj<'_>, key: &str) -> R<Vec<KeyValue>> {
    o.objects(key)?
        .iter()
        .map(|kv| {
            Ok(KeyValue {
                key: kv.string("key")?,
                value: kv.child("value")?.map(|v| any_value(&v)).transpose()?,
                ..Default::default()
            })
        })
        .collect()
}

fn resource(o: &Obj<'_>) -> R<Option<Resource>> {
    o.child("resource")?
        .map(|r| {
            Ok(Resource {
                attributes: key_values(&r, "attributes")?,
                dropped_attributes_count: r.u32("droppedAttributesCount")?,
                ..Default::default()
            })
        })
        .transpose()
}

fn scope(o: &Obj<'_>) -> R<Option<InstrumentationScope>> {
    o.child("scope")?
        .map(|s| {
            Ok(InstrumentationScope {
                name: s.string("name")?,
                version: s.string("version")?,
                attributes: key_values(&s, "attributes")?,
                dropped_attributes_count: s.u32("droppedAttributesCount")?,
            })
        })
        .transpose()
}

fn root(body: &[u8]) -> R<Value> {
    serde_json::from_slice(body).map_err(|e| IngestError::BadInput(format!("JSON: {e}")))
}

/// Decodes an `ExportTraceServiceRequest` in OTLP JSON.
pub fn decode_traces(body: &[u8]) -> R<ExportTraceServiceRequest> {
    let v = root(body)?;
    let top = obj(&v, "request".into())?;
    let mut resource_spans = Vec::new();
    for rs in top.objects("resourceSpans")? {
        let mut scope_spans = Vec::new();
        for ss in rs.objects("scopeSpans")? {
            let mut spans = Vec::new();
            for s in ss.objects("spans")? {
                spans.push(span_of(&s)?);
            }
            scope_spans.push(ScopeSpans {
                scope: scope(&ss)?,
                spans,
                schema_url: ss.string("schemaUrl")?,
            });
        }
        resource_spans.push(ResourceSpans {
            resource: resource(&rs)?,
            scope_spans,
            schema_url: rs.string("schemaUrl")?,
        });
    }
    Ok(ExportTraceServiceRequest { resource_spans })
}

fn span_of(s: &Obj<'_>) -> R<Span> {
    let events = s
        .objects("events")?
        .iter()
        .map(|e| {
            Ok(span::Event {
                time_unix_nano: e.u64("timeUnixNano")?,
                name: e.string("name")?,
                attributes: key_values(e, "attributes")?,
                dropped_attributes_count: e.u32("droppedAttributesCount")?,
            })
        })
        .collect::<R<Vec<_>>>()?;
    let links = s
        .objects("links")?
        .iter()
        .map(|l| {
            Ok(span::Link {
                trace_id: l.id("traceId", 16)?,
                span_id: l.id("spanId", 8)?,
                trace_state: l.string("traceState")?,
                attributes: key_values(l, "attributes")?,
                dropped_attributes_count: l.u32("droppedAttributesCount")?,
                flags: l.u32("flags")?,
            })
        })
        .collect::<R<Vec<_>>>()?;
    let status = s
        .child("status")?
        .map(|st| {
            Ok::<_, IngestError>(Status {
                message: st.string("message")?,
                code: st.enumeration("code", |n| {
                    status::StatusCode::from_str_name(n).map(|c| c as i32)
                })?,
            })
        })
        .transpose()?;
    Ok(Span {
        trace_id: s.id("traceId", 16)?,
        span_id: s.id("spanId", 8)?,
        trace_state: s.string("traceState")?,
        parent_span_id: s.id("parentSpanId", 8)?,
        flags: s.u32("flags")?,
        name: s.string("name")?,
        kind: s.enumeration("kind", |n| {
            span::SpanKind::from_str_name(n).map(|k| k as i32)
        })?,
        start_time_unix_nano: s.u64("startTimeUnixNano")?,
        end_time_unix_nano: s.u64("endTimeUnixNano")?,
        attributes: key_values(s, "attributes")?,
        dropped_attributes_count: s.u32("droppedAttributesCount")?,
        events,
        dropped_events_count: s.u32("droppedEventsCount")?,
        links,
        dropped_links_count: s.u32("droppedLinksCount")?,
        status,
    })
}

/// Decodes an `ExportLogsServiceRequest` in OTLP JSON.
pub fn decode_logs(body: &[u8]) -> R<ExportLogsServiceRequest> {
    let v = root(body)?;
    let top = obj(&v, "request".into())?;
    let mut resource_logs = Vec::new();
    for rl in top.objects("resourceLogs")? {
        let mut scope_logs = Vec::new();
        for sl in rl.objects("scopeLogs")? {
            let mut log_records = Vec::new();
            for r in sl.objects("logRecords")? {
                log_records.push(LogRecord {
                    time_unix_nano: r.u64("timeUnixNano")?,
                    observed_time_unix_nano: r.u64("observedTimeUnixNano")?,
                    severity_number: r.enumeration("severityNumber", |n| {
                        SeverityNumber::from_str_name(n).map(|s| s as i32)
                    })?,
                    severity_text: r.string("severityText")?,
                    body: r.child("body")?.map(|b| any_value(&b)).transpose()?,
                    attributes: key_values(&r, "attributes")?,
                    dropped_attributes_count: r.u32("droppedAttributesCount")?,
                    flags: r.u32("flags")?,
                    trace_id: r.id("traceId", 16)?,
                    span_id: r.id("spanId", 8)?,
                    event_name: r.string("eventName")?,
                });
            }
            scope_logs.push(ScopeLogs {
                scope: scope(&sl)?,
                log_records,
                schema_url: sl.string("schemaUrl")?,
            });
        }
        resource_logs.push(ResourceLogs {
            resource: resource(&rl)?,
            scope_logs,
            schema_url: rl.string("schemaUrl")?,
        });
    }
    Ok(ExportLogsServiceRequest { resource_logs })
}

fn temporality(o: &Obj<'_>) -> R<i32> {
    o.enumeration("aggregationTemporality", |n| {
        AggregationTemporality::from_str_name(n).map(|t| t as i32)
    })
}

fn exemplars(o: &Obj<'_>) -> R<Vec<Exemplar>> {
    o.objects("exemplars")?
        .iter()
        .map(|e| {
            Ok(Exemplar {
                filtered_attributes: key_values(e, "filteredAttributes")?,
                time_unix_nano: e.u64("timeUnixNano")?,
                span_id: e.id("spanId", 8)?,
                trace_id: e.id("traceId", 16)?,
                value: match (e.f64("asDouble")?, e.i64("asInt")?) {
                    (Some(f), _) => Some(exemplar::Value::AsDouble(f)),
                    (None, Some(i)) => Some(exemplar::Value::AsInt(i)),
                    _ => None,
                },
            })
        })
        .collect()
}

fn number_points(o: &Obj<'_>) -> R<Vec<NumberDataPoint>> {
    o.objects("dataPoints")?
        .iter()
        .map(|p| {
            Ok(NumberDataPoint {
                attributes: key_values(p, "attributes")?,
                start_time_unix_nano: p.u64("startTimeUnixNano")?,
                time_unix_nano: p.u64("timeUnixNano")?,
                exemplars: exemplars(p)?,
                flags: p.u32("flags")?,
                value: match (p.f64("asDouble")?, p.i64("asInt")?) {
                    (Some(f), _) => Some(number_data_point::Value::AsDouble(f)),
                    (None, Some(i)) => Some(number_data_point::Value::AsInt(i)),
                    _ => None,
                },
            })
        })
        .collect()
}

fn histogram_points(o: &Obj<'_>) -> R<Vec<HistogramDataPoint>> {
    o.objects("dataPoints")?
        .iter()
        .map(|p| {
            Ok(HistogramDataPoint {
                attributes: key_values(p, "attributes")?,
                start_time_unix_nano: p.u64("startTimeUnixNano")?,
                time_unix_nano: p.u64("timeUnixNano")?,
                count: p.u64("count")?,
                sum: p.f64("sum")?,
                bucket_counts: p.u64_list("bucketCounts")?,
                explicit_bounds: p.f64_list("explicitBounds")?,
                exemplars: exemplars(p)?,
                flags: p.u32("flags")?,
                min: p.f64("min")?,
                max: p.f64("max")?,
            })
        })
        .collect()
}

fn exponential_points(o: &Obj<'_>) -> R<Vec<ExponentialHistogramDataPoint>> {
    let buckets = |p: &Obj<'_>,
                   key: &str|
     -> R<Option<exponential_histogram_data_point::Buckets>> {
        p.child(key)?
            .map(|b| {
                let offset = b.i64("offset")?.unwrap_or(0);
                Ok(exponential_histogram_data_point::Buckets {
                    offset: i32::try_from(offset)
                        .map_err(|_| bad(&b.at("offset"), format!("{offset} is out of range")))?,
                    bucket_counts: b.u64_list("bucketCounts")?,
                })
            })
            .transpose()
    };
    o.objects("dataPoints")?
        .iter()
        .map(|p| {
            let scale = p.i64("scale")?.unwrap_or(0);
            Ok(ExponentialHistogramDataPoint {
                attributes: key_values(p, "attributes")?,
                start_time_unix_nano: p.u64("startTimeUnixNano")?,
                time_unix_nano: p.u64("timeUnixNano")?,
                count: p.u64("count")?,
                sum: p.f64("sum")?,
                scale: i32::try_from(scale)
                    .map_err(|_| bad(&p.at("scale"), format!("{scale} is out of range")))?,
                zero_count: p.u64("zeroCount")?,
                positive: buckets(p, "positive")?,
                negative: buckets(p, "negative")?,
                flags: p.u32("flags")?,
                exemplars: exemplars(p)?,
                min: p.f64("min")?,
                max: p.f64("max")?,
                zero_threshold: p.f64("zeroThreshold")?.unwrap_or(0.0),
            })
        })
        .collect()
}

fn summary_points(o: &Obj<'_>) -> R<Vec<SummaryDataPoint>> {
    o.objects("dataPoints")?
        .iter()
        .map(|p| {
            Ok(SummaryDataPoint {
                attributes: key_values(p, "attributes")?,
                start_time_unix_nano: p.u64("startTimeUnixNano")?,
                time_unix_nano: p.u64("timeUnixNano")?,
                count: p.u64("count")?,
                sum: p.f64("sum")?.unwrap_or(0.0),
                quantile_values: p
                    .objects("quantileValues")?
                    .iter()
                    .map(|q| {
                        Ok(summary_data_point::ValueAtQuantile {
                            quantile: q.f64("quantile")?.unwrap_or(0.0),
                            value: q.f64("value")?.unwrap_or(0.0),
                        })
                    })
                    .collect::<R<Vec<_>>>()?,
                flags: p.u32("flags")?,
            })
        })
        .collect()
}

fn metric_of(m: &Obj<'_>) -> R<Metric> {
    let data = if let Some(g) = m.child("gauge")? {
        Some(metric::Data::Gauge(Gauge {
            data_points: number_points(&g)?,
        }))
    } else if let Some(s) = m.child("sum")? {
        Some(metric::Data::Sum(Sum {
            data_points: number_points(&s)?,
            aggregation_temporality: temporality(&s)?,
            is_monotonic: s.boolean("isMonotonic")?,
        }))
    } else if let Some(h) = m.child("histogram")? {
        Some(metric::Data::Histogram(Histogram {
            data_points: histogram_points(&h)?,
            aggregation_temporality: temporality(&h)?,
        }))
    } else if let Some(h) = m.child("exponentialHistogram")? {
        Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: exponential_points(&h)?,
            aggregation_temporality: temporality(&h)?,
        }))
    } else if let Some(s) = m.child("summary")? {
        Some(metric::Data::Summary(Summary {
            data_points: summary_points(&s)?,
        }))
    } else {
        None
    };
    Ok(Metric {
        name: m.string("name")?,
        description: m.string("description")?,
        unit: m.string("unit")?,
        metadata: key_values(m, "metadata")?,
        data,
    })
}

/// Decodes an `ExportMetricsServiceRequest` in OTLP JSON.
pub fn decode_metrics(body: &[u8]) -> R<ExportMetricsServiceRequest> {
    let v = root(body)?;
    let top = obj(&v, "request".into())?;
    let mut resource_metrics = Vec::new();
    for rm in top.objects("resourceMetrics")? {
        let mut scope_metrics = Vec::new();
        for sm in rm.objects("scopeMetrics")? {
            let metrics = sm
                .objects("metrics")?
                .iter()
                .map(metric_of)
                .collect::<R<Vec<_>>>()?;
            scope_metrics.push(ScopeMetrics {
                scope: scope(&sm)?,
                metrics,
                schema_url: sm.string("schemaUrl")?,
            });
        }
        resource_metrics.push(ResourceMetrics {
            resource: resource(&rm)?,
            scope_metrics,
            schema_url: rm.string("schemaUrl")?,
        });
    }
    Ok(ExportMetricsServiceRequest { resource_metrics })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_decode_in_camel_and_snake_case_with_hex_ids_and_enum_names() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"checkout"}}]},
          "scope_spans":[{"scope":{"name":"lib","version":"1"},"spans":[{
            "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174",
            "parentSpanId":"","name":"GET /cart","kind":"SPAN_KIND_SERVER",
            "startTimeUnixNano":"1544712660000000000","end_time_unix_nano":1544712661000000000,
            "attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"d","value":{"doubleValue":"NaN"}},
              {"key":"a","value":{"arrayValue":{}}},{"key":"b","value":{"bytesValue":"AQI="}}],
            "events":[{"timeUnixNano":"1544712660300000000","name":"retry"}],
            "status":{"code":2,"message":"boom"},"unknownField":true}]}]}]}"#;
        let req = decode_traces(body).expect("decodes");
        let s = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(s.trace_id[0], 0x5b);
        assert_eq!(s.trace_id.len(), 16);
        assert_eq!(s.span_id.len(), 8);
        assert!(s.parent_span_id.is_empty());
        assert_eq!(s.kind, span::SpanKind::Server as i32);
        assert_eq!(s.end_time_unix_nano - s.start_time_unix_nano, 1_000_000_000);
        assert_eq!(
            s.attributes[0].value,
            Some(AnyValue {
                value: Some(any_value::Value::IntValue(42))
            })
        );
        assert!(matches!(
            s.attributes[1].value.as_ref().and_then(|v| v.value.clone()),
            Some(any_value::Value::DoubleValue(f)) if f.is_nan()
        ));
        assert_eq!(
            s.attributes[3].value.as_ref().and_then(|v| v.value.clone()),
            Some(any_value::Value::BytesValue(vec![1, 2]))
        );
        assert_eq!(s.status.as_ref().map(|st| st.code), Some(2));
        assert_eq!(s.events[0].name, "retry");
        assert_eq!(
            req.resource_spans[0].scope_spans[0]
                .scope
                .as_ref()
                .map(|x| x.name.as_str()),
            Some("lib")
        );
    }

    #[test]
    fn metrics_and_logs_decode() {
        let body = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
            {"name":"c","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,
              "dataPoints":[{"asInt":"7","timeUnixNano":"1"}]}},
            {"name":"h","histogram":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE",
              "dataPoints":[{"count":"3","sum":1.5,"bucketCounts":["1",2],"explicitBounds":[1],"timeUnixNano":"2"}]}}]}]}]}"#;
        let req = decode_metrics(body).expect("decodes");
        let ms = &req.resource_metrics[0].scope_metrics[0].metrics;
        match &ms[0].data {
            Some(metric::Data::Sum(s)) => {
                assert!(s.is_monotonic);
                assert_eq!(
                    s.data_points[0].value,
                    Some(number_data_point::Value::AsInt(7))
                );
            }
            other => panic!("{other:?}"),
        }
        match &ms[1].data {
            Some(metric::Data::Histogram(h)) => {
                assert_eq!(h.aggregation_temporality, 2);
                assert_eq!(h.data_points[0].bucket_counts, [1, 2]);
            }
            other => panic!("{other:?}"),
        }
        let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"5",
            "severityNumber":"SEVERITY_NUMBER_ERROR","severityText":"ERROR",
            "body":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":true}}]}},
            "traceId":"","spanId":"0102030405060708"}]}]}]}"#;
        let req = decode_logs(body).expect("decodes");
        let r = &req.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(r.severity_number, 17);
        assert_eq!(r.span_id, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(decode_logs(b"{}").expect("empty").resource_logs.is_empty());
    }

    #[test]
    fn bad_values_name_their_path() {
        for (body, want) in [
            (
                &br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc"}]}]}]}"#[..],
                "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits",
            ),
            (
                br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}"#,
                "spans[0].kind: unknown value",
            ),
            (
                br#"{"resourceSpans":{}}"#,
                "request.resourceSpans: expected an array",
            ),
            (
                br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"-1"}]}]}]}"#,
                "logRecords[0].timeUnixNano: expected an unsigned integer",
            ),
            (
                r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"aéééééééééééééééa"}]}]}]}"#.as_bytes(),
                "traceId: expected 32 hex digits",
            ),
            (
                br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"+a+a+a+a+a+a+a+a"}]}]}]}"#,
                "spanId: expected 16 hex digits",
            ),
            (br#"[1]"#, "request: expected an object"),
            (br#"{"#, "JSON:"),
        ] {
            let got = decode_traces(body)
                .map(|_| ())
                .and_then(|_| decode_logs(body).map(|_| ()));
            let msg = got.expect_err("refused").to_string();
            assert!(msg.contains(want), "{msg} should contain {want}");
        }
    }
}
