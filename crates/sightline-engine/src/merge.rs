//! The engine as one storage tier: the head, the archive and ClickHouse
//! (when configured), each read through [`StorageTier`], merged.
//!
//! Merge rules, kept here only:
//! - the head is read first and the stored tiers (archive, then ClickHouse)
//!   after: a flush writes the stored copy before it releases the head, so
//!   a sample moving between the two reads is seen at least once;
//! - one series' samples are merged by timestamp, and of two samples at
//!   one timestamp the head's wins (then the archive's over ClickHouse's);
//! - a selection matching more series than `max_series` is refused;
//! - a range function (or an aggregation over one) is pushed down only when
//!   ClickHouse holds the whole window, that is when neither the head nor
//!   the archive has a series in it, and only for the functions ClickHouse
//!   computes exactly (the function registry's `clickhouse_grid`, see
//!   [`sightline_promql::functions::FunctionInfo::clickhouse_grid`]).

use std::collections::{BTreeSet, HashMap};

use sightline_clickhouse::ClickHouse;
use sightline_core::{Labels, LogStream, Sample, merge_log_streams};
use sightline_ingest::Head;
use sightline_plan::{
    Grid, GridRow, Grouping, LogSelection, Selection, SeriesSamples, StorageTier, TierError,
};
use sightline_promql::ast::AggOp;
use sightline_promql::functions::Function;

use crate::Engine;

impl Engine {
    /// The in-memory tier.
    fn head(&self) -> &Head {
        self.ingestor.head()
    }

