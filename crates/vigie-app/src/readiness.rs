//! Venue readiness (issue 16): the journalled tasks turned into a network for `vigie-readiness`, what follows from
//! it as of now (projected dates, blocking and its root cause, critical paths, late tasks, roll-ups), and the one
//! write: a task's progress, checked against its predecessors (an override passes them, and is journalled) and
//! against the caller's reach (a partner moves its own tasks only).
//!
//! Times in the network are minutes from [`ORIGIN`]; answers give instants.

use crate::{AppError, Caller, Reason};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use vigie_domain::access::Permission;
use vigie_domain::readiness::{DeploymentState, TaskProgress, TaskStatus};
use vigie_domain::{Event, State, TaskId};
use vigie_journal::Journal;
use vigie_readiness::{Dependency, Minutes, Network, Schedule, Task, TaskState};

/// The origin of the network's minutes: 2024-01-01T00:00:00Z.
pub const ORIGIN: i64 = 1_704_067_200;

pub fn minutes(t: DateTime<Utc>) -> Minutes {
    (t.timestamp() - ORIGIN).div_euclid(60)
}

pub fn instant(m: Minutes) -> DateTime<Utc> {
    DateTime::from_timestamp(ORIGIN + m * 60, 0).unwrap_or_default()
}

/// A task's state for the scheduler, from its journalled progress; a task done by a delivery plan that nobody has
/// moved is under way from the plan's shipping (its duration is the transit time).
fn state_of(st: &State, task: &vigie_domain::readiness::Task) -> TaskState {
    let status = st.readiness.progress.get(&task.id).map(|p| p.status);
    if matches!(status, None | Some(TaskStatus::Todo)) {
        if let Some(shipped) = shipped_at(st, task) {
            return TaskState::InProgress { started: minutes(shipped) };
        }
    }
    let Some(p) = st.readiness.progress.get(&task.id) else { return TaskState::Todo };
    match p.status {
        TaskStatus::Todo => TaskState::Todo,
        TaskStatus::Blocked => TaskState::Blocked,
        TaskStatus::InProgress => TaskState::InProgress { started: minutes(p.started_at.unwrap_or(p.since)) },
        TaskStatus::Done => TaskState::Done { finished: minutes(p.finished_at.unwrap_or(p.since)) },
        TaskStatus::Verified => TaskState::Verified { finished: minutes(p.finished_at.unwrap_or(p.since)) },
    }
}

/// When the plan that does `task` was shipped, while it is on the road.
fn shipped_at(st: &State, task: &vigie_domain::readiness::Task) -> Option<DateTime<Utc>> {
    let plan = st.plans.get(task.plan_id.as_ref()?)?;
    (plan.value.status == vigie_domain::PlanStatus::Shipped).then_some(plan.value.shipped_at).flatten()
}

/// When the delivery that does `task` is expected (shipped plus the task's duration), and whether it is overdue at
/// `now`: on the road past its expected arrival, which makes every task after it late.
fn expected(st: &State, task: &vigie_domain::readiness::Task, now: Minutes) -> Option<(DateTime<Utc>, bool)> {
    let status = st.readiness.progress.get(&task.id).map(|p| p.status);
    if status.is_some_and(|s| s.finished()) {
        return None;
    }
    let at = shipped_at(st, task)? + chrono::Duration::minutes(task.duration_min.into());
    Some((at, minutes(at) < now))
}

/// The network's shape (tasks and links, checked and ordered once: 14 ms for 11,000 tasks) kept between answers
/// while no task or link changes; each answer copies it and sets the states from the journal's progress.
#[derive(Default)]
pub struct NetworkCache(std::sync::Mutex<Option<(u64, std::sync::Arc<Network>)>>);

impl NetworkCache {
    /// The network of `st`, its shape from the cache when still current.
    pub fn network(&self, st: &State) -> Result<Network, AppError> {
        let shape = {
            let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
            match g.as_ref() {
                Some((v, net)) if *v == st.readiness.structure => net.clone(),
                _ => {
                    let net = std::sync::Arc::new(network(st)?);
                    *g = Some((st.readiness.structure, net.clone()));
                    net
                }
            }
        };
        let mut net = (*shape).clone();
        for t in st.readiness.tasks.values() {
            net.set_state(t.value.id.as_str(), state_of(st, &t.value));
        }
        Ok(net)
    }
}

