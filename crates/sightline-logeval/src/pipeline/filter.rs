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
//! This file holds the filter types, Loki's substring and equality tests
//! (with its lower-casing) and the choice between a rewrite and a regex.
//! The rewrite itself is in `simplify`; everything else is compiled as a
//! regex by `compile`, translated where Go's and Rust's syntax differ in
//! meaning.

mod compile;
mod simplify;

pub(crate) use compile::compile_go_regex;

use regex::Regex;

use super::ip::IpMatcher;
use super::pattern::Pattern;
use simplify::{GoParser, simplify};

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
