//! Canonical LogQL text. Parsing what is printed gives an equal tree.

use std::fmt::{self, Display, Formatter, Write};

use sightline_core::Matcher;
use sightline_core::gofmt::format_f;
use sightline_promql::{format_duration, quote};

use crate::ast::*;

/// A duration in nanoseconds as a literal both of Loki's duration readers
/// take back.
pub fn format_duration_ns(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    if abs.is_multiple_of(1_000_000) {
        format!("{sign}{}", format_duration(abs / 1_000_000))
    } else {
        format!("{sign}{abs}ns")
    }
}

fn matcher(f: &mut Formatter<'_>, m: &Matcher) -> fmt::Result {
    write!(f, "{}{}{}", m.name, m.op.as_str(), quote(&m.value))
}

fn list<T>(
    f: &mut Formatter<'_>,
    items: &[T],
    mut each: impl FnMut(&mut Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        each(f, it)?;
    }
    Ok(())
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Log(l) => l.fmt(f),
            Expr::Metric(m) => m.fmt(f),
        }
    }
}

impl Display for LogExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('{')?;
        list(f, &self.matchers, matcher)?;
        f.write_char('}')?;
        for s in &self.stages {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}

fn extractions(f: &mut Formatter<'_>, params: &[Extraction]) -> fmt::Result {
    if !params.is_empty() {
        f.write_char(' ')?;
        list(f, params, |f, e| write!(f, "{}={}", e.name, quote(&e.expr)))?;
    }
    Ok(())
}

fn named(f: &mut Formatter<'_>, items: &[NamedMatcher]) -> fmt::Result {
    list(f, items, |f, n| match n {
        NamedMatcher::Name(s) => f.write_str(s),
        NamedMatcher::Matcher(m) => matcher(f, m),
    })
}

impl Display for FilterValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            FilterValue::Str(s) => f.write_str(&quote(s)),
            FilterValue::Ip(s) => write!(f, "ip({})", quote(s)),
        }
    }
}

impl Display for Stage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stage::LineFilter(l) => {
                f.write_str(l.op.as_str())?;
                for (i, v) in l.values.iter().enumerate() {
                    let sep = if i == 0 { " " } else { " or " };
                    write!(f, "{sep}{v}")?;
                }
                Ok(())
            }
            Stage::Json(p) => {
                f.write_str("| json")?;
                extractions(f, p)
            }
            Stage::Logfmt {
                strict,
                keep_empty,
                params,
            } => {
                f.write_str("| logfmt")?;
                if *strict {
                    f.write_str(" --strict")?;
                }
                if *keep_empty {
                    f.write_str(" --keep-empty")?;
                }
                extractions(f, params)
            }
            Stage::Regexp(s) => write!(f, "| regexp {}", quote(s)),
            Stage::Pattern(s) => write!(f, "| pattern {}", quote(s)),
            Stage::Unpack => f.write_str("| unpack"),
            Stage::LabelFilter(l) => write!(f, "| {l}"),
            Stage::LineFormat(s) => write!(f, "| line_format {}", quote(s)),
            Stage::LabelFormat(items) => {
                f.write_str("| label_format ")?;
                list(f, items, |f, l| match l {
                    LabelFmt::Rename { dst, src } => write!(f, "{dst}={src}"),
                    LabelFmt::Template { dst, template } => write!(f, "{dst}={}", quote(template)),
                })
            }
            Stage::Decolorize => f.write_str("| decolorize"),
            Stage::Drop(items) => {
                f.write_str("| drop ")?;
                named(f, items)
            }
            Stage::Keep(items) => {
                f.write_str("| keep ")?;
                named(f, items)
            }
        }
    }
}

impl Display for LabelFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            LabelFilter::Matcher(m) => matcher(f, m),
            LabelFilter::Ip {
                name,
                negated,
                pattern,
            } => {
                let op = if *negated { "!=" } else { "=" };
                write!(f, "{name}{op}ip({})", quote(pattern))
            }
            LabelFilter::Duration { name, op, ns } => {
                write!(f, "{name}{}{}", op.as_str(), format_duration_ns(*ns))
            }
            LabelFilter::Bytes { name, op, bytes } => write!(f, "{name}{}{bytes}B", op.as_str()),
            LabelFilter::Number { name, op, value } => {
                write!(f, "{name}{}{}", op.as_str(), format_f(*value))
            }
            LabelFilter::And(l, r) => {
                let wrap_l = matches!(**l, LabelFilter::Or(..));
                let wrap_r = matches!(**r, LabelFilter::Or(..) | LabelFilter::And(..));
                side(f, l, wrap_l)?;
                f.write_str(" and ")?;
                side(f, r, wrap_r)
            }
            LabelFilter::Or(l, r) => {
                l.fmt(f)?;
                f.write_str(" or ")?;
                side(f, r, matches!(**r, LabelFilter::Or(..)))
            }
        }
    }
}

