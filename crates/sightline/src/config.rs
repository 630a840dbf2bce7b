//! Server settings: command-line flags over environment variables over the
//! config file over defaults.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

/// Flags of `sightline serve` (each also from an environment variable).
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// TOML config file.
    #[arg(long, env = "SIGHTLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (WAL, archive, control-plane database) [default: ./sightline-data].
    #[arg(long, env = "SIGHTLINE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:9700].
    #[arg(long, env = "SIGHTLINE_LISTEN")]
    pub listen: Option<String>,
    /// Address of the OTLP/gRPC listener, with the same TLS settings as
    /// the HTTP listener; `off` for none [default: 127.0.0.1:4317].
    #[arg(long, env = "SIGHTLINE_OTLP_GRPC_LISTEN")]
    pub otlp_grpc_listen: Option<String>,
    /// Resource attributes that become labels of every OTLP metric series
    /// (by their OpenTelemetry names, comma-separated); the others are on
    /// `target_info`.
    #[arg(
        long,
        env = "SIGHTLINE_OTLP_PROMOTE_RESOURCE_ATTRIBUTES",
        value_delimiter = ','
    )]
    pub otlp_promote_resource_attributes: Option<Vec<String>>,
    /// Add unit suffixes, `_total` and `_ratio` to OTLP metric names, as
    /// Prometheus does; `false` only escapes the names [default: true].
    #[arg(long, env = "SIGHTLINE_OTLP_METRIC_SUFFIXES")]
    pub otlp_metric_suffixes: Option<bool>,
    /// Seconds between flushes of the head to the archive [default: 900].
    #[arg(long, env = "SIGHTLINE_FLUSH_INTERVAL_SECS")]
    pub flush_interval_secs: Option<u64>,
    /// Samples in the head that trigger a flush [default: 20000000].
    #[arg(long, env = "SIGHTLINE_HEAD_MAX_SAMPLES")]
    pub head_max_samples: Option<usize>,
    /// Largest remote_write body, in bytes [default: 16777216].
    #[arg(long, env = "SIGHTLINE_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Most points per series in a range query [default: 11000].
    #[arg(long, env = "SIGHTLINE_MAX_POINTS_PER_SERIES")]
    pub max_points_per_series: Option<i64>,
    /// Most series one selector may return [default: 500000].
    #[arg(long, env = "SIGHTLINE_MAX_SERIES")]
    pub max_series: Option<usize>,
    /// Most samples a query may hold [default: 50000000].
    #[arg(long, env = "SIGHTLINE_MAX_SAMPLES")]
    pub max_samples: Option<usize>,
    /// Query timeout in seconds [default: 120].
    #[arg(long, env = "SIGHTLINE_QUERY_TIMEOUT_SECS")]
    pub query_timeout_secs: Option<u64>,
    /// Remove `__name__` at the end of a PromQL query instead of at each
    /// operation, like Prometheus's `promql-delayed-name-removal` feature [default: false].
    #[arg(long, env = "SIGHTLINE_PROMQL_DELAYED_NAME_REMOVAL")]
    pub promql_delayed_name_removal: Option<bool>,
    /// Bytes of write-ahead log not yet stored (while ClickHouse is down)
    /// past which ingest answers 429 [default: 8589934592].
    #[arg(long, env = "SIGHTLINE_WAL_MAX_BYTES")]
    pub wal_max_bytes: Option<u64>,
    /// ClickHouse's HTTP interface (e.g. http://127.0.0.1:8123); when set,
    /// the head drains into ClickHouse and reads include it [default: none,
    /// everything embedded].
    #[arg(long, env = "SIGHTLINE_CLICKHOUSE_URL")]
    pub clickhouse_url: Option<String>,
    /// ClickHouse user.
    #[arg(long, env = "SIGHTLINE_CLICKHOUSE_USER")]
    pub clickhouse_user: Option<String>,
    /// ClickHouse password (prefer the environment variable).
    #[arg(long, env = "SIGHTLINE_CLICKHOUSE_PASSWORD", hide_env_values = true)]
    pub clickhouse_password: Option<String>,
    /// ClickHouse database [default: sightline].
    #[arg(long, env = "SIGHTLINE_CLICKHOUSE_DATABASE")]
    pub clickhouse_database: Option<String>,
    /// Days ClickHouse keeps rows (the tables' TTL) [default: 30].
    #[arg(long, env = "SIGHTLINE_CLICKHOUSE_RETENTION_DAYS")]
    pub clickhouse_retention_days: Option<u16>,
    /// Most samples in one ClickHouse insert [default: 500000].
    #[arg(long, env = "SIGHTLINE_CLICKHOUSE_BATCH_ROWS")]
    pub clickhouse_batch_rows: Option<usize>,
    /// Most samples per second sent to ClickHouse while a backlog drains
    /// (0: no limit) [default: 0].
    #[arg(long, env = "SIGHTLINE_CLICKHOUSE_DRAIN_ROWS_PER_SEC")]
    pub clickhouse_drain_rows_per_sec: Option<u64>,
    /// Compute the range functions ClickHouse computes exactly in
    /// ClickHouse (irate, idelta, changes, resets, count_over_time) when it
    /// holds the whole window [default: true].
    #[arg(long, env = "SIGHTLINE_CLICKHOUSE_PUSHDOWN")]
    pub clickhouse_pushdown: Option<bool>,
    /// PostgreSQL control plane (postgres://user:password@host:port/db, an
    /// ordinary role: row-level security must bind it) [default: none,
    /// SQLite in the data directory].
    #[arg(long, env = "SIGHTLINE_CONTROL_POSTGRES_URL", hide_env_values = true)]
    pub control_postgres_url: Option<String>,
    /// File holding the token-digest key (64 hex digits), created with a
    /// random key if missing; processes sharing a control plane share it
    /// [default: <data-dir>/token-key].
    #[arg(long, env = "SIGHTLINE_TOKEN_KEY_FILE")]
    pub token_key_file: Option<PathBuf>,
    /// Active series a workspace may hold unless its own cap says
    /// otherwise (0: no cap) [default: 1000000].
    #[arg(long, env = "SIGHTLINE_MAX_ACTIVE_SERIES_PER_WORKSPACE")]
    pub max_active_series_per_workspace: Option<usize>,
    /// Seconds a series stays active after its last sample [default: 3600].
    #[arg(long, env = "SIGHTLINE_ACTIVE_SERIES_WINDOW_SECS")]
    pub active_series_window_secs: Option<u64>,
    /// Active log streams a workspace may hold unless its own cap says
    /// otherwise (0: no cap) [default: 100000].
    #[arg(long, env = "SIGHTLINE_MAX_ACTIVE_STREAMS_PER_WORKSPACE")]
    pub max_active_streams_per_workspace: Option<usize>,
    /// Bytes of log lines in the head that trigger a flush [default: 536870912].
    #[arg(long, env = "SIGHTLINE_HEAD_MAX_LOG_BYTES")]
    pub head_max_log_bytes: Option<usize>,
    /// Bytes of spans (their stored OTLP forms) in the head that trigger a
    /// flush [default: 536870912].
    #[arg(long, env = "SIGHTLINE_HEAD_MAX_SPAN_BYTES")]
    pub head_max_span_bytes: Option<usize>,
    /// Longest log line a push may carry, in bytes (Loki's
    /// `max_line_size`) [default: 262144].
    #[arg(long, env = "SIGHTLINE_MAX_LOG_LINE_BYTES")]
    pub max_log_line_bytes: Option<usize>,
    /// Log entries older than this many seconds are refused (Loki's
    /// `reject_old_samples_max_age`; 0: no bound) [default: 604800].
    #[arg(long, env = "SIGHTLINE_LOG_MAX_AGE_SECS")]
    pub log_max_age_secs: Option<u64>,
    /// Live tails a workspace may hold open at once (Loki's
    /// `max_concurrent_tail_requests`) [default: 10].
    #[arg(long, env = "SIGHTLINE_MAX_TAILS_PER_WORKSPACE")]
    pub max_tails_per_workspace: Option<usize>,
    /// Longest a live tail stays open, in seconds (Loki's
    /// `tail_max_duration`) [default: 3600].
    #[arg(long, env = "SIGHTLINE_TAIL_MAX_DURATION_SECS")]
    pub tail_max_duration_secs: Option<u64>,
    /// Exemplars kept per series, the oldest dropped first; 0 keeps none
    /// [default: 10].
    #[arg(long, env = "SIGHTLINE_MAX_EXEMPLARS_PER_SERIES")]
    pub max_exemplars_per_series: Option<usize>,
    /// More label keys whose values are redacted at ingest, comma-separated,
    /// beside the built-in password, secret, token, authorization, api_key,
    /// cookie and set-cookie.
    #[arg(long, env = "SIGHTLINE_REDACT_KEYS", value_delimiter = ',')]
    pub redact_keys: Option<Vec<String>>,
    /// PEM certificate, followed by any intermediates, to serve HTTPS with
    /// (needs --tls-key-file) [default: none, plain HTTP].
    #[arg(long, env = "SIGHTLINE_TLS_CERT_FILE")]
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert-file.
    #[arg(long, env = "SIGHTLINE_TLS_KEY_FILE")]
    pub tls_key_file: Option<PathBuf>,
    /// PEM CA bundle; when set, clients must present a certificate signed by
    /// it (mutual TLS) and are refused otherwise [default: none].
    #[arg(long, env = "SIGHTLINE_TLS_CLIENT_CA_FILE")]
    pub tls_client_ca_file: Option<PathBuf>,
    /// Serve plain HTTP (no TLS) on an address that is not loopback
    /// [default: false].
    #[arg(
        long,
        env = "SIGHTLINE_ALLOW_PLAIN_HTTP",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub allow_plain_http: Option<bool>,
}

