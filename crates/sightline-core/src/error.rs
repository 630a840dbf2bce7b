use thiserror::Error;

/// Errors raised when validating core values.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    #[error("invalid tenant id {0:?}: use 1-64 characters of a-z, A-Z, 0-9, '_' or '-'")]
    InvalidTenant(String),
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    #[error("invalid regular expression {pattern:?}: {message}")]
    InvalidRegex { pattern: String, message: String },
    #[error("duplicate label name {0:?}")]
    DuplicateLabel(String),
}
