//! The decoded form of a write, and its compact binary encoding in the WAL.
//!
//! Every record starts with one header byte: the record's kind in the high
//! four bits and the version of that kind's encoding in the low four. The
//! first records were written with the byte `1` and nothing else to tell
//! them apart; that byte reads as kind 0 (metrics), version 1, so those WAL
//! files replay unchanged and a metrics record is still encoded byte for
//! byte as it always was.

use bytes::{Buf, BufMut};
use sightline_core::span::StoredSpan;
use sightline_core::{Exemplar, Label, Labels, LogEntry, LogStream, Sample, TenantId};

use crate::IngestError;
use crate::head::MetricMetadata;

/// What a WAL record holds: the high four bits of its header byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// A [`WriteBatch`] of series, samples and metric metadata.
    Metrics,
    /// A [`LogBatch`] of streams and their entries.
    Logs,
    /// A [`SpanBatch`] of spans.
    Spans,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Metrics => "metrics",
            RecordKind::Logs => "logs",
            RecordKind::Spans => "spans",
        }
    }

    fn code(self) -> u8 {
        match self {
            RecordKind::Metrics => 0,
            RecordKind::Logs => 1,
            RecordKind::Spans => 2,
        }
    }

    fn from_code(code: u8) -> Option<RecordKind> {
        match code {
            0 => Some(RecordKind::Metrics),
            1 => Some(RecordKind::Logs),
            2 => Some(RecordKind::Spans),
            _ => None,
        }
    }

    /// The version of this kind's encoding written now.
    pub fn current_version(self) -> u8 {
        match self {
            RecordKind::Metrics => METRICS_VERSION,
            RecordKind::Logs => LOGS_VERSION,
            RecordKind::Spans => SPANS_VERSION,
        }
    }
}

/// The encoding version of metrics records without exemplars (written
/// byte for byte as it always was).
pub const METRICS_VERSION: u8 = 1;

/// The encoding of metrics records with exemplars: version 1 followed by
/// each series' exemplars.
pub const METRICS_EXEMPLARS_VERSION: u8 = 2;

/// The encoding version of log records (the only one there has been).
pub const LOGS_VERSION: u8 = 1;

/// The encoding version of span records (the only one there has been).
pub const SPANS_VERSION: u8 = 1;

/// The first byte of every WAL record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub kind: RecordKind,
    /// 1 to 15.
    pub version: u8,
}

impl RecordHeader {
    /// The header of a record of `kind` in its current encoding.
    pub fn current(kind: RecordKind) -> RecordHeader {
        RecordHeader {
            kind,
            version: kind.current_version(),
        }
    }

    pub fn to_byte(self) -> u8 {
        (self.kind.code() << 4) | (self.version & 0x0f)
    }

    /// Reads a header byte; an unknown kind or version 0 is an error.
    pub fn from_byte(b: u8) -> Result<RecordHeader, IngestError> {
        let kind = RecordKind::from_code(b >> 4).ok_or_else(|| {
            IngestError::BadInput(format!("wal record: unknown record kind {}", b >> 4))
        })?;
        let version = b & 0x0f;
        if version == 0 {
            return Err(IngestError::BadInput(
                "wal record: unknown format version 0".into(),
            ));
        }
        Ok(RecordHeader { kind, version })
    }

    /// The header of an encoded record.
    pub fn of(payload: &[u8]) -> Result<RecordHeader, IngestError> {
        match payload.first() {
            Some(&b) => RecordHeader::from_byte(b),
            None => Err(IngestError::BadInput("wal record: empty".into())),
        }
    }
}

