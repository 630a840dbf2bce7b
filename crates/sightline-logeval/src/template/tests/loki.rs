//! Loki's own formatter cases (`fmt_test.go`), rewritten.

use super::*;

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
