//! The Prometheus HTTP query API: queries, label and series look-ups and
//! metadata here; the other endpoints Grafana calls (exemplars,
//! `format_query`, rules, alerts, targets, flags) in [`meta`].

mod meta;
mod response;

pub use meta::{alerts, flags, format_query, query_exemplars, rules, targets};

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use sightline_core::gofmt::format_f;
use sightline_core::{Labels, Signal};
use sightline_eval::Value;

use crate::params::{MAX_TIME_MS, MIN_TIME_MS, Params};
use crate::{ApiError, AppState, Scope};
use response::{finish, ok, respond};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

struct Ts(i64);

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            s.serialize_i64(self.0 / 1000)
        } else {
            s.serialize_f64(self.0 as f64 / 1000.0)
        }
    }
}

/// A sample on the wire: `[time, "value"]`, the value written as
/// Prometheus writes it (Go's `'f'` form).
struct Point(i64, f64);

impl Serialize for Point {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(&Ts(self.0))?;
        seq.serialize_element(&format_f(self.1))?;
        seq.end()
    }
}

pub(crate) struct LabelMap<'a>(pub(crate) &'a Labels);

impl Serialize for LabelMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for l in self.0.iter() {
            m.serialize_entry(&l.name, &l.value)?;
        }
        m.end()
    }
}

/// A query's answer as Prometheus's `data` object: `resultType` and
/// `result`.
pub struct QueryData<'a>(pub &'a Value);

impl Serialize for QueryData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct VecItem<'a> {
            metric: LabelMap<'a>,
            value: Point,
        }
        #[derive(Serialize)]
        struct MatItem<'a> {
            metric: LabelMap<'a>,
            values: Vec<Point>,
        }
        let mut m = s.serialize_map(Some(2))?;
        match self.0 {
            Value::Scalar { t, v } => {
                m.serialize_entry("resultType", "scalar")?;
                m.serialize_entry("result", &Point(*t, *v))?;
            }
            Value::String { t, v } => {
                m.serialize_entry("resultType", "string")?;
                m.serialize_entry("result", &(Ts(*t), v))?;
            }
            Value::Vector(items) => {
                m.serialize_entry("resultType", "vector")?;
                let items: Vec<VecItem> = items
                    .iter()
                    .map(|x| VecItem {
                        metric: LabelMap(&x.labels),
                        value: Point(x.t, x.v),
                    })
                    .collect();
                m.serialize_entry("result", &items)?;
            }
            Value::Matrix(series) => {
                m.serialize_entry("resultType", "matrix")?;
                let items: Vec<MatItem> = series
                    .iter()
                    .map(|x| MatItem {
                        metric: LabelMap(&x.labels),
                        values: x.samples.iter().map(|p| Point(p.t, p.v)).collect(),
                    })
                    .collect();
                m.serialize_entry("result", &items)?;
            }
        }
        m.end()
    }
}

fn required<'a>(p: &'a Params, key: &str) -> Result<&'a str, ApiError> {
    p.get(key).filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::BadData(format!("invalid parameter {key:?}: parameter is missing"))
    })
}

pub async fn query(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let tenant = &scope.read()?;
        let q = required(&p, "query")?;
        let t = p.time("time")?.unwrap_or_else(now_ms);
        let lookback = p.duration("lookback_delta")?;
        let a = s.engine.instant_query(tenant, q, t, lookback).await?;
        Ok(respond(QueryData(&a.value), &a.warnings, &a.infos))
    }
    .await;
    finish(&scope, "query", r)
}

pub async fn query_range(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let tenant = &scope.read()?;
        let q = required(&p, "query")?;
        let start = p
            .time("start")?
            .ok_or_else(|| ApiError::BadData("invalid parameter \"start\": parameter is missing".into()))?;
        let end = p
            .time("end")?
            .ok_or_else(|| ApiError::BadData("invalid parameter \"end\": parameter is missing".into()))?;
        if end < start {
            return Err(ApiError::BadData(
                "invalid parameter \"end\": end timestamp must not be before start time".into(),
            ));
        }
        let step = p
            .duration("step")?
            .ok_or_else(|| ApiError::BadData("invalid parameter \"step\": parameter is missing".into()))?;
        if step <= 0 {
            return Err(ApiError::BadData(
                "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        let lookback = p.duration("lookback_delta")?;
        let a = s.engine.range_query(tenant, q, start, end, step, lookback).await?;
        Ok(respond(QueryData(&a.value), &a.warnings, &a.infos))
    }
    .await;
    finish(&scope, "query_range", r)
}

fn bounds(p: &Params) -> Result<(i64, i64), ApiError> {
    let start = p.time("start")?.unwrap_or(MIN_TIME_MS);
    let end = p.time("end")?.unwrap_or(MAX_TIME_MS);
    if end < start {
        return Err(ApiError::BadData(
            "invalid parameter \"end\": end timestamp must not be before start time".into(),
        ));
    }
    Ok((start, end))
}

fn limit(p: &Params) -> Result<Option<usize>, ApiError> {
    match p.get("limit") {
        None | Some("") => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Some(n as usize)),
            Ok(_) => Ok(None),
            Err(_) => Err(ApiError::BadData(format!(
                "invalid parameter \"limit\": cannot parse {v:?}"
            ))),
        },
    }
}

