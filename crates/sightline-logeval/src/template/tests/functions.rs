//! Sprig's and Loki's functions.

use super::*;

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
