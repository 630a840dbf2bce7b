//! Loki's answer shapes: the success envelope, the all-zero `stats`, log
//! streams in the default and the categorized encoding, and label lists.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use sightline_core::Labels;
use sightline_engine::LogqlAnswer;
use sightline_logeval::query::OutStream;

use super::params::LokiError;
use crate::prom::{LabelMap, QueryData};

pub(super) fn json<T: Serialize>(body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(b) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
            b,
        )
            .into_response(),
        Err(e) => LokiError::internal(format!("encoding the answer: {e}")).into_response(),
    }
}

/// Whether the request asks for Loki's categorized labels.
pub(super) fn encoding_flags(headers: &HeaderMap) -> Vec<String> {
    headers
        .get("X-Loki-Response-Encoding-Flags")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Loki's all-zero statistics object, with the entries returned filled in.
pub(super) fn stats(entries: usize) -> serde_json::Value {
    let cache = serde_json::json!({"entriesFound":0,"entriesRequested":0,"entriesStored":0,
        "bytesReceived":0,"bytesSent":0,"requests":0,"downloadTime":0,"queryLengthServed":0});
    let store = serde_json::json!({"totalChunksRef":0,"totalChunksDownloaded":0,
        "chunksDownloadTime":0,"queryReferencedStructuredMetadata":false,"queryUsedV2Engine":false,
        "chunk":{"headChunkBytes":0,"headChunkLines":0,"decompressedBytes":0,
            "decompressedLines":0,"compressedBytes":0,"totalDuplicates":0,"postFilterLines":0,
            "headChunkStructuredMetadataBytes":0,"decompressedStructuredMetadataBytes":0},
        "chunkRefsFetchTime":0,"congestionControlLatency":0,"pipelineWrapperFilteredLines":0,
        "dataobj":{"prePredicateDecompressedRows":0,"prePredicateDecompressedBytes":0,
            "prePredicateDecompressedStructuredMetadataBytes":0,"postPredicateRows":0,
            "postPredicateDecompressedBytes":0,"postPredicateStructuredMetadataBytes":0,
            "postFilterRows":0,"pagesScanned":0,"pagesDownloaded":0,"pagesDownloadedBytes":0,
            "pageBatches":0,"totalRowsAvailable":0,"totalPageDownloadTime":0,
            "wireBytesTransferred":0}});
    serde_json::json!({
        "summary":{"bytesProcessedPerSecond":0,"linesProcessedPerSecond":0,
            "totalBytesProcessed":0,"totalLinesProcessed":0,"execTime":0,"queueTime":0,
            "subqueries":0,"totalEntriesReturned":entries,"splits":0,"shards":0,
            "totalPostFilterLines":0,"totalStructuredMetadataBytesProcessed":0},
        "querier":{"store":store,"querierExecTime":0},
        "ingester":{"totalReached":0,"totalChunksMatched":0,"totalBatches":0,
            "totalLinesSent":0,"store":store},
        "cache":{"chunk":cache,"index":cache,"result":cache,"statsResult":cache,
            "volumeResult":cache,"seriesResult":cache,"labelResult":cache,
            "instantMetricResult":cache,"logResult":cache,"taskResult":cache},
        "index":{"totalChunks":0,"postFilterChunks":0,"shardsDuration":0,
            "usedBloomFilters":false,"totalStreams":0,"chunkRefsLookupTime":0,
            "bloomFilterTime":0}
    })
}

/// One entry on the wire: `["<ns>", "line"]`, and in categorized form a
/// third element with its structured metadata and parsed labels.
pub(super) struct Value<'a> {
    ts: i64,
    line: &'a str,
    extra: Option<(&'a Labels, &'a Labels)>,
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(if self.extra.is_some() { 3 } else { 2 }))?;
        seq.serialize_element(&self.ts.to_string())?;
        seq.serialize_element(self.line)?;
        if let Some((md, parsed)) = self.extra {
            let mut obj = serde_json::Map::new();
            let map = |l: &Labels| {
                serde_json::Value::Object(
                    l.iter()
                        .map(|x| (x.name.clone(), serde_json::Value::String(x.value.clone())))
                        .collect(),
                )
            };
            if !md.is_empty() {
                obj.insert("structuredMetadata".into(), map(md));
            }
            if !parsed.is_empty() {
                obj.insert("parsed".into(), map(parsed));
            }
            seq.serialize_element(&obj)?;
        }
        seq.end()
    }
}