pub async fn labels(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let tenant = &scope.read()?;
        let (start, end) = bounds(&p)?;
        let mut names = s
            .engine
            .label_names(tenant, Signal::Metrics, &p.matchers()?, start, end)
            .await?;
        if let Some(n) = limit(&p)? {
            names.truncate(n);
        }
        Ok(ok(names))
    }
    .await;
    finish(&scope, "labels", r)
}

pub async fn label_values(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path(name): Path<String>,
    p: Params,
) -> Response {
    let r = async {
        let tenant = &scope.read()?;
        let (start, end) = bounds(&p)?;
        let mut values = s
            .engine
            .label_values(tenant, Signal::Metrics, &name, &p.matchers()?, start, end)
            .await?;
        if let Some(n) = limit(&p)? {
            values.truncate(n);
        }
        Ok(ok(values))
    }
    .await;
    finish(&scope, "label_values", r)
}

pub async fn series(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    let r = async {
        let tenant = &scope.read()?;
        let sets = p.matchers()?;
        if sets.is_empty() {
            return Err(ApiError::BadData("no match[] parameter provided".into()));
        }
        let (start, end) = bounds(&p)?;
        let mut list = s
            .engine
            .series(tenant, Signal::Metrics, &sets, start, end)
            .await?;
        if let Some(n) = limit(&p)? {
            list.truncate(n);
        }
        let maps: Vec<LabelMap> = list.iter().map(LabelMap).collect();
        Ok(ok(maps))
    }
    .await;
    finish(&scope, "series", r)
}

pub async fn metadata(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    #[derive(Serialize)]
    struct Entry<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        help: &'a str,
        unit: &'a str,
    }
    let r = async {
        let tenant = &scope.read()?;
        let md = s.engine.metadata(tenant.tenant_id());
        // Metadata is kept per workspace; a token scoped below it sees the
        // metrics its own series carry, nothing else.
        let visible: Option<std::collections::BTreeSet<String>> = if tenant.required().is_empty() {
            None
        } else {
            Some(
                s.engine
                    .label_values(
                        tenant,
                        Signal::Metrics,
                        "__name__",
                        &[],
                        MIN_TIME_MS,
                        MAX_TIME_MS,
                    )
                    .await?
                    .into_iter()
                    .collect(),
            )
        };
        let lim = limit(&p)?;
        let wanted = p.get("metric").filter(|m| !m.is_empty());
        let mut out: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
        for (name, m) in md.iter() {
            if wanted.is_some_and(|w| w != name)
                || visible.as_ref().is_some_and(|v| !v.contains(name.as_str()))
            {
                continue;
            }
            if lim.is_some_and(|l| out.len() >= l) {
                break;
            }
            out.entry(name).or_default().push(Entry {
                kind: &m.kind,
                help: &m.help,
                unit: &m.unit,
            });
        }
        Ok(ok(out))
    }
    .await;
    finish(&scope, "metadata", r)
}

pub async fn buildinfo(Extension(scope): Extension<Scope>) -> Response {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct BuildInfo {
        version: &'static str,
        revision: &'static str,
        branch: &'static str,
        build_user: &'static str,
        build_date: &'static str,
        go_version: &'static str,
    }
    finish(
        &scope,
        "buildinfo",
        Ok(ok(BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            revision: "",
            branch: "",
            build_user: "sightline",
            build_date: "",
            go_version: "",
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_format_like_prometheus() {
        for (v, json) in [
            (1.0, r#"[1,"1"]"#),
            (0.1, r#"[1,"0.1"]"#),
            (1e21, r#"[1,"1000000000000000000000"]"#),
            (f64::INFINITY, r#"[1,"+Inf"]"#),
            (f64::NEG_INFINITY, r#"[1,"-Inf"]"#),
            (f64::NAN, r#"[1,"NaN"]"#),
        ] {
            assert_eq!(
                serde_json::to_string(&Point(1000, v)).ok().as_deref(),
                Some(json)
            );
        }
        assert_eq!(
            serde_json::to_string(&Ts(1_700_000_000_000))
                .ok()
                .as_deref(),
            Some("1700000000")
        );
        assert_eq!(
            serde_json::to_string(&Ts(1_700_000_000_500))
                .ok()
                .as_deref(),
            Some("1700000000.5")
        );
    }
}
