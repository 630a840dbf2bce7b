//! Functions over range vectors (`rate`, `*_over_time`, `deriv`, ...).
//! Each is applied per series and step to the samples in the window
//! `(ref - range, ref]`; a window without samples yields no point.

use sightline_core::{METRIC_NAME, Sample};
use sightline_promql::functions::{Function as F, GridExactness};

use crate::EvalError;
use crate::annotations;
use crate::ast::{Call, Expr};
use crate::evaluator::{Ev, Matrix, SeriesV};
use crate::functions::{absent_labels, unparen};
use crate::selectors::{RangeInput, eval_subquery, range_selector_input, window};
use crate::util::{kahan_inc, quantile};

/// What a range function sees at one step.
struct Step<'a> {
    samples: &'a [Sample],
    /// The step's evaluation time.
    ts: i64,
    /// The window `(range_start, range_end]`.
    range_start: i64,
    range_end: i64,
    range_ms: i64,
    /// Scalar arguments other than the range vector, in order.
    params: &'a [f64],
}

pub(crate) fn eval_range_call(ev: &Ev, c: &Call, matrix_arg: usize) -> Result<Matrix, EvalError> {
    let func = c.func;
    let name = func.name();
    // Scalar arguments, evaluated on the grid.
    let mut scalar_args: Vec<Vec<f64>> = Vec::new();
    for (i, a) in c.args.iter().enumerate() {
        if i == matrix_arg {
            continue;
        }
        let m = ev.eval_matrix(a)?;
        let mut vals = vec![f64::NAN; ev.num_steps()];
        if let Some(s) = m.first() {
            for p in &s.points {
                let idx = ((p.t - ev.start) / ev.interval.max(1)) as usize;
                if idx < vals.len() {
                    vals[idx] = p.v;
                }
            }
        }
        scalar_args.push(vals);
    }
    if let Some(out) = pushed_down(ev, c, matrix_arg)? {
        return Ok(out);
    }
    let input: RangeInput = match unparen(&c.args[matrix_arg]) {
        Expr::Matrix(ms) => range_selector_input(ev, ms)?,
        Expr::Subquery(sq) => eval_subquery(ev, sq)?.into(),
        _ => {
            return Err(EvalError::bad(format!(
                "expected a range vector in call to {name:?}"
            )));
        }
    };
    // `last_over_time` and `first_over_time` act like an offset and keep
    // the name (the registry's `keeps_name`), unless their input was
    // already marked for its removal (a subquery of a name-dropping
    // expression, under delayed removal); every other function drops it,
    // as Prometheus 3 does.
    let keep_name = func.info().keeps_name;
    let mut out: Matrix = Vec::new();
    let mut params = vec![0.0; scalar_args.len()];
    let base = ev.ctx.samples();
    for s in &input.series {
        let (labels, pts) = (&s.labels, &s.points);
        let mut points = Vec::new();
        for (step, ts) in ev.steps().enumerate() {
            let end = input.window_end(ts);
            let w = window(pts, end, input.range);
            if w.is_empty() {
                continue;
            }
            for (k, vals) in scalar_args.iter().enumerate() {
                params[k] = vals.get(step).copied().unwrap_or(f64::NAN);
            }
            ev.ctx.set_samples(base + w.len() + points.len())?;
            let st = Step {
                samples: w,
                ts,
                range_start: end - input.range,
                range_end: end,
                range_ms: input.range,
                params: &params,
            };
            if func == F::QuantileOverTime {
                let q = params.first().copied().unwrap_or(f64::NAN);
                if q.is_nan() || !(0.0..=1.0).contains(&q) {
                    ev.ctx
                        .annotate(annotations::invalid_quantile(q, c.args[0].span()));
                }
            }
            if let Some(v) = apply(func, &st)? {
                points.push(Sample { t: ts, v });
            }
        }
        if !points.is_empty() {
            note_non_counter(ev, c, matrix_arg, labels);
        }
        if !points.is_empty() {
            ev.ctx.set_samples(base + points.len())?;
            let total = points.len();
            out.push(SeriesV {
                labels: labels.clone(),
                points,
                drop_name: !keep_name || s.drop_name,
            });
            ev.ctx.set_samples(base)?;
            ev.ctx.add_samples(total)?;
        }
    }
    let held: usize = out.iter().map(|s| s.points.len()).sum();
    ev.ctx
        .set_samples(base.saturating_sub(input.samples_held) + held)?;

    if func == F::AbsentOverTime {
        return Ok(absent_over_time(ev, c, &out, matrix_arg));
    }
    Ok(out)
}

