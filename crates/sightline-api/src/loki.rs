//! Loki's HTTP API: the push door (`push.rs`) and the query endpoints
//! Grafana's Loki data source and Loki's clients call, answered in Loki's
//! shapes and wording.

pub(crate) mod detected;
mod encode;
mod params;
pub(crate) mod push;
pub(crate) mod query;
pub(crate) mod tail;

pub(crate) use params::now_ns;
mod volume;
