//! String functions: Go's `strings` package as Loki installs it
//! (`ToUpper`, `Replace`, `Trim…`), Loki's `alignLeft`/`alignRight`, and
//! sprig's `trunc`, `substr`, `indent`, `repeat` and `title`. Every
//! function that can grow its input checks the output bound first.

use super::{check_len, lossy};

pub(super) fn go_repeat(s: &str, count: i64) -> Result<String, String> {
    if count < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let total = (s.len() as u128) * (count as u128);
    check_len(total.min(usize::MAX as u128) as usize)?;
    Ok(s.repeat(count as usize))
}

pub(super) fn indent(spaces: i64, v: &str) -> Result<String, String> {
    let pad = go_repeat(" ", spaces)?;
    let lines = v.matches('\n').count() as u128 + 1;
    check_len((lines * pad.len() as u128 + v.len() as u128).min(usize::MAX as u128) as usize)?;
    Ok(format!("{pad}{}", v.replace('\n', &format!("\n{pad}"))))
}

pub(super) fn align(count: i64, src: &str, left: bool) -> Result<String, String> {
    let runes: Vec<char> = src.chars().collect();
    let l = runes.len() as i64;
    if count < 0 || count == l {
        return Ok(src.to_string());
    }
    let pad = count - l;
    if pad > 0 {
        let p = go_repeat(" ", pad)?;
        return Ok(if left {
            format!("{src}{p}")
        } else {
            format!("{p}{src}")
        });
    }
    let c = count as usize;
    Ok(if left {
        runes[..c].iter().collect()
    } else {
        runes[runes.len() - c..].iter().collect()
    })
}

pub(super) fn sprig_trunc(c: i64, s: &str) -> String {
    let l = s.len() as i64;
    if c < 0 && l + c > 0 {
        return lossy(&s.as_bytes()[(l + c) as usize..]);
    }
    if c >= 0 && l > c {
        return lossy(&s.as_bytes()[..c as usize]);
    }
    s.to_string()
}

pub(super) fn sprig_substr(start: i64, end: i64, s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let l = b.len() as i64;
    let oob = |m: String| format!("runtime error: slice bounds out of range {m}");
    if start < 0 {
        if end < 0 {
            return Err(oob(format!("[:{end}]")));
        }
        if end > l {
            return Err(oob(format!("[:{end}] with length {l}")));
        }
        return Ok(lossy(&b[..end as usize]));
    }
    if end < 0 || end > l {
        if start > l {
            return Err(oob(format!("[{start}:{l}]")));
        }
        return Ok(lossy(&b[start as usize..]));
    }
    if start > end {
        return Err(oob(format!("[{start}:{end}]")));
    }
    Ok(lossy(&b[start as usize..end as usize]))
}

/// Go's `unicode.ToUpper` per rune: a character whose uppercase is more
/// than one character (ß) stays as it is.
pub(super) fn go_upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut u = c.to_uppercase();
            match (u.next(), u.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        })
        .collect()
}

pub(super) fn go_lower(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut u = c.to_lowercase();
            match (u.next(), u.next()) {
                (Some(x), None) => x,
                (Some(x), Some(_)) => x,
                _ => c,
            }
        })
        .collect()
}

/// Go's deprecated `strings.Title`.
pub(super) fn go_title(s: &str) -> String {
    let is_sep = |r: char| {
        if r.is_ascii() {
            return !(r.is_ascii_alphanumeric() || r == '_');
        }
        if r.is_alphabetic() || r.is_numeric() {
            return false;
        }
        r.is_whitespace()
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_sep(prev) {
                go_upper(&c.to_string()).chars().next().unwrap_or(c)
            } else {
                c
            };
            prev = c;
            out
        })
        .collect()
}

pub(super) fn trim_cutset(s: &str, cutset: &str, left: bool, right: bool) -> String {
    if cutset.is_empty() {
        return s.to_string();
    }
    let inset = |c: char| cutset.contains(c);
    let mut r = s;
    if left {
        r = r.trim_start_matches(inset);
    }
    if right {
        r = r.trim_end_matches(inset);
    }
    r.to_string()
}

/// Go's `strings.Replace(s, old, new, n)`.
pub(super) fn go_replace(s: &str, old: &str, new: &str, n: i64) -> Result<String, String> {
    if old == new || n == 0 {
        return Ok(s.to_string());
    }
    let matches = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    };
    if matches == 0 {
        return Ok(s.to_string());
    }
    let m = if n < 0 {
        matches
    } else {
        matches.min(n as usize)
    };
    let est = s.len() as u128 + (m as u128) * (new.len() as u128);
    check_len(est.min(usize::MAX as u128) as usize)?;
    if old.is_empty() {
        let mut out = String::new();
        let mut done = 0;
        let mut chars = s.char_indices().peekable();
        while done < m {
            out.push_str(new);
            done += 1;
            match chars.next() {
                Some((_, c)) => out.push(c),
                None => return Ok(out),
            }
        }
        for (_, c) in chars {
            out.push(c);
        }
        return Ok(out);
    }
    Ok(s.replacen(old, new, m))
}
