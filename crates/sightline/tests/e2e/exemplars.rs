//! Exemplars end to end: sent with remote_write samples and with OTLP
//! histogram and sum points, answered by `/api/v1/query_exemplars` in
//! Prometheus's shape for the sender's workspace only, bounded per series,
//! sensitive labels redacted, and still there after a flush and a restart.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, exemplar, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use serde_json::{Value, json};
use sightline_ingest::remote_write::{ExemplarProto, LabelProto};

use crate::harness::{Server, get, now_ms, push, series, write_body};

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn otlp_exemplar(t_ms: i64, value: f64, trace: u8) -> Exemplar {
    Exemplar {
        filtered_attributes: vec![kv("user.id", "u1")],
        time_unix_nano: (t_ms * 1_000_000) as u64,
        span_id: vec![trace; 8],
        trace_id: vec![trace; 16],
        value: Some(exemplar::Value::AsDouble(value)),
    }
}

/// A latency histogram (bounds 0.1 and 1) with exemplars 0.05 and 0.5,
/// and a request counter with one, for service `api`.
fn otlp_body(t_ms: i64) -> Vec<u8> {
    let t = (t_ms * 1_000_000) as u64;
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "api")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "latency".into(),
                        unit: "s".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                            data_points: vec![HistogramDataPoint {
                                time_unix_nano: t,
                                count: 2,
                                sum: Some(0.55),
                                bucket_counts: vec![1, 1, 0],
                                explicit_bounds: vec![0.1, 1.0],
                                exemplars: vec![
                                    otlp_exemplar(t_ms, 0.05, 0xa1),
                                    otlp_exemplar(t_ms, 0.5, 0xa2),
                                ],
                                ..Default::default()
                            }],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "requests".into(),
                        data: Some(metric::Data::Sum(Sum {
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                            is_monotonic: true,
                            data_points: vec![NumberDataPoint {
                                time_unix_nano: t,
                                value: Some(number_data_point::Value::AsInt(7)),
                                exemplars: vec![otlp_exemplar(t_ms, 7.0, 0xa3)],
                                ..Default::default()
                            }],
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

async fn exemplars(srv: &Server, token: &str, q: &str) -> Value {
    let (st, v) = get(
        &srv.url,
        token,
        &[("query", q), ("start", "0"), ("end", "9999999999")],
        "/api/v1/query_exemplars",
    )
    .await;
    assert_eq!(st, 200, "{q}: {v}");
    assert_eq!(v["status"], "success");
    v["data"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn exemplars_from_remote_write_and_otlp_link_series_to_traces() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = [
        "--max-exemplars-per-series",
        "3",
        "--flush-interval-secs",
        "1",
    ];
    let srv = Server::start(dir.path(), &args);
    let a = srv.tenant("alpha");
    let b = srv.tenant("beta");
    let t = now_ms() - 60_000;

    // remote_write: five exemplars on one series (three are kept, the
    // oldest dropped), one with a sensitive label.
    let mut ts = series(&[("__name__", "rpc_seconds"), ("job", "api")], &[(t, 1.0)]);
    ts.exemplars = (0..5)
        .map(|i| ExemplarProto {
            labels: vec![
                LabelProto {
                    name: "trace_id".into(),
                    value: format!("{i:032x}"),
                },
                LabelProto {
                    name: "auth_token".into(),
                    value: "s3cret".into(),
                },
            ],
            value: 0.25 * f64::from(i),
            timestamp: t + i64::from(i) * 1000,
        })
        .collect();
    assert_eq!(
        push(&srv.url, &a.ingest, write_body(vec![ts.clone()])).await,
        204
    );
    // The same series in b, with its own exemplar.
    let mut tb = series(&[("__name__", "rpc_seconds"), ("job", "api")], &[(t, 9.0)]);
    tb.exemplars = vec![ExemplarProto {
        labels: vec![LabelProto {
            name: "trace_id".into(),
            value: "b".repeat(32),
        }],
        value: 9.0,
        timestamp: t,
    }];
    assert_eq!(push(&srv.url, &b.ingest, write_body(vec![tb])).await, 204);

    let got = exemplars(&srv, &a.report, "rate(rpc_seconds[5m])").await;
    assert_eq!(got.as_array().map(Vec::len), Some(1), "{got}");
    assert_eq!(
        got[0]["seriesLabels"],
        json!({"__name__": "rpc_seconds", "job": "api"})
    );
    let xs = got[0]["exemplars"].as_array().expect("exemplars");
    let ids: Vec<&str> = xs
        .iter()
        .map(|x| x["labels"]["trace_id"].as_str().expect("trace_id"))
        .collect();
    assert_eq!(
        ids,
        [
            format!("{:032x}", 2),
            format!("{:032x}", 3),
            format!("{:032x}", 4)
        ],
        "the newest three"
    );
    assert_eq!(xs[0]["value"], "0.5");
    assert_eq!(xs[0]["labels"]["auth_token"], "[REDACTED]");
    let ts0 = (t + 2000) as f64 / 1000.0;
    assert_eq!(xs[0]["timestamp"].as_f64(), Some(ts0));
    // A window, and b's own exemplar to b only.
    let (st, v) = get(
        &srv.url,
        &a.report,
        &[
            ("query", "rpc_seconds"),
            ("start", &format!("{:.3}", (t + 3500) as f64 / 1000.0)),
            ("end", &format!("{:.3}", (t + 10_000) as f64 / 1000.0)),
        ],
        "/api/v1/query_exemplars",
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["data"][0]["exemplars"].as_array().map(Vec::len), Some(1));
    let gotb = exemplars(&srv, &b.report, r#"{__name__=~".+"}"#).await;
    assert_eq!(
        gotb[0]["exemplars"][0]["labels"]["trace_id"],
        "b".repeat(32)
    );
    assert_eq!(gotb.as_array().map(Vec::len), Some(1), "{gotb}");

    // OTLP: each histogram exemplar on the bucket that holds its value,
    // the counter's on the counter; trace and span ids in hex.
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/metrics", srv.url))
        .bearer_auth(&a.ingest)
        .header("Content-Type", "application/x-protobuf")
        .body(otlp_body(t))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 200);
    let got = exemplars(&srv, &a.report, "latency_seconds_bucket").await;
    let mut by_le: Vec<(String, String, String)> = got
        .as_array()
        .expect("series")
        .iter()
        .flat_map(|s| {
            s["exemplars"]
                .as_array()
                .expect("exemplars")
                .iter()
                .map(|x| {
                    (
                        s["seriesLabels"]["le"].as_str().expect("le").to_string(),
                        x["labels"]["trace_id"].as_str().expect("trace").to_string(),
                        x["value"].as_str().expect("value").to_string(),
                    )
                })
        })
        .collect();
    by_le.sort();
    assert_eq!(
        by_le,
        [
            ("0.1".to_string(), "a1".repeat(16), "0.05".to_string()),
            ("1".to_string(), "a2".repeat(16), "0.5".to_string()),
        ]
    );
    let got = exemplars(&srv, &a.report, "requests_total").await;
    let x = &got[0]["exemplars"][0];
    assert_eq!(x["labels"]["span_id"], "a3".repeat(8));
    assert_eq!(x["labels"]["user_id"], "u1");
    assert_eq!(x["value"], "7");
    assert_eq!(got[0]["seriesLabels"]["job"], "api");
    assert!(
        exemplars(&srv, &b.report, "requests_total")
            .await
            .as_array()
            .expect("list")
            .is_empty()
    );
    // A query without a selector: 204, as Prometheus answers.
    let (st, _) = get(
        &srv.url,
        &a.report,
        &[("query", "1 + 1")],
        "/api/v1/query_exemplars",
    )
    .await;
    assert_eq!(st, 204);

    // Through a flush (which deletes the WAL that held them) and a
    // restart, still there.
    let file = dir
        .path()
        .join("archive/tenant=alpha/signal=metadata/exemplars.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_to_string(&file).is_ok_and(|s| s.contains("a3a3")) {
        assert!(std::time::Instant::now() < deadline, "no exemplars file");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(srv);
    let srv = Server::start(dir.path(), &args);
    let got = exemplars(&srv, &a.report, "rpc_seconds").await;
    assert_eq!(
        got[0]["exemplars"].as_array().map(Vec::len),
        Some(3),
        "{got}"
    );
    let got = exemplars(&srv, &a.report, "requests_total").await;
    assert_eq!(got[0]["exemplars"][0]["labels"]["span_id"], "a3".repeat(8));
}
