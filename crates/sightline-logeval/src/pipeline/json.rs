//! `| json`, `| json name="expr", ...` and `| unpack`.
//!
//! Loki reads JSON with a lenient byte scanner (grafana/jsonparser), not a
//! validating parser, and its leniency shows in results: `| json` stops at
//! the first malformed member but keeps what it extracted before it;
//! numbers are taken as written, unchecked; `| json` with parameters finds
//! its paths with a key search that never validates the rest of the line.
//! This module ports that scanner's walkers (`ObjectEach`, `EachKey`,
//! `searchKeys`, `ArrayEach`; their primitives are in [`super::jsonscan`])
//! step by step, so Sightline extracts the same labels and reports the
//! same error details on the same lines. The one deliberate difference:
//! objects nested deeper than [`MAX_DEPTH`] end `| json` with an error
//! instead of being walked (Go's growable stacks walk them).
//!
//! `| json` flattens nested objects into `outer_inner` names, skips arrays
//! and nulls, and writes strings unescaped (U+FFFD turned into a space),
//! numbers and booleans as written; keys are sanitized as label names.

use std::borrow::Cow;

use sightline_logql::ast::Extraction;

use super::PipelineError;
use super::jsonscan::{
    JsonError, JsonExpr, ValueType, append_sanitized, block_end, bytes_to_str, check_label_name,
    get_value, next_token, sanitize_label_key, string_end, unescape, unescape_value,
};
use super::labels::{DUPLICATE_SUFFIX, JSON_PARSER_ERR, LabelsBuilder};

/// How deep `| json` and `| unpack` walk nested objects.
pub const MAX_DEPTH: usize = 128;

/// The key whose value `| unpack` makes the new log line.
pub const PACKED_ENTRY_KEY: &str = "_entry";

/// `| json` without parameters.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JsonParser;

impl JsonParser {
    /// Extracts every string, number and boolean of the line's object. On
    /// malformed JSON the labels found so far stay and `__error__` is
    /// `JSONParserErr` with the scanner's message as details. False when
    /// an early label filter drops the line.
    pub fn process(&self, line: &str, lbs: &mut LabelsBuilder) -> bool {
        self.process_capturing(line, lbs, None)
    }

    /// [`JsonParser::process`], also recording each label's JSON path
    /// (the object keys leading to it, as written) in `paths`, as Loki's
    /// parser does for detected fields.
    pub fn process_capturing(
        &self,
        line: &str,
        lbs: &mut LabelsBuilder,
        paths: Option<&mut Vec<(String, Vec<String>)>>,
    ) -> bool {
        if lbs.no_labels() {
            return true;
        }
        let mut prefix = String::new();
        let mut marks = Vec::new();
        let mut keys = Vec::new();
        let mut walk = Flatten {
            lbs: &mut *lbs,
            prefix: &mut prefix,
            marks: &mut marks,
            keys: &mut keys,
            paths,
        };
        match object_each(line.as_bytes(), &mut walk) {
            Ok(()) | Err(JsonError::FoundAll) => true,
            Err(JsonError::LabelDoesNotMatch) => false,
            Err(e) => {
                lbs.add_parser_error(JSON_PARSER_ERR, Some(&e.to_string()));
                true
            }
        }
    }
}

struct Flatten<'s> {
    lbs: &'s mut LabelsBuilder,
    /// The sanitized names of the enclosing objects, joined with `_`.
    prefix: &'s mut String,
    /// `prefix` lengths to return to when leaving each object.
    marks: &'s mut Vec<usize>,
    /// The keys of the enclosing objects, as written.
    keys: &'s mut Vec<String>,
    /// Where each set label's path goes, when asked for.
    paths: Option<&'s mut Vec<(String, Vec<String>)>>,
}

