//! Access control at the edge, in one place: [`authorize`] runs before every handler. It finds the route in the
//! route table ([`crate::routes::ROUTES`]: what it needs, what body it takes), authenticates the caller (session
//! cookie, `Bearer` token or `Basic` password), refuses browser-borne writes that do not come from Vigie's own origin
//! (whatever the credential), requires the CSRF token on cookie-borne writes and the declared content type on
//! bodies, checks the route's permission, records refusals, and hands the handler a [`Caller`].
//!
//! Handlers then only narrow what they show to the caller's reach through [`vigie_domain::access::View`]; what a
//! caller may change is decided by the application layer ([`vigie_app`]), on the record as it is and as it would
//! be.

use crate::auth::{Session, Throttle, Touched};
use crate::routes::{self, Body};
use crate::{ApiError, App};
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Path, Request, State as AxState};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use vigie_app::accounts::{self, Password, TokenRequest, UserChange};
use vigie_app::credentials;
use vigie_domain::access::{AccessDenied, Credential, Permission, Principal, Reach, Role, User, UserName};
use vigie_domain::{Actor, OrgId, PartnerId};

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
    /// Any one of these permissions (the wall's routes: `monitoring:read`, or `wall:read` and the handler narrows).
    NeedAny(&'static [Permission]),
    /// The permission, held by a caller whose reach is everything (not a tactical group nor a partner).
    NeedAll(Permission),
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

/// The authenticated caller, for handlers: who, and the request it made (the source of the events it causes).
#[derive(Debug, Clone)]
pub struct Caller(pub vigie_app::Caller);

impl Caller {
    pub fn actor(&self) -> Actor {
        self.0.principal.actor.clone()
    }
    pub fn principal(&self) -> &Principal {
        &self.0.principal
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, ApiError> {
        let p =
            parts.extensions.get::<Principal>().cloned().ok_or_else(|| ApiError::Unauthenticated("sign in".into()))?;
        let path: String = parts.uri.path().chars().take(200).collect();
        Ok(Caller(vigie_app::Caller::new(p, format!("{} {path}", parts.method))))
    }
}

/// Why a caller was not let in.
pub(crate) enum Refusal {
    Unauthenticated { claimed: Option<String>, reason: &'static str, message: String },
    RateLimited { claimed: Option<String>, retry_after: u64 },
}

pub(crate) struct Authenticated {
    principal: Principal,
    session: Option<Session>,
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

fn basic(value: &str) -> Option<(String, String)> {
    // A user name and a password fit in far less; a bound keeps a hostile header cheap.
    if value.len() > 4096 {
        return None;
    }
    let b = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
    let s = String::from_utf8(b).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

impl App {
    /// Checks a user's password, under the sign-in throttle; the password's check (argon2) runs off the async
    /// threads.
    async fn check_password(&self, name: &str, password: String, peer: SocketAddr) -> Result<Principal, Refusal> {
        let name: String = name.chars().take(80).collect();
        let claimed = UserName::parse(&name).ok().map(|n| format!("user:{n}"));
        let ip = peer.ip().to_string();
        match self.access.limiter.check(&ip, &name) {
            Throttle::Go => {}
            Throttle::SlowDown(d) => tokio::time::sleep(d).await,
            Throttle::Refuse(retry_after) => return Err(Refusal::RateLimited { claimed, retry_after }),
        }
        let wrong = || Refusal::Unauthenticated {
            claimed: claimed.clone(),
            reason: "login failed",
            message: "wrong user name or password".into(),
        };
        let found = UserName::parse(&name).ok().and_then(|n| {
            let st = self.journal.state();
            st.accounts.users.get(&n).filter(|u| !u.disabled).cloned().map(|u| (u, st.accounts.version))
        });
        let ok = match &found {
            Some((u, version)) if self.access.verified.knows(*version, &u.name, &password) => true,
            Some((u, version)) => {
                let (hash, pw) = (u.password_hash.clone(), password.clone());
                let ok = tokio::task::spawn_blocking(move || credentials::verify_password(&hash, &pw))
                    .await
                    .unwrap_or(false);
                if ok {
                    self.access.verified.remember(*version, &u.name, &password);
                }
                ok
            }
            None => {
                // The same work for an unknown name: no timing hint about which names exist.
                let pw = password.clone();
                let _ = tokio::task::spawn_blocking(move || credentials::verify_password(&self::DUMMY_HASH, &pw)).await;
                false
            }
        };
        match found {
            Some((u, _)) if ok => {
                self.access.limiter.succeeded(&ip, &name);
                Ok(Principal::of_user(&u, Credential::Password, None))
            }
            _ => {
                self.access.limiter.failed(&ip, &name);
                Err(wrong())
            }
        }
    }

    pub(crate) async fn authenticate(&self, headers: &HeaderMap, peer: SocketAddr) -> Result<Authenticated, Refusal> {
        let unauthenticated = |claimed: Option<String>, message: &str| Refusal::Unauthenticated {
            claimed,
            reason: "unauthenticated",
            message: message.to_string(),
        };
        if let Some(v) = headers.get(header::AUTHORIZATION) {
            let v = v.to_str().unwrap_or("");
            if let Some(t) = v.strip_prefix("Bearer ") {
                let bad = "the token is unknown, expired or revoked";
                let (id, secret) = credentials::parse_token(t.trim()).ok_or_else(|| unauthenticated(None, bad))?;
                let st = self.journal.state();
                let claimed = Some(format!("token:{id}"));
                let rec = st.accounts.tokens.get(id).ok_or_else(|| unauthenticated(claimed.clone(), bad))?;
                let hash = credentials::token_hash(secret);
                if !credentials::constant_eq(hash.as_bytes(), rec.token.hash.as_bytes())
                    || !st.accounts.token_valid(id, Utc::now())
                {
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
        if let Some(c) = cookie(headers, self.access.cookie) {
            let mut limits = self.access.limits;
            let follower = !self.journal.role().writes();
            if follower {
                // Idle sessions are ended by the leader, which journals it (followers relay their sessions' activity
                // to it: cluster.rs); a follower only follows.
                limits.idle = limits.max;
            }
            let s = match self.access.sessions.touch(c, limits) {
                // Ended elsewhere (signed out on another node, ended by the leader): the journal says.
                Touched::Live(s) if !self.journal.state().accounts.sessions.contains_key(&s.id) => {
                    self.access.sessions.close(c);
                    None
                }
                Touched::Live(s) => Some(s),
                Touched::Ended { id } => {
                    self.session_closed(id, "idle").await;
                    None
                }
                // Not in memory: opened before a restart? The journal says.
                Touched::Unknown { id } => {
                    let known = self.journal.state().accounts.sessions.get(&id).cloned();
                    known.and_then(|(user, opened)| {
                        let age = (Utc::now() - opened).to_std().unwrap_or_default();
                        self.access.sessions.restore(c, user, age, limits)
                    })
                }
            };
            let s = s.ok_or_else(|| unauthenticated(None, "the session has ended: sign in again"))?;
            let st = self.journal.state();
            let u = st.accounts.users.get(&s.user).filter(|u| !u.disabled);
            let u = u.ok_or_else(|| unauthenticated(Some(format!("user:{}", s.user)), "the user is disabled"))?;
            let left = limits.max.saturating_sub(s.created.elapsed());
            let ends = Utc::now() + chrono::Duration::from_std(left).unwrap_or_default();
            let principal = Principal::of_user(u, Credential::Session(s.id.clone()), Some(ends));
            return Ok(Authenticated { principal, session: Some(s) });
        }
        Err(unauthenticated(None, "sign in (POST /api/v1/session), or send a Bearer token or Basic credentials"))
    }

    /// Records a failed authentication and answers it: 401, or 429 with `Retry-After`.
    pub(crate) async fn refused(
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
                let mut r = refuse(
                    table_api,
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many failed sign-ins from this address: try again later",
                );
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                r
            }
        }
    }

    /// Records the end of a session (so that a restart does not bring it back, and its tokens die).
    pub(crate) async fn session_closed(&self, id: String, reason: &'static str) {
        if !self.journal.role().writes() {
            return;
        }
        if let Err(e) = self.blocking(move |j| Ok(accounts::session_closed(&j, id, reason)?)).await {
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
        if !self.journal.role().writes() {
            // A follower cannot journal; reads refused here are logged (writes go to the leader, which records).
            tracing::info!(%from, %method, path, reason, "access denied (not journalled: this node follows)");
            return;
        }
        let Some(suppressed) = self.access.throttle.admit(&from) else { return };
        let actor = claimed
            .and_then(|c| Actor::parse(&c).ok())
            .unwrap_or_else(|| Actor::parse(&format!("anonymous@{from}")).expect("valid actor"));
        let denied = AccessDenied {
            reason: reason.to_string(),
            from,
            method: method.to_string(),
            path: without_secret(path).chars().take(200).collect(),
            suppressed,
        };
        if let Err(e) = self.blocking(move |j| Ok(accounts::access_denied(&j, actor, denied)?)).await {
            tracing::warn!(error = %e, "a refusal could not be recorded");
        }
    }
}

/// A path as a refusal records it: the secret of a link (an acknowledgement's token, a status page's) left out.
fn without_secret(path: &str) -> String {
    for public in ["/ack/", "/status/"] {
        if path.starts_with(public) {
            return format!("{public}(hidden)");
        }
    }
    path.to_string()
}

/// A fixed argon2id hash, verified for unknown user names so that they cost what known ones do.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| credentials::hash_password("no such user, no such password").expect("hashes"));

fn refuse(table_api: bool, status: StatusCode, message: &str) -> Response {
    let mut r = if table_api {
        crate::servicenow::error_response(status, message)
    } else {
        let e = match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthenticated(message.into()),
            StatusCode::TOO_MANY_REQUESTS => ApiError::TooManyRequests { message: message.into(), retry_after_s: 60 },
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(message.into()),
            _ => ApiError::Forbidden(message.into()),
        };
        e.into_response()
    };
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if table_api { "Basic realm=\"Vigie\"" } else { "Bearer realm=\"Vigie\"" };
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    r
}

/// Whether a state-changing request may have come from a page of another site. Browsers say where a request comes
/// from (`Sec-Fetch-Site`, `Origin`); a request that says nothing is not a browser's (scripts, agents, pysnow).
/// Checked whatever the credential: a browser also sends cached Basic credentials by itself.
fn cross_site(headers: &HeaderMap, public_origin: Option<&str>) -> Option<String> {
    let text = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(site) = text("sec-fetch-site") {
        // `same-origin`, or `none` (typed by the user: no page sent it).
        if !matches!(site, "same-origin" | "none") {
            return Some(format!("Sec-Fetch-Site: {site}"));
        }
    }
    if let Some(origin) = text("origin") {
        let host = text("host").unwrap_or("");
        let authority = origin.split_once("://").map(|(_, a)| a.trim_end_matches('/'));
        let same = authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
            || public_origin.is_some_and(|p| p.trim_end_matches('/').eq_ignore_ascii_case(origin));
        if !same {
            return Some(format!("Origin: {}", origin.chars().take(100).collect::<String>()));
        }
    }
    None
}

/// Whether a request's body has the type its route takes (an empty body passes where the route allows none).
fn body_type_ok(headers: &HeaderMap, body: Body) -> Result<(), &'static str> {
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = kind.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let empty = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() == "0")
        || (!headers.contains_key(header::CONTENT_LENGTH) && !headers.contains_key(header::TRANSFER_ENCODING));
    match body {
        Body::None => Ok(()),
        Body::Json { optional, .. } => {
            if empty && optional {
                return Ok(());
            }
            let json =
                essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
            if json {
                Ok(())
            } else {
                Err("this route takes a JSON body: send Content-Type: application/json")
            }
        }
        Body::Multipart => {
            if essence == "multipart/form-data" {
                Ok(())
            } else {
                Err("this route takes files as multipart/form-data")
            }
        }
    }
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
    let uri: String = req.uri().path().chars().take(200).collect();
    let route = routes::find(&method, &path);
    let rule = route.map(|r| r.rule);
    let writes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if writes {
        if let Some(why) = cross_site(req.headers(), app.access.public_origin.as_deref()) {
            app.record_denial(None, "cross-site", peer, &method, &uri).await;
            return refuse(
                table_api,
                StatusCode::FORBIDDEN,
                &format!("a change must come from Vigie's own pages ({why}): refused"),
            );
        }
    }
    // A body of another type than the route takes is refused (after authentication, so that a caller without
    // credentials learns nothing of the route): `text/plain` and forms are what a page of another site can send.
    let wrong_body = match route {
        Some(r) if writes => body_type_ok(req.headers(), r.body).err(),
        _ => None,
    };
    if rule == Some(Rule::Public) {
        if let Some(why) = wrong_body {
            return refuse(table_api, StatusCode::UNSUPPORTED_MEDIA_TYPE, why);
        }
        return next.run(req).await;
    }
    if rule == Some(Rule::Optional) {
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
        let given = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if writes && !credentials::constant_eq(given.as_bytes(), s.csrf.as_bytes()) {
            app.record_denial(who, "csrf", peer, &method, &uri).await;
            return refuse(table_api, StatusCode::FORBIDDEN, "a state-changing request needs the session's CSRF token");
        }
    }
    let p = &authenticated.principal;
    let allowed = match rule {
        Some(Rule::Need(x)) => p.may(x),
        Some(Rule::NeedAny(xs)) => xs.iter().any(|x| p.may(*x)),
        Some(Rule::NeedAll(x)) => p.may(x) && p.reach == Reach::All,
        Some(Rule::SignedIn) | Some(Rule::Public) | Some(Rule::Optional) => true,
        None => false,
    };
    if !allowed {
        app.record_denial(who, "forbidden", peer, &method, &uri).await;
        let what = match rule {
            Some(Rule::Need(p)) => format!("this needs the permission {p}, which your role or token does not grant"),
            Some(Rule::NeedAll(p)) => format!("this needs the permission {p} over every organisation and partner"),
            Some(Rule::NeedAny(ps)) => format!(
                "this needs one of the permissions {}, which your role or token does not grant",
                ps.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
            ),
            _ => "no access rule covers this route".into(),
        };
        return refuse(table_api, StatusCode::FORBIDDEN, &what);
    }
    if let Some(why) = wrong_body {
        return refuse(table_api, StatusCode::UNSUPPORTED_MEDIA_TYPE, why);
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
    pub sessions: crate::auth::Sessions,
    pub limits: crate::auth::SessionLimits,
    pub limiter: crate::auth::LoginLimiter,
    pub throttle: crate::auth::DenialThrottle,
    pub verified: crate::auth::VerifiedCache,
    pub secure_cookies: bool,
    /// The map's tile server, told to signed-in pages.
    pub tile_url: Option<String>,
    /// `scheme://host[:port]` of the configured public URL, if any.
    pub public_origin: Option<String>,
    /// The session cookie's name: `vigie_session`, or an exercise's own (`exercise.rs`).
    pub cookie: &'static str,
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
        "exercise": app.exercise.as_deref(),
    })
}

#[derive(Deserialize)]
pub struct Login {
    user: String,
    password: String,
}

pub(crate) fn session_cookie(app: &App, value: &str, max_age: u64) -> HeaderValue {
    let secure = if app.access.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        app.access.cookie
    ))
    .expect("cookie values are base64")
}

/// A JSON body, or a clear error naming what is wrong with it: 400 when it is not JSON, 422 when it is JSON of the
/// wrong shape (a field missing or of the wrong type), 415 when it does not say it is JSON.
pub(crate) fn body<T>(b: Result<Json<T>, axum::extract::rejection::JsonRejection>) -> Result<T, ApiError> {
    use axum::extract::rejection::JsonRejection::*;
    b.map(|Json(t)| t).map_err(|e| match e {
        JsonDataError(_) => ApiError::Invalid { message: e.body_text(), problems: Vec::new() },
        MissingJsonContentType(_) => ApiError::UnsupportedMediaType(e.body_text()),
        _ => ApiError::BadRequest(e.body_text()),
    })
}

/// `POST /api/v1/session`: sign in with a user name and password; sets the session cookie and returns the CSRF
/// token to send with every state-changing request.
pub async fn login(
    AxState(app): AxState<App>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    l: Result<Json<Login>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let l = match body(l) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let path = "/api/v1/session";
    match app.check_password(&l.user, l.password, peer).await {
        Ok(p) => {
            let user = p.user.clone().expect("a password belongs to a user");
            let (cookie, csrf, id) = app.access.sessions.open(user);
            let caller = vigie_app::Caller::new(p.clone(), "POST /api/v1/session");
            let from = peer.ip().to_string();
            let sid = id.clone();
            let r = app.blocking(move |j| Ok(accounts::session_opened(&j, &caller, sid, from)?)).await;
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
    if let Some(c) = cookie(&headers, app.access.cookie) {
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
    b: Result<Json<UserBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = body(b)?;
    let name = UserName::parse(&b.name).map_err(|e| vigie_app::AppError::field("name", e.to_string()))?;
    let change = UserChange {
        name,
        role: b.role,
        organization_id: b.organization_id,
        partner_id: b.partner_id,
        password: b.password.map_or(Password::Keep, Password::Set),
        disabled: b.disabled,
    };
    let saved = app.blocking(move |j| Ok(accounts::save_user(&j, &caller.0, change)?)).await?;
    let status = if saved.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({ "user": user_json(&saved.user), "password": saved.password_shown }))))
}

#[derive(Deserialize)]
pub struct TokenBody {
    /// Administrators may issue tokens for another user.
    user: Option<String>,
    #[serde(default)]
    label: String,
    /// Permissions (`monitoring:write`…); empty: everything the caller may hand out but `tokens:issue`.
    #[serde(default)]
    scopes: Vec<Permission>,
    /// RFC 3339; or `expires_in_days`.
    expires_at: Option<chrono::DateTime<Utc>>,
    expires_in_days: Option<u32>,
}

/// `GET /api/v1/tokens`: the caller's tokens (administrators: everyone's), without their secrets.
pub async fn tokens(AxState(app): AxState<App>, caller: Caller) -> Json<Value> {
    let st = app.journal.state();
    let p = caller.principal();
    let all = p.may(Permission::Users);
    let now = Utc::now();
    let list: Vec<Value> = st
        .accounts
        .tokens
        .values()
        .filter(|t| all || p.user.as_ref() == Some(&t.token.user))
        .map(|t| {
            json!({
                "id": t.token.id, "user": t.token.user, "label": t.token.label, "scopes": t.token.scopes,
                "expires_at": t.token.expires_at, "issued_at": t.issued_at, "revoked_at": t.revoked_at,
                "issued_through": t.token.parent, "valid": st.accounts.token_valid(&t.token.id, now),
            })
        })
        .collect();
    Json(json!({ "tokens": list }))
}

/// `POST /api/v1/tokens`: issues a token (shown once).
pub async fn issue(
    AxState(app): AxState<App>,
    caller: Caller,
    b: Result<Json<TokenBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = body(b)?;
    let user = b
        .user
        .map(|u| UserName::parse(&u))
        .transpose()
        .map_err(|e| vigie_app::AppError::field("user", e.to_string()))?;
    let now = Utc::now();
    let days = b.expires_in_days.map(|d| d.min(3650));
    let expires_at = b.expires_at.or(days.map(|d| now + chrono::Duration::days(d as i64)));
    let req = TokenRequest { user, label: b.label, scopes: b.scopes, expires_at };
    let t = app.blocking(move |j| Ok(accounts::issue_token(&j, &caller.0, req, now)?)).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "id": t.id, "token": t.token, "scopes": t.scopes, "expires_at": t.expires_at, "issued_through": t.parent }),
        ),
    ))
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the caller's tokens (administrators: any).
pub async fn revoke(
    AxState(app): AxState<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.blocking(move |j| Ok(accounts::revoke_token(&j, &caller.0, &id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_write_from_another_site_is_told_apart() {
        let check = |h: &[(&str, &str)]| cross_site(&headers(h), None).is_some();
        assert!(!check(&[("host", "vigie:8080")]), "no browser header: a script");
        assert!(!check(&[("host", "vigie:8080"), ("origin", "http://vigie:8080")]));
        assert!(!check(&[("host", "vigie:8080"), ("sec-fetch-site", "same-origin"), ("origin", "http://vigie:8080")]));
        assert!(check(&[("host", "vigie:8080"), ("origin", "https://evil.example")]));
        assert!(check(&[("host", "vigie:8080"), ("origin", "null")]));
        assert!(check(&[("host", "vigie:8080"), ("sec-fetch-site", "cross-site")]));
        assert!(check(&[("host", "vigie:8080"), ("sec-fetch-site", "same-site")]), "a sibling host is another site");
        // Behind a proxy the configured public origin is ours too.
        let h = headers(&[("host", "10.0.0.5:8080"), ("origin", "https://vigie.example")]);
        assert!(cross_site(&h, Some("https://vigie.example")).is_none());
    }

    #[test]
    fn bodies_must_be_of_the_declared_type() {
        let json = Body::Json { schema: "{}", optional: false };
        let ok = |h: &[(&str, &str)], b| body_type_ok(&headers(h), b).is_ok();
        assert!(ok(&[("content-type", "application/json"), ("content-length", "2")], json));
        assert!(ok(&[("content-type", "application/json; charset=utf-8"), ("content-length", "2")], json));
        assert!(ok(&[("content-type", "application/merge-patch+json"), ("content-length", "2")], json));
        assert!(!ok(&[("content-type", "text/plain"), ("content-length", "2")], json), "the CSRF-able type");
        assert!(!ok(&[("content-type", "application/x-www-form-urlencoded"), ("content-length", "2")], json));
        assert!(!ok(&[("content-length", "2")], json));
        let optional = Body::Json { schema: "{}", optional: true };
        assert!(ok(&[("content-length", "0")], optional));
        assert!(!ok(&[("content-type", "text/plain"), ("content-length", "5")], optional));
        assert!(ok(&[("content-type", "multipart/form-data; boundary=x"), ("content-length", "9")], Body::Multipart));
    }
}
