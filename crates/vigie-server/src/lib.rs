//! Vigie's HTTP edge (axum): health, registry reads with filters and paging, import (multipart), the live stream of
//! journal events (SSE), and the OpenAPI document.
//!
//! [`serve`] takes a bound listener and a shutdown future, so tests bind port 0 and stop the server when they like.
//! Handlers never touch storage directly: reads go to the in-memory state, writes go through the journal, whose
//! blocking calls run on tokio's blocking pool.

#![recursion_limit = "512"]

pub mod access;
mod ask;
pub mod auth;
mod error;
mod incidents;
pub mod monitoring;
mod openapi;
mod plans;

pub use ask::{commit_shift, deadline_minutes};
pub use plans::{commit_plan, step_plan, ProposedPlan};
pub use stream::{audit_events, audit_time};
pub mod net;
mod registry;
mod servicenow;
mod stream;
pub mod sync;
pub mod tls;
mod ui;

pub use error::ApiError;

use access::Caller;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State as AxState};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use vigie_domain::{Actor, Envelope};
use vigie_import::SourceFile;
use vigie_journal::Journal;

/// What the server needs from its configuration.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest accepted upload, in bytes.
    pub max_upload_bytes: usize,
    /// Largest accepted body of any other request, in bytes.
    pub max_body_bytes: usize,
    /// How travel times are estimated.
    pub travel: vigie_logistics::Travel,
    /// Events kept for live streams; a client further behind catches up from storage.
    pub live_buffer: usize,
    /// Active checks (http, tcp, command) running at once.
    pub check_workers: usize,
    /// Run the active checks (off in tests that only push).
    pub active_checks: bool,
    /// Extra certificate authorities (PEM) trusted by the http checks, beside the bundled web roots.
    pub check_ca_pem: Option<Vec<u8>>,
    /// Where command checks find their programs (`monitoring/plugins.rs`); nothing outside them runs.
    pub plugin_dirs: Vec<std::path::PathBuf>,
    /// Run plugins when the server runs as root (refused otherwise).
    pub allow_root_plugins: bool,
    /// How long browser sessions live.
    pub sessions: auth::SessionLimits,
    /// Failed sign-ins allowed per address and per user name in `login_window`, before sign-ins are refused.
    pub login_max_failures: usize,
    pub login_window: std::time::Duration,
    /// Refusals written to the journal per address and minute (the others are counted).
    pub denials_per_minute: u32,
    /// Mark the session cookie `Secure` (always with TLS; set it behind a TLS proxy).
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate chain and key (PEM).
    pub tls: Option<tls::TlsFiles>,
    /// A tile server for the map's basemap (`https://tiles.example/{z}/{x}/{y}.png`); none: the map draws only the
    /// outlines it carries.
    pub tile_url: Option<String>,
    /// Response and resolution targets of incidents, per priority.
    pub sla: vigie_incidents::sla::Targets,
    /// Push incidents to an external ServiceNow.
    pub sync: Option<sync::SyncOptions>,
    /// A request's head must arrive within this, counted from when the server waits for it (`net.rs`).
    pub header_timeout: std::time::Duration,
    /// A connection with no request in flight and no byte arriving for this long is closed; so is one whose client
    /// leaves its answer unread this long.
    pub keep_alive_timeout: std::time::Duration,
    /// A request body must arrive within this…
    pub body_timeout: std::time::Duration,
    /// …and, after its first `header_timeout`, at this average rate at least (bytes per second; 0: none).
    pub body_min_rate: u64,
    /// Connections at once; beyond, new ones are closed at once (lowered to what the file-descriptor limit allows).
    pub max_connections: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_upload_bytes: 256 * 1024 * 1024,
            max_body_bytes: 8 * 1024 * 1024,
            travel: Default::default(),
            live_buffer: 8192,
            check_workers: 32,
            active_checks: true,
            check_ca_pem: None,
            plugin_dirs: vec![monitoring::plugins::DEFAULT_DIR.into()],
            allow_root_plugins: false,
            sessions: Default::default(),
            login_max_failures: 5,
            login_window: std::time::Duration::from_secs(300),
            denials_per_minute: 30,
            secure_cookies: false,
            tls: None,
            tile_url: None,
            sla: Default::default(),
            sync: None,
            header_timeout: std::time::Duration::from_secs(10),
            keep_alive_timeout: std::time::Duration::from_secs(60),
            body_timeout: std::time::Duration::from_secs(600),
            body_min_rate: 1024,
            max_connections: 8192,
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct App {
    pub journal: Journal,
    events: broadcast::Sender<Arc<Envelope>>,
    shutdown: watch::Receiver<bool>,
    travel: Arc<vigie_logistics::Travel>,
    /// The TOC's live picture.
    pub live: Arc<monitoring::live::Live>,
    /// Sessions, the sign-in limiter, the refusal throttle.
    access: Arc<access::AccessState>,
    sla: Arc<vigie_incidents::sla::Targets>,
}

