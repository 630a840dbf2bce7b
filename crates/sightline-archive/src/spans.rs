//! Spans in the archive: one Parquet file per tenant, day (of the span's
//! start) and flushed head part under `tenant=<t>/signal=traces/date=<d>/`,
//! rows ordered by start time in row groups of at most an hour, each span
//! whole (its OTLP form beside the fields searches read); read back
//! through `sightline-sql`'s DataFusion statement and checked again with
//! [`SpanSelection::admits`].

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BinaryBuilder, Int32Array, Int64Array, RecordBatch, StringArray,
    StringBuilder, StringDictionaryBuilder,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use sightline_core::span::{StoredSpan, hex, ids_from_hex};
use sightline_core::time::DAY_NS;
use sightline_core::{Signal, TenantId};
use sightline_plan::SpanSelection;
use sightline_sql::{DataFusionDialect, spans};

use crate::manifest::FileFacts;
use crate::read::Table;
use crate::schema::{
    HourlyWriter, ROWS_PER_BATCH, RowBatch, encode_labels, parse_labels, tenant_column,
};
use crate::{Archive, ArchiveError};

/// The span rows' columns (see `sightline_sql::spans::SPAN_COLUMNS`).
pub(crate) fn spans_schema() -> SchemaRef {
    let dict = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    Arc::new(Schema::new(vec![
        Field::new("tenant", dict(), false),
        Field::new("trace_id", DataType::Utf8, false),
        Field::new("span_id", DataType::Utf8, false),
        Field::new("parent_span_id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("kind", DataType::Int32, false),
        Field::new("start_ns", DataType::Int64, false),
        Field::new("end_ns", DataType::Int64, false),
        Field::new("status_code", DataType::Int32, false),
        Field::new("service_name", dict(), false),
        Field::new("attributes", DataType::Utf8, false),
        Field::new("resource", DataType::Utf8, false),
        Field::new("otlp", DataType::Binary, false),
    ]))
}

/// The time span of a row group at most: one hour.
const ROW_GROUP_SPAN_NS: i64 = 3_600_000_000_000;

/// Encoded bytes per record batch at most.
const BYTES_PER_BATCH: usize = 256 << 20;

impl Archive {
    /// Writes one tenant's spans as Parquet, one file per UTC day of their
    /// start, named `<file_stem>.parquet` (a retried flush overwrites its
    /// own earlier attempt). Returns the spans written. The spans are read
    /// where they are (a frozen head part holds them), not copied.
    pub async fn write_spans<S>(
        &self,
        tenant: &TenantId,
        spans: S,
        file_stem: &str,
    ) -> Result<usize, ArchiveError>
    where
        S: AsRef<[StoredSpan]> + Send + Sync + 'static,
    {
        let spans = Arc::new(spans);
        let mut by_day: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        for (i, s) in (*spans).as_ref().iter().enumerate() {
            by_day
                .entry(s.start_ns.div_euclid(DAY_NS))
                .or_default()
                .push(i as u32);
        }
        let mut written = 0;
        for (day, mut order) in by_day {
            let date = sightline_core::time::utc_date(day.saturating_mul(86_400_000));
            let t = tenant.clone();
            let all = Arc::clone(&spans);
            let (buf, facts) = tokio::task::spawn_blocking(move || {
                let all = (*all).as_ref();
                order.sort_by_key(|&i| all[i as usize].start_ns);
                // Sorted by start: the first and last bound the file.
                let ends: Vec<i64> = [order.first(), order.last()]
                    .into_iter()
                    .flatten()
                    .map(|&i| all[i as usize].start_ns.div_euclid(1_000_000))
                    .collect();
                encode(&t, order.iter().map(|&i| &all[i as usize]))
                    .map(|(buf, n)| (buf, FileFacts::spanning(n, ends)))
            })
            .await
            .map_err(|e| ArchiveError::Corrupt(format!("encoding task failed: {e}")))??;
            self.commit(tenant, Signal::Traces, &date, file_stem, buf, facts)
                .await?;
            written += facts.rows as usize;
        }
        Ok(written)
    }

    /// The spans the selection admits, and how many rows were read.
    pub(crate) async fn span_rows(
        &self,
        sel: &SpanSelection,
    ) -> Result<(Vec<StoredSpan>, usize), ArchiveError> {
        let table = Table {
            signal: Signal::Traces,
            name: DataFusionDialect::SPANS_TABLE,
            schema: spans_schema(),
        };
        let st = spans::spans(&DataFusionDialect, sel);
        let batches = self.run_on(&table, sel.selection(), &st).await?;
        let mut out = Vec::new();
        for b in &batches {
            let text = |i: usize, name: &str| -> Result<&StringArray, ArchiveError> {
                b.column(i)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| ArchiveError::Corrupt(format!("{name} is not text")))
            };
            let int32 = |i: usize, name: &str| -> Result<&Int32Array, ArchiveError> {
                b.column(i)
                    .as_any()
                    .downcast_ref::<Int32Array>()
                    .ok_or_else(|| ArchiveError::Corrupt(format!("{name} is not Int32")))
            };
            let int64 = |i: usize, name: &str| -> Result<&Int64Array, ArchiveError> {
                b.column(i)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .ok_or_else(|| ArchiveError::Corrupt(format!("{name} is not Int64")))
            };
            let (trace, span, parent, name) = (
                text(0, "trace_id")?,
                text(1, "span_id")?,
                text(2, "parent_span_id")?,
                text(3, "name")?,
            );
            let (kind, start, end, status) = (
                int32(4, "kind")?,
                int64(5, "start_ns")?,
                int64(6, "end_ns")?,
                int32(7, "status_code")?,
            );
            let service = b.column(8);
            let service = arrow::compute::cast(service, &DataType::Utf8)?;
            let service = service
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| ArchiveError::Corrupt("service_name is not text".into()))?;
            let (attrs, resource) = (text(9, "attributes")?, text(10, "resource")?);
            let otlp = b
                .column(11)
                .as_any()
                .downcast_ref::<BinaryArray>()
                .ok_or_else(|| ArchiveError::Corrupt("otlp is not binary".into()))?;
            for i in 0..b.num_rows() {
                let (trace_id, span_id, parent_span_id) =
                    ids_from_hex(trace.value(i), span.value(i), parent.value(i))
                        .map_err(ArchiveError::Corrupt)?;
                let s = StoredSpan {
                    trace_id,
                    span_id,
                    parent_span_id,
                    name: name.value(i).to_string(),
                    kind: kind.value(i),
                    start_ns: start.value(i),
                    end_ns: end.value(i),
                    status_code: status.value(i),
                    service_name: service.value(i).to_string(),
                    attributes: parse_labels(attrs.value(i))?,
                    resource: parse_labels(resource.value(i))?.into(),
                    otlp: otlp.value(i).to_vec(),
                };
                if sel.admits(&s) {
                    out.push(s);
                }
            }
        }
        let read = batches.iter().map(|b| b.num_rows()).sum();
        Ok((out, read))
    }
}

