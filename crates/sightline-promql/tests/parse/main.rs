//! The parser through its text: each case is a query and either its
//! canonical printed form or the exact error. Sections follow the
//! categories of Prometheus's own parser tests.

use sightline_core::MatchOp;
use sightline_promql::ast::{
    AggOp, At, BinOp, Expr, GroupSide, Span, UnaryOp, ValueType, VectorMatching,
};
use sightline_promql::{ParseError, parse};

/// Parses `input`, checks its printed form, and that the printed form
/// parses back to the same tree.
#[track_caller]
fn check(input: &str, expect: &str) {
    let ast = match parse(input) {
        Ok(ast) => ast,
        Err(e) => panic!("{input:?} did not parse: {e}"),
    };
    let printed = ast.to_string();
    assert_eq!(printed, expect, "printed form of {input:?}");
    let again = parse(&printed).unwrap_or_else(|e| panic!("{printed:?} did not parse: {e}"));
    if !printed.contains("NaN") {
        assert_eq!(again, ast, "round trip of {input:?}");
    }
    assert_eq!(again.to_string(), printed);
}

/// Asserts that `input` fails with exactly `expect` (position included).
#[track_caller]
fn check_err(input: &str, expect: &str) {
    match parse(input) {
        Ok(ast) => panic!("{input:?} parsed as {ast}, expected error {expect:?}"),
        Err(e) => assert_eq!(e.to_string(), expect, "error for {input:?}"),
    }
}

fn ok(input: &str) -> Expr {
    parse(input).unwrap_or_else(|e| panic!("{input:?} did not parse: {e}"))
}

fn number(input: &str) -> f64 {
    match ok(input) {
        Expr::Number { value, .. } => value,
        other => panic!("{input:?} is not a number literal: {other:?}"),
    }
}

mod nesting;
mod selectors;

#[test]
fn scalars() {
    assert_eq!(number("1"), 1.0);
    assert_eq!(number("+Inf"), f64::INFINITY);
    assert_eq!(number("-inf"), f64::NEG_INFINITY);
    assert!(number("nAN").is_nan());
    assert_eq!(number(".5"), 0.5);
    assert_eq!(number("5."), 5.0);
    assert_eq!(number("123.4567"), 123.4567);
    assert_eq!(number("5e-3"), 0.005);
    assert_eq!(number("5e3"), 5000.0);
    assert_eq!(number("0xc"), 12.0);
    assert_eq!(number("0X1F"), 31.0);
    assert_eq!(number("0755"), 493.0);
    assert_eq!(number("-0755"), -493.0);
    assert_eq!(number("089"), 89.0);
    assert_eq!(number("+5.5e-3"), 0.0055);
    assert_eq!(number("- -1"), 1.0);
    // A duration where a number is expected counts its seconds.
    assert_eq!(number("1h30m"), 5400.0);
    assert_eq!(number("1ms"), 0.001);

    check("1", "1");
    check("-1", "-1");
    check("1e6", "1e+06");
    check("0.00001", "1e-05");
    check("Inf", "+Inf");
    check("NaN", "NaN");
    check("1 + 1", "1 + 1");
    check("1 - -1", "1 - -1");
    check("1 * 2 + 3", "1 * 2 + 3");
    check("1 + 2 * 3", "1 + 2 * 3");
    check("1 == bool 1", "1 == bool 1");
    check("1 < bool 2", "1 < bool 2");
    check("1 % 2 ^ 3", "1 % 2 ^ 3");
    check("2 atan2 3", "2 atan2 3");
    check("# a comment\n1 # another\n + 2", "1 + 2");
    check("\"str\"", "\"str\"");
}

