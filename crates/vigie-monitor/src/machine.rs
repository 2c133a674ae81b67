//! One check's state machine, as Nagios and Icinga define it, so that operators find what they know:
//!
//! - **Soft and hard states.** A problem (WARNING, CRITICAL, UNKNOWN) after OK is *soft* until it has been seen
//!   `max_attempts` times in a row; then it is *hard*. A change between problems while hard is a hard change at
//!   once; OK after a hard problem is a hard recovery; OK after a soft problem is a soft recovery (no hard change).
//!   Only hard changes are state changes for the journal, the screens and the incidents.
//! - **Flapping.** The last 21 results are kept; their weighted percentage of state changes (recent changes weigh
//!   more, from 0.8 to 1.2) starts flapping at `flap_high` % and stops it below `flap_low` %. While flapping,
//!   hard changes are *damped*: the state follows, but they are not announced one by one; the start and the end
//!   of flapping are.
//! - **Staleness.** A check with a TTL (push checks) that has no result for longer becomes UNKNOWN, hard at once;
//!   its next result ends it.
//! - **Acknowledgement** of a hard problem holds until the next hard change.
//! - **Maintenance** is set from outside (the windows): results keep flowing and hard changes are still
//!   recorded, marked `during_maintenance` ("failed during maintenance").

use crate::status::{Shown, Status};
use crate::Millis;
use serde::Serialize;

/// How a check turns results into states.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Results in a row before a problem is hard (1: at once).
    pub max_attempts: u8,
    /// Without a result for this long, the check is UNKNOWN (push checks).
    pub ttl_ms: Option<Millis>,
    /// Flapping starts at this weighted percentage of changes…
    pub flap_high: f32,
    /// …and stops below this one.
    pub flap_low: f32,
}

impl Default for Policy {
    /// Nagios' defaults for services: 3 attempts, flapping between 5 % and 20 %.
    fn default() -> Self {
        Policy { max_attempts: 3, ttl_ms: None, flap_high: 20.0, flap_low: 5.0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateType {
    Soft,
    Hard,
}

/// Results kept for flapping detection.
const HISTORY: u8 = 21;

/// The state of one check (about 40 bytes: a million checks fit in 40 MB).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckState {
    /// The latest result's status (soft or hard).
    pub status: Status,
    /// The hard status: what screens, journal and incidents see.
    pub hard: Status,
    pub state_type: StateType,
    /// Problem results in a row while soft (1 after OK).
    pub attempt: u8,
    /// When the latest result came (`None`: never).
    pub last_result: Option<Millis>,
    /// When the hard status last changed (or the check was created).
    pub last_hard_change: Millis,
    /// The latest statuses, two bits each, newest in the low bits.
    history: u64,
    history_len: u8,
    pub flapping: bool,
    pub acknowledged: bool,
    pub in_maintenance: bool,
    /// UNKNOWN because no result came within the TTL.
    pub stale: bool,
    /// A firing Alertmanager alert holds the check at this status (at least) until it is resolved: no result shows
    /// it better, and no TTL runs out meanwhile (Alertmanager repeats a firing alert only every `repeat_interval`).
    pub alert: Option<Status>,
}

/// A hard change, or the start or end of flapping, to announce and journal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub from: Status,
    pub to: Status,
    pub at: Millis,
    /// The hard status changed (false: only flapping started or stopped).
    pub hard_change: bool,
    /// `Some(true)` flapping started, `Some(false)` it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flapping: Option<bool>,
    /// A hard change while flapping: recorded in the state, not announced by itself.
    pub damped: bool,
    pub during_maintenance: bool,
    /// Caused by the TTL running out, not by a result.
    pub stale: bool,
}

impl CheckState {
    /// A new check, OK until told otherwise (as Nagios' initial state), created at `at`.
    pub fn new(at: Millis) -> CheckState {
        CheckState {
            status: Status::Ok,
            hard: Status::Ok,
            state_type: StateType::Hard,
            attempt: 1,
            last_result: None,
            last_hard_change: at,
            history: 0,
            history_len: 0,
            flapping: false,
            acknowledged: false,
            in_maintenance: false,
            stale: false,
            alert: None,
        }
    }

    /// A check restored from its last journalled hard state.
    pub fn restored(hard: Status, since: Millis, flapping: bool) -> CheckState {
        CheckState { status: hard, hard, flapping, ..CheckState::new(since) }
    }

