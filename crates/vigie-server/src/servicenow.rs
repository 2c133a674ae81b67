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
use axum::Json;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use vigie_domain::itsm::Incident;
use vigie_incidents::incident::{self, Changes};
use vigie_incidents::query::Query as Encoded;

/// The Table API's error, in ServiceNow's envelope.
#[derive(Debug)]
pub struct SnError {
    status: StatusCode,
    message: String,
    detail: String,
    retry_after: Option<u64>,
}

pub(crate) fn sn(status: StatusCode, message: impl Into<String>, detail: impl Into<String>) -> SnError {
    SnError { status, message: message.into(), detail: detail.into(), retry_after: None }
}

impl IntoResponse for SnError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"message": self.message, "detail": self.detail}, "status": "failure"});
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Vigie\""));
        }
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

impl From<crate::ApiError> for SnError {
    fn from(e: crate::ApiError) -> SnError {
        use crate::ApiError::*;
        let status = e.status();
        let message = match &e {
            NotFound(_) => return not_found(),
            Conflict(_) => "Conflict",
            Unavailable { .. } => "Unavailable",
            BadRequest(_) | UnsupportedMediaType(_) => "Invalid request",
            // ServiceNow answers a rule's refusal of a field with 400 "Operation Failed".
            Invalid { .. } => return sn(StatusCode::BAD_REQUEST, "Operation Failed", e.message()),
            Unauthenticated(_) => "User Not Authenticated",
            Forbidden(_) => "Insufficient rights",
            TooManyRequests { .. } => "Too Many Requests",
            Internal(_) => "Internal error",
        };
        let mut out = sn(status, message, e.message());
        out.retry_after = e.retry_after();
        out
    }
}

