//! Incidents (ServiceNow's lifecycle, `vigie_incidents::incident`), the operations log, SLA breaches and the
//! outbound sync's records, as commands.
//!
//! One visibility rule, [`vigie_domain::access::View::incident`]: a partner sees and works only the incidents
//! assigned to its support group, as the incident is and as it would be after the change; deleting is for callers
//! who reach everything. Every field is bounded ([`crate::limits`]) before anything is decided.

use crate::{limits, AppError, Caller};
use chrono::{DateTime, Utc};
use vigie_domain::access::{Permission, Reach};
use vigie_domain::itsm::{Incident, IncidentDeleted, IncidentSynced, LogEntry, SlaBreached};
use vigie_domain::{Actor, Event, NewEvent, State};
use vigie_incidents::incident::{self, Changes};
use vigie_journal::Journal;

/// Fields a change may carry.
pub const MAX_FIELDS: usize = 64;
/// ServiceNow's length of a short description.
pub const MAX_SHORT_DESCRIPTION: usize = 160;

/// The fields that hold free text (descriptions, notes); every other field is a short text.
const FREE_TEXT: [&str; 7] =
    ["description", "close_notes", "work_notes", "comments", "u_review", "u_review_action", "u_crisis_lead"];

/// Bounds a change's fields.
fn bounded(fields: &Changes) -> Result<(), AppError> {
    if fields.len() > MAX_FIELDS {
        return Err(AppError::field("body", format!("at most {MAX_FIELDS} fields, found {}", fields.len())));
    }
    for (k, v) in fields {
        if k.len() > 80 {
            return Err(AppError::field("body", "a field name has at most 80 characters"));
        }
        if k == "short_description" && v.chars().count() > MAX_SHORT_DESCRIPTION {
            return Err(AppError::field(
                k,
                format!("at most {MAX_SHORT_DESCRIPTION} characters, found {}", v.chars().count()),
            ));
        }
        if FREE_TEXT.contains(&k.as_str()) {
            limits::free_text(k, v)?;
        } else {
            limits::name(k, v)?;
        }
    }
    Ok(())
}

fn outside(caller: &Caller) -> AppError {
    AppError::Forbidden(crate::Reason::new(
        "forbidden.assignment_group",
        [("who", caller.principal.name().to_string())],
        format!("{} works only the incidents assigned to its support group", caller.principal.name()),
    ))
}

fn hidden(sys_id: &str) -> AppError {
    // As ServiceNow's ACLs answer: a record the caller may not see does not exist for it.
    AppError::not_found("incident", sys_id)
}

/// A linked logistics plan must exist.
fn check_plan(st: &State, fields: &Changes) -> Result<(), AppError> {
    match fields.get("u_plan_id").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        Some(p) if !st.plans.contains_key(p) => Err(AppError::field("u_plan_id", format!("unknown plan {p}"))),
        _ => Ok(()),
    }
}

fn record(c: &Caller, i: Incident) -> (Vec<NewEvent>, Incident) {
    (vec![c.event(Event::IncidentRecorded(Box::new(i.clone())))], i)
}

/// Opens an incident from a client's fields; a partner's is assigned to its own group unless it says otherwise
/// (and it may not say another group).
pub fn create(journal: &Journal, caller: &Caller, mut fields: Changes) -> Result<Incident, AppError> {
    caller.need(Permission::IncidentsWrite)?;
    bounded(&fields)?;
    if let Reach::Partner(p) = &caller.principal.reach {
        let group = fields.entry("assignment_group".into()).or_default();
        if group.is_empty() {
            *group = p.to_string();
        }
    }
    let (c, sys_id, now) = (caller.clone(), crate::new_id(), Utc::now());
    let (_, i) = journal.execute(move |st| {
        check_plan(st, &fields)?;
        let by = c.actor().to_string();
        let i = incident::create(&fields, sys_id, st.last_incident_number + 1, now, &by)?;
        if !c.principal.view(st).incident(&i) {
            return Err(outside(&c));
        }
        Ok(record(&c, i))
    })?;
    Ok(i)
}

/// A partial update (`PUT`/`PATCH`): the incident as it is and as it would be must both be the caller's.
pub fn update(journal: &Journal, caller: &Caller, sys_id: &str, fields: Changes) -> Result<Incident, AppError> {
    caller.need(Permission::IncidentsWrite)?;
    bounded(&fields)?;
    let (c, sys_id, now) = (caller.clone(), sys_id.to_string(), Utc::now());
    let (_, i) = journal.execute(move |st| {
        let view = c.principal.view(st);
        let current = st.incidents.get(&sys_id).filter(|i| view.incident(&i.value)).ok_or_else(|| hidden(&sys_id))?;
        check_plan(st, &fields)?;
        let i = incident::update(&current.value, &fields, now, &c.actor().to_string())?;
        if !view.incident(&i) {
            return Err(outside(&c));
        }
        Ok(record(&c, i))
    })?;
    Ok(i)
}

