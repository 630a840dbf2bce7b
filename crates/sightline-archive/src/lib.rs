//! The Parquet archive: tenant-partitioned files on an `object_store`,
//! written by the engine's flusher and read back with DataFusion.
//!
//! Layout: `<root>/tenant=<id>/signal=metrics/date=<YYYY-MM-DD>/<part>.parquet`.
//!
//! Invariants kept here:
//! - every read is scoped to one tenant twice over: the DataFusion table is
//!   registered on that tenant's directory only, and the SQL carries a
//!   `tenant = $1` predicate bound as a parameter;
//! - user values (matcher values, times) reach SQL only as bound parameters;
//!   matchers other than metric-name equality are applied in Rust on the
//!   decoded label sets;
//! - files are written whole (object_store `put`), so a crash leaves either a
//!   complete file or none.

mod error;
mod metrics_table;

pub use error::ArchiveError;
pub use metrics_table::{Archive, ArchivedSeries};
