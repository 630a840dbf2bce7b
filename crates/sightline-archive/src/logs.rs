//! Log entries in the archive: one Parquet file per tenant, day and flushed
//! head part under `tenant=<t>/signal=logs/date=<d>/`, rows ordered by
//! hour, stream and time, no row group spanning two hours (so a window
//! prunes by the time statistics); read back through `sightline-sql`'s
//! DataFusion statements, stream matchers applied here on the decoded
//! label sets.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, StringBuilder, StringDictionaryBuilder,
    UInt64Array,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use sightline_core::time::DAY_NS;
use sightline_core::{Direction, Labels, LogEntry, LogStream, Signal, TenantId, matches_all};
use sightline_plan::{LogSelection, Selection};
use sightline_sql::{DataFusionDialect, logs};

use crate::manifest::FileFacts;
use crate::read::{Table, label_sets};
use crate::schema::{
    HourlyWriter, ROWS_PER_BATCH, RowBatch, dictionary_col, encode_labels, parse_labels,
    tenant_column,
};
use crate::{Archive, ArchiveError};

/// The log rows' columns, as `sightline-sql`'s DataFusion dialect names
/// them. Stream labels are dictionary-typed: they repeat on every entry.
pub(crate) fn logs_schema() -> SchemaRef {
    let dict = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    Arc::new(Schema::new(vec![
        Field::new("tenant", dict(), false),
        Field::new("stream_id", DataType::UInt64, false),
        Field::new("labels", dict(), false),
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("line", DataType::Utf8, false),
        Field::new("metadata", DataType::Utf8, false),
    ]))
}

/// The time span of a row group at most: one hour.
const ROW_GROUP_SPAN_NS: i64 = 3_600_000_000_000;

/// Text bytes per record batch at most, far under Arrow's 2 GiB offsets.
const BYTES_PER_BATCH: usize = 256 << 20;

/// One stream's entries within one day.
struct DayStream {
    labels: Arc<str>,
    id: u64,
    entries: Vec<LogEntry>,
}

impl Archive {
    /// Writes one tenant's log streams as Parquet, one file per UTC day,
    /// named `<file_stem>.parquet` (a retried flush overwrites its own
    /// earlier attempt). Returns the entries written.
    pub async fn write_logs<'a>(
        &self,
        tenant: &TenantId,
        streams: impl Iterator<Item = (&'a Labels, &'a [LogEntry])>,
        file_stem: &str,
    ) -> Result<usize, ArchiveError> {
        let mut by_day: BTreeMap<i64, Vec<DayStream>> = BTreeMap::new();
        for (labels, entries) in streams {
            let json: Arc<str> = encode_labels(labels)?.into();
            let id = labels.stable_hash();
            let mut rest = entries;
            // Entries are in time order, so each day is one run.
            while let Some(first) = rest.first() {
                let day = first.ts_ns.div_euclid(DAY_NS);
                let n = rest.partition_point(|e| e.ts_ns.div_euclid(DAY_NS) == day);
                by_day.entry(day).or_default().push(DayStream {
                    labels: json.clone(),
                    id,
                    entries: rest[..n].to_vec(),
                });
                rest = &rest[n..];
            }
        }
        let mut written = 0;
        for (day, streams) in by_day {
            let date = sightline_core::time::utc_date(day.saturating_mul(86_400_000));
            let (schema, t) = (logs_schema(), tenant.clone());
            // Each stream's entries are in time order: its ends bound the file.
            let ends: Vec<i64> = streams
                .iter()
                .flat_map(|s| [s.entries.first(), s.entries.last()])
                .flatten()
                .map(|e| e.ts_ns.div_euclid(1_000_000))
                .collect();
            let (buf, n) = tokio::task::spawn_blocking(move || encode(schema, &t, streams))
                .await
                .map_err(|e| ArchiveError::Corrupt(format!("encoding task failed: {e}")))??;
            let facts = FileFacts::spanning(n, ends);
            self.commit(tenant, Signal::Logs, &date, file_stem, buf, facts)
                .await?;
            written += n;
        }
        Ok(written)
    }

    fn logs_table() -> Table {
        Table {
            signal: Signal::Logs,
            name: DataFusionDialect::LOGS_TABLE,
            schema: logs_schema(),
        }
    }

    /// The selection's entries, one stream per label set, ascending by
    /// time; with a limit, each stream cut to the `limit` entries at the
    /// direction's end (a superset of the global answer).
    pub(crate) async fn log_entries(
        &self,
        sel: &LogSelection,
    ) -> Result<Vec<LogStream>, ArchiveError> {
        let st = logs::entries(&DataFusionDialect, sel);
        let batches = self
            .run_on(&Self::logs_table(), sel.selection(), &st)
            .await?;
        let matchers = sel.selection().matchers();
        let mut decoded: HashMap<String, Option<usize>> = HashMap::new();
        let mut out: Vec<LogStream> = Vec::new();
        for b in &batches {
            let (keys, values) = dictionary_col(b, 0)?;
            let ts = b
                .column(1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(|| ArchiveError::Corrupt("timestamp_ns is not Int64".into()))?;
            let lines = text_col(b, 2, "line")?;
            let metadata = text_col(b, 3, "metadata")?;
            for i in 0..b.num_rows() {
                let text = values.value(keys.value(i) as usize);
                let target = match decoded.get(text) {
                    Some(t) => *t,
                    None => {
                        let l = parse_labels(text)?;
                        let t = matches_all(matchers, &l).then(|| {
                            out.push(LogStream {
                                labels: l,
                                entries: Vec::new(),
                            });
                            out.len() - 1
                        });
                        decoded.insert(text.to_string(), t);
                        t
                    }
                };
                if let Some(t) = target {
                    out[t].entries.push(LogEntry {
                        ts_ns: ts.value(i),
                        line: lines.value(i).to_string(),
                        metadata: parse_labels(metadata.value(i))?,
                    });
                }
            }
        }
        for s in &mut out {
            s.entries.sort_by_key(|e| e.ts_ns);
            if let Some(n) = sel.limit()
                && s.entries.len() > n
            {
                match sel.direction() {
                    Direction::Forward => s.entries.truncate(n),
                    Direction::Backward => {
                        s.entries.drain(..s.entries.len() - n);
                    }
                }
            }
        }
        out.retain(|s| !s.entries.is_empty());
        Ok(out)
    }

    /// The label sets of the streams matching the selection with an entry
    /// in its window.
    pub(crate) async fn log_streams(&self, sel: &Selection) -> Result<Vec<Labels>, ArchiveError> {
        let st = logs::streams(&DataFusionDialect, sel);
        let batches = self.run_on(&Self::logs_table(), sel, &st).await?;
        label_sets(&batches, sel.matchers())
    }
}

