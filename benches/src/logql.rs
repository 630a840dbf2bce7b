//! LogQL throughput through the HTTP API, beside `grep` over the same
//! text: generates JSON log lines (a share holding `needle`, a share with
//! `status >= 500`), pushes them as Promtail does (snappy protobuf, a few
//! requests in flight, each acknowledged only once durable), then times
//! `count_over_time({app="x"} |= "needle" [1h])` and
//! `sum(count_over_time({app="x"} | json | status >= 500 [1h]))` as
//! instant queries, and `grep -F -c needle` over the same lines in a file.
//! Answers are checked against the counts the generator knows.
//! `scripts/bench-logql` sets it up on each tier.

// Shared with the other benchmarks, which use more of it.
#[allow(dead_code)]
mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use common::{median, post_form};
use prost::Message;
use sightline_ingest::loki_push::{EntryAdapter, PushRequest, StreamAdapter};
use sightline_ingest::proto::loki_push::Timestamp;

#[derive(Parser)]
struct Args {
    /// Sightline's base URL.
    #[arg(long)]
    url: String,
    #[arg(long)]
    ingest_token: String,
    #[arg(long)]
    report_token: String,
    /// What to call this run in the output (the tier).
    #[arg(long, default_value = "embedded")]
    name: String,
    /// Bytes of log lines to generate and push.
    #[arg(long, default_value_t = 1 << 30)]
    bytes: u64,
    /// Where the same lines are written for grep.
    #[arg(long)]
    lines_file: std::path::PathBuf,
    /// Bytes of lines per push request.
    #[arg(long, default_value_t = 1 << 20)]
    request_bytes: usize,
    /// Push requests in flight.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Streams (`pod` values) the lines are spread over.
    #[arg(long, default_value_t = 8)]
    streams: usize,
    /// Timed runs per query (after one untimed warm-up).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Wait until the server's WAL is empty before querying (the data is
    /// then in the archive or ClickHouse, not only in the head).
    #[arg(long)]
    drain: bool,
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "request",
    "served",
    "cache",
    "miss",
    "upstream",
    "retry",
    "user",
    "session",
    "checkout",
    "payment",
    "inventory",
    "timeout",
    "connection",
    "pool",
    "query",
    "index",
    "shard",
    "replica",
];
const PATHS: &[&str] = &[
    "/api/v1/items",
    "/api/v1/cart",
    "/login",
    "/healthz",
    "/static/app.js",
];

/// What the generator produced.
struct Generated {
    bodies: Vec<Vec<u8>>,
    lines: u64,
    bytes: u64,
    needles: u64,
    errors: u64,
    first_ns: i64,
    last_ns: i64,
}

