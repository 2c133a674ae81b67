//! Vigie's own view of incidents (`/api/v1/incidents`): the records with their SLA clocks and journals, for the
//! operations centres' screens. Writes go through the ServiceNow-compatible Table API (`servicenow.rs`).

use crate::access::Caller;
use crate::{ApiError, App};
use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vigie_domain::State;
use vigie_incidents::sla::{evaluate, Point, Stage, Targets};

fn sla(st: &State, sys_id: &str, targets: &Targets, now: i64) -> Value {
    let line: Vec<Point> = st
        .incident_timeline
        .get(sys_id)
        .map(|l| l.iter().map(|&(at, state, priority)| Point { at: at.timestamp_millis(), state, priority }).collect())
        .unwrap_or_default();
    json!(evaluate(&line, targets, now))
}

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    /// `open` (New, In Progress, On Hold; default), `all`.
    status: Option<String>,
    /// `breached`, `warning`: only incidents with a clock at that stage.
    sla: Option<String>,
}

/// `GET /api/v1/incidents`: incidents with their SLA clocks, most urgent first.
pub async fn list(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let all = match q.status.as_deref() {
        None | Some("open") => false,
        Some("all") => true,
        Some(other) => return Err(ApiError::BadRequest(format!("status: expected open or all, found {other:?}"))),
    };
    let want = match q.sla.as_deref() {
        None => None,
        Some("breached") => Some(Stage::Breached),
        Some("warning") => Some(Stage::Warning),
        Some(other) => return Err(ApiError::BadRequest(format!("sla: expected breached or warning, found {other:?}"))),
    };
    let now = chrono::Utc::now().timestamp_millis();
    let st = app.journal.state();
    let mut rows: Vec<(u8, String, Value)> = Vec::new();
    let view = caller.principal().view(&st);
    // A wall screen's account sees the major incidents' headlines, nothing more.
    let wall_only = !caller.principal().may(vigie_domain::access::Permission::IncidentsRead);
    for i in st.incidents.values().map(|s| &s.value).filter(|i| view.incident(i)) {
        if !all && !i.state.is_open() {
            continue;
        }
        if wall_only {
            if i.is_major() && i.state.is_open() {
                let headline = json!({"number": i.number, "priority": i.priority, "state": i.state,
                    "short_description": i.short_description, "location": i.location,
                    "major_incident_state": i.major_incident_state});
                rows.push((i.priority, i.number.clone(), json!({"incident": headline})));
            }
            continue;
        }
        let clocks = sla(&st, &i.sys_id, &app.sla, now);
        let stage_of = |k: &str| clocks[k]["stage"].as_str().unwrap_or("").to_string();
        if let Some(w) = want {
            let w = serde_json::to_value(w).unwrap_or_default();
            if stage_of("response") != w && stage_of("resolution") != w {
                continue;
            }
        }
        rows.push((i.priority, i.number.clone(), json!({"incident": i, "sla": clocks})));
    }
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(Json(json!({"incidents": rows.into_iter().map(|r| r.2).collect::<Vec<_>>()})))
}

/// An incident by number or sys_id, if the caller may see it (a partner: those assigned to its group).
fn find<'a>(
    st: &'a vigie_domain::State,
    caller: &Caller,
    id: &str,
) -> Result<&'a vigie_domain::state::Stamped<vigie_domain::itsm::Incident>, ApiError> {
    let i = st
        .incidents
        .get(id)
        .or_else(|| st.incidents.values().find(|s| s.value.number == id))
        .ok_or_else(|| ApiError::from(vigie_app::AppError::not_found("incident", id)))?;
    if !caller.principal().view(st).incident(&i.value) {
        return Err(ApiError::Forbidden(format!("incident {id} is not assigned to your support group").into()));
    }
    Ok(i)
}

/// `GET /api/v1/incidents/{number or sys_id}`.
pub async fn one(AxState(app): AxState<App>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let st = app.journal.state();
    let i = find(&st, &caller, &id)?;
    let timeline: Vec<Value> = st
        .incident_timeline
        .get(&i.value.sys_id)
        .map(|l| l.iter().map(|(at, s, p)| json!({"at": at, "state": s, "priority": p})).collect())
        .unwrap_or_default();
    Ok(Json(json!({"incident": i, "sla": sla(&st, &i.value.sys_id, &app.sla, now), "timeline": timeline})))
}