/// The network of every task and link the journal holds. The import refuses cycles, so this does not fail on
/// journalled data; if it ever did, the error says which tasks.
pub fn network(st: &State) -> Result<Network, AppError> {
    let tasks: Vec<Task> = st
        .readiness
        .tasks
        .values()
        .map(|t| {
            let t = &t.value;
            Task {
                id: t.id.to_string(),
                site: t.site_id.to_string(),
                zone: t.zone_id.to_string(),
                trade: t.trade.as_str().to_string(),
                owner: t.owner.to_string(),
                duration: t.duration_min as Minutes,
                due: t.due.map(minutes),
                state: state_of(st, t),
            }
        })
        .collect();
    let deps: Vec<Dependency> = st
        .readiness
        .links
        .iter()
        .map(|((b, a), lag)| Dependency { before: b.to_string(), after: a.to_string(), lag: *lag as Minutes })
        .collect();
    Network::new(tasks, &deps).map_err(|e| AppError::Internal(format!("the journalled readiness network: {e}")))
}

/// The tasks a scoped caller (a partner) sees in the picture, computed once per answer: its own, everything they wait
/// for, transitively, whoever owns it (so that the root cause of what holds its work up is named), and the tasks that
/// wait directly for its own.
fn visible_tasks(st: &State, net: &Network, view: &vigie_domain::access::View) -> std::collections::HashSet<String> {
    let own = |id: &str| st.readiness.tasks.get(id).is_some_and(|t| view.own_task(&t.value));
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<&str> = net.tasks().iter().map(|t| t.id.as_str()).filter(|id| own(id)).collect();
    for id in &stack {
        seen.extend(net.successors(id).into_iter().map(str::to_string));
    }
    let mut walked = std::collections::HashSet::new();
    while let Some(id) = stack.pop() {
        if walked.insert(id) {
            seen.insert(id.to_string());
            stack.extend(net.predecessors(id).into_iter().map(|(p, _)| p));
        }
    }
    seen
}

/// The zones where a scoped caller (a partner) has a task, computed once per answer.
fn own_zones<'s>(st: &'s State, view: &vigie_domain::access::View) -> std::collections::HashSet<&'s str> {
    st.readiness.tasks.values().filter(|t| view.own_task(&t.value)).map(|t| t.value.zone_id.as_str()).collect()
}

/// A task as the API shows it: the record, where it stands, its projected dates, what blocks it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub id: String,
    pub site_id: String,
    pub zone_id: String,
    pub name: String,
    pub trade: &'static str,
    pub owner: String,
    pub duration_min: u32,
    pub status: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub evidence: String,
    /// Who last moved it, and when (the journal has every move).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_at: Option<DateTime<Utc>>,
    pub start: DateTime<Utc>,
    pub finish: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
    pub late: bool,
    /// The root cause when a blocked task (this one or one before it) holds it up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// The overdue delivery this task waits for in time (itself, or one before it on the chain of predecessors
    /// that set its start): why it is late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delayed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The plan that does it, where it stands (the chain from a task to its delivery).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanView>,
    pub after: Vec<String>,
}

/// A delivery plan as a readiness task shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<Utc>>,
    /// On the road: when it is expected (shipped plus the task's duration), and whether that has passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// The origins of its movements.
    pub from: String,
    pub to: String,
}

/// The overdue delivery `id` waits for in time: itself, or the first on the chain of predecessors that set its start.
fn delayed_by<'n>(st: &State, net: &'n Network, sched: &Schedule, id: &'n str, now: Minutes) -> Option<&'n str> {
    let overdue = |x: &str| st.readiness.tasks.get(x).and_then(|t| expected(st, &t.value, now)).is_some_and(|e| e.1);
    std::iter::once(id).chain(sched.drivers(net, id)).find(|x| overdue(x))
}

