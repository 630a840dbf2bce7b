//! Randomized isolation: four workspaces push the same metric names and
//! label sets (and labels naming each other), part of it flushed to the
//! archive and part still in the head; a few thousand random queries
//! across every read endpoint, each with a random workspace's token, must
//! return not one series, value, label name or label value of another.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{
    Server, TailEvent, Tenant, get, now_ms, push, series, tail_connect, tail_next, write_body,
};

const TENANTS: usize = 4;
const QUERIES: usize = 2_400;

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn name(i: usize) -> String {
    format!("t{i}")
}

/// Tenant `i`'s data: the same names and label sets as every other
/// tenant's, an `owner` label with its own name, a `tenant` label naming
/// another, an instance and a label name of its own; values in
/// `[1000 i, 1000 i + 999]`.
fn data(i: usize, t0: i64, points: i64) -> Vec<sightline_ingest::remote_write::TimeSeries> {
    let me = name(i);
    let other = name((i + 1) % TENANTS);
    let own_instance = format!("own{i}");
    let mut out = Vec::new();
    for metric in ["req_total", "latency", "up"] {
        for job in ["api", "db"] {
            for inst in ["x", "y", own_instance.as_str()] {
                let samples: Vec<(i64, f64)> = (0..points)
                    .map(|k| (t0 + k * 15_000, (i * 1000) as f64 + (k % 500) as f64))
                    .collect();
                let only = format!("only_{me}");
                let mut labels = vec![
                    ("__name__", metric),
                    ("job", job),
                    ("instance", inst),
                    ("owner", me.as_str()),
                    ("tenant", other.as_str()),
                ];
                if inst == own_instance {
                    labels.push((only.as_str(), "1"));
                }
                out.push(series(&labels, &samples));
            }
        }
    }
    out
}

fn selector(r: &mut Rng) -> String {
    let metric = r.pick(&["req_total", "latency", "up", "nope", ""]);
    let mut ms: Vec<String> = Vec::new();
    if metric.is_empty() {
        ms.push("__name__=~\".+\"".into());
    }
    for _ in 0..r.below(3) {
        let t = name(r.below(TENANTS));
        ms.push(match r.below(8) {
            0 => "job=\"api\"".into(),
            1 => "job=~\"a.*|d.*\"".into(),
            2 => "instance!=\"x\"".into(),
            3 => format!("owner=\"{t}\""),
            4 => "owner=~\"t.*\"".into(),
            5 => format!("tenant=\"{t}\""),
            6 => format!("only_{t}=\"1\""),
            _ => format!("instance=~\"own.*|{t}\""),
        });
    }
    if ms.is_empty() {
        metric.to_string()
    } else {
        format!("{metric}{{{}}}", ms.join(","))
    }
}

/// A query whose every output value is one of its input samples, so a
/// value outside the caller's band can only be another tenant's.
fn query(r: &mut Rng) -> String {
    let s = selector(r);
    match r.below(9) {
        0 => s,
        1 => format!("max_over_time({s}[5m])"),
        2 => format!("min_over_time({s}[10m])"),
        3 => format!("last_over_time({s}[2m])"),
        4 => format!("max by (owner, job) ({s})"),
        5 => format!("min without (instance) ({s})"),
        6 => format!("topk(3, {s})"),
        7 => format!("bottomk(2, last_over_time({s}[5m]))"),
        _ => format!("sort_desc({s} offset 1m)"),
    }
}

