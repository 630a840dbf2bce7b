//! Spans in ClickHouse's `spans` table: inserted in batches under
//! deduplication tokens, one row per span with the fields searches read as
//! columns (ids as lowercase hex, kind and status by name, the duration)
//! and the whole span as OTLP encodes it in `otlp`; read back as a
//! `sightline-sql` statement in the ClickHouse dialect and checked again
//! with [`SpanSelection::admits`].

use clickhouse::Row;
use serde::{Deserialize, Serialize};
use sightline_core::span::{
    StoredSpan, hex, ids_from_hex, kind_from_name, kind_name, status_from_name, status_name,
};
use sightline_core::{Labels, TenantId};
use sightline_plan::SpanSelection;
use sightline_sql::{ClickHouseDialect, spans};

use crate::{ChError, ClickHouse};

#[derive(Row, Serialize)]
struct SpanRow<'a> {
    tenant: &'a str,
    timestamp_ns: i64,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    span_name: &'a str,
    span_kind: &'a str,
    service_name: &'a str,
    duration_ns: u64,
    status_code: &'a str,
    resource_attributes: Vec<(&'a str, &'a str)>,
    span_attributes: Vec<(&'a str, &'a str)>,
    retention_days: u16,
    #[serde(with = "serde_bytes")]
    otlp: &'a [u8],
}

#[derive(Row, Deserialize)]
struct SpanOut {
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    span_name: String,
    span_kind: String,
    timestamp_ns: i64,
    end_ns: i64,
    status_code: String,
    service_name: String,
    span_attributes: Vec<(String, String)>,
    resource_attributes: Vec<(String, String)>,
    #[serde(with = "serde_bytes")]
    otlp: Vec<u8>,
}

fn pairs(l: &Labels) -> Vec<(&str, &str)> {
    l.iter()
        .map(|x| (x.name.as_str(), x.value.as_str()))
        .collect()
}

fn labels_of(pairs: &[(String, String)], what: &str) -> Result<Labels, ChError> {
    Labels::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .map_err(|e| ChError::Corrupt(format!("stored {what}: {e}")))
}

impl SpanOut {
    fn into_span(self) -> Result<StoredSpan, ChError> {
        let (trace_id, span_id, parent_span_id) =
            ids_from_hex(&self.trace_id, &self.span_id, &self.parent_span_id)
                .map_err(ChError::Corrupt)?;
        let kind = kind_from_name(&self.span_kind)
            .ok_or_else(|| ChError::Corrupt(format!("span kind {:?}", self.span_kind)))?;
        let status_code = status_from_name(&self.status_code)
            .ok_or_else(|| ChError::Corrupt(format!("status code {:?}", self.status_code)))?;
        Ok(StoredSpan {
            trace_id,
            span_id,
            parent_span_id,
            name: self.span_name,
            kind,
            start_ns: self.timestamp_ns,
            end_ns: self.end_ns,
            status_code,
            service_name: self.service_name,
            attributes: labels_of(&self.span_attributes, "span attributes")?,
            resource: labels_of(&self.resource_attributes, "resource attributes")?.into(),
            otlp: self.otlp,
        })
    }
}

impl ClickHouse {
    /// Inserts one tenant's spans as one batch under `token` (a retry
    /// under the same token writes nothing twice). Returns the spans.
    pub async fn insert_spans(
        &self,
        tenant: &TenantId,
        spans: &[StoredSpan],
        token: &str,
    ) -> Result<usize, ChError> {
        let retention = self.config().retention_days;
        let mut ins = self
            .client()
            .insert::<SpanRow<'_>>(ClickHouseDialect::SPANS_TABLE)
            .await?
            .with_setting("insert_deduplication_token", token.to_string());
        for s in spans {
            ins.write(&SpanRow {
                tenant: tenant.as_str(),
                timestamp_ns: s.start_ns,
                trace_id: hex(&s.trace_id),
                span_id: hex(&s.span_id),
                parent_span_id: s.parent_span_id.map(|p| hex(&p)).unwrap_or_default(),
                span_name: &s.name,
                span_kind: kind_name(s.kind),
                service_name: &s.service_name,
                // Ingest refuses a span that ends before it starts.
                duration_ns: u64::try_from(s.duration_ns()).unwrap_or(0),
                status_code: status_name(s.status_code),
                resource_attributes: pairs(&s.resource),
                span_attributes: pairs(&s.attributes),
                retention_days: retention,
                otlp: &s.otlp,
            })
            .await?;
        }
        ins.end().await?;
        Ok(spans.len())
    }

    /// The spans the selection admits, and how many rows were read.
    pub async fn select_spans(
        &self,
        sel: &SpanSelection,
    ) -> Result<(Vec<StoredSpan>, usize), ChError> {
        let st = spans::spans(&ClickHouseDialect, sel);
        let rows: Vec<SpanOut> = self.query(&st).fetch_all().await?;
        let read = rows.len();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let s = r.into_span()?;
            if sel.admits(&s) {
                out.push(s);
            }
        }
        Ok((out, read))
    }
}
