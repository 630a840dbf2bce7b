//! Transport security: HTTPS with a certificate chain, mutual TLS, bad
//! handshakes that must not stop the server, plain HTTP only on loopback,
//! and start-up errors for unusable TLS settings. Certificates are made with
//! the `openssl` command and requests sent with `curl`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::{Server, bin, free_port, http_ok};

const OPENSSL: &str = "/usr/bin/openssl";
const CURL: &str = "/usr/bin/curl";

/// Environment variables that would change what a test starts.
const SETTINGS_ENV: &[&str] = &[
    "SIGHTLINE_CONFIG",
    "SIGHTLINE_LISTEN",
    "SIGHTLINE_TLS_CERT_FILE",
    "SIGHTLINE_TLS_KEY_FILE",
    "SIGHTLINE_TLS_CLIENT_CA_FILE",
    "SIGHTLINE_ALLOW_PLAIN_HTTP",
    "SIGHTLINE_OTLP_GRPC_LISTEN",
];

/// Certificates for one test: a root CA, an intermediate CA that signs the
/// server certificate (for 127.0.0.1 and localhost), a client CA with one
/// client, and an unrelated CA with a client of its own.
struct Pki {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// The server certificate followed by the intermediate.
    server_chain: PathBuf,
    /// PKCS#8.
    server_key: PathBuf,
    client_ca: PathBuf,
    client: (PathBuf, PathBuf),
    rogue_client: (PathBuf, PathBuf),
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(OPENSSL)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed CA: `<name>.crt`, `<name>.key`.
fn ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
        ],
    );
}

/// Signs `<name>.key` (which must exist) as `<name>.crt` with `<issuer>`,
/// with the given X.509 v3 extensions.
fn sign(dir: &Path, name: &str, issuer: &str, extensions: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), extensions).expect("write extensions");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-subj",
            &format!("/CN={name}"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-days",
            "2",
            "-CA",
            &format!("{issuer}.crt"),
            "-CAkey",
            &format!("{issuer}.key"),
            "-CAcreateserial",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.crt"),
        ],
    );
}

fn ec_key(dir: &Path, name: &str) {
    // genpkey writes PKCS#8.
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &format!("{name}.key"),
        ],
    );
}

const SERVER_EXT: &str = "basicConstraints=critical,CA:FALSE\n\
    keyUsage=critical,digitalSignature,keyEncipherment\n\
    extendedKeyUsage=serverAuth\n\
    subjectAltName=IP:127.0.0.1,DNS:localhost\n";
const CLIENT_EXT: &str = "basicConstraints=critical,CA:FALSE\n\
    keyUsage=critical,digitalSignature\n\
    extendedKeyUsage=clientAuth\n";

