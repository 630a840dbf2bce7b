//! The generated streams of both workspaces and how they are pushed.

use super::*;

pub(super) type Pairs = &'static [(&'static str, &'static str)];

/// Stream labels as queried back (`service_name` taken from `app`).
pub(super) const API: Pairs = &[
    ("app", "api"),
    ("env", "prod"),
    ("namespace", "ns1"),
    ("service_name", "api"),
];
pub(super) const WEB: Pairs = &[
    ("app", "web"),
    ("env", "dev"),
    ("namespace", "ns1"),
    ("service_name", "web"),
];
pub(super) const DB: Pairs = &[
    ("app", "db"),
    ("env", "prod"),
    ("namespace", "ns2"),
    ("service_name", "db"),
];
pub(super) const WORKER: Pairs = &[
    ("app", "worker"),
    ("env", "prod"),
    ("namespace", "ns2"),
    ("service_name", "worker"),
];
pub(super) const PACKED: Pairs = &[
    ("app", "packed"),
    ("env", "qa"),
    ("namespace", "ns3"),
    ("service_name", "packed"),
];
pub(super) const ZETA: Pairs = &[
    ("app", "zeta"),
    ("env", "zz"),
    ("namespace", "other"),
    ("service_name", "zeta"),
];

// logfmt lines of {app="api"}.
pub(super) const A1: &str =
    r#"level=info method=GET path=/a status=200 dur=1.5s size=20KB msg="hello world""#;
pub(super) const A2: &str =
    r#"level=error method=POST path=/b status=500 dur=250ms size=1KiB msg="db \"timeout\"""#;
pub(super) const A3: &str = "level=info method=GET path=/c status=404 dur=3s size=512B bare";
pub(super) const A4: &str = "level=warn method=GET path=/a status=200 dur=500ms size=2MB msg=";
pub(super) const A5: &str = "level=debug method=GET path=/d status=abc dur=oops size=10XB";
// JSON lines of {app="web"}; `app` and `env` collide with stream labels.
pub(super) const B1: &str = r#"{"level":"info","app":"inner","status":200,"latency":0.25,"user":{"id":7,"name":"Ann"},"tags":["x","y"],"msg":"ok \"quoted\" \\ slash"}"#;
pub(super) const B2: &str = r#"{"level":"error","status":503,"latency":1.75,"user":{"id":8,"name":"Bob"},"tags":[],"msg":"fail"}"#;
pub(super) const B3: &str =
    r#"{"level":"info","status":201,"latency":0.5,"env":"staging","msg":"tab\there"}"#;
pub(super) const B4: &str = "not json at all";
pub(super) const B5: &str =
    r#"{"level":"warn","status":200,"latency":2,"user":{"id":9},"msg":"caf\u00e9"}"#;
// Plain, coloured and address-carrying lines of {app="db"}.
pub(super) const C1: &str = "GET /index.html from 192.168.1.10 took 12ms";
pub(super) const C2: &str = "\x1b[31mERROR\x1b[0m disk full on 10.0.0.5";
pub(super) const C3: &str = "POST /api from 2001:db8::1 took 40ms";
pub(super) const C4: &str = "\x1b[32mINFO\x1b[0m all good";
pub(super) const C5: &str = "connection from 172.16.0.300 refused";
// {app="worker"}: structured metadata on every entry; `trace_id` also in
// the line, and a malformed pair in the last one.
pub(super) const D1: &str = "msg=started id=1 trace_id=zzz";
pub(super) const D2: &str = "msg=finished id=1";
pub(super) const D3: &str = "msg=started id=2 =bad";
// {app="packed"}: lines as Promtail's pack stage writes them.
pub(super) const P1: &str = r#"{"_entry":"original line","pod":"p-1","level":"info"}"#;
pub(super) const P2: &str = r#"{"_entry":"second","pod":"p-2"}"#;
/// The second workspace's only line.
pub(super) const Z1: &str = "zeta GET line from 192.168.1.10";

pub(super) const D1_MD: Pairs = &[("trace_id", "abc"), ("user", "u1")];
pub(super) const D2_MD: Pairs = &[("trace_id", "abc")];
pub(super) const D3_MD: Pairs = &[("trace_id", "def")];

/// (stream selector as pushed, entries: offset ms, line, metadata).
pub(super) type Stream = (&'static str, Vec<(i64, &'static str, Pairs)>);

pub(super) fn first_workspace() -> Vec<Stream> {
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

pub(super) fn second_workspace() -> Vec<Stream> {
    vec![(
        r#"{app="zeta", env="zz", namespace="other"}"#,
        vec![(1000, Z1, &[])],
    )]
}

/// Rows in the logs table once both workspaces are stored.
pub(super) const ALL_ENTRIES: u64 = 21;

/// The base time: a whole minute about twenty minutes ago.
pub(super) fn base_ms() -> i64 {
    (now_ms() / 60_000) * 60_000 - 20 * 60_000
}

pub(super) fn push_body(base: i64, streams: Vec<Stream>) -> Vec<u8> {
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

pub(super) async fn push(url: &str, token: &str, body: Vec<u8>) {
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
