//! Traces end to end: spans sent by the OpenTelemetry Python SDK's own
//! OTLP exporters (gRPC with gzip, and HTTP/protobuf), read back through
//! the trace API as Grafana's Tempo data source reads them (by id in JSON
//! and protobuf, search with TraceQL and tags, tag names and values), the
//! log written inside a span found by its trace id with LogQL, and all of
//! it in the sender's workspace only.

use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;
use serde_json::{Value, json};

use crate::harness::{Server, Tenant, get, now_ms};
use crate::otlp::sdk;

/// A trace of two spans (a server span and its client child, which
/// failed), with an event, a sensitive attribute and a log inside the
/// child; and an up-down counter beside it.
pub(crate) fn trace_spec(service: &str) -> Value {
    json!({
        "resource": {"service.name": service, "service.namespace": "shop"},
        "timeout_s": 5,
        "spans": [{
            "name": "GET /cart", "kind": "server", "duration_ms": 120, "status": "ok",
            "attributes": {"http.route": "/cart", "http.status_code": 200,
                           "db.password": "hunter2"},
            "events": [{"name": "cache.miss", "offset_ms": 5, "attributes": {"key": "k1"}}],
            "children": [{
                "name": "SELECT cart", "kind": "client", "duration_ms": 40,
                "status": "error", "status_message": "timeout",
                "attributes": {"db.rows": 2.5}
            }]
        }],
        "metrics": [{"type": "updown", "name": "queue.size",
                     "points": [{"value": 5}, {"value": -2}]}],
        "logs": [{"body": "querying the cart", "level": "WARNING", "in_span": "SELECT cart"}]
    })
}

fn attr<'a>(attrs: &'a Value, key: &str) -> &'a Value {
    attrs
        .as_array()
        .and_then(|a| a.iter().find(|kv| kv["key"] == key))
        .map_or(&Value::Null, |kv| &kv["value"])
}

async fn raw_get(url: &str, token: &str, path: &str, accept: &str) -> (u16, Vec<u8>) {
    let resp = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .header("accept", accept)
        .send()
        .await
        .expect("get");
    let st = resp.status().as_u16();
    (st, resp.bytes().await.expect("body").to_vec())
}

