//! The `vigie` binary's library: configuration, opening storage, the CLI commands, the demo data set and the
//! synthetic generator. `main.rs` only calls [`cli::main`]; tests drive the same functions.

pub mod ask;
pub mod cli;
pub mod config;
pub mod demo;
pub mod generate;
pub mod journal;
pub mod oncall;
pub mod readiness;
pub mod serve;
pub mod users;

use anyhow::{bail, Context};
use std::fs::File;
use std::path::{Path, PathBuf};
use vigie_journal::cluster::{Cluster, ClusterOptions};
use vigie_journal::{Journal, JournalError, JournalOptions, JournalStore};

/// Exclusive use of a data directory by one process (released when dropped or when the process dies).
#[derive(Debug)]
pub struct DataLock {
    _file: File,
    pub dir: PathBuf,
}

impl DataLock {
    pub fn acquire(dir: &Path) -> anyhow::Result<DataLock> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        let path = dir.join("LOCK");
        let file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataLock { _file: file, dir: dir.to_path_buf() }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "the data directory {} is in use by another Vigie process (a running server?). \
                 Stop it, or send the files to it: curl -F file=@stock.csv http://HOST:PORT/api/v1/import",
                dir.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => Err(e).context("cannot lock the data directory"),
        }
    }
}

/// The node id: from the configuration, else generated once and kept in the data directory.
pub fn node_id(cfg: &config::Config) -> anyhow::Result<String> {
    if !cfg.node.id.is_empty() {
        return Ok(cfg.node.id.clone());
    }
    let path = cfg.storage.data_dir.join("node-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim().to_string();
        if !id.is_empty() {
            return Ok(id);
        }
    }
    let id = pending_node_id();
    std::fs::write(&path, &id).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(id)
}

fn uuid_simple() -> String {
    // A fresh time-ordered id, via the journal's dependency.
    vigie_journal::new_event_id().simple().to_string()
}

/// Opens the configured store: SQLite under the data directory, or PostgreSQL when `database` is a postgres URL.
pub fn open_store(cfg: &config::Config) -> anyhow::Result<Box<dyn JournalStore>> {
    open_store_as(cfg, None)
}

/// Whether the configured journal is on PostgreSQL (then `vigie serve` runs in cluster mode).
pub fn is_postgres(cfg: &config::Config) -> bool {
    let db = cfg.storage.database.trim();
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

fn pg_options(cfg: &config::Config) -> vigie_journal_postgres::PgOptions {
    vigie_journal_postgres::PgOptions {
        connect_timeout: std::time::Duration::from_secs(cfg.journal.connect_timeout_s.max(1)),
        statement_timeout: std::time::Duration::from_secs(cfg.journal.statement_timeout_s.max(1)),
    }
}

/// [`open_store`], naming PostgreSQL connections after the cluster's node `node`.
pub fn open_store_as(cfg: &config::Config, node: Option<&str>) -> anyhow::Result<Box<dyn JournalStore>> {
    let db = cfg.storage.database.trim();
    if db.is_empty() || db.starts_with("sqlite:") {
        let dir = match db.strip_prefix("sqlite:") {
            Some(p) if !p.is_empty() => PathBuf::from(p.trim_start_matches("//")),
            _ => cfg.storage.data_dir.clone(),
        };
        Ok(Box::new(vigie_journal_sqlite::SqliteStore::open_dir(&dir)?))
    } else if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        let schema = &cfg.storage.postgres_schema;
        Ok(Box::new(vigie_journal_postgres::PostgresStore::connect_node(db, schema, pg_options(cfg), node)?))
    } else {
        bail!(
            "unsupported database {:?}: leave it empty for SQLite under the data directory, or give a postgres:// URL",
            vigie_journal_postgres::redact_url(db)
        )
    }
}

/// Where the journal's head is recorded outside the store.
pub fn head_path(cfg: &config::Config) -> PathBuf {
    cfg.storage.data_dir.join("journal.head")
}

/// What to do about a damaged journal, appended to the refusal.
pub const REPAIR_HINT: &str = "Vigie will not start on it. Run `vigie journal verify` for a report, then restore \
     the data directory from a backup, or, once you accept that the events after a sequence N are lost, run \
     `vigie journal accept --through N` (see docs/journal.md)";

fn refuse(e: JournalError) -> anyhow::Error {
    match e {
        JournalError::Damaged { .. } => anyhow::anyhow!("{e}. {REPAIR_HINT}"),
        other => other.into(),
    }
}

/// Opens the journal to read only (`ask`, `status`, `events`): no lock, so it works beside a running server
/// (SQLite in WAL mode lets readers and a writer work at once). Nothing is written through it; the recorded head is
/// checked.
pub fn open_read_only(cfg: &config::Config) -> anyhow::Result<Journal> {
    if cfg.storage.database.trim().is_empty() && !cfg.storage.data_dir.join("journal.db").exists() {
        bail!(
            "no Vigie data in {} (load some with `vigie import` or `vigie demo`, or pass --data DIR)",
            cfg.storage.data_dir.display()
        );
    }
    let store = open_store(cfg)?;
    let options = JournalOptions {
        origin: "read-only".into(),
        max_batch_events: 1,
        head_file: Some(head_path(cfg)),
        read_only: true,
        ..Default::default()
    };
    Journal::open(store, options).map_err(refuse)
}

/// Locks the data directory, opens the store and replays the journal.
///
/// Refuses a data directory whose journal vanished: one that has a node id but neither a recorded head nor any
/// event (an empty `journal.db` beside an existing `node-id` would otherwise start a fresh journal, with a new
/// administrator). A new data directory gets its head file before its node id, so an interrupted first start is
/// not mistaken for a vanished journal.
pub fn open(cfg: &config::Config) -> anyhow::Result<(Journal, DataLock)> {
    open_node(cfg, false)
}