#[test]
fn precedence_and_associativity() {
    // `^` is right-associative; the rest are left-associative.
    let Expr::Binary(b) = ok("2 ^ 3 ^ 2") else {
        panic!("binary")
    };
    assert!(matches!(*b.lhs, Expr::Number { value, .. } if value == 2.0));
    assert!(matches!(*b.rhs, Expr::Binary(_)));
    let Expr::Binary(b) = ok("1 - 2 - 3") else {
        panic!("binary")
    };
    assert!(matches!(*b.lhs, Expr::Binary(_)));
    // Unary minus binds more weakly than `^`: -2^2 is -(2^2).
    let Expr::Unary { op, expr, .. } = ok("-2 ^ 2") else {
        panic!("unary")
    };
    assert_eq!(op, UnaryOp::Neg);
    assert!(matches!(*expr, Expr::Binary(ref b) if b.op == BinOp::Pow));
    // ... and more tightly than `*`.
    let Expr::Binary(b) = ok("-a * b") else {
        panic!("binary")
    };
    assert_eq!(b.op, BinOp::Mul);
    assert!(matches!(*b.lhs, Expr::Unary { .. }));
    // `or` < `and`/`unless` < comparisons < `+` < `*` < `^`.
    let Expr::Binary(b) = ok("a or b and c unless d == e + f * g ^ h") else {
        panic!("binary")
    };
    assert_eq!(b.op, BinOp::Or);
    check(
        "a or b and c unless d == e + f * g ^ h",
        "a or b and c unless d == e + f * g ^ h",
    );
    check("2 ^ -1", "2 ^ -1");
    check("-a ^ -b", "-a ^ -b");
    check("+a", "+a");
    check("-(1 + 2)", "-(1 + 2)");
}

#[test]
fn keywords_as_metric_names() {
    for name in [
        "offset", "step", "anchored", "smoothed", "start", "end", "by", "sum", "and",
    ] {
        let Expr::Vector(v) = ok(name) else {
            panic!("{name} is not a selector")
        };
        assert_eq!(v.name.as_deref(), Some(name));
    }
    check("offset offset 5m", "{\"offset\"} offset 5m");
    check("sum{a=\"b\"}", "sum{a=\"b\"}");
    check("sum(by)", "sum(by)");
    check("min(max)", "min(max)");
    check("foo and offset", "foo and {\"offset\"}");
    check("start + end", "start + end");
    check("rate(step[5m])", "rate(step[5m])");
    check("foo:bar:baz", "foo:bar:baz");
    check("SUM(x) BY (job)", "sum by (job) (x)");
}

#[test]
fn vector_binary_operations() {
    check("foo * bar", "foo * bar");
    check("foo == 1", "foo == 1");
    check("foo == bool 1", "foo == bool 1");
    check("2.5 / bar", "2.5 / bar");
    check("foo and bar", "foo and bar");
    check("foo or bar", "foo or bar");
    check("foo unless bar", "foo unless bar");
    check("foo + bar or bla and blub", "foo + bar or bla and blub");
    check("foo AND bar OR baz", "foo and bar or baz");
    check("foo * on(test,blub) bar", "foo * on (test, blub) bar");
    check(
        "foo * on(test,blub) group_left bar",
        "foo * on (test, blub) group_left () bar",
    );
    check("foo and on(test,blub) bar", "foo and on (test, blub) bar");
    check("foo and on() bar", "foo and on () bar");
    check(
        "foo and ignoring(test,blub) bar",
        "foo and ignoring (test, blub) bar",
    );
    check("foo and ignoring() bar", "foo and ignoring () bar");
    check("foo unless on(bar) baz", "foo unless on (bar) baz");
    check(
        "foo / on(test,blub) group_left(bar) bar",
        "foo / on (test, blub) group_left (bar) bar",
    );
    check(
        "foo / ignoring(test,blub) group_right(bar,) bar",
        "foo / ignoring (test, blub) group_right (bar) bar",
    );
    check(
        "foo - on(test,blub) group_right(bar,foo) bar",
        "foo - on (test, blub) group_right (bar, foo) bar",
    );
    check("foo > bool on(a) bar", "foo > bool on (a) bar");
    check("foo atan2 bar", "foo atan2 bar");

    let Expr::Binary(b) = ok("foo * on(a) group_left(b) bar") else {
        panic!("binary")
    };
    let vm = b.matching.clone().expect("matching");
    assert!(vm.on && vm.explicit);
    assert_eq!(vm.labels, ["a"]);
    let g = vm.group.expect("group");
    assert_eq!(
        (g.side, g.include.as_slice()),
        (GroupSide::Left, &["b".to_string()][..])
    );

    // Both sides vectors: matching is always present.
    let Expr::Binary(b) = ok("foo + bar") else {
        panic!("binary")
    };
    assert_eq!(b.matching, Some(VectorMatching::default()));
    let Expr::Binary(b) = ok("foo or bar") else {
        panic!("binary")
    };
    assert_eq!(b.matching, Some(VectorMatching::default()));
    // A scalar side: no matching, even when an empty clause was written.
    let Expr::Binary(b) = ok("foo + on() 1") else {
        panic!("binary")
    };
    assert_eq!(b.matching, None);
    let Expr::Binary(b) = ok("1 + 2") else {
        panic!("binary")
    };
    assert_eq!(b.matching, None);
    // Parentheses and functions keep the vector type.
    let Expr::Binary(b) = ok("(foo) + sum(bar)") else {
        panic!("binary")
    };
    assert!(b.matching.is_some());
}

