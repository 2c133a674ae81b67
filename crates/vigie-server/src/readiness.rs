//! `/api/v1/readiness`: venue readiness as of now (decided and computed by [`vigie_app::readiness`]): roll-ups by
//! site, zone, trade or owner; one site's timeline with its critical path; the blockers, root causes first; the
//! tasks due to start by tonight ("my tasks today"); computers running another image than their zone requires; and
//! a task's progress.

use crate::access::{body, Caller};
use crate::{ApiError, App};
use axum::extract::{Path, Query, State as AxState};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vigie_app::readiness::{Picture, ProgressRequest};

#[derive(Debug, Deserialize, Default)]
pub struct SummaryQuery {
    /// `site` (default), `zone`, `trade`, `owner`.
    by: Option<String>,
}

/// `GET /api/v1/readiness`: readiness per site (or zone, trade, owner), with projected ready dates.
pub async fn summary(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<SummaryQuery>,
) -> Result<Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let st = app.journal.state();
    let picture = Picture::new(&st, &caller.0, now, &app.readiness)?;
    let by = q.by.as_deref().unwrap_or("site");
    let rollups = picture.summary(by)?;
    Ok(Json(json!({"at": now, "by": by, "items": rollups})))
}

/// `GET /api/v1/readiness/sites/{id}`: one site's roll-ups, its tasks in projected order, its critical path.
pub async fn site(AxState(app): AxState<App>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let st = app.journal.state();
    let picture = Picture::new(&st, &caller.0, now, &app.readiness)?;
    let site = picture.site(&id)?;
    let name = st.sites.get(id.as_str()).map(|s| s.value.name.clone());
    Ok(Json(json!({"at": now, "name": name, "picture": site})))
}

/// `GET /api/v1/readiness/blockers`: blocked tasks that nothing blocked holds up, with what each holds up; and the
/// deliveries overdue on the road, with what each delays.
pub async fn blockers(AxState(app): AxState<App>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let st = app.journal.state();
    let picture = Picture::new(&st, &caller.0, now, &app.readiness)?;
    Ok(Json(json!({"at": now, "items": picture.blockers(), "late_deliveries": picture.late_deliveries()})))
}

#[derive(Debug, Deserialize, Default)]
pub struct TasksQuery {
    /// A partner or team (default: the caller's partner, else every owner).
    owner: Option<String>,
    /// Tasks that may start by this instant (default: the end of today in Paris).
    until: Option<String>,
}

/// `GET /api/v1/readiness/tasks`: unfinished tasks that may start by `until`, soonest first.
pub async fn tasks(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<TasksQuery>,
) -> Result<Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let until = match vigie_app::when::parse_instant("until", q.until.as_deref())? {
        Some(u) => u,
        None => {
            let tomorrow = vigie_domain::paris::today(now) + chrono::Duration::days(1);
            vigie_domain::paris::from_local(tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default())
        }
    };
    let owner = q.owner.or_else(|| match &caller.principal().reach {
        vigie_domain::access::Reach::Partner(p) => Some(p.to_string()),
        _ => None,
    });
    let st = app.journal.state();
    let picture = Picture::new(&st, &caller.0, now, &app.readiness)?;
    let items = picture.tasks_until(owner.as_deref(), until);
    Ok(Json(json!({"at": now, "until": until, "owner": owner, "items": items})))
}

/// `POST /api/v1/readiness/tasks/{id}/progress`: moves a task (its predecessors first, unless `override`).
pub async fn progress(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
    b: Result<Json<ProgressRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = body(b)?;
    let task = id.clone();
    app.blocking(move |j| Ok(vigie_app::readiness::progress(&j, &caller.0, &task, req)?)).await?;
    let st = app.journal.state();
    Ok(Json(json!({"task": id, "progress": st.readiness.progress.get(id.as_str())})))
}

/// `GET /api/v1/readiness/computers/noncompliant`: imaged computers running another image than their zone requires.
pub async fn noncompliant(AxState(app): AxState<App>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let st = app.journal.state();
    let items = vigie_app::readiness::noncompliant(&st, &caller.0)?;
    Ok(Json(json!({"total": items.len(), "items": items})))
}

#[derive(Debug, Deserialize, Default)]
pub struct ComputersQuery {
    site: Option<String>,
}

/// `GET /api/v1/readiness/computers`: computers with their recorded and effective states (in service only while
/// their checks pass), counts by effective state.
pub async fn computers(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<ComputersQuery>,
) -> Result<Json<Value>, ApiError> {
    // What each check shows now, from the live estate (taken before the journal's state: the lock order).
    let shown: std::collections::HashMap<String, vigie_domain::health::Shown> = {
        let g = app.live.lock_synced(&app.journal, chrono::Utc::now().timestamp_millis());
        (0..g.estate.len() as u32).map(|s| (g.estate.def(s).id.to_string(), g.estate.shown(s))).collect()
    };
    let passing = |id: &str| match shown.get(id) {
        Some(vigie_domain::health::Shown::Ok) => Some(true),
        Some(vigie_domain::health::Shown::Maintenance) | None => None,
        Some(_) => Some(false),
    };
    let st = app.journal.state();
    let (counts, items) = vigie_app::readiness::computers(&st, &caller.0, q.site.as_deref(), passing)?;
    Ok(Json(json!({"total": items.len(), "counts": counts, "items": items})))
}
