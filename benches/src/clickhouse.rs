//! Range-query latency on the ClickHouse tier with and without pushdown:
//! the same queries through two Sightline servers reading one ClickHouse
//! database, one computing exact range functions in ClickHouse
//! (`--clickhouse-pushdown true`), one reading raw samples and evaluating
//! in Rust (`false`). Prints each query's median latency on both, the ratio
//! and whether the answers agree. `scripts/bench-clickhouse` sets it up.

mod common;

use std::time::Duration;

use anyhow::bail;
use clap::Parser;
use common::{agree, median, post_form};

#[derive(Parser)]
struct Args {
    /// Sightline with pushdown, as URL@REPORT_TOKEN.
    #[arg(long)]
    pushdown: String,
    /// Sightline without pushdown, as URL@REPORT_TOKEN.
    #[arg(long)]
    raw: String,
    /// Range start and end (Unix seconds).
    #[arg(long)]
    start: f64,
    #[arg(long)]
    end: f64,
    /// Range step, seconds.
    #[arg(long, default_value_t = 15)]
    step: u64,
    /// Timed runs per query and server (after one untimed warm-up).
    #[arg(long, default_value_t = 7)]
    runs: usize,
}

/// Pushed down when ClickHouse holds the window: irate, idelta, changes,
/// resets, count_over_time; `rate` stays in Rust (for reference).
const QUERIES: &[&str] = &[
    "sum by (region) (irate(bench_metric_1[1m]))",
    "changes(bench_metric_2[2m])",
    "resets(bench_metric_3[2m])",
    "sum(count_over_time({job=\"node\"}[1m]))",
    "sum by (region) (idelta(bench_metric_4[1m]))",
    "sum by (region) (rate(bench_metric_5[1m]))",
];

fn split(s: &str) -> anyhow::Result<(&str, &str)> {
    match s.split_once('@') {
        Some(x) => Ok(x),
        None => bail!("expected URL@TOKEN, got {s:?}"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.runs == 0 || a.end < a.start {
        bail!("--runs must be positive and --end not before --start");
    }
    let (push_url, push_tok) = split(&a.pushdown)?;
    let (raw_url, raw_tok) = split(&a.raw)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    println!(
        "{:<48} {:>12} {:>12} {:>7}  answers",
        "query (range)", "pushdown", "raw", "ratio"
    );
    for q in QUERIES {
        let form = vec![
            ("query", q.to_string()),
            ("start", format!("{:.3}", a.start)),
            ("end", format!("{:.3}", a.end)),
            ("step", a.step.to_string()),
        ];
        let path = "/api/v1/query_range";
        let (_, pb) = post_form(&client, push_url, Some(push_tok), path, &form, q).await?;
        let (_, rb) = post_form(&client, raw_url, Some(raw_tok), path, &form, q).await?;
        let same = agree(&pb, &rb)?;
        let (mut tp, mut tr) = (Vec::new(), Vec::new());
        for _ in 0..a.runs {
            tp.push(
                post_form(&client, push_url, Some(push_tok), path, &form, q)
                    .await?
                    .0,
            );
            tr.push(
                post_form(&client, raw_url, Some(raw_tok), path, &form, q)
                    .await?
                    .0,
            );
        }
        let (mp, mr) = (median(tp), median(tr));
        println!(
            "{:<48} {:>10.1}ms {:>10.1}ms {:>7.2}  {}",
            q,
            mp.as_secs_f64() * 1e3,
            mr.as_secs_f64() * 1e3,
            mp.as_secs_f64() / mr.as_secs_f64(),
            if same { "agree" } else { "DIFFER" }
        );
    }
    Ok(())
}
