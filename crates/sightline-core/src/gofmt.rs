//! Go's float formatting, which Prometheus's output is written in:
//! [`format_f`] is `strconv.FormatFloat(v, 'f', -1, 64)` (sample values
//! in the HTTP API, `count_values` label values) and [`format_g`] is
//! `strconv.FormatFloat(v, 'g', -1, 64)`, which is also `fmt`'s `%v` and
//! `%g` (PromQL number literals as Prometheus prints them, numbers in
//! warnings, `quantile` label values).
//!
//! Both print the shortest digits that parse back to the same float, and
//! write `NaN`, `+Inf` and `-Inf` for the non-finite values and `-0` for
//! negative zero.
//!
//! Also Go's `strconv.Quote` ([`quote`], [`quote_bytes`]), in which Go
//! programs (Prometheus's and Loki's messages, Loki's label text) write
//! strings.

use std::fmt::Write as _;

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest round-trip
/// digits, never in exponent form (`1e21` is `1000000000000000000000`,
/// `1e-7` is `0.0000001`).
pub fn format_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        // Rust's `Display` for floats prints the shortest round-trip digits
        // without an exponent, and `-0` for negative zero, as Go does.
        format!("{v}")
    }
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)` (and `%v`, `%g`): the
/// shortest round-trip digits, in exponent form when the decimal exponent
/// is below -4 or at least 6 (`1e+06`, `1.5e-07`, at least two exponent
/// digits), plain otherwise (`100000`, `0.0001`).
pub fn format_g(v: f64) -> String {
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
    // For the shortest form Go fixes the exponent bound of `'g'` at 6
    // (`eprec` in `strconv`), whatever the number of digits.
    if !(-4..6).contains(&exp) {
        // A finite non-zero float has at least one digit, so the split is
        // in bounds.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `(value, 'f', 'g')`: every case the evaluator's, the API's and the
    /// printer's tests held for these formats, and the edges between them.
    const CASES: &[(f64, &str, &str)] = &[
        (0.0, "0", "0"),
        (-0.0, "-0", "-0"),
        (1.0, "1", "1"),
        (-1.0, "-1", "-1"),
        (100.0, "100", "100"),
        (0.5, "0.5", "0.5"),
        (0.1, "0.1", "0.1"),
        (1.1, "1.1", "1.1"),
        (-2.5, "-2.5", "-2.5"),
        (123.456, "123.456", "123.456"),
        (12345.678, "12345.678", "12345.678"),
        (100000.0, "100000", "100000"),
        (999999.0, "999999", "999999"),
        (1e6, "1000000", "1e+06"),
        (1234567.0, "1234567", "1.234567e+06"),
        (123456789.0, "123456789", "1.23456789e+08"),
        (1e15, "1000000000000000", "1e+15"),
        (
            9007199254740992.0,
            "9007199254740992",
            "9.007199254740992e+15",
        ),
        (1e20, "100000000000000000000", "1e+20"),
        (1e21, "1000000000000000000000", "1e+21"),
        (1e22, "10000000000000000000000", "1e+22"),
        (-1e21, "-1000000000000000000000", "-1e+21"),
        (0.0001, "0.0001", "0.0001"),
        (0.00012345, "0.00012345", "0.00012345"),
        (-0.001, "-0.001", "-0.001"),
        (9.999e-5, "0.00009999", "9.999e-05"),
        (0.00001, "0.00001", "1e-05"),
        (1.5e-7, "0.00000015", "1.5e-07"),
        (-1.5e-7, "-0.00000015", "-1.5e-07"),
        (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"),
        (1.0 / 3.0, "0.3333333333333333", "0.3333333333333333"),
        (2.0 / 3.0, "0.6666666666666666", "0.6666666666666666"),
        (f64::INFINITY, "+Inf", "+Inf"),
        (f64::NEG_INFINITY, "-Inf", "-Inf"),
        (f64::NAN, "NaN", "NaN"),
    ];

    /// `'g'` as the evaluator's annotations first wrote it, independently
    /// of [`format_g`]'s code; the two must agree on every value.
    fn annotations_g(v: f64) -> String {
        if v.is_nan() {
            return "NaN".to_string();
        }
        if v.is_infinite() {
            return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
        }
        if v == 0.0 {
            return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
        }
        let e = format!("{v:e}");
        let (mantissa, exp) = e.split_once('e').unwrap_or((e.as_str(), "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let (neg, mantissa) = match mantissa.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mantissa),
        };
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let eprec = 6;
        let sign = if neg { "-" } else { "" };
        if exp < -4 || exp >= eprec {
            let frac = &digits[1..];
            let m = if frac.is_empty() {
                digits[..1].to_string()
            } else {
                format!("{}.{}", &digits[..1], frac)
            };
            let esign = if exp < 0 { '-' } else { '+' };
            return format!("{sign}{m}e{esign}{:02}", exp.abs());
        }
        if exp < 0 {
            let zeros = "0".repeat((-exp - 1) as usize);
            return format!("{sign}0.{zeros}{digits}");
        }
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            let zeros = "0".repeat(int_len - digits.len());
            format!("{sign}{digits}{zeros}")
        } else {
            format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
        }
    }

    /// `'f'` built the way Go builds it, from the shortest digits and the
    /// decimal exponent that `{:e}` gives, to check [`format_f`]'s use of
    /// `Display` against.
    fn digits_f(v: f64) -> String {
        if !v.is_finite() || v == 0.0 {
            return format_g(v);
        }
        let e = format!("{:e}", v.abs());
        let (mantissa, exp) = e.split_once('e').expect("`{:e}` has an exponent");
        let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let n = digits.len() as i32;
        let sign = if v < 0.0 { "-" } else { "" };
        if exp < 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
        } else if exp + 1 >= n {
            format!("{sign}{digits}{}", "0".repeat((exp + 1 - n) as usize))
        } else {
            let (int, frac) = digits.split_at((exp + 1) as usize);
            format!("{sign}{int}.{frac}")
        }
    }

    /// Values to compare the implementations on: the table, the extremes,
    /// integers, powers of ten on both sides of every exponent bound, and
    /// pseudo-random bit patterns (every finite magnitude, subnormals
    /// included).
    fn sweep() -> Vec<f64> {
        let mut vs: Vec<f64> = CASES.iter().map(|c| c.0).collect();
        vs.extend([
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            -5e-324,
        ]);
        for i in -30..=30 {
            vs.push(i as f64);
            let p = 10f64.powi(i);
            vs.extend([p, -p, p * 1.5, p * 0.999_999, p * 9.999_999_9]);
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vs.push(f64::from_bits(x));
        }
        vs
    }

    #[test]
    fn table() {
        for &(v, f, g) in CASES {
            assert_eq!(format_f(v), f, "'f' of {v:e}");
            assert_eq!(format_g(v), g, "'g' of {v:e}");
        }
    }

    #[test]
    fn extremes() {
        assert_eq!(format_f(5e-324), format!("0.{}5", "0".repeat(323)));
        assert_eq!(format_g(5e-324), "5e-324");
        assert_eq!(format_g(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        let max = format_f(f64::MAX);
        assert_eq!(max.len(), 309);
        assert!(max.starts_with("17976931348623157"), "{max}");
        assert!(max[17..].bytes().all(|b| b == b'0'), "{max}");
        assert_eq!(format_g(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(format_g(f64::MIN), "-1.7976931348623157e+308");
        // Any NaN, the staleness marker's bit pattern among them.
        assert_eq!(format_f(crate::stale_nan()), "NaN");
        assert_eq!(format_g(crate::stale_nan()), "NaN");
    }

    #[test]
    fn g_agrees_with_the_annotations_form() {
        for v in sweep() {
            assert_eq!(format_g(v), annotations_g(v), "{:#x}", v.to_bits());
        }
    }

    #[test]
    fn f_agrees_with_go_construction_from_shortest_digits() {
        for v in sweep() {
            assert_eq!(format_f(v), digits_f(v), "{:#x}", v.to_bits());
        }
    }

    #[test]
    fn f_and_g_agree_without_exponent() {
        for v in sweep() {
            let g = format_g(v);
            if !g.contains('e') {
                assert_eq!(format_f(v), g, "{:#x}", v.to_bits());
            }
        }
    }

    #[test]
    fn finite_values_round_trip() {
        for v in sweep().into_iter().filter(|v| v.is_finite()) {
            let f: f64 = format_f(v).parse().expect("'f' output parses");
            let g: f64 = format_g(v).parse().expect("'g' output parses");
            assert_eq!(f.to_bits(), v.to_bits(), "'f' of {:#x}", v.to_bits());
            assert_eq!(g.to_bits(), v.to_bits(), "'g' of {:#x}", v.to_bits());
        }
    }
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

/// An approximation of Go's `strconv.IsPrint`: graphic characters and the
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
