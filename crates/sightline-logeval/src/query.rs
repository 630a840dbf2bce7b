//! LogQL queries over entries the caller read: log queries (`logs.rs`),
//! range aggregations on a step grid (`range.rs`) and metric queries, whose
//! operators above the range aggregations run on the PromQL evaluator
//! (`metric.rs`), so vector matching, aggregation and functions are
//! written once for both languages.
//!
//! The evaluation is pure: the caller asks which reads a query needs
//! ([`metric_reads`], or the selector and window of a log query), reads
//! them from storage through the tenant's scope, and hands the streams in.

mod detected;
mod logs;
mod metric;
mod range;

pub use detected::{DetectedField, detected_field_values, detected_fields, field_type};
pub use logs::{LogParams, OutEntry, OutStream, eval_logs};
pub use metric::{LeafRead, MetricParams, eval_metric, metric_reads};

use sightline_core::Labels;

use crate::pipeline::PipelineError;

/// Why a LogQL query failed; every kind but `Internal` is the query's
/// fault (HTTP 400 in Loki's API).
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The pipeline could not be built (a bad regular expression, template
    /// or parser parameter).
    #[error("{0}")]
    Pipeline(#[from] PipelineError),
    /// A sample of a metric query carries `__error__` (Loki's
    /// `PipelineError`, worded as Loki words it).
    #[error("{0}")]
    SampleError(String),
    /// The query is not valid for what was asked.
    #[error("{0}")]
    BadQuery(String),
    /// The PromQL evaluator refused the query's operators or data.
    #[error("{0}")]
    Eval(#[from] sightline_eval::EvalError),
}

/// Loki's message for a metric sample that kept `__error__`
/// (`logqlmodel.PipelineError`), newline and all.
pub(crate) fn pipeline_error(labels: &Labels) -> QueryError {
    let err = labels.get("__error__").unwrap_or_default();
    QueryError::SampleError(format!(
        "pipeline error: '{err}' for series: '{labels}'.\n\
         Use a label filter to intentionally skip this error. (e.g | __error__!=\"{err}\").\n\
         To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n\
         The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n"
    ))
}
