//! A range aggregation on the step grid: each step `t` aggregates the
//! samples extracted from the entries in `(t - offset - range, t - offset]`,
//! per series, with the functions of Loki's `range_vector.go`.

use std::collections::HashMap;

use sightline_core::{Label, Labels, LogStream, MatchOp};
use sightline_logql::ast::{RangeAggregation, RangeOp};

use super::{QueryError, pipeline_error};
use crate::pipeline::SampleExtractor;

/// The steps of a query, in nanoseconds: `start, start + step, … <= end`
/// (one step when `step_ns` is 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steps {
    pub start_ns: i64,
    pub end_ns: i64,
    pub step_ns: i64,
}

impl Steps {
    pub(crate) fn iter(self) -> impl Iterator<Item = i64> {
        let step = self.step_ns;
        let mut t = Some(self.start_ns);
        std::iter::from_fn(move || {
            let cur = t?;
            if cur > self.end_ns {
                return None;
            }
            t = if step > 0 {
                cur.checked_add(step)
            } else {
                None
            };
            Some(cur)
        })
    }
}

/// One series of a range aggregation: its labels and a value per step
/// where the window held samples (timestamps in milliseconds, as Loki
/// answers them).
pub(crate) type LeafSeries = (Labels, Vec<(i64, f64)>);

/// Computes one range aggregation over `streams` on `steps`.
pub(crate) fn eval_range(
    ra: &RangeAggregation,
    streams: &[LogStream],
    steps: Steps,
    now_ns: i64,
) -> Result<Vec<LeafSeries>, QueryError> {
    let range = ra.range.range_ns;
    let offset = ra.range.offset_ns;
    // The samples any step can see: (start - offset - range, end - offset].
    let lo = steps.start_ns.saturating_sub(offset).saturating_sub(range);
    let hi = steps.end_ns.saturating_sub(offset);
    let ex = SampleExtractor::new(&ra.range, ra.op, ra.grouping.as_ref(), now_ns)?;
    let mut series: HashMap<Labels, Vec<(i64, f64)>> = HashMap::new();
    for s in streams {
        let mut sx = ex.for_stream(&s.labels);
        let from = s.entries.partition_point(|e| e.ts_ns <= lo);
        for e in &s.entries[from..] {
            if e.ts_ns > hi {
                break;
            }
            let md: Vec<(String, String)> = e
                .metadata
                .iter()
                .map(|Label { name, value }| (name.clone(), value.clone()))
                .collect();
            if let Some((v, labels)) = sx.process(e.ts_ns, &e.line, &md) {
                series.entry(labels).or_default().push((e.ts_ns, v));
            }
        }
    }
    for samples in series.values_mut() {
        // Streams merged into one series interleave; stable keeps the
        // order of equal times.
        samples.sort_by_key(|x| x.0);
    }
    if ra.op == RangeOp::AbsentOverTime {
        return Ok(absent(ra, &series, steps));
    }
    let mut out = Vec::with_capacity(series.len());
    let range_secs = range as f64 / 1e9;
    for (labels, samples) in series {
        let mut points = Vec::new();
        for t in steps.iter() {
            let end = t.saturating_sub(offset);
            let start = end.saturating_sub(range);
            let a = samples.partition_point(|x| x.0 <= start);
            let b = samples.partition_point(|x| x.0 <= end);
            if a >= b {
                continue;
            }
            let w = &samples[a..b];
            let v = aggregate(ra.op, ra.param, w, range_secs, end, range);
            points.push((t.div_euclid(1_000_000), v));
        }
        if points.is_empty() {
            continue;
        }
        if labels.get("__error__").is_some_and(|e| !e.is_empty())
            && labels.get("__preserve_error__") != Some("true")
        {
            return Err(pipeline_error(&labels));
        }
        out.push((labels, points));
    }
    Ok(out)
}

/// `absent_over_time`: 1 at each step whose window holds no sample of any
/// series, labelled with the selector's equality matchers (those whose
/// name no other matcher uses).
fn absent(
    ra: &RangeAggregation,
    series: &HashMap<Labels, Vec<(i64, f64)>>,
    steps: Steps,
) -> Vec<LeafSeries> {
    let range = ra.range.range_ns;
    let offset = ra.range.offset_ns;
    let mut points = Vec::new();
    for t in steps.iter() {
        let end = t.saturating_sub(offset);
        let start = end.saturating_sub(range);
        let any = series.values().any(|samples| {
            let a = samples.partition_point(|x| x.0 <= start);
            a < samples.len() && samples[a].0 <= end
        });
        if !any {
            points.push((t.div_euclid(1_000_000), 1.0));
        }
    }
    if points.is_empty() {
        return Vec::new();
    }
    let ms = &ra.range.log.matchers;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for m in ms {
        if m.op != MatchOp::Equal {
            continue;
        }
        if ms.iter().filter(|o| o.name == m.name).count() > 1 {
            continue;
        }
        pairs.push((&m.name, &m.value));
    }
    let labels = Labels::from_pairs(pairs).unwrap_or_default();
    vec![(labels, points)]
}

