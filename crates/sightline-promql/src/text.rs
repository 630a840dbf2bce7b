//! Lexical pieces PromQL and LogQL share: whitespace and `#` comments,
//! Prometheus durations, and Go-quoted string literals (both languages
//! unquote strings as Go does).

use nom::{IResult, Parser, character::complete::digit1};
use sightline_core::time::DAY_MS;

/// The 1-based line holding byte `offset` of `input` (clamped to its
/// length), and the byte offset where that line starts.
pub fn line_of(input: &str, offset: usize) -> (usize, usize) {
    let before = input
        .as_bytes()
        .get(..offset.min(input.len()))
        .unwrap_or_default();
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, start)
}

/// Skips whitespace and `#` comments (to the end of the line).
pub fn skip_space(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        if let Some(c) = t.strip_prefix('#') {
            s = c.find('\n').map_or("", |i| &c[i..]);
        } else {
            return t;
        }
    }
}

/// Parses a Prometheus duration (`1y2w3d4h5m6s7ms`; units in this order,
/// each at most once; `0` alone) into milliseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * DAY_MS),
        ("w", 7 * DAY_MS),
        ("d", DAY_MS),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    // Order in which units must appear; "ms" is last.
    let rank = |u: &str| match u {
        "y" => 0,
        "w" => 1,
        "d" => 2,
        "h" => 3,
        "m" => 4,
        "s" => 5,
        _ => 6,
    };
    if s == "0" {
        return Some(0);
    }
    let mut rest = s;
    let mut total: i64 = 0;
    let mut last_rank: i32 = -1;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let r: IResult<&str, &str> = digit1.parse(rest);
        let (after, digits) = r.ok()?;
        let (unit, mult) = UNITS.iter().find(|(u, _)| after.starts_with(u))?;
        let rk = rank(unit);
        if rk <= last_rank {
            return None;
        }
        last_rank = rk;
        let n: i64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(*mult)?)?;
        rest = &after[unit.len()..];
    }
    Some(total)
}

/// Why a quoted string could not be read. `Display` gives PromQL's
/// wording; LogQL words the kinds as Loki does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteError {
    /// No closing quote before a newline or the end of input.
    Unterminated { raw: bool },
    /// `\` at the end of input.
    EscapeUnterminated,
    /// `\q` for a character with no escape meaning.
    UnknownEscape(char),
    /// A numeric escape with bad digits or value.
    BadEscape(String),
}

impl std::fmt::Display for QuoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuoteError::Unterminated { raw: true } => f.write_str("unterminated raw string"),
            QuoteError::Unterminated { raw: false } => f.write_str("unterminated quoted string"),
            QuoteError::EscapeUnterminated => f.write_str("escape sequence not terminated"),
            QuoteError::UnknownEscape(c) => write!(f, "unknown escape sequence {c:?}"),
            QuoteError::BadEscape(m) => f.write_str(m),
        }
    }
}

/// Reads the string literal at the start of `s`, which opens with quote
/// `q` (`"`, `'` or `` ` ``; backquoted strings are raw), with Go's
/// escapes. Returns the rest of the input and the value; the value is
/// `Err` with its bytes when byte escapes do not form UTF-8.
pub fn scan_quoted(s: &str, q: char) -> Result<(&str, Result<String, Vec<u8>>), QuoteError> {
    let body = &s[q.len_utf8()..];
    if q == '`' {
        return match body.find('`') {
            Some(i) => Ok((&body[i + 1..], Ok(body[..i].to_string()))),
            None => Err(QuoteError::Unterminated { raw: true }),
        };
    }
    let mut bytes: Vec<u8> = Vec::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == q => {
                let rest = &body[i + 1..];
                return Ok((rest, String::from_utf8(bytes).map_err(|e| e.into_bytes())));
            }
            '\n' => return Err(QuoteError::Unterminated { raw: false }),
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err(QuoteError::EscapeUnterminated);
                };
                match e {
                    'a' => bytes.push(7),
                    'b' => bytes.push(8),
                    'f' => bytes.push(12),
                    'n' => bytes.push(b'\n'),
                    'r' => bytes.push(b'\r'),
                    't' => bytes.push(b'\t'),
                    'v' => bytes.push(11),
                    '\\' => bytes.push(b'\\'),
                    e if e == q => push_char(&mut bytes, e),
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match chars.next().and_then(|(_, d)| d.to_digit(8)) {
                                Some(d) => v = v * 8 + d,
                                None => {
                                    return Err(QuoteError::BadEscape(
                                        "invalid octal escape sequence".into(),
                                    ));
                                }
                            }
                        }
                        let b = u8::try_from(v).map_err(|_| {
                            QuoteError::BadEscape(format!("octal escape value {v} > 255"))
                        })?;
                        bytes.push(b);
                    }
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut v: u32 = 0;
                        for _ in 0..n {
                            match chars.next().and_then(|(_, d)| d.to_digit(16)) {
                                Some(d) => v = v * 16 + d,
                                None => {
                                    return Err(QuoteError::BadEscape(format!(
                                        "invalid escape sequence \\{e}"
                                    )));
                                }
                            }
                        }
                        if e == 'x' {
                            // Two hex digits always fit a byte.
                            bytes.push(v as u8);
                        } else {
                            match char::from_u32(v) {
                                Some(ch) => push_char(&mut bytes, ch),
                                None => {
                                    return Err(QuoteError::BadEscape(
                                        "escape sequence is an invalid Unicode code point".into(),
                                    ));
                                }
                            }
                        }
                    }
                    other => return Err(QuoteError::UnknownEscape(other)),
                }
            }
            c => push_char(&mut bytes, c),
        }
    }
    Err(QuoteError::Unterminated { raw: false })
}

fn push_char(bytes: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}
