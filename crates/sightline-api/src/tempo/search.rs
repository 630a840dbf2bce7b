//! `/api/search` and the tag endpoints: the caller's spans in the window,
//! grouped by trace, read with `sightline-traceql` over each span's OTLP
//! form (so attribute types are the producer's), answered in Tempo's JSON.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use sightline_core::span::hex;
use sightline_traceql::{
    AttrScope, Field, Intrinsic, Op, Operand, Query, SpanExpr, SpansetExpr, Value, field_value,
};

use super::view::{self, Trace};
use super::{TempoError, answer, window};
use crate::params::Params;
use crate::{AppState, Scope};

/// The window of a search or a tag look-up given none: the last hour.
const DEFAULT_WINDOW_NS: i64 = 3_600_000_000_000;
/// Traces a search answers unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 20;
/// Spans shown per span set unless `spss` says otherwise.
const DEFAULT_SPSS: usize = 3;
/// Spans one search or tag look-up reads at most: past it the caller is
/// asked to narrow the window, never answered from part of it.
pub(super) const MAX_SPANS_READ: usize = 2_000_000;
/// What a search answers for a trace whose root span is not stored.
const NO_ROOT: &str = "<root span not yet received>";

pub(super) fn default_window() -> (i64, i64) {
    let now = crate::loki::now_ns();
    (now.saturating_sub(DEFAULT_WINDOW_NS), now.saturating_add(1))
}

/// The caller's spans in the window, as traces.
pub(super) async fn read_traces(
    s: &AppState,
    scope: &Scope,
    start: i64,
    end: i64,
) -> Result<(Vec<Trace>, u64), TempoError> {
    let read = scope.read()?;
    let spans = s
        .engine
        .spans(&read, None, start, end, MAX_SPANS_READ + 1)
        .await?;
    if spans.len() > MAX_SPANS_READ {
        return Err(TempoError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            msg: format!(
                "the window holds more than the {MAX_SPANS_READ} spans one search reads: \
                 narrow start and end"
            ),
        });
    }
    let bytes: u64 = spans.iter().map(|x| x.size() as u64).sum();
    let (traces, bad) = tokio::task::spawn_blocking(move || view::traces(spans))
        .await
        .map_err(|e| TempoError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            msg: format!("search task failed: {e}"),
        })?;
    if bad > 0 {
        tracing::error!(spans = bad, "stored spans that do not decode");
    }
    Ok((traces, bytes))
}

pub(super) fn json_response(v: Json) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// Runs CPU work over a window's spans on a blocking thread, never on the
/// request threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, TempoError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| TempoError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            msg: format!("search task failed: {e}"),
        })
}

/// A positive count parameter, `default` when absent.
pub(super) fn count(p: &Params, key: &str, default: usize) -> Result<usize, TempoError> {
    match p.get(key) {
        None | Some("") => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(0) | Err(_) => Err(TempoError::bad(format!(
                "invalid {key}: {v:?} is not a positive integer"
            ))),
            Ok(n) => Ok(n),
        },
    }
}

fn go_duration(p: &Params, key: &str) -> Result<Option<i64>, TempoError> {
    match p.get(key) {
        None | Some("") => Ok(None),
        Some(v) => sightline_logql::literals::parse_go_duration(v)
            .map(Some)
            .map_err(|e| TempoError::bad(format!("invalid {key}: {e}"))),
    }
}

/// `k=v k2="v w"`, as Tempo reads `tags`.
fn logfmt(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = &rest[..eq];
        if key.is_empty() || !rest[eq..].starts_with('=') {
            return Err(format!("invalid tags: expected key=value at {rest:?}"));
        }
        rest = &rest[eq + 1..];
        let value = if rest.starts_with('"') {
            let (after, v) = sightline_promql::text::scan_quoted(rest, '"')
                .map_err(|e| format!("invalid tags: {e}"))?;
            rest = after;
            v.map_err(|_| "invalid tags: a value that is not UTF-8".to_string())?
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let v = rest[..end].to_string();
            rest = &rest[end..];
            v
        };
        if out.iter().any(|(k, _)| k == key) {
            return Err(format!("invalid tags: {key} is given twice"));
        }
        out.push((key.to_string(), value));
        rest = rest.trim_start();
    }
    Ok(out)
}