fn pki() -> Pki {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ca(d, "root");
    ec_key(d, "intermediate");
    sign(
        d,
        "intermediate",
        "root",
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
    );
    ec_key(d, "server");
    sign(d, "server", "intermediate", SERVER_EXT);
    let chain = [
        std::fs::read_to_string(d.join("server.crt")).expect("server.crt"),
        std::fs::read_to_string(d.join("intermediate.crt")).expect("intermediate.crt"),
    ]
    .concat();
    std::fs::write(d.join("server-chain.crt"), chain).expect("write chain");
    ca(d, "client-ca");
    ec_key(d, "client");
    sign(d, "client", "client-ca", CLIENT_EXT);
    ca(d, "rogue-ca");
    ec_key(d, "rogue-client");
    sign(d, "rogue-client", "rogue-ca", CLIENT_EXT);
    Pki {
        root: d.join("root.crt"),
        server_chain: d.join("server-chain.crt"),
        server_key: d.join("server.key"),
        client_ca: d.join("client-ca.crt"),
        client: (d.join("client.crt"), d.join("client.key")),
        rogue_client: (d.join("rogue-client.crt"), d.join("rogue-client.key")),
        _dir: dir,
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// What curl reported: its exit code, the body and the HTTP status and
/// version (`"000"`/`"0"` when no response came).
#[derive(Debug)]
struct Curl {
    exit: Option<i32>,
    body: String,
    status: String,
    version: String,
}

impl Curl {
    fn ok(&self) -> bool {
        self.exit == Some(0) && self.status == "200"
    }
}

fn curl(url: &str, args: &[&str]) -> Curl {
    let out = Command::new(CURL)
        .args([
            "-sS",
            "--max-time",
            "15",
            "-w",
            "\n%{http_code} %{http_version}",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("run curl");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, tail) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    let (status, version) = tail.split_once(' ').unwrap_or((tail, ""));
    Curl {
        exit: out.status.code(),
        body: body.trim_end().to_string(),
        status: status.to_string(),
        version: version.to_string(),
    }
}

fn spawn(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Child, PathBuf) {
    static STARTS: AtomicUsize = AtomicUsize::new(0);
    std::fs::create_dir_all(data_dir).expect("data dir");
    let n = STARTS.fetch_add(1, Ordering::Relaxed);
    let stderr_path = data_dir.join(format!("stderr-{n}.log"));
    let stderr = std::fs::File::create(&stderr_path).expect("log file");
    let mut cmd = Command::new(bin());
    cmd.arg("serve").arg("--data-dir").arg(data_dir);
    if !args.contains(&"--otlp-grpc-listen") {
        cmd.args(["--otlp-grpc-listen", "off"]);
    }
    cmd.args(args);
    for k in SETTINGS_ENV {
        cmd.env_remove(k);
    }
    let child = cmd
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr))
        .spawn()
        .expect("spawn sightline");
    (child, stderr_path)
}

/// Starts `sightline serve` on a free port with `args` and `env`, and waits
/// until it answers `/-/ready` over TLS (trusting `root`, presenting
/// `client` when given) or exits.
fn start_tls(
    data_dir: &Path,
    root: &Path,
    client: Option<&(PathBuf, PathBuf)>,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut all = vec!["--listen", &listen];
    all.extend_from_slice(args);
    let (mut child, stderr_path) = spawn(data_dir, &all, env);
    let url = format!("https://127.0.0.1:{port}");
    let mut probe = vec!["--cacert", path(root)];
    if let Some((cert, key)) = client {
        probe.extend(["--cert", path(cert), "--key", path(key)]);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!(
                "sightline exited early with {status}: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        if curl(&format!("{url}/-/ready"), &probe).ok() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "sightline did not answer over TLS; see {}",
                stderr_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let admin = std::fs::read_to_string(data_dir.join("admin-token"))
        .expect("admin-token file")
        .trim()
        .to_string();
    Server {
        child,
        url,
        grpc_url: String::new(),
        data_dir: data_dir.to_path_buf(),
        admin,
        stdout_path: stderr_path,
    }
}

/// Runs `sightline serve` expecting it to exit by itself; returns its exit
/// status and stderr.
fn serve_exits(data_dir: &Path, args: &[&str]) -> (ExitStatus, String) {
    let (mut child, stderr_path) = spawn(data_dir, args, &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "sightline serve {args:?} kept running: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status,
        std::fs::read_to_string(&stderr_path).expect("stderr log"),
    )
}

/// The value of `sightline_tls_handshake_failures_total{reason}` (0 when absent).
fn handshake_failures(srv: &Server, curl_args: &[&str], reason: &str) -> u64 {
    let r = curl(&format!("{}/metrics", srv.url), curl_args);
    assert!(r.ok(), "{r:?}");
    let prefix = format!("sightline_tls_handshake_failures_total{{reason=\"{reason}\"}} ");
    r.body
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().expect("counter value"))
        .unwrap_or(0)
}

/// Polls until `f` holds, for at most 10 s.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn tls_args(pki: &Pki) -> [&str; 4] {
    [
        "--tls-cert-file",
        path(&pki.server_chain),
        "--tls-key-file",
        path(&pki.server_key),
    ]
}

#[test]
fn https_serves_ready_and_the_api_with_a_certificate_chain() {
    let pki = pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start_tls(dir.path(), &pki.root, None, &tls_args(&pki), &[]);
    let ca = ["--cacert", path(&pki.root)];

    // The client trusts only the root: the intermediate came from the
    // server's chain. ALPN offers h2, and HTTP/1.1 works as well.
    let r = curl(&format!("{}/-/ready", srv.url), &ca);
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.body, "Sightline is Ready.");
    assert_eq!(r.version, "2", "{r:?}");
    let mut h1 = ca.to_vec();
    h1.push("--http1.1");
    let r = curl(&format!("{}/-/ready", srv.url), &h1);
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.version, "1.1", "{r:?}");
    // By its DNS name too.
    let localhost = srv.url.replace("127.0.0.1", "localhost");
    let mut resolve = ca.to_vec();
    let port = srv.url.rsplit(':').next().expect("port");
    let pin = format!("localhost:{port}:127.0.0.1");
    resolve.extend(["--resolve", &pin]);
    let r = curl(&format!("{localhost}/-/ready"), &resolve);
    assert!(r.ok(), "{r:?}");

    // An authenticated API call over TLS.
    let bearer = format!("Authorization: Bearer {}", srv.admin);
    let mut auth = ca.to_vec();
    auth.extend(["-H", &bearer]);
    let r = curl(&format!("{}/admin/v1/tenants", srv.url), &auth);
    assert!(r.ok(), "{r:?}");
    assert!(r.body.starts_with('['), "{r:?}");
    let r = curl(&format!("{}/admin/v1/tenants", srv.url), &ca);
    assert_eq!(r.status, "401", "{r:?}");

    // A client that does not trust the server's CA refuses it.
    let r = curl(
        &format!("{}/-/ready", srv.url),
        &["--cacert", path(&pki.client_ca)],
    );
    assert_ne!(r.exit, Some(0), "{r:?}");
    assert_eq!(r.status, "000", "{r:?}");

    // Graceful shutdown still ends the server.
    let mut srv = srv;
    let status = Command::new("kill")
        .args(["-TERM", &srv.child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = srv.child.try_wait().expect("try_wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit}");
    let log = std::fs::read_to_string(&srv.stdout_path).expect("log");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn plain_http_and_garbage_to_the_tls_port_fail_and_the_server_keeps_serving() {
    let pki = pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start_tls(dir.path(), &pki.root, None, &tls_args(&pki), &[]);
    let ca = ["--cacert", path(&pki.root)];
    let plain = srv.url.replace("https://", "http://");

    let before = handshake_failures(&srv, &ca, "protocol");
    let r = curl(&format!("{plain}/-/ready"), &[]);
    assert!(!r.ok(), "plain HTTP answered on the TLS port: {r:?}");
    assert!(!http_ok(&plain, "/-/ready"));
    {
        let addr = plain.trim_start_matches("http://");
        let mut c = std::net::TcpStream::connect(addr).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        c.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 0xde, 0xad, 0xbe, 0xef])
            .expect("write garbage");
        c.write_all(&[0u8; 70_000]).ok();
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
    }
    let r = curl(&format!("{}/-/ready", srv.url), &ca);
    assert!(
        r.ok(),
        "the server stopped serving after bad handshakes: {r:?}"
    );
    eventually("failed handshakes are counted", || {
        handshake_failures(&srv, &ca, "protocol") >= before + 3
    });
}

