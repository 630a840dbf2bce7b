//! Remote-write load generator: pushes pre-encoded remote_write batches to
//! one or more receivers over loopback and prints samples/s per receiver.
//!
//! Bodies are built and compressed before the clock starts, so the sender's
//! own CPU use during the run is only HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use sightline_ingest::remote_write::{
    LabelProto, SampleProto, TimeSeries, WriteRequest, encode_snappy,
};

#[derive(Parser)]
struct Args {
    /// Receiver as NAME=URL[@TOKEN]; repeat for side-by-side runs.
    #[arg(long = "target", required = true)]
    targets: Vec<String>,
    /// Distinct series.
    #[arg(long, default_value_t = 10_000)]
    series: usize,
    /// Series per request.
    #[arg(long, default_value_t = 500)]
    series_per_request: usize,
    /// Samples per series per request.
    #[arg(long, default_value_t = 4)]
    samples_per_series: usize,
    /// Total samples to send to each receiver.
    #[arg(long, default_value_t = 4_000_000)]
    samples: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

fn build_bodies(a: &Args, start_ms: i64) -> Vec<(Vec<u8>, usize)> {
    let per_req = a.series_per_request * a.samples_per_series;
    let requests = a.samples.div_ceil(per_req);
    let groups = a.series.div_ceil(a.series_per_request).max(1);
    let mut out = Vec::with_capacity(requests);
    for r in 0..requests {
        let group = r % groups;
        let round = (r / groups) as i64;
        let mut ts = Vec::with_capacity(a.series_per_request);
        for i in 0..a.series_per_request {
            let id = group * a.series_per_request + i;
            let labels = [
                ("__name__", format!("bench_metric_{}", id % 50)),
                ("instance", format!("host-{}:9100", id % 200)),
                ("job", "node".to_string()),
                ("region", format!("r{}", id % 4)),
                ("series", id.to_string()),
            ];
            let samples = (0..a.samples_per_series)
                .map(|k| {
                    let t = start_ms + (round * a.samples_per_series as i64 + k as i64) * 1000;
                    SampleProto {
                        value: (t / 1000 + id as i64) as f64,
                        timestamp: t,
                    }
                })
                .collect();
            ts.push(TimeSeries {
                labels: labels
                    .iter()
                    .map(|(n, v)| LabelProto {
                        name: n.to_string(),
                        value: v.clone(),
                    })
                    .collect(),
                samples,
                exemplars: Vec::new(),
            });
        }
        out.push((
            encode_snappy(&WriteRequest {
                timeseries: ts,
                metadata: vec![],
            }),
            per_req,
        ));
    }
    out
}

async fn run(
    url: &str,
    token: Option<&str>,
    bodies: Arc<Vec<(Vec<u8>, usize)>>,
    concurrency: usize,
) -> anyhow::Result<(f64, usize, usize)> {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, acked, failed, bodies) = (
            client.clone(),
            next.clone(),
            acked.clone(),
            failed.clone(),
            bodies.clone(),
        );
        let url = url.to_string();
        let token = token.map(str::to_string);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((body, n)) = bodies.get(i) else {
                    break;
                };
                let mut req = client
                    .post(&url)
                    .header("Content-Encoding", "snappy")
                    .header("Content-Type", "application/x-protobuf")
                    .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                    .body(body.clone());
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        acked.fetch_add(*n, Ordering::Relaxed);
                    }
                    Ok(r) => {
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            let st = r.status();
                            eprintln!("{url}: {st}: {}", r.text().await.unwrap_or_default().trim());
                        }
                    }
                    Err(e) => {
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("{url}: {e}");
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok((
        secs,
        acked.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.series_per_request == 0 || a.samples_per_series == 0 || a.concurrency == 0 {
        bail!("--series-per-request, --samples-per-series and --concurrency must be positive");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let per_req = a.series_per_request * a.samples_per_series;
    let rounds = a
        .samples
        .div_ceil(per_req)
        .div_ceil(a.series.div_ceil(a.series_per_request).max(1));
    // Start far enough back that the newest sample is not in the future.
    let start = now - (rounds as i64 * a.samples_per_series as i64 + 10) * 1000;
    eprintln!(
        "encoding {} samples ({} per request)...",
        a.samples, per_req
    );
    let bodies = Arc::new(build_bodies(&a, start));
    let bytes: usize = bodies.iter().map(|b| b.0.len()).sum();
    eprintln!(
        "{} requests, {:.1} MiB compressed",
        bodies.len(),
        bytes as f64 / (1 << 20) as f64
    );
    let mut rates = Vec::new();
    for t in &a.targets {
        let (name, rest) = t.split_once('=').context("--target is NAME=URL[@TOKEN]")?;
        let (url, token) = match rest.rsplit_once('@') {
            Some((u, tok)) if !tok.contains('/') => (u, Some(tok)),
            _ => (rest, None),
        };
        let (secs, acked, failed) = run(url, token, bodies.clone(), a.concurrency).await?;
        let rate = acked as f64 / secs;
        println!(
            "{name}: {acked} samples acknowledged in {secs:.2}s = {rate:.0} samples/s ({failed} failed requests)"
        );
        rates.push((name.to_string(), rate));
    }
    if rates.len() >= 2 {
        println!(
            "ratio {}/{}: {:.2}",
            rates[0].0,
            rates[1].0,
            rates[0].1 / rates[1].1.max(1.0)
        );
    }
    Ok(())
}
