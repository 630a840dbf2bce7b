//! Prometheus remote_write 1.0: the protobuf messages and their decoding.
//!
//! The messages are declared in `proto/sightline/remote_write.proto` (field
//! numbers as in Prometheus's `prompb/remote.proto` and `types.proto`) and
//! compiled by the build script; fields Sightline does not keep (native
//! histograms) are not declared, so prost skips them while decoding.

use prost::Message;
use sightline_core::{
    EXEMPLAR_MAX_LABEL_RUNES, Exemplar, Label, Labels, Sample, TenantId, is_valid_label_name,
};

use crate::IngestError;
use crate::head::MetricMetadata;
use crate::record::{SeriesRecord, WriteBatch};

pub use crate::proto::remote_write::{
    Exemplar as ExemplarProto, Label as LabelProto, MetricMetadata as MetricMetadataProto,
    Sample as SampleProto, TimeSeries, WriteRequest,
};

fn metric_type_name(t: i32) -> &'static str {
    match t {
        1 => "counter",
        2 => "gauge",
        3 => "histogram",
        4 => "gaugehistogram",
        5 => "summary",
        6 => "info",
        7 => "stateset",
        _ => "unknown",
    }
}

/// Limits applied while decoding one request.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Largest decompressed protobuf accepted, in bytes.
    pub max_decompressed_bytes: usize,
    /// Most labels on one series.
    pub max_labels_per_series: usize,
    /// Longest label name or value, in bytes.
    pub max_label_bytes: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_decompressed_bytes: 64 << 20,
            max_labels_per_series: 128,
            max_label_bytes: 16 << 10,
        }
    }
}

/// A series' exemplars as Prometheus accepts them: label names valid, the
/// label set at most [`EXEMPLAR_MAX_LABEL_RUNES`] characters of names and
/// values, in time order. The others are dropped and counted (Prometheus
/// too writes the samples of a request whose exemplars it refuses).
pub fn exemplars(xs: Vec<ExemplarProto>) -> Vec<Exemplar> {
    let mut out = Vec::with_capacity(xs.len());
    let mut invalid = 0u64;
    for x in xs {
        let runes: usize = x
            .labels
            .iter()
            .map(|l| l.name.chars().count() + l.value.chars().count())
            .sum();
        let pairs = x
            .labels
            .iter()
            .filter(|l| !l.value.is_empty())
            .map(|l| (l.name.as_str(), l.value.as_str()));
        match Labels::from_pairs(pairs) {
            Ok(labels)
                if runes <= EXEMPLAR_MAX_LABEL_RUNES
                    && labels.iter().all(|l| is_valid_label_name(&l.name)) =>
            {
                out.push(Exemplar {
                    labels,
                    value: x.value,
                    t: x.timestamp,
                });
            }
            _ => invalid += 1,
        }
    }
    if invalid > 0 {
        metrics::counter!(
            crate::head::exemplars::EXEMPLARS_DROPPED_TOTAL,
            "reason" => "invalid"
        )
        .increment(invalid);
    }
    out.sort_by_key(|e| e.t);
    out
}

/// Decodes a snappy-compressed remote_write body for `tenant`.
pub fn decode_snappy(
    tenant: &TenantId,
    body: &[u8],
    limits: &DecodeLimits,
) -> Result<WriteBatch, IngestError> {
    let len = snap::raw::decompress_len(body)
        .map_err(|e| IngestError::BadInput(format!("snappy: {e}")))?;
    if len > limits.max_decompressed_bytes {
        return Err(IngestError::TooLarge(format!(
            "decompressed body of {len} bytes exceeds the limit of {} bytes",
            limits.max_decompressed_bytes
        )));
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| IngestError::BadInput(format!("snappy: {e}")))?;
    decode_proto(tenant, &raw, limits)
}

