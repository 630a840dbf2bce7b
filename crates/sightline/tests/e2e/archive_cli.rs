//! `sightline archive ls`, `query` and `verify` over a real server's
//! archive, with no server running: the listing of one workspace only,
//! PromQL over each workspace's files, a clean archive verified, then a
//! flipped byte and a missing file found with a non-zero exit, and bad
//! arguments refused with a message.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Server, bin, now_ms, push, series, write_body};

fn archive(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("archive")
        .args(args)
        .output()
        .expect("run sightline archive")
}

fn ls_json(dir: &Path, workspace: &str) -> Value {
    let out = archive(&[
        "ls",
        "--archive",
        dir.to_str().expect("utf-8"),
        "--workspace",
        workspace,
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ls prints JSON")
}

fn rows(listing: &Value) -> u64 {
    listing
        .as_array()
        .expect("days")
        .iter()
        .flat_map(|d| d["files"].as_object().expect("files").values())
        .map(|f| f["rows"].as_u64().expect("rows"))
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn ls_and_verify_read_one_workspace_and_find_damage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut srv = Server::start(dir.path(), &["--flush-interval-secs", "1"]);
    // On a whole second, as the command line's times are.
    let t0 = (now_ms() - 600_000) / 1000 * 1000;
    for (name, n) in [("alpha", 3usize), ("beta", 2)] {
        let tok = srv.tenant(name).ingest;
        let body: Vec<_> = (0..n)
            .map(|i| {
                series(
                    &[("__name__", "cli_metric"), ("i", &i.to_string())],
                    &[(t0, 1.0), (t0 + 15_000, 2.0)],
                )
            })
            .collect();
        assert_eq!(push(&srv.url, &tok, write_body(body)).await, 204);
    }
    let ar = dir.path().join("archive");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(ar.join("tenant=alpha").exists() && ar.join("tenant=beta").exists()) {
        assert!(
            Instant::now() < deadline,
            "nothing was flushed to the archive"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    while rows(&ls_json(&ar, "alpha")) < 6 || rows(&ls_json(&ar, "beta")) < 4 {
        assert!(Instant::now() < deadline, "the flush did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    srv.kill();

    let alpha = ls_json(&ar, "alpha");
    assert_eq!(rows(&alpha), 6, "{alpha}");
    for day in alpha.as_array().expect("days") {
        assert_eq!(day["tenant"], "alpha", "only the named workspace: {day}");
        assert_eq!(day["signal"], "metrics");
        for f in day["files"].as_object().expect("files").values() {
            assert_eq!(f["sha256"].as_str().expect("sha").len(), 64);
        }
    }
    let text = archive(&["ls", "--archive", ar.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.starts_with("WORKSPACE\tSIGNAL\tDATE\tFILE\tROWS\tBYTES\n"),
        "{text}"
    );
    assert!(
        text.contains("alpha\tmetrics\t") && text.contains("beta\tmetrics\t"),
        "{text}"
    );

    let clean = archive(&["verify", "--archive", ar.to_str().expect("utf-8")]);
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    assert!(String::from_utf8_lossy(&clean.stdout).contains(", 0 problem(s)"));

    // PromQL over the archive, one workspace at a time.
    let secs = |ms: i64| format!("{}", ms / 1000);
    let at = secs(t0 + 15_000);
    for (ws, want) in [("alpha", "6"), ("beta", "4")] {
        let out = archive(&[
            "query",
            "--archive",
            ar.to_str().expect("utf-8"),
            "--workspace",
            ws,
            "--time",
            &at,
            "--output",
            "json",
            "sum(cli_metric)",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("query JSON");
        assert_eq!(v["resultType"], "vector", "{v}");
        assert_eq!(v["result"][0]["value"][1], want, "{ws}: {v}");
        assert_eq!(
            v["result"][0]["value"][0].as_f64(),
            Some(((t0 + 15_000) / 1000) as f64)
        );
    }
    let csv = archive(&[
        "query",
        "--archive",
        ar.to_str().expect("utf-8"),
        "--workspace",
        "alpha",
        "--from",
        &secs(t0),
        "--to",
        &secs(t0 + 15_000),
        "--step",
        "15s",
        "--output",
        "csv",
        "cli_metric",
    ]);
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    let csv = String::from_utf8_lossy(&csv.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "series,timestamp,value");
    assert_eq!(lines.len(), 1 + 3 * 2, "three series, two steps: {csv}");
    assert!(
        lines[1].starts_with("\"{__name__=\"\"cli_metric\"\", i=\"\"0\"\"}\","),
        "{csv}"
    );
    let bad = archive(&[
        "query",
        "--archive",
        ar.to_str().expect("utf-8"),
        "--workspace",
        "alpha",
        "--time",
        &at,
        "sum(",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&bad.stderr).contains("panicked"));
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("error: "));

    // One flipped byte in an alpha file, and a beta file gone.
    let file_of = |ws: &str| -> std::path::PathBuf {
        let day = &ls_json(&ar, ws)[0];
        let name = day["files"]
            .as_object()
            .expect("files")
            .keys()
            .next()
            .expect("a file")
            .clone();
        ar.join(format!(
            "tenant={ws}/signal=metrics/date={}/{name}",
            day["date"].as_str().expect("date")
        ))
    };
    let flipped = file_of("alpha");
    let mut bytes = std::fs::read(&flipped).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&flipped, &bytes).expect("write");
    let gone = file_of("beta");
    std::fs::remove_file(&gone).expect("remove");

    let bad = archive(&[
        "verify",
        "--archive",
        ar.to_str().expect("utf-8"),
        "--output",
        "json",
    ]);
    assert_eq!(bad.status.code(), Some(1), "damage is a failure");
    let report: Value = serde_json::from_slice(&bad.stdout).expect("report JSON");
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 2, "{report}");
    let name = |p: &std::path::Path| p.file_name().expect("name").to_string_lossy().into_owned();
    assert!(problems.iter().any(|p| {
        p["problem"] == "checksum"
            && p["path"].as_str().expect("path").ends_with(&name(&flipped))
            && p["path"]
                .as_str()
                .expect("path")
                .starts_with("tenant=alpha/")
    }));
    assert!(problems.iter().any(|p| {
        p["problem"] == "missing"
            && p["path"]
                .as_str()
                .expect("path")
                .starts_with("tenant=beta/")
    }));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("2 problem(s)"));
    // Each workspace is checked alone.
    let alpha_only = archive(&[
        "verify",
        "--archive",
        ar.to_str().expect("utf-8"),
        "--workspace",
        "alpha",
    ]);
    assert_eq!(alpha_only.status.code(), Some(1));
    let out = String::from_utf8_lossy(&alpha_only.stdout);
    assert!(
        out.contains("SHA-256") && !out.contains("tenant=beta"),
        "{out}"
    );

    // Bad arguments: a clear message, no panic.
    let none = archive(&[
        "ls",
        "--archive",
        dir.path().join("nowhere").to_str().expect("utf-8"),
    ]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no archive at"));
    let bad_ws = archive(&[
        "ls",
        "--archive",
        ar.to_str().expect("utf-8"),
        "--workspace",
        "../x",
    ]);
    assert_eq!(bad_ws.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_ws.stderr).contains("--workspace"));
}
