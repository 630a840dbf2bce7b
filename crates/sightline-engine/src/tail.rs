//! Live tails of a log query: the scope's acknowledged log records as they
//! arrive, kept to the streams the query and the scope select, through the
//! query's pipeline.

use std::sync::Arc;

use sightline_core::{LogStream, Matcher, matches_all};
use sightline_ingest::{DroppedEntry, TailSubscription};
use sightline_logeval::query::{LogParams, OutStream, eval_logs};
use sightline_logql::ast::LogExpr;
use sightline_plan::ReadScope;

use crate::{Engine, EngineError};

/// An open tail. Dropping it closes it.
pub struct LogTail {
    sub: TailSubscription,
    /// The query's matchers and the scope's own.
    matchers: Vec<Matcher>,
    expr: LogExpr,
}

impl Engine {
    /// Opens a tail of `expr` within `scope`, refused (400, in Loki's
    /// words) past `max_per_tenant` open tails of the scope's tenant.
    pub fn tail_logs(
        &self,
        scope: &ReadScope,
        expr: &LogExpr,
        max_per_tenant: usize,
    ) -> Result<LogTail, EngineError> {
        // Built through the scope, like every read: its matchers are the
        // query's and the scope's.
        let sel = scope.select_logs(expr.matchers.clone(), 0, 1)?;
        let matchers = sel.selection().matchers().to_vec();
        let sub = self
            .ingestor
            .tail_logs(scope.tenant_id(), matchers.clone(), max_per_tenant)
            .map_err(|l| {
                EngineError::BadData(format!(
                    "max concurrent tail requests limit exceeded, count > limit ({} > {})",
                    l.count, l.limit
                ))
            })?;
        Ok(LogTail {
            sub,
            matchers,
            expr: expr.clone(),
        })
    }
}

impl LogTail {
    /// Waits for the next acknowledged record of the streams this tail
    /// selects.
    pub async fn recv(&mut self) -> Option<Arc<Vec<LogStream>>> {
        self.sub.recv().await
    }

    /// The next record if one is waiting.
    pub fn try_recv(&mut self) -> Option<Arc<Vec<LogStream>>> {
        self.sub.try_recv()
    }

    /// The entries of `records` through the query's pipeline, on a
    /// blocking thread (a pipeline may cost what a query costs).
    pub async fn select(
        &self,
        records: Vec<Arc<Vec<LogStream>>>,
        now_ns: i64,
    ) -> Result<Vec<OutStream>, EngineError> {
        let (expr, matchers) = (self.expr.clone(), self.matchers.clone());
        tokio::task::spawn_blocking(move || select(&expr, &matchers, &records, now_ns))
            .await
            .map_err(|e| EngineError::Internal(format!("tail task failed: {e}")))?
    }

    /// The entries of the query's streams this tail missed since the last
    /// call (it fell behind).
    pub fn take_dropped(&self) -> Vec<DroppedEntry> {
        let mut d = self.sub.take_dropped();
        d.retain(|e| matches_all(&self.matchers, &e.labels));
        d
    }
}

fn select(
    expr: &LogExpr,
    matchers: &[Matcher],
    records: &[Arc<Vec<LogStream>>],
    now_ns: i64,
) -> Result<Vec<OutStream>, EngineError> {
    let streams: Vec<LogStream> = records
        .iter()
        .flat_map(|r| r.iter())
        .filter(|s| matches_all(matchers, &s.labels))
        .map(|s| {
            let mut s = s.clone();
            s.entries.sort_by_key(|e| e.ts_ns);
            s
        })
        .collect();
    let (Some(lo), Some(hi)) = (
        streams
            .iter()
            .filter_map(|s| s.entries.first())
            .map(|e| e.ts_ns)
            .min(),
        streams
            .iter()
            .filter_map(|s| s.entries.last())
            .map(|e| e.ts_ns)
            .max(),
    ) else {
        return Ok(Vec::new());
    };
    let params = LogParams {
        start_ns: lo,
        end_ns: hi.saturating_add(1),
        limit: usize::MAX,
        direction: sightline_core::Direction::Forward,
        interval_ns: 0,
        now_ns,
    };
    Ok(eval_logs(expr, streams, &params)?)
}
