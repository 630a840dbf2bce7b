//! Detected fields: what Grafana's Logs Drilldown lists as a log query's
//! fields, found the way Loki's query frontend finds them
//! (`queryrange/detected_fields.go`) over the entries of the query's
//! answer: each entry's structured metadata (no parser), the labels the
//! query's own parsers set, and what `json`, or failing that `logfmt`,
//! finds in the line.
//!
//! Two differences, both in what Loki leaves to chance: the cardinality is
//! the exact number of distinct values (Loki estimates it with a
//! HyperLogLog sketch, exact for small counts), and fields come sorted by
//! name (Loki's come in map order).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::OutStream;
use crate::pipeline::convert::{parse_bytes, parse_float};
use crate::pipeline::json::JsonParser;
use crate::pipeline::labels::{
    ERROR_DETAILS_LABEL, ERROR_LABEL, Hints, LabelsBuilder, PRESERVE_ERROR_LABEL,
};
use crate::pipeline::logfmt::LogfmtParser;

/// One detected field.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectedField {
    pub label: String,
    /// `string`, `int`, `float`, `boolean`, `duration` or `bytes`.
    pub kind: &'static str,
    pub cardinality: u64,
    /// The parsers that found it; `None` for structured metadata.
    pub parsers: Option<Vec<&'static str>>,
    /// The object keys leading to a field `json` found.
    pub json_path: Option<Vec<String>>,
}

#[derive(Default)]
struct Field {
    kind: &'static str,
    values: BTreeSet<String>,
    parsers: Vec<&'static str>,
    json_path: Option<Vec<String>>,
}

/// The type Loki gives a value: the first of Go's `ParseInt`,
/// `ParseFloat`, `ParseBool`, `time.ParseDuration` and go-humanize's
/// `ParseBytes` that accepts it, else `string`.
pub fn field_type(v: &str) -> &'static str {
    if crate::template::go_parse_int10(v) {
        "int"
    } else if parse_float(v).1.is_none() {
        "float"
    } else if matches!(
        v,
        "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False"
    ) {
        "boolean"
    } else if crate::template::go_parse_duration(v) {
        "duration"
    } else if parse_bytes(v).is_ok() {
        "bytes"
    } else {
        "string"
    }
}

fn is_error_label(name: &str) -> bool {
    name == ERROR_LABEL || name == ERROR_DETAILS_LABEL || name == PRESERVE_ERROR_LABEL
}

/// One entry's parsed fields (name → values, paths of `json` fields) and
/// the parser that found them (Loki's `parseEntry`).
type EntryFields = (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, Vec<String>>,
    Option<&'static str>,
);

fn parse_entry(stream: &OutStream, e: &super::OutEntry) -> EntryFields {
    let mut fields: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in e.parsed.iter().filter(|l| !is_error_label(&l.name)) {
        fields
            .entry(l.name.clone())
            .or_default()
            .insert(l.value.clone());
    }
    let mut lbs = LabelsBuilder::new(stream.stream.clone(), Arc::new(Hints::default()));
    lbs.reset(&[]);
    let mut paths = Vec::new();
    let parser =
        if JsonParser.process_capturing(&e.line, &mut lbs, Some(&mut paths)) && !lbs.has_error() {
            "json"
        } else {
            lbs.reset(&[]);
            paths.clear();
            if !LogfmtParser::new(false, false).process(&e.line, &mut lbs) || lbs.has_error() {
                return (fields, BTreeMap::new(), None);
            }
            "logfmt"
        };
    let [_, _, parsed] = lbs.result();
    for l in parsed.iter().filter(|l| !is_error_label(&l.name)) {
        fields
            .entry(l.name.clone())
            .or_default()
            .insert(l.value.clone());
    }
    fields.retain(|k, _| !is_error_label(k));
    (fields, paths.into_iter().collect(), Some(parser))
}

