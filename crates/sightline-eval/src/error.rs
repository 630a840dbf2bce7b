use sightline_plan::TierError;
use thiserror::Error;

/// Errors from evaluation. The API maps `Unsupported` and `BadQuery` to
/// `bad_data`, `Storage` by the tier error's kind, the others to
/// `execution`.
#[derive(Debug, Error, PartialEq)]
pub enum EvalError {
    /// A construct Sightline does not evaluate (native histograms, some
    /// experimental functions). The message names the construct.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The query is well-formed text but cannot be evaluated as written
    /// (wrong argument types, a range vector in a range query, ...).
    #[error("{0}")]
    BadQuery(String),
    /// Evaluation failed on the data (duplicate label sets, many-to-many
    /// matching, invalid parameters), with Prometheus's message.
    #[error("{0}")]
    Execution(String),
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
    /// A storage tier could not answer a read; its error keeps its kind
    /// (bad input, unavailable, limit, …) and its source.
    #[error("storage: {0}")]
    Storage(#[from] TierError),
}

impl EvalError {
    pub(crate) fn exec(msg: impl Into<String>) -> Self {
        EvalError::Execution(msg.into())
    }

    pub(crate) fn bad(msg: impl Into<String>) -> Self {
        EvalError::BadQuery(msg.into())
    }

    pub(crate) fn unsupported(msg: impl Into<String>) -> Self {
        EvalError::Unsupported(msg.into())
    }
}
