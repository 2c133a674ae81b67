//! Credentials: passwords (argon2id), API tokens (random secrets kept as hashes), browser sessions (in memory,
//! with a CSRF token and an idle timeout), the login rate limit, and the throttled record of refusals.
//!
//! Users and tokens are journal events (`user.upserted`, `token.issued`, `token.revoked`): this module makes and
//! checks secrets; [`crate::access`] decides what an authenticated caller may do.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use blake2::{Blake2b, Digest};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vigie_domain::access::{Permission, TokenIssued, User, UserName};
use vigie_domain::{Actor, Event, NewEvent};
use vigie_journal::Journal;

type Blake2b256 = Blake2b<blake2::digest::consts::U32>;

/// Argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid parameters"))
}

/// Hashes a password (argon2id, random salt) into its PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    check_password(password)?;
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| e.to_string())?;
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// What a password must be: at least 8 characters.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 8 {
        return Err("a password has at least 8 characters".into());
    }
    Ok(())
}

/// Whether `password` matches a PHC hash. An empty or unreadable hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A random secret of 32 bytes, URL-safe base64.
pub fn random_secret() -> String {
    let b = random_bytes::<32>();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Bytes from the operating system's random source.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).expect("the operating system's random source");
    b
}

fn digest_hex(s: &str) -> String {
    let d = Blake2b256::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The prefix of every API token, so secret scanners and logs can recognise one.
pub const TOKEN_PREFIX: &str = "vigie_";

/// A new token's public id and secret: the caller is shown `vigie_<id>_<secret>` once; the journal keeps the hash.
pub fn new_token() -> (String, String) {
    let id: String = random_bytes::<6>().iter().map(|b| format!("{b:02x}")).collect();
    (id, random_secret())
}

/// Splits a presented token into (id, secret).
pub fn parse_token(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && !secret.is_empty()).then_some((id, secret))
}

pub fn token_hash(secret: &str) -> String {
    digest_hex(secret)
}

/// Compares without stopping at the first difference.
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8;
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

/// Records a user (new, or replacing the record of the same name) after checking it against its role and the
/// registry (its organisation or partner must exist). Blocks until durable.
pub fn record_user(journal: &Journal, user: User, actor: Actor, source: String) -> Result<(), crate::ApiError> {
    user.check().map_err(crate::ApiError::BadRequest)?;
    journal.execute(move |st| {
        if let Some(o) = &user.organization_id {
            if !st.organizations.contains_key(o) {
                return Err(format!("organisation {o} is not in the registry"));
            }
        }
        if let Some(p) = &user.partner_id {
            if !st.toc.partners.contains_key(p) {
                return Err(format!("partner {p} is not in the registry"));
            }
        }
        Ok((vec![NewEvent { actor, source, event: Event::UserUpserted(user) }], ()))
    })?;
    Ok(())
}

/// What a new token is for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub user: UserName,
    pub label: String,
    /// Empty: every permission of the user's role.
    pub scopes: Vec<Permission>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Issues a token for an existing, enabled user, with scopes its role grants. Returns (id, the token to show once).
pub fn issue_token(
    journal: &Journal,
    req: TokenRequest,
    actor: Actor,
    source: String,
) -> Result<(String, String), crate::ApiError> {
    let (id, secret) = new_token();
    let shown = format!("{TOKEN_PREFIX}{id}_{secret}");
    let hash = token_hash(&secret);
    let tid = id.clone();
    journal.execute(move |st| {
        let u = st.accounts.users.get(&req.user).ok_or_else(|| format!("user {} does not exist", req.user))?;
        if u.disabled {
            return Err(format!("user {} is disabled", req.user));
        }
        let granted = u.role.permissions();
        let scopes = if req.scopes.is_empty() { granted.to_vec() } else { req.scopes.clone() };
        if let Some(p) = scopes.iter().find(|p| !granted.contains(p)) {
            return Err(format!("a {} user cannot hold the scope {p}", u.role));
        }
        if req.expires_at.is_some_and(|e| e <= Utc::now()) {
            return Err("the expiry is in the past".into());
        }
        let t = TokenIssued { id: tid, user: req.user, label: req.label, scopes, expires_at: req.expires_at, hash };
        Ok((vec![NewEvent { actor, source, event: Event::TokenIssued(t) }], ()))
    })?;
    Ok((id, shown))
}

/// Revokes a token; `owner`, when given, must be its user.
pub fn revoke_token(
    journal: &Journal,
    id: String,
    owner: Option<UserName>,
    actor: Actor,
    source: String,
) -> Result<(), crate::ApiError> {
    journal.execute(move |st| {
        let t = st.accounts.tokens.get(&id).filter(|t| owner.as_ref().is_none_or(|o| &t.token.user == o));
        let t = t.ok_or_else(|| format!("token {id} not found"))?;
        if t.revoked_at.is_some() {
            return Err(format!("token {id} is already revoked"));
        }
        Ok((
            vec![NewEvent {
                actor,
                source,
                event: Event::TokenRevoked(vigie_domain::access::TokenRevoked { id: id.clone() }),
            }],
            (),
        ))
    })?;
    Ok(())
}

