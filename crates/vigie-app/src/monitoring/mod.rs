//! The TOC's commands: results in (pushed, from Alertmanager, from active checks), time passing, acknowledgements,
//! maintenance windows; and the incidents alerts open, decided with the state changes that raise them.
//!
//! **The live estate follows the journal.** Raw results move the live estate only; a result that changes a hard
//! state is kept from readers until its change (and the incidents it opens) are durable: the live lock is held from
//! the ingestion to the journal's answer, and if the journal refuses or fails, the touched checks are put back as
//! they were. No screen, stream or incident ever shows a state change the journal did not accept.
//!
//! Lock order: the live estate's lock, then the journal's state; a journal command never takes the live lock
//! (what it needs of the live estate is computed before).

pub mod live;

use crate::{limits, AppError, Caller};
use live::{Inner, Live, LiveChange, Result1};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use vigie_domain::access::Permission;
use vigie_domain::health::{Shown, Status};
use vigie_domain::toc::{CheckAcknowledged, Criticality, MaintenanceWindow, WindowCancelled, WindowScope};
use vigie_domain::{Actor, CheckId, Event, NewEvent, State, WindowId};
use vigie_incidents::alerts::AlertChange;
use vigie_journal::Journal;
use vigie_monitor::Millis;

/// What an ingestion took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    pub accepted: usize,
    /// Hard state changes journalled.
    pub state_changes: usize,
}

/// Takes results: moves the live estate, journals the hard changes with the incidents they open, then tells the
/// screens. On any failure the checks are put back and nothing is shown. `resolve` turns the caller's input into
/// results under the live lock (so that the slots it names are those of the estate that takes them).
pub fn ingest(
    journal: &Journal,
    live: &Live,
    caller: &Caller,
    resolve: impl FnOnce(&Inner) -> Result<Vec<Result1>, AppError>,
) -> Result<Ingested, AppError> {
    caller.need(Permission::MonitoringWrite)?;
    let mut g = live.lock_synced(journal, live::now_ms());
    let results = resolve(&g)?;
    let results = results.as_slice();
    if !caller.principal.view(&journal.state()).is_all() {
        // A scoped caller pushes only for the checks it reaches.
        let st = journal.state();
        let view = caller.principal.view(&st);
        if let Some(r) = results.iter().find(|r| !view.check(&st, &g.estate.def(r.slot).id)) {
            let check = g.estate.def(r.slot).id.to_string();
            return Err(AppError::Forbidden(crate::Reason::new(
                "forbidden.check",
                [("check", check.clone())],
                format!("check {check} is outside your reach"),
            )));
        }
    }
    let undo = g.undo_point(results.iter().map(|r| r.slot));
    let (events, changes) = g.ingest(results, caller.actor(), &caller.source);
    live.count(results.len(), events.len());
    let n = events.len();
    commit_under(journal, live, g, undo, events, changes)?;
    Ok(Ingested { accepted: results.len(), state_changes: n })
}

/// Time passes: staleness, maintenance windows opening and closing.
pub fn tick(journal: &Journal, live: &Live, now: Millis) -> Result<usize, AppError> {
    let mut g = live.lock_synced(journal, now);
    // Time touches any number of checks: on failure the estate is rebuilt from the journal instead.
    let undo = live::Undo::FromJournal;
    let (events, changes) = g.tick(now, &Actor::system("monitoring"));
    live.count(0, events.len());
    let n = events.len();
    commit_under(journal, live, g, undo, events, changes)?;
    Ok(n)
}

/// Journals `events` (and the incidents their alerts open) while the live lock `g` is held; on success the screens
/// hear of `changes`, on failure the checks are put back.
fn commit_under(
    journal: &Journal,
    live: &Live,
    mut g: std::sync::MutexGuard<'_, Inner>,
    undo: live::Undo,
    events: Vec<NewEvent>,
    changes: Vec<Arc<LiveChange>>,
) -> Result<(), AppError> {
    if events.is_empty() {
        drop(g);
        live.broadcast(changes);
        return Ok(());
    }
    let alerts = alert_changes(&g, &journal.state(), &events, &changes);
    let ok = ok_checks(&g, &journal.state(), &alerts);
    let written = journal.execute(move |st| {
        let mut all = events;
        all.extend(alert_incidents(st, &alerts, &ok));
        Ok::<_, AppError>((all, ()))
    });
    match written {
        Ok(_) => {
            drop(g);
            live.broadcast(changes);
            Ok(())
        }
        Err(e) => {
            g.undo(undo, &journal.state(), live::now_ms());
            Err(e.into())
        }
    }
}

