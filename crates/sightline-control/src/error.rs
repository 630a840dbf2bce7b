use thiserror::Error;

/// Control-plane errors. The API maps them: `Invalid` → 400, `Denied` →
/// 403, `NotFound` → 404, `Conflict` → 409, `Db`/`Migrate` → 503.
#[derive(Debug, Error)]
pub enum ControlError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Denied(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("control-plane database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("control-plane migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
