//! Readiness: the tasks that fit out a venue before the Games, across trades and owners ("if there is no table, I
//! cannot install computers"), and what follows from them: each task's projected start and finish, each site's
//! projected ready date and critical path, what blocks what (the root cause first, as UNREACHABLE names its parent),
//! the late tasks, and readiness per site, zone, trade or owner.
//!
//! Pure: tasks, dependencies and the present time in, a [`Schedule`] out; no storage, no clock. Times are minutes
//! from an origin the caller chooses.
//!
//! The rules, in order of the network (a topological order, computed once; a cycle is refused naming its tasks):
//! - a task done (or verified) finished when it did;
//! - a task in progress finishes its duration after it started, and not before now;
//! - any other task starts at the latest of now and each predecessor's finish plus the dependency's lag, and
//!   finishes its duration later; the predecessor that sets its start (an unfinished one on a tie with now: an
//!   overdue task) is its driver, which the critical path and the delays follow. A blocked task is projected as if unblocked now: its dates are the earliest
//!   possible, and it and everything after it are flagged as blocked by it.

use std::collections::{BTreeMap, HashMap};

/// Minutes from the caller's origin.
pub type Minutes = i64;

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// À faire.
    Todo,
    /// En cours, since `started`.
    InProgress { started: Minutes },
    /// Bloquée (the reason is the caller's).
    Blocked,
    /// Terminée at `finished`.
    Done { finished: Minutes },
    /// Vérifiée: done, and its evidence checked.
    Verified { finished: Minutes },
}

impl TaskState {
    /// When the task finished, if it did.
    pub fn finished(self) -> Option<Minutes> {
        match self {
            TaskState::Done { finished } | TaskState::Verified { finished } => Some(finished),
            _ => None,
        }
    }
}

/// One task of a site's fitting-out.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: String,
    pub site: String,
    pub zone: String,
    pub trade: String,
    pub owner: String,
    /// Planned duration (≥ 0).
    pub duration: Minutes,
    /// When it must be finished, if it must.
    pub due: Option<Minutes>,
    pub state: TaskState,
}

/// `after` cannot start before `before` has finished, plus `lag` (finish-to-start).
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub before: String,
    pub after: String,
    pub lag: Minutes,
}

/// Why a network of tasks is refused. `at` is the index of the task or dependency in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("task {id} is given twice (task {at})")]
    DuplicateTask { id: String, at: usize },
    #[error("task {id}: a duration cannot be negative")]
    NegativeDuration { id: String, at: usize },
    #[error("dependency {at}: unknown task {id}")]
    UnknownTask { id: String, at: usize },
    #[error("dependency {at}: task {id} cannot depend on itself")]
    SelfDependency { id: String, at: usize },
    /// The tasks around one cycle, in dependency order (the first follows the last).
    #[error("the dependencies make a cycle: {}", cycle.join(" → "))]
    Cycle { cycle: Vec<String> },
}

/// Tasks and their dependencies, checked and ordered once; states may change after ([`Network::set_state`]).
#[derive(Debug, Clone)]
pub struct Network {
    tasks: Vec<Task>,
    index: HashMap<String, u32>,
    /// Per task: (predecessor, lag).
    preds: Vec<Vec<(u32, Minutes)>>,
    succs: Vec<Vec<u32>>,
    /// Every task, each after all its predecessors.
    order: Vec<u32>,
}