/// Keys Tempo's tag search matches by substring.
const SUBSTRING_KEYS: [&str; 13] = [
    "service.name",
    "cluster",
    "namespace",
    "pod",
    "container",
    "k8s.cluster.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.container.name",
    "name",
    "http.method",
    "http.url",
    "root.name",
];

fn regex(text: String) -> Result<Operand, TempoError> {
    regex::Regex::new(&format!("^(?s:{text})$"))
        .map(|re| Operand::Regex(re, text))
        .map_err(|e| TempoError::bad(format!("invalid tags: {e}")))
}

/// One legacy tag as a condition on a span.
fn tag_condition(key: &str, value: &str) -> Result<SpanExpr, TempoError> {
    let contains = || regex(format!(".*{}.*", regex::escape(value)));
    Ok(match key {
        "name" => SpanExpr::Cmp(Field::Intrinsic(Intrinsic::Name), Op::Re, contains()?),
        "root.name" => SpanExpr::Cmp(Field::Intrinsic(Intrinsic::RootName), Op::Re, contains()?),
        "root.service.name" => SpanExpr::Cmp(
            Field::Intrinsic(Intrinsic::RootServiceName),
            Op::Re,
            contains()?,
        ),
        "status.code" => {
            let code = match value {
                "unset" => 0,
                "ok" => 1,
                "error" => 2,
                v => {
                    return Err(TempoError::bad(format!(
                        "invalid tags: status.code is unset, ok or error, not {v:?}"
                    )));
                }
            };
            SpanExpr::Cmp(
                Field::Intrinsic(Intrinsic::Status),
                Op::Eq,
                Operand::Value(Value::Status(code)),
            )
        }
        "http.status_code" => {
            let n = value.parse::<i64>().map_err(|_| {
                TempoError::bad(format!(
                    "invalid tags: http.status_code {value:?} is not an integer"
                ))
            })?;
            SpanExpr::Cmp(
                Field::Attr {
                    scope: AttrScope::Any,
                    key: key.into(),
                },
                Op::Eq,
                Operand::Value(Value::Int(n)),
            )
        }
        k if SUBSTRING_KEYS.contains(&k) => SpanExpr::Cmp(
            Field::Attr {
                scope: AttrScope::Any,
                key: k.into(),
            },
            Op::Re,
            contains()?,
        ),
        k => SpanExpr::Cmp(
            Field::Attr {
                scope: AttrScope::Any,
                key: k.into(),
            },
            Op::Eq,
            Operand::Value(Value::Str(value.into())),
        ),
    })
}

/// Parameters a search reads itself; with no `q`, no `tags` and no window,
/// any other parameter is a tag (Tempo's oldest form).
const SEARCH_PARAMS: [&str; 8] = [
    "q",
    "tags",
    "minDuration",
    "maxDuration",
    "limit",
    "spss",
    "start",
    "end",
];

/// The search a request asks for.
struct SearchRequest {
    query: Query,
    min_ns: Option<i64>,
    max_ns: Option<i64>,
    limit: usize,
    spss: usize,
}

