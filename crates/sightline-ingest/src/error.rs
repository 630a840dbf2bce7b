use thiserror::Error;

/// Errors of the write path. The API maps them to statuses:
/// `BadInput` → 400, `TooLarge` → 413, `Overloaded` → 429, `Forbidden` → 403, the rest → 500/503.
#[derive(Debug, Error)]
pub enum IngestError {
    #[error("bad input: {0}")]
    BadInput(String),
    #[error("request too large: {0}")]
    TooLarge(String),
    #[error("overloaded: {0}")]
    Overloaded(String),
    /// The token may not write this (a service outside its allowed list).
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("write-ahead log: {0}")]
    Wal(#[from] std::io::Error),
    #[error("write-ahead log is closed")]
    Closed,
}