impl From<vigie_app::AppError> for SnError {
    fn from(e: vigie_app::AppError) -> SnError {
        match &e {
            vigie_app::AppError::Conflict(m) if m.code == "conflict.stale" => {
                sn(StatusCode::CONFLICT, "Record changed since it was read", m.text.clone())
            }
            _ => crate::ApiError::from(e).into(),
        }
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
        ("active", i.state.is_open().to_string()),
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
pub(crate) async fn list(
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
        let view = caller.principal().view(&st);
        let mut rows: Vec<&Incident> = st
            .incidents
            .values()
            .map(|s| &s.value)
            .filter(|i| view.incident(i) && query.matches(&|f| field_value(i, f)))
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
        if let Some(link) = app.base_url(&headers).map(|base| link_header(&base, &params, offset, limit, total)) {
            if let Ok(v) = HeaderValue::from_str(&link) {
                r.headers_mut().insert(header::LINK, v);
            }
        }
    }
    Ok(r)
}

/// `<…offset=0…>;rel="first",<…>;rel="prev",<…>;rel="next",<…>;rel="last"`, absolute, from `base` (the configured
/// public URL, or a valid `Host`).
fn link_header(base: &str, params: &BTreeMap<String, String>, offset: usize, limit: usize, total: usize) -> String {
    let url = |o: usize| {
        let mut p = params.clone();
        p.insert("sysparm_offset".into(), o.to_string());
        p.insert("sysparm_limit".into(), limit.to_string());
        let q: Vec<String> = p.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        format!("<{base}/api/now/table/incident?{}>", q.join("&"))
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
    parts.join(",")
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
pub(crate) async fn one(
    AxState(app): AxState<App>,
    caller: Caller,
    Path((name, sys_id)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<Value>, SnError> {
    table(&name)?;
    let st = app.journal.state();
    let view = caller.principal().view(&st);
    let i = st.incidents.get(&sys_id).filter(|i| view.incident(&i.value)).ok_or_else(not_found)?;
    Ok(Json(json!({"result": render(&i.value, &fields_of(&params), display_of(&params))})))
}

fn not_found() -> SnError {
    sn(StatusCode::NOT_FOUND, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
}

/// A body's fields as text.
fn changes(body: &[u8]) -> Result<Changes, SnError> {
    // Read field by field, never as a whole `Value`: a body of nested arrays and objects would take a hundred times
    // its size in memory. A field is text, a number or true/false (as text), null (empty) or `{value, …}` (its
    // value when it is text); an array is refused; whatever else an object holds is skipped, not kept.
    let fields: BTreeMap<String, FieldText> = serde_json::from_slice(body).map_err(|e| {
        let detail = if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            format!("the body is not a JSON object of fields: {e}")
        } else {
            "expected a JSON object".to_string()
        };
        sn(StatusCode::BAD_REQUEST, "Exception while reading request", detail)
    })?;
    Ok(fields.into_iter().map(|(k, v)| (k, v.0)).collect())
}

/// One field's value, as [`changes`] reads it.
struct FieldText(String);

impl<'de> serde::Deserialize<'de> for FieldText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FieldText, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = FieldText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("text, a number, true or false, null, or an object {value}")
            }
            fn visit_str<E>(self, v: &str) -> Result<FieldText, E> {
                Ok(FieldText(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<FieldText, E> {
                Ok(FieldText(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<FieldText, E> {
                Ok(FieldText(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<FieldText, E> {
                Ok(FieldText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<FieldText, E> {
                Ok(FieldText(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<FieldText, E> {
                Ok(FieldText(serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string())))
            }
            fn visit_unit<E>(self) -> Result<FieldText, E> {
                Ok(FieldText(String::new()))
            }
            fn visit_none<E>(self) -> Result<FieldText, E> {
                Ok(FieldText(String::new()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<FieldText, A::Error> {
                let mut value = String::new();
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    if k == "value" {
                        value = m.next_value::<Option<Text>>()?.map(|t| t.0).unwrap_or_default();
                    } else {
                        m.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(FieldText(value))
            }
        }
        d.deserialize_any(V)
    }
}

/// The `value` of a `{value, display_value}` field: its text, or nothing (skipped without being held).
struct Text(String);

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Text, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Text(String::new()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Text, A::Error> {
                while m.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(Text(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Runs a command of the application layer off the async threads, answering its errors in ServiceNow's envelope.
async fn command<T: Send + 'static>(
    app: &App,
    f: impl FnOnce(&vigie_journal::Journal) -> Result<T, vigie_app::AppError> + Send + 'static,
) -> Result<T, SnError> {
    let j = app.journal.clone();
    tokio::task::spawn_blocking(move || f(&j))
        .await
        .map_err(|e| SnError::from(crate::ApiError::Internal(e.to_string())))?
        .map_err(SnError::from)
}

/// `POST /api/now/table/incident`: 201 with the record.
pub(crate) async fn create(
    AxState(app): AxState<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Result<Response, SnError> {
    table(&name)?;
    let fields = changes(&body)?;
    let i = command(&app, move |j| vigie_app::incidents::create(j, &caller.0, fields)).await?;
    let body = json!({"result": render(&i, &fields_of(&params), display_of(&params))});
    let mut r = (StatusCode::CREATED, Json(body)).into_response();
    if let Some(base) = app.base_url(&headers) {
        if let Ok(v) = HeaderValue::from_str(&format!("{base}/api/now/table/incident/{}", i.sys_id)) {
            r.headers_mut().insert(header::LOCATION, v);
        }
    }
    Ok(r)
}

/// `PUT` and `PATCH /api/now/table/incident/{sys_id}`: a partial update, 200 with the record.
pub(crate) async fn update(
    AxState(app): AxState<App>,
    caller: Caller,
    Path((name, sys_id)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>, SnError> {
    table(&name)?;
    let fields = changes(&body)?;
    let i = command(&app, move |j| vigie_app::incidents::update(j, &caller.0, &sys_id, fields)).await?;
    Ok(Json(json!({"result": render(&i, &fields_of(&params), display_of(&params))})))
}

/// `DELETE /api/now/table/incident/{sys_id}`: 204.
pub(crate) async fn remove(
    AxState(app): AxState<App>,
    caller: Caller,
    Path((name, sys_id)): Path<(String, String)>,
) -> Result<StatusCode, SnError> {
    table(&name)?;
    command(&app, move |j| vigie_app::incidents::delete(j, &caller.0, &sys_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod field_tests {
    use super::*;

    #[test]
    fn fields_read_as_servicenow_clients_send_them() {
        let c = changes(
            br#"{"a": "x", "b": null, "c": 1, "d": true, "e": {"value": "v", "display_value": "V"}, "f": 1.5,
                 "g": {"display_value": [1, {"x": []}]}, "h": {"value": 3}, "a": "last"}"#,
        )
        .unwrap();
        let got: Vec<(&str, &str)> = c.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [("a", "last"), ("b", ""), ("c", "1"), ("d", "true"), ("e", "v"), ("f", "1.5"), ("g", ""), ("h", "")]
        );
        for bad in [&br#"{"a": [1]}"#[..], b"[]", b"1", b"{", b""] {
            let e = changes(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(bad));
        }
    }
}
