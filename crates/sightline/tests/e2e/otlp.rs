//! OTLP end to end: metrics and logs sent by the OpenTelemetry Python SDK's
//! own OTLP exporters (gRPC with gzip, and HTTP/protobuf), read back with
//! PromQL and LogQL in the sender's workspace only; the doors' refusals
//! (HTTP statuses with `google.rpc.Status` bodies, gRPC codes with
//! RetryInfo) and partial success for what is refused point by point.

use std::process::{Command, Stdio};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric,
    number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use serde_json::{Value, json};

use crate::harness::{Server, get, now_ms};

/// Runs the Python SDK's exporters with `spec` (see
/// scripts/otlp_test_client.py); returns what the client printed.
pub(crate) fn sdk(endpoint: &str, protocol: &str, token: &str, gzip: bool, spec: &Value) -> Value {
    let script = crate::harness::manifest_dir().join("../../scripts/otlp-test-client");
    let mut cmd = Command::new(script);
    cmd.args([
        "--endpoint",
        endpoint,
        "--protocol",
        protocol,
        "--token",
        token,
    ]);
    if gzip {
        cmd.arg("--gzip");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the OTLP test client");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(spec.to_string().as_bytes())
            .expect("write the spec");
    }
    let out = child.wait_with_output().expect("the OTLP test client");
    assert!(
        out.status.success(),
        "otlp-test-client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "client output {e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn spec(service: &str) -> Value {
    json!({
        "resource": {"service.name": service, "service.namespace": "shop",
                     "deployment.environment": "test"},
        "timeout_s": 5,
        "metrics": [
            {"type": "counter", "name": "http.server.requests", "unit": "{request}",
             "points": [{"attributes": {"http.route": "/cart"}, "value": 3},
                        {"attributes": {"http.route": "/pay"}, "value": 2}]},
            {"type": "histogram", "name": "http.server.duration", "unit": "ms",
             "boundaries": [10, 100],
             "points": [{"attributes": {"http.route": "/cart"}, "values": [5, 50, 500, 7]}]},
            {"type": "gauge", "name": "queue.depth", "points": [{"value": 4}]}
        ],
        "logs": [
            {"body": format!("payment failed in {service}"), "level": "ERROR",
             "attributes": {"order.id": "o-17"}},
            {"body": "all good", "level": "INFO"}
        ]
    })
}

async fn promql(srv: &Server, token: &str, q: &str) -> Vec<Value> {
    let (st, v) = get(&srv.url, token, &[("query", q)], "/api/v1/query").await;
    assert_eq!(st, 200, "{q}: {v}");
    v["data"]["result"].as_array().expect("result").clone()
}

fn value(r: &Value) -> f64 {
    r["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a value")
}

async fn logql(srv: &Server, token: &str, q: &str) -> Vec<(Value, String)> {
    let start = ((now_ms() - 600_000) * 1_000_000).to_string();
    let (st, v) = get(
        &srv.url,
        token,
        &[("query", q), ("start", &start)],
        "/loki/api/v1/query_range",
    )
    .await;
    assert_eq!(st, 200, "{q}: {v}");
    let mut out = Vec::new();
    for s in v["data"]["result"].as_array().expect("result") {
        for e in s["values"].as_array().expect("values") {
            out.push((
                s["stream"].clone(),
                e[1].as_str().expect("line").to_string(),
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_logs_from_the_sdk_over_grpc_and_http_stay_in_their_workspace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let sent = [
        ("grpc", srv.grpc_url.clone(), true),
        ("http", srv.url.clone(), false),
    ];
    for (protocol, endpoint, gzip) in &sent {
        let out = sdk(
            endpoint,
            protocol,
            &a.ingest,
            *gzip,
            &spec(&format!("cart-{protocol}")),
        );
        assert_eq!(out["metrics"], "SUCCESS", "{protocol}: {out}");
        assert_eq!(out["logs"], "SUCCESS", "{protocol}: {out}");
        // A token that is not an ingest token, and none at all: the
        // exporters fail (and do not retry: the codes are permanent).
        let out = sdk(endpoint, protocol, &a.report, false, &spec("x"));
        assert_eq!(out["metrics"], "FAILURE", "{protocol}: {out}");
        let out = sdk(endpoint, protocol, "sli_not_a_token", false, &spec("x"));
        assert_eq!(out["logs"], "FAILURE", "{protocol}: {out}");
    }
    for (protocol, _, _) in &sent {
        let job = format!("shop/cart-{protocol}");
        let r = promql(
            &srv,
            &a.report,
            &format!(r#"http_server_requests_total{{job="{job}"}}"#),
        )
        .await;
        let mut got: Vec<(String, f64)> = r
            .iter()
            .map(|s| {
                (
                    s["metric"]["http_route"]
                        .as_str()
                        .expect("route")
                        .to_string(),
                    value(s),
                )
            })
            .collect();
        got.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(
            got,
            [("/cart".to_string(), 3.0), ("/pay".to_string(), 2.0)],
            "{protocol}"
        );
        assert!(
            r.iter().all(|s| s["metric"]["instance"].is_string()),
            "{r:?}"
        );
        let buckets = promql(
            &srv,
            &a.report,
            &format!(r#"sum by (le) (http_server_duration_milliseconds_bucket{{job="{job}"}})"#),
        )
        .await;
        let mut b: Vec<(String, f64)> = buckets
            .iter()
            .map(|s| {
                (
                    s["metric"]["le"].as_str().expect("le").to_string(),
                    value(s),
                )
            })
            .collect();
        b.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(
            b,
            [
                ("+Inf".to_string(), 4.0),
                ("10".to_string(), 2.0),
                ("100".to_string(), 3.0)
            ]
        );
        let q = promql(
            &srv,
            &a.report,
            &format!(r#"histogram_quantile(0.5, sum by (le) (rate(http_server_duration_milliseconds_bucket{{job="{job}"}}[5m])))"#),
        )
        .await;
        assert!(q.len() <= 1, "{q:?}");
        let depth = promql(&srv, &a.report, &format!(r#"queue_depth{{job="{job}"}}"#)).await;
        assert_eq!(depth.iter().map(value).collect::<Vec<_>>(), [4.0]);
        let info = promql(&srv, &a.report, &format!(r#"target_info{{job="{job}"}}"#)).await;
        assert_eq!(info.len(), 1, "{info:?}");
        assert_eq!(info[0]["metric"]["deployment_environment"], "test");
        assert_eq!(info[0]["metric"]["telemetry_sdk_language"], "python");

        let errors = logql(
            &srv,
            &a.report,
            &format!(r#"{{service_name="cart-{protocol}"}} | severity_text="ERROR""#),
        )
        .await;
        assert_eq!(errors.len(), 1, "{errors:?}");
        let (stream, line) = &errors[0];
        assert_eq!(line, &format!("payment failed in cart-{protocol}"));
        assert_eq!(stream["order_id"], "o-17");
        assert_eq!(stream["service_namespace"], "shop");
        assert_eq!(stream["severity_number"], "17");
        assert_eq!(stream["deployment_environment"], "test");
        let all = logql(
            &srv,
            &a.report,
            &format!(r#"{{service_name="cart-{protocol}"}}"#),
        )
        .await;
        assert_eq!(all.len(), 2, "{all:?}");
    }
    // The other workspace sees none of it.
    assert!(
        promql(&srv, &b.report, r#"{__name__=~".+"}"#)
            .await
            .is_empty()
    );
    assert!(
        logql(&srv, &b.report, r#"{service_name=~".+"}"#)
            .await
            .is_empty()
    );
}

/// A string attribute.
pub(crate) fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

/// A request with one sum of two points, cumulative or delta.
fn sums(service: &str, temporality: AggregationTemporality) -> ExportMetricsServiceRequest {
    let t = (now_ms() * 1_000_000) as u64;
    let point = |v: f64, route: &str| NumberDataPoint {
        attributes: vec![kv("route", route)],
        time_unix_nano: t,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", service)],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "jobs.done".into(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points: vec![point(1.0, "a"), point(2.0, "b")],
                        aggregation_temporality: temporality as i32,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

async fn post(
    srv: &Server,
    path: &str,
    token: &str,
    ct: &str,
    body: Vec<u8>,
) -> (u16, String, Vec<u8>) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", srv.url))
        .header("Content-Type", ct)
        .body(body);
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("post");
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, resp.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_and_partial_success_on_both_doors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let a = srv.tenant("alpha");
    let pb = "application/x-protobuf";

    // HTTP: the token first, refused as OTLP/HTTP refuses: the status and
    // a google.rpc.Status body.
    let body = sums("svc", AggregationTemporality::Cumulative).encode_to_vec();
    let rpc = |b: &[u8]| sightline_ingest::proto::rpc_status::Status::decode(b).expect("a Status");
    let (st, ct, b) = post(&srv, "/v1/metrics", "", pb, body.clone()).await;
    assert_eq!((st, ct.as_str(), rpc(&b).code), (401, pb, 16));
    let (st, _, b) = post(&srv, "/v1/metrics", &a.report, pb, body.clone()).await;
    assert_eq!((st, rpc(&b).code), (403, 7));
    assert!(
        rpc(&b).message.contains("report token"),
        "{}",
        rpc(&b).message
    );
    let (st, ct, b) = post(&srv, "/v1/logs", "", "application/json", b"{}".to_vec()).await;
    assert_eq!((st, ct.as_str()), (401, "application/json"));
    let v: Value = serde_json::from_slice(&b).expect("json status");
    assert_eq!(v["code"], 16);
    // Success: 200 with an empty export response in the request's encoding.
    let (st, ct, b) = post(&srv, "/v1/metrics", &a.ingest, pb, body).await;
    assert_eq!((st, ct.as_str(), b.len()), (200, pb, 0));
    // Bad data: 400 with a google.rpc.Status naming the problem.
    let (st, ct, b) = post(&srv, "/v1/metrics", &a.ingest, pb, vec![0xff, 0x01, 0x02]).await;
    assert_eq!((st, ct.as_str()), (400, pb));
    let status =
        sightline_ingest::proto::rpc_status::Status::decode(b.as_slice()).expect("a Status");
    assert_eq!(status.code, 3, "INVALID_ARGUMENT");
    assert!(status.message.contains("protobuf"), "{}", status.message);
    let (st, _, _) = post(&srv, "/v1/logs", &a.ingest, "text/plain", b"hi".to_vec()).await;
    assert_eq!(st, 415);
    // OTLP JSON: snake_case names, enum names and string integers accepted;
    // delta points refused one by one as a partial success.
    let json_body = json!({"resource_metrics": [{"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "js"}}]},
        "scopeMetrics": [{"metrics": [
            {"name": "hits", "sum": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
              "isMonotonic": true, "dataPoints": [{"asInt": "5", "timeUnixNano": (now_ms() * 1_000_000).to_string()}]}},
            {"name": "deltas", "sum": {"aggregationTemporality": 1, "isMonotonic": true,
              "dataPoints": [{"asInt": "1", "timeUnixNano": "1"}, {"asInt": "2", "timeUnixNano": "2"}]}}]}]}]});
    let (st, ct, b) = post(
        &srv,
        "/v1/metrics",
        &a.ingest,
        "application/json",
        json_body.to_string().into_bytes(),
    )
    .await;
    assert_eq!((st, ct.as_str()), (200, "application/json"));
    let v: Value = serde_json::from_slice(&b).expect("json");
    assert_eq!(v["partialSuccess"]["rejectedDataPoints"], "2", "{v}");
    assert!(
        v["partialSuccess"]["errorMessage"]
            .as_str()
            .expect("message")
            .contains("delta")
    );
    let hits = promql(&srv, &a.report, r#"hits_total{job="js"}"#).await;
    assert_eq!(hits.iter().map(value).collect::<Vec<_>>(), [5.0]);
    let (st, _, b) = post(
        &srv,
        "/v1/logs",
        &a.ingest,
        "application/json",
        br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}"#.to_vec(),
    )
    .await;
    assert_eq!(st, 400);
    let v: Value = serde_json::from_slice(&b).expect("json status");
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("logRecords[0].traceId"),
        "{v}"
    );
    // A body past the limit.
    let big = vec![b'x'; 17 << 20];
    let (st, _, b) = post(&srv, "/v1/logs", &a.ingest, pb, big).await;
    assert_eq!(
        (st, rpc(&b).code),
        (413, 8),
        "RESOURCE_EXHAUSTED, not to be retried"
    );
    let empty = ExportLogsServiceRequest::default().encode_to_vec();
    assert_eq!(post(&srv, "/v1/logs", &a.ingest, pb, empty).await.0, 200);

    // gRPC: the same token check before any service, by code.
    let mut client = MetricsServiceClient::connect(srv.grpc_url.clone())
        .await
        .expect("connect");
    let call = |token: &str| {
        let mut req = tonic::Request::new(sums("grpc-svc", AggregationTemporality::Cumulative));
        if !token.is_empty() {
            req.metadata_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("metadata"),
            );
        }
        req
    };
    let e = client.export(call("")).await.expect_err("no token");
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    let e = client
        .export(call("sli_unknown"))
        .await
        .expect_err("unknown");
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    let e = client
        .export(call(&a.report))
        .await
        .expect_err("report token");
    assert_eq!(e.code(), tonic::Code::PermissionDenied, "{e:?}");
    let ok = client.export(call(&a.ingest)).await.expect("ingest token");
    assert_eq!(ok.into_inner().partial_success, None);
    let mut delta = tonic::Request::new(sums("grpc-svc", AggregationTemporality::Delta));
    delta.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", a.ingest).parse().expect("metadata"),
    );
    let partial = client
        .export(delta)
        .await
        .expect("delta is a partial success")
        .into_inner()
        .partial_success
        .expect("partial success");
    assert_eq!(partial.rejected_data_points, 2);
    assert!(
        partial.error_message.contains("delta"),
        "{}",
        partial.error_message
    );
    let done = promql(&srv, &a.report, r#"jobs_done_total{job="grpc-svc"}"#).await;
    assert_eq!(done.len(), 2, "{done:?}");

    // A token kept to one service: another is PERMISSION_DENIED; its own
    // passes, with or without a namespace (`job` is `namespace/name`).
    let one = srv.cli(&[
        "token",
        "create",
        "--tenant",
        "alpha",
        "--kind",
        "ingest",
        "--service",
        "billing",
    ]);
    let one = one["secret"].as_str().expect("secret").to_string();
    let e = client
        .export(call(&one))
        .await
        .expect_err("another service");
    assert_eq!(e.code(), tonic::Code::PermissionDenied, "{e:?}");
    let with_ns = |ns: Option<&str>| {
        let mut req = tonic::Request::new(sums("billing", AggregationTemporality::Cumulative));
        if let (Some(ns), Some(r)) = (ns, req.get_mut().resource_metrics[0].resource.as_mut()) {
            r.attributes.push(kv("service.namespace", ns));
        }
        req.metadata_mut().insert(
            "authorization",
            format!("Bearer {one}").parse().expect("metadata"),
        );
        req
    };
    client.export(with_ns(None)).await.expect("its own service");
    client
        .export(with_ns(Some("finance")))
        .await
        .expect("its own service in a namespace");
    let billing = promql(
        &srv,
        &a.report,
        r#"jobs_done_total{job=~"(finance/)?billing"}"#,
    )
    .await;
    assert_eq!(billing.len(), 4, "{billing:?}");

    // Past the token's rate: RESOURCE_EXHAUSTED with RetryInfo.
    let fast = srv.cli(&[
        "token",
        "create",
        "--tenant",
        "alpha",
        "--kind",
        "ingest",
        "--rate-limit-per-sec",
        "1",
        "--rate-burst",
        "1",
    ]);
    let fast = fast["secret"].as_str().expect("secret").to_string();
    let mut exhausted = None;
    for _ in 0..5 {
        if let Err(e) = client.export(call(&fast)).await {
            exhausted = Some(e);
            break;
        }
    }
    let e = exhausted.expect("the rate refuses a call");
    assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e:?}");
    let details =
        sightline_ingest::proto::rpc_status::Status::decode(e.details()).expect("details");
    let retry = details
        .details
        .iter()
        .find(|d| d.type_url == sightline_ingest::proto::rpc_status::RETRY_INFO_TYPE)
        .expect("RetryInfo");
    let info = sightline_ingest::proto::rpc_status::RetryInfo::decode(retry.value.as_slice())
        .expect("RetryInfo");
    assert!(info.retry_delay.expect("delay").seconds >= 1);
    tokio::time::sleep(Duration::from_millis(10)).await;
}
