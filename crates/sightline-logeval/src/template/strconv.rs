//! Go's `strconv` as templates need it: number literals
//! (`ParseUint`/`ParseInt` with base prefixes, `ParseFloat` with hex
//! floats and `_` separators), `ParseInt(s, 10, 64)`, the unquoting of
//! string and character literals, and the error texts of failed parses.

use super::fmt::quote_go;

/// Why a Go `strconv` number parse failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumErr {
    Syntax,
    Range,
}

/// Go's `underscoreOK`: underscores only between digits (or after a base
/// prefix).
pub(crate) fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    let mut saw = b'^';
    if let Some(b'+' | b'-') = b.first() {
        b = &b[1..];
    }
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1] | 0x20 == b'x';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || hex && (c | 0x20).is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
pub(crate) fn go_parse_uint(s: &str) -> Result<u64, NumErr> {
    if s.is_empty() {
        return Err(NumErr::Syntax);
    }
    let b = s.as_bytes();
    let (base, digits): (u32, &str) =
        if b[0] == b'0' && b.len() >= 3 && matches!(b[1] | 0x20, b'x' | b'o' | b'b') {
            (
                match b[1] | 0x20 {
                    b'x' => 16,
                    b'o' => 8,
                    _ => 2,
                },
                &s[2..],
            )
        } else if b[0] == b'0' && b.len() > 1 {
            (8, &s[1..])
        } else {
            (10, s)
        };
    let mut v: u64 = 0;
    let mut underscores = false;
    let mut any = false;
    let mut overflow = false;
    for c in digits.chars() {
        if c == '_' {
            underscores = true;
            continue;
        }
        let Some(d) = c.to_digit(base) else {
            return Err(NumErr::Syntax);
        };
        any = true;
        match v
            .checked_mul(base as u64)
            .and_then(|x| x.checked_add(d as u64))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
    }
    if !any && base != 8 {
        return Err(NumErr::Syntax);
    }
    if underscores && !underscore_ok(s) {
        return Err(NumErr::Syntax);
    }
    if overflow {
        return Err(NumErr::Range);
    }
    Ok(v)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn go_parse_int(s: &str) -> Result<i64, NumErr> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(body)?;
    if neg {
        if u > 1u64 << 63 {
            return Err(NumErr::Range);
        }
        Ok((u as i64).wrapping_neg())
    } else {
        i64::try_from(u).map_err(|_| NumErr::Range)
    }
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and hexadecimal forms, `_`
/// separators, `inf`/`infinity`/`nan` in any case; out-of-range values are
/// a `Range` error.
pub(crate) fn go_parse_float(s: &str) -> Result<f64, NumErr> {
    match crate::pipeline::convert::parse_float(s) {
        (v, None) => Ok(v),
        (v, Some(_)) if v.is_infinite() => Err(NumErr::Range),
        _ => Err(NumErr::Syntax),
    }
}

/// Go's `strconv.UnquoteChar` over bytes: one (possibly escaped) character
/// and the rest. Values above 0xFF from `\x`/octal cannot occur; `\x80`
/// and up stand for raw bytes, returned as code points 0x80..=0xFF with
/// the `byte` flag so strings can rebuild the byte.
pub(crate) fn unquote_char(s: &[u8], quote: u8) -> Result<(u32, &[u8]), ()> {
    let (v, _, rest) = unquote_char_b(s, quote)?;
    Ok((v, rest))
}

fn unquote_char_b(s: &[u8], quote: u8) -> Result<(u32, bool, &[u8]), ()> {
    let Some(&c) = s.first() else {
        return Err(());
    };
    if c == quote && (quote == b'\'' || quote == b'"') {
        return Err(());
    }
    if c >= 0x80 {
        let st = std::str::from_utf8(&s[..s.len().min(4)])
            .or_else(|e| std::str::from_utf8(&s[..e.valid_up_to()]))
            .map_err(|_| ())?;
        let ch = st.chars().next().ok_or(())?;
        return Ok((ch as u32, false, &s[ch.len_utf8()..]));
    }
    if c != b'\\' {
        return Ok((c as u32, false, &s[1..]));
    }
    if s.len() <= 1 {
        return Err(());
    }
    let e = s[1];
    let rest = &s[2..];
    let simple = match e {
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(10),
        b'r' => Some(13),
        b't' => Some(9),
        b'v' => Some(11),
        b'\\' => Some(b'\\' as u32),
        b'\'' | b'"' => {
            if e != quote {
                return Err(());
            }
            Some(e as u32)
        }
        _ => None,
    };
    if let Some(v) = simple {
        return Ok((v, false, rest));
    }
    match e {
        b'x' | b'u' | b'U' => {
            let n = match e {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            if rest.len() < n {
                return Err(());
            }
            let mut v = 0u32;
            for &d in &rest[..n] {
                v = v * 16 + (d as char).to_digit(16).ok_or(())?;
            }
            if e == b'x' {
                return Ok((v, true, &rest[n..]));
            }
            if char::from_u32(v).is_none() {
                return Err(());
            }
            Ok((v, false, &rest[n..]))
        }
        b'0'..=b'7' => {
            if rest.len() < 2 {
                return Err(());
            }
            let mut v = (e - b'0') as u32;
            for &d in &rest[..2] {
                if !(b'0'..=b'7').contains(&d) {
                    return Err(());
                }
                v = v * 8 + (d - b'0') as u32;
            }
            if v > 255 {
                return Err(());
            }
            Ok((v, true, &rest[2..]))
        }
        _ => Err(()),
    }
}

/// Go's `strconv.Unquote` for `"…"` and `` `…` `` literals. Raw strings lose
/// their carriage returns, as in Go. Escaped bytes that do not form UTF-8
/// become U+FFFD.
pub(crate) fn unquote(s: &str) -> Result<String, ()> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return Err(());
    }
    let q = b[0];
    if q != b[b.len() - 1] {
        return Err(());
    }
    let body = &b[1..b.len() - 1];
    if q == b'`' {
        if body.contains(&b'`') {
            return Err(());
        }
        return Ok(s[1..s.len() - 1].replace('\r', ""));
    }
    if q != b'"' {
        return Err(());
    }
    if body.contains(&b'\n') {
        return Err(());
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        let (v, is_byte, r) = unquote_char_b(rest, b'"')?;
        if is_byte {
            out.push(v as u8);
        } else if let Some(c) = char::from_u32(v) {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        rest = r;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

pub(crate) fn strconv_err(func: &str, s: &str, e: NumErr) -> String {
    let why = match e {
        NumErr::Syntax => "invalid syntax",
        NumErr::Range => "value out of range",
    };
    format!("strconv.{func}: parsing {}: {why}", quote_go(s))
}

/// Go's `strconv.ParseInt(s, 10, 64)`.
pub(crate) fn parse_int10(s: &str) -> Result<i64, NumErr> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit()) {
        return Err(NumErr::Syntax);
    }
    s.parse::<i64>().map_err(|_| NumErr::Range)
}
