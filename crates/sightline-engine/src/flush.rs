//! The flusher: freezes the head, writes the frozen part to the archive and
//! then releases it (deleting its WAL segments).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Engine, EngineError};

pub(crate) const METADATA_FILE: &str = "metadata.json";

impl Engine {
    /// Moves everything in the active head to the archive. Returns the
    /// number of samples archived.
    pub async fn flush(&self) -> Result<usize, EngineError> {
        let mut pending = self.flush_lock.lock().await;
        if self.ingestor.head().active_samples() > 0 {
            let frozen = self
                .ingestor
                .freeze()
                .await
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            pending.push(frozen);
        }
        let mut rows = 0;
        // Oldest first: releasing a part deletes every WAL segment up to its
        // own, so an older part must never be left behind a newer one.
        while let Some(frozen) = pending.first() {
            // Named after the WAL segment it empties, so a retried flush
            // overwrites its own earlier attempt instead of adding a copy.
            let stem = format!("wal{:016}", frozen.last_segment);
            for (tenant, th) in frozen.data.tenants() {
                let series = th.series().iter().map(|s| (&s.labels, &s.samples[..]));
                rows += self.archive.write_metrics(tenant, series, &stem).await?;
            }
            for (tenant, md) in self.ingestor.head().all_metadata() {
                let body =
                    serde_json::to_vec(&md).map_err(|e| EngineError::Internal(e.to_string()))?;
                self.archive.put_json(&tenant, METADATA_FILE, body).await?;
            }
            self.ingestor
                .release(frozen)
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            tracing::info!(
                segment = frozen.last_segment,
                "head part flushed to archive"
            );
            pending.remove(0);
        }
        metrics::counter!("sightline_archive_flushed_samples_total").increment(rows as u64);
        Ok(rows)
    }

    /// Runs forever: flushes when the head holds too many samples or the
    /// flush interval has passed.
    pub async fn run_flusher(self: Arc<Self>) {
        let interval = Duration::from_secs(self.cfg.flush_interval_secs.max(1));
        let mut last = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            let samples = self.ingestor.head().active_samples();
            // A part whose earlier flush failed is retried even when idle.
            let retry = !self.flush_lock.lock().await.is_empty();
            if samples == 0 && !retry {
                last = Instant::now();
                continue;
            }
            if retry || samples >= self.cfg.head_max_samples || last.elapsed() >= interval {
                if let Err(e) = self.flush().await {
                    tracing::error!(error = %e, "flush failed; will retry");
                }
                last = Instant::now();
            }
        }
    }
}