impl App {
    /// Runs a blocking journal call off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(Journal) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let j = self.journal.clone();
        tokio::task::spawn_blocking(move || f(j)).await.map_err(|e| ApiError::Internal(e.to_string()))?
    }
}

/// The pace of a background loop: [`Every::next`] waits for the next period, and says false once the server shuts
/// down.
pub(crate) struct Every {
    interval: tokio::time::Interval,
    shutdown: watch::Receiver<bool>,
}

impl Every {
    pub(crate) fn new(app: &App, period: std::time::Duration) -> Every {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Every { interval, shutdown: app.shutdown.clone() }
    }

    pub(crate) async fn next(&mut self) -> bool {
        tokio::select! {
            _ = self.interval.tick() => true,
            _ = self.shutdown.wait_for(|s| *s) => false,
        }
    }
}

/// Builds the router over a journal. The returned sender is closed by [`serve`] at shutdown.
pub fn router(journal: Journal, options: ServerOptions) -> (Router, watch::Sender<bool>) {
    let (router, stop, _) = build(journal, options);
    (router, stop)
}

fn build(journal: Journal, options: ServerOptions) -> (Router, watch::Sender<bool>, App) {
    let (events, _) = broadcast::channel(options.live_buffer.max(1));
    let tx = events.clone();
    journal.subscribe(move |batch| {
        for e in batch {
            let _ = tx.send(e.clone());
        }
    });
    let (stop_tx, shutdown) = watch::channel(false);
    let live = {
        let st = journal.state();
        Arc::new(monitoring::live::Live::new(&st, chrono::Utc::now().timestamp_millis()))
    };
    let access = Arc::new(access::AccessState {
        sessions: Default::default(),
        limits: options.sessions,
        limiter: auth::LoginLimiter::new(options.login_max_failures, options.login_window),
        throttle: auth::DenialThrottle::new(options.denials_per_minute),
        verified: Default::default(),
        secure_cookies: options.secure_cookies || options.tls.is_some(),
        tile_url: options.tile_url.clone(),
    });
    let csp: Arc<str> = Arc::from(content_security_policy(options.tile_url.as_deref()));
    let sla = Arc::new(options.sla.clone());
    let app = App { journal, events, shutdown, travel: Arc::new(options.travel.clone()), live, access, sla };
    let api = Router::new()
        .route("/session", get(access::current).post(access::login).delete(access::logout))
        .route("/users", get(access::users).post(access::save_user))
        .route("/tokens", get(access::tokens).post(access::issue))
        .route("/tokens/{id}", axum::routing::delete(access::revoke))
        .route("/organizations", get(registry::organizations))
        .route("/organizations/{id}", get(registry::organization))
        .route("/sites", get(registry::sites))
        .route("/sites/{id}", get(registry::site))
        .route("/items", get(registry::items))
        .route("/items/{id}", get(registry::item))
        .route("/stock", get(registry::stock))
        .route("/forces", get(registry::forces))
        .route("/forces/{id}", get(registry::force))
        .route("/allowances", get(registry::allowances))
        .route("/vehicles", get(registry::vehicles))
        .route("/vehicles/{id}", get(registry::vehicle))
        .route("/import", post(import).layer(DefaultBodyLimit::max(options.max_upload_bytes)))
        .route("/ask/sufficiency", get(ask::sufficiency).post(ask::sufficiency_what_if))
        .route("/ask/locate", get(ask::locate).post(ask::locate_what_if))
        .route("/ask/reinforce", get(ask::reinforce).post(ask::reinforce_what_if))
        .route("/ask/deploy", get(ask::deploy).post(ask::deploy_what_if))
        .route("/shift", post(ask::shift))
        .route("/plans", get(plans::list).post(plans::commit))
        .route("/plans/{id}", get(plans::one))
        .route("/plans/{id}/{action}", post(plans::step))
        .route("/events", get(stream::list))
        .route("/events/stream", get(stream::sse))
        .route("/audit", get(stream::audit))
        .route("/openapi.json", get(openapi::document))
        .route("/incidents", get(incidents::list))
        .route("/incidents/{id}", get(incidents::one))
        .route("/incidents/{id}/timeline", get(incidents::timeline))
        .route("/log", get(incidents::log).post(incidents::add_log))
        .route("/log/handover", get(incidents::handover))
        .nest("/monitoring", monitoring::routes());
    let body_limit = options.max_body_bytes;
    let router = Router::new()
        .route("/health", get(health))
        .route("/", get(ui::index))
        .route("/favicon.ico", get(ui::favicon))
        .route("/ui/{*path}", get(ui::asset))
        .route("/metrics", get(monitoring::metrics))
        .nest("/api/v1", api)
        .merge(servicenow::routes())
        // Every route passes the access gate (access::POLICY); unknown paths fall through to 404.
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), access::authorize))
        .fallback(|| async { ApiError::NotFound("route".into()) })
        // Every request body is bounded (the import has its own, larger bound); every answer says how a browser
        // may use it.
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::map_response_with_state(csp, security_headers))
        .with_state(app.clone());
    (router, stop_tx, app)
}