fn text_col<'a>(b: &'a RecordBatch, i: usize, name: &str) -> Result<&'a StringArray, ArchiveError> {
    let c = b
        .column(i)
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| ArchiveError::Corrupt(format!("{name} is not text")))?;
    if c.null_count() > 0 {
        return Err(ArchiveError::Corrupt(format!("{name} has nulls")));
    }
    Ok(c)
}

/// One day's entries of a tenant as a Parquet file; returns it and its
/// row count.
fn encode(
    schema: SchemaRef,
    tenant: &TenantId,
    day: Vec<DayStream>,
) -> Result<(Vec<u8>, usize), ArchiveError> {
    // (hour, stream index, entry range) for each stream's part of each hour.
    let mut parts: Vec<(i64, usize, std::ops::Range<usize>)> = Vec::new();
    for (i, s) in day.iter().enumerate() {
        let mut at = 0;
        while at < s.entries.len() {
            let hour = s.entries[at].ts_ns.div_euclid(ROW_GROUP_SPAN_NS);
            let n =
                s.entries[at..].partition_point(|e| e.ts_ns.div_euclid(ROW_GROUP_SPAN_NS) == hour);
            parts.push((hour, i, at..at + n));
            at += n;
        }
    }
    parts.sort_by(|a, b| a.0.cmp(&b.0).then(day[a.1].id.cmp(&day[b.1].id)));
    let mut buf = Vec::new();
    let mut w = HourlyWriter::<Rows>::new(&mut buf, schema, tenant, None)?;
    for (hour, i, range) in parts {
        w.hour(hour)?;
        let s = &day[i];
        for e in &s.entries[range] {
            w.batch().push(s, e)?;
            w.pushed()?;
        }
    }
    let rows = w.close()?;
    Ok((buf, rows))
}

/// Columns of one record batch under construction.
#[derive(Default)]
struct Rows {
    ids: Vec<u64>,
    labels: StringDictionaryBuilder<Int32Type>,
    ts: Vec<i64>,
    lines: StringBuilder,
    metadata: StringBuilder,
    bytes: usize,
}

impl Rows {
    fn push(&mut self, s: &DayStream, e: &LogEntry) -> Result<(), ArchiveError> {
        let md = encode_labels(&e.metadata)?;
        self.bytes += e.line.len() + md.len();
        self.ids.push(s.id);
        self.labels.append_value(&*s.labels);
        self.ts.push(e.ts_ns);
        self.lines.append_value(&e.line);
        self.metadata.append_value(md);
        Ok(())
    }
}

impl RowBatch for Rows {
    fn len(&self) -> usize {
        self.ts.len()
    }

    fn full(&self) -> bool {
        self.ts.len() >= ROWS_PER_BATCH || self.bytes >= BYTES_PER_BATCH
    }

