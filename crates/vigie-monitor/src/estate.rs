//! The whole supervised estate in memory: every check's definition and state, the dependencies between checks,
//! the maintenance windows, and what each check shows. One result in, the changes it causes out (its own, and
//! the dependents it makes UNREACHABLE or reachable again).
//!
//! **Dependencies.** A check depends on parents: single checks, or redundancy groups (two uplinks), which fail only
//! when all their members fail. A parent has failed when its hard status is CRITICAL or UNKNOWN, or when it is
//! itself UNREACHABLE. A check in a problem state whose parent has failed shows UNREACHABLE, with the root cause
//! (the first failed check up the chain): a power cut at a venue shows one red uplink and its dependents purple,
//! not two thousand reds. A check that still answers OK shows OK, whatever its parents.
//!
//! **Maintenance.** Windows (one-off or repeated every N hours, by site, application, check or tag) make the
//! checks they cover show MAINTENANCE; their results still count and their failures are still recorded.

use crate::availability::Durations;
use crate::machine::{CheckState, Policy, Transition};
use crate::status::{Shown, Status};
use crate::Millis;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// A check as the registry defines it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckDef {
    pub id: Arc<str>,
    pub site: Option<Arc<str>>,
    pub application: Option<Arc<str>>,
    pub tags: Vec<Arc<str>>,
    pub policy: Policy,
}

/// One parent of a check: a check, or a redundancy group that fails only when every member fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    Check(Arc<str>),
    AnyOf(Vec<Arc<str>>),
}

/// What a maintenance window covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", content = "id", rename_all = "lowercase")]
pub enum Scope {
    Site(Arc<str>),
    Application(Arc<str>),
    Check(Arc<str>),
    Tag(Arc<str>),
}

/// A maintenance window: `[start, end)`, repeated every `every_ms` when set (e.g. each night).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub id: Arc<str>,
    pub scope: Scope,
    pub start: Millis,
    pub end: Millis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every_ms: Option<Millis>,
}

impl Window {
    /// Whether the window is open at `t`.
    pub fn active(&self, t: Millis) -> bool {
        if t < self.start {
            return false;
        }
        match self.every_ms {
            Some(every) if every > 0 => (t - self.start) % every < self.end - self.start,
            _ => t < self.end,
        }
    }
    fn covers(&self, d: &CheckDef) -> bool {
        match &self.scope {
            Scope::Site(s) => d.site.as_ref() == Some(s),
            Scope::Application(a) => d.application.as_ref() == Some(a),
            Scope::Check(c) => &d.id == c,
            Scope::Tag(t) => d.tags.contains(t),
        }
    }
}

/// A change of what a check shows, with its cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub check: Arc<str>,
    pub from: Shown,
    pub to: Shown,
    pub at: Millis,
    /// The failed check behind an UNREACHABLE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Arc<str>>,
}

/// What one result or one tick did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Hard changes and flapping starts and stops, by check (for the journal).
    pub transitions: Vec<(Arc<str>, Transition)>,
    /// Changes of what checks show (for the screens).
    pub changes: Vec<Change>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EstateError {
    #[error("unknown check {0:?}")]
    UnknownCheck(String),
    #[error("check {0:?} is defined twice")]
    Duplicate(String),
    #[error("the dependencies form a cycle through {0:?}")]
    Cycle(String),
}

#[derive(Debug, Clone)]
enum Edge {
    One(u32),
    Any(Box<[u32]>),
}

fn members(e: &Edge) -> &[u32] {
    match e {
        Edge::One(p) => std::slice::from_ref(p),
        Edge::Any(ps) => ps,
    }
}

/// Every check, its state and what it shows.
#[derive(Debug, Clone)]
pub struct Estate {
    slots: HashMap<Arc<str>, u32>,
    defs: Vec<CheckDef>,
    states: Vec<CheckState>,
    shown: Vec<Shown>,
    cause: Vec<Option<u32>>,
    parents: Vec<Box<[Edge]>>,
    children: Vec<Vec<u32>>,
    windows: Vec<Window>,
    /// Time in each class up to `since`, and the class since then (availability).
    durations: Vec<Durations>,
    since: Vec<Millis>,
}

