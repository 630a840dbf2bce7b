//! `sightline-oracle`: Prometheus as the oracle for Sightline's PromQL.
//!
//! Usage: `sightline-oracle [--queries FILE] [--sightline-bin PATH] [--keep]`
//!
//! Starts Sightline and Prometheus (the `prometheus` on PATH) on free
//! loopback ports with temporary directories, creates a tenant and its
//! ingest and report tokens through Sightline's CLI, generates a
//! deterministic data set (see `oracle/data.rs`), pushes the identical
//! samples to both over remote_write, waits until both serve the last one,
//! then runs every query of the corpus (default
//! `compat-tests/oracle/queries.promql`) as instant queries at several times
//! and as one range query, and compares the answers (see `oracle/answer.rs`).
//! Prints each mismatch and ends with `N passed, M failed` (per query: a
//! query passes when all its evaluations agree). Exit status: 0 when all
//! agree, 1 on mismatches, 2 when something could not run. Both servers are
//! killed on every exit path; `--keep` keeps their directories (logs, data)
//! and prints where they are.

#[path = "oracle/answer.rs"]
mod answer;
#[path = "oracle/corpus.rs"]
mod corpus;
#[path = "oracle/data.rs"]
mod data;
#[path = "oracle/servers.rs"]
mod servers;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use sightline_ingest::remote_write::{
    LabelProto, SampleProto, TimeSeries, WriteRequest, encode_snappy,
};

use answer::Answer;
use corpus::{Placeholders, Query};
use data::Dataset;
use servers::Server;

const TENANT: &str = "oracle";
/// Requests in flight per server while running the corpus.
const PARALLEL: usize = 4;
/// Samples per remote_write request are grouped by windows of this length,
/// sent oldest first, so Prometheus's head always accepts them.
const PUSH_WINDOW_MS: i64 = 10 * 60 * 1000;
/// Range-query step, seconds.
const RANGE_STEP_SECS: i64 = 60;

struct Args {
    queries: PathBuf,
    sightline_bin: PathBuf,
    keep: bool,
    /// ClickHouse for Sightline's hot tier: the data is drained there
    /// before the corpus runs, so every answer comes from ClickHouse.
    clickhouse: Option<String>,
}

