//! Compiles the wire schemas under proto/sightline into Rust types, with no
//! protoc binary: protox parses the files into descriptors and prost-build
//! generates code from them.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        "sightline/remote_write.proto",
        "sightline/loki_push.proto",
        "sightline/rpc_status.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let descriptors = protox::compile(files, [&root])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
