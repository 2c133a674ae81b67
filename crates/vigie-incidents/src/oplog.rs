//! The operations log (main courante): entries by the operator on duty, in 3×8 shifts (Europe/Paris: morning
//! 06:00–14:00, afternoon 14:00–22:00, night 22:00–06:00, the night named after the day it starts), and the
//! hand-over that lists what the next shift inherits.

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use serde::Serialize;
use vigie_domain::itsm::{Incident, IncidentState, LogEntry};

/// The shift of an instant: `2024-07-26 matin`, `2024-07-26 après-midi`, `2024-07-26 nuit` (until 06:00 the next
/// day).
pub fn shift_of(at: DateTime<Utc>) -> String {
    let local = vigie_domain::paris::to_local(at);
    let h = local.hour();
    let (day, name) = match h {
        6..=13 => (local.date(), "matin"),
        14..=21 => (local.date(), "après-midi"),
        22..=23 => (local.date(), "nuit"),
        _ => (local.date() - Duration::days(1), "nuit"),
    };
    format!("{} {name}", day.format("%Y-%m-%d"))
}

/// When a shift starts, in UTC (`None` for a name that is no shift).
pub fn shift_start(shift: &str) -> Option<DateTime<Utc>> {
    let (day, name) = shift.split_once(' ')?;
    let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let hour = match name {
        "matin" => 6,
        "après-midi" => 14,
        "nuit" => 22,
        _ => return None,
    };
    Some(vigie_domain::paris::from_local(day.and_time(NaiveTime::from_hms_opt(hour, 0, 0)?)))
}

/// What the next shift inherits.
#[derive(Debug, Clone, Serialize)]
pub struct Handover {
    pub shift: String,
    /// Open incidents (New, In Progress, On Hold), most urgent first.
    pub open_incidents: Vec<HandoverIncident>,
    /// Open incidents with a breached SLA clock.
    pub breaches: Vec<String>,
    /// Pending actions: incidents whose alerts have all recovered (resolution proposed), On Hold ones.
    pub pending_actions: Vec<String>,
    /// The shift's log, in order.
    pub entries: Vec<LogEntry>,
    /// Who wrote in the shift's log (the outgoing team), in order of first entry.
    pub outgoing: Vec<String>,
    /// The incoming lead's signatures of this hand-over (journalled log entries of kind `signature`), oldest first.
    pub signatures: Vec<LogEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HandoverIncident {
    pub number: String,
    pub priority: u8,
    pub state: IncidentState,
    pub short_description: String,
    pub assignment_group: String,
}

/// The hand-over of `shift`: `breached(incident)` says whether an SLA clock of it is breached.
pub fn handover(
    shift: &str,
    incidents: &[&Incident],
    log: &[LogEntry],
    breached: &dyn Fn(&Incident) -> bool,
) -> Handover {
    let mut open: Vec<&&Incident> = incidents.iter().filter(|i| i.state.is_open()).collect();
    open.sort_by(|a, b| (a.priority, &a.number).cmp(&(b.priority, &b.number)));
    let breaches = open.iter().filter(|i| breached(i)).map(|i| i.number.clone()).collect();
    let mut pending = Vec::new();
    for i in &open {
        if i.work_notes.last().is_some_and(|n| n.text.ends_with("résolution proposée.")) {
            pending.push(format!("{} : résolution proposée, à clore avec un code de clôture", i.number));
        }
        if i.state == IncidentState::OnHold {
            pending.push(format!("{} : en attente (motif {}), à relancer", i.number, i.hold_reason));
        }
    }
    Handover {
        shift: shift.to_string(),
        open_incidents: open
            .iter()
            .map(|i| HandoverIncident {
                number: i.number.clone(),
                priority: i.priority,
                state: i.state,
                short_description: i.short_description.clone(),
                assignment_group: i.assignment_group.clone(),
            })
            .collect(),
        breaches,
        pending_actions: pending,
        entries: log.iter().filter(|e| e.shift == shift && e.kind != "signature").cloned().collect(),
        outgoing: log.iter().filter(|e| e.shift == shift && e.kind != "signature").fold(Vec::new(), |mut v, e| {
            if !v.contains(&e.by) {
                v.push(e.by.clone());
            }
            v
        }),
        signatures: log.iter().filter(|e| e.kind == "signature" && e.handover_of == shift).cloned().collect(),
    }
}