/// A browser session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserName,
    pub csrf: String,
    pub created: Instant,
    pub last_seen: Instant,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Without a request for this long, the session ends.
    pub idle: Duration,
    /// Whatever the activity, a session ends after this.
    pub max: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits { idle: Duration::from_secs(30 * 60), max: Duration::from_secs(12 * 3600) }
    }
}

/// Live sessions by the hash of their cookie (a memory dump does not hand out live cookies). The journal keeps
/// that hash too (`session.opened`, `session.closed`), so a session outlives a restart: after one, a cookie the
/// journal knows is brought back, its idle time counted from then.
#[derive(Debug, Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<String, Session>>,
}

/// What a cookie turned out to be.
#[derive(Debug)]
pub enum Touched {
    Live(Session),
    /// Idle or too old: forgotten now.
    Ended {
        id: String,
    },
    /// Not in memory (a restart since, or never opened).
    Unknown {
        id: String,
    },
}

impl Sessions {
    /// The identifier the journal knows a session by: a hash of its cookie.
    pub fn id_of(cookie: &str) -> String {
        digest_hex(cookie)
    }

    /// The CSRF token of a session: derived from its cookie, so it needs no storage and survives a restart, and
    /// no other site can compute it (the cookie is HttpOnly and SameSite).
    fn csrf_of(cookie: &str) -> String {
        digest_hex(&format!("csrf:{cookie}"))
    }

    /// Opens a session; returns (cookie value, CSRF token, id).
    pub fn open(&self, user: UserName) -> (String, String, String) {
        let cookie = random_secret();
        let csrf = Self::csrf_of(&cookie);
        let now = Instant::now();
        let s = Session { user, csrf: csrf.clone(), created: now, last_seen: now };
        let id = Self::id_of(&cookie);
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), s);
        (cookie, csrf, id)
    }

    /// The live session of a cookie, touched; ended (and forgotten) when idle or too old.
    pub fn touch(&self, cookie: &str, limits: SessionLimits) -> Touched {
        let id = Self::id_of(cookie);
        let mut m = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let Some(s) = m.get_mut(&id) else { return Touched::Unknown { id } };
        if now.duration_since(s.last_seen) > limits.idle || now.duration_since(s.created) > limits.max {
            m.remove(&id);
            return Touched::Ended { id };
        }
        s.last_seen = now;
        let out = s.clone();
        if m.len() > 4096 {
            m.retain(|_, s| now.duration_since(s.last_seen) <= limits.idle);
        }
        Touched::Live(out)
    }

    /// Brings back a session the journal knows, opened `age` ago (none when older than the limit).
    pub fn restore(&self, cookie: &str, user: UserName, age: Duration, limits: SessionLimits) -> Option<Session> {
        if age > limits.max {
            return None;
        }
        let now = Instant::now();
        let created = now.checked_sub(age).unwrap_or(now);
        let s = Session { user, csrf: Self::csrf_of(cookie), created, last_seen: now };
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner()).insert(Self::id_of(cookie), s.clone());
        Some(s)
    }

    /// Ends a session; returns its id.
    pub fn close(&self, cookie: &str) -> String {
        let id = Self::id_of(cookie);
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        id
    }
}

/// Failed sign-ins per address and per user name in a sliding window; past the limit, sign-ins are refused
/// (even right ones) until the window has passed.
#[derive(Debug)]
pub struct LoginLimiter {
    pub max_failures: usize,
    pub window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: usize, window: Duration) -> LoginLimiter {
        LoginLimiter { max_failures: max_failures.max(1), window, failures: Mutex::default() }
    }

    /// Seconds to wait before trying again, if any of the keys is over the limit.
    pub fn blocked(&self, keys: &[&str]) -> Option<u64> {
        let now = Instant::now();
        let mut m = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for k in keys {
            if let Some(q) = m.get_mut(*k) {
                while q.front().is_some_and(|t| now.duration_since(*t) > self.window) {
                    q.pop_front();
                }
                if q.len() >= self.max_failures {
                    let oldest = *q.front().expect("non-empty");
                    let left = self.window.saturating_sub(now.duration_since(oldest)).as_secs().max(1);
                    wait = Some(wait.map_or(left, |w: u64| w.max(left)));
                }
            }
        }
        wait
    }

    pub fn failed(&self, keys: &[&str]) {
        let now = Instant::now();
        let mut m = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 65_536 {
            m.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= self.window));
        }
        for k in keys {
            m.entry(k.to_string()).or_default().push_back(now);
        }
    }

    pub fn succeeded(&self, user_key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(user_key);
    }
}

