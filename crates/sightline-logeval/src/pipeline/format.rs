//! `line_format`, `label_format`, `drop` and `keep`, as Loki's `fmt.go`,
//! `drop_labels.go` and `keep_labels.go` run them.

use std::collections::HashMap;

use sightline_logql::ast::{LabelFmt, NamedMatcher};

use super::PipelineError;
use super::labels::{
    ERROR_DETAILS_LABEL, ERROR_LABEL, LabelsBuilder, PRESERVE_ERROR_LABEL, TEMPLATE_FORMAT_ERR,
};
use crate::template::{Template, TemplateData};

/// `| line_format "..."`.
#[derive(Debug)]
pub(crate) struct LineFormat {
    template: Template,
    /// The label of a template that is exactly `{{.name}}`: Loki then
    /// reads the label directly (so `{{.__error__}}` alone gives an empty
    /// line, the error not being a label at that point).
    simple_key: Option<String>,
}

impl LineFormat {
    pub fn new(text: &str) -> Result<LineFormat, PipelineError> {
        let template = Template::parse_named("line", text)
            .map_err(|e| PipelineError::LineTemplate(e.to_string()))?;
        Ok(LineFormat {
            template,
            simple_key: simple_key(text),
        })
    }

    pub fn label_names(&self) -> Vec<String> {
        self.template.field_names()
    }

    /// The new line; on a template error the line is kept and the entry
    /// gets `TemplateFormatErr` with the error as details.
    pub fn process(&self, ts: i64, now_ns: i64, line: &str, lbs: &mut LabelsBuilder) -> String {
        if let Some(key) = &self.simple_key {
            return lbs.get(key).unwrap_or("").to_owned();
        }
        let map = label_map(lbs);
        let lookup = |name: &str| map.get(name).cloned();
        let data = TemplateData {
            labels: &lookup,
            line,
            timestamp_ns: ts,
            now_ns,
        };
        match self.template.execute(&data) {
            Ok(out) => out,
            Err(e) => {
                lbs.set_error(TEMPLATE_FORMAT_ERR);
                lbs.set_error_details(&e.to_string());
                line.to_owned()
            }
        }
    }
}

/// Whether the template is one action holding one single-name field, as
/// Go's parse tree would show it (`{{.a}}`, `{{ .a }}`, `{{- .a -}}`).
fn simple_key(text: &str) -> Option<String> {
    let inner = text.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix("- ").unwrap_or(inner);
    let inner = inner.strip_suffix(" -").unwrap_or(inner);
    let name = inner.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let name = name.strip_prefix('.')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first.is_alphabetic() || first == '_') || !chars.all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    Some(name.to_owned())
}

/// The labels as the Go map templates see: every label with the error
/// labels (a later entry of a name wins, as when Loki fills its map).
fn label_map(lbs: &LabelsBuilder) -> HashMap<String, String> {
    lbs.unsorted()
        .into_iter()
        .map(|(name, value, _)| (name, value))
        .collect()
}

enum FmtOp {
    Rename(String),
    Template(Template),
}

/// `| label_format dst=src, dst="template", ...`.
pub(crate) struct LabelFormat {
    ops: Vec<(String, FmtOp)>,
}

