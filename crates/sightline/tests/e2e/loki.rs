//! Loki's API end to end: pushes as Promtail (snappy protobuf) and as
//! Loki's JSON clients send them (plain and gzip), queried back through
//! `query_range`, `query`, `labels`, `label/<name>/values` and `series`,
//! on the head, after a flush to the archive, and after a restart (WAL
//! replay); two workspaces never see each other's logs; bad pushes are
//! refused naming the problem.

use std::io::Write;

use serde_json::{Value, json};
use sightline_ingest::loki_push::StreamAdapter;

use crate::harness::{Server, get, log_entry as entry, log_push_body as proto, now_ms};

/// POSTs a push body; returns status and text.
async fn push(url: &str, token: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{url}/loki/api/v1/push"))
        .bearer_auth(token)
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("push");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

const PROTO: &[(&str, &str)] = &[("Content-Type", "application/x-protobuf")];
const JSON: &[(&str, &str)] = &[("Content-Type", "application/json")];

/// The lines of a streams answer with each one's stream labels, newest
/// first (entries with different structured metadata come in different
/// stream objects, so the answer's own order is by labels).
fn lines(v: &Value) -> Vec<(String, Value)> {
    assert_eq!(v["status"], "success", "{v}");
    assert_eq!(v["data"]["resultType"], "streams", "{v}");
    let mut out = Vec::new();
    for s in v["data"]["result"].as_array().expect("result") {
        let values = s["values"].as_array().expect("values");
        for e in values {
            let ts: i64 = e[0]
                .as_str()
                .and_then(|t| t.parse().ok())
                .expect("ns timestamp");
            out.push((
                ts,
                e[1].as_str().expect("line").to_string(),
                s["stream"].clone(),
            ));
        }
    }
    out.sort_by(|a, b| b.0.cmp(&a.0));
    out.into_iter().map(|(_, l, s)| (l, s)).collect()
}

fn ns(ms: i64) -> i64 {
    ms * 1_000_000
}

#[tokio::test(flavor = "multi_thread")]
async fn loki_push_and_query_on_every_tier_per_workspace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut srv = Server::start(dir.path(), &["--flush-interval-secs", "3600"]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let t0 = now_ms() - 120_000;

    // Promtail's form: snappy protobuf, with structured metadata.
    let body = proto(vec![StreamAdapter {
        labels: r#"{app="api", env="prod"}"#.into(),
        entries: (0..10)
            .map(|i| {
                let status = if i % 5 == 4 { 500 } else { 200 };
                entry(
                    ns(t0 + i * 1000),
                    &format!(
                        "level=info status={status} msg=\"req {i}\" dur={}ms",
                        10 * i
                    ),
                    &[("trace_id", &format!("t{i}"))],
                )
            })
            .collect(),
        hash: 0,
    }]);
    assert_eq!(
        push(&srv.url, &a.ingest, body, PROTO).await,
        (204, String::new())
    );
    // Loki's JSON, inside gzip, for the other workspace and for alpha.
    let json_body = |line: &str| {
        serde_json::to_vec(&json!({"streams":[{"stream":{"app":"api","env":"prod"},
            "values":[[ns(t0 + 20_000).to_string(), line]]}]}))
        .expect("json")
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json_body("beta's own line")).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let (st, text) = push(
        &srv.url,
        &b.ingest,
        gz,
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
    )
    .await;
    assert_eq!((st, text.as_str()), (204, ""));
    let (st, _) = push(
        &srv.url,
        &a.ingest,
        json_body("level=warn status=404 msg=json"),
        JSON,
    )
    .await;
    assert_eq!(st, 204);

    let start = ns(t0 - 1000).to_string();
    let end = ns(now_ms() + 1000).to_string();
    let range = |q: &'static str, extra: &'static [(&'static str, &'static str)]| {
        let start = start.clone();
        let end = end.clone();
        async move {
            let mut params: Vec<(&str, &str)> =
                vec![("query", q), ("start", &start), ("end", &end)];
            params.extend_from_slice(extra);
            let params: Vec<(String, String)> = params
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            params
        }
    };

    // Checks every read endpoint against what alpha and beta wrote.
    let check = |srv_url: String,
                 a_report: String,
                 b_report: String,
                 params: Vec<(String, String)>| async move {
        let p: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (st, v) = get(&srv_url, &a_report, &p, "/loki/api/v1/query_range").await;
        assert_eq!(st, 200, "{v}");
        let got = lines(&v);
        assert_eq!(got.len(), 2, "{v}");
        assert!(got.iter().all(|(l, _)| l.contains("status=500")), "{got:?}");
        assert!(got[0].0.contains("req 9"), "newest first: {got:?}");
        // Structured metadata joins the stream labels.
        assert_eq!(got[0].1["trace_id"], "t9", "{v}");
        assert_eq!(got[0].1["service_name"], "api", "{v}");
        let (_, v) = get(&srv_url, &b_report, &p, "/loki/api/v1/query_range").await;
        assert!(lines(&v).is_empty(), "beta sees none of alpha's lines: {v}");
    };
    let q = range(r#"{app="api"} |= "status=500""#, &[]).await;
    check(
        srv.url.clone(),
        a.report.clone(),
        b.report.clone(),
        q.clone(),
    )
    .await;

    // A parser, a label filter and a formatter; forward and limited.
    let p = range(
        r#"{env="prod"} | logfmt | status >= 400 | line_format "{{.status}} {{.msg}}""#,
        &[("direction", "forward"), ("limit", "2")],
    )
    .await;
    let pp: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (st, v) = get(&srv.url, &a.report, &pp, "/loki/api/v1/query_range").await;
    assert_eq!(st, 200, "{v}");
    let got: Vec<String> = lines(&v).into_iter().rev().map(|(l, _)| l).collect();
    assert_eq!(got, vec!["500 req 4", "500 req 9"], "the oldest two: {v}");

    // A metric query, instant: lines per status over the window.
    let t = ns(now_ms()).to_string();
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[
            (
                "query",
                r#"sum by (status) (count_over_time({app="api"} | logfmt [10m]))"#,
            ),
            ("time", &t),
        ],
        "/loki/api/v1/query",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["resultType"], "vector", "{v}");
    let mut counts: Vec<(String, String)> = v["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|r| {
            (
                r["metric"]["status"].as_str().unwrap_or("").to_string(),
                r["value"][1].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        vec![
            ("200".into(), "8".into()),
            ("404".into(), "1".into()),
            ("500".into(), "2".into())
        ],
        "{v}"
    );
    // Grafana's health check.
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[
            ("query", "vector(1)+vector(1)"),
            ("time", "4000000000"),
            ("direction", "backward"),
        ],
        "/loki/api/v1/query",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["result"][0]["value"][1], "2", "{v}");
    // A log selector on /query is refused as Loki refuses it.
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("query", r#"{app="api"}"#)],
        "/loki/api/v1/query",
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        v.as_str()
            .unwrap_or("")
            .contains("not supported as an instant query"),
        "{v}"
    );

    // Labels, values and series, per workspace.
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("start", &start), ("end", &end)],
        "/loki/api/v1/labels",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"], json!(["app", "env", "service_name"]), "{v}");
    let (_, v) = get(
        &srv.url,
        &a.report,
        &[("start", &start), ("end", &end)],
        "/loki/api/v1/label/app/values",
    )
    .await;
    assert_eq!(v["data"], json!(["api"]), "{v}");
    let (_, v) = get(
        &srv.url,
        &b.report,
        &[
            ("match[]", r#"{app="api"}"#),
            ("start", &start),
            ("end", &end),
        ],
        "/loki/api/v1/series",
    )
    .await;
    assert_eq!(
        v["data"],
        json!([{"app": "api", "env": "prod", "service_name": "api"}]),
        "{v}"
    );
    let (_, v) = get(
        &srv.url,
        &a.report,
        &[
            ("query", r#"{app="nope"}"#),
            ("start", &start),
            ("end", &end),
        ],
        "/loki/api/v1/labels",
    )
    .await;
    assert_eq!(v, json!({"status": "success"}), "no data key when empty");

    // Bad pushes, each named.
    let bad = proto(vec![StreamAdapter {
        labels: r#"{app="api""#.into(),
        entries: vec![entry(ns(t0), "x", &[])],
        hash: 0,
    }]);
    let (st, text) = push(&srv.url, &a.ingest, bad, PROTO).await;
    assert_eq!(st, 400, "{text}");
    assert!(text.contains("couldn't parse labels"), "{text}");
    let (st, text) = push(&srv.url, &a.ingest, b"{}".to_vec(), &[]).await;
    assert_eq!((st, text.trim()), (400, "mime: no media type"));
    let long = "x".repeat(300 * 1024);
    let mixed = proto(vec![StreamAdapter {
        labels: r#"{app="long"}"#.into(),
        entries: vec![entry(ns(t0), &long, &[]), entry(ns(t0 + 1), "short", &[])],
        hash: 0,
    }]);
    let (st, text) = push(&srv.url, &a.ingest, mixed, PROTO).await;
    assert_eq!(st, 400, "{text}");
    assert!(
        text.contains("max entry size '262144' bytes exceeded"),
        "{text}"
    );
    let (st, _) = push(&srv.url, &a.report, proto(vec![]), PROTO).await;
    assert_eq!(st, 403, "a report token may not push");
    let (st, _) = push(&srv.url, "nope", proto(vec![]), PROTO).await;
    assert_eq!(st, 401);
    let bad_json = br#"{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}"#.to_vec();
    let (st, text) = push(&srv.url, &a.ingest, bad_json, JSON).await;
    assert_eq!(st, 400);
    assert!(text.contains("must be a string"), "{text}");

    // After a restart (the WAL replayed) and after a flush into the
    // archive, the same answers.
    srv.kill();
    let mut srv2 = Server::start(dir.path(), &["--flush-interval-secs", "1"]);
    srv2.admin = srv.admin.clone();
    check(
        srv2.url.clone(),
        a.report.clone(),
        b.report.clone(),
        q.clone(),
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let archive = dir.path().join("archive");
    while !has_logs(&archive) {
        assert!(std::time::Instant::now() < deadline, "no log file archived");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Wait for the head part to be released too, then read from the archive.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    check(srv2.url.clone(), a.report.clone(), b.report.clone(), q).await;
    srv2.kill();
}

fn has_logs(archive: &std::path::Path) -> bool {
    let Ok(tenants) = std::fs::read_dir(archive) else {
        return false;
    };
    tenants
        .flatten()
        .any(|t| t.path().join("signal=logs").exists())
}

/// The other endpoints Grafana calls, and every invalid query of the
/// corpus refused with 400 naming its problem.
#[tokio::test(flavor = "multi_thread")]
async fn loki_meta_endpoints_and_refusals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let a = srv.tenant("gamma");
    let b = srv.tenant("delta");
    let t0 = now_ms() - 60_000;
    let body = serde_json::to_vec(&json!({"streams":[
        {"stream":{"app":"api","level":"info"},"values":[[ns(t0).to_string(),"12345"],[ns(t0 + 1).to_string(),"678"]]},
        {"stream":{"app":"db","level":"error"},"values":[[ns(t0).to_string(),"1"]]}
    ]}))
    .expect("json");
    assert_eq!(push(&srv.url, &a.ingest, body, JSON).await.0, 204);
    let start = ns(t0 - 1000).to_string();
    let end = ns(now_ms()).to_string();
    let w = [("start", start.as_str()), ("end", end.as_str())];

    let q = |query: &'static str| {
        let mut v = w.to_vec();
        v.push(("query", query));
        v
    };
    let (st, v) = get(
        &srv.url,
        &a.report,
        &q(r#"{app=~".+"}"#),
        "/loki/api/v1/index/stats",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v,
        json!({"streams": 2, "chunks": 2, "bytes": 9, "entries": 3})
    );
    let (_, v) = get(
        &srv.url,
        &b.report,
        &q(r#"{app=~".+"}"#),
        "/loki/api/v1/index/stats",
    )
    .await;
    assert_eq!(
        v,
        json!({"streams": 0, "chunks": 0, "bytes": 0, "entries": 0}),
        "another workspace"
    );

    let (st, v) = get(
        &srv.url,
        &a.report,
        &q(r#"{app=~".+"}"#),
        "/loki/api/v1/index/volume",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["resultType"], "vector", "{v}");
    let got: Vec<(Value, Value)> = v["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|r| (r["metric"].clone(), r["value"][1].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!({"app": "api"}), json!("8")),
            (json!({"app": "db"}), json!("1"))
        ],
        "{v}"
    );
    let mut by_labels = q(r#"{app=~".+"}"#);
    by_labels.push(("aggregateBy", "labels"));
    let (_, v) = get(&srv.url, &a.report, &by_labels, "/loki/api/v1/index/volume").await;
    let names: Vec<Value> = v["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|r| r["metric"].clone())
        .collect();
    assert_eq!(
        names,
        vec![
            json!({"app": ""}),
            json!({"level": ""}),
            json!({"service_name": ""})
        ],
        "{v}"
    );
    let mut bad = q("{}");
    bad.push(("aggregateBy", "nope"));
    let (st, v) = get(&srv.url, &a.report, &bad, "/loki/api/v1/index/volume").await;
    assert_eq!((st, v), (400, json!("invalid aggregation option")));

    let (st, v) = get(
        &srv.url,
        &a.report,
        &q("{}"),
        "/loki/api/v1/detected_labels",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let labels: Vec<&str> = v["detectedLabels"]
        .as_array()
        .expect("labels")
        .iter()
        .filter_map(|l| l["label"].as_str())
        .collect();
    assert_eq!(labels, vec!["app", "level", "service_name"], "{v}");

    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("query", r#"sum(count_over_time({app="x"}[5m]))by(a)"#)],
        "/loki/api/v1/format_query",
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        v["data"], r#"sum by (a) (count_over_time({app="x"}[5m]))"#,
        "{v}"
    );
    let (st, v) = get(&srv.url, &a.report, &[], "/loki/api/v1/status/buildinfo").await;
    assert_eq!(st, 200);
    assert!(v["version"].is_string(), "{v}");
    let (st, _) = get(
        &srv.url,
        &a.report,
        &q(r#"{app="api"}"#),
        "/loki/api/v1/patterns",
    )
    .await;
    assert_eq!(
        st, 404,
        "patterns are not detected: Grafana shows them as not configured"
    );

    // Every invalid query of the corpus, on both query endpoints.
    let corpus = std::fs::read_to_string(
        crate::harness::manifest_dir().join("../../compat-tests/corpus/logql/invalid_queries.tsv"),
    )
    .expect("corpus");
    let mut n = 0;
    for line in corpus
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let query = line.split('\t').next().expect("query");
        let mut p = w.to_vec();
        p.push(("query", query));
        let (st, v) = get(&srv.url, &a.report, &p, "/loki/api/v1/query_range").await;
        assert_eq!(st, 400, "{query}: {v}");
        let msg = v.as_str().unwrap_or_default();
        assert!(
            msg.contains("parse error") || msg.contains("queries require"),
            "{query}: {msg}"
        );
        n += 1;
    }
    assert!(n >= 10, "only {n} invalid queries read");
    // Parameters refused as Loki refuses them.
    for (params, want) in [
        (
            vec![("query", r#"{a="b"}"#), ("limit", "0")],
            "limit must be a positive value",
        ),
        (
            vec![("query", r#"{a="b"}"#), ("direction", "sideways")],
            "invalid direction 'sideways'",
        ),
        (
            vec![("query", r#"{a="b"}"#), ("start", "abc")],
            "could not parse 'start' parameter",
        ),
        (
            vec![("query", r#"{a="b"}"#), ("start", "20"), ("end", "10")],
            "end timestamp must not be before",
        ),
        (
            vec![("query", r#"{a="b"}"#), ("step", "0")],
            "zero or negative query resolution step",
        ),
        (
            vec![
                ("query", r#"{a="b"}"#),
                ("start", "0"),
                ("end", "1000000000"),
                ("step", "1ms"),
            ],
            "exceeded maximum resolution of 11,000 points",
        ),
        (
            vec![("query", r#"{a="b"}"#), ("limit", "6000")],
            "max entries limit per query exceeded",
        ),
    ] {
        let (st, v) = get(&srv.url, &a.report, &params, "/loki/api/v1/query_range").await;
        assert_eq!(st, 400, "{params:?}: {v}");
        assert!(
            v.as_str().unwrap_or_default().contains(want),
            "{params:?}: {v}"
        );
    }
    // Nothing without a report token.
    let (st, _) = get(
        &srv.url,
        &a.ingest,
        &q(r#"{app="api"}"#),
        "/loki/api/v1/query_range",
    )
    .await;
    assert_eq!(st, 403);
    let (st, _) = get(
        &srv.url,
        "nope",
        &q(r#"{app="api"}"#),
        "/loki/api/v1/query_range",
    )
    .await;
    assert_eq!(st, 401);
}

/// Detected fields and their values, as Grafana's Logs Drilldown reads
/// them: from structured metadata (no parser), `json` (with the path) and
/// `logfmt` lines, the query's own parsers; one workspace's fields never
/// show in another's.
#[tokio::test(flavor = "multi_thread")]
async fn loki_detected_fields_and_their_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let t0 = now_ms() - 60_000;
    let body = proto(vec![
        StreamAdapter {
            labels: r#"{app="api"}"#.into(),
            entries: vec![
                entry(
                    ns(t0),
                    r#"{"status":200,"req":{"path":"/a","bytes":"1500b"}}"#,
                    &[("trace_id", "t1")],
                ),
                entry(
                    ns(t0 + 1),
                    r#"{"status":503,"req":{"path":"/b","bytes":"2kB"}}"#,
                    &[("trace_id", "t2")],
                ),
            ],
            hash: 0,
        },
        StreamAdapter {
            labels: r#"{app="web"}"#.into(),
            entries: vec![
                entry(ns(t0 + 2), "status=404 took=12ms ok=true", &[]),
                entry(ns(t0 + 3), "plain text", &[]),
            ],
            hash: 0,
        },
    ]);
    assert_eq!(push(&srv.url, &a.ingest, body, PROTO).await.0, 204);
    let other = proto(vec![StreamAdapter {
        labels: r#"{app="api"}"#.into(),
        entries: vec![entry(ns(t0), "secret_field=1", &[("beta_md", "x")])],
        hash: 0,
    }]);
    assert_eq!(push(&srv.url, &b.ingest, other, PROTO).await.0, 204);
    let start = ns(t0 - 1000).to_string();
    let end = ns(now_ms()).to_string();
    let params = |q: &'static str| {
        vec![
            ("query", q),
            ("start", start.as_str()),
            ("end", end.as_str()),
        ]
    };

    let (st, v) = get(
        &srv.url,
        &a.report,
        &params(r#"{app=~".+"}"#),
        "/loki/api/v1/detected_fields",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v,
        json!({"fields": [
            {"label": "ok", "type": "boolean", "cardinality": 1, "parsers": ["logfmt"]},
            {"label": "req_bytes", "type": "bytes", "cardinality": 2, "parsers": ["json"],
             "jsonPath": ["req", "bytes"]},
            {"label": "req_path", "type": "string", "cardinality": 2, "parsers": ["json"],
             "jsonPath": ["req", "path"]},
            {"label": "status", "type": "int", "cardinality": 3, "parsers": ["json", "logfmt"],
             "jsonPath": ["status"]},
            {"label": "took", "type": "duration", "cardinality": 1, "parsers": ["logfmt"]},
            {"label": "trace_id", "type": "string", "cardinality": 2, "parsers": null}
        ], "limit": 1000})
    );
    // The query's own parser and line filter, and a smaller limit.
    let mut p = params(r#"{app="web"} |= "status" | logfmt"#);
    p.push(("limit", "2"));
    let (st, v) = get(&srv.url, &a.report, &p, "/loki/api/v1/detected_fields").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["limit"], 2);
    assert_eq!(v["fields"].as_array().map(Vec::len), Some(2), "{v}");

    let (st, v) = get(
        &srv.url,
        &a.report,
        &params(r#"{app="api"}"#),
        "/loki/api/v1/detected_field/req_bytes/values",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v, json!({"values": ["1.5kB", "2.0kB"], "limit": 1000}));
    let (_, v) = get(
        &srv.url,
        &a.report,
        &params(r#"{app=~".+"}"#),
        "/loki/api/v1/detected_field/status/values",
    )
    .await;
    assert_eq!(v, json!({"values": ["200", "404", "503"], "limit": 1000}));
    // Nothing found: an empty object, as Loki answers.
    let (st, v) = get(
        &srv.url,
        &a.report,
        &params(r#"{app="none"}"#),
        "/loki/api/v1/detected_fields",
    )
    .await;
    assert_eq!((st, v), (200, json!({})));
    // Another workspace sees only its own.
    let (_, v) = get(
        &srv.url,
        &b.report,
        &params(r#"{app=~".+"}"#),
        "/loki/api/v1/detected_fields",
    )
    .await;
    let labels: Vec<&str> = v["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["label"].as_str())
        .collect();
    assert_eq!(labels, ["beta_md", "secret_field"]);
    let (_, v) = get(
        &srv.url,
        &a.report,
        &params(r#"{app=~".+"}"#),
        "/loki/api/v1/detected_field/secret_field/values",
    )
    .await;
    assert_eq!(v, json!({}));
    // Refusals, in Loki's words.
    for (q, extra, msg) in [
        (
            r#"count_over_time({app="api"}[1m])"#,
            None,
            "only log selector is supported",
        ),
        (
            r#"{app="api"}"#,
            Some(("line_limit", "0")),
            "limit must be a positive value",
        ),
        (
            r#"{app="api"}"#,
            Some(("line_limit", "6000")),
            "max entries limit per query exceeded",
        ),
        (r#"{app="api"}"#, Some(("limit", "x")), "invalid syntax"),
    ] {
        let mut p = vec![
            ("query", q),
            ("start", start.as_str()),
            ("end", end.as_str()),
        ];
        p.extend(extra);
        let (st, v) = get(&srv.url, &a.report, &p, "/loki/api/v1/detected_fields").await;
        assert_eq!(st, 400, "{q} {extra:?}: {v}");
        assert!(v.as_str().is_some_and(|m| m.contains(msg)), "{q}: {v}");
    }
}