impl Estate {
    /// Builds the estate at `at`: every check OK (the initial state), then maintenance applied.
    pub fn new(checks: Vec<CheckDef>, deps: &[(Arc<str>, Parent)], at: Millis) -> Result<Estate, EstateError> {
        let mut slots = HashMap::with_capacity(checks.len());
        for (i, d) in checks.iter().enumerate() {
            if slots.insert(d.id.clone(), i as u32).is_some() {
                return Err(EstateError::Duplicate(d.id.to_string()));
            }
        }
        let n = checks.len();
        let slot = |id: &Arc<str>| slots.get(id).copied().ok_or_else(|| EstateError::UnknownCheck(id.to_string()));
        let mut parents: Vec<Vec<Edge>> = vec![Vec::new(); n];
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (child, parent) in deps {
            let c = slot(child)?;
            let edge = match parent {
                Parent::Check(p) => Edge::One(slot(p)?),
                Parent::AnyOf(ps) => Edge::Any(ps.iter().map(slot).collect::<Result<_, _>>()?),
            };
            for &p in members(&edge) {
                children[p as usize].push(c);
            }
            parents[c as usize].push(edge);
        }
        let e = Estate {
            slots,
            states: vec![CheckState::new(at); n],
            shown: vec![Shown::Ok; n],
            cause: vec![None; n],
            parents: parents.into_iter().map(Vec::into_boxed_slice).collect(),
            children,
            windows: Vec::new(),
            durations: vec![Durations::default(); n],
            since: vec![at; n],
            defs: checks,
        };
        e.check_acyclic()?;
        Ok(e)
    }

    fn check_acyclic(&self) -> Result<(), EstateError> {
        // Kahn's algorithm: a check is ready once every parent it names is; what is never ready is on a cycle.
        let mut pending: Vec<usize> = self.parents.iter().map(|es| es.iter().map(|e| members(e).len()).sum()).collect();
        let mut ready: Vec<u32> = (0..self.defs.len() as u32).filter(|&c| pending[c as usize] == 0).collect();
        while let Some(p) = ready.pop() {
            for &c in &self.children[p as usize] {
                pending[c as usize] -= 1;
                if pending[c as usize] == 0 {
                    ready.push(c);
                }
            }
        }
        match pending.iter().position(|&n| n > 0) {
            Some(c) => Err(EstateError::Cycle(self.defs[c].id.to_string())),
            None => Ok(()),
        }
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
    pub fn slot(&self, id: &str) -> Option<u32> {
        self.slots.get(id).copied()
    }
    pub fn def(&self, slot: u32) -> &CheckDef {
        &self.defs[slot as usize]
    }
    pub fn state(&self, slot: u32) -> &CheckState {
        &self.states[slot as usize]
    }
    pub fn shown(&self, slot: u32) -> Shown {
        self.shown[slot as usize]
    }
    pub fn cause(&self, slot: u32) -> Option<&Arc<str>> {
        self.cause[slot as usize].map(|c| &self.defs[c as usize].id)
    }
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }
    /// Time spent in each class up to `now`.
    pub fn durations(&self, slot: u32, now: Millis) -> Durations {
        let mut d = self.durations[slot as usize];
        d.add(Some(self.shown[slot as usize]), now - self.since[slot as usize]);
        d
    }

    /// Sets a check's state (from the journal, or carried over from a previous estate); call [`Estate::settle`]
    /// once every state is set.
    pub fn restore(&mut self, slot: u32, state: CheckState) {
        self.states[slot as usize] = state;
    }

