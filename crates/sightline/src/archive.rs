//! `sightline archive`: operators' commands over an archive directory,
//! no server needed. They open the archive read-only and, given a
//! workspace, read only that workspace's prefix.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use sightline_archive::{Archive, DayListing, Report};
use sightline_core::TenantId;

#[derive(Subcommand, Debug)]
pub enum ArchiveCmd {
    /// Lists workspaces, signals, days and files, from the manifests.
    Ls(Target),
    /// Checks every listed file's size and SHA-256 against its manifest,
    /// and reports files no manifest lists; exits 1 on any problem.
    Verify(Target),
    /// Runs a PromQL query over one workspace's archived metrics with the
    /// server's evaluator: a range query over `--from`..`--to` at
    /// `--step`, or an instant query at `--time`.
    #[command(after_long_help = crate::logs::TIME_HELP)]
    Query(QueryArgs),
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The PromQL query, e.g. 'sum by (job) (rate(http_requests_total[5m]))'.
    query: String,
    /// The archive directory (a server's `<data-dir>/archive`).
    #[arg(long)]
    archive: PathBuf,
    /// The workspace whose data is read (its prefix alone is read).
    #[arg(long)]
    workspace: String,
    #[command(flatten)]
    window: crate::logs::Window,
    /// How far back an instant selector looks for a sample.
    #[arg(long, default_value = "5m")]
    lookback_delta: String,
    #[arg(long, value_enum, default_value = "table")]
    output: QueryOutput,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum QueryOutput {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct Target {
    /// The archive directory (a server's `<data-dir>/archive`).
    #[arg(long)]
    archive: PathBuf,
    /// Only this workspace (its prefix alone is read).
    #[arg(long)]
    workspace: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Output {
    Text,
    Json,
}

fn open(t: &Target) -> anyhow::Result<(Archive, Option<TenantId>)> {
    let ar = Archive::at_local(&t.archive)
        .with_context(|| format!("opening the archive at {}", t.archive.display()))?;
    let ws = t
        .workspace
        .as_deref()
        .map(TenantId::new)
        .transpose()
        .context("--workspace")?;
    Ok((ar, ws))
}

pub async fn run(cmd: ArchiveCmd) -> anyhow::Result<()> {
    match cmd {
        ArchiveCmd::Ls(t) => {
            let (ar, ws) = open(&t)?;
            let days = ar.listing(ws.as_ref()).await?;
            show(t.output, &days[..], ls_text)
        }
        ArchiveCmd::Verify(t) => {
            let (ar, ws) = open(&t)?;
            let report = ar.verify(ws.as_ref()).await?;
            show(t.output, &report, verify_text)?;
            if !report.problems.is_empty() {
                bail!("{} problem(s) in the archive", report.problems.len());
            }
            Ok(())
        }
        ArchiveCmd::Query(q) => query(q).await,
    }
}

/// Prints `v` as JSON or as `text` renders it.
fn show<T: serde::Serialize + ?Sized>(
    output: Output,
    v: &T,
    text: fn(&T) -> String,
) -> anyhow::Result<()> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(v)?),
        Output::Text => print!("{}", text(v)),
    }
    Ok(())
}

/// A duration or a number of seconds, in milliseconds.
fn duration_ms(v: &str, what: &str) -> anyhow::Result<i64> {
    let ms = match v.parse::<f64>() {
        Ok(s) if s.is_finite() => (s * 1000.0).round() as i64,
        _ => sightline_promql::text::parse_duration(v)
            .with_context(|| format!("{what} {v:?}: expected a duration such as 1m, or seconds"))?,
    };
    if ms <= 0 {
        bail!("{what} {v:?}: must be positive");
    }
    Ok(ms)
}

