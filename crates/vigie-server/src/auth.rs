//! Credentials at the edge: browser sessions (in memory, with a CSRF token and an idle timeout, brought back after a
//! restart from the journal), the sign-in throttle, the throttled record of refusals, and a cache of verified
//! passwords. Hashing lives in [`vigie_app::credentials`]; what an authenticated caller may do, in
//! [`crate::access`] and the application layer.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vigie_app::credentials::{digest_hex, random_secret};
use vigie_domain::access::UserName;

/// A browser session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The hash of its cookie: the journal knows it by this.
    pub id: String,
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
        let id = Self::id_of(&cookie);
        let s = Session { id: id.clone(), user, csrf: csrf.clone(), created: now, last_seen: now };
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
        let s = Session { id: Self::id_of(cookie), user, csrf: Self::csrf_of(cookie), created, last_seen: now };
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner()).insert(Self::id_of(cookie), s.clone());
        Some(s)
    }

    /// Forgets the sessions idle or too old; returns their ids (to record their end).
    pub fn sweep(&self, limits: SessionLimits) -> Vec<String> {
        let now = Instant::now();
        let mut m = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        let ended: Vec<String> = m
            .iter()
            .filter(|(_, s)| {
                now.duration_since(s.last_seen) > limits.idle || now.duration_since(s.created) > limits.max
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ended {
            m.remove(id);
        }
        ended
    }

    /// Whether a session is live in memory.
    pub fn knows(&self, id: &str) -> bool {
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner()).contains_key(id)
    }

    /// Ends a session; returns its id.
    pub fn close(&self, cookie: &str) -> String {
        let id = Self::id_of(cookie);
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        id
    }
}

/// Sign-in throttling (docs/access.md). Failures are counted in a sliding window per (address, user name), per
/// address, and per user name:
/// - an address that failed `max_failures` times for one user name is refused for that name (429 and
///   `Retry-After`) until the window has passed; one that failed ten times as often, whatever the names, is
///   refused for all;
/// - a user name that failed four times as often from anywhere is **slowed down** (each attempt waits a second
///   before its check), never locked out: its owner, from an address that has not failed, still signs in.
#[derive(Debug)]
pub struct LoginLimiter {
    pub max_failures: usize,
    pub window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// What the limiter says of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Go,
    /// Check the password after this pause (a user name under attack).
    SlowDown(Duration),
    /// Refused: try again after so many seconds.
    Refuse(u64),
}

impl LoginLimiter {
    /// How long an attempt on a user name under attack waits.
    pub const SLOW_DOWN: Duration = Duration::from_secs(1);

    pub fn new(max_failures: usize, window: Duration) -> LoginLimiter {
        LoginLimiter { max_failures: max_failures.max(1), window, failures: Mutex::default() }
    }

    fn keys(ip: &str, user: &str) -> [String; 3] {
        [format!("ip+user:{ip} {user}"), format!("ip:{ip}"), format!("user:{user}")]
    }

    /// Whether an attempt from `ip` for `user` may go on.
    pub fn check(&self, ip: &str, user: &str) -> Throttle {
        let now = Instant::now();
        let [pair, addr, name] = Self::keys(ip, user);
        let mut m = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut recent = |k: &str| -> (usize, Option<Instant>) {
            match m.get_mut(k) {
                None => (0, None),
                Some(q) => {
                    while q.front().is_some_and(|t| now.duration_since(*t) > self.window) {
                        q.pop_front();
                    }
                    (q.len(), q.front().copied())
                }
            }
        };
        let wait = |oldest: Option<Instant>| {
            oldest.map_or(1, |o| self.window.saturating_sub(now.duration_since(o)).as_secs().max(1))
        };
        let (n_pair, oldest_pair) = recent(&pair);
        if n_pair >= self.max_failures {
            return Throttle::Refuse(wait(oldest_pair));
        }
        let (n_addr, oldest_addr) = recent(&addr);
        if n_addr >= self.max_failures * 10 {
            return Throttle::Refuse(wait(oldest_addr));
        }
        let (n_name, _) = recent(&name);
        if n_name >= self.max_failures * 4 {
            return Throttle::SlowDown(Self::SLOW_DOWN);
        }
        Throttle::Go
    }

    pub fn failed(&self, ip: &str, user: &str) {
        let now = Instant::now();
        let mut m = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 65_536 {
            m.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= self.window));
        }
        for k in Self::keys(ip, user) {
            m.entry(k).or_default().push_back(now);
        }
    }

    /// A right password from `ip` for `user`: that pair starts afresh.
    pub fn succeeded(&self, ip: &str, user: &str) {
        let [pair, ..] = Self::keys(ip, user);
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&pair);
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
    fn the_limiter_slows_an_address_down_without_locking_the_owner_out() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        for _ in 0..2 {
            l.failed("10.0.0.9", "admin");
        }
        assert_eq!(l.check("10.0.0.9", "admin"), Throttle::Go);
        l.failed("10.0.0.9", "admin");
        assert!(matches!(l.check("10.0.0.9", "admin"), Throttle::Refuse(s) if (1..=60).contains(&s)));
        assert_eq!(l.check("10.0.0.1", "admin"), Throttle::Go, "the owner, from elsewhere, still signs in");
        assert_eq!(l.check("10.0.0.9", "alice"), Throttle::Go, "another name from the same address (a shared NAT)");
        // Attacked from many addresses, the name is slowed down, never refused.
        for i in 0..12 {
            l.failed(&format!("192.0.2.{i}"), "admin");
        }
        assert_eq!(l.check("10.0.0.1", "admin"), Throttle::SlowDown(LoginLimiter::SLOW_DOWN));
        // An address spraying many names is refused whatever the name.
        for i in 0..30 {
            l.failed("198.51.100.7", &format!("user{i}"));
        }
        assert!(matches!(l.check("198.51.100.7", "nobody-yet"), Throttle::Refuse(_)));
        // A right password clears its own pair.
        l.succeeded("10.0.0.9", "admin");
        assert_ne!(l.check("10.0.0.9", "admin"), Throttle::Refuse(60));
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
