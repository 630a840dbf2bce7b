//! PromQL over HTTP, side by side: loads identical data into Sightline and
//! Prometheus through remote_write, then runs a fixed set of queries through
//! both query APIs and prints each query's median latency and the ratio.
//!
//! Data (defaults): 20 jobs x 50 instances x 4 codes x 2 methods counters
//! (`http_requests_total`, 8,000 series), a 10-bucket classic histogram for
//! 20 jobs x 10 instances (`request_duration_seconds_bucket`, 2,200 series
//! with `_count`), and one `instance_info{job,instance,team}` per instance
//! (1,000 series): 11,200 series over 24 h at 15 s, 64.5 M samples each side.
//! Samples sit 3 s past the 15 s grid and query times 7 s past it, so no
//! sample falls on a range boundary (Prometheus 2.x and 3.x disagree there).

use std::time::{Duration, Instant};

mod common;

use anyhow::{Context, bail};
use clap::Parser;
use common::{agree, median};
use sightline_ingest::remote_write::{
    LabelProto, SampleProto, TimeSeries, WriteRequest, encode_snappy,
};

#[derive(Parser)]
struct Args {
    /// Sightline's base URL.
    #[arg(long)]
    sightline: String,
    /// Sightline ingest token.
    #[arg(long)]
    sightline_write_token: String,
    /// Sightline report token.
    #[arg(long)]
    sightline_read_token: String,
    /// Prometheus's base URL (remote-write receiver enabled).
    #[arg(long)]
    prometheus: String,
    /// Jobs.
    #[arg(long, default_value_t = 20)]
    jobs: usize,
    /// Instances per job.
    #[arg(long, default_value_t = 50)]
    instances: usize,
    /// Hours of data, ending now.
    #[arg(long, default_value_t = 24)]
    hours: i64,
    /// Scrape interval in seconds.
    #[arg(long, default_value_t = 15)]
    interval_secs: i64,
    /// Timed runs per query and system (after one untimed warm-up).
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Skip loading (the data is already there, from an earlier run with the
    /// same --hours, --jobs, --instances and --end-ms).
    #[arg(long)]
    skip_load: bool,
    /// Timestamp of the last sample in ms (default: now, aligned).
    #[arg(long)]
    end_ms: Option<i64>,
}

const CODES: [&str; 4] = ["200", "404", "500", "503"];
const METHODS: [&str; 2] = ["GET", "POST"];
const LES: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
];
/// Share of observations at or below each bound.
const CDF: [f64; 10] = [0.02, 0.05, 0.15, 0.35, 0.6, 0.8, 0.9, 0.96, 0.99, 1.0];
const HIST_INSTANCES: usize = 10;
const SAMPLES_PER_REQUEST_CHUNK: i64 = 40;

/// A deterministic 64-bit mix (splitmix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn unit(x: u64) -> f64 {
    (mix(x) >> 11) as f64 / (1u64 << 53) as f64
}

enum Kind {
    /// Counter id; increments depend on it.
    Counter(u64),
    /// Histogram (job, instance) id and bucket index (10 = `_count`).
    Bucket(u64, usize),
    Info,
}

struct Series {
    labels: Vec<LabelProto>,
    kind: Kind,
    value: f64,
}

fn label(n: &str, v: &str) -> LabelProto {
    LabelProto {
        name: n.to_string(),
        value: v.to_string(),
    }
}

fn make_series(a: &Args) -> Vec<Series> {
    let mut out = Vec::new();
    for j in 0..a.jobs {
        let job = format!("job-{j}");
        for i in 0..a.instances {
            let inst = format!("host-{j}-{i}:9100");
            for code in CODES {
                for method in METHODS {
                    let id = out.len() as u64;
                    out.push(Series {
                        labels: vec![
                            label("__name__", "http_requests_total"),
                            label("code", code),
                            label("instance", &inst),
                            label("job", &job),
                            label("method", method),
                        ],
                        kind: Kind::Counter(id),
                        value: 0.0,
                    });
                }
            }
            out.push(Series {
                labels: vec![
                    label("__name__", "instance_info"),
                    label("instance", &inst),
                    label("job", &job),
                    label("team", &format!("team-{}", (j * 7 + i) % 12)),
                ],
                kind: Kind::Info,
                value: 1.0,
            });
            if i < HIST_INSTANCES {
                let hid = (j * HIST_INSTANCES + i) as u64;
                for (b, le) in LES.iter().enumerate() {
                    out.push(Series {
                        labels: vec![
                            label("__name__", "request_duration_seconds_bucket"),
                            label("instance", &inst),
                            label("job", &job),
                            label("le", le),
                        ],
                        kind: Kind::Bucket(hid, b),
                        value: 0.0,
                    });
                }
                out.push(Series {
                    labels: vec![
                        label("__name__", "request_duration_seconds_count"),
                        label("instance", &inst),
                        label("job", &job),
                    ],
                    kind: Kind::Bucket(hid, LES.len()),
                    value: 0.0,
                });
            }
        }
    }
    out
}

