//! The decoded form of a write, and its compact binary encoding in the WAL.

use bytes::{Buf, BufMut};
use sightline_core::{Label, Labels, Sample, TenantId};

use crate::IngestError;
use crate::head::MetricMetadata;

/// One series and its new samples.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRecord {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

/// Everything one request writes, for one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteBatch {
    pub tenant: TenantId,
    pub series: Vec<SeriesRecord>,
    pub metadata: Vec<MetricMetadata>,
}

impl WriteBatch {
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// Encodes the batch as a WAL payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(1); // format version
        put_str16(out, self.tenant.as_str());
        out.put_u32_le(self.series.len() as u32);
        for s in &self.series {
            out.put_u16_le(s.labels.len() as u16);
            for l in s.labels.iter() {
                put_str16(out, &l.name);
                put_str32(out, &l.value);
            }
            out.put_u32_le(s.samples.len() as u32);
            for x in &s.samples {
                out.put_i64_le(x.t);
                out.put_u64_le(x.v.to_bits());
            }
        }
        out.put_u32_le(self.metadata.len() as u32);
        for m in &self.metadata {
            put_str16(out, &m.metric);
            put_str16(out, &m.kind);
            put_str32(out, &m.help);
            put_str16(out, &m.unit);
        }
    }

    /// Decodes a WAL payload written by [`WriteBatch::encode`].
    pub fn decode(mut b: &[u8]) -> Result<WriteBatch, IngestError> {
        let bad = |what: &str| IngestError::BadInput(format!("wal record: {what}"));
        if b.remaining() < 1 || b.get_u8() != 1 {
            return Err(bad("unknown format version"));
        }
        let tenant = TenantId::new(get_str16(&mut b)?).map_err(|e| bad(&e.to_string()))?;
        let n = get_u32(&mut b)? as usize;
        let mut series = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let nl = get_u16(&mut b)? as usize;
            let mut labels = Vec::with_capacity(nl);
            for _ in 0..nl {
                let name = get_str16(&mut b)?;
                let value = get_str32(&mut b)?;
                labels.push(Label { name, value });
            }
            if !labels.windows(2).all(|w| w[0].name < w[1].name) {
                return Err(bad("labels not sorted"));
            }
            let ns = get_u32(&mut b)? as usize;
            if b.remaining() < ns.saturating_mul(16) {
                return Err(bad("truncated samples"));
            }
            let mut samples = Vec::with_capacity(ns);
            for _ in 0..ns {
                let t = b.get_i64_le();
                let v = f64::from_bits(b.get_u64_le());
                samples.push(Sample { t, v });
            }
            series.push(SeriesRecord {
                labels: Labels::from_sorted(labels),
                samples,
            });
        }
        let nm = get_u32(&mut b)? as usize;
        let mut metadata = Vec::with_capacity(nm.min(1 << 12));
        for _ in 0..nm {
            metadata.push(MetricMetadata {
                metric: get_str16(&mut b)?,
                kind: get_str16(&mut b)?,
                help: get_str32(&mut b)?,
                unit: get_str16(&mut b)?,
            });
        }
        Ok(WriteBatch {
            tenant,
            series,
            metadata,
        })
    }
}

fn put_str16(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.put_u16_le(b.len() as u16);
    out.put_slice(b);
}

fn put_str32(out: &mut Vec<u8>, s: &str) {
    out.put_u32_le(s.len() as u32);
    out.put_slice(s.as_bytes());
}

fn get_u16(b: &mut &[u8]) -> Result<u16, IngestError> {
    if b.remaining() < 2 {
        return Err(IngestError::BadInput("wal record: truncated".into()));
    }
    Ok(b.get_u16_le())
}

fn get_u32(b: &mut &[u8]) -> Result<u32, IngestError> {
    if b.remaining() < 4 {
        return Err(IngestError::BadInput("wal record: truncated".into()));
    }
    Ok(b.get_u32_le())
}

fn get_bytes(b: &mut &[u8], n: usize) -> Result<String, IngestError> {
    if b.remaining() < n {
        return Err(IngestError::BadInput("wal record: truncated".into()));
    }
    let s = std::str::from_utf8(&b[..n])
        .map_err(|_| IngestError::BadInput("wal record: invalid utf-8".into()))?
        .to_string();
    b.advance(n);
    Ok(s)
}

fn get_str16(b: &mut &[u8]) -> Result<String, IngestError> {
    let n = get_u16(b)? as usize;
    get_bytes(b, n)
}

fn get_str32(b: &mut &[u8]) -> Result<String, IngestError> {
    let n = get_u32(b)? as usize;
    get_bytes(b, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let batch = WriteBatch {
            tenant: TenantId::new("t1").expect("valid"),
            series: vec![SeriesRecord {
                labels: Labels::from_pairs([("__name__", "up"), ("job", "x")]).expect("valid"),
                samples: vec![
                    Sample { t: 1, v: 1.5 },
                    Sample {
                        t: 2,
                        v: sightline_core::stale_nan(),
                    },
                ],
            }],
            metadata: vec![MetricMetadata {
                metric: "up".into(),
                kind: "gauge".into(),
                help: "h".into(),
                unit: String::new(),
            }],
        };
        let mut buf = Vec::new();
        batch.encode(&mut buf);
        let back = WriteBatch::decode(&buf).expect("decodes");
        assert_eq!(back.tenant, batch.tenant);
        assert_eq!(back.series[0].labels, batch.series[0].labels);
        assert!(sightline_core::is_stale_nan(back.series[0].samples[1].v));
        assert_eq!(back.metadata, batch.metadata);
        for cut in 0..buf.len() {
            assert!(
                WriteBatch::decode(&buf[..cut]).is_err(),
                "prefix {cut} decoded"
            );
        }
    }
}
