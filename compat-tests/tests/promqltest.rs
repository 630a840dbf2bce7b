//! Runs the stable promqltest scripts through the runner binary and fails
//! on any eval that passed when `promqltest-passing.txt` was recorded
//! (refresh it with `scripts/promqltest --record compat-tests/promqltest-passing.txt
//! <the files below>`).

use std::path::PathBuf;
use std::process::Command;

const STABLE: &[&str] = &[
    "aggregators",
    "collision",
    "functions",
    "histograms",
    "limit",
    "literals",
    "operators",
    "range_queries",
    "selectors",
    "staleness",
];

#[test]
fn no_regressions_on_stable_scripts() {
    check_stable(None);
}

/// The same scripts and the same pass target with every selection answered
/// by the ClickHouse tier (the test server over ClickHouse's engine, or
/// `SIGHTLINE_TEST_CLICKHOUSE_URL`).
#[test]
fn no_regressions_on_stable_scripts_on_clickhouse() {
    let ch = sightline_clickhouse::testing::TestClickHouse::start(None);
    check_stable(Some(ch.url()));
}

/// Sightline's own scripts in `scripts/`, and whether each is also run with
/// immediate `__name__` removal (Prometheus's default) besides the delayed
/// removal of Prometheus's test runner: `pushdown` (aggregations over range
/// functions, the shapes the ClickHouse tier computes in ClickHouse),
/// `subquery_names` (which range functions over a subquery keep the name),
/// `long_chains` (chains of 1,000 operands at every precedence level).
const OWN_SCRIPTS: &[(&str, bool)] = &[
    ("pushdown", false),
    ("subquery_names", true),
    ("long_chains", true),
];

/// Runs Sightline's own scripts: every eval must pass.
fn check_own_scripts(clickhouse: Option<&str>) {
    for &(name, both_modes) in OWN_SCRIPTS {
        let script = manifest_dir().join("scripts").join(format!("{name}.test"));
        let modes: &[bool] = if both_modes { &[false, true] } else { &[false] };
        for &immediate in modes {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_sightline-compat-tests"));
            if let Some(url) = clickhouse {
                cmd.arg("--clickhouse").arg(url);
            }
            if immediate {
                cmd.arg("--immediate-name-removal");
            }
            let out = cmd.arg(&script).output().expect("runner starts");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success()
                    && stdout
                        .lines()
                        .last()
                        .is_some_and(|l| l.contains(" 0 failed")),
                "{} (immediate name removal: {immediate}): {stdout}",
                script.display()
            );
        }
    }
}

fn check_stable(clickhouse: Option<&str>) {
    check_own_scripts(clickhouse);
    let root = manifest_dir();
    let scripts = root.join("corpus/promqltest");
    let passing = root.join("promqltest-passing.txt");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sightline-compat-tests"));
    cmd.arg("--check").arg(&passing);
    if let Some(url) = clickhouse {
        cmd.arg("--clickhouse").arg(url);
    }
    for s in STABLE {
        cmd.arg(scripts.join(format!("{s}.test")));
    }
    let out = cmd.output().expect("runner starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        last.ends_with("skipped") && last.contains("passed"),
        "unexpected runner output: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if clickhouse.is_some() {
        let pushed = stdout
            .lines()
            .find_map(|l| l.strip_prefix("clickhouse: "))
            .and_then(|l| l.split(' ').next()?.parse::<usize>().ok());
        assert!(
            pushed.is_some_and(|n| n > 0),
            "no range function was computed by ClickHouse:\n{stdout}"
        );
    }
    let regressions: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("regression:"))
        .collect();
    assert!(
        out.status.success() && regressions.is_empty(),
        "regressions:\n{}",
        regressions.join("\n")
    );
}

/// Scripts of Prometheus's experimental features: no pass target yet, but
/// each must run to its summary line (no crash, no hang), and the rates are
/// printed (`cargo nextest run --no-capture -E 'test(experimental)'`) and
/// recorded in docs/compat.md.
const EXPERIMENTAL: &[&str] = &[
    "duration_expression",
    "extended_vectors",
    "fill-modifier",
    "info",
    "start_timestamps",
    "type_and_unit",
];

#[test]
fn experimental_scripts_run_and_report_their_rate() {
    let root = manifest_dir();
    let scripts = root.join("corpus/promqltest");
    for s in EXPERIMENTAL {
        let out = Command::new(env!("CARGO_BIN_EXE_sightline-compat-tests"))
            .arg(scripts.join(format!("{s}.test")))
            .output()
            .expect("runner starts");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.lines().last().unwrap_or("");
        assert!(
            last.contains("passed") && last.ends_with("skipped"),
            "{s}: unexpected runner output: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{s}: {last}");
    }
}

/// This crate's directory in the checkout under test: cargo sets it when it
/// runs tests (a build shared between checkouts bakes in another one).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