fn task_view(st: &State, net: &Network, sched: &Schedule, id: &str, now: Minutes) -> Option<TaskView> {
    let t = &st.readiness.tasks.get(id)?.value;
    let (start, finish) = sched.dates(net, id)?;
    let p = st.readiness.progress.get(id);
    let status = match p.map_or(TaskStatus::Todo, |p| p.status) {
        // A delivery on the road is under way, as the scheduler has it.
        TaskStatus::Todo if shipped_at(st, t).is_some() => TaskStatus::InProgress,
        s => s,
    };
    let expected = expected(st, t, now);
    let delayed_by = net.task(id).and_then(|k| delayed_by(st, net, sched, &k.id, now));
    // Late: projected past its due date, or held up by an overdue delivery.
    let late = !status.finished() && (t.due.is_some_and(|d| finish > minutes(d)) || delayed_by.is_some());
    Some(TaskView {
        id: t.id.to_string(),
        site_id: t.site_id.to_string(),
        zone_id: t.zone_id.to_string(),
        name: t.name.clone(),
        trade: t.trade.as_str(),
        owner: t.owner.to_string(),
        duration_min: t.duration_min,
        status: status.as_str(),
        reason: p.map(|p| p.reason.clone()).unwrap_or_default(),
        evidence: p.map(|p| p.evidence.clone()).unwrap_or_default(),
        moved_by: p.map(|p| p.by.clone()),
        moved_at: p.map(|p| p.since),
        start: instant(start),
        finish: instant(finish),
        due: t.due,
        late,
        blocked_by: sched.blocked_by(net, id).map(str::to_string),
        delayed_by: delayed_by.map(str::to_string),
        plan_id: t.plan_id.as_ref().map(|p| p.0.clone()),
        plan: t.plan_id.as_ref().and_then(|p| st.plans.get(p)).map(|r| {
            let mut from: Vec<&str> = r.value.plan.movements.iter().map(|m| m.from.as_str()).collect();
            from.dedup();
            PlanView {
                id: r.value.plan.id.0.clone(),
                status: r.value.status.as_str(),
                shipped_at: r.value.shipped_at,
                expected_at: expected.map(|e| e.0),
                overdue: expected.is_some_and(|e| e.1),
                from: from.join(", "),
                to: r.value.plan.destination.to_string(),
            }
        }),
        after: net.predecessors(id).into_iter().map(|(b, _)| b.to_string()).collect(),
    })
}

/// Ids in the order people count: `pc.2` before `pc.10` (runs of digits compared as numbers).
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let m = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (p, q) = (&x[..n], &y[..m]);
                let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
                let (p, q) = (&p[strip(p)..], &q[strip(q)..]);
                let o = p.len().cmp(&q.len()).then_with(|| p.cmp(q));
                if o.is_ne() {
                    return o;
                }
                (x, y) = (&x[n..], &y[m..]);
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                (x, y) = (&x[1..], &y[1..]);
            }
        }
    }
}

/// Readiness of one key (a site, zone, trade, owner): tasks and duration done over the total.
#[derive(Debug, Clone, Serialize)]
pub struct Rollup {
    pub key: String,
    pub tasks: usize,
    pub tasks_done: usize,
    /// Duration done over duration planned, in percent (one decimal).
    pub percent: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    /// Projected ready after the deadline.
    pub late: bool,
    pub blocked: usize,
    /// Unfinished tasks projected past their due date or held up by an overdue delivery.
    pub late_tasks: usize,
    /// The zone's name, in a site's zones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// In a word, worst first: `late` (ready after the deadline), `at_risk` (in time, but something is blocked or
    /// late), `on_time`, `ready` (every task finished). The colour of the map and the wall in readiness mode.
    pub state: &'static str,
}

impl Rollup {
    fn word(&self) -> &'static str {
        if self.late {
            "late"
        } else if self.tasks == self.tasks_done {
            "ready"
        } else if self.blocked > 0 || self.late_tasks > 0 {
            "at_risk"
        } else {
            "on_time"
        }
    }
}

