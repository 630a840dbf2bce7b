use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
    StringDictionaryBuilder, UInt64Array,
};
use arrow::datatypes::Int32Type;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sightline_core::{
    Labels, METRIC_NAME, MatchOp, Matcher, Sample, TenantId, matches_all, sort_dedup,
};
use tokio::sync::Mutex;

use crate::ArchiveError;

const YEAR_0_MS: i64 = -62_167_219_200_000;
const YEAR_9999_END_MS: i64 = 253_402_300_799_999;

/// One series read from the archive.
pub type ArchivedSeries = (Labels, Vec<Sample>);

/// The metrics archive of all tenants.
pub struct Archive {
    store: Arc<dyn ObjectStore>,
    /// Absolute filesystem root of the archive, used for DataFusion's table URLs.
    root: String,
    schema: SchemaRef,
    /// Dates each tenant has files for, loaded lazily from a listing.
    dates: Mutex<HashMap<TenantId, BTreeSet<String>>>,
}

/// Rows of one day per file. The text columns are dictionary-typed: one
/// series' labels repeat on every one of its rows, and a dictionary keeps
/// them stored, decoded and compared once per series instead of per row.
fn metrics_schema() -> SchemaRef {
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
const ROWS_PER_BATCH: usize = 1 << 20;

/// The time span of a row group at most: one hour.
const ROW_GROUP_SPAN_MS: i64 = 3_600_000;

impl Archive {
    /// Opens (creating it if needed) an archive on the local filesystem.
    pub fn open_local(dir: &Path) -> Result<Self, ArchiveError> {
        std::fs::create_dir_all(dir)?;
        let abs = std::fs::canonicalize(dir)?;
        let root = abs
            .to_str()
            .ok_or_else(|| ArchiveError::Corrupt(format!("archive path {abs:?} is not UTF-8")))?
            .trim_end_matches('/')
            .to_string();
        Ok(Archive {
            store: Arc::new(LocalFileSystem::new_with_prefix(&abs)?),
            root,
            schema: metrics_schema(),
            dates: Mutex::new(HashMap::new()),
        })
    }

    fn tenant_prefix(tenant: &TenantId) -> String {
        format!("tenant={}/signal=metrics", tenant.as_str())
    }

    async fn tenant_dates(&self, tenant: &TenantId) -> Result<BTreeSet<String>, ArchiveError> {
        let mut g = self.dates.lock().await;
        if let Some(d) = g.get(tenant) {
            return Ok(d.clone());
        }
        let prefix = ObjPath::from(Self::tenant_prefix(tenant));
        let listing = self.store.list_with_delimiter(Some(&prefix)).await?;
        let mut set = BTreeSet::new();
        for p in listing.common_prefixes {
            if let Some(d) = p.filename().and_then(|f| f.strip_prefix("date=")) {
                set.insert(d.to_string());
            }
        }
        g.insert(tenant.clone(), set.clone());
        Ok(set)
    }

    /// Writes one tenant's series as Parquet, one file per UTC day.
    pub async fn write_metrics<'a>(
        &self,
        tenant: &TenantId,
        series: impl Iterator<Item = (&'a Labels, &'a [Sample])>,
        file_stem: &str,
    ) -> Result<usize, ArchiveError> {
        // date -> that day's part of each series
        let mut by_day: BTreeMap<String, Vec<DaySeries>> = BTreeMap::new();
        for (labels, samples) in series {
            if samples.is_empty() {
                continue;
            }
            let json: Arc<str> = serde_json::to_string(labels)
                .map_err(|e| ArchiveError::Corrupt(e.to_string()))?
                .into();
            let name: Arc<str> = labels.metric_name().unwrap_or("").into();
            let id = labels.stable_hash();
            // Samples are sorted by time, so each day is one contiguous run.
            let mut rest = samples;
            while let Some(first) = rest.first() {
                let day = first.t.div_euclid(DAY_MS);
                let n = rest.partition_point(|x| x.t.div_euclid(DAY_MS) == day);
                by_day
                    .entry(sightline_core::time::utc_date(first.t))
                    .or_default()
                    .push(DaySeries {
                        labels: json.clone(),
                        name: name.clone(),
                        id,
                        samples: rest[..n].to_vec(),
                    });
                rest = &rest[n..];
            }
        }
        let mut rows_written = 0;
        for (date, day) in by_day {
            // Sorting and compressing are CPU work: off the async workers.
            let (schema, t) = (self.schema.clone(), tenant.clone());
            let (buf, n) = tokio::task::spawn_blocking(move || encode_parquet(schema, &t, day))
                .await
                .map_err(|e| ArchiveError::Corrupt(format!("encoding task failed: {e}")))??;
            let path = ObjPath::from(format!(
                "{}/date={date}/{file_stem}.parquet",
                Self::tenant_prefix(tenant)
            ));
            self.store.put(&path, PutPayload::from(buf)).await?;
            self.sync(&path).await?;
            self.dates
                .lock()
                .await
                .entry(tenant.clone())
                .or_default()
                .insert(date);
            rows_written += n;
        }
        Ok(rows_written)
    }

    /// Makes a file written through the local store durable: the store's
    /// `put` renames a temporary file into place but does not fsync, and
    /// the WAL segments behind a flush are deleted right after it.
    async fn sync(&self, path: &ObjPath) -> Result<(), ArchiveError> {
        let file = std::path::PathBuf::from(format!("{}/{}", self.root, path));
        let root = std::path::PathBuf::from(&self.root);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::File::open(&file)?.sync_all()?;
            let mut dir = file.parent();
            while let Some(d) = dir {
                std::fs::File::open(d)?.sync_all()?;
                if d == root {
                    break;
                }
                dir = d.parent();
            }
            Ok(())
        })
        .await
        .map_err(|e| ArchiveError::Corrupt(format!("sync task failed: {e}")))??;
        Ok(())
    }

    /// Runs a scoped query over one tenant's metrics table and returns the
    /// record batches. `extra` adds predicates over `$6...` parameters.
    async fn query(
        &self,
        tenant: &TenantId,
        select: &str,
        start: i64,
        end: i64,
        name: Option<&str>,
    ) -> Result<Vec<RecordBatch>, ArchiveError> {
        let dates = self.tenant_dates(tenant).await?;
        let (d0, d1) = (
            // Dates compare as strings, which holds for years 0000-9999.
            sightline_core::time::utc_date(start.clamp(YEAR_0_MS, YEAR_9999_END_MS)),
            sightline_core::time::utc_date(end.clamp(YEAR_0_MS, YEAR_9999_END_MS)),
        );
        if !dates.iter().any(|d| *d >= d0 && *d <= d1) {
            return Ok(Vec::new());
        }
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
        let url = ListingTableUrl::parse(format!(
            "file://{}/{}/",
            self.root,
            Self::tenant_prefix(tenant)
        ))?;
        let opts = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![("date".to_string(), DataType::Utf8)]);
        ctx.register_listing_table("metrics", url, opts, Some(self.schema.clone()), None)
            .await?;
        let mut sql = format!(
            "SELECT {select} FROM metrics WHERE tenant = $1 AND date >= $2 AND date <= $3 \
             AND timestamp_ms >= $4 AND timestamp_ms <= $5"
        );
        let mut params = vec![
            ScalarValue::Utf8(Some(tenant.as_str().to_string())),
            ScalarValue::Utf8(Some(d0)),
            ScalarValue::Utf8(Some(d1)),
            ScalarValue::Int64(Some(start)),
            ScalarValue::Int64(Some(end)),
        ];
        if let Some(n) = name {
            sql.push_str(" AND metric_name = $6");
            params.push(ScalarValue::Utf8(Some(n.to_string())));
        }
        let df = ctx.sql(&sql).await?.with_param_values(params)?;
        Ok(df.collect().await?)
    }

    /// Every series of `tenant` matching `matchers` with its samples in
    /// `[start, end]`, each sorted with repeated timestamps removed.
    pub async fn select(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<ArchivedSeries>, ArchiveError> {
        let batches = self
            .query(
                tenant,
                "labels, timestamp_ms, value",
                start,
                end,
                name_eq(matchers),
            )
            .await?;
        // Label text -> index into `out` (None: the series does not match).
        let mut decoded: HashMap<String, Option<usize>> = HashMap::new();
        let mut out: Vec<(Labels, Vec<Sample>)> = Vec::new();
        for b in &batches {
            let ts = b
                .column(1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(|| ArchiveError::Corrupt("timestamp_ms is not Int64".into()))?;
            let vs = b
                .column(2)
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| ArchiveError::Corrupt("value is not Float64".into()))?;
            let (keys, values) = dictionary_col(b, 0)?;
            // Each distinct label text of the batch is looked up once.
            let mut slot: Vec<Option<Option<usize>>> = vec![None; values.len()];
            for i in 0..b.num_rows() {
                let k = keys.value(i) as usize;
                let target = match slot.get(k).copied().flatten() {
                    Some(t) => t,
                    None => {
                        let text = values.value(k);
                        let t = match decoded.get(text) {
                            Some(t) => *t,
                            None => {
                                let l = parse_labels(text)?;
                                let t = matches_all(matchers, &l).then(|| {
                                    out.push((l, Vec::new()));
                                    out.len() - 1
                                });
                                decoded.insert(text.to_string(), t);
                                t
                            }
                        };
                        if let Some(x) = slot.get_mut(k) {
                            *x = Some(t);
                        }
                        t
                    }
                };
                if let Some(t) = target {
                    out[t].1.push(Sample {
                        t: ts.value(i),
                        v: vs.value(i),
                    });
                }
            }
        }
        Ok(out
            .into_iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(l, mut s)| {
                sort_dedup(&mut s);
                (l, s)
            })
            .collect())
    }

    /// The label sets of `tenant`'s series with a sample in `[start, end]`
    /// that match `matchers`.
    pub async fn series(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<Labels>, ArchiveError> {
        let batches = self
            .query(tenant, "DISTINCT labels", start, end, name_eq(matchers))
            .await?;
        let mut out = Vec::new();
        for b in &batches {
            let col = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
            let col = col
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| ArchiveError::Corrupt("labels is not text".into()))?;
            for i in 0..b.num_rows() {
                let l = parse_labels(col.value(i))?;
                if matches_all(matchers, &l) {
                    out.push(l);
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Stores a small JSON document for a tenant (metadata).
    pub async fn put_json(
        &self,
        tenant: &TenantId,
        name: &str,
        body: Vec<u8>,
    ) -> Result<(), ArchiveError> {
        let path = ObjPath::from(format!("tenant={}/signal=metadata/{name}", tenant.as_str()));
        self.store.put(&path, PutPayload::from(body)).await?;
        Ok(())
    }

    /// Reads every tenant's JSON document of that name.
    pub async fn all_json(&self, name: &str) -> Result<Vec<(TenantId, Vec<u8>)>, ArchiveError> {
        let mut out = Vec::new();
        let top = self.store.list_with_delimiter(None).await?;
        for p in top.common_prefixes {
            let Some(t) = p.filename().and_then(|f| f.strip_prefix("tenant=")) else {
                continue;
            };
            let Ok(tenant) = TenantId::new(t) else {
                continue;
            };
            let path = ObjPath::from(format!("tenant={t}/signal=metadata/{name}"));
            match self.store.get(&path).await {
                Ok(r) => out.push((tenant, r.bytes().await?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }
}

const DAY_MS: i64 = 86_400_000;

/// One series' samples within one day.
struct DaySeries {
    labels: Arc<str>,
    name: Arc<str>,
    id: u64,
    samples: Vec<Sample>,
}

/// One day's rows of a tenant as a Parquet file. Rows are ordered by hour,
/// then metric name, series and time, and no row group spans two hours, so
/// the row groups' statistics prune by time range and by metric name.
/// Returns the file and its row count.
fn encode_parquet(
    schema: SchemaRef,
    tenant: &TenantId,
    day: Vec<DaySeries>,
) -> Result<(Vec<u8>, usize), ArchiveError> {
    // (hour, series index, sample range) for each series' part of each hour.
    let mut parts: Vec<(i64, usize, std::ops::Range<usize>)> = Vec::new();
    for (i, s) in day.iter().enumerate() {
        let mut at = 0;
        while at < s.samples.len() {
            let hour = s.samples[at].t.div_euclid(ROW_GROUP_SPAN_MS);
            let n = s.samples[at..].partition_point(|x| x.t.div_euclid(ROW_GROUP_SPAN_MS) == hour);
            parts.push((hour, i, at..at + n));
            at += n;
        }
    }
    parts.sort_by(|a, b| {
        let (x, y) = (&day[a.1], &day[b.1]);
        a.0.cmp(&b.0)
            .then(x.name.cmp(&y.name))
            .then(x.id.cmp(&y.id))
    });
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROWS_PER_BATCH))
        // Room for every distinct label set of a day in the dictionary.
        .set_dictionary_page_size_limit(64 << 20)
        .build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, schema.clone(), Some(props))?;
    let mut rows = 0;
    let mut batch = BatchBuilder::default();
    let mut current_hour = None;
    for (hour, i, range) in parts {
        if current_hour.is_some_and(|h| h != hour) {
            // Close the row group at the hour boundary.
            if batch.len() > 0 {
                rows += batch.len();
                w.write(&std::mem::take(&mut batch).finish(&schema, tenant)?)?;
            }
            w.flush()?;
        }
        current_hour = Some(hour);
        let s = &day[i];
        let mut rest = &s.samples[range];
        while !rest.is_empty() {
            let n = rest.len().min(ROWS_PER_BATCH - batch.len());
            batch.push(s, &rest[..n]);
            rest = &rest[n..];
            if batch.len() == ROWS_PER_BATCH {
                rows += batch.len();
                w.write(&std::mem::take(&mut batch).finish(&schema, tenant)?)?;
            }
        }
    }
    if batch.len() > 0 {
        rows += batch.len();
        w.write(&batch.finish(&schema, tenant)?)?;
    }
    w.close()?;
    Ok((buf, rows))
}

/// Columns of one record batch under construction.
#[derive(Default)]
struct BatchBuilder {
    ids: Vec<u64>,
    names: StringDictionaryBuilder<Int32Type>,
    labels: StringDictionaryBuilder<Int32Type>,
    ts: Vec<i64>,
    vs: Vec<f64>,
}

impl BatchBuilder {
    fn len(&self) -> usize {
        self.ts.len()
    }

    fn push(&mut self, s: &DaySeries, samples: &[Sample]) {
        for x in samples {
            self.ids.push(s.id);
            self.names.append_value(&*s.name);
            self.labels.append_value(&*s.labels);
            self.ts.push(x.t);
            self.vs.push(x.v);
        }
    }

    fn finish(
        mut self,
        schema: &SchemaRef,
        tenant: &TenantId,
    ) -> Result<RecordBatch, ArchiveError> {
        let n = self.ts.len();
        let mut tenants = StringDictionaryBuilder::<Int32Type>::new();
        for _ in 0..n {
            tenants.append_value(tenant.as_str());
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(tenants.finish()),
            Arc::new(UInt64Array::from(self.ids)),
            Arc::new(self.names.finish()),
            Arc::new(self.labels.finish()),
            Arc::new(Int64Array::from(self.ts)),
            Arc::new(Float64Array::from(self.vs)),
        ];
        Ok(RecordBatch::try_new(schema.clone(), cols)?)
    }
}

fn name_eq(matchers: &[Matcher]) -> Option<&str> {
    matchers
        .iter()
        .find(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal)
        .map(|m| m.value.as_str())
}

/// The keys and the values of a dictionary-typed text column.
fn dictionary_col(
    b: &RecordBatch,
    i: usize,
) -> Result<(&arrow::array::Int32Array, &StringArray), ArchiveError> {
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

fn parse_labels(s: &str) -> Result<Labels, ArchiveError> {
    serde_json::from_str(s).map_err(|e| ArchiveError::Corrupt(format!("labels {s:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied()).expect("valid")
    }

    #[tokio::test]
    async fn write_then_select_scoped_to_tenant() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ar = Archive::open_local(dir.path()).expect("open");
        let a = TenantId::new("a").expect("valid");
        let b = TenantId::new("b").expect("valid");
        let s1 = l(&[("__name__", "up"), ("job", "x")]);
        let s2 = l(&[("__name__", "up"), ("job", "y")]);
        let day = 86_400_000;
        let xs = vec![Sample { t: 1000, v: 1.0 }, Sample { t: day + 5, v: 2.0 }];
        let ys = vec![Sample { t: 2000, v: 3.0 }];
        ar.write_metrics(&a, [(&s1, &xs[..]), (&s2, &ys[..])].into_iter(), "p1")
            .await
            .expect("write");
        // The same samples again in another file: reads de-duplicate.
        ar.write_metrics(&a, [(&s1, &xs[..])].into_iter(), "p2")
            .await
            .expect("write");
        ar.write_metrics(&b, [(&s1, &ys[..])].into_iter(), "p1")
            .await
            .expect("write");

        let m = vec![
            Matcher::new("__name__", MatchOp::Equal, "up").expect("valid"),
            Matcher::new("job", MatchOp::Regex, "x|z").expect("valid"),
        ];
        let got = ar.select(&a, &m, 0, 2 * day).await.expect("select");
        assert_eq!(got, vec![(s1.clone(), xs.clone())]);
        let got = ar.select(&a, &m, 1500, 2 * day).await.expect("select");
        assert_eq!(got[0].1, vec![xs[1]]);
        let got = ar.select(&b, &m, 0, 2 * day).await.expect("select");
        assert_eq!(got, vec![(s1.clone(), ys.clone())]);
        let series = ar.series(&a, &[], 0, 2 * day).await.expect("series");
        assert_eq!(series, vec![s1, s2]);
        // Prometheus's min/max times (look-ups without bounds) still find them.
        let all = ar
            .series(&a, &[], -9_223_309_901_257_974, 9_223_309_901_257_974)
            .await
            .expect("series");
        assert_eq!(all.len(), 2);
        let none = TenantId::new("c").expect("valid");
        assert!(
            ar.select(&none, &m, 0, 2 * day)
                .await
                .expect("select")
                .is_empty()
        );
    }

    /// More rows than one record batch holds, across a day boundary: every
    /// sample comes back once, each day in its own file.
    #[tokio::test]
    async fn large_writes_are_split_into_batches_and_days() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ar = Archive::open_local(dir.path()).expect("open");
        let a = TenantId::new("a").expect("valid");
        let big = l(&[("__name__", "m"), ("k", "big")]);
        let small = l(&[("__name__", "m"), ("k", "small")]);
        let n = ROWS_PER_BATCH + 1000;
        let t0 = DAY_MS - 50_000_000;
        let xs: Vec<Sample> = (0..n as i64)
            .map(|i| Sample {
                t: t0 + i * 100,
                v: i as f64,
            })
            .collect();
        let ys = vec![Sample { t: t0, v: 1.0 }, Sample { t: DAY_MS, v: 2.0 }];
        let rows = ar
            .write_metrics(&a, [(&big, &xs[..]), (&small, &ys[..])].into_iter(), "p")
            .await
            .expect("write");
        assert_eq!(rows, n + 2);
        assert_eq!(ar.tenant_dates(&a).await.expect("dates").len(), 2);
        let m = vec![Matcher::new("__name__", MatchOp::Equal, "m").expect("valid")];
        let mut got = ar.select(&a, &m, 0, 3 * DAY_MS).await.expect("select");
        got.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, xs);
        assert_eq!(got[1].1, ys);
    }
}
