//! `histogram_quantile()`, `histogram_quantiles()` and
//! `histogram_fraction()` over classic histograms: float series with an
//! `le` label, grouped by their other labels. Bucket counts are coalesced by
//! bound and made monotonic as Prometheus does before interpolating
//! linearly within a bucket.

use std::collections::HashMap;

use sightline_core::{Labels, METRIC_NAME};

use crate::annotations;
use crate::ast::Span;
use crate::evaluator::{Ctx, Elem, Vector};
use crate::util::format_openmetrics_float;

const BUCKET_LABEL: &str = "le";
/// Relative differences below this between neighbouring buckets are
/// floating-point noise and are ignored.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

#[derive(Clone, Copy)]
struct Bucket {
    upper: f64,
    count: f64,
}

/// Parses an `le` bound (Go's `strconv.ParseFloat` accepts the same
/// spellings of infinity and NaN, case-insensitively).
fn parse_bound(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// Groups a vector's elements into classic histograms (labels without
/// `le`), in first-seen order. An element whose `le` is missing or not a
/// number is left out with a warning naming `span`.
fn group(ctx: &Ctx, v: &Vector, span: Span) -> Vec<(Labels, Vec<Bucket>)> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<(Labels, Vec<Bucket>)> = Vec::new();
    for e in v {
        let le = e.labels.get(BUCKET_LABEL).unwrap_or("");
        let Some(upper) = parse_bound(le) else {
            let name = e.labels.get(METRIC_NAME).unwrap_or("");
            ctx.annotate(annotations::bad_bucket_label(name, le, span));
            continue;
        };
        let mut key = e.labels.clone();
        key.set(BUCKET_LABEL, "");
        let i = *index.entry(key.clone()).or_insert_with(|| {
            out.push((key, Vec::new()));
            out.len() - 1
        });
        out[i].1.push(Bucket { upper, count: e.v });
    }
    out
}

/// Go's `almost.Equal` with the given relative tolerance.
fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < eps * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < eps
}

