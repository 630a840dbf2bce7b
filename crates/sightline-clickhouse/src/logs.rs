//! Log entries in ClickHouse's `logs` table: inserted in batches under
//! deduplication tokens, read back as `sightline-sql` statements in the
//! ClickHouse dialect (stream matchers and literal line filters evaluated
//! by ClickHouse, every value a parameter).

use clickhouse::Row;
use serde::{Deserialize, Serialize};
use sightline_core::{Direction, Labels, LogEntry, LogStream, TenantId};
use sightline_plan::{LogSelection, Selection};
use sightline_sql::{ClickHouseDialect, logs};

use crate::{ChError, ClickHouse};

/// Metadata keys that also fill the table's columns of their name.
const TRACE_ID: &str = "trace_id";
const SPAN_ID: &str = "span_id";
const SEVERITY: [&str; 3] = ["severity_text", "level", "detected_level"];

#[derive(Row, Serialize)]
struct LogRow<'a> {
    tenant: &'a str,
    timestamp_ns: i64,
    observed_timestamp_ns: i64,
    service_name: &'a str,
    severity_text: &'a str,
    severity_number: u8,
    trace_id: &'a str,
    span_id: &'a str,
    body: &'a str,
    stream_labels: Vec<(&'a str, &'a str)>,
    resource_attributes: Vec<(&'a str, &'a str)>,
    log_attributes: Vec<(&'a str, &'a str)>,
    retention_days: u16,
}

#[derive(Row, Deserialize)]
struct EntryOut {
    stream_labels: Vec<(String, String)>,
    timestamp_ns: i64,
    body: String,
    log_attributes: Vec<(String, String)>,
}

#[derive(Row, Deserialize)]
struct StreamOut {
    stream_labels: Vec<(String, String)>,
}

fn labels_of(pairs: &[(String, String)]) -> Result<Labels, ChError> {
    Labels::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .map_err(|e| ChError::Corrupt(format!("stored labels: {e}")))
}

impl ClickHouse {
    /// Inserts one tenant's log streams as one batch under `token` (a retry
    /// under the same token writes nothing twice). Returns the entries.
    pub async fn insert_logs(
        &self,
        tenant: &TenantId,
        streams: &[(&Labels, &[LogEntry])],
        token: &str,
    ) -> Result<usize, ChError> {
        let retention = self.config().retention_days;
        let mut ins = self
            .client()
            .insert::<LogRow<'_>>(ClickHouseDialect::LOGS_TABLE)
            .await?
            .with_setting("insert_deduplication_token", token.to_string());
        let mut n = 0;
        for (labels, entries) in streams {
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect();
            let service = labels.get("service_name").unwrap_or("");
            for e in *entries {
                let md = &e.metadata;
                ins.write(&LogRow {
                    tenant: tenant.as_str(),
                    timestamp_ns: e.ts_ns,
                    observed_timestamp_ns: e.ts_ns,
                    service_name: service,
                    severity_text: SEVERITY.iter().find_map(|k| md.get(k)).unwrap_or(""),
                    severity_number: 0,
                    trace_id: md.get(TRACE_ID).unwrap_or(""),
                    span_id: md.get(SPAN_ID).unwrap_or(""),
                    body: &e.line,
                    stream_labels: pairs.clone(),
                    resource_attributes: Vec::new(),
                    log_attributes: md
                        .iter()
                        .map(|l| (l.name.as_str(), l.value.as_str()))
                        .collect(),
                    retention_days: retention,
                })
                .await?;
                n += 1;
            }
        }
        ins.end().await?;
        Ok(n)
    }

    /// The selection's entries, one stream per label set, ascending by
    /// time (with a limit: at most `limit` per stream, from the direction's
    /// end).
    pub async fn select_logs(&self, sel: &LogSelection) -> Result<Vec<LogStream>, ChError> {
        let st = logs::entries(&ClickHouseDialect, sel);
        let rows: Vec<EntryOut> = self.query(&st).fetch_all().await?;
        let mut index: std::collections::HashMap<Vec<(String, String)>, usize> =
            std::collections::HashMap::new();
        let mut out: Vec<LogStream> = Vec::new();
        for r in rows {
            let i = match index.get(&r.stream_labels) {
                Some(&i) => i,
                None => {
                    out.push(LogStream {
                        labels: labels_of(&r.stream_labels)?,
                        entries: Vec::new(),
                    });
                    index.insert(r.stream_labels, out.len() - 1);
                    out.len() - 1
                }
            };
            out[i].entries.push(LogEntry {
                ts_ns: r.timestamp_ns,
                line: r.body,
                metadata: labels_of(&r.log_attributes)?,
            });
        }
        for s in &mut out {
            match sel.direction() {
                // Read newest first for the limit: back to ascending.
                Direction::Backward if sel.limit().is_some() => s.entries.reverse(),
                _ => {}
            }
            s.entries.sort_by_key(|e| e.ts_ns);
        }
        Ok(out)
    }

    /// The label sets of the streams matching the selection with an entry
    /// in its window.
    pub async fn log_streams(&self, sel: &Selection) -> Result<Vec<Labels>, ChError> {
        let st = logs::streams(&ClickHouseDialect, sel);
        let rows: Vec<StreamOut> = self.query(&st).fetch_all().await?;
        let mut out = rows
            .iter()
            .map(|r| labels_of(&r.stream_labels))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort();
        out.dedup();
        Ok(out)
    }
}
