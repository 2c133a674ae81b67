//! Access control, in one place: [`POLICY`] names, for every route, what a caller needs; [`authorize`] runs before
//! every handler, authenticates the caller (session cookie, `Bearer` token or `Basic` password), checks CSRF on
//! cookie-borne writes and the route's permission, records refusals, and hands the handler a [`Caller`].
//!
//! Handlers then only narrow what they show or change to the caller's reach (a tactical group's organisations, a
//! partner's support group) through [`vigie_domain::access::View`].

use crate::auth::{self, Session, TokenRequest, Touched};
use crate::{ApiError, App};
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Path, Request, State as AxState};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use vigie_domain::access::{AccessDenied, Permission, Principal, Reach, Role, SessionOpened, User, UserName};
use vigie_domain::{Actor, Event, NewEvent, OrgId, PartnerId};

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone (health, the API's description, signing in).
    Public,
    /// Any signed-in caller; the handler narrows to what the caller may see or do.
    SignedIn,
    /// Anyone; a signed-in caller is recognised (who am I: a page asks before it knows).
    Optional,
    Need(Permission),
    /// The permission, held by a caller whose reach is everything (not a tactical group nor a partner).
    NeedAll(Permission),
}

use Permission::*;
use Rule::*;

/// Every route, by method and path pattern, with what it needs. A route missing here is refused to everyone.
pub const POLICY: &[(&str, &str, Rule)] = &[
    ("GET", "/health", Public),
    // The UI's files: the shell shows the sign-in page; its data comes from the API, under the caller's rights.
    ("GET", "/", Public),
    ("GET", "/favicon.ico", Public),
    ("GET", "/ui/{*path}", Public),
    ("GET", "/api/v1/openapi.json", Public),
    ("POST", "/api/v1/session", Public),
    ("GET", "/api/v1/session", Optional),
    ("DELETE", "/api/v1/session", SignedIn),
    ("GET", "/api/v1/users", Need(Users)),
    ("POST", "/api/v1/users", Need(Users)),
    ("GET", "/api/v1/tokens", SignedIn),
    ("POST", "/api/v1/tokens", SignedIn),
    ("DELETE", "/api/v1/tokens/{id}", SignedIn),
    ("GET", "/api/v1/audit", Need(Audit)),
    ("GET", "/api/v1/events", SignedIn),
    ("GET", "/api/v1/events/stream", SignedIn),
    ("GET", "/api/v1/organizations", Need(LogisticsRead)),
    ("GET", "/api/v1/organizations/{id}", Need(LogisticsRead)),
    ("GET", "/api/v1/sites", SignedIn),
    ("GET", "/api/v1/sites/{id}", SignedIn),
    ("GET", "/api/v1/items", Need(LogisticsRead)),
    ("GET", "/api/v1/items/{id}", Need(LogisticsRead)),
    ("GET", "/api/v1/stock", Need(LogisticsRead)),
    ("GET", "/api/v1/forces", Need(LogisticsRead)),
    ("GET", "/api/v1/forces/{id}", Need(LogisticsRead)),
    ("GET", "/api/v1/allowances", Need(LogisticsRead)),
    ("GET", "/api/v1/vehicles", Need(LogisticsRead)),
    ("GET", "/api/v1/vehicles/{id}", Need(LogisticsRead)),
    // Each imported row is checked against the caller's permissions and reach (logistics or TOC tables).
    ("POST", "/api/v1/import", SignedIn),
    ("GET", "/api/v1/ask/sufficiency", Need(LogisticsRead)),
    ("POST", "/api/v1/ask/sufficiency", Need(LogisticsRead)),
    ("GET", "/api/v1/ask/locate", Need(LogisticsRead)),
    ("POST", "/api/v1/ask/locate", Need(LogisticsRead)),
    ("GET", "/api/v1/ask/reinforce", Need(LogisticsRead)),
    ("POST", "/api/v1/ask/reinforce", Need(LogisticsRead)),
    ("GET", "/api/v1/ask/deploy", Need(LogisticsRead)),
    ("POST", "/api/v1/ask/deploy", Need(LogisticsRead)),
    ("POST", "/api/v1/shift", Need(Shift)),
    ("GET", "/api/v1/plans", Need(LogisticsRead)),
    ("POST", "/api/v1/plans", Need(LogisticsWrite)),
    ("GET", "/api/v1/plans/{id}", Need(LogisticsRead)),
    ("POST", "/api/v1/plans/{id}/{action}", Need(LogisticsWrite)),
    ("GET", "/metrics", Need(MonitoringRead)),
    ("POST", "/api/v1/monitoring/results", Need(MonitoringWrite)),
    ("POST", "/api/v1/monitoring/alertmanager", Need(MonitoringWrite)),
    ("GET", "/api/v1/monitoring/state", Need(MonitoringRead)),
    ("GET", "/api/v1/monitoring/checks", Need(MonitoringRead)),
    ("GET", "/api/v1/monitoring/checks/{id}", Need(MonitoringRead)),
    ("POST", "/api/v1/monitoring/checks/{id}/ack", Need(MonitoringWrite)),
    ("GET", "/api/v1/monitoring/history", Need(MonitoringRead)),
    ("GET", "/api/v1/monitoring/maintenance", Need(MonitoringRead)),
    ("POST", "/api/v1/monitoring/maintenance", Need(MonitoringWrite)),
    ("DELETE", "/api/v1/monitoring/maintenance/{id}", Need(MonitoringWrite)),
    ("GET", "/api/v1/monitoring/stream", Need(MonitoringRead)),
    ("GET", "/api/v1/incidents", Need(IncidentsRead)),
    ("GET", "/api/v1/incidents/{id}", Need(IncidentsRead)),
    ("GET", "/api/v1/incidents/{id}/timeline", Need(IncidentsRead)),
    // The operations log is the TOC's own: partners work their incidents through the Table API.
    ("GET", "/api/v1/log", NeedAll(IncidentsRead)),
    ("POST", "/api/v1/log", NeedAll(IncidentsWrite)),
    ("GET", "/api/v1/log/handover", NeedAll(IncidentsRead)),
    ("GET", "/api/now/table/{table}", Need(IncidentsRead)),
    ("POST", "/api/now/table/{table}", Need(IncidentsWrite)),
    ("GET", "/api/now/table/{table}/{sys_id}", Need(IncidentsRead)),
    ("PUT", "/api/now/table/{table}/{sys_id}", Need(IncidentsWrite)),
    ("PATCH", "/api/now/table/{table}/{sys_id}", Need(IncidentsWrite)),
    ("DELETE", "/api/now/table/{table}/{sys_id}", NeedAll(IncidentsWrite)),
];

