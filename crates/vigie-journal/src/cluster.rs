//! Several nodes on one shared journal: one leader writes, the others follow.
//!
//! Leadership is a **lease** kept by the journal's own storage (PostgreSQL: a row with an epoch, renewed by the
//! leader, plus a session advisory lock that a dead leader's connection releases at once), not a consensus of our
//! own. The epoch is a **fencing token**: the leader's appends check it inside their transaction
//! ([`crate::JournalStore::set_fence`]), so a deposed leader appends nothing even before it knows.
//!
//! [`Cluster::start`] runs two threads beside the journal:
//! - the **lease thread** renews the lease (leader) or tries to take it (follower) every `tick`; on taking it, it
//!   promotes the journal (which first reads the journal to its end); on losing it, or when it could not renew it
//!   for a whole `ttl`, it demotes the journal. Hooks registered with [`Cluster::on_role`] hear of each change.
//! - the **wake thread** waits for the leader's announcements (PostgreSQL `LISTEN`) and wakes the journal, which
//!   reads what was appended by sequence; without announcements the journal still reads every half second, so a
//!   lost notification delays, never loses, an event.

use crate::{Journal, Role, StoreError};
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

/// The lease as the storage holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Leader {
    /// The leading node's name.
    pub name: String,
    /// Where it takes forwarded writes (`host:port`).
    pub address: String,
    pub epoch: u64,
}

/// What one round of the lease protocol found.
#[derive(Debug, Clone)]
pub struct LeaseRound {
    /// This node's epoch when it holds the lease after the round.
    pub held: Option<u64>,
    /// Who holds it (this node included).
    pub leader: Option<Leader>,
    /// The journal's last stored sequence.
    pub head: u64,
}

/// A node as the storage lists it (`vigie cluster status`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeSeen {
    pub name: String,
    pub address: String,
    pub role: String,
    pub position: u64,
    pub seen_at: DateTime<Utc>,
}

/// The storage side of leadership. Implemented by the PostgreSQL backend.
pub trait Lease: Send + 'static {
    /// One round: renew the lease held at `held`, or try to take it (free, its holder's connection gone, or not
    /// renewed within the ttl); records this node's role and position for others to see.
    fn round(&mut self, held: Option<u64>, position: u64) -> Result<LeaseRound, StoreError>;
    /// Gives the lease up (shutdown, or a promotion that failed), so another node takes it without waiting.
    fn resign(&mut self, held: u64);
    /// The secret nodes of this cluster share (created once in the storage): a forwarded request carrying it is
    /// trusted for the address of its original caller.
    fn secret(&mut self) -> Result<String, StoreError>;
}

/// Waits for the leader's announcement of an append.
pub trait Waker: Send + 'static {
    /// Blocks up to `timeout`; `Ok(true)` when an announcement arrived.
    fn wait(&mut self, timeout: Duration) -> Result<bool, StoreError>;
}

#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// This node's name (its journal origin).
    pub node: String,
    /// Where this node takes forwarded writes (`host:port`).
    pub address: String,
    /// How often the lease is renewed or tried.
    pub tick: Duration,
    /// How long a lease lives without renewal; a leader that could not renew for this long stops writing.
    pub ttl: Duration,
}

/// The cluster as this node sees it (`/health`, `/metrics`, `vigie cluster status`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClusterStatus {
    pub node: String,
    pub address: String,
    /// `leader` or `follower`.
    pub role: &'static str,
    pub epoch: Option<u64>,
    pub leader: Option<Leader>,
    /// The last sequence this node's readers see.
    pub position: u64,
    /// The journal's last stored sequence at the last round.
    pub head: u64,
    /// `head - position` (0 on the leader).
    pub lag: u64,
    /// When the lease was last renewed or read; `None` before the first round succeeded.
    pub last_round: Option<DateTime<Utc>>,
    /// The last failure of a round, if the last round failed.
    pub problem: Option<String>,
}

type Hook = Box<dyn Fn(Role) + Send + Sync>;

struct Shared {
    status: RwLock<ClusterStatus>,
    hooks: RwLock<Vec<Hook>>,
    stop: AtomicBool,
    secret: String,
}

/// A node's membership of a cluster. Dropping it (or [`Cluster::stop`]) resigns the lease.
pub struct Cluster {
    journal: Journal,
    shared: Arc<Shared>,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
}

