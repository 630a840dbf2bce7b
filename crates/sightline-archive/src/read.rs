//! Reading: a tenant's samples and series through DataFusion, over a
//! listing table registered on that tenant's directory only, running the
//! statements `sightline-sql` lowers in its DataFusion dialect.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;
use sightline_core::{
    Labels, LogStream, Matcher, Sample, Signal, TenantId, matches_all, sort_dedup,
};
use sightline_plan::{
    LogSelection, Selection, SeriesSamples, StorageTier, TierError, check_signal,
};
use sightline_sql::{DataFusionDialect, Param, Statement, metrics};

use crate::schema::{dictionary_col, parse_labels};
use crate::visible::{READ_URL, Visible};
use crate::{Archive, ArchiveError};

/// A table of one signal: the listing table registered for a read.
pub(crate) struct Table {
    pub signal: Signal,
    pub name: &'static str,
    pub schema: arrow::datatypes::SchemaRef,
}

/// One series read from the archive.
pub type ArchivedSeries = (Labels, Vec<Sample>);

/// Every read is lowered in DataFusion's dialect.
const DIALECT: DataFusionDialect = DataFusionDialect;

/// The selection a read describes; `None` for a window that ends before it
/// starts, which holds nothing.
fn selection(
    tenant: &TenantId,
    matchers: &[Matcher],
    start: i64,
    end: i64,
) -> Result<Option<Selection>, ArchiveError> {
    if end < start {
        return Ok(None);
    }
    Ok(Some(Selection::new(
        tenant.clone(),
        matchers.to_vec(),
        start,
        end,
    )?))
}

/// A parameter as DataFusion binds it.
pub(crate) fn scalar(p: &Param) -> ScalarValue {
    match p {
        Param::Str(s) => ScalarValue::Utf8(Some(s.clone())),
        Param::StrArray(v) => {
            let items: Vec<ScalarValue> = v
                .iter()
                .map(|s| ScalarValue::Utf8(Some(s.clone())))
                .collect();
            ScalarValue::List(ScalarValue::new_list_nullable(&items, &DataType::Utf8))
        }
        Param::I64(x) => ScalarValue::Int64(Some(*x)),
        Param::U16(x) => ScalarValue::UInt16(Some(*x)),
    }
}

impl Archive {
    /// Runs `st`, lowered from `sel`, over the metrics of `sel`'s tenant and
    /// returns the record batches. Nothing is read when the tenant has no
    /// file for a date of the window.
    async fn run(
        &self,
        sel: &Selection,
        st: Option<Statement>,
    ) -> Result<Vec<RecordBatch>, ArchiveError> {
        let Some(st) = st else {
            return Ok(Vec::new());
        };
        let table = Table {
            signal: Signal::Metrics,
            name: DataFusionDialect::METRICS_TABLE,
            schema: self.schema.clone(),
        };
        self.run_on(&table, sel, &st).await
    }

    /// Runs `st` over `table` of `sel`'s tenant (a listing table on that
    /// tenant's directory of the table's signal, dates as a partition
    /// column); nothing is read when no file has a date in the window.
    pub(crate) async fn run_on(
        &self,
        table: &Table,
        sel: &Selection,
        st: &Statement,
    ) -> Result<Vec<RecordBatch>, ArchiveError> {
        let tenant = sel.tenant();
        let dates = self.signal_dates(tenant, table.signal).await?;
        let (d0, d1) = DataFusionDialect::date_range(sel.start_ms(), sel.end_ms());
        // Only the files the window's manifests list are visible; with none,
        // nothing is read.
        let mut listed = HashSet::new();
        for d in dates.iter().filter(|d| **d >= d0 && **d <= d1) {
            let dir = crate::manifest::day_dir(tenant, table.signal, d);
            for (name, entry) in self.manifest(tenant, table.signal, d).await?.files {
                if entry.schema_version > crate::manifest::SCHEMA_VERSION {
                    return Err(ArchiveError::Corrupt(format!(
                        "{dir}/{name} has schema version {}, newer than this build's {}",
                        entry.schema_version,
                        crate::manifest::SCHEMA_VERSION
                    )));
                }
                listed.insert(object_store::path::Path::from(format!("{dir}/{name}")));
            }
        }
        if listed.is_empty() {
            return Ok(Vec::new());
        }
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
        let view = ObjectStoreUrl::parse(READ_URL)?;
        ctx.register_object_store(
            view.as_ref(),
            Arc::new(Visible::new(Arc::clone(&self.store), listed)),
        );
        let url = ListingTableUrl::parse(format!(
            "{READ_URL}/{}/",
            Self::signal_prefix(tenant, table.signal)
        ))?;
        let opts = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![(
                DataFusionDialect::DATE_COLUMN.to_string(),
                DataType::Utf8,
            )]);
        ctx.register_listing_table(table.name, url, opts, Some(table.schema.clone()), None)
            .await?;
        let params: Vec<ScalarValue> = st.params().iter().map(|(_, p)| scalar(p)).collect();
        let df = ctx.sql(st.sql()).await?.with_param_values(params)?;
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
        let Some(sel) = selection(tenant, matchers, start, end)? else {
            return Ok(Vec::new());
        };
        self.samples_of(&sel).await
    }

    /// The selection's series with their samples (see [`Archive::select`]).
    async fn samples_of(&self, sel: &Selection) -> Result<Vec<ArchivedSeries>, ArchiveError> {
        let matchers = sel.matchers();
        // Columns: labels, timestamp_ms, value.
        let batches = self.run(sel, metrics::samples(&DIALECT, sel)).await?;
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
                                // The statement matched the metric name
                                // only; every matcher is applied here.
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
        let Some(sel) = selection(tenant, matchers, start, end)? else {
            return Ok(Vec::new());
        };
        self.series_of(&sel).await
    }

    /// The selection's label sets (see [`Archive::series`]).
    async fn series_of(&self, sel: &Selection) -> Result<Vec<Labels>, ArchiveError> {
        // One column: the distinct labels.
        let matchers = sel.matchers();
        let batches = self.run(sel, metrics::series(&DIALECT, sel)).await?;
        label_sets(&batches, matchers)
    }
}

