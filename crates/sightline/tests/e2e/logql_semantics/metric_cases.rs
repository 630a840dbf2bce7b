//! The cases of metric queries: range and vector aggregations, unwrap,
//! binary operators, functions, step alignment.

use super::*;

pub(super) fn metric_cases() -> Vec<Case> {
    let web_latency = |f: &str| {
        format!(r#"{f}({{app="web"}} | json latency | __error__="" | unwrap latency [10s])"#)
    };
    let l_apps = r#"sum by (app) (count_over_time({namespace=~"ns1|ns2"}[10s]))"#;
    let r_prod = r#"sum by (app) (count_over_time({env="prod"}[10s]))"#;
    let by_app_env = r#"sum by (app, env) (count_over_time({namespace=~"ns1|ns2"}[10s]))"#;
    let by_env = r#"sum by (env) (count_over_time({namespace=~"ns1|ns2"}[10s]))"#;
    let env = |e: &str| labels(&[], &[("env", e)]);
    let app_env = |a: &str, e: &str| labels(&[], &[("app", a), ("env", e)]);
    let web = || labels(WEB, &[]);
    vec![
        // ------------------------------------------------ range aggregations, instant
        case(
            "range aggregation",
            r#"count_over_time({app="api"}[10s])"#,
            AT,
            vector(vec![(labels(API, &[]), "5")]),
        ),
        case(
            "range aggregation",
            r#"rate({app="db"}[10s])"#,
            AT,
            vector(vec![(labels(DB, &[]), "0.5")]),
        ),
        case(
            "range aggregation",
            r#"bytes_over_time({app="db"}[10s])"#,
            AT,
            vector(vec![(labels(DB, &[]), "173")]),
        ),
        case(
            "range aggregation",
            r#"bytes_rate({app="db"}[10s])"#,
            AT,
            vector(vec![(labels(DB, &[]), "17.3")]),
        ),
        case(
            "range aggregation",
            r#"count_over_time({app="api"}[10s] offset 7s)"#,
            AT,
            vector(vec![(labels(API, &[]), "3")]),
        ),
        case(
            "range aggregation",
            r#"sum by (trace_id) (count_over_time({app="worker"}[10s]))"#,
            AT,
            vector(vec![
                (labels(&[], &[("trace_id", "abc")]), "2"),
                (labels(&[], &[("trace_id", "def")]), "1"),
            ]),
        ),
        case(
            "range aggregation",
            r#"absent_over_time({app="nope", env="prod"}[10s])"#,
            AT,
            vector(vec![(
                labels(&[], &[("app", "nope"), ("env", "prod")]),
                "1",
            )]),
        )
        .other(vector(vec![(
            labels(&[], &[("app", "nope"), ("env", "prod")]),
            "1",
        )])),
        case(
            "range aggregation",
            r#"absent_over_time({app="api", env=~"p.*"} |= "GET" [10s])"#,
            AT,
            vector(vec![]),
        )
        .other(vector(vec![(app("api"), "1")])),
        // ------------------------------------------------ unwrap
        case(
            "unwrap",
            &web_latency("sum_over_time"),
            AT,
            vector(vec![(web(), "4.5")]),
        ),
        case(
            "unwrap",
            &web_latency("avg_over_time"),
            AT,
            vector(vec![(web(), "1.125")]),
        ),
        case(
            "unwrap",
            &web_latency("min_over_time"),
            AT,
            vector(vec![(web(), "0.25")]),
        ),
        case(
            "unwrap",
            &web_latency("max_over_time"),
            AT,
            vector(vec![(web(), "2")]),
        ),
        case(
            "unwrap",
            &web_latency("first_over_time"),
            AT,
            vector(vec![(web(), "0.25")]),
        ),
        case(
            "unwrap",
            &web_latency("last_over_time"),
            AT,
            vector(vec![(web(), "2")]),
        ),
        case(
            "unwrap",
            &web_latency("stdvar_over_time"),
            AT,
            vector(vec![(web(), "0.578125")]),
        ),
        case(
            "unwrap",
            &web_latency("stddev_over_time"),
            AT,
            vector(vec![(web(), "0.7603453162872774")]),
        ),
        case(
            "unwrap",
            r#"quantile_over_time(0.5, {app="web"} | json latency | __error__="" | unwrap latency [10s])"#,
            AT,
            vector(vec![(web(), "1.125")]),
        ),
        case(
            "unwrap",
            r#"quantile_over_time(0.9, {app="web"} | json latency | __error__="" | unwrap latency [10s])"#,
            AT,
            vector(vec![(web(), "1.925")]),
        ),
        case(
            "unwrap",
            &web_latency("rate"),
            AT,
            vector(vec![(web(), "0.45")]),
        ),
        case(
            "unwrap",
            &web_latency("rate_counter"),
            AT,
            vector(vec![(web(), "0.4333333333333334")]),
        ),
        case(
            "unwrap",
            r#"sum by (method) (sum_over_time({app="api"} | logfmt | unwrap duration(dur) | __error__="" [10s]))"#,
            AT,
            vector(vec![
                (labels(&[], &[("method", "GET")]), "5"),
                (labels(&[], &[("method", "POST")]), "0.25"),
            ]),
        ),
        case(
            "unwrap",
            r#"sum by (method) (sum_over_time({app="api"} | logfmt | unwrap bytes(size) | __error__="" [10s]))"#,
            AT,
            vector(vec![
                (labels(&[], &[("method", "GET")]), "2020512"),
                (labels(&[], &[("method", "POST")]), "1024"),
            ]),
        ),
        case(
            "unwrap",
            r#"max_over_time({app="api"} | logfmt | unwrap duration(dur) | __error__="" [10s]) by (method)"#,
            AT,
            vector(vec![
                (labels(&[], &[("method", "GET")]), "3"),
                (labels(&[], &[("method", "POST")]), "0.25"),
            ]),
        ),
        case(
            "unwrap",
            r#"sum(sum_over_time({app="api"} | logfmt | unwrap status | __error__="" [10s]))"#,
            AT,
            vector(vec![(none(), "1304")]),
        ),
        case(
            "unwrap",
            r#"sum_over_time({app="api"} |= "POST" | logfmt | keep status, dur | unwrap duration_seconds(dur) [10s])"#,
            AT,
            vector(vec![(labels(&[], &[("status", "500")]), "0.25")]),
        ),
        // ------------------------------------------------ the __error__ refusal
        case(
            "__error__ refusal",
            r#"count_over_time({app="web"} | json [10s])"#,
            AT,
            refused(&[
                r#"pipeline error: 'JSONParserErr' for series: '{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol", app="web", env="dev", namespace="ns1", service_name="web"}'."#,
                r#"Use a label filter to intentionally skip this error. (e.g | __error__!="JSONParserErr")."#,
            ]),
        ),
        case(
            "__error__ refusal",
            r#"sum(sum_over_time({app="api"} | logfmt | unwrap status [10s]))"#,
            AT,
            refused(&[
                r#"pipeline error: 'SampleExtractionErr' for series: '{__error__="SampleExtractionErr", __error_details__="strconv.ParseFloat: parsing \"abc\": invalid syntax", app="api""#,
            ]),
        ),
        case(
            "__error__ refusal",
            r#"sum(count_over_time({app="web"} | json | __error__="" [10s]))"#,
            AT,
            vector(vec![(none(), "4")]),
        ),
        // ------------------------------------------------ vector aggregations
        case(
            "vector aggregation",
            by_env,
            AT,
            vector(vec![(env("dev"), "5"), (env("prod"), "13")]),
        ),
        case(
            "vector aggregation",
            &format!("sum by (namespace) ({COUNTS})"),
            AT,
            vector(vec![
                (labels(&[], &[("namespace", "ns1")]), "10"),
                (labels(&[], &[("namespace", "ns2")]), "8"),
            ]),
        ),
        case(
            "vector aggregation",
            r#"avg by (namespace) (sum by (app, namespace) (bytes_over_time({namespace=~"ns1|ns2"}[10s])))"#,
            AT,
            vector(vec![
                (labels(&[], &[("namespace", "ns1")]), "372.5"),
                (labels(&[], &[("namespace", "ns2")]), "120"),
            ]),
        ),
        case(
            "vector aggregation",
            &format!("min by (namespace) ({COUNTS})"),
            AT,
            vector(vec![
                (labels(&[], &[("namespace", "ns1")]), "5"),
                (labels(&[], &[("namespace", "ns2")]), "1"),
            ]),
        ),
        case(
            "vector aggregation",
            &format!("max by (namespace) ({COUNTS})"),
            AT,
            vector(vec![
                (labels(&[], &[("namespace", "ns1")]), "5"),
                (labels(&[], &[("namespace", "ns2")]), "5"),
            ]),
        ),
        case(
            "vector aggregation",
            &format!("count by (env) ({COUNTS})"),
            AT,
            vector(vec![(env("dev"), "1"), (env("prod"), "5")]),
        ),
        case(
            "vector aggregation",
            &format!("count without (trace_id, user) ({COUNTS})"),
            AT,
            vector(vec![
                (labels(API, &[]), "1"),
                (labels(WEB, &[]), "1"),
                (labels(DB, &[]), "1"),
                (labels(WORKER, &[]), "3"),
            ]),
        ),
        case(
            "vector aggregation",
            &format!("topk(2, {BYTES_BY_APP})"),
            AT,
            vector(vec![(app("api"), "346"), (app("web"), "399")]),
        ),
        case(
            "vector aggregation",
            &format!("bottomk(1, {BYTES_BY_APP})"),
            AT,
            vector(vec![(app("worker"), "67")]),
        ),
        case(
            "vector aggregation",
            &format!("sort_desc({BYTES_BY_APP})"),
            AT,
            ordered(vec![
                (app("web"), "399"),
                (app("api"), "346"),
                (app("db"), "173"),
                (app("worker"), "67"),
            ]),
        ),
        case(
            "vector aggregation",
            &format!("sort({BYTES_BY_APP})"),
            AT,
            ordered(vec![
                (app("worker"), "67"),
                (app("db"), "173"),
                (app("api"), "346"),
                (app("web"), "399"),
            ]),
        ),
        // ------------------------------------------------ binary operators
        case(
            "binary operator",
            r#"sum(count_over_time({app="api"}[10s])) / sum(count_over_time({app="db"}[10s]))"#,
            AT,
            vector(vec![(none(), "1")]),
        ),
        case(
            "binary operator",
            r#"sum(count_over_time({app="api"}[10s])) / 0"#,
            AT,
            vector(vec![(none(), "NaN")]),
        ),
        case(
            "binary operator",
            r#"sum by (app) (count_over_time({app=~"api|web"}[10s])) % 0"#,
            AT,
            vector(vec![(app("api"), "NaN"), (app("web"), "NaN")]),
        ),
        case(
            "binary operator",
            r#"count_over_time({app="api"}[10s]) * 2 + 1"#,
            AT,
            vector(vec![(labels(API, &[]), "11")]),
        ),
        case(
            "binary operator",
            r#"count_over_time({app="api"}[10s]) > 3"#,
            AT,
            vector(vec![(labels(API, &[]), "5")]),
        ),
        case(
            "binary operator",
            r#"count_over_time({app="api"}[10s]) > bool 7"#,
            AT,
            vector(vec![(labels(API, &[]), "0")]),
        ),
        case(
            "binary operator",
            r#"3 < count_over_time({app="api"}[10s])"#,
            AT,
            vector(vec![(labels(API, &[]), "5")]),
        ),
        case(
            "binary operator",
            &format!("{l_apps} >= 4"),
            AT,
            vector(vec![(app("api"), "5"), (app("db"), "5"), (app("web"), "5")]),
        ),
        case(
            "binary operator",
            r#"count_over_time({app="api"}[10s]) + count_over_time({app="db"}[10s])"#,
            AT,
            vector(vec![]),
        ),
        case(
            "binary operator",
            &format!("{l_apps} and {r_prod}"),
            AT,
            vector(vec![
                (app("api"), "5"),
                (app("db"), "5"),
                (app("worker"), "3"),
            ]),
        ),
        case(
            "binary operator",
            &format!("{l_apps} unless {r_prod}"),
            AT,
            vector(vec![(app("web"), "5")]),
        ),
        case(
            "binary operator",
            r#"sum by (app) (count_over_time({app="web"}[10s])) or sum by (app) (count_over_time({app="db"}[10s]))"#,
            AT,
            vector(vec![(app("db"), "5"), (app("web"), "5")]),
        ),
        case(
            "binary operator",
            &format!("{by_app_env} / on (env) group_left {by_env}"),
            AT,
            vector(vec![
                (app_env("api", "prod"), "0.38461538461538464"),
                (app_env("db", "prod"), "0.38461538461538464"),
                (app_env("web", "dev"), "1"),
                (app_env("worker", "prod"), "0.23076923076923078"),
            ]),
        ),
        case(
            "binary operator",
            &format!("{by_app_env} - ignoring (app) group_left {by_env}"),
            AT,
            vector(vec![
                (app_env("api", "prod"), "-8"),
                (app_env("db", "prod"), "-8"),
                (app_env("web", "dev"), "0"),
                (app_env("worker", "prod"), "-10"),
            ]),
        ),
        // ------------------------------------------------ literals and functions
        case(
            "vector()",
            "vector(1) + vector(2)",
            AT,
            vector(vec![(none(), "3")]),
        )
        .other(vector(vec![(none(), "3")])),
        case(
            "vector()",
            r#"sum(count_over_time({app="nope"}[10s])) or vector(0)"#,
            AT,
            vector(vec![(none(), "0")]),
        )
        .other(vector(vec![(none(), "0")])),
        case(
            "label_replace",
            r#"label_replace(sum by (app) (count_over_time({app="api"}[10s])), "svc", "s-$1", "app", "(.*)")"#,
            AT,
            vector(vec![(
                labels(&[], &[("app", "api"), ("svc", "s-api")]),
                "5",
            )]),
        ),
        case(
            "label_replace",
            r#"label_replace(sum by (app) (count_over_time({app="api"}[10s])), "app", "x", "app", "nomatch")"#,
            AT,
            vector(vec![(app("api"), "5")]),
        ),
        // ------------------------------------------------ range queries
        case(
            "range query",
            r#"count_over_time({app="api"}[2s])"#,
            Ask::Range {
                start: 1000,
                end: 5000,
                step: "2s",
            },
            Want::Matrix(vec![series(
                labels(API, &[]),
                &[(2000, "2"), (4000, "2"), (6000, "1")],
            )]),
        ),
        case(
            "range query",
            r#"sum(count_over_time({app="db"}[3s]))"#,
            Ask::Range {
                start: 1000,
                end: 5000,
                step: "3s",
            },
            Want::Matrix(vec![series(none(), &[(3000, "3"), (6000, "2")])]),
        ),
        case(
            "range query",
            r#"sum by (env) (rate({namespace=~"ns1|ns2"}[2s]))"#,
            Ask::Range {
                start: 0,
                end: 6000,
                step: "2s",
            },
            Want::Matrix(vec![
                series(env("dev"), &[(2000, "1"), (4000, "1"), (6000, "0.5")]),
                series(env("prod"), &[(2000, "2.5"), (4000, "2.5"), (6000, "1.5")]),
            ]),
        ),
        case(
            "range query",
            r#"count_over_time({app="db"}[2s] offset 2s)"#,
            Ask::Range {
                start: 2000,
                end: 8000,
                step: "2s",
            },
            Want::Matrix(vec![series(
                labels(DB, &[]),
                &[(4000, "2"), (6000, "2"), (8000, "1")],
            )]),
        ),
        case(
            "range query",
            r#"max_over_time({app="web"} | json latency | __error__="" | unwrap latency [2s])"#,
            Ask::Range {
                start: 0,
                end: 6000,
                step: "2s",
            },
            Want::Matrix(vec![series(
                web(),
                &[(2000, "1.75"), (4000, "0.5"), (6000, "2")],
            )]),
        ),
        case(
            "range query",
            r#"absent_over_time({app="db"}[2s])"#,
            Ask::Range {
                start: 0,
                end: 10_000,
                step: "2s",
            },
            Want::Matrix(vec![series(
                app("db"),
                &[(0, "1"), (8000, "1"), (10_000, "1")],
            )]),
        )
        .other(Want::Matrix(vec![series(
            app("db"),
            &[
                (0, "1"),
                (2000, "1"),
                (4000, "1"),
                (6000, "1"),
                (8000, "1"),
                (10_000, "1"),
            ],
        )])),
        case(
            "range query",
            "vector(2)",
            Ask::Range {
                start: 0,
                end: 4000,
                step: "2s",
            },
            Want::Matrix(vec![series(none(), &[(0, "2"), (2000, "2"), (4000, "2")])]),
        )
        .other(Want::Matrix(vec![series(
            none(),
            &[(0, "2"), (2000, "2"), (4000, "2")],
        )])),
        case(
            "range query",
            r#"sum(count_over_time({app="nope"}[2s])) or vector(0)"#,
            Ask::Range {
                start: 0,
                end: 4000,
                step: "2s",
            },
            Want::Matrix(vec![series(none(), &[(0, "0"), (2000, "0"), (4000, "0")])]),
        )
        .other(Want::Matrix(vec![series(
            none(),
            &[(0, "0"), (2000, "0"), (4000, "0")],
        )])),
    ]
}
