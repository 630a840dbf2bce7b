//! Loki's pattern expressions: the `| pattern "<ip> - <_> ..."` parser and
//! the `|> "..."` / `!> "..."` line filters.
//!
//! A pattern is literal text and captures: `<name>` (a name matching
//! `[a-zA-Z_][a-zA-Z0-9_]*`) captures, `<_>` skips; any other `<` is
//! literal. The parser's match is anchored at the line's start: a leading
//! literal must start the line; then each capture runs to the first
//! occurrence of the literal after it, and a capture at the end (or one
//! whose literal is not found) takes the rest of the line. The line
//! filter's test is looser: it finds the literals in order anywhere, a
//! capture between literals must not be empty, and the line must end with
//! the pattern's last literal unless the pattern ends with a capture, which
//! must then be non-empty.

use super::labels::LabelsBuilder;

/// Why a pattern is invalid; the messages are Loki's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error(
        "parse error at line 1, col 1: syntax error: unexpected $end, expecting IDENTIFIER or \
         LITERAL"
    )]
    Empty,
    #[error("at least one capture is required")]
    NoCapture,
    #[error("found consecutive capture '{0}': invalid expression")]
    ConsecutiveCaptures(String),
    #[error("duplicate capture name ({0}): invalid expression")]
    DuplicateCapture(String),
    #[error("named captures are not allowed: found '<{0}>'")]
    NamedCaptureNotAllowed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Literal(String),
    /// A capture; `_` is the unnamed one.
    Capture(String),
}

impl Node {
    fn named_capture(&self) -> Option<&str> {
        match self {
            Node::Capture(name) if name != "_" => Some(name),
            _ => None,
        }
    }
}

/// A parsed pattern; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    nodes: Vec<Node>,
    names: Vec<String>,
}

impl Pattern {
    /// A pattern for `| pattern`: at least one named capture, no two
    /// captures in a row, no name twice.
    pub fn parse(pattern: &str) -> Result<Pattern, PatternError> {
        let nodes = lex(pattern)?;
        let names: Vec<String> = nodes
            .iter()
            .filter_map(Node::named_capture)
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(PatternError::NoCapture);
        }
        check_no_consecutive_captures(&nodes)?;
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(PatternError::DuplicateCapture(name.clone()));
            }
        }
        Ok(Pattern { nodes, names })
    }

    /// A pattern for the `|>` and `!>` line filters: only `<_>` captures,
    /// none in a row; the empty pattern matches empty lines only.
    pub fn parse_line_filter(pattern: &str) -> Result<Pattern, PatternError> {
        if pattern.is_empty() {
            return Ok(Pattern {
                nodes: Vec::new(),
                names: Vec::new(),
            });
        }
        let nodes = lex(pattern)?;
        check_no_consecutive_captures(&nodes)?;
        if let Some(name) = nodes.iter().find_map(Node::named_capture) {
            return Err(PatternError::NamedCaptureNotAllowed(name.to_owned()));
        }
        Ok(Pattern {
            nodes,
            names: Vec::new(),
        })
    }

    /// The parser's match: calls `f(name, value)` for each named capture
    /// the line fills, in order (captures after an unmatched literal are
    /// left out).
    pub fn for_each_capture<'a>(&self, line: &'a str, mut f: impl FnMut(&str, &'a str)) {
        if line.is_empty() {
            return;
        }
        let mut names = self.names.iter();
        let mut nodes = self.nodes.as_slice();
        let mut rest = line;
        if let Some(Node::Literal(lit)) = nodes.first() {
            let Some(r) = rest.strip_prefix(lit.as_str()) else {
                return;
            };
            rest = r;
            nodes = &nodes[1..];
        }
        while let Some(node) = nodes.first() {
            let Node::Capture(capture) = node else {
                return;
            };
            let named = capture != "_";
            let Some(Node::Literal(lit)) = nodes.get(1) else {
                // Ending on a capture: it takes the rest of the line.
                if named && let Some(name) = names.next() {
                    f(name.as_str(), rest);
                }
                return;
            };
            nodes = &nodes[2..];
            let Some(i) = rest.find(lit.as_str()) else {
                // The literal is missing: the capture takes the rest.
                if named && let Some(name) = names.next() {
                    f(name.as_str(), rest);
                }
                return;
            };
            if named && let Some(name) = names.next() {
                f(name.as_str(), &rest[..i]);
            }
            rest = &rest[i + lit.len()..];
        }
    }

    /// `| pattern`: sets the named captures as parsed labels, with the
    /// parsers' collision and first-value-wins rules.
    /// False when an early label filter drops the line.
    pub fn extract(&self, line: &str, lbs: &mut LabelsBuilder) -> bool {
        if lbs.no_labels() {
            return true;
        }
        let mut captures: Vec<(String, &str)> = Vec::new();
        self.for_each_capture(line, |name, value| captures.push((name.to_owned(), value)));
        for (name, value) in captures {
            let name = lbs.extracted_name(&name);
            if !lbs.may_extract(&name) {
                continue;
            }
            lbs.set_parsed(&name, value);
            if !lbs.should_continue(&name) {
                return false;
            }
        }
        true
    }

    /// The `|>` line filter's test (`!>` is its negation).
    pub fn matches(&self, line: &str) -> bool {
        if line.is_empty() || self.nodes.is_empty() {
            return line.is_empty() && self.nodes.is_empty();
        }
        let mut off = 0;
        for (i, node) in self.nodes.iter().enumerate() {
            let Node::Literal(lit) = node else {
                continue;
            };
            let Some(j) = line[off..].find(lit.as_str()) else {
                return false;
            };
            if i != 0 && j == 0 {
                // An empty capture before this literal.
                return false;
            }
            off += j + lit.len();
        }
        let ends_on_capture = matches!(self.nodes.last(), Some(Node::Capture(_)));
        ends_on_capture == (off != line.len())
    }
}

/// Splits a pattern into literals and captures, as Loki's lexer does: the
/// longest match of `<identifier>` wins, anything else is literal text.
fn lex(pattern: &str) -> Result<Vec<Node>, PatternError> {
    if pattern.is_empty() {
        return Err(PatternError::Empty);
    }
    let mut nodes = Vec::new();
    let mut literal = String::new();
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(len) = capture_len(rest)
        {
            if !literal.is_empty() {
                nodes.push(Node::Literal(std::mem::take(&mut literal)));
            }
            nodes.push(Node::Capture(rest[1..len - 1].to_owned()));
            rest = &rest[len..];
            continue;
        }
        literal.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !literal.is_empty() {
        nodes.push(Node::Literal(literal));
    }
    Ok(nodes)
}

/// The length of `<identifier>` at the start of `s`, if there is one.
fn capture_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'<')
        || !b
            .get(1)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return None;
    }
    let end = b[2..]
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))?
        + 2;
    (b[end] == b'>').then_some(end + 1)
}

fn check_no_consecutive_captures(nodes: &[Node]) -> Result<(), PatternError> {
    for pair in nodes.windows(2) {
        if let [Node::Capture(a), Node::Capture(b)] = pair {
            return Err(PatternError::ConsecutiveCaptures(format!("<{a}><{b}>")));
        }
    }
    Ok(())
}
