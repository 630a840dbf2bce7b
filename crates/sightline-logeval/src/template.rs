//! Go's `text/template`, as Loki's `line_format` and `label_format` run it.
//!
//! Loki builds every template with `template.New(name).Option("missingkey=zero")`
//! and executes it over the entry's labels as a Go `map[string]string`, with
//! its own function map (pkg/logql/log/fmt.go) plus a selection of sprig's.
//! This module reproduces that: the same lexer and parser (and their error
//! wording), the same execution rules (typed function arguments, Go's
//! comparison rules, truthiness, `missingkey=zero` so a missing label reads as
//! `""`), Go's `fmt` verbs for `printf`, and every function Loki installs.
//!
//! Architecture invariants:
//! - Never panics on input. Hostile templates are bounded: nesting depth
//!   ([`MAX_NESTING`]), template recursion ([`MAX_EXEC_DEPTH`]), work
//!   ([`MAX_STEPS`]) and output size ([`MAX_OUTPUT_BYTES`]) all end in a
//!   [`TemplateError`] instead of exhausting the stack, the CPU or memory.
//! - Reads no clock and no environment: `now` returns the instant the caller
//!   passes in [`TemplateData::now_ns`], and Go's `time.Local` is UTC.
//!
//! Where Go's behaviour cannot be reproduced it is listed in the docs of
//! [`Template`].

mod decimal;
mod exec;
mod fmt;
mod funcs;
mod gotime;
mod lex;
mod parse;
mod strconv;
mod value;

#[cfg(test)]
mod tests;

pub(crate) use strconv::underscore_ok;

/// Whether Go's `strconv.ParseInt(v, 10, 64)` accepts `v`.
pub(crate) fn go_parse_int10(v: &str) -> bool {
    strconv::parse_int10(v).is_ok()
}

/// Whether Go's `time.ParseDuration` accepts `v`.
pub(crate) fn go_parse_duration(v: &str) -> bool {
    gotime::parse_duration(v).is_ok()
}

use std::collections::HashMap;

/// Deepest nesting of parentheses and control structures the parser accepts
/// (Go allows 10000; a lower cap keeps the recursive parser and evaluator inside
/// a 2 MiB thread stack, even unoptimised).
pub const MAX_NESTING: usize = 100;
/// Deepest chain of `{{template}}` calls (Go allows 100000).
pub const MAX_EXEC_DEPTH: usize = 100;
/// Evaluation steps (actions, commands, loop iterations) one execution may take.
pub const MAX_STEPS: u64 = 2_000_000;
/// Largest output, and largest string any function may build, in bytes.
pub const MAX_OUTPUT_BYTES: usize = 16 << 20;

/// A parsed template, ready to run over many entries.
///
/// Differences from Go that are deliberate or unavoidable:
/// - Strings are UTF-8: a function that would produce invalid UTF-8 (byte
///   slicing with `trunc`/`substr`/`slice`, `b64dec`, `urldecode`) yields
///   U+FFFD for the broken bytes, as Loki's JSON responses show them anyway.
/// - The label map can be read by key (`.name`, `index . "name"`) but not
///   enumerated: `{{.}}`, `range .`, `len .` and printing the map report an
///   error, because the caller hands labels over as a lookup function.
///   Its truthiness is `true` (a Loki stream always has labels).
/// - `now` carries no monotonic clock reading, so printing it lacks Go's
///   ` m=+0.000…` suffix. `time.Local` is UTC.
/// - Methods of values (`{{ now.Unix }}`) are not callable, except that none
///   of Loki's data has methods besides `time.Time`'s.
/// - Regular expressions use Rust's `regex` crate (RE2 semantics; `\d`, `\w`
///   and `\s` are Unicode-aware where Go's are ASCII-only), and its error
///   messages after Go's `error parsing regexp: ` prefix.
/// - Complex number constants (`1+2i`) are rejected at parse time.
pub struct Template {
    name: String,
    root: parse::ListNode,
    defines: HashMap<String, parse::ListNode>,
    text: String,
}

/// A parse or execution error, worded as Go's `text/template` words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

impl TemplateError {
    /// The message (also what `Display` prints).
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// What one execution reads.
pub struct TemplateData<'a> {
    /// `.name` lookups: the current labels (a Go `map[string]string`).
    pub labels: &'a dyn Fn(&str) -> Option<String>,
    /// What the `__line__` function returns.
    pub line: &'a str,
    /// What the `__timestamp__` function returns, in Unix nanoseconds.
    pub timestamp_ns: i64,
    /// What `now` returns, in Unix nanoseconds; the template reads no clock.
    pub now_ns: i64,
}

impl Template {
    /// Parses `text` as `line_format` does (Go template name `line`).
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        Self::parse_named("line", text)
    }

    /// Parses `text` under a Go template name, which appears in every error
    /// message: Loki names `label_format` templates `label`.
    pub fn parse_named(name: &str, text: &str) -> Result<Template, TemplateError> {
        let parsed = parse::parse(name, text)?;
        Ok(Template {
            name: name.to_string(),
            root: parsed.root,
            defines: parsed.defines,
            text: text.to_string(),
        })
    }

    /// Runs the template over one entry.
    pub fn execute(&self, data: &TemplateData<'_>) -> Result<String, TemplateError> {
        exec::execute(self, data)
    }

    /// The label names the template reads as `.name` fields, in first-use
    /// order without repeats (Loki's `RequiredLabelNames`).
    pub fn field_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        parse::collect_fields(&self.root, &mut out);
        out
    }
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .field("text", &self.text)
            .finish()
    }
}
