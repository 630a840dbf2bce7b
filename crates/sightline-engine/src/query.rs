//! Query execution: PromQL through the evaluator, and the label and series
//! look-ups of the Prometheus API, all scoped to one tenant.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use sightline_core::{Labels, Matcher, Sample};
use sightline_eval::{
    AggGridRequest, Annotation, AnnotationKind, EvalError, GridRequest, GridSeries, QueryOptions,
    Queryable, Series, Value,
};
use sightline_plan::{PlanLimits, ReadScope, Selection};
use sightline_promql::ast::Expr;

use crate::{Engine, EngineError};
use sightline_clickhouse::ClickHouse;

fn grid_of(req: &GridRequest<'_>) -> sightline_clickhouse::Grid {
    sightline_clickhouse::Grid {
        start_ms: req.start_ms,
        end_ms: req.end_ms,
        step_ms: req.step_ms,
        range_ms: req.range_ms,
    }
}

/// Per-query limits.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    pub timeout_secs: u64,
    pub max_samples: usize,
    pub max_points_per_series: i64,
    /// Most series one selector may return.
    pub max_series: usize,
    pub default_lookback_delta_ms: i64,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            timeout_secs: 120,
            max_samples: 50_000_000,
            max_points_per_series: 11_000,
            max_series: 500_000,
            default_lookback_delta_ms: 300_000,
        }
    }
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub flush_interval_secs: u64,
    pub head_max_samples: usize,
    pub wal_max_pending_bytes: usize,
    /// The WAL budget: bytes of WAL not yet stored (while ClickHouse is
    /// down); past it ingest answers 429.
    pub wal_max_bytes: u64,
    /// The hot tier; `None` keeps everything embedded.
    pub clickhouse: Option<sightline_clickhouse::ClickHouseConfig>,
    /// Most samples in one ClickHouse insert.
    pub clickhouse_batch_rows: usize,
    /// Most samples per second the flusher sends to ClickHouse (0: no
    /// limit), so that a backlog drains without swamping it.
    pub clickhouse_drain_rows_per_sec: u64,
    /// Range functions ClickHouse computes exactly are computed there when
    /// it holds the whole window (see `sightline_clickhouse::GRID_AGGREGATES`).
    pub clickhouse_pushdown: bool,
    pub limits: QueryLimits,
    /// Prometheus's `promql-delayed-name-removal` (off by default, as there).
    pub promql_delayed_name_removal: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            flush_interval_secs: 900,
            head_max_samples: 20_000_000,
            wal_max_pending_bytes: 512 << 20,
            wal_max_bytes: 8 << 30,
            clickhouse: None,
            clickhouse_batch_rows: 500_000,
            clickhouse_drain_rows_per_sec: 0,
            clickhouse_pushdown: true,
            limits: QueryLimits::default(),
            promql_delayed_name_removal: false,
        }
    }
}

/// A query's result with the warnings and infos Prometheus would attach.
#[derive(Debug, Clone)]
pub struct Answer {
    pub value: Value,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
    annotations: Vec<Annotation>,
}

impl From<(Value, Vec<Annotation>)> for Answer {
    fn from((value, annotations): (Value, Vec<Annotation>)) -> Self {
        Answer {
            value,
            warnings: Vec::new(),
            infos: Vec::new(),
            annotations,
        }
    }
}

impl Answer {
    /// Renders the annotations with their positions in `query`.
    fn render(&mut self, query: &str) {
        for a in self.annotations.drain(..) {
            match a.kind {
                AnnotationKind::Warning => self.warnings.push(a.render(query)),
                AnnotationKind::Info => self.infos.push(a.render(query)),
            }
        }
    }
}

/// The evaluator's window onto one tenant's data.
struct TenantView {
    engine: Arc<Engine>,
    scope: ReadScope,
    rt: tokio::runtime::Handle,
    /// Past this instant the caller has already been answered with a
    /// timeout: further reads are refused so the evaluation stops early.
    deadline: std::time::Instant,
    /// The storage error that stopped the evaluation, kept whole so that
    /// its kind (unavailable, bad input) reaches the caller.
    failure: parking_lot::Mutex<Option<EngineError>>,
}

