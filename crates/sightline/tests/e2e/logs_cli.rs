//! `sightline logs query` as a process against a running server: log
//! queries in both directions and every output form, a metric query over a
//! range and at an instant, and refusals (a bad query, a wrong token, a
//! token that may not read) on stderr with a failing exit.

use std::process::{Command, Output};

use serde_json::json;

use crate::harness::{Server, bin, get, now_ms};

const NS_PER_S: i64 = 1_000_000_000;

/// Runs `sightline logs query ARGS` against `url` with `token`, with no
/// setting of the environment leaking in.
fn logs(url: &str, token: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .args(["logs", "query"])
        .args(args)
        .args(["--url", url, "--token", token])
        .env_remove("SIGHTLINE_URL")
        .env_remove("SIGHTLINE_TOKEN")
        .env_remove("SIGHTLINE_REPORT_TOKEN")
        .output()
        .expect("run sightline logs query")
}

/// Stdout of a run that must succeed with nothing on stderr.
fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {stderr}");
    assert_eq!(stderr, "");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Stderr of a run that must fail with nothing on stdout.
fn refused(out: Output) -> String {
    assert!(!out.status.success(), "succeeded: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    String::from_utf8(out.stderr).expect("utf-8 stderr")
}

/// `t0 + offset_ms` in RFC 3339, UTC, as the CLI prints it.
fn at(t0: i64, offset_ms: i64) -> String {
    let ms = t0 * 1000 + offset_ms;
    let d = chrono::DateTime::from_timestamp_millis(ms).expect("a time");
    let whole = d.format("%Y-%m-%dT%H:%M:%S");
    match ms.rem_euclid(1000) {
        0 => format!("{whole}Z"),
        f => format!("{whole}.{f:03}Z"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_query_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let x = srv.tenant("x");
    // A whole minute, ten minutes ago, in seconds.
    let t0 = (now_ms() / 1000 - 600) / 60 * 60;
    let ns = |offset_ms: i64| (t0 * NS_PER_S + offset_ms * 1_000_000).to_string();
    let body = json!({"streams": [
        {"stream": {"app": "api", "env": "prod"},
         "values": [[ns(1000), "GET /a 200"], [ns(3000), "GET /b 500"]]},
        {"stream": {"app": "db"},
         "values": [[ns(2000), "slow query"], [ns(2500), "connection reset"]]}
    ]});
    let resp = reqwest::Client::new()
        .post(format!("{}/loki/api/v1/push", srv.url))
        .bearer_auth(&x.ingest)
        .json(&body)
        .send()
        .await
        .expect("push");
    assert_eq!(resp.status().as_u16(), 204);

    let from = (t0 - 1).to_string();
    let to = (t0 + 10).to_string();
    let range = ["--from", from.as_str(), "--to", to.as_str()];
    let q = r#"{app=~"api|db"}"#;
    let api = r#"{app="api", env="prod", service_name="api"}"#;
    // Labels are padded to the widest, so the lines align.
    let db = format!("{:<w$}", r#"{app="db", service_name="db"}"#, w = api.len());

    // Text: every stream merged, newest first by default.
    let out = ok(logs(&srv.url, &x.report, &[&[q][..], &range].concat()));
    assert_eq!(
        out,
        format!(
            "{} {api} GET /b 500\n{} {db} connection reset\n{} {db} slow query\n{} {api} GET /a 200\n",
            at(t0, 3000),
            at(t0, 2500),
            at(t0, 2000),
            at(t0, 1000),
        )
    );
    // Forward and limited: the oldest three, oldest first.
    let out = ok(logs(
        &srv.url,
        &x.report,
        &[&[q, "--direction", "forward", "--limit", "3"][..], &range].concat(),
    ));
    assert_eq!(
        out,
        format!(
            "{} {api} GET /a 200\n{} {db} slow query\n{} {db} connection reset\n",
            at(t0, 1000),
            at(t0, 2000),
            at(t0, 2500),
        )
    );
    // Raw: the lines alone, after a filter.
    let out = ok(logs(
        &srv.url,
        &x.report,
        &[
            &[r#"{app=~"api|db"} |~ "GET|slow""#, "--output", "raw"][..],
            &range,
        ]
        .concat(),
    ));
    assert_eq!(out, "GET /b 500\nslow query\nGET /a 200\n");
    // RFC 3339 and relative times select the same entries.
    let out = ok(logs(
        &srv.url,
        &x.report,
        &[
            r#"{app="db"}"#,
            "--output",
            "raw",
            "--from",
            &at(t0, 2000),
            "--to",
            "1m",
        ],
    ));
    assert_eq!(out, "connection reset\nslow query\n");
    // JSON: the server's answer, as it came.
    let out = ok(logs(
        &srv.url,
        &x.report,
        &[&[q, "--output", "json", "--limit", "2"][..], &range].concat(),
    ));
    let start = ((t0 - 1) * NS_PER_S).to_string();
    let end = ((t0 + 10) * NS_PER_S).to_string();
    let resp = reqwest::Client::new()
        .get(format!("{}/loki/api/v1/query_range", srv.url))
        .query(&[
            ("query", q),
            ("limit", "2"),
            ("direction", "backward"),
            ("start", &start),
            ("end", &end),
        ])
        .bearer_auth(&x.report)
        .send()
        .await
        .expect("query_range");
    assert_eq!(resp.status().as_u16(), 200);
    let direct = resp.text().await.expect("body");
    assert_eq!(out, format!("{direct}\n"));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON output");
    assert_eq!(v["data"]["resultType"], "streams");

    // A metric query over the range: a table of series and their points.
    let metric = r#"sum by (app) (count_over_time({app=~"api|db"}[10s]))"#;
    let from = t0.to_string();
    let out = ok(logs(
        &srv.url,
        &x.report,
        &[metric, "--from", &from, "--to", &to, "--step", "5s"],
    ));
    let t5 = at(t0, 5000);
    let t10 = at(t0, 10_000);
    assert_eq!(
        out,
        format!(
            "SERIES       TIMESTAMP             VALUE\n\
             {{app=\"api\"}}  {t5}  2\n\
             {{app=\"api\"}}  {t10}  2\n\
             {{app=\"db\"}}   {t5}  2\n\
             {{app=\"db\"}}   {t10}  2\n"
        )
    );
    // At an instant, one point per series; raw drops header and padding.
    let time = (t0 + 3).to_string();
    let out = ok(logs(&srv.url, &x.report, &[metric, "--time", &time]));
    let t3 = at(t0, 3000);
    assert_eq!(
        out,
        format!(
            "SERIES       TIMESTAMP             VALUE\n\
             {{app=\"api\"}}  {t3}  2\n\
             {{app=\"db\"}}   {t3}  2\n"
        )
    );
    let out = ok(logs(
        &srv.url,
        &x.report,
        &[metric, "--time", &time, "--output", "raw"],
    ));
    assert_eq!(
        out,
        format!("{{app=\"api\"}} {t3} 2\n{{app=\"db\"}} {t3} 2\n")
    );

    // Refusals: Loki's own text, a failing exit, nothing on stdout.
    let err = refused(logs(&srv.url, &x.report, &[r#"{app="api""#]));
    let (_, want) = get(
        &srv.url,
        &x.report,
        &[("query", r#"{app="api""#)],
        "/loki/api/v1/query_range",
    )
    .await;
    let want = want.as_str().expect("a plain-text refusal").to_string();
    assert!(want.starts_with("parse error at line 1"), "{want}");
    assert_eq!(err, format!("error: 400 Bad Request: {want}\n"));
    let err = refused(logs(&srv.url, &x.report, &[q, "--time", "now"]));
    assert_eq!(
        err,
        "error: 400 Bad Request: log queries are not supported as an instant query type, \
         please change your query to a range query type\n"
    );
    let err = refused(logs(&srv.url, "slr_wrong", &[q]));
    assert_eq!(
        err,
        "error: 401 Unauthorized: unknown, revoked or expired token\n"
    );
    let err = refused(logs(&srv.url, &x.ingest, &[q]));
    assert!(err.starts_with("error: 403 Forbidden: "), "{err}");
    let err = refused(logs(&srv.url, &x.report, &[q, "--from", "yesterday"]));
    assert!(err.contains("cannot read time \"yesterday\""), "{err}");
}
