//! `| logfmt [--strict] [--keep-empty]` and `| logfmt [--strict] name,
//! name="key", ...`, over a port of Loki's logfmt decoder (itself adapted
//! from go-logfmt).
//!
//! The decoder reads `key=value`, `key="quoted value"` (with JSON-like
//! escapes) and standalone `key` pairs separated by bytes up to space. A
//! malformed pair (`=` at a key's start, `"` inside a key or an unquoted
//! value, an unterminated or badly escaped quoted value, a key holding
//! U+FFFD) is skipped; with `--strict` decoding stops there and the line
//! gets `LogfmtParserErr` with the decoder's message, labels found before
//! it kept. Keys are sanitized as label names; U+FFFD in values becomes a
//! space; empty values (standalone keys, `key=`, `key=""`) are dropped
//! unless `--keep-empty`.

use std::borrow::Cow;

use sightline_logql::ast::Extraction;

use super::PipelineError;
use super::jsonscan::{
    check_label_name, logfmt_expression_key, replace_rune_error, sanitize_label_key,
};
use super::labels::{DUPLICATE_SUFFIX, ERROR_LABEL, LOGFMT_PARSER_ERR, LabelsBuilder};

/// The decoder's error, with its 1-based byte position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("logfmt syntax error at pos {pos} : {msg}")]
pub struct LogfmtSyntaxError {
    pub pos: usize,
    pub msg: &'static str,
}

/// Loki's logfmt `Decoder` over one line.
struct Decoder<'a> {
    line: &'a [u8],
    pos: usize,
    key: Option<&'a [u8]>,
    value: Cow<'a, [u8]>,
    err: Option<LogfmtSyntaxError>,
}

impl<'a> Decoder<'a> {
    fn new(line: &'a str) -> Self {
        Decoder {
            line: line.as_bytes(),
            pos: 0,
            key: None,
            value: Cow::Borrowed(&[]),
            err: None,
        }
    }

    fn eol(&self) -> bool {
        self.pos >= self.line.len()
    }

    fn error(&mut self, msg: &'static str) {
        self.err = Some(LogfmtSyntaxError {
            pos: self.pos + 1,
            msg,
        });
    }

    /// Decodes the next pair; false when it is malformed (or only blanks
    /// remain), true with [`key`](Self::key) and the value otherwise.
    fn scan_keyval(&mut self) -> bool {
        self.key = None;
        self.value = Cow::Borrowed(&[]);
        let line = self.line;
        // Skip the separators.
        match line[self.pos..].iter().position(|&c| c > b' ') {
            Some(p) => self.pos += p,
            None => {
                self.pos = line.len();
                return false;
            }
        }
        let start = self.pos;
        let mut multibyte = false;
        while self.pos < line.len() {
            let c = line[self.pos];
            if c == b'=' {
                if self.pos > start {
                    let key = &line[start..self.pos];
                    if multibyte && has_rune_error(key) {
                        self.error("invalid key");
                        return self.skip_value();
                    }
                    self.key = Some(key);
                    return self.equal();
                }
                self.error("unexpected '='");
                return self.skip_value();
            }
            if c == b'"' {
                self.error("unexpected '\"'");
                return self.skip_value();
            }
            if c <= b' ' {
                return self.end_key(start, multibyte);
            }
            multibyte |= c >= 0x80;
            self.pos += 1;
        }
        self.end_key(start, multibyte)
    }

    /// A key ended by a separator or the end of the line: a standalone
    /// key.
    fn end_key(&mut self, start: usize, multibyte: bool) -> bool {
        let key = &self.line[start..self.pos];
        if multibyte && has_rune_error(key) {
            self.error("invalid key");
            return false;
        }
        self.key = Some(key);
        true
    }

