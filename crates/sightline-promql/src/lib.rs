//! PromQL text to syntax tree and back.
//!
//! [`parse`] turns a query into an [`ast::Expr`], applying Prometheus's
//! parser rules: operator precedence and associativity, vector matching
//! clauses, aggregation and function signatures (see [`functions`], the
//! function registry every later stage reads), and
//! the type checks Prometheus makes before evaluation. `Display` on
//! [`ast::Expr`] prints canonical PromQL text.
//!
//! Invariants this crate keeps:
//! - it is pure: no I/O, no clock, no environment; the same text always
//!   gives the same tree or the same error;
//! - no input makes it panic or overflow the stack: nesting deeper than
//!   [`MAX_DEPTH`] is an error, and chains of binary operators, which are
//!   not nesting, are accepted at any length and never walked by recursion
//!   (parser, checker, printer, `value_type`, and `BinaryExpr`'s `Clone`,
//!   `PartialEq`, `Debug` and `Drop`);
//! - printing a parsed tree and parsing the text again gives an equal tree
//!   (spans never take part in equality);
//! - every `VectorSelector` with a metric name has that name as a
//!   `__name__` equality matcher first in its matchers, and every
//!   `BinaryExpr` between two instant vectors carries its `matching`;
//! - syntax it does not implement (Prometheus's experimental duration
//!   functions, `fill` modifiers, `anchored`/`smoothed`, histogram trim
//!   operators) is refused with an error that names it.
//!
//! The lexer is built from nom combinators; the grammar on top of it is a
//! recursive-descent parser. `grammar/promql.ebnf` at the repository root
//! is the written grammar.

pub mod ast;
mod check;
mod error;
pub mod functions;
mod lexer;
mod parser;
mod printer;
pub mod text;

pub use error::ParseError;
pub use parser::MAX_DEPTH;
pub use printer::{format_duration, quote};

/// Parses a PromQL expression and type-checks it. The top-level expression
/// may be of any type.
pub fn parse(input: &str) -> Result<ast::Expr, ParseError> {
    let mut expr = parser::parse_unchecked(input)?;
    check::check(input, &mut expr)?;
    Ok(expr)
}