impl Network {
    /// Checks the tasks and dependencies (ids unique, durations ≥ 0, dependencies between known tasks, no cycle)
    /// and orders them.
    pub fn new(tasks: Vec<Task>, dependencies: &[Dependency]) -> Result<Network, NetworkError> {
        let mut index = HashMap::with_capacity(tasks.len());
        for (at, t) in tasks.iter().enumerate() {
            if t.duration < 0 {
                return Err(NetworkError::NegativeDuration { id: t.id.clone(), at });
            }
            if index.insert(t.id.clone(), at as u32).is_some() {
                return Err(NetworkError::DuplicateTask { id: t.id.clone(), at });
            }
        }
        let mut preds = vec![Vec::new(); tasks.len()];
        let mut succs = vec![Vec::new(); tasks.len()];
        for (at, d) in dependencies.iter().enumerate() {
            let find = |id: &str| index.get(id).copied().ok_or(NetworkError::UnknownTask { id: id.to_string(), at });
            let (b, a) = (find(&d.before)?, find(&d.after)?);
            if a == b {
                return Err(NetworkError::SelfDependency { id: d.after.clone(), at });
            }
            preds[a as usize].push((b, d.lag));
            succs[b as usize].push(a);
        }
        let order = topological(&preds, &succs).map_err(|cycle| NetworkError::Cycle {
            cycle: cycle.into_iter().map(|i| tasks[i as usize].id.clone()).collect(),
        })?;
        Ok(Network { tasks, index, preds, succs, order })
    }

    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.index.get(id).map(|&i| &self.tasks[i as usize])
    }

    /// The predecessors of a task, with their lags.
    pub fn predecessors(&self, id: &str) -> Vec<(&str, Minutes)> {
        self.index.get(id).map_or_else(Vec::new, |&i| {
            self.preds[i as usize].iter().map(|&(p, lag)| (self.tasks[p as usize].id.as_str(), lag)).collect()
        })
    }

    /// The tasks that wait for this one.
    pub fn successors(&self, id: &str) -> Vec<&str> {
        self.index.get(id).map_or_else(Vec::new, |&i| {
            self.succs[i as usize].iter().map(|&s| self.tasks[s as usize].id.as_str()).collect()
        })
    }

    /// Changes a task's state; false for an unknown task.
    pub fn set_state(&mut self, id: &str, state: TaskState) -> bool {
        match self.index.get(id) {
            Some(&i) => {
                self.tasks[i as usize].state = state;
                true
            }
            None => false,
        }
    }

    /// The predecessors of `id` that are not finished: what a start or a finish of `id` must wait for.
    pub fn unfinished_predecessors(&self, id: &str) -> Vec<&str> {
        self.index.get(id).map_or_else(Vec::new, |&i| {
            self.preds[i as usize]
                .iter()
                .filter(|&&(p, _)| self.tasks[p as usize].state.finished().is_none())
                .map(|&(p, _)| self.tasks[p as usize].id.as_str())
                .collect()
        })
    }

    /// The forward pass at `now` (see the module's rules).
    pub fn schedule(&self, now: Minutes) -> Schedule {
        let n = self.tasks.len();
        let mut start = vec![0; n];
        let mut finish = vec![0; n];
        let mut driver = vec![None; n];
        let mut blocked_by = vec![None; n];
        for &i in &self.order {
            let t = &self.tasks[i as usize];
            let i = i as usize;
            match t.state {
                TaskState::Done { finished } | TaskState::Verified { finished } => {
                    start[i] = finished - t.duration;
                    finish[i] = finished;
                }
                TaskState::InProgress { started } => {
                    start[i] = started;
                    finish[i] = (started + t.duration).max(now);
                }
                TaskState::Todo | TaskState::Blocked => {
                    let mut s = now;
                    for &(p, lag) in &self.preds[i] {
                        let at = finish[p as usize] + lag;
                        // An unfinished predecessor due exactly now (an overdue one) still holds the start.
                        let holds = at == s && driver[i].is_none() && self.tasks[p as usize].state.finished().is_none();
                        if at > s || holds {
                            s = at;
                            driver[i] = Some(p);
                        }
                    }
                    start[i] = s;
                    finish[i] = s + t.duration;
                }
            }
            if t.state.finished().is_none() {
                blocked_by[i] = if t.state == TaskState::Blocked {
                    Some(i as u32)
                } else {
                    self.preds[i].iter().find_map(|&(p, _)| blocked_by[p as usize])
                };
            }
        }
        Schedule { start, finish, driver, blocked_by }
    }
}