fn search_request(p: &Params) -> Result<SearchRequest, TempoError> {
    let q = p.get("q").filter(|q| !q.trim().is_empty());
    let tags = p.get("tags").filter(|t| !t.trim().is_empty());
    if q.is_some() && tags.is_some() {
        return Err(TempoError::bad(
            "invalid request: both a query and tags are given",
        ));
    }
    let query = if let Some(q) = q {
        sightline_traceql::parse(q).map_err(|e| TempoError::bad(e.to_string()))?
    } else {
        let mut pairs = match tags {
            Some(t) => logfmt(t).map_err(TempoError::bad)?,
            None => Vec::new(),
        };
        if tags.is_none() && p.get("start").is_none() && p.get("end").is_none() {
            for (k, v) in p.pairs() {
                if !SEARCH_PARAMS.contains(&k.as_str()) && !pairs.iter().any(|(x, _)| x == k) {
                    pairs.push((k.clone(), v.clone()));
                }
            }
        }
        if pairs.len() > sightline_traceql::MAX_TERMS {
            return Err(TempoError::bad(format!(
                "invalid tags: more than {} tags",
                sightline_traceql::MAX_TERMS
            )));
        }
        let mut cond = SpanExpr::True;
        for (k, v) in &pairs {
            let c = tag_condition(k, v)?;
            cond = match cond {
                SpanExpr::True => c,
                prev => SpanExpr::And(Box::new(prev), Box::new(c)),
            };
        }
        Query {
            spansets: SpansetExpr::Filter(cond),
            select: Vec::new(),
        }
    };
    let min_ns = go_duration(p, "minDuration")?;
    let max_ns = go_duration(p, "maxDuration")?;
    if let (Some(lo), Some(hi)) = (min_ns, max_ns)
        && hi < lo
    {
        return Err(TempoError::bad(
            "invalid maxDuration: must be greater than minDuration",
        ));
    }
    Ok(SearchRequest {
        query,
        min_ns,
        max_ns,
        limit: count(p, "limit", DEFAULT_LIMIT)?,
        spss: count(p, "spss", DEFAULT_SPSS)?,
    })
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Str(s) => json!({ "stringValue": s }),
        Value::Int(i) => json!({ "intValue": i.to_string() }),
        Value::Float(f) if f.is_finite() => json!({ "doubleValue": f }),
        Value::Float(f) => json!({ "doubleValue": f.to_string() }),
        Value::Bool(b) => json!({ "boolValue": b }),
        Value::Duration(ns) => json!({ "intValue": ns.to_string() }),
        Value::Status(c) => json!({ "stringValue": status_keyword(*c) }),
        Value::Kind(k) => json!({ "stringValue": kind_keyword(*k) }),
    }
}

pub(super) fn status_keyword(code: i32) -> &'static str {
    match code {
        1 => "ok",
        2 => "error",
        _ => "unset",
    }
}

