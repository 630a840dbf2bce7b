//! Loki's `regexReplaceAll`, `regexReplaceAllLiteral` and `count`, with
//! Go's match iteration and Go's error prefix.

use super::check_len;

fn compile(re: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| format!("error parsing regexp: {}", regex_err_text(&e)))
}

fn regex_err_text(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .trim_start_matches("error: ")
            .to_string(),
        regex::Error::CompiledTooBig(_) => "expression too large".into(),
        _ => e.to_string(),
    }
}

/// Go's match iteration: an empty match right after a previous match is
/// skipped.
fn for_each_match(
    re: &regex::Regex,
    s: &str,
    mut f: impl FnMut(regex::Captures<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let mut pos = 0;
    let mut prev_end: Option<usize> = None;
    while pos <= s.len() {
        let Some(caps) = re.captures_at(s, pos) else {
            break;
        };
        let m = caps
            .get(0)
            .map(|m| (m.start(), m.end()))
            .unwrap_or((pos, pos));
        let mut accept = true;
        if m.1 == m.0 {
            if Some(m.0) == prev_end {
                accept = false;
            }
            pos = match s[m.1..].chars().next() {
                Some(c) => m.1 + c.len_utf8(),
                None => s.len() + 1,
            };
        } else {
            pos = m.1;
        }
        prev_end = Some(m.1);
        if accept {
            f(caps)?;
        }
    }
    Ok(())
}

pub(super) fn regex_count(re: &str, s: &str) -> Result<i64, String> {
    let re = compile(re)?;
    let mut n = 0;
    for_each_match(&re, s, |_| {
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// Go's `Regexp.ReplaceAllString` / `ReplaceAllLiteralString`.
pub(super) fn regex_replace(
    re: &str,
    src: &str,
    repl: &str,
    literal: bool,
) -> Result<String, String> {
    let re = compile(re)?;
    let mut out = String::new();
    let mut last_end = 0;
    let mut search = 0;
    while search <= src.len() {
        let Some(caps) = re.captures_at(src, search) else {
            break;
        };
        let (a0, a1) = caps
            .get(0)
            .map(|m| (m.start(), m.end()))
            .unwrap_or((search, search));
        out.push_str(&src[last_end..a0]);
        if a1 > last_end || a0 == 0 {
            if literal {
                out.push_str(repl);
            } else {
                caps.expand(repl, &mut out);
            }
            check_len(out.len())?;
        }
        last_end = a1;
        let width = src[search..]
            .chars()
            .next()
            .map(char::len_utf8)
            .unwrap_or(0);
        if search + width > a1 {
            search += width;
        } else if search + 1 > a1 {
            search += 1;
        } else {
            search = a1;
        }
    }
    if last_end <= src.len() {
        out.push_str(&src[last_end..]);
    }
    Ok(out)
}
