//! The evaluation grid. Every expression is evaluated over the steps
//! `start, start + interval, ... <= end` of an [`Ev`] and yields a matrix
//! whose points sit on those steps (an instant query is the one-step case),
//! exactly as Prometheus's engine does. Subqueries evaluate their inner
//! expression on a grid of their own.
//!
//! `__name__` removal: operations that change a value's meaning mark series
//! with `drop_name`; [`Ev::eval`] removes the names right after that node
//! unless removal is delayed, in which case [`finish`] removes them once, at
//! the end, merging series that then share a label set.

use std::cell::Cell;
use std::collections::HashMap;

use sightline_core::{Labels, Sample};

use crate::annotations::{Annotation, Collector};
use crate::ast::{At, Expr, UnaryOp, ValueType};
use crate::types::value_type;
use crate::util::drop_metadata;
use crate::{EvalError, InstantSample, QueryOptions, Queryable, Series, Value};

pub(crate) const DUPLICATE_LABELSET: &str = "vector cannot contain metrics with the same labelset";

/// Query-wide state shared by every grid of one query.
pub(crate) struct Ctx<'a> {
    pub q: &'a dyn Queryable,
    pub lookback: i64,
    pub max_samples: usize,
    pub subquery_step: i64,
    /// The query's own start and end, which `@ start()` and `@ end()` name.
    pub query_start: i64,
    pub query_end: i64,
    /// The range query's step (0 for an instant query), which `step()` names.
    pub query_step: i64,
    /// See [`QueryOptions::delayed_name_removal`].
    pub delayed_name_removal: bool,
    /// See [`QueryOptions::zero_division_nan`].
    pub zero_division_nan: bool,
    samples: Cell<usize>,
    /// Warnings and infos raised so far.
    pub annotations: Collector,
}

impl<'a> Ctx<'a> {
    pub fn new(
        opts: &QueryOptions,
        q: &'a dyn Queryable,
        query_start: i64,
        query_end: i64,
        query_step: i64,
    ) -> Self {
        let lookback = if opts.lookback_delta_ms <= 0 {
            QueryOptions::default().lookback_delta_ms
        } else {
            opts.lookback_delta_ms
        };
        let subquery_step = if opts.default_subquery_step_ms <= 0 {
            QueryOptions::default().default_subquery_step_ms
        } else {
            opts.default_subquery_step_ms
        };
        Ctx {
            q,
            lookback,
            max_samples: opts.max_samples,
            subquery_step,
            query_start,
            query_end,
            query_step,
            delayed_name_removal: opts.delayed_name_removal,
            zero_division_nan: opts.zero_division_nan,
            samples: Cell::new(0),
            annotations: Collector::default(),
        }
    }

    /// Records a warning or info.
    pub fn annotate(&self, a: Annotation) {
        self.annotations.add(a);
    }

    /// Samples currently held by the query.
    pub fn samples(&self) -> usize {
        self.samples.get()
    }

    /// Sets the count of samples held (after a node releases its inputs).
    pub fn set_samples(&self, n: usize) -> Result<(), EvalError> {
        self.samples.set(n);
        if n > self.max_samples {
            return Err(EvalError::TooManySamples);
        }
        Ok(())
    }

    /// Counts `n` more samples held.
    pub fn add_samples(&self, n: usize) -> Result<(), EvalError> {
        self.set_samples(self.samples.get() + n)
    }
}

/// One series of an evaluated expression: points on the grid's steps (or,
/// for range vectors, raw sample times), sorted by time.
#[derive(Debug, Clone)]
pub(crate) struct SeriesV {
    pub labels: Labels,
    pub points: Vec<Sample>,
    /// `__name__` is to be removed at the end of the query.
    pub drop_name: bool,
}

pub(crate) type Matrix = Vec<SeriesV>;

/// The result of evaluating a node.
pub(crate) enum Val {
    Matrix(Matrix),
    Str(String),
}

