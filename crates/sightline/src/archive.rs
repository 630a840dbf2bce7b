//! `sightline archive`: operators' commands over an archive directory,
//! no server needed. They open the archive read-only and, given a
//! workspace, read only that workspace's prefix.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use sightline_archive::{Archive, DayListing, Report};
use sightline_core::TenantId;

#[derive(Subcommand, Debug)]
pub enum ArchiveCmd {
    /// Lists workspaces, signals, days and files, from the manifests.
    Ls(Target),
    /// Checks every listed file's size and SHA-256 against its manifest,
    /// and reports files no manifest lists; exits 1 on any problem.
    Verify(Target),
}

#[derive(Args, Debug)]
pub struct Target {
    /// The archive directory (a server's `<data-dir>/archive`).
    #[arg(long)]
    archive: PathBuf,
    /// Only this workspace (its prefix alone is read).
    #[arg(long)]
    workspace: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Output {
    Text,
    Json,
}

fn open(t: &Target) -> anyhow::Result<(Archive, Option<TenantId>)> {
    let ar = Archive::at_local(&t.archive)
        .with_context(|| format!("opening the archive at {}", t.archive.display()))?;
    let ws = t
        .workspace
        .as_deref()
        .map(TenantId::new)
        .transpose()
        .context("--workspace")?;
    Ok((ar, ws))
}

pub async fn run(cmd: ArchiveCmd) -> anyhow::Result<()> {
    match cmd {
        ArchiveCmd::Ls(t) => {
            let (ar, ws) = open(&t)?;
            let days = ar.listing(ws.as_ref()).await?;
            match t.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&days)?),
                Output::Text => print!("{}", ls_text(&days)),
            }
            Ok(())
        }
        ArchiveCmd::Verify(t) => {
            let (ar, ws) = open(&t)?;
            let report = ar.verify(ws.as_ref()).await?;
            match t.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                Output::Text => print!("{}", verify_text(&report)),
            }
            if !report.problems.is_empty() {
                bail!("{} problem(s) in the archive", report.problems.len());
            }
            Ok(())
        }
    }
}

fn ls_text(days: &[DayListing]) -> String {
    let mut out = String::from("WORKSPACE\tSIGNAL\tDATE\tFILE\tROWS\tBYTES\n");
    for d in days {
        for (name, f) in &d.files {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                d.tenant, d.signal, d.date, name, f.rows, f.bytes
            ));
        }
    }
    let files: usize = days.iter().map(|d| d.files.len()).sum();
    let bytes: u64 = days.iter().flat_map(|d| d.files.values()).map(|f| f.bytes).sum();
    out.push_str(&format!("{files} file(s), {bytes} bytes\n"));
    out
}

fn verify_text(r: &Report) -> String {
    let mut out = String::new();
    for p in &r.problems {
        out.push_str(&format!("{p}\n"));
    }
    out.push_str(&format!(
        "{} listed file(s), {} bytes checked, {} problem(s)\n",
        r.files,
        r.bytes,
        r.problems.len()
    ));
    out
}
