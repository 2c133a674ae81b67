//! The TOC's HTTP surface (docs/monitoring.md): results in (push API, Icinga-style fields, Alertmanager webhooks),
//! the live picture out (current state and roll-ups, checks, history, an SSE stream of changes, Prometheus
//! `/metrics`), acknowledgements and maintenance windows.
//!
//! Every hard state change is journalled (durable) before the request that caused it is answered; the screens'
//! stream carries the changes once they are.

pub mod active;
pub mod live;
pub mod plugins;

use crate::{ApiError, App};
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use live::{instant, millis, LiveChange, Result1};
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use vigie_domain::health::Status;
use vigie_domain::toc::{CheckAcknowledged, MaintenanceWindow, WindowCancelled, WindowScope};
use vigie_domain::{Actor, CheckId, Event, NewEvent};
use vigie_monitor::alertmanager::Payload;
use vigie_monitor::plugin::parse_output;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/results", post(results))
        .route("/alertmanager", post(alertmanager))
        .route("/state", get(state))
        .route("/checks", get(checks))
        .route("/checks/{id}", get(check))
        .route("/checks/{id}/ack", post(acknowledge))
        .route("/history", get(history))
        .route("/maintenance", get(windows).post(schedule))
        .route("/maintenance/{id}", axum::routing::delete(cancel))
        .route("/stream", get(stream))
}

fn now_ms() -> i64 {
    millis(chrono::Utc::now())
}

/// Brings the live estate up to the registry, then runs `f` on it.
fn with_live<T>(app: &App, f: impl FnOnce(&live::Live) -> T) -> T {
    {
        let st = app.journal.state();
        app.live.sync(&st, now_ms());
    }
    f(&app.live)
}

/// Journals the hard changes, then tells the screens. Results whose changes could not be journalled are answered
/// with an error.
async fn commit(app: &App, events: Vec<NewEvent>, changes: Vec<Arc<LiveChange>>) -> Result<usize, ApiError> {
    let n = events.len();
    if !events.is_empty() {
        let live = app.live.clone();
        let shown = changes.clone();
        // The incidents the alerts open or touch are decided with them, in one journal command.
        app.blocking(move |j| {
            j.execute(move |st| {
                let mut all = events;
                let opened = alert_incidents(st, &live, &all, &shown);
                all.extend(opened);
                Ok::<_, String>((all, ()))
            })
            .map(|_| ())
            .map_err(ApiError::from)
        })
        .await?;
    }
    app.live.broadcast(changes);
    Ok(n)
}