/// The fields of a query's answer (its categorized streams, in the
/// answer's order), at most `limit` of them: the first found are kept.
pub fn detected_fields(streams: &[OutStream], limit: usize) -> Vec<DetectedField> {
    let mut found: BTreeMap<String, Field> = BTreeMap::new();
    let note = |name: &str, values: &BTreeSet<String>, found: &mut BTreeMap<String, Field>| {
        if !found.contains_key(name) && found.len() >= limit {
            return None;
        }
        let f = found.entry(name.to_string()).or_default();
        // Loki takes the type from each entry's first value, the last
        // entry's winning.
        if let Some(first) = values.iter().next() {
            f.kind = field_type(first);
        }
        f.values.extend(values.iter().cloned());
        Some(())
    };
    for s in streams {
        for e in &s.entries {
            let mut md: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for l in e.structured_metadata.iter() {
                md.entry(l.name.clone())
                    .or_default()
                    .insert(l.value.clone());
            }
            for (name, values) in &md {
                note(name, values, &mut found);
            }
            let (parsed, paths, parser) = parse_entry(s, e);
            for (name, values) in &parsed {
                if note(name, values, &mut found).is_none() {
                    continue;
                }
                let Some(f) = found.get_mut(name) else {
                    continue;
                };
                if let Some(p) = parser {
                    if !f.parsers.contains(&p) {
                        f.parsers.push(p);
                    }
                    if p == "json" {
                        f.json_path = paths.get(name).cloned();
                    }
                }
            }
        }
    }
    found
        .into_iter()
        .map(|(label, f)| DetectedField {
            label,
            kind: if f.kind.is_empty() { "string" } else { f.kind },
            cardinality: f.values.len() as u64,
            parsers: Some(f.parsers).filter(|p| !p.is_empty()),
            json_path: f.json_path,
        })
        .collect()
}

