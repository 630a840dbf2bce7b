//! The HTTP API: the Prometheus query API, the remote_write receiver, the
//! admin API, health and `/metrics`. This crate is the only owner of wire
//! JSON types.
//!
//! Invariants kept here:
//! - every route but health and `/metrics` sits behind the authentication
//!   middleware of its group, which resolves the bearer (or basic-auth
//!   password) token to a [`Scope`] before any handler runs: ingest routes
//!   take only ingest tokens, query routes only report tokens (and cli
//!   tokens), admin routes only admin tokens (and cli operator tokens);
//!   401 for a missing, unknown, revoked or expired token, 403 for the
//!   wrong kind, 429 with Retry-After past the token's rate;
//! - a token scoped below its workspace writes its project, application
//!   and environment labels over the producer's and reads only series
//!   that carry them; an ingest token writes only for its allowed
//!   services; values under sensitive keys are redacted before the WAL
//!   (all of it in `sightline_gateway`, which every ingest handler hands
//!   its decoded batch to);
//! - handlers take the tenant from that [`Scope`] only; no header, parameter
//!   or payload field can name another tenant;
//! - every error is a JSON (or plain-text, on the write path) message with
//!   the right status; nothing panics on input;
//! - with TLS configured, a connection reaches the router only after its
//!   handshake completed (and, with a client CA, after the client's
//!   certificate was verified); a failed or slow handshake never holds up
//!   the accept loop ([`tls`]).

mod admin;
mod auth;
mod error;
mod loki;
mod otlp;
mod params;
mod prom;
mod tempo;
pub mod tls;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use loki::detected as ld;
use loki::query as lq;
pub use loki::tail::TailLimits;
use metrics_exporter_prometheus::PrometheusHandle;
pub use otlp::OtlpSettings;
pub use otlp::grpc::router as otlp_grpc_router;
use sightline_control::{ControlPlane, Need, Quotas, RateLimiter};
use sightline_engine::Engine;
use sightline_gateway::{Gateway, GatewayConfig};
pub use sightline_ingest::loki_push::PushLimits;
pub use sightline_ingest::otlp::logs::LogSettings;
pub use sightline_ingest::otlp::metrics::MetricSettings;
use sightline_ingest::remote_write::DecodeLimits;

pub use auth::Scope;
pub use error::ApiError;
pub use prom::QueryData;

/// API settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted on the write path, in bytes.
    pub max_body_bytes: usize,
    pub decode: DecodeLimits,
    /// Redaction keys and the series cap of the ingest gateway.
    pub gateway: GatewayConfig,
    /// Loki push's per-stream and per-entry limits.
    pub push_limits: PushLimits,
    /// How many tails a workspace may hold open, and for how long.
    pub tail: TailLimits,
    /// How OTLP exports are translated.
    pub otlp: OtlpSettings,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body_bytes: 16 << 20,
            decode: DecodeLimits::default(),
            gateway: GatewayConfig::default(),
            push_limits: PushLimits::default(),
            tail: TailLimits::default(),
            otlp: OtlpSettings::default(),
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
    pub limiter: Arc<RateLimiter>,
    /// The write sequence every ingest door hands its decoded batches to.
    pub gateway: Arc<Gateway>,
}

