//! Architecture invariants checked over the lock file and the workspace's
//! manifests: the pure crates never pull in async runtimes, storage clients
//! or HTTP, directly or not.
//!
//! The graph is read from `Cargo.lock` and each member's `Cargo.toml`, not
//! from `cargo metadata`, so the answer does not depend on which packages
//! this machine happens to have downloaded (`cargo metadata --offline`
//! needs every package of every platform). `Cargo.lock` does not say which
//! edges are build-time or for another platform, so a registry package's
//! edges are all followed: the check can only be stricter than the real
//! graph, never looser.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use toml::Value;

const PURE: &[&str] = &[
    "sightline-core",
    "sightline-promql",
    "sightline-logql",
    "sightline-traceql",
    "sightline-logeval",
    "sightline-plan",
    "sightline-sql",
    "sightline-eval",
];
const FORBIDDEN: &[&str] = &[
    "tokio",
    "sqlx",
    "axum",
    "tonic",
    "hyper",
    "reqwest",
    "datafusion",
    "object_store",
    "clickhouse",
    "parquet",
];

fn root() -> PathBuf {
    manifest_dir().join("../..")
}

fn read_toml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Names of the packages each lock-file package depends on (every kind,
/// every platform), by name; several versions of one name are merged.
fn lock_edges() -> HashMap<String, BTreeSet<String>> {
    let lock = read_toml(&root().join("Cargo.lock"));
    let mut edges: HashMap<String, BTreeSet<String>> = HashMap::new();
    for p in lock["package"].as_array().expect("packages") {
        let name = p["name"].as_str().expect("name").to_string();
        let deps = edges.entry(name).or_default();
        for d in p
            .get("dependencies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // "name", "name version" or "name version (source)".
            let d = d.as_str().expect("dependency");
            deps.insert(d.split(' ').next().expect("name").to_string());
        }
    }
    edges
}

/// The normal (not dev, not build) dependencies a workspace member's
/// manifest declares, under their package names.
fn member_normal_deps(crate_dir: &str) -> BTreeSet<String> {
    let manifest = read_toml(&root().join("crates").join(crate_dir).join("Cargo.toml"));
    let mut out = BTreeSet::new();
    let mut take = |table: Option<&Value>| {
        for (key, spec) in table.and_then(Value::as_table).into_iter().flatten() {
            let name = spec.get("package").and_then(Value::as_str).unwrap_or(key);
            out.insert(name.to_string());
        }
    };
    take(manifest.get("dependencies"));
    for (_, t) in manifest
        .get("target")
        .and_then(Value::as_table)
        .into_iter()
        .flatten()
    {
        take(t.get("dependencies"));
    }
    out
}

#[test]
fn crate_graph() {
    let edges = lock_edges();
    let members: BTreeSet<String> = std::fs::read_dir(root().join("crates"))
        .expect("crates/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for pure in PURE {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = member_normal_deps(pure).into_iter().collect();
        while let Some(name) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if members.contains(&name) {
                // A workspace member: only its normal dependencies count.
                stack.extend(member_normal_deps(&name));
            } else {
                stack.extend(edges.get(&name).into_iter().flatten().cloned());
            }
        }
        let bad: Vec<&String> = seen
            .iter()
            .filter(|n| FORBIDDEN.contains(&n.as_str()))
            .collect();
        assert!(bad.is_empty(), "{pure} depends on {bad:?}");
    }
}

/// The check above would pass on an empty graph: make sure it sees one,
/// and that it would catch a forbidden crate.
#[test]
fn crate_graph_reaches_the_lock_file() {
    let edges = lock_edges();
    assert!(edges.contains_key("tokio") && edges.contains_key("regex"));
    assert!(member_normal_deps("sightline-eval").contains("sightline-promql"));
    assert!(member_normal_deps("sightline-engine").contains("tokio"));
}

/// This crate's directory in the checkout under test: cargo sets it when it
/// runs tests (a build shared between checkouts bakes in another one).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