#[test]
fn vector_binary_errors() {
    check_err(
        "1 == 1",
        "1:3: parse error: comparisons between scalars must use BOOL modifier",
    );
    check_err(
        "1 + bool 1",
        "1:3: parse error: bool modifier can only be used on comparison operators",
    );
    check_err(
        "foo + bool bar",
        "1:5: parse error: bool modifier can only be used on comparison operators",
    );
    check_err(
        "1 and 1",
        "1:1: parse error: set operator \"and\" not allowed in binary scalar expression",
    );
    check_err(
        "foo or 1",
        "1:1: parse error: set operator \"or\" not allowed in binary scalar expression",
    );
    check_err(
        "1 unless foo",
        "1:1: parse error: set operator \"unless\" not allowed in binary scalar expression",
    );
    check_err(
        "foo and on(a) group_left(b) bar",
        "1:1: parse error: no grouping allowed for \"and\" operation",
    );
    check_err(
        "foo + on(a) 1",
        "1:1: parse error: vector matching only allowed between instant vectors",
    );
    check_err(
        "foo * on(a) group_left(a) bar",
        "1:5: parse error: label \"a\" must not occur in ON and GROUP clause at once",
    );
    check_err(
        "foo * group_left bar",
        "1:7: parse error: unexpected <group_left>",
    );
    check_err(
        "foo[5m] + 1",
        "1:1: parse error: binary expression must contain only scalar and instant vector types",
    );
    check_err(
        "1 + \"a\"",
        "1:5: parse error: binary expression must contain only scalar and instant vector types",
    );
    check_err("foo + ", "1:7: parse error: unexpected end of input");
    check_err(
        "foo * on(a b) bar",
        "1:12: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or \")\"",
    );
    check_err(
        "foo * on a bar",
        "1:10: parse error: unexpected identifier \"a\" in grouping opts, expected \"(\"",
    );
}

#[test]
fn aggregations() {
    check("sum by (foo) (some_metric)", "sum by (foo) (some_metric)");
    check("avg by (foo)(some_metric)", "avg by (foo) (some_metric)");
    check("max by (foo)(some_metric)", "max by (foo) (some_metric)");
    check(
        "sum without (foo) (some_metric)",
        "sum without (foo) (some_metric)",
    );
    check(
        "sum (some_metric) without (foo)",
        "sum without (foo) (some_metric)",
    );
    check("stddev(some_metric)", "stddev(some_metric)");
    check(
        "stdvar by (foo)(some_metric)",
        "stdvar by (foo) (some_metric)",
    );
    check("sum by ()(some_metric)", "sum by () (some_metric)");
    check(
        "sum by (foo,bar,)(some_metric)",
        "sum by (foo, bar) (some_metric)",
    );
    check("sum by (foo,)(some_metric)", "sum by (foo) (some_metric)");
    check("topk(5, some_metric)", "topk(5, some_metric)");
    check(
        "topk by (a) (5, some_metric)",
        "topk by (a) (5, some_metric)",
    );
    check(
        "count_values(\"value\", some_metric)",
        "count_values(\"value\", some_metric)",
    );
    check(
        "sum without(and, by, avg, count, alert, annotations)(some_metric)",
        "sum without (and, by, avg, count, alert, annotations) (some_metric)",
    );
    check("sum by (\"foo.bar\") (x)", "sum by (\"foo.bar\") (x)");
    check("quantile(0.9, x) by (job)", "quantile by (job) (0.9, x)");
    check("bottomk(3, x)", "bottomk(3, x)");
    check("limitk(2, x)", "limitk(2, x)");
    check("limit_ratio(0.5, x)", "limit_ratio(0.5, x)");
    check("group(x)", "group(x)");
    check("sum(x,)", "sum(x)");
    check("GROUP BY (a) (x)", "group by (a) (x)");

    let Expr::Aggregate(a) = ok("topk(5, x) by (job)") else {
        panic!("aggregate")
    };
    assert_eq!(a.op, AggOp::Topk);
    assert!(a.param.is_some());
    let g = a.grouping.expect("grouping");
    assert!(!g.without);
    assert_eq!(g.labels, ["job"]);
}

