//! The Prometheus remote_write receiver.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sightline_control::Need;
use sightline_ingest::IngestError;
use sightline_ingest::policy::WritePolicy;
use sightline_ingest::remote_write;

use crate::auth::count_refused;
use crate::{ApiError, AppState, Scope};

fn plain(status: StatusCode, msg: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        msg + "\n",
    )
        .into_response()
}

/// `POST /api/v1/write`: snappy-compressed remote_write 1.0 protobuf.
pub async fn remote_write(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tenant = match scope.tenant() {
        Ok(t) => t.clone(),
        Err(e) => return e.into_response(),
    };
    let outcome = |o: &'static str| {
        metrics::counter!("sightline_ingest_requests_total", "tenant" => tenant.to_string(), "outcome" => o).increment(1);
    };
    if let Some(enc) = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        && !enc.eq_ignore_ascii_case("snappy")
    {
        outcome("bad_request");
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "unsupported Content-Encoding {enc:?}: remote_write bodies are snappy-compressed"
            ),
        );
    }
    // The uncompressed size is what the daily byte quota counts.
    let raw_bytes = snap::raw::decompress_len(&body).unwrap_or(body.len());
    let decode_limits = s.cfg.decode;
    let t = tenant.clone();
    // The token's scope: labels overwritten, services checked, sensitive
    // values redacted; a refusal writes nothing.
    let policy = WritePolicy {
        scope_labels: crate::auth::scope_labels(&scope.auth),
        allowed_services: scope.auth.allowed_services.clone(),
        redact_keys: s.cfg.redact_keys.clone(),
    };
    // Decompression, protobuf decoding and the policy are CPU work: keep
    // them off the async workers.
    let decoded = tokio::task::spawn_blocking(move || {
        let mut b = remote_write::decode_snappy(&t, &body, &decode_limits)?;
        policy.apply(&mut b)?;
        Ok::<_, IngestError>(b)
    })
    .await;
    let batch = match decoded {
        Ok(Ok(b)) => b,
        Ok(Err(e @ IngestError::Forbidden(_))) => {
            outcome("forbidden");
            count_refused(Need::Write, tenant.as_str(), "service_not_allowed");
            return ingest_error(e);
        }
        Ok(Err(e)) => {
            outcome("bad_request");
            return ingest_error(e);
        }
        Err(e) => {
            outcome("error");
            return ApiError::Internal(format!("decode task failed: {e}")).into_response();
        }
    };
    let mut batch = batch;
    let now_secs = now_ms() / 1000;
    match s
        .quotas
        .charge(&scope.auth, "metrics", raw_bytes as i64, now_secs)
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(q)) => {
            outcome("quota_exceeded");
            count_refused(Need::Write, tenant.as_str(), "quota_exceeded");
            return ApiError::RateLimited {
                msg: q.to_string(),
                retry_after_secs: q.retry_after_secs,
            }
            .into_response();
        }
        Err(e) => {
            outcome("error");
            return ApiError::from(e).into_response();
        }
    }
    let cap = scope
        .auth
        .limits
        .max_active_series
        .and_then(|n| usize::try_from(n).ok())
        .or(s.cfg.max_active_series);
    let rejected = s.active.admit(&mut batch, cap, now_ms());
    if rejected > 0 {
        metrics::counter!("sightline_ingest_refused_total", "tenant" => tenant.to_string(), "reason" => "high_cardinality")
            .increment(rejected as u64);
    }
    let samples = batch.sample_count();
    if !batch.series.is_empty() || !batch.metadata.is_empty() {
        if let Err(e) = s.engine.write(batch).await {
            // Not stored: the bytes do not count against the quota.
            s.quotas
                .refund(&scope.auth, "metrics", raw_bytes as i64, now_secs);
            outcome("error");
            return ingest_error(e);
        }
        metrics::counter!("sightline_ingest_samples_total", "tenant" => tenant.to_string())
            .increment(samples as u64);
    }
    if rejected > 0 {
        // As the senders expect of a per-tenant series limit: the other
        // series are written, and a 4xx tells the sender not to retry.
        outcome("high_cardinality");
        return plain(
            StatusCode::BAD_REQUEST,
            format!(
                "{rejected} new series rejected: the workspace has reached its limit of {} active series (the other series were written)",
                cap.unwrap_or_default()
            ),
        );
    }
    outcome("success");
    StatusCode::NO_CONTENT.into_response()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn ingest_error(e: IngestError) -> Response {
    match e {
        IngestError::BadInput(m) => plain(StatusCode::BAD_REQUEST, m),
        IngestError::TooLarge(m) => plain(StatusCode::PAYLOAD_TOO_LARGE, m),
        IngestError::Forbidden(m) => plain(StatusCode::FORBIDDEN, m),
        IngestError::Overloaded(m) => {
            let mut r = plain(StatusCode::TOO_MANY_REQUESTS, m);
            r.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
            r
        }
        IngestError::Wal(e) => {
            tracing::error!(error = %e, "write not acknowledged");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("write-ahead log: {e}"),
            )
        }
        IngestError::Closed => plain(StatusCode::SERVICE_UNAVAILABLE, "shutting down".into()),
    }
}
