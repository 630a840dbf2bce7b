//! The Go conversions Loki applies to label values, with Go's error texts
//! (they become `__error_details__`): `strconv.ParseFloat`,
//! `time.ParseDuration` and go-humanize's `ParseBytes`, plus Go's
//! `strconv.Quote` used in those texts.
//!
//! Visible to the whole crate: the templates' `bytes` function is the same
//! `ParseBytes`.

use sightline_logql::literals::parse_go_duration;

pub use sightline_core::gofmt::quote as go_quote;

/// Go's `strconv.ParseFloat(s, 64)`: the value, and the error text when
/// the conversion failed. Out-of-range values give ±Inf *with* the error,
/// as in Go; syntax errors give 0.
pub fn parse_float(s: &str) -> (f64, Option<String>) {
    let syntax = || {
        (
            0.0,
            Some(format!(
                "strconv.ParseFloat: parsing {}: invalid syntax",
                go_quote(s)
            )),
        )
    };
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return (sign * f64::INFINITY, None);
    }
    if lower == "nan" {
        // Go reads `nan` without a sign only.
        return if body.len() == s.len() {
            (f64::NAN, None)
        } else {
            syntax()
        };
    }
    if body.contains('_') && !crate::template::underscore_ok(body) {
        return syntax();
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let value = if clean.len() > 2 && (clean.starts_with("0x") || clean.starts_with("0X")) {
        match parse_hex_float(&clean[2..]) {
            Some(v) => v,
            None => return syntax(),
        }
    } else {
        if !is_decimal_float(&clean) {
            return syntax();
        }
        match clean.parse::<f64>() {
            Ok(v) => v,
            Err(_) => return syntax(),
        }
    };
    let value = sign * value;
    if value.is_infinite() {
        return (
            value,
            Some(format!(
                "strconv.ParseFloat: parsing {}: value out of range",
                go_quote(s)
            )),
        );
    }
    (value, None)
}

/// `digits [. digits] [e [sign] digits]` with digits on at least one side
/// of the dot.
fn is_decimal_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac;
    }
    if int + frac == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// A hexadecimal float after its `0x`: mantissa digits with an optional
/// dot, and the `p` exponent Go requires.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i32 = {
        let e = exp.strip_prefix('+').unwrap_or(exp);
        if e.is_empty()
            || !e
                .trim_start_matches('-')
                .bytes()
                .all(|c| c.is_ascii_digit())
        {
            return None;
        }
        e.parse().unwrap_or(if e.starts_with('-') {
            i32::MIN / 2
        } else {
            i32::MAX / 2
        })
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0.0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp.clamp(-2000, 2000)))
}

/// `duration(x)` / `duration_seconds(x)`: Go's `ParseDuration`, in seconds
/// as `Duration.Seconds()` computes them.
pub fn parse_duration_seconds(s: &str) -> Result<f64, String> {
    let ns = parse_go_duration(s)?;
    Ok(ns_to_seconds(ns))
}

/// Go's `Duration.Seconds()`.
pub fn ns_to_seconds(ns: i64) -> f64 {
    let sec = ns / 1_000_000_000;
    let nsec = ns % 1_000_000_000;
    sec as f64 + nsec as f64 / 1e9
}

/// go-humanize's `ParseBytes`, with its error texts.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let num_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(s.len());
    let num: String = s[..num_len].chars().filter(|&c| c != ',').collect();
    let (f, err) = parse_float(&num);
    if let Some(e) = err {
        return Err(e);
    }
    let extra = s[num_len..].trim().to_lowercase();
    let mult: u64 = match extra.as_str() {
        "" | "b" => 1,
        "kib" | "ki" => 1 << 10,
        "kb" | "k" => 1_000,
        "mib" | "mi" => 1 << 20,
        "mb" | "m" => 1_000_000,
        "gib" | "gi" => 1 << 30,
        "gb" | "g" => 1_000_000_000,
        "tib" | "ti" => 1 << 40,
        "tb" | "t" => 1_000_000_000_000,
        "pib" | "pi" => 1 << 50,
        "pb" | "p" => 1_000_000_000_000_000,
        "eib" | "ei" => 1 << 60,
        "eb" | "e" => 1_000_000_000_000_000_000,
        _ => return Err(format!("unhandled size name: {extra}")),
    };
    let total = f * mult as f64;
    if total >= u64::MAX as f64 {
        return Err(format!("too large: {s}"));
    }
    // Go converts a float to uint64 by truncation; NaN cannot occur here.
    Ok(total as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_go_reads_them() {
        assert_eq!(parse_float("1.5"), (1.5, None));
        assert_eq!(parse_float("-2e3"), (-2000.0, None));
        assert_eq!(parse_float(".5"), (0.5, None));
        assert_eq!(parse_float("1."), (1.0, None));
        assert_eq!(parse_float("+Inf").0, f64::INFINITY);
        assert_eq!(parse_float("-infinity").0, f64::NEG_INFINITY);
        assert!(parse_float("NaN").0.is_nan());
        assert_eq!(parse_float("0x1p-2"), (0.25, None));
        assert_eq!(parse_float("1_000"), (1000.0, None));
        assert_eq!(
            parse_float("abc"),
            (
                0.0,
                Some(r#"strconv.ParseFloat: parsing "abc": invalid syntax"#.into())
            )
        );
        for bad in ["", "1e", "e5", ".", "1_", "_1", "+nan", "0x10", "1,5", " 1"] {
            assert!(parse_float(bad).1.is_some(), "{bad}");
        }
        let (v, e) = parse_float("1e400");
        assert_eq!(v, f64::INFINITY);
        assert_eq!(
            e.as_deref(),
            Some(r#"strconv.ParseFloat: parsing "1e400": value out of range"#)
        );
    }

    #[test]
    fn durations_and_bytes() {
        assert_eq!(parse_duration_seconds("1m30s"), Ok(90.0));
        assert_eq!(parse_duration_seconds("250ms"), Ok(0.25));
        assert_eq!(
            parse_duration_seconds("xyz"),
            Err(r#"time: invalid duration "xyz""#.into())
        );
        assert_eq!(parse_bytes("1.5KiB"), Ok(1536));
        assert_eq!(parse_bytes("20 kB"), Ok(20_000));
        assert_eq!(parse_bytes("1,000"), Ok(1000));
        assert_eq!(parse_bytes("3e"), Ok(3_000_000_000_000_000_000));
        assert_eq!(
            parse_bytes("abc"),
            Err(r#"strconv.ParseFloat: parsing "": invalid syntax"#.into())
        );
        assert_eq!(parse_bytes("5XB"), Err("unhandled size name: xb".into()));
        assert_eq!(parse_bytes("99999EB"), Err("too large: 99999EB".into()));
    }

    #[test]
    fn quoting() {
        assert_eq!(go_quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(go_quote("é\u{1}"), "\"é\\x01\"");
    }
}
