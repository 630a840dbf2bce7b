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
    #[error("archive data: {0}")]
    Corrupt(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
