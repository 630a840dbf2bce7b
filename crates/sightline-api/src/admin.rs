//! The admin API: workspaces, projects, applications, environments,
//! services, tokens and the audit log. A server-wide admin token manages
//! everything; a workspace-bound admin (or cli operator) token only its
//! own workspace. Every action is written to the audit log with its
//! outcome.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use sightline_control::{
    Access, CliRole, EntityKind, NewEntity, NewToken, SubScope, TokenKind, check_name,
};
use sightline_core::TenantId;

use crate::{ApiError, AppState, Scope};

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

fn json_body<T>(r: Body<T>) -> Result<T, ApiError> {
    r.map(|Json(v)| v)
        .map_err(|e| ApiError::BadData(format!("invalid JSON body: {}", e.body_text())))
}

/// Runs an admin action and writes its outcome to the audit log.
async fn audited<T>(
    s: &AppState,
    scope: &Scope,
    workspace: Option<&str>,
    action: &str,
    target: &str,
    r: Result<T, ApiError>,
) -> Result<T, ApiError> {
    let outcome = match &r {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("{}: {e}", e.error_type()),
    };
    // A workspace-bound caller's actions land in its own workspace's log,
    // whatever workspace it named; a server-wide admin's in the workspace
    // it acted on (when that is a valid name).
    let own = scope.access().workspace().map(|w| w.as_str().to_string());
    let workspace = match own {
        Some(w) => Some(w),
        None => workspace
            .filter(|w| TenantId::new(*w).is_ok())
            .map(str::to_string),
    };
    s.control
        .audit(
            &scope.actor(),
            workspace.as_deref(),
            action,
            target,
            &outcome,
        )
        .await;
    r
}

fn created(v: impl Serialize) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    name: String,
    daily_byte_quota: Option<i64>,
    max_active_series: Option<i64>,
}

pub async fn create_workspace(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    body: Body<NewWorkspace>,
) -> Result<Response, ApiError> {
    let b = json_body(body)?;
    let r = s
        .control
        .create_workspace(
            &scope.access(),
            &b.name,
            b.daily_byte_quota,
            b.max_active_series,
        )
        .await
        .map_err(ApiError::from);
    let w = audited(&s, &scope, Some(&b.name), "workspace.create", &b.name, r).await?;
    tracing::info!(workspace = %w.id, token = %scope.token_id, "workspace created");
    Ok(created(w))
}

pub async fn list_workspaces(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
) -> Result<Response, ApiError> {
    Ok(Json(s.control.list_workspaces(&scope.access()).await?).into_response())
}

