//! Function calls. Functions over a range vector are evaluated per series
//! and step in [`range`]; `label_replace`/`label_join` work on whole series
//! in [`labels`]; every other function is applied step by step to instant
//! vectors here. Functions that need native histograms (a fact of the
//! function registry), and experimental ones not implemented, are refused.

mod date;
mod histogram;
mod labels;
pub(crate) mod range;

use sightline_core::{Labels, METRIC_NAME, MatchOp};
use sightline_promql::functions::Function as F;

use crate::EvalError;
use crate::annotations;
use crate::ast::{Call, Expr};
use crate::evaluator::{Elem, Ev, Matrix, SeriesV, Vector};
use crate::selectors::select_instant;
use crate::types::check_call;
use crate::util::cmp_nan_first;

/// Experimental functions Sightline does not evaluate.
fn not_evaluated(func: F) -> bool {
    matches!(func, F::Info | F::StartTimestamp)
}

/// Strips parentheses, as Prometheus does for function arguments.
pub(crate) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren { expr, .. } = e {
        e = expr;
    }
    e
}

/// The value of a string-literal argument.
pub(crate) fn string_arg(e: &Expr) -> Result<&str, EvalError> {
    match unparen(e) {
        Expr::String { value, .. } => Ok(value),
        _ => Err(EvalError::bad("expected a string literal argument")),
    }
}

