//! How promqltest compares results: floats within promqltest's relative
//! tolerance, vectors and matrices against a script's expected series,
//! error messages and annotations against its `expect` lines, and results
//! printed canonically (for the pushdown and placeholder cross-checks).

use regex::Regex;
use sightline_core::{Labels, is_stale_nan};
use sightline_eval::{Annotation, AnnotationKind, EvalError, Series, Value};

use crate::script::{Eval, MsgMatch};
use crate::series::{SeriesDesc, Slot};

/// promqltest's float comparison: relative 1e-6, NaN equals NaN, the
/// staleness marker equals only itself.
fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 1e-6;
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || diff < MIN_NORMAL {
        return diff < EPSILON * MIN_NORMAL;
    }
    diff / (a.abs() + b.abs()) < EPSILON
}

pub(crate) fn fmt_value(v: &Value) -> String {
    match v {
        Value::Scalar { v, .. } => format!("scalar {v}"),
        Value::String { v, .. } => format!("string {v:?}"),
        Value::Vector(s) => {
            let items: Vec<String> = s.iter().map(|x| format!("{} {}", x.labels, x.v)).collect();
            format!("vector [{}]", items.join(", "))
        }
        Value::Matrix(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|x| {
                    let pts: Vec<String> = x
                        .samples
                        .iter()
                        .map(|p| format!("{}@{}", p.v, p.t))
                        .collect();
                    format!("{} [{}]", x.labels, pts.join(" "))
                })
                .collect();
            format!("matrix [{}]", items.join(", "))
        }
    }
}

