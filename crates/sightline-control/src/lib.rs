//! The control plane: tenants and tokens, stored through sqlx (SQLite by
//! default).
//!
//! Invariants kept here:
//! - a token's secret is shown once, at creation, and never stored: only its
//!   SHA-256 digest is (the secret has 256 random bits, so a fast unkeyed
//!   digest cannot be reversed by guessing);
//! - a token has exactly one kind, and only admin tokens lack a tenant
//!   (enforced by a CHECK constraint as well as by the types);
//! - a revoked or expired token authenticates as nothing; revocation clears
//!   this process's cache at once.

mod error;
mod store;

pub use error::ControlError;
pub use store::{Authenticated, ControlPlane, TokenInfo, TokenKind};
