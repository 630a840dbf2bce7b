//! The LogQL syntax tree.
//!
//! Durations are nanoseconds. Spans are byte ranges into the query text and
//! never take part in equality.

use sightline_core::Matcher;
pub use sightline_promql::ast::{BinOp, GroupModifier, GroupSide, Grouping, Span, VectorMatching};

/// A whole query.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Returns log lines.
    Log(LogExpr),
    /// Returns samples.
    Metric(MetricExpr),
}

/// `{selector} stage stage ...`
#[derive(Debug, Clone, PartialEq)]
pub struct LogExpr {
    pub matchers: Vec<Matcher>,
    pub stages: Vec<Stage>,
    pub span: Span,
}

impl LogExpr {
    /// The line filters before any other stage: what storage may apply
    /// while it reads (the rest of the pipeline runs on what it returns).
    pub fn leading_line_filters(&self) -> Vec<LineFilter> {
        self.stages
            .iter()
            .map_while(|s| match s {
                Stage::LineFilter(f) => Some(f.clone()),
                _ => None,
            })
            .collect()
    }
}

/// One stage of a log pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    LineFilter(LineFilter),
    /// `| json` with optional `name="expression"` parameters.
    Json(Vec<Extraction>),
    /// `| logfmt [--strict] [--keep-empty] [params]`.
    Logfmt {
        strict: bool,
        keep_empty: bool,
        params: Vec<Extraction>,
    },
    /// `| regexp "<re>"`
    Regexp(String),
    /// `| pattern "<pattern>"`
    Pattern(String),
    Unpack,
    LabelFilter(LabelFilter),
    /// `| line_format "<template>"`
    LineFormat(String),
    LabelFormat(Vec<LabelFmt>),
    Decolorize,
    Drop(Vec<NamedMatcher>),
    Keep(Vec<NamedMatcher>),
}

/// `|= "a"`, `!~ "re"`, `|> "<_> pattern"`, `|= ip("10.0.0.0/8")`, and the
/// `or` alternatives of one filter: `|= "a" or "b"`.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFilter {
    pub op: LineFilterOp,
    /// At least one; more than one when written with `or`.
    pub values: Vec<FilterValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFilterOp {
    /// `|=`
    Contains,
    /// `!=`
    NotContains,
    /// `|~`
    Match,
    /// `!~`
    NotMatch,
    /// `|>`
    Pattern,
    /// `!>`
    NotPattern,
}

impl LineFilterOp {
    pub fn as_str(self) -> &'static str {
        match self {
            LineFilterOp::Contains => "|=",
            LineFilterOp::NotContains => "!=",
            LineFilterOp::Match => "|~",
            LineFilterOp::NotMatch => "!~",
            LineFilterOp::Pattern => "|>",
            LineFilterOp::NotPattern => "!>",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Str(String),
    /// `ip("<address, range or CIDR>")`
    Ip(String),
}

/// `name="expression"` of `json` and `logfmt`; a bare `name` has the name
/// as its expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extraction {
    pub name: String,
    pub expr: String,
}

/// A label of `drop` and `keep`: a bare name, or a matcher on its value.
#[derive(Debug, Clone, PartialEq)]
pub enum NamedMatcher {
    Name(String),
    Matcher(Matcher),
}

/// One assignment of `label_format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelFmt {
    /// `dst=src`: renames `src` to `dst`.
    Rename { dst: String, src: String },
    /// `dst="template"`
    Template { dst: String, template: String },
}

impl LabelFmt {
    pub fn dst(&self) -> &str {
        match self {
            LabelFmt::Rename { dst, .. } | LabelFmt::Template { dst, .. } => dst,
        }
    }
}

/// Comparison of a typed label filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