/// One series and its new samples.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRecord {
    pub labels: Labels,
    pub samples: Vec<Sample>,
    /// Exemplars sent with the samples (kept apart from them, bounded per
    /// series: `head::exemplars`).
    pub exemplars: Vec<Exemplar>,
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

    pub fn exemplar_count(&self) -> usize {
        self.series.iter().map(|s| s.exemplars.len()).sum()
    }

    /// Encodes the batch as a WAL payload: a metrics record, of version 2
    /// when it carries exemplars.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let with_exemplars = self.series.iter().any(|s| !s.exemplars.is_empty());
        let header = RecordHeader {
            kind: RecordKind::Metrics,
            version: if with_exemplars {
                METRICS_EXEMPLARS_VERSION
            } else {
                METRICS_VERSION
            },
        };
        out.put_u8(header.to_byte());
        put_str16(out, self.tenant.as_str());
        out.put_u32_le(self.series.len() as u32);
        for s in &self.series {
            put_labels(out, &s.labels);
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
        if with_exemplars {
            let with: Vec<(usize, &SeriesRecord)> = self
                .series
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.exemplars.is_empty())
                .collect();
            out.put_u32_le(with.len() as u32);
            for (i, s) in with {
                out.put_u32_le(i as u32);
                out.put_u32_le(s.exemplars.len() as u32);
                for e in &s.exemplars {
                    put_labels(out, &e.labels);
                    out.put_i64_le(e.t);
                    out.put_u64_le(e.value.to_bits());
                }
            }
        }
    }

    /// Decodes a WAL payload written by [`WriteBatch::encode`] (any
    /// version); a record of another kind is an error.
    pub fn decode(mut b: &[u8]) -> Result<WriteBatch, IngestError> {
        let bad = |what: &str| IngestError::BadInput(format!("wal record: {what}"));
        let header = RecordHeader::of(b)?;
        b.advance(1);
        match header.kind {
            RecordKind::Metrics
                if header.version == METRICS_VERSION
                    || header.version == METRICS_EXEMPLARS_VERSION => {}
            RecordKind::Metrics => {
                return Err(bad(&format!(
                    "unknown format version {} of a metrics record",
                    header.version
                )));
            }
            RecordKind::Logs | RecordKind::Spans => {
                return Err(bad(&format!(
                    "a {} record is not a metrics record",
                    header.kind.as_str()
                )));
            }
        }
        let tenant = TenantId::new(get_str16(&mut b)?).map_err(|e| bad(&e.to_string()))?;
        let n = get_u32(&mut b)? as usize;
        let mut series = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let labels = get_labels(&mut b)?;
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
                labels,
                samples,
                exemplars: Vec::new(),
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
        if header.version == METRICS_EXEMPLARS_VERSION {
            let n = get_u32(&mut b)? as usize;
            for _ in 0..n {
                let i = get_u32(&mut b)? as usize;
                let ne = get_u32(&mut b)? as usize;
                let s = series
                    .get_mut(i)
                    .ok_or_else(|| bad("exemplars of a series the record lacks"))?;
                s.exemplars.reserve(ne.min(1 << 10));
                for _ in 0..ne {
                    let labels = get_labels(&mut b)?;
                    if b.remaining() < 16 {
                        return Err(bad("truncated exemplar"));
                    }
                    let t = b.get_i64_le();
                    let value = f64::from_bits(b.get_u64_le());
                    s.exemplars.push(Exemplar { labels, value, t });
                }
            }
        }
        Ok(WriteBatch {
            tenant,
            series,
            metadata,
        })
    }
}

/// Everything one log push writes, for one tenant: streams (labels sorted
/// and validated) and their entries.
#[derive(Debug, Clone, PartialEq)]
pub struct LogBatch {
    pub tenant: TenantId,
    pub streams: Vec<LogStream>,
}

impl LogBatch {
    pub fn entry_count(&self) -> usize {
        self.streams.iter().map(|s| s.entries.len()).sum()
    }

    /// Bytes of lines and structured metadata (what quotas charge).
    pub fn byte_count(&self) -> usize {
        self.streams
            .iter()
            .flat_map(|s| &s.entries)
            .map(LogEntry::size)
            .sum()
    }

    /// Encodes the batch as a WAL payload: a logs record.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(RecordHeader::current(RecordKind::Logs).to_byte());
        put_str16(out, self.tenant.as_str());
        out.put_u32_le(self.streams.len() as u32);
        for s in &self.streams {
            put_labels(out, &s.labels);
            out.put_u32_le(s.entries.len() as u32);
            for e in &s.entries {
                out.put_i64_le(e.ts_ns);
                put_str32(out, &e.line);
                put_labels(out, &e.metadata);
            }
        }
    }

    /// Decodes a WAL payload written by [`LogBatch::encode`]; a record of
    /// another kind or an unknown version is an error.
    pub fn decode(mut b: &[u8]) -> Result<LogBatch, IngestError> {
        let bad = |what: &str| IngestError::BadInput(format!("wal record: {what}"));
        let header = RecordHeader::of(b)?;
        b.advance(1);
        if header.kind != RecordKind::Logs {
            return Err(bad(&format!(
                "a {} record is not a logs record",
                header.kind.as_str()
            )));
        }
        if header.version != LOGS_VERSION {
            return Err(bad(&format!(
                "unknown format version {} of a logs record",
                header.version
            )));
        }
        let tenant = TenantId::new(get_str16(&mut b)?).map_err(|e| bad(&e.to_string()))?;
        let n = get_u32(&mut b)? as usize;
        let mut streams = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let labels = get_labels(&mut b)?;
            let ne = get_u32(&mut b)? as usize;
            let mut entries = Vec::with_capacity(ne.min(1 << 16));
            for _ in 0..ne {
                if b.remaining() < 8 {
                    return Err(bad("truncated"));
                }
                let ts_ns = b.get_i64_le();
                let line = get_str32(&mut b)?;
                let metadata = get_labels(&mut b)?;
                entries.push(LogEntry {
                    ts_ns,
                    line,
                    metadata,
                });
            }
            streams.push(LogStream { labels, entries });
        }
        if b.has_remaining() {
            return Err(bad("trailing bytes"));
        }
        Ok(LogBatch { tenant, streams })
    }
}

