//! Rust types of the wire schemas in `proto/sightline/`, generated at build
//! time (see `build.rs`).

/// Prometheus remote_write 1.0.
pub mod remote_write {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/sightline.remote_write.rs"));
}

/// Loki's push request (`logproto.PushRequest`).
pub mod loki_push {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/sightline.loki_push.rs"));
}
