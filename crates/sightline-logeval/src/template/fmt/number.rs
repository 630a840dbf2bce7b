//! Go's number formatting: `strconv.FormatFloat` for `e E f F g G` (with
//! the shortest or a fixed number of digits), the `%v` of a float64, and
//! the `Printer`'s integer verbs (`%d %b %o %O %x %X %c %q %U`) and float
//! verbs (`%e %f %g` with Go's flags).

use super::{PResult, Printer, Value, format_unicode, quote_rune};

/// Decimal digits of a finite, non-negative float and the position of the
/// decimal point (value = 0.d1d2… × 10^dp); zero has no digits.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

fn parse_sci(s: &str) -> Digits {
    // `s` is Rust's `{:e}` output: "1.2345e-7" or "5e3".
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    if d.is_empty() {
        return Digits { d, dp: 0 };
    }
    Digits { d, dp: exp + 1 }
}

fn shortest_digits(f: f64) -> Digits {
    if f == 0.0 {
        return Digits {
            d: Vec::new(),
            dp: 0,
        };
    }
    parse_sci(&format!("{f:e}"))
}

fn rounded_digits(f: f64, sig: usize) -> Digits {
    if f == 0.0 {
        return Digits {
            d: Vec::new(),
            dp: 0,
        };
    }
    parse_sci(&format!("{:.*e}", sig.saturating_sub(1), f))
}

