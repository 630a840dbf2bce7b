//! Loki's query endpoints: `query`, `query_range`, `labels`,
//! `label/<name>/values`, `series`, `index/stats`, `index/volume`,
//! `detected_labels`, `format_query`, `status/buildinfo`, `patterns` and
//! the tail paths Grafana probes, answered in Loki's shapes (see
//! `docs/loki-semantics.md`). Errors are plain text with the status of
//! their kind, as Loki writes them; only `format_query` answers JSON.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use sightline_core::{Direction, Labels, Matcher};
use sightline_engine::{EngineError, LogqlAnswer, LogqlRequest, parse_logql};
use sightline_logeval::query::OutStream;
use sightline_logql::ast::Expr;

use crate::params::Params;
use crate::prom::QueryData;
use crate::{AppState, Scope};

/// Loki's defaults and bounds.
const DEFAULT_LIMIT: usize = 100;
const MAX_ENTRIES_LIMIT: usize = 5000;
const MAX_POINTS: i64 = 11_000;
const DEFAULT_SINCE_NS: i64 = 3_600_000_000_000;
const NS_PER_MS: i64 = 1_000_000;
const NS_PER_S: i64 = 1_000_000_000;

/// A refusal, as Loki's query endpoints write it: plain text, no newline.
#[derive(Debug)]
pub(crate) struct LokiError {
    status: StatusCode,
    msg: String,
}

impl LokiError {
    fn bad(msg: impl Into<String>) -> Self {
        LokiError {
            status: StatusCode::BAD_REQUEST,
            msg: msg.into(),
        }
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

fn json<T: Serialize>(body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(b) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
            b,
        )
            .into_response(),
        Err(e) => LokiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            msg: format!("encoding the answer: {e}"),
        }
        .into_response(),
    }
}

