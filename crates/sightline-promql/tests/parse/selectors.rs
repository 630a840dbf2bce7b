//! Vector and matrix selectors, and their errors.

use super::*;

#[test]
fn vector_selectors() {
    check("foo", "foo");
    check("min", "min");
    check("foo offset 5m", "foo offset 5m");
    check("foo offset -7m", "foo offset -7m");
    check("foo OFFSET 1h30m", "foo offset 1h30m");
    check("foo offset 1m30ms", "foo offset 1m30ms");
    check("foo offset 90", "foo offset 1m30s");
    check("foo @ 1603774568", "foo @ 1603774568.000");
    check("foo @ -100", "foo @ -100.000");
    check("foo @ .3", "foo @ 0.300");
    check("foo @ 3.", "foo @ 3.000");
    check("foo @ 3.33", "foo @ 3.330");
    check("foo @ 3.3333", "foo @ 3.333");
    check("foo @ 3.3335", "foo @ 3.334");
    check("foo @ 3e2", "foo @ 300.000");
    check("foo @ 0x10", "foo @ 16.000");
    check("foo @ 1 offset 1m", "foo @ 1.000 offset 1m");
    check("foo offset 1m @ 1", "foo @ 1.000 offset 1m");
    check("foo:bar{a=\"bc\"}", "foo:bar{a=\"bc\"}");
    check("foo{NaN='bc'}", "foo{NaN=\"bc\"}");
    check("foo{bar='}'}", "foo{bar=\"}\"}");
    check(
        "foo{a=\"b\", foo!=\"bar\", test=~\"test\", bar!~\"baz\"}",
        "foo{a=\"b\",foo!=\"bar\",test=~\"test\",bar!~\"baz\"}",
    );
    check(
        "foo{a=\"b\", foo!~\"bar\", test=~\"test\", bar!=\"baz\",}",
        "foo{a=\"b\",foo!~\"bar\",test=~\"test\",bar!=\"baz\"}",
    );
    check("{__name__=~\"foo.+\"}", "{__name__=~\"foo.+\"}");
    check("{__name__=\"foo\",a=\"b\"}", "{__name__=\"foo\",a=\"b\"}");
    check("{\"foo\"}", "foo");
    check("{\"foo.bar\"}", "{\"foo.bar\"}");
    check(
        "{\"foo.bar\", \"b.c\"=\"d\", e=\"f\"}",
        "{\"foo.bar\",\"b.c\"=\"d\",e=\"f\"}",
    );
    check("{a=\"b\", \"foo\"}", "foo{a=\"b\"}");
    check("foo{on=\"x\", by=\"y\"}", "foo{on=\"x\",by=\"y\"}");

    let Expr::Vector(v) = ok("foo{a=\"b\"}") else {
        panic!("selector")
    };
    assert_eq!(v.name.as_deref(), Some("foo"));
    let ms: Vec<_> = v
        .matchers
        .iter()
        .map(|m| (m.name.as_str(), m.op, m.value.as_str()))
        .collect();
    assert_eq!(
        ms,
        [
            ("__name__", MatchOp::Equal, "foo"),
            ("a", MatchOp::Equal, "b")
        ]
    );
    assert_eq!(v.span, Span { start: 0, end: 10 });
    let Expr::Vector(v) = ok("{a=\"b\", \"foo\"}") else {
        panic!("selector")
    };
    assert_eq!(v.matchers[0].name, "__name__");
    let Expr::Vector(v) = ok("foo @ start()") else {
        panic!("selector")
    };
    assert_eq!(v.at, Some(At::Start));
    let Expr::Vector(v) = ok("foo offset -1s @ end()") else {
        panic!("selector")
    };
    assert_eq!((v.offset, v.at), (Some(-1000), Some(At::End)));
    let Expr::Vector(v) = ok("foo @ 1.5") else {
        panic!("selector")
    };
    assert_eq!(v.at, Some(At::Timestamp(1500)));
}

