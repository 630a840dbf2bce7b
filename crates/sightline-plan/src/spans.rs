//! A read of spans: a traces [`Selection`] (tenant; the scope's matchers,
//! which a span's resource attributes must meet) with a window in
//! nanoseconds and, for a trace by id, the trace.

use sightline_core::span::StoredSpan;
use sightline_core::{Signal, matches_all};

use crate::{PlanError, ReadScope, Selection};

/// The spans overlapping `[start_ns, end_ns)` (a span overlaps when it
/// ends at or after the start and starts before the end), of one trace
/// when `trace_id` is set.
#[derive(Debug, Clone)]
pub struct SpanSelection {
    selection: Selection,
    start_ns: i64,
    end_ns: i64,
    trace_id: Option<[u8; 16]>,
    limit: Option<usize>,
}

impl SpanSelection {
    /// At most `n` spans from each tier: a caller that refuses answers
    /// past a size asks for one more than it takes, and so never holds
    /// more than that from any tier.
    pub fn with_limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// A tier that filters after reading (the scope's matchers, say)
    /// refuses once it read its limit of rows: what it dropped unread
    /// might have been admitted, and an answer from part of the rows would
    /// be wrong without saying so.
    pub fn check_rows_read(&self, rows: usize) -> Result<(), crate::TierError> {
        match self.limit {
            Some(n) if rows >= n => Err(crate::TierError::limit(format!(
                "the window holds {n} or more spans: narrow it"
            ))),
            _ => Ok(()),
        }
    }

    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    pub fn start_ns(&self) -> i64 {
        self.start_ns
    }

    pub fn end_ns(&self) -> i64 {
        self.end_ns
    }

    pub fn trace_id(&self) -> Option<&[u8; 16]> {
        self.trace_id.as_ref()
    }

    /// Whether a span belongs in the answer: its trace, its window and
    /// the selection's matchers over its resource attributes. Every tier
    /// checks its spans with this, whatever it could filter before.
    pub fn admits(&self, s: &StoredSpan) -> bool {
        self.trace_id.is_none_or(|t| t == s.trace_id)
            && s.end_ns >= self.start_ns
            && s.start_ns < self.end_ns
            && matches_all(self.selection.matchers(), &s.resource)
    }
}

impl ReadScope {
    /// A read of this scope's spans overlapping `[start_ns, end_ns)`, of
    /// `trace_id` when set.
    pub fn select_spans(
        &self,
        trace_id: Option<[u8; 16]>,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<SpanSelection, PlanError> {
        if end_ns < start_ns {
            return Err(PlanError::TimeRange {
                start: start_ns,
                end: end_ns,
            });
        }
        // A span is stored by the day it starts on: the millisecond window
        // tiers prune by starts a day early, so that a span begun the day
        // before and still running is read (`admits` keeps to the window).
        let start_ms = start_ns
            .div_euclid(1_000_000)
            .saturating_sub(sightline_core::time::DAY_MS);
        let end_ms = end_ns.saturating_sub(1).div_euclid(1_000_000).max(start_ms);
        let selection = self.select_signal(Signal::Traces, Vec::new(), start_ms, end_ms)?;
        Ok(SpanSelection {
            selection,
            start_ns,
            end_ns,
            trace_id,
            limit: None,
        })
    }
}
