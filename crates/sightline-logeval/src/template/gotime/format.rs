//! Go's `Time.Format(layout)` and `Time.String()`.

use super::layout::{Std, TzWidth, next_std_chunk};
use super::{DAYS, GoTime, MONTHS};

impl GoTime {
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
