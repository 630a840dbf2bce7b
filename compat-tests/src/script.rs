//! Parsing of promqltest `.test` scripts into commands (see
//! `compat-tests/corpus/promqltest/FORMAT.md`).

use anyhow::{Context, Result, anyhow, bail};
use sightline_core::time::DAY_MS;

use crate::series::{SeriesDesc, parse_number, parse_series};

#[derive(Debug, Clone)]
pub enum MsgMatch {
    Any,
    Exact(String),
    Regex(String),
}

#[derive(Debug, Clone, Copy)]
pub enum EvalKind {
    Instant { at: i64 },
    Range { start: i64, end: i64, step: i64 },
}

#[derive(Debug, Clone)]
pub struct Eval {
    /// 1-based line of the `eval` command.
    pub line: usize,
    pub expr: String,
    pub kind: EvalKind,
    pub fail: Option<MsgMatch>,
    pub ordered: bool,
    /// Warnings and infos expected: the matchers of `expect warn|info`
    /// lines, whether `eval_warn`/`eval_info` demand at least one, and
    /// `expect no_warn|no_info`.
    pub annotations: AnnotationExpect,
    pub range_vector: Option<(i64, i64, i64)>,
    pub string: Option<String>,
    pub scalar: Option<f64>,
    pub series: Vec<SeriesDesc>,
}

#[derive(Debug, Clone, Default)]
pub struct AnnotationExpect {
    pub warn: Vec<MsgMatch>,
    pub info: Vec<MsgMatch>,
    pub warn_required: bool,
    pub info_required: bool,
    pub no_warn: bool,
    pub no_info: bool,
}

#[derive(Debug, Clone)]
pub enum Cmd {
    Load {
        step: i64,
        nhcb: bool,
        series: Vec<SeriesDesc>,
    },
    Clear,
    Eval(Box<Eval>),
}

/// Prometheus duration syntax (`1h30m`, `5m`, `100ms`, `0`), in ms.
pub fn parse_duration(s: &str) -> Result<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if body == "0" {
        return Ok(0);
    }
    let mut total: i64 = 0;
    let b = body.as_bytes();
    let mut i = 0;
    if b.is_empty() {
        bail!("empty duration");
    }
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            bail!("bad duration {s:?}");
        }
        let n: i64 = body[start..i].parse()?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let mult = match &body[ustart..i] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => DAY_MS,
            "w" => 7 * DAY_MS,
            "y" => 365 * DAY_MS,
            "" if ustart == b.len() => 1000,
            u => bail!("bad duration unit {u:?} in {s:?}"),
        };
        total += n * mult;
    }
    Ok(if neg { -total } else { total })
}

/// Go string unquoting for `"..."` and `` `...` `` literals.
fn unquote(s: &str) -> Result<String> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return Ok(inner.to_string());
    }
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| anyhow!("bad string literal {s:?}"))?;
    let mut out = String::new();
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    Ok(out)
}