impl std::fmt::Debug for LabelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelFormat")
            .field(
                "targets",
                &self.ops.iter().map(|(d, _)| d).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl LabelFormat {
    pub fn new(fmts: &[LabelFmt]) -> Result<LabelFormat, PipelineError> {
        let mut seen: Vec<&str> = Vec::new();
        for f in fmts {
            let dst = f.dst();
            if dst == ERROR_LABEL {
                return Err(PipelineError::LabelFormat(format!(
                    "{dst} cannot be formatted"
                )));
            }
            if seen.contains(&dst) {
                return Err(PipelineError::LabelFormat(format!(
                    "multiple label name '{dst}' not allowed in a single format operation"
                )));
            }
            seen.push(dst);
        }
        let mut ops = Vec::with_capacity(fmts.len());
        for f in fmts {
            match f {
                LabelFmt::Rename { dst, src } => {
                    ops.push((dst.clone(), FmtOp::Rename(src.clone())))
                }
                LabelFmt::Template { dst, template } => {
                    let t = Template::parse_named("label", template).map_err(|e| {
                        PipelineError::LabelFormat(format!(
                            "invalid template for label '{dst}': {e}"
                        ))
                    })?;
                    ops.push((dst.clone(), FmtOp::Template(t)));
                }
            }
        }
        Ok(LabelFormat { ops })
    }

    pub fn label_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (_, op) in &self.ops {
            match op {
                FmtOp::Rename(src) => out.push(src.clone()),
                FmtOp::Template(t) => out.extend(t.field_names()),
            }
        }
        out
    }

    /// Applies the assignments in order. Templates see the labels as they
    /// were when the stage's first template ran (renames before it
    /// included), not what earlier templates of the stage wrote.
    pub fn process(&self, ts: i64, now_ns: i64, line: &str, lbs: &mut LabelsBuilder) {
        let mut map: HashMap<String, String> = HashMap::new();
        for (dst, op) in &self.ops {
            match op {
                FmtOp::Rename(src) => {
                    if let Some(v) = lbs.get(src).map(str::to_owned) {
                        lbs.set_parsed(dst, &v);
                        lbs.del(src);
                    }
                }
                FmtOp::Template(t) => {
                    if map.is_empty() {
                        map = label_map(lbs);
                    }
                    let lookup = |name: &str| map.get(name).cloned();
                    let data = TemplateData {
                        labels: &lookup,
                        line,
                        timestamp_ns: ts,
                        now_ns,
                    };
                    match t.execute(&data) {
                        Ok(v) => lbs.set_parsed(dst, &v),
                        Err(e) => {
                            lbs.set_error(TEMPLATE_FORMAT_ERR);
                            lbs.set_error_details(&e.to_string());
                        }
                    }
                }
            }
        }
    }
}

/// `| drop a, b="x"`: the error labels are cleared rather than deleted.
pub(crate) fn drop_labels(spec: &[NamedMatcher], lbs: &mut LabelsBuilder) {
    for d in spec {
        match d {
            NamedMatcher::Name(name) => match name.as_str() {
                ERROR_LABEL => lbs.reset_error(),
                ERROR_DETAILS_LABEL => lbs.reset_error_details(),
                _ => {
                    if lbs.get(name).is_some() {
                        lbs.del(name);
                    }
                }
            },
            NamedMatcher::Matcher(m) => match m.name.as_str() {
                ERROR_LABEL => {
                    if m.matches(lbs.error()) {
                        lbs.reset_error();
                    }
                }
                ERROR_DETAILS_LABEL => {
                    if m.matches(lbs.error_details()) {
                        lbs.reset_error_details();
                    }
                }
                _ => {
                    if m.matches(lbs.get(&m.name).unwrap_or("")) {
                        lbs.del(&m.name);
                    }
                }
            },
        }
    }
}

/// `| keep a, b="x"`: deletes every other label; the error labels and
/// `__preserve_error__` always stay.
pub(crate) fn keep_labels(spec: &[NamedMatcher], lbs: &mut LabelsBuilder) {
    if spec.is_empty() {
        return;
    }
    for (name, value, _) in lbs.unsorted() {
        if matches!(
            name.as_str(),
            ERROR_LABEL | ERROR_DETAILS_LABEL | PRESERVE_ERROR_LABEL
        ) {
            continue;
        }
        let keep = spec.iter().any(|k| match k {
            NamedMatcher::Name(n) => *n == name,
            NamedMatcher::Matcher(m) => m.name == name && m.matches(&value),
        });
        if !keep {
            lbs.del(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::simple_key;

    #[test]
    fn simple_keys() {
        assert_eq!(simple_key("{{.foo}}").as_deref(), Some("foo"));
        assert_eq!(simple_key("{{ .foo }}").as_deref(), Some("foo"));
        assert_eq!(simple_key("{{- .foo -}}").as_deref(), Some("foo"));
        assert_eq!(simple_key("{{.foo.bar}}"), None);
        assert_eq!(simple_key("x{{.foo}}"), None);
        assert_eq!(simple_key("{{.foo | ToUpper}}"), None);
        assert_eq!(simple_key("{{ __line__ }}"), None);
    }
}
