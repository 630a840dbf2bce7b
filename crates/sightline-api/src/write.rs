//! The Prometheus remote_write receiver.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sightline_ingest::IngestError;
use sightline_ingest::remote_write;

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
    let decode_limits = s.cfg.decode;
    let t = tenant.clone();
    // Decompression and protobuf decoding are CPU work: keep them off the
    // async workers.
    let decoded =
        tokio::task::spawn_blocking(move || remote_write::decode_snappy(&t, &body, &decode_limits))
            .await;
    let batch = match decoded {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            outcome("bad_request");
            return ingest_error(e);
        }
        Err(e) => {
            outcome("error");
            return ApiError::Internal(format!("decode task failed: {e}")).into_response();
        }
    };
    let samples = batch.sample_count();
    match s.engine.write(batch).await {
        Ok(()) => {
            outcome("success");
            metrics::counter!("sightline_ingest_samples_total", "tenant" => tenant.to_string())
                .increment(samples as u64);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            outcome("error");
            ingest_error(e)
        }
    }
}

fn ingest_error(e: IngestError) -> Response {
    match e {
        IngestError::BadInput(m) => plain(StatusCode::BAD_REQUEST, m),
        IngestError::TooLarge(m) => plain(StatusCode::PAYLOAD_TOO_LARGE, m),
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
