//! Starting servers on free loopback ports and talking to them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sightline_ingest::remote_write::{
    LabelProto, SampleProto, TimeSeries, WriteRequest, encode_snappy,
};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// This crate's directory in the checkout under test: cargo sets it when it
/// runs tests (a build shared between checkouts bakes in another one).
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sightline")
}

/// A running `sightline serve`.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// The OTLP/gRPC listener (`http://127.0.0.1:<port>`).
    pub grpc_url: String,
    pub data_dir: PathBuf,
    pub admin: String,
    pub stdout_path: PathBuf,
}

impl Server {
    /// Starts the server on a free port. A port found free can be taken by
    /// another test before the server binds it: then it starts again on
    /// another one. Any other early exit fails with the server's stderr.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        std::fs::create_dir_all(data_dir).expect("data dir");
        // One stdout for every attempt: the first one prints the bootstrap
        // token, which a later attempt does not print again.
        let mut stdout_path: Option<PathBuf> = None;
        for _ in 0..5 {
            let port = free_port();
            let url = format!("http://127.0.0.1:{port}");
            let grpc_port = free_port();
            let stdout_path = stdout_path
                .get_or_insert_with(|| data_dir.join(format!("stdout-{port}.log")))
                .clone();
            let stderr_path = data_dir.join(format!("stderr-{port}.log"));
            let stdout = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&stdout_path)
                .expect("log file");
            let stderr = std::fs::File::create(&stderr_path).expect("log file");
            let child = Command::new(bin())
                .arg("serve")
                .arg("--data-dir")
                .arg(data_dir)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--otlp-grpc-listen")
                .arg(format!("127.0.0.1:{grpc_port}"))
                .args(extra)
                .env_remove("SIGHTLINE_CONFIG")
                .stdout(Stdio::from(stdout))
                .stderr(Stdio::from(stderr))
                .spawn()
                .expect("spawn sightline");
            let mut s = Server {
                child,
                url,
                grpc_url: format!("http://127.0.0.1:{grpc_port}"),
                data_dir: data_dir.to_path_buf(),
                admin: String::new(),
                stdout_path,
            };
            if let Err(status) = s.wait_ready() {
                let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                if log.contains("Address already in use") {
                    continue;
                }
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "sightline exited early with {status}; stderr ends:\n{}",
                    tail.join("\n")
                );
            }
            // Only the first server on a shared control plane writes one.
            s.admin = std::fs::read_to_string(data_dir.join("admin-token"))
                .map(|t| t.trim().to_string())
                .unwrap_or_default();
            return s;
        }
        panic!("no free loopback port stayed free long enough for sightline to bind it");
    }

    /// Waits for `/-/ready`; the exit status if the server stopped first.
    fn wait_ready(&mut self) -> Result<(), std::process::ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Err(status);
            }
            if http_ok(&self.url, "/-/ready") {
                return Ok(());
            }
            assert!(Instant::now() < deadline, "sightline did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Runs the CLI against this server and returns its JSON output.
    pub fn cli(&self, args: &[&str]) -> Value {
        let out = Command::new(bin())
            .args(args)
            .args(["--url", &self.url, "--output", "json"])
            .env("SIGHTLINE_TOKEN", &self.admin)
            .output()
            .expect("run cli");
        assert!(
            out.status.success(),
            "cli {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("cli prints JSON")
    }

    /// Creates a tenant with an ingest and a report token.
    pub fn tenant(&self, name: &str) -> Tenant {
        self.cli(&["tenant", "create", name]);
        let ingest = self.cli(&["token", "create", "--tenant", name, "--kind", "ingest"]);
        let report = self.cli(&["token", "create", "--tenant", name, "--kind", "report"]);
        Tenant {
            ingest: ingest["secret"].as_str().expect("secret").to_string(),
            report: report["secret"].as_str().expect("secret").to_string(),
            report_id: report["id"].as_str().expect("id").to_string(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Tenant {
    pub ingest: String,
    pub report: String,
    pub report_id: String,
}

/// Whether `GET path` answers 200, with a plain blocking socket.
pub fn http_ok(url: &str, path: &str) -> bool {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let Ok(mut c) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
    if c.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    c.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.") && &buf[9..12] == b"200"
}

/// A series for a remote_write request.
pub fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(n, v)| LabelProto {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|&(t, v)| SampleProto {
                value: v,
                timestamp: t,
            })
            .collect(),
        exemplars: Vec::new(),
    }
}

pub fn write_body(ts: Vec<TimeSeries>) -> Vec<u8> {
    encode_snappy(&WriteRequest {
        timeseries: ts,
        metadata: vec![],
    })
}

/// POSTs a remote_write body; returns the status.
pub async fn push(url: &str, token: &str, body: Vec<u8>) -> u16 {
    ::reqwest::Client::new()
        .post(format!("{url}/api/v1/write"))
        .bearer_auth(token)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()
        .await
        .expect("push")
        .status()
        .as_u16()
}

/// GETs an API path with a token; returns status and JSON.
pub async fn get(
    url: &str,
    token: &str,
    path_and_query: &[(&str, &str)],
    path: &str,
) -> (u16, Value) {
    let resp = ::reqwest::Client::new()
        .get(format!("{url}{path}"))
        .query(path_and_query)
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Current time in ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// The text of `GET /metrics`.
pub async fn metrics_text(url: &str) -> String {
    ::reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

/// A Loki push entry at `ts_ns` with structured metadata.
pub fn log_entry(
    ts_ns: i64,
    line: &str,
    md: &[(&str, &str)],
) -> sightline_ingest::loki_push::EntryAdapter {
    use sightline_ingest::loki_push::{EntryAdapter, LabelPairAdapter};
    EntryAdapter {
        timestamp: Some(sightline_ingest::proto::loki_push::Timestamp {
            seconds: ts_ns.div_euclid(1_000_000_000),
            nanos: ts_ns.rem_euclid(1_000_000_000) as i32,
        }),
        line: line.into(),
        structured_metadata: md
            .iter()
            .map(|(n, v)| LabelPairAdapter {
                name: (*n).into(),
                value: (*v).into(),
            })
            .collect(),
        parsed: vec![],
    }
}

/// A Loki push body as Promtail sends it: snappy-compressed protobuf.
pub fn log_push_body(streams: Vec<sightline_ingest::loki_push::StreamAdapter>) -> Vec<u8> {
    use prost::Message;
    let raw = sightline_ingest::loki_push::PushRequest {
        streams,
        format: String::new(),
    }
    .encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .expect("compresses")
}

/// A live tail's socket.
pub type TailSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/loki/api/v1/tail` with `params` and a bearer token: the socket,
/// or the status and body the server refused the upgrade with.
pub async fn tail_connect(
    url: &str,
    token: &str,
    params: &[(&str, &str)],
) -> Result<TailSocket, (u16, String)> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let ws_url = format!(
        "{}/loki/api/v1/tail?{query}",
        url.replacen("http://", "ws://", 1)
    );
    let mut req = ws_url.into_client_request().expect("a tail request");
    if !token.is_empty() {
        req.headers_mut().insert(
            "Authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let status = resp.status().as_u16();
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err((status, body))
        }
        Err(e) => panic!("tail connection failed: {e}"),
    }
}

/// What a tail sends next: a JSON message, a close with its code and
/// reason, or nothing within `within`.
#[derive(Debug)]
pub enum TailEvent {
    Message(Value),
    Closed(u16, String),
    Quiet,
}

pub async fn tail_next(ws: &mut TailSocket, within: Duration) -> TailEvent {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return TailEvent::Quiet,
            Ok(None) => return TailEvent::Closed(1006, String::new()),
            Ok(Some(Err(e))) => return TailEvent::Closed(1006, e.to_string()),
            Ok(Some(Ok(Message::Text(t)))) => {
                return TailEvent::Message(serde_json::from_str(&t).expect("a JSON message"));
            }
            Ok(Some(Ok(Message::Close(f)))) => {
                return match f {
                    Some(f) => TailEvent::Closed(f.code.into(), f.reason.to_string()),
                    None => TailEvent::Closed(1005, String::new()),
                };
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}
