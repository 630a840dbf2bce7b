//! Functions that rewrite or order by labels: `label_replace`,
//! `label_join`, `sort_by_label`.

use std::cmp::Ordering;

use sightline_core::METRIC_NAME;

use crate::EvalError;
use crate::ast::Call;
use crate::evaluator::{Ev, Matrix, Vector, merge_same_labelset};
use crate::functions::string_arg;

/// Prometheus 3 accepts any non-empty UTF-8 label name.
fn valid_label_name(s: &str) -> bool {
    !s.is_empty()
}

pub(crate) fn label_replace(ev: &Ev, c: &Call) -> Result<Matrix, EvalError> {
    let dst = string_arg(&c.args[1])?;
    let repl = string_arg(&c.args[2])?;
    let src = string_arg(&c.args[3])?;
    let re_str = string_arg(&c.args[4])?;
    let re = regex::RegexBuilder::new(&format!("^(?s:{re_str})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|_| {
            EvalError::exec(format!(
                "invalid regular expression in label_replace(): {re_str}"
            ))
        })?;
    if !valid_label_name(dst) {
        return Err(EvalError::exec(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let mut m = ev.eval_matrix(&c.args[0])?;
    for s in &mut m {
        let src_val = s.labels.get(src).unwrap_or("").to_string();
        if let Some(caps) = re.captures(&src_val) {
            let mut res = String::new();
            caps.expand(repl, &mut res);
            s.labels.set(dst, &res);
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
    }
    merge_same_labelset(m)
}

pub(crate) fn label_join(ev: &Ev, c: &Call) -> Result<Matrix, EvalError> {
    let dst = string_arg(&c.args[1])?;
    let sep = string_arg(&c.args[2])?;
    let mut srcs = Vec::new();
    for a in &c.args[3..] {
        let s = string_arg(a)?;
        if !valid_label_name(s) {
            return Err(EvalError::exec(format!(
                "invalid source label name in label_join(): {s}"
            )));
        }
        srcs.push(s);
    }
    if !valid_label_name(dst) {
        return Err(EvalError::exec(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let mut m = ev.eval_matrix(&c.args[0])?;
    for s in &mut m {
        let joined = srcs
            .iter()
            .map(|n| s.labels.get(n).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(sep);
        s.labels.set(dst, &joined);
        if dst == METRIC_NAME {
            s.drop_name = false;
        }
    }
    merge_same_labelset(m)
}

/// Splits into runs of ASCII digits and runs of anything else.
fn chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = s.as_bytes();
    for i in 1..=b.len() {
        if i == b.len() || b[i].is_ascii_digit() != b[start].is_ascii_digit() {
            if start < i {
                out.push(&s[start..i]);
            }
            start = i;
        }
    }
    out
}

/// Natural ordering: digit runs compare as numbers. Returns whether `a`
/// sorts before `b` (with the quirks of the natsort Prometheus uses: equal
/// strings compare as "less").
fn nat_less(a: &str, b: &str) -> bool {
    let ca = chunks(a);
    let cb = chunks(b);
    for (i, x) in ca.iter().enumerate() {
        let Some(y) = cb.get(i) else {
            return false;
        };
        let both_numeric = match (x.parse::<i64>(), y.parse::<i64>()) {
            (Ok(xi), Ok(yi)) => Some((xi, yi)),
            _ => None,
        };
        let equal = match both_numeric {
            Some((xi, yi)) => xi == yi,
            None => x == y,
        };
        if equal {
            if i == ca.len() - 1 {
                return true;
            } else if i == cb.len() - 1 {
                return false;
            }
            continue;
        }
        return match both_numeric {
            Some((xi, yi)) => xi < yi,
            None => x < y,
        };
    }
    false
}

pub(crate) fn sort_by_label(mut v: Vector, names: &[String], desc: bool) -> Vector {
    v.sort_by(|a, b| {
        for n in names {
            let x = a.labels.get(n).unwrap_or("");
            let y = b.labels.get(n).unwrap_or("");
            if x == y {
                continue;
            }
            let less = nat_less(x, y);
            return match (less, desc) {
                (true, false) | (false, true) => Ordering::Less,
                _ => Ordering::Greater,
            };
        }
        if desc {
            b.labels.cmp(&a.labels)
        } else {
            a.labels.cmp(&b.labels)
        }
    });
    v
}
