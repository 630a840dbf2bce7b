//! Duration and byte-size literals as Loki's lexer reads them.

/// Go's duration units, in nanoseconds.
const NS_PER: [(&str, i128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// A Prometheus duration (`1y2w3d4h5m6s7ms`; `0` alone), in nanoseconds.
fn parse_prometheus_duration(s: &str) -> Option<i64> {
    sightline_promql::text::parse_duration(s)?.checked_mul(1_000_000)
}

/// A range `[...]`: Prometheus's form only, as Loki's lexer reads it.
pub(crate) fn parse_range(s: &str) -> Result<i64, String> {
    if s.is_empty() {
        return Err("empty duration string".into());
    }
    parse_prometheus_duration(s).ok_or_else(|| format!("not a valid duration string: {s:?}"))
}

/// A Go duration (`1.5h`, `2h45m`, `-300ms`; units ns, us, µs, ms, s, m,
/// h), in nanoseconds.
pub fn parse_go_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("time: invalid duration {s:?}");
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let int = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac = "";
        if let Some(r) = rest.strip_prefix('.') {
            let l = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            frac = &r[..l];
            rest = &r[l..];
        }
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let Some(&(_, per)) = NS_PER.iter().find(|(u, _)| *u == unit) else {
            return Err(if unit.is_empty() {
                format!("time: missing unit in duration {s:?}")
            } else {
                format!("time: unknown unit {unit:?} in duration {s:?}")
            });
        };
        let whole: i128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| bad())?
        };
        let mut v = whole.checked_mul(per).ok_or_else(bad)?;
        let mut scale = per;
        for d in frac.bytes().take(30) {
            scale /= 10;
            v += i128::from(d - b'0') * scale;
        }
        total = total.checked_add(v).ok_or_else(bad)?;
        if total > i128::from(i64::MAX) + 1 {
            return Err(bad());
        }
    }
    let total = if neg { -total } else { total };
    i64::try_from(total).map_err(|_| bad())
}

/// A duration literal of a label filter or `offset`: Prometheus's form
/// first, then Go's, as Loki's lexer tries them.
pub(crate) fn parse_duration_literal(s: &str) -> Result<i64, String> {
    parse_prometheus_duration(s).map_or_else(|| parse_go_duration(s), Ok)
}

/// A byte size as go-humanize's `ParseBytes` reads it: a number, optional
/// spaces, and a unit (`B`, `kB`/`KB`/`K`, `KiB`/`Ki`, ... up to `PB`,
/// `PiB`), case-insensitively; decimal units are powers of 1000.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let bad = || format!("invalid byte size {s:?}");
    let num_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(s.len());
    let num: String = s[..num_len].chars().filter(|&c| c != ',').collect();
    let unit = s[num_len..].trim_start().to_ascii_lowercase();
    let mult: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "ki" | "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mi" | "mib" => 1_048_576.0,
        "g" | "gb" => 1e9,
        "gi" | "gib" => 1_073_741_824.0,
        "t" | "tb" => 1e12,
        "ti" | "tib" => 1_099_511_627_776.0,
        "p" | "pb" => 1e15,
        "pi" | "pib" => 1_125_899_906_842_624.0,
        _ => return Err(format!("unhandled size name: {unit}")),
    };
    let v: f64 = num.parse().map_err(|_| bad())?;
    let total = v * mult;
    if !total.is_finite() || total >= u64::MAX as f64 {
        return Err(format!("too large: {s}"));
    }
    Ok(total as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_range("5m"), Ok(300_000_000_000));
        assert_eq!(parse_range("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_range("0"), Ok(0));
        assert!(parse_range("5minutes").is_err());
        assert!(parse_range("30m1h").is_err());
        assert!(parse_range("").is_err());
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_go_duration("-1m"), Ok(-60_000_000_000));
        assert_eq!(parse_go_duration("1µs"), Ok(1_000));
        assert!(parse_go_duration("1").is_err());
        assert!(parse_go_duration("99999999999999999999h").is_err());
        assert_eq!(parse_duration_literal("1d"), Ok(86_400_000_000_000));
        assert_eq!(parse_duration_literal("20ms"), Ok(20_000_000));
    }

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("20KB"), Ok(20_000));
        assert_eq!(parse_bytes("1.5KiB"), Ok(1536));
        assert_eq!(parse_bytes("42MB"), Ok(42_000_000));
        assert_eq!(parse_bytes("20B"), Ok(20));
        assert_eq!(parse_bytes("1 GiB"), Ok(1 << 30));
        assert!(parse_bytes("5XB").is_err());
        assert!(parse_bytes("99999999999PB").is_err());
    }
}