/// One window's value.
fn aggregate(
    op: RangeOp,
    param: Option<f64>,
    w: &[(i64, f64)],
    range_secs: f64,
    end: i64,
    range: i64,
) -> f64 {
    let values = || w.iter().map(|x| x.1);
    match op {
        RangeOp::CountOverTime => w.len() as f64,
        // Without unwrap each line's value is 1, so the sum is the count.
        RangeOp::Rate => values().sum::<f64>() / range_secs,
        RangeOp::RateCounter => extrapolated_rate(w, range, end),
        RangeOp::BytesOverTime => values().sum(),
        RangeOp::BytesRate => values().sum::<f64>() / range_secs,
        RangeOp::SumOverTime => values().sum(),
        RangeOp::AvgOverTime => {
            let (mut mean, mut count) = (0.0f64, 0.0f64);
            for v in values() {
                count += 1.0;
                if mean.is_infinite() {
                    if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                        continue;
                    }
                    if !v.is_infinite() && !v.is_nan() {
                        continue;
                    }
                }
                mean += v / count - mean / count;
            }
            mean
        }
        RangeOp::MaxOverTime => {
            values().fold(w[0].1, |m, v| if v > m || m.is_nan() { v } else { m })
        }
        RangeOp::MinOverTime => {
            values().fold(w[0].1, |m, v| if v < m || m.is_nan() { v } else { m })
        }
        RangeOp::StdvarOverTime | RangeOp::StddevOverTime => {
            let (mut aux, mut count, mut mean) = (0.0f64, 0.0f64, 0.0f64);
            for v in values() {
                count += 1.0;
                let delta = v - mean;
                mean += delta / count;
                aux += delta * (v - mean);
            }
            let var = aux / count;
            if op == RangeOp::StddevOverTime {
                var.sqrt()
            } else {
                var
            }
        }
        RangeOp::QuantileOverTime => quantile(param.unwrap_or(f64::NAN), values().collect()),
        RangeOp::FirstOverTime => w[0].1,
        RangeOp::LastOverTime => w[w.len() - 1].1,
        RangeOp::AbsentOverTime => 1.0,
    }
}

/// Loki's `Quantile`: NaN sorts first; linear interpolation between the
/// two ranks around `q * (n - 1)`.
fn quantile(q: f64, mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    v.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = v.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    v[lower as usize] * (1.0 - weight) + v[upper as usize] * weight
}

/// `rate_counter`: Prometheus's extrapolated counter rate, with the
/// window's own bounds `(end - range, end]` and times in nanoseconds, as
/// Loki computes it. Fewer than two samples give 0.
fn extrapolated_rate(w: &[(i64, f64)], range: i64, end: i64) -> f64 {
    if w.len() < 2 {
        return 0.0;
    }
    let start = end - range;
    let (first, last) = (w[0], w[w.len() - 1]);
    let mut result = last.1 - first.1;
    let mut prev = 0.0;
    for &(_, v) in w {
        if v < prev {
            result += prev;
        }
        prev = v;
    }
    let mut to_start = (first.0 - start) as f64 / 1e9;
    let mut to_end = (end - last.0) as f64 / 1e9;
    let sampled = (last.0 - first.0) as f64 / 1e9;
    let avg_gap = sampled / (w.len() - 1) as f64;
    let threshold = avg_gap * 1.1;
    if to_start >= threshold {
        to_start = avg_gap / 2.0;
    }
    let mut to_zero = to_start;
    if result > 0.0 && first.1 >= 0.0 {
        to_zero = sampled * (first.1 / result);
    }
    if to_zero < to_start {
        to_start = to_zero;
    }
    if to_end >= threshold {
        to_end = avg_gap / 2.0;
    }
    let interval = sampled + to_start + to_end;
    result * (interval / sampled) / (range as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_and_bound() {
        assert_eq!(quantile(0.5, vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(quantile(0.25, vec![1.0, 2.0, 3.0, 4.0, 5.0]), 2.0);
        assert_eq!(quantile(0.9, vec![1.0, 2.0]), 1.9);
        assert_eq!(quantile(-1.0, vec![1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, vec![1.0]), f64::INFINITY);
        assert!(quantile(0.5, vec![]).is_nan());
        // NaN sorts first.
        assert_eq!(quantile(1.0, vec![f64::NAN, 1.0]), 1.0);
        assert!(quantile(0.0, vec![5.0, f64::NAN]).is_nan());
    }

    #[test]
    fn counter_rates_extrapolate_within_the_window() {
        let s = 1_000_000_000i64;
        // 0, 10, 20 at 10s, 20s, 30s of a (0, 40s] window: both gaps to
        // the bounds (10s) are under 1.1 x the average gap (10s), but the
        // counter's zero point is the first sample itself, so the start
        // is not extended: 20 x (20 + 0 + 10) / 20 over 40s.
        let w = [(10 * s, 0.0), (20 * s, 10.0), (30 * s, 20.0)];
        let r = extrapolated_rate(&w, 40 * s, 40 * s);
        assert!((r - 0.75).abs() < 1e-12, "{r}");
        // A reset adds the value before it.
        let w = [(10 * s, 5.0), (20 * s, 2.0)];
        let r = extrapolated_rate(&w, 20 * s, 20 * s);
        assert!(r > 0.0);
        assert_eq!(extrapolated_rate(&w[..1], 20 * s, 20 * s), 0.0);
    }

    #[test]
    fn steps_include_both_ends() {
        let st = Steps {
            start_ns: 0,
            end_ns: 10,
            step_ns: 5,
        };
        assert_eq!(st.iter().collect::<Vec<_>>(), vec![0, 5, 10]);
        let one = Steps {
            start_ns: 7,
            end_ns: 7,
            step_ns: 0,
        };
        assert_eq!(one.iter().collect::<Vec<_>>(), vec![7]);
    }
}