#[test]
fn a_silent_client_neither_blocks_others_nor_stays_past_the_handshake_timeout() {
    let pki = pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start_tls(dir.path(), &pki.root, None, &tls_args(&pki), &[]);
    let ca = ["--cacert", path(&pki.root)];
    let addr = srv.url.trim_start_matches("https://").to_string();

    let opened = Instant::now();
    let silent: Vec<std::net::TcpStream> = (0..20)
        .map(|_| std::net::TcpStream::connect(&addr).expect("connect"))
        .collect();
    // A half-sent ClientHello as well.
    let mut partial = std::net::TcpStream::connect(&addr).expect("connect");
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .expect("write");
    for _ in 0..3 {
        let r = curl(&format!("{}/-/ready", srv.url), &ca);
        assert!(r.ok(), "a silent connection held up others: {r:?}");
    }
    // Served while every silent connection was still waiting (which can
    // only be told apart while the timeout has not yet passed).
    let pending = handshake_failures(&srv, &ca, "timeout");
    if opened.elapsed() < Duration::from_secs(9) {
        assert_eq!(pending, 0);
    }

    // The server hangs up on them once the handshake timeout (10 s) passes.
    for mut c in silent.into_iter().chain([partial]) {
        c.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut buf = [0u8; 64];
        loop {
            match c.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("the server kept a silent connection open: {e}"),
            }
        }
    }
    assert!(opened.elapsed() >= Duration::from_secs(9));
    eventually("timeouts are counted", || {
        handshake_failures(&srv, &ca, "timeout") >= 21
    });
}

