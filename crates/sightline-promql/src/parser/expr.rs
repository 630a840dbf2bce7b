//! Expressions: operators by precedence, unary signs, primaries and the
//! postfix modifiers that follow them.
//!
//! Operators are parsed without recursion per operand: the operands and
//! operators of a chain wait on two lists and a node is built as soon as
//! the operator after it binds no more tightly (for `^`, which is
//! right-associative, only once its whole run has been read, so the tree
//! comes out right-nested). A chain of any length therefore costs no
//! stack; only nesting does (parentheses, call and aggregation arguments,
//! unary signs, subqueries), and that is counted against
//! [`super::MAX_DEPTH`].
//!
//! The functions on the recursive path (`parse_binary` → `parse_unary` →
//! `parse_postfix` → `parse_primary` → ... → `parse_binary`) keep few
//! locals and leave error building and node construction to helpers that
//! are not on that path, so that each nesting level costs little stack,
//! even in unoptimised builds.

use super::{PResult, Parser};
use crate::ast::{AggOp, BinOp, BinaryExpr, Expr, Span, UnaryOp, VectorMatching};
use crate::lexer::Tok;

/// What an expression starting with an identifier turns out to be.
enum IdentKind {
    Number(Expr),
    Aggregate(AggOp),
    Call,
    Selector,
}

/// A postfix modifier at the cursor.
enum Postfix {
    Bracket,
    At,
    Offset,
    None,
}

/// A binary operator with its `bool` and vector-matching modifiers.
type PendingOp = (BinOp, (bool, Option<VectorMatching>));

