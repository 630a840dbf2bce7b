//! Function calls, aggregations, and the label lists of grouping and
//! vector-matching clauses.

use sightline_core::is_valid_label_name;

use super::{PResult, Parser};
use crate::ast::{
    AggOp, AggregateExpr, Call, Expr, GroupModifier, GroupSide, Grouping, Span, VectorMatching,
};
use crate::lexer::Tok;

impl Parser<'_> {
    /// `bool`, `on(...)`/`ignoring(...)`, `group_left(...)`/`group_right(...)`
    /// after a binary operator.
    pub(super) fn parse_bin_modifiers(&mut self) -> PResult<(bool, Option<VectorMatching>)> {
        let mut return_bool = false;
        if self.at_kw("bool") {
            self.bump();
            return_bool = true;
        }
        let mut matching = None;
        let on = self.at_kw("on");
        if on || self.at_kw("ignoring") {
            self.bump();
            let labels = self.parse_label_list("grouping opts")?;
            let mut vm = VectorMatching {
                on,
                labels,
                explicit: true,
                group: None,
            };
            let left = self.at_kw("group_left");
            if left || self.at_kw("group_right") {
                self.bump();
                let include = if self.peek().tok == Tok::LParen {
                    self.parse_label_list("grouping opts")?
                } else {
                    Vec::new()
                };
                vm.group = Some(GroupModifier {
                    side: if left {
                        GroupSide::Left
                    } else {
                        GroupSide::Right
                    },
                    include,
                });
            }
            matching = Some(vm);
        }
        if matching.is_none() && (self.at_kw("group_left") || self.at_kw("group_right")) {
            // A group modifier needs an `on`/`ignoring` clause before it.
            let t = self.peek().clone();
            return Err(self.unexpected(&t, None, None));
        }
        for kw in ["fill", "fill_left", "fill_right"] {
            if self.at_kw(kw) && self.peek_nth(1).tok == Tok::LParen {
                let span = self.peek().span;
                return Err(self.err(
                    span,
                    format!("the experimental {kw}() binary operator modifier is not supported"),
                ));
            }
        }
        Ok((return_bool, matching))
    }

    /// `( label, ... )` as used by `by`, `without`, `on`, `ignoring` and
    /// the group modifiers. Trailing commas are allowed.
    pub(crate) fn parse_label_list(&mut self, context: &str) -> PResult<Vec<String>> {
        self.expect(&Tok::LParen, context, "\"(\"")?;
        let mut labels = Vec::new();
        loop {
            let t = self.peek().clone();
            match &t.tok {
                Tok::RParen => {
                    self.bump();
                    return Ok(labels);
                }
                Tok::Ident if is_valid_label_name(self.text(&t)) => {
                    self.bump();
                    labels.push(self.text(&t).to_string());
                }
                Tok::Str(v) => {
                    self.bump();
                    labels.push(self.label_name_from_string(v, t.span)?);
                }
                _ => return Err(self.unexpected(&t, Some(context), Some("label"))),
            }
            let t = self.peek().clone();
            match t.tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {}
                _ => return Err(self.unexpected(&t, Some(context), Some("\",\" or \")\""))),
            }
        }
    }

    /// A quoted label name: any non-empty valid UTF-8 string.
    pub(crate) fn label_name_from_string(
        &self,
        v: &Result<String, Vec<u8>>,
        span: Span,
    ) -> PResult<String> {
        match v {
            Ok(s) if !s.is_empty() => Ok(s.clone()),
            Ok(_) => Err(self.err(span, "label name must not be empty")),
            Err(bytes) => Err(self.err(
                span,
                format!("invalid label name {}", crate::printer::quote_bytes(bytes)),
            )),
        }
    }

    pub(super) fn parse_call(&mut self) -> PResult<Expr> {
        let name_tok = self.bump();
        let name = self.text(&name_tok);
        let Some(func) = crate::functions::Function::from_name(name) else {
            return Err(self.err(
                name_tok.span,
                format!("unknown function with name {name:?}"),
            ));
        };
        let (args, close) = self.parse_call_args("function call")?;
        Ok(Expr::Call(Call {
            func,
            args,
            span: Span {
                start: name_tok.span.start,
                end: close.end,
            },
        }))
    }

    /// `( expr, expr, ... )`, trailing comma allowed; returns the span of
    /// the closing parenthesis too. Each argument is one level of nesting.
    fn parse_call_args(&mut self, context: &str) -> PResult<(Vec<Expr>, Span)> {
        let open = self.expect(&Tok::LParen, context, "\"(\"")?.span;
        let mut args = Vec::new();
        loop {
            if let Some(close) = self.args_closed(open)? {
                return Ok((args, close));
            }
            self.enter()?;
            let arg = self.parse_expr();
            self.leave();
            match arg {
                Ok(e) => args.push(e),
                Err(e) => return Err(e),
            }
            self.after_arg(open, context)?;
        }
    }

    /// Consumes `)` and returns its span if the argument list ends here.
    fn args_closed(&mut self, open: Span) -> PResult<Option<Span>> {
        let t = self.peek();
        match t.tok {
            Tok::RParen => Ok(Some(self.bump().span)),
            Tok::Eof => Err(self.err(open, "unclosed left parenthesis")),
            _ => Ok(None),
        }
    }

    /// After an argument: `,` (consumed) or `)` (left for the loop).
    fn after_arg(&mut self, open: Span, context: &str) -> PResult<()> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Comma => {
                self.bump();
                Ok(())
            }
            Tok::RParen => Ok(()),
            Tok::Eof => Err(self.err(open, "unclosed left parenthesis")),
            _ => Err(self.unexpected(&t, Some(context), Some("\",\" or \")\""))),
        }
    }

    pub(super) fn parse_aggregate(&mut self, op: AggOp) -> PResult<Expr> {
        let op_tok = self.bump();
        let mut grouping = self.parse_grouping()?;
        if op == AggOp::CountValues {
            // The parameter names the output label; Prometheus reports a
            // name that is not valid UTF-8 in these words.
            if let (Tok::LParen, Tok::Str(Err(bytes))) = (&self.peek().tok, &self.peek_nth(1).tok) {
                let span = self.peek_nth(1).span;
                return Err(self.err(
                    span,
                    format!("invalid label name {}", crate::printer::quote_bytes(bytes)),
                ));
            }
        }
        let (args, close) = self.parse_call_args("aggregation")?;
        let mut end = close.end;
        if grouping.is_none() {
            let before = self.pos;
            grouping = self.parse_grouping()?;
            if self.pos != before {
                end = self.toks[self.pos - 1].span.end;
            }
        }
        self.finish_aggregate(op, op_tok.span.start, end, args, grouping)
    }

    fn finish_aggregate(
        &self,
        op: AggOp,
        start: usize,
        end: usize,
        mut args: Vec<Expr>,
        grouping: Option<Grouping>,
    ) -> PResult<Expr> {
        let span = Span { start, end };
        let want = if op.takes_param() { 2 } else { 1 };
        if args.is_empty() {
            return Err(self.err(span, "no arguments for aggregate expression provided"));
        }
        if args.len() != want {
            return Err(self.err(
                span,
                format!(
                    "wrong number of arguments for aggregate expression provided, \
                     expected {want}, got {}",
                    args.len()
                ),
            ));
        }
        let expr = args.pop().map(Box::new);
        let param = args.pop().map(Box::new);
        // `args` held exactly `want` (>= 1) elements.
        let Some(expr) = expr else {
            return Err(self.err(span, "no arguments for aggregate expression provided"));
        };
        Ok(Expr::Aggregate(AggregateExpr {
            op,
            expr,
            param,
            grouping,
            span,
        }))
    }

    /// `by (...)` or `without (...)`, if present.
    fn parse_grouping(&mut self) -> PResult<Option<Grouping>> {
        let without = self.at_kw("without");
        if !(without || self.at_kw("by")) {
            return Ok(None);
        }
        self.bump();
        let labels = self.parse_label_list("grouping opts")?;
        Ok(Some(Grouping { without, labels }))
    }
}
