use super::*;
use crate::proto::loki_push::Timestamp;

const NOW: i64 = 1_700_000_000_000_000_000;

fn tenant() -> TenantId {
    TenantId::new("t").expect("valid")
}

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied()).expect("valid")
}

fn proto_body(streams: Vec<StreamAdapter>) -> Vec<u8> {
    let raw = PushRequest {
        streams,
        format: String::new(),
    }
    .encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .expect("compresses")
}

fn entry(ts_ns: i64, line: &str, md: &[(&str, &str)]) -> EntryAdapter {
    EntryAdapter {
        timestamp: Some(Timestamp {
            seconds: ts_ns.div_euclid(1_000_000_000),
            nanos: ts_ns.rem_euclid(1_000_000_000) as i32,
        }),
        line: line.into(),
        structured_metadata: md
            .iter()
            .map(|(n, v)| LabelPairAdapter {
                name: (*n).into(),
                value: (*v).into(),
            })
            .collect(),
        parsed: vec![],
    }
}

#[test]
fn protobuf_pushes_decode_with_metadata_and_service_name() {
    let body = proto_body(vec![StreamAdapter {
        labels: r#"{env="prod", app="api"}"#.into(),
        entries: vec![
            entry(
                NOW - 5,
                "GET /a 200",
                &[("trace_id", "abc"), ("user.id", "7")],
            ),
            entry(NOW - 4, "GET /b 500", &[]),
        ],
        hash: 42,
    }]);
    let d = decode_protobuf(&tenant(), &body, &PushLimits::default(), NOW).expect("decodes");
    assert!(d.refused.is_empty(), "{:?}", d.refused);
    assert_eq!(d.batch.streams.len(), 1);
    let s = &d.batch.streams[0];
    assert_eq!(
        s.labels,
        l(&[("app", "api"), ("env", "prod"), ("service_name", "api")])
    );
    assert_eq!(s.entries[0].ts_ns, NOW - 5);
    assert_eq!(
        s.entries[0].metadata,
        l(&[("trace_id", "abc"), ("user_id", "7")])
    );
    assert_eq!(s.entries[1].line, "GET /b 500");
}

#[test]
fn json_pushes_decode_as_loki_reads_them() {
    let body = format!(
        r#"{{"streams":[{{"stream":{{"app":"api","env":"prod"}},"values":[["{}","line one"],["{}","line two",{{"trace_id":"abc"}}]]}},
            {{"stream":{{"app":"api","env":"prod"}},"values":[["{}","same stream"]]}}, null]}}"#,
        NOW - 3,
        NOW - 2,
        NOW - 1
    );
    let d = decode_json(&tenant(), body.as_bytes(), &PushLimits::default(), NOW).expect("decodes");
    assert_eq!(d.batch.streams.len(), 1, "one stream per label set");
    let s = &d.batch.streams[0];
    assert_eq!(s.entries.len(), 3);
    assert_eq!(s.entries[1].metadata, l(&[("trace_id", "abc")]));
    assert_eq!(s.entries[2].line, "same stream");
}

