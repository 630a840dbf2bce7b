//! Why a write was refused, in terms every door maps to its protocol: the
//! kind, the message for the sender, and when to come back.

use std::fmt;

use sightline_control::{ControlError, QuotaExceeded};
use sightline_ingest::{IngestError, Overload};
use thiserror::Error;

/// How long a sender refused for an overloaded write path should wait, in
/// seconds.
pub const OVERLOAD_RETRY_AFTER_SECS: u64 = 1;

/// The class of a refusal: what a door turns into a status or a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The token may not write this: it is bound to no workspace, or a
    /// record names a service outside its list. Retrying does not help.
    NotAllowed,
    /// A daily byte quota is spent until the time given.
    QuotaExceeded,
    /// Series past the workspace's active-series cap were dropped; the
    /// rest of the write was stored. Retrying the same write does not help.
    Cardinality,
    /// The write path cannot take more now (the WAL budget or its backlog);
    /// retry after the time given.
    Overloaded,
    /// The payload is malformed.
    BadData,
    /// The payload is larger than accepted.
    TooLarge,
    /// The payload comes in an encoding the door does not take.
    UnsupportedEncoding,
    /// Storage or the control plane cannot take the write now; a retry
    /// may succeed.
    Unavailable,
    /// A fault of the server.
    Internal,
}

/// Series the active-series cap rejected from a write whose other series
/// were stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesCapHit {
    /// New series rejected.
    pub rejected: usize,
    /// The workspace's cap in force.
    pub cap: usize,
    /// What was capped: `"series"` (samples) or `"streams"` (logs).
    pub unit: &'static str,
}

impl fmt::Display for SeriesCapHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} new {unit} rejected: the workspace has reached its limit of {} active {unit} (the other {unit} were written)",
            self.rejected,
            self.cap,
            unit = self.unit
        )
    }
}

/// A refused write. Every variant keeps what caused it; [`Refusal::kind`],
/// the message (`Display`) and [`Refusal::retry_after_secs`] are what a
/// door answers with.
#[derive(Debug, Error)]
pub enum Refusal {
    /// The token is bound to no workspace.
    #[error("this token is not bound to a workspace")]
    NoWorkspace,
    /// A record names a service outside the token's allowed list, or none
    /// while the token has one; nothing of the write was stored.
    #[error("{0}")]
    ServiceNotAllowed(String),
    /// A daily byte quota of the workspace, application or token is spent.
    #[error("{0}")]
    QuotaExceeded(QuotaExceeded),
    /// The series cap rejected some series; the others were written (see
    /// [`crate::Written::partial`]).
    #[error("{0}")]
    Cardinality(SeriesCapHit),
    /// The write path is full; nothing was stored.
    #[error("{message}")]
    Overloaded { reason: Overload, message: String },
    #[error("{0}")]
    BadData(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedEncoding(String),
    /// The WAL could not store the write.
    #[error("write-ahead log: {0}")]
    Wal(#[source] std::io::Error),
    /// The WAL writer has stopped.
    #[error("shutting down")]
    ShuttingDown,
    /// The quota totals could not be read from the control plane.
    #[error("quota check failed: {0}")]
    Control(#[source] ControlError),
    #[error("{0}")]
    Internal(String),
}

impl Refusal {
    pub fn kind(&self) -> RefusalKind {
        match self {
            Refusal::NoWorkspace | Refusal::ServiceNotAllowed(_) => RefusalKind::NotAllowed,
            Refusal::QuotaExceeded(_) => RefusalKind::QuotaExceeded,
            Refusal::Cardinality(_) => RefusalKind::Cardinality,
            Refusal::Overloaded { .. } => RefusalKind::Overloaded,
            Refusal::BadData(_) => RefusalKind::BadData,
            Refusal::TooLarge(_) => RefusalKind::TooLarge,
            Refusal::UnsupportedEncoding(_) => RefusalKind::UnsupportedEncoding,
            Refusal::Wal(_) | Refusal::ShuttingDown => RefusalKind::Unavailable,
            Refusal::Control(e) => match e {
                ControlError::Invalid(_) => RefusalKind::BadData,
                ControlError::Denied(_) => RefusalKind::NotAllowed,
                _ => RefusalKind::Unavailable,
            },
            Refusal::Internal(_) => RefusalKind::Internal,
        }
    }

    /// When the sender may try again, in seconds, for the refusals that
    /// pass with time.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Refusal::QuotaExceeded(q) => Some(q.retry_after_secs),
            Refusal::Overloaded { .. } => Some(OVERLOAD_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// The `reason` this refusal is counted under on
    /// `sightline_ingest_refused_total`; `None` for the ones counted only
    /// as a request outcome (bad payloads, faults).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Refusal::NoWorkspace => Some("no_workspace"),
            Refusal::ServiceNotAllowed(_) => Some("service_not_allowed"),
            Refusal::QuotaExceeded(_) => Some("quota_exceeded"),
            Refusal::Cardinality(_) => Some("high_cardinality"),
            Refusal::Overloaded { reason, .. } => Some(reason.as_str()),
            _ => None,
        }
    }

    /// The `outcome` of a request refused with this, on
    /// `sightline_ingest_requests_total`, unless the step it failed at says
    /// otherwise (every failure of the write itself is an `error`).
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            Refusal::NoWorkspace | Refusal::ServiceNotAllowed(_) => "forbidden",
            Refusal::QuotaExceeded(_) => "quota_exceeded",
            Refusal::Cardinality(_) => "high_cardinality",
            Refusal::BadData(_) | Refusal::TooLarge(_) | Refusal::UnsupportedEncoding(_) => {
                "bad_request"
            }
            Refusal::Overloaded { .. }
            | Refusal::Wal(_)
            | Refusal::ShuttingDown
            | Refusal::Control(_)
            | Refusal::Internal(_) => "error",
        }
    }
}

