//! Go's locations: UTC (also standing in for `time.Local`), fixed offsets
//! produced by parsing a numeric zone, and every IANA zone through the
//! embedded `chrono-tz` database (which includes the `Etc/GMT±N` fixed
//! offsets). Strings like `+02:00` are not zone names in Go either.
//!
//! Also the zone in effect at an instant, Go's `time.Date` in a location,
//! and `time.LoadLocation`.

use chrono::{Offset, TimeZone};
use chrono_tz::{OffsetName, Tz};

use super::GoTime;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Loc {
    Utc,
    Fixed { name: String, offset: i32 },
    Zone(Tz),
}

impl GoTime {
    /// The zone abbreviation and offset in effect at this instant.
    pub fn zone(&self) -> (String, i32) {
        match &self.loc {
            Loc::Utc => ("UTC".into(), 0),
            Loc::Fixed { name, offset } => (name.clone(), *offset),
            Loc::Zone(tz) => match chrono::DateTime::from_timestamp(self.secs, 0) {
                Some(dt) => {
                    let off = tz.offset_from_utc_datetime(&dt.naive_utc());
                    let secs = off.fix().local_minus_utc();
                    let name = off
                        .abbreviation()
                        .map(str::to_string)
                        .unwrap_or_else(|| numeric_zone(secs));
                    (name, secs)
                }
                None => ("UTC".into(), 0),
            },
        }
    }
}

fn numeric_zone(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.abs() / 60;
    if m % 60 == 0 {
        format!("{sign}{:02}", m / 60)
    } else {
        format!("{sign}{:02}{:02}", m / 60, m % 60)
    }
}

/// Go's `time.Date` for a civil time (as seconds) in `loc`.
pub(super) fn date_in(civil_secs: i64, nsec: u32, loc: &Loc) -> GoTime {
    let probe = |secs| {
        GoTime {
            secs,
            nsec,
            loc: loc.clone(),
        }
        .zone()
        .1
    };
    let off = probe(civil_secs);
    let mut secs = civil_secs;
    if off != 0 {
        let utc = civil_secs - off as i64;
        let off2 = probe(utc);
        secs = civil_secs - off2 as i64;
    }
    GoTime {
        secs,
        nsec,
        loc: loc.clone(),
    }
}

/// Go's `time.LoadLocation`, falling back to UTC as Loki's
/// `toDateInZone` does when the name is unknown.
pub(crate) fn load_location(name: &str) -> Loc {
    match name {
        "" | "UTC" | "Local" => Loc::Utc,
        n => n.parse::<Tz>().map(Loc::Zone).unwrap_or(Loc::Utc),
    }
}
