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
    /// Creates a tenant.
    Create { name: String },
    /// Lists tenants.
    List,
}

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Creates a token; its secret is printed once.
    Create {
        /// Tenant the token belongs to (not for admin tokens).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, value_parser = ["ingest", "report", "admin"])]
        kind: String,
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
        TenantCmd::Create { name } => {
            let v = call(
                &conn,
                reqwest::Method::POST,
                "/admin/v1/tenants",
                Some(json!({ "name": name })),
            )
            .await?
            .unwrap_or(Value::Null);
            print(&conn, &v, |v| format!("created tenant {}", s(v, "id")));
        }
        TenantCmd::List => {
            let v = call(&conn, reqwest::Method::GET, "/admin/v1/tenants", None)
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

pub async fn token(cmd: TokenCmd, conn: Conn) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Create {
            tenant,
            kind,
            description,
            expires_in_secs,
        } => {
            let body = json!({
                "tenant": tenant, "kind": kind, "description": description,
                "expires_in_secs": expires_in_secs,
            });
            let v = call(&conn, reqwest::Method::POST, "/admin/v1/tokens", Some(body))
                .await?
                .unwrap_or(Value::Null);
            print(&conn, &v, |v| {
                format!(
                    "id:     {}\nkind:   {}\ntenant: {}\nsecret: {}\n(the secret is shown only now)",
                    s(v, "id"),
                    s(v, "kind"),
                    s(v, "tenant"),
                    s(v, "secret")
                )
            });
        }
        TokenCmd::List => {
            let v = call(&conn, reqwest::Method::GET, "/admin/v1/tokens", None)
                .await?
                .unwrap_or(Value::Null);
            print(&conn, &v, |v| {
                let mut out = format!("{:<18} {:<7} {:<20} {}", "ID", "KIND", "TENANT", "STATE");
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
                        s(t, "tenant")
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
