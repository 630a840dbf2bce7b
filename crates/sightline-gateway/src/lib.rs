//! The ingest gateway: the one write sequence behind every door
//! (remote_write, Loki push, OTLP over HTTP and gRPC) for every signal. A door
//! decodes its payload into a batch for the token's tenant and hands it,
//! with the token's [`Authenticated`](sightline_control::Authenticated), to
//! [`Gateway`]; it gets back what was written or a typed [`Refusal`] that it
//! maps to its protocol's status. Nothing here knows HTTP or gRPC.
//!
//! Invariants kept here:
//! - the steps run in one order: the tenant set from the token, the
//!   token's write policy (scope labels written over the producer's,
//!   services outside the token's list refused, values under sensitive keys
//!   redacted), the daily byte quota, the active-series cap, then the write,
//!   acknowledged once it is in the WAL;
//! - a refusal before the write stores nothing, and one before or at the
//!   quota step charges nothing;
//! - a write that fails after the quota was charged gives the bytes back;
//! - the series cap drops only new series past it; the rest of the batch is
//!   written, and the caller learns how many were dropped;
//! - every refusal is counted by tenant, signal and reason
//!   (`sightline_ingest_refused_total`) and every request by tenant, signal
//!   and outcome (`sightline_ingest_requests_total`), whichever door it came in
//!   by;
//! - CPU work on a batch (the policy) runs on a blocking thread, never on
//!   the async workers.

pub mod cardinality;
mod pipeline;
pub mod policy;
mod refusal;

pub use pipeline::{
    Gateway, GatewayConfig, INGEST_LOG_ENTRIES_TOTAL, INGEST_REFUSED_TOTAL, INGEST_REQUESTS_TOTAL,
    INGEST_SAMPLES_TOTAL, INGEST_SPANS_TOTAL, Written,
};
pub use refusal::{OVERLOAD_RETRY_AFTER_SECS, Refusal, RefusalKind, SeriesCapHit};