#[test]
fn bad_json_is_refused_naming_the_problem() {
    let lim = PushLimits::default();
    let cases = [
        (
            r#"{"streams":[{"stream":{"a":"b"},"values":[[1700000000000000000,"x"]]}]}"#,
            "timestamp must be a string",
        ),
        (
            r#"{"streams":[{"stream":{"a":"b"},"values":[["abc","x"]]}]}"#,
            "not an integer",
        ),
        (
            r#"{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"k":1}]]}]}"#,
            "must be a string",
        ),
        (
            r#"{"streams":[{"stream":{"a":"b"},"values":[["1",5]]}]}"#,
            "the line must be a string",
        ),
        (
            r#"{"streams":[{"stream":{"a":"b"},"values":[["1"]]}]}"#,
            "must hold a timestamp",
        ),
        (
            r#"{"streams":[{"stream":{"service.name":"b"},"values":[["1","x"]]}]}"#,
            "couldn't parse labels",
        ),
        (r#"{"streams":[]}"#, "at least one valid stream"),
        (r#"{"streams":"#, "JSON"),
        (r#"{"streams":{}}"#, "must be an array"),
    ];
    for (body, want) in cases {
        match decode_json(&tenant(), body.as_bytes(), &lim, NOW) {
            Err(IngestError::BadInput(m)) => assert!(m.contains(want), "{body}: {m}"),
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[test]
fn label_strings_parse_as_prometheus_reads_them() {
    let ok = [
        (
            r#"{app="api", env="prod"}"#,
            vec![("app", "api"), ("env", "prod")],
        ),
        (r#"{ b = 'x' , a = `y` , }"#, vec![("a", "y"), ("b", "x")]),
        (r#"{"a.b"="c"}"#, vec![("a.b", "c")]),
        (r#"foo{a="1"}"#, vec![("__name__", "foo"), ("a", "1")]),
        (r#"{a="", b="\n\"q\"\u00e9"}"#, vec![("b", "\n\"q\"é")]),
        ("{}", vec![]),
    ];
    for (text, want) in ok {
        let got = parse_stream_labels(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let got: Vec<(&str, &str)> = got
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(got, want, "{text}");
    }
    for bad in [
        "",
        "{",
        r#"{a="b""#,
        r#"{a=b}"#,
        r#"{a="b" c="d"}"#,
        r#"{a="b"} x"#,
        r#"{1a="b"}"#,
        r#"{a="\q"}"#,
        "{a=\"b\nc\"}",
        r#"{a="b",,}"#,
    ] {
        assert!(parse_stream_labels(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn entries_and_streams_past_limits_are_refused_alone() {
    let lim = PushLimits {
        max_line_bytes: 10,
        ..PushLimits::default()
    };
    let many: String = (0..16)
        .map(|i| format!("l{i}=\"v\""))
        .collect::<Vec<_>>()
        .join(",");
    let body = proto_body(vec![
        StreamAdapter {
            labels: r#"{app="a"}"#.into(),
            entries: vec![
                entry(NOW, "short", &[]),
                entry(NOW, "much too long a line", &[]),
                entry(NOW - 8 * 24 * 3_600 * 1_000_000_000, "old", &[]),
                entry(NOW + 3_600 * 1_000_000_000, "future", &[]),
            ],
            hash: 0,
        },
        StreamAdapter {
            labels: format!("{{{many}}}"),
            entries: vec![entry(NOW, "x", &[])],
            hash: 0,
        },
        StreamAdapter {
            labels: "{}".into(),
            entries: vec![entry(NOW, "x", &[])],
            hash: 0,
        },
        StreamAdapter {
            labels: r#"{app="a", app="b"}"#.into(),
            entries: vec![entry(NOW, "x", &[])],
            hash: 0,
        },
        StreamAdapter {
            labels: r#"{app="empty"}"#.into(),
            entries: vec![],
            hash: 0,
        },
    ]);
    let d = decode_protobuf(&tenant(), &body, &lim, NOW).expect("decodes");
    assert_eq!(d.batch.entry_count(), 1);
    assert_eq!(d.batch.streams[0].entries[0].line, "short");
    assert_eq!(d.refused_entries, 6);
    let all = d.refused.join("\n");
    for want in [
        "max entry size '10' bytes exceeded for stream '{app=\"a\", service_name=\"a\"}' while adding an entry with length '20' bytes",
        "has timestamp too old: 2023-11-06T22:13:20Z, oldest acceptable timestamp is: 2023-11-07T22:13:20Z",
        "has timestamp too new: 2023-11-14T23:13:20Z",
        "has 16 label names; limit 15",
        "error at least one label pair is required per stream",
        "has duplicate label name: 'app'",
    ] {
        assert!(all.contains(want), "missing {want:?} in\n{all}");
    }
}

#[test]
fn bad_bodies_are_errors_never_panics() {
    let lim = PushLimits::default();
    assert!(decode_protobuf(&tenant(), b"not snappy", &lim, NOW).is_err());
    let garbage = snap::raw::Encoder::new()
        .compress_vec(&[0xff; 64])
        .expect("compresses");
    assert!(decode_protobuf(&tenant(), &garbage, &lim, NOW).is_err());
    let mut bad_nanos = entry(NOW, "x", &[]);
    bad_nanos.timestamp = Some(Timestamp {
        seconds: 1,
        nanos: -1,
    });
    let body = proto_body(vec![StreamAdapter {
        labels: r#"{a="b"}"#.into(),
        entries: vec![bad_nanos],
        hash: 0,
    }]);
    assert!(matches!(
        decode_protobuf(&tenant(), &body, &lim, NOW),
        Err(IngestError::BadInput(m)) if m.contains("nanos")
    ));
    let small = PushLimits {
        max_decompressed_bytes: 8,
        ..PushLimits::default()
    };
    let body = proto_body(vec![StreamAdapter {
        labels: r#"{a="b"}"#.into(),
        entries: vec![entry(NOW, "x", &[])],
        hash: 0,
    }]);
    assert!(matches!(
        decode_protobuf(&tenant(), &body, &small, NOW),
        Err(IngestError::TooLarge(_))
    ));
    for cut in 0..body.len() {
        let _ = decode_protobuf(&tenant(), &body[..cut], &lim, NOW);
    }
}

#[test]
fn gzip_bodies_inflate_within_a_bound() {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&vec![b'a'; 10_000]).expect("writes");
    let gz = enc.finish().expect("finishes");
    assert_eq!(
        inflate(&gz, Inflate::Gzip, 10_000).expect("inflates").len(),
        10_000
    );
    assert!(matches!(
        inflate(&gz, Inflate::Gzip, 9_999),
        Err(IngestError::TooLarge(_))
    ));
    assert!(inflate(b"not gzip", Inflate::Gzip, 100).is_err());
}
