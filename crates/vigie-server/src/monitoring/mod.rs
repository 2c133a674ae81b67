//! The TOC's HTTP surface (docs/monitoring.md): results in (push API, Icinga-style fields, Alertmanager webhooks),
//! the live picture out (current state and roll-ups, checks, history, an SSE stream of changes, Prometheus
//! `/metrics`), acknowledgements and maintenance windows. The writes are the application layer's
//! ([`vigie_app::monitoring`]): every hard state change is journalled before the request that caused it is
//! answered, and the screens hear of it only then. A partner sees its applications' checks only, on every route.

pub mod active;
pub mod plugins;

pub use vigie_app::monitoring::live;

use crate::access::Caller;
use crate::{ApiError, App};
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::Json;
use futures_util::stream::{self, Stream, StreamExt};
use live::{instant, millis, LiveChange, Result1};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use vigie_app::{problem, AppError};
use vigie_domain::access::Reach;
use vigie_domain::health::Status;
use vigie_domain::toc::MaintenanceWindow;
use vigie_domain::CheckId;
use vigie_monitor::alertmanager::Payload;
use vigie_monitor::plugin::parse_output;

fn now_ms() -> i64 {
    millis(chrono::Utc::now())
}

/// Runs `f` on the live estate, brought up to the registry first.
fn with_live<T>(app: &App, f: impl FnOnce(&live::Inner) -> T) -> T {
    let g = app.live.lock_synced(&app.journal, now_ms());
    f(&g)
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
fn resolve(inner: &live::Inner, items: Vec<ResultIn>, now: i64) -> Result<Vec<Result1>, AppError> {
    let mut problems: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, r) in items.into_iter().enumerate() {
        let Some(id) = r.check.as_deref() else {
            problems.push((i, "`check` is required".to_string()));
            continue;
        };
        let Some(slot) = inner.estate.slot(id) else {
            problems.push((i, format!("unknown check {:?}", id.chars().take(80).collect::<String>())));
            continue;
        };
        let status = match (&r.status, r.exit_status) {
            (Some(Value::String(s)), _) => Status::parse(s),
            (Some(Value::Number(n)), _) => n.as_i64().filter(|c| (0..=3).contains(c)).map(Status::from_exit_code),
            (None, Some(code)) => Some(Status::from_exit_code(code)),
            _ => None,
        };
        let Some(status) = status else {
            problems.push((
                i,
                format!("expected `status` OK, WARNING, CRITICAL, UNKNOWN or 0–3, or `exit_status`, for check {id}"),
            ));
            continue;
        };
        let at = match &r.time {
            None => now,
            Some(Value::Number(n)) => n.as_f64().map_or(now, |s| (s * 1000.0) as i64),
            Some(Value::String(s)) => match vigie_domain::instant::parse(s) {
                Some(t) => millis(t),
                None => {
                    problems.push((
                        i,
                        format!("`time` {:?} is not an RFC 3339 instant", s.chars().take(40).collect::<String>()),
                    ));
                    continue;
                }
            },
            Some(_) => {
                problems.push((i, "`time` must be RFC 3339 text or seconds since the epoch".to_string()));
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
        out.push(Result1 { slot, status, output, at, alert: false });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        let message = format!("{} bad result(s); none was taken", problems.len());
        Err(AppError::invalid(
            message,
            problems.into_iter().map(|(i, m)| problem(&format!("results[{i}]"), m)).collect(),
        ))
    }
}

/// `POST /api/v1/monitoring/results`: one result, a list, or `{"results": [...]}`.
pub(crate) async fn results(AxState(app): AxState<App>, caller: Caller, body: Bytes) -> Result<Json<Value>, ApiError> {
    let items = parse_body(&body)?;
    drop(body);
    let live = app.live.clone();
    let done = app
        .blocking(move |j| {
            let now = now_ms();
            Ok(vigie_app::monitoring::ingest(&j, &live, &caller.0, |g| resolve(g, items, now))?)
        })
        .await?;
    Ok(Json(json!({"accepted": done.accepted, "state_changes": done.state_changes})))
}

/// `POST /api/v1/monitoring/alertmanager`: an Alertmanager webhook (version 4).
pub(crate) async fn alertmanager(
    AxState(app): AxState<App>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let payload: Payload = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("not an Alertmanager webhook payload: {e}")))?;
    payload.validate().map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let live = app.live.clone();
    let alerts = payload.alerts.len();
    let (done, matched, unmatched) = app
        .blocking(move |j| {
            let now = now_ms();
            let mut counted = (0usize, 0usize);
            let done = vigie_app::monitoring::ingest(&j, &live, &caller.0, |g| {
                let mut results = Vec::new();
                let mut unmatched = 0;
                for a in &payload.alerts {
                    let at =
                        vigie_domain::instant::parse(if a.status == "resolved" { &a.ends_at } else { &a.starts_at })
                            .map_or(now, millis)
                            .min(now);
                    let slots = g.labels.find(&a.labels);
                    if slots.is_empty() {
                        unmatched += 1;
                    }
                    let (status, output) = (a.check_status(), a.output());
                    results.extend(slots.into_iter().map(|slot| Result1 {
                        slot,
                        status,
                        output: output.clone(),
                        at,
                        alert: true,
                    }));
                }
                counted = (results.len(), unmatched);
                Ok(results)
            })?;
            live.counters.alerts.fetch_add(payload.alerts.len() as u64, Ordering::Relaxed);
            live.counters.alerts_unmatched.fetch_add(counted.1 as u64, Ordering::Relaxed);
            Ok((done, counted.0, counted.1))
        })
        .await?;
    Ok(Json(
        json!({"alerts": alerts, "checks": matched, "unmatched_alerts": unmatched, "state_changes": done.state_changes}),
    ))
}

