//! `sightline logs query`: a LogQL query against a running server's Loki
//! query API (`/loki/api/v1/query_range`, or `/query` for an instant metric
//! query), printed as Loki's logcli prints it.
//!
//! The server decides everything a query means; this module only turns the
//! command line into Loki's parameters and the answer into lines. Errors the
//! server writes (Loki's plain-text refusals, or the JSON of a refused
//! token) come back as errors, never as output.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use sightline_core::Labels;

const NS_PER_MS: i64 = 1_000_000;
const NS_PER_S: i64 = 1_000_000_000;

const TIME_SHORT_HELP: &str = "\
Times are RFC 3339, Unix seconds or nanoseconds, `now`, or a duration back \
from now (`1h`: an hour ago); see --help.";

pub(crate) const TIME_HELP: &str = "\
Times (--from, --to, --time) are RFC 3339 (2024-05-01T12:00:00Z), Unix \
seconds (1714564800, or 1714564800.5), Unix nanoseconds (more than 10 \
digits), `now`, or a duration back from now: `1h` (also `now-1h`) means one \
hour ago; durations are Prometheus's (`90s`, `15m`, `1h30m`, `2d`, `1w`).

Without --time every query runs as a range query, as logcli runs it: a log \
query answers entries, a metric query a series per label set on the --step \
grid. --time runs a metric query instantly at that time.

