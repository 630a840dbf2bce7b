//! Runs a parsed script against the evaluator over a [`ScriptStorage`]
//! (in memory or, with a [`HotTier`], ClickHouse: every `load` is inserted
//! there and every selection is read back through the ClickHouse tier's
//! SQL), and compares results the way Prometheus's promqltest does,
//! including its implicit re-runs of instant evals: with `@` pinned
//! selectors at other times, and as a range query around the eval time.
//! Every eval ClickHouse computed part of is evaluated again from raw
//! samples, and must agree exactly.

use sightline_eval::{
    Annotation, EvalError, QueryOptions, Value, eval_instant, eval_instant_with_annotations,
    eval_range, eval_range_with_annotations,
};
use sightline_promql::ast::{At, Expr};
use sightline_promql::functions::Function;

use crate::compare::{
    canonical, check_annotations, compare_instant, compare_matrix, compare_range_middle,
    error_text, fmt_value, msg_matches,
};
use crate::script::{Cmd, Eval, EvalKind};
use crate::series::Slot;
use crate::storage::{HotTier, ScriptStorage};

pub enum Outcome {
    Pass,
    Fail(String),
    /// The case needs native histograms.
    Skip,
}

/// Prometheus's test engine settings; name removal is delayed there, and
/// immediate (as Prometheus runs out of the box) when `delayed` is false.
fn options(delayed: bool) -> QueryOptions {
    QueryOptions {
        lookback_delta_ms: 5 * 60 * 1000,
        max_samples: 10_000,
        default_subquery_step_ms: 60 * 1000,
        delayed_name_removal: delayed,
        zero_division_nan: false,
    }
}

/// Functions whose result depends on the evaluation time itself, which
/// excludes an eval from the `@` re-runs.
const AT_UNSAFE: &[Function] = &[
    Function::DaysInMonth,
    Function::DayOfMonth,
    Function::DayOfWeek,
    Function::DayOfYear,
    Function::End,
    Function::Hour,
    Function::Minute,
    Function::Month,
    Function::Year,
    Function::PredictLinear,
    Function::Range,
    Function::Start,
    Function::Step,
    Function::Time,
    Function::Timestamp,
];

fn calls_at_unsafe(e: &Expr) -> bool {
    e.walk()
        .any(|node| matches!(node, Expr::Call(c) if AT_UNSAFE.contains(&c.func)))
}

/// Pins every selector and subquery without `@` to `t`, not descending
/// into subqueries that are (or become) pinned. The nodes wait on a work
/// list, so a chain of any length costs no stack.
fn pin_at(e: &mut Expr, t: i64) {
    let mut todo: Vec<&mut Expr> = vec![e];
    while let Some(e) = todo.pop() {
        match e {
            Expr::Vector(v) => {
                if v.at.is_none() {
                    v.at = Some(At::Timestamp(t));
                }
            }
            Expr::Matrix(m) => {
                if m.vector.at.is_none() {
                    m.vector.at = Some(At::Timestamp(t));
                }
            }
            Expr::Subquery(s) => {
                if s.at.is_none() {
                    s.at = Some(At::Timestamp(t));
                }
            }
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => todo.push(expr),
            Expr::Binary(b) => {
                todo.push(&mut b.lhs);
                todo.push(&mut b.rhs);
            }
            Expr::Aggregate(a) => {
                todo.push(&mut a.expr);
                if let Some(p) = a.param.as_deref_mut() {
                    todo.push(p);
                }
            }
            Expr::Call(c) => todo.extend(c.args.iter_mut()),
            Expr::Number { .. } | Expr::String { .. } => {}
        }
    }
}

fn run_eval(store: &ScriptStorage<'_>, ev: &Eval) -> Outcome {
    store.begin_eval();
    if ev.series.iter().any(|s| s.slots.contains(&Slot::Histogram)) {
        return Outcome::Skip;
    }
    let opts = options(store.delayed_name_removal);
    let expr = match sightline_promql::parse(&ev.expr) {
        Ok(e) => e,
        Err(e) if ev.fail.is_none() && e.message.contains("native-histogram") => {
            return Outcome::Skip;
        }
        Err(e) => {
            // Prometheus raises some of these errors only when the query
            // runs, without a position: the bare message must match too.
            return match &ev.fail {
                Some(m) if msg_matches(m, &e.to_string()) || msg_matches(m, &e.message) => {
                    Outcome::Pass
                }
                _ => Outcome::Fail(format!("parse error: {e}")),
            };
        }
    };
    let evaluate = || {
        let run = match ev.kind {
            EvalKind::Instant { at } => eval_instant_with_annotations(&expr, at, &opts, store),
            EvalKind::Range { start, end, step } => {
                eval_range_with_annotations(&expr, start, end, step, &opts, store)
            }
        };
        match run {
            Ok((v, a)) => (Ok(v), a),
            Err(e) => (Err(e), Vec::new()),
        }
    };
    let pushed_before = store.pushed();
    let (result, annotations) = evaluate();
    // With pushdown used, the same eval from raw samples must agree exactly.
    if store.pushed() > pushed_before {
        store.set_pushdown(false);
        let (raw, raw_annotations) = evaluate();
        store.set_pushdown(true);
        let (a, b) = (canonical(&result), canonical(&raw));
        if a != b || annotations.len() != raw_annotations.len() {
            return Outcome::Fail(format!(
                "pushdown differs from raw-sample evaluation: pushdown {a} ({} annotations), raw {b} ({} annotations)",
                annotations.len(),
                raw_annotations.len()
            ));
        }
    }
    let outcome = check_main(ev, &result);
    if store.touched_native() && depends_on_native(store, ev, &expr, &result, &annotations) {
        return Outcome::Skip;
    }
    if let Outcome::Fail(_) = outcome {
        return outcome;
    }
    if ev.fail.is_some() {
        return outcome;
    }
    if let Err(e) = check_annotations(ev, &annotations) {
        return Outcome::Fail(e);
    }
    let EvalKind::Instant { at } = ev.kind else {
        return Outcome::Pass;
    };
    match extra_checks(store, ev, &expr, at, &opts) {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e),
    }
}