/// Incident versions for the hard changes among `events`, and for checks that were hidden behind a failed
/// dependency and now show their own failure (`shown`: UNREACHABLE → CRITICAL) (docs/incidents.md).
fn alert_incidents(
    st: &vigie_domain::State,
    live: &live::Live,
    events: &[NewEvent],
    shown: &[Arc<LiveChange>],
) -> Vec<NewEvent> {
    use vigie_domain::health::Shown;
    use vigie_domain::toc::Criticality;
    use vigie_incidents::alerts::{decide, AlertChange};
    /// What the rules need of a change: check, status, when, output, during maintenance.
    struct Raw<'a> {
        check: &'a str,
        to: Status,
        at: chrono::DateTime<chrono::Utc>,
        output: &'a str,
        during_maintenance: bool,
    }
    let g = live.lock();
    let hard = events.iter().filter_map(|e| match &e.event {
        Event::CheckStateChanged(c) if c.from != c.to => Some(Raw {
            check: c.check_id.as_str(),
            to: c.to,
            at: c.at,
            output: &c.output,
            during_maintenance: c.during_maintenance,
        }),
        _ => None,
    });
    let hard: Vec<Raw> = hard.collect();
    let seen: std::collections::HashSet<&str> = hard.iter().map(|r| r.check).collect();
    let revealed = shown
        .iter()
        .filter(|c| c.from == Shown::Unreachable && c.to == Shown::Critical && !seen.contains(&*c.check_id))
        .map(|c| Raw {
            check: &c.check_id,
            to: Status::Critical,
            at: c.at,
            output: &c.output,
            during_maintenance: false,
        });
    let alerts: Vec<AlertChange> = hard
        .into_iter()
        .chain(revealed)
        .filter_map(|c| {
            let slot = g.estate.slot(c.check)?;
            let site_id = g.site_of(slot).map(|s| s.to_string());
            let app = g.application_of(slot).map(|a| a.0.to_string());
            let app_rec = app
                .as_deref()
                .and_then(|a| vigie_domain::ApplicationId::parse(a).ok())
                .and_then(|a| st.toc.applications.get(&a))
                .map(|a| &a.value);
            let site_name = site_id
                .as_deref()
                .and_then(|s| vigie_domain::SiteId::parse(s).ok())
                .and_then(|s| st.sites.get(&s).map(|r| r.value.name.clone()))
                .unwrap_or_else(|| site_id.clone().unwrap_or_default());
            Some(AlertChange {
                check_id: c.check.to_string(),
                site_id,
                site_name,
                application_name: app_rec.map_or_else(|| app.clone().unwrap_or_default(), |a| a.name.clone()),
                critical: app_rec.is_some_and(|a| a.criticality == Criticality::Critical),
                partner: app_rec.and_then(|a| a.partner_id.as_ref()).map(|p| p.to_string()),
                application_id: app,
                to: c.to,
                unreachable: g.estate.shown(slot) == Shown::Unreachable,
                during_maintenance: c.during_maintenance,
                output: c.output.split(" | ").next().unwrap_or("").to_string(),
                at: c.at,
            })
        })
        .collect();
    if alerts.is_empty() {
        return Vec::new();
    }
    let open = |key: &str| {
        st.incidents.values().map(|s| &s.value).find(|i| i.correlation_id == key && matches!(i.state, 1..=3)).cloned()
    };
    let ok = |check: &str| g.estate.slot(check).is_some_and(|s| g.estate.state(s).hard == Status::Ok);
    let mut sys_id = || vigie_journal::new_event_id().simple().to_string();
    let actor = Actor::system("supervision");
    decide(&alerts, &open, &ok, st.last_incident_number, &mut sys_id, actor.as_str())
        .into_iter()
        .map(|i| NewEvent {
            actor: actor.clone(),
            source: format!("alert:{}", i.correlation_id),
            event: Event::IncidentRecorded(Box::new(i)),
        })
        .collect()
}

/// One result as clients send it: Vigie's fields or Icinga's (`exit_status`, `plugin_output`,
/// `performance_data`).
#[derive(Debug, Deserialize)]
struct ResultIn {
    #[serde(alias = "check_id")]
    check: Option<String>,
    status: Option<Value>,
    exit_status: Option<i64>,
    #[serde(alias = "plugin_output")]
    output: Option<String>,
    performance_data: Option<Perf>,
    /// RFC 3339, or seconds since the epoch.
    #[serde(alias = "execution_end")]
    time: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Perf {
    Text(String),
    List(Vec<String>),
}

/// A body object: `{"results": [...]}` or one result. `results`, a field of its own, is parsed in place; only the
/// few fields of a single result go through the flattened buffer.
#[derive(Debug, Deserialize)]
struct ObjectIn {
    results: Option<Vec<ResultIn>>,
    #[serde(flatten)]
    one: ResultIn,
}

fn parse_body(body: &[u8]) -> Result<Vec<ResultIn>, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let bad = |e: serde_json::Error| ApiError::BadRequest(format!("the body is not valid results JSON: {e}"));
    match first {
        Some(b'[') => serde_json::from_slice(body).map_err(bad),
        Some(b'{') => {
            let o: ObjectIn = serde_json::from_slice(body).map_err(bad)?;
            Ok(match o.results {
                Some(r) => r,
                None => vec![o.one],
            })
        }
        _ => Err(ApiError::BadRequest("expected a JSON object or array of results".into())),
    }
}

const MAX_OUTPUT: usize = 1024;

