//! Durations in ranges, subquery steps and offsets.
//!
//! A duration is a literal (`5m`, `1h30m`) or a plain number of seconds
//! (`300`, `1.5`). Constant arithmetic over those (`[1h/2]`, `[5m+30s]`,
//! `offset (2 * 1m)`) is folded here to milliseconds. Durations that depend
//! on the query (`step()`, `range()`, `min_of()`, `max_of()`) are refused.

use super::{PResult, Parser};
use crate::ast::{BinOp, Span};
use crate::lexer::Tok;

/// A folded duration expression.
struct Dur {
    secs: f64,
    /// Written as a single duration literal such as `0s` or `5m`.
    literal: bool,
    span: Span,
}

impl Parser<'_> {
    /// The range or step inside `[...]`, in milliseconds; must be positive
    /// unless written as a literal such as `0s`.
    pub(super) fn parse_bracket_duration(&mut self, what: &str) -> PResult<i64> {
        let d = self.duration_expr(0, what)?;
        let ms = self.to_millis(&d)?;
        if ms < 0 || (ms == 0 && !d.literal) {
            return Err(self.err(d.span, format!("{what} duration must be greater than 0")));
        }
        Ok(ms)
    }

    /// The duration after `offset`: an optionally signed literal or a
    /// parenthesised duration expression. Returns milliseconds and the end
    /// of the text consumed.
    pub(super) fn parse_offset_duration(&mut self) -> PResult<(i64, usize)> {
        let d = self.duration_unary("offset")?;
        Ok((self.to_millis(&d)?, d.span.end))
    }

    fn to_millis(&self, d: &Dur) -> PResult<i64> {
        let ms = (d.secs * 1000.0).round();
        if !ms.is_finite() || ms.abs() >= i64::MAX as f64 {
            return Err(self.err(d.span, "duration out of range"));
        }
        Ok(ms as i64)
    }

    fn duration_expr(&mut self, min_prec: u8, what: &str) -> PResult<Dur> {
        self.enter()?;
        let r = self.duration_expr_inner(min_prec, what);
        self.leave();
        r
    }

    fn duration_expr_inner(&mut self, min_prec: u8, what: &str) -> PResult<Dur> {
        let mut lhs = self.duration_unary(what)?;
        loop {
            let op = match self.peek().tok {
                Tok::Add => BinOp::Add,
                Tok::Sub => BinOp::Sub,
                Tok::Mul => BinOp::Mul,
                Tok::Div => BinOp::Div,
                Tok::Mod => BinOp::Mod,
                Tok::Pow => BinOp::Pow,
                _ => return Ok(lhs),
            };
            if op.precedence() < min_prec {
                return Ok(lhs);
            }
            self.bump();
            let rhs = if op.is_right_associative() {
                self.duration_pow_run(what)?
            } else {
                self.duration_expr(op.precedence() + 1, what)?
            };
            let span = Span {
                start: lhs.span.start,
                end: rhs.span.end,
            };
            let (a, b) = (lhs.secs, rhs.secs);
            let secs = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div | BinOp::Mod if b == 0.0 => {
                    return Err(self.err(span, "division by zero in duration expression"));
                }
                BinOp::Div => a / b,
                BinOp::Mod => a % b,
                _ => a.powf(b),
            };
            lhs = Dur {
                secs,
                literal: false,
                span,
            };
        }
    }

    /// The right operand of a `^`: the operands of the run of `^` that
    /// follows, read in a loop and folded from the right (`^` is
    /// right-associative), so a long run costs no stack.
    fn duration_pow_run(&mut self, what: &str) -> PResult<Dur> {
        let mut operands = vec![self.duration_unary(what)?];
        while self.peek().tok == Tok::Pow {
            self.bump();
            operands.push(self.duration_unary(what)?);
        }
        let Some(mut acc) = operands.pop() else {
            return Err(self.err(self.peek().span, "missing duration"));
        };
        while let Some(base) = operands.pop() {
            acc = Dur {
                secs: base.secs.powf(acc.secs),
                literal: false,
                span: Span {
                    start: base.span.start,
                    end: acc.span.end,
                },
            };
        }
        Ok(acc)
    }

    fn duration_unary(&mut self, what: &str) -> PResult<Dur> {
        let t = self.peek().clone();
        let neg = match t.tok {
            Tok::Add => false,
            Tok::Sub => true,
            _ => return self.duration_primary(what),
        };
        self.bump();
        let d = self.duration_expr(BinOp::Pow.precedence(), what)?;
        Ok(Dur {
            secs: if neg { -d.secs } else { d.secs },
            literal: false,
            span: Span {
                start: t.span.start,
                end: d.span.end,
            },
        })
    }

    fn duration_primary(&mut self, what: &str) -> PResult<Dur> {
        let t = self.peek().clone();
        let (secs, literal) = match &t.tok {
            Tok::Number(v) => (*v, false),
            Tok::Duration(ms) => (*ms as f64 / 1000.0, true),
            Tok::LParen => {
                self.bump();
                let inner = self.duration_expr(0, what)?;
                let close = self.expect(&Tok::RParen, "duration expression", "\")\"")?;
                return Ok(Dur {
                    secs: inner.secs,
                    literal: false,
                    span: Span {
                        start: t.span.start,
                        end: close.span.end,
                    },
                });
            }
            Tok::Ident => {
                let w = self.text(&t).to_ascii_lowercase();
                if matches!(w.as_str(), "step" | "range" | "min_of" | "max_of") {
                    return Err(self.err(
                        t.span,
                        format!("the experimental duration function {w}() is not supported"),
                    ));
                }
                return Err(self.unexpected(&t, Some(what), Some("duration")));
            }
            _ => return Err(self.unexpected(&t, Some(what), Some("duration"))),
        };
        self.bump();
        Ok(Dur {
            secs,
            literal,
            span: t.span,
        })
    }
}
