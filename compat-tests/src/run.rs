//! Runs a parsed script against the evaluator over [`MemStorage`] (or, with
//! a [`HotTier`], over ClickHouse: every `load` is inserted there and every
//! selection is read back through the ClickHouse tier's SQL), and compares
//! results the way Prometheus's promqltest does, including its implicit
//! re-runs of instant evals: with `@` pinned selectors at other times, and
//! as a range query around the eval time.

use std::cell::{Cell, RefCell};

use regex::Regex;
use sightline_core::{Labels, Matcher, Sample, TenantId, is_stale_nan, matches_all};
use sightline_eval::{
    AggGridRequest, Annotation, AnnotationKind, EvalError, GridRequest, GridSeries, MemStorage,
    QueryOptions, Queryable, Series, Value, eval_instant, eval_instant_with_annotations,
    eval_range, eval_range_with_annotations,
};
use sightline_plan::Selection;
use sightline_promql::ast::{At, Expr};

use crate::script::{Cmd, Eval, EvalKind, MsgMatch};
use crate::series::{SeriesDesc, Slot};

pub enum Outcome {
    Pass,
    Fail(String),
    /// The case needs native histograms.
    Skip,
}

/// Storage plus the native-histogram samples (which are not stored, only
/// their series and times): a selection whose time window holds one of
/// them marks the eval as a native-histogram case.
///
/// `with_placeholders` holds the float samples plus a placeholder float at
/// every native-histogram sample: an eval whose answer is the same with and
/// without the placeholders does not depend on native histograms and is
/// run; otherwise it is skipped.
struct Store<'a> {
    hot: Option<HotScope<'a>>,
    mem: MemStorage,
    with_placeholders: MemStorage,
    use_placeholders: Cell<bool>,
    native: Vec<(Labels, Vec<i64>)>,
    touched_native: Cell<bool>,
}

/// The value standing in for a native histogram sample.
const PLACEHOLDER: f64 = 9_876_543.21;

/// ClickHouse as the storage of a run: each script's data goes to tenants
/// of its own (a new one after every `clear`).
pub struct HotTier {
    pub ch: sightline_clickhouse::ClickHouse,
    pub rt: tokio::runtime::Runtime,
    runs: Cell<u64>,
    /// Range-function calls ClickHouse computed (each checked against the
    /// raw-sample evaluation).
    pub pushed_total: Cell<usize>,
}

impl HotTier {
    pub fn new(ch: sightline_clickhouse::ClickHouse, rt: tokio::runtime::Runtime) -> Self {
        HotTier {
            ch,
            rt,
            runs: Cell::new(0),
            pushed_total: Cell::new(0),
        }
    }

    fn next_tenant(&self) -> TenantId {
        let n = self.runs.get() + 1;
        self.runs.set(n);
        TenantId::new(format!("script{}-{n}", std::process::id())).expect("valid tenant")
    }
}

struct HotScope<'a> {
    tier: &'a HotTier,
    tenant: RefCell<TenantId>,
    loads: Cell<u64>,
    /// Answers ClickHouse gave since the last load, by selection: the
    /// runner's re-runs of an eval repeat selections, and the data does
    /// not change between loads.
    answers: RefCell<std::collections::HashMap<String, Vec<Series>>>,
    /// Whether range functions are computed by ClickHouse (pushdown).
    pushdown: Cell<bool>,
    /// Range-function calls ClickHouse computed so far.
    pushed: Cell<usize>,
}

