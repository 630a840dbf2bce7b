//! The `sightline` binary: the server (`serve`) and the admin commands that
//! talk to a running server over its admin API.

mod client;
mod config;
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
    /// Manages tenants on a running server.
    Tenant {
        #[command(subcommand)]
        cmd: client::TenantCmd,
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
}

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
            Command::Tenant { cmd, conn } => client::tenant(cmd, conn).await,
            Command::Token { cmd, conn } => client::token(cmd, conn).await,
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