fn now_ns() -> i64 {
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
fn parse_step(v: &str) -> Result<i64, LokiError> {
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

fn parse_limit(p: &Params) -> Result<usize, LokiError> {
    let Some(v) = p.get("limit").filter(|v| !v.is_empty()) else {
        return Ok(DEFAULT_LIMIT);
    };
    let n: i64 = v
        .parse()
        .map_err(|_| LokiError::bad(format!("strconv.Atoi: parsing {v:?}: invalid syntax")))?;
    if n <= 0 {
        return Err(LokiError::bad("limit must be a positive value"));
    }
    if n > i64::from(u32::MAX) {
        return Err(LokiError::bad(format!(
            "limit value {n} is out of range [0, 4294967295]"
        )));
    }
    Ok(n as usize)
}

fn parse_direction(p: &Params) -> Result<Direction, LokiError> {
    match p.get("direction").filter(|v| !v.is_empty()) {
        None => Ok(Direction::Backward),
        Some(d) if d.eq_ignore_ascii_case("backward") => Ok(Direction::Backward),
        Some(d) if d.eq_ignore_ascii_case("forward") => Ok(Direction::Forward),
        Some(d) => Err(LokiError::bad(format!("invalid direction '{d}'"))),
    }
}

/// `start`/`end`/`since` as Loki's range parameters read them: end
/// defaults to now, start to end (or now, if end is later) minus `since`.
fn parse_bounds(p: &Params, now: i64) -> Result<(i64, i64), LokiError> {
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
struct RangeParams {
    start: i64,
    end: i64,
    limit: usize,
    direction: Direction,
    step: i64,
    interval: i64,
}

fn parse_range(p: &Params, now: i64) -> Result<RangeParams, LokiError> {
    let (start, end) = parse_bounds(p, now)?;
    let limit = parse_limit(p)?;
    let direction = parse_direction(p)?;
    let step = match p.get("step").filter(|v| !v.is_empty()) {
        Some(v) => parse_step(v)?,
        None => ((end - start) / NS_PER_S / 250).max(1) * NS_PER_S,
    };
    if step <= 0 {
        return Err(LokiError::bad(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step > MAX_POINTS {
        return Err(LokiError::bad(
            "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter",
        ));
    }
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

fn check_entries_limit(limit: usize) -> Result<(), LokiError> {
    if limit > MAX_ENTRIES_LIMIT {
        return Err(LokiError::bad(format!(
            "max entries limit per query exceeded, limit > max_entries_limit_per_query ({limit} > {MAX_ENTRIES_LIMIT})"
        )));
    }
    Ok(())
}

fn query_text(p: &Params) -> &str {
    p.get("query").unwrap_or_default()
}

/// Whether the request asks for Loki's categorized labels.
fn encoding_flags(headers: &HeaderMap) -> Vec<String> {
    headers
        .get("X-Loki-Response-Encoding-Flags")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Loki's all-zero statistics object, with the entries returned filled in.
fn stats(entries: usize) -> serde_json::Value {
    let cache = serde_json::json!({"entriesFound":0,"entriesRequested":0,"entriesStored":0,
        "bytesReceived":0,"bytesSent":0,"requests":0,"downloadTime":0,"queryLengthServed":0});
    let store = serde_json::json!({"totalChunksRef":0,"totalChunksDownloaded":0,
        "chunksDownloadTime":0,"queryReferencedStructuredMetadata":false,"queryUsedV2Engine":false,
        "chunk":{"headChunkBytes":0,"headChunkLines":0,"decompressedBytes":0,
            "decompressedLines":0,"compressedBytes":0,"totalDuplicates":0,"postFilterLines":0,
            "headChunkStructuredMetadataBytes":0,"decompressedStructuredMetadataBytes":0},
        "chunkRefsFetchTime":0,"congestionControlLatency":0,"pipelineWrapperFilteredLines":0,
        "dataobj":{"prePredicateDecompressedRows":0,"prePredicateDecompressedBytes":0,
            "prePredicateDecompressedStructuredMetadataBytes":0,"postPredicateRows":0,
            "postPredicateDecompressedBytes":0,"postPredicateStructuredMetadataBytes":0,
            "postFilterRows":0,"pagesScanned":0,"pagesDownloaded":0,"pagesDownloadedBytes":0,
            "pageBatches":0,"totalRowsAvailable":0,"totalPageDownloadTime":0,
            "wireBytesTransferred":0}});
    serde_json::json!({
        "summary":{"bytesProcessedPerSecond":0,"linesProcessedPerSecond":0,
            "totalBytesProcessed":0,"totalLinesProcessed":0,"execTime":0,"queueTime":0,
            "subqueries":0,"totalEntriesReturned":entries,"splits":0,"shards":0,
            "totalPostFilterLines":0,"totalStructuredMetadataBytesProcessed":0},
        "querier":{"store":store,"querierExecTime":0},
        "ingester":{"totalReached":0,"totalChunksMatched":0,"totalBatches":0,
            "totalLinesSent":0,"store":store},
        "cache":{"chunk":cache,"index":cache,"result":cache,"statsResult":cache,
            "volumeResult":cache,"seriesResult":cache,"labelResult":cache,
            "instantMetricResult":cache,"logResult":cache,"taskResult":cache},
        "index":{"totalChunks":0,"postFilterChunks":0,"shardsDuration":0,
            "usedBloomFilters":false,"totalStreams":0,"chunkRefsLookupTime":0,
            "bloomFilterTime":0}
    })
}

struct LabelMap<'a>(&'a Labels);

impl Serialize for LabelMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for l in self.0.iter() {
            m.serialize_entry(&l.name, &l.value)?;
        }
        m.end()
    }
}

/// One entry on the wire: `["<ns>", "line"]`, and in categorized form a
/// third element with its structured metadata and parsed labels.
struct Value<'a> {
    ts: i64,
    line: &'a str,
    extra: Option<(&'a Labels, &'a Labels)>,
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(if self.extra.is_some() { 3 } else { 2 }))?;
        seq.serialize_element(&self.ts.to_string())?;
        seq.serialize_element(self.line)?;
        if let Some((md, parsed)) = self.extra {
            let mut obj = serde_json::Map::new();
            let map = |l: &Labels| {
                serde_json::Value::Object(
                    l.iter()
                        .map(|x| (x.name.clone(), serde_json::Value::String(x.value.clone())))
                        .collect(),
                )
            };
            if !md.is_empty() {
                obj.insert("structuredMetadata".into(), map(md));
            }
            if !parsed.is_empty() {
                obj.insert("parsed".into(), map(parsed));
            }
            seq.serialize_element(&obj)?;
        }
        seq.end()
    }
}

/// A streams answer's `result`: one object per stream, by full labels or,
/// categorized, by stream labels with each entry's other labels beside it.
fn streams_json(streams: &[OutStream], categorized: bool) -> serde_json::Value {
    #[derive(Serialize)]
    struct Stream<'a> {
        stream: LabelMap<'a>,
        values: Vec<Value<'a>>,
    }
    let out: Vec<Stream> = if categorized {
        // Regroup by stream labels, keeping each group's entries in order
        // of the first stream's direction (the groups are merged by time).
        let mut groups: Vec<(&Labels, Vec<(&sightline_logeval::query::OutEntry, usize)>)> =
            Vec::new();
        for (si, s) in streams.iter().enumerate() {
            match groups.iter_mut().find(|(l, _)| **l == s.stream) {
                Some((_, v)) => v.extend(s.entries.iter().map(|e| (e, si))),
                None => groups.push((&s.stream, s.entries.iter().map(|e| (e, si)).collect())),
            }
        }
        groups.sort_by(|a, b| a.0.cmp(b.0));
        groups
            .into_iter()
            .map(|(labels, mut entries)| {
                let backward =
                    entries.len() > 1 && entries[0].0.ts_ns > entries[entries.len() - 1].0.ts_ns;
                entries.sort_by_key(|(e, _)| if backward { -e.ts_ns } else { e.ts_ns });
                Stream {
                    stream: LabelMap(labels),
                    values: entries
                        .into_iter()
                        .map(|(e, _)| Value {
                            ts: e.ts_ns,
                            line: &e.line,
                            extra: Some((&e.structured_metadata, &e.parsed)),
                        })
                        .collect(),
                }
            })
            .collect()
    } else {
        streams
            .iter()
            .map(|s| Stream {
                stream: LabelMap(&s.labels),
                values: s
                    .entries
                    .iter()
                    .map(|e| Value {
                        ts: e.ts_ns,
                        line: &e.line,
                        extra: None,
                    })
                    .collect(),
            })
            .collect()
    };
    serde_json::to_value(&out).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}

/// The success envelope of a query answer.
fn answer(a: &LogqlAnswer, flags: &[String]) -> Response {
    let mut data = serde_json::Map::new();
    match a {
        LogqlAnswer::Streams(streams) => {
            let categorized = flags.iter().any(|f| f == "categorize-labels");
            data.insert("resultType".into(), "streams".into());
            if !flags.is_empty() {
                data.insert("encodingFlags".into(), serde_json::json!(flags));
            }
            data.insert("result".into(), streams_json(streams, categorized));
            let n: usize = streams.iter().map(|s| s.entries.len()).sum();
            data.insert("stats".into(), stats(n));
        }
        LogqlAnswer::Value(v) => {
            if let Ok(serde_json::Value::Object(m)) = serde_json::to_value(QueryData(v)) {
                data.extend(m);
            }
            data.insert("stats".into(), stats(0));
        }
    }
    json(&serde_json::json!({"status": "success", "data": data}))
}

fn parse_query(q: &str) -> Result<Expr, LokiError> {
    parse_logql(q).map_err(LokiError::from)
}

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

/// The matchers of a `query` parameter that must be a stream selector
/// (or nothing).
fn selector_param(p: &Params, key: &str) -> Result<Vec<Vec<Matcher>>, LokiError> {
    match p.get(key).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Vec::new()),
        Some(q) => Ok(vec![selector(q)?]),
    }
}

