//! Turns query text into tokens.
//!
//! The lexer is built from nom combinators over `&str`. It runs over the
//! whole input once, before parsing; a lexical error becomes a final
//! [`Tok::Error`] token, so the parser reports it only when it gets there
//! (as Prometheus does), and syntax errors earlier in the text win.
//!
//! Keywords are not tokens of their own: PromQL lets most of them serve as
//! metric and label names, so the parser decides from context what an
//! identifier means.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, tag_no_case, take_while, take_while1},
    character::complete::{char, digit0, digit1, one_of},
    combinator::opt,
};
use sightline_core::time::DAY_MS;

use crate::ast::Span;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An identifier or keyword; the text is in the token's span.
    Ident,
    Number(f64),
    /// A duration literal such as `1h30m`, in milliseconds.
    Duration(i64),
    /// A string literal, unescaped. `Err` holds the bytes when escapes
    /// produced invalid UTF-8.
    Str(Result<String, Vec<u8>>),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    /// `=` (label matching).
    Assign,
    EqlRegex,
    NeqRegex,
    /// `==`
    Eql,
    Neq,
    Lss,
    Gtr,
    Lte,
    Gte,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    /// `</` and `>/`, the native-histogram trim operators.
    Trim,
    Eof,
    Error(String),
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
    let mut brackets = 0usize;
    let mut braces = 0usize;
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
        let (next, tok) = match lex_token(rest, brackets > 0, braces > 0) {
            Ok(v) => v,
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
        };
        match tok {
            Tok::LBracket => brackets += 1,
            Tok::RBracket => brackets = brackets.saturating_sub(1),
            Tok::LBrace => braces += 1,
            Tok::RBrace => braces = braces.saturating_sub(1),
            _ => {}
        }
        let end = src.len() - next.len();
        out.push(Token {
            tok,
            span: Span { start, end },
        });
        rest = next;
    }
}

/// Skips whitespace and `#` comments.
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

fn lex_token(s: &str, in_brackets: bool, in_braces: bool) -> LexResult<'_> {
    // `lex` only calls this with non-empty input.
    let Some(c) = s.chars().next() else {
        return Err("unexpected end of input".into());
    };
    let second = s[c.len_utf8()..].chars().next();
    if c.is_ascii_digit() || (c == '.' && second.is_some_and(|d| d.is_ascii_digit())) {
        return lex_number_or_duration(s);
    }
    let ident_colon = !in_brackets && !in_braces;
    if c.is_ascii_alphabetic() || c == '_' || (c == ':' && ident_colon) {
        let r: IResult<&str, &str> = take_while1(|ch: char| {
            ch.is_ascii_alphanumeric() || ch == '_' || (ch == ':' && ident_colon)
        })
        .parse(s);
        return match r {
            Ok((rest, _)) => Ok((rest, Tok::Ident)),
            Err(_) => Err(format!("unexpected character: {c:?}")),
        };
    }
    if matches!(c, '"' | '\'' | '`') {
        return lex_string(s, c);
    }
    let ops: IResult<&str, &str> = alt((
        alt((
            tag("=="),
            tag("!="),
            tag("=~"),
            tag("!~"),
            tag("<="),
            tag(">="),
            tag("</"),
            tag(">/"),
        )),
        alt((
            tag("="),
            tag("<"),
            tag(">"),
            tag("+"),
            tag("-"),
            tag("*"),
            tag("/"),
            tag("%"),
            tag("^"),
            tag("("),
            tag(")"),
            tag("{"),
            tag("}"),
            tag("["),
            tag("]"),
            tag(","),
            tag(":"),
            tag("@"),
        )),
    ))
    .parse(s);
    let Ok((rest, op)) = ops else {
        if c == '!' {
            let after = second.map_or_else(|| "end of input".to_string(), |d| format!("{d:?}"));
            return Err(format!("unexpected character after '!': {after}"));
        }
        return Err(format!("unexpected character: {c:?}"));
    };
    let tok = match op {
        "==" => Tok::Eql,
        "!=" => Tok::Neq,
        "=~" => Tok::EqlRegex,
        "!~" => Tok::NeqRegex,
        "<=" => Tok::Lte,
        ">=" => Tok::Gte,
        "</" | ">/" => Tok::Trim,
        "=" => Tok::Assign,
        "<" => Tok::Lss,
        ">" => Tok::Gtr,
        "+" => Tok::Add,
        "-" => Tok::Sub,
        "*" => Tok::Mul,
        "/" => Tok::Div,
        "%" => Tok::Mod,
        "^" => Tok::Pow,
        "(" => Tok::LParen,
        ")" => Tok::RParen,
        "{" => Tok::LBrace,
        "}" => Tok::RBrace,
        "[" => Tok::LBracket,
        "]" => Tok::RBracket,
        "," => Tok::Comma,
        ":" => Tok::Colon,
        _ => Tok::At,
    };
    Ok((rest, tok))
}

