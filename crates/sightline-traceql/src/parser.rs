//! TraceQL text into a [`Query`]: a lexer (nom) and a recursive-descent
//! parser whose nesting is bounded. What the search answers is parsed; the
//! rest of the language (structural operators, aggregates, metrics,
//! `event.`/`link.`/`instrumentation.` scopes) is refused by name, so an
//! unsupported query never returns a wrong answer.

use nom::{
    IResult, Parser,
    bytes::complete::take_while1,
    character::complete::{char, digit1},
    combinator::{opt, recognize},
};

use crate::TraceqlError;
use crate::ast::{AttrScope, Field, Intrinsic, Op, Operand, Query, SpanExpr, SpansetExpr, Value};

/// Deepest nesting of parentheses and braces.
const MAX_DEPTH: usize = 64;

/// Most conditions and span sets in one query: each `&&` or `||` adds a
/// level to the tree that evaluation walks recursively, so their count,
/// not only the parentheses, bounds its depth.
pub const MAX_TERMS: usize = 256;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Number(String),
    Duration(i64),
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    AndAnd,
    OrOr,
    Pipe,
    Op(Op),
    /// A structural or sibling operator (`>>`, `<<`, `~`, `!>>`, …), or
    /// `>`/`<` between span sets; kept by its text for the refusal.
    Structural(String),
    Eof,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("{s:?}"),
        Tok::Str(s) => format!("the string {s:?}"),
        Tok::Number(s) => s.clone(),
        Tok::Duration(_) => "a duration".into(),
        Tok::LBrace => "'{'".into(),
        Tok::RBrace => "'}'".into(),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::AndAnd => "'&&'".into(),
        Tok::OrOr => "'||'".into(),
        Tok::Pipe => "'|'".into(),
        Tok::Op(o) => format!("'{}'", op_text(*o)),
        Tok::Structural(s) => format!("'{s}'"),
        Tok::Eof => "the end of the query".into(),
    }
}

fn op_text(o: Op) -> &'static str {
    match o {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Re => "=~",
        Op::NotRe => "!~",
    }
}

/// Characters that end an identifier.
fn ends_ident(c: char) -> bool {
    c.is_whitespace() || "{}()=!<>&|~,\"`".contains(c)
}

fn ident(s: &str) -> IResult<&str, &str> {
    take_while1(|c: char| !ends_ident(c)).parse(s)
}

/// A number: digits, an optional fraction, and the unit letters of a
/// duration if any follow.
fn number(s: &str) -> IResult<&str, (&str, &str)> {
    let (rest, num) = recognize((digit1, opt((char('.'), digit1)))).parse(s)?;
    let (rest, unit) = opt(take_while1(|c: char| {
        c.is_ascii_alphabetic() || c == 'µ' || c == 'μ'
    }))
    .parse(rest)?;
    Ok((rest, (num, unit.unwrap_or(""))))
}

