//! Health of supervised things: a check's status (Nagios exit codes 0–3) and what the wall screens show.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The result of one check, as Nagios-compatible plugins report it by exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[repr(u8)]
pub enum Status {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl Status {
    /// From a plugin's exit code; anything outside 0–3 is UNKNOWN, as the plugin guidelines say.
    pub fn from_exit_code(code: i64) -> Status {
        match code {
            0 => Status::Ok,
            1 => Status::Warning,
            2 => Status::Critical,
            _ => Status::Unknown,
        }
    }
    pub fn exit_code(self) -> u8 {
        self as u8
    }
    /// `OK`, `WARNING`, `CRITICAL`, `UNKNOWN`, case-insensitive; also the exit codes `0`–`3`.
    pub fn parse(s: &str) -> Option<Status> {
        let t = s.trim();
        Some(match t.to_ascii_uppercase().as_str() {
            "OK" | "0" | "UP" => Status::Ok,
            "WARNING" | "WARN" | "1" => Status::Warning,
            "CRITICAL" | "CRIT" | "2" | "DOWN" => Status::Critical,
            "UNKNOWN" | "3" => Status::Unknown,
            _ => return None,
        })
    }
    /// From two bits (the exit code).
    pub fn from_bits(b: u8) -> Status {
        Status::from_exit_code(b as i64)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        })
    }
}

/// What a screen shows for a check or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Shown {
    Ok,
    Warning,
    Critical,
    Unknown,
    /// In a maintenance window: blue, alerts muted (a failure is still recorded).
    Maintenance,
    /// A dependency is down: the cause is shown, not a storm of reds.
    Unreachable,
}

impl Shown {
    pub const ALL: [Shown; 6] =
        [Shown::Ok, Shown::Warning, Shown::Critical, Shown::Unknown, Shown::Maintenance, Shown::Unreachable];

    /// The wall-screen colour.
    pub fn colour(self) -> &'static str {
        match self {
            Shown::Ok => "green",
            Shown::Warning => "orange",
            Shown::Critical => "red",
            Shown::Unknown => "grey",
            Shown::Maintenance => "blue",
            Shown::Unreachable => "purple",
        }
    }
    /// The French label, as the TOC says it.
    pub fn label_fr(self) -> &'static str {
        match self {
            Shown::Ok => "Nominal",
            Shown::Warning => "Signaux faibles",
            Shown::Critical => "En erreur",
            Shown::Unknown => "Inconnu",
            Shown::Maintenance => "Maintenance",
            Shown::Unreachable => "Injoignable",
        }
    }
    /// Severity for "worst of": CRITICAL > UNREACHABLE > UNKNOWN > WARNING > OK. Maintenance ranks lowest: a group
    /// only shows it when every member is in maintenance.
    pub fn severity(self) -> u8 {
        match self {
            Shown::Maintenance => 0,
            Shown::Ok => 1,
            Shown::Warning => 2,
            Shown::Unknown => 3,
            Shown::Unreachable => 4,
            Shown::Critical => 5,
        }
    }
    /// Counts as failed in threshold rules (errors, unknown, unreachable).
    pub fn failed(self) -> bool {
        matches!(self, Shown::Critical | Shown::Unknown | Shown::Unreachable)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Shown::Ok => "OK",
            Shown::Warning => "WARNING",
            Shown::Critical => "CRITICAL",
            Shown::Unknown => "UNKNOWN",
            Shown::Maintenance => "MAINTENANCE",
            Shown::Unreachable => "UNREACHABLE",
        }
    }
}

impl From<Status> for Shown {
    fn from(s: Status) -> Shown {
        match s {
            Status::Ok => Shown::Ok,
            Status::Warning => Shown::Warning,
            Status::Critical => Shown::Critical,
            Status::Unknown => Shown::Unknown,
        }
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_plugin_guidelines() {
        for (code, s) in [(0, Status::Ok), (1, Status::Warning), (2, Status::Critical), (3, Status::Unknown)] {
            assert_eq!(Status::from_exit_code(code), s);
            assert_eq!(s.exit_code() as i64, code);
        }
        assert_eq!(Status::from_exit_code(4), Status::Unknown);
        assert_eq!(Status::from_exit_code(-1), Status::Unknown);
        assert_eq!(Status::parse("critical"), Some(Status::Critical));
        assert_eq!(Status::parse(" 1 "), Some(Status::Warning));
        assert_eq!(Status::parse("bad"), None);
    }

    #[test]
    fn worst_order() {
        let mut v = Shown::ALL.to_vec();
        v.sort_by_key(|s| s.severity());
        assert_eq!(
            v,
            [Shown::Maintenance, Shown::Ok, Shown::Warning, Shown::Unknown, Shown::Unreachable, Shown::Critical]
        );
    }
}