/// The rule of a route; `HEAD` is `GET`'s.
pub fn rule(method: &Method, path: &str) -> Option<Rule> {
    let m = if method == Method::HEAD { "GET" } else { method.as_str() };
    POLICY.iter().find(|(pm, pp, _)| *pm == m && *pp == path).map(|(_, _, r)| *r)
}

/// The address a request came from (plain TCP or TLS).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(s: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Peer {
        Peer(*s.remote_addr())
    }
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vigie_session";
/// The header that carries the CSRF token of a cookie session on every state-changing request.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller, for handlers.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    pub fn actor(&self) -> Actor {
        self.0.actor.clone()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::Unauthenticated("sign in".into()))
    }
}

/// Why a caller was not let in.
enum Refusal {
    Unauthenticated { claimed: Option<String>, reason: &'static str, message: String },
    RateLimited { claimed: Option<String>, retry_after: u64 },
}

struct Authenticated {
    principal: Principal,
    session: Option<Session>,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

fn basic(value: &str) -> Option<(String, String)> {
    let b = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
    let s = String::from_utf8(b).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

impl App {
    /// Checks a user's password, under the login rate limit; the password's check (argon2) runs off the async
    /// threads.
    async fn check_password(&self, name: &str, password: String, peer: SocketAddr) -> Result<Principal, Refusal> {
        let claimed = Some(format!("user:{name}"));
        let keys = [format!("ip:{}", peer.ip()), format!("user:{name}")];
        let keys = [keys[0].as_str(), keys[1].as_str()];
        if let Some(retry_after) = self.access.limiter.blocked(&keys) {
            return Err(Refusal::RateLimited { claimed, retry_after });
        }
        let wrong = || Refusal::Unauthenticated {
            claimed: Some(format!("user:{name}")),
            reason: "login failed",
            message: "wrong user name or password".into(),
        };
        let found = UserName::parse(name).ok().and_then(|n| {
            let st = self.journal.state();
            st.accounts.users.get(&n).filter(|u| !u.disabled).cloned().map(|u| (u, st.accounts.version))
        });
        let ok = match &found {
            Some((u, version)) if self.access.verified.knows(*version, &u.name, &password) => true,
            Some((u, version)) => {
                let (hash, pw) = (u.password_hash.clone(), password.clone());
                let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &pw)).await.unwrap_or(false);
                if ok {
                    self.access.verified.remember(*version, &u.name, &password);
                }
                ok
            }
            None => {
                // The same work for an unknown name: no timing hint about which names exist.
                let pw = password.clone();
                let _ = tokio::task::spawn_blocking(move || auth::verify_password(&self::DUMMY_HASH, &pw)).await;
                false
            }
        };
        match found {
            Some((u, _)) if ok => {
                self.access.limiter.succeeded(keys[1]);
                Ok(Principal::of_user(&u))
            }
            _ => {
                self.access.limiter.failed(&keys);
                Err(wrong())
            }
        }
    }