    /// After `key=`: an empty, bare or quoted value.
    fn equal(&mut self) -> bool {
        let line = self.line;
        self.pos += 1;
        let Some(&c) = line.get(self.pos) else {
            return true;
        };
        if c <= b' ' {
            return true;
        }
        if c == b'"' {
            return self.quoted_value();
        }
        let start = self.pos;
        while self.pos < line.len() {
            let c = line[self.pos];
            if c == b'=' || c == b'"' {
                self.error(if c == b'=' {
                    "unexpected '='"
                } else {
                    "unexpected '\"'"
                });
                return self.skip_value();
            }
            if c <= b' ' {
                break;
            }
            self.pos += 1;
        }
        self.value = Cow::Borrowed(&line[start..self.pos]);
        true
    }

    /// Skips to the next separator after a malformed pair.
    fn skip_value(&mut self) -> bool {
        match self.line[self.pos..].iter().position(|&c| c <= b' ') {
            Some(p) => self.pos += p,
            None => self.pos = self.line.len(),
        }
        false
    }

    fn quoted_value(&mut self) -> bool {
        let line = self.line;
        let start = self.pos;
        let (mut has_esc, mut esc) = (false, false);
        let mut p = start + 1;
        while p < line.len() {
            let c = line[p];
            if esc {
                esc = false;
            } else if c == b'\\' {
                has_esc = true;
                esc = true;
            } else if c == b'"' {
                self.pos = p + 1;
                if has_esc {
                    match unquote(&line[start..self.pos]) {
                        Some(v) => self.value = Cow::Owned(v),
                        None => {
                            self.error("invalid quoted value");
                            return false;
                        }
                    }
                } else {
                    self.value = Cow::Borrowed(&line[start + 1..p]);
                }
                return true;
            }
            p += 1;
        }
        self.pos = line.len();
        self.error("unterminated quoted value");
        false
    }
}

fn has_rune_error(b: &[u8]) -> bool {
    std::str::from_utf8(b).map_or(true, |s| s.contains('\u{FFFD}'))
}

/// The decoder's `unquoteBytes` (from Go's encoding/json): `s` with its
/// quotes; escapes `\" \\ \/ \' \b \f \n \r \t \uXXXX` (surrogate pairs
/// joined, a lone surrogate giving U+FFFD); `None` on a bad escape.
fn unquote(s: &[u8]) -> Option<Vec<u8>> {
    let s = s.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    let mut out = Vec::with_capacity(s.len());
    let mut r = 0;
    while let Some(&c) = s.get(r) {
        match c {
            b'\\' => {
                let e = *s.get(r + 1)?;
                let plain = match e {
                    b'"' | b'\\' | b'/' | b'\'' => e,
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'u' => {
                        let mut ch = getu4(&s[r..])?;
                        r += 6;
                        if (0xD800..0xE000).contains(&ch) {
                            let low = getu4(s.get(r..).unwrap_or_default());
                            match low.filter(|l| ch < 0xDC00 && (0xDC00..0xE000).contains(l)) {
                                Some(low) => {
                                    ch = 0x1_0000 + ((ch - 0xD800) << 10) + (low - 0xDC00);
                                    r += 6;
                                }
                                None => ch = 0xFFFD,
                            }
                        }
                        let c = char::from_u32(ch).unwrap_or('\u{FFFD}');
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        continue;
                    }
                    _ => return None,
                };
                out.push(plain);
                r += 2;
            }
            b'"' => return None,
            _ => {
                out.push(c);
                r += 1;
            }
        }
    }
    Some(out)
}

/// `\uXXXX` at the start of `s`, four hex digits.
fn getu4(s: &[u8]) -> Option<u32> {
    if s.len() < 6 || s[0] != b'\\' || s[1] != b'u' {
        return None;
    }
    s[2..6]
        .iter()
        .try_fold(0u32, |acc, &c| Some(acc * 16 + char::from(c).to_digit(16)?))
}

fn text(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// `| logfmt` without parameters.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LogfmtParser {
    strict: bool,
    keep_empty: bool,
}

impl LogfmtParser {
    pub fn new(strict: bool, keep_empty: bool) -> Self {
        LogfmtParser { strict, keep_empty }
    }

