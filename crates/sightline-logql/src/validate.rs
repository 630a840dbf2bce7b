//! Loki's checks on a parsed query (its `validateExpr`): every selector
//! selects specific streams, and each range aggregation is defined for
//! what it aggregates.

use crate::ast::*;
use crate::error::ParseError;

const EMPTY_COMPATIBLE: &str = "queries require at least one regexp or equality matcher that \
does not have an empty-compatible value. For instance, app=~\".*\" does not meet this \
requirement, but app=~\".+\" will";

pub(crate) fn validate(src: &str, expr: &Expr) -> Result<(), ParseError> {
    match expr {
        Expr::Log(l) => selector(src, l),
        Expr::Metric(m) => {
            let mut work = vec![m];
            while let Some(e) = work.pop() {
                match e {
                    MetricExpr::Range(r) => range(src, r)?,
                    MetricExpr::Vector(v) => work.push(&v.expr),
                    MetricExpr::Binary(b) => {
                        work.push(&b.rhs);
                        work.push(&b.lhs);
                    }
                    MetricExpr::LabelReplace(l) => {
                        if let Err(e) = sightline_core::Matcher::new(
                            "_",
                            sightline_core::MatchOp::Regex,
                            l.regex.clone(),
                        ) {
                            return Err(ParseError::new(
                                src,
                                l.span,
                                format!("invalid regex in label_replace: {e}"),
                            ));
                        }
                        work.push(&l.expr);
                    }
                    MetricExpr::Literal { .. } | MetricExpr::VectorFn { .. } => {}
                }
            }
            Ok(())
        }
    }
}

fn selector(src: &str, l: &LogExpr) -> Result<(), ParseError> {
    if l.matchers.iter().any(|m| !m.matches_empty()) {
        Ok(())
    } else {
        Err(ParseError::new(src, l.span, EMPTY_COMPATIBLE))
    }
}

fn range(src: &str, r: &RangeAggregation) -> Result<(), ParseError> {
    selector(src, &r.range.log)?;
    let name = r.op.as_str();
    let msg = if r.grouping.is_some() && !r.op.allows_grouping() {
        format!("grouping not allowed for {name} aggregation")
    } else if r.range.unwrap.is_some() && !r.op.allows_unwrap() {
        format!("invalid aggregation {name} with unwrap")
    } else if r.range.unwrap.is_none() && !r.op.allows_lines() {
        format!("invalid aggregation {name} without unwrap")
    } else {
        return Ok(());
    };
    Err(ParseError::new(src, r.span, msg))
}