fn fmt_e(out: &mut String, digs: &Digits, prec: usize, e: char) {
    out.push(*digs.d.first().unwrap_or(&b'0') as char);
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(*digs.d.get(i).unwrap_or(&b'0') as char);
        }
    }
    out.push(e);
    let exp = if digs.d.is_empty() { 0 } else { digs.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

fn fmt_f(out: &mut String, digs: &Digits, prec: usize) {
    if digs.dp > 0 {
        let dp = digs.dp as usize;
        for i in 0..dp {
            out.push(*digs.d.get(i).unwrap_or(&b'0') as char);
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i64 {
            let j = digs.dp as i64 + i - 1;
            let c = if j >= 0 && (j as usize) < digs.d.len() {
                digs.d[j as usize]
            } else {
                b'0'
            };
            out.push(c as char);
        }
    }
}

/// Go's `strconv.FormatFloat(f, fmt, prec, 64)` for `e E f F g G`
/// (`prec` `None` = shortest), with `sharp` for `%#g`-style output.
fn format_float(f: f64, verb: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    let a = f.abs();
    match verb {
        'e' | 'E' => {
            let (digs, p) = match prec {
                None => {
                    let d = shortest_digits(a);
                    let p = d.d.len().saturating_sub(1);
                    (d, p)
                }
                Some(p) => (rounded_digits(a, p + 1), p),
            };
            fmt_e(&mut out, &digs, p, verb);
        }
        'f' | 'F' => match prec {
            None => {
                let d = shortest_digits(a);
                let p = (d.d.len() as i64 - d.dp as i64).max(0) as usize;
                fmt_f(&mut out, &d, p);
            }
            Some(p) => out.push_str(&format!("{a:.p$}")),
        },
        _ => {
            let shortest = prec.is_none();
            let (digs, mut p) = match prec {
                None => {
                    let d = shortest_digits(a);
                    let n = d.d.len();
                    (d, n)
                }
                Some(p) => {
                    let p = p.max(1);
                    (rounded_digits(a, p), p)
                }
            };
            let nd = digs.d.len() as i64;
            let mut eprec = p as i64;
            if eprec > nd && nd >= digs.dp as i64 {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = digs.dp as i64 - 1;
            let e = if verb == 'G' { 'E' } else { 'e' };
            if exp < -4 || exp >= eprec {
                if p as i64 > nd {
                    p = nd as usize;
                }
                fmt_e(&mut out, &digs, p.saturating_sub(1), e);
            } else {
                if p as i64 > digs.dp as i64 {
                    p = nd as usize;
                }
                fmt_f(&mut out, &digs, (p as i64 - digs.dp as i64).max(0) as usize);
            }
        }
    }
    out
}

/// `%v` of a float64.
pub(crate) fn float_v(f: f64) -> String {
    format_float(f, 'g', None)
}

impl Printer {
    pub(super) fn fmt_integer(&mut self, v: i128, base: u32, verb: char, upper: bool) {
        let negative = v < 0;
        let mut u = v.unsigned_abs();
        let mut prec = 0usize;
        if let Some(p) = self.f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let old = self.f.zero;
                self.f.zero = false;
                self.write_padding(self.f.wid.unwrap_or(0));
                self.f.zero = old;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid.is_some() {
            prec = self.f.wid.unwrap_or(0);
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let digits: &[u8] = if upper {
            b"0123456789ABCDEFX"
        } else {
            b"0123456789abcdefx"
        };
        let mut rev: Vec<u8> = Vec::new();
        if u == 0 {
            rev.push(b'0');
        }
        while u > 0 {
            rev.push(digits[(u % base as u128) as usize]);
            u /= base as u128;
        }
        while rev.len() < prec {
            rev.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => rev.extend_from_slice(b"b0"),
                8 if rev.last() != Some(&b'0') => rev.push(b'0'),
                16 => {
                    rev.push(digits[16]);
                    rev.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            rev.extend_from_slice(b"o0");
        }
        if negative {
            rev.push(b'-');
        } else if self.f.plus {
            rev.push(b'+');
        } else if self.f.space {
            rev.push(b' ');
        }
        rev.reverse();
        let s = String::from_utf8_lossy(&rev).into_owned();
        self.pad_spaces(&s);
    }

    pub(super) fn fmt_float(&mut self, v: f64, verb: char, prec: Option<usize>) {
        let prec = self.f.prec.or(prec);
        let mut num = format_float(v, verb, prec);
        if self.f.sharp && verb != 'b' && !num.contains(['I', 'N']) {
            // `%#` keeps a decimal point.
            let body_has_point = num.contains('.');
            if !body_has_point {
                match num.find(['e', 'E']) {
                    Some(i) => num.insert(i, '.'),
                    None => num.push('.'),
                }
            }
        }
        let mut signed = if num.starts_with(['-', '+']) {
            num
        } else {
            format!("+{num}")
        };
        if self.f.space && signed.starts_with('+') && !self.f.plus {
            signed.replace_range(0..1, " ");
        }
        if signed[1..].starts_with(['I', 'N']) {
            let old = self.f.zero;
            self.f.zero = false;
            if signed[1..].starts_with('N') && !self.f.space && !self.f.plus {
                signed.remove(0);
            }
            self.pad(&signed);
            self.f.zero = old;
            return;
        }
        if self.f.plus || !signed.starts_with('+') {
            let zero_wid = self
                .f
                .wid
                .filter(|&w| self.f.zero && !self.f.minus && w > signed.len());
            if let Some(w) = zero_wid {
                self.buf.push_str(&signed[..1]);
                self.write_padding(w - signed.len());
                self.buf.push_str(&signed[1..]);
                return;
            }
            self.pad(&signed);
            return;
        }
        self.pad(&signed[1..]);
    }

    pub(super) fn print_int(&mut self, v: i128, verb: char, arg: &Value) -> PResult {
        match verb {
            'v' | 'd' => self.fmt_integer(v, 10, verb, false),
            'b' => self.fmt_integer(v, 2, verb, false),
            'o' | 'O' => self.fmt_integer(v, 8, verb, false),
            'x' => self.fmt_integer(v, 16, verb, false),
            'X' => self.fmt_integer(v, 16, verb, true),
            'c' => {
                let c = u32::try_from(v)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                self.pad(&c.to_string());
            }
            'q' => {
                let c = u32::try_from(v)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                let q = quote_rune(c, self.f.plus);
                self.pad(&q);
            }
            'U' => {
                let u = u32::try_from(v).unwrap_or(0xFFFD);
                let s = format_unicode(u, self.f.sharp);
                self.pad_spaces(&s);
            }
            _ => self.bad_verb(verb, arg)?,
        }
        Ok(())
    }
}
