//! Loki's query parameters, read and refused as Loki reads and refuses
//! them (`pkg/loghttp/params.go`; see `docs/loki-semantics.md` section 2),
//! and its plain-text errors.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sightline_core::{Direction, Matcher};
use sightline_engine::{EngineError, parse_logql};
use sightline_logql::ast::Expr;

use crate::params::Params;

/// Loki's defaults and bounds.
pub(super) const DEFAULT_LIMIT: usize = 100;

pub(super) const MAX_ENTRIES_LIMIT: usize = 5000;

pub(super) const MAX_POINTS: i64 = 11_000;

pub(super) const DEFAULT_SINCE_NS: i64 = 3_600_000_000_000;

pub(super) const NS_PER_MS: i64 = 1_000_000;

pub(super) const NS_PER_S: i64 = 1_000_000_000;

/// A refusal, as Loki's query endpoints write it: plain text, no newline.
#[derive(Debug)]
pub(crate) struct LokiError {
    status: StatusCode,
    msg: String,
}

impl LokiError {
    pub(super) fn internal(msg: impl Into<String>) -> Self {
        LokiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            msg: msg.into(),
        }
    }

    pub(super) fn bad(msg: impl Into<String>) -> Self {
        LokiError {
            status: StatusCode::BAD_REQUEST,
            msg: msg.into(),
        }
    }
}

impl std::fmt::Display for LokiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

impl From<EngineError> for LokiError {
    fn from(e: EngineError) -> Self {
        let status = match &e {
            EngineError::BadData(_) | EngineError::Execution(_) => StatusCode::BAD_REQUEST,
            EngineError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            EngineError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        LokiError {
            status,
            msg: e.to_string(),
        }
    }
}

impl From<crate::ApiError> for LokiError {
    fn from(e: crate::ApiError) -> Self {
        LokiError {
            status: e.status(),
            msg: e.to_string(),
        }
    }
}

impl IntoResponse for LokiError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.msg,
        )
            .into_response()
    }
}

pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// A time as Loki reads one: float seconds (with a dot, rounded to the
/// millisecond), an integer (10 digits or fewer: seconds; more:
/// nanoseconds), or RFC 3339.
pub(crate) fn parse_time(key: &str, v: &str) -> Result<i64, LokiError> {
    if v.contains('.')
        && let Ok(f) = v.parse::<f64>()
    {
        if !f.is_finite() {
            return Err(LokiError::bad(format!(
                "could not parse '{key}' parameter: {v:?} is not a time"
            )));
        }
        let secs = f.trunc();
        let frac = ((f - secs) * 1000.0).round() / 1000.0;
        let ns = secs * 1e9 + (frac * 1e9).round();
        if ns.abs() > 9.2e18 {
            return Err(LokiError::bad(format!(
                "could not parse '{key}' parameter: {v} is out of range"
            )));
        }
        return Ok(ns as i64);
    }
    if let Ok(n) = v.parse::<i64>() {
        let digits = v.trim_start_matches(['-', '+']).len();
        return if digits <= 10 {
            n.checked_mul(NS_PER_S).ok_or_else(|| {
                LokiError::bad(format!(
                    "could not parse '{key}' parameter: {v} is out of range"
                ))
            })
        } else {
            Ok(n)
        };
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return t.timestamp_nanos_opt().ok_or_else(|| {
            LokiError::bad(format!(
                "could not parse '{key}' parameter: {v} is out of range"
            ))
        });
    }
    Err(LokiError::bad(format!(
        "could not parse '{key}' parameter: strconv.ParseInt: parsing {v:?}: invalid syntax"
    )))
}

/// A step or interval: float seconds, else a Prometheus duration.
pub(super) fn parse_step(v: &str) -> Result<i64, LokiError> {
    if let Ok(f) = v.parse::<f64>() {
        if f.is_finite() && f.abs() < 9.2e9 {
            return Ok((f * 1e9) as i64);
        }
    } else if let Some(ms) = sightline_promql::text::parse_duration(v) {
        return ms
            .checked_mul(NS_PER_MS)
            .ok_or_else(|| LokiError::bad(format!("cannot parse {v:?} to a valid duration")));
    }
    Err(LokiError::bad(format!(
        "cannot parse {v:?} to a valid duration"
    )))
}

pub(super) fn parse_limit(p: &Params) -> Result<usize, LokiError> {
    parse_count("limit", p.get("limit"), DEFAULT_LIMIT)
}

/// A positive count parameter as Loki reads one (`value`, under the name
/// `name` in the out-of-range message), `default` when absent or empty.
pub(super) fn parse_count(
    name: &str,
    value: Option<&str>,
    default: usize,
) -> Result<usize, LokiError> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    let n: i64 = v.parse().map_err(|_| {
        LokiError::bad(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            sightline_core::gofmt::quote(v)
        ))
    })?;
    if n <= 0 {
        // Loki says `limit` for `line_limit` too.
        return Err(LokiError::bad("limit must be a positive value"));
    }
    if n > i64::from(u32::MAX) {
        return Err(LokiError::bad(format!(
            "{name} value {n} is out of range [0, 4294967295]"
        )));
    }
    Ok(n as usize)
}