/// `GET /api/v1/monitoring/state`: counts and roll-ups of everything (a partner: of its applications' checks).
pub(crate) async fn state(AxState(app): AxState<App>, caller: Caller) -> Json<live::Summary> {
    let now = now_ms();
    let apps = partner_apps(&app, &caller);
    Json(with_live(&app, |g| g.summary(now, apps.as_ref())))
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct CheckQuery {
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
        "alert": st.alert,
        "output": g.output(slot).split(" | ").next().unwrap_or(""),
        "availability": d.availability(),
    })
}

/// The applications a partner supports; `None`: the caller sees every check.
fn partner_apps(app: &App, caller: &Caller) -> Option<HashSet<String>> {
    let Reach::Partner(p) = &caller.principal().reach else { return None };
    let st = app.journal.state();
    let mine = st.toc.applications.values().filter(|a| a.value.partner_id.as_ref() == Some(p));
    Some(mine.map(|a| a.value.id.to_string()).collect())
}

/// `GET /api/v1/monitoring/checks`: filtered by site, application, suite and shown state; paged.
pub(crate) async fn checks(
    AxState(app): AxState<App>,
    caller: Caller,
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
    Ok(Json(with_live(&app, |g| {
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
                    page.push(check_json(g, slot, now));
                }
                total += 1;
            }
        }
        json!({"total": total, "offset": offset, "checks": page})
    })))
}

