//! The server with ClickHouse as its hot tier (the test server over
//! ClickHouse's engine, or `SIGHTLINE_TEST_CLICKHOUSE_URL`): reads of
//! drained data, tenant isolation and hostile input on every read path,
//! an outage mid-ingest, and the WAL budget.

use std::time::{Duration, Instant};

use serde_json::Value;
use sightline_clickhouse::testing::TestClickHouse;
use sightline_clickhouse::{ClickHouse, ClickHouseConfig};

use crate::harness::{Server, get, metrics_text, now_ms, push, series, write_body};

fn server_args(cfg: &ClickHouseConfig, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "--clickhouse-url".into(),
        cfg.url.clone(),
        "--clickhouse-database".into(),
        cfg.database.clone(),
        "--flush-interval-secs".into(),
        "1".into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn start(dir: &std::path::Path, args: &[String]) -> Server {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(dir, &a)
}

async fn metric(srv: &Server, name: &str) -> f64 {
    metrics_text(&srv.url)
        .await
        .lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Whether `/metrics` has a line for `name` yet.
async fn has_metric(srv: &Server, name: &str) -> bool {
    metrics_text(&srv.url)
        .await
        .lines()
        .any(|l| l.starts_with(name))
}

/// Waits until the WAL is empty (everything acknowledged is in ClickHouse).
async fn drained(srv: &Server, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        // The gauge is set every half second; two readings of zero with no
        // parts pending mean the flusher has nothing left.
        if has_metric(srv, "sightline_wal_bytes").await
            && metric(srv, "sightline_wal_bytes").await == 0.0
            && metric(srv, "sightline_flush_pending_parts").await == 0.0
        {
            tokio::time::sleep(Duration::from_millis(1200)).await;
            if has_metric(srv, "sightline_wal_bytes").await
                && metric(srv, "sightline_wal_bytes").await == 0.0
            {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the WAL did not drain into ClickHouse"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drained_data_is_read_from_clickhouse_per_tenant_and_hostile_input_is_harmless() {
    let ch = TestClickHouse::start(None);
    let cfg = ch.config(30);
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start(dir.path(), &server_args(&cfg, &[]));
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let t = now_ms() - 600_000;
    let hostile = "x'); DROP TABLE metric_samples; --\\";
    let samples: Vec<(i64, f64)> = (0..40).map(|i| (t + i * 15_000, i as f64)).collect();
    let foreign: Vec<(i64, f64)> = samples.iter().map(|&(t, _)| (t, 1e9)).collect();
    for (tok, vals) in [(&a.ingest, &samples), (&b.ingest, &foreign)] {
        let body = write_body(vec![
            series(
                &[("__name__", "up"), ("job", "api"), ("note", hostile)],
                vals,
            ),
            series(&[("__name__", "reqs"), ("job", "api")], vals),
        ]);
        assert_eq!(push(&srv.url, tok, body).await, 204);
    }
    drained(&srv, Duration::from_secs(60)).await;
    // The data is in ClickHouse, not only in the head.
    let direct = ClickHouse::new(cfg.clone());
    assert_eq!(
        direct.count_rows("metric_samples").await.expect("count"),
        160
    );

    let secs = |ms: i64| format!("{:.3}", ms as f64 / 1000.0);
    let at = secs(t + 39 * 15_000);
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("query", "up"), ("time", &at)],
        "/api/v1/query",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let r = &v["data"]["result"];
    assert_eq!(r.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(r[0]["metric"]["note"], hostile);
    assert_eq!(r[0]["value"][1], "39");
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[
            ("query", "sum(rate(reqs[5m]))"),
            ("start", &secs(t + 300_000)),
            ("end", &at),
            ("step", "60"),
        ],
        "/api/v1/query_range",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let vals = v["data"]["result"][0]["values"]
        .as_array()
        .expect("values")
        .clone();
    assert!(!vals.is_empty());
    for p in &vals {
        let x: f64 = p[1].as_str().expect("string").parse().expect("number");
        assert!((x - 1.0 / 15.0).abs() < 1e-9, "{p}");
    }

    // Hostile selectors, names and regexes on every read path: a clear 400
    // or the caller's own rows, never a 5xx and never beta's 1e9.
    let start = secs(t);
    let values = [
        "'",
        "\\",
        "\\'",
        "--",
        "/*",
        "'); DROP TABLE metric_samples; --",
        "x' OR '1'='1",
        "{tenant:String}",
        "`",
        hostile,
    ];
    let mut selectors: Vec<String> = Vec::new();
    for v in values {
        let q = serde_json::to_string(v).expect("quote");
        selectors.push(format!("up{{note={q}}}"));
        selectors.push(format!("up{{note!={q}}}"));
        selectors.push(format!("{{__name__={q}}}"));
        selectors.push(format!("{{\"j'ob\"={q}, __name__=\"up\"}}"));
        selectors.push(format!("up{{note=~{q}}}"));
        selectors.push(format!("up{{note!~{q}}}"));
    }
    selectors.push("up{note=~\"(\"}".into());
    // Short to send, huge once compiled: refused by the size limit.
    selectors.push("up{note=~\"((a{100}){100}){100}\"}".into());
    selectors.push("{__name__=~\".+\"}".into());
    for sel in &selectors {
        let checks: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("/api/v1/query", vec![("query", sel), ("time", &at)]),
            (
                "/api/v1/query_range",
                vec![
                    ("query", sel),
                    ("start", &start),
                    ("end", &at),
                    ("step", "60"),
                ],
            ),
            (
                "/api/v1/series",
                vec![("match[]", sel), ("start", &start), ("end", &at)],
            ),
            (
                "/api/v1/labels",
                vec![("match[]", sel), ("start", &start), ("end", &at)],
            ),
            (
                "/api/v1/label/job/values",
                vec![("match[]", sel), ("start", &start), ("end", &at)],
            ),
        ];
        for (path, params) in checks {
            let (st, v) = get(&srv.url, &a.report, &params, path).await;
            assert!(st == 200 || st == 400, "{path} {sel}: {st} {v}");
            if st == 400 {
                assert_eq!(v["errorType"], "bad_data", "{path} {sel}: {v}");
                let msg = v["error"].as_str().unwrap_or("");
                assert!(!msg.contains("Syntax error"), "{path} {sel}: {msg}");
            } else {
                let text = v.to_string();
                assert!(
                    !text.contains("1000000000"),
                    "{path} {sel}: foreign data: {text}"
                );
            }
        }
    }
    for name in ["j'ob", "x') OR 1=1 --", "labels['x']", "{k0:String}"] {
        let path = format!("/api/v1/label/{}/values", urlencode(name));
        let (st, v) = get(
            &srv.url,
            &a.report,
            &[("start", &start), ("end", &at)],
            &path,
        )
        .await;
        assert!(st == 200 || st == 400, "{path}: {st} {v}");
        if st == 200 {
            assert_eq!(v["data"], Value::Array(vec![]), "{path}");
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A Sightline server over a local ClickHouse test server that a test may
/// stop and restart (on the same tables); `None` with an external
/// ClickHouse, which a test cannot stop.
struct Stoppable {
    ch_dir: tempfile::TempDir,
    ch: TestClickHouse,
    cfg: ClickHouseConfig,
    _dir: tempfile::TempDir,
    srv: Server,
}

impl Stoppable {
    fn start(extra: &[&str]) -> Option<Stoppable> {
        let ch_dir = tempfile::tempdir().expect("tempdir");
        let ch = TestClickHouse::start(Some(ch_dir.path()));
        if !ch.is_local() {
            eprintln!("external ClickHouse: outages are simulated only with the test server");
            return None;
        }
        let cfg = ch.config(30);
        let dir = tempfile::tempdir().expect("tempdir");
        let srv = start(dir.path(), &server_args(&cfg, extra));
        Some(Stoppable {
            ch_dir,
            ch,
            cfg,
            _dir: dir,
            srv,
        })
    }

    fn restart_clickhouse(&mut self) {
        self.ch.restart(self.ch_dir.path());
    }
}

/// Pushes each body; returns (samples acknowledged, requests refused),
/// counting `per_body` samples per acknowledged body.
async fn push_counted(
    srv: &Server,
    token: &str,
    bodies: Vec<Vec<u8>>,
    per_body: usize,
    pause: Duration,
) -> (usize, usize) {
    let (mut acked, mut refused) = (0, 0);
    for b in bodies {
        match push(&srv.url, token, b).await {
            204 => acked += per_body,
            _ => refused += 1,
        }
        tokio::time::sleep(pause).await;
    }
    (acked, refused)
}

/// ClickHouse is stopped while a client keeps pushing: every write is
/// acknowledged from the WAL, the flusher retries with backoff, and once
/// ClickHouse is back every acknowledged sample is in it exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clickhouse_outage_mid_ingest_loses_nothing_and_writes_nothing_twice() {
    let Some(mut env) = Stoppable::start(&[
        "--head-max-samples",
        "3000",
        "--clickhouse-batch-rows",
        "700",
    ]) else {
        return;
    };
    let srv = &env.srv;
    let a = srv.tenant("alpha");
    let t0 = now_ms() - 3_600_000;
    let mut batch_no = 0i64;
    let mut pushed = |phase_batches: usize| {
        let mut bodies = Vec::new();
        for _ in 0..phase_batches {
            let ts: Vec<_> = (0..20)
                .map(|s| {
                    let job = format!("j{s}");
                    let pts: Vec<(i64, f64)> = (0..25)
                        .map(|k| (t0 + (batch_no * 25 + k) * 1_000, (batch_no * 25 + k) as f64))
                        .collect();
                    series(&[("__name__", "m"), ("job", &job)], &pts)
                })
                .collect();
            batch_no += 1;
            bodies.push(write_body(ts));
        }
        bodies
    };
    // Before, during and after the outage; 500 samples per push.
    let (mut acked, mut refused) =
        push_counted(srv, &a.ingest, pushed(10), 500, Duration::ZERO).await;
    env.ch.stop();
    let failures_before = metric(srv, "sightline_flush_failures_total").await;
    let (n, r) = push_counted(srv, &a.ingest, pushed(30), 500, Duration::from_millis(100)).await;
    (acked, refused) = (acked + n, refused + r);
    // Queries of the hot window say plainly that ClickHouse is away.
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("query", "count(m)")],
        "/api/v1/query",
    )
    .await;
    assert_eq!(st, 503, "{v}");
    assert_eq!(v["errorType"], "unavailable");
    assert!(
        metric(&srv, "sightline_flush_failures_total").await > failures_before,
        "the flusher noticed the outage"
    );
    let bodies = pushed(10);
    env.restart_clickhouse();
    let srv = &env.srv;
    let (n, r) = push_counted(srv, &a.ingest, bodies, 500, Duration::ZERO).await;
    (acked, refused) = (acked + n, refused + r);
    assert_eq!(refused, 0, "nothing under the WAL budget is refused");
    drained(srv, Duration::from_secs(120)).await;
    let direct = ClickHouse::new(env.cfg.clone());
    let stored = direct.count_rows("metric_samples").await.expect("count");
    assert_eq!(
        stored as usize, acked,
        "every acknowledged sample, exactly once"
    );
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[
            ("query", "count_over_time(m[2h])"),
            ("time", &format!("{:.3}", now_ms() as f64 / 1000.0)),
        ],
        "/api/v1/query",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let total: f64 = v["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|r| {
            r["value"][1]
                .as_str()
                .expect("v")
                .parse::<f64>()
                .expect("f")
        })
        .sum();
    assert_eq!(total as usize, acked);
}

/// With ClickHouse away and a small WAL budget, ingest answers 429 and
/// counts it; once ClickHouse is back the budget frees up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_wal_budget_answers_429_until_clickhouse_returns() {
    let Some(mut env) =
        Stoppable::start(&["--wal-max-bytes", "200000", "--head-max-samples", "1000"])
    else {
        return;
    };
    let srv = &env.srv;
    let a = srv.tenant("alpha");
    env.ch.stop();
    let t0 = now_ms() - 600_000;
    let mut statuses = Vec::new();
    for i in 0..2_000i64 {
        let pts: Vec<(i64, f64)> = (0..100).map(|k| (t0 + i * 100 + k, k as f64)).collect();
        let body = write_body(vec![series(&[("__name__", "m"), ("job", "x")], &pts)]);
        let status = push(&srv.url, &a.ingest, body).await;
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses[..statuses.len() - 1].iter().all(|&s| s == 204));
    assert!(
        metric(
            &srv,
            "sightline_ingest_refused_total{tenant=\"alpha\",signal=\"metrics\",reason=\"wal_full\"}"
        )
        .await
            >= 1.0
    );
    // The refusal tells the sender when to come back and why.
    let body = write_body(vec![series(
        &[("__name__", "m"), ("job", "x")],
        &[(now_ms(), 1.0)],
    )]);
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/write", srv.url))
        .bearer_auth(&a.ingest)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .body(body.clone())
        .send()
        .await
        .expect("push");
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let text = resp.text().await.expect("body");
    assert!(text.contains("write-ahead log"), "{text}");
    env.restart_clickhouse();
    let srv = &env.srv;
    drained(srv, Duration::from_secs(120)).await;
    assert_eq!(push(&srv.url, &a.ingest, body).await, 204);
}

/// Spans drained into ClickHouse's spans table are read back from it
/// through the trace API exactly as from the head, per workspace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_drained_to_clickhouse_answer_the_trace_api() {
    let ch = TestClickHouse::start(None);
    let cfg = ch.config(30);
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start(dir.path(), &server_args(&cfg, &[]));
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let out = crate::otlp::sdk(
        &srv.url,
        "http",
        &a.ingest,
        false,
        &crate::traces::trace_spec("cart-ch"),
    );
    drained(&srv, Duration::from_secs(60)).await;
    let direct = ClickHouse::new(cfg.clone());
    assert_eq!(direct.count_rows("spans").await.expect("count"), 2);
    crate::traces::check_trace(&srv, &a, &b, "cart-ch", &out).await;
}
