//! `sightline serve`: opens the data directory and runs the HTTP server.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use sightline_api::{ApiConfig, AppState};
use sightline_control::{Access, ControlPlane, NewToken, TokenKey, TokenKind};
use sightline_engine::{Engine, EngineConfig, QueryLimits};
use sightline_gateway::GatewayConfig;

use crate::config::{ServeArgs, Settings};

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIGHTLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let s = Settings::resolve(args)?;
    // Transport settings are checked before anything is opened.
    let addrs = resolve_listen(&s.listen).await?;
    let grpc_addrs = match &s.otlp_grpc_listen {
        Some(l) => Some(resolve_listen(l).await?),
        None => None,
    };
    let tls = match &s.tls {
        Some(files) => Some(sightline_api::tls::server_config(files)?),
        None => {
            check_plain_http(&s.listen, &addrs, s.allow_plain_http)?;
            if let (Some(l), Some(a)) = (&s.otlp_grpc_listen, &grpc_addrs) {
                check_plain_http(l, a, s.allow_plain_http)?;
            }
            None
        }
    };
    std::fs::create_dir_all(&s.data_dir)
        .with_context(|| format!("creating {}", s.data_dir.display()))?;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("installing the metrics recorder")?;

    let control = open_control(&s).await?;
    control.spawn_epoch_watcher();
    bootstrap_admin(&control, &s).await?;

    let cfg = EngineConfig {
        flush_interval_secs: s.flush_interval_secs,
        head_max_samples: s.head_max_samples,
        head_max_log_bytes: s.head_max_log_bytes,
        head_max_span_bytes: s.head_max_span_bytes,
        limits: QueryLimits {
            timeout_secs: s.query_timeout_secs,
            max_samples: s.max_samples,
            max_points_per_series: s.max_points_per_series,
            max_series: s.max_series,
            ..QueryLimits::default()
        },
        promql_delayed_name_removal: s.promql_delayed_name_removal,
        max_exemplars_per_series: s.max_exemplars_per_series,
        wal_max_bytes: s.wal_max_bytes,
        clickhouse: s.clickhouse.clone(),
        clickhouse_batch_rows: s.clickhouse_batch_rows,
        clickhouse_drain_rows_per_sec: s.clickhouse_drain_rows_per_sec,
        clickhouse_pushdown: s.clickhouse_pushdown,
        ..EngineConfig::default()
    };
    let (engine, stats) = Engine::open(s.data_dir.clone(), cfg).await?;
    tracing::info!(
        segments = stats.segments,
        entries = stats.entries,
        samples = stats.samples,
        truncated_bytes = stats.truncated_bytes,
        "wal replayed"
    );
    tokio::spawn(engine.clone().run_flusher());

    let state = AppState::new(
        engine,
        control,
        Some(metrics),
        ApiConfig {
            max_body_bytes: s.max_body_bytes,
            gateway: GatewayConfig {
                redact_keys: sightline_gateway::policy::sensitive_keys(&s.redact_keys),
                max_active_series: s.max_active_series_per_workspace,
                active_series_window_secs: s.active_series_window_secs,
                max_active_streams: s.max_active_streams_per_workspace,
            },
            push_limits: sightline_api::PushLimits {
                max_line_bytes: s.max_log_line_bytes,
                max_age_ns: s.log_max_age_secs.map(|secs| {
                    i64::try_from(secs.saturating_mul(1_000_000_000)).unwrap_or(i64::MAX)
                }),
                ..Default::default()
            },
            tail: sightline_api::TailLimits {
                max_per_workspace: s.max_tails_per_workspace,
                max_duration: std::time::Duration::from_secs(s.tail_max_duration_secs),
            },
            otlp: sightline_api::OtlpSettings {
                metrics: sightline_api::MetricSettings {
                    suffixes: s.otlp_metric_suffixes,
                    promote_resource_attributes: s.otlp_promote_resource_attributes.clone(),
                    ..Default::default()
                },
                ..Default::default()
            },
            ..ApiConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind(&addrs[..])
        .await
        .with_context(|| format!("listening on {}", s.listen))?;
    let mut grpc_task = None;
    if let (Some(l), Some(a)) = (&s.otlp_grpc_listen, &grpc_addrs) {
        let grpc = tokio::net::TcpListener::bind(&a[..])
            .await
            .with_context(|| format!("listening on {l} (OTLP gRPC)"))?;
        tracing::info!(addr = %grpc.local_addr()?, tls = tls.is_some(), "OTLP gRPC listening");
        let app = sightline_api::otlp_grpc_router(state.clone());
        let tls = tls.clone();
        grpc_task = Some(tokio::spawn(async move {
            if let Err(e) = sightline_api::serve_router(grpc, tls, app, shutdown()).await {
                tracing::error!(error = %e, "the OTLP gRPC listener stopped");
            }
        }));
    }
    tracing::info!(
        addr = %listener.local_addr()?,
        tls = tls.is_some(),
        client_certificates = s.tls.as_ref().is_some_and(|t| t.client_ca_file.is_some()),
        data_dir = %s.data_dir.display(),
        "listening"
    );
    sightline_api::serve(listener, tls, state, shutdown()).await?;
    // Both listeners stop on the same signal; the gRPC one finishes the
    // exports it is answering before the process ends.
    if let Some(t) = grpc_task {
        let _ = t.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// `sightline migrate`: applies the control plane's migrations and, when
/// ClickHouse is configured, ClickHouse's; then exits.
pub async fn migrate(args: ServeArgs) -> anyhow::Result<()> {
    let s = Settings::resolve(args)?;
    std::fs::create_dir_all(&s.data_dir)
        .with_context(|| format!("creating {}", s.data_dir.display()))?;
    open_control(&s).await?;
    match &s.control_postgres_url {
        Some(_) => println!("control plane: PostgreSQL up to date"),
        None => println!(
            "control plane: {} up to date",
            s.data_dir.join("control.db").display()
        ),
    }
    if let Some(c) = &s.clickhouse {
        let ch = sightline_clickhouse::ClickHouse::new(c.clone());
        let n = ch
            .migrate()
            .await
            .with_context(|| format!("migrating clickhouse at {}", c.url))?;
        println!(
            "clickhouse: database {} up to date ({n} migration(s) applied)",
            c.database
        );
    }
    Ok(())
}

/// The control plane: PostgreSQL when configured, else SQLite in the data
/// directory; migrations applied either way.
async fn open_control(s: &Settings) -> anyhow::Result<Arc<ControlPlane>> {
    let key = TokenKey::load_or_create(&s.token_key_file)?;
    Ok(match &s.control_postgres_url {
        Some(url) => ControlPlane::connect_postgres(url, key)
            .await
            .context("connecting to the PostgreSQL control plane")?,
        None => ControlPlane::open_sqlite(&s.data_dir.join("control.db"), key).await?,
    })
}

/// The addresses `listen` (an `ip:port` or `host:port`) stands for.
async fn resolve_listen(listen: &str) -> anyhow::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(listen)
        .await
        .with_context(|| format!("resolving listen address {listen}"))?
        .collect();
    anyhow::ensure!(
        !addrs.is_empty(),
        "listen address {listen} resolves to no address"
    );
    Ok(addrs)
}

/// Plain HTTP carries tokens in clear text, so without TLS the server listens
/// only on loopback unless told otherwise.
fn check_plain_http(listen: &str, addrs: &[SocketAddr], allow: bool) -> anyhow::Result<()> {
    if addrs.iter().all(|a| a.ip().to_canonical().is_loopback()) {
        return Ok(());
    }
    anyhow::ensure!(
        allow,
        "refusing to serve plain HTTP on {listen}, which is not a loopback address: \
         configure TLS with --tls-cert-file and --tls-key-file, or pass --allow-plain-http \
         to serve plain HTTP anyway"
    );
    tracing::warn!(
        listen,
        "serving plain http on a non-loopback address (--allow-plain-http): tokens travel in clear text"
    );
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// On first start (no admin token yet), creates one, prints it once and
/// writes it to `<data-dir>/admin-token` with mode 0600.
async fn bootstrap_admin(control: &ControlPlane, s: &Settings) -> anyhow::Result<()> {
    if control.has_admin_token().await? {
        return Ok(());
    }
    let (info, secret) = control
        .create_token(
            &Access::All,
            NewToken {
                kind: Some(TokenKind::Admin),
                description: "bootstrap".into(),
                ..NewToken::default()
            },
        )
        .await?;
    let path = s.data_dir.join("admin-token");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(f, "{secret}")?;
    }
    println!(
        "bootstrap admin token (shown once; also in {}): {secret}",
        path.display()
    );
    tracing::info!(token = %info.id, "bootstrap admin token created");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn plain_http_only_on_loopback() {
        for listen in [
            "127.0.0.1:0",
            "127.3.2.1:0",
            "[::1]:0",
            "[::ffff:127.0.0.1]:0",
            "localhost:0",
        ] {
            let addrs = resolve_listen(listen).await.expect("resolve");
            check_plain_http(listen, &addrs, false).expect(listen);
        }
        for listen in ["0.0.0.0:0", "[::]:0", "192.0.2.1:0"] {
            let addrs = resolve_listen(listen).await.expect("resolve");
            let e = check_plain_http(listen, &addrs, false).expect_err(listen);
            assert!(e.to_string().contains("--allow-plain-http"), "{e}");
            check_plain_http(listen, &addrs, true).expect(listen);
        }
        assert!(resolve_listen("127.0.0.1").await.is_err(), "no port");
    }
}
