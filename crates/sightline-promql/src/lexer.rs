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

use crate::ast::Span;
use crate::text::{parse_duration, scan_quoted, skip_space};

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

/// Lexes a string literal starting with quote `q`.
fn lex_string(s: &str, q: char) -> LexResult<'_> {
    let (rest, value) = scan_quoted(s, q).map_err(|e| e.to_string())?;
    Ok((rest, Tok::Str(value)))
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
