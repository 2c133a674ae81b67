//! The state **as of an instant**: every event appended at or before it, replayed from the journal into a fresh
//! state (read in pages through the journal's writer, as the audit does, so it works on every backend and on a
//! follower). Reports computed on it are reproducible: the same instant gives the same journal prefix, hence the
//! same figures, whenever it is asked.
//!
//! The instant's prefix ends before the first event stamped later than the instant (the journal's times follow its
//! sequence; a clock set back would end a prefix early, never mix two). A few states are kept: one whose prefix is
//! known complete answers its instants at once, and any earlier one is a start for a later instant.

use crate::AppError;
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};
use vigie_domain::State;
use vigie_journal::Journal;

/// The journal replayed up to an instant.
#[derive(Clone)]
pub struct Past {
    pub state: Arc<State>,
    /// The instant asked.
    pub at: DateTime<Utc>,
    /// The last event's sequence and time in the prefix (0 and `None` before the first event).
    pub seq: u64,
    pub last_time: Option<DateTime<Utc>>,
    /// The first event after the prefix, when there is one: the prefix is then final.
    pub next_time: Option<DateTime<Utc>>,
}

impl Past {
    /// Whether this prefix is the one of `at` for good (later appends cannot change it).
    fn answers(&self, at: DateTime<Utc>) -> bool {
        self.last_time.is_none_or(|t| t <= at) && self.next_time.is_some_and(|n| at < n)
    }
    /// Whether replaying on from this prefix can reach `at`'s.
    fn starts(&self, at: DateTime<Utc>) -> bool {
        self.last_time.is_none_or(|t| t <= at)
    }
}

/// States of the past kept for the next questions (each is a whole projection: few are kept).
pub struct History {
    kept: Mutex<Vec<Past>>,
    capacity: usize,
    /// One replay at a time: each builds a whole projection, so many at once would multiply the memory.
    replaying: Mutex<()>,
    /// Replays running or waiting; beyond [`History::MAX_WAITING`], a caller is told to come back.
    waiting: std::sync::atomic::AtomicUsize,
}

/// Takes a place among the replays waiting; gives it back when dropped.
struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Default for History {
    fn default() -> Self {
        History::new(2)
    }
}

impl History {
    pub fn new(capacity: usize) -> History {
        History {
            kept: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
            replaying: Mutex::new(()),
            waiting: Default::default(),
        }
    }

    /// Replays that may run or wait at once; the next caller is answered `unavailable` with a delay.
    pub const MAX_WAITING: usize = 4;

    fn wait(&self) -> Result<Waiting<'_>, AppError> {
        let n = self.waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let w = Waiting(&self.waiting);
        if n >= Self::MAX_WAITING {
            return Err(AppError::Unavailable {
                reason: crate::Reason::new(
                    "unavailable.replays",
                    [],
                    "reports of past instants are being computed: ask again in a few seconds".into(),
                ),
                retry_after_s: 5,
            });
        }
        Ok(w)
    }

    /// The state as of `at` (events stamped at or before it).
    pub fn state_at(&self, journal: &Journal, at: DateTime<Utc>) -> Result<Past, AppError> {
        if let Some(p) = self.kept.lock().unwrap_or_else(|p| p.into_inner()).iter().find(|p| p.answers(at)) {
            return Ok(Past { at, ..p.clone() });
        }
        let _place = self.wait()?;
        let _one = self.replaying.lock().unwrap_or_else(|p| p.into_inner());
        let start = {
            let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(p) = kept.iter().find(|p| p.answers(at)) {
                return Ok(Past { at, ..p.clone() });
            }
            kept.iter().filter(|p| p.starts(at)).max_by_key(|p| p.seq).cloned()
        };
        let (mut state, mut last_time) = match start {
            Some(p) => ((*p.state).clone(), p.last_time),
            None => (State::new(), None),
        };
        let mut next_time = None;
        'scan: loop {
            let page = journal.read_after(state.last_seq, 10_000)?;
            if page.is_empty() {
                break;
            }
            for env in page {
                if env.time > at {
                    next_time = Some(env.time);
                    break 'scan;
                }
                last_time = Some(env.time);
                state.apply_owned(env);
            }
        }
        let past = Past { seq: state.last_seq, state: Arc::new(state), at, last_time, next_time };
        self.keep(past.clone());
        Ok(past)
    }

    /// The state through the event `seq` exactly (a drafted report is rebuilt from the position it recorded).
    pub fn state_through(&self, journal: &Journal, seq: u64) -> Result<Arc<State>, AppError> {
        let _place = self.wait()?;
        let _one = self.replaying.lock().unwrap_or_else(|p| p.into_inner());
        let start = {
            let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(p) = kept.iter().find(|p| p.seq == seq) {
                return Ok(p.state.clone());
            }
            kept.iter().filter(|p| p.seq <= seq).max_by_key(|p| p.seq).cloned()
        };
        let (mut state, mut last_time) = match start {
            Some(p) => ((*p.state).clone(), p.last_time),
            None => (State::new(), None),
        };
        while state.last_seq < seq {
            let page = journal.read_after(state.last_seq, (seq - state.last_seq).min(10_000))?;
            if page.is_empty() {
                return Err(AppError::Internal(format!("the journal ends before event {seq}")));
            }
            for env in page {
                last_time = Some(env.time);
                state.apply_owned(env);
            }
        }
        let state = Arc::new(state);
        let at = last_time.unwrap_or_default();
        self.keep(Past { state: state.clone(), at, seq, last_time, next_time: None });
        Ok(state)
    }

    fn keep(&self, past: Past) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|p| p.seq != past.seq);
        if kept.len() >= self.capacity {
            kept.remove(0);
        }
        kept.push(past);
    }
}