/// Advances a series by one scrape and returns its new value.
fn step(s: &mut Series, k: i64) -> f64 {
    match s.kind {
        Kind::Counter(id) => {
            let base = 1.0 + (id % 7) as f64 * 0.5;
            s.value += base * 15.0 * (0.8 + 0.4 * unit(id << 24 ^ k as u64));
            // An occasional counter reset.
            if unit(id.wrapping_mul(31) ^ (k as u64) << 20) < 0.0002 {
                s.value = 0.0;
            }
        }
        Kind::Bucket(hid, b) => {
            let n = (20.0 + 40.0 * unit(hid << 32 ^ k as u64)).floor();
            let cdf = if b < CDF.len() { CDF[b] } else { 1.0 };
            s.value += (n * cdf).floor();
        }
        Kind::Info => {}
    }
    s.value
}

async fn push(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> anyhow::Result<()> {
    let mut req = client
        .post(url)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.with_context(|| format!("POST {url}"))?;
    if !r.status().is_success() {
        let st = r.status();
        bail!("{url}: {st}: {}", r.text().await.unwrap_or_default().trim());
    }
    Ok(())
}

async fn load(a: &Args, client: &reqwest::Client, first_ms: i64) -> anyhow::Result<()> {
    let mut series = make_series(a);
    let scrapes = a.hours * 3600 / a.interval_secs + 1;
    let total = series.len() as i64 * scrapes;
    eprintln!(
        "loading {} series x {} scrapes = {} samples into each system...",
        series.len(),
        scrapes,
        total
    );
    let started = Instant::now();
    let sl_url = format!("{}/api/v1/write", a.sightline);
    let prom_url = format!("{}/api/v1/write", a.prometheus);
    let mut k0 = 0;
    while k0 < scrapes {
        let k1 = (k0 + SAMPLES_PER_REQUEST_CHUNK).min(scrapes);
        let mut bodies = Vec::new();
        for group in series.chunks_mut(1000) {
            let mut ts = Vec::with_capacity(group.len());
            for s in group.iter_mut() {
                let samples = (k0..k1)
                    .map(|k| SampleProto {
                        value: step(s, k),
                        timestamp: first_ms + k * a.interval_secs * 1000,
                    })
                    .collect();
                ts.push(TimeSeries {
                    labels: s.labels.clone(),
                    samples,
                    exemplars: Vec::new(),
                });
            }
            bodies.push(encode_snappy(&WriteRequest {
                timeseries: ts,
                metadata: vec![],
            }));
        }
        // Every series appears once per chunk, so concurrent requests never
        // reorder one series' samples.
        let mut tasks = Vec::new();
        for body in bodies {
            for (url, tok) in [
                (sl_url.clone(), Some(a.sightline_write_token.clone())),
                (prom_url.clone(), None),
            ] {
                let (client, body) = (client.clone(), body.clone());
                tasks.push(tokio::spawn(async move {
                    push(&client, &url, tok.as_deref(), body).await
                }));
            }
        }
        for t in tasks {
            t.await??;
        }
        k0 = k1;
    }
    eprintln!("loaded in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

struct Query {
    name: &'static str,
    expr: &'static str,
    /// Range in seconds (0 = instant query) and step.
    range_secs: i64,
    step_secs: i64,
}

const QUERIES: &[Query] = &[
    Query {
        name: "selector (instant, 400 series)",
        expr: r#"http_requests_total{job="job-3"}"#,
        range_secs: 0,
        step_secs: 0,
    },
    Query {
        name: "selector (1h, 400 series)",
        expr: r#"http_requests_total{job="job-3"}"#,
        range_secs: 3600,
        step_secs: 60,
    },
    Query {
        name: "rate (1h, 400 series)",
        expr: r#"rate(http_requests_total{job="job-3"}[5m])"#,
        range_secs: 3600,
        step_secs: 60,
    },
    Query {
        name: "sum by rate (instant, 8k series)",
        expr: "sum by (job) (rate(http_requests_total[5m]))",
        range_secs: 0,
        step_secs: 0,
    },
    Query {
        name: "sum by rate (1h, 8k series)",
        expr: "sum by (job) (rate(http_requests_total[5m]))",
        range_secs: 3600,
        step_secs: 60,
    },
    Query {
        name: "sum by rate (24h, 8k series)",
        expr: "sum by (job) (rate(http_requests_total[5m]))",
        range_secs: 86_400 - 600,
        step_secs: 300,
    },
    Query {
        name: "histogram_quantile (1h)",
        expr: "histogram_quantile(0.99, sum by (job, le) (rate(request_duration_seconds_bucket[5m])))",
        range_secs: 3600,
        step_secs: 60,
    },
    Query {
        name: "topk (1h)",
        expr: "topk(5, sum by (instance) (rate(http_requests_total[5m])))",
        range_secs: 3600,
        step_secs: 60,
    },
    Query {
        name: "many-to-one join (1h)",
        expr: "sum by (job, instance) (rate(http_requests_total[5m])) * on (job, instance) group_left (team) instance_info",
        range_secs: 3600,
        step_secs: 60,
    },
    Query {
        name: "subquery (instant)",
        expr: r#"max_over_time(rate(http_requests_total{job="job-3"}[5m])[30m:1m])"#,
        range_secs: 0,
        step_secs: 0,
    },
    Query {
        name: "subquery (1h)",
        expr: r#"max_over_time(rate(http_requests_total{job="job-3"}[5m])[30m:1m])"#,
        range_secs: 3600,
        step_secs: 60,
    },
];

async fn run_query(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    q: &Query,
    end_s: f64,
) -> anyhow::Result<(Duration, bytes::Bytes)> {
    let (path, form): (&str, Vec<(&str, String)>) = if q.range_secs == 0 {
        (
            "/api/v1/query",
            vec![
                ("query", q.expr.to_string()),
                ("time", format!("{end_s:.3}")),
            ],
        )
    } else {
        (
            "/api/v1/query_range",
            vec![
                ("query", q.expr.to_string()),
                ("start", format!("{:.3}", end_s - q.range_secs as f64)),
                ("end", format!("{end_s:.3}")),
                ("step", q.step_secs.to_string()),
            ],
        )
    };
    common::post_form(client, base, token, path, &form, q.name).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.jobs == 0 || a.instances < HIST_INSTANCES || a.hours <= 0 || a.interval_secs <= 0 {
        bail!(
            "--jobs, --hours and --interval-secs must be positive, --instances at least {HIST_INSTANCES}"
        );
    }
    if a.runs == 0 {
        bail!("--runs must be positive");
    }
    let step_ms = a.interval_secs * 1000;
    let last_ms = match a.end_ms {
        Some(t) => t,
        None => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis() as i64;
            (now - 60_000) / step_ms * step_ms + 3000
        }
    };
    let scrapes = a.hours * 3600 / a.interval_secs;
    let first_ms = last_ms - scrapes * step_ms;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(8)
        .build()?;
    if !a.skip_load {
        load(&a, &client, first_ms).await?;
        println!("data: --end-ms {last_ms}");
    }
    // Let both settle (Prometheus may compact its head after the load).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let end_s = (last_ms + 4000) as f64 / 1000.0;
    println!(
        "{:<34} {:>12} {:>12} {:>8}  answers",
        "query", "sightline", "prometheus", "ratio"
    );
    let sl = (a.sightline.as_str(), Some(a.sightline_read_token.as_str()));
    let pr = (a.prometheus.as_str(), None);
    for q in QUERIES {
        let mut times = [Vec::new(), Vec::new()];
        let mut last = [bytes::Bytes::new(), bytes::Bytes::new()];
        for run in 0..=a.runs {
            for (i, (base, tok)) in [sl, pr].into_iter().enumerate() {
                let (took, body) = run_query(&client, base, tok, q, end_s).await?;
                if run > 0 {
                    times[i].push(took);
                }
                last[i] = body;
            }
        }
        let [ts, tp] = times;
        let (ms, mp) = (median(ts), median(tp));
        let same = match agree(&last[0], &last[1]) {
            Ok(true) => "agree".to_string(),
            Ok(false) => "DIFFER".to_string(),
            Err(e) => format!("unreadable: {e}"),
        };
        println!(
            "{:<34} {:>10.2}ms {:>10.2}ms {:>8.2}  {}",
            q.name,
            ms.as_secs_f64() * 1e3,
            mp.as_secs_f64() * 1e3,
            ms.as_secs_f64() / mp.as_secs_f64(),
            same
        );
    }
    println!("ratio = Sightline median / Prometheus median (below 1 = Sightline faster)");
    Ok(())
}