/// Everything the trace API answers about the trace `out` (the SDK
/// client's output) sent for `service` by tenant `a`, and nothing of it
/// to tenant `b`.
pub(crate) async fn check_trace(srv: &Server, a: &Tenant, b: &Tenant, service: &str, out: &Value) {
    assert_eq!(out["spans"], "SUCCESS", "{out}");
    let trace_id = out["trace_ids"]["GET /cart"].as_str().expect("trace id");
    let root_id = out["span_ids"]["GET /cart"].as_str().expect("span id");
    let child_id = out["span_ids"]["SELECT cart"].as_str().expect("span id");
    let path = format!("/api/traces/{trace_id}");

    // By id, OTLP JSON under `batches`: every field as sent, but for the
    // redacted attribute.
    let (st, v) = get(&srv.url, &a.report, &[], &path).await;
    assert_eq!(st, 200, "{v}");
    let batches = v["batches"].as_array().expect("batches");
    assert_eq!(batches.len(), 1, "one resource: {v}");
    let res = &batches[0]["resource"]["attributes"];
    assert_eq!(attr(res, "service.name")["stringValue"], service);
    assert_eq!(attr(res, "telemetry.sdk.language")["stringValue"], "python");
    let scope = &batches[0]["scopeSpans"][0];
    assert_eq!(scope["scope"]["name"], "sightline.test");
    assert_eq!(scope["scope"]["version"], "1.0");
    let spans = scope["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 2, "{v}");
    let root = &spans[0];
    let child = &spans[1];
    assert_eq!(root["name"], "GET /cart", "in start order");
    assert_eq!(root["traceId"], trace_id);
    assert_eq!(root["spanId"], root_id);
    assert!(root.get("parentSpanId").is_none(), "{root}");
    assert_eq!(root["kind"], 2);
    assert_eq!(root["status"]["code"], 1);
    let start: u64 = root["startTimeUnixNano"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("start");
    let end: u64 = root["endTimeUnixNano"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("end");
    assert_eq!(end - start, 120_000_000);
    assert_eq!(
        attr(&root["attributes"], "http.route")["stringValue"],
        "/cart"
    );
    assert_eq!(
        attr(&root["attributes"], "http.status_code")["intValue"],
        "200"
    );
    assert_eq!(
        attr(&root["attributes"], "db.password")["stringValue"],
        "[REDACTED]"
    );
    assert_eq!(root["events"][0]["name"], "cache.miss");
    assert_eq!(
        attr(&root["events"][0]["attributes"], "key")["stringValue"],
        "k1"
    );
    assert_eq!(child["spanId"], child_id);
    assert_eq!(child["parentSpanId"], root_id);
    assert_eq!(child["kind"], 3);
    assert_eq!(child["status"], json!({"code": 2, "message": "timeout"}));
    assert_eq!(attr(&child["attributes"], "db.rows")["doubleValue"], 2.5);

    // The same trace in protobuf, as Grafana asks for it, on both paths.
    for p in [path.clone(), format!("/api/v2/traces/{trace_id}")] {
        let (st, body) = raw_get(&srv.url, &a.report, &p, "application/protobuf").await;
        assert_eq!(st, 200, "{p}");
        let rs = if p.contains("/v2/") {
            // TraceByIDResponse: the trace is field 1, a TracesData.
            #[derive(Clone, PartialEq, prost::Message)]
            struct ById {
                #[prost(message, optional, tag = "1")]
                trace: Option<TracesData>,
            }
            ById::decode(body.as_slice())
                .expect("TraceByIDResponse")
                .trace
                .expect("trace")
                .resource_spans
        } else {
            TracesData::decode(body.as_slice())
                .expect("Trace")
                .resource_spans
        };
        let ids: Vec<String> = rs
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .map(|s| sightline_core::span::hex(&s.span_id))
            .collect();
        assert_eq!(ids, [root_id, child_id], "{p}");
    }
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[],
        &format!("/api/v2/traces/{trace_id}"),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["spanId"],
        child_id
    );

    // Search: TraceQL, legacy tags, durations.
    let secs = (now_ms() / 1000).to_string();
    let from = (now_ms() / 1000 - 600).to_string();
    let window = [("start", from.as_str()), ("end", secs.as_str())];
    let search = |params: Vec<(&'static str, String)>, tok: String| {
        let url = srv.url.clone();
        let window: Vec<(String, String)> = window
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        async move {
            let mut all: Vec<(String, String)> = window;
            all.extend(params.into_iter().map(|(k, v)| (k.to_string(), v)));
            let q: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let (st, v) = get(&url, &tok, &q, "/api/search").await;
            assert_eq!(st, 200, "{q:?}: {v}");
            v["traces"].as_array().expect("traces").clone()
        }
    };
    let q = format!(r#"{{ resource.service.name = "{service}" && status = error }}"#);
    let found = search(vec![("q", q.clone())], a.report.clone()).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let t = &found[0];
    assert_eq!(t["traceID"], trace_id.trim_start_matches('0'));
    assert_eq!(t["rootServiceName"], service);
    assert_eq!(t["rootTraceName"], "GET /cart");
    assert_eq!(t["durationMs"], 120);
    assert_eq!(t["startTimeUnixNano"], start.to_string());
    assert_eq!(t["spanSets"][0]["matched"], 1);
    assert_eq!(t["spanSets"][0]["spans"][0]["spanID"], child_id);
    assert_eq!(t["spanSets"][0]["spans"][0]["durationNanos"], "40000000");
    assert_eq!(
        t["serviceStats"][service],
        json!({"spanCount": 2, "errorCount": 1})
    );
    let q = format!(
        r#"{{ resource.service.name = "{service}" && span.http.status_code >= 200 }} | select(span.http.route)"#
    );
    let found = search(vec![("q", q)], a.report.clone()).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let attrs = &found[0]["spanSets"][0]["spans"][0]["attributes"];
    assert_eq!(attr(attrs, "http.status_code")["intValue"], "200");
    assert_eq!(attr(attrs, "http.route")["stringValue"], "/cart");
    let tags = format!("service.name={service} http.route=/cart");
    assert_eq!(
        search(vec![("tags", tags.clone())], a.report.clone())
            .await
            .len(),
        1
    );
    let longer = vec![("tags", tags), ("minDuration", "1s".to_string())];
    assert!(search(longer, a.report.clone()).await.is_empty());
    // A query the search does not answer is refused, not guessed.
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("q", "{ kind = server } >> { kind = client }")],
        "/api/search",
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert!(v.as_str().unwrap_or("").contains("'>>'"), "{v}");

    // Tags and values.
    let (st, v) = get(&srv.url, &a.report, &window, "/api/v2/search/tags").await;
    assert_eq!(st, 200, "{v}");
    let scope_tags = |name: &str| -> Vec<String> {
        v["scopes"]
            .as_array()
            .and_then(|s| s.iter().find(|x| x["name"] == name))
            .and_then(|x| x["tags"].as_array())
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        scope_tags("resource").contains(&"service.name".to_string()),
        "{v}"
    );
    assert!(
        scope_tags("span").contains(&"http.route".to_string()),
        "{v}"
    );
    assert!(
        scope_tags("intrinsic").contains(&"duration".to_string()),
        "{v}"
    );
    let (st, v) = get(
        &srv.url,
        &a.report,
        &window,
        "/api/v2/search/tag/span.http.status_code/values",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["tagValues"], json!([{"type": "int", "value": "200"}]));
    let (st, v) = get(
        &srv.url,
        &a.report,
        &window,
        "/api/search/tag/service.name/values",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert!(
        v["tagValues"]
            .as_array()
            .expect("values")
            .contains(&json!(service)),
        "{v}"
    );

    // The log written inside the child span carries its ids.
    let start_ns = ((now_ms() - 600_000) * 1_000_000).to_string();
    let q = format!(r#"{{service_name="{service}"}} | trace_id="{trace_id}""#);
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("query", q.as_str()), ("start", start_ns.as_str())],
        "/loki/api/v1/query_range",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let stream = &v["data"]["result"][0];
    assert_eq!(stream["values"][0][1], "querying the cart", "{v}");
    assert_eq!(stream["stream"]["span_id"], child_id);

    // The other workspace: no trace, no search hit, no tag.
    let (st, _) = get(&srv.url, &b.report, &[], &path).await;
    assert_eq!(st, 404);
    let q = format!(r#"{{ resource.service.name = "{service}" }}"#);
    assert!(search(vec![("q", q)], b.report.clone()).await.is_empty());
    let (_, v) = get(
        &srv.url,
        &b.report,
        &window,
        "/api/search/tag/service.name/values",
    )
    .await;
    assert!(
        !v["tagValues"]
            .as_array()
            .expect("values")
            .contains(&json!(service)),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn traces_from_the_sdk_over_grpc_and_http_read_back_through_the_trace_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    for (protocol, endpoint, gzip) in [
        ("grpc", srv.grpc_url.clone(), true),
        ("http", srv.url.clone(), false),
    ] {
        let service = format!("cart-{protocol}");
        let out = sdk(&endpoint, protocol, &a.ingest, gzip, &trace_spec(&service));
        assert_eq!(out["metrics"], "SUCCESS", "{out}");
        assert_eq!(out["logs"], "SUCCESS", "{out}");
        check_trace(&srv, &a, &b, &service, &out).await;
        // The up-down counter is a gauge, without `_total`.
        let q = format!(r#"queue_size{{job="shop/{service}"}}"#);
        let (st, v) = get(
            &srv.url,
            &a.report,
            &[("query", q.as_str())],
            "/api/v1/query",
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["data"]["result"][0]["value"][1], "3", "{v}");
    }

    // The doors' answers to what is not a trace API read.
    let (st, v) = get(&srv.url, &a.report, &[], "/api/echo").await;
    assert_eq!((st, v), (200, Value::String("echo\n".into())));
    let (st, v) = get(&srv.url, &a.report, &[], "/api/status/buildinfo").await;
    assert_eq!(st, 200);
    assert_eq!(v["version"], "2.1.0");
    let (st, _) = get(&srv.url, &a.ingest, &[], "/api/search").await;
    assert_eq!(st, 403, "an ingest token does not read");
    let (st, _) = get(&srv.url, "", &[], "/api/search").await;
    assert_eq!(st, 401);
    for (id, want) in [("abc", 404), ("xyz", 400), (&"a".repeat(33) as &str, 400)] {
        let (st, v) = get(&srv.url, &a.report, &[], &format!("/api/traces/{id}")).await;
        assert_eq!(st, want, "{id}: {v}");
        let (st, v) = get(&srv.url, &a.report, &[], &format!("/api/v2/traces/{id}")).await;
        assert_eq!(st, want, "v2 {id}: {v}");
    }
    for (params, says) in [
        (vec![("q", "{}"), ("tags", "a=b")], "both"),
        (vec![("limit", "0")], "limit"),
        (
            vec![("minDuration", "2s"), ("maxDuration", "1s")],
            "maxDuration",
        ),
        (vec![("start", "20"), ("end", "10")], "before end"),
        (vec![("q", "{ status = 2 }")], "ok, error or unset"),
    ] {
        let (st, v) = get(&srv.url, &a.report, &params, "/api/search").await;
        assert_eq!(st, 400, "{params:?}: {v}");
        assert!(v.as_str().unwrap_or("").contains(says), "{params:?}: {v}");
    }
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[],
        "/api/v2/search/tag/http.route/values",
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert!(v.as_str().unwrap_or("").contains("valid tagName"), "{v}");
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("scope", "bogus")],
        "/api/search/tags",
    )
    .await;
    assert_eq!(st, 400, "{v}");
}

/// Two workspaces send spans of the same trace ids, with attributes naming
/// each other's workspace: each sees only its own spans on every trace
/// read path.
#[tokio::test(flavor = "multi_thread")]
async fn two_workspaces_with_the_same_trace_ids_each_see_only_their_own() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let kv = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    };
    let now_ns = now_ms() * 1_000_000;
    let trace_id = [7u8; 16];
    // alpha sends two spans, beta three, of the same trace; each names the
    // other as owner in an attribute, and itself in another.
    for (tenant, me, other, n) in [(&a, "alpha", "beta", 2u8), (&b, "beta", "alpha", 3u8)] {
        let spans = (0..n)
            .map(|i| Span {
                trace_id: trace_id.to_vec(),
                span_id: vec![i + 1; 8],
                parent_span_id: if i == 0 { Vec::new() } else { vec![1; 8] },
                name: format!("op-{i}"),
                kind: 2,
                start_time_unix_nano: (now_ns - 10_000_000 + i64::from(i)) as u64,
                end_time_unix_nano: (now_ns - 5_000_000) as u64,
                attributes: vec![kv("owner", me), kv("workspace", other)],
                ..Default::default()
            })
            .collect();
        let body = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", "shared"), kv("tenant", other)],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/traces", srv.url))
            .bearer_auth(&tenant.ingest)
            .header("Content-Type", "application/x-protobuf")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status().as_u16(), 200);
    }
    let id = sightline_core::span::hex(&trace_id);
    let from = (now_ms() / 1000 - 600).to_string();
    let to = (now_ms() / 1000 + 1).to_string();
    let window = [("start", from.as_str()), ("end", to.as_str())];
    for (tenant, me, other, n) in [(&a, "alpha", "beta", 2usize), (&b, "beta", "alpha", 3usize)] {
        // By id, in JSON and in protobuf.
        let (st, v) = get(&srv.url, &tenant.report, &[], &format!("/api/traces/{id}")).await;
        assert_eq!(st, 200, "{v}");
        let spans = v["batches"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .expect("spans")
            .clone();
        assert_eq!(spans.len(), n, "{me}: {v}");
        assert_eq!(v["batches"].as_array().map(Vec::len), Some(1), "{me}: {v}");
        for s in &spans {
            assert_eq!(
                attr(&s["attributes"], "owner")["stringValue"],
                me,
                "{me}: {s}"
            );
        }
        let (st, body) = raw_get(
            &srv.url,
            &tenant.report,
            &format!("/api/v2/traces/{id}"),
            "application/protobuf",
        )
        .await;
        assert_eq!(st, 200);
        #[derive(Clone, PartialEq, prost::Message)]
        struct ById {
            #[prost(message, optional, tag = "1")]
            trace: Option<TracesData>,
        }
        let t = ById::decode(body.as_slice())
            .expect("decodes")
            .trace
            .expect("trace");
        let count: usize = t
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        assert_eq!(count, n, "{me}");
        // Search: the trace with its own spans only; the other's owner
        // value matches nothing.
        let mut q: Vec<(&str, &str)> = window.to_vec();
        q.push(("q", "{}"));
        let (st, v) = get(&srv.url, &tenant.report, &q, "/api/search").await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["traces"].as_array().map(Vec::len), Some(1), "{me}: {v}");
        assert_eq!(v["traces"][0]["spanSets"][0]["matched"], n, "{me}: {v}");
        let theirs = format!(r#"{{ span.owner = "{other}" }}"#);
        let mut q: Vec<(&str, &str)> = window.to_vec();
        q.push(("q", theirs.as_str()));
        let (_, v) = get(&srv.url, &tenant.report, &q, "/api/search").await;
        assert_eq!(v["traces"], json!([]), "{me}: {v}");
        // Tag values: its own owner only.
        let (_, v) = get(
            &srv.url,
            &tenant.report,
            &window,
            "/api/v2/search/tag/span.owner/values",
        )
        .await;
        assert_eq!(
            v["tagValues"],
            json!([{"type": "string", "value": me}]),
            "{me}"
        );
    }
}

