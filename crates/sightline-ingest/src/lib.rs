//! The embedded write path: decoding Prometheus remote_write, the write-ahead
//! log with group commit, and the in-memory head of recent samples.
//!
//! Invariants kept here:
//! - a write is acknowledged only after its WAL entry is written and
//!   `fdatasync`ed; the WAL writer applies it to the head in the same order,
//!   so what is in segments up to N is exactly what a freeze at N captures;
//! - the tenant of every record comes from the caller (the token), never
//!   from the payload: decoded labels are stored under the given tenant, and
//!   a label that looks like a tenant is just a label of that tenant;
//! - a torn or corrupt WAL tail is detected by length and CRC and cut, never
//!   replayed;
//! - bad input is an error, never a panic, and nothing of a rejected request
//!   is written.
//!
//! This crate does not know about Parquet, queries or HTTP: the engine
//! freezes the head, writes the frozen part elsewhere and then releases it.

pub mod cardinality;
pub mod error;
pub mod head;
pub mod ingestor;
pub mod policy;
pub mod record;
pub mod remote_write;
pub mod wal;

pub use error::IngestError;
pub use head::{Head, HeadData, MetricMetadata, TenantHead};
pub use ingestor::{Frozen, Ingestor, IngestorConfig};
pub use record::{SeriesRecord, WriteBatch};
