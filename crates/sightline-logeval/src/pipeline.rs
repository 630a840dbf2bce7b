//! The LogQL log pipeline at run time, with Loki's semantics
//! (`pkg/logql/log`): line filters, parsers, label filters, formatters,
//! `drop`/`keep`, and the sample extraction of metric queries (`unwrap`,
//! conversions, grouping).
//!
//! A [`Pipeline`] (or [`SampleExtractor`]) is built once per query from
//! the syntax tree; building compiles every regex, pattern and template
//! and reports what Loki refuses, in Loki's words. Per stream, a
//! [`StreamPipeline`] holds the entry state (Loki caches one per stream);
//! each entry goes through every stage in order and comes out with its
//! final line and labels, or is dropped.
//!
//! Architecture invariants:
//! - Never panics on input: lines, label values and query parameters are
//!   all untrusted. Regexes are size-bounded; JSON nesting is walked
//!   without recursion and bounded ([`json::MAX_DEPTH`]).
//! - Pure: no clock (templates' `now` is the `now_ns` given to `new`), no
//!   I/O, no environment.
//! - Errors of the data never fail a query here: they become `__error__`
//!   and `__error_details__` labels on the entry, as in Loki; refusing a
//!   metric query over them is the evaluator's business.
//!
//! Where the bookkeeping of labels matters (precedence between stream,
//! structured metadata and parsed labels, `_extracted`, first parsed
//! value wins), see [`labels`]; where Loki rewrites regexes into substring
//! tests with visible consequences, see [`filter`].

mod ansi;
pub(crate) mod convert;
mod filter;
mod format;
mod ip;
pub(crate) mod json;
mod jsonscan;
mod label_filter;
pub(crate) mod labels;
pub(crate) mod logfmt;
mod pattern;
mod regexp;
mod sample;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::sync::Arc;

use sightline_core::Labels;
use sightline_logql::ast::{FilterValue, LineFilter, LineFilterOp, NamedMatcher, Stage};

pub use labels::{
    ERROR_DETAILS_LABEL, ERROR_LABEL, JSON_PARSER_ERR, LABEL_FILTER_ERR, LOGFMT_PARSER_ERR,
    PRESERVE_ERROR_LABEL, SAMPLE_EXTRACTION_ERR, TEMPLATE_FORMAT_ERR,
};
pub use sample::{SampleExtractor, StreamSampleExtractor};

use filter::Filter;
use format::{LabelFormat, LineFormat};
use json::{JsonExpressionParser, JsonParser};
use label_filter::LabelFilterNode;
use labels::{Hints, LabelsBuilder};
use logfmt::{LogfmtExpressionParser, LogfmtParser};
use pattern::Pattern;
use regexp::RegexpParser;

/// Why a pipeline could not be built. Each message is the text Loki's
/// `log` package gives for the same mistake (Loki's query layer adds its
/// `parse error : ` prefix to some of them; that is the caller's concern).
/// All are errors of the query (a bad request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    /// A line filter's or label filter's regular expression.
    #[error("{0}")]
    Regexp(String),
    /// A `|>` / `!>` pattern.
    #[error("{0}")]
    LinePattern(String),
    /// `ip("...")`.
    #[error("{0}")]
    Ip(String),
    /// The expression of `| regexp`.
    #[error("{0}")]
    RegexpParser(String),
    /// The pattern of `| pattern`.
    #[error("{0}")]
    PatternParser(String),
    /// A parameter of `| json` or `| logfmt`.
    #[error("{0}")]
    Extraction(String),
    /// The template of `| line_format`.
    #[error("invalid line template: {0}")]
    LineTemplate(String),
    /// `| label_format`: a bad template, a repeated or forbidden target.
    #[error("{0}")]
    LabelFormat(String),
    /// A range aggregation that cannot be computed from log lines.
    #[error("unsupported range vector aggregation operation: {0}")]
    UnsupportedRangeOp(&'static str),
}

/// One entry after the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub line: String,
    pub labels: ResultLabels,
}

/// The labels of a processed entry by origin, as Loki's `LabelsResult`
/// keeps them (for the `categorize-labels` encoding). The error labels
/// count as parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResultLabels {
    pub stream: Labels,
    pub structured_metadata: Labels,
    pub parsed: Labels,
}

impl ResultLabels {
    /// The single merged set (Loki's `LabelsResult.Labels()`), what
    /// streams are grouped by. Parsed labels may have empty values.
    pub fn all(&self) -> Labels {
        labels::merged([
            self.stream.clone(),
            self.structured_metadata.clone(),
            self.parsed.clone(),
        ])
    }
}