fn entity_kind(kind: &str) -> Result<EntityKind, ApiError> {
    match kind {
        "projects" => Ok(EntityKind::Project),
        "applications" => Ok(EntityKind::Application),
        "environments" => Ok(EntityKind::Environment),
        "services" => Ok(EntityKind::Service),
        other => Err(ApiError::NotFound(format!(
            "no such collection {:?}: use projects, applications, environments or services",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

/// The workspace of a path, checked against the caller's access; another
/// workspace is as absent as a missing one.
fn path_workspace(scope: &Scope, ws: &str) -> Result<(TenantId, Access), ApiError> {
    let t = TenantId::new(ws).map_err(|e| ApiError::BadData(e.to_string()))?;
    scope.access().check(&t)?;
    Ok((t.clone(), Access::Workspace(t)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEntityBody {
    name: String,
    project: Option<String>,
    application: Option<String>,
    environment: Option<String>,
    daily_byte_quota: Option<i64>,
}

pub async fn create_entity(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path((ws, kind)): Path<(String, String)>,
    body: Body<NewEntityBody>,
) -> Result<Response, ApiError> {
    let kind = entity_kind(&kind)?;
    let b = json_body(body)?;
    let action = format!("{}.create", kind.as_str());
    let r: Result<_, ApiError> = async {
        let (workspace, access) = path_workspace(&scope, &ws)?;
        let need = |what: &str, v: &Option<String>| {
            v.clone()
                .ok_or_else(|| ApiError::BadData(format!("a {} needs a {what}", kind.as_str())))
        };
        let parent = match kind {
            EntityKind::Project => vec![],
            EntityKind::Application => vec![need("project", &b.project)?],
            EntityKind::Environment => vec![need("application", &b.application)?],
            EntityKind::Service => vec![
                need("application", &b.application)?,
                need("environment", &b.environment)?,
            ],
        };
        Ok(s.control
            .create_entity(
                &access,
                NewEntity {
                    kind,
                    workspace,
                    parent,
                    name: b.name.clone(),
                    daily_byte_quota: b.daily_byte_quota,
                },
            )
            .await?)
    }
    .await;
    let e = audited(&s, &scope, Some(&ws), &action, &b.name, r).await?;
    Ok(created(e))
}

pub async fn list_entities(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path((ws, kind)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let kind = entity_kind(&kind)?;
    let (_, access) = path_workspace(&scope, &ws)?;
    Ok(Json(s.control.list_entities(&access, kind).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// The workspace; `tenant` is its first name.
    #[serde(alias = "tenant")]
    workspace: Option<String>,
    kind: String,
    role: Option<String>,
    project: Option<String>,
    application: Option<String>,
    environment: Option<String>,
    #[serde(default)]
    allowed_services: Vec<String>,
    rate_limit_per_sec: Option<f64>,
    rate_burst: Option<u32>,
    daily_byte_quota: Option<i64>,
    #[serde(default)]
    description: String,
    /// Lifetime in seconds; none means no expiry.
    expires_in_secs: Option<i64>,
}

#[derive(Serialize)]
struct TokenOut {
    #[serde(flatten)]
    info: sightline_control::TokenInfo,
    /// Shown this once.
    secret: String,
    /// The first name of `workspace`, kept for existing scripts.
    tenant: Option<String>,
}

pub async fn create_token(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    body: Body<NewTokenBody>,
) -> Result<Response, ApiError> {
    let b = json_body(body)?;
    let ws = b
        .workspace
        .clone()
        .or_else(|| scope.access().workspace().map(|w| w.as_str().to_string()));
    let r: Result<_, ApiError> = async {
        let kind: TokenKind = b.kind.parse()?;
        let role: Option<CliRole> = b.role.as_deref().map(str::parse).transpose()?;
        for (what, v) in [
            ("project", &b.project),
            ("application", &b.application),
            ("environment", &b.environment),
        ] {
            if let Some(v) = v {
                check_name(what, v)?;
            }
        }
        let expires_at = match b.expires_in_secs {
            None => None,
            Some(n) if n > 0 => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or_default();
                Some(now.saturating_add(n))
            }
            Some(_) => {
                return Err(ApiError::BadData("expires_in_secs must be positive".into()));
            }
        };
        let t = NewToken {
            workspace: b.workspace,
            kind: Some(kind),
            role,
            scope: SubScope {
                project: b.project,
                application: b.application,
                environment: b.environment,
            },
            allowed_services: b.allowed_services,
            rate_limit_per_sec: b.rate_limit_per_sec,
            rate_burst: b.rate_burst,
            daily_byte_quota: b.daily_byte_quota,
            description: b.description,
            expires_at,
        };
        Ok(s.control.create_token(&scope.access(), t).await?)
    }
    .await;
    let target = match &r {
        Ok((info, _)) => info.id.clone(),
        Err(_) => String::new(),
    };
    let (info, secret) = audited(&s, &scope, ws.as_deref(), "token.create", &target, r).await?;
    tracing::info!(token = %info.id, kind = info.kind.as_str(), by = %scope.token_id, "token created");
    Ok(created(TokenOut {
        tenant: info.workspace.clone(),
        info,
        secret,
    }))
}

pub async fn list_tokens(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
) -> Result<Response, ApiError> {
    Ok(Json(s.control.list_tokens(&scope.access()).await?).into_response())
}

pub async fn revoke_token(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = s
        .control
        .revoke_token(&scope.access(), &id)
        .await
        .map_err(ApiError::from);
    audited(&s, &scope, None, "token.revoke", &id, r).await?;
    tracing::info!(token = %id, by = %scope.token_id, "token revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<i64>,
}

pub async fn list_audit(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::BadData(format!("invalid query: {}", e.body_text())))?;
    Ok(Json(
        s.control
            .list_audit(&scope.access(), q.limit.unwrap_or(100))
            .await?,
    )
    .into_response())
}
