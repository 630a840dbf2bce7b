//! Round trip over every query in Prometheus's promqltest scripts
//! (`compat-tests/corpus/promqltest/*.test`).
//!
//! For each `eval` line: the expression must parse if the script is one of
//! the stable ones, and every expression that parses must print to text
//! that parses back to an equal tree.

use std::path::PathBuf;

use sightline_promql::parse;

/// Scripts whose syntax is all stable PromQL: every query in them must parse.
const STABLE: &[&str] = &[
    "aggregators",
    "collision",
    "functions",
    "histograms",
    "limit",
    "literals",
    "operators",
    "range_queries",
    "selectors",
    "staleness",
];

/// Queries in stable scripts that Sightline refuses at parse time, with the
/// error. Each of them is an `expect fail` case upstream (Prometheus fails
/// it at evaluation time), so failing earlier keeps the script's meaning.
const PARSE_FAILS: &[(&str, &str)] = &[
    (
        r#"count_values("a\xc5z", version)"#,
        r#"1:14: parse error: invalid label name "a\xc5z""#,
    ),
    (
        r#"label_replace(testmetric, "\xff", "", "src", "(.*)")"#,
        r#"1:27: parse error: invalid UTF-8 in string literal "\xff""#,
    ),
];

fn corpus_dir() -> PathBuf {
    manifest_dir().join("../../compat-tests/corpus/promqltest")
}

/// The query of an `eval` command line, or `None` for other lines.
fn eval_query(line: &str) -> Option<&str> {
    let line = line.trim();
    let first = line.split_whitespace().next()?;
    if !first.starts_with("eval") {
        return None;
    }
    // `eval* instant at <t> <expr>` or `eval* range from <a> to <b> step <s> <expr>`.
    let skip = match line.split_whitespace().nth(1)? {
        "instant" => 4,
        "range" => 8,
        _ => return None,
    };
    let mut rest = line;
    for _ in 0..skip {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    Some(rest.trim())
}

#[test]
fn corpus_round_trips() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("the promqltest corpus is present")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus has {} scripts", files.len());

    let mut failures = Vec::new();
    let (mut all_total, mut all_parsed) = (0, 0);
    println!("{:<28} {:>6} {:>6}", "script", "parsed", "total");
    for path in &files {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let text = std::fs::read_to_string(path).expect("readable script");
        let stable = STABLE.contains(&stem);
        let (mut total, mut parsed, mut expected_failures) = (0, 0, 0);
        let mut unparsed = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let Some(q) = eval_query(line) else { continue };
            total += 1;
            let ast = match parse(q) {
                Ok(ast) => ast,
                Err(e) => {
                    let expected = PARSE_FAILS.iter().find(|(query, _)| *query == q);
                    match expected {
                        Some((_, msg)) if *msg == e.to_string() => expected_failures += 1,
                        _ => unparsed.push(format!("{stem}.test:{}: {q}\n    {e}", n + 1)),
                    }
                    continue;
                }
            };
            parsed += 1;
            let printed = ast.to_string();
            match parse(&printed) {
                Ok(again) => {
                    let same = again == ast
                        || (printed.contains("NaN") && again.to_string() == printed);
                    if !same || again.to_string() != printed {
                        failures.push(format!(
                            "{stem}.test:{}: round trip changed the tree\n    query:   {q}\n    printed: {printed}\n    again:   {again}",
                            n + 1
                        ));
                    }
                }
                Err(e) => failures.push(format!(
                    "{stem}.test:{}: printed form does not parse\n    query:   {q}\n    printed: {printed}\n    {e}",
                    n + 1
                )),
            }
        }
        println!(
            "{:<28} {parsed:>6} {total:>6}{}{}",
            path.file_name().and_then(|s| s.to_str()).unwrap_or(""),
            if stable { "  (stable)" } else { "" },
            if expected_failures > 0 {
                format!("  ({expected_failures} refused as expected)")
            } else {
                String::new()
            }
        );
        if stable {
            failures.extend(unparsed);
        } else {
            // Summarise why experimental syntax was refused.
            let mut reasons: Vec<String> = unparsed
                .iter()
                .filter_map(|u| u.split("parse error: ").nth(1).map(str::to_string))
                .collect();
            reasons.sort();
            reasons.dedup_by(|a, b| a == b);
            for r in reasons {
                println!("    refused: {r}");
            }
        }
        all_total += total;
        all_parsed += parsed;
    }
    println!("{:<28} {all_parsed:>6} {all_total:>6}", "all");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The oracle's query corpus (`compat-tests/oracle/queries.promql`): every
/// query parses and round-trips. `@` placeholders get a fixed time.
#[test]
fn oracle_corpus_round_trips() {
    let path = manifest_dir().join("../../compat-tests/oracle/queries.promql");
    let text = std::fs::read_to_string(&path).expect("the oracle corpus is present");
    let mut failures = Vec::new();
    let mut count = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        count += 1;
        let q = line
            .replace("$END", "1700003600")
            .replace("$MID", "1700001800")
            .replace("$START", "1700000007");
        match parse(&q) {
            Err(e) => failures.push(format!("line {}: {q}\n    {e}", n + 1)),
            Ok(ast) => {
                let printed = ast.to_string();
                match parse(&printed) {
                    Ok(again) if again == ast || again.to_string() == printed => {}
                    Ok(again) => failures.push(format!(
                        "line {}: {q}\n    printed: {printed}\n    again: {again}",
                        n + 1
                    )),
                    Err(e) => failures.push(format!(
                        "line {}: printed form {printed:?} does not parse: {e}",
                        n + 1
                    )),
                }
            }
        }
    }
    assert!(count >= 300, "only {count} queries in the oracle corpus");
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// This crate's directory in the checkout under test: cargo sets it when it
/// runs tests (a build shared between checkouts bakes in another one).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
