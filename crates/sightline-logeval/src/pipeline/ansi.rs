//! `| decolorize`: removes ANSI escape sequences from a line with the
//! expression Loki's stage uses (from acarl005/stripansi): an ESC (U+001B)
//! or CSI (U+009B) character, then either an OSC-like run ended by BEL or
//! a CSI-like parameter run ended by a final character. Go's `\d` is ASCII,
//! so it is written `[0-9]` here.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

const ANSI_PATTERN: &str = concat!(
    r"[\x1B\x{9B}][\[\]()#;?]*",
    r"(?:(?:(?:[a-zA-Z0-9]*(?:;[a-zA-Z0-9]*)*)?\x07)",
    r"|(?:(?:[0-9]{1,4}(?:;[0-9]{0,4})*)?[0-9A-PRZcf-ntqry=><~]))",
);

/// The compiled expression; `None` only if the constant above were
/// invalid, which the tests rule out.
static ANSI: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(ANSI_PATTERN).ok());

/// The line without its ANSI escape sequences (borrowed when it has none).
pub fn decolorize(line: &str) -> Cow<'_, str> {
    if !line.contains(['\u{1b}', '\u{9b}']) {
        return Cow::Borrowed(line);
    }
    match ANSI.as_ref() {
        Some(re) => re.replace_all(line, ""),
        None => Cow::Borrowed(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_compiles() {
        assert!(ANSI.is_some());
    }

    #[test]
    fn removes_colors_and_keeps_text() {
        assert!(matches!(
            decolorize("sample text"),
            Cow::Borrowed("sample text")
        ));
        assert_eq!(
            decolorize("\x1b[0;32mgreen\x1b[0m \x1b[0;31mred\x1b[0m"),
            "green red"
        );
        assert_eq!(decolorize("\x1b[1;4;38;5;208mbold\x1b[K!"), "bold!");
        assert_eq!(decolorize("\u{9b}31mcsi"), "csi");
        // An OSC title sequence ended by BEL.
        assert_eq!(decolorize("\x1b]0;title\x07after"), "after");
        // A lone ESC that starts no sequence stays.
        assert_eq!(decolorize("a\x1b b"), "a\x1b b");
    }
}