    /// Extracts every pair; parsers' first-value-wins and collision rules
    /// apply (a repeated key keeps its first value). False when an early
    /// label filter drops the line.
    pub fn process(&self, line: &str, lbs: &mut LabelsBuilder) -> bool {
        if lbs.no_labels() {
            return true;
        }
        let mut dec = Decoder::new(line);
        while !dec.eol() {
            let before = dec.pos;
            if !dec.scan_keyval() {
                if self.strict || dec.pos == before {
                    break;
                }
                continue;
            }
            let Some(raw) = dec.key else { continue };
            let key = sanitize_label_key(&text(raw)).into_owned();
            if key.is_empty() {
                continue;
            }
            let key = lbs.extracted_name(&key);
            if !lbs.may_extract(&key) {
                continue;
            }
            let value = replace_rune_error(text(&dec.value));
            if !self.keep_empty && value.is_empty() {
                continue;
            }
            lbs.set_parsed(&key, &value);
            if !lbs.should_continue(&key) {
                return false;
            }
            if lbs.all_required_extracted() {
                break;
            }
        }
        if self.strict
            && let Some(e) = &dec.err
        {
            lbs.add_parser_error(LOGFMT_PARSER_ERR, Some(&e.to_string()));
            return lbs.should_continue(ERROR_LABEL);
        }
        true
    }
}

/// `| logfmt name, name="key", ...`: only the named keys, each label
/// always present (empty when its key is missing). `--keep-empty` has no
/// effect here, as in Loki.
#[derive(Debug, Clone)]
pub(crate) struct LogfmtExpressionParser {
    strict: bool,
    /// Label names, unique, in query order.
    ids: Vec<String>,
    /// The key each label takes its value from.
    keys: Vec<String>,
}

impl LogfmtExpressionParser {
    pub fn new(params: &[Extraction], strict: bool) -> Result<Self, PipelineError> {
        if params.is_empty() {
            return Err(PipelineError::Extraction(
                "no logfmt expression provided".into(),
            ));
        }
        let (mut ids, mut keys): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        for p in params {
            let key = logfmt_expression_key(&p.expr)?;
            check_label_name(&p.name)?;
            // A repeated name takes the last key, as in Loki's map.
            match ids.iter().position(|i| *i == p.name) {
                Some(i) => keys[i] = key,
                None => {
                    ids.push(p.name.clone());
                    keys.push(key);
                }
            }
        }
        Ok(LogfmtExpressionParser { strict, ids, keys })
    }

    /// Sets each named label from its key (the last occurrence in the line
    /// wins, except that once a colliding `name_extracted` is set, the
    /// rest of the line is not read), as Loki does.
    pub fn process(&self, line: &str, lbs: &mut LabelsBuilder) {
        if lbs.no_labels() {
            return;
        }
        for id in &self.ids {
            if !lbs.collides(id) {
                lbs.set_parsed(id, "");
            }
        }
        let mut dec = Decoder::new(line);
        while !dec.eol() {
            let before = dec.pos;
            if !dec.scan_keyval() {
                if self.strict || dec.pos == before {
                    break;
                }
                continue;
            }
            let Some(raw) = dec.key else { continue };
            let key = sanitize_label_key(&text(raw)).into_owned();
            if key.is_empty() {
                continue;
            }
            let wanted = self.ids.contains(&key);
            if !wanted && (!lbs.hints().should_extract(&key) || lbs.was_extracted(&key)) {
                continue;
            }
            let value = text(&dec.value);
            let value = if value.contains('\u{FFFD}') {
                Cow::Borrowed("")
            } else {
                value
            };
            let name = match self.keys.iter().position(|k| *k == key) {
                Some(i) => self.ids[i].as_str(),
                None => key.as_str(),
            };
            if !self.ids.iter().any(|id| id == name) {
                continue;
            }
            if lbs.collides(name) {
                let name = format!("{name}{DUPLICATE_SUFFIX}");
                if !lbs.may_extract(&name) {
                    break;
                }
                lbs.set_parsed(&name, &value);
            } else {
                lbs.set_parsed(name, &value);
            }
            if lbs.all_required_extracted() {
                break;
            }
        }
        if self.strict
            && let Some(e) = &dec.err
        {
            lbs.add_parser_error(LOGFMT_PARSER_ERR, Some(&e.to_string()));
        }
    }
}
