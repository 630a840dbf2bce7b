//! Template tests: Loki's fmt_test.go cases (rewritten, expectations
//! checked by hand against Go's documented behaviour), the language, every
//! function, error wording, and hostile input.

#![allow(clippy::unwrap_used)]

use super::{MAX_OUTPUT_BYTES, Template, TemplateData};

mod builtins;
mod errors;
mod functions;
mod hostile;
mod language;
mod loki;

/// 2022-06-27T12:00:00Z, one of Loki's test timestamps.
const TS: i64 = 1_656_331_200_000_000_000;
/// 2024-01-02T03:04:05.123456789Z as "now".
const NOW: i64 = 1_704_164_645_123_456_789;

pub(super) fn run_named(
    name: &str,
    tmpl: &str,
    labels: &[(&str, &str)],
    line: &str,
    ts: i64,
) -> Result<String, String> {
    let t = Template::parse_named(name, tmpl).map_err(|e| e.to_string())?;
    let owned: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let data = TemplateData {
        labels: &lookup,
        line,
        timestamp_ns: ts,
        now_ns: NOW,
    };
    t.execute(&data).map_err(|e| e.to_string())
}

pub(super) fn run(tmpl: &str, labels: &[(&str, &str)]) -> Result<String, String> {
    run_named("line", tmpl, labels, "test line", TS)
}

#[track_caller]
pub(super) fn check(tmpl: &str, labels: &[(&str, &str)], want: &str) {
    match run(tmpl, labels) {
        Ok(got) => assert_eq!(got, want, "template {tmpl:?}"),
        Err(e) => panic!("template {tmpl:?} failed: {e}"),
    }
}

#[track_caller]
pub(super) fn check0(tmpl: &str, want: &str) {
    check(tmpl, &[], want);
}

#[track_caller]
pub(super) fn check_err(tmpl: &str, labels: &[(&str, &str)], want: &str) {
    match run(tmpl, labels) {
        Ok(got) => panic!("template {tmpl:?} succeeded with {got:?}, wanted error {want:?}"),
        Err(e) => assert_eq!(e, want, "template {tmpl:?}"),
    }
}

#[track_caller]
pub(super) fn check_err0(tmpl: &str, want: &str) {
    check_err(tmpl, &[], want);
}

const FB: &[(&str, &str)] = &[("foo", "blip"), ("bar", "blop")];
