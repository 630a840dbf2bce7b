//! Deterministic test data: the same series and samples go to Sightline and
//! to Prometheus.
//!
//! Shape (all relative to `end`, a whole minute shortly before now; two hours
//! of data, one sample every 15 s per target):
//! - every sample timestamp carries a fixed sub-second offset per target
//!   (`113 + 97·i` ms, never zero), so evaluation times (whole seconds) and
//!   range boundaries (whole seconds) never coincide with a sample; this
//!   keeps Prometheus 2.x (left-closed windows) and 3.x (left-open) equal;
//! - `http_requests_total{job,instance,method,code}`: 3 jobs × 3 instances ×
//!   3 methods × 3 codes counters, some with resets;
//! - `node_temperature_celsius`, `memory_bytes`, `up`: gauges (temperature
//!   goes negative; `up` drops to 0 for one target for a while);
//! - `request_duration_seconds_{bucket,sum,count}`: classic histograms per
//!   target, buckets `0.05 … 2.5, +Inf`, one target resets;
//! - `flaky_gauge`: gaps longer than the 5m lookback, a short gap, a series
//!   that just stops;
//! - `batch_last_success_timestamp_seconds`: series that end with an
//!   explicit staleness marker, one that stops without one, one that goes
//!   stale and comes back;
//! - `ratio_num` / `ratio_den` (`case` label): 0/0, x/0, -x/0 and normal
//!   divisions; `weird_values{kind}`: NaN, +Inf and -Inf samples;
//! - `target_info{job,instance,region,version}` = 1 for joins;
//! - `oracle_sentinel`: one last sample, pushed last, that tells when both
//!   stores have everything.

/// Data length, seconds.
pub const SPAN_SECS: i64 = 2 * 3600;
/// Scrape interval, seconds.
pub const INTERVAL_SECS: i64 = 15;

/// One series: sorted labels (including `__name__`) and samples in time order.
#[derive(Clone, Debug)]
pub struct Series {
    pub labels: Vec<(String, String)>,
    /// (timestamp ms, value)
    pub samples: Vec<(i64, f64)>,
}

/// All generated series plus the window they cover.
#[derive(Debug)]
pub struct Dataset {
    pub series: Vec<Series>,
    /// First sample time (ms, exclusive lower bound for sample timestamps).
    pub start_ms: i64,
    /// Whole-minute end of the data (ms); every sample is before it.
    pub end_ms: i64,
}

impl Dataset {
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }
}

/// xorshift64*: tiny, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let m = 10f64.powi(decimals);
    (v * m).round() / m
}

const JOBS: [&str; 3] = ["api", "db", "web"];
const INSTANCES: [&str; 3] = ["10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100"];
const METHODS: [&str; 3] = ["GET", "POST", "DELETE"];
const CODES: [&str; 3] = ["200", "404", "500"];
const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "ap-south-1"];
const BUCKETS: [(f64, &str); 7] = [
    (0.05, "0.05"),
    (0.1, "0.1"),
    (0.25, "0.25"),
    (0.5, "0.5"),
    (1.0, "1"),
    (2.5, "2.5"),
    (f64::INFINITY, "+Inf"),
];

struct Builder {
    series: Vec<Series>,
    start_ms: i64,
    end_ms: i64,
}

impl Builder {
    fn push(&mut self, name: &str, labels: &[(&str, &str)], samples: Vec<(i64, f64)>) {
        let mut l: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        l.push(("__name__".to_string(), name.to_string()));
        l.sort();
        self.series.push(Series { labels: l, samples });
    }

    /// Scrape times of one target: every 15 s from the start plus the
    /// target's sub-second offset, strictly before the end.
    fn times(&self, target: usize) -> Vec<i64> {
        let off = offset_ms(target);
        let n = SPAN_SECS / INTERVAL_SECS;
        (0..n)
            .map(|k| self.start_ms + k * INTERVAL_SECS * 1000 + off)
            .filter(|t| *t < self.end_ms)
            .collect()
    }

    /// Time relative to the end, in ms.
    fn rel(&self, secs_before_end: i64) -> i64 {
        self.end_ms - secs_before_end * 1000
    }
}

/// Fixed sub-second offset of a target, in ms; never 0.
fn offset_ms(target: usize) -> i64 {
    113 + 97 * (target as i64 % 9)
}