    async fn authenticate(&self, headers: &HeaderMap, peer: SocketAddr) -> Result<Authenticated, Refusal> {
        let unauthenticated = |claimed: Option<String>, message: &str| Refusal::Unauthenticated {
            claimed,
            reason: "unauthenticated",
            message: message.to_string(),
        };
        if let Some(v) = headers.get(header::AUTHORIZATION) {
            let v = v.to_str().unwrap_or("");
            if let Some(t) = v.strip_prefix("Bearer ") {
                let bad = "the token is unknown, expired or revoked";
                let (id, secret) = auth::parse_token(t.trim()).ok_or_else(|| unauthenticated(None, bad))?;
                let st = self.journal.state();
                let claimed = Some(format!("token:{id}"));
                let rec = st.accounts.tokens.get(id).ok_or_else(|| unauthenticated(claimed.clone(), bad))?;
                let hash = auth::token_hash(secret);
                if !auth::constant_eq(hash.as_bytes(), rec.token.hash.as_bytes()) || !rec.valid_at(chrono::Utc::now()) {
                    return Err(unauthenticated(claimed, bad));
                }
                let u = st.accounts.users.get(&rec.token.user).filter(|u| !u.disabled);
                let u = u.ok_or_else(|| unauthenticated(claimed, "the token's user is disabled"))?;
                return Ok(Authenticated { principal: Principal::of_token(u, &rec.token), session: None });
            }
            if let Some(b) = v.strip_prefix("Basic ") {
                let (name, password) = basic(b).ok_or_else(|| unauthenticated(None, "unreadable Basic credentials"))?;
                let principal = self.check_password(&name, password, peer).await?;
                return Ok(Authenticated { principal, session: None });
            }
            return Err(unauthenticated(None, "the Authorization header takes `Bearer TOKEN` or `Basic …`"));
        }
        if let Some(c) = cookie(headers, SESSION_COOKIE) {
            let limits = self.access.limits;
            let s = match self.access.sessions.touch(c, limits) {
                Touched::Live(s) => Some(s),
                Touched::Ended { id } => {
                    self.session_closed(id, "idle").await;
                    None
                }
                // Not in memory: opened before a restart? The journal says.
                Touched::Unknown { id } => {
                    let known = self.journal.state().accounts.sessions.get(&id).cloned();
                    known.and_then(|(user, opened)| {
                        let age = (chrono::Utc::now() - opened).to_std().unwrap_or_default();
                        self.access.sessions.restore(c, user, age, limits)
                    })
                }
            };
            let s = s.ok_or_else(|| unauthenticated(None, "the session has ended: sign in again"))?;
            let st = self.journal.state();
            let u = st.accounts.users.get(&s.user).filter(|u| !u.disabled);
            let u = u.ok_or_else(|| unauthenticated(Some(format!("user:{}", s.user)), "the user is disabled"))?;
            return Ok(Authenticated { principal: Principal::of_user(u), session: Some(s) });
        }
        Err(unauthenticated(None, "sign in (POST /api/v1/session), or send a Bearer token or Basic credentials"))
    }

    /// Records a failed authentication and answers it: 401, or 429 with `Retry-After`.
    async fn refused(
        &self,
        refusal: Refusal,
        table_api: bool,
        peer: SocketAddr,
        method: &Method,
        path: &str,
    ) -> Response {
        match refusal {
            Refusal::Unauthenticated { claimed, reason, message } => {
                self.record_denial(claimed, reason, peer, method, path).await;
                refuse(table_api, StatusCode::UNAUTHORIZED, &message)
            }
            Refusal::RateLimited { claimed, retry_after } => {
                self.record_denial(claimed, "rate limited", peer, method, path).await;
                let mut r =
                    refuse(table_api, StatusCode::TOO_MANY_REQUESTS, "too many failed sign-ins: try again later");
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                r
            }
        }
    }

