//! Vigie's HTTP edge (axum): it translates requests into the application layer's commands ([`vigie_app`]) and reads
//! of the in-memory state, and their outcomes into answers. Every route is declared once in [`routes::ROUTES`]
//! (method, path, access rule, body, handler, description): the router, the access gate and the OpenAPI document
//! are derived from it.
//!
//! [`serve`] takes a bound listener and a shutdown future, so tests bind port 0 and stop the server when they like.
//! Handlers never touch storage directly: reads go to the in-memory state, writes go through the application layer
//! and the journal, whose blocking calls run on tokio's blocking pool.

#![recursion_limit = "512"]

pub mod access;
mod ask;
pub mod auth;
pub mod cluster;
mod error;
pub mod exercise;
mod incidents;
pub mod monitoring;
pub mod net;
pub mod notify;
mod oncall;
pub mod openapi;
mod plans;
mod previews;
mod readiness;
mod registry;
mod reports;
pub mod routes;
mod servicenow;
pub mod status;
mod stream;
pub mod sync;
pub mod tls;
mod ui;

pub use error::ApiError;

use access::Caller;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State as AxState};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use vigie_domain::Envelope;
use vigie_import::SourceFile;
use vigie_journal::Journal;

/// What the server needs from its configuration.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Cluster mode (PostgreSQL): this node's membership; writes reaching a follower are forwarded to the leader.
    pub cluster: Option<Arc<vigie_journal::cluster::Cluster>>,
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
    /// Page the people on duty (issue 17): none, no message goes out.
    pub notify: Option<notify::NotifyOptions>,
    /// Status pages, one per audience, reached by their link tokens.
    pub status: Vec<status::StatusAudience>,
    /// A site's stock is expected to be counted at least this often (the reporting discipline).
    pub count_every: std::time::Duration,
    /// Draft the national LOGSTAT and the SITREP at every 3×8 hand-over.
    pub draft_at_handover: bool,
    /// Where exercises keep their journals (none: in memory).
    pub exercise_store: Option<exercise::ExerciseStore>,
    /// The URL users reach Vigie at (`https://vigie.example`), behind a proxy: absolute links are built from it,
    /// and browsers' writes from its origin are Vigie's own. None: the request's `Host`, when it is valid.
    pub public_url: Option<String>,
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
            cluster: None,
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
            notify: None,
            status: Vec::new(),
            count_every: std::time::Duration::from_secs(24 * 3600),
            draft_at_handover: false,
            exercise_store: None,
            public_url: None,
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
    pub live: Arc<vigie_app::monitoring::live::Live>,
    /// Sessions, the sign-in limiter, the refusal throttle.
    access: Arc<access::AccessState>,
    sla: Arc<vigie_incidents::sla::Targets>,
    /// Where absolute links point: the configured public URL, without its trailing slash.
    public_url: Option<Arc<str>>,
    /// Validated imports waiting for their confirmation.
    previews: Arc<previews::Previews>,
    /// Cluster mode: this node's membership (role, leader), and the client writes are forwarded with.
    pub cluster: Option<Arc<vigie_journal::cluster::Cluster>>,
    forwarder: reqwest::Client,
    /// A follower: monitoring decisions arrived since its live estate was rebuilt.
    live_stale: Arc<std::sync::atomic::AtomicBool>,
    /// A follower: when each session's activity was last relayed to the leader.
    relayed: Arc<cluster::Relayed>,
    /// Venue readiness: the network's shape, kept while no task or link changes.
    readiness: Arc<vigie_app::readiness::NetworkCache>,
    /// The key that signs acknowledgement links in messages (none: no link).
    ack_key: Option<Arc<str>>,
    /// How people are paged (none: paging is off), for the escalation policy's page.
    notify: Option<Arc<notify::NotifyOptions>>,
    /// Status pages by audience.
    status: Arc<Vec<status::StatusAudience>>,
    /// How often a site's stock is expected to be counted.
    count_every: chrono::Duration,
    /// States of the past the reports were last asked about.
    history: Arc<vigie_app::reports::History>,
    /// Every exercise (shared by the live server and the sandboxes).
    exercises: Arc<exercise::Exercises>,
    /// A sandbox: the exercise it plays (its pages' banner); none: the live server.
    exercise: Option<Arc<exercise::Badge>>,
    /// What a sandbox is built with: these options, without paging, sync, status pages or cluster.
    sandbox_options: Arc<ServerOptions>,
    exercise_store: Option<exercise::ExerciseStore>,
}