async fn query(q: QueryArgs) -> anyhow::Result<()> {
    use sightline_eval::{
        QueryOptions, eval_instant_with_annotations, eval_range_with_annotations,
    };
    let ar = Archive::at_local(&q.archive)
        .with_context(|| format!("opening the archive at {}", q.archive.display()))?;
    let tenant = TenantId::new(&q.workspace).context("--workspace")?;
    let expr = sightline_promql::parse(&q.query).map_err(|e| anyhow::anyhow!("{e}"))?;
    let opts = QueryOptions {
        lookback_delta_ms: duration_ms(&q.lookback_delta, "--lookback-delta")?,
        ..QueryOptions::default()
    };
    let now_ns = crate::logs::now_ns();
    let view = sightline_engine::TierView::new(
        std::sync::Arc::new(ar),
        sightline_plan::ReadScope::tenant(tenant),
        tokio::runtime::Handle::current(),
    );
    let started = std::time::Instant::now();
    let (value, notes) = if let Some(t) = &q.window.time {
        let t_ms = crate::logs::parse_time(t, now_ns)?.div_euclid(1_000_000);
        tokio::task::spawn_blocking(move || {
            eval_instant_with_annotations(&expr, t_ms, &opts, &view)
        })
        .await??
    } else {
        let start = crate::logs::parse_time(&q.window.from, now_ns)?.div_euclid(1_000_000);
        let end = crate::logs::parse_time(&q.window.to, now_ns)?.div_euclid(1_000_000);
        let step = match &q.window.step {
            Some(s) => duration_ms(s, "--step")?,
            None => ((end - start) / 250).max(1000),
        };
        let limits = sightline_plan::PlanLimits {
            max_points_per_series: 11_000,
        };
        sightline_plan::check_range(start, end, step, &limits)?;
        tokio::task::spawn_blocking(move || {
            eval_range_with_annotations(&expr, start, end, step, &opts, &view)
        })
        .await??
    };
    for n in notes {
        eprintln!("note: {}", n.render(&q.query));
    }
    eprintln!("evaluated in {:.3}s", started.elapsed().as_secs_f64());
    print!("{}", render_value(&value, q.output)?);
    Ok(())
}

/// The answer as a table, Prometheus's JSON `data` object, or CSV.
fn render_value(v: &sightline_eval::Value, output: QueryOutput) -> anyhow::Result<String> {
    use sightline_core::gofmt::format_f;
    use sightline_eval::Value;
    if output == QueryOutput::Json {
        return Ok(serde_json::to_string_pretty(&sightline_api::QueryData(v))? + "\n");
    }
    let time = |t_ms: i64| crate::logs::rfc3339(t_ms.saturating_mul(1_000_000));
    let rows: Vec<[String; 3]> = match v {
        Value::Scalar { t, v } => vec![[String::new(), time(*t), format_f(*v)]],
        Value::String { t, v } => vec![[String::new(), time(*t), v.clone()]],
        Value::Vector(xs) => xs
            .iter()
            .map(|x| [x.labels.to_string(), time(x.t), format_f(x.v)])
            .collect(),
        Value::Matrix(ss) => ss
            .iter()
            .flat_map(|s| {
                let l = s.labels.to_string();
                s.samples
                    .iter()
                    .map(move |p| [l.clone(), time(p.t), format_f(p.v)])
            })
            .collect(),
    };
    Ok(match output {
        QueryOutput::Csv => {
            let field = |s: &str| {
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_string()
                }
            };
            let mut out = String::from("series,timestamp,value\n");
            for [l, t, v] in &rows {
                out.push_str(&format!("{},{},{}\n", field(l), field(t), field(v)));
            }
            out
        }
        _ => crate::logs::table(&rows, crate::logs::Output::Text),
    })
}

fn ls_text(days: &[DayListing]) -> String {
    let mut out = String::from("WORKSPACE\tSIGNAL\tDATE\tFILE\tROWS\tBYTES\n");
    for d in days {
        for (name, f) in &d.files {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                d.tenant, d.signal, d.date, name, f.rows, f.bytes
            ));
        }
    }
    let files: usize = days.iter().map(|d| d.files.len()).sum();
    let bytes: u64 = days
        .iter()
        .flat_map(|d| d.files.values())
        .map(|f| f.bytes)
        .sum();
    out.push_str(&format!("{files} file(s), {bytes} bytes\n"));
    out
}

fn verify_text(r: &Report) -> String {
    let mut out = String::new();
    for p in &r.problems {
        out.push_str(&format!("{p}\n"));
    }
    out.push_str(&format!(
        "{} listed file(s), {} bytes checked, {} problem(s)\n",
        r.files,
        r.bytes,
        r.problems.len()
    ));
    out
}