/// The config file's shape; every field optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub otlp_grpc_listen: Option<String>,
    pub otlp_promote_resource_attributes: Option<Vec<String>>,
    pub otlp_metric_suffixes: Option<bool>,
    pub flush_interval_secs: Option<u64>,
    pub head_max_samples: Option<usize>,
    pub max_body_bytes: Option<usize>,
    pub max_points_per_series: Option<i64>,
    pub max_series: Option<usize>,
    pub max_samples: Option<usize>,
    pub query_timeout_secs: Option<u64>,
    pub promql_delayed_name_removal: Option<bool>,
    pub wal_max_bytes: Option<u64>,
    pub clickhouse_url: Option<String>,
    pub clickhouse_user: Option<String>,
    pub clickhouse_password: Option<String>,
    pub clickhouse_database: Option<String>,
    pub clickhouse_retention_days: Option<u16>,
    pub clickhouse_batch_rows: Option<usize>,
    pub clickhouse_drain_rows_per_sec: Option<u64>,
    pub clickhouse_pushdown: Option<bool>,
    pub control_postgres_url: Option<String>,
    pub token_key_file: Option<PathBuf>,
    pub max_active_series_per_workspace: Option<usize>,
    pub active_series_window_secs: Option<u64>,
    pub max_active_streams_per_workspace: Option<usize>,
    pub head_max_log_bytes: Option<usize>,
    pub head_max_span_bytes: Option<usize>,
    pub max_log_line_bytes: Option<usize>,
    pub log_max_age_secs: Option<u64>,
    pub max_tails_per_workspace: Option<usize>,
    pub tail_max_duration_secs: Option<u64>,
    pub max_exemplars_per_series: Option<usize>,
    pub redact_keys: Option<Vec<String>>,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    pub tls_client_ca_file: Option<PathBuf>,
    pub allow_plain_http: Option<bool>,
}