/// What the incident rules need of the hard changes among `events`, and of checks that were hidden behind a failed
/// dependency and now show their own failure (UNREACHABLE → CRITICAL) (docs/incidents.md).
fn alert_changes(g: &Inner, st: &State, events: &[NewEvent], shown: &[Arc<LiveChange>]) -> Vec<AlertChange> {
    struct Raw<'a> {
        check: &'a str,
        to: Status,
        at: chrono::DateTime<chrono::Utc>,
        output: &'a str,
        during_maintenance: bool,
    }
    let hard: Vec<Raw> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::CheckStateChanged(c) if c.from != c.to => Some(Raw {
                check: c.check_id.as_str(),
                to: c.to,
                at: c.at,
                output: &c.output,
                during_maintenance: c.during_maintenance,
            }),
            _ => None,
        })
        .collect();
    let seen: HashSet<&str> = hard.iter().map(|r| r.check).collect();
    let revealed = shown
        .iter()
        .filter(|c| c.from == Shown::Unreachable && c.to == Shown::Critical && !seen.contains(&*c.check_id))
        .map(|c| Raw {
            check: &c.check_id,
            to: Status::Critical,
            at: c.at,
            output: &c.output,
            during_maintenance: false,
        });
    hard.into_iter()
        .chain(revealed)
        .filter_map(|c| {
            let slot = g.estate.slot(c.check)?;
            let site_id = g.site_of(slot).map(|s| s.to_string());
            let app = g.application_of(slot).map(|a| a.0.to_string());
            let app_rec = app
                .as_deref()
                .and_then(|a| vigie_domain::ApplicationId::parse(a).ok())
                .and_then(|a| st.toc.applications.get(&a))
                .map(|a| &a.value);
            let site_name = site_id
                .as_deref()
                .and_then(|s| st.sites.get(s).map(|r| r.value.name.clone()))
                .unwrap_or_else(|| site_id.clone().unwrap_or_default());
            Some(AlertChange {
                check_id: c.check.to_string(),
                site_id,
                site_name,
                application_name: app_rec.map_or_else(|| app.clone().unwrap_or_default(), |a| a.name.clone()),
                critical: app_rec.is_some_and(|a| a.criticality == Criticality::Critical),
                partner: app_rec.and_then(|a| a.partner_id.as_ref()).map(|p| p.to_string()),
                application_id: app,
                to: c.to,
                unreachable: g.estate.shown(slot) == Shown::Unreachable,
                during_maintenance: c.during_maintenance,
                output: c.output.split(" | ").next().unwrap_or("").to_string(),
                at: c.at,
            })
        })
        .collect()
}

/// Whether each check the incident rules may ask about is OK now: the alerts' own, and those attached to the open
/// incidents of their keys.
fn ok_checks(g: &Inner, st: &State, alerts: &[AlertChange]) -> HashMap<String, bool> {
    let keys: HashSet<String> = alerts.iter().filter_map(vigie_incidents::alerts::key).collect();
    let mut ids: HashSet<&str> = alerts.iter().map(|a| a.check_id.as_str()).collect();
    for i in st.incidents.values().map(|s| &s.value) {
        if i.state.is_open() && keys.contains(&i.correlation_id) {
            ids.extend(i.alerts.iter().map(|a| a.as_str()));
        }
    }
    ids.into_iter()
        .map(|c| (c.to_string(), g.estate.slot(c).is_some_and(|s| g.estate.state(s).hard == Status::Ok)))
        .collect()
}

/// The incident versions the alerts open or touch, decided on the journal's state.
fn alert_incidents(st: &State, alerts: &[AlertChange], ok: &HashMap<String, bool>) -> Vec<NewEvent> {
    if alerts.is_empty() {
        return Vec::new();
    }
    let open = |key: &str| {
        st.incidents.values().map(|s| &s.value).find(|i| i.correlation_id == key && i.state.is_open()).cloned()
    };
    let ok = |check: &str| ok.get(check).copied().unwrap_or(false);
    let mut sys_id = crate::new_id;
    let actor = Actor::system("supervision");
    vigie_incidents::alerts::decide(alerts, &open, &ok, st.last_incident_number, &mut sys_id, actor.as_str())
        .into_iter()
        .map(|i| NewEvent {
            actor: actor.clone(),
            source: format!("alert:{}", i.correlation_id),
            event: Event::IncidentRecorded(Box::new(i)),
        })
        .collect()
}