/// One element of an instant vector at one step.
#[derive(Debug, Clone)]
pub(crate) struct Elem {
    pub labels: Labels,
    pub v: f64,
    /// The step time, or a sample's own time where a function needs it.
    pub t: i64,
    pub drop_name: bool,
}

pub(crate) type Vector = Vec<Elem>;

/// A grid of evaluation steps.
#[derive(Clone, Copy)]
pub(crate) struct Ev<'a> {
    pub ctx: &'a Ctx<'a>,
    pub start: i64,
    pub end: i64,
    pub interval: i64,
}

impl<'a> Ev<'a> {
    pub fn steps(&self) -> impl Iterator<Item = i64> + use<> {
        let (start, end, interval) = (self.start, self.end, self.interval.max(1));
        (0..)
            .map(move |i: i64| start + i * interval)
            .take_while(move |t| *t <= end)
    }

    pub fn num_steps(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            ((self.end - self.start) / self.interval.max(1) + 1) as usize
        }
    }

    pub fn is_instant(&self) -> bool {
        self.start == self.end
    }

    /// The time an `@` modifier pins evaluation to.
    pub fn resolve_at(&self, at: Option<At>) -> Option<i64> {
        at.map(|a| match a {
            At::Timestamp(t) => t,
            At::Start => self.ctx.query_start,
            At::End => self.ctx.query_end,
        })
    }

    /// Evaluates a node. Without delayed name removal, the names an
    /// operation marked for removal are removed right at that operation
    /// (and equal label sets that result are merged or refused there), as
    /// Prometheus does by default.
    pub fn eval(&self, e: &Expr) -> Result<Val, EvalError> {
        let v = self.eval_node(e)?;
        let marks = matches!(
            e,
            Expr::Unary { .. } | Expr::Binary(_) | Expr::Aggregate(_) | Expr::Call(_)
        );
        match v {
            Val::Matrix(m) if marks => self.settle_names(m).map(Val::Matrix),
            other => Ok(other),
        }
    }

    /// After an operation that may mark names for removal: removes them
    /// now, unless removal is delayed to the end of the query.
    pub fn settle_names(&self, m: Matrix) -> Result<Matrix, EvalError> {
        if self.ctx.delayed_name_removal {
            Ok(m)
        } else {
            finish(m)
        }
    }

    fn eval_node(&self, e: &Expr) -> Result<Val, EvalError> {
        if self.end < self.start {
            return Ok(Val::Matrix(Vec::new()));
        }
        match e {
            Expr::Number { value, .. } => {
                let v = *value;
                self.range_eval(&[], |_, ts| {
                    Ok(vec![Elem {
                        labels: Labels::empty(),
                        v,
                        t: ts,
                        drop_name: false,
                    }])
                })
                .map(Val::Matrix)
            }
            Expr::String { value, .. } => Ok(Val::Str(value.clone())),
            Expr::Paren { expr, .. } => self.eval(expr),
            Expr::Unary { op, expr, .. } => {
                let mut m = self.eval_matrix(expr)?;
                if *op == UnaryOp::Neg {
                    for s in &mut m {
                        s.drop_name = true;
                        for p in &mut s.points {
                            p.v = -p.v;
                        }
                    }
                }
                Ok(Val::Matrix(m))
            }
            Expr::Vector(vs) => crate::selectors::eval_vector_selector(self, vs).map(Val::Matrix),
            Expr::Matrix(ms) => {
                if !self.is_instant() {
                    return Err(EvalError::bad(
                        "cannot do range evaluation of matrix selector",
                    ));
                }
                crate::selectors::eval_matrix_selector(self, ms).map(Val::Matrix)
            }
            Expr::Subquery(sq) => {
                crate::selectors::eval_subquery(self, sq).map(|r| Val::Matrix(r.matrix))
            }
            Expr::Binary(b) => crate::binary::eval_binary(self, b).map(Val::Matrix),
            Expr::Aggregate(a) => crate::aggregate::eval_aggregate(self, a).map(Val::Matrix),
            Expr::Call(c) => crate::functions::eval_call(self, c).map(Val::Matrix),
        }
    }

    /// Evaluates an expression that must not be a string.
    pub fn eval_matrix(&self, e: &Expr) -> Result<Matrix, EvalError> {
        match self.eval(e)? {
            Val::Matrix(m) => Ok(m),
            Val::Str(_) => Err(EvalError::bad("unexpected string expression")),
        }
    }

    /// Evaluates `args` (strings evaluate to empty vectors), then calls `f`
    /// at every step with each argument's instant vector at that step, and
    /// collects the outputs into series. Output series with the same labels
    /// at one step are an error, as in Prometheus.
    pub fn range_eval<F>(&self, args: &[&Expr], f: F) -> Result<Matrix, EvalError>
    where
        F: FnMut(&[Vector], i64) -> Result<Vector, EvalError>,
    {
        let original = self.ctx.samples();
        let mut inputs: Vec<Matrix> = Vec::with_capacity(args.len());
        for a in args {
            if value_type(a) == ValueType::String {
                inputs.push(Vec::new());
            } else {
                inputs.push(self.eval_matrix(a)?);
            }
        }
        self.range_eval_inputs(original, &inputs, f)
    }

    /// [`Ev::range_eval`] over arguments already evaluated; `original` is
    /// the count of samples held before they were.
    pub fn range_eval_inputs<F>(
        &self,
        original: usize,
        inputs: &[Matrix],
        mut f: F,
    ) -> Result<Matrix, EvalError>
    where
        F: FnMut(&[Vector], i64) -> Result<Vector, EvalError>,
    {
        let mut cursors: Vec<Vec<usize>> = inputs.iter().map(|m| vec![0; m.len()]).collect();
        let mut vectors: Vec<Vector> = vec![Vec::new(); inputs.len()];
        let mut out: Matrix = Vec::new();
        let mut index: HashMap<Labels, (usize, i64)> = HashMap::new();
        let mut held = self.ctx.samples();
        for ts in self.steps() {
            self.ctx.set_samples(held)?;
            for (i, m) in inputs.iter().enumerate() {
                gather(ts, m, &mut cursors[i], &mut vectors[i]);
            }
            let result = f(&vectors, ts)?;
            self.ctx.add_samples(result.len())?;
            held += result.len();
            if self.is_instant() {
                let m: Matrix = result
                    .into_iter()
                    .map(|e| SeriesV {
                        labels: e.labels,
                        points: vec![Sample { t: ts, v: e.v }],
                        drop_name: e.drop_name,
                    })
                    .collect();
                self.ctx.set_samples(original + m.len())?;
                return Ok(m);
            }
            for e in result {
                match index.get_mut(&e.labels) {
                    Some((i, last)) => {
                        if *last == ts {
                            return Err(EvalError::exec(DUPLICATE_LABELSET));
                        }
                        *last = ts;
                        out[*i].points.push(Sample { t: ts, v: e.v });
                    }
                    None => {
                        index.insert(e.labels.clone(), (out.len(), ts));
                        out.push(SeriesV {
                            labels: e.labels,
                            points: vec![Sample { t: ts, v: e.v }],
                            drop_name: e.drop_name,
                        });
                    }
                }
            }
        }
        let total: usize = out.iter().map(|s| s.points.len()).sum();
        self.ctx.set_samples(original + total)?;
        Ok(out)
    }
}

