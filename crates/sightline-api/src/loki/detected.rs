//! What Grafana's Logs Drilldown asks of a log query's data:
//! `detected_labels` (stream labels worth grouping by),
//! `detected_fields` and `detected_field/<name>/values` (fields found in
//! the entries of a log query's answer, as Loki's query frontend finds
//! them; `sightline_logeval::query::detected_fields`).

use std::collections::{BTreeMap, BTreeSet};

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use sightline_core::{Direction, Labels, Signal};
use sightline_engine::{LogqlAnswer, LogqlRequest};
use sightline_logeval::query::{OutEntry, OutStream, detected_field_values, detected_fields};
use sightline_logql::ast::Expr;

use super::encode::json;
use super::params::{
    LokiError, check_entries_limit, checked_step, ms_bounds, now_ns, parse_bounds, parse_count,
    parse_query, query_text, selector_param,
};
use crate::params::Params;
use crate::{AppState, Scope};

/// `GET /loki/api/v1/detected_labels`: the stream labels of the selected
/// streams, without those that look like identifiers, with their
/// cardinality.
pub async fn detected_labels(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let read = scope.read()?;
        let (start, end) = ms_bounds(&p)?;
        let sets = selector_param(&p, "query")?;
        let streams = s
            .engine
            .series(&read, Signal::Logs, &sets, start, end)
            .await?;
        let mut values: BTreeMap<&str, BTreeSet<&str>> = Default::default();
        for l in &streams {
            for x in l.iter() {
                values.entry(&x.name).or_default().insert(&x.value);
            }
        }
        let always = ["cluster", "namespace", "instance", "pod"];
        let out: Vec<serde_json::Value> = values
            .into_iter()
            .filter(|(name, vals)| {
                !vals.is_empty()
                    && (always.contains(name)
                        || is_boolean(vals)
                        || !vals.iter().all(|v| looks_like_id(v)))
            })
            .map(|(name, vals)| serde_json::json!({"label": name, "cardinality": vals.len()}))
            .collect();
        Ok(json(&serde_json::json!({"detectedLabels": out})))
    }
    .await;
    r.unwrap_or_else(|e: LokiError| e.into_response())
}

fn is_boolean(vals: &BTreeSet<&str>) -> bool {
    vals.len() <= 2 && vals.iter().all(|v| *v == "0" || *v == "1")
}

/// A number or a UUID.
fn looks_like_id(v: &str) -> bool {
    if v.parse::<f64>().is_ok() {
        return true;
    }
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Loki's default `limit` of detected fields and values.
const DEFAULT_FIELD_LIMIT: usize = 1000;

/// Runs the request's log query as Loki's frontend does for detected
/// fields (backward, `line_limit` entries) and returns its streams grouped
/// by stream labels, as the categorized answer groups them, and the field
/// limit.
async fn entries(
    s: &AppState,
    scope: &Scope,
    p: &Params,
) -> Result<(Vec<OutStream>, usize), LokiError> {
    let read = scope.read()?;
    let now = now_ns();
    let log = match parse_query(query_text(p))? {
        Expr::Log(l) => l,
        Expr::Metric(_) => return Err(LokiError::bad("only log selector is supported")),
    };
    let (start, end) = parse_bounds(p, now)?;
    let line_limit = parse_count("line_limit", p.get("line_limit"), 100)?;
    let limit = parse_count(
        "limit",
        p.get("limit")
            .filter(|v| !v.is_empty())
            .or(p.get("field_limit")),
        DEFAULT_FIELD_LIMIT,
    )?;
    let step = checked_step(p, start, end)?;
    check_entries_limit(line_limit)?;
    let req = LogqlRequest {
        start_ns: start,
        end_ns: end,
        step_ns: step,
        limit: line_limit,
        direction: Direction::Backward,
        interval_ns: 0,
        now_ns: now,
    };
    let streams = match s.engine.logql(&read, Expr::Log(log), req).await? {
        LogqlAnswer::Streams(v) => v,
        LogqlAnswer::Value(_) => return Err(LokiError::internal("a log query answered a value")),
    };
    Ok((by_stream_labels(streams), limit))
}

/// Streams regrouped by their stream labels, ordered by label text, each
/// group's entries newest first.
fn by_stream_labels(streams: Vec<OutStream>) -> Vec<OutStream> {
    let mut groups: BTreeMap<String, (Labels, Vec<OutEntry>)> = BTreeMap::new();
    for s in streams {
        let g = groups
            .entry(s.stream.to_string())
            .or_insert_with(|| (s.stream.clone(), Vec::new()));
        g.1.extend(s.entries);
    }
    groups
        .into_values()
        .map(|(stream, mut entries)| {
            entries.sort_by_key(|e| std::cmp::Reverse(e.ts_ns));
            OutStream {
                labels: stream.clone(),
                stream,
                entries,
            }
        })
        .collect()
}

/// `GET /loki/api/v1/detected_fields`:
/// `{"fields":[{"label","type","cardinality","parsers","jsonPath"?}],"limit":N}`,
/// or `{}` when nothing was found.
pub async fn detected_fields_handler(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let (streams, limit) = entries(&s, &scope, &p).await?;
        // Parsing every line with json and logfmt is CPU work.
        let fields = tokio::task::spawn_blocking(move || detected_fields(&streams, limit))
            .await
            .map_err(|e| LokiError::internal(format!("detection task failed: {e}")))?;
        if fields.is_empty() {
            return Ok(json(&serde_json::json!({})));
        }
        let out: Vec<serde_json::Value> = fields
            .into_iter()
            .map(|f| {
                let mut m = serde_json::Map::new();
                m.insert("label".into(), f.label.into());
                m.insert("type".into(), f.kind.into());
                m.insert("cardinality".into(), f.cardinality.into());
                m.insert(
                    "parsers".into(),
                    f.parsers.map_or(serde_json::Value::Null, |p| p.into()),
                );
                if let Some(path) = f.json_path {
                    m.insert("jsonPath".into(), path.into());
                }
                serde_json::Value::Object(m)
            })
            .collect();
        Ok(json(&serde_json::json!({"fields": out, "limit": limit})))
    }
    .await;
    r.unwrap_or_else(|e: LokiError| e.into_response())
}

/// `GET /loki/api/v1/detected_field/<name>/values`:
/// `{"values":[...],"limit":N}`, or `{}` when there are none.
pub async fn detected_field_values_handler(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path(name): Path<String>,
    p: Params,
) -> Response {
    let r = async {
        let (streams, limit) = entries(&s, &scope, &p).await?;
        let values =
            tokio::task::spawn_blocking(move || detected_field_values(&streams, &name, limit))
                .await
                .map_err(|e| LokiError::internal(format!("detection task failed: {e}")))?;
        if values.is_empty() {
            return Ok(json(&serde_json::json!({})));
        }
        Ok(json(&serde_json::json!({"values": values, "limit": limit})))
    }
    .await;
    r.unwrap_or_else(|e: LokiError| e.into_response())
}
