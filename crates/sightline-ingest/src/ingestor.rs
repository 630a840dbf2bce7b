//! The ingestor: one WAL writer thread doing group commit, feeding the head.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use tokio::sync::oneshot;

use crate::error::{IngestError, Overload};
use crate::head::{Head, HeadData};
use crate::record::{LogBatch, Record, SpanBatch, WriteBatch};
use crate::tail::{LogTaps, TailLimit, TailSubscription};
use crate::wal::{self, SegmentWriter};

/// Settings of the write path.
#[derive(Debug, Clone)]
pub struct IngestorConfig {
    pub wal_dir: PathBuf,
    /// Bytes of encoded writes allowed to wait for the WAL at once; past it
    /// writes are refused as overloaded (HTTP 429).
    pub max_pending_bytes: usize,
    /// Most bytes one group commit writes before syncing.
    pub max_group_bytes: usize,
    /// The WAL budget: bytes of segments not yet stored elsewhere (for
    /// example while ClickHouse is down). Past it writes are refused as
    /// overloaded (HTTP 429) until a flush releases segments.
    pub max_wal_bytes: u64,
    /// Exemplars kept per series (the oldest dropped first).
    pub max_exemplars_per_series: usize,
}

impl IngestorConfig {
    pub fn new(wal_dir: PathBuf) -> Self {
        IngestorConfig {
            wal_dir,
            max_pending_bytes: 512 << 20,
            max_group_bytes: 32 << 20,
            max_wal_bytes: u64::MAX,
            max_exemplars_per_series: crate::head::exemplars::DEFAULT_MAX_EXEMPLARS_PER_SERIES,
        }
    }
}

/// A frozen head part and the last WAL segment whose entries it holds.
pub struct Frozen {
    pub data: Arc<HeadData>,
    pub last_segment: u64,
}

type Ack = oneshot::Sender<Result<(), String>>;

enum Cmd {
    Write {
        payload: Vec<u8>,
        record: Record,
        ack: Ack,
    },
    Freeze {
        ack: oneshot::Sender<Result<Frozen, String>>,
    },
}

/// Owner of the WAL writer thread and the head.
pub struct Ingestor {
    tx: mpsc::Sender<Cmd>,
    head: Arc<Head>,
    pending: Arc<AtomicUsize>,
    /// Bytes in WAL segments on disk.
    wal_bytes: Arc<AtomicU64>,
    taps: Arc<LogTaps>,
    cfg: IngestorConfig,
}

/// What opening the WAL found.
#[derive(Debug, Default, Clone)]
pub struct OpenStats {
    pub segments: usize,
    pub entries: usize,
    pub samples: usize,
    pub log_entries: usize,
    pub spans: usize,
    pub truncated_bytes: u64,
    pub bad_entries: usize,
}

impl Ingestor {
    /// Replays the WAL in `cfg.wal_dir` into a new head and starts the writer.
    pub fn open(cfg: IngestorConfig) -> Result<(Self, OpenStats), IngestError> {
        std::fs::create_dir_all(&cfg.wal_dir)?;
        let head = Arc::new(Head::with_max_exemplars(cfg.max_exemplars_per_series));
        let mut stats = OpenStats::default();
        let segments = wal::list_segments(&cfg.wal_dir)?;
        for &no in &segments {
            let path = wal::segment_path(&cfg.wal_dir, no);
            let st = wal::replay_segment(&path, |payload| match Record::decode(payload) {
                Ok(r) => {
                    match &r {
                        Record::Metrics(b) => stats.samples += b.sample_count(),
                        Record::Logs(b) => stats.log_entries += b.entry_count(),
                        Record::Spans(b) => stats.spans += b.spans.len(),
                    }
                    head.apply_record(r);
                }
                Err(e) => {
                    stats.bad_entries += 1;
                    tracing::error!(segment = no, error = %e, "undecodable wal entry skipped");
                }
            })?;
            if st.truncated_bytes > 0 {
                tracing::warn!(
                    segment = no,
                    bytes = st.truncated_bytes,
                    "torn wal tail cut"
                );
            }
            stats.entries += st.entries;
            stats.truncated_bytes += st.truncated_bytes;
        }
        stats.segments = segments.len();
        let mut on_disk = 0u64;
        for &no in &segments {
            on_disk += std::fs::metadata(wal::segment_path(&cfg.wal_dir, no))?.len();
        }
        let wal_bytes = Arc::new(AtomicU64::new(on_disk));
        let next = segments.last().map_or(1, |n| n + 1);
        let writer = SegmentWriter::create(&cfg.wal_dir, next)?;
        let (tx, rx) = mpsc::channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let th_cfg = cfg.clone();
        let taps = Arc::new(LogTaps::default());
        let th = WriterShared {
            head: head.clone(),
            pending: pending.clone(),
            wal_bytes: wal_bytes.clone(),
            taps: taps.clone(),
        };
        std::thread::Builder::new()
            .name("sightline-wal".into())
            .spawn(move || writer_loop(rx, writer, th, th_cfg))?;
        Ok((
            Ingestor {
                tx,
                head,
                pending,
                wal_bytes,
                taps,
                cfg,
            },
            stats,
        ))
    }

