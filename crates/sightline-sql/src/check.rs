//! The tests' one helper: a statement printed as its text and then one
//! `name = value` line per parameter, compared with a literal.

use sightline_core::{MatchOp, Matcher, TenantId};
use sightline_plan::Selection;

use crate::Statement;

/// The text on the first line, then the parameters in order.
pub(crate) fn print(st: &Statement) -> String {
    let mut out = st.sql().to_string();
    for (name, p) in st.params() {
        out.push('\n');
        out.push_str(&format!("{name} = {p:?}"));
    }
    out
}

/// Lines trimmed, blank ones dropped, so literals can be indented.
fn norm(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `st` printed is `expect`.
#[track_caller]
pub(crate) fn check(st: Option<Statement>, expect: &str) {
    let st = st.expect("a statement");
    let (got, want) = (norm(&print(&st)), norm(expect));
    assert_eq!(got, want, "\n got:\n{got}\nwant:\n{want}\n");
}

pub(crate) fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
    Matcher::new(name, op, value).expect("valid matcher")
}

/// A selection of tenant `acme`.
pub(crate) fn sel(matchers: Vec<Matcher>, start_ms: i64, end_ms: i64) -> Selection {
    Selection::new(
        TenantId::new("acme").expect("valid"),
        matchers,
        start_ms,
        end_ms,
    )
    .expect("valid selection")
}
