//! Go's `time.Time` as templates use it: an instant with a location,
//! formatted and parsed with Go's reference-time layouts
//! (`2006-01-02 15:04:05.999999999 -0700 MST`), and `time.ParseDuration`.
//!
//! Locations: UTC (also standing in for `time.Local`), fixed offsets
//! produced by parsing a numeric zone, and every IANA zone through the
//! embedded `chrono-tz` database (which includes the `Etc/GMT±N` fixed
//! offsets). Strings like `+02:00` are not zone names in Go either.

use chrono::{Offset, TimeZone};
use chrono_tz::{OffsetName, Tz};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Loc {
    Utc,
    Fixed { name: String, offset: i32 },
    Zone(Tz),
}

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

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

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

    /// Go's `Time.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let (zname, offset) = self.zone();
        let c = self.civil(offset);
        let mut out = String::new();
        let mut rest = layout;
        while !rest.is_empty() {
            let (prefix, std, suffix) = next_std_chunk(rest);
            out.push_str(prefix);
            let Some(std) = std else {
                break;
            };
            rest = suffix;
            match std {
                Std::Year => push_int(&mut out, c.year.abs() % 100, 2),
                Std::LongYear => push_int(&mut out, c.year, 4),
                Std::Month => out.push_str(&MONTHS[c.month as usize - 1][..3]),
                Std::LongMonth => out.push_str(MONTHS[c.month as usize - 1]),
                Std::NumMonth => push_int(&mut out, c.month as i64, 0),
                Std::ZeroMonth => push_int(&mut out, c.month as i64, 2),
                Std::WeekDay => out.push_str(&DAYS[c.wday][..3]),
                Std::LongWeekDay => out.push_str(DAYS[c.wday]),
                Std::Day => push_int(&mut out, c.day as i64, 0),
                Std::UnderDay => {
                    if c.day < 10 {
                        out.push(' ');
                    }
                    push_int(&mut out, c.day as i64, 0);
                }
                Std::ZeroDay => push_int(&mut out, c.day as i64, 2),
                Std::UnderYearDay => {
                    if c.yday < 100 {
                        out.push(' ');
                        if c.yday < 10 {
                            out.push(' ');
                        }
                    }
                    push_int(&mut out, c.yday as i64, 0);
                }
                Std::ZeroYearDay => push_int(&mut out, c.yday as i64, 3),
                Std::Hour => push_int(&mut out, c.hour as i64, 2),
                Std::Hour12 | Std::ZeroHour12 => {
                    let h = match c.hour % 12 {
                        0 => 12,
                        h => h,
                    };
                    push_int(&mut out, h as i64, if std == Std::Hour12 { 0 } else { 2 });
                }
                Std::Minute => push_int(&mut out, c.min as i64, 0),
                Std::ZeroMinute => push_int(&mut out, c.min as i64, 2),
                Std::Second => push_int(&mut out, c.sec as i64, 0),
                Std::ZeroSecond => push_int(&mut out, c.sec as i64, 2),
                Std::PM => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
                Std::Pm => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
                Std::Tz(kind) => {
                    if kind.iso && offset == 0 {
                        out.push('Z');
                        continue;
                    }
                    let zone = offset / 60;
                    let abs = offset.abs();
                    out.push(if zone < 0 { '-' } else { '+' });
                    push_int(&mut out, (zone.abs() / 60) as i64, 2);
                    if kind.colon {
                        out.push(':');
                    }
                    if kind.width != TzWidth::Hours {
                        push_int(&mut out, (zone.abs() % 60) as i64, 2);
                    }
                    if kind.width == TzWidth::Seconds {
                        if kind.colon {
                            out.push(':');
                        }
                        push_int(&mut out, (abs % 60) as i64, 2);
                    }
                }
                Std::TzName => {
                    if !zname.is_empty() {
                        out.push_str(&zname);
                    } else {
                        out.push_str(&numeric_zone_long(offset));
                    }
                }
                Std::Frac { nines, digits, sep } => {
                    let frac = format!("{:09}", self.nsec);
                    let mut d = &frac[..digits.min(9)];
                    if nines {
                        d = d.trim_end_matches('0');
                        if d.is_empty() {
                            continue;
                        }
                    }
                    out.push(sep);
                    out.push_str(d);
                }
            }
        }
        out
    }
}

