//! The envelope every Prometheus API answer is written in
//! (`{"status":"success","data":…}`, with the query's warnings and infos),
//! and the per-endpoint request counter
//! `sightline_query_requests_total{tenant,endpoint,outcome}`.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::{ApiError, Scope};

/// Prometheus's success envelope.
#[derive(Serialize)]
struct Success<'a, T: Serialize> {
    status: &'static str,
    data: T,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    infos: &'a [String],
}

/// `data` as a success answer.
pub(super) fn ok<T: Serialize>(data: T) -> Response {
    respond(data, &[], &[])
}

/// `data` as a success answer with the query's warnings and infos.
pub(super) fn respond<T: Serialize>(data: T, warnings: &[String], infos: &[String]) -> Response {
    let body = Success {
        status: "success",
        data,
        warnings,
        infos,
    };
    match serde_json::to_vec(&body) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => ApiError::Internal(format!("encoding the response: {e}")).into_response(),
    }
}

fn count(scope: &Scope, endpoint: &'static str, outcome: &'static str) {
    let tenant = scope.tenant().map(|t| t.to_string()).unwrap_or_default();
    metrics::counter!("sightline_query_requests_total", "tenant" => tenant, "endpoint" => endpoint, "outcome" => outcome)
        .increment(1);
}

/// Counts the request's outcome and answers it: the response, or the
/// error with its status.
pub(super) fn finish(
    scope: &Scope,
    endpoint: &'static str,
    r: Result<Response, ApiError>,
) -> Response {
    match r {
        Ok(resp) => {
            count(scope, endpoint, "success");
            resp
        }
        Err(e) => {
            count(scope, endpoint, e.error_type());
            e.into_response()
        }
    }
}
