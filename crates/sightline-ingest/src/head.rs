//! The head: recent samples in memory, per tenant.
//!
//! The head has one active part, written by the WAL writer, and zero or more
//! frozen parts waiting to be archived. Reads see all of them; a series that
//! appears in several parts is merged by timestamp.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use sightline_core::span::StoredSpan;
use sightline_core::{
    Labels, LogStream, MatchOp, Matcher, Sample, Signal, TenantId, matches_all, merge_log_streams,
    sort_dedup, time_window,
};
use sightline_plan::{
    LogSelection, Selection, SeriesSamples, StorageTier, TierError, check_signal,
};

use crate::record::{LogBatch, Record, SpanBatch, WriteBatch};

pub mod exemplars;
mod logs;
mod spans;

pub use logs::{MemStream, TenantLogs};
pub use spans::TenantSpans;

/// Metric metadata as remote_write carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricMetadata {
    pub metric: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub help: String,
    pub unit: String,
}

/// One series in memory.
#[derive(Debug, Clone)]
pub struct MemSeries {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

impl MemSeries {
    fn append(&mut self, s: Sample) {
        match self.samples.last() {
            Some(last) if last.t < s.t => self.samples.push(s),
            None => self.samples.push(s),
            _ => match self.samples.binary_search_by_key(&s.t, |x| x.t) {
                Ok(i) => self.samples[i] = s,
                Err(i) => self.samples.insert(i, s),
            },
        }
    }
}

/// Label name -> value -> ids of the series (or streams) carrying that
/// pair, in ascending order.
#[derive(Debug, Default)]
pub(crate) struct Postings {
    map: HashMap<String, HashMap<String, Vec<u32>, ahash::RandomState>, ahash::RandomState>,
}

impl Postings {
    /// Records that `id` (larger than every id added before) carries
    /// `labels`.
    pub(crate) fn add(&mut self, id: u32, labels: &Labels) {
        for l in labels.iter() {
            self.map
                .entry(l.name.clone())
                .or_default()
                .entry(l.value.clone())
                .or_default()
                .push(id);
        }
    }

    /// The ids that can match: the shortest postings list of an equality
    /// matcher with a non-empty value (which only ids carrying the pair can
    /// satisfy), or `None` (every id) when there is no such matcher.
    pub(crate) fn candidates(&self, matchers: &[Matcher]) -> Option<&[u32]> {
        let mut best: Option<&[u32]> = None;
        for m in matchers {
            if m.op != MatchOp::Equal || m.value.is_empty() {
                continue;
            }
            let ids = self
                .map
                .get(&m.name)
                .and_then(|vals| vals.get(&m.value))
                .map_or(&[][..], |v| &v[..]);
            if best.is_none_or(|b| ids.len() < b.len()) {
                best = Some(ids);
            }
        }
        best
    }
}

/// The items of `all` that `postings` says can match `matchers`.
pub(crate) fn candidates<'a, T>(
    all: &'a [T],
    postings: &'a Postings,
    matchers: &[Matcher],
) -> Box<dyn Iterator<Item = &'a T> + 'a> {
    match postings.candidates(matchers) {
        Some(ids) => Box::new(ids.iter().filter_map(|&i| all.get(i as usize))),
        None => Box::new(all.iter()),
    }
}

/// One tenant's series in one head part.
#[derive(Debug, Default)]
pub struct TenantHead {
    index: HashMap<Labels, u32, ahash::RandomState>,
    series: Vec<MemSeries>,
    postings: Postings,
}

impl TenantHead {
    pub fn series(&self) -> &[MemSeries] {
        &self.series
    }

    fn candidates<'a>(
        &'a self,
        matchers: &[Matcher],
    ) -> Box<dyn Iterator<Item = &'a MemSeries> + 'a> {
        candidates(&self.series, &self.postings, matchers)
    }
}

/// One part of the head: every tenant's series and log streams written
/// between two freezes.
#[derive(Debug, Default)]
pub struct HeadData {
    tenants: HashMap<TenantId, TenantHead>,
    samples: usize,
    logs: HashMap<TenantId, TenantLogs>,
    log_bytes: usize,
    spans: HashMap<TenantId, TenantSpans>,
    span_bytes: usize,
}

impl HeadData {
    pub fn tenants(&self) -> impl Iterator<Item = (&TenantId, &TenantHead)> {
        self.tenants.iter()
    }

    pub fn sample_count(&self) -> usize {
        self.samples
    }

