//! Compiles a Go regular expression with Go's meaning for Rust's `regex`
//! engine: the Perl classes (`\d`, `\w`, `\s`) and word boundaries (`\b`)
//! are rewritten to their ASCII meaning, nested repetitions Go refuses are
//! refused, and errors are worded as Go's (`error parsing regexp: …`).

use regex::{Regex, RegexBuilder};

/// Bound on a compiled regex, so a hostile pattern cannot take the
/// process's memory.
const REGEX_SIZE_LIMIT: usize = 1 << 22;

/// Compiles a Go regular expression with Go's meaning: the Perl classes
/// and word boundaries are ASCII. Errors start `error parsing regexp:` as
/// Go's do.
pub(crate) fn compile_go_regex(re: &str) -> Result<Regex, String> {
    if let Some(ops) = nested_repetition(re) {
        return Err(format!(
            "error parsing regexp: invalid nested repetition operator: `{ops}`"
        ));
    }
    let translated = translate(re);
    RegexBuilder::new(&translated)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| go_regex_error(re, &e))
}

/// A regex error in Go's shape as far as it can be told from Rust's.
fn go_regex_error(re: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let kind = if text.contains("unclosed group") {
        format!("missing closing ): `{re}`")
    } else if text.contains("unopened group") {
        format!("unexpected ): `{re}`")
    } else if text.contains("unclosed character class") {
        let at = re.rfind('[').map_or(re, |i| &re[i..]);
        format!("missing closing ]: `{at}`")
    } else if text.contains("repetition operator missing expression") {
        let op = re
            .chars()
            .find(|c| matches!(c, '*' | '+' | '?'))
            .unwrap_or('*');
        format!("missing argument to repetition operator: `{op}`")
    } else if text.contains("exceeds size limit") {
        "expression too large".to_owned()
    } else if text.contains("invalid capture group") || text.contains("empty capture group name") {
        format!("invalid named capture: `{re}`")
    } else if text.contains("incomplete escape") {
        "trailing backslash at end of expression: ``".to_owned()
    } else if text.contains("unrecognized escape") {
        format!("invalid escape sequence: `{re}`")
    } else {
        format!("invalid or unsupported Perl syntax: `{re}`")
    };
    format!("error parsing regexp: {kind}")
}

/// A repetition operator applied to a repetition (`a**`, `a+*`), which Go
/// refuses and Rust accepts: the two operators.
fn nested_repetition(re: &str) -> Option<String> {
    let b: Vec<char> = re.chars().collect();
    let (mut i, mut in_class, mut prev_rep): (usize, bool, Option<String>) = (0, false, None);
    while i < b.len() {
        let c = b[i];
        if c == '\\' {
            i += 2;
            prev_rep = None;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                prev_rep = None;
            }
            '*' | '+' | '?' => {
                let mut op = c.to_string();
                if b.get(i + 1) == Some(&'?') {
                    op.push('?');
                    i += 1;
                }
                if let Some(p) = &prev_rep {
                    return Some(format!("{p}{op}"));
                }
                prev_rep = Some(op);
            }
            _ => prev_rep = None,
        }
        i += 1;
    }
    None
}

/// Rewrites the Perl classes and word boundaries to their ASCII meaning.
fn translate(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 8);
    let mut chars = re.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        if c == '\\' {
            let Some(n) = chars.next() else {
                out.push('\\');
                break;
            };
            let (outside, inside) = match n {
                'd' => ("[0-9]", "0-9"),
                'D' => ("[^0-9]", ""),
                's' => ("[\\t\\n\\f\\r ]", "\\t\\n\\f\\r "),
                'S' => ("[^\\t\\n\\f\\r ]", ""),
                'w' => ("[0-9A-Za-z_]", "0-9A-Za-z_"),
                'W' => ("[^0-9A-Za-z_]", ""),
                'b' if !in_class => ("(?-u:\\b)", ""),
                'B' if !in_class => ("(?-u:\\B)", ""),
                _ => ("", ""),
            };
            let rep = if in_class { inside } else { outside };
            if rep.is_empty() {
                out.push('\\');
                out.push(n);
            } else {
                out.push_str(rep);
            }
            class_start = false;
            continue;
        }
        if in_class {
            if c == '[' && chars.peek() == Some(&':') {
                // `[:alpha:]`: copy through its closing `:]`.
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == ']' {
                        break;
                    }
                }
                class_start = false;
                continue;
            }
            if c == ']' && !class_start {
                in_class = false;
            }
            if c == '[' {
                // A literal `[` inside a class, which Rust would read as a
                // nested class.
                out.push_str("\\[");
                class_start = false;
                continue;
            }
            class_start = class_start && c == '^';
            out.push(c);
            continue;
        }
        if c == '[' {
            in_class = true;
            class_start = true;
            out.push(c);
            if chars.peek() == Some(&'^') {
                out.push('^');
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    out
}