/// Deletes an incident (callers who reach everything).
pub fn delete(journal: &Journal, caller: &Caller, sys_id: &str) -> Result<(), AppError> {
    caller.need_all(Permission::IncidentsWrite)?;
    let (c, sys_id) = (caller.clone(), sys_id.to_string());
    journal.execute(move |st| {
        let current = st.incidents.get(&sys_id).ok_or_else(|| hidden(&sys_id))?;
        let number = current.value.number.clone();
        Ok((vec![c.event(Event::IncidentDeleted(IncidentDeleted { sys_id, number }))], ()))
    })?;
    Ok(())
}

/// The kinds of an operations-log entry.
pub const LOG_KINDS: [&str; 4] = ["note", "decision", "handover", "signature"];

/// An entry of the operations log, as an operator writes it.
#[derive(Debug, Clone, Default)]
pub struct NewLogEntry {
    pub text: String,
    /// `note` (default), `decision`, `handover`.
    pub kind: Option<String>,
    /// An incident number it is about.
    pub incident: String,
    pub site: String,
    /// With `signature`: the shift whose hand-over the caller, leading the incoming shift, signs.
    pub handover_of: String,
}

/// Adds an entry to the current shift's operations log, by the caller (the TOC's own log: callers who reach
/// everything).
pub fn add_log_entry(
    journal: &Journal,
    caller: &Caller,
    e: NewLogEntry,
    now: DateTime<Utc>,
) -> Result<LogEntry, AppError> {
    caller.need_all(Permission::IncidentsWrite)?;
    let kind = e.kind.unwrap_or_else(|| "note".into());
    if !LOG_KINDS.contains(&kind.as_str()) {
        return Err(AppError::field(
            "kind",
            format!("expected note, decision, handover or signature, found {:?}", short(&kind)),
        ));
    }
    if kind == "signature" {
        let start = vigie_incidents::oplog::shift_start(&e.handover_of).ok_or_else(|| {
            AppError::field("handover_of", "the shift whose hand-over is signed, as `YYYY-MM-DD matin|après-midi|nuit`")
        })?;
        if start > now {
            return Err(AppError::field("handover_of", "a shift that has not begun cannot be handed over"));
        }
    } else if !e.handover_of.is_empty() {
        return Err(AppError::field("handover_of", "only a signature names the hand-over it signs"));
    }
    if e.text.trim().is_empty() {
        return Err(AppError::field("text", "an entry needs a text"));
    }
    limits::free_text("text", &e.text)?;
    limits::name("incident", &e.incident)?;
    limits::name("site", &e.site)?;
    let entry = LogEntry {
        id: crate::new_id(),
        at: now,
        shift: vigie_incidents::oplog::shift_of(now),
        by: caller.actor().to_string(),
        kind,
        text: e.text,
        incident: e.incident,
        site: e.site,
        handover_of: e.handover_of,
    };
    let c = caller.clone();
    let (_, entry) = journal.execute(move |st| {
        if !entry.incident.is_empty() && !st.incidents.values().any(|i| i.value.number == entry.incident) {
            return Err(AppError::not_found("incident", &entry.incident));
        }
        if !entry.site.is_empty() && !st.sites.contains_key(entry.site.as_str()) {
            return Err(AppError::not_found("site", &entry.site));
        }
        Ok((vec![c.event(Event::LogEntryAdded(entry.clone()))], entry))
    })?;
    Ok(entry)
}

fn short(t: &str) -> String {
    t.chars().take(40).collect()
}

/// Records the SLA breaches of `breaches(state)` (decided inside the command, so each is recorded once).
pub fn record_breaches(
    journal: &Journal,
    breaches: impl FnOnce(&State) -> Vec<SlaBreached> + Send + 'static,
) -> Result<usize, AppError> {
    let actor = Actor::system("sla");
    let (_, n) = journal.execute(move |st| {
        let events: Vec<NewEvent> = breaches(st)
            .into_iter()
            .map(|b| NewEvent {
                actor: actor.clone(),
                source: format!("sla:{}", b.number),
                event: Event::SlaBreached(b),
            })
            .collect();
        let n = events.len();
        Ok::<_, AppError>((events, n))
    })?;
    Ok(n)
}

/// Records that an incident version was pushed to the external ServiceNow.
pub fn record_synced(journal: &Journal, synced: IncidentSynced, source: String) -> Result<(), AppError> {
    journal.append(vec![NewEvent {
        actor: Actor::system("servicenow-sync"),
        source,
        event: Event::IncidentSynced(synced),
    }])?;
    Ok(())
}