/// The distinct label sets in the first column (labels as JSON text) of
/// `batches` that match `matchers`, sorted.
pub(crate) fn label_sets(
    batches: &[RecordBatch],
    matchers: &[Matcher],
) -> Result<Vec<Labels>, ArchiveError> {
    let mut out = Vec::new();
    for b in batches {
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

/// How the archive names itself in errors.
const TIER: &str = "archive";

/// The archive as a storage tier: metrics and logs (label names and
/// values come from its series and streams).
impl StorageTier for Archive {
    async fn select(&self, sel: &Selection) -> Result<Vec<SeriesSamples>, TierError> {
        check_signal(sel, Signal::Metrics, TIER)?;
        Ok(self.samples_of(sel).await?)
    }

    async fn series(&self, sel: &Selection) -> Result<Vec<Labels>, TierError> {
        if sel.signal() == Signal::Logs {
            return Ok(self.log_streams(sel).await?);
        }
        check_signal(sel, Signal::Metrics, TIER)?;
        Ok(self.series_of(sel).await?)
    }

    async fn select_logs(&self, sel: &LogSelection) -> Result<Vec<LogStream>, TierError> {
        check_signal(sel.selection(), Signal::Logs, TIER)?;
        Ok(self.log_entries(sel).await?)
    }

    async fn select_spans(
        &self,
        sel: &sightline_plan::SpanSelection,
    ) -> Result<Vec<sightline_core::span::StoredSpan>, TierError> {
        check_signal(sel.selection(), Signal::Traces, TIER)?;
        let (spans, read) = self.span_rows(sel).await?;
        sel.check_rows_read(read)?;
        Ok(spans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::MatchOp;
    use sightline_core::time::DAY_MS;

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
        let day = DAY_MS;
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
        assert_eq!(series, vec![s1.clone(), s2]);
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
        // A window ending before it starts holds nothing.
        assert!(ar.select(&a, &m, 10, 5).await.expect("select").is_empty());
        // Matchers on the metric name other than equality run here too.
        let re = vec![Matcher::new("__name__", MatchOp::Regex, "u.").expect("valid")];
        let got = ar.series(&a, &re, 0, 2 * day).await.expect("series");
        assert_eq!(got.len(), 2);
        let other = vec![Matcher::new("__name__", MatchOp::Equal, "down").expect("valid")];
        assert!(
            ar.series(&a, &other, 0, 2 * day)
                .await
                .expect("series")
                .is_empty()
        );
        assert_eq!(
            ar.select(&a, &[], 0, 2 * day).await.expect("select").len(),
            2
        );
        // Through the tier trait: the same answer, and no other signal.
        let sel = Selection::new(a.clone(), m.clone(), 0, 2 * day).expect("selection");
        assert_eq!(
            StorageTier::select(&ar, &sel).await.expect("select"),
            vec![(s1.clone(), xs.clone())]
        );
        assert_eq!(
            ar.label_values(&sel, "job").await.expect("values"),
            vec!["x".to_string()]
        );
        let traces = Selection::for_signal(a, Signal::Traces, m, 0, 2 * day).expect("selection");
        let err = StorageTier::series(&ar, &traces)
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), sightline_plan::TierErrorKind::UnsupportedSignal);
    }
}