impl Parser<'_> {
    pub(crate) fn parse_expr(&mut self) -> PResult<Expr> {
        self.parse_binary(0)
    }

    /// Parses operators that bind at least as tightly as `min_prec`.
    // `match` instead of `?` keeps this recursive frame small.
    #[allow(clippy::question_mark)]
    pub(super) fn parse_binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let first = match self.parse_unary() {
            Ok(e) => e,
            Err(e) => return Err(e),
        };
        match self.binop_at_least(min_prec) {
            Ok(Some(op)) => self.parse_chain(first, op, min_prec),
            Ok(None) => Ok(first),
            Err(e) => Err(e),
        }
    }

    /// The rest of a chain whose first operand and operator (already
    /// consumed) are given: operands and operators wait on two lists, and
    /// the waiting operators that bind at least as tightly as the next one
    /// (more tightly, when both are `^`) are built into nodes before it is
    /// added.
    // `match` instead of `?`: this frame is on the recursive path when an
    // operand nests.
    #[allow(clippy::question_mark)]
    #[inline(never)]
    fn parse_chain(&mut self, first: Expr, first_op: BinOp, min_prec: u8) -> PResult<Expr> {
        let mut operands: Vec<Expr> = vec![first];
        let mut ops: Vec<PendingOp> = Vec::new();
        let mut op = first_op;
        loop {
            let modifiers = match self.parse_bin_modifiers() {
                Ok(m) => m,
                Err(e) => return Err(e),
            };
            ops.push((op, modifiers));
            match self.parse_unary() {
                Ok(operand) => operands.push(operand),
                Err(e) => return Err(e),
            }
            let next = match self.binop_at_least(min_prec) {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(e) => return Err(e),
            };
            while let Some((top, _)) = ops.last() {
                let binds = top.precedence() > next.precedence()
                    || (top.precedence() == next.precedence() && !next.is_right_associative());
                if !binds {
                    break;
                }
                build_top(&mut operands, &mut ops);
            }
            op = next;
        }
        while !ops.is_empty() {
            build_top(&mut operands, &mut ops);
        }
        // `operands` always holds one more entry than `ops`: the finished
        // tree is the one left.
        Ok(operands.pop().unwrap_or_else(Expr::placeholder))
    }

    /// Consumes and returns the binary operator at the cursor if it binds
    /// at least as tightly as `min_prec`.
    fn binop_at_least(&mut self, min_prec: u8) -> PResult<Option<BinOp>> {
        match self.peek_binop()? {
            Some(op) if op.precedence() >= min_prec => {
                self.bump();
                Ok(Some(op))
            }
            _ => Ok(None),
        }
    }

    /// A unary `+`/`-` binds more weakly than `^` and as tightly as `*`:
    /// `-2 ^ 2` is `-(2 ^ 2)`. A sign on a number literal folds into it.
    /// The operand is one level of nesting.
    // `match` instead of `?` keeps this recursive frame small.
    #[allow(clippy::question_mark)]
    fn parse_unary(&mut self) -> PResult<Expr> {
        let op = match self.peek().tok {
            Tok::Add => UnaryOp::Pos,
            Tok::Sub => UnaryOp::Neg,
            _ => return self.parse_postfix(),
        };
        let start = self.bump().span.start;
        if let Err(e) = self.enter() {
            return Err(e);
        }
        let operand = self.parse_binary(BinOp::Pow.precedence());
        self.leave();
        match operand {
            Ok(operand) => Ok(make_unary(op, start, operand)),
            Err(e) => Err(e),
        }
    }

    /// A primary expression followed by any of `[range]`, `[range:step]`,
    /// `offset`, `@`.
    // `match` instead of `?` keeps this recursive frame small.
    #[allow(clippy::question_mark)]
    fn parse_postfix(&mut self) -> PResult<Expr> {
        let mut e = match self.parse_primary() {
            Ok(e) => e,
            Err(err) => return Err(err),
        };
        loop {
            match self.apply_postfix(e) {
                Ok((next, true)) => e = next,
                other => return other.map(|(e, _)| e),
            }
        }
    }

    /// Applies the postfix modifier at the cursor, if any; the flag tells
    /// whether one was applied. A subquery wraps the expression before it
    /// in one more level of nesting, which is counted here.
    fn apply_postfix(&mut self, e: Expr) -> PResult<(Expr, bool)> {
        let e = match self.peek_postfix()? {
            Postfix::Bracket => {
                let e = self.parse_range_or_subquery(e)?;
                if matches!(e, Expr::Subquery(_))
                    && self.depth + nesting_height(&e) > super::MAX_DEPTH
                {
                    return Err(self.too_deep());
                }
                e
            }
            Postfix::At => self.parse_at(e)?,
            Postfix::Offset => self.parse_offset(e)?,
            Postfix::None => return Ok((e, false)),
        };
        Ok((e, true))
    }

    fn peek_postfix(&self) -> PResult<Postfix> {
        let t = self.peek();
        Ok(match &t.tok {
            Tok::LBracket => Postfix::Bracket,
            Tok::At => Postfix::At,
            Tok::Ident => match self.text(t).to_ascii_lowercase().as_str() {
                "offset" => Postfix::Offset,
                kw @ ("anchored" | "smoothed") => {
                    return Err(self.err(
                        t.span,
                        format!(
                            "the experimental {kw} modifier (extended range selectors) \
                             is not supported"
                        ),
                    ));
                }
                _ => Postfix::None,
            },
            _ => Postfix::None,
        })
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        match self.peek().tok {
            Tok::LParen => self.parse_paren(),
            Tok::Ident => self.parse_identifier_expr(),
            _ => self.parse_literal_or_selector(),
        }
    }

    /// `( expr )`: one level of nesting.
    // `match` instead of `?` keeps this recursive frame small.
    #[allow(clippy::question_mark)]
    fn parse_paren(&mut self) -> PResult<Expr> {
        let open = self.bump().span;
        if let Err(e) = self.enter() {
            return Err(e);
        }
        let inner = self.parse_expr();
        self.leave();
        match inner {
            Ok(inner) => self.finish_paren(open, inner),
            Err(e) => Err(e),
        }
    }

    /// An expression that starts with an identifier: `Inf`/`NaN`, an
    /// aggregation, a function call or a vector selector.
    fn parse_identifier_expr(&mut self) -> PResult<Expr> {
        match self.classify_identifier()? {
            IdentKind::Number(e) => Ok(e),
            IdentKind::Aggregate(op) => self.parse_aggregate(op),
            IdentKind::Call => self.parse_call(),
            IdentKind::Selector => {
                let t = self.bump();
                let name = self.text(&t).to_string();
                self.parse_vector_selector(Some((name, t.span)))
            }
        }
    }

    fn classify_identifier(&mut self) -> PResult<IdentKind> {
        let t = self.peek().clone();
        let text = self.text(&t);
        let lower = text.to_ascii_lowercase();
        if lower == "inf" || lower == "nan" {
            self.bump();
            let value = if lower == "inf" {
                f64::INFINITY
            } else {
                f64::NAN
            };
            return Ok(IdentKind::Number(Expr::Number {
                value,
                span: t.span,
            }));
        }
        let next = self.peek_nth(1).clone();
        if let Some(op) = AggOp::from_name(&lower) {
            let next_word = self.word(&next);
            if next.tok == Tok::LParen || matches!(next_word.as_deref(), Some("by" | "without")) {
                return Ok(IdentKind::Aggregate(op));
            }
        }
        if next.tok == Tok::LParen {
            if text.contains(':') {
                return Err(self.unexpected(&next, None, None));
            }
            return Ok(IdentKind::Call);
        }
        Ok(IdentKind::Selector)
    }

    /// Number, duration, string, `{...}` selector, or an error.
    fn parse_literal_or_selector(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Number(v) => {
                self.bump();
                Ok(Expr::Number {
                    value: *v,
                    span: t.span,
                })
            }
            Tok::Duration(ms) => {
                self.bump();
                Ok(Expr::Number {
                    value: *ms as f64 / 1000.0,
                    span: t.span,
                })
            }
            Tok::Str(v) => {
                self.bump();
                match v {
                    Ok(s) => Ok(Expr::String {
                        value: s.clone(),
                        span: t.span,
                    }),
                    Err(bytes) => Err(self.err(
                        t.span,
                        format!(
                            "invalid UTF-8 in string literal {}",
                            crate::printer::quote_bytes(bytes)
                        ),
                    )),
                }
            }
            Tok::LBrace => self.parse_vector_selector(None),
            Tok::RParen => Err(self.err(t.span, "unexpected right parenthesis ')'")),
            _ => Err(self.unexpected(&t, None, None)),
        }
    }

    fn finish_paren(&mut self, open: Span, inner: Expr) -> PResult<Expr> {
        let close = self.peek().clone();
        if close.tok != Tok::RParen {
            if close.tok == Tok::Eof {
                return Err(self.err(open, "unclosed left parenthesis"));
            }
            return Err(self.unexpected(&close, Some("paren expression"), Some("\")\"")));
        }
        self.bump();
        Ok(Expr::Paren {
            expr: Box::new(inner),
            span: Span {
                start: open.start,
                end: close.span.end,
            },
        })
    }

    /// The binary operator at the cursor, if any.
    fn peek_binop(&self) -> PResult<Option<BinOp>> {
        let t = self.peek();
        Ok(Some(match &t.tok {
            Tok::Add => BinOp::Add,
            Tok::Sub => BinOp::Sub,
            Tok::Mul => BinOp::Mul,
            Tok::Div => BinOp::Div,
            Tok::Mod => BinOp::Mod,
            Tok::Pow => BinOp::Pow,
            Tok::Eql => BinOp::Eq,
            Tok::Neq => BinOp::Ne,
            Tok::Lss => BinOp::Lt,
            Tok::Gtr => BinOp::Gt,
            Tok::Lte => BinOp::Le,
            Tok::Gte => BinOp::Ge,
            Tok::Trim => {
                return Err(self.err(
                    t.span,
                    format!(
                        "the native-histogram trim operator {:?} is not supported",
                        self.text(t)
                    ),
                ));
            }
            Tok::Ident => match self.text(t).to_ascii_lowercase().as_str() {
                "and" => BinOp::And,
                "or" => BinOp::Or,
                "unless" => BinOp::Unless,
                "atan2" => BinOp::Atan2,
                _ => return Ok(None),
            },
            _ => return Ok(None),
        }))
    }
}

