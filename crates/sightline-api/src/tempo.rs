//! The trace API, as Grafana's Tempo data source calls it
//! (`docs/otlp-semantics.md` §6): traces by id (`/api/traces/<id>`,
//! `/api/v2/traces/<id>`; OTLP protobuf on `Accept: application/protobuf`,
//! OTLP JSON otherwise), search (`/api/search` with TraceQL `q` or legacy
//! `tags`), tag names and values (v1 and v2), `/api/echo` and
//! `/api/status/buildinfo`. Every read goes through the report token's
//! read scope: its tenant, narrowed to its project, application and
//! environment. Errors are plain text, as Tempo writes them.

mod json;
mod search;
mod tags;
mod view;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message;
use sightline_engine::EngineError;

use crate::params::Params;
use crate::{ApiError, AppState, Scope};

pub(crate) use search::search;
pub(crate) use tags::{tag_values, tag_values_v2, tags, tags_v2};

const NS_PER_S: i64 = 1_000_000_000;

/// A refusal, as Tempo writes one: its status and a plain-text line.
#[derive(Debug)]
pub(crate) struct TempoError {
    status: StatusCode,
    msg: String,
}

impl TempoError {
    pub(crate) fn bad(msg: impl Into<String>) -> Self {
        TempoError {
            status: StatusCode::BAD_REQUEST,
            msg: msg.into(),
        }
    }

    fn not_found() -> Self {
        TempoError {
            status: StatusCode::NOT_FOUND,
            msg: String::new(),
        }
    }
}

impl From<ApiError> for TempoError {
    fn from(e: ApiError) -> Self {
        TempoError {
            status: e.status(),
            msg: e.to_string(),
        }
    }
}

