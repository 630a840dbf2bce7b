//! The parser's single error type.

use thiserror::Error;

use crate::ast::Span;

/// A query that could not be parsed or failed the parser's type checks.
///
/// Displays like Prometheus's parse errors: `1:14: parse error: unexpected
/// <by>`, where `line:column` are 1-based and the column counts bytes from
/// the start of the line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{line}:{column}: parse error: {message}")]
pub struct ParseError {
    pub message: String,
    /// Byte range of the offending text in the query.
    pub position: Span,
    /// 1-based line of `position.start`.
    pub line: usize,
    /// 1-based byte column of `position.start` within its line.
    pub column: usize,
}

impl ParseError {
    /// An error at `position` in `input`; line and column are derived from
    /// the byte offset.
    pub fn new(input: &str, position: Span, message: impl Into<String>) -> Self {
        let start = position.start.min(input.len());
        let (line, line_start) = crate::text::line_of(input, start);
        ParseError {
            message: message.into(),
            position,
            line,
            column: start - line_start + 1,
        }
    }
}