/// Kahn's order; on a cycle, the tasks around one cycle.
fn topological(preds: &[Vec<(u32, Minutes)>], succs: &[Vec<u32>]) -> Result<Vec<u32>, Vec<u32>> {
    let n = preds.len();
    let mut waiting: Vec<usize> = preds.iter().map(Vec::len).collect();
    let mut order: Vec<u32> = (0..n as u32).filter(|&i| waiting[i as usize] == 0).collect();
    let mut next = 0;
    while next < order.len() {
        let i = order[next] as usize;
        next += 1;
        for &s in &succs[i] {
            waiting[s as usize] -= 1;
            if waiting[s as usize] == 0 {
                order.push(s);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Every task left waits for another left: walk predecessors among them until one comes back.
    let left = |i: usize| waiting[i] > 0;
    let mut at = (0..n).find(|&i| left(i)).expect("a task is left");
    let mut seen = vec![usize::MAX; n];
    let mut path = Vec::new();
    while seen[at] == usize::MAX {
        seen[at] = path.len();
        path.push(at as u32);
        at = preds[at].iter().map(|&(p, _)| p as usize).find(|&p| left(p)).expect("a waiting task waits for one left");
    }
    let mut cycle = path[seen[at]..].to_vec();
    // Walked backwards (from a task to what it waits for): said forwards.
    cycle.reverse();
    Err(cycle)
}

/// What the forward pass projects, by task (in the network's task order).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub start: Vec<Minutes>,
    pub finish: Vec<Minutes>,
    /// The predecessor whose finish set a task's start (none when now or its own state did).
    driver: Vec<Option<u32>>,
    /// The blocked task a task waits for, itself included (the first found, in the order of its predecessors).
    blocked_by: Vec<Option<u32>>,
}

/// A readiness figure: the planned minutes finished over the planned minutes in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    pub done: Minutes,
    pub total: Minutes,
    pub tasks: usize,
    pub tasks_done: usize,
}

impl Readiness {
    /// The share done, weighted by duration (1 when nothing is planned).
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        }
    }
}

impl Schedule {
    fn at(net: &Network, id: &str) -> Option<usize> {
        net.index.get(id).map(|&i| i as usize)
    }

    /// A task's projected (start, finish).
    pub fn dates(&self, net: &Network, id: &str) -> Option<(Minutes, Minutes)> {
        Self::at(net, id).map(|i| (self.start[i], self.finish[i]))
    }

