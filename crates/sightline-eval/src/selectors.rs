//! Instant selectors (lookback and staleness), range selectors (left-open
//! windows) and subqueries (their own step grid, aligned to the step).
//!
//! Every selector has a reference time per step: the step time, or the `@`
//! time when one is written, minus the offset. An instant selector takes the
//! newest sample in `(ref - lookback, ref]` unless it is a staleness marker;
//! a range selector takes every sample in `(ref - range, ref]` except
//! staleness markers.

use sightline_core::{Labels, Sample, is_stale_nan};

use crate::EvalError;
use crate::ast::{MatrixSelector, Subquery, VectorSelector};
use crate::evaluator::{Ev, Matrix, SeriesV};

/// One selected series at each step: `(step time, sample time, value)`.
pub(crate) struct InstantSeries {
    pub labels: Labels,
    pub points: Vec<(i64, i64, f64)>,
}

/// Evaluates an instant selector on the grid, keeping each point's sample
/// time (for `timestamp()`).
pub(crate) fn select_instant(
    ev: &Ev,
    vs: &VectorSelector,
) -> Result<Vec<InstantSeries>, EvalError> {
    let offset = vs.offset.unwrap_or(0);
    let at = ev.resolve_at(vs.at);
    let lookback = ev.ctx.lookback;
    let reference = |ts: i64| at.unwrap_or(ts) - offset;
    let (lo_ref, hi_ref) = match at {
        Some(a) => (a - offset, a - offset),
        None => (ev.start - offset, ev.end - offset),
    };
    let raw = ev
        .ctx
        .q
        .select(&vs.matchers, lo_ref - lookback + 1, hi_ref)?;
    let mut out = Vec::with_capacity(raw.len());
    for s in raw {
        let mut points = Vec::new();
        let mut j = 0;
        for ts in ev.steps() {
            let r = reference(ts);
            while j < s.samples.len() && s.samples[j].t <= r {
                j += 1;
            }
            if j == 0 {
                continue;
            }
            let smp = s.samples[j - 1];
            if smp.t <= r - lookback || is_stale_nan(smp.v) {
                continue;
            }
            ev.ctx.add_samples(1)?;
            points.push((ts, smp.t, smp.v));
        }
        if !points.is_empty() {
            out.push(InstantSeries {
                labels: s.labels,
                points,
            });
        }
    }
    Ok(out)
}

pub(crate) fn eval_vector_selector(ev: &Ev, vs: &VectorSelector) -> Result<Matrix, EvalError> {
    Ok(select_instant(ev, vs)?
        .into_iter()
        .map(|s| SeriesV {
            labels: s.labels,
            points: s
                .points
                .into_iter()
                .map(|(t, _, v)| Sample { t, v })
                .collect(),
            drop_name: false,
        })
        .collect())
}

/// One series of a range vector, as a function over it reads it.
pub(crate) struct RangeSeries {
    pub labels: Labels,
    pub points: Vec<Sample>,
    /// The series is already marked for `__name__` removal: a subquery's
    /// series whose expression changed the values' meaning (`abs(x)[5m:]`),
    /// under delayed name removal. Even a function that keeps the name of
    /// its input (`last_over_time`) must then leave it marked.
    pub drop_name: bool,
}

/// Series for a function over a range vector: every series' points, and
/// how to find the window for a step.
pub(crate) struct RangeInput {
    pub series: Vec<RangeSeries>,
    pub range: i64,
    pub offset: i64,
    pub at: Option<i64>,
    /// Whether the series came from a range selector (their samples are
    /// counted by the selector) rather than from a subquery.
    pub samples_held: usize,
}

impl RangeInput {
    /// The window end (inclusive) for the step at `ts`.
    pub fn window_end(&self, ts: i64) -> i64 {
        self.at.unwrap_or(ts) - self.offset
    }
}

