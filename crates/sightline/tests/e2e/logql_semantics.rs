//! The LogQL semantics suite: one table of queries, each with the answer
//! Loki gives for it (worked out from Loki's documented and coded
//! behaviour), run over the same generated streams on three setups: the
//! embedded head, the Parquet archive after a flush, and ClickHouse as the
//! hot tier. Every query also runs with a second workspace's token, which
//! sees none of the first workspace's data.
//!
//! The expected answers assume a Loki with `discover_log_levels` off (Loki
//! would otherwise add a `detected_level` structured metadata label to every
//! entry at push time) and `service_name` discovery on, as Sightline does.
//! Times are offsets from a base minute about twenty minutes ago, so that
//! metric range queries see Loki's step alignment on whole seconds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sightline_clickhouse::ClickHouse;
use sightline_clickhouse::testing::TestClickHouse;
use sightline_ingest::loki_push::StreamAdapter;

use crate::harness::{Server, Tenant, get, log_entry, log_push_body, metrics_text, now_ms};

// ---------------------------------------------------------------- data

type Pairs = &'static [(&'static str, &'static str)];

/// Stream labels as queried back (`service_name` taken from `app`).
const API: Pairs = &[
    ("app", "api"),
    ("env", "prod"),
    ("namespace", "ns1"),
    ("service_name", "api"),
];
const WEB: Pairs = &[
    ("app", "web"),
    ("env", "dev"),
    ("namespace", "ns1"),
    ("service_name", "web"),
];
const DB: Pairs = &[
    ("app", "db"),
    ("env", "prod"),
    ("namespace", "ns2"),
    ("service_name", "db"),
];
const WORKER: Pairs = &[
    ("app", "worker"),
    ("env", "prod"),
    ("namespace", "ns2"),
    ("service_name", "worker"),
];
const PACKED: Pairs = &[
    ("app", "packed"),
    ("env", "qa"),
    ("namespace", "ns3"),
    ("service_name", "packed"),
];
const ZETA: Pairs = &[
    ("app", "zeta"),
    ("env", "zz"),
    ("namespace", "other"),
    ("service_name", "zeta"),
];

// logfmt lines of {app="api"}.
const A1: &str = r#"level=info method=GET path=/a status=200 dur=1.5s size=20KB msg="hello world""#;
const A2: &str =
    r#"level=error method=POST path=/b status=500 dur=250ms size=1KiB msg="db \"timeout\"""#;
const A3: &str = "level=info method=GET path=/c status=404 dur=3s size=512B bare";
const A4: &str = "level=warn method=GET path=/a status=200 dur=500ms size=2MB msg=";
const A5: &str = "level=debug method=GET path=/d status=abc dur=oops size=10XB";
// JSON lines of {app="web"}; `app` and `env` collide with stream labels.
const B1: &str = r#"{"level":"info","app":"inner","status":200,"latency":0.25,"user":{"id":7,"name":"Ann"},"tags":["x","y"],"msg":"ok \"quoted\" \\ slash"}"#;
const B2: &str = r#"{"level":"error","status":503,"latency":1.75,"user":{"id":8,"name":"Bob"},"tags":[],"msg":"fail"}"#;
const B3: &str = r#"{"level":"info","status":201,"latency":0.5,"env":"staging","msg":"tab\there"}"#;
const B4: &str = "not json at all";
const B5: &str = r#"{"level":"warn","status":200,"latency":2,"user":{"id":9},"msg":"caf\u00e9"}"#;
// Plain, coloured and address-carrying lines of {app="db"}.
const C1: &str = "GET /index.html from 192.168.1.10 took 12ms";
const C2: &str = "\x1b[31mERROR\x1b[0m disk full on 10.0.0.5";
const C3: &str = "POST /api from 2001:db8::1 took 40ms";
const C4: &str = "\x1b[32mINFO\x1b[0m all good";
const C5: &str = "connection from 172.16.0.300 refused";
// {app="worker"}: structured metadata on every entry; `trace_id` also in
// the line, and a malformed pair in the last one.
const D1: &str = "msg=started id=1 trace_id=zzz";
const D2: &str = "msg=finished id=1";
const D3: &str = "msg=started id=2 =bad";
// {app="packed"}: lines as Promtail's pack stage writes them.
const P1: &str = r#"{"_entry":"original line","pod":"p-1","level":"info"}"#;
const P2: &str = r#"{"_entry":"second","pod":"p-2"}"#;
/// The second workspace's only line.
const Z1: &str = "zeta GET line from 192.168.1.10";

