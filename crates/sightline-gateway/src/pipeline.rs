//! The write sequence every door runs: policy, quota, series cap, write,
//! refund, counters.

use std::sync::Arc;

use sightline_control::{Authenticated, Quotas};
use sightline_core::{Signal, TenantId};
use sightline_engine::Engine;
use sightline_ingest::otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
use sightline_ingest::{LogBatch, SpanBatch, WriteBatch};

use crate::cardinality::ActiveSeries;
use crate::policy::{WritePolicy, sensitive_keys};
use crate::refusal::{Refusal, SeriesCapHit};

/// Requests by tenant, signal and outcome (`success`, `high_cardinality`,
/// `forbidden`, `quota_exceeded`, `bad_request`, `error`).
pub const INGEST_REQUESTS_TOTAL: &str = "sightline_ingest_requests_total";
/// Refusals by tenant, signal and reason ([`Refusal::reason`]); series
/// rejected by the cap count one each.
pub const INGEST_REFUSED_TOTAL: &str = "sightline_ingest_refused_total";
/// Samples written, by tenant.
pub const INGEST_SAMPLES_TOTAL: &str = "sightline_ingest_samples_total";
/// Log entries written, by tenant.
pub const INGEST_LOG_ENTRIES_TOTAL: &str = "sightline_ingest_log_entries_total";
/// Spans written, by tenant.
pub const INGEST_SPANS_TOTAL: &str = "sightline_ingest_spans_total";

/// The gateway's settings.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Label and attribute keys whose values are redacted at ingest
    /// (lowercase; see [`sensitive_keys`]).
    pub redact_keys: Vec<String>,
    /// Active series a workspace may hold unless its own cap says
    /// otherwise; `None` for no cap.
    pub max_active_series: Option<usize>,
    /// How long a series stays active after its last sample, in seconds
    /// (and a log stream after its last entry).
    pub active_series_window_secs: u64,
    /// Active log streams a workspace may hold unless its own cap (the
    /// workspace's active-series limit, counted for streams apart from
    /// series) says otherwise; `None` for no cap.
    pub max_active_streams: Option<usize>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            redact_keys: sensitive_keys(&[]),
            max_active_series: Some(1_000_000),
            active_series_window_secs: 3600,
            max_active_streams: Some(100_000),
        }
    }
}

/// What an accepted write stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Samples (or, for logs, entries) stored.
    pub samples: usize,
    /// Series the active-series cap rejected (their samples are not
    /// stored, the others are).
    pub cap_hit: Option<SeriesCapHit>,
}

impl Written {
    /// The refusal of the part that was not stored, for doors that answer
    /// a partial write as an error.
    pub fn partial(&self) -> Option<Refusal> {
        self.cap_hit.map(Refusal::Cardinality)
    }
}

/// The ingest gateway: the one sequence from a decoded batch and the
/// caller's token to an acknowledged write or a counted refusal.
pub struct Gateway {
    engine: Arc<Engine>,
    quotas: Arc<Quotas>,
    active: ActiveSeries,
    streams: ActiveSeries,
    cfg: GatewayConfig,
}

/// A decoded batch of any signal, so that one function holds the write
/// sequence for all.
enum Batch {
    Metrics(WriteBatch),
    Logs(LogBatch),
    /// A trace export as decoded: the policy translates it into spans.
    TraceExport(ExportTraceServiceRequest),
    /// Spans, with the ones the translation refused.
    Spans(SpanBatch),
}

impl Batch {
    fn signal(&self) -> Signal {
        match self {
            Batch::Metrics(_) => Signal::Metrics,
            Batch::Logs(_) => Signal::Logs,
            Batch::TraceExport(_) | Batch::Spans(_) => Signal::Traces,
        }
    }

    /// The batch for `tenant` under `policy`.
    fn apply(self, tenant: TenantId, policy: &WritePolicy) -> Result<Batch, Refusal> {
        Ok(match self {
            Batch::Metrics(mut b) => {
                b.tenant = tenant;
                policy.apply(&mut b)?;
                Batch::Metrics(b)
            }
            Batch::Logs(mut b) => {
                b.tenant = tenant;
                policy.apply_logs(&mut b)?;
                Batch::Logs(b)
            }
            Batch::TraceExport(req) => Batch::Spans(policy.apply_traces(&tenant, req)?),
            Batch::Spans(mut b) => {
                b.tenant = tenant;
                Batch::Spans(b)
            }
        })
    }

    /// Samples, entries or spans.
    fn count(&self) -> usize {
        match self {
            Batch::Metrics(b) => b.sample_count(),
            Batch::Logs(b) => b.entry_count(),
            Batch::TraceExport(_) => 0,
            Batch::Spans(b) => b.spans.len(),
        }
    }