/// Resolved settings.
#[derive(Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub listen: String,
    /// `None`: no OTLP/gRPC listener.
    pub otlp_grpc_listen: Option<String>,
    pub otlp_promote_resource_attributes: Vec<String>,
    pub otlp_metric_suffixes: bool,
    pub flush_interval_secs: u64,
    pub head_max_samples: usize,
    pub max_body_bytes: usize,
    pub max_points_per_series: i64,
    pub max_series: usize,
    pub max_samples: usize,
    pub query_timeout_secs: u64,
    pub promql_delayed_name_removal: bool,
    pub wal_max_bytes: u64,
    pub clickhouse: Option<sightline_clickhouse::ClickHouseConfig>,
    pub clickhouse_batch_rows: usize,
    pub clickhouse_drain_rows_per_sec: u64,
    pub clickhouse_pushdown: bool,
    pub control_postgres_url: Option<String>,
    pub token_key_file: PathBuf,
    /// `None`: no cap.
    pub max_active_series_per_workspace: Option<usize>,
    pub active_series_window_secs: u64,
    /// `None`: no cap.
    pub max_active_streams_per_workspace: Option<usize>,
    pub head_max_log_bytes: usize,
    pub head_max_span_bytes: usize,
    pub max_log_line_bytes: usize,
    /// `None`: no bound.
    pub log_max_age_secs: Option<u64>,
    pub max_tails_per_workspace: usize,
    pub tail_max_duration_secs: u64,
    pub max_exemplars_per_series: usize,
    pub redact_keys: Vec<String>,
    /// The PEM files to serve TLS with; `None` serves plain HTTP.
    pub tls: Option<sightline_api::tls::TlsFiles>,
    pub allow_plain_http: bool,
}

