/// One sample: a millisecond timestamp and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: i64,
    pub v: f64,
}

/// An exemplar of a series: one measured value with labels of its own
/// (the trace and span it was measured in, and the producer's filtered
/// attributes), at a millisecond timestamp, as Prometheus keeps them.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    pub labels: crate::Labels,
    pub value: f64,
    pub t: i64,
}

/// The most characters of label names and values one exemplar carries, as
/// Prometheus limits them (`ExemplarMaxLabelSetLength`).
pub const EXEMPLAR_MAX_LABEL_RUNES: usize = 128;

/// The bit pattern Prometheus uses for a staleness marker (a signalling NaN).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether a value is exactly the staleness marker (not just any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Sorts samples by time; of samples sharing a timestamp, the one that came
/// last in the input wins (the sort is stable).
pub fn sort_dedup(s: &mut Vec<Sample>) {
    s.sort_by_key(|x| x.t);
    let mut out: Vec<Sample> = Vec::with_capacity(s.len());
    for x in s.drain(..) {
        match out.last_mut() {
            Some(l) if l.t == x.t => *l = x,
            _ => out.push(x),
        }
    }
    *s = out;
}

/// Index of the first sample at or after `t` in time-sorted samples.
///
/// Scrape series are nearly regular, so the index is first guessed by
/// interpolating between the first and last timestamps and then found by
/// galloping from the guess: a few cache lines per look-up instead of the
/// dozen a binary search over a long series touches.
pub fn lower_bound(s: &[Sample], t: i64) -> usize {
    let n = s.len();
    if n == 0 || s[0].t >= t {
        return 0;
    }
    if s[n - 1].t < t {
        return n;
    }
    // Here s[0].t < t <= s[n - 1].t, so n >= 2.
    let (t0, t1) = (i128::from(s[0].t), i128::from(s[n - 1].t));
    let guess = ((i128::from(t) - t0) * (n as i128 - 1) / (t1 - t0).max(1)) as usize;
    let guess = guess.min(n - 1);
    // Bracket the answer between lo (before t) and hi (at or after t).
    let (lo, hi) = if s[guess].t < t {
        let (mut lo, mut step) = (guess, 1);
        loop {
            let h = lo + step;
            if h >= n - 1 || s[h].t >= t {
                break (lo, h.min(n - 1));
            }
            lo = h;
            step *= 2;
        }
    } else {
        let (mut hi, mut step) = (guess, 1);
        loop {
            if hi < step {
                break (0, hi);
            }
            let l = hi - step;
            if s[l].t < t {
                break (l, hi);
            }
            hi = l;
            step *= 2;
        }
    };
    lo + 1 + s[lo + 1..hi].partition_point(|x| x.t < t)
}

/// The index range of the samples with `start <= t <= end`.
pub fn time_window(s: &[Sample], start: i64, end: i64) -> std::ops::Range<usize> {
    let lo = lower_bound(s, start);
    let hi = match end.checked_add(1) {
        Some(e) => lower_bound(s, e),
        None => s.len(),
    };
    lo..hi.max(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_bound_agrees_with_binary_search() {
        // Irregular, regular, clustered and single-sample series.
        let mut x: u64 = 7;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..400 {
            let n = (next() % 60) as usize;
            let mut t = (next() % 1000) as i64 - 500;
            let mut s = Vec::new();
            for _ in 0..n {
                t += match case % 3 {
                    0 => 15,
                    1 => 1 + (next() % 40) as i64,
                    _ => [1, 1, 1, 5000][(next() % 4) as usize],
                };
                s.push(Sample { t, v: 0.0 });
            }
            for _ in 0..50 {
                let q = (next() % 3000) as i64 - 1000;
                let want = s.partition_point(|x| x.t < q);
                assert_eq!(lower_bound(&s, q), want, "case {case} t {q} in {s:?}");
                let end = q + (next() % 200) as i64;
                let r = time_window(&s, q, end);
                assert_eq!(r, want..s.partition_point(|x| x.t <= end).max(want));
            }
        }
        let one = [Sample { t: 5, v: 0.0 }];
        assert_eq!(time_window(&one, i64::MIN, i64::MAX), 0..1);
        assert_eq!(time_window(&one, 6, 4), 1..1);
    }

    #[test]
    fn sort_dedup_keeps_the_last_written() {
        let mut v = vec![
            Sample { t: 2, v: 1.0 },
            Sample { t: 1, v: 0.0 },
            Sample { t: 2, v: 9.0 },
        ];
        sort_dedup(&mut v);
        assert_eq!(v, vec![Sample { t: 1, v: 0.0 }, Sample { t: 2, v: 9.0 }]);
    }

    #[test]
    fn stale_marker_is_distinct_from_plain_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
        assert!(stale_nan().is_nan());
    }
}
