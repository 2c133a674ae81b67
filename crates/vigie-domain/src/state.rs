//! The projection: Vigie's current state, held in memory and rebuilt by applying the journal's events in order.
//!
//! Every record keeps a [`Stamp`] of the event that last set it, so any figure can say how fresh it is and where it
//! came from. Applying an event never fails: events are validated before they are appended.

use crate::event::{Envelope, Event};
use crate::fxhash::FxHashMap;
use crate::geo::LatLon;
use crate::ids::*;
use crate::plan::{Plan, PlanId, PlanStatus};
use crate::quantity::Quantity;
use crate::registry::*;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Dense numbers for ids, so that the questions' hot loops index vectors instead of searching maps.
/// A slot, once given, is never taken back.
#[derive(Debug, Clone)]
pub struct Slots<K> {
    pub(crate) by_id: FxHashMap<K, u32>,
    pub(crate) ids: Vec<K>,
}

impl<K: Eq + std::hash::Hash> PartialEq for Slots<K> {
    fn eq(&self, other: &Self) -> bool {
        self.ids == other.ids && self.by_id == other.by_id
    }
}

impl<K> Default for Slots<K> {
    fn default() -> Self {
        Slots { by_id: FxHashMap::default(), ids: Vec::new() }
    }
}

impl<K: Clone + Eq + std::hash::Hash + std::borrow::Borrow<str>> Slots<K> {
    pub fn get(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }
    fn slot(&mut self, id: &K) -> u32 {
        if let Some(&s) = self.by_id.get(id.borrow()) {
            return s;
        }
        let s = self.ids.len() as u32;
        self.ids.push(id.clone());
        self.by_id.insert(id.clone(), s);
        s
    }
    pub fn id(&self, slot: u32) -> &K {
        &self.ids[slot as usize]
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// What the questions need of a stock line, copied into the per-item index (32 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexedLine {
    /// Site slot.
    pub site: u32,
    pub serviceable_condition: bool,
    /// `false` for a movement since the count (a plan shipped from or received at the site).
    pub counted: bool,
    pub quantity: Quantity,
    pub expires_on: Option<NaiveDate>,
    /// Seconds since the Unix epoch.
    pub(crate) counted_at_s: i64,
}

impl IndexedLine {
    /// Serviceable on `on`: in serviceable condition and not expired (a lot expiring on D is still good on D).
    pub fn serviceable_on(&self, on: NaiveDate) -> bool {
        self.serviceable_condition && self.expires_on.is_none_or(|e| e >= on)
    }
    pub fn counted_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.counted_at_s, 0).unwrap_or_default()
    }
}

/// An engaged force as the questions see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngagedForce {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub headcount: u32,
    /// Site slot.
    pub site: u32,
    /// Organisation slot.
    pub org: u32,
}

impl EngagedForce {
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }
}

/// A plan and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRecord {
    #[serde(flatten)]
    pub plan: Plan,
    pub status: PlanStatus,
    pub committed_at: DateTime<Utc>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

fn add(map: &mut FxHashMap<ItemId, FxHashMap<u32, Quantity>>, item: &ItemId, slot: u32, q: Quantity) {
    let by_site = match map.get_mut(item) {
        Some(m) => m,
        None => map.entry(item.clone()).or_default(),
    };
    let v = by_site.entry(slot).or_default();
    *v += q;
    if *v == Quantity::ZERO {
        by_site.remove(&slot);
    }
}

/// Per site slot: what the questions need of a site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteFacts {
    pub position: LatLon,
    /// Organisation slot of the supporting organisation.
    pub org: u32,
    pub kind: SiteKind,
    pub name: Arc<str>,
}

/// Which event last set a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamp {
    pub seq: u64,
    pub time: DateTime<Utc>,
    pub source: Arc<str>,
}

/// A record with its stamp.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamped<T> {
    #[serde(flatten)]
    pub value: T,
    #[serde(rename = "_stamp")]
    pub stamp: Stamp,
}

/// The stock counted at one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteStock {
    pub lines: Vec<StockLine>,
    pub stamp: Stamp,
}

/// Counts of the state's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub organizations: usize,
    pub sites: usize,
    pub items: usize,
    pub stock_lines: usize,
    pub forces: usize,
    pub allowances: usize,
    pub vehicles: usize,
    pub partners: usize,
    pub applications: usize,
    pub assets: usize,
    pub checks: usize,
    pub incidents: usize,
    pub log_entries: usize,
}

