//! The control plane's vocabulary: token kinds and roles, scopes, and the
//! records the stores keep.

use std::str::FromStr;

use serde::Serialize;
use sightline_core::TenantId;

use crate::ControlError;

/// What a token may do. Kinds never overlap: each route group admits the
/// kinds it names and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Writes telemetry.
    Ingest,
    /// Reads: queries and reports.
    Report,
    /// Manages workspaces, applications, environments and tokens.
    Admin,
    /// The operators' command line; what it may do is its [`CliRole`].
    Cli,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Ingest => "ingest",
            TokenKind::Report => "report",
            TokenKind::Admin => "admin",
            TokenKind::Cli => "cli",
        }
    }

    /// The secret's recognizable prefix (so a leaked secret can be told
    /// apart, and secret scanners can find it).
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Ingest => "sli_",
            TokenKind::Report => "slr_",
            TokenKind::Admin => "sla_",
            TokenKind::Cli => "slc_",
        }
    }
}

impl FromStr for TokenKind {
    type Err = ControlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ingest" => Ok(TokenKind::Ingest),
            "report" => Ok(TokenKind::Report),
            "admin" => Ok(TokenKind::Admin),
            "cli" => Ok(TokenKind::Cli),
            other => Err(ControlError::Invalid(format!(
                "unknown token kind {:?}: use ingest, report, admin or cli",
                clip(other)
            ))),
        }
    }
}

/// The role of a `cli` token: `viewer` reads (queries, reports) within its
/// scope; `operator` also manages it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CliRole {
    Viewer,
    Operator,
}

impl CliRole {
    pub fn as_str(self) -> &'static str {
        match self {
            CliRole::Viewer => "viewer",
            CliRole::Operator => "operator",
        }
    }
}

impl FromStr for CliRole {
    type Err = ControlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(CliRole::Viewer),
            "operator" => Ok(CliRole::Operator),
            other => Err(ControlError::Invalid(format!(
                "unknown cli role {:?}: use viewer or operator",
                clip(other)
            ))),
        }
    }
}

/// What a route group needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Write,
    Read,
    Manage,
}

impl Need {
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Write => "write",
            Need::Read => "read",
            Need::Manage => "manage",
        }
    }

    /// Whether a token of `kind` (and `role`, for cli tokens) may do this.
    pub fn admits(self, kind: TokenKind, role: Option<CliRole>) -> bool {
        match (self, kind) {
            (Need::Write, TokenKind::Ingest) => true,
            (Need::Read, TokenKind::Report) => true,
            (Need::Read, TokenKind::Cli) => true,
            (Need::Manage, TokenKind::Admin) => true,
            (Need::Manage, TokenKind::Cli) => role == Some(CliRole::Operator),
            _ => false,
        }
    }
}

/// Where a token (or an admin request) may act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Everything: the server-wide admin.
    All,
    /// One workspace only.
    Workspace(TenantId),
}

impl Access {
    pub fn workspace(&self) -> Option<&TenantId> {
        match self {
            Access::All => None,
            Access::Workspace(w) => Some(w),
        }
    }

    /// Refuses acting on `ws` unless this access covers it.
    pub fn check(&self, ws: &TenantId) -> Result<(), ControlError> {
        match self {
            Access::All => Ok(()),
            Access::Workspace(w) if w == ws => Ok(()),
            // Indistinguishable from a workspace that does not exist.
            Access::Workspace(_) => Err(ControlError::NotFound(format!(
                "workspace {:?}",
                ws.as_str()
            ))),
        }
    }
}

/// A token's scope below its workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubScope {
    pub project: Option<String>,
    pub application: Option<String>,
    pub environment: Option<String>,
}

impl SubScope {
    /// The labels this scope sets on writes and requires on reads:
    /// `project`, `application` and `environment`, those that are set.
    pub fn labels(&self) -> Vec<(String, String)> {
        [
            ("project", &self.project),
            ("application", &self.application),
            ("environment", &self.environment),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.clone())))
        .collect()
    }
}

