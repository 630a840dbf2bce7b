//! Turns LogQL text into tokens, as Loki's lexer does: numbers followed by
//! a unit become duration or byte-size literals, `[...]` is one range
//! token, `--strict`/`--keep-empty` are flags, and keywords are not tokens
//! of their own (the parser decides from context, case-insensitively).

use nom::{
    IResult, Parser,
    bytes::complete::{take_while, take_while1},
    character::complete::{char, digit1, one_of},
    combinator::{opt, recognize},
};

use crate::ast::Span;
use crate::literals;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    /// A number's text, as written.
    Number(String),
    Duration(i64),
    Bytes(u64),
    /// `[5m]`, in nanoseconds.
    Range(i64),
    Flag(String),
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    /// `=`
    Eq,
    /// `!=`
    Neq,
    /// `=~`
    Re,
    /// `!~`
    Nre,
    /// `!>`
    Npa,
    /// `|=`
    PipeExact,
    /// `|~`
    PipeMatch,
    /// `|>`
    PipePattern,
    Pipe,
    /// `==`
    CmpEq,
    Gt,
    Gte,
    Lt,
    Lte,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eof,
    Error(String),
}

impl Tok {
    /// How an error message names the token, as Loki's parser does.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(_) => "IDENTIFIER".into(),
            Tok::Str(_) => "STRING".into(),
            Tok::Number(_) => "NUMBER".into(),
            Tok::Duration(_) => "DURATION".into(),
            Tok::Bytes(_) => "BYTES".into(),
            Tok::Range(_) => "RANGE".into(),
            Tok::Flag(_) => "FUNCTION_FLAG".into(),
            Tok::Eof => "$end".into(),
            Tok::Error(m) => m.clone(),
            other => other.text().to_string(),
        }
    }

    fn text(&self) -> &'static str {
        match self {
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Comma => ",",
            Tok::Eq => "=",
            Tok::Neq => "!=",
            Tok::Re => "=~",
            Tok::Nre => "!~",
            Tok::Npa => "!>",
            Tok::PipeExact => "|=",
            Tok::PipeMatch => "|~",
            Tok::PipePattern => "|>",
            Tok::Pipe => "|",
            Tok::CmpEq => "==",
            Tok::Gt => ">",
            Tok::Gte => ">=",
            Tok::Lt => "<",
            Tok::Lte => "<=",
            Tok::Add => "+",
            Tok::Sub => "-",
            Tok::Mul => "*",
            Tok::Div => "/",
            Tok::Mod => "%",
            Tok::Pow => "^",
            _ => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Lexes `src` completely. The result always ends with `Eof` or `Error`.
pub(crate) fn lex(src: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut rest = src;
    loop {
        rest = skip_space(rest);
        let start = src.len() - rest.len();
        if rest.is_empty() {
            out.push(Token {
                tok: Tok::Eof,
                span: Span { start, end: start },
            });
            return out;
        }
        match lex_token(rest) {
            Ok((next, tok)) => {
                let end = src.len() - next.len();
                out.push(Token {
                    tok,
                    span: Span { start, end },
                });
                rest = next;
            }
            Err(msg) => {
                out.push(Token {
                    tok: Tok::Error(msg),
                    span: Span {
                        start,
                        end: src.len(),
                    },
                });
                return out;
            }
        }
    }
}

/// Skips whitespace and `#` comments (to the end of the line).
fn skip_space(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        if let Some(c) = t.strip_prefix('#') {
            s = c.find('\n').map_or("", |i| &c[i..]);
        } else {
            return t;
        }
    }
}

type LexResult<'a> = Result<(&'a str, Tok), String>;

fn lex_token(s: &str) -> LexResult<'_> {
    let Some(c) = s.chars().next() else {
        return Err("unexpected end of input".into());
    };
    if c.is_ascii_digit() || (c == '.' && s[1..].starts_with(|d: char| d.is_ascii_digit())) {
        return lex_number(s);
    }
    if c == '_' || c.is_alphabetic() {
        let r: IResult<&str, &str> =
            take_while1(|ch: char| ch == '_' || ch.is_alphanumeric()).parse(s);
        return match r {
            Ok((rest, id)) => Ok((rest, Tok::Ident(id.to_string()))),
            Err(_) => Err(format!("unexpected character: {c:?}")),
        };
    }
    match c {
        '"' | '`' | '\'' => return lex_string(s, c),
        '[' => return lex_range(s),
        '-' => {
            if let Some(r) = lex_flag(s) {
                return Ok(r);
            }
            if s[1..].starts_with(|d: char| d.is_ascii_digit() || d == '.')
                && let Some((rest, ns)) = unit_suffix(s, 1, literals::parse_duration_literal)
            {
                return Ok((rest, Tok::Duration(ns)));
            }
        }
        _ => {}
    }
    let two = s.get(..2).unwrap_or("");
    let tok2 = match two {
        "!=" => Some(Tok::Neq),
        "=~" => Some(Tok::Re),
        "!~" => Some(Tok::Nre),
        "!>" => Some(Tok::Npa),
        "|=" => Some(Tok::PipeExact),
        "|~" => Some(Tok::PipeMatch),
        "|>" => Some(Tok::PipePattern),
        "==" => Some(Tok::CmpEq),
        ">=" => Some(Tok::Gte),
        "<=" => Some(Tok::Lte),
        _ => None,
    };
    if let Some(t) = tok2 {
        return Ok((&s[2..], t));
    }
    let tok = match c {
        '{' => Tok::LBrace,
        '}' => Tok::RBrace,
        '(' => Tok::LParen,
        ')' => Tok::RParen,
        ',' => Tok::Comma,
        '=' => Tok::Eq,
        '|' => Tok::Pipe,
        '>' => Tok::Gt,
        '<' => Tok::Lt,
        '+' => Tok::Add,
        '-' => Tok::Sub,
        '*' => Tok::Mul,
        '/' => Tok::Div,
        '%' => Tok::Mod,
        '^' => Tok::Pow,
        _ => return Err(format!("unexpected character: {c:?}")),
    };
    Ok((&s[c.len_utf8()..], tok))
}

