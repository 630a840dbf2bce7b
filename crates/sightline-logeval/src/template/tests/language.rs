//! The template language: trimming, conditionals, variables, range, define.

use super::*;

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