/// Generates the data set for data ending at `end_secs` (a whole minute).
pub fn generate(end_secs: i64) -> Dataset {
    let end_ms = end_secs * 1000;
    let start_ms = end_ms - SPAN_SECS * 1000;
    let mut rng = Rng::new(0x05EE_D0F0_AC1E);
    let mut b = Builder {
        series: Vec::new(),
        start_ms,
        end_ms,
    };

    // Counters with resets: jobs × instances × methods × codes.
    let mut idx = 0usize;
    for (ji, job) in JOBS.iter().enumerate() {
        for (ii, inst) in INSTANCES.iter().enumerate() {
            let target = ji * 3 + ii;
            let times = b.times(target);
            for (mi, method) in METHODS.iter().enumerate() {
                for code in CODES {
                    let base = match code {
                        "200" => 4.0,
                        "404" => 0.4,
                        _ => 0.08,
                    } * [1.0, 0.5, 0.1][mi];
                    let mut v = rng.range(0.0, 1000.0).floor();
                    let mut samples = Vec::with_capacity(times.len());
                    for (k, t) in times.iter().enumerate() {
                        let inc = (base * 15.0 * rng.range(0.3, 1.7)).floor();
                        let reset = (idx % 7 == 3 && k == 200) || (idx % 11 == 5 && k == 350);
                        if reset {
                            v = inc;
                        } else {
                            v += inc;
                        }
                        samples.push((*t, v));
                    }
                    b.push(
                        "http_requests_total",
                        &[
                            ("job", job),
                            ("instance", inst),
                            ("method", method),
                            ("code", code),
                        ],
                        samples,
                    );
                    idx += 1;
                }
            }
        }
    }

    // Gauges per target.
    for (ji, job) in JOBS.iter().enumerate() {
        for (ii, inst) in INSTANCES.iter().enumerate() {
            let target = ji * 3 + ii;
            let times = b.times(target);
            let phase = target as f64 * 0.7;
            let temp: Vec<(i64, f64)> = times
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    let v = 6.0 * (k as f64 / 40.0 + phase).sin() + rng.range(-0.5, 0.5) - 1.5
                        + ii as f64;
                    (*t, round_to(v, 3))
                })
                .collect();
            b.push(
                "node_temperature_celsius",
                &[("job", job), ("instance", inst)],
                temp,
            );

            let mem: Vec<(i64, f64)> = times
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    let v = 1.0e9 * (1.0 + target as f64 / 4.0)
                        + k as f64 * 2.5e5 * (ji as f64 - 1.0)
                        + rng.range(-1.0e5, 1.0e5);
                    (*t, v.round())
                })
                .collect();
            b.push("memory_bytes", &[("job", job), ("instance", inst)], mem);

            let down = (b.rel(22 * 60), b.rel(12 * 60));
            let up: Vec<(i64, f64)> = times
                .iter()
                .map(|t| {
                    let v = if target == 7 && *t >= down.0 && *t < down.1 {
                        0.0
                    } else {
                        1.0
                    };
                    (*t, v)
                })
                .collect();
            b.push("up", &[("job", job), ("instance", inst)], up);

            let info: Vec<(i64, f64)> = times.iter().map(|t| (*t, 1.0)).collect();
            let version = ["1.2.0", "1.3.1", "2.0.0"][ji];
            b.push(
                "target_info",
                &[
                    ("job", job),
                    ("instance", inst),
                    ("region", REGIONS[ii]),
                    ("version", version),
                ],
                info,
            );
        }
    }

    // Classic histograms per target; target 4 resets at sample 300.
    for (ji, job) in JOBS.iter().enumerate() {
        for (ii, inst) in INSTANCES.iter().enumerate() {
            let target = ji * 3 + ii;
            let times = b.times(target);
            let scale = [0.08, 0.3, 0.15][ji] * (1.0 + ii as f64 * 0.5);
            let mut counts = [0.0f64; BUCKETS.len()];
            let mut sum = 0.0;
            let mut bucket_samples: Vec<Vec<(i64, f64)>> = vec![Vec::new(); BUCKETS.len()];
            let mut sum_samples = Vec::new();
            let mut count_samples = Vec::new();
            for (k, t) in times.iter().enumerate() {
                if target == 4 && k == 300 {
                    counts = [0.0; BUCKETS.len()];
                    sum = 0.0;
                }
                let n = 3 + (rng.next_u64() % 20) as usize;
                for _ in 0..n {
                    // exponential with mean `scale`
                    let d = -scale * (1.0 - rng.f64()).ln();
                    let d = round_to(d, 4);
                    sum += d;
                    for (bi, (le, _)) in BUCKETS.iter().enumerate() {
                        if d <= *le {
                            counts[bi] += 1.0;
                        }
                    }
                }
                for (bi, c) in counts.iter().enumerate() {
                    bucket_samples[bi].push((*t, *c));
                }
                sum_samples.push((*t, round_to(sum, 4)));
                count_samples.push((*t, counts[BUCKETS.len() - 1]));
            }
            for (bi, (_, le)) in BUCKETS.iter().enumerate() {
                b.push(
                    "request_duration_seconds_bucket",
                    &[("job", job), ("instance", inst), ("le", le)],
                    std::mem::take(&mut bucket_samples[bi]),
                );
            }
            b.push(
                "request_duration_seconds_sum",
                &[("job", job), ("instance", inst)],
                sum_samples,
            );
            b.push(
                "request_duration_seconds_count",
                &[("job", job), ("instance", inst)],
                count_samples,
            );
        }
    }

    // Gaps longer than the lookback, a short gap, and a series that stops.
    for (i, inst) in ["a", "b", "c"].iter().enumerate() {
        let times = b.times(i + 2);
        let gaps: Vec<(i64, i64)> = match i {
            0 => vec![
                (b.rel(100 * 60), b.rel(88 * 60)),
                (b.rel(52 * 60), b.rel(36 * 60)),
            ],
            1 => vec![(b.rel(20 * 60), b.rel(17 * 60))],
            _ => vec![(b.rel(10 * 60), end_ms)],
        };
        let samples: Vec<(i64, f64)> = times
            .iter()
            .enumerate()
            .filter(|(_, t)| !gaps.iter().any(|(lo, hi)| **t >= *lo && **t < *hi))
            .map(|(k, t)| {
                (
                    *t,
                    round_to(50.0 + 20.0 * (k as f64 / 25.0).cos() + i as f64, 2),
                )
            })
            .collect();
        b.push(
            "flaky_gauge",
            &[("job", "flaky"), ("instance", inst)],
            samples,
        );
    }

    // Staleness markers. Value = the sample's own timestamp in seconds, as
    // a "last success" metric would hold.
    let stale = sightline_core::stale_nan();
    for (i, inst) in ["b1", "b2", "b3"].iter().enumerate() {
        let times = b.times(i + 5);
        let mut samples = Vec::new();
        let mut went_stale = false;
        for t in times {
            let keep = match i {
                0 => t < b.rel(25 * 60),
                1 => t < b.rel(19 * 60),
                _ => t < b.rel(45 * 60) || t >= b.rel(38 * 60),
            };
            if keep {
                samples.push((t, (t / 1000) as f64));
                went_stale = false;
            } else if i != 1 && !went_stale {
                samples.push((t, stale));
                went_stale = true;
            }
        }
        b.push(
            "batch_last_success_timestamp_seconds",
            &[("job", "batch"), ("instance", inst)],
            samples,
        );
    }

    // Divisions that give NaN and ±Inf.
    let times = b.times(1);
    for (case, num, den) in [
        ("zero_over_zero", 0.0, 0.0),
        ("pos_over_zero", 5.0, 0.0),
        ("neg_over_zero", -3.0, 0.0),
        ("normal", 7.0, 2.0),
    ] {
        let mut ns = Vec::new();
        let mut ds = Vec::new();
        for (k, t) in times.iter().enumerate() {
            let wobble = if case == "normal" {
                (k % 5) as f64
            } else {
                0.0
            };
            ns.push((*t, num + wobble));
            ds.push((
                *t,
                den + if case == "normal" {
                    (k % 3) as f64
                } else {
                    0.0
                },
            ));
        }
        b.push("ratio_num", &[("job", "ratio"), ("case", case)], ns);
        b.push("ratio_den", &[("job", "ratio"), ("case", case)], ds);
    }
    let times = b.times(3);
    for kind in ["nan", "inf", "neg_inf"] {
        let samples: Vec<(i64, f64)> = times
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let v = match kind {
                    "nan" if k % 4 == 0 => f64::NAN,
                    "nan" => k as f64,
                    "inf" if k % 10 == 0 => 1.0,
                    "inf" => f64::INFINITY,
                    _ => f64::NEG_INFINITY,
                };
                (*t, v)
            })
            .collect();
        b.push("weird_values", &[("job", "weird"), ("kind", kind)], samples);
    }

    // The sentinel: one sample just after every other one.
    let last = b
        .series
        .iter()
        .filter_map(|s| s.samples.last().map(|x| x.0))
        .max()
        .unwrap_or(start_ms);
    b.push("oracle_sentinel", &[], vec![(last + 1, 1.0)]);

    Dataset {
        series: b.series,
        start_ms,
        end_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_off_grid() {
        let a = generate(1_700_000_040);
        let b = generate(1_700_000_040);
        assert_eq!(a.sample_count(), b.sample_count());
        for (x, y) in a.series.iter().zip(&b.series) {
            assert_eq!(x.labels, y.labels);
            for (p, q) in x.samples.iter().zip(&y.samples) {
                assert_eq!(p.0, q.0);
                assert_eq!(p.1.to_bits(), q.1.to_bits());
            }
        }
        for s in &a.series {
            for w in s.samples.windows(2) {
                assert!(w[0].0 < w[1].0, "time order");
            }
            for (t, _) in &s.samples {
                assert_ne!(t % 1000, 0, "no sample on a whole second");
                assert!(*t > a.start_ms && *t < a.end_ms + 1000);
            }
        }
    }
}