    pub fn head(&self) -> &Arc<Head> {
        &self.head
    }

    /// Opens a live tail of `tenant`'s log streams that `matchers`
    /// select: each acknowledged record from now on, in WAL order.
    pub fn tail_logs(
        &self,
        tenant: &sightline_core::TenantId,
        matchers: Vec<sightline_core::Matcher>,
        max_per_tenant: usize,
    ) -> Result<TailSubscription, TailLimit> {
        self.taps.subscribe(tenant, matchers, max_per_tenant)
    }

    /// Bytes in WAL segments on disk (not yet released).
    pub fn wal_bytes(&self) -> u64 {
        self.wal_bytes.load(Ordering::SeqCst)
    }

    /// Writes a batch durably. Returns once it is in the WAL (synced) and
    /// visible in the head. A refusal (`Overloaded`, with its reason) is
    /// counted by the caller.
    pub async fn write(&self, batch: WriteBatch) -> Result<(), IngestError> {
        self.write_record(Record::Metrics(batch)).await
    }

    /// Writes spans durably, as [`Ingestor::write`] writes samples.
    pub async fn write_spans(&self, batch: SpanBatch) -> Result<(), IngestError> {
        self.write_record(Record::Spans(batch)).await
    }

    /// Writes log streams durably, as [`Ingestor::write`] writes samples.
    pub async fn write_logs(&self, batch: LogBatch) -> Result<(), IngestError> {
        self.write_record(Record::Logs(batch)).await
    }