/// A number, or a duration or byte size when a unit follows it directly.
fn lex_number(s: &str) -> LexResult<'_> {
    let r: IResult<&str, &str> = recognize((
        take_while(|c: char| c.is_ascii_digit()),
        opt((char('.'), take_while(|c: char| c.is_ascii_digit()))),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(s);
    let Ok((_, num)) = r else {
        return Err("bad number".into());
    };
    // Hexadecimal literals, as Go's scanner reads them.
    if num == "0"
        && let Some(hex) = s.get(1..).and_then(|h| h.strip_prefix(['x', 'X']))
    {
        let digits = hex.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(hex.len());
        if digits > 0 {
            let end = 2 + digits;
            return Ok((&s[end..], Tok::Number(s[..end].to_string())));
        }
    }
    if let Some((rest, ns)) = unit_suffix(s, num.len(), literals::parse_duration_literal) {
        return Ok((rest, Tok::Duration(ns)));
    }
    if let Some((rest, b)) = unit_suffix(s, num.len(), literals::parse_bytes) {
        return Ok((rest, Tok::Bytes(b)));
    }
    Ok((&s[num.len()..], Tok::Number(num.to_string())))
}

/// Extends a number at `s[..at]` with the letters, digits and dots that
/// follow it (up to a space or another character) and parses the whole with
/// `parse`; `None` when nothing follows or it does not parse.
fn unit_suffix<T, E>(
    s: &str,
    at: usize,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<(&str, T)> {
    let tail = &s[at..];
    let len = tail
        .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == 'µ'))
        .unwrap_or(tail.len());
    if len == 0 || !tail[..len].chars().any(char::is_alphabetic) {
        return None;
    }
    let text = &s[..at + len];
    parse(text).ok().map(|v| (&s[at + len..], v))
}

fn lex_flag(s: &str) -> Option<(&str, Tok)> {
    let rest = s.strip_prefix("--")?;
    let len = rest
        .find(|c: char| !(c.is_alphabetic() || c == '-'))
        .unwrap_or(rest.len());
    let flag = &s[..2 + len];
    matches!(flag, "--strict" | "--keep-empty")
        .then(|| (&s[2 + len..], Tok::Flag(flag.to_string())))
}

fn lex_range(s: &str) -> LexResult<'_> {
    let Some(close) = s.find(']') else {
        return Err("missing closing ']' in duration".into());
    };
    let text = &s[1..close];
    match literals::parse_prometheus_duration(text) {
        Ok(ns) => Ok((&s[close + 1..], Tok::Range(ns))),
        Err(e) => Err(e),
    }
}

/// Go string literals: `"..."` with escapes, `'...'`, and raw `` `...` ``.
fn lex_string(s: &str, quote: char) -> LexResult<'_> {
    let body = &s[1..];
    if quote == '`' {
        return match body.find('`') {
            Some(i) => Ok((&body[i + 1..], Tok::Str(body[..i].to_string()))),
            None => Err("literal not terminated".into()),
        };
    }
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if quote == '\'' && out.chars().count() != 1 {
                return Err("invalid syntax".into());
            }
            return Ok((&body[i + 1..], Tok::Str(out)));
        }
        if c == '\n' {
            return Err("literal not terminated".into());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        let simple = match e {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' => Some('\\'),
            '"' if quote == '"' => Some('"'),
            '\'' if quote == '\'' => Some('\''),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            continue;
        }
        let (digits, radix) = match e {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (2, 8),
            _ => return Err("invalid char escape".into()),
        };
        let mut text = String::new();
        if radix == 8 {
            text.push(e);
        }
        for _ in 0..digits {
            match chars.next() {
                Some((_, d)) if d.is_digit(radix) => text.push(d),
                _ => return Err("invalid syntax".into()),
            }
        }
        let Ok(v) = u32::from_str_radix(&text, radix) else {
            return Err("invalid syntax".into());
        };
        if e == 'x' || radix == 8 {
            if v > 0xff {
                return Err("invalid syntax".into());
            }
            // Byte escapes must form valid UTF-8 together; only ASCII
            // bytes stand alone.
            if v > 0x7f {
                return Err("invalid UTF-8 rune".into());
            }
        }
        match char::from_u32(v) {
            Some(ch) => out.push(ch),
            None => return Err("invalid syntax".into()),
        }
    }
    Err("literal not terminated".into())
}
