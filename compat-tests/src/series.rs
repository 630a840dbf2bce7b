//! Series descriptions: `metric{a="b"} 1 2+3x4 _ stale`, as in `load`
//! blocks and expected results. The label part is parsed as a PromQL
//! selector; the values use promqltest's expanding notation.

use anyhow::{Context, Result, anyhow, bail};
use sightline_core::{Labels, MatchOp, stale_nan};
use sightline_promql::ast::Expr;

/// One slot of an expanded value sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Slot {
    Value(f64),
    Blank,
    /// A native histogram literal (not supported; the case is skipped).
    Histogram,
}

#[derive(Debug, Clone)]
pub struct SeriesDesc {
    pub labels: Labels,
    pub slots: Vec<Slot>,
}

/// Splits a line into its label part and the rest.
fn split_labels(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    let mut depth = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == b'\\' && q != b'`' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else {
            match c {
                b'"' | b'\'' | b'`' => quote = Some(c),
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return (&line[..=i], line[i + 1..].trim());
                    }
                }
                c if c.is_ascii_whitespace() && depth == 0 => {
                    return (&line[..i], line[i..].trim());
                }
                _ => {}
            }
        }
        i += 1;
    }
    (line, "")
}

/// Parses the label part (`name{...}`, `{...}` or `{}`).
pub fn parse_labels(s: &str) -> Result<Labels> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact == "{}" {
        return Ok(Labels::empty());
    }
    let e = sightline_promql::parse(s).map_err(|e| anyhow!("bad series labels {s:?}: {e}"))?;
    let Expr::Vector(vs) = e else {
        bail!("bad series labels {s:?}");
    };
    let mut pairs = Vec::new();
    for m in &vs.matchers {
        if m.op != MatchOp::Equal {
            bail!("series labels must use '=': {s:?}");
        }
        pairs.push((m.name.clone(), m.value.clone()));
    }
    Labels::from_pairs(pairs).map_err(|e| anyhow!("{e}"))
}

/// Parses a number as the series notation writes it.
pub fn parse_number(s: &str) -> Result<f64> {
    let t = s.trim();
    let (sign, body) = match t.as_bytes().first() {
        Some(b'-') => (-1.0, &t[1..]),
        Some(b'+') => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    let lower = body.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if lower.starts_with("0x") => i64::from_str_radix(&body[2..], 16)? as f64,
        _ => body
            .parse::<f64>()
            .with_context(|| format!("bad number {s:?}"))?,
    };
    Ok(sign * v)
}

/// Finds the `+`/`-` separating `A` and `B` in `A+B` (not a sign, not an
/// exponent's sign).
fn split_op(s: &str) -> Option<(usize, char)> {
    let b = s.as_bytes();
    (1..b.len()).find_map(|i| {
        let c = b[i];
        if (c == b'+' || c == b'-') && !matches!(b[i - 1], b'e' | b'E' | b'+' | b'-') {
            Some((i, c as char))
        } else {
            None
        }
    })
}

fn expand(token: &str, out: &mut Vec<Slot>) -> Result<()> {
    if token.starts_with("{{") {
        // `{{..}}`, `{{..}}xN` and `{{..}}+{{..}}xN`: one slot, or N+1.
        let tail = token.rfind("}}").map_or("", |i| &token[i + 2..]);
        let n = match tail.strip_prefix('x') {
            Some(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_digit()) => {
                k.parse::<usize>()? + 1
            }
            _ => 1,
        };
        out.extend(std::iter::repeat_n(Slot::Histogram, n));
        return Ok(());
    }
    if token == "_" {
        out.push(Slot::Blank);
        return Ok(());
    }
    if token == "stale" {
        out.push(Slot::Value(stale_nan()));
        return Ok(());
    }
    // `...xN`
    let (base, times) = match token.rfind('x') {
        Some(i)
            if i > 0
                && token[i + 1..].chars().all(|c| c.is_ascii_digit())
                && i + 1 < token.len() =>
        {
            (&token[..i], Some(token[i + 1..].parse::<usize>()?))
        }
        _ => (token, None),
    };
    let Some(n) = times else {
        out.push(Slot::Value(parse_number(token)?));
        return Ok(());
    };
    if base == "_" {
        out.extend(std::iter::repeat_n(Slot::Blank, n));
        return Ok(());
    }
    if base == "stale" {
        out.extend(std::iter::repeat_n(Slot::Value(stale_nan()), n + 1));
        return Ok(());
    }
    match split_op(base) {
        Some((i, op)) => {
            let mut a = parse_number(&base[..i])?;
            let mut d = parse_number(&base[i + 1..])?;
            if op == '-' {
                d = -d;
            }
            for _ in 0..=n {
                out.push(Slot::Value(a));
                a += d;
            }
        }
        None => {
            let a = parse_number(base)?;
            out.extend(std::iter::repeat_n(Slot::Value(a), n + 1));
        }
    }
    Ok(())
}

/// Expands a value sequence.
pub fn parse_values(s: &str) -> Result<Vec<Slot>> {
    let mut out = Vec::new();
    // Histogram literals contain spaces: treat `{{ ... }}` as one token.
    let mut rest = s.trim();
    while !rest.is_empty() {
        let (tok, after) = if rest.starts_with("{{") {
            let mut end = rest.find("}}").map_or(rest.len(), |i| i + 2);
            // `{{..}}+{{..}}xN` and `{{..}}xN` stay one token.
            while rest[end..].starts_with("+{{") || rest[end..].starts_with("-{{") {
                end = rest[end..].find("}}").map_or(rest.len(), |i| end + i + 2);
            }
            while end < rest.len() && !rest.as_bytes()[end].is_ascii_whitespace() {
                end += 1;
            }
            (&rest[..end], &rest[end..])
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        expand(tok, &mut out)?;
        rest = after.trim_start();
    }
    Ok(out)
}

pub fn parse_series(line: &str) -> Result<SeriesDesc> {
    let (l, v) = split_labels(line.trim());
    Ok(SeriesDesc {
        labels: parse_labels(l)?,
        slots: parse_values(v)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(s: &str) -> Vec<Slot> {
        parse_values(s).expect("valid")
    }

    #[test]
    fn expanding_notation() {
        use Slot::*;
        assert_eq!(
            vals("1 2+3x2 _"),
            vec![Value(1.0), Value(2.0), Value(5.0), Value(8.0), Blank]
        );
        assert_eq!(
            vals("_x3 5x1"),
            vec![Blank, Blank, Blank, Value(5.0), Value(5.0)]
        );
        assert_eq!(vals("10-2x2"), vec![Value(10.0), Value(8.0), Value(6.0)]);
        assert_eq!(
            vals("-1e-3 -Inf"),
            vec![Value(-0.001), Value(f64::NEG_INFINITY)]
        );
        assert_eq!(vals("1e+2"), vec![Value(100.0)]);
    }

    #[test]
    fn labels_split() {
        let d =
            parse_series(r#"http_requests{job="api-server", instance="0"} 0+10x2"#).expect("valid");
        assert_eq!(d.labels.get("job"), Some("api-server"));
        assert_eq!(d.slots.len(), 3);
        let d = parse_series("{} 3").expect("valid");
        assert!(d.labels.is_empty());
        let d = parse_series("metric 3").expect("valid");
        assert_eq!(d.labels.get("__name__"), Some("metric"));
    }
}
