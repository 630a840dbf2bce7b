//! Plan nodes lowered to SQL text plus bound parameters, one rendering per
//! [`Dialect`]: [`ClickHouseDialect`] for the hot tier and
//! [`DataFusionDialect`] for the Parquet archive. Storage crates only run
//! the [`Statement`]s made here; no SQL is written anywhere else.
//!
//! Invariants kept here:
//! - pure: no I/O, no async, no database client; a selection in, text and
//!   values out;
//! - the tenant predicate is forced by construction: a [`Statement`] has
//!   private fields and is built only by this crate's lowering functions,
//!   each from a [`sightline_plan::Selection`] (which cannot exist without a
//!   tenant); the tenant is its first parameter and every `WHERE` of its
//!   text, nested ones too, starts with `tenant = ` and that placeholder,
//!   because the only way to open a `WHERE` is the one that writes it;
//! - values (the tenant, matcher values and regular expressions, label
//!   names, times, days, grouping labels) are only ever parameters; the
//!   text is constants and the placeholders the dialect renders;
//! - identifiers (tables, columns, ClickHouse functions) come only from
//!   constants and allow-lists such as [`metrics::grid_aggregate`] (a
//!   `match` on the function registry's `Function`).
//!
//! Layout: `dialect.rs` (the trait and both dialects), `statement.rs`
//! (`Statement`, `Param`, the builder), `metrics.rs` + `metrics/` (one file
//! per metric node kind), `logs.rs` (log entries with their stream
//! matchers and literal line filters, and stream label sets). Other signals' nodes get a module of their own
//! beside `metrics`.

mod dialect;
pub mod logs;
pub mod metrics;
pub mod spans;
mod statement;

pub use dialect::{
    ClickHouseDialect, DataFusionDialect, Dialect, LogTable, MetricTables, SpanTable,
};
pub use statement::{Param, Statement};

#[cfg(test)]
mod check;
