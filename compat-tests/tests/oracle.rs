//! Runs the Prometheus-as-oracle harness over the whole corpus and asserts
//! that Sightline and Prometheus agree on every query.
//!
//! Needs `prometheus` (2.42) on PATH and the `sightline` server binary: taken
//! from the same target directory as this test when it is there, built with
//! `cargo build -p sightline` otherwise.

use std::path::PathBuf;
use std::process::Command;

/// The `target/<profile>` directory this test runs from
/// (`target/debug/deps/oracle-…` → `target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let mut dir = exe.parent().expect("exe has a parent").to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

fn sightline_bin() -> PathBuf {
    let dir = profile_dir();
    let name = format!("sightline{}", std::env::consts::EXE_SUFFIX);
    let bin = dir.join(&name);
    if bin.exists() {
        return bin;
    }
    // `cargo test` holds the lock of this target directory while tests run,
    // so a nested build there would wait forever: build into a directory
    // of its own instead.
    let own = dir.join("oracle-sightline");
    eprintln!(
        "building sightline into {} (run `cargo build -p sightline` first to skip this)",
        own.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(manifest_dir().join(".."))
        .args(["build", "-p", "sightline", "--target-dir"])
        .arg(&own)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p sightline failed");
    own.join("debug").join(name)
}

#[test]
fn sightline_agrees_with_prometheus() {
    agrees(None);
}

/// The same corpus with Sightline's data drained into ClickHouse first
/// (the test server over ClickHouse's engine, or
/// `SIGHTLINE_TEST_CLICKHOUSE_URL`).
#[test]
fn sightline_on_clickhouse_agrees_with_prometheus() {
    let ch = sightline_clickhouse::testing::TestClickHouse::start(None);
    agrees(Some(ch.url()));
}

fn agrees(clickhouse: Option<&str>) {
    let corpus = manifest_dir().join("oracle/queries.promql");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sightline-oracle"));
    cmd.arg("--queries")
        .arg(&corpus)
        .arg("--sightline-bin")
        .arg(sightline_bin());
    if let Some(url) = clickhouse {
        cmd.arg("--clickhouse").arg(url);
    }
    let out = cmd.output().expect("oracle starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stdout.lines().last().unwrap_or("");
    let summary = last
        .strip_suffix(" failed")
        .and_then(|s| s.split_once(" passed, "))
        .and_then(|(p, f)| Some((p.parse::<usize>().ok()?, f.parse::<usize>().ok()?)));
    let Some((passed, failed)) = summary else {
        panic!(
            "the oracle did not finish (status {}):\n{stdout}\n{stderr}",
            out.status
        );
    };
    assert!(
        passed >= 300,
        "corpus too small: {passed} passed, {failed} failed"
    );
    assert_eq!(failed, 0, "Sightline disagrees with Prometheus:\n{stdout}");
    if clickhouse.is_some() {
        let pushed = stdout
            .lines()
            .find_map(|l| l.strip_prefix("pushdown: "))
            .and_then(|l| l.split(' ').next()?.parse::<f64>().ok());
        assert!(
            pushed.is_some_and(|n| n > 0.0),
            "the corpus's irate/resets/changes calls were not computed by ClickHouse:\n{stdout}"
        );
    }
    assert!(
        out.status.success(),
        "oracle exit status {}:\n{stderr}",
        out.status
    );
}

/// This crate's directory in the checkout under test: cargo sets it when it
/// runs tests (a build shared between checkouts bakes in another one).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
