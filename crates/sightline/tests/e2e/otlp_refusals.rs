//! Bad OTLP requests, one table on both transports: the wrong token kind,
//! a revoked token, truncated protobuf, invalid JSON, an 8-byte trace id,
//! a span ending before it starts, a NaN histogram bound, a log record's
//! short span id, bodies past the limit (plain and as a gzip bomb). Each
//! gets its code (HTTP status with a `google.rpc.Status`, or gRPC code)
//! and a message naming the problem; every bad request also carries a
//! well-formed record, and nothing of any of them is stored.

use std::io::Write;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
    metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::Value;
use tonic::codec::{CompressionEncoding, DecodeBuf, EncodeBuf};

use crate::harness::{Server, get, now_ms};

const TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![crate::otlp::kv("service.name", service)],
        ..Default::default()
    })
}

fn now_ns() -> u64 {
    now_ms() as u64 * 1_000_000
}

/// A well-formed span of trace `[t; 16]`.
pub(crate) fn span(t: u8, name: &str) -> Span {
    Span {
        trace_id: vec![t; 16],
        span_id: vec![t; 8],
        name: name.into(),
        start_time_unix_nano: now_ns() - 2_000_000,
        end_time_unix_nano: now_ns() - 1_000_000,
        ..Default::default()
    }
}