Output: `text` prints one line per entry, `<RFC 3339 time> {labels} line`, \
across all streams in the query's direction, or for a metric query a table \
of series and points; `json` prints the server's answer as it came; `raw` \
prints the lines alone (for a metric query, the table's rows without header \
or padding).";

#[derive(Subcommand, Debug)]
pub enum LogsCmd {
    /// Runs a LogQL query (log or metric) and prints its answer.
    #[command(after_help = TIME_SHORT_HELP, after_long_help = TIME_HELP)]
    Query(QueryArgs),
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The LogQL query, e.g. '{app="api"} |= "error"'.
    query: String,
    #[command(flatten)]
    window: Window,
    /// Most entries to return (the server allows up to 5000).
    #[arg(long, default_value_t = 30)]
    limit: u32,
    /// Newest entries first (backward) or oldest first (forward).
    #[arg(long, value_enum, default_value = "backward")]
    direction: Direction,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    /// Server URL.
    #[arg(long, env = "SIGHTLINE_URL", default_value = "http://127.0.0.1:9700")]
    url: String,
    /// A report or cli token of the workspace (default: SIGHTLINE_REPORT_TOKEN,
    /// else SIGHTLINE_TOKEN).
    #[arg(long)]
    token: Option<String>,
}

/// The window of a query on the command line (the forms in `TIME_HELP`),
/// shared by `logs query` and `archive query`.
#[derive(Args, Debug)]
pub(crate) struct Window {
    /// Start of the range: RFC 3339, Unix seconds or nanoseconds, or a
    /// duration back from now.
    #[arg(long, default_value = "1h")]
    pub from: String,
    /// End of the range (same forms).
    #[arg(long, default_value = "now")]
    pub to: String,
    /// Runs a metric query as an instant query at this time instead of a
    /// range query.
    #[arg(long, conflicts_with_all = ["from", "to", "step"])]
    pub time: Option<String>,
    /// Resolution of a metric range query: a duration (`1m`) or seconds
    /// [default: the range over 250].
    #[arg(long)]
    pub step: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Direction {
    Backward,
    Forward,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Backward => "backward",
            Direction::Forward => "forward",
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum Output {
    Text,
    Json,
    Raw,
}

pub async fn run(cmd: LogsCmd) -> anyhow::Result<()> {
    let LogsCmd::Query(args) = cmd;
    let token = args
        .token
        .clone()
        .or_else(|| std::env::var("SIGHTLINE_REPORT_TOKEN").ok())
        .or_else(|| std::env::var("SIGHTLINE_TOKEN").ok())
        .filter(|t| !t.is_empty())
        .context("no token: pass --token or set SIGHTLINE_REPORT_TOKEN (a report or cli token)")?;
    let now = now_ns();
    let mut params: Vec<(&str, String)> = vec![
        ("query", args.query.clone()),
        ("limit", args.limit.to_string()),
        ("direction", args.direction.as_str().to_string()),
    ];
    let path = match &args.window.time {
        Some(t) => {
            params.push(("time", parse_time(t, now)?.to_string()));
            "/loki/api/v1/query"
        }
        None => {
            params.push(("start", parse_time(&args.window.from, now)?.to_string()));
            params.push(("end", parse_time(&args.window.to, now)?.to_string()));
            if let Some(step) = &args.window.step {
                params.push(("step", step.clone()));
            }
            "/loki/api/v1/query_range"
        }
    };
    let url = format!("{}{path}", args.url.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .get(&url)
        .query(&params)
        .bearer_auth(&token)
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = resp.status();
    let body = resp.text().await.context("reading the answer")?;
    if !status.is_success() {
        bail!("{status}: {}", error_message(&body));
    }
    let out = render(&body, args.output, args.direction)?;
    print!("{out}");
    Ok(())
}

pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// The message of a refusal: Loki's query endpoints write plain text, the
/// token check writes Sightline's JSON error object.
fn error_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string())
}

/// A time of the command line as Unix nanoseconds (forms in `TIME_HELP`);
/// `now_ns` is the present.
pub(crate) fn parse_time(v: &str, now_ns: i64) -> anyhow::Result<i64> {
    let v = v.trim();
    if v == "now" {
        return Ok(now_ns);
    }
    let out_of_range = || anyhow::anyhow!("time {v:?} is out of range");
    if let Ok(n) = v.parse::<i64>() {
        let digits = v.trim_start_matches(['-', '+']).len();
        return if digits <= 10 {
            n.checked_mul(NS_PER_S).ok_or_else(out_of_range)
        } else {
            Ok(n)
        };
    }
    if v.contains('.')
        && let Ok(f) = v.parse::<f64>()
    {
        let ns = (f * 1e9).round();
        if !ns.is_finite() || ns.abs() > 9.2e18 {
            return Err(out_of_range());
        }
        return Ok(ns as i64);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return t.timestamp_nanos_opt().ok_or_else(out_of_range);
    }
    let ago = v.strip_prefix("now-").unwrap_or(v);
    if let Some(ms) = sightline_promql::text::parse_duration(ago) {
        return ms
            .checked_mul(NS_PER_MS)
            .and_then(|d| now_ns.checked_sub(d))
            .ok_or_else(out_of_range);
    }
    bail!(
        "cannot read time {v:?}: expected RFC 3339, Unix seconds or nanoseconds, `now`, or a duration such as 1h"
    )
}

/// A nanosecond time in RFC 3339, UTC, with as many fractional digits as
/// it needs (none, 3, 6 or 9).
pub(crate) fn rfc3339(ts_ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ts_ns)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A JSON label object of the answer; it displays in Loki's (and
/// Prometheus's) `{a="b", c="d"}` form.
fn labels(v: &Value) -> anyhow::Result<Labels> {
    let Some(obj) = v.as_object() else {
        return Ok(Labels::empty());
    };
    Labels::from_pairs(
        obj.iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())),
    )
    .context("decoding the answer's labels")
}