/// The grid request for `c` when storage may compute its function on a
/// grid (the registry's `grid` fact) and it is over a plain range selector
/// without `@`.
pub(crate) fn grid_request<'c>(
    ev: &Ev,
    c: &'c Call,
    matrix_arg: usize,
) -> Option<crate::GridRequest<'c>> {
    if c.args.len() != 1 || c.func.info().grid == GridExactness::No {
        return None;
    }
    let Expr::Matrix(ms) = unparen(&c.args[matrix_arg]) else {
        return None;
    };
    if ms.vector.at.is_some() {
        return None;
    }
    let offset = ms.vector.offset.unwrap_or(0);
    Some(crate::GridRequest {
        func: c.func,
        matchers: &ms.vector.matchers,
        range_ms: ms.range,
        start_ms: ev.start - offset,
        end_ms: ev.end - offset,
        step_ms: ev.interval.max(1),
    })
}

/// `rate`/`increase` of a series whose name does not look like a counter's:
/// Prometheus's info annotation.
fn note_non_counter(ev: &Ev, c: &Call, matrix_arg: usize, labels: &sightline_core::Labels) {
    if !matches!(c.func, F::Rate | F::Increase) {
        return;
    }
    let metric = labels.get(METRIC_NAME).unwrap_or("");
    if !metric.is_empty()
        && !["_total", "_sum", "_count", "_bucket"]
            .iter()
            .any(|suffix| metric.ends_with(suffix))
    {
        let span = unparen(&c.args[matrix_arg]).span();
        ev.ctx
            .annotate(annotations::possible_non_counter(metric, span));
    }
}

/// The call computed by storage on the whole grid, when storage can
/// (`Queryable::range_grid`): a grid function over a plain range selector
/// without `@`.
fn pushed_down(ev: &Ev, c: &Call, matrix_arg: usize) -> Result<Option<Matrix>, EvalError> {
    let Some(req) = grid_request(ev, c, matrix_arg) else {
        return Ok(None);
    };
    let Some(answer) = ev.ctx.q.range_grid(&req) else {
        return Ok(None);
    };
    let base = ev.ctx.samples();
    let mut out: Matrix = Vec::new();
    for gs in answer? {
        let points: Vec<Sample> = ev
            .steps()
            .zip(gs.values)
            .filter_map(|(t, v)| v.map(|v| Sample { t, v }))
            .collect();
        if points.is_empty() {
            continue;
        }
        note_non_counter(ev, c, matrix_arg, &gs.labels);
        ev.ctx.add_samples(points.len())?;
        out.push(SeriesV {
            labels: gs.labels,
            points,
            drop_name: true,
        });
    }
    ev.ctx
        .set_samples(base + out.iter().map(|s| s.points.len()).sum::<usize>())?;
    Ok(Some(out))
}

/// `absent_over_time`: 1 at every step where no series had a sample.
fn absent_over_time(ev: &Ev, c: &Call, present: &Matrix, matrix_arg: usize) -> Matrix {
    let steps = ev.num_steps();
    let mut found = vec![false; steps];
    for s in present {
        for p in &s.points {
            let idx = ((p.t - ev.start) / ev.interval.max(1)) as usize;
            if idx < steps {
                found[idx] = true;
            }
        }
    }
    let points: Vec<Sample> = ev
        .steps()
        .zip(found)
        .filter(|(_, f)| !f)
        .map(|(t, _)| Sample { t, v: 1.0 })
        .collect();
    if points.is_empty() {
        return Vec::new();
    }
    vec![SeriesV {
        labels: absent_labels(&c.args[matrix_arg]),
        points,
        drop_name: true,
    }]
}