    /// ClickHouse, when pushdown is on, ClickHouse computes `func` exactly
    /// and it holds every sample of the selection's window (neither the head
    /// nor the archive has a series there); `None` otherwise (the evaluator
    /// then reads raw samples).
    async fn pushdown_tier(
        &self,
        sel: &Selection,
        func: Function,
    ) -> Option<Result<&ClickHouse, TierError>> {
        if !self.cfg.clickhouse_pushdown {
            return None;
        }
        let ch = match self.hot_tier().await {
            Ok(Some(ch)) => ch,
            Ok(None) => return None,
            Err(e) => return Some(Err(e.into())),
        };
        if !func.info().clickhouse_grid {
            return None;
        }
        match StorageTier::series(self.head(), sel).await {
            Ok(v) if v.is_empty() => {}
            Ok(_) => return None,
            Err(e) => return Some(Err(e)),
        }
        match StorageTier::series(&*self.archive, sel).await {
            Ok(v) if v.is_empty() => Some(Ok(ch)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl StorageTier for Engine {
    /// The selection from the head, the archive and ClickHouse, merged.
    async fn select(&self, sel: &Selection) -> Result<Vec<SeriesSamples>, TierError> {
        let mut merged: HashMap<Labels, Vec<Sample>> = StorageTier::select(self.head(), sel)
            .await?
            .into_iter()
            .collect();
        let mut stored = StorageTier::select(&*self.archive, sel).await?;
        if let Some(ch) = self.hot_tier().await? {
            stored.extend(StorageTier::select(ch, sel).await?);
        }
        for (l, s) in stored {
            match merged.get_mut(&l) {
                Some(v) => {
                    // Stored first, what was there after: the head's value
                    // (or the archive's) wins a tie.
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
            return Err(TierError::limit(format!(
                "a selector matched {} series, more than the limit of {}",
                merged.len(),
                self.cfg.limits.max_series
            )));
        }
        Ok(merged.into_iter().collect())
    }

    /// The selection's series in the head, the archive and ClickHouse.
    async fn series(&self, sel: &Selection) -> Result<Vec<Labels>, TierError> {
        let mut out: BTreeSet<Labels> = StorageTier::series(self.head(), sel)
            .await?
            .into_iter()
            .collect();
        out.extend(StorageTier::series(&*self.archive, sel).await?);
        if let Some(ch) = self.hot_tier().await? {
            out.extend(StorageTier::series(ch, sel).await?);
        }
        Ok(out.into_iter().collect())
    }

    /// Label names from the head's and the archive's series, and computed
    /// by ClickHouse for its own.
    async fn label_names(&self, sel: &Selection) -> Result<Vec<String>, TierError> {
        let mut names: BTreeSet<String> = StorageTier::label_names(self.head(), sel)
            .await?
            .into_iter()
            .collect();
        names.extend(StorageTier::label_names(&*self.archive, sel).await?);
        if let Some(ch) = self.hot_tier().await? {
            names.extend(StorageTier::label_names(ch, sel).await?);
        }
        Ok(names.into_iter().collect())
    }

    /// Values of one label (see `label_names`).
    async fn label_values(&self, sel: &Selection, name: &str) -> Result<Vec<String>, TierError> {
        let mut values: BTreeSet<String> = StorageTier::label_values(self.head(), sel, name)
            .await?
            .into_iter()
            .collect();
        values.extend(StorageTier::label_values(&*self.archive, sel, name).await?);
        if let Some(ch) = self.hot_tier().await? {
            values.extend(StorageTier::label_values(ch, sel, name).await?);
        }
        Ok(values.into_iter().collect())
    }

    /// Spans from the head, the archive and ClickHouse; a span flushed
    /// while the read ran may come from two of them, and is kept once.
    async fn select_spans(
        &self,
        sel: &sightline_plan::SpanSelection,
    ) -> Result<Vec<sightline_core::span::StoredSpan>, TierError> {
        let mut spans = StorageTier::select_spans(self.head(), sel).await?;
        spans.extend(StorageTier::select_spans(&*self.archive, sel).await?);
        if let Some(ch) = self.hot_tier().await? {
            spans.extend(StorageTier::select_spans(ch, sel).await?);
        }
        spans.sort_by(|a, b| {
            (a.trace_id, a.span_id, a.start_ns).cmp(&(b.trace_id, b.span_id, b.start_ns))
        });
        spans.dedup_by(|b, a| {
            a.trace_id == b.trace_id && a.span_id == b.span_id && a.otlp == b.otlp
        });
        Ok(spans)
    }

    /// Log entries from the head, the archive and ClickHouse, one stream
    /// per label set: the head's entries all kept, a stored tier's copy of
    /// an entry the head (or the archive) also gave dropped.
    async fn select_logs(&self, sel: &LogSelection) -> Result<Vec<LogStream>, TierError> {
        let mut parts = vec![StorageTier::select_logs(self.head(), sel).await?];
        parts.push(StorageTier::select_logs(&*self.archive, sel).await?);
        if let Some(ch) = self.hot_tier().await? {
            parts.push(StorageTier::select_logs(ch, sel).await?);
        }
        let merged = merge_log_streams(parts);
        if merged.len() > self.cfg.limits.max_series {
            return Err(TierError::limit(format!(
                "a stream selector matched {} streams, more than the limit of {}",
                merged.len(),
                self.cfg.limits.max_series
            )));
        }
        Ok(merged)
    }

    /// `func` on the grid, computed by ClickHouse (see `pushdown_tier`).
    async fn range_grid(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
    ) -> Option<Result<Vec<GridRow>, TierError>> {
        let ch = match self.pushdown_tier(sel, func).await? {
            Ok(ch) => ch,
            Err(e) => return Some(Err(e)),
        };
        let out = StorageTier::range_grid(ch, sel, func, grid).await?;
        if out.is_ok() {
            metrics::counter!("sightline_clickhouse_pushdown_total", "function" => func.name())
                .increment(1);
        }
        Some(out)
    }

    /// An aggregation over `func` on the grid, computed by ClickHouse (see
    /// `pushdown_tier`).
    async fn aggregate_grid(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
        op: AggOp,
        grouping: Grouping<'_>,
    ) -> Option<Result<Vec<GridRow>, TierError>> {
        let ch = match self.pushdown_tier(sel, func).await? {
            Ok(ch) => ch,
            Err(e) => return Some(Err(e)),
        };
        let out = StorageTier::aggregate_grid(ch, sel, func, grid, op, grouping).await?;
        if out.is_ok() {
            let label = format!("{}({})", op.as_str(), func.name());
            metrics::counter!("sightline_clickhouse_pushdown_total", "function" => label)
                .increment(1);
        }
        Some(out)
    }
}
