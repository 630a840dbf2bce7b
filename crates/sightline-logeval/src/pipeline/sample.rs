//! Samples of metric queries (`metrics_extraction.go`): one value per log
//! line that survives the pipeline, and the labels it is counted under.
//!
//! Without `unwrap` the value is 1 (`count_over_time`, `rate`,
//! `absent_over_time`) or the final line's length in bytes
//! (`bytes_over_time`, `bytes_rate`). With `unwrap`, the label's value
//! converted (Go `ParseFloat`; `duration`/`duration_seconds` in seconds;
//! `bytes`); a missing or empty label gives no sample; a failed
//! conversion gives a sample (of Go's returned value, 0 or ±Inf) with
//! `__error__="SampleExtractionErr"`, which the post-filters may drop.
//!
//! Labels: the range aggregation's `by`/`without`, applied per sample.
//! With `unwrap` and no grouping (or `without`), the unwrapped label is
//! removed. A sample with `__error__` keeps all its labels. `by ()` and
//! `absent_over_time` give no labels. As in Loki, `by` narrows what the
//! parsers extract (so a parser may stop early, before reaching a
//! malformed part of the line).

use std::sync::Arc;

use sightline_core::Labels;
use sightline_logql::ast::{Conversion, Grouping, LogRange, RangeOp};

use super::convert::{parse_bytes, parse_duration_seconds, parse_float};
use super::label_filter::LabelFilterNode;
use super::labels::{DUPLICATE_SUFFIX, ERROR_LABEL, Hints, LabelsBuilder, SAMPLE_EXTRACTION_ERR};
use super::{PipelineError, Stages};

#[derive(Debug, Clone, Copy)]
enum LineValue {
    Count,
    Bytes,
}

#[derive(Debug)]
struct Unwrapped {
    label: String,
    conv: Option<Conversion>,
    post: Vec<LabelFilterNode>,
}

/// A metric query's sample extractor, built once per query.
#[derive(Debug)]
pub struct SampleExtractor {
    stages: Stages,
    hints: Arc<Hints>,
    line: LineValue,
    unwrap: Option<Unwrapped>,
    groups: Vec<String>,
    without: bool,
    no_labels: bool,
}

impl SampleExtractor {
    /// `op` decides the value per line without unwrap; `grouping` is the
    /// range aggregation's own `by`/`without`. `now_ns` is what templates'
    /// `now` returns.
    pub fn new(
        range: &LogRange,
        op: RangeOp,
        grouping: Option<&Grouping>,
        now_ns: i64,
    ) -> Result<SampleExtractor, PipelineError> {
        let stages = Stages::compile(&range.log.stages, now_ns)?;
        let (mut groups, mut without, mut no_labels) = (Vec::new(), false, false);
        if let Some(g) = grouping {
            groups = g.labels.clone();
            without = g.without;
            no_labels = !g.without && g.labels.is_empty();
        }
        if op == RangeOp::AbsentOverTime {
            no_labels = true;
        }
        groups.sort();
        let mut required = stages.label_names();
        let mut early = stages.early_filters();
        let mut metric_label = String::new();
        let (line, unwrap) = match &range.unwrap {
            Some(u) => {
                if groups.is_empty() || without {
                    without = true;
                    groups.push(u.label.clone());
                    groups.sort();
                }
                let post = u
                    .post_filters
                    .iter()
                    .map(LabelFilterNode::compile)
                    .collect::<Result<Vec<_>, _>>()?;
                for p in &post {
                    p.label_names(&mut required);
                }
                // Loki reduces the post-filters to one with `and`: only a
                // single one is a single-label filter for the hints.
                if let [p] = post.as_slice()
                    && let Some(name) = p.single_label()
                {
                    let f = LabelFilterNode::compile(&u.post_filters[0])?;
                    early.push((name.to_owned(), Arc::new(f)));
                }
                metric_label = u.label.clone();
                (
                    LineValue::Count,
                    Some(Unwrapped {
                        label: u.label.clone(),
                        conv: u.conv,
                        post,
                    }),
                )
            }
            None => {
                let line = match op {
                    RangeOp::CountOverTime | RangeOp::Rate | RangeOp::AbsentOverTime => {
                        LineValue::Count
                    }
                    RangeOp::BytesOverTime | RangeOp::BytesRate => LineValue::Bytes,
                    other => return Err(PipelineError::UnsupportedRangeOp(other.as_str())),
                };
                (line, None)
            }
        };
        let hints = parser_hints(required, &groups, without, no_labels, &metric_label, early);
        Ok(SampleExtractor {
            stages,
            hints: Arc::new(hints),
            line,
            unwrap,
            groups,
            without,
            no_labels,
        })
    }

