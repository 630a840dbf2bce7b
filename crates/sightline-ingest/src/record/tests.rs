//! The record encodings: round trips, the first format byte for byte,
//! every header byte, truncations.

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
            exemplars: vec![Exemplar {
                labels: Labels::from_pairs([("trace_id", "ab"), ("span_id", "cd")]).expect("valid"),
                value: 0.25,
                t: 2,
            }],
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
    assert_eq!(
        RecordHeader::of(&buf).expect("header").version,
        METRICS_EXEMPLARS_VERSION
    );
    let back = WriteBatch::decode(&buf).expect("decodes");
    assert_eq!(back.tenant, batch.tenant);
    assert_eq!(back.series[0].labels, batch.series[0].labels);
    assert_eq!(back.series[0].exemplars, batch.series[0].exemplars);
    // Without exemplars, the record is the first version's.
    let mut plain = batch.clone();
    plain.series[0].exemplars.clear();
    let mut pbuf = Vec::new();
    plain.encode(&mut pbuf);
    assert_eq!(pbuf[0], 1);
    let pback = WriteBatch::decode(&pbuf).expect("decodes");
    assert!(pback.series[0].exemplars.is_empty());
    assert!(sightline_core::is_stale_nan(back.series[0].samples[1].v));
    assert_eq!(back.metadata, batch.metadata);
    for cut in 0..buf.len() {
        assert!(
            WriteBatch::decode(&buf[..cut]).is_err(),
            "prefix {cut} decoded"
        );
    }
}

/// A record as the first WAL format wrote it, byte by byte: version byte
/// 1, tenant "t", one series `{__name__="up"}` with one sample (t=5,
/// v=2.0), no metadata.
fn first_format_record() -> Vec<u8> {
    let mut b = vec![1u8];
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(b"t");
    b.extend_from_slice(&1u32.to_le_bytes()); // series
    b.extend_from_slice(&1u16.to_le_bytes()); // labels
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(b"__name__");
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(b"up");
    b.extend_from_slice(&1u32.to_le_bytes()); // samples
    b.extend_from_slice(&5i64.to_le_bytes());
    b.extend_from_slice(&2.0f64.to_bits().to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes()); // metadata
    b
}

fn one_sample_batch() -> WriteBatch {
    WriteBatch {
        tenant: TenantId::new("t").expect("valid"),
        series: vec![SeriesRecord {
            labels: Labels::from_pairs([("__name__", "up")]).expect("valid"),
            samples: vec![Sample { t: 5, v: 2.0 }],
            exemplars: Vec::new(),
        }],
        metadata: vec![],
    }
}

#[test]
fn records_of_the_first_format_still_decode_as_metrics() {
    let old = first_format_record();
    assert_eq!(
        RecordHeader::of(&old).expect("header"),
        RecordHeader {
            kind: RecordKind::Metrics,
            version: 1,
        }
    );
    assert_eq!(
        WriteBatch::decode(&old).expect("decodes"),
        one_sample_batch()
    );
}

#[test]
fn the_current_format_round_trips_with_its_header() {
    let batch = one_sample_batch();
    let mut buf = Vec::new();
    batch.encode(&mut buf);
    assert_eq!(
        RecordHeader::of(&buf).expect("header"),
        RecordHeader::current(RecordKind::Metrics)
    );
    assert_eq!(WriteBatch::decode(&buf).expect("decodes"), batch);
    // Metrics records are still written as the first format wrote them.
    assert_eq!(buf, first_format_record());
}

#[test]
fn headers_round_trip_for_every_kind() {
    for kind in [RecordKind::Metrics, RecordKind::Logs, RecordKind::Spans] {
        for version in 1..=15u8 {
            let h = RecordHeader { kind, version };
            assert_eq!(RecordHeader::from_byte(h.to_byte()).expect("known"), h);
        }
    }
}