impl HotScope<'_> {
    fn insert(&self, series: &[(Labels, Vec<Sample>)]) {
        let n = self.loads.get() + 1;
        self.loads.set(n);
        self.answers.borrow_mut().clear();
        let tenant = self.tenant.borrow().clone();
        let batch: Vec<_> = series
            .iter()
            .map(|(labels, samples)| sightline_clickhouse::SeriesBatch { labels, samples })
            .collect();
        let token = format!("{tenant}-load{n}");
        if let Err(e) = self
            .tier
            .rt
            .block_on(self.tier.ch.insert_metrics(&tenant, &batch, &token))
        {
            panic!("loading into clickhouse: {e}");
        }
    }

    fn select(&self, matchers: &[Matcher], start: i64, end: i64) -> Result<Vec<Series>, EvalError> {
        let key = format!(
            "{:?} {start} {end}",
            matchers
                .iter()
                .map(|m| (&m.name, m.op, &m.value))
                .collect::<Vec<_>>()
        );
        if let Some(hit) = self.answers.borrow().get(&key) {
            return Ok(hit.clone());
        }
        let sel = Selection::new(self.tenant.borrow().clone(), matchers.to_vec(), start, end)
            .map_err(|e| EvalError::BadQuery(e.to_string()))?;
        let rows = self
            .tier
            .rt
            .block_on(self.tier.ch.select(&sel))
            .map_err(|e| EvalError::Storage(e.to_string()))?;
        let out: Vec<Series> = rows
            .into_iter()
            .map(|(labels, samples)| Series { labels, samples })
            .collect();
        self.answers.borrow_mut().insert(key, out.clone());
        Ok(out)
    }
}

impl HotScope<'_> {
    /// The selection and grid of a request, when pushdown is on.
    fn grid_of(
        &self,
        req: &GridRequest<'_>,
    ) -> Option<Result<(Selection, sightline_clickhouse::Grid), EvalError>> {
        if !self.pushdown.get() {
            return None;
        }
        let start = req.start_ms - req.range_ms + 1;
        let sel = match Selection::new(
            self.tenant.borrow().clone(),
            req.matchers.to_vec(),
            start,
            req.end_ms,
        ) {
            Ok(s) => s,
            Err(e) => return Some(Err(EvalError::BadQuery(e.to_string()))),
        };
        let grid = sightline_clickhouse::Grid {
            start_ms: req.start_ms,
            end_ms: req.end_ms,
            step_ms: req.step_ms,
            range_ms: req.range_ms,
        };
        Some(Ok((sel, grid)))
    }

    /// Counts a pushed-down call and converts its answer.
    fn pushed<E: std::fmt::Display>(
        &self,
        answer: Result<Vec<(Labels, Vec<Option<f64>>)>, E>,
    ) -> Result<Vec<GridSeries>, EvalError> {
        self.pushed.set(self.pushed.get() + 1);
        self.tier.pushed_total.set(self.tier.pushed_total.get() + 1);
        answer
            .map(|rows| {
                rows.into_iter()
                    .map(|(labels, values)| GridSeries { labels, values })
                    .collect()
            })
            .map_err(|e| EvalError::Storage(e.to_string()))
    }

    fn range_grid(&self, req: &GridRequest<'_>) -> Option<Result<Vec<GridSeries>, EvalError>> {
        let (sel, grid) = match self.grid_of(req)? {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let answer = self
            .tier
            .rt
            .block_on(self.tier.ch.grid(&sel, req.func, grid))?;
        Some(self.pushed(answer))
    }

    fn aggregate_grid(
        &self,
        req: &AggGridRequest<'_>,
    ) -> Option<Result<Vec<GridSeries>, EvalError>> {
        let (sel, grid) = match self.grid_of(&req.inner)? {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let grouping = sightline_clickhouse::Grouping {
            without: req.without,
            labels: req.grouping,
        };
        let answer = self.tier.rt.block_on(self.tier.ch.grid_aggregate(
            &sel,
            req.inner.func,
            grid,
            req.op,
            grouping,
        ))?;
        Some(self.pushed(answer))
    }
}

impl Store<'_> {
    fn add_native(&mut self, labels: &Labels, t: i64) {
        match self.native.iter_mut().find(|(l, _)| l == labels) {
            Some((_, ts)) => ts.push(t),
            None => self.native.push((labels.clone(), vec![t])),
        }
        self.with_placeholders
            .add(labels.clone(), [Sample { t, v: PLACEHOLDER }]);
    }
}

impl Store<'_> {
    /// ClickHouse for a pushed-down request, unless this is the placeholder
    /// run or the window holds native-histogram samples (which are seen,
    /// and the case skipped, only through `select`).
    fn hot_for(&self, req: &GridRequest<'_>) -> Option<&HotScope<'_>> {
        let h = self.hot.as_ref()?;
        if self.use_placeholders.get() {
            return None;
        }
        let lo = req.start_ms - req.range_ms + 1;
        if self.native.iter().any(|(l, ts)| {
            matches_all(req.matchers, l) && ts.iter().any(|t| (lo..=req.end_ms).contains(t))
        }) {
            return None;
        }
        Some(h)
    }
}

