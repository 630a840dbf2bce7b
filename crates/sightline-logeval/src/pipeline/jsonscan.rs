//! What the parsers share: Loki's label-name sanitization; the two small
//! parameter languages, the path expressions of `| json name="expr"`
//! ([`JsonExpr`]) and the key expressions of `| logfmt name="expr"`
//! ([`logfmt_expression_key`]), parsed as Loki's generated parsers parse
//! them, with the same error messages; and the primitives of the JSON
//! scanner Loki reads lines with (grafana/jsonparser: value bounds, string
//! escapes), under the walkers of [`super::json`].

use std::borrow::Cow;
use std::iter::Peekable;
use std::str::Chars;

use super::PipelineError;
use super::convert::go_quote;

/// Loki's `sanitizeLabelKey(key, true)`: trims white space, prefixes `_`
/// to a leading digit and turns every character outside `[a-zA-Z0-9_]`
/// into `_` (one per character). Empty when nothing is left.
pub fn sanitize_label_key(key: &str) -> Cow<'_, str> {
    let key = key.trim();
    let digit_first = key.as_bytes().first().is_some_and(u8::is_ascii_digit);
    if !digit_first && key.bytes().all(is_label_byte) {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len() + 1);
    append_sanitized(&mut out, key);
    Cow::Owned(out)
}

/// Loki's `appendSanitized`: appends the trimmed, sanitized `part`; a
/// leading digit takes a `_` only when `to` is empty.
pub(crate) fn append_sanitized(to: &mut String, part: &str) {
    let part = part.trim();
    if part.is_empty() {
        return;
    }
    if to.is_empty() && part.as_bytes()[0].is_ascii_digit() {
        to.push('_');
    }
    to.extend(part.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Replaces U+FFFD with a space, as Loki does for extracted values (its
/// label store rejects the replacement character).
pub(crate) fn replace_rune_error(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.contains('\u{FFFD}') {
        Cow::Owned(s.replace('\u{FFFD}', " "))
    } else {
        s
    }
}

/// Checks a parameter's label name as Loki does (any non-empty UTF-8).
pub(crate) fn check_label_name(name: &str) -> Result<(), PipelineError> {
    if name.is_empty() {
        return Err(PipelineError::Extraction(format!(
            "invalid extracted label name '{name}'"
        )));
    }
    Ok(())
}

/// One step of a [`JsonExpr`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    /// `name` or `["name"]`.
    Field(String),
    /// `[n]`.
    Index(u64),
}

/// A path expression of `| json name="expr"`: fields (`a.b`), quoted keys
/// (`["User-Agent"]`) and array indexes (`servers[0]`), as Loki's
/// `jsonexpr` grammar reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonExpr {
    parts: Vec<PathPart>,
}

impl JsonExpr {
    /// Parses an expression; errors read as Loki's (`cannot parse
    /// expression [pod..uuid]: syntax error: unexpected DOT, expecting
    /// FIELD`).
    pub fn parse(expr: &str) -> Result<JsonExpr, PipelineError> {
        parse_json_expr(expr).map_err(|message| {
            PipelineError::Extraction(format!("cannot parse expression [{expr}]: {message}"))
        })
    }

    /// The path as Loki hands it to its JSON scanner: fields as they are,
    /// indexes as `[n]`.
    pub(crate) fn to_path(&self) -> Vec<String> {
        self.parts
            .iter()
            .map(|p| match p {
                PathPart::Field(f) => f.clone(),
                PathPart::Index(i) => format!("[{i}]"),
            })
            .collect()
    }
}

/// A token of the two parameter languages. A lexer error is kept in the
/// lexer and ends the input, as in Loki's scanners.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Dot,
    Lsb,
    Rsb,
    Str(String),
    Field(String),
    Index(u64),
    End,
}

impl Tok {
    /// The token's name in the generated parsers' messages.
    fn name(&self) -> &'static str {
        match self {
            Tok::Dot => "DOT",
            Tok::Lsb => "LSB",
            Tok::Rsb => "RSB",
            Tok::Str(_) => "STRING",
            Tok::Field(_) => "FIELD",
            Tok::Index(_) => "INDEX",
            Tok::End => "$end",
        }
    }
}

