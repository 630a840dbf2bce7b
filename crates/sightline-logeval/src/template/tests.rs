//! Template tests: Loki's fmt_test.go cases (rewritten, expectations
//! checked by hand against Go's documented behaviour), the language, every
//! function, error wording, and hostile input.

#![allow(clippy::unwrap_used)]

use super::{MAX_OUTPUT_BYTES, Template, TemplateData};

/// 2022-06-27T12:00:00Z, one of Loki's test timestamps.
const TS: i64 = 1_656_331_200_000_000_000;
/// 2024-01-02T03:04:05.123456789Z as "now".
const NOW: i64 = 1_704_164_645_123_456_789;

fn run_named(
    name: &str,
    tmpl: &str,
    labels: &[(&str, &str)],
    line: &str,
    ts: i64,
) -> Result<String, String> {
    let t = Template::parse_named(name, tmpl).map_err(|e| e.to_string())?;
    let owned: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let data = TemplateData {
        labels: &lookup,
        line,
        timestamp_ns: ts,
        now_ns: NOW,
    };
    t.execute(&data).map_err(|e| e.to_string())
}

fn run(tmpl: &str, labels: &[(&str, &str)]) -> Result<String, String> {
    run_named("line", tmpl, labels, "test line", TS)
}

#[track_caller]
fn check(tmpl: &str, labels: &[(&str, &str)], want: &str) {
    match run(tmpl, labels) {
        Ok(got) => assert_eq!(got, want, "template {tmpl:?}"),
        Err(e) => panic!("template {tmpl:?} failed: {e}"),
    }
}

#[track_caller]
fn check0(tmpl: &str, want: &str) {
    check(tmpl, &[], want);
}

#[track_caller]
fn check_err(tmpl: &str, labels: &[(&str, &str)], want: &str) {
    match run(tmpl, labels) {
        Ok(got) => panic!("template {tmpl:?} succeeded with {got:?}, wanted error {want:?}"),
        Err(e) => assert_eq!(e, want, "template {tmpl:?}"),
    }
}

#[track_caller]
fn check_err0(tmpl: &str, want: &str) {
    check_err(tmpl, &[], want);
}

const FB: &[(&str, &str)] = &[("foo", "blip"), ("bar", "blop")];

// ---- Loki's Test_lineFormatter_Format ----