impl std::fmt::Display for GoTime {
    /// Go's `Time.String()` (without the monotonic clock reading).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format("2006-01-02 15:04:05.999999999 -0700 MST"))
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

fn numeric_zone_long(secs: i32) -> String {
    let zone = secs / 60;
    let sign = if zone < 0 { '-' } else { '+' };
    format!("{sign}{:02}{:02}", zone.abs() / 60, zone.abs() % 60)
}

fn push_int(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
    }
    let s = v.unsigned_abs().to_string();
    for _ in s.len()..width {
        out.push('0');
    }
    out.push_str(&s);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TzWidth {
    Hours,
    Minutes,
    Seconds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TzKind {
    iso: bool,
    colon: bool,
    width: TzWidth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TzName,
    Tz(TzKind),
    Frac {
        nines: bool,
        digits: usize,
        sep: char,
    },
}

fn starts_lower(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
}

/// Go's `nextStdChunk`: the text before the first layout element, the
/// element, and the rest.
fn next_std_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| layout[i..].starts_with(s);
    for i in 0..b.len() {
        let r = |std: Std, len: usize| (&layout[..i], Some(std), &layout[i + len..]);
        match b[i] {
            b'J' if at(i, "Jan") => {
                if at(i, "January") {
                    return r(Std::LongMonth, 7);
                }
                if !starts_lower(&layout[i + 3..]) {
                    return r(Std::Month, 3);
                }
            }
            b'M' => {
                if at(i, "Mon") {
                    if at(i, "Monday") {
                        return r(Std::LongWeekDay, 6);
                    }
                    if !starts_lower(&layout[i + 3..]) {
                        return r(Std::WeekDay, 3);
                    }
                }
                if at(i, "MST") {
                    return r(Std::TzName, 3);
                }
            }
            b'0' => {
                if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) {
                    let std = [
                        Std::ZeroMonth,
                        Std::ZeroDay,
                        Std::ZeroHour12,
                        Std::ZeroMinute,
                        Std::ZeroSecond,
                        Std::Year,
                    ][(b[i + 1] - b'1') as usize];
                    return r(std, 2);
                }
                if at(i, "002") {
                    return r(Std::ZeroYearDay, 3);
                }
            }
            b'1' => {
                if at(i, "15") {
                    return r(Std::Hour, 2);
                }
                return r(Std::NumMonth, 1);
            }
            b'2' => {
                if at(i, "2006") {
                    return r(Std::LongYear, 4);
                }
                return r(Std::Day, 1);
            }
            b'_' => {
                if at(i, "_2") {
                    if at(i, "_2006") {
                        return (&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]);
                    }
                    return r(Std::UnderDay, 2);
                }
                if at(i, "__2") {
                    return r(Std::UnderYearDay, 3);
                }
            }
            b'3' => return r(Std::Hour12, 1),
            b'4' => return r(Std::Minute, 1),
            b'5' => return r(Std::Second, 1),
            b'P' if at(i, "PM") => return r(Std::PM, 2),
            b'p' if at(i, "pm") => return r(Std::Pm, 2),
            b'-' | b'Z' => {
                let iso = b[i] == b'Z';
                let tz = |colon, width| Std::Tz(TzKind { iso, colon, width });
                let c = if iso { "Z" } else { "-" };
                if at(i, &format!("{c}070000")) {
                    return r(tz(false, TzWidth::Seconds), 7);
                }
                if at(i, &format!("{c}07:00:00")) {
                    return r(tz(true, TzWidth::Seconds), 9);
                }
                if at(i, &format!("{c}0700")) {
                    return r(tz(false, TzWidth::Minutes), 5);
                }
                if at(i, &format!("{c}07:00")) {
                    return r(tz(true, TzWidth::Minutes), 6);
                }
                if at(i, &format!("{c}07")) {
                    return r(tz(false, TzWidth::Hours), 3);
                }
            }
            b'.' | b',' if i + 1 < b.len() && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                if !(j < b.len() && b[j].is_ascii_digit()) {
                    let std = Std::Frac {
                        nines: ch == b'9',
                        digits: j - (i + 1),
                        sep: b[i] as char,
                    };
                    return (&layout[..i], Some(std), &layout[j..]);
                }
            }
            _ => {}
        }
    }
    (layout, None, "")
}

