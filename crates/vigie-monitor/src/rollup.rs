//! The state of a group from its members: an application at a site, a site, an application across sites, a suite.
//!
//! Members in maintenance are left out of every rule; a group whose members are all in maintenance is in
//! maintenance, a group without members is UNKNOWN. The rules:
//!
//! - `worst`: the most severe member (CRITICAL > UNREACHABLE > UNKNOWN > WARNING > OK).
//! - `min_ok N` (Icinga business processes' `MIN n`, e.g. 1 of 2 redundant uplinks): the group takes the state of
//!   its N-th best member; fewer than N members counted make it CRITICAL.
//! - `percent W C` (Cachet's major-outage rate, for large pools such as a venue's computers, where one machine down
//!   must not turn the venue orange): failed members (CRITICAL, UNKNOWN, UNREACHABLE) as a share of those counted
//!   at least C % is CRITICAL; failed and WARNING members together at least W % is WARNING; below, OK.

use crate::status::Shown;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    #[default]
    Worst,
    MinOk {
        n: u32,
    },
    Percent {
        warning: f64,
        critical: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a roll-up rule: `worst`, `min_ok N` (N ≥ 1) or `percent W C` (0 ≤ W ≤ C ≤ 100), found {0:?}")]
pub struct RuleError(pub String);

impl FromStr for Rule {
    type Err = RuleError;
    /// `worst`, `min_ok 2`, `percent 25 50` (also `min_ok:2`, `percent:25:50`).
    fn from_str(s: &str) -> Result<Rule, RuleError> {
        let bad = || RuleError(s.to_string());
        let parts: Vec<&str> = s.split(|c: char| c == ':' || c.is_whitespace()).filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            ["worst"] => Ok(Rule::Worst),
            ["min_ok", n] => match n.parse::<u32>() {
                Ok(n) if n >= 1 => Ok(Rule::MinOk { n }),
                _ => Err(bad()),
            },
            ["percent", w, c] => {
                let (w, c): (f64, f64) = (w.parse().map_err(|_| bad())?, c.parse().map_err(|_| bad())?);
                if (0.0..=100.0).contains(&w) && (0.0..=100.0).contains(&c) && w <= c {
                    Ok(Rule::Percent { warning: w, critical: c })
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Worst => write!(f, "worst"),
            Rule::MinOk { n } => write!(f, "min_ok {n}"),
            Rule::Percent { warning, critical } => write!(f, "percent {warning} {critical}"),
        }
    }
}

/// Members' states counted by kind, the input of every rule (a group of a million checks is one pass).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub ok: u32,
    pub warning: u32,
    pub critical: u32,
    pub unknown: u32,
    pub maintenance: u32,
    pub unreachable: u32,
}

impl Counts {
    pub fn add(&mut self, s: Shown) {
        *self.slot(s) += 1;
    }
    pub fn merge(&mut self, o: &Counts) {
        for s in Shown::ALL {
            *self.slot(s) += o.get(s);
        }
    }
    pub fn get(&self, s: Shown) -> u32 {
        match s {
            Shown::Ok => self.ok,
            Shown::Warning => self.warning,
            Shown::Critical => self.critical,
            Shown::Unknown => self.unknown,
            Shown::Maintenance => self.maintenance,
            Shown::Unreachable => self.unreachable,
        }
    }
    fn slot(&mut self, s: Shown) -> &mut u32 {
        match s {
            Shown::Ok => &mut self.ok,
            Shown::Warning => &mut self.warning,
            Shown::Critical => &mut self.critical,
            Shown::Unknown => &mut self.unknown,
            Shown::Maintenance => &mut self.maintenance,
            Shown::Unreachable => &mut self.unreachable,
        }
    }
    /// Members counted by the rules (all but those in maintenance).
    pub fn counted(&self) -> u32 {
        self.ok + self.warning + self.critical + self.unknown + self.unreachable
    }
    pub fn failed(&self) -> u32 {
        self.critical + self.unknown + self.unreachable
    }
    pub fn total(&self) -> u32 {
        self.counted() + self.maintenance
    }
}

impl FromIterator<Shown> for Counts {
    fn from_iter<I: IntoIterator<Item = Shown>>(it: I) -> Counts {
        let mut c = Counts::default();
        for s in it {
            c.add(s);
        }
        c
    }
}

/// The group's state under `rule`.
pub fn roll_up(rule: Rule, c: &Counts) -> Shown {
    if c.total() == 0 {
        return Shown::Unknown;
    }
    if c.counted() == 0 {
        return Shown::Maintenance;
    }
    // Counted members, best first.
    let by_rank = [Shown::Ok, Shown::Warning, Shown::Unknown, Shown::Unreachable, Shown::Critical];
    match rule {
        Rule::Worst => *by_rank.iter().rev().find(|s| c.get(**s) > 0).expect("some member counted"),
        Rule::MinOk { n } => {
            let mut seen = 0;
            for s in by_rank {
                seen += c.get(s);
                if seen >= n {
                    return s;
                }
            }
            Shown::Critical
        }
        Rule::Percent { warning, critical } => {
            let share = |n: u32| n as f64 * 100.0 / c.counted() as f64;
            let (failed, weak) = (c.failed(), c.failed() + c.warning);
            if failed > 0 && share(failed) >= critical {
                Shown::Critical
            } else if weak > 0 && share(weak) >= warning {
                Shown::Warning
            } else {
                Shown::Ok
            }
        }
    }
}
