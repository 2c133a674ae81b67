//! The live picture: the estate in memory, built from the journal's TOC registry and kept in step with it.
//!
//! Results (pushed, from Alertmanager, from active checks) go through [`Inner::ingest`] under the live lock: they
//! move the checks' states and return the hard changes to journal and the screen changes to broadcast (see
//! [`super::ingest`] for how they are held back until durable). Raw results are not journalled; the registry
//! version tells when the estate must be rebuilt (states carried over by check id).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use vigie_domain::health::{Shown, Status};
use vigie_domain::toc::{CheckKind, CheckStateChange, WindowScope};
use vigie_domain::{Actor, CheckId, Event, NewEvent, State};
use vigie_monitor::alertmanager::LabelIndex;
use vigie_monitor::estate::{CheckDef, Estate, Parent, Scope, Window};
use vigie_monitor::rollup::{roll_up, Counts, Rule};
use vigie_monitor::{CheckState, Millis, Policy};

pub fn millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis()
}

pub fn instant(ms: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> Millis {
    millis(Utc::now())
}

/// How to put the estate back if what it did cannot be journalled.
pub enum Undo {
    /// These checks' states as they were.
    Slots(Vec<(u32, CheckState)>),
    /// Rebuild from the journal's hard states (when too many checks moved to keep them).
    FromJournal,
}

/// A change of what a check shows, as the screens receive it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveChange {
    pub check_id: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite: Option<Arc<str>>,
    pub from: Shown,
    pub to: Shown,
    pub colour: &'static str,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Arc<str>>,
    pub output: String,
}

/// One result to take.
#[derive(Debug, Clone)]
pub struct Result1 {
    pub slot: u32,
    pub status: Status,
    pub output: String,
    pub at: Millis,
    /// From an Alertmanager alert: taken hard at once and held until resolved (OK), see `CheckState::alert`.
    pub alert: bool,
}

/// Where a check belongs, for filters and roll-ups (indexes into [`Inner`]'s lists).
#[derive(Debug, Clone, Copy)]
struct Meta {
    site: u32,
    app: u32,
}

const NONE: u32 = u32::MAX;

pub struct Inner {
    pub version: u64,
    pub estate: Estate,
    meta: Vec<Meta>,
    outputs: Vec<Option<Box<str>>>,
    pub kinds: Vec<CheckKind>,
    sites: Vec<(Arc<str>, String, Rule)>,
    /// id, name, suite index, rule
    apps: Vec<(Arc<str>, String, u32, Rule)>,
    suites: Vec<Arc<str>>,
    pub labels: LabelIndex,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub results: AtomicU64,
    pub state_changes: AtomicU64,
    pub alerts: AtomicU64,
    pub alerts_unmatched: AtomicU64,
    pub active_runs: AtomicU64,
    pub active_running: AtomicU64,
}

pub struct Live {
    inner: Mutex<Inner>,
    pub changes: broadcast::Sender<Arc<LiveChange>>,
    pub counters: Counters,
}

impl Live {
    pub fn new(state: &State, now: Millis) -> Live {
        let (changes, _) = broadcast::channel(65_536);
        Live { inner: Mutex::new(Inner::build(state, None, now)), changes, counters: Counters::default() }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The estate, locked, rebuilt first if the registry changed since it was built (states carried over). The
    /// live lock is taken before the journal's state, always.
    pub fn lock_synced(&self, journal: &vigie_journal::Journal, now: Millis) -> std::sync::MutexGuard<'_, Inner> {
        let mut g = self.lock();
        let st = journal.state();
        if g.version != st.toc.version {
            let rebuilt = Inner::build(&st, Some(&g), now);
            *g = rebuilt;
        }
        g
    }

    /// Counts results taken and hard changes made, for `/metrics`.
    pub fn count(&self, results: usize, changes: usize) {
        self.counters.results.fetch_add(results as u64, Ordering::Relaxed);
        self.counters.state_changes.fetch_add(changes as u64, Ordering::Relaxed);
    }

    /// Rebuilds the estate from the registry now (states carried over) and returns what that changed on screens.
    pub fn rebuild_and_diff(&self, journal: &vigie_journal::Journal, now: Millis) -> Vec<Arc<LiveChange>> {
        self.rebuild(journal, now, true)
    }

