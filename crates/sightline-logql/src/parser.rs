//! Recursive-descent parser over the lexer's tokens.
//!
//! Binary operators are parsed by precedence climbing (Loki's precedence:
//! `or` < `and`/`unless` < comparisons < `+ -` < `* / %` < `^`, `^`
//! right-associative). Log pipelines and label filters are in
//! `parser/pipeline.rs`.

use sightline_core::{MatchOp, Matcher};

use crate::ast::*;
use crate::error::ParseError;
use crate::lexer::{Tok, Token, lex};

mod pipeline;

/// Deepest tree accepted: parentheses, calls and binary operators all
/// count, so evaluation and printing never run out of stack.
pub const MAX_DEPTH: usize = 128;
/// Longest query accepted, in bytes (Loki's limit).
pub const MAX_INPUT: usize = 131_072;

pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    pub(crate) predicates: usize,
}

pub(crate) type PResult<T> = Result<T, ParseError>;

/// What a parenthesised or bare operand turned out to be.
pub(crate) enum Node {
    Log(LogExpr),
    Range(LogRange, Span),
    Metric(MetricExpr),
}

pub(crate) fn parse(src: &str) -> PResult<Expr> {
    if src.len() >= MAX_INPUT {
        return Err(ParseError::new(
            src,
            Span::default(),
            format!("input size too long ({} > {MAX_INPUT})", src.len()),
        ));
    }
    let mut p = Parser {
        src,
        toks: lex(src),
        pos: 0,
        depth: 0,
        predicates: 0,
    };
    let node = p.expr(0)?;
    if !matches!(p.peek(), Tok::Eof) {
        return Err(p.unexpected(""));
    }
    match node {
        Node::Log(l) => Ok(Expr::Log(l)),
        Node::Metric(m) => Ok(Expr::Metric(m)),
        Node::Range(_, span) => Err(ParseError::new(
            src,
            span,
            "syntax error: a log range such as {app=\"x\"}[5m] must be inside a range \
             aggregation such as count_over_time",
        )),
    }
}