#[test]
fn loki_line_formatter_cases() {
    check(
        r#"{{.foo | count "abc" }}"#,
        &[("foo", "abc abc abc"), ("bar", "blop")],
        "3",
    );
    check(
        r#"{{.foo | count "a|b|c" }}"#,
        &[("foo", "abc abc abc")],
        "9",
    );
    check("foo{{.foo}}buzz{{  .bar  }}", FB, "fooblipbuzzblop");
    check(
        r#"foo{{.foo}}buzz{{ Replace .bar "blop" "bar" -1 }}"#,
        FB,
        "fooblipbuzzbar",
    );
    check(
        r#"foo{{.foo}}buzz{{ .bar | replace "blop" "bar" }}"#,
        FB,
        "fooblipbuzzbar",
    );
    check("{{.foo | title }}", FB, "Blip");
    check(
        "{{.foo | substr 1 3 }} {{ .bar  | trunc 1 }} {{ .bar  | trunc 3 }}",
        FB,
        "li b blo",
    );
    check(
        r#"{{.foo | trim }} {{ .bar  | trimAll "op" }} {{ .bar  | trimPrefix "b" }} {{ .bar  | trimSuffix "p" }}"#,
        &[("foo", "  blip "), ("bar", "blop")],
        "blip bl lop blo",
    );
    check(
        "{{.foo | lower }} {{ .bar  | upper }}",
        &[("foo", "BLIp"), ("bar", "blop")],
        "blip BLOP",
    );
    let q = r#"/loki/api/v1/query?query=sum(count_over_time({stream_filter="some_stream",environment="prod", host=~"someec2.*"}"#;
    let e = "%2Floki%2Fapi%2Fv1%2Fquery%3Fquery%3Dsum%28count_over_time%28%7Bstream_filter%3D%22some_stream%22%2Cenvironment%3D%22prod%22%2C+host%3D~%22someec2.%2A%22%7D";
    check(
        "{{.foo | urlencode }} {{ urlencode .foo }}",
        &[("foo", q)],
        &format!("{e} {e}"),
    );
    check(
        "{{.foo | urldecode }} {{ urldecode .foo }}",
        &[("foo", e)],
        &format!("{q} {q}"),
    );
    check0(r#"{{ "foo" | repeat 3 }}"#, "foofoofoo");
    check0(r#"{{ "foo\n bar" | indent 4 }}"#, "    foo\n     bar");
    check0(r#"{{ "foo" | nindent 2 }}"#, "\n  foo");
    let b = &[("foo", "BLIp")];
    check(
        r#"{{ if  .foo | contains "p"}}yes{{end}}-{{ if  .foo | contains "z"}}no{{end}}"#,
        b,
        "yes-",
    );
    check(
        r#"{{ if  .foo | hasPrefix "BL" }}yes{{end}}-{{ if  .foo | hasPrefix "p"}}no{{end}}"#,
        b,
        "yes-",
    );
    check(
        r#"{{ if  .foo | hasSuffix "Ip" }}yes{{end}}-{{ if  .foo | hasSuffix "pw"}}no{{end}}"#,
        b,
        "yes-",
    );
    check(r#"{{ regexReplaceAll "(p)" .foo "t" }}"#, b, "BLIt");
    check(
        r#"{{ regexReplaceAllLiteral "(p)" .foo "${1}" }}"#,
        b,
        "BLI${1}",
    );
    check_err(
        r#"{{.foo Replace "foo"}}"#,
        FB,
        r#"template: line:1:2: executing "line" at <.foo>: foo is not a method but has arguments"#,
    );
    check(
        "foo {{.foo}}buzz{{  .bar  }}",
        &[("bar", "blop")],
        "foo buzzblop",
    );
    check(
        "foo {{.foo | ToUpper }} buzz{{  .bar  }}",
        FB,
        "foo BLIP buzzblop",
    );
    check(
        "{{ add .foo 1 | sub .bar | mul .baz | div .bazz}}",
        &[("foo", "1"), ("bar", "3"), ("baz", "10"), ("bazz", "20")],
        "2",
    );
    check(
        "{{ addf .foo 1.5 | subf .bar 1.5 | mulf .baz | divf .bazz }}",
        &[
            ("foo", "1.5"),
            ("bar", "5"),
            ("baz", "10.5"),
            ("bazz", "20.2"),
        ],
        "3.8476190476190477",
    );
    check(
        "{{ round (addf .foo 1.5 | subf .bar | mulf .baz | divf .bazz) 5 .2}}",
        &[
            ("foo", "1.5"),
            ("bar", "3.5"),
            ("baz", "10.5"),
            ("bazz", "20.4"),
        ],
        "3.88572",
    );
    check(
        "min is {{ min .foo .bar .baz }} and max is {{ max .foo .bar .baz }}",
        &[("foo", "5"), ("bar", "10"), ("baz", "15")],
        "min is 5 and max is 15",
    );
    check(
        "minf is {{ minf .foo .bar .baz }} and maxf is {{maxf .foo .bar .baz}}",
        &[("foo", "5.3"), ("bar", "10.5"), ("baz", "15.2")],
        "minf is 5.3 and maxf is 15.2",
    );
    check(
        "ceil is {{ ceil .foo }} and floor is {{floor .foo }}",
        &[("foo", "5.3")],
        "ceil is 6 and floor is 5",
    );
    check("mod is {{ mod .foo 3 }}", &[("foo", "20")], "mod is 2");
    check0(r#"{{ "2.5" | float64 | int | add 10}}"#, "12");
    check0(
        r#"{{ sub (unixEpoch (toDate "2006-01-02" "2021-11-02")) (unixEpoch (toDate "2006-01-02" "2021-11-01")) }}"#,
        "86400",
    );
    check0(
        r#"{{ date "2006-01-02" (toDate "2006-01-02" "2021-11-02") }}"#,
        "2021-11-02",
    );
    check0("{{ div (unixEpoch now) (unixEpoch now) }}", "1");
    assert_eq!(
        run_named(
            "line",
            "{{ __line__ }} bar {{ .bar }}",
            &[("bar", "2")],
            "1",
            0
        )
        .as_deref(),
        Ok("1 bar 2")
    );
    check(
        r#"{{.foo | default "-" }}{{.bar | default "-"}}{{.unknown | default "-"}}"#,
        &[("foo", "blip"), ("bar", "")],
        "blip--",
    );
    check(
        r#"{{ __timestamp__ | date "2006-01-02" }} bar {{ .bar }}"#,
        &[("bar", "2")],
        "2022-06-27 bar 2",
    );
    assert_eq!(
        run_named(
            "line",
            "{{ __timestamp__ | unixEpoch }}",
            &[],
            "",
            1_656_353_124_120_000_000
        )
        .as_deref(),
        Ok("1656353124")
    );
    check_err(
        "{{.foo | now}}",
        FB,
        r#"template: line:1:9: executing "line" at <now>: wrong number of args for now: want 0 got 1"#,
    );
    check("{{ .foo | bytes }}", &[("foo", "3 kB")], "3000");
    check("{{ .foo | bytes }}", &[("foo", "3MB")], "3e+06");
    check("{{ .foo | duration }}", &[("foo", "3ms")], "0.003");
    check("{{ .foo | duration_seconds }}", &[("foo", "3m10s")], "190");
    let d = &[("foo", "2023-03-10T01:32:40.340485723Z")];
    let layout = r#""2006-01-02T15:04:05.999999999Z" "UTC""#;
    check(
        &format!("{{{{ .foo | toDateInZone {layout} | unixEpochMillis }}}}"),
        d,
        "1678411960340",
    );
    check(
        &format!("{{{{ .foo | toDateInZone {layout} | unixEpochNanos }}}}"),
        d,
        "1678411960340485723",
    );
    check(
        "{{ .foo | b64enc }}",
        &[("foo", "i'm a string, encode me!")],
        "aSdtIGEgc3RyaW5nLCBlbmNvZGUgbWUh",
    );
    check(
        "{{ .foo | b64dec }}",
        &[("foo", "aSdtIGEgc3RyaW5nLCBlbmNvZGUgbWUh")],
        "i'm a string, encode me!",
    );
    check(
        "{{ .foo | b64dec }} {{ .bar | b64dec }}",
        &[("foo", "Zm9vYmE"), ("bar", "Zm9vYg")],
        "fooba foob",
    );
    check("{{ alignLeft 4 .foo }}", &[("foo", "hello")], "hell");
    check("{{ alignRight 4 .foo }}", &[("foo", "hello")], "ello");
    check("{{.foo}}", &[("foo", "bar")], "bar");
    check("{{.foo}}  ", &[("foo", "bar")], "bar  ");
    check("{{.missing}}", &[("foo", "bar")], "");
}

// ---- Loki's Test_labelsFormatter_Format (template parts) ----

fn label(tmpl: &str, labels: &[(&str, &str)]) -> Result<String, String> {
    run_named(
        "label",
        tmpl,
        labels,
        "test line",
        1_661_518_453_244_672_570,
    )
}

#[test]
fn loki_labels_formatter_cases() {
    assert_eq!(
        label("{{.foo}} and {{.bar}}", FB).as_deref(),
        Ok("blip and blop")
    );
    assert_eq!(
        label("{{div .status 100 }}", &[("status", "200")]).as_deref(),
        Ok("2")
    );
    assert_eq!(
        label(
            r#"{{.foo | default "-" }} and {{.bar}}"#,
            &[("bar", "blop")]
        )
        .as_deref(),
        Ok("- and blop")
    );
    assert_eq!(
        label(r#"{{replace "test" .foo}}"#, FB),
        Err(r#"template: label:1:2: executing "label" at <replace>: wrong number of args for replace: want 3 got 2"#.into())
    );
    assert_eq!(label("{{ __line__ }}", FB).as_deref(), Ok("test line"));
    assert_eq!(
        label(r#"{{ __timestamp__ | date "2006-01-02" }}"#, FB).as_deref(),
        Ok("2022-08-26")
    );
    assert_eq!(
        label("{{ __timestamp__ | unixEpoch }}", FB).as_deref(),
        Ok("1661518453")
    );
    assert_eq!(
        label(r#"{{ __line__ | count "test" }}"#, FB).as_deref(),
        Ok("1")
    );
    assert_eq!(
        label(r#"{{ __line__ | count "notmatching.*" }}"#, &[]).as_deref(),
        Ok("0")
    );
    // unixToTime prints Go's Time.String() in time.Local, UTC here.
    assert_eq!(
        label("{{ .bar | unixToTime }}", &[("bar", "19503")]).as_deref(),
        Ok("2023-05-26 00:00:00 +0000 UTC")
    );
    assert_eq!(
        label("{{ .bar | unixToTime }}", &[("bar", "1679577215")]).as_deref(),
        Ok("2023-03-23 13:13:35 +0000 UTC")
    );
    assert_eq!(
        label("{{ .bar | unixToTime }}", &[("bar", "1257894000000")]).as_deref(),
        Ok("2009-11-10 23:00:00 +0000 UTC")
    );
    assert_eq!(
        label("{{ .bar | unixToTime }}", &[("bar", "1673798889902000")]).as_deref(),
        Ok("2023-01-15 16:08:09.902 +0000 UTC")
    );
    assert_eq!(
        label("{{ .bar | unixToTime }}", &[("bar", "1000000000000000000")]).as_deref(),
        Ok("2001-09-09 01:46:40 +0000 UTC")
    );
    assert_eq!(
        label("{{ .bar | unixToTime }}", &[("bar", "123")]),
        Err(r#"template: label:1:10: executing "label" at <unixToTime>: error calling unixToTime: unable to parse time '123': %!w(<nil>)"#.into())
    );
    assert_eq!(
        label("{{ .bar | unixToTime }}", &[("bar", "12a45")]),
        Err(r#"template: label:1:10: executing "label" at <unixToTime>: error calling unixToTime: unable to parse time '12a45': strconv.ParseInt: parsing "12a45": invalid syntax"#.into())
    );
}

#[test]
fn loki_invalid_regex_is_an_error() {
    assert!(run(r#"{{ regexReplaceAll "a|b|\\q" "input" "x" }}"#, &[]).is_err());
    assert!(run(r#"{{ regexReplaceAllLiteral "\\h" "input" "x" }}"#, &[]).is_err());
    let e = run(r#"{{ count "a|b|\\K" "input" }}"#, &[]).unwrap_err();
    assert!(
        e.contains("error calling count: error parsing regexp: "),
        "{e}"
    );
}

#[test]
fn loki_trunc_align_substr() {
    // sprig's trunc and substr count bytes (Loki's rune-counting copies are
    // not in its function map).
    check0(r#"{{ trunc -1 "Hello, 世界" }}"#, "\u{FFFD}");
    check0(r#"{{ trunc 1 "Hello, 世界" }}"#, "H");
    check0(r#"{{ trunc 0 "Hello, 世界" }}"#, "");
    check0(r#"{{ trunc 20 "Hello, 世界" }}"#, "Hello, 世界");
    check0(r#"{{ trunc -20 "Hello, 世界" }}"#, "Hello, 世界");
    check0(r#"{{ trunc -3 "Hello, 世界" }}"#, "界");
    check0(r#"{{ alignLeft -1 "Hello, 世界" }}"#, "Hello, 世界");
    check0(r#"{{ alignLeft 0 "Hello, 世界" }}"#, "");
    check0(r#"{{ alignLeft 8 "Hello, 世界" }}"#, "Hello, 世");
    check0(
        r#"{{ alignLeft 20 "Hello, 世界" }}"#,
        "Hello, 世界           ",
    );
    check0(r#"{{ alignRight 1 "Hello, 世界" }}"#, "界");
    check0(r#"{{ alignRight 2 "Hello, 世界" }}"#, "世界");
    check0(
        r#"{{ alignRight 20 "Hello, 世界" }}"#,
        "           Hello, 世界",
    );
    check0(
        r#"{{ substr 0 3 "hello" }}|{{ substr 2 -1 "hello" }}|{{ substr 2 99 "hello" }}"#,
        "hel|llo|llo",
    );
    check0(r#"{{ substr -1 2 "hello" }}"#, "he");
    check_err0(
        r#"{{ substr 4 2 "hello" }}"#,
        r#"template: line:1:3: executing "line" at <substr 4 2 "hello">: error calling substr: runtime error: slice bounds out of range [4:2]"#,
    );
}

#[test]
fn substr_out_of_range_reports_go_runtime_error() {
    check_err0(
        r#"{{ substr -1 9 "abc" }}"#,
        r#"template: line:1:3: executing "line" at <substr -1 9 "abc">: error calling substr: runtime error: slice bounds out of range [:9] with length 3"#,
    );
    check_err0(
        r#"{{ substr 5 9 "abc" }}"#,
        r#"template: line:1:3: executing "line" at <substr 5 9 "abc">: error calling substr: runtime error: slice bounds out of range [5:3]"#,
    );
}

// ---- language ----

#[test]
fn text_trimming_and_comments() {
    check0("a  {{- \"b\" -}}  c", "abc");
    check0("a\n\t{{- 1 }}\n", "a1\n");
    check0("a {{/* comment */}} b", "a  b");
    check0("a {{- /* comment */ -}} b", "ab");
    check0("{{-3}}", "-3");
    check0("{{ 3 -}} x", "3x");
    check0("x{{\"}}\"}}y", "x}}y");
}

#[test]
fn if_else_chains() {
    let t = r#"{{ if eq .a "1" }}one{{ else if eq .a "2" }}two{{ else }}other{{ end }}"#;
    check(t, &[("a", "1")], "one");
    check(t, &[("a", "2")], "two");
    check(t, &[("a", "3")], "other");
    check(t, &[], "other");
    check0(
        "{{if 0}}t{{else}}f{{end}}{{if 0.0}}t{{else}}f{{end}}{{if \"\"}}t{{else}}f{{end}}{{if now}}t{{end}}",
        "ffft",
    );
    check0(
        "{{if and 1 0}}t{{else}}f{{end}}{{if or 0 \"x\"}}t{{end}}{{if not 0}}t{{end}}",
        "ftt",
    );
    check0(
        "{{ and 1 2 3 }} {{ and 1 0 3 }} {{ or 0 \"\" }} {{ or 0 5 }}",
        "3 0  5",
    );
}

#[test]
fn and_or_short_circuit() {
    // `div 1 0` would fail if evaluated.
    check0("{{ and 0 (div 1 0) }}{{ or 1 (div 1 0) }}", "01");
}

#[test]
fn with_and_variables() {
    check(
        r#"{{ with .a }}[{{ . }}]{{ else }}none{{ end }}"#,
        &[("a", "x")],
        "[x]",
    );
    check(
        r#"{{ with .a }}[{{ . }}]{{ else }}none{{ end }}"#,
        &[],
        "none",
    );
    check0(r#"{{ with $x := "v" }}{{ $x }}{{ . }}{{ end }}"#, "vv");
    check0(r#"{{ with "" }}a{{ else with "b" }}{{ . }}{{ end }}"#, "b");
    check0(r#"{{ $x := 1 }}{{ $x = 2 }}{{ $x }}"#, "2");
    check0(
        r#"{{ $x := 1 }}{{ if true }}{{ $x = 3 }}{{ end }}{{ $x }}"#,
        "3",
    );
    check(
        r#"{{ $.a }}{{ with "z" }}{{ $.a }}{{ . }}{{ end }}"#,
        &[("a", "A")],
        "AAz",
    );
}

#[test]
fn range_over_lists_maps_and_ints() {
    check0(
        r#"{{ range $i, $v := fromJson "[\"a\",\"b\"]" }}{{ $i }}={{ $v }};{{ end }}"#,
        "0=a;1=b;",
    );
    check0(
        r#"{{ range fromJson "[1,2.5]" }}<{{ . }}>{{ end }}"#,
        "<1><2.5>",
    );
    check0(
        r#"{{ range $k, $v := fromJson "{\"b\":2,\"a\":1}" }}{{ $k }}:{{ $v }} {{ end }}"#,
        "a:1 b:2 ",
    );
    check0(
        r#"{{ range fromJson "[]" }}x{{ else }}empty{{ end }}"#,
        "empty",
    );
    check0("{{ range 3 }}{{ . }}{{ end }}", "012");
    check0("{{ range $i := 3 }}{{ $i }}{{ end }}", "012");
    check0("{{ range 0 }}x{{ else }}none{{ end }}", "none");
    check0(
        "{{ range 5 }}{{ if eq . 1 }}{{ continue }}{{ end }}{{ if eq . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}",
        "02",
    );
    check_err0(
        r#"{{ range "abc" }}{{ end }}"#,
        r#"template: line:1:9: executing "line" at <"abc">: range can't iterate over abc"#,
    );
    check_err0(
        "{{ range $i, $v := 3 }}{{ end }}",
        r#"template: line:1:19: executing "line" at <3>: can't use 3 to iterate over more than one variable"#,
    );
}

#[test]
fn parenthesised_pipelines_and_chains() {
    check0(r#"{{ (fromJson "{\"a\":{\"b\":\"c\"}}").a.b }}"#, "c");
    check0(
        r#"{{ $m := fromJson "{\"a\":{\"b\":7}}" }}{{ $m.a.b }} {{ $m.x }} {{ $m.x.y }}"#,
        "7 <no value> <no value>",
    );
    check0(r#"{{ printf "%d-%s" (add 1 2) ("x" | upper) }}"#, "3-X");
    check_err(
        "{{ .a.b }}",
        &[("a", "x")],
        // Go positions a field chain at its last element.
        r#"template: line:1:5: executing "line" at <.a.b>: can't evaluate field b in type string"#,
    );
}

#[test]
fn define_template_block() {
    check0(
        r#"{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" "x" }}{{ template "t" 2 }}"#,
        "[x][2]",
    );
    check0(r#"{{ block "b" "v" }}<{{ . }}>{{ end }}!"#, "<v>!");
    check_err0(
        r#"{{ template "nope" }}"#,
        r#"template: line:1:12: executing "line" at <{{template "nope"}}>: template "nope" not defined"#,
    );
    let e = run(
        r#"{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}"#,
        &[],
    )
    .unwrap_err();
    assert!(e.ends_with("exceeded maximum template depth (100)"), "{e}");
    assert_eq!(
        run(r#"{{define "a"}}x{{end}}{{define "a"}}y{{end}}"#, &[]).unwrap_err(),
        r#"template: line:1: template: multiple definition of template "a""#
    );
}

#[test]
fn literals() {
    check0(
        r#"{{ 'a' }} {{ 0x1F }} {{ 1e3 }} {{ 1_000 }} {{ 0o17 }} {{ 0b101 }} {{ -7 }} {{ 1.50 }} {{ true }} {{ `raw\n` }}"#,
        "97 31 1000 1000 15 5 -7 1.5 true raw\\n",
    );
    check0(r#"{{ "a\tb\u00e9\x41" }}"#, "a\tbéA");
    check0("{{ print nil }}", "<nil>");
}

#[test]
fn printing_action_results() {
    check0(
        "{{ 1.0 }} {{ 100000000.0 }} {{ 0.000001 }} {{ 123456.0 }} {{ 1234567.0 }}",
        "1 1e+08 1e-06 123456 1.234567e+06",
    );
    check0(
        r#"{{ fromJson "null" }}|{{ fromJson "{\"a\":[1,\"x\",null,true]}" }}"#,
        "<no value>|map[a:[1 x <nil> true]]",
    );
    check0(
        "{{ toDate \"2006\" \"bad\" }}",
        "0001-01-01 00:00:00 +0000 UTC",
    );
}

// ---- builtins ----

#[test]
fn builtin_comparisons() {
    check0(
        "{{ eq 1 1 }} {{ eq 1 2 3 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 0.5 }} {{ ge \"b\" \"a\" }}",
        "true true true true true true true",
    );
    check0(
        r#"{{ eq (index "a" 0) 97 }} {{ lt (add 1 1) 3 }}"#,
        "true true",
    );
    check_err(
        "{{ lt .status 500 }}",
        &[("status", "200")],
        r#"template: line:1:3: executing "line" at <lt .status 500>: error calling lt: incompatible types for comparison"#,
    );
    check_err0(
        "{{ lt true false }}",
        r#"template: line:1:3: executing "line" at <lt true false>: error calling lt: invalid type for comparison"#,
    );
    check_err0(
        "{{ eq 1 }}",
        r#"template: line:1:3: executing "line" at <eq 1>: error calling eq: missing argument for comparison"#,
    );
    check0(r#"{{ eq (fromJson "null") "x" }}"#, "false");
}

#[test]
fn builtin_len_index_slice() {
    check(
        r#"{{ len .a }} {{ len "héllo" }} {{ len (fromJson "[1,2]") }}"#,
        &[("a", "abc")],
        "3 6 2",
    );
    check(
        r#"{{ index . "a" }}|{{ index . "zz" }}|{{ index "abc" 1 }}"#,
        &[("a", "A")],
        "A||98",
    );
    check0(r#"{{ index (fromJson "{\"a\":[10,20]}") "a" 1 }}"#, "20");
    check0(
        r#"{{ slice "abcdef" 1 3 }} {{ slice "abcdef" 2 }} {{ slice (fromJson "[1,2,3]") 1 }}"#,
        "bc cdef [2 3]",
    );
    check_err0(
        r#"{{ index "abc" 5 }}"#,
        r#"template: line:1:3: executing "line" at <index "abc" 5>: error calling index: index out of range: 5"#,
    );
    check_err0(
        "{{ len 3 }}",
        r#"template: line:1:3: executing "line" at <len 3>: error calling len: len of type int"#,
    );
    check_err0(
        r#"{{ slice "abc" 2 1 }}"#,
        r#"template: line:1:3: executing "line" at <slice "abc" 2 1>: error calling slice: invalid slice index: 2 > 1"#,
    );
}

#[test]
fn builtin_print_family() {
    check0(r#"{{ print "a" 1 2 "b" "c" 3.5 }}"#, "a1 2bc3.5");
    check0(r#"{{ println "a" 1 }}"#, "a 1\n");
    check0(
        r#"{{ html "<a href='x'>&\"</a>" }}"#,
        "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;",
    );
    check0(
        r#"{{ js "a'b\"<c>=&\n" }}"#,
        "a\\'b\\\"\\u003Cc\\u003E\\u003D\\u0026\\u000A",
    );
    check0(r#"{{ urlquery "a b&c" }}"#, "a+b%26c");
    check_err0(
        "{{ call .x }}",
        r#"template: line:1:3: executing "line" at <call .x>: error calling call: non-function .x of type string"#,
    );
}

#[test]
fn printf_verbs() {
    check0(
        r#"{{ printf "%s|%d|%v|%q|%5.2f|%e|%g|%x|%X|%t|%c|%%" "s" 42 "v" "q" 3.14159 1234.5678 0.000012 255 "hi" true 65 }}"#,
        r#"s|42|v|"q"| 3.14|1.234568e+03|1.2e-05|ff|6869|true|A|%"#,
    );
    check0(
        r#"{{ printf "%-5s|%5s|%05d|%+d|%x|%#x|%o|%#o|%b|%08.3f|%.0f|%.3s" "ab" "ab" 42 42 -255 255 8 8 5 3.14159 2.5 "abcdef" }}"#,
        "ab   |   ab|00042|+42|-ff|0xff|10|010|101|0003.142|2|abc",
    );
    check0(
        r#"{{ printf "%d" "x" }}|{{ printf "%s" 5 }}|{{ printf "%d" }}|{{ printf "x" 1 }}|{{ printf "%!" }}|{{ printf "%" }}"#,
        "%!d(string=x)|%!s(int=5)|%!d(MISSING)|x%!(EXTRA int=1)|%!!(MISSING)|%!(NOVERB)",
    );
    check0(
        r#"{{ printf "%v %v %v" 1.0 (fromJson "[1,\"a\"]") nil }}"#,
        "1 [1 a] <nil>",
    );
    check0(
        r#"{{ printf "%[2]d %[1]d" 1 2 }}|{{ printf "%*d" 4 7 }}|{{ printf "%.*f" 1 2.25 }}"#,
        "2 1|   7|2.2",
    );
    check0(
        r#"{{ printf "%6.2g|%G|%.3e|%v" 123456.0 1e21 0.0 -0.0 }}"#,
        "1.2e+05|1E+21|0.000e+00|-0",
    );
    check0(
        r#"{{ printf "%q|%U|%#U|% x" 'x' 0x1F600 65 "ab" }}"#,
        "'x'|U+1F600|U+0041 'A'|61 62",
    );
    check0(
        r#"{{ printf "%T %T %T %T" 1 (add 1 1) "s" now }}"#,
        "int int64 string time.Time",
    );
    check0(
        r#"{{ printf "%s" now }}"#,
        "2024-01-02 03:04:05.123456789 +0000 UTC",
    );
}

// ---- typed arguments ----

#[test]
fn argument_type_errors() {
    check_err(
        r#"{{ repeat .n "x" }}"#,
        &[("n", "3")],
        r#"template: line:1:10: executing "line" at <.n>: wrong type for value; expected int; got string"#,
    );
    check_err0(
        r#"{{ repeat (add 1 2) "x" }}"#,
        // Go reports the last node evaluated inside the parentheses.
        r#"template: line:1:17: executing "line" at <2>: wrong type for value; expected int; got int64"#,
    );
    check_err0(
        r#"{{ repeat "3" "x" }}"#,
        r#"template: line:1:10: executing "line" at <"3">: expected integer; found "3""#,
    );
    check_err0(
        r#"{{ upper 3 }}"#,
        r#"template: line:1:9: executing "line" at <3>: expected string; found 3"#,
    );
    check_err0(
        r#"{{ 3 | upper }}"#,
        r#"template: line:1:7: executing "line" at <upper>: wrong type for value; expected string; got int"#,
    );
    check_err0(
        r#"{{ upper nil }}"#,
        r#"template: line:1:9: executing "line" at <nil>: cannot assign nil to string"#,
    );
    check_err0(
        r#"{{ upper (fromJson "null") }}"#,
        r#"template: line:1:19: executing "line" at <"null">: invalid value; expected string"#,
    );
    check_err0(
        r#"{{ round 1.5 1.5 }}"#,
        r#"template: line:1:13: executing "line" at <1.5>: expected integer; found 1.5"#,
    );
    check0(r#"{{ repeat 2.0 "ab" }}{{ round 2.567 2 }}"#, "abab2.57");
    check_err0(
        r#"{{ "x" 1 }}"#,
        r#"template: line:1:3: executing "line" at <"x">: can't give argument to non-function "x""#,
    );
    check_err0(
        "{{ unixEpoch \"x\" }}",
        r#"template: line:1:13: executing "line" at <"x">: can't handle "x" for arg of type time.Time"#,
    );
}

// ---- parse errors ----

#[test]
fn parse_errors_worded_like_go() {
    let cases = [
        ("{{ .a }", r#"template: line:1: unexpected "}" in operand"#),
        ("{{.a}", "template: line:1: bad character U+007D '}'"),
        ("{{ .a ", "template: line:1: unclosed action"),
        ("{{ if .a }}x", "template: line:1: unexpected EOF"),
        ("{{ end }}", "template: line:1: unexpected {{end}}"),
        ("{{ else }}", "template: line:1: unexpected {{else}}"),
        (
            "{{ nofunc }}",
            r#"template: line:1: function "nofunc" not defined"#,
        ),
        ("{{ $x }}", r#"template: line:1: undefined variable "$x""#),
        ("{{ }}", "template: line:1: missing value for command"),
        (
            "{{ .a | 3 }}",
            "template: line:1: non executable command in pipeline stage 2",
        ),
        (
            "{{ break }}",
            "template: line:1: {{break}} outside {{range}}",
        ),
        ("{{ (1 }}", "template: line:1: unclosed left paren"),
        (
            "{{ 1) }}",
            "template: line:1: unexpected right paren U+0029 ')'",
        ),
        (
            "{{ \"abc }}",
            "template: line:1: unterminated quoted string",
        ),
        (
            "{{ 'ab' }}",
            "template: line:1: malformed character constant: 'ab'",
        ),
        ("{{ 3x }}", r#"template: line:1: bad number syntax: "3x""#),
        (
            "{{ 99999999999999999999 }}",
            "template: line:1: integer overflow: 99999999999999999999",
        ),
        (
            "{{ # }}",
            r##"template: line:1: unexpected "#" in command"##,
        ),
        (
            "{{ \u{1} }}",
            "template: line:1: unrecognized character in action: U+0001",
        ),
        (
            "{{/* x */ y}}",
            "template: line:1: comment ends before closing delimiter",
        ),
        ("{{/* x ", "template: line:1: unclosed comment"),
        (
            "{{ \"a\".b }}",
            r#"template: line:1: unexpected . after term "\"a\"""#,
        ),
        (
            "{{ range $a, $b, $c := . }}{{end}}",
            "template: line:1: too many declarations in range",
        ),
        (
            "{{ $a, $b := 1 }}",
            "template: line:1: too many declarations in command",
        ),
        ("{{ : }}", "template: line:1: expected :="),
        ("\n\n{{ if }}", "template: line:3: missing value for if"),
        (
            "{{ .a\n\n",
            "template: line:3: unclosed action started at line:1",
        ),
        ("{{ \"\\q\" }}", "template: line:1: invalid syntax"),
        (
            "{{ 1+2i }}",
            "template: line:1: complex number constants are not supported: 1+2i",
        ),
    ];
    for (t, want) in cases {
        match Template::parse(t) {
            Ok(_) => panic!("{t:?} parsed, wanted {want:?}"),
            Err(e) => assert_eq!(e.to_string(), want, "template {t:?}"),
        }
    }
    assert_eq!(
        Template::parse_named("label", "{{ .a")
            .unwrap_err()
            .to_string(),
        "template: label:1: unclosed action"
    );
}

#[test]
fn field_names_listed() {
    let t = Template::parse(
        r#"{{ .a }}{{ if .b }}{{ .c | upper }}{{ else }}{{ (.d) }}{{ end }}{{ .a }}"#,
    )
    .unwrap();
    assert_eq!(t.field_names(), ["a", "b", "c", "d"]);
}

// ---- sprig and Loki functions ----

#[test]
fn string_functions() {
    check0(
        r#"{{ title "hello wORLD foo_bar x-y" }}"#,
        "Hello WORLD Foo_bar X-Y",
    );
    check0(r#"{{ upper "straße" }} {{ lower "ÀB" }}"#, "STRAßE àb");
    check0(
        r#"{{ TrimLeft "xxaxx" "x" }} {{ TrimRight "xxaxx" "x" }} {{ Trim "xxaxx" "x" }} {{ TrimSpace "  a  " }}"#,
        "axx xxa a a",
    );
    check0(
        r#"{{ TrimPrefix "prefix-a" "prefix-" }} {{ TrimSuffix "a.log" ".log" }}"#,
        "a a",
    );
    check0(
        r#"{{ Replace "aaaa" "a" "b" 2 }} {{ Replace "ab" "" "-" -1 }} {{ replace "" "x" "ab" }}"#,
        "bbaa -a-b- xaxbx",
    );
    check0(
        r#"{{ trimAll "$" "$5.00$" }} {{ contains "b" "abc" }}"#,
        "5.00 true",
    );
    check0(
        r#"{{ regexReplaceAll "a*" "baaac" "X" }} {{ count "a*" "baaac" }}"#,
        "XbXcX 3",
    );
    check0(
        r#"{{ regexReplaceAll "(?P<w>\\w+)@" "joe@x" "${w} at " }}"#,
        "joe at x",
    );
    check0(r#"{{ urldecode "a%20b+c" }}"#, "a b c");
    check_err0(
        r#"{{ urldecode "%zz" }}"#,
        r#"template: line:1:3: executing "line" at <urldecode "%zz">: error calling urldecode: invalid URL escape "%zz""#,
    );
    check0(
        r#"{{ b64dec "!!!!" }}"#,
        "illegal base64 data at input byte 0",
    );
    check0(
        r#"{{ b64enc "" }}|{{ b64enc "a" }}|{{ b64enc "ab" }}"#,
        "|YQ==|YWI=",
    );
}

#[test]
fn numeric_functions_use_cast_rules() {
    check0(r#"{{ add "1" "2.9" "x" 0x10 }}"#, "19");
    check0(
        r#"{{ add 1 true nil }} {{ int "0x1f" }} {{ int "1_000" }} {{ int "-3.7" }} {{ float64 "1e3" }}"#,
        "2 31 1000 -3 1000",
    );
    check0(
        r#"{{ addf 0.1 0.2 }} {{ subf 1 0.9 }} {{ mulf 1.1 1.1 }} {{ divf 1 3 }} {{ divf 2 3 }}"#,
        "0.3 0.1 1.21 0.3333333333333333 0.6666666666666667",
    );
    check0(
        r#"{{ max 1 "7" 3 }} {{ min 4 -2 }} {{ maxf 1 2.5 }} {{ minf "x" 3 }}"#,
        "7 -2 2.5 0",
    );
    check0(
        r#"{{ ceil "1.1" }} {{ floor -1.5 }} {{ round 2.5 0 }} {{ round -2.5 0 }} {{ div -7 2 }} {{ mod -7 2 }}"#,
        "2 -2 3 -3 -3 -1",
    );
    check_err0(
        "{{ div 1 0 }}",
        r#"template: line:1:3: executing "line" at <div 1 0>: error calling div: runtime error: integer divide by zero"#,
    );
    check_err0(
        "{{ divf 1 0 }}",
        r#"template: line:1:3: executing "line" at <divf 1 0>: error calling divf: decimal division by zero"#,
    );
    check_err0(
        r#"{{ addf "NaN" 1 }}"#,
        r#"template: line:1:3: executing "line" at <addf "NaN" 1>: error calling addf: Cannot create a Decimal from NaN"#,
    );
    check0(
        r#"{{ default "d" 0 }} {{ default "d" "x" }} {{ default "d" }} {{ default "d" false }} {{ default 5 now | unixEpoch }}"#,
        "d x d d 1704164645",
    );
}

#[test]
fn bytes_and_duration() {
    check0(
        r#"{{ bytes "1.5KiB" }} {{ bytes "1,000 B" }} {{ bytes "2 gb" }} {{ bytes "10" }}"#,
        "1536 1000 2e+09 10",
    );
    check_err0(
        r#"{{ bytes "1 XB" }}"#,
        r#"template: line:1:3: executing "line" at <bytes "1 XB">: error calling bytes: unhandled size name: xb"#,
    );
    check_err0(
        r#"{{ bytes "kb" }}"#,
        r#"template: line:1:3: executing "line" at <bytes "kb">: error calling bytes: strconv.ParseFloat: parsing "": invalid syntax"#,
    );
    check0(
        r#"{{ duration "1h30m" }} {{ duration "-1.5s" }} {{ duration "0" }} {{ duration "1µs" }}"#,
        "5400 -1.5 0 1e-06",
    );
    check_err0(
        r#"{{ duration "1" }}"#,
        r#"template: line:1:3: executing "line" at <duration "1">: error calling duration: time: missing unit in duration "1""#,
    );
    check_err0(
        r#"{{ duration "1x" }}"#,
        r#"template: line:1:3: executing "line" at <duration "1x">: error calling duration: time: unknown unit "x" in duration "1x""#,
    );
    check_err0(
        r#"{{ duration "" }}"#,
        r#"template: line:1:3: executing "line" at <duration "">: error calling duration: time: invalid duration """#,
    );
}

#[test]
fn dates_and_zones() {
    let ts = r#"(toDate "2006-01-02 15:04:05" "2021-03-04 05:06:07")"#;
    check0(
        &format!(r#"{{{{ date "Mon Jan _2 3:04PM 2006 MST -07:00 Z07:00 .000 pm" {ts} }}}}"#),
        "Thu Mar  4 5:06AM 2021 UTC +00:00 Z .000 am",
    );
    check0(
        &format!(r#"{{{{ date "January Monday 06 002 __2 15h" {ts} }}}}"#),
        "March Thursday 21 063  63 05h",
    );
    check0(
        r#"{{ toDateInZone "2006-01-02 15:04" "America/New_York" "2021-07-01 12:00" }}"#,
        "2021-07-01 12:00:00 -0400 EDT",
    );
    check0(
        r#"{{ toDateInZone "2006-01-02 15:04" "America/New_York" "2021-07-01 12:00" | unixEpoch }}"#,
        "1625155200",
    );
    check0(
        r#"{{ toDateInZone "2006-01-02 15:04" "Etc/GMT-2" "2021-07-01 12:00" | unixEpoch }}"#,
        "1625133600",
    );
    check0(
        r#"{{ toDateInZone "2006-01-02 15:04" "Not/AZone" "2021-07-01 12:00" | unixEpoch }}"#,
        "1625140800",
    );
    check0(
        r#"{{ toDate "2006-01-02T15:04:05Z07:00" "2021-07-01T12:00:00+02:00" }}"#,
        "2021-07-01 12:00:00 +0200 +0200",
    );
    check0(
        r#"{{ toDate "2006-01-02T15:04:05.000Z" "2021-07-01T12:00:00.5Z" | unixEpochMillis }}"#,
        "-62135596800000",
    );
    check0(
        r#"{{ toDate "Jan 2 2006 3:04:05.999 PM" "feb 29 2024 1:02:03.25 PM" | unixEpochMillis }}"#,
        "1709211723250",
    );
    check0(
        r#"{{ toDate "2006-01-02" "2023-02-29" | unixEpoch }}"#,
        "-62135596800",
    );
    check0(
        r#"{{ date "2006" 0 }} {{ date "2006" "string means now" }}"#,
        "1970 2024",
    );
    check0(
        r#"{{ unixEpochNanos (unixToTime "-100000000") }}"#,
        "-100000000000000000",
    );
}

// ---- hostile input ----

#[test]
fn nesting_is_capped() {
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        Template::parse(&deep).unwrap_err().to_string(),
        "template: line:1: max expression depth exceeded"
    );
    let ifs = format!("{}x{}", "{{if 1}}".repeat(3000), "{{end}}".repeat(3000));
    assert_eq!(
        Template::parse(&ifs).unwrap_err().to_string(),
        "template: line:1: max expression depth exceeded"
    );
    let ok = format!("{{{{ {}1{} }}}}", "(".repeat(90), ")".repeat(90));
    check0(&ok, "1");
}

#[test]
fn huge_outputs_are_refused() {
    let e = run(r#"{{ repeat 1000000000 "abc" }}"#, &[]).unwrap_err();
    assert!(
        e.ends_with(&format!(
            "error calling repeat: output would exceed {MAX_OUTPUT_BYTES} bytes"
        )),
        "{e}"
    );
    let e = run(r#"{{ repeat -1 "abc" }}"#, &[]).unwrap_err();
    assert!(
        e.ends_with("error calling repeat: strings: negative Repeat count"),
        "{e}"
    );
    let e = run(r#"{{ alignLeft 999999999999 "a" }}"#, &[]).unwrap_err();
    assert!(e.contains("output would exceed"), "{e}");
    let e = run(r#"{{ range 100000000 }}{{ . }}{{ end }}"#, &[]).unwrap_err();
    assert!(e.contains("steps") || e.contains("output exceeds"), "{e}");
    let e = run(r#"{{ $s := repeat 9000000 "a" }}{{ $s }}{{ $s }}"#, &[]).unwrap_err();
    assert!(e.contains("template output exceeds"), "{e}");
    // Go gives up on widths of eight digits and more, and swallows the rest.
    check0(
        r#"{{ printf "%99999999d" 1 }}"#,
        "%!(NOVERB)%!(EXTRA int=1)",
    );
    assert_eq!(
        run(r#"{{ printf "%1000001d" 1 }}"#, &[]).map(|s| s.len()),
        Ok(1_000_001)
    );
}

#[test]
fn invalid_utf8_never_panics() {
    check0(r#"{{ "\xff\xfe" }}"#, "\u{FFFD}\u{FFFD}");
    check0(r#"{{ b64dec "/w==" }}"#, "\u{FFFD}");
    check0(
        r#"{{ urldecode "%C3" }}|{{ slice "é" 1 }}"#,
        "\u{FFFD}|\u{FFFD}",
    );
    check0(r#"{{ printf "%x" (urldecode "%ff") }}"#, "efbfbd");
}

#[test]
fn arbitrary_input_never_panics() {
    // A crude fuzz: every prefix of a few dense templates must parse or fail
    // cleanly, and execute or fail cleanly.
    let seeds = [
        r#"{{- range $i, $v := fromJson "[1,{\"a\":2}]" -}}{{ if eq $i 1 }}{{ $v.a | printf "%05.1f" }}{{ else }}{{ . }}{{ end }}{{- end }}"#,
        r#"{{ define "x" }}{{ .a | default "d" | upper }}{{ end }}{{ template "x" . }}{{ block "y" 'z' }}{{ . }}{{ end }}"#,
        r#"{{/* c */}}{{ $x := (index . "a") }}{{ with $x }}{{ slice . 0 1 }}{{ else }}{{ len "é" }}{{ end }}{{ 0x1p-2 }}"#,
    ];
    for seed in seeds {
        for end in 0..=seed.len() {
            if !seed.is_char_boundary(end) {
                continue;
            }
            let _ = run(&seed[..end], &[("a", "va")]);
            let _ = run(&seed[end..], &[("a", "va")]);
        }
    }
}