/// A label filter predicate. `and`, `,` and juxtaposition are all `And`;
/// `and` binds tighter than `or`.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelFilter {
    /// `name op "value"` with the selector operators.
    Matcher(Matcher),
    /// `name = ip("...")` / `name != ip("...")`
    Ip {
        name: String,
        negated: bool,
        pattern: String,
    },
    /// `name op 10s` (nanoseconds)
    Duration {
        name: String,
        op: CmpOp,
        ns: i64,
    },
    /// `name op 20KB` (bytes)
    Bytes {
        name: String,
        op: CmpOp,
        bytes: u64,
    },
    /// `name op 500`
    Number {
        name: String,
        op: CmpOp,
        value: f64,
    },
    And(Box<LabelFilter>, Box<LabelFilter>),
    Or(Box<LabelFilter>, Box<LabelFilter>),
}

/// A metric query.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricExpr {
    Range(RangeAggregation),
    Vector(VectorAggregation),
    Binary(BinaryExpr),
    Literal {
        value: f64,
        span: Span,
    },
    /// `vector(n)`
    VectorFn {
        value: f64,
        span: Span,
    },
    LabelReplace(LabelReplace),
}

/// `op([param,] log_range) [by|without (...)]`
#[derive(Debug, Clone, PartialEq)]
pub struct RangeAggregation {
    pub op: RangeOp,
    /// The `phi` of `quantile_over_time`.
    pub param: Option<f64>,
    pub range: LogRange,
    pub grouping: Option<Grouping>,
    pub span: Span,
}

/// A log expression over a time range: `{...} | ... [5m] offset 1h`, with
/// an optional `unwrap`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRange {
    pub log: LogExpr,
    pub range_ns: i64,
    /// Zero when no offset was written.
    pub offset_ns: i64,
    pub unwrap: Option<Unwrap>,
}

/// `| unwrap [conv(]label[)]` and the label filters after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unwrap {
    pub label: String,
    pub conv: Option<Conversion>,
    pub post_filters: Vec<LabelFilter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    Bytes,
    Duration,
    DurationSeconds,
}

impl Conversion {
    pub fn as_str(self) -> &'static str {
        match self {
            Conversion::Bytes => "bytes",
            Conversion::Duration => "duration",
            Conversion::DurationSeconds => "duration_seconds",
        }
    }
}

/// The range aggregations of LogQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    CountOverTime,
    Rate,
    RateCounter,
    BytesOverTime,
    BytesRate,
    AvgOverTime,
    SumOverTime,
    MinOverTime,
    MaxOverTime,
    StdvarOverTime,
    StddevOverTime,
    QuantileOverTime,
    FirstOverTime,
    LastOverTime,
    AbsentOverTime,
}

impl RangeOp {
    pub const ALL: [RangeOp; 15] = [
        RangeOp::CountOverTime,
        RangeOp::Rate,
        RangeOp::RateCounter,
        RangeOp::BytesOverTime,
        RangeOp::BytesRate,
        RangeOp::AvgOverTime,
        RangeOp::SumOverTime,
        RangeOp::MinOverTime,
        RangeOp::MaxOverTime,
        RangeOp::StdvarOverTime,
        RangeOp::StddevOverTime,
        RangeOp::QuantileOverTime,
        RangeOp::FirstOverTime,
        RangeOp::LastOverTime,
        RangeOp::AbsentOverTime,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RangeOp::CountOverTime => "count_over_time",
            RangeOp::Rate => "rate",
            RangeOp::RateCounter => "rate_counter",
            RangeOp::BytesOverTime => "bytes_over_time",
            RangeOp::BytesRate => "bytes_rate",
            RangeOp::AvgOverTime => "avg_over_time",
            RangeOp::SumOverTime => "sum_over_time",
            RangeOp::MinOverTime => "min_over_time",
            RangeOp::MaxOverTime => "max_over_time",
            RangeOp::StdvarOverTime => "stdvar_over_time",
            RangeOp::StddevOverTime => "stddev_over_time",
            RangeOp::QuantileOverTime => "quantile_over_time",
            RangeOp::FirstOverTime => "first_over_time",
            RangeOp::LastOverTime => "last_over_time",
            RangeOp::AbsentOverTime => "absent_over_time",
        }
    }

    /// Case-insensitive, as Loki's lexer reads keywords.
    pub fn from_name(s: &str) -> Option<RangeOp> {
        RangeOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s))
    }

    /// Loki's rule: only these may carry `by`/`without` after the call.
    pub fn allows_grouping(self) -> bool {
        matches!(
            self,
            RangeOp::AvgOverTime
                | RangeOp::StddevOverTime
                | RangeOp::StdvarOverTime
                | RangeOp::QuantileOverTime
                | RangeOp::MaxOverTime
                | RangeOp::MinOverTime
                | RangeOp::FirstOverTime
                | RangeOp::LastOverTime
        )
    }

    /// Whether the function is defined over unwrapped values.
    pub fn allows_unwrap(self) -> bool {
        !matches!(
            self,
            RangeOp::CountOverTime | RangeOp::BytesOverTime | RangeOp::BytesRate
        )
    }

    /// Whether the function is defined over log lines without `unwrap`.
    pub fn allows_lines(self) -> bool {
        matches!(
            self,
            RangeOp::BytesOverTime
                | RangeOp::BytesRate
                | RangeOp::CountOverTime
                | RangeOp::Rate
                | RangeOp::AbsentOverTime
        )
    }
}

