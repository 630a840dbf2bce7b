//! The labels of one entry on its way through a pipeline, kept the way
//! Loki's `LabelsBuilder` keeps them, because several visible results
//! depend on that bookkeeping rather than on a plain map:
//!
//! - labels are *added* in three categories (stream, structured metadata,
//!   parsed) over the stream's base labels, and *deleted* by name; a later
//!   add of a deleted name makes it visible again;
//! - a parsed label hides a metadata or stream label of the same name, a
//!   metadata label hides a stream label;
//! - parsers rename a key that is a stream label or a metadata label to
//!   `key_extracted`, and skip a name some earlier stage already parsed for
//!   this entry (the first value wins);
//! - `__error__` and `__error_details__` live beside the labels, not among
//!   them, and only join them in the result;
//! - parsed labels may have empty values (`{"a":""}` gives `a=""`).
//!
//! The parser hints of metric queries live here too ([`Hints`]): which
//! labels a parser may extract, and the single-label filters a parser runs
//! as soon as it sets their label, dropping the line early.

use std::collections::HashSet;
use std::sync::Arc;

use sightline_core::{Label, Labels};

use super::label_filter::LabelFilterNode;

/// The label carrying a pipeline error.
pub const ERROR_LABEL: &str = "__error__";
/// The label carrying a pipeline error's details.
pub const ERROR_DETAILS_LABEL: &str = "__error_details__";
/// Set (to `true`) with parser errors when a metric query's hints ask for
/// errors to be kept.
pub const PRESERVE_ERROR_LABEL: &str = "__preserve_error__";
/// Appended to a parsed name that collides with a stream or metadata label.
pub const DUPLICATE_SUFFIX: &str = "_extracted";

/// `__error__` of a failed `json` or `unpack` stage.
pub const JSON_PARSER_ERR: &str = "JSONParserErr";
/// `__error__` of a failed `logfmt --strict` stage.
pub const LOGFMT_PARSER_ERR: &str = "LogfmtParserErr";
/// `__error__` when `unwrap` cannot convert a label value.
pub const SAMPLE_EXTRACTION_ERR: &str = "SampleExtractionErr";
/// `__error__` when a label filter cannot convert a label value.
pub const LABEL_FILTER_ERR: &str = "LabelFilterErr";
/// `__error__` of a failed `line_format` or `label_format` template.
pub const TEMPLATE_FORMAT_ERR: &str = "TemplateFormatErr";

/// Where a label of the entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Stream = 0,
    StructuredMetadata = 1,
    Parsed = 2,
}

/// What the query tells its parsers (Loki's `ParserHint`). Built once per
/// query; the per-entry part (what was extracted) is in the builder.
#[derive(Debug, Default)]
pub(crate) struct Hints {
    /// Extract nothing at all (`by ()` and `absent_over_time` without
    /// anything else needed).
    pub no_labels: bool,
    /// When not empty, the only names parsers extract.
    pub required: Vec<String>,
    /// Parser errors also set `__preserve_error__="true"`.
    pub preserve_error: bool,
    /// Single-label filters of the pipeline, by label name: a parser that
    /// sets such a label runs the first filter on it at once.
    pub early_filters: Vec<(String, Arc<LabelFilterNode>)>,
}

impl Hints {
    pub fn should_extract(&self, key: &str) -> bool {
        self.required.is_empty() || self.required.iter().any(|r| r == key)
    }

    pub fn should_extract_prefix(&self, prefix: &str) -> bool {
        self.required.is_empty() || self.required.iter().any(|r| r.starts_with(prefix))
    }
}

/// The labels of one entry; see the module docs. One per stream, reset
/// for every entry.
#[derive(Debug)]
pub(crate) struct LabelsBuilder {
    base: Labels,
    add: [Vec<(String, String)>; 3],
    del: Vec<String>,
    err: String,
    err_details: String,
    extracted: HashSet<String>,
    hints: Arc<Hints>,
}

