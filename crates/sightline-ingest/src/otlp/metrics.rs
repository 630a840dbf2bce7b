//! OTLP metric points into Prometheus samples, as Prometheus's OTLP
//! receiver translates them (`docs/otlp-semantics.md` §4):
//!
//! - gauges and non-monotonic cumulative sums as gauges, monotonic
//!   cumulative sums as counters named `_total`;
//! - cumulative histograms as classic `_bucket{le}` (running sums, `+Inf`
//!   the point's count), `_sum` (when set) and `_count`; summaries as
//!   `{quantile}` series with `_sum` and `_count`;
//! - delta temporality, an unspecified temporality and exponential
//!   histograms refused point by point, with a message;
//! - names normalised with unit suffixes (Prometheus's default
//!   `UnderscoreEscapingWithSuffixes`), or only escaped;
//! - `job` from `service.namespace/service.name`, `instance` from
//!   `service.instance.id`, other resource attributes on `target_info`
//!   unless promoted to labels;
//! - a point flagged "no recorded value" as Prometheus's staleness marker;
//! - points more than ten minutes ahead of the server's clock refused, as
//!   Prometheus refuses them.
//!
//! Start times are not written as zero samples: a zero at the start time
//! would overwrite a real sample at that instant (a Collector's first
//! point has its start time as its time), so counter resets are found by
//! their values, as Prometheus finds them without its created-timestamp
//! flags.

use std::collections::{BTreeMap, HashMap};

use sightline_core::{Label, Labels, METRIC_NAME, Sample, TenantId};

use super::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use super::proto::common::v1::KeyValue;
use super::proto::metrics::v1::{
    AggregationTemporality, Exemplar as OtlpExemplar, HistogramDataPoint, NumberDataPoint,
    SummaryDataPoint, exemplar, metric, number_data_point,
};
use super::{Refused, attribute, label_name, value_string};
use crate::error::IngestError;
use crate::head::MetricMetadata;
use crate::record::{SeriesRecord, WriteBatch};
use crate::remote_write::{DecodeLimits, ExemplarProto, LabelProto};

/// How metric points become series.
#[derive(Debug, Clone)]
pub struct MetricSettings {
    /// Unit suffixes, `_total` and `_ratio` on names (Prometheus's default);
    /// off, names are only escaped (`UnderscoreEscapingWithoutSuffixes`).
    pub suffixes: bool,
    /// Resource attributes that become labels of every series.
    pub promote_resource_attributes: Vec<String>,
    /// Whether resources get a `target_info` series.
    pub target_info: bool,
}

impl Default for MetricSettings {
    fn default() -> Self {
        MetricSettings {
            suffixes: true,
            promote_resource_attributes: Vec::new(),
            target_info: true,
        }
    }
}

/// The resource attributes that name the target.
const SERVICE_NAME: &str = "service.name";
const SERVICE_NAMESPACE: &str = "service.namespace";
const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// Bit 0 of a point's flags: no value was recorded (a staleness marker).
const NO_RECORDED_VALUE: u32 = 1;

/// How far ahead of the server's clock a point may be (Prometheus's
/// `maxAheadTime`).
const MAX_AHEAD_MS: i64 = 600_000;

/// Most `target_info` samples one resource writes (one per distinct
/// point time, up to this many).
const MAX_TARGET_INFO_SAMPLES: usize = 1_000;

/// A unit's name in a metric name (Prometheus's `unitMap`).
fn unit_word(u: &str) -> Option<&'static str> {
    Some(match u {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        _ => return None,
    })
}

/// A unit's name after `/` (Prometheus's `perUnitMap`).
fn per_unit_word(u: &str) -> Option<&'static str> {
    Some(match u {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    })
}

