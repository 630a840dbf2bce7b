//! Log pipelines: line filters, parsers, label filters, formatters,
//! `drop`/`keep` and `unwrap`.

use sightline_core::{MatchOp, Matcher};

use super::{PResult, Parser};
use crate::ast::*;
use crate::lexer::Tok;

/// Words that end a bare parameter list (`| json a, b`): they belong to
/// what follows the stage.
/// Most `and`/`or`-joined label filter predicates in one query.
const MAX_PREDICATES: usize = 1000;

const NOT_PARAMS: [&str; 8] = [
    "or", "and", "unless", "by", "without", "offset", "bool", "on",
];

impl Parser<'_> {
    /// `{selector}` and the stages after it, up to an `unwrap` or anything
    /// that is not a stage.
    pub(crate) fn log_expr(&mut self) -> PResult<LogExpr> {
        let start = self.span().start;
        let matchers = self.selector()?;
        let stages = if self.at_stage_start() {
            self.stages()?
        } else {
            Vec::new()
        };
        Ok(LogExpr {
            matchers,
            stages,
            span: Span {
                start,
                end: self.prev_end(),
            },
        })
    }

    pub(crate) fn at_unwrap(&self) -> bool {
        matches!(self.peek(), Tok::Pipe)
            && matches!(self.peek_at(1), Tok::Ident(s) if s.eq_ignore_ascii_case("unwrap"))
    }

    pub(crate) fn at_stage_start(&self) -> bool {
        match self.peek() {
            Tok::PipeExact | Tok::PipeMatch | Tok::PipePattern | Tok::Neq | Tok::Nre => true,
            Tok::Npa => true,
            Tok::Pipe => !self.at_unwrap(),
            _ => false,
        }
    }

    pub(crate) fn stages(&mut self) -> PResult<Vec<Stage>> {
        let mut out = Vec::new();
        while self.at_stage_start() {
            out.push(self.stage()?);
        }
        Ok(out)
    }

    fn stage(&mut self) -> PResult<Stage> {
        let op = match self.peek() {
            Tok::PipeExact => Some(LineFilterOp::Contains),
            Tok::Neq => Some(LineFilterOp::NotContains),
            Tok::PipeMatch => Some(LineFilterOp::Match),
            Tok::Nre => Some(LineFilterOp::NotMatch),
            Tok::PipePattern => Some(LineFilterOp::Pattern),
            Tok::Npa => Some(LineFilterOp::NotPattern),
            _ => None,
        };
        if let Some(op) = op {
            self.next();
            return self.line_filter(op);
        }
        self.expect(&Tok::Pipe, "|")?;
        let at = self.span();
        let kw = match self.peek() {
            Tok::Ident(s) => s.to_ascii_lowercase(),
            _ => String::new(),
        };
        let keyword_stage = matches!(
            kw.as_str(),
            "json"
                | "logfmt"
                | "regexp"
                | "pattern"
                | "unpack"
                | "line_format"
                | "label_format"
                | "decolorize"
                | "drop"
                | "keep"
        );
        if !keyword_stage {
            return Ok(Stage::LabelFilter(self.label_filter()?));
        }
        self.next();
        Ok(match kw.as_str() {
            "json" => Stage::Json(self.extractions()?),
            "logfmt" => {
                let (mut strict, mut keep_empty) = (false, false);
                while let Tok::Flag(f) = self.peek().clone() {
                    self.next();
                    match f.as_str() {
                        "--strict" => strict = true,
                        _ => keep_empty = true,
                    }
                }
                Stage::Logfmt {
                    strict,
                    keep_empty,
                    params: self.extractions()?,
                }
            }
            "regexp" => Stage::Regexp(self.string()?),
            "pattern" => Stage::Pattern(self.string()?),
            "unpack" => Stage::Unpack,
            "line_format" => Stage::LineFormat(self.string()?),
            "label_format" => Stage::LabelFormat(self.label_formats()?),
            "decolorize" => Stage::Decolorize,
            "drop" => Stage::Drop(self.named_matchers()?),
            "keep" => Stage::Keep(self.named_matchers()?),
            _ => return Err(self.error(at, "syntax error: unexpected stage")),
        })
    }

    fn filter_value(&mut self) -> PResult<FilterValue> {
        if self.at_kw("ip") && matches!(self.peek_at(1), Tok::LParen) {
            self.next();
            self.next();
            let s = self.string()?;
            self.expect(&Tok::RParen, ")")?;
            return Ok(FilterValue::Ip(s));
        }
        Ok(FilterValue::Str(self.string()?))
    }

    fn line_filter(&mut self, op: LineFilterOp) -> PResult<Stage> {
        let mut values = vec![self.filter_value()?];
        while self.at_kw("or")
            && (matches!(self.peek_at(1), Tok::Str(_))
                || matches!(self.peek_at(1), Tok::Ident(s) if s.eq_ignore_ascii_case("ip")))
        {
            self.next();
            values.push(self.filter_value()?);
        }
        Ok(Stage::LineFilter(LineFilter { op, values }))
    }

    /// `name[="expr"], ...` of `json` and `logfmt`, possibly none.
    fn extractions(&mut self) -> PResult<Vec<Extraction>> {
        let mut out = Vec::new();
        while let Tok::Ident(name) = self.peek().clone() {
            if NOT_PARAMS.iter().any(|k| name.eq_ignore_ascii_case(k)) {
                break;
            }
            self.next();
            let expr = if self.eat(&Tok::Eq) {
                self.string()?
            } else {
                name.clone()
            };
            out.push(Extraction { name, expr });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(out)
    }

    fn label_formats(&mut self) -> PResult<Vec<LabelFmt>> {
        let mut out: Vec<LabelFmt> = Vec::new();
        loop {
            let at = self.span();
            let dst = self.ident()?;
            self.expect(&Tok::Eq, "=")?;
            let f = match self.next() {
                Tok::Ident(src) => LabelFmt::Rename { dst, src },
                Tok::Str(template) => LabelFmt::Template { dst, template },
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("IDENTIFIER or STRING"));
                }
            };
            if out.iter().any(|o| o.dst() == f.dst()) {
                return Err(self.error(
                    at,
                    format!(
                        "multiple label name '{}' in the same format expression",
                        f.dst()
                    ),
                ));
            }
            out.push(f);
            if !self.eat(&Tok::Comma) {
                return Ok(out);
            }
        }
    }

    fn named_matchers(&mut self) -> PResult<Vec<NamedMatcher>> {
        let mut out = Vec::new();
        loop {
            let m = if matches!(self.peek_at(1), Tok::Eq | Tok::Neq | Tok::Re | Tok::Nre) {
                NamedMatcher::Matcher(self.matcher()?)
            } else {
                NamedMatcher::Name(self.ident()?)
            };
            out.push(m);
            if !self.eat(&Tok::Comma) {
                return Ok(out);
            }
        }
    }

    /// `| unwrap [conv(]label[)]` and the `| label_filter`s after it.
    pub(crate) fn unwrap(&mut self) -> PResult<Unwrap> {
        self.expect(&Tok::Pipe, "|")?;
        self.next();
        let conv = match self.peek() {
            Tok::Ident(s) if matches!(self.peek_at(1), Tok::LParen) => {
                match s.to_ascii_lowercase().as_str() {
                    "bytes" => Some(Conversion::Bytes),
                    "duration" => Some(Conversion::Duration),
                    "duration_seconds" => Some(Conversion::DurationSeconds),
                    _ => return Err(self.unexpected("IDENTIFIER")),
                }
            }
            _ => None,
        };
        let label = if conv.is_some() {
            self.next();
            self.next();
            let l = self.ident()?;
            self.expect(&Tok::RParen, ")")?;
            l
        } else {
            self.ident()?
        };
        let mut post_filters = Vec::new();
        while matches!(self.peek(), Tok::Pipe) {
            self.next();
            post_filters.push(self.label_filter()?);
        }
        Ok(Unwrap {
            label,
            conv,
            post_filters,
        })
    }

    /// `a or b`, where `and`, `,` and juxtaposition bind tighter.
    pub(crate) fn label_filter(&mut self) -> PResult<LabelFilter> {
        let mut lhs = self.label_and()?;
        while self.at_kw("or") {
            self.count_predicate()?;
            self.next();
            let rhs = self.label_and()?;
            lhs = LabelFilter::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn label_and(&mut self) -> PResult<LabelFilter> {
        let mut lhs = self.label_primary()?;
        loop {
            let juxtaposed = matches!(self.peek(), Tok::Ident(s) if !is_word_op(s))
                && matches!(
                    self.peek_at(1),
                    Tok::Eq
                        | Tok::Neq
                        | Tok::Re
                        | Tok::Nre
                        | Tok::CmpEq
                        | Tok::Gt
                        | Tok::Gte
                        | Tok::Lt
                        | Tok::Lte
                );
            if self.at_kw("and") || matches!(self.peek(), Tok::Comma) {
                self.count_predicate()?;
                self.next();
            } else if !juxtaposed && !matches!(self.peek(), Tok::LParen) {
                return Ok(lhs);
            } else {
                self.count_predicate()?;
            }
            let rhs = self.label_primary()?;
            lhs = LabelFilter::And(Box::new(lhs), Box::new(rhs));
        }
    }

    /// Bounds the predicates of one query's label filters, so that no
    /// filter tree is too deep to print, evaluate or drop.
    fn count_predicate(&mut self) -> PResult<()> {
        self.predicates += 1;
        if self.predicates > MAX_PREDICATES {
            return Err(self.error(
                self.span(),
                format!("too many label filter predicates (more than {MAX_PREDICATES})"),
            ));
        }
        Ok(())
    }

    fn label_primary(&mut self) -> PResult<LabelFilter> {
        if self.eat(&Tok::LParen) {
            self.enter()?;
            let f = self.label_filter()?;
            self.expect(&Tok::RParen, ")")?;
            self.leave();
            return Ok(f);
        }
        let at = self.span();
        let name = self.ident()?;
        let op_tok = self.next();
        let next = self.peek().clone();
        let cmp = match op_tok {
            Tok::Eq | Tok::CmpEq => Some(CmpOp::Eq),
            Tok::Neq => Some(CmpOp::Ne),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Gte => Some(CmpOp::Ge),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Lte => Some(CmpOp::Le),
            _ => None,
        };
        match (&op_tok, next) {
            (Tok::Eq | Tok::Neq, Tok::Ident(s))
                if s.eq_ignore_ascii_case("ip") && matches!(self.peek_at(1), Tok::LParen) =>
            {
                self.next();
                self.next();
                let pattern = self.string()?;
                self.expect(&Tok::RParen, ")")?;
                Ok(LabelFilter::Ip {
                    name,
                    negated: op_tok == Tok::Neq,
                    pattern,
                })
            }
            (Tok::Eq | Tok::Neq | Tok::Re | Tok::Nre, Tok::Str(value)) => {
                self.next();
                let op = match op_tok {
                    Tok::Eq => MatchOp::Equal,
                    Tok::Neq => MatchOp::NotEqual,
                    Tok::Re => MatchOp::Regex,
                    _ => MatchOp::NotRegex,
                };
                Matcher::new(name, op, value)
                    .map(LabelFilter::Matcher)
                    .map_err(|e| self.error(at, e.to_string()))
            }
            (_, Tok::Duration(ns)) if cmp.is_some() => {
                self.next();
                Ok(LabelFilter::Duration {
                    name,
                    op: cmp.unwrap_or(CmpOp::Eq),
                    ns,
                })
            }
            (_, Tok::Bytes(bytes)) if cmp.is_some() => {
                self.next();
                Ok(LabelFilter::Bytes {
                    name,
                    op: cmp.unwrap_or(CmpOp::Eq),
                    bytes,
                })
            }
            (_, Tok::Number(_) | Tok::Add | Tok::Sub) if cmp.is_some() => {
                let value = self.number()?;
                Ok(LabelFilter::Number {
                    name,
                    op: cmp.unwrap_or(CmpOp::Eq),
                    value,
                })
            }
            (Tok::Eq | Tok::Neq | Tok::Re | Tok::Nre, _) => Err(self.unexpected("STRING")),
            _ if cmp.is_some() => Err(self.unexpected("NUMBER, DURATION or BYTES")),
            _ => {
                self.pos -= 1;
                Err(self.unexpected("a label filter operator"))
            }
        }
    }
}

fn is_word_op(s: &str) -> bool {
    NOT_PARAMS.iter().any(|k| s.eq_ignore_ascii_case(k))
}
