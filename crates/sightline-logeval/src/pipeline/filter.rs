//! Line filters and the matching of string label filters, as Loki builds
//! them.
//!
//! Loki does not always run a regular expression as one: it parses it (Go
//! `regexp/syntax`), and when the tree is made of literals, `.*`,
//! alternations and groups, replaces it with substring tests (`foo.*|bar`
//! becomes "contains `foo` or contains `bar`"). Most of these rewrites
//! give the regex's own answer, but not all, and Sightline must give
//! Loki's:
//! - `.+` becomes "the text is not empty", which also holds for a line of
//!   newlines only;
//! - `(?i)` literals compare with Loki's own lower-casing, not the regex
//!   engine's case folding;
//! - for label filters, a literal becomes an equality test and `.*` always
//!   matches, but a concatenation (`api.*`, `.*api`) becomes an
//!   *unanchored* substring test: `| app=~"api.*"` keeps `app="my-api"`.
//!
//! So this module re-parses the Go syntax far enough to recognise exactly
//! the shapes Loki rewrites (mirroring the alternation factoring of Go's
//! parser that decides them), and compiles everything else as a regex,
//! translated where Go's and Rust's syntax differ in meaning (`\d`, `\w`,
//! `\s` and `\b` are ASCII in Go).

use regex::{Regex, RegexBuilder};

use super::ip::IpMatcher;
use super::pattern::Pattern;

/// Bound on a compiled regex, so a hostile pattern cannot take the
/// process's memory.
const REGEX_SIZE_LIMIT: usize = 1 << 22;

/// A compiled line (or label value) test.
#[derive(Debug)]
pub(crate) enum Filter {
    True,
    /// `.+`: any non-empty text.
    Exists,
    Contains {
        needle: String,
        fold: bool,
    },
    Equal {
        needle: String,
        fold: bool,
    },
    Regex(Regex),
    Pattern(Pattern),
    Ip(IpMatcher),
    Not(Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
}

impl Filter {
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Filter::True => true,
            Filter::Exists => !text.is_empty(),
            Filter::Contains { needle, fold } => contains(text, needle, *fold),
            Filter::Equal { needle, fold } => {
                needle.len() == text.len() && contains(text, needle, *fold)
            }
            Filter::Regex(re) => re.is_match(text),
            Filter::Pattern(p) => p.matches(text),
            Filter::Ip(ip) => ip.find_in_line(text),
            Filter::Not(f) => !f.matches(text),
            Filter::Or(a, b) => a.matches(text) || b.matches(text),
            Filter::And(a, b) => a.matches(text) && b.matches(text),
        }
    }

    /// Loki's `NewNotFilter`: `not(a or b)` is `not a and not b`.
    pub fn not(self) -> Filter {
        match self {
            Filter::Or(a, b) => Filter::And(Box::new(a.not()), Box::new(b.not())),
            f => Filter::Not(Box::new(f)),
        }
    }

    /// Loki's `newOrFilter`: an always-true side makes the other side the
    /// result (sic: `true or x` is `x`, as in Loki).
    pub fn or(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::True, o) => o,
            (s, Filter::True) => s,
            (s, o) => Filter::Or(Box::new(s), Box::new(o)),
        }
    }
}

/// Loki's `newContainsFilter`: an empty needle always matches; a folded
/// needle is lower-cased once.
pub(crate) fn contains_filter(needle: &str, fold: bool) -> Filter {
    if needle.is_empty() {
        return Filter::True;
    }
    Filter::Contains {
        needle: if fold {
            go_to_lower(needle)
        } else {
            needle.to_owned()
        },
        fold,
    }
}

fn equal_filter(needle: &str, fold: bool) -> Filter {
    Filter::Equal {
        needle: if fold {
            go_to_lower(needle)
        } else {
            needle.to_owned()
        },
        fold,
    }
}

/// Go's `bytes.ToLower`: each character's simple lower case.
fn go_to_lower(s: &str) -> String {
    s.chars().map(simple_lower).collect()
}

