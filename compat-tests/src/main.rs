//! `sightline-compat-tests`: runs Prometheus's promqltest `.test` scripts
//! against Sightline's PromQL evaluator.
//!
//! Usage: `sightline-compat-tests [--clickhouse URL] [--immediate-name-removal]
//! [--record FILE] [--check FILE] PATH...` (files or directories of
//! `*.test`). Prints every failing eval as `file:line: expected … got …`, a
//! summary per file, and ends with
//! `N passed, M failed, K skipped` (skipped: native-histogram cases only:
//! those expecting a histogram, using a native-histogram-only operator, or
//! reading native-histogram samples in a way that changes the answer or
//! its annotations; see `run::depends_on_native`).
//! `--clickhouse URL` stores every script's data in ClickHouse (a database
//! of its own, dropped at the end) and evaluates over the ClickHouse tier.
//! `--immediate-name-removal` evaluates with `__name__` removed at the
//! operation that changes a value's meaning, as Prometheus does out of the
//! box, instead of at the end of the query as Prometheus's test runner
//! (and so, by default, this one) does.
//! `--record FILE` writes the sorted ids (`file.test:LINE`) of passing
//! evals; `--check FILE` exits non-zero if an id listed there no longer
//! passes.

mod compare;
mod run;
mod script;
mod series;
mod storage;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use run::Outcome;

const USAGE: &str = "usage: sightline-compat-tests [--clickhouse URL] [--immediate-name-removal] \
                     [--record FILE] [--check FILE] PATH...";

struct Args {
    clickhouse: Option<String>,
    delayed_name_removal: bool,
    record: Option<PathBuf>,
    check: Option<PathBuf>,
    paths: Vec<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        clickhouse: None,
        delayed_name_removal: true,
        record: None,
        check: None,
        paths: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--record" => args.record = Some(it.next().context("--record needs a file")?.into()),
            "--check" => args.check = Some(it.next().context("--check needs a file")?.into()),
            "--clickhouse" => {
                args.clickhouse = Some(it.next().context("--clickhouse needs a URL")?);
            }
            "--immediate-name-removal" => args.delayed_name_removal = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => args.paths.push(a.into()),
        }
    }
    if args.paths.is_empty() {
        bail!("{USAGE}");
    }
    Ok(args)
}

fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "test"))
                .collect();
            v.sort();
            files.extend(v);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<ExitCode> {
    let args = parse_args()?;
    let files = collect(&args.paths)?;
    let hot = match &args.clickhouse {
        Some(url) => Some(hot_tier(url)?),
        None => None,
    };
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    let mut passing: BTreeSet<String> = BTreeSet::new();
    let mut per_file = Vec::new();
    for f in &files {
        let name = file_name(f);
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let cmds = match script::parse_script(&text) {
            Ok(c) => c,
            Err(e) => {
                println!("{name}: script error: {e:#}");
                failed += 1;
                per_file.push((name, 0, 1, 0));
                continue;
            }
        };
        let (mut p, mut fl, mut s) = (0, 0, 0);
        for (line, outcome) in run::run_script(&cmds, hot.as_ref(), args.delayed_name_removal) {
            match outcome {
                Outcome::Pass => {
                    p += 1;
                    passing.insert(format!("{name}:{line}"));
                }
                Outcome::Fail(msg) => {
                    fl += 1;
                    let mut msg = msg.replace('\n', " ");
                    if msg.len() > 600 {
                        let cut = (0..=600)
                            .rev()
                            .find(|i| msg.is_char_boundary(*i))
                            .unwrap_or(0);
                        msg.truncate(cut);
                        msg.push_str(" …");
                    }
                    println!("{name}:{line}: {msg}");
                }
                Outcome::Skip => s += 1,
            }
        }
        passed += p;
        failed += fl;
        skipped += s;
        per_file.push((name, p, fl, s));
    }
    for (name, p, f, s) in &per_file {
        let total = p + f;
        let pct = if total == 0 {
            100.0
        } else {
            *p as f64 * 100.0 / total as f64
        };
        println!("{name}: {p} passed, {f} failed, {s} skipped ({pct:.1}% of non-skipped)");
    }
    let mut code = ExitCode::SUCCESS;
    if let Some(r) = &args.record {
        let mut body: String = passing.iter().map(|id| format!("{id}\n")).collect();
        if body.is_empty() {
            body.push('\n');
        }
        std::fs::write(r, body).with_context(|| format!("writing {}", r.display()))?;
    }
    if let Some(c) = &args.check {
        let listed =
            std::fs::read_to_string(c).with_context(|| format!("reading {}", c.display()))?;
        let ran: BTreeSet<String> = files.iter().map(|f| file_name(f)).collect();
        let mut regressions = 0;
        for id in listed.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let file = id.rsplit_once(':').map_or(id, |(f, _)| f);
            if ran.contains(file) && !passing.contains(id) {
                println!("regression: {id} no longer passes");
                regressions += 1;
            }
        }
        if regressions > 0 {
            code = ExitCode::FAILURE;
        }
    }
    if let Some(h) = &hot {
        println!(
            "clickhouse: {} range-function calls computed by ClickHouse, each equal to the raw-sample evaluation",
            h.pushed_total()
        );
        let db = h.ch.config().database.clone();
        if let Err(e) = h.rt.block_on(h.ch.drop_database()) {
            eprintln!("warning: dropping clickhouse database {db}: {e}");
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    Ok(code)
}

/// A fresh database on the ClickHouse at `url`, migrated.
fn hot_tier(url: &str) -> Result<storage::HotTier> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let cfg = sightline_clickhouse::ClickHouseConfig {
        url: url.to_string(),
        user: std::env::var("SIGHTLINE_TEST_CLICKHOUSE_USER").ok(),
        password: std::env::var("SIGHTLINE_TEST_CLICKHOUSE_PASSWORD").ok(),
        database: sightline_clickhouse::testing::unique_database(),
        // Script data sits at the start of 1970: keep it from expiring.
        retention_days: u16::MAX,
    };
    let ch = sightline_clickhouse::ClickHouse::new(cfg);
    rt.block_on(ch.migrate())
        .with_context(|| format!("migrating clickhouse at {url}"))?;
    Ok(storage::HotTier::new(ch, rt))
}
