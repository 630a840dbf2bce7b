//! The storage contract of the control plane ([`ControlStore`]) and its two
//! implementations: [`SqliteStore`] (the embedded default) and
//! [`PostgresStore`] (production, with row-level security).
//!
//! Both run the same SQL (written to be valid in both dialects: `$n`
//! parameters, `CAST(… AS TEXT)`, `ON CONFLICT`, `RETURNING`), generated
//! into each implementation by one macro, so the two cannot drift apart.
//! They differ in how a transaction is opened: PostgreSQL first sets the
//! workspace (or the server-wide scope, or the digest being authenticated)
//! for its row-level security policies; SQLite has no policies and relies
//! on the WHERE clauses, which PostgreSQL runs as well.

mod postgres;
mod sqlite;

use async_trait::async_trait;
use sightline_core::TenantId;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::ControlError;
use crate::model::{
    Access, AuditEvent, Entity, EntityKind, Limits, NewEntity, TokenInfo, Workspace,
};

/// What revoking found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Now,
    Already,
    Missing,
}

/// The control plane's storage: one contract, run by one test suite
/// against both implementations.
///
/// Every method that touches tenant-owned rows takes an [`Access`]: the
/// rows outside it are neither read nor written.
#[async_trait]
pub trait ControlStore: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Creates a workspace; `Conflict` if it exists.
    async fn create_workspace(&self, w: &Workspace) -> Result<(), ControlError>;
    async fn get_workspace(
        &self,
        access: &Access,
        id: &TenantId,
    ) -> Result<Option<Workspace>, ControlError>;
    async fn list_workspaces(&self, access: &Access) -> Result<Vec<Workspace>, ControlError>;

    /// Creates a project, application, environment or service; `NotFound`
    /// if its parent is missing, `Conflict` if it exists.
    async fn create_entity(
        &self,
        access: &Access,
        e: &NewEntity,
        created_at: i64,
    ) -> Result<Entity, ControlError>;
    /// Whether the entity `e` names exists (its quota is ignored).
    async fn entity(&self, access: &Access, e: &NewEntity) -> Result<Option<Entity>, ControlError>;
    async fn list_entities(
        &self,
        access: &Access,
        kind: EntityKind,
    ) -> Result<Vec<Entity>, ControlError>;

    /// Stores a new token under its digest.
    async fn insert_token(
        &self,
        access: &Access,
        t: &TokenInfo,
        digest: &str,
    ) -> Result<(), ControlError>;
    async fn list_tokens(&self, access: &Access) -> Result<Vec<TokenInfo>, ControlError>;
    /// Revokes a token at `at` and bumps the change counter.
    async fn revoke_token(
        &self,
        access: &Access,
        id: &str,
        at: i64,
    ) -> Result<Revoked, ControlError>;
    /// The token with this digest, revoked or not, with the limits of its
    /// workspace and application.
    async fn token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<(TokenInfo, Limits)>, ControlError>;
    /// Whether any server-wide admin token is active at `now` (Unix seconds).
    async fn has_admin_token(&self, now: i64) -> Result<bool, ControlError>;
    /// Tokens still under the unkeyed digest of the first schema.
    async fn legacy_digests(&self) -> Result<Vec<(String, String)>, ControlError>;
    /// Replaces a legacy digest with the keyed one.
    async fn rekey(&self, id: &str, digest: &str) -> Result<(), ControlError>;

    async fn audit(&self, e: &AuditEvent) -> Result<(), ControlError>;
    /// The newest `limit` events, newest first.
    async fn list_audit(
        &self,
        access: &Access,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, ControlError>;

    /// The change counter, bumped by every revocation.
    async fn epoch(&self) -> Result<i64, ControlError>;

    /// Adds `bytes` to a day's usage and returns the new total (shared by
    /// every process on this database).
    async fn add_usage(
        &self,
        workspace: &TenantId,
        scope: &str,
        signal: &str,
        day: i64,
        bytes: i64,
    ) -> Result<i64, ControlError>;
}

/// The columns `token_row` reads, in its order.
macro_rules! token_columns {
    () => {
        "id, workspace_id, kind, role, project, application, environment, allowed_services, \
         rate_limit_per_sec, rate_burst, daily_byte_quota, description, created_at, expires_at, \
         revoked_at"
    };
}
pub(crate) use token_columns;

fn services_text(s: &[String]) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.join(","))
    }
}

