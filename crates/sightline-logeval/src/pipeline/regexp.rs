//! `| regexp "..."`: the named groups of the first (leftmost) match become
//! labels; unnamed groups are ignored; a line that does not match is kept
//! unchanged. A group that takes no part in the match gives an empty
//! value, as in Loki. The expression has Go's meaning (see
//! [`super::filter::compile_go_regex`]).

use regex::Regex;

use super::PipelineError;
use super::filter::compile_go_regex;
use super::jsonscan::sanitize_label_key;
use super::labels::LabelsBuilder;

/// `| regexp`.
#[derive(Debug, Clone)]
pub(crate) struct RegexpParser {
    regex: Regex,
    /// (group index, label name) of the named groups.
    groups: Vec<(usize, String)>,
}

impl RegexpParser {
    /// Compiles the expression; it needs at least one named group, with
    /// names used once, as Loki checks.
    pub fn new(expr: &str) -> Result<Self, PipelineError> {
        let regex = compile_go_regex(expr).map_err(PipelineError::RegexpParser)?;
        let mut groups: Vec<(usize, String)> = Vec::new();
        for (i, name) in regex.capture_names().enumerate() {
            let Some(name) = name else { continue };
            if groups.iter().any(|(_, n)| n == name) {
                return Err(PipelineError::RegexpParser(format!(
                    "duplicate extracted label name '{name}'"
                )));
            }
            groups.push((i, name.to_owned()));
        }
        if groups.is_empty() {
            return Err(PipelineError::RegexpParser(
                "at least one named capture must be supplied".into(),
            ));
        }
        Ok(RegexpParser { regex, groups })
    }

    /// Sets the named groups of the first match as parsed labels (with the
    /// parsers' collision and first-value-wins rules). False when an early
    /// label filter drops the line.
    pub fn process(&self, line: &str, lbs: &mut LabelsBuilder) -> bool {
        let Some(caps) = self.regex.captures(line) else {
            return true;
        };
        for (i, name) in &self.groups {
            let key = sanitize_label_key(name);
            if key.is_empty() {
                continue;
            }
            let key = lbs.extracted_name(&key);
            if !lbs.may_extract(&key) {
                continue;
            }
            let value = caps.get(*i).map_or("", |m| m.as_str());
            lbs.set_parsed(&key, value);
            if !lbs.should_continue(&key) {
                return false;
            }
        }
        true
    }
}