const D1_MD: Pairs = &[("trace_id", "abc"), ("user", "u1")];
const D2_MD: Pairs = &[("trace_id", "abc")];
const D3_MD: Pairs = &[("trace_id", "def")];

/// (stream selector as pushed, entries: offset ms, line, metadata).
type Stream = (&'static str, Vec<(i64, &'static str, Pairs)>);

fn first_workspace() -> Vec<Stream> {
    vec![
        (
            r#"{app="api", env="prod", namespace="ns1"}"#,
            vec![
                (1000, A1, &[]),
                (2000, A2, &[]),
                (3000, A3, &[]),
                (4000, A4, &[]),
                (5000, A5, &[]),
            ],
        ),
        (
            r#"{app="web", env="dev", namespace="ns1"}"#,
            vec![
                (1000, B1, &[]),
                (2000, B2, &[]),
                (3000, B3, &[]),
                (4000, B4, &[]),
                (5000, B5, &[]),
            ],
        ),
        (
            r#"{app="db", env="prod", namespace="ns2"}"#,
            vec![
                (1000, C1, &[]),
                (2000, C2, &[]),
                (3000, C3, &[]),
                (4000, C4, &[]),
                (6000, C5, &[]),
            ],
        ),
        (
            r#"{app="worker", env="prod", namespace="ns2"}"#,
            vec![(2000, D1, D1_MD), (4000, D2, D2_MD), (6000, D3, D3_MD)],
        ),
        (
            r#"{app="packed", env="qa", namespace="ns3"}"#,
            vec![(1000, P1, &[]), (2000, P2, &[])],
        ),
    ]
}

fn second_workspace() -> Vec<Stream> {
    vec![(
        r#"{app="zeta", env="zz", namespace="other"}"#,
        vec![(1000, Z1, &[])],
    )]
}

/// Rows in the logs table once both workspaces are stored.
const ALL_ENTRIES: u64 = 21;

/// The base time: a whole minute about twenty minutes ago.
fn base_ms() -> i64 {
    (now_ms() / 60_000) * 60_000 - 20 * 60_000
}

fn push_body(base: i64, streams: Vec<Stream>) -> Vec<u8> {
    log_push_body(
        streams
            .into_iter()
            .map(|(labels, entries)| StreamAdapter {
                labels: labels.into(),
                entries: entries
                    .into_iter()
                    .map(|(off, line, md)| log_entry((base + off) * 1_000_000, line, md))
                    .collect(),
                hash: 0,
            })
            .collect(),
    )
}

