//! Aggregation operators. Input series are assigned to groups once (by
//! their `by` labels, or all labels but the `without` ones and `__name__`);
//! then each step aggregates the group members that have a point there.
//! `topk`, `bottomk`, `limitk` and `limit_ratio` keep whole input series.

mod heap;

use std::collections::HashMap;

use sightline_core::gofmt::format_f;
use sightline_core::{Labels, Sample};

use crate::EvalError;
use crate::annotations;
use crate::ast::{AggOp, AggregateExpr, Expr, Span};
use crate::evaluator::{Elem, Ev, Matrix, SeriesV};
use crate::functions::{go_max, go_min, string_arg, unparen};
use crate::util::{go_quote, kahan_inc, keep_labels, match_labels, quantile};

use heap::{Heap, HeapOrder};

/// The labels of the group a series belongs to.
fn group_labels(l: &Labels, without: bool, grouping: &[String]) -> Labels {
    if without {
        match_labels(l, false, grouping)
    } else if grouping.is_empty() {
        Labels::empty()
    } else {
        keep_labels(l, grouping)
    }
}

/// Per-step values of an aggregation's parameter.
struct Params {
    values: Vec<f64>,
}

impl Params {
    fn eval(ev: &Ev, p: Option<&Expr>) -> Result<Params, EvalError> {
        let n = ev.num_steps();
        let Some(p) = p else {
            return Ok(Params {
                values: vec![0.0; n],
            });
        };
        if let Expr::Number { value, .. } = unparen(p) {
            return Ok(Params {
                values: vec![*value; n],
            });
        }
        let m = ev.eval_matrix(p)?;
        let mut values = vec![f64::NAN; n];
        if let Some(s) = m.first() {
            for pt in &s.points {
                let i = ((pt.t - ev.start) / ev.interval.max(1)) as usize;
                if i < n {
                    values[i] = pt.v;
                }
            }
        }
        Ok(Params { values })
    }

    fn max(&self) -> f64 {
        self.values.iter().copied().fold(f64::NEG_INFINITY, go_max)
    }

    fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, go_min)
    }

    fn has_nan(&self) -> bool {
        self.values.iter().any(|v| v.is_nan())
    }
}

pub(crate) fn eval_aggregate(ev: &Ev, a: &AggregateExpr) -> Result<Matrix, EvalError> {
    let (without, mut grouping) = match &a.grouping {
        Some(g) => (g.without, g.labels.clone()),
        None => (false, Vec::new()),
    };
    grouping.sort();
    if a.op == AggOp::CountValues {
        return count_values(ev, a, without, grouping);
    }
    let original = ev.ctx.samples();
    if let Some(out) = pushed_down(ev, a, without, &grouping)? {
        let total: usize = out.iter().map(|s| s.points.len()).sum();
        ev.ctx.set_samples(original + total)?;
        return Ok(out);
    }
    let params = Params::eval(ev, a.param.as_deref())?;
    let input = ev.eval_matrix(&a.expr)?;

    // Assign series to groups.
    let mut group_index: HashMap<Labels, usize> = HashMap::new();
    let mut group_of = Vec::with_capacity(input.len());
    let mut result: Matrix = Vec::new();
    let k_op = matches!(
        a.op,
        AggOp::Topk | AggOp::Bottomk | AggOp::Limitk | AggOp::LimitRatio
    );
    for s in &input {
        let gl = group_labels(&s.labels, without, &grouping);
        let n = group_index.len();
        let idx = *group_index.entry(gl.clone()).or_insert(n);
        if idx == n && !k_op {
            result.push(SeriesV {
                labels: gl,
                points: Vec::new(),
                drop_name: false,
            });
        }
        group_of.push(idx);
    }
    let n_groups = group_index.len();

    let result = if k_op {
        aggregate_k(ev, a, &params, &input, &group_of, n_groups)?
    } else {
        aggregate_simple(ev, a.op, &params, &input, &group_of, result)?
    };
    if a.op == AggOp::Quantile
        && let Some(p) = a.param.as_deref()
    {
        warn_invalid_quantiles(ev, &params, &result, p.span());
    }
    let total: usize = result.iter().map(|s| s.points.len()).sum();
    ev.ctx.set_samples(original + total)?;
    Ok(result)
}

