//! Tag names and values, v1 and v2, as Grafana's search builder and its
//! TraceQL editor ask for them: from the caller's spans of the window, on
//! a blocking thread.

use std::collections::BTreeSet;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value as Json, json};
use sightline_ingest::otlp::value_string;
use sightline_traceql::{Field, Intrinsic, Value, field_value};

use super::search::{
    blocking, count, default_window, json_response, kind_keyword, read_traces, status_keyword,
};
use super::view::{Decoded, Trace};
use super::{TempoError, answer, window};
use crate::params::Params;
use crate::{AppState, Scope};

/// Tag scopes as Tempo names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagScope {
    Resource,
    Span,
    Intrinsic,
    /// Event, link and instrumentation attributes, which no search here
    /// reads: their lists are empty.
    Unread(&'static str),
}

impl TagScope {
    fn name(self) -> &'static str {
        match self {
            TagScope::Resource => "resource",
            TagScope::Span => "span",
            TagScope::Intrinsic => "intrinsic",
            TagScope::Unread(n) => n,
        }
    }
}

/// The scopes `scope` asks for: one, or (absent) `all`.
fn tag_scopes(p: &Params, all: &[TagScope]) -> Result<Vec<TagScope>, TempoError> {
    Ok(match p.get("scope").unwrap_or("") {
        "" | "none" => all.to_vec(),
        "resource" => vec![TagScope::Resource],
        "span" => vec![TagScope::Span],
        "intrinsic" => vec![TagScope::Intrinsic],
        "event" => vec![TagScope::Unread("event")],
        "link" => vec![TagScope::Unread("link")],
        "instrumentation" => vec![TagScope::Unread("instrumentation")],
        other => {
            return Err(TempoError::bad(format!(
                "invalid scope: {other:?} (resource, span, intrinsic, event, link or instrumentation)"
            )));
        }
    })
}

/// The intrinsics TraceQL here reads, as the v2 tag list names them.
fn intrinsic_names() -> Vec<String> {
    let mut v: Vec<String> = Intrinsic::NAMES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    v.sort();
    v
}

/// The spans a `q` filter admits, each with its trace (every span when
/// there is no `q`, or when it does not parse, as Tempo's tag endpoints
/// treat it).
fn admitted<'a>(traces: &'a [Trace], q: Option<&str>) -> Vec<(&'a Trace, &'a Decoded)> {
    let query = q.and_then(|q| sightline_traceql::parse(q).ok());
    let mut out = Vec::new();
    for t in traces {
        match &query {
            None => out.extend(t.spans.iter().map(|d| (t, d))),
            Some(query) => {
                if let Some(hits) = sightline_traceql::spanset(&query.spansets, &t.spans, &t.facts)
                {
                    out.extend(hits.into_iter().map(|i| (t, &t.spans[i])));
                }
            }
        }
    }
    out
}

fn names_in(spans: &[(&Trace, &Decoded)], scope: TagScope, limit: usize) -> Vec<String> {
    let mut names = BTreeSet::new();
    for (_, d) in spans {
        match scope {
            TagScope::Resource => {
                names.extend(d.resource_attributes().iter().map(|kv| kv.key.clone()))
            }
            TagScope::Span => names.extend(d.span().attributes.iter().map(|kv| kv.key.clone())),
            TagScope::Intrinsic => return intrinsic_names().into_iter().take(limit).collect(),
            TagScope::Unread(_) => {}
        }
    }
    names.into_iter().take(limit).collect()
}

/// `GET /api/search/tags`: tag names, resource and span by default.
pub(crate) async fn tags(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    answer(
        async {
            let scopes = tag_scopes(&p, &[TagScope::Resource, TagScope::Span])?;
            let limit = count(&p, "limit", usize::MAX)?;
            let (start, end) = window(&p, default_window())?;
            let (traces, bytes) = read_traces(&s, &scope, start, end).await?;
            let names: Vec<String> = blocking(move || {
                let spans = admitted(&traces, None);
                let mut all = BTreeSet::new();
                for sc in scopes {
                    all.extend(names_in(&spans, sc, usize::MAX));
                }
                all.into_iter().take(limit).collect()
            })
            .await?;
            Ok(json_response(json!({
                "tagNames": names,
                "metrics": { "inspectedBytes": bytes.to_string() },
            })))
        }
        .await,
    )
}

/// `GET /api/v2/search/tags`: tag names by scope, every scope by default,
/// of the spans `q` admits.
pub(crate) async fn tags_v2(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    p: Params,
) -> Response {
    answer(
        async {
            let scopes = tag_scopes(
                &p,
                &[
                    TagScope::Resource,
                    TagScope::Span,
                    TagScope::Intrinsic,
                    TagScope::Unread("event"),
                    TagScope::Unread("link"),
                    TagScope::Unread("instrumentation"),
                ],
            )?;
            let limit = count(&p, "limit", usize::MAX)?;
            let (start, end) = window(&p, default_window())?;
            let (traces, bytes) = read_traces(&s, &scope, start, end).await?;
            let q = p.get("q").map(str::to_string);
            let out: Vec<Json> = blocking(move || {
                let spans = admitted(&traces, q.as_deref());
                scopes
                    .into_iter()
                    .map(|sc| json!({ "name": sc.name(), "tags": names_in(&spans, sc, limit) }))
                    .collect()
            })
            .await?;
            Ok(json_response(json!({
                "scopes": out,
                "metrics": { "inspectedBytes": bytes.to_string() },
            })))
        }
        .await,
    )
}

