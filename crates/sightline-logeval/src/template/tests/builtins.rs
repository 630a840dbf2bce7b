//! Go's builtins, `printf`, and typed-argument errors.

use super::*;

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