    /// Takes one result; returns what must be announced, if anything.
    pub fn ingest(&mut self, status: Status, at: Millis, policy: &Policy) -> Option<Transition> {
        let status = match self.alert {
            Some(held) if Shown::from(held).severity() > Shown::from(status).severity() => held,
            _ => status,
        };
        let previous = self.status;
        let was_stale = std::mem::replace(&mut self.stale, false);
        self.last_result = Some(at.max(self.last_result.unwrap_or(at)));
        self.record(status);
        let from = self.hard;
        let mut hard_change = false;
        match (status, self.hard) {
            (Status::Ok, Status::Ok) => {
                self.state_type = StateType::Hard; // a soft recovery, or OK again
                self.attempt = 1;
            }
            (Status::Ok, _) => {
                hard_change = true; // hard recovery
                self.attempt = 1;
            }
            (_, Status::Ok) => {
                self.attempt = if previous == Status::Ok || self.state_type == StateType::Hard {
                    1
                } else {
                    self.attempt.saturating_add(1)
                };
                if self.attempt >= policy.max_attempts.max(1) || was_stale {
                    hard_change = true;
                } else {
                    self.state_type = StateType::Soft;
                }
            }
            (problem, hard) => {
                hard_change = problem != hard; // a change between problems while hard
            }
        }
        self.status = status;
        if hard_change {
            self.hard = status;
            self.state_type = StateType::Hard;
            self.last_hard_change = at;
            self.acknowledged = false;
        }
        let flapping = self.update_flapping(policy);
        (hard_change || flapping.is_some()).then_some(Transition {
            from,
            to: self.hard,
            at,
            hard_change,
            flapping,
            damped: hard_change && self.flapping && flapping.is_none(),
            during_maintenance: self.in_maintenance,
            stale: false,
        })
    }

    /// An Alertmanager alert fires (`Some(status)`) or is resolved (`None`): the check takes it hard at once (an
    /// alert has already waited its `for:` duration and group wait) and is held there until the alert is resolved.
    pub fn alert(&mut self, firing: Option<Status>, at: Millis, policy: &Policy) -> Option<Transition> {
        self.alert = firing.filter(|s| *s != Status::Ok);
        self.ingest(firing.unwrap_or(Status::Ok), at, &Policy { max_attempts: 1, ..*policy })
    }

    /// Called as time passes: a check past its TTL becomes UNKNOWN (hard at once); one held by a firing alert does
    /// not go stale.
    pub fn tick(&mut self, now: Millis, policy: &Policy) -> Option<Transition> {
        let ttl = policy.ttl_ms?;
        if self.alert.is_some() {
            return None;
        }
        let since = self.last_result.unwrap_or(self.last_hard_change);
        if self.stale || now - since <= ttl {
            return None;
        }
        self.stale = true;
        let from = self.hard;
        self.status = Status::Unknown;
        self.state_type = StateType::Hard;
        if from == Status::Unknown {
            return None;
        }
        self.hard = Status::Unknown;
        self.last_hard_change = now;
        self.acknowledged = false;
        Some(Transition {
            from,
            to: Status::Unknown,
            at: now,
            hard_change: true,
            flapping: None,
            damped: self.flapping,
            during_maintenance: self.in_maintenance,
            stale: true,
        })
    }

    /// Acknowledges a hard problem; false when there is none to acknowledge.
    pub fn acknowledge(&mut self) -> bool {
        if self.hard == Status::Ok {
            return false;
        }
        self.acknowledged = true;
        true
    }

    /// The weighted percentage of state changes among the results kept.
    pub fn percent_change(&self) -> f32 {
        let n = self.history_len as u32;
        if n < 2 {
            return 0.0;
        }
        // Oldest pair first: weights from 0.8 up by 0.02 per pair (the newest weighs about 1.2).
        let mut changes = 0.0f32;
        for k in 0..n - 1 {
            let age = n - 1 - k; // entry `age` (0 newest) against `age - 1`
            let a = (self.history >> (2 * age)) & 3;
            let b = (self.history >> (2 * (age - 1))) & 3;
            if a != b {
                changes += 0.8 + 0.02 * k as f32 * (20.0 / (HISTORY as f32 - 1.0));
            }
        }
        changes * 100.0 / (HISTORY as f32 - 1.0)
    }

    /// The statuses kept, oldest first.
    pub fn history(&self) -> Vec<Status> {
        (0..self.history_len).rev().map(|age| Status::from_bits(((self.history >> (2 * age)) & 3) as u8)).collect()
    }

    fn record(&mut self, status: Status) {
        let mask = (1u64 << (2 * HISTORY as u64)) - 1;
        self.history = ((self.history << 2) | status.exit_code() as u64) & mask;
        self.history_len = (self.history_len + 1).min(HISTORY);
    }

    fn update_flapping(&mut self, policy: &Policy) -> Option<bool> {
        let pct = self.percent_change();
        if !self.flapping && pct >= policy.flap_high {
            self.flapping = true;
            Some(true)
        } else if self.flapping && pct < policy.flap_low {
            self.flapping = false;
            Some(false)
        } else {
            None
        }
    }
}
