//! Loki's `unixToTime`; the other date functions (`date`, `toDate`,
//! `toDateInZone`, `unixEpoch…`) are one call each into Go's `time`
//! (`gotime`) and stay in the dispatch.

use crate::template::gotime::GoTime;
use crate::template::strconv::{parse_int10, strconv_err};

/// Loki's `unixToTime`: the unit follows from the number of characters.
pub(super) fn unix_to_time(epoch: &str) -> Result<GoTime, String> {
    let n = parse_int10(epoch).map_err(|e| {
        format!(
            "unable to parse time '{epoch}': {}",
            strconv_err("ParseInt", epoch, e)
        )
    })?;
    Ok(match epoch.len() {
        5 => GoTime::from_unix(n.wrapping_mul(86400)),
        10 => GoTime::from_unix(n),
        13 => GoTime::from_unix_nanos(n.wrapping_mul(1_000_000)),
        16 => GoTime::from_unix_nanos(n.wrapping_mul(1000)),
        19 => GoTime::from_unix_nanos(n),
        _ => return Err(format!("unable to parse time '{epoch}': %!w(<nil>)")),
    })
}
