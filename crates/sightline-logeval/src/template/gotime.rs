//! Go's `time.Time` as templates use it: an instant with a location, and
//! the calendar arithmetic under it.
//!
//! The reference-time layouts (`2006-01-02 15:04:05.999999999 -0700 MST`)
//! are split into elements in `layout`, formatted in `format` and parsed
//! in `parse`; locations and zone lookups live in `zone`, and
//! `time.ParseDuration` in `duration`.

mod duration;
mod format;
mod layout;
mod parse;
mod zone;

pub(crate) use duration::{duration_seconds, parse_duration};
pub(crate) use parse::parse_in_location;
pub(crate) use zone::{Loc, load_location};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GoTime {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second, 0..1e9.
    pub nsec: u32,
    pub loc: Loc,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

use sightline_core::time::{civil_from_days, days_from_civil};

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(m: u32, y: i64) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Go's zero `time.Time`: January 1, year 1, 00:00:00 UTC.
pub(crate) const ZERO_SECS: i64 = -62135596800;

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    wday: usize,
    yday: u32,
}

impl GoTime {
    pub fn zero() -> GoTime {
        GoTime {
            secs: ZERO_SECS,
            nsec: 0,
            loc: Loc::Utc,
        }
    }

    /// Go's `time.Unix(0, ns)` in `time.Local` (UTC here).
    pub fn from_unix_nanos(ns: i64) -> GoTime {
        GoTime {
            secs: ns.div_euclid(1_000_000_000),
            nsec: ns.rem_euclid(1_000_000_000) as u32,
            loc: Loc::Utc,
        }
    }

    /// Go's `time.Unix(sec, 0)`.
    pub fn from_unix(secs: i64) -> GoTime {
        GoTime {
            secs,
            nsec: 0,
            loc: Loc::Utc,
        }
    }

    pub fn unix_nanos(&self) -> i64 {
        self.secs
            .wrapping_mul(1_000_000_000)
            .wrapping_add(self.nsec as i64)
    }

    pub fn unix_millis(&self) -> i64 {
        self.secs
            .wrapping_mul(1000)
            .wrapping_add((self.nsec / 1_000_000) as i64)
    }

    fn civil(&self, offset: i32) -> Civil {
        let local = self.secs.saturating_add(offset as i64);
        let days = local.div_euclid(86400);
        let rem = local.rem_euclid(86400) as u32;
        let (year, month, day) = civil_from_days(days);
        let yday = (days - days_from_civil(year, 1, 1)) as u32 + 1;
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            min: rem / 60 % 60,
            sec: rem % 60,
            wday: (days + 4).rem_euclid(7) as usize,
            yday,
        }
    }

    /// Go's `Time.In(time.Local)`, with Local being UTC.
    pub fn in_utc(&self) -> GoTime {
        GoTime {
            loc: Loc::Utc,
            ..self.clone()
        }
    }
}
