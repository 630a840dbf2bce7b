//! Loki's push API: `logproto.PushRequest` (protobuf, snappy block format)
//! and its JSON form, decoded into a [`LogBatch`] with Loki's validation.
//!
//! The messages are declared in `proto/sightline/loki_push.proto` (field
//! numbers as in Loki's `pkg/push/push.proto`). What refuses the whole
//! request (a body that does not decode, a label string that does not
//! parse) is an error; what refuses single entries or streams (a line
//! over the size limit, a timestamp out of bounds, too many labels) drops
//! only them, as Loki does, and comes back in [`Decoded::refused`] so the
//! door can answer 400 naming them while the rest is written. Loki's
//! senders (Promtail, Alloy) do not retry a 400, so refusing the whole
//! request for one long line would lose every good entry with it.

use std::collections::BTreeMap;

use prost::Message;
use sightline_core::{Label, Labels, LogEntry, LogStream, TenantId, is_valid_label_name};

use crate::IngestError;
use crate::record::LogBatch;

pub use crate::proto::loki_push::{EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter};

/// Loki's per-stream and per-entry limits, with Loki's defaults.
#[derive(Debug, Clone, Copy)]
pub struct PushLimits {
    /// Largest body after decompression.
    pub max_decompressed_bytes: usize,
    /// Longest line (`max_line_size`, 256 KB).
    pub max_line_bytes: usize,
    /// Most label names on a stream, `service_name` not counted (15).
    pub max_label_names: usize,
    /// Longest label name (1024) and value (2048).
    pub max_label_name_bytes: usize,
    pub max_label_value_bytes: usize,
    /// Entries older than `now - this` are refused (`reject_old_samples_max_age`,
    /// 7 days); `None`: no bound.
    pub max_age_ns: Option<i64>,
    /// Entries newer than `now + this` are refused (`creation_grace_period`, 10m).
    pub grace_ns: i64,
    /// Add `service_name` from the first of Loki's candidate labels when a
    /// stream has none (Loki's default, which Grafana's log views use).
    pub discover_service_name: bool,
}

impl Default for PushLimits {
    fn default() -> Self {
        PushLimits {
            max_decompressed_bytes: 64 << 20,
            max_line_bytes: 256 << 10,
            max_label_names: 15,
            max_label_name_bytes: 1024,
            max_label_value_bytes: 2048,
            max_age_ns: Some(7 * 24 * 3_600 * 1_000_000_000),
            grace_ns: 10 * 60 * 1_000_000_000,
            discover_service_name: true,
        }
    }
}

/// The labels Loki takes `service_name` from, in order.
pub(crate) const SERVICE_NAME_SOURCES: [&str; 13] = [
    "service",
    "app",
    "application",
    "app_name",
    "name",
    "app_kubernetes_io_name",
    "container",
    "container_name",
    "k8s_container_name",
    "component",
    "workload",
    "job",
    "k8s_job_name",
];

/// What a push decoded to: the batch to write, and what was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub batch: LogBatch,
    /// One message per refused entry or stream, in Loki's wording.
    pub refused: Vec<String>,
    /// Entries refused.
    pub refused_entries: usize,
}

/// A stream as it came in, before validation.
struct RawStream {
    labels: String,
    entries: Vec<RawEntry>,
}

/// An entry as it came in, before Loki's checks.
pub(crate) struct RawEntry {
    pub(crate) ts_ns: i64,
    pub(crate) line: String,
    pub(crate) metadata: Vec<(String, String)>,
}