/// One compiled stage.
#[derive(Debug)]
enum Step {
    Line(Filter),
    Decolorize,
    Json(JsonParser),
    JsonExpr(JsonExpressionParser),
    Logfmt(LogfmtParser),
    LogfmtExpr(LogfmtExpressionParser),
    Regexp(RegexpParser),
    Pattern(Pattern),
    Unpack,
    LabelFilter(Arc<LabelFilterNode>),
    LineFormat(LineFormat),
    LabelFormat(LabelFormat),
    Drop(Vec<NamedMatcher>),
    Keep(Vec<NamedMatcher>),
}

impl Step {
    fn compile(stage: &Stage) -> Result<Step, PipelineError> {
        Ok(match stage {
            Stage::LineFilter(f) => Step::Line(compile_line_filter(f)?),
            Stage::Decolorize => Step::Decolorize,
            Stage::Json(params) if params.is_empty() => Step::Json(JsonParser),
            Stage::Json(params) => Step::JsonExpr(JsonExpressionParser::new(params)?),
            Stage::Logfmt {
                strict,
                keep_empty,
                params,
            } => {
                if params.is_empty() {
                    Step::Logfmt(LogfmtParser::new(*strict, *keep_empty))
                } else {
                    Step::LogfmtExpr(LogfmtExpressionParser::new(params, *strict)?)
                }
            }
            Stage::Regexp(re) => Step::Regexp(RegexpParser::new(re)?),
            Stage::Pattern(p) => Step::Pattern(
                Pattern::parse(p).map_err(|e| PipelineError::PatternParser(e.to_string()))?,
            ),
            Stage::Unpack => Step::Unpack,
            Stage::LabelFilter(f) => Step::LabelFilter(Arc::new(LabelFilterNode::compile(f)?)),
            Stage::LineFormat(t) => Step::LineFormat(LineFormat::new(t)?),
            Stage::LabelFormat(fmts) => Step::LabelFormat(LabelFormat::new(fmts)?),
            Stage::Drop(d) => Step::Drop(d.clone()),
            Stage::Keep(k) => Step::Keep(k.clone()),
        })
    }

    /// The labels the stage reads (Loki's `RequiredLabelNames`), which the
    /// parser hints of metric queries use.
    fn label_names(&self, out: &mut Vec<String>) {
        match self {
            Step::LabelFilter(f) => f.label_names(out),
            Step::LineFormat(f) => out.extend(f.label_names()),
            Step::LabelFormat(f) => out.extend(f.label_names()),
            _ => {}
        }
    }

    /// The stage's filter when it is a single-label filter (those a parser
    /// runs early).
    fn early_filter(&self) -> Option<(String, Arc<LabelFilterNode>)> {
        match self {
            Step::LabelFilter(f) => f.single_label().map(|n| (n.to_owned(), Arc::clone(f))),
            _ => None,
        }
    }

    /// Runs the stage; false drops the entry.
    fn run<'l>(
        &self,
        ts: i64,
        now_ns: i64,
        line: &mut Cow<'l, str>,
        lbs: &mut LabelsBuilder,
    ) -> bool {
        match self {
            Step::Line(f) => f.matches(line),
            Step::Decolorize => {
                if let Cow::Owned(s) = ansi::decolorize(line) {
                    *line = Cow::Owned(s);
                }
                true
            }
            Step::Json(p) => p.process(line, lbs),
            Step::JsonExpr(p) => {
                p.process(line, lbs);
                true
            }
            Step::Logfmt(p) => p.process(line, lbs),
            Step::LogfmtExpr(p) => {
                p.process(line, lbs);
                true
            }
            Step::Regexp(p) => p.process(line, lbs),
            Step::Pattern(p) => p.extract(line, lbs),
            Step::Unpack => match json::unpack(line, lbs) {
                Some(Cow::Owned(entry)) => {
                    *line = Cow::Owned(entry);
                    true
                }
                Some(Cow::Borrowed(entry)) => {
                    let entry = entry.to_owned();
                    *line = Cow::Owned(entry);
                    true
                }
                None => false,
            },
            Step::LabelFilter(f) => f.process(lbs),
            Step::LineFormat(f) => {
                let out = f.process(ts, now_ns, line, lbs);
                *line = Cow::Owned(out);
                true
            }
            Step::LabelFormat(f) => {
                f.process(ts, now_ns, line, lbs);
                true
            }
            Step::Drop(d) => {
                format::drop_labels(d, lbs);
                true
            }
            Step::Keep(k) => {
                format::keep_labels(k, lbs);
                true
            }
        }
    }
}