#[test]
fn vector_selector_errors() {
    check_err(
        "{}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    );
    check_err(
        "{x=\"\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    );
    check_err(
        "{x=~\".*\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    );
    check_err(
        "{x!~\".+\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    );
    check_err(
        "{x!=\"a\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    );
    check_err(
        "foo{__name__=\"bar\"}",
        "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\"",
    );
    check_err(
        "foo{\"bar\"}",
        "1:5: parse error: metric name must not be set twice: \"foo\" or \"bar\"",
    );
    check_err(
        "{\"foo\", \"bar\"}",
        "1:9: parse error: metric name must not be set twice: \"foo\" or \"bar\"",
    );
    check_err(
        "foo{",
        "1:5: parse error: unexpected end of input in label matching, expected label name or \"}\"",
    );
    check_err(
        "foo{a}",
        "1:6: parse error: unexpected \"}\" in label matching, expected label matching operator",
    );
    check_err(
        "foo{a=b}",
        "1:7: parse error: unexpected identifier \"b\" in label matching, expected string",
    );
    check_err(
        "foo{a=\"b\" c=\"d\"}",
        "1:11: parse error: unexpected identifier \"c\" in label matching, expected \",\" or \"}\"",
    );
    check_err(
        "foo{a>\"b\"}",
        "1:6: parse error: unexpected <op:>> in label matching, expected label matching operator",
    );
    let e = parse("foo{a=~\"(\"}").expect_err("bad regex");
    assert!(
        e.to_string()
            .starts_with("1:5: parse error: invalid regular expression \"(\""),
        "{e}"
    );
    check_err(
        "foo{a!}",
        "1:6: parse error: unexpected character after '!': '}'",
    );
    check_err(
        "foo{1}",
        "1:5: parse error: unexpected number \"1\" in label matching, expected label name or \"}\"",
    );
    check_err(
        "foo offset 5m offset 1m",
        "1:15: parse error: offset may not be set multiple times",
    );
    check_err(
        "foo @ 1 @ 2",
        "1:9: parse error: @ <timestamp> may not be set multiple times",
    );
    check_err(
        "foo offset",
        "1:11: parse error: unexpected end of input in offset, expected duration",
    );
    check_err(
        "foo @",
        "1:6: parse error: unexpected end of input in @ modifier, expected timestamp",
    );
    check_err(
        "foo @ Inf",
        "1:7: parse error: timestamp out of bounds for @ modifier: inf",
    );
    check_err(
        "foo @ bar",
        "1:7: parse error: unexpected identifier \"bar\" in @ modifier, expected timestamp",
    );
    check_err(
        "(foo) offset 5m",
        "1:7: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    );
    check_err(
        "sum(foo) @ 1",
        "1:10: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    );
    check_err("foo bar", "1:5: parse error: unexpected identifier \"bar\"");
    check_err("foo{a=\"b\"}}", "1:11: parse error: unexpected \"}\"");
}

#[test]
fn matrix_selectors() {
    check("test[5s]", "test[5s]");
    check("test[5m]", "test[5m]");
    check("test[5m30s]", "test[5m30s]");
    check("test[5h] OFFSET 5m", "test[5h] offset 5m");
    check("test[5d] OFFSET 10s", "test[5d] offset 10s");
    check("test[5w] offset 2w", "test[5w] offset 2w");
    check(
        "test{a=\"b\"}[5y] @ 1603774699",
        "test{a=\"b\"}[5y] @ 1603774699.000",
    );
    check("test[90d]", "test[90d]");
    check("test[1h30m]", "test[1h30m]");
    check("test[5]", "test[5s]");
    check("test[1.5]", "test[1s500ms]");
    check("test[0s]", "test[0s]");
    check("foo[5m] @ start() offset 1m", "foo[5m] @ start() offset 1m");
    check("foo[5m] offset 1m @ end()", "foo[5m] @ end() offset 1m");
    // Constant duration arithmetic folds.
    check("test[1h/2]", "test[30m]");
    check("test[5m+30s]", "test[5m30s]");
    check("test[2m*(10+5)]", "test[30m]");
    check("foo offset (2 * 1m)", "foo offset 2m");
    check("foo offset -(1m + 1m)", "foo offset -2m");

    let Expr::Matrix(m) = ok("foo[5m] offset 1m") else {
        panic!("matrix")
    };
    assert_eq!((m.range, m.vector.offset), (300_000, Some(60_000)));
}

#[test]
fn matrix_selector_errors() {
    check_err(
        "foo[5mm]",
        "1:5: parse error: bad number or duration syntax: \"5mm\"",
    );
    check_err(
        "foo[1m1h]",
        "1:5: parse error: bad number or duration syntax: \"1m1h\"",
    );
    check_err(
        "foo[5m1]",
        "1:5: parse error: bad number or duration syntax: \"5m1\"",
    );
    check_err(
        "foo[5m",
        "1:7: parse error: unexpected end of input in matrix selector, expected \"]\" or \":\"",
    );
    check_err(
        "foo[]",
        "1:5: parse error: unexpected \"]\" in range, expected duration",
    );
    check_err(
        "foo[\"5m\"]",
        "1:5: parse error: unexpected string \"5m\" in range, expected duration",
    );
    check_err(
        "foo[-1m]",
        "1:5: parse error: range duration must be greater than 0",
    );
    check_err(
        "foo[0]",
        "1:5: parse error: range duration must be greater than 0",
    );
    check_err(
        "foo[1m] [5m]",
        "1:9: parse error: ranges only allowed for vector selectors",
    );
    check_err(
        "(foo)[5m]",
        "1:6: parse error: ranges only allowed for vector selectors",
    );
    check_err(
        "sum(foo)[5m]",
        "1:9: parse error: ranges only allowed for vector selectors",
    );
    check_err(
        "foo offset 1m [5m]",
        "1:1: parse error: no offset modifiers allowed before range",
    );
    check_err(
        "foo @ 1 [5m]",
        "1:1: parse error: no @ modifiers allowed before range",
    );
    check_err(
        "foo[5m/0]",
        "1:5: parse error: division by zero in duration expression",
    );
    check_err(
        "foo[step()]",
        "1:5: parse error: the experimental duration function step() is not supported",
    );
    check_err(
        "foo[5m] anchored",
        "1:9: parse error: the experimental anchored modifier (extended range selectors) is not supported",
    );
    check_err(
        "rate(foo[5m] smoothed)",
        "1:14: parse error: the experimental smoothed modifier (extended range selectors) is not supported",
    );
    check_err(
        "foo + fill(0) bar",
        "1:7: parse error: the experimental fill() binary operator modifier is not supported",
    );
    check_err(
        "foo </ 1",
        "1:5: parse error: the native-histogram trim operator \"</\" is not supported",
    );
}
