//! Exercises (issue 18): a scenario of **injects** played on a sandbox journal, the participants' actions measured
//! against what each inject expects, and the after-action review.
//!
//! - A [`Scenario`] is a TOML file (docs/exercises.md): a name, a default speed, and injects, each at an offset of
//!   exercise time, of one kind — check results (`checks`), serviceable stock made unusable (`spoil`), tables
//!   imported (`import`: forces engaged, sites, counts), an incident opened (`incident`), a message to the
//!   participants (`message`, written in the sandbox's operations log) — and what it expects: an acknowledgement, an
//!   incident opened with a priority at a site, a plan committed for a site (and an item), a decision logged.
//! - The [`Clock`] runs in real time or accelerated, and can be paused: exercise time is wall time since the start,
//!   pauses taken out, times the speed. Everything here takes `now` as an argument, so tests choose it.
//! - An exercise writes only to its own journal (the sandbox the server opens): nothing here knows the live one.
//! - The [`Review`] is computed from the sandbox's journal: injects and actions on one timeline, expected versus
//!   done, the time each took in exercise time, what was missed.

use crate::{AppError, Caller};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vigie_domain::{Envelope, Event};
use vigie_journal::Journal;

/// The scenarios Vigie ships, written for the demo's data: the four situations of the support service's
/// hackathon and the TOC's power cut.
pub const SHIPPED: &[(&str, &str)] = &[
    ("plaques", include_str!("../scenarios/plaques.toml")),
    ("canalisation", include_str!("../scenarios/canalisation.toml")),
    ("renfort", include_str!("../scenarios/renfort.toml")),
    ("nantes", include_str!("../scenarios/nantes.toml")),
    ("coupure-bercy", include_str!("../scenarios/coupure-bercy.toml")),
];

/// At most this many injects in a scenario, and this many bytes of scenario text.
pub const MAX_INJECTS: usize = 500;
pub const MAX_SCENARIO_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Exercise seconds per wall second (1: real time).
    #[serde(default = "one")]
    pub speed: f64,
    #[serde(default, rename = "inject")]
    pub injects: Vec<Inject>,
}

fn one() -> f64 {
    1.0
}

/// (Its fields and its kind's are read together, so a field no kind knows is not refused here: serde cannot deny
/// unknown fields beside a flattened enum.)
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Inject {
    pub id: String,
    /// Offset after the start in exercise time: `hh:mm` or `hh:mm:ss`.
    pub at: String,
    pub title: String,
    #[serde(flatten)]
    pub action: Action,
    #[serde(default)]
    pub expect: Option<Expect>,
}

/// What an inject does.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Check results, as a monitoring agent would push them.
    Checks { results: Vec<CheckResult> },
    /// A site's serviceable stock of an item made unusable (all of it, or `quantity`).
    Spoil { site: String, item: String, quantity: Option<f64> },
    /// Tables imported as by `POST /api/v1/import` (file name → CSV text): forces engaged, sites, counts.
    Import { files: BTreeMap<String, String> },
    /// An incident opened by the exercise's direction.
    Incident {
        short_description: String,
        #[serde(default)]
        description: String,
        impact: u8,
        urgency: u8,
        #[serde(default)]
        assignment_group: String,
        #[serde(default)]
        location: String,
    },
    /// A message to the participants (in the sandbox's operations log).
    Message { text: String },
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    pub check: String,
    pub status: String,
    #[serde(default)]
    pub output: String,
}

/// What an inject expects of the participants, and within how long (exercise time).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `acknowledged`, `incident`, `plan` or `decision`.
    pub what: String,
    pub within: String,
    /// `acknowledged`: the check to acknowledge (else the incident the inject opened).
    #[serde(default)]
    pub check: Option<String>,
    /// `incident`: at most this priority (1 is the highest).
    #[serde(default)]
    pub max_priority: Option<u8>,
    /// `incident`: its location or description names the site; `plan`: its destination.
    #[serde(default)]
    pub site: Option<String>,
    /// `plan`: it moves this item.
    #[serde(default)]
    pub item: Option<String>,
    /// `decision`: its text holds this (any case).
    #[serde(default)]
    pub contains: Option<String>,
}

/// `hh:mm` or `hh:mm:ss` in seconds, at most a week (168 h).
pub fn offset_s(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let n = |s: &str| s.parse::<u64>().ok();
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (n(h)?, n(m)?, 0),
        [h, m, s] => (n(h)?, n(m)?, n(s)?),
        _ => return None,
    };
    (h <= 168 && m < 60 && s < 60).then(|| h * 3600 + m * 60 + s)
}

