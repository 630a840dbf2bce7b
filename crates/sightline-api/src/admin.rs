//! The admin API: tenants and tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use sightline_control::TokenKind;

use crate::{ApiError, AppState, Scope};

#[derive(Deserialize)]
pub struct NewTenant {
    name: String,
}

#[derive(Serialize)]
struct TenantOut {
    id: String,
    created_at: i64,
}

fn json_body<T>(
    r: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    r.map(|Json(v)| v)
        .map_err(|e| ApiError::BadData(format!("invalid JSON body: {}", e.body_text())))
}

pub async fn create_tenant(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    body: Result<Json<NewTenant>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let b = json_body(body)?;
    let (t, created_at) = s.control.create_tenant(&b.name).await?;
    tracing::info!(tenant = %t, token = %scope.token_id, "tenant created");
    Ok((
        StatusCode::CREATED,
        Json(TenantOut {
            id: t.to_string(),
            created_at,
        }),
    )
        .into_response())
}

pub async fn list_tenants(State(s): State<AppState>) -> Result<Response, ApiError> {
    let list: Vec<TenantOut> = s
        .control
        .list_tenants()
        .await?
        .into_iter()
        .map(|(id, created_at)| TenantOut { id, created_at })
        .collect();
    Ok(Json(list).into_response())
}

#[derive(Deserialize)]
pub struct NewToken {
    tenant: Option<String>,
    kind: String,
    #[serde(default)]
    description: String,
    /// Lifetime in seconds; none means no expiry.
    expires_in_secs: Option<i64>,
}

#[derive(Serialize)]
struct TokenOut {
    id: String,
    secret: String,
    kind: TokenKind,
    tenant: Option<String>,
    expires_at: Option<i64>,
}

pub async fn create_token(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    body: Result<Json<NewToken>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let b = json_body(body)?;
    let kind: TokenKind = b.kind.parse()?;
    let expires_at = match b.expires_in_secs {
        None => None,
        Some(n) if n > 0 => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default();
            Some(now.saturating_add(n))
        }
        Some(_) => return Err(ApiError::BadData("expires_in_secs must be positive".into())),
    };
    let (info, secret) = s
        .control
        .create_token(b.tenant.as_deref(), kind, &b.description, expires_at)
        .await?;
    tracing::info!(token = %info.id, kind = kind.as_str(), by = %scope.token_id, "token created");
    Ok((
        StatusCode::CREATED,
        Json(TokenOut {
            id: info.id,
            secret,
            kind,
            tenant: info.tenant,
            expires_at: info.expires_at,
        }),
    )
        .into_response())
}

pub async fn list_tokens(State(s): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(s.control.list_tokens().await?).into_response())
}

pub async fn revoke_token(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    s.control.revoke_token(&id).await?;
    tracing::info!(token = %id, by = %scope.token_id, "token revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}