/// The aggregation computed by storage (`Queryable::aggregate_grid`):
/// `count` or `group` over a pushed-down range function, and `sum`, `min`
/// or `max` over one whose values are whole numbers (never NaN, and any
/// summation order gives the same float), grouped by labels other than
/// `__name__`.
fn pushed_down(
    ev: &Ev,
    a: &AggregateExpr,
    without: bool,
    grouping: &[String],
) -> Result<Option<Matrix>, EvalError> {
    let Some(needs) = a.op.grid_input() else {
        return Ok(None);
    };
    if a.param.is_some() || grouping.iter().any(|g| g == sightline_core::METRIC_NAME) {
        return Ok(None);
    }
    let Expr::Call(c) = unparen(&a.expr) else {
        return Ok(None);
    };
    let Some(inner) = crate::functions::range::grid_request(ev, c, 0) else {
        return Ok(None);
    };
    if inner.func.info().grid < needs {
        return Ok(None);
    }
    // One metric name: dropping it cannot make two series' labels equal,
    // which the raw route would refuse.
    if !inner
        .matchers
        .iter()
        .any(|m| m.name == sightline_core::METRIC_NAME && m.op == sightline_core::MatchOp::Equal)
    {
        return Ok(None);
    }
    let req = crate::AggGridRequest {
        op: a.op,
        without,
        grouping,
        inner,
    };
    let Some(answer) = ev.ctx.q.aggregate_grid(&req) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for g in answer? {
        let points: Vec<Sample> = ev
            .steps()
            .zip(g.values)
            .filter_map(|(t, v)| v.map(|v| Sample { t, v }))
            .collect();
        if !points.is_empty() {
            out.push(SeriesV {
                labels: g.labels,
                points,
                drop_name: false,
            });
        }
    }
    Ok(Some(out))
}

/// Warns about each out-of-range quantile used at a step that produced
/// output.
fn warn_invalid_quantiles(ev: &Ev, params: &Params, result: &Matrix, span: Span) {
    for (step, ts) in ev.steps().enumerate() {
        let q = params.values.get(step).copied().unwrap_or(f64::NAN);
        if !q.is_nan() && (0.0..=1.0).contains(&q) {
            continue;
        }
        if result.iter().any(|s| s.points.iter().any(|p| p.t == ts)) {
            ev.ctx.annotate(annotations::invalid_quantile(q, span));
        }
    }
}

/// State of one group at one step.
#[derive(Clone, Default)]
struct Group {
    seen: bool,
    value: f64,
    mean: f64,
    kahan_c: f64,
    count: f64,
    incremental_mean: bool,
    values: Vec<f64>,
    drop_name: bool,
}