    /// The per-stream state for entries of `stream`.
    pub fn for_stream(&self, stream: &Labels) -> StreamSampleExtractor<'_> {
        StreamSampleExtractor {
            extractor: self,
            builder: LabelsBuilder::new(stream.clone(), Arc::clone(&self.hints)),
        }
    }
}

/// Loki's `NewParserHint`.
fn parser_hints(
    required: Vec<String>,
    groups: &[String],
    without: bool,
    no_labels: bool,
    metric_label: &str,
    early: Vec<(String, Arc<LabelFilterNode>)>,
) -> Hints {
    let mut hints: Vec<String> = Vec::new();
    let all = required
        .iter()
        .map(String::as_str)
        .chain(groups.iter().map(String::as_str))
        .chain(std::iter::once(metric_label));
    for l in all {
        if l.is_empty() {
            continue;
        }
        let mut push = |s: &str| {
            if !hints.iter().any(|h| h == s) {
                hints.push(s.to_owned());
            }
        };
        push(l);
        if let Some(t) = l.strip_suffix(DUPLICATE_SUFFIX)
            && !t.is_empty()
        {
            push(t);
        }
    }
    let preserve_error = hints.iter().any(|h| h == ERROR_LABEL);
    if no_labels {
        if hints.is_empty() {
            return Hints {
                no_labels: true,
                ..Hints::default()
            };
        }
        return Hints {
            required: hints,
            preserve_error,
            early_filters: early,
            ..Hints::default()
        };
    }
    if without || groups.is_empty() {
        return Hints {
            early_filters: early,
            ..Hints::default()
        };
    }
    Hints {
        required: hints,
        preserve_error,
        ..Hints::default()
    }
}

/// A sample extractor for one stream's entries.
#[derive(Debug)]
pub struct StreamSampleExtractor<'e> {
    extractor: &'e SampleExtractor,
    builder: LabelsBuilder,
}

impl StreamSampleExtractor<'_> {
    /// The sample of one entry: its value and labels, or `None` when the
    /// pipeline drops it or the unwrapped label is missing.
    pub fn process(
        &mut self,
        ts_ns: i64,
        line: &str,
        structured_metadata: &[(String, String)],
    ) -> Option<(f64, Labels)> {
        let ex = self.extractor;
        let lbs = &mut self.builder;
        lbs.reset(structured_metadata);
        let line = ex.stages.run(ts_ns, line, lbs)?;
        let value = match &ex.unwrap {
            None => match ex.line {
                LineValue::Count => 1.0,
                LineValue::Bytes => line.len() as f64,
            },
            Some(u) => {
                let raw = lbs.get(&u.label).unwrap_or("");
                if raw.is_empty() {
                    return None;
                }
                let (v, err) = match u.conv {
                    None => parse_float(raw),
                    Some(Conversion::Duration | Conversion::DurationSeconds) => {
                        match parse_duration_seconds(raw) {
                            Ok(v) => (v, None),
                            Err(e) => (0.0, Some(e)),
                        }
                    }
                    Some(Conversion::Bytes) => match parse_bytes(raw) {
                        Ok(v) => (v as f64, None),
                        Err(e) => (0.0, Some(e)),
                    },
                };
                if let Some(e) = err {
                    lbs.set_error(SAMPLE_EXTRACTION_ERR);
                    lbs.set_error_details(&e);
                }
                // All post-filters run (Loki's `and` evaluates both sides).
                let mut keep = true;
                for p in &u.post {
                    keep &= p.process(lbs);
                }
                if !keep {
                    return None;
                }
                v
            }
        };
        Some((value, lbs.grouped(&ex.groups, ex.without, ex.no_labels)))
    }
}