fn simple_lower(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn contains(text: &str, needle: &str, fold: bool) -> bool {
    if !fold {
        return text.contains(needle);
    }
    contains_lower(text, needle)
}

/// Loki's `containsLower`: `needle` is already lower case; ASCII letters
/// of the text are lowered byte by byte, other characters by their simple
/// lower case.
fn contains_lower(text: &str, needle: &str) -> bool {
    let (line, sub) = (text.as_bytes(), needle.as_bytes());
    if sub.is_empty() {
        return true;
    }
    if sub.len() > line.len() {
        return false;
    }
    let first = sub[0];
    let max = line.len() - sub.len();
    let mut i = 0;
    while i <= max {
        if line[i].to_ascii_lowercase() != first {
            i += 1;
            continue;
        }
        let (mut lp, mut sp) = (i, 0);
        let mut matched = true;
        while lp < line.len() && sp < sub.len() {
            let (c, s) = (line[lp], sub[sp]);
            if c < 0x80 && s < 0x80 {
                if c.to_ascii_lowercase() != s {
                    matched = false;
                    break;
                }
                lp += 1;
                sp += 1;
                continue;
            }
            let (Some(lr), Some(sr)) = (char_at(line, lp), char_at(sub, sp)) else {
                // Comparing from inside a character: as raw bytes.
                if c.to_ascii_lowercase() != s {
                    matched = false;
                    break;
                }
                lp += 1;
                sp += 1;
                continue;
            };
            if simple_lower(lr) != sr {
                matched = false;
                break;
            }
            lp += lr.len_utf8();
            sp += sr.len_utf8();
        }
        if matched && sp == sub.len() {
            return true;
        }
        i += 1;
    }
    false
}

/// The character starting at byte `i`, if one starts there.
fn char_at(b: &[u8], i: usize) -> Option<char> {
    let end = (i + 4).min(b.len());
    (i + 1..=end).find_map(|j| {
        std::str::from_utf8(&b[i..j])
            .ok()
            .and_then(|s| s.chars().next())
    })
}

/// Loki's `parseRegexpFilter`: the rewritten filter when the expression has
/// a rewritable shape, else the regex (anchored for labels).
pub(crate) fn regex_filter(re: &str, is_label: bool) -> Result<Filter, String> {
    // Validate first, so a bad expression is refused even if it would have
    // looked rewritable to the small parser below.
    let compiled = compile_go_regex(re)?;
    if let Some(f) = GoParser::parse(re).and_then(|n| simplify(&n, is_label)) {
        return Ok(f);
    }
    let compiled = if is_label {
        compile_go_regex(&format!("^(?:{re})$"))?
    } else {
        compiled
    };
    Ok(Filter::Regex(compiled))
}

/// Compiles a Go regular expression with Go's meaning: the Perl classes
/// and word boundaries are ASCII. Errors start `error parsing regexp:` as
/// Go's do.
pub(crate) fn compile_go_regex(re: &str) -> Result<Regex, String> {
    if let Some(ops) = nested_repetition(re) {
        return Err(format!(
            "error parsing regexp: invalid nested repetition operator: `{ops}`"
        ));
    }
    let translated = translate(re);
    RegexBuilder::new(&translated)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| go_regex_error(re, &e))
}

/// A regex error in Go's shape as far as it can be told from Rust's.
fn go_regex_error(re: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let kind = if text.contains("unclosed group") {
        format!("missing closing ): `{re}`")
    } else if text.contains("unopened group") {
        format!("unexpected ): `{re}`")
    } else if text.contains("unclosed character class") {
        let at = re.rfind('[').map_or(re, |i| &re[i..]);
        format!("missing closing ]: `{at}`")
    } else if text.contains("repetition operator missing expression") {
        let op = re
            .chars()
            .find(|c| matches!(c, '*' | '+' | '?'))
            .unwrap_or('*');
        format!("missing argument to repetition operator: `{op}`")
    } else if text.contains("exceeds size limit") {
        "expression too large".to_owned()
    } else if text.contains("invalid capture group") || text.contains("empty capture group name") {
        format!("invalid named capture: `{re}`")
    } else if text.contains("incomplete escape") {
        "trailing backslash at end of expression: ``".to_owned()
    } else if text.contains("unrecognized escape") {
        format!("invalid escape sequence: `{re}`")
    } else {
        format!("invalid or unsupported Perl syntax: `{re}`")
    };
    format!("error parsing regexp: {kind}")
}

