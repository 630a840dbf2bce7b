//! Go's `fmt` as templates reach it: `print`, `println`, `printf` and the
//! `%v` printing of action results (the `Printer` with its flags, padding
//! and the string, bool and composite verbs), plus `strconv.Quote`. The
//! number verbs (`%d %x %o %b %c %q %U` of integers, `%e %f %g` of
//! floats) and float formatting (`strconv.FormatFloat`) are in `number`.

mod number;

pub(crate) use number::float_v;

use super::value::Value;

/// Go's `unicode.IsPrint`, approximated with Rust's character classes:
/// controls, non-ASCII spaces and the common format characters are not
/// printable.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    !matches!(u,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF
        | 0xF0000..=0x10FFFF | 0xFFFE | 0xFFFF | 0xD800..=0xDFFF)
}

fn quote_with(s: &str, quote: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        append_quoted_rune(&mut out, c, quote, ascii_only);
    }
    out.push(quote);
    out
}

fn append_quoted_rune(out: &mut String, c: char, quote: char, ascii_only: bool) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii_only {
        if c.is_ascii() && is_print(c) {
            out.push(c);
            return;
        }
    } else if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `strconv.Quote`.
pub(crate) fn quote_go(s: &str) -> String {
    quote_with(s, '"', false)
}

/// Go's `strconv.QuoteRune`.
fn quote_rune(c: char, ascii_only: bool) -> String {
    let mut out = String::from("'");
    append_quoted_rune(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}

/// Go's `%U` / `%#U`.
pub(crate) fn format_unicode(u: u32, sharp: bool) -> String {
    let mut s = format!("U+{u:04X}");
    if let Some(c) = char::from_u32(u).filter(|&c| sharp && is_print(c)) {
        s.push_str(&format!(" '{c}'"));
    }
    s
}

#[derive(Clone, Copy, Default)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

struct Printer {
    buf: String,
    f: Flags,
}

/// Why printing failed: only the label map, which cannot be enumerated.
pub(crate) struct Unprintable;

type PResult = Result<(), Unprintable>;

impl Printer {
    fn new() -> Self {
        Printer {
            buf: String::new(),
            f: Flags::default(),
        }
    }

    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero && !self.f.minus {
            '0'
        } else {
            ' '
        };
        for _ in 0..n {
            self.buf.push(c);
        }
    }

    fn pad(&mut self, s: &str) {
        let Some(w) = self.f.wid else {
            self.buf.push_str(s);
            return;
        };
        let n = s.chars().count();
        if n >= w {
            self.buf.push_str(s);
            return;
        }
        if self.f.minus {
            self.buf.push_str(s);
            let old = self.f.zero;
            self.f.zero = false;
            self.write_padding(w - n);
            self.f.zero = old;
        } else {
            self.write_padding(w - n);
            self.buf.push_str(s);
        }
    }

    fn pad_spaces(&mut self, s: &str) {
        let old = self.f.zero;
        self.f.zero = false;
        self.pad(s);
        self.f.zero = old;
    }

    fn truncate<'s>(&self, s: &'s str) -> &'s str {
        if let Some((i, _)) = self.f.prec.and_then(|p| s.char_indices().nth(p)) {
            return &s[..i];
        }
        s
    }

    fn fmt_sx(&mut self, b: &[u8], upper: bool) {
        let digits: &[u8] = if upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let len = match self.f.prec {
            Some(p) if p < b.len() => p,
            _ => b.len(),
        };
        let mut s = String::new();
        for (i, &c) in b[..len].iter().enumerate() {
            if self.f.space && i > 0 {
                s.push(' ');
            }
            if self.f.sharp && (self.f.space || i == 0) {
                s.push('0');
                s.push(if upper { 'X' } else { 'x' });
            }
            s.push(digits[(c >> 4) as usize] as char);
            s.push(digits[(c & 15) as usize] as char);
        }
        self.pad(&s);
    }

    fn fmt_string(&mut self, s: &str, verb: char, arg: &Value) -> PResult {
        match verb {
            'v' if self.f.sharp => {
                let q = quote_go(s);
                self.pad(&q);
            }
            'v' | 's' => {
                let t = self.truncate(s).to_string();
                self.pad(&t);
            }
            'x' => self.fmt_sx(s.as_bytes(), false),
            'X' => self.fmt_sx(s.as_bytes(), true),
            'q' => {
                let t = self.truncate(s);
                let q = if self.f.sharp
                    && !t.contains('`')
                    && t.chars().all(|c| c == '\t' || !c.is_control())
                {
                    format!("`{t}`")
                } else {
                    quote_with(t, '"', self.f.plus)
                };
                self.pad(&q);
            }
            _ => self.bad_verb(verb, arg)?,
        }
        Ok(())
    }

    fn bad_verb(&mut self, verb: char, arg: &Value) -> PResult {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        match arg {
            Value::Nil => self.buf.push_str("<nil>"),
            a => {
                self.buf.push_str(a.type_name());
                self.buf.push('=');
                self.print_arg(a, 'v')?;
            }
        }
        self.buf.push(')');
        Ok(())
    }

    fn print_arg(&mut self, arg: &Value, verb: char) -> PResult {
        if verb == 'T' {
            let t = arg.type_name();
            self.fmt_string(t, 's', &Value::Nil)?;
            return Ok(());
        }
        match arg {
            Value::Nil => match verb {
                'v' => self.pad_spaces("<nil>"),
                _ => self.bad_verb(verb, arg)?,
            },
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(verb, arg)?,
            },
            Value::Int(i) | Value::Int64(i) => self.print_int(*i as i128, verb, arg)?,
            Value::Uint8(u) => self.print_int(*u as i128, verb, arg)?,
            Value::Float(f) => match verb {
                'v' => self.fmt_float(*f, 'g', None),
                'g' | 'G' => self.fmt_float(*f, verb, None),
                'e' | 'E' | 'f' | 'F' => self.fmt_float(*f, verb, Some(6)),
                _ => self.bad_verb(verb, arg)?,
            },
            Value::Str(s) => self.fmt_string(s, verb, arg)?,
            Value::Time(t) => match verb {
                'v' | 's' | 'x' | 'X' | 'q' => {
                    let s = t.to_string();
                    self.fmt_string(&s, verb, arg)?;
                }
                _ => {
                    self.buf.push_str("%!");
                    self.buf.push(verb);
                    self.buf.push_str("(time.Time=");
                    self.buf.push_str(&t.to_string());
                    self.buf.push(')');
                }
            },
            Value::List(l) => {
                self.buf.push('[');
                for (i, e) in l.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.print_arg(e, verb)?;
                }
                self.buf.push(']');
            }
            Value::Map(m) => {
                self.buf.push_str("map[");
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.print_arg(&Value::Str(k.clone()), verb)?;
                    self.buf.push(':');
                    self.print_arg(v, verb)?;
                }
                self.buf.push(']');
            }
            Value::Labels => return Err(Unprintable),
        }
        Ok(())
    }
}