#[derive(Debug, Deserialize, Default)]
pub struct LogQuery {
    shift: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LogIn {
    text: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    incident: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    handover_of: String,
}

fn shift_or_now(q: &LogQuery) -> Result<String, ApiError> {
    match &q.shift {
        None => Ok(vigie_incidents::oplog::shift_of(chrono::Utc::now())),
        Some(s) if vigie_incidents::oplog::shift_start(s).is_some() => Ok(s.clone()),
        Some(s) => {
            Err(ApiError::BadRequest(format!("shift: expected `YYYY-MM-DD matin|après-midi|nuit`, found {s:?}")))
        }
    }
}

/// `GET /api/v1/log?shift=`: the operations log of a shift (default: the current one).
pub async fn log(AxState(app): AxState<App>, Query(q): Query<LogQuery>) -> Result<Json<Value>, ApiError> {
    let shift = shift_or_now(&q)?;
    let st = app.journal.state();
    let entries: Vec<&vigie_domain::itsm::LogEntry> = st.log.iter().filter(|e| e.shift == shift).collect();
    Ok(Json(json!({"shift": shift, "entries": entries})))
}

/// `POST /api/v1/log`: an entry by the operator on duty (the request's actor), in the current shift.
pub async fn add_log(
    AxState(app): AxState<App>,
    caller: Caller,
    b: Result<Json<LogIn>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = crate::access::body(b)?;
    let entry = vigie_app::incidents::NewLogEntry {
        text: b.text,
        kind: b.kind,
        incident: b.incident,
        site: b.site,
        handover_of: b.handover_of,
    };
    let now = chrono::Utc::now();
    let entry = app.blocking(move |j| Ok(vigie_app::incidents::add_log_entry(&j, &caller.0, entry, now)?)).await?;
    Ok(Json(json!({"entry": entry})))
}

/// `GET /api/v1/log/handover?shift=`: what the next shift inherits: open incidents, SLA breaches, pending actions,
/// the shift's log.
pub async fn handover(AxState(app): AxState<App>, Query(q): Query<LogQuery>) -> Result<Json<Value>, ApiError> {
    let shift = shift_or_now(&q)?;
    let now = chrono::Utc::now().timestamp_millis();
    let st = app.journal.state();
    let incidents: Vec<&vigie_domain::itsm::Incident> = st.incidents.values().map(|s| &s.value).collect();
    let breached = |i: &vigie_domain::itsm::Incident| {
        let clocks = sla(&st, &i.sys_id, &app.sla, now);
        ["response", "resolution"].iter().any(|k| clocks[*k]["stage"] == "breached")
    };
    let mut out = json!(vigie_incidents::oplog::handover(&shift, &incidents, &st.log, &breached));
    // Who hands over to whom at the shift's end, from the roster of the centre's own desks.
    if let Some(start) = vigie_incidents::oplog::shift_start(&shift) {
        out["reliefs"] = json!(vigie_app::oncall::reliefs(&st, start + chrono::Duration::hours(8)));
    }
    Ok(Json(out))
}

/// `GET /api/v1/incidents/{id}/timeline`: one timeline of the incident (the crisis view): state and priority
/// changes, work notes, comments, decisions and notes of the operations log about it, its attached alerts' state
/// changes, and its linked logistics plan's steps; in time order.
pub async fn timeline(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let st = app.journal.state();
    let i = &find(&st, &caller, &id)?.value;
    let mut rows: Vec<(chrono::DateTime<chrono::Utc>, Value)> = Vec::new();
    for (at, state, priority) in st.incident_timeline.get(&i.sys_id).into_iter().flatten() {
        rows.push((*at, json!({"at": at, "kind": "state", "state": state, "priority": priority})));
    }
    for n in &i.work_notes {
        rows.push((n.at, json!({"at": n.at, "kind": "work_note", "by": n.by, "text": n.text})));
    }
    for c in &i.comments {
        rows.push((c.at, json!({"at": c.at, "kind": "comment", "by": c.by, "text": c.text})));
    }
    for e in st.log.iter().filter(|e| e.incident == i.number) {
        rows.push((e.at, json!({"at": e.at, "kind": e.kind, "by": e.by, "text": e.text})));
    }
    for (_, c) in st.toc.history.iter().filter(|(_, c)| i.alerts.iter().any(|a| a == c.check_id.as_str())) {
        rows.push((
            c.at,
            json!({"at": c.at, "kind": "alert", "check": c.check_id, "from": c.from, "to": c.to, "text": c.output}),
        ));
    }
    // Who was told, when, by which channel, and where each message stands; who acknowledged.
    for e in st.oncall.outbox.values().filter(|e| e.notification.sys_id == i.sys_id) {
        if !vigie_app::notify::visible(&st, &caller.0, e) {
            continue; // another partner's people, told before a reassignment
        }
        let n = &e.notification;
        let person =
            st.oncall.people.get(&n.person_id).map_or_else(|| n.person_id.to_string(), |p| p.value.name.clone());
        rows.push((
            e.queued_at,
            json!({"at": e.queued_at, "kind": "notified", "person": person, "channel": n.channel, "level": n.level,
                   "why": n.why, "status": vigie_app::notify::state_of(e), "attempts": e.attempts}),
        ));
    }
    let acknowledged = st.oncall.acknowledged.get(&i.sys_id).map(|(at, by)| json!({"at": at, "by": by}));
    if let Some((at, by)) = st.oncall.acknowledged.get(&i.sys_id) {
        rows.push((*at, json!({"at": at, "kind": "acknowledged", "by": by})));
    }
    let plan = (!i.plan_id.is_empty()).then(|| st.plans.get(i.plan_id.as_str()).map(|p| &p.value)).flatten();
    if let Some(p) = plan {
        for (at, step) in [
            (Some(p.committed_at), "committed"),
            (p.shipped_at, "shipped"),
            (p.received_at, "received"),
            (p.cancelled_at, "cancelled"),
        ] {
            if let Some(at) = at {
                rows.push((at, json!({"at": at, "kind": "plan", "plan": i.plan_id, "step": step})));
            }
        }
    }
    rows.sort_by_key(|r| r.0);
    Ok(Json(json!({
        "number": i.number,
        "acknowledged": acknowledged,
        "major_incident_state": i.major_incident_state,
        "crisis_lead": i.crisis_lead,
        "communication_lead": i.communication_lead,
        "plan": plan,
        "review": {"summary": i.review_summary, "actions": i.review_actions},
        "timeline": rows.into_iter().map(|r| r.1).collect::<Vec<_>>(),
    })))
}

/// The breaches to record now: clocks of incidents past their target and not yet recorded.
pub fn new_breaches(st: &State, targets: &Targets, now: i64) -> Vec<vigie_domain::itsm::SlaBreached> {
    let mut out = Vec::new();
    for i in st.incidents.values().map(|s| &s.value) {
        let clocks = sla(st, &i.sys_id, targets, now);
        for clock in ["response", "resolution"] {
            let Some(at) = clocks[clock]["breached_at"].as_i64() else { continue };
            if st.sla_breaches.contains_key(&(i.sys_id.clone(), clock.to_string())) {
                continue;
            }
            out.push(vigie_domain::itsm::SlaBreached {
                sys_id: i.sys_id.clone(),
                number: i.number.clone(),
                clock: clock.to_string(),
                at: chrono::DateTime::from_timestamp_millis(at).unwrap_or_default(),
                priority: i.priority,
            });
        }
    }
    out
}

/// Records SLA breaches as they happen (every 5 seconds), until shutdown.
pub async fn sla_loop(app: App) {
    let mut every = crate::Every::new(&app, std::time::Duration::from_secs(5));
    while every.next().await {
        if !app.journal.role().writes() {
            continue; // the leader records breaches
        }
        let targets = app.sla.clone();
        // Decided inside the journal command, so that a breach is recorded once.
        let r = app
            .blocking(move |j| {
                Ok(vigie_app::incidents::record_breaches(&j, move |st| {
                    new_breaches(st, &targets, chrono::Utc::now().timestamp_millis())
                })?)
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "SLA breaches not recorded");
        }
    }
}

/// `POST /api/v1/incidents/{id}/acknowledge`: the caller takes the incident in hand; escalation stops. Also says who
/// was told, when and how.
pub async fn acknowledge(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let sys_id = find(&app.journal.state(), &caller, &id)?.value.sys_id.clone();
    let c = caller.0.clone();
    let s = sys_id.clone();
    let done = app.blocking(move |j| Ok(vigie_app::notify::acknowledge(&j, &c, &s, "api")?)).await?;
    Ok(Json(json!({"sys_id": sys_id, "acknowledged": done})))
}

/// `GET /api/v1/incidents/{id}/notifications`: who was told of an incident, when, by which channel, where each
/// message stands, and who acknowledged.
pub async fn notifications(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let st = app.journal.state();
    let i = find(&st, &caller, &id)?;
    let items: Vec<&vigie_domain::notify::OutboxEntry> = st
        .oncall
        .outbox
        .values()
        .filter(|e| e.notification.sys_id == i.value.sys_id && vigie_app::notify::visible(&st, &caller.0, e))
        .collect();
    let ack = st.oncall.acknowledged.get(&i.value.sys_id).map(|(at, by)| json!({"at": at, "by": by}));
    Ok(Json(json!({"items": items, "acknowledged": ack})))
}
