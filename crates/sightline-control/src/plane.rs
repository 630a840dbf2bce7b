//! [`ControlPlane`]: the store behind a token cache, with the keyed
//! digest, validation of what is created, the audit log and the watcher
//! that drops cached tokens when another process revokes one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use parking_lot::Mutex;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sightline_core::TenantId;

use crate::ControlError;
use crate::model::{
    Access, AuditEvent, Authenticated, CliRole, Entity, EntityKind, NewEntity, NewToken, TokenInfo,
    TokenKind, Workspace, check_name, clip,
};
use crate::store::{ControlStore, PostgresStore, Revoked, SqliteStore};

/// How long a looked-up token stays cached. Revocations in this process
/// clear the cache at once; the epoch watcher clears it within one poll
/// interval when another process revokes.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// How often the change counter is polled.
pub const EPOCH_POLL: Duration = Duration::from_secs(1);

/// Bounds of a token's rate, in requests per second.
pub const MIN_RATE: f64 = 0.001;
pub const MAX_RATE: f64 = 1e9;

/// Cached look-ups kept before unknown tokens are dropped from the cache.
const MAX_CACHED: usize = 100_000;

/// Random bytes in a secret: 256 bits.
const SECRET_BYTES: usize = 32;

/// The server's key for token digests. Kept outside the database, so a
/// copy of the database alone cannot even confirm a guessed secret.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        TokenKey(b)
    }

    /// A fresh random key.
    pub fn random() -> Self {
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        TokenKey(b)
    }

    /// Reads the key (64 hex digits) from `path`, creating the file with a
    /// random key and mode 0600 when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, ControlError> {
        let bad = |m: String| ControlError::Invalid(format!("token key {}: {m}", path.display()));
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let raw = hex::decode(text.trim()).map_err(|e| bad(e.to_string()))?;
                let b: [u8; 32] = raw
                    .try_into()
                    .map_err(|_| bad("expected 64 hex digits".into()))?;
                Ok(TokenKey(b))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let key = TokenKey::random();
                // Written under another name and linked into place, so a
                // process starting at the same moment reads either no file
                // or a whole one, and exactly one key wins.
                let tmp = path.with_extension(format!("tmp-{}", random_hex(8)));
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)
                    .map_err(|e| bad(e.to_string()))?;
                writeln!(f, "{}", hex::encode(key.0)).map_err(|e| bad(e.to_string()))?;
                f.sync_all().map_err(|e| bad(e.to_string()))?;
                let linked = std::fs::hard_link(&tmp, path);
                let _ = std::fs::remove_file(&tmp);
                match linked {
                    Ok(()) => Ok(key),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(path)
                    }
                    Err(e) => Err(bad(e.to_string())),
                }
            }
            Err(e) => Err(bad(e.to_string())),
        }
    }

    /// The stored digest of a secret: HMAC-SHA256 under this key of
    /// SHA-256(secret), hex.
    pub fn digest(&self, secret: &str) -> String {
        self.rekeyed(&hex::encode(Sha256::digest(secret.as_bytes())))
    }

    /// The keyed digest of an unkeyed SHA-256 digest (hex) of the first
    /// schema.
    fn rekeyed(&self, sha256_hex: &str) -> String {
        // A key of any length is valid for HMAC.
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts a 32-byte key");
        mac.update(sha256_hex.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The caller of an admin or audited action.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub token_id: Option<String>,
    pub address: String,
}

type Cached = (Option<Authenticated>, Instant);

/// The control plane.
pub struct ControlPlane {
    store: Arc<dyn ControlStore>,
    key: TokenKey,
    /// Bumped by every revocation seen (here or, through the watcher,
    /// elsewhere); a look-up that started before one does not cache its
    /// possibly stale answer.
    epoch: AtomicU64,
    /// The store's change counter as last polled.
    store_epoch: AtomicI64,
    cache: Mutex<HashMap<String, Cached>>,
}

impl ControlPlane {
    /// A control plane over `store`; re-keys tokens of the first schema.
    pub async fn new(
        store: Arc<dyn ControlStore>,
        key: TokenKey,
    ) -> Result<Arc<Self>, ControlError> {
        for (id, old) in store.legacy_digests().await? {
            store.rekey(&id, &key.rekeyed(&old)).await?;
        }
        let e = store.epoch().await?;
        Ok(Arc::new(ControlPlane {
            store,
            key,
            epoch: AtomicU64::new(0),
            store_epoch: AtomicI64::new(e),
            cache: Mutex::new(HashMap::new()),
        }))
    }

    /// The embedded default: SQLite at `path`.
    pub async fn open_sqlite(path: &Path, key: TokenKey) -> Result<Arc<Self>, ControlError> {
        Self::new(Arc::new(SqliteStore::open(path).await?), key).await
    }

    /// Production: PostgreSQL at `url`.
    pub async fn connect_postgres(url: &str, key: TokenKey) -> Result<Arc<Self>, ControlError> {
        Self::new(Arc::new(PostgresStore::connect(url).await?), key).await
    }

    pub fn store(&self) -> &Arc<dyn ControlStore> {
        &self.store
    }

    /// Polls the store's change counter every [`EPOCH_POLL`] and drops the
    /// cache when it moved (another process revoked a token). Runs until
    /// the control plane is dropped.
    pub fn spawn_epoch_watcher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EPOCH_POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(cp) = weak.upgrade() else { return };
                match cp.store.epoch().await {
                    Ok(n) => {
                        if cp.store_epoch.swap(n, Ordering::SeqCst) != n {
                            cp.invalidate();
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "control-plane change poll failed"),
                }
            }
        })
    }

    fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.cache.lock().clear();
    }

    /// Checks a presented secret. `Ok(None)` means unknown, revoked or
    /// expired.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Authenticated>, ControlError> {
        if secret.is_empty() || secret.len() > 256 {
            return Ok(None);
        }
        let digest = self.key.digest(secret);
        let now = now_secs();
        if let Some((a, at)) = self.cache.lock().get(&digest)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(a.clone().filter(|a| a.expires_at.is_none_or(|e| e > now)));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let auth = match self.store.token_by_digest(&digest).await? {
            Some((t, limits)) if t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now) => {
                Some(Authenticated {
                    tenant: t
                        .workspace
                        .as_deref()
                        .map(TenantId::new)
                        .transpose()
                        .map_err(|e| ControlError::Invalid(e.to_string()))?,
                    token_id: t.id,
                    kind: t.kind,
                    role: t.role,
                    scope: crate::model::SubScope {
                        project: t.project,
                        application: t.application,
                        environment: t.environment,
                    },
                    allowed_services: t.allowed_services,
                    rate_limit_per_sec: t.rate_limit_per_sec,
                    rate_burst: t.rate_burst,
                    limits,
                    expires_at: t.expires_at,
                })
            }
            _ => None,
        };
        let mut c = self.cache.lock();
        if self.epoch.load(Ordering::SeqCst) == epoch {
            if c.len() >= MAX_CACHED {
                // Unknown secrets go first, so a flood of them cannot push
                // out the tokens in use.
                c.retain(|_, (a, at)| a.is_some() && at.elapsed() < CACHE_TTL);
            }
            if c.len() < MAX_CACHED {
                c.insert(digest, (auth.clone(), Instant::now()));
            }
        }
        Ok(auth)
    }

    /// Records an action in the audit log; a failure to record is logged,
    /// never hidden from the operator.
    pub async fn audit(
        &self,
        actor: &Actor,
        workspace: Option<&str>,
        action: &str,
        target: &str,
        outcome: &str,
    ) {
        let e = AuditEvent {
            at: now_secs(),
            workspace: workspace.map(str::to_string),
            token_id: actor.token_id.clone(),
            action: action.to_string(),
            target: clip(target),
            address: actor.address.clone(),
            outcome: clip(outcome),
        };
        if let Err(err) = self.store.audit(&e).await {
            tracing::error!(error = %err, action, "audit log write failed");
        }
    }

    pub async fn list_audit(
        &self,
        access: &Access,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, ControlError> {
        self.store.list_audit(access, limit.clamp(1, 10_000)).await
    }

    /// Creates a workspace (server-wide admins only).
    pub async fn create_workspace(
        &self,
        access: &Access,
        id: &str,
        daily_byte_quota: Option<i64>,
        max_active_series: Option<i64>,
    ) -> Result<Workspace, ControlError> {
        if *access != Access::All {
            return Err(ControlError::Denied(
                "only a server-wide admin token creates workspaces".into(),
            ));
        }
        let t = TenantId::new(id).map_err(|e| ControlError::Invalid(e.to_string()))?;
        positive("daily_byte_quota", daily_byte_quota)?;
        positive("max_active_series", max_active_series)?;
        let w = Workspace {
            id: t.as_str().to_string(),
            created_at: now_secs(),
            daily_byte_quota,
            max_active_series,
        };
        self.store.create_workspace(&w).await?;
        Ok(w)
    }

    pub async fn list_workspaces(&self, access: &Access) -> Result<Vec<Workspace>, ControlError> {
        self.store.list_workspaces(access).await
    }

    /// Creates a project, application, environment or service.
    pub async fn create_entity(
        &self,
        access: &Access,
        e: NewEntity,
    ) -> Result<Entity, ControlError> {
        check_name(e.kind.as_str(), &e.name)?;
        for p in &e.parent {
            check_name("parent", p)?;
        }
        if e.daily_byte_quota.is_some() && e.kind != EntityKind::Application {
            return Err(ControlError::Invalid(
                "only applications carry a daily byte quota".into(),
            ));
        }
        positive("daily_byte_quota", e.daily_byte_quota)?;
        access.check(&e.workspace)?;
        if self
            .store
            .get_workspace(access, &e.workspace)
            .await?
            .is_none()
        {
            return Err(ControlError::NotFound(format!(
                "workspace {:?}",
                e.workspace.as_str()
            )));
        }
        self.store.create_entity(access, &e, now_secs()).await
    }

    pub async fn list_entities(
        &self,
        access: &Access,
        kind: EntityKind,
    ) -> Result<Vec<Entity>, ControlError> {
        self.store.list_entities(access, kind).await
    }

    /// Creates a token and returns it with its secret (the only time the
    /// secret exists outside the caller).
    pub async fn create_token(
        &self,
        access: &Access,
        t: NewToken,
    ) -> Result<(TokenInfo, String), ControlError> {
        let kind = t
            .kind
            .ok_or_else(|| ControlError::Invalid("a token needs a kind".into()))?;
        let workspace = match (&t.workspace, access) {
            (Some(w), _) => {
                let w =
                    TenantId::new(w.as_str()).map_err(|e| ControlError::Invalid(e.to_string()))?;
                access.check(&w)?;
                if self.store.get_workspace(access, &w).await?.is_none() {
                    return Err(ControlError::NotFound(format!(
                        "workspace {:?}",
                        w.as_str()
                    )));
                }
                Some(w)
            }
            (None, Access::Workspace(w)) => Some(w.clone()),
            (None, Access::All) => None,
        };
        if workspace.is_none() && !matches!(kind, TokenKind::Admin | TokenKind::Cli) {
            return Err(ControlError::Invalid(format!(
                "a {} token needs a workspace",
                kind.as_str()
            )));
        }
        let role = match (kind, t.role) {
            (TokenKind::Cli, Some(r)) => Some(r),
            (TokenKind::Cli, None) => Some(CliRole::Viewer),
            (_, Some(_)) => {
                return Err(ControlError::Invalid("only cli tokens have a role".into()));
            }
            (_, None) => None,
        };
        let mut scope = t.scope.clone();
        let manages = kind == TokenKind::Admin || role == Some(CliRole::Operator);
        if manages && scope != Default::default() {
            return Err(ControlError::Invalid(
                "tokens that manage (admin, cli operator) are scoped to a workspace or the \
                 server, not to a project, application or environment"
                    .into(),
            ));
        }
        if scope.environment.is_some() && scope.application.is_none() {
            return Err(ControlError::Invalid(
                "an environment scope needs an application".into(),
            ));
        }
        if let Some(ws) = &workspace {
            if let Some(app) = &scope.application {
                let found = self
                    .find_application(access, ws, app)
                    .await?
                    .ok_or_else(|| ControlError::NotFound(format!("application {app:?}")))?;
                match &scope.project {
                    Some(p) if *p != found.parent => {
                        return Err(ControlError::Invalid(format!(
                            "application {app:?} belongs to project {:?}, not {p:?}",
                            found.parent
                        )));
                    }
                    _ => scope.project = Some(found.parent),
                }
                if let Some(env) = &scope.environment {
                    let key = NewEntity {
                        kind: EntityKind::Environment,
                        workspace: ws.clone(),
                        parent: vec![app.clone()],
                        name: env.clone(),
                        daily_byte_quota: None,
                    };
                    if self.store.entity(access, &key).await?.is_none() {
                        return Err(ControlError::NotFound(format!(
                            "environment {env:?} of application {app:?}"
                        )));
                    }
                }
            } else if let Some(p) = &scope.project {
                let key = NewEntity {
                    kind: EntityKind::Project,
                    workspace: ws.clone(),
                    parent: vec![],
                    name: p.clone(),
                    daily_byte_quota: None,
                };
                if self.store.entity(access, &key).await?.is_none() {
                    return Err(ControlError::NotFound(format!("project {p:?}")));
                }
            }
        } else if scope != Default::default() {
            return Err(ControlError::Invalid(
                "a project, application or environment scope needs a workspace".into(),
            ));
        }
        for s in &t.allowed_services {
            check_name("service", s)?;
        }
        if !t.allowed_services.is_empty() && kind != TokenKind::Ingest {
            return Err(ControlError::Invalid(
                "allowed services apply to ingest tokens only".into(),
            ));
        }
        if let Some(r) = t.rate_limit_per_sec
            && !(MIN_RATE..=MAX_RATE).contains(&r)
        {
            return Err(ControlError::Invalid(format!(
                "rate_limit_per_sec must be between {MIN_RATE} and {MAX_RATE}"
            )));
        }
        if t.rate_burst == Some(0) {
            return Err(ControlError::Invalid("rate_burst must be positive".into()));
        }
        positive("daily_byte_quota", t.daily_byte_quota)?;
        if t.description.len() > 1024 {
            return Err(ControlError::Invalid(
                "description is longer than 1024 bytes".into(),
            ));
        }
        let secret = format!("{}{}", kind.prefix(), random_hex(SECRET_BYTES));
        let info = TokenInfo {
            id: random_hex(8),
            workspace: workspace.map(|w| w.as_str().to_string()),
            kind,
            role,
            project: scope.project,
            application: scope.application,
            environment: scope.environment,
            allowed_services: t.allowed_services,
            rate_limit_per_sec: t.rate_limit_per_sec,
            rate_burst: t.rate_burst,
            daily_byte_quota: t.daily_byte_quota,
            description: t.description,
            created_at: now_secs(),
            expires_at: t.expires_at,
            revoked_at: None,
        };
        self.store
            .insert_token(access, &info, &self.key.digest(&secret))
            .await?;
        Ok((info, secret))
    }

    async fn find_application(
        &self,
        access: &Access,
        ws: &TenantId,
        app: &str,
    ) -> Result<Option<Entity>, ControlError> {
        Ok(self
            .store
            .list_entities(access, EntityKind::Application)
            .await?
            .into_iter()
            .find(|e| e.workspace == ws.as_str() && e.name == app))
    }

    pub async fn list_tokens(&self, access: &Access) -> Result<Vec<TokenInfo>, ControlError> {
        self.store.list_tokens(access).await
    }

    /// Revokes a token; effective in this process at once, in others
    /// within one [`EPOCH_POLL`] of their watcher.
    pub async fn revoke_token(&self, access: &Access, id: &str) -> Result<(), ControlError> {
        let r = self.store.revoke_token(access, id, now_secs()).await?;
        if r == Revoked::Now {
            self.invalidate();
        }
        match r {
            Revoked::Missing => Err(ControlError::NotFound(format!("token {:?}", clip(id)))),
            Revoked::Now | Revoked::Already => Ok(()),
        }
    }

    /// Whether any server-wide admin token is active (for the first-start
    /// bootstrap).
    pub async fn has_admin_token(&self) -> Result<bool, ControlError> {
        self.store.has_admin_token(now_secs()).await
    }
}

fn positive(what: &str, v: Option<i64>) -> Result<(), ControlError> {
    match v {
        Some(n) if n <= 0 => Err(ControlError::Invalid(format!("{what} must be positive"))),
        _ => Ok(()),
    }
}
