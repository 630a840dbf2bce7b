//! The cases of log queries: filters, parsers, label filters,
//! formatters, `__error__`, limit and direction.

use super::*;

pub(super) fn cases() -> Vec<Case> {
    let mut v = vec![
        // ------------------------------------------------ line filters
        case(
            "selector",
            r#"{app="api"}"#,
            LOG,
            Want::Streams(vec![stream(
                labels(API, &[]),
                &[(5000, A5), (4000, A4), (3000, A3), (2000, A2), (1000, A1)],
            )]),
        ),
        case("selector", r#"{app="zeta"}"#, LOG, Want::Streams(vec![])).other(Want::Streams(vec![
            stream(labels(ZETA, &[]), &[(1000, Z1)]),
        ])),
        case(
            "line filter",
            r#"{app="api"} |= "GET" != "/a""#,
            LOG,
            Want::Streams(vec![stream(labels(API, &[]), &[(5000, A5), (3000, A3)])]),
        ),
        case(
            "line filter",
            r#"{app="api"} |~ `status=(4|5)\d\d`"#,
            LOG,
            Want::Streams(vec![stream(labels(API, &[]), &[(3000, A3), (2000, A2)])]),
        ),
        case(
            "line filter",
            r#"{app="api"} !~ "level=(info|debug)""#,
            LOG,
            Want::Streams(vec![stream(labels(API, &[]), &[(4000, A4), (2000, A2)])]),
        ),
        case(
            "line filter",
            r#"{app="api"} |= "POST" or "bare""#,
            LOG,
            Want::Streams(vec![stream(labels(API, &[]), &[(3000, A3), (2000, A2)])]),
        ),
        case(
            "line filter",
            r#"{app="db"} |= "took" or "full" != "POST""#,
            LOG,
            Want::Streams(vec![stream(labels(DB, &[]), &[(2000, C2), (1000, C1)])]),
        ),
        case(
            "line filter",
            r#"{app="api"} |~ "(?i)LEVEL=WARN""#,
            LOG,
            Want::Streams(vec![stream(labels(API, &[]), &[(4000, A4)])]),
        ),
        case(
            "pattern filter",
            r#"{app="db"} |> "<_> from <_> took <_>""#,
            LOG,
            Want::Streams(vec![stream(labels(DB, &[]), &[(3000, C3), (1000, C1)])]),
        ),
        case(
            "pattern filter",
            r#"{app="db"} !> "<_> took <_>""#,
            LOG,
            Want::Streams(vec![stream(
                labels(DB, &[]),
                &[(6000, C5), (4000, C4), (2000, C2)],
            )]),
        ),
        case(
            "ip filter",
            r#"{app="db"} |= ip("192.168.1.0/24")"#,
            LOG,
            Want::Streams(vec![stream(labels(DB, &[]), &[(1000, C1)])]),
        ),
        case(
            "ip filter",
            r#"{app="db"} |= ip("2001:db8::/32")"#,
            LOG,
            Want::Streams(vec![stream(labels(DB, &[]), &[(3000, C3)])]),
        ),
        case(
            "ip filter",
            r#"{app="db"} != ip("10.0.0.0-10.0.0.10")"#,
            LOG,
            Want::Streams(vec![stream(
                labels(DB, &[]),
                &[(6000, C5), (4000, C4), (3000, C3), (1000, C1)],
            )]),
        ),
        case(
            "ip filter",
            r#"{app="db"} |= ip("172.16.0.0/12")"#,
            LOG,
            Want::Streams(vec![]),
        ),
        case(
            "decolorize",
            r#"{app="db"} |= "ERROR" | decolorize"#,
            LOG,
            Want::Streams(vec![stream(
                labels(DB, &[]),
                &[(2000, "ERROR disk full on 10.0.0.5")],
            )]),
        ),
        case(
            "decolorize",
            r#"{app="db"} | decolorize |= "INFO all""#,
            LOG,
            Want::Streams(vec![stream(labels(DB, &[]), &[(4000, "INFO all good")])]),
        ),
        // ------------------------------------------------ json
        case(
            "json",
            r#"{app="web"} | json"#,
            LOG,
            Want::Streams(vec![
                stream(labels(WEB, B1P), &[(1000, B1)]),
                stream(labels(WEB, B2P), &[(2000, B2)]),
                stream(labels(WEB, B3P), &[(3000, B3)]),
                stream(labels(WEB, JSON_ERR), &[(4000, B4)]),
                stream(labels(WEB, B5P), &[(5000, B5)]),
            ]),
        ),
        case(
            "json",
            r#"{app="web"} | json | __error__="""#,
            LOG,
            Want::Streams(vec![
                stream(labels(WEB, B1P), &[(1000, B1)]),
                stream(labels(WEB, B2P), &[(2000, B2)]),
                stream(labels(WEB, B3P), &[(3000, B3)]),
                stream(labels(WEB, B5P), &[(5000, B5)]),
            ]),
        ),
        case(
            "json",
            r#"{app="web"} |= "user" | json lvl="level", uid="user.id""#,
            LOG,
            Want::Streams(vec![
                stream(labels(WEB, &[("lvl", "info"), ("uid", "7")]), &[(1000, B1)]),
                stream(
                    labels(WEB, &[("lvl", "error"), ("uid", "8")]),
                    &[(2000, B2)],
                ),
                stream(labels(WEB, &[("lvl", "warn"), ("uid", "9")]), &[(5000, B5)]),
            ]),
        ),
        case(
            "json",
            r#"{app="web"} |= "Ann" | json first_tag="tags[0]", name="user.name", user"#,
            LOG,
            Want::Streams(vec![stream(
                labels(
                    WEB,
                    &[
                        ("first_tag", "x"),
                        ("name", "Ann"),
                        ("user", r#"{"id":7,"name":"Ann"}"#),
                    ],
                ),
                &[(1000, B1)],
            )]),
        ),
        case(
            "json",
            r#"{app="web"} |= "not json" | json lvl="level""#,
            LOG,
            Want::Streams(vec![stream(
                labels(WEB, &[("__error__", "JSONParserErr")]),
                &[(4000, B4)],
            )]),
        ),
        case(
            "json",
            r#"{app="web"} | json | user_id >= 8 | line_format "{{.user_id}}:{{.msg}}""#,
            LOG,
            Want::Streams(vec![
                stream(labels(WEB, B2P), &[(2000, "8:fail")]),
                stream(labels(WEB, B5P), &[(5000, "9:café")]),
            ]),
        ),
        // ------------------------------------------------ logfmt
        case(
            "logfmt",
            r#"{app="api"} | logfmt"#,
            LOG,
            Want::Streams(vec![
                stream(labels(API, A1P), &[(1000, A1)]),
                stream(labels(API, A2P), &[(2000, A2)]),
                stream(labels(API, A3P), &[(3000, A3)]),
                stream(labels(API, A4P), &[(4000, A4)]),
                stream(labels(API, A5P), &[(5000, A5)]),
            ]),
        ),
        case(
            "logfmt",
            r#"{app="api"} |= "bare" | logfmt --keep-empty"#,
            LOG,
            Want::Streams(vec![stream(lp(API, A3P, &[("bare", "")]), &[(3000, A3)])]),
        ),
        case(
            "logfmt",
            r#"{app="api"} |= "POST" | logfmt code="status", level"#,
            LOG,
            Want::Streams(vec![stream(
                labels(API, &[("code", "500"), ("level", "error")]),
                &[(2000, A2)],
            )]),
        ),
        case(
            "logfmt",
            r#"{app="worker"} | logfmt"#,
            LOG,
            Want::Streams(vec![
                stream(
                    lp(
                        WORKER,
                        D1_MD,
                        &[
                            ("msg", "started"),
                            ("id", "1"),
                            ("trace_id_extracted", "zzz"),
                        ],
                    ),
                    &[(2000, D1)],
                ),
                stream(
                    lp(WORKER, D2_MD, &[("msg", "finished"), ("id", "1")]),
                    &[(4000, D2)],
                ),
                stream(
                    lp(WORKER, D3_MD, &[("msg", "started"), ("id", "2")]),
                    &[(6000, D3)],
                ),
            ]),
        ),
        case(
            "logfmt",
            r#"{app="worker"} |= "bad" | logfmt --strict"#,
            LOG,
            Want::Streams(vec![stream(
                lp(
                    WORKER,
                    D3_MD,
                    &[
                        ("msg", "started"),
                        ("id", "2"),
                        ("__error__", "LogfmtParserErr"),
                        (
                            "__error_details__",
                            "logfmt syntax error at pos 18 : unexpected '='",
                        ),
                    ],
                ),
                &[(6000, D3)],
            )]),
        ),
        // ------------------------------------------------ regexp, pattern, unpack
        case(
            "regexp",
            r#"{app="db"} | regexp `(?P<method>GET|POST) (?P<path>\S+) from (?P<ip>\S+)`"#,
            LOG,
            Want::Streams(vec![
                stream(
                    labels(
                        DB,
                        &[
                            ("method", "GET"),
                            ("path", "/index.html"),
                            ("ip", "192.168.1.10"),
                        ],
                    ),
                    &[(1000, C1)],
                ),
                stream(
                    labels(
                        DB,
                        &[("method", "POST"), ("path", "/api"), ("ip", "2001:db8::1")],
                    ),
                    &[(3000, C3)],
                ),
                stream(labels(DB, &[]), &[(6000, C5), (4000, C4), (2000, C2)]),
            ]),
        ),
        case(
            "pattern",
            r#"{app="db"} | pattern "<method> <path> from <ip> took <dur>" | dur != """#,
            LOG,
            Want::Streams(vec![
                stream(
                    labels(
                        DB,
                        &[
                            ("method", "GET"),
                            ("path", "/index.html"),
                            ("ip", "192.168.1.10"),
                            ("dur", "12ms"),
                        ],
                    ),
                    &[(1000, C1)],
                ),
                stream(
                    labels(
                        DB,
                        &[
                            ("method", "POST"),
                            ("path", "/api"),
                            ("ip", "2001:db8::1"),
                            ("dur", "40ms"),
                        ],
                    ),
                    &[(3000, C3)],
                ),
            ]),
        ),
        case(
            "pattern",
            r#"{app="db"} | pattern "<method> <_> from <ip> took <dur>" | dur > 20ms"#,
            LOG,
            Want::Streams(vec![stream(
                labels(
                    DB,
                    &[("method", "POST"), ("ip", "2001:db8::1"), ("dur", "40ms")],
                ),
                &[(3000, C3)],
            )]),
        ),
        case(
            "unpack",
            r#"{app="packed"} | unpack"#,
            LOG,
            Want::Streams(vec![
                stream(
                    labels(PACKED, &[("pod", "p-1"), ("level", "info")]),
                    &[(1000, "original line")],
                ),
                stream(labels(PACKED, &[("pod", "p-2")]), &[(2000, "second")]),
            ]),
        ),
        // ------------------------------------------------ label filters
        case(
            "label filter",
            r#"{app="api"} | logfmt | status >= 400"#,
            LOG,
            Want::Streams(vec![
                stream(labels(API, A2P), &[(2000, A2)]),
                stream(labels(API, A3P), &[(3000, A3)]),
                stream(
                    lp(
                        API,
                        A5P,
                        &[
                            ("__error__", "LabelFilterErr"),
                            (
                                "__error_details__",
                                r#"strconv.ParseFloat: parsing "abc": invalid syntax"#,
                            ),
                        ],
                    ),
                    &[(5000, A5)],
                ),
            ]),
        ),
        case(
            "label filter",
            r#"{app="api"} | logfmt | status >= 400 | __error__="""#,
            LOG,
            Want::Streams(vec![
                stream(labels(API, A2P), &[(2000, A2)]),
                stream(labels(API, A3P), &[(3000, A3)]),
            ]),
        ),
        case(
            "label filter",
            r#"{app="api"} | logfmt | dur > 1s | drop __error_details__"#,
            LOG,
            Want::Streams(vec![
                stream(labels(API, A1P), &[(1000, A1)]),
                stream(labels(API, A3P), &[(3000, A3)]),
                stream(
                    lp(API, A5P, &[("__error__", "LabelFilterErr")]),
                    &[(5000, A5)],
                ),
            ]),
        ),
        case(
            "label filter",
            r#"{app="api"} | logfmt | dur <= 500ms | __error__="" | keep app"#,
            LOG,
            Want::Streams(vec![stream(app("api"), &[(4000, A4), (2000, A2)])]),
        ),
        case(
            "label filter",
            r#"{app="api"} | logfmt | size > 2KB | __error__="" | keep app, size"#,
            LOG,
            Want::Streams(vec![
                stream(
                    labels(&[("app", "api")], &[("size", "20KB")]),
                    &[(1000, A1)],
                ),
                stream(labels(&[("app", "api")], &[("size", "2MB")]), &[(4000, A4)]),
            ]),
        ),
        case(
            "label filter",
            r#"{app="api"} | logfmt | level=~"info|warn", method!="POST" | keep app"#,
            LOG,
            Want::Streams(vec![stream(
                app("api"),
                &[(4000, A4), (3000, A3), (1000, A1)],
            )]),
        ),
        case(
            "label filter",
            r#"{app="api"} | logfmt | level="error" or path="/c" | keep app"#,
            LOG,
            Want::Streams(vec![stream(app("api"), &[(3000, A3), (2000, A2)])]),
        ),
        case(
            "label filter",
            r#"{app="api"} | logfmt | level="debug" or (status=200 and dur<1s)"#,
            LOG,
            Want::Streams(vec![
                stream(labels(API, A4P), &[(4000, A4)]),
                stream(labels(API, A5P), &[(5000, A5)]),
            ]),
        ),
        case(
            "label filter",
            r#"{app="api"} | logfmt | path!~"/(a|b)" | status > 300 | keep app, path"#,
            LOG,
            Want::Streams(vec![
                stream(labels(&[("app", "api")], &[("path", "/c")]), &[(3000, A3)]),
                stream(
                    labels(
                        &[("app", "api")],
                        &[
                            ("path", "/d"),
                            ("__error__", "LabelFilterErr"),
                            (
                                "__error_details__",
                                r#"strconv.ParseFloat: parsing "abc": invalid syntax"#,
                            ),
                        ],
                    ),
                    &[(5000, A5)],
                ),
            ]),
        ),
        case(
            "label filter",
            r#"{app="db"} | pattern "<_> from <ip> <_>" | ip = ip("192.168.0.0/16")"#,
            LOG,
            Want::Streams(vec![stream(
                labels(DB, &[("ip", "192.168.1.10")]),
                &[(1000, C1)],
            )]),
        ),
        case(
            "label filter",
            r#"{app="worker"} | trace_id="abc""#,
            LOG,
            Want::Streams(vec![
                stream(labels(WORKER, D2_MD), &[(4000, D2)]),
                stream(labels(WORKER, D1_MD), &[(2000, D1)]),
            ]),
        ),
        // ------------------------------------------------ formatting
        case(
            "line_format",
            r#"{app="api"} | logfmt | line_format "{{.method}} {{.path}} -> {{.status}}" | keep app"#,
            LOG,
            Want::Streams(vec![stream(
                app("api"),
                &[
                    (5000, "GET /d -> abc"),
                    (4000, "GET /a -> 200"),
                    (3000, "GET /c -> 404"),
                    (2000, "POST /b -> 500"),
                    (1000, "GET /a -> 200"),
                ],
            )]),
        ),
        case(
            "line_format",
            r##"{app="api"} |= "GET" | logfmt | line_format `{{.level | ToUpper}}|{{.path | replace "/" "#"}}|{{default "none" .msg}}|{{__line__ | trunc 10}}` | keep app"##,
            LOG,
            Want::Streams(vec![stream(
                app("api"),
                &[
                    (5000, "DEBUG|#d|none|level=debu"),
                    (4000, "WARN|#a|none|level=warn"),
                    (3000, "INFO|#c|none|level=info"),
                    (1000, "INFO|#a|hello world|level=info"),
                ],
            )]),
        ),
        case(
            "line_format",
            r#"{app="web"} | json | __error__="" | line_format `{{if eq .level "info"}}I{{else}}{{.level | title}}{{end}} {{.latency | float64 | mulf 4}}` | keep app"#,
            LOG,
            Want::Streams(vec![stream(
                app("web"),
                &[
                    (5000, "Warn 8"),
                    (3000, "I 2"),
                    (2000, "Error 7"),
                    (1000, "I 1"),
                ],
            )]),
        ),
        case(
            "label_format",
            r#"{app="api"} |= "POST" | logfmt | label_format code=status, who="{{.method}}-{{.level | upper}}" | keep code, who, status"#,
            LOG,
            Want::Streams(vec![stream(
                labels(&[("code", "500")], &[("who", "POST-ERROR")]),
                &[(2000, A2)],
            )]),
        ),
        case(
            "label_format",
            r#"{app="web"} | json | __error__="" | label_format app="{{.app}}-{{.user_name | lower | default \"anon\"}}" | keep app"#,
            LOG,
            Want::Streams(vec![
                stream(app("web-anon"), &[(5000, B5), (3000, B3)]),
                stream(app("web-ann"), &[(1000, B1)]),
                stream(app("web-bob"), &[(2000, B2)]),
            ]),
        ),
        // ------------------------------------------------ drop, keep, errors
        case(
            "drop/keep",
            r#"{app="api"} |= "POST" | logfmt | drop method, path, dur, size, msg, level="info""#,
            LOG,
            Want::Streams(vec![stream(
                labels(API, &[("level", "error"), ("status", "500")]),
                &[(2000, A2)],
            )]),
        ),
        case(
            "drop/keep",
            r#"{app="web"} | json | drop __error__, __error_details__ | keep level, app"#,
            LOG,
            Want::Streams(vec![
                stream(app("web"), &[(4000, B4)]),
                stream(
                    labels(&[("app", "web")], &[("level", "error")]),
                    &[(2000, B2)],
                ),
                stream(
                    labels(&[("app", "web")], &[("level", "info")]),
                    &[(3000, B3), (1000, B1)],
                ),
                stream(
                    labels(&[("app", "web")], &[("level", "warn")]),
                    &[(5000, B5)],
                ),
            ]),
        ),
        case(
            "drop/keep",
            r#"{app="web"} | json | keep level"#,
            LOG,
            Want::Streams(vec![
                stream(labels(JSON_ERR, &[]), &[(4000, B4)]),
                stream(labels(&[("level", "error")], &[]), &[(2000, B2)]),
                stream(labels(&[("level", "info")], &[]), &[(3000, B3), (1000, B1)]),
                stream(labels(&[("level", "warn")], &[]), &[(5000, B5)]),
            ]),
        ),
        // A template that is exactly one field is read with
        // LabelsBuilder.Get (Loki's `simpleKey`), which never sees the
        // error labels: the line is empty.
        case(
            "__error__",
            r#"{app="web"} | json | __error__!="" | line_format "{{.__error__}}""#,
            LOG,
            Want::Streams(vec![stream(labels(WEB, JSON_ERR), &[(4000, "")])]),
        ),
        // Any other template executes over LabelsBuilder.Map, which holds
        // the error labels (appendErrors).
        case(
            "__error__",
            r#"{app="web"} | json | __error__!="" | line_format "err={{.__error__}}""#,
            LOG,
            Want::Streams(vec![stream(
                labels(WEB, JSON_ERR),
                &[(4000, "err=JSONParserErr")],
            )]),
        ),
        // ------------------------------------------------ limit and direction
        case(
            "limit/direction",
            r#"{namespace=~"ns1|ns2"}"#,
            log(0, 60_000, Some(4), false),
            Want::Streams(vec![
                stream(labels(API, &[]), &[(5000, A5)]),
                stream(labels(DB, &[]), &[(6000, C5)]),
                stream(labels(WEB, &[]), &[(5000, B5)]),
                stream(labels(WORKER, D3_MD), &[(6000, D3)]),
            ]),
        ),
        case(
            "limit/direction",
            r#"{namespace=~"ns1|ns2"}"#,
            log(0, 60_000, Some(3), true),
            Want::Streams(vec![
                stream(labels(API, &[]), &[(1000, A1)]),
                stream(labels(DB, &[]), &[(1000, C1)]),
                stream(labels(WEB, &[]), &[(1000, B1)]),
            ]),
        ),
        case(
            "limit/direction",
            r#"{namespace=~"ns1|ns2"} != "fail""#,
            log(0, 60_000, Some(6), true),
            Want::Streams(vec![
                stream(labels(API, &[]), &[(1000, A1), (2000, A2)]),
                stream(labels(DB, &[]), &[(1000, C1), (2000, C2)]),
                stream(labels(WEB, &[]), &[(1000, B1)]),
                stream(labels(WORKER, D1_MD), &[(2000, D1)]),
            ]),
        ),
        case(
            "limit/direction",
            r#"{app="api"}"#,
            log(2000, 4000, None, false),
            Want::Streams(vec![stream(labels(API, &[]), &[(3000, A3), (2000, A2)])]),
        ),
        case(
            "limit/direction",
            r#"{app=~"api|db"} |= "GET""#,
            log(0, 60_000, Some(2), true),
            Want::Streams(vec![
                stream(labels(API, &[]), &[(1000, A1)]),
                stream(labels(DB, &[]), &[(1000, C1)]),
            ]),
        ),
    ];
    v.extend(metric_cases());
    v
}
