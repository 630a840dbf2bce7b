//! A ClickHouse for tests: `SIGHTLINE_TEST_CLICKHOUSE_URL` when set (a real
//! server), otherwise `scripts/clickhouse-test-server` (ClickHouse's engine
//! through chDB) started on a free loopback port and stopped on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ClickHouseConfig;

/// The variable naming a real ClickHouse to test against instead.
pub const URL_VAR: &str = "SIGHTLINE_TEST_CLICKHOUSE_URL";

/// A running ClickHouse for one test.
pub struct TestClickHouse {
    url: String,
    child: Option<Child>,
}

impl TestClickHouse {
    /// Starts the test server (or uses `SIGHTLINE_TEST_CLICKHOUSE_URL`).
    /// `data_dir` keeps the tables across a restart of the test server.
    pub fn start(data_dir: Option<&std::path::Path>) -> Self {
        if let Ok(url) = std::env::var(URL_VAR) {
            if !url.is_empty() {
                return TestClickHouse { url, child: None };
            }
        }
        let (child, port) = spawn(0, data_dir);
        TestClickHouse {
            url: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        }
    }

    /// The HTTP URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The port the test server listens on (`None` for an external server).
    pub fn port(&self) -> Option<u16> {
        self.child.as_ref()?;
        self.url.rsplit(':').next()?.parse().ok()
    }

    /// Whether this is the local test server (which a test may stop).
    pub fn is_local(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the test server (an outage).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the test server again on the same port over `data_dir`.
    pub fn restart(&mut self, data_dir: &std::path::Path) {
        let port = self.port_of_url();
        self.stop();
        let (child, _) = spawn(port, Some(data_dir));
        self.child = Some(child);
    }

    fn port_of_url(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("test server URL has a port")
    }

    /// Settings for a database of its own (unique per call), so tests
    /// sharing one server never see each other's tables.
    pub fn config(&self, retention_days: u16) -> ClickHouseConfig {
        ClickHouseConfig {
            url: self.url.clone(),
            user: std::env::var("SIGHTLINE_TEST_CLICKHOUSE_USER").ok(),
            password: std::env::var("SIGHTLINE_TEST_CLICKHOUSE_PASSWORD").ok(),
            database: unique_database(),
            retention_days,
        }
    }
}

impl Drop for TestClickHouse {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A database name no other test of this run uses.
pub fn unique_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "sightline_test_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `scripts/clickhouse-test-server` of the checkout under test: found
/// above the directory cargo runs the test in (a build shared between
/// checkouts bakes in another one), else above this crate's.
fn test_server_script() -> std::path::PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    );
    start
        .ancestors()
        .map(|d| d.join("scripts/clickhouse-test-server"))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../scripts/clickhouse-test-server")
        })
}

fn spawn(port: u16, data_dir: Option<&std::path::Path>) -> (Child, u16) {
    let script = test_server_script();
    let script = script.display().to_string();
    let mut cmd = Command::new(&script);
    cmd.arg(port.to_string());
    if let Some(d) = data_dir {
        cmd.arg("--data-dir").arg(d);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !sent {
                if let Some(p) = line.strip_prefix("ready on 127.0.0.1:") {
                    sent = tx.send(p.trim().parse::<u16>().ok()).is_ok();
                    continue;
                }
            }
            // Keep draining so the server never blocks on a full pipe; its
            // log stays visible in the test's output.
            eprintln!("clickhouse-test-server: {line}");
        }
    });
    // First use installs chdb-core, which may take minutes.
    match rx.recv_timeout(Duration::from_secs(600)) {
        Ok(Some(p)) => (child, p),
        other => {
            let _ = child.kill();
            panic!("clickhouse test server did not become ready: {other:?}");
        }
    }
}