/// A streams answer's `result`: one object per stream, by full labels or,
/// categorized, by stream labels with each entry's other labels beside it.
pub(super) fn streams_json(streams: &[OutStream], categorized: bool) -> serde_json::Value {
    #[derive(Serialize)]
    struct Stream<'a> {
        stream: LabelMap<'a>,
        values: Vec<Value<'a>>,
    }
    let out: Vec<Stream> = if categorized {
        // Regroup by stream labels, keeping each group's entries in order
        // of the first stream's direction (the groups are merged by time).
        let mut groups: Vec<(&Labels, Vec<(&sightline_logeval::query::OutEntry, usize)>)> =
            Vec::new();
        for (si, s) in streams.iter().enumerate() {
            match groups.iter_mut().find(|(l, _)| **l == s.stream) {
                Some((_, v)) => v.extend(s.entries.iter().map(|e| (e, si))),
                None => groups.push((&s.stream, s.entries.iter().map(|e| (e, si)).collect())),
            }
        }
        groups.sort_by_cached_key(|g| g.0.to_string());
        groups
            .into_iter()
            .map(|(labels, mut entries)| {
                let backward =
                    entries.len() > 1 && entries[0].0.ts_ns > entries[entries.len() - 1].0.ts_ns;
                entries.sort_by_key(|(e, _)| if backward { -e.ts_ns } else { e.ts_ns });
                Stream {
                    stream: LabelMap(labels),
                    values: entries
                        .into_iter()
                        .map(|(e, _)| Value {
                            ts: e.ts_ns,
                            line: &e.line,
                            extra: Some((&e.structured_metadata, &e.parsed)),
                        })
                        .collect(),
                }
            })
            .collect()
    } else {
        streams
            .iter()
            .map(|s| Stream {
                stream: LabelMap(&s.labels),
                values: s
                    .entries
                    .iter()
                    .map(|e| Value {
                        ts: e.ts_ns,
                        line: &e.line,
                        extra: None,
                    })
                    .collect(),
            })
            .collect()
    };
    serde_json::to_value(&out).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}

/// The success envelope of a query answer.
pub(super) fn answer(a: &LogqlAnswer, flags: &[String]) -> Response {
    let mut data = serde_json::Map::new();
    match a {
        LogqlAnswer::Streams(streams) => {
            let categorized = flags.iter().any(|f| f == "categorize-labels");
            data.insert("resultType".into(), "streams".into());
            if !flags.is_empty() {
                data.insert("encodingFlags".into(), serde_json::json!(flags));
            }
            data.insert("result".into(), streams_json(streams, categorized));
            let n: usize = streams.iter().map(|s| s.entries.len()).sum();
            data.insert("stats".into(), stats(n));
        }
        LogqlAnswer::Value(v) => {
            if let Ok(serde_json::Value::Object(m)) = serde_json::to_value(QueryData(v)) {
                data.extend(m);
            }
            data.insert("stats".into(), stats(0));
        }
    }
    json(&serde_json::json!({"status": "success", "data": data}))
}

/// `data` is left out when there is nothing, as Loki leaves it out.
pub(super) fn label_list(v: Vec<String>) -> Response {
    if v.is_empty() {
        json(&serde_json::json!({"status": "success"}))
    } else {
        json(&serde_json::json!({"status": "success", "data": v}))
    }
}

/// A tail's entries, each its own stream object as Loki's tail sends them
/// (`{"stream":{...},"values":[[ts, line]]}`), with their timestamps.
pub(super) fn tail_entries(
    streams: &[OutStream],
    categorized: bool,
) -> Vec<(i64, serde_json::Value)> {
    let mut out = Vec::new();
    for s in streams {
        let labels = if categorized { &s.stream } else { &s.labels };
        let stream = serde_json::to_value(LabelMap(labels))
            .unwrap_or_else(|_| serde_json::Value::Object(Default::default()));
        for e in &s.entries {
            let v = Value {
                ts: e.ts_ns,
                line: &e.line,
                extra: categorized.then_some((&e.structured_metadata, &e.parsed)),
            };
            let value = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
            out.push((
                e.ts_ns,
                serde_json::json!({"stream": stream.clone(), "values": [value]}),
            ));
        }
    }
    out
}

/// One tail message: its streams, the entries dropped since the last
/// message (only when there are any) and the request's encoding flags.
pub(super) fn tail_message(
    streams: Vec<serde_json::Value>,
    dropped: Vec<sightline_ingest::DroppedEntry>,
    flags: &[String],
) -> String {
    let mut m = serde_json::Map::new();
    m.insert("streams".into(), serde_json::Value::Array(streams));
    if !dropped.is_empty() {
        let d: Vec<serde_json::Value> = dropped
            .iter()
            .map(|d| {
                let labels = serde_json::to_value(LabelMap(&d.labels))
                    .unwrap_or_else(|_| serde_json::Value::Object(Default::default()));
                serde_json::json!({"timestamp": d.ts_ns.to_string(), "labels": labels})
            })
            .collect();
        m.insert("dropped_entries".into(), serde_json::Value::Array(d));
    }
    if !flags.is_empty() {
        m.insert("encodingFlags".into(), serde_json::json!(flags));
    }
    serde_json::Value::Object(m).to_string()
}