/// The lexer shared by Loki's `jsonexpr` and logfmt expression scanners
/// (the logfmt one knows no digits, dots or brackets).
struct Lexer<'a> {
    chars: Peekable<Chars<'a>>,
    json: bool,
    err: Option<String>,
}

impl Lexer<'_> {
    /// The next char; a NUL ends the input as it does in Loki's scanners.
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied().filter(|&c| c != '\0')
    }

    fn fail(&mut self, message: String) -> Tok {
        self.err = Some(message);
        Tok::End
    }

    fn token(&mut self) -> Tok {
        if self.err.is_some() {
            return Tok::End;
        }
        while matches!(self.peek(), Some(' ' | '\t' | '\n')) {
            self.chars.next();
        }
        let Some(c) = self.peek() else {
            return Tok::End;
        };
        match c {
            '0'..='9' if self.json => self.index(),
            '[' if self.json => self.one(Tok::Lsb),
            ']' if self.json => self.one(Tok::Rsb),
            '.' if self.json => self.one(Tok::Dot),
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut field = String::new();
                while let Some(c) = self
                    .peek()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    field.push(c);
                    self.chars.next();
                }
                Tok::Field(field)
            }
            '"' => {
                self.chars.next();
                let mut s = String::new();
                while let Some(c) = self.peek() {
                    self.chars.next();
                    if c == '"' || c == ']' {
                        break;
                    }
                    s.push(c);
                }
                Tok::Str(s)
            }
            c => self.fail(format!("unexpected char {c}")),
        }
    }

    fn one(&mut self, tok: Tok) -> Tok {
        self.chars.next();
        tok
    }

    /// Loki's `scanInt`: digits up to white space, `.` or `]`.
    fn index(&mut self) -> Tok {
        let mut digits = String::new();
        loop {
            match self.peek() {
                Some('.') if !digits.is_empty() => {
                    return self.fail("cannot use float as array index".to_owned());
                }
                Some(' ' | '\t' | '\n' | '.' | ']') => break,
                Some(c) if c.is_ascii_digit() => {
                    digits.push(c);
                    self.chars.next();
                }
                Some(c) => return self.fail(format!("non-integer value: {c}")),
                None => return self.fail("non-integer value: \u{0}".to_owned()),
            }
        }
        match digits.parse::<i64>() {
            Ok(n) => Tok::Index(n.unsigned_abs()),
            Err(_) => self.fail(format!(
                "strconv.Atoi: parsing {}: value out of range",
                go_quote(&digits)
            )),
        }
    }
}

/// The parser of Loki's `jsonexpr.y`, state by state, with goyacc's error
/// messages (at most the shiftable tokens are listed as expected).
fn parse_json_expr(expr: &str) -> Result<JsonExpr, String> {
    let mut lx = Lexer {
        chars: expr.chars().peekable(),
        json: true,
        err: None,
    };
    let syntax = |tok: &Tok, expecting: &str| {
        if expecting.is_empty() {
            format!("syntax error: unexpected {}", tok.name())
        } else {
            format!(
                "syntax error: unexpected {}, expecting {expecting}",
                tok.name()
            )
        }
    };
    let mut parts = Vec::new();
    let mut first = true;
    loop {
        let tok = lx.token();
        match tok {
            Tok::Field(f) if first => parts.push(PathPart::Field(f)),
            Tok::Dot if !first => match lx.token() {
                Tok::Field(f) => parts.push(PathPart::Field(f)),
                other => return Err(syntax(&other, "FIELD")),
            },
            Tok::Lsb => {
                let part = match lx.token() {
                    Tok::Str(s) => PathPart::Field(s),
                    Tok::Index(i) => PathPart::Index(i),
                    other => return Err(syntax(&other, "STRING or INDEX")),
                };
                match lx.token() {
                    Tok::Rsb => parts.push(part),
                    other => return Err(syntax(&other, "RSB")),
                }
            }
            Tok::End if !first => {
                return match lx.err {
                    Some(e) => Err(e),
                    None => Ok(JsonExpr { parts }),
                };
            }
            other if first => return Err(syntax(&other, "LSB or FIELD")),
            other => return Err(syntax(&other, "")),
        }
        first = false;
    }
}