impl<'a> Parser<'a> {
    pub(crate) fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }

    pub(crate) fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    pub(crate) fn span(&self) -> Span {
        self.toks[self.pos.min(self.toks.len() - 1)].span
    }

    pub(crate) fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.span.end)
    }

    pub(crate) fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.next();
            true
        } else {
            false
        }
    }

    /// Whether the next token is the keyword `kw` (any case).
    pub(crate) fn at_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.next();
            true
        } else {
            false
        }
    }

    pub(crate) fn error(&self, span: Span, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.src, span, msg)
    }

    /// `syntax error: unexpected X[, expecting Y]` at the next token.
    pub(crate) fn unexpected(&self, expecting: &str) -> ParseError {
        if let Tok::Error(m) = self.peek() {
            return self.error(self.span(), m.clone());
        }
        let mut msg = format!("syntax error: unexpected {}", self.peek().describe());
        if !expecting.is_empty() {
            msg.push_str(", expecting ");
            msg.push_str(expecting);
        }
        self.error(self.span(), msg)
    }

    pub(crate) fn expect(&mut self, t: &Tok, what: &str) -> PResult<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    pub(crate) fn string(&mut self) -> PResult<String> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.next();
                Ok(s)
            }
            _ => Err(self.unexpected("STRING")),
        }
    }

    pub(crate) fn ident(&mut self) -> PResult<String> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                self.next();
                Ok(s)
            }
            _ => Err(self.unexpected("IDENTIFIER")),
        }
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub(crate) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(self.span(), "expression nested too deeply"));
        }
        Ok(())
    }

    /// A binary expression whose operators all bind tighter than `min`.
    fn expr(&mut self, min: u8) -> PResult<Node> {
        self.enter()?;
        let start = self.span().start;
        let mut lhs = self.operand()?;
        let mut levels = 0;
        while let Some(op) = self.binop() {
            let prec = op.precedence();
            if prec < min {
                break;
            }
            let op_span = self.span();
            self.next();
            let (return_bool, matching) = self.modifiers(op)?;
            let next_min = if op.is_right_associative() {
                prec
            } else {
                prec + 1
            };
            let rhs = self.expr(next_min)?;
            let span = Span {
                start,
                end: self.prev_end(),
            };
            let l = self.metric_operand(lhs, op, "left", op_span)?;
            let r = self.metric_operand(rhs, op, "right", op_span)?;
            levels += 1;
            if self.depth + levels > MAX_DEPTH {
                return Err(self.error(op_span, "expression nested too deeply"));
            }
            lhs = Node::Metric(MetricExpr::Binary(BinaryExpr {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
                return_bool,
                matching,
                span,
            }));
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn metric_operand(&self, n: Node, op: BinOp, side: &str, at: Span) -> PResult<MetricExpr> {
        let what = match n {
            Node::Metric(m) => {
                if op.is_set() && matches!(m, MetricExpr::Literal { .. }) {
                    return Err(self.error(
                        at,
                        format!(
                            "unexpected literal for {side} leg of logical/set binary \
                             operation ({})",
                            op.as_str()
                        ),
                    ));
                }
                return Ok(m);
            }
            Node::Log(_) => "log selector",
            Node::Range(..) => "log range",
        };
        Err(self.error(
            at,
            format!(
                "unexpected type for {side} leg of binary operation ({}): {what}",
                op.as_str()
            ),
        ))
    }

    fn binop(&self) -> Option<BinOp> {
        Some(match self.peek() {
            Tok::Ident(s) if s.eq_ignore_ascii_case("or") => BinOp::Or,
            Tok::Ident(s) if s.eq_ignore_ascii_case("and") => BinOp::And,
            Tok::Ident(s) if s.eq_ignore_ascii_case("unless") => BinOp::Unless,
            Tok::Add => BinOp::Add,
            Tok::Sub => BinOp::Sub,
            Tok::Mul => BinOp::Mul,
            Tok::Div => BinOp::Div,
            Tok::Mod => BinOp::Mod,
            Tok::Pow => BinOp::Pow,
            Tok::CmpEq => BinOp::Eq,
            Tok::Neq => BinOp::Ne,
            Tok::Gt => BinOp::Gt,
            Tok::Gte => BinOp::Ge,
            Tok::Lt => BinOp::Lt,
            Tok::Lte => BinOp::Le,
            _ => return None,
        })
    }

    /// `[bool] [on|ignoring (labels) [group_left|group_right [(labels)]]]`
    fn modifiers(&mut self, op: BinOp) -> PResult<(bool, Option<VectorMatching>)> {
        let at = self.span();
        let return_bool = self.eat_kw("bool");
        if return_bool && !op.is_comparison() {
            return Err(self.error(at, "bool modifier can only be used on comparison operators"));
        }
        let on = if self.eat_kw("on") {
            true
        } else if self.eat_kw("ignoring") {
            false
        } else {
            return Ok((return_bool, None));
        };
        let labels = self.label_list()?;
        let mut m = VectorMatching {
            on,
            labels,
            explicit: true,
            group: None,
        };
        let side = if self.eat_kw("group_left") {
            Some(GroupSide::Left)
        } else if self.eat_kw("group_right") {
            Some(GroupSide::Right)
        } else {
            None
        };
        if let Some(side) = side {
            let include = if matches!(self.peek(), Tok::LParen) {
                self.label_list()?
            } else {
                Vec::new()
            };
            m.group = Some(GroupModifier { side, include });
        }
        Ok((return_bool, Some(m)))
    }

    /// `(a, b, ...)`, possibly empty.
    pub(crate) fn label_list(&mut self) -> PResult<Vec<String>> {
        self.expect(&Tok::LParen, "(")?;
        let mut out = Vec::new();
        if self.eat(&Tok::RParen) {
            return Ok(out);
        }
        loop {
            out.push(self.ident()?);
            if self.eat(&Tok::RParen) {
                return Ok(out);
            }
            self.expect(&Tok::Comma, ", or )")?;
        }
    }

    fn grouping(&mut self) -> PResult<Option<Grouping>> {
        let without = if self.eat_kw("by") {
            false
        } else if self.eat_kw("without") {
            true
        } else {
            return Ok(None);
        };
        let labels = self.label_list()?;
        Ok(Some(Grouping { without, labels }))
    }

    fn operand(&mut self) -> PResult<Node> {
        let start = self.span();
        match self.peek().clone() {
            Tok::LBrace => {
                let log = self.log_expr()?;
                self.maybe_range(log, start.start)
            }
            Tok::LParen => {
                self.next();
                let inner = self.expr(0)?;
                self.expect(&Tok::RParen, ")")?;
                match inner {
                    Node::Log(log) if matches!(self.peek(), Tok::Range(_)) => {
                        self.range_after(log, None, start.start)
                    }
                    other => Ok(other),
                }
            }
            Tok::Number(_) | Tok::Add | Tok::Sub => {
                let value = self.number()?;
                Ok(Node::Metric(MetricExpr::Literal {
                    value,
                    span: Span {
                        start: start.start,
                        end: self.prev_end(),
                    },
                }))
            }
            Tok::Ident(name) if matches!(self.peek_at(1), Tok::LParen) || self.grouping_next() => {
                self.call(&name, start)
            }
            _ => Err(self.unexpected("")),
        }
    }

    /// Whether `by`/`without` follow the identifier at the cursor.
    fn grouping_next(&self) -> bool {
        matches!(self.peek_at(1), Tok::Ident(s)
            if s.eq_ignore_ascii_case("by") || s.eq_ignore_ascii_case("without"))
    }

    /// A number literal with an optional sign.
    pub(crate) fn number(&mut self) -> PResult<f64> {
        let neg = if self.eat(&Tok::Sub) {
            true
        } else {
            self.eat(&Tok::Add);
            false
        };
        let at = self.span();
        let Tok::Number(text) = self.peek().clone() else {
            return Err(self.unexpected("NUMBER"));
        };
        self.next();
        let v = parse_number(&text)
            .ok_or_else(|| self.error(at, format!("unable to parse literal as a float: {text}")))?;
        Ok(if neg { -v } else { v })
    }

    fn call(&mut self, name: &str, start: Span) -> PResult<Node> {
        self.enter()?;
        let node = if let Some(op) = RangeOp::from_name(name) {
            self.range_aggregation(op, start)?
        } else if let Some(op) = VectorOp::from_name(name) {
            self.vector_aggregation(op, start)?
        } else if name.eq_ignore_ascii_case("vector") {
            self.next();
            self.expect(&Tok::LParen, "(")?;
            let at = self.span();
            let Tok::Number(text) = self.peek().clone() else {
                return Err(self.unexpected("NUMBER"));
            };
            self.next();
            let value = parse_number(&text).ok_or_else(|| {
                self.error(at, format!("unable to parse vectorExpr as a float: {text}"))
            })?;
            self.expect(&Tok::RParen, ")")?;
            MetricExpr::VectorFn {
                value,
                span: self.span_from(start),
            }
        } else if name.eq_ignore_ascii_case("label_replace") {
            self.next();
            self.expect(&Tok::LParen, "(")?;
            let expr = self.metric_arg()?;
            let mut strs = Vec::new();
            for _ in 0..4 {
                self.expect(&Tok::Comma, ",")?;
                strs.push(self.string()?);
            }
            self.expect(&Tok::RParen, ")")?;
            let [dst, replacement, src, regex] = <[String; 4]>::try_from(strs)
                .map_err(|_| self.error(start, "label_replace takes five arguments"))?;
            MetricExpr::LabelReplace(LabelReplace {
                expr: Box::new(expr),
                dst,
                replacement,
                src,
                regex,
                span: self.span_from(start),
            })
        } else {
            return Err(self.unexpected(""));
        };
        self.depth -= 1;
        Ok(Node::Metric(node))
    }

    fn span_from(&self, start: Span) -> Span {
        Span {
            start: start.start,
            end: self.prev_end(),
        }
    }

    /// A metric expression as a function argument.
    fn metric_arg(&mut self) -> PResult<MetricExpr> {
        let at = self.span();
        match self.expr(0)? {
            Node::Metric(m) => Ok(m),
            Node::Log(_) => Err(self.error(
                at,
                "syntax error: unexpected log selector where a metric expression is expected",
            )),
            Node::Range(..) => Err(self.error(
                at,
                "syntax error: unexpected log range where a metric expression is expected; \
                 wrap it in a range aggregation such as count_over_time",
            )),
        }
    }

    fn range_aggregation(&mut self, op: RangeOp, start: Span) -> PResult<MetricExpr> {
        self.next();
        self.expect(&Tok::LParen, "(")?;
        let mut param = None;
        if matches!(self.peek(), Tok::Number(_)) {
            let at = self.span();
            let text = match self.next() {
                Tok::Number(t) => t,
                _ => String::new(),
            };
            self.expect(&Tok::Comma, ",")?;
            if op != RangeOp::QuantileOverTime {
                return Err(self.error(
                    at,
                    format!(
                        "parameter {text} not supported for operation {}",
                        op.as_str()
                    ),
                ));
            }
            param = Some(parse_number(&text).ok_or_else(|| {
                self.error(
                    at,
                    format!("invalid parameter for operation {}", op.as_str()),
                )
            })?);
        } else if op == RangeOp::QuantileOverTime {
            return Err(self.error(
                self.span(),
                format!("parameter required for operation {}", op.as_str()),
            ));
        }
        let at = self.span();
        let range = match self.expr(0)? {
            Node::Range(r, _) => r,
            _ if matches!(self.peek(), Tok::Error(_)) => return Err(self.unexpected("")),
            _ => {
                return Err(self.error(
                    at,
                    "syntax error: expecting a log range such as {app=\"x\"}[5m]",
                ));
            }
        };
        self.expect(&Tok::RParen, ")")?;
        let grouping = self.grouping()?;
        Ok(MetricExpr::Range(RangeAggregation {
            op,
            param,
            range,
            grouping,
            span: self.span_from(start),
        }))
    }

    fn vector_aggregation(&mut self, op: VectorOp, start: Span) -> PResult<MetricExpr> {
        self.next();
        let mut grouping = self.grouping()?;
        self.expect(&Tok::LParen, "(")?;
        let mut param = None;
        if matches!(self.peek(), Tok::Number(_)) && self.peek_at(1) == &Tok::Comma {
            let at = self.span();
            let text = match self.next() {
                Tok::Number(t) => t,
                _ => String::new(),
            };
            self.next();
            let name = op.as_str();
            if !op.takes_param() {
                return Err(self.error(
                    at,
                    format!("unsupported parameter for operation {name}({text},"),
                ));
            }
            let k: i64 = text
                .parse()
                .map_err(|_| self.error(at, format!("invalid parameter {name}({text},")))?;
            if k <= 0 {
                return Err(self.error(
                    at,
                    format!("invalid parameter (must be greater than 0) {name}({text}"),
                ));
            }
            param = Some(k);
        } else if op.takes_param() {
            return Err(self.error(
                self.span(),
                format!("parameter required for operation {}", op.as_str()),
            ));
        }
        let expr = self.metric_arg()?;
        self.expect(&Tok::RParen, ")")?;
        if grouping.is_none() {
            grouping = self.grouping()?;
        }
        if op == VectorOp::ApproxTopk && grouping.is_some() {
            return Err(self.error(start, "grouping not allowed for approx_topk aggregation"));
        }
        Ok(MetricExpr::Vector(VectorAggregation {
            op,
            param,
            expr: Box::new(expr),
            grouping,
            span: self.span_from(start),
        }))
    }

    /// `{name op "value", ...}`
    pub(crate) fn selector(&mut self) -> PResult<Vec<Matcher>> {
        self.expect(&Tok::LBrace, "{")?;
        let mut out = Vec::new();
        if self.eat(&Tok::RBrace) {
            return Ok(out);
        }
        loop {
            out.push(self.matcher()?);
            if self.eat(&Tok::RBrace) {
                return Ok(out);
            }
            self.expect(&Tok::Comma, ", or }")?;
        }
    }

    /// `name op "value"`
    pub(crate) fn matcher(&mut self) -> PResult<Matcher> {
        let at = self.span();
        let name = self.ident()?;
        let op = match self.peek() {
            Tok::Eq => MatchOp::Equal,
            Tok::Neq => MatchOp::NotEqual,
            Tok::Re => MatchOp::Regex,
            Tok::Nre => MatchOp::NotRegex,
            _ => return Err(self.unexpected("=, !=, =~ or !~")),
        };
        self.next();
        let value = self.string()?;
        Matcher::new(name, op, value).map_err(|e| self.error(at, e.to_string()))
    }

    /// After a selector: a pipeline, and a range in any of the places
    /// Loki's grammar allows one.
    fn maybe_range(&mut self, log: LogExpr, start: usize) -> PResult<Node> {
        if matches!(self.peek(), Tok::Range(_)) {
            return self.range_after(log, None, start);
        }
        if self.at_unwrap() {
            let unwrap = self.unwrap()?;
            if !matches!(self.peek(), Tok::Range(_)) {
                return Err(self.unexpected("RANGE"));
            }
            return self.range_after(log, Some(unwrap), start);
        }
        Ok(Node::Log(log))
    }

    /// At a range token: `[dur] [offset dur]`, then (when the log had no
    /// pipeline yet) a pipeline and an unwrap.
    fn range_after(
        &mut self,
        mut log: LogExpr,
        unwrap: Option<Unwrap>,
        start: usize,
    ) -> PResult<Node> {
        let Tok::Range(range_ns) = self.next() else {
            return Err(self.unexpected("RANGE"));
        };
        let mut offset_ns = 0;
        if self.eat_kw("offset") {
            match self.next() {
                Tok::Duration(d) => offset_ns = d,
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("DURATION"));
                }
            }
        }
        // `{...}[5m] | stages | unwrap x`: the pipeline may follow the range
        // when none came before it.
        let mut unwrap = unwrap;
        if unwrap.is_none() && log.stages.is_empty() {
            log.stages = self.stages()?;
            if self.at_unwrap() {
                unwrap = Some(self.unwrap()?);
            }
        }
        let span = Span {
            start,
            end: self.prev_end(),
        };
        Ok(Node::Range(
            LogRange {
                log,
                range_ns,
                offset_ns,
                unwrap,
            },
            span,
        ))
    }
}

/// A number as Go's `strconv.ParseFloat` reads Loki's number tokens
/// (decimal, exponent, hexadecimal integers).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    text.parse::<f64>().ok()
}