/// One site's picture: its roll-up, zones, tasks in projected order, the critical path.
#[derive(Debug, Clone, Serialize)]
pub struct SitePicture {
    pub site: Rollup,
    pub zones: Vec<Rollup>,
    pub tasks: Vec<TaskView>,
    pub critical_path: Vec<String>,
}

/// A root cause and what it holds up.
#[derive(Debug, Clone, Serialize)]
pub struct Blocker {
    pub task: TaskView,
    pub blocks: Vec<String>,
}

/// The picture at `now`, narrowed to what the caller sees, computed once for several answers.
pub struct Picture<'s> {
    st: &'s State,
    net: Network,
    sched: Schedule,
    now: Minutes,
    /// Whether a delivery is overdue (else nothing is delayed, and no chain needs walking).
    any_overdue: bool,
    seen: Box<dyn Fn(&str) -> bool + 's>,
}

impl<'s> Picture<'s> {
    pub fn new(
        st: &'s State,
        caller: &Caller,
        now: DateTime<Utc>,
        cache: &NetworkCache,
    ) -> Result<Picture<'s>, AppError> {
        // The wall's readers see the picture too (its readiness mode); which answers they get, the routes say.
        if !caller.principal.may(Permission::WallRead) {
            caller.need(Permission::MonitoringRead)?;
        }
        let net = cache.network(st)?;
        let now = minutes(now);
        let sched = net.schedule(now);
        let view = caller.principal.view(st);
        let seen: Box<dyn Fn(&str) -> bool + 's> = if view.is_all() {
            Box::new(|_| true)
        } else {
            let visible = visible_tasks(st, &net, &view);
            Box::new(move |id: &str| visible.contains(id))
        };
        let any_overdue = st
            .readiness
            .tasks
            .values()
            .any(|t| t.value.plan_id.is_some() && expected(st, &t.value, now).is_some_and(|e| e.1));
        Ok(Picture { st, net, sched, now, any_overdue, seen })
    }

    fn rollups(&self, key: impl Fn(&Task) -> String, deadline: impl Fn(&str) -> Option<DateTime<Utc>>) -> Vec<Rollup> {
        /// What one key adds up to.
        #[derive(Default)]
        struct Tally {
            tasks: usize,
            tasks_done: usize,
            done: Minutes,
            total: Minutes,
            ready: Option<Minutes>,
            blocked: usize,
            late_tasks: usize,
        }
        let mut by: BTreeMap<String, Tally> = BTreeMap::new();
        for (i, t) in self.net.tasks().iter().enumerate() {
            if !(self.seen)(&t.id) {
                continue;
            }
            let e = by.entry(key(t)).or_default();
            let finished = t.state.finished().is_some();
            e.tasks += 1;
            e.total += t.duration;
            if finished {
                e.tasks_done += 1;
                e.done += t.duration;
            } else if t.due.is_some_and(|d| self.sched.finish[i] > d)
                || (self.any_overdue && delayed_by(self.st, &self.net, &self.sched, &t.id, self.now).is_some())
            {
                e.late_tasks += 1;
            }
            e.ready = Some(e.ready.map_or(self.sched.finish[i], |r| r.max(self.sched.finish[i])));
            if self.sched.blocked_by(&self.net, &t.id).is_some() {
                e.blocked += 1;
            }
        }
        by.into_iter()
            .map(|(key, e)| {
                let deadline = deadline(&key);
                let ready = e.ready.map(instant);
                let mut r = Rollup {
                    percent: if e.total == 0 {
                        if e.tasks == e.tasks_done {
                            100.0
                        } else {
                            0.0
                        }
                    } else {
                        (e.done as f64 * 1000.0 / e.total as f64).round() / 10.0
                    },
                    late: matches!((ready, deadline), (Some(r), Some(d)) if r > d),
                    key,
                    tasks: e.tasks,
                    tasks_done: e.tasks_done,
                    ready,
                    deadline,
                    blocked: e.blocked,
                    late_tasks: e.late_tasks,
                    name: None,
                    state: "",
                };
                r.state = r.word();
                r
            })
            .collect()
    }

    /// The deadline of a site: the earliest of its zones'.
    fn site_deadline(&self, site: &str) -> Option<DateTime<Utc>> {
        self.st
            .readiness
            .zones
            .values()
            .filter(|z| z.value.site_id.as_str() == site)
            .filter_map(|z| z.value.deadline)
            .min()
    }

    /// Readiness per site (and per zone, trade or owner with `by`).
    pub fn summary(&self, by: &str) -> Result<Vec<Rollup>, AppError> {
        let zones = &self.st.readiness.zones;
        Ok(match by {
            "site" => self.rollups(|t| t.site.clone(), |s| self.site_deadline(s)),
            "zone" => self.rollups(|t| t.zone.clone(), |z| zones.get(z).and_then(|z| z.value.deadline)),
            "trade" => self.rollups(|t| t.trade.clone(), |_| None),
            "owner" => self.rollups(|t| t.owner.clone(), |_| None),
            other => {
                return Err(AppError::invalid(
                    format!("readiness is rolled up by site, zone, trade or owner, not {other:?}"),
                    vec![crate::problem("by", "expected site, zone, trade or owner")],
                ))
            }
        })
    }

    /// One site: roll-ups, tasks in projected order, the critical path.
    pub fn site(&self, site: &str) -> Result<SitePicture, AppError> {
        let mut tasks: Vec<TaskView> = self
            .net
            .tasks()
            .iter()
            .filter(|t| t.site == site && (self.seen)(&t.id))
            .filter_map(|t| task_view(self.st, &self.net, &self.sched, &t.id, self.now))
            .collect();
        if tasks.is_empty() && !self.st.sites.contains_key(site) {
            return Err(AppError::not_found("site", site));
        }
        tasks.sort_by(|a, b| (a.start, a.finish).cmp(&(b.start, b.finish)).then_with(|| natural(&a.id, &b.id)));
        let zones = &self.st.readiness.zones;
        let site_rollup =
            self.rollups(|t| t.site.clone(), |s| self.site_deadline(s)).into_iter().find(|r| r.key == site).unwrap_or(
                Rollup {
                    key: site.to_string(),
                    tasks: 0,
                    tasks_done: 0,
                    percent: 100.0,
                    ready: None,
                    deadline: self.site_deadline(site),
                    late: false,
                    blocked: 0,
                    late_tasks: 0,
                    name: None,
                    state: "ready",
                },
            );
        let zone_rollups = self
            .rollups(|t| t.zone.clone(), |z| zones.get(z).and_then(|z| z.value.deadline))
            .into_iter()
            .filter(|r| tasks.iter().any(|t| t.zone_id == r.key))
            .map(|mut r| {
                r.name = zones.get(r.key.as_str()).map(|z| z.value.name.clone());
                r
            })
            .collect();
        let critical_path = self
            .sched
            .critical_path(&self.net, site)
            .into_iter()
            .filter(|id| (self.seen)(id))
            .map(str::to_string)
            .collect();
        Ok(SitePicture { site: site_rollup, zones: zone_rollups, tasks, critical_path })
    }

    /// Root causes first (the blocked tasks nothing blocked holds up), each with what it holds up.
    pub fn blockers(&self) -> Vec<Blocker> {
        let mut out: Vec<Blocker> = self
            .sched
            .blockers(&self.net)
            .into_iter()
            .filter(|(root, _)| (self.seen)(root))
            .filter_map(|(root, blocks)| {
                let task = task_view(self.st, &self.net, &self.sched, root, self.now)?;
                let blocks = blocks.into_iter().filter(|b| (self.seen)(b)).map(str::to_string).collect();
                Some(Blocker { task, blocks })
            })
            .collect();
        out.sort_by(|a, b| b.blocks.len().cmp(&a.blocks.len()).then_with(|| a.task.id.cmp(&b.task.id)));
        out
    }

    /// Deliveries on the road past their expected arrival, each with the unfinished tasks it delays (those that wait
    /// for it in time), most first: the other root cause, beside blocked tasks.
    pub fn late_deliveries(&self) -> Vec<Blocker> {
        let mut delays: BTreeMap<&str, Vec<String>> = self
            .st
            .readiness
            .tasks
            .values()
            .filter(|t| (self.seen)(t.value.id.as_str()))
            .filter(|t| expected(self.st, &t.value, self.now).is_some_and(|e| e.1))
            .map(|t| (t.value.id.as_str(), Vec::new()))
            .collect();
        if delays.is_empty() {
            return Vec::new();
        }
        for t in self.net.tasks() {
            if t.state.finished().is_some() || !(self.seen)(&t.id) {
                continue;
            }
            if let Some(by) = self.sched.drivers(&self.net, &t.id).into_iter().find(|d| delays.contains_key(d)) {
                if let Some(v) = delays.get_mut(by) {
                    v.push(t.id.clone());
                }
            }
        }
        let mut out: Vec<Blocker> = delays
            .into_iter()
            .filter_map(|(id, blocks)| {
                Some(Blocker { task: task_view(self.st, &self.net, &self.sched, id, self.now)?, blocks })
            })
            .collect();
        out.sort_by(|a, b| b.blocks.len().cmp(&a.blocks.len()).then_with(|| a.task.id.cmp(&b.task.id)));
        out
    }

    /// The tasks of `owner` (or every task the caller sees) that are unfinished and may start by `until`: "my tasks
    /// today".
    pub fn tasks_until(&self, owner: Option<&str>, until: DateTime<Utc>) -> Vec<TaskView> {
        let until = minutes(until);
        let mut out: Vec<TaskView> = self
            .net
            .tasks()
            .iter()
            .enumerate()
            .filter(|(i, t)| {
                (self.seen)(&t.id)
                    && owner.is_none_or(|o| t.owner == o)
                    && t.state.finished().is_none()
                    && self.sched.start[*i] <= until
            })
            .filter_map(|(_, t)| task_view(self.st, &self.net, &self.sched, &t.id, self.now))
            .collect();
        out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| natural(&a.id, &b.id)));
        out
    }
}

