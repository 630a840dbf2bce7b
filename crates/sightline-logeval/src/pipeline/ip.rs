//! Loki's `ip("...")` matcher, for the `|= ip("...")` / `!= ip("...")`
//! line filters and the `| label = ip("...")` / `!= ip(...)` label filters.
//!
//! A pattern is one address (`192.168.0.1`, `::1`), an inclusive range
//! (`192.168.0.1-192.168.0.20`, no spaces) or a CIDR prefix
//! (`192.168.0.0/16`; host bits may be set), IPv4 or IPv6, tried in that
//! order as Go's `netip` parses them. IPv4 and IPv6 never match each other
//! (an IPv4-mapped IPv6 address is IPv6).
//!
//! Matching scans the text, line or label value alike, for IP-looking
//! runs as Loki does: at each position, a digit followed by a `.` within
//! three bytes starts an IPv4 candidate (the run of `0-9.`), and a hex
//! digit followed by `:` within five bytes (or `::` and a hex digit)
//! starts an IPv6 candidate (the run of hex digits, `:` and `.`); a
//! candidate that parses and matches ends the scan, and the scan resumes
//! one byte after a candidate that does not.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::convert::go_quote;

/// An `ip()` pattern that is none of the three forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ip: invalid pattern: {}", go_quote(.0))]
pub struct IpPatternError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matcher {
    /// One address; `zoned` addresses (`fe80::1%eth0`) never equal a
    /// scanned address, which has no zone.
    Addr {
        addr: IpAddr,
        zoned: bool,
    },
    Range {
        from: IpAddr,
        to: IpAddr,
    },
    Prefix {
        addr: IpAddr,
        bits: u8,
    },
}

/// A parsed `ip()` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpMatcher {
    pattern: String,
    matcher: Matcher,
}

impl IpMatcher {
    pub fn parse(pattern: &str) -> Result<IpMatcher, IpPatternError> {
        let matcher = parse_addr(pattern)
            .map(|(addr, zoned)| Matcher::Addr { addr, zoned })
            .or_else(|| parse_prefix(pattern))
            .or_else(|| parse_range(pattern))
            .ok_or_else(|| IpPatternError(pattern.to_owned()))?;
        Ok(IpMatcher {
            pattern: pattern.to_owned(),
            matcher,
        })
    }

    /// Whether the address is the pattern's, or in its range or prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match self.matcher {
            Matcher::Addr { addr, zoned } => !zoned && addr == ip,
            Matcher::Range { from, to } => same_family(from, ip) && from <= ip && ip <= to,
            Matcher::Prefix { addr, bits } => match (addr, ip) {
                (IpAddr::V4(p), IpAddr::V4(a)) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
                    u32::from(p) & mask == u32::from(a) & mask
                }
                (IpAddr::V6(p), IpAddr::V6(a)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                    u128::from(p) & mask == u128::from(a) & mask
                }
                _ => false,
            },
        }
    }

    /// `|= ip("...")`: whether the line holds a matching address (see the
    /// module docs for how it is found). `!= ip(...)` is the negation.
    pub fn find_in_line(&self, line: &str) -> bool {
        let b = line.as_bytes();
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        let mut i = 0;
        while i < b.len() {
            if i + 3 < b.len() && ipv4_hint(at(i), at(i + 1), at(i + 2), at(i + 3)) {
                match self.candidate(b, i, false) {
                    None => return true,
                    Some(len) => i += len + 1,
                }
                continue;
            }
            if ipv6_hint([at(i), at(i + 1), at(i + 2), at(i + 3), at(i + 4)]) {
                match self.candidate(b, i, true) {
                    None => return true,
                    Some(len) => i += len + 1,
                }
                continue;
            }
            i += 1;
        }
        false
    }

    /// `| name = ip("...")`: Loki applies the same scan to the label's
    /// value. (An absent label does not match, and a line that already has
    /// an error passes; the filter stage decides those.)
    pub fn matches_value(&self, value: &str) -> bool {
        self.find_in_line(value)
    }

    /// Tries the candidate starting at `start`: `None` when it matches,
    /// else its length.
    fn candidate(&self, b: &[u8], start: usize, v6: bool) -> Option<usize> {
        let run = b[start..]
            .iter()
            .take_while(|&&c| c.is_ascii_digit() || c == b'.' || (v6 && is_ip6_byte(c)))
            .count();
        let text = std::str::from_utf8(&b[start..start + run]).ok()?;
        match parse_addr(text) {
            Some((ip, false)) if self.contains(ip) => None,
            _ => Some(run),
        }
    }
}

fn is_ip6_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b':'
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

fn ipv4_hint(p0: u8, p1: u8, p2: u8, p3: u8) -> bool {
    p0.is_ascii_digit() && (p1 == b'.' || p2 == b'.' || p3 == b'.')
}

fn ipv6_hint(p: [u8; 5]) -> bool {
    let hex = |c: u8| c.is_ascii_hexdigit();
    (p[0] == b':' && p[1] == b':' && hex(p[2]))
        || (hex(p[0]) && p[1] == b':')
        || (hex(p[0]) && hex(p[1]) && p[2] == b':')
        || (hex(p[0]) && hex(p[1]) && hex(p[2]) && p[3] == b':')
        || (hex(p[0]) && hex(p[1]) && hex(p[2]) && hex(p[3]) && p[4] == b':')
}

