//! The journal: Vigie's source of truth, and the single writer that keeps the in-memory projection in step with it.
//!
//! - [`JournalStore`] is what a storage backend provides (SQLite, PostgreSQL): append a batch of events in one durable
//!   transaction, scan events in order. Backends know rows, not domain types.
//! - [`Journal`] owns one store on a dedicated writer thread. Commands are closures that look at the writer's
//!   **working** [`State`] and return the events to append; the writer runs them one after another, each applied to
//!   the working state so the next command sees it, appends everything that arrived meanwhile in **one** transaction
//!   (group commit), and only once that transaction is durable applies the same events to the **shared** state that
//!   readers see, tells the subscribers (the SSE stream) and acknowledges each command. Readers therefore never see a
//!   sequence, a stamp or a record that a crash or a failed write could take back.
//! - Storage faults do not wedge the writer: a failed write resets the working state from the shared (durable) one,
//!   hands the store to a recovery thread that reconnects with back-off, and meanwhile commands fail at once with
//!   [`JournalError::Unavailable`]; reads keep working. On reconnection, the stored head says what is durable (a
//!   COMMIT whose answer was lost may have landed) and both states are brought to exactly that. [`Journal::health`].
//! - Every event carries a hash chained to the previous one ([`chain`]); at open the state is rebuilt by replaying
//!   the whole journal, verifying the chain on the way, and the journal refuses to open when committed events are
//!   missing or altered, including behind the head recorded outside the store (`journal.head`).
//!
//! Architecture invariant: the writer thread is the only code that mutates the projections. Readers take a read
//! lock on the shared state; nothing else holds its write lock.

use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread;
use std::time::{Duration, Instant};
use uuid::Uuid;
use vigie_domain::event::DecodeError;
use vigie_domain::{Actor, Envelope, Event, NewEvent, State};

pub mod chain;
pub mod cluster;
pub use chain::{ChainCheck, ChainError, Hash, Head, HeadFile, Verification};

/// A stored event, borrowed from the backend's row buffer.
#[derive(Debug, Clone, Copy)]
pub struct RawEvent<'a> {
    pub seq: u64,
    pub id: Uuid,
    /// Microseconds since the Unix epoch.
    pub time_us: i64,
    pub actor: &'a str,
    pub origin: &'a str,
    pub source: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    /// The stored chain hash (32 bytes; empty when the row has none).
    pub hash: &'a [u8],
}

/// An event ready to be written, with its chain hash.
#[derive(Debug, Clone)]
pub struct RowToWrite {
    pub seq: u64,
    pub id: Uuid,
    pub time_us: i64,
    pub actor: String,
    pub origin: String,
    pub source: String,
    pub kind: &'static str,
    pub payload: String,
    /// [`chain::chain_hash`] of this row after the previous one ([`RowToWrite::seal`]).
    pub hash: Hash,
}

impl RowToWrite {
    /// Computes this row's chain hash after `prev` and returns it (the next row's `prev`).
    pub fn seal(&mut self, prev: &Hash) -> Hash {
        self.hash = chain::chain_hash(
            prev,
            self.seq,
            &self.id,
            self.time_us,
            &self.actor,
            &self.origin,
            &self.source,
            self.kind,
            &self.payload,
        );
        self.hash
    }

    pub fn as_raw(&self) -> RawEvent<'_> {
        RawEvent {
            seq: self.seq,
            id: self.id,
            time_us: self.time_us,
            actor: &self.actor,
            origin: &self.origin,
            source: &self.source,
            kind: self.kind,
            payload: &self.payload,
            hash: &self.hash,
        }
    }
}

/// A storage backend failed. The message never carries credentials.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{backend} storage: {message}")]
pub struct StoreError {
    pub backend: &'static str,
    pub message: String,
    /// The append was refused because this node no longer holds the cluster's lease (see
    /// [`JournalStore::set_fence`]): nothing was written, for certain.
    pub fenced: bool,
}

impl StoreError {
    pub fn new(backend: &'static str, message: impl std::fmt::Display) -> StoreError {
        StoreError { backend, message: message.to_string(), fenced: false }
    }

    /// An append refused by the fence: another node leads now.
    pub fn fenced(backend: &'static str, message: impl std::fmt::Display) -> StoreError {
        StoreError { backend, message: message.to_string(), fenced: true }
    }
}