    fn finish(
        mut self,
        schema: &SchemaRef,
        tenant: &TenantId,
    ) -> Result<RecordBatch, ArchiveError> {
        let cols: Vec<ArrayRef> = vec![
            tenant_column(tenant, self.ts.len()),
            Arc::new(UInt64Array::from(self.ids)),
            Arc::new(self.labels.finish()),
            Arc::new(Int64Array::from(self.ts)),
            Arc::new(self.lines.finish()),
            Arc::new(self.metadata.finish()),
        ];
        Ok(RecordBatch::try_new(schema.clone(), cols)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::{MatchOp, Matcher};
    use sightline_plan::{ReadScope, StorageTier};

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied()).expect("valid")
    }

    fn e(ts: i64, line: &str, md: &[(&str, &str)]) -> LogEntry {
        LogEntry {
            ts_ns: ts,
            line: line.into(),
            metadata: l(md),
        }
    }

    #[tokio::test]
    async fn logs_round_trip_per_tenant_with_filters_and_limits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ar = Archive::open_local(dir.path()).expect("open");
        let a = TenantId::new("a").expect("valid");
        let b = TenantId::new("b").expect("valid");
        let api = l(&[("app", "api"), ("env", "prod")]);
        let web = l(&[("app", "web"), ("env", "dev")]);
        let hour = ROW_GROUP_SPAN_NS;
        let xs = vec![
            e(10, "GET /a 200", &[("trace_id", "t1")]),
            e(hour + 5, "GET /b 500", &[]),
            e(DAY_NS + 1, "next day", &[]),
        ];
        let ys = vec![e(20, "web line", &[])];
        let n = ar
            .write_logs(&a, [(&api, &xs[..]), (&web, &ys[..])].into_iter(), "p1")
            .await
            .expect("write");
        assert_eq!(n, 4);
        ar.write_logs(&b, [(&api, &ys[..])].into_iter(), "p1")
            .await
            .expect("write");
        assert!(
            dir.path()
                .join("tenant=a/signal=logs/date=1970-01-02/p1.parquet")
                .exists()
        );

        let scope = ReadScope::tenant(a.clone());
        let m = |name: &str, v: &str| Matcher::new(name, MatchOp::Equal, v).expect("valid");
        let sel = scope
            .select_logs(vec![m("app", "api")], 0, 2 * DAY_NS)
            .expect("selection");
        let got = StorageTier::select_logs(&ar, &sel).await.expect("select");
        assert_eq!(
            got,
            vec![LogStream {
                labels: api.clone(),
                entries: xs.clone()
            }]
        );
        // The window is [start, end).
        let sel = scope
            .select_logs(vec![m("app", "api")], 10, DAY_NS + 1)
            .expect("selection");
        let got = StorageTier::select_logs(&ar, &sel).await.expect("select");
        assert_eq!(got[0].entries, xs[..2].to_vec());
        // Literal filters are pushed into the statement.
        let Ok(sightline_logql::ast::Expr::Log(q)) =
            sightline_logql::parse(r#"{app="api"} |= "500""#)
        else {
            panic!("parses");
        };
        let filters = q
            .stages
            .into_iter()
            .filter_map(|s| match s {
                sightline_logql::ast::Stage::LineFilter(f) => Some(f),
                _ => None,
            })
            .collect();
        let sel = scope
            .select_logs(vec![], 0, 2 * DAY_NS)
            .expect("selection")
            .with_line_filters(filters);
        let got = StorageTier::select_logs(&ar, &sel).await.expect("select");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].entries, vec![xs[1].clone()]);
        // A limit keeps each stream's newest entries.
        let sel = scope
            .select_logs(vec![m("env", "prod")], 0, 2 * DAY_NS)
            .expect("selection")
            .with_limit(Some(1));
        let got = StorageTier::select_logs(&ar, &sel).await.expect("select");
        assert_eq!(got[0].entries, vec![xs[2].clone()]);
        // Streams, per tenant.
        let s = Selection::for_signal(a.clone(), Signal::Logs, vec![], 0, 1).expect("selection");
        let mut got = StorageTier::series(&ar, &s).await.expect("series");
        got.sort();
        assert_eq!(got, vec![api.clone(), web.clone()]);
        let s = Selection::for_signal(b.clone(), Signal::Logs, vec![], 0, 1).expect("selection");
        assert_eq!(
            StorageTier::series(&ar, &s).await.expect("series"),
            vec![api.clone()]
        );
        let other = ReadScope::tenant(TenantId::new("c").expect("valid"));
        let sel = other.select_logs(vec![], 0, 2 * DAY_NS).expect("selection");
        assert!(
            StorageTier::select_logs(&ar, &sel)
                .await
                .expect("select")
                .is_empty()
        );
    }
}