/// The answer's text for `output`; `body` is the server's JSON.
fn render(body: &str, output: Output, direction: Direction) -> anyhow::Result<String> {
    if output == Output::Json {
        let mut out = body.trim_end().to_string();
        out.push('\n');
        return Ok(out);
    }
    let v: Value = serde_json::from_str(body).context("decoding the answer")?;
    let data = &v["data"];
    let result = &data["result"];
    match data["resultType"].as_str() {
        Some("streams") => streams(result, output, direction),
        Some(kind @ ("matrix" | "vector")) => {
            // Series by their labels (an instant vector comes in no set
            // order), each one's points in time order.
            let mut series = Vec::new();
            for s in result.as_array().into_iter().flatten() {
                let points = match kind {
                    "matrix" => s["values"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                    _ => std::slice::from_ref(&s["value"]),
                };
                series.push((labels(&s["metric"])?, points));
            }
            series.sort_by(|a, b| a.0.cmp(&b.0));
            let mut rows = Vec::new();
            for (labels, points) in series {
                let labels = labels.to_string();
                for p in points {
                    rows.push(point_row(&labels, p)?);
                }
            }
            Ok(table(&rows, output))
        }
        Some("scalar") | Some("string") => Ok(table(&[point_row("{}", result)?], output)),
        other => bail!("unexpected answer (resultType {other:?}): {body}"),
    }
}

/// Log entries of every stream, merged in the query's direction; entries
/// at the same time keep the server's order.
fn streams(result: &Value, output: Output, direction: Direction) -> anyhow::Result<String> {
    let mut entries: Vec<(i64, usize, &str)> = Vec::new();
    let mut names = Vec::new();
    for (i, s) in result.as_array().into_iter().flatten().enumerate() {
        names.push(labels(&s["stream"])?.to_string());
        for e in s["values"].as_array().into_iter().flatten() {
            let ts = e[0]
                .as_str()
                .and_then(|t| t.parse::<i64>().ok())
                .context("an entry without a nanosecond timestamp")?;
            let line = e[1].as_str().context("an entry without a line")?;
            entries.push((ts, i, line));
        }
    }
    match direction {
        Direction::Forward => entries.sort_by_key(|e| e.0),
        Direction::Backward => entries.sort_by(|a, b| b.0.cmp(&a.0)),
    }
    let width = names.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (ts, i, line) in entries {
        match output {
            Output::Raw => out.push_str(line),
            _ => out.push_str(&format!("{} {:<width$} {line}", rfc3339(ts), names[i])),
        }
        out.push('\n');
    }
    Ok(out)
}

/// One `[<unix seconds>, "<value>"]` point as a row: labels, time, value.
fn point_row(labels: &str, p: &Value) -> anyhow::Result<[String; 3]> {
    let secs = p[0].as_f64().context("a point without a time in seconds")?;
    let value = p[1].as_str().context("a point without a value")?;
    let ms = (secs * 1000.0).round() as i64;
    Ok([
        labels.to_string(),
        rfc3339(ms.saturating_mul(NS_PER_MS)),
        value.to_string(),
    ])
}

/// Rows of series points: aligned under a header in text, bare in raw.
pub(crate) fn table(rows: &[[String; 3]], output: Output) -> String {
    let mut out = String::new();
    if output == Output::Raw {
        for [l, t, v] in rows {
            out.push_str(&format!("{l} {t} {v}\n"));
        }
        return out;
    }
    let header = ["SERIES", "TIMESTAMP", "VALUE"].map(str::to_string);
    let w0 = rows
        .iter()
        .chain([&header])
        .map(|r| r[0].chars().count())
        .max()
        .unwrap_or(0);
    let w1 = rows
        .iter()
        .chain([&header])
        .map(|r| r[1].chars().count())
        .max()
        .unwrap_or(0);
    for [l, t, v] in [&header].into_iter().chain(rows) {
        out.push_str(&format!("{l:<w0$}  {t:<w1$}  {v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_714_564_800 * NS_PER_S;

    #[test]
    fn times() {
        let t = |v: &str| parse_time(v, NOW).map_err(|e| e.to_string());
        assert_eq!(t("now"), Ok(NOW));
        assert_eq!(t("1714564800"), Ok(NOW));
        assert_eq!(t("1714564800.5"), Ok(NOW + 500_000_000));
        assert_eq!(t("1714564800000000001"), Ok(NOW + 1));
        assert_eq!(t("2024-05-01T12:00:00Z"), Ok(NOW));
        assert_eq!(t("2024-05-01T14:00:00.25+02:00"), Ok(NOW + 250_000_000));
        assert_eq!(t("1h"), Ok(NOW - 3600 * NS_PER_S));
        assert_eq!(t("now-1h30m"), Ok(NOW - 5400 * NS_PER_S));
        assert!(t("yesterday").is_err_and(|e| e.contains("cannot read time")));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            error_message("parse error at line 1\n"),
            "parse error at line 1"
        );
        assert_eq!(
            error_message(r#"{"status":"error","errorType":"unauthorized","error":"no"}"#),
            "no"
        );
    }
}