pub(crate) fn spans(v: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource("bad"),
            scope_spans: vec![ScopeSpans {
                spans: v,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A gauge point beside a histogram with `bounds`.
fn metrics(bounds: Vec<f64>) -> ExportMetricsServiceRequest {
    let t = now_ns();
    let mut counts = vec![0; bounds.len() + 1];
    counts[0] = 3;
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("bad"),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "bad_gauge".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![NumberDataPoint {
                                time_unix_nano: t,
                                value: Some(number_data_point::Value::AsDouble(1.0)),
                                ..Default::default()
                            }],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "bad_latency".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                time_unix_nano: t,
                                count: 3,
                                bucket_counts: counts,
                                explicit_bounds: bounds,
                                ..Default::default()
                            }],
                            aggregation_temporality: 2,
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A log record with span id `span_id`, after a well-formed one.
fn logs(span_id: Vec<u8>) -> ExportLogsServiceRequest {
    let rec = |span_id: Vec<u8>| LogRecord {
        time_unix_nano: now_ns(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue("a line".into())),
        }),
        trace_id: vec![7; 16],
        span_id,
        ..Default::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("bad"),
            scope_logs: vec![ScopeLogs {
                log_records: vec![rec(vec![7; 8]), rec(span_id)],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A codec that sends the request's bytes as they are, to send what a
/// typed client cannot: truncated messages, bodies past the limit.
#[derive(Clone, Copy)]
struct Raw;

struct RawEncoder;
struct RawDecoder;

impl tonic::codec::Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// One gRPC export of `body` to `path`: the code and message.
async fn grpc(
    srv: &Server,
    path: &'static str,
    token: &str,
    body: Vec<u8>,
    gzip: bool,
) -> (tonic::Code, String) {
    let channel = tonic::transport::Endpoint::from_shared(srv.grpc_url.clone())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut client = tonic::client::Grpc::new(channel).max_encoding_message_size(usize::MAX);
    if gzip {
        client = client.send_compressed(CompressionEncoding::Gzip);
    }
    client.ready().await.expect("ready");
    let mut req = tonic::Request::new(body);
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("metadata"),
    );
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
    match client.unary(req, path, Raw).await {
        Ok(_) => (tonic::Code::Ok, String::new()),
        Err(e) => (e.code(), e.message().to_string()),
    }
}

/// One OTLP/HTTP export: the status and the `google.rpc.Status` message.
async fn http(
    srv: &Server,
    path: &str,
    token: &str,
    ct: &str,
    body: Vec<u8>,
    gzip: bool,
) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", srv.url))
        .header("Content-Type", ct)
        .bearer_auth(token);
    req = if gzip {
        req.header("Content-Encoding", "gzip").body(gz(&body))
    } else {
        req.body(body)
    };
    let resp = req.send().await.expect("post");
    let status = resp.status().as_u16();
    let b = resp.bytes().await.expect("body");
    let msg = if ct == "application/json" {
        serde_json::from_slice::<Value>(&b)
            .ok()
            .and_then(|v| v["message"].as_str().map(String::from))
    } else {
        sightline_ingest::proto::rpc_status::Status::decode(b.as_ref())
            .ok()
            .map(|s| s.message)
    };
    (
        status,
        msg.unwrap_or_else(|| String::from_utf8_lossy(&b).into_owned()),
    )
}

fn gz(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).expect("gzip");
    e.finish().expect("gzip")
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_their_code_and_a_message_and_store_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Bodies up to the 64 MiB a gRPC message may hold, so that one
    // oversized body is past the limit on both transports.
    let srv = Server::start(dir.path(), &["--max-body-bytes", "67108864"]);
    let a = srv.tenant("alpha");
    let revoked = srv.cli(&["token", "create", "--tenant", "alpha", "--kind", "ingest"]);
    srv.cli(&["token", "revoke", revoked["id"].as_str().expect("id")]);
    let revoked = revoked["secret"].as_str().expect("secret").to_string();

    let good = spans(vec![span(1, "fine")]).encode_to_vec();
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 3);
    let short_trace = spans(vec![
        span(2, "fine"),
        Span {
            trace_id: vec![3; 8],
            ..span(3, "short")
        },
    ])
    .encode_to_vec();
    let backwards = {
        let mut s = span(5, "backwards");
        (s.start_time_unix_nano, s.end_time_unix_nano) =
            (s.end_time_unix_nano, s.start_time_unix_nano);
        spans(vec![span(4, "fine"), s]).encode_to_vec()
    };
    let nan = metrics(vec![0.5, f64::NAN]).encode_to_vec();
    let short_span = logs(vec![7; 4]).encode_to_vec();
    // Past both limits: the body limit (16 MiB) and the decompressed one (64 MiB).
    // Past the 64 MiB message and body limits (the body by less than what
    // the server drains, so the client reads its 413 where a body far past
    // the limit gets a closed connection), and, gzipped, past the 64 MiB
    // inflated limit.
    let big = vec![0x0a; 65 << 20];
    let json_short = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"0909090909090909","spanId":"0909090909090909","name":"x","startTimeUnixNano":"{}","endTimeUnixNano":"{}"}}]}}]}}]}}"#,
        now_ns() - 1000,
        now_ns()
    );

    // (what, HTTP path, gRPC path, token, body, gzip, HTTP status, gRPC
    // code, words of which the message has one)
    type Case<'a> = (
        &'a str,
        &'a str,
        &'static str,
        &'a str,
        Vec<u8>,
        bool,
        u16,
        tonic::Code,
        &'a [&'a str],
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "wrong kind",
            "/v1/traces",
            TRACES,
            &a.report,
            good.clone(),
            false,
            403,
            tonic::Code::PermissionDenied,
            &["report token"],
        ),
        (
            "revoked token",
            "/v1/traces",
            TRACES,
            &revoked,
            good.clone(),
            false,
            401,
            tonic::Code::Unauthenticated,
            &["revoked"],
        ),
        (
            "truncated protobuf",
            "/v1/traces",
            TRACES,
            &a.ingest,
            truncated,
            false,
            400,
            tonic::Code::InvalidArgument,
            &["protobuf"],
        ),
        (
            "8-byte trace id",
            "/v1/traces",
            TRACES,
            &a.ingest,
            short_trace,
            false,
            400,
            tonic::Code::InvalidArgument,
            &["spans[1].traceId: 8 bytes"],
        ),
        (
            "end before start",
            "/v1/traces",
            TRACES,
            &a.ingest,
            backwards,
            false,
            400,
            tonic::Code::InvalidArgument,
            &["spans[1].endTimeUnixNano: the span ends"],
        ),
        (
            "NaN bucket bound",
            "/v1/metrics",
            METRICS,
            &a.ingest,
            nan,
            false,
            400,
            tonic::Code::InvalidArgument,
            &["metrics[1].histogram.dataPoints[0].explicitBounds[1]: a bucket bound of NaN"],
        ),
        (
            "4-byte span id",
            "/v1/logs",
            LOGS,
            &a.ingest,
            short_span,
            false,
            400,
            tonic::Code::InvalidArgument,
            &["logRecords[1].spanId: 4 bytes"],
        ),
        (
            "oversized",
            "/v1/traces",
            TRACES,
            &a.ingest,
            big.clone(),
            false,
            413,
            tonic::Code::ResourceExhausted,
            &["large", "limit"],
        ),
        (
            "oversized after gzip",
            "/v1/metrics",
            METRICS,
            &a.ingest,
            big,
            true,
            413,
            tonic::Code::ResourceExhausted,
            &["large", "limit"],
        ),
    ];
    let pb = "application/x-protobuf";
    for (what, path, rpc, token, body, gzip, want_status, want_code, want_msg) in cases {
        let (st, msg) = http(&srv, path, token, pb, body.clone(), gzip).await;
        assert_eq!(st, want_status, "{what} over HTTP: {msg}");
        assert!(
            want_msg.iter().any(|w| msg.contains(w)),
            "{what} over HTTP: {msg:?} lacks {want_msg:?}"
        );
        let (code, msg) = grpc(&srv, rpc, token, body, gzip).await;
        assert_eq!(code, want_code, "{what} over gRPC: {msg}");
        assert!(
            want_msg.iter().any(|w| msg.contains(w)),
            "{what} over gRPC: {msg:?} lacks {want_msg:?}"
        );
    }
    for (what, body, want) in [
        ("invalid JSON", br#"{"resourceSpans": [{"#.to_vec(), "JSON"),
        (
            "8-byte trace id in JSON",
            json_short.into_bytes(),
            "spans[0].traceId: expected 32 hex digits",
        ),
    ] {
        let (st, msg) = http(
            &srv,
            "/v1/traces",
            &a.ingest,
            "application/json",
            body,
            false,
        )
        .await;
        assert_eq!(st, 400, "{what}: {msg}");
        assert!(msg.contains(want), "{what}: {msg:?} lacks {want:?}");
    }

    // Nothing of any of them was stored: not the well-formed spans beside
    // the bad ones, not the gauge beside the NaN bound, not the log line.
    for t in 1..=9u8 {
        let id = format!("{t:02x}").repeat(16);
        let (st, body) = get(&srv.url, &a.report, &[], &format!("/api/traces/{id}")).await;
        assert_eq!(st, 404, "trace {id}: {body}");
    }
    let now = (now_ms() / 1000).to_string();
    let hour_ago = (now_ms() / 1000 - 3600).to_string();
    let (_, search) = get(
        &srv.url,
        &a.report,
        &[("start", &hour_ago), ("end", &now)],
        "/api/search",
    )
    .await;
    assert_eq!(search["traces"], serde_json::json!([]), "{search}");
    let (_, v) = get(
        &srv.url,
        &a.report,
        &[("query", r#"{job="bad"}"#)],
        "/api/v1/query",
    )
    .await;
    assert_eq!(v["data"]["result"], serde_json::json!([]), "{v}");
    let (_, v) = get(
        &srv.url,
        &a.report,
        &[
            ("query", r#"{service_name="bad"}"#),
            ("start", &hour_ago),
            ("end", &now),
        ],
        "/loki/api/v1/query_range",
    )
    .await;
    assert_eq!(v["data"]["result"], serde_json::json!([]), "{v}");
    // The reads above do see what is stored: the well-formed export, sent
    // as it is, is found.
    let (st, msg) = http(&srv, "/v1/traces", &a.ingest, pb, good, false).await;
    assert_eq!(st, 200, "{msg}");
    let id = "01".repeat(16);
    let (st, body) = get(&srv.url, &a.report, &[], &format!("/api/traces/{id}")).await;
    assert_eq!(st, 200, "{body}");

    // The requests are counted by signal and outcome.
    let m = crate::harness::metrics_text(&srv.url).await;
    for signal in ["traces", "metrics", "logs"] {
        assert!(
            m.lines()
                .any(|l| l.starts_with("sightline_ingest_requests_total")
                    && l.contains(&format!("signal=\"{signal}\""))
                    && l.contains("outcome=\"bad_request\"")),
            "no bad request of {signal} counted:\n{m}"
        );
    }
}