    /// Recomputes what every check shows (after restoring states), parents before children; the availability
    /// counters go on from `at` (with what [`Estate::carry_durations`] gave them).
    pub fn settle(&mut self, at: Millis) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut order: Vec<u32> =
            (0..self.defs.len() as u32).filter(|&c| self.parents[c as usize].is_empty()).collect();
        let mut pending: Vec<usize> = self.parents.iter().map(|es| es.iter().map(|e| members(e).len()).sum()).collect();
        let mut k = 0;
        while k < order.len() {
            let p = order[k];
            k += 1;
            for &c in &self.children[p as usize] {
                pending[c as usize] -= 1;
                if pending[c as usize] == 0 {
                    order.push(c);
                }
            }
        }
        let active: Vec<Window> = self.windows.iter().filter(|w| w.active(at)).cloned().collect();
        for c in order {
            let m = active.iter().any(|w| w.covers(&self.defs[c as usize]));
            self.states[c as usize].in_maintenance = m;
            let (to, cause) = self.compute(c);
            let from = std::mem::replace(&mut self.shown[c as usize], to);
            self.cause[c as usize] = cause;
            if from != to {
                changes.push(Change {
                    check: self.defs[c as usize].id.clone(),
                    from,
                    to,
                    at,
                    cause: cause.map(|r| self.defs[r as usize].id.clone()),
                });
            }
            self.since[c as usize] = at;
        }
        changes
    }

    /// Carries a check's time counters over from a previous estate (up to the rebuild), so that availability
    /// survives registry changes.
    pub fn carry_durations(&mut self, slot: u32, d: Durations) {
        self.durations[slot as usize] = d;
    }

    /// Every check's id, in slot order.
    pub fn ids(&self) -> impl Iterator<Item = &Arc<str>> {
        self.defs.iter().map(|d| &d.id)
    }

    /// Takes one result for check `slot`.
    pub fn ingest(&mut self, slot: u32, status: Status, at: Millis) -> Outcome {
        self.take(slot, at, |s, policy| s.ingest(status, at, policy))
    }

    /// An Alertmanager alert fires on check `slot` (`Some`) or is resolved (`None`): see [`CheckState::alert`].
    pub fn alert(&mut self, slot: u32, firing: Option<Status>, at: Millis) -> Outcome {
        self.take(slot, at, |s, policy| s.alert(firing, at, policy))
    }

    fn take(
        &mut self,
        slot: u32,
        at: Millis,
        f: impl FnOnce(&mut CheckState, &Policy) -> Option<Transition>,
    ) -> Outcome {
        let mut out = Outcome::default();
        let policy = self.defs[slot as usize].policy;
        if let Some(t) = f(&mut self.states[slot as usize], &policy) {
            let hard = t.hard_change;
            out.transitions.push((self.defs[slot as usize].id.clone(), t));
            if hard {
                self.refresh(slot, at, &mut out.changes);
            }
        }
        out
    }

    /// Acknowledges a hard problem.
    pub fn acknowledge(&mut self, slot: u32) -> bool {
        self.states[slot as usize].acknowledge()
    }

    /// Adds or replaces a window (by id) and applies it at `now`.
    pub fn set_window(&mut self, w: Window, now: Millis) -> Outcome {
        self.windows.retain(|x| x.id != w.id);
        self.windows.push(w);
        self.tick(now)
    }

    /// Sets the windows without applying them (before [`Estate::settle`]).
    pub fn put_windows(&mut self, windows: Vec<Window>) {
        self.windows = windows;
    }

    /// Removes a window and applies the change at `now`.
    pub fn remove_window(&mut self, id: &str, now: Millis) -> Outcome {
        self.windows.retain(|x| &*x.id != id);
        self.tick(now)
    }

    /// Applies the passing of time: windows opening and closing, push checks past their TTL.
    pub fn tick(&mut self, now: Millis) -> Outcome {
        let mut out = Outcome::default();
        let active: Vec<&Window> = self.windows.iter().filter(|w| w.active(now)).collect();
        let mut touched = Vec::new();
        for c in 0..self.defs.len() {
            let d = &self.defs[c];
            let m = active.iter().any(|w| w.covers(d));
            let st = &mut self.states[c];
            let mut changed = m != st.in_maintenance;
            st.in_maintenance = m;
            if let Some(t) = st.tick(now, &d.policy) {
                changed = true;
                out.transitions.push((d.id.clone(), t));
            }
            if changed {
                touched.push(c as u32);
            }
        }
        for c in touched {
            self.refresh(c, now, &mut out.changes);
        }
        out
    }

    /// Whether a parent edge has failed.
    fn edge_failed(&self, e: &Edge) -> Option<u32> {
        let failed = |p: u32| {
            let st = &self.states[p as usize];
            matches!(st.hard, Status::Critical | Status::Unknown) || self.shown[p as usize] == Shown::Unreachable
        };
        let root = |p: u32| self.cause[p as usize].unwrap_or(p);
        match e {
            Edge::One(p) => failed(*p).then(|| root(*p)),
            Edge::Any(ps) => ps.iter().all(|&p| failed(p)).then(|| root(ps[0])),
        }
    }

    fn compute(&self, c: u32) -> (Shown, Option<u32>) {
        let st = &self.states[c as usize];
        if st.in_maintenance {
            return (Shown::Maintenance, None);
        }
        if st.hard == Status::Ok {
            return (Shown::Ok, None);
        }
        if let Some(root) = self.parents[c as usize].iter().find_map(|e| self.edge_failed(e)) {
            return (Shown::Unreachable, Some(root));
        }
        (st.hard.into(), None)
    }

    /// Recomputes what `c` shows, then its dependents, as far as anything changes.
    fn refresh(&mut self, c: u32, at: Millis, changes: &mut Vec<Change>) {
        let mut queue = vec![c];
        let mut first = true;
        while let Some(c) = queue.pop() {
            let (to, cause) = self.compute(c);
            let from = self.shown[c as usize];
            if to != from {
                let k = c as usize;
                self.durations[k].add(Some(from), at - self.since[k]);
                self.since[k] = at;
                self.shown[k] = to;
                changes.push(Change {
                    check: self.defs[k].id.clone(),
                    from,
                    to,
                    at,
                    cause: cause.map(|r| self.defs[r as usize].id.clone()),
                });
            }
            self.cause[c as usize] = cause;
            // Dependents: always for the first (its hard state or maintenance moved), then wherever what a check
            // shows changed (UNREACHABLE counts as failed for its own dependents).
            if first || to != from {
                queue.extend(self.children[c as usize].iter().copied());
            }
            first = false;
        }
    }
}
