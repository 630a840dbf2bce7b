//! What a script's evals read: [`ScriptStorage`], the evaluator's
//! [`Queryable`] for one script run, over [`MemStorage`] or, with a
//! [`HotTier`], over ClickHouse through the engine's own adapter
//! ([`TierView`]) wrapped around a [`ScriptTier`].
//!
//! The runner's own concerns stay here: native-histogram samples (kept as
//! series and times only, with placeholder floats for the cross-check),
//! ClickHouse's answers cached per load, and the count of calls ClickHouse
//! computed (each re-checked against raw samples by the runner).

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use sightline_clickhouse::{ClickHouse, SeriesBatch};
use sightline_core::{Labels, Matcher, Sample, TenantId, matches_all};
use sightline_engine::TierView;
use sightline_eval::{
    AggGridRequest, EvalError, GridRequest, GridSeries, MemStorage, Queryable, Series,
};
use sightline_plan::{
    Grid, GridRow, Grouping, ReadScope, Selection, SeriesSamples, StorageTier, TierError,
};
use sightline_promql::ast::AggOp;
use sightline_promql::functions::Function;

use crate::series::{SeriesDesc, Slot};

/// The value standing in for a native histogram sample.
const PLACEHOLDER: f64 = 9_876_543.21;

/// ClickHouse as the storage of a run: each script's data goes to tenants
/// of its own (a new one after every `clear`).
pub struct HotTier {
    pub ch: ClickHouse,
    pub rt: tokio::runtime::Runtime,
    runs: AtomicU64,
    /// Range-function calls ClickHouse computed (each checked against the
    /// raw-sample evaluation).
    pushed_total: AtomicUsize,
}

impl HotTier {
    pub fn new(ch: ClickHouse, rt: tokio::runtime::Runtime) -> Self {
        HotTier {
            ch,
            rt,
            runs: AtomicU64::new(0),
            pushed_total: AtomicUsize::new(0),
        }
    }

    /// Range-function calls ClickHouse computed over the whole run.
    pub fn pushed_total(&self) -> usize {
        self.pushed_total.load(Ordering::Relaxed)
    }

    fn next_tenant(&self) -> TenantId {
        let n = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        TenantId::new(format!("script{}-{n}", std::process::id())).expect("valid tenant")
    }

    /// A view of a fresh script tier on a tenant of its own.
    fn view(&self) -> TierView<ScriptTier<'_>> {
        ScriptTier::new(self).view(self.next_tenant())
    }
}

/// ClickHouse as one script's tier: reads go to ClickHouse's own
/// [`StorageTier`], with the answers since the last load kept (the
/// runner's re-runs of an eval repeat selections, and the data does not
/// change between loads), and pushdown counted and switched off for the
/// raw-sample cross-check.
pub struct ScriptTier<'a> {
    hot: &'a HotTier,
    answers: Mutex<HashMap<String, Vec<SeriesSamples>>>,
    /// Whether range functions are computed by ClickHouse (pushdown).
    pushdown: AtomicBool,
    /// Range-function calls ClickHouse computed so far.
    pushed: AtomicUsize,
}

impl<'a> ScriptTier<'a> {
    fn new(hot: &'a HotTier) -> Self {
        ScriptTier {
            hot,
            answers: Mutex::new(HashMap::new()),
            pushdown: AtomicBool::new(true),
            pushed: AtomicUsize::new(0),
        }
    }

    /// This tier seen by the evaluator within `tenant`.
    fn view(self, tenant: TenantId) -> TierView<ScriptTier<'a>> {
        let rt = self.hot.rt.handle().clone();
        TierView::new(self, ReadScope::tenant(tenant), rt)
    }

    fn forget_answers(&self) {
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn count_pushed(&self) {
        self.pushed.fetch_add(1, Ordering::Relaxed);
        self.hot.pushed_total.fetch_add(1, Ordering::Relaxed);
    }

    fn pushed(&self) -> usize {
        self.pushed.load(Ordering::Relaxed)
    }

    fn set_pushdown(&self, on: bool) {
        self.pushdown.store(on, Ordering::Relaxed);
    }
}

/// The key of a cached answer: the selection's matchers and window.
fn answer_key(sel: &Selection) -> String {
    format!(
        "{:?} {} {}",
        sel.matchers()
            .iter()
            .map(|m| (&m.name, m.op, &m.value))
            .collect::<Vec<_>>(),
        sel.start_ms(),
        sel.end_ms()
    )
}