fn find_check(g: &Inner, caller: &Caller, journal: &Journal, id: &str) -> Result<u32, AppError> {
    let slot = g.estate.slot(id).ok_or_else(|| AppError::not_found("check", id))?;
    let st = journal.state();
    if !caller.principal.view(&st).check(&st, id) {
        return Err(AppError::not_found("check", id));
    }
    Ok(slot)
}

/// Acknowledges a check's hard problem (it stays failed, but is known): journalled, then shown.
pub fn acknowledge(journal: &Journal, live: &Live, caller: &Caller, id: &str, comment: String) -> Result<(), AppError> {
    caller.need(Permission::MonitoringWrite)?;
    limits::free_text("comment", &comment)?;
    let mut g = live.lock_synced(journal, live::now_ms());
    let slot = find_check(&g, caller, journal, id)?;
    let check_id = CheckId::parse(id).map_err(|_| AppError::not_found("check", id))?;
    let undo = g.undo_point(std::iter::once(slot));
    if !g.estate.acknowledge(slot) {
        return Err(AppError::Conflict(crate::Reason::new(
            "conflict.nothing_to_acknowledge",
            [("check", id.to_string())],
            format!("check {id} has no hard problem to acknowledge"),
        )));
    }
    let event = caller.event(Event::CheckAcknowledged(CheckAcknowledged { check_id, comment }));
    commit_under(journal, live, g, undo, vec![event], Vec::new())
}

/// Schedules (or replaces, by id) a maintenance window, then brings the live estate to it.
pub fn schedule_window(journal: &Journal, live: &Live, caller: &Caller, w: MaintenanceWindow) -> Result<(), AppError> {
    caller.need_all(Permission::MonitoringWrite)?;
    limits::free_text("reason", &w.reason)?;
    if w.ends_at <= w.starts_at {
        return Err(AppError::field("ends_at", "must be after starts_at"));
    }
    if w.every_hours == Some(0) {
        return Err(AppError::field("every_hours", "must be at least 1"));
    }
    let c = caller.clone();
    journal.execute(move |st| {
        let known = match &w.scope {
            WindowScope::Site(s) => st.sites.contains_key(s.as_str()),
            WindowScope::Application(a) => st.toc.applications.contains_key(a.as_str()),
            WindowScope::Asset(a) => st.toc.assets.contains_key(a.as_str()),
            WindowScope::Check(k) => st.toc.checks.contains_key(k.as_str()),
            WindowScope::Tag(_) => true,
        };
        if !known {
            return Err(AppError::NotFound { what: format!("{} of the window's scope", scope_name(&w.scope)).into() });
        }
        Ok((vec![c.event(Event::MaintenanceScheduled(w))], ()))
    })?;
    registry_changed(journal, live);
    Ok(())
}

fn scope_name(s: &WindowScope) -> String {
    match s {
        WindowScope::Site(x) => format!("site {x}"),
        WindowScope::Application(x) => format!("application {x}"),
        WindowScope::Asset(x) => format!("asset {x}"),
        WindowScope::Check(x) => format!("check {x}"),
        WindowScope::Tag(x) => format!("tag {x}"),
    }
}

/// Cancels a maintenance window, then brings the live estate to it.
pub fn cancel_window(journal: &Journal, live: &Live, caller: &Caller, id: &str) -> Result<(), AppError> {
    caller.need_all(Permission::MonitoringWrite)?;
    let wid = WindowId::parse(id).map_err(|_| AppError::not_found("window", id))?;
    let c = caller.clone();
    journal.execute(move |st| {
        if !st.toc.windows.contains_key(&wid) {
            return Err(AppError::not_found("window", wid));
        }
        Ok((vec![c.event(Event::MaintenanceCancelled(WindowCancelled { id: wid }))], ()))
    })?;
    registry_changed(journal, live);
    Ok(())
}

/// After a registry change: rebuild the live estate now and announce what that changed on screens.
pub fn registry_changed(journal: &Journal, live: &Live) {
    let changes = live.rebuild_and_diff(journal, live::now_ms());
    live.broadcast(changes);
}