impl From<IngestError> for Refusal {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::BadInput(m) => Refusal::BadData(m),
            IngestError::TooLarge(m) => Refusal::TooLarge(m),
            IngestError::Overloaded { reason, message } => Refusal::Overloaded { reason, message },
            IngestError::Wal(e) => Refusal::Wal(e),
            IngestError::Closed => Refusal::ShuttingDown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_reasons_and_retry_times() {
        let over = Refusal::from(IngestError::Overloaded {
            reason: Overload::WalFull,
            message: "full".into(),
        });
        assert_eq!(over.kind(), RefusalKind::Overloaded);
        assert_eq!(over.reason(), Some("wal_full"));
        assert_eq!(over.retry_after_secs(), Some(OVERLOAD_RETRY_AFTER_SECS));
        assert_eq!(over.to_string(), "full");

        let quota = Refusal::QuotaExceeded(QuotaExceeded {
            scope: "workspace",
            limit: 10,
            retry_after_secs: 77,
        });
        assert_eq!(quota.kind(), RefusalKind::QuotaExceeded);
        assert_eq!(quota.retry_after_secs(), Some(77));
        assert!(quota.to_string().contains("daily byte quota"));

        let bad = Refusal::from(IngestError::BadInput("snappy: x".into()));
        assert_eq!(bad.kind(), RefusalKind::BadData);
        assert_eq!(bad.to_string(), "snappy: x", "the message without a prefix");
        assert_eq!(bad.reason(), None);
        assert_eq!(bad.outcome(), "bad_request");

        let cap = Refusal::Cardinality(SeriesCapHit {
            rejected: 4,
            cap: 5,
            unit: "series",
        });
        assert_eq!(cap.reason(), Some("high_cardinality"));
        assert!(
            cap.to_string().contains("4 new series rejected")
                && cap.to_string().contains("5 active series")
        );
        assert_eq!(
            Refusal::from(IngestError::Closed).kind(),
            RefusalKind::Unavailable
        );
    }
}
