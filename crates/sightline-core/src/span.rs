//! Spans, as every tier stores and returns them.
//!
//! A span keeps what searches and trace views read as plain fields (ids,
//! name, kind, times, status, the service, its attributes and its
//! resource's as text) and, beside them, the whole span as OTLP encodes it
//! (`otlp`: a protobuf `ResourceSpans` holding its resource, its scope and
//! the span alone), so that a trace read back is exactly what was sent:
//! typed attribute values, events, links, dropped counts and all.

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
    /// The resource's attributes as text, by their OTLP keys.
    pub resource: Labels,
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