impl AppState {
    /// The state of one server; starts the quota sync task (so call it
    /// inside the runtime).
    pub fn new(
        engine: Arc<Engine>,
        control: Arc<ControlPlane>,
        metrics: Option<PrometheusHandle>,
        cfg: ApiConfig,
    ) -> Self {
        let quotas = Quotas::new(control.store().clone());
        quotas.spawn_sync();
        let gateway = Arc::new(Gateway::new(engine.clone(), quotas, cfg.gateway.clone()));
        AppState {
            engine,
            control,
            metrics,
            cfg: Arc::new(cfg),
            limiter: Arc::new(RateLimiter::default()),
            gateway,
        }
    }
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
        .route(
            "/api/v1/query_exemplars",
            get(prom::query_exemplars).post(prom::query_exemplars),
        )
        .route(
            "/api/v1/format_query",
            get(prom::format_query).post(prom::format_query),
        )
        .route("/api/v1/metadata", get(prom::metadata))
        .route("/api/v1/rules", get(prom::rules))
        .route("/api/v1/alerts", get(prom::alerts))
        .route("/api/v1/targets", get(prom::targets))
        .route("/api/v1/status/buildinfo", get(prom::buildinfo))
        .route("/api/v1/status/flags", get(prom::flags))
        .route("/loki/api/v1/query", get(lq::query).post(lq::query))
        .route(
            "/loki/api/v1/query_range",
            get(lq::query_range).post(lq::query_range),
        )
        .route("/loki/api/v1/labels", get(lq::labels).post(lq::labels))
        .route("/loki/api/v1/label", get(lq::labels).post(lq::labels))
        .route("/loki/api/v1/label/{name}/values", get(lq::label_values))
        .route("/loki/api/v1/series", get(lq::series).post(lq::series))
        .route(
            "/loki/api/v1/index/stats",
            get(lq::index_stats).post(lq::index_stats),
        )
        .route("/loki/api/v1/detected_labels", get(ld::detected_labels))
        .route(
            "/loki/api/v1/format_query",
            get(lq::format_query).post(lq::format_query),
        )
        .route("/loki/api/v1/status/buildinfo", get(lq::buildinfo))
        .route("/loki/api/v1/patterns", get(lq::not_supported))
        .route(
            "/loki/api/v1/index/volume",
            get(lq::volume).post(lq::volume),
        )
        .route(
            "/loki/api/v1/index/volume_range",
            get(lq::volume_range).post(lq::volume_range),
        )
        .route(
            "/loki/api/v1/detected_fields",
            get(ld::detected_fields_handler),
        )
        .route(
            "/loki/api/v1/detected_field/{name}/values",
            get(ld::detected_field_values_handler),
        )
        .route("/loki/api/v1/tail", get(loki::tail::tail))
        .route("/loki/api/v2alpha/tail", get(lq::not_supported))
        .route("/api/echo", get(tempo::echo))
        .route("/api/status/buildinfo", get(tempo::buildinfo))
        .route("/api/traces/{id}", get(tempo::trace_v1))
        .route("/api/v2/traces/{id}", get(tempo::trace_v2))
        .route("/api/search", get(tempo::search))
        .route("/api/search/tags", get(tempo::tags))
        .route("/api/v2/search/tags", get(tempo::tags_v2))
        .route("/api/search/tag/{*tag}", get(tempo::tag_values))
        .route("/api/v2/search/tag/{*tag}", get(tempo::tag_values_v2))
        .route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), Need::Read),
            auth::require,
        ));
    let ingest = Router::new()
        .route("/api/v1/write", post(write::remote_write))
        .route("/loki/api/v1/push", post(loki::push::push))
        .layer(DefaultBodyLimit::max(state.cfg.max_body_bytes))
        .route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), Need::Write),
            auth::require,
        ));
    // OTLP/HTTP answers every failure, the token's and the body limit's
    // too, as a `google.rpc.Status` in the request's encoding.
    let otlp_http = Router::new()
        .route("/v1/metrics", post(otlp::http::metrics))
        .route("/v1/logs", post(otlp::http::logs))
        .route("/v1/traces", post(otlp::http::traces))
        .layer(DefaultBodyLimit::disable())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            otlp::http::require,
        ));
    let admin = Router::new()
        .route(
            "/admin/v1/workspaces",
            post(admin::create_workspace).get(admin::list_workspaces),
        )
        // The first name of workspaces, kept for existing scripts.
        .route(
            "/admin/v1/tenants",
            post(admin::create_workspace).get(admin::list_workspaces),
        )
        .route(
            "/admin/v1/workspaces/{ws}/{kind}",
            post(admin::create_entity).get(admin::list_entities),
        )
        .route(
            "/admin/v1/tokens",
            post(admin::create_token).get(admin::list_tokens),
        )
        .route("/admin/v1/tokens/{id}", delete(admin::revoke_token))
        .route("/admin/v1/audit", get(admin::list_audit))
        .route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), Need::Manage),
            auth::require,
        ));
    Router::new()
        .merge(query)
        .merge(ingest)
        .merge(otlp_http)
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

/// Serves the router on `listener` until `shutdown` completes: over TLS with
/// `tls` (see [`tls::server_config`]), plain HTTP without.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, tls, router(state), shutdown).await
}

/// Serves `app` on `listener`, over TLS when `tls` is set (HTTP/1.1 and
/// HTTP/2, which gRPC needs; plain HTTP/2 without TLS too).
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        Some(config) => {
            axum::serve(
                tls::TlsListener::new(listener, config)?,
                app.into_make_service_with_connect_info::<tls::PeerAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }
        None => {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }
    }
}
