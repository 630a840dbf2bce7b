//! Live log tails: every acknowledged log record, in WAL order, offered to
//! the subscribers of its tenant and of no other.
//!
//! The WAL writer publishes a record once it is durable, in the head and
//! acknowledged, so a tail sees exactly what a query could read. Each tail
//! gets only the streams its matchers select; the lock on the tails is
//! held only to copy their senders. A subscriber that falls behind loses
//! records rather than slowing ingest: what it missed is counted as
//! dropped entries (their timestamps and labels, as Loki reports them),
//! capped at [`MAX_DROPPED`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sightline_core::{Labels, LogStream, Matcher, TenantId, matches_all};
use tokio::sync::mpsc;

use crate::record::LogBatch;

/// Records a subscriber may have waiting before later ones are dropped.
pub const TAIL_BUFFER: usize = 64;

/// Most dropped entries remembered between two reads of a subscription.
pub const MAX_DROPPED: usize = 1000;

/// An entry a subscriber missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedEntry {
    pub ts_ns: i64,
    pub labels: Labels,
}

#[derive(Clone)]
struct Tap {
    id: u64,
    /// The streams this tail receives: all of these match.
    matchers: Arc<[Matcher]>,
    tx: mpsc::Sender<Arc<Vec<LogStream>>>,
    dropped: Arc<Mutex<Vec<DroppedEntry>>>,
}

/// The open tails, by tenant.
#[derive(Default)]
pub struct LogTaps {
    taps: Mutex<HashMap<TenantId, Vec<Tap>>>,
    next_id: AtomicU64,
}

/// Too many tails open for one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailLimit {
    /// Tails the tenant would have with this one.
    pub count: usize,
    pub limit: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LogTaps {
    /// Opens a tail of `tenant`'s log streams that `matchers` all select,
    /// refused when the tenant already has `max_per_tenant` open.
    pub fn subscribe(
        self: &Arc<Self>,
        tenant: &TenantId,
        matchers: Vec<Matcher>,
        max_per_tenant: usize,
    ) -> Result<TailSubscription, TailLimit> {
        let mut taps = lock(&self.taps);
        let list = taps.entry(tenant.clone()).or_default();
        if list.len() >= max_per_tenant {
            return Err(TailLimit {
                count: list.len() + 1,
                limit: max_per_tenant,
            });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(TAIL_BUFFER);
        let dropped = Arc::new(Mutex::new(Vec::new()));
        list.push(Tap {
            id,
            matchers: matchers.into(),
            tx,
            dropped: dropped.clone(),
        });
        Ok(TailSubscription {
            id,
            tenant: tenant.clone(),
            rx,
            dropped,
            taps: self.clone(),
        })
    }

    /// Offers an acknowledged record to its tenant's tails, each the
    /// streams it selects.
    pub fn publish(&self, batch: LogBatch) {
        let taps: Vec<Tap> = match lock(&self.taps).get(&batch.tenant) {
            Some(list) if !list.is_empty() => list.clone(),
            _ => return,
        };
        let mut batch = Some(batch);
        for (n, tap) in taps.iter().enumerate() {
            let last = n + 1 == taps.len();
            let streams: Vec<LogStream> = match (last, &mut batch) {
                // The last tail takes the record's own streams.
                (true, Some(b)) => std::mem::take(&mut b.streams)
                    .into_iter()
                    .filter(|s| matches_all(&tap.matchers, &s.labels))
                    .collect(),
                (_, Some(b)) => b
                    .streams
                    .iter()
                    .filter(|s| matches_all(&tap.matchers, &s.labels))
                    .cloned()
                    .collect(),
                (_, None) => Vec::new(),
            };
            if streams.is_empty() {
                continue;
            }
            let streams = Arc::new(streams);
            if tap.tx.try_send(streams.clone()).is_err() {
                let mut dropped = lock(&tap.dropped);
                for s in streams.iter() {
                    for e in &s.entries {
                        if dropped.len() >= MAX_DROPPED {
                            break;
                        }
                        dropped.push(DroppedEntry {
                            ts_ns: e.ts_ns,
                            labels: s.labels.clone(),
                        });
                    }
                }
            }
        }
    }

    /// Open tails of `tenant`.
    pub fn open(&self, tenant: &TenantId) -> usize {
        lock(&self.taps).get(tenant).map_or(0, Vec::len)
    }

    fn unsubscribe(&self, tenant: &TenantId, id: u64) {
        let mut taps = lock(&self.taps);
        if let Some(list) = taps.get_mut(tenant) {
            list.retain(|t| t.id != id);
            if list.is_empty() {
                taps.remove(tenant);
            }
        }
    }
}

/// One open tail; closing it (dropping it) unsubscribes.
pub struct TailSubscription {
    id: u64,
    tenant: TenantId,
    rx: mpsc::Receiver<Arc<Vec<LogStream>>>,
    dropped: Arc<Mutex<Vec<DroppedEntry>>>,
    taps: Arc<LogTaps>,
}

impl TailSubscription {
    /// The tenant whose records this tail receives.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The next record, waiting for one. (The senders live as long as
    /// the taps, so this waits for as long as the tail is open.)
    pub async fn recv(&mut self) -> Option<Arc<Vec<LogStream>>> {
        self.rx.recv().await
    }

    /// The next record if one is waiting.
    pub fn try_recv(&mut self) -> Option<Arc<Vec<LogStream>>> {
        self.rx.try_recv().ok()
    }

    /// The entries dropped since the last call.
    pub fn take_dropped(&self) -> Vec<DroppedEntry> {
        std::mem::take(&mut *lock(&self.dropped))
    }
}

impl Drop for TailSubscription {
    fn drop(&mut self) {
        self.taps.unsubscribe(&self.tenant, self.id);
    }
}

#[cfg(test)]
mod tests {
    use sightline_core::LogEntry;

    use super::*;

    fn batch(tenant: &str, n: usize) -> LogBatch {
        LogBatch {
            tenant: TenantId::new(tenant).expect("tenant"),
            streams: vec![LogStream {
                labels: Labels::from_pairs([("app", "a")]).expect("labels"),
                entries: (0..n)
                    .map(|i| LogEntry {
                        ts_ns: i as i64,
                        line: format!("l{i}"),
                        metadata: Labels::empty(),
                    })
                    .collect(),
            }],
        }
    }

    #[tokio::test]
    async fn a_tail_sees_only_its_tenant_and_counts_what_it_missed() {
        let taps = Arc::new(LogTaps::default());
        let a = TenantId::new("alpha").expect("tenant");
        let web = Matcher::new("app", sightline_core::MatchOp::Equal, "web").expect("matcher");
        let mut sub = taps.subscribe(&a, vec![], 2).expect("first");
        let mut other = taps.subscribe(&a, vec![web], 2).expect("second");
        assert_eq!(
            taps.subscribe(&a, vec![], 2).err(),
            Some(TailLimit { count: 3, limit: 2 })
        );
        taps.publish(batch("beta", 1));
        taps.publish(batch("alpha", 2));
        assert!(other.try_recv().is_none(), "app=web selects none of it");
        let got = sub.recv().await.expect("record");
        assert_eq!(got[0].entries.len(), 2);
        assert!(sub.try_recv().is_none(), "beta's record never arrives");
        for _ in 0..TAIL_BUFFER + 3 {
            taps.publish(batch("alpha", 1));
        }
        assert_eq!(sub.take_dropped().len(), 3);
        assert!(sub.take_dropped().is_empty());
        assert!(
            other.take_dropped().is_empty(),
            "what it does not select is not dropped"
        );
        drop(sub);
        assert_eq!(taps.open(&a), 1);
    }
}
