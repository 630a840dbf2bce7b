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
//! - every WAL record names its kind and encoding version in its first
//!   byte; records of every earlier format still replay, and a kind or
//!   version this build does not know is an error, never a guess;
//! - bad input is an error, never a panic, and nothing of a rejected request
//!   is written.
//!
//! The head answers reads as a [`sightline_plan::StorageTier`] (metrics
//! only), of a tenant-carrying `Selection` like every other tier.
//!
//! This crate does not know about Parquet, query languages, tokens or HTTP:
//! the engine freezes the head, writes the frozen part elsewhere and then
//! releases it; what a token may write (scope, quotas, the series cap) is
//! the gateway's (`sightline-gateway`).

pub mod error;
pub mod head;
pub mod ingestor;
pub mod loki_push;
pub mod otlp;
pub mod proto;
pub mod record;
pub mod remote_write;
pub mod tail;
pub mod wal;

pub use error::{IngestError, Overload};
pub use head::{Head, HeadData, MemStream, MetricMetadata, TenantHead, TenantLogs, TenantSpans};
pub use ingestor::{Frozen, Ingestor, IngestorConfig};
pub use record::{LogBatch, Record, SeriesRecord, SpanBatch, WriteBatch};
pub use tail::{DroppedEntry, LogTaps, TailLimit, TailSubscription};
