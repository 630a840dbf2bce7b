//! Query execution: PromQL through the evaluator, and the label and series
//! look-ups of the Prometheus API, all scoped to one tenant. Every read goes
//! through the engine's own [`StorageTier`] (`merge.rs`), the evaluator's
//! through a [`TierView`] of it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use sightline_core::{Labels, Matcher, Signal};
use sightline_eval::{Annotation, AnnotationKind, EvalError, QueryOptions, Value};
use sightline_plan::{PlanLimits, ReadScope, Selection, StorageTier};
use sightline_promql::ast::Expr;

use crate::view::TierView;
use crate::{Engine, EngineError};

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
    /// Bytes of log lines and metadata in the head that start a flush.
    pub head_max_log_bytes: usize,
    /// Bytes of spans (stored OTLP forms) in the head that start a flush.
    pub head_max_span_bytes: usize,
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
    /// it holds the whole window (see the function registry's
    /// `clickhouse_grid` and `sightline_clickhouse::grid_aggregate`).
    pub clickhouse_pushdown: bool,
    pub limits: QueryLimits,
    /// Prometheus's `promql-delayed-name-removal` (off by default, as there).
    pub promql_delayed_name_removal: bool,
    /// Exemplars kept per series, the oldest dropped first (0: none).
    pub max_exemplars_per_series: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            flush_interval_secs: 900,
            head_max_samples: 20_000_000,
            head_max_log_bytes: 512 << 20,
            head_max_span_bytes: 512 << 20,
            wal_max_pending_bytes: 512 << 20,
            wal_max_bytes: 8 << 30,
            clickhouse: None,
            clickhouse_batch_rows: 500_000,
            clickhouse_drain_rows_per_sec: 0,
            clickhouse_pushdown: true,
            limits: QueryLimits::default(),
            promql_delayed_name_removal: false,
            max_exemplars_per_series:
                sightline_ingest::head::exemplars::DEFAULT_MAX_EXEMPLARS_PER_SERIES,
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

impl Engine {
    fn options(&self, lookback_delta_ms: Option<i64>) -> QueryOptions {
        QueryOptions {
            lookback_delta_ms: lookback_delta_ms
                .unwrap_or(self.cfg.limits.default_lookback_delta_ms),
            max_samples: self.cfg.limits.max_samples,
            delayed_name_removal: self.cfg.promql_delayed_name_removal,
            ..QueryOptions::default()
        }
    }

    /// The query limits this engine applies.
    pub fn limits(&self) -> &QueryLimits {
        &self.cfg.limits
    }

    /// How long a query may run before it is answered with a timeout (at
    /// least a second).
    pub fn query_timeout(&self) -> Duration {
        Duration::from_secs(self.cfg.limits.timeout_secs.max(1))
    }

    /// Parses a PromQL query.
    pub fn parse(query: &str) -> Result<Expr, EngineError> {
        sightline_promql::parse(query).map_err(|e| EngineError::BadData(e.to_string()))
    }

    /// Runs `f` on a blocking thread over a view of this engine within
    /// `scope`, answering a timeout once the query's time is spent. A
    /// storage error reaches the caller through the evaluator with its
    /// kind (see `EngineError::from`).
    async fn run_eval<F>(self: &Arc<Self>, scope: &ReadScope, f: F) -> Result<Answer, EngineError>
    where
        F: FnOnce(&TierView<Arc<Engine>>) -> Result<(Value, Vec<Annotation>), EvalError>
            + Send
            + 'static,
    {
        let timeout = self.query_timeout();
        let view = TierView::new(
            self.clone(),
            scope.clone(),
            tokio::runtime::Handle::current(),
        )
        .with_deadline(std::time::Instant::now() + timeout);
        let task = tokio::task::spawn_blocking(move || f(&view));
        match tokio::time::timeout(timeout, task).await {
            Err(_) => Err(EngineError::Timeout("query execution".into())),
            Ok(Err(join)) => Err(EngineError::Internal(format!("query task failed: {join}"))),
            Ok(Ok(r)) => r.map(Answer::from).map_err(EngineError::from),
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
        // The shape first, then the text, in Prometheus's order: a range
        // too fine for the point limit is refused before the query is
        // parsed.
        let limits = PlanLimits {
            max_points_per_series: self.cfg.limits.max_points_per_series,
        };
        sightline_plan::check_range(start_ms, end_ms, step_ms, &limits)?;
        let expr = Self::parse(query)?;
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

    /// The label sets of the scope's series of `signal` (log streams for
    /// logs) that match any of `match_sets` (all of them when
    /// `match_sets` is empty) within `[start, end]`.
    pub async fn series(
        &self,
        scope: &ReadScope,
        signal: Signal,
        match_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>, EngineError> {
        let mut out = BTreeSet::new();
        for sel in Self::selections(scope, signal, match_sets, start_ms, end_ms)? {
            out.extend(StorageTier::series(self, &sel).await?);
            if out.len() > self.cfg.limits.max_series {
                let what = if signal == Signal::Logs {
                    "streams"
                } else {
                    "series"
                };
                return Err(EngineError::Execution(format!(
                    "the match matched more than the limit of {} {what}",
                    self.cfg.limits.max_series
                )));
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Label names in use by the matching series (see [`Engine::series`]):
    /// from the head's and the archive's, and computed by ClickHouse for
    /// its own.
    pub async fn label_names(
        &self,
        scope: &ReadScope,
        signal: Signal,
        match_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>, EngineError> {
        let mut names = BTreeSet::new();
        for sel in Self::selections(scope, signal, match_sets, start_ms, end_ms)? {
            names.extend(StorageTier::label_names(self, &sel).await?);
        }
        Ok(names.into_iter().collect())
    }

    /// Values of one label among the matching series (see `label_names`).
    pub async fn label_values(
        &self,
        scope: &ReadScope,
        signal: Signal,
        name: &str,
        match_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>, EngineError> {
        sightline_plan::check_label_name(name)?;
        let mut values = BTreeSet::new();
        for sel in Self::selections(scope, signal, match_sets, start_ms, end_ms)? {
            values.extend(StorageTier::label_values(self, &sel, name).await?);
        }
        Ok(values.into_iter().collect())
    }

    /// One selection of `signal` per match set (a match-everything one
    /// when there is none).
    fn selections(
        scope: &ReadScope,
        signal: Signal,
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
                    .select_signal(signal, m.clone(), start_ms, end_ms)
                    .map_err(Into::into)
            })
            .collect()
    }
}
