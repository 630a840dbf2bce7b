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
        match e {
            sightline_plan::PlanError::Limit(m) => EngineError::Execution(m),
            other => EngineError::BadData(other.to_string()),
        }
    }
}

impl From<sightline_eval::EvalError> for EngineError {
    fn from(e: sightline_eval::EvalError) -> Self {
        use sightline_eval::EvalError as E;
        match e {
            E::Unsupported(_) | E::BadQuery(_) => EngineError::BadData(e.to_string()),
            E::Storage(m) => EngineError::Internal(m),
            other => EngineError::Execution(other.to_string()),
        }
    }
}

impl From<sightline_clickhouse::ChError> for EngineError {
    fn from(e: sightline_clickhouse::ChError) -> Self {
        use sightline_clickhouse::ChError as C;
        match e {
            C::BadQuery(m) => EngineError::BadData(m),
            C::Unavailable(m) => EngineError::Unavailable(format!("clickhouse: {m}")),
            C::Corrupt(m) => EngineError::Internal(format!("clickhouse returned bad data: {m}")),
        }
    }
}
