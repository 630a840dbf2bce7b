//! Spans, as every tier stores and returns them.
//!
//! A span keeps what searches and trace views read as plain fields (ids,
//! name, kind, times, status, the service, its attributes and its
//! resource's as text) and, beside them, the whole span as OTLP encodes it
//! (`otlp`: a protobuf `ResourceSpans` holding its resource, its scope and
//! the span alone), so that a trace read back is exactly what was sent:
//! typed attribute values, events, links, dropped counts and all.

use std::sync::Arc;

use crate::Labels;

/// One stored span.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSpan {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// `None` for a root span.
    pub parent_span_id: Option<[u8; 8]>,
    pub name: String,
    /// OTLP's `SpanKind` number (0 unspecified … 5 consumer).
    pub kind: i32,
    /// Nanoseconds since the Unix epoch.
    pub start_ns: i64,
    pub end_ns: i64,
    /// OTLP's status code number (0 unset, 1 ok, 2 error).
    pub status_code: i32,
    /// The resource's `service.name` (empty when it has none).
    pub service_name: String,
    /// The span's attributes as text, by their OTLP keys.
    pub attributes: Labels,
    /// The resource's attributes as text, by their OTLP keys (shared by
    /// the spans of one resource).
    pub resource: Arc<Labels>,
    /// The span with its resource and scope, as an OTLP `ResourceSpans`.
    pub otlp: Vec<u8>,
}

impl StoredSpan {
    pub fn duration_ns(&self) -> i64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    /// Bytes the span costs a quota: its encoded form.
    pub fn size(&self) -> usize {
        self.otlp.len()
    }

    /// The trace id in lowercase hex (32 digits).
    pub fn trace_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The span id in lowercase hex (16 digits).
    pub fn span_hex(&self) -> String {
        hex(&self.span_id)
    }
}

/// OTLP's `SpanKind` numbers by name, as ClickHouse's spans table and
/// trace searches spell them.
const KINDS: [&str; 6] = [
    "Unspecified",
    "Internal",
    "Server",
    "Client",
    "Producer",
    "Consumer",
];

/// OTLP's status code numbers by name.
const STATUSES: [&str; 3] = ["Unset", "Ok", "Error"];

/// The name of an OTLP span kind number (`Unspecified` for one OTLP does
/// not define).
pub fn kind_name(kind: i32) -> &'static str {
    usize::try_from(kind)
        .ok()
        .and_then(|i| KINDS.get(i))
        .copied()
        .unwrap_or(KINDS[0])
}

/// The OTLP span kind number of a name [`kind_name`] gives.
pub fn kind_from_name(name: &str) -> Option<i32> {
    KINDS
        .iter()
        .position(|k| *k == name)
        .and_then(|i| i32::try_from(i).ok())
}

/// The name of an OTLP status code number (`Unset` for one OTLP does not
/// define).
pub fn status_name(code: i32) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|i| STATUSES.get(i))
        .copied()
        .unwrap_or(STATUSES[0])
}

/// The OTLP status code number of a name [`status_name`] gives.
pub fn status_from_name(name: &str) -> Option<i32> {
    STATUSES
        .iter()
        .position(|k| *k == name)
        .and_then(|i| i32::try_from(i).ok())
}

/// A span's trace id, span id and parent id (empty for a root) from the
/// hex a stored tier keeps them in.
pub fn ids_from_hex(
    trace: &str,
    span: &str,
    parent: &str,
) -> Result<([u8; 16], [u8; 8], Option<[u8; 8]>), String> {
    let trace_id = from_hex(trace, 16)
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| format!("trace_id is not 32 hex digits: {trace:?}"))?;
    let id8 = |s: &str, what: &str| -> Result<[u8; 8], String> {
        from_hex(s, 8)
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| format!("{what} is not 16 hex digits: {s:?}"))
    };
    let span_id = id8(span, "span_id")?;
    let parent_span_id = match parent {
        "" => None,
        p => Some(id8(p, "parent_span_id")?),
    };
    Ok((trace_id, span_id, parent_span_id))
}

/// Lowercase hex of bytes.
pub fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

/// Bytes from hex of exactly `2 * len` digits, either case; `None`
/// otherwise.
pub fn from_hex(s: &str, len: usize) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() != len * 2 || !b.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    };
    Some(
        b.chunks(2)
            .map(|p| (digit(p[0]) << 4) | digit(p[1]))
            .collect(),
    )
}

/// A trace id from hex as Tempo reads one: either case, at most 32
/// digits, an odd count with a leading zero added, fewer than 32 padded
/// with zeros on the left.
pub fn parse_trace_id(s: &str) -> Result<[u8; 16], String> {
    if s.len() > 32 {
        return Err("trace IDs can't be larger than 128 bits".into());
    }
    if let Some(c) = s.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "trace IDs can only contain hex characters: invalid character '{c}'"
        ));
    }
    let padded = format!("{s:0>32}");
    from_hex(&padded, 16)
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| format!("trace id {s:?} is not hex"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip_by_name() {
        for k in 0..6 {
            assert_eq!(kind_from_name(kind_name(k)), Some(k));
        }
        for c in 0..3 {
            assert_eq!(status_from_name(status_name(c)), Some(c));
        }
        assert_eq!(kind_name(9), "Unspecified");
        assert_eq!(status_name(-1), "Unset");
        assert_eq!(kind_from_name("server"), None);
    }

    #[test]
    fn stored_ids_read_back_or_name_the_bad_one() {
        let (t, s, p) = ids_from_hex(&"ab".repeat(16), &"01".repeat(8), "").expect("ids");
        assert_eq!((t, s, p), ([0xab; 16], [1; 8], None));
        let err = ids_from_hex(&"ab".repeat(16), "01", "").expect_err("short span id");
        assert!(err.contains("span_id"), "{err}");
        let err = ids_from_hex(&"ab".repeat(16), &"01".repeat(8), "zz").expect_err("bad parent");
        assert!(err.contains("parent_span_id"), "{err}");
    }

    #[test]
    fn trace_ids_read_as_tempo_reads_them() {
        let full = "5b8efff798038103d269b633813fc60c";
        assert_eq!(hex(&parse_trace_id(full).expect("full")), full);
        assert_eq!(
            hex(&parse_trace_id("5B8EFFF798038103D269B633813FC60C").expect("upper")),
            full
        );
        assert_eq!(
            hex(&parse_trace_id("abc").expect("short")),
            "00000000000000000000000000000abc"
        );
        assert!(parse_trace_id(&"a".repeat(33)).is_err());
        assert_eq!(
            parse_trace_id("xyz").expect_err("not hex"),
            "trace IDs can only contain hex characters: invalid character 'x'"
        );
        assert_eq!(hex(&parse_trace_id("").expect("empty")), "0".repeat(32));
        assert_eq!(from_hex("0aFf", 2), Some(vec![10, 255]));
        assert_eq!(from_hex("+a", 1), None);
        assert_eq!(from_hex("0a", 2), None);
        assert_eq!(from_hex("é", 1), None);
    }
}
