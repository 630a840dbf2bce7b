//! Sightline's vocabulary: tenants, signals, label sets, matchers, samples
//! and time, and Go's float formatting ([`gofmt`]), in which Prometheus
//! writes numbers.
//!
//! This crate is pure: no async, no I/O, no clock. Every other crate speaks in
//! these types. Invariants kept here:
//! - a [`TenantId`] is always a validated, path- and SQL-safe identifier;
//! - a [`Labels`] set is always sorted by name with unique names;
//! - a regex [`Matcher`] is always anchored at both ends, as Prometheus anchors it.

pub mod error;
pub mod gofmt;
pub mod labels;
pub mod log;
pub mod matcher;
pub mod sample;
pub mod signal;
pub mod span;
pub mod tenant;
pub mod time;

pub use error::CoreError;
pub use labels::{Label, Labels, METRIC_NAME, is_valid_label_name};
pub use log::{Direction, LogEntry, LogStream, merge_log_streams};
pub use matcher::{MatchOp, Matcher, matches_all};
pub use sample::{
    EXEMPLAR_MAX_LABEL_RUNES, Exemplar, STALE_NAN_BITS, Sample, is_stale_nan, lower_bound,
    sort_dedup, stale_nan, time_window,
};
pub use signal::Signal;
pub use tenant::TenantId;