    /// The blocked task `id` waits for (itself if it is blocked), if any: its root cause.
    pub fn blocked_by<'n>(&self, net: &'n Network, id: &str) -> Option<&'n str> {
        Self::at(net, id).and_then(|i| self.blocked_by[i]).map(|b| net.tasks[b as usize].id.as_str())
    }

    /// Blocked tasks, each with the unfinished tasks it holds up (transitively), most first.
    pub fn blockers<'n>(&self, net: &'n Network) -> Vec<(&'n str, Vec<&'n str>)> {
        let mut by: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        for (i, b) in self.blocked_by.iter().enumerate() {
            match b {
                Some(b) if *b as usize == i => {
                    by.entry(*b).or_default();
                }
                Some(b) => by.entry(*b).or_default().push(net.tasks[i].id.as_str()),
                None => {}
            }
        }
        let mut out: Vec<(&str, Vec<&str>)> =
            by.into_iter().map(|(b, v)| (net.tasks[b as usize].id.as_str(), v)).collect();
        out.sort_by(|a, z| z.1.len().cmp(&a.1.len()).then(a.0.cmp(z.0)));
        out
    }

    /// When a site is projected ready: the latest finish of its tasks (none for a site without tasks).
    pub fn site_ready(&self, net: &Network, site: &str) -> Option<Minutes> {
        net.tasks.iter().enumerate().filter(|(_, t)| t.site == site).map(|(i, _)| self.finish[i]).max()
    }

    /// Every site's projected ready date.
    pub fn ready_dates<'n>(&self, net: &'n Network) -> BTreeMap<&'n str, Minutes> {
        let mut out: BTreeMap<&str, Minutes> = BTreeMap::new();
        for (i, t) in net.tasks.iter().enumerate() {
            let e = out.entry(t.site.as_str()).or_insert(Minutes::MIN);
            *e = (*e).max(self.finish[i]);
        }
        out
    }

    /// The tasks whose finish set `id`'s start, nearest first, back to one that now or its own state set (empty
    /// when none did): what `id` waits for in time, as the critical path walks it.
    pub fn drivers<'n>(&self, net: &'n Network, id: &str) -> Vec<&'n str> {
        let mut out = Vec::new();
        let mut at = Self::at(net, id).and_then(|i| self.driver[i]);
        while let Some(i) = at {
            out.push(net.tasks[i as usize].id.as_str());
            at = self.driver[i as usize];
        }
        out
    }

    /// A site's critical path: from the task that finishes it last, back along the predecessors that set each
    /// start (which may belong to another site, another trade, another owner), first task first.
    pub fn critical_path<'n>(&self, net: &'n Network, site: &str) -> Vec<&'n str> {
        let last = net
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.site == site)
            .max_by_key(|&(i, t)| (self.finish[i], std::cmp::Reverse(t.id.as_str())))
            .map(|(i, _)| i);
        let mut path = Vec::new();
        let mut at = last;
        while let Some(i) = at {
            path.push(net.tasks[i].id.as_str());
            at = self.driver[i].map(|p| p as usize);
        }
        path.reverse();
        path
    }

    /// Unfinished tasks projected to finish after their due date: (task, projected finish, due), latest first.
    pub fn late<'n>(&self, net: &'n Network) -> Vec<(&'n str, Minutes, Minutes)> {
        let mut out: Vec<_> = net
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.state.finished().is_none())
            .filter_map(|(i, t)| t.due.filter(|&d| self.finish[i] > d).map(|d| (t.id.as_str(), self.finish[i], d)))
            .collect();
        out.sort_by(|a, z| (z.1 - z.2).cmp(&(a.1 - a.2)).then(a.0.cmp(z.0)));
        out
    }
}

/// Readiness by a key of the task (its site, zone, trade or owner): minutes of planned work done over planned.
pub fn readiness<'n>(net: &'n Network, key: impl Fn(&'n Task) -> &'n str) -> BTreeMap<&'n str, Readiness> {
    let mut out: BTreeMap<&str, Readiness> = BTreeMap::new();
    for t in &net.tasks {
        let r = out.entry(key(t)).or_default();
        r.total += t.duration;
        r.tasks += 1;
        if t.state.finished().is_some() {
            r.done += t.duration;
            r.tasks_done += 1;
        }
    }
    out
}

/// One task of a [`Template`]: `key` names it within its zone (`tables`, `image`), `after` its predecessors in the
/// same zone (by key, with a lag), `count` how many of it the zone holds (computers to install: one task each).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateTask {
    pub key: String,
    pub trade: String,
    pub owner: String,
    pub duration: Minutes,
    pub after: Vec<(String, Minutes)>,
    pub count: u32,
}

/// What a kind of zone needs (a results room: tables, power, network, N computers imaged with a given image, a
/// test), to be instantiated for many zones of many sites at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub kind: String,
    pub tasks: Vec<TemplateTask>,
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template {kind}: task {key} is given twice")]
    DuplicateKey { kind: String, key: String },
    #[error("template {kind}: task {key} comes after {after}, which the template does not have")]
    UnknownKey { kind: String, key: String, after: String },
}

