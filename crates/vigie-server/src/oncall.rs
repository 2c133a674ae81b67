//! `/api/v1/oncall`: who is on duty now or at an instant, for a team, a site, a partner or an organisation (decided
//! by [`vigie_app::oncall`]).

use crate::access::Caller;
use crate::{ApiError, App};
use axum::extract::{Query, State as AxState};
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
