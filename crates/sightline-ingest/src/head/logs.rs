//! Log streams in the head: per tenant, per stream, entries in time order,
//! with postings by label like the series beside them.

use std::collections::HashMap;

use sightline_core::{Direction, Labels, LogEntry, LogStream, Matcher, matches_all};
use sightline_plan::LogSelection;

use super::{Postings, candidates};
use crate::record::LogBatch;

/// One stream in one head part.
#[derive(Debug, Clone)]
pub struct MemStream {
    pub labels: Labels,
    /// Ascending by timestamp; equal timestamps in order of arrival.
    pub entries: Vec<LogEntry>,
}

impl MemStream {
    /// Adds an entry in time order. An entry equal in timestamp, line and
    /// metadata to the last one pushed to the stream is skipped, as Loki
    /// skips it (a client's retry of the same push). Returns the bytes
    /// added.
    fn append(&mut self, e: &LogEntry, last: &mut Option<usize>) -> usize {
        if let Some(i) = *last
            && self.entries.get(i) == Some(e)
        {
            return 0;
        }
        let at = match self.entries.last() {
            Some(l) if l.ts_ns > e.ts_ns => self.entries.partition_point(|x| x.ts_ns <= e.ts_ns),
            _ => self.entries.len(),
        };
        // Indices at or past the insertion point move by one.
        self.entries.insert(at, e.clone());
        *last = Some(at);
        e.size()
    }

    /// The entries in `[start_ns, end_ns)`.
    fn window(&self, start_ns: i64, end_ns: i64) -> &[LogEntry] {
        let lo = self.entries.partition_point(|e| e.ts_ns < start_ns);
        let hi = self.entries.partition_point(|e| e.ts_ns < end_ns);
        &self.entries[lo..hi.max(lo)]
    }
}

/// One tenant's log streams in one head part.
#[derive(Debug, Default)]
pub struct TenantLogs {
    index: HashMap<Labels, u32, ahash::RandomState>,
    streams: Vec<MemStream>,
    /// Per stream, the index of the entry pushed last (for Loki's
    /// duplicate-push check).
    last: Vec<Option<usize>>,
    postings: Postings,
}

impl TenantLogs {
    pub fn streams(&self) -> &[MemStream] {
        &self.streams
    }

    pub fn is_empty(&self) -> bool {
        self.streams.iter().all(|s| s.entries.is_empty())
    }

    /// Applies a batch; returns the bytes added.
    pub(super) fn apply(&mut self, batch: &LogBatch) -> usize {
        let mut bytes = 0;
        for s in &batch.streams {
            let id = match self.index.get(&s.labels) {
                Some(&id) => id,
                None => {
                    let id = self.streams.len() as u32;
                    self.streams.push(MemStream {
                        labels: s.labels.clone(),
                        entries: Vec::new(),
                    });
                    self.last.push(None);
                    self.index.insert(s.labels.clone(), id);
                    self.postings.add(id, &s.labels);
                    id
                }
            };
            let (stream, last) = (&mut self.streams[id as usize], &mut self.last[id as usize]);
            for e in &s.entries {
                bytes += stream.append(e, last);
            }
        }
        bytes
    }

    fn candidates<'a>(&'a self, matchers: &[Matcher]) -> impl Iterator<Item = &'a MemStream> + 'a {
        let matchers = matchers.to_vec();
        candidates(&self.streams, &self.postings, &matchers)
            .filter(move |s| matches_all(&matchers, &s.labels))
    }

    /// The label sets of the streams matching `matchers` with an entry in
    /// `[start_ns, end_ns)`.
    pub(super) fn series(&self, matchers: &[Matcher], start_ns: i64, end_ns: i64) -> Vec<Labels> {
        self.candidates(matchers)
            .filter(|s| !s.window(start_ns, end_ns).is_empty())
            .map(|s| s.labels.clone())
            .collect()
    }

    /// The selection's entries of this part, per stream, after its literal
    /// filters and, with a limit, only the `limit` entries at the
    /// direction's end of each stream (a superset of the global answer).
    pub(super) fn select(&self, sel: &LogSelection, out: &mut Vec<LogStream>) {
        for s in self.candidates(sel.selection().matchers()) {
            let w = s.window(sel.start_ns(), sel.end_ns());
            if w.is_empty() {
                continue;
            }
            let keep = |e: &&LogEntry| sel.passes_literal_filters(&e.line);
            let entries: Vec<LogEntry> = match (sel.limit(), sel.direction()) {
                (Some(n), Direction::Backward) => {
                    let mut v: Vec<LogEntry> =
                        w.iter().rev().filter(keep).take(n).cloned().collect();
                    v.reverse();
                    v
                }
                (Some(n), Direction::Forward) => w.iter().filter(keep).take(n).cloned().collect(),
                (None, _) => w.iter().filter(keep).cloned().collect(),
            };
            if !entries.is_empty() {
                out.push(LogStream {
                    labels: s.labels.clone(),
                    entries,
                });
            }
        }
    }
}