    /// Records the end of a session (so that a restart does not bring it back).
    async fn session_closed(&self, id: String, reason: &str) {
        let event = Event::SessionClosed(vigie_domain::access::SessionClosed { id, reason: reason.into() });
        let new = NewEvent { actor: Actor::system("sessions"), source: format!("session {reason}"), event };
        if let Err(e) = self.blocking(move |j| j.append(vec![new]).map_err(ApiError::from)).await {
            tracing::warn!(error = %e, "the end of a session could not be recorded");
        }
    }

    /// Writes a refusal to the journal, unless this address has had its share of records this minute.
    async fn record_denial(
        &self,
        claimed: Option<String>,
        reason: &str,
        peer: SocketAddr,
        method: &Method,
        path: &str,
    ) {
        let from = peer.ip().to_string();
        let Some(suppressed) = self.access.throttle.admit(&from) else { return };
        let actor = claimed
            .and_then(|c| Actor::parse(&c).ok())
            .unwrap_or_else(|| Actor::parse(&format!("anonymous@{from}")).expect("valid actor"));
        let denied = AccessDenied {
            reason: reason.to_string(),
            from,
            method: method.to_string(),
            path: path.chars().take(200).collect(),
            suppressed,
        };
        let source = format!("{method} {}", denied.path);
        let r = self
            .blocking(move |j| {
                j.append(vec![NewEvent { actor, source, event: Event::AccessDenied(denied) }]).map_err(ApiError::from)
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "a refusal could not be recorded");
        }
    }
}

/// A fixed argon2id hash, verified for unknown user names so that they cost what known ones do.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password("no such user, no such password").expect("hashes"));

fn refuse(table_api: bool, status: StatusCode, message: &str) -> Response {
    let mut r = if table_api {
        crate::servicenow::error_response(status, message)
    } else {
        let code = match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthenticated(message.into()),
            StatusCode::TOO_MANY_REQUESTS => ApiError::TooManyRequests(message.into()),
            _ => ApiError::Forbidden(message.into()),
        };
        code.into_response()
    };
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if table_api { "Basic realm=\"Vigie\"" } else { "Bearer realm=\"Vigie\"" };
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    r
}

/// The one gate every routed request passes.
pub(crate) async fn authorize(
    AxState(app): AxState<App>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let path =
        req.extensions().get::<MatchedPath>().map_or_else(|| req.uri().path().to_string(), |m| m.as_str().into());
    let table_api = path.starts_with("/api/now/");
    let uri = req.uri().path().to_string();
    let rule = rule(&method, &path);
    if rule == Some(Public) {
        return next.run(req).await;
    }
    if rule == Some(Optional) {
        if let Ok(a) = app.authenticate(req.headers(), peer).await {
            req.extensions_mut().insert(a.principal);
            if let Some(s) = a.session {
                req.extensions_mut().insert(s);
            }
        }
        return next.run(req).await;
    }
    let authenticated = match app.authenticate(req.headers(), peer).await {
        Ok(a) => a,
        Err(refusal) => return app.refused(refusal, table_api, peer, &method, &uri).await,
    };
    let who = Some(authenticated.principal.actor.to_string());
    if let Some(s) = &authenticated.session {
        let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        let given = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !safe && !auth::constant_eq(given.as_bytes(), s.csrf.as_bytes()) {
            app.record_denial(who, "csrf", peer, &method, &uri).await;
            return refuse(table_api, StatusCode::FORBIDDEN, "a state-changing request needs the session's CSRF token");
        }
    }
    let allowed = match rule {
        Some(Need(p)) => authenticated.principal.may(p),
        Some(NeedAll(p)) => authenticated.principal.may(p) && authenticated.principal.reach == Reach::All,
        Some(SignedIn) | Some(Public) | Some(Optional) => true,
        None => false,
    };
    if !allowed {
        app.record_denial(who, "forbidden", peer, &method, &uri).await;
        let what = match rule {
            Some(Need(p)) => format!("this needs the permission {p}, which your role or token does not grant"),
            Some(NeedAll(p)) => format!("this needs the permission {p} over every organisation and partner"),
            _ => "no access rule covers this route".into(),
        };
        return refuse(table_api, StatusCode::FORBIDDEN, &what);
    }
    req.extensions_mut().insert(authenticated.principal);
    if let Some(s) = authenticated.session {
        req.extensions_mut().insert(s);
    }
    let response = next.run(req).await;
    // A handler refused something outside the caller's reach: recorded like the gate's own refusals.
    if response.status() == StatusCode::FORBIDDEN {
        app.record_denial(who, "outside reach", peer, &method, &uri).await;
    }
    response
}