/// Collects the points of `m` at `ts` into `out`, advancing `cursors`.
pub(crate) fn gather(ts: i64, m: &Matrix, cursors: &mut [usize], out: &mut Vector) {
    out.clear();
    for (i, s) in m.iter().enumerate() {
        let c = &mut cursors[i];
        while *c < s.points.len() && s.points[*c].t < ts {
            *c += 1;
        }
        if *c < s.points.len() && s.points[*c].t == ts {
            out.push(Elem {
                labels: s.labels.clone(),
                v: s.points[*c].v,
                t: ts,
                drop_name: s.drop_name,
            });
            *c += 1;
        }
    }
}

/// Merges series that have the same labels; an error when two of them have
/// a point at the same time.
pub(crate) fn merge_same_labelset(m: Matrix) -> Result<Matrix, EvalError> {
    if m.len() <= 1 {
        return Ok(m);
    }
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(m.len());
    let mut out: Matrix = Vec::with_capacity(m.len());
    let mut merged = false;
    for s in m {
        match index.get(&s.labels) {
            Some(&i) => {
                out[i].points.extend(s.points);
                merged = true;
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    if merged {
        for s in &mut out {
            s.points.sort_by_key(|p| p.t);
            if s.points.windows(2).any(|w| w[0].t == w[1].t) {
                return Err(EvalError::exec(DUPLICATE_LABELSET));
            }
        }
    }
    Ok(out)
}

/// Applies delayed name removal to a query's result.
pub(crate) fn finish(m: Matrix) -> Result<Matrix, EvalError> {
    let m: Matrix = m
        .into_iter()
        .map(|mut s| {
            if s.drop_name {
                s.labels = drop_metadata(&s.labels);
                s.drop_name = false;
            }
            s
        })
        .collect();
    merge_same_labelset(m)
}

fn to_series(m: Matrix) -> Vec<Series> {
    let mut out: Vec<Series> = m
        .into_iter()
        .map(|s| Series {
            labels: s.labels,
            samples: s.points,
        })
        .collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    out
}

pub(crate) fn run_instant(
    expr: &Expr,
    t: i64,
    opts: &QueryOptions,
    q: &dyn Queryable,
) -> Result<(Value, Vec<Annotation>), EvalError> {
    let ctx = Ctx::new(opts, q, t, t, 0);
    let v = instant_value(&ctx, expr, t)?;
    Ok((v, ctx.annotations.take()))
}

fn instant_value(ctx: &Ctx, expr: &Expr, t: i64) -> Result<Value, EvalError> {
    let ev = Ev {
        ctx,
        start: t,
        end: t,
        interval: 1,
    };
    let ty = value_type(expr);
    let m = match ev.eval(expr)? {
        Val::Str(s) => return Ok(Value::String { t, v: s }),
        Val::Matrix(m) => finish(m)?,
    };
    Ok(match ty {
        ValueType::Scalar => Value::Scalar {
            t,
            v: m.first()
                .and_then(|s| s.points.first())
                .map_or(f64::NAN, |p| p.v),
        },
        ValueType::Vector => Value::Vector(
            m.into_iter()
                .filter_map(|s| {
                    s.points.first().map(|p| InstantSample {
                        labels: s.labels,
                        t,
                        v: p.v,
                    })
                })
                .collect(),
        ),
        ValueType::Matrix | ValueType::String => Value::Matrix(to_series(m)),
    })
}

pub(crate) fn run_range(
    expr: &Expr,
    start: i64,
    end: i64,
    step: i64,
    opts: &QueryOptions,
    q: &dyn Queryable,
) -> Result<(Value, Vec<Annotation>), EvalError> {
    let ty = value_type(expr);
    if ty != ValueType::Vector && ty != ValueType::Scalar {
        return Err(EvalError::bad(format!(
            "invalid expression type {:?} for range query, must be Scalar or instant Vector",
            ty.name()
        )));
    }
    if step <= 0 {
        return Err(EvalError::bad(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if end < start {
        return Err(EvalError::bad(
            "end timestamp must not be before start time",
        ));
    }
    let ctx = Ctx::new(opts, q, start, end, step);
    let ev = Ev {
        ctx: &ctx,
        start,
        end,
        interval: step,
    };
    let m = finish(ev.eval_matrix(expr)?)?;
    Ok((Value::Matrix(to_series(m)), ctx.annotations.take()))
}