/// Parses the expression of a `| logfmt name="expr"` parameter as Loki's
/// logfmt expression grammar does (a key, or quoted strings) and gives
/// the key it stands for, as Loki's `fmt.Sprintf("%v", ...)` renders it.
pub fn logfmt_expression_key(expr: &str) -> Result<String, PipelineError> {
    let fail = |message: String| {
        PipelineError::Extraction(format!("cannot parse expression [{expr}]: {message}"))
    };
    let mut lx = Lexer {
        chars: expr.chars().peekable(),
        json: false,
        err: None,
    };
    // The logfmt grammar calls identifiers KEY.
    let name = |t: &Tok| match t {
        Tok::Field(_) => "KEY",
        t => t.name(),
    };
    let mut values: Vec<String> = Vec::new();
    loop {
        match lx.token() {
            Tok::Field(k) if values.is_empty() => values.push(k),
            Tok::Str(s) => values.push(s),
            Tok::End if !values.is_empty() => break,
            other if values.is_empty() => {
                return Err(fail(format!(
                    "syntax error: unexpected {}, expecting STRING or KEY",
                    name(&other)
                )));
            }
            other => {
                return Err(fail(format!("syntax error: unexpected {}", name(&other))));
            }
        }
    }
    if let Some(e) = lx.err {
        return Err(fail(e));
    }
    let mut values = values.into_iter();
    let mut key = values.next().unwrap_or_default();
    let extra: Vec<String> = values.map(|v| format!("string={v}")).collect();
    if !extra.is_empty() {
        key.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    Ok(key)
}

// The primitives of the JSON scanner Loki reads lines with
// (grafana/jsonparser), shared by `json`'s walkers and `unpack`.

/// The kind of a JSON value, as the scanner classifies it (by its first
/// byte; a "number" is any token starting with a digit or `-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Number,
    Object,
    Array,
    Boolean,
    Null,
}

/// The scanner's errors; their texts become `__error_details__`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("Unknown value type")]
    UnknownValueType,
    #[error("Malformed JSON error")]
    MalformedJson,
    #[error("Value is string, but can't find closing '\"' symbol")]
    MalformedString,
    #[error("Value is array, but can't find closing ']' symbol")]
    MalformedArray,
    #[error("Value looks like object, but can't find closing '}}' symbol")]
    MalformedObject,
    #[error("Encountered an invalid escape sequence in a string")]
    MalformedStringEscape,
    #[error("expecting json object(6), but it is not")]
    NotAnObject,
    #[error("objects nested deeper than {} levels", super::json::MAX_DEPTH)]
    TooDeep,
    /// Not an error: every label the query needs was found.
    #[error("found all required labels")]
    FoundAll,
    /// Not an error: an early label filter refused the line.
    #[error("found a label with a matcher that didn't match")]
    LabelDoesNotMatch,
}

/// Loki's `unescapeJSONString`: unescaped, empty if the escapes are
/// invalid, U+FFFD turned into a space.
pub(crate) fn unescape_value(raw: &[u8]) -> Cow<'_, str> {
    match unescape(raw) {
        Ok(b) => replace_rune_error(bytes_to_str(b)),
        Err(_) => Cow::Borrowed(""),
    }
}

pub(crate) fn bytes_to_str(b: Cow<'_, [u8]>) -> Cow<'_, str> {
    match b {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(v) => match String::from_utf8(v) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        },
    }
}

/// `Get(data)` without keys: the value at the start of `data` (strings
/// without their quotes), its type and the offset just past it.
pub(crate) fn get_value(d: &[u8]) -> Result<(&[u8], ValueType, usize), JsonError> {
    let start = next_token(d).ok_or(JsonError::MalformedJson)?;
    let (end, ty) = match d[start] {
        b'"' => {
            let (len, _) = string_end(&d[start + 1..]);
            (
                start + 1 + len.ok_or(JsonError::MalformedString)?,
                ValueType::String,
            )
        }
        b'[' => {
            let len = block_end(&d[start..], b'[', b']').ok_or(JsonError::MalformedArray)?;
            (start + len, ValueType::Array)
        }
        b'{' => {
            let len = block_end(&d[start..], b'{', b'}').ok_or(JsonError::MalformedObject)?;
            (start + len, ValueType::Object)
        }
        c => {
            let end = start + token_end(&d[start..]);
            let token = &d[start..end];
            let ty = match c {
                b't' | b'f' if token == b"true" || token == b"false" => ValueType::Boolean,
                b'n' | b'u' if token == b"null" => ValueType::Null,
                b'0'..=b'9' | b'-' => ValueType::Number,
                _ => return Err(JsonError::UnknownValueType),
            };
            (end, ty)
        }
    };
    let value = &d[start..end];
    let value = match ty {
        ValueType::String => value.get(1..value.len() - 1).unwrap_or_default(),
        _ => value,
    };
    Ok((value, ty, end))
}

