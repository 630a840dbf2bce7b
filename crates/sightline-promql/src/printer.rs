//! Canonical PromQL text for a tree, in the style of Prometheus's own
//! `String()` methods: `sum by (job) (rate(x{a="b"}[5m] offset 1m))`.
//!
//! Printing then parsing gives back an equal tree. Where Prometheus's text
//! would lose something the tree keeps, the printer writes it out: matcher
//! order is kept rather than sorted, `by ()`, `ignoring ()` and `offset 0s`
//! are printed when present.

use std::fmt::{self, Display, Write};

use sightline_core::{METRIC_NAME, MatchOp, Matcher, is_valid_label_name};

use crate::ast::{
    AggregateExpr, At, BinaryExpr, Call, Expr, GroupSide, MatrixSelector, Subquery, VectorSelector,
};
use crate::parser::is_valid_metric_name;

impl Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number { value, .. } => f.write_str(&format_float(*value)),
            Expr::String { value, .. } => f.write_str(&quote(value)),
            Expr::Vector(v) => v.fmt(f),
            Expr::Matrix(m) => m.fmt(f),
            Expr::Subquery(s) => s.fmt(f),
            Expr::Paren { expr, .. } => write!(f, "({expr})"),
            Expr::Unary { op, expr, .. } => {
                let sign = match op {
                    crate::ast::UnaryOp::Neg => "-",
                    crate::ast::UnaryOp::Pos => "+",
                };
                write!(f, "{sign}{expr}")
            }
            Expr::Binary(b) => b.fmt(f),
            Expr::Aggregate(a) => a.fmt(f),
            Expr::Call(c) => c.fmt(f),
        }
    }
}

/// Names that would read as something else where a metric name is
/// expected; such names are printed in the quoted form `{"bool"}`.
const AMBIGUOUS_NAMES: &[&str] = &[
    "inf",
    "nan",
    "bool",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "anchored",
    "smoothed",
    "fill",
    "fill_left",
    "fill_right",
];

fn needs_quoting(name: &str) -> bool {
    !is_valid_metric_name(name) || AMBIGUOUS_NAMES.contains(&name.to_ascii_lowercase().as_str())
}

/// Writes the selector's name and matchers, without modifiers.
fn write_selector(f: &mut fmt::Formatter<'_>, v: &VectorSelector) -> fmt::Result {
    let is_name_matcher = |m: &Matcher| {
        m.name == METRIC_NAME && m.op == MatchOp::Equal && Some(&m.value) == v.name.as_ref()
    };
    let mut skipped = false;
    let mut parts: Vec<String> = Vec::with_capacity(v.matchers.len() + 1);
    match &v.name {
        Some(n) if needs_quoting(n) => parts.push(quote(n)),
        Some(n) => f.write_str(n)?,
        None => {}
    }
    for m in &v.matchers {
        if !skipped && is_name_matcher(m) {
            skipped = true;
            continue;
        }
        parts.push(format_matcher(m));
    }
    if !parts.is_empty() || v.name.is_none() {
        write!(f, "{{{}}}", parts.join(","))?;
    }
    Ok(())
}

fn format_matcher(m: &Matcher) -> String {
    format!(
        "{}{}{}",
        format_label(&m.name),
        m.op.as_str(),
        quote(&m.value)
    )
}

fn format_label(l: &str) -> String {
    if is_valid_label_name(l) {
        l.to_string()
    } else {
        quote(l)
    }
}

fn format_labels(ls: &[String]) -> String {
    ls.iter()
        .map(|l| format_label(l))
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_modifiers(f: &mut fmt::Formatter<'_>, at: Option<At>, offset: Option<i64>) -> fmt::Result {
    match at {
        Some(At::Timestamp(ms)) => {
            let sign = if ms < 0 { "-" } else { "" };
            let abs = ms.unsigned_abs();
            write!(f, " @ {sign}{}.{:03}", abs / 1000, abs % 1000)?;
        }
        Some(At::Start) => f.write_str(" @ start()")?,
        Some(At::End) => f.write_str(" @ end()")?,
        None => {}
    }
    match offset {
        Some(ms) if ms < 0 => write!(f, " offset -{}", format_duration(ms.unsigned_abs())),
        Some(ms) => write!(f, " offset {}", format_duration(ms.unsigned_abs())),
        None => Ok(()),
    }
}

impl Display for VectorSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_selector(f, self)?;
        write_modifiers(f, self.at, self.offset)
    }
}