/// go-humanize's `Bytes` without its space: `1500` is `1.5kB`.
fn humanize_bytes(n: u64) -> String {
    const SIZES: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 10 {
        return format!("{n}B");
    }
    let e = ((n as f64).ln() / 1000f64.ln()).floor();
    let e = (e as usize).min(SIZES.len() - 1);
    let val = ((n as f64) / 1000f64.powi(e as i32) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 {
        format!("{val:.1}{}", SIZES[e])
    } else {
        format!("{val:.0}{}", SIZES[e])
    }
}

/// A byte size with one of the units Loki lets through as-is.
fn has_bytes_unit(v: &str) -> bool {
    const UNITS: [&str; 25] = [
        "b", "kib", "kb", "mib", "mb", "gib", "gb", "tib", "tb", "pib", "pb", "eib", "eb", "ki",
        "k", "mi", "m", "gi", "g", "ti", "t", "pi", "p", "ei", "e",
    ];
    let v = v.to_lowercase();
    UNITS.iter().any(|u| v.ends_with(u))
}

/// The distinct values of field `name` in a query's answer, sorted, at
/// most about `limit` (Loki stops looking once it has `limit`). Parsed
/// byte sizes come back in go-humanize's form, so they can go into a
/// query as they are.
pub fn detected_field_values(streams: &[OutStream], name: &str, limit: usize) -> Vec<String> {
    let mut values = BTreeSet::new();
    for s in streams {
        for e in &s.entries {
            if values.len() >= limit {
                break;
            }
            for l in e.structured_metadata.iter().filter(|l| l.name == name) {
                values.insert(l.value.clone());
            }
            let (parsed, _, _) = parse_entry(s, e);
            for v in parsed.get(name).into_iter().flatten() {
                match parse_bytes(v) {
                    Ok(b) if has_bytes_unit(v) => values.insert(humanize_bytes(b)),
                    _ => values.insert(v.clone()),
                };
            }
        }
    }
    values.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use sightline_core::Labels;

    use super::*;
    use crate::query::OutEntry;

    fn stream(
        labels: &[(&str, &str)],
        lines: &[(&str, &[(&str, &str)], &[(&str, &str)])],
    ) -> OutStream {
        let l = Labels::from_pairs(labels.iter().copied()).expect("labels");
        OutStream {
            labels: l.clone(),
            stream: l,
            entries: lines
                .iter()
                .enumerate()
                .map(|(i, (line, md, parsed))| OutEntry {
                    ts_ns: i as i64,
                    line: (*line).to_string(),
                    structured_metadata: Labels::from_pairs(md.iter().copied()).expect("md"),
                    parsed: Labels::from_pairs(parsed.iter().copied()).expect("parsed"),
                })
                .collect(),
        }
    }

    #[test]
    fn types_are_tried_in_lokis_order() {
        for (v, t) in [
            ("42", "int"),
            ("-7", "int"),
            ("4.2", "float"),
            ("1e3", "float"),
            ("true", "boolean"),
            ("F", "boolean"),
            ("1m30s", "duration"),
            ("12ms", "duration"),
            ("10MB", "bytes"),
            ("1.5 KiB", "bytes"),
            ("hello", "string"),
            ("", "string"),
        ] {
            assert_eq!(field_type(v), t, "{v:?}");
        }
    }

    #[test]
    fn fields_come_from_metadata_json_logfmt_and_the_querys_parsers() {
        let streams = vec![stream(
            &[("app", "api"), ("level", "info")],
            &[
                (
                    r#"{"status":200,"user":{"id":"u1"},"level":"warn","dur":"12ms"}"#,
                    &[("trace_id", "t1")],
                    &[],
                ),
                (
                    r#"{"status":500,"user":{"id":"u2"}}"#,
                    &[("trace_id", "t2")],
                    &[],
                ),
                ("status=404 size=10KB msg=hi", &[], &[("from_query", "x")]),
                ("plain words only", &[], &[]),
            ],
        )];
        let f = detected_fields(&streams, 1000);
        let by: BTreeMap<&str, &DetectedField> = f.iter().map(|d| (d.label.as_str(), d)).collect();
        let names: Vec<&str> = by.keys().copied().collect();
        assert_eq!(
            names,
            [
                "dur",
                "from_query",
                "level_extracted",
                "msg",
                "size",
                "status",
                "trace_id",
                "user_id"
            ]
        );
        assert_eq!(by["trace_id"].parsers, None);
        assert_eq!(by["trace_id"].cardinality, 2);
        assert_eq!(by["trace_id"].kind, "string");
        assert_eq!(by["status"].parsers, Some(vec!["json", "logfmt"]));
        assert_eq!(by["status"].cardinality, 3);
        assert_eq!(by["status"].kind, "int");
        assert_eq!(
            by["user_id"].json_path,
            Some(vec!["user".into(), "id".into()])
        );
        assert_eq!(by["level_extracted"].json_path, Some(vec!["level".into()]));
        assert_eq!(by["dur"].kind, "duration");
        assert_eq!(by["size"].kind, "bytes");
        assert_eq!(by["size"].parsers, Some(vec!["logfmt"]));
        assert_eq!(by["from_query"].parsers, Some(vec!["logfmt"]));
        // The limit keeps the first fields found.
        let few = detected_fields(&streams, 2);
        assert_eq!(few.len(), 2);
    }

    #[test]
    fn values_are_distinct_with_byte_sizes_in_humanize_form() {
        let streams = vec![stream(
            &[("app", "api")],
            &[
                ("size=1500b code=7", &[("k", "a")], &[]),
                ("size=1.5kB code=7", &[("k", "b")], &[]),
                ("size=2MiB code=8", &[], &[]),
                ("size=7 code=9", &[], &[]),
            ],
        )];
        assert_eq!(
            detected_field_values(&streams, "size", 100),
            ["1.5kB", "2.1MB", "7"]
        );
        assert_eq!(
            detected_field_values(&streams, "code", 100),
            ["7", "8", "9"]
        );
        assert_eq!(detected_field_values(&streams, "k", 100), ["a", "b"]);
        assert_eq!(humanize_bytes(3), "3B");
        assert_eq!(humanize_bytes(82_854_982), "83MB");
        assert_eq!(humanize_bytes(123_456_789), "124MB");
    }
}
