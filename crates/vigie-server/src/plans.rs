//! `/api/v1/plans`: commit a plan (reserving quantities and vehicles), then ship, receive or cancel it.
//! Each is a journal command decided by `vigie_logistics::plans` inside the writer, so concurrent commits are
//! decided one after another and never reserve more than is available.

use crate::{ApiError, App};
use axum::extract::{ConnectInfo, Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
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

fn record(app: &App, id: &str) -> Result<Value, ApiError> {
    let st = app.journal.state();
    let rec = st.plans.get(id).ok_or_else(|| ApiError::NotFound(format!("plan {id}")))?;
    serde_json::to_value(rec).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Commits a proposed plan: checks it for a precise error, then decides again inside the journal command, where
/// commits are decided one after another. Blocks until the plan is durable.
pub fn commit_plan(
    journal: &vigie_journal::Journal,
    p: ProposedPlan,
    actor: Actor,
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
    check_commit(&journal.state(), &plan, on)?;
    let id = plan.id.clone();
    journal.execute(move |st| {
        check_commit(st, &plan, on).map_err(|e| e.to_string())?;
        Ok(vec![NewEvent { actor, source, event: Event::PlanCommitted(plan) }])
    })?;
    Ok(id)
}

/// Ships, receives or cancels a plan (`action`: ship, receive, cancel). Blocks until the step is durable.
pub fn step_plan(
    journal: &vigie_journal::Journal,
    id: &str,
    action: &str,
    actor: Actor,
    source: String,
) -> Result<(), ApiError> {
    let (to, make): (PlanStatus, fn(PlanStep) -> Event) = match action {
        "ship" => (PlanStatus::Shipped, Event::PlanShipped),
        "receive" => (PlanStatus::Received, Event::PlanReceived),
        "cancel" => (PlanStatus::Cancelled, Event::PlanCancelled),
        other => return Err(ApiError::NotFound(format!("action {other}"))),
    };
    check_step(&journal.state(), id, to)?;
    let plan_id = PlanId(id.to_string());
    journal.execute(move |st| {
        check_step(st, &plan_id.0, to).map_err(|e| e.to_string())?;
        Ok(vec![NewEvent { actor, source, event: make(PlanStep { plan_id }) }])
    })?;
    Ok(())
}

pub async fn commit(
    AxState(app): AxState<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<ProposedPlan>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(p) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let actor = app.actor(&headers, Some(peer))?;
    let id = app.blocking(move |j| commit_plan(&j, p, actor, "POST /api/v1/plans".into())).await?;
    Ok((StatusCode::CREATED, Json(record(&app, &id.0)?)))
}

pub async fn step(
    AxState(app): AxState<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let actor = app.actor(&headers, Some(peer))?;
    let source = format!("POST /api/v1/plans/{id}/{action}");
    let i = id.clone();
    app.blocking(move |j| step_plan(&j, &i, &action, actor, source)).await?;
    Ok(Json(record(&app, &id)?))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
}

pub async fn list(AxState(app): AxState<App>, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    let st = app.journal.state();
    let plans: Vec<_> =
        st.plans.values().filter(|p| q.status.as_deref().is_none_or(|s| p.value.status.as_str() == s)).collect();
    Ok(Json(json!({ "total": plans.len(), "items": plans })))
}

pub async fn one(AxState(app): AxState<App>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(record(&app, &id)?))
}