    fn rebuild(&self, journal: &vigie_journal::Journal, now: Millis, carry: bool) -> Vec<Arc<LiveChange>> {
        let mut g = self.lock();
        let state = journal.state();
        let rebuilt = Inner::build(&state, carry.then_some(&*g), now);
        let mut changes = Vec::new();
        for slot in 0..rebuilt.estate.len() as u32 {
            let id = &rebuilt.estate.def(slot).id;
            let before = g.estate.slot(id).map(|s| g.estate.shown(s));
            let after = rebuilt.estate.shown(slot);
            if before.is_some_and(|b| b != after) {
                let cause = rebuilt.estate.cause(slot).cloned();
                changes.push(rebuilt.change(slot, before.expect("checked"), after, cause, now));
            }
        }
        *g = rebuilt;
        changes
    }

    /// Rebuilds the estate from the journalled hard states only (nothing carried over from memory) and returns what
    /// that changed on screens: a follower following the leader's decisions, a new leader taking over.
    pub fn rebuild_from_journal(&self, journal: &vigie_journal::Journal, now: Millis) -> Vec<Arc<LiveChange>> {
        self.rebuild(journal, now, false)
    }

    pub fn broadcast(&self, changes: Vec<Arc<LiveChange>>) {
        for c in changes {
            let _ = self.changes.send(c);
        }
    }
}

impl Inner {
    /// Takes results; returns the events to journal and the changes to broadcast once they are durable.
    pub fn ingest(
        &mut self,
        results: &[Result1],
        actor: &Actor,
        source: &str,
    ) -> (Vec<NewEvent>, Vec<Arc<LiveChange>>) {
        let mut events = Vec::new();
        let mut changes = Vec::new();
        for r in results {
            let out = if r.alert {
                self.estate.alert(r.slot, (r.status != Status::Ok).then_some(r.status), r.at)
            } else {
                self.estate.ingest(r.slot, r.status, r.at)
            };
            self.outputs[r.slot as usize] = Some(r.output.clone().into_boxed_str());
            self.collect(out, actor, source, &mut events, &mut changes);
        }
        (events, changes)
    }

    /// Time passes: staleness, maintenance windows opening and closing.
    pub fn tick(&mut self, now: Millis, actor: &Actor) -> (Vec<NewEvent>, Vec<Arc<LiveChange>>) {
        let out = self.estate.tick(now);
        let (mut events, mut changes) = (Vec::new(), Vec::new());
        self.collect(out, actor, "monitoring:tick", &mut events, &mut changes);
        (events, changes)
    }

    /// The states of `slots` as they are now, to put back with [`Inner::undo`].
    pub fn undo_point(&self, slots: impl Iterator<Item = u32>) -> Undo {
        let mut seen = std::collections::HashSet::new();
        Undo::Slots(slots.filter(|s| seen.insert(*s)).map(|s| (s, self.estate.state(s).clone())).collect())
    }

    /// Puts the estate back as the journal knows it.
    pub fn undo(&mut self, undo: Undo, state: &State, now: Millis) {
        match undo {
            Undo::Slots(slots) => {
                for (slot, s) in slots {
                    self.estate.restore(slot, s);
                }
                self.estate.settle(now);
            }
            Undo::FromJournal => {
                let outputs = std::mem::take(&mut self.outputs);
                let ids: Vec<Arc<str>> = (0..self.estate.len() as u32).map(|s| self.estate.def(s).id.clone()).collect();
                *self = Inner::build(state, None, now);
                for (id, out) in ids.into_iter().zip(outputs) {
                    if let Some(s) = self.estate.slot(&id) {
                        self.outputs[s as usize] = out;
                    }
                }
            }
        }
    }

