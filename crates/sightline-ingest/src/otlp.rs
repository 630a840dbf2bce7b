//! OTLP, the OpenTelemetry protocol: requests of SDKs and Collectors
//! decoded into the batches every door hands the gateway (see
//! `docs/otlp-semantics.md` for the rules and their sources).
//!
//! - `metrics.rs`: metric points into Prometheus samples, as Prometheus's
//!   own OTLP receiver translates them (names, units, `job`/`instance`,
//!   `target_info`, classic histograms, summaries, staleness);
//! - `logs.rs`: log records into Loki streams, as Loki's OTLP endpoint maps
//!   them (index labels from a list of resource attributes, the rest as
//!   structured metadata);
//! - `json.rs`: the OTLP JSON encoding, decoded leniently into the same
//!   generated types the protobuf and gRPC paths use.
//!
//! Records a request refuses one by one (delta temporality, exponential
//! histograms, names that sanitise to nothing, ...) are counted with a
//! message in [`Refused`]: the door answers them as OTLP's partial
//! success, and writes the rest.

pub mod json;
pub mod logs;
pub mod metrics;
pub mod traces;
pub mod validate;

pub use opentelemetry_proto::tonic as proto;

use proto::common::v1::any_value::Value as AnyKind;
use proto::common::v1::{AnyValue, KeyValue};

/// Records of one request that were not written, with why.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Refused {
    pub count: u64,
    /// The first few distinct reasons.
    pub messages: Vec<String>,
}

/// Most distinct reasons kept in a [`Refused`].
const MAX_MESSAGES: usize = 5;

impl Refused {
    pub fn add(&mut self, n: u64, why: impl Into<String>) {
        if n == 0 {
            return;
        }
        self.count += n;
        self.note(&why.into());
    }

    /// Keeps a reason for records already counted.
    pub fn note(&mut self, why: &str) {
        if self.messages.len() < MAX_MESSAGES && !self.messages.iter().any(|m| m == why) {
            self.messages.push(why.to_string());
        }
    }

    /// The message of an OTLP partial success.
    pub fn message(&self) -> String {
        self.messages.join("; ")
    }
}

/// An attribute value as text, as the Collector's pdata `AsString` writes
/// it (what Prometheus and Loki store): strings as they are, numbers and
/// booleans as written in JSON, bytes in base64, arrays and maps as JSON.
pub fn value_string(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        // An index into a profile's string table: no text outside profiles.
        None | Some(AnyKind::StringValueStrindex(_)) => String::new(),
        Some(AnyKind::StringValue(s)) => s.clone(),
        Some(AnyKind::BoolValue(b)) => b.to_string(),
        Some(AnyKind::IntValue(i)) => i.to_string(),
        Some(AnyKind::DoubleValue(f)) => float_string(*f),
        Some(AnyKind::BytesValue(b)) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(b)
        }
        Some(other @ (AnyKind::ArrayValue(_) | AnyKind::KvlistValue(_))) => {
            value_json(Some(other)).to_string()
        }
    }
}

/// A double as pdata writes one: the shortest decimal that reads back,
/// with an exponent below 1e-6 and from 1e21 (as JavaScript does).
pub fn float_string(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust writes `1e21` and `1.5e-7`; JavaScript `1e+21` and `1.5e-7`.
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        sightline_core::gofmt::format_f(f)
    }
}

fn value_json(v: Option<&AnyKind>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        None | Some(AnyKind::StringValueStrindex(_)) => J::Null,
        Some(AnyKind::StringValue(s)) => J::String(s.clone()),
        Some(AnyKind::BoolValue(b)) => J::Bool(*b),
        Some(AnyKind::IntValue(i)) => J::from(*i),
        Some(AnyKind::DoubleValue(f)) => {
            serde_json::Number::from_f64(*f).map_or_else(|| J::String(float_string(*f)), J::Number)
        }
        Some(AnyKind::BytesValue(b)) => {
            use base64::Engine;
            J::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Some(AnyKind::ArrayValue(a)) => J::Array(
            a.values
                .iter()
                .map(|v| value_json(v.value.as_ref()))
                .collect(),
        ),
        Some(AnyKind::KvlistValue(kv)) => {
            // serde_json's map is ordered by key: pdata sorts keys too.
            let m: serde_json::Map<String, J> = kv
                .values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        value_json(kv.value.as_ref().and_then(|v| v.value.as_ref())),
                    )
                })
                .collect();
            J::Object(m)
        }
    }
}

