//! The journal: Vigie's source of truth, and the single writer that keeps the in-memory projection in step with it.
//!
//! - [`JournalStore`] is what a storage backend provides (SQLite, PostgreSQL): append a batch of events in one durable
//!   transaction, scan events in order. Backends know rows, not domain types.
//! - [`Journal`] owns one store on a dedicated writer thread. Commands are closures that look at the current
//!   [`State`] and return the events to append; the writer runs them one after another, appends everything that
//!   arrived meanwhile in **one** transaction (group commit), and acknowledges each command only once that
//!   transaction is durable. Subscribers (the SSE stream) see events only after they are durable.
//! - At open, the state is rebuilt by replaying the whole journal.
//!
//! Architecture invariant: the writer thread is the only code that mutates the projection. Readers take a read
//! lock; nothing else holds the write lock.

use chrono::{DateTime, Utc};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread;
use uuid::Uuid;
use vigie_domain::event::DecodeError;
use vigie_domain::{Actor, Envelope, Event, NewEvent, State};

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
}

/// An event ready to be written.
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
}

/// A storage backend failed. The message never carries credentials.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{backend} storage: {message}")]
pub struct StoreError {
    pub backend: &'static str,
    pub message: String,
}

impl StoreError {
    pub fn new(backend: &'static str, message: impl std::fmt::Display) -> StoreError {
        StoreError { backend, message: message.to_string() }
    }
}

/// What a journal backend provides. Implementations run on the journal's writer thread (and at open).
pub trait JournalStore: Send + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// The highest sequence stored, 0 when empty.
    fn last_seq(&mut self) -> Result<u64, StoreError>;
    /// Appends the rows in one transaction; returns only once the transaction is durable.
    fn append(&mut self, rows: &[RowToWrite]) -> Result<(), StoreError>;
    /// Replay's scan: every event after `after`, in order, with only what the projection reads (sequence, time,
    /// source, kind, payload); a backend may leave `id`, `actor` and `origin` empty to read less.
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
    #[error("the journal is stopped")]
    Stopped,
    /// Storage cannot take writes now (a database outage); nothing was written.
    #[error("storage unavailable: {reason}")]
    Unavailable { reason: String, retry_after_s: u64 },
    #[error("the journal failed earlier and accepts no more writes until restart: {0}")]
    Failed(String),
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
    Command { decide: Decide, reply: Reply },
    Scan { after: u64, limit: u64, reply: mpsc::SyncSender<Result<Vec<Envelope>, JournalError>> },
    Stop,
}

/// Tuning of the writer.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// The node id written as every event's origin.
    pub origin: String,
    /// Most events written in one transaction.
    pub max_batch_events: usize,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions { origin: "local".into(), max_batch_events: 50_000 }
    }
}

/// Replay statistics of an open.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayStats {
    pub events: u64,
    pub seconds: f64,
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
    /// The last text returned: consecutive events mostly share their source and origin.
    last_text: Option<Arc<str>>,
    last_actor: Option<Actor>,
}

impl Decoder {
    const MAX_CACHED: usize = 65_536;

