//! OTLP/gRPC (`docs/otlp-semantics.md` §1): `TraceService/Export`,
//! `MetricsService/Export` and `LogsService/Export` on the gRPC listener, gzip accepted. The token
//! comes from the `authorization` metadata (Bearer, or basic with the
//! token as password) and is checked before any service by the same code
//! as the HTTP doors (`auth::authorize`): UNAUTHENTICATED for an unknown,
//! expired or revoked token, PERMISSION_DENIED for the wrong kind,
//! RESOURCE_EXHAUSTED with `google.rpc.RetryInfo` past the token's rate.
//! A refusal of the write maps by its kind (`super::grpc_code`), with
//! RetryInfo where a retry later helps; records refused one by one come
//! back as the response's partial success.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prost::Message;
use sightline_gateway::Refusal;
use sightline_ingest::otlp::proto::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use sightline_ingest::otlp::proto::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use sightline_ingest::otlp::proto::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use sightline_ingest::otlp::proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use sightline_ingest::otlp::proto::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use sightline_ingest::otlp::proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;

use super::{export_logs, export_metrics, export_traces, grpc_code, rpc_status};
use sightline_control::Need;

use crate::auth::{authorize, peer_address};
use crate::{ApiError, AppState, Scope};

/// The OTLP services over one server's state.
#[derive(Clone)]
struct Otlp {
    state: AppState,
}

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

#[tonic::async_trait]
impl MetricsService for Otlp {
    async fn export(
        &self,
        req: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let scope = scope_of(&req)?;
        let req = req.into_inner();
        let raw_bytes = req.encoded_len();
        let e = export_metrics(&self.state, &scope, req, raw_bytes)
            .await
            .map_err(refusal)?;
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: (e.refused.count > 0).then(|| ExportMetricsPartialSuccess {
                rejected_data_points: i64::try_from(e.refused.count).unwrap_or(i64::MAX),
                error_message: e.refused.message(),
            }),
        }))
    }
}

#[tonic::async_trait]
impl TraceService for Otlp {
    async fn export(
        &self,
        req: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let scope = scope_of(&req)?;
        let e = export_traces(&self.state, &scope, req.into_inner())
            .await
            .map_err(refusal)?;
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: (e.refused.count > 0).then(|| ExportTracePartialSuccess {
                rejected_spans: i64::try_from(e.refused.count).unwrap_or(i64::MAX),
                error_message: e.refused.message(),
            }),
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Otlp {
    async fn export(
        &self,
        req: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        let scope = scope_of(&req)?;
        let e = export_logs(&self.state, &scope, req.into_inner())
            .await
            .map_err(refusal)?;
        Ok(tonic::Response::new(ExportLogsServiceResponse {
            partial_success: (e.refused.count > 0).then(|| ExportLogsPartialSuccess {
                rejected_log_records: i64::try_from(e.refused.count).unwrap_or(i64::MAX),
                error_message: e.refused.message(),
            }),
        }))
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
    let svc = Otlp {
        state: state.clone(),
    };
    let metrics = MetricsServiceServer::new(svc.clone())
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    let logs = LogsServiceServer::new(svc.clone())
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    let traces = TraceServiceServer::new(svc)
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    tonic::service::Routes::new(metrics)
        .add_service(logs)
        .add_service(traces)
        .into_axum_router()
        .layer(axum::middleware::from_fn_with_state(state, require))
}