/// The value of attribute `key`, if present.
pub fn attribute<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

/// A Prometheus label name for an attribute key, as Prometheus's
/// `LabelNamer` makes one (UTF-8 names off): every character outside
/// `[A-Za-z0-9]` becomes `_`, runs of `_` collapse to one, a leading digit
/// gets `key_` before it, and a reserved `__x__` keeps its underscores
/// around its sanitised inside. `None` for a key that sanitises to nothing
/// but underscores.
pub fn label_name(key: &str) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    if key.len() >= 4 && key.starts_with("__") && key.ends_with("__") {
        let inner = collapse(&key[2..key.len() - 2]);
        return Some(format!("__{inner}__"));
    }
    let name = collapse(key);
    if name.bytes().all(|b| b == b'_') {
        return None;
    }
    if name.as_bytes()[0].is_ascii_digit() {
        return Some(format!("key_{name}"));
    }
    Some(name)
}

/// Characters outside `[A-Za-z0-9]` as `_`, runs of `_` as one.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    out
}

/// Nanoseconds since the epoch as the signed nanoseconds the stores use;
/// `None` past the year 2262.
pub fn unix_nanos(ns: u64) -> Option<i64> {
    i64::try_from(ns).ok()
}

/// A lowercase hex id (trace and span ids); empty for an all-zero or
/// empty id.
pub fn hex_id(id: &[u8]) -> String {
    if id.iter().all(|&b| b == 0) {
        return String::new();
    }
    sightline_core::span::hex(id)
}

#[cfg(test)]
mod tests {
    use super::proto::common::v1::{ArrayValue, KeyValueList};
    use super::*;

    fn v(k: AnyKind) -> AnyValue {
        AnyValue { value: Some(k) }
    }

    #[test]
    fn values_are_written_as_pdata_writes_them() {
        assert_eq!(value_string(None), "");
        assert_eq!(
            value_string(Some(&v(AnyKind::StringValue("a b".into())))),
            "a b"
        );
        assert_eq!(value_string(Some(&v(AnyKind::BoolValue(true)))), "true");
        assert_eq!(value_string(Some(&v(AnyKind::IntValue(-42)))), "-42");
        assert_eq!(value_string(Some(&v(AnyKind::DoubleValue(1.5)))), "1.5");
        assert_eq!(value_string(Some(&v(AnyKind::DoubleValue(1e21)))), "1e+21");
        assert_eq!(
            value_string(Some(&v(AnyKind::DoubleValue(1.5e-7)))),
            "1.5e-7"
        );
        assert_eq!(value_string(Some(&v(AnyKind::DoubleValue(100.0)))), "100");
        assert_eq!(
            value_string(Some(&v(AnyKind::BytesValue(vec![1, 2, 3])))),
            "AQID"
        );
        let arr = v(AnyKind::ArrayValue(ArrayValue {
            values: vec![v(AnyKind::IntValue(1)), v(AnyKind::StringValue("x".into()))],
        }));
        assert_eq!(value_string(Some(&arr)), r#"[1,"x"]"#);
        let map = v(AnyKind::KvlistValue(KeyValueList {
            values: vec![
                KeyValue {
                    key: "z".into(),
                    value: Some(v(AnyKind::BoolValue(false))),
                    ..Default::default()
                },
                KeyValue {
                    key: "a".into(),
                    value: Some(arr),
                    ..Default::default()
                },
            ],
        }));
        assert_eq!(value_string(Some(&map)), r#"{"a":[1,"x"],"z":false}"#);
    }

    #[test]
    fn label_names_follow_prometheus() {
        for (k, want) in [
            ("service.name", Some("service_name")),
            (
                "http.response.status_code",
                Some("http_response_status_code"),
            ),
            ("a..b", Some("a_b")),
            ("a__b", Some("a_b")),
            ("_foo", Some("_foo")),
            ("foo_", Some("foo_")),
            ("2xx", Some("key_2xx")),
            ("__meta.x__", Some("__meta_x__")),
            ("ünïcode", Some("_n_code")),
            ("___", None),
            ("", None),
        ] {
            assert_eq!(label_name(k).as_deref(), want, "{k}");
        }
    }

    #[test]
    fn ids_are_lowercase_hex_and_zero_is_none() {
        assert_eq!(hex_id(&[0xAB, 0x01]), "ab01");
        assert_eq!(hex_id(&[0; 16]), "");
        assert_eq!(hex_id(&[]), "");
    }
}
