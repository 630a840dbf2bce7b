//! The gateway's sequence over a real engine and a SQLite control plane in
//! a temporary directory: what a refusal leaves behind, what a failed
//! write gives back, what the series cap lets through.

use std::path::Path;
use std::sync::Arc;

use sightline_control::{
    Access, Authenticated, ControlPlane, NewToken, Quotas, TokenKey, TokenKind,
};
use sightline_core::{Labels, Sample, TenantId};
use sightline_engine::{Engine, EngineConfig};
use sightline_gateway::{Gateway, GatewayConfig, Refusal, RefusalKind, SeriesCapHit, Written};
use sightline_ingest::{Overload, SeriesRecord, WriteBatch};
use sightline_plan::ReadScope;

/// A control plane with workspace `w` (its quota and cap as given) and an
/// ingest token of it, authenticated.
async fn workspace(
    dir: &Path,
    daily_bytes: Option<i64>,
    max_series: Option<i64>,
) -> (Arc<ControlPlane>, Authenticated) {
    let cp = ControlPlane::open_sqlite(&dir.join("control.db"), TokenKey::random())
        .await
        .expect("control plane");
    cp.create_workspace(&Access::All, "w", daily_bytes, max_series)
        .await
        .expect("workspace");
    let (_, secret) = cp
        .create_token(
            &Access::All,
            NewToken {
                workspace: Some("w".into()),
                kind: Some(TokenKind::Ingest),
                ..NewToken::default()
            },
        )
        .await
        .expect("token");
    let auth = cp
        .authenticate(&secret)
        .await
        .expect("authenticate")
        .expect("known token");
    (cp, auth)
}

async fn engine(dir: &Path, cfg: EngineConfig) -> Arc<Engine> {
    Engine::open(dir.to_path_buf(), cfg)
        .await
        .expect("engine")
        .0
}

fn no_cap() -> GatewayConfig {
    GatewayConfig {
        max_active_series: None,
        ..GatewayConfig::default()
    }
}

/// One sample per series named in `names`, decoded for tenant `other`
/// (the gateway writes it under the token's).
fn batch(names: &[&str], t: i64) -> WriteBatch {
    WriteBatch {
        tenant: TenantId::new("other").expect("tenant"),
        series: names
            .iter()
            .map(|n| SeriesRecord {
                labels: Labels::from_pairs([("__name__", *n), ("job", "api")]).expect("labels"),
                samples: vec![Sample { t, v: 1.0 }],
                exemplars: Vec::new(),
            })
            .collect(),
        metadata: vec![],
    }
}

async fn stored(engine: &Engine, tenant: &str) -> Vec<Labels> {
    let scope = ReadScope::tenant(TenantId::new(tenant).expect("tenant"));
    engine
        .series(&scope, sightline_core::Signal::Metrics, &[], 0, 1_000_000)
        .await
        .expect("series")
}

#[tokio::test]
async fn refusals_before_the_write_store_nothing_and_charge_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cp, auth) = workspace(dir.path(), Some(1_000), None).await;
    let engine = engine(&dir.path().join("data"), EngineConfig::default()).await;
    let gw = Gateway::new(engine.clone(), Quotas::new(cp.store().clone()), no_cap());

    // A service outside the token's list: the whole batch is refused.
    let mut billing_only = auth.clone();
    billing_only.allowed_services = vec!["billing".into()];
    let r = gw
        .write_metrics(&billing_only, batch(&["up"], 1), 1_000)
        .await
        .expect_err("service not allowed");
    assert!(matches!(r, Refusal::ServiceNotAllowed(_)), "{r:?}");
    assert_eq!(r.kind(), RefusalKind::NotAllowed);
    assert_eq!(r.reason(), Some("service_not_allowed"));

    // Over the daily quota: refused with the time until it resets.
    let r = gw
        .write_metrics(&auth, batch(&["up"], 2), 1_001)
        .await
        .expect_err("over the quota");
    assert!(matches!(r, Refusal::QuotaExceeded(_)), "{r:?}");
    assert_eq!(r.kind(), RefusalKind::QuotaExceeded);
    assert!(r.retry_after_secs().is_some_and(|s| s > 0 && s <= 86_400));
    assert!(r.to_string().contains("daily byte quota"), "{r}");

    assert_eq!(engine.wal_bytes(), 0, "nothing reached the WAL");
    assert!(stored(&engine, "w").await.is_empty());

    // Neither refusal took anything from the quota: all of it is left.
    let w = gw
        .write_metrics(&auth, batch(&["up"], 3), 1_000)
        .await
        .expect("the whole quota is left");
    assert_eq!(
        w,
        Written {
            samples: 1,
            cap_hit: None,
        }
    );
    assert!(w.partial().is_none());
    assert!(engine.wal_bytes() > 0);
    // Written under the token's tenant, not the one it was decoded for.
    assert_eq!(stored(&engine, "w").await.len(), 1);
    assert!(stored(&engine, "other").await.is_empty());
    // And now it is spent.
    let r = gw
        .write_metrics(&auth, batch(&["up"], 4), 1)
        .await
        .expect_err("quota spent");
    assert!(matches!(r, Refusal::QuotaExceeded(_)), "{r:?}");
}