    /// Every tenant's log streams in this part.
    pub fn log_tenants(&self) -> impl Iterator<Item = (&TenantId, &TenantLogs)> {
        self.logs.iter()
    }

    /// Bytes of log lines and metadata in this part.
    pub fn log_bytes(&self) -> usize {
        self.log_bytes
    }

    /// Whether the part holds nothing to store.
    pub fn is_empty(&self) -> bool {
        self.samples == 0
            && self.log_bytes == 0
            && self.logs.values().all(|t| t.is_empty())
            && self.spans.values().all(|t| t.is_empty())
    }

    /// Every tenant's spans in this part.
    pub fn span_tenants(&self) -> impl Iterator<Item = (&TenantId, &TenantSpans)> {
        self.spans.iter()
    }

    /// One tenant's spans in this part (none when it wrote none).
    pub fn spans_of(&self, tenant: &TenantId) -> &[StoredSpan] {
        self.spans.get(tenant).map_or(&[], TenantSpans::spans)
    }

    /// Bytes of encoded spans in this part.
    pub fn span_bytes(&self) -> usize {
        self.span_bytes
    }

    fn apply_logs(&mut self, batch: &LogBatch) {
        let tl = self.logs.entry(batch.tenant.clone()).or_default();
        self.log_bytes += tl.apply(batch);
    }

    fn apply_spans(&mut self, batch: SpanBatch) {
        let ts = self.spans.entry(batch.tenant.clone()).or_default();
        self.span_bytes += ts.apply(batch);
    }

    fn apply(&mut self, batch: &WriteBatch) {
        let th = self.tenants.entry(batch.tenant.clone()).or_default();
        for rec in &batch.series {
            // Exemplars alone make no series (they go to the exemplar
            // store, `Head::apply`).
            if rec.samples.is_empty() {
                continue;
            }
            let id = match th.index.get(&rec.labels) {
                Some(&id) => id,
                None => {
                    let id = th.series.len() as u32;
                    th.series.push(MemSeries {
                        labels: rec.labels.clone(),
                        samples: Vec::new(),
                    });
                    th.index.insert(rec.labels.clone(), id);
                    th.postings.add(id, &rec.labels);
                    id
                }
            };
            let s = &mut th.series[id as usize];
            for x in &rec.samples {
                s.append(*x);
            }
            self.samples += rec.samples.len();
        }
    }
}

#[derive(Default)]
struct Inner {
    active: HeadData,
    frozen: Vec<Arc<HeadData>>,
    metadata: HashMap<TenantId, BTreeMap<String, MetricMetadata>>,
    exemplars: exemplars::ExemplarStore,
}

/// The whole head, shared by the WAL writer and readers.
#[derive(Default)]
pub struct Head {
    inner: RwLock<Inner>,
}

impl Head {
    pub fn new() -> Self {
        Self::default()
    }

    /// A head keeping at most `n` exemplars per series.
    pub fn with_max_exemplars(n: usize) -> Self {
        Head {
            inner: RwLock::new(Inner {
                exemplars: exemplars::ExemplarStore::new(n),
                ..Inner::default()
            }),
        }
    }

    /// Applies a batch to the active part, and its exemplars to the
    /// exemplar store. Called by the WAL writer only.
    pub fn apply(&self, batch: &WriteBatch) {
        let mut g = self.inner.write();
        g.active.apply(batch);
        for s in batch.series.iter().filter(|s| !s.exemplars.is_empty()) {
            g.exemplars.add(&batch.tenant, &s.labels, &s.exemplars);
        }
        if !batch.metadata.is_empty() {
            let m = g.metadata.entry(batch.tenant.clone()).or_default();
            for md in &batch.metadata {
                m.insert(md.metric.clone(), md.clone());
            }
        }
    }

    /// Applies a decoded WAL record of any kind, moving its spans into the
    /// head. Called by the WAL writer and by replay only.
    pub fn apply_record(&self, record: Record) {
        match record {
            Record::Metrics(b) => self.apply(&b),
            Record::Logs(b) => self.apply_logs(&b),
            Record::Spans(b) => self.inner.write().active.apply_spans(b),
        }
    }

    /// Applies log streams (the WAL writer keeps the batch for the live
    /// tails).
    pub fn apply_logs(&self, batch: &LogBatch) {
        self.inner.write().active.apply_logs(batch);
    }

    /// Number of samples in the active part.
    pub fn active_samples(&self) -> usize {
        self.inner.read().active.samples
    }

    /// Bytes of log lines and metadata in the active part.
    pub fn active_log_bytes(&self) -> usize {
        self.inner.read().active.log_bytes
    }

