//! The kinds of telemetry Sightline takes in.

use std::fmt;

/// A kind of telemetry: what a write carries and what a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    Metrics,
    Logs,
    Traces,
}

impl Signal {
    /// Every signal, in a fixed order.
    pub const ALL: [Signal; 3] = [Signal::Metrics, Signal::Logs, Signal::Traces];

    /// The signal's name, as stored (quota usage rows) and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
            Signal::Traces => "traces",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_stored_ones() {
        let names: Vec<&str> = Signal::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["metrics", "logs", "traces"]);
        assert_eq!(Signal::Logs.to_string(), "logs");
    }
}
