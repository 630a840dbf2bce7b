//! The PromQL grammar: a recursive-descent parser with precedence climbing
//! over the tokens of [`crate::lexer`]. This file holds the parser state and
//! token helpers; `expr` the operators and primaries, `call` calls,
//! aggregations and label lists, `selector` vector selectors, `modifier`
//! ranges, subqueries, `offset` and `@`, `duration` duration expressions.
//!
//! Syntax errors and errors that concern a single node's shape (a matrix
//! range on something that is not a selector, a repeated `offset`, a bad
//! matcher) are raised here. Type rules that look at a whole subtree run
//! afterwards in [`crate::check`], so a syntax error later in the text is
//! reported before a type error earlier in it, as Prometheus does.

mod call;
mod duration;
mod expr;
mod modifier;
mod selector;

use crate::ast::{AggOp, Expr, Span};
use crate::error::ParseError;
use crate::lexer::{Tok, Token, lex};

/// Deepest nesting of sub-expressions accepted, so that hostile input
/// cannot exhaust the stack. A level is one parenthesis, call or
/// aggregation argument, unary sign or subquery (and, inside a range or
/// offset, one parenthesis or sign of a duration expression). Chains of
/// binary operators are not nesting: `a + b + ... + z` (or a run of the
/// right-associative `^`) of any length is parsed, checked, printed,
/// evaluated, cloned and dropped without recursion along the chain. The
/// limit is sized so that a 2 MiB thread stack (the default for spawned
/// threads and tokio workers) is enough even in unoptimised builds, where
/// one level of `sum(...)` costs about 7.5 KiB of parser and checker stack
/// (about 2 KiB optimised).
pub const MAX_DEPTH: usize = 200;

/// Words with a fixed meaning in some position; shown as `<word>` in
/// errors, as Prometheus shows its keywords.
const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "start",
    "end",
    "step",
    "range",
    "anchored",
    "smoothed",
];

pub(crate) type PResult<T> = Result<T, ParseError>;

pub(crate) struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    /// Levels of nesting around the cursor (see [`MAX_DEPTH`]).
    depth: usize,
}

/// Parses a PromQL expression without the type checks.
pub(crate) fn parse_unchecked(src: &str) -> PResult<Expr> {
    let mut p = Parser {
        src,
        toks: lex(src),
        pos: 0,
        depth: 0,
    };
    let expr = p.parse_expr()?;
    let t = p.peek().clone();
    match t.tok {
        Tok::Eof => Ok(expr),
        Tok::RParen => Err(p.err(t.span, "unexpected right parenthesis ')'")),
        _ => Err(p.unexpected(&t, None, None)),
    }
}

impl<'a> Parser<'a> {
    // ---- token helpers -------------------------------------------------

    pub(crate) fn peek(&self) -> &Token {
        // `lex` always ends the list with `Eof` or `Error`, and `bump` never
        // moves past that last token.
        let last = self.toks.len().saturating_sub(1);
        &self.toks[self.pos.min(last)]
    }

    pub(crate) fn peek_nth(&self, n: usize) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.pos + n).min(last)]
    }

    pub(crate) fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if !matches!(t.tok, Tok::Eof | Tok::Error(_)) {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn text(&self, t: &Token) -> &'a str {
        self.src.get(t.span.start..t.span.end).unwrap_or("")
    }

    /// The lower-cased text of an identifier token, or `None`.
    pub(crate) fn word(&self, t: &Token) -> Option<String> {
        (t.tok == Tok::Ident).then(|| self.text(t).to_ascii_lowercase())
    }

    /// Whether the next token is the keyword `kw` (any case).
    pub(crate) fn at_kw(&self, kw: &str) -> bool {
        let t = self.peek();
        t.tok == Tok::Ident && self.text(t).eq_ignore_ascii_case(kw)
    }

    pub(crate) fn err(&self, span: Span, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.src, span, msg)
    }

    /// How a token is named in error messages.
    pub(crate) fn describe(&self, t: &Token) -> String {
        let text = self.text(t);
        match &t.tok {
            Tok::Eof => "end of input".into(),
            Tok::Ident => {
                let lower = text.to_ascii_lowercase();
                if KEYWORDS.contains(&lower.as_str()) {
                    format!("<{lower}>")
                } else if AggOp::from_name(&lower).is_some() {
                    format!("<aggr:{lower}>")
                } else if matches!(lower.as_str(), "and" | "or" | "unless" | "atan2") {
                    format!("<op:{lower}>")
                } else {
                    format!("identifier {text:?}")
                }
            }
            Tok::Number(_) => format!("number {text:?}"),
            Tok::Duration(_) => format!("duration {text:?}"),
            Tok::Str(_) => {
                let short: String = text.chars().take(12).collect();
                if short.len() < text.len() {
                    format!("string {short}...")
                } else {
                    format!("string {text}")
                }
            }
            Tok::Add
            | Tok::Sub
            | Tok::Mul
            | Tok::Div
            | Tok::Mod
            | Tok::Pow
            | Tok::Eql
            | Tok::Neq
            | Tok::Lss
            | Tok::Gtr
            | Tok::Lte
            | Tok::Gte
            | Tok::Trim => format!("<op:{text}>"),
            Tok::Error(msg) => msg.clone(),
            _ => format!("{text:?}"),
        }
    }

    /// `unexpected <token>[ in <context>][, expected <what>]`, or the
    /// lexer's own message when the token is a lexical error.
    pub(crate) fn unexpected(
        &self,
        t: &Token,
        context: Option<&str>,
        expected: Option<&str>,
    ) -> ParseError {
        if let Tok::Error(msg) = &t.tok {
            return self.err(t.span, msg.clone());
        }
        let mut msg = format!("unexpected {}", self.describe(t));
        if let Some(c) = context {
            msg.push_str(" in ");
            msg.push_str(c);
        }
        if let Some(e) = expected {
            msg.push_str(", expected ");
            msg.push_str(e);
        }
        self.err(t.span, msg)
    }

    /// Consumes a token of the given kind or fails with `unexpected ...`.
    pub(crate) fn expect(&mut self, want: &Tok, context: &str, expected: &str) -> PResult<Token> {
        let t = self.peek().clone();
        if std::mem::discriminant(&t.tok) == std::mem::discriminant(want) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(&t, Some(context), Some(expected)))
        }
    }

    pub(crate) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn too_deep(&self) -> ParseError {
        let at = self.peek().span;
        self.err(
            at,
            format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
        )
    }
}