/// An authenticated token: who the request is, decided by the token alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticated {
    pub token_id: String,
    pub kind: TokenKind,
    pub role: Option<CliRole>,
    /// `None` only for server-wide admin and cli tokens.
    pub tenant: Option<TenantId>,
    pub scope: SubScope,
    /// Services this token may write for; empty means any.
    pub allowed_services: Vec<String>,
    pub rate_limit_per_sec: Option<f64>,
    pub rate_burst: Option<u32>,
    pub limits: Limits,
    pub expires_at: Option<i64>,
}

impl Authenticated {
    /// Where this token may act.
    pub fn access(&self) -> Access {
        match &self.tenant {
            Some(t) => Access::Workspace(t.clone()),
            None => Access::All,
        }
    }
}

/// The byte quotas and series cap in force for a token's writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Daily bytes per signal for the whole workspace.
    pub workspace_daily_bytes: Option<i64>,
    /// Daily bytes per signal for the token's application.
    pub application_daily_bytes: Option<i64>,
    /// Daily bytes per signal for this token.
    pub token_daily_bytes: Option<i64>,
    /// Active series the workspace may hold.
    pub max_active_series: Option<i64>,
}

/// A token as listed (never with its secret or digest).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenInfo {
    pub id: String,
    pub workspace: Option<String>,
    pub kind: TokenKind,
    pub role: Option<CliRole>,
    pub project: Option<String>,
    pub application: Option<String>,
    pub environment: Option<String>,
    pub allowed_services: Vec<String>,
    pub rate_limit_per_sec: Option<f64>,
    pub rate_burst: Option<u32>,
    pub daily_byte_quota: Option<i64>,
    pub description: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What a new token should be.
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    pub workspace: Option<String>,
    pub kind: Option<TokenKind>,
    pub role: Option<CliRole>,
    pub scope: SubScope,
    pub allowed_services: Vec<String>,
    pub rate_limit_per_sec: Option<f64>,
    pub rate_burst: Option<u32>,
    pub daily_byte_quota: Option<i64>,
    pub description: String,
    pub expires_at: Option<i64>,
}

/// A workspace (tenant).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    pub created_at: i64,
    pub daily_byte_quota: Option<i64>,
    pub max_active_series: Option<i64>,
}

/// A project, application, environment or service.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Entity {
    pub workspace: String,
    /// The parent's name: the project of an application, the application
    /// of an environment, `application/environment` of a service; empty for
    /// a project.
    pub parent: String,
    pub name: String,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_byte_quota: Option<i64>,
}

/// Which kind of entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    Project,
    Application,
    Environment,
    Service,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Project => "project",
            EntityKind::Application => "application",
            EntityKind::Environment => "environment",
            EntityKind::Service => "service",
        }
    }
}

/// A new entity. `parent` names the chain above it: `[project]` for an
/// application, `[application]` for an environment, `[application,
/// environment]` for a service, nothing for a project.
#[derive(Debug, Clone)]
pub struct NewEntity {
    pub kind: EntityKind,
    pub workspace: TenantId,
    pub parent: Vec<String>,
    pub name: String,
    pub daily_byte_quota: Option<i64>,
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: i64,
    pub workspace: Option<String>,
    pub token_id: Option<String>,
    pub action: String,
    pub target: String,
    pub address: String,
    pub outcome: String,
}

/// Longest name of a project, application, environment or service.
pub const MAX_NAME_BYTES: usize = 128;

/// Names of projects, applications, environments and services: they become
/// label values, so they are kept short and printable.
pub fn check_name(what: &str, name: &str) -> Result<(), ControlError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ControlError::Invalid(format!(
            "invalid {what} name {:?}: use 1 to {MAX_NAME_BYTES} letters, digits, '-', '_' or '.'",
            clip(name)
        )))
    }
}

/// At most 64 characters of `s`, for error messages.
pub(crate) fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