impl LabelsBuilder {
    pub fn new(base: Labels, hints: Arc<Hints>) -> Self {
        LabelsBuilder {
            base,
            add: Default::default(),
            del: Vec::new(),
            err: String::new(),
            err_details: String::new(),
            extracted: HashSet::new(),
            hints,
        }
    }

    pub fn hints(&self) -> &Hints {
        &self.hints
    }

    /// Starts a new entry with its structured metadata (Loki's `Reset`
    /// then `Add(StructuredMetadataLabel, ...)`): a metadata name that is
    /// a stream label takes the `_extracted` suffix, and metadata named
    /// `__error__` / `__error_details__` becomes the entry's error.
    pub fn reset(&mut self, structured_metadata: &[(String, String)]) {
        for a in &mut self.add {
            a.clear();
        }
        self.del.clear();
        self.err.clear();
        self.err_details.clear();
        self.extracted.clear();
        for (name, value) in structured_metadata {
            let name = if self.base_has(name) {
                format!("{name}{DUPLICATE_SUFFIX}")
            } else {
                name.clone()
            };
            match name.as_str() {
                ERROR_LABEL => self.err = value.clone(),
                ERROR_DETAILS_LABEL => self.err_details = value.clone(),
                _ => self.set(Category::StructuredMetadata, &name, value),
            }
        }
    }

    /// Whether the stream itself has the label (even if hidden or deleted).
    pub fn base_has(&self, name: &str) -> bool {
        self.base.get(name).is_some()
    }

    pub fn has_in_category(&self, name: &str, cat: Category) -> bool {
        self.add[cat as usize].iter().any(|(n, _)| n == name)
    }

    /// Whether a parsed key must take the `_extracted` suffix.
    pub fn collides(&self, name: &str) -> bool {
        self.base_has(name) || self.has_in_category(name, Category::StructuredMetadata)
    }

    /// The name a parser gives the key it found.
    pub fn extracted_name(&self, key: &str) -> String {
        if self.collides(key) {
            format!("{key}{DUPLICATE_SUFFIX}")
        } else {
            key.to_owned()
        }
    }

    /// Whether an earlier stage already parsed this name for the entry.
    pub fn was_extracted(&self, name: &str) -> bool {
        self.extracted.contains(name)
    }

    /// Loki's `NoLabels()`: nothing is to be extracted, or everything
    /// required already was.
    pub fn no_labels(&self) -> bool {
        self.hints.no_labels || self.all_required_extracted()
    }

    pub fn all_required_extracted(&self) -> bool {
        let req = &self.hints.required;
        !req.is_empty() && req.iter().all(|r| self.extracted.contains(r))
    }

    /// Whether a parser may write `name` (wanted, not parsed yet).
    pub fn may_extract(&self, name: &str) -> bool {
        self.hints.should_extract(name) && !self.was_extracted(name)
    }

