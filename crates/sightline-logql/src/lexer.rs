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

use sightline_promql::text::{QuoteError, scan_quoted, skip_space};

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
        '"' | '`' => return lex_string(s, c),
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
        let digits = hex
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(hex.len());
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
    match literals::parse_range(&s[1..close]) {
        Ok(ns) => Ok((&s[close + 1..], Tok::Range(ns))),
        Err(e) => Err(e),
    }
}

/// Go string literals, `"..."` with escapes and raw `` `...` ``, unquoted
/// as PromQL's are, errors worded as Loki's lexer words them.
fn lex_string(s: &str, quote: char) -> LexResult<'_> {
    match scan_quoted(s, quote) {
        Ok((rest, Ok(value))) => Ok((rest, Tok::Str(value))),
        Ok((_, Err(_))) => Err("invalid UTF-8 rune".into()),
        Err(QuoteError::Unterminated { .. } | QuoteError::EscapeUnterminated) => {
            Err("literal not terminated".into())
        }
        Err(QuoteError::UnknownEscape(_) | QuoteError::BadEscape(_)) => {
            Err("invalid char escape".into())
        }
    }
}