#[test]
fn aggregation_errors() {
    check_err(
        "sum without(==)(some_metric)",
        "1:13: parse error: unexpected <op:==> in grouping opts, expected label",
    );
    check_err(
        "sum some_metric by (test)",
        "1:5: parse error: unexpected identifier \"some_metric\"",
    );
    check_err(
        "sum (some_metric) by test",
        "1:22: parse error: unexpected identifier \"test\" in grouping opts, expected \"(\"",
    );
    check_err(
        "sum () by (test)",
        "1:1: parse error: no arguments for aggregate expression provided",
    );
    check_err(
        "MIN keep_common (some_metric)",
        "1:5: parse error: unexpected identifier \"keep_common\"",
    );
    check_err(
        "MIN (some_metric) keep_common",
        "1:19: parse error: unexpected identifier \"keep_common\"",
    );
    check_err(
        "sum (some_metric) without (test) by (test)",
        "1:34: parse error: unexpected <by>",
    );
    check_err(
        "sum without (test) (some_metric) by (test)",
        "1:34: parse error: unexpected <by>",
    );
    check_err(
        "topk(some_metric)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
    );
    check_err(
        "topk(some_metric,)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
    );
    check_err(
        "sum(a, b)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2",
    );
    check_err(
        "topk(some_metric, other_metric)",
        "1:6: parse error: expected type scalar in aggregation parameter, got instant vector",
    );
    check_err(
        "count_values(5, other_metric)",
        "1:14: parse error: expected type string in aggregation parameter, got scalar",
    );
    check_err(
        "sum(foo[5m])",
        "1:5: parse error: expected type instant vector in aggregation expression, got range vector",
    );
    check_err(
        "sum(1)",
        "1:5: parse error: expected type instant vector in aggregation expression, got scalar",
    );
    check_err(
        "sum by (foo.bar) (x)",
        "1:12: parse error: unexpected character: '.'",
    );
    check_err(
        "sum by (1) (x)",
        "1:9: parse error: unexpected number \"1\" in grouping opts, expected label",
    );
    check_err(
        "sum by (a:b) (x)",
        "1:9: parse error: unexpected identifier \"a:b\" in grouping opts, expected label",
    );
    check_err(
        "count_values(\"a\\xc5z\", x)",
        "1:14: parse error: invalid label name \"a\\xc5z\"",
    );
}

#[test]
fn function_calls() {
    check("time()", "time()");
    check(
        "floor(some_metric{foo!=\"bar\"})",
        "floor(some_metric{foo!=\"bar\"})",
    );
    check("rate(some_metric[5m])", "rate(some_metric[5m])");
    check("round(some_metric)", "round(some_metric)");
    check("round(some_metric, 5)", "round(some_metric, 5)");
    check("hour()", "hour()");
    check("hour(x)", "hour(x)");
    check(
        "label_join(x, \"dst\", \",\", \"a\", \"b\", \"c\")",
        "label_join(x, \"dst\", \",\", \"a\", \"b\", \"c\")",
    );
    check(
        "histogram_quantile(0.9, rate(x[5m]))",
        "histogram_quantile(0.9, rate(x[5m]))",
    );
    check("vector(1)", "vector(1)");
    check("scalar(x) + 1", "scalar(x) + 1");
    check(
        "info(x, {__name__=~\".+_info\", data=~\".*\"})",
        "info(x, {__name__=~\".+_info\",data=~\".*\"})",
    );
    check("info(x, {data=~\".*\"})", "info(x, {data=~\".*\"})");
    assert_eq!(ok("time()").value_type(), ValueType::Scalar);
    assert_eq!(ok("rate(x[1m])").value_type(), ValueType::Vector);
    assert_eq!(ok("x[1m]").value_type(), ValueType::Matrix);
    assert_eq!(ok("\"s\"").value_type(), ValueType::String);
    // `scalar(x) == 1` compares two scalars.
    check_err(
        "scalar(x) == 1",
        "1:11: parse error: comparisons between scalars must use BOOL modifier",
    );
}

