//! Canonical PromQL text for a tree, in the style of Prometheus's own
//! `String()` methods: `sum by (job) (rate(x{a="b"}[5m] offset 1m))`.
//!
//! Printing then parsing gives back an equal tree. Where Prometheus's text
//! would lose something the tree keeps, the printer writes it out: matcher
//! order is kept rather than sorted, `by ()`, `ignoring ()` and `offset 0s`
//! are printed when present. Chains of binary operators print without
//! recursion along the chain; recursion follows real nesting only.

use std::fmt::{self, Display, Write};

use sightline_core::gofmt::format_g;
use sightline_core::time::DAY_MS;
use sightline_core::{METRIC_NAME, MatchOp, Matcher, is_valid_label_name};

use crate::ast::{
    AggregateExpr, At, BinaryExpr, Call, Expr, GroupSide, MatrixSelector, Subquery, VectorSelector,
};

impl Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Prometheus prints a number literal with Go's `%v`, the `'g'`
            // form: `1e+06`, `+Inf`, `NaN`.
            Expr::Number { value, .. } => f.write_str(&format_g(*value)),
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

/// Whether `s` can be written as a bare metric name.
fn is_valid_metric_name(s: &str) -> bool {
    let mut b = s.bytes();
    match b.next() {
        Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b':' => {}
        _ => return false,
    }
    b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

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
    /// Operands and operators in written order, from a work list, so that
    /// a chain of any length prints without recursion along its operators.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum Part<'a> {
            Operand(&'a Expr),
            Operator(&'a BinaryExpr),
        }
        let mut todo = vec![
            Part::Operand(&self.rhs),
            Part::Operator(self),
            Part::Operand(&self.lhs),
        ];
        while let Some(part) = todo.pop() {
            match part {
                Part::Operand(Expr::Binary(b)) => {
                    todo.push(Part::Operand(&b.rhs));
                    todo.push(Part::Operator(b));
                    todo.push(Part::Operand(&b.lhs));
                }
                Part::Operand(e) => Display::fmt(e, f)?,
                Part::Operator(b) => write_operator(f, b)?,
            }
        }
        Ok(())
    }
}

/// ` op[ bool][ on|ignoring (...)[ group_x (...)]] ` between two operands.
fn write_operator(f: &mut fmt::Formatter<'_>, b: &BinaryExpr) -> fmt::Result {
    write!(f, " {}", b.op.as_str())?;
    if b.return_bool {
        f.write_str(" bool")?;
    }
    if let Some(vm) = &b.matching
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
    f.write_char(' ')
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
        write!(f, "{}(", self.func.name())?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_char(')')
    }
}

/// A day in milliseconds, unsigned as durations are printed.
const DAY: u64 = DAY_MS as u64;

/// A duration in Prometheus's compound form: `1h30m`, `5m`, `1ms`, `0s`.
/// Years and weeks are used only when they divide the duration exactly.
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
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

pub use sightline_core::gofmt::{quote, quote_bytes};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_compound() {
        for (ms, s) in [
            (0, "0s"),
            (1, "1ms"),
            (300_000, "5m"),
            (5_400_000, "1h30m"),
            (90 * DAY, "90d"),
            (14 * DAY, "2w"),
            (365 * DAY, "1y"),
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
