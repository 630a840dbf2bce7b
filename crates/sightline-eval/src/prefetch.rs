//! [`selections`]: the time window every selector of a query reads, so the
//! storage side can fetch exactly that before evaluation. The windows are
//! the ones Prometheus's engine asks its storage for: widened by the
//! lookback delta or the range, shifted by offsets, pinned by `@`, and
//! widened by the ranges and offsets of enclosing subqueries.

use sightline_core::Matcher;

use crate::QueryOptions;
use crate::ast::{At, Expr, VectorSelector};

#[derive(Clone, Copy)]
struct SubqueryPath {
    offset: i64,
    range: i64,
    at: Option<i64>,
}

struct Walk<'a> {
    start: i64,
    end: i64,
    opts: &'a QueryOptions,
    out: Vec<(Vec<Matcher>, i64, i64)>,
}

impl Walk<'_> {
    fn resolve(&self, at: Option<At>) -> Option<i64> {
        at.map(|a| match a {
            At::Timestamp(t) => t,
            At::Start => self.start,
            At::End => self.end,
        })
    }

    fn selector(&mut self, vs: &VectorSelector, range: Option<i64>, path: SubqueryPath) {
        let (mut start, mut end) = (self.start, self.end);
        if let Some(t) = path.at {
            start = t;
            end = t;
        }
        match self.resolve(vs.at) {
            Some(t) => {
                start = t;
                end = t;
            }
            None => {
                start -= path.offset + path.range;
                end -= path.offset;
            }
        }
        let lookback = if self.opts.lookback_delta_ms > 0 {
            self.opts.lookback_delta_ms
        } else {
            QueryOptions::default().lookback_delta_ms
        };
        start -= range.unwrap_or(lookback) - 1;
        let offset = vs.offset.unwrap_or(0);
        self.out
            .push((vs.matchers.clone(), start - offset, end - offset));
    }

    /// Every selector under `e`, in written order. The nodes wait on a work
    /// list (children pushed in reverse), so no tree costs stack.
    fn walk(&mut self, e: &Expr, path: SubqueryPath) {
        let mut todo: Vec<(&Expr, SubqueryPath)> = vec![(e, path)];
        while let Some((e, path)) = todo.pop() {
            match e {
                Expr::Number { .. } | Expr::String { .. } => {}
                Expr::Vector(vs) => self.selector(vs, None, path),
                Expr::Matrix(ms) => self.selector(&ms.vector, Some(ms.range), path),
                Expr::Subquery(sq) => {
                    let inner = match self.resolve(sq.at) {
                        Some(t) => SubqueryPath {
                            offset: sq.offset.unwrap_or(0),
                            range: sq.range,
                            at: Some(t),
                        },
                        None => SubqueryPath {
                            offset: path.offset + sq.offset.unwrap_or(0),
                            range: path.range + sq.range,
                            at: path.at,
                        },
                    };
                    todo.push((&sq.expr, inner));
                }
                Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => todo.push((expr, path)),
                Expr::Binary(b) => {
                    todo.push((&b.rhs, path));
                    todo.push((&b.lhs, path));
                }
                Expr::Aggregate(a) => {
                    todo.push((&a.expr, path));
                    if let Some(p) = &a.param {
                        todo.push((p, path));
                    }
                }
                Expr::Call(c) => todo.extend(c.args.iter().rev().map(|a| (a, path))),
            }
        }
    }
}

/// The `(matchers, start_ms, end_ms)` window (both ends inclusive) that
/// each selector of `expr` reads when the query is evaluated from
/// `start_ms` to `end_ms` (equal for an instant query). One entry per
/// selector, in the order they appear in the query.
pub fn selections(
    expr: &Expr,
    start_ms: i64,
    end_ms: i64,
    _step_ms: i64,
    opts: &QueryOptions,
) -> Vec<(Vec<Matcher>, i64, i64)> {
    let mut w = Walk {
        start: start_ms,
        end: end_ms,
        opts,
        out: Vec::new(),
    };
    w.walk(
        expr,
        SubqueryPath {
            offset: 0,
            range: 0,
            at: None,
        },
    );
    w.out
}