impl App {
    /// What every report and page of a sandbox says: `EXERCICE`.
    pub(crate) fn banner(&self) -> Option<&'static str> {
        self.exercise.as_ref().map(|_| "EXERCICE")
    }

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
    build_as(journal, options, None, Arc::default())
}

/// An exercise's sandbox: a whole server over its own journal, without paging, outbound sync, status pages, hand-over
/// reports or cluster, with a session cookie of its own.
pub(crate) fn build_sandbox(
    journal: Journal,
    options: ServerOptions,
    badge: Arc<exercise::Badge>,
    exercises: Arc<exercise::Exercises>,
) -> (Router, watch::Sender<bool>, App) {
    build_as(journal, options, Some(badge), exercises)
}

fn build_as(
    journal: Journal,
    options: ServerOptions,
    exercise: Option<Arc<exercise::Badge>>,
    exercises: Arc<exercise::Exercises>,
) -> (Router, watch::Sender<bool>, App) {
    let sandbox_options = Arc::new(ServerOptions {
        cluster: None,
        notify: None,
        sync: None,
        status: Vec::new(),
        active_checks: false,
        draft_at_handover: false,
        ..options.clone()
    });
    let (events, _) = broadcast::channel(options.live_buffer.max(1));
    let tx = events.clone();
    let live_stale = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (stale, role) = (live_stale.clone(), journal.role_watch());
    journal.subscribe(move |batch| {
        for e in batch {
            let _ = tx.send(e.clone());
        }
        if !role.get().writes() && batch.iter().any(|e| e.event.changes_toc_registry() || e.event.changes_toc_states())
        {
            stale.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let (stop_tx, shutdown) = watch::channel(false);
    let live = {
        let st = journal.state();
        Arc::new(vigie_app::monitoring::live::Live::new(&st, chrono::Utc::now().timestamp_millis()))
    };
    let public_url = options.public_url.as_deref().map(|u| u.trim_end_matches('/')).filter(|u| !u.is_empty());
    let access = Arc::new(access::AccessState {
        sessions: Default::default(),
        limits: options.sessions,
        limiter: auth::LoginLimiter::new(options.login_max_failures, options.login_window),
        throttle: auth::DenialThrottle::new(options.denials_per_minute),
        verified: Default::default(),
        secure_cookies: options.secure_cookies || options.tls.is_some(),
        tile_url: options.tile_url.clone(),
        public_origin: public_url.and_then(url_origin),
        cookie: if exercise.is_some() { exercise::SANDBOX_SESSION_COOKIE } else { access::SESSION_COOKIE },
    });
    let csp: Arc<str> = Arc::from(content_security_policy(options.tile_url.as_deref()));
    let sla = Arc::new(options.sla.clone());
    let public_url = public_url.map(Arc::from);
    let previews = Arc::default();
    let travel = Arc::new(options.travel.clone());
    let cluster = options.cluster.clone();
    if let Some(c) = &cluster {
        // A node that takes the lease rebuilds the live estate from the journalled hard states before its first
        // result; a follower's estate follows the journal (the tick loop).
        let (live, j) = (live.clone(), journal.clone());
        c.on_role(move |role| {
            if role.writes() {
                let changes = live.rebuild_from_journal(&j, chrono::Utc::now().timestamp_millis());
                live.broadcast(changes);
            }
        });
    }
    let forwarder = cluster::client();
    let relayed = Arc::default();
    let app = App {
        journal,
        events,
        shutdown,
        travel,
        live,
        access,
        sla,
        public_url,
        previews,
        cluster,
        forwarder,
        live_stale,
        relayed,
        readiness: Arc::default(),
        ack_key: options.notify.as_ref().and_then(|n| n.link_key.as_deref()).map(Arc::from),
        notify: options.notify.clone().map(Arc::new),
        status: Arc::new(options.status.clone()),
        count_every: chrono::Duration::from_std(options.count_every).unwrap_or(chrono::Duration::hours(24)),
        history: Arc::new(vigie_app::reports::History::default()),
        exercises,
        exercise,
        exercise_store: options.exercise_store.clone(),
        sandbox_options,
    };
    let body_limit = options.max_body_bytes;
    let router: Router = routes::router(&options)
        // Every route passes the access gate; unknown paths fall through to 404.
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), access::authorize))
        .fallback(|| async { ApiError::NotFound("route".into()) })
        // Every request body is bounded (the import has its own, larger bound); every answer says how a browser
        // may use it.
        .layer(DefaultBodyLimit::max(body_limit))
        // Every error is JSON, those axum's extractors answer included.
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(axum::middleware::map_response_with_state(csp, security_headers))
        // Cluster mode: a follower hands writes to the leader before anything else looks at them.
        .layer(axum::middleware::from_fn_with_state(app.clone(), cluster::forward))
        // Exercises: a request for one goes to its sandbox before anything else looks at it.
        .layer(axum::middleware::from_fn_with_state(app.clone(), exercise::dispatch))
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
    let paging = options.notify.clone();
    let handover = options.draft_at_handover;
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
    tokio::spawn(session_loop(app.clone()));
    tokio::spawn(exercise::runner(app.clone()));
    if handover {
        tokio::spawn(reports::handover_loop(app.clone()));
    }
    if let Some(o) = outbound {
        tokio::spawn(sync::run(app.clone(), o));
    }
    if let Some(o) = paging {
        tokio::spawn(notify::run(app.clone(), o));
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

/// Same-origin content only; images also from the configured tile server, if any (and `data:`, the blank image the
/// map puts in place of a tile it drops while zooming).
fn content_security_policy(tile_url: Option<&str>) -> String {
    let tiles = tile_url.and_then(tile_origin).map(|o| format!("; img-src 'self' data: {o}")).unwrap_or_default();
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
        assert!(p.ends_with("; img-src 'self' data: https://tiles.local:8443"), "{p}");
        assert!(!super::content_security_policy(Some("javascript:alert(1)")).contains("img-src"));
    }
}

/// `GET /health`: `ok`, or `degraded` and why (storage unreachable: writes answer 503 until it is back, reads work);
/// always 200, so that a load balancer keeps sending reads.
async fn health(AxState(app): AxState<App>) -> Json<Value> {
    let storage = app.journal.health();
    let st = app.journal.state();
    let mut v = json!({
        "status": if storage.is_ok() { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "storage": app.journal.backend(),
        "last_seq": st.last_seq,
        "counts": st.counts(),
    });
    drop(st);
    let start = app.journal.replay_stats();
    v["start"] = json!({"events": start.events, "seconds": start.seconds, "from_snapshot": start.from_snapshot});
    match &app.cluster {
        Some(c) => v["cluster"] = json!(c.status()),
        None => v["cluster"] = json!({"role": app.journal.role().name(), "position": app.journal.position()}),
    }
    if let vigie_journal::JournalHealth::Degraded { reason, since, retry_after_s } = storage {
        v["degraded"] = json!({
            "reason": reason,
            "since": since,
            "retry_after_s": retry_after_s,
            "writes": "refused with 503 until storage answers again; reads answer from memory",
        });
    }
    Json(v)
}

/// `scheme://host[:port]` of a URL.
fn url_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    matches!(scheme, "http" | "https").then(|| format!("{scheme}://{host}"))
}

impl App {
    /// The base of absolute links (`scheme://host[:port]`): the configured public URL, else the request's `Host`
    /// when it is a plain host name or address with an optional port (never anything a client slipped in).
    pub(crate) fn base_url(&self, headers: &axum::http::HeaderMap) -> Option<String> {
        if let Some(u) = &self.public_url {
            return Some(u.to_string());
        }
        let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
        valid_host(host).then(|| format!("http://{host}"))
    }
}

/// A `Host` header fit to build a link from: a DNS name, an IPv4 address or a bracketed IPv6 address, and an
/// optional port; nothing else.
fn valid_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        // A bare IPv6 address (colons, no brackets) is no valid Host: it fails the name check below.
        Some((n, _)) if !n.ends_with(']') && n.contains(':') => (host, None),
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    };
    port_ok && name_ok
}