    async fn write_record(&self, record: Record) -> Result<(), IngestError> {
        if record.is_empty() {
            return Ok(());
        }
        let mut payload = Vec::with_capacity(record.size_hint());
        record.encode(&mut payload);
        let size = payload.len();
        if size > wal::MAX_FRAME_BYTES {
            return Err(IngestError::TooLarge(format!("write of {size} bytes")));
        }
        let on_disk = self.wal_bytes.load(Ordering::SeqCst);
        if on_disk >= self.cfg.max_wal_bytes {
            return Err(IngestError::Overloaded {
                reason: Overload::WalFull,
                message: format!(
                    "the write-ahead log holds {on_disk} bytes not yet stored (budget {}); retry later",
                    self.cfg.max_wal_bytes
                ),
            });
        }
        let before = self.pending.fetch_add(size, Ordering::SeqCst);
        if before + size > self.cfg.max_pending_bytes && before > 0 {
            self.pending.fetch_sub(size, Ordering::SeqCst);
            return Err(IngestError::Overloaded {
                reason: Overload::WalBacklog,
                message: format!(
                    "{before} bytes already wait for the write-ahead log (limit {})",
                    self.cfg.max_pending_bytes
                ),
            });
        }
        let (ack, rx) = oneshot::channel();
        if self
            .tx
            .send(Cmd::Write {
                payload,
                record,
                ack,
            })
            .is_err()
        {
            self.pending.fetch_sub(size, Ordering::SeqCst);
            return Err(IngestError::Closed);
        }
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(IngestError::Wal(std::io::Error::other(e))),
            Err(_) => Err(IngestError::Closed),
        }
    }

    /// Freezes the active head part and starts a new WAL segment, so that the
    /// frozen part holds exactly the entries of the segments up to the
    /// returned one.
    pub async fn freeze(&self) -> Result<Frozen, IngestError> {
        let (ack, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Freeze { ack })
            .map_err(|_| IngestError::Closed)?;
        match rx.await {
            Ok(Ok(f)) => Ok(f),
            Ok(Err(e)) => Err(IngestError::Wal(std::io::Error::other(e))),
            Err(_) => Err(IngestError::Closed),
        }
    }

    /// Called once a frozen part is stored elsewhere: deletes its WAL
    /// segments and drops it from the head.
    pub fn release(&self, frozen: &Frozen) -> Result<(), IngestError> {
        for no in wal::list_segments(&self.cfg.wal_dir)? {
            if no <= frozen.last_segment {
                let path = wal::segment_path(&self.cfg.wal_dir, no);
                let len = std::fs::metadata(&path).map_or(0, |m| m.len());
                std::fs::remove_file(&path)?;
                let _ = self
                    .wal_bytes
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| {
                        Some(b.saturating_sub(len))
                    });
            }
        }
        self.head.drop_frozen(&frozen.data);
        Ok(())
    }
}

/// What the WAL writer thread shares with the [`Ingestor`].
struct WriterShared {
    head: Arc<Head>,
    pending: Arc<AtomicUsize>,
    wal_bytes: Arc<AtomicU64>,
    taps: Arc<LogTaps>,
}

