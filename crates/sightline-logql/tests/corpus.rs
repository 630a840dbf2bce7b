//! The LogQL corpus (compat-tests/corpus/logql, from Loki's documentation):
//! every query parses, prints, and parses again to the same tree; every
//! pipeline fragment parses after a selector; every invalid query is
//! refused with a message naming the problem.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn corpus(name: &str) -> String {
    let path = manifest_dir()
        .join("../../compat-tests/corpus/logql")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn round_trip(q: &str) -> Result<(), String> {
    let a = sightline_logql::parse(q).map_err(|e| format!("{q}\n  {e}"))?;
    let printed = a.to_string();
    let b = sightline_logql::parse(&printed)
        .map_err(|e| format!("{q}\n  printed as {printed}\n  {e}"))?;
    if a != b {
        return Err(format!(
            "{q}\n  printed as {printed}\n  parses to a different tree"
        ));
    }
    let again = b.to_string();
    if again != printed {
        return Err(format!("{q}\n  printed as {printed}\n  then as {again}"));
    }
    Ok(())
}

/// Queries of the documentation that Loki's own lexer refuses, with the
/// message it gives: `\S` is no escape of a double-quoted string (written
/// in backquotes, the same regex is accepted).
const REFUSED_BY_LOKI: &[(&str, &str)] = &[(
    r#"{name =~ "[\S\s]*mysql[\S\s]*"}"#,
    "parse error at line 1, col 10: invalid char escape",
)];

#[test]
fn queries_parse_print_and_reparse() {
    let text = corpus("queries.txt");
    let mut failures: Vec<String> = Vec::new();
    for q in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some((_, msg)) = REFUSED_BY_LOKI.iter().find(|(r, _)| *r == q) {
            match sightline_logql::parse(q) {
                Err(e) if e.to_string() == *msg => {}
                other => failures.push(format!("{q}\n  expected {msg}, got {other:?}")),
            }
            let backquoted = q.replace('"', "`");
            failures.extend(round_trip(&backquoted).err());
            continue;
        }
        failures.extend(round_trip(q).err());
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(text.lines().count() >= 100);
}

#[test]
fn fragments_parse_after_a_selector() {
    let text = corpus("pipeline_fragments.tsv");
    let mut n = 0;
    let failures: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(1))
        .filter_map(|frag| {
            n += 1;
            let frag = frag.trim();
            let frag = if frag.starts_with('|') || frag.starts_with('!') {
                frag.to_string()
            } else {
                format!("| {frag}")
            };
            round_trip(&format!("{{job=\"x\"}} {frag}")).err()
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(n, 31);
}

#[test]
fn invalid_queries_are_refused() {
    let text = corpus("invalid_queries.tsv");
    let mut n = 0;
    for line in text.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(_), Some(q)) = (cols.next(), cols.next()) else {
            continue;
        };
        n += 1;
        match sightline_logql::parse(q) {
            Ok(e) => panic!("{q} was accepted as {e}"),
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("parse error at line "), "{q}: {msg}");
            }
        }
    }
    assert_eq!(n, 12);
}

/// This crate's directory in the checkout under test: cargo sets it when it
/// runs tests (a build shared between checkouts bakes in another one).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
