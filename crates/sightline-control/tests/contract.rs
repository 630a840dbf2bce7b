//! One control-plane test suite, run against both stores: SQLite (the
//! embedded default) and PostgreSQL (a throwaway cluster started here),
//! plus what only PostgreSQL promises: row-level security that holds for a
//! statement without a WHERE clause.

use std::sync::Arc;

use sightline_control::testing::TestPostgres;
use sightline_control::{
    Access, CliRole, ControlError, ControlPlane, EntityKind, NewEntity, NewToken, PostgresStore,
    Quotas, SubScope, TokenKey, TokenKind,
};
use sightline_core::{Signal, TenantId};
use sqlx::Row;

fn ws(s: &str) -> TenantId {
    TenantId::new(s).expect("tenant id")
}

fn entity(kind: EntityKind, w: &str, parent: &[&str], name: &str) -> NewEntity {
    NewEntity {
        kind,
        workspace: ws(w),
        parent: parent.iter().map(|s| s.to_string()).collect(),
        name: name.into(),
        daily_byte_quota: None,
    }
}

fn token(w: Option<&str>, kind: TokenKind) -> NewToken {
    NewToken {
        workspace: w.map(str::to_string),
        kind: Some(kind),
        ..NewToken::default()
    }
}

/// The contract both stores keep.
async fn contract(cp: Arc<ControlPlane>) {
    let all = Access::All;
    let in_a = Access::Workspace(ws("a"));

    // Workspaces: created by the server-wide admin only, once.
    cp.create_workspace(&all, "a", Some(1_000), Some(10))
        .await
        .expect("a");
    cp.create_workspace(&all, "b", None, None).await.expect("b");
    assert!(matches!(
        cp.create_workspace(&all, "a", None, None).await,
        Err(ControlError::Conflict(_))
    ));
    assert!(matches!(
        cp.create_workspace(&all, "a/../b", None, None).await,
        Err(ControlError::Invalid(_))
    ));
    assert!(matches!(
        cp.create_workspace(&in_a, "c", None, None).await,
        Err(ControlError::Denied(_))
    ));
    let listed: Vec<String> = cp
        .list_workspaces(&in_a)
        .await
        .expect("list")
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(listed, ["a"]);
    assert_eq!(cp.list_workspaces(&all).await.expect("list").len(), 2);

    // The hierarchy: each level needs its parent.
    for w in ["a", "b"] {
        cp.create_entity(&all, entity(EntityKind::Project, w, &[], "web"))
            .await
            .expect("project");
        let mut app = entity(EntityKind::Application, w, &["web"], "shop");
        app.daily_byte_quota = Some(500);
        cp.create_entity(&all, app).await.expect("application");
        cp.create_entity(&all, entity(EntityKind::Environment, w, &["shop"], "prod"))
            .await
            .expect("environment");
        cp.create_entity(
            &all,
            entity(EntityKind::Service, w, &["shop", "prod"], "checkout"),
        )
        .await
        .expect("service");
    }
    assert!(matches!(
        cp.create_entity(&all, entity(EntityKind::Application, "a", &["nope"], "x"))
            .await,
        Err(ControlError::NotFound(_))
    ));
    assert!(matches!(
        cp.create_entity(&all, entity(EntityKind::Project, "a", &[], "web"))
            .await,
        Err(ControlError::Conflict(_))
    ));
    assert!(matches!(
        cp.create_entity(&all, entity(EntityKind::Project, "a", &[], "bad name"))
            .await,
        Err(ControlError::Invalid(_))
    ));
    assert!(matches!(
        cp.create_entity(&all, entity(EntityKind::Project, "zz", &[], "p"))
            .await,
        Err(ControlError::NotFound(_))
    ));
    // A workspace-scoped admin cannot reach another workspace.
    assert!(matches!(
        cp.create_entity(&in_a, entity(EntityKind::Project, "b", &[], "mine"))
            .await,
        Err(ControlError::NotFound(_))
    ));
    for kind in [
        EntityKind::Project,
        EntityKind::Application,
        EntityKind::Environment,
        EntityKind::Service,
    ] {
        let seen = cp.list_entities(&in_a, kind).await.expect("list");
        assert_eq!(seen.len(), 1, "{kind:?}");
        assert!(seen.iter().all(|e| e.workspace == "a"));
        assert_eq!(cp.list_entities(&all, kind).await.expect("list").len(), 2);
    }

    // Tokens: kinds, scopes, prefixes, one-time secrets.
    let mut scoped = token(Some("a"), TokenKind::Ingest);
    scoped.scope = SubScope {
        project: None,
        application: Some("shop".into()),
        environment: Some("prod".into()),
    };
    scoped.allowed_services = vec!["checkout".into()];
    scoped.rate_limit_per_sec = Some(5.0);
    scoped.daily_byte_quota = Some(100);
    let (ingest, ingest_secret) = cp.create_token(&all, scoped).await.expect("ingest");
    assert!(ingest_secret.starts_with("sli_"));
    assert_eq!(ingest_secret.len(), 4 + 64, "256 random bits in hex");
    assert_eq!(
        ingest.project.as_deref(),
        Some("web"),
        "derived from the app"
    );
    let (_, report_b) = cp
        .create_token(&all, token(Some("b"), TokenKind::Report))
        .await
        .expect("report");
    assert!(report_b.starts_with("slr_"));
    let mut cli = token(Some("a"), TokenKind::Cli);
    cli.role = Some(CliRole::Operator);
    let (_, cli_secret) = cp.create_token(&all, cli).await.expect("cli");
    assert!(cli_secret.starts_with("slc_"));
    let (_, admin_a) = cp
        .create_token(&in_a, token(None, TokenKind::Admin))
        .await
        .expect("workspace admin");
    assert!(admin_a.starts_with("sla_"));

    for bad in [
        token(None, TokenKind::Report),
        token(Some("nope"), TokenKind::Ingest),
        NewToken {
            kind: None,
            ..token(Some("a"), TokenKind::Ingest)
        },
        NewToken {
            role: Some(CliRole::Viewer),
            ..token(Some("a"), TokenKind::Report)
        },
        NewToken {
            scope: SubScope {
                application: Some("missing".into()),
                ..SubScope::default()
            },
            ..token(Some("a"), TokenKind::Report)
        },
        NewToken {
            scope: SubScope {
                environment: Some("prod".into()),
                ..SubScope::default()
            },
            ..token(Some("a"), TokenKind::Report)
        },
        NewToken {
            rate_limit_per_sec: Some(f64::NAN),
            ..token(Some("a"), TokenKind::Report)
        },
        NewToken {
            daily_byte_quota: Some(0),
            ..token(Some("a"), TokenKind::Ingest)
        },
        NewToken {
            allowed_services: vec!["x".into()],
            ..token(Some("a"), TokenKind::Report)
        },
        NewToken {
            rate_limit_per_sec: Some(1e-30),
            ..token(Some("a"), TokenKind::Report)
        },
        // Tokens that manage are not scoped below their workspace.
        NewToken {
            scope: SubScope {
                project: Some("web".into()),
                ..SubScope::default()
            },
            ..token(Some("a"), TokenKind::Admin)
        },
        NewToken {
            role: Some(CliRole::Operator),
            scope: SubScope {
                project: Some("web".into()),
                ..SubScope::default()
            },
            ..token(Some("a"), TokenKind::Cli)
        },
    ] {
        assert!(cp.create_token(&all, bad.clone()).await.is_err(), "{bad:?}");
    }
    // A workspace admin's token lands in its own workspace, never another.
    assert!(
        cp.create_token(&in_a, token(Some("b"), TokenKind::Report))
            .await
            .is_err()
    );

    // Authentication carries the whole scope and the limits.
    let a = cp
        .authenticate(&ingest_secret)
        .await
        .expect("auth")
        .expect("known");
    assert_eq!(a.kind, TokenKind::Ingest);
    assert_eq!(a.tenant, Some(ws("a")));
    assert_eq!(a.scope.application.as_deref(), Some("shop"));
    assert_eq!(a.scope.environment.as_deref(), Some("prod"));
    assert_eq!(a.allowed_services, ["checkout"]);
    assert_eq!(a.rate_limit_per_sec, Some(5.0));
    assert_eq!(a.limits.workspace_daily_bytes, Some(1_000));
    assert_eq!(a.limits.application_daily_bytes, Some(500));
    assert_eq!(a.limits.token_daily_bytes, Some(100));
    assert_eq!(a.limits.max_active_series, Some(10));
    let c = cp
        .authenticate(&cli_secret)
        .await
        .expect("auth")
        .expect("cli");
    assert_eq!(c.role, Some(CliRole::Operator));
    assert!(cp.authenticate("sli_wrong").await.expect("auth").is_none());
    assert!(cp.authenticate("").await.expect("auth").is_none());
    let long = "x".repeat(10_000);
    assert!(cp.authenticate(&long).await.expect("auth").is_none());

    // Listing stays within the access.
    let toks = cp.list_tokens(&in_a).await.expect("tokens");
    assert_eq!(toks.len(), 3);
    assert!(toks.iter().all(|t| t.workspace.as_deref() == Some("a")));
    assert!(cp.list_tokens(&all).await.expect("tokens").len() >= 4);

    // Revocation: not across workspaces, immediate here.
    let b_tokens = cp
        .list_tokens(&Access::Workspace(ws("b")))
        .await
        .expect("tokens");
    assert!(matches!(
        cp.revoke_token(&in_a, &b_tokens[0].id).await,
        Err(ControlError::NotFound(_))
    ));
    assert!(cp.authenticate(&report_b).await.expect("auth").is_some());
    let before = cp.store().epoch().await.expect("epoch");
    cp.revoke_token(&all, &ingest.id).await.expect("revoke");
    assert!(
        cp.authenticate(&ingest_secret)
            .await
            .expect("auth")
            .is_none(),
        "revocation is immediate"
    );
    assert!(cp.store().epoch().await.expect("epoch") > before);
    cp.revoke_token(&all, &ingest.id)
        .await
        .expect("revoking twice is fine");
    assert!(matches!(
        cp.revoke_token(&all, "missing").await,
        Err(ControlError::NotFound(_))
    ));
    let mut expired = token(Some("a"), TokenKind::Ingest);
    expired.expires_at = Some(1);
    let (_, expired) = cp.create_token(&all, expired).await.expect("token");
    assert!(cp.authenticate(&expired).await.expect("auth").is_none());

    // The audit log keeps to its workspace too.
    let actor = sightline_control::Actor {
        token_id: Some("t1".into()),
        address: "127.0.0.1".into(),
    };
    cp.audit(&actor, Some("a"), "token.create", "x", "ok").await;
    cp.audit(&actor, Some("b"), "token.create", "y", "ok").await;
    cp.audit(&actor, None, "workspace.create", "a", "ok").await;
    let seen = cp.list_audit(&in_a, 100).await.expect("audit");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "x");
    assert_eq!(seen[0].address, "127.0.0.1");
    assert_eq!(cp.list_audit(&all, 100).await.expect("audit").len(), 3);

    // Usage sums across calls (and so across processes).
    let s = cp.store();
    assert_eq!(
        s.add_usage(&ws("a"), "workspace", "metrics", 7, 10)
            .await
            .expect("usage"),
        10
    );
    assert_eq!(
        s.add_usage(&ws("a"), "workspace", "metrics", 7, 5)
            .await
            .expect("usage"),
        15
    );
    assert_eq!(
        s.add_usage(&ws("b"), "workspace", "metrics", 7, 1)
            .await
            .expect("usage"),
        1
    );

    // Quotas: the workspace's 1,000 bytes per day per signal.
    let (_, w) = cp
        .create_token(&all, token(Some("a"), TokenKind::Ingest))
        .await
        .expect("token");
    let w = cp.authenticate(&w).await.expect("auth").expect("known");
    let q = Quotas::new(cp.store().clone());
    let now = 86_400 * 20_000 + 100;
    assert!(
        q.charge(&w, Signal::Metrics, 600, now)
            .await
            .expect("q")
            .is_ok()
    );
    let over = q.charge(&w, Signal::Metrics, 600, now).await.expect("q");
    let over = over.expect_err("over the workspace quota");
    assert_eq!(over.scope, "workspace");
    assert_eq!(over.retry_after_secs, 86_400 - 100);
    assert!(
        q.charge(&w, Signal::Logs, 600, now)
            .await
            .expect("q")
            .is_ok(),
        "per signal"
    );
    q.sync(now).await.expect("sync");
    // A second process sees the first one's usage.
    let q2 = Quotas::new(cp.store().clone());
    assert!(
        q2.charge(&w, Signal::Metrics, 600, now)
            .await
            .expect("q")
            .is_err()
    );
    assert!(
        q2.charge(&w, Signal::Metrics, 600, now + 86_400)
            .await
            .expect("q")
            .is_ok(),
        "next day"
    );
}

