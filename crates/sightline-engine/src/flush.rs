//! The flusher: freezes the head, stores the frozen part (in ClickHouse
//! when it is configured, in the Parquet archive otherwise) and then
//! releases it (deleting its WAL segments).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_clickhouse::{ClickHouse, SeriesBatch};
use sightline_core::TenantId;
use sightline_core::span::StoredSpan;
use sightline_ingest::{Frozen, HeadData};

use crate::{Engine, EngineError};

pub(crate) const METADATA_FILE: &str = "metadata.json";
/// Each tenant's exemplars, written at every flush (the WAL segments that
/// held them are deleted once the flush is stored).
pub(crate) const EXEMPLARS_FILE: &str = "exemplars.json";
/// Exemplars older than this are dropped at a flush: an exemplar points at
/// a trace, which is looked at while the spike it marks is recent.
const EXEMPLAR_MAX_AGE_MS: i64 = 7 * sightline_core::time::DAY_MS;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// One series' exemplars as the exemplars file keeps them (values by their
/// bits: JSON has no NaN).
#[derive(serde::Serialize, serde::Deserialize)]
struct SeriesExemplars {
    series: Vec<(String, String)>,
    exemplars: Vec<(Vec<(String, String)>, u64, i64)>,
}

fn pairs(l: &sightline_core::Labels) -> Vec<(String, String)> {
    l.iter()
        .map(|x| (x.name.clone(), x.value.clone()))
        .collect()
}

pub(crate) fn encode_exemplars(
    xs: &[(sightline_core::Labels, Vec<sightline_core::Exemplar>)],
) -> Result<Vec<u8>, serde_json::Error> {
    let rows: Vec<SeriesExemplars> = xs
        .iter()
        .map(|(l, es)| SeriesExemplars {
            series: pairs(l),
            exemplars: es
                .iter()
                .map(|e| (pairs(&e.labels), e.value.to_bits(), e.t))
                .collect(),
        })
        .collect();
    serde_json::to_vec(&rows)
}

