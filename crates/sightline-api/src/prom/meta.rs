//! The endpoints Grafana's Prometheus data source calls beside queries:
//! exemplars, `format_query`, rules, alerts, targets and flags, in the
//! shapes of Prometheus 2.42's `web/api/v1`.
//!
//! Exemplars are the head's (`sightline_ingest::head::exemplars`).
//! Sightline evaluates no rules and scrapes nothing, so those answers are
//! empty lists in the keys Prometheus gives them; their parameters are
//! still checked, in Prometheus's order and words.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sightline_promql::ast::Expr;
use sightline_promql::format_duration;

use super::response::{finish, ok};
use crate::params::{MAX_TIME_MS, MIN_TIME_MS, Params, parse_time};
use crate::{ApiError, AppState, Scope};

/// `/api/v1/query_exemplars`: the exemplars of the series the query's
/// selectors match, in the token's read scope, between `start` and `end`
/// (Prometheus's min and max time when absent), one entry per series as
/// Prometheus answers; a query without any selector (`1 + 1`) is answered
/// 204 without a body, as Prometheus answers it.
pub async fn query_exemplars(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = exemplars(&s, &scope, &p);
    finish(&scope, "query_exemplars", r)
}

/// One series' exemplars on the wire.
#[derive(Serialize)]
struct SeriesExemplars<'a> {
    #[serde(rename = "seriesLabels")]
    series_labels: super::LabelMap<'a>,
    exemplars: Vec<ExemplarJson<'a>>,
}

#[derive(Serialize)]
struct ExemplarJson<'a> {
    labels: super::LabelMap<'a>,
    value: String,
    timestamp: super::Ts,
}

fn exemplars(s: &AppState, scope: &Scope, p: &Params) -> Result<Response, ApiError> {
    // A read of the token's data, like a query: the token must be bound to
    // a workspace.
    let read = scope.read()?;
    let start = exemplar_time(p, "start", MIN_TIME_MS)?;
    let end = exemplar_time(p, "end", MAX_TIME_MS)?;
    if end < start {
        return Err(ApiError::BadData(
            "end timestamp must not be before start timestamp".into(),
        ));
    }
    // The parse error as it is, without the parameter's name, as
    // Prometheus reports it here.
    let expr = sightline_promql::parse(p.get("query").unwrap_or_default())
        .map_err(|e| ApiError::BadData(e.to_string()))?;
    if !has_selector(&expr) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let selectors: Vec<Vec<sightline_core::Matcher>> = expr
        .walk()
        .filter_map(|node| match node {
            Expr::Vector(v) => Some(v.matchers.clone()),
            Expr::Matrix(m) => Some(m.vector.matchers.clone()),
            _ => None,
        })
        .collect();
    let found = s.engine.exemplars(&read, &selectors, start, end);
    let out: Vec<SeriesExemplars<'_>> = found
        .iter()
        .map(|(labels, xs)| SeriesExemplars {
            series_labels: super::LabelMap(labels),
            exemplars: xs
                .iter()
                .map(|e| ExemplarJson {
                    labels: super::LabelMap(&e.labels),
                    value: sightline_core::gofmt::format_f(e.value),
                    timestamp: super::Ts(e.t),
                })
                .collect(),
        })
        .collect();
    Ok(ok(out))
}

/// A time bound of `query_exemplars`: `default` when absent or empty, and
/// a bad one worded as Prometheus words it there.
fn exemplar_time(p: &Params, key: &str, default: i64) -> Result<i64, ApiError> {
    match p.get(key).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => parse_time(key, v).map_err(|_| {
            ApiError::BadData(format!(
                "invalid parameter {key:?}: Invalid time value for '{key}': cannot parse {v:?} to a valid timestamp"
            ))
        }),
    }
}

/// Whether the expression reads any series (a vector or range selector
/// anywhere in it). Walks without recursion, so a chain of any length is
/// fine.
fn has_selector(e: &Expr) -> bool {
    e.walk()
        .any(|node| matches!(node, Expr::Vector(_) | Expr::Matrix(_)))
}

