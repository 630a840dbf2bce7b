//! OTLP/gRPC (`docs/otlp-semantics.md` §1): `TraceService/Export`,
//! `MetricsService/Export` and `LogsService/Export` on the gRPC listener, gzip accepted. The token
//! comes from the `authorization` metadata (Bearer, or basic with the
//! token as password) and is checked before any service by the same code
//! as the HTTP doors (`auth::authorize`): UNAUTHENTICATED for an unknown,
//! expired or revoked token, PERMISSION_DENIED for the wrong kind,
//! RESOURCE_EXHAUSTED with `google.rpc.RetryInfo` past the token's rate.
//! A refusal of the write maps by its kind (`super::grpc_code`), with
//! RetryInfo where a retry later helps; records refused one by one come
//! back as the response's partial success. The services are served here
//! rather than by the generated servers so that a request that does not
//! decode is INVALID_ARGUMENT and one past the size limit
//! RESOURCE_EXHAUSTED (not INTERNAL and OUT_OF_RANGE, which OTLP senders
//! would treat as a server fault and retry).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prost::Message;
use sightline_gateway::Refusal;
use sightline_ingest::otlp::proto::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use sightline_ingest::otlp::proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use sightline_ingest::otlp::proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::marker::PhantomData;
use tonic::codec::{CompressionEncoding, DecodeBuf, EncodeBuf};
use tonic::codegen::{Body, BoxFuture, Context, Poll, Service, StdError, http};

use super::{export_logs, export_metrics, export_traces, grpc_code, rpc_status};
use sightline_control::Need;

use crate::auth::{authorize, peer_address};
use crate::{ApiError, AppState, Scope};

fn scope_of<T>(req: &tonic::Request<T>) -> Result<Scope, tonic::Status> {
    req.extensions()
        .get::<Scope>()
        .cloned()
        .ok_or_else(|| tonic::Status::unauthenticated("missing token"))
}

/// A status with `RetryInfo` in its details when `retry_after_secs` is set.
fn status(code: tonic::Code, msg: String, retry_after_secs: Option<u64>) -> tonic::Status {
    match retry_after_secs {
        Some(secs) => {
            let details = rpc_status(code, &msg, Some(secs)).encode_to_vec();
            tonic::Status::with_details(code, msg, details.into())
        }
        None => tonic::Status::new(code, msg),
    }
}

fn refusal(r: Refusal) -> tonic::Status {
    status(grpc_code(r.kind()), r.to_string(), r.retry_after_secs())
}

/// One OTLP export service: its gRPC name, its messages, how it writes.
trait Export: Send + Sync + 'static {
    const SERVICE: &'static str;
    type Req: Message + Default + Send + 'static;
    type Resp: Message + Send + 'static;
    fn export(state: AppState, scope: Scope, req: Self::Req) -> BoxFuture<Self::Resp, Refusal>;
}

struct Metrics;
struct Logs;
struct Traces;

impl Export for Metrics {
    const SERVICE: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
    type Req = ExportMetricsServiceRequest;
    type Resp = ExportMetricsServiceResponse;
    fn export(state: AppState, scope: Scope, req: Self::Req) -> BoxFuture<Self::Resp, Refusal> {
        Box::pin(async move {
            let raw_bytes = req.encoded_len();
            let e = export_metrics(&state, &scope, req, raw_bytes).await?;
            Ok(ExportMetricsServiceResponse {
                partial_success: (e.refused.count > 0).then(|| ExportMetricsPartialSuccess {
                    rejected_data_points: i64::try_from(e.refused.count).unwrap_or(i64::MAX),
                    error_message: e.refused.message(),
                }),
            })
        })
    }
}

impl Export for Logs {
    const SERVICE: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
    type Req = ExportLogsServiceRequest;
    type Resp = ExportLogsServiceResponse;
    fn export(state: AppState, scope: Scope, req: Self::Req) -> BoxFuture<Self::Resp, Refusal> {
        Box::pin(async move {
            let e = export_logs(&state, &scope, req).await?;
            Ok(ExportLogsServiceResponse {
                partial_success: (e.refused.count > 0).then(|| ExportLogsPartialSuccess {
                    rejected_log_records: i64::try_from(e.refused.count).unwrap_or(i64::MAX),
                    error_message: e.refused.message(),
                }),
            })
        })
    }
}

impl Export for Traces {
    const SERVICE: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    type Req = ExportTraceServiceRequest;
    type Resp = ExportTraceServiceResponse;
    fn export(state: AppState, scope: Scope, req: Self::Req) -> BoxFuture<Self::Resp, Refusal> {
        Box::pin(async move {
            let e = export_traces(&state, &scope, req).await?;
            Ok(ExportTraceServiceResponse {
                partial_success: (e.refused.count > 0).then(|| ExportTracePartialSuccess {
                    rejected_spans: i64::try_from(e.refused.count).unwrap_or(i64::MAX),
                    error_message: e.refused.message(),
                }),
            })
        })
    }
}

/// The protobuf codec of an export: a request that does not decode is
/// the sender's bad data, INVALID_ARGUMENT (a generic protobuf codec
/// answers INTERNAL).
struct Codec<E>(PhantomData<fn() -> E>);

struct Encode<T>(PhantomData<fn(T)>);

