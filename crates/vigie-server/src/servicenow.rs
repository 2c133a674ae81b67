//! A subset of ServiceNow's Table API under `/api/now/table/{table}` (table `incident`), so that ServiceNow clients
//! (pysnow, partners' tools) work against Vigie unchanged (docs/incidents.md).
//!
//! GET list (`sysparm_query`, `sysparm_limit`, `sysparm_offset`, `sysparm_fields`, `sysparm_display_value`; other
//! `sysparm_*` tolerated) with `X-Total-Count` and an absolute `Link` header (first, prev, next, last; no next on
//! the last page); GET one; POST (201); PUT and PATCH (partial, 200); DELETE (204). Envelope `{"result": …}`,
//! errors `{"error": {"message", "detail"}, "status": "failure"}`. Callers authenticate as Vigie users (Basic, as
//! ServiceNow clients do, or a token) through the access gate; a partner sees and works only the incidents assigned
//! to its support group. Every write is a journal event with the authenticated user as actor.

use crate::access::Caller;
use crate::App;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use vigie_domain::access::Reach;
use vigie_domain::itsm::{Incident, IncidentDeleted};
use vigie_domain::{Actor, Event, NewEvent, State};
use vigie_incidents::incident::{self, Changes, IncidentError};
use vigie_incidents::query::Query as Encoded;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/now/table/{table}", get(list).post(create))
        .route("/api/now/table/{table}/{sys_id}", get(one).put(update).patch(update).delete(remove))
}

/// The Table API's error, in ServiceNow's envelope.
#[derive(Debug)]
pub struct SnError {
    status: StatusCode,
    message: String,
    detail: String,
}

fn sn(status: StatusCode, message: impl Into<String>, detail: impl Into<String>) -> SnError {
    SnError { status, message: message.into(), detail: detail.into() }
}

impl IntoResponse for SnError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"message": self.message, "detail": self.detail}, "status": "failure"});
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Vigie\""));
        }
        r
    }
}