fn writer_loop(
    rx: mpsc::Receiver<Cmd>,
    mut writer: SegmentWriter,
    shared: WriterShared,
    cfg: IngestorConfig,
) {
    let WriterShared {
        head,
        pending,
        wal_bytes,
        taps,
    } = shared;
    let mut buf: Vec<u8> = Vec::with_capacity(cfg.max_group_bytes);
    let mut group: Vec<(Record, Ack, usize)> = Vec::new();
    loop {
        let Ok(first) = rx.recv() else { return };
        let mut freeze = None;
        let mut next = Some(first);
        while let Some(cmd) = next.take() {
            match cmd {
                Cmd::Write {
                    payload,
                    record,
                    ack,
                } => {
                    wal::frame(&payload, &mut buf);
                    group.push((record, ack, payload.len()));
                }
                Cmd::Freeze { ack } => {
                    freeze = Some(ack);
                    break;
                }
            }
            if buf.len() >= cfg.max_group_bytes {
                break;
            }
            next = rx.try_recv().ok();
        }
        if !group.is_empty() {
            let started = Instant::now();
            let res = writer.write_durable(&buf);
            if res.is_ok() {
                wal_bytes.fetch_add(buf.len() as u64, Ordering::SeqCst);
            }
            metrics::histogram!("sightline_wal_commit_seconds")
                .record(started.elapsed().as_secs_f64());
            buf.clear();
            match res {
                Ok(()) => {
                    for (record, ack, size) in group.drain(..) {
                        // Log batches go on to the live tails after the ack;
                        // the rest move into the head.
                        let tapped = match record {
                            Record::Logs(batch) => {
                                head.apply_logs(&batch);
                                Some(batch)
                            }
                            other => {
                                head.apply_record(other);
                                None
                            }
                        };
                        pending.fetch_sub(size, Ordering::SeqCst);
                        let _ = ack.send(Ok(()));
                        if let Some(batch) = tapped {
                            taps.publish(batch);
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "wal write failed; refusing the group");
                    for (_, ack, size) in group.drain(..) {
                        pending.fetch_sub(size, Ordering::SeqCst);
                        let _ = ack.send(Err(e.to_string()));
                    }
                    // Start a fresh segment: the failed one may hold a torn
                    // tail, which replay cuts.
                    match SegmentWriter::create(&cfg.wal_dir, writer.no + 1) {
                        Ok(w) => writer = w,
                        Err(e) => tracing::error!(error = %e, "cannot open a new wal segment"),
                    }
                }
            }
        }
        if let Some(ack) = freeze {
            let last = writer.no;
            match SegmentWriter::create(&cfg.wal_dir, last + 1) {
                Ok(w) => {
                    writer = w;
                    let data = head.freeze();
                    let _ = ack.send(Ok(Frozen {
                        data,
                        last_segment: last,
                    }));
                }
                Err(e) => {
                    let _ = ack.send(Err(e.to_string()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::{Labels, Sample, TenantId};

    use crate::record::SeriesRecord;

    fn batch(t: &str, v: f64, ts: i64) -> WriteBatch {
        WriteBatch {
            tenant: TenantId::new(t).expect("valid"),
            series: vec![SeriesRecord {
                labels: Labels::from_pairs([("__name__", "m"), ("i", "1")]).expect("valid"),
                samples: vec![Sample { t: ts, v }],
                exemplars: Vec::new(),
            }],
            metadata: vec![],
        }
    }

    #[tokio::test]
    async fn acknowledged_writes_survive_reopen_and_release_forgets_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = IngestorConfig::new(dir.path().to_path_buf());
        {
            let (ing, _) = Ingestor::open(cfg.clone()).expect("open");
            for i in 0..100 {
                ing.write(batch("a", i as f64, i)).await.expect("write");
            }
            ing.write(batch("b", 7.0, 5)).await.expect("write");
        }
        let (ing, st) = Ingestor::open(cfg.clone()).expect("reopen");
        assert_eq!(st.samples, 101);
        let a = TenantId::new("a").expect("valid");
        let got = ing.head().select(&a, &[], 0, 1000);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.len(), 100);

        let frozen = ing.freeze().await.expect("freeze");
        ing.write(batch("a", 1.0, 500)).await.expect("write");
        // Frozen data is still readable until released.
        assert_eq!(ing.head().select(&a, &[], 0, 1000)[0].1.len(), 101);
        ing.release(&frozen).expect("release");
        assert_eq!(ing.head().select(&a, &[], 0, 1000)[0].1.len(), 1);
        drop(ing);
        let (_ing, st) = Ingestor::open(cfg).expect("reopen");
        assert_eq!(
            st.samples, 1,
            "released segments are gone, the later write is not"
        );
    }

    #[tokio::test]
    async fn a_spent_wal_budget_refuses_writes_until_release() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = IngestorConfig::new(dir.path().to_path_buf());
        cfg.max_wal_bytes = 1_000;
        let (ing, _) = Ingestor::open(cfg.clone()).expect("open");
        let mut accepted = 0;
        let refused = loop {
            match ing.write(batch("a", 1.0, accepted)).await {
                Ok(()) => accepted += 1,
                Err(e) => break e,
            }
            assert!(accepted < 1_000, "the budget never bit");
        };
        assert!(
            matches!(
                refused,
                IngestError::Overloaded {
                    reason: Overload::WalFull,
                    ..
                }
            ),
            "{refused}"
        );
        assert!(ing.wal_bytes() >= 1_000);
        // The refused write is not in the head.
        let a = TenantId::new("a").expect("valid");
        assert_eq!(
            ing.head().select(&a, &[], 0, 10_000)[0].1.len(),
            accepted as usize
        );
        let frozen = ing.freeze().await.expect("freeze");
        ing.release(&frozen).expect("release");
        assert_eq!(ing.wal_bytes(), 0);
        ing.write(batch("a", 1.0, 9_999))
            .await
            .expect("accepted again");
        drop(ing);
        // The count survives a restart.
        let (ing, _) = Ingestor::open(cfg).expect("reopen");
        assert!(ing.wal_bytes() > 0);
    }
}
