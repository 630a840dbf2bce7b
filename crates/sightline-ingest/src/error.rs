use thiserror::Error;

/// Errors of the write path, by the kind a caller refuses the write with:
/// `BadInput` (malformed), `TooLarge`, `Overloaded` (retry later), `Wal`
/// and `Closed` (unavailable).
#[derive(Debug, Error)]
pub enum IngestError {
    #[error("bad input: {0}")]
    BadInput(String),
    #[error("request too large: {0}")]
    TooLarge(String),
    /// The write path cannot take the write now; the caller counts it under
    /// `reason` and asks the sender to retry.
    #[error("overloaded: {message}")]
    Overloaded { reason: Overload, message: String },
    #[error("write-ahead log: {0}")]
    Wal(#[from] std::io::Error),
    #[error("write-ahead log is closed")]
    Closed,
}

/// Why a write was refused as overloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overload {
    /// The WAL budget is spent: its segments wait to be stored elsewhere
    /// (for example while ClickHouse is down).
    WalFull,
    /// Too many bytes already wait for the WAL writer.
    WalBacklog,
}

impl Overload {
    /// The reason as counted (`sightline_ingest_refused_total{reason}`).
    pub fn as_str(self) -> &'static str {
        match self {
            Overload::WalFull => "wal_full",
            Overload::WalBacklog => "wal_backlog",
        }
    }
}

/// The write path's errors as a storage tier reports them, the error kept
/// as the source: malformed input is refused input, a request too large a
/// limit, and an overloaded, failing or closed WAL unavailable.
impl From<IngestError> for sightline_plan::TierError {
    fn from(e: IngestError) -> Self {
        use sightline_plan::TierErrorKind as K;
        let kind = match &e {
            IngestError::BadInput(_) => K::BadQuery,
            IngestError::TooLarge(_) => K::Limit,
            IngestError::Overloaded { .. } | IngestError::Wal(_) | IngestError::Closed => {
                K::Unavailable
            }
        };
        sightline_plan::TierError::from_source(kind, e)
    }
}
