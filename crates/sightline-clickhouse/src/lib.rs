//! The ClickHouse hot tier: schema migrations, batched inserts with
//! deduplication tokens, and the execution of reads.
//!
//! This crate writes no read SQL: every read is a
//! [`sightline_sql::Statement`] lowered with the ClickHouse dialect, which
//! only a [`sightline_plan::Selection`] can build (so it always carries the
//! tenant predicate, the tenant bound as a parameter). This crate binds the
//! statement's parameters as ClickHouse `{name:Type}` parameters and runs
//! it; values and label names never reach ClickHouse as SQL text.
//!
//! [`ClickHouse`] (`client.rs`) is the client and the tier: inserts, and
//! every read as an implementation of [`sightline_plan::StorageTier`]
//! (metrics and logs; range functions and aggregations over them are
//! computed on ClickHouse's grid functions where that is exact).
//! `logs.rs`: log inserts into the `logs` table and its reads (stream
//! matchers and literal line filters evaluated by ClickHouse). `spans.rs`:
//! span inserts into the `spans` table (searched fields as columns, the
//! span's OTLP form beside them) and their reads. `error.rs` sorts
//! ClickHouse's failures into refused input, unavailable and bad data.

mod client;
mod error;
mod logs;
mod migrate;
mod spans;
#[cfg(feature = "testing")]
pub mod testing;

pub use client::{ClickHouse, ClickHouseConfig, SeriesBatch};
pub use error::ChError;
pub use migrate::MIGRATIONS;
pub use sightline_sql::metrics::{Grid, Grouping, grid_aggregate};