impl Scenario {
    /// Reads and checks a scenario: every problem located (`inject[2].at`).
    pub fn parse(text: &str) -> Result<Scenario, AppError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(AppError::field("scenario", format!("at most {MAX_SCENARIO_BYTES} bytes")));
        }
        let s: Scenario = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|r| text[..r.start.min(text.len())].lines().count().max(1)).unwrap_or(0);
            AppError::field("scenario", format!("line {at}: {}", e.message()))
        })?;
        let mut problems = Vec::new();
        let mut p = |field: String, m: String| problems.push(crate::problem(&field, m));
        if s.name.trim().is_empty() {
            p("name".into(), "a scenario has a name".into());
        }
        if !(s.speed.is_finite() && (0.1..=3600.0).contains(&s.speed)) {
            p("speed".into(), "between 0.1 and 3600".into());
        }
        if s.injects.len() > MAX_INJECTS {
            p("inject".into(), format!("at most {MAX_INJECTS} injects"));
        }
        let mut ids = std::collections::HashSet::new();
        let mut texts: Vec<(String, &str, bool)> =
            vec![("name".into(), s.name.as_str(), false), ("description".into(), s.description.as_str(), true)];
        for (i, inj) in s.injects.iter().enumerate() {
            let f = |x: &str| format!("inject[{i}].{x}");
            texts.push((f("id"), inj.id.as_str(), false));
            texts.push((f("title"), inj.title.as_str(), false));
            match &inj.action {
                Action::Message { text } => texts.push((f("text"), text.as_str(), true)),
                Action::Incident { short_description, description, .. } => {
                    texts.push((f("short_description"), short_description.as_str(), false));
                    texts.push((f("description"), description.as_str(), true));
                }
                Action::Spoil { quantity: Some(q), .. } if !(q.is_finite() && *q > 0.0 && *q < 1e12) => {
                    p(f("quantity"), "a quantity above 0 (or none: all of it)".into());
                }
                _ => {}
            }
            if !ids.insert(inj.id.as_str()) || inj.id.trim().is_empty() {
                p(f("id"), format!("empty or given twice: {:?}", inj.id));
            }
            if offset_s(&inj.at).is_none() {
                p(f("at"), format!("expected hh:mm or hh:mm:ss, found {:?}", inj.at));
            }
            if let Action::Incident { impact, urgency, .. } = &inj.action {
                if !(1..=3).contains(impact) || !(1..=3).contains(urgency) {
                    p(f("impact"), "impact and urgency from 1 to 3".into());
                }
            }
            if let Some(e) = &inj.expect {
                if !["acknowledged", "incident", "plan", "decision"].contains(&e.what.as_str()) {
                    p(
                        f("expect.what"),
                        format!("expected acknowledged, incident, plan or decision, found {:?}", e.what),
                    );
                }
                if offset_s(&e.within).is_none() {
                    p(f("expect.within"), format!("expected hh:mm or hh:mm:ss, found {:?}", e.within));
                }
                if e.what == "plan" && e.site.is_none() {
                    p(f("expect.site"), "a plan is expected for a site".into());
                }
                if e.what == "acknowledged"
                    && e.check.is_none()
                    && !matches!(inj.action, Action::Incident { .. } | Action::Checks { .. })
                {
                    p(f("expect.check"), "what to acknowledge: a check, or the incident the inject opens".into());
                }
            }
        }
        for (field, text, free) in texts {
            let checked = if free {
                vigie_domain::text::check_free_text(&field, text)
            } else {
                vigie_domain::text::check_text(&field, text, vigie_domain::text::MAX_NAME_CHARS)
            };
            if let Err(e) = checked {
                problems.push(crate::problem(&field, e.to_string()));
            }
        }
        if problems.is_empty() {
            Ok(s)
        } else {
            Err(AppError::invalid(format!("{} problem(s) in the scenario", problems.len()), problems))
        }
    }

    /// A shipped scenario by name.
    pub fn shipped(name: &str) -> Option<Scenario> {
        SHIPPED.iter().find(|(n, _)| *n == name).and_then(|(_, t)| Scenario::parse(t).ok())
    }
}

