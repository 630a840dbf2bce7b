//! Debian's Prometheus scrapes itself and remote-writes to Sightline; then
//! `promtool query instant|range` asks both the same questions over the same
//! samples, and the answers must agree.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Server, free_port, get, http_ok, now_ms};

struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Queries of the foundation's PromQL subset, over what Prometheus scrapes
/// from itself.
const QUERIES: &[&str] = &[
    "up",
    "prometheus_http_requests_total",
    "prometheus_http_requests_total{handler=~\"/-/.*|/metrics\"}",
    "prometheus_http_requests_total{handler!=\"/metrics\",code!~\"5..\"}",
    "{__name__=~\"prometheus_tsdb_head_(series|chunks)\"}",
    "prometheus_tsdb_head_samples_appended_total offset 3s",
    "rate(prometheus_tsdb_head_samples_appended_total[5s])",
    "rate(prometheus_http_requests_total[10s])",
    "rate(process_cpu_seconds_total[7s] offset 2s)",
    "sum(rate(prometheus_http_requests_total[10s]))",
    "sum by (handler) (rate(prometheus_http_requests_total[10s]))",
    "sum without (instance, code) (prometheus_http_requests_total)",
    "avg(prometheus_http_requests_total)",
    "avg by (code) (prometheus_http_requests_total)",
    "min(prometheus_http_requests_total)",
    "max by (job) (scrape_duration_seconds)",
    "count(prometheus_http_requests_total)",
    "count by (code) (prometheus_http_requests_total)",
    "process_resident_memory_bytes / 1024 / 1024",
    "2 * up + 1",
    "100 - up * 3",
    "prometheus_tsdb_head_series % 7",
    "scrape_samples_scraped ^ 2",
    "-process_open_fds",
    "1 / prometheus_http_requests_total",
    "0 * process_virtual_memory_bytes - 5",
    "up[5s]",
    "scrape_duration_seconds[4s] offset 1s",
];

fn promtool(args: &[&str]) -> Value {
    let out = Command::new("promtool")
        .args(args)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("promtool {args:?} printed no JSON ({e})"))
}

type Normal = BTreeMap<String, Vec<(String, f64)>>;

/// Result as metric → [(timestamp, value)], for comparison.
fn normalize(v: &Value) -> Normal {
    let mut out = Normal::new();
    let num = |p: &Value| -> (String, f64) {
        let t = p[0].as_f64().map(|t| format!("{t:.3}")).unwrap_or_default();
        let v = p[1]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN);
        (t, v)
    };
    match v {
        Value::Array(items) if items.first().is_some_and(Value::is_object) => {
            for it in items {
                let key = it["metric"].to_string();
                let pts = if let Some(vals) = it["values"].as_array() {
                    vals.iter().map(num).collect()
                } else {
                    vec![num(&it["value"])]
                };
                out.insert(key, pts);
            }
        }
        Value::Array(items) if items.len() == 2 && !items[0].is_object() => {
            out.insert("scalar".into(), vec![num(v)]);
        }
        _ => {}
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || ((a - b).abs() <= 1e-9 * a.abs().max(b.abs()))
}

fn same(a: &Normal, b: &Normal) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((ka, va), (kb, vb))| {
            ka == kb
                && va.len() == vb.len()
                && va
                    .iter()
                    .zip(vb)
                    .all(|(x, y)| x.0 == y.0 && close(x.1, y.1))
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_equal_prometheus_over_the_same_remote_written_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(&dir.path().join("sightline"), &[]);
    let t = srv.tenant("oracle");

    let pport = free_port();
    let purl = format!("http://127.0.0.1:{pport}");
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: prom\n    static_configs:\n      - targets: ['127.0.0.1:{pport}']\n\
             remote_write:\n  - url: {}/api/v1/write\n    authorization:\n      credentials: {}\n\
             \x20   queue_config:\n      batch_send_deadline: 200ms\n      min_backoff: 50ms\n\
             \x20   metadata_config:\n      send_interval: 1s\n",
            srv.url, t.ingest
        ),
    )
    .expect("config");
    let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
    let _prom = Prometheus(
        Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{pport}"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start Debian's prometheus (apt-get install prometheus)"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http_ok(&purl, "/-/ready") {
        assert!(Instant::now() < deadline, "prometheus did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let it scrape for a while: long enough that no range window of the
    // queries below reaches back to a counter's first sample (Prometheus
    // 2.42 and 3.x extrapolate differently there; 3.x is what we match).
    tokio::time::sleep(Duration::from_secs(36)).await;

    // Pick a time a little in the past, wait until Sightline has every
    // sample up to it, and move it half an interval off the scrape times.
    let sl_url = srv
        .url
        .replacen("http://", &format!("http://u:{}@", t.report), 1);
    let mut at = now_ms() - 3_000;
    let want = loop {
        let ts = format!("{:.3}", at as f64 / 1000.0);
        let p = promtool(&[
            "query", "instant", "-o", "json", "--time", &ts, &purl, "up[20s]",
        ]);
        let s = promtool(&[
            "query", "instant", "-o", "json", "--time", &ts, &sl_url, "up[20s]",
        ]);
        if normalize(&p) == normalize(&s) || Instant::now() > deadline + Duration::from_secs(30) {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let last_scrape = want[0]["values"]
        .as_array()
        .and_then(|v| v.last())
        .and_then(|p| p[0].as_f64())
        .map(|t| (t * 1000.0).round() as i64)
        .expect("prometheus has scraped itself");
    at = last_scrape + 500;

    // Metadata arrived too.
    let (_, md) = get(
        &srv.url,
        &t.report,
        &[("metric", "prometheus_http_requests_total")],
        "/api/v1/metadata",
    )
    .await;
    assert_eq!(
        md["data"]["prometheus_http_requests_total"][0]["type"], "counter",
        "{md}"
    );

    let ts = format!("{:.3}", at as f64 / 1000.0);
    let start = format!("{:.3}", (at - 10_000) as f64 / 1000.0);
    let mut failures = Vec::new();
    let mut compared = 0;
    for q in QUERIES {
        let mut runs: Vec<Vec<String>> = vec![vec![
            "query".into(),
            "instant".into(),
            "-o".into(),
            "json".into(),
            "--time".into(),
            ts.clone(),
        ]];
        if !q.contains('[')
            || q.starts_with("rate")
            || q.starts_with("sum(rate")
            || q.starts_with("sum by")
        {
            runs.push(vec![
                "query".into(),
                "range".into(),
                "-o".into(),
                "json".into(),
                "--start".into(),
                start.clone(),
                "--end".into(),
                ts.clone(),
                "--step".into(),
                "1s".into(),
            ]);
        }
        for run in runs {
            let mut pa: Vec<&str> = run.iter().map(String::as_str).collect();
            pa.extend(["--", purl.as_str(), q]);
            let mut sa: Vec<&str> = run.iter().map(String::as_str).collect();
            sa.extend(["--", sl_url.as_str(), q]);
            let (p, s) = (normalize(&promtool(&pa)), normalize(&promtool(&sa)));
            compared += 1;
            if p.is_empty() {
                failures.push(format!("{} {q}: Prometheus returned nothing", run[1]));
            } else if !same(&p, &s) {
                failures.push(format!(
                    "{} {q}:\n  prometheus: {p:?}\n  sightline:  {s:?}",
                    run[1]
                ));
            }
        }
    }
    println!(
        "{} passed, {} failed",
        compared - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {compared} answers differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
