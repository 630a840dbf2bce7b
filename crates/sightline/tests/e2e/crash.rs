//! SIGKILL during ingest loops (remote_write, Loki push, OTLP/gRPC of all
//! three signals): after restart, every acknowledged sample, entry, span,
//! point and record is there, each once, whether it was still in the WAL
//! or already in the archive.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::{Server, get, now_ms, series, write_body};

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_samples_survive_sigkill_and_a_torn_wal_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A small head so that flushes to Parquet happen during the loop.
    let mut srv = Server::start(dir.path(), &["--head-max-samples", "20000"]);
    let t = srv.tenant("crashy");
    let acked: Arc<Mutex<BTreeMap<(u32, i64), f64>>> = Arc::default();
    let base = now_ms() - 120_000;
    let (url, tok, acked2) = (srv.url.clone(), t.ingest.clone(), acked.clone());
    let pusher = tokio::spawn(async move {
        let client = reqwest::Client::new();
        for round in 0i64.. {
            let ts = base + round; // one new millisecond per round
            let mut body = Vec::new();
            for s in 0..100u32 {
                body.push(series(
                    &[("__name__", "crash_metric"), ("s", &s.to_string())],
                    &[(ts, (round * 100 + s as i64) as f64)],
                ));
            }
            let resp = client
                .post(format!("{url}/api/v1/write"))
                .bearer_auth(&tok)
                .header("Content-Encoding", "snappy")
                .body(write_body(body))
                .send()
                .await;
            match resp {
                Ok(r) if r.status().as_u16() == 204 => {
                    let mut g = acked2.lock().expect("lock");
                    for s in 0..100u32 {
                        g.insert((s, ts), (round * 100 + s as i64) as f64);
                    }
                }
                _ => return round,
            }
        }
        unreachable!()
    });
    tokio::time::sleep(Duration::from_secs(4)).await;
    srv.kill();
    let rounds = pusher.await.expect("pusher");
    let acked = acked.lock().expect("lock").clone();
    assert!(
        rounds > 20,
        "only {rounds} rounds were pushed before the kill"
    );
    let archived = walk(&dir.path().join("archive"))
        .into_iter()
        .filter(|p| p.ends_with(".parquet"))
        .count();
    assert!(archived > 0, "no flush happened during the loop");

    // Tear the tail of the newest WAL segment, as a crash mid-write would.
    let mut wals: Vec<_> = walk(&dir.path().join("wal"))
        .into_iter()
        .filter(|p| p.ends_with(".wal"))
        .collect();
    wals.sort();
    let last = wals.last().expect("a wal segment");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(last)
        .expect("open wal");
    f.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
        .expect("tear");
    drop(f);

    let srv = Server::start(dir.path(), &[]);
    let at = format!("{:.3}", (base + rounds + 1) as f64 / 1000.0);
    let (st, v) = get(
        &srv.url,
        &t.report,
        &[("query", "crash_metric[10m]"), ("time", &at)],
        "/api/v1/query",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let mut got: BTreeMap<(u32, i64), f64> = BTreeMap::new();
    for s in v["data"]["result"].as_array().expect("matrix") {
        let id: u32 = s["metric"]["s"].as_str().expect("s").parse().expect("num");
        for p in s["values"].as_array().expect("values") {
            let ts = (p[0].as_f64().expect("t") * 1000.0).round() as i64;
            let val: f64 = p[1].as_str().expect("v").parse().expect("num");
            got.insert((id, ts), val);
        }
    }
    let missing: Vec<_> = acked
        .iter()
        .filter(|(k, v)| got.get(k) != Some(v))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged samples missing after restart, e.g. {missing:?}",
        acked.iter().filter(|(k, v)| got.get(k) != Some(v)).count()
    );
    assert!(got.len() >= acked.len());
    let log = std::fs::read_to_string(dir.path().join(format!(
        "stderr-{}.log",
        srv.url.rsplit(':').next().expect("port")
    )))
    .unwrap_or_default();
    assert!(log.contains("torn wal tail cut"), "{log}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// SIGKILL during a Loki push loop with flushes to the archive: after the
/// restart every acknowledged entry is there exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_log_entries_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A small head so that flushes of log parts happen during the loop.
    let mut srv = Server::start(dir.path(), &["--head-max-log-bytes", "20000"]);
    let t = srv.tenant("crashy_logs");
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let base_ns = (now_ms() - 120_000) * 1_000_000;
    let (url, tok, acked2) = (srv.url.clone(), t.ingest.clone(), acked.clone());
    let pusher = tokio::spawn(async move {
        let client = reqwest::Client::new();
        for round in 0i64.. {
            let values: Vec<serde_json::Value> = (0..20)
                .map(|i| {
                    serde_json::json!([
                        (base_ns + round * 20 + i).to_string(),
                        format!("round {round} entry {i}")
                    ])
                })
                .collect();
            let body =
                serde_json::json!({"streams": [{"stream": {"app": "crash"}, "values": values}]});
            let resp = client
                .post(format!("{url}/loki/api/v1/push"))
                .bearer_auth(&tok)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await;
            match resp {
                Ok(r) if r.status().as_u16() == 204 => {
                    let mut g = acked2.lock().expect("lock");
                    for i in 0..20 {
                        g.push(format!("round {round} entry {i}"));
                    }
                }
                _ => return round,
            }
        }
        unreachable!()
    });
    tokio::time::sleep(Duration::from_secs(4)).await;
    srv.kill();
    let rounds = pusher.await.expect("pusher");
    let acked = acked.lock().expect("lock").clone();
    assert!(
        rounds > 20,
        "only {rounds} rounds were pushed before the kill"
    );
    let archived = walk(&dir.path().join("archive"))
        .into_iter()
        .filter(|p| p.contains("signal=logs") && p.ends_with(".parquet"))
        .count();
    assert!(archived > 0, "no log flush happened during the loop");

    let srv = Server::start(dir.path(), &[]);
    let start = (base_ns - 1).to_string();
    let end = (base_ns + (rounds + 1) * 20).to_string();
    let got = read_lines(&srv, &t.report, r#"{app="crash"}"#, &start, &end).await;
    let have: std::collections::HashSet<&String> = got.iter().collect();
    let missing: Vec<&String> = acked.iter().filter(|l| !have.contains(l)).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged entries missing after restart, e.g. {missing:?}",
        acked.iter().filter(|l| !have.contains(l)).count()
    );
    assert_eq!(got.len(), have.len(), "an entry came back twice");
}