/// Every value of a query answer must be in tenant `i`'s band and every
/// `owner` label must be `i`'s. Returns false for the one refusal a random
/// query may earn: a function over several metric names that drops the
/// name and so yields two equal label sets (as Prometheus refuses it).
fn check_values(i: usize, q: &str, st: u16, v: &Value) -> bool {
    if st == 422
        && v["errorType"] == "execution"
        && v["error"] == "vector cannot contain metrics with the same labelset"
    {
        return false;
    }
    assert_eq!(st, 200, "{q}: {v}");
    assert_eq!(v["status"], "success", "{q}: {v}");
    let lo = (i * 1000) as f64;
    let hi = lo + 999.0;
    let in_band = |x: &Value| {
        let f: f64 = x.as_str().and_then(|s| s.parse().ok()).expect("value");
        assert!((lo..=hi).contains(&f), "t{i} {q}: foreign value {f}: {v}");
    };
    for r in v["data"]["result"].as_array().expect("result") {
        if let Some(o) = r["metric"].get("owner") {
            assert_eq!(o, &Value::String(name(i)), "t{i} {q}: foreign series {r}");
        }
        if let Some(x) = r.get("value") {
            in_band(&x[1]);
        }
        for x in r["values"].as_array().into_iter().flatten() {
            in_band(&x[1]);
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_random_queries_never_see_another_workspace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &["--flush-interval-secs", "1"]);
    let tenants: Vec<Tenant> = (0..TENANTS).map(|i| srv.tenant(&name(i))).collect();
    let now = now_ms();
    let t0 = now - 40 * 60_000;
    // The older half goes to the archive first, the newer half stays in
    // the head, so reads merge both.
    for (i, t) in tenants.iter().enumerate() {
        assert_eq!(
            push(&srv.url, &t.ingest, write_body(data(i, t0, 80))).await,
            204
        );
    }
    let archive = srv.data_dir.join("archive");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(0..TENANTS).all(|i| archive.join(format!("tenant={}", name(i))).exists()) {
        assert!(Instant::now() < deadline, "no archive flush");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (i, t) in tenants.iter().enumerate() {
        assert_eq!(
            push(
                &srv.url,
                &t.ingest,
                write_body(data(i, t0 + 80 * 15_000, 80))
            )
            .await,
            204
        );
    }

    let end = (now + 1_000) as f64 / 1000.0;
    let start = (t0 as f64) / 1000.0;
    let at = |r: &mut Rng| {
        format!(
            "{:.3}",
            start + (end - start) * (r.below(1000) as f64 / 1000.0)
        )
    };
    let mut r = Rng(0x5eed_1234_abcd_0001);
    let mut counts = [0usize; 5];
    let mut refused = 0usize;
    for _ in 0..QUERIES {
        let i = r.below(TENANTS);
        let tok = &tenants[i].report;
        match r.below(5) {
            0 => {
                let q = query(&mut r);
                let t = at(&mut r);
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[("query", &q), ("time", &t)],
                    "/api/v1/query",
                )
                .await;
                if !check_values(i, &q, st, &v) {
                    refused += 1;
                }
                counts[0] += 1;
            }
            1 => {
                let q = query(&mut r);
                let (s, e) = (format!("{start:.3}"), format!("{end:.3}"));
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[("query", &q), ("start", &s), ("end", &e), ("step", "120")],
                    "/api/v1/query_range",
                )
                .await;
                if !check_values(i, &q, st, &v) {
                    refused += 1;
                }
                counts[1] += 1;
            }
            2 => {
                let m = selector(&mut r);
                let (st, v) = get(&srv.url, tok, &[("match[]", &m)], "/api/v1/series").await;
                assert_eq!(st, 200, "{m}: {v}");
                for s in v["data"].as_array().expect("series") {
                    assert_eq!(s["owner"], Value::String(name(i)), "t{i} {m}: {s}");
                }
                counts[2] += 1;
            }
            3 => {
                let with = r.below(2) == 0;
                let m = selector(&mut r);
                let params: Vec<(&str, &str)> = if with { vec![("match[]", &m)] } else { vec![] };
                let (st, v) = get(&srv.url, tok, &params, "/api/v1/labels").await;
                assert_eq!(st, 200, "{v}");
                for n in v["data"].as_array().expect("names") {
                    let n = n.as_str().expect("name");
                    if let Some(owner) = n.strip_prefix("only_") {
                        assert_eq!(owner, name(i), "t{i}: foreign label name {n}");
                    }
                }
                counts[3] += 1;
            }
            _ => {
                let label = r.pick(&["owner", "instance", "job", "tenant"]);
                let (st, v) =
                    get(&srv.url, tok, &[], &format!("/api/v1/label/{label}/values")).await;
                assert_eq!(st, 200, "{v}");
                let vals: Vec<&str> = v["data"]
                    .as_array()
                    .expect("values")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                match label {
                    "owner" => assert_eq!(vals, [name(i).as_str()], "t{i}"),
                    "instance" => {
                        let own = format!("own{i}");
                        assert_eq!(vals, [own.as_str(), "x", "y"], "t{i}");
                    }
                    "job" => assert_eq!(vals, ["api", "db"]),
                    _ => assert_eq!(vals, [name((i + 1) % TENANTS).as_str()], "t{i}"),
                }
                counts[4] += 1;
            }
        }
    }
    // Exact counts too: each workspace has 18 series of its own, no more.
    for (i, t) in tenants.iter().enumerate() {
        let e = format!("{end:.3}");
        let (_, v) = get(
            &srv.url,
            &t.report,
            &[("query", "count({__name__=~\".+\"})"), ("time", &e)],
            "/api/v1/query",
        )
        .await;
        assert_eq!(v["data"]["result"][0]["value"][1], "18", "t{i}: {v}");
    }
    assert!(counts.iter().all(|&c| c > QUERIES / 10), "{counts:?}");
    assert!(
        refused < (counts[0] + counts[1]) / 4,
        "{refused} queries refused"
    );
    println!("random isolation: {QUERIES} queries, by endpoint {counts:?}, zero foreign rows");
}

