//! The incident's lifecycle, as ServiceNow defines its states and priority, with a clear error for what may not be.
//!
//! - States: 1 New, 2 In Progress, 3 On Hold (needs a `hold_reason`), 6 Resolved (needs `close_code` and
//!   `close_notes`; sets `resolved_at`), 7 Closed (the same; sets `closed_at`), 8 Canceled. Closed and Canceled
//!   incidents are final: only work notes and comments may still be added. Leaving Resolved clears `resolved_at`
//!   (reopened); leaving On Hold clears `hold_reason`.
//! - Priority follows the impact × urgency matrix unless the change sets it (it is editable).
//! - `sys_mod_count` in a change is an optimistic lock: it must equal the record's, else the change is refused.
//! - `work_notes` and `comments` are append-only journals: a value adds an entry.
//! - Read-only fields (`sys_id`, `number`, `opened_at`, `resolved_at`, `closed_at`, `sys_…`) and unknown fields are
//!   ignored, as ServiceNow does.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use vigie_domain::itsm::{Entry, Incident, IncidentState, ReviewAction};

/// Field → value as text (JSON numbers and booleans as their text).
pub type Changes = BTreeMap<String, String>;

const HOLD_REASONS: [&str; 5] =
    ["Awaiting Caller", "Awaiting Change", "Awaiting Problem", "Awaiting Vendor", "Awaiting Evidence"];

/// ServiceNow's default priority matrix: impact and urgency 1 (high) to 3 (low) → priority 1 (critical) to 5.
pub fn priority(impact: u8, urgency: u8) -> u8 {
    match (impact, urgency) {
        (1, 1) => 1,
        (1, 2) | (2, 1) => 2,
        (1, 3) | (2, 2) | (3, 1) => 3,
        (2, 3) | (3, 2) => 4,
        _ => 5,
    }
}