    fn build(state: &State, previous: Option<&Inner>, now: Millis) -> Inner {
        let toc = &state.toc;
        let mut site_ix: HashMap<&str, u32> = HashMap::new();
        let mut sites: Vec<(Arc<str>, String, Rule)> = Vec::new();
        let mut suite_ix: HashMap<&str, u32> = HashMap::new();
        let mut suites: Vec<Arc<str>> = Vec::new();
        let mut app_ix: HashMap<&str, u32> = HashMap::new();
        let mut apps: Vec<(Arc<str>, String, u32, Rule)> = Vec::new();
        for a in toc.applications.values().map(|a| &a.value) {
            let suite = *suite_ix.entry(a.suite.as_str()).or_insert_with(|| {
                suites.push(Arc::from(a.suite.as_str()));
                suites.len() as u32 - 1
            });
            let rule = a.rollup.parse().unwrap_or_default();
            app_ix.insert(a.id.as_str(), apps.len() as u32);
            apps.push((Arc::from(a.id.as_str()), a.name.clone(), suite, rule));
        }
        let mut asset_checks: HashMap<&str, Vec<Arc<str>>> = HashMap::new();
        let mut defs = Vec::with_capacity(toc.checks.len());
        let mut meta = Vec::with_capacity(toc.checks.len());
        let mut kinds = Vec::with_capacity(toc.checks.len());
        let mut label_rows = Vec::new();
        for c in toc.checks.values().map(|c| &c.value) {
            let id: Arc<str> = Arc::from(c.id.as_str());
            let site = c.site_id.as_ref().map(|s| {
                *site_ix.entry(s.as_str()).or_insert_with(|| {
                    let rec = state.sites.get(s).map(|r| &r.value);
                    let name = rec.map_or_else(|| s.to_string(), |r| r.name.clone());
                    let rule = rec.and_then(|r| r.attributes.get("rollup")).and_then(|r| r.parse().ok());
                    sites.push((Arc::from(s.as_str()), name, rule.unwrap_or_default()));
                    sites.len() as u32 - 1
                })
            });
            let app = c.application_id.as_ref().and_then(|a| app_ix.get(a.as_str()).copied());
            let mut tags: Vec<Arc<str>> = c.tags.iter().map(|t| Arc::from(t.as_str())).collect();
            if let Some(a) = &c.asset_id {
                asset_checks.entry(a.as_str()).or_default().push(id.clone());
                tags.push(Arc::from(format!("asset:{a}")));
            }
            let policy =
                Policy { max_attempts: c.max_attempts, ttl_ms: c.ttl().map(|t| t as i64 * 1000), ..Policy::default() };
            defs.push(CheckDef {
                id: id.clone(),
                site: site.map(|s| sites[s as usize].0.clone()),
                application: app.map(|a| apps[a as usize].0.clone()),
                tags,
                policy,
            });
            meta.push(Meta { site: site.unwrap_or(NONE), app: app.unwrap_or(NONE) });
            kinds.push(c.kind);
            label_rows.push((c.id.as_str(), c.labels.as_slice()));
        }
        let expand = |id: &str| -> Vec<Arc<str>> {
            match asset_checks.get(id) {
                Some(v) => v.clone(),
                None => vec![Arc::from(id)],
            }
        };
        let mut deps = Vec::new();
        for d in toc.dependencies.values() {
            let parents: Vec<Arc<str>> = d.parents.iter().flat_map(|p| expand(p)).collect();
            let parent = match parents.len() {
                0 => continue,
                1 => Parent::Check(parents[0].clone()),
                _ => Parent::AnyOf(parents),
            };
            for child in expand(&d.child) {
                deps.push((child, parent.clone()));
            }
        }
        let plain: Vec<CheckDef> = if deps.is_empty() { Vec::new() } else { defs.clone() };
        let mut estate = Estate::new(defs, &deps, now).unwrap_or_else(|e| {
            // The import checks references, not cycles: a cycle leaves the dependencies out, loudly.
            tracing::error!(error = %e, "monitoring dependencies ignored");
            Estate::new(plain, &[], now).expect("without dependencies nothing can fail")
        });
        let windows = toc
            .windows
            .values()
            .map(|w| &w.value)
            .map(|w| Window {
                id: Arc::from(w.id.as_str()),
                scope: match &w.scope {
                    WindowScope::Site(s) => Scope::Site(Arc::from(s.as_str())),
                    WindowScope::Application(a) => Scope::Application(Arc::from(a.as_str())),
                    WindowScope::Check(c) => Scope::Check(Arc::from(c.as_str())),
                    WindowScope::Tag(t) => Scope::Tag(Arc::from(t.as_str())),
                    WindowScope::Asset(a) => Scope::Tag(Arc::from(format!("asset:{a}"))),
                },
                start: millis(w.starts_at),
                end: millis(w.ends_at),
                every_ms: w.every_hours.map(|h| h as i64 * 3_600_000),
            })
            .collect();
        estate.put_windows(windows);
        let mut outputs = vec![None; meta.len()];
        for slot in 0..estate.len() as u32 {
            let id = estate.def(slot).id.clone();
            let carried = previous.and_then(|p| p.estate.slot(&id).map(|s| (p, s)));
            if let Some((p, s)) = carried {
                estate.restore(slot, p.estate.state(s).clone());
                estate.carry_durations(slot, p.estate.durations(s, now));
                outputs[slot as usize] = p.outputs[s as usize].clone();
            } else if let Some(h) = CheckId::parse(&id).ok().and_then(|c| toc.hard.get(&c)) {
                let mut st = CheckState::restored(h.status, millis(h.since), h.flapping);
                st.acknowledged = h.acknowledged;
                estate.restore(slot, st);
            }
        }
        estate.settle(now);
        let labels = LabelIndex::new(label_rows.iter().enumerate().map(|(i, (id, l))| (*id, *l, i as u32)));
        Inner { version: toc.version, estate, meta, outputs, kinds, sites, apps, suites, labels }
    }