/// What a journal backend provides. Implementations run on the journal's writer thread (and at open), and on its
/// recovery thread while storage is unavailable.
pub trait JournalStore: Send + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// The highest sequence stored, 0 when empty.
    fn last_seq(&mut self) -> Result<u64, StoreError>;
    /// The last stored event's sequence and chain hash ([`Head::EMPTY`] when empty).
    fn head(&mut self) -> Result<Head, StoreError>;
    /// Appends the rows in one transaction; returns only once the transaction is durable.
    fn append(&mut self, rows: &[RowToWrite]) -> Result<(), StoreError>;
    /// After a failure: drops whatever connection the store holds and opens a fresh one (a no-op for an embedded
    /// store). Called with back-off by the recovery thread until it and [`JournalStore::head`] succeed.
    fn reconnect(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Cluster mode: from now on an append succeeds only while the cluster's lease is at `epoch` (a fencing token,
    /// checked inside the append's transaction), so a deposed leader appends nothing even before it knows it was
    /// deposed. `None`: no check (a single node). A store without a cluster ignores it.
    fn set_fence(&mut self, epoch: Option<u64>) {
        let _ = epoch;
    }
    /// The latest snapshot of the projection saved ([`vigie_domain::snapshot`]), with the head it was taken at.
    /// A store that keeps none answers `None`.
    fn latest_snapshot(&mut self) -> Result<Option<(Head, Vec<u8>)>, StoreError> {
        Ok(None)
    }
    /// Saves a snapshot of the projection taken at `head` (durable before it returns), keeping the latest two.
    fn save_snapshot(&mut self, head: Head, bytes: &[u8]) -> Result<(), StoreError> {
        let _ = (head, bytes);
        Err(StoreError::new(self.backend(), "this store keeps no snapshots"))
    }
    /// Repair only (`vigie journal accept`): removes every event after `seq` (and every snapshot taken after it);
    /// returns how many events were removed.
    fn truncate_after(&mut self, seq: u64) -> Result<u64, StoreError> {
        let _ = seq;
        Err(StoreError::new(self.backend(), "this store cannot remove events"))
    }
    /// Replay's scan: every event after `after`, in order, with everything the chain covers.
    fn scan_projection(
        &mut self,
        after: u64,
        f: &mut dyn FnMut(RawEvent<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.scan(after, None, f)
    }

    /// Calls `f` for every event with `seq > after`, in order, at most `limit` of them.
    fn scan(
        &mut self,
        after: u64,
        limit: Option<u64>,
        f: &mut dyn FnMut(RawEvent<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// Why a command or a read failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JournalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("journal holds an event this build cannot read (seq {seq}): {message}")]
    Decode { seq: u64, message: String },
    /// Committed events are missing or altered: the journal refuses to open on it.
    #[error("the journal is damaged at sequence {seq}: {problem}")]
    Damaged { seq: u64, problem: String },
    /// Storage is unreachable or failing: nothing was written; try again after `retry_after_s` seconds. The journal
    /// reconnects by itself meanwhile ([`Journal::health`]).
    #[error("journal storage is unavailable ({reason}); retry in {retry_after_s} s")]
    Unavailable { reason: String, retry_after_s: u64 },
    #[error("the journal is stopped")]
    Stopped,
    /// Cluster mode: this node follows the leader named (if one is known); writes go to it.
    #[error("this node is a follower; writes go to the leader ({})", .leader.as_deref().unwrap_or("none elected yet"))]
    NotLeader { leader: Option<String> },
    #[error("the journal failed and accepts no more writes until restart: {0}")]
    Failed(String),
}

impl From<ChainError> for JournalError {
    fn from(e: ChainError) -> Self {
        JournalError::Damaged { seq: e.seq(), problem: e.to_string() }
    }
}

/// Whether the journal can write ([`Journal::health`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalHealth {
    Ok,
    /// Writes are refused with [`JournalError::Unavailable`] (or, once `Failed`, until restart); reads work.
    Degraded {
        reason: String,
        since: DateTime<Utc>,
        retry_after_s: u64,
    },
}

impl JournalHealth {
    pub fn is_ok(&self) -> bool {
        matches!(self, JournalHealth::Ok)
    }
}

/// Result of a command: the events it appended (empty when there was nothing to change).
#[derive(Debug, Clone)]
pub struct Committed {
    pub events: Vec<Arc<Envelope>>,
}

impl Committed {
    pub fn first_seq(&self) -> Option<u64> {
        self.events.first().map(|e| e.seq)
    }
    pub fn last_seq(&self) -> Option<u64> {
        self.events.last().map(|e| e.seq)
    }
}

/// A command's outcome or refusal, typed by its caller and carried through the writer thread.
type Boxed = Box<dyn std::any::Any + Send>;
type Decide = Box<dyn FnOnce(&State) -> Result<(Vec<NewEvent>, Boxed), Boxed> + Send>;
type Subscriber = Box<dyn Fn(&[Arc<Envelope>]) + Send + Sync>;

/// How a command ended on the writer thread.
enum Failure {
    /// The command's own refusal (its typed error).
    Refused(Boxed),
    Journal(JournalError),
}

type Reply = mpsc::SyncSender<Result<(Committed, Boxed), Failure>>;

/// Why [`Journal::execute`] appended nothing: the command refused (its own typed error), or the journal failed.
#[derive(Debug)]
pub enum ExecuteError<E> {
    Refused(E),
    Journal(JournalError),
}

impl<E> From<JournalError> for ExecuteError<E> {
    fn from(e: JournalError) -> Self {
        ExecuteError::Journal(e)
    }
}

enum Request {
    Command {
        decide: Decide,
        reply: Reply,
    },
    Scan {
        after: u64,
        limit: u64,
        reply: mpsc::SyncSender<Result<Vec<Envelope>, JournalError>>,
    },
    /// A follower reads what the leader appended since its head.
    Tail,
    /// The cluster's lease is this node's at `epoch`: read to the end, then write, fenced by `epoch`.
    Promote {
        epoch: u64,
        reply: mpsc::SyncSender<Result<Head, JournalError>>,
    },
    /// The lease is lost (or cannot be renewed): stop writing.
    Demote {
        why: String,
    },
    /// From the recovery thread: storage answers again, and this is its head.
    Recovered {
        store: Box<dyn JournalStore>,
        head: Head,
    },
    Stop,
}

/// Tuning of the writer.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// The node id written as every event's origin.
    pub origin: String,
    /// Most events written in one transaction.
    pub max_batch_events: usize,
    /// The head recorded outside the store (`DATA_DIR/journal.head`): checked at open, and (unless `read_only`)
    /// written after every durable batch.
    pub head_file: Option<PathBuf>,
    /// Open to read: the head file is checked, never written; commands are refused.
    pub read_only: bool,
    /// Longest wait between two reconnection attempts while storage is unavailable.
    pub retry_max: Duration,
    /// A snapshot of the projection is saved after this many events since the last one (0: never)…
    pub snapshot_every_events: u64,
    /// …or after this long, when anything was written since the last one.
    pub snapshot_every: Duration,
    /// Start from the latest valid snapshot (and replay only what follows it).
    pub use_snapshots: bool,
    /// Cluster mode: the journal opens as a follower (it reads what the leader appends, [`Journal::wake`]) and writes
    /// only once promoted ([`Journal::promote`]); a store that answers again with events this node did not write
    /// makes it a follower, not a failure.
    pub cluster: bool,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions {
            origin: "local".into(),
            max_batch_events: 50_000,
            head_file: None,
            read_only: false,
            retry_max: Duration::from_secs(5),
            snapshot_every_events: 0,
            snapshot_every: Duration::from_secs(15 * 60),
            use_snapshots: true,
            cluster: false,
        }
    }
}

/// What this node does in its cluster ([`Journal::role`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The only node: it writes (SQLite, or a journal opened without cluster mode).
    Single,
    /// It holds the lease at this epoch and is the only one that appends.
    Leader { epoch: u64 },
    /// It reads what the leader appends and refuses commands with [`JournalError::NotLeader`].
    Follower,
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::Single => "single",
            Role::Leader { .. } => "leader",
            Role::Follower => "follower",
        }
    }
    pub fn writes(&self) -> bool {
        !matches!(self, Role::Follower)
    }
}

/// Reads the role of a journal without holding the journal.
#[derive(Clone)]
pub struct RoleWatch(Arc<RwLock<Role>>);