/// The vector aggregations of LogQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorOp {
    Sum,
    Avg,
    Count,
    Max,
    Min,
    Stddev,
    Stdvar,
    Bottomk,
    Topk,
    Sort,
    SortDesc,
    ApproxTopk,
}

impl VectorOp {
    pub const ALL: [VectorOp; 12] = [
        VectorOp::Sum,
        VectorOp::Avg,
        VectorOp::Count,
        VectorOp::Max,
        VectorOp::Min,
        VectorOp::Stddev,
        VectorOp::Stdvar,
        VectorOp::Bottomk,
        VectorOp::Topk,
        VectorOp::Sort,
        VectorOp::SortDesc,
        VectorOp::ApproxTopk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VectorOp::Sum => "sum",
            VectorOp::Avg => "avg",
            VectorOp::Count => "count",
            VectorOp::Max => "max",
            VectorOp::Min => "min",
            VectorOp::Stddev => "stddev",
            VectorOp::Stdvar => "stdvar",
            VectorOp::Bottomk => "bottomk",
            VectorOp::Topk => "topk",
            VectorOp::Sort => "sort",
            VectorOp::SortDesc => "sort_desc",
            VectorOp::ApproxTopk => "approx_topk",
        }
    }

    pub fn from_name(s: &str) -> Option<VectorOp> {
        VectorOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s))
    }

    /// `topk`, `bottomk` and `approx_topk` take a count first.
    pub fn takes_param(self) -> bool {
        matches!(
            self,
            VectorOp::Topk | VectorOp::Bottomk | VectorOp::ApproxTopk
        )
    }
}

/// `op [by|without (...)] ([param,] expr)`
#[derive(Debug, Clone, PartialEq)]
pub struct VectorAggregation {
    pub op: VectorOp,
    pub param: Option<i64>,
    pub expr: Box<MetricExpr>,
    pub grouping: Option<Grouping>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    pub op: BinOp,
    pub lhs: Box<MetricExpr>,
    pub rhs: Box<MetricExpr>,
    /// `bool` on a comparison.
    pub return_bool: bool,
    /// The `on`/`ignoring`/`group_*` clause, when written.
    pub matching: Option<VectorMatching>,
    pub span: Span,
}

/// `label_replace(expr, "dst", "replacement", "src", "regex")`
#[derive(Debug, Clone, PartialEq)]
pub struct LabelReplace {
    pub expr: Box<MetricExpr>,
    pub dst: String,
    pub replacement: String,
    pub src: String,
    pub regex: String,
    pub span: Span,
}

impl MetricExpr {
    pub fn span(&self) -> Span {
        match self {
            MetricExpr::Range(r) => r.span,
            MetricExpr::Vector(v) => v.span,
            MetricExpr::Binary(b) => b.span,
            MetricExpr::Literal { span, .. } | MetricExpr::VectorFn { span, .. } => *span,
            MetricExpr::LabelReplace(l) => l.span,
        }
    }
}