/// Characters outside `[A-Za-z0-9:]` as `_`, runs of `_` as one, no
/// leading `_`.
fn clean_unit(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() || c == ':' {
            c
        } else {
            '_'
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    out
}

/// The unit's suffixes: the main unit's word and `per_<unit>`, each empty
/// when there is none (annotations in braces are none).
fn unit_suffixes(unit: &str) -> (String, String) {
    let (main, per) = match unit.split_once('/') {
        Some((m, p)) => (m.trim(), p.trim()),
        None => (unit.trim(), ""),
    };
    let word = |u: &str, table: fn(&str) -> Option<&'static str>| -> String {
        if u.is_empty() || u.contains('{') || u.contains('}') {
            return String::new();
        }
        clean_unit(table(u).unwrap_or(u))
    };
    let main = word(main, unit_word);
    let per = word(per, per_unit_word);
    let per = if per.is_empty() {
        per
    } else {
        format!("per_{per}")
    };
    (main, per)
}

/// The unit as metadata carries it (`bytes_per_second`; empty for `1`).
pub fn unit_name(unit: &str) -> String {
    match unit_suffixes(unit) {
        (m, p) if m.is_empty() => p,
        (m, p) if p.is_empty() => m,
        (m, p) => format!("{m}_{p}"),
    }
}

/// What a metric's points become, for its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A monotonic sum: `_total`.
    Counter,
    /// A gauge: `_ratio` for the unit `1`.
    Gauge,
    /// Anything else (non-monotonic sums, histograms, summaries).
    Other,
}

/// A metric's Prometheus name; `None` when nothing of it is left.
pub fn metric_name(name: &str, unit: &str, kind: NameKind, suffixes: bool) -> Option<String> {
    if !suffixes {
        let mut out = String::with_capacity(name.len());
        let mut in_run = false;
        for c in name.chars() {
            if c.is_ascii_alphanumeric() || c == ':' || c == '_' {
                out.push(c);
                in_run = false;
            } else if !in_run {
                out.push('_');
                in_run = true;
            }
        }
        if out.is_empty() || out.bytes().all(|b| b == b'_') {
            return None;
        }
        if out.as_bytes()[0].is_ascii_digit() {
            out.insert(0, '_');
        }
        return Some(out);
    }
    let mut tokens: Vec<String> = name
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let (main, per) = unit_suffixes(unit);
    if !main.is_empty() && !tokens.contains(&main) {
        tokens.push(main);
    }
    if !per.is_empty() && !tokens.contains(&per) {
        tokens.push(per);
    }
    match kind {
        NameKind::Counter => {
            tokens.retain(|t| t != "total");
            tokens.push("total".into());
        }
        NameKind::Gauge if unit == "1" => {
            tokens.retain(|t| t != "ratio");
            tokens.push("ratio".into());
        }
        _ => {}
    }
    let mut out = tokens.join("_");
    if out.is_empty() {
        return None;
    }
    if out.as_bytes()[0].is_ascii_digit() {
        out.insert(0, '_');
    }
    Some(out)
}

