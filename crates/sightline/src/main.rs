//! The `sightline` binary: the server (`serve`) and the admin commands that
//! talk to a running server over its admin API, and `logs query`, which
//! reads a workspace's logs over the Loki query API, and `archive`, which
//! reads an archive directory without a server.

mod archive;
mod client;
mod config;
mod logs;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sightline",
    version,
    about = "Multi-tenant observability query engine"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve(config::ServeArgs),
    /// Applies schema migrations (control plane, and ClickHouse when
    /// configured), then exits.
    Migrate(config::ServeArgs),
    /// Manages workspaces (tenants) on a running server.
    #[command(alias = "tenant")]
    Workspace {
        #[command(subcommand)]
        cmd: client::TenantCmd,
        #[command(flatten)]
        conn: client::Conn,
    },
    /// Manages a workspace's projects.
    Project {
        #[command(subcommand)]
        cmd: client::EntityCmd,
        #[command(flatten)]
        conn: client::Conn,
    },
    /// Manages a workspace's applications (each in a project).
    #[command(alias = "application")]
    App {
        #[command(subcommand)]
        cmd: client::EntityCmd,
        #[command(flatten)]
        conn: client::Conn,
    },
    /// Manages an application's environments.
    #[command(alias = "environment")]
    Env {
        #[command(subcommand)]
        cmd: client::EntityCmd,
        #[command(flatten)]
        conn: client::Conn,
    },
    /// Manages the services of an application's environment.
    Service {
        #[command(subcommand)]
        cmd: client::EntityCmd,
        #[command(flatten)]
        conn: client::Conn,
    },
    /// Reads the audit log.
    Audit {
        #[command(subcommand)]
        cmd: client::AuditCmd,
        #[command(flatten)]
        conn: client::Conn,
    },
    /// Manages tokens on a running server.
    Token {
        #[command(subcommand)]
        cmd: client::TokenCmd,
        #[command(flatten)]
        conn: client::Conn,
    },
    /// Queries a workspace's logs with LogQL (as Loki's logcli does).
    Logs {
        #[command(subcommand)]
        cmd: logs::LogsCmd,
    },
    /// Reads an archive directory directly, no server needed: its listing
    /// and its integrity.
    Archive {
        #[command(subcommand)]
        cmd: archive::ArchiveCmd,
    },
}

/// Ingest allocates and frees many small buffers per record on every
/// worker thread; mimalloc serves them from thread-local pages, where the
/// system allocator spent a fifth of the OTLP ingest profile
/// (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let res = rt.block_on(async {
        match cli.cmd {
            Command::Serve(args) => serve::run(args).await,
            Command::Migrate(args) => serve::migrate(args).await,
            Command::Workspace { cmd, conn } => client::tenant(cmd, conn).await,
            Command::Project { cmd, conn } => client::entity("projects", cmd, conn).await,
            Command::App { cmd, conn } => client::entity("applications", cmd, conn).await,
            Command::Env { cmd, conn } => client::entity("environments", cmd, conn).await,
            Command::Service { cmd, conn } => client::entity("services", cmd, conn).await,
            Command::Audit { cmd, conn } => client::audit(cmd, conn).await,
            Command::Token { cmd, conn } => client::token(cmd, conn).await,
            Command::Logs { cmd } => logs::run(cmd).await,
            Command::Archive { cmd } => archive::run(cmd).await,
        }
    });
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