    fn collect(
        &mut self,
        out: vigie_monitor::estate::Outcome,
        actor: &Actor,
        source: &str,
        events: &mut Vec<NewEvent>,
        changes: &mut Vec<Arc<LiveChange>>,
    ) {
        for (id, t) in out.transitions {
            if t.damped {
                continue;
            }
            let Ok(check_id) = CheckId::parse(&id) else { continue };
            let output = self
                .estate
                .slot(&id)
                .and_then(|s| self.outputs[s as usize].as_deref())
                .map(|o| if t.stale { "no result within the TTL".to_string() } else { o.to_string() })
                .unwrap_or_else(|| if t.stale { "no result within the TTL".into() } else { String::new() });
            events.push(NewEvent {
                actor: actor.clone(),
                source: source.to_string(),
                event: Event::CheckStateChanged(CheckStateChange {
                    check_id,
                    from: t.from,
                    to: t.to,
                    at: instant(t.at),
                    output,
                    during_maintenance: t.during_maintenance,
                    flapping: t.flapping,
                    stale: t.stale,
                }),
            });
        }
        for c in out.changes {
            let Some(slot) = self.estate.slot(&c.check) else { continue };
            changes.push(self.change(slot, c.from, c.to, c.cause, c.at));
        }
    }

    fn change(&self, slot: u32, from: Shown, to: Shown, cause: Option<Arc<str>>, at: Millis) -> Arc<LiveChange> {
        let m = self.meta[slot as usize];
        let app = (m.app != NONE).then(|| &self.apps[m.app as usize]);
        Arc::new(LiveChange {
            check_id: self.estate.def(slot).id.clone(),
            site_id: (m.site != NONE).then(|| self.sites[m.site as usize].0.clone()),
            application_id: app.map(|a| a.0.clone()),
            suite: app.map(|a| self.suites[a.2 as usize].clone()),
            from,
            to,
            colour: to.colour(),
            at: instant(at),
            cause,
            output: self.outputs[slot as usize].as_deref().unwrap_or("").to_string(),
        })
    }

    pub fn output(&self, slot: u32) -> &str {
        self.outputs[slot as usize].as_deref().unwrap_or("")
    }
    pub fn site_of(&self, slot: u32) -> Option<&Arc<str>> {
        let s = self.meta[slot as usize].site;
        (s != NONE).then(|| &self.sites[s as usize].0)
    }
    pub fn application_of(&self, slot: u32) -> Option<(&Arc<str>, &Arc<str>)> {
        let a = self.meta[slot as usize].app;
        (a != NONE).then(|| {
            let app = &self.apps[a as usize];
            (&app.0, &self.suites[app.2 as usize])
        })
    }