#[test]
fn function_errors() {
    check_err(
        "floor()",
        "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 0",
    );
    check_err(
        "floor(some_metric, other_metric)",
        "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2",
    );
    check_err(
        "floor(some_metric, 1)",
        "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2",
    );
    check_err(
        "floor(1)",
        "1:7: parse error: expected type instant vector in call to function \"floor\", got scalar",
    );
    check_err(
        "hour(some_metric, some_metric, some_metric)",
        "1:1: parse error: expected at most 1 argument(s) in call to \"hour\", got 3",
    );
    check_err(
        "time(some_metric)",
        "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1",
    );
    check_err(
        "non_existent_function_far_bar()",
        "1:1: parse error: unknown function with name \"non_existent_function_far_bar\"",
    );
    check_err(
        "rate(some_metric)",
        "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector",
    );
    check_err(
        "label_replace(a, \"b\", \"c\", \"d\")",
        "1:1: parse error: expected 5 argument(s) in call to \"label_replace\", got 4",
    );
    check_err(
        "label_join(x, \"a\")",
        "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 2",
    );
    check_err(
        "label_join(x, \"a\", \"b\", 1)",
        "1:25: parse error: expected type string in call to function \"label_join\", got scalar",
    );
    check_err(
        "Rate(x[5m])",
        "1:1: parse error: unknown function with name \"Rate\"",
    );
    check_err("rate(x[5m]", "1:5: parse error: unclosed left parenthesis");
    check_err(
        "rate(x[5m] x)",
        "1:12: parse error: unexpected identifier \"x\" in function call, expected \",\" or \")\"",
    );
    check_err("foo:bar(x)", "1:8: parse error: unexpected \"(\"");
    check_err(
        "info(x, sum(y))",
        "1:9: parse error: expected label selectors as the second argument to \"info\" function",
    );
}

#[test]
fn fuzzing_regressions() {
    check_err("\"\\", "1:1: parse error: escape sequence not terminated");
    check_err("\"\\xz\"", "1:1: parse error: invalid escape sequence \\x");
    check_err("-=", "1:2: parse error: unexpected \"=\"");
    check_err("++-++-+-+-<", "1:11: parse error: unexpected <op:<>");
    check_err("e-+=/(0)", "1:4: parse error: unexpected \"=\"");
    check_err(
        "a>b()",
        "1:3: parse error: unknown function with name \"b\"",
    );
    check_err(
        "rate(avg)",
        "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector",
    );
    check_err(
        "a[5m:1m:1m]",
        "1:8: parse error: unexpected \":\" in subquery selector, expected \"]\"",
    );
    check_err(
        "0x",
        "1:1: parse error: bad number or duration syntax: \"0x\"",
    );
    check_err(
        "1.5m",
        "1:1: parse error: bad number or duration syntax: \"1.5m\"",
    );
    check_err(")", "1:1: parse error: unexpected right parenthesis ')'");
    check_err("(", "1:2: parse error: unexpected end of input");
    check_err("((1)", "1:1: parse error: unclosed left parenthesis");
    check_err("1)", "1:2: parse error: unexpected right parenthesis ')'");
    check_err("", "1:1: parse error: unexpected end of input");
    check_err(
        "  # only a comment",
        "1:19: parse error: unexpected end of input",
    );
    check_err(
        "foo\n  +\n  {}",
        "3:3: parse error: vector selector must contain at least one non-empty matcher",
    );
    check_err("$", "1:1: parse error: unexpected character: '$'");
    check_err(
        "foo{a=\"b\n\"}",
        "1:7: parse error: unterminated quoted string",
    );
}