/// Decodes a snappy-compressed protobuf push for `tenant` at `now_ns`.
pub fn decode_protobuf(
    tenant: &TenantId,
    body: &[u8],
    limits: &PushLimits,
    now_ns: i64,
) -> Result<Decoded, IngestError> {
    let len = snap::raw::decompress_len(body)
        .map_err(|e| IngestError::BadInput(format!("snappy: {e}")))?;
    if len > limits.max_decompressed_bytes {
        return Err(IngestError::TooLarge(format!(
            "decompressed message size too large than max ({len} vs {})",
            limits.max_decompressed_bytes
        )));
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| IngestError::BadInput(format!("snappy: {e}")))?;
    let req = PushRequest::decode(&raw[..])
        .map_err(|e| IngestError::BadInput(format!("protobuf: {e}")))?;
    let mut streams = Vec::with_capacity(req.streams.len());
    for s in req.streams {
        let mut entries = Vec::with_capacity(s.entries.len());
        for e in s.entries {
            let ts = e.timestamp.unwrap_or_default();
            if !(0..1_000_000_000).contains(&ts.nanos) {
                return Err(IngestError::BadInput(format!(
                    "timestamp: nanos {} out of range [0, 999999999]",
                    ts.nanos
                )));
            }
            let ts_ns = ts
                .seconds
                .checked_mul(1_000_000_000)
                .and_then(|s| s.checked_add(i64::from(ts.nanos)))
                .ok_or_else(|| {
                    IngestError::BadInput(format!(
                        "timestamp: {} seconds is out of range",
                        ts.seconds
                    ))
                })?;
            entries.push(RawEntry {
                ts_ns,
                line: e.line,
                metadata: e
                    .structured_metadata
                    .into_iter()
                    .map(|p| (p.name, p.value))
                    .collect(),
            });
        }
        streams.push(RawStream {
            labels: s.labels,
            entries,
        });
    }
    validate(tenant, streams, limits, now_ns)
}

/// Decodes a JSON push (`{"streams":[{"stream":{…},"values":[["<ns>","line",{…}]]}]}`).
pub fn decode_json(
    tenant: &TenantId,
    body: &[u8],
    limits: &PushLimits,
    now_ns: i64,
) -> Result<Decoded, IngestError> {
    if body.len() > limits.max_decompressed_bytes {
        return Err(IngestError::TooLarge(format!(
            "request body too large: message size too large than max ({} vs {})",
            body.len(),
            limits.max_decompressed_bytes
        )));
    }
    let bad = |m: String| IngestError::BadInput(m);
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("JSON: {e}")))?;
    let streams = match v.get("streams") {
        Some(serde_json::Value::Array(a)) => a,
        Some(serde_json::Value::Null) | None => &Vec::new(),
        Some(_) => return Err(bad("JSON: \"streams\" must be an array".into())),
    };
    let mut out = Vec::with_capacity(streams.len());
    for (si, s) in streams.iter().enumerate() {
        if s.is_null() {
            continue;
        }
        let labels = match s.get("stream") {
            Some(serde_json::Value::Object(m)) => {
                let mut pairs: BTreeMap<&str, &str> = BTreeMap::new();
                for (k, v) in m {
                    let v = v.as_str().ok_or_else(|| {
                        bad(format!("JSON: streams[{si}].stream.{k} must be a string"))
                    })?;
                    pairs.insert(k, v);
                }
                // Loki writes the object as label text with the names
                // unquoted, so a name that is not an identifier fails to
                // parse below, as it does in Loki.
                let body: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={}", sightline_core::gofmt::quote(v)))
                    .collect();
                format!("{{{}}}", body.join(", "))
            }
            Some(serde_json::Value::Null) | None => "{}".to_string(),
            Some(_) => {
                return Err(bad(format!("JSON: streams[{si}].stream must be an object")));
            }
        };
        let values = match s.get("values") {
            Some(serde_json::Value::Array(a)) => a.as_slice(),
            Some(serde_json::Value::Null) | None => &[],
            Some(_) => {
                return Err(bad(format!("JSON: streams[{si}].values must be an array")));
            }
        };
        let mut entries = Vec::with_capacity(values.len());
        for (ei, e) in values.iter().enumerate() {
            if e.is_null() {
                continue;
            }
            let at = || format!("streams[{si}].values[{ei}]");
            let Some(parts) = e.as_array() else {
                return Err(bad(format!("JSON: {} must be an array", at())));
            };
            if parts.len() < 2 || parts.len() > 3 {
                return Err(bad(format!(
                    "JSON: {} must hold a timestamp, a line and optionally structured metadata",
                    at()
                )));
            }
            let ts = parts[0].as_str().ok_or_else(|| {
                bad(format!(
                    "JSON: {}: the timestamp must be a string of nanoseconds",
                    at()
                ))
            })?;
            let ts_ns: i64 = ts.parse().map_err(|_| {
                bad(format!(
                    "JSON: {}: timestamp {ts:?} is not an integer number of nanoseconds",
                    at()
                ))
            })?;
            let line = parts[1]
                .as_str()
                .ok_or_else(|| bad(format!("JSON: {}: the line must be a string", at())))?;
            let mut metadata = Vec::new();
            if let Some(md) = parts.get(2) {
                let Some(obj) = md.as_object() else {
                    return Err(bad(format!(
                        "JSON: {}: structured metadata must be an object of strings",
                        at()
                    )));
                };
                for (k, v) in obj {
                    let v = v.as_str().ok_or_else(|| {
                        bad(format!(
                            "JSON: {}: structured metadata {k:?} must be a string",
                            at()
                        ))
                    })?;
                    metadata.push((k.clone(), v.to_string()));
                }
            }
            entries.push(RawEntry {
                ts_ns,
                line: line.to_string(),
                metadata,
            });
        }
        out.push(RawStream { labels, entries });
    }
    validate(tenant, out, limits, now_ns)
}

