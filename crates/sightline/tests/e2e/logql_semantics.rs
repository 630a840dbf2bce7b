//! The LogQL semantics suite: one table of queries, each with the answer
//! Loki gives for it (worked out from Loki's documented and coded
//! behaviour), run over the same generated streams on three setups: the
//! embedded head, the Parquet archive after a flush, and ClickHouse as the
//! hot tier. Every query also runs with a second workspace's token, which
//! sees none of the first workspace's data.
//!
//! The expected answers assume a Loki with `discover_log_levels` off (Loki
//! would otherwise add a `detected_level` structured metadata label to every
//! entry at push time) and `service_name` discovery on, as Sightline does.
//! Times are offsets from a base minute about twenty minutes ago, so that
//! metric range queries see Loki's step alignment on whole seconds.

mod check;
mod data;
mod log_cases;
mod metric_cases;
mod table;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sightline_clickhouse::ClickHouse;
use sightline_clickhouse::testing::TestClickHouse;
use sightline_ingest::loki_push::StreamAdapter;

use crate::harness::{Server, Tenant, get, log_entry, log_push_body, metrics_text, now_ms};

use check::*;
use data::*;
use log_cases::*;
use metric_cases::*;
use table::*;

// ---------------------------------------------------------------- setups

async fn load(url: &str, a: &Tenant, b: &Tenant, base: i64) {
    push(url, &a.ingest, push_body(base, first_workspace())).await;
    push(url, &b.ingest, push_body(base, second_workspace())).await;
}

async fn metric(url: &str, name: &str) -> Option<f64> {
    let text = metrics_text(url).await;
    let mut found = None;
    for l in text.lines().filter(|l| l.starts_with(name)) {
        if let Some(x) = l.rsplit(' ').next().and_then(|x| x.parse::<f64>().ok()) {
            *found.get_or_insert(0.0) += x;
        }
    }
    found
}

/// Waits until nothing is left to flush: the WAL empty, no part pending.
async fn flushed(url: &str, done: impl AsyncFn() -> bool, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if done().await
            && metric(url, "sightline_wal_bytes").await == Some(0.0)
            && metric(url, "sightline_flush_pending_parts")
                .await
                .unwrap_or(0.0)
                == 0.0
        {
            return;
        }
        assert!(Instant::now() < deadline, "the data was not flushed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn archived_tenants(archive: &std::path::Path) -> usize {
    let Ok(tenants) = std::fs::read_dir(archive) else {
        return 0;
    };
    tenants
        .flatten()
        .filter(|t| t.path().join("signal=logs").exists())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logql_semantics_on_the_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &["--flush-interval-secs", "3600"]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let base = base_ms();
    load(&srv.url, &a, &b, base).await;
    run_table("head", &srv.url, &a, &b, base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logql_semantics_on_the_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &["--flush-interval-secs", "1"]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let base = base_ms();
    load(&srv.url, &a, &b, base).await;
    let archive = dir.path().join("archive");
    let url = srv.url.clone();
    flushed(
        &srv.url,
        async || {
            archived_tenants(&archive) >= 2
                && metric(&url, "sightline_archive_flushed_log_entries_total")
                    .await
                    .unwrap_or(0.0)
                    >= ALL_ENTRIES as f64
        },
        Duration::from_secs(60),
    )
    .await;
    // The head part is released after the archive write; give it a moment.
    tokio::time::sleep(Duration::from_secs(3)).await;
    run_table("archive", &srv.url, &a, &b, base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logql_semantics_on_clickhouse() {
    let ch = TestClickHouse::start(None);
    let cfg = ch.config(30);
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(
        dir.path(),
        &[
            "--clickhouse-url",
            &cfg.url,
            "--clickhouse-database",
            &cfg.database,
            "--flush-interval-secs",
            "1",
        ],
    );
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let base = base_ms();
    load(&srv.url, &a, &b, base).await;
    let direct = ClickHouse::new(cfg.clone());
    flushed(
        &srv.url,
        async || direct.count_rows("logs").await.unwrap_or(0) >= ALL_ENTRIES,
        Duration::from_secs(90),
    )
    .await;
    run_table("clickhouse", &srv.url, &a, &b, base).await;
}