    /// The bytes a quota charges for what is stored, where the door does
    /// not give them: a span's encoded form.
    fn stored_bytes(&self) -> usize {
        match self {
            Batch::Spans(b) => b.spans.iter().map(|s| s.size()).sum(),
            _ => 0,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Batch::Metrics(b) => b.series.is_empty() && b.metadata.is_empty(),
            Batch::Logs(b) => b.streams.is_empty(),
            Batch::TraceExport(req) => req.resource_spans.is_empty(),
            Batch::Spans(b) => b.spans.is_empty(),
        }
    }
}

impl Gateway {
    pub fn new(engine: Arc<Engine>, quotas: Arc<Quotas>, cfg: GatewayConfig) -> Self {
        let window_ms =
            i64::try_from(cfg.active_series_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        Gateway {
            engine,
            quotas,
            active: ActiveSeries::new(window_ms),
            streams: ActiveSeries::new(window_ms),
            cfg,
        }
    }

    /// The active series of every workspace, as the cap counts them.
    pub fn active_series(&self) -> &ActiveSeries {
        &self.active
    }

    /// Writes a decoded metrics batch for `auth`'s token. `raw_bytes` is
    /// the size the byte quota counts (the uncompressed payload).
    ///
    /// The steps, in order: the batch's tenant is set to the token's; the
    /// token's [`WritePolicy`] is applied (on a blocking thread: it is CPU
    /// work on large batches); the quota is charged; the series cap drops
    /// new series past it; the rest is written and acknowledged once in
    /// the WAL. A refusal stores nothing and leaves the quota as it was: a
    /// step before the write that refuses has charged nothing, and a failed
    /// write gives its bytes back. Every outcome is counted by tenant.
    pub async fn write_metrics(
        &self,
        auth: &Authenticated,
        batch: WriteBatch,
        raw_bytes: usize,
    ) -> Result<Written, Refusal> {
        self.write(auth, Batch::Metrics(batch), Some(raw_bytes))
            .await
    }

    /// Writes decoded log streams for `auth`'s token, by the same sequence
    /// as [`Gateway::write_metrics`]: policy (scope labels over the stream
    /// labels, allowed services by [`crate::policy::service_of_stream`],
    /// redaction of stream labels and structured metadata), the quota of
    /// signal `logs`, the stream cap, the write, the refund. `raw_bytes`
    /// is what the quota charges (the lines and metadata).
    pub async fn write_logs(
        &self,
        auth: &Authenticated,
        batch: LogBatch,
        raw_bytes: usize,
    ) -> Result<Written, Refusal> {
        self.write(auth, Batch::Logs(batch), Some(raw_bytes)).await
    }

    /// Writes an OTLP trace export for `auth`'s token, by the same
    /// sequence: the policy ([`WritePolicy::apply_traces`]: allowed
    /// services by `service.name`, the scope over the resource attributes,
    /// redaction at any depth) translates it into spans; the quota of
    /// signal `traces` is charged what is stored (the spans' encoded
    /// forms); the write; the refund. Spans carry no series, so no cap
    /// applies. A malformed export (`otlp::validate`) is refused whole.
    pub async fn write_spans(
        &self,
        auth: &Authenticated,
        req: ExportTraceServiceRequest,
    ) -> Result<Written, Refusal> {
        self.write(auth, Batch::TraceExport(req), None).await
    }

    /// The write sequence: the one place its order is kept. `raw_bytes`:
    /// what the quota charges, else what is stored
    /// ([`Batch::stored_bytes`]).
    async fn write(
        &self,
        auth: &Authenticated,
        batch: Batch,
        raw_bytes: Option<usize>,
    ) -> Result<Written, Refusal> {
        let signal = batch.signal();
        let Some(tenant) = auth.tenant.clone() else {
            return Err(self.refused("", signal, None, Refusal::NoWorkspace));
        };

        // The token's scope: labels overwritten, services checked, sensitive
        // values redacted; a refusal leaves nothing written or charged.
        let policy = WritePolicy::for_token(auth, &self.cfg.redact_keys);
        let t = tenant.clone();
        let applied = tokio::task::spawn_blocking(move || batch.apply(t, &policy)).await;
        let mut batch = match applied {
            Ok(Ok(b)) => b,
            Ok(Err(r)) => return Err(self.refused(tenant.as_str(), signal, None, r)),
            Err(e) => {
                let r = Refusal::Internal(format!("policy task failed: {e}"));
                return Err(self.refused(tenant.as_str(), signal, None, r));
            }
        };

        let now_ms = now_ms();
        let now_secs = now_ms.div_euclid(1000);
        let raw_bytes = raw_bytes.unwrap_or_else(|| batch.stored_bytes());
        let bytes = i64::try_from(raw_bytes).unwrap_or(i64::MAX);
        match self.quotas.charge(auth, signal, bytes, now_secs).await {
            Ok(Ok(())) => {}
            Ok(Err(q)) => {
                return Err(self.refused(tenant.as_str(), signal, None, Refusal::QuotaExceeded(q)));
            }
            Err(e) => return Err(self.refused(tenant.as_str(), signal, None, Refusal::Control(e))),
        }

        let (cap, rejected, unit) = match &mut batch {
            Batch::Metrics(b) => {
                let cap = self.series_cap(auth);
                (cap, self.active.admit(b, cap, now_ms), "series")
            }
            Batch::Logs(b) => {
                let cap = self.stream_cap(auth);
                (cap, self.streams.admit_streams(b, cap, now_ms), "streams")
            }
            Batch::TraceExport(_) | Batch::Spans(_) => (None, 0, "spans"),
        };
        if rejected > 0 {
            count_refused(tenant.as_str(), signal, "high_cardinality", rejected as u64);
        }

        let count = batch.count();
        if !batch.is_empty() {
            let written = match batch {
                Batch::Metrics(b) => self.engine.write(b).await.map_err(Refusal::from),
                Batch::Logs(b) => self.engine.write_logs(b).await.map_err(Refusal::from),
                Batch::Spans(b) => self.engine.write_spans(b).await.map_err(Refusal::from),
                Batch::TraceExport(_) => Err(Refusal::Internal(
                    "a trace export reached the write untranslated".into(),
                )),
            };
            if let Err(r) = written {
                // Not stored: the bytes do not count against the quota.
                self.quotas.refund(auth, signal, bytes, now_secs);
                return Err(self.refused(tenant.as_str(), signal, Some("error"), r));
            }
            let counter = match signal {
                Signal::Logs => INGEST_LOG_ENTRIES_TOTAL,
                Signal::Traces => INGEST_SPANS_TOTAL,
                Signal::Metrics => INGEST_SAMPLES_TOTAL,
            };
            metrics::counter!(counter, "tenant" => tenant.to_string()).increment(count as u64);
        }

        let cap_hit = (rejected > 0).then(|| SeriesCapHit {
            rejected,
            cap: cap.unwrap_or_default(),
            unit,
        });
        count_request(
            tenant.as_str(),
            signal,
            if cap_hit.is_some() {
                "high_cardinality"
            } else {
                "success"
            },
        );
        Ok(Written {
            samples: count,
            cap_hit,
        })
    }

    /// Counts the refusal of a payload a door could not take (undecodable,
    /// too large, in an unsupported encoding) before it reached
    /// [`Gateway::write_metrics`], as the gateway counts its own, and hands
    /// it back for the door to answer with.
    pub fn refuse_payload(&self, tenant: &TenantId, signal: Signal, refusal: Refusal) -> Refusal {
        self.refused(tenant.as_str(), signal, None, refusal)
    }

    /// The stream cap in force for the token: its workspace's cardinality
    /// limit, else the server's default for streams.
    fn stream_cap(&self, auth: &Authenticated) -> Option<usize> {
        auth.limits
            .max_active_series
            .and_then(|n| usize::try_from(n).ok())
            .or(self.cfg.max_active_streams)
    }

    /// Counts entries a door refused one by one while the rest of their
    /// request was written (Loki's push: a line too long, a timestamp out
    /// of bounds), under the reason `invalid_entry`.
    pub fn count_invalid_entries(&self, tenant: &TenantId, n: usize) {
        count_refused(tenant.as_str(), Signal::Logs, "invalid_entry", n as u64);
    }

    /// The series cap in force for the token: its workspace's, else the
    /// server's default.
    fn series_cap(&self, auth: &Authenticated) -> Option<usize> {
        auth.limits
            .max_active_series
            .and_then(|n| usize::try_from(n).ok())
            .or(self.cfg.max_active_series)
    }

    /// Counts a refusal (its reason, if it has one, and the request's
    /// outcome: `outcome`, else the refusal's own) and logs the faults.
    fn refused(
        &self,
        tenant: &str,
        signal: Signal,
        outcome: Option<&'static str>,
        r: Refusal,
    ) -> Refusal {
        if let Some(reason) = r.reason() {
            count_refused(tenant, signal, reason, 1);
        }
        count_request(tenant, signal, outcome.unwrap_or_else(|| r.outcome()));
        match &r {
            Refusal::Wal(e) => {
                tracing::error!(tenant = tenant, error = %e, "write not acknowledged");
            }
            Refusal::Internal(m) => tracing::error!(tenant = tenant, error = %m, "write failed"),
            _ => {}
        }
        r
    }
}

fn count_request(tenant: &str, signal: Signal, outcome: &'static str) {
    metrics::counter!(
        INGEST_REQUESTS_TOTAL,
        "tenant" => tenant.to_string(),
        "signal" => signal.as_str(),
        "outcome" => outcome
    )
    .increment(1);
}

fn count_refused(tenant: &str, signal: Signal, reason: &'static str, n: u64) {
    metrics::counter!(
        INGEST_REFUSED_TOTAL,
        "tenant" => tenant.to_string(),
        "signal" => signal.as_str(),
        "reason" => reason
    )
    .increment(n);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