    /// Bytes of encoded spans in the active part.
    pub fn active_span_bytes(&self) -> usize {
        self.inner.read().active.span_bytes
    }

    /// Whether the active part holds anything to store.
    pub fn active_is_empty(&self) -> bool {
        self.inner.read().active.is_empty()
    }

    /// Moves the active part to the frozen list and returns it.
    pub(crate) fn freeze(&self) -> Arc<HeadData> {
        let mut g = self.inner.write();
        let data = Arc::new(std::mem::take(&mut g.active));
        g.frozen.push(data.clone());
        data
    }

    /// Forgets a frozen part once it is archived.
    pub(crate) fn drop_frozen(&self, data: &Arc<HeadData>) {
        self.inner.write().frozen.retain(|d| !Arc::ptr_eq(d, data));
    }

    /// Calls `f` on every series of `tenant` (in every head part) that
    /// matches all matchers and has samples in `[start, end]`, with those
    /// samples. A series present in several parts is visited once per part.
    fn visit<'a>(
        g: &'a Inner,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        mut f: impl FnMut(&'a Labels, &'a [Sample]),
    ) {
        let parts = g
            .frozen
            .iter()
            .map(|d| d.as_ref())
            .chain(std::iter::once(&g.active));
        for part in parts {
            let Some(th) = part.tenants.get(tenant) else {
                continue;
            };
            for s in th.candidates(matchers) {
                // Labels first: they are checked for every candidate, while
                // the samples are only touched for the series that match.
                if !matches_all(matchers, &s.labels) {
                    continue;
                }
                let w = time_window(&s.samples, start, end);
                if !w.is_empty() {
                    f(&s.labels, &s.samples[w]);
                }
            }
        }
    }

    /// Every series of `tenant` matching all matchers, with its samples in
    /// `[start, end]`; series with no sample in the window are left out.
    pub fn select(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<(Labels, Vec<Sample>)> {
        let g = self.inner.read();
        let mut out: HashMap<Labels, Vec<Sample>, ahash::RandomState> = HashMap::default();
        let mut multi = false;
        Self::visit(
            &g,
            tenant,
            matchers,
            start,
            end,
            |labels, samples| match out.get_mut(labels) {
                Some(v) => {
                    multi = true;
                    v.extend_from_slice(samples);
                }
                None => {
                    out.insert(labels.clone(), samples.to_vec());
                }
            },
        );
        drop(g);
        let mut v: Vec<(Labels, Vec<Sample>)> = out.into_iter().collect();
        if multi {
            for (_, s) in &mut v {
                sort_dedup(s);
            }
        }
        v
    }

    /// The label sets of `tenant`'s series matching all matchers with a
    /// sample in `[start, end]`, without copying samples.
    pub fn series(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<Labels> {
        let g = self.inner.read();
        let mut out: HashSet<&Labels, ahash::RandomState> = HashSet::default();
        Self::visit(&g, tenant, matchers, start, end, |labels, _| {
            out.insert(labels);
        });
        out.into_iter().cloned().collect()
    }

    fn parts(g: &Inner) -> impl Iterator<Item = &HeadData> {
        g.frozen
            .iter()
            .map(|d| d.as_ref())
            .chain(std::iter::once(&g.active))
    }

    /// The selection's log entries in every head part, one stream per
    /// label set (see [`TenantLogs`] for what the selection's filters and
    /// limit do here).
    pub fn select_logs(&self, sel: &LogSelection) -> Vec<LogStream> {
        let g = self.inner.read();
        let tenant = sel.selection().tenant();
        let mut parts = Vec::new();
        for part in Self::parts(&g) {
            if let Some(tl) = part.logs.get(tenant) {
                let mut out = Vec::new();
                tl.select(sel, &mut out);
                parts.push(out);
            }
        }
        drop(g);
        merge_log_streams(parts)
    }

    /// `tenant`'s spans of `trace` (or of every trace) overlapping
    /// `[start_ns, end_ns)`, in every head part.
    pub fn select_spans(
        &self,
        tenant: &TenantId,
        trace: Option<&[u8; 16]>,
        start_ns: i64,
        end_ns: i64,
    ) -> Vec<sightline_core::span::StoredSpan> {
        let g = self.inner.read();
        let mut out = Vec::new();
        for part in Self::parts(&g) {
            if let Some(ts) = part.spans.get(tenant) {
                ts.select(trace, start_ns, end_ns, &mut out);
            }
        }
        out
    }

    /// The label sets of `tenant`'s log streams matching all matchers with
    /// an entry in `[start_ns, end_ns)`.
    pub fn log_series(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Vec<Labels> {
        let g = self.inner.read();
        let mut out: HashSet<Labels, ahash::RandomState> = HashSet::default();
        for part in Self::parts(&g) {
            if let Some(tl) = part.logs.get(tenant) {
                out.extend(tl.series(matchers, start_ns, end_ns));
            }
        }
        out.into_iter().collect()
    }

    /// Metadata of one tenant.
    pub fn metadata(&self, tenant: &TenantId) -> BTreeMap<String, MetricMetadata> {
        self.inner
            .read()
            .metadata
            .get(tenant)
            .cloned()
            .unwrap_or_default()
    }

    /// All tenants' metadata (for persisting it).
    pub fn all_metadata(&self) -> HashMap<TenantId, BTreeMap<String, MetricMetadata>> {
        self.inner.read().metadata.clone()
    }

    /// The tenant's exemplars in `[start_ms, end_ms]` of the series that
    /// match `required` and one of `selectors`.
    pub fn exemplars(
        &self,
        tenant: &TenantId,
        selectors: &[Vec<sightline_core::Matcher>],
        required: &[sightline_core::Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(Labels, Vec<sightline_core::Exemplar>)> {
        self.inner
            .read()
            .exemplars
            .select(tenant, selectors, required, start_ms, end_ms)
    }

    /// Drops exemplars older than `before_ms`; then, if anything changed
    /// since the last call, every tenant's exemplars (to persist them).
    pub fn exemplars_to_store(
        &self,
        before_ms: i64,
    ) -> Option<Vec<(TenantId, Vec<(Labels, Vec<sightline_core::Exemplar>)>)>> {
        let mut g = self.inner.write();
        g.exemplars.prune(before_ms);
        if !g.exemplars.take_changed() {
            return None;
        }
        Some(
            g.exemplars
                .tenants()
                .into_iter()
                .map(|t| {
                    let xs = g.exemplars.tenant(&t);
                    (t, xs)
                })
                .collect(),
        )
    }

    /// Loads persisted exemplars at start, merged with the WAL's.
    pub fn load_exemplars(
        &self,
        tenant: &TenantId,
        series: Vec<(Labels, Vec<sightline_core::Exemplar>)>,
    ) {
        let mut g = self.inner.write();
        for (labels, xs) in series {
            g.exemplars.load(tenant, labels, xs);
        }
    }

    /// Loads persisted metadata at start.
    pub fn load_metadata(&self, tenant: TenantId, m: BTreeMap<String, MetricMetadata>) {
        let mut g = self.inner.write();
        let e = g.metadata.entry(tenant).or_default();
        for (k, v) in m {
            e.entry(k).or_insert(v);
        }
    }
}

/// How the head names itself in errors.
const TIER: &str = "head";

/// The head as a storage tier: metrics and logs, and reads that cannot
/// fail otherwise (label names and values come from its series and
/// streams).
impl StorageTier for Head {
    async fn select(&self, sel: &Selection) -> Result<Vec<SeriesSamples>, TierError> {
        check_signal(sel, Signal::Metrics, TIER)?;
        Ok(Head::select(
            self,
            sel.tenant(),
            sel.matchers(),
            sel.start_ms(),
            sel.end_ms(),
        ))
    }

    async fn series(&self, sel: &Selection) -> Result<Vec<Labels>, TierError> {
        match sel.signal() {
            Signal::Logs => Ok(Head::log_series(
                self,
                sel.tenant(),
                sel.matchers(),
                sel.start_ms().saturating_mul(1_000_000),
                sel.end_ms().saturating_add(1).saturating_mul(1_000_000),
            )),
            _ => {
                check_signal(sel, Signal::Metrics, TIER)?;
                Ok(Head::series(
                    self,
                    sel.tenant(),
                    sel.matchers(),
                    sel.start_ms(),
                    sel.end_ms(),
                ))
            }
        }
    }

    async fn select_logs(&self, sel: &LogSelection) -> Result<Vec<LogStream>, TierError> {
        check_signal(sel.selection(), Signal::Logs, TIER)?;
        Ok(Head::select_logs(self, sel))
    }

    async fn select_spans(
        &self,
        sel: &sightline_plan::SpanSelection,
    ) -> Result<Vec<sightline_core::span::StoredSpan>, TierError> {
        check_signal(sel.selection(), Signal::Traces, TIER)?;
        let mut spans = Head::select_spans(
            self,
            sel.selection().tenant(),
            sel.trace_id(),
            sel.start_ns(),
            sel.end_ns(),
        );
        spans.retain(|s| sel.admits(s));
        if let Some(n) = sel.limit() {
            spans.truncate(n);
        }
        Ok(spans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::SeriesRecord;

    /// Through the tier trait: the same answer as the head's own reads,
    /// and a refusal (never an empty answer) for a signal it does not hold.
    #[tokio::test]
    async fn answers_as_a_tier() {
        let tenant = TenantId::new("t").expect("valid");
        let head = Head::new();
        let up = l(&[("__name__", "up"), ("job", "a")]);
        head.apply(&WriteBatch {
            tenant: tenant.clone(),
            series: vec![SeriesRecord {
                labels: up.clone(),
                samples: vec![Sample { t: 10, v: 1.0 }],
                exemplars: Vec::new(),
            }],
            metadata: vec![],
        });
        let sel = Selection::new(tenant.clone(), vec![], 0, 100).expect("selection");
        let got = StorageTier::select(&head, &sel).await.expect("select");
        assert_eq!(got, vec![(up.clone(), vec![Sample { t: 10, v: 1.0 }])]);
        assert_eq!(
            StorageTier::series(&head, &sel).await.expect("series"),
            vec![up]
        );
        assert_eq!(
            head.label_values(&sel, "job").await.expect("values"),
            vec!["a".to_string()]
        );
        let logs = Selection::for_signal(tenant, Signal::Logs, vec![], 0, 100).expect("selection");
        let err = StorageTier::select(&head, &logs)
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), sightline_plan::TierErrorKind::UnsupportedSignal);
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied()).expect("valid")
    }

    fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
        Matcher::new(name, op, value).expect("valid")
    }

    /// Selection through the postings lists returns exactly what checking
    /// every series would, including for matchers postings cannot serve.
    #[test]
    fn select_agrees_with_a_full_scan() {
        let tenant = TenantId::new("t").expect("valid");
        let mut series = Vec::new();
        for i in 0..60 {
            let mut pairs = vec![
                ("__name__", ["up", "req", "lat"][i % 3]),
                ("job", ["a", "b", "c", "d"][i % 4]),
            ];
            let inst = format!("i{}", i % 5);
            if i % 7 != 0 {
                pairs.push(("instance", &inst));
            }
            series.push(SeriesRecord {
                labels: l(&pairs),
                samples: (0..10)
                    .map(|k| Sample {
                        t: k * 15_000 + i as i64,
                        v: k as f64,
                    })
                    .collect(),
                exemplars: Vec::new(),
            });
        }
        let head = Head::new();
        head.apply(&WriteBatch {
            tenant: tenant.clone(),
            series: series.clone(),
            metadata: vec![],
        });
        let cases = vec![
            vec![m("__name__", MatchOp::Equal, "up")],
            vec![
                m("__name__", MatchOp::Equal, "up"),
                m("job", MatchOp::Equal, "b"),
            ],
            vec![
                m("job", MatchOp::Equal, "c"),
                m("instance", MatchOp::Equal, ""),
            ],
            vec![
                m("instance", MatchOp::NotEqual, "i1"),
                m("job", MatchOp::Regex, "a|d"),
            ],
            vec![m("__name__", MatchOp::Equal, "nope")],
            vec![
                m("job", MatchOp::Equal, "a"),
                m("missing", MatchOp::Equal, "x"),
            ],
            vec![
                m("__name__", MatchOp::Regex, "up|lat"),
                m("instance", MatchOp::Equal, "i3"),
            ],
        ];
        for ms in cases {
            for (start, end) in [(0, 200_000), (30_000, 60_000), (500_000, 600_000)] {
                let mut got = head.select(&tenant, &ms, start, end);
                got.sort_by(|a, b| a.0.cmp(&b.0));
                let mut want: Vec<(Labels, Vec<Sample>)> = series
                    .iter()
                    .filter(|s| matches_all(&ms, &s.labels))
                    .map(|s| {
                        let w: Vec<Sample> = s
                            .samples
                            .iter()
                            .filter(|x| x.t >= start && x.t <= end)
                            .copied()
                            .collect();
                        (s.labels.clone(), w)
                    })
                    .filter(|(_, w)| !w.is_empty())
                    .collect();
                want.sort_by(|a, b| a.0.cmp(&b.0));
                assert_eq!(got, want, "{ms:?} in [{start}, {end}]");
            }
        }
    }
}
