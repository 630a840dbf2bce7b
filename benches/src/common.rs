//! Helpers shared by the query benchmarks: timed Prometheus-API requests,
//! answer comparison and medians.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value as Json;

/// POSTs a Prometheus-API form and times it; fails on a non-2xx answer.
pub async fn post_form(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    path: &str,
    form: &[(&str, String)],
    name: &str,
) -> anyhow::Result<(Duration, bytes::Bytes)> {
    let started = Instant::now();
    let mut req = client.post(format!("{base}{path}")).form(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await?;
    let status = r.status();
    let body = r.bytes().await?;
    let took = started.elapsed();
    if !status.is_success() {
        bail!(
            "{base}: {name}: {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok((took, body))
}

/// Series of a result as (sorted labels, values), sorted by labels.
pub fn series_of(body: &[u8]) -> anyhow::Result<Vec<(String, Vec<f64>)>> {
    let v: Json = serde_json::from_slice(body)?;
    let data = &v["data"];
    let mut out = Vec::new();
    for s in data["result"].as_array().context("no result array")? {
        let mut labels: Vec<(String, String)> = s["metric"]
            .as_object()
            .context("no metric")?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        labels.sort();
        let points: Vec<&Json> = match (s.get("values"), s.get("value")) {
            (Some(vs), _) => vs.as_array().context("values")?.iter().collect(),
            (None, Some(v)) => vec![v],
            _ => bail!("no values"),
        };
        let values = points
            .iter()
            .map(|p| {
                p[1].as_str()
                    .unwrap_or("NaN")
                    .parse::<f64>()
                    .unwrap_or(f64::NAN)
            })
            .collect();
        out.push((format!("{labels:?}"), values));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

pub fn agree(a: &[u8], b: &[u8]) -> anyhow::Result<bool> {
    let (a, b) = (series_of(a)?, series_of(b)?);
    Ok(a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            x.0 == y.0
                && x.1.len() == y.1.len()
                && x.1.iter().zip(&y.1).all(|(p, q)| {
                    (p.is_nan() && q.is_nan())
                        || p == q
                        || (p - q).abs() <= 1e-9 * p.abs().max(q.abs())
                })
        }))
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}