#[tokio::test]
async fn contract_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cp = ControlPlane::open_sqlite(&dir.path().join("c.db"), TokenKey::random())
        .await
        .expect("open");
    assert_eq!(cp.store().backend(), "sqlite");
    contract(cp).await;
}

#[tokio::test]
async fn contract_on_postgres() {
    let pg = TestPostgres::start().expect("postgres");
    let url = pg.database("contract").expect("database");
    let cp = ControlPlane::connect_postgres(&url, TokenKey::random())
        .await
        .expect("connect");
    assert_eq!(cp.store().backend(), "postgres");
    contract(cp).await;
}

#[tokio::test]
async fn postgres_policies_hide_foreign_rows_from_statements_without_where() {
    let pg = TestPostgres::start().expect("postgres");
    let url = pg.database("rls").expect("database");
    let cp = ControlPlane::connect_postgres(&url, TokenKey::random())
        .await
        .expect("connect");
    for w in ["a", "b"] {
        cp.create_workspace(&Access::All, w, None, None)
            .await
            .expect("workspace");
        cp.create_entity(&Access::All, entity(EntityKind::Project, w, &[], "p"))
            .await
            .expect("project");
        for _ in 0..3 {
            cp.create_token(&Access::All, token(Some(w), TokenKind::Report))
                .await
                .expect("token");
        }
    }
    let store = PostgresStore::connect(&url).await.expect("connect");
    let pool = store.pool();

    // No setting at all: nothing.
    let n: i64 = sqlx::query("SELECT count(*) FROM tokens")
        .fetch_one(pool)
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 0, "no workspace set, no rows");

    let mut tx = pool.begin().await.expect("tx");
    sqlx::query("SELECT set_config('sightline.workspace', 'a', true)")
        .execute(&mut *tx)
        .await
        .expect("set");
    for (table, sql) in [
        ("tokens", "SELECT workspace_id FROM tokens"),
        ("projects", "SELECT workspace_id FROM projects"),
        ("workspaces", "SELECT id FROM workspaces"),
    ] {
        let seen: Vec<String> = sqlx::query(sql)
            .fetch_all(&mut *tx)
            .await
            .expect("select")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(!seen.is_empty(), "{table}: own rows visible");
        assert!(seen.iter().all(|w| w == "a"), "{table}: {seen:?}");
    }
    // An UPDATE without WHERE touches only its own rows.
    let touched = sqlx::query("UPDATE tokens SET description = 'mine'")
        .execute(&mut *tx)
        .await
        .expect("update")
        .rows_affected();
    assert_eq!(touched, 3);
    // And it cannot write rows into another workspace.
    let foreign = sqlx::query(
        "INSERT INTO projects (workspace_id, name, created_at) VALUES ('b', 'sneaky', 0)",
    )
    .execute(&mut *tx)
    .await;
    assert!(foreign.is_err(), "WITH CHECK refuses a foreign row");
    drop(tx);

    // The setting is per transaction: the next one on the pool sees nothing.
    let n: i64 = sqlx::query("SELECT count(*) FROM projects")
        .fetch_one(pool)
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 0);
    let b_desc: Vec<String> = {
        let mut tx = pool.begin().await.expect("tx");
        sqlx::query("SELECT set_config('sightline.workspace', 'b', true)")
            .execute(&mut *tx)
            .await
            .expect("set");
        sqlx::query("SELECT description FROM tokens")
            .fetch_all(&mut *tx)
            .await
            .expect("select")
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(b_desc.len(), 3);
    assert!(b_desc.iter().all(|d| d != "mine"), "b's rows untouched");
}

