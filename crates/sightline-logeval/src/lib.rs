//! LogQL evaluation.
//!
//! `pipeline`: the log pipeline run over each entry (line filters,
//! parsers, label filters, formatters, `drop`/`keep`, `unwrap`), with
//! Loki's semantics. `template`: Go's `text/template` with the functions
//! Loki gives `line_format` and `label_format`. `query`: log queries and
//! metric queries over the streams the caller read.
//!
//! Pure: no I/O, no clock (a template's `now` reads the time the caller
//! passes in), no environment.

pub mod pipeline;
pub mod query;
pub mod template;