fn lex(text: &str) -> Result<Vec<Tok>, TraceqlError> {
    let mut out = Vec::new();
    let mut s = text;
    loop {
        s = s.trim_start();
        let Some(c) = s.chars().next() else {
            out.push(Tok::Eof);
            return Ok(out);
        };
        let two = s.get(..2).unwrap_or("");
        let three = s.get(..3).unwrap_or("");
        let (tok, len) = match (three, two, c) {
            ("!>>" | "!<<", _, _) => (Tok::Structural(three.into()), 3),
            (_, "&&", _) => (Tok::AndAnd, 2),
            (_, "||", _) => (Tok::OrOr, 2),
            (_, "!=", _) => (Tok::Op(Op::Ne), 2),
            (_, "=~", _) => (Tok::Op(Op::Re), 2),
            (_, "!~", _) => (Tok::Op(Op::NotRe), 2),
            (_, ">=", _) => (Tok::Op(Op::Ge), 2),
            (_, "<=", _) => (Tok::Op(Op::Le), 2),
            (_, ">>" | "<<" | "!>" | "!<", _) => (Tok::Structural(two.into()), 2),
            (_, _, '{') => (Tok::LBrace, 1),
            (_, _, '}') => (Tok::RBrace, 1),
            (_, _, '(') => (Tok::LParen, 1),
            (_, _, ')') => (Tok::RParen, 1),
            (_, _, ',') => (Tok::Comma, 1),
            (_, _, '|') => (Tok::Pipe, 1),
            (_, _, '=') => (Tok::Op(Op::Eq), 1),
            (_, _, '>') => (Tok::Op(Op::Gt), 1),
            (_, _, '<') => (Tok::Op(Op::Lt), 1),
            (_, _, '~') => (Tok::Structural("~".into()), 1),
            (_, _, '"' | '`') => {
                let (rest, v) = sightline_promql::text::scan_quoted(s, c)
                    .map_err(|e| TraceqlError::Parse(format!("{e}")))?;
                let v = v.map_err(|_| {
                    TraceqlError::Parse("a string literal that is not UTF-8".into())
                })?;
                out.push(Tok::Str(v));
                s = rest;
                continue;
            }
            (_, _, '-' | '0'..='9') => {
                let (neg, body) = match s.strip_prefix('-') {
                    Some(b) => (true, b),
                    None => (false, s),
                };
                let Ok((rest, (num, unit))) = number(body) else {
                    return Err(TraceqlError::Parse(format!("unexpected character {c:?}")));
                };
                let sign = if neg { "-" } else { "" };
                if unit.is_empty() {
                    out.push(Tok::Number(format!("{sign}{num}")));
                } else {
                    let text = format!("{sign}{num}{unit}");
                    let ns = sightline_logql::literals::parse_go_duration(&text)
                        .map_err(|_| TraceqlError::Parse(format!("invalid duration {text:?}")))?;
                    out.push(Tok::Duration(ns));
                }
                s = rest;
                continue;
            }
            _ => {
                let Ok((rest, id)) = ident(s) else {
                    return Err(TraceqlError::Parse(format!("unexpected character {c:?}")));
                };
                out.push(Tok::Ident(id.to_string()));
                s = rest;
                continue;
            }
        };
        out.push(tok);
        s = &s[len..];
    }
}

struct QueryParser {
    toks: Vec<Tok>,
    at: usize,
    depth: usize,
    terms: usize,
}

type R<T> = Result<T, TraceqlError>;

fn err<T>(msg: impl Into<String>) -> R<T> {
    Err(TraceqlError::Parse(msg.into()))
}

