//! What a TraceQL query is: span-set filters combined per trace, and the
//! attributes a `select` adds to the answer.

/// Where an attribute is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrScope {
    /// `resource.x`
    Resource,
    /// `span.x`
    Span,
    /// `.x`: the span's attribute, else the resource's.
    Any,
}

/// The fields every span has (TraceQL's intrinsics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intrinsic {
    /// `name`, `span:name`
    Name,
    /// `status`, `span:status`
    Status,
    /// `statusMessage`, `span:statusMessage`
    StatusMessage,
    /// `kind`, `span:kind`
    Kind,
    /// `duration`, `span:duration`
    Duration,
    /// `span:id`
    SpanId,
    /// `span:parentID`
    ParentId,
    /// `trace:id`
    TraceId,
    /// `rootName`, `trace:rootName`
    RootName,
    /// `rootServiceName`, `trace:rootService`
    RootServiceName,
    /// `traceDuration`, `trace:duration`
    TraceDuration,
}

impl Intrinsic {
    /// Every intrinsic by each name TraceQL gives it.
    pub const NAMES: [(&'static str, Intrinsic); 19] = [
        ("name", Intrinsic::Name),
        ("span:name", Intrinsic::Name),
        ("status", Intrinsic::Status),
        ("span:status", Intrinsic::Status),
        ("statusMessage", Intrinsic::StatusMessage),
        ("span:statusMessage", Intrinsic::StatusMessage),
        ("kind", Intrinsic::Kind),
        ("span:kind", Intrinsic::Kind),
        ("duration", Intrinsic::Duration),
        ("span:duration", Intrinsic::Duration),
        ("span:id", Intrinsic::SpanId),
        ("span:parentID", Intrinsic::ParentId),
        ("trace:id", Intrinsic::TraceId),
        ("rootName", Intrinsic::RootName),
        ("trace:rootName", Intrinsic::RootName),
        ("rootServiceName", Intrinsic::RootServiceName),
        ("trace:rootService", Intrinsic::RootServiceName),
        ("traceDuration", Intrinsic::TraceDuration),
        ("trace:duration", Intrinsic::TraceDuration),
    ];

    pub fn from_name(s: &str) -> Option<Intrinsic> {
        Self::NAMES.iter().find(|(n, _)| *n == s).map(|(_, i)| *i)
    }

    /// The name a search answer's attributes list it under.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, i)| *i == self)
            .map_or("name", |(n, _)| n)
    }
}

/// A field a condition reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Intrinsic(Intrinsic),
    Attr { scope: AttrScope, key: String },
}

/// A value, as a span's field holds it or as a query writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Nanoseconds.
    Duration(i64),
    /// OTLP's status code number (0 unset, 1 ok, 2 error).
    Status(i32),
    /// OTLP's span kind number (0 unspecified … 5 consumer).
    Kind(i32),
}

/// A comparison's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    /// `=~`: the whole value matches.
    Re,
    /// `!~`
    NotRe,
}

/// What a query compares a field with: a value, or `nil` (the field is
/// absent).
#[derive(Debug, Clone)]
pub enum Operand {
    Value(Value),
    Nil,
    /// A regular expression, anchored at both ends, and its text.
    Regex(regex::Regex, String),
}

/// A condition on one span.
#[derive(Debug, Clone)]
pub enum SpanExpr {
    /// `{}` or `{ true }`: every span.
    True,
    /// `{ false }`
    False,
    Cmp(Field, Op, Operand),
    And(Box<SpanExpr>, Box<SpanExpr>),
    Or(Box<SpanExpr>, Box<SpanExpr>),
}

/// Span sets of a trace: `{ … }`, and two span sets combined (`&&`: the
/// trace has both, and the answer is the spans of both; `||`: either).
#[derive(Debug, Clone)]
pub enum SpansetExpr {
    Filter(SpanExpr),
    And(Box<SpansetExpr>, Box<SpansetExpr>),
    Or(Box<SpansetExpr>, Box<SpansetExpr>),
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    pub spansets: SpansetExpr,
    /// Fields a `| select(…)` adds to each matched span in the answer.
    pub select: Vec<Field>,
}

impl SpanExpr {
    /// Every attribute the condition reads, in order of first use.
    pub fn fields(&self, out: &mut Vec<Field>) {
        match self {
            SpanExpr::True | SpanExpr::False => {}
            SpanExpr::Cmp(f, _, _) => {
                if !out.contains(f) {
                    out.push(f.clone());
                }
            }
            SpanExpr::And(a, b) | SpanExpr::Or(a, b) => {
                a.fields(out);
                b.fields(out);
            }
        }
    }
}

impl SpansetExpr {
    /// Every field the span sets' conditions read.
    pub fn fields(&self, out: &mut Vec<Field>) {
        match self {
            SpansetExpr::Filter(e) => e.fields(out),
            SpansetExpr::And(a, b) | SpansetExpr::Or(a, b) => {
                a.fields(out);
                b.fields(out);
            }
        }
    }
}
