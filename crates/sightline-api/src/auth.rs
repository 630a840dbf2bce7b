//! Token authentication and kind checks, as middleware per route group.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sightline_control::TokenKind;
use sightline_core::TenantId;

use crate::{ApiError, AppState};

/// Who is calling, as decided by the token alone.
#[derive(Debug, Clone)]
pub struct Scope {
    pub token_id: String,
    pub kind: TokenKind,
    tenant: Option<TenantId>,
}

impl Scope {
    /// The caller's tenant. Query and ingest routes only admit tenant-bound
    /// kinds, so this is set there; elsewhere it is an error, not a default.
    pub fn tenant(&self) -> Result<&TenantId, ApiError> {
        self.tenant
            .as_ref()
            .ok_or_else(|| ApiError::Forbidden("this token is not bound to a tenant".into()))
    }
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

/// Middleware: resolves the token and checks its kind before the handler.
pub async fn require(
    State((state, kind)): State<(AppState, TokenKind)>,
    mut req: Request,
    next: Next,
) -> Response {
    match authorize(&state, kind, req.headers()).await {
        Ok(scope) => {
            req.extensions_mut().insert(scope);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

async fn authorize(
    state: &AppState,
    kind: TokenKind,
    headers: &HeaderMap,
) -> Result<Scope, ApiError> {
    let secret = presented_secret(headers)?.ok_or_else(|| {
        ApiError::Unauthorized("missing token: send Authorization: Bearer <token>".into())
    })?;
    let auth = state
        .control
        .authenticate(&secret)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("unknown, revoked or expired token".into()))?;
    if auth.kind != kind {
        return Err(ApiError::Forbidden(format!(
            "a {} token cannot be used here; this endpoint needs a {} token",
            auth.kind.as_str(),
            kind.as_str()
        )));
    }
    if kind != TokenKind::Admin && auth.tenant.is_none() {
        return Err(ApiError::Forbidden(
            "this token is not bound to a tenant".into(),
        ));
    }
    Ok(Scope {
        token_id: auth.token_id,
        kind: auth.kind,
        tenant: auth.tenant,
    })
}
