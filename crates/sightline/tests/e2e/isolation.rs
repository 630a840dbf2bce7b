//! Two tenants push the same metric names and labels; through every read
//! endpoint each sees only its own data.

use serde_json::Value;

use crate::harness::{Server, get, now_ms, push, series, write_body};

#[tokio::test(flavor = "multi_thread")]
async fn tenants_see_only_their_own_series_counts_and_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let now = now_ms();
    let t0 = now - 60_000;
    for (tok, val, extra) in [(&a.ingest, 1.0, "only_a"), (&b.ingest, 2.0, "only_b")] {
        let samples: Vec<(i64, f64)> = (0..5).map(|i| (t0 + i * 10_000, val)).collect();
        let body = write_body(vec![
            series(
                &[
                    ("__name__", "shared_metric"),
                    ("job", "api"),
                    ("instance", "x"),
                ],
                &samples,
            ),
            series(
                &[
                    ("__name__", "shared_metric"),
                    ("job", "api"),
                    ("instance", "y"),
                ],
                &samples,
            ),
            series(
                &[("__name__", extra), ("job", "api"), ("tenant", "beta")],
                &samples,
            ),
        ]);
        assert_eq!(push(&srv.url, tok, body).await, 204);
    }
    let t = format!("{:.3}", (t0 + 45_000) as f64 / 1000.0);
    let start = format!("{:.3}", t0 as f64 / 1000.0);
    let end = format!("{:.3}", (now + 1000) as f64 / 1000.0);
    for (tok, want_val, mine, theirs) in [
        (&a.report, "1", "only_a", "only_b"),
        (&b.report, "2", "only_b", "only_a"),
    ] {
        // Spoofed tenant headers change nothing.
        let (st, v) = get(
            &srv.url,
            tok,
            &[("query", "shared_metric"), ("time", &t)],
            "/api/v1/query",
        )
        .await;
        assert_eq!(st, 200, "{v}");
        let res = v["data"]["result"].as_array().expect("vector");
        assert_eq!(res.len(), 2, "{v}");
        assert!(res.iter().all(|r| r["value"][1] == want_val), "{v}");

        let (_, v) = get(
            &srv.url,
            tok,
            &[("query", "sum(shared_metric)"), ("time", &t)],
            "/api/v1/query",
        )
        .await;
        let want_sum = if want_val == "1" { "2" } else { "4" };
        assert_eq!(v["data"]["result"][0]["value"][1], want_sum, "{v}");

        let (_, v) = get(
            &srv.url,
            tok,
            &[
                ("query", "count(shared_metric)"),
                ("start", &start),
                ("end", &end),
                ("step", "10"),
            ],
            "/api/v1/query_range",
        )
        .await;
        for s in v["data"]["result"][0]["values"].as_array().expect("matrix") {
            assert_eq!(s[1], "2", "{v}");
        }

        let (_, v) = get(
            &srv.url,
            tok,
            &[("query", theirs), ("time", &t)],
            "/api/v1/query",
        )
        .await;
        assert_eq!(v["data"]["result"], Value::Array(vec![]), "{v}");
        // A label called "tenant" is just a label of its writer.
        let (_, v) = get(
            &srv.url,
            tok,
            &[("query", "{tenant=\"beta\"}"), ("time", &t)],
            "/api/v1/query",
        )
        .await;
        let names: Vec<&str> = v["data"]["result"]
            .as_array()
            .expect("vector")
            .iter()
            .filter_map(|r| r["metric"]["__name__"].as_str())
            .collect();
        assert_eq!(names, vec![mine], "{v}");

        let (_, v) = get(&srv.url, tok, &[], "/api/v1/labels").await;
        assert_eq!(
            v["data"],
            serde_json::json!(["__name__", "instance", "job", "tenant"]),
            "{v}"
        );
        let (_, v) = get(&srv.url, tok, &[], "/api/v1/label/__name__/values").await;
        assert_eq!(v["data"], serde_json::json!([mine, "shared_metric"]), "{v}");
        let (_, v) = get(
            &srv.url,
            tok,
            &[("match[]", "{job=\"api\"}")],
            "/api/v1/series",
        )
        .await;
        assert_eq!(v["data"].as_array().expect("list").len(), 3, "{v}");
        assert!(!v.to_string().contains(theirs), "{v}");
    }
    // Spoofing headers with a token present changes nothing.
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/label/__name__/values", srv.url))
        .bearer_auth(&a.report)
        .header("X-Scope-OrgID", "beta")
        .header("X-Tenant", "beta")
        .send()
        .await
        .expect("get");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["data"], serde_json::json!(["only_a", "shared_metric"]));

    // Ingest and query counters by tenant on /metrics.
    let text = crate::harness::metrics_text(&srv.url).await;
    for want in [
        "sightline_ingest_samples_total{tenant=\"alpha\"} 15",
        "sightline_ingest_samples_total{tenant=\"beta\"} 15",
        "sightline_query_requests_total{tenant=\"alpha\",endpoint=\"query\",outcome=\"success\"}",
    ] {
        assert!(text.contains(want), "{want} not in /metrics:\n{text}");
    }
}