/// Exercise time: wall time since the start, pauses taken out, times the speed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clock {
    pub started: DateTime<Utc>,
    pub speed: f64,
    /// Pauses: from, and until (none: paused now).
    pub pauses: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    pub ended: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn new(started: DateTime<Utc>, speed: f64) -> Clock {
        Clock { started, speed, pauses: Vec::new(), ended: None }
    }
    pub fn paused(&self) -> bool {
        self.pauses.last().is_some_and(|p| p.1.is_none())
    }
    /// Exercise seconds at the wall instant `wall` (stops at the end).
    pub fn at(&self, wall: DateTime<Utc>) -> f64 {
        let wall = self.ended.map_or(wall, |e| wall.min(e)).max(self.started);
        let paused: i64 = self
            .pauses
            .iter()
            .map(|(from, to)| {
                let to = to.unwrap_or(wall).min(wall);
                (to - *from.min(&to)).num_milliseconds().max(0)
            })
            .sum();
        ((wall - self.started).num_milliseconds() - paused).max(0) as f64 / 1000.0 * self.speed
    }
    pub fn pause(&mut self, now: DateTime<Utc>) {
        if !self.paused() && self.ended.is_none() {
            self.pauses.push((now, None));
        }
    }
    pub fn resume(&mut self, now: DateTime<Utc>) {
        if let Some(last) = self.pauses.last_mut().filter(|p| p.1.is_none()) {
            last.1 = Some(now);
        }
    }
    /// A new speed from now on: the time already run is kept.
    pub fn set_speed(&mut self, now: DateTime<Utc>, speed: f64) {
        let so_far = self.at(now);
        self.started = now - chrono::Duration::milliseconds((so_far / speed * 1000.0) as i64);
        self.pauses.retain(|p| p.1.is_none());
        if let Some(p) = self.pauses.first_mut() {
            p.0 = now;
        }
        self.speed = speed;
    }
}

/// An inject once fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fired {
    pub at: DateTime<Utc>,
    pub exercise_s: f64,
    /// The sandbox journal's last event after it fired.
    pub seq: u64,
    /// The incident it opened.
    pub incident: Option<String>,
    /// Why it could not fire (the scenario does not fit the data): said in the review.
    pub error: Option<String>,
}

/// An exercise being played: its scenario, clock, what fired, where its journal began.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: String,
    pub scenario: Scenario,
    pub clock: Clock,
    pub fired: Vec<Option<Fired>>,
    /// The sandbox journal's last event when the exercise began (what came before is the starting picture).
    pub base_seq: u64,
    /// The live instant the picture was taken at.
    pub from: DateTime<Utc>,
    pub director: String,
}

impl Run {
    pub fn new(
        id: String,
        scenario: Scenario,
        started: DateTime<Utc>,
        base_seq: u64,
        from: DateTime<Utc>,
        director: String,
    ) -> Run {
        let n = scenario.injects.len();
        let speed = scenario.speed;
        Run { id, scenario, clock: Clock::new(started, speed), fired: vec![None; n], base_seq, from, director }
    }

    /// The injects due at `now` and not fired, in scenario order.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<usize> {
        if self.clock.paused() || self.clock.ended.is_some() {
            return Vec::new();
        }
        let t = self.clock.at(now);
        let mut due: Vec<usize> = (0..self.scenario.injects.len())
            .filter(|&i| self.fired[i].is_none())
            .filter(|&i| offset_s(&self.scenario.injects[i].at).is_some_and(|o| o as f64 <= t))
            .collect();
        due.sort_by_key(|&i| offset_s(&self.scenario.injects[i].at));
        due
    }
}

/// What the direction's actions need beside the journal: the sandbox's live monitoring.
pub struct Sandbox<'a> {
    pub journal: &'a Journal,
    pub live: &'a crate::monitoring::live::Live,
}

/// Fires inject `i` on the sandbox as the direction (`director`), at `now`; records it in `run`.
pub fn fire(run: &mut Run, i: usize, sandbox: &Sandbox<'_>, director: &Caller, now: DateTime<Utc>) -> Fired {
    let inj = run.scenario.injects[i].clone();
    let (incident, error) = play(&inj, sandbox, director, now);
    let f = Fired { at: now, exercise_s: run.clock.at(now), seq: sandbox.journal.state().last_seq, incident, error };
    run.fired[i] = Some(f.clone());
    f
}