/// What a caller asks of a task.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ProgressRequest {
    pub status: TaskStatus,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub evidence: String,
    /// Start or finish although predecessors are unfinished (journalled with their names).
    #[serde(default, rename = "override")]
    pub overriding: bool,
}

fn scheduler_state(status: TaskStatus, now: Minutes) -> TaskState {
    match status {
        TaskStatus::Todo => TaskState::Todo,
        TaskStatus::Blocked => TaskState::Blocked,
        TaskStatus::InProgress => TaskState::InProgress { started: now },
        TaskStatus::Done => TaskState::Done { finished: now },
        TaskStatus::Verified => TaskState::Verified { finished: now },
    }
}

/// Moves a task, decided inside the journal command: the caller must reach it (a partner: its own), starting or
/// finishing waits for its predecessors unless overridden (the override names them in the journal), a blocked task
/// says why, a verified one what proves it.
pub fn progress(journal: &Journal, caller: &Caller, id: &str, req: ProgressRequest) -> Result<(), AppError> {
    progress_in_order(journal, caller, vec![(id.to_string(), req)])
}

fn check_request(req: &ProgressRequest) -> Result<(), AppError> {
    crate::limits::free_text("reason", &req.reason)?;
    crate::limits::free_text("evidence", &req.evidence)?;
    if req.status == TaskStatus::Blocked && req.reason.trim().is_empty() {
        return Err(AppError::invalid(
            "a blocked task says why",
            vec![crate::problem("reason", "a blocked task needs a reason")],
        ));
    }
    if req.status == TaskStatus::Verified && req.evidence.trim().is_empty() {
        return Err(AppError::invalid(
            "a verified task says what proves it",
            vec![crate::problem("evidence", "a verified task needs its evidence (a signed test report, a photo…)")],
        ));
    }
    Ok(())
}

