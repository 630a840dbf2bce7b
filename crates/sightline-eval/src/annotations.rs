//! Warnings and infos a query produces alongside its result, with
//! Prometheus's wording (`util/annotations` upstream). Each names the
//! sub-expression it is about by its [`Span`]; [`Annotation::render`] adds
//! the `(line:column)` suffix the HTTP API shows.

use std::cell::RefCell;

use sightline_core::gofmt::format_g;

use crate::ast::Span;
use crate::util::go_quote;

/// Whether an annotation is a warning (the result may be wrong or
/// surprising) or an info (a hint about the query).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnotationKind {
    Warning,
    Info,
}

/// One warning or info.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub kind: AnnotationKind,
    /// The full text without position, e.g. `PromQL info: metric might not
    /// be a counter, name does not end in _total/_sum/_count/_bucket: "x"`.
    pub message: String,
    /// The sub-expression the annotation is about.
    pub span: Span,
}

impl Annotation {
    fn new(kind: AnnotationKind, text: String, span: Span) -> Self {
        let prefix = match kind {
            AnnotationKind::Warning => "PromQL warning: ",
            AnnotationKind::Info => "PromQL info: ",
        };
        Annotation {
            kind,
            message: format!("{prefix}{text}"),
            span,
        }
    }

    /// The message followed by ` (line:column)` of the span's start in
    /// `query` (1-based, columns in bytes), as Prometheus's API renders it.
    /// With an empty `query` the message is returned alone.
    pub fn render(&self, query: &str) -> String {
        if query.is_empty() {
            return self.message.clone();
        }
        let start = self.span.start.min(query.len());
        let before = query.as_bytes().get(..start).unwrap_or_default();
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        format!("{} ({}:{})", self.message, line, start - line_start + 1)
    }
}

/// `, for metric name "x"` unless the name is empty.
fn with_metric_name(text: String, name: &str) -> String {
    if name.is_empty() {
        text
    } else {
        format!("{text} for metric name {}", go_quote(name))
    }
}

pub(crate) fn invalid_quantile(q: f64, span: Span) -> Annotation {
    Annotation::new(
        AnnotationKind::Warning,
        format!(
            "quantile value should be between 0 and 1, got {}",
            format_g(q)
        ),
        span,
    )
}

pub(crate) fn invalid_ratio(r: f64, capped: f64, span: Span) -> Annotation {
    Annotation::new(
        AnnotationKind::Warning,
        format!(
            "ratio value should be between -1 and 1, got {}, capping to {}",
            format_g(r),
            format_g(capped)
        ),
        span,
    )
}

pub(crate) fn bad_bucket_label(metric: &str, le: &str, span: Span) -> Annotation {
    Annotation::new(
        AnnotationKind::Warning,
        with_metric_name(
            format!(
                "bucket label \"le\" is missing or has a malformed value of {}",
                go_quote(le)
            ),
            metric,
        ),
        span,
    )
}

pub(crate) fn sort_in_range_query(span: Span) -> Annotation {
    Annotation::new(
        AnnotationKind::Warning,
        "sort is ineffective for range queries since results are always ordered by labels"
            .to_string(),
        span,
    )
}

pub(crate) fn possible_non_counter(metric: &str, span: Span) -> Annotation {
    Annotation::new(
        AnnotationKind::Info,
        format!(
            "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {}",
            go_quote(metric)
        ),
        span,
    )
}

pub(crate) fn forced_monotonicity(metric: &str, span: Span) -> Annotation {
    Annotation::new(
        AnnotationKind::Info,
        with_metric_name(
            "input to histogram_quantile needed to be fixed for monotonicity \
             (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)"
                .to_string(),
            metric,
        ),
        span,
    )
}

/// The annotations of one query, deduplicated by message as Prometheus
/// does (a later position replaces an earlier one), in first-seen order.
#[derive(Default)]
pub(crate) struct Collector {
    items: RefCell<Vec<Annotation>>,
}

impl Collector {
    pub fn add(&self, a: Annotation) {
        let mut items = self.items.borrow_mut();
        match items.iter_mut().find(|x| x.message == a.message) {
            Some(x) => *x = a,
            None => items.push(a),
        }
    }

    pub fn take(&self) -> Vec<Annotation> {
        std::mem::take(&mut *self.items.borrow_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_adds_position() {
        let a = sort_in_range_query(Span { start: 4, end: 8 });
        assert_eq!(
            a.render("sum(sort(x))"),
            "PromQL warning: sort is ineffective for range queries since results are always ordered by labels (1:5)"
        );
    }
}