/// Serves until `shutdown` completes, then stops accepting, ends live streams and waits for requests in flight.
pub async fn serve(
    listener: TcpListener,
    journal: Journal,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (workers, active, ca) = (options.check_workers, options.active_checks, options.check_ca_pem.clone());
    let plugins = monitoring::plugins::Plugins::new(options.plugin_dirs.clone(), options.allow_root_plugins);
    let outbound = options.sync.clone();
    let tls_config = options.tls.as_ref().map(tls::TlsFiles::config).transpose()?;
    let limits = net::Limits {
        header_timeout: options.header_timeout,
        keep_alive: options.keep_alive_timeout,
        body_timeout: options.body_timeout,
        body_min_rate: options.body_min_rate,
        max_connections: options.max_connections,
    };
    let (router, stop, app) = build(journal, options);
    // The monitoring's background work: time passing (staleness, maintenance windows), the active checks.
    tokio::spawn(monitoring::tick_loop(app.clone()));
    tokio::spawn(incidents::sla_loop(app.clone()));
    if let Some(o) = outbound {
        tokio::spawn(sync::run(app.clone(), o));
    }
    if active {
        tokio::spawn(monitoring::active::run(app, workers, ca, plugins));
    }
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: closing live streams, finishing requests in flight");
        let _ = stop.send(true);
    };
    // Connections with limits (header, keep-alive and body timeouts, a bound), plain or TLS, peers' addresses as
    // `ConnectInfo<access::Peer>`; at the signal, stop accepting and drain.
    net::serve(listener, router, tls_config, limits, signal).await
}

/// Same-origin content only; images also from the configured tile server, if any.
fn content_security_policy(tile_url: Option<&str>) -> String {
    let tiles = tile_url.and_then(tile_origin).map(|o| format!("; img-src 'self' {o}")).unwrap_or_default();
    format!("default-src 'self'; frame-ancestors 'none'; base-uri 'none'{tiles}")
}

/// `scheme://host[:port]` of a tile URL.
fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty() && !h.contains('{'))?;
    matches!(scheme, "http" | "https").then(|| format!("{scheme}://{host}"))
}

/// Headers on every answer: no sniffing, no framing, no referrer, the content security policy.
async fn security_headers(
    AxState(csp): AxState<Arc<str>>,
    mut r: axum::response::Response,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let h = r.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_policy_lets_in_the_tile_server_only() {
        assert_eq!(super::content_security_policy(None), "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
        let p = super::content_security_policy(Some("https://tiles.local:8443/osm/{z}/{x}/{y}.png"));
        assert!(p.ends_with("; img-src 'self' https://tiles.local:8443"), "{p}");
        assert!(!super::content_security_policy(Some("javascript:alert(1)")).contains("img-src"));
    }
}

async fn health(AxState(app): AxState<App>) -> Json<Value> {
    let st = app.journal.state();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "storage": app.journal.backend(),
        "last_seq": st.last_seq,
        "counts": st.counts(),
    }))
}

