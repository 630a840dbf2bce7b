//! The admin subcommands against a running server.

use std::process::Command;

use crate::harness::{Server, bin};

#[tokio::test(flavor = "multi_thread")]
async fn tenants_and_tokens_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    // The bootstrap token was printed once and saved with mode 0600.
    let out = std::fs::read_to_string(&srv.stdout_path).expect("stdout");
    assert!(out.contains(&srv.admin), "{out}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("admin-token"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let t = srv.cli(&["tenant", "create", "shop"]);
    assert_eq!(t["id"], "shop");
    let tok = srv.cli(&["token", "create", "--tenant", "shop", "--kind", "ingest"]);
    let secret = tok["secret"].as_str().expect("secret");
    assert!(secret.starts_with("sli_"));
    let list = srv.cli(&["token", "list"]);
    let text = list.to_string();
    assert!(!text.contains(secret), "secrets are never listed");
    assert!(text.contains(tok["id"].as_str().expect("id")));
    let r = srv.cli(&["token", "revoke", tok["id"].as_str().expect("id")]);
    assert_eq!(r["revoked"], true);
    let tenants = srv.cli(&["tenant", "list"]);
    assert_eq!(tenants[0]["id"], "shop");

    // Errors: clear messages and a failing exit status.
    let out = Command::new(bin())
        .args([
            "tenant", "create", "bad/name", "--url", &srv.url, "--token", &srv.admin,
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid tenant id"));
    let out = Command::new(bin())
        .args(["token", "list", "--url", &srv.url, "--token", "sla_wrong"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
}