/// Tenant `i`'s log pushes: the same streams as every other tenant's
/// (and a `tenant` label naming another), lines that say their owner and
/// carry a value in `[1000 i, 1000 i + 999]`.
fn log_body(i: usize, t0_ns: i64, n: i64) -> Vec<u8> {
    let me = name(i);
    let other = name((i + 1) % TENANTS);
    let mut streams = Vec::new();
    for app in ["api", "db"] {
        for env in ["prod", "dev"] {
            let values: Vec<Value> = (0..n)
                .map(|k| {
                    serde_json::json!([
                        (t0_ns + k * 1_000_000_000).to_string(),
                        format!("owner={me} value={} app={app}", i * 1000 + (k as usize % 500)),
                        {"owner_md": me}
                    ])
                })
                .collect();
            streams.push(serde_json::json!({
                "stream": {"app": app, "env": env, "owner": me, "tenant": other},
                "values": values
            }));
        }
    }
    serde_json::to_vec(&serde_json::json!({ "streams": streams })).expect("json")
}

async fn push_logs(url: &str, token: &str, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .post(format!("{url}/loki/api/v1/push"))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("push")
        .status()
        .as_u16()
}

fn log_selector(r: &mut Rng) -> String {
    let mut ms: Vec<String> = vec![match r.below(3) {
        0 => "app=\"api\"".into(),
        1 => "env=~\"prod|dev\"".into(),
        _ => "app=~\".+\"".into(),
    }];
    for _ in 0..r.below(3) {
        let t = name(r.below(TENANTS));
        ms.push(match r.below(5) {
            0 => format!("owner=\"{t}\""),
            1 => format!("tenant=\"{t}\""),
            2 => "owner=~\"t.*\"".into(),
            3 => "env!=\"dev\"".into(),
            _ => format!("owner!=\"{t}\""),
        });
    }
    format!("{{{}}}", ms.join(", "))
}

fn log_pipeline(r: &mut Rng) -> String {
    let t = name(r.below(TENANTS));
    match r.below(6) {
        0 => String::new(),
        1 => format!(" |= \"owner={t}\""),
        2 => " | logfmt".into(),
        3 => format!(" | logfmt | owner=\"{t}\""),
        4 => " |~ \"value=[0-9]+\" | logfmt | value >= 0".into(),
        _ => format!(" != \"{t}\" | line_format \"{{{{.owner}}}} {{{{.value}}}}\""),
    }
}