/// Whether an eval that read native-histogram samples depends on them:
/// its answer or annotations change when those samples take part as
/// placeholder floats, it needs a construct only native histograms have,
/// or it expects warnings or infos (which then concern the histograms).
fn depends_on_native(
    store: &ScriptStorage<'_>,
    ev: &Eval,
    expr: &Expr,
    without: &Result<Value, EvalError>,
    without_annotations: &[Annotation],
) -> bool {
    let exp = &ev.annotations;
    if exp.warn_required || exp.info_required || !exp.warn.is_empty() || !exp.info.is_empty() {
        return true;
    }
    let opts = options(store.delayed_name_removal);
    store.set_placeholders(true);
    let with = match ev.kind {
        EvalKind::Instant { at } => eval_instant_with_annotations(expr, at, &opts, store),
        EvalKind::Range { start, end, step } => {
            eval_range_with_annotations(expr, start, end, step, &opts, store)
        }
    };
    store.set_placeholders(false);
    let (with, with_annotations) = match with {
        Ok((v, a)) => (Ok(v), a),
        Err(e) => (Err(e), Vec::new()),
    };
    let unsupported = |r: &Result<Value, EvalError>| matches!(r, Err(EvalError::Unsupported(_)));
    unsupported(&with)
        || unsupported(without)
        || canonical(&with) != canonical(without)
        || with_annotations != without_annotations
}

fn check_main(ev: &Eval, result: &Result<Value, EvalError>) -> Outcome {
    match (&ev.fail, result) {
        (Some(m), Err(e)) => {
            if msg_matches(m, &error_text(e)) {
                Outcome::Pass
            } else {
                Outcome::Fail(format!(
                    "expected error matching {m:?} got error {:?}",
                    error_text(e)
                ))
            }
        }
        (Some(_), Ok(v)) => Outcome::Fail(format!("expected an error got {}", fmt_value(v))),
        (None, Err(e)) => Outcome::Fail(format!("expected a result got error {:?}", error_text(e))),
        (None, Ok(v)) => {
            let r = match ev.kind {
                EvalKind::Instant { .. } => compare_instant(ev, v),
                EvalKind::Range { start, end, step } => match v {
                    Value::Matrix(m) => {
                        let too_long = ev.series.iter().any(|s| {
                            start + (s.slots.len() as i64 - 1) * step > end && !s.slots.is_empty()
                        });
                        if too_long {
                            Err("expected series has more values than steps".to_string())
                        } else {
                            compare_matrix(&ev.series, m, start, step)
                        }
                    }
                    other => Err(format!("range query gave {}", fmt_value(other))),
                },
            };
            match r {
                Ok(()) => Outcome::Pass,
                Err(e) => Outcome::Fail(e),
            }
        }
    }
}

fn extra_checks(
    store: &ScriptStorage<'_>,
    ev: &Eval,
    expr: &Expr,
    at: i64,
    opts: &QueryOptions,
) -> Result<(), String> {
    let range_check = ev.range_vector.is_none()
        && ev.string.is_none()
        && !ev.ordered
        && !["start()", "end()", "range()", "step()"]
            .iter()
            .any(|f| ev.expr.contains(f));
    let mut cases: Vec<(Expr, i64)> = vec![(expr.clone(), at)];
    if !calls_at_unsafe(expr) {
        let mut pinned = expr.clone();
        pin_at(&mut pinned, at);
        let times = if at == 0 {
            vec![-1000, 0, 1000]
        } else {
            vec![-10 * at, 0, at / 5, at, 10 * at]
        };
        for t in times {
            let (res, annotations) = eval_instant_with_annotations(&pinned, t, opts, store)
                .map_err(|e| format!("@ re-run at {t}ms: error {e}"))?;
            check_annotations(ev, &annotations).map_err(|e| format!("@ re-run at {t}ms: {e}"))?;
            compare_instant(ev, &res).map_err(|e| format!("@ re-run at {t}ms: {e}"))?;
            cases.push((pinned.clone(), t));
        }
    }
    if range_check {
        for (e, t) in cases {
            let scalar = matches!(eval_instant(&e, t, opts, store), Ok(Value::Scalar { .. }));
            let res = eval_range(&e, t - 60_000, t + 60_000, 60_000, opts, store)
                .map_err(|err| format!("range-mode check at {t}ms: error {err}"))?;
            compare_range_middle(ev, &res, t, scalar)?;
        }
    }
    Ok(())
}

/// Runs a script, with `__name__` removal delayed (as Prometheus's test
/// runner does) or immediate; returns each eval's line and outcome.
pub fn run_script(
    cmds: &[Cmd],
    hot: Option<&HotTier>,
    delayed_name_removal: bool,
) -> Vec<(usize, Outcome)> {
    let mut store = ScriptStorage::new(hot, delayed_name_removal);
    let mut out = Vec::new();
    for c in cmds {
        match c {
            Cmd::Clear => store.clear(),
            Cmd::Load { step, nhcb, series } => store.load(*step, *nhcb, series),
            Cmd::Eval(ev) => out.push((ev.line, run_eval(&store, ev))),
        }
    }
    out
}