const USAGE: &str =
    "usage: sightline-oracle [--queries FILE] [--sightline-bin PATH] [--clickhouse URL] [--keep]";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        queries: manifest_dir().join("oracle/queries.promql"),
        sightline_bin: PathBuf::from("sightline"),
        keep: false,
        clickhouse: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--queries" => args.queries = it.next().context("--queries needs a file")?.into(),
            "--sightline-bin" => {
                args.sightline_bin = it.next().context("--sightline-bin needs a path")?.into()
            }
            "--keep" => args.keep = true,
            "--clickhouse" => {
                args.clickhouse = Some(it.next().context("--clickhouse needs a URL")?);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    // Dropping `run` (on Ctrl-C) drops the server guards, which kill both
    // servers.
    let outcome = tokio::select! {
        r = run(&args) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    match outcome {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The evaluation times used for every query.
struct Times {
    instants: Vec<i64>,
    range_start: i64,
    range_end: i64,
}

fn times_for(ds: &Dataset) -> Times {
    let end = ds.end_ms / 1000;
    // All ≡ 7 (mod 60): never a sample time (samples have a sub-second
    // offset) and never a multiple of a subquery step used in the corpus.
    Times {
        instants: vec![end + 67, end - 53, end - 1073, end - 2513, end - 4433],
        range_start: end - 5393,
        range_end: end + 67,
    }
}

async fn run(args: &Args) -> Result<usize> {
    let sightline_bin = resolve_bin(&args.sightline_bin)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let end = now / 60 * 60 - 120;
    let ds = data::generate(end);
    let times = times_for(&ds);
    let ph = Placeholders {
        end: end - 53,
        mid: end - 3593,
        start: ds.start_ms / 1000 + 7,
    };
    let queries = corpus::load(&args.queries, &ph)?;
    if queries.is_empty() {
        bail!("no queries in {}", args.queries.display());
    }

    let tmp = tempfile::Builder::new()
        .prefix("sightline-oracle-")
        .tempdir()?;
    let dir = tmp.path().to_path_buf();
    let _keep_guard = KeepNotice {
        dir: if args.keep { Some(dir.clone()) } else { None },
    };
    let tmp = if args.keep {
        // keep() leaks the directory on purpose; the notice prints where.
        let _ = tmp.keep();
        None
    } else {
        Some(tmp)
    };
    let prom_dir = dir.join("prometheus");
    let sl_dir = dir.join("sightline");
    std::fs::create_dir_all(&prom_dir)?;
    std::fs::create_dir_all(&sl_dir)?;

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("building the HTTP client")?;

    let mut prom = servers::start_prometheus(&prom_dir)?;
    let extra: Vec<String> = match &args.clickhouse {
        Some(url) => vec![
            "--clickhouse-url".into(),
            url.clone(),
            "--clickhouse-database".into(),
            format!("sightline_oracle_{}", std::process::id()),
            "--flush-interval-secs".into(),
            "1".into(),
        ],
        None => Vec::new(),
    };
    let mut sl = servers::start_sightline(&sightline_bin, &sl_dir, &extra)?;
    servers::wait_ready(&http, &mut prom, Duration::from_secs(60)).await?;
    servers::wait_ready(&http, &mut sl, Duration::from_secs(60)).await?;
    let tokens = servers::provision(&sightline_bin, &sl, &sl_dir, TENANT)?;
    println!(
        "servers: prometheus {} sightline {} (dir {})",
        prom.url,
        sl.url,
        dir.display()
    );

    let t0 = Instant::now();
    push_all(&http, &ds, &prom, &sl, &tokens.ingest).await?;
    wait_for_sentinel(&http, &prom, &sl, &tokens.report, times.range_end).await?;
    if args.clickhouse.is_some() {
        wait_drained(&http, &sl).await?;
        println!("tier: clickhouse (the write-ahead log drained; the head is empty)");
    }
    println!(
        "data: {} series, {} samples, {} .. {} (pushed in {:.1}s)",
        ds.series.len(),
        ds.sample_count(),
        ds.start_ms / 1000,
        ds.end_ms / 1000,
        t0.elapsed().as_secs_f64()
    );
    println!(
        "queries: {} from {}, instant at {:?}, range {}..{} step {}s",
        queries.len(),
        args.queries.display(),
        times.instants,
        times.range_start,
        times.range_end,
        RANGE_STEP_SECS
    );

    let t1 = Instant::now();
    let results = run_queries(&http, &queries, &times, &prom, &sl, &tokens.report).await?;
    let mut passed = 0;
    let mut failed = 0;
    for (q, evals) in queries.iter().zip(&results) {
        let mut bad = false;
        // Instant queries Prometheus refuses are usually corpus mistakes;
        // say so once per query (the intended ones are marked in the corpus).
        if let Some((at, msg)) = evals.iter().find_map(|e| match (e.at, &e.prometheus) {
            (Some(at), Answer::Error(msg)) => Some((at, msg)),
            _ => None,
        }) {
            println!(
                "note: prometheus refuses line {} (at {at}): {}: {msg}",
                q.line, q.text
            );
        }
        for e in evals {
            if e.diffs.is_empty() {
                continue;
            }
            bad = true;
            let when = match e.at {
                Some(t) => format!("instant at {t}"),
                None => format!(
                    "range {}..{} step {}s",
                    times.range_start, times.range_end, RANGE_STEP_SECS
                ),
            };
            println!("MISMATCH line {}: {}", q.line, q.text);
            if q.expr != q.text {
                println!("  expanded: {}", q.expr);
            }
            println!("  {when}");
            for d in e.diffs.iter().take(6) {
                println!("  - {d}");
            }
            if e.diffs.len() > 6 {
                println!("  - … {} more", e.diffs.len() - 6);
            }
            println!("  prometheus: {}", answer::abridge(&e.prometheus, 4));
            println!("  sightline:  {}", answer::abridge(&e.sightline, 4));
        }
        if bad {
            failed += 1;
        } else {
            passed += 1;
        }
    }
    eprintln!(
        "ran {} evaluations in {:.1}s",
        results.iter().map(Vec::len).sum::<usize>(),
        t1.elapsed().as_secs_f64()
    );
    if args.clickhouse.is_some() {
        let text = metrics_text(&http, &sl).await?;
        let pushed: f64 = text
            .lines()
            .filter(|l| l.starts_with("sightline_clickhouse_pushdown_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        println!("pushdown: {pushed} range-function calls computed by ClickHouse");
    }

    drop(sl);
    drop(prom);
    drop(tmp);
    println!("{passed} passed, {failed} failed");
    Ok(failed)
}

/// Prints where the kept directory is, on every exit path.
struct KeepNotice {
    dir: Option<PathBuf>,
}

impl Drop for KeepNotice {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            eprintln!("kept {}", d.display());
        }
    }
}

/// A bare name is looked up on PATH by `Command`; a path must exist.
fn resolve_bin(p: &Path) -> Result<PathBuf> {
    if p.components().count() > 1 && !p.exists() {
        bail!(
            "sightline binary {} not found (build it with `cargo build -p sightline`)",
            p.display()
        );
    }
    Ok(p.to_path_buf())
}

fn to_proto(labels: &[(String, String)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(k, v)| LabelProto {
                name: k.clone(),
                value: v.clone(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|(t, v)| SampleProto {
                value: *v,
                timestamp: *t,
            })
            .collect(),
        exemplars: Vec::new(),
    }
}

async fn send(
    http: &reqwest::Client,
    server: &Server,
    token: Option<&str>,
    body: Vec<u8>,
) -> Result<()> {
    let mut req = http
        .post(format!("{}/api/v1/write", server.url))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("remote_write to {}", server.name))?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        bail!("{} refused remote_write: {status} {text}", server.name);
    }
    Ok(())
}

/// Pushes the data set to both servers, oldest window first, the sentinel
/// last and alone.
async fn push_all(
    http: &reqwest::Client,
    ds: &Dataset,
    prom: &Server,
    sl: &Server,
    ingest: &str,
) -> Result<()> {
    let is_sentinel = |s: &data::Series| {
        s.labels
            .iter()
            .any(|(k, v)| k == "__name__" && v == "oracle_sentinel")
    };
    let mut from = ds.start_ms;
    while from < ds.end_ms {
        let to = from + PUSH_WINDOW_MS;
        let timeseries: Vec<TimeSeries> = ds
            .series
            .iter()
            .filter(|s| !is_sentinel(s))
            .filter_map(|s| {
                let w: Vec<(i64, f64)> = s
                    .samples
                    .iter()
                    .copied()
                    .filter(|(t, _)| *t >= from && *t < to)
                    .collect();
                (!w.is_empty()).then(|| to_proto(&s.labels, &w))
            })
            .collect();
        if !timeseries.is_empty() {
            let body = encode_snappy(&WriteRequest {
                timeseries,
                metadata: Vec::new(),
            });
            send(http, prom, None, body.clone()).await?;
            send(http, sl, Some(ingest), body).await?;
        }
        from = to;
    }
    let sentinel: Vec<TimeSeries> = ds
        .series
        .iter()
        .filter(|s| is_sentinel(s))
        .map(|s| to_proto(&s.labels, &s.samples))
        .collect();
    let body = encode_snappy(&WriteRequest {
        timeseries: sentinel,
        metadata: Vec::new(),
    });
    send(http, prom, None, body.clone()).await?;
    send(http, sl, Some(ingest), body).await?;
    Ok(())
}

/// The text of Sightline's `/metrics`.
async fn metrics_text(http: &reqwest::Client, sl: &Server) -> Result<String> {
    Ok(http
        .get(format!("{}/metrics", sl.url))
        .send()
        .await?
        .text()
        .await?)
}

/// Waits until Sightline has stored everything it acknowledged (its WAL
/// holds nothing and no head part waits), so queries read ClickHouse.
async fn wait_drained(http: &reqwest::Client, sl: &Server) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut zero_readings = 0;
    loop {
        let text = metrics_text(http, sl).await?;
        let value = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
                .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        };
        let empty = value("sightline_wal_bytes") == Some(0.0)
            && value("sightline_flush_pending_parts") == Some(0.0);
        zero_readings = if empty { zero_readings + 1 } else { 0 };
        // Two readings a flusher tick apart.
        if zero_readings >= 2 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "sightline did not drain its WAL into ClickHouse:\n{}",
                sl.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
}

async fn wait_for_sentinel(
    http: &reqwest::Client,
    prom: &Server,
    sl: &Server,
    report: &str,
    at: i64,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    for (server, token) in [(prom, None), (sl, Some(report))] {
        loop {
            let a = query(http, server, token, "oracle_sentinel", &Eval::Instant(at)).await?;
            if matches!(&a, Answer::Vector(v) if !v.is_empty()) {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{} does not show the pushed data after 60s (last answer: {}); log:\n{}",
                    server.name,
                    answer::abridge(&a, 3),
                    server.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Eval {
    Instant(i64),
    Range { start: i64, end: i64, step: i64 },
}

async fn query(
    http: &reqwest::Client,
    server: &Server,
    token: Option<&str>,
    expr: &str,
    eval: &Eval,
) -> Result<Answer> {
    query_url(http, server.name, &server.url, token, expr, eval).await
}

struct Evaluation {
    /// Instant time, or None for the range query.
    at: Option<i64>,
    prometheus: Answer,
    sightline: Answer,
    diffs: Vec<String>,
}

async fn run_queries(
    http: &reqwest::Client,
    queries: &[Query],
    times: &Times,
    prom: &Server,
    sl: &Server,
    report: &str,
) -> Result<Vec<Vec<Evaluation>>> {
    let mut evals: Vec<Eval> = times.instants.iter().map(|t| Eval::Instant(*t)).collect();
    evals.push(Eval::Range {
        start: times.range_start,
        end: times.range_end,
        step: RANGE_STEP_SECS,
    });
    let jobs: Vec<(usize, Eval)> = (0..queries.len())
        .flat_map(|qi| evals.iter().map(move |e| (qi, *e)))
        .collect();
    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicUsize::new(0));
    let queries = Arc::new(queries.to_vec());
    let (prom_url, sl_url) = (prom.url.clone(), sl.url.clone());
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..PARALLEL {
        let (jobs, next, queries) = (jobs.clone(), next.clone(), queries.clone());
        let http = http.clone();
        let (prom, sl) = (
            Target::new("prometheus", &prom_url),
            Target::new("sightline", &sl_url),
        );
        let report = report.to_string();
        set.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((qi, eval)) = jobs.get(i).copied() else {
                    break;
                };
                let q = &queries[qi];
                let p = query_target(&http, &prom, None, &q.expr, &eval).await?;
                let s = query_target(&http, &sl, Some(&report), &q.expr, &eval).await?;
                let diffs = answer::compare(&p, &s, q.ordered && matches!(eval, Eval::Instant(_)));
                let at = match eval {
                    Eval::Instant(t) => Some(t),
                    Eval::Range { .. } => None,
                };
                done.push((
                    i,
                    qi,
                    Evaluation {
                        at,
                        prometheus: p,
                        sightline: s,
                        diffs,
                    },
                ));
            }
            anyhow::Ok(done)
        });
    }
    let mut all = Vec::new();
    while let Some(r) = set.join_next().await {
        all.extend(r.context("query worker panicked")??);
    }
    all.sort_by_key(|(i, _, _)| *i);
    let mut out: Vec<Vec<Evaluation>> = (0..queries.len()).map(|_| Vec::new()).collect();
    for (_, qi, e) in all {
        out[qi].push(e);
    }
    Ok(out)
}

/// What a worker task needs of a server (the guards stay with `run`).
struct Target {
    name: &'static str,
    url: String,
}

impl Target {
    fn new(name: &'static str, url: &str) -> Self {
        Target {
            name,
            url: url.to_string(),
        }
    }
}

async fn query_target(
    http: &reqwest::Client,
    t: &Target,
    token: Option<&str>,
    expr: &str,
    eval: &Eval,
) -> Result<Answer> {
    query_url(http, t.name, &t.url, token, expr, eval).await
}

async fn query_url(
    http: &reqwest::Client,
    name: &str,
    url: &str,
    token: Option<&str>,
    expr: &str,
    eval: &Eval,
) -> Result<Answer> {
    let (path, params): (&str, Vec<(&str, String)>) = match eval {
        Eval::Instant(t) => (
            "/api/v1/query",
            vec![("query", expr.to_string()), ("time", t.to_string())],
        ),
        Eval::Range { start, end, step } => (
            "/api/v1/query_range",
            vec![
                ("query", expr.to_string()),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("step", step.to_string()),
            ],
        ),
    };
    let mut req = http.post(format!("{url}{path}")).form(&params);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("querying {name} with {expr}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .text()
        .await
        .with_context(|| format!("reading {name}'s answer"))?;
    answer::parse(status, &body).with_context(|| format!("{name}'s answer to {expr}"))
}

/// This crate's directory in the checkout under test: cargo sets it when it
/// runs tests (a build shared between checkouts bakes in another one).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