fn parse_eval_header(l: &str, line: usize) -> Result<Eval> {
    let (cmd, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
    let rest = rest.trim();
    let mut ev = Eval {
        line,
        expr: String::new(),
        kind: EvalKind::Instant { at: 0 },
        fail: None,
        ordered: false,
        annotations: AnnotationExpect::default(),
        range_vector: None,
        string: None,
        scalar: None,
        series: Vec::new(),
    };
    match cmd {
        "eval" => {}
        "eval_fail" => ev.fail = Some(MsgMatch::Any),
        "eval_warn" => ev.annotations.warn_required = true,
        "eval_info" => ev.annotations.info_required = true,
        "eval_ordered" => ev.ordered = true,
        other => bail!("invalid command {other:?}"),
    }
    let words: Vec<&str> = rest.splitn(2, char::is_whitespace).collect();
    match words.first().copied() {
        Some("instant") => {
            // instant at <time> <expr>
            let r = words.get(1).copied().unwrap_or("").trim_start();
            let r = r
                .strip_prefix("at")
                .ok_or_else(|| anyhow!("expected 'at'"))?
                .trim_start();
            let (t, expr) = r.split_once(char::is_whitespace).unwrap_or((r, ""));
            ev.kind = EvalKind::Instant {
                at: parse_duration(t)?,
            };
            ev.expr = expr.trim().to_string();
        }
        Some("range") => {
            // range from <a> to <b> step <s> <expr>
            let r = words.get(1).copied().unwrap_or("");
            let parts: Vec<&str> = r.split_whitespace().collect();
            if parts.len() < 7 || parts[0] != "from" || parts[2] != "to" || parts[4] != "step" {
                bail!("bad range eval {l:?}");
            }
            let start = parse_duration(parts[1])?;
            let end = parse_duration(parts[3])?;
            let step = parse_duration(parts[5])?;
            if end < start {
                bail!("end must not be before start");
            }
            // The expression is everything after the step word.
            let mut idx = 0;
            let mut rem = r;
            while idx < 6 {
                rem = rem.trim_start();
                let e = rem.find(char::is_whitespace).unwrap_or(rem.len());
                rem = &rem[e..];
                idx += 1;
            }
            ev.kind = EvalKind::Range { start, end, step };
            ev.expr = rem.trim().to_string();
        }
        _ => bail!("bad eval command {l:?}"),
    }
    Ok(ev)
}

fn parse_expect(ev: &mut Eval, l: &str) -> Result<()> {
    let rest = l.strip_prefix("expect").unwrap_or(l).trim();
    if let Some(r) = rest.strip_prefix("range vector") {
        let p: Vec<&str> = r.split_whitespace().collect();
        if p.len() != 6 || p[0] != "from" || p[2] != "to" || p[4] != "step" {
            bail!("bad 'expect range vector' line");
        }
        ev.range_vector = Some((
            parse_duration(p[1])?,
            parse_duration(p[3])?,
            parse_duration(p[5])?,
        ));
        return Ok(());
    }
    if let Some(r) = rest.strip_prefix("string") {
        ev.string = Some(unquote(r)?);
        return Ok(());
    }
    let (kind, matcher) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let matcher = matcher.trim();
    let m = if let Some(x) = matcher.strip_prefix("msg:") {
        MsgMatch::Exact(x.trim().to_string())
    } else if let Some(x) = matcher.strip_prefix("regex:") {
        MsgMatch::Regex(x.trim().to_string())
    } else if matcher.is_empty() {
        MsgMatch::Any
    } else {
        bail!("bad expect line {l:?}");
    };
    match kind {
        "fail" => ev.fail = Some(m),
        "ordered" => ev.ordered = true,
        "warn" => ev.annotations.warn.push(m),
        "info" => ev.annotations.info.push(m),
        "no_warn" => ev.annotations.no_warn = true,
        "no_info" => ev.annotations.no_info = true,
        other => bail!("unknown expectation {other:?}"),
    }
    Ok(())
}

/// Parses a whole script. Errors name the line.
pub fn parse_script(text: &str) -> Result<Vec<Cmd>> {
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') {
                String::new()
            } else {
                t.to_string()
            }
        })
        .collect();
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let word = l
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let line_no = i + 1;
        let ctx = || format!("line {line_no}");
        if word == "clear" {
            cmds.push(Cmd::Clear);
            i += 1;
        } else if word.starts_with("load") {
            let (kw, step) = l
                .split_once(char::is_whitespace)
                .ok_or_else(|| anyhow!("bad load"))?;
            let nhcb = kw == "load_with_nhcb";
            let step = parse_duration(step.trim()).with_context(ctx)?;
            let mut series = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].is_empty() {
                // Start-timestamp lines (`metric@st ...`) are not used.
                let first = lines[i].split_whitespace().next().unwrap_or("");
                if !first.ends_with("@st") {
                    series
                        .push(parse_series(&lines[i]).with_context(|| format!("line {}", i + 1))?);
                }
                i += 1;
            }
            cmds.push(Cmd::Load { step, nhcb, series });
        } else if word.starts_with("eval") {
            let mut ev = parse_eval_header(l, line_no).with_context(ctx)?;
            i += 1;
            while i < lines.len() && !lines[i].is_empty() {
                let b = &lines[i];
                if b.starts_with("expect ") || b == "expect" {
                    parse_expect(&mut ev, b).with_context(|| format!("line {}", i + 1))?;
                } else if let Some(m) = b.strip_prefix("expected_fail_message") {
                    ev.fail = Some(MsgMatch::Exact(m.trim().to_string()));
                } else if let Some(m) = b.strip_prefix("expected_fail_regexp") {
                    ev.fail = Some(MsgMatch::Regex(m.trim().to_string()));
                } else if let Ok(v) = parse_number(b) {
                    ev.scalar = Some(v);
                } else {
                    ev.series
                        .push(parse_series(b).with_context(|| format!("line {}", i + 1))?);
                }
                i += 1;
            }
            cmds.push(Cmd::Eval(Box::new(ev)));
        } else {
            bail!("line {line_no}: invalid command {l:?}");
        }
    }
    Ok(cmds)
}
