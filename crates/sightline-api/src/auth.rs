//! Token authentication, kind checks and per-token rate limits, as
//! middleware per route group: nothing reaches a handler before its token
//! checked out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sightline_control::{Access, Actor, Authenticated, Need, TokenKind};
use sightline_core::TenantId;
use sightline_plan::ReadScope;

use crate::{ApiError, AppState};

/// Who is calling, as decided by the token alone.
#[derive(Debug, Clone)]
pub struct Scope {
    pub token_id: String,
    pub kind: TokenKind,
    pub auth: Arc<Authenticated>,
    /// The caller's address, for the audit log.
    pub address: String,
}

impl Scope {
    /// The caller's tenant. Query and ingest routes only admit
    /// workspace-bound tokens, so this is set there; elsewhere it is an
    /// error, not a default.
    pub fn tenant(&self) -> Result<&TenantId, ApiError> {
        self.auth
            .tenant
            .as_ref()
            .ok_or_else(|| ApiError::Forbidden("this token is not bound to a workspace".into()))
    }

    /// What a read may see: the tenant, narrowed to the token's project,
    /// application and environment labels when it is scoped to them.
    pub fn read(&self) -> Result<ReadScope, ApiError> {
        let t = self.tenant()?.clone();
        let labels = scope_labels(&self.auth);
        if labels.is_empty() {
            return Ok(ReadScope::tenant(t));
        }
        ReadScope::with_labels(t, &labels).map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Where an admin request may act.
    pub fn access(&self) -> Access {
        self.auth.access()
    }

    pub fn actor(&self) -> Actor {
        Actor {
            token_id: Some(self.token_id.clone()),
            address: self.address.clone(),
        }
    }
}

/// The labels a token's sub-workspace scope sets on writes and requires on
/// reads (see `SubScope::labels`).
pub fn scope_labels(a: &Authenticated) -> Vec<(String, String)> {
    a.scope.labels()
}

/// The secret presented: `Authorization: Bearer <secret>` or basic auth
/// with the secret as password.
fn presented_secret(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Some(rest.to_string()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| ApiError::Unauthorized("malformed basic credentials".into()))?;
        let text = String::from_utf8(raw)
            .map_err(|_| ApiError::Unauthorized("malformed basic credentials".into()))?;
        let (_, password) = text
            .split_once(':')
            .ok_or_else(|| ApiError::Unauthorized("malformed basic credentials".into()))?;
        return Ok(Some(password.to_string()));
    }
    Err(ApiError::Unauthorized(format!(
        "unsupported authorization scheme {:?}: use Bearer or Basic",
        scheme.chars().take(16).collect::<String>()
    )))
}

/// Counts a refusal by tenant and reason on the counter of its route group.
pub fn count_refused(need: Need, tenant: &str, reason: &'static str) {
    let name = match need {
        Need::Write => sightline_gateway::INGEST_REFUSED_TOTAL,
        Need::Read => "sightline_query_refused_total",
        Need::Manage => "sightline_admin_refused_total",
    };
    metrics::counter!(name, "tenant" => tenant.to_string(), "reason" => reason).increment(1);
}

/// Middleware: resolves the token, checks its kind and its rate before the
/// handler.
pub async fn require(
    State((state, need)): State<(AppState, Need)>,
    mut req: Request,
    next: Next,
) -> Response {
    let address = peer_address(&req);
    match authorize(&state, need, req.headers(), address).await {
        Ok(scope) => {
            req.extensions_mut().insert(scope);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// The client's address, as the listener recorded it.
pub(crate) fn peer_address(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .or_else(|| {
            req.extensions()
                .get::<ConnectInfo<crate::tls::PeerAddr>>()
                .map(|c| c.0.0)
        })
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// Resolves the token and checks its kind and rate: the one check every
/// door runs before its handler (the HTTP middleware above, the gRPC
/// listener's in `otlp::grpc`).
pub(crate) async fn authorize(
    state: &AppState,
    need: Need,
    headers: &HeaderMap,
    address: String,
) -> Result<Scope, ApiError> {
    let secret = presented_secret(headers)?.ok_or_else(|| {
        ApiError::Unauthorized("missing token: send Authorization: Bearer <token>".into())
    })?;
    let auth = state
        .control
        .authenticate(&secret)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("unknown, revoked or expired token".into()))?;
    let tenant = auth
        .tenant
        .as_ref()
        .map(|t| t.as_str().to_string())
        .unwrap_or_default();
    let actor = Actor {
        token_id: Some(auth.token_id.clone()),
        address: address.clone(),
    };
    // The token's rate first: every request it makes counts, refused or not.
    if let Some(rate) = auth.rate_limit_per_sec
        && let Err(wait) =
            state
                .limiter
                .check(&auth.token_id, rate, auth.rate_burst, Instant::now())
    {
        count_refused(need, &tenant, "rate_limited");
        return Err(ApiError::RateLimited {
            msg: format!("rate limit of this token exceeded ({rate} requests per second)"),
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        });
    }
    if !need.admits(auth.kind, auth.role) {
        count_refused(need, &tenant, "wrong_kind");
        let msg = match auth.role {
            Some(r) => format!(
                "a cli token with role {} cannot {} here",
                r.as_str(),
                need.as_str()
            ),
            None => format!(
                "a {} token cannot {} here; use {}",
                auth.kind.as_str(),
                need.as_str(),
                match need {
                    Need::Write => "an ingest token",
                    Need::Read => "a report token",
                    Need::Manage => "an admin token",
                }
            ),
        };
        state
            .control
            .audit(
                &actor,
                auth.tenant.as_ref().map(|t| t.as_str()),
                "denied",
                need.as_str(),
                &msg,
            )
            .await;
        return Err(ApiError::Forbidden(msg));
    }
    if need != Need::Manage && auth.tenant.is_none() {
        count_refused(need, &tenant, "no_workspace");
        return Err(ApiError::Forbidden(
            "this token is not bound to a workspace".into(),
        ));
    }
    Ok(Scope {
        token_id: auth.token_id.clone(),
        kind: auth.kind,
        auth: Arc::new(auth),
        address,
    })
}
