//! Exemplars, per tenant and series, bounded: at most a configured count
//! per series, the oldest dropped first. They live beside the head's parts,
//! not in them, so a flush keeps them (the engine persists them with the
//! tenant's metadata). As in Prometheus, an exemplar older than the newest
//! one of its series is refused as out of order, and one equal to the
//! newest is a duplicate; both are counted, never stored twice. A tenant
//! holds exemplars for at most [`MAX_SERIES_PER_TENANT`] series (past it a
//! new series' exemplars are refused and counted), and exemplars older
//! than the age the engine prunes at each flush go.

use std::collections::{HashMap, VecDeque};

use sightline_core::{Exemplar, Labels, Matcher, TenantId, matches_all};

/// Exemplars refused or evicted, by reason (`invalid`, `out_of_order`,
/// `duplicate`, `evicted`, `series_limit`).
pub const EXEMPLARS_DROPPED_TOTAL: &str = "sightline_exemplars_dropped_total";
/// Exemplars stored.
pub const EXEMPLARS_STORED_TOTAL: &str = "sightline_exemplars_stored_total";

/// Exemplars kept per series unless configured otherwise.
pub const DEFAULT_MAX_EXEMPLARS_PER_SERIES: usize = 10;

/// Series with exemplars one tenant holds at most.
pub const MAX_SERIES_PER_TENANT: usize = 100_000;

/// Every tenant's exemplars.
#[derive(Debug)]
pub struct ExemplarStore {
    max_per_series: usize,
    tenants: HashMap<TenantId, HashMap<Labels, VecDeque<Exemplar>>>,
    /// Whether anything changed since [`ExemplarStore::take_changed`].
    changed: bool,
}

impl Default for ExemplarStore {
    fn default() -> Self {
        ExemplarStore::new(DEFAULT_MAX_EXEMPLARS_PER_SERIES)
    }
}

/// What adding exemplars did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    pub stored: usize,
    pub out_of_order: usize,
    pub duplicates: usize,
    pub evicted: usize,
    pub series_limit: usize,
}

fn same(a: &Exemplar, b: &Exemplar) -> bool {
    a.t == b.t && a.labels == b.labels && a.value.to_bits() == b.value.to_bits()
}

impl ExemplarStore {
    /// A store keeping at most `max_per_series` exemplars per series (0:
    /// none at all).
    pub fn new(max_per_series: usize) -> Self {
        ExemplarStore {
            max_per_series,
            tenants: HashMap::new(),
            changed: false,
        }
    }

    /// Adds a series' exemplars, in time order as sent.
    pub fn add(&mut self, tenant: &TenantId, series: &Labels, exemplars: &[Exemplar]) -> Added {
        let mut out = Added::default();
        if exemplars.is_empty() || self.max_per_series == 0 {
            return out;
        }
        let per = self.tenants.entry(tenant.clone()).or_default();
        if !per.contains_key(series) && per.len() >= MAX_SERIES_PER_TENANT {
            out.series_limit = exemplars.len();
            metrics::counter!(EXEMPLARS_DROPPED_TOTAL, "reason" => "series_limit")
                .increment(exemplars.len() as u64);
            return out;
        }
        let buf = per.entry(series.clone()).or_default();
        for e in exemplars {
            match buf.back() {
                Some(last) if same(last, e) => {
                    out.duplicates += 1;
                    continue;
                }
                Some(last) if e.t < last.t => {
                    out.out_of_order += 1;
                    continue;
                }
                _ => {}
            }
            if buf.len() >= self.max_per_series {
                buf.pop_front();
                out.evicted += 1;
            }
            buf.push_back(e.clone());
            out.stored += 1;
        }
        if out.out_of_order > 0 {
            metrics::counter!(EXEMPLARS_DROPPED_TOTAL, "reason" => "out_of_order")
                .increment(out.out_of_order as u64);
        }
        if out.duplicates > 0 {
            metrics::counter!(EXEMPLARS_DROPPED_TOTAL, "reason" => "duplicate")
                .increment(out.duplicates as u64);
        }
        if out.evicted > 0 {
            metrics::counter!(EXEMPLARS_DROPPED_TOTAL, "reason" => "evicted")
                .increment(out.evicted as u64);
        }
        metrics::counter!(EXEMPLARS_STORED_TOTAL).increment(out.stored as u64);
        self.changed |= out.stored > 0;
        out
    }

    /// Drops exemplars older than `before_ms`, and the series left with
    /// none.
    pub fn prune(&mut self, before_ms: i64) {
        let mut changed = false;
        for per in self.tenants.values_mut() {
            per.retain(|_, buf| {
                let n = buf.len();
                buf.retain(|e| e.t >= before_ms);
                changed |= buf.len() != n;
                !buf.is_empty()
            });
        }
        self.tenants.retain(|_, per| !per.is_empty());
        self.changed |= changed;
    }

