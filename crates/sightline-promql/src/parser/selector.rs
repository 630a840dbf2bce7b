//! Vector selectors: `name`, `name{...}`, `{...}`.

use sightline_core::{METRIC_NAME, MatchOp, Matcher};

use super::{PResult, Parser};
use crate::ast::{Expr, Span, VectorSelector};
use crate::lexer::Tok;

impl Parser<'_> {
    /// Parses the optional `{...}` after a metric name (already consumed,
    /// given as `name`), or a selector that starts with `{`.
    pub(super) fn parse_vector_selector(&mut self, name: Option<(String, Span)>) -> PResult<Expr> {
        let mut start = name.as_ref().map(|(_, s)| s.start);
        let mut end = name.as_ref().map_or(0, |(_, s)| s.end);
        let mut metric = name.map(|(n, _)| n);
        let mut matchers = Vec::new();
        if self.peek().tok == Tok::LBrace {
            let open = self.bump();
            start.get_or_insert(open.span.start);
            end = self.parse_matchers(&mut metric, &mut matchers)?;
        }
        let span = Span {
            start: start.unwrap_or(end),
            end,
        };
        if let Some(n) = &metric {
            if let Some(m) = matchers.iter().find(|m| m.name == METRIC_NAME) {
                return Err(self.err(
                    span,
                    format!("metric name must not be set twice: {n:?} or {:?}", m.value),
                ));
            }
            let m = Matcher::new(METRIC_NAME, MatchOp::Equal, n.as_str())
                .map_err(|e| self.err(span, e.to_string()))?;
            matchers.insert(0, m);
        }
        Ok(Expr::Vector(VectorSelector {
            name: metric,
            matchers,
            offset: None,
            at: None,
            span,
        }))
    }

    /// The inside of `{...}` after the `{`; returns the end of the `}`.
    fn parse_matchers(
        &mut self,
        metric: &mut Option<String>,
        matchers: &mut Vec<Matcher>,
    ) -> PResult<usize> {
        const CTX: &str = "label matching";
        loop {
            let t = self.peek().clone();
            let (label, label_span) = match &t.tok {
                Tok::RBrace => {
                    self.bump();
                    return Ok(t.span.end);
                }
                Tok::Ident => {
                    self.bump();
                    (self.text(&t).to_string(), t.span)
                }
                Tok::Str(v) => {
                    self.bump();
                    let next = self.peek().tok.clone();
                    if matches!(next, Tok::Comma | Tok::RBrace) {
                        // A bare quoted string is the metric name.
                        let name = self.label_name_from_string(v, t.span)?;
                        if let Some(prev) = metric {
                            return Err(self.err(
                                t.span,
                                format!("metric name must not be set twice: {prev:?} or {name:?}"),
                            ));
                        }
                        *metric = Some(name);
                        self.after_matcher(CTX)?;
                        continue;
                    }
                    (self.label_name_from_string(v, t.span)?, t.span)
                }
                _ => {
                    return Err(self.unexpected(&t, Some(CTX), Some("label name or \"}\"")));
                }
            };
            let op_tok = self.peek().clone();
            let op = match op_tok.tok {
                Tok::Assign => MatchOp::Equal,
                Tok::Neq => MatchOp::NotEqual,
                Tok::EqlRegex => MatchOp::Regex,
                Tok::NeqRegex => MatchOp::NotRegex,
                _ => {
                    return Err(self.unexpected(
                        &op_tok,
                        Some(CTX),
                        Some("label matching operator"),
                    ));
                }
            };
            self.bump();
            let v = self.peek().clone();
            let value = match &v.tok {
                Tok::Str(Ok(s)) => s.clone(),
                Tok::Str(Err(bytes)) => {
                    return Err(self.err(
                        v.span,
                        format!(
                            "invalid UTF-8 in label value {}",
                            crate::printer::quote_bytes(bytes)
                        ),
                    ));
                }
                _ => return Err(self.unexpected(&v, Some(CTX), Some("string"))),
            };
            self.bump();
            let m = Matcher::new(label, op, value).map_err(|e| {
                self.err(
                    Span {
                        start: label_span.start,
                        end: v.span.end,
                    },
                    e.to_string(),
                )
            })?;
            matchers.push(m);
            self.after_matcher(CTX)?;
        }
    }

    /// After a matcher: `,` (consumed) or `}` (left for the loop).
    fn after_matcher(&mut self, ctx: &str) -> PResult<()> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Comma => {
                self.bump();
                Ok(())
            }
            Tok::RBrace => Ok(()),
            _ => Err(self.unexpected(&t, Some(ctx), Some("\",\" or \"}\""))),
        }
    }
}
