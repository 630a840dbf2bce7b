//! The HTTP API: the Prometheus query API, the remote_write receiver, the
//! admin API, health and `/metrics`. This crate is the only owner of wire
//! JSON types.
//!
//! Invariants kept here:
//! - every route but health and `/metrics` sits behind the authentication
//!   middleware of its group, which resolves the bearer (or basic-auth
//!   password) token to a [`Scope`] before any handler runs: ingest routes
//!   take only ingest tokens, query routes only report tokens, admin routes
//!   only admin tokens (401 for a missing, unknown, revoked or expired
//!   token; 403 for the wrong kind);
//! - handlers take the tenant from that [`Scope`] only; no header, parameter
//!   or payload field can name another tenant;
//! - every error is a JSON (or plain-text, on the write path) message with
//!   the right status; nothing panics on input.

mod admin;
mod auth;
mod error;
mod params;
mod prom;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use sightline_control::{ControlPlane, TokenKind};
use sightline_engine::Engine;
use sightline_ingest::remote_write::DecodeLimits;

pub use auth::Scope;
pub use error::ApiError;

/// API settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted on the write path, in bytes.
    pub max_body_bytes: usize,
    pub decode: DecodeLimits,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body_bytes: 16 << 20,
            decode: DecodeLimits::default(),
        }
    }
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub control: Arc<ControlPlane>,
    pub metrics: Option<PrometheusHandle>,
    pub cfg: Arc<ApiConfig>,
}

/// Builds the whole HTTP router.
pub fn router(state: AppState) -> Router {
    let query = Router::new()
        .route("/api/v1/query", get(prom::query).post(prom::query))
        .route(
            "/api/v1/query_range",
            get(prom::query_range).post(prom::query_range),
        )
        .route("/api/v1/labels", get(prom::labels).post(prom::labels))
        .route("/api/v1/label/{name}/values", get(prom::label_values))
        .route("/api/v1/series", get(prom::series).post(prom::series))
        .route("/api/v1/metadata", get(prom::metadata))
        .route("/api/v1/status/buildinfo", get(prom::buildinfo))
        .route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), TokenKind::Report),
            auth::require,
        ));
    let ingest = Router::new()
        .route("/api/v1/write", post(write::remote_write))
        .layer(DefaultBodyLimit::max(state.cfg.max_body_bytes))
        .route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), TokenKind::Ingest),
            auth::require,
        ));
    let admin = Router::new()
        .route(
            "/admin/v1/tenants",
            post(admin::create_tenant).get(admin::list_tenants),
        )
        .route(
            "/admin/v1/tokens",
            post(admin::create_token).get(admin::list_tokens),
        )
        .route("/admin/v1/tokens/{id}", delete(admin::revoke_token))
        .route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), TokenKind::Admin),
            auth::require,
        ));
    Router::new()
        .merge(query)
        .merge(ingest)
        .merge(admin)
        .route("/-/healthy", get(|| async { "Sightline is Healthy.\n" }))
        .route("/-/ready", get(|| async { "Sightline is Ready.\n" }))
        .route("/metrics", get(metrics_text))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .with_state(state)
}

async fn metrics_text(axum::extract::State(s): axum::extract::State<AppState>) -> String {
    s.metrics.as_ref().map(|h| h.render()).unwrap_or_default()
}

/// Serves the router on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
