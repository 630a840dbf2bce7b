//! `index/volume` and `index/volume_range`.

use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use sightline_core::{Labels, Matcher};
use sightline_engine::LogqlAnswer;

use super::encode::answer;
use super::params::{
    DEFAULT_LIMIT, LokiError, NS_PER_MS, now_ns, parse_bounds, parse_step_param, query_text,
    selector,
};
use crate::params::Params;
use crate::{AppState, Scope};

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
        parse_step_param(p, start, end)?
    } else {
        0
    };
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