impl Template {
    /// The tasks and dependencies of one zone of a site: ids `SITE/ZONE/key` (`SITE/ZONE/key.n` for the n-th of a
    /// counted task, from 1); each copy of a counted task follows every copy of its predecessors. The template's
    /// own cycles are left to [`Network::new`], which names them.
    pub fn instantiate(
        &self,
        site: &str,
        zone: &str,
        due: Option<Minutes>,
    ) -> Result<(Vec<Task>, Vec<Dependency>), TemplateError> {
        let mut ids: HashMap<&str, Vec<String>> = HashMap::new();
        for t in &self.tasks {
            let copies = if t.count <= 1 {
                vec![format!("{site}/{zone}/{}", t.key)]
            } else {
                (1..=t.count).map(|n| format!("{site}/{zone}/{}.{n}", t.key)).collect()
            };
            if ids.insert(t.key.as_str(), copies).is_some() {
                return Err(TemplateError::DuplicateKey { kind: self.kind.clone(), key: t.key.clone() });
            }
        }
        let mut tasks = Vec::new();
        let mut deps = Vec::new();
        for t in &self.tasks {
            for id in &ids[t.key.as_str()] {
                tasks.push(Task {
                    id: id.clone(),
                    site: site.to_string(),
                    zone: zone.to_string(),
                    trade: t.trade.clone(),
                    owner: t.owner.clone(),
                    duration: t.duration,
                    due,
                    state: TaskState::Todo,
                });
                for (before, lag) in &t.after {
                    let Some(befores) = ids.get(before.as_str()) else {
                        return Err(TemplateError::UnknownKey {
                            kind: self.kind.clone(),
                            key: t.key.clone(),
                            after: before.clone(),
                        });
                    };
                    deps.extend(befores.iter().map(|b| Dependency { before: b.clone(), after: id.clone(), lag: *lag }));
                }
            }
        }
        Ok((tasks, deps))
    }
}

/// Why a task cannot move to the state asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("unknown task {0}")]
    UnknownTask(String),
    /// Starting or finishing a task whose predecessors are not finished, without an override.
    #[error("task {task} waits for {}: finish them first, or override (the override is recorded)", waiting_for.join(", "))]
    Waiting { task: String, waiting_for: Vec<String> },
    #[error("task {task}: {why}")]
    NotAllowed { task: String, why: &'static str },
}

impl Network {
    /// Whether `id` may move to `to` now: starting or finishing waits for every predecessor to be finished, unless
    /// `overriding` (which the caller records, with who and why); a task is verified only once done; a finished
    /// task is reopened to "to do" only. Returns the tasks the override passes over (empty without one).
    pub fn check_transition(&self, id: &str, to: TaskState, overriding: bool) -> Result<Vec<String>, TransitionError> {
        let task = self.task(id).ok_or_else(|| TransitionError::UnknownTask(id.to_string()))?;
        let not_allowed = |why| Err(TransitionError::NotAllowed { task: id.to_string(), why });
        match (task.state, to) {
            (TaskState::Done { .. }, TaskState::Verified { .. }) => return Ok(Vec::new()),
            (_, TaskState::Verified { .. }) => return not_allowed("only a finished task is verified"),
            (TaskState::Done { .. } | TaskState::Verified { .. }, TaskState::Todo) => return Ok(Vec::new()),
            (TaskState::Done { .. } | TaskState::Verified { .. }, _) => {
                return not_allowed("a finished task is reopened to \"à faire\" first")
            }
            (_, TaskState::Todo | TaskState::Blocked) => return Ok(Vec::new()),
            (_, TaskState::InProgress { .. } | TaskState::Done { .. }) => {}
        }
        let waiting: Vec<String> = self.unfinished_predecessors(id).into_iter().map(str::to_string).collect();
        if waiting.is_empty() || overriding {
            Ok(waiting)
        } else {
            Err(TransitionError::Waiting { task: id.to_string(), waiting_for: waiting })
        }
    }
}
