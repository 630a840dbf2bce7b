//! The engine: one tenant-scoped entry point for queries and writes,
//! routing each read to the head (recent, in memory), ClickHouse (the hot
//! tier, when configured) and the Parquet archive, and running the flusher
//! that moves frozen head parts into ClickHouse when it is configured and
//! into the archive otherwise.
//!
//! Invariants kept here:
//! - every read goes through [`sightline_plan::Selection`], which carries the
//!   tenant given by the caller (the API passes the token's tenant);
//! - every tier is read through [`sightline_plan::StorageTier`], and the
//!   engine is one too (`merge.rs`): head, ClickHouse and archive reads of
//!   the same window are merged by timestamp, so a sample that is briefly in
//!   two places (between a flush's write and the head release) is counted
//!   once;
//! - the evaluator reads through [`TierView`] (`view.rs`), the one
//!   `Queryable` over a tier, bound to a `ReadScope`, with a deadline; the
//!   compatibility runner uses the same adapter over ClickHouse;
//! - a frozen head part leaves the WAL only after every one of its batches
//!   is stored; each ClickHouse batch carries a deduplication token naming
//!   this process, the WAL segment, the tenant and the batch, so a retry never
//!   writes a batch twice.
//! - PromQL evaluation runs on blocking threads, never on the async workers.

mod error;
mod flush;
mod logql;
mod merge;
mod query;
mod tail;
mod view;

pub use error::EngineError;
pub use logql::{LogqlAnswer, LogqlRequest, parse_logql};
pub use query::{Answer, EngineConfig, QueryLimits};
pub use tail::LogTail;
pub use view::TierView;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sightline_archive::Archive;
use sightline_clickhouse::{ChError, ClickHouse};
use sightline_core::TenantId;
use sightline_ingest::ingestor::OpenStats;
use sightline_ingest::{
    IngestError, Ingestor, IngestorConfig, LogBatch, MetricMetadata, WriteBatch,
};

/// The embedded storage and query engine.
pub struct Engine {
    ingestor: Ingestor,
    archive: Arc<Archive>,
    /// The hot tier, when configured.
    hot: Option<Arc<ClickHouse>>,
    /// Whether the hot tier's migrations are known to be applied.
    hot_ready: AtomicBool,
    /// This process's identity, part of every deduplication token.
    node_id: String,
    cfg: EngineConfig,
    /// Frozen head parts not yet archived, oldest first.
    flush_lock: tokio::sync::Mutex<Vec<sightline_ingest::Frozen>>,
}

impl Engine {
    /// Opens the engine under `data_dir`: replays the WAL and opens the archive.
    pub async fn open(
        data_dir: PathBuf,
        cfg: EngineConfig,
    ) -> Result<(Arc<Self>, OpenStats), EngineError> {
        let mut icfg = IngestorConfig::new(data_dir.join("wal"));
        icfg.max_pending_bytes = cfg.wal_max_pending_bytes;
        icfg.max_wal_bytes = cfg.wal_max_bytes;
        icfg.max_exemplars_per_series = cfg.max_exemplars_per_series;
        // Random per start: tokens of two servers sharing a database, or of
        // one server before and after a restart, never meet. (A part replayed
        // after a restart is cut differently anyway; the samples table
        // collapses the rows it repeats.)
        let node_id = format!("{:016x}", rand::random::<u64>());
        let (ingestor, stats) =
            Ingestor::open(icfg).map_err(|e| EngineError::Internal(e.to_string()))?;
        let archive = Arc::new(Archive::open_local(&data_dir.join("archive"))?);
        for (tenant, body) in archive.all_json(flush::METADATA_FILE).await? {
            match serde_json::from_slice::<BTreeMap<String, MetricMetadata>>(&body) {
                Ok(m) => ingestor.head().load_metadata(tenant, m),
                Err(e) => {
                    tracing::warn!(tenant = %tenant, error = %e, "unreadable metadata file skipped")
                }
            }
        }
        for (tenant, body) in archive.all_json(flush::EXEMPLARS_FILE).await? {
            match flush::decode_exemplars(&body) {
                Ok(xs) => ingestor.head().load_exemplars(&tenant, xs),
                Err(e) => {
                    tracing::warn!(tenant = %tenant, error = %e, "unreadable exemplars file skipped")
                }
            }
        }
        let hot = cfg.clickhouse.clone().map(|c| Arc::new(ClickHouse::new(c)));
        let engine = Engine {
            ingestor,
            archive,
            hot,
            hot_ready: AtomicBool::new(false),
            node_id,
            cfg,
            flush_lock: tokio::sync::Mutex::new(Vec::new()),
        };
        // Migrations run at start; if ClickHouse is down they are retried
        // before the first drain and the first read instead.
        if let Err(e) = engine.hot_tier().await {
            tracing::warn!(error = %e, "clickhouse not ready at start; writes wait in the WAL");
        }
        Ok((Arc::new(engine), stats))
    }