/// `GET /api/v1/monitoring/checks/{id}`: state, parsed output and performance data, recent history.
pub(crate) async fn check(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let now = now_ms();
    let apps = partner_apps(&app, &caller);
    let mut v = with_live(&app, |g| {
        let slot = g.estate.slot(&id).ok_or_else(|| ApiError::from(vigie_app::AppError::not_found("check", &id)))?;
        if apps.as_ref().is_some_and(|a| !g.application_of(slot).is_some_and(|x| a.contains(&**x.0))) {
            return Err(ApiError::Forbidden(format!("check {id} is not one of your applications'").into()));
        }
        let mut v = check_json(g, slot, now);
        let parsed = parse_output(g.output(slot));
        v["plugin"] = json!(parsed);
        Ok::<_, ApiError>(v)
    })?;
    let st = app.journal.state();
    let history: Vec<&vigie_domain::toc::CheckStateChange> =
        st.toc.history.iter().rev().filter(|(_, c)| c.check_id.as_str() == id).take(50).map(|(_, c)| c).collect();
    v["history"] = json!(history);
    v["acknowledgement"] = json!(CheckId::parse(&id).ok().and_then(|c| st.toc.acks.get(&c)));
    v["definition"] = json!(CheckId::parse(&id).ok().and_then(|c| st.toc.checks.get(&c)));
    Ok(Json(v))
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct AckBody {
    #[serde(default)]
    comment: String,
}

/// `POST /api/v1/monitoring/checks/{id}/ack`.
pub(crate) async fn acknowledge(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<AckBody>>,
) -> Result<Json<Value>, ApiError> {
    let comment = body.map(|b| b.0.comment).unwrap_or_default();
    let live = app.live.clone();
    let check = id.clone();
    app.blocking(move |j| Ok(vigie_app::monitoring::acknowledge(&j, &live, &caller.0, &check, comment)?)).await?;
    Ok(Json(json!({"acknowledged": id})))
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct HistoryQuery {
    check: Option<String>,
    site: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/monitoring/history`: journalled state changes, newest first.
pub(crate) async fn history(AxState(app): AxState<App>, caller: Caller, Query(q): Query<HistoryQuery>) -> Json<Value> {
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

/// `GET /api/v1/monitoring/maintenance`.
pub(crate) async fn windows(AxState(app): AxState<App>) -> Json<Value> {
    let st = app.journal.state();
    Json(json!({"windows": st.toc.windows.values().collect::<Vec<_>>()}))
}

/// `POST /api/v1/monitoring/maintenance`: schedules (or replaces, by id) a window.
pub(crate) async fn schedule(AxState(app): AxState<App>, caller: Caller, body: Bytes) -> Result<Json<Value>, ApiError> {
    let w: MaintenanceWindow = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "expected a window {{id, scope: {{by: site|application|asset|check|tag, id}}, starts_at, ends_at, \
             every_hours?, reason?}}: {e}"
        ))
    })?;
    let id = w.id.to_string();
    let live = app.live.clone();
    app.blocking(move |j| Ok(vigie_app::monitoring::schedule_window(&j, &live, &caller.0, w)?)).await?;
    Ok(Json(json!({"scheduled": id})))
}

/// `DELETE /api/v1/monitoring/maintenance/{id}`.
pub(crate) async fn cancel(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let live = app.live.clone();
    app.blocking(move |j| Ok(vigie_app::monitoring::cancel_window(&j, &live, &caller.0, &id)?)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct StreamQuery {
    site: Option<String>,
    application: Option<String>,
    suite: Option<String>,
}

/// `GET /api/v1/monitoring/stream`: what checks show, as it changes (SSE event `state`; `resync` when this client
/// fell behind and should reload `/state`).
pub(crate) async fn stream(
    AxState(app): AxState<App>,
    caller: Caller,
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

/// `GET /metrics`: Prometheus text exposition format 0.0.4. A partner gets its applications' checks only (and
/// Vigie's version and clock), none of the estate's other figures.
pub async fn metrics(AxState(app): AxState<App>, caller: Caller) -> impl IntoResponse {
    use std::fmt::Write;
    let now = now_ms();
    let apps = partner_apps(&app, &caller);
    let (counts, checks) = with_live(&app, |g| {
        let mine = |slot: u32| apps.as_ref().is_none_or(|a| g.application_of(slot).is_some_and(|x| a.contains(&**x.0)));
        let slots: Vec<u32> = (0..g.estate.len() as u32).filter(|s| mine(*s)).collect();
        let c: vigie_monitor::rollup::Counts = slots.iter().map(|s| g.estate.shown(*s)).collect();
        (c, slots.len())
    });
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
    let role = app.journal.role();
    metric(
        "vigie_cluster_leader",
        "gauge",
        "1 when this node writes the journal (the leader, or the only node), 0 when it follows.",
        &[(format!("{{role=\"{}\"}}", role.name()), if role.writes() { 1.0 } else { 0.0 })],
    );
    metric(
        "vigie_journal_position",
        "gauge",
        "The sequence of the last event this node's readers see.",
        &[(String::new(), app.journal.position() as f64)],
    );
    if let Some(c) = &app.cluster {
        let s = c.status();
        metric(
            "vigie_cluster_lag_events",
            "gauge",
            "Events stored but not yet read by this node (0 on the leader).",
            &[(String::new(), s.lag as f64)],
        );
        metric(
            "vigie_cluster_epoch",
            "gauge",
            "The lease's epoch last seen.",
            &[(String::new(), s.leader.map_or(0.0, |l| l.epoch as f64))],
        );
    }
    let per_state: Vec<(String, f64)> = vigie_domain::health::Shown::ALL
        .iter()
        .map(|s| (format!("{{state=\"{}\"}}", s.as_str().to_lowercase()), counts.get(*s) as f64))
        .collect();
    metric("vigie_checks", "gauge", "Checks by the state they show.", &per_state);
    metric("vigie_checks_supervised", "gauge", "Checks supervised.", &[(String::new(), checks as f64)]);
    metric("vigie_time_seconds", "gauge", "The server's clock.", &[(String::new(), now as f64 / 1000.0)]);
    if apps.is_none() {
        let c = &app.live.counters;
        let st = app.journal.state();
        let (last_seq, hist) = (st.last_seq, st.toc.history.len());
        drop(st);
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
        let single: [(&str, &str, &str, f64); 8] = [
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
        ];
        for (name, kind, help, v) in single {
            metric(name, kind, help, &[(String::new(), v)]);
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out)
}

/// The background work of the monitoring: every second, time passes (staleness, windows); the active checks run
/// on their own schedule.
pub async fn tick_loop(app: App) {
    let mut every = crate::Every::new(&app, Duration::from_secs(1));
    while every.next().await {
        if !app.journal.role().writes() {
            // A follower: its estate follows the leader's journalled decisions (hard states, acknowledgements,
            // windows, registry), rebuilt when some arrived.
            if app.live_stale.swap(false, std::sync::atomic::Ordering::SeqCst) {
                let live = app.live.clone();
                let r = app
                    .blocking(move |j| {
                        let changes = live.rebuild_from_journal(&j, now_ms());
                        live.broadcast(changes);
                        Ok(())
                    })
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "monitoring: the follower's estate was not rebuilt");
                }
            }
            continue;
        }
        let live = app.live.clone();
        let r = app.blocking(move |j| Ok(vigie_app::monitoring::tick(&j, &live, now_ms())?)).await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "monitoring tick: state changes not journalled");
        }
    }
}