pub(super) fn kind_keyword(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

fn field_key(f: &Field) -> String {
    match f {
        Field::Intrinsic(i) => i.name().to_string(),
        Field::Attr { key, .. } => key.clone(),
    }
}

/// A trace id as Tempo's search writes it: hex, leading zeros trimmed.
fn trimmed_hex(id: &[u8; 16]) -> String {
    let h = hex(id);
    let t = h.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

/// One trace's entry in a search answer.
fn trace_json(t: &Trace, hits: &[usize], fields: &[Field], spss: usize) -> Json {
    let spans: Vec<Json> = hits
        .iter()
        .take(spss)
        .map(|&i| {
            let d = &t.spans[i];
            let attrs: Vec<Json> = fields
                .iter()
                .filter_map(|f| {
                    let v = field_value(f, d, &t.facts)?;
                    Some(json!({ "key": field_key(f), "value": value_json(&v) }))
                })
                .collect();
            let mut s = json!({
                "spanID": d.stored.span_hex(),
                "name": d.stored.name,
                "startTimeUnixNano": d.stored.start_ns.to_string(),
                "durationNanos": d.stored.duration_ns().to_string(),
            });
            if !attrs.is_empty() {
                s["attributes"] = Json::Array(attrs);
            }
            s
        })
        .collect();
    let set = json!({ "spans": spans, "matched": hits.len() });
    let mut stats: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for d in &t.spans {
        let e = stats.entry(d.stored.service_name.as_str()).or_default();
        e.0 += 1;
        if d.stored.status_code == 2 {
            e.1 += 1;
        }
    }
    let stats: serde_json::Map<String, Json> = stats
        .into_iter()
        .map(|(svc, (n, err))| {
            let mut v = json!({ "spanCount": n });
            if err > 0 {
                v["errorCount"] = json!(err);
            }
            (svc.to_string(), v)
        })
        .collect();
    let mut out = json!({
        "traceID": trimmed_hex(&t.trace_id),
        "rootServiceName": t.facts.root_service.as_deref().unwrap_or(NO_ROOT),
        "startTimeUnixNano": t.start_ns.to_string(),
        "spanSet": set.clone(),
        "spanSets": [set],
        "serviceStats": stats,
    });
    if let Some(name) = &t.facts.root_name {
        out["rootTraceName"] = json!(name);
    }
    let ms = t.facts.duration_ns / 1_000_000;
    if ms > 0 {
        out["durationMs"] = json!(ms);
    }
    out
}

fn search_answer(traces: &[Trace], req: &SearchRequest, bytes: u64) -> Json {
    let mut fields = Vec::new();
    req.query.spansets.fields(&mut fields);
    fields.retain(|f| matches!(f, Field::Attr { .. }));
    for f in &req.query.select {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    let mut found: Vec<(&Trace, Vec<usize>)> = traces
        .iter()
        .filter(|t| {
            req.min_ns.is_none_or(|m| t.facts.duration_ns >= m)
                && req.max_ns.is_none_or(|m| t.facts.duration_ns <= m)
        })
        .filter_map(|t| {
            sightline_traceql::spanset(&req.query.spansets, &t.spans, &t.facts).map(|h| (t, h))
        })
        .collect();
    // Most recent first, as Tempo's answer is ordered.
    found.sort_by(|a, b| {
        b.0.start_ns
            .cmp(&a.0.start_ns)
            .then(a.0.trace_id.cmp(&b.0.trace_id))
    });
    let out: Vec<Json> = found
        .iter()
        .take(req.limit)
        .map(|(t, hits)| trace_json(t, hits, &fields, req.spss))
        .collect();
    json!({
        "traces": out,
        "metrics": {
            "inspectedTraces": traces.len(),
            "inspectedBytes": bytes.to_string(),
            "completedJobs": 1,
            "totalJobs": 1,
        },
    })
}

/// `GET /api/search`.
pub(crate) async fn search(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    answer(
        async {
            let req = search_request(&p)?;
            let (start, end) = window(&p, default_window())?;
            let (traces, bytes) = read_traces(&s, &scope, start, end).await?;
            let out = tokio::task::spawn_blocking(move || search_answer(&traces, &req, bytes))
                .await
                .map_err(|e| TempoError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    msg: format!("search task failed: {e}"),
                })?;
            Ok(json_response(out))
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::super::view::traceql_value;
    use super::*;

    #[test]
    fn tags_read_as_logfmt() {
        assert_eq!(
            logfmt(r#"service.name=checkout  http.url="/a b" x="q\"r""#).expect("parses"),
            [
                ("service.name".to_string(), "checkout".to_string()),
                ("http.url".into(), "/a b".into()),
                ("x".into(), "q\"r".into()),
            ]
        );
        assert!(logfmt("a=1 a=2").expect_err("twice").contains("twice"));
        assert!(logfmt("novalue").is_err());
    }

    #[test]
    fn trace_ids_are_trimmed_as_tempo_writes_them() {
        let mut id = [0u8; 16];
        id[8] = 0x0d;
        id[15] = 0x6a;
        assert_eq!(trimmed_hex(&id), "d0000000000006a");
        assert_eq!(trimmed_hex(&[0; 16]), "0");
    }

    #[test]
    fn values_keep_their_otlp_types() {
        use sightline_ingest::otlp::proto::common::v1::{AnyValue, any_value};
        let v = |x| AnyValue { value: Some(x) };
        assert_eq!(
            traceql_value(&v(any_value::Value::IntValue(3))),
            Some(Value::Int(3))
        );
        assert_eq!(
            traceql_value(&v(any_value::Value::StringValue("3".into()))),
            Some(Value::Str("3".into()))
        );
    }
}
