//! Loki's query endpoints: `query`, `query_range`, `labels`,
//! `label/<name>/values`, `series`, `index/stats`, `format_query`,
//! `status/buildinfo`, and the paths answered 404 so that Grafana falls
//! back (`patterns`, `v2alpha/tail`); `index/volume` is in `volume.rs`,
//! the detected labels and fields in `detected.rs`, `tail` in `tail.rs`. Answered in Loki's shapes
//! (`encode.rs`) after Loki's parameter checks (`params.rs`); errors are
//! plain text with the status of their kind, as Loki writes them; only
//! `format_query` answers JSON.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sightline_core::Signal;
use sightline_engine::LogqlRequest;
use sightline_logql::ast::Expr;

use super::encode::{answer, encoding_flags, json, label_list};
use super::params::{
    LokiError, NS_PER_MS, check_entries_limit, ms_bounds, now_ns, parse_direction, parse_limit,
    parse_query, parse_range, parse_time, query_text, selector, selector_param,
};
use crate::params::Params;
use crate::prom::LabelMap;
use crate::{AppState, Scope};

pub use super::volume::{volume, volume_range};

/// `GET|POST /loki/api/v1/query`: an instant metric query.
pub async fn query(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    headers: HeaderMap,
    p: Params,
) -> Response {
    let r = async {
        let read = scope.read()?;
        let now = now_ns();
        let limit = parse_limit(&p)?;
        let t = match p.get("time").filter(|v| !v.is_empty()) {
            Some(v) => parse_time("time", v)?,
            None => now,
        };
        let direction = parse_direction(&p)?;
        let expr = parse_query(query_text(&p))?;
        if matches!(expr, Expr::Log(_)) {
            return Err(LokiError::bad(
                "log queries are not supported as an instant query type, please change your query to a range query type",
            ));
        }
        check_entries_limit(limit)?;
        // Answers are timed in milliseconds.
        let t = t.div_euclid(NS_PER_MS) * NS_PER_MS;
        let req = LogqlRequest {
            start_ns: t,
            end_ns: t,
            step_ns: 0,
            limit,
            direction,
            interval_ns: 0,
            now_ns: now,
        };
        let a = s.engine.logql(&read, expr, req).await?;
        Ok::<Response, LokiError>(answer(&a, &encoding_flags(&headers)))
    }
    .await;
    r.unwrap_or_else(IntoResponse::into_response)
}

/// `GET|POST /loki/api/v1/query_range`: a log query over `[start, end)`, or
/// a metric query on the step grid, aligned to the step as Loki's query
/// frontend aligns it (start rounded down, end up).
pub async fn query_range(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    headers: HeaderMap,
    p: Params,
) -> Response {
    let r = async {
        let read = scope.read()?;
        let now = now_ns();
        let rp = parse_range(&p, now)?;
        let expr = parse_query(query_text(&p))?;
        check_entries_limit(rp.limit)?;
        let req = match &expr {
            Expr::Log(_) => LogqlRequest {
                start_ns: rp.start,
                end_ns: rp.end,
                step_ns: rp.step,
                limit: rp.limit,
                direction: rp.direction,
                interval_ns: rp.interval,
                now_ns: now,
            },
            Expr::Metric(_) => {
                let step_ms = (rp.step / NS_PER_MS).max(1);
                let start_ms = rp.start.div_euclid(NS_PER_MS).div_euclid(step_ms) * step_ms;
                let end_ms = {
                    let e = rp.end.div_euclid(NS_PER_MS);
                    let r = e.rem_euclid(step_ms);
                    if r == 0 { e } else { e - r + step_ms }
                };
                LogqlRequest {
                    start_ns: start_ms * NS_PER_MS,
                    end_ns: end_ms * NS_PER_MS,
                    step_ns: step_ms * NS_PER_MS,
                    limit: rp.limit,
                    direction: rp.direction,
                    interval_ns: 0,
                    now_ns: now,
                }
            }
        };
        let a = s.engine.logql(&read, expr, req).await?;
        Ok::<Response, LokiError>(answer(&a, &encoding_flags(&headers)))
    }
    .await;
    r.unwrap_or_else(IntoResponse::into_response)
}