/// Resolves and validates every result before any is taken: one bad result refuses the batch.
fn resolve(inner: &live::Inner, items: Vec<ResultIn>, now: i64) -> Result<Vec<Result1>, ApiError> {
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, r) in items.into_iter().enumerate() {
        let Some(id) = r.check.as_deref() else {
            problems.push(format!("result {i}: `check` is required"));
            continue;
        };
        let Some(slot) = inner.estate.slot(id) else {
            problems.push(format!("result {i}: unknown check {id:?}"));
            continue;
        };
        let status = match (&r.status, r.exit_status) {
            (Some(Value::String(s)), _) => Status::parse(s),
            (Some(Value::Number(n)), _) => n.as_i64().filter(|c| (0..=3).contains(c)).map(Status::from_exit_code),
            (None, Some(code)) => Some(Status::from_exit_code(code)),
            _ => None,
        };
        let Some(status) = status else {
            problems.push(format!(
                "result {i}: expected `status` OK, WARNING, CRITICAL, UNKNOWN or 0–3, or `exit_status`, for check {id}"
            ));
            continue;
        };
        let at = match &r.time {
            None => now,
            Some(Value::Number(n)) => n.as_f64().map_or(now, |s| (s * 1000.0) as i64),
            Some(Value::String(s)) => match vigie_domain::instant::parse(s) {
                Some(t) => millis(t),
                None => {
                    problems.push(format!("result {i}: `time` {s:?} is not an RFC 3339 instant"));
                    continue;
                }
            },
            Some(_) => {
                problems.push(format!("result {i}: `time` must be RFC 3339 text or seconds since the epoch"));
                continue;
            }
        };
        let mut output = r.output.unwrap_or_default();
        match r.performance_data {
            Some(Perf::Text(p)) if !p.trim().is_empty() => output = format!("{output} | {}", p.trim()),
            Some(Perf::List(l)) if !l.is_empty() => output = format!("{output} | {}", l.join(" ")),
            _ => {}
        }
        if output.len() > MAX_OUTPUT {
            let mut cut = MAX_OUTPUT;
            while !output.is_char_boundary(cut) {
                cut -= 1;
            }
            output.truncate(cut);
        }
        out.push(Result1 { slot, status, output, at });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Unprocessable { message: format!("{} bad result(s); none was taken", problems.len()), problems })
    }
}

/// `POST /api/v1/monitoring/results`: one result, a list, or `{"results": [...]}`.
async fn results(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let actor = caller.actor();
    let items = parse_body(&body)?;
    let n = items.len();
    let (events, changes) = with_live(&app, |live| {
        let rs = resolve(&live.lock(), items, now_ms())?;
        Ok::<_, ApiError>(live.ingest(&rs, &actor, "POST /api/v1/monitoring/results"))
    })?;
    let k = commit(&app, events, changes).await?;
    Ok(Json(json!({"accepted": n, "state_changes": k})))
}

/// `POST /api/v1/monitoring/alertmanager`: an Alertmanager webhook (version 4).
async fn alertmanager(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let actor = caller.actor();
    let payload: Payload = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("not an Alertmanager webhook payload: {e}")))?;
    payload.validate().map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let now = now_ms();
    let (events, changes, matched, unmatched) = with_live(&app, |live| {
        let rs: Vec<(Vec<u32>, Status, String, i64)> = {
            let g = live.lock();
            payload
                .alerts
                .iter()
                .map(|a| {
                    let at =
                        vigie_domain::instant::parse(if a.status == "resolved" { &a.ends_at } else { &a.starts_at })
                            .map_or(now, millis)
                            .min(now);
                    (g.labels.find(&a.labels), a.check_status(), a.output(), at)
                })
                .collect()
        };
        let unmatched = rs.iter().filter(|r| r.0.is_empty()).count();
        let results: Vec<Result1> = rs
            .into_iter()
            .flat_map(|(slots, status, output, at)| {
                slots.into_iter().map(move |slot| Result1 { slot, status, output: output.clone(), at })
            })
            .collect();
        let (e, c) = live.ingest(&results, &actor, "POST /api/v1/monitoring/alertmanager");
        live.counters.alerts.fetch_add(payload.alerts.len() as u64, Ordering::Relaxed);
        live.counters.alerts_unmatched.fetch_add(unmatched as u64, Ordering::Relaxed);
        (e, c, results.len(), unmatched)
    });
    let k = commit(&app, events, changes).await?;
    Ok(Json(
        json!({"alerts": payload.alerts.len(), "checks": matched, "unmatched_alerts": unmatched, "state_changes": k}),
    ))
}

