//! Starting, provisioning and stopping the two servers.
//!
//! Each server runs as a child process on a free loopback port with its own
//! temporary directory; [`Server`] kills its process when dropped, so every
//! exit path (errors, Ctrl-C through the select in `main`) stops both.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running child process that is killed on drop.
pub struct Server {
    pub name: &'static str,
    pub url: String,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Fails if the process has already exited.
    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited ({status}); log:\n{}", self.name, self.log_tail());
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Errors mean the process is already gone; nothing else to do.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    Ok(l.local_addr()?.port())
}

fn spawn(name: &'static str, mut cmd: Command, log: PathBuf, url: String) -> Result<Server> {
    let out = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {name} ({:?})", cmd.get_program()))?;
    Ok(Server {
        name,
        url,
        child,
        log,
    })
}

/// Polls `GET {url}/-/ready` until it answers 200.
pub async fn wait_ready(
    http: &reqwest::Client,
    server: &mut Server,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let url = format!("{}/-/ready", server.url);
    loop {
        server.check_alive()?;
        if let Ok(r) = http.get(&url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{} not ready after {timeout:?}; log:\n{}",
                server.name,
                server.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts `prometheus` with remote-write reception and no scrape targets.
pub fn start_prometheus(dir: &Path) -> Result<Server> {
    let port = free_port()?;
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n")?;
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-remote-write-receiver")
        .arg("--query.lookback-delta=5m")
        .arg("--log.level=warn");
    spawn(
        "prometheus",
        cmd,
        dir.join("prometheus.log"),
        format!("http://127.0.0.1:{port}"),
    )
}

/// Starts `sightline serve` on a fresh data dir.
pub fn start_sightline(bin: &Path, dir: &Path, extra: &[String]) -> Result<Server> {
    let port = free_port()?;
    let data = dir.join("data");
    std::fs::create_dir_all(&data)?;
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(&data)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .args(["--otlp-grpc-listen", "off"])
        .args(extra);
    spawn(
        "sightline",
        cmd,
        dir.join("sightline.log"),
        format!("http://127.0.0.1:{port}"),
    )
}

/// Secrets for the oracle's tenant.
pub struct Tokens {
    pub ingest: String,
    pub report: String,
}

/// Creates the tenant and an ingest and a report token through the CLI.
pub fn provision(bin: &Path, server: &Server, data_dir: &Path, tenant: &str) -> Result<Tokens> {
    let admin_path = data_dir.join("data").join("admin-token");
    let admin = std::fs::read_to_string(&admin_path)
        .with_context(|| format!("reading {}", admin_path.display()))?
        .trim()
        .to_string();
    let cli = |args: &[&str]| -> Result<serde_json::Value> {
        let out = Command::new(bin)
            .args(args)
            .args(["--url", &server.url, "--token", &admin, "--output", "json"])
            .output()
            .with_context(|| format!("running sightline {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "sightline {} failed: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim())
            .with_context(|| format!("sightline {} printed no JSON: {text}", args.join(" ")))
    };
    cli(&["tenant", "create", tenant])?;
    let secret = |kind: &str| -> Result<String> {
        let v = cli(&["token", "create", "--tenant", tenant, "--kind", kind])?;
        v.get("secret")
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .with_context(|| format!("no secret in {v}"))
    };
    Ok(Tokens {
        ingest: secret("ingest")?,
        report: secret("report")?,
    })
}