impl<'a> Visitor<'a> for Flatten<'_> {
    fn member(&mut self, key: &str, value: &'a [u8], ty: ValueType) -> Result<bool, JsonError> {
        let set = match ty {
            ValueType::Object => {
                let mark = self.prefix.len();
                append_part(self.prefix, key);
                if self.lbs.hints().should_extract_prefix(self.prefix) {
                    self.marks.push(mark);
                    self.keys.push(key.to_string());
                    return Ok(true);
                }
                self.prefix.truncate(mark);
                return Ok(false);
            }
            ValueType::String | ValueType::Number | ValueType::Boolean => {
                self.value(key, value, ty)
            }
            ValueType::Array | ValueType::Null => true,
        };
        if self.lbs.all_required_extracted() {
            return Err(JsonError::FoundAll);
        }
        if !set {
            return Err(JsonError::LabelDoesNotMatch);
        }
        Ok(false)
    }

    fn leave(&mut self) {
        if let Some(mark) = self.marks.pop() {
            self.prefix.truncate(mark);
            self.keys.pop();
        }
    }
}

impl Flatten<'_> {
    /// Sets one value; false when an early filter refuses it.
    fn value(&mut self, key: &str, raw: &[u8], ty: ValueType) -> bool {
        let name = if self.marks.is_empty() {
            // A top-level key: sanitized on its own, skipped when blank.
            let key = sanitize_label_key(key);
            if key.is_empty() {
                return true;
            }
            self.lbs.extracted_name(&key)
        } else {
            // A nested key: the enclosing names joined with it. On a
            // collision Loki suffixes the last part and joins again.
            let mut name = self.prefix.clone();
            append_part(&mut name, key);
            if self.lbs.collides(&name) {
                name.clone_from(self.prefix);
                append_part(&mut name, &format!("{key}{DUPLICATE_SUFFIX}"));
            }
            name
        };
        if !self.lbs.may_extract(&name) {
            return true;
        }
        self.lbs.set_parsed(&name, &read_value(raw, ty));
        if let Some(paths) = self.paths.as_deref_mut() {
            let mut path = self.keys.clone();
            path.push(key.to_string());
            paths.push((name.clone(), path));
        }
        self.lbs.should_continue(&name)
    }
}

/// Joins one more key to a flattened name (Loki's
/// `buildSanitizedPrefixFromBuffer`): blank keys add nothing.
fn append_part(to: &mut String, part: &str) {
    if part.trim().is_empty() {
        return;
    }
    if !to.is_empty() {
        to.push('_');
    }
    append_sanitized(to, part);
}

fn read_value(raw: &[u8], ty: ValueType) -> Cow<'_, str> {
    match ty {
        ValueType::String => unescape_value(raw),
        ValueType::Boolean if raw == b"true" => Cow::Borrowed("true"),
        ValueType::Boolean => Cow::Borrowed("false"),
        _ => String::from_utf8_lossy(raw),
    }
}

/// `| json name="expr", ...`.
#[derive(Debug, Clone)]
pub(crate) struct JsonExpressionParser {
    ids: Vec<String>,
    paths: Vec<Vec<String>>,
}

impl JsonExpressionParser {
    /// Parses the parameters' expressions, in query order.
    pub fn new(params: &[Extraction]) -> Result<Self, PipelineError> {
        let mut ids = Vec::with_capacity(params.len());
        let mut paths = Vec::with_capacity(params.len());
        for p in params {
            let expr = JsonExpr::parse(&p.expr)?;
            check_label_name(&p.name)?;
            ids.push(p.name.clone());
            paths.push(expr.to_path());
        }
        Ok(JsonExpressionParser { ids, paths })
    }

