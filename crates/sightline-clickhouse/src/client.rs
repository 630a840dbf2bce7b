//! The ClickHouse client and tier: migrations run through it, inserts, and
//! reads (its own methods, answering [`ChError`]s, and the
//! [`StorageTier`] implementation the engine merges).

use std::collections::{HashMap, HashSet};

use clickhouse::{Client, Row};
use serde::{Deserialize, Serialize};
use sightline_core::{Labels, LogStream, Sample, Signal, TenantId};
use sightline_plan::{
    GridRow, LogSelection, Selection, SeriesSamples, StorageTier, TierError, check_signal,
};
use sightline_promql::ast::AggOp;
use sightline_promql::functions::Function;
use sightline_sql::metrics::{self, Grid, Grouping};
use sightline_sql::{ClickHouseDialect, Param, Statement};
use tokio::sync::Mutex;

use crate::ChError;

/// Every read is lowered in ClickHouse's dialect.
const DIALECT: ClickHouseDialect = ClickHouseDialect;

/// Most (tenant, series, day) keys remembered as already written; past it
/// the memory starts over (re-sent series rows collapse in the
/// `ReplacingMergeTree`, so forgetting costs a little I/O, never data).
const MAX_KNOWN_SERIES_DAYS: usize = 4_000_000;

/// Where ClickHouse is and how to log in.
#[derive(Debug, Clone)]
pub struct ClickHouseConfig {
    /// HTTP interface, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub database: String,
    /// Retention written with each row (the tables' TTL reads it).
    pub retention_days: u16,
}

/// One series to insert.
pub struct SeriesBatch<'a> {
    pub labels: &'a Labels,
    pub samples: &'a [Sample],
}

#[derive(Row, Serialize)]
struct SeriesRow<'a> {
    tenant: &'a str,
    day: u16,
    metric_name: &'a str,
    series_id: u64,
    labels: Vec<(&'a str, &'a str)>,
    retention_days: u16,
}

#[derive(Row, Serialize)]
struct SampleRow<'a> {
    tenant: &'a str,
    series_id: u64,
    timestamp_ms: i64,
    value: f64,
    retention_days: u16,
}

#[derive(Row, Deserialize)]
struct SeriesOut {
    series_id: u64,
    labels: Vec<(String, String)>,
}

#[derive(Row, Deserialize)]
struct GridOut {
    series_id: u64,
    values: Vec<Option<f64>>,
}

#[derive(Row, Deserialize)]
struct GroupOut {
    key: Vec<(String, String)>,
    n: Vec<u64>,
    s: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
}

#[derive(Row, Deserialize)]
struct SampleOut {
    series_id: u64,
    timestamp_ms: i64,
    value: f64,
}

/// A connection to the hot tier.
pub struct ClickHouse {
    /// Without a database (to create it).
    server: Client,
    client: Client,
    cfg: ClickHouseConfig,
    /// (tenant, series id, day) rows known to be in `metric_series`.
    known: Mutex<HashSet<(TenantId, u64, u16)>>,
}

impl ClickHouse {
    pub fn new(cfg: ClickHouseConfig) -> Self {
        let mut server = Client::default().with_url(&cfg.url);
        if let Some(u) = &cfg.user {
            server = server.with_user(u);
        }
        if let Some(p) = &cfg.password {
            server = server.with_password(p);
        }
        let client = server.clone().with_database(&cfg.database);
        ClickHouse {
            server,
            client,
            cfg,
            known: Mutex::new(HashSet::new()),
        }
    }

