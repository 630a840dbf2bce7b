//! Parse errors worded as Go words them, and field names.

use super::*;

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
