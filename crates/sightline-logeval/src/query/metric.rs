//! A metric query: its range aggregations are computed on the step grid
//! (`range.rs`), and everything above them (vector aggregations, binary
//! operators with their vector matching, `label_replace`, `vector()`,
//! literals) runs on the PromQL evaluator, over a tree in which each range
//! aggregation is a selector of its precomputed series. The evaluator runs
//! with LogQL's arithmetic (`x/0` is NaN) and a lookback of one
//! millisecond, so each step sees exactly the value computed for it.

use sightline_core::{LogStream, MatchOp, Matcher};
use sightline_eval::{EvalError, QueryOptions, Queryable, Series, Value};
use sightline_logql::ast::{
    BinaryExpr, Grouping, LineFilter, MetricExpr, RangeAggregation, VectorOp,
};
use sightline_promql::ast::VectorMatching;

use super::QueryError;
use super::range::{LeafSeries, Steps, eval_range};

/// The label a leaf's selector names it by; never stored, never returned.
const LEAF_LABEL: &str = "__logql_leaf__";

/// What one range aggregation of a query reads: the stream selector's
/// matchers, the leading line filters (which storage may apply), and the
/// window of entries `[start_ns, end_ns)` all its steps see.
#[derive(Debug, Clone, PartialEq)]
pub struct LeafRead {
    pub matchers: Vec<Matcher>,
    pub line_filters: Vec<LineFilter>,
    pub start_ns: i64,
    pub end_ns: i64,
}

/// The steps of a metric query and how to evaluate it.
#[derive(Debug, Clone)]
pub struct MetricParams {
    /// Steps `start, start + step, … <= end`, in nanoseconds (whole
    /// milliseconds: answers are timed in milliseconds); `step_ns` 0 for
    /// an instant query at `start`.
    pub start_ns: i64,
    pub end_ns: i64,
    pub step_ns: i64,
    /// What templates' `now` returns.
    pub now_ns: i64,
    /// Limits for the operators' evaluation (the sample cap).
    pub max_samples: usize,
}

/// The query's range aggregations, left to right.
fn leaf_list(e: &MetricExpr) -> Vec<&RangeAggregation> {
    let mut refs = Vec::new();
    collect(e, &mut refs);
    refs
}

fn collect<'a>(e: &'a MetricExpr, out: &mut Vec<&'a RangeAggregation>) {
    match e {
        MetricExpr::Range(r) => out.push(r),
        MetricExpr::Vector(v) => collect(&v.expr, out),
        MetricExpr::Binary(b) => {
            collect(&b.lhs, out);
            collect(&b.rhs, out);
        }
        MetricExpr::LabelReplace(l) => collect(&l.expr, out),
        MetricExpr::Literal { .. } | MetricExpr::VectorFn { .. } => {}
    }
}

/// The reads a metric query needs, one per range aggregation, in the
/// order [`eval_metric`] takes their streams.
pub fn metric_reads(e: &MetricExpr, p: &MetricParams) -> Vec<LeafRead> {
    leaf_list(e)
        .into_iter()
        .map(|ra| {
            let range = ra.range.range_ns;
            let offset = ra.range.offset_ns;
            let lo = p.start_ns.saturating_sub(offset).saturating_sub(range);
            let hi = p.end_ns.saturating_sub(offset);
            let line_filters = ra.range.log.leading_line_filters();
            LeafRead {
                matchers: ra.range.log.matchers.clone(),
                line_filters,
                start_ns: lo.saturating_add(1),
                end_ns: hi.saturating_add(1),
            }
        })
        .collect()
}

/// Evaluates a metric query; `data` holds the streams of each of
/// [`metric_reads`]'s reads, in its order. Instant queries answer a
/// vector (or scalar), range queries a matrix sorted by labels.
pub fn eval_metric(
    e: &MetricExpr,
    data: Vec<Vec<LogStream>>,
    p: &MetricParams,
) -> Result<Value, QueryError> {
    let list = leaf_list(e);
    if list.len() != data.len() {
        return Err(QueryError::BadQuery(format!(
            "{} reads for {} range aggregations",
            data.len(),
            list.len()
        )));
    }
    let steps = Steps {
        start_ns: p.start_ns,
        end_ns: p.end_ns,
        step_ns: p.step_ns,
    };
    let mut computed = Vec::with_capacity(list.len());
    for (ra, streams) in list.iter().zip(&data) {
        computed.push(eval_range(ra, streams, steps, p.now_ns)?);
    }
    let mut text = String::new();
    let mut n = 0;
    promql(e, &mut text, &mut n);
    let expr = sightline_promql::parse(&text).map_err(|err| {
        QueryError::BadQuery(format!("cannot evaluate this query's operators: {err}"))
    })?;
    let store = Leaves(computed);
    let opts = QueryOptions {
        lookback_delta_ms: 1,
        max_samples: p.max_samples,
        zero_division_nan: true,
        ..QueryOptions::default()
    };
    let start_ms = p.start_ns.div_euclid(1_000_000);
    let v = if p.step_ns == 0 {
        let mut v = sightline_eval::eval_instant(&expr, start_ms, &opts, &store)?;
        // Loki sorts an instant vector by labels unless the query sorts it.
        if let Value::Vector(items) = &mut v
            && !sorts(e)
        {
            items.sort_by(|a, b| a.labels.cmp(&b.labels));
        }
        v
    } else {
        sightline_eval::eval_range(
            &expr,
            start_ms,
            p.end_ns.div_euclid(1_000_000),
            (p.step_ns / 1_000_000).max(1),
            &opts,
            &store,
        )?
    };
    Ok(v)
}

