//! Time-weighted availability that leaves maintenance out.
//!
//! A timeline is a list of (instant, state) changes. Over a window, each state holds from its instant to the next
//! change (or the window's end). Time is classed as: **up** (OK, WARNING: the service works, with weak signals),
//! **down** (CRITICAL, UNREACHABLE: users cannot reach it), **unknown** (UNKNOWN, or before the first change: no
//! information) and **maintenance**. Availability = up / (up + down); unknown and maintenance time are left out of
//! both, and with no up nor down time there is no availability (`None`), never a made-up 100 %.

use crate::status::Shown;
use crate::Millis;
use serde::Serialize;

/// Time spent in each class, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Durations {
    pub up_ms: i64,
    pub down_ms: i64,
    pub unknown_ms: i64,
    pub maintenance_ms: i64,
}

impl Durations {
    /// Adds `ms` spent in `state`.
    pub fn add(&mut self, state: Option<Shown>, ms: i64) {
        let ms = ms.max(0);
        match state {
            Some(Shown::Ok | Shown::Warning) => self.up_ms += ms,
            Some(Shown::Critical | Shown::Unreachable) => self.down_ms += ms,
            Some(Shown::Maintenance) => self.maintenance_ms += ms,
            Some(Shown::Unknown) | None => self.unknown_ms += ms,
        }
    }
    pub fn merge(&mut self, o: &Durations) {
        self.up_ms += o.up_ms;
        self.down_ms += o.down_ms;
        self.unknown_ms += o.unknown_ms;
        self.maintenance_ms += o.maintenance_ms;
    }
    /// up / (up + down), `None` without either.
    pub fn availability(&self) -> Option<f64> {
        let known = self.up_ms + self.down_ms;
        (known > 0).then(|| self.up_ms as f64 / known as f64)
    }
}

/// Durations over `[from, to)` of a timeline sorted by instant (changes before `from` set the starting state).
pub fn over(timeline: &[(Millis, Shown)], from: Millis, to: Millis) -> Durations {
    let mut d = Durations::default();
    if to <= from {
        return d;
    }
    let mut state: Option<Shown> = None;
    let mut at = from;
    for &(t, s) in timeline {
        if t <= from {
            state = Some(s);
            continue;
        }
        if t >= to {
            break;
        }
        d.add(state, t - at);
        state = Some(s);
        at = t;
    }
    d.add(state, to - at);
    d
}
