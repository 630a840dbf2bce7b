//! The parser through its text: trees, canonical forms and error messages.

#![allow(clippy::unwrap_used)]

use sightline_logql::ast::*;
use sightline_logql::parse;

#[track_caller]
fn canon(input: &str, expect: &str) {
    match parse(input) {
        Ok(e) => assert_eq!(e.to_string(), expect, "{input}"),
        Err(e) => panic!("{input}: {e}"),
    }
}

#[track_caller]
fn refused(input: &str, expect: &str) {
    match parse(input) {
        Ok(e) => panic!("{input} accepted as {e}"),
        Err(e) => assert_eq!(e.to_string(), expect, "{input}"),
    }
}

#[test]
fn canonical_forms() {
    canon("{app = \"x\"}|=\"a\"", r#"{app="x"} |= "a""#);
    canon(
        r#"{a="b"} |= "x" or "y" != ip("1.2.3.4")"#,
        r#"{a="b"} |= "x" or "y" != ip("1.2.3.4")"#,
    );
    canon(
        r#"{a="b"} | duration >= 20ms or size == 20KB  method!~"2..""#,
        r#"{a="b"} | duration>=20ms or size==20000B and method!~"2..""#,
    );
    canon(
        r#"{a="b"} | (duration >= 20ms or size == 20KB) and method!~"2..""#,
        r#"{a="b"} | (duration>=20ms or size==20000B) and method!~"2..""#,
    );
    canon(
        r#"count_over_time({a="b"}[5m] offset 1h)"#,
        r#"count_over_time({a="b"}[5m] offset 1h)"#,
    );
    canon(
        r#"count_over_time({a="b"}[5m] |= "x" | json)"#,
        r#"count_over_time({a="b"} |= "x" | json[5m])"#,
    );
    canon(
        r#"quantile_over_time(0.99, {a="b"} | json | unwrap duration(t) | __error__=""[1m]) by (p)"#,
        r#"quantile_over_time(0.99, {a="b"} | json | unwrap duration(t) | __error__=""[1m]) by (p)"#,
    );
    canon(
        r#"topk(10,sum(rate({r="u"}[5m])) by (name))"#,
        r#"topk(10, sum by (name) (rate({r="u"}[5m])))"#,
    );
    canon("1 + 2 * 3", "1 + 2 * 3");
    canon("(1 + 2) * 3", "(1 + 2) * 3");
    canon("2 ^ 3 ^ 2", "2 ^ 3 ^ 2");
    canon("(2 ^ 3) ^ 2", "(2 ^ 3) ^ 2");
    canon("1 - -1", "1 - -1");
    canon(
        r#"sum(rate({a="b"}[1m])) / on (x) group_left (y) sum(rate({a="c"}[1m]))"#,
        r#"sum(rate({a="b"}[1m])) / on (x) group_left (y) sum(rate({a="c"}[1m]))"#,
    );
    canon(
        r#"{a="b"} | logfmt --keep-empty --strict host, fwd_ip="fwd""#,
        r#"{a="b"} | logfmt --strict --keep-empty host="host", fwd_ip="fwd""#,
    );
    canon(
        "{a=\"b\"} # a comment\n|= `raw\\n`",
        r#"{a="b"} |= "raw\\n""#,
    );
    canon(
        "SUM(COUNT_OVER_TIME({a=\"b\"}[1m]))",
        r#"sum(count_over_time({a="b"}[1m]))"#,
    );
}

#[test]
fn trees() {
    let Expr::Metric(MetricExpr::Range(r)) =
        parse(r#"rate({a="b"} | logfmt | unwrap bytes(size)[90s])"#).unwrap()
    else {
        panic!("not a range aggregation");
    };
    assert_eq!(r.op, RangeOp::Rate);
    assert_eq!(r.range.range_ns, 90_000_000_000);
    let u = r.range.unwrap.unwrap();
    assert_eq!(
        (u.label.as_str(), u.conv),
        ("size", Some(Conversion::Bytes))
    );
    let Expr::Log(l) = parse(r#"{a="b"} | x > 1.5 | y="z""#).unwrap() else {
        panic!("not a log query");
    };
    assert_eq!(l.stages.len(), 2);
    assert!(matches!(
        &l.stages[0],
        Stage::LabelFilter(LabelFilter::Number { op: CmpOp::Gt, value, .. }) if *value == 1.5
    ));
}

#[test]
fn errors_name_the_problem_and_position() {
    refused(
        r#"{app="foo"} |= test"#,
        "parse error at line 1, col 16: syntax error: unexpected IDENTIFIER, expecting STRING",
    );
    refused(
        r#"{app="foo""#,
        "parse error at line 1, col 11: syntax error: unexpected $end, expecting , or }",
    );
    refused(
        r#"rate({app="foo"}[5minutes])"#,
        "parse error at line 1, col 17: not a valid duration string: \"5minutes\"",
    );
    refused(
        r#"sum_over_time({app="foo"} | json [5m])"#,
        "parse error at line 1, col 1: invalid aggregation sum_over_time without unwrap",
    );
    refused(
        r#"count_over_time({app="foo"} | json | unwrap duration [5m])"#,
        "parse error at line 1, col 1: invalid aggregation count_over_time with unwrap",
    );
    refused(
        "{a=~\".*\"}",
        "parse error at line 1, col 1: queries require at least one regexp or equality \
         matcher that does not have an empty-compatible value. For instance, app=~\".*\" \
         does not meet this requirement, but app=~\".+\" will",
    );
    refused(
        "{a=\"b\"}\n  |= \"x\" | y >",
        "parse error at line 2, col 15: syntax error: unexpected $end, expecting NUMBER, \
         DURATION or BYTES",
    );
    refused(
        r#"topk(sum(rate({a="b"}[1m])))"#,
        "parse error at line 1, col 6: parameter required for operation topk",
    );
    refused(
        r#"rate({a="b"}[1m]) or 1"#,
        "parse error at line 1, col 19: unexpected literal for right leg of logical/set \
         binary operation (or)",
    );
    refused(
        r#"{a="b"}[5m]"#,
        "parse error at line 1, col 1: syntax error: a log range such as {app=\"x\"}[5m] \
         must be inside a range aggregation such as count_over_time",
    );
}

#[test]
fn hostile_input_is_refused_without_panic() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(parse(&deep).is_err());
    let parens = format!("{}1{}", "(".repeat(2_000), ")".repeat(2_000));
    assert!(
        parse(&parens)
            .unwrap_err()
            .to_string()
            .contains("nested too deeply")
    );
    let chain = vec!["vector(1)"; 2_000].join(" + ");
    assert!(parse(&chain).is_err());
    let filters = format!("{{a=\"b\"}} | {}", vec!["x=\"1\""; 5_000].join(" "));
    assert!(parse(&filters).is_err());
    for s in [
        "{",
        "{a",
        "{a=",
        "{a=\"",
        "|",
        "[",
        "(",
        "\"\\x",
        "1 +",
        "{a=\"b\"} | json a=",
        "\u{0}",
    ] {
        assert!(parse(s).is_err(), "{s:?}");
    }
}