#[tokio::test]
async fn a_write_that_fails_gives_its_bytes_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cp, auth) = workspace(dir.path(), Some(1_000), None).await;
    let quotas = Quotas::new(cp.store().clone());
    // A WAL budget of nothing: every write is refused as overloaded.
    let full = engine(
        &dir.path().join("full"),
        EngineConfig {
            wal_max_bytes: 0,
            ..EngineConfig::default()
        },
    )
    .await;
    let open = engine(&dir.path().join("open"), EngineConfig::default()).await;
    let failing = Gateway::new(full.clone(), quotas.clone(), no_cap());
    let working = Gateway::new(open.clone(), quotas, no_cap());

    let r = failing
        .write_metrics(&auth, batch(&["up"], 1), 1_000)
        .await
        .expect_err("wal full");
    assert!(
        matches!(
            r,
            Refusal::Overloaded {
                reason: Overload::WalFull,
                ..
            }
        ),
        "{r:?}"
    );
    assert_eq!(r.kind(), RefusalKind::Overloaded);
    assert_eq!(r.reason(), Some("wal_full"));
    assert!(r.retry_after_secs().is_some());
    assert!(r.to_string().contains("write-ahead log"), "{r}");
    assert!(stored(&full, "w").await.is_empty());

    // The refused write's 1,000 bytes were refunded: the same bytes fit.
    let w = working
        .write_metrics(&auth, batch(&["up"], 2), 1_000)
        .await
        .expect("refunded");
    assert_eq!(w.samples, 1);
}

#[tokio::test]
async fn the_series_cap_rejects_new_series_and_writes_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cp, auth) = workspace(dir.path(), None, Some(2)).await;
    let engine = engine(&dir.path().join("data"), EngineConfig::default()).await;
    let gw = Gateway::new(engine.clone(), Quotas::new(cp.store().clone()), no_cap());

    let w = gw
        .write_metrics(&auth, batch(&["a", "b", "c"], 1), 100)
        .await
        .expect("partly written");
    let hit = SeriesCapHit {
        rejected: 1,
        cap: 2,
        unit: "series",
    };
    assert_eq!(
        w,
        Written {
            samples: 2,
            cap_hit: Some(hit),
        }
    );
    let partial = w.partial().expect("a partial refusal");
    assert_eq!(partial.kind(), RefusalKind::Cardinality);
    assert!(
        partial.to_string().contains("1 new series rejected")
            && partial.to_string().contains("2 active series"),
        "{partial}"
    );
    let names: Vec<String> = stored(&engine, "w")
        .await
        .iter()
        .filter_map(|l| l.get("__name__").map(str::to_string))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!names.contains(&"c".to_string()), "{names:?}");
    assert_eq!(
        gw.active_series()
            .count(&auth.tenant.clone().expect("tenant")),
        2
    );

    // Series already active keep writing; a new one is still refused.
    let w = gw
        .write_metrics(&auth, batch(&["a"], 2), 100)
        .await
        .expect("known series");
    assert_eq!(
        w,
        Written {
            samples: 1,
            cap_hit: None,
        }
    );
    let w = gw
        .write_metrics(&auth, batch(&["d"], 3), 100)
        .await
        .expect("nothing new admitted, nothing failed");
    assert_eq!(
        w,
        Written {
            samples: 0,
            cap_hit: Some(hit),
        }
    );
}

#[tokio::test]
async fn the_server_cap_applies_to_workspaces_without_their_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cp, auth) = workspace(dir.path(), None, None).await;
    let engine = engine(&dir.path().join("data"), EngineConfig::default()).await;
    let gw = Gateway::new(
        engine,
        Quotas::new(cp.store().clone()),
        GatewayConfig {
            max_active_series: Some(1),
            ..GatewayConfig::default()
        },
    );
    let w = gw
        .write_metrics(&auth, batch(&["a", "b"], 1), 100)
        .await
        .expect("partly written");
    assert_eq!(
        w.cap_hit,
        Some(SeriesCapHit {
            rejected: 1,
            cap: 1,
            unit: "series",
        })
    );
}