pub fn load_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
}

impl Settings {
    pub fn resolve(a: ServeArgs) -> anyhow::Result<Settings> {
        let f = match &a.config {
            Some(p) => load_file(p)?,
            None => FileConfig::default(),
        };
        let data_dir = a
            .data_dir
            .or(f.data_dir)
            .unwrap_or_else(|| PathBuf::from("sightline-data"));
        let token_key_file = a.token_key_file.or(f.token_key_file);
        let control_postgres_url = a
            .control_postgres_url
            .or(f.control_postgres_url)
            .filter(|u| !u.is_empty());
        if control_postgres_url.is_some() && token_key_file.is_none() {
            // Each data directory would otherwise make its own key, and a
            // token made through one server would be unknown to the others.
            anyhow::bail!(
                "--control-postgres-url needs --token-key-file: every server sharing the \
                 control plane must use the same token key"
            );
        }
        // An empty path (e.g. `SIGHTLINE_TLS_CERT_FILE=`) unsets the file's value.
        let path = |p: Option<PathBuf>| p.filter(|p| !p.as_os_str().is_empty());
        let tls = match (
            path(a.tls_cert_file.or(f.tls_cert_file)),
            path(a.tls_key_file.or(f.tls_key_file)),
            path(a.tls_client_ca_file.or(f.tls_client_ca_file)),
        ) {
            (Some(cert_file), Some(key_file), client_ca_file) => {
                Some(sightline_api::tls::TlsFiles {
                    cert_file,
                    key_file,
                    client_ca_file,
                })
            }
            (None, None, None) => None,
            (Some(_), None, _) => {
                anyhow::bail!("--tls-cert-file is set but --tls-key-file is not: TLS needs both")
            }
            (None, Some(_), _) => {
                anyhow::bail!("--tls-key-file is set but --tls-cert-file is not: TLS needs both")
            }
            (None, None, Some(_)) => anyhow::bail!(
                "--tls-client-ca-file is set without --tls-cert-file and --tls-key-file: \
                 client certificates are only checked over TLS"
            ),
        };
        Ok(Settings {
            token_key_file: token_key_file.unwrap_or_else(|| data_dir.join("token-key")),
            control_postgres_url,
            max_active_series_per_workspace: match a
                .max_active_series_per_workspace
                .or(f.max_active_series_per_workspace)
                .unwrap_or(1_000_000)
            {
                0 => None,
                n => Some(n),
            },
            active_series_window_secs: a
                .active_series_window_secs
                .or(f.active_series_window_secs)
                .unwrap_or(3600)
                .max(1),
            max_active_streams_per_workspace: match a
                .max_active_streams_per_workspace
                .or(f.max_active_streams_per_workspace)
                .unwrap_or(100_000)
            {
                0 => None,
                n => Some(n),
            },
            head_max_log_bytes: a
                .head_max_log_bytes
                .or(f.head_max_log_bytes)
                .unwrap_or(512 << 20),
            head_max_span_bytes: a
                .head_max_span_bytes
                .or(f.head_max_span_bytes)
                .unwrap_or(512 << 20),
            max_log_line_bytes: a
                .max_log_line_bytes
                .or(f.max_log_line_bytes)
                .unwrap_or(256 << 10),
            log_max_age_secs: match a.log_max_age_secs.or(f.log_max_age_secs).unwrap_or(604_800) {
                0 => None,
                n => Some(n),
            },
            max_tails_per_workspace: a
                .max_tails_per_workspace
                .or(f.max_tails_per_workspace)
                .unwrap_or(sightline_api::TailLimits::default().max_per_workspace),
            tail_max_duration_secs: a
                .tail_max_duration_secs
                .or(f.tail_max_duration_secs)
                .unwrap_or(sightline_api::TailLimits::default().max_duration.as_secs())
                .max(1),
            max_exemplars_per_series: a
                .max_exemplars_per_series
                .or(f.max_exemplars_per_series)
                .unwrap_or(sightline_engine::EngineConfig::default().max_exemplars_per_series),
            redact_keys: a.redact_keys.or(f.redact_keys).unwrap_or_default(),
            data_dir,
            listen: a
                .listen
                .or(f.listen)
                .unwrap_or_else(|| "127.0.0.1:9700".into()),
            otlp_grpc_listen: match a
                .otlp_grpc_listen
                .or(f.otlp_grpc_listen)
                .unwrap_or_else(|| "127.0.0.1:4317".into())
            {
                l if l.is_empty() || l.eq_ignore_ascii_case("off") => None,
                l => Some(l),
            },
            otlp_promote_resource_attributes: a
                .otlp_promote_resource_attributes
                .or(f.otlp_promote_resource_attributes)
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            otlp_metric_suffixes: a
                .otlp_metric_suffixes
                .or(f.otlp_metric_suffixes)
                .unwrap_or(true),
            flush_interval_secs: a
                .flush_interval_secs
                .or(f.flush_interval_secs)
                .unwrap_or(900),
            head_max_samples: a
                .head_max_samples
                .or(f.head_max_samples)
                .unwrap_or(20_000_000),
            max_body_bytes: a.max_body_bytes.or(f.max_body_bytes).unwrap_or(16 << 20),
            max_points_per_series: a
                .max_points_per_series
                .or(f.max_points_per_series)
                .unwrap_or(11_000),
            max_series: a.max_series.or(f.max_series).unwrap_or(500_000),
            max_samples: a.max_samples.or(f.max_samples).unwrap_or(50_000_000),
            query_timeout_secs: a.query_timeout_secs.or(f.query_timeout_secs).unwrap_or(120),
            promql_delayed_name_removal: a
                .promql_delayed_name_removal
                .or(f.promql_delayed_name_removal)
                .unwrap_or(false),
            wal_max_bytes: a.wal_max_bytes.or(f.wal_max_bytes).unwrap_or(8 << 30),
            clickhouse: match a.clickhouse_url.or(f.clickhouse_url) {
                Some(url) if !url.is_empty() => Some(sightline_clickhouse::ClickHouseConfig {
                    url,
                    user: a.clickhouse_user.or(f.clickhouse_user),
                    password: a.clickhouse_password.or(f.clickhouse_password),
                    database: a
                        .clickhouse_database
                        .or(f.clickhouse_database)
                        .unwrap_or_else(|| "sightline".into()),
                    retention_days: a
                        .clickhouse_retention_days
                        .or(f.clickhouse_retention_days)
                        .unwrap_or(30),
                }),
                _ => None,
            },
            clickhouse_batch_rows: a
                .clickhouse_batch_rows
                .or(f.clickhouse_batch_rows)
                .unwrap_or(500_000),
            clickhouse_drain_rows_per_sec: a
                .clickhouse_drain_rows_per_sec
                .or(f.clickhouse_drain_rows_per_sec)
                .unwrap_or(0),
            clickhouse_pushdown: a
                .clickhouse_pushdown
                .or(f.clickhouse_pushdown)
                .unwrap_or(true),
            tls,
            allow_plain_http: a.allow_plain_http.or(f.allow_plain_http).unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "listen = \"127.0.0.1:1\"\nmax_series = 7\npromql_delayed_name_removal = true\n",
        )
        .expect("write");
        let s = Settings::resolve(ServeArgs {
            config: Some(p.clone()),
            listen: Some("127.0.0.1:2".into()),
            ..ServeArgs::default()
        })
        .expect("resolve");
        assert_eq!(s.listen, "127.0.0.1:2");
        assert_eq!(s.max_series, 7);
        assert_eq!(s.max_points_per_series, 11_000);
        assert!(s.promql_delayed_name_removal);
        std::fs::write(&p, "nonsense = 1\n").expect("write");
        assert!(
            Settings::resolve(ServeArgs {
                config: Some(p),
                ..ServeArgs::default()
            })
            .is_err()
        );
    }

    #[test]
    fn tls_settings_flags_beat_file_and_come_in_pairs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "tls_cert_file = \"file.crt\"\ntls_key_file = \"file.key\"\n\
             tls_client_ca_file = \"ca.crt\"\nallow_plain_http = true\n",
        )
        .expect("write");
        let file = |a: ServeArgs| {
            Settings::resolve(ServeArgs {
                config: Some(p.clone()),
                ..a
            })
        };
        let s = file(ServeArgs::default()).expect("resolve");
        assert_eq!(
            s.tls,
            Some(sightline_api::tls::TlsFiles {
                cert_file: "file.crt".into(),
                key_file: "file.key".into(),
                client_ca_file: Some("ca.crt".into()),
            })
        );
        assert!(s.allow_plain_http);

