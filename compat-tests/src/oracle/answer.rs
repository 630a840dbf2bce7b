//! Prometheus-API answers, parsed into a comparable form, and the
//! comparison rule.
//!
//! Rule: the result types match; the series sets match exactly (label sets
//! including `__name__`); timestamps match to the millisecond; values match
//! when equal, both NaN, equal infinities, or within 1e-9 relative (with an
//! absolute floor of 1e-12, so that float noise around zero such as a
//! variance of equal values, 0 in one engine and 1e-17 in the other, is not
//! a difference). Vectors compare as sets, except when the query is
//! `sort(…)`/`sort_desc(…)` at the top level: then the sequence of values
//! must also match position by position (series with equal values may come
//! in either order). Two errors agree; their texts are not compared.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use sightline_core::gofmt::format_f;

pub type Labels = BTreeMap<String, String>;

#[derive(Clone, Debug)]
pub struct Point {
    pub t_ms: i64,
    pub v: f64,
}

#[derive(Clone, Debug)]
pub enum Answer {
    Error(String),
    Scalar(Point),
    Str(i64, String),
    Vector(Vec<(Labels, Point)>),
    Matrix(Vec<(Labels, Vec<Point>)>),
}

fn parse_value(v: &Value) -> Result<f64> {
    let s = v.as_str().context("sample value is not a string")?;
    Ok(match s {
        "NaN" => f64::NAN,
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => s
            .parse()
            .with_context(|| format!("bad sample value {s:?}"))?,
    })
}

fn parse_ts(v: &Value) -> Result<i64> {
    let f = v.as_f64().context("timestamp is not a number")?;
    Ok((f * 1000.0).round() as i64)
}

fn parse_point(v: &Value) -> Result<Point> {
    let a = v.as_array().context("sample is not an array")?;
    if a.len() != 2 {
        bail!("sample has {} elements", a.len());
    }
    Ok(Point {
        t_ms: parse_ts(&a[0])?,
        v: parse_value(&a[1])?,
    })
}

fn parse_labels(v: &Value) -> Result<Labels> {
    let o = v.as_object().context("metric is not an object")?;
    o.iter()
        .map(|(k, v)| {
            let s = v.as_str().context("label value is not a string")?;
            Ok((k.clone(), s.to_string()))
        })
        .collect()
}

/// Parses a `/api/v1/query(_range)` response body.
pub fn parse(status: u16, body: &str) -> Result<Answer> {
    let v: Value = serde_json::from_str(body).with_context(|| {
        format!(
            "HTTP {status}, body is not JSON: {}",
            abridge_text(body, 300)
        )
    })?;
    match v.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            let et = v.get("errorType").and_then(Value::as_str).unwrap_or("");
            let e = v.get("error").and_then(Value::as_str).unwrap_or("");
            return Ok(Answer::Error(format!("{et}: {e}")));
        }
        _ => bail!(
            "HTTP {status}, unexpected body: {}",
            abridge_text(body, 300)
        ),
    }
    let data = v.get("data").context("no data")?;
    let rt = data
        .get("resultType")
        .and_then(Value::as_str)
        .context("no resultType")?;
    let result = data.get("result").context("no result")?;
    Ok(match rt {
        "scalar" => Answer::Scalar(parse_point(result)?),
        "string" => {
            let a = result.as_array().context("string result is not an array")?;
            let t = parse_ts(a.first().context("empty string result")?)?;
            let s = a
                .get(1)
                .and_then(Value::as_str)
                .context("string result has no text")?;
            Answer::Str(t, s.to_string())
        }
        "vector" => Answer::Vector(
            result
                .as_array()
                .context("vector result is not an array")?
                .iter()
                .map(|e| {
                    Ok((
                        parse_labels(e.get("metric").context("no metric")?)?,
                        parse_point(e.get("value").context("no value")?)?,
                    ))
                })
                .collect::<Result<_>>()?,
        ),
        "matrix" => Answer::Matrix(
            result
                .as_array()
                .context("matrix result is not an array")?
                .iter()
                .map(|e| {
                    let pts = e
                        .get("values")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().map(parse_point).collect::<Result<Vec<_>>>())
                        .transpose()?
                        .unwrap_or_default();
                    Ok((parse_labels(e.get("metric").context("no metric")?)?, pts))
                })
                .collect::<Result<_>>()?,
        ),
        other => bail!("unknown resultType {other}"),
    })
}

pub fn values_equal(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff <= 1e-12 || diff <= 1e-9 * a.abs().max(b.abs())
}