/// Access state shared by the handlers.
pub(crate) struct AccessState {
    pub sessions: auth::Sessions,
    pub limits: auth::SessionLimits,
    pub limiter: auth::LoginLimiter,
    pub throttle: auth::DenialThrottle,
    pub verified: auth::VerifiedCache,
    pub secure_cookies: bool,
    /// The map's tile server, told to signed-in pages.
    pub tile_url: Option<String>,
}

fn whoami(p: &Principal, csrf: Option<&str>, app: &App) -> Value {
    let (organization_id, partner_id) = match &p.reach {
        Reach::Organization(o) => (Some(o.as_str()), None),
        Reach::Partner(x) => (None, Some(x.as_str())),
        Reach::All => (None, None),
    };
    json!({
        "user": p.user,
        "actor": p.actor,
        "role": p.role,
        "organization_id": organization_id,
        "partner_id": partner_id,
        "permissions": p.permissions(),
        "csrf_token": csrf,
        "idle_timeout_s": app.access.limits.idle.as_secs(),
        "tile_url": app.access.tile_url,
    })
}

#[derive(Deserialize)]
pub struct Login {
    user: String,
    password: String,
}

fn session_cookie(app: &App, value: &str, max_age: u64) -> HeaderValue {
    let secure = if app.access.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are base64")
}

/// `POST /api/v1/session`: sign in with a user name and password; sets the session cookie and returns the CSRF
/// token to send with every state-changing request.
pub async fn login(
    AxState(app): AxState<App>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    Json(l): Json<Login>,
) -> Response {
    let path = "/api/v1/session";
    match app.check_password(&l.user, l.password, peer).await {
        Ok(p) => {
            let (cookie, csrf, id) = app.access.sessions.open(p.user.clone());
            let opened = SessionOpened { user: p.user.clone(), from: peer.ip().to_string(), id };
            let actor = p.actor.clone();
            let r = app
                .blocking(move |j| {
                    j.append(vec![NewEvent {
                        actor,
                        source: "POST /api/v1/session".into(),
                        event: Event::SessionOpened(opened),
                    }])
                    .map_err(ApiError::from)
                })
                .await;
            if let Err(e) = r {
                app.access.sessions.close(&cookie);
                return e.into_response();
            }
            let mut r = Json(whoami(&p, Some(&csrf), &app)).into_response();
            r.headers_mut().insert(header::SET_COOKIE, session_cookie(&app, &cookie, app.access.limits.max.as_secs()));
            r
        }
        Err(refusal) => app.refused(refusal, false, peer, &Method::POST, path).await,
    }
}

/// `GET /api/v1/session`: who is signed in, with what permissions (and the session's CSRF token); `{"user":
/// null}` when no one is.
pub async fn current(
    AxState(app): AxState<App>,
    caller: Option<axum::Extension<Principal>>,
    session: Option<axum::Extension<Session>>,
) -> Json<Value> {
    match caller {
        Some(p) => Json(whoami(&p, session.as_ref().map(|s| s.csrf.as_str()), &app)),
        None => Json(json!({ "user": null })),
    }
}

/// `DELETE /api/v1/session`: sign out.
pub async fn logout(AxState(app): AxState<App>, headers: HeaderMap) -> Response {
    if let Some(c) = cookie(&headers, SESSION_COOKIE) {
        let id = app.access.sessions.close(c);
        app.session_closed(id, "sign-out").await;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::SET_COOKIE, session_cookie(&app, "", 0));
    r
}

fn user_json(u: &User) -> Value {
    json!({
        "name": u.name,
        "role": u.role,
        "organization_id": u.organization_id,
        "partner_id": u.partner_id,
        "disabled": u.disabled,
        "has_password": !u.password_hash.is_empty(),
    })
}

/// `GET /api/v1/users` (administrators).
pub async fn users(AxState(app): AxState<App>) -> Json<Value> {
    let st = app.journal.state();
    Json(json!({ "users": st.accounts.users.values().map(user_json).collect::<Vec<_>>() }))
}

#[derive(Deserialize)]
pub struct UserBody {
    name: String,
    role: Role,
    organization_id: Option<OrgId>,
    partner_id: Option<PartnerId>,
    /// Omitted for a new user: one is made and shown once. Omitted for an existing user: unchanged.
    password: Option<String>,
    #[serde(default)]
    disabled: bool,
}