/// The tag of a `tag/<tag>/values` path (the route captures everything
/// after `tag/`, since a tag may hold a `/`).
fn tag_of_path(raw: &str) -> Result<String, TempoError> {
    match raw.strip_suffix("/values") {
        Some(t) if !t.is_empty() => Ok(tag_name(t)),
        _ => Err(TempoError::not_found()),
    }
}

/// A tag from the path: decoded once by the router; Grafana encodes it
/// twice, so escapes left in it are decoded once more.
fn tag_name(raw: &str) -> String {
    let twice = raw
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    if twice {
        percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map(|s| s.into_owned())
            .unwrap_or_else(|_| raw.to_string())
    } else {
        raw.to_string()
    }
}

/// The distinct values `value` gives for the spans of the window that `q`
/// admits, in order, at most `limit`.
async fn values_of<T, F>(
    s: &AppState,
    scope: &Scope,
    p: &Params,
    q: Option<String>,
    limit: usize,
    value: F,
) -> Result<Vec<T>, TempoError>
where
    T: Ord + Send + 'static,
    F: Fn(&Trace, &Decoded) -> Vec<T> + Send + 'static,
{
    let (start, end) = window(p, default_window())?;
    let (traces, _) = read_traces(s, scope, start, end).await?;
    blocking(move || {
        let mut seen = BTreeSet::new();
        for (t, d) in admitted(&traces, q.as_deref()) {
            seen.extend(value(t, d));
        }
        seen.into_iter().take(limit).collect()
    })
    .await
}

/// `GET /api/search/tag/<tag>/values`: the values of a resource or span
/// attribute, as text; the legacy search's own keys (`name`, `root.name`,
/// `root.service.name`) read the intrinsics its tag conditions read.
pub(crate) async fn tag_values(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path(tag): Path<String>,
    p: Params,
) -> Response {
    answer(
        async {
            let tag = tag_of_path(&tag)?;
            let limit = count(&p, "limit", usize::MAX)?;
            let intrinsic = match tag.as_str() {
                "name" => Some(Intrinsic::Name),
                "root.name" => Some(Intrinsic::RootName),
                "root.service.name" => Some(Intrinsic::RootServiceName),
                _ => None,
            };
            let values: Vec<String> = if tag == "status.code" {
                vec!["error".into(), "ok".into(), "unset".into()]
            } else {
                values_of(&s, &scope, &p, None, limit, move |t, d| match intrinsic {
                    Some(i) => match field_value(&Field::Intrinsic(i), d, &t.facts) {
                        Some(Value::Str(v)) if !v.is_empty() => vec![v],
                        _ => Vec::new(),
                    },
                    None => d
                        .span()
                        .attributes
                        .iter()
                        .chain(d.resource_attributes())
                        .filter(|kv| kv.key == tag)
                        .map(|kv| value_string(kv.value.as_ref()))
                        .filter(|v| !v.is_empty())
                        .collect(),
                })
                .await?
            };
            Ok(json_response(json!({ "tagValues": values, "metrics": {} })))
        }
        .await,
    )
}

fn typed(v: &Value) -> (&'static str, String) {
    match v {
        Value::Str(s) => ("string", s.clone()),
        Value::Int(i) => ("int", i.to_string()),
        Value::Float(f) => ("float", f.to_string()),
        Value::Bool(b) => ("bool", b.to_string()),
        Value::Duration(ns) => ("duration", format!("{ns}ns")),
        Value::Status(c) => ("keyword", status_keyword(*c).into()),
        Value::Kind(k) => ("keyword", kind_keyword(*k).into()),
    }
}

/// `GET /api/v2/search/tag/<tag>/values`: the typed values of a TraceQL
/// field (`resource.service.name`, `.http.method`, `name`, `status`, …)
/// among the spans `q` admits.
pub(crate) async fn tag_values_v2(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    Path(tag): Path<String>,
    p: Params,
) -> Response {
    answer(
        async {
            let tag = tag_of_path(&tag)?;
            let field = sightline_traceql::parse_field(&tag)
                .map_err(|e| TempoError::bad(format!("please provide a valid tagName: {e}")))?;
            let limit = count(&p, "limit", usize::MAX)?;
            let keywords = |names: &[&str]| -> Vec<Json> {
                names
                    .iter()
                    .map(|n| json!({ "type": "keyword", "value": n }))
                    .collect()
            };
            let values: Vec<Json> = match field {
                Field::Intrinsic(Intrinsic::Status) => keywords(&["error", "ok", "unset"]),
                Field::Intrinsic(Intrinsic::Kind) => keywords(&[
                    "client",
                    "consumer",
                    "internal",
                    "producer",
                    "server",
                    "unspecified",
                ]),
                Field::Intrinsic(
                    Intrinsic::Duration
                    | Intrinsic::TraceDuration
                    | Intrinsic::SpanId
                    | Intrinsic::ParentId
                    | Intrinsic::TraceId,
                ) => Vec::new(),
                f => values_of(
                    &s,
                    &scope,
                    &p,
                    p.get("q").map(str::to_string),
                    limit,
                    move |t, d| {
                        field_value(&f, d, &t.facts)
                            .map(|v| typed(&v))
                            .filter(|(_, text)| !text.is_empty())
                            .into_iter()
                            .collect()
                    },
                )
                .await?
                .into_iter()
                .map(|(ty, v)| json!({ "type": ty, "value": v }))
                .collect(),
            };
            Ok(json_response(json!({ "tagValues": values, "metrics": {} })))
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_decoded_a_second_time_when_encoded_twice() {
        assert_eq!(tag_name("event%3Aname"), "event:name");
        assert_eq!(tag_name("resource.service.name"), "resource.service.name");
        assert_eq!(tag_name("100%"), "100%");
    }
}
