//! `/api/v1/plans`: commit a plan, then ship, receive or cancel it (decided by [`vigie_app::plans`]); list and read
//! the plans the caller reaches.

use crate::access::{body, Caller};
use crate::{ApiError, App};
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vigie_app::plans::{ProposedPlan, Step};

fn record(app: &App, caller: &Caller, id: &str) -> Result<Value, ApiError> {
    let st = app.journal.state();
    let rec = st.plans.get(id).ok_or_else(|| ApiError::from(vigie_app::AppError::not_found("plan", id)))?;
    if !caller.principal().view(&st).plan(&st, &rec.value.plan) {
        return Err(ApiError::Forbidden(format!("plan {id} is outside your organisation").into()));
    }
    serde_json::to_value(rec).map_err(|e| ApiError::Internal(e.to_string()))
}

pub async fn commit(
    AxState(app): AxState<App>,
    caller: Caller,
    b: Result<Json<ProposedPlan>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let p = body(b)?;
    let rec = app.blocking(move |j| Ok(vigie_app::plans::commit(&j, &caller.0, p)?)).await?;
    Ok((StatusCode::CREATED, Json(serde_json::to_value(rec).map_err(|e| ApiError::Internal(e.to_string()))?)))
}

pub async fn step(
    AxState(app): AxState<App>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let step = Step::parse(&action).ok_or_else(|| ApiError::NotFound(format!("action {action}").into()))?;
    let rec = app.blocking(move |j| Ok(vigie_app::plans::step(&j, &caller.0, &id, step)?)).await?;
    Ok(Json(serde_json::to_value(rec).map_err(|e| ApiError::Internal(e.to_string()))?))
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
    let view = caller.principal().view(&st);
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