fn make_binary(
    op: BinOp,
    lhs: Expr,
    rhs: Expr,
    (return_bool, matching): (bool, Option<VectorMatching>),
) -> Expr {
    let span = Span {
        start: lhs.span().start,
        end: rhs.span().end,
    };
    Expr::Binary(BinaryExpr {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
        return_bool,
        matching,
        span,
    })
}

fn make_unary(op: UnaryOp, start: usize, operand: Expr) -> Expr {
    let span = Span {
        start,
        end: operand.span().end,
    };
    match operand {
        Expr::Number { value, .. } => Expr::Number {
            value: if op == UnaryOp::Neg { -value } else { value },
            span,
        },
        other => Expr::Unary {
            op,
            expr: Box::new(other),
            span,
        },
    }
}

/// Builds the operator on top of `ops` over the two operands on top of
/// `operands` into one node.
fn build_top(operands: &mut Vec<Expr>, ops: &mut Vec<PendingOp>) {
    let popped = (ops.pop(), operands.pop(), operands.pop());
    // `operands` holds one more entry than `ops`, so all three exist.
    if let (Some((op, modifiers)), Some(rhs), Some(lhs)) = popped {
        operands.push(make_binary(op, lhs, rhs, modifiers));
    }
}

/// The nesting of a tree: the most parentheses, unary signs, calls,
/// aggregations and subqueries on a path from its root to a leaf (binary
/// operators do not count). Counted without recursion.
fn nesting_height(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 0usize)];
    while let Some((e, h)) = stack.pop() {
        max = max.max(h);
        match e {
            Expr::Number { .. } | Expr::String { .. } | Expr::Vector(_) | Expr::Matrix(_) => {}
            Expr::Subquery(s) => stack.push((&s.expr, h + 1)),
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => stack.push((expr, h + 1)),
            Expr::Binary(b) => {
                stack.push((&b.lhs, h));
                stack.push((&b.rhs, h));
            }
            Expr::Aggregate(a) => {
                stack.push((&a.expr, h + 1));
                if let Some(p) = &a.param {
                    stack.push((p, h + 1));
                }
            }
            Expr::Call(c) => stack.extend(c.args.iter().map(|a| (a, h + 1))),
        }
    }
    max
}
