//! The Prometheus remote_write receiver: decodes the body and hands the
//! batch to the ingest gateway, then answers its outcome as HTTP.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sightline_gateway::Refusal;
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
    if let Some(enc) = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        && !enc.eq_ignore_ascii_case("snappy")
    {
        let r = Refusal::UnsupportedEncoding(format!(
            "unsupported Content-Encoding {enc:?}: remote_write bodies are snappy-compressed"
        ));
        return refusal_response(s.gateway.refuse_payload(
            &tenant,
            sightline_core::Signal::Metrics,
            r,
        ));
    }
    // The uncompressed size is what the daily byte quota counts.
    let raw_bytes = snap::raw::decompress_len(&body).unwrap_or(body.len());
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
            return refusal_response(s.gateway.refuse_payload(
                &tenant,
                sightline_core::Signal::Metrics,
                e.into(),
            ));
        }
        Err(e) => {
            let r = Refusal::Internal(format!("decode task failed: {e}"));
            return refusal_response(s.gateway.refuse_payload(
                &tenant,
                sightline_core::Signal::Metrics,
                r,
            ));
        }
    };
    match s.gateway.write_metrics(&scope.auth, batch, raw_bytes).await {
        // As the senders expect of a per-tenant series limit: the other
        // series are written, and a 4xx tells the sender not to retry.
        Ok(written) => match written.partial() {
            Some(r) => refusal_response(r),
            None => StatusCode::NO_CONTENT.into_response(),
        },
        Err(r) => refusal_response(r),
    }
}

/// A refusal as remote_write senders are answered: the write path's own
/// refusals in plain text, those of the token's limits and of the server as
/// the API's JSON errors.
fn refusal_response(r: Refusal) -> Response {
    let msg = r.to_string();
    let retry_after = r.retry_after_secs();
    match r {
        Refusal::NoWorkspace => ApiError::Forbidden(msg).into_response(),
        Refusal::QuotaExceeded(q) => ApiError::RateLimited {
            msg,
            retry_after_secs: q.retry_after_secs,
        }
        .into_response(),
        Refusal::Control(e) => ApiError::from(e).into_response(),
        Refusal::Internal(_) => ApiError::Internal(msg).into_response(),
        Refusal::ServiceNotAllowed(_) => plain(StatusCode::FORBIDDEN, msg),
        Refusal::Cardinality(_) | Refusal::BadData(_) => plain(StatusCode::BAD_REQUEST, msg),
        Refusal::TooLarge(_) => plain(StatusCode::PAYLOAD_TOO_LARGE, msg),
        Refusal::UnsupportedEncoding(_) => plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, msg),
        Refusal::Overloaded { .. } => {
            let mut resp = plain(StatusCode::TOO_MANY_REQUESTS, msg);
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            resp
        }
        Refusal::Wal(_) | Refusal::ShuttingDown => plain(StatusCode::SERVICE_UNAVAILABLE, msg),
    }
}