/// A repetition operator applied to a repetition (`a**`, `a+*`), which Go
/// refuses and Rust accepts: the two operators.
fn nested_repetition(re: &str) -> Option<String> {
    let b: Vec<char> = re.chars().collect();
    let (mut i, mut in_class, mut prev_rep): (usize, bool, Option<String>) = (0, false, None);
    while i < b.len() {
        let c = b[i];
        if c == '\\' {
            i += 2;
            prev_rep = None;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                prev_rep = None;
            }
            '*' | '+' | '?' => {
                let mut op = c.to_string();
                if b.get(i + 1) == Some(&'?') {
                    op.push('?');
                    i += 1;
                }
                if let Some(p) = &prev_rep {
                    return Some(format!("{p}{op}"));
                }
                prev_rep = Some(op);
            }
            _ => prev_rep = None,
        }
        i += 1;
    }
    None
}

/// Rewrites the Perl classes and word boundaries to their ASCII meaning.
fn translate(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 8);
    let mut chars = re.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        if c == '\\' {
            let Some(n) = chars.next() else {
                out.push('\\');
                break;
            };
            let (outside, inside) = match n {
                'd' => ("[0-9]", "0-9"),
                'D' => ("[^0-9]", ""),
                's' => ("[\\t\\n\\f\\r ]", "\\t\\n\\f\\r "),
                'S' => ("[^\\t\\n\\f\\r ]", ""),
                'w' => ("[0-9A-Za-z_]", "0-9A-Za-z_"),
                'W' => ("[^0-9A-Za-z_]", ""),
                'b' if !in_class => ("(?-u:\\b)", ""),
                'B' if !in_class => ("(?-u:\\B)", ""),
                _ => ("", ""),
            };
            let rep = if in_class { inside } else { outside };
            if rep.is_empty() {
                out.push('\\');
                out.push(n);
            } else {
                out.push_str(rep);
            }
            class_start = false;
            continue;
        }
        if in_class {
            if c == '[' && chars.peek() == Some(&':') {
                // `[:alpha:]`: copy through its closing `:]`.
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == ']' {
                        break;
                    }
                }
                class_start = false;
                continue;
            }
            if c == ']' && !class_start {
                in_class = false;
            }
            if c == '[' {
                // A literal `[` inside a class, which Rust would read as a
                // nested class.
                out.push_str("\\[");
                class_start = false;
                continue;
            }
            class_start = class_start && c == '^';
            out.push(c);
            continue;
        }
        if c == '[' {
            in_class = true;
            class_start = true;
            out.push(c);
            if chars.peek() == Some(&'^') {
                out.push('^');
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The part of Go's regexp syntax tree the rewrites look at.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    EmptyMatch,
    /// Characters, and whether they are case-folded (folded characters are
    /// kept in Go's canonical form, the smallest of their case orbit).
    Literal(Vec<char>, bool),
    AnyCharNotNl,
    /// Anything the rewrites give up on (classes, anchors, `(?s).`, ...).
    Other,
    Star(Box<Node>),
    Plus(Box<Node>),
    Quest(Box<Node>),
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
}

/// A recursive-descent reader of Go's syntax for the rewritable subset.
/// Returns `None` on anything it does not model exactly, which sends the
/// expression to the regex engine (always correct, only slower) — except
/// that for shapes Loki rewrites, giving up would change the answer, so
/// every such shape is modelled.
struct GoParser<'a> {
    s: &'a [char],
    i: usize,
    fold: bool,
    dot_nl: bool,
}

