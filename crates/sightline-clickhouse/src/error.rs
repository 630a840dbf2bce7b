/// What can go wrong talking to ClickHouse.
#[derive(Debug, thiserror::Error)]
pub enum ChError {
    /// The request itself is at fault (for example a regular expression
    /// ClickHouse's RE2 refuses); answered as 400.
    #[error("{0}")]
    BadQuery(String),
    /// ClickHouse could not be reached or answered with an error.
    #[error("clickhouse: {0}")]
    Unavailable(String),
    /// ClickHouse returned data Sightline cannot accept.
    #[error("clickhouse returned bad data: {0}")]
    Corrupt(String),
}

/// ClickHouse errors as a storage tier reports them, the error kept as the
/// source.
impl From<ChError> for sightline_plan::TierError {
    fn from(e: ChError) -> Self {
        use sightline_plan::TierErrorKind as K;
        let kind = match &e {
            ChError::BadQuery(_) => K::BadQuery,
            ChError::Unavailable(_) => K::Unavailable,
            ChError::Corrupt(_) => K::Corrupt,
        };
        sightline_plan::TierError::from_source(kind, e)
    }
}

/// ClickHouse exception codes that mean the caller's input was refused.
const INPUT_CODES: &[u32] = &[
    427, // CANNOT_COMPILE_REGEXP
    36,  // BAD_ARGUMENTS
];

impl From<clickhouse::error::Error> for ChError {
    fn from(e: clickhouse::error::Error) -> Self {
        let text = e.to_string();
        match exception_code(&text) {
            Some(c) if INPUT_CODES.contains(&c) => ChError::BadQuery(exception_message(&text)),
            _ => ChError::Unavailable(text),
        }
    }
}

/// The `N` of `Code: N.` in a ClickHouse exception text.
fn exception_code(text: &str) -> Option<u32> {
    let i = text.find("Code: ")? + 6;
    let digits: String = text[i..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The human part of an exception: after `DB::Exception: `, before the
/// `(CODE_NAME)` and version suffix.
fn exception_message(text: &str) -> String {
    let start = text.find("DB::Exception: ").map_or(0, |i| i + 15);
    let rest = &text[start..];
    let end = rest.find(". (").unwrap_or(rest.len());
    rest[..end].trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_and_messages() {
        let t = "bad response: Code: 427. DB::Exception: OptimizedRegularExpression: cannot compile re2: a(b, error: missing ): a(b. (CANNOT_COMPILE_REGEXP) (version 26.9.2.1)";
        assert_eq!(exception_code(t), Some(427));
        assert!(exception_message(t).starts_with("OptimizedRegularExpression: cannot compile re2"));
        assert_eq!(exception_code("network error"), None);
    }
}