#[tokio::test]
async fn postgres_refuses_a_role_that_bypasses_row_level_security() {
    let pg = TestPostgres::start().expect("postgres");
    pg.database("su").expect("database");
    let err = ControlPlane::connect_postgres(&pg.superuser_url("su"), TokenKey::random())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("row-level"), "{err}");
}

#[tokio::test]
async fn tokens_of_the_first_schema_are_rekeyed_and_keep_working() {
    use sha2::Digest;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.db");
    let secret = "slr_".to_string() + &"ab".repeat(32);
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.expect("pool");
        let mut m = sqlx::migrate!("../../migrations/sqlite");
        m.migrations = std::borrow::Cow::Owned(m.migrations[..1].to_vec());
        m.run(&pool).await.expect("first migration");
        sqlx::query("INSERT INTO tenants (id, created_at) VALUES ('old', 0)")
            .execute(&pool)
            .await
            .expect("tenant");
        sqlx::query(
            "INSERT INTO tokens (id, tenant_id, kind, secret_hash, created_at) \
             VALUES ('t1', 'old', 'report', ?1, 0)",
        )
        .bind(hex::encode(sha2::Sha256::digest(secret.as_bytes())))
        .execute(&pool)
        .await
        .expect("token");
        pool.close().await;
    }
    let key = TokenKey::random();
    let cp = ControlPlane::open_sqlite(&path, key.clone())
        .await
        .expect("open");
    let a = cp
        .authenticate(&secret)
        .await
        .expect("auth")
        .expect("known");
    assert_eq!(a.tenant, Some(ws("old")));
    assert!(cp.store().legacy_digests().await.expect("q").is_empty());
    // The stored digest is keyed: another key does not match it.
    drop(cp);
    let other = ControlPlane::open_sqlite(&path, TokenKey::random())
        .await
        .expect("open");
    assert!(other.authenticate(&secret).await.expect("auth").is_none());
}

#[test]
fn token_key_file_is_created_once_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("token-key");
    let k1 = TokenKey::load_or_create(&p).expect("create");
    let mode = std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let k2 = TokenKey::load_or_create(&p).expect("load");
    assert_eq!(k1.digest("x"), k2.digest("x"));
    std::fs::write(&p, "nothex").expect("write");
    assert!(TokenKey::load_or_create(&p).is_err());
}