/// Most moves in one command.
pub const MAX_MOVES: usize = 20_000;

/// Moves several tasks in one journal command, in order: each is checked as [`progress`] does, against the tasks as
/// the moves before it left them (a day's work recorded at once: the cabling done, then the PCs it released). All
/// or nothing.
pub fn progress_in_order(
    journal: &Journal,
    caller: &Caller,
    moves: Vec<(String, ProgressRequest)>,
) -> Result<(), AppError> {
    caller.need(Permission::ReadinessWrite)?;
    crate::limits::list("moves", &moves, MAX_MOVES)?;
    for (_, req) in &moves {
        check_request(req)?;
    }
    let c = caller.clone();
    journal.execute(move |st| {
        let view = c.principal.view(st);
        let mut net = network(st)?;
        let now = minutes(Utc::now());
        let mut events = Vec::with_capacity(moves.len());
        for (id, req) in moves {
            let task = st.readiness.tasks.get(id.as_str()).ok_or_else(|| AppError::not_found("task", &id))?;
            if !view.own_task(&task.value) {
                let reason = Reason::new(
                    "forbidden.task",
                    [("task", id.clone()), ("owner", task.value.owner.to_string())],
                    format!("task {id} is {}'s: only its owner (or the operations centre) moves it", task.value.owner),
                );
                return Err(AppError::Forbidden(reason));
            }
            let to = scheduler_state(req.status, now);
            let overridden = net.check_transition(&id, to, req.overriding).map_err(|e| match e {
                vigie_readiness::TransitionError::Waiting { task, waiting_for } => AppError::Conflict(Reason::new(
                    "conflict.predecessors",
                    [("task", task.clone()), ("waiting_for", waiting_for.join(", "))],
                    format!(
                        "task {task} waits for {}: finish them first, or override (the override is journalled)",
                        waiting_for.join(", ")
                    ),
                )),
                vigie_readiness::TransitionError::NotAllowed { task, why } => AppError::Conflict(Reason::new(
                    "conflict.transition",
                    [("task", task.clone()), ("why", why.to_string())],
                    format!("task {task}: {why}"),
                )),
                vigie_readiness::TransitionError::UnknownTask(t) => AppError::not_found("task", &t),
            })?;
            net.set_state(&id, to);
            let overridden = overridden.iter().filter_map(|t| TaskId::parse(t).ok()).collect();
            events.push(c.event(Event::TaskProgressed(TaskProgress {
                task_id: task.value.id.clone(),
                status: req.status,
                reason: req.reason,
                evidence: req.evidence,
                overridden,
            })));
        }
        Ok((events, ()))
    })?;
    Ok(())
}