fn side(f: &mut Formatter<'_>, x: &impl Display, wrap: bool) -> fmt::Result {
    if wrap { write!(f, "({x})") } else { x.fmt(f) }
}

impl Display for LogRange {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.log.fmt(f)?;
        if let Some(u) = &self.unwrap {
            f.write_str(" | unwrap ")?;
            match u.conv {
                Some(c) => write!(f, "{}({})", c.as_str(), u.label)?,
                None => f.write_str(&u.label)?,
            }
            for p in &u.post_filters {
                write!(f, " | {p}")?;
            }
        }
        write!(f, "[{}]", format_duration_ns(self.range_ns))?;
        if self.offset_ns != 0 {
            write!(f, " offset {}", format_duration_ns(self.offset_ns))?;
        }
        Ok(())
    }
}

fn grouping(f: &mut Formatter<'_>, g: &Grouping) -> fmt::Result {
    f.write_str(if g.without { "without (" } else { "by (" })?;
    f.write_str(&g.labels.join(", "))?;
    f.write_char(')')
}

impl Display for MetricExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MetricExpr::Range(r) => {
                write!(f, "{}(", r.op.as_str())?;
                if let Some(p) = r.param {
                    write!(f, "{}, ", format_f(p))?;
                }
                write!(f, "{})", r.range)?;
                if let Some(g) = &r.grouping {
                    f.write_char(' ')?;
                    grouping(f, g)?;
                }
                Ok(())
            }
            MetricExpr::Vector(v) => {
                f.write_str(v.op.as_str())?;
                if let Some(g) = &v.grouping {
                    f.write_char(' ')?;
                    grouping(f, g)?;
                    f.write_char(' ')?;
                }
                f.write_char('(')?;
                if let Some(k) = v.param {
                    write!(f, "{k}, ")?;
                }
                write!(f, "{})", v.expr)
            }
            MetricExpr::Binary(b) => binary(f, b),
            MetricExpr::Literal { value, .. } => f.write_str(&format_f(*value)),
            MetricExpr::VectorFn { value, .. } => write!(f, "vector({})", format_f(*value)),
            MetricExpr::LabelReplace(l) => write!(
                f,
                "label_replace({}, {}, {}, {}, {})",
                l.expr,
                quote(&l.dst),
                quote(&l.replacement),
                quote(&l.src),
                quote(&l.regex)
            ),
        }
    }
}

fn binary(f: &mut Formatter<'_>, b: &BinaryExpr) -> fmt::Result {
    let prec = b.op.precedence();
    let right_assoc = b.op.is_right_associative();
    let needs = |e: &MetricExpr, is_left: bool| match e {
        MetricExpr::Binary(c) => {
            let p = c.op.precedence();
            p < prec || (p == prec && (is_left == right_assoc))
        }
        // A negative literal on the left of `^` would read as -(x ^ y).
        MetricExpr::Literal { value, .. } => *value < 0.0 && is_left,
        _ => false,
    };
    side(f, &*b.lhs, needs(&b.lhs, true))?;
    write!(f, " {}", b.op.as_str())?;
    if b.return_bool {
        f.write_str(" bool")?;
    }
    if let Some(m) = &b.matching {
        if m.explicit {
            let kw = if m.on { "on" } else { "ignoring" };
            write!(f, " {kw} ({})", m.labels.join(", "))?;
        }
        if let Some(g) = &m.group {
            let kw = match g.side {
                GroupSide::Left => "group_left",
                GroupSide::Right => "group_right",
            };
            write!(f, " {kw}")?;
            if !g.include.is_empty() {
                write!(f, " ({})", g.include.join(", "))?;
            }
        }
    }
    f.write_char(' ')?;
    side(f, &*b.rhs, needs(&b.rhs, false))
}