    /// Runs the early filter on `name`, if the query has one: false when
    /// the line is to be dropped now.
    pub fn should_continue(&mut self, name: &str) -> bool {
        let filter = self
            .hints
            .early_filters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| Arc::clone(f));
        match filter {
            Some(f) => f.process(self),
            None => true,
        }
    }

    /// Loki's `Set(category, name, value)`, with its precedence rules.
    pub fn set(&mut self, cat: Category, name: &str, value: &str) {
        match cat {
            Category::Parsed => {
                self.remove_from(Category::StructuredMetadata, name);
                self.remove_from(Category::Stream, name);
            }
            Category::StructuredMetadata => {
                self.remove_from(Category::Stream, name);
                if self.has_in_category(name, Category::Parsed) {
                    return;
                }
            }
            Category::Stream => {
                if self.has_in_category(name, Category::StructuredMetadata)
                    || self.has_in_category(name, Category::Parsed)
                {
                    return;
                }
            }
        }
        let list = &mut self.add[cat as usize];
        if let Some(slot) = list.iter_mut().find(|(n, _)| n == name) {
            value.clone_into(&mut slot.1);
            return;
        }
        list.push((name.to_owned(), value.to_owned()));
        if cat == Category::Parsed {
            self.extracted.insert(name.to_owned());
        }
    }

    /// A parsed label (the usual write of every stage).
    pub fn set_parsed(&mut self, name: &str, value: &str) {
        self.set(Category::Parsed, name, value);
    }

    fn remove_from(&mut self, cat: Category, name: &str) {
        self.add[cat as usize].retain(|(n, _)| n != name);
    }

    /// Loki's `Del`: removes the name from every category and hides the
    /// stream's label.
    pub fn del(&mut self, name: &str) {
        for a in &mut self.add {
            a.retain(|(n, _)| n != name);
        }
        self.del.push(name.to_owned());
    }

    /// The value and category of a label: added labels first (stream,
    /// metadata, parsed), then the stream's unless deleted. The error
    /// labels are not seen here.
    pub fn get_with_category(&self, key: &str) -> Option<(&str, Category)> {
        const CATS: [Category; 3] = [
            Category::Stream,
            Category::StructuredMetadata,
            Category::Parsed,
        ];
        for cat in CATS {
            if let Some((_, v)) = self.add[cat as usize].iter().find(|(n, _)| n == key) {
                return Some((v.as_str(), cat));
            }
        }
        if self.del.iter().any(|d| d == key) {
            return None;
        }
        self.base
            .get(key)
            .filter(|v| !v.is_empty())
            .map(|v| (v, Category::Stream))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.get_with_category(key).map(|(v, _)| v)
    }

    pub fn error(&self) -> &str {
        &self.err
    }

    pub fn error_details(&self) -> &str {
        &self.err_details
    }

    pub fn has_error(&self) -> bool {
        !self.err.is_empty()
    }

    pub fn set_error(&mut self, err: &str) {
        err.clone_into(&mut self.err);
    }

    pub fn set_error_details(&mut self, details: &str) {
        details.clone_into(&mut self.err_details);
    }

    pub fn reset_error(&mut self) {
        self.err.clear();
    }

    pub fn reset_error_details(&mut self) {
        self.err_details.clear();
    }

    /// A parser's error (Loki's `addErrLabel`): the error, the details
    /// when there are some, and `__preserve_error__` when the hints ask.
    pub fn add_parser_error(&mut self, err: &str, details: Option<&str>) {
        self.set_error(err);
        if let Some(d) = details {
            self.set_error_details(d);
        }
        if self.hints.preserve_error {
            self.set_parsed(PRESERVE_ERROR_LABEL, "true");
        }
    }

    fn changed(&self) -> bool {
        !self.del.is_empty() || self.add.iter().any(|a| !a.is_empty())
    }

    /// Every label of the entry with its category, unsorted, errors last
    /// (Loki's `UnsortedLabels`): what templates and `keep` see.
    pub fn unsorted(&self) -> Vec<(String, String, Category)> {
        let mut out = Vec::with_capacity(self.base.len() + 4);
        if !self.changed() {
            for l in self.base.iter() {
                out.push((l.name.clone(), l.value.clone(), Category::Stream));
            }
            self.append_errors(&mut out);
            return out;
        }
        for l in self.base.iter() {
            if self.del.contains(&l.name)
                || self.has_in_category(&l.name, Category::StructuredMetadata)
                || self.has_in_category(&l.name, Category::Parsed)
            {
                continue;
            }
            let value = self.add[Category::Stream as usize]
                .iter()
                .find(|(n, _)| *n == l.name)
                .map_or(l.value.as_str(), |(_, v)| v.as_str());
            out.push((l.name.clone(), value.to_owned(), Category::Stream));
        }
        for (n, v) in &self.add[Category::StructuredMetadata as usize] {
            if !self.has_in_category(n, Category::Parsed) {
                out.push((n.clone(), v.clone(), Category::StructuredMetadata));
            }
        }
        for (n, v) in &self.add[Category::Parsed as usize] {
            out.push((n.clone(), v.clone(), Category::Parsed));
        }
        self.append_errors(&mut out);
        out
    }

    fn append_errors(&self, out: &mut Vec<(String, String, Category)>) {
        if !self.err.is_empty() {
            out.push((ERROR_LABEL.into(), self.err.clone(), Category::Parsed));
        }
        if !self.err_details.is_empty() {
            out.push((
                ERROR_DETAILS_LABEL.into(),
                self.err_details.clone(),
                Category::Parsed,
            ));
        }
    }

    /// The entry's labels by category (Loki's `LabelsResult`). With
    /// nothing added, deleted or failed, the stream's labels alone (so
    /// details without an error are not shown, as in Loki).
    pub fn result(&self) -> [Labels; 3] {
        if !self.changed() && self.err.is_empty() {
            return [self.base.clone(), Labels::empty(), Labels::empty()];
        }
        let mut parts: [Vec<Label>; 3] = Default::default();
        for (name, value, _) in self.unsorted() {
            let cat = if name == ERROR_LABEL
                || name == ERROR_DETAILS_LABEL
                || self.has_in_category(&name, Category::Parsed)
            {
                Category::Parsed
            } else if self.has_in_category(&name, Category::StructuredMetadata) {
                Category::StructuredMetadata
            } else {
                Category::Stream
            };
            parts[cat as usize].push(Label { name, value });
        }
        parts.map(sorted)
    }

    /// The labels a sample carries (Loki's `GroupedLabels`): all of them
    /// when there is an error, none for `no_labels`, else the grouping.
    /// `groups` are sorted.
    pub fn grouped(&self, groups: &[String], without: bool, no_labels: bool) -> Labels {
        if self.has_error() {
            return merged(self.result());
        }
        if no_labels {
            return Labels::empty();
        }
        if !self.changed() {
            if groups.is_empty() {
                return self.base.clone();
            }
            return self.base.project(groups, !without);
        }
        if groups.is_empty() {
            return merged(self.result());
        }
        let mut out = Vec::new();
        if without {
            for l in self.base.iter() {
                if self.del.contains(&l.name)
                    || self.add.iter().any(|a| a.iter().any(|(n, _)| *n == l.name))
                    || groups.contains(&l.name)
                {
                    continue;
                }
                out.push(l.clone());
            }
            for a in &self.add {
                for (n, v) in a {
                    if !groups.contains(n) {
                        out.push(Label {
                            name: n.clone(),
                            value: v.clone(),
                        });
                    }
                }
            }
        } else {
            'groups: for g in groups {
                if self.del.contains(g) {
                    continue;
                }
                for a in &self.add {
                    if let Some((n, v)) = a.iter().find(|(n, _)| n == g) {
                        out.push(Label {
                            name: n.clone(),
                            value: v.clone(),
                        });
                        continue 'groups;
                    }
                }
                if let Some(v) = self.base.get(g).filter(|v| !v.is_empty()) {
                    out.push(Label {
                        name: g.clone(),
                        value: v.to_owned(),
                    });
                }
            }
        }
        sorted(out)
    }
}

/// Sorts labels by name into a set. Loki keeps empty values, so this does
/// too; a name given twice (a parsed `__error__` beside the error itself)
/// keeps its last value, the error.
pub(crate) fn sorted(mut v: Vec<Label>) -> Labels {
    v.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out: Vec<Label> = Vec::with_capacity(v.len());
    for l in v {
        match out.last_mut() {
            Some(last) if last.name == l.name => *last = l,
            _ => out.push(l),
        }
    }
    Labels::from_sorted(out)
}

/// The three categories as one set (Loki's `LabelsResult.Labels()`).
pub(crate) fn merged(parts: [Labels; 3]) -> Labels {
    let v: Vec<Label> = parts
        .iter()
        .flat_map(|p| p.iter().cloned())
        .collect::<Vec<_>>();
    sorted(v)
}
