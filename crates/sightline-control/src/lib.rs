//! The control plane: workspaces (tenants) → projects → applications →
//! environments → services, and the tokens that act for them, stored
//! through sqlx in SQLite (the embedded default) or PostgreSQL (with
//! row-level security); plus the per-token rate limiter and the daily byte
//! quotas.
//!
//! Invariants kept here:
//! - a token's secret (256 random bits, with a prefix per kind) is shown
//!   once, at creation, and never stored: only an HMAC-SHA256 digest under
//!   the server's token key is (see `TokenKey`);
//! - a token has exactly one kind; ingest and report tokens always belong
//!   to a workspace, and only admin and cli tokens may be server-wide;
//! - every store method that touches tenant-owned rows takes an `Access`,
//!   and on PostgreSQL the policies admit only that workspace's rows even
//!   to a statement without a WHERE clause;
//! - a revoked or expired token authenticates as nothing; a revocation
//!   clears this process's cache at once and other processes' within a
//!   poll of the change counter.

mod error;
mod limits;
mod model;
mod plane;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::ControlError;
pub use limits::{QuotaExceeded, Quotas, RateLimiter};
pub use model::{
    Access, AuditEvent, Authenticated, CliRole, Entity, EntityKind, Limits, Need, NewEntity,
    NewToken, SubScope, TokenInfo, TokenKind, Workspace, check_name,
};
pub use plane::{Actor, CACHE_TTL, ControlPlane, EPOCH_POLL, TokenKey};
pub use store::{ControlStore, PostgresStore, Revoked, SqliteStore};