impl QueryParser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.at).unwrap_or(&Tok::Eof)
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.at += 1;
        t
    }

    fn expect(&mut self, want: Tok) -> R<()> {
        let t = self.next();
        if t == want {
            Ok(())
        } else {
            err(format!(
                "expected {}, found {}",
                describe(&want),
                describe(&t)
            ))
        }
    }

    /// Counts one condition or span set.
    fn term(&mut self) -> R<()> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return err(format!(
                "query has more than {MAX_TERMS} conditions and span sets"
            ));
        }
        Ok(())
    }

    fn nest(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err("query nested too deeply");
        }
        Ok(())
    }

    fn query(&mut self) -> R<Query> {
        let spansets = self.spanset_or()?;
        let mut select = Vec::new();
        while *self.peek() == Tok::Pipe {
            self.next();
            match self.next() {
                Tok::Ident(s) if s == "select" => {
                    self.expect(Tok::LParen)?;
                    loop {
                        select.push(self.field()?);
                        match self.next() {
                            Tok::Comma => continue,
                            Tok::RParen => break,
                            t => {
                                return err(format!("expected ',' or ')', found {}", describe(&t)));
                            }
                        }
                    }
                }
                Tok::Ident(s) => {
                    return err(format!(
                        "the pipeline stage {s:?} is not supported: a search takes span-set \
                         filters and select(…)"
                    ));
                }
                Tok::LBrace => {
                    return err(
                        "a span-set filter after '|' is not supported: combine filters with \
                         '&&' inside one '{…}'",
                    );
                }
                t => return err(format!("expected a pipeline stage, found {}", describe(&t))),
            }
        }
        match self.next() {
            Tok::Eof => Ok(Query { spansets, select }),
            t => err(format!("unexpected {} after the query", describe(&t))),
        }
    }

    fn spanset_or(&mut self) -> R<SpansetExpr> {
        let mut left = self.spanset_and()?;
        while *self.peek() == Tok::OrOr {
            self.next();
            let right = self.spanset_and()?;
            left = SpansetExpr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn spanset_and(&mut self) -> R<SpansetExpr> {
        let mut left = self.spanset_primary()?;
        loop {
            match self.peek() {
                Tok::AndAnd => {
                    self.next();
                    let right = self.spanset_primary()?;
                    left = SpansetExpr::And(Box::new(left), Box::new(right));
                }
                Tok::Structural(s) => {
                    return err(format!(
                        "the span-set operator '{s}' is not supported: span sets combine with \
                         '&&' and '||'"
                    ));
                }
                Tok::Op(o @ (Op::Gt | Op::Lt)) => {
                    return err(format!(
                        "the span-set operator '{}' is not supported: span sets combine with \
                         '&&' and '||'",
                        op_text(*o)
                    ));
                }
                _ => return Ok(left),
            }
        }
    }

    fn spanset_primary(&mut self) -> R<SpansetExpr> {
        self.term()?;
        match self.next() {
            Tok::LBrace => {
                self.nest()?;
                let e = if *self.peek() == Tok::RBrace {
                    SpanExpr::True
                } else {
                    self.span_or()?
                };
                self.expect(Tok::RBrace)?;
                self.depth -= 1;
                Ok(SpansetExpr::Filter(e))
            }
            Tok::LParen => {
                self.nest()?;
                let e = self.spanset_or()?;
                self.expect(Tok::RParen)?;
                self.depth -= 1;
                Ok(e)
            }
            Tok::Ident(s) if is_aggregate(&s) => err(format!(
                "{s}() is not supported: a search takes span-set filters and select(…)"
            )),
            t => err(format!("expected '{{', found {}", describe(&t))),
        }
    }

    fn span_or(&mut self) -> R<SpanExpr> {
        let mut left = self.span_and()?;
        while *self.peek() == Tok::OrOr {
            self.next();
            let right = self.span_and()?;
            left = SpanExpr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn span_and(&mut self) -> R<SpanExpr> {
        let mut left = self.span_primary()?;
        while *self.peek() == Tok::AndAnd {
            self.next();
            let right = self.span_primary()?;
            left = SpanExpr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn span_primary(&mut self) -> R<SpanExpr> {
        self.term()?;
        match self.peek().clone() {
            Tok::LParen => {
                self.next();
                self.nest()?;
                let e = self.span_or()?;
                self.expect(Tok::RParen)?;
                self.depth -= 1;
                Ok(e)
            }
            Tok::Ident(s) if s == "true" => {
                self.next();
                Ok(SpanExpr::True)
            }
            Tok::Ident(s) if s == "false" => {
                self.next();
                Ok(SpanExpr::False)
            }
            _ => {
                let f = self.field()?;
                let op = match self.next() {
                    Tok::Op(o) => o,
                    t => {
                        return err(format!(
                            "expected a comparison after {}, found {}",
                            field_text(&f),
                            describe(&t)
                        ));
                    }
                };
                let operand = self.operand(&f, op)?;
                Ok(SpanExpr::Cmp(f, op, operand))
            }
        }
    }

    fn field(&mut self) -> R<Field> {
        let t = self.next();
        let Tok::Ident(s) = t else {
            return err(format!(
                "expected an attribute or intrinsic, found {}",
                describe(&t)
            ));
        };
        if let Some(i) = Intrinsic::from_name(&s) {
            return Ok(Field::Intrinsic(i));
        }
        for prefix in [
            "event.",
            "event:",
            "link.",
            "link:",
            "instrumentation.",
            "instrumentation:",
        ] {
            if s.starts_with(prefix) {
                return err(format!(
                    "{s:?}: the {} scope is not supported: attributes are resource., span. \
                     or unscoped .",
                    prefix.trim_end_matches(['.', ':'])
                ));
            }
        }
        let (scope, key) = if let Some(k) = s.strip_prefix("resource.") {
            (AttrScope::Resource, k)
        } else if let Some(k) = s.strip_prefix("span.") {
            (AttrScope::Span, k)
        } else if let Some(k) = s.strip_prefix('.') {
            (AttrScope::Any, k)
        } else {
            return err(format!(
                "unknown intrinsic {s:?}: attributes need a scope (resource., span. or .)"
            ));
        };
        // `span."a b"`: a quoted name after the scope's dot.
        let key = if key.is_empty() {
            match self.next() {
                Tok::Str(k) if !k.is_empty() => k,
                t => {
                    return err(format!(
                        "expected an attribute name after {s:?}, found {}",
                        describe(&t)
                    ));
                }
            }
        } else {
            key.to_string()
        };
        Ok(Field::Attr { scope, key })
    }

    fn operand(&mut self, f: &Field, op: Op) -> R<Operand> {
        let t = self.next();
        if matches!(op, Op::Re | Op::NotRe) {
            let Tok::Str(re) = t else {
                return err(format!(
                    "'{}' takes a string, found {}",
                    op_text(op),
                    describe(&t)
                ));
            };
            let compiled = regex::RegexBuilder::new(&format!("^(?s:{re})$"))
                .size_limit(1 << 20)
                .build()
                .map_err(|e| {
                    TraceqlError::Parse(format!("invalid regular expression {re:?}: {e}"))
                })?;
            return Ok(Operand::Regex(compiled, re));
        }
        let v = match t {
            Tok::Str(s) => Value::Str(s),
            Tok::Number(n) => match n.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Float(
                    n.parse::<f64>()
                        .map_err(|_| TraceqlError::Parse(format!("invalid number {n:?}")))?,
                ),
            },
            Tok::Duration(ns) => Value::Duration(ns),
            Tok::Ident(k) => match k.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "nil" => {
                    if !matches!(op, Op::Eq | Op::Ne) {
                        return err("nil compares with '=' and '!=' only");
                    }
                    return Ok(Operand::Nil);
                }
                "unset" => Value::Status(0),
                "ok" => Value::Status(1),
                "error" => Value::Status(2),
                "unspecified" => Value::Kind(0),
                "internal" => Value::Kind(1),
                "server" => Value::Kind(2),
                "client" => Value::Kind(3),
                "producer" => Value::Kind(4),
                "consumer" => Value::Kind(5),
                other => return err(format!("expected a value, found {other:?}")),
            },
            t => return err(format!("expected a value, found {}", describe(&t))),
        };
        check_type(f, op, &v)?;
        Ok(Operand::Value(v))
    }
}

fn is_aggregate(s: &str) -> bool {
    matches!(
        s,
        "count" | "avg" | "min" | "max" | "sum" | "by" | "coalesce" | "rate" | "quantile_over_time"
    )
}

fn field_text(f: &Field) -> String {
    match f {
        Field::Intrinsic(i) => i.name().to_string(),
        Field::Attr { scope, key } => match scope {
            AttrScope::Resource => format!("resource.{key}"),
            AttrScope::Span => format!("span.{key}"),
            AttrScope::Any => format!(".{key}"),
        },
    }
}

/// Intrinsics of one type compare only with values of it.
fn check_type(f: &Field, op: Op, v: &Value) -> R<()> {
    let Field::Intrinsic(i) = f else {
        return Ok(());
    };
    let want = match i {
        Intrinsic::Status => matches!(v, Value::Status(_))
            .then_some(())
            .ok_or("ok, error or unset"),
        Intrinsic::Kind => matches!(v, Value::Kind(_))
            .then_some(())
            .ok_or("a span kind (server, client, producer, consumer, internal, unspecified)"),
        Intrinsic::Duration | Intrinsic::TraceDuration => matches!(v, Value::Duration(_))
            .then_some(())
            .ok_or("a duration such as 100ms"),
        _ => matches!(v, Value::Str(_)).then_some(()).ok_or("a string"),
    };
    if let Err(w) = want {
        return err(format!("{} compares with {w}", i.name()));
    }
    if matches!(i, Intrinsic::Status | Intrinsic::Kind) && !matches!(op, Op::Eq | Op::Ne) {
        return err(format!("{} compares with '=' and '!=' only", i.name()));
    }
    Ok(())
}

/// Parses a TraceQL query.
pub fn parse(text: &str) -> Result<Query, TraceqlError> {
    let toks = lex(text)?;
    let mut p = QueryParser {
        toks,
        at: 0,
        depth: 0,
        terms: 0,
    };
    p.query()
}

/// Parses one field name (`resource.service.name`, `.http.method`,
/// `name`, `span:status`), as the tag-values endpoint takes it.
pub fn parse_field(text: &str) -> Result<Field, TraceqlError> {
    let toks = lex(text)?;
    let mut p = QueryParser {
        toks,
        at: 0,
        depth: 0,
        terms: 0,
    };
    let f = p.field()?;
    match p.next() {
        Tok::Eof => Ok(f),
        t => err(format!("unexpected {} after the name", describe(&t))),
    }
}