/// Every log line `query` selects in `[start, end]`, paged forward 5000
/// entries at a time.
async fn read_lines(srv: &Server, token: &str, query: &str, start: &str, end: &str) -> Vec<String> {
    let mut got: Vec<String> = Vec::new();
    let mut from = start.to_string();
    loop {
        let (st, v) = get(
            &srv.url,
            token,
            &[
                ("query", query),
                ("start", &from),
                ("end", end),
                ("limit", "5000"),
                ("direction", "forward"),
            ],
            "/loki/api/v1/query_range",
        )
        .await;
        assert_eq!(st, 200, "{v}");
        let mut page: Vec<(i64, String)> = Vec::new();
        for s in v["data"]["result"].as_array().expect("streams") {
            for e in s["values"].as_array().expect("values") {
                let ts: i64 = e[0].as_str().and_then(|x| x.parse().ok()).expect("ts");
                page.push((ts, e[1].as_str().expect("line").to_string()));
            }
        }
        page.sort();
        let Some(&(last, _)) = page.last() else { break };
        let n = page.len();
        got.extend(page.into_iter().map(|(_, l)| l));
        if n < 5000 {
            break;
        }
        from = (last + 1).to_string();
    }
    got
}

/// SIGKILL while an OTLP/gRPC sender exports spans, metric points and log
/// records at once, with flushes of all three to the archive: after the
/// restart every acknowledged span, point and record is there, each once.
#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_otlp_spans_points_and_records_survive_sigkill() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};

    use crate::otlp::kv;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    const SPANS: u64 = 5;
    const POINTS: u32 = 20;
    const RECORDS: i64 = 10;
    fn authorized<T>(msg: T, token: &str) -> tonic::Request<T> {
        let mut req = tonic::Request::new(msg);
        req.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("metadata"),
        );
        req
    }
    let resource = || {
        Some(Resource {
            attributes: vec![kv("service.name", "crash")],
            ..Default::default()
        })
    };

    let dir = tempfile::tempdir().expect("tempdir");
    // A small head, so that all three signals flush during the loop.
    let mut srv = Server::start(
        dir.path(),
        &[
            "--head-max-samples",
            "5000",
            "--head-max-log-bytes",
            "20000",
            "--head-max-span-bytes",
            "40000",
        ],
    );
    let t = srv.tenant("crashy_otlp");
    let base_ms = now_ms() - 120_000;
    let base_ns = base_ms as u64 * 1_000_000;

    // Spans: round r is trace r + 1, of SPANS spans.
    let traces_acked: Arc<Mutex<Vec<u64>>> = Arc::default();
    let (url, tok, acked) = (srv.grpc_url.clone(), t.ingest.clone(), traces_acked.clone());
    let traces = tokio::spawn(async move {
        let mut c = TraceServiceClient::connect(url).await.expect("connect");
        for round in 0u64.. {
            let trace = u128::from(round + 1).to_be_bytes().to_vec();
            let spans = (0..SPANS)
                .map(|i| Span {
                    trace_id: trace.clone(),
                    span_id: (round * SPANS + i + 1).to_be_bytes().to_vec(),
                    name: format!("op {i}"),
                    start_time_unix_nano: base_ns + round * 1000,
                    end_time_unix_nano: base_ns + round * 1000 + 500,
                    ..Default::default()
                })
                .collect();
            let req = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: resource(),
                    scope_spans: vec![ScopeSpans {
                        spans,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            };
            match c.export(authorized(req, &tok)).await {
                Ok(r) if r.get_ref().partial_success.is_none() => {
                    acked.lock().expect("lock").push(round + 1)
                }
                _ => return round,
            }
        }
        unreachable!()
    });
    // Points: round r is POINTS series at base + r ms.
    let points_acked: Arc<Mutex<BTreeMap<(u32, i64), f64>>> = Arc::default();
    let (url, tok, acked) = (srv.grpc_url.clone(), t.ingest.clone(), points_acked.clone());
    let points = tokio::spawn(async move {
        let mut c = MetricsServiceClient::connect(url).await.expect("connect");
        for round in 0i64.. {
            let ts = base_ms + round;
            let data_points = (0..POINTS)
                .map(|s| NumberDataPoint {
                    attributes: vec![kv("s", &s.to_string())],
                    time_unix_nano: ts as u64 * 1_000_000,
                    value: Some(number_data_point::Value::AsDouble(
                        (round * 100 + i64::from(s)) as f64,
                    )),
                    ..Default::default()
                })
                .collect();
            let req = ExportMetricsServiceRequest {
                resource_metrics: vec![ResourceMetrics {
                    resource: resource(),
                    scope_metrics: vec![ScopeMetrics {
                        metrics: vec![Metric {
                            name: "otlp_crash".into(),
                            data: Some(metric::Data::Gauge(Gauge { data_points })),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            };
            match c.export(authorized(req, &tok)).await {
                Ok(r) if r.get_ref().partial_success.is_none() => {
                    let mut g = acked.lock().expect("lock");
                    for s in 0..POINTS {
                        g.insert((s, ts), (round * 100 + i64::from(s)) as f64);
                    }
                }
                _ => return round,
            }
        }
        unreachable!()
    });
    // Records: round r is RECORDS lines.
    let records_acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let (url, tok, acked) = (
        srv.grpc_url.clone(),
        t.ingest.clone(),
        records_acked.clone(),
    );
    let records = tokio::spawn(async move {
        let mut c = LogsServiceClient::connect(url).await.expect("connect");
        for round in 0i64.. {
            let log_records = (0..RECORDS)
                .map(|i| LogRecord {
                    time_unix_nano: base_ns + (round * RECORDS + i) as u64,
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(format!(
                            "round {round} record {i}"
                        ))),
                    }),
                    ..Default::default()
                })
                .collect();
            let req = ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    resource: resource(),
                    scope_logs: vec![ScopeLogs {
                        log_records,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            };
            match c.export(authorized(req, &tok)).await {
                Ok(r) if r.get_ref().partial_success.is_none() => {
                    let mut g = acked.lock().expect("lock");
                    for i in 0..RECORDS {
                        g.push(format!("round {round} record {i}"));
                    }
                }
                _ => return round,
            }
        }
        unreachable!()
    });

    tokio::time::sleep(Duration::from_secs(4)).await;
    srv.kill();
    let rounds = [
        traces.await.expect("traces") as i64,
        points.await.expect("points"),
        records.await.expect("records"),
    ];
    assert!(
        rounds.iter().all(|&r| r > 20),
        "too few rounds before the kill: {rounds:?}"
    );
    for signal in ["traces", "metrics", "logs"] {
        let archived = walk(&dir.path().join("archive"))
            .into_iter()
            .filter(|p| p.contains(&format!("signal={signal}")) && p.ends_with(".parquet"))
            .count();
        assert!(archived > 0, "no flush of {signal} during the loop");
    }

    let srv = Server::start(dir.path(), &[]);
    // Every acknowledged trace, with each of its spans once.
    let traces_acked = traces_acked.lock().expect("lock").clone();
    for trace in &traces_acked {
        let id = format!("{trace:032x}");
        let (st, v) = get(&srv.url, &t.report, &[], &format!("/api/traces/{id}")).await;
        assert_eq!(st, 200, "acknowledged trace {id}: {v}");
        let mut ids: Vec<String> = Vec::new();
        for b in v["batches"].as_array().expect("batches") {
            for ss in b["scopeSpans"].as_array().expect("scopeSpans") {
                for s in ss["spans"].as_array().expect("spans") {
                    ids.push(s["spanId"].as_str().expect("spanId").to_string());
                }
            }
        }
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(
            (n, ids.len()),
            (SPANS as usize, SPANS as usize),
            "trace {id}: {ids:?}"
        );
    }
    // Every acknowledged point.
    let at = format!("{:.3}", (base_ms + rounds[1] + 1) as f64 / 1000.0);
    let (st, v) = get(
        &srv.url,
        &t.report,
        &[("query", r#"otlp_crash{job="crash"}[10m]"#), ("time", &at)],
        "/api/v1/query",
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let mut got: BTreeMap<(u32, i64), f64> = BTreeMap::new();
    for s in v["data"]["result"].as_array().expect("matrix") {
        let id: u32 = s["metric"]["s"].as_str().expect("s").parse().expect("num");
        for p in s["values"].as_array().expect("values") {
            let ts = (p[0].as_f64().expect("t") * 1000.0).round() as i64;
            let val: f64 = p[1].as_str().expect("v").parse().expect("num");
            got.insert((id, ts), val);
        }
    }
    let points_acked = points_acked.lock().expect("lock").clone();
    let missing = points_acked
        .iter()
        .filter(|(k, v)| got.get(k) != Some(v))
        .count();
    assert_eq!(missing, 0, "acknowledged points missing after restart");
    // Every acknowledged record, once.
    let start = (base_ns - 1).to_string();
    let end = (base_ns + (rounds[2] as u64 + 1) * RECORDS as u64).to_string();
    let lines = read_lines(&srv, &t.report, r#"{service_name="crash"}"#, &start, &end).await;
    let have: std::collections::HashSet<&String> = lines.iter().collect();
    let records_acked = records_acked.lock().expect("lock").clone();
    let missing = records_acked.iter().filter(|l| !have.contains(l)).count();
    assert_eq!(missing, 0, "acknowledged records missing after restart");
    assert_eq!(lines.len(), have.len(), "a record came back twice");
}