impl GoParser<'_> {
    fn parse(re: &str) -> Option<Node> {
        let chars: Vec<char> = re.chars().collect();
        let mut p = GoParser {
            s: &chars,
            i: 0,
            fold: false,
            dot_nl: false,
        };
        let n = p.alternation()?;
        (p.i == chars.len()).then_some(n)
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn alternation(&mut self) -> Option<Node> {
        let mut alts = vec![self.concat()?];
        while self.peek() == Some('|') {
            self.i += 1;
            alts.push(self.concat()?);
        }
        Some(if alts.len() == 1 {
            alts.pop()?
        } else {
            factor_alternation(alts)
        })
    }

    fn concat(&mut self) -> Option<Node> {
        let saved = (self.fold, self.dot_nl);
        let mut items: Vec<Node> = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            if let Some(node) = self.piece()? {
                push_concat(&mut items, node);
            }
        }
        // Flags set with `(?i)` last to the end of the group.
        let _ = saved;
        Some(match items.len() {
            0 => Node::EmptyMatch,
            1 => items.pop()?,
            _ => Node::Concat(items),
        })
    }

    /// One atom and its repetition; `Ok(None)`-like `Some(None)` for a flag
    /// group that produces nothing.
    fn piece(&mut self) -> Option<Option<Node>> {
        let atom = match self.atom()? {
            Some(a) => a,
            None => return Some(None),
        };
        let mut node = atom;
        loop {
            match self.peek() {
                Some(op @ ('*' | '+' | '?')) => {
                    self.i += 1;
                    if self.peek() == Some('?') {
                        self.i += 1;
                    }
                    if matches!(node, Node::Star(_) | Node::Plus(_) | Node::Quest(_)) {
                        // Go refuses `a**`; the regex engine will report it.
                        return None;
                    }
                    node = match op {
                        '*' => Node::Star(Box::new(node)),
                        '+' => Node::Plus(Box::new(node)),
                        _ => Node::Quest(Box::new(node)),
                    };
                }
                Some('{') if self.is_repeat() => return None,
                _ => break,
            }
        }
        Some(Some(node))
    }

    /// Whether a `{` here starts a repetition (`{n}`, `{n,}`, `{n,m}`).
    fn is_repeat(&self) -> bool {
        let rest: String = self.s[self.i..].iter().take(24).collect();
        let Some(end) = rest.find('}') else {
            return false;
        };
        let inner = &rest[1..end];
        let (a, b) = inner.split_once(',').unwrap_or((inner, "0"));
        !a.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    }

    fn lit(&self, c: char) -> Node {
        if self.fold {
            Node::Literal(vec![min_fold(c)], has_fold(c) || self.fold)
        } else {
            Node::Literal(vec![c], false)
        }
    }

    fn atom(&mut self) -> Option<Option<Node>> {
        let c = self.peek()?;
        self.i += 1;
        Some(Some(match c {
            '.' => {
                if self.dot_nl {
                    Node::Other
                } else {
                    Node::AnyCharNotNl
                }
            }
            '^' | '$' | '[' => return None,
            '\\' => {
                let n = self.peek()?;
                self.i += 1;
                match n {
                    'n' => self.lit('\n'),
                    't' => self.lit('\t'),
                    'r' => self.lit('\r'),
                    'f' => self.lit('\u{c}'),
                    'v' => self.lit('\u{b}'),
                    'a' => self.lit('\u{7}'),
                    c if c.is_ascii_punctuation() => self.lit(c),
                    _ => return None,
                }
            }
            '(' => return self.group(),
            '{' => self.lit('{'),
            c => self.lit(c),
        }))
    }

    fn group(&mut self) -> Option<Option<Node>> {
        if self.peek() == Some('?') {
            self.i += 1;
            match self.peek()? {
                'P' | '<' => {
                    if self.peek() == Some('P') {
                        self.i += 1;
                    }
                    if self.peek() != Some('<') {
                        return None;
                    }
                    while self.peek()? != '>' {
                        self.i += 1;
                    }
                    self.i += 1;
                    return self.group_body();
                }
                _ => {
                    // Flags: `(?i)`, `(?-i)`, `(?i:...)`, `(?:...)`.
                    let (mut fold, mut dot_nl) = (self.fold, self.dot_nl);
                    let mut neg = false;
                    loop {
                        match self.peek()? {
                            'i' => fold = !neg,
                            's' => dot_nl = !neg,
                            'm' | 'U' => return None,
                            '-' => neg = true,
                            ':' => {
                                self.i += 1;
                                let saved = (self.fold, self.dot_nl);
                                (self.fold, self.dot_nl) = (fold, dot_nl);
                                let body = self.group_body();
                                (self.fold, self.dot_nl) = saved;
                                return body;
                            }
                            ')' => {
                                self.i += 1;
                                (self.fold, self.dot_nl) = (fold, dot_nl);
                                return Some(None);
                            }
                            _ => return None,
                        }
                        self.i += 1;
                    }
                }
            }
        }
        self.group_body()
    }

    /// The inside of a group up to its `)`; captures are dropped, as Loki
    /// clears them before rewriting.
    fn group_body(&mut self) -> Option<Option<Node>> {
        let saved = (self.fold, self.dot_nl);
        let inner = self.alternation()?;
        (self.fold, self.dot_nl) = saved;
        if self.peek() != Some(')') {
            return None;
        }
        self.i += 1;
        Some(Some(inner))
    }
}

/// Whether a character has other cases (so `(?i)` changes it).
fn has_fold(c: char) -> bool {
    simple_lower(c) != c || c.to_uppercase().next() != Some(c)
}