#[test]
fn strings_and_escapes() {
    check(
        "\"double-quoted string \\\" with escaped quote\"",
        "\"double-quoted string \\\" with escaped quote\"",
    );
    check(
        "'single-quoted string \\' with escaped quote'",
        "\"single-quoted string ' with escaped quote\"",
    );
    check("`backtick-quoted string`", "\"backtick-quoted string\"");
    check(
        "\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\" - \\x41\\101\\u1234\\U00010111\\U0001011111☺\"",
        "\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\" - AA\u{1234}\u{10111}\u{10111}11☺\"",
    );
    check(
        "'\\a\\b\\f\\n\\r\\t\\v\\\\\\' - \\u1234'",
        "\"\\a\\b\\f\\n\\r\\t\\v\\\\' - \u{1234}\"",
    );
    check(
        "`\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\\' - \\xFF\\377\\u1234\\U00010111\\U0001011111☺`",
        "\"\\\\a\\\\b\\\\f\\\\n\\\\r\\\\t\\\\v\\\\\\\\\\\\\\\"\\\\' - \\\\xFF\\\\377\\\\u1234\\\\U00010111\\\\U0001011111☺\"",
    );
    check("`multi\nline`", "\"multi\\nline\"");
    check("foo{a=`\\d+`}", "foo{a=\"\\\\d+\"}");
    check("\"\\u00e9\"", "\"é\"");
    check_err("`unterminated", "1:1: parse error: unterminated raw string");
    check_err("\"\\c\"", "1:1: parse error: unknown escape sequence 'c'");
    check_err("'\\\"'", "1:1: parse error: unknown escape sequence '\"'");
    check_err("\"\\'\"", "1:1: parse error: unknown escape sequence '\\''");
    check_err(
        "\"\\400\"",
        "1:1: parse error: octal escape value 256 > 255",
    );
    check_err(
        "\"\\xff\"",
        "1:1: parse error: invalid UTF-8 in string literal \"\\xff\"",
    );
}

#[test]
fn subqueries() {
    check("foo{bar=\"baz\"}[10m:6s]", "foo{bar=\"baz\"}[10m:6s]");
    check(
        "foo{bar=\"baz\"}[10m5s:1h6ms]",
        "foo{bar=\"baz\"}[10m5s:1h6ms]",
    );
    check("foo[10m:]", "foo[10m:]");
    check(
        "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:5s])",
        "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:5s])",
    );
    check(
        "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s]",
        "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s]",
    );
    check(
        "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] offset 4m)[4m:3s]",
        "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] offset 4m)[4m:3s]",
    );
    check(
        "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ 1603775091)[4m:3s]",
        "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ 1603775091.000)[4m:3s]",
    );
    check(
        "sum without(and, by, avg, count, alert, annotations)(some_metric) [30m:10s]",
        "sum without (and, by, avg, count, alert, annotations) (some_metric)[30m:10s]",
    );
    check(
        "some_metric OFFSET 1m [10m:5s]",
        "some_metric offset 1m[10m:5s]",
    );
    check(
        "some_metric @ 123 [10m:5s]",
        "some_metric @ 123.000[10m:5s]",
    );
    check(
        "(foo + bar{nm=\"val\"})[5m:]",
        "(foo + bar{nm=\"val\"})[5m:]",
    );
    check(
        "(foo + bar{nm=\"val\"})[5m:] offset 10m",
        "(foo + bar{nm=\"val\"})[5m:] offset 10m",
    );
    check(
        "(foo + bar{nm=\"val\"} @ 1234)[5m:] @ 1603775019",
        "(foo + bar{nm=\"val\"} @ 1234.000)[5m:] @ 1603775019.000",
    );
    check(
        "rate(x[5m])[1h:1m] @ start() offset -1m",
        "rate(x[5m])[1h:1m] @ start() offset -1m",
    );

    let Expr::Subquery(s) = ok("foo[10m:]") else {
        panic!("subquery")
    };
    assert_eq!((s.range, s.step), (600_000, None));
    assert_eq!(ok("foo[10m:1m]").value_type(), ValueType::Matrix);
    check_err(
        "test[5d] OFFSET 10s [10m:5s]",
        "1:1: parse error: subquery is only allowed on instant vector, got matrix instead",
    );
    check_err(
        "(foo + bar{nm=\"val\"})[5m:][10m:5s]",
        "1:1: parse error: subquery is only allowed on instant vector, got matrix instead",
    );
    check_err(
        "rate(food[1m])[1h] offset 1h",
        "1:15: parse error: ranges only allowed for vector selectors",
    );
    check_err(
        "rate(food[1m])[1h] @ 100",
        "1:15: parse error: ranges only allowed for vector selectors",
    );
    check_err(
        "foo[5m:1m] offset 1m offset 2m",
        "1:22: parse error: offset may not be set multiple times",
    );
    check_err(
        "\"a\"[5m:]",
        "1:1: parse error: subquery is only allowed on instant vector, got string instead",
    );
}

