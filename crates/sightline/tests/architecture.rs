//! Architecture invariants checked over `cargo metadata`: the pure crates
//! never pull in async runtimes, storage clients or HTTP, directly or not.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use serde_json::Value;

const PURE: &[&str] = &[
    "sightline-core",
    "sightline-promql",
    "sightline-plan",
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

#[test]
fn crate_graph() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id"),
                p["name"].as_str().expect("name"),
            )
        })
        .collect();
    // Normal (non-dev, non-build) edges of the resolved graph.
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("nodes") {
        let id = node["id"].as_str().expect("id");
        for d in node["deps"].as_array().expect("deps") {
            let normal = d["dep_kinds"]
                .as_array()
                .expect("kinds")
                .iter()
                .any(|k| k["kind"].is_null());
            if normal {
                edges
                    .entry(id)
                    .or_default()
                    .push(d["pkg"].as_str().expect("pkg"));
            }
        }
    }
    for pure in PURE {
        let start = names
            .iter()
            .find(|(_, n)| *n == pure)
            .map(|(id, _)| *id)
            .expect("pure crate");
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(id) = stack.pop() {
            if seen.insert(id) {
                stack.extend(edges.get(id).into_iter().flatten());
            }
        }
        let bad: Vec<&str> = seen
            .iter()
            .map(|id| names[id])
            .filter(|n| FORBIDDEN.contains(n))
            .collect();
        assert!(bad.is_empty(), "{pure} depends on {bad:?}");
    }
}