/// `0x1f`, `12`, `1.5e3`, `.5`, or a duration such as `1h30m`.
fn lex_number_or_duration(s: &str) -> LexResult<'_> {
    let hex: IResult<&str, _> = (
        tag_no_case("0x"),
        opt(char('_')),
        take_while1(|c: char| c.is_ascii_hexdigit() || c == '_'),
    )
        .parse(s);
    let rest = match hex {
        Ok((rest, _)) => rest,
        Err(_) => {
            let decimal: IResult<&str, _> = (
                digit0,
                opt((char('.'), digit0)),
                opt((one_of("eE"), opt(one_of("+-")), digit1)),
            )
                .parse(s);
            decimal.map_err(|_| "bad number syntax".to_string())?.0
        }
    };
    let text = &s[..s.len() - rest.len()];
    let next_alnum = rest
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if !next_alnum {
        let value = number_value(text).ok_or_else(|| format!("bad number syntax: {text:?}"))?;
        return Ok((rest, Tok::Number(value)));
    }
    // A number glued to letters can only be a duration.
    let r: IResult<&str, &str> =
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.').parse(s);
    let (rest, word) = r.map_err(|_| "bad number or duration syntax".to_string())?;
    match parse_duration(word) {
        Some(ms) => Ok((rest, Tok::Duration(ms))),
        None => Err(format!("bad number or duration syntax: {word:?}")),
    }
}

/// The value of a number token: hexadecimal, Go-style octal (`0755`), or a
/// decimal float.
fn number_value(text: &str) -> Option<f64> {
    if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        let digits: String = h.chars().filter(|&c| c != '_').collect();
        return u128::from_str_radix(&digits, 16).ok().map(|v| v as f64);
    }
    if text.len() > 1 && text.starts_with('0') && text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return u128::from_str_radix(&text[1..], 8).ok().map(|v| v as f64);
    }
    if text == "." {
        return None;
    }
    text.parse::<f64>().ok()
}

/// Parses a Prometheus duration (`1y2w3d4h5m6s7ms`; units in this order,
/// each at most once) into milliseconds.
pub(crate) fn parse_duration(s: &str) -> Option<i64> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * DAY_MS),
        ("w", 7 * DAY_MS),
        ("d", DAY_MS),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    // Order in which units must appear; "ms" is last.
    let rank = |u: &str| match u {
        "y" => 0,
        "w" => 1,
        "d" => 2,
        "h" => 3,
        "m" => 4,
        "s" => 5,
        _ => 6,
    };
    let mut rest = s;
    let mut total: i64 = 0;
    let mut last_rank: i32 = -1;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let r: IResult<&str, &str> = digit1.parse(rest);
        let (after, digits) = r.ok()?;
        let (unit, mult) = UNITS.iter().find(|(u, _)| after.starts_with(u))?;
        let rk = rank(unit);
        if rk <= last_rank {
            return None;
        }
        last_rank = rk;
        let n: i64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(*mult)?)?;
        rest = &after[unit.len()..];
    }
    Some(total)
}

