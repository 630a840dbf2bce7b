//! A log query: the entries of the selected streams in `[start, end)`
//! through the pipeline, merged across streams by time in the query's
//! direction, the first `limit` kept, grouped into streams by their final
//! labels, as Loki's engine does (`readStreams`).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use sightline_core::{Direction, Label, Labels, LogStream};
use sightline_logql::ast::LogExpr;

use super::QueryError;
use crate::pipeline::Pipeline;

/// What a log query asks for besides its expression.
#[derive(Debug, Clone, Copy)]
pub struct LogParams {
    /// Entries with `start_ns <= ts < end_ns`.
    pub start_ns: i64,
    pub end_ns: i64,
    /// Most entries returned, across all streams.
    pub limit: usize,
    pub direction: Direction,
    /// Loki's `interval`: an entry is returned only when at least this
    /// long after (forward) or before (backward) the last one returned,
    /// across all streams; 0 returns every entry.
    pub interval_ns: i64,
    /// What templates' `now` returns.
    pub now_ns: i64,
}

/// One returned entry.
#[derive(Debug, Clone, PartialEq)]
pub struct OutEntry {
    pub ts_ns: i64,
    pub line: String,
    /// The entry's structured metadata and its parsed labels (what Loki's
    /// categorized encoding returns beside each entry).
    pub structured_metadata: Labels,
    pub parsed: Labels,
}

/// One result stream: entries sharing their final label set, in the
/// query's direction.
#[derive(Debug, Clone, PartialEq)]
pub struct OutStream {
    /// Every label: stream labels, structured metadata and parsed labels.
    pub labels: Labels,
    /// The stream labels alone (after formatters and `drop`/`keep`).
    pub stream: Labels,
    pub entries: Vec<OutEntry>,
}

/// Where a stream's cursor stands: the next entry's timestamp, the
/// stream's tie-break rank and index. Ordered so that a max-heap pops the
/// entry that comes first in the direction.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    ts: i64,
    rank: usize,
    stream: usize,
    forward: bool,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // Time first (ascending forward, descending backward); at one
        // time, the stream that sorts first goes first in both directions.
        let by_time = if self.forward {
            other.ts.cmp(&self.ts)
        } else {
            self.ts.cmp(&other.ts)
        };
        by_time.then_with(|| other.rank.cmp(&self.rank))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Runs a log query over `streams` (the selector's streams, entries in
/// any window; those outside `[start, end)` are skipped).
pub fn eval_logs(
    expr: &LogExpr,
    streams: Vec<LogStream>,
    p: &LogParams,
) -> Result<Vec<OutStream>, QueryError> {
    let pipeline = Pipeline::new(&expr.stages, p.now_ns)?;
    let forward = p.direction == Direction::Forward;
    // Ties at one timestamp go by the stream's labels, in both directions.
    let mut order: Vec<usize> = (0..streams.len()).collect();
    order.sort_by(|&a, &b| streams[a].labels.cmp(&streams[b].labels));
    let mut rank = vec![0usize; streams.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    // Each stream's entries in the window, and its cursor.
    let windows: Vec<&[sightline_core::LogEntry]> = streams
        .iter()
        .map(|s| {
            let lo = s.entries.partition_point(|e| e.ts_ns < p.start_ns);
            let hi = s.entries.partition_point(|e| e.ts_ns < p.end_ns);
            &s.entries[lo..hi.max(lo)]
        })
        .collect();
    let mut pos: Vec<usize> = vec![0; streams.len()];
    let mut pipes: Vec<_> = streams
        .iter()
        .map(|s| pipeline.for_stream(&s.labels))
        .collect();
    let at = |i: usize, k: usize| -> Option<&sightline_core::LogEntry> {
        let w = windows[i];
        if forward {
            w.get(k)
        } else {
            w.len().checked_sub(k + 1).map(|j| &w[j])
        }
    };
    let mut heap = BinaryHeap::new();
    for i in 0..streams.len() {
        if let Some(e) = at(i, 0) {
            heap.push(Head {
                ts: e.ts_ns,
                rank: rank[i],
                stream: i,
                forward,
            });
        }
    }
    let mut groups: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<OutStream> = Vec::new();
    let mut taken = 0usize;
    let mut last_ts: Option<i64> = None;
    while taken < p.limit {
        let Some(Head { stream: i, .. }) = heap.pop() else {
            break;
        };
        let Some(e) = at(i, pos[i]) else { continue };
        pos[i] += 1;
        if let Some(next) = at(i, pos[i]) {
            heap.push(Head {
                ts: next.ts_ns,
                rank: rank[i],
                stream: i,
                forward,
            });
        }
        if p.interval_ns > 0
            && let Some(last) = last_ts
        {
            let gap = if forward {
                e.ts_ns.saturating_sub(last)
            } else {
                last.saturating_sub(e.ts_ns)
            };
            if gap < p.interval_ns {
                continue;
            }
        }
        let md: Vec<(String, String)> = e
            .metadata
            .iter()
            .map(|Label { name, value }| (name.clone(), value.clone()))
            .collect();
        let Some(done) = pipes[i].process(e.ts_ns, &e.line, &md) else {
            continue;
        };
        last_ts = Some(e.ts_ns);
        taken += 1;
        let all = done.labels.all();
        let g = match groups.get(&all) {
            Some(&g) => g,
            None => {
                groups.insert(all.clone(), out.len());
                out.push(OutStream {
                    labels: all,
                    stream: done.labels.stream.clone(),
                    entries: Vec::new(),
                });
                out.len() - 1
            }
        };
        out[g].entries.push(OutEntry {
            ts_ns: e.ts_ns,
            line: done.line,
            structured_metadata: done.labels.structured_metadata,
            parsed: done.labels.parsed,
        });
    }
    // Loki orders streams by their label text (`{a="1", b="2"}`), where
    // `, ` sorts before `}`: `{app="web", level="x"}` before `{app="web"}`.
    out.sort_by_cached_key(|s| s.labels.to_string());
    Ok(out)
}
