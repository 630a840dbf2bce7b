//! SIGKILL during a push loop: after restart, every acknowledged sample is
//! there, whether it was still in the WAL or already in the archive.

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
    let mut got: Vec<String> = Vec::new();
    // Page forward through the window, 5000 entries at a time.
    let mut from = start.clone();
    loop {
        let (st, v) = get(
            &srv.url,
            &t.report,
            &[
                ("query", r#"{app="crash"}"#),
                ("start", &from),
                ("end", &end),
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
    let have: std::collections::HashSet<&String> = got.iter().collect();
    let missing: Vec<&String> = acked.iter().filter(|l| !have.contains(l)).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged entries missing after restart, e.g. {missing:?}",
        acked.iter().filter(|l| !have.contains(l)).count()
    );
    assert_eq!(got.len(), have.len(), "an entry came back twice");
}