/// Plays an inject on the sandbox as the direction, at `now`: the incident it opened, or why it could not play.
pub fn play(
    inj: &Inject,
    sandbox: &Sandbox<'_>,
    director: &Caller,
    now: DateTime<Utc>,
) -> (Option<String>, Option<String>) {
    let mut incident = None;
    let outcome: Result<(), AppError> = match &inj.action {
        Action::Checks { results } => {
            // An inject states what is so: each result is taken as many times as its check needs to make it hard.
            let at = now.timestamp_millis();
            crate::monitoring::ingest(sandbox.journal, sandbox.live, director, |g| {
                let mut out = Vec::new();
                for (k, r) in results.iter().enumerate() {
                    let slot = g.estate.slot(&r.check).ok_or_else(|| {
                        AppError::field(&format!("results[{k}].check"), format!("unknown check {}", r.check))
                    })?;
                    let status = vigie_domain::health::Status::parse(&r.status).ok_or_else(|| {
                        AppError::field(&format!("results[{k}].status"), format!("unknown status {}", r.status))
                    })?;
                    for n in 0..g.estate.def(slot).policy.max_attempts.max(1) {
                        let output = r.output.clone();
                        let at = at + i64::from(n);
                        out.push(crate::monitoring::live::Result1 { slot, status, output, at, alert: false });
                    }
                }
                Ok(out)
            })
            .map(|_| ())
        }
        Action::Spoil { site, item, quantity } => spoil(sandbox.journal, director, site, item, *quantity),
        Action::Import { files } => {
            let day = vigie_domain::paris::today(now);
            let sources: Vec<vigie_import::SourceFile> = files
                .iter()
                .map(|(name, text)| vigie_import::SourceFile {
                    name: name.clone(),
                    bytes: dated(text, day).into_bytes(),
                })
                .collect();
            let batch = vigie_import::read(&sources, &mut |_, _| {});
            crate::imports::import(sandbox.journal, director, batch, false).map(|_| ())
        }
        Action::Incident { short_description, description, impact, urgency, assignment_group, location } => {
            let mut f = vigie_incidents::incident::Changes::new();
            f.insert("short_description".into(), format!("[EXERCICE] {short_description}"));
            f.insert("description".into(), description.clone());
            f.insert("impact".into(), impact.to_string());
            f.insert("urgency".into(), urgency.to_string());
            f.insert("assignment_group".into(), assignment_group.clone());
            f.insert("location".into(), location.clone());
            crate::incidents::create(sandbox.journal, director, f).map(|x| incident = Some(x.sys_id))
        }
        Action::Message { text } => {
            let e = crate::incidents::NewLogEntry {
                text: format!("[EXERCICE — animation] {text}"),
                kind: Some("note".into()),
                ..Default::default()
            };
            crate::incidents::add_log_entry(sandbox.journal, director, e, now).map(|_| ())
        }
    };
    (incident, outcome.err().map(|e| e.to_string()))
}

