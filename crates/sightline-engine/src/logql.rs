//! LogQL queries: the reads a query needs, made through the caller's scope
//! on every tier (the engine's own `StorageTier::select_logs`, which merges
//! head, archive and ClickHouse), then evaluated by `sightline-logeval` on
//! a blocking thread within the query's time.

use std::sync::Arc;

use sightline_core::{Direction, Matcher};
use sightline_eval::Value;
use sightline_logeval::query::{
    LogParams, MetricParams, OutStream, QueryError, eval_logs, eval_metric, metric_reads,
};
use sightline_logql::ast::{Expr, LogExpr, Stage};
use sightline_plan::{ReadScope, StorageTier};

use crate::{Engine, EngineError};

/// A LogQL query's answer.
#[derive(Debug, Clone)]
pub enum LogqlAnswer {
    Streams(Vec<OutStream>),
    Value(Value),
}

/// The window and options of a LogQL query.
#[derive(Debug, Clone, Copy)]
pub struct LogqlRequest {
    /// Log queries: entries in `[start, end)`. Metric queries: steps
    /// `start, start + step, … <= end` (whole milliseconds); `step_ns` 0
    /// for an instant query at `start`.
    pub start_ns: i64,
    pub end_ns: i64,
    pub step_ns: i64,
    pub limit: usize,
    pub direction: Direction,
    pub interval_ns: i64,
    pub now_ns: i64,
}

impl From<QueryError> for EngineError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Eval(e) => EngineError::from(e),
            other => EngineError::BadData(other.to_string()),
        }
    }
}

/// Parses a LogQL query.
pub fn parse_logql(query: &str) -> Result<Expr, EngineError> {
    sightline_logql::parse(query).map_err(|e| EngineError::BadData(e.to_string()))
}

/// Whether every stage is a substring filter every tier applies itself,
/// so that nothing after a tier's read can drop an entry and a tier may
/// cut each stream at the limit.
fn only_literal_filters(log: &LogExpr) -> bool {
    use sightline_logql::ast::{FilterValue, LineFilterOp};
    log.stages.iter().all(|s| match s {
        Stage::LineFilter(f) => {
            matches!(f.op, LineFilterOp::Contains | LineFilterOp::NotContains)
                && f.values.iter().all(|v| matches!(v, FilterValue::Str(_)))
        }
        _ => false,
    })
}

impl Engine {
    /// Runs a parsed LogQL query within `scope`.
    pub async fn logql(
        self: &Arc<Self>,
        scope: &ReadScope,
        expr: Expr,
        req: LogqlRequest,
    ) -> Result<LogqlAnswer, EngineError> {
        let timeout = self.query_timeout();
        let work = async {
            match expr {
                Expr::Log(log) => {
                    let filters = log.leading_line_filters();
                    // Every stage a line filter: each tier may stop at the
                    // limit (per stream; the global cut is made here).
                    let limit = only_literal_filters(&log)
                        .then_some(req.limit)
                        .filter(|_| req.interval_ns == 0);
                    let sel = scope
                        .select_logs(log.matchers.clone(), req.start_ns, req.end_ns)?
                        .with_line_filters(filters)
                        .with_direction(req.direction)
                        .with_limit(limit);
                    let streams = StorageTier::select_logs(&**self, &sel).await?;
                    let params = LogParams {
                        start_ns: req.start_ns,
                        end_ns: req.end_ns,
                        limit: req.limit,
                        direction: req.direction,
                        interval_ns: req.interval_ns,
                        now_ns: req.now_ns,
                    };
                    let out =
                        tokio::task::spawn_blocking(move || eval_logs(&log, streams, &params))
                            .await
                            .map_err(|e| {
                                EngineError::Internal(format!("query task failed: {e}"))
                            })??;
                    Ok(LogqlAnswer::Streams(out))
                }
                Expr::Metric(m) => {
                    let params = MetricParams {
                        start_ns: req.start_ns,
                        end_ns: req.end_ns,
                        step_ns: req.step_ns,
                        now_ns: req.now_ns,
                        max_samples: self.cfg.limits.max_samples,
                    };
                    let reads = metric_reads(&m, &params);
                    let mut data_reads = Vec::with_capacity(reads.len());
                    let mut data: Vec<Vec<sightline_core::LogStream>> =
                        Vec::with_capacity(reads.len());
                    for (i, read) in reads.into_iter().enumerate() {
                        // A selector a query names twice over the same
                        // window (`a / a`) is read once.
                        if let Some(j) = data_reads[..i].iter().position(|r| *r == read) {
                            data.push(data[j].clone());
                            data_reads.push(read);
                            continue;
                        }
                        data_reads.push(read.clone());
                        let sel = scope
                            .select_logs(read.matchers, read.start_ns, read.end_ns)?
                            .with_line_filters(read.line_filters)
                            .with_direction(Direction::Forward);
                        data.push(StorageTier::select_logs(&**self, &sel).await?);
                    }
                    let v = tokio::task::spawn_blocking(move || eval_metric(&m, data, &params))
                        .await
                        .map_err(|e| EngineError::Internal(format!("query task failed: {e}")))??;
                    Ok(LogqlAnswer::Value(v))
                }
            }
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(EngineError::Timeout("query execution".into())),
        }
    }

    /// The scope's entries of the streams `matchers` select in
    /// `[start_ns, end_ns)`, from every tier.
    pub async fn log_entries(
        &self,
        scope: &ReadScope,
        matchers: Vec<Matcher>,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<sightline_core::LogStream>, EngineError> {
        let sel = scope.select_logs(matchers, start_ns, end_ns)?;
        Ok(StorageTier::select_logs(self, &sel).await?)
    }
}
