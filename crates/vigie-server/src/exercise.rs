//! Exercises (issue 18): each runs on a **sandbox** — a journal of its own, seeded with the live journal's events up
//! to the chosen instant, and a whole Vigie of its own over it (the same routes and pages, no notifications, no
//! outbound sync, no active checks, no status pages) — so that nothing an exercise does reaches the live journal,
//! the people on duty or another system.
//!
//! A participant joins from the live UI: the answer sets two cookies, the exercise's id and a session of the
//! sandbox's own (same user: the accounts came with the picture). From then on [`dispatch`], the live server's
//! outermost layer, hands every request carrying the exercise's id (cookie or `X-Vigie-Exercise` header, for API
//! clients) to the sandbox, whose pages say "EXERCICE" (`/api/v1/session` names the exercise). Leaving clears the
//! cookies; the live session was never touched.
//!
//! The runner fires each inject when the exercise's clock reaches it (`vigie_app::exercise`), as the direction
//! (`exercise:direction`); the review is computed from the sandbox's journal.

use crate::access::{body, Caller};
use crate::{ApiError, App};
use axum::extract::{Path, Query, Request, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use vigie_app::exercise::{Run, Scenario};
use vigie_app::AppError;
use vigie_domain::access::Permission;
use vigie_journal::{Journal, JournalOptions, JournalStore, RowToWrite};

/// The cookie naming the exercise a browser is in.
pub const EXERCISE_COOKIE: &str = "vigie_exercise";
/// The sandbox's session cookie (the live one, `vigie_session`, is left as it is).
pub const SANDBOX_SESSION_COOKIE: &str = "vigie_exercise_session";
/// For API clients: the exercise a request is for.
pub const EXERCISE_HEADER: &str = "x-vigie-exercise";
/// Exercises running at once (each is a whole Vigie over a copy of the journal).
pub const MAX_RUNNING: usize = 4;
/// The direction's actor in the sandbox.
pub const DIRECTOR: &str = "exercise:direction";

/// Opens a store for the exercise of this id.
pub type OpenStore = dyn Fn(&str) -> Result<Box<dyn JournalStore>, String> + Send + Sync;

/// Opens the store of an exercise's journal (the binary: SQLite under `DATA_DIR/exercises/ID`).
#[derive(Clone)]
pub struct ExerciseStore(pub Arc<OpenStore>);

impl std::fmt::Debug for ExerciseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExerciseStore")
    }
}

/// What a sandbox says of itself (its pages' banner).
#[derive(Debug, Clone, Serialize)]
pub struct Badge {
    pub id: String,
    pub name: String,
}

/// One exercise: its run, its sandbox.
pub struct Exercise {
    pub run: Mutex<Run>,
    pub journal: Journal,
    app: App,
    router: Router,
    stop: tokio::sync::watch::Sender<bool>,
}

/// Every exercise of this server (live and sandboxes share it).
#[derive(Default)]
pub struct Exercises {
    all: Mutex<BTreeMap<String, Arc<Exercise>>>,
}