fn lookup_name<'a>(names: impl Iterator<Item = &'a str>, val: &str) -> Option<(usize, usize)> {
    for (i, n) in names.enumerate() {
        if val.len() >= n.len() && val.as_bytes()[..n.len()].eq_ignore_ascii_case(n.as_bytes()) {
            return Some((i, n.len()));
        }
    }
    None
}

fn getnum(v: &str, fixed: bool) -> Option<(u32, &str)> {
    let b = v.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return None;
    }
    if b.len() < 2 || !b[1].is_ascii_digit() {
        if fixed {
            return None;
        }
        return Some(((b[0] - b'0') as u32, &v[1..]));
    }
    Some((((b[0] - b'0') * 10 + (b[1] - b'0')) as u32, &v[2..]))
}

fn getnum3(v: &str, fixed: bool) -> Option<(u32, &str)> {
    let b = v.as_bytes();
    let mut n = 0u32;
    let mut i = 0;
    while i < 3 && i < b.len() && b[i].is_ascii_digit() {
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    if i == 0 || fixed && i != 3 {
        return None;
    }
    Some((n, &v[i..]))
}

fn parse_nanos(v: &str, nbytes: usize) -> Option<u32> {
    let b = v.as_bytes();
    if b.is_empty() || (b[0] != b'.' && b[0] != b',') || nbytes > b.len() {
        return None;
    }
    let digits = &v[1..nbytes.clamp(1, 10)];
    if !digits.bytes().all(|c| c.is_ascii_digit())
        || !v[1..nbytes].bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut ns: u32 = digits.parse().unwrap_or(0);
    for _ in digits.len()..9 {
        ns *= 10;
    }
    Some(ns)
}

/// Go's `time.ParseInLocation(layout, value, loc)`; `None` where Go
/// returns an error (every caller here turns that into the zero time).
pub(crate) fn parse_in_location(layout: &str, value: &str, loc: &Loc) -> Option<GoTime> {
    let mut layout = layout;
    let mut value = value;
    let mut year: i64 = 1;
    let mut month: i64 = -1;
    let mut day: i64 = -1;
    let mut yday: i64 = -1;
    let mut hour: u32 = 0;
    let mut min: u32 = 0;
    let mut sec: u32 = 0;
    let mut nsec: u32 = 0;
    let mut pm_set = false;
    let mut am_set = false;
    let mut z_utc = false;
    let mut zone_offset: Option<i32> = None;
    let mut zone_name: Option<String> = None;
    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        let std_str = &layout[prefix.len()..layout.len() - suffix.len()];
        value = skip_prefix(value, prefix)?;
        let Some(std) = std else {
            if !value.is_empty() {
                return None;
            }
            break;
        };
        layout = suffix;
        let hold = value;
        match std {
            Std::Year => {
                if value.len() < 2 || !value.as_bytes()[..2].iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let y: i64 = value[..2].parse().ok()?;
                year = if y >= 69 { y + 1900 } else { y + 2000 };
                value = &value[2..];
            }
            Std::LongYear => {
                if value.len() < 4 || !value.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
                    return None;
                }
                year = value[..4].parse().ok()?;
                value = &value[4..];
            }
            Std::Month | Std::LongMonth => {
                let (i, n) = if std == Std::Month {
                    lookup_name(MONTHS.iter().map(|m| &m[..3]), value)?
                } else {
                    lookup_name(MONTHS.iter().copied(), value)?
                };
                month = i as i64 + 1;
                value = &value[n..];
            }
            Std::NumMonth | Std::ZeroMonth => {
                let (m, r) = getnum(value, std == Std::ZeroMonth)?;
                if !(1..=12).contains(&m) {
                    return None;
                }
                month = m as i64;
                value = r;
            }
            Std::WeekDay | Std::LongWeekDay => {
                let (_, n) = if std == Std::WeekDay {
                    lookup_name(DAYS.iter().map(|d| &d[..3]), value)?
                } else {
                    lookup_name(DAYS.iter().copied(), value)?
                };
                value = &value[n..];
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                if std == Std::UnderDay && value.starts_with(' ') {
                    value = &value[1..];
                }
                let (d, r) = getnum(value, std == Std::ZeroDay)?;
                day = d as i64;
                value = r;
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                for _ in 0..2 {
                    if std == Std::UnderYearDay && value.starts_with(' ') {
                        value = &value[1..];
                    }
                }
                let (d, r) = getnum3(value, std == Std::ZeroYearDay)?;
                if !(1..=366).contains(&d) {
                    return None;
                }
                yday = d as i64;
                value = r;
            }
            Std::Hour => {
                let (h, r) = getnum(value, false)?;
                if h >= 24 {
                    return None;
                }
                hour = h;
                value = r;
            }
            Std::Hour12 | Std::ZeroHour12 => {
                let (h, r) = getnum(value, std == Std::ZeroHour12)?;
                if h > 12 {
                    return None;
                }
                hour = h;
                value = r;
            }
            Std::Minute | Std::ZeroMinute => {
                let (m, r) = getnum(value, std == Std::ZeroMinute)?;
                if m >= 60 {
                    return None;
                }
                min = m;
                value = r;
            }
            Std::Second | Std::ZeroSecond => {
                let (s, r) = getnum(value, std == Std::ZeroSecond)?;
                if s >= 60 {
                    return None;
                }
                sec = s;
                value = r;
                let vb = value.as_bytes();
                if vb.len() >= 2 && (vb[0] == b'.' || vb[0] == b',') && vb[1].is_ascii_digit() {
                    let (_, next, _) = next_std_chunk(layout);
                    if !matches!(next, Some(Std::Frac { .. })) {
                        let mut n = 2;
                        while n < vb.len() && vb[n].is_ascii_digit() {
                            n += 1;
                        }
                        nsec = parse_nanos(value, n)?;
                        value = &value[n..];
                    }
                }
            }
            Std::PM | Std::Pm => {
                if value.len() < 2 {
                    return None;
                }
                let p = &value[..2];
                match (std, p) {
                    (Std::PM, "PM") | (Std::Pm, "pm") => pm_set = true,
                    (Std::PM, "AM") | (Std::Pm, "am") => am_set = true,
                    _ => return None,
                }
                value = &value[2..];
            }
            Std::Tz(kind) => {
                if kind.iso && value.starts_with('Z') {
                    value = &value[1..];
                    z_utc = true;
                    continue;
                }
                let b = value.as_bytes();
                let need = match (kind.width, kind.colon) {
                    (TzWidth::Hours, _) => 3,
                    (TzWidth::Minutes, false) => 5,
                    (TzWidth::Minutes, true) => 6,
                    (TzWidth::Seconds, false) => 7,
                    (TzWidth::Seconds, true) => 9,
                };
                if b.len() < need || (b[0] != b'+' && b[0] != b'-') {
                    return None;
                }
                let digits = |s: &str| -> Option<i32> {
                    if s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit()) {
                        s.parse().ok()
                    } else {
                        None
                    }
                };
                let hh = digits(&value[1..3])?;
                let (mm, ss) = match (kind.width, kind.colon) {
                    (TzWidth::Hours, _) => (0, 0),
                    (TzWidth::Minutes, false) => (digits(&value[3..5])?, 0),
                    (TzWidth::Minutes, true) => {
                        if b[3] != b':' {
                            return None;
                        }
                        (digits(&value[4..6])?, 0)
                    }
                    (TzWidth::Seconds, false) => (digits(&value[3..5])?, digits(&value[5..7])?),
                    (TzWidth::Seconds, true) => {
                        if b[3] != b':' || b[6] != b':' {
                            return None;
                        }
                        (digits(&value[4..6])?, digits(&value[7..9])?)
                    }
                };
                if hh > 24 || mm > 60 || ss > 60 {
                    return None;
                }
                let mut off = (hh * 60 + mm) * 60 + ss;
                if b[0] == b'-' {
                    off = -off;
                }
                zone_offset = Some(off);
                value = &value[need..];
            }
            Std::TzName => {
                if value.starts_with("UTC") {
                    value = &value[3..];
                    z_utc = true;
                    continue;
                }
                let n = parse_tz_name(value)?;
                zone_name = Some(value[..n].to_string());
                value = &value[n..];
            }
            Std::Frac {
                nines: false,
                digits,
                ..
            } => {
                let n = 1 + digits;
                if value.len() < n {
                    return None;
                }
                nsec = parse_nanos(value, n)?;
                value = &value[n..];
            }
            Std::Frac { nines: true, .. } => {
                let vb = value.as_bytes();
                if vb.len() < 2 || (vb[0] != b'.' && vb[0] != b',') || !vb[1].is_ascii_digit() {
                    continue;
                }
                let mut i = 0;
                while i + 1 < vb.len() && vb[i + 1].is_ascii_digit() {
                    i += 1;
                }
                nsec = parse_nanos(value, 1 + i)?;
                value = &value[1 + i..];
            }
        }
        let _ = (hold, std_str);
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let (mut m, mut d) = (1u32, yday);
        if is_leap(year) && d == 60 {
            m = 2;
            d = 29;
        } else {
            if is_leap(year) && d > 60 {
                d -= 1;
            }
            if d > 365 {
                return None;
            }
            while d > days_in(m, 2001) as i64 {
                d -= days_in(m, 2001) as i64;
                m += 1;
            }
        }
        if month >= 0 && month != m as i64 || day >= 0 && day != d {
            return None;
        }
        month = m as i64;
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month as u32, year) as i64 {
        return None;
    }
    let civil_secs = days_from_civil(year, month as u32, day as u32) * 86400
        + (hour * 3600 + min * 60 + sec) as i64;
    if z_utc {
        return Some(GoTime {
            secs: civil_secs,
            nsec,
            loc: Loc::Utc,
        });
    }
    if let Some(off) = zone_offset {
        let secs = civil_secs - off as i64;
        let t = GoTime {
            secs,
            nsec,
            loc: loc.clone(),
        };
        if t.zone().1 == off {
            return Some(t);
        }
        return Some(GoTime {
            secs,
            nsec,
            loc: Loc::Fixed {
                name: zone_name.unwrap_or_default(),
                offset: off,
            },
        });
    }
    if let Some(name) = zone_name {
        let probe = GoTime {
            secs: civil_secs,
            nsec,
            loc: loc.clone(),
        };
        let (zn, off) = probe.zone();
        if zn == name {
            return Some(GoTime {
                secs: civil_secs - off as i64,
                nsec,
                loc: loc.clone(),
            });
        }
        let mut offset = 0;
        if name.len() > 3 && name.starts_with("GMT") {
            offset = name[3..].parse::<i32>().unwrap_or(0) * 3600;
        }
        return Some(GoTime {
            secs: civil_secs - offset as i64,
            nsec,
            loc: Loc::Fixed { name, offset },
        });
    }
    Some(date_in(civil_secs, nsec, loc))
}