/// Attributes as sanitised labels; keys that sanitise alike have their
/// values joined with `;` in the order of the original keys. Empty values
/// are no label.
fn attribute_labels(attrs: &[KeyValue], skip: &[&str]) -> BTreeMap<String, String> {
    let mut sorted: Vec<&KeyValue> = attrs
        .iter()
        .filter(|kv| !skip.contains(&kv.key.as_str()))
        .collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for kv in sorted {
        let Some(name) = label_name(&kv.key).filter(|n| n != METRIC_NAME) else {
            continue;
        };
        let value = value_string(kv.value.as_ref());
        if value.is_empty() {
            continue;
        }
        out.entry(name)
            .and_modify(|v| {
                v.push(';');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// What every series of one resource carries.
struct Target {
    job: Option<String>,
    instance: Option<String>,
    promoted: BTreeMap<String, String>,
    /// `target_info`'s labels, when it has any beyond `job` and `instance`.
    info: Option<BTreeMap<String, String>>,
}

fn target(resource: &[KeyValue], s: &MetricSettings) -> Target {
    let text = |k| {
        attribute(resource, k)
            .map(|v| value_string(Some(v)))
            .filter(|v| !v.is_empty())
    };
    let name = text(SERVICE_NAME);
    let job = name.map(|n| match text(SERVICE_NAMESPACE) {
        Some(ns) => format!("{ns}/{n}"),
        None => n,
    });
    let instance = text(SERVICE_INSTANCE_ID);
    let promoted_keys: Vec<KeyValue> = resource
        .iter()
        .filter(|kv| s.promote_resource_attributes.contains(&kv.key))
        .cloned()
        .collect();
    let promoted = attribute_labels(&promoted_keys, &[]);
    let mut info = attribute_labels(
        resource,
        &[SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID],
    );
    let info = if s.target_info && !info.is_empty() && (job.is_some() || instance.is_some()) {
        if let Some(j) = &job {
            info.insert("job".into(), j.clone());
        }
        if let Some(i) = &instance {
            info.insert("instance".into(), i.clone());
        }
        Some(info)
    } else {
        None
    };
    Target {
        job: job.filter(|j| !j.is_empty()),
        instance: instance.filter(|i| !i.is_empty()),
        promoted,
        info,
    }
}

/// The series being built, by labels.
struct Series<'l> {
    limits: &'l DecodeLimits,
    by_labels: HashMap<Labels, Vec<Sample>>,
    order: Vec<Labels>,
    exemplars: HashMap<Labels, Vec<sightline_core::Exemplar>>,
}

impl Series<'_> {
    /// Adds samples to the series `base` + `__name__` + `extra`; the
    /// reason when its labels break a limit.
    fn add(
        &mut self,
        base: &BTreeMap<String, String>,
        name: &str,
        extra: Option<(&str, String)>,
        samples: &[Sample],
    ) -> Result<Labels, String> {
        let mut labels: Vec<Label> = base
            .iter()
            .map(|(k, v)| Label {
                name: k.clone(),
                value: v.clone(),
            })
            .collect();
        labels.push(Label {
            name: METRIC_NAME.into(),
            value: name.into(),
        });
        if let Some((k, v)) = extra {
            labels.retain(|l| l.name != k);
            labels.push(Label {
                name: k.into(),
                value: v,
            });
        }
        if labels.len() > self.limits.max_labels_per_series {
            return Err(format!(
                "series of {name:?} has {} labels, more than the limit of {}",
                labels.len(),
                self.limits.max_labels_per_series
            ));
        }
        for l in &labels {
            if l.name.len() > self.limits.max_label_bytes
                || l.value.len() > self.limits.max_label_bytes
            {
                return Err(format!(
                    "label {:?} of {name:?} is longer than {} bytes",
                    l.name, self.limits.max_label_bytes
                ));
            }
            if l.value.contains('\0') {
                return Err(format!(
                    "label {:?} of {name:?} contains a NUL byte",
                    l.name
                ));
            }
        }
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        let labels = Labels::from_sorted(labels);
        match self.by_labels.get_mut(&labels) {
            Some(v) => v.extend_from_slice(samples),
            None => {
                self.order.push(labels.clone());
                self.by_labels.insert(labels.clone(), samples.to_vec());
            }
        }
        Ok(labels)
    }

    /// Exemplars of a series `add` returned.
    fn add_exemplars(&mut self, labels: Labels, xs: Vec<sightline_core::Exemplar>) {
        if !xs.is_empty() {
            self.exemplars.entry(labels).or_default().extend(xs);
        }
    }

    fn into_records(mut self) -> Vec<SeriesRecord> {
        self.order
            .into_iter()
            .filter_map(|labels| {
                let mut samples = self.by_labels.remove(&labels)?;
                samples.sort_by_key(|s| s.t);
                // The last sample of a timestamp wins, as in a remote write.
                samples.reverse();
                samples.dedup_by_key(|s| s.t);
                samples.reverse();
                let mut exemplars = self.exemplars.remove(&labels).unwrap_or_default();
                exemplars.sort_by_key(|e| e.t);
                Some(SeriesRecord {
                    labels,
                    samples,
                    exemplars,
                })
            })
            .collect()
    }
}

/// A point's time in milliseconds, refused when absent or too far ahead.
fn time_ms(time_ns: u64, now_ms: i64) -> Result<i64, String> {
    if time_ns == 0 {
        return Err("a data point without a time".into());
    }
    let t =
        i64::try_from(time_ns / 1_000_000).map_err(|_| "a time past the year 2262".to_string())?;
    if t > now_ms.saturating_add(MAX_AHEAD_MS) {
        return Err(format!(
            "a data point {} s ahead of the server's clock (at most {} s)",
            (t - now_ms) / 1000,
            MAX_AHEAD_MS / 1000
        ));
    }
    Ok(t)
}

/// The labels of one point: its attributes (not one named `__name__`),
/// promoted resource attributes where not set, then `job` and `instance`.
fn point_labels(attrs: &[KeyValue], t: &Target) -> BTreeMap<String, String> {
    let mut labels = attribute_labels(attrs, &[METRIC_NAME]);
    for (k, v) in &t.promoted {
        labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if let Some(j) = &t.job {
        labels.insert("job".into(), j.clone());
    }
    if let Some(i) = &t.instance {
        labels.insert("instance".into(), i.clone());
    }
    labels
}

/// A point's exemplars as Prometheus's OTLP receiver writes them: the
/// trace and span ids in hex under `trace_id` and `span_id`, the filtered
/// attributes as labels, the value and the time in milliseconds; then
/// checked as remote_write's are.
fn exemplars_of(xs: &[OtlpExemplar]) -> Vec<sightline_core::Exemplar> {
    if xs.is_empty() {
        return Vec::new();
    }
    let protos = xs
        .iter()
        .map(|e| {
            let mut labels: Vec<LabelProto> = attribute_labels(&e.filtered_attributes, &[])
                .into_iter()
                .map(|(name, value)| LabelProto { name, value })
                .collect();
            for (name, id, len) in [("trace_id", &e.trace_id, 16), ("span_id", &e.span_id, 8)] {
                if id.len() == len {
                    labels.retain(|l| l.name != name);
                    labels.push(LabelProto {
                        name: name.into(),
                        value: sightline_core::span::hex(id),
                    });
                }
            }
            ExemplarProto {
                labels,
                value: match e.value {
                    Some(exemplar::Value::AsDouble(f)) => f,
                    Some(exemplar::Value::AsInt(i)) => i as f64,
                    None => 0.0,
                },
                timestamp: i64::try_from(e.time_unix_nano / 1_000_000).unwrap_or(i64::MAX),
            }
        })
        .collect();
    crate::remote_write::exemplars(protos)
}

fn number(p: &NumberDataPoint) -> f64 {
    if p.flags & NO_RECORDED_VALUE != 0 {
        return sightline_core::stale_nan();
    }
    match p.value {
        Some(number_data_point::Value::AsDouble(f)) => f,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

/// Translates one request for `tenant`: the batch of what is written and
/// the points refused, with why; a malformed request
/// ([`super::validate::metrics`]) is refused whole.
pub fn translate(
    tenant: &TenantId,
    req: ExportMetricsServiceRequest,
    s: &MetricSettings,
    limits: &DecodeLimits,
    now_ms: i64,
) -> Result<(WriteBatch, Refused), IngestError> {
    super::validate::metrics(&req)?;
    let mut out = Series {
        limits,
        by_labels: HashMap::new(),
        order: Vec::new(),
        exemplars: HashMap::new(),
    };
    let mut refused = Refused::default();
    let mut metadata: BTreeMap<String, MetricMetadata> = BTreeMap::new();
    for rm in req.resource_metrics {
        let resource = rm.resource.map(|r| r.attributes).unwrap_or_default();
        let target = target(&resource, s);
        // The distinct times of the resource's points, for `target_info`.
        let mut times: std::collections::BTreeSet<i64> = std::collections::BTreeSet::new();
        for sm in rm.scope_metrics {
            for m in sm.metrics {
                let Some(data) = m.data else { continue };
                let points = match &data {
                    metric::Data::Gauge(g) => g.data_points.len(),
                    metric::Data::Sum(x) => x.data_points.len(),
                    metric::Data::Histogram(h) => h.data_points.len(),
                    metric::Data::ExponentialHistogram(h) => h.data_points.len(),
                    metric::Data::Summary(x) => x.data_points.len(),
                } as u64;
                let (kind, prom_type) = match &data {
                    metric::Data::Gauge(_) => (NameKind::Gauge, "gauge"),
                    metric::Data::Sum(x) if x.is_monotonic => (NameKind::Counter, "counter"),
                    metric::Data::Sum(_) => (NameKind::Other, "gauge"),
                    metric::Data::Histogram(_) | metric::Data::ExponentialHistogram(_) => {
                        (NameKind::Other, "histogram")
                    }
                    metric::Data::Summary(_) => (NameKind::Other, "summary"),
                };
                let Some(name) = metric_name(&m.name, &m.unit, kind, s.suffixes) else {
                    refused.add(
                        points,
                        format!("metric name {:?} has no valid character", m.name),
                    );
                    continue;
                };
                let temporality = match &data {
                    metric::Data::Sum(x) => Some(x.aggregation_temporality),
                    metric::Data::Histogram(h) => Some(h.aggregation_temporality),
                    _ => None,
                };
                if let Some(t) = temporality
                    && t != AggregationTemporality::Cumulative as i32
                {
                    let why = if t == AggregationTemporality::Delta as i32 {
                        "delta temporality is not stored (send cumulative points)"
                    } else {
                        "the aggregation temporality is unspecified"
                    };
                    refused.add(
                        points,
                        format!(
                            "invalid temporality and type combination for metric {:?}: {why}",
                            m.name
                        ),
                    );
                    continue;
                }
                let mut wrote = false;
                let mut note = |r: Result<i64, String>, refused: &mut Refused| match r {
                    Ok(t) => {
                        if times.len() < MAX_TARGET_INFO_SAMPLES {
                            times.insert(t);
                        }
                        wrote = true;
                    }
                    Err(e) => refused.add(1, format!("metric {:?}: {e}", m.name)),
                };
                match data {
                    metric::Data::Gauge(g) => {
                        for p in &g.data_points {
                            let r = time_ms(p.time_unix_nano, now_ms).and_then(|t| {
                                let labels = point_labels(&p.attributes, &target);
                                let series =
                                    out.add(&labels, &name, None, &[Sample { t, v: number(p) }])?;
                                out.add_exemplars(series, exemplars_of(&p.exemplars));
                                Ok(t)
                            });
                            note(r, &mut refused);
                        }
                    }
                    metric::Data::Sum(x) => {
                        for p in &x.data_points {
                            let r = time_ms(p.time_unix_nano, now_ms).and_then(|t| {
                                let labels = point_labels(&p.attributes, &target);
                                let series =
                                    out.add(&labels, &name, None, &[Sample { t, v: number(p) }])?;
                                out.add_exemplars(series, exemplars_of(&p.exemplars));
                                Ok(t)
                            });
                            note(r, &mut refused);
                        }
                    }
                    metric::Data::Histogram(h) => {
                        for p in &h.data_points {
                            let r = histogram(&mut out, &name, p, &target, now_ms);
                            note(r, &mut refused);
                        }
                    }
                    metric::Data::Summary(x) => {
                        for p in &x.data_points {
                            let r = summary(&mut out, &name, p, &target, now_ms);
                            note(r, &mut refused);
                        }
                    }
                    metric::Data::ExponentialHistogram(_) => {
                        refused.add(
                            points,
                            format!(
                                "metric {:?}: exponential histograms are not stored (native histograms are not supported; send explicit-bucket histograms)",
                                m.name
                            ),
                        );
                    }
                }
                if wrote {
                    metadata
                        .entry(name.clone())
                        .or_insert_with(|| MetricMetadata {
                            metric: name,
                            kind: prom_type.into(),
                            help: m.description.clone(),
                            unit: unit_name(&m.unit),
                        });
                }
            }
        }
        if let Some(info) = &target.info
            && !times.is_empty()
        {
            let samples: Vec<Sample> = times.iter().map(|&t| Sample { t, v: 1.0 }).collect();
            if out.add(info, "target_info", None, &samples).is_ok() {
                metadata
                    .entry("target_info".into())
                    .or_insert_with(|| MetricMetadata {
                        metric: "target_info".into(),
                        kind: "gauge".into(),
                        help: "Target metadata".into(),
                        unit: String::new(),
                    });
            }
        }
    }
    Ok((
        WriteBatch {
            tenant: tenant.clone(),
            series: out.into_records(),
            metadata: metadata.into_values().collect(),
        },
        refused,
    ))
}

/// What histograms and summaries share: the point's time and labels, a
/// value as written (the staleness marker for a point with no recorded
/// value), and the `_sum` (when set) and `_count` series.
struct Aggregate<'p> {
    t: i64,
    stale: bool,
    labels: BTreeMap<String, String>,
    name: &'p str,
}

impl<'p> Aggregate<'p> {
    #[allow(clippy::too_many_arguments)]
    fn start(
        out: &mut Series<'_>,
        name: &'p str,
        attrs: &[KeyValue],
        target: &Target,
        time_ns: u64,
        flags: u32,
        sum: Option<f64>,
        count: u64,
        now_ms: i64,
    ) -> Result<Aggregate<'p>, String> {
        let a = Aggregate {
            t: time_ms(time_ns, now_ms)?,
            stale: flags & NO_RECORDED_VALUE != 0,
            labels: point_labels(attrs, target),
            name,
        };
        if let Some(sum) = sum {
            a.series(out, &format!("{name}_sum"), None, sum)?;
        }
        a.series(out, &format!("{name}_count"), None, count as f64)?;
        Ok(a)
    }

    fn series(
        &self,
        out: &mut Series<'_>,
        name: &str,
        extra: Option<(&str, String)>,
        v: f64,
    ) -> Result<Labels, String> {
        let v = if self.stale {
            sightline_core::stale_nan()
        } else {
            v
        };
        out.add(&self.labels, name, extra, &[Sample { t: self.t, v }])
    }
}

fn histogram(
    out: &mut Series<'_>,
    name: &str,
    p: &HistogramDataPoint,
    target: &Target,
    now_ms: i64,
) -> Result<i64, String> {
    let a = Aggregate::start(
        out,
        name,
        &p.attributes,
        target,
        p.time_unix_nano,
        p.flags,
        p.sum,
        p.count,
        now_ms,
    )?;
    let bucket = format!("{}_bucket", a.name);
    let mut running = 0u64;
    let mut buckets: Vec<(f64, Labels)> = Vec::with_capacity(p.explicit_bounds.len() + 1);
    for (bound, n) in p.explicit_bounds.iter().zip(&p.bucket_counts) {
        running = running.saturating_add(*n);
        let le = sightline_core::gofmt::format_f(*bound);
        buckets.push((
            *bound,
            a.series(out, &bucket, Some(("le", le)), running as f64)?,
        ));
    }
    let inf = a.series(out, &bucket, Some(("le", "+Inf".into())), p.count as f64)?;
    buckets.push((f64::INFINITY, inf));
    // Each exemplar on the first bucket whose bound holds its value, as
    // Prometheus's OTLP receiver places them.
    for e in exemplars_of(&p.exemplars) {
        if let Some((_, labels)) = buckets.iter().find(|(bound, _)| e.value <= *bound) {
            out.add_exemplars(labels.clone(), vec![e]);
        }
    }
    Ok(a.t)
}

fn summary(
    out: &mut Series<'_>,
    name: &str,
    p: &SummaryDataPoint,
    target: &Target,
    now_ms: i64,
) -> Result<i64, String> {
    let a = Aggregate::start(
        out,
        name,
        &p.attributes,
        target,
        p.time_unix_nano,
        p.flags,
        Some(p.sum),
        p.count,
        now_ms,
    )?;
    for q in &p.quantile_values {
        let quantile = sightline_core::gofmt::format_f(q.quantile);
        a.series(out, name, Some(("quantile", quantile)), q.value)?;
    }
    Ok(a.t)
}

#[cfg(test)]
mod tests;
