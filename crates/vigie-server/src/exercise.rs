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
/// Exercises kept (the ended ones keep only their review).
pub const MAX_KEPT: usize = 64;
/// The direction's actor in the sandbox.
pub const DIRECTOR: &str = "exercise:direction";

/// Opens a store for the exercise of this id.
pub type OpenStore = dyn Fn(&str) -> Result<Box<dyn JournalStore>, String> + Send + Sync;
/// Removes what a start that failed left of the exercise of this id.
pub type RemoveStore = dyn Fn(&str) + Send + Sync;

/// Opens the store of an exercise's journal (the binary: SQLite under `DATA_DIR/exercises/ID`), and removes it when
/// the start fails. An ended exercise's journal stays: it is the exercise's record.
#[derive(Clone)]
pub struct ExerciseStore {
    pub open: Arc<OpenStore>,
    pub remove: Arc<RemoveStore>,
}

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

/// A running exercise's sandbox (released when it ends).
struct Sandbox {
    journal: Journal,
    app: App,
    router: Router,
    stop: tokio::sync::watch::Sender<bool>,
}

/// One exercise: its run, its sandbox while it runs, its review once it ended.
pub struct Exercise {
    pub run: Mutex<Run>,
    sandbox: Mutex<Option<Arc<Sandbox>>>,
    review: Mutex<Option<vigie_app::exercise::Review>>,
    /// Events the sandbox holds beyond its starting picture (kept once it ended).
    events: std::sync::atomic::AtomicU64,
}