/// The display value of a coded field, as `sysparm_display_value=true` shows it.
pub fn display(field: &str, value: &str) -> Option<String> {
    let code: u8 = value.parse().ok()?;
    Some(match field {
        "state" | "incident_state" => IncidentState::from_code(code)?.label().to_string(),
        "impact" | "urgency" => format!("{code} - {}", ["High", "Medium", "Low"].get(code as usize - 1)?),
        "priority" => {
            format!("{code} - {}", ["Critical", "High", "Moderate", "Low", "Planning"].get(code as usize - 1)?)
        }
        "hold_reason" => HOLD_REASONS.get(code as usize - 1)?.to_string(),
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("the record changed since it was read (sys_mod_count {current}, the change says {given})")]
    Conflict { current: u32, given: String },
    #[error("{number} is {state}: only work notes and comments may be added")]
    Final { number: String, state: &'static str },
}

fn invalid(field: &str, message: impl Into<String>) -> IncidentError {
    IncidentError::Invalid { field: field.into(), message: message.into() }
}

/// A state by its number or its label (`2`, `In Progress`).
fn state(v: &str) -> Result<IncidentState, IncidentError> {
    let t = v.trim();
    let by_label = IncidentState::ALL.into_iter().find(|s| s.label().eq_ignore_ascii_case(t));
    by_label.or_else(|| t.parse::<u8>().ok().and_then(IncidentState::from_code)).ok_or_else(|| {
        invalid("state", format!("expected one of 1, 2, 3, 6, 7, 8 (or their labels), found {:?}", short(t)))
    })
}

/// A value shown in a message: at most 80 characters.
fn short(t: &str) -> String {
    let mut s: String = t.chars().take(80).collect();
    if s.len() < t.len() {
        s.push('…');
    }
    s
}

fn code(field: &str, v: &str, allowed: &[u8]) -> Result<u8, IncidentError> {
    let t = v.trim();
    match t.parse::<u8>().ok() {
        Some(c) if allowed.contains(&c) => Ok(c),
        _ => Err(invalid(
            field,
            format!(
                "expected one of {}, found {:?}",
                allowed.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
                short(t)
            ),
        )),
    }
}

/// Opens an incident from a client's fields.
pub fn create(
    changes: &Changes,
    sys_id: String,
    number: u64,
    now: DateTime<Utc>,
    by: &str,
) -> Result<Incident, IncidentError> {
    let blank = Incident {
        sys_id,
        number: format!("INC{number:07}"),
        short_description: String::new(),
        description: String::new(),
        state: IncidentState::New,
        hold_reason: String::new(),
        impact: 3,
        urgency: 3,
        priority: 5,
        category: String::new(),
        assignment_group: String::new(),
        assigned_to: String::new(),
        caller_id: String::new(),
        cmdb_ci: String::new(),
        location: String::new(),
        parent_incident: String::new(),
        correlation_id: String::new(),
        alerts: Vec::new(),
        major_incident_state: String::new(),
        crisis_lead: String::new(),
        communication_lead: String::new(),
        plan_id: String::new(),
        review_summary: String::new(),
        review_actions: Vec::new(),
        close_code: String::new(),
        close_notes: String::new(),
        opened_at: now,
        resolved_at: None,
        closed_at: None,
        sys_mod_count: 0,
        sys_created_on: now,
        sys_created_by: by.to_string(),
        sys_updated_on: now,
        sys_updated_by: by.to_string(),
        work_notes: Vec::new(),
        comments: Vec::new(),
    };
    let mut i = apply(&blank, changes, now, by, true)?;
    if i.short_description.trim().is_empty() {
        return Err(invalid("short_description", "required to open an incident"));
    }
    i.sys_mod_count = 0;
    Ok(i)
}

/// Applies a client's change to an incident.
pub fn update(current: &Incident, changes: &Changes, now: DateTime<Utc>, by: &str) -> Result<Incident, IncidentError> {
    if let Some(given) = changes.get("sys_mod_count") {
        if given.trim().parse::<u32>().ok() != Some(current.sys_mod_count) {
            return Err(IncidentError::Conflict { current: current.sys_mod_count, given: given.clone() });
        }
    }
    apply(current, changes, now, by, false)
}

fn apply(
    current: &Incident,
    changes: &Changes,
    now: DateTime<Utc>,
    by: &str,
    new: bool,
) -> Result<Incident, IncidentError> {
    let mut i = current.clone();
    let journal_only = changes.keys().all(|k| matches!(k.as_str(), "work_notes" | "comments" | "sys_mod_count"));
    if !new && i.state.is_final() && !journal_only {
        return Err(IncidentError::Final { number: i.number.clone(), state: i.state.label() });
    }
    let mut priority_set = false;
    for (field, value) in changes {
        let text = value.clone();
        match field.as_str() {
            "short_description" => i.short_description = text,
            "description" => i.description = text,
            "category" => i.category = text,
            "assignment_group" => i.assignment_group = text,
            "assigned_to" => i.assigned_to = text,
            "caller_id" => i.caller_id = text,
            "cmdb_ci" => i.cmdb_ci = text,
            "location" => i.location = text,
            "parent_incident" => i.parent_incident = text,
            "correlation_id" => i.correlation_id = text,
            "u_crisis_lead" => i.crisis_lead = text,
            "u_communication_lead" => i.communication_lead = text,
            "u_plan_id" => i.plan_id = text,
            "u_review" => i.review_summary = text,
            "major_incident_state" => {
                let to = text.trim().to_ascii_lowercase();
                let from = i.major_incident_state.as_str();
                let allowed = matches!(
                    (from, to.as_str()),
                    ("", "proposed") | ("proposed", "accepted") | ("proposed", "rejected") | ("rejected", "proposed")
                ) || from == to;
                if !allowed {
                    let from = if from.is_empty() { "none" } else { from };
                    return Err(invalid(
                        "major_incident_state",
                        format!("cannot go from {from} to {to:?} (none → proposed → accepted or rejected)"),
                    ));
                }
                i.major_incident_state = to;
            }
            "u_review_action" if !value.trim().is_empty() => {
                let (owner, what) = value.split_once(':').map_or(("", value.as_str()), |(o, t)| (o.trim(), t.trim()));
                i.review_actions.push(ReviewAction { text: what.to_string(), owner: owner.to_string(), done: false });
            }
            "u_review_action_done" => {
                let n: usize = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid("u_review_action_done", "expected an action number, from 1"))?;
                let a = i.review_actions.get_mut(n.wrapping_sub(1)).ok_or_else(|| {
                    invalid(
                        "u_review_action_done",
                        format!("no action {n} (there are {})", current.review_actions.len()),
                    )
                })?;
                a.done = true;
            }
            "close_code" => i.close_code = text,
            "close_notes" => i.close_notes = text,
            "state" => i.state = state(value)?,
            "hold_reason" if value.trim().is_empty() => i.hold_reason.clear(),
            "hold_reason" => i.hold_reason = code("hold_reason", value, &[1, 2, 3, 4, 5])?.to_string(),
            "impact" => i.impact = code("impact", value, &[1, 2, 3])?,
            "urgency" => i.urgency = code("urgency", value, &[1, 2, 3])?,
            "priority" => {
                i.priority = code("priority", value, &[1, 2, 3, 4, 5])?;
                priority_set = true;
            }
            "work_notes" | "comments" if value.trim().is_empty() => {}
            "work_notes" => i.work_notes.push(Entry { at: now, by: by.to_string(), text }),
            "comments" => i.comments.push(Entry { at: now, by: by.to_string(), text }),
            _ => {} // read-only or unknown: ignored, as ServiceNow does
        }
    }
    let matrix_moved = changes.contains_key("impact") || changes.contains_key("urgency");
    if !priority_set && (matrix_moved || new) {
        i.priority = priority(i.impact, i.urgency);
    }
    // A crisis is accepted with its lead, and is top priority.
    if i.major_incident_state == "accepted" && current.major_incident_state != "accepted" {
        if i.crisis_lead.trim().is_empty() {
            return Err(invalid("u_crisis_lead", "required to accept a major incident (who leads the crisis cell)"));
        }
        if !priority_set {
            i.priority = 1;
        }
    }
    // The state's conditions and stamps.
    use IncidentState::*;
    if i.state == OnHold && i.hold_reason.is_empty() {
        return Err(invalid(
            "hold_reason",
            "required to put an incident On Hold (1 Awaiting Caller … 5 Awaiting Evidence)",
        ));
    }
    if i.state != OnHold {
        i.hold_reason.clear();
    }
    if matches!(i.state, Resolved | Closed) {
        for f in ["close_code", "close_notes"] {
            let v = if f == "close_code" { &i.close_code } else { &i.close_notes };
            if v.trim().is_empty() {
                let to = if i.state == Resolved { "resolve" } else { "close" };
                return Err(invalid(f, format!("required to {to} an incident")));
            }
        }
        if i.resolved_at.is_none() {
            i.resolved_at = Some(now);
        }
        if i.state == Closed && i.closed_at.is_none() {
            i.closed_at = Some(now);
        }
    } else {
        i.resolved_at = None;
    }
    if i.state == Canceled && i.closed_at.is_none() {
        i.closed_at = Some(now);
    }
    i.sys_mod_count = current.sys_mod_count + 1;
    i.sys_updated_on = now;
    i.sys_updated_by = by.to_string();
    Ok(i)
}
