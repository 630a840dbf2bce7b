//! End-to-end tests: the real `sightline` binary as a process, spoken to over
//! HTTP, with Debian's Prometheus as sender and reference where needed.

mod archive_cli;
mod bad_input;
mod cli;
mod clickhouse;
mod crash;
mod exemplars;
mod grafana_api;
mod harness;
mod isolation;
mod logql_semantics;
mod logs_cli;
mod loki;
mod loki_tail;
mod oracle;
mod otlp;
mod otlp_refusals;
mod random_isolation;
mod security;
mod tls;
mod traces;
