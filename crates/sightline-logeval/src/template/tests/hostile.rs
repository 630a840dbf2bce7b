//! Hostile input: caps on nesting and output, invalid UTF-8, fuzzing.

use super::*;

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