/// [`open`], in cluster mode when `cluster` (the journal opens as a follower: see [`join_cluster`]).
pub fn open_node(cfg: &config::Config, cluster: bool) -> anyhow::Result<(Journal, DataLock)> {
    let lock = DataLock::acquire(&cfg.storage.data_dir)?;
    let head = head_path(cfg);
    let node_file = cfg.storage.data_dir.join("node-id");
    let had_head = head.exists();
    let had_node = node_file.exists();
    // The node id is only read or made once the journal (and so its head file) is open.
    let origin = if had_node || !cfg.node.id.is_empty() { node_id(cfg)? } else { pending_node_id() };
    let mut store = open_store_as(cfg, cluster.then_some(origin.as_str()))?;
    if !had_head && had_node && store.last_seq()? == 0 {
        bail!(
            "the data directory {} has a node id ({}) but its journal is empty and no head was recorded: the journal \
             vanished (deleted, or the wrong file). {REPAIR_HINT}; `vigie journal accept --through 0` starts an \
             empty journal here",
            cfg.storage.data_dir.display(),
            node_file.display()
        );
    }
    let options = JournalOptions {
        origin: String::new(),
        max_batch_events: cfg.journal.max_batch_events,
        head_file: Some(head),
        read_only: false,
        retry_max: std::time::Duration::from_secs(cfg.journal.retry_max_s.max(1)),
        snapshot_every_events: cfg.journal.snapshot_every_events,
        snapshot_every: std::time::Duration::from_secs(cfg.journal.snapshot_every_min.max(1) * 60),
        use_snapshots: true,
        cluster,
    };
    let journal = Journal::open(store, JournalOptions { origin: origin.clone(), ..options }).map_err(refuse)?;
    if !had_node && cfg.node.id.is_empty() {
        std::fs::write(&node_file, &origin).with_context(|| format!("cannot write {}", node_file.display()))?;
    }
    Ok((journal, lock))
}

/// Joins the cluster of the nodes on the same PostgreSQL journal: the lease (leader or follower), the wake-ups, the
/// address others forward writes to. Returns once this node leads or knows who does (within the lease's ttl and a
/// little more).
/// `listening`: the address the server is bound to (the default advertised address).
pub fn join_cluster(
    cfg: &config::Config,
    journal: &Journal,
    listening: std::net::SocketAddr,
) -> anyhow::Result<std::sync::Arc<Cluster>> {
    let node = node_id(cfg)?;
    let advertise = if cfg.node.advertise.trim().is_empty() {
        let listen = listening;
        if listen.ip().is_unspecified() {
            bail!(
                "cluster mode: the other nodes forward writes to this one, so set [node] advertise \
                 (e.g. http://10.0.0.5:8080) when listening on {listen}"
            );
        }
        format!("http://{listen}")
    } else {
        cfg.node.advertise.trim().trim_end_matches('/').to_string()
    };
    let db = cfg.storage.database.trim();
    let schema = &cfg.storage.postgres_schema;
    let ttl = std::time::Duration::from_millis(cfg.node.lease_ttl_ms.max(500));
    let tick = std::time::Duration::from_millis(cfg.node.lease_tick_ms.clamp(50, ttl.as_millis() as u64 / 2));
    let lease = vigie_journal_postgres::cluster::PgLease::connect(db, schema, pg_options(cfg), &node, &advertise, ttl)?;
    let waker = vigie_journal_postgres::cluster::PgWaker::connect(db, schema, pg_options(cfg), &node)?;
    let options = ClusterOptions { node, address: advertise, tick, ttl };
    let cluster = Cluster::start(journal.clone(), Box::new(lease), Box::new(waker), options)?;
    let until = std::time::Instant::now() + ttl + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < until {
        let s = cluster.status();
        if s.last_round.is_some() && (journal.role().writes() || s.leader.is_some()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let s = cluster.status();
    tracing::info!(node = %s.node, role = s.role, leader = ?s.leader.as_ref().map(|l| &l.name), "joined the cluster");
    Ok(std::sync::Arc::new(cluster))
}

/// `vigie cluster status`, for a person: the leader, then one line per node with its role, position and lag.
pub fn cluster_report(
    view: &vigie_journal_postgres::cluster::ClusterView,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    match &view.leader {
        Some(l) => {
            let _ = writeln!(
                out,
                "leader: {} at {} (epoch {}, lease renewed {:.1} s ago)",
                l.name, l.address, l.epoch, view.lease_age_s
            );
        }
        None => {
            let _ = writeln!(out, "leader: none yet");
        }
    }
    let _ = writeln!(out, "journal head: {}", view.head);
    let _ = writeln!(out, "{:<24} {:<9} {:>12} {:>8} {:>10}  address", "node", "role", "position", "lag", "seen");
    for n in &view.nodes {
        let seen = (now - n.seen_at).num_milliseconds() as f64 / 1000.0;
        let role = if seen > 10.0 { "gone?" } else { n.role.as_str() };
        let _ = writeln!(
            out,
            "{:<24} {:<9} {:>12} {:>8} {:>9.1}s  {}",
            n.name,
            role,
            n.position,
            view.head.saturating_sub(n.position),
            seen,
            n.address
        );
    }
    out
}

fn pending_node_id() -> String {
    format!("node-{}", &uuid_simple()[..12])
}

/// A small deterministic random generator (xorshift64*), so the demo and the generator are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