impl From<crate::ApiError> for SnError {
    fn from(e: crate::ApiError) -> SnError {
        use crate::ApiError::*;
        match e {
            NotFound(what) => sn(StatusCode::NOT_FOUND, "No Record found", format!("{what} not found")),
            Conflict(m) => sn(StatusCode::CONFLICT, "Conflict", m),
            Unavailable => sn(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", "the server is shutting down"),
            BadRequest(m) => sn(StatusCode::BAD_REQUEST, "Invalid request", m),
            Unauthenticated(m) => sn(StatusCode::UNAUTHORIZED, "User Not Authenticated", m),
            Forbidden(m) => sn(StatusCode::FORBIDDEN, "Insufficient rights", m),
            other => {
                tracing::error!(error = %other, "table API");
                sn(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", "see the server log")
            }
        }
    }
}

fn incident_error(e: IncidentError) -> SnError {
    match e {
        IncidentError::Conflict { .. } => sn(StatusCode::CONFLICT, "Record changed since it was read", e.to_string()),
        _ => sn(StatusCode::BAD_REQUEST, "Operation Failed", e.to_string()),
    }
}

/// A refusal of the access gate, in ServiceNow's envelope.
pub(crate) fn error_response(status: StatusCode, detail: &str) -> Response {
    let message = match status {
        StatusCode::UNAUTHORIZED => "User Not Authenticated",
        StatusCode::TOO_MANY_REQUESTS => "Too Many Requests",
        _ => "Insufficient rights",
    };
    sn(status, message, detail).into_response()
}

/// A partner works the incidents assigned to its support group, and only those.
fn visible(caller: &Caller, i: &Incident) -> bool {
    match &caller.0.reach {
        Reach::Partner(p) => i.assignment_group == p.as_str(),
        _ => true,
    }
}

fn outside(caller: &Caller) -> SnError {
    sn(
        StatusCode::FORBIDDEN,
        "Insufficient rights",
        format!("{} works only the incidents assigned to its support group", caller.0.user),
    )
}

fn table(name: &str) -> Result<(), SnError> {
    if name == "incident" {
        Ok(())
    } else {
        Err(sn(
            StatusCode::BAD_REQUEST,
            "Invalid table",
            format!("table {name} is not served by Vigie (only incident)"),
        ))
    }
}

/// `sysparm_*` booleans as clients write them (`true`, `True`, `TRUE`, `1`).
fn truthy(v: Option<&String>) -> bool {
    v.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

/// How records are written: `false` (values), `true` (display values) or `all` (both).
#[derive(Clone, Copy, PartialEq)]
enum Display {
    Value,
    Shown,
    All,
}

fn display_of(params: &BTreeMap<String, String>) -> Display {
    match params.get("sysparm_display_value").map(|v| v.to_ascii_lowercase()) {
        Some(v) if v == "all" => Display::All,
        Some(v) if v == "true" => Display::Shown,
        _ => Display::Value,
    }
}

fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Every field of an incident as ServiceNow writes values: text.
fn values(i: &Incident) -> Vec<(&'static str, String)> {
    let opt = |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map(time).unwrap_or_default();
    vec![
        ("sys_id", i.sys_id.clone()),
        ("number", i.number.clone()),
        ("short_description", i.short_description.clone()),
        ("description", i.description.clone()),
        ("state", i.state.to_string()),
        ("incident_state", i.state.to_string()),
        ("active", matches!(i.state, 1..=3).to_string()),
        ("hold_reason", i.hold_reason.clone()),
        ("impact", i.impact.to_string()),
        ("urgency", i.urgency.to_string()),
        ("priority", i.priority.to_string()),
        ("category", i.category.clone()),
        ("assignment_group", i.assignment_group.clone()),
        ("assigned_to", i.assigned_to.clone()),
        ("caller_id", i.caller_id.clone()),
        ("cmdb_ci", i.cmdb_ci.clone()),
        ("location", i.location.clone()),
        ("parent_incident", i.parent_incident.clone()),
        ("correlation_id", i.correlation_id.clone()),
        ("major_incident_state", i.major_incident_state.clone()),
        ("u_crisis_lead", i.crisis_lead.clone()),
        ("u_communication_lead", i.communication_lead.clone()),
        ("u_plan_id", i.plan_id.clone()),
        ("u_review", i.review_summary.clone()),
        ("close_code", i.close_code.clone()),
        ("close_notes", i.close_notes.clone()),
        ("opened_at", time(&i.opened_at)),
        ("resolved_at", opt(&i.resolved_at)),
        ("closed_at", opt(&i.closed_at)),
        ("sys_mod_count", i.sys_mod_count.to_string()),
        ("sys_created_on", time(&i.sys_created_on)),
        ("sys_created_by", i.sys_created_by.clone()),
        ("sys_updated_on", time(&i.sys_updated_on)),
        ("sys_updated_by", i.sys_updated_by.clone()),
        ("work_notes", String::new()),
        ("comments", String::new()),
    ]
}

fn field_value(i: &Incident, field: &str) -> Option<String> {
    values(i).into_iter().find(|(f, _)| *f == field).map(|(_, v)| v)
}

fn render(i: &Incident, fields: &Option<Vec<String>>, display: Display) -> Value {
    let mut m = Map::new();
    for (f, v) in values(i) {
        if fields.as_ref().is_some_and(|fs| !fs.iter().any(|x| x == f)) {
            continue;
        }
        let shown = || match f {
            "opened_at" | "resolved_at" | "closed_at" | "sys_created_on" | "sys_updated_on" if !v.is_empty() => {
                let t =
                    chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%d %H:%M:%S").expect("written above").and_utc();
                vigie_domain::paris::to_local(t).format("%d/%m/%Y %H:%M:%S").to_string()
            }
            "active" => v.clone(),
            _ => incident::display(f, &v).unwrap_or_else(|| v.clone()),
        };
        let out = match display {
            Display::Value => Value::String(v.clone()),
            Display::Shown => Value::String(shown()),
            Display::All => json!({"display_value": shown(), "value": v}),
        };
        m.insert(f.to_string(), out);
    }
    Value::Object(m)
}

fn fields_of(params: &BTreeMap<String, String>) -> Option<Vec<String>> {
    params
        .get("sysparm_fields")
        .map(|f| f.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
}

/// `GET /api/now/table/incident`.
async fn list(
    AxState(app): AxState<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, SnError> {
    table(&name)?;
    let query = Encoded::parse(params.get("sysparm_query").map_or("", |s| s.as_str()))
        .map_err(|e| sn(StatusCode::BAD_REQUEST, "Invalid query", e.to_string()))?;
    let number = |k: &str, default: usize| -> Result<usize, SnError> {
        match params.get(k).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                sn(StatusCode::BAD_REQUEST, "Invalid request", format!("{k} must be a whole number, found {v:?}"))
            }),
        }
    };
    let limit = number("sysparm_limit", 10_000)?.max(1);
    let offset = number("sysparm_offset", 0)?;
    let (display, fields) = (display_of(&params), fields_of(&params));
    let (total, page) = {
        let st = app.journal.state();
        let mut rows: Vec<&Incident> = st
            .incidents
            .values()
            .map(|s| &s.value)
            .filter(|i| visible(&caller, i) && query.matches(&|f| field_value(i, f)))
            .collect();
        rows.sort_by(|a, b| a.number.cmp(&b.number));
        rows.sort_by(|a, b| query.compare(&|f| field_value(a, f), &|f| field_value(b, f)));
        let total = rows.len();
        let page: Vec<Value> = rows.into_iter().skip(offset).take(limit).map(|i| render(i, &fields, display)).collect();
        (total, page)
    };
    let mut r = Json(json!({ "result": page })).into_response();
    r.headers_mut().insert("x-total-count", HeaderValue::from(total));
    if !truthy(params.get("sysparm_suppress_pagination_header")) {
        if let Some(link) = link_header(&headers, &params, offset, limit, total) {
            if let Ok(v) = HeaderValue::from_str(&link) {
                r.headers_mut().insert(header::LINK, v);
            }
        }
    }
    Ok(r)
}

/// `<…offset=0…>;rel="first",<…>;rel="prev",<…>;rel="next",<…>;rel="last"`, absolute, from the Host header.
fn link_header(
    headers: &HeaderMap,
    params: &BTreeMap<String, String>,
    offset: usize,
    limit: usize,
    total: usize,
) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let url = |o: usize| {
        let mut p = params.clone();
        p.insert("sysparm_offset".into(), o.to_string());
        p.insert("sysparm_limit".into(), limit.to_string());
        let q: Vec<String> = p.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        format!("<http://{host}/api/now/table/incident?{}>", q.join("&"))
    };
    let last = if total == 0 { 0 } else { (total - 1) / limit * limit };
    let mut parts = vec![format!("{};rel=\"first\"", url(0))];
    if offset > 0 {
        parts.push(format!("{};rel=\"prev\"", url(offset.saturating_sub(limit))));
    }
    if offset + limit < total {
        parts.push(format!("{};rel=\"next\"", url(offset + limit)));
    }
    parts.push(format!("{};rel=\"last\"", url(last)));
    Some(parts.join(","))
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /api/now/table/incident/{sys_id}`.
async fn one(
    AxState(app): AxState<App>,
    caller: Caller,
    Path((name, sys_id)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<Value>, SnError> {
    table(&name)?;
    let st = app.journal.state();
    let i = st.incidents.get(&sys_id).filter(|i| visible(&caller, &i.value)).ok_or_else(not_found)?;
    Ok(Json(json!({"result": render(&i.value, &fields_of(&params), display_of(&params))})))
}

fn not_found() -> SnError {
    sn(StatusCode::NOT_FOUND, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
}

/// A linked logistics plan must exist.
fn check_plan(st: &State, fields: &Changes) -> Result<(), SnError> {
    match fields.get("u_plan_id").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        Some(p) if !st.plans.contains_key(p) => {
            Err(sn(StatusCode::BAD_REQUEST, "Operation Failed", format!("u_plan_id: unknown plan {p}")))
        }
        _ => Ok(()),
    }
}

/// A body's fields as text.
fn changes(body: &[u8]) -> Result<Changes, SnError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        sn(StatusCode::BAD_REQUEST, "Exception while reading request", format!("the body is not JSON: {e}"))
    })?;
    let Value::Object(m) = v else {
        return Err(sn(StatusCode::BAD_REQUEST, "Exception while reading request", "expected a JSON object"));
    };
    Ok(m.into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                Value::Object(o) => o.get("value").and_then(|x| x.as_str()).unwrap_or("").to_string(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

/// Runs a decision on the current state inside the journal's command: the incident it returns is recorded.
async fn record(
    app: &App,
    actor: Actor,
    source: String,
    decide: impl FnOnce(&State) -> Result<Event, SnError> + Send + 'static,
) -> Result<Option<Incident>, SnError> {
    let committed = app
        .blocking(move |j| {
            Ok(j.execute(move |st| {
                let event = decide(st)?;
                let recorded = match &event {
                    Event::IncidentRecorded(i) => Some((**i).clone()),
                    _ => None,
                };
                Ok((vec![NewEvent { actor, source, event }], recorded))
            }))
        })
        .await
        .map_err(SnError::from)?;
    match committed {
        Ok((_, recorded)) => Ok(recorded),
        Err(vigie_journal::ExecuteError::Refused(e)) => Err(e),
        Err(vigie_journal::ExecuteError::Journal(e)) => Err(SnError::from(crate::ApiError::from(e))),
    }
}

/// `POST /api/now/table/incident`: 201 with the record.
async fn create(
    AxState(app): AxState<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Result<Response, SnError> {
    let actor = caller.actor();
    table(&name)?;
    let mut fields = changes(&body)?;
    if let Reach::Partner(p) = &caller.0.reach {
        // A partner opens incidents for its own group.
        let group = fields.entry("assignment_group".into()).or_default();
        if group.is_empty() {
            *group = p.to_string();
        }
    }
    let by = actor.to_string();
    let sys_id = vigie_journal::new_event_id().simple().to_string();
    let i = record(&app, actor, "POST /api/now/table/incident".into(), move |st| {
        check_plan(st, &fields)?;
        let i = incident::create(&fields, sys_id, st.last_incident_number + 1, chrono::Utc::now(), &by)
            .map_err(incident_error)?;
        if !visible(&caller, &i) {
            return Err(outside(&caller));
        }
        Ok(Event::IncidentRecorded(Box::new(i)))
    })
    .await?
    .expect("a recorded incident");
    let body = json!({"result": render(&i, &fields_of(&params), display_of(&params))});
    let mut r = (StatusCode::CREATED, Json(body)).into_response();
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        if let Ok(v) = HeaderValue::from_str(&format!("http://{host}/api/now/table/incident/{}", i.sys_id)) {
            r.headers_mut().insert(header::LOCATION, v);
        }
    }
    Ok(r)
}

/// `PUT` and `PATCH /api/now/table/incident/{sys_id}`: a partial update, 200 with the record.
async fn update(
    AxState(app): AxState<App>,
    caller: Caller,
    Path((name, sys_id)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, SnError> {
    let actor = caller.actor();
    table(&name)?;
    let fields = changes(&body)?;
    let by = actor.to_string();
    let source = format!("PUT /api/now/table/incident/{sys_id}");
    let i = record(&app, actor, source, move |st| {
        let current = st.incidents.get(&sys_id).filter(|i| visible(&caller, &i.value)).ok_or_else(not_found)?;
        check_plan(st, &fields)?;
        let i = incident::update(&current.value, &fields, chrono::Utc::now(), &by).map_err(incident_error)?;
        if !visible(&caller, &i) {
            return Err(outside(&caller));
        }
        Ok(Event::IncidentRecorded(Box::new(i)))
    })
    .await?
    .expect("a recorded incident");
    Ok(Json(json!({"result": render(&i, &fields_of(&params), display_of(&params))})))
}

/// `DELETE /api/now/table/incident/{sys_id}`: 204.
async fn remove(
    AxState(app): AxState<App>,
    caller: Caller,
    Path((name, sys_id)): Path<(String, String)>,
) -> Result<StatusCode, SnError> {
    let actor = caller.actor();
    table(&name)?;
    let source = format!("DELETE /api/now/table/incident/{sys_id}");
    record(&app, actor, source, move |st| {
        let current = st.incidents.get(&sys_id).ok_or_else(not_found)?;
        Ok(Event::IncidentDeleted(IncidentDeleted { sys_id: sys_id.clone(), number: current.value.number.clone() }))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
