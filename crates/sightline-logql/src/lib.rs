//! LogQL text to syntax tree and back.
//!
//! [`parse`] turns a LogQL query into an [`ast::Expr`]: a log query (a
//! stream selector and its pipeline) or a metric query (range aggregations
//! over log ranges, with vector aggregations, binary operators, literals,
//! `vector()` and `label_replace()` on top), applying Loki's grammar and the
//! validation Loki makes before a query runs (a selector needs a matcher
//! that does not match the empty string; range functions with and without
//! `unwrap`; aggregation parameters and grouping). `Display` on
//! [`ast::Expr`] prints canonical LogQL.
//!
//! Invariants this crate keeps:
//! - it is pure: no I/O, no clock, no environment;
//! - no input makes it panic or overflow the stack: input longer than
//!   [`MAX_INPUT`] bytes and trees deeper than [`MAX_DEPTH`] are errors;
//! - printing a parsed tree and parsing the text again gives an equal tree
//!   (spans never take part in equality);
//! - the metric parts shared with PromQL (binary operators, vector
//!   matching, grouping) use `sightline_promql::ast`'s types, so the
//!   evaluator handles them once for both languages.
//!
//! The lexer is built from nom combinators; the grammar on top of it is a
//! recursive-descent parser with precedence climbing for binary operators.
//! `grammar/logql.ebnf` at the repository root is the written grammar.

pub mod ast;
mod error;
mod lexer;
pub mod literals;
mod parser;
mod printer;
mod validate;

pub use error::ParseError;
pub use parser::{MAX_DEPTH, MAX_INPUT};
pub use printer::format_duration_ns;

/// Parses and validates a LogQL query.
pub fn parse(input: &str) -> Result<ast::Expr, ParseError> {
    let expr = parser::parse(input)?;
    validate::validate(input, &expr)?;
    Ok(expr)
}
