//! The engine: one tenant-scoped entry point for queries and writes on the
//! embedded tier, routing each read to the head (recent, in memory) and the
//! Parquet archive (flushed), and running the flusher that moves frozen head
//! parts into the archive.
//!
//! Invariants kept here:
//! - every read goes through [`sightline_plan::Selection`], which carries the
//!   tenant given by the caller (the API passes the token's tenant);
//! - head and archive reads of the same window are merged by timestamp, so a
//!   sample that is briefly in both (between an archive write and the head
//!   release) is counted once;
//! - PromQL evaluation runs on blocking threads, never on the async workers.

mod error;
mod flush;
mod query;

pub use error::EngineError;
pub use query::{Answer, EngineConfig, QueryLimits};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use sightline_archive::Archive;
use sightline_core::TenantId;
use sightline_ingest::ingestor::OpenStats;
use sightline_ingest::{IngestError, Ingestor, IngestorConfig, MetricMetadata, WriteBatch};

/// The embedded storage and query engine.
pub struct Engine {
    ingestor: Ingestor,
    archive: Arc<Archive>,
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
        Ok((
            Arc::new(Engine {
                ingestor,
                archive,
                cfg,
                flush_lock: tokio::sync::Mutex::new(Vec::new()),
            }),
            stats,
        ))
    }

    /// Writes a batch; returns once it is durable.
    pub async fn write(&self, batch: WriteBatch) -> Result<(), IngestError> {
        self.ingestor.write(batch).await
    }

    /// Metric metadata of a tenant.
    pub fn metadata(&self, tenant: &TenantId) -> BTreeMap<String, MetricMetadata> {
        self.ingestor.head().metadata(tenant)
    }
}
