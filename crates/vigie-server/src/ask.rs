//! `GET /api/v1/ask/...`: the logistics questions, answered from the projection (same answers as `vigie ask`).

use crate::access::Caller;
use crate::{ApiError, App};
use axum::extract::{Query, State as AxState};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};
use vigie_domain::access::Reach;
use vigie_domain::ItemId;
use vigie_logistics::{self as logistics, Near, Scope};

#[derive(Debug, Deserialize)]
pub struct SufficiencyQuery {
    item: Option<String>,
    #[serde(default)]
    all: bool,
    /// With `all`: every item of the catalogue, not only those with an allowance.
    #[serde(default)]
    catalogue: bool,
    on: Option<String>,
    days: Option<u32>,
    org: Option<String>,
    /// Only this site's line in `by_site`.
    site: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LocateQuery {
    /// One item or several, comma-separated.
    item: String,
    near: String,
    within_km: Option<f64>,
    /// A horizon: only sources whose estimated arrival is within so many minutes.
    within_min: Option<f64>,
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

#[derive(Debug, Deserialize)]
pub struct DeployQuery {
    /// Departure zone: site id, `LAT,LON` or French commune.
    from: String,
    to: String,
    headcount: u32,
    days: Option<u32>,
    by: Option<String>,
    within_km: Option<f64>,
    on: Option<String>,
}

/// Minutes from now until a deadline given as RFC 3339 or Paris local time.
fn deadline_minutes(by: Option<&str>) -> Result<Option<f64>, ApiError> {
    vigie_app::when::deadline_minutes(by).map_err(ApiError::in_query)
}

/// `on=YYYY-MM-DD`, by default today in Paris.
fn parse_day(on: Option<&str>) -> Result<NaiveDate, ApiError> {
    vigie_app::when::parse_day(on).map_err(ApiError::in_query)
}

/// A what-if body: a scenario applied to a copy of the state before the question is answered.
#[derive(Debug, Deserialize)]
pub struct WhatIf {
    pub scenario: vigie_logistics::whatif::Scenario,
}

/// Answers on the current state, or on a copy changed by a scenario (never written).
fn answer(
    app: &App,
    what_if: Option<WhatIf>,
    f: impl FnOnce(&vigie_domain::State) -> Result<Value, ApiError>,
) -> Result<Json<Value>, ApiError> {
    let st = app.journal.state();
    match what_if {
        None => f(&st).map(Json),
        Some(w) => {
            // The copy is taken under the read lock; the scenario is applied to it without the lock, so that a
            // long scenario never holds back the journal's writer.
            let copy = st.clone();
            drop(st);
            let copy = vigie_logistics::whatif::apply_scenario_to(copy, &w.scenario)?;
            let mut v = f(&copy)?;
            if let Value::Object(m) = &mut v {
                m.insert("what_if".into(), json!(w.scenario));
            }
            Ok(Json(v))
        }
    }
}

fn to_value(v: impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

pub async fn sufficiency(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<SufficiencyQuery>,
) -> Result<Json<Value>, ApiError> {
    sufficiency_on(&app, &caller, q, None)
}

pub async fn sufficiency_what_if(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<SufficiencyQuery>,
    Json(w): Json<WhatIf>,
) -> Result<Json<Value>, ApiError> {
    sufficiency_on(&app, &caller, q, Some(w))
}

pub async fn locate(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<LocateQuery>,
) -> Result<Json<Value>, ApiError> {
    locate_on(&app, &caller, q, None)
}

pub async fn locate_what_if(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<LocateQuery>,
    Json(w): Json<WhatIf>,
) -> Result<Json<Value>, ApiError> {
    locate_on(&app, &caller, q, Some(w))
}

pub async fn reinforce(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<ReinforceQuery>,
) -> Result<Json<Value>, ApiError> {
    reinforce_on(&app, &caller, q, None)
}

pub async fn reinforce_what_if(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<ReinforceQuery>,
    Json(w): Json<WhatIf>,
) -> Result<Json<Value>, ApiError> {
    reinforce_on(&app, &caller, q, Some(w))
}

pub async fn deploy(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<DeployQuery>,
) -> Result<Json<Value>, ApiError> {
    deploy_on(&app, &caller, q, None)
}

pub async fn deploy_what_if(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<DeployQuery>,
    Json(w): Json<WhatIf>,
) -> Result<Json<Value>, ApiError> {
    deploy_on(&app, &caller, q, Some(w))
}

/// The stock and vehicles a caller may draw on: a tactical group its organisation's and its children's (it sees
/// others only as aggregated figures, through sufficiency); everyone else, everything.
fn sources(st: &vigie_domain::State, caller: &Caller) -> Result<Scope, ApiError> {
    match &caller.principal().reach {
        Reach::Organization(o) => Ok(Scope::of(st, o.as_str())?),
        _ => Ok(Scope::everything()),
    }
}

fn deploy_on(app: &App, caller: &Caller, q: DeployQuery, what_if: Option<WhatIf>) -> Result<Json<Value>, ApiError> {
    let on = parse_day(q.on.as_deref())?;
    let deadline_min = deadline_minutes(q.by.as_deref())?;
    let travel = app.travel.clone();
    answer(app, what_if, |st| {
        let request = logistics::deploy::DeployRequest {
            from: Near::parse(st, &q.from),
            to: Near::parse(st, &q.to),
            headcount: q.headcount,
            days: q.days.unwrap_or(1),
            on,
            deadline_min,
            within_km: q.within_km.unwrap_or(100.0),
            sources: sources(st, caller)?,
        };
        to_value(logistics::deploy::deploy(st, &request, &travel)?)
    })
}

/// Sufficiency is aggregated figures, everyone's to read; a tactical group sees the site lines of its own reach only.
fn sufficiency_on(
    app: &App,
    caller: &Caller,
    q: SufficiencyQuery,
    what_if: Option<WhatIf>,
) -> Result<Json<Value>, ApiError> {
    let on = parse_day(q.on.as_deref())?;
    let days = q.days.unwrap_or(1);
    answer(app, what_if, |st| {
        let scope = match &q.org {
            Some(o) => Scope::of(st, o)?,
            None => Scope::everything(),
        };
        let view = caller.principal().view(st);
        if let Some(site) = q.site.as_deref().filter(|s| !view.site(st, s)) {
            return Err(ApiError::Forbidden(format!("site {site} is outside your reach").into()));
        }
        let narrow = |s: &mut logistics::Sufficiency| {
            s.by_site.retain(|x| {
                view.site(st, x.site_id.as_str()) && q.site.as_deref().is_none_or(|o| x.site_id.as_str() == o)
            })
        };
        if q.all {
            let mut all = if q.catalogue {
                logistics::sufficiency_catalogue(st, on, days, &scope)?
            } else {
                logistics::sufficiency_all(st, on, days, &scope)?
            };
            all.iter_mut().for_each(narrow);
            return Ok(json!({ "on": on, "days": days, "items": all }));
        }
        let item = q
            .item
            .as_deref()
            .ok_or_else(|| ApiError::BadRequest("name an item (item=ID) or ask for all=true".into()))?;
        let item = logistics::item_id(st, item)?;
        let mut s = logistics::sufficiency(st, &item, on, days, &scope)?;
        narrow(&mut s);
        to_value(s)
    })
}

fn locate_on(app: &App, caller: &Caller, q: LocateQuery, what_if: Option<WhatIf>) -> Result<Json<Value>, ApiError> {
    let on = parse_day(q.on.as_deref())?;
    let travel = app.travel.clone();
    answer(app, what_if, |st| {
        let items = q.item.split(',').map(|i| logistics::item_id(st, i.trim())).collect::<Result<Vec<ItemId>, _>>()?;
        let scope = match (&q.org, &caller.principal().reach) {
            (Some(o), Reach::Organization(mine))
                if !caller
                    .principal()
                    .view(st)
                    .org(&vigie_domain::OrgId::parse(o).map_err(|e| ApiError::BadRequest(e.to_string()))?) =>
            {
                return Err(ApiError::Forbidden(
                    format!(
                        "{o} is outside your organisation {mine}: its figures are shown only aggregated (sufficiency)"
                    )
                    .into(),
                ))
            }
            (Some(o), _) => Scope::of(st, o)?,
            (None, _) => sources(st, caller)?,
        };
        let near = Near::parse(st, &q.near);
        let horizon = q.within_min.map(|m| travel.km_within(m));
        let within_km = match (q.within_km, horizon) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        to_value(logistics::locate(st, &items, &near, within_km, q.headcount, on, &scope, &travel)?)
    })
}

fn reinforce_on(
    app: &App,
    caller: &Caller,
    q: ReinforceQuery,
    what_if: Option<WhatIf>,
) -> Result<Json<Value>, ApiError> {
    let on = parse_day(q.on.as_deref())?;
    let deadline = deadline_minutes(q.by.as_deref())?;
    let travel = app.travel.clone();
    answer(app, what_if, |st| {
        let need = vigie_logistics::reinforce::parse_need(st, &q.need)?;
        if st.sites.contains_key(q.site.as_str()) && !caller.principal().view(st).site(st, &q.site) {
            return Err(ApiError::Forbidden(format!("site {} is outside your organisation", q.site).into()));
        }
        let from = sources(st, caller)?;
        to_value(vigie_logistics::reinforce::reinforce(st, &q.site, &need, on, deadline, &travel, &from)?)
    })
}

#[derive(Debug, Deserialize)]
pub struct ShiftBody {
    from: String,
    to: String,
    sites: Option<Vec<vigie_domain::SiteId>>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    dry_run: bool,
    on: Option<String>,
    days: Option<u32>,
}

/// `POST /api/v1/shift`: a shift of effort; with `dry_run`, only its effect on every organisation.
pub async fn shift(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    b: Result<Json<ShiftBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = crate::access::body(b)?;
    let request = vigie_app::shift::ShiftRequest {
        from: b.from,
        to: b.to,
        sites: b.sites,
        reason: b.reason,
        on: vigie_app::when::parse_day(b.on.as_deref())?,
        days: b.days.unwrap_or(1),
    };
    let dry_run = b.dry_run;
    let done = app
        .blocking(move |j| {
            Ok(if dry_run {
                vigie_app::shift::preview(&j, &caller.0, &request)?
            } else {
                vigie_app::shift::apply(&j, &caller.0, request)?
            })
        })
        .await?;
    Ok(Json(
        json!({ "dry_run": dry_run, "shift": done.shift, "sites": done.sites, "forces": done.forces, "effect": done.effect }),
    ))
}