#[test]
fn unknown_or_reserved_kinds_and_unknown_versions_are_errors() {
    let record = first_format_record();
    let body = &record[1..];
    let with_header = |h: u8| {
        let mut b = vec![h];
        b.extend_from_slice(body);
        b
    };
    // Every header byte: decodes only as metrics version 1 (version 2
    // needs its exemplar section), never panics.
    for h in 0..=u8::MAX {
        let got = WriteBatch::decode(&with_header(h));
        assert_eq!(got.is_ok(), h == 0x01, "header byte {h:#04x}");
    }
    let mut v2 = with_header(0x02);
    v2.extend_from_slice(&0u32.to_le_bytes());
    let got = WriteBatch::decode(&v2).expect("version 2 without exemplars");
    assert!(got.series.iter().all(|s| s.exemplars.is_empty()));
    let msg = |h: u8| match WriteBatch::decode(&with_header(h)) {
        Err(IngestError::BadInput(m)) => m,
        other => panic!("header byte {h:#04x}: {other:?}"),
    };
    assert!(
        msg(0x11).contains("a logs record is not a metrics record"),
        "{}",
        msg(0x11)
    );
    assert!(
        msg(0x21).contains("a spans record is not a metrics record"),
        "{}",
        msg(0x21)
    );
    assert!(msg(0x31).contains("unknown record kind 3"), "{}", msg(0x31));
    assert!(
        msg(0x03).contains("unknown format version 3"),
        "{}",
        msg(0x03)
    );
    assert!(
        msg(0x00).contains("unknown format version 0"),
        "{}",
        msg(0x00)
    );
    assert!(WriteBatch::decode(&[]).is_err());
}

fn log_batch() -> LogBatch {
    let md = Labels::from_pairs([("trace_id", "abc")]).expect("valid");
    LogBatch {
        tenant: TenantId::new("t").expect("valid"),
        streams: vec![
            LogStream {
                labels: Labels::from_pairs([("app", "api"), ("env", "prod")]).expect("valid"),
                entries: vec![
                    LogEntry {
                        ts_ns: 1_700_000_000_123_456_789,
                        line: "GET /health 200".into(),
                        metadata: md,
                    },
                    LogEntry {
                        ts_ns: -5,
                        line: String::new(),
                        metadata: Labels::empty(),
                    },
                ],
            },
            LogStream {
                labels: Labels::from_pairs([("app", "ünïcode")]).expect("valid"),
                entries: vec![LogEntry {
                    ts_ns: 0,
                    line: "line\nwith\0 bytes".into(),
                    metadata: Labels::empty(),
                }],
            },
        ],
    }
}

#[test]
fn log_records_round_trip_and_every_prefix_is_refused() {
    let batch = log_batch();
    let mut buf = Vec::new();
    Record::Logs(batch.clone()).encode(&mut buf);
    assert_eq!(
        RecordHeader::of(&buf).expect("header"),
        RecordHeader::current(RecordKind::Logs)
    );
    assert_eq!(buf[0], 0x11);
    assert_eq!(Record::decode(&buf).expect("decodes"), Record::Logs(batch));
    for cut in 0..buf.len() {
        assert!(Record::decode(&buf[..cut]).is_err(), "prefix {cut} decoded");
    }
    let mut longer = buf.clone();
    longer.push(0);
    assert!(Record::decode(&longer).is_err(), "trailing bytes refused");
    // Each kind's decoder refuses the other's records.
    assert!(WriteBatch::decode(&buf).is_err());
    let mut metrics = Vec::new();
    one_sample_batch().encode(&mut metrics);
    assert!(LogBatch::decode(&metrics).is_err());
    assert_eq!(
        Record::decode(&metrics).expect("decodes"),
        Record::Metrics(one_sample_batch())
    );
    // An unknown version of a logs record is an error, never a guess.
    let mut v2 = buf.clone();
    v2[0] = 0x12;
    assert!(Record::decode(&v2).is_err());
}

#[test]
fn log_sizes_count_lines_and_metadata() {
    let b = log_batch();
    assert_eq!(b.entry_count(), 3);
    assert_eq!(
        b.byte_count(),
        "GET /health 200".len() + "trace_id".len() + "abc".len() + "line\nwith\0 bytes".len()
    );
}