#[test]
fn mutual_tls_admits_only_clients_with_a_certificate_from_the_client_ca() {
    let pki = pki();
    let dir = tempfile::tempdir().expect("tempdir");
    // Server certificate and key from the environment, the client CA as a flag.
    let srv = start_tls(
        dir.path(),
        &pki.root,
        Some(&pki.client),
        &["--tls-client-ca-file", path(&pki.client_ca)],
        &[
            ("SIGHTLINE_TLS_CERT_FILE", path(&pki.server_chain)),
            ("SIGHTLINE_TLS_KEY_FILE", path(&pki.server_key)),
        ],
    );
    let ready = format!("{}/-/ready", srv.url);
    let ca = ["--cacert", path(&pki.root)];
    let client = [
        "--cacert",
        path(&pki.root),
        "--cert",
        path(&pki.client.0),
        "--key",
        path(&pki.client.1),
    ];
    let rogue = [
        "--cacert",
        path(&pki.root),
        "--cert",
        path(&pki.rogue_client.0),
        "--key",
        path(&pki.rogue_client.1),
    ];

    let r = curl(&ready, &ca);
    assert!(!r.ok(), "no client certificate, yet answered: {r:?}");
    assert_eq!(r.status, "000", "{r:?}");
    let r = curl(&ready, &["--http1.1", "--cacert", path(&pki.root)]);
    assert_eq!(r.status, "000", "{r:?}");
    let r = curl(&ready, &rogue);
    assert!(
        !r.ok(),
        "a certificate from another CA, yet answered: {r:?}"
    );
    assert_eq!(r.status, "000", "{r:?}");
    // The server's own chain is no client credential either: the client CA
    // alone decides.
    let r = curl(
        &ready,
        &[
            "--cacert",
            path(&pki.root),
            "--cert",
            path(&pki.server_chain),
            "--key",
            path(&pki.server_key),
        ],
    );
    assert_eq!(r.status, "000", "{r:?}");

    let r = curl(&ready, &client);
    assert!(r.ok(), "{r:?}");
    let bearer = format!("Authorization: Bearer {}", srv.admin);
    let mut auth = client.to_vec();
    auth.extend(["-H", &bearer]);
    let r = curl(&format!("{}/admin/v1/tenants", srv.url), &auth);
    assert!(r.ok(), "{r:?}");

    eventually("refused handshakes are counted by reason", || {
        handshake_failures(&srv, &client, "no_client_certificate") >= 2
            && handshake_failures(&srv, &client, "bad_certificate") >= 2
    });
}

#[test]
fn server_keys_in_pkcs1_and_sec1_serve_too() {
    let pki = pki();
    let d = pki.root.parent().expect("pki dir");
    // PKCS#1 (RSA) and SEC1 (EC), each with a certificate from the intermediate.
    openssl(d, &["genrsa", "-traditional", "-out", "rsa.key", "2048"]);
    openssl(
        d,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "sec1.key",
        ],
    );
    for (name, header) in [
        ("rsa", "BEGIN RSA PRIVATE KEY"),
        ("sec1", "BEGIN EC PRIVATE KEY"),
    ] {
        let key = std::fs::read_to_string(d.join(format!("{name}.key"))).expect("key");
        assert!(key.contains(header), "{name}: {key}");
        sign(d, name, "intermediate", SERVER_EXT);
        let chain = [
            std::fs::read_to_string(d.join(format!("{name}.crt"))).expect("crt"),
            std::fs::read_to_string(d.join("intermediate.crt")).expect("intermediate"),
        ]
        .concat();
        let chain_path = d.join(format!("{name}-chain.crt"));
        std::fs::write(&chain_path, chain).expect("write chain");
        let key_path = d.join(format!("{name}.key"));
        let dir = tempfile::tempdir().expect("tempdir");
        let srv = start_tls(
            dir.path(),
            &pki.root,
            None,
            &[
                "--tls-cert-file",
                path(&chain_path),
                "--tls-key-file",
                path(&key_path),
            ],
            &[],
        );
        let r = curl(
            &format!("{}/-/ready", srv.url),
            &["--cacert", path(&pki.root)],
        );
        assert!(r.ok(), "{name}: {r:?}");
    }
}

