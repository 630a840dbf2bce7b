//! OTLP/HTTP (`docs/otlp-semantics.md` §2): `POST /v1/traces`,
//! `POST /v1/metrics` and `POST /v1/logs` with an ingest token, bodies in `application/x-protobuf`
//! or `application/json` (OTLP's JSON mapping), optionally gzip. Success is
//! 200 with the export response in the request's encoding, its partial
//! success naming what was refused; a failure is its status (400, 403,
//! 413, 415, 429 or 503 with `Retry-After`, 500) with a `google.rpc.Status`
//! body in the request's encoding.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message;
use sightline_core::Signal;
use sightline_gateway::{Refusal, RefusalKind};
use sightline_ingest::loki_push::{Inflate, inflate};
use sightline_ingest::otlp::json;
use sightline_ingest::otlp::proto::collector::logs::v1::ExportLogsServiceRequest;
use sightline_ingest::otlp::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use sightline_ingest::otlp::proto::collector::trace::v1::ExportTraceServiceRequest;

use super::{Exported, export_logs, export_metrics, export_traces, grpc_code, rpc_status};
use crate::{AppState, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// The request's encoding, and how its body is compressed.
fn encoding_of(headers: &HeaderMap) -> Result<(Encoding, bool), (Encoding, Refusal)> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let enc = match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => Encoding::Protobuf,
        "application/json" => Encoding::Json,
        _ => {
            return Err((
                Encoding::Protobuf,
                Refusal::UnsupportedEncoding(format!(
                    "unsupported Content-Type {ct:?}: OTLP/HTTP takes application/x-protobuf or application/json"
                )),
            ));
        }
    };
    match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("identity") => Ok((enc, false)),
        Some("gzip") => Ok((enc, true)),
        Some(other) => Err((
            enc,
            Refusal::UnsupportedEncoding(format!(
                "unsupported Content-Encoding {other:?}: OTLP/HTTP takes gzip or none"
            )),
        )),
    }
}

/// Past the body limit, up to this many more bytes are read and dropped
/// before the 413 is sent: a sender that writes its whole body before it
/// reads the answer (most HTTP clients) then gets the answer, where an
/// early close would reset its connection. Bodies announced larger than
/// the limit and this are answered at once.
const DRAIN_BYTES: usize = 4 << 20;

/// The body, if it holds at most `limit` bytes; else a `TooLarge` refusal,
/// once the rest of a body slightly too large is drained.
async fn read_within(
    headers: &HeaderMap,
    mut body: axum::body::Body,
    limit: usize,
) -> Result<bytes::Bytes, Refusal> {
    use axum::body::HttpBody;
    let too_large = || Refusal::TooLarge(format!("request body larger than {limit} bytes"));
    let drained = limit.saturating_add(DRAIN_BYTES);
    let announced = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > drained as u64) {
        return Err(too_large());
    }
    let mut buf = bytes::BytesMut::with_capacity(announced.map_or(0, |n| n as usize).min(limit));
    let mut seen = 0usize;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame =
            frame.map_err(|e| Refusal::BadData(format!("reading the request body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > drained {
            return Err(too_large());
        }
        if seen <= limit {
            buf.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(too_large());
    }
    Ok(buf.freeze())
}

/// Reads the body within the body limit (past it: 413 as OTLP/HTTP
/// answers), then inflates and decodes it on a blocking thread (CPU work,
/// up to the decompressed limit); the request, its encoding and its size.
async fn decode<T: Send + 'static>(
    s: &AppState,
    headers: &HeaderMap,
    body: axum::body::Body,
    protobuf: fn(&[u8]) -> Result<T, Refusal>,
    json: fn(&[u8]) -> Result<T, Refusal>,
) -> Result<(Encoding, T, usize), (Encoding, Refusal)> {
    let (enc, gzip) = encoding_of(headers)?;
    let limit = s.cfg.max_body_bytes;
    let body = read_within(headers, body, limit)
        .await
        .map_err(|r| (enc, r))?;
    let max = s.cfg.decode.max_decompressed_bytes;
    let done = tokio::task::spawn_blocking(move || {
        let raw = if gzip {
            inflate(&body, Inflate::Gzip, max).map_err(Refusal::from)?
        } else {
            body.to_vec()
        };
        let req = match enc {
            Encoding::Protobuf => protobuf(&raw)?,
            Encoding::Json => json(&raw)?,
        };
        Ok::<_, Refusal>((req, raw.len()))
    })
    .await;
    match done {
        Ok(Ok((req, n))) => Ok((enc, req, n)),
        Ok(Err(r)) => Err((enc, r)),
        Err(e) => Err((enc, Refusal::Internal(format!("decode task failed: {e}")))),
    }
}