/// `POST /api/v1/users` (administrators): creates a user or replaces one's role, reach, password or state.
pub async fn save_user(
    AxState(app): AxState<App>,
    caller: Caller,
    Json(b): Json<UserBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = UserName::parse(&b.name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let existing = app.journal.state().accounts.users.get(&name).cloned();
    let (password_hash, shown) = match (&b.password, &existing) {
        (Some(p), _) => {
            let p = p.clone();
            let h = tokio::task::spawn_blocking(move || auth::hash_password(&p))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(ApiError::BadRequest)?;
            (h, None)
        }
        (None, Some(u)) => (u.password_hash.clone(), None),
        (None, None) => {
            let p = auth::random_secret();
            let pw = p.clone();
            let h = tokio::task::spawn_blocking(move || auth::hash_password(&pw))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(ApiError::Internal)?;
            (h, Some(p))
        }
    };
    let user = User {
        name,
        role: b.role,
        organization_id: b.organization_id,
        partner_id: b.partner_id,
        password_hash,
        disabled: b.disabled,
    };
    let out = user_json(&user);
    let actor = caller.actor();
    app.blocking(move |j| auth::record_user(&j, user, actor, "POST /api/v1/users".into())).await?;
    let status = if existing.is_some() { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(json!({ "user": out, "password": shown }))))
}

#[derive(Deserialize)]
pub struct TokenBody {
    /// Administrators may issue tokens for another user.
    user: Option<String>,
    #[serde(default)]
    label: String,
    /// Permissions (`monitoring:write`…); empty: everything the user's role grants.
    #[serde(default)]
    scopes: Vec<Permission>,
    /// RFC 3339; or `expires_in_days`.
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    expires_in_days: Option<u32>,
}

/// `GET /api/v1/tokens`: the caller's tokens (administrators: everyone's), without their secrets.
pub async fn tokens(AxState(app): AxState<App>, caller: Caller) -> Json<Value> {
    let st = app.journal.state();
    let all = caller.0.may(Users);
    let now = chrono::Utc::now();
    let list: Vec<Value> = st
        .accounts
        .tokens
        .values()
        .filter(|t| all || t.token.user == caller.0.user)
        .map(|t| {
            json!({
                "id": t.token.id, "user": t.token.user, "label": t.token.label, "scopes": t.token.scopes,
                "expires_at": t.token.expires_at, "issued_at": t.issued_at, "revoked_at": t.revoked_at,
                "valid": t.valid_at(now),
            })
        })
        .collect();
    Json(json!({ "tokens": list }))
}

/// `POST /api/v1/tokens`: issues a token (shown once) with scopes the user's role grants.
pub async fn issue(
    AxState(app): AxState<App>,
    caller: Caller,
    Json(b): Json<TokenBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = match b.user {
        Some(u) if u != caller.0.user.as_str() => {
            if !caller.0.may(Users) {
                return Err(ApiError::Forbidden("only an administrator issues tokens for another user".into()));
            }
            UserName::parse(&u).map_err(|e| ApiError::BadRequest(e.to_string()))?
        }
        _ => caller.0.user.clone(),
    };
    // A token never carries more than the caller holds now (a token cannot mint a broader one).
    let scopes = if b.scopes.is_empty() && user == caller.0.user { caller.0.permissions().to_vec() } else { b.scopes };
    if user == caller.0.user {
        if let Some(p) = scopes.iter().find(|p| !caller.0.may(**p)) {
            return Err(ApiError::Forbidden(format!("you cannot hand out the scope {p}")));
        }
    }
    let expires_at = b.expires_at.or(b.expires_in_days.map(|d| chrono::Utc::now() + chrono::Duration::days(d as i64)));
    let req = TokenRequest { user, label: b.label, scopes, expires_at };
    let actor = caller.actor();
    let (id, token) = app.blocking(move |j| auth::issue_token(&j, req, actor, "POST /api/v1/tokens".into())).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "token": token, "expires_at": expires_at }))))
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the caller's tokens (administrators: any).
pub async fn revoke(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let owner = (!caller.0.may(Users)).then(|| caller.0.user.clone());
    let actor = caller.actor();
    app.blocking(move |j| {
        auth::revoke_token(&j, id.clone(), owner, actor, format!("DELETE /api/v1/tokens/{id}")).map_err(|e| match e {
            ApiError::Conflict(m) if m.contains("not found") => ApiError::NotFound(format!("token {id}")),
            e => e,
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