impl RoleWatch {
    pub fn get(&self) -> Role {
        *self.0.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// Most events a follower reads in one scan.
const TAIL_BATCH: u64 = 10_000;
/// How often a follower reads the journal when nothing woke it.
const TAIL_EVERY: Duration = Duration::from_millis(500);

/// Replay statistics of an open.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayStats {
    /// Events in the journal at open.
    pub events: u64,
    pub seconds: f64,
    /// The sequence of the snapshot the projection started from (0: a full replay).
    pub from_snapshot: u64,
}

/// Handle to the journal. Cheap to clone; all clones talk to the same writer thread.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

struct Inner {
    tx: Mutex<Option<mpsc::Sender<Request>>>,
    state: Arc<RwLock<State>>,
    subscribers: Arc<RwLock<Vec<Subscriber>>>,
    health: Arc<RwLock<JournalHealth>>,
    role: Arc<RwLock<Role>>,
    backend: &'static str,
    replay: ReplayStats,
    writer: Mutex<Option<thread::JoinHandle<()>>>,
}

/// Decodes stored rows into envelopes, sharing the texts that repeat from row to row (actor, origin, source):
/// a replay of millions of events then allocates them once each.
#[derive(Default)]
pub struct Decoder {
    texts: vigie_domain::fxhash::FxHashMap<Box<str>, Arc<str>>,
    actors: vigie_domain::fxhash::FxHashMap<Box<str>, Actor>,
    /// The last origin and source returned: consecutive events mostly share them.
    last_origin: Option<Arc<str>>,
    last_text: Option<Arc<str>>,
    last_actor: Option<Actor>,
}

impl Decoder {
    const MAX_CACHED: usize = 65_536;

    fn text(&mut self, s: &str) -> Arc<str> {
        Self::cached(&mut self.texts, &mut self.last_text, s)
    }

    fn origin(&mut self, s: &str) -> Arc<str> {
        Self::cached(&mut self.texts, &mut self.last_origin, s)
    }

