//! Loki's live tail over a WebSocket: the history first, then live entries
//! of the reader's workspace that the query selects, one stream object per
//! entry; parameters refused before the upgrade, the workspace's tail limit
//! and the longest tail as close frames with Loki's reasons.

use std::time::Duration;

use serde_json::Value;
use sightline_ingest::loki_push::StreamAdapter;

use crate::harness::{
    Server, TailEvent, TailSocket, log_entry as entry, log_push_body as proto, now_ms,
    tail_connect, tail_next,
};

async fn push(url: &str, token: &str, labels: &str, lines: &[(i64, &str)]) {
    let body = proto(vec![StreamAdapter {
        labels: labels.into(),
        entries: lines.iter().map(|(ts, l)| entry(*ts, l, &[])).collect(),
        hash: 0,
    }]);
    let resp = reqwest::Client::new()
        .post(format!("{url}/loki/api/v1/push"))
        .bearer_auth(token)
        .header("Content-Type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .expect("push");
    assert_eq!(resp.status().as_u16(), 204);
}

/// The (line, stream labels) of a tail message, in its order; each entry
/// must be its own stream object.
fn entries(m: &Value) -> Vec<(String, Value)> {
    m["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| {
            let values = s["values"].as_array().expect("values");
            assert_eq!(values.len(), 1, "one entry per stream object: {m}");
            (
                values[0][1].as_str().expect("line").to_string(),
                s["stream"].clone(),
            )
        })
        .collect()
}

