//! The OTLP doors: OTLP/HTTP on the main listener (`http.rs`:
//! `POST /v1/traces`, `/v1/metrics`, `/v1/logs`) and OTLP/gRPC on its own
//! listener (`grpc.rs`: `TraceService/Export`, `MetricsService/Export`,
//! `LogsService/Export`). Both decode a
//! request into OTLP's generated types, translate it
//! (`sightline_ingest::otlp`) into the batch of its signal, and hand that
//! to the ingest gateway, the same sequence every door uses; they differ
//! only in how a refusal and a partial success are answered.

pub(crate) mod grpc;
pub(crate) mod http;

use sightline_gateway::{Refusal, RefusalKind};
use sightline_ingest::otlp::proto::collector::logs::v1::ExportLogsServiceRequest;
use sightline_ingest::otlp::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use sightline_ingest::otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
use sightline_ingest::otlp::{self, Refused};
use sightline_ingest::proto::rpc_status;

use crate::loki::now_ns;
use crate::{AppState, Scope};

/// What an export wrote: the records refused (OTLP's partial success).
#[derive(Debug, Default)]
pub(crate) struct Exported {
    pub refused: Refused,
}

/// How OTLP names a failure, by the refusal's kind (the OTLP
/// specification's retryable codes for the write path's and the quotas'
/// refusals, permanent ones for the rest).
pub(crate) fn grpc_code(kind: RefusalKind) -> tonic::Code {
    use RefusalKind as K;
    match kind {
        K::NotAllowed => tonic::Code::PermissionDenied,
        K::QuotaExceeded => tonic::Code::ResourceExhausted,
        K::Overloaded | K::Unavailable => tonic::Code::Unavailable,
        // Too large is not retryable: RESOURCE_EXHAUSTED without RetryInfo.
        K::TooLarge => tonic::Code::ResourceExhausted,
        K::Cardinality | K::BadData | K::UnsupportedEncoding => tonic::Code::InvalidArgument,
        K::Internal => tonic::Code::Internal,
    }
}

/// `google.rpc.Status` with a `RetryInfo` when a retry later helps.
pub(crate) fn rpc_status(
    code: tonic::Code,
    msg: &str,
    retry_after_secs: Option<u64>,
) -> rpc_status::Status {
    use prost::Message;
    let details = retry_after_secs
        .map(|secs| rpc_status::Any {
            type_url: rpc_status::RETRY_INFO_TYPE.into(),
            value: rpc_status::RetryInfo {
                retry_delay: Some(rpc_status::Duration {
                    seconds: i64::try_from(secs).unwrap_or(i64::MAX),
                    nanos: 0,
                }),
            }
            .encode_to_vec(),
        })
        .into_iter()
        .collect();
    rpc_status::Status {
        code: code as i32,
        message: msg.to_string(),
        details,
    }
}

/// Translates and writes a metrics export for the caller's token.
pub(crate) async fn export_metrics(
    s: &AppState,
    scope: &Scope,
    req: ExportMetricsServiceRequest,
    raw_bytes: usize,
) -> Result<Exported, Refusal> {
    let tenant = scope.tenant().map_err(|_| Refusal::NoWorkspace)?.clone();
    let settings = s.cfg.otlp.metrics.clone();
    let limits = s.cfg.decode;
    let t = tenant.clone();
    let now_ms = now_ns() / 1_000_000;
    let translated = tokio::task::spawn_blocking(move || {
        otlp::metrics::translate(&t, req, &settings, &limits, now_ms)
    })
    .await
    .map_err(|e| Refusal::Internal(format!("translation task failed: {e}")))?;
    let (batch, mut refused) = match translated {
        Ok(v) => v,
        Err(e) => {
            return Err(s.gateway.refuse_payload(
                &tenant,
                sightline_core::Signal::Metrics,
                e.into(),
            ));
        }
    };
    if batch.series.is_empty() && batch.metadata.is_empty() {
        return Ok(Exported { refused });
    }
    let samples = batch.sample_count();
    let written = s
        .gateway
        .write_metrics(&scope.auth, batch, raw_bytes)
        .await?;
    if let Some(hit) = written.cap_hit {
        refused.add(
            samples.saturating_sub(written.samples) as u64,
            hit.to_string(),
        );
    }
    Ok(Exported { refused })
}

/// Translates and writes a logs export for the caller's token.
pub(crate) async fn export_logs(
    s: &AppState,
    scope: &Scope,
    req: ExportLogsServiceRequest,
) -> Result<Exported, Refusal> {
    let tenant = scope.tenant().map_err(|_| Refusal::NoWorkspace)?.clone();
    let settings = s.cfg.otlp.logs.clone();
    let limits = s.cfg.push_limits;
    let now = now_ns();
    let t = tenant.clone();
    let translated = tokio::task::spawn_blocking(move || {
        otlp::logs::translate(&t, req, &settings, &limits, now)
    })
    .await
    .map_err(|e| Refusal::Internal(format!("translation task failed: {e}")))?;
    let (decoded, mut refused) = match translated {
        Ok(v) => v,
        Err(e) => {
            return Err(s
                .gateway
                .refuse_payload(&tenant, sightline_core::Signal::Logs, e.into()));
        }
    };
    if decoded.refused_entries > 0 {
        s.gateway
            .count_invalid_entries(&tenant, decoded.refused_entries);
    }
    let batch = decoded.batch;
    if batch.streams.is_empty() {
        return Ok(Exported { refused });
    }
    let entries = batch.entry_count();
    let bytes = batch.byte_count();
    let written = s.gateway.write_logs(&scope.auth, batch, bytes).await?;
    if let Some(hit) = written.cap_hit {
        refused.add(
            entries.saturating_sub(written.samples) as u64,
            hit.to_string(),
        );
    }
    Ok(Exported { refused })
}

/// Writes a trace export for the caller's token: the gateway's policy
/// translates it (the scope and redaction go into each span's stored OTLP
/// form), so it is handed over as decoded.
pub(crate) async fn export_traces(
    s: &AppState,
    scope: &Scope,
    req: ExportTraceServiceRequest,
) -> Result<Exported, Refusal> {
    s.gateway.write_spans(&scope.auth, req).await?;
    Ok(Exported::default())
}

/// How the OTLP doors translate: names, promoted resource attributes, the
/// resource attributes that become log stream labels.
#[derive(Debug, Clone, Default)]
pub struct OtlpSettings {
    pub metrics: otlp::metrics::MetricSettings,
    pub logs: otlp::logs::LogSettings,
}
