//! `/api/v1/plans`: commit a plan (reserving quantities and vehicles), then ship, receive or cancel it.
//! Each is a journal command decided by `vigie_logistics::plans` inside the writer, so concurrent commits are
//! decided one after another and never reserve more than is available.

use crate::access::Caller;
use crate::{ApiError, App};
use vigie_domain::access::Principal;

fn outside(id: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "plan {id} moves stock to or from sites outside your organisation: the strategic centre commits it"
    ))
}

/// A caller's plan must stay within its reach (destination and every origin).
fn within(st: &State, caller: &Option<Principal>, plan: &Plan) -> Result<(), ApiError> {
    match caller {
        Some(p) if !p.view(st).plan(st, plan) => Err(outside(&plan.id.0)),
        _ => Ok(()),
    }
}
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vigie_domain::*;
use vigie_logistics::plans::{check_commit, check_step};

/// A plan as proposed by a client; Vigie gives it its id.
#[derive(Debug, Deserialize)]
pub struct ProposedPlan {
    pub destination: SiteId,
    #[serde(default)]
    pub movements: Vec<Movement>,
    #[serde(default)]
    pub vehicles: Vec<VehicleId>,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub note: String,
    /// Day on which availability is judged (default: today in Paris).
    pub on: Option<String>,
}

fn record(app: &App, caller: &Caller, id: &str) -> Result<Value, ApiError> {
    let st = app.journal.state();
    let rec = st.plans.get(id).ok_or_else(|| ApiError::NotFound(format!("plan {id}")))?;
    if !caller.0.view(&st).plan(&st, &rec.value.plan) {
        return Err(outside(id));
    }
    serde_json::to_value(rec).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Commits a proposed plan: checks it for a precise error, then decides again inside the journal command, where
/// commits are decided one after another. Blocks until the plan is durable.
pub fn commit_plan(
    journal: &vigie_journal::Journal,
    p: ProposedPlan,
    actor: Actor,
    caller: Option<Principal>,
    source: String,
) -> Result<PlanId, ApiError> {
    let on = crate::ask::parse_day(p.on.as_deref())?;
    let plan = Plan {
        id: PlanId(format!("P-{}", vigie_journal::new_event_id().simple())),
        destination: p.destination,
        movements: p.movements,
        vehicles: p.vehicles,
        purpose: p.purpose,
        note: p.note,
    };
    within(&journal.state(), &caller, &plan)?;
    check_commit(&journal.state(), &plan, on)?;
    let id = plan.id.clone();
    journal.execute(move |st| {
        within(st, &caller, &plan).map_err(|e| e.to_string())?;
        check_commit(st, &plan, on).map_err(|e| e.to_string())?;
        Ok((vec![NewEvent { actor, source, event: Event::PlanCommitted(plan) }], ()))
    })?;
    Ok(id)
}

/// Ships, receives or cancels a plan (`action`: ship, receive, cancel). Blocks until the step is durable.
pub fn step_plan(
    journal: &vigie_journal::Journal,
    id: &str,
    action: &str,
    actor: Actor,
    caller: Option<Principal>,
    source: String,
) -> Result<(), ApiError> {
    let (to, make): (PlanStatus, fn(PlanStep) -> Event) = match action {
        "ship" => (PlanStatus::Shipped, Event::PlanShipped),
        "receive" => (PlanStatus::Received, Event::PlanReceived),
        "cancel" => (PlanStatus::Cancelled, Event::PlanCancelled),
        other => return Err(ApiError::NotFound(format!("action {other}"))),
    };
    if let Some(rec) = journal.state().plans.get(id) {
        within(&journal.state(), &caller, &rec.value.plan)?;
    }
    check_step(&journal.state(), id, to)?;
    let plan_id = PlanId(id.to_string());
    journal.execute(move |st| {
        if let Some(rec) = st.plans.get(&plan_id) {
            within(st, &caller, &rec.value.plan).map_err(|e| e.to_string())?;
        }
        check_step(st, &plan_id.0, to).map_err(|e| e.to_string())?;
        Ok((vec![NewEvent { actor, source, event: make(PlanStep { plan_id }) }], ()))
    })?;
    Ok(())
}

pub async fn commit(
    AxState(app): AxState<App>,
    caller: Caller,
    body: Result<Json<ProposedPlan>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(p) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let (actor, who) = (caller.actor(), Some(caller.0.clone()));
    let id = app.blocking(move |j| commit_plan(&j, p, actor, who, "POST /api/v1/plans".into())).await?;
    Ok((StatusCode::CREATED, Json(record(&app, &caller, &id.0)?)))
}

pub async fn step(
    AxState(app): AxState<App>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (actor, who) = (caller.actor(), Some(caller.0.clone()));
    let source = format!("POST /api/v1/plans/{id}/{action}");
    let i = id.clone();
    app.blocking(move |j| step_plan(&j, &i, &action, actor, who, source)).await?;
    Ok(Json(record(&app, &caller, &id)?))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
}

pub async fn list(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let st = app.journal.state();
    let view = caller.0.view(&st);
    let plans: Vec<_> = st
        .plans
        .values()
        .filter(|p| q.status.as_deref().is_none_or(|s| p.value.status.as_str() == s))
        .filter(|p| view.plan(&st, &p.value.plan))
        .collect();
    Ok(Json(json!({ "total": plans.len(), "items": plans })))
}

pub async fn one(AxState(app): AxState<App>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(record(&app, &caller, &id)?))
}