/// The tasks a received plan finishes: those it satisfies, not finished yet (for the plan's receive command).
pub fn finished_by_plan(st: &State, plan: &vigie_domain::PlanId) -> Vec<Event> {
    st.readiness
        .tasks
        .values()
        .filter(|t| t.value.plan_id.as_ref() == Some(plan))
        .filter(|t| !st.readiness.progress.get(&t.value.id).is_some_and(|p| p.status.finished()))
        .map(|t| {
            Event::TaskProgressed(TaskProgress {
                task_id: t.value.id.clone(),
                status: TaskStatus::Done,
                reason: String::new(),
                evidence: format!("plan {} received", plan.0),
                overridden: Vec::new(),
            })
        })
        .collect()
}

/// Image compliance: every imaged computer the caller sees whose image is not the one its zone requires.
#[derive(Debug, Clone, Serialize)]
pub struct Noncompliant {
    pub computer: String,
    pub site_id: String,
    pub zone_id: String,
    pub runs: String,
    pub required: String,
}

pub fn noncompliant(st: &State, caller: &Caller) -> Result<Vec<Noncompliant>, AppError> {
    caller.need(Permission::MonitoringRead)?;
    let view = caller.principal.view(st);
    let zones = (!view.is_all()).then(|| own_zones(st, &view));
    Ok(st
        .readiness
        .computers
        .values()
        .map(|c| &c.value)
        .filter_map(|c| {
            let zone_id = c.zone_id.as_ref()?;
            let zone = st.readiness.zones.get(zone_id).map(|z| &z.value);
            let seen = zones.as_ref().is_none_or(|z| z.contains(zone_id.as_str()));
            (seen && vigie_domain::readiness::image_compliant(c, zone) == Some(false)).then(|| Noncompliant {
                computer: c.id.to_string(),
                site_id: c.site_id.to_string(),
                zone_id: zone_id.to_string(),
                runs: c.image_label(),
                required: zone.map(|z| z.image.clone()).unwrap_or_default(),
            })
        })
        .collect())
}