impl Queryable for TenantView {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, EvalError> {
        if std::time::Instant::now() > self.deadline {
            return Err(EvalError::Execution("query timed out".into()));
        }
        let sel = self
            .scope
            .select(matchers.to_vec(), start_ms, end_ms)
            .map_err(|e| EvalError::BadQuery(e.to_string()))?;
        let out = self
            .rt
            .block_on(self.engine.read(&sel))
            .map_err(|e| match e {
                EngineError::Execution(m) => EvalError::Execution(m),
                other => {
                    let msg = other.to_string();
                    *self.failure.lock() = Some(other);
                    EvalError::Storage(msg)
                }
            })?;
        Ok(out
            .into_iter()
            .map(|(labels, samples)| Series { labels, samples })
            .collect())
    }

    fn range_grid(&self, req: &GridRequest<'_>) -> Option<Result<Vec<GridSeries>, EvalError>> {
        let sel = self.pushdown_selection(req)?;
        let out = self.rt.block_on(self.engine.grid(&sel, req))?;
        Some(self.grid_answer(out))
    }

    fn aggregate_grid(
        &self,
        req: &AggGridRequest<'_>,
    ) -> Option<Result<Vec<GridSeries>, EvalError>> {
        let sel = self.pushdown_selection(&req.inner)?;
        let out = self.rt.block_on(self.engine.grid_aggregate(&sel, req))?;
        Some(self.grid_answer(out))
    }
}

impl TenantView {
    /// The selection a grid request reads, when pushdown is on and time
    /// remains.
    fn pushdown_selection(&self, req: &GridRequest<'_>) -> Option<Selection> {
        if !self.engine.cfg.clickhouse_pushdown || std::time::Instant::now() > self.deadline {
            return None;
        }
        let lo = req.start_ms.checked_sub(req.range_ms)?.checked_add(1)?;
        self.scope
            .select(req.matchers.to_vec(), lo, req.end_ms)
            .ok()
    }

    /// A pushed-down answer for the evaluator; a storage error is kept
    /// whole (see `failure`).
    fn grid_answer(
        &self,
        out: Result<Vec<(Labels, Vec<Option<f64>>)>, EngineError>,
    ) -> Result<Vec<GridSeries>, EvalError> {
        match out {
            Ok(rows) => Ok(rows
                .into_iter()
                .map(|(labels, values)| GridSeries { labels, values })
                .collect()),
            Err(e) => {
                let msg = e.to_string();
                *self.failure.lock() = Some(e);
                Err(EvalError::Storage(msg))
            }
        }
    }
}

