//! The ClickHouse hot tier: schema migrations, batched inserts with
//! deduplication tokens, and reads lowered to parameterized SQL.
//!
//! Every statement is a [`Statement`], which can only be built from a
//! [`sightline_plan::Selection`] (so it always carries the tenant predicate
//! with the tenant bound as a parameter); values and label names reach
//! ClickHouse only as `{name:Type}` parameters, never as SQL text.

mod error;
mod migrate;
mod sql;
mod store;
pub mod testing;

pub use error::ChError;
pub use migrate::MIGRATIONS;
pub use sql::{GRID_AGGREGATES, Grid, Grouping, Param, Statement};
pub use store::{ClickHouse, ClickHouseConfig, SeriesBatch};