fn validate(
    tenant: &TenantId,
    raw: Vec<RawStream>,
    limits: &PushLimits,
    now_ns: i64,
) -> Result<Decoded, IngestError> {
    if raw.is_empty() {
        return Err(IngestError::BadInput(
            "error at least one valid stream is required for ingestion".into(),
        ));
    }
    // A label string that does not parse refuses the whole request.
    let mut parsed = Vec::with_capacity(raw.len());
    for s in raw {
        let labels = parse_stream_labels(&s.labels)
            .map_err(|e| IngestError::BadInput(format!("couldn't parse labels: {e}")))?;
        parsed.push((labels, s.entries));
    }
    Ok(check_streams(tenant, parsed, limits, now_ns))
}

/// Loki's checks of streams whose labels are parsed: a stream or an entry
/// that fails one is refused alone, with Loki's message; streams with the
/// same labels become one.
pub(crate) fn check_streams(
    tenant: &TenantId,
    raw: Vec<(Vec<Label>, Vec<RawEntry>)>,
    limits: &PushLimits,
    now_ns: i64,
) -> Decoded {
    let mut refused = Vec::new();
    let mut refused_entries = 0;
    let mut streams: Vec<LogStream> = Vec::with_capacity(raw.len());
    let mut index: std::collections::HashMap<Labels, usize> = std::collections::HashMap::new();
    for (parsed, raw_entries) in raw {
        if raw_entries.is_empty() {
            continue;
        }
        let labels = match check_stream(parsed, limits) {
            Ok(l) => l,
            Err(msg) => {
                refused_entries += raw_entries.len();
                refused.push(msg);
                continue;
            }
        };
        let mut entries = Vec::with_capacity(raw_entries.len());
        for e in raw_entries {
            match check_entry(&labels, &e, limits, now_ns) {
                Ok(()) => entries.push(LogEntry {
                    ts_ns: e.ts_ns,
                    line: e.line,
                    metadata: metadata_labels(e.metadata),
                }),
                Err(msg) => {
                    refused_entries += 1;
                    refused.push(msg);
                }
            }
        }
        if entries.is_empty() {
            continue;
        }
        match index.get(&labels) {
            Some(&i) => streams[i].entries.extend(entries),
            None => {
                index.insert(labels.clone(), streams.len());
                streams.push(LogStream { labels, entries });
            }
        }
    }
    Decoded {
        batch: LogBatch {
            tenant: tenant.clone(),
            streams,
        },
        refused,
        refused_entries,
    }
}