struct Decode<T>(PhantomData<fn() -> T>, &'static str);

impl<E: Export> tonic::codec::Codec for Codec<E> {
    type Encode = E::Resp;
    type Decode = E::Req;
    type Encoder = Encode<E::Resp>;
    type Decoder = Decode<E::Req>;
    fn encoder(&mut self) -> Self::Encoder {
        Encode(PhantomData)
    }
    fn decoder(&mut self) -> Self::Decoder {
        Decode(PhantomData, E::SERVICE)
    }
}

impl<T: Message> tonic::codec::Encoder for Encode<T> {
    type Item = T;
    type Error = tonic::Status;
    fn encode(&mut self, item: T, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        item.encode(dst)
            .map_err(|e| tonic::Status::internal(format!("encoding the response: {e}")))
    }
}

impl<T: Message + Default> tonic::codec::Decoder for Decode<T> {
    type Item = T;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<T>, tonic::Status> {
        let service = self.1.rsplit('.').next().unwrap_or(self.1);
        T::decode(src).map(Some).map_err(|e| {
            tonic::Status::invalid_argument(format!(
                "the request is not a valid {service} export (protobuf): {e}"
            ))
        })
    }
}

/// The one method of an export service.
struct Unary<E> {
    state: AppState,
    _e: PhantomData<fn() -> E>,
}

impl<E: Export> tonic::server::UnaryService<E::Req> for Unary<E> {
    type Response = E::Resp;
    type Future = BoxFuture<tonic::Response<E::Resp>, tonic::Status>;
    fn call(&mut self, req: tonic::Request<E::Req>) -> Self::Future {
        let state = self.state.clone();
        Box::pin(async move {
            let scope = scope_of(&req)?;
            let resp = E::export(state, scope, req.into_inner())
                .await
                .map_err(refusal)?;
            Ok(tonic::Response::new(resp))
        })
    }
}

/// An export service on the gRPC listener: `/<service>/Export`, gzip
/// accepted, requests up to `max` bytes after decompression.
struct Door<E> {
    state: AppState,
    max: usize,
    _e: PhantomData<fn() -> E>,
}

impl<E> Clone for Door<E> {
    fn clone(&self) -> Self {
        Door {
            state: self.state.clone(),
            max: self.max,
            _e: PhantomData,
        }
    }
}

impl<E: Export> tonic::server::NamedService for Door<E> {
    const NAME: &'static str = E::SERVICE;
}

impl<E: Export, B> Service<http::Request<B>> for Door<E>
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let is_export = req
            .uri()
            .path()
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(E::SERVICE))
            == Some("/Export");
        if !is_export {
            let st = tonic::Status::unimplemented(format!(
                "{} has no method {}",
                E::SERVICE,
                req.uri().path()
            ));
            return Box::pin(async move { Ok(st.into_http()) });
        }
        let unary = Unary::<E> {
            state: self.state.clone(),
            _e: PhantomData,
        };
        let max = self.max;
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(Codec::<E>(PhantomData))
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(max);
            let mut resp = grpc.unary(unary, req).await;
            // A message past the limit is answered OUT_OF_RANGE, which OTLP
            // senders retry; it is RESOURCE_EXHAUSTED without RetryInfo,
            // which they do not, as a decompressed body past it is.
            let headers = resp.headers_mut();
            if headers
                .get(tonic::Status::GRPC_STATUS)
                .is_some_and(|v| v.as_bytes() == b"11")
            {
                headers.insert(
                    tonic::Status::GRPC_STATUS,
                    (tonic::Code::ResourceExhausted as i32).into(),
                );
            }
            Ok(resp)
        })
    }
}

/// Resolves the token before any service, as the HTTP middleware does;
/// a refusal is answered as a gRPC status.
async fn require(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let address = peer_address(&req);
    match authorize(&state, Need::Write, req.headers(), address).await {
        Ok(scope) => {
            req.extensions_mut().insert(scope);
            next.run(req).await
        }
        Err(e) => {
            let msg = e.to_string();
            let st = match e {
                ApiError::Unauthorized(_) => tonic::Status::unauthenticated(msg),
                ApiError::Forbidden(_) => tonic::Status::permission_denied(msg),
                ApiError::RateLimited {
                    retry_after_secs, ..
                } => status(tonic::Code::ResourceExhausted, msg, Some(retry_after_secs)),
                ApiError::Unavailable(_) => tonic::Status::unavailable(msg),
                _ => tonic::Status::internal(msg),
            };
            st.into_http::<axum::body::Body>().into_response()
        }
    }
}

/// The gRPC listener's routes: the OTLP services behind the token check.
pub fn router(state: AppState) -> axum::Router {
    // The decompressed limit, as on OTLP/HTTP.
    let max = state.cfg.decode.max_decompressed_bytes;
    let st = state.clone();
    tonic::service::Routes::new(Door::<Metrics> {
        state: st.clone(),
        max,
        _e: PhantomData,
    })
    .add_service(Door::<Logs> {
        state: st.clone(),
        max,
        _e: PhantomData,
    })
    .add_service(Door::<Traces> {
        state: st,
        max,
        _e: PhantomData,
    })
    .into_axum_router()
    .layer(axum::middleware::from_fn_with_state(state, require))
}
