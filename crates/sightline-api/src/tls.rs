//! Transport security: the rustls server configuration built from PEM files,
//! and [`TlsListener`], the listener `axum::serve` accepts TLS connections
//! from.
//!
//! Handshakes run one task per connection, each bounded by
//! [`HANDSHAKE_TIMEOUT`], so a client that sends plain HTTP, garbage, no
//! client certificate, or nothing at all costs one task for at most that long
//! and never holds up the accept loop or any other connection. Failed
//! handshakes are logged and counted in
//! `sightline_tls_handshake_failures_total{reason}`.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client has to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Established connections waiting for `axum::serve` to take them.
const ACCEPTED_QUEUE: usize = 64;

/// The PEM files the server's TLS settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server certificate, followed by any intermediates.
    pub cert_file: PathBuf,
    /// The server's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// CA certificates client certificates must chain to; when set, a client
    /// without such a certificate is refused during the handshake.
    pub client_ca_file: Option<PathBuf>,
}

/// A TLS setting that cannot be loaded.
#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot read {what} {}: {source}", path.display())]
    Pem {
        what: &'static str,
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("{what} {} holds no PEM certificate", path.display())]
    NoCertificate { what: &'static str, path: PathBuf },
    #[error("{what} {} is not usable: {source}", path.display())]
    Rejected {
        what: &'static str,
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("client CA file {} is not usable: {source}", path.display())]
    ClientCa {
        path: PathBuf,
        source: rustls::server::VerifierBuilderError,
    },
    #[error("tls setup failed: {0}")]
    Setup(rustls::Error),
    #[error("certificate {} and key {} do not make a usable pair: {source}", cert.display(), key.display())]
    Pair {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

/// Builds the server configuration: ring as the only crypto provider, TLS 1.2
/// and 1.3, ALPN `h2` and `http/1.1`, and client certificates required and
/// verified against `client_ca_file` when it is set.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates("certificate file", &files.cert_file)?;
    let key = PrivateKeyDer::from_pem_file(&files.key_file).map_err(|source| TlsError::Pem {
        what: "key file",
        path: files.key_file.clone(),
        source,
    })?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Setup)?;
    let builder = match &files.client_ca_file {
        Some(path) => builder.with_client_cert_verifier(client_verifier(path, provider)?),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|source| TlsError::Pair {
            cert: files.cert_file.clone(),
            key: files.key_file.clone(),
            source,
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn certificates(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |source| TlsError::Pem {
        what,
        path: path.to_path_buf(),
        source,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            what,
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

fn client_verifier(
    path: &Path,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates("client CA file", path)? {
        roots.add(cert).map_err(|source| TlsError::Rejected {
            what: "client CA file",
            path: path.to_path_buf(),
            source,
        })?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|source| TlsError::ClientCa {
            path: path.to_path_buf(),
            source,
        })
}

/// A listener that yields only connections whose TLS handshake completed.
///
/// A background task accepts TCP connections and spawns one handshake per
/// connection; finished handshakes are queued for [`axum::serve`]. Dropping
/// the listener (as graceful shutdown does) stops accepting and closes the
/// socket.
pub struct TlsListener {
    established: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    accept_task: JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `tcp`; must run inside a tokio runtime.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> io::Result<TlsListener> {
        let local_addr = tcp.local_addr()?;
        let (tx, established) = mpsc::channel(ACCEPTED_QUEUE);
        let accept_task = tokio::spawn(accept_loop(
            tcp,
            TlsAcceptor::from(config),
            tx,
            HANDSHAKE_TIMEOUT,
        ));
        Ok(TlsListener {
            established,
            local_addr,
            accept_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.established.recv().await {
            Some(conn) => conn,
            // The accept loop only ends when this listener is dropped (or
            // when it panics); no connection will come any more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    established: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
    handshake_timeout: Duration,
) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(conn) => conn,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Most likely out of file descriptors; back off rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let established = established.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    // Fails only once the listener is gone; the connection is
                    // then dropped, as it should be.
                    let _ = established.send((tls, peer)).await;
                }
                Ok(Err(e)) => handshake_failed(peer, failure_reason(&e), Some(&e)),
                Err(_) => handshake_failed(peer, "timeout", None),
            }
        });
    }
}

fn handshake_failed(peer: SocketAddr, reason: &'static str, error: Option<&io::Error>) {
    metrics::counter!("sightline_tls_handshake_failures_total", "reason" => reason).increment(1);
    let error = error.map(|e| e.to_string()).unwrap_or_default();
    match reason {
        "no_client_certificate" | "bad_certificate" => {
            tracing::warn!(%peer, reason, %error, "tls handshake refused")
        }
        _ => tracing::debug!(%peer, reason, %error, "tls handshake failed"),
    }
}

/// A bounded label for a failed handshake.
fn failure_reason(e: &io::Error) -> &'static str {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::NoCertificatesPresented) => "no_client_certificate",
        Some(rustls::Error::InvalidCertificate(_)) => "bad_certificate",
        Some(rustls::Error::AlertReceived(_)) => "alert_received",
        Some(_) => "protocol",
        None => "io",
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The peer address of a TLS connection, for the handlers (the audit log).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>>
    for PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}