/// A computer as readiness shows it: its recorded deployment state, and what its monitoring checks say. A computer
/// recorded "in service" is in service only while none of its checks is failing (their journalled hard states); a
/// passing check is evidence that it was tested.
#[derive(Debug, Clone, Serialize)]
pub struct ComputerView {
    pub id: String,
    pub model: String,
    pub site_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<String>,
    pub role: &'static str,
    pub image: String,
    /// As recorded (imported).
    pub state: &'static str,
    /// As it stands: `failing` when recorded in service while a check fails.
    pub effective: &'static str,
    pub failing_checks: Vec<String>,
    /// A check of it passes: test evidence.
    pub tested_by_check: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliant: Option<bool>,
}

/// The computers of a site (or all) the caller sees, with counts by effective state. `passing` says what a check
/// shows now (`Some(true)`: OK; `Some(false)`: failing; `None`: unknown to the live estate, or in maintenance).
pub fn computers(
    st: &State,
    caller: &Caller,
    site: Option<&str>,
    passing: impl Fn(&str) -> Option<bool>,
) -> Result<(BTreeMap<&'static str, usize>, Vec<ComputerView>), AppError> {
    caller.need(Permission::MonitoringRead)?;
    let view = caller.principal.view(st);
    let zones = (!view.is_all()).then(|| own_zones(st, &view));
    // Checks by asset, once.
    let mut by_asset: std::collections::HashMap<&str, Vec<&vigie_domain::CheckId>> = std::collections::HashMap::new();
    for c in st.toc.checks.values() {
        if let Some(a) = &c.value.asset_id {
            by_asset.entry(a.as_str()).or_default().push(&c.value.id);
        }
    }
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut items = Vec::new();
    for c in st.readiness.computers.values().map(|c| &c.value) {
        if site.is_some_and(|s| c.site_id.as_str() != s) {
            continue;
        }
        if zones.as_ref().is_some_and(|zs| !c.zone_id.as_ref().is_some_and(|z| zs.contains(z.as_str()))) {
            continue;
        }
        let checks = c.asset_id.as_ref().and_then(|a| by_asset.get(a.as_str())).map(Vec::as_slice).unwrap_or(&[]);
        let failing: Vec<String> =
            checks.iter().filter(|id| passing(id.as_str()) == Some(false)).map(|id| id.to_string()).collect();
        let tested_by_check = checks.iter().any(|id| passing(id.as_str()) == Some(true));
        // In service only while no check fails; imaged with its checks passing, it is tested (the checks are the
        // evidence).
        let effective = match c.state {
            DeploymentState::InService if !failing.is_empty() => "failing",
            DeploymentState::Imaged if tested_by_check && failing.is_empty() => DeploymentState::Tested.as_str(),
            s => s.as_str(),
        };
        *counts.entry(effective).or_default() += 1;
        let zone = c.zone_id.as_ref().and_then(|z| st.readiness.zones.get(z)).map(|z| &z.value);
        items.push(ComputerView {
            id: c.id.to_string(),
            model: c.model.clone(),
            site_id: c.site_id.to_string(),
            zone_id: c.zone_id.as_ref().map(|z| z.to_string()),
            role: c.role.as_str(),
            image: c.image_label(),
            state: c.state.as_str(),
            effective,
            failing_checks: failing,
            tested_by_check,
            compliant: vigie_domain::readiness::image_compliant(c, zone),
        });
    }
    Ok((counts, items))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_sort_as_people_count() {
        let mut ids = vec!["S/Z/pc.10", "S/Z/pc.2", "S/Z/pc.1", "S/Z/image", "S/Z/pc.02a", "S/Z/pc.02"];
        ids.sort_by(|a, b| super::natural(a, b));
        assert_eq!(ids, ["S/Z/image", "S/Z/pc.1", "S/Z/pc.2", "S/Z/pc.02", "S/Z/pc.02a", "S/Z/pc.10"]);
    }
}