/// One day's spans of a tenant as a Parquet file; returns it and its row
/// count.
fn encode<'a>(
    tenant: &TenantId,
    spans: impl Iterator<Item = &'a StoredSpan>,
) -> Result<(Vec<u8>, usize), ArchiveError> {
    let mut buf = Vec::new();
    let mut w = HourlyWriter::<Rows>::new(&mut buf, spans_schema(), tenant, None)?;
    for s in spans {
        w.hour(s.start_ns.div_euclid(ROW_GROUP_SPAN_NS))?;
        w.batch().push(s)?;
        w.pushed()?;
    }
    let rows = w.close()?;
    Ok((buf, rows))
}

/// Columns of one record batch under construction.
#[derive(Default)]
struct Rows {
    trace: StringBuilder,
    span: StringBuilder,
    parent: StringBuilder,
    name: StringBuilder,
    kind: Vec<i32>,
    start: Vec<i64>,
    end: Vec<i64>,
    status: Vec<i32>,
    service: StringDictionaryBuilder<Int32Type>,
    attributes: StringBuilder,
    resource: StringBuilder,
    otlp: BinaryBuilder,
    bytes: usize,
}

impl Rows {
    fn push(&mut self, s: &StoredSpan) -> Result<(), ArchiveError> {
        self.bytes += s.otlp.len();
        self.trace.append_value(hex(&s.trace_id));
        self.span.append_value(hex(&s.span_id));
        self.parent
            .append_value(s.parent_span_id.map(|p| hex(&p)).unwrap_or_default());
        self.name.append_value(&s.name);
        self.kind.push(s.kind);
        self.start.push(s.start_ns);
        self.end.push(s.end_ns);
        self.status.push(s.status_code);
        self.service.append_value(&s.service_name);
        self.attributes.append_value(encode_labels(&s.attributes)?);
        self.resource.append_value(encode_labels(&s.resource)?);
        self.otlp.append_value(&s.otlp);
        Ok(())
    }
}