fn fmt_expected_series(exp: &[SeriesDesc]) -> String {
    let items: Vec<String> = exp
        .iter()
        .map(|s| {
            let vals: Vec<String> = s
                .slots
                .iter()
                .map(|x| match x {
                    Slot::Value(v) => v.to_string(),
                    Slot::Blank => "_".into(),
                    Slot::Histogram => "{{..}}".into(),
                })
                .collect();
            format!("{} {}", s.labels, vals.join(" "))
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// Expected points of a series given the first time and the spacing.
fn expected_points(s: &SeriesDesc, start: i64, step: i64) -> Vec<(i64, f64)> {
    s.slots
        .iter()
        .enumerate()
        .filter_map(|(i, x)| match x {
            Slot::Value(v) => Some((start + i as i64 * step, *v)),
            _ => None,
        })
        .collect()
}

pub(crate) fn compare_matrix(
    exp: &[SeriesDesc],
    got: &[Series],
    start: i64,
    step: i64,
) -> Result<(), String> {
    let mismatch = || {
        format!(
            "expected {} got matrix {}",
            fmt_expected_series(exp),
            fmt_value(&Value::Matrix(got.to_vec()))
        )
    };
    let nonempty: Vec<&Series> = got.iter().filter(|s| !s.samples.is_empty()).collect();
    if nonempty.len()
        != exp
            .iter()
            .filter(|s| !expected_points(s, start, step).is_empty())
            .count()
    {
        return Err(mismatch());
    }
    for e in exp {
        let want = expected_points(e, start, step);
        if want.is_empty() {
            continue;
        }
        let Some(g) = nonempty.iter().find(|s| s.labels == e.labels) else {
            return Err(mismatch());
        };
        if g.samples.len() != want.len()
            || g.samples
                .iter()
                .zip(&want)
                .any(|(p, (t, v))| p.t != *t || !almost_equal(p.v, *v))
        {
            return Err(mismatch());
        }
    }
    Ok(())
}

/// Compares an instant vector (labels, value) against the expectation.
fn compare_vector(ev: &Eval, got: &[(Labels, f64)], check_order: bool) -> Result<(), String> {
    let render = || {
        let items: Vec<String> = got.iter().map(|(l, v)| format!("{l} {v}")).collect();
        format!(
            "expected {} got vector [{}]",
            fmt_expected_series(&ev.series),
            items.join(", ")
        )
    };
    if ev.scalar.is_some() {
        return Err(format!("expected scalar {:?} got vector", ev.scalar));
    }
    if got.len() != ev.series.len() {
        return Err(render());
    }
    for (i, e) in ev.series.iter().enumerate() {
        let want = match e.slots.as_slice() {
            [Slot::Value(v)] => *v,
            _ => {
                return Err(format!(
                    "expected series {} must have exactly one value",
                    e.labels
                ));
            }
        };
        let found = if check_order {
            got.get(i).filter(|(l, _)| *l == e.labels)
        } else {
            got.iter().find(|(l, _)| *l == e.labels)
        };
        match found {
            Some((_, v)) if almost_equal(*v, want) => {}
            _ => return Err(render()),
        }
    }
    Ok(())
}

pub(crate) fn compare_instant(ev: &Eval, res: &Value) -> Result<(), String> {
    if let Some(s) = &ev.string {
        return match res {
            Value::String { v, .. } if v == s => Ok(()),
            _ => Err(format!("expected string {s:?} got {}", fmt_value(res))),
        };
    }
    if let Some((a, _, step)) = ev.range_vector {
        return match res {
            Value::Matrix(m) => compare_matrix(&ev.series, m, a, step),
            _ => Err(format!("expected range vector got {}", fmt_value(res))),
        };
    }
    match res {
        Value::Scalar { v, .. } => match ev.scalar {
            Some(want) if almost_equal(*v, want) => Ok(()),
            _ => Err(format!(
                "expected {} got scalar {v}",
                ev.scalar.map_or_else(
                    || fmt_expected_series(&ev.series),
                    |s| format!("scalar {s}")
                )
            )),
        },
        Value::Vector(s) => {
            let got: Vec<(Labels, f64)> = s.iter().map(|x| (x.labels.clone(), x.v)).collect();
            compare_vector(ev, &got, ev.ordered)
        }
        Value::Matrix(m) if ev.series.is_empty() && ev.scalar.is_none() && m.is_empty() => Ok(()),
        other => Err(format!(
            "expected {} got {}",
            fmt_expected_series(&ev.series),
            fmt_value(other)
        )),
    }
}

/// The middle step of the range-mode cross-check, compared as an instant
/// result.
pub(crate) fn compare_range_middle(
    ev: &Eval,
    res: &Value,
    t: i64,
    scalar: bool,
) -> Result<(), String> {
    let Value::Matrix(m) = res else {
        return Err(format!("range query gave {}", fmt_value(res)));
    };
    let got: Vec<(Labels, f64)> = m
        .iter()
        .filter_map(|s| {
            s.samples
                .iter()
                .find(|p| p.t == t)
                .map(|p| (s.labels.clone(), p.v))
        })
        .collect();
    if scalar {
        return match (got.as_slice(), ev.scalar) {
            ([(_, v)], Some(want)) if almost_equal(*v, want) => Ok(()),
            _ => Err(format!(
                "range-mode check: expected scalar {:?} got {got:?}",
                ev.scalar
            )),
        };
    }
    compare_vector(ev, &got, false).map_err(|e| format!("range-mode check: {e}"))
}

pub(crate) fn msg_matches(m: &MsgMatch, msg: &str) -> bool {
    match m {
        MsgMatch::Any => true,
        MsgMatch::Exact(s) => s == msg,
        MsgMatch::Regex(r) => Regex::new(r).is_ok_and(|re| re.is_match(msg)),
    }
}

/// Checks warnings and infos the way promqltest does: each `expect` line
/// of a kind must match one of that kind and each of that kind must match
/// a line; `no_*` forbids the kind; unchecked when nothing is said.
pub(crate) fn check_annotations(ev: &Eval, got: &[Annotation]) -> Result<(), String> {
    let exp = &ev.annotations;
    let rendered = |kind: AnnotationKind| -> Vec<String> {
        got.iter()
            .filter(|a| a.kind == kind)
            .map(|a| a.render(&ev.expr))
            .collect()
    };
    let warnings = rendered(AnnotationKind::Warning);
    let infos = rendered(AnnotationKind::Info);
    for (name, required, forbidden, expected, actual) in [
        (
            "warning",
            exp.warn_required,
            exp.no_warn,
            &exp.warn,
            &warnings,
        ),
        ("info", exp.info_required, exp.no_info, &exp.info, &infos),
    ] {
        if (required || !expected.is_empty()) && actual.is_empty() {
            return Err(format!("expected a {name} annotation, got none"));
        }
        if forbidden && !actual.is_empty() {
            return Err(format!("unexpected {name} annotations {actual:?}"));
        }
        if expected.is_empty() {
            continue;
        }
        if let Some(m) = expected
            .iter()
            .find(|m| !actual.iter().any(|a| msg_matches(m, a)))
        {
            return Err(format!(
                "expected a {name} annotation matching {m:?}, got {actual:?}"
            ));
        }
        if let Some(a) = actual
            .iter()
            .find(|a| !expected.iter().any(|m| msg_matches(m, a)))
        {
            return Err(format!("unexpected {name} annotation {a:?}"));
        }
    }
    Ok(())
}

pub(crate) fn error_text(e: &EvalError) -> String {
    e.to_string()
}

/// A result as text with series in label order, for equality.
pub(crate) fn canonical(r: &Result<Value, EvalError>) -> String {
    match r {
        Err(e) => format!("error {e}"),
        Ok(Value::Vector(v)) => {
            let mut items: Vec<String> =
                v.iter().map(|x| format!("{} {}", x.labels, x.v)).collect();
            items.sort();
            format!("vector {items:?}")
        }
        Ok(other) => fmt_value(other),
    }
}