/// Whether `sort` or `sort_desc` appears anywhere in the query (Loki then
/// keeps the evaluation's order).
fn sorts(e: &MetricExpr) -> bool {
    match e {
        MetricExpr::Vector(v) => {
            matches!(v.op, VectorOp::Sort | VectorOp::SortDesc) || sorts(&v.expr)
        }
        MetricExpr::Binary(b) => sorts(&b.lhs) || sorts(&b.rhs),
        MetricExpr::LabelReplace(l) => sorts(&l.expr),
        MetricExpr::Range(_) | MetricExpr::Literal { .. } | MetricExpr::VectorFn { .. } => false,
    }
}

/// The precomputed range aggregations, as the evaluator reads them.
struct Leaves(Vec<Vec<LeafSeries>>);

impl Queryable for Leaves {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, EvalError> {
        let Some(i) = matchers
            .iter()
            .find(|m| m.name == LEAF_LABEL && m.op == MatchOp::Equal)
            .and_then(|m| m.value.parse::<usize>().ok())
        else {
            return Ok(Vec::new());
        };
        let Some(leaf) = self.0.get(i) else {
            return Ok(Vec::new());
        };
        Ok(leaf
            .iter()
            .filter_map(|(labels, points)| {
                let samples: Vec<sightline_core::Sample> = points
                    .iter()
                    .filter(|(t, _)| *t >= start_ms && *t <= end_ms)
                    .map(|&(t, v)| sightline_core::Sample { t, v })
                    .collect();
                (!samples.is_empty()).then(|| Series {
                    labels: labels.clone(),
                    samples,
                })
            })
            .collect())
    }
}

/// Writes the query's operators as PromQL text, each range aggregation
/// a selector of its leaf (numbered in [`metric_reads`]'s order).
fn promql(e: &MetricExpr, out: &mut String, leaf: &mut usize) {
    match e {
        MetricExpr::Range(_) => {
            out.push_str(&format!("{{{LEAF_LABEL}=\"{leaf}\"}}"));
            *leaf += 1;
        }
        MetricExpr::Literal { value, .. } => out.push_str(&number(*value)),
        MetricExpr::VectorFn { value, .. } => out.push_str(&format!("vector({})", number(*value))),
        MetricExpr::Vector(v) => {
            let name = match v.op {
                VectorOp::ApproxTopk => "topk",
                op => op.as_str(),
            };
            out.push_str(name);
            if let Some(g) = &v.grouping {
                grouping(g, out);
            }
            out.push('(');
            if let Some(k) = v.param {
                out.push_str(&format!("{k}, "));
            }
            promql(&v.expr, out, leaf);
            out.push(')');
        }
        MetricExpr::Binary(b) => binary(b, out, leaf),
        MetricExpr::LabelReplace(l) => {
            out.push_str("label_replace(");
            promql(&l.expr, out, leaf);
            for s in [&l.dst, &l.replacement, &l.src, &l.regex] {
                out.push_str(", ");
                out.push_str(&sightline_core::gofmt::quote(s));
            }
            out.push(')');
        }
    }
}

fn binary(b: &BinaryExpr, out: &mut String, leaf: &mut usize) {
    out.push('(');
    promql(&b.lhs, out, leaf);
    out.push_str(") ");
    out.push_str(b.op.as_str());
    if b.return_bool {
        out.push_str(" bool");
    }
    if let Some(m) = &b.matching {
        matching(m, out);
    }
    out.push_str(" (");
    promql(&b.rhs, out, leaf);
    out.push(')');
}

fn matching(m: &VectorMatching, out: &mut String) {
    if m.explicit {
        out.push_str(if m.on { " on(" } else { " ignoring(" });
        out.push_str(&m.labels.join(", "));
        out.push(')');
    }
    if let Some(g) = &m.group {
        out.push_str(match g.side {
            sightline_promql::ast::GroupSide::Left => " group_left(",
            sightline_promql::ast::GroupSide::Right => " group_right(",
        });
        out.push_str(&g.include.join(", "));
        out.push(')');
    }
}

fn grouping(g: &Grouping, out: &mut String) {
    out.push_str(if g.without { " without (" } else { " by (" });
    out.push_str(&g.labels.join(", "));
    out.push_str(") ");
}

/// A number as PromQL reads it back exactly.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Inf".into() } else { "-Inf".into() }
    } else if v < 0.0 {
        format!("({v:?})")
    } else {
        format!("{v:?}")
    }
}