    /// Sets each named label to the value its path finds: strings
    /// unescaped, objects as their JSON text, arrays as their text
    /// unescaped, numbers and booleans as written, `null` and paths that
    /// find nothing as empty values. An empty line is left alone; a line
    /// not starting with `{`, `[` or `"` gets `JSONParserErr` (no details)
    /// and nothing else.
    pub fn process(&self, line: &str, lbs: &mut LabelsBuilder) {
        let data = line.as_bytes();
        let Some(&first) = data.first() else {
            return;
        };
        if lbs.no_labels() {
            return;
        }
        if !matches!(first, b'"' | b'{' | b'[') {
            lbs.add_parser_error(JSON_PARSER_ERR, None);
            return;
        }
        let mut matches = 0usize;
        let ids = &self.ids;
        each_key(data, &self.paths, &mut |found| match found {
            Found::Error(e) => lbs.add_parser_error(JSON_PARSER_ERR, Some(&e.to_string())),
            Found::Value(idx, raw, ty) => {
                let Some(id) = ids.get(idx) else {
                    return;
                };
                let value = match ty {
                    ValueType::Null => Cow::Borrowed(""),
                    ValueType::Object => String::from_utf8_lossy(raw),
                    _ => unescape_value(raw),
                };
                let key = lbs.extracted_name(id);
                lbs.set_parsed(&key, &value);
                matches += 1;
            }
        });
        if matches < self.ids.len() {
            for id in &self.ids {
                if lbs.get(id).is_none() {
                    lbs.set_parsed(id, "");
                }
            }
        }
    }
}

/// `| unpack`: the string members of the line's top-level object become
/// labels, and the `_entry` member the new line; without `_entry` neither
/// happens. Non-string members are ignored; a line not starting with `{`
/// gets `JSONParserErr` and is returned as is. `None` when an early label
/// filter drops the line.
pub(crate) fn unpack<'a>(line: &'a str, lbs: &mut LabelsBuilder) -> Option<Cow<'a, str>> {
    let data = line.as_bytes();
    let Some(&first) = data.first() else {
        return Some(Cow::Borrowed(line));
    };
    if lbs.no_labels() {
        return Some(Cow::Borrowed(line));
    }
    if first != b'{' {
        lbs.add_parser_error(JSON_PARSER_ERR, Some(&JsonError::NotAnObject.to_string()));
        return Some(Cow::Borrowed(line));
    }
    let mut walk = Unpack {
        lbs: &*lbs,
        entry: None,
        pending: Vec::new(),
    };
    let walked = object_each(data, &mut walk);
    let Unpack { entry, pending, .. } = walk;
    match (walked, entry) {
        (Err(e), _) => {
            lbs.add_parser_error(JSON_PARSER_ERR, Some(&e.to_string()));
            Some(Cow::Borrowed(line))
        }
        (Ok(()), None) => Some(Cow::Borrowed(line)),
        (Ok(()), Some(entry)) => {
            for (name, value) in &pending {
                lbs.set_parsed(name, value);
                if !lbs.should_continue(name) {
                    return None;
                }
            }
            Some(entry)
        }
    }
}

struct Unpack<'l, 'b> {
    lbs: &'b LabelsBuilder,
    entry: Option<Cow<'l, str>>,
    pending: Vec<(String, String)>,
}

impl<'l> Visitor<'l> for Unpack<'l, '_> {
    fn member(&mut self, key: &str, value: &'l [u8], ty: ValueType) -> Result<bool, JsonError> {
        if ty != ValueType::String {
            return Ok(false);
        }
        if key == PACKED_ENTRY_KEY {
            self.entry = Some(bytes_to_str(unescape(value)?));
            return Ok(false);
        }
        // Loki renames and checks the raw key, then sanitizes it.
        let name = self.lbs.extracted_name(key);
        if self.lbs.may_extract(&name) {
            let value = unescape_value(value).into_owned();
            self.pending
                .push((sanitize_label_key(&name).into_owned(), value));
        }
        Ok(false)
    }

    fn leave(&mut self) {}
}

/// What [`object_each`] reports.
trait Visitor<'a> {
    /// One member of the object being walked (strings come unquoted, still
    /// escaped); for an object value, `Ok(true)` walks into it.
    fn member(&mut self, key: &str, value: &'a [u8], ty: ValueType) -> Result<bool, JsonError>;
    /// The walk leaves an object it was told to walk into.
    fn leave(&mut self);
}