pub(super) fn parse_direction(p: &Params) -> Result<Direction, LokiError> {
    match p.get("direction").filter(|v| !v.is_empty()) {
        None => Ok(Direction::Backward),
        Some(d) if d.eq_ignore_ascii_case("backward") => Ok(Direction::Backward),
        Some(d) if d.eq_ignore_ascii_case("forward") => Ok(Direction::Forward),
        Some(d) => Err(LokiError::bad(format!("invalid direction '{d}'"))),
    }
}

/// `start`/`end`/`since` as Loki's range parameters read them: end
/// defaults to now, start to end (or now, if end is later) minus `since`.
pub(super) fn parse_bounds(p: &Params, now: i64) -> Result<(i64, i64), LokiError> {
    let since = match p.get("since").filter(|v| !v.is_empty()) {
        Some(v) => sightline_promql::text::parse_duration(v)
            .and_then(|ms| ms.checked_mul(NS_PER_MS))
            .ok_or_else(|| {
                LokiError::bad(format!(
                    "could not parse 'since' parameter: time: invalid duration {v:?}"
                ))
            })?,
        None => DEFAULT_SINCE_NS,
    };
    let end = match p.get("end").filter(|v| !v.is_empty()) {
        Some(v) => parse_time("end", v)?,
        None => now,
    };
    let start = match p.get("start").filter(|v| !v.is_empty()) {
        Some(v) => parse_time("start", v)?,
        None => end.min(now).saturating_sub(since),
    };
    if end < start {
        return Err(LokiError::bad(
            "end timestamp must not be before or equal to start time",
        ));
    }
    Ok((start, end))
}

/// A range request's parameters, checked in Loki's order.
pub(super) struct RangeParams {
    pub(super) start: i64,
    pub(super) end: i64,
    pub(super) limit: usize,
    pub(super) direction: Direction,
    pub(super) step: i64,
    pub(super) interval: i64,
}

/// The `step` of `[start, end]`: given, or Loki's default (a 250th of
/// the window in whole seconds, at least one); refused unless positive.
pub(super) fn parse_step_param(p: &Params, start: i64, end: i64) -> Result<i64, LokiError> {
    let step = match p.get("step").filter(|v| !v.is_empty()) {
        Some(v) => parse_step(v)?,
        None => (end.saturating_sub(start) / NS_PER_S / 250).max(1) * NS_PER_S,
    };
    if step <= 0 {
        return Err(LokiError::bad(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    Ok(step)
}

/// The step of `[start, end]`, refused past Loki's 11,000 points.
pub(super) fn checked_step(p: &Params, start: i64, end: i64) -> Result<i64, LokiError> {
    let step = parse_step_param(p, start, end)?;
    if end.saturating_sub(start) / step > MAX_POINTS {
        return Err(LokiError::bad(
            "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter",
        ));
    }
    Ok(step)
}

pub(super) fn parse_range(p: &Params, now: i64) -> Result<RangeParams, LokiError> {
    let (start, end) = parse_bounds(p, now)?;
    let limit = parse_limit(p)?;
    let direction = parse_direction(p)?;
    let step = checked_step(p, start, end)?;
    let interval = match p.get("interval").filter(|v| !v.is_empty()) {
        Some(v) => parse_step(v)?,
        None => 0,
    };
    if interval < 0 {
        return Err(LokiError::bad("interval must be >= 0"));
    }
    Ok(RangeParams {
        start,
        end,
        limit,
        direction,
        step,
        interval,
    })
}

pub(super) fn check_entries_limit(limit: usize) -> Result<(), LokiError> {
    if limit > MAX_ENTRIES_LIMIT {
        return Err(LokiError::bad(format!(
            "max entries limit per query exceeded, limit > max_entries_limit_per_query ({limit} > {MAX_ENTRIES_LIMIT})"
        )));
    }
    Ok(())
}

pub(super) fn query_text(p: &Params) -> &str {
    p.get("query").unwrap_or_default()
}

pub(super) fn parse_query(q: &str) -> Result<Expr, LokiError> {
    parse_logql(q).map_err(LokiError::from)
}

/// The matchers of a `query` parameter that must be a stream selector
/// (or nothing).
pub(super) fn selector_param(p: &Params, key: &str) -> Result<Vec<Vec<Matcher>>, LokiError> {
    match p.get(key).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Vec::new()),
        Some(q) => Ok(vec![selector(q)?]),
    }
}

/// A stream selector's matchers; `{}` is every stream.
pub(super) fn selector(q: &str) -> Result<Vec<Matcher>, LokiError> {
    if q.trim() == "{}" {
        return Ok(Vec::new());
    }
    match parse_query(q)? {
        Expr::Log(l) if l.stages.is_empty() => Ok(l.matchers),
        _ => Err(LokiError::bad("only label matchers are supported")),
    }
}

pub(super) fn ms_bounds(p: &Params) -> Result<(i64, i64), LokiError> {
    let (start, end) = parse_bounds(p, now_ns())?;
    Ok((start.div_euclid(NS_PER_MS), end.div_euclid(NS_PER_MS)))
}