    fn cached(
        texts: &mut vigie_domain::fxhash::FxHashMap<Box<str>, Arc<str>>,
        last: &mut Option<Arc<str>>,
        s: &str,
    ) -> Arc<str> {
        if let Some(l) = last {
            if &**l == s {
                return l.clone();
            }
        }
        if let Some(a) = texts.get(s) {
            *last = Some(a.clone());
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        if texts.len() < Self::MAX_CACHED {
            texts.insert(Box::from(s), a.clone());
        }
        a
    }

    fn actor(&mut self, s: &str) -> Actor {
        if s.is_empty() {
            // A projection scan does not read actors.
            return self.actor("system:replay");
        }
        if let Some(last) = &self.last_actor {
            if last.as_str() == s {
                return last.clone();
            }
        }
        if let Some(a) = self.actors.get(s) {
            self.last_actor = Some(a.clone());
            return a.clone();
        }
        let a = Actor::parse(s).unwrap_or_else(|_| Actor::system("unknown"));
        if self.actors.len() < Self::MAX_CACHED {
            self.actors.insert(Box::from(s), a.clone());
        }
        a
    }

    pub fn decode(&mut self, raw: RawEvent<'_>) -> Result<Envelope, DecodeError> {
        let event = Event::decode(raw.kind, raw.payload)?;
        Ok(Envelope {
            seq: raw.seq,
            id: raw.id,
            time: DateTime::from_timestamp_micros(raw.time_us).unwrap_or_default(),
            actor: self.actor(raw.actor),
            origin: self.origin(raw.origin),
            source: self.text(raw.source),
            event,
        })
    }
}

/// Decodes one stored row into an envelope.
pub fn decode(raw: RawEvent<'_>) -> Result<Envelope, DecodeError> {
    Decoder::default().decode(raw)
}

/// Where a text lies in a [`RawChunk`]'s buffer: (start, length).
type Span = (u32, u32);

/// One row of a [`RawChunk`]: (seq, id, time, [actor, origin, source, kind, payload], hash).
type ChunkRow = (u64, Uuid, i64, [Span; 5], Option<Hash>);

/// Rows copied out of storage in one buffer, so the scanning thread can hand them to a decoding thread.
struct RawChunk {
    text: String,
    rows: Vec<ChunkRow>,
}

impl RawChunk {
    fn with_capacity(rows: usize) -> RawChunk {
        RawChunk { text: String::with_capacity(rows * 256), rows: Vec::with_capacity(rows) }
    }
    fn push(&mut self, raw: RawEvent<'_>) {
        let mut put = |s: &str| {
            let start = self.text.len() as u32;
            self.text.push_str(s);
            (start, s.len() as u32)
        };
        let spans = [put(raw.actor), put(raw.origin), put(raw.source), put(raw.kind), put(raw.payload)];
        self.rows.push((raw.seq, raw.id, raw.time_us, spans, raw.hash.try_into().ok()));
    }
    fn iter(&self) -> impl Iterator<Item = RawEvent<'_>> {
        let at = |(s, l): (u32, u32)| &self.text[s as usize..(s + l) as usize];
        self.rows.iter().map(move |(seq, id, time_us, sp, hash)| RawEvent {
            seq: *seq,
            id: *id,
            time_us: *time_us,
            actor: at(sp[0]),
            origin: at(sp[1]),
            source: at(sp[2]),
            kind: at(sp[3]),
            payload: at(sp[4]),
            hash: hash.as_ref().map_or(&[][..], |h| &h[..]),
        })
    }
}

/// Replays every stored event after `from` (which must be `state`'s head) into `state`, verifying the chain on the
/// way, and, when `expect` (the head recorded outside the store) is given, that the journal passes through it.
/// Returns the new head.
///
/// Three stages on three threads, linked by bounded channels: one scans storage, checks the chain and copies rows
/// out, one decodes the rows into events, one applies them. Replay then runs at the pace of the slowest stage rather
/// than the sum.
pub fn replay_into(
    store: &mut dyn JournalStore,
    state: &mut State,
    from: Head,
    expect: Option<Head>,
) -> Result<Head, JournalError> {
    const CHUNK: usize = 4096;
    debug_assert_eq!(state.last_seq, from.seq);
    let after = from.seq;
    let (raw_tx, raw_rx) = mpsc::sync_channel::<RawChunk>(4);
    let (env_tx, env_rx) = mpsc::sync_channel::<Vec<Envelope>>(4);
    std::thread::scope(|scope| {
        let scanner = scope.spawn(move || -> Result<Head, JournalError> {
            let mut chunk = RawChunk::with_capacity(CHUNK);
            let mut check = ChainCheck::new(from, expect);
            let mut broken = None;
            store
                .scan_projection(after, &mut |raw| {
                    // The chain is checked here: JSON decoding is the pipeline's slowest stage, SQLite's scan leaves room.
                    if let Err(e) = check.check(&raw) {
                        broken = Some(e);
                        return Err(StoreError::new("replay", "chain broken"));
                    }
                    chunk.push(raw);
                    if chunk.rows.len() == CHUNK {
                        let full = std::mem::replace(&mut chunk, RawChunk::with_capacity(CHUNK));
                        raw_tx.send(full).map_err(|_| StoreError::new("replay", "decoder stopped"))?;
                    }
                    Ok(())
                })
                .map_err(|e| broken.take().map_or(JournalError::Store(e), JournalError::from))?;
            if !chunk.rows.is_empty() {
                let _ = raw_tx.send(chunk);
            }
            Ok(check.finish()?)
        });
        let decoder = scope.spawn(move || -> Result<(), JournalError> {
            let mut decoder = Decoder::default();
            for chunk in raw_rx {
                let mut out = Vec::with_capacity(chunk.rows.len());
                for raw in chunk.iter() {
                    let env = decoder
                        .decode(raw)
                        .map_err(|e| JournalError::Decode { seq: raw.seq, message: e.to_string() })?;
                    out.push(env);
                }
                if env_tx.send(out).is_err() {
                    break;
                }
            }
            Ok(())
        });
        for chunk in env_rx {
            for env in chunk {
                state.apply_owned(env);
            }
        }
        // A decoding failure stops the decoder, which stops the scanner ("decoder stopped"): then the decoder's
        // error is the one. A storage or chain failure stops the scanner, which cuts the decoder short.
        let scanned = scanner.join().map_err(|_| JournalError::Failed("the replay scanner panicked".into()))?;
        let decoded = decoder.join().map_err(|_| JournalError::Failed("the replay decoder panicked".into()))?;
        match scanned {
            Err(JournalError::Store(e)) if e.backend == "replay" => decoded.and(Err(JournalError::Store(e))),
            Err(e) => Err(e),
            Ok(head) => decoded.map(|()| head),
        }
    })
}

/// The projection to start from: the latest snapshot that decodes (this build's format, checksum intact) and that
/// the journal continues (the event after it chains from its head, or it is the head), plus the events after it;
/// else a full replay. A snapshot that does not fit is ignored (logged), never trusted. Returns the state, its head
/// and the snapshot's sequence (0: none used).
fn start_state(
    store: &mut dyn JournalStore,
    recorded: Option<Head>,
    use_snapshots: bool,
) -> Result<(State, Head, u64), JournalError> {
    if use_snapshots {
        match store.latest_snapshot() {
            Ok(Some((at, bytes))) => match vigie_domain::snapshot::decode(&bytes) {
                Ok(mut state) if state.last_seq == at.seq && recorded.is_none_or(|r| r.seq >= at.seq) => {
                    match replay_into(store, &mut state, at, recorded) {
                        Ok(head) if head.seq > at.seq || store.head().ok() == Some(at) => {
                            return Ok((state, head, at.seq));
                        }
                        Ok(_) => tracing::warn!(seq = at.seq, "the snapshot is not on this journal; replaying it all"),
                        Err(e) => {
                            tracing::warn!(seq = at.seq, error = %e, "replay after the snapshot failed; replaying it all")
                        }
                    }
                }
                Ok(_) => tracing::warn!(seq = at.seq, "the snapshot does not match its head; it is ignored"),
                Err(e) => tracing::warn!(seq = at.seq, error = %e, "the snapshot is ignored"),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "snapshots cannot be read; replaying the whole journal"),
        }
    }
    let mut state = State::new();
    let head = replay_into(store, &mut state, Head::EMPTY, recorded)?;
    Ok((state, head, 0))
}

/// How long a caller is told to wait before trying again, in whole seconds.
fn retry_secs(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

impl Journal {
    /// Opens the journal on a store: replays it into a fresh state (verifying its chain, and against the recorded
    /// head when `options.head_file` is set), then starts the writer thread.
    pub fn open(mut store: Box<dyn JournalStore>, options: JournalOptions) -> Result<Journal, JournalError> {
        let started = Instant::now();
        let recorded = match &options.head_file {
            Some(path) => HeadFile::read(path).map_err(|e| JournalError::Damaged { seq: 0, problem: e.to_string() })?,
            None => None,
        };
        let (state, head, from_snapshot) = start_state(store.as_mut(), recorded, options.use_snapshots)?;
        let replay = ReplayStats { events: head.seq, seconds: started.elapsed().as_secs_f64(), from_snapshot };
        tracing::info!(
            backend = store.backend(),
            events = head.seq,
            from_snapshot,
            seconds = replay.seconds,
            "journal replayed"
        );
        let head_file = match (&options.head_file, options.read_only) {
            (Some(path), false) => Some(HeadFile::create(path, head).map_err(|e| JournalError::Failed(e.to_string()))?),
            _ => None,
        };
        let backend = store.backend();
        // The writer decides on its own copy; readers see the shared one, which only ever holds durable events.
        let work = if options.read_only { State::new() } else { state.clone() };
        let state = Arc::new(RwLock::new(state));
        let subscribers: Arc<RwLock<Vec<Subscriber>>> = Arc::default();
        let health = Arc::new(RwLock::new(JournalHealth::Ok));
        let role = Arc::new(RwLock::new(if options.cluster { Role::Follower } else { Role::Single }));
        let (tx, rx) = mpsc::channel();
        let origin: Arc<str> = Arc::from(options.origin.as_str());
        let writer = Writer {
            store: Some(store),
            rx,
            tx: tx.clone(),
            shared: state.clone(),
            work,
            durable: head,
            work_head: head,
            subscribers: subscribers.clone(),
            health: health.clone(),
            role: role.clone(),
            options,
            origin,
            failed: None,
            in_doubt: None,
            recovery: None,
            head_file,
            snapshot: (from_snapshot, Instant::now()),
        };
        let handle = thread::Builder::new()
            .name("vigie-journal".into())
            .spawn(move || writer.run())
            .map_err(|e| JournalError::Failed(e.to_string()))?;
        Ok(Journal {
            inner: Arc::new(Inner {
                tx: Mutex::new(Some(tx)),
                state,
                subscribers,
                health,
                role,
                backend,
                replay,
                writer: Mutex::new(Some(handle)),
            }),
        })
    }

    pub fn backend(&self) -> &'static str {
        self.inner.backend
    }

    pub fn replay_stats(&self) -> ReplayStats {
        self.inner.replay
    }

    /// Whether the journal can write now, and if not why and since when. Cheap (a read lock and a clone).
    pub fn health(&self) -> JournalHealth {
        self.inner.health.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A read view of the current state: every event in it is durable. Hold it briefly: the writer waits for readers
    /// to apply new events.
    pub fn state(&self) -> RwLockReadGuard<'_, State> {
        self.inner.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Shared handle to the state, for code that outlives a borrow of the journal.
    pub fn state_handle(&self) -> Arc<RwLock<State>> {
        self.inner.state.clone()
    }

    /// Registers a function called with every durable batch of events, in order, on the writer thread.
    /// It must not block.
    pub fn subscribe(&self, f: impl Fn(&[Arc<Envelope>]) + Send + Sync + 'static) {
        self.inner.subscribers.write().unwrap_or_else(|p| p.into_inner()).push(Box::new(f));
    }

    fn send(&self, req: Request) -> Result<(), JournalError> {
        let guard = self.inner.tx.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().ok_or(JournalError::Stopped)?.send(req).map_err(|_| JournalError::Stopped)
    }

    /// Runs a command: `decide` sees the state left by every command decided before it (acknowledged, or in the
    /// batch being written) and returns the events to append with the outcome to hand back, or its refusal. Blocks
    /// until the events are durable; a refusal appends nothing. While storage is unavailable it fails at once with
    /// [`JournalError::Unavailable`].
    pub fn execute<T: Send + 'static, E: Send + 'static>(
        &self,
        decide: impl FnOnce(&State) -> Result<(Vec<NewEvent>, T), E> + Send + 'static,
    ) -> Result<(Committed, T), ExecuteError<E>> {
        let (reply, rx) = mpsc::sync_channel(1);
        let decide: Decide = Box::new(move |st| match decide(st) {
            Ok((events, outcome)) => Ok((events, Box::new(outcome) as Boxed)),
            Err(refusal) => Err(Box::new(refusal) as Boxed),
        });
        self.send(Request::Command { decide, reply })?;
        match rx.recv().map_err(|_| JournalError::Stopped)? {
            Ok((committed, outcome)) => {
                let outcome = outcome.downcast::<T>().map_err(|_| JournalError::Failed("outcome type".into()))?;
                Ok((committed, *outcome))
            }
            Err(Failure::Refused(refusal)) => {
                let refusal = refusal.downcast::<E>().map_err(|_| JournalError::Failed("refusal type".into()))?;
                Err(ExecuteError::Refused(*refusal))
            }
            Err(Failure::Journal(e)) => Err(ExecuteError::Journal(e)),
        }
    }

    /// Appends events unconditionally. Blocks until they are durable.
    pub fn append(&self, events: Vec<NewEvent>) -> Result<Committed, JournalError> {
        match self.execute(move |_| Ok::<_, std::convert::Infallible>((events, ()))) {
            Ok((committed, ())) => Ok(committed),
            Err(ExecuteError::Journal(e)) => Err(e),
            Err(ExecuteError::Refused(never)) => match never {},
        }
    }

    /// What this node does in its cluster.
    pub fn role(&self) -> Role {
        *self.inner.role.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The role, for code the journal itself holds (a subscriber holding a [`Journal`] would keep it alive).
    pub fn role_watch(&self) -> RoleWatch {
        RoleWatch(self.inner.role.clone())
    }

    /// The sequence of the last durable event readers see.
    pub fn position(&self) -> u64 {
        self.state().last_seq
    }

    /// A follower reads the journal now (the leader announced an append). Cheap; a no-op on a writer.
    pub fn wake(&self) {
        let _ = self.send(Request::Tail);
    }

    /// Makes this node the writer at `epoch` (it holds the cluster's lease): it first reads the journal to its end,
    /// then appends fenced by `epoch`. Returns the head it starts from.
    pub fn promote(&self, epoch: u64) -> Result<Head, JournalError> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.send(Request::Promote { epoch, reply })?;
        rx.recv().map_err(|_| JournalError::Stopped)?
    }

    /// Makes this node a follower (its lease is lost or could not be renewed in time).
    pub fn demote(&self, why: impl Into<String>) {
        let _ = self.send(Request::Demote { why: why.into() });
    }

    /// Reads up to `limit` stored events after `after` (for catching up a stream).
    pub fn read_after(&self, after: u64, limit: u64) -> Result<Vec<Envelope>, JournalError> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.send(Request::Scan { after, limit, reply })?;
        rx.recv().map_err(|_| JournalError::Stopped)?
    }

    /// Stops the writer after the requests already queued, and waits for it.
    pub fn shutdown(&self) {
        let _ = self.send(Request::Stop);
        self.inner.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = tx.send(Request::Stop);
        }
        if let Some(h) = self.writer.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

/// A batch whose write failed: its COMMIT may still have reached storage (an answer lost on the way back). Resolved
/// against the stored head once storage answers again.
struct InDoubt {
    last: Head,
    envelopes: Vec<Arc<Envelope>>,
}

/// The thread that reconnects while storage is unavailable.
struct Recovery {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<()>,
}

struct Writer {
    /// `None` while the recovery thread holds it.
    store: Option<Box<dyn JournalStore>>,
    rx: mpsc::Receiver<Request>,
    /// For the recovery thread, to hand the store back.
    tx: mpsc::Sender<Request>,
    /// What readers see: durable events only.
    shared: Arc<RwLock<State>>,
    /// What commands decide on: `shared` and the batch being written.
    work: State,
    /// The head of `shared` (durable), and of `work`.
    durable: Head,
    work_head: Head,
    subscribers: Arc<RwLock<Vec<Subscriber>>>,
    health: Arc<RwLock<JournalHealth>>,
    role: Arc<RwLock<Role>>,
    options: JournalOptions,
    origin: Arc<str>,
    /// Set when storage holds something this writer cannot reconcile with what it acknowledged: restart needed.
    failed: Option<String>,
    in_doubt: Option<InDoubt>,
    recovery: Option<Recovery>,
    head_file: Option<HeadFile>,
    /// The sequence and time of the last snapshot saved (or started from).
    snapshot: (u64, Instant),
}

struct Pending {
    reply: Reply,
    outcome: Result<(Vec<Arc<Envelope>>, Boxed), Failure>,
}

impl Writer {
    fn run(mut self) {
        let mut stop = false;
        while !stop {
            // An idle writer still syncs the head file within its period; an idle follower still reads the journal
            // within its own (a wake-up from the leader may have been missed).
            let follower = self.role() == Role::Follower;
            let unsynced = self.head_file.as_ref().is_some_and(|h| h.unsynced());
            let wait = match (follower, unsynced) {
                (true, _) => Some(TAIL_EVERY.min(HeadFile::SYNC_EVERY)),
                (false, true) => Some(HeadFile::SYNC_EVERY),
                (false, false) => None,
            };
            let first = match wait {
                Some(d) => match self.rx.recv_timeout(d) {
                    Ok(r) => r,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if unsynced {
                            self.sync_head(true);
                        }
                        if follower {
                            self.tail();
                        }
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                },
                None => {
                    let Ok(first) = self.rx.recv() else { break };
                    first
                }
            };
            let mut queue = vec![first];
            // Group commit: take everything that arrived while the previous batch was being written.
            while let Ok(r) = self.rx.try_recv() {
                queue.push(r);
                if queue.len() >= 4096 {
                    break;
                }
            }
            let mut pending: Vec<Pending> = Vec::new();
            let mut rows: Vec<RowToWrite> = Vec::new();
            let mut envelopes: Vec<Arc<Envelope>> = Vec::new();
            let mut wants_tail = false;
            for req in queue {
                match req {
                    Request::Stop => stop = true,
                    // Wake-ups arrive in bursts: one read after the queue serves them all.
                    Request::Tail => wants_tail = true,
                    Request::Promote { epoch, reply } => {
                        self.flush(&mut pending, &mut rows, &mut envelopes);
                        let _ = reply.send(self.promote(epoch));
                    }
                    Request::Demote { why } => {
                        self.flush(&mut pending, &mut rows, &mut envelopes);
                        self.demote(&why);
                    }
                    Request::Recovered { store, head } => {
                        self.flush(&mut pending, &mut rows, &mut envelopes);
                        self.recovered(store, head);
                    }
                    Request::Scan { after, limit, reply } => {
                        // Write what is pending first, so a scan sees every acknowledged event.
                        self.flush(&mut pending, &mut rows, &mut envelopes);
                        let _ = reply.send(self.scan(after, limit));
                    }
                    Request::Command { decide, reply } => {
                        if let Some(refusal) = self.refusal() {
                            let _ = reply.send(Err(Failure::Journal(refusal)));
                            continue;
                        }
                        let outcome = self.decide_and_apply(decide, &mut rows, &mut envelopes);
                        pending.push(Pending { reply, outcome });
                        if rows.len() >= self.options.max_batch_events {
                            self.flush(&mut pending, &mut rows, &mut envelopes);
                        }
                    }
                }
            }
            self.flush(&mut pending, &mut rows, &mut envelopes);
            if wants_tail {
                self.tail();
            }
            self.sync_head(false);
            self.maybe_snapshot();
        }
        if let Some(r) = self.recovery.take() {
            r.stop.store(true, Ordering::SeqCst);
            let _ = r.handle.join();
        }
        self.sync_head(true);
    }

    /// Why a command cannot run now, if it cannot.
    fn refusal(&self) -> Option<JournalError> {
        if let Some(why) = &self.failed {
            return Some(JournalError::Failed(why.clone()));
        }
        if self.options.read_only {
            return Some(JournalError::Failed("the journal was opened read-only".into()));
        }
        if self.role() == Role::Follower {
            return Some(JournalError::NotLeader { leader: None });
        }
        if self.store.is_none() {
            return Some(self.unavailable());
        }
        None
    }

    fn role(&self) -> Role {
        *self.role.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Saves a snapshot of the projection when due: many events, or time, since the last. Taken here, between
    /// batches, where the working state is exactly the durable one at `durable` (no lock, readers go on); writes
    /// wait for it (about 0.1 s per 10 million events journalled, and the store's write).
    fn maybe_snapshot(&mut self) {
        let every = self.options.snapshot_every_events;
        let (last, when) = self.snapshot;
        let behind = self.durable.seq.saturating_sub(last);
        let due = every > 0
            && behind > 0
            && (behind >= every || when.elapsed() >= self.options.snapshot_every)
            && self.role().writes()
            && !self.options.read_only
            && self.work_head == self.durable;
        if !due {
            return;
        }
        let Some(store) = self.store.as_mut() else { return };
        let started = Instant::now();
        let bytes = vigie_domain::snapshot::encode(&self.work);
        let encoded = started.elapsed();
        match store.save_snapshot(self.durable, &bytes) {
            Ok(()) => tracing::info!(
                seq = self.durable.seq,
                bytes = bytes.len(),
                encode_ms = encoded.as_millis() as u64,
                total_ms = started.elapsed().as_millis() as u64,
                "snapshot saved"
            ),
            Err(e) => tracing::warn!(error = %e, "the snapshot could not be saved"),
        }
        // Tried or done: the next one is due after as many events (or as long) again.
        self.snapshot = (self.durable.seq, Instant::now());
    }

    fn set_role(&mut self, role: Role) {
        *self.role.write().unwrap_or_else(|p| p.into_inner()) = role;
    }

    /// A follower reads what the leader appended after its head, checking the chain from it, and applies it to
    /// both states; readers and subscribers then see it as they would a batch written here.
    fn tail(&mut self) {
        if self.role() != Role::Follower || self.failed.is_some() {
            return;
        }
        loop {
            let Some(store) = self.store.as_mut() else { return };
            let mut check = ChainCheck::new(self.durable, None);
            let mut decoder = Decoder::default();
            let mut out = Vec::new();
            let mut failure = None;
            let scanned = store.scan(self.durable.seq, Some(TAIL_BATCH), &mut |raw| {
                if let Err(e) = check.check(&raw) {
                    failure = Some(JournalError::from(e));
                    return Err(StoreError::new("tail", "chain broken"));
                }
                match decoder.decode(raw) {
                    Ok(e) => {
                        out.push(Arc::new(e));
                        Ok(())
                    }
                    Err(e) => {
                        failure = Some(JournalError::Decode { seq: raw.seq, message: e.to_string() });
                        Err(StoreError::new("tail", "stopped"))
                    }
                }
            });
            match (scanned, failure) {
                (Ok(()), _) => {}
                (Err(_), Some(e)) => return self.fail(format!("cannot follow the journal: {e}")),
                (Err(e), None) => {
                    tracing::warn!(error = %e, "reading the journal failed; reconnecting");
                    return self.degrade(e.to_string());
                }
            }
            if out.is_empty() {
                return;
            }
            let head = check.head();
            for e in &out {
                self.work.apply(e);
            }
            self.work_head = head;
            self.publish(head, &out);
            if (out.len() as u64) < TAIL_BATCH {
                return;
            }
        }
    }

    /// This node holds the lease at `epoch`: read the journal to its end (nobody else can append now), then write.
    fn promote(&mut self, epoch: u64) -> Result<Head, JournalError> {
        if let Some(why) = &self.failed {
            return Err(JournalError::Failed(why.clone()));
        }
        if let Role::Leader { epoch: held } = self.role() {
            if held == epoch {
                return Ok(self.durable);
            }
        }
        self.set_role(Role::Follower);
        self.tail();
        if let Some(why) = &self.failed {
            return Err(JournalError::Failed(why.clone()));
        }
        let Some(store) = self.store.as_mut() else { return Err(self.unavailable()) };
        // The tail above read up to the stored head; check it was the end.
        let stored = store.head().map_err(JournalError::Store)?;
        if stored != self.durable {
            return Err(JournalError::Unavailable {
                reason: format!("the journal moved while taking over (at {stored}, read to {})", self.durable),
                retry_after_s: 1,
            });
        }
        store.set_fence(Some(epoch));
        self.set_role(Role::Leader { epoch });
        tracing::info!(epoch, seq = self.durable.seq, "this node leads the cluster now");
        Ok(self.durable)
    }

    fn demote(&mut self, why: &str) {
        if self.role() != Role::Follower {
            tracing::warn!(reason = why, "this node stops writing: it follows the cluster's leader now");
            self.set_role(Role::Follower);
        }
    }

    fn unavailable(&self) -> JournalError {
        match &*self.health.read().unwrap_or_else(|p| p.into_inner()) {
            JournalHealth::Degraded { reason, retry_after_s, .. } => {
                JournalError::Unavailable { reason: reason.clone(), retry_after_s: *retry_after_s }
            }
            JournalHealth::Ok => JournalError::Unavailable { reason: "reconnecting".into(), retry_after_s: 1 },
        }
    }

    fn sync_head(&mut self, now: bool) {
        if let Some(h) = &mut self.head_file {
            let r = if now { h.sync() } else { h.sync_if_due() };
            if let Err(e) = r {
                tracing::warn!(error = %e, path = %h.path().display(), "cannot sync the journal's head file");
            }
        }
    }

    fn scan(&mut self, after: u64, limit: u64) -> Result<Vec<Envelope>, JournalError> {
        let Some(store) = self.store.as_mut() else { return Err(self.unavailable()) };
        let mut out = Vec::new();
        let mut failure = None;
        let mut decoder = Decoder::default();
        let scanned = store.scan(after, Some(limit), &mut |raw| match decoder.decode(raw) {
            Ok(e) => {
                out.push(e);
                Ok(())
            }
            Err(e) => {
                failure = Some(JournalError::Decode { seq: raw.seq, message: e.to_string() });
                Err(StoreError::new("decode", "stopped"))
            }
        });
        match (scanned, failure) {
            (Ok(()), _) => Ok(out),
            (Err(_), Some(decode)) => Err(decode),
            (Err(e), None) => {
                // Storage failed under a read: the same recovery as for a write.
                tracing::warn!(error = %e, "journal read failed; reconnecting");
                self.degrade(e.to_string());
                Err(self.unavailable())
            }
        }
    }

    fn decide_and_apply(
        &mut self,
        decide: Decide,
        rows: &mut Vec<RowToWrite>,
        envelopes: &mut Vec<Arc<Envelope>>,
    ) -> Result<(Vec<Arc<Envelope>>, Boxed), Failure> {
        // The working state is this thread's alone: no lock to decide, and readers never see it.
        let (events, outcome) = decide(&self.work).map_err(Failure::Refused)?;
        if events.is_empty() {
            return Ok((Vec::new(), outcome));
        }
        // Storage keeps microseconds: the state must hold exactly what a replay will rebuild.
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_default();
        let mut mine = Vec::with_capacity(events.len());
        for ne in events {
            let env = Envelope {
                seq: self.work.last_seq + 1,
                id: Uuid::now_v7(),
                time: now,
                actor: ne.actor,
                origin: self.origin.clone(),
                source: Arc::from(ne.source),
                event: ne.event,
            };
            let mut row = RowToWrite {
                seq: env.seq,
                id: env.id,
                time_us: env.time.timestamp_micros(),
                actor: env.actor.as_str().to_string(),
                origin: env.origin.to_string(),
                source: env.source.to_string(),
                kind: env.event.kind(),
                payload: env.event.payload_json(),
                hash: chain::GENESIS,
            };
            self.work_head = Head { seq: env.seq, hash: row.seal(&self.work_head.hash) };
            rows.push(row);
            self.work.apply(&env);
            let env = Arc::new(env);
            mine.push(env.clone());
            envelopes.push(env);
        }
        Ok((mine, outcome))
    }

    /// The batch is durable: readers may see it, the head file records it, subscribers hear of it.
    fn publish(&mut self, head: Head, envelopes: &[Arc<Envelope>]) {
        if envelopes.is_empty() {
            return;
        }
        {
            let mut shared = self.shared.write().unwrap_or_else(|p| p.into_inner());
            for e in envelopes {
                shared.apply(e);
            }
        }
        self.durable = head;
        if let Some(h) = &mut self.head_file {
            if let Err(e) = h.record(head) {
                tracing::warn!(error = %e, path = %h.path().display(), "cannot record the journal's head");
            }
        }
        for s in self.subscribers.read().unwrap_or_else(|p| p.into_inner()).iter() {
            s(envelopes);
        }
    }

    fn flush(&mut self, pending: &mut Vec<Pending>, rows: &mut Vec<RowToWrite>, envelopes: &mut Vec<Arc<Envelope>>) {
        if pending.is_empty() {
            return;
        }
        let written = match (&mut self.store, rows.is_empty()) {
            (_, true) => Ok(()),
            (Some(store), false) => store.append(rows),
            (None, false) => Err(StoreError::new("journal", "storage unavailable")),
        };
        match written {
            Ok(()) => {
                let head = self.work_head;
                self.publish(head, envelopes);
                for p in pending.drain(..) {
                    let _ = p.reply.send(p.outcome.map(|(events, outcome)| (Committed { events }, outcome)));
                }
            }
            Err(e) if e.fenced => {
                // Another node holds the lease: the transaction wrote nothing, for certain. Forget the batch,
                // follow.
                tracing::warn!(error = %e, "append refused by the fence: another node leads");
                self.work = self.shared.read().unwrap_or_else(|p| p.into_inner()).clone();
                self.work_head = self.durable;
                self.set_role(Role::Follower);
                for p in pending.drain(..) {
                    let answer = match p.outcome {
                        Err(Failure::Refused(r)) => Err(Failure::Refused(r)),
                        _ => Err(Failure::Journal(JournalError::NotLeader { leader: None })),
                    };
                    let _ = p.reply.send(answer);
                }
                self.tail();
            }
            Err(e) => {
                tracing::error!(error = %e, "journal append failed; storage is unavailable until it answers again");
                // Readers never saw this batch; the working state forgets it. Its COMMIT may still have landed:
                // recovery reads the stored head and settles it.
                self.work = self.shared.read().unwrap_or_else(|p| p.into_inner()).clone();
                self.in_doubt = Some(InDoubt { last: self.work_head, envelopes: std::mem::take(envelopes) });
                self.work_head = self.durable;
                let reason = e.to_string();
                self.degrade(reason.clone());
                let retry_after_s = retry_secs(Duration::from_millis(100));
                for p in pending.drain(..) {
                    // A refused command appended nothing: its refusal stands whatever happened to the batch.
                    let answer = match p.outcome {
                        Err(Failure::Refused(r)) => Err(Failure::Refused(r)),
                        _ => Err(Failure::Journal(JournalError::Unavailable {
                            reason: format!("{reason} (this write was not acknowledged)"),
                            retry_after_s,
                        })),
                    };
                    let _ = p.reply.send(answer);
                }
            }
        }
        rows.clear();
        envelopes.clear();
    }

    /// Storage failed: writes are refused from now on, and a recovery thread reconnects with back-off.
    fn degrade(&mut self, reason: String) {
        let Some(store) = self.store.take() else { return };
        *self.health.write().unwrap_or_else(|p| p.into_inner()) =
            JournalHealth::Degraded { reason, since: Utc::now(), retry_after_s: 1 };
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, health, flag, retry_max) =
            (self.tx.clone(), self.health.clone(), stop.clone(), self.options.retry_max);
        let handle = thread::Builder::new()
            .name("vigie-journal-recovery".into())
            .spawn(move || recover(store, tx, health, flag, retry_max));
        match handle {
            Ok(handle) => self.recovery = Some(Recovery { stop, handle }),
            Err(e) => self.fail(format!("cannot start the recovery thread: {e}")),
        }
    }

    fn fail(&mut self, why: String) {
        tracing::error!(reason = %why, "the journal stops writing until restart");
        *self.health.write().unwrap_or_else(|p| p.into_inner()) =
            JournalHealth::Degraded { reason: why.clone(), since: Utc::now(), retry_after_s: 0 };
        self.failed = Some(why);
    }

    /// Storage answers again with `head`: settle a batch in doubt, then accept writes again.
    fn recovered(&mut self, store: Box<dyn JournalStore>, head: Head) {
        if let Some(r) = self.recovery.take() {
            let _ = r.handle.join();
        }
        let in_doubt = self.in_doubt.take();
        if self.options.cluster && head.seq > self.durable.seq {
            // Others appended meanwhile (this node was deposed, or its own batch landed before the failure): the
            // journal is the truth. Both states hold only what was durable here; follow from there, checking the
            // chain, which also brings back a batch of ours that turned out committed.
            if in_doubt.is_some() {
                tracing::info!(seq = self.durable.seq, "a batch in doubt is settled by reading the journal");
            }
            self.store = Some(store);
            self.set_role(Role::Follower);
            *self.health.write().unwrap_or_else(|p| p.into_inner()) = JournalHealth::Ok;
            return self.tail();
        }
        if head == self.durable {
            if let Some(d) = &in_doubt {
                tracing::info!(seq = d.last.seq, "the failed batch did not reach storage; it is dropped");
            }
        } else if let Some(d) = in_doubt.filter(|d| d.last == head) {
            // The COMMIT landed though its answer was lost: the journal is the truth, both states take the batch.
            tracing::warn!(seq = head.seq, "the failed batch turned out committed; it is applied");
            for e in &d.envelopes {
                self.work.apply(e);
            }
            self.work_head = head;
            self.publish(head, &d.envelopes);
        } else if head.seq < self.durable.seq {
            self.store = Some(store);
            return self.fail(format!(
                "storage now ends at sequence {} but {} was acknowledged as durable: events were lost (restored from \
                 an older backup, or a failover lost them)",
                head.seq, self.durable.seq
            ));
        } else {
            self.store = Some(store);
            return self.fail(format!(
                "storage holds {head} where this writer expected seq {} hash {}: another writer is using this journal",
                self.durable.seq,
                chain::hex(&self.durable.hash)
            ));
        }
        tracing::info!(seq = head.seq, "journal storage answers again; writes resume");
        self.store = Some(store);
        *self.health.write().unwrap_or_else(|p| p.into_inner()) = JournalHealth::Ok;
    }
}

/// The recovery thread: reconnects and reads the head, with back-off, until storage answers or the writer stops.
fn recover(
    mut store: Box<dyn JournalStore>,
    tx: mpsc::Sender<Request>,
    health: Arc<RwLock<JournalHealth>>,
    stop: Arc<AtomicBool>,
    retry_max: Duration,
) {
    let mut delay = Duration::from_millis(100).min(retry_max);
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match store.reconnect().and_then(|()| store.head()) {
            Ok(head) => {
                let _ = tx.send(Request::Recovered { store, head });
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "journal storage still unavailable");
                let mut h = health.write().unwrap_or_else(|p| p.into_inner());
                if let JournalHealth::Degraded { reason, retry_after_s, .. } = &mut *h {
                    *reason = e.to_string();
                    *retry_after_s = retry_secs(delay);
                }
            }
        }
        let until = Instant::now() + delay;
        while Instant::now() < until {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())));
        }
        delay = (delay * 2).min(retry_max);
    }
}

