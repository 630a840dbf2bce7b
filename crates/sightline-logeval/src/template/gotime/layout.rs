//! The elements of Go's reference-time layouts (`2006`, `Jan`, `-07:00`,
//! `.000` …) and Go's `nextStdChunk`, which finds them; shared by
//! formatting and parsing.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TzWidth {
    Hours,
    Minutes,
    Seconds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TzKind {
    pub iso: bool,
    pub colon: bool,
    pub width: TzWidth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Std {
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
pub(super) fn next_std_chunk(layout: &str) -> (&str, Option<Std>, &str) {
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
