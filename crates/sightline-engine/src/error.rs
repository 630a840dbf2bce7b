use thiserror::Error;

/// Errors of the engine, by the kind the API turns into a status.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The query is malformed or uses something unsupported (400 bad_data).
    #[error("{0}")]
    BadData(String),
    /// The query is valid but cannot be answered within limits (422 execution).
    #[error("{0}")]
    Execution(String),
    /// The query ran out of time (503 timeout).
    #[error("query timed out in {0}")]
    Timeout(String),
    /// A storage tier cannot answer now (503 unavailable).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else (500 internal).
    #[error("{0}")]
    Internal(String),
}

impl From<sightline_archive::ArchiveError> for EngineError {
    fn from(e: sightline_archive::ArchiveError) -> Self {
        EngineError::Internal(e.to_string())
    }
}

impl From<sightline_plan::PlanError> for EngineError {
    fn from(e: sightline_plan::PlanError) -> Self {
        use sightline_plan::PlanError as P;
        match e {
            P::Limit(m) => EngineError::Execution(m),
            // Prometheus refuses too fine a resolution as bad input.
            P::Resolution { .. } | P::LabelName(_) | P::TimeRange { .. } => {
                EngineError::BadData(e.to_string())
            }
        }
    }
}

impl From<sightline_eval::EvalError> for EngineError {
    fn from(e: sightline_eval::EvalError) -> Self {
        use sightline_eval::EvalError as E;
        match e {
            E::Unsupported(_) | E::BadQuery(_) => EngineError::BadData(e.to_string()),
            // A tier's failure keeps its kind through the evaluator.
            E::Storage(t) => EngineError::from(t),
            other => EngineError::Execution(other.to_string()),
        }
    }
}

/// A storage tier's error by its kind: refused input and a signal a tier
/// does not hold are bad data (400), a limit is an execution error (422),
/// an unavailable tier is 503 (ClickHouse down), corrupt data and anything
/// else internal (500). The message is the tier's own.
impl From<sightline_plan::TierError> for EngineError {
    fn from(e: sightline_plan::TierError) -> Self {
        use sightline_plan::TierErrorKind as K;
        let msg = e.to_string();
        match e.kind() {
            K::BadQuery | K::UnsupportedSignal => EngineError::BadData(msg),
            K::Limit => EngineError::Execution(msg),
            K::Unavailable => EngineError::Unavailable(msg),
            K::Corrupt | K::Internal => EngineError::Internal(msg),
        }
    }
}

/// ClickHouse's errors on the write path, by the same kinds as its reads.
impl From<sightline_clickhouse::ChError> for EngineError {
    fn from(e: sightline_clickhouse::ChError) -> Self {
        EngineError::from(sightline_plan::TierError::from(e))
    }
}