fn points_equal(a: &Point, b: &Point) -> bool {
    a.t_ms == b.t_ms && values_equal(a.v, b.v)
}

pub fn fmt_labels(l: &Labels) -> String {
    let name = l.get("__name__").cloned().unwrap_or_default();
    let rest: Vec<String> = l
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

fn fmt_point(p: &Point) -> String {
    format!("{} @{}", format_f(p.v), fmt_ts(p.t_ms))
}

fn fmt_ts(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

fn abridge_text(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// A short human-readable rendering of an answer (at most `max` series).
pub fn abridge(a: &Answer, max: usize) -> String {
    match a {
        Answer::Error(e) => format!("error {}", abridge_text(e, 200)),
        Answer::Scalar(p) => format!("scalar {}", fmt_point(p)),
        Answer::Str(t, s) => format!("string {s:?} @{}", fmt_ts(*t)),
        Answer::Vector(v) => {
            let mut out = format!("vector of {}", v.len());
            for (l, p) in v.iter().take(max) {
                let _ = write!(out, "\n      {} {}", fmt_labels(l), fmt_point(p));
            }
            if v.len() > max {
                let _ = write!(out, "\n      …");
            }
            out
        }
        Answer::Matrix(m) => {
            let mut out = format!("matrix of {}", m.len());
            for (l, pts) in m.iter().take(max) {
                let shown: Vec<String> = pts.iter().take(4).map(fmt_point).collect();
                let more = if pts.len() > 4 {
                    format!(", … ({} points)", pts.len())
                } else {
                    String::new()
                };
                let _ = write!(
                    out,
                    "\n      {} [{}{more}]",
                    fmt_labels(l),
                    shown.join(", ")
                );
            }
            if m.len() > max {
                let _ = write!(out, "\n      …");
            }
            out
        }
    }
}

fn kind(a: &Answer) -> &'static str {
    match a {
        Answer::Error(_) => "error",
        Answer::Scalar(_) => "scalar",
        Answer::Str(..) => "string",
        Answer::Vector(_) => "vector",
        Answer::Matrix(_) => "matrix",
    }
}

/// Puts series into a map keyed by label set; a duplicate label set is a
/// difference on its own.
fn keyed<T: Clone>(
    items: &[(Labels, T)],
    who: &str,
    diffs: &mut Vec<String>,
) -> BTreeMap<Labels, T> {
    let mut m = BTreeMap::new();
    for (l, x) in items {
        if m.insert(l.clone(), x.clone()).is_some() {
            diffs.push(format!("{who} returns {} twice", fmt_labels(l)));
        }
    }
    m
}

/// Compares an expected (Prometheus) and an actual (Sightline) answer.
/// Returns the differences, empty when they agree.
pub fn compare(expected: &Answer, actual: &Answer, ordered: bool) -> Vec<String> {
    let mut diffs = Vec::new();
    match (expected, actual) {
        (Answer::Error(_), Answer::Error(_)) => {}
        (Answer::Scalar(a), Answer::Scalar(b)) => {
            if !points_equal(a, b) {
                diffs.push(format!("scalar {} != {}", fmt_point(a), fmt_point(b)));
            }
        }
        (Answer::Str(ta, a), Answer::Str(tb, b)) => {
            if ta != tb || a != b {
                diffs.push(format!("string {a:?}@{ta} != {b:?}@{tb}"));
            }
        }
        (Answer::Vector(a), Answer::Vector(b)) => {
            let ma = keyed(a, "prometheus", &mut diffs);
            let mb = keyed(b, "sightline", &mut diffs);
            for (l, p) in &ma {
                match mb.get(l) {
                    None => diffs.push(format!(
                        "missing in sightline: {} {}",
                        fmt_labels(l),
                        fmt_point(p)
                    )),
                    Some(q) if !points_equal(p, q) => {
                        diffs.push(format!(
                            "{}: {} != {}",
                            fmt_labels(l),
                            fmt_point(p),
                            fmt_point(q)
                        ));
                    }
                    Some(_) => {}
                }
            }
            for (l, q) in &mb {
                if !ma.contains_key(l) {
                    diffs.push(format!(
                        "extra in sightline: {} {}",
                        fmt_labels(l),
                        fmt_point(q)
                    ));
                }
            }
            if ordered && diffs.is_empty() {
                let pos = a
                    .iter()
                    .zip(b.iter())
                    .position(|((_, p), (_, q))| !values_equal(p.v, q.v));
                if let Some(i) = pos {
                    diffs.push(format!(
                        "order differs at position {i}: prometheus {} {}, sightline {} {}",
                        fmt_labels(&a[i].0),
                        format_f(a[i].1.v),
                        fmt_labels(&b[i].0),
                        format_f(b[i].1.v)
                    ));
                }
            }
        }
        (Answer::Matrix(a), Answer::Matrix(b)) => {
            let ma = keyed(a, "prometheus", &mut diffs);
            let mb = keyed(b, "sightline", &mut diffs);
            for (l, pa) in &ma {
                match mb.get(l) {
                    None => diffs.push(format!(
                        "missing in sightline: {} ({} points)",
                        fmt_labels(l),
                        pa.len()
                    )),
                    Some(pb) => {
                        if let Some(d) = first_point_diff(pa, pb) {
                            diffs.push(format!("{}: {d}", fmt_labels(l)));
                        }
                    }
                }
            }
            for (l, pb) in &mb {
                if !ma.contains_key(l) {
                    diffs.push(format!(
                        "extra in sightline: {} ({} points)",
                        fmt_labels(l),
                        pb.len()
                    ));
                }
            }
        }
        (a, b) => diffs.push(format!("result type {} != {}", kind(a), kind(b))),
    }
    diffs
}

fn first_point_diff(a: &[Point], b: &[Point]) -> Option<String> {
    let mut i = 0;
    let mut j = 0;
    let mut count = 0;
    let mut first = None;
    while i < a.len() || j < b.len() {
        let (pa, pb) = (a.get(i), b.get(j));
        let d = match (pa, pb) {
            (Some(p), Some(q)) if p.t_ms == q.t_ms => {
                i += 1;
                j += 1;
                (!values_equal(p.v, q.v)).then(|| format!("{} != {}", fmt_point(p), fmt_point(q)))
            }
            (Some(p), Some(q)) if p.t_ms < q.t_ms => {
                i += 1;
                Some(format!("{} missing in sightline", fmt_point(p)))
            }
            (Some(p), None) => {
                i += 1;
                Some(format!("{} missing in sightline", fmt_point(p)))
            }
            (_, Some(q)) => {
                j += 1;
                Some(format!("extra point {} in sightline", fmt_point(q)))
            }
            (None, None) => None,
        };
        if let Some(d) = d {
            count += 1;
            first.get_or_insert(d);
        }
    }
    first.map(|f| {
        if count > 1 {
            format!("{f} (+{} more points differ)", count - 1)
        } else {
            f
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vec_answer(items: &[(&str, f64)]) -> Answer {
        Answer::Vector(
            items
                .iter()
                .map(|(n, v)| {
                    let mut l = Labels::new();
                    l.insert("x".into(), (*n).into());
                    (l, Point { t_ms: 1000, v: *v })
                })
                .collect(),
        )
    }

    #[test]
    fn values() {
        assert!(values_equal(f64::NAN, f64::NAN));
        assert!(!values_equal(f64::NAN, 1.0));
        assert!(values_equal(f64::INFINITY, f64::INFINITY));
        assert!(!values_equal(f64::INFINITY, f64::NEG_INFINITY));
        assert!(values_equal(1.0, 1.0 + 1e-12));
        assert!(!values_equal(1.0, 1.0001));
        assert!(values_equal(0.0, 1e-17));
    }

    #[test]
    fn sets_and_order() {
        let a = vec_answer(&[("a", 1.0), ("b", 2.0)]);
        let b = vec_answer(&[("b", 2.0), ("a", 1.0)]);
        assert!(compare(&a, &b, false).is_empty());
        assert!(!compare(&a, &b, true).is_empty());
        let c = vec_answer(&[("a", 1.0)]);
        assert!(!compare(&a, &c, false).is_empty());
        let tie1 = vec_answer(&[("a", 1.0), ("b", 1.0)]);
        let tie2 = vec_answer(&[("b", 1.0), ("a", 1.0)]);
        assert!(compare(&tie1, &tie2, true).is_empty());
    }

    #[test]
    fn parses_prometheus_json() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up"},"value":[1700000000.337,"+Inf"]}]}}"#;
        match parse(200, body).expect("parses") {
            Answer::Vector(v) => {
                assert_eq!(v[0].1.t_ms, 1_700_000_000_337);
                assert!(v[0].1.v.is_infinite());
            }
            other => panic!("{other:?}"),
        }
        let err = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert!(matches!(parse(400, err).expect("parses"), Answer::Error(_)));
    }
}
