//! Asking Sightline a case and comparing its answer with the expected
//! JSON; running the whole table for one setup.

use super::*;

pub(super) fn ns(base: i64, off: i64) -> String {
    ((base + off) * 1_000_000).to_string()
}

pub(super) fn secs(base: i64, off: i64) -> Value {
    json!((base + off) as f64 / 1000.0)
}

/// Loki's label string, `{a="1", b="2"}`, by which streams are ordered.
pub(super) fn label_string(l: &Labels) -> String {
    let inner: Vec<String> = l
        .iter()
        .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).expect("string")))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Prometheus `labels.Compare`, by which vectors and matrices are ordered.
pub(super) fn compare_labels(a: &Labels, b: &Labels) -> std::cmp::Ordering {
    for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
        let o = ka.cmp(kb).then_with(|| va.cmp(vb));
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

pub(super) fn expected_json(want: &Want, base: i64) -> (&'static str, Value) {
    match want {
        Want::Streams(streams) => {
            let mut s = streams.clone();
            s.sort_by_key(|(l, _)| label_string(l));
            let result = s
                .iter()
                .map(|(l, values)| {
                    json!({"stream": l, "values": values
                        .iter()
                        .map(|(t, line)| json!([ns(base, *t), line]))
                        .collect::<Vec<_>>()})
                })
                .collect();
            ("streams", Value::Array(result))
        }
        Want::Vector { rows, ordered } => {
            let mut r = rows.clone();
            if !ordered {
                r.sort_by(|a, b| compare_labels(&a.0, &b.0));
            }
            let result = r
                .iter()
                .map(|(l, v)| json!({"metric": l, "value": [Value::Null, v]}))
                .collect();
            ("vector", Value::Array(result))
        }
        Want::Matrix(series) => {
            let mut s = series.clone();
            s.sort_by(|a, b| compare_labels(&a.0, &b.0));
            let result = s
                .iter()
                .map(|(l, points)| {
                    json!({"metric": l, "values": points
                        .iter()
                        .map(|(t, v)| json!([secs(base, *t), v]))
                        .collect::<Vec<_>>()})
                })
                .collect();
            ("matrix", Value::Array(result))
        }
        Want::Refused(..) => ("", Value::Null),
    }
}

/// The answer's result with sample times as plain floats (so `1700000040`
/// and `1700000040.0` compare equal); the vector time is checked apart.
pub(super) fn normalized(result: &Value, kind: &str, at: &Value) -> Result<Value, String> {
    let mut r = result.clone();
    let Some(items) = r.as_array_mut() else {
        return Err(format!("result is not an array: {result}"));
    };
    for item in items {
        match kind {
            "vector" => {
                let t = item["value"][0].as_f64().map(|t| json!(t));
                if t.as_ref() != Some(at) {
                    return Err(format!("sample time {} is not {at}", item["value"][0]));
                }
                item["value"][0] = Value::Null;
            }
            "matrix" => {
                if let Some(points) = item["values"].as_array_mut() {
                    for p in points {
                        p[0] = p[0].as_f64().map(|t| json!(t)).unwrap_or(Value::Null);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(r)
}

pub(super) fn params(case: &Case, base: i64) -> (Vec<(String, String)>, &'static str) {
    let mut p = vec![("query".to_string(), case.query.clone())];
    let mut add = |k: &str, v: String| p.push((k.to_string(), v));
    let path = match case.ask {
        Ask::Log {
            start,
            end,
            limit,
            forward,
        } => {
            add("start", ns(base, start));
            add("end", ns(base, end));
            if let Some(l) = limit {
                add("limit", l.to_string());
            }
            add(
                "direction",
                if forward { "forward" } else { "backward" }.into(),
            );
            "/loki/api/v1/query_range"
        }
        Ask::Instant { time } => {
            add("time", ns(base, time));
            "/loki/api/v1/query"
        }
        Ask::Range { start, end, step } => {
            add("start", ns(base, start));
            add("end", ns(base, end));
            add("step", step.into());
            "/loki/api/v1/query_range"
        }
    };
    (p, path)
}

/// The empty answer of a query's shape, as a workspace without the data
/// gets it.
pub(super) fn empty_for(ask: Ask) -> Want {
    match ask {
        Ask::Log { .. } => Want::Streams(vec![]),
        Ask::Instant { .. } => vector(vec![]),
        Ask::Range { .. } => Want::Matrix(vec![]),
    }
}

/// Asks one case with one token; `Err` describes a wrong answer.
pub(super) async fn check(
    url: &str,
    token: &str,
    case: &Case,
    want: &Want,
    base: i64,
    any_order: bool,
) -> Result<(), String> {
    let (p, path) = params(case, base);
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, v) = get(url, token, &p, path).await;
    if let Want::Refused(want_status, texts) = want {
        let body = v.as_str().unwrap_or_default();
        if status != *want_status || !texts.iter().all(|t| body.contains(t.as_str())) {
            return Err(format!(
                "want HTTP {want_status} containing {texts:?}\n  got HTTP {status}: {v}"
            ));
        }
        return Ok(());
    }
    let (kind, want_result) = expected_json(want, base);
    if status != 200 || v["status"] != "success" {
        return Err(format!(
            "want {kind} {want_result}\n  got HTTP {status}: {v}"
        ));
    }
    let at = match case.ask {
        Ask::Instant { time } => secs(base, time),
        _ => Value::Null,
    };
    let got_kind = v["data"]["resultType"].as_str().unwrap_or_default();
    let got = normalized(&v["data"]["result"], got_kind, &at);
    let sorted = |v: &Value| {
        let mut items: Vec<String> = v
            .as_array()
            .map(|a| a.iter().map(Value::to_string).collect())
            .unwrap_or_default();
        items.sort();
        items
    };
    match got {
        Ok(got) if got_kind == kind && got == want_result => Ok(()),
        Ok(got) if any_order && got_kind == kind && sorted(&got) == sorted(&want_result) => {
            Err(format!("(same rows, other order) got {got}"))
        }
        Ok(got) => Err(format!(
            "want {kind} {want_result}\n  got  {got_kind} {got}"
        )),
        Err(e) => Err(format!("{e}: {v}")),
    }
}

/// Runs the whole table against one server; panics listing every wrong
/// wrong answer.
pub(super) async fn run_table(setup: &str, url: &str, a: &Tenant, b: &Tenant, base: i64) {
    let table = cases();
    let mut per_feature: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &table {
        *per_feature.entry(case.feature).or_default() += 1;
        let other = case.other.clone().unwrap_or_else(|| empty_for(case.ask));
        for (who, token, want) in [
            ("first", &a.report, &case.want),
            ("second", &b.report, &other),
        ] {
            let res = check(url, token, case, want, base, true).await;
            if let Err(e) = res {
                failures.push(format!(
                    "[{setup}] {} ({who} workspace): {}\n  {e}",
                    case.feature, case.query
                ));
            }
        }
    }
    eprintln!("[{setup}] {} cases: {per_feature:?}", table.len());
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