/// The first byte that is not JSON white space.
pub(crate) fn next_token(d: &[u8]) -> Option<usize> {
    d.iter()
        .position(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t'))
}

/// Where a bare token (number, boolean, null) ends.
fn token_end(d: &[u8]) -> usize {
    d.iter()
        .position(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b',' | b'}' | b']'))
        .unwrap_or(d.len())
}

/// The offset just past the `"` closing a string whose content starts
/// `d`, and whether the string has any backslash.
pub(crate) fn string_end(d: &[u8]) -> (Option<usize>, bool) {
    let mut escaped = false;
    for (i, &c) in d.iter().enumerate() {
        if c == b'"' {
            if !escaped {
                return (Some(i + 1), false);
            }
            let backslashes = d[..i].iter().rev().take_while(|&&b| b == b'\\').count();
            if backslashes % 2 == 0 {
                return (Some(i + 1), true);
            }
        } else if c == b'\\' {
            escaped = true;
        }
    }
    (None, escaped)
}

/// The offset just past the bracket closing the block `d` opens (strings
/// skipped, nothing else checked).
pub(crate) fn block_end(d: &[u8], open: u8, close: u8) -> Option<usize> {
    let mut level = 0i64;
    let mut i = 0;
    while i < d.len() {
        let c = d[i];
        if c == b'"' {
            i += string_end(&d[i + 1..]).0?;
        } else if c == open {
            level += 1;
        } else if c == close {
            level -= 1;
            if level == 0 {
                return Some(i + 1);
            }
        }
        i += 1;
    }
    None
}

/// grafana/jsonparser's `Unescape`: JSON escapes, `\uXXXX` with surrogate
/// pairs (an unpaired high surrogate is an error; a pair that makes no
/// valid character gives U+FFFD).
pub(crate) fn unescape(input: &[u8]) -> Result<Cow<'_, [u8]>, JsonError> {
    let Some(first) = input.iter().position(|&c| c == b'\\') else {
        return Ok(Cow::Borrowed(input));
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut rest = &input[first..];
    while !rest.is_empty() {
        let used = unescape_one(rest, &mut out).ok_or(JsonError::MalformedStringEscape)?;
        rest = &rest[used..];
        match rest.iter().position(|&c| c == b'\\') {
            Some(n) => {
                out.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
            }
            None => {
                out.extend_from_slice(rest);
                break;
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// One escape at the start of `s` into `out`; how many bytes it took.
fn unescape_one(s: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    if s.len() < 2 || s[0] != b'\\' {
        return None;
    }
    let plain = match s[1] {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => {
            let r = hex4(s)?;
            let (c, used) = if r <= 0xFFFF && !(0xD800..=0xDFFF).contains(&r) {
                (char::from_u32(r), 6)
            } else {
                let r2 = hex4(s.get(6..)?)?;
                if r2 < 0xDC00 {
                    return None;
                }
                let combined = 0x1_0000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
                (char::from_u32(combined), 12)
            };
            let mut buf = [0u8; 4];
            let c = c.unwrap_or('\u{FFFD}');
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            return Some(used);
        }
        _ => return None,
    };
    out.push(plain);
    Some(2)
}

/// The four hex digits after a `\u` at the start of `s` (the `\u` itself
/// is not checked, as in the scanner).
fn hex4(s: &[u8]) -> Option<u32> {
    let digits = s.get(2..6)?;
    digits.iter().try_fold(0u32, |acc, &c| {
        let d = char::from(c).to_digit(16)?;
        Some(acc * 16 + d)
    })
}
