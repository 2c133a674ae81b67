//! Service-level clocks of an incident, computed from its timeline (every version's state and priority):
//!
//! - **response**: from opening until the incident first leaves New;
//! - **resolution**: from opening until Resolved, Closed or Canceled, **paused while On Hold**.
//!
//! The target is the one of the incident's *current* priority (a changed priority re-targets both clocks over the
//! time already spent). A clock is `in_progress`, `warning` from 75 % of its target, `breached` past it (with the
//! instant it was breached, derived from the timeline, so a breach is never lost), or `achieved` / `missed` once
//! stopped. Times are milliseconds since the epoch.

use serde::{Deserialize, Serialize};
use vigie_domain::itsm::IncidentState;

/// Targets in minutes for priorities 1 to 5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    pub response_min: [u32; 5],
    pub resolution_min: [u32; 5],
}

impl Default for Targets {
    /// P1 15 min / 4 h, P2 30 min / 8 h, P3 1 h / 24 h, P4 4 h / 3 days, P5 8 h / 5 days.
    fn default() -> Self {
        Targets { response_min: [15, 30, 60, 240, 480], resolution_min: [240, 480, 1440, 4320, 7200] }
    }
}

/// One version of the incident: from `at` on, it had this state and priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub at: i64,
    pub state: IncidentState,
    pub priority: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    InProgress,
    Warning,
    Breached,
    Achieved,
    Missed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clock {
    pub target_ms: i64,
    /// Time counted (pauses left out), up to now or to when the clock stopped.
    pub elapsed_ms: i64,
    pub percent: f64,
    pub paused: bool,
    pub stage: Stage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breached_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sla {
    pub priority: u8,
    pub response: Clock,
    pub resolution: Clock,
}

fn target(minutes: &[u32; 5], priority: u8) -> i64 {
    minutes[(priority.clamp(1, 5) - 1) as usize] as i64 * 60_000
}

/// One clock over the timeline: `counts(state)` says whether time runs, `stops(state)` whether it ends.
fn clock(
    timeline: &[Point],
    now: i64,
    target_ms: i64,
    counts: impl Fn(IncidentState) -> bool,
    stops: impl Fn(IncidentState) -> bool,
) -> Clock {
    let mut elapsed = 0i64;
    let mut breached_at = None;
    let mut stopped_at = None;
    let mut paused = false;
    for (k, p) in timeline.iter().enumerate() {
        if stops(p.state) {
            stopped_at = Some(p.at);
            break;
        }
        let end = timeline.get(k + 1).map_or(now, |n| n.at).min(now).max(p.at);
        paused = !counts(p.state);
        if !paused {
            let span = end - p.at;
            if breached_at.is_none() && elapsed + span > target_ms {
                breached_at = Some(p.at + (target_ms - elapsed));
            }
            elapsed += span;
        }
    }
    let stage = match (stopped_at, breached_at) {
        (Some(_), Some(_)) => Stage::Missed,
        (Some(_), None) => Stage::Achieved,
        (None, Some(_)) => Stage::Breached,
        (None, None) if elapsed * 4 >= target_ms * 3 => Stage::Warning,
        (None, None) => Stage::InProgress,
    };
    Clock {
        target_ms,
        elapsed_ms: elapsed,
        percent: if target_ms > 0 { elapsed as f64 * 100.0 / target_ms as f64 } else { 100.0 },
        paused: stopped_at.is_none() && paused,
        stage,
        breached_at,
        stopped_at,
    }
}

/// The incident's clocks at `now`; `timeline` in time order, starting at its opening.
pub fn evaluate(timeline: &[Point], targets: &Targets, now: i64) -> Option<Sla> {
    let priority = timeline.last()?.priority;
    use IncidentState::*;
    let response = clock(timeline, now, target(&targets.response_min, priority), |_| true, |s| s != New);
    let resolution = clock(
        timeline,
        now,
        target(&targets.resolution_min, priority),
        |s| s != OnHold,
        |s| matches!(s, Resolved | Closed | Canceled),
    );
    Some(Sla { priority, response, resolution })
}