/// Go's `time.Date` for a civil time (as seconds) in `loc`.
fn date_in(civil_secs: i64, nsec: u32, loc: &Loc) -> GoTime {
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

fn skip_prefix<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    // Go's `skip`: spaces in the layout match runs of spaces in the value.
    let mut v = value;
    let mut p = prefix;
    while !p.is_empty() {
        if p.starts_with(' ') {
            if !v.is_empty() && !v.starts_with(' ') {
                return None;
            }
            p = p.trim_start_matches(' ');
            v = v.trim_start_matches(' ');
            continue;
        }
        let c = p.chars().next()?;
        if !v.starts_with(c) {
            return None;
        }
        p = &p[c.len_utf8()..];
        v = &v[c.len_utf8()..];
    }
    Some(v)
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start.
fn parse_tz_name(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if b.len() >= 4 && (&v[..4] == "ChST" || &v[..4] == "MeST") {
        return Some(4);
    }
    if &v[..3] == "GMT" {
        let rest = &b[3..];
        if rest.is_empty() || (rest[0] != b'+' && rest[0] != b'-') {
            return Some(3);
        }
        let mut n = 1;
        while n < rest.len() && rest[n].is_ascii_digit() {
            n += 1;
        }
        let num: i64 = v[4..3 + n].parse().ok()?;
        if num > 23 || n == 1 {
            return Some(3);
        }
        return Some(3 + n);
    }
    if b[0] == b'+' || b[0] == b'-' {
        let mut n = 1;
        while n < b.len() && b[n].is_ascii_digit() {
            n += 1;
        }
        return if n == 3 || n == 5 { Some(n) } else { None };
    }
    let mut n = 0;
    while n < b.len() && b[n].is_ascii_uppercase() {
        n += 1;
    }
    match n {
        0..=2 => None,
        3 => Some(3),
        4 | 5 => {
            if b[n - 1] == b'T' {
                Some(n)
            } else if n == 4 && b[3] == b'T' {
                Some(4)
            } else if n == 5 && b[4] == b'T' {
                Some(5)
            } else {
                None
            }
        }
        _ => None,
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

fn go_quote_time(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if (c as u32) >= 0x80 || c < ' ' {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub(crate) fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote_time(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next().filter(|&c| c == '-' || c == '+') {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Leading integer.
        let mut i = 0;
        let mut v: u64 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            if v > (1u64 << 63) / 10 {
                return Err(invalid());
            }
            v = v * 10 + (b[i] - b'0') as u64;
            if v > 1u64 << 63 {
                return Err(invalid());
            }
            i += 1;
        }
        let pre = i > 0;
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let start = i;
            let mut overflow = false;
            while i < b.len() && b[i].is_ascii_digit() {
                if !overflow {
                    if f > (1u64 << 63) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + (b[i] - b'0') as u64;
                        if y > 1u64 << 63 {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            post = i > start;
        }
        if !pre && !post {
            return Err(invalid());
        }
        let ustart = i;
        while i < b.len() && !(b[i] == b'.' || b[i].is_ascii_digit()) {
            i += 1;
        }
        if i == ustart {
            return Err(format!(
                "time: missing unit in duration {}",
                go_quote_time(orig)
            ));
        }
        let u = &s[ustart..i];
        let unit: u64 = match u {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote_time(u),
                    go_quote_time(orig)
                ));
            }
        };
        s = &s[i..];
        if v > (1u64 << 63) / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1u64 << 63 {
                return Err(invalid());
            }
        }
        d += v;
        if d > 1u64 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > (1u64 << 63) - 1 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// Go's `Duration.Seconds()`.
pub(crate) fn duration_seconds(ns: i64) -> f64 {
    let sec = ns / 1_000_000_000;
    let nsec = ns % 1_000_000_000;
    sec as f64 + nsec as f64 / 1e9
}