/// Every stream, series and value of a Loki answer must be `i`'s own.
fn check_loki(i: usize, q: &str, st: u16, v: &Value) {
    assert_eq!(st, 200, "{q}: {v}");
    assert_eq!(v["status"], "success", "{q}: {v}");
    let me = name(i);
    let lo = (i * 1000) as f64;
    for r in v["data"]["result"].as_array().expect("result") {
        let labels = if r.get("stream").is_some() {
            &r["stream"]
        } else {
            &r["metric"]
        };
        for key in ["owner", "owner_md"] {
            if let Some(o) = labels.get(key) {
                assert_eq!(
                    o,
                    &Value::String(me.clone()),
                    "t{i} {q}: foreign {key} in {r}"
                );
            }
        }
        for e in r["values"].as_array().into_iter().flatten() {
            if let Some(line) = e[1].as_str()
                && r.get("stream").is_some()
            {
                assert!(
                    !line.contains("owner=t") || line.contains(&format!("owner={me} ")),
                    "t{i} {q}: foreign line {line}"
                );
                assert!(
                    line.starts_with(&format!("owner={me} "))
                        || line.starts_with(&format!("{me} ")),
                    "t{i} {q}: foreign line {line}"
                );
            }
        }
        let _ = lo;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn random_loki_queries_never_see_another_workspace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &["--flush-interval-secs", "1"]);
    let tenants: Vec<Tenant> = (0..TENANTS).map(|i| srv.tenant(&name(i))).collect();
    let now = now_ms();
    let t0_ns = (now - 20 * 60_000) * 1_000_000;
    // The older half to the archive, the newer half stays in the head.
    for (i, t) in tenants.iter().enumerate() {
        assert_eq!(
            push_logs(&srv.url, &t.ingest, log_body(i, t0_ns, 60)).await,
            204
        );
    }
    let archive = srv.data_dir.join("archive");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(0..TENANTS).all(|i| {
        archive
            .join(format!("tenant={}/signal=logs", name(i)))
            .exists()
    }) {
        assert!(Instant::now() < deadline, "no archive flush");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Live tails of random queries, two per workspace, opened before the
    // newer half arrives: their history and live entries are their own.
    let start = t0_ns.to_string();
    let mut r = Rng(0x10c5_1234_abcd_0003);
    let mut tails = Vec::new();
    for (i, t) in tenants.iter().enumerate() {
        for _ in 0..2 {
            let q = format!("{}{}", log_selector(&mut r), log_pipeline(&mut r));
            let ws = tail_connect(&srv.url, &t.report, &[("query", &q), ("start", &start)])
                .await
                .unwrap_or_else(|e| panic!("{q}: {e:?}"));
            tails.push((i, q, ws));
        }
    }
    for (i, t) in tenants.iter().enumerate() {
        assert_eq!(
            push_logs(
                &srv.url,
                &t.ingest,
                log_body(i, t0_ns + 60 * 1_000_000_000, 60)
            )
            .await,
            204
        );
    }
    let mut tailed = 0usize;
    for (i, q, ws) in &mut tails {
        while let TailEvent::Message(m) = tail_next(ws, Duration::from_millis(700)).await {
            let streams = m["streams"].as_array().expect("streams");
            tailed += streams.len();
            let as_answer = serde_json::json!({"status": "success", "data": {"result": streams}});
            check_loki(*i, &format!("tail {q}"), 200, &as_answer);
        }
    }
    assert!(tailed > 0, "the tails received nothing");
    drop(tails);
    let end = ((now + 1_000) * 1_000_000).to_string();
    let mut r = Rng(0x10c5_1234_abcd_0002);
    let mut counts = [0usize; 9];
    for _ in 0..900 {
        let i = r.below(TENANTS);
        let tok = &tenants[i].report;
        match r.below(9) {
            0 => {
                let q = format!("{}{}", log_selector(&mut r), log_pipeline(&mut r));
                let dir = r.pick(&["forward", "backward"]);
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[
                        ("query", &q),
                        ("start", &start),
                        ("end", &end),
                        ("limit", "300"),
                        ("direction", dir),
                    ],
                    "/loki/api/v1/query_range",
                )
                .await;
                check_loki(i, &q, st, &v);
                counts[0] += 1;
            }
            1 => {
                let s = log_selector(&mut r);
                let q = match r.below(4) {
                    0 => format!("sum by (owner) (count_over_time({s}[5m]))"),
                    1 => format!("max_over_time({s} | logfmt | unwrap value [10m]) by (owner)"),
                    2 => format!("topk(2, sum by (owner, app) (rate({s}[2m])))"),
                    _ => format!("count_over_time({s} | logfmt | owner_md=~\"t.*\" [1m])"),
                };
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[
                        ("query", &q),
                        ("start", &start),
                        ("end", &end),
                        ("step", "60s"),
                    ],
                    "/loki/api/v1/query_range",
                )
                .await;
                check_loki(i, &q, st, &v);
                // Unwrapped values stay in the caller's band.
                if q.starts_with("max_over_time") {
                    let lo = (i * 1000) as f64;
                    for s in v["data"]["result"].as_array().expect("result") {
                        for p in s["values"].as_array().expect("values") {
                            let f: f64 = p[1].as_str().and_then(|x| x.parse().ok()).expect("value");
                            assert!(
                                (lo..lo + 1000.0).contains(&f),
                                "t{i} {q}: foreign value {f}"
                            );
                        }
                    }
                }
                counts[1] += 1;
            }
            2 => {
                let m = log_selector(&mut r);
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[("match[]", &m), ("start", &start), ("end", &end)],
                    "/loki/api/v1/series",
                )
                .await;
                assert_eq!(st, 200, "{m}: {v}");
                for s in v["data"].as_array().expect("series") {
                    assert_eq!(s["owner"], Value::String(name(i)), "t{i} {m}: {s}");
                }
                counts[2] += 1;
            }
            3 => {
                let label = r.pick(&["owner", "tenant", "app"]);
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[("start", &start), ("end", &end)],
                    &format!("/loki/api/v1/label/{label}/values"),
                )
                .await;
                assert_eq!(st, 200, "{v}");
                let vals: Vec<&str> = v["data"]
                    .as_array()
                    .expect("values")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                match label {
                    "owner" => assert_eq!(vals, [name(i).as_str()], "t{i}"),
                    "tenant" => assert_eq!(vals, [name((i + 1) % TENANTS).as_str()], "t{i}"),
                    _ => assert_eq!(vals, ["api", "db"]),
                }
                counts[3] += 1;
            }
            4 => {
                let m = log_selector(&mut r);
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[("query", &m), ("start", &start), ("end", &end)],
                    "/loki/api/v1/index/stats",
                )
                .await;
                assert_eq!(st, 200, "{m}: {v}");
                assert!(
                    v["entries"].as_u64().expect("entries") <= 4 * 120,
                    "t{i} {m}: {v}"
                );
                counts[4] += 1;
            }
            5 => {
                let m = log_selector(&mut r);
                let path = r.pick(&[
                    "/loki/api/v1/index/volume",
                    "/loki/api/v1/index/volume_range",
                ]);
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[
                        ("query", &m),
                        ("start", &start),
                        ("end", &end),
                        ("step", "60s"),
                        ("targetLabels", "owner"),
                    ],
                    path,
                )
                .await;
                check_loki(i, &m, st, &v);
                counts[5] += 1;
            }
            6 => {
                // Instant metric queries.
                let s = log_selector(&mut r);
                let q = format!(
                    "sum by (owner) (count_over_time({s}{} [30m]))",
                    log_pipeline(&mut r)
                );
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[("query", &q), ("time", &end)],
                    "/loki/api/v1/query",
                )
                .await;
                check_loki(i, &q, st, &v);
                counts[6] += 1;
            }
            7 => {
                // Detected fields and their values: only the caller's.
                let q = format!("{}{}", log_selector(&mut r), log_pipeline(&mut r));
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[("query", &q), ("start", &start), ("end", &end)],
                    "/loki/api/v1/detected_fields",
                )
                .await;
                assert_eq!(st, 200, "{q}: {v}");
                for f in v["fields"].as_array().into_iter().flatten() {
                    let name = f["label"].as_str().expect("label");
                    assert!(
                        [
                            "owner",
                            "owner_md",
                            "value",
                            "app",
                            "app_extracted",
                            "owner_extracted"
                        ]
                        .contains(&name),
                        "t{i} {q}: field {name}"
                    );
                }
                let field = r.pick(&["owner", "owner_md", "owner_extracted"]);
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[("query", &q), ("start", &start), ("end", &end)],
                    &format!("/loki/api/v1/detected_field/{field}/values"),
                )
                .await;
                assert_eq!(st, 200, "{q}: {v}");
                for x in v["values"].as_array().into_iter().flatten() {
                    assert_eq!(x, &Value::String(name(i)), "t{i} {q} {field}: {v}");
                }
                counts[7] += 1;
            }
            _ => {
                // Label names and detected labels: nothing but the caller's.
                let m = log_selector(&mut r);
                let path = r.pick(&["/loki/api/v1/labels", "/loki/api/v1/detected_labels"]);
                let (st, v) = get(
                    &srv.url,
                    tok,
                    &[("query", &m), ("start", &start), ("end", &end)],
                    path,
                )
                .await;
                assert_eq!(st, 200, "{path} {m}: {v}");
                let names: Vec<String> =
                    if path.ends_with("labels") && v.get("detectedLabels").is_some() {
                        v["detectedLabels"]
                            .as_array()
                            .expect("labels")
                            .iter()
                            .filter_map(|l| l["label"].as_str().map(str::to_string))
                            .collect()
                    } else {
                        v["data"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    };
                for n in &names {
                    assert!(
                        ["app", "env", "owner", "tenant", "service_name"].contains(&n.as_str()),
                        "t{i} {path}: label {n}"
                    );
                }
                if path.ends_with("detected_labels") {
                    for l in v["detectedLabels"].as_array().into_iter().flatten() {
                        if l["label"] == "owner" {
                            assert_eq!(l["cardinality"], 1, "t{i}: {v}");
                        }
                    }
                }
                counts[8] += 1;
            }
        }
    }
    // Exact totals: each workspace holds 4 streams of 120 entries.
    for (i, t) in tenants.iter().enumerate() {
        let (_, v) = get(
            &srv.url,
            &t.report,
            &[("query", "{app=~\".+\"}"), ("start", &start), ("end", &end)],
            "/loki/api/v1/index/stats",
        )
        .await;
        assert_eq!(v["entries"], 480, "t{i}: {v}");
        assert_eq!(v["streams"], 4, "t{i}: {v}");
    }
    assert!(counts.iter().all(|&c| c > 40), "{counts:?}");
    println!(
        "random Loki isolation: 900 queries, by endpoint {counts:?}, and 8 tails ({tailed} entries), zero foreign rows"
    );
}

mod traces;