impl Exercise {
    fn sandbox(&self) -> Option<Arc<Sandbox>> {
        self.sandbox.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    fn ended(&self) -> bool {
        self.run.lock().unwrap_or_else(|p| p.into_inner()).clock.ended.is_some()
    }
}

/// Every exercise of this server (live and sandboxes share it).
#[derive(Default)]
pub struct Exercises {
    all: Mutex<BTreeMap<String, Arc<Exercise>>>,
    /// Starts under way (their slot is taken before the journal is copied).
    starting: std::sync::atomic::AtomicUsize,
    next: std::sync::atomic::AtomicU64,
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

/// The exercise a request names (header first, then cookie), and whether by its header.
fn named(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(h) = headers.get(EXERCISE_HEADER) {
        return Some((h.to_str().unwrap_or("").trim().to_string(), true));
    }
    cookie(headers, EXERCISE_COOKIE).map(|c| (c.trim().to_string(), false))
}

fn refusal(status: StatusCode, code: &'static str, id: &str, text: String) -> Response {
    let mut r =
        (status, Json(json!({"error": code, "code": code, "params": {"id": id}, "message": text}))).into_response();
    for c in forget() {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// The live server's outermost layer. A request naming a running exercise goes to its sandbox, once its caller is
/// known to the **live** Vigie (a token revoked or a user disabled since the exercise began is refused) and, with a
/// browser, by a session the sandbox opened itself. A request naming an exercise that is not running is never
/// carried out on the live Vigie instead: a write is refused (`exercise.not_running`, 409) and the browser forgets
/// the exercise; a browser's read goes on to the live Vigie, forgetting it likewise.
pub async fn dispatch(AxState(app): AxState<App>, req: Request, next: Next) -> Response {
    if app.exercise.is_some() {
        return next.run(req).await;
    }
    let Some((id, by_header)) = named(req.headers()) else { return next.run(req).await };
    let path = req.uri().path().to_string();
    let running = app.exercises.get(&id).filter(|e| !e.ended()).and_then(|e| e.sandbox());
    let Some(sandbox) = running else {
        let reads = matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD);
        if path == "/api/v1/exercise/leave" || (reads && !by_header) {
            let mut r = next.run(req).await;
            for c in forget() {
                r.headers_mut().append(header::SET_COOKIE, c);
            }
            return r;
        }
        let shown: String = id.chars().take(64).collect();
        return refusal(
            StatusCode::CONFLICT,
            "exercise.not_running",
            &shown,
            format!("exercise {shown:?} is not running: nothing was done (leave it, or start another)"),
        );
    };
    {
        let peer = req.extensions().get::<axum::extract::ConnectInfo<crate::access::Peer>>().map(|c| c.0 .0);
        let peer = peer.unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        if req.headers().contains_key(header::AUTHORIZATION) {
            if let Err(refused) = app.authenticate(req.headers(), peer).await {
                return app.refused(refused, false, peer, req.method(), &path).await;
            }
        } else if let Some(c) = cookie(req.headers(), SANDBOX_SESSION_COOKIE) {
            // Only a session this sandbox opened (a join), for a user the live Vigie still lets in.
            let id = crate::auth::Sessions::id_of(c);
            let user = sandbox.journal.state().accounts.sessions.get(&id).map(|(u, _)| u.clone());
            let live_ok =
                user.as_ref().is_some_and(|u| app.journal.state().accounts.users.get(u).is_some_and(|x| !x.disabled));
            if !sandbox.app.access.sessions.knows(&id) || !live_ok {
                return refusal(
                    StatusCode::UNAUTHORIZED,
                    "exercise.session",
                    &id,
                    "this exercise session is not one the exercise opened, or its user may no longer sign in: join again".into(),
                );
            }
        }
    }
    // The sandbox routes the request afresh: only the peer's address is kept of what the live router added (its
    // match and path parameters would be taken for the sandbox's own).
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
    let mut router = sandbox.router.clone();
    match tower_service::Service::call(&mut router, fresh).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
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
    let events = match ex.sandbox() {
        Some(s) => s.journal.state().last_seq.saturating_sub(run.base_seq),
        None => ex.events.load(std::sync::atomic::Ordering::Relaxed),
    };
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
        "sandbox_events": events,
    })
}

fn director(caller: &Caller) -> bool {
    caller.principal().may(Permission::ExercisesRun)
}

/// Starting, steering and reviewing exercises is the live Vigie's: inside a sandbox, the permissions are those of
/// the picture the exercise began with, which the live ones may have changed since.
fn from_live(app: &App) -> Result<(), ApiError> {
    match &app.exercise {
        Some(b) => Err(AppError::Conflict(vigie_app::Reason::new(
            "exercise.from_live",
            [("id", b.id.clone())],
            "exercises are started, steered and reviewed from the live Vigie: leave the exercise first".into(),
        ))
        .into()),
        None => Ok(()),
    }
}

fn not_found(id: &str) -> ApiError {
    AppError::not_found("exercise", id).into()
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
    let d = director(&caller) && app.exercise.is_none();
    let mut items: Vec<Value> = app.exercises.list().iter().map(|e| status(e, d)).collect();
    items.sort_by_key(|v| (!v["ended"].is_null(), std::cmp::Reverse(v["started"].as_str().map(str::to_string))));
    Json(json!({ "items": items, "current": app.exercise.as_deref() }))
}

/// `GET /api/v1/exercises/{id}`.
pub async fn one(AxState(app): AxState<App>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let ex = app.exercises.get(&id).ok_or_else(|| not_found(&id))?;
    Ok(Json(status(&ex, director(&caller) && app.exercise.is_none())))
}

/// Gives a start's slot back when the start ends, whatever its outcome.
struct Starting<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Starting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `POST /api/v1/exercises`: a sandbox seeded with the live journal up to `at` (now by default), the scenario's
/// clock started.
pub async fn start(
    AxState(app): AxState<App>,
    caller: Caller,
    b: Result<Json<StartRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req = body(b)?;
    from_live(&app)?;
    let mut scenario = match (&req.scenario, &req.toml) {
        (Some(name), None) => Scenario::shipped(name).ok_or_else(|| {
            AppError::field("scenario", format!("no shipped scenario {:?}", name.chars().take(40).collect::<String>()))
        })?,
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
    if let Some(a) = at {
        vigie_app::when::plausible("at", a)?;
        if a > Utc::now() {
            return Err(AppError::field("at", "the picture is taken of the past or now").into());
        }
    }
    // A slot taken before the journal is copied, so that starts at once cannot pass the bound together.
    let exercises = app.exercises.clone();
    let taken = exercises.starting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let _slot = Starting(&exercises.starting);
    let running = exercises.list().iter().filter(|e| !e.ended()).count();
    if running + taken >= MAX_RUNNING || exercises.list().len() + taken >= MAX_KEPT {
        return Err(AppError::Conflict(vigie_app::Reason::new(
            "exercise.too_many",
            [("max", MAX_RUNNING.to_string())],
            format!("at most {MAX_RUNNING} exercises run at once ({MAX_KEPT} kept): end one first"),
        ))
        .into());
    }
    let n = exercises.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    let id = format!("EX-{}-{n}", vigie_domain::paris::to_local(Utc::now()).format("%Y%m%d-%H%M%S-%3f"));
    let who = caller.0.actor().to_string();
    let (live, store) = (app.journal.clone(), app.exercise_store.clone());
    let history = app.history.clone();
    let sid = id.clone();
    let seeded = app
        .blocking(move |_| {
            let (upto, from) = match at {
                Some(at) => {
                    let past = history.state_at(&live, at)?;
                    (past.seq, at)
                }
                None => (live.state().last_seq, Utc::now()),
            };
            let opened = match &store {
                Some(s) => (s.open)(&sid).map_err(ApiError::Internal),
                None => Ok(Box::new(vigie_journal::MemoryStore::default()) as Box<dyn JournalStore>),
            };
            let journal = opened.and_then(|s| seed(&live, s, upto, &sid));
            if journal.is_err() {
                if let Some(s) = &store {
                    (s.remove)(&sid);
                }
            }
            Ok((journal?, from, upto))
        })
        .await;
    let (journal, from, base_seq) = seeded?;
    let badge = Arc::new(Badge { id: id.clone(), name: scenario.name.clone() });
    let (router, stop, sandbox) =
        crate::build_sandbox(journal.clone(), (*app.sandbox_options).clone(), badge, app.exercises.clone());
    tokio::spawn(crate::incidents::sla_loop(sandbox.clone()));
    tokio::spawn(crate::session_loop(sandbox.clone()));
    let run = Run::new(id.clone(), scenario, Utc::now(), base_seq, from, DIRECTOR.into());
    let name = run.scenario.name.clone();
    let ex = Arc::new(Exercise {
        run: Mutex::new(run),
        sandbox: Mutex::new(Some(Arc::new(Sandbox { journal: journal.clone(), app: sandbox, router, stop }))),
        review: Mutex::new(None),
        events: Default::default(),
    });
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
    from_live(&app)?;
    let ex = app.exercises.get(&id).ok_or_else(|| not_found(&id))?;
    let sandbox = ex.sandbox().filter(|_| !ex.ended()).ok_or_else(|| {
        ApiError::from(AppError::Conflict(vigie_app::Reason::new(
            "exercise.not_running",
            [("id", id.clone())],
            format!("exercise {id} has ended: open its review"),
        )))
    })?;
    let user =
        caller.principal().user.clone().ok_or_else(|| AppError::Forbidden("only a user joins an exercise".into()))?;
    let record = sandbox.journal.state().accounts.users.get(&user).cloned();
    let record = record
        .filter(|u| !u.disabled)
        .ok_or_else(|| AppError::Forbidden(format!("{user} has no account in the exercise's picture").into()))?;
    let (cookie, csrf, sid) = sandbox.app.access.sessions.open(user);
    let p =
        vigie_domain::access::Principal::of_user(&record, vigie_domain::access::Credential::Session(sid.clone()), None);
    let c = vigie_app::Caller::new(p, format!("POST /api/v1/exercises/{id}/join"));
    let j = sandbox.journal.clone();
    app.blocking(move |_| Ok(vigie_app::accounts::session_opened(&j, &c, sid, "exercise".into())?)).await?;
    let mut r = Json(json!({"id": id, "csrf_token": csrf})).into_response();
    let h = r.headers_mut();
    let max = sandbox.app.access.limits.max.as_secs();
    h.append(header::SET_COOKIE, crate::access::session_cookie(&sandbox.app, &cookie, max));
    let mark = format!("{EXERCISE_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max}");
    h.append(header::SET_COOKIE, HeaderValue::from_str(&mark).map_err(|e| ApiError::Internal(e.to_string()))?);
    Ok(r)
}

/// `POST /api/v1/exercise/leave`: back to the live Vigie. Answered by the sandbox, which ends its session (and
/// journals the end, so that nothing brings it back).
pub async fn leave(AxState(app): AxState<App>, headers: HeaderMap) -> Response {
    if app.exercise.is_some() {
        if let Some(c) = cookie(&headers, SANDBOX_SESSION_COOKIE) {
            let id = app.access.sessions.close(c);
            app.session_closed(id, "exercise left").await;
        }
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    for c in forget() {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// `POST /api/v1/exercises/{id}/control`: pause, resume, change the speed, end. Ending keeps the review and lets
/// the sandbox go (its journal stays on disk, the exercise's record).
pub async fn control(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
    b: Result<Json<ControlRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = body(b)?;
    from_live(&app)?;
    let ex = app.exercises.get(&id).ok_or_else(|| not_found(&id))?;
    let now = Utc::now();
    {
        let mut run = ex.run.lock().unwrap_or_else(|p| p.into_inner());
        if run.clock.ended.is_some() {
            return Err(AppError::Conflict(vigie_app::Reason::new(
                "exercise.not_running",
                [("id", id.clone())],
                format!("exercise {id} has ended"),
            ))
            .into());
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
        let e = ex.clone();
        app.blocking(move |_| {
            let Some(sandbox) = e.sandbox.lock().unwrap_or_else(|p| p.into_inner()).take() else { return Ok(()) };
            let run = e.run.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let review = vigie_app::exercise::review(&run, &sandbox.journal, Utc::now())?;
            e.events.store(
                sandbox.journal.state().last_seq.saturating_sub(run.base_seq),
                std::sync::atomic::Ordering::Relaxed,
            );
            *e.review.lock().unwrap_or_else(|p| p.into_inner()) = Some(review);
            let _ = sandbox.stop.send(true);
            sandbox.journal.shutdown();
            Ok(())
        })
        .await?;
        tracing::info!(exercise = %id, by = %caller.0.actor(), "exercise ended");
    }
    Ok(Json(status(&ex, true)))
}

#[derive(Debug, Deserialize)]
pub struct ReviewQuery {
    format: Option<String>,
}

/// `GET /api/v1/exercises/{id}/review`: the after-action review, as JSON or a file (PDF, XLSX, CSV); for those who
/// run exercises (it names every participant's actions and what each inject expected).
pub async fn review(
    AxState(app): AxState<App>,
    Path(id): Path<String>,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, ApiError> {
    from_live(&app)?;
    let ex = app.exercises.get(&id).ok_or_else(|| not_found(&id))?;
    let format = crate::reports::Format::parse(q.format.as_deref())?;
    let e = ex.clone();
    let r = app
        .blocking(move |_| {
            if let Some(r) = e.review.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                return Ok(r);
            }
            let sandbox =
                e.sandbox().ok_or_else(|| ApiError::Internal("an exercise without sandbox nor review".into()))?;
            let run = e.run.lock().unwrap_or_else(|p| p.into_inner()).clone();
            Ok(vigie_app::exercise::review(&run, &sandbox.journal, Utc::now())?)
        })
        .await?;
    if format == crate::reports::Format::Json {
        return Ok(Json(r).into_response());
    }
    let doc = vigie_app::exercise::review_document(&r);
    let bytes = crate::reports::write(&doc, format)?;
    Ok(crate::reports::file(bytes, format, &format!("RETEX-{id}"), r.started))
}

/// Fires the injects that fall due, every tenth of a second, for every running exercise. The run is locked only to
/// read what is due and to record what fired, never while an inject plays (readers of the exercise never wait on
/// one).
pub async fn runner(app: App) {
    let mut every = crate::Every::new(&app, std::time::Duration::from_millis(100));
    while every.next().await {
        for ex in app.exercises.list() {
            let due: Vec<(usize, vigie_app::exercise::Inject)> = {
                let run = ex.run.lock().unwrap_or_else(|p| p.into_inner());
                run.due(Utc::now()).into_iter().map(|i| (i, run.scenario.injects[i].clone())).collect()
            };
            let Some(sandbox) = ex.sandbox().filter(|_| !due.is_empty()) else { continue };
            let e = ex.clone();
            let r = app
                .blocking(move |_| {
                    let s = vigie_app::exercise::Sandbox { journal: &sandbox.journal, live: &sandbox.app.live };
                    for (i, inject) in due {
                        let now = Utc::now();
                        let (incident, error) = vigie_app::exercise::play(&inject, &s, &direction(), now);
                        let seq = sandbox.journal.state().last_seq;
                        let mut run = e.run.lock().unwrap_or_else(|p| p.into_inner());
                        if let Some(err) = &error {
                            tracing::warn!(exercise = %run.id, inject = %inject.id, error = %err, "inject not played");
                        }
                        let exercise_s = run.clock.at(now);
                        run.fired[i] = Some(vigie_app::exercise::Fired { at: now, exercise_s, seq, incident, error });
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