impl Display for MatrixSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_selector(f, &self.vector)?;
        write!(f, "[{}]", format_duration(self.range.unsigned_abs()))?;
        write_modifiers(f, self.vector.at, self.vector.offset)
    }
}

impl Display for Subquery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = self
            .step
            .map(|s| format_duration(s.unsigned_abs()))
            .unwrap_or_default();
        write!(
            f,
            "{}[{}:{}]",
            self.expr,
            format_duration(self.range.unsigned_abs()),
            step
        )?;
        write_modifiers(f, self.at, self.offset)
    }
}

impl Display for BinaryExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.lhs, self.op.as_str())?;
        if self.return_bool {
            f.write_str(" bool")?;
        }
        if let Some(vm) = &self.matching
            && (vm.explicit || vm.on || !vm.labels.is_empty() || vm.group.is_some())
        {
            let kw = if vm.on { "on" } else { "ignoring" };
            write!(f, " {kw} ({})", format_labels(&vm.labels))?;
            if let Some(g) = &vm.group {
                let side = match g.side {
                    GroupSide::Left => "left",
                    GroupSide::Right => "right",
                };
                write!(f, " group_{side} ({})", format_labels(&g.include))?;
            }
        }
        write!(f, " {}", self.rhs)
    }
}

impl Display for AggregateExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.as_str())?;
        if let Some(g) = &self.grouping {
            let kw = if g.without { "without" } else { "by" };
            write!(f, " {kw} ({}) ", format_labels(&g.labels))?;
        }
        f.write_char('(')?;
        if let Some(p) = &self.param {
            write!(f, "{p}, ")?;
        }
        write!(f, "{})", self.expr)
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.func)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_char(')')
    }
}

/// A duration in Prometheus's compound form: `1h30m`, `5m`, `1ms`, `0s`.
/// Years and weeks are used only when they divide the duration exactly.
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    const DAY: u64 = 86_400_000;
    let mut rest = ms;
    let mut out = String::new();
    for (unit, mult, exact) in [
        ("y", 365 * DAY, true),
        ("w", 7 * DAY, true),
        ("d", DAY, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1_000, false),
        ("ms", 1, false),
    ] {
        if exact && !rest.is_multiple_of(mult) {
            continue;
        }
        let n = rest / mult;
        if n > 0 {
            let _ = write!(out, "{n}{unit}");
            rest -= n * mult;
        }
    }
    out
}

/// A float as Go's `%v` prints it: shortest round-trip digits, exponent
/// form below 1e-4 and from 1e6 on (`1e+06`), `+Inf`, `-Inf`, `NaN`.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // `{:e}` gives the shortest digits that round-trip, e.g. `-1.25e-7`.
    let e = format!("{v:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((e.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.unsigned_abs());
    }
    let n = digits.len() as i32;
    let body = if exp < 0 {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    } else if exp + 1 >= n {
        format!("{digits}{}", "0".repeat((exp + 1 - n) as usize))
    } else {
        let (int, frac) = digits.split_at((exp + 1) as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

/// A double-quoted string with Go-style escapes, as `strconv.Quote` writes
/// it.
pub fn quote(s: &str) -> String {
    quote_bytes(s.as_bytes())
}

/// Like [`quote`], for bytes that may not be valid UTF-8; invalid bytes
/// are written as `\xNN`.
pub fn quote_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if is_printable(c) => out.push(c),
                c if (c as u32) < 0x80 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if (c as u32) < 0x10000 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint`: graphic characters and the
/// ASCII space.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{feff}'
            | '\u{e000}'..='\u{f8ff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go() {
        for (v, s) in [
            (1.0, "1"),
            (-2.5, "-2.5"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (123456789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ] {
            assert_eq!(format_float(v), s, "{v}");
        }
    }

    #[test]
    fn durations_print_compound() {
        for (ms, s) in [
            (0, "0s"),
            (1, "1ms"),
            (300_000, "5m"),
            (5_400_000, "1h30m"),
            (90 * 86_400_000, "90d"),
            (14 * 86_400_000, "2w"),
            (365 * 86_400_000, "1y"),
            (61_001, "1m1s1ms"),
        ] {
            assert_eq!(format_duration(ms), s);
        }
    }

    #[test]
    fn quoting_is_go_style() {
        assert_eq!(quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(quote("é\u{0}"), "\"é\\x00\"");
        assert_eq!(quote_bytes(b"a\xc5z"), r#""a\xc5z""#);
    }
}