/// Spans of one request, for one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanBatch {
    pub tenant: TenantId,
    pub spans: Vec<StoredSpan>,
}

impl SpanBatch {
    /// Bytes the batch costs a quota: the spans' encoded form.
    pub fn byte_count(&self) -> usize {
        self.spans.iter().map(StoredSpan::size).sum()
    }

    /// Encodes the batch as a WAL payload: a spans record, each span by
    /// its OTLP form alone (its fields are derived again on replay).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(RecordHeader::current(RecordKind::Spans).to_byte());
        put_str16(out, self.tenant.as_str());
        out.put_u32_le(self.spans.len() as u32);
        for s in &self.spans {
            out.put_u32_le(s.otlp.len() as u32);
            out.put_slice(&s.otlp);
        }
    }

    /// Decodes a WAL payload written by [`SpanBatch::encode`].
    pub fn decode(mut b: &[u8]) -> Result<SpanBatch, IngestError> {
        let bad = |what: &str| IngestError::BadInput(format!("wal record: {what}"));
        let header = RecordHeader::of(b)?;
        b.advance(1);
        if header.kind != RecordKind::Spans {
            return Err(bad(&format!(
                "a {} record is not a spans record",
                header.kind.as_str()
            )));
        }
        if header.version != SPANS_VERSION {
            return Err(bad(&format!(
                "unknown format version {} of a spans record",
                header.version
            )));
        }
        let tenant = TenantId::new(get_str16(&mut b)?).map_err(|e| bad(&e.to_string()))?;
        let n = get_u32(&mut b)? as usize;
        let mut spans = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let len = get_u32(&mut b)? as usize;
            if b.remaining() < len {
                return Err(bad("truncated"));
            }
            // A span acknowledged once is never refused on replay by a
            // later, stricter reading of it: one that no longer reads is
            // skipped alone, and said.
            match crate::otlp::traces::stored_span(b[..len].to_vec()) {
                Ok(s) => spans.push(s),
                Err(e) => tracing::error!(error = %e, "unreadable span in a wal record skipped"),
            }
            b.advance(len);
        }
        if b.has_remaining() {
            return Err(bad("trailing bytes"));
        }
        Ok(SpanBatch { tenant, spans })
    }
}

/// One decoded WAL record, of whichever kind its header names.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Metrics(WriteBatch),
    Logs(LogBatch),
    Spans(SpanBatch),
}

impl Record {
    /// Decodes a WAL payload by the kind in its header.
    pub fn decode(payload: &[u8]) -> Result<Record, IngestError> {
        match RecordHeader::of(payload)?.kind {
            RecordKind::Metrics => WriteBatch::decode(payload).map(Record::Metrics),
            RecordKind::Logs => LogBatch::decode(payload).map(Record::Logs),
            RecordKind::Spans => SpanBatch::decode(payload).map(Record::Spans),
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Record::Metrics(b) => b.encode(out),
            Record::Logs(b) => b.encode(out),
            Record::Spans(b) => b.encode(out),
        }
    }

    pub fn tenant(&self) -> &TenantId {
        match self {
            Record::Metrics(b) => &b.tenant,
            Record::Logs(b) => &b.tenant,
            Record::Spans(b) => &b.tenant,
        }
    }

    /// Whether the record writes nothing.
    pub fn is_empty(&self) -> bool {
        match self {
            Record::Metrics(b) => b.series.is_empty() && b.metadata.is_empty(),
            Record::Logs(b) => b.streams.iter().all(|s| s.entries.is_empty()),
            Record::Spans(b) => b.spans.is_empty(),
        }
    }

    /// A guess at the encoded size, to allocate once.
    pub fn size_hint(&self) -> usize {
        match self {
            Record::Metrics(b) => 64 + b.sample_count() * 16,
            Record::Logs(b) => 64 + b.byte_count() + b.entry_count() * 16,
            Record::Spans(b) => 64 + b.byte_count() + b.spans.len() * 4,
        }
    }
}

fn put_labels(out: &mut Vec<u8>, labels: &Labels) {
    out.put_u16_le(labels.len().min(u16::MAX as usize) as u16);
    for l in labels.iter().take(u16::MAX as usize) {
        put_str16(out, &l.name);
        put_str32(out, &l.value);
    }
}

fn get_labels(b: &mut &[u8]) -> Result<Labels, IngestError> {
    let n = get_u16(b)? as usize;
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let name = get_str16(b)?;
        let value = get_str32(b)?;
        labels.push(Label { name, value });
    }
    if !labels.windows(2).all(|w| w[0].name < w[1].name) {
        return Err(IngestError::BadInput(
            "wal record: labels not sorted".into(),
        ));
    }
    Ok(Labels::from_sorted(labels))
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
mod tests;
