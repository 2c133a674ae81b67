//! Vigie's own view of incidents (`/api/v1/incidents`): the records with their SLA clocks and journals, for the
//! operations centres' screens. Writes go through the ServiceNow-compatible Table API (`servicenow.rs`).

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
pub async fn list(AxState(app): AxState<App>, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
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
    for i in st.incidents.values().map(|s| &s.value) {
        if !all && !matches!(i.state, 1..=3) {
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

/// `GET /api/v1/incidents/{number or sys_id}`.
pub async fn one(AxState(app): AxState<App>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let st = app.journal.state();
    let i = st
        .incidents
        .get(&id)
        .or_else(|| st.incidents.values().find(|s| s.value.number == id))
        .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))?;
    let timeline: Vec<Value> = st
        .incident_timeline
        .get(&i.value.sys_id)
        .map(|l| l.iter().map(|(at, s, p)| json!({"at": at, "state": s, "priority": p})).collect())
        .unwrap_or_default();
    Ok(Json(json!({"incident": i, "sla": sla(&st, &i.value.sys_id, &app.sla, now), "timeline": timeline})))
}
