//! `GET /api/v1/ask/...`: the logistics questions, answered from the projection (same answers as `vigie ask`).

use crate::{ApiError, App};
use axum::extract::{Query, State as AxState};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};
use vigie_domain::ItemId;
use vigie_logistics::{self as logistics, Near, Scope};

#[derive(Debug, Deserialize)]
pub struct SufficiencyQuery {
    item: Option<String>,
    #[serde(default)]
    all: bool,
    on: Option<String>,
    days: Option<u32>,
    org: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LocateQuery {
    /// One item or several, comma-separated.
    item: String,
    near: String,
    within_km: Option<f64>,
    headcount: Option<u32>,
    on: Option<String>,
    org: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ReinforceQuery {
    site: String,
    /// `ITEM=QTY[,ITEM=QTY…]`
    need: String,
    /// Wanted by (RFC 3339 or Paris local time `YYYY-MM-DD HH:MM`).
    by: Option<String>,
    on: Option<String>,
}

/// Minutes from now until a deadline given as RFC 3339 or Paris local time.
pub fn deadline_minutes(by: Option<&str>) -> Result<Option<f64>, ApiError> {
    by.map(|b| {
        let at = vigie_import::values::parse_instant(b).ok_or_else(|| {
            ApiError::BadRequest(format!("by: expected a date and time (2024-07-26 18:00, Paris time), found {b:?}"))
        })?;
        Ok((at - chrono::Utc::now()).num_seconds() as f64 / 60.0)
    })
    .transpose()
}

pub async fn reinforce(AxState(app): AxState<App>, Query(q): Query<ReinforceQuery>) -> Result<Json<Value>, ApiError> {
    let on = parse_day(q.on.as_deref())?;
    let deadline = deadline_minutes(q.by.as_deref())?;
    let st = app.journal.state();
    let need = vigie_logistics::reinforce::parse_need(&st, &q.need)?;
    let r = vigie_logistics::reinforce::reinforce(&st, &q.site, &need, on, deadline, &app.travel)?;
    Ok(Json(serde_json::to_value(r).map_err(|e| ApiError::Internal(e.to_string()))?))
}

/// `on=YYYY-MM-DD`, by default today in Paris.
pub fn parse_day(on: Option<&str>) -> Result<NaiveDate, ApiError> {
    match on {
        None => Ok(vigie_domain::paris::today(chrono::Utc::now())),
        Some(s) => s.parse().map_err(|_| ApiError::BadRequest(format!("on: expected a date YYYY-MM-DD, found {s:?}"))),
    }
}

pub async fn sufficiency(
    AxState(app): AxState<App>,
    Query(q): Query<SufficiencyQuery>,
) -> Result<Json<Value>, ApiError> {
    let on = parse_day(q.on.as_deref())?;
    let days = q.days.unwrap_or(1);
    let st = app.journal.state();
    let scope = match &q.org {
        Some(o) => Scope::of(&st, o)?,
        None => Scope::everything(),
    };
    if q.all {
        let all = logistics::sufficiency_all(&st, on, days, &scope)?;
        return Ok(Json(json!({ "on": on, "days": days, "items": all })));
    }
    let item =
        q.item.as_deref().ok_or_else(|| ApiError::BadRequest("name an item (item=ID) or ask for all=true".into()))?;
    let item = logistics::item_id(&st, item)?;
    Ok(Json(
        serde_json::to_value(logistics::sufficiency(&st, &item, on, days, &scope)?)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}

pub async fn locate(AxState(app): AxState<App>, Query(q): Query<LocateQuery>) -> Result<Json<Value>, ApiError> {
    let on = parse_day(q.on.as_deref())?;
    let st = app.journal.state();
    let items = q.item.split(',').map(|i| logistics::item_id(&st, i.trim())).collect::<Result<Vec<ItemId>, _>>()?;
    let scope = match &q.org {
        Some(o) => Scope::of(&st, o)?,
        None => Scope::everything(),
    };
    let near = Near::parse(&st, &q.near);
    let located = logistics::locate(&st, &items, &near, q.within_km, q.headcount, on, &scope, &app.travel)?;
    Ok(Json(serde_json::to_value(located).map_err(|e| ApiError::Internal(e.to_string()))?))
}