impl StorageTier for ScriptTier<'_> {
    async fn select(&self, sel: &Selection) -> Result<Vec<SeriesSamples>, TierError> {
        let key = answer_key(sel);
        let hit = self
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(hit) = hit {
            return Ok(hit);
        }
        let out = StorageTier::select(&self.hot.ch, sel).await?;
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, out.clone());
        Ok(out)
    }

    async fn series(&self, sel: &Selection) -> Result<Vec<Labels>, TierError> {
        StorageTier::series(&self.hot.ch, sel).await
    }

    async fn label_names(&self, sel: &Selection) -> Result<Vec<String>, TierError> {
        StorageTier::label_names(&self.hot.ch, sel).await
    }

    async fn label_values(&self, sel: &Selection, name: &str) -> Result<Vec<String>, TierError> {
        StorageTier::label_values(&self.hot.ch, sel, name).await
    }

    async fn range_grid(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
    ) -> Option<Result<Vec<GridRow>, TierError>> {
        if !self.pushdown.load(Ordering::Relaxed) {
            return None;
        }
        let out = StorageTier::range_grid(&self.hot.ch, sel, func, grid).await?;
        self.count_pushed();
        Some(out)
    }

    async fn aggregate_grid(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
        op: AggOp,
        grouping: Grouping<'_>,
    ) -> Option<Result<Vec<GridRow>, TierError>> {
        if !self.pushdown.load(Ordering::Relaxed) {
            return None;
        }
        let out = StorageTier::aggregate_grid(&self.hot.ch, sel, func, grid, op, grouping).await?;
        self.count_pushed();
        Some(out)
    }
}

/// A script's storage plus the native-histogram samples (which are not
/// stored, only their series and times): a selection whose time window
/// holds one of them marks the eval as a native-histogram case.
///
/// `with_placeholders` holds the float samples plus a placeholder float at
/// every native-histogram sample: an eval whose answer is the same with and
/// without the placeholders does not depend on native histograms and is
/// run; otherwise it is skipped.
pub struct ScriptStorage<'a> {
    hot: Option<TierView<ScriptTier<'a>>>,
    mem: MemStorage,
    with_placeholders: MemStorage,
    use_placeholders: Cell<bool>,
    native: Vec<(Labels, Vec<i64>)>,
    touched_native: Cell<bool>,
    /// Loads inserted into ClickHouse, naming each insert.
    loads: u64,
    /// See [`sightline_eval::QueryOptions::delayed_name_removal`].
    pub delayed_name_removal: bool,
}

impl<'a> ScriptStorage<'a> {
    pub fn new(hot: Option<&'a HotTier>, delayed_name_removal: bool) -> Self {
        ScriptStorage {
            hot: hot.map(HotTier::view),
            mem: MemStorage::new(),
            with_placeholders: MemStorage::new(),
            use_placeholders: Cell::new(false),
            native: Vec::new(),
            touched_native: Cell::new(false),
            loads: 0,
            delayed_name_removal,
        }
    }

    /// Forgets every series; on ClickHouse the next data goes to a new
    /// tenant.
    pub fn clear(&mut self) {
        if let Some(view) = self.hot.take() {
            let tier = view.into_tier();
            tier.forget_answers();
            let tenant = tier.hot.next_tenant();
            self.hot = Some(tier.view(tenant));
        }
        self.mem.clear();
        self.with_placeholders.clear();
        self.native.clear();
    }