fn status_of(kind: RefusalKind) -> StatusCode {
    use RefusalKind as K;
    match kind {
        K::NotAllowed => StatusCode::FORBIDDEN,
        K::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
        K::Overloaded | K::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        K::Cardinality | K::BadData => StatusCode::BAD_REQUEST,
        K::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        K::UnsupportedEncoding => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        K::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A refusal as OTLP/HTTP answers it.
fn failure(enc: Encoding, r: Refusal) -> Response {
    let kind = r.kind();
    status_response(
        enc,
        status_of(kind),
        grpc_code(kind),
        &r.to_string(),
        r.retry_after_secs(),
    )
}

/// A failure's answer: `status`, a `google.rpc.Status` of `code` in the
/// request's encoding, and `Retry-After` when a retry later helps.
fn status_response(
    enc: Encoding,
    status: StatusCode,
    code: tonic::Code,
    msg: &str,
    retry: Option<u64>,
) -> Response {
    let rpc = rpc_status(code, msg, retry);
    let body = match enc {
        Encoding::Protobuf => rpc.encode_to_vec(),
        Encoding::Json => {
            let details: Vec<serde_json::Value> = retry
                .map(|secs| {
                    serde_json::json!({"@type": sightline_ingest::proto::rpc_status::RETRY_INFO_TYPE,
                        "retryDelay": format!("{secs}s")})
                })
                .into_iter()
                .collect();
            serde_json::json!({"code": rpc.code, "message": msg, "details": details})
                .to_string()
                .into_bytes()
        }
    };
    let mut resp = (status, [(header::CONTENT_TYPE, enc.content_type())], body).into_response();
    if let Some(secs) = retry {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// The export response: empty, or a partial success with the count under
/// `field` (`rejectedDataPoints`, `rejectedLogRecords`).
fn success(
    enc: Encoding,
    e: &Exported,
    field: &str,
    encode: impl Fn(i64, String) -> Vec<u8>,
) -> Response {
    let n = i64::try_from(e.refused.count).unwrap_or(i64::MAX);
    let body = match enc {
        Encoding::Protobuf if n == 0 => Vec::new(),
        Encoding::Protobuf => encode(n, e.refused.message()),
        Encoding::Json if n == 0 => b"{}".to_vec(),
        Encoding::Json => serde_json::json!({"partialSuccess": {
            field: n.to_string(), "errorMessage": e.refused.message()}})
        .to_string()
        .into_bytes(),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, enc.content_type())],
        body,
    )
        .into_response()
}

/// One export: the body decoded, the request handed to `export`, the
/// answer a success with its partial success under `field` (encoded in
/// protobuf by `encode`), or the failure.
#[allow(clippy::too_many_arguments)]
async fn handle<T, F, Fut>(
    s: &AppState,
    scope: &Scope,
    headers: &HeaderMap,
    body: axum::body::Body,
    protobuf: fn(&[u8]) -> Result<T, Refusal>,
    json: fn(&[u8]) -> Result<T, Refusal>,
    export: F,
    signal: Signal,
    field: &str,
    encode: fn(i64, String) -> Vec<u8>,
) -> Response
where
    T: Send + 'static,
    F: FnOnce(T, usize) -> Fut,
    Fut: std::future::Future<Output = Result<Exported, Refusal>>,
{
    let (enc, req, raw_bytes) = match decode(s, headers, body, protobuf, json).await {
        Ok(v) => v,
        Err((enc, r)) => return refuse(s, scope, signal, enc, r),
    };
    match export(req, raw_bytes).await {
        Ok(e) => success(enc, &e, field, encode),
        Err(r) => failure(enc, r),
    }
}

/// `POST /v1/metrics`.
pub async fn metrics(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    use sightline_ingest::otlp::proto::collector::metrics::v1::{
        ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
    };
    handle(
        &s,
        &scope,
        &headers,
        body,
        |b| {
            ExportMetricsServiceRequest::decode(b)
                .map_err(|e| Refusal::BadData(format!("protobuf: {e}")))
        },
        |b| json::decode_metrics(b).map_err(Refusal::from),
        |req, n| export_metrics(&s, &scope, req, n),
        Signal::Metrics,
        "rejectedDataPoints",
        |n, m| {
            ExportMetricsServiceResponse {
                partial_success: Some(ExportMetricsPartialSuccess {
                    rejected_data_points: n,
                    error_message: m,
                }),
            }
            .encode_to_vec()
        },
    )
    .await
}

/// `POST /v1/traces`.
pub async fn traces(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    use sightline_ingest::otlp::proto::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    handle(
        &s,
        &scope,
        &headers,
        body,
        |b| {
            ExportTraceServiceRequest::decode(b)
                .map_err(|e| Refusal::BadData(format!("protobuf: {e}")))
        },
        |b| json::decode_traces(b).map_err(Refusal::from),
        |req, _| export_traces(&s, &scope, req),
        Signal::Traces,
        "rejectedSpans",
        |n, m| {
            ExportTraceServiceResponse {
                partial_success: Some(ExportTracePartialSuccess {
                    rejected_spans: n,
                    error_message: m,
                }),
            }
            .encode_to_vec()
        },
    )
    .await
}

/// `POST /v1/logs`.
pub async fn logs(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    use sightline_ingest::otlp::proto::collector::logs::v1::{
        ExportLogsPartialSuccess, ExportLogsServiceResponse,
    };
    handle(
        &s,
        &scope,
        &headers,
        body,
        |b| {
            ExportLogsServiceRequest::decode(b)
                .map_err(|e| Refusal::BadData(format!("protobuf: {e}")))
        },
        |b| json::decode_logs(b).map_err(Refusal::from),
        |req, _| export_logs(&s, &scope, req),
        Signal::Logs,
        "rejectedLogRecords",
        |n, m| {
            ExportLogsServiceResponse {
                partial_success: Some(ExportLogsPartialSuccess {
                    rejected_log_records: n,
                    error_message: m,
                }),
            }
            .encode_to_vec()
        },
    )
    .await
}

/// The token check of the OTLP/HTTP routes: `auth::authorize`, as on
/// every door, its refusals answered as OTLP/HTTP answers failures (401,
/// 403, 429 with `Retry-After`, each with a `google.rpc.Status` body).
pub async fn require(
    State(state): State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let enc = encoding_of(req.headers()).map_or(Encoding::Protobuf, |(e, _)| e);
    let address = crate::auth::peer_address(&req);
    match crate::auth::authorize(
        &state,
        sightline_control::Need::Write,
        req.headers(),
        address,
    )
    .await
    {
        Ok(scope) => {
            req.extensions_mut().insert(scope);
            next.run(req).await
        }
        Err(e) => {
            let msg = e.to_string();
            let (status, code, retry) = match e {
                crate::ApiError::Unauthorized(_) => {
                    (StatusCode::UNAUTHORIZED, tonic::Code::Unauthenticated, None)
                }
                crate::ApiError::Forbidden(_) => {
                    (StatusCode::FORBIDDEN, tonic::Code::PermissionDenied, None)
                }
                crate::ApiError::RateLimited {
                    retry_after_secs, ..
                } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    tonic::Code::ResourceExhausted,
                    Some(retry_after_secs),
                ),
                crate::ApiError::Unavailable(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    tonic::Code::Unavailable,
                    None,
                ),
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    tonic::Code::Internal,
                    None,
                ),
            };
            status_response(enc, status, code, &msg, retry)
        }
    }
}