impl Engine {
    /// ClickHouse, when it holds every sample of the selection's window
    /// (nothing of it in the head or the archive) and computes `func`
    /// exactly; `None` otherwise (the evaluator then reads raw samples).
    async fn pushdown_tier(
        &self,
        sel: &Selection,
        func: &str,
    ) -> Option<Result<&ClickHouse, EngineError>> {
        let ch = match self.hot_tier().await {
            Ok(Some(ch)) => ch,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        if !sightline_clickhouse::GRID_AGGREGATES
            .iter()
            .any(|(f, _)| *f == func)
        {
            return None;
        }
        let tenant = sel.tenant();
        if !self
            .ingestor
            .head()
            .series(tenant, sel.matchers(), sel.start_ms(), sel.end_ms())
            .is_empty()
        {
            return None;
        }
        match self
            .archive
            .series(tenant, sel.matchers(), sel.start_ms(), sel.end_ms())
            .await
        {
            Ok(v) if v.is_empty() => Some(Ok(ch)),
            Ok(_) => None,
            Err(e) => Some(Err(e.into())),
        }
    }

    /// Pushdown of `req.func` on its grid (see `pushdown_tier`).
    async fn grid(
        &self,
        sel: &Selection,
        req: &GridRequest<'_>,
    ) -> Option<Result<Vec<(Labels, Vec<Option<f64>>)>, EngineError>> {
        let ch = match self.pushdown_tier(sel, req.func).await? {
            Ok(ch) => ch,
            Err(e) => return Some(Err(e)),
        };
        let out = ch.grid(sel, req.func, grid_of(req)).await?;
        if out.is_ok() {
            metrics::counter!("sightline_clickhouse_pushdown_total", "function" => req.func.to_string())
                .increment(1);
        }
        Some(out.map_err(EngineError::from))
    }

    /// Pushdown of an aggregation over a range function (see
    /// `pushdown_tier`).
    async fn grid_aggregate(
        &self,
        sel: &Selection,
        req: &AggGridRequest<'_>,
    ) -> Option<Result<Vec<(Labels, Vec<Option<f64>>)>, EngineError>> {
        let ch = match self.pushdown_tier(sel, req.inner.func).await? {
            Ok(ch) => ch,
            Err(e) => return Some(Err(e)),
        };
        let grouping = sightline_clickhouse::Grouping {
            without: req.without,
            labels: req.grouping,
        };
        let out = ch
            .grid_aggregate(sel, req.inner.func, grid_of(&req.inner), req.op, grouping)
            .await?;
        if out.is_ok() {
            metrics::counter!("sightline_clickhouse_pushdown_total", "function" => format!("{}({})", req.op, req.inner.func))
                .increment(1);
        }
        Some(out.map_err(EngineError::from))
    }

    /// Reads one selection from the head, ClickHouse and the archive, merged.
    pub async fn read(&self, sel: &Selection) -> Result<Vec<(Labels, Vec<Sample>)>, EngineError> {
        let tenant = sel.tenant();
        // Head first, archive second: a flush writes the archive before it
        // releases the head, so whatever moves between the two reads is
        // seen at least once (and de-duplicated by timestamp).
        let mut merged: HashMap<Labels, Vec<Sample>> = self
            .ingestor
            .head()
            .select(tenant, sel.matchers(), sel.start_ms(), sel.end_ms())
            .into_iter()
            .collect();
        let mut stored = self
            .archive
            .select(tenant, sel.matchers(), sel.start_ms(), sel.end_ms())
            .await?;
        if let Some(ch) = self.hot_tier().await? {
            stored.extend(ch.select(sel).await?);
        }
        for (l, s) in stored {
            match merged.get_mut(&l) {
                Some(v) => {
                    // Stored first, head after: the head's value wins a tie.
                    let mut all = s;
                    all.append(v);
                    sightline_core::sort_dedup(&mut all);
                    *v = all;
                }
                None => {
                    merged.insert(l, s);
                }
            }
        }
        if merged.len() > self.cfg.limits.max_series {
            return Err(EngineError::Execution(format!(
                "a selector matched {} series, more than the limit of {}",
                merged.len(),
                self.cfg.limits.max_series
            )));
        }
        Ok(merged.into_iter().collect())
    }

    fn options(&self, lookback_delta_ms: Option<i64>) -> QueryOptions {
        QueryOptions {
            lookback_delta_ms: lookback_delta_ms
                .unwrap_or(self.cfg.limits.default_lookback_delta_ms),
            max_samples: self.cfg.limits.max_samples,
            delayed_name_removal: self.cfg.promql_delayed_name_removal,
            ..QueryOptions::default()
        }
    }

    /// Parses a PromQL query.
    pub fn parse(query: &str) -> Result<Expr, EngineError> {
        sightline_promql::parse(query).map_err(|e| EngineError::BadData(e.to_string()))
    }

    async fn run_eval<F>(self: &Arc<Self>, scope: &ReadScope, f: F) -> Result<Answer, EngineError>
    where
        F: FnOnce(&TenantView) -> Result<(Value, Vec<Annotation>), EvalError> + Send + 'static,
    {
        let timeout = Duration::from_secs(self.cfg.limits.timeout_secs.max(1));
        let view = TenantView {
            engine: self.clone(),
            scope: scope.clone(),
            rt: tokio::runtime::Handle::current(),
            deadline: std::time::Instant::now() + timeout,
            failure: parking_lot::Mutex::new(None),
        };
        let task = tokio::task::spawn_blocking(move || {
            let r = f(&view);
            (r, view.failure.lock().take())
        });
        match tokio::time::timeout(timeout, task).await {
            Err(_) => Err(EngineError::Timeout("query execution".into())),
            Ok(Err(join)) => Err(EngineError::Internal(format!("query task failed: {join}"))),
            Ok(Ok((Ok(v), _))) => Ok(Answer::from(v)),
            Ok(Ok((Err(_), Some(storage)))) => Err(storage),
            Ok(Ok((Err(e), None))) => Err(EngineError::from(e)),
        }
    }

    /// An instant query at `t_ms` within `scope`.
    pub async fn instant_query(
        self: &Arc<Self>,
        scope: &ReadScope,
        query: &str,
        t_ms: i64,
        lookback_delta_ms: Option<i64>,
    ) -> Result<Answer, EngineError> {
        let expr = Self::parse(query)?;
        let opts = self.options(lookback_delta_ms);
        let q = query.to_string();
        let mut a = self
            .run_eval(scope, move |v| {
                sightline_eval::eval_instant_with_annotations(&expr, t_ms, &opts, v)
            })
            .await?;
        a.render(&q);
        Ok(a)
    }

    /// A range query within `scope`.
    pub async fn range_query(
        self: &Arc<Self>,
        scope: &ReadScope,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        lookback_delta_ms: Option<i64>,
    ) -> Result<Answer, EngineError> {
        let expr = Self::parse(query)?;
        let limits = PlanLimits {
            max_points_per_series: self.cfg.limits.max_points_per_series,
        };
        sightline_plan::check_range(start_ms, end_ms, step_ms, &limits)?;
        let opts = self.options(lookback_delta_ms);
        let q = query.to_string();
        let mut a = self
            .run_eval(scope, move |v| {
                sightline_eval::eval_range_with_annotations(
                    &expr, start_ms, end_ms, step_ms, &opts, v,
                )
            })
            .await?;
        a.render(&q);
        Ok(a)
    }

    /// The label sets of the scope's series that match any of `match_sets`
    /// (all series when `match_sets` is empty) within `[start, end]`.
    pub async fn series(
        &self,
        scope: &ReadScope,
        match_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>, EngineError> {
        let mut out = BTreeSet::new();
        for sel in self.selections(scope, match_sets, start_ms, end_ms)? {
            out.extend(self.local_series(&sel).await?);
            if let Some(ch) = self.hot_tier().await? {
                out.extend(ch.series(&sel).await?);
            }
            if out.len() > self.cfg.limits.max_series {
                return Err(EngineError::Execution(format!(
                    "the match matched more than the limit of {} series",
                    self.cfg.limits.max_series
                )));
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Label names in use by the matching series: from the head and the
    /// archive's series, and computed by ClickHouse for its own.
    pub async fn label_names(
        &self,
        scope: &ReadScope,
        match_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>, EngineError> {
        let mut names = BTreeSet::new();
        for sel in self.selections(scope, match_sets, start_ms, end_ms)? {
            for l in self.local_series(&sel).await? {
                names.extend(l.iter().map(|x| x.name.clone()));
            }
            if let Some(ch) = self.hot_tier().await? {
                names.extend(ch.label_names(&sel).await?);
            }
        }
        Ok(names.into_iter().collect())
    }

    /// Values of one label among the matching series (see `label_names`).
    pub async fn label_values(
        &self,
        scope: &ReadScope,
        name: &str,
        match_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>, EngineError> {
        sightline_plan::check_label_name(name)?;
        let mut values = BTreeSet::new();
        for sel in self.selections(scope, match_sets, start_ms, end_ms)? {
            for l in self.local_series(&sel).await? {
                if let Some(v) = l.get(name) {
                    values.insert(v.to_string());
                }
            }
            if let Some(ch) = self.hot_tier().await? {
                values.extend(ch.label_values(&sel, name).await?);
            }
        }
        Ok(values.into_iter().collect())
    }

    /// One selection per match set (a match-everything one when there is
    /// none).
    fn selections(
        &self,
        scope: &ReadScope,
        match_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Selection>, EngineError> {
        let all = [Vec::new()];
        let sets: &[Vec<Matcher>] = if match_sets.is_empty() {
            &all
        } else {
            match_sets
        };
        sets.iter()
            .map(|m| {
                scope
                    .select(m.clone(), start_ms, end_ms)
                    .map_err(Into::into)
            })
            .collect()
    }

    /// The selection's series in the head and the archive.
    async fn local_series(&self, sel: &Selection) -> Result<BTreeSet<Labels>, EngineError> {
        // Head first, archive second (see `read`).
        let mut out: BTreeSet<Labels> = self
            .ingestor
            .head()
            .series(sel.tenant(), sel.matchers(), sel.start_ms(), sel.end_ms())
            .into_iter()
            .collect();
        out.extend(
            self.archive
                .series(sel.tenant(), sel.matchers(), sel.start_ms(), sel.end_ms())
                .await?,
        );
        Ok(out)
    }
}