fn apply(func: F, s: &Step) -> Result<Option<f64>, EvalError> {
    let f = s.samples;
    let n = f.len();
    Ok(match func {
        F::Rate => extrapolated_rate(s, true, true),
        F::Increase => extrapolated_rate(s, true, false),
        F::Delta => extrapolated_rate(s, false, false),
        F::Irate => instant_value(f, true),
        F::Idelta => instant_value(f, false),
        F::AvgOverTime => Some(avg(f)),
        F::CountOverTime => Some(n as f64),
        F::SumOverTime => {
            let (mut sum, mut c) = (0.0, 0.0);
            for p in f {
                (sum, c) = kahan_inc(p.v, sum, c);
            }
            Some(if sum.is_infinite() { sum } else { sum + c })
        }
        F::MinOverTime => Some(compare(f, |cur, m| cur < m || m.is_nan()).1),
        F::MaxOverTime => Some(compare(f, |cur, m| cur > m || m.is_nan()).1),
        F::TsOfMinOverTime => Some(compare(f, |cur, m| cur <= m || m.is_nan()).0 as f64 / 1000.0),
        F::TsOfMaxOverTime => Some(compare(f, |cur, m| cur >= m || m.is_nan()).0 as f64 / 1000.0),
        F::TsOfFirstOverTime => Some(f[0].t as f64 / 1000.0),
        F::TsOfLastOverTime => Some(f[n - 1].t as f64 / 1000.0),
        F::FirstOverTime => Some(f[0].v),
        F::LastOverTime => Some(f[n - 1].v),
        F::PresentOverTime | F::AbsentOverTime => Some(1.0),
        F::QuantileOverTime => {
            let mut vals: Vec<f64> = f.iter().map(|p| p.v).collect();
            Some(quantile(
                s.params.first().copied().unwrap_or(f64::NAN),
                &mut vals,
            ))
        }
        F::StddevOverTime => Some(variance(f).sqrt()),
        F::StdvarOverTime => Some(variance(f)),
        F::MadOverTime if f.iter().any(|p| p.v.is_nan()) => Some(f64::NAN),
        F::MadOverTime => {
            let mut vals: Vec<f64> = f.iter().map(|p| p.v).collect();
            let median = quantile(0.5, &mut vals);
            let mut dev: Vec<f64> = f.iter().map(|p| (p.v - median).abs()).collect();
            Some(quantile(0.5, &mut dev))
        }
        F::Changes => {
            let mut changes = 0;
            for w in f.windows(2) {
                if w[1].v != w[0].v && !(w[1].v.is_nan() && w[0].v.is_nan()) {
                    changes += 1;
                }
            }
            Some(f64::from(changes))
        }
        F::Resets => {
            let mut resets = 0;
            for w in f.windows(2) {
                if w[1].v < w[0].v {
                    resets += 1;
                }
            }
            Some(f64::from(resets))
        }
        F::Deriv => {
            if n < 2 {
                None
            } else {
                Some(linear_regression(f, f[0].t).0)
            }
        }
        F::PredictLinear => {
            if n < 2 {
                None
            } else {
                let duration = s.params.first().copied().unwrap_or(f64::NAN);
                let (slope, intercept) = linear_regression(f, s.ts);
                Some(slope * duration + intercept)
            }
        }
        F::DoubleExponentialSmoothing => double_exponential_smoothing(s)?,
        other => {
            return Err(EvalError::unsupported(format!(
                "function {:?}",
                other.name()
            )));
        }
    })
}