/// A refusal of the payload, counted for the token's workspace.
fn refuse(s: &AppState, scope: &Scope, signal: Signal, enc: Encoding, r: Refusal) -> Response {
    let r = match scope.tenant() {
        Ok(t) => s.gateway.refuse_payload(t, signal, r),
        Err(_) => r,
    };
    failure(enc, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_gateway::RefusalKind;

    fn with_length(n: usize) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::CONTENT_LENGTH, n.into());
        h
    }

    #[tokio::test]
    async fn bodies_within_the_limit_are_read_whole_and_others_refused() {
        let body = |n: usize| axum::body::Body::from(vec![7u8; n]);
        let got = read_within(&HeaderMap::new(), body(10), 10)
            .await
            .expect("at the limit");
        assert_eq!(got.len(), 10);
        // Past the limit, drained (announced or not), then refused.
        for h in [HeaderMap::new(), with_length(11)] {
            let r = read_within(&h, body(11), 10)
                .await
                .expect_err("past the limit");
            assert_eq!(r.kind(), RefusalKind::TooLarge);
            assert!(r.to_string().contains("larger than 10 bytes"), "{r}");
        }
        // Far past it: refused on its announced length, unread.
        let r = read_within(&with_length(DRAIN_BYTES + 11), body(0), 10)
            .await
            .expect_err("announced past the drain");
        assert_eq!(r.kind(), RefusalKind::TooLarge);
        let r = read_within(&HeaderMap::new(), body(DRAIN_BYTES + 11), 10)
            .await
            .expect_err("sent past the drain");
        assert_eq!(r.kind(), RefusalKind::TooLarge);
    }
}
