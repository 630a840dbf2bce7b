//! Request parameters as Prometheus reads them: the URL query string and,
//! for form POSTs, the body, merged; repeated keys kept (`match[]`).

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use sightline_core::Matcher;
use sightline_core::time::DAY_MS;

use crate::ApiError;

/// Largest form body accepted on query endpoints.
const MAX_FORM_BYTES: usize = 4 << 20;

/// Time bounds used when a look-up gives none (Prometheus's min/max time).
pub(crate) const MIN_TIME_MS: i64 = -9_223_309_901_257_974;
pub(crate) const MAX_TIME_MS: i64 = 9_223_309_901_257_974;

/// All parameters of a request, in order.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, _: &S) -> Result<Self, Self::Rejection> {
        let mut out: Vec<(String, String)> = req
            .uri()
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if req.method() == Method::POST && is_form {
            let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
                .await
                .map_err(|e| ApiError::TooLarge(format!("form body: {e}")))?;
            out.extend(form_urlencoded::parse(&body).into_owned());
        }
        Ok(Params(out))
    }
}

impl Params {
    /// Every parameter, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A required time parameter.
    pub fn time(&self, key: &str) -> Result<Option<i64>, ApiError> {
        // An empty value means "not given", as in Prometheus.
        self.get(key)
            .filter(|v| !v.is_empty())
            .map(|v| parse_time(key, v))
            .transpose()
    }

    /// A duration parameter (float seconds or a PromQL duration).
    pub fn duration(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key).map(|v| parse_duration(key, v)).transpose()
    }

    /// The `match[]` selectors, parsed.
    pub fn matchers(&self) -> Result<Vec<Vec<Matcher>>, ApiError> {
        self.all("match[]")
            .map(|m| match sightline_promql::parse(m) {
                Ok(sightline_promql::ast::Expr::Vector(v)) => Ok(v.matchers),
                Ok(_) => Err(ApiError::BadData(format!(
                    "invalid parameter \"match[]\": {m:?} is not a vector selector"
                ))),
                Err(e) => Err(ApiError::BadData(format!(
                    "invalid parameter \"match[]\": {e}"
                ))),
            })
            .collect()
    }
}

/// Parses a time as Prometheus does: float Unix seconds or RFC 3339.
pub fn parse_time(key: &str, v: &str) -> Result<i64, ApiError> {
    if let Ok(f) = v.parse::<f64>()
        && f.is_finite()
    {
        let ms = (f * 1000.0).round();
        if ms.abs() < 9.2e18 {
            return Ok(ms as i64);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(t.timestamp_millis());
    }
    Err(ApiError::BadData(format!(
        "invalid parameter {key:?}: cannot parse {v:?} to a valid timestamp"
    )))
}

/// Parses a duration as Prometheus does: float seconds or `1m30s`.
pub fn parse_duration(key: &str, v: &str) -> Result<i64, ApiError> {
    if let Ok(f) = v.parse::<f64>() {
        let ms = (f * 1000.0).round();
        if f.is_finite() && ms.abs() < 9.2e18 {
            return Ok(ms as i64);
        }
        return Err(ApiError::BadData(format!(
            "invalid parameter {key:?}: cannot parse {v:?} to a valid duration. It overflows int64"
        )));
    }
    parse_promql_duration(v).ok_or_else(|| {
        ApiError::BadData(format!(
            "invalid parameter {key:?}: cannot parse {v:?} to a valid duration"
        ))
    })
}

fn parse_promql_duration(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let units: [(&str, i64); 7] = [
        ("ms", 1),
        ("s", 1000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", DAY_MS),
        ("w", 7 * DAY_MS),
        ("y", 365 * DAY_MS),
    ];
    let mut rest = s;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, mult) = units
            .iter()
            .find(|(u, _)| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")))?;
        total = total.checked_add(n.checked_mul(*mult)?)?;
        rest = &rest[unit.len()..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        assert_eq!(
            parse_time("t", "1700000000.5").ok(),
            Some(1_700_000_000_500)
        );
        assert_eq!(
            parse_time("t", "2023-11-14T22:13:20Z").ok(),
            Some(1_700_000_000_000)
        );
        assert!(parse_time("t", "yesterday").is_err());
        assert!(parse_time("t", "NaN").is_err());
        assert_eq!(parse_duration("s", "15").ok(), Some(15_000));
        assert_eq!(parse_duration("s", "0.5").ok(), Some(500));
        assert_eq!(parse_duration("s", "1m30s").ok(), Some(90_000));
        assert_eq!(parse_duration("s", "100ms").ok(), Some(100));
        assert!(parse_duration("s", "1x").is_err());
        assert!(parse_duration("s", "").is_err());
    }
}