    pub(crate) fn server(&self) -> &Client {
        &self.server
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn database(&self) -> &str {
        &self.cfg.database
    }

    /// The settings this client was made with.
    pub fn config(&self) -> &ClickHouseConfig {
        &self.cfg
    }

    /// Rows in one of Sightline's tables, all tenants together (for
    /// operators and tests). Counts stored rows: a duplicate not yet merged
    /// away counts twice.
    pub async fn count_rows(&self, table: &str) -> Result<u64, ChError> {
        if !crate::migrate::TABLES.contains(&table) {
            return Err(ChError::BadQuery(format!("unknown table {table:?}")));
        }
        Ok(self
            .client
            .query("SELECT count() FROM ?")
            .bind(clickhouse::sql::Identifier(table))
            .fetch_one::<u64>()
            .await?)
    }

    /// Drops this client's database (for test runs that made their own).
    pub async fn drop_database(&self) -> Result<(), ChError> {
        self.server
            .query("DROP DATABASE IF EXISTS ?")
            .bind(clickhouse::sql::Identifier(&self.cfg.database))
            .execute()
            .await?;
        Ok(())
    }

    /// Answers when ClickHouse does.
    pub async fn ping(&self) -> Result<(), ChError> {
        self.server.query("SELECT 1").execute().await?;
        Ok(())
    }

    /// Inserts one tenant's series. `token` names this batch: inserting
    /// the same batch again under the same token (a retry after a timeout
    /// whose first attempt did land) writes nothing twice. Returns the
    /// number of samples.
    pub async fn insert_metrics(
        &self,
        tenant: &TenantId,
        series: &[SeriesBatch<'_>],
        token: &str,
    ) -> Result<usize, ChError> {
        let retention = self.cfg.retention_days;
        let ids: Vec<u64> = series.iter().map(|s| s.labels.stable_hash()).collect();
        let mut new_series = Vec::new();
        {
            let known = self.known.lock().await;
            let mut seen = HashSet::new();
            for (s, &id) in series.iter().zip(&ids) {
                // Samples are in time order: look each day up once.
                let mut last_day = None;
                for x in s.samples {
                    let day = ClickHouseDialect::date_day(x.t);
                    if last_day == Some(day) {
                        continue;
                    }
                    last_day = Some(day);
                    let key = (tenant.clone(), id, day);
                    if !known.contains(&key) && seen.insert((id, day)) {
                        new_series.push((key, s.labels));
                    }
                }
            }
        }
        if !new_series.is_empty() {
            let mut ins = self
                .client
                .insert::<SeriesRow<'_>>("metric_series")
                .await?
                .with_setting("insert_deduplication_token", format!("{token}-series"));
            for ((_, id, day), labels) in &new_series {
                ins.write(&SeriesRow {
                    tenant: tenant.as_str(),
                    day: *day,
                    metric_name: labels.metric_name().unwrap_or(""),
                    series_id: *id,
                    labels: labels
                        .iter()
                        .map(|l| (l.name.as_str(), l.value.as_str()))
                        .collect(),
                    retention_days: retention,
                })
                .await?;
            }
            ins.end().await?;
        }
        let mut n = 0;
        let mut ins = self
            .client
            .insert::<SampleRow<'_>>("metric_samples")
            .await?
            .with_setting("insert_deduplication_token", format!("{token}-samples"));
        for (s, &id) in series.iter().zip(&ids) {
            for x in s.samples {
                ins.write(&SampleRow {
                    tenant: tenant.as_str(),
                    series_id: id,
                    timestamp_ms: x.t,
                    value: x.v,
                    retention_days: retention,
                })
                .await?;
                n += 1;
            }
        }
        ins.end().await?;
        let mut known = self.known.lock().await;
        if known.len() + new_series.len() > MAX_KNOWN_SERIES_DAYS {
            known.clear();
        }
        for (key, _) in new_series {
            known.insert(key);
        }
        Ok(n)
    }

    pub(crate) fn query(&self, st: &Statement) -> clickhouse::query::Query {
        let mut q = self.client.query(st.sql());
        for (name, p) in st.params() {
            q = match p {
                Param::Str(v) => q.param(name, v),
                Param::StrArray(v) => q.param(name, v),
                Param::I64(v) => q.param(name, v),
                Param::U16(v) => q.param(name, v),
            };
        }
        q
    }

    /// Series id -> labels of the selection's series.
    async fn series_map(&self, sel: &Selection) -> Result<HashMap<u64, Labels>, ChError> {
        let Some(st) = metrics::series(&DIALECT, sel) else {
            return Ok(HashMap::new());
        };
        let rows: Vec<SeriesOut> = self.query(&st).fetch_all().await?;
        let mut out: HashMap<u64, Labels> = HashMap::with_capacity(rows.len());
        for r in rows {
            let labels = Labels::from_pairs(r.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                .map_err(|e| ChError::Corrupt(format!("labels of series {}: {e}", r.series_id)))?;
            if let Some(prev) = out.get(&r.series_id) {
                if *prev != labels {
                    return Err(ChError::Corrupt(format!(
                        "two label sets share series id {}",
                        r.series_id
                    )));
                }
            }
            out.insert(r.series_id, labels);
        }
        Ok(out)
    }

    /// The label names in use by the selection's series, computed by
    /// ClickHouse.
    pub async fn label_names(&self, sel: &Selection) -> Result<Vec<String>, ChError> {
        let Some(st) = metrics::label_names(&DIALECT, sel) else {
            return Ok(Vec::new());
        };
        let mut v: Vec<String> = self.query(&st).fetch_all().await?;
        v.sort();
        Ok(v)
    }

    /// The values of label `name` among the selection's series, computed
    /// by ClickHouse.
    pub async fn label_values(&self, sel: &Selection, name: &str) -> Result<Vec<String>, ChError> {
        let Some(st) = metrics::label_values(&DIALECT, sel, name) else {
            return Ok(Vec::new());
        };
        let mut v: Vec<String> = self.query(&st).fetch_all().await?;
        v.retain(|x| !x.is_empty());
        v.sort();
        Ok(v)
    }

    /// The label sets of the selection's series.
    pub async fn series(&self, sel: &Selection) -> Result<Vec<Labels>, ChError> {
        let mut v: Vec<Labels> = self.series_map(sel).await?.into_values().collect();
        v.sort();
        Ok(v)
    }

    /// `func` (see [`crate::grid_aggregate`]) of the selection's series on
    /// `grid`, computed by ClickHouse. `None` when ClickHouse does not
    /// compute it exactly (the registry's `clickhouse_grid`). The
    /// selection's window must be `[grid.start - range + 1, grid.end]`.
    pub async fn grid(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
    ) -> Option<Result<Vec<(Labels, Vec<Option<f64>>)>, ChError>> {
        if !func.info().clickhouse_grid {
            return None;
        }
        Some(self.grid_rows(sel, func, grid).await)
    }

    async fn grid_rows(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
    ) -> Result<Vec<(Labels, Vec<Option<f64>>)>, ChError> {
        let labels = self.series_map(sel).await?;
        if labels.is_empty() {
            return Ok(Vec::new());
        }
        let Some(st) = metrics::grid(&DIALECT, sel, func, grid) else {
            return Ok(Vec::new());
        };
        let rows: Vec<GridOut> = self
            .query(&st)
            .with_setting("allow_experimental_ts_to_grid_aggregate_function", "1")
            .fetch_all()
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(l) = labels.get(&r.series_id) else {
                continue;
            };
            out.push((l.clone(), r.values));
        }
        Ok(out)
    }

    /// `op` (`sum`, `count`, `group`, `min` or `max`: those with an
    /// [`AggOp::grid_input`]) by `grouping` of `func` on `grid`,
    /// computed by ClickHouse: one row per group with its labels and one
    /// value per grid point (`None` where no series of the group has one).
    /// `None` when ClickHouse has no such function or aggregation.
    pub async fn grid_aggregate(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
        op: AggOp,
        grouping: Grouping<'_>,
    ) -> Option<Result<Vec<(Labels, Vec<Option<f64>>)>, ChError>> {
        if !func.info().clickhouse_grid || op.grid_input().is_none() {
            return None;
        }
        let st = metrics::grid_groups(&DIALECT, sel, func, grid, grouping)?;
        let rows: Result<Vec<GroupOut>, ChError> = self
            .query(&st)
            .with_setting("allow_experimental_ts_to_grid_aggregate_function", "1")
            .fetch_all()
            .await
            .map_err(ChError::from);
        let rows = match rows {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let labels =
                match Labels::from_pairs(r.key.iter().map(|(n, v)| (n.as_str(), v.as_str()))) {
                    Ok(l) => l,
                    Err(e) => return Some(Err(ChError::Corrupt(format!("group labels: {e}")))),
                };
            let values = (0..r.n.len())
                .map(|i| {
                    let at = |v: &[f64]| v.get(i).copied().unwrap_or(f64::NAN);
                    (r.n[i] > 0).then(|| match op {
                        AggOp::Count => r.n[i] as f64,
                        AggOp::Group => 1.0,
                        AggOp::Min => at(&r.lo),
                        AggOp::Max => at(&r.hi),
                        _ => at(&r.s),
                    })
                })
                .collect();
            out.push((labels, values));
        }
        Some(Ok(out))
    }

    /// The selection's series with their samples in its window, each sorted
    /// by time without repeated timestamps.
    pub async fn select(&self, sel: &Selection) -> Result<Vec<(Labels, Vec<Sample>)>, ChError> {
        let labels = self.series_map(sel).await?;
        if labels.is_empty() {
            return Ok(Vec::new());
        }
        let Some(st) = metrics::samples(&DIALECT, sel) else {
            return Ok(Vec::new());
        };
        let rows: Vec<SampleOut> = self.query(&st).fetch_all().await?;
        let mut by_id: HashMap<u64, Vec<Sample>> = HashMap::new();
        for r in rows {
            by_id.entry(r.series_id).or_default().push(Sample {
                t: r.timestamp_ms,
                v: r.value,
            });
        }
        let mut out = Vec::with_capacity(by_id.len());
        for (id, mut samples) in by_id {
            // A series written after the look-up above has no labels here;
            // the next read sees it.
            let Some(l) = labels.get(&id) else { continue };
            sightline_core::sort_dedup(&mut samples);
            out.push((l.clone(), samples));
        }
        Ok(out)
    }
}

/// How ClickHouse names itself in errors.
const TIER: &str = "clickhouse tier";

/// ClickHouse as a storage tier: metrics, logs and spans; label names and values are
/// computed by ClickHouse, and so are the range functions it computes
/// exactly ([`crate::grid_aggregate`]) and the aggregations over them.
impl StorageTier for ClickHouse {
    async fn select(&self, sel: &Selection) -> Result<Vec<SeriesSamples>, TierError> {
        check_signal(sel, Signal::Metrics, TIER)?;
        Ok(ClickHouse::select(self, sel).await?)
    }

    async fn series(&self, sel: &Selection) -> Result<Vec<Labels>, TierError> {
        if sel.signal() == Signal::Logs {
            return Ok(ClickHouse::log_streams(self, sel).await?);
        }
        check_signal(sel, Signal::Metrics, TIER)?;
        Ok(ClickHouse::series(self, sel).await?)
    }

    async fn label_names(&self, sel: &Selection) -> Result<Vec<String>, TierError> {
        if sel.signal() == Signal::Logs {
            let mut names = std::collections::BTreeSet::new();
            for l in ClickHouse::log_streams(self, sel).await? {
                names.extend(l.iter().map(|x| x.name.clone()));
            }
            return Ok(names.into_iter().collect());
        }
        check_signal(sel, Signal::Metrics, TIER)?;
        Ok(ClickHouse::label_names(self, sel).await?)
    }

    async fn label_values(&self, sel: &Selection, name: &str) -> Result<Vec<String>, TierError> {
        if sel.signal() == Signal::Logs {
            let mut values = std::collections::BTreeSet::new();
            for l in ClickHouse::log_streams(self, sel).await? {
                if let Some(v) = l.get(name) {
                    values.insert(v.to_string());
                }
            }
            return Ok(values.into_iter().collect());
        }
        check_signal(sel, Signal::Metrics, TIER)?;
        Ok(ClickHouse::label_values(self, sel, name).await?)
    }

    async fn select_logs(&self, sel: &LogSelection) -> Result<Vec<LogStream>, TierError> {
        check_signal(sel.selection(), Signal::Logs, TIER)?;
        Ok(ClickHouse::select_logs(self, sel).await?)
    }

    async fn select_spans(
        &self,
        sel: &sightline_plan::SpanSelection,
    ) -> Result<Vec<sightline_core::span::StoredSpan>, TierError> {
        check_signal(sel.selection(), Signal::Traces, TIER)?;
        let (spans, read) = ClickHouse::select_spans(self, sel).await?;
        sel.check_rows_read(read)?;
        Ok(spans)
    }

    async fn range_grid(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
    ) -> Option<Result<Vec<GridRow>, TierError>> {
        if let Err(e) = check_signal(sel, Signal::Metrics, TIER) {
            return Some(Err(e));
        }
        let out = ClickHouse::grid(self, sel, func, grid).await?;
        Some(out.map_err(TierError::from))
    }

    async fn aggregate_grid(
        &self,
        sel: &Selection,
        func: Function,
        grid: Grid,
        op: AggOp,
        grouping: Grouping<'_>,
    ) -> Option<Result<Vec<GridRow>, TierError>> {
        if let Err(e) = check_signal(sel, Signal::Metrics, TIER) {
            return Some(Err(e));
        }
        let out = ClickHouse::grid_aggregate(self, sel, func, grid, op, grouping).await?;
        Some(out.map_err(TierError::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signal ClickHouse does not hold is refused before any request is
    /// sent (nothing listens at the address).
    #[tokio::test]
    async fn other_signals_are_refused_without_a_request() {
        let c = ClickHouse::new(ClickHouseConfig {
            url: "http://127.0.0.1:9".into(),
            user: None,
            password: None,
            database: "none".into(),
            retention_days: 1,
        });
        let t = TenantId::new("a").expect("valid");
        let traces = Selection::for_signal(t, Signal::Traces, vec![], 0, 10).expect("selection");
        let err = StorageTier::select(&c, &traces).await.expect_err("refused");
        assert_eq!(err.kind(), sightline_plan::TierErrorKind::UnsupportedSignal);
        let grid = Grid {
            start_ms: 0,
            end_ms: 10,
            step_ms: 1,
            range_ms: 1,
        };
        assert!(matches!(
            StorageTier::range_grid(&c, &traces, Function::Changes, grid).await,
            Some(Err(e)) if e.kind() == sightline_plan::TierErrorKind::UnsupportedSignal
        ));
    }
}
