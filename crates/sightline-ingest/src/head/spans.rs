//! Spans in the head: per tenant, in order of arrival, with an index by
//! trace id.

use std::collections::HashMap;

use sightline_core::span::StoredSpan;

use crate::record::SpanBatch;

/// One tenant's spans in one head part.
#[derive(Debug, Default)]
pub struct TenantSpans {
    spans: Vec<StoredSpan>,
    by_trace: HashMap<[u8; 16], Vec<u32>, ahash::RandomState>,
}

impl TenantSpans {
    /// Adds a batch's spans; returns the bytes added.
    pub(crate) fn apply(&mut self, batch: SpanBatch) -> usize {
        let mut bytes = 0;
        self.spans.reserve(batch.spans.len());
        for s in batch.spans {
            let id = self.spans.len() as u32;
            self.by_trace.entry(s.trace_id).or_default().push(id);
            bytes += s.size();
            self.spans.push(s);
        }
        bytes
    }

    /// Every span, in order of arrival.
    pub fn spans(&self) -> &[StoredSpan] {
        &self.spans
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The spans of `trace` (all of them, or those overlapping
    /// `[start_ns, end_ns)`), or, without a trace, every span overlapping
    /// the window; into `out`.
    pub(crate) fn select(
        &self,
        trace: Option<&[u8; 16]>,
        start_ns: i64,
        end_ns: i64,
        out: &mut Vec<StoredSpan>,
    ) {
        let overlaps = |s: &StoredSpan| s.end_ns >= start_ns && s.start_ns < end_ns;
        match trace {
            Some(t) => {
                for &i in self.by_trace.get(t).into_iter().flatten() {
                    let s = &self.spans[i as usize];
                    if overlaps(s) {
                        out.push(s.clone());
                    }
                }
            }
            None => out.extend(self.spans.iter().filter(|s| overlaps(s)).cloned()),
        }
    }
}