/// Lines received until `want` lines have arrived or the tail goes quiet.
async fn collect(ws: &mut TailSocket, want: usize) -> Vec<(String, Value)> {
    let mut got = Vec::new();
    while got.len() < want {
        match tail_next(ws, Duration::from_secs(10)).await {
            TailEvent::Message(m) => got.extend(entries(&m)),
            other => panic!("expected entries, got {other:?} after {got:?}"),
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn loki_tail_follows_live_entries_of_its_workspace_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(
        dir.path(),
        &[
            "--max-tails-per-workspace",
            "2",
            "--tail-max-duration-secs",
            "8",
        ],
    );
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let ns = |ms: i64| ms * 1_000_000;
    let t0 = now_ms() - 60_000;
    push(
        &srv.url,
        &a.ingest,
        r#"{app="api"}"#,
        &[
            (ns(t0), "old x 1"),
            (ns(t0 + 1), "old y 2"),
            (ns(t0 + 2), "old x 3"),
        ],
    )
    .await;
    push(
        &srv.url,
        &b.ingest,
        r#"{app="api"}"#,
        &[(ns(t0), "beta x old")],
    )
    .await;

    let q = r#"{app="api"} |= "x" | label_format seen="yes""#;
    let start = ns(t0 - 1000).to_string();
    let mut ws = tail_connect(&srv.url, &a.report, &[("query", q), ("start", &start)])
        .await
        .expect("upgrade");
    // History first, oldest first, through the pipeline.
    let hist = collect(&mut ws, 2).await;
    let lines: Vec<&str> = hist.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(lines, ["old x 1", "old x 3"]);
    assert_eq!(hist[0].1["seen"], "yes");
    assert_eq!(hist[0].1["app"], "api");

    // Live: beta's entries and lines the filter drops never arrive.
    let now = ns(now_ms());
    push(
        &srv.url,
        &b.ingest,
        r#"{app="api"}"#,
        &[(now, "beta x live")],
    )
    .await;
    push(
        &srv.url,
        &a.ingest,
        r#"{app="api"}"#,
        &[
            (now, "live y"),
            (now + 1, "live x 1"),
            (now + 2, "live x 2"),
        ],
    )
    .await;
    push(&srv.url, &a.ingest, r#"{app="web"}"#, &[(now + 3, "web x")]).await;
    push(
        &srv.url,
        &a.ingest,
        r#"{app="api"}"#,
        &[(now + 4, "live x 3")],
    )
    .await;
    let live = collect(&mut ws, 3).await;
    let lines: Vec<&str> = live.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(lines, ["live x 1", "live x 2", "live x 3"]);
    assert!(matches!(
        tail_next(&mut ws, Duration::from_millis(1500)).await,
        TailEvent::Quiet
    ));

    // The workspace's limit: a second tail is fine, a third is closed with
    // Loki's reason; beta's own tails are not counted against alpha.
    let mut second = tail_connect(&srv.url, &a.report, &[("query", r#"{app="web"}"#)])
        .await
        .expect("upgrade");
    let mut third = tail_connect(&srv.url, &a.report, &[("query", r#"{app="web"}"#)])
        .await
        .expect("upgrade");
    match tail_next(&mut third, Duration::from_secs(10)).await {
        TailEvent::Closed(code, reason) => {
            assert_eq!(code, 1011);
            assert_eq!(
                reason,
                "max concurrent tail requests limit exceeded, count > limit (3 > 2)"
            );
        }
        other => panic!("expected a close, got {other:?}"),
    }
    let mut beta = tail_connect(&srv.url, &b.report, &[("query", r#"{app="api"}"#)])
        .await
        .expect("upgrade");
    let beta_hist = collect(&mut beta, 2).await;
    assert!(
        beta_hist.iter().all(|(l, _)| l.starts_with("beta")),
        "{beta_hist:?}"
    );
    let web = collect(&mut second, 1).await;
    assert_eq!(web[0].0, "web x");

    // The longest tail: closed with 1011 and Loki's reason.
    let closed = loop {
        match tail_next(&mut ws, Duration::from_secs(15)).await {
            TailEvent::Closed(code, reason) => break (code, reason),
            TailEvent::Message(m) => assert!(entries(&m).is_empty(), "{m}"),
            TailEvent::Quiet => panic!("the tail outlived its longest duration"),
        }
    };
    assert_eq!(
        closed,
        (1011, "reached tail max duration limit".to_string())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn loki_tail_refuses_bad_requests_before_the_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let a = srv.tenant("alpha");
    let sel = r#"{app="api"}"#;
    let cases: &[(&str, &[(&str, &str)], u16, &str)] = &[
        ("bad query", &[("query", "{app=")], 400, "parse error"),
        (
            "metric query",
            &[("query", r#"count_over_time({app="api"}[1m])"#)],
            400,
            "only log selector is supported",
        ),
        (
            "delay",
            &[("query", sel), ("delay_for", "6")],
            400,
            "delay_for can't be greater than 5",
        ),
        (
            "delay syntax",
            &[("query", sel), ("delay_for", "soon")],
            400,
            "invalid syntax",
        ),
        (
            "limit",
            &[("query", sel), ("limit", "5001")],
            400,
            "max entries limit per query exceeded",
        ),
        (
            "start",
            &[("query", sel), ("start", "yesterday")],
            400,
            "could not parse 'start' parameter",
        ),
    ];
    for (name, params, status, text) in cases {
        match tail_connect(&srv.url, &a.report, params).await {
            Ok(_) => panic!("{name}: upgraded"),
            Err((st, body)) => {
                assert_eq!(st, *status, "{name}: {body}");
                assert!(body.contains(text), "{name}: {body}");
            }
        }
    }
    // The doors: no token, a wrong kind of token.
    let params = [("query", sel)];
    assert_eq!(
        tail_connect(&srv.url, "", &params).await.err().map(|e| e.0),
        Some(401)
    );
    assert_eq!(
        tail_connect(&srv.url, &a.ingest, &params)
            .await
            .err()
            .map(|e| e.0),
        Some(403)
    );
    // A plain GET without the upgrade is refused with a message.
    let resp = reqwest::Client::new()
        .get(format!("{}/loki/api/v1/tail", srv.url))
        .query(&params)
        .bearer_auth(&a.report)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().await.expect("body").contains("websocket"));
}

/// A report token scoped to one application tails only that application's
/// streams, whatever its query asks for, in its history and live.
#[tokio::test(flavor = "multi_thread")]
async fn a_scoped_reader_tails_only_its_scope() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    srv.cli(&["workspace", "create", "acme"]);
    srv.cli(&["project", "create", "web", "--workspace", "acme"]);
    for app in ["shop", "billing"] {
        srv.cli(&[
            "app",
            "create",
            app,
            "--workspace",
            "acme",
            "--project",
            "web",
        ]);
    }
    let secret = |v: Value| v["secret"].as_str().expect("secret").to_string();
    let wide_in = secret(srv.cli(&["token", "create", "--workspace", "acme", "--kind", "ingest"]));
    let shop_rd = secret(srv.cli(&[
        "token",
        "create",
        "--workspace",
        "acme",
        "--kind",
        "report",
        "--app",
        "shop",
    ]));
    let ns = now_ms() * 1_000_000;
    for app in ["shop", "billing"] {
        let labels = format!(r#"{{job="w", project="web", application="{app}"}}"#);
        push(
            &srv.url,
            &wide_in,
            &labels,
            &[(ns - 5_000_000_000, &format!("{app} old"))],
        )
        .await;
    }
    let mut ws = tail_connect(&srv.url, &shop_rd, &[("query", r#"{job="w"}"#)])
        .await
        .expect("upgrade");
    let hist = collect(&mut ws, 1).await;
    for app in ["billing", "shop"] {
        let labels = format!(r#"{{job="w", project="web", application="{app}"}}"#);
        push(&srv.url, &wide_in, &labels, &[(ns, &format!("{app} live"))]).await;
    }
    let live = collect(&mut ws, 1).await;
    assert!(matches!(
        tail_next(&mut ws, Duration::from_millis(1500)).await,
        TailEvent::Quiet
    ));
    let lines: Vec<&str> = hist.iter().chain(&live).map(|(l, _)| l.as_str()).collect();
    assert_eq!(lines, ["shop old", "shop live"]);
    assert!(
        hist.iter()
            .chain(&live)
            .all(|(_, s)| s["application"] == "shop")
    );
}