pub(crate) fn eval_call(ev: &Ev, c: &Call) -> Result<Matrix, EvalError> {
    let func = c.func;
    let name = func.name();
    if func.info().native_histograms_only {
        // Select the arguments' data first, so that storage sees what the
        // query would have read.
        for a in &c.args {
            ev.eval(a)?;
        }
        return Err(EvalError::unsupported(format!(
            "function {name:?} (native histograms are not supported)"
        )));
    }
    if not_evaluated(func) {
        return Err(EvalError::unsupported(format!("function {name:?}")));
    }
    check_call(func, &c.args)?;
    if !ev.is_instant()
        && matches!(
            func,
            F::Sort | F::SortDesc | F::SortByLabel | F::SortByLabelDesc
        )
    {
        ev.ctx.annotate(annotations::sort_in_range_query(c.span));
    }

    if func == F::Timestamp
        && let Expr::Vector(vs) = unparen(&c.args[0])
    {
        return timestamp_of_selector(ev, vs);
    }
    match func {
        F::LabelReplace => return labels::label_replace(ev, c),
        F::LabelJoin => return labels::label_join(ev, c),
        _ => {}
    }
    if let Some(i) = c
        .args
        .iter()
        .position(|a| matches!(unparen(a), Expr::Matrix(_) | Expr::Subquery(_)))
    {
        return range::eval_range_call(ev, c, i);
    }

    let args: Vec<&Expr> = c.args.iter().map(unparen).collect();
    let strings: Vec<Option<String>> = args
        .iter()
        .map(|a| match a {
            Expr::String { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect();
    ev.range_eval(&args, |vals, ts| {
        instant_fn(ev, func, vals, &strings, ts, c)
    })
}

/// `timestamp(selector)`: the time of each selected sample, not the step.
fn timestamp_of_selector(ev: &Ev, vs: &crate::ast::VectorSelector) -> Result<Matrix, EvalError> {
    let selected = select_instant(ev, vs)?;
    Ok(selected
        .into_iter()
        .map(|s| SeriesV {
            labels: s.labels,
            points: s
                .points
                .into_iter()
                .map(|(ts, t, _)| sightline_core::Sample {
                    t: ts,
                    v: t as f64 / 1000.0,
                })
                .collect(),
            drop_name: true,
        })
        .collect())
}

/// Maps every element's value, marking the name for removal.
fn map_values(v: &Vector, f: impl Fn(f64) -> f64) -> Vector {
    v.iter()
        .map(|e| Elem {
            labels: e.labels.clone(),
            v: f(e.v),
            t: e.t,
            drop_name: true,
        })
        .collect()
}

fn scalar_arg(vals: &[Vector], i: usize) -> f64 {
    vals.get(i)
        .and_then(|v| v.first())
        .map_or(f64::NAN, |e| e.v)
}

/// Go's `math.Max`: NaN wins.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: NaN wins.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn single(labels: Labels, v: f64, ts: i64) -> Vector {
    vec![Elem {
        labels,
        v,
        t: ts,
        drop_name: false,
    }]
}

fn instant_fn(
    ev: &Ev,
    func: F,
    vals: &[Vector],
    strings: &[Option<String>],
    ts: i64,
    c: &Call,
) -> Result<Vector, EvalError> {
    let v0 = || vals.first().cloned().unwrap_or_default();
    let out = match func {
        F::Abs => map_values(&v0(), f64::abs),
        F::Ceil => map_values(&v0(), f64::ceil),
        F::Floor => map_values(&v0(), f64::floor),
        F::Exp => map_values(&v0(), f64::exp),
        F::Sqrt => map_values(&v0(), f64::sqrt),
        F::Ln => map_values(&v0(), f64::ln),
        F::Log2 => map_values(&v0(), f64::log2),
        F::Log10 => map_values(&v0(), f64::log10),
        F::Sin => map_values(&v0(), f64::sin),
        F::Cos => map_values(&v0(), f64::cos),
        F::Tan => map_values(&v0(), f64::tan),
        F::Asin => map_values(&v0(), f64::asin),
        F::Acos => map_values(&v0(), f64::acos),
        F::Atan => map_values(&v0(), f64::atan),
        F::Sinh => map_values(&v0(), f64::sinh),
        F::Cosh => map_values(&v0(), f64::cosh),
        F::Tanh => map_values(&v0(), f64::tanh),
        F::Asinh => map_values(&v0(), f64::asinh),
        F::Acosh => map_values(&v0(), f64::acosh),
        F::Atanh => map_values(&v0(), f64::atanh),
        F::Rad => map_values(&v0(), |x| x * std::f64::consts::PI / 180.0),
        F::Deg => map_values(&v0(), |x| x * 180.0 / std::f64::consts::PI),
        F::Sgn => map_values(&v0(), |x| {
            if x < 0.0 {
                -1.0
            } else if x > 0.0 {
                1.0
            } else {
                x
            }
        }),
        F::Clamp => clamp(&v0(), scalar_arg(vals, 1), scalar_arg(vals, 2)),
        F::ClampMin => clamp(&v0(), scalar_arg(vals, 1), f64::INFINITY),
        F::ClampMax => clamp(&v0(), f64::NEG_INFINITY, scalar_arg(vals, 1)),
        F::Round => {
            let to_nearest = if vals.len() >= 2 {
                scalar_arg(vals, 1)
            } else {
                1.0
            };
            let inv = 1.0 / to_nearest;
            map_values(&v0(), |x| (x * inv + 0.5).floor() / inv)
        }
        F::Scalar => {
            let v = v0();
            let val = if v.len() == 1 { v[0].v } else { f64::NAN };
            single(Labels::empty(), val, ts)
        }
        F::Vector => single(Labels::empty(), scalar_arg(vals, 0), ts),
        F::Time => single(Labels::empty(), ts as f64 / 1000.0, ts),
        F::Pi => single(Labels::empty(), std::f64::consts::PI, ts),
        F::Start => single(Labels::empty(), ev.ctx.query_start as f64 / 1000.0, ts),
        F::End => single(Labels::empty(), ev.ctx.query_end as f64 / 1000.0, ts),
        F::Range => single(
            Labels::empty(),
            (ev.ctx.query_end - ev.ctx.query_start) as f64 / 1000.0,
            ts,
        ),
        F::Step => single(Labels::empty(), ev.ctx.query_step as f64 / 1000.0, ts),
        F::MinOf => single(
            Labels::empty(),
            go_min(scalar_arg(vals, 0), scalar_arg(vals, 1)),
            ts,
        ),
        F::MaxOf => single(
            Labels::empty(),
            go_max(scalar_arg(vals, 0), scalar_arg(vals, 1)),
            ts,
        ),
        F::Timestamp => map_values(&v0(), |_| 0.0)
            .into_iter()
            .map(|mut e| {
                e.v = e.t as f64 / 1000.0;
                e
            })
            .collect(),
        F::Sort => {
            let mut v = v0();
            // Descending with NaN first, reversed: ascending, NaN last.
            v.sort_by(|a, b| cmp_nan_first_desc(a.v, b.v));
            v.reverse();
            v
        }
        F::SortDesc => {
            let mut v = v0();
            v.sort_by(|a, b| cmp_nan_first(a.v, b.v));
            v.reverse();
            v
        }
        F::SortByLabel | F::SortByLabelDesc => {
            let names: Vec<String> = strings.iter().skip(1).flatten().cloned().collect();
            labels::sort_by_label(v0(), &names, func == F::SortByLabelDesc)
        }
        F::Absent => {
            if v0().is_empty() {
                single(absent_labels(&c.args[0]), 1.0, ts)
            } else {
                Vec::new()
            }
        }
        F::HistogramQuantile => {
            let q = scalar_arg(vals, 0);
            histogram::check_quantile(ev.ctx, q, c.args[0].span());
            histogram::histogram_quantiles(ev.ctx, &[q], None, &vals[1], c.args[1].span())
        }
        F::HistogramQuantiles => {
            let label = strings.get(1).cloned().flatten().unwrap_or_default();
            let qs: Vec<f64> = (2..vals.len()).map(|i| scalar_arg(vals, i)).collect();
            for (i, q) in qs.iter().enumerate() {
                histogram::check_quantile(ev.ctx, *q, c.args[i + 2].span());
            }
            histogram::histogram_quantiles(ev.ctx, &qs, Some(&label), &vals[0], c.args[0].span())
        }
        F::HistogramFraction => histogram::histogram_fraction(
            ev.ctx,
            scalar_arg(vals, 0),
            scalar_arg(vals, 1),
            &vals[2],
            c.args[2].span(),
        ),
        F::DaysInMonth
        | F::DayOfMonth
        | F::DayOfWeek
        | F::DayOfYear
        | F::Hour
        | F::Minute
        | F::Month
        | F::Year => date::date_fn(func, vals.first(), ts)?,
        other => {
            return Err(EvalError::unsupported(format!(
                "function {:?}",
                other.name()
            )));
        }
    };
    Ok(out)
}

/// Orders by value descending with NaN first (Prometheus's reverse heap).
fn cmp_nan_first_desc(a: f64, b: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
    }
}

fn clamp(v: &Vector, min: f64, max: f64) -> Vector {
    if max < min {
        return Vec::new();
    }
    map_values(v, |x| go_max(min, go_min(max, x)))
}

/// The labels `absent()` reports: those fixed by equality matchers that
/// appear once (a label matched twice is left out), `__name__` excluded.
pub(crate) fn absent_labels(arg: &Expr) -> Labels {
    let matchers = match unparen(arg) {
        Expr::Vector(vs) => &vs.matchers,
        Expr::Matrix(ms) => &ms.vector.matchers,
        _ => return Labels::empty(),
    };
    let mut out = Labels::empty();
    let mut seen: Vec<&str> = Vec::new();
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !seen.contains(&m.name.as_str()) {
            out.set(&m.name, &m.value);
            seen.push(&m.name);
        } else {
            out.set(&m.name, "");
        }
    }
    out
}
