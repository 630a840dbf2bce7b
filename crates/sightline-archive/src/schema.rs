//! The archive's row layout: the metrics schema, the bounds of record
//! batches and row groups, and the labels' JSON text.
//!
//! The column names are the ones `sightline-sql`'s DataFusion dialect
//! reads (`tenant`, `metric_name`, `labels`, `timestamp_ms`, `value`, and
//! the `date` partition of the directory names).

use std::sync::Arc;

use arrow::array::{Array, DictionaryArray, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use sightline_core::Labels;

use crate::ArchiveError;

/// Rows of one day per file. The text columns are dictionary-typed: one
/// series' labels repeat on every one of its rows, and a dictionary keeps
/// them stored, decoded and compared once per series instead of per row.
pub(crate) fn metrics_schema() -> SchemaRef {
    let dict = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    Arc::new(Schema::new(vec![
        Field::new("tenant", dict(), false),
        Field::new("series_id", DataType::UInt64, false),
        Field::new("metric_name", dict(), false),
        Field::new("labels", dict(), false),
        Field::new("timestamp_ms", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
    ]))
}

/// Rows per record batch and per row group: small enough that no text
/// column comes near Arrow's 2 GiB offset limit.
pub(crate) const ROWS_PER_BATCH: usize = 1 << 20;

/// The time span of a row group at most: one hour.
pub(crate) const ROW_GROUP_SPAN_MS: i64 = 3_600_000;

/// A label set as the `labels` column holds it.
pub(crate) fn encode_labels(labels: &Labels) -> Result<String, ArchiveError> {
    serde_json::to_string(labels).map_err(|e| ArchiveError::Corrupt(e.to_string()))
}

/// A `labels` value back as a label set.
pub(crate) fn parse_labels(s: &str) -> Result<Labels, ArchiveError> {
    serde_json::from_str(s).map_err(|e| ArchiveError::Corrupt(format!("labels {s:?}: {e}")))
}

/// The keys and the values of a dictionary-typed text column.
pub(crate) fn dictionary_col(
    b: &RecordBatch,
    i: usize,
) -> Result<(&Int32Array, &StringArray), ArchiveError> {
    let d = b
        .column(i)
        .as_any()
        .downcast_ref::<DictionaryArray<Int32Type>>()
        .ok_or_else(|| ArchiveError::Corrupt(format!("column {i} is not a text dictionary")))?;
    let values = d
        .values()
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| ArchiveError::Corrupt(format!("column {i} has non-text values")))?;
    if d.null_count() > 0 {
        return Err(ArchiveError::Corrupt(format!("column {i} has nulls")));
    }
    Ok((d.keys(), values))
}
