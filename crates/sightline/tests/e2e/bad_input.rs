//! Bad input gets the right status and a message, and writes nothing.

use crate::harness::{Server, get, now_ms, push, series, write_body};

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_bad_request_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(
        dir.path(),
        &[
            "--max-body-bytes",
            "2000",
            "--max-points-per-series",
            "100",
            "--max-series",
            "3",
        ],
    );
    let a = srv.tenant("acme");
    let now = now_ms();
    let good = || {
        write_body(vec![series(
            &[("__name__", "m"), ("i", "1")],
            &[(now, 1.0)],
        )])
    };

    // Tokens: missing, unknown, wrong kind, revoked.
    let c = reqwest::Client::new();
    let st = c
        .post(format!("{}/api/v1/write", srv.url))
        .body(good())
        .send()
        .await
        .expect("post")
        .status();
    assert_eq!(st, 401);
    assert_eq!(push(&srv.url, "sli_not_a_token", good()).await, 401);
    assert_eq!(push(&srv.url, &a.report, good()).await, 403);
    assert_eq!(push(&srv.url, &srv.admin, good()).await, 403);
    let (st, v) = get(&srv.url, &a.ingest, &[("query", "m")], "/api/v1/query").await;
    assert_eq!(st, 403, "{v}");
    assert_eq!(v["status"], "error");
    let (st, _) = get(&srv.url, &a.report, &[], "/admin/v1/tokens").await;
    assert_eq!(st, 403);
    // Basic auth with the token as password works like Bearer.
    let st = c
        .get(format!("{}/api/v1/labels", srv.url))
        .basic_auth("anyone", Some(&a.report))
        .send()
        .await
        .expect("get")
        .status();
    assert_eq!(st, 200);

    // Malformed bodies: 400 and nothing written.
    assert_eq!(
        push(&srv.url, &a.ingest, b"definitely not snappy".to_vec()).await,
        400
    );
    let junk = snap::raw::Encoder::new()
        .compress_vec(&[0xff; 64])
        .expect("compress");
    assert_eq!(push(&srv.url, &a.ingest, junk).await, 400);
    let dup = write_body(vec![series(
        &[("__name__", "m"), ("i", "1"), ("i", "2")],
        &[(now, 1.0)],
    )]);
    assert_eq!(push(&srv.url, &a.ingest, dup).await, 400);
    let (_, v) = get(&srv.url, &a.report, &[("query", "m")], "/api/v1/query").await;
    assert_eq!(v["data"]["result"].as_array().map(Vec::len), Some(0), "{v}");

    // Too large: 413.
    let big: Vec<_> = (0..200)
        .map(|i: u64| {
            // Incompressible padding, so the compressed body is large too.
            let pad: String = (0..4)
                .map(|k| format!("{:016x}", (i * 4 + k).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
                .collect();
            series(
                &[("__name__", "m"), ("i", &i.to_string()), ("pad", &pad)],
                &[(now, 1.0)],
            )
        })
        .collect();
    let big = write_body(big);
    assert!(big.len() > 2000);
    assert_eq!(push(&srv.url, &a.ingest, big).await, 413);

    assert_eq!(push(&srv.url, &a.ingest, good()).await, 204);

    // Queries: missing parameters and bad syntax are bad_data (400).
    let (st, v) = get(&srv.url, &a.report, &[], "/api/v1/query").await;
    assert_eq!(
        (st, v["errorType"].as_str()),
        (400, Some("bad_data")),
        "{v}"
    );
    let (st, v) = get(&srv.url, &a.report, &[("query", "sum(")], "/api/v1/query").await;
    assert_eq!(
        (st, v["errorType"].as_str()),
        (400, Some("bad_data")),
        "{v}"
    );
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("query", "m"), ("time", "yesterday")],
        "/api/v1/query",
    )
    .await;
    assert_eq!(
        (st, v["errorType"].as_str()),
        (400, Some("bad_data")),
        "{v}"
    );
    assert!(v["error"].as_str().unwrap_or("").contains("time"), "{v}");
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[("query", "histogram_count(m)")],
        "/api/v1/query",
    )
    .await;
    assert_eq!(
        (st, v["errorType"].as_str()),
        (400, Some("bad_data")),
        "{v}"
    );
    let (st, v) = get(&srv.url, &a.report, &[("match[]", "m{")], "/api/v1/series").await;
    assert_eq!(
        (st, v["errorType"].as_str()),
        (400, Some("bad_data")),
        "{v}"
    );

    // Too many points per series: bad_data (400), as in Prometheus.
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[
            ("query", "m"),
            ("start", "0"),
            ("end", "1000"),
            ("step", "1"),
        ],
        "/api/v1/query_range",
    )
    .await;
    assert_eq!(
        (st, v["errorType"].as_str()),
        (400, Some("bad_data")),
        "{v}"
    );
    assert_eq!(
        v["error"],
        "exceeded maximum resolution of 100 points per timeseries. Try decreasing the query resolution (?step=XX)",
        "{v}"
    );

    // Over the limits: 422 execution.
    let many: Vec<_> = (0..5)
        .map(|i| {
            series(
                &[("__name__", "wide"), ("i", &i.to_string())],
                &[(now, 1.0)],
            )
        })
        .collect();
    assert_eq!(push(&srv.url, &a.ingest, write_body(many)).await, 204);
    let (st, v) = get(&srv.url, &a.report, &[("query", "wide")], "/api/v1/query").await;
    assert_eq!(
        (st, v["errorType"].as_str()),
        (422, Some("execution")),
        "{v}"
    );

    // Unknown path.
    let (st, _) = get(&srv.url, &a.report, &[], "/api/v1/nope").await;
    assert_eq!(st, 404);

    // Revoked token: 401.
    srv.cli(&["token", "revoke", &a.report_id]);
    let (st, _) = get(&srv.url, &a.report, &[("query", "m")], "/api/v1/query").await;
    assert_eq!(st, 401);
}
