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

/// `google.rpc.Status` and `google.rpc.RetryInfo`, as gRPC's status
/// details and OTLP/HTTP's error bodies carry them.
pub mod rpc_status {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/sightline.rpc_status.rs"));

    /// The type URL of a `RetryInfo` inside `Status.details`.
    pub const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";
}
