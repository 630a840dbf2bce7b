//! Writing: one tenant's series as one Parquet file per UTC day, put whole
//! and made durable before the call returns.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringDictionaryBuilder, UInt64Array,
};
use arrow::datatypes::{Int32Type, SchemaRef};
use object_store::path::Path as ObjPath;
use sightline_core::time::{DAY_MS, utc_date};
use sightline_core::{Labels, Sample, Signal, TenantId};

use crate::manifest::FileFacts;
use crate::schema::{
    HourlyWriter, ROW_GROUP_SPAN_MS, ROWS_PER_BATCH, RowBatch, encode_labels, tenant_column,
};
use crate::{Archive, ArchiveError};

impl Archive {
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
            let json: Arc<str> = encode_labels(labels)?.into();
            let name: Arc<str> = labels.metric_name().unwrap_or("").into();
            let id = labels.stable_hash();
            // Samples are sorted by time, so each day is one contiguous run.
            let mut rest = samples;
            while let Some(first) = rest.first() {
                let day = first.t.div_euclid(DAY_MS);
                let n = rest.partition_point(|x| x.t.div_euclid(DAY_MS) == day);
                by_day
                    .entry(utc_date(first.t))
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
            // Each series' samples are in time order: its ends bound the file.
            let ends: Vec<i64> = day
                .iter()
                .flat_map(|s| [s.samples.first(), s.samples.last()])
                .flatten()
                .map(|x| x.t)
                .collect();
            let (buf, n) = tokio::task::spawn_blocking(move || encode_parquet(schema, &t, day))
                .await
                .map_err(|e| ArchiveError::Corrupt(format!("encoding task failed: {e}")))??;
            let facts = FileFacts::spanning(n, ends);
            self.commit(tenant, Signal::Metrics, &date, file_stem, buf, facts)
                .await?;
            rows_written += n;
        }
        Ok(rows_written)
    }

    /// Makes a file written through the local store durable: the store's
    /// `put` renames a temporary file into place but does not fsync, and
    /// the WAL segments behind a flush are deleted right after it.
    /// The file and every directory up to the root (a put may have made
    /// them) are synced.
    pub(crate) async fn sync(&self, path: &ObjPath) -> Result<(), ArchiveError> {
        self.sync_with(path, true).await
    }

    /// Makes a rename within an existing directory durable: the directory
    /// alone is synced.
    pub(crate) async fn sync_dir_of(&self, path: &ObjPath) -> Result<(), ArchiveError> {
        self.sync_with(path, false).await
    }

    async fn sync_with(&self, path: &ObjPath, up_to_root: bool) -> Result<(), ArchiveError> {
        let file = std::path::PathBuf::from(format!("{}/{}", self.root, path));
        let root = std::path::PathBuf::from(&self.root);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if up_to_root {
                std::fs::File::open(&file)?.sync_all()?;
            }
            let mut dir = file.parent();
            while let Some(d) = dir {
                std::fs::File::open(d)?.sync_all()?;
                if d == root || !up_to_root {
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
}

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
    let mut buf = Vec::new();
    // Room for every distinct label set of a day in the dictionary.
    let mut w = HourlyWriter::<BatchBuilder>::new(&mut buf, schema, tenant, Some(64 << 20))?;
    for (hour, i, range) in parts {
        w.hour(hour)?;
        let s = &day[i];
        let mut rest = &s.samples[range];
        while !rest.is_empty() {
            let n = rest.len().min(ROWS_PER_BATCH - w.batch().len());
            w.batch().push(s, &rest[..n]);
            rest = &rest[n..];
            w.pushed()?;
        }
    }
    let rows = w.close()?;
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
    fn push(&mut self, s: &DaySeries, samples: &[Sample]) {
        for x in samples {
            self.ids.push(s.id);
            self.names.append_value(&*s.name);
            self.labels.append_value(&*s.labels);
            self.ts.push(x.t);
            self.vs.push(x.v);
        }
    }
}

impl RowBatch for BatchBuilder {
    fn len(&self) -> usize {
        self.ts.len()
    }

    fn full(&self) -> bool {
        self.ts.len() >= ROWS_PER_BATCH
    }

    fn finish(
        mut self,
        schema: &SchemaRef,
        tenant: &TenantId,
    ) -> Result<RecordBatch, ArchiveError> {
        let cols: Vec<ArrayRef> = vec![
            tenant_column(tenant, self.ts.len()),
            Arc::new(UInt64Array::from(self.ids)),
            Arc::new(self.names.finish()),
            Arc::new(self.labels.finish()),
            Arc::new(Int64Array::from(self.ts)),
            Arc::new(Float64Array::from(self.vs)),
        ];
        Ok(RecordBatch::try_new(schema.clone(), cols)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::{MatchOp, Matcher};

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied()).expect("valid")
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
