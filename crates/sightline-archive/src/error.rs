use thiserror::Error;

#[derive(Debug, Error)]
pub enum ArchiveError {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("query: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    /// The read asked for is not a valid selection (a label name the
    /// planner refuses).
    #[error("selection: {0}")]
    Plan(#[from] sightline_plan::PlanError),
    #[error("archive data: {0}")]
    Corrupt(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Archive errors as a storage tier reports them, the error kept as the
/// source: unreadable data is corrupt, anything else internal.
impl From<ArchiveError> for sightline_plan::TierError {
    fn from(e: ArchiveError) -> Self {
        use sightline_plan::TierErrorKind as K;
        let kind = match &e {
            ArchiveError::Corrupt(_) | ArchiveError::Parquet(_) | ArchiveError::Arrow(_) => {
                K::Corrupt
            }
            ArchiveError::Store(_)
            | ArchiveError::Query(_)
            | ArchiveError::Plan(_)
            | ArchiveError::Io(_) => K::Internal,
        };
        sightline_plan::TierError::from_source(kind, e)
    }
}