fn aggregate_simple(
    ev: &Ev,
    op: AggOp,
    params: &Params,
    input: &Matrix,
    group_of: &[usize],
    mut result: Matrix,
) -> Result<Matrix, EvalError> {
    let mut cursors = vec![0usize; input.len()];
    let mut groups = vec![Group::default(); result.len()];
    for (step, ts) in ev.steps().enumerate() {
        for g in &mut groups {
            g.seen = false;
        }
        for (si, s) in input.iter().enumerate() {
            let c = &mut cursors[si];
            while *c < s.points.len() && s.points[*c].t < ts {
                *c += 1;
            }
            if *c >= s.points.len() || s.points[*c].t != ts {
                continue;
            }
            let f = s.points[*c].v;
            *c += 1;
            let g = &mut groups[group_of[si]];
            if !g.seen {
                *g = Group {
                    seen: true,
                    value: f,
                    mean: f,
                    count: 1.0,
                    drop_name: s.drop_name,
                    ..Group::default()
                };
                match op {
                    AggOp::Stddev | AggOp::Stdvar => {
                        g.value = if f.is_nan() || f.is_infinite() {
                            f64::NAN
                        } else {
                            0.0
                        };
                    }
                    AggOp::Quantile => g.values = vec![f],
                    AggOp::Group => g.value = 1.0,
                    _ => {}
                }
                continue;
            }
            if s.drop_name {
                g.drop_name = true;
            }
            match op {
                AggOp::Sum => (g.value, g.kahan_c) = kahan_inc(f, g.value, g.kahan_c),
                AggOp::Avg => {
                    g.count += 1.0;
                    if !g.incremental_mean {
                        let (nv, nc) = kahan_inc(f, g.value, g.kahan_c);
                        if !nv.is_infinite() {
                            g.value = nv;
                            g.kahan_c = nc;
                            continue;
                        }
                        g.incremental_mean = true;
                        g.mean = g.value / (g.count - 1.0);
                        g.kahan_c /= g.count - 1.0;
                    }
                    let q = (g.count - 1.0) / g.count;
                    (g.mean, g.kahan_c) = kahan_inc(f / g.count, q * g.mean, q * g.kahan_c);
                }
                AggOp::Group => {}
                AggOp::Max => {
                    if g.value < f || g.value.is_nan() {
                        g.value = f;
                    }
                }
                AggOp::Min => {
                    if g.value > f || g.value.is_nan() {
                        g.value = f;
                    }
                }
                AggOp::Count => g.count += 1.0,
                AggOp::Stddev | AggOp::Stdvar => {
                    g.count += 1.0;
                    let delta = f - g.mean;
                    g.mean += delta / g.count;
                    g.value += delta * (f - g.mean);
                }
                AggOp::Quantile => g.values.push(f),
                _ => {
                    return Err(EvalError::bad(format!(
                        "unexpected aggregation {}",
                        op.as_str()
                    )));
                }
            }
        }
        for (ri, g) in groups.iter_mut().enumerate() {
            if !g.seen {
                continue;
            }
            let v = match op {
                AggOp::Avg => {
                    if g.incremental_mean {
                        g.mean + g.kahan_c
                    } else {
                        g.value / g.count + g.kahan_c / g.count
                    }
                }
                AggOp::Count => g.count,
                AggOp::Stdvar => g.value / g.count,
                AggOp::Stddev => (g.value / g.count).sqrt(),
                AggOp::Quantile => quantile(params.values[step], &mut g.values),
                AggOp::Sum => g.value + g.kahan_c,
                _ => g.value,
            };
            result[ri].points.push(Sample { t: ts, v });
            result[ri].drop_name = g.drop_name;
            ev.ctx.add_samples(1)?;
        }
    }
    result.retain(|s| !s.points.is_empty());
    Ok(result)
}

/// Go's float64-to-int64 conversion bounds for `k`.
const MIN_INT64: f64 = -9.223_372_036_854_776e18;
const MAX_INT64: f64 = 9.223_372_036_854_776e18;

/// Whether a series is kept by `limit_ratio(r, ...)`: a stable position in
/// [0, 1) derived from its labels, compared with the ratio.
fn ratio_keeps(r: f64, labels: &Labels) -> bool {
    let offset = labels.stable_hash() as f64 / u64::MAX as f64;
    (r >= 0.0 && offset < r) || (r < 0.0 && offset >= 1.0 + r)
}

