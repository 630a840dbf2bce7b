//! OTLP log records into Loki streams, as Loki's own OTLP endpoint maps
//! them (`docs/otlp-semantics.md` §5): resource attributes of a list
//! (`service.name` → `service_name`, the Kubernetes and cloud names, ...)
//! become stream labels; every other attribute, of the resource, the scope
//! and the record, and the record's severity, trace and span ids, flags and
//! observed time become structured metadata. The body is the line (a map or
//! an array as JSON). Then Loki push's own checks apply: line size, age,
//! label limits, `service_name` discovery when there is no `service.name`.

use std::collections::BTreeMap;

use sightline_core::{Label, TenantId};

use super::proto::collector::logs::v1::ExportLogsServiceRequest;
use super::proto::common::v1::any_value::Value as AnyKind;
use super::proto::common::v1::{AnyValue, KeyValue};
use super::{Refused, hex_id, label_name, value_string};
use crate::error::IngestError;
use crate::loki_push::{Decoded, PushLimits, RawEntry, SERVICE_NAME_SOURCES, check_streams};

/// Loki's default list of resource attributes that become stream labels
/// (`-distributor.otlp.default_resource_attributes_as_index_labels`).
pub const DEFAULT_INDEX_ATTRIBUTES: [&str; 18] = [
    "service.name",
    "service.namespace",
    "service.instance.id",
    "deployment.environment",
    "deployment.environment.name",
    "cloud.region",
    "cloud.availability_zone",
    "k8s.cluster.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.container.name",
    "container.name",
    "k8s.replicaset.name",
    "k8s.deployment.name",
    "k8s.statefulset.name",
    "k8s.daemonset.name",
    "k8s.cronjob.name",
    "k8s.job.name",
];

/// Which resource attributes become stream labels.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub index_attributes: Vec<String>,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            index_attributes: DEFAULT_INDEX_ATTRIBUTES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// Attributes as (sanitised name, text) pairs, maps flattened into
/// `<name>_<key>` (as Loki flattens them), empty values left out.
fn flatten(attrs: &[KeyValue], out: &mut Vec<(String, String)>) {
    for kv in attrs {
        flatten_one(&kv.key, kv.value.as_ref(), out);
    }
}

fn flatten_one(key: &str, v: Option<&AnyValue>, out: &mut Vec<(String, String)>) {
    let Some(name) = label_name(key) else { return };
    if let Some(AnyKind::KvlistValue(kv)) = v.and_then(|v| v.value.as_ref()) {
        for child in &kv.values {
            flatten_one(&format!("{name}_{}", child.key), child.value.as_ref(), out);
        }
        return;
    }
    let text = value_string(v);
    if !text.is_empty() {
        out.push((name, text));
    }
}