/// Sorts by bound, merges equal bounds, removes noise and decreases.
/// `None` when the highest bound is not +Inf; otherwise the buckets and
/// whether a real decrease had to be removed.
fn prepare(mut b: Vec<Bucket>) -> Option<(Vec<Bucket>, bool)> {
    b.sort_by(|x, y| {
        x.upper
            .partial_cmp(&y.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if b.last().is_none_or(|l| l.upper != f64::INFINITY) {
        return None;
    }
    let mut merged: Vec<Bucket> = Vec::with_capacity(b.len());
    for x in b {
        match merged.last_mut() {
            Some(l) if l.upper == x.upper => l.count += x.count,
            _ => merged.push(x),
        }
    }
    let mut forced = false;
    let mut prev = merged.first()?.count;
    for x in merged.iter_mut().skip(1) {
        let curr = x.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            x.count = prev;
            continue;
        }
        if curr < prev {
            x.count = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    Some((merged, forced))
}

/// The quantile and whether monotonicity had to be forced.
fn bucket_quantile(q: f64, buckets: Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    let Some((b, forced)) = prepare(buckets) else {
        return (f64::NAN, false);
    };
    (quantile_of_prepared(q, &b), forced)
}

fn quantile_of_prepared(q: f64, b: &[Bucket]) -> f64 {
    if b.len() < 2 {
        return f64::NAN;
    }
    let observations = b[b.len() - 1].count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let i = b[..b.len() - 1].partition_point(|x| x.count < rank);
    if i == b.len() - 1 {
        return b[b.len() - 2].upper;
    }
    if i == 0 && b[0].upper <= 0.0 {
        return b[0].upper;
    }
    let mut start = 0.0;
    let end = b[i].upper;
    let mut count = b[i].count;
    if i > 0 {
        start = b[i - 1].upper;
        count -= b[i - 1].count;
        rank -= b[i - 1].count;
    }
    start + (end - start) * (rank / count)
}

fn bucket_fraction(lower: f64, upper: f64, buckets: Vec<Bucket>) -> f64 {
    let Some((b, _)) = prepare(buckets) else {
        return f64::NAN;
    };
    let total = b[b.len() - 1].count;
    if total == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, None, None);
    for (i, x) in b.iter().enumerate() {
        let count = if i == 0 {
            x.count
        } else {
            x.count - b[i - 1].count
        };
        // The lowest bucket starts at 0 when its bound is positive. A bound
        // inside a bucket reaching to an infinity is not interpolated: it
        // moves to the bucket's finite edge.
        let lo = match i {
            0 if x.upper > 0.0 => 0.0,
            0 => f64::NEG_INFINITY,
            _ => b[i - 1].upper,
        };
        let hi = x.upper;
        if lower_rank.is_none() && lo >= lower {
            lower_rank = Some(rank);
        }
        if upper_rank.is_none() && lo >= upper {
            upper_rank = Some(rank);
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        let rank_at = |bound: f64| {
            if hi == f64::INFINITY {
                rank
            } else if lo == f64::NEG_INFINITY {
                rank + count
            } else {
                rank + count * (bound - lo) / (hi - lo)
            }
        };
        if lower_rank.is_none() && lo < lower && hi > lower {
            lower_rank = Some(rank_at(lower));
        }
        if upper_rank.is_none() && lo < upper && hi > upper {
            upper_rank = Some(rank_at(upper));
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        rank += count;
    }
    let lr = lower_rank.filter(|r| *r <= total).unwrap_or(total);
    let ur = upper_rank.filter(|r| *r <= total).unwrap_or(total);
    (ur - lr) / total
}

fn out(labels: Labels, v: f64) -> Elem {
    Elem {
        labels,
        v,
        t: 0,
        drop_name: true,
    }
}

/// Warns when a quantile is outside [0, 1] or NaN.
pub(crate) fn check_quantile(ctx: &Ctx, q: f64, span: Span) {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        ctx.annotate(annotations::invalid_quantile(q, span));
    }
}

/// `histogram_quantile` (one quantile, `label` None) and
/// `histogram_quantiles` (each quantile's series get `label` set to the
/// quantile): every quantile for every histogram, quantile by quantile.
pub(crate) fn histogram_quantiles(
    ctx: &Ctx,
    qs: &[f64],
    label: Option<&str>,
    v: &Vector,
    span: Span,
) -> Vector {
    let groups: Vec<(Labels, Vec<Bucket>)> = group(ctx, v, span)
        .into_iter()
        .filter(|(_, b)| !b.is_empty())
        .collect();
    let mut result = Vec::with_capacity(qs.len() * groups.len());
    for &q in qs {
        for (l, b) in &groups {
            let (value, forced) = bucket_quantile(q, b.clone());
            if forced {
                let name = l.get(METRIC_NAME).unwrap_or("");
                ctx.annotate(annotations::forced_monotonicity(name, span));
            }
            let mut labels = l.clone();
            if let Some(name) = label {
                labels.set(name, &format_openmetrics_float(q));
            }
            result.push(out(labels, value));
        }
    }
    result
}

pub(crate) fn histogram_fraction(
    ctx: &Ctx,
    lower: f64,
    upper: f64,
    v: &Vector,
    span: Span,
) -> Vector {
    group(ctx, v, span)
        .into_iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(l, b)| out(l, bucket_fraction(lower, upper, b)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper, count)| Bucket { upper, count })
            .collect()
    }

    #[test]
    fn quantile_interpolates_within_bucket() {
        let h = b(&[
            (0.0, 0.0),
            (2.0, 10.0),
            (4.0, 20.0),
            (6.0, 30.0),
            (f64::INFINITY, 30.0),
        ]);
        assert!((bucket_quantile(0.5, h.clone()).0 - 3.0).abs() < 1e-12);
        assert!((bucket_quantile(1.0 / 6.0, h.clone()).0 - 1.0).abs() < 1e-12);
        assert!(bucket_quantile(f64::NAN, h.clone()).0.is_nan());
        assert_eq!(bucket_quantile(-1.0, h.clone()).0, f64::NEG_INFINITY);
        assert!(bucket_quantile(0.5, b(&[(1.0, 3.0)])).0.is_nan());
    }

    #[test]
    fn quantile_forces_monotonicity_and_highest_bucket() {
        let h = b(&[(1.0, 10.0), (2.0, 5.0), (f64::INFINITY, 20.0)]);
        // Bucket le=2 is raised to 10; q=0.99 falls into +Inf: bound of le=2.
        assert_eq!(bucket_quantile(0.99, h), (2.0, true));
    }

    #[test]
    fn fraction_examples() {
        let h = b(&[
            (0.0, 0.0),
            (2.0, 10.0),
            (4.0, 20.0),
            (6.0, 30.0),
            (f64::INFINITY, 30.0),
        ]);
        assert!((bucket_fraction(0.0, 3.5, h.clone()) - 0.5833333333333334).abs() < 1e-12);
        let n = b(&[
            (-3.0, 10.0),
            (-2.0, 12.0),
            (-1.0, 15.0),
            (f64::INFINITY, 100.0),
        ]);
        assert!((bucket_fraction(-4.0, -2.0, n) - 0.02).abs() < 1e-12);
        let p = b(&[(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (f64::INFINITY, 100.0)]);
        assert!((bucket_fraction(0.0, 1.5, p) - 0.02).abs() < 1e-12);
    }
}