/// A stream selector's matchers; `{}` is every stream.
fn selector(q: &str) -> Result<Vec<Matcher>, LokiError> {
    if q.trim() == "{}" {
        return Ok(Vec::new());
    }
    match parse_query(q)? {
        Expr::Log(l) if l.stages.is_empty() => Ok(l.matchers),
        _ => Err(LokiError::bad("only label matchers are supported")),
    }
}

fn ms_bounds(p: &Params) -> Result<(i64, i64), LokiError> {
    let (start, end) = parse_bounds(p, now_ns())?;
    Ok((start.div_euclid(NS_PER_MS), end.div_euclid(NS_PER_MS)))
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
        let names = s.engine.log_label_names(&read, &sets, start, end).await?;
        Ok(label_list(names))
    }
    .await;
    r.unwrap_or_else(|e: LokiError| e.into_response())
}

/// `data` is left out when there is nothing, as Loki leaves it out.
fn label_list(v: Vec<String>) -> Response {
    if v.is_empty() {
        json(&serde_json::json!({"status": "success"}))
    } else {
        json(&serde_json::json!({"status": "success", "data": v}))
    }
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
            .log_label_values(&read, &name, &sets, start, end)
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
        let streams = s.engine.log_series(&read, &sets, start, end).await?;
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

/// `GET /loki/api/v1/detected_labels`: the matching streams' label names
/// with their number of values, IDs-only labels left out as Loki does.
pub async fn detected_labels(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let read = scope.read()?;
        let (start, end) = ms_bounds(&p)?;
        let sets = selector_param(&p, "query")?;
        let streams = s.engine.log_series(&read, &sets, start, end).await?;
        let mut values: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
            Default::default();
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

fn is_boolean(vals: &std::collections::BTreeSet<&str>) -> bool {
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
/// against a Loki without a pattern ingester.
pub async fn not_supported() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// How `index/volume` credits bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AggregateBy {
    Series,
    Labels,
}

/// `GET|POST /loki/api/v1/index/volume` and `index/volume_range`: bytes
/// of lines per label set (restricted to the selector's label names, or
/// `targetLabels`) or per label name, largest first, cut to `limit`;
/// one bucket at `end`, or buckets aligned to `step`, each stamped at its
/// end less a millisecond and the last at the query's end. Sightline
/// counts the exact bytes of the lines where Loki's index counts KiB of
/// chunks.
async fn volume_answer(
    s: &AppState,
    scope: &Scope,
    p: &Params,
    range: bool,
) -> Result<Response, LokiError> {
    let read = scope.read()?;
    let now = now_ns();
    let (start, end) = parse_bounds(p, now)?;
    let limit = match p.get("limit").filter(|v| !v.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(v) => match v.parse::<i64>() {
            Ok(0) => DEFAULT_LIMIT,
            Ok(n) if n < 0 => return Err(LokiError::bad("limit must be a positive value")),
            Ok(n) => n as usize,
            Err(_) => {
                return Err(LokiError::bad(format!(
                    "strconv.Atoi: parsing {v:?}: invalid syntax"
                )));
            }
        },
    };
    let by = match p.get("aggregateBy").filter(|v| !v.is_empty()) {
        None | Some("series") => AggregateBy::Series,
        Some("labels") => AggregateBy::Labels,
        Some(_) => return Err(LokiError::bad("invalid aggregation option")),
    };
    let targets: Vec<String> = p
        .get("targetLabels")
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let step = if range {
        match p.get("step").filter(|v| !v.is_empty()) {
            Some(v) => parse_step(v)?,
            None => ((end - start) / NS_PER_S / 250).max(1) * NS_PER_S,
        }
    } else {
        0
    };
    if range && step <= 0 {
        return Err(LokiError::bad(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    let mut matchers = selector(query_text(p))?;
    for t in &targets {
        if !matchers.iter().any(|m| &m.name == t) {
            let m = Matcher::new(t, sightline_core::MatchOp::Regex, ".+")
                .map_err(|e| LokiError::bad(e.to_string()))?;
            matchers.push(m);
        }
    }
    let names: Vec<String> = if targets.is_empty() {
        let mut n: Vec<String> = matchers.iter().map(|m| m.name.clone()).collect();
        n.sort();
        n.dedup();
        n
    } else {
        targets.clone()
    };
    let streams = s.engine.log_entries(&read, matchers, start, end).await?;
    // Bucket index -> key -> bytes.
    let bucket_of = |ts: i64| -> i64 {
        if range {
            (ts - start.div_euclid(step) * step).div_euclid(step)
        } else {
            0
        }
    };
    let mut totals: std::collections::BTreeMap<Labels, std::collections::BTreeMap<i64, u64>> =
        Default::default();
    for st in &streams {
        let keys: Vec<Labels> = match by {
            AggregateBy::Series => vec![st.labels.project(&names, true)],
            AggregateBy::Labels => st
                .labels
                .iter()
                .filter(|l| targets.is_empty() || targets.contains(&l.name))
                .map(|l| {
                    Labels::from_sorted(vec![sightline_core::Label {
                        name: l.name.clone(),
                        value: String::new(),
                    }])
                })
                .collect(),
        };
        for e in &st.entries {
            let b = bucket_of(e.ts_ns);
            for k in &keys {
                *totals.entry(k.clone()).or_default().entry(b).or_default() += e.line.len() as u64;
            }
        }
    }
    let mut series: Vec<(Labels, std::collections::BTreeMap<i64, u64>)> =
        totals.into_iter().collect();
    let total = |m: &std::collections::BTreeMap<i64, u64>| m.values().sum::<u64>();
    series.sort_by(|a, b| total(&b.1).cmp(&total(&a.1)).then_with(|| a.0.cmp(&b.0)));
    series.truncate(limit);
    let end_ms = end.div_euclid(NS_PER_MS);
    let last_bucket = bucket_of(end.saturating_sub(1).max(start));
    let stamp = |b: i64| -> i64 {
        if !range || b >= last_bucket {
            end_ms
        } else {
            ((start.div_euclid(step) + b + 1) * step).div_euclid(NS_PER_MS) - 1
        }
    };
    let matrix = range && series.iter().any(|(_, m)| m.len() > 1);
    let v = if matrix {
        sightline_eval::Value::Matrix(
            series
                .into_iter()
                .map(|(labels, m)| sightline_eval::Series {
                    labels,
                    samples: m
                        .into_iter()
                        .map(|(b, v)| sightline_core::Sample {
                            t: stamp(b),
                            v: v as f64,
                        })
                        .collect(),
                })
                .collect(),
        )
    } else {
        sightline_eval::Value::Vector(
            series
                .into_iter()
                .filter_map(|(labels, m)| {
                    let (b, v) = m.into_iter().next()?;
                    Some(sightline_eval::InstantSample {
                        labels,
                        t: stamp(b),
                        v: v as f64,
                    })
                })
                .collect(),
        )
    };
    // Loki keeps the volume order, not the label order.
    Ok(answer(&LogqlAnswer::Value(v), &[]))
}

pub async fn volume(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    volume_answer(&s, &scope, &p, false)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

pub async fn volume_range(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    volume_answer(&s, &scope, &p, true)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}
