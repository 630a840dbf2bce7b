//! Calendar functions (`hour()`, `month()`, ...), in UTC, on the proleptic
//! Gregorian calendar as Go's `time` package computes it.

use sightline_core::Labels;
use sightline_promql::functions::Function as F;

use crate::EvalError;
use crate::evaluator::{Elem, Vector};

/// A civil date and time in UTC.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    weekday: i64,
    yday: i64,
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
    }
}

fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut yday = day;
    for m in 1..month {
        yday += days_in_month(year, m);
    }
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: (rem % 3600) / 60,
        // 1970-01-01 was a Thursday (4).
        weekday: (days + 4).rem_euclid(7),
        yday,
    }
}

fn field(func: F, c: &Civil) -> f64 {
    (match func {
        F::DaysInMonth => days_in_month(c.year, c.month),
        F::DayOfMonth => c.day,
        F::DayOfWeek => c.weekday,
        F::DayOfYear => c.yday,
        F::Hour => c.hour,
        F::Minute => c.minute,
        F::Month => c.month,
        _ => c.year,
    }) as f64
}

/// Go's `int64(f)` for the seconds of a timestamp value: truncation, with
/// NaN and out-of-range values mapping to the minimum as on amd64.
fn go_int64(f: f64) -> i64 {
    if f.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

pub(crate) fn date_fn(func: F, arg: Option<&Vector>, ts: i64) -> Result<Vector, EvalError> {
    match arg {
        None => Ok(vec![Elem {
            labels: Labels::empty(),
            v: field(func, &civil(ts / 1000)),
            t: ts,
            drop_name: false,
        }]),
        Some(v) => Ok(v
            .iter()
            .map(|e| Elem {
                labels: e.labels.clone(),
                v: field(func, &civil(go_int64(e.v))),
                t: e.t,
                drop_name: true,
            })
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        let c = civil(0);
        assert_eq!(
            (c.year, c.month, c.day, c.weekday, c.yday),
            (1970, 1, 1, 4, 1)
        );
        // 2024-02-29T13:45:00Z
        let c = civil(1_709_214_300);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2024, 2, 29, 13, 45)
        );
        assert_eq!(c.yday, 60);
        assert_eq!(days_in_month(c.year, c.month), 29);
        // 1969-12-31T23:59:59Z
        let c = civil(-1);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.weekday),
            (1969, 12, 31, 23, 3)
        );
    }
}