/// Go's `minFoldRune`: the smallest character of the case orbit.
fn min_fold(c: char) -> char {
    let upper = {
        let mut u = c.to_uppercase();
        match (u.next(), u.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    };
    let lower = simple_lower(c);
    let mut m = c.min(upper).min(lower);
    // The two orbits with a third member below the others' cases.
    if matches!(c, 'k' | 'K' | '\u{212A}') {
        m = 'K';
    }
    if matches!(c, 's' | 'S' | '\u{17F}') {
        m = 'S';
    }
    m
}

/// Adds a piece to a concatenation, merging literals of equal folding as
/// Go's parser does.
fn push_concat(items: &mut Vec<Node>, node: Node) {
    match node {
        Node::Concat(sub) => {
            for n in sub {
                push_concat(items, n);
            }
        }
        Node::Literal(chars, fold) => {
            if let Some(Node::Literal(prev, pf)) = items.last_mut()
                && *pf == fold
            {
                prev.extend(chars);
                return;
            }
            items.push(Node::Literal(chars, fold));
        }
        n => items.push(n),
    }
}

/// The literal a branch starts with, and its folding.
fn leading_string(n: &Node) -> Option<(&[char], bool)> {
    match n {
        Node::Literal(c, f) => Some((c, *f)),
        Node::Concat(sub) => match sub.first() {
            Some(Node::Literal(c, f)) => Some((c, *f)),
            _ => None,
        },
        _ => None,
    }
}

/// The branch without its first `k` literal characters.
fn remove_leading(n: Node, k: usize) -> Node {
    match n {
        Node::Literal(c, f) => {
            if c.len() == k {
                Node::EmptyMatch
            } else {
                Node::Literal(c[k..].to_vec(), f)
            }
        }
        Node::Concat(mut sub) => {
            if let Some(Node::Literal(c, f)) = sub.first().cloned() {
                if c.len() == k {
                    sub.remove(0);
                } else {
                    sub[0] = Node::Literal(c[k..].to_vec(), f);
                }
            }
            match sub.len() {
                0 => Node::EmptyMatch,
                1 => sub.pop().unwrap_or(Node::EmptyMatch),
                _ => Node::Concat(sub),
            }
        }
        n => n,
    }
}

/// Go's alternation factoring (`parser.factor`), the rounds that decide
/// Loki's rewrites: common literal prefixes are factored out (`foo|foobar`
/// is `foo(?:|bar)`), and runs of single characters become a character
/// class (which nothing rewrites).
fn factor_alternation(alts: Vec<Node>) -> Node {
    // Flatten nested alternations first (`a|(b|c)` is one alternation).
    let mut flat = Vec::new();
    for a in alts {
        match a {
            Node::Alternate(sub) => flat.extend(sub),
            n => flat.push(n),
        }
    }
    // Round 1: common literal prefixes, over runs of adjacent branches.
    let mut out: Vec<Node> = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        let Some((first, fold)) = leading_string(&flat[i]).map(|(c, f)| (c.to_vec(), f)) else {
            out.push(flat[i].clone());
            i += 1;
            continue;
        };
        let mut prefix = first;
        let mut j = i + 1;
        while j < flat.len() {
            let Some((next, nf)) = leading_string(&flat[j]) else {
                break;
            };
            if nf != fold {
                break;
            }
            let common = prefix.iter().zip(next).take_while(|(a, b)| a == b).count();
            if common == 0 {
                break;
            }
            prefix.truncate(common);
            j += 1;
        }
        if j - i == 1 {
            out.push(flat[i].clone());
        } else {
            let k = prefix.len();
            let suffixes: Vec<Node> = flat[i..j]
                .iter()
                .cloned()
                .map(|n| remove_leading(n, k))
                .collect();
            let rest = factor_alternation(suffixes);
            let mut items = vec![Node::Literal(prefix, fold)];
            push_concat(&mut items, rest);
            out.push(Node::Concat(items));
        }
        i = j;
    }
    // Round 3: runs of single characters (or `.`) become a class.
    let is_char =
        |n: &Node| matches!(n, Node::Literal(c, _) if c.len() == 1) || *n == Node::AnyCharNotNl;
    let mut merged: Vec<Node> = Vec::new();
    let mut i = 0;
    while i < out.len() {
        let mut j = i;
        while j < out.len() && is_char(&out[j]) {
            j += 1;
        }
        if j - i >= 2 {
            merged.push(Node::Other);
            i = j;
        } else {
            merged.push(out[i].clone());
            i += 1;
        }
    }
    // Round 4: runs of empty branches collapse into one.
    merged.dedup_by(|a, b| *a == Node::EmptyMatch && *b == Node::EmptyMatch);
    if merged.len() == 1 {
        merged.pop().unwrap_or(Node::EmptyMatch)
    } else {
        Node::Alternate(merged)
    }
}

