//! The parser's single error type.

use thiserror::Error;

use crate::ast::Span;

/// A query that could not be parsed or failed Loki's validation.
///
/// Displays as Loki's parse errors do: `parse error at line 1, col 14:
/// syntax error: unexpected IDENTIFIER, expecting STRING`, line and column
/// 1-based, the column counting characters from the start of the line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("parse error at line {line}, col {column}: {message}")]
pub struct ParseError {
    pub message: String,
    /// Byte range of the offending text in the query.
    pub position: Span,
    pub line: usize,
    pub column: usize,
}

impl ParseError {
    /// An error at `position` in `input`; line and column are derived from
    /// the byte offset.
    pub fn new(input: &str, position: Span, message: impl Into<String>) -> Self {
        let mut start = position.start.min(input.len());
        while !input.is_char_boundary(start) {
            start -= 1;
        }
        let (line, line_start) = sightline_promql::text::line_of(input, start);
        ParseError {
            message: message.into(),
            position,
            line,
            column: input[line_start..start].chars().count() + 1,
        }
    }
}
