//! Cases from Loki's `filter_test.go` (`Test_SimplifiedRegex`), with the
//! expected filter shapes and answers checked by hand against its
//! simplifier.

use super::*;

fn shape(f: &Filter) -> String {
    match f {
        Filter::True => "true".into(),
        Filter::Exists => "exists".into(),
        Filter::Contains { needle, fold } => {
            format!("c({needle}{})", if *fold { ",i" } else { "" })
        }
        Filter::Equal { needle, fold } => format!("eq({needle}{})", if *fold { ",i" } else { "" }),
        Filter::Regex(_) => "re".into(),
        Filter::Pattern(_) => "pattern".into(),
        Filter::Ip(_) => "ip".into(),
        Filter::Not(f) => format!("not({})", shape(f)),
        Filter::Or(a, b) => format!("or({},{})", shape(a), shape(b)),
        Filter::And(a, b) => format!("and({},{})", shape(a), shape(b)),
    }
}

fn check(re: &str, expect: &str) {
    let f = regex_filter(re, false).expect("valid regex");
    assert_eq!(shape(&f), expect, "{re}");
}

#[test]
fn rewritten_line_regexes() {
    check("foo", "c(foo)");
    check("(foo)", "c(foo)");
    check("(foo|ba)", "or(c(foo),c(ba))");
    check("(foo|ba|ar)", "or(or(c(foo),c(ba)),c(ar))");
    check("(foo|(ba|ar))", "or(or(c(foo),c(ba)),c(ar))");
    check("foo.*", "c(foo)");
    check(".*foo", "c(foo)");
    check(".*foo.*", "c(foo)");
    check("(.*)(foo).*", "c(foo)");
    check("(foo.*|.*ba)", "or(c(foo),c(ba))");
    check("(?:.*foo.*|bar)", "or(c(foo),c(bar))");
    check("(?P<foo>.*foo.*|bar)", "or(c(foo),c(bar))");
    check(".*foo.*|bar|buzz", "or(c(foo),or(c(bar),c(buzz)))");
    check(".*foo.*|bar|uzz", "or(or(c(foo),c(bar)),c(uzz))");
    check(
        "foo|bar|b|buzz|zz",
        "or(or(c(foo),or(or(c(bar),c(b)),c(buzz))),c(zz))",
    );
    check("f|foo|foobar", "or(c(f),or(c(foo),c(foobar)))");
    check("f.*|foobar.*|.*buzz", "or(or(c(f),c(foobar)),c(buzz))");
    check(".*", "true");
    check(".*|.*", "true");
    check(".*||||", "true");
    check("", "true");
    check("(?i)foo", "c(foo,i)");
    check("(?i)界", "c(界,i)");
    check("(?i)ïB", "c(ïb,i)");
    check(
        "(?:)foo|fatal|exception",
        "or(or(c(foo),c(fatal)),c(exception))",
    );
    check(
        "(?i)foo|fatal|exception",
        "or(or(c(foo,i),c(fatal,i)),c(exception,i))",
    );
    check("(?i)f|foo|foobar", "or(c(f,i),or(c(foo,i),c(foobar,i)))");
    check("(?i).*foo.*", "c(foo,i)");
    check(".+", "exists");
    // Not rewritten.
    for re in [
        "[a-z]+foo",
        ".+foo",
        ".*fo.*o",
        "a|b",
        "^foo",
        "foo$",
        "\\d+",
        "(?s).*foo",
    ] {
        check(re, "re");
    }
}

#[test]
fn rewrites_keep_lokis_answers() {
    let m = |re: &str, line: &str| regex_filter(re, false).expect("valid").matches(line);
    // `.+` is "not empty": a line of newlines passes, unlike the regex.
    assert!(m(".+", "\n"));
    assert!(!m(".+", ""));
    // `true or x` is `x` in Loki's or-filter.
    assert!(!m(".*|foo", "bar"));
    assert!(m(".*|foo", "a foo"));
    // Case-insensitive literals.
    assert!(m("(?i)ERROR", "an Error here"));
    assert!(m("(?i)ïB", "xÏbx"));
    assert!(!m("(?i)foo", "fo"));
    // Regexes keep Go's ASCII classes.
    assert!(m("\\d", "7"));
    assert!(!m("\\d", "٣"));
    assert!(!m("\\w", "é"));
    assert!(m("^a\\sb$", "a\tb"));
}

#[test]
fn label_rewrites() {
    let m = |re: &str, v: &str| regex_filter(re, true).expect("valid").matches(v);
    // A literal is an equality.
    assert!(m("api", "api"));
    assert!(!m("api", "my-api"));
    // A concatenation is an unanchored substring test, as in Loki.
    assert!(m("api.*", "my-api-server"));
    assert!(m(".*api", "api-server"));
    // `.*` matches anything, newlines included; the anchored regex would not.
    assert!(m(".*", "a\nb"));
    // Not rewritten: anchored.
    assert!(m("a.c", "abc"));
    assert!(!m("a.c", "xabc"));
    assert!(m("2..", "200"));
    assert!(!m("2..", "1200"));
    // `foo|bar` stays equalities.
    assert!(m("foo|bar", "bar"));
    assert!(!m("foo|bar", "barn"));
    // `f|foo`: the common prefix makes it a concatenation, hence substrings.
    assert!(m("f|foo", "xfx"));
}

#[test]
fn bad_regexes_are_refused_in_gos_words() {
    assert_eq!(
        regex_filter("(foo", false).err().as_deref(),
        Some("error parsing regexp: missing closing ): `(foo`")
    );
    assert!(regex_filter("a**", false).is_err());
    assert!(regex_filter("[a", false).is_err());
}

#[test]
fn contains_lower_matches_lokis() {
    assert!(contains_lower("Hello World", "world"));
    assert!(contains_lower("ÀB", "àb"));
    assert!(!contains_lower("abc", "abcd"));
    assert!(contains_lower("x", ""));
}

#[test]
fn negation_and_or() {
    let f = contains_filter("a", false)
        .or(contains_filter("b", false))
        .not();
    assert_eq!(shape(&f), "and(not(c(a)),not(c(b)))");
    assert!(!f.matches("xb"));
    assert!(f.matches("xyz"));
    // `!= ""` drops everything, as in Loki.
    assert!(!contains_filter("", false).not().matches("x"));
}
