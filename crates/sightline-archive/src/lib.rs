//! The Parquet archive: tenant-partitioned files on an `object_store`,
//! written by the engine's flusher and read back with DataFusion.
//!
//! Layout: `<root>/tenant=<id>/signal=<metrics|logs>/date=<YYYY-MM-DD>/<part>.parquet`.
//!
//! Invariants kept here:
//! - every read is scoped to one tenant twice over: the DataFusion table is
//!   registered on that tenant's directory only, and the SQL carries a
//!   `tenant = $1` predicate bound as a parameter;
//! - this crate writes no SQL: reads are `sightline_sql` statements lowered
//!   from a `Selection` in the DataFusion dialect, so user values (matcher
//!   values, times, dates) reach SQL only as bound parameters; the
//!   statements match the metric name (row groups prune by it and by time),
//!   and every matcher is applied again in Rust on the decoded label sets;
//! - files are written whole (object_store `put`), so a crash leaves either a
//!   complete file or none.
//!
//! Modules: `store.rs` (the `Archive` handle, the object store, tenant
//! prefixes and dates, JSON metadata), `schema.rs` (the metrics schema and
//! row layout), `write.rs` (Parquet encoding, one file per day, fsync),
//! `read.rs` (`select` and `series` through DataFusion, and the archive's
//! [`sightline_plan::StorageTier`] implementation, metrics and logs),
//! `logs.rs` (the logs schema, writing log streams, reading entries and
//! stream label sets).

mod error;
mod logs;
mod read;
mod schema;
mod spans;
mod store;
mod write;

pub use error::ArchiveError;
pub use read::ArchivedSeries;
pub use store::Archive;