/// `/api/v1/format_query`: the query parsed and printed back.
///
/// Prometheus answers with its pretty printer (`parser.Prettify`), which
/// gives the single-line canonical form for any expression that fits its
/// line width and breaks longer ones over indented lines. Sightline answers
/// with its canonical printer (`Display for Expr`) at any length: the same
/// text for short expressions, one line for long ones.
pub async fn format_query(Extension(scope): Extension<Scope>, p: Params) -> Response {
    let r = sightline_promql::parse(p.get("query").unwrap_or_default())
        .map(|e| ok(e.to_string()))
        .map_err(|e| ApiError::BadData(format!("invalid parameter \"query\": {e}")));
    finish(&scope, "format_query", r)
}

/// `/api/v1/rules`: the rule groups, none, since Sightline evaluates no
/// rules. The `type` filter (`alert` or `record`, in any case) is checked
/// as Prometheus checks it: any other value is bad data.
pub async fn rules(Extension(scope): Extension<Scope>, p: Params) -> Response {
    #[derive(Serialize)]
    struct RuleDiscovery {
        groups: Vec<serde_json::Value>,
    }
    let body = RuleDiscovery { groups: Vec::new() };
    finish(&scope, "rules", check_rule_type(&p).map(|()| ok(body)))
}

fn check_rule_type(p: &Params) -> Result<(), ApiError> {
    let typ = p.get("type").unwrap_or_default().to_lowercase();
    match typ.as_str() {
        "" | "alert" | "record" => Ok(()),
        other => Err(ApiError::BadData(format!(
            "invalid parameter \"type\": not supported value {other:?}"
        ))),
    }
}

/// `/api/v1/alerts`: the active alerts, none, since Sightline evaluates no
/// alerting rules.
pub async fn alerts(Extension(scope): Extension<Scope>) -> Response {
    #[derive(Serialize)]
    struct AlertDiscovery {
        alerts: Vec<serde_json::Value>,
    }
    let body = AlertDiscovery { alerts: Vec::new() };
    finish(&scope, "alerts", Ok(ok(body)))
}

/// `/api/v1/targets`: the scrape targets, none, since Sightline scrapes
/// nothing. Prometheus's `state` parameter (`active`, `dropped` or `any`,
/// in any case) only empties the list it leaves out, an unknown state
/// empties both, and both keys are always present: so every `state` (and
/// every `scrapePool`) gets this same answer.
pub async fn targets(Extension(scope): Extension<Scope>) -> Response {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct TargetDiscovery {
        active_targets: Vec<serde_json::Value>,
        dropped_targets: Vec<serde_json::Value>,
    }
    let body = TargetDiscovery {
        active_targets: Vec::new(),
        dropped_targets: Vec::new(),
    };
    finish(&scope, "targets", Ok(ok(body)))
}

/// `/api/v1/status/flags`: the settings of this server that have a
/// Prometheus flag of the same meaning, under that flag's name and in its
/// format (durations as `5m`, numbers in decimal). Flags with no Sightline
/// counterpart are left out rather than given values that are not true.
pub async fn flags(State(s): State<AppState>, Extension(scope): Extension<Scope>) -> Response {
    let limits = s.engine.limits();
    let lookback_ms = limits.default_lookback_delta_ms.max(0).unsigned_abs();
    let timeout = s.engine.query_timeout();
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    let mut flags: BTreeMap<&str, String> = BTreeMap::new();
    flags.insert("query.lookback-delta", format_duration(lookback_ms));
    flags.insert("query.max-samples", limits.max_samples.to_string());
    flags.insert("query.timeout", format_duration(timeout_ms));
    finish(&scope, "flags", Ok(ok(flags)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_found_anywhere() {
        for (q, want) in [
            ("up", true),
            ("rate(x[5m])", true),
            ("1 + 1", false),
            ("vector(1)", false),
            ("time() - 2", false),
            ("sum by (job) (x) / 2", true),
            ("topk(scalar(x), vector(1))", true),
            ("-(max_over_time(vector(1)[5m:1m]))", false),
            ("-(max_over_time(x[5m:1m]))", true),
            ("\"text\"", false),
        ] {
            let e = sightline_promql::parse(q).expect("valid query");
            assert_eq!(has_selector(&e), want, "{q}");
        }
    }
}