fn services_list(s: Option<String>) -> Vec<String> {
    s.map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

fn parse_opt<T: std::str::FromStr<Err = ControlError>>(
    s: Option<String>,
) -> Result<Option<T>, ControlError> {
    s.map(|s| s.parse()).transpose()
}

/// The access as a bound parameter: `None` for all workspaces.
fn access_param(a: &Access) -> Option<String> {
    a.workspace().map(|w| w.as_str().to_string())
}

/// The statements of one entity kind, all literal. Parameters: `$1` the
/// workspace, then the parent names in order, then the name (then, for
/// inserts, the creation time and, for applications, the quota).
struct EntitySql {
    parents: &'static [&'static str],
    insert: &'static str,
    get: &'static str,
    list: &'static str,
}

fn entity_sql(kind: EntityKind) -> EntitySql {
    match kind {
        EntityKind::Project => EntitySql {
            parents: &[],
            insert: "INSERT INTO projects (workspace_id, name, created_at) VALUES ($1, $2, $3)",
            get: "SELECT workspace_id, '', name, created_at, CAST(NULL AS BIGINT) FROM projects \
                  WHERE workspace_id = $1 AND name = $2",
            list: "SELECT workspace_id, '', name, created_at, CAST(NULL AS BIGINT) FROM projects \
                   WHERE CAST($1 AS TEXT) IS NULL OR workspace_id = $1 ORDER BY 1, 2, 3",
        },
        EntityKind::Application => EntitySql {
            parents: &["project"],
            insert: "INSERT INTO applications (workspace_id, project, name, created_at, \
                     daily_byte_quota) VALUES ($1, $2, $3, $4, $5)",
            get: "SELECT workspace_id, project, name, created_at, daily_byte_quota \
                  FROM applications WHERE workspace_id = $1 AND project = $2 AND name = $3",
            list: "SELECT workspace_id, project, name, created_at, daily_byte_quota \
                   FROM applications WHERE CAST($1 AS TEXT) IS NULL OR workspace_id = $1 \
                   ORDER BY 1, 2, 3",
        },
        EntityKind::Environment => EntitySql {
            parents: &["application"],
            insert: "INSERT INTO environments (workspace_id, application, name, created_at) \
                     VALUES ($1, $2, $3, $4)",
            get: "SELECT workspace_id, application, name, created_at, CAST(NULL AS BIGINT) \
                  FROM environments WHERE workspace_id = $1 AND application = $2 AND name = $3",
            list: "SELECT workspace_id, application, name, created_at, CAST(NULL AS BIGINT) \
                   FROM environments WHERE CAST($1 AS TEXT) IS NULL OR workspace_id = $1 \
                   ORDER BY 1, 2, 3",
        },
        EntityKind::Service => EntitySql {
            parents: &["application", "environment"],
            insert: "INSERT INTO services (workspace_id, application, environment, name, \
                     created_at) VALUES ($1, $2, $3, $4, $5)",
            get: "SELECT workspace_id, application || '/' || environment, name, created_at, \
                  CAST(NULL AS BIGINT) FROM services WHERE workspace_id = $1 \
                  AND application = $2 AND environment = $3 AND name = $4",
            list: "SELECT workspace_id, application || '/' || environment, name, created_at, \
                   CAST(NULL AS BIGINT) FROM services \
                   WHERE CAST($1 AS TEXT) IS NULL OR workspace_id = $1 ORDER BY 1, 2, 3",
        },
    }
}

/// Maps a unique-key violation to `Conflict` and a foreign-key violation
/// to `NotFound` of the parent.
fn constraint_error(e: sqlx::Error, what: &str, parent: &str) -> ControlError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return ControlError::Conflict(what.to_string());
        }
        if d.is_foreign_key_violation() {
            return ControlError::NotFound(parent.to_string());
        }
    }
    ControlError::Db(e)
}