fn lit_string(c: &[char]) -> String {
    c.iter().collect()
}

/// Loki's `RegexSimplifier.Simplify`.
fn simplify(n: &Node, is_label: bool) -> Option<Filter> {
    match n {
        Node::Alternate(sub) => {
            let mut f = simplify(sub.first()?, is_label)?;
            for s in &sub[1..] {
                f = f.or(simplify(s, is_label)?);
            }
            Some(f)
        }
        Node::Concat(sub) => simplify_concat(sub, Vec::new()),
        Node::Literal(c, fold) => Some(if is_label {
            equal_filter(&lit_string(c), *fold)
        } else {
            contains_filter(&lit_string(c), *fold)
        }),
        Node::Star(s) if **s == Node::AnyCharNotNl => Some(Filter::True),
        Node::Plus(s) if **s == Node::AnyCharNotNl => Some(Filter::Exists),
        Node::EmptyMatch => Some(Filter::True),
        _ => None,
    }
}

/// Loki's `simplifyConcat`: at most three pieces, one literal, `.*`
/// around it, or a literal followed by alternatives.
fn simplify_concat(sub: &[Node], mut base: Vec<char>) -> Option<Filter> {
    let sub: Vec<&Node> = sub.iter().filter(|n| **n != Node::EmptyMatch).collect();
    if sub.len() > 3 {
        return None;
    }
    let mut curr: Option<Filter> = None;
    let mut literals = 0;
    let mut base_fold = false;
    let mut have_base = !base.is_empty();
    for s in sub {
        match s {
            Node::Literal(c, fold) => {
                if literals != 0 {
                    return None;
                }
                literals += 1;
                base.extend(c);
                base_fold = *fold;
                have_base = true;
            }
            Node::Alternate(alts) if have_base => {
                curr = Some(simplify_concat_alternate(alts, &base, curr, base_fold)?);
            }
            Node::Star(x) if **x == Node::AnyCharNotNl => {}
            _ => return None,
        }
    }
    if curr.is_some() {
        return curr;
    }
    if have_base {
        return Some(contains_filter(&lit_string(&base), base_fold));
    }
    None
}

fn chain_or(curr: Option<Filter>, f: Filter) -> Filter {
    match curr {
        None => f,
        Some(c) => c.or(f),
    }
}

/// Loki's `simplifyConcatAlternate`.
fn simplify_concat_alternate(
    alts: &[Node],
    literal: &[char],
    mut curr: Option<Filter>,
    base_fold: bool,
) -> Option<Filter> {
    for alt in alts {
        let alt_fold = matches!(alt, Node::Literal(_, true));
        if !base_fold && alt_fold {
            return None;
        }
        let f = match alt {
            Node::EmptyMatch => contains_filter(&lit_string(literal), base_fold),
            Node::Literal(c, _) => {
                let mut s = literal.to_vec();
                s.extend(c);
                contains_filter(&lit_string(&s), base_fold)
            }
            Node::Concat(sub) => simplify_concat(sub, literal.to_vec())?,
            Node::Star(x) if **x == Node::AnyCharNotNl => {
                contains_filter(&lit_string(literal), base_fold)
            }
            _ => return None,
        };
        curr = Some(chain_or(curr, f));
    }
    curr
}

/// A line filter value of one of the three filter kinds.
pub(crate) fn line_filter_value(
    op: sightline_logql::ast::LineFilterOp,
    value: &str,
) -> Result<Filter, String> {
    use sightline_logql::ast::LineFilterOp as Op;
    Ok(match op {
        Op::Contains => contains_filter(value, false),
        Op::NotContains => contains_filter(value, false).not(),
        Op::Match => regex_filter(value, false)?,
        Op::NotMatch => regex_filter(value, false)?.not(),
        Op::Pattern => {
            Filter::Pattern(Pattern::parse_line_filter(value).map_err(|e| e.to_string())?)
        }
        Op::NotPattern => {
            Filter::Pattern(Pattern::parse_line_filter(value).map_err(|e| e.to_string())?).not()
        }
    })
}

#[cfg(test)]
mod tests;
