//! OTLP/gRPC span load generator: sends pre-encoded
//! `ExportTraceServiceRequest`s to `TraceService/Export` over loopback and
//! prints spans/s acknowledged (Sightline answers after the WAL's fsync).
//!
//! Requests are built and encoded before the clock starts, so the sender's
//! own CPU use during the run is gRPC (and gzip, with `--gzip`) only.
//! The spans look like an SDK's: traces of `--spans-per-trace` spans
//! (a server root and its children), a resource with a service name,
//! namespace, instance and SDK attributes, eight span attributes of mixed
//! types, an event on every fifth span and an error status on every tenth.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message;
use tonic::codec::{DecodeBuf, EncodeBuf};

#[derive(Parser)]
struct Args {
    /// The gRPC listener, e.g. http://127.0.0.1:4317.
    #[arg(long)]
    endpoint: String,
    /// An ingest token.
    #[arg(long)]
    token: String,
    /// Spans to send in all.
    #[arg(long, default_value_t = 3_000_000)]
    spans: usize,
    /// Spans per request (an SDK's batch span processor sends at most 512).
    #[arg(long, default_value_t = 512)]
    spans_per_request: usize,
    /// Spans per trace.
    #[arg(long, default_value_t = 8)]
    spans_per_trace: usize,
    /// Distinct services (one resource each; a request holds one).
    #[arg(long, default_value_t = 20)]
    services: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Send gzip-compressed messages, as an SDK does with compression set.
    #[arg(long)]
    gzip: bool,
}

fn text(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn int(k: &str, v: i64) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(v)),
        }),
        ..Default::default()
    }
}

/// The `i`th request: spans `i * per_request ..`, of one service.
fn request(a: &Args, i: usize, start_ns: u64) -> ExportTraceServiceRequest {
    let service = i % a.services;
    let resource = Resource {
        attributes: vec![
            text("service.name", &format!("svc-{service}")),
            text("service.namespace", "bench"),
            text("service.instance.id", &format!("pod-{service}-0")),
            text("telemetry.sdk.language", "rust"),
            text("telemetry.sdk.name", "opentelemetry"),
            text("telemetry.sdk.version", "0.31.0"),
        ],
        ..Default::default()
    };
    let spans = (0..a.spans_per_request)
        .map(|k| {
            let n = (i * a.spans_per_request + k) as u64;
            let trace = n / a.spans_per_trace as u64;
            let first = trace * a.spans_per_trace as u64;
            let start = start_ns + n * 1_000;
            let attributes = vec![
                text(
                    "http.request.method",
                    if n % 3 == 0 { "POST" } else { "GET" },
                ),
                text("http.route", &format!("/api/v1/items/{}", n % 50)),
                int(
                    "http.response.status_code",
                    if n % 10 == 9 { 500 } else { 200 },
                ),
                text("server.address", "shop.internal"),
                int("server.port", 8080),
                text("url.scheme", "https"),
                text("user_agent.original", "bench/1.0"),
                int("app.items", (n % 17) as i64),
            ];
            Span {
                trace_id: (u128::from(trace) + 1).to_be_bytes().to_vec(),
                span_id: (n + 1).to_be_bytes().to_vec(),
                parent_span_id: if n == first {
                    Vec::new()
                } else {
                    (first + 1).to_be_bytes().to_vec()
                },
                name: format!("GET /api/v1/items/{}", n % 50),
                kind: if n == first {
                    span::SpanKind::Server
                } else {
                    span::SpanKind::Client
                } as i32,
                start_time_unix_nano: start,
                end_time_unix_nano: start + 250_000 + (n % 1000) * 1_000,
                attributes,
                events: if n % 5 == 0 {
                    vec![span::Event {
                        name: "cache.miss".into(),
                        time_unix_nano: start + 10_000,
                        attributes: vec![text("cache.key", &format!("k{}", n % 100))],
                        ..Default::default()
                    }]
                } else {
                    Vec::new()
                },
                status: (n % 10 == 9).then(|| Status {
                    code: 2,
                    message: "upstream failed".into(),
                }),
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A codec that sends the request's bytes as encoded before the run.
#[derive(Clone, Copy)]
struct Raw;
struct RawEncoder;
struct RawDecoder;

impl tonic::codec::Codec for Raw {
    type Encode = bytes::Bytes;
    type Decode = bytes::Bytes;
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
    type Item = bytes::Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: bytes::Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = bytes::Bytes;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<bytes::Bytes>, tonic::Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

const EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.spans_per_request == 0 || a.spans_per_trace == 0 || a.services == 0 || a.concurrency == 0 {
        bail!(
            "--spans-per-request, --spans-per-trace, --services and --concurrency must be positive"
        );
    }
    let requests = a.spans.div_ceil(a.spans_per_request);
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64;
    // Every span ends before now.
    let start_ns = now_ns - (a.spans as u64 + 10_000) * 1_000 - 10_000_000_000;
    eprintln!(
        "encoding {requests} requests of {} spans...",
        a.spans_per_request
    );
    let bodies: Vec<bytes::Bytes> = (0..requests)
        .map(|i| bytes::Bytes::from(request(&a, i, start_ns).encode_to_vec()))
        .collect();
    let raw_bytes: usize = bodies.iter().map(bytes::Bytes::len).sum();
    eprintln!(
        "{:.1} MiB of protobuf, {:.0} bytes a span{}",
        raw_bytes as f64 / (1 << 20) as f64,
        raw_bytes as f64 / (requests * a.spans_per_request) as f64,
        if a.gzip {
            ", gzipped by the channel as it sends"
        } else {
            ""
        }
    );
    let channel = tonic::transport::Endpoint::from_shared(a.endpoint.clone())?
        .connect()
        .await
        .with_context(|| format!("connect {}", a.endpoint))?;
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let auth: tonic::metadata::MetadataValue<_> = format!("Bearer {}", a.token).parse()?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency {
        let (next, acked, failed, bodies, auth) = (
            next.clone(),
            acked.clone(),
            failed.clone(),
            bodies.clone(),
            auth.clone(),
        );
        let mut client = tonic::client::Grpc::new(channel.clone());
        if a.gzip {
            client = client.send_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        let per = a.spans_per_request;
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let mut req = tonic::Request::new(body.clone());
                req.metadata_mut().insert("authorization", auth.clone());
                let path = tonic::codegen::http::uri::PathAndQuery::from_static(EXPORT);
                if let Err(e) = client.ready().await {
                    eprintln!("not ready: {e}");
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                match client.unary(req, path, Raw).await {
                    Ok(_) => {
                        acked.fetch_add(per, Ordering::Relaxed);
                    }
                    Err(e) => {
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("{:?}: {}", e.code(), e.message());
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let acked = acked.load(Ordering::Relaxed);
    println!(
        "otlp-grpc: {acked} spans acknowledged in {secs:.2}s = {:.0} spans/s ({} failed requests)",
        acked as f64 / secs,
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}