/// Loki's stream checks, and `service_name` discovery.
fn check_stream(labels: Vec<Label>, limits: &PushLimits) -> Result<Labels, String> {
    if labels.is_empty() {
        return Err("error at least one label pair is required per stream".into());
    }
    let text = label_text(&labels);
    if let Some(w) = labels.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!(
            "stream '{text}' has duplicate label name: '{}'",
            w[0].name
        ));
    }
    let counted = labels.iter().filter(|l| l.name != "service_name").count();
    if counted > limits.max_label_names {
        return Err(format!(
            "entry for stream '{text}' has {counted} label names; limit {}",
            limits.max_label_names
        ));
    }
    for l in &labels {
        if !is_valid_label_name(&l.name) {
            return Err(format!(
                "stream '{text}' has invalid label name: '{}'",
                l.name
            ));
        }
        if l.name.len() > limits.max_label_name_bytes {
            return Err(format!(
                "stream '{text}' has label name too long: '{}'",
                l.name
            ));
        }
        if l.value.len() > limits.max_label_value_bytes {
            return Err(format!(
                "stream '{text}' has label value too long: '{}'",
                l.value
            ));
        }
    }
    let mut labels = Labels::from_sorted(labels);
    if limits.discover_service_name && labels.get("service_name").is_none() {
        let value = SERVICE_NAME_SOURCES
            .iter()
            .find_map(|n| labels.get(n))
            .unwrap_or("unknown_service")
            .to_string();
        labels.set("service_name", &value);
    }
    Ok(labels)
}

/// Labels as Prometheus writes a label set, duplicates and all.
fn label_text(labels: &[Label]) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|l| format!("{}={:?}", l.name, l.value))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

fn check_entry(
    labels: &Labels,
    e: &RawEntry,
    limits: &PushLimits,
    now_ns: i64,
) -> Result<(), String> {
    if let Some(age) = limits.max_age_ns {
        let oldest = now_ns.saturating_sub(age);
        if e.ts_ns < oldest {
            return Err(format!(
                "entry for stream '{labels}' has timestamp too old: {}, oldest acceptable timestamp is: {}",
                rfc3339(e.ts_ns),
                rfc3339(oldest)
            ));
        }
    }
    if e.ts_ns > now_ns.saturating_add(limits.grace_ns) {
        return Err(format!(
            "entry for stream '{labels}' has timestamp too new: {}",
            rfc3339(e.ts_ns)
        ));
    }
    if e.line.len() > limits.max_line_bytes {
        return Err(format!(
            "max entry size '{}' bytes exceeded for stream '{labels}' while adding an entry with length '{}' bytes",
            limits.max_line_bytes,
            e.line.len()
        ));
    }
    Ok(())
}

/// Structured metadata as labels: names made valid label names (as Loki
/// does), sorted, the last value of a repeated name kept, empty values
/// dropped.
fn metadata_labels(pairs: Vec<(String, String)>) -> Labels {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in pairs {
        if v.is_empty() || k.is_empty() {
            continue;
        }
        m.insert(sanitize_name(&k), v);
    }
    Labels::from_sorted(
        m.into_iter()
            .map(|(name, value)| Label { name, value })
            .collect(),
    )
}

/// A valid label name from any text: characters outside `[a-zA-Z0-9_]`
/// become `_`, and a leading digit gets a `_` before it.
fn sanitize_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        out.insert(0, '_');
    }
    out
}

