//! `POST /loki/api/v1/push`: Loki's push API. Decodes the body as Loki
//! does (snappy protobuf, or JSON; either inside gzip or deflate), hands
//! the streams to the ingest gateway, and answers as Loki answers: 204, or
//! plain text with the status of the refusal.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sightline_gateway::Refusal;
use sightline_ingest::loki_push::{self, Inflate};

use super::params::now_ns;
use crate::{AppState, Scope};

/// Loki's push answers are plain text ending in a newline.
fn plain(status: StatusCode, msg: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
}

/// How the body is to be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Protobuf,
}

/// The body's media type as Loki reads it: `application/json` is JSON,
/// any other valid media type snappy protobuf, none an error.
fn format_of(headers: &HeaderMap) -> Result<Format, String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("\u{0}"))
        .unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    if media.is_empty() {
        return Err("mime: no media type".into());
    }
    let valid = media.split_once('/').is_some_and(|(a, b)| {
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
        };
        token(a) && token(b)
    });
    if !valid {
        return Err("mime: expected slash after first token".into());
    }
    Ok(if media.eq_ignore_ascii_case("application/json") {
        Format::Json
    } else {
        Format::Protobuf
    })
}

pub async fn push(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tenant = match scope.tenant() {
        Ok(t) => t.clone(),
        Err(e) => return plain(StatusCode::FORBIDDEN, &e.to_string()),
    };
    let inflate = match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?"))
        .map(str::trim)
    {
        None | Some("") => None,
        Some(e) if e.eq_ignore_ascii_case("snappy") || e.eq_ignore_ascii_case("identity") => None,
        Some(e) if e.eq_ignore_ascii_case("gzip") => Some(Inflate::Gzip),
        Some(e) if e.eq_ignore_ascii_case("deflate") => Some(Inflate::Deflate),
        Some(e) => {
            let r = Refusal::BadData(format!("Content-Encoding {e:?} not supported"));
            return refusal_response(s.gateway.refuse_payload(
                &tenant,
                sightline_core::Signal::Logs,
                r,
            ));
        }
    };
    let format = match format_of(&headers) {
        Ok(f) => f,
        Err(m) => {
            return refusal_response(s.gateway.refuse_payload(
                &tenant,
                sightline_core::Signal::Logs,
                Refusal::BadData(m),
            ));
        }
    };
    let limits = s.cfg.push_limits;
    let t = tenant.clone();
    let now_ns = now_ns();
    // Inflating and decoding are CPU work: off the async workers.
    let decoded = tokio::task::spawn_blocking(move || {
        let raw = match inflate {
            Some(enc) => loki_push::inflate(&body, enc, limits.max_decompressed_bytes)?,
            None => body.to_vec(),
        };
        match format {
            Format::Json => loki_push::decode_json(&t, &raw, &limits, now_ns),
            Format::Protobuf => loki_push::decode_protobuf(&t, &raw, &limits, now_ns),
        }
    })
    .await;
    let decoded = match decoded {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            return refusal_response(s.gateway.refuse_payload(
                &tenant,
                sightline_core::Signal::Logs,
                e.into(),
            ));
        }
        Err(e) => {
            let r = Refusal::Internal(format!("decode task failed: {e}"));
            return refusal_response(s.gateway.refuse_payload(
                &tenant,
                sightline_core::Signal::Logs,
                r,
            ));
        }
    };
    let refused = decoded.refused;
    let refused_entries = decoded.refused_entries;
    let batch = decoded.batch;
    let bytes = batch.byte_count();
    let written = if batch.streams.is_empty() {
        None
    } else {
        match s.gateway.write_logs(&scope.auth, batch, bytes).await {
            Ok(w) => Some(w),
            Err(r) => return refusal_response(r),
        }
    };
    // Loki stores the valid entries and answers 400 naming the others.
    let mut problems: Vec<String> = Vec::new();
    if let Some(r) = written.and_then(|w| w.partial()) {
        problems.push(r.to_string());
    }
    problems.extend(refused);
    if problems.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    if refused_entries > 0 {
        s.gateway.count_invalid_entries(&tenant, refused_entries);
    }
    plain(StatusCode::BAD_REQUEST, &group(problems))
}

/// Distinct messages, as Loki groups them: a message repeated gets a count.
fn group(problems: Vec<String>) -> String {
    let mut out: Vec<(String, usize)> = Vec::new();
    for p in problems {
        match out.iter_mut().find(|(m, _)| *m == p) {
            Some((_, n)) => *n += 1,
            None => out.push((p, 1)),
        }
    }
    out.into_iter()
        .map(|(m, n)| {
            if n > 1 {
                format!("{n} errors like: {m}")
            } else {
                m
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A refusal as Loki's push answers: plain text, the status of its kind,
/// Retry-After where a retry later helps.
fn refusal_response(r: Refusal) -> Response {
    use sightline_gateway::RefusalKind as K;
    let msg = r.to_string();
    let status = match r.kind() {
        K::NotAllowed => StatusCode::FORBIDDEN,
        K::QuotaExceeded | K::Overloaded => StatusCode::TOO_MANY_REQUESTS,
        K::Cardinality | K::BadData | K::UnsupportedEncoding => StatusCode::BAD_REQUEST,
        K::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        K::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        K::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut resp = plain(status, &msg);
    if let Some(secs) = r.retry_after_secs() {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}
