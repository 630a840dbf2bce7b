//! The archive's row layout: the metrics schema, the bounds of record
//! batches and row groups, and the labels' JSON text.
//!
//! The column names are the ones `sightline-sql`'s DataFusion dialect
//! reads (`tenant`, `metric_name`, `labels`, `timestamp_ms`, `value`, and
//! the `date` partition of the directory names).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, DictionaryArray, Int32Array, RecordBatch, StringArray, StringDictionaryBuilder,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sightline_core::{Labels, TenantId};

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

/// The `tenant` column of `n` rows: one dictionary value.
pub(crate) fn tenant_column(tenant: &TenantId, n: usize) -> ArrayRef {
    let mut b = StringDictionaryBuilder::<Int32Type>::new();
    for _ in 0..n {
        b.append_value(tenant.as_str());
    }
    Arc::new(b.finish())
}

/// The columns of one record batch under construction, for
/// [`HourlyWriter`].
pub(crate) trait RowBatch: Default {
    fn len(&self) -> usize;
    /// Whether the batch should be written now (rows or bytes).
    fn full(&self) -> bool;
    fn finish(self, schema: &SchemaRef, tenant: &TenantId) -> Result<RecordBatch, ArchiveError>;
}

/// A Parquet file written in row groups that never span two hours (or
/// whatever unit the caller's `hour` numbers are in), from record
/// batches of at most [`ROWS_PER_BATCH`] rows: the layout both signals'
/// files share, so that row-group statistics prune a window by time.
pub(crate) struct HourlyWriter<'a, B: RowBatch> {
    w: ArrowWriter<&'a mut Vec<u8>>,
    schema: SchemaRef,
    tenant: &'a TenantId,
    batch: B,
    hour: Option<i64>,
    rows: usize,
}

impl<'a, B: RowBatch> HourlyWriter<'a, B> {
    /// `dictionary_page_bytes`: room for every distinct value of a
    /// dictionary column, when the default is too small.
    pub(crate) fn new(
        buf: &'a mut Vec<u8>,
        schema: SchemaRef,
        tenant: &'a TenantId,
        dictionary_page_bytes: Option<usize>,
    ) -> Result<Self, ArchiveError> {
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(ROWS_PER_BATCH));
        if let Some(n) = dictionary_page_bytes {
            props = props.set_dictionary_page_size_limit(n);
        }
        let w = ArrowWriter::try_new(buf, schema.clone(), Some(props.build()))?;
        Ok(HourlyWriter {
            w,
            schema,
            tenant,
            batch: B::default(),
            hour: None,
            rows: 0,
        })
    }

    /// The rows that follow belong to `hour`: a new hour closes the row
    /// group.
    pub(crate) fn hour(&mut self, hour: i64) -> Result<(), ArchiveError> {
        if self.hour.is_some_and(|h| h != hour) {
            self.write_batch()?;
            self.w.flush()?;
        }
        self.hour = Some(hour);
        Ok(())
    }

    /// The batch to push rows into; call [`HourlyWriter::pushed`] after.
    pub(crate) fn batch(&mut self) -> &mut B {
        &mut self.batch
    }

    /// Writes the batch once it is full.
    pub(crate) fn pushed(&mut self) -> Result<(), ArchiveError> {
        if self.batch.full() {
            self.write_batch()?;
        }
        Ok(())
    }

    fn write_batch(&mut self) -> Result<(), ArchiveError> {
        if self.batch.len() > 0 {
            self.rows += self.batch.len();
            let b = std::mem::take(&mut self.batch).finish(&self.schema, self.tenant)?;
            self.w.write(&b)?;
        }
        Ok(())
    }

    /// Finishes the file; returns its row count.
    pub(crate) fn close(mut self) -> Result<usize, ArchiveError> {
        self.write_batch()?;
        self.w.close()?;
        Ok(self.rows)
    }
}