/// Go's `fmt.Sprint`: spaces between operands when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> Result<String, Unprintable> {
    let mut p = Printer::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v')?;
        prev_string = is_string;
    }
    Ok(p.buf)
}

/// Go's `fmt.Sprintln`.
pub(crate) fn sprintln(args: &[Value]) -> Result<String, Unprintable> {
    let mut p = Printer::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v')?;
    }
    p.buf.push('\n');
    Ok(p.buf)
}

/// Go's `parsenum`; numbers above 1e6 are "too large", which makes Go
/// swallow the rest of the format.
fn parse_num(b: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        if n > 1_000_000 {
            return (None, b.len());
        }
        n = n * 10 + (b[i] - b'0') as usize;
        i += 1;
    }
    if i == start { (None, i) } else { (Some(n), i) }
}

/// Go's `fmt.Sprintf`, with explicit argument indexes (`%[2]d`).
pub(crate) fn sprintf(format: &str, args: &[Value]) -> Result<String, Unprintable> {
    let mut p = Printer::new();
    let b = format.as_bytes();
    let end = b.len();
    let mut arg_num = 0usize;
    let mut reordered = false;
    let mut i = 0;
    while i < end {
        let lasti = i;
        while i < end && b[i] != b'%' {
            i += 1;
        }
        if i > lasti {
            p.buf.push_str(&format[lasti..i]);
        }
        if i >= end {
            break;
        }
        i += 1;
        p.f = Flags::default();
        while i < end {
            match b[i] {
                b'#' => p.f.sharp = true,
                b'0' => p.f.zero = !p.f.minus,
                b'+' => p.f.plus = true,
                b'-' => {
                    p.f.minus = true;
                    p.f.zero = false;
                }
                b' ' => p.f.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut good_arg = true;
        let mut after_index;
        // Argument index for the width.
        (arg_num, i, after_index, good_arg) =
            arg_index(b, i, arg_num, args.len(), good_arg, &mut reordered);
        if i < end && b[i] == b'*' {
            i += 1;
            match args.get(arg_num) {
                Some(Value::Int(n) | Value::Int64(n)) => {
                    let mut n = *n;
                    if n < 0 {
                        p.f.minus = true;
                        p.f.zero = false;
                        n = -n;
                    }
                    if n > 1_000_000 {
                        p.buf.push_str("%!(BADWIDTH)");
                    } else {
                        p.f.wid = Some(n as usize);
                    }
                }
                Some(Value::Uint8(n)) => p.f.wid = Some(*n as usize),
                _ => p.buf.push_str("%!(BADWIDTH)"),
            }
            arg_num += 1;
            after_index = false;
        } else {
            let (w, ni) = parse_num(b, i);
            p.f.wid = w;
            i = ni;
            if after_index && p.f.wid.is_some() {
                good_arg = false;
            }
        }
        if i < end && b[i] == b'.' {
            i += 1;
            if after_index {
                good_arg = false;
            }
            (arg_num, i, after_index, good_arg) =
                arg_index(b, i, arg_num, args.len(), good_arg, &mut reordered);
            if i < end && b[i] == b'*' {
                i += 1;
                match args.get(arg_num) {
                    Some(Value::Int(n) | Value::Int64(n)) if *n >= 0 && *n <= 1_000_000 => {
                        p.f.prec = Some(*n as usize);
                    }
                    Some(Value::Int(n) | Value::Int64(n)) if *n < 0 => p.f.prec = None,
                    Some(Value::Uint8(n)) => p.f.prec = Some(*n as usize),
                    _ => p.buf.push_str("%!(BADPREC)"),
                }
                arg_num += 1;
                after_index = false;
            } else {
                let (pr, ni) = parse_num(b, i);
                i = ni;
                p.f.prec = Some(pr.unwrap_or(0));
            }
        }
        if !after_index {
            (arg_num, i, after_index, good_arg) =
                arg_index(b, i, arg_num, args.len(), good_arg, &mut reordered);
        }
        let _ = after_index;
        if i >= end {
            p.buf.push_str("%!(NOVERB)");
            break;
        }
        let verb = format[i..].chars().next().unwrap_or('?');
        i += verb.len_utf8();
        if verb == '%' {
            p.buf.push('%');
            continue;
        }
        if !good_arg {
            p.buf.push_str("%!");
            p.buf.push(verb);
            p.buf.push_str("(BADINDEX)");
            continue;
        }
        if arg_num >= args.len() {
            p.buf.push_str("%!");
            p.buf.push(verb);
            p.buf.push_str("(MISSING)");
            continue;
        }
        if verb == 'w' {
            let a = args[arg_num].clone();
            p.bad_verb('w', &a)?;
            arg_num += 1;
            continue;
        }
        let a = args[arg_num].clone();
        p.print_arg(&a, verb)?;
        arg_num += 1;
    }
    if !reordered && arg_num < args.len() {
        p.f = Flags::default();
        p.buf.push_str("%!(EXTRA ");
        for (k, a) in args[arg_num..].iter().enumerate() {
            if k > 0 {
                p.buf.push_str(", ");
            }
            match a {
                Value::Nil => p.buf.push_str("<nil>"),
                a => {
                    p.buf.push_str(a.type_name());
                    p.buf.push('=');
                    p.print_arg(a, 'v')?;
                }
            }
        }
        p.buf.push(')');
    }
    Ok(p.buf)
}

/// Go's `argNumber`: an optional `[n]` selecting the next argument.
fn arg_index(
    b: &[u8],
    i: usize,
    arg_num: usize,
    num_args: usize,
    good: bool,
    reordered: &mut bool,
) -> (usize, usize, bool, bool) {
    if i >= b.len() || b[i] != b'[' {
        return (arg_num, i, false, good);
    }
    *reordered = true;
    // Find the closing bracket.
    let mut j = i + 1;
    while j < b.len() && b[j] != b']' {
        j += 1;
    }
    if j >= b.len() {
        return (arg_num, i + 1, false, false);
    }
    let text = &b[i + 1..j];
    let ok = !text.is_empty() && text.iter().all(u8::is_ascii_digit) && text.len() < 8;
    if !ok {
        return (arg_num, j + 1, true, false);
    }
    let n: usize = std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if n >= 1 && n <= num_args {
        (n - 1, j + 1, true, good)
    } else {
        (arg_num, j + 1, true, false)
    }
}