/// Lexes a string literal starting with quote `q`.
fn lex_string(s: &str, q: char) -> LexResult<'_> {
    let body = &s[1..];
    if q == '`' {
        return match body.find('`') {
            Some(i) => Ok((&body[i + 1..], Tok::Str(Ok(body[..i].to_string())))),
            None => Err("unterminated raw string".into()),
        };
    }
    let mut bytes: Vec<u8> = Vec::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == q => {
                let rest = &body[i + 1..];
                let value = String::from_utf8(bytes).map_err(|e| e.into_bytes());
                return Ok((rest, Tok::Str(value)));
            }
            '\n' => return Err("unterminated quoted string".into()),
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err("escape sequence not terminated".into());
                };
                match e {
                    'a' => bytes.push(7),
                    'b' => bytes.push(8),
                    'f' => bytes.push(12),
                    'n' => bytes.push(b'\n'),
                    'r' => bytes.push(b'\r'),
                    't' => bytes.push(b'\t'),
                    'v' => bytes.push(11),
                    '\\' => bytes.push(b'\\'),
                    e if e == q => push_char(&mut bytes, e),
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match chars.next().and_then(|(_, d)| d.to_digit(8)) {
                                Some(d) => v = v * 8 + d,
                                None => return Err("invalid octal escape sequence".into()),
                            }
                        }
                        let b =
                            u8::try_from(v).map_err(|_| format!("octal escape value {v} > 255"))?;
                        bytes.push(b);
                    }
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut v: u32 = 0;
                        for _ in 0..n {
                            match chars.next().and_then(|(_, d)| d.to_digit(16)) {
                                Some(d) => v = v * 16 + d,
                                None => {
                                    return Err(format!("invalid escape sequence \\{e}"));
                                }
                            }
                        }
                        if e == 'x' {
                            // Two hex digits always fit a byte.
                            bytes.push(v as u8);
                        } else {
                            match char::from_u32(v) {
                                Some(ch) => push_char(&mut bytes, ch),
                                None => {
                                    return Err(
                                        "escape sequence is an invalid Unicode code point".into()
                                    );
                                }
                            }
                        }
                    }
                    other => return Err(format!("unknown escape sequence {other:?}")),
                }
            }
            c => push_char(&mut bytes, c),
        }
    }
    Err("unterminated quoted string".into())
}

fn push_char(bytes: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(kinds("0x1f"), vec![Tok::Number(31.0), Tok::Eof]);
        assert_eq!(kinds("0755"), vec![Tok::Number(493.0), Tok::Eof]);
        assert_eq!(kinds(".5e1"), vec![Tok::Number(5.0), Tok::Eof]);
        assert_eq!(kinds("1h30m"), vec![Tok::Duration(5_400_000), Tok::Eof]);
        assert_eq!(kinds("5ms"), vec![Tok::Duration(5), Tok::Eof]);
        assert!(matches!(kinds("1m1h")[0], Tok::Error(_)));
        assert!(matches!(kinds("1.5m")[0], Tok::Error(_)));
    }

    #[test]
    fn strings() {
        assert_eq!(
            kinds(r#""a\n\x41\u00e9\101""#),
            vec![Tok::Str(Ok("a\nAéA".into())), Tok::Eof]
        );
        assert_eq!(kinds(r"`a\n`"), vec![Tok::Str(Ok("a\\n".into())), Tok::Eof]);
        assert_eq!(
            kinds(r#""\xff""#),
            vec![Tok::Str(Err(vec![0xff])), Tok::Eof]
        );
        assert!(matches!(kinds(r#""\'""#)[0], Tok::Error(_)));
        assert!(matches!(kinds("'abc")[0], Tok::Error(_)));
    }

    #[test]
    fn comments_and_colons() {
        assert_eq!(kinds("a:b # c\n"), vec![Tok::Ident, Tok::Eof]);
        assert_eq!(
            kinds("[5m:1m]"),
            vec![
                Tok::LBracket,
                Tok::Duration(300_000),
                Tok::Colon,
                Tok::Duration(60_000),
                Tok::RBracket,
                Tok::Eof
            ]
        );
    }
}