#[derive(Debug, Deserialize)]
pub(crate) struct ImportQuery {
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
            .map(|n| n.chars().take(200).collect::<String>())
            .ok_or_else(|| ApiError::BadRequest("every part needs a file name".into()))?;
        let bytes = field.bytes().await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        // The part's buffer becomes the file without a copy when it is the only one holding it.
        files.push(SourceFile { name, bytes: Vec::from(bytes) });
        if files.len() > 64 {
            return Err(ApiError::BadRequest("at most 64 files in one import".into()));
        }
    }
    if files.is_empty() {
        return Err(ApiError::BadRequest("no file in the form".into()));
    }
    let dry_run = q.dry_run;
    let previews = app.previews.clone();
    let outcome = app
        .blocking(move |journal| {
            let batch = Arc::new(vigie_import::read(&files, &mut |_, _| {}));
            drop(files);
            let outcome = vigie_app::imports::import(&journal, &caller.0, batch.clone(), dry_run);
            // A valid dry run is kept: confirming it commits what was read, without a second upload.
            let preview = (dry_run && outcome.is_ok()).then(|| previews.keep(&caller.0.actor().to_string(), batch));
            Ok(outcome.map(|report| (report, preview)))
        })
        .await?;
    match outcome {
        Ok((report, preview)) => {
            Ok(Json(json!({ "dry_run": dry_run, "valid": true, "report": report, "preview": preview })))
        }
        // A dry run is a validation: its answer is the report, valid or not.
        Err(vigie_app::AppError::Invalid { problems, .. }) if dry_run => Ok(Json(json!({
            "dry_run": true,
            "valid": false,
            "problems": problems,
            "lines": problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        }))),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/import/previews/{id}`: commits a validated import (its dry run's `preview`), planned again against
/// the state as it is now; the files are not sent again.
async fn confirm_import(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let batch = app.previews.take(&id, &caller.0.actor().to_string()).ok_or_else(|| {
        ApiError::NotFound(
            format!(
                "import preview {id} (kept {} minutes, by whoever validated it): validate the files again",
                previews::TTL.as_secs() / 60
            )
            .into(),
        )
    })?;
    let report =
        app.blocking(move |journal| Ok(vigie_app::imports::import(&journal, &caller.0, batch, false)?)).await?;
    Ok(Json(json!({ "dry_run": false, "valid": true, "report": report })))
}

/// Ends the sessions idle or too old, in memory and in the journal (their tokens die with them), every 30 s.
pub(crate) async fn session_loop(app: App) {
    let started = std::time::Instant::now();
    let mut every = Every::new(&app, std::time::Duration::from_secs(30));
    while every.next().await {
        if !app.journal.role().writes() {
            continue; // the leader ends idle sessions and journals it
        }
        let limits = app.access.limits;
        let mut ended = app.access.sessions.sweep(limits);
        // Sessions the journal knows but no request has touched since this process started: idle since.
        if started.elapsed() > limits.idle {
            let st = app.journal.state();
            let now = chrono::Utc::now();
            ended.extend(st.accounts.sessions.iter().filter_map(|(id, (_, opened))| {
                let too_old = (now - *opened).to_std().unwrap_or_default() > limits.max;
                (too_old || !app.access.sessions.knows(id)).then(|| id.clone())
            }));
        }
        ended.sort();
        ended.dedup();
        for id in ended {
            app.session_closed(id, "idle").await;
        }
    }
}

#[cfg(test)]
mod host_tests {
    #[test]
    fn links_are_built_only_from_plain_hosts() {
        for ok in ["vigie", "vigie.example:8443", "127.0.0.1:8080", "[::1]:8080", "[fe80::1]"] {
            assert!(super::valid_host(ok), "{ok}");
        }
        for bad in [
            "evil.example/x",
            "a b",
            "vigie:80x",
            "",
            "vigie:",
            "-x.example",
            "a..b",
            "x\r\nSet-Cookie: y",
            "::1",
            "@evil",
        ] {
            assert!(!super::valid_host(bad), "{bad}");
        }
    }
}
