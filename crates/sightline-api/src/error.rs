use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sightline_engine::EngineError;
use thiserror::Error;

/// An API error, with the status and Prometheus `errorType` it maps to.
#[derive(Debug, Error)]
pub enum ApiError {
    #[error("{0}")]
    BadData(String),
    #[error("{0}")]
    Execution(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    TooMany(String),
    /// A rate limit or quota: 429 with its own Retry-After.
    #[error("{msg}")]
    RateLimited { msg: String, retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    status: &'static str,
    #[serde(rename = "errorType")]
    error_type: &'static str,
    error: &'a str,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadData(_) => StatusCode::BAD_REQUEST,
            ApiError::Execution(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooMany(_) | ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::BadData(_) => "bad_data",
            ApiError::Execution(_) => "execution",
            ApiError::Timeout(_) => "timeout",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge(_) => "too_large",
            ApiError::TooMany(_) | ApiError::RateLimited { .. } => "too_many_requests",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let msg = self.to_string();
        let body = ErrorBody {
            status: "error",
            error_type: self.error_type(),
            error: &msg,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (self.status(), json).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if matches!(self, ApiError::Unauthorized(_)) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sightline\""),
            );
        }
        match &self {
            ApiError::TooMany(_) => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::RateLimited {
                retry_after_secs, ..
            } => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        resp
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::BadData(m) => ApiError::BadData(m),
            EngineError::Execution(m) => ApiError::Execution(m),
            EngineError::Timeout(m) => ApiError::Timeout(format!("query timed out in {m}")),
            EngineError::Unavailable(m) => {
                tracing::warn!(error = %m, "storage unavailable");
                ApiError::Unavailable(m)
            }
            EngineError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                ApiError::Internal(m)
            }
        }
    }
}

impl From<sightline_control::ControlError> for ApiError {
    fn from(e: sightline_control::ControlError) -> Self {
        use sightline_control::ControlError as C;
        match e {
            C::Invalid(m) => ApiError::BadData(m),
            C::Denied(m) => ApiError::Forbidden(m),
            C::NotFound(m) => ApiError::NotFound(format!("{m} not found")),
            C::Conflict(m) => ApiError::Conflict(format!("{m} already exists")),
            other => {
                // The database's own words stay in the log.
                tracing::error!(error = %other, "control plane error");
                ApiError::Unavailable("the control plane is unavailable; try again".into())
            }
        }
    }
}