/// grafana/jsonparser's `ObjectEach`, with the recursion into nested
/// objects that Loki's `| json` callback makes, on an explicit stack.
fn object_each<'a, V: Visitor<'a>>(data: &'a [u8], v: &mut V) -> Result<(), JsonError> {
    enum At {
        Member,
        AfterValue,
        End,
    }
    let mut stack: Vec<(&'a [u8], usize)> = Vec::new();
    let mut cur = data;
    let (mut pos, mut at) = match open_object(cur)? {
        Some(p) => (p, At::Member),
        None => (0, At::End),
    };
    loop {
        match at {
            At::Member => {
                match cur.get(pos) {
                    Some(b'"') => pos += 1,
                    Some(b'}') => {
                        at = At::End;
                        continue;
                    }
                    _ => return Err(JsonError::MalformedObject),
                }
                let (end, escaped) = string_end(&cur[pos..]);
                let end = end.ok_or(JsonError::MalformedJson)?;
                let raw_key = &cur[pos..pos + end - 1];
                pos += end;
                let key = if escaped {
                    unescape(raw_key).map_err(|_| JsonError::MalformedStringEscape)?
                } else {
                    Cow::Borrowed(raw_key)
                };
                pos += next_token(&cur[pos..]).ok_or(JsonError::MalformedJson)?;
                if cur[pos] != b':' {
                    return Err(JsonError::MalformedJson);
                }
                pos += 1;
                let (value, ty, end) = get_value(&cur[pos..])?;
                let after = pos + end;
                let descend = v.member(&bytes_to_str(key), value, ty)?;
                if descend && ty == ValueType::Object {
                    if stack.len() >= MAX_DEPTH {
                        return Err(JsonError::TooDeep);
                    }
                    stack.push((cur, after));
                    cur = value;
                    match open_object(cur)? {
                        Some(p) => pos = p,
                        None => at = At::End,
                    }
                } else {
                    pos = after;
                    at = At::AfterValue;
                }
            }
            At::AfterValue => {
                pos += next_token(&cur[pos..]).ok_or(JsonError::MalformedArray)?;
                match cur[pos] {
                    b'}' => at = At::End,
                    b',' => {
                        pos += 1;
                        pos += next_token(&cur[pos..]).ok_or(JsonError::MalformedArray)?;
                        at = At::Member;
                    }
                    _ => return Err(JsonError::MalformedObject),
                }
            }
            At::End => match stack.pop() {
                None => return Ok(()),
                Some((parent, after)) => {
                    v.leave();
                    cur = parent;
                    pos = after;
                    at = At::AfterValue;
                }
            },
        }
    }
}

/// The opening of `ObjectEach`: the position of the first member, or
/// `None` for `{}`.
fn open_object(d: &[u8]) -> Result<Option<usize>, JsonError> {
    let start = next_token(d).ok_or(JsonError::MalformedObject)?;
    if d[start] != b'{' {
        return Err(JsonError::MalformedObject);
    }
    let pos = start + 1;
    let pos = pos + next_token(&d[pos..]).ok_or(JsonError::MalformedJson)?;
    Ok((d[pos] != b'}').then_some(pos))
}

/// What [`each_key`] reports: a path's value, or an error on the way.
enum Found<'a> {
    Value(usize, &'a [u8], ValueType),
    Error(JsonError),
}

/// grafana/jsonparser's `EachKey`: one scan of the line that reports the
/// first value found for each path (fields, and `[n]` for array elements).
fn each_key<'a, F: FnMut(Found<'a>)>(data: &'a [u8], paths: &[Vec<String>], cb: &mut F) {
    let n_paths = paths.len();
    let max_path = paths.iter().map(Vec::len).max().unwrap_or(0);
    let mut flags = vec![false; n_paths];
    let mut bufs: Vec<Cow<'a, [u8]>> = vec![Cow::Borrowed(&[][..]); max_path];
    let (mut matched, mut level, mut i) = (0usize, 0i64, 0usize);
    while i < data.len() {
        match data[i] {
            b'"' => {
                i += 1;
                let key_begin = i;
                let (end, escaped) = string_end(&data[i..]);
                let Some(end) = end else { return };
                i += end;
                let key_end = i - 1;
                let Some(off) = next_token(&data[i..]) else {
                    return;
                };
                i += off;
                if data[i] != b':' {
                    // A string value: look again at what follows it.
                    continue;
                }
                let raw = &data[key_begin..key_end];
                let key = if escaped {
                    match unescape(raw) {
                        Ok(k) => k,
                        Err(_) => return,
                    }
                } else {
                    Cow::Borrowed(raw)
                };
                let mut hit = false;
                if max_path as i64 >= level {
                    if level < 1 {
                        cb(Found::Error(JsonError::MalformedJson));
                        return;
                    }
                    let lv = level as usize;
                    bufs[lv - 1] = key.clone();
                    for (pi, p) in paths.iter().enumerate() {
                        if p.len() != lv
                            || flags[pi]
                            || p[lv - 1].as_bytes() != &*key
                            || !same_tree(p, &bufs[..lv])
                        {
                            continue;
                        }
                        hit = true;
                        matched += 1;
                        flags[pi] = true;
                        cb(found_at(pi, data.get(i + 1..).unwrap_or_default()));
                        if matched == n_paths {
                            break;
                        }
                    }
                    if matched == n_paths {
                        return;
                    }
                }
                if !hit {
                    match next_token(data.get(i + 1..).unwrap_or_default()) {
                        Some(t) => i += t,
                        None => i = i.saturating_sub(1),
                    }
                    if data.get(i) == Some(&b'{')
                        && let Some(skip) = block_end(&data[i..], b'{', b'}')
                    {
                        i += skip + 1;
                    }
                }
                if matches!(data.get(i), Some(b'{' | b'}' | b'[' | b'"')) {
                    continue;
                }
            }
            b'{' => level += 1,
            b'}' | b']' => level -= 1,
            b'[' => {
                if level < 0 {
                    cb(Found::Error(JsonError::MalformedJson));
                    return;
                }
                let lv = level as usize;
                let mut wanted: Vec<(usize, i64)> = Vec::new();
                for (pi, p) in paths.iter().enumerate() {
                    if p.len() < lv + 1 || flags[pi] {
                        continue;
                    }
                    let part = &p[lv];
                    if !part.starts_with('[') || !same_tree(p, &bufs[..lv]) {
                        continue;
                    }
                    if part.len() > 2 {
                        let idx = part.get(1..part.len() - 1).and_then(go_atoi);
                        wanted.push((pi, idx.unwrap_or(0)));
                    }
                }
                if wanted.is_empty() {
                    // Keys inside arrays are not searched.
                    let Some(skip) = block_end(&data[i..], b'[', b']') else {
                        return;
                    };
                    i += skip - 1;
                } else {
                    level += 1;
                    let lv = lv + 1;
                    let mut cur: i64 = 0;
                    let arr_end = array_each(&data[i..], &mut |value, ty, _| {
                        for &(pi, want) in &wanted {
                            if want != cur {
                                continue;
                            }
                            matched += 1;
                            flags[pi] = true;
                            let rest = paths[pi].get(lv..).unwrap_or_default();
                            let Some(of) = search_keys(value, rest) else {
                                continue;
                            };
                            let at = value.get(of..).unwrap_or_default();
                            if ty == ValueType::String {
                                cb(Found::Value(pi, at, ty));
                            } else {
                                cb(found_at(pi, at));
                            }
                        }
                        cur += 1;
                    });
                    if matched == n_paths {
                        return;
                    }
                    i += arr_end.saturating_sub(1);
                }
            }
            _ => {}
        }
        i += 1;
    }
}