async fn push(url: &str, token: &str, body: Vec<u8>) {
    let resp = reqwest::Client::new()
        .post(format!("{url}/loki/api/v1/push"))
        .bearer_auth(token)
        .header("Content-Type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .expect("push");
    let status = resp.status().as_u16();
    assert_eq!(status, 204, "{}", resp.text().await.unwrap_or_default());
}

// ---------------------------------------------------------------- cases

/// How a case is asked. Times are offsets in ms from the base.
#[derive(Clone, Copy)]
enum Ask {
    /// `query_range` of a log query over `[start, end)`.
    Log {
        start: i64,
        end: i64,
        limit: Option<u32>,
        forward: bool,
    },
    /// `/query` at `time`.
    Instant { time: i64 },
    /// `query_range` of a metric query.
    Range {
        start: i64,
        end: i64,
        step: &'static str,
    },
}

type Labels = BTreeMap<String, String>;

/// The answer Loki gives.
#[derive(Clone)]
enum Want {
    /// Streams, each with its values in answer order (offset ms, line).
    Streams(Vec<(Labels, Vec<(i64, String)>)>),
    /// A vector at the query time; `ordered` when the expression sorts.
    Vector {
        rows: Vec<(Labels, String)>,
        ordered: bool,
    },
    /// Series of (offset ms, value).
    Matrix(Vec<(Labels, Vec<(i64, String)>)>),
    /// An HTTP status and texts the plain-text body contains.
    Refused(u16, Vec<String>),
}

struct Case {
    feature: &'static str,
    query: String,
    ask: Ask,
    want: Want,
    /// The second workspace's answer when it is not the empty answer.
    other: Option<Want>,
}

fn labels(base: Pairs, extra: &[(&str, &str)]) -> Labels {
    base.iter()
        .chain(extra.iter())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const LOG: Ask = Ask::Log {
    start: 0,
    end: 60_000,
    limit: None,
    forward: false,
};
/// Instant queries look at `(base, base+10s]` with `[10s]`.
const AT: Ask = Ask::Instant { time: 10_000 };

fn stream(l: Labels, values: &[(i64, &str)]) -> (Labels, Vec<(i64, String)>) {
    (l, values.iter().map(|(t, s)| (*t, s.to_string())).collect())
}

fn series(l: Labels, points: &[(i64, &str)]) -> (Labels, Vec<(i64, String)>) {
    stream(l, points)
}

fn vector(rows: Vec<(Labels, &str)>) -> Want {
    Want::Vector {
        rows: rows.into_iter().map(|(l, v)| (l, v.to_string())).collect(),
        ordered: false,
    }
}

fn ordered(rows: Vec<(Labels, &str)>) -> Want {
    Want::Vector {
        rows: rows.into_iter().map(|(l, v)| (l, v.to_string())).collect(),
        ordered: true,
    }
}

fn refused(texts: &[&str]) -> Want {
    Want::Refused(400, texts.iter().map(|s| s.to_string()).collect())
}

fn case(feature: &'static str, query: &str, ask: Ask, want: Want) -> Case {
    Case {
        feature,
        query: query.to_string(),
        ask,
        want,
        other: None,
    }
}

impl Case {
    fn other(mut self, w: Want) -> Case {
        self.other = Some(w);
        self
    }
}

fn none() -> Labels {
    Labels::new()
}

// Labels the parsers add, per line.
const A1P: Pairs = &[
    ("level", "info"),
    ("method", "GET"),
    ("path", "/a"),
    ("status", "200"),
    ("dur", "1.5s"),
    ("size", "20KB"),
    ("msg", "hello world"),
];
const A2P: Pairs = &[
    ("level", "error"),
    ("method", "POST"),
    ("path", "/b"),
    ("status", "500"),
    ("dur", "250ms"),
    ("size", "1KiB"),
    ("msg", r#"db "timeout""#),
];
const A3P: Pairs = &[
    ("level", "info"),
    ("method", "GET"),
    ("path", "/c"),
    ("status", "404"),
    ("dur", "3s"),
    ("size", "512B"),
];
const A4P: Pairs = &[
    ("level", "warn"),
    ("method", "GET"),
    ("path", "/a"),
    ("status", "200"),
    ("dur", "500ms"),
    ("size", "2MB"),
];
const A5P: Pairs = &[
    ("level", "debug"),
    ("method", "GET"),
    ("path", "/d"),
    ("status", "abc"),
    ("dur", "oops"),
    ("size", "10XB"),
];
const B1P: Pairs = &[
    ("level", "info"),
    ("app_extracted", "inner"),
    ("status", "200"),
    ("latency", "0.25"),
    ("user_id", "7"),
    ("user_name", "Ann"),
    ("msg", r#"ok "quoted" \ slash"#),
];
const B2P: Pairs = &[
    ("level", "error"),
    ("status", "503"),
    ("latency", "1.75"),
    ("user_id", "8"),
    ("user_name", "Bob"),
    ("msg", "fail"),
];
const B3P: Pairs = &[
    ("level", "info"),
    ("status", "201"),
    ("latency", "0.5"),
    ("env_extracted", "staging"),
    ("msg", "tab\there"),
];
const B5P: Pairs = &[
    ("level", "warn"),
    ("status", "200"),
    ("latency", "2"),
    ("user_id", "9"),
    ("msg", "café"),
];
const JSON_ERR: Pairs = &[
    ("__error__", "JSONParserErr"),
    (
        "__error_details__",
        "Value looks like object, but can't find closing '}' symbol",
    ),
];

fn lp(base: Pairs, a: Pairs, b: &[(&str, &str)]) -> Labels {
    let mut l = labels(base, a);
    l.extend(b.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    l
}

fn log(start: i64, end: i64, limit: Option<u32>, forward: bool) -> Ask {
    Ask::Log {
        start,
        end,
        limit,
        forward,
    }
}

/// `sum by (app) (bytes_over_time(...))` over the first four apps.
const BYTES_BY_APP: &str = r#"sum by (app) (bytes_over_time({namespace=~"ns1|ns2"}[10s]))"#;
/// Per-stream counts of the first four apps (D's entries split by metadata).
const COUNTS: &str = r#"count_over_time({namespace=~"ns1|ns2"}[10s])"#;

fn app(a: &str) -> Labels {
    labels(&[], &[("app", a)])
}

fn cases() -> Vec<Case> {
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

fn metric_cases() -> Vec<Case> {
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

// ---------------------------------------------------------------- checking

fn ns(base: i64, off: i64) -> String {
    ((base + off) * 1_000_000).to_string()
}

fn secs(base: i64, off: i64) -> Value {
    json!((base + off) as f64 / 1000.0)
}

/// Loki's label string, `{a="1", b="2"}`, by which streams are ordered.
fn label_string(l: &Labels) -> String {
    let inner: Vec<String> = l
        .iter()
        .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).expect("string")))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Prometheus `labels.Compare`, by which vectors and matrices are ordered.
fn compare_labels(a: &Labels, b: &Labels) -> std::cmp::Ordering {
    for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
        let o = ka.cmp(kb).then_with(|| va.cmp(vb));
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn expected_json(want: &Want, base: i64) -> (&'static str, Value) {
    match want {
        Want::Streams(streams) => {
            let mut s = streams.clone();
            s.sort_by_key(|(l, _)| label_string(l));
            let result = s
                .iter()
                .map(|(l, values)| {
                    json!({"stream": l, "values": values
                        .iter()
                        .map(|(t, line)| json!([ns(base, *t), line]))
                        .collect::<Vec<_>>()})
                })
                .collect();
            ("streams", Value::Array(result))
        }
        Want::Vector { rows, ordered } => {
            let mut r = rows.clone();
            if !ordered {
                r.sort_by(|a, b| compare_labels(&a.0, &b.0));
            }
            let result = r
                .iter()
                .map(|(l, v)| json!({"metric": l, "value": [Value::Null, v]}))
                .collect();
            ("vector", Value::Array(result))
        }
        Want::Matrix(series) => {
            let mut s = series.clone();
            s.sort_by(|a, b| compare_labels(&a.0, &b.0));
            let result = s
                .iter()
                .map(|(l, points)| {
                    json!({"metric": l, "values": points
                        .iter()
                        .map(|(t, v)| json!([secs(base, *t), v]))
                        .collect::<Vec<_>>()})
                })
                .collect();
            ("matrix", Value::Array(result))
        }
        Want::Refused(..) => ("", Value::Null),
    }
}

/// The answer's result with sample times as plain floats (so `1700000040`
/// and `1700000040.0` compare equal); the vector time is checked apart.
fn normalized(result: &Value, kind: &str, at: &Value) -> Result<Value, String> {
    let mut r = result.clone();
    let Some(items) = r.as_array_mut() else {
        return Err(format!("result is not an array: {result}"));
    };
    for item in items {
        match kind {
            "vector" => {
                let t = item["value"][0].as_f64().map(|t| json!(t));
                if t.as_ref() != Some(at) {
                    return Err(format!("sample time {} is not {at}", item["value"][0]));
                }
                item["value"][0] = Value::Null;
            }
            "matrix" => {
                if let Some(points) = item["values"].as_array_mut() {
                    for p in points {
                        p[0] = p[0].as_f64().map(|t| json!(t)).unwrap_or(Value::Null);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(r)
}

fn params(case: &Case, base: i64) -> (Vec<(String, String)>, &'static str) {
    let mut p = vec![("query".to_string(), case.query.clone())];
    let mut add = |k: &str, v: String| p.push((k.to_string(), v));
    let path = match case.ask {
        Ask::Log {
            start,
            end,
            limit,
            forward,
        } => {
            add("start", ns(base, start));
            add("end", ns(base, end));
            if let Some(l) = limit {
                add("limit", l.to_string());
            }
            add(
                "direction",
                if forward { "forward" } else { "backward" }.into(),
            );
            "/loki/api/v1/query_range"
        }
        Ask::Instant { time } => {
            add("time", ns(base, time));
            "/loki/api/v1/query"
        }
        Ask::Range { start, end, step } => {
            add("start", ns(base, start));
            add("end", ns(base, end));
            add("step", step.into());
            "/loki/api/v1/query_range"
        }
    };
    (p, path)
}

/// The empty answer of a query's shape, as a workspace without the data
/// gets it.
fn empty_for(ask: Ask) -> Want {
    match ask {
        Ask::Log { .. } => Want::Streams(vec![]),
        Ask::Instant { .. } => vector(vec![]),
        Ask::Range { .. } => Want::Matrix(vec![]),
    }
}

/// Asks one case with one token; `Err` describes a wrong answer.
async fn check(
    url: &str,
    token: &str,
    case: &Case,
    want: &Want,
    base: i64,
    any_order: bool,
) -> Result<(), String> {
    let (p, path) = params(case, base);
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, v) = get(url, token, &p, path).await;
    if let Want::Refused(want_status, texts) = want {
        let body = v.as_str().unwrap_or_default();
        if status != *want_status || !texts.iter().all(|t| body.contains(t.as_str())) {
            return Err(format!(
                "want HTTP {want_status} containing {texts:?}\n  got HTTP {status}: {v}"
            ));
        }
        return Ok(());
    }
    let (kind, want_result) = expected_json(want, base);
    if status != 200 || v["status"] != "success" {
        return Err(format!(
            "want {kind} {want_result}\n  got HTTP {status}: {v}"
        ));
    }
    let at = match case.ask {
        Ask::Instant { time } => secs(base, time),
        _ => Value::Null,
    };
    let got_kind = v["data"]["resultType"].as_str().unwrap_or_default();
    let got = normalized(&v["data"]["result"], got_kind, &at);
    let sorted = |v: &Value| {
        let mut items: Vec<String> = v
            .as_array()
            .map(|a| a.iter().map(Value::to_string).collect())
            .unwrap_or_default();
        items.sort();
        items
    };
    match got {
        Ok(got) if got_kind == kind && got == want_result => Ok(()),
        Ok(got) if any_order && got_kind == kind && sorted(&got) == sorted(&want_result) => {
            Err(format!("(same rows, other order) got {got}"))
        }
        Ok(got) => Err(format!(
            "want {kind} {want_result}\n  got  {got_kind} {got}"
        )),
        Err(e) => Err(format!("{e}: {v}")),
    }
}

/// Runs the whole table against one server; panics listing every wrong
/// wrong answer.
async fn run_table(setup: &str, url: &str, a: &Tenant, b: &Tenant, base: i64) {
    let table = cases();
    let mut per_feature: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &table {
        *per_feature.entry(case.feature).or_default() += 1;
        let other = case.other.clone().unwrap_or_else(|| empty_for(case.ask));
        for (who, token, want) in [
            ("first", &a.report, &case.want),
            ("second", &b.report, &other),
        ] {
            let res = check(url, token, case, want, base, true).await;
            if let Err(e) = res {
                failures.push(format!(
                    "[{setup}] {} ({who} workspace): {}\n  {e}",
                    case.feature, case.query
                ));
            }
        }
    }
    eprintln!("[{setup}] {} cases: {per_feature:?}", table.len());
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------- setups

async fn load(url: &str, a: &Tenant, b: &Tenant, base: i64) {
    push(url, &a.ingest, push_body(base, first_workspace())).await;
    push(url, &b.ingest, push_body(base, second_workspace())).await;
}

async fn metric(url: &str, name: &str) -> Option<f64> {
    let text = metrics_text(url).await;
    let mut found = None;
    for l in text.lines().filter(|l| l.starts_with(name)) {
        if let Some(x) = l.rsplit(' ').next().and_then(|x| x.parse::<f64>().ok()) {
            *found.get_or_insert(0.0) += x;
        }
    }
    found
}

/// Waits until nothing is left to flush: the WAL empty, no part pending.
async fn flushed(url: &str, done: impl AsyncFn() -> bool, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if done().await
            && metric(url, "sightline_wal_bytes").await == Some(0.0)
            && metric(url, "sightline_flush_pending_parts")
                .await
                .unwrap_or(0.0)
                == 0.0
        {
            return;
        }
        assert!(Instant::now() < deadline, "the data was not flushed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn archived_tenants(archive: &std::path::Path) -> usize {
    let Ok(tenants) = std::fs::read_dir(archive) else {
        return 0;
    };
    tenants
        .flatten()
        .filter(|t| t.path().join("signal=logs").exists())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logql_semantics_on_the_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &["--flush-interval-secs", "3600"]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let base = base_ms();
    load(&srv.url, &a, &b, base).await;
    run_table("head", &srv.url, &a, &b, base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logql_semantics_on_the_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &["--flush-interval-secs", "1"]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let base = base_ms();
    load(&srv.url, &a, &b, base).await;
    let archive = dir.path().join("archive");
    let url = srv.url.clone();
    flushed(
        &srv.url,
        async || {
            archived_tenants(&archive) >= 2
                && metric(&url, "sightline_archive_flushed_log_entries_total")
                    .await
                    .unwrap_or(0.0)
                    >= ALL_ENTRIES as f64
        },
        Duration::from_secs(60),
    )
    .await;
    // The head part is released after the archive write; give it a moment.
    tokio::time::sleep(Duration::from_secs(3)).await;
    run_table("archive", &srv.url, &a, &b, base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logql_semantics_on_clickhouse() {
    let ch = TestClickHouse::start(None);
    let cfg = ch.config(30);
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(
        dir.path(),
        &[
            "--clickhouse-url",
            &cfg.url,
            "--clickhouse-database",
            &cfg.database,
            "--flush-interval-secs",
            "1",
        ],
    );
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let base = base_ms();
    load(&srv.url, &a, &b, base).await;
    let direct = ClickHouse::new(cfg.clone());
    flushed(
        &srv.url,
        async || direct.count_rows("logs").await.unwrap_or(0) >= ALL_ENTRIES,
        Duration::from_secs(90),
    )
    .await;
    run_table("clickhouse", &srv.url, &a, &b, base).await;
}