/// `{today}` and `{today+N}` (N days, 0 to 366) in an inject's tables, as the exercise's day (Paris).
pub fn dated(text: &str, day: chrono::NaiveDate) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{today") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + "{today".len()..];
        let end = tail.find('}');
        let n = match end.map(|e| &tail[..e]) {
            Some("") => Some(0),
            Some(plus) => plus.strip_prefix('+').and_then(|d| d.parse::<i64>().ok()).filter(|d| (0..=366).contains(d)),
            None => None,
        };
        match (n, end) {
            (Some(n), Some(e)) => {
                out.push_str(&(day + chrono::Duration::days(n)).to_string());
                rest = &tail[e + 1..];
            }
            _ => {
                out.push_str("{today");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A site's serviceable lines of an item turned unserviceable (all, or up to `quantity`): the site recounted.
fn spoil(journal: &Journal, director: &Caller, site: &str, item: &str, quantity: Option<f64>) -> Result<(), AppError> {
    let (site, item, c) = (site.to_string(), item.to_string(), director.clone());
    journal.execute(move |st| {
        let stock = st.stock_of(&site).ok_or_else(|| AppError::not_found("site", &site))?;
        let mut left = quantity.map(|q| vigie_domain::Quantity::from_milli((q * 1000.0).round() as i64));
        let mut lines = Vec::with_capacity(stock.lines.len() + 1);
        for l in &stock.lines {
            if l.item_id.as_str() != item || l.condition != vigie_domain::Condition::Serviceable {
                lines.push(l.clone());
                continue;
            }
            let take = match left {
                Some(q) => q.min(l.quantity),
                None => l.quantity,
            };
            if let Some(q) = &mut left {
                *q -= take;
            }
            if take < l.quantity {
                let mut kept = l.clone();
                kept.quantity = l.quantity - take;
                lines.push(kept);
            }
            if take > vigie_domain::Quantity::ZERO {
                let mut spoilt = l.clone();
                spoilt.quantity = take;
                spoilt.condition = vigie_domain::Condition::Unserviceable;
                spoilt.lot = Some(format!("{}-HS", l.lot.as_deref().unwrap_or("LOT")));
                lines.push(spoilt);
            }
        }
        let ev = Event::StockCounted(vigie_domain::StockCount { site_id: stock_site(st, &site)?, lines });
        Ok::<_, AppError>((vec![c.event(ev)], ()))
    })?;
    Ok(())
}

fn stock_site(st: &vigie_domain::State, site: &str) -> Result<vigie_domain::SiteId, AppError> {
    st.sites.get(site).map(|s| s.value.id.clone()).ok_or_else(|| AppError::not_found("site", site))
}

/// One inject in the review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InjectReview {
    pub id: String,
    pub title: String,
    pub planned_s: u64,
    pub fired_s: Option<f64>,
    pub fired_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// What was expected, in French; none: nothing.
    pub expected: Option<String>,
    pub within_s: Option<u64>,
    pub done: bool,
    /// Exercise seconds from the inject to the action.
    pub response_s: Option<f64>,
    pub on_time: bool,
    pub by: Option<String>,
    pub what: Option<String>,
}

/// A participant's action, on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionLine {
    pub at: DateTime<Utc>,
    pub exercise_s: f64,
    pub actor: String,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub id: String,
    pub name: String,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub speed: f64,
    pub elapsed_s: f64,
    pub injects: Vec<InjectReview>,
    pub actions: Vec<ActionLine>,
    pub expected: usize,
    pub done: usize,
    pub on_time: usize,
    pub missed: Vec<String>,
}

/// A participant's action in a sentence (French), or none for what is not one (the direction's, Vigie's own).
fn action_of(e: &Envelope) -> Option<String> {
    Some(match &e.event {
        Event::IncidentRecorded(i) => format!("incident {} P{} — {}", i.number, i.priority, i.short_description),
        Event::CheckAcknowledged(a) => format!("acquittement de {}", a.check_id),
        Event::IncidentAcknowledged(a) => format!("incident acquitté ({})", a.sys_id),
        Event::PlanCommitted(p) => format!("plan {} engagé vers {}", p.id, p.destination),
        Event::PlanShipped(s) => format!("plan {} expédié", s.plan_id),
        Event::PlanReceived(s) => format!("plan {} reçu", s.plan_id),
        Event::PlanCancelled(s) => format!("plan {} annulé", s.plan_id),
        Event::SupportShifted(s) => format!("bascule de l'effort de {} vers {}", s.from, s.to),
        Event::LogEntryAdded(l) => format!("main courante ({}) : {}", l.kind, l.text),
        Event::StockCounted(c) => format!("stock recompté à {}", c.site_id),
        Event::ForceUpserted(f) => format!("force {} à {}", f.id, f.site_id),
        Event::MaintenanceScheduled(w) => format!("maintenance {}", w.id),
        Event::ReportDrafted(r) => format!("rapport {} v{} rédigé", r.id, r.version),
        Event::ReportReviewed(r) => format!("rapport {} v{} {}", r.id, r.version, r.decision),
        _ => return None,
    })
}

/// Whether `e` does what `x` expects of the inject that fired as `f`.
fn meets(e: &Envelope, x: &Expect, f: &Fired, st: &vigie_domain::State) -> bool {
    let has = |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
    match (x.what.as_str(), &e.event) {
        ("acknowledged", Event::CheckAcknowledged(a)) => x.check.as_deref().is_some_and(|c| a.check_id.as_str() == c),
        ("acknowledged", Event::IncidentAcknowledged(a)) => {
            x.check.is_none() && f.incident.as_deref() == Some(a.sys_id.as_str())
        }
        ("acknowledged", Event::IncidentRecorded(i)) => {
            // Taken in hand: the incident the inject opened moved to In Progress.
            x.check.is_none()
                && f.incident.as_deref() == Some(i.sys_id.as_str())
                && i.state == vigie_domain::itsm::IncidentState::InProgress
        }
        ("incident", Event::IncidentRecorded(i)) => {
            let new = st.incident_timeline.get(&i.sys_id).is_some_and(|t| t.len() == 1)
                || !st.incidents.contains_key(&i.sys_id);
            let priority = x.max_priority.is_none_or(|p| i.priority <= p);
            let site = x.site.as_deref().is_none_or(|s| {
                i.location == s || has(&i.short_description, s) || has(&i.cmdb_ci, s) || {
                    let name = st.sites.get(s).map(|r| r.value.name.clone()).unwrap_or_default();
                    !name.is_empty() && (has(&i.short_description, &name) || has(&i.location, &name))
                }
            });
            new && priority && site && f.incident.as_deref() != Some(i.sys_id.as_str())
        }
        ("plan", Event::PlanCommitted(p)) => {
            x.site.as_deref() == Some(p.destination.as_str())
                && x.item.as_deref().is_none_or(|it| p.movements.iter().any(|m| m.item_id.as_str() == it))
        }
        ("decision", Event::LogEntryAdded(l)) => {
            l.kind == "decision" && x.contains.as_deref().is_none_or(|c| has(&l.text, c))
        }
        _ => false,
    }
}

/// Expected, in French.
fn expected_text(x: &Expect) -> String {
    match x.what.as_str() {
        "acknowledged" => match &x.check {
            Some(c) => format!("acquitter {c}"),
            None => "prendre en compte l'incident".into(),
        },
        "incident" => format!(
            "ouvrir un incident{}{}",
            x.max_priority.map(|p| format!(" P{p} au plus")).unwrap_or_default(),
            x.site.as_deref().map(|s| format!(" pour {s}")).unwrap_or_default()
        ),
        "plan" => format!(
            "engager un plan vers {}{}",
            x.site.as_deref().unwrap_or("?"),
            x.item.as_deref().map(|i| format!(" avec {i}")).unwrap_or_default()
        ),
        _ => format!(
            "consigner une décision{}",
            x.contains.as_deref().map(|c| format!(" sur « {c} »")).unwrap_or_default()
        ),
    }
}

/// The after-action review from the sandbox's journal at `now`: each inject, what it expected, what was done and
/// when (exercise time), what was missed; the participants' actions in order. The direction's own events and
/// Vigie's (`system:…`) are not actions.
pub fn review(run: &Run, journal: &Journal, now: DateTime<Utc>) -> Result<Review, AppError> {
    let mut events = Vec::new();
    let mut after = run.base_seq;
    loop {
        let page = journal.read_after(after, 10_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        events.extend(page);
    }
    let participant = |e: &Envelope| e.actor.as_str() != run.director && !e.actor.as_str().starts_with("system:");
    // The state before each event is not kept; what `meets` needs of it (is an incident new) is read from the
    // sandbox's state now, whose timelines hold every version.
    let st = journal.state();
    let actions: Vec<ActionLine> = events
        .iter()
        .filter(|e| participant(e))
        .filter_map(|e| {
            action_of(e).map(|what| ActionLine {
                at: e.time,
                exercise_s: run.clock.at(e.time),
                actor: e.actor.to_string(),
                what,
            })
        })
        .collect();
    let mut injects = Vec::with_capacity(run.scenario.injects.len());
    for (i, inj) in run.scenario.injects.iter().enumerate() {
        let f = run.fired[i].as_ref();
        let mut r = InjectReview {
            id: inj.id.clone(),
            title: inj.title.clone(),
            planned_s: offset_s(&inj.at).unwrap_or(0),
            fired_s: f.map(|f| f.exercise_s),
            fired_at: f.map(|f| f.at),
            error: f.and_then(|f| f.error.clone()),
            expected: inj.expect.as_ref().map(expected_text),
            within_s: inj.expect.as_ref().and_then(|x| offset_s(&x.within)),
            done: false,
            response_s: None,
            on_time: false,
            by: None,
            what: None,
        };
        if let (Some(x), Some(f)) = (&inj.expect, f) {
            let hit = events.iter().filter(|e| e.seq > f.seq && participant(e)).find(|e| {
                // The incident a check inject's failure opened (Vigie's, for a critical application) counts as the
                // inject's own for an acknowledgement.
                meets(e, x, f, &st)
            });
            if let Some(e) = hit {
                let response = (run.clock.at(e.time) - f.exercise_s).max(0.0);
                r.done = true;
                r.response_s = Some((response * 10.0).round() / 10.0);
                r.on_time = r.within_s.is_none_or(|w| response <= w as f64);
                r.by = Some(e.actor.to_string());
                r.what = action_of(e);
            }
        }
        injects.push(r);
    }
    let expected = injects.iter().filter(|r| r.expected.is_some()).count();
    let done = injects.iter().filter(|r| r.done).count();
    let on_time = injects.iter().filter(|r| r.on_time).count();
    let missed = injects
        .iter()
        .filter(|r| r.expected.is_some() && !r.done)
        .map(|r| format!("{} — {}", r.title, r.expected.clone().unwrap_or_default()))
        .collect();
    Ok(Review {
        id: run.id.clone(),
        name: run.scenario.name.clone(),
        started: run.clock.started,
        ended: run.clock.ended,
        speed: run.clock.speed,
        elapsed_s: run.clock.at(now),
        injects,
        actions,
        expected,
        done,
        on_time,
        missed,
    })
}

/// `hh:mm:ss` of exercise seconds.
pub fn hms(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The review as a document (PDF, XLSX, CSV), marked EXERCICE.
pub fn review_document(r: &Review) -> vigie_export::Document {
    use vigie_export::{Cell, Column, Document, Row, Section};
    let paris = crate::reports::paris;
    let summary = format!(
        "{} action(s) attendue(s) sur {} faite(s), dont {} dans les temps{}.",
        r.done,
        r.expected,
        r.on_time,
        if r.missed.is_empty() { String::new() } else { format!(" ; manqué : {}", r.missed.join(" ; ")) }
    );
    let injects = Section {
        title: "Injects : attendu et fait".into(),
        sheet: "Injects".into(),
        notes: vec!["Temps d'exercice (hh:mm:ss) depuis le début ; réponse : de l'inject à l'action.".into()],
        columns: vec![
            Column::new("Inject", 14.0),
            Column::new("Prévu", 6.0),
            Column::new("Joué", 6.0),
            Column::new("Attendu", 20.0),
            Column::new("Délai", 6.0),
            Column::new("Fait", 5.0),
            Column::new("Réponse", 6.0),
            Column::new("Par", 10.0),
            Column::new("Action", 24.0),
        ],
        rows: r
            .injects
            .iter()
            .map(|i| Row {
                flagged: i.expected.is_some() && !i.on_time,
                cells: vec![
                    Cell::text(&i.title),
                    Cell::text(hms(i.planned_s as f64)),
                    i.fired_s.map_or(Cell::text("non joué"), |s| Cell::text(hms(s))),
                    Cell::text(i.expected.clone().unwrap_or_else(|| "—".into())),
                    i.within_s.map_or(Cell::Empty, |w| Cell::text(hms(w as f64))),
                    Cell::text(match (i.expected.is_some(), i.done, i.on_time) {
                        (false, _, _) => "",
                        (true, true, true) => "oui",
                        (true, true, false) => "en retard",
                        _ => "manqué",
                    }),
                    i.response_s.map_or(Cell::Empty, |s| Cell::text(hms(s))),
                    Cell::text(i.by.clone().unwrap_or_default().split('/').next().unwrap_or_default()),
                    Cell::text(
                        i.what
                            .clone()
                            .or_else(|| i.error.clone().map(|e| format!("non joué : {e}")))
                            .unwrap_or_default(),
                    ),
                ],
            })
            .collect(),
    };
    let timeline = Section {
        title: "Chronologie des actions des participants".into(),
        sheet: "Chronologie".into(),
        notes: vec![],
        columns: vec![
            Column::new("Temps", 6.0),
            Column::new("Heure", 10.0),
            Column::new("Par", 12.0),
            Column::new("Action", 50.0),
        ],
        rows: r
            .actions
            .iter()
            .map(|a| Row {
                flagged: false,
                cells: vec![
                    Cell::text(hms(a.exercise_s)),
                    Cell::text(paris(a.at)),
                    Cell::text(a.actor.split('/').next().unwrap_or_default()),
                    Cell::text(&a.what),
                ],
            })
            .collect(),
    };
    Document {
        title: format!("Retour d'expérience — {}", r.name),
        banner: Some("EXERCICE".into()),
        lines: vec![format!(
            "Exercice {} commencé le {}{}, vitesse ×{}, durée jouée {}.",
            r.id,
            paris(r.started),
            r.ended.map(|e| format!(", terminé le {}", paris(e))).unwrap_or_default(),
            r.speed,
            hms(r.elapsed_s)
        )],
        summary,
        sections: vec![injects, timeline],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_shipped_scenario_reads() {
        for (name, text) in SHIPPED {
            let s = Scenario::parse(text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(!s.injects.is_empty() && s.injects.iter().any(|i| i.expect.is_some()), "{name}");
        }
    }

    #[test]
    fn a_bad_scenario_is_refused_at_its_inject() {
        let bad = "name = \"x\"\n[[inject]]\nid = \"a\"\nat = \"1h\"\ntitle = \"t\"\nkind = \"message\"\ntext = \"m\"\n  [inject.expect]\n  what = \"cake\"\n  within = \"00:05\"\n";
        let Err(AppError::Invalid { problems, .. }) = Scenario::parse(bad) else { panic!("accepted") };
        let at: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(at, ["inject[0].at", "inject[0].expect.what"]);
        let Err(AppError::Invalid { message, .. }) = Scenario::parse("name = 3") else { panic!("accepted") };
        assert!(message.starts_with("scenario: line 1"), "{message}");
    }

    #[test]
    fn hostile_scenarios_are_refused_where_they_go_wrong() {
        let one = |inject: &str| format!("name = \"x\"\n[[inject]]\nid = \"a\"\ntitle = \"t\"\n{inject}\n");
        for (inject, field) in [
            ("at = \"00:01\"\nkind = \"spoil\"\nsite = \"S\"\nitem = \"I\"\nquantity = -100000", "inject[0].quantity"),
            ("at = \"5124095576030432:00\"\nkind = \"message\"\ntext = \"m\"", "inject[0].at"),
            ("at = \"169:00\"\nkind = \"message\"\ntext = \"m\"", "inject[0].at"),
            ("at = \"00:01\"\nkind = \"message\"\ntext = \"a\\uFFFFb\"", "inject[0].text"),
        ] {
            let Err(AppError::Invalid { problems, .. }) = Scenario::parse(&one(inject)) else {
                panic!("accepted: {inject}")
            };
            assert_eq!(problems[0].file, field, "{inject}");
        }
        let Err(AppError::Invalid { problems, .. }) = Scenario::parse("name = \"a\\u0007\"") else {
            panic!("accepted")
        };
        assert_eq!(problems[0].file, "name");
    }

    #[test]
    fn the_clock_runs_accelerated_and_stops_while_paused() {
        let start = t("2024-07-26T10:00:00Z");
        let mut c = Clock::new(start, 10.0);
        assert_eq!(c.at(start + Duration::seconds(30)), 300.0);
        c.pause(start + Duration::seconds(30));
        assert_eq!(c.at(start + Duration::seconds(90)), 300.0, "paused");
        c.resume(start + Duration::seconds(90));
        assert_eq!(c.at(start + Duration::seconds(100)), 400.0);
        c.set_speed(start + Duration::seconds(100), 1.0);
        assert_eq!(c.at(start + Duration::seconds(160)), 460.0, "the time run is kept at the new speed");
        c.ended = Some(start + Duration::seconds(200));
        assert_eq!(c.at(start + Duration::seconds(999)), 500.0);
    }

    #[test]
    fn injects_fall_due_at_their_instants_under_a_chosen_clock() {
        let s = Scenario::shipped("coupure-bercy").unwrap();
        let start = t("2024-07-26T10:00:00Z");
        let mut run = Run::new("EX-1".into(), Scenario { speed: 60.0, ..s }, start, 0, start, "d".into());
        // At 60×, one wall second is one exercise minute.
        assert_eq!(run.due(start + Duration::milliseconds(90)), [0], "5.4 s of exercise time: the opening");
        assert_eq!(run.due(start + Duration::seconds(1)), [0, 1]);
        run.fired[0] = Some(Fired { at: start, exercise_s: 5.0, seq: 0, incident: None, error: None });
        run.clock.pause(start + Duration::seconds(1));
        assert!(run.due(start + Duration::seconds(100)).is_empty(), "nothing fires while paused");
        run.clock.resume(start + Duration::seconds(100));
        assert_eq!(run.due(start + Duration::milliseconds(100_500)), [1, 2]);
        assert_eq!(run.due(start + Duration::seconds(118)), [1, 2, 3], "00:19 run: 00:05 passed, 00:20 not yet");
        assert_eq!(run.due(start + Duration::seconds(121)), [1, 2, 3, 4]);
    }

    #[test]
    fn tables_are_dated_on_the_exercise_day() {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 7, 26).unwrap();
        assert_eq!(dated("a,{today},{today+3},{today+x},{today", day), "a,2024-07-26,2024-07-29,{today+x},{today");
    }
}