    /// Whether anything changed since the last call (what a flush needs
    /// to write again).
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Merges exemplars loaded from storage under what is already held
    /// (the WAL's, replayed first): both kept in time order, each once, the
    /// newest `max_per_series`.
    pub fn load(&mut self, tenant: &TenantId, series: Labels, exemplars: Vec<Exemplar>) {
        if self.max_per_series == 0 {
            return;
        }
        let buf = self
            .tenants
            .entry(tenant.clone())
            .or_default()
            .entry(series)
            .or_default();
        let mut all: Vec<Exemplar> = exemplars.into_iter().chain(buf.drain(..)).collect();
        all.sort_by(|a, b| {
            a.t.cmp(&b.t)
                .then(a.value.total_cmp(&b.value))
                .then_with(|| a.labels.cmp(&b.labels))
        });
        all.dedup_by(|b, a| same(a, b));
        let skip = all.len().saturating_sub(self.max_per_series);
        buf.extend(all.into_iter().skip(skip));
    }

    /// The exemplars in `[start_ms, end_ms]` of the tenant's series that
    /// match every matcher of `required` and of one of `selectors`, each
    /// series once, by labels.
    pub fn select(
        &self,
        tenant: &TenantId,
        selectors: &[Vec<Matcher>],
        required: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(Labels, Vec<Exemplar>)> {
        let Some(t) = self.tenants.get(tenant) else {
            return Vec::new();
        };
        let mut out: Vec<(Labels, Vec<Exemplar>)> = t
            .iter()
            .filter(|(labels, _)| {
                matches_all(required, labels) && selectors.iter().any(|m| matches_all(m, labels))
            })
            .filter_map(|(labels, buf)| {
                let xs: Vec<Exemplar> = buf
                    .iter()
                    .filter(|e| e.t >= start_ms && e.t <= end_ms)
                    .cloned()
                    .collect();
                (!xs.is_empty()).then(|| (labels.clone(), xs))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// One tenant's exemplars, every series (for persisting them).
    pub fn tenant(&self, tenant: &TenantId) -> Vec<(Labels, Vec<Exemplar>)> {
        self.tenants
            .get(tenant)
            .map(|t| {
                t.iter()
                    .map(|(l, b)| (l.clone(), b.iter().cloned().collect()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The tenants holding exemplars.
    pub fn tenants(&self) -> Vec<TenantId> {
        self.tenants.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use sightline_core::MatchOp;

    use super::*;

    fn ex(t: i64, trace: &str) -> Exemplar {
        Exemplar {
            labels: Labels::from_pairs([("trace_id", trace)]).expect("labels"),
            value: t as f64,
            t,
        }
    }

    #[test]
    fn bounded_per_series_oldest_first_out_of_order_refused() {
        let mut s = ExemplarStore::new(3);
        let a = TenantId::new("a").expect("tenant");
        let b = TenantId::new("b").expect("tenant");
        let series = Labels::from_pairs([("__name__", "lat"), ("job", "api")]).expect("labels");
        let got = s.add(
            &a,
            &series,
            &[ex(1, "x"), ex(2, "y"), ex(2, "y"), ex(1, "z")],
        );
        assert_eq!(
            got,
            Added {
                stored: 2,
                out_of_order: 1,
                duplicates: 1,
                evicted: 0,
                series_limit: 0
            }
        );
        let got = s.add(&a, &series, &[ex(3, "p"), ex(4, "q")]);
        assert_eq!((got.stored, got.evicted), (2, 1));
        let all = s.select(&a, &[vec![]], &[], i64::MIN, i64::MAX);
        let ts: Vec<i64> = all[0].1.iter().map(|e| e.t).collect();
        assert_eq!(ts, [2, 3, 4], "the oldest went first");
        // Windows, matchers, the scope's required matchers, tenants.
        assert_eq!(s.select(&a, &[vec![]], &[], 3, 3)[0].1, [ex(3, "p")]);
        let other = Matcher::new("job", MatchOp::Equal, "web").expect("matcher");
        assert!(s.select(&a, &[vec![other.clone()]], &[], 0, 9).is_empty());
        assert!(s.select(&a, &[vec![]], &[other], 0, 9).is_empty());
        assert!(s.select(&b, &[vec![]], &[], 0, 9).is_empty());
        // Loaded under replayed ones: merged, once each, the newest kept.
        s.load(&a, series.clone(), vec![ex(1, "x"), ex(3, "p"), ex(5, "r")]);
        let ts: Vec<i64> = s.tenant(&a)[0].1.iter().map(|e| e.t).collect();
        assert_eq!(ts, [3, 4, 5]);
        // Two at one time, loaded again: each once.
        let mut twice = ExemplarStore::new(5);
        twice.add(&a, &series, &[ex(5, "x"), ex(5, "y")]);
        twice.load(&a, series.clone(), vec![ex(5, "x"), ex(5, "y")]);
        assert_eq!(twice.tenant(&a)[0].1.len(), 2);
        assert!(twice.take_changed());
        assert!(!twice.take_changed());
        twice.prune(6);
        assert!(twice.tenants().is_empty());
        assert!(twice.take_changed());
        let mut none = ExemplarStore::new(0);
        assert_eq!(none.add(&a, &series, &[ex(1, "x")]).stored, 0);
    }
}