fn generate(a: &Args) -> anyhow::Result<Generated> {
    let mut file = std::io::BufWriter::with_capacity(
        8 << 20,
        std::fs::File::create(&a.lines_file)
            .with_context(|| format!("creating {}", a.lines_file.display()))?,
    );
    let mut r = Rng(0x5eed_1095_0000_0001);
    // About 230 bytes a line: spread over the last 50 minutes.
    let approx_lines = (a.bytes / 230).max(1);
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as i64;
    let first_ns = now_ns - 50 * 60 * 1_000_000_000;
    let gap_ns = ((45 * 60 * 1_000_000_000) / approx_lines as i64).max(1);
    let mut g = Generated {
        bodies: Vec::new(),
        lines: 0,
        bytes: 0,
        needles: 0,
        errors: 0,
        first_ns,
        last_ns: first_ns,
    };
    let mut streams: Vec<Vec<EntryAdapter>> = vec![Vec::new(); a.streams];
    let mut in_request = 0usize;
    let mut ts = first_ns;
    let flush = |streams: &mut Vec<Vec<EntryAdapter>>| {
        let req = PushRequest {
            streams: streams
                .iter_mut()
                .enumerate()
                .filter(|(_, e)| !e.is_empty())
                .map(|(i, e)| StreamAdapter {
                    labels: format!(r#"{{app="x", pod="p{i}"}}"#),
                    entries: std::mem::take(e),
                    hash: 0,
                })
                .collect(),
            format: String::new(),
        };
        snap::raw::Encoder::new().compress_vec(&req.encode_to_vec())
    };
    while g.bytes < a.bytes {
        let status = match r.below(100) {
            0..=3 => 500 + r.below(4) as u32,
            4..=9 => 404,
            _ => 200,
        };
        if status >= 500 {
            g.errors += 1;
        }
        let mut msg = String::new();
        for k in 0..(6 + r.below(8)) {
            if k > 0 {
                msg.push(' ');
            }
            msg.push_str(WORDS[r.below(WORDS.len() as u64) as usize]);
        }
        // One line in a thousand holds the needle.
        if r.below(1000) == 0 {
            msg.push_str(" needle");
            g.needles += 1;
        }
        let line = format!(
            r#"{{"level":"{}","status":{status},"method":"GET","path":"{}/{}","duration_ms":{},"bytes":{},"trace_id":"{:016x}","msg":"{msg}"}}"#,
            if status >= 500 { "error" } else { "info" },
            PATHS[r.below(PATHS.len() as u64) as usize],
            r.below(100_000),
            r.below(2_000),
            r.below(1 << 20),
            r.next(),
        );
        file.write_all(line.as_bytes())?;
        file.write_all(b"\n")?;
        g.bytes += line.len() as u64;
        g.lines += 1;
        in_request += line.len();
        streams[r.below(a.streams as u64) as usize].push(EntryAdapter {
            timestamp: Some(Timestamp {
                seconds: ts.div_euclid(1_000_000_000),
                nanos: ts.rem_euclid(1_000_000_000) as i32,
            }),
            line,
            structured_metadata: vec![],
            parsed: vec![],
        });
        g.last_ns = ts;
        ts += gap_ns;
        if in_request >= a.request_bytes {
            g.bodies.push(flush(&mut streams)?);
            in_request = 0;
        }
    }
    if in_request > 0 {
        g.bodies.push(flush(&mut streams)?);
    }
    file.flush()?;
    Ok(g)
}

async fn push_all(a: &Args, bodies: Vec<Vec<u8>>) -> anyhow::Result<Duration> {
    let client = reqwest::Client::new();
    let queue = Arc::new(std::sync::Mutex::new(bodies.into_iter()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency {
        let (client, queue) = (client.clone(), queue.clone());
        let url = format!("{}/loki/api/v1/push", a.url);
        let token = a.ingest_token.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().map_err(|_| anyhow::anyhow!("lock"))?.next();
                let Some(body) = next else {
                    return Ok::<(), anyhow::Error>(());
                };
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("Content-Type", "application/x-protobuf")
                    .body(body)
                    .send()
                    .await?;
                if r.status().as_u16() != 204 {
                    bail!(
                        "push: {}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed())
}

async fn wal_bytes(client: &reqwest::Client, url: &str) -> anyhow::Result<Option<f64>> {
    let text = client
        .get(format!("{url}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .find(|l| l.starts_with("sightline_wal_bytes "))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok()))
}

/// The sum of an instant vector's values.
fn total(body: &[u8]) -> anyhow::Result<f64> {
    let v: serde_json::Value = serde_json::from_slice(body)?;
    let mut sum = 0.0;
    for s in v["data"]["result"].as_array().context("no result")? {
        sum += s["value"][1].as_str().context("no value")?.parse::<f64>()?;
    }
    Ok(sum)
}

fn gbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e9
}

async fn query(
    a: &Args,
    client: &reqwest::Client,
    q: &str,
    at: f64,
) -> anyhow::Result<(Duration, f64)> {
    let form = [("query", q.to_string()), ("time", format!("{at:.3}"))];
    let (d, body) = post_form(
        client,
        &a.url,
        Some(&a.report_token),
        "/loki/api/v1/query",
        &form,
        q,
    )
    .await?;
    Ok((d, total(&body)?))
}

fn grep(a: &Args) -> anyhow::Result<(Duration, u64)> {
    let started = Instant::now();
    let out = std::process::Command::new("grep")
        .args(["-F", "-c", "needle"])
        .arg(&a.lines_file)
        .output()
        .context("running grep")?;
    let took = started.elapsed();
    let n = String::from_utf8_lossy(&out.stdout).trim().parse::<u64>()?;
    Ok((took, n))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.runs == 0 || a.concurrency == 0 || a.streams == 0 || a.request_bytes == 0 {
        bail!("--runs, --concurrency, --streams and --request-bytes must be positive");
    }
    let mut g = generate(&a)?;
    let wire: usize = g.bodies.iter().map(Vec::len).sum();
    println!(
        "[{}] generated {} lines, {:.2} GB of text ({:.0} MB snappy protobuf in {} requests of {} KiB of lines)",
        a.name,
        g.lines,
        g.bytes as f64 / 1e9,
        wire as f64 / 1e6,
        g.bodies.len(),
        a.request_bytes >> 10
    );
    let took = push_all(&a, std::mem::take(&mut g.bodies)).await?;
    println!(
        "[{}] push: {:.1} s, {:.0} MB/s of lines with a durable ack ({} in flight)",
        a.name,
        took.as_secs_f64(),
        g.bytes as f64 / took.as_secs_f64() / 1e6,
        a.concurrency
    );
    let client = reqwest::Client::new();
    if a.drain {
        let started = Instant::now();
        loop {
            if wal_bytes(&client, &a.url).await? == Some(0.0) {
                break;
            }
            if started.elapsed() > Duration::from_secs(1800) {
                bail!("the WAL did not drain within 30 minutes");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        println!(
            "[{}] drained from the WAL in {:.1} s",
            a.name,
            started.elapsed().as_secs_f64()
        );
    }
    let at = (g.last_ns as f64 / 1e9 + 1.0).max(g.first_ns as f64 / 1e9);
    let queries = [
        (r#"count_over_time({app="x"} |= "needle" [1h])"#, g.needles),
        (
            r#"sum(count_over_time({app="x"} | json | status >= 500 [1h]))"#,
            g.errors,
        ),
    ];
    let mut grep_times = Vec::new();
    for _ in 0..a.runs {
        let (d, n) = grep(&a)?;
        if n != g.needles {
            bail!(
                "grep counted {n} needles, the generator wrote {}",
                g.needles
            );
        }
        grep_times.push(d);
    }
    let grep_median = median(grep_times);
    println!(
        "[{}] grep -F -c needle: median {:.3} s, {:.2} GB/s (one core)",
        a.name,
        grep_median.as_secs_f64(),
        gbps(g.bytes, grep_median)
    );
    for (q, want) in queries {
        let (_, got) = query(&a, &client, q, at).await?;
        if got != want as f64 {
            bail!("{q}: answered {got}, the generator wrote {want}");
        }
        let mut times = Vec::new();
        for _ in 0..a.runs {
            times.push(query(&a, &client, q, at).await?.0);
        }
        let m = median(times);
        println!(
            "[{}] {q}: median {:.3} s, {:.2} GB/s of lines, {:.2}x grep's time (answer {want}, checked)",
            a.name,
            m.as_secs_f64(),
            gbps(g.bytes, m),
            m.as_secs_f64() / grep_median.as_secs_f64()
        );
    }
    Ok(())
}