impl RowBatch for Rows {
    fn len(&self) -> usize {
        self.start.len()
    }

    fn full(&self) -> bool {
        self.start.len() >= ROWS_PER_BATCH || self.bytes >= BYTES_PER_BATCH
    }

    fn finish(
        mut self,
        schema: &SchemaRef,
        tenant: &TenantId,
    ) -> Result<RecordBatch, ArchiveError> {
        let n = self.start.len();
        let cols: Vec<ArrayRef> = vec![
            tenant_column(tenant, n),
            Arc::new(self.trace.finish()),
            Arc::new(self.span.finish()),
            Arc::new(self.parent.finish()),
            Arc::new(self.name.finish()),
            Arc::new(Int32Array::from(self.kind)),
            Arc::new(Int64Array::from(self.start)),
            Arc::new(Int64Array::from(self.end)),
            Arc::new(Int32Array::from(self.status)),
            Arc::new(self.service.finish()),
            Arc::new(self.attributes.finish()),
            Arc::new(self.resource.finish()),
            Arc::new(self.otlp.finish()),
        ];
        Ok(RecordBatch::try_new(schema.clone(), cols)?)
    }
}

#[cfg(test)]
mod tests {
    use sightline_core::Labels;
    use sightline_plan::{ReadScope, StorageTier};

    use super::*;

    fn span(trace: u8, id: u8, start: i64, end: i64, app: &str) -> StoredSpan {
        StoredSpan {
            trace_id: [trace; 16],
            span_id: [id; 8],
            parent_span_id: (id > 1).then_some([1; 8]),
            name: format!("op{id}"),
            kind: 2,
            start_ns: start,
            end_ns: end,
            status_code: 0,
            service_name: "checkout".into(),
            attributes: Labels::from_pairs([("http.route", "/cart")]).expect("labels"),
            resource: Labels::from_pairs([("application", app), ("service.name", "checkout")])
                .expect("labels")
                .into(),
            otlp: vec![id, 1, 2, 3],
        }
    }

    #[tokio::test]
    async fn spans_round_trip_per_tenant_by_trace_and_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ar = Archive::open_local(dir.path()).expect("open");
        let a = TenantId::new("a").expect("tenant");
        let b = TenantId::new("b").expect("tenant");
        // The second span of trace 1 starts the day before its window ends.
        let xs = vec![
            span(1, 1, DAY_NS - 10, DAY_NS + 10, "shop"),
            span(1, 2, DAY_NS + 1, DAY_NS + 5, "shop"),
            span(2, 3, 2 * DAY_NS, 2 * DAY_NS + 1, "billing"),
        ];
        assert_eq!(
            ar.write_spans(&a, xs.clone(), "p1").await.expect("write"),
            3
        );
        ar.write_spans(&b, vec![span(1, 9, DAY_NS + 1, DAY_NS + 2, "shop")], "p1")
            .await
            .expect("write");
        assert!(
            dir.path()
                .join("tenant=a/signal=traces/date=1970-01-01/p1.parquet")
                .exists()
        );
        let scope = ReadScope::tenant(a.clone());
        let sel = scope
            .select_spans(Some([1; 16]), DAY_NS, DAY_NS + 100)
            .expect("selection");
        let got = StorageTier::select_spans(&ar, &sel).await.expect("select");
        let mut ids: Vec<u8> = got.iter().map(|s| s.span_id[0]).collect();
        ids.sort();
        assert_eq!(ids, [1, 2], "b's span of the same trace id is not a's");
        assert_eq!(got.iter().find(|s| s.span_id[0] == 2), Some(&xs[1]));
        // A scope reads its application's spans only.
        let shop = ReadScope::with_labels(a.clone(), &[("application".into(), "billing".into())])
            .expect("scope");
        let sel = shop.select_spans(None, 0, 3 * DAY_NS).expect("selection");
        let got = StorageTier::select_spans(&ar, &sel).await.expect("select");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].span_id, [3; 8]);
    }
}