impl Queryable for Store<'_> {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, EvalError> {
        if self.native.iter().any(|(l, ts)| {
            matches_all(matchers, l) && ts.iter().any(|t| (start_ms..=end_ms).contains(t))
        }) {
            self.touched_native.set(true);
        }
        if self.use_placeholders.get() {
            return self.with_placeholders.select(matchers, start_ms, end_ms);
        }
        match &self.hot {
            Some(h) => h.select(matchers, start_ms, end_ms),
            None => self.mem.select(matchers, start_ms, end_ms),
        }
    }

    fn range_grid(&self, req: &GridRequest<'_>) -> Option<Result<Vec<GridSeries>, EvalError>> {
        self.hot_for(req)?.range_grid(req)
    }

    fn aggregate_grid(
        &self,
        req: &AggGridRequest<'_>,
    ) -> Option<Result<Vec<GridSeries>, EvalError>> {
        self.hot_for(&req.inner)?.aggregate_grid(req)
    }
}

fn options() -> QueryOptions {
    QueryOptions {
        lookback_delta_ms: 5 * 60 * 1000,
        max_samples: 10_000,
        default_subquery_step_ms: 60 * 1000,
        // What Prometheus's own test runner sets.
        delayed_name_removal: true,
    }
}

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

fn load(store: &mut Store<'_>, step: i64, nhcb: bool, series: &[SeriesDesc]) {
    let mut hot_rows = Vec::new();
    for s in series {
        let mut samples = Vec::new();
        for (i, slot) in s.slots.iter().enumerate() {
            match slot {
                Slot::Value(v) => samples.push(Sample {
                    t: i as i64 * step,
                    v: *v,
                }),
                Slot::Histogram => store.add_native(&s.labels, i as i64 * step),
                Slot::Blank => {}
            }
        }
        if !samples.is_empty() {
            store
                .with_placeholders
                .add(s.labels.clone(), samples.clone());
            if store.hot.is_some() {
                hot_rows.push((s.labels.clone(), samples.clone()));
            }
            store.mem.add(s.labels.clone(), samples);
        }
        if nhcb {
            // Classic `X_bucket`/`X_count`/`X_sum` series also become a
            // native histogram `X`.
            let name = s.labels.get("__name__").unwrap_or("");
            let base = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suf| name.strip_suffix(suf));
            if let Some(base) = base {
                let mut l = s.labels.clone();
                l.set("le", "");
                l.set("__name__", base);
                for (i, slot) in s.slots.iter().enumerate() {
                    if matches!(slot, Slot::Value(_)) {
                        store.add_native(&l, i as i64 * step);
                    }
                }
            }
        }
    }
    if let Some(h) = &store.hot {
        if !hot_rows.is_empty() {
            h.insert(&hot_rows);
        }
    }
}

