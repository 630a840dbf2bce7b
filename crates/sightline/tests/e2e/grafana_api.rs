//! The endpoints Grafana's Prometheus data source calls beside queries
//! (exemplars, format_query, rules, alerts, targets, flags) and the range
//! query resolution limit answer as Prometheus 2.42 does, behind report
//! tokens only.

use serde_json::{Value, json};

use crate::harness::{Server, get};

/// Every route of this file, as (method, path, parameters).
const ROUTES: &[(&str, &str, &[(&str, &str)])] = &[
    ("GET", "/api/v1/query_exemplars", &[("query", "up")]),
    ("POST", "/api/v1/query_exemplars", &[("query", "up")]),
    ("GET", "/api/v1/format_query", &[("query", "up")]),
    ("POST", "/api/v1/format_query", &[("query", "up")]),
    ("GET", "/api/v1/rules", &[]),
    ("GET", "/api/v1/alerts", &[]),
    ("GET", "/api/v1/targets", &[]),
    ("GET", "/api/v1/status/flags", &[]),
];

const RESOLUTION: &str = "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)";

/// Calls `path` with `params` in the query string (GET) or as a form body
/// (POST), with `token` as bearer token when given; returns the status and
/// the JSON answer (the text itself when it is not JSON).
async fn call(
    url: &str,
    method: &str,
    token: Option<&str>,
    params: &[(&str, &str)],
    path: &str,
) -> (u16, Value) {
    let c = reqwest::Client::new();
    let mut req = match method {
        "POST" => c.post(format!("{url}{path}")).form(params),
        _ => c.get(format!("{url}{path}")).query(params),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("call");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Prometheus's error answer for bad input.
fn bad_data(msg: &str) -> Value {
    json!({"status": "error", "errorType": "bad_data", "error": msg})
}

#[tokio::test(flavor = "multi_thread")]
async fn every_grafana_route_needs_a_report_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let t = srv.tenant("grafana");
    for (method, path, params) in ROUTES {
        let (st, v) = call(&srv.url, method, None, params, path).await;
        assert_eq!(
            (st, v["errorType"].as_str()),
            (401, Some("unauthorized")),
            "{method} {path}: {v}"
        );
        let (st, v) = call(&srv.url, method, Some(t.ingest.as_str()), params, path).await;
        assert_eq!(
            (st, v["errorType"].as_str()),
            (403, Some("forbidden")),
            "{method} {path}: {v}"
        );
        let (st, v) = call(&srv.url, method, Some(t.report.as_str()), params, path).await;
        assert_eq!(
            (st, v["status"].as_str()),
            (200, Some("success")),
            "{method} {path}: {v}"
        );
    }
    // The range query limit sits behind the same door.
    let params = [
        ("query", "up"),
        ("start", "0"),
        ("end", "11001"),
        ("step", "1"),
    ];
    let (st, _) = call(&srv.url, "GET", None, &params, "/api/v1/query_range").await;
    assert_eq!(st, 401);
    let (st, _) = get(&srv.url, &t.ingest, &params, "/api/v1/query_range").await;
    assert_eq!(st, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn exemplars_without_data_are_an_empty_list_after_prometheus_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let t = srv.tenant("grafana");
    let path = "/api/v1/query_exemplars";

    let valid: &[&[(&str, &str)]] = &[
        &[
            ("query", "up"),
            ("start", "1700000000"),
            ("end", "1700003600.5"),
        ],
        &[("query", "rate(http_requests_total{job=\"api\"}[5m])")],
        &[("query", "up"), ("start", "2023-11-14T22:13:20Z")],
        &[("query", "up"), ("start", ""), ("end", "")],
    ];
    for method in ["GET", "POST"] {
        for params in valid {
            let (st, v) = call(&srv.url, method, Some(t.report.as_str()), params, path).await;
            assert_eq!(st, 200, "{method} {params:?}: {v}");
            assert_eq!(
                v,
                json!({"status": "success", "data": []}),
                "{method} {params:?}"
            );
        }
    }

    // No selector in the query: 204 without a body, as in Prometheus.
    for q in ["1 + 1", "vector(1)", "time()"] {
        let (st, v) = get(&srv.url, &t.report, &[("query", q)], path).await;
        assert_eq!((st, v), (204, Value::String(String::new())), "{q}");
    }

    // Bad input: the times first, then the query, in Prometheus's words.
    let bad: &[(&[(&str, &str)], &str)] = &[
        (
            &[("query", "foo + ")],
            "1:7: parse error: unexpected end of input",
        ),
        (
            &[("query", "up"), ("start", "yesterday")],
            "invalid parameter \"start\": Invalid time value for 'start': cannot parse \"yesterday\" to a valid timestamp",
        ),
        (
            &[("query", "up"), ("end", "soon")],
            "invalid parameter \"end\": Invalid time value for 'end': cannot parse \"soon\" to a valid timestamp",
        ),
        (
            &[("query", "up"), ("start", "100"), ("end", "50")],
            "end timestamp must not be before start timestamp",
        ),
        (
            &[("query", "foo + "), ("start", "yesterday")],
            "invalid parameter \"start\": Invalid time value for 'start': cannot parse \"yesterday\" to a valid timestamp",
        ),
    ];
    for method in ["GET", "POST"] {
        for (params, msg) in bad {
            let (st, v) = call(&srv.url, method, Some(t.report.as_str()), params, path).await;
            assert_eq!(st, 400, "{method} {params:?}: {v}");
            assert_eq!(v, bad_data(msg), "{method} {params:?}");
        }
    }
    // No query at all is a parse error too.
    let (st, v) = get(&srv.url, &t.report, &[], path).await;
    assert_eq!(
        (st, v["errorType"].as_str()),
        (400, Some("bad_data")),
        "{v}"
    );
    assert!(
        v["error"].as_str().unwrap_or("").contains("parse error"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn format_query_prints_the_canonical_form() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let t = srv.tenant("grafana");
    let path = "/api/v1/format_query";
    for method in ["GET", "POST"] {
        for (q, want) in [
            (
                "sum(rate(http_requests_total{job=\"api\"}[5m]))by(job)",
                "sum by (job) (rate(http_requests_total{job=\"api\"}[5m]))",
            ),
            ("up+1", "up + 1"),
            ("  up  ", "up"),
        ] {
            let (st, v) = call(
                &srv.url,
                method,
                Some(t.report.as_str()),
                &[("query", q)],
                path,
            )
            .await;
            assert_eq!(st, 200, "{method} {q}: {v}");
            assert_eq!(
                v,
                json!({"status": "success", "data": want}),
                "{method} {q}"
            );
        }
        let (st, v) = call(
            &srv.url,
            method,
            Some(t.report.as_str()),
            &[("query", "foo + ")],
            path,
        )
        .await;
        assert_eq!(st, 400, "{method}: {v}");
        assert_eq!(
            v,
            bad_data("invalid parameter \"query\": 1:7: parse error: unexpected end of input"),
            "{method}"
        );
        let (st, v) = call(&srv.url, method, Some(t.report.as_str()), &[], path).await;
        assert_eq!(
            (st, v["errorType"].as_str()),
            (400, Some("bad_data")),
            "{method}: {v}"
        );
        assert!(
            v["error"]
                .as_str()
                .unwrap_or("")
                .starts_with("invalid parameter \"query\": "),
            "{method}: {v}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_and_alerts_are_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let t = srv.tenant("grafana");
    let valid: &[&[(&str, &str)]] = &[
        &[],
        &[("type", "alert")],
        &[("type", "record")],
        &[("type", "Alert")],
        &[("type", "")],
    ];
    for params in valid {
        let (st, v) = get(&srv.url, &t.report, params, "/api/v1/rules").await;
        assert_eq!(st, 200, "{params:?}: {v}");
        assert_eq!(
            v,
            json!({"status": "success", "data": {"groups": []}}),
            "{params:?}"
        );
    }
    // Any other type is bad data, named in lower case as Prometheus does.
    for (typ, named) in [("alerting", "alerting"), ("Bogus", "bogus")] {
        let (st, v) = get(&srv.url, &t.report, &[("type", typ)], "/api/v1/rules").await;
        assert_eq!(st, 400, "{typ}: {v}");
        assert_eq!(
            v,
            bad_data(&format!(
                "invalid parameter \"type\": not supported value \"{named}\""
            )),
            "{typ}"
        );
    }

    let (st, v) = get(&srv.url, &t.report, &[], "/api/v1/alerts").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v, json!({"status": "success", "data": {"alerts": []}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn targets_are_empty_in_every_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let t = srv.tenant("grafana");
    // Prometheus empties the list a state leaves out and keeps both keys,
    // and answers an unknown state with both lists empty.
    let states: &[&[(&str, &str)]] = &[
        &[],
        &[("state", "active")],
        &[("state", "dropped")],
        &[("state", "any")],
        &[("state", "ACTIVE")],
        &[("state", "bogus")],
        &[("scrapePool", "node")],
    ];
    for params in states {
        let (st, v) = get(&srv.url, &t.report, params, "/api/v1/targets").await;
        assert_eq!(st, 200, "{params:?}: {v}");
        assert_eq!(
            v,
            json!({
                "status": "success",
                "data": {"activeTargets": [], "droppedTargets": []}
            }),
            "{params:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_are_the_settings_prometheus_also_has() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let t = srv.tenant("grafana");
    let (st, v) = get(&srv.url, &t.report, &[], "/api/v1/status/flags").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v,
        json!({
            "status": "success",
            "data": {
                "query.lookback-delta": "5m",
                "query.max-samples": "50000000",
                "query.timeout": "2m"
            }
        })
    );
    drop(srv);

    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(
        dir.path(),
        &["--max-samples", "1000", "--query-timeout-secs", "90"],
    );
    let t = srv.tenant("grafana");
    let (st, v) = get(&srv.url, &t.report, &[], "/api/v1/status/flags").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["data"],
        json!({
            "query.lookback-delta": "5m",
            "query.max-samples": "1000",
            "query.timeout": "1m30s"
        }),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn too_fine_a_range_query_is_bad_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let t = srv.tenant("grafana");
    let path = "/api/v1/query_range";
    for method in ["GET", "POST"] {
        // 11,001 intervals: one too many.
        for params in [
            [
                ("query", "up"),
                ("start", "0"),
                ("end", "11001"),
                ("step", "1"),
            ],
            [
                ("query", "up"),
                ("start", "1700000000"),
                ("end", "1700110010"),
                ("step", "10s"),
            ],
            // Refused before the query is parsed, as in Prometheus.
            [
                ("query", "foo + "),
                ("start", "0"),
                ("end", "11001"),
                ("step", "1"),
            ],
        ] {
            let (st, v) = call(&srv.url, method, Some(t.report.as_str()), &params, path).await;
            assert_eq!(st, 400, "{method} {params:?}: {v}");
            assert_eq!(v, bad_data(RESOLUTION), "{method} {params:?}");
        }
    }
    // 11,000 intervals are allowed.
    let (st, v) = get(
        &srv.url,
        &t.report,
        &[
            ("query", "up"),
            ("start", "0"),
            ("end", "11000"),
            ("step", "1"),
        ],
        path,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v,
        json!({"status": "success", "data": {"resultType": "matrix", "result": []}})
    );
}