/// `GET|POST /loki/api/v1/labels` (and `/label`).
pub async fn labels(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let read = scope.read()?;
        let (start, end) = ms_bounds(&p)?;
        let sets = selector_param(&p, "query")?;
        let names = s
            .engine
            .label_names(&read, Signal::Logs, &sets, start, end)
            .await?;
        Ok(label_list(names))
    }
    .await;
    r.unwrap_or_else(|e: LokiError| e.into_response())
}

/// `GET /loki/api/v1/label/<name>/values`.
pub async fn label_values(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path(name): Path<String>,
    p: Params,
) -> Response {
    let r = async {
        let read = scope.read()?;
        let (start, end) = ms_bounds(&p)?;
        let sets = selector_param(&p, "query")?;
        let values = s
            .engine
            .label_values(&read, Signal::Logs, &name, &sets, start, end)
            .await?;
        Ok(label_list(values))
    }
    .await;
    r.unwrap_or_else(|e: LokiError| e.into_response())
}

/// `GET|POST /loki/api/v1/series`: the stream label sets matching any
/// `match[]` (or `match`).
pub async fn series(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let read = scope.read()?;
        let (start, end) = ms_bounds(&p)?;
        let mut sets = Vec::new();
        let mut texts: Vec<&str> = p.all("match[]").chain(p.all("match")).collect();
        texts.sort_unstable();
        texts.dedup();
        for t in texts {
            let m = selector(t)?;
            if m.is_empty() {
                sets.clear();
                break;
            }
            sets.push(m);
        }
        let streams = s
            .engine
            .series(&read, Signal::Logs, &sets, start, end)
            .await?;
        let data: Vec<LabelMap> = streams.iter().map(LabelMap).collect();
        Ok(json(
            &serde_json::json!({"status": "success", "data": data}),
        ))
    }
    .await;
    r.unwrap_or_else(|e: LokiError| e.into_response())
}

/// `GET|POST /loki/api/v1/index/stats`: streams, chunks (one per stream
/// here), bytes and entries of the matching streams in the window.
pub async fn index_stats(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let read = scope.read()?;
        let now = now_ns();
        let rp = parse_range(&p, now)?;
        let matchers = selector(query_text(&p))?;
        let streams = s
            .engine
            .log_entries(&read, matchers, rp.start, rp.end)
            .await?;
        let entries: usize = streams.iter().map(|s| s.entries.len()).sum();
        let bytes: usize = streams
            .iter()
            .flat_map(|s| &s.entries)
            .map(|e| e.line.len())
            .sum();
        #[derive(Serialize)]
        struct Stats {
            streams: usize,
            chunks: usize,
            bytes: usize,
            entries: usize,
        }
        Ok(json(&Stats {
            streams: streams.len(),
            chunks: streams.len(),
            bytes,
            entries,
        }))
    }
    .await;
    r.unwrap_or_else(|e: LokiError| e.into_response())
}

/// `GET|POST /loki/api/v1/format_query`: the canonical form, or Loki's
/// JSON error.
pub async fn format_query(Extension(_scope): Extension<Scope>, p: Params) -> Response {
    let (status, body) = match sightline_logql::parse(query_text(&p)) {
        Ok(e) => (
            StatusCode::OK,
            serde_json::json!({"status": "success", "data": e.to_string()}),
        ),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            serde_json::json!({"status": "invalid-query", "error": e.to_string()}),
        ),
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        format!("{body}\n"),
    )
        .into_response()
}

/// `GET /loki/api/v1/status/buildinfo`, unwrapped as Loki answers it.
pub async fn buildinfo() -> Response {
    json(&serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "",
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": ""
    }))
}

/// Patterns are not detected by Sightline: 404 with an empty body, which
/// Grafana's Logs Drilldown reads as "patterns not configured", as it does
/// against a Loki without a pattern ingester; `v2alpha/tail` is not a path
/// Loki has, and a 404 there sends Grafana's streaming to `v1/tail`.
pub async fn not_supported() -> Response {
    StatusCode::NOT_FOUND.into_response()
}
