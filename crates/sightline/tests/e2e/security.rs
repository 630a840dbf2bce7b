//! The control plane enforced at every door, through the real server:
//! token kinds, revocation and expiry, scopes below the workspace, allowed
//! services, redaction, rate limits, quotas, the series cap, workspace
//! admins and the audit log; and revocation across two server processes
//! sharing one PostgreSQL control plane.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Server, get, metrics_text, now_ms, push, series, write_body};

/// Every read endpoint, as (path, query).
const READS: &[(&str, &[(&str, &str)])] = &[
    ("/api/v1/query", &[("query", "up")]),
    (
        "/api/v1/query_range",
        &[
            ("query", "up"),
            ("start", "0"),
            ("end", "60"),
            ("step", "15"),
        ],
    ),
    ("/api/v1/labels", &[]),
    ("/api/v1/label/job/values", &[]),
    ("/api/v1/series", &[("match[]", "up")]),
    ("/api/v1/metadata", &[]),
];

async fn admin_call(
    srv: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let c = reqwest::Client::new();
    let url = format!("{}{path}", srv.url);
    let mut req = match method {
        "POST" => c.post(&url),
        "DELETE" => c.delete(&url),
        _ => c.get(&url),
    }
    .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("admin call");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn up(
    job: &str,
    extra: &[(&str, &str)],
    t: i64,
    v: f64,
) -> sightline_ingest::remote_write::TimeSeries {
    let mut labels = vec![("__name__", "up"), ("job", job)];
    labels.extend_from_slice(extra);
    series(&labels, &[(t, v)])
}

fn secret(v: &Value) -> String {
    v["secret"].as_str().expect("secret").to_string()
}

/// The value of a counter line on /metrics with all these label pairs.
fn counter(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn token_kinds_revocation_and_expiry_hold_at_every_door() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let t = srv.tenant("shop");
    let now = now_ms();
    assert_eq!(
        push(
            &srv.url,
            &t.ingest,
            write_body(vec![up("api", &[], now, 1.0)])
        )
        .await,
        204
    );
    // A leaked ingest token reads nothing.
    for (path, q) in READS {
        let (st, v) = get(&srv.url, &t.ingest, q, path).await;
        assert_eq!(st, 403, "{path}: {v}");
        assert_eq!(v["errorType"], "forbidden", "{path}");
    }
    let (st, _) = admin_call(&srv, &t.ingest, "GET", "/admin/v1/tokens", None).await;
    assert_eq!(st, 403, "an ingest token does not manage");
    // A report token writes nothing, and does not manage.
    assert_eq!(
        push(
            &srv.url,
            &t.report,
            write_body(vec![up("api", &[], now, 2.0)])
        )
        .await,
        403
    );
    let (st, _) = admin_call(
        &srv,
        &t.report,
        "POST",
        "/admin/v1/workspaces",
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(st, 403);
    // An admin token neither reads nor writes telemetry.
    let (st, _) = get(&srv.url, &srv.admin, &[("query", "up")], "/api/v1/query").await;
    assert_eq!(st, 403);
    assert_eq!(
        push(
            &srv.url,
            &srv.admin,
            write_body(vec![up("api", &[], now, 2.0)])
        )
        .await,
        403
    );
    // A cli viewer reads; it does not manage.
    let cli = srv.cli(&[
        "token",
        "create",
        "--workspace",
        "shop",
        "--kind",
        "cli",
        "--role",
        "viewer",
    ]);
    let (st, v) = get(&srv.url, &secret(&cli), &[("query", "up")], "/api/v1/query").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["result"].as_array().map(Vec::len), Some(1));
    let (st, _) = admin_call(&srv, &secret(&cli), "GET", "/admin/v1/tokens", None).await;
    assert_eq!(st, 403);

    // Revoked: 401 at once, on every door.
    srv.cli(&["token", "revoke", &t.report_id]);
    for (path, q) in READS {
        let (st, _) = get(&srv.url, &t.report, q, path).await;
        assert_eq!(st, 401, "{path}");
    }
    // Expired: 401.
    let short = srv.cli(&[
        "token",
        "create",
        "--workspace",
        "shop",
        "--kind",
        "report",
        "--expires-in-secs",
        "1",
    ]);
    let (st, _) = get(
        &srv.url,
        &secret(&short),
        &[("query", "up")],
        "/api/v1/query",
    )
    .await;
    assert_eq!(st, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (st, v) = get(
        &srv.url,
        &secret(&short),
        &[("query", "up")],
        "/api/v1/query",
    )
    .await;
    assert_eq!(st, 401, "{v}");
    // No token at all, or a tenant header instead of one: refused.
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/query?query=up", srv.url))
        .header("X-Scope-OrgID", "shop")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 401);

    // The audit log saw the denials and the admin actions, with an address.
    let log = srv.cli(&["audit", "list", "--limit", "1000"]);
    let log = log.as_array().expect("events");
    assert!(
        log.iter()
            .any(|e| e["action"] == "denied" && e["address"] == "127.0.0.1"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|e| e["action"] == "token.revoke" && e["target"] == t.report_id.as_str())
    );
    assert!(
        log.iter()
            .any(|e| e["action"] == "workspace.create" && e["target"] == "shop")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scoped_tokens_write_their_labels_read_only_their_scope_and_keep_to_their_services() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &["--redact-keys", "session_id"]);
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
        srv.cli(&["env", "create", "prod", "--workspace", "acme", "--app", app]);
    }
    let shop_in = secret(&srv.cli(&[
        "token",
        "create",
        "--workspace",
        "acme",
        "--kind",
        "ingest",
        "--app",
        "shop",
        "--env",
        "prod",
        "--service",
        "checkout",
        "--service",
        "cart",
    ]));
    let wide_in = secret(&srv.cli(&["token", "create", "--workspace", "acme", "--kind", "ingest"]));
    let shop_rd = secret(&srv.cli(&[
        "token",
        "create",
        "--workspace",
        "acme",
        "--kind",
        "report",
        "--app",
        "shop",
    ]));
    let wide_rd = secret(&srv.cli(&["token", "create", "--workspace", "acme", "--kind", "report"]));
    let now = now_ms();

    // The producer claims another application and environment: overwritten.
    let body = write_body(vec![
        up(
            "checkout",
            &[
                ("application", "billing"),
                ("environment", "dev"),
                ("password", "hunter2"),
            ],
            now,
            1.0,
        ),
        up(
            "cart",
            &[("session_id", "abc"), ("Authorization", "Bearer x")],
            now,
            1.0,
        ),
    ]);
    assert_eq!(push(&srv.url, &shop_in, body).await, 204);
    // A service outside the token's list: the whole request is refused.
    let body = write_body(vec![
        up("checkout", &[], now, 5.0),
        up("payments", &[], now, 5.0),
    ]);
    assert_eq!(push(&srv.url, &shop_in, body).await, 403);
    // The workspace-wide token writes billing's series as they are, with
    // metadata for a metric only billing has.
    let body = sightline_ingest::remote_write::encode_snappy(
        &sightline_ingest::remote_write::WriteRequest {
            timeseries: vec![
                up("invoices", &[("application", "billing")], now, 3.0),
                series(
                    &[("__name__", "billing_only"), ("application", "billing")],
                    &[(now, 1.0)],
                ),
            ],
            metadata: ["billing_only", "up"]
                .iter()
                .map(|m| sightline_ingest::remote_write::MetricMetadataProto {
                    r#type: 1,
                    metric_family_name: m.to_string(),
                    help: format!("help of {m}"),
                    unit: String::new(),
                })
                .collect(),
        },
    );
    assert_eq!(push(&srv.url, &wide_in, body).await, 204);

    let t = format!("{:.3}", (now + 1) as f64 / 1000.0);
    let (st, v) = get(
        &srv.url,
        &wide_rd,
        &[("query", "up"), ("time", &t)],
        "/api/v1/query",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let res = v["data"]["result"].as_array().expect("vector").clone();
    assert_eq!(res.len(), 3, "{v}");
    let checkout = res
        .iter()
        .find(|r| r["metric"]["job"] == "checkout")
        .expect("checkout");
    assert_eq!(checkout["metric"]["application"], "shop");
    assert_eq!(checkout["metric"]["environment"], "prod");
    assert_eq!(checkout["metric"]["project"], "web");
    assert_eq!(checkout["metric"]["password"], "[REDACTED]");
    assert_eq!(
        checkout["value"][1], "1",
        "the refused request wrote nothing"
    );
    let cart = res
        .iter()
        .find(|r| r["metric"]["job"] == "cart")
        .expect("cart");
    assert_eq!(cart["metric"]["session_id"], "[REDACTED]", "configured key");
    assert_eq!(cart["metric"]["Authorization"], "[REDACTED]");
    assert!(res.iter().all(|r| r["metric"]["job"] != "payments"));

    // The shop-scoped reader sees shop's series only, on every endpoint,
    // whatever its query names.
    for q in [
        "up",
        "up{application=\"billing\"}",
        "up{application=~\".+\"}",
        "count(up)",
    ] {
        let (st, v) = get(
            &srv.url,
            &shop_rd,
            &[("query", q), ("time", &t)],
            "/api/v1/query",
        )
        .await;
        assert_eq!(st, 200, "{v}");
        for r in v["data"]["result"].as_array().expect("vector") {
            if q.starts_with("count") {
                assert_eq!(r["value"][1], "2", "{v}");
            } else {
                assert_eq!(r["metric"]["application"], "shop", "{q}: {v}");
            }
        }
    }
    let (_, v) = get(&srv.url, &shop_rd, &[], "/api/v1/label/job/values").await;
    assert_eq!(v["data"], json!(["cart", "checkout"]));
    let (_, v) = get(
        &srv.url,
        &shop_rd,
        &[("match[]", "{__name__=~\".+\"}")],
        "/api/v1/series",
    )
    .await;
    assert!(
        v["data"]
            .as_array()
            .expect("list")
            .iter()
            .all(|s| s["application"] == "shop"),
        "{v}"
    );
    let (_, v) = get(&srv.url, &wide_rd, &[], "/api/v1/label/job/values").await;
    assert_eq!(v["data"], json!(["cart", "checkout", "invoices"]));
    // Metadata, kept per workspace, shows a scoped reader only its metrics.
    let (_, v) = get(&srv.url, &wide_rd, &[], "/api/v1/metadata").await;
    assert!(
        v["data"]["billing_only"].is_array() && v["data"]["up"].is_array(),
        "{v}"
    );
    let (_, v) = get(&srv.url, &shop_rd, &[], "/api/v1/metadata").await;
    assert!(v["data"]["up"].is_array(), "{v}");
    assert!(v["data"].get("billing_only").is_none(), "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_quotas_and_the_series_cap_refuse_with_429_and_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    srv.cli(&["workspace", "create", "busy", "--max-active-series", "5"]);
    srv.cli(&["workspace", "create", "small", "--daily-byte-quota", "4000"]);
    let now = now_ms();

    // Rate: 5 requests per second, burst 5.
    let fast = secret(&srv.cli(&[
        "token",
        "create",
        "--workspace",
        "busy",
        "--kind",
        "ingest",
        "--rate-limit-per-sec",
        "5",
        "--rate-burst",
        "5",
    ]));
    let mut refused = 0;
    let mut retry_after = Vec::new();
    for i in 0..20 {
        let resp = reqwest::Client::new()
            .post(format!("{}/api/v1/write", srv.url))
            .bearer_auth(&fast)
            .header("Content-Encoding", "snappy")
            .body(write_body(vec![up("r", &[], now + i, 1.0)]))
            .send()
            .await
            .expect("push");
        if resp.status().as_u16() == 429 {
            refused += 1;
            retry_after.push(
                resp.headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .expect("Retry-After"),
            );
        } else {
            assert_eq!(resp.status().as_u16(), 204);
        }
    }
    assert!(
        refused >= 10,
        "a burst of 20 against 5/s: {refused} refused"
    );
    assert!(retry_after.iter().all(|&s| s >= 1));
    // Under the limit nothing is refused.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for i in 0..4 {
        assert_eq!(
            push(
                &srv.url,
                &fast,
                write_body(vec![up("r", &[], now + 100 + i, 1.0)])
            )
            .await,
            204
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let m = metrics_text(&srv.url).await;
    assert_eq!(
        counter(
            &m,
            "sightline_ingest_refused_total",
            &[("tenant", "busy"), ("reason", "rate_limited")]
        ),
        refused as f64,
        "{m}"
    );

    // The series cap: 5 active series; the new ones past it are rejected.
    let wide = secret(&srv.cli(&["token", "create", "--workspace", "busy", "--kind", "ingest"]));
    let many: Vec<_> = (0..8)
        .map(|i| {
            series(
                &[("__name__", "cap_metric"), ("i", &i.to_string())],
                &[(now, 1.0)],
            )
        })
        .collect();
    // "up{job=r}" already holds one of the five.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/write", srv.url))
        .bearer_auth(&wide)
        .header("Content-Encoding", "snappy")
        .body(write_body(many))
        .send()
        .await
        .expect("push");
    assert_eq!(resp.status().as_u16(), 400);
    let text = resp.text().await.expect("body");
    assert!(
        text.contains("4 new series rejected") && text.contains("5 active series"),
        "{text}"
    );
    let rd = secret(&srv.cli(&["token", "create", "--workspace", "busy", "--kind", "report"]));
    let t = format!("{:.3}", (now + 1) as f64 / 1000.0);
    let (_, v) = get(
        &srv.url,
        &rd,
        &[("query", "count(cap_metric)"), ("time", &t)],
        "/api/v1/query",
    )
    .await;
    assert_eq!(v["data"]["result"][0]["value"][1], "4", "{v}");
    // Series already active keep writing.
    let again = write_body(vec![series(
        &[("__name__", "cap_metric"), ("i", "0")],
        &[(now + 1, 2.0)],
    )]);
    assert_eq!(push(&srv.url, &wide, again).await, 204);
    let m = metrics_text(&srv.url).await;
    assert_eq!(
        counter(
            &m,
            "sightline_ingest_refused_total",
            &[("tenant", "busy"), ("reason", "high_cardinality")]
        ),
        4.0
    );

    // The daily byte quota: 4000 uncompressed bytes per signal.
    let small = secret(&srv.cli(&[
        "token",
        "create",
        "--workspace",
        "small",
        "--kind",
        "ingest",
    ]));
    let body = |i: i64| {
        let pad = "x".repeat(900);
        write_body(vec![series(
            &[("__name__", "q"), ("pad", &pad)],
            &[(now + i, 1.0)],
        )])
    };
    let mut ok = 0;
    let mut over = 0;
    for i in 0..10 {
        let resp = reqwest::Client::new()
            .post(format!("{}/api/v1/write", srv.url))
            .bearer_auth(&small)
            .header("Content-Encoding", "snappy")
            .body(body(i))
            .send()
            .await
            .expect("push");
        match resp.status().as_u16() {
            204 => {
                assert_eq!(
                    over, 0,
                    "nothing under the quota is refused after a refusal"
                );
                ok += 1;
            }
            429 => {
                over += 1;
                assert!(resp.headers().get("retry-after").is_some());
                let text = resp.text().await.expect("body");
                assert!(text.contains("daily byte quota"), "{text}");
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert!(
        (3..=4).contains(&ok),
        "about 4000 bytes of ~930-byte requests: {ok}"
    );
    assert_eq!(ok + over, 10);
    let m = metrics_text(&srv.url).await;
    assert_eq!(
        counter(
            &m,
            "sightline_ingest_refused_total",
            &[("tenant", "small"), ("reason", "quota_exceeded")]
        ),
        over as f64
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workspace_admin_manages_only_its_own_workspace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    srv.tenant("a");
    srv.tenant("b");
    let wa = secret(&srv.cli(&["token", "create", "--workspace", "a", "--kind", "admin"]));
    let (st, v) = admin_call(&srv, &wa, "GET", "/admin/v1/tokens", None).await;
    assert_eq!(st, 200);
    let toks = v.as_array().expect("tokens");
    assert!(
        !toks.is_empty() && toks.iter().all(|t| t["workspace"] == "a"),
        "{v}"
    );
    let (_, v) = admin_call(&srv, &wa, "GET", "/admin/v1/workspaces", None).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    let (st, _) = admin_call(
        &srv,
        &wa,
        "POST",
        "/admin/v1/workspaces",
        Some(json!({"name": "c"})),
    )
    .await;
    assert_eq!(st, 403);
    let (st, _) = admin_call(
        &srv,
        &wa,
        "POST",
        "/admin/v1/workspaces/b/projects",
        Some(json!({"name": "p"})),
    )
    .await;
    assert_eq!(st, 404, "another workspace is as absent as a missing one");
    let (st, _) = admin_call(
        &srv,
        &wa,
        "POST",
        "/admin/v1/tokens",
        Some(json!({"workspace": "b", "kind": "report"})),
    )
    .await;
    assert_eq!(st, 404);
    // Its token creations land in its own workspace.
    let (st, v) = admin_call(
        &srv,
        &wa,
        "POST",
        "/admin/v1/tokens",
        Some(json!({"kind": "report"})),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["workspace"], "a");
    // It cannot revoke b's tokens.
    let (_, all) = admin_call(&srv, &srv.admin, "GET", "/admin/v1/tokens", None).await;
    let b_tok = all
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["workspace"] == "b")
        .expect("b token")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (st, _) = admin_call(
        &srv,
        &wa,
        "DELETE",
        &format!("/admin/v1/tokens/{b_tok}"),
        None,
    )
    .await;
    assert_eq!(st, 404);
    // Bad bodies are clear 400s.
    for body in [
        json!({"kind": "root"}),
        json!({"kind": "report", "rate_limit_per_sec": -1}),
        json!({"kind": "report", "nonsense": 1}),
    ] {
        let (st, v) = admin_call(&srv, &wa, "POST", "/admin/v1/tokens", Some(body.clone())).await;
        assert_eq!(st, 400, "{body}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let (_, log) = admin_call(&srv, &wa, "GET", "/admin/v1/audit", None).await;
    let log = log.as_array().expect("events");
    assert!(log.iter().all(|e| e["workspace"] == "a"), "{log:?}");
    assert!(log.iter().any(|e| {
        e["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with("bad_data"))
    }));
}

#[tokio::test(flavor = "multi_thread")]
async fn revocation_reaches_a_second_server_sharing_postgres_within_five_seconds() {
    let pg = sightline_control::testing::TestPostgres::start().expect("postgres");
    let url = pg.database("shared").expect("database");
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("token-key");
    let key = key.to_str().expect("utf-8 path");
    let args = [
        "--control-postgres-url",
        url.as_str(),
        "--token-key-file",
        key,
    ];
    let one = Server::start(&dir.path().join("one"), &args);
    let mut two = Server::start(&dir.path().join("two"), &args);
    two.admin = one.admin.clone();
    let t = one.tenant("shared");
    // The second server knows the first one's tokens.
    let (st, v) = get(&two.url, &t.report, &[("query", "up")], "/api/v1/query").await;
    assert_eq!(st, 200, "{v}");
    // Warm its cache, then revoke through the first server.
    let (st, _) = get(&two.url, &t.report, &[("query", "up")], "/api/v1/query").await;
    assert_eq!(st, 200);
    one.cli(&["token", "revoke", &t.report_id]);
    let revoked = Instant::now();
    let (st, _) = get(&one.url, &t.report, &[("query", "up")], "/api/v1/query").await;
    assert_eq!(st, 401, "at once on the server that revoked");
    loop {
        let (st, _) = get(&two.url, &t.report, &[("query", "up")], "/api/v1/query").await;
        if st == 401 {
            break;
        }
        assert_eq!(st, 200);
        assert!(
            revoked.elapsed() < Duration::from_secs(5),
            "still accepted on the second server after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "revocation reached the second server in {:?}",
        revoked.elapsed()
    );
}