/// Go's `netip.ParseAddr`: dotted-quad IPv4 (no leading zeros) or IPv6,
/// which may carry a non-empty `%zone` (reported as the flag).
fn parse_addr(s: &str) -> Option<(IpAddr, bool)> {
    let first = s.bytes().find(|c| matches!(c, b'.' | b':' | b'%'))?;
    match first {
        b'.' => parse_ipv4(s).map(|a| (IpAddr::V4(a), false)),
        b':' => {
            let (addr, zoned) = match s.split_once('%') {
                Some((_, "")) => return None,
                Some((addr, _)) => (addr, true),
                None => (s, false),
            };
            addr.parse::<Ipv6Addr>()
                .ok()
                .map(|a| (IpAddr::V6(a), zoned))
        }
        _ => None,
    }
}

/// Four decimal octets, none above 255 or with a leading zero.
fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let p = parts.next()?;
        let digits = !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        *octet = p.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

/// Go's `netip.ParsePrefix`: `addr/bits`, no zone, bits in range without
/// sign or leading zeros.
fn parse_prefix(s: &str) -> Option<Matcher> {
    let (addr, bits) = s.rsplit_once('/')?;
    let (addr, zoned) = parse_addr(addr)?;
    if zoned || bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if bits.len() > 1 && bits.starts_with('0') {
        return None;
    }
    let bits: u8 = bits.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some(Matcher::Prefix { addr, bits })
}

/// go4.org/netipx's `ParseIPRange`: `from-to` split at the first `-`,
/// zones dropped, one family, `from <= to`.
fn parse_range(s: &str) -> Option<Matcher> {
    let (from, to) = s.split_once('-')?;
    let (from, _) = parse_addr(from)?;
    let (to, _) = parse_addr(to)?;
    (same_family(from, to) && from <= to).then_some(Matcher::Range { from, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(p: &str) -> IpMatcher {
        IpMatcher::parse(p).expect("valid pattern")
    }

    fn matching(p: &str, lines: &[&str]) -> Vec<usize> {
        let m = ip(p);
        (0..lines.len())
            .filter(|&i| m.find_in_line(lines[i]))
            .collect()
    }

    #[test]
    fn single_addresses() {
        let lines = [
            "vpn 192.168.0.5 connected to vm",
            "vpn 192.168.0.1 connected to vm",
            "x",
            "hello world!",
            "",
        ];
        assert_eq!(matching("192.168.0.1", &lines), [1]);
        let v6 = [
            "vpn ::1 connected to vm",
            "vpn 192.168.0.1 connected to vm",
            "x",
            "",
        ];
        assert_eq!(matching("::1", &v6), [0]);
        let at_end = [
            "vpn connected to ::1",
            "::1",
            "vpn 192.168.0.1 connected",
            "x",
        ];
        assert_eq!(matching("::1", &at_end), [0, 1]);
    }

    #[test]
    fn ranges() {
        let lines = [
            "vpn 192.168.0.0 connected to vm",
            "vpn 192.168.0.0 192.168.0.1 connected to vm",
            "vpn 192.172.6.1 connected to vm",
            "vpn 192.255.255.255 connected to vm",
            "x",
        ];
        assert_eq!(matching("192.168.0.1-192.189.10.12", &lines), [1, 2]);
        let v6 = [
            "vpn 192.168.0.0 connected to vm",
            "vpn 2001:db8::2 connected to vm",
            "vpn 2001:db8::9 connected to vm",
            "vpn 2001:db8::5 connected to vm",
        ];
        assert_eq!(matching("2001:db8::1-2001:db8::8", &v6), [1, 3]);
    }

    #[test]
    fn prefixes() {
        let lines = [
            "vpn 192.168.0.0 connected to vm",
            "vpn 192.168.0.1 connected to vm",
            "vpn 192.172.6.1 connected to vm",
            "vpn 192.168.255.255 connected to vm",
            "hello world!",
        ];
        assert_eq!(matching("192.168.4.5/16", &lines), [0, 1, 3]);
        let v6 = [
            "vpn 2001:db8::1 connected to vm",
            "vpn 2001:db9::3 connected to vm",
            "vpn 2001:dc8::1 and 2001:db8::2 connected to vm",
            "vpn 192.168.255.255 connected to vm",
        ];
        assert_eq!(matching("2001:db8::/32", &v6), [0, 2]);
        assert!(ip("0.0.0.0/0").find_in_line("from 10.1.2.3"));
        assert!(!ip("0.0.0.0/0").find_in_line("from ::1"));
    }

    #[test]
    fn invalid_patterns() {
        for p in [
            "192.168.0.1 - 192.189.10.12",
            "192.168.0.256",
            "01.2.3.4",
            "10.0.0.0/33",
            "10.0.0.0/08",
            "10.0.0.5-10.0.0.1",
            "10.0.0.1-::1",
            "fe80::1%",
            "",
            "x",
        ] {
            assert!(IpMatcher::parse(p).is_err(), "{p}");
        }
        assert_eq!(
            IpMatcher::parse("x").map_err(|e| e.to_string()),
            Err(r#"ip: invalid pattern: "x""#.to_owned())
        );
    }

    #[test]
    fn families_and_zones_stay_apart() {
        assert!(!ip("1.2.3.4").find_in_line("::ffff:1.2.3.4"));
        assert!(ip("::ffff:1.2.3.4").find_in_line("at ::ffff:1.2.3.4 now"));
        assert!(!ip("fe80::1%eth0").find_in_line("fe80::1"));
        // A zone runs to the end, so this is one (zoned) address, as in Go.
        assert!(!ip("fe80::1%eth0-fe80::2").find_in_line("fe80::1"));
        assert!(ip("fe80::1-fe80::2%eth0").find_in_line("fe80::1"));
    }

    #[test]
    fn label_values_are_scanned() {
        let m = ip("10.0.0.1");
        assert!(m.matches_value("10.0.0.1"));
        assert!(m.matches_value("10.0.0.1:8080"));
        assert!(!m.matches_value("10.0.0.10"));
        assert!(!m.matches_value(""));
    }
}