/// Decides which refusals are written to the journal: up to `per_minute` per address, the others counted and
/// reported with the next record, so a flood of bad requests cannot flood the journal.
#[derive(Debug)]
pub struct DenialThrottle {
    per_minute: u32,
    by_source: Mutex<HashMap<String, (Instant, u32, u64)>>,
}

impl DenialThrottle {
    pub fn new(per_minute: u32) -> DenialThrottle {
        DenialThrottle { per_minute, by_source: Mutex::default() }
    }

    /// `Some(suppressed since the last record)` when this refusal is to be recorded.
    pub fn admit(&self, source: &str) -> Option<u64> {
        let now = Instant::now();
        let mut m = self.by_source.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 65_536 {
            m.retain(|_, (start, _, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let e = m.entry(source.to_string()).or_insert((now, 0, 0));
        if now.duration_since(e.0) >= Duration::from_secs(60) {
            e.0 = now;
            e.1 = 0;
        }
        if e.1 < self.per_minute {
            e.1 += 1;
            Some(std::mem::take(&mut e.2))
        } else {
            e.2 += 1;
            None
        }
    }
}

/// Verified Basic credentials, so that a script's every request does not pay for argon2: (user, hash of the
/// password) → the accounts version it was verified at. A change to any account forgets them all.
#[derive(Debug, Default)]
pub struct VerifiedCache {
    inner: Mutex<(u64, std::collections::HashSet<(UserName, String)>)>,
}

impl VerifiedCache {
    pub fn knows(&self, version: u64, user: &UserName, password: &str) -> bool {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.0 == version && m.1.contains(&(user.clone(), digest_hex(password)))
    }
    pub fn remember(&self, version: u64, user: &UserName, password: &str) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if m.0 != version || m.1.len() > 10_000 {
            m.0 = version;
            m.1.clear();
        }
        m.1.insert((user.clone(), digest_hex(password)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horsE"));
        assert!(!verify_password("", "anything"), "no hash, no password login");
        assert_ne!(hash_password("correct horse").unwrap(), h, "salted");
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn tokens_parse_and_hash() {
        let (id, secret) = new_token();
        let shown = format!("{TOKEN_PREFIX}{id}_{secret}");
        assert_eq!(parse_token(&shown), Some((id.as_str(), secret.as_str())));
        assert_eq!(parse_token("vigie_short_x"), None);
        assert_eq!(parse_token("other"), None);
        assert_eq!(token_hash(&secret).len(), 64);
        assert_ne!(token_hash(&secret), token_hash("other"));
    }

    #[test]
    fn the_limiter_blocks_after_the_allowed_failures() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        for _ in 0..2 {
            l.failed(&["ip:1", "user:a"]);
        }
        assert_eq!(l.blocked(&["ip:1", "user:a"]), None);
        l.failed(&["ip:1", "user:a"]);
        assert!(l.blocked(&["ip:1"]).is_some_and(|s| (1..=60).contains(&s)));
        assert!(l.blocked(&["ip:2", "user:a"]).is_some(), "the user is blocked from any address");
        assert_eq!(l.blocked(&["ip:2", "user:b"]), None);
    }

    #[test]
    fn refusals_past_the_budget_are_counted_not_written() {
        let t = DenialThrottle::new(2);
        assert_eq!(t.admit("a"), Some(0));
        assert_eq!(t.admit("a"), Some(0));
        assert_eq!(t.admit("a"), None);
        assert_eq!(t.admit("a"), None);
        assert_eq!(t.admit("b"), Some(0), "per address");
    }

    #[test]
    fn sessions_end_when_idle() {
        let s = Sessions::default();
        let alice = UserName::parse("alice").unwrap();
        let (cookie, csrf, id) = s.open(alice.clone());
        let live = SessionLimits { idle: Duration::from_secs(60), max: Duration::from_secs(600) };
        assert!(matches!(s.touch(&cookie, live), Touched::Live(x) if x.csrf == csrf));
        assert!(matches!(s.touch("forged", live), Touched::Unknown { .. }));
        let short = SessionLimits { idle: Duration::ZERO, max: Duration::from_secs(600) };
        std::thread::sleep(Duration::from_millis(5));
        assert!(matches!(s.touch(&cookie, short), Touched::Ended { id: ended } if ended == id), "idle too long");
        assert!(matches!(s.touch(&cookie, live), Touched::Unknown { .. }), "and forgotten");
        // After a restart: the journal's record brings it back, with the same CSRF token; too old, it does not.
        let after = Sessions::default();
        let back = after.restore(&cookie, alice.clone(), Duration::from_secs(30), live).unwrap();
        assert_eq!(back.csrf, csrf);
        assert!(matches!(after.touch(&cookie, live), Touched::Live(_)));
        assert!(after.restore(&cookie, alice, Duration::from_secs(601), live).is_none());
    }
}