fn aggregate_k(
    ev: &Ev,
    a: &AggregateExpr,
    params: &Params,
    input: &Matrix,
    group_of: &[usize],
    n_groups: usize,
) -> Result<Matrix, EvalError> {
    let op = a.op;
    match op {
        AggOp::LimitRatio => {
            if params.max() == 0.0 && params.min() == 0.0 {
                return Ok(Vec::new());
            }
            if params.has_nan() {
                return Err(EvalError::exec("Ratio value is NaN"));
            }
        }
        _ => {
            if params.max() < 1.0 {
                return Ok(Vec::new());
            }
            if params.has_nan() {
                return Err(EvalError::exec("Parameter value is NaN"));
            }
            if params.min() <= MIN_INT64 {
                return Err(EvalError::exec(format!(
                    "Scalar value {} underflows int64",
                    params.min()
                )));
            }
            if params.max() >= MAX_INT64 {
                return Err(EvalError::exec(format!(
                    "Scalar value {} overflows int64",
                    params.max()
                )));
            }
        }
    }
    let order = match op {
        AggOp::Bottomk => HeapOrder::MaxOnTop,
        _ => HeapOrder::MinOnTop,
    };
    let mut out: Matrix = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut cursors = vec![0usize; input.len()];
    for (step, ts) in ev.steps().enumerate() {
        let param = params.values[step];
        let mut heaps: Vec<Option<Heap>> = vec![None; n_groups];
        let k = (param as i64).min(input.len() as i64);
        let ratio = param.clamp(-1.0, 1.0);
        if op == AggOp::LimitRatio
            && ratio != param
            && let Some(p) = a.param.as_deref()
        {
            ev.ctx
                .annotate(annotations::invalid_ratio(param, ratio, p.span()));
        }
        let skip_step = match op {
            AggOp::LimitRatio => param == 0.0,
            _ => k < 1,
        };
        for (si, s) in input.iter().enumerate() {
            let c = &mut cursors[si];
            while *c < s.points.len() && s.points[*c].t < ts {
                *c += 1;
            }
            if *c >= s.points.len() || s.points[*c].t != ts {
                continue;
            }
            let e = Elem {
                labels: s.labels.clone(),
                v: s.points[*c].v,
                t: ts,
                drop_name: s.drop_name,
            };
            *c += 1;
            if skip_step {
                continue;
            }
            let h = heaps[group_of[si]].get_or_insert_with(|| Heap::new(order));
            match op {
                AggOp::Topk => {
                    if (h.len() as i64) < k {
                        h.push(e);
                    } else if let Some(top) = h.top()
                        && (top.v < e.v || (top.v.is_nan() && !e.v.is_nan()))
                    {
                        h.replace_top(e, k > 1);
                    }
                }
                AggOp::Bottomk => {
                    if (h.len() as i64) < k {
                        h.push(e);
                    } else if let Some(top) = h.top()
                        && (top.v > e.v || (top.v.is_nan() && !e.v.is_nan()))
                    {
                        h.replace_top(e, k > 1);
                    }
                }
                AggOp::Limitk => {
                    if (h.len() as i64) < k {
                        h.push(e);
                    }
                }
                _ => {
                    if ratio_keeps(ratio, &e.labels) {
                        h.push(e);
                    }
                }
            }
        }
        for h in heaps.into_iter().flatten() {
            let elems = match op {
                AggOp::Topk | AggOp::Bottomk => h.into_sorted(),
                _ => h.into_vec(),
            };
            for e in elems {
                ev.ctx.add_samples(1)?;
                if ev.is_instant() {
                    out.push(SeriesV {
                        labels: e.labels,
                        points: vec![Sample { t: ts, v: e.v }],
                        drop_name: e.drop_name,
                    });
                    continue;
                }
                match index.get(&e.labels) {
                    Some(&i) => out[i].points.push(Sample { t: ts, v: e.v }),
                    None => {
                        index.insert(e.labels.clone(), out.len());
                        out.push(SeriesV {
                            labels: e.labels,
                            points: vec![Sample { t: ts, v: e.v }],
                            drop_name: e.drop_name,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

fn count_values(
    ev: &Ev,
    a: &AggregateExpr,
    without: bool,
    mut grouping: Vec<String>,
) -> Result<Matrix, EvalError> {
    let param = a
        .param
        .as_deref()
        .ok_or_else(|| EvalError::bad("count_values needs a label name parameter"))?;
    let label = string_arg(param)?.to_string();
    if label.is_empty() {
        return Err(EvalError::exec(format!(
            "invalid label name {}",
            go_quote(&label)
        )));
    }
    if !without {
        grouping.push(label.clone());
        grouping.sort();
    }
    ev.range_eval(&[&a.expr], |vals, ts| {
        let mut order: Vec<Labels> = Vec::new();
        let mut counts: HashMap<Labels, usize> = HashMap::new();
        for e in &vals[0] {
            let mut l = e.labels.clone();
            l.set(&label, &format_f(e.v));
            let gl = group_labels(&l, without, &grouping);
            let c = counts.entry(gl.clone()).or_insert(0);
            if *c == 0 {
                order.push(gl);
            }
            *c += 1;
        }
        Ok(order
            .into_iter()
            .map(|l| {
                let v = counts.get(&l).copied().unwrap_or(0) as f64;
                Elem {
                    labels: l,
                    v,
                    t: ts,
                    drop_name: false,
                }
            })
            .collect())
    })
}