/// The TOC's registry, as imported, and the last journalled hard state of each check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TocRegistry {
    pub partners: BTreeMap<PartnerId, Stamped<crate::toc::Partner>>,
    pub applications: BTreeMap<ApplicationId, Stamped<crate::toc::Application>>,
    pub assets: BTreeMap<AssetId, Stamped<crate::toc::Asset>>,
    pub checks: BTreeMap<CheckId, Stamped<crate::toc::Check>>,
    /// By (child, group).
    pub dependencies: BTreeMap<(String, String), crate::toc::Dependency>,
    pub windows: BTreeMap<WindowId, Stamped<crate::toc::MaintenanceWindow>>,
    pub hard: FxHashMap<CheckId, HardState>,
    /// Who acknowledged a check's current problem, when, and what they wrote (until its state changes).
    pub acks: FxHashMap<CheckId, Acknowledgement>,
    /// The latest journalled state changes, oldest first (at most [`TocRegistry::HISTORY`]), with their sequence.
    pub history: std::collections::VecDeque<(u64, crate::toc::CheckStateChange)>,
    /// Bumped by every change of the registry (not of states): the live monitoring rebuilds on it.
    pub version: u64,
}

/// Venue readiness as the journal holds it (issue 16).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadinessRegistry {
    pub zones: BTreeMap<crate::ids::ZoneId, Stamped<crate::readiness::Zone>>,
    pub tasks: BTreeMap<crate::ids::TaskId, Stamped<crate::readiness::Task>>,
    /// Finish-to-start links by (before, after), their lag in minutes.
    pub links: BTreeMap<(crate::ids::TaskId, crate::ids::TaskId), u32>,
    /// Each task's progress; a task without one is to do.
    pub progress: BTreeMap<crate::ids::TaskId, crate::readiness::Progress>,
    pub computers: BTreeMap<crate::ids::ComputerId, Stamped<crate::readiness::Computer>>,
    /// Bumped by every change: the schedule is recomputed on it.
    pub version: u64,
    /// Bumped by changes of tasks and links only (not of progress): the network's shape is rebuilt on it.
    pub structure: u64,
}

/// People, teams and rosters as the journal holds them (issue 17).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnCallRegistry {
    pub people: BTreeMap<crate::ids::PersonId, Stamped<crate::oncall::Person>>,
    pub teams: BTreeMap<crate::ids::TeamId, Stamped<crate::oncall::Team>>,
    /// Each team's rotation per level.
    pub rotations: BTreeMap<(crate::ids::TeamId, u8), Stamped<crate::oncall::Rotation>>,
    /// Overrides by (team, level, start); a removed one is dropped.
    pub overrides: BTreeMap<(crate::ids::TeamId, u8, DateTime<Utc>), crate::oncall::Override>,
    /// Every notification by id, where it stands.
    pub outbox: BTreeMap<String, crate::notify::OutboxEntry>,
    /// Incidents acknowledged: by `sys_id`, when and by whom (actor).
    pub acknowledged: BTreeMap<String, (DateTime<Utc>, String)>,
}

impl TocRegistry {
    /// State changes kept in memory for the history endpoints (older ones stay in the journal).
    pub const HISTORY: usize = 100_000;
}

/// An acknowledgement as the screens show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Acknowledgement {
    pub at: DateTime<Utc>,
    pub by: String,
    pub comment: String,
}

/// A check's state as the journal knows it (what a restart starts from).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HardState {
    pub status: crate::health::Status,
    pub since: DateTime<Utc>,
    pub flapping: bool,
    pub acknowledged: bool,
}

