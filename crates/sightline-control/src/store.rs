use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sightline_core::TenantId;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::sync::Mutex;

use crate::ControlError;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Writes telemetry.
    Ingest,
    /// Reads: queries and reports.
    Report,
    /// Manages tenants and tokens.
    Admin,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Ingest => "ingest",
            TokenKind::Report => "report",
            TokenKind::Admin => "admin",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Ingest => "sli_",
            TokenKind::Report => "slr_",
            TokenKind::Admin => "sla_",
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
            other => Err(ControlError::Invalid(format!(
                "unknown token kind {other:?}: use ingest, report or admin"
            ))),
        }
    }
}

/// A token as listed (never with its secret).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub tenant: Option<String>,
    pub kind: TokenKind,
    pub description: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Who a request is, once its token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub token_id: String,
    pub kind: TokenKind,
    /// `None` only for admin tokens.
    pub tenant: Option<TenantId>,
}

const CACHE_TTL: Duration = Duration::from_secs(5);

/// The control-plane store.
pub struct ControlPlane {
    pool: SqlitePool,
    /// Bumped by every revocation; a look-up that started before a
    /// revocation does not put its (possibly stale) answer in the cache.
    epoch: std::sync::atomic::AtomicU64,
    cache: Mutex<HashMap<String, (Option<Authenticated>, Instant, Option<i64>)>>,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

impl ControlPlane {
    /// Opens (creating it if needed) the SQLite database at `path` and
    /// applies the migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Self, ControlError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("../../migrations/sqlite").run(&pool).await?;
        Ok(ControlPlane {
            pool,
            epoch: std::sync::atomic::AtomicU64::new(0),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Creates a tenant; returns it with its creation time (Unix seconds).
    pub async fn create_tenant(&self, id: &str) -> Result<(TenantId, i64), ControlError> {
        let tenant = TenantId::new(id).map_err(|e| ControlError::Invalid(e.to_string()))?;
        let created_at = now_secs();
        let res = sqlx::query(
            "INSERT INTO tenants (id, created_at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(created_at)
        .execute(&self.pool)
        .await?;
        if res.rows_affected() == 0 {
            return Err(ControlError::Conflict(format!(
                "tenant {:?}",
                tenant.as_str()
            )));
        }
        Ok((tenant, created_at))
    }

    pub async fn list_tenants(&self) -> Result<Vec<(String, i64)>, ControlError> {
        let rows = sqlx::query("SELECT id, created_at FROM tenants ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
            .collect())
    }

    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, ControlError> {
        Ok(sqlx::query("SELECT 1 FROM tenants WHERE id = ?1")
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Creates a token and returns it with its secret (the only time the
    /// secret exists outside the caller).
    pub async fn create_token(
        &self,
        tenant: Option<&str>,
        kind: TokenKind,
        description: &str,
        expires_at: Option<i64>,
    ) -> Result<(TokenInfo, String), ControlError> {
        let tenant = match (kind, tenant) {
            (TokenKind::Admin, None) => None,
            (TokenKind::Admin, Some(_)) => {
                return Err(ControlError::Invalid(
                    "admin tokens are not tied to a tenant".into(),
                ));
            }
            (_, None) => {
                return Err(ControlError::Invalid(format!(
                    "a {} token needs a tenant",
                    kind.as_str()
                )));
            }
            (_, Some(t)) => {
                let t = TenantId::new(t).map_err(|e| ControlError::Invalid(e.to_string()))?;
                if !self.tenant_exists(&t).await? {
                    return Err(ControlError::NotFound(format!("tenant {:?}", t.as_str())));
                }
                Some(t)
            }
        };
        let id = random_hex(8);
        let secret = format!("{}{}", kind.prefix(), random_hex(32));
        let created_at = now_secs();
        sqlx::query(
            "INSERT INTO tokens (id, tenant_id, kind, secret_hash, description, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(&id)
        .bind(tenant.as_ref().map(|t| t.as_str().to_string()))
        .bind(kind.as_str())
        .bind(digest(&secret))
        .bind(description)
        .bind(created_at)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok((
            TokenInfo {
                id,
                tenant: tenant.map(|t| t.as_str().to_string()),
                kind,
                description: description.to_string(),
                created_at,
                expires_at,
                revoked_at: None,
            },
            secret,
        ))
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, ControlError> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, kind, description, created_at, expires_at, revoked_at \
             FROM tokens ORDER BY created_at, rowid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.get(0),
                    tenant: r.get(1),
                    kind: r.get::<String, _>(2).parse()?,
                    description: r.get(3),
                    created_at: r.get(4),
                    expires_at: r.get(5),
                    revoked_at: r.get(6),
                })
            })
            .collect()
    }

    /// Revokes a token; effective in this process at once.
    pub async fn revoke_token(&self, id: &str) -> Result<(), ControlError> {
        let res =
            sqlx::query("UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now_secs())
                .execute(&self.pool)
                .await?;
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.cache.lock().map(|mut c| c.clear()).ok();
        if res.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM tokens WHERE id = ?1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .is_some();
            if !exists {
                return Err(ControlError::NotFound(format!("token {id:?}")));
            }
        }
        Ok(())
    }

    /// Whether any admin token is active (used for the first-start bootstrap).
    pub async fn has_admin_token(&self) -> Result<bool, ControlError> {
        Ok(
            sqlx::query("SELECT 1 FROM tokens WHERE kind = 'admin' AND revoked_at IS NULL LIMIT 1")
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// Checks a presented secret. `Ok(None)` means unknown, revoked or expired.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Authenticated>, ControlError> {
        if secret.is_empty() || secret.len() > 256 {
            return Ok(None);
        }
        let hash = digest(secret);
        if let Ok(c) = self.cache.lock()
            && let Some((a, at, expires)) = c.get(&hash)
            && at.elapsed() < CACHE_TTL
            && expires.is_none_or(|e| e > now_secs())
        {
            return Ok(a.clone());
        }
        let epoch = self.epoch.load(std::sync::atomic::Ordering::SeqCst);
        let row = sqlx::query(
            "SELECT id, tenant_id, kind, expires_at FROM tokens \
             WHERE secret_hash = ?1 AND revoked_at IS NULL",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let now = now_secs();
        let mut expires_at = None;
        let auth = match row {
            None => None,
            Some(r) => {
                let expires: Option<i64> = r.get(3);
                expires_at = expires;
                if expires.is_some_and(|e| e <= now) {
                    None
                } else {
                    let tenant: Option<String> = r.get(1);
                    Some(Authenticated {
                        token_id: r.get(0),
                        kind: r.get::<String, _>(2).parse()?,
                        tenant: tenant
                            .map(TenantId::new)
                            .transpose()
                            .map_err(|e| ControlError::Invalid(e.to_string()))?,
                    })
                }
            }
        };
        if let Ok(mut c) = self.cache.lock()
            && self.epoch.load(std::sync::atomic::Ordering::SeqCst) == epoch
        {
            if c.len() > 100_000 {
                c.clear();
            }
            c.insert(hash, (auth.clone(), Instant::now(), expires_at));
        }
        Ok(auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_lifecycle() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cp = ControlPlane::open_sqlite(&dir.path().join("c.db"))
            .await
            .expect("open");
        assert!(!cp.has_admin_token().await.expect("q"));
        cp.create_tenant("acme").await.expect("tenant");
        assert!(matches!(
            cp.create_tenant("acme").await,
            Err(ControlError::Conflict(_))
        ));
        assert!(matches!(
            cp.create_tenant("a/b").await,
            Err(ControlError::Invalid(_))
        ));
        assert!(
            cp.create_token(Some("nope"), TokenKind::Ingest, "", None)
                .await
                .is_err()
        );
        assert!(
            cp.create_token(None, TokenKind::Report, "", None)
                .await
                .is_err()
        );
        let (info, secret) = cp
            .create_token(Some("acme"), TokenKind::Report, "r", None)
            .await
            .expect("token");
        assert!(secret.starts_with("slr_") && secret.len() == 68);
        let a = cp
            .authenticate(&secret)
            .await
            .expect("auth")
            .expect("known");
        assert_eq!(a.kind, TokenKind::Report);
        assert_eq!(a.tenant.as_ref().map(|t| t.as_str()), Some("acme"));
        assert!(cp.authenticate("slr_wrong").await.expect("auth").is_none());
        cp.revoke_token(&info.id).await.expect("revoke");
        assert!(
            cp.authenticate(&secret).await.expect("auth").is_none(),
            "revocation is immediate"
        );
        assert!(matches!(
            cp.revoke_token("missing").await,
            Err(ControlError::NotFound(_))
        ));
        let (_, expired) = cp
            .create_token(Some("acme"), TokenKind::Ingest, "", Some(1))
            .await
            .expect("token");
        assert!(cp.authenticate(&expired).await.expect("auth").is_none());
        let listed = cp.list_tokens().await.expect("list");
        assert_eq!(listed.len(), 2);
        assert!(listed[0].revoked_at.is_some());
    }
}
