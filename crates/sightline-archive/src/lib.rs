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
//! - a reader sees only the files a day's manifest lists (`manifest.rs`,
//!   read through `visible.rs`); a file is listed only once it is complete
//!   and durable, so a crash leaves either a listed complete file or
//!   nothing visible.
//!
//! Modules: `store.rs` (the `Archive` handle, the object store, tenant
//! prefixes and dates, JSON metadata), `manifest.rs` (day manifests and
//! the commit of a file), `visible.rs` (the read-only view of listed
//! files), `schema.rs` (the metrics schema and
//! row layout), `write.rs` (Parquet encoding, one file per day, fsync),
//! `read.rs` (`select` and `series` through DataFusion, and the archive's
//! [`sightline_plan::StorageTier`] implementation, metrics and logs),
//! `logs.rs` (the logs schema, writing log streams, reading entries and
//! stream label sets).

mod error;
mod logs;
mod manifest;
mod read;
mod schema;
mod spans;
mod store;
mod verify;
mod visible;
mod write;

pub use error::ArchiveError;
pub use manifest::{DayManifest, FileEntry, SCHEMA_VERSION};
pub use read::ArchivedSeries;
pub use store::Archive;
pub use verify::{DayListing, Problem, Report};
