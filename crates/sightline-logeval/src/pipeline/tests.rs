//! The pipeline through its query text: each case parses a query with
//! `sightline_logql::parse`, runs one entry and compares the final line and
//! labels. Many cases are ported from Loki's `pkg/logql/log/*_test.go`
//! (rewritten; expectations checked by hand against Loki's code).

use sightline_core::Labels;
use sightline_logql::ast::{Expr, LogRange, MetricExpr, RangeOp, Stage};

use super::*;

const NOW: i64 = 1_700_000_000_000_000_000;

fn stages(fragment: &str) -> Vec<Stage> {
    match sightline_logql::parse(&format!("{{job=\"x\"}} {fragment}")) {
        Ok(Expr::Log(l)) => l.stages,
        other => panic!("{fragment}: {other:?}"),
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied()).expect("valid labels")
}

fn run_with(
    fragment: &str,
    stream: &[(&str, &str)],
    meta: &[(&str, &str)],
    line: &str,
) -> Option<(String, String)> {
    let p = Pipeline::new(&stages(fragment), NOW).expect("pipeline builds");
    let stream = labels(stream);
    let meta: Vec<(String, String)> = meta
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    let mut sp = p.for_stream(&stream);
    sp.process(1_000, line, &meta)
        .map(|p| (p.line, p.labels.all().to_string()))
}

/// One entry of stream `{app="foo"}`: the labels after the pipeline, or
/// `None` when dropped.
fn labels_of(fragment: &str, line: &str) -> Option<String> {
    run_with(fragment, &[("app", "foo")], &[], line).map(|(_, l)| l)
}

fn line_of(fragment: &str, line: &str) -> Option<String> {
    run_with(fragment, &[("app", "foo")], &[], line).map(|(l, _)| l)
}

