//! What a case is: the question asked, the answer wanted, and the
//! label sets the answers are written with.

use super::*;

/// How a case is asked. Times are offsets in ms from the base.
#[derive(Clone, Copy)]
pub(super) enum Ask {
    /// `query_range` of a log query over `[start, end)`.
    Log {
        start: i64,
        end: i64,
        limit: Option<u32>,
        forward: bool,
    },
    /// `/query` at `time`.
    Instant { time: i64 },
    /// `query_range` of a metric query.
    Range {
        start: i64,
        end: i64,
        step: &'static str,
    },
}

pub(super) type Labels = BTreeMap<String, String>;

/// The answer Loki gives.
#[derive(Clone)]
pub(super) enum Want {
    /// Streams, each with its values in answer order (offset ms, line).
    Streams(Vec<(Labels, Vec<(i64, String)>)>),
    /// A vector at the query time; `ordered` when the expression sorts.
    Vector {
        rows: Vec<(Labels, String)>,
        ordered: bool,
    },
    /// Series of (offset ms, value).
    Matrix(Vec<(Labels, Vec<(i64, String)>)>),
    /// An HTTP status and texts the plain-text body contains.
    Refused(u16, Vec<String>),
}

pub(super) struct Case {
    pub(super) feature: &'static str,
    pub(super) query: String,
    pub(super) ask: Ask,
    pub(super) want: Want,
    /// The second workspace's answer when it is not the empty answer.
    pub(super) other: Option<Want>,
}

pub(super) fn labels(base: Pairs, extra: &[(&str, &str)]) -> Labels {
    base.iter()
        .chain(extra.iter())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) const LOG: Ask = Ask::Log {
    start: 0,
    end: 60_000,
    limit: None,
    forward: false,
};
/// Instant queries look at `(base, base+10s]` with `[10s]`.
pub(super) const AT: Ask = Ask::Instant { time: 10_000 };

pub(super) fn stream(l: Labels, values: &[(i64, &str)]) -> (Labels, Vec<(i64, String)>) {
    (l, values.iter().map(|(t, s)| (*t, s.to_string())).collect())
}

pub(super) fn series(l: Labels, points: &[(i64, &str)]) -> (Labels, Vec<(i64, String)>) {
    stream(l, points)
}

pub(super) fn vector(rows: Vec<(Labels, &str)>) -> Want {
    Want::Vector {
        rows: rows.into_iter().map(|(l, v)| (l, v.to_string())).collect(),
        ordered: false,
    }
}

pub(super) fn ordered(rows: Vec<(Labels, &str)>) -> Want {
    Want::Vector {
        rows: rows.into_iter().map(|(l, v)| (l, v.to_string())).collect(),
        ordered: true,
    }
}

pub(super) fn refused(texts: &[&str]) -> Want {
    Want::Refused(400, texts.iter().map(|s| s.to_string()).collect())
}

pub(super) fn case(feature: &'static str, query: &str, ask: Ask, want: Want) -> Case {
    Case {
        feature,
        query: query.to_string(),
        ask,
        want,
        other: None,
    }
}

impl Case {
    pub(super) fn other(mut self, w: Want) -> Case {
        self.other = Some(w);
        self
    }
}

pub(super) fn none() -> Labels {
    Labels::new()
}

// Labels the parsers add, per line.
pub(super) const A1P: Pairs = &[
    ("level", "info"),
    ("method", "GET"),
    ("path", "/a"),
    ("status", "200"),
    ("dur", "1.5s"),
    ("size", "20KB"),
    ("msg", "hello world"),
];
pub(super) const A2P: Pairs = &[
    ("level", "error"),
    ("method", "POST"),
    ("path", "/b"),
    ("status", "500"),
    ("dur", "250ms"),
    ("size", "1KiB"),
    ("msg", r#"db "timeout""#),
];
pub(super) const A3P: Pairs = &[
    ("level", "info"),
    ("method", "GET"),
    ("path", "/c"),
    ("status", "404"),
    ("dur", "3s"),
    ("size", "512B"),
];
pub(super) const A4P: Pairs = &[
    ("level", "warn"),
    ("method", "GET"),
    ("path", "/a"),
    ("status", "200"),
    ("dur", "500ms"),
    ("size", "2MB"),
];
pub(super) const A5P: Pairs = &[
    ("level", "debug"),
    ("method", "GET"),
    ("path", "/d"),
    ("status", "abc"),
    ("dur", "oops"),
    ("size", "10XB"),
];
pub(super) const B1P: Pairs = &[
    ("level", "info"),
    ("app_extracted", "inner"),
    ("status", "200"),
    ("latency", "0.25"),
    ("user_id", "7"),
    ("user_name", "Ann"),
    ("msg", r#"ok "quoted" \ slash"#),
];
pub(super) const B2P: Pairs = &[
    ("level", "error"),
    ("status", "503"),
    ("latency", "1.75"),
    ("user_id", "8"),
    ("user_name", "Bob"),
    ("msg", "fail"),
];
pub(super) const B3P: Pairs = &[
    ("level", "info"),
    ("status", "201"),
    ("latency", "0.5"),
    ("env_extracted", "staging"),
    ("msg", "tab\there"),
];
pub(super) const B5P: Pairs = &[
    ("level", "warn"),
    ("status", "200"),
    ("latency", "2"),
    ("user_id", "9"),
    ("msg", "café"),
];
pub(super) const JSON_ERR: Pairs = &[
    ("__error__", "JSONParserErr"),
    (
        "__error_details__",
        "Value looks like object, but can't find closing '}' symbol",
    ),
];

pub(super) fn lp(base: Pairs, a: Pairs, b: &[(&str, &str)]) -> Labels {
    let mut l = labels(base, a);
    l.extend(b.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    l
}

pub(super) fn log(start: i64, end: i64, limit: Option<u32>, forward: bool) -> Ask {
    Ask::Log {
        start,
        end,
        limit,
        forward,
    }
}

/// `sum by (app) (bytes_over_time(...))` over the first four apps.
pub(super) const BYTES_BY_APP: &str =
    r#"sum by (app) (bytes_over_time({namespace=~"ns1|ns2"}[10s]))"#;
/// Per-stream counts of the first four apps (D's entries split by metadata).
pub(super) const COUNTS: &str = r#"count_over_time({namespace=~"ns1|ns2"}[10s])"#;

pub(super) fn app(a: &str) -> Labels {
    labels(&[], &[("app", a)])
}