    /// Counts and roll-ups of everything, in one pass over the checks; with `only_apps`, of those applications'
    /// checks only (a partner's picture: the other applications, sites and suites do not appear).
    pub fn summary(&self, now: Millis, only_apps: Option<&std::collections::HashSet<String>>) -> Summary {
        let n = self.estate.len();
        let mut total = Counts::default();
        let mut by_app = vec![Counts::default(); self.apps.len()];
        let mut app_site: HashMap<(u32, u32), Counts> = HashMap::new();
        let mut site_loose = vec![Counts::default(); self.sites.len()];
        let mut avail_app = vec![vigie_monitor::availability::Durations::default(); self.apps.len()];
        let mut avail_site = vec![vigie_monitor::availability::Durations::default(); self.sites.len()];
        let kept = |m: Meta| only_apps.is_none_or(|only| m.app != NONE && only.contains(&*self.apps[m.app as usize].0));
        let mut n_kept = 0;
        for slot in 0..n as u32 {
            let m = self.meta[slot as usize];
            if !kept(m) {
                continue;
            }
            n_kept += 1;
            let s = self.estate.shown(slot);
            total.add(s);
            let d = self.estate.durations(slot, now);
            if m.app != NONE {
                by_app[m.app as usize].add(s);
                avail_app[m.app as usize].merge(&d);
                if m.site != NONE {
                    app_site.entry((m.app, m.site)).or_default().add(s);
                }
            } else if m.site != NONE {
                site_loose[m.site as usize].add(s);
            }
            if m.site != NONE {
                avail_site[m.site as usize].merge(&d);
            }
        }
        let applications: Vec<GroupState> = self
            .apps
            .iter()
            .enumerate()
            .map(|(i, (id, name, suite, rule))| GroupState {
                id: id.clone(),
                name: name.clone(),
                suite: Some(self.suites[*suite as usize].clone()),
                site_id: None,
                state: across_sites(*rule, &by_app[i]),
                rule: rule.to_string(),
                counts: by_app[i],
                availability: avail_app[i].availability(),
                since: None,
            })
            .collect();
        let mut at_sites: Vec<GroupState> = app_site
            .iter()
            .map(|(&(a, s), c)| {
                let (id, name, suite, rule) = &self.apps[a as usize];
                GroupState {
                    id: id.clone(),
                    name: name.clone(),
                    suite: Some(self.suites[*suite as usize].clone()),
                    site_id: Some(self.sites[s as usize].0.clone()),
                    state: roll_up(*rule, c),
                    rule: rule.to_string(),
                    counts: *c,
                    availability: None,
                    since: None,
                }
            })
            .collect();
        at_sites.sort_by(|a, b| (&a.site_id, &a.id).cmp(&(&b.site_id, &b.id)));
        // A site: its applications there, and its checks that serve no application, under the site's rule.
        let mut site_members = site_loose.clone();
        for g in &at_sites {
            let s = self.sites.iter().position(|x| Some(&x.0) == g.site_id.as_ref()).expect("known site");
            site_members[s].add(g.state);
        }
        let mut sites: Vec<GroupState> = self
            .sites
            .iter()
            .enumerate()
            .map(|(i, (id, name, rule))| GroupState {
                id: id.clone(),
                name: name.clone(),
                suite: None,
                site_id: None,
                state: roll_up(*rule, &site_members[i]),
                rule: rule.to_string(),
                counts: site_members[i],
                availability: avail_site[i].availability(),
                since: None,
            })
            .collect();
        // Since when a site is not OK: the earliest hard change among its checks shown in the site's state.
        let mut since: Vec<Option<Millis>> = vec![None; sites.len()];
        for slot in 0..n as u32 {
            let m = self.meta[slot as usize];
            if m.site == NONE || !kept(m) {
                continue;
            }
            let site = &sites[m.site as usize];
            if site.state != Shown::Ok && self.estate.shown(slot) == site.state {
                let at = self.estate.state(slot).last_hard_change;
                let s = &mut since[m.site as usize];
                *s = Some(s.map_or(at, |x: Millis| x.min(at)));
            }
        }
        for (g, s) in sites.iter_mut().zip(since) {
            g.since = s.map(instant);
        }
        let suites: Vec<GroupState> = self
            .suites
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let c: Counts =
                    applications.iter().filter(|a| a.suite.as_deref() == Some(&**name)).map(|a| a.state).collect();
                let _ = i;
                GroupState {
                    id: name.clone(),
                    name: name.to_string(),
                    suite: None,
                    site_id: None,
                    state: roll_up(Rule::Worst, &c),
                    rule: Rule::Worst.to_string(),
                    counts: c,
                    availability: None,
                    since: None,
                }
            })
            .collect();
        let mut out = Summary {
            at: instant(now),
            checks: n_kept,
            counts: total,
            suites,
            applications,
            sites,
            applications_at_sites: at_sites,
        };
        if only_apps.is_some() {
            let any = |g: &GroupState| g.counts.total() > 0;
            out.suites.retain(any);
            out.applications.retain(any);
            out.sites.retain(any);
            out.applications_at_sites.retain(any);
        }
        out
    }
}

/// A group's state.
#[derive(Debug, Clone, Serialize)]
pub struct GroupState {
    pub id: Arc<str>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<Arc<str>>,
    pub state: Shown,
    pub rule: String,
    pub counts: Counts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<f64>,
    /// Since when the group is in its state (sites not OK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
}

/// An application's state over all its sites: its checks made unreachable by a failure elsewhere (a venue's power
/// or network, whose roll-up shows it) are left out, so that one venue's outage does not colour every application
/// and suite it hosts; an application with nothing else is UNREACHABLE.
fn across_sites(rule: Rule, c: &Counts) -> Shown {
    let rest = Counts { unreachable: 0, ..*c };
    if rest.total() == 0 && c.unreachable > 0 {
        Shown::Unreachable
    } else {
        roll_up(rule, &rest)
    }
}

/// The state of everything.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub at: DateTime<Utc>,
    pub checks: usize,
    pub counts: Counts,
    pub suites: Vec<GroupState>,
    pub applications: Vec<GroupState>,
    pub sites: Vec<GroupState>,
    pub applications_at_sites: Vec<GroupState>,
}