fn fmt_value(v: &Value) -> String {
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

fn compare_matrix(exp: &[SeriesDesc], got: &[Series], start: i64, step: i64) -> Result<(), String> {
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

fn compare_instant(ev: &Eval, res: &Value) -> Result<(), String> {
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
fn compare_range_middle(ev: &Eval, res: &Value, t: i64, scalar: bool) -> Result<(), String> {
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

fn msg_matches(m: &MsgMatch, msg: &str) -> bool {
    match m {
        MsgMatch::Any => true,
        MsgMatch::Exact(s) => s == msg,
        MsgMatch::Regex(r) => Regex::new(r).is_ok_and(|re| re.is_match(msg)),
    }
}

/// Checks warnings and infos the way promqltest does: each `expect` line
/// of a kind must match one of that kind and each of that kind must match
/// a line; `no_*` forbids the kind; unchecked when nothing is said.
fn check_annotations(ev: &Eval, got: &[Annotation]) -> Result<(), String> {
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

fn error_text(e: &EvalError) -> String {
    e.to_string()
}

/// Functions whose result depends on the evaluation time itself, which
/// excludes an eval from the `@` re-runs.
const AT_UNSAFE: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "end",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "range",
    "start",
    "step",
    "time",
    "timestamp",
];

fn calls_at_unsafe(e: &Expr) -> bool {
    match e {
        Expr::Call(c) => AT_UNSAFE.contains(&c.func.as_str()) || c.args.iter().any(calls_at_unsafe),
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => calls_at_unsafe(expr),
        Expr::Subquery(s) => calls_at_unsafe(&s.expr),
        Expr::Binary(b) => calls_at_unsafe(&b.lhs) || calls_at_unsafe(&b.rhs),
        Expr::Aggregate(a) => {
            calls_at_unsafe(&a.expr) || a.param.as_deref().is_some_and(calls_at_unsafe)
        }
        _ => false,
    }
}

/// Pins every selector and subquery without `@` to `t`, not descending
/// into subqueries that are (or become) pinned.
fn pin_at(e: &mut Expr, t: i64) {
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
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => pin_at(expr, t),
        Expr::Binary(b) => {
            pin_at(&mut b.lhs, t);
            pin_at(&mut b.rhs, t);
        }
        Expr::Aggregate(a) => {
            pin_at(&mut a.expr, t);
            if let Some(p) = a.param.as_deref_mut() {
                pin_at(p, t);
            }
        }
        Expr::Call(c) => {
            for a in &mut c.args {
                pin_at(a, t);
            }
        }
        Expr::Number { .. } | Expr::String { .. } => {}
    }
}

fn run_eval(store: &Store, ev: &Eval) -> Outcome {
    store.touched_native.set(false);
    if ev.series.iter().any(|s| s.slots.contains(&Slot::Histogram)) {
        return Outcome::Skip;
    }
    let opts = options();
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
    let pushed_before = store.hot.as_ref().map_or(0, |h| h.pushed.get());
    let (result, annotations) = evaluate();
    // With pushdown used, the same eval from raw samples must agree exactly.
    if let Some(h) = &store.hot
        && h.pushed.get() > pushed_before
    {
        h.pushdown.set(false);
        let (raw, raw_annotations) = evaluate();
        h.pushdown.set(true);
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
    if store.touched_native.get() && depends_on_native(store, ev, &expr, &result, &annotations) {
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
    store: &Store,
    ev: &Eval,
    expr: &Expr,
    without: &Result<Value, EvalError>,
    without_annotations: &[Annotation],
) -> bool {
    let exp = &ev.annotations;
    if exp.warn_required || exp.info_required || !exp.warn.is_empty() || !exp.info.is_empty() {
        return true;
    }
    let opts = options();
    store.use_placeholders.set(true);
    let with = match ev.kind {
        EvalKind::Instant { at } => eval_instant_with_annotations(expr, at, &opts, store),
        EvalKind::Range { start, end, step } => {
            eval_range_with_annotations(expr, start, end, step, &opts, store)
        }
    };
    store.use_placeholders.set(false);
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

/// A result as text with series in label order, for equality.
fn canonical(r: &Result<Value, EvalError>) -> String {
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
    store: &Store,
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

/// Runs a script; returns each eval's line and outcome.
pub fn run_script(cmds: &[Cmd], hot: Option<&HotTier>) -> Vec<(usize, Outcome)> {
    let mut store = Store {
        hot: hot.map(|tier| HotScope {
            tier,
            tenant: RefCell::new(tier.next_tenant()),
            loads: Cell::new(0),
            answers: RefCell::new(std::collections::HashMap::new()),
            pushdown: Cell::new(true),
            pushed: Cell::new(0),
        }),
        mem: MemStorage::new(),
        with_placeholders: MemStorage::new(),
        use_placeholders: Cell::new(false),
        native: Vec::new(),
        touched_native: Cell::new(false),
    };
    let mut out = Vec::new();
    for c in cmds {
        match c {
            Cmd::Clear => {
                if let Some(h) = &store.hot {
                    *h.tenant.borrow_mut() = h.tier.next_tenant();
                    h.answers.borrow_mut().clear();
                }
                store.mem.clear();
                store.with_placeholders.clear();
                store.native.clear();
            }
            Cmd::Load { step, nhcb, series } => load(&mut store, *step, *nhcb, series),
            Cmd::Eval(ev) => out.push((ev.line, run_eval(&store, ev))),
        }
    }
    out
}