fn build_err(fragment: &str) -> String {
    Pipeline::new(&stages(fragment), NOW)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn line_filters() {
    let keep = |f: &str, line: &str| labels_of(f, line).is_some();
    assert!(keep(r#"|= "foo""#, "a foo b"));
    assert!(!keep(r#"|= "foo""#, "a b"));
    assert!(keep(r#"!= "foo""#, "a b"));
    assert!(keep(r#"|= "foo" or "bar""#, "bar"));
    assert!(!keep(r#"!= "foo" or "bar""#, "bar"));
    assert!(keep(r#"!= "foo" or "bar""#, "baz"));
    assert!(keep(r#"|~ "(?i)error""#, "An ERROR"));
    assert!(!keep(r#"!~ "err|warn""#, "a warning"));
    assert!(keep(r#"|= "a" |= "b""#, "ab"));
    assert!(!keep(r#"|= "a" |= "b""#, "a"));
    // `|= ""` keeps everything, `!= ""` nothing.
    assert!(keep(r#"|= """#, "x"));
    assert!(!keep(r#"!= """#, "x"));
    // Patterns: literals in order, captures non-empty.
    assert!(keep(r#"|> "<_> GET <_>""#, "1.2.3.4 GET /index"));
    assert!(!keep(r#"|> "<_> GET <_>""#, "1.2.3.4 POST /index"));
    assert!(!keep(r#"|> "<_> GET <_>""#, "GET /index"));
    assert!(keep(r#"!> "<_> GET <_>""#, "POST /"));
    assert!(keep(r#"|> "a" or "<_>b""#, "xb"));
    // ip().
    assert!(keep(r#"|= ip("192.168.0.0/16")"#, "from 192.168.4.5 ok"));
    assert!(!keep(r#"|= ip("192.168.0.0/16")"#, "from 10.0.0.1 ok"));
    assert!(keep(r#"!= ip("192.168.0.0/16")"#, "from 10.0.0.1 ok"));
    assert!(keep(
        r#"|= ip("10.0.0.1") or ip("10.0.0.2")"#,
        "host 10.0.0.2"
    ));
    assert!(keep(r#"|= ip("10.0.0.1-10.0.0.9")"#, "10.0.0.5"));
    // `.+` keeps a line of newlines, as Loki's rewrite does.
    assert!(keep(r#"|~ ".+""#, "\n"));
}

#[test]
fn construction_errors() {
    assert_eq!(
        build_err(r#"|~ "(foo""#),
        "error parsing regexp: missing closing ): `(foo`"
    );
    assert_eq!(
        build_err(r#"|= ip("foo")"#),
        r#"ip: invalid pattern: "foo""#
    );
    assert_eq!(
        build_err(r#"| regexp "(foo)""#),
        "at least one named capture must be supplied"
    );
    assert_eq!(
        build_err(r#"| pattern "foo""#),
        "at least one capture is required"
    );
    assert_eq!(
        build_err(r#"| pattern "<a><b>""#),
        "found consecutive capture '<a><b>': invalid expression"
    );
    assert_eq!(
        build_err(r#"| pattern "<a> <a>""#),
        "duplicate capture name (a): invalid expression"
    );
    assert_eq!(
        build_err(r#"|> "<a> x""#),
        "named captures are not allowed: found '<a>'"
    );
    assert_eq!(
        build_err(r#"| json a="b..c""#),
        "cannot parse expression [b..c]: syntax error: unexpected DOT, expecting FIELD"
    );
    assert!(
        build_err(r#"| line_format "{{.a""#)
            .starts_with("invalid line template: template: line:1:")
    );
    assert!(
        build_err(r#"| label_format a="{{.a""#)
            .starts_with("invalid template for label 'a': template: label:1:")
    );
}

#[test]
fn json_parser() {
    // Loki's parser_test.go "multi depth".
    assert_eq!(
        labels_of(
            "| json",
            r#"{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}}}"#
        )
        .as_deref(),
        Some(
            r#"{app="foo", app_extracted="foo", namespace="prod", pod_deployment_ref="foobar", pod_uuid="foo"}"#
        )
    );
    // Numbers as written, booleans, arrays and nulls skipped, keys sanitized.
    assert_eq!(
        labels_of(
            "| json",
            r#"{"counter":1.50, "ok":true, "list":[1,2], "n":null, "a.b-c":"x", "1st":"y", "price": {"_net_":5.56909}}"#
        )
        .as_deref(),
        Some(
            r#"{_1st="y", a_b_c="x", app="foo", counter="1.50", ok="true", price__net_="5.56909"}"#
        )
    );
    // Escapes are resolved; an empty string is a label with an empty value.
    assert_eq!(
        labels_of("| json", r#"{"msg":"a\"b\u0041","e":""}"#).as_deref(),
        Some(r#"{app="foo", e="", msg="a\"bA"}"#)
    );
    // Malformed JSON: what came before stays, and the error is set.
    assert_eq!(
        labels_of("| json", r#"{"a":"1", x}"#).as_deref(),
        Some(
            r#"{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol", a="1", app="foo"}"#
        )
    );
    assert_eq!(
        labels_of("| json", "not json").as_deref(),
        Some(
            r#"{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol", app="foo"}"#
        )
    );
    // The first value of a key wins.
    assert_eq!(
        labels_of("| json", r#"{"a":"1","a":"2"}"#).as_deref(),
        Some(r#"{a="1", app="foo"}"#)
    );
    // The replacement character becomes a space.
    assert_eq!(
        labels_of("| json", "{\"a\":\"x\u{FFFD}y\"}").as_deref(),
        Some(r#"{a="x y", app="foo"}"#)
    );
}

#[test]
fn json_expressions() {
    let line = r#"{"servers":["a","b"],"request":{"headers":{"User-Agent":"curl"}},"n":null}"#;
    assert_eq!(
        labels_of(
            r#"| json first_server="servers[0]", ua="request.headers[\"User-Agent\"]""#,
            line
        )
        .as_deref(),
        Some(r#"{app="foo", first_server="a", ua="curl"}"#)
    );
    assert_eq!(
        labels_of(
            r#"| json server_list="servers", headers="request.headers""#,
            line
        )
        .as_deref(),
        Some(r#"{app="foo", headers="{\"User-Agent\":\"curl\"}", server_list="[\"a\",\"b\"]"}"#)
    );
    // Missing paths and nulls give empty labels; a name that is a stream
    // label takes the suffix.
    assert_eq!(
        labels_of(r#"| json missing="nope", n, app="servers[1]""#, line).as_deref(),
        Some(r#"{app="foo", app_extracted="b", missing="", n=""}"#)
    );
    // A line that cannot start JSON: the error without details.
    assert_eq!(
        labels_of(r#"| json a="b""#, "text").as_deref(),
        Some(r#"{__error__="JSONParserErr", app="foo"}"#)
    );
}

#[test]
fn logfmt_parser() {
    assert_eq!(
        labels_of("| logfmt", r#"foo=bar dur=10ms msg="hello world" flag"#).as_deref(),
        Some(r#"{app="foo", dur="10ms", foo="bar", msg="hello world"}"#)
    );
    assert_eq!(
        labels_of("| logfmt --keep-empty", "foo= bar=x flag").as_deref(),
        Some(r#"{app="foo", bar="x", flag="", foo=""}"#)
    );
    // Malformed pairs are skipped, or stop the parse under --strict.
    assert_eq!(
        labels_of("| logfmt", "foo=bar =baz a=1").as_deref(),
        Some(r#"{a="1", app="foo", foo="bar"}"#)
    );
    assert_eq!(
        labels_of("| logfmt --strict", "foo=bar =baz a=1").as_deref(),
        Some(
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 9 : unexpected '='", app="foo", foo="bar"}"#
        )
    );
    assert_eq!(
        labels_of("| logfmt --strict", r#"a="unterminated"#).as_deref(),
        Some(
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 16 : unterminated quoted value", app="foo"}"#
        )
    );
    // Collisions with the stream, and the first value winning.
    assert_eq!(
        labels_of("| logfmt", "app=bar a=1 a=2").as_deref(),
        Some(r#"{a="1", app="foo", app_extracted="bar"}"#)
    );
    // Parameters: renamed keys, missing ones empty.
    assert_eq!(
        labels_of(r#"| logfmt host, fwd_ip="fwd", gone"#, "host=h fwd=1.2.3.4").as_deref(),
        Some(r#"{app="foo", fwd_ip="1.2.3.4", gone="", host="h"}"#)
    );
}

#[test]
fn regexp_and_pattern() {
    assert_eq!(
        labels_of(
            r#"| regexp "(?P<method>\\w+) (?P<path>\\S+) (?P<nope>x)?""#,
            "GET /foo 200"
        )
        .as_deref(),
        Some(r#"{app="foo", method="GET", nope="", path="/foo"}"#)
    );
    // No match: nothing extracted, line kept.
    assert_eq!(
        labels_of(r#"| regexp "(?P<n>\\d+)""#, "abc").as_deref(),
        Some(r#"{app="foo"}"#)
    );
    assert_eq!(
        labels_of(r#"| pattern "<method> <path> <_>""#, "GET /api/v1 HTTP/1.1").as_deref(),
        Some(r#"{app="foo", method="GET", path="/api/v1"}"#)
    );
    // Loki's pattern_test.go: a capture whose literal is missing takes the
    // rest; a leading literal must start the line.
    assert_eq!(
        labels_of(r#"| pattern "<a> - <b>""#, "x y z").as_deref(),
        Some(r#"{a="x y z", app="foo"}"#)
    );
    assert_eq!(
        labels_of(r#"| pattern "GET <p>""#, "POST /x").as_deref(),
        Some(r#"{app="foo"}"#)
    );
    assert_eq!(
        labels_of(r#"| pattern "<app> <b>""#, "1 2").as_deref(),
        Some(r#"{app="foo", app_extracted="1", b="2"}"#)
    );
}

#[test]
fn unpack() {
    assert_eq!(
        run_with(
            "| unpack",
            &[("app", "foo")],
            &[],
            r#"{"app":"bar","ns":"prod","_entry":"the \"line\"","n":1}"#
        ),
        Some((
            r#"the "line""#.to_owned(),
            r#"{app="foo", app_extracted="bar", ns="prod"}"#.to_owned()
        ))
    );
    // Without `_entry` nothing changes.
    assert_eq!(
        run_with("| unpack", &[("app", "foo")], &[], r#"{"a":"b"}"#),
        Some((r#"{"a":"b"}"#.to_owned(), r#"{app="foo"}"#.to_owned()))
    );
    assert_eq!(
        labels_of("| unpack", "[1]").as_deref(),
        Some(
            r#"{__error__="JSONParserErr", __error_details__="expecting json object(6), but it is not", app="foo"}"#
        )
    );
}

#[test]
fn label_filters() {
    let f = "| logfmt | status >= 400";
    assert!(labels_of(f, "status=500").is_some());
    assert!(labels_of(f, "status=200").is_none());
    assert!(labels_of(f, "other=1").is_none());
    assert_eq!(
        labels_of(f, "status=abc").as_deref(),
        Some(
            r#"{__error__="LabelFilterErr", __error_details__="strconv.ParseFloat: parsing \"abc\": invalid syntax", app="foo", status="abc"}"#
        )
    );
    assert!(labels_of("| logfmt | dur > 1s", "dur=1500ms").is_some());
    assert!(labels_of("| logfmt | dur > 1s", "dur=500ms").is_none());
    assert_eq!(
        labels_of("| logfmt | dur > 1s", "dur=abc").as_deref(),
        Some(
            r#"{__error__="LabelFilterErr", __error_details__="time: invalid duration \"abc\"", app="foo", dur="abc"}"#
        )
    );
    assert!(labels_of("| logfmt | size == 20KB", "size=20kB").is_some());
    assert!(labels_of("| logfmt | size > 1KiB", "size=1000").is_none());
    // and/or.
    let f = r#"| logfmt | dur >= 20ms or size == 20KB and method!~"2..""#;
    assert!(labels_of(f, "dur=30ms method=200").is_some());
    assert!(labels_of(f, "dur=1ms size=20KB method=300").is_some());
    assert!(labels_of(f, "dur=1ms size=20KB method=200").is_none());
    // String matchers: a missing label is empty, `__error__` is the error.
    assert!(labels_of(r#"| logfmt | level="""#, "a=1").is_some());
    assert!(labels_of(r#"| json | __error__="""#, "nope").is_none());
    assert!(labels_of(r#"| json | __error__!="""#, "nope").is_some());
    // Label regexes follow Loki's rewrites: a literal is an equality, a
    // concatenation an unanchored substring test.
    assert!(labels_of(r#"| logfmt | level=~"err""#, "level=error").is_none());
    assert!(labels_of(r#"| logfmt | level=~"err.*""#, "level=xerr").is_some());
    assert!(labels_of(r#"| logfmt | level=~"e.r""#, "level=xerr").is_none());
    // ip(): an entry that already has an error passes.
    assert!(labels_of(r#"| logfmt | addr = ip("10.0.0.0/8")"#, "addr=10.1.2.3").is_some());
    assert!(labels_of(r#"| logfmt | addr = ip("10.0.0.0/8")"#, "addr=11.1.2.3").is_none());
    assert!(labels_of(r#"| logfmt | addr != ip("10.0.0.0/8")"#, "addr=11.1.2.3").is_some());
    assert!(labels_of(r#"| json | addr = ip("10.0.0.0/8")"#, "oops").is_some());
}

#[test]
fn early_label_filters_of_parsers() {
    // Loki runs a single-label filter as soon as a parser sets its label:
    // here `json` sets level="error", the later filter refuses it at once,
    // and the line is dropped although label_format would have made it
    // pass.
    assert!(
        labels_of(
            r#"| json | label_format level="x" | level="x""#,
            r#"{"level":"error"}"#
        )
        .is_none()
    );
    assert!(labels_of(r#"| label_format level="x" | level="x""#, "y").is_some());
}

#[test]
fn formatters() {
    assert_eq!(
        line_of(
            r#"| logfmt | line_format "{{.level}}: {{.msg}}""#,
            r#"level=info msg="hi there""#
        )
        .as_deref(),
        Some("info: hi there")
    );
    assert_eq!(
        line_of(r#"| line_format "{{ __line__ }}!""#, "abc").as_deref(),
        Some("abc!")
    );
    // `{{.x}}` alone reads the label directly: the error is no label yet.
    assert_eq!(
        line_of(r#"| json | line_format "{{.__error__}}""#, "x").as_deref(),
        Some("")
    );
    assert_eq!(
        line_of(r#"| json | line_format "{{.__error__}}!""#, "x").as_deref(),
        Some("JSONParserErr!")
    );
    // label_format: renames delete the source; templates see the labels as
    // the stage found them.
    assert_eq!(
        labels_of(
            r#"| logfmt | label_format lvl=level, n="{{.level}}-{{.lvl}}""#,
            "level=warn"
        )
        .as_deref(),
        Some(r#"{app="foo", lvl="warn", n="-warn"}"#)
    );
    assert_eq!(
        labels_of(r#"| label_format app="{{.app}}-x""#, "l").as_deref(),
        Some(r#"{app="foo-x"}"#)
    );
    assert_eq!(
        labels_of("| label_format foo=bar | label_format foo=\"new\"", "l").as_deref(),
        Some(r#"{app="foo", foo="new"}"#)
    );
    // A template error keeps the line and sets the error.
    let got = run_with(
        r#"| line_format "{{ div 1 0 }}""#,
        &[("app", "foo")],
        &[],
        "orig",
    )
    .expect("kept");
    assert_eq!(got.0, "orig");
    assert!(
        got.1.contains(r#"__error__="TemplateFormatErr""#),
        "{}",
        got.1
    );
    // The parser refuses a repeated target; the stage checks it too.
    let fmts = [
        sightline_logql::ast::LabelFmt::Rename {
            dst: "a".into(),
            src: "b".into(),
        },
        sightline_logql::ast::LabelFmt::Template {
            dst: "a".into(),
            template: "x".into(),
        },
    ];
    assert_eq!(
        format::LabelFormat::new(&fmts)
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some("multiple label name 'a' not allowed in a single format operation")
    );
}

#[test]
fn drop_and_keep() {
    assert_eq!(
        labels_of("| logfmt | drop a, b=\"2\", c=\"9\"", "a=1 b=2 c=3").as_deref(),
        Some(r#"{app="foo", c="3"}"#)
    );
    // With the error dropped and nothing else changed, Loki returns the
    // stream's labels as they are: the details left behind are not shown.
    assert_eq!(
        labels_of("| json | drop __error__", "x").as_deref(),
        Some(r#"{app="foo"}"#)
    );
    assert_eq!(
        labels_of("| json | drop __error__", "{\"a\":1, x}").as_deref(),
        Some(
            r#"{__error_details__="Value looks like object, but can't find closing '}' symbol", a="1", app="foo"}"#
        )
    );
    assert_eq!(
        labels_of("| json | drop __error__, __error_details__", "x").as_deref(),
        Some(r#"{app="foo"}"#)
    );
    assert_eq!(
        labels_of("| logfmt | keep a, b=\"9\"", "a=1 b=2 c=3").as_deref(),
        Some(r#"{a="1"}"#)
    );
    // keep never removes the error labels.
    assert_eq!(
        labels_of("| json | keep app", "x").as_deref(),
        Some(
            r#"{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol", app="foo"}"#
        )
    );
}

#[test]
fn structured_metadata_and_categories() {
    let p = Pipeline::new(&stages("| logfmt"), NOW).expect("builds");
    let stream = labels(&[("app", "foo")]);
    let meta = vec![
        ("app".to_owned(), "m".to_owned()),
        ("trace".to_owned(), "t1".to_owned()),
    ];
    let out = p
        .for_stream(&stream)
        .process(1, "trace=t2 x=1", &meta)
        .expect("kept");
    assert_eq!(out.labels.stream.to_string(), r#"{app="foo"}"#);
    assert_eq!(
        out.labels.structured_metadata.to_string(),
        r#"{app_extracted="m", trace="t1"}"#
    );
    assert_eq!(
        out.labels.parsed.to_string(),
        r#"{trace_extracted="t2", x="1"}"#
    );
    // Metadata named `__error__` is the entry's error.
    let p = Pipeline::new(&[], NOW).expect("builds");
    let out = p
        .for_stream(&stream)
        .process(1, "l", &[("__error__".to_owned(), "E".to_owned())])
        .expect("kept");
    assert_eq!(
        out.labels.all().to_string(),
        r#"{__error__="E", app="foo"}"#
    );
}

#[test]
fn decolorize() {
    assert_eq!(
        line_of("| decolorize", "\x1b[0;32mgreen\x1b[0m text").as_deref(),
        Some("green text")
    );
}

fn range_of(query: &str) -> (LogRange, RangeOp, Option<sightline_logql::ast::Grouping>) {
    match sightline_logql::parse(query) {
        Ok(Expr::Metric(MetricExpr::Range(r))) => (r.range, r.op, r.grouping),
        other => panic!("{query}: {other:?}"),
    }
}

fn sample(query: &str, stream: &[(&str, &str)], line: &str) -> Option<(f64, String)> {
    let (range, op, grouping) = range_of(query);
    let ex = SampleExtractor::new(&range, op, grouping.as_ref(), NOW).expect("extractor builds");
    let stream = labels(stream);
    ex.for_stream(&stream)
        .process(1, line, &[])
        .map(|(v, l)| (v, l.to_string()))
}

#[test]
fn samples_without_unwrap() {
    let s = [("app", "foo")];
    assert_eq!(
        sample(r#"count_over_time({app="foo"} | logfmt [1m])"#, &s, "a=1"),
        Some((1.0, r#"{a="1", app="foo"}"#.to_owned()))
    );
    assert_eq!(
        sample(
            r#"bytes_over_time({app="foo"} | line_format "ab" [1m])"#,
            &s,
            "abcdef"
        ),
        Some((2.0, r#"{app="foo"}"#.to_owned()))
    );
    assert_eq!(sample(r#"rate({app="foo"} |= "x" [1m])"#, &s, "nope"), None);
    assert_eq!(
        sample(r#"absent_over_time({app="foo"} | logfmt [1m])"#, &s, "a=1"),
        Some((1.0, "{}".to_owned()))
    );
}

#[test]
fn samples_with_unwrap() {
    let s = [("app", "foo")];
    // The unwrapped label leaves the labels.
    assert_eq!(
        sample(
            r#"sum_over_time({app="foo"} | logfmt | unwrap latency [1m])"#,
            &s,
            "latency=1.5 b=2"
        ),
        Some((1.5, r#"{app="foo", b="2"}"#.to_owned()))
    );
    assert_eq!(
        sample(
            r#"sum_over_time({app="foo"} | logfmt | unwrap duration(d) [1m])"#,
            &s,
            "d=1m30s"
        ),
        Some((90.0, r#"{app="foo"}"#.to_owned()))
    );
    assert_eq!(
        sample(
            r#"sum_over_time({app="foo"} | logfmt | unwrap duration_seconds(d) [1m])"#,
            &s,
            "d=250ms"
        ),
        Some((0.25, r#"{app="foo"}"#.to_owned()))
    );
    assert_eq!(
        sample(
            r#"sum_over_time({app="foo"} | logfmt | unwrap bytes(b) [1m])"#,
            &s,
            "b=1KiB"
        ),
        Some((1024.0, r#"{app="foo"}"#.to_owned()))
    );
    // Missing: no sample and no error.
    assert_eq!(
        sample(
            r#"sum_over_time({app="foo"} | logfmt | unwrap latency [1m])"#,
            &s,
            "x=1"
        ),
        None
    );
    // A failed conversion: value 0, all labels with the error.
    assert_eq!(
        sample(r#"sum_over_time({app="foo"} | logfmt | unwrap latency [1m])"#, &s, "latency=abc"),
        Some((
            0.0,
            r#"{__error__="SampleExtractionErr", __error_details__="strconv.ParseFloat: parsing \"abc\": invalid syntax", app="foo", latency="abc"}"#
                .to_owned()
        ))
    );
    assert_eq!(
        sample(
            r#"sum_over_time({app="foo"} | logfmt | unwrap latency | __error__="" [1m])"#,
            &s,
            "latency=abc"
        ),
        None
    );
    // Post-filters see the unwrapped label.
    assert_eq!(
        sample(
            r#"sum_over_time({app="foo"} | logfmt | unwrap latency | latency > 2 [1m])"#,
            &s,
            "latency=1"
        ),
        None
    );
}

#[test]
fn sample_grouping() {
    let s = [("app", "foo"), ("env", "prod")];
    assert_eq!(
        sample(
            r#"max_over_time({app="foo"} | logfmt | unwrap v [1m]) by (level)"#,
            &s,
            "v=3 level=info x=1"
        ),
        Some((3.0, r#"{level="info"}"#.to_owned()))
    );
    assert_eq!(
        sample(
            r#"max_over_time({app="foo"} | logfmt | unwrap v [1m]) without (env)"#,
            &s,
            "v=3 level=info"
        ),
        Some((3.0, r#"{app="foo", level="info"}"#.to_owned()))
    );
    assert_eq!(
        sample(
            r#"max_over_time({app="foo"} | logfmt | unwrap v [1m]) by ()"#,
            &s,
            "v=3"
        ),
        Some((3.0, "{}".to_owned()))
    );
    // With `by`, the parser stops once it has what it needs, before the
    // malformed tail: no error, as in Loki.
    assert_eq!(
        sample(
            r#"max_over_time({app="foo"} | json | unwrap v [1m]) by (a)"#,
            &s,
            r#"{"a":"1","v":"2", broken"#
        ),
        Some((2.0, r#"{a="1"}"#.to_owned()))
    );
    let got = sample(
        r#"max_over_time({app="foo"} | json | unwrap v [1m])"#,
        &s,
        r#"{"a":"1","v":"2", broken"#,
    )
    .expect("sample");
    assert!(got.1.contains("JSONParserErr"), "{}", got.1);
}

#[test]
fn documented_fragments_build_and_run() {
    let path = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || env!("CARGO_MANIFEST_DIR").into(),
            std::path::PathBuf::from,
        )
        .join("../../compat-tests/corpus/logql/pipeline_fragments.tsv");
    let text = std::fs::read_to_string(path).expect("the fragments file");
    let deep = "{\"deep\":".repeat(300);
    let lines = [
        "",
        "level=info msg=\"server listening on addresses\" status=200 duration=25ms size=20KB",
        r#"{"level":"INFO","servers":["a"],"request":{"headers":{"User-Agent":"x"}},"_entry":"e"}"#,
        "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 2326 \"-\" \"curl\"",
        "\u{1b}[31mred\u{1b}[0m timeout too many open connections Tomcat",
        deep.as_str(),
    ];
    let mut n = 0;
    for row in text.lines().skip(1) {
        let Some(fragment) = row.split('\t').nth(1) else {
            continue;
        };
        let fragment = if fragment.starts_with('|') || fragment.starts_with('!') {
            fragment.to_owned()
        } else {
            format!("| {fragment}")
        };
        let Ok(Expr::Log(l)) = sightline_logql::parse(&format!("{{job=\"x\"}} {fragment}")) else {
            continue;
        };
        let p = Pipeline::new(&l.stages, NOW).unwrap_or_else(|e| panic!("{fragment}: {e}"));
        let stream = labels(&[("job", "x")]);
        let mut sp = p.for_stream(&stream);
        for line in lines {
            let _ = sp.process(0, line, &[]);
        }
        n += 1;
    }
    assert!(n >= 25, "only {n} fragments parsed");
}

#[test]
fn hostile_input_never_panics() {
    let deep = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let p = Pipeline::new(
        &stages("| json | unpack | logfmt --strict | json a=\"a.a.a\""),
        NOW,
    )
    .expect("builds");
    let stream = labels(&[("job", "x")]);
    let mut sp = p.for_stream(&stream);
    for line in [
        deep.as_str(),
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\u12\"}",
        "\"",
        "{",
        "[[[[",
        "a=\"\\",
        "=",
        "\u{FFFD}=\u{FFFD}",
        &"x".repeat(1 << 20),
    ] {
        let _ = sp.process(0, line, &[]);
    }
}