    fn text(&mut self, s: &str) -> Arc<str> {
        if let Some(last) = &self.last_text {
            if &**last == s {
                return last.clone();
            }
        }
        if let Some(a) = self.texts.get(s) {
            self.last_text = Some(a.clone());
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        if self.texts.len() < Self::MAX_CACHED {
            self.texts.insert(Box::from(s), a.clone());
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
            origin: self.text(raw.origin),
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

/// Rows copied out of storage in one buffer, so the scanning thread can hand them to a decoding thread:
/// (seq, id, time, [actor, origin, source, kind, payload]).
struct RawChunk {
    text: String,
    rows: Vec<(u64, Uuid, i64, [Span; 5])>,
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
        self.rows.push((raw.seq, raw.id, raw.time_us, spans));
    }
    fn iter(&self) -> impl Iterator<Item = RawEvent<'_>> {
        let at = |(s, l): (u32, u32)| &self.text[s as usize..(s + l) as usize];
        self.rows.iter().map(move |&(seq, id, time_us, sp)| RawEvent {
            seq,
            id,
            time_us,
            actor: at(sp[0]),
            origin: at(sp[1]),
            source: at(sp[2]),
            kind: at(sp[3]),
            payload: at(sp[4]),
        })
    }
}

/// Replays every stored event after `state.last_seq` into `state`.
///
/// Three stages on three threads, linked by bounded channels: one scans storage and copies rows out, one decodes
/// them into events, one applies them. Replay then runs at the pace of the slowest stage rather than the sum.
pub fn replay_into(store: &mut dyn JournalStore, state: &mut State) -> Result<u64, JournalError> {
    const CHUNK: usize = 4096;
    let after = state.last_seq;
    let (raw_tx, raw_rx) = mpsc::sync_channel::<RawChunk>(4);
    let (env_tx, env_rx) = mpsc::sync_channel::<Vec<Envelope>>(4);
    std::thread::scope(|scope| {
        let scanner = scope.spawn(move || -> Result<(), JournalError> {
            let mut chunk = RawChunk::with_capacity(CHUNK);
            store.scan_projection(after, &mut |raw| {
                chunk.push(raw);
                if chunk.rows.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, RawChunk::with_capacity(CHUNK));
                    raw_tx.send(full).map_err(|_| StoreError::new("replay", "decoder stopped"))?;
                }
                Ok(())
            })?;
            if !chunk.rows.is_empty() {
                let _ = raw_tx.send(chunk);
            }
            Ok(())
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
        let mut n = 0u64;
        for chunk in env_rx {
            for env in chunk {
                state.apply_owned(env);
                n += 1;
            }
        }
        // A decoding failure stops the decoder, which stops the scanner: report the decoder's error first.
        decoder.join().map_err(|_| JournalError::Failed("the replay decoder panicked".into()))??;
        scanner.join().map_err(|_| JournalError::Failed("the replay scanner panicked".into()))??;
        Ok(n)
    })
}

impl Journal {
    /// Opens the journal on a store: replays it into a fresh state, then starts the writer thread.
    pub fn open(mut store: Box<dyn JournalStore>, options: JournalOptions) -> Result<Journal, JournalError> {
        let started = std::time::Instant::now();
        let mut state = State::new();
        let events = replay_into(store.as_mut(), &mut state)?;
        let replay = ReplayStats { events, seconds: started.elapsed().as_secs_f64() };
        tracing::info!(backend = store.backend(), events, seconds = replay.seconds, "journal replayed");
        let backend = store.backend();
        let state = Arc::new(RwLock::new(state));
        let subscribers: Arc<RwLock<Vec<Subscriber>>> = Arc::default();
        let (tx, rx) = mpsc::channel();
        let origin: Arc<str> = Arc::from(options.origin.as_str());
        let writer =
            Writer { store, rx, state: state.clone(), subscribers: subscribers.clone(), options, origin, failed: None };
        let handle = thread::Builder::new()
            .name("vigie-journal".into())
            .spawn(move || writer.run())
            .map_err(|e| JournalError::Failed(e.to_string()))?;
        Ok(Journal {
            inner: Arc::new(Inner {
                tx: Mutex::new(Some(tx)),
                state,
                subscribers,
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

    /// A read view of the current state. Hold it briefly: the writer waits for readers to apply new events.
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

    /// Runs a command: `decide` sees the current state (including every command acknowledged before) and returns
    /// the events to append with the outcome to hand back, or its refusal. Blocks until the events are durable;
    /// a refusal appends nothing.
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

struct Writer {
    store: Box<dyn JournalStore>,
    rx: mpsc::Receiver<Request>,
    state: Arc<RwLock<State>>,
    subscribers: Arc<RwLock<Vec<Subscriber>>>,
    options: JournalOptions,
    origin: Arc<str>,
    failed: Option<String>,
}

struct Pending {
    reply: Reply,
    outcome: Result<(Vec<Arc<Envelope>>, Boxed), Failure>,
}

impl Writer {
    fn run(mut self) {
        let mut stop = false;
        while !stop {
            let Ok(first) = self.rx.recv() else { break };
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
            for req in queue {
                match req {
                    Request::Stop => stop = true,
                    Request::Scan { after, limit, reply } => {
                        // Write what is pending first, so a scan sees every acknowledged event.
                        self.flush(&mut pending, &mut rows, &mut envelopes);
                        let _ = reply.send(self.scan(after, limit));
                    }
                    Request::Command { decide, reply } => {
                        if let Some(why) = &self.failed {
                            let _ = reply.send(Err(Failure::Journal(JournalError::Failed(why.clone()))));
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
        }
    }

    fn scan(&mut self, after: u64, limit: u64) -> Result<Vec<Envelope>, JournalError> {
        let mut out = Vec::new();
        let mut failure = None;
        let mut decoder = Decoder::default();
        self.store
            .scan(after, Some(limit), &mut |raw| match decoder.decode(raw) {
                Ok(e) => {
                    out.push(e);
                    Ok(())
                }
                Err(e) => {
                    failure = Some(JournalError::Decode { seq: raw.seq, message: e.to_string() });
                    Err(StoreError::new("decode", "stopped"))
                }
            })
            .map_err(|e| failure.take().unwrap_or(JournalError::Store(e)))?;
        Ok(out)
    }

    fn decide_and_apply(
        &mut self,
        decide: Decide,
        rows: &mut Vec<RowToWrite>,
        envelopes: &mut Vec<Arc<Envelope>>,
    ) -> Result<(Vec<Arc<Envelope>>, Boxed), Failure> {
        // Only this thread mutates the state, so deciding under a read lock sees a state nobody else can change.
        let decided = {
            let st = self.state.read().unwrap_or_else(|p| p.into_inner());
            decide(&st)
        };
        let (events, outcome) = decided.map_err(Failure::Refused)?;
        if events.is_empty() {
            return Ok((Vec::new(), outcome));
        }
        let mut st = self.state.write().unwrap_or_else(|p| p.into_inner());
        // Storage keeps microseconds: the state must hold exactly what a replay will rebuild.
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_default();
        let mut mine = Vec::with_capacity(events.len());
        for ne in events {
            let env = Envelope {
                seq: st.last_seq + 1,
                id: Uuid::now_v7(),
                time: now,
                actor: ne.actor,
                origin: self.origin.clone(),
                source: Arc::from(ne.source),
                event: ne.event,
            };
            rows.push(RowToWrite {
                seq: env.seq,
                id: env.id,
                time_us: env.time.timestamp_micros(),
                actor: env.actor.as_str().to_string(),
                origin: env.origin.to_string(),
                source: env.source.to_string(),
                kind: env.event.kind(),
                payload: env.event.payload_json(),
            });
            st.apply(&env);
            let env = Arc::new(env);
            mine.push(env.clone());
            envelopes.push(env);
        }
        Ok((mine, outcome))
    }

    fn flush(&mut self, pending: &mut Vec<Pending>, rows: &mut Vec<RowToWrite>, envelopes: &mut Vec<Arc<Envelope>>) {
        if pending.is_empty() {
            return;
        }
        let written = if rows.is_empty() { Ok(()) } else { self.store.append(rows) };
        match written {
            Ok(()) => {
                if !envelopes.is_empty() {
                    for s in self.subscribers.read().unwrap_or_else(|p| p.into_inner()).iter() {
                        s(envelopes);
                    }
                }
                for p in pending.drain(..) {
                    let _ = p.reply.send(p.outcome.map(|(events, outcome)| (Committed { events }, outcome)));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "journal append failed; rebuilding the state from storage");
                // The state ran ahead of storage by this batch: rebuild it from what is durable.
                let mut fresh = State::new();
                match replay_into(self.store.as_mut(), &mut fresh) {
                    Ok(_) => *self.state.write().unwrap_or_else(|p| p.into_inner()) = fresh,
                    Err(again) => self.failed = Some(again.to_string()),
                }
                for p in pending.drain(..) {
                    // A refused command appended nothing: its refusal stands whatever happened to the batch.
                    let answer = match p.outcome {
                        Err(Failure::Refused(r)) => Err(Failure::Refused(r)),
                        _ => Err(Failure::Journal(JournalError::Store(e.clone()))),
                    };
                    let _ = p.reply.send(answer);
                }
            }
        }
        rows.clear();
        envelopes.clear();
    }
}

/// An in-memory store, for tests of the writer and for what-if copies. Not durable.
#[derive(Default)]
pub struct MemoryStore {
    rows: Vec<RowToWrite>,
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
    fn append(&mut self, rows: &[RowToWrite]) -> Result<(), StoreError> {
        if std::mem::take(&mut self.fail_next_append) {
            return Err(StoreError::new("memory", "injected failure"));
        }
        self.rows.extend_from_slice(rows);
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
            f(RawEvent {
                seq: r.seq,
                id: r.id,
                time_us: r.time_us,
                actor: &r.actor,
                origin: &r.origin,
                source: &r.source,
                kind: r.kind,
                payload: &r.payload,
            })?;
        }
        Ok(())
    }
}

pub mod story;

/// A new event id (UUIDv7: unique across nodes, ordered by time).
pub fn new_event_id() -> Uuid {
    Uuid::now_v7()
}
