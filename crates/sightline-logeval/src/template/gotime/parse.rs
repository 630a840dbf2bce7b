//! Go's `time.ParseInLocation(layout, value, loc)` over the reference-time
//! layouts, with Go's reading of zone offsets and abbreviations.

use super::layout::{Std, TzWidth, next_std_chunk};
use super::zone::date_in;
use super::{DAYS, GoTime, Loc, MONTHS, days_from_civil, days_in, is_leap};

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
