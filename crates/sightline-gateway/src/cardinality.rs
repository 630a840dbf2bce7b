//! The per-tenant cap on active series: a series is active while it has
//! had a sample written within the window. Past the cap, new series are
//! rejected (and counted by the caller); series already active keep
//! writing.

use std::collections::HashMap;

use parking_lot::Mutex;
use sightline_core::Labels;
use sightline_core::TenantId;
use sightline_ingest::{LogBatch, WriteBatch};

/// Active series of every tenant, by label-set hash.
pub struct ActiveSeries {
    window_ms: i64,
    tenants: Mutex<HashMap<TenantId, Tenant>>,
}

#[derive(Default)]
struct Tenant {
    /// Series hash → last write (ms, by the caller's clock).
    last_seen: HashMap<u64, i64>,
    /// When stale entries were last dropped.
    pruned_at: i64,
}

impl Tenant {
    fn prune(&mut self, now_ms: i64, window_ms: i64) {
        self.last_seen.retain(|_, t| now_ms - *t <= window_ms);
        self.pruned_at = now_ms;
    }
}

impl ActiveSeries {
    pub fn new(window_ms: i64) -> Self {
        ActiveSeries {
            window_ms: window_ms.max(1),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// Admits the batch's series under `cap` (none: no cap) and removes the
    /// rejected ones from it; returns how many were rejected. `now_ms` is
    /// the caller's clock.
    pub fn admit(&self, batch: &mut WriteBatch, cap: Option<usize>, now_ms: i64) -> usize {
        self.admit_items(&batch.tenant, &mut batch.series, |s| &s.labels, cap, now_ms)
    }

    /// [`ActiveSeries::admit`] for log streams (kept in a set of their own
    /// by the caller: streams and series are capped apart).
    pub fn admit_streams(&self, batch: &mut LogBatch, cap: Option<usize>, now_ms: i64) -> usize {
        self.admit_items(
            &batch.tenant,
            &mut batch.streams,
            |s| &s.labels,
            cap,
            now_ms,
        )
    }

    fn admit_items<T>(
        &self,
        tenant: &TenantId,
        items: &mut Vec<T>,
        labels: impl Fn(&T) -> &Labels,
        cap: Option<usize>,
        now_ms: i64,
    ) -> usize {
        let mut tenants = self.tenants.lock();
        let t = tenants.entry(tenant.clone()).or_default();
        if now_ms - t.pruned_at > self.window_ms / 10 {
            t.prune(now_ms, self.window_ms);
        }
        let mut rejected = 0;
        items.retain(|s| {
            let h = labels(s).stable_hash();
            if let Some(seen) = t.last_seen.get_mut(&h) {
                *seen = now_ms;
                return true;
            }
            if let Some(cap) = cap
                && t.last_seen.len() >= cap
            {
                // Stale entries may free room before refusing (looked for
                // at most once a second, so a tenant at its cap cannot make
                // every request scan its whole set).
                if now_ms - t.pruned_at >= 1000 {
                    t.prune(now_ms, self.window_ms);
                }
                if t.last_seen.len() >= cap {
                    rejected += 1;
                    return false;
                }
            }
            t.last_seen.insert(h, now_ms);
            true
        });
        rejected
    }

    /// Active series of one tenant now.
    pub fn count(&self, tenant: &TenantId) -> usize {
        self.tenants
            .lock()
            .get(tenant)
            .map(|t| t.last_seen.len())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::{Labels, Sample};
    use sightline_ingest::SeriesRecord;

    fn batch(tenant: &str, names: &[&str]) -> WriteBatch {
        WriteBatch {
            tenant: TenantId::new(tenant).expect("tenant"),
            series: names
                .iter()
                .map(|n| SeriesRecord {
                    labels: Labels::from_pairs([("__name__", *n)]).expect("labels"),
                    samples: vec![Sample { t: 1, v: 1.0 }],
                    exemplars: Vec::new(),
                })
                .collect(),
            metadata: vec![],
        }
    }

    #[test]
    fn new_series_past_the_cap_are_rejected_per_tenant() {
        let a = ActiveSeries::new(60_000);
        let mut b = batch("a", &["x", "y", "z"]);
        assert_eq!(a.admit(&mut b, Some(2), 0), 1);
        assert_eq!(b.series.len(), 2);
        // Known series keep writing; a new one is still refused.
        let mut b = batch("a", &["x", "y", "w"]);
        assert_eq!(a.admit(&mut b, Some(2), 1_000), 1);
        assert_eq!(b.series.len(), 2);
        // Another tenant has its own count.
        let mut b = batch("b", &["x", "y"]);
        assert_eq!(a.admit(&mut b, Some(2), 1_000), 0);
        // Once the window passes, old series free room.
        let mut b = batch("a", &["w"]);
        assert_eq!(a.admit(&mut b, Some(2), 62_000), 0);
        assert_eq!(a.count(&TenantId::new("a").expect("tenant")), 1);
        let mut b = batch("a", &["p", "q", "r"]);
        assert_eq!(a.admit(&mut b, None, 62_000), 0, "no cap");
    }
}
