//! Postfix modifiers: `[range]`, `[range:step]`, `offset` and `@`.

use super::{PResult, Parser};
use crate::ast::{At, Expr, MatrixSelector, Span, Subquery};
use crate::lexer::Tok;

impl Parser<'_> {
    pub(super) fn parse_range_or_subquery(&mut self, e: Expr) -> PResult<Expr> {
        let open = self.bump();
        let range = self.parse_bracket_duration("range")?;
        let t = self.peek().clone();
        if t.tok == Tok::Colon {
            self.bump();
            let step = if self.peek().tok == Tok::RBracket {
                None
            } else {
                Some(self.parse_bracket_duration("step")?)
            };
            let close = self.expect(&Tok::RBracket, "subquery selector", "\"]\"")?;
            return Ok(Expr::Subquery(Subquery {
                span: Span {
                    start: e.span().start,
                    end: close.span.end,
                },
                expr: Box::new(e),
                range,
                step,
                offset: None,
                at: None,
            }));
        }
        let close = self.expect(&Tok::RBracket, "matrix selector", "\"]\" or \":\"")?;
        let span = Span {
            start: e.span().start,
            end: close.span.end,
        };
        let Expr::Vector(vector) = e else {
            return Err(self.err(
                Span {
                    start: open.span.start,
                    end: close.span.end,
                },
                "ranges only allowed for vector selectors",
            ));
        };
        if vector.offset.is_some() {
            return Err(self.err(span, "no offset modifiers allowed before range"));
        }
        if vector.at.is_some() {
            return Err(self.err(span, "no @ modifiers allowed before range"));
        }
        Ok(Expr::Matrix(MatrixSelector {
            vector,
            range,
            span,
        }))
    }

    pub(super) fn parse_offset(&mut self, e: Expr) -> PResult<Expr> {
        let kw = self.bump();
        let (ms, end) = self.parse_offset_duration()?;
        let span = Span {
            start: e.span().start,
            end,
        };
        let slot = match e {
            Expr::Vector(mut v) => {
                let dup = v.offset.is_some();
                v.offset = Some(ms);
                v.span = span;
                (dup, Expr::Vector(v))
            }
            Expr::Matrix(mut m) => {
                let dup = m.vector.offset.is_some();
                m.vector.offset = Some(ms);
                m.span = span;
                (dup, Expr::Matrix(m))
            }
            Expr::Subquery(mut s) => {
                let dup = s.offset.is_some();
                s.offset = Some(ms);
                s.span = span;
                (dup, Expr::Subquery(s))
            }
            _ => {
                return Err(self.err(
                    kw.span,
                    "offset modifier must be preceded by an instant vector selector \
                     or range vector selector or a subquery",
                ));
            }
        };
        if slot.0 {
            return Err(self.err(kw.span, "offset may not be set multiple times"));
        }
        Ok(slot.1)
    }

    pub(super) fn parse_at(&mut self, e: Expr) -> PResult<Expr> {
        let at_tok = self.bump();
        let t = self.peek().clone();
        let (at, end) = match self.word(&t).as_deref() {
            Some(w @ ("start" | "end")) => {
                self.bump();
                self.expect(&Tok::LParen, "@ modifier", "\"(\"")?;
                let close = self.expect(&Tok::RParen, "@ modifier", "\")\"")?;
                let at = if w == "start" { At::Start } else { At::End };
                (at, close.span.end)
            }
            _ => {
                let (secs, span) = self.parse_signed_literal("@ modifier", "timestamp")?;
                let ms = (secs * 1000.0).round();
                if !ms.is_finite() || ms >= i64::MAX as f64 || ms <= i64::MIN as f64 {
                    return Err(self.err(
                        span,
                        format!("timestamp out of bounds for @ modifier: {secs:.6}"),
                    ));
                }
                (At::Timestamp(ms as i64), span.end)
            }
        };
        let span = Span {
            start: e.span().start,
            end,
        };
        let (dup, e) = match e {
            Expr::Vector(mut v) => {
                let dup = v.at.is_some();
                v.at = Some(at);
                v.span = span;
                (dup, Expr::Vector(v))
            }
            Expr::Matrix(mut m) => {
                let dup = m.vector.at.is_some();
                m.vector.at = Some(at);
                m.span = span;
                (dup, Expr::Matrix(m))
            }
            Expr::Subquery(mut s) => {
                let dup = s.at.is_some();
                s.at = Some(at);
                s.span = span;
                (dup, Expr::Subquery(s))
            }
            _ => {
                return Err(self.err(
                    at_tok.span,
                    "@ modifier must be preceded by an instant vector selector \
                     or range vector selector or a subquery",
                ));
            }
        };
        if dup {
            return Err(self.err(at_tok.span, "@ <timestamp> may not be set multiple times"));
        }
        Ok(e)
    }

    /// An optionally signed number or duration literal, in seconds.
    pub(crate) fn parse_signed_literal(
        &mut self,
        context: &str,
        expected: &str,
    ) -> PResult<(f64, Span)> {
        let first = self.peek().clone();
        let sign = match first.tok {
            Tok::Add => {
                self.bump();
                1.0
            }
            Tok::Sub => {
                self.bump();
                -1.0
            }
            _ => 1.0,
        };
        let t = self.peek().clone();
        let v = match &t.tok {
            Tok::Number(v) => *v,
            Tok::Duration(ms) => *ms as f64 / 1000.0,
            Tok::Ident if matches!(self.word(&t).as_deref(), Some("inf" | "nan")) => {
                if self.text(&t).eq_ignore_ascii_case("inf") {
                    f64::INFINITY
                } else {
                    f64::NAN
                }
            }
            _ => return Err(self.unexpected(&t, Some(context), Some(expected))),
        };
        self.bump();
        Ok((
            sign * v,
            Span {
                start: first.span.start,
                end: t.span.end,
            },
        ))
    }
}