impl Exercises {
    fn get(&self, id: &str) -> Option<Arc<Exercise>> {
        self.all.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }
    fn list(&self) -> Vec<Arc<Exercise>> {
        self.all.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    crate::access::cookie(headers, name)
}

/// The exercise a request is for, if it names one that is running.
fn target(app: &App, headers: &HeaderMap) -> Option<Arc<Exercise>> {
    let id = headers.get(EXERCISE_HEADER).and_then(|v| v.to_str().ok()).or_else(|| cookie(headers, EXERCISE_COOKIE))?;
    let ex = app.exercises.get(id.trim())?;
    let running = ex.run.lock().unwrap_or_else(|p| p.into_inner()).clock.ended.is_none();
    running.then_some(ex)
}

/// The live server's outermost layer: a request for a running exercise goes to its sandbox; one naming an exercise
/// that ended or never was goes on to the live server, and its browser forgets the exercise.
pub async fn dispatch(AxState(app): AxState<App>, req: Request, next: Next) -> Response {
    if app.exercise.is_none() {
        if let Some(ex) = target(&app, req.headers()) {
            // The sandbox routes the request afresh: only the peer's address is kept of what the live router added
            // (its match and path parameters would be taken for the sandbox's own).
            let peer = req.extensions().get::<axum::extract::ConnectInfo<crate::access::Peer>>().cloned();
            let (parts, body) = req.into_parts();
            let mut fresh = Request::new(body);
            *fresh.method_mut() = parts.method;
            *fresh.uri_mut() = parts.uri;
            *fresh.version_mut() = parts.version;
            *fresh.headers_mut() = parts.headers;
            if let Some(p) = peer {
                fresh.extensions_mut().insert(p);
            }
            let mut router = ex.router.clone();
            return match tower_service::Service::call(&mut router, fresh).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
        }
        if cookie(req.headers(), EXERCISE_COOKIE).is_some() {
            let mut r = next.run(req).await;
            for c in forget() {
                r.headers_mut().append(header::SET_COOKIE, c);
            }
            return r;
        }
    }
    next.run(req).await
}

/// The cookies that take a browser out of an exercise.
fn forget() -> [HeaderValue; 2] {
    [EXERCISE_COOKIE, SANDBOX_SESSION_COOKIE]
        .map(|n| HeaderValue::from_str(&format!("{n}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")).expect("ascii"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// A shipped scenario's name…
    #[serde(default)]
    scenario: Option<String>,
    /// …or a scenario's TOML text.
    #[serde(default)]
    toml: Option<String>,
    /// The live instant the picture is taken at (now by default).
    #[serde(default)]
    at: Option<String>,
    /// Exercise seconds per wall second (the scenario's by default).
    #[serde(default)]
    speed: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlRequest {
    /// `pause`, `resume`, `end` or `speed`.
    action: String,
    #[serde(default)]
    speed: Option<f64>,
}

fn status(ex: &Exercise, director: bool) -> Value {
    let run = ex.run.lock().unwrap_or_else(|p| p.into_inner());
    let now = Utc::now();
    let injects: Vec<Value> = run
        .scenario
        .injects
        .iter()
        .zip(&run.fired)
        .filter(|(_, f)| director || f.is_some())
        .map(|(i, f)| {
            json!({"id": i.id, "at": i.at, "title": i.title, "fired": f.as_ref().map(|f| f.at),
                   "error": f.as_ref().and_then(|f| f.error.clone()),
                   "expect": if director { serde_json::to_value(&i.expect).unwrap_or_default() } else { Value::Null }})
        })
        .collect();
    json!({
        "id": run.id,
        "name": run.scenario.name,
        "description": run.scenario.description,
        "started": run.clock.started,
        "from": run.from,
        "speed": run.clock.speed,
        "paused": run.clock.paused(),
        "ended": run.clock.ended,
        "elapsed_s": run.clock.at(now),
        "fired": run.fired.iter().filter(|f| f.is_some()).count(),
        "injects_total": run.scenario.injects.len(),
        "injects": injects,
        "sandbox_events": ex.journal.state().last_seq - run.base_seq,
    })
}

fn director(caller: &Caller) -> bool {
    caller.principal().may(Permission::ExercisesRun)
}

/// `GET /api/v1/exercises/scenarios`: the scenarios Vigie ships.
pub async fn scenarios() -> Json<Value> {
    let items: Vec<Value> = vigie_app::exercise::SHIPPED
        .iter()
        .filter_map(|(n, t)| Scenario::parse(t).ok().map(|s| (n, s)))
        .map(|(n, s)| json!({"id": n, "name": s.name, "description": s.description, "injects": s.injects.len(), "speed": s.speed}))
        .collect();
    Json(json!({ "items": items }))
}

/// `GET /api/v1/exercises`: the exercises, running first.
pub async fn list(AxState(app): AxState<App>, caller: Caller) -> Json<Value> {
    let d = director(&caller);
    let mut items: Vec<Value> = app.exercises.list().iter().map(|e| status(e, d)).collect();
    items.sort_by_key(|v| (!v["ended"].is_null(), std::cmp::Reverse(v["started"].as_str().map(str::to_string))));
    Json(json!({ "items": items, "current": app.exercise.as_deref() }))
}

/// `GET /api/v1/exercises/{id}`.
pub async fn one(AxState(app): AxState<App>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let ex = app.exercises.get(&id).ok_or_else(|| ApiError::from(AppError::not_found("exercise", &id)))?;
    Ok(Json(status(&ex, director(&caller))))
}

/// `POST /api/v1/exercises`: a sandbox seeded with the live journal up to `at` (now by default), the scenario's
/// clock started.
pub async fn start(
    AxState(app): AxState<App>,
    caller: Caller,
    b: Result<Json<StartRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req = body(b)?;
    if app.exercise.is_some() {
        return Err(
            AppError::Conflict("an exercise is started from the live Vigie, not from inside another".into()).into()
        );
    }
    let mut scenario = match (&req.scenario, &req.toml) {
        (Some(name), None) => Scenario::shipped(name)
            .ok_or_else(|| AppError::field("scenario", format!("no shipped scenario {name:?}")))?,
        (None, Some(text)) => Scenario::parse(text)?,
        _ => {
            return Err(AppError::field(
                "scenario",
                "give a shipped scenario's name (`scenario`) or a scenario's text (`toml`)",
            )
            .into())
        }
    };
    if let Some(s) = req.speed {
        if !(s.is_finite() && (0.1..=3600.0).contains(&s)) {
            return Err(AppError::field("speed", "between 0.1 and 3600").into());
        }
        scenario.speed = s;
    }
    let at = vigie_app::when::parse_instant("at", req.at.as_deref())?;
    if at.is_some_and(|a| a > Utc::now()) {
        return Err(AppError::field("at", "the picture is taken of the past or now").into());
    }
    let running = app
        .exercises
        .list()
        .iter()
        .filter(|e| e.run.lock().unwrap_or_else(|p| p.into_inner()).clock.ended.is_none())
        .count();
    if running >= MAX_RUNNING {
        return Err(AppError::Conflict(format!("{MAX_RUNNING} exercises are running: end one first").into()).into());
    }
    let n = app.exercises.list().len() + 1;
    let id = format!("EX-{}-{n}", vigie_domain::paris::to_local(Utc::now()).format("%Y%m%d-%H%M%S"));
    let who = caller.0.actor().to_string();
    let (live, options, store) = (app.journal.clone(), app.sandbox_options.clone(), app.exercise_store.clone());
    let history = app.history.clone();
    let sid = id.clone();
    let (journal, from, base_seq) = app
        .blocking(move |_| {
            let (upto, from) = match at {
                Some(at) => {
                    let past = history.state_at(&live, at)?;
                    (past.seq, at)
                }
                None => (live.state().last_seq, Utc::now()),
            };
            let store = match &store {
                Some(s) => (s.0)(&sid).map_err(ApiError::Internal)?,
                None => Box::new(vigie_journal::MemoryStore::default()) as Box<dyn JournalStore>,
            };
            let journal = seed(&live, store, upto, &sid)?;
            let _ = &options;
            Ok((journal, from, upto))
        })
        .await?;
    let badge = Arc::new(Badge { id: id.clone(), name: scenario.name.clone() });
    let (router, stop, sandbox) =
        crate::build_sandbox(journal.clone(), (*app.sandbox_options).clone(), badge, app.exercises.clone());
    tokio::spawn(crate::incidents::sla_loop(sandbox.clone()));
    tokio::spawn(crate::session_loop(sandbox.clone()));
    let run = Run::new(id.clone(), scenario, Utc::now(), base_seq, from, DIRECTOR.into());
    let name = run.scenario.name.clone();
    let ex = Arc::new(Exercise { run: Mutex::new(run), journal: journal.clone(), app: sandbox, router, stop });
    // Said in the sandbox's own log, by the direction: the live journal hears nothing of it.
    let j = journal.clone();
    let text = format!("Exercice « {name} » ({id}) commencé par {who}.");
    app.blocking(move |_| {
        let entry = vigie_app::incidents::NewLogEntry { text, kind: Some("note".into()), ..Default::default() };
        Ok(vigie_app::incidents::add_log_entry(&j, &direction(), entry, Utc::now())?)
    })
    .await?;
    app.exercises.all.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), ex.clone());
    tracing::info!(exercise = %id, by = %who, "exercise started");
    Ok((StatusCode::CREATED, Json(status(&ex, true))))
}

fn direction() -> vigie_app::Caller {
    vigie_app::Caller::internal(vigie_domain::Actor::parse(DIRECTOR).expect("a valid actor"), "exercise")
}

/// A journal of its own for the exercise, holding the live journal's events up to `upto` (each with its time, actor
/// and source; the chain is the sandbox's own).
fn seed(live: &Journal, mut store: Box<dyn JournalStore>, upto: u64, id: &str) -> Result<Journal, ApiError> {
    let mut prev = vigie_journal::chain::Hash::default();
    let mut after = 0;
    while after < upto {
        let page = live.read_after(after, (upto - after).min(10_000)).map_err(AppError::from)?;
        if page.is_empty() {
            break;
        }
        let mut rows = Vec::with_capacity(page.len());
        for e in page {
            after = e.seq;
            let mut row = RowToWrite {
                seq: e.seq,
                id: e.id,
                time_us: e.time.timestamp_micros(),
                actor: e.actor.to_string(),
                origin: e.origin.to_string(),
                source: e.source.to_string(),
                kind: e.event.kind(),
                payload: e.event.payload_json(),
                hash: Default::default(),
            };
            prev = row.seal(&prev);
            rows.push(row);
        }
        store.append(&rows).map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    let options = JournalOptions { origin: format!("exercise-{id}"), use_snapshots: false, ..Default::default() };
    Journal::open(store, options).map_err(|e| ApiError::Internal(e.to_string()))
}

/// `POST /api/v1/exercises/{id}/join`: the caller enters the exercise, signed in there as themselves.
pub async fn join(AxState(app): AxState<App>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let ex = app.exercises.get(&id).ok_or_else(|| ApiError::from(AppError::not_found("exercise", &id)))?;
    if ex.run.lock().unwrap_or_else(|p| p.into_inner()).clock.ended.is_some() {
        return Err(AppError::Conflict(format!("exercise {id} has ended: open its review").into()).into());
    }
    let user =
        caller.principal().user.clone().ok_or_else(|| AppError::Forbidden("only a user joins an exercise".into()))?;
    let record = ex.journal.state().accounts.users.get(&user).cloned();
    let record = record
        .filter(|u| !u.disabled)
        .ok_or_else(|| AppError::Forbidden(format!("{user} has no account in the exercise's picture").into()))?;
    let (cookie, csrf, sid) = ex.app.access.sessions.open(user);
    let p =
        vigie_domain::access::Principal::of_user(&record, vigie_domain::access::Credential::Session(sid.clone()), None);
    let c = vigie_app::Caller::new(p, format!("POST /api/v1/exercises/{id}/join"));
    let j = ex.journal.clone();
    app.blocking(move |_| Ok(vigie_app::accounts::session_opened(&j, &c, sid, "exercise".into())?)).await?;
    let mut r = Json(json!({"id": id, "csrf_token": csrf})).into_response();
    let h = r.headers_mut();
    let max = ex.app.access.limits.max.as_secs();
    h.append(header::SET_COOKIE, crate::access::session_cookie(&ex.app, &cookie, max));
    let mark = format!("{EXERCISE_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max}");
    h.append(header::SET_COOKIE, HeaderValue::from_str(&mark).map_err(|e| ApiError::Internal(e.to_string()))?);
    Ok(r)
}

/// `POST /api/v1/exercise/leave`: back to the live Vigie (answered by the sandbox, whose session it ends).
pub async fn leave(AxState(app): AxState<App>, headers: HeaderMap) -> Response {
    if app.exercise.is_some() {
        if let Some(c) = cookie(&headers, SANDBOX_SESSION_COOKIE) {
            app.access.sessions.close(c);
        }
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    for c in forget() {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// `POST /api/v1/exercises/{id}/control`: pause, resume, change the speed, end.
pub async fn control(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
    b: Result<Json<ControlRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = body(b)?;
    let ex = app.exercises.get(&id).ok_or_else(|| ApiError::from(AppError::not_found("exercise", &id)))?;
    let now = Utc::now();
    {
        let mut run = ex.run.lock().unwrap_or_else(|p| p.into_inner());
        if run.clock.ended.is_some() {
            return Err(AppError::Conflict(format!("exercise {id} has ended").into()).into());
        }
        match req.action.as_str() {
            "pause" => run.clock.pause(now),
            "resume" => run.clock.resume(now),
            "end" => {
                run.clock.resume(now);
                run.clock.ended = Some(now);
            }
            "speed" => match req.speed.filter(|s| s.is_finite() && (0.1..=3600.0).contains(s)) {
                Some(s) => run.clock.set_speed(now, s),
                None => return Err(AppError::field("speed", "between 0.1 and 3600").into()),
            },
            other => {
                let shown: String = other.chars().take(20).collect();
                return Err(AppError::field(
                    "action",
                    format!("expected pause, resume, speed or end, found {shown:?}"),
                )
                .into());
            }
        }
    }
    if req.action == "end" {
        let _ = ex.stop.send(true);
        tracing::info!(exercise = %id, by = %caller.0.actor(), "exercise ended");
    }
    Ok(Json(status(&ex, true)))
}

#[derive(Debug, Deserialize)]
pub struct ReviewQuery {
    format: Option<String>,
}

/// `GET /api/v1/exercises/{id}/review`: the after-action review, as JSON or a file (PDF, XLSX, CSV).
pub async fn review(
    AxState(app): AxState<App>,
    Path(id): Path<String>,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, ApiError> {
    let ex = app.exercises.get(&id).ok_or_else(|| ApiError::from(AppError::not_found("exercise", &id)))?;
    let format = q.format.unwrap_or_else(|| "json".into());
    let e = ex.clone();
    let r = app
        .blocking(move |_| {
            let run = e.run.lock().unwrap_or_else(|p| p.into_inner()).clone();
            Ok(vigie_app::exercise::review(&run, &e.journal, Utc::now())?)
        })
        .await?;
    let doc = || vigie_app::exercise::review_document(&r);
    let (bytes, mime, ext) = match format.as_str() {
        "json" => return Ok(Json(r).into_response()),
        "pdf" => (vigie_export::to_pdf(&doc()), "application/pdf", "pdf"),
        "xlsx" => (
            vigie_export::to_xlsx(&doc()).map_err(|e| ApiError::Internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        "csv" => (vigie_export::to_csv(&doc()), "text/csv; charset=utf-8", "csv"),
        other => {
            let shown: String = other.chars().take(20).collect();
            return Err(AppError::field("format", format!("expected json, pdf, xlsx or csv, found {shown:?}")).into());
        }
    };
    let name = format!("attachment; filename=\"RETEX-{id}.{ext}\"");
    Ok(([(header::CONTENT_TYPE, mime.to_string()), (header::CONTENT_DISPOSITION, name)], bytes).into_response())
}

/// Fires the injects that fall due, every half second, for every running exercise.
pub async fn runner(app: App) {
    let mut every = crate::Every::new(&app, std::time::Duration::from_millis(500));
    while every.next().await {
        for ex in app.exercises.list() {
            let due = {
                let run = ex.run.lock().unwrap_or_else(|p| p.into_inner());
                run.due(Utc::now())
            };
            if due.is_empty() {
                continue;
            }
            let e = ex.clone();
            let r = app
                .blocking(move |_| {
                    let sandbox = vigie_app::exercise::Sandbox { journal: &e.journal, live: &e.app.live };
                    let mut run = e.run.lock().unwrap_or_else(|p| p.into_inner());
                    for i in due {
                        let f = vigie_app::exercise::fire(&mut run, i, &sandbox, &direction(), Utc::now());
                        if let Some(err) = &f.error {
                            tracing::warn!(exercise = %run.id, inject = %run.scenario.injects[i].id, error = %err, "inject not played");
                        }
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "exercise runner");
            }
        }
    }
}
