//! Label filters (`| status >= 400`, `| level=~"err.*" or dur > 1s`), as
//! Loki's `label_filter.go` runs them.
//!
//! String matchers read a missing label as empty, and `__error__` as the
//! entry's error; they match through the line-filter machinery of
//! [`super::filter`] (so `=~` follows Loki's rewrites, not the anchored
//! Prometheus regex). Typed comparisons need the label: without it the
//! entry is dropped; with a value that does not convert, the entry is
//! *kept* and gets `__error__="LabelFilterErr"` with Go's conversion error
//! as details, unless it already has an error. `ip()` passes any entry
//! that already has an error.

use sightline_core::MatchOp;
use sightline_logql::ast::{CmpOp, LabelFilter};

use super::PipelineError;
use super::convert::{parse_bytes, parse_float};
use super::filter::{Filter, contains_filter, regex_filter};
use super::ip::IpMatcher;
use super::labels::{ERROR_LABEL, LABEL_FILTER_ERR, LabelsBuilder};

#[derive(Debug)]
pub(crate) enum LabelFilterNode {
    /// A string matcher that always matches (`=~".*"`): Loki's no-op.
    Noop,
    Str {
        name: String,
        filter: Filter,
    },
    Number {
        name: String,
        op: CmpOp,
        value: f64,
    },
    Duration {
        name: String,
        op: CmpOp,
        ns: i64,
    },
    Bytes {
        name: String,
        op: CmpOp,
        bytes: u64,
    },
    Ip {
        name: String,
        negated: bool,
        ip: IpMatcher,
    },
    And(Box<LabelFilterNode>, Box<LabelFilterNode>),
    Or(Box<LabelFilterNode>, Box<LabelFilterNode>),
}

impl LabelFilterNode {
    pub fn compile(f: &LabelFilter) -> Result<LabelFilterNode, PipelineError> {
        Ok(match f {
            LabelFilter::Matcher(m) => {
                let filter = match m.op {
                    MatchOp::Equal => equal(&m.value),
                    MatchOp::NotEqual => equal(&m.value).not(),
                    MatchOp::Regex => {
                        regex_filter(&m.value, true).map_err(PipelineError::Regexp)?
                    }
                    MatchOp::NotRegex => regex_filter(&m.value, true)
                        .map_err(PipelineError::Regexp)?
                        .not(),
                };
                if matches!(filter, Filter::True) {
                    LabelFilterNode::Noop
                } else {
                    LabelFilterNode::Str {
                        name: m.name.clone(),
                        filter,
                    }
                }
            }
            LabelFilter::Ip {
                name,
                negated,
                pattern,
            } => LabelFilterNode::Ip {
                name: name.clone(),
                negated: *negated,
                ip: IpMatcher::parse(pattern).map_err(|e| PipelineError::Ip(e.to_string()))?,
            },
            LabelFilter::Duration { name, op, ns } => LabelFilterNode::Duration {
                name: name.clone(),
                op: *op,
                ns: *ns,
            },
            LabelFilter::Bytes { name, op, bytes } => LabelFilterNode::Bytes {
                name: name.clone(),
                op: *op,
                bytes: *bytes,
            },
            LabelFilter::Number { name, op, value } => LabelFilterNode::Number {
                name: name.clone(),
                op: *op,
                value: *value,
            },
            LabelFilter::And(a, b) => {
                LabelFilterNode::And(Box::new(Self::compile(a)?), Box::new(Self::compile(b)?))
            }
            LabelFilter::Or(a, b) => {
                LabelFilterNode::Or(Box::new(Self::compile(a)?), Box::new(Self::compile(b)?))
            }
        })
    }

    /// The one label a leaf filter reads (Loki's `RequiredLabelNames`);
    /// `None` for `and`/`or` and the no-op, which the parser hints skip.
    pub fn single_label(&self) -> Option<&str> {
        match self {
            LabelFilterNode::Str { name, .. }
            | LabelFilterNode::Number { name, .. }
            | LabelFilterNode::Duration { name, .. }
            | LabelFilterNode::Bytes { name, .. }
            | LabelFilterNode::Ip { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Every label the filter reads.
    pub fn label_names(&self, out: &mut Vec<String>) {
        match self {
            LabelFilterNode::And(a, b) | LabelFilterNode::Or(a, b) => {
                a.label_names(out);
                b.label_names(out);
            }
            n => {
                if let Some(name) = n.single_label() {
                    out.push(name.to_owned());
                }
            }
        }
    }

    /// Whether the entry passes; may set `__error__`.
    pub fn process(&self, lbs: &mut LabelsBuilder) -> bool {
        match self {
            LabelFilterNode::Noop => true,
            LabelFilterNode::Str { name, filter } => {
                let value = if name == ERROR_LABEL {
                    lbs.error()
                } else {
                    lbs.get(name).unwrap_or("")
                };
                filter.matches(value)
            }
            LabelFilterNode::Number { name, op, value } => {
                let Some(v) = lbs.get(name) else {
                    return false;
                };
                match parse_float(v) {
                    (x, None) => compare(*op, x, *value),
                    (_, Some(e)) => conversion_error(lbs, &e),
                }
            }
            LabelFilterNode::Duration { name, op, ns } => {
                let Some(v) = lbs.get(name) else {
                    return false;
                };
                match sightline_logql::literals::parse_go_duration(v) {
                    Ok(x) => compare(*op, x, *ns),
                    Err(e) => conversion_error(lbs, &e),
                }
            }
            LabelFilterNode::Bytes { name, op, bytes } => {
                let Some(v) = lbs.get(name) else {
                    return false;
                };
                match parse_bytes(v) {
                    Ok(x) => compare(*op, x, *bytes),
                    Err(e) => conversion_error(lbs, &e),
                }
            }
            LabelFilterNode::Ip { name, negated, ip } => {
                if lbs.has_error() {
                    return true;
                }
                let Some(v) = lbs.get(name) else {
                    return false;
                };
                ip.matches_value(v) != *negated
            }
            LabelFilterNode::And(a, b) => {
                let l = a.process(lbs);
                let r = b.process(lbs);
                l && r
            }
            LabelFilterNode::Or(a, b) => a.process(lbs) || b.process(lbs),
        }
    }
}

/// Loki's label equality: `newEqualFilter` (an empty value is a real
/// equality test here, unlike a line filter's empty needle).
fn equal(v: &str) -> Filter {
    match contains_filter(v, false) {
        Filter::Contains { needle, fold } => Filter::Equal { needle, fold },
        _ => Filter::Equal {
            needle: String::new(),
            fold: false,
        },
    }
}

fn compare<T: PartialOrd>(op: CmpOp, a: T, b: T) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
    }
}

/// A value that does not convert: the entry is kept, with the error
/// unless an earlier (likely more useful) one is there.
fn conversion_error(lbs: &mut LabelsBuilder, details: &str) -> bool {
    if !lbs.has_error() {
        lbs.set_error(LABEL_FILTER_ERR);
        lbs.set_error_details(details);
    }
    true
}