/// Decodes an uncompressed remote_write protobuf for `tenant`.
pub fn decode_proto(
    tenant: &TenantId,
    raw: &[u8],
    limits: &DecodeLimits,
) -> Result<WriteBatch, IngestError> {
    let req =
        WriteRequest::decode(raw).map_err(|e| IngestError::BadInput(format!("protobuf: {e}")))?;
    let mut series = Vec::with_capacity(req.timeseries.len());
    for ts in req.timeseries {
        if ts.samples.is_empty() && ts.exemplars.is_empty() {
            continue;
        }
        if ts.labels.len() > limits.max_labels_per_series {
            return Err(IngestError::BadInput(format!(
                "series has {} labels, more than the limit of {}",
                ts.labels.len(),
                limits.max_labels_per_series
            )));
        }
        let mut labels: Vec<Label> = Vec::with_capacity(ts.labels.len());
        for l in ts.labels {
            if l.name.is_empty() {
                return Err(IngestError::BadInput("empty label name".into()));
            }
            if l.name.len() > limits.max_label_bytes || l.value.len() > limits.max_label_bytes {
                return Err(IngestError::BadInput(format!(
                    "label {:?} is longer than {} bytes",
                    truncate(&l.name),
                    limits.max_label_bytes
                )));
            }
            if l.name.contains('\0') || l.value.contains('\0') {
                return Err(IngestError::BadInput("label contains a NUL byte".into()));
            }
            if !l.value.is_empty() {
                labels.push(Label {
                    name: l.name,
                    value: l.value,
                });
            }
        }
        labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        if let Some(w) = labels.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(IngestError::BadInput(format!(
                "duplicate label name {:?}",
                truncate(&w[0].name)
            )));
        }
        if !labels.iter().any(|l| l.name == sightline_core::METRIC_NAME) {
            return Err(IngestError::BadInput(
                "series without a metric name (__name__)".into(),
            ));
        }
        let mut samples: Vec<Sample> = ts
            .samples
            .into_iter()
            .map(|s| Sample {
                t: s.timestamp,
                v: s.value,
            })
            .collect();
        if !samples.windows(2).all(|w| w[0].t < w[1].t) {
            samples.sort_by_key(|s| s.t);
            samples.dedup_by_key(|s| s.t);
        }
        let exemplars = exemplars(ts.exemplars);
        series.push(SeriesRecord {
            labels: Labels::from_sorted(labels),
            samples,
            exemplars,
        });
    }
    if let Some(m) = req.metadata.iter().find(|m| {
        m.metric_family_name.len() > limits.max_label_bytes
            || m.help.len() > limits.max_label_bytes
            || m.unit.len() > limits.max_label_bytes
    }) {
        return Err(IngestError::BadInput(format!(
            "metadata of {:?} has a field longer than {} bytes",
            truncate(&m.metric_family_name),
            limits.max_label_bytes
        )));
    }
    let metadata = req
        .metadata
        .into_iter()
        .filter(|m| !m.metric_family_name.is_empty())
        .map(|m| MetricMetadata {
            kind: metric_type_name(m.r#type).to_string(),
            metric: m.metric_family_name,
            help: m.help,
            unit: m.unit,
        })
        .collect();
    Ok(WriteBatch {
        tenant: tenant.clone(),
        series,
        metadata,
    })
}

fn truncate(s: &str) -> &str {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Encodes a request (used by tests and the bench sender).
pub fn encode_snappy(req: &WriteRequest) -> Vec<u8> {
    let raw = req.encode_to_vec();
    // Compressing an in-memory buffer cannot fail except for inputs over
    // 4 GiB, which callers never build.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantId {
        TenantId::new("a").expect("valid")
    }

    fn req(labels: &[(&str, &str)]) -> WriteRequest {
        WriteRequest {
            timeseries: vec![TimeSeries {
                labels: labels
                    .iter()
                    .map(|(n, v)| LabelProto {
                        name: n.to_string(),
                        value: v.to_string(),
                    })
                    .collect(),
                samples: vec![SampleProto {
                    value: 1.0,
                    timestamp: 10,
                }],
                exemplars: Vec::new(),
            }],
            metadata: vec![],
        }
    }

    #[test]
    fn decodes_and_sorts_labels() {
        let body = encode_snappy(&req(&[("job", "x"), ("__name__", "up")]));
        let b = decode_snappy(&tenant(), &body, &DecodeLimits::default()).expect("ok");
        assert_eq!(
            b.series[0].labels.to_string(),
            r#"{__name__="up", job="x"}"#
        );
        assert_eq!(b.tenant, tenant());
    }

    #[test]
    fn refuses_garbage_duplicates_and_nameless_series() {
        let l = DecodeLimits::default();
        assert!(matches!(
            decode_snappy(&tenant(), b"not snappy", &l),
            Err(IngestError::BadInput(_))
        ));
        let junk = snap::raw::Encoder::new()
            .compress_vec(&[0xff; 20])
            .expect("compress");
        assert!(matches!(
            decode_snappy(&tenant(), &junk, &l),
            Err(IngestError::BadInput(_))
        ));
        let dup = encode_snappy(&req(&[("__name__", "up"), ("a", "1"), ("a", "2")]));
        assert!(matches!(
            decode_snappy(&tenant(), &dup, &l),
            Err(IngestError::BadInput(_))
        ));
        let nameless = encode_snappy(&req(&[("a", "1")]));
        assert!(matches!(
            decode_snappy(&tenant(), &nameless, &l),
            Err(IngestError::BadInput(_))
        ));
    }

    #[test]
    fn refuses_oversized_decompression() {
        let body = encode_snappy(&req(&[("__name__", "up")]));
        let l = DecodeLimits {
            max_decompressed_bytes: 4,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            decode_snappy(&tenant(), &body, &l),
            Err(IngestError::TooLarge(_))
        ));
    }
}