fn found_at(pi: usize, rest: &[u8]) -> Found<'_> {
    match get_value(rest) {
        Ok((v, t, _)) => Found::Value(pi, v, t),
        Err(e) => Found::Error(e),
    }
}

/// Whether the keys seen so far lead along the path.
fn same_tree(path: &[String], seen: &[Cow<'_, [u8]>]) -> bool {
    path.iter().zip(seen).all(|(p, s)| p.as_bytes() == &**s)
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits, in range
/// (which is what Rust's integer parsing accepts too).
fn go_atoi(s: &str) -> Option<i64> {
    s.parse().ok()
}

/// grafana/jsonparser's `searchKeys`: the offset just past the `:` of the
/// value at `keys` within `data` (the start of `data` for no keys). Its
/// recursion into array elements is a loop here.
fn search_keys(data: &[u8], keys: &[String]) -> Option<usize> {
    let (mut data, mut keys, mut base) = (data, keys, 0usize);
    'search: loop {
        if keys.is_empty() {
            return Some(base);
        }
        let (mut key_level, mut level, mut last_matched) = (0i64, 0i64, true);
        let mut i = 0;
        while i < data.len() {
            match data[i] {
                b'"' => {
                    i += 1;
                    let key_begin = i;
                    let (end, escaped) = string_end(&data[i..]);
                    i += end?;
                    let key_end = i - 1;
                    i += next_token(&data[i..])?;
                    if data[i] != b':' {
                        continue;
                    }
                    if level < 1 {
                        return None;
                    }
                    let raw = &data[key_begin..key_end];
                    let key = if escaped {
                        unescape(raw).ok()?
                    } else {
                        Cow::Borrowed(raw)
                    };
                    let want = keys.get(level as usize - 1)?;
                    if *key == *want.as_bytes() {
                        last_matched = true;
                        if key_level == level - 1 {
                            key_level += 1;
                            if key_level as usize == keys.len() {
                                return Some(base + i + 1);
                            }
                        }
                    } else {
                        last_matched = false;
                    }
                }
                b'{' if !last_matched => i += block_end(&data[i..], b'{', b'}')? - 1,
                b'{' => level += 1,
                b'}' => {
                    level -= 1;
                    if level == key_level {
                        key_level -= 1;
                    }
                }
                b'[' => {
                    let index_key = (key_level == level && level >= 0)
                        .then(|| keys.get(level as usize))
                        .flatten()
                        .filter(|k| k.starts_with('['));
                    let Some(k) = index_key else {
                        i += block_end(&data[i..], b'[', b']')? - 1;
                        i += 1;
                        continue;
                    };
                    if k.len() < 3 || !k.ends_with(']') {
                        return None;
                    }
                    let want = go_atoi(k.get(1..k.len() - 1)?)?;
                    let start = i;
                    let (mut cur, mut found) = (0i64, None);
                    array_each(&data[i..], &mut |value, ty, offset| {
                        if cur == want {
                            found = if ty == ValueType::String {
                                // Keep the quotes, which the scanner stripped.
                                offset.checked_sub(2).and_then(|o| {
                                    let s = start + o;
                                    data.get(s..s + value.len() + 2).map(|v| (v, o))
                                })
                            } else {
                                Some((value, offset))
                            };
                        }
                        cur += 1;
                    });
                    let (value, offset) = found?;
                    base += i + offset;
                    data = value;
                    keys = keys.get(level as usize + 1..)?;
                    continue 'search;
                }
                b':' => return None,
                _ => {}
            }
            i += 1;
        }
        return None;
    }
}

/// grafana/jsonparser's `ArrayEach` over the array at the start of `data`:
/// calls `cb` with each element (and its offset) until the closing `]` or
/// an error, and returns where it stopped.
fn array_each<'a>(data: &'a [u8], cb: &mut dyn FnMut(&'a [u8], ValueType, usize)) -> usize {
    let Some(start) = next_token(data) else {
        return 0;
    };
    let mut off = start + 1;
    let Some(t) = next_token(data.get(off..).unwrap_or_default()) else {
        return off;
    };
    off += t;
    if data[off] == b']' {
        return off;
    }
    loop {
        let Ok((v, ty, end)) = get_value(&data[off..]) else {
            return off;
        };
        if end == 0 {
            break;
        }
        cb(v, ty, off + end - v.len());
        off += end;
        let Some(t) = next_token(&data[off..]) else {
            return off;
        };
        off += t;
        match data[off] {
            b']' => break,
            b',' => off += 1,
            _ => return off,
        }
    }
    off
}
