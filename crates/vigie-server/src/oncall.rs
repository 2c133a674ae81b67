//! `/api/v1/oncall`: who is on duty now or at an instant, for a team, a site, a partner or an organisation; the
//! calendar of who holds each level when; overrides; the escalation policy; the notification log (decided by
//! [`vigie_app::oncall`] and [`vigie_app::notify`]).

use crate::access::Caller;
use crate::{ApiError, App};
use axum::extract::{Query, State as AxState};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize, Default)]
pub struct DutyParams {
    team: Option<String>,
    site: Option<String>,
    partner: Option<String>,
    organization: Option<String>,
    /// An instant (default: now).
    at: Option<String>,
}

/// `GET /api/v1/oncall`: each team's person on duty per escalation level.
pub async fn on_duty(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<DutyParams>,
) -> Result<Json<Value>, ApiError> {
    let at = vigie_app::when::parse_instant("at", q.at.as_deref())?.unwrap_or_else(chrono::Utc::now);
    let query =
        vigie_app::oncall::DutyQuery { team: q.team, site: q.site, partner: q.partner, organization: q.organization };
    let st = app.journal.state();
    let items = vigie_app::oncall::on_duty(&st, &caller.0, &query, at)?;
    Ok(Json(json!({"at": at, "items": items})))
}

#[derive(Debug, Deserialize, Default)]
pub struct CalendarParams {
    team: Option<String>,
    /// The first day (Paris; default today).
    from: Option<String>,
    /// How many days (default 7, at most 31).
    days: Option<i64>,
}

/// `GET /api/v1/oncall/calendar`: who holds each level of each team, span by span, over days.
pub async fn calendar(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<CalendarParams>,
) -> Result<Json<Value>, ApiError> {
    let bad = || vigie_app::AppError::field("from", "expected a day (YYYY-MM-DD, Paris) between 2000 and 2100");
    let day = vigie_app::when::parse_day(q.from.as_deref()).map_err(|_| bad())?;
    if !(2000..=2100).contains(&chrono::Datelike::year(&day)) {
        return Err(bad().into());
    }
    let days = q.days.unwrap_or(7);
    if !(1..=vigie_app::oncall::MAX_CALENDAR_DAYS).contains(&days) {
        return Err(vigie_app::AppError::field("days", "from 1 to 31").into());
    }
    let from = vigie_domain::paris::from_local(day.and_hms_opt(0, 0, 0).unwrap_or_default());
    let until =
        vigie_domain::paris::from_local((day + chrono::Duration::days(days)).and_hms_opt(0, 0, 0).unwrap_or_default());
    let st = app.journal.state();
    let teams = vigie_app::oncall::calendar(&st, &caller.0, q.team.as_deref(), from, until)?;
    Ok(Json(json!({"from": from, "until": until, "teams": teams})))
}

/// `POST /api/v1/oncall/overrides`: a person on duty for a span (a swap, a replacement), or one taken back.
pub async fn set_override(
    AxState(app): AxState<App>,
    caller: Caller,
    Json(req): Json<vigie_app::oncall::OverrideRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let o = app.blocking(move |j| Ok(vigie_app::oncall::set_override(&j, &caller.0, req)?)).await?;
    Ok((if o.removed { StatusCode::OK } else { StatusCode::CREATED }, Json(json!(o))))
}

/// `POST /api/v1/oncall/rotations`: who takes turns at a level of a team, how often, from which hand-over.
pub async fn set_rotation(
    AxState(app): AxState<App>,
    caller: Caller,
    Json(req): Json<vigie_app::oncall::RotationRequest>,
) -> Result<Json<Value>, ApiError> {
    let r = app.blocking(move |j| Ok(vigie_app::oncall::set_rotation(&j, &caller.0, req)?)).await?;
    Ok(Json(json!(r)))
}

/// `GET /api/v1/oncall/people`: the people the caller's roster reaches, with their contact points.
pub async fn people(AxState(app): AxState<App>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let st = app.journal.state();
    let items = vigie_app::oncall::people(&st, &caller.0)?;
    Ok(Json(json!({"items": items})))
}

/// `POST /api/v1/oncall/people`: a person written (new, or their contact points changed).
pub async fn set_person(
    AxState(app): AxState<App>,
    caller: Caller,
    Json(req): Json<vigie_app::oncall::PersonRequest>,
) -> Result<Json<Value>, ApiError> {
    let p = app.blocking(move |j| Ok(vigie_app::oncall::set_person(&j, &caller.0, req)?)).await?;
    Ok(Json(json!(p)))
}

/// `POST /api/v1/oncall/teams`: a team written (new, or renamed, moved, its chat channel changed).
pub async fn set_team(
    AxState(app): AxState<App>,
    caller: Caller,
    Json(req): Json<vigie_app::oncall::TeamRequest>,
) -> Result<Json<Value>, ApiError> {
    let t = app.blocking(move |j| Ok(vigie_app::oncall::set_team(&j, &caller.0, req)?)).await?;
    Ok(Json(json!(t)))
}

/// `GET /api/v1/oncall/escalation`: how people are paged — the delay between levels, the channels and up to which
/// priority, the warning before a shift, the rules — and each team's chain of levels with who holds each now.
pub async fn escalation(AxState(app): AxState<App>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let st = app.journal.state();
    let teams = vigie_app::oncall::calendar(&st, &caller.0, None, now, now + chrono::Duration::minutes(1))?;
    let minutes = |d: std::time::Duration| d.as_secs() / 60;
    let policy = app.notify.as_deref().map(|o| {
        json!({
            "escalate_after_min": minutes(o.escalate_after),
            "escalation_repeats": o.escalation_repeats,
            "page_opened_within_min": minutes(o.page_within),
            "warn_before_shift_min": o.warn_before.map(minutes),
            "link_ttl_min": o.link_key.as_ref().map(|_| minutes(o.link_ttl)),
            "sms": {"gateways": o.sms.iter().map(|g| &g.name).collect::<Vec<_>>(), "up_to_priority": o.sms_up_to_priority},
            "voice": {"gateways": o.voice.iter().map(|g| &g.name).collect::<Vec<_>>(), "up_to_priority": o.voice_up_to_priority},
            "chat": o.webhooks.iter().map(|(name, w)| json!({"name": name, "format": w.format})).collect::<Vec<_>>(),
            "plan_ship_within_min": minutes(o.plan_ship_within),
            "plan_late_after_min": minutes(o.plan_late_after),
            "coverage": o.coverage.iter().map(|c| json!({"item": c.item, "days": c.days, "below": c.below})).collect::<Vec<_>>(),
        })
    });
    Ok(Json(json!({"paging": policy, "teams": teams})))
}

/// `GET /api/v1/notifications`: the notification log — every message the caller may see, newest first, with counts.
pub async fn log(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<vigie_app::notify::LogQuery>,
) -> Result<Json<Value>, ApiError> {
    let st = app.journal.state();
    let log = vigie_app::notify::log(&st, &caller.0, &q)?;
    Ok(Json(json!(log)))
}