#[test]
fn plain_http_is_refused_off_loopback_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let any = format!("0.0.0.0:{port}");
    let (status, stderr) = serve_exits(dir.path(), &["--listen", &any]);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("--allow-plain-http"), "{stderr}");
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(
        !dir.path().join("control.db").exists(),
        "refused before opening anything"
    );
    // IPv6's unspecified address too.
    let (status, stderr) = serve_exits(dir.path(), &["--listen", &format!("[::]:{port}")]);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("--allow-plain-http"), "{stderr}");

    let plain = format!("http://127.0.0.1:{port}");
    for (args, env) in [
        (vec!["--listen", any.as_str(), "--allow-plain-http"], vec![]),
        (
            vec!["--listen", any.as_str()],
            vec![("SIGHTLINE_ALLOW_PLAIN_HTTP", "true")],
        ),
    ] {
        let (child, stderr_path) = spawn(dir.path(), &args, &env);
        let mut srv = Server {
            child,
            url: plain.clone(),
            grpc_url: String::new(),
            data_dir: dir.path().to_path_buf(),
            admin: String::new(),
            stdout_path: stderr_path.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !http_ok(&plain, "/-/ready") {
            if let Some(status) = srv.child.try_wait().expect("try_wait") {
                panic!(
                    "{args:?} {env:?}: exited with {status}: {}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "{args:?} {env:?}: not ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(&stderr_path).expect("log");
        assert!(
            log.contains("--allow-plain-http"),
            "a warning is logged: {log}"
        );
        srv.kill();
    }

    // Loopback by name needs no flag.
    let port = free_port();
    let (child, stderr_path) = spawn(dir.path(), &["--listen", &format!("localhost:{port}")], &[]);
    let mut srv = Server {
        child,
        url: format!("http://localhost:{port}"),
        grpc_url: String::new(),
        data_dir: dir.path().to_path_buf(),
        admin: String::new(),
        stdout_path: stderr_path.clone(),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !curl(&format!("{}/-/ready", srv.url), &[]).ok() {
        if let Some(status) = srv.child.try_wait().expect("try_wait") {
            panic!(
                "localhost: exited with {status}: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "localhost: not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    srv.kill();
}

#[test]
fn unusable_tls_settings_are_start_up_errors_naming_the_setting_or_file() {
    let pki = pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = pki.root.parent().expect("pki dir");
    let listen = format!("127.0.0.1:{}", free_port());
    let garbage = d.join("garbage.pem");
    std::fs::write(&garbage, "not PEM at all\n").expect("write");
    let missing = d.join("missing.pem");
    let other_key = d.join("client.key");
    let cert = path(&pki.server_chain);
    let key = path(&pki.server_key);
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["--tls-cert-file", cert], vec!["--tls-key-file"]),
        (vec!["--tls-key-file", key], vec!["--tls-cert-file"]),
        (
            vec!["--tls-client-ca-file", path(&pki.client_ca)],
            vec!["--tls-client-ca-file", "--tls-cert-file"],
        ),
        (
            vec!["--tls-cert-file", path(&garbage), "--tls-key-file", key],
            vec![path(&garbage), "certificate"],
        ),
        (
            vec!["--tls-cert-file", path(&missing), "--tls-key-file", key],
            vec![path(&missing)],
        ),
        (
            vec!["--tls-cert-file", cert, "--tls-key-file", path(&garbage)],
            vec![path(&garbage), "key"],
        ),
        // A certificate is not a key.
        (
            vec!["--tls-cert-file", cert, "--tls-key-file", cert],
            vec![cert, "key"],
        ),
        // A key that does not belong to the certificate.
        (
            vec!["--tls-cert-file", cert, "--tls-key-file", path(&other_key)],
            vec![cert, path(&other_key)],
        ),
        (
            vec![
                "--tls-cert-file",
                cert,
                "--tls-key-file",
                key,
                "--tls-client-ca-file",
                path(&garbage),
            ],
            vec![path(&garbage), "client CA"],
        ),
    ];
    for (args, expect) in cases {
        let mut all = vec!["--listen", listen.as_str()];
        all.extend(&args);
        let (status, stderr) = serve_exits(dir.path(), &all);
        assert!(!status.success(), "{args:?}: {stderr}");
        for e in expect {
            assert!(stderr.contains(e), "{args:?}: expected {e:?} in {stderr}");
        }
    }
    assert!(
        !dir.path().join("control.db").exists(),
        "refused before opening anything"
    );
}