/// RFC 3339 in UTC with the fraction Go prints (`time.RFC3339Nano` trims
/// trailing zeros; Loki's messages use `RFC3339`, whole seconds).
fn rfc3339(ts_ns: i64) -> String {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = sightline_core::time::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Parses a stream's label text as Prometheus's metric parser reads it:
/// `{name="value", ...}`, optionally after a metric name
/// (`foo{...}` is `__name__="foo"`), names bare or quoted, values in
/// double, single or back quotes with Go's escapes, a trailing comma
/// allowed. Labels with an empty value are dropped; the result is sorted
/// (duplicates are kept for the caller to refuse).
pub fn parse_stream_labels(s: &str) -> Result<Vec<Label>, String> {
    let mut rest = s.trim_start();
    let mut labels = Vec::new();
    if !rest.starts_with('{') {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        if end == 0 {
            return Err(format!("1:1: parse error: unexpected character in {s:?}"));
        }
        labels.push(Label {
            name: sightline_core::METRIC_NAME.to_string(),
            value: rest[..end].to_string(),
        });
        rest = rest[end..].trim_start();
        if rest.is_empty() {
            return Ok(labels);
        }
    }
    let Some(body) = rest.strip_prefix('{') else {
        return Err(format!("1:1: parse error: expected '{{' in {s:?}"));
    };
    rest = body.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            if !after.trim().is_empty() {
                return Err(format!(
                    "1:{}: parse error: unexpected text after '}}'",
                    s.len() - after.len() + 1
                ));
            }
            break;
        }
        let pos = || s.len() - rest.len() + 1;
        let (name, after) = match rest.chars().next() {
            Some(q @ ('"' | '\'' | '`')) => {
                quoted(rest, q).map_err(|e| format!("1:{}: {e}", pos()))?
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (rest[..end].to_string(), &rest[end..])
            }
            _ => {
                return Err(format!(
                    "1:{}: parse error: unexpected character in label set, expected a label name",
                    pos()
                ));
            }
        };
        rest = after.trim_start();
        let Some(after) = rest.strip_prefix('=') else {
            return Err(format!(
                "1:{}: parse error: expected '=' after label name {name:?}",
                pos()
            ));
        };
        rest = after.trim_start();
        let (value, after) = match rest.chars().next() {
            Some(q @ ('"' | '\'' | '`')) => {
                quoted(rest, q).map_err(|e| format!("1:{}: {e}", pos()))?
            }
            _ => {
                return Err(format!(
                    "1:{}: parse error: expected a quoted label value for {name:?}",
                    pos()
                ));
            }
        };
        if !value.is_empty() {
            labels.push(Label { name, value });
        }
        rest = after.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.starts_with('}') {
            return Err(format!(
                "1:{}: parse error: expected ',' or '}}' in label set",
                pos()
            ));
        }
    }
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(labels)
}

/// A quoted string at the start of `s` with Go's escapes.
fn quoted(s: &str, q: char) -> Result<(String, &str), String> {
    let body = &s[1..];
    if q == '`' {
        return match body.find('`') {
            Some(i) => Ok((body[..i].to_string(), &body[i + 1..])),
            None => Err("parse error: unterminated raw string".into()),
        };
    }
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == q => return Ok((out, &body[i + 1..])),
            '\n' => return Err("parse error: unterminated quoted string".into()),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('\'') => out.push('\''),
                Some('a') => out.push('\x07'),
                Some('b') => out.push('\x08'),
                Some('f') => out.push('\x0c'),
                Some('v') => out.push('\x0b'),
                Some(u @ ('u' | 'U' | 'x')) => {
                    let n = match u {
                        'u' => 4,
                        'U' => 8,
                        _ => 2,
                    };
                    let hex: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
                    let cp = u32::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == n)
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("parse error: invalid escape \\{u}{hex}"))?;
                    out.push(cp);
                }
                Some(e) => return Err(format!("parse error: unknown escape sequence '\\{e}'")),
                None => return Err("parse error: unterminated quoted string".into()),
            },
            c => out.push(c),
        }
    }
    Err("parse error: unterminated quoted string".into())
}

/// Inflates a gzip or deflate body, refusing one that grows past `max`
/// bytes (a small body can inflate to gigabytes).
pub fn inflate(body: &[u8], encoding: Inflate, max: usize) -> Result<Vec<u8>, IngestError> {
    use std::io::Read;
    let mut out = Vec::new();
    let limit = max as u64 + 1;
    let res = match encoding {
        Inflate::Gzip => flate2::read::MultiGzDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out),
        Inflate::Deflate => flate2::read::ZlibDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out),
    };
    res.map_err(|e| IngestError::BadInput(format!("{}: {e}", encoding.as_str())))?;
    if out.len() > max {
        return Err(IngestError::TooLarge(format!(
            "request body too large: decompressed message size too large than max ({} vs {max})",
            out.len()
        )));
    }
    Ok(out)
}

/// A `Content-Encoding` a push body may carry besides none and `snappy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inflate {
    Gzip,
    Deflate,
}

impl Inflate {
    pub fn as_str(self) -> &'static str {
        match self {
            Inflate::Gzip => "gzip",
            Inflate::Deflate => "deflate",
        }
    }
}

#[cfg(test)]
mod tests;