/// Reads the raw samples a range selector needs over the whole grid,
/// without staleness markers.
pub(crate) fn range_selector_input(ev: &Ev, ms: &MatrixSelector) -> Result<RangeInput, EvalError> {
    let vs = &ms.vector;
    let offset = vs.offset.unwrap_or(0);
    let at = ev.resolve_at(vs.at);
    let (lo_ref, hi_ref) = match at {
        Some(a) => (a - offset, a - offset),
        None => (ev.start - offset, ev.end - offset),
    };
    let raw = ev
        .ctx
        .q
        .select(&vs.matchers, lo_ref - ms.range + 1, hi_ref)?;
    let series = raw
        .into_iter()
        .map(|s| RangeSeries {
            labels: s.labels,
            points: s
                .samples
                .into_iter()
                .filter(|p| !is_stale_nan(p.v))
                .collect(),
            drop_name: false,
        })
        .collect();
    Ok(RangeInput {
        series,
        range: ms.range,
        offset,
        at,
        samples_held: 0,
    })
}

/// The samples of `points` in `(end - range, end]`.
pub(crate) fn window(points: &[Sample], end: i64, range: i64) -> &[Sample] {
    let lo = points.partition_point(|p| p.t <= end - range);
    let hi = points.partition_point(|p| p.t <= end);
    if lo >= hi { &[] } else { &points[lo..hi] }
}

/// A range selector evaluated on its own (a one-step grid).
pub(crate) fn eval_matrix_selector(ev: &Ev, ms: &MatrixSelector) -> Result<Matrix, EvalError> {
    let input = range_selector_input(ev, ms)?;
    let end = input.window_end(ev.start);
    let mut out = Vec::new();
    for s in &input.series {
        let w = window(&s.points, end, input.range);
        if w.is_empty() {
            continue;
        }
        ev.ctx.add_samples(w.len())?;
        out.push(SeriesV {
            labels: s.labels.clone(),
            points: w.to_vec(),
            drop_name: s.drop_name,
        });
    }
    Ok(out)
}

/// A subquery's result on its own grid, with what a function needs to
/// window it per outer step.
pub(crate) struct SubqueryResult {
    pub matrix: Matrix,
    pub range: i64,
    pub offset: i64,
    pub at: Option<i64>,
}

pub(crate) fn eval_subquery(ev: &Ev, sq: &Subquery) -> Result<SubqueryResult, EvalError> {
    let offset = sq.offset.unwrap_or(0);
    let at = ev.resolve_at(sq.at);
    let step = match sq.step {
        Some(s) if s > 0 => s,
        Some(_) => return Err(EvalError::bad("subquery step must be positive")),
        None => ev.ctx.subquery_step,
    };
    let (base_start, base_end) = match at {
        Some(a) => (a, a),
        None => (ev.start, ev.end),
    };
    let first = base_start - offset - sq.range;
    // The first step-aligned time strictly after `first` (Go's truncating
    // division, as Prometheus computes it).
    let mut start = step * (first / step);
    if start <= first {
        start += step;
    }
    let child = Ev {
        ctx: ev.ctx,
        start,
        end: base_end - offset,
        interval: step,
    };
    let matrix = child.eval_matrix(&sq.expr)?;
    Ok(SubqueryResult {
        matrix,
        range: sq.range,
        offset,
        at,
    })
}

impl From<SubqueryResult> for RangeInput {
    fn from(r: SubqueryResult) -> Self {
        let held = r.matrix.iter().map(|s| s.points.len()).sum();
        RangeInput {
            series: r
                .matrix
                .into_iter()
                .map(|s| RangeSeries {
                    labels: s.labels,
                    points: s
                        .points
                        .into_iter()
                        .filter(|p| !is_stale_nan(p.v))
                        .collect(),
                    drop_name: s.drop_name,
                })
                .collect(),
            range: r.range,
            offset: r.offset,
            at: r.at,
            samples_held: held,
        }
    }
}