impl From<EngineError> for TempoError {
    fn from(e: EngineError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for TempoError {
    fn into_response(self) -> Response {
        let body = if self.msg.is_empty() {
            String::new()
        } else {
            format!("{}\n", self.msg)
        };
        (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response()
    }
}

fn answer(r: Result<Response, TempoError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// `start` and `end` (Unix seconds) as a window in nanoseconds; `default`
/// when neither is given (or both are 0). A given end must come after the
/// start.
pub(crate) fn window(p: &Params, default: (i64, i64)) -> Result<(i64, i64), TempoError> {
    let secs = |k: &str| -> Result<i64, TempoError> {
        match p.get(k) {
            None | Some("") => Ok(0),
            Some(v) => v
                .parse::<u32>()
                .map(i64::from)
                .map_err(|_| TempoError::bad(format!("invalid {k}: {v:?} is not Unix seconds"))),
        }
    };
    let (start, end) = (secs("start")?, secs("end")?);
    if start == 0 && end == 0 {
        return Ok(default);
    }
    if end <= start {
        return Err(TempoError::bad(format!(
            "http parameter start must be before end. received start={start} end={end}"
        )));
    }
    // The end second is included.
    Ok((start * NS_PER_S, (end + 1) * NS_PER_S))
}

/// The protobuf answers' shapes (Tempo's `tempopb`): a trace is a list of
/// OTLP `ResourceSpans` under field 1, as OTLP's `TracesData` is.
mod tempopb {
    use sightline_ingest::otlp::proto::trace::v1::ResourceSpans;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Trace {
        #[prost(message, repeated, tag = "1")]
        pub resource_spans: Vec<ResourceSpans>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TraceByIdMetrics {
        #[prost(uint64, tag = "1")]
        pub inspected_bytes: u64,
    }

    /// `TraceByIDResponse`; its `status` 0 is COMPLETE.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TraceByIdResponse {
        #[prost(message, optional, tag = "1")]
        pub trace: Option<Trace>,
        #[prost(message, optional, tag = "2")]
        pub metrics: Option<TraceByIdMetrics>,
        #[prost(int32, tag = "3")]
        pub status: i32,
        #[prost(string, tag = "4")]
        pub message: String,
    }
}

fn wants_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/protobuf"))
}

/// The trace's spans as OTLP, and the bytes read; not found when the
/// trace has no span the caller may see.
async fn find_trace(
    s: &AppState,
    scope: &Scope,
    id: &str,
    p: &Params,
) -> Result<
    (
        Vec<sightline_ingest::otlp::proto::trace::v1::ResourceSpans>,
        u64,
    ),
    TempoError,
> {
    let trace_id = sightline_core::span::parse_trace_id(id).map_err(TempoError::bad)?;
    let (start, end) = window(p, (0, i64::MAX))?;
    let read = scope.read()?;
    let max = search::MAX_SPANS_READ;
    let spans = s
        .engine
        .spans(&read, Some(trace_id), start, end, max + 1)
        .await?;
    if spans.len() > max {
        return Err(TempoError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            msg: format!("trace too large: more than {max} spans"),
        });
    }
    let bytes: u64 = spans.iter().map(|x| x.size() as u64).sum();
    let (traces, bad) = view::traces(spans);
    if bad > 0 {
        tracing::error!(trace = id, spans = bad, "stored spans that do not decode");
    }
    let Some(t) = traces.into_iter().next() else {
        return Err(TempoError::not_found());
    };
    Ok((view::resource_spans(&t.spans), bytes))
}

fn body(content_type: &'static str, bytes: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type)],
        bytes,
    )
        .into_response()
}

/// `GET /api/traces/<id>`: the trace as `tempopb.Trace` (protobuf), or as
/// OTLP JSON under `batches`; 404 when there is none.
pub(crate) async fn trace_v1(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path(id): Path<String>,
    headers: HeaderMap,
    p: Params,
) -> Response {
    answer(
        async {
            let (rs, _) = find_trace(&s, &scope, &id, &p).await?;
            Ok(if wants_protobuf(&headers) {
                let t = tempopb::Trace { resource_spans: rs };
                body("application/protobuf", t.encode_to_vec())
            } else {
                let batches: Vec<_> = rs.iter().map(json::resource_spans).collect();
                body(
                    "application/json",
                    serde_json::json!({ "batches": batches })
                        .to_string()
                        .into_bytes(),
                )
            })
        }
        .await,
    )
}

/// `GET /api/v2/traces/<id>`: `tempopb.TraceByIDResponse` (protobuf), or
/// `{"trace":{"resourceSpans":[…]},"metrics":{…}}`; 404 when there is
/// none (Grafana then asks `/api/traces/<id>`, which answers the same).
pub(crate) async fn trace_v2(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path(id): Path<String>,
    headers: HeaderMap,
    p: Params,
) -> Response {
    answer(
        async {
            let (rs, bytes) = find_trace(&s, &scope, &id, &p).await?;
            Ok(if wants_protobuf(&headers) {
                let r = tempopb::TraceByIdResponse {
                    trace: Some(tempopb::Trace { resource_spans: rs }),
                    metrics: Some(tempopb::TraceByIdMetrics {
                        inspected_bytes: bytes,
                    }),
                    status: 0,
                    message: String::new(),
                };
                body("application/protobuf", r.encode_to_vec())
            } else {
                let rs: Vec<_> = rs.iter().map(json::resource_spans).collect();
                body(
                    "application/json",
                    serde_json::json!({
                        "trace": { "resourceSpans": rs },
                        "metrics": { "inspectedBytes": bytes.to_string() },
                    })
                    .to_string()
                    .into_bytes(),
                )
            })
        }
        .await,
    )
}

/// `GET /api/echo`: Grafana's "Save & test".
pub(crate) async fn echo() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "echo\n",
    )
        .into_response()
}

/// The Tempo API version this one answers as. Grafana turns features on
/// by it: below 2.2.0 it never tries Tempo's gRPC streaming search, which
/// is not served here.
pub const TEMPO_API_VERSION: &str = "2.1.0";

/// `GET /api/status/buildinfo`.
pub(crate) async fn buildinfo() -> Response {
    let v = serde_json::json!({
        "version": TEMPO_API_VERSION,
        "revision": format!("sightline-{}", env!("CARGO_PKG_VERSION")),
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    });
    body("application/json", v.to_string().into_bytes())
}