/// One line filter stage: the `or` alternatives of `|=`, `|~` and `|>`
/// are alternatives; those of the negated operators all have to hold, as
/// `!= "a" or "b"` means `!= "a" != "b"` in Loki.
fn compile_line_filter(f: &LineFilter) -> Result<Filter, PipelineError> {
    let negated = matches!(
        f.op,
        LineFilterOp::NotContains | LineFilterOp::NotMatch | LineFilterOp::NotPattern
    );
    let mut acc: Option<Filter> = None;
    for v in &f.values {
        let one = match v {
            FilterValue::Str(s) => filter::line_filter_value(f.op, s).map_err(|e| match f.op {
                LineFilterOp::Pattern | LineFilterOp::NotPattern => PipelineError::LinePattern(e),
                _ => PipelineError::Regexp(e),
            })?,
            FilterValue::Ip(p) => {
                if !matches!(f.op, LineFilterOp::Contains | LineFilterOp::NotContains) {
                    return Err(PipelineError::Ip("ip: invalid operation".into()));
                }
                let ip = ip::IpMatcher::parse(p).map_err(|e| PipelineError::Ip(e.to_string()))?;
                if negated {
                    Filter::Ip(ip).not()
                } else {
                    Filter::Ip(ip)
                }
            }
        };
        acc = Some(match acc {
            None => one,
            Some(a) if negated => Filter::And(Box::new(a), Box::new(one)),
            Some(a) => a.or(one),
        });
    }
    Ok(acc.unwrap_or(Filter::True))
}

/// The compiled stages of a query, shared by its stream pipelines.
#[derive(Debug)]
pub(crate) struct Stages {
    steps: Vec<Step>,
    now_ns: i64,
}

impl Stages {
    pub(crate) fn compile(stages: &[Stage], now_ns: i64) -> Result<Stages, PipelineError> {
        let steps = stages
            .iter()
            .map(Step::compile)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Stages { steps, now_ns })
    }

    pub(crate) fn label_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.steps {
            s.label_names(&mut out);
        }
        out
    }

    pub(crate) fn early_filters(&self) -> Vec<(String, Arc<LabelFilterNode>)> {
        self.steps.iter().filter_map(Step::early_filter).collect()
    }

    /// Runs every stage over one entry of `lbs`'s stream; `None` when a
    /// stage drops it.
    pub(crate) fn run<'l>(
        &self,
        ts: i64,
        line: &'l str,
        lbs: &mut LabelsBuilder,
    ) -> Option<Cow<'l, str>> {
        let mut line = Cow::Borrowed(line);
        for s in &self.steps {
            if !s.run(ts, self.now_ns, &mut line, lbs) {
                return None;
            }
        }
        Some(line)
    }
}

/// A log query's pipeline, built once per query.
#[derive(Debug)]
pub struct Pipeline {
    stages: Stages,
    hints: Arc<Hints>,
}

impl Pipeline {
    /// Compiles the stages. `now_ns` is what templates' `now` returns (the
    /// query's evaluation time).
    pub fn new(stages: &[Stage], now_ns: i64) -> Result<Pipeline, PipelineError> {
        let stages = Stages::compile(stages, now_ns)?;
        let hints = Arc::new(Hints {
            early_filters: stages.early_filters(),
            ..Hints::default()
        });
        Ok(Pipeline { stages, hints })
    }

    /// The per-stream state for entries of `stream`.
    pub fn for_stream(&self, stream: &Labels) -> StreamPipeline<'_> {
        StreamPipeline {
            pipeline: self,
            builder: LabelsBuilder::new(stream.clone(), Arc::clone(&self.hints)),
        }
    }
}

/// A pipeline for one stream's entries.
#[derive(Debug)]
pub struct StreamPipeline<'p> {
    pipeline: &'p Pipeline,
    builder: LabelsBuilder,
}

impl StreamPipeline<'_> {
    /// One entry through every stage; `None` when a filter drops it.
    /// `structured_metadata` is the entry's, as stored.
    pub fn process(
        &mut self,
        ts_ns: i64,
        line: &str,
        structured_metadata: &[(String, String)],
    ) -> Option<Processed> {
        self.builder.reset(structured_metadata);
        let line = self.pipeline.stages.run(ts_ns, line, &mut self.builder)?;
        let [stream, structured_metadata, parsed] = self.builder.result();
        Some(Processed {
            line: line.into_owned(),
            labels: ResultLabels {
                stream,
                structured_metadata,
                parsed,
            },
        })
    }
}