/// `GET /api/v1/monitoring/state`: counts and roll-ups of everything.
async fn state(AxState(app): AxState<App>) -> Json<live::Summary> {
    let now = now_ms();
    Json(with_live(&app, |live| live.lock().summary(now)))
}

#[derive(Debug, Deserialize, Default)]
struct CheckQuery {
    site: Option<String>,
    application: Option<String>,
    suite: Option<String>,
    /// Shown state: OK, WARNING, CRITICAL, UNKNOWN, MAINTENANCE, UNREACHABLE (comma-separated).
    state: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

fn check_json(g: &live::Inner, slot: u32, now: i64) -> Value {
    let st = g.estate.state(slot);
    let d = g.estate.durations(slot, now);
    let app = g.application_of(slot);
    json!({
        "id": &*g.estate.def(slot).id,
        "kind": g.kinds[slot as usize],
        "site_id": g.site_of(slot).map(|s| &**s),
        "application_id": app.map(|a| &**a.0),
        "suite": app.map(|a| &**a.1),
        "shown": g.estate.shown(slot),
        "colour": g.estate.shown(slot).colour(),
        "label_fr": g.estate.shown(slot).label_fr(),
        "cause": g.estate.cause(slot).map(|c| &**c),
        "status": st.status,
        "hard": st.hard,
        "state_type": st.state_type,
        "attempt": st.attempt,
        "last_result": st.last_result.map(instant),
        "last_hard_change": instant(st.last_hard_change),
        "flapping": st.flapping,
        "acknowledged": st.acknowledged,
        "in_maintenance": st.in_maintenance,
        "stale": st.stale,
        "output": g.output(slot).split(" | ").next().unwrap_or(""),
        "availability": d.availability(),
    })
}

/// `GET /api/v1/monitoring/checks`: filtered by site, application, suite and shown state; paged.
/// The applications a partner supports; `None`: the caller sees every check.
fn partner_apps(app: &App, caller: &crate::access::Caller) -> Option<std::collections::HashSet<String>> {
    let vigie_domain::access::Reach::Partner(p) = &caller.0.reach else { return None };
    let st = app.journal.state();
    let mine = st.toc.applications.values().filter(|a| a.value.partner_id.as_ref() == Some(p));
    Some(mine.map(|a| a.value.id.to_string()).collect())
}

async fn checks(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    Query(q): Query<CheckQuery>,
) -> Result<Json<Value>, ApiError> {
    let apps = partner_apps(&app, &caller);
    let states: Option<Vec<vigie_domain::health::Shown>> = match &q.state {
        None => None,
        Some(s) => Some(
            s.split(',')
                .map(|t| {
                    vigie_domain::health::Shown::ALL
                        .into_iter()
                        .find(|x| x.as_str().eq_ignore_ascii_case(t.trim()))
                        .ok_or_else(|| ApiError::BadRequest(format!("unknown state {t:?}: expected OK, WARNING, CRITICAL, UNKNOWN, MAINTENANCE or UNREACHABLE")))
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let offset = q.offset.unwrap_or(0);
    let now = now_ms();
    Ok(Json(with_live(&app, |live| {
        let g = live.lock();
        let keep = |slot: u32| {
            q.site.as_deref().is_none_or(|s| g.site_of(slot).is_some_and(|x| &**x == s))
                && q.application.as_deref().is_none_or(|a| g.application_of(slot).is_some_and(|x| &**x.0 == a))
                && q.suite.as_deref().is_none_or(|a| g.application_of(slot).is_some_and(|x| &**x.1 == a))
                && states.as_ref().is_none_or(|v| v.contains(&g.estate.shown(slot)))
                && apps.as_ref().is_none_or(|a| g.application_of(slot).is_some_and(|x| a.contains(&**x.0)))
        };
        let mut total = 0usize;
        let mut page = Vec::new();
        for slot in 0..g.estate.len() as u32 {
            if keep(slot) {
                if total >= offset && page.len() < limit {
                    page.push(check_json(&g, slot, now));
                }
                total += 1;
            }
        }
        json!({"total": total, "offset": offset, "checks": page})
    })))
}

/// `GET /api/v1/monitoring/checks/{id}`: state, parsed output and performance data, recent history.
async fn check(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let now = now_ms();
    let apps = partner_apps(&app, &caller);
    let mut v = with_live(&app, |live| {
        let g = live.lock();
        let slot = g.estate.slot(&id).ok_or_else(|| ApiError::NotFound(format!("check {id}")))?;
        if apps.as_ref().is_some_and(|a| !g.application_of(slot).is_some_and(|x| a.contains(&**x.0))) {
            return Err(ApiError::Forbidden(format!("check {id} is not one of your applications'")));
        }
        let mut v = check_json(&g, slot, now);
        let parsed = parse_output(g.output(slot));
        v["plugin"] = json!(parsed);
        Ok::<_, ApiError>(v)
    })?;
    let st = app.journal.state();
    let history: Vec<&vigie_domain::toc::CheckStateChange> =
        st.toc.history.iter().rev().filter(|(_, c)| c.check_id.as_str() == id).take(50).map(|(_, c)| c).collect();
    v["history"] = json!(history);
    v["definition"] = json!(CheckId::parse(&id).ok().and_then(|c| st.toc.checks.get(&c)));
    Ok(Json(v))
}

#[derive(Debug, Deserialize, Default)]
struct AckBody {
    #[serde(default)]
    comment: String,
}

/// `POST /api/v1/monitoring/checks/{id}/ack`.
async fn acknowledge(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    Path(id): Path<String>,
    body: Option<Json<AckBody>>,
) -> Result<Json<Value>, ApiError> {
    let actor = caller.actor();
    let comment = body.map(|b| b.0.comment).unwrap_or_default();
    let check_id = CheckId::parse(&id).map_err(|_| ApiError::NotFound(format!("check {id}")))?;
    with_live(&app, |live| {
        let mut g = live.lock();
        let slot = g.estate.slot(&id).ok_or_else(|| ApiError::NotFound(format!("check {id}")))?;
        if !g.estate.acknowledge(slot) {
            return Err(ApiError::Conflict(format!("check {id} has no hard problem to acknowledge")));
        }
        Ok(())
    })?;
    let event = NewEvent {
        actor,
        source: format!("POST /api/v1/monitoring/checks/{id}/ack"),
        event: Event::CheckAcknowledged(CheckAcknowledged { check_id, comment }),
    };
    commit(&app, vec![event], Vec::new()).await?;
    Ok(Json(json!({"acknowledged": id})))
}

#[derive(Debug, Deserialize, Default)]
struct HistoryQuery {
    check: Option<String>,
    site: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/monitoring/history`: journalled state changes, newest first.
async fn history(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    Query(q): Query<HistoryQuery>,
) -> Json<Value> {
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let apps = partner_apps(&app, &caller);
    let st = app.journal.state();
    let app_of = |c: &CheckId| st.toc.checks.get(c).and_then(|k| k.value.application_id.as_ref()).map(|a| a.as_str());
    let site_of = |c: &CheckId| st.toc.checks.get(c).and_then(|k| k.value.site_id.as_ref()).map(|s| s.as_str());
    let rows: Vec<Value> = st
        .toc
        .history
        .iter()
        .rev()
        .filter(|(_, c)| q.check.as_deref().is_none_or(|k| c.check_id.as_str() == k))
        .filter(|(_, c)| q.site.as_deref().is_none_or(|s| site_of(&c.check_id) == Some(s)))
        .filter(|(_, c)| apps.as_ref().is_none_or(|a| app_of(&c.check_id).is_some_and(|x| a.contains(x))))
        .take(limit)
        .map(|(seq, c)| json!({"seq": seq, "change": c}))
        .collect();
    Json(json!({"changes": rows}))
}

async fn windows(AxState(app): AxState<App>) -> Json<Value> {
    let st = app.journal.state();
    Json(json!({"windows": st.toc.windows.values().collect::<Vec<_>>()}))
}

/// `POST /api/v1/monitoring/maintenance`: schedules (or replaces, by id) a window.
async fn schedule(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let actor = caller.actor();
    let w: MaintenanceWindow = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "expected a window {{id, scope: {{by: site|application|asset|check|tag, id}}, starts_at, ends_at, \
             every_hours?, reason?}}: {e}"
        ))
    })?;
    if w.ends_at <= w.starts_at {
        return Err(ApiError::BadRequest("`ends_at` must be after `starts_at`".into()));
    }
    if w.every_hours == Some(0) {
        return Err(ApiError::BadRequest("`every_hours` must be at least 1".into()));
    }
    {
        let st = app.journal.state();
        let known = match &w.scope {
            WindowScope::Site(s) => st.sites.keys().any(|k| k.as_str() == s),
            WindowScope::Application(a) => st.toc.applications.keys().any(|k| k.as_str() == a),
            WindowScope::Asset(a) => st.toc.assets.keys().any(|k| k.as_str() == a),
            WindowScope::Check(c) => st.toc.checks.keys().any(|k| k.as_str() == c),
            WindowScope::Tag(_) => true,
        };
        if !known {
            return Err(ApiError::NotFound(format!("{:?}", w.scope).to_lowercase().replace(['(', ')', '"'], " ")));
        }
    }
    let id = w.id.to_string();
    let event =
        NewEvent { actor, source: "POST /api/v1/monitoring/maintenance".into(), event: Event::MaintenanceScheduled(w) };
    commit(&app, vec![event], Vec::new()).await?;
    apply_registry_change(&app).await?;
    Ok(Json(json!({"scheduled": id})))
}

/// `DELETE /api/v1/monitoring/maintenance/{id}`.
async fn cancel(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let actor = caller.actor();
    let wid = vigie_domain::WindowId::parse(&id).map_err(|_| ApiError::NotFound(format!("window {id}")))?;
    if !app.journal.state().toc.windows.contains_key(&wid) {
        return Err(ApiError::NotFound(format!("window {id}")));
    }
    let event = NewEvent {
        actor,
        source: format!("DELETE /api/v1/monitoring/maintenance/{id}"),
        event: Event::MaintenanceCancelled(WindowCancelled { id: wid }),
    };
    commit(&app, vec![event], Vec::new()).await?;
    apply_registry_change(&app).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// After a registry change: rebuild the estate now and announce what that changed on screens.
async fn apply_registry_change(app: &App) -> Result<(), ApiError> {
    let live = app.live.clone();
    let st = app.journal.state_handle();
    let changes = tokio::task::spawn_blocking(move || {
        let st = st.read().unwrap_or_else(|p| p.into_inner());
        live.rebuild_and_diff(&st, now_ms())
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    app.live.broadcast(changes);
    Ok(())
}

#[derive(Debug, Deserialize, Default)]
struct StreamQuery {
    site: Option<String>,
    application: Option<String>,
    suite: Option<String>,
}

/// `GET /api/v1/monitoring/stream`: what checks show, as it changes (SSE event `state`; `resync` when this client
/// fell behind and should reload `/state`).
async fn stream(
    AxState(app): AxState<App>,
    caller: crate::access::Caller,
    Query(q): Query<StreamQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = app.live.changes.subscribe();
    let mut shutdown = app.shutdown.clone();
    // A partner receives the changes of its applications' checks only.
    let apps = partner_apps(&app, &caller);
    let wanted = move |c: &LiveChange| {
        apps.as_ref().is_none_or(|a| c.application_id.as_deref().is_some_and(|x| a.contains(x)))
            && q.site.as_deref().is_none_or(|s| c.site_id.as_deref() == Some(s))
            && q.application.as_deref().is_none_or(|a| c.application_id.as_deref() == Some(a))
            && q.suite.as_deref().is_none_or(|s| c.suite.as_deref() == Some(s))
    };
    let events = stream::unfold((rx, wanted), |(mut rx, wanted)| async move {
        loop {
            match rx.recv().await {
                Ok(c) if wanted(&c) => {
                    let data = serde_json::to_string(&*c).unwrap_or_default();
                    return Some((Ok(SseEvent::default().event("state").data(data)), (rx, wanted)));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => {
                    let ev = SseEvent::default().event("resync").data(json!({"missed": n}).to_string());
                    return Some((Ok(ev), (rx, wanted)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    Sse::new(events.take_until(Box::pin(stop))).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// `GET /metrics`: Prometheus text exposition format 0.0.4.
pub async fn metrics(AxState(app): AxState<App>) -> impl IntoResponse {
    use std::fmt::Write;
    let now = now_ms();
    let (counts, checks) = with_live(&app, |live| {
        let g = live.lock();
        let c: vigie_monitor::rollup::Counts = (0..g.estate.len() as u32).map(|s| g.estate.shown(s)).collect();
        (c, g.estate.len())
    });
    let c = &app.live.counters;
    let st = app.journal.state();
    let (last_seq, hist) = (st.last_seq, st.toc.history.len());
    drop(st);
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    metric(
        "vigie_build_info",
        "gauge",
        "Vigie's version.",
        &[(format!("{{version=\"{}\"}}", env!("CARGO_PKG_VERSION")), 1.0)],
    );
    let per_state: Vec<(String, f64)> = vigie_domain::health::Shown::ALL
        .iter()
        .map(|s| (format!("{{state=\"{}\"}}", s.as_str().to_lowercase()), counts.get(*s) as f64))
        .collect();
    metric("vigie_checks", "gauge", "Checks by the state they show.", &per_state);
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    let single: [(&str, &str, &str, f64); 10] = [
        ("vigie_checks_total", "gauge", "Checks supervised.", checks as f64),
        ("vigie_results_total", "counter", "Results taken (push, Alertmanager, active).", load(&c.results)),
        ("vigie_state_changes_total", "counter", "Hard state changes journalled.", load(&c.state_changes)),
        ("vigie_alerts_total", "counter", "Alertmanager alerts received.", load(&c.alerts)),
        (
            "vigie_alerts_unmatched_total",
            "counter",
            "Alertmanager alerts that matched no check.",
            load(&c.alerts_unmatched),
        ),
        ("vigie_active_checks_runs_total", "counter", "Active checks run.", load(&c.active_runs)),
        ("vigie_active_checks_running", "gauge", "Active checks running now.", load(&c.active_running)),
        ("vigie_journal_last_seq", "gauge", "Sequence of the last journalled event.", last_seq as f64),
        ("vigie_state_history_entries", "gauge", "State changes kept in memory.", hist as f64),
        ("vigie_time_seconds", "gauge", "The server's clock.", now as f64 / 1000.0),
    ];
    for (name, kind, help, v) in single {
        metric(name, kind, help, &[(String::new(), v)]);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out)
}

/// The background work of the monitoring: every second, time passes (staleness, windows); the active checks run
/// on their own schedule.
pub async fn tick_loop(app: App) {
    let actor = Actor::system("monitoring");
    let mut every = crate::Every::new(&app, Duration::from_secs(1));
    while every.next().await {
        let live = app.live.clone();
        let st = app.journal.state_handle();
        let a = actor.clone();
        let Ok((events, changes)) = tokio::task::spawn_blocking(move || {
            let now = now_ms();
            {
                let st = st.read().unwrap_or_else(|p| p.into_inner());
                live.sync(&st, now);
            }
            live.tick(now, &a)
        })
        .await
        else {
            continue;
        };
        if let Err(e) = commit(&app, events, changes).await {
            tracing::warn!(error = %e, "monitoring tick: state changes not journalled");
        }
    }
}