#[test]
fn at_preprocessors() {
    check("foo @ start()", "foo @ start()");
    check("foo @ end()", "foo @ end()");
    check("test[5y] @ start()", "test[5y] @ start()");
    check("test[5y] @ end()", "test[5y] @ end()");
    check("foo[10m:6s] @ start()", "foo[10m:6s] @ start()");
    check("foo[10m:6s] @ end()", "foo[10m:6s] @ end()");
    check("foo @ START()", "foo @ start()");
    check_err(
        "foo @ start",
        "1:12: parse error: unexpected end of input in @ modifier, expected \"(\"",
    );
    check_err(
        "foo @ end(1)",
        "1:11: parse error: unexpected number \"1\" in @ modifier, expected \")\"",
    );
}

#[test]
fn start_end_info_do_not_mask_metric_names() {
    check("start", "start");
    check("end", "end");
    check("start{end=\"foo\"}", "start{end=\"foo\"}");
    check("end{start=\"foo\"}", "end{start=\"foo\"}");
    check("foo unless on(start) bar", "foo unless on (start) bar");
    check("foo unless on(end) bar", "foo unless on (end) bar");
    check("info", "info");
    check("info{a=\"b\"} + 1", "info{a=\"b\"} + 1");
    check("info(foo)", "info(foo)");
}

#[test]
fn parentheses_and_positions() {
    check("((foo))", "((foo))");
    check("(((foo) + (bar)))", "(((foo) + (bar)))");
    check("sum((foo))", "sum((foo))");
    let Expr::Paren { span, expr } = ok("(  foo  )") else {
        panic!("paren")
    };
    assert_eq!(span, Span { start: 0, end: 9 });
    assert_eq!(expr.span().start, 3);
    let Expr::Binary(b) = ok("foo + rate(bar[5m])") else {
        panic!("binary")
    };
    let s = b.rhs.span();
    assert_eq!((s.start, s.end), (6, 19));
    let e = parse("sum(x) + \n  rate(y)").expect_err("type error");
    assert_eq!((e.line, e.column), (2, 8));
    assert_eq!(e.position.start, 17);
    assert_eq!(
        e.to_string(),
        "2:8: parse error: expected type range vector in call to function \"rate\", got instant vector"
    );
    let e: ParseError = parse("foo{a=\"b\"} + * x").expect_err("syntax");
    assert_eq!((e.position.start, e.position.end), (13, 14));
    assert_eq!(e.message, "unexpected <op:*>");
}

#[test]
fn unary_errors() {
    check_err(
        "-\"s\"",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\"",
    );
    check_err(
        "-foo[5m]",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
    );
    check_err("-", "1:2: parse error: unexpected end of input");
    check_err(
        "-foo[5m:]",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
    );
}

#[test]
fn top_level_may_be_any_type() {
    assert_eq!(ok("\"s\"").value_type(), ValueType::String);
    assert_eq!(ok("foo[5m]").value_type(), ValueType::Matrix);
    assert_eq!(ok("1").value_type(), ValueType::Scalar);
    assert_eq!(ok("(1 + 2) * 3").value_type(), ValueType::Scalar);
    assert_eq!(ok("-foo").value_type(), ValueType::Vector);
}

#[test]
fn printing_matches_prometheus_style() {
    check(
        "sum by(job)(rate(x{a=\"b\"}[5m] offset 1m))",
        "sum by (job) (rate(x{a=\"b\"}[5m] offset 1m))",
    );
    check("a+on(x)group_left(y)b", "a + on (x) group_left (y) b");
    check("x offset 3600s", "x offset 1h");
    check("x offset 1ms", "x offset 1ms");
    check("x[1y]", "x[1y]");
    check("x[2w]", "x[2w]");
    check("x[8d]", "x[8d]");
    check("x[7d]", "x[1w]");
    check("{\"bool\"}", "{\"bool\"}");
    check("{\"inf\"}", "{\"inf\"}");
    check("x{\"a b\"=\"c\"}", "x{\"a b\"=\"c\"}");
}
