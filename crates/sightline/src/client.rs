//! Admin subcommands: thin clients of the admin HTTP API.

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

#[derive(Args, Debug)]
pub struct Conn {
    /// Server URL.
    #[arg(
        long,
        env = "SIGHTLINE_URL",
        default_value = "http://127.0.0.1:9700",
        global = true
    )]
    url: String,
    /// Admin token (default: read from SIGHTLINE_TOKEN).
    #[arg(long, env = "SIGHTLINE_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text", global = true)]
    output: Output,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Output {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum TenantCmd {
    /// Creates a workspace.
    Create {
        name: String,
        /// Daily bytes per signal the workspace may ingest.
        #[arg(long)]
        daily_byte_quota: Option<i64>,
        /// Active series the workspace may hold.
        #[arg(long)]
        max_active_series: Option<i64>,
    },
    /// Lists workspaces.
    List,
}

/// Projects, applications, environments and services of a workspace.
#[derive(Subcommand, Debug)]
pub enum EntityCmd {
    /// Creates one.
    Create {
        name: String,
        #[arg(long, alias = "tenant")]
        workspace: String,
        /// The project (of an application).
        #[arg(long)]
        project: Option<String>,
        /// The application (of an environment or service).
        #[arg(long, alias = "app")]
        application: Option<String>,
        /// The environment (of a service).
        #[arg(long, alias = "env")]
        environment: Option<String>,
        /// Daily bytes per signal (applications only).
        #[arg(long)]
        daily_byte_quota: Option<i64>,
    },
    /// Lists them.
    List {
        #[arg(long, alias = "tenant")]
        workspace: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Creates a token; its secret is printed once.
    Create {
        /// Workspace the token belongs to (none: a server-wide admin or cli token).
        #[arg(long, alias = "tenant")]
        workspace: Option<String>,
        #[arg(long, value_parser = ["ingest", "report", "admin", "cli"])]
        kind: String,
        /// Role of a cli token.
        #[arg(long, value_parser = ["viewer", "operator"])]
        role: Option<String>,
        #[arg(long)]
        project: Option<String>,
        #[arg(long, alias = "app")]
        application: Option<String>,
        #[arg(long, alias = "env")]
        environment: Option<String>,
        /// A service an ingest token may write for (repeat for more; none: any).
        #[arg(long = "service")]
        services: Vec<String>,
        /// Requests per second.
        #[arg(long)]
        rate_limit_per_sec: Option<f64>,
        /// Requests admitted at once [default: the rate, rounded up].
        #[arg(long)]
        rate_burst: Option<u32>,
        /// Daily bytes per signal this token may write.
        #[arg(long)]
        daily_byte_quota: Option<i64>,
        #[arg(long, default_value = "")]
        description: String,
        /// Lifetime in seconds.
        #[arg(long)]
        expires_in_secs: Option<i64>,
    },
    /// Lists tokens (never their secrets).
    List,
    /// Revokes a token by id.
    Revoke { id: String },
}

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// The newest audit events, newest first.
    List {
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

async fn call(
    conn: &Conn,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Option<Value>> {
    let token = conn
        .token
        .as_deref()
        .context("no admin token: pass --token or set SIGHTLINE_TOKEN")?;
    let url = format!("{}{}", conn.url.trim_end_matches('/'), path);
    let mut req = reqwest::Client::new()
        .request(method, &url)
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.with_context(|| format!("calling {url}"))?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        let msg = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or(text);
        bail!("{status}: {msg}");
    }
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        serde_json::from_str(&text).context("decoding the response")?,
    ))
}

fn print(conn: &Conn, v: &Value, text: impl FnOnce(&Value) -> String) {
    match conn.output {
        Output::Json => println!("{v}"),
        Output::Text => println!("{}", text(v)),
    }
}

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

pub async fn tenant(cmd: TenantCmd, conn: Conn) -> anyhow::Result<()> {
    match cmd {
        TenantCmd::Create {
            name,
            daily_byte_quota,
            max_active_series,
        } => {
            let v = call(
                &conn,
                reqwest::Method::POST,
                "/admin/v1/workspaces",
                Some(json!({
                    "name": name, "daily_byte_quota": daily_byte_quota,
                    "max_active_series": max_active_series,
                })),
            )
            .await?
            .unwrap_or(Value::Null);
            print(&conn, &v, |v| format!("created workspace {}", s(v, "id")));
        }
        TenantCmd::List => {
            let v = call(&conn, reqwest::Method::GET, "/admin/v1/workspaces", None)
                .await?
                .unwrap_or(Value::Null);
            print(&conn, &v, |v| {
                v.as_array()
                    .map(|a| a.iter().map(|t| s(t, "id")).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default()
            });
        }
    }
    Ok(())
}

/// `project`, `app`, `env` and `service` subcommands; `collection` is the
/// admin API's path segment.
pub async fn entity(collection: &str, cmd: EntityCmd, conn: Conn) -> anyhow::Result<()> {
    match cmd {
        EntityCmd::Create {
            name,
            workspace,
            project,
            application,
            environment,
            daily_byte_quota,
        } => {
            let v = call(
                &conn,
                reqwest::Method::POST,
                &format!(
                    "/admin/v1/workspaces/{}/{collection}",
                    path_segment(&workspace)
                ),
                Some(json!({
                    "name": name, "project": project, "application": application,
                    "environment": environment, "daily_byte_quota": daily_byte_quota,
                })),
            )
            .await?
            .unwrap_or(Value::Null);
            print(&conn, &v, |v| {
                format!(
                    "created {} {}",
                    collection.trim_end_matches('s'),
                    s(v, "name")
                )
            });
        }
        EntityCmd::List { workspace } => {
            let v = call(
                &conn,
                reqwest::Method::GET,
                &format!(
                    "/admin/v1/workspaces/{}/{collection}",
                    path_segment(&workspace)
                ),
                None,
            )
            .await?
            .unwrap_or(Value::Null);
            print(&conn, &v, |v| {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .map(|e| match s(e, "parent").as_str() {
                                "" | "-" => s(e, "name"),
                                p => format!("{p}/{}", s(e, "name")),
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default()
            });
        }
    }
    Ok(())
}

/// A workspace name as one URL path segment.
fn path_segment(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn audit(cmd: AuditCmd, conn: Conn) -> anyhow::Result<()> {
    let AuditCmd::List { limit } = cmd;
    let v = call(
        &conn,
        reqwest::Method::GET,
        &format!("/admin/v1/audit?limit={limit}"),
        None,
    )
    .await?
    .unwrap_or(Value::Null);
    print(&conn, &v, |v| {
        let mut out = format!(
            "{:<10} {:<16} {:<10} {:<18} {:<16} {:<20} OUTCOME",
            "AT", "TOKEN", "WORKSPACE", "ACTION", "ADDRESS", "TARGET"
        );
        for e in v.as_array().into_iter().flatten() {
            out.push_str(&format!(
                "\n{:<10} {:<16} {:<10} {:<18} {:<16} {:<20} {}",
                s(e, "at"),
                s(e, "token_id"),
                s(e, "workspace"),
                s(e, "action"),
                s(e, "address"),
                s(e, "target"),
                s(e, "outcome")
            ));
        }
        out
    });
    Ok(())
}

pub async fn token(cmd: TokenCmd, conn: Conn) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Create {
            workspace,
            kind,
            role,
            project,
            application,
            environment,
            services,
            rate_limit_per_sec,
            rate_burst,
            daily_byte_quota,
            description,
            expires_in_secs,
        } => {
            let body = json!({
                "workspace": workspace, "kind": kind, "role": role, "project": project,
                "application": application, "environment": environment,
                "allowed_services": services, "rate_limit_per_sec": rate_limit_per_sec,
                "rate_burst": rate_burst, "daily_byte_quota": daily_byte_quota,
                "description": description, "expires_in_secs": expires_in_secs,
            });
            let v = call(&conn, reqwest::Method::POST, "/admin/v1/tokens", Some(body))
                .await?
                .unwrap_or(Value::Null);
            print(&conn, &v, |v| {
                format!(
                    "id:        {}\nkind:      {}\nworkspace: {}\nsecret:    {}\n(the secret is shown only now)",
                    s(v, "id"),
                    s(v, "kind"),
                    s(v, "workspace"),
                    s(v, "secret")
                )
            });
        }
        TokenCmd::List => {
            let v = call(&conn, reqwest::Method::GET, "/admin/v1/tokens", None)
                .await?
                .unwrap_or(Value::Null);
            print(&conn, &v, |v| {
                let mut out = format!("{:<18} {:<7} {:<20} {}", "ID", "KIND", "WORKSPACE", "STATE");
                for t in v.as_array().into_iter().flatten() {
                    let state = if t.get("revoked_at").is_some_and(|r| !r.is_null()) {
                        "revoked"
                    } else {
                        "active"
                    };
                    out.push_str(&format!(
                        "\n{:<18} {:<7} {:<20} {state}",
                        s(t, "id"),
                        s(t, "kind"),
                        s(t, "workspace")
                    ));
                }
                out
            });
        }
        TokenCmd::Revoke { id } => {
            call(
                &conn,
                reqwest::Method::DELETE,
                &format!("/admin/v1/tokens/{id}"),
                None,
            )
            .await?;
            let v = json!({ "id": id, "revoked": true });
            print(&conn, &v, |v| format!("revoked token {}", s(v, "id")));
        }
    }
    Ok(())
}