pub(crate) fn decode_exemplars(
    body: &[u8],
) -> Result<Vec<(sightline_core::Labels, Vec<sightline_core::Exemplar>)>, String> {
    let rows: Vec<SeriesExemplars> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let labels = |p: &[(String, String)]| {
        sightline_core::Labels::from_pairs(p.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .map_err(|e| e.to_string())
    };
    rows.iter()
        .map(|r| {
            let es = r
                .exemplars
                .iter()
                .map(|(l, bits, t)| {
                    Ok(sightline_core::Exemplar {
                        labels: labels(l)?,
                        value: f64::from_bits(*bits),
                        t: *t,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok((labels(&r.series)?, es))
        })
        .collect()
}

/// Longest wait between two attempts to store a part that failed.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Engine {
    /// Moves everything in the active head to storage. Returns the number
    /// of samples and log entries stored.
    pub async fn flush(&self) -> Result<usize, EngineError> {
        let mut pending = self.flush_lock.lock().await;
        if !self.ingestor.head().active_is_empty() {
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
            rows += match self.hot_tier().await? {
                Some(ch) => self.drain_to_clickhouse(ch, frozen).await?,
                None => self.archive_part(frozen).await?,
            };
            for (tenant, md) in self.ingestor.head().all_metadata() {
                let body =
                    serde_json::to_vec(&md).map_err(|e| EngineError::Internal(e.to_string()))?;
                self.archive.put_json(&tenant, METADATA_FILE, body).await?;
            }
            let before = now_ms().saturating_sub(EXEMPLAR_MAX_AGE_MS);
            for (tenant, xs) in self
                .ingestor
                .head()
                .exemplars_to_store(before)
                .unwrap_or_default()
            {
                let body =
                    encode_exemplars(&xs).map_err(|e| EngineError::Internal(e.to_string()))?;
                self.archive.put_json(&tenant, EXEMPLARS_FILE, body).await?;
            }
            self.ingestor
                .release(frozen)
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            tracing::info!(segment = frozen.last_segment, "head part stored");
            pending.remove(0);
        }
        Ok(rows)
    }

    async fn archive_part(&self, frozen: &Frozen) -> Result<usize, EngineError> {
        // Named after the WAL segment it empties, so a retried flush
        // overwrites its own earlier attempt instead of adding a copy.
        let stem = format!("wal{:016}", frozen.last_segment);
        let mut rows = 0;
        for (tenant, th) in frozen.data.tenants() {
            let series = th.series().iter().map(|s| (&s.labels, &s.samples[..]));
            rows += self.archive.write_metrics(tenant, series, &stem).await?;
        }
        metrics::counter!("sightline_archive_flushed_samples_total").increment(rows as u64);
        let mut entries = 0;
        for (tenant, tl) in frozen.data.log_tenants() {
            let streams = tl.streams().iter().map(|s| (&s.labels, &s.entries[..]));
            entries += self.archive.write_logs(tenant, streams, &stem).await?;
        }
        metrics::counter!("sightline_archive_flushed_log_entries_total").increment(entries as u64);
        let mut spans = 0;
        for tenant in frozen.data.span_tenants().map(|(t, _)| t) {
            let part = PartSpans {
                data: Arc::clone(&frozen.data),
                tenant: tenant.clone(),
            };
            spans += self.archive.write_spans(tenant, part, &stem).await?;
        }
        metrics::counter!("sightline_archive_flushed_spans_total").increment(spans as u64);
        Ok(rows + entries + spans)
    }

    /// Inserts a frozen part into ClickHouse in batches of at most
    /// `clickhouse_batch_rows` samples. Batches are cut the same way on
    /// every attempt (the part does not change), and each carries the token
    /// `<node>-wal<segment>-<tenant>-<n>`, so a retry after a partial
    /// failure sends the stored batches again and ClickHouse drops them.
    async fn drain_to_clickhouse(
        &self,
        ch: &ClickHouse,
        frozen: &Frozen,
    ) -> Result<usize, EngineError> {
        let limit = self.cfg.clickhouse_batch_rows.max(1);
        let started = Instant::now();
        let mut rows = 0usize;
        for (tenant, th) in frozen.data.tenants() {
            let mut batch: Vec<SeriesBatch<'_>> = Vec::new();
            let mut in_batch = 0usize;
            let mut n = 0usize;
            let series = th.series();
            for (i, s) in series.iter().enumerate() {
                if !s.samples.is_empty() {
                    batch.push(SeriesBatch {
                        labels: &s.labels,
                        samples: &s.samples,
                    });
                    in_batch += s.samples.len();
                }
                let last = i + 1 == series.len();
                if (in_batch >= limit || last) && !batch.is_empty() {
                    let token = format!(
                        "{}-wal{:016}-{}-{n}",
                        self.node_id, frozen.last_segment, tenant
                    );
                    let t0 = Instant::now();
                    let written = ch.insert_metrics(tenant, &batch, &token).await?;
                    metrics::histogram!("sightline_clickhouse_insert_seconds")
                        .record(t0.elapsed().as_secs_f64());
                    metrics::counter!("sightline_clickhouse_inserted_samples_total")
                        .increment(written as u64);
                    rows += written;
                    batch.clear();
                    in_batch = 0;
                    n += 1;
                    self.pace(rows, started).await;
                }
            }
        }
        rows += self.drain_logs(ch, frozen, started, rows).await?;
        rows += self.drain_spans(ch, frozen, started, rows).await?;
        Ok(rows)
    }

    /// The span half of [`Engine::drain_to_clickhouse`]: each tenant's
    /// spans in batches of at most `clickhouse_batch_rows`, under the
    /// tokens `<node>-wal<segment>-<tenant>-spans-<n>`.
    async fn drain_spans(
        &self,
        ch: &ClickHouse,
        frozen: &Frozen,
        started: Instant,
        before: usize,
    ) -> Result<usize, EngineError> {
        let limit = self.cfg.clickhouse_batch_rows.max(1);
        let mut rows = 0usize;
        for (tenant, ts) in frozen.data.span_tenants() {
            for (n, batch) in ts.spans().chunks(limit).enumerate() {
                let token = format!(
                    "{}-wal{:016}-{}-spans-{n}",
                    self.node_id, frozen.last_segment, tenant
                );
                let written = ch.insert_spans(tenant, batch, &token).await?;
                metrics::counter!("sightline_clickhouse_inserted_spans_total")
                    .increment(written as u64);
                rows += written;
                self.pace(before + rows, started).await;
            }
        }
        Ok(rows)
    }

    /// The log half of [`Engine::drain_to_clickhouse`]: each tenant's
    /// streams in batches of at most `clickhouse_batch_rows` entries, under
    /// the tokens `<node>-wal<segment>-<tenant>-logs-<n>`.
    async fn drain_logs(
        &self,
        ch: &ClickHouse,
        frozen: &Frozen,
        started: Instant,
        before: usize,
    ) -> Result<usize, EngineError> {
        let limit = self.cfg.clickhouse_batch_rows.max(1);
        let mut rows = 0usize;
        for (tenant, tl) in frozen.data.log_tenants() {
            let mut batch: Vec<(&sightline_core::Labels, &[sightline_core::LogEntry])> = Vec::new();
            let mut in_batch = 0usize;
            let mut n = 0usize;
            let streams = tl.streams();
            for (i, s) in streams.iter().enumerate() {
                // A long stream is cut so that no batch passes the limit.
                let mut rest = &s.entries[..];
                while !rest.is_empty() {
                    let take = rest.len().min(limit - in_batch);
                    batch.push((&s.labels, &rest[..take]));
                    in_batch += take;
                    rest = &rest[take..];
                    let last = i + 1 == streams.len() && rest.is_empty();
                    if in_batch >= limit || last {
                        let token = format!(
                            "{}-wal{:016}-{}-logs-{n}",
                            self.node_id, frozen.last_segment, tenant
                        );
                        let written = ch.insert_logs(tenant, &batch, &token).await?;
                        metrics::counter!("sightline_clickhouse_inserted_log_entries_total")
                            .increment(written as u64);
                        rows += written;
                        batch.clear();
                        in_batch = 0;
                        n += 1;
                        self.pace(before + rows, started).await;
                    }
                }
            }
            if !batch.is_empty() {
                let token = format!(
                    "{}-wal{:016}-{}-logs-{n}",
                    self.node_id, frozen.last_segment, tenant
                );
                rows += ch.insert_logs(tenant, &batch, &token).await?;
            }
        }
        Ok(rows)
    }

    /// Sleeps as long as needed to keep the drain at or under
    /// `clickhouse_drain_rows_per_sec`.
    async fn pace(&self, rows: usize, started: Instant) {
        let rate = self.cfg.clickhouse_drain_rows_per_sec;
        if rate == 0 {
            return;
        }
        let due = Duration::from_secs_f64(rows as f64 / rate as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Runs forever: flushes when the head holds too many samples or the
    /// flush interval has passed; a part that failed to store is retried
    /// with exponential backoff (up to 30 s between attempts).
    pub async fn run_flusher(self: Arc<Self>) {
        let interval = Duration::from_secs(self.cfg.flush_interval_secs.max(1));
        let mut last = Instant::now();
        let mut backoff = Duration::ZERO;
        let mut next_retry = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            let head = self.ingestor.head();
            let samples = head.active_samples();
            let log_bytes = head.active_log_bytes();
            let span_bytes = head.active_span_bytes();
            let parts = self.flush_lock.lock().await.len();
            let failed = parts > 0;
            metrics::gauge!("sightline_wal_bytes").set(self.wal_bytes() as f64);
            metrics::gauge!("sightline_flush_pending_parts").set(parts as f64);
            if head.active_is_empty() && !failed {
                last = Instant::now();
                continue;
            }
            let due = samples >= self.cfg.head_max_samples
                || log_bytes >= self.cfg.head_max_log_bytes
                || span_bytes >= self.cfg.head_max_span_bytes
                || last.elapsed() >= interval;
            if failed && Instant::now() < next_retry {
                continue;
            }
            if failed || due {
                match self.flush().await {
                    Ok(_) => backoff = Duration::ZERO,
                    Err(e) => {
                        backoff = (backoff * 2).clamp(Duration::from_millis(500), MAX_BACKOFF);
                        next_retry = Instant::now() + backoff;
                        metrics::counter!("sightline_flush_failures_total").increment(1);
                        tracing::warn!(error = %e, retry_in = ?backoff, "storing the head failed; will retry");
                    }
                }
                last = Instant::now();
            }
        }
    }
}

/// One tenant's spans of a frozen head part, read in place by the archive
/// writer's encoding thread.
struct PartSpans {
    data: Arc<HeadData>,
    tenant: TenantId,
}

impl AsRef<[StoredSpan]> for PartSpans {
    fn as_ref(&self) -> &[StoredSpan] {
        self.data.spans_of(&self.tenant)
    }
}
