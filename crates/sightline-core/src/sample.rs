/// One sample: a millisecond timestamp and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: i64,
    pub v: f64,
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