/// Why an import was not written.
#[derive(Debug)]
pub enum ImportFailure {
    /// Problems in the files: nothing was written.
    Invalid(Vec<vigie_import::Problem>),
    /// The caller may not write some of it: nothing was written.
    Refused(String),
    Journal(vigie_journal::JournalError),
}

/// Plans an import against the current state and appends its events atomically (or, with `dry_run`, only reports).
/// Planning runs inside the journal's command, so the state cannot change between validation and append.
pub fn commit_import(
    journal: &Journal,
    batch: vigie_import::Batch,
    actor: Actor,
    dry_run: bool,
) -> Result<vigie_import::Report, ImportFailure> {
    commit_import_by(journal, batch, actor, None, dry_run)
}

/// [`commit_import`] for a caller: every event must be within its permissions and reach, or nothing is written.
fn commit_import_by(
    journal: &Journal,
    batch: vigie_import::Batch,
    actor: Actor,
    caller: Option<vigie_domain::access::Principal>,
    dry_run: bool,
) -> Result<vigie_import::Report, ImportFailure> {
    let allowed = move |st: &vigie_domain::State, events: &[vigie_domain::NewEvent]| -> Result<(), String> {
        let Some(p) = &caller else { return Ok(()) };
        let view = p.view(st);
        events.iter().try_for_each(|e| view.may_write(st, &e.event, |x| p.may(x)))
    };
    if dry_run {
        let st = journal.state();
        let plan = vigie_import::plan(&batch, &st, &actor).map_err(ImportFailure::Invalid)?;
        allowed(&st, &plan.events).map_err(ImportFailure::Refused)?;
        return Ok(plan.report);
    }
    let committed = journal.execute(move |st| {
        let p = vigie_import::plan(&batch, st, &actor).map_err(ImportFailure::Invalid)?;
        allowed(st, &p.events).map_err(ImportFailure::Refused)?;
        Ok((p.events, p.report))
    });
    match committed {
        Ok((_, report)) => Ok(report),
        Err(vigie_journal::ExecuteError::Refused(failure)) => Err(failure),
        Err(vigie_journal::ExecuteError::Journal(e)) => Err(ImportFailure::Journal(e)),
    }
}

#[derive(Debug, Deserialize)]
struct ImportQuery {
    /// Validate and report, write nothing.
    #[serde(default)]
    dry_run: bool,
}

/// `POST /api/v1/import`: multipart form, one part per file (the part's file name names the table). With
/// `dry_run=true`, a validation: 200 with the report, or with `valid: false` and every located problem.
async fn import(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<ImportQuery>,
    mut form: Multipart,
) -> Result<Json<Value>, ApiError> {
    let mut files = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|e| ApiError::BadRequest(e.body_text()))? {
        let name = field
            .file_name()
            .or(field.name())
            .map(str::to_string)
            .ok_or_else(|| ApiError::BadRequest("every part needs a file name".into()))?;
        let bytes = field.bytes().await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        files.push(SourceFile { name, bytes: bytes.to_vec() });
    }
    if files.is_empty() {
        return Err(ApiError::BadRequest("no file in the form".into()));
    }
    let dry_run = q.dry_run;
    let outcome = app
        .blocking(move |journal| {
            let batch = vigie_import::read(&files, &mut |_, _| {});
            let actor = caller.actor();
            Ok(commit_import_by(&journal, batch, actor, Some(caller.0), dry_run))
        })
        .await?;
    match outcome {
        Ok(report) => Ok(Json(json!({ "dry_run": dry_run, "valid": true, "report": report }))),
        // A dry run is a validation: its answer is the report, valid or not.
        Err(ImportFailure::Invalid(problems)) if dry_run => Ok(Json(json!({
            "dry_run": true,
            "valid": false,
            "problems": problems,
            "lines": problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        }))),
        Err(ImportFailure::Invalid(p)) => Err(ApiError::Invalid(p)),
        Err(ImportFailure::Refused(why)) => Err(ApiError::Forbidden(format!("{why}: nothing was imported"))),
        Err(ImportFailure::Journal(e)) => Err(e.into()),
    }
}
