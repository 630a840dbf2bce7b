//! Randomized isolation of trace reads: four workspaces with the same
//! services, names and attribute keys, half flushed to the archive, and
//! random searches, tag look-ups and reads by id (other workspaces' ids
//! included).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Rng, TENANTS, name};
use crate::harness::{Server, Tenant, get, now_ms};

/// Tenant `i`'s spans: the same services, names and attribute keys as
/// every other tenant's, trace ids of its own (`[16 i + k + 1; 16]`), an
/// `owner` attribute with its own name and a `tenant` attribute naming
/// another; `batch` 0 is the older half, 1 the newer.
fn trace_export(i: usize, t0_ns: i64, batch: u8) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
    use prost::Message;
    let kv = |k: &str, v: String| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
        ..Default::default()
    };
    let me = name(i);
    let other = name((i + 1) % TENANTS);
    let resource_spans = ["checkout", "billing"]
        .iter()
        .enumerate()
        .map(|(si, svc)| ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", svc.to_string()), kv("owner", me.clone())],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: (0..3u8)
                    .map(|k| {
                        let trace = (16 * i) as u8 + 4 * batch + k + 1;
                        let start = t0_ns + i64::from(k) * 1_000_000_000 + si as i64;
                        Span {
                            trace_id: vec![trace; 16],
                            span_id: vec![trace, si as u8 + 1, 0, 0, 0, 0, 0, 1],
                            parent_span_id: if si == 0 {
                                Vec::new()
                            } else {
                                vec![trace, 1, 0, 0, 0, 0, 0, 1]
                            },
                            name: format!("GET /{svc}"),
                            kind: 2,
                            start_time_unix_nano: start as u64,
                            end_time_unix_nano: (start + 1_000_000 * (i as i64 + 1)) as u64,
                            attributes: vec![
                                kv("owner", me.clone()),
                                kv("tenant", other.clone()),
                                kv(&format!("only.{me}"), "1".into()),
                            ],
                            status: Some(Status {
                                code: i32::from(k % 3),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }.encode_to_vec()
}

async fn push_traces(url: &str, token: &str, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .post(format!("{url}/v1/traces"))
        .bearer_auth(token)
        .header("Content-Type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

/// Whether a hex trace id (possibly trimmed) is one of tenant `i`'s.
fn own_trace(i: usize, id: &str) -> bool {
    let full = format!("{id:0>32}");
    let b = u8::from_str_radix(&full[..2], 16).expect("hex");
    full == format!("{b:02x}").repeat(16) && (b as usize - 1) / 16 == i
}

/// Every string in the answer: no other tenant's name may be among them,
/// but as the value of a `tenant` attribute.
fn foreign_text(i: usize, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            for j in (0..TENANTS).filter(|&j| j != i) {
                if s.contains(&format!("only.{}", name(j))) || s == &name(j) {
                    out.push(s.clone());
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| foreign_text(i, x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                // A `tenant` attribute names another tenant by design.
                if o.get("key").and_then(Value::as_str) == Some("tenant") && k == "value" {
                    continue;
                }
                foreign_text(i, x, out);
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn random_trace_reads_never_see_another_workspace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &["--flush-interval-secs", "1"]);
    let tenants: Vec<Tenant> = (0..TENANTS).map(|i| srv.tenant(&name(i))).collect();
    let t0 = (now_ms() - 20 * 60_000) * 1_000_000;
    // The older half is flushed to the archive, the newer stays in the head.
    for (i, t) in tenants.iter().enumerate() {
        assert_eq!(
            push_traces(&srv.url, &t.ingest, trace_export(i, t0, 0)).await,
            200
        );
    }
    let archive = srv.data_dir.join("archive");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(0..TENANTS).all(|i| {
        archive
            .join(format!("tenant={}/signal=traces", name(i)))
            .exists()
    }) {
        assert!(Instant::now() < deadline, "no archive flush");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (i, t) in tenants.iter().enumerate() {
        assert_eq!(
            push_traces(&srv.url, &t.ingest, trace_export(i, t0 + 60_000_000_000, 1)).await,
            200
        );
    }
    let secs = |ns: i64| (ns / 1_000_000_000).to_string();
    let (from, to) = (secs(t0 - 60_000_000_000), secs(t0 + 600_000_000_000));
    let mut r = Rng(0x7ace_5eed);
    let fields = [
        "resource.service.name",
        ".owner",
        "span.tenant",
        "name",
        "status",
        "duration",
        "rootServiceName",
    ];
    let values = [
        "\"checkout\"",
        "\"t0\"",
        "\"t1\"",
        "\"GET /billing\"",
        "error",
        "ok",
        "1ms",
        "3ms",
    ];
    let ops = ["=", "!=", ">", "<=", "=~"];
    let mut checked = 0;
    for _ in 0..600 {
        let i = r.below(TENANTS);
        let tok = &tenants[i].report;
        let w = [("start", from.as_str()), ("end", to.as_str())];
        let (path, params): (String, Vec<(String, String)>) = match r.below(6) {
            0 | 1 => {
                let mut conds = Vec::new();
                for _ in 0..=r.below(2) {
                    conds.push(format!(
                        "{} {} {}",
                        r.pick(&fields),
                        r.pick(&ops),
                        r.pick(&values)
                    ));
                }
                let q = format!(
                    "{{ {} }}",
                    conds.join(if r.below(2) == 0 { " && " } else { " || " })
                );
                (
                    "/api/search".into(),
                    vec![("q".into(), q), ("limit".into(), "100".into())],
                )
            }
            2 => {
                let tags = format!("owner={} service.name=checkout", name(r.below(TENANTS)));
                ("/api/search".into(), vec![("tags".into(), tags)])
            }
            3 => {
                let j = r.below(TENANTS);
                let id = format!("{:02x}", 16 * j + r.below(8) + 1).repeat(16);
                (format!("/api/traces/{id}"), Vec::new())
            }
            4 => {
                let tag = r.pick(&[
                    "resource.owner",
                    ".tenant",
                    "span.owner",
                    "name",
                    ".only.t1",
                ]);
                (format!("/api/v2/search/tag/{tag}/values"), Vec::new())
            }
            _ => (
                r.pick(&[
                    "/api/search/tags",
                    "/api/v2/search/tags",
                    "/api/search/tag/owner/values",
                ])
                .to_string(),
                Vec::new(),
            ),
        };
        let mut q: Vec<(&str, &str)> = w.to_vec();
        q.extend(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let (st, v) = get(&srv.url, tok, &q, &path).await;
        if path.starts_with("/api/traces/") {
            let id = path.trim_start_matches("/api/traces/");
            let mine = own_trace(i, id);
            // Offsets 1-3 (older half) and 5-7 (newer) exist; 4 and 8 not.
            let offset = u8::from_str_radix(&id[..2], 16).expect("hex") as usize % 16;
            let exists = offset != 4 && offset != 8 && offset != 0;
            assert_eq!(
                st,
                if mine && exists { 200 } else { 404 },
                "{i} {path}: {v}"
            );
        } else {
            assert!(st == 200 || st == 400, "{i} {path} {q:?}: {st} {v}");
        }
        if st != 200 {
            continue;
        }
        checked += 1;
        for t in v["traces"].as_array().into_iter().flatten() {
            let id = t["traceID"].as_str().expect("traceID");
            assert!(own_trace(i, id), "{i} {q:?}: foreign trace {id}");
        }
        if path.contains("/.tenant/") {
            // The `tenant` attribute names the next tenant, and only that.
            let next = name((i + 1) % TENANTS);
            for x in v["tagValues"].as_array().expect("values") {
                assert_eq!(x["value"], next.as_str(), "{i}: {v}");
            }
            continue;
        }
        let mut bad = Vec::new();
        foreign_text(i, &v, &mut bad);
        assert!(bad.is_empty(), "{i} {path} {q:?}: {bad:?} in {v}");
    }
    assert!(checked > 400, "{checked} answers");
    // Every tenant finds all six of its traces, from both tiers.
    for (i, t) in tenants.iter().enumerate() {
        let (st, v) = get(
            &srv.url,
            &t.report,
            &[
                ("start", from.as_str()),
                ("end", to.as_str()),
                ("q", "{}"),
                ("limit", "100"),
            ],
            "/api/search",
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["traces"].as_array().map(Vec::len), Some(6), "{i}: {v}");
    }
}
