//! The query corpus: one PromQL query per line, `#` starts a comment line.
//!
//! Placeholders are replaced by Unix seconds so that `@` modifiers can name
//! fixed times inside the generated data: `$END` (53 s before the data's
//! end), `$MID` (about an hour earlier), `$START` (7 s after the data's
//! start). All three are whole seconds ≡ 7 (mod 60), like every evaluation
//! time, so they are never a sample timestamp nor a subquery step.

use std::path::Path;

use anyhow::{Context, Result};

#[derive(Clone, Debug)]
pub struct Query {
    /// Line number in the corpus file (1-based).
    pub line: usize,
    /// The query as written.
    pub text: String,
    /// The query with placeholders replaced.
    pub expr: String,
    /// Whether the result order is part of the answer (`sort`/`sort_desc`
    /// at the top level).
    pub ordered: bool,
}

/// Times the placeholders stand for, in Unix seconds.
pub struct Placeholders {
    pub end: i64,
    pub mid: i64,
    pub start: i64,
}

pub fn load(path: &Path, ph: &Placeholders) -> Result<Vec<Query>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(parse(&text, ph))
}

pub fn parse(text: &str, ph: &Placeholders) -> Vec<Query> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') {
                return None;
            }
            let expr = t
                .replace("$END", &ph.end.to_string())
                .replace("$MID", &ph.mid.to_string())
                .replace("$START", &ph.start.to_string());
            Some(Query {
                line: i + 1,
                text: t.to_string(),
                ordered: is_top_level_sort(t),
                expr,
            })
        })
        .collect()
}

/// `sort(…)` or `sort_desc(…)` spanning the whole query.
fn is_top_level_sort(q: &str) -> bool {
    let q = q.trim();
    let rest = match q
        .strip_prefix("sort_desc")
        .or_else(|| q.strip_prefix("sort"))
    {
        Some(r) => r.trim_start(),
        None => return false,
    };
    if !rest.starts_with('(') {
        return false;
    }
    // The opening parenthesis must close at the very end.
    let mut depth = 0i32;
    let mut in_str: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in rest.char_indices() {
        if let Some(qc) = in_str {
            if c == qc && prev != '\\' {
                in_str = None;
            }
        } else {
            match c {
                '"' | '\'' | '`' => in_str = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return rest[i + 1..].trim().is_empty();
                    }
                }
                _ => {}
            }
        }
        prev = c;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_detection() {
        assert!(is_top_level_sort("sort(up)"));
        assert!(is_top_level_sort("sort_desc(sum by (job) (up))"));
        assert!(!is_top_level_sort("sort(up) + 1"));
        assert!(!is_top_level_sort("sort_by_label(up, \"job\")"));
        assert!(!is_top_level_sort("sum(sort(up))"));
        assert!(is_top_level_sort(
            "sort(label_replace(up, \"a\", \")\", \"job\", \"(.*)\"))"
        ));
    }

    #[test]
    fn placeholders_and_comments() {
        let ph = Placeholders {
            end: 100,
            mid: 50,
            start: 7,
        };
        let qs = parse("# c\n\nup @ $END\n  rate(x[5m] @ $MID) \n", &ph);
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].expr, "up @ 100");
        assert_eq!(qs[1].line, 4);
        assert_eq!(qs[1].expr, "rate(x[5m] @ 50)");
    }
}