    /// Loads a script's series, `step` apart from time 0; with `nhcb`,
    /// classic histogram series also become native-histogram samples.
    pub fn load(&mut self, step: i64, nhcb: bool, series: &[SeriesDesc]) {
        let mut hot_rows = Vec::new();
        for s in series {
            let mut samples = Vec::new();
            for (i, slot) in s.slots.iter().enumerate() {
                match slot {
                    Slot::Value(v) => samples.push(Sample {
                        t: i as i64 * step,
                        v: *v,
                    }),
                    Slot::Histogram => self.add_native(&s.labels, i as i64 * step),
                    Slot::Blank => {}
                }
            }
            if !samples.is_empty() {
                self.with_placeholders
                    .add(s.labels.clone(), samples.clone());
                if self.hot.is_some() {
                    hot_rows.push((s.labels.clone(), samples.clone()));
                }
                self.mem.add(s.labels.clone(), samples);
            }
            if nhcb {
                // Classic `X_bucket`/`X_count`/`X_sum` series also become a
                // native histogram `X`.
                let name = s.labels.get("__name__").unwrap_or("");
                let base = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|suf| name.strip_suffix(suf));
                if let Some(base) = base {
                    let mut l = s.labels.clone();
                    l.set("le", "");
                    l.set("__name__", base);
                    for (i, slot) in s.slots.iter().enumerate() {
                        if matches!(slot, Slot::Value(_)) {
                            self.add_native(&l, i as i64 * step);
                        }
                    }
                }
            }
        }
        if !hot_rows.is_empty() {
            self.insert(&hot_rows);
        }
    }

    /// Inserts a load into ClickHouse under the current tenant.
    fn insert(&mut self, series: &[(Labels, Vec<Sample>)]) {
        let Some(view) = &self.hot else {
            return;
        };
        self.loads += 1;
        let tier = view.tier();
        tier.forget_answers();
        let tenant = view.scope().tenant_id();
        let batch: Vec<_> = series
            .iter()
            .map(|(labels, samples)| SeriesBatch { labels, samples })
            .collect();
        let token = format!("{tenant}-load{}", self.loads);
        if let Err(e) = tier
            .hot
            .rt
            .block_on(tier.hot.ch.insert_metrics(tenant, &batch, &token))
        {
            panic!("loading into clickhouse: {e}");
        }
    }

    fn add_native(&mut self, labels: &Labels, t: i64) {
        match self.native.iter_mut().find(|(l, _)| l == labels) {
            Some((_, ts)) => ts.push(t),
            None => self.native.push((labels.clone(), vec![t])),
        }
        self.with_placeholders
            .add(labels.clone(), [Sample { t, v: PLACEHOLDER }]);
    }

    /// Starts an eval: no native-histogram sample read yet.
    pub fn begin_eval(&self) {
        self.touched_native.set(false);
    }

    /// Whether a selection since [`ScriptStorage::begin_eval`] read a
    /// native-histogram sample.
    pub fn touched_native(&self) -> bool {
        self.touched_native.get()
    }

    /// Whether reads see the placeholder floats for native histograms.
    pub fn set_placeholders(&self, on: bool) {
        self.use_placeholders.set(on);
    }

    /// Calls ClickHouse computed so far in this script (0 in memory).
    pub fn pushed(&self) -> usize {
        self.hot.as_ref().map_or(0, |v| v.tier().pushed())
    }

    /// Switches pushdown to ClickHouse on or off.
    pub fn set_pushdown(&self, on: bool) {
        if let Some(v) = &self.hot {
            v.tier().set_pushdown(on);
        }
    }

    /// ClickHouse for a pushed-down request, unless this is the placeholder
    /// run or the window holds native-histogram samples (which are seen,
    /// and the case skipped, only through `select`).
    fn hot_for(&self, req: &GridRequest<'_>) -> Option<&TierView<ScriptTier<'a>>> {
        let h = self.hot.as_ref()?;
        if self.use_placeholders.get() {
            return None;
        }
        let (lo, hi) = req.window()?;
        if self
            .native
            .iter()
            .any(|(l, ts)| matches_all(req.matchers, l) && ts.iter().any(|t| (lo..=hi).contains(t)))
        {
            return None;
        }
        Some(h)
    }
}

impl Queryable for ScriptStorage<'_> {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, EvalError> {
        if self.native.iter().any(|(l, ts)| {
            matches_all(matchers, l) && ts.iter().any(|t| (start_ms..=end_ms).contains(t))
        }) {
            self.touched_native.set(true);
        }
        if self.use_placeholders.get() {
            return self.with_placeholders.select(matchers, start_ms, end_ms);
        }
        match &self.hot {
            Some(h) => h.select(matchers, start_ms, end_ms),
            None => self.mem.select(matchers, start_ms, end_ms),
        }
    }

    fn range_grid(&self, req: &GridRequest<'_>) -> Option<Result<Vec<GridSeries>, EvalError>> {
        self.hot_for(req)?.range_grid(req)
    }

    fn aggregate_grid(
        &self,
        req: &AggGridRequest<'_>,
    ) -> Option<Result<Vec<GridSeries>, EvalError>> {
        self.hot_for(&req.inner)?.aggregate_grid(req)
    }
}