/// Prometheus's `rate`/`increase`/`delta`: the change over the window,
/// corrected for counter resets, extrapolated towards the window's edges
/// (to an edge when the nearest sample is within 110% of the average
/// sample spacing, else by half a spacing; for counters never below zero).
fn extrapolated_rate(s: &Step, is_counter: bool, is_rate: bool) -> Option<f64> {
    let f = s.samples;
    if f.len() < 2 {
        return None;
    }
    let n_minus_one = (f.len() - 1) as f64;
    let first = f[0];
    let last = f[f.len() - 1];
    let mut result = last.v - first.v;
    if is_counter {
        for w in f.windows(2) {
            if w[1].v < w[0].v {
                result += w[0].v;
            }
        }
    }
    let mut duration_to_start = (first.t - s.range_start) as f64 / 1000.0;
    let mut duration_to_end = (s.range_end - last.t) as f64 / 1000.0;
    let sampled_interval = (last.t - first.t) as f64 / 1000.0;
    let average_between = sampled_interval / n_minus_one;
    let threshold = average_between * 1.1;
    if duration_to_start >= threshold {
        duration_to_start = average_between / 2.0;
    }
    if is_counter {
        let mut duration_to_zero = duration_to_start;
        if result > 0.0 && first.v >= 0.0 {
            duration_to_zero = sampled_interval * (first.v / result);
        }
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    if duration_to_end >= threshold {
        duration_to_end = average_between / 2.0;
    }
    let mut factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    if is_rate {
        factor /= s.range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate`/`idelta`: from the last two samples.
fn instant_value(f: &[Sample], is_rate: bool) -> Option<f64> {
    if f.len() < 2 {
        return None;
    }
    let a = f[f.len() - 2];
    let b = f[f.len() - 1];
    let interval = b.t - a.t;
    if interval == 0 {
        return None;
    }
    let mut result = b.v;
    if !is_rate || b.v >= a.v || b.v.is_nan() || a.v.is_nan() {
        result = b.v - a.v;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// Mean with compensated summation, switching to an incremental mean if
/// the sum would overflow.
fn avg(f: &[Sample]) -> f64 {
    let (mut sum, mut count) = (f[0].v, 1.0);
    let (mut mean, mut c) = (0.0, 0.0);
    let mut incremental = false;
    for (i, p) in f[1..].iter().enumerate() {
        count = (i + 2) as f64;
        if !incremental {
            let (ns, nc) = kahan_inc(p.v, sum, c);
            if !ns.is_infinite() {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(p.v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// Picks the sample preferred by `better(current, best)`: (time, value).
fn compare(f: &[Sample], better: impl Fn(f64, f64) -> bool) -> (i64, f64) {
    let (mut t, mut m) = (f[0].t, f[0].v);
    for p in f {
        if better(p.v, m) {
            m = p.v;
            t = p.t;
        }
    }
    (t, m)
}

/// Population variance (Welford, compensated).
fn variance(f: &[Sample]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in f {
        count += 1.0;
        let delta = p.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Least-squares fit with `x` in seconds relative to `intercept_time`:
/// (slope, value at `intercept_time`).
fn linear_regression(f: &[Sample], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = f[0].v;
    let mut const_y = true;
    for (i, p) in f.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(p.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * p.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

fn double_exponential_smoothing(s: &Step) -> Result<Option<f64>, EvalError> {
    let sf = s.params.first().copied().unwrap_or(f64::NAN);
    let tf = s.params.get(1).copied().unwrap_or(f64::NAN);
    if sf <= 0.0 || sf >= 1.0 {
        return Err(EvalError::exec(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
        )));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(EvalError::exec(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
        )));
    }
    let f = s.samples;
    if f.len() < 2 {
        return Ok(None);
    }
    let (mut s0, mut s1) = (0.0, f[0].v);
    let mut b = f[1].v - f[0].v;
    for (i, p) in f.iter().enumerate().skip(1) {
        let x = sf * p.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Ok(Some(s1))
}