/// Equality compares every field, the private indexes included (tests of replay and snapshots use it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub organizations: BTreeMap<OrgId, Stamped<Organization>>,
    pub sites: BTreeMap<SiteId, Stamped<Site>>,
    pub items: BTreeMap<ItemId, Stamped<Item>>,
    /// The stock counted at each site, by site slot.
    pub(crate) stock: Vec<Option<SiteStock>>,
    pub forces: BTreeMap<ForceId, Stamped<Force>>,
    pub allowances: BTreeMap<(ItemId, AllowanceBasis), Stamped<Allowance>>,
    pub vehicles: BTreeMap<VehicleId, Stamped<Vehicle>>,
    /// Index for the questions asked per item: every line of the item, with its site slot.
    pub stock_by_item: FxHashMap<ItemId, Vec<IndexedLine>>,
    pub site_slots: Slots<SiteId>,
    pub org_slots: Slots<OrgId>,
    /// Per site slot (`None` for a slot whose site record has not arrived).
    pub site_facts: Vec<Option<SiteFacts>>,
    /// Per organisation slot: its parent's slot.
    pub org_parent: Vec<Option<u32>>,
    /// Every force, compact, in slot order.
    pub engaged: Vec<EngagedForce>,
    pub plans: BTreeMap<PlanId, Stamped<PlanRecord>>,
    /// Quantities reserved by committed plans: item → origin site slot → quantity.
    pub reserved: FxHashMap<ItemId, FxHashMap<u32, Quantity>>,
    /// Quantities committed plans will bring (reserved at their origins, not shipped): item → destination site slot
    /// → quantity.
    pub reserved_for: FxHashMap<ItemId, FxHashMap<u32, Quantity>>,
    /// Quantities on the road: item → destination site slot → quantity.
    pub in_transit: FxHashMap<ItemId, FxHashMap<u32, Quantity>>,
    /// Vehicles held by active plans.
    pub vehicle_holds: FxHashMap<VehicleId, PlanId>,
    /// Items moved in or out of a site slot since its last count (a count clears them).
    pub(crate) adjusted: FxHashMap<u32, Vec<ItemId>>,
    /// One shared allocation per item id.
    pub(crate) item_slots: Slots<ItemId>,
    pub(crate) scratch: Vec<ItemId>,
    pub(crate) force_slots: FxHashMap<ForceId, u32>,
    /// The technology operations centre's registry and journalled states.
    pub toc: TocRegistry,
    /// Users and API tokens.
    pub accounts: crate::access::Accounts,
    /// Venue readiness: zones, tasks and their links and progress, computers.
    pub readiness: ReadinessRegistry,
    /// People, teams and their rosters.
    pub oncall: OnCallRegistry,
    /// Incidents by `sys_id`, each as last recorded.
    pub incidents: BTreeMap<String, Stamped<crate::itsm::Incident>>,
    /// Each incident's (time, state, priority) whenever one of them changed, from its opening: its SLA clocks.
    pub incident_timeline: BTreeMap<String, Vec<(DateTime<Utc>, crate::itsm::IncidentState, u8)>>,
    /// What the external ServiceNow holds of each incident.
    pub incident_sync: BTreeMap<String, crate::itsm::IncidentSynced>,
    /// SLA breaches recorded: (sys_id, clock) → when the target was passed.
    pub sla_breaches: BTreeMap<(String, String), DateTime<Utc>>,
    /// The operations log, oldest first.
    pub log: Vec<crate::itsm::LogEntry>,
    /// Reports drafted, approved and published, by id.
    pub reports: BTreeMap<String, crate::report::ReportRecord>,
    /// The highest incident number given (`INC0000042` → 42), deleted ones included: numbers are never reused.
    pub last_incident_number: u64,
    /// Sequence of the last applied event (0 when empty).
    pub last_seq: u64,
    pub(crate) stock_lines: usize,
    pub(crate) sources: FxHashMap<String, Arc<str>>,
    pub(crate) last_source: Option<Arc<str>>,
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    pub fn counts(&self) -> Counts {
        Counts {
            organizations: self.organizations.len(),
            sites: self.sites.len(),
            items: self.items.len(),
            stock_lines: self.stock_lines,
            forces: self.forces.len(),
            allowances: self.allowances.len(),
            vehicles: self.vehicles.len(),
            partners: self.toc.partners.len(),
            applications: self.toc.applications.len(),
            assets: self.toc.assets.len(),
            checks: self.toc.checks.len(),
            incidents: self.incidents.len(),
            log_entries: self.log.len(),
        }
    }

    /// Applies one event. Events must come in journal order.
    pub fn apply(&mut self, env: &Envelope) {
        self.apply_parts(env.seq, env.time, &env.source, &env.actor, env.event.clone());
    }

    /// Applies an event taken by value (replay): no payload is copied.
    pub fn apply_owned(&mut self, env: Envelope) {
        let Envelope { seq, time, source, actor, event, .. } = env;
        self.apply_parts(seq, time, &source, &actor, event);
    }

    fn apply_parts(&mut self, seq: u64, time: DateTime<Utc>, source: &str, actor: &crate::Actor, event: Event) {
        debug_assert!(seq > self.last_seq, "events applied out of order");
        self.last_seq = seq;
        let source = match &self.last_source {
            Some(last) if &**last == source => last.clone(),
            _ => self.source(source),
        };
        let stamp = Stamp { seq, time, source };
        self.apply_event(time, stamp, actor, event);
    }

    fn source(&mut self, source: &str) -> Arc<str> {
        let s = match self.sources.get(source) {
            Some(s) => s.clone(),
            None => {
                let s: Arc<str> = Arc::from(source);
                self.sources.insert(source.to_string(), s.clone());
                s
            }
        };
        self.last_source = Some(s.clone());
        s
    }

    fn apply_event(&mut self, time: DateTime<Utc>, stamp: Stamp, actor: &crate::Actor, event: Event) {
        match event {
            Event::OrganizationUpserted(o) => {
                let slot = self.org_slots.slot(&o.id) as usize;
                let parent = o.parent_id.as_ref().map(|p| self.org_slots.slot(p));
                self.org_parent.resize(self.org_slots.len(), None);
                self.org_parent[slot] = parent;
                self.organizations.insert(o.id.clone(), Stamped { value: o, stamp });
            }
            Event::SiteUpserted(s) => {
                let slot = self.site_slots.slot(&s.id) as usize;
                let org = self.org_slots.slot(&s.organization_id);
                self.org_parent.resize(self.org_slots.len(), None);
                self.site_facts.resize(self.site_slots.len(), None);
                self.site_facts[slot] =
                    Some(SiteFacts { position: s.position(), org, kind: s.kind, name: Arc::from(s.name.as_str()) });
                self.sites.insert(s.id.clone(), Stamped { value: s, stamp });
            }
            Event::ItemUpserted(mut i) => {
                let slot = self.item_slots.slot(&i.id);
                i.id = self.item_slots.id(slot).clone();
                self.items.insert(i.id.clone(), Stamped { value: i, stamp });
            }
            Event::ForceUpserted(f) => {
                let compact = EngagedForce {
                    starts_on: f.starts_on,
                    ends_on: f.ends_on,
                    headcount: f.headcount,
                    site: self.site_slots.slot(&f.site_id),
                    org: self.org_slots.slot(&f.organization_id),
                };
                self.site_facts.resize(self.site_slots.len(), None);
                self.org_parent.resize(self.org_slots.len(), None);
                match self.force_slots.get(f.id.as_str()) {
                    Some(&i) => self.engaged[i as usize] = compact,
                    None => {
                        self.force_slots.insert(f.id.clone(), self.engaged.len() as u32);
                        self.engaged.push(compact);
                    }
                }
                self.forces.insert(f.id.clone(), Stamped { value: f, stamp });
            }
            Event::AllowanceSet(a) => {
                self.allowances.insert((a.item_id.clone(), a.basis), Stamped { value: a, stamp });
            }
            Event::VehicleUpserted(v) => {
                self.vehicles.insert(v.id.clone(), Stamped { value: v, stamp });
            }
            Event::PlanCommitted(p) => {
                let to = self.site_slots.slot(&p.destination);
                for m in &p.movements {
                    let from = self.site_slots.slot(&m.from);
                    add(&mut self.reserved, &m.item_id, from, m.quantity);
                    add(&mut self.reserved_for, &m.item_id, to, m.quantity);
                }
                for v in p.movements.iter().filter_map(|m| m.vehicle_id.as_ref()).chain(&p.vehicles) {
                    self.vehicle_holds.insert(v.clone(), p.id.clone());
                }
                self.site_facts.resize(self.site_slots.len(), None);
                let record = PlanRecord {
                    plan: p,
                    status: PlanStatus::Committed,
                    committed_at: time,
                    shipped_at: None,
                    received_at: None,
                    cancelled_at: None,
                };
                self.plans.insert(record.plan.id.clone(), Stamped { value: record, stamp });
            }
            Event::PlanShipped(step) => {
                let Some(plan) = self.mark_plan(&step.plan_id, PlanStatus::Shipped, time, stamp) else { return };
                let to = self.site_slots.slot(&plan.destination);
                for m in &plan.movements {
                    let from = self.site_slots.slot(&m.from);
                    add(&mut self.reserved, &m.item_id, from, Quantity::ZERO - m.quantity);
                    add(&mut self.reserved_for, &m.item_id, to, Quantity::ZERO - m.quantity);
                    add(&mut self.in_transit, &m.item_id, to, m.quantity);
                    self.adjust(&m.item_id, from, Quantity::ZERO - m.quantity, time);
                }
                self.site_facts.resize(self.site_slots.len(), None);
            }
            Event::PlanReceived(step) => {
                let Some(plan) = self.mark_plan(&step.plan_id, PlanStatus::Received, time, stamp) else { return };
                let to = self.site_slots.slot(&plan.destination);
                for m in &plan.movements {
                    add(&mut self.in_transit, &m.item_id, to, Quantity::ZERO - m.quantity);
                    self.adjust(&m.item_id, to, m.quantity, time);
                }
                self.release_vehicles(&plan);
                self.site_facts.resize(self.site_slots.len(), None);
            }
            Event::SupportShifted(shift) => {
                let to = self.org_slots.slot(&shift.to);
                let from = self.org_slots.slot(&shift.from);
                self.org_parent.resize(self.org_slots.len(), None);
                for site in &shift.sites {
                    if let Some(rec) = self.sites.get_mut(site) {
                        rec.value.organization_id = shift.to.clone();
                        rec.stamp = stamp.clone();
                    }
                    if let Some(slot) = self.site_slots.get(site.as_str()) {
                        if let Some(Some(f)) = self.site_facts.get_mut(slot as usize) {
                            f.org = to;
                        }
                        for e in self.engaged.iter_mut().filter(|e| e.site == slot && e.org == from) {
                            e.org = to;
                        }
                    }
                }
                for f in self.forces.values_mut() {
                    if f.value.organization_id == shift.from && shift.sites.contains(&f.value.site_id) {
                        f.value.organization_id = shift.to.clone();
                        f.stamp = stamp.clone();
                    }
                }
            }
            Event::PartnerUpserted(p) => {
                self.toc.partners.insert(p.id.clone(), Stamped { value: p, stamp });
                self.toc.version += 1;
            }
            Event::ApplicationUpserted(a) => {
                self.toc.applications.insert(a.id.clone(), Stamped { value: a, stamp });
                self.toc.version += 1;
            }
            Event::AssetUpserted(a) => {
                self.toc.assets.insert(a.id.clone(), Stamped { value: a, stamp });
                self.toc.version += 1;
            }
            Event::CheckUpserted(c) => {
                self.toc.checks.insert(c.id.clone(), Stamped { value: c, stamp });
                self.toc.version += 1;
            }
            Event::DependencySet(d) => {
                let key = (d.child.clone(), d.group.clone());
                if d.parents.is_empty() {
                    self.toc.dependencies.remove(&key);
                } else {
                    self.toc.dependencies.insert(key, d);
                }
                self.toc.version += 1;
            }
            Event::MaintenanceScheduled(w) => {
                self.toc.windows.insert(w.id.clone(), Stamped { value: w, stamp });
                self.toc.version += 1;
            }
            Event::MaintenanceCancelled(c) => {
                self.toc.windows.remove(&c.id);
                self.toc.version += 1;
            }
            Event::CheckStateChanged(c) => {
                let h = self.toc.hard.entry(c.check_id.clone()).or_insert(HardState {
                    status: c.from,
                    since: c.at,
                    flapping: false,
                    acknowledged: false,
                });
                if c.from != c.to || h.status != c.to {
                    h.since = c.at;
                    h.acknowledged = false;
                    self.toc.acks.remove(&c.check_id);
                }
                h.status = c.to;
                if let Some(f) = c.flapping {
                    h.flapping = f;
                }
                if self.toc.history.len() == TocRegistry::HISTORY {
                    self.toc.history.pop_front();
                }
                self.toc.history.push_back((stamp.seq, c));
            }
            Event::CheckAcknowledged(a) => {
                if let Some(h) = self.toc.hard.get_mut(&a.check_id) {
                    h.acknowledged = true;
                    let ack = Acknowledgement { at: time, by: actor.to_string(), comment: a.comment };
                    self.toc.acks.insert(a.check_id, ack);
                }
            }
            Event::IncidentRecorded(i) => {
                let n = i.number.strip_prefix("INC").and_then(|d| d.parse::<u64>().ok()).unwrap_or(0);
                self.last_incident_number = self.last_incident_number.max(n);
                let line = self.incident_timeline.entry(i.sys_id.clone()).or_default();
                if line.last().is_none_or(|&(_, s, p)| (s, p) != (i.state, i.priority)) {
                    line.push((if line.is_empty() { i.opened_at } else { i.sys_updated_on }, i.state, i.priority));
                }
                self.incidents.insert(i.sys_id.clone(), Stamped { value: *i, stamp });
            }
            Event::LogEntryAdded(e) => self.log.push(e),
            Event::ZoneUpserted(z) => {
                self.readiness.zones.insert(z.id.clone(), Stamped { value: z, stamp });
                self.readiness.version += 1;
            }
            Event::TaskUpserted(t) => {
                self.readiness.tasks.insert(t.id.clone(), Stamped { value: t, stamp });
                self.readiness.version += 1;
                self.readiness.structure += 1;
            }
            Event::TaskLinked(l) => {
                let key = (l.before, l.after);
                if l.removed {
                    self.readiness.links.remove(&key);
                } else {
                    self.readiness.links.insert(key, l.lag_min);
                }
                self.readiness.version += 1;
                self.readiness.structure += 1;
            }
            Event::TaskProgressed(p) => {
                use crate::readiness::{Progress, TaskStatus};
                let before = self.readiness.progress.remove(&p.task_id);
                let (mut started_at, mut finished_at) =
                    before.as_ref().map_or((None, None), |b| (b.started_at, b.finished_at));
                match p.status {
                    TaskStatus::InProgress => {
                        started_at = started_at.or(Some(time));
                        finished_at = None;
                    }
                    TaskStatus::Done | TaskStatus::Verified => {
                        started_at = started_at.or(Some(time));
                        finished_at = finished_at.or(Some(time));
                    }
                    TaskStatus::Todo => (started_at, finished_at) = (None, None),
                    TaskStatus::Blocked => finished_at = None,
                }
                let progress = Progress {
                    status: p.status,
                    reason: p.reason,
                    evidence: p.evidence,
                    since: time,
                    by: actor.to_string(),
                    started_at,
                    finished_at,
                };
                self.readiness.progress.insert(p.task_id, progress);
                self.readiness.version += 1;
            }
            Event::ComputerUpserted(c) => {
                self.readiness.computers.insert(c.id.clone(), Stamped { value: c, stamp });
                self.readiness.version += 1;
            }
            Event::PersonUpserted(p) => {
                self.oncall.people.insert(p.id.clone(), Stamped { value: p, stamp });
            }
            Event::TeamUpserted(t) => {
                self.oncall.teams.insert(t.id.clone(), Stamped { value: t, stamp });
            }
            Event::RotationSet(r) => {
                self.oncall.rotations.insert((r.team_id.clone(), r.level), Stamped { value: r, stamp });
            }
            Event::NotificationQueued(n) => {
                use crate::notify::{Delivery, OutboxEntry};
                let entry = OutboxEntry { notification: n, queued_at: time, attempts: 0, delivery: Delivery::Queued };
                self.oncall.outbox.insert(entry.notification.id.clone(), entry);
            }
            Event::NotificationSent(s) => {
                if let Some(e) = self.oncall.outbox.get_mut(&s.id) {
                    e.attempts += 1;
                    e.delivery = crate::notify::Delivery::Sent { at: time, detail: s.detail };
                }
            }
            Event::NotificationFailed(f) => {
                if let Some(e) = self.oncall.outbox.get_mut(&f.id) {
                    e.attempts += 1;
                    e.delivery = crate::notify::Delivery::Failed { at: time, error: f.error, retry_at: f.retry_at };
                }
            }
            Event::IncidentAcknowledged(a) => {
                self.oncall.acknowledged.entry(a.sys_id).or_insert((time, actor.to_string()));
            }
            Event::ReportDrafted(d) => {
                let rec = self.reports.entry(d.id.clone()).or_insert_with(|| crate::report::ReportRecord {
                    id: d.id.clone(),
                    kind: d.kind.clone(),
                    versions: Vec::new(),
                });
                rec.versions.push(crate::report::ReportVersion::drafted(d, actor.to_string(), time));
            }
            Event::ReportReviewed(r) => {
                let v = self
                    .reports
                    .get_mut(&r.id)
                    .and_then(|rec| rec.versions.iter_mut().find(|v| v.draft.version == r.version));
                if let Some(v) = v {
                    let by = Some(actor.to_string());
                    match r.decision.as_str() {
                        "approved" => (v.approved_by, v.approved_at) = (by, Some(time)),
                        "published" => (v.published_by, v.published_at) = (by, Some(time)),
                        _ => v.rejected_by = by,
                    }
                    v.status = r.decision;
                    v.review_note = r.note;
                }
            }
            Event::OverrideSet(o) => {
                let key = (o.team_id.clone(), o.level, o.from);
                if o.removed {
                    self.oncall.overrides.remove(&key);
                } else {
                    self.oncall.overrides.insert(key, o);
                }
            }
            e @ (Event::UserUpserted(_)
            | Event::TokenIssued(_)
            | Event::TokenRevoked(_)
            | Event::SessionOpened(_)
            | Event::SessionClosed(_)) => self.accounts.apply(time, &e),
            // Kept in the journal for the audit; it changes nothing.
            Event::AccessDenied(_) => {}
            Event::SlaBreached(b) => {
                self.sla_breaches.insert((b.sys_id, b.clock), b.at);
            }
            Event::IncidentSynced(s) => {
                self.incident_sync.insert(s.sys_id.clone(), s);
            }
            Event::IncidentDeleted(d) => {
                self.incidents.remove(&d.sys_id);
                self.incident_timeline.remove(&d.sys_id);
            }
            Event::PlanCancelled(step) => {
                let Some(plan) = self.mark_plan(&step.plan_id, PlanStatus::Cancelled, time, stamp) else { return };
                let to = self.site_slots.slot(&plan.destination);
                for m in &plan.movements {
                    let from = self.site_slots.slot(&m.from);
                    add(&mut self.reserved, &m.item_id, from, Quantity::ZERO - m.quantity);
                    add(&mut self.reserved_for, &m.item_id, to, Quantity::ZERO - m.quantity);
                }
                self.release_vehicles(&plan);
            }
            Event::StockCounted(c) => {
                // Share one allocation per id (hash lookups): a million lines then cost no extra id strings.
                let mut lines = c.lines;
                for l in &mut lines {
                    let i = self.item_slots.slot(&l.item_id);
                    l.item_id = self.item_slots.id(i).clone();
                }
                // Give back spare capacity only where it is worth a reallocation.
                if lines.capacity() > lines.len() + lines.len() / 4 + 4 {
                    lines.shrink_to_fit();
                }
                self.stock_lines += lines.len();
                let slot = self.site_slots.slot(&c.site_id);
                self.site_facts.resize(self.site_slots.len(), None);
                // The count replaces what was counted there before and every movement since.
                let mut touched = std::mem::take(&mut self.scratch);
                touched.clear();
                self.stock.resize_with(self.site_slots.len(), || None);
                if let Some(old) = &self.stock[slot as usize] {
                    touched.extend(old.lines.iter().map(|l| l.item_id.clone()));
                }
                if !self.adjusted.is_empty() {
                    touched.extend(self.adjusted.remove(&slot).unwrap_or_default());
                }
                touched.sort_unstable();
                touched.dedup();
                for item in &touched {
                    if let Some(v) = self.stock_by_item.get_mut(item) {
                        v.retain(|l| l.site != slot);
                    }
                }
                touched.clear();
                self.scratch = touched;
                for l in &lines {
                    let v = match self.stock_by_item.get_mut(&l.item_id) {
                        Some(v) => v,
                        None => self.stock_by_item.entry(l.item_id.clone()).or_default(),
                    };
                    v.push(IndexedLine {
                        site: slot,
                        serviceable_condition: l.condition == Condition::Serviceable,
                        counted: true,
                        quantity: l.quantity,
                        expires_on: l.expires_on,
                        counted_at_s: l.counted_at.timestamp(),
                    });
                }
                if let Some(old) = self.stock[slot as usize].replace(SiteStock { lines, stamp }) {
                    self.stock_lines -= old.lines.len();
                }
            }
        }
    }

    /// Records a plan's step (status, its time, the stamp) and returns the plan it applies to.
    fn mark_plan(&mut self, id: &PlanId, status: PlanStatus, time: DateTime<Utc>, stamp: Stamp) -> Option<Plan> {
        let rec = self.plans.get_mut(id)?;
        rec.value.status = status;
        match status {
            PlanStatus::Shipped => rec.value.shipped_at = Some(time),
            PlanStatus::Received => rec.value.received_at = Some(time),
            PlanStatus::Cancelled => rec.value.cancelled_at = Some(time),
            PlanStatus::Committed => {}
        }
        rec.stamp = stamp;
        Some(rec.value.plan.clone())
    }

    /// A movement since the count, as a serviceable line of the item at the site (negative when it left).
    fn adjust(&mut self, item: &ItemId, slot: u32, q: Quantity, at: DateTime<Utc>) {
        self.adjusted.entry(slot).or_default().push(item.clone());
        let v = match self.stock_by_item.get_mut(item) {
            Some(v) => v,
            None => self.stock_by_item.entry(item.clone()).or_default(),
        };
        v.push(IndexedLine {
            site: slot,
            serviceable_condition: true,
            counted: false,
            quantity: q,
            expires_on: None,
            counted_at_s: at.timestamp(),
        });
    }

    fn release_vehicles(&mut self, plan: &Plan) {
        for v in plan.movements.iter().filter_map(|m| m.vehicle_id.as_ref()).chain(&plan.vehicles) {
            if self.vehicle_holds.get(v) == Some(&plan.id) {
                self.vehicle_holds.remove(v);
            }
        }
    }

    /// Quantity of an item reserved at a site slot by committed plans.
    pub fn reserved_at(&self, item: &ItemId, slot: u32) -> Quantity {
        self.reserved.get(item).and_then(|m| m.get(&slot)).copied().unwrap_or_default()
    }

    /// Quantity of an item that committed plans will bring to a site slot (not shipped yet).
    pub fn reserved_for(&self, item: &ItemId, slot: u32) -> Quantity {
        self.reserved_for.get(item).and_then(|m| m.get(&slot)).copied().unwrap_or_default()
    }

    /// Quantity of an item on its way to a site slot.
    pub fn in_transit_to(&self, item: &ItemId, slot: u32) -> Quantity {
        self.in_transit.get(item).and_then(|m| m.get(&slot)).copied().unwrap_or_default()
    }

    /// The stock counted at a site.
    pub fn stock_of(&self, site: &str) -> Option<&SiteStock> {
        self.site_slots.get(site).and_then(|s| self.stock.get(s as usize)).and_then(Option::as_ref)
    }

    /// Every site's counted stock, in site-id order.
    pub fn stock_iter(&self) -> impl Iterator<Item = (&SiteId, &SiteStock)> {
        let mut all: Vec<(&SiteId, &SiteStock)> = self
            .stock
            .iter()
            .enumerate()
            .filter_map(|(slot, s)| s.as_ref().map(|s| (self.site_slots.id(slot as u32), s)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }

    /// Every line of an item (counted lines and movements since), each with its site slot.
    pub fn item_lines(&self, item: &ItemId) -> &[IndexedLine] {
        self.stock_by_item.get(item).map_or(&[], Vec::as_slice)
    }

    /// Membership of the subtree of organisation slot `root` (itself included), indexed by organisation slot.
    pub fn org_subtree(&self, root: u32) -> Vec<bool> {
        let n = self.org_slots.len();
        let mut member = vec![false; n];
        for (slot, m) in member.iter_mut().enumerate() {
            let mut cur = Some(slot as u32);
            let mut steps = 0;
            while let Some(c) = cur {
                if c == root {
                    *m = true;
                    break;
                }
                cur = self.org_parent.get(c as usize).copied().flatten();
                steps += 1;
                if steps > n {
                    break; // a cycle in the data: not a member
                }
            }
        }
        member
    }

    /// The organisation and all its descendants.
    pub fn org_and_children(&self, root: &OrgId) -> Vec<OrgId> {
        let mut out = vec![root.clone()];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            for (id, o) in &self.organizations {
                if o.value.parent_id.as_ref() == Some(&cur) && !out.contains(id) {
                    out.push(id.clone());
                }
            }
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Actor;
    use chrono::NaiveDate;

    fn env(seq: u64, event: Event) -> Envelope {
        Envelope {
            seq,
            id: uuid::Uuid::now_v7(),
            time: DateTime::from_timestamp(1_720_000_000 + seq as i64, 0).unwrap(),
            actor: Actor::system("test"),
            origin: "n1".into(),
            source: "test".into(),
            event,
        }
    }

    fn line(item: &str, q: i64) -> StockLine {
        StockLine {
            item_id: ItemId::parse(item).unwrap(),
            quantity: Quantity::from_units(q),
            condition: Condition::Serviceable,
            lot: None,
            expires_on: NaiveDate::from_ymd_opt(2030, 1, 1),
            counted_at: DateTime::from_timestamp(1_720_000_000, 0).unwrap(),
            attributes: Attributes::new(),
        }
    }

    #[test]
    fn a_count_replaces_the_sites_previous_lines() {
        let mut st = State::new();
        let site = SiteId::parse("S1").unwrap();
        st.apply(&env(
            1,
            Event::StockCounted(StockCount { site_id: site.clone(), lines: vec![line("A", 1), line("B", 2)] }),
        ));
        assert_eq!(st.counts().stock_lines, 2);
        st.apply(&env(2, Event::StockCounted(StockCount { site_id: site.clone(), lines: vec![line("C", 5)] })));
        assert_eq!(st.counts().stock_lines, 1);
        assert_eq!(st.stock_of("S1").unwrap().lines[0].item_id.as_str(), "C");
        assert_eq!(st.stock_of("S1").unwrap().stamp.seq, 2);
        assert_eq!(st.stock_iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), vec!["S1"]);
        // The per-item index follows: A's lines at S1 are gone, C's are there.
        assert!(st.item_lines(&ItemId::parse("A").unwrap()).is_empty());
        let c = st.item_lines(&ItemId::parse("C").unwrap());
        assert_eq!((c.len(), st.site_slots.id(c[0].site).as_str(), c[0].quantity), (1, "S1", Quantity::from_units(5)));
        st.apply(&env(
            3,
            Event::StockCounted(StockCount {
                site_id: SiteId::parse("S2").unwrap(),
                lines: vec![line("C", 1), line("C", 2)],
            }),
        ));
        let total: Quantity = st.item_lines(&ItemId::parse("C").unwrap()).iter().map(|l| l.quantity).sum();
        assert_eq!(total, Quantity::from_units(8));
        assert_eq!(std::mem::size_of::<IndexedLine>(), 32);
        assert_eq!(st.last_seq, 3);
    }

    #[test]
    fn children_of_an_organisation() {
        let mut st = State::new();
        let org = |id: &str, parent: Option<&str>| {
            Event::OrganizationUpserted(Organization {
                id: OrgId::parse(id).unwrap(),
                name: id.into(),
                level: if parent.is_none() { OrgLevel::Strategic } else { OrgLevel::Tactical },
                parent_id: parent.map(|p| OrgId::parse(p).unwrap()),
                attributes: Attributes::new(),
            })
        };
        st.apply(&env(1, org("ROOT", None)));
        st.apply(&env(2, org("A", Some("ROOT"))));
        st.apply(&env(3, org("A1", Some("A"))));
        st.apply(&env(4, org("B", Some("ROOT"))));
        let mut a = st.org_and_children(&OrgId::parse("A").unwrap());
        a.sort();
        assert_eq!(a, vec![OrgId::parse("A").unwrap(), OrgId::parse("A1").unwrap()]);
        assert_eq!(st.org_and_children(&OrgId::parse("ROOT").unwrap()).len(), 4);
    }
}