/// An in-memory store, for tests of the writer and for what-if copies. Not durable.
#[derive(Default)]
pub struct MemoryStore {
    rows: Vec<RowToWrite>,
    snapshots: Vec<(Head, Vec<u8>)>,
    /// When set, the next append fails (to test failure handling).
    pub fail_next_append: bool,
}

impl JournalStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }
    fn last_seq(&mut self) -> Result<u64, StoreError> {
        Ok(self.rows.last().map_or(0, |r| r.seq))
    }
    fn head(&mut self) -> Result<Head, StoreError> {
        Ok(self.rows.last().map_or(Head::EMPTY, |r| Head { seq: r.seq, hash: r.hash }))
    }
    fn append(&mut self, rows: &[RowToWrite]) -> Result<(), StoreError> {
        if std::mem::take(&mut self.fail_next_append) {
            return Err(StoreError::new("memory", "injected failure"));
        }
        if self.rows.last().map_or(0, |r| r.seq) + 1 != rows.first().map_or(1, |r| r.seq) {
            return Err(StoreError::new("memory", "sequence already taken"));
        }
        self.rows.extend_from_slice(rows);
        Ok(())
    }
    fn truncate_after(&mut self, seq: u64) -> Result<u64, StoreError> {
        let keep = self.rows.partition_point(|r| r.seq <= seq);
        let removed = (self.rows.len() - keep) as u64;
        self.rows.truncate(keep);
        self.snapshots.retain(|(h, _)| h.seq <= seq);
        Ok(removed)
    }
    fn latest_snapshot(&mut self) -> Result<Option<(Head, Vec<u8>)>, StoreError> {
        Ok(self.snapshots.last().cloned())
    }
    fn save_snapshot(&mut self, head: Head, bytes: &[u8]) -> Result<(), StoreError> {
        self.snapshots.push((head, bytes.to_vec()));
        self.snapshots.sort_by_key(|(h, _)| h.seq);
        let extra = self.snapshots.len().saturating_sub(2);
        self.snapshots.drain(..extra);
        Ok(())
    }
    fn scan(
        &mut self,
        after: u64,
        limit: Option<u64>,
        f: &mut dyn FnMut(RawEvent<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let start = self.rows.partition_point(|r| r.seq <= after);
        for r in self.rows[start..].iter().take(limit.unwrap_or(u64::MAX) as usize) {
            f(r.as_raw())?;
        }
        Ok(())
    }
}

impl MemoryStore {
    /// Tests: the stored rows, to alter them.
    pub fn rows_mut(&mut self) -> &mut Vec<RowToWrite> {
        &mut self.rows
    }
}

pub mod story;

/// A new event id (UUIDv7: unique across nodes, ordered by time).
pub fn new_event_id() -> Uuid {
    Uuid::now_v7()
}