/// Translates one request for `tenant` at `now_ns`: the batch to write,
/// and what Loki's checks refused (entries and messages); a malformed
/// request ([`super::validate::logs`]) is refused whole.
pub fn translate(
    tenant: &TenantId,
    req: ExportLogsServiceRequest,
    settings: &LogSettings,
    limits: &PushLimits,
    now_ns: i64,
) -> Result<(Decoded, Refused), IngestError> {
    super::validate::logs(&req)?;
    // Streams by their labels, in the order they first appear.
    let mut streams: Vec<(Vec<Label>, Vec<RawEntry>)> = Vec::new();
    let mut index: BTreeMap<Vec<(String, String)>, usize> = BTreeMap::new();
    let mut refused = Refused::default();
    for rl in req.resource_logs {
        let resource = rl.resource.map(|r| r.attributes).unwrap_or_default();
        let (indexed, rest): (Vec<&KeyValue>, Vec<&KeyValue>) = resource
            .iter()
            .partition(|kv| settings.index_attributes.contains(&kv.key));
        let mut labels: Vec<(String, String)> = Vec::new();
        flatten(
            &indexed.into_iter().cloned().collect::<Vec<_>>(),
            &mut labels,
        );
        let mut resource_md = Vec::new();
        flatten(
            &rest.into_iter().cloned().collect::<Vec<_>>(),
            &mut resource_md,
        );
        // The first value of a name wins.
        let mut seen = std::collections::HashSet::new();
        labels.retain(|(k, _)| seen.insert(k.clone()));
        // Without `service.name`, Loki takes the first of its candidate
        // index labels, else `unknown_service`.
        if limits.discover_service_name && !labels.iter().any(|(k, _)| k == "service_name") {
            let found = SERVICE_NAME_SOURCES
                .iter()
                .find_map(|c| labels.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone()));
            labels.push((
                "service_name".into(),
                found.unwrap_or_else(|| "unknown_service".into()),
            ));
        }
        labels.sort();
        let slot = match index.get(&labels) {
            Some(&i) => i,
            None => {
                index.insert(labels.clone(), streams.len());
                let ls = labels
                    .iter()
                    .map(|(name, value)| Label {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect();
                streams.push((ls, Vec::new()));
                streams.len() - 1
            }
        };
        for sl in rl.scope_logs {
            let mut scope_md = Vec::new();
            if let Some(scope) = &sl.scope {
                flatten(&scope.attributes, &mut scope_md);
                if !scope.name.is_empty() {
                    scope_md.push(("scope_name".into(), scope.name.clone()));
                }
                if !scope.version.is_empty() {
                    scope_md.push(("scope_version".into(), scope.version.clone()));
                }
                if scope.dropped_attributes_count != 0 {
                    scope_md.push((
                        "scope_dropped_attributes_count".into(),
                        scope.dropped_attributes_count.to_string(),
                    ));
                }
            }
            for r in sl.log_records {
                let mut md = Vec::new();
                let event_name = &r.event_name;
                for kv in &r.attributes {
                    if kv.key == "event_name" && !event_name.is_empty() {
                        continue;
                    }
                    flatten_one(&kv.key, kv.value.as_ref(), &mut md);
                }
                if r.time_unix_nano != 0 && r.observed_time_unix_nano != 0 {
                    md.push((
                        "observed_timestamp".into(),
                        r.observed_time_unix_nano.to_string(),
                    ));
                }
                if r.severity_number != 0 {
                    md.push(("severity_number".into(), r.severity_number.to_string()));
                }
                if !r.severity_text.is_empty() {
                    md.push(("severity_text".into(), r.severity_text.clone()));
                }
                if r.dropped_attributes_count != 0 {
                    md.push((
                        "dropped_attributes_count".into(),
                        r.dropped_attributes_count.to_string(),
                    ));
                }
                if r.flags != 0 {
                    md.push(("flags".into(), r.flags.to_string()));
                }
                let trace = hex_id(&r.trace_id);
                if !trace.is_empty() {
                    md.push(("trace_id".into(), trace));
                }
                let span = hex_id(&r.span_id);
                if !span.is_empty() {
                    md.push(("span_id".into(), span));
                }
                if !event_name.is_empty() {
                    md.push(("event_name".into(), event_name.clone()));
                }
                md.extend(resource_md.iter().cloned());
                md.extend(scope_md.iter().cloned());
                // The first value of a name wins, as in Loki's order.
                let mut seen = std::collections::HashSet::new();
                md.retain(|(k, _)| seen.insert(k.clone()));
                let ts = [r.time_unix_nano, r.observed_time_unix_nano]
                    .into_iter()
                    .find(|&t| t != 0)
                    .map_or(Some(now_ns), super::unix_nanos);
                let Some(ts_ns) = ts else {
                    refused.add(1, "a log record's time is past the year 2262");
                    continue;
                };
                streams[slot].1.push(RawEntry {
                    ts_ns,
                    line: value_string(r.body.as_ref()),
                    metadata: md,
                });
            }
        }
    }
    let decoded = check_streams(tenant, streams, limits, now_ns);
    refused.count += decoded.refused_entries as u64;
    for msg in &decoded.refused {
        refused.note(msg);
    }
    Ok((decoded, refused))
}

#[cfg(test)]
mod tests {
    use super::super::proto::common::v1::{InstrumentationScope, KeyValueList};
    use super::super::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use super::super::proto::resource::v1::Resource;
    use super::*;

    fn s(v: &str) -> Option<AnyValue> {
        Some(AnyValue {
            value: Some(AnyKind::StringValue(v.into())),
        })
    }

    fn kv(k: &str, v: Option<AnyValue>) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: v,
            ..Default::default()
        }
    }

    const NOW: i64 = 1_700_000_000_000_000_000;

    #[test]
    fn records_map_as_lokis_otlp_endpoint_maps_them() {
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", s("checkout")),
                        kv("k8s.pod.name", s("p-1")),
                        kv("host.name", s("h1")),
                    ],
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: "app.logger".into(),
                        version: "1.2".into(),
                        ..Default::default()
                    }),
                    log_records: vec![
                        LogRecord {
                            time_unix_nano: NOW as u64 - 5,
                            observed_time_unix_nano: NOW as u64 - 1,
                            severity_number: 17,
                            severity_text: "ERROR".into(),
                            body: s("payment failed"),
                            attributes: vec![
                                kv(
                                    "http.status_code",
                                    Some(AnyValue {
                                        value: Some(AnyKind::IntValue(502)),
                                    }),
                                ),
                                kv(
                                    "user",
                                    Some(AnyValue {
                                        value: Some(AnyKind::KvlistValue(KeyValueList {
                                            values: vec![kv("id", s("u7"))],
                                        })),
                                    }),
                                ),
                            ],
                            trace_id: vec![0xab; 16],
                            span_id: vec![0xcd; 8],
                            ..Default::default()
                        },
                        LogRecord {
                            observed_time_unix_nano: NOW as u64 - 2,
                            body: Some(AnyValue {
                                value: Some(AnyKind::KvlistValue(KeyValueList {
                                    values: vec![kv("b", s("2")), kv("a", s("1"))],
                                })),
                            }),
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let tenant = TenantId::new("t").expect("tenant");
        let (d, refused) = translate(
            &tenant,
            req,
            &LogSettings::default(),
            &PushLimits::default(),
            NOW,
        )
        .expect("well formed");
        assert_eq!(refused.count, 0, "{refused:?}");
        assert_eq!(d.batch.streams.len(), 1);
        let st = &d.batch.streams[0];
        assert_eq!(
            st.labels.to_string(),
            r#"{k8s_pod_name="p-1", service_name="checkout"}"#
        );
        let e = &st.entries[0];
        assert_eq!(e.ts_ns, NOW - 5);
        assert_eq!(e.line, "payment failed");
        assert_eq!(
            e.metadata.to_string(),
            format!(
                r#"{{host_name="h1", http_status_code="502", observed_timestamp="{}", scope_name="app.logger", scope_version="1.2", severity_number="17", severity_text="ERROR", span_id="{}", trace_id="{}", user_id="u7"}}"#,
                NOW - 1,
                "cd".repeat(8),
                "ab".repeat(16)
            )
        );
        let e = &st.entries[1];
        assert_eq!(e.ts_ns, NOW - 2, "the observed time when there is no time");
        assert_eq!(e.line, r#"{"a":"1","b":"2"}"#);
    }

    #[test]
    fn without_service_name_loki_discovers_one_or_says_unknown() {
        let req = |attrs: Vec<KeyValue>| ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: attrs,
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        time_unix_nano: NOW as u64,
                        body: s("x"),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let tenant = TenantId::new("t").expect("tenant");
        let labels = |r| {
            let (d, _) = translate(
                &tenant,
                r,
                &LogSettings::default(),
                &PushLimits::default(),
                NOW,
            )
            .expect("well formed");
            d.batch.streams[0].labels.to_string()
        };
        assert_eq!(
            labels(req(vec![kv("k8s.container.name", s("web"))])),
            r#"{k8s_container_name="web", service_name="web"}"#
        );
        assert_eq!(
            labels(req(vec![kv("host.name", s("h"))])),
            r#"{service_name="unknown_service"}"#
        );
        // Too old: refused alone, with Loki's message.
        let mut old = req(vec![kv("service.name", s("a"))]);
        old.resource_logs[0].scope_logs[0].log_records[0].time_unix_nano = 1;
        let (d, refused) = translate(
            &tenant,
            old,
            &LogSettings::default(),
            &PushLimits::default(),
            NOW,
        )
        .expect("well formed");
        assert!(d.batch.streams.is_empty());
        assert_eq!(refused.count, 1);
        assert!(
            refused.message().contains("timestamp too old"),
            "{}",
            refused.message()
        );
    }
}
