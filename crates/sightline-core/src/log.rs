//! Log entries and streams, as every tier stores and returns them.
//!
//! A stream is a label set (the stream labels Loki indexes) and its
//! entries. An entry is a timestamp in nanoseconds, the line, and its
//! structured metadata: name/value pairs stored with the entry but not
//! part of the stream's identity (`trace_id`, OTLP attributes).

use crate::Labels;

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    pub line: String,
    /// Sorted by name, names unique.
    pub metadata: Labels,
}

impl LogEntry {
    /// Bytes the entry costs a quota: the line and the metadata's names
    /// and values (Loki counts the line and the structured metadata).
    pub fn size(&self) -> usize {
        self.line.len()
            + self
                .metadata
                .iter()
                .map(|l| l.name.len() + l.value.len())
                .sum::<usize>()
    }
}

/// One stream and its entries, ordered by timestamp ascending; entries
/// with equal timestamps keep their order of arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStream {
    pub labels: Labels,
    pub entries: Vec<LogEntry>,
}

/// Which end of a window a log read starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Oldest first.
    Forward,
    /// Newest first (Loki's default).
    #[default]
    Backward,
}

/// Merges the answers of several sources (head parts, tiers) into one
/// stream per label set, entries ascending by time. Entries of one source
/// are all kept, in their order; an entry of a later source equal in
/// timestamp, line and metadata to one an earlier source gave for the same
/// stream is dropped (a part stored in two tiers while it moves, or a
/// replica's copy; Loki drops those the same way when it merges).
pub fn merge_log_streams(sources: Vec<Vec<LogStream>>) -> Vec<LogStream> {
    use std::collections::HashMap;
    let mut by_labels: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<LogStream> = Vec::new();
    // Per output stream: how many entries came from earlier sources.
    let mut earlier: Vec<usize> = Vec::new();
    for (n, source) in sources.into_iter().enumerate() {
        let mut touched: Vec<usize> = Vec::new();
        for s in source {
            match by_labels.get(&s.labels) {
                None => {
                    by_labels.insert(s.labels.clone(), out.len());
                    touched.push(out.len());
                    earlier.push(0);
                    out.push(s);
                }
                Some(&i) => {
                    if !touched.contains(&i) {
                        touched.push(i);
                        earlier[i] = out[i].entries.len();
                    }
                    let prior = &out[i].entries[..earlier[i]];
                    let fresh: Vec<LogEntry> = if n == 0 || prior.is_empty() {
                        s.entries
                    } else {
                        s.entries
                            .into_iter()
                            .filter(|e| {
                                let lo = prior.partition_point(|p| p.ts_ns < e.ts_ns);
                                !prior[lo..]
                                    .iter()
                                    .take_while(|p| p.ts_ns == e.ts_ns)
                                    .any(|p| p == e)
                            })
                            .collect()
                    };
                    out[i].entries.extend(fresh);
                }
            }
        }
        for i in touched {
            // Stable: equal timestamps keep source order, then arrival.
            if !out[i].entries.is_sorted_by_key(|e| e.ts_ns) {
                out[i].entries.sort_by_key(|e| e.ts_ns);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(ts: i64, line: &str) -> LogEntry {
        LogEntry {
            ts_ns: ts,
            line: line.into(),
            metadata: Labels::empty(),
        }
    }

    fn s(app: &str, entries: Vec<LogEntry>) -> LogStream {
        LogStream {
            labels: Labels::from_pairs([("app", app)]).expect("valid"),
            entries,
        }
    }

    #[test]
    fn merging_keeps_one_source_whole_and_drops_later_copies() {
        let head = vec![
            s("a", vec![e(1, "x"), e(3, "y"), e(3, "y")]),
            s("b", vec![e(2, "z")]),
        ];
        let archive = vec![s("a", vec![e(3, "y"), e(2, "w"), e(4, "v")])];
        let got = merge_log_streams(vec![head, archive]);
        assert_eq!(got.len(), 2);
        let a = &got[0];
        assert_eq!(
            a.entries,
            vec![e(1, "x"), e(2, "w"), e(3, "y"), e(3, "y"), e(4, "v")],
            "the head's duplicate stays (two pushes), the archive's copy goes"
        );
        assert_eq!(got[1].entries, vec![e(2, "z")]);
        // Metadata is part of the entry's identity.
        let mut md = e(3, "y");
        md.metadata = Labels::from_pairs([("k", "v")]).expect("valid");
        let got = merge_log_streams(vec![
            vec![s("a", vec![e(3, "y")])],
            vec![s("a", vec![md.clone()])],
        ]);
        assert_eq!(got[0].entries, vec![e(3, "y"), md]);
        assert!(merge_log_streams(vec![]).is_empty());
    }
}