        let s = file(ServeArgs {
            tls_cert_file: Some("flag.crt".into()),
            tls_client_ca_file: Some("".into()),
            allow_plain_http: Some(false),
            ..ServeArgs::default()
        })
        .expect("resolve");
        let tls = s.tls.expect("tls");
        assert_eq!(tls.cert_file, PathBuf::from("flag.crt"));
        assert_eq!(tls.key_file, PathBuf::from("file.key"));
        assert_eq!(tls.client_ca_file, None, "an empty path unsets the file's");
        assert!(!s.allow_plain_http);

        // Unsetting the file's key leaves a certificate without a key.
        let e = file(ServeArgs {
            tls_key_file: Some("".into()),
            ..ServeArgs::default()
        })
        .expect_err("cert without key");
        assert!(e.to_string().contains("--tls-key-file"), "{e}");

        let s = Settings::resolve(ServeArgs::default()).expect("resolve");
        assert_eq!(s.tls, None);
        assert!(!s.allow_plain_http);
        let e = Settings::resolve(ServeArgs {
            tls_key_file: Some("k.pem".into()),
            ..ServeArgs::default()
        })
        .expect_err("key without cert");
        assert!(e.to_string().contains("--tls-cert-file"), "{e}");
        let e = Settings::resolve(ServeArgs {
            tls_client_ca_file: Some("ca.pem".into()),
            ..ServeArgs::default()
        })
        .expect_err("client CA without cert");
        assert!(e.to_string().contains("--tls-client-ca-file"), "{e}");
    }
}
