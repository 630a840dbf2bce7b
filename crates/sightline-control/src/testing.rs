//! Test support: a throwaway PostgreSQL cluster on a free loopback port.
//!
//! `TestPostgres::start` runs Debian's `initdb` and `postgres` (as the
//! `postgres` system user, through `setpriv`, when the tests run as root, since PostgreSQL
//! refuses to run as root) in a temporary directory, and removes it on
//! drop. With `SIGHTLINE_TEST_POSTGRES_URL` set (a superuser URL of a
//! running server), that server is used instead. Each test gets its own
//! database, owned by an ordinary role that row-level security binds.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A PostgreSQL server for one test.
pub struct TestPostgres {
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    /// `postgres://postgres@127.0.0.1:<port>` (superuser, trust auth).
    admin_url: String,
    bin: PathBuf,
}

/// The password of the ordinary role the tests connect as.
const ROLE_PASSWORD: &str = "sightline-test";

fn bin_dir() -> Result<PathBuf, String> {
    let base = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(base)
        .map_err(|e| {
            format!(
                "{}: {e} (install Debian's postgresql package)",
                base.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| "no PostgreSQL server under /usr/lib/postgresql".to_string())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `cmd` run as the `postgres` user when we are root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        // setpriv execs the program, so the child is the server itself.
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--clear-groups",
            "--",
        ])
        .arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl TestPostgres {
    /// Starts a cluster (or uses `SIGHTLINE_TEST_POSTGRES_URL`).
    pub fn start() -> Result<TestPostgres, String> {
        let bin = bin_dir()?;
        if let Ok(url) = std::env::var("SIGHTLINE_TEST_POSTGRES_URL")
            && !url.is_empty()
        {
            let pg = TestPostgres {
                child: None,
                dir: None,
                admin_url: url,
                bin,
            };
            pg.ensure_role()?;
            return Ok(pg);
        }
        let dir = tempfile::Builder::new()
            .prefix("sightline-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data).map_err(|e| e.to_string())?;
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .map_err(|e| e.to_string())?
                .success();
            if !ok {
                return Err("chown of the cluster directory failed".into());
            }
        }
        let out = as_server_user(&bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let port = free_port()?;
        let log =
            std::fs::File::create(dir.path().join("server.log")).map_err(|e| e.to_string())?;
        let child = as_server_user(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=100"])
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        let mut pg = TestPostgres {
            child: Some(child),
            dir: Some(dir),
            admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
        };
        pg.wait_ready()?;
        pg.ensure_role()?;
        Ok(pg)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                let log = self
                    .dir
                    .as_ref()
                    .and_then(|d| std::fs::read_to_string(d.path().join("server.log")).ok())
                    .unwrap_or_default();
                return Err(format!("postgres exited with {status}: {log}"));
            }
            if self.psql("SELECT 1").is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("postgres did not become ready in 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs SQL as the superuser.
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .arg(&self.admin_url)
            .args(["-v", "ON_ERROR_STOP=1", "-qAtc", sql])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn ensure_role(&self) -> Result<(), String> {
        self.psql(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sightline') THEN \
             CREATE ROLE sightline LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '{ROLE_PASSWORD}'; \
             END IF; END $$"
        ))
        .map(|_| ())
    }

    /// A new empty database owned by the ordinary role; returns its URL
    /// for that role.
    pub fn database(&self, name: &str) -> Result<String, String> {
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!("database name {name:?}: use a-z, 0-9 and _"));
        }
        self.psql(&format!("CREATE DATABASE {name} OWNER sightline"))?;
        let rest = self
            .admin_url
            .split_once('@')
            .map(|(_, r)| r)
            .ok_or("admin URL without a host")?;
        let host = rest.split('/').next().unwrap_or(rest);
        Ok(format!(
            "postgres://sightline:{ROLE_PASSWORD}@{host}/{name}"
        ))
    }

    /// The superuser URL of a database (for tests that must connect as a
    /// role the policies do not bind).
    pub fn superuser_url(&self, name: &str) -> String {
        let base = self
            .admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&self.admin_url);
        format!("{base}/{name}")
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            // SIGINT is a fast shutdown; the directory goes right after.
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        drop(self.dir.take());
    }
}