/// Spans past `--head-max-span-bytes` start a flush by themselves (the
/// interval is 15 minutes and nothing else is written): the span is then
/// in the archive, and still read by id.
#[tokio::test(flavor = "multi_thread")]
async fn spans_past_the_head_span_bytes_are_flushed() {
    use prost::Message;
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &["--head-max-span-bytes", "1"]);
    let a = srv.tenant("spanflush");
    let body = crate::otlp_refusals::spans(vec![crate::otlp_refusals::span(0x2a, "flushed")]);
    let st = reqwest::Client::new()
        .post(format!("{}/v1/traces", srv.url))
        .bearer_auth(&a.ingest)
        .header("Content-Type", "application/x-protobuf")
        .body(body.encode_to_vec())
        .send()
        .await
        .expect("post")
        .status();
    assert_eq!(st, 200);
    let traces = dir.path().join("archive/tenant=spanflush/signal=traces");
    let archived = || {
        std::fs::read_dir(&traces)
            .into_iter()
            .flatten()
            .flatten()
            .any(|d| {
                std::fs::read_dir(d.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|f| f.path().extension().is_some_and(|x| x == "parquet"))
            })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !archived() {
        assert!(
            std::time::Instant::now() < deadline,
            "no span flush within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let id = "2a".repeat(16);
    let (st, v) = get(&srv.url, &a.report, &[], &format!("/api/traces/{id}")).await;
    assert_eq!(st, 200, "{v}");
}