    /// The hot tier with its migrations applied, or `None` when none is
    /// configured.
    pub(crate) async fn hot_tier(&self) -> Result<Option<&ClickHouse>, ChError> {
        use std::sync::atomic::Ordering;
        let Some(ch) = &self.hot else {
            return Ok(None);
        };
        if !self.hot_ready.load(Ordering::Acquire) {
            let n = ch.migrate().await?;
            if n > 0 {
                tracing::info!(applied = n, "clickhouse migrations applied");
            }
            self.hot_ready.store(true, Ordering::Release);
        }
        Ok(Some(ch))
    }

    /// Bytes of WAL not yet stored elsewhere.
    pub fn wal_bytes(&self) -> u64 {
        self.ingestor.wal_bytes()
    }

    /// Writes a batch; returns once it is durable.
    pub async fn write(&self, batch: WriteBatch) -> Result<(), IngestError> {
        self.ingestor.write(batch).await
    }

    /// Writes log streams; returns once they are durable.
    pub async fn write_logs(&self, batch: LogBatch) -> Result<(), IngestError> {
        self.ingestor.write_logs(batch).await
    }

    /// Writes spans; returns once they are durable.
    pub async fn write_spans(&self, batch: sightline_ingest::SpanBatch) -> Result<(), IngestError> {
        self.ingestor.write_spans(batch).await
    }

    /// The scope's spans of `trace_id` (or of every trace) overlapping
    /// `[start_ns, end_ns)`, from every tier, at most `limit` from each.
    pub async fn spans(
        &self,
        scope: &sightline_plan::ReadScope,
        trace_id: Option<[u8; 16]>,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> Result<Vec<sightline_core::span::StoredSpan>, EngineError> {
        let sel = scope
            .select_spans(trace_id, start_ns, end_ns)?
            .with_limit(limit);
        Ok(sightline_plan::StorageTier::select_spans(self, &sel).await?)
    }

    /// The exemplars in `[start_ms, end_ms]` of the scope's series that
    /// match one of `selectors`, each series once.
    pub fn exemplars(
        &self,
        scope: &sightline_plan::ReadScope,
        selectors: &[Vec<sightline_core::Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(sightline_core::Labels, Vec<sightline_core::Exemplar>)> {
        self.ingestor.head().exemplars(
            scope.tenant_id(),
            selectors,
            scope.required(),
            start_ms,
            end_ms,
        )
    }

    /// Metric metadata of a tenant.
    pub fn metadata(&self, tenant: &TenantId) -> BTreeMap<String, MetricMetadata> {
        self.ingestor.head().metadata(tenant)
    }
}

#[cfg(test)]
mod tests {
    use sightline_core::span::StoredSpan;
    use sightline_plan::ReadScope;

    use super::*;

    /// A span as the OTLP door stores it (its OTLP form is what the WAL
    /// keeps).
    fn span(trace: u8, id: u8, start: i64) -> StoredSpan {
        use sightline_ingest::otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
        use sightline_ingest::otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![trace; 16],
                        span_id: vec![id; 8],
                        name: format!("op{id}"),
                        start_time_unix_nano: start as u64,
                        end_time_unix_nano: start as u64 + 10,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let policy = sightline_ingest::otlp::traces::SpanPolicy {
            scope: &[],
            redact: &|_| false,
            redacted: "",
        };
        let tenant = TenantId::new("a").expect("tenant");
        let mut b =
            sightline_ingest::otlp::traces::translate(&tenant, req, &policy).expect("a span");
        b.spans.remove(0)
    }

    /// Spans written survive a flush (into the archive) and a restart, each
    /// read once, within their tenant.
    #[tokio::test(flavor = "multi_thread")]
    async fn spans_are_durable_through_a_flush_and_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = TenantId::new("a").expect("tenant");
        let now = 1_800_000_000_000_000_000;
        {
            let (engine, _) = Engine::open(dir.path().to_path_buf(), EngineConfig::default())
                .await
                .expect("open");
            let batch = |spans| sightline_ingest::SpanBatch {
                tenant: a.clone(),
                spans,
            };
            engine
                .write_spans(batch(vec![span(1, 1, now), span(1, 2, now + 5)]))
                .await
                .expect("write");
            engine.flush().await.expect("flush");
            engine
                .write_spans(batch(vec![span(1, 3, now + 7), span(2, 4, now)]))
                .await
                .expect("write");
            let got = engine
                .spans(
                    &ReadScope::tenant(a.clone()),
                    Some([1; 16]),
                    now - 1,
                    now + 100,
                    1000,
                )
                .await
                .expect("spans");
            let ids: Vec<u8> = got.iter().map(|s| s.span_id[0]).collect();
            assert_eq!(ids, [1, 2, 3], "head and archive, each span once");
        }
        let (engine, stats) = Engine::open(dir.path().to_path_buf(), EngineConfig::default())
            .await
            .expect("reopen");
        assert_eq!(stats.spans, 2, "the unflushed spans replay from the WAL");
        let all = engine
            .spans(
                &ReadScope::tenant(a.clone()),
                None,
                now - 1,
                now + 100,
                1000,
            )
            .await
            .expect("spans");
        assert_eq!(all.len(), 4);
        let other = TenantId::new("b").expect("tenant");
        let none = engine
            .spans(&ReadScope::tenant(other), None, 0, i64::MAX, 1000)
            .await
            .expect("spans");
        assert!(none.is_empty());
    }
}