impl Cluster {
    /// Joins the cluster: `journal` must have been opened in cluster mode (a follower).
    pub fn start(
        journal: Journal,
        mut lease: Box<dyn Lease>,
        waker: Box<dyn Waker>,
        options: ClusterOptions,
    ) -> Result<Cluster, StoreError> {
        let secret = lease.secret()?;
        let status = ClusterStatus {
            node: options.node.clone(),
            address: options.address.clone(),
            role: journal.role().name(),
            epoch: None,
            leader: None,
            position: journal.position(),
            head: journal.position(),
            lag: 0,
            last_round: None,
            problem: None,
        };
        let shared = Arc::new(Shared {
            status: RwLock::new(status),
            hooks: RwLock::default(),
            stop: AtomicBool::new(false),
            secret,
        });
        let lease_thread = {
            let (journal, shared) = (journal.clone(), shared.clone());
            thread::Builder::new()
                .name("vigie-lease".into())
                .spawn(move || lease_loop(journal, lease, shared, options))
                .map_err(|e| StoreError::new("cluster", e))?
        };
        let wake_thread = {
            let (journal, shared) = (journal.clone(), shared.clone());
            thread::Builder::new()
                .name("vigie-wake".into())
                .spawn(move || wake_loop(journal, waker, shared))
                .map_err(|e| StoreError::new("cluster", e))?
        };
        Ok(Cluster { journal, shared, threads: Mutex::new(vec![lease_thread, wake_thread]) })
    }

    pub fn status(&self) -> ClusterStatus {
        let mut s = self.shared.status.read().unwrap_or_else(|p| p.into_inner()).clone();
        // Position and role move between rounds: read them now.
        s.position = self.journal.position();
        let role = self.journal.role();
        s.role = role.name();
        s.lag = if role.writes() { 0 } else { s.head.saturating_sub(s.position) };
        s
    }

    /// The leader's address, when another node leads.
    pub fn leader_elsewhere(&self) -> Option<Leader> {
        if self.journal.role().writes() {
            return None;
        }
        let s = self.shared.status.read().unwrap_or_else(|p| p.into_inner());
        s.leader.clone().filter(|l| l.name != s.node)
    }

    pub fn secret(&self) -> &str {
        &self.shared.secret
    }

    /// Calls `f` on the lease thread after each change of this node's role (once promoted: the journal is read to its
    /// end and writes are open).
    pub fn on_role(&self, f: impl Fn(Role) + Send + Sync + 'static) {
        self.shared.hooks.write().unwrap_or_else(|p| p.into_inner()).push(Box::new(f));
    }

    /// Resigns the lease (if held) and stops the threads.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("status", &self.status()).finish()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lease_loop(journal: Journal, mut lease: Box<dyn Lease>, shared: Arc<Shared>, options: ClusterOptions) {
    let mut held: Option<u64> = None;
    let mut renewed = Instant::now();
    let set_role = |role: Role| {
        for h in shared.hooks.read().unwrap_or_else(|p| p.into_inner()).iter() {
            h(role);
        }
    };
    while !shared.stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        match lease.round(held, journal.position()) {
            Ok(round) => {
                match (held, round.held) {
                    (None, Some(epoch)) => match journal.promote(epoch) {
                        Ok(_) => {
                            held = Some(epoch);
                            renewed = started;
                            set_role(Role::Leader { epoch });
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, epoch, "cannot take over; the lease is given back");
                            lease.resign(epoch);
                        }
                    },
                    (Some(_), None) => {
                        held = None;
                        journal.demote("the lease was taken by another node");
                        set_role(Role::Follower);
                    }
                    (Some(epoch), Some(_)) => {
                        renewed = started;
                        // Still the lease's holder, but the journal stopped writing (its storage answered with
                        // events it did not write, and it followed them): it writes again, from the journal's end.
                        if !journal.role().writes() {
                            if let Err(e) = journal.promote(epoch) {
                                tracing::warn!(error = %e, epoch, "cannot write again; the lease is given back");
                                lease.resign(epoch);
                                held = None;
                                set_role(Role::Follower);
                            }
                        }
                    }
                    (None, None) => {}
                }
                let mut s = shared.status.write().unwrap_or_else(|p| p.into_inner());
                s.epoch = held;
                s.leader = round.leader;
                s.head = round.head;
                s.last_round = Some(Utc::now());
                s.problem = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "lease round failed");
                if held.is_some() && renewed.elapsed() >= options.ttl {
                    // Another node may take the lease now: stop writing before it does (the fence would refuse our
                    // appends anyway).
                    held = None;
                    journal.demote("the lease could not be renewed in time");
                    set_role(Role::Follower);
                }
                let mut s = shared.status.write().unwrap_or_else(|p| p.into_inner());
                s.epoch = held;
                s.problem = Some(e.to_string());
            }
        }
        let until = started + options.tick;
        while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())));
        }
    }
    if let Some(epoch) = held {
        journal.demote("shutting down");
        lease.resign(epoch);
    }
}

fn wake_loop(journal: Journal, mut waker: Box<dyn Waker>, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match waker.wait(Duration::from_millis(250)) {
            Ok(true) => journal.wake(),
            Ok(false) => {}
            Err(e) => {
                tracing::debug!(error = %e, "waiting for the leader's announcements failed");
                thread::sleep(Duration::from_millis(250));
            }
        }
    }
}