/// The shared SQL of both stores. `$store` must have `begin(&Access)`,
/// `begin_digest(&str)` and `scope_to(&mut tx, &TenantId)` methods.
macro_rules! sql_store {
    ($store:ty, $db:ty, $name:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::ControlStore for $store {
            fn backend(&self) -> &'static str {
                $name
            }

            async fn create_workspace(
                &self,
                w: &$crate::model::Workspace,
            ) -> Result<(), $crate::ControlError> {
                let mut tx = self.begin(&$crate::model::Access::All).await?;
                let res = sqlx::query(
                    "INSERT INTO workspaces (id, created_at, daily_byte_quota, max_active_series) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&w.id)
                .bind(w.created_at)
                .bind(w.daily_byte_quota)
                .bind(w.max_active_series)
                .execute(&mut *tx)
                .await?;
                if res.rows_affected() == 0 {
                    return Err($crate::ControlError::Conflict(format!("workspace {:?}", w.id)));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_workspace(
                &self,
                access: &$crate::model::Access,
                id: &sightline_core::TenantId,
            ) -> Result<Option<$crate::model::Workspace>, $crate::ControlError> {
                if access.check(id).is_err() {
                    return Ok(None);
                }
                let mut tx = self.begin(access).await?;
                let row = sqlx::query(
                    "SELECT id, created_at, daily_byte_quota, max_active_series \
                     FROM workspaces WHERE id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(row.as_ref().map(Self::workspace_row))
            }

            async fn list_workspaces(
                &self,
                access: &$crate::model::Access,
            ) -> Result<Vec<$crate::model::Workspace>, $crate::ControlError> {
                let mut tx = self.begin(access).await?;
                let rows = sqlx::query(
                    "SELECT id, created_at, daily_byte_quota, max_active_series FROM workspaces \
                     WHERE CAST($1 AS TEXT) IS NULL OR id = $1 ORDER BY id",
                )
                .bind($crate::store::access_param(access))
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(rows.iter().map(Self::workspace_row).collect())
            }

            async fn create_entity(
                &self,
                access: &$crate::model::Access,
                e: &$crate::model::NewEntity,
                created_at: i64,
            ) -> Result<$crate::model::Entity, $crate::ControlError> {
                access.check(&e.workspace)?;
                let sql = $crate::store::entity_sql(e.kind);
                let parents = sql.parents;
                if parents.len() != e.parent.len() {
                    return Err($crate::ControlError::Invalid(format!(
                        "a {} needs {}",
                        e.kind.as_str(),
                        if parents.is_empty() { "no parent".to_string() } else { parents.join(" and ") }
                    )));
                }
                let quota_col = e.kind == $crate::model::EntityKind::Application;
                let mut tx = self.begin(access).await?;
                let mut q = sqlx::query(sql.insert).bind(e.workspace.as_str());
                for p in &e.parent {
                    q = q.bind(p.as_str());
                }
                q = q.bind(e.name.as_str()).bind(created_at);
                if quota_col {
                    q = q.bind(e.daily_byte_quota);
                }
                let what = format!("{} {:?}", e.kind.as_str(), e.name);
                let parent = if e.parent.is_empty() {
                    format!("workspace {:?}", e.workspace.as_str())
                } else {
                    format!("{} {:?}", parents.join("/"), e.parent.join("/"))
                };
                q.execute(&mut *tx)
                    .await
                    .map_err(|err| $crate::store::constraint_error(err, &what, &parent))?;
                tx.commit().await?;
                Ok($crate::model::Entity {
                    workspace: e.workspace.as_str().to_string(),
                    parent: e.parent.join("/"),
                    name: e.name.clone(),
                    created_at,
                    daily_byte_quota: if quota_col { e.daily_byte_quota } else { None },
                })
            }

            async fn entity(
                &self,
                access: &$crate::model::Access,
                e: &$crate::model::NewEntity,
            ) -> Result<Option<$crate::model::Entity>, $crate::ControlError> {
                if access.check(&e.workspace).is_err() {
                    return Ok(None);
                }
                let sql = $crate::store::entity_sql(e.kind);
                if sql.parents.len() != e.parent.len() {
                    return Ok(None);
                }
                let mut tx = self.begin(access).await?;
                let mut q = sqlx::query(sql.get).bind(e.workspace.as_str());
                for p in &e.parent {
                    q = q.bind(p.as_str());
                }
                let row = q.bind(e.name.as_str()).fetch_optional(&mut *tx).await?;
                tx.commit().await?;
                Ok(row.as_ref().map(Self::entity_row))
            }

            async fn list_entities(
                &self,
                access: &$crate::model::Access,
                kind: $crate::model::EntityKind,
            ) -> Result<Vec<$crate::model::Entity>, $crate::ControlError> {
                let sql = $crate::store::entity_sql(kind).list;
                let mut tx = self.begin(access).await?;
                let rows = sqlx::query(sql)
                    .bind($crate::store::access_param(access))
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(rows.iter().map(Self::entity_row).collect())
            }

            async fn insert_token(
                &self,
                access: &$crate::model::Access,
                t: &$crate::model::TokenInfo,
                digest: &str,
            ) -> Result<(), $crate::ControlError> {
                let mut tx = self.begin(access).await?;
                sqlx::query(
                    "INSERT INTO tokens (id, workspace_id, kind, role, project, application, \
                     environment, allowed_services, rate_limit_per_sec, rate_burst, \
                     daily_byte_quota, description, created_at, expires_at, secret_digest) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(&t.id)
                .bind(&t.workspace)
                .bind(t.kind.as_str())
                .bind(t.role.map(|r| r.as_str()))
                .bind(&t.project)
                .bind(&t.application)
                .bind(&t.environment)
                .bind($crate::store::services_text(&t.allowed_services))
                .bind(t.rate_limit_per_sec)
                .bind(t.rate_burst.map(i64::from))
                .bind(t.daily_byte_quota)
                .bind(&t.description)
                .bind(t.created_at)
                .bind(t.expires_at)
                .bind(digest)
                .execute(&mut *tx)
                .await
                .map_err(|e| $crate::store::constraint_error(e, "token", "workspace"))?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_tokens(
                &self,
                access: &$crate::model::Access,
            ) -> Result<Vec<$crate::model::TokenInfo>, $crate::ControlError> {
                let sql = concat!(
                    "SELECT ",
                    $crate::store::token_columns!(),
                    " FROM tokens WHERE CAST($1 AS TEXT) IS NULL OR workspace_id = $1 \
                     ORDER BY created_at, id"
                );
                let mut tx = self.begin(access).await?;
                let rows = sqlx::query(sql)
                    .bind($crate::store::access_param(access))
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows.iter().map(Self::token_row).collect()
            }

            async fn revoke_token(
                &self,
                access: &$crate::model::Access,
                id: &str,
                at: i64,
            ) -> Result<$crate::store::Revoked, $crate::ControlError> {
                let mut tx = self.begin(access).await?;
                let state: Option<Option<i64>> = sqlx::query(
                    "SELECT revoked_at FROM tokens WHERE id = $1 \
                     AND (CAST($2 AS TEXT) IS NULL OR workspace_id = $2)",
                )
                .bind(id)
                .bind($crate::store::access_param(access))
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.get(0));
                let out = match state {
                    None => $crate::store::Revoked::Missing,
                    Some(Some(_)) => $crate::store::Revoked::Already,
                    Some(None) => {
                        sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1")
                            .bind(id)
                            .bind(at)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("UPDATE control_epoch SET n = n + 1 WHERE id = 1")
                            .execute(&mut *tx)
                            .await?;
                        $crate::store::Revoked::Now
                    }
                };
                tx.commit().await?;
                Ok(out)
            }

            async fn token_by_digest(
                &self,
                digest: &str,
            ) -> Result<Option<($crate::model::TokenInfo, $crate::model::Limits)>, $crate::ControlError>
            {
                let sql = concat!(
                    "SELECT ",
                    $crate::store::token_columns!(),
                    " FROM tokens WHERE secret_digest = $1"
                );
                let mut tx = self.begin_digest(digest).await?;
                let Some(row) = sqlx::query(sql)
                    .bind(digest)
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    return Ok(None);
                };
                let t = Self::token_row(&row)?;
                let mut limits = $crate::model::Limits {
                    token_daily_bytes: t.daily_byte_quota,
                    ..Default::default()
                };
                if let Some(ws) = &t.workspace {
                    let ws = sightline_core::TenantId::new(ws.as_str())
                        .map_err(|e| $crate::ControlError::Invalid(e.to_string()))?;
                    Self::scope_to(&mut tx, &ws).await?;
                    if let Some(r) = sqlx::query(
                        "SELECT daily_byte_quota, max_active_series FROM workspaces WHERE id = $1",
                    )
                    .bind(ws.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                    {
                        limits.workspace_daily_bytes = r.get(0);
                        limits.max_active_series = r.get(1);
                    }
                    if let Some(app) = &t.application {
                        limits.application_daily_bytes = sqlx::query(
                            "SELECT daily_byte_quota FROM applications \
                             WHERE workspace_id = $1 AND name = $2",
                        )
                        .bind(ws.as_str())
                        .bind(app)
                        .fetch_optional(&mut *tx)
                        .await?
                        .and_then(|r| r.get(0));
                    }
                }
                tx.commit().await?;
                Ok(Some((t, limits)))
            }

            async fn has_admin_token(&self, now: i64) -> Result<bool, $crate::ControlError> {
                let mut tx = self.begin(&$crate::model::Access::All).await?;
                let found = sqlx::query(
                    "SELECT 1 FROM tokens WHERE kind = 'admin' AND workspace_id IS NULL \
                     AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1) LIMIT 1",
                )
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
                tx.commit().await?;
                Ok(found)
            }

            async fn legacy_digests(&self) -> Result<Vec<(String, String)>, $crate::ControlError> {
                let mut tx = self.begin(&$crate::model::Access::All).await?;
                let rows = sqlx::query(
                    "SELECT id, secret_digest FROM tokens WHERE digest_alg = 'sha256'",
                )
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            }

            async fn rekey(&self, id: &str, digest: &str) -> Result<(), $crate::ControlError> {
                let mut tx = self.begin(&$crate::model::Access::All).await?;
                sqlx::query(
                    "UPDATE tokens SET secret_digest = $2, digest_alg = 'hmac-sha256' \
                     WHERE id = $1 AND digest_alg = 'sha256'",
                )
                .bind(id)
                .bind(digest)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn audit(&self, e: &$crate::model::AuditEvent) -> Result<(), $crate::ControlError> {
                let access = match &e.workspace {
                    Some(w) => $crate::model::Access::Workspace(
                        sightline_core::TenantId::new(w.as_str())
                            .map_err(|err| $crate::ControlError::Invalid(err.to_string()))?,
                    ),
                    None => $crate::model::Access::All,
                };
                let mut tx = self.begin(&access).await?;
                sqlx::query(
                    "INSERT INTO audit_log (at, workspace_id, token_id, action, target, address, \
                     outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(e.at)
                .bind(&e.workspace)
                .bind(&e.token_id)
                .bind(&e.action)
                .bind(&e.target)
                .bind(&e.address)
                .bind(&e.outcome)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_audit(
                &self,
                access: &$crate::model::Access,
                limit: i64,
            ) -> Result<Vec<$crate::model::AuditEvent>, $crate::ControlError> {
                let mut tx = self.begin(access).await?;
                let rows = sqlx::query(
                    "SELECT at, workspace_id, token_id, action, target, address, outcome \
                     FROM audit_log WHERE CAST($1 AS TEXT) IS NULL OR workspace_id = $1 \
                     ORDER BY id DESC LIMIT $2",
                )
                .bind($crate::store::access_param(access))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(rows
                    .iter()
                    .map(|r| $crate::model::AuditEvent {
                        at: r.get(0),
                        workspace: r.get(1),
                        token_id: r.get(2),
                        action: r.get(3),
                        target: r.get(4),
                        address: r.get(5),
                        outcome: r.get(6),
                    })
                    .collect())
            }

            async fn epoch(&self) -> Result<i64, $crate::ControlError> {
                Ok(sqlx::query("SELECT n FROM control_epoch WHERE id = 1")
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| r.get(0))
                    .unwrap_or(0))
            }

            async fn add_usage(
                &self,
                workspace: &sightline_core::TenantId,
                scope: &str,
                signal: &str,
                day: i64,
                bytes: i64,
            ) -> Result<i64, $crate::ControlError> {
                let mut tx = self
                    .begin(&$crate::model::Access::Workspace(workspace.clone()))
                    .await?;
                let total: i64 = sqlx::query(
                    "INSERT INTO usage (workspace_id, scope, signal, day, bytes) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (workspace_id, scope, signal, day) \
                     DO UPDATE SET bytes = usage.bytes + excluded.bytes RETURNING bytes",
                )
                .bind(workspace.as_str())
                .bind(scope)
                .bind(signal)
                .bind(day)
                .bind(bytes)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
                tx.commit().await?;
                Ok(total)
            }
        }

        impl $store {
            fn workspace_row(r: &<$db as sqlx::Database>::Row) -> $crate::model::Workspace {
                $crate::model::Workspace {
                    id: r.get(0),
                    created_at: r.get(1),
                    daily_byte_quota: r.get(2),
                    max_active_series: r.get(3),
                }
            }

            fn entity_row(r: &<$db as sqlx::Database>::Row) -> $crate::model::Entity {
                $crate::model::Entity {
                    workspace: r.get(0),
                    parent: r.get(1),
                    name: r.get(2),
                    created_at: r.get(3),
                    daily_byte_quota: r.get(4),
                }
            }

            fn token_row(
                r: &<$db as sqlx::Database>::Row,
            ) -> Result<$crate::model::TokenInfo, $crate::ControlError> {
                Ok($crate::model::TokenInfo {
                    id: r.get(0),
                    workspace: r.get(1),
                    kind: r.get::<String, _>(2).parse()?,
                    role: $crate::store::parse_opt(r.get(3))?,
                    project: r.get(4),
                    application: r.get(5),
                    environment: r.get(6),
                    allowed_services: $crate::store::services_list(r.get(7)),
                    rate_limit_per_sec: r.get(8),
                    rate_burst: r
                        .get::<Option<i64>, _>(9)
                        .and_then(|b| u32::try_from(b).ok()),
                    daily_byte_quota: r.get(10),
                    description: r.get(11),
                    created_at: r.get(12),
                    expires_at: r.get(13),
                    revoked_at: r.get(14),
                })
            }
        }
    };
}

pub(crate) use sql_store;
