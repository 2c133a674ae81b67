//! One storage story, run by every backend's tests (SQLite, PostgreSQL, memory): what the journal promises,
//! told once. `open` must return a store on the same underlying storage each time it is called.

use crate::{chain, Head, Journal, JournalError, JournalHealth, JournalOptions, JournalStore, RawEvent, RowToWrite};
use crate::{StoreError, Verification};
use chrono::{DateTime, NaiveDate};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use vigie_domain::*;

/// Faults injected around a real store, shared with the test that drives them.
#[derive(Default)]
pub struct Faults {
    /// While set, every call fails, as storage out of reach.
    pub down: AtomicBool,
    /// The next append fails before reaching storage.
    pub fail_next: AtomicBool,
    /// The next append reaches storage, then fails: a COMMIT whose answer was lost.
    pub lose_next_answer: AtomicBool,
    /// While set, appends wait (inside the store, before writing) until it is cleared.
    hold: Mutex<bool>,
    held: Condvar,
    /// Set while an append is waiting on `hold`.
    pub holding: AtomicBool,
}

impl Faults {
    pub fn hold(&self, on: bool) {
        *self.hold.lock().unwrap() = on;
        self.held.notify_all();
    }
}

/// A store that passes every call to `inner` unless `faults` say otherwise.
pub struct Faulty {
    pub inner: Box<dyn JournalStore>,
    pub faults: Arc<Faults>,
}

impl Faulty {
    fn up(&self) -> Result<(), StoreError> {
        if self.faults.down.load(Ordering::SeqCst) {
            return Err(StoreError::new("test", "storage out of reach (injected)"));
        }
        Ok(())
    }
}

impl JournalStore for Faulty {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn last_seq(&mut self) -> Result<u64, StoreError> {
        self.up()?;
        self.inner.last_seq()
    }
    fn head(&mut self) -> Result<Head, StoreError> {
        self.up()?;
        self.inner.head()
    }
    fn reconnect(&mut self) -> Result<(), StoreError> {
        self.up()?;
        self.inner.reconnect()
    }
    fn latest_snapshot(&mut self) -> Result<Option<(Head, Vec<u8>)>, StoreError> {
        self.up()?;
        self.inner.latest_snapshot()
    }
    fn save_snapshot(&mut self, head: Head, bytes: &[u8]) -> Result<(), StoreError> {
        self.up()?;
        self.inner.save_snapshot(head, bytes)
    }
    fn append(&mut self, rows: &[RowToWrite]) -> Result<(), StoreError> {
        {
            let mut hold = self.faults.hold.lock().unwrap();
            while *hold {
                self.faults.holding.store(true, Ordering::SeqCst);
                hold = self.faults.held.wait(hold).unwrap();
            }
            self.faults.holding.store(false, Ordering::SeqCst);
        }
        self.up()?;
        if self.faults.fail_next.swap(false, Ordering::SeqCst) {
            return Err(StoreError::new("test", "write failed (injected)"));
        }
        self.inner.append(rows)?;
        if self.faults.lose_next_answer.swap(false, Ordering::SeqCst) {
            return Err(StoreError::new("test", "connection lost during COMMIT (injected)"));
        }
        Ok(())
    }
    fn scan(
        &mut self,
        after: u64,
        limit: Option<u64>,
        f: &mut dyn FnMut(RawEvent<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.up()?;
        self.inner.scan(after, limit, f)
    }
}

/// Waits (bounded) until `cond` holds.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("never happened: {what}");
}

fn org(id: &str) -> Event {
    Event::OrganizationUpserted(Organization {
        id: OrgId::parse(id).unwrap(),
        name: format!("Organisation {id}"),
        level: OrgLevel::Tactical,
        parent_id: None,
        attributes: [("note".to_string(), "é; \"quoted\"".to_string())].into(),
    })
}

fn count(site: &str, n: usize) -> Event {
    Event::StockCounted(StockCount {
        site_id: SiteId::parse(site).unwrap(),
        lines: (0..n)
            .map(|i| StockLine {
                item_id: ItemId::parse(&format!("I{i}")).unwrap(),
                quantity: Quantity::parse("12,5").unwrap(),
                condition: Condition::Serviceable,
                lot: Some(format!("L{i}")),
                expires_on: NaiveDate::from_ymd_opt(2027, 6, 30),
                counted_at: DateTime::from_timestamp(1_722_000_000, 0).unwrap(),
                attributes: Default::default(),
            })
            .collect(),
    })
}

/// An organisation upserted by a test user: the small event the backends' tests append.
pub fn an_organisation(id: &str) -> NewEvent {
    new("user:test", "test", org(id))
}

fn new(actor: &str, source: &str, event: Event) -> NewEvent {
    NewEvent { actor: Actor::parse(actor).unwrap(), source: source.into(), event }
}

pub fn run(open: impl Fn() -> Box<dyn JournalStore>) {
    let opts = || JournalOptions { origin: "node-a".into(), ..Default::default() };

    // A new store is empty.
    let mut store = open();
    assert_eq!(store.last_seq().unwrap(), 0);
    let journal = Journal::open(store, opts()).unwrap();
    assert_eq!(journal.state().last_seq, 0);

    // Seen by subscribers once durable, in order.
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let s = seen.clone();
    journal.subscribe(move |batch| s.lock().unwrap().extend(batch.iter().map(|e| e.seq)));

    // Appends get consecutive sequences from 1 and carry actor, origin and source.
    let c = journal
        .append(vec![new("user:alice", "import:orgs.csv", org("A")), new("user:alice", "import:orgs.csv", org("B"))])
        .unwrap();
    assert_eq!((c.first_seq(), c.last_seq()), (Some(1), Some(2)));
    assert_eq!(c.events[0].actor.as_str(), "user:alice");
    assert_eq!(&*c.events[0].origin, "node-a");
    assert_eq!(journal.state().organizations.len(), 2);

    // A refused command appends nothing and consumes no sequence.
    let refused = journal.execute(|_| Err::<(Vec<NewEvent>, ()), _>(42u8));
    assert!(matches!(refused, Err(crate::ExecuteError::Refused(42))), "the refusal comes back typed");
    // A command with nothing to change appends nothing, and hands back its outcome.
    let (c, outcome) = journal.execute(|_| Ok::<_, ()>((vec![], "nothing to do"))).unwrap();
    assert!(c.events.is_empty());
    assert_eq!(outcome, "nothing to do");

    // A command sees the state left by every command acknowledged before it.
    let (c, ()) = journal
        .execute(|st| {
            assert_eq!(st.organizations.len(), 2);
            Ok::<_, ()>((vec![new("cli:root", "import:stock.csv", count("S1", 3))], ()))
        })
        .unwrap();
    assert_eq!(c.first_seq(), Some(3));

    // Concurrent writers: every event gets one sequence, no gaps, no loss (group commit batches them).
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let j = journal.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    j.append(vec![new(&format!("user:t{t}"), "api", org(&format!("T{t}-{i}")))]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(journal.state().last_seq, 403);
    assert_eq!(journal.state().organizations.len(), 402);

    // Reads return what was written, field for field.
    let back = journal.read_after(0, 3).unwrap();
    assert_eq!(back.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(back[0].event, org("A"));
    assert_eq!(back[2].event, count("S1", 3));
    assert_eq!(back[2].actor.as_str(), "cli:root");
    assert_eq!(&*back[2].source, "import:stock.csv");
    let tail = journal.read_after(400, 100).unwrap();
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![401, 402, 403]);
    let written: Vec<_> = journal.read_after(0, 1000).unwrap();
    assert_eq!(*seen.lock().unwrap(), (1..=403).collect::<Vec<_>>());

    let before = journal.state().counts();
    journal.shutdown();
    assert!(matches!(journal.append(vec![new("a:b", "x", org("Z"))]), Err(crate::JournalError::Stopped)));
    drop(journal);

    // Reopened, the state is rebuilt from the journal: same records, same stamps.
    let mut store = open();
    assert_eq!(store.last_seq().unwrap(), 403);
    let journal = Journal::open(store, opts()).unwrap();
    assert_eq!(journal.replay_stats().events, 403);
    assert_eq!(journal.state().counts(), before);
    {
        let state = journal.state();
        let stock = state.stock_of("S1").unwrap();
        assert_eq!(stock.stamp.seq, 3);
        assert_eq!(&*stock.stamp.source, "import:stock.csv");
    }
    assert_eq!(journal.read_after(0, 1000).unwrap(), written);
    // And it goes on from where it stopped.
    let c = journal.append(vec![new("user:bob", "api", org("C"))]).unwrap();
    assert_eq!(c.first_seq(), Some(404));
    journal.shutdown();
    drop(journal);

    // Every stored event is chained to the one before it.
    let mut store = open();
    let v: Verification = chain::verify(store.as_mut(), None).unwrap();
    assert!(v.ok(), "{:?}", v.problem);
    assert_eq!((v.events, v.verified.seq), (404, 404));
    assert_eq!(store.head().unwrap(), v.verified, "the store's head is the chain's");
    drop(store);

    snapshots(&open, &opts);
    faults(&open, opts);
}

/// A node starts from the latest snapshot and replays only what follows, into the very state a full replay builds;
/// a snapshot that is damaged, of another format or not on this journal is ignored, never trusted.
fn snapshots(open: &impl Fn() -> Box<dyn JournalStore>, opts: &impl Fn() -> JournalOptions) {
    let full = || {
        let j = Journal::open(open(), JournalOptions { use_snapshots: false, ..opts() }).unwrap();
        let st = j.state().clone();
        j.shutdown();
        st
    };
    // Every 50 events: a snapshot once the first batch lands, then again 50 events later.
    let j = Journal::open(open(), JournalOptions { snapshot_every_events: 50, ..opts() }).unwrap();
    for i in 0..120 {
        let event = if i % 3 == 0 { count(&format!("S{}", i % 7), 2) } else { org(&format!("SN{i}")) };
        j.append(vec![new("user:snap", "api", event)]).unwrap();
    }
    let head = j.state().last_seq;
    j.shutdown();
    drop(j);
    let (at, bytes) = open().latest_snapshot().unwrap().expect("snapshots were saved");
    assert!(at.seq > 404 && at.seq < head, "the latest snapshot ({}) is behind the head ({head})", at.seq);
    let j = Journal::open(open(), opts()).unwrap();
    assert_eq!(j.replay_stats().from_snapshot, at.seq, "the start used the snapshot");
    assert_eq!(*j.state(), full(), "snapshot and tail give the state of a full replay");
    // And writing goes on from there.
    assert_eq!(j.append(vec![an_organisation("AFTER-SNAP")]).unwrap().first_seq(), Some(head + 1));
    j.shutdown();
    drop(j);

    // Damaged, of another format, or at a head not on this journal: ignored, the whole journal is replayed.
    let mut other_format = bytes.clone();
    other_format[8..12].copy_from_slice(&0u32.to_le_bytes());
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    drop(bytes);
    // A valid snapshot of this state, but recorded at a head whose hash is not the journal's.
    let foreign = vigie_domain::snapshot::encode(&full());
    for (what, hash, bytes) in [
        ("another format", at.hash, other_format),
        ("a flipped bit", at.hash, flipped),
        ("a foreign head", [7; 32], foreign),
    ] {
        let mut store = open();
        let last = store.head().unwrap();
        store.save_snapshot(Head { seq: last.seq, hash }, &bytes).unwrap();
        let j = Journal::open(store, opts()).unwrap();
        assert_eq!(j.replay_stats().from_snapshot, 0, "{what}: the snapshot is ignored");
        assert_eq!(*j.state(), full(), "{what}: the state is a full replay's");
        j.shutdown();
    }
}

/// Readers see only what is durable; storage faults are survived without restart; nothing acknowledged is lost and
/// nothing unacknowledged appears, even when a COMMIT's answer is lost.
fn faults(open: &impl Fn() -> Box<dyn JournalStore>, opts: impl Fn() -> JournalOptions) {
    let f = Arc::new(Faults::default());
    let store = Faulty { inner: open(), faults: f.clone() };
    let journal =
        Journal::open(Box::new(store), JournalOptions { retry_max: Duration::from_millis(50), ..opts() }).unwrap();
    let base = journal.state().last_seq;
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let s = seen.clone();
    journal.subscribe(move |batch| s.lock().unwrap().extend(batch.iter().map(|e| e.seq)));
    let org_count = || journal.state().organizations.len();
    let orgs = org_count();

    // While a batch is being written, readers see the state without it: no sequence, no record.
    f.hold(true);
    let j = journal.clone();
    let writer = std::thread::spawn(move || j.append(vec![new("user:w", "api", org("HELD"))]));
    eventually("the append waits in the store", || f.holding.load(Ordering::SeqCst));
    assert_eq!(journal.state().last_seq, base, "a sequence not yet durable is not visible");
    assert!(!journal.state().organizations.contains_key(&OrgId::parse("HELD").unwrap()));
    // Commands arriving meanwhile are decided on the working state, which includes the batch being written.
    let j = journal.clone();
    let second = std::thread::spawn(move || {
        j.execute(|st| {
            let held = st.organizations.contains_key(&OrgId::parse("HELD").unwrap());
            Ok::<_, ()>((vec![new("user:w", "api", org("AFTER-HELD"))], held))
        })
    });
    f.hold(false);
    assert_eq!(writer.join().unwrap().unwrap().first_seq(), Some(base + 1));
    let (c, saw_held) = second.join().unwrap().unwrap();
    assert!(saw_held, "the second command saw the first one's effect");
    assert_eq!(c.first_seq(), Some(base + 2));
    assert_eq!(journal.state().last_seq, base + 2);
    assert_eq!(org_count(), orgs + 2);

    // A write that fails: not acknowledged, not visible, storage is reported unavailable, then writes resume.
    f.fail_next.store(true, Ordering::SeqCst);
    let r = journal.append(vec![new("user:w", "api", org("FAILED"))]);
    assert!(matches!(r, Err(JournalError::Unavailable { .. })), "{r:?}");
    assert_eq!(journal.state().last_seq, base + 2);
    assert!(!journal.state().organizations.contains_key(&OrgId::parse("FAILED").unwrap()));
    eventually("health comes back", || journal.health().is_ok());
    let c = journal.append(vec![new("user:w", "api", org("RESUMED"))]).unwrap();
    assert_eq!(c.first_seq(), Some(base + 3), "no gap: the failed write consumed no sequence");

    // Storage out of reach: commands fail at once, health says why, reads of the state go on.
    f.down.store(true, Ordering::SeqCst);
    let r = journal.append(vec![new("user:w", "api", org("DOWN-1"))]);
    assert!(matches!(r, Err(JournalError::Unavailable { .. })), "{r:?}");
    match journal.health() {
        JournalHealth::Degraded { reason, .. } => assert!(reason.contains("injected"), "{reason}"),
        JournalHealth::Ok => panic!("health should be degraded"),
    }
    for _ in 0..3 {
        let r = journal.append(vec![new("user:w", "api", org("DOWN-2"))]);
        match r {
            Err(JournalError::Unavailable { retry_after_s, .. }) => assert!(retry_after_s >= 1),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(journal.read_after(0, 1), Err(JournalError::Unavailable { .. })));
    assert_eq!(journal.state().last_seq, base + 3, "the state still answers");
    f.down.store(false, Ordering::SeqCst);
    eventually("health comes back", || journal.health().is_ok());
    let c = journal.append(vec![new("user:w", "api", org("BACK"))]).unwrap();
    assert_eq!(c.first_seq(), Some(base + 4));

    // A COMMIT that landed but whose answer was lost: the caller hears "unavailable"; once storage answers, the
    // stored head shows the batch is durable, and both states take it (the journal is the truth).
    f.lose_next_answer.store(true, Ordering::SeqCst);
    let r = journal.append(vec![new("user:w", "api", org("IN-DOUBT"))]);
    assert!(matches!(r, Err(JournalError::Unavailable { .. })), "{r:?}");
    eventually("health comes back", || journal.health().is_ok());
    assert_eq!(journal.state().last_seq, base + 5);
    assert!(journal.state().organizations.contains_key(&OrgId::parse("IN-DOUBT").unwrap()));
    let c = journal
        .execute(|st| {
            assert!(st.organizations.contains_key(&OrgId::parse("IN-DOUBT").unwrap()), "the working state too");
            Ok::<_, ()>((vec![new("user:w", "api", org("AFTER-DOUBT"))], ()))
        })
        .unwrap()
        .0;
    assert_eq!(c.first_seq(), Some(base + 6));
    assert_eq!(*seen.lock().unwrap(), (base + 1..=base + 6).collect::<Vec<_>>(), "subscribers heard each once");
    let before = journal.state().counts();
    journal.shutdown();
    drop(journal);

    // Nothing acknowledged was lost, the failed writes are not there, and the chain holds.
    let journal = Journal::open(open(), opts()).unwrap();
    assert_eq!(journal.state().last_seq, base + 6);
    assert_eq!(journal.state().counts(), before);
    for gone in ["FAILED", "DOWN-1", "DOWN-2"] {
        assert!(!journal.state().organizations.contains_key(&OrgId::parse(gone).unwrap()), "{gone} never acknowledged");
    }
    journal.shutdown();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    /// The memory store cannot be reopened, so the story runs on one shared instance behind a proxy.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<MemoryStore>>);
    impl JournalStore for Shared {
        fn backend(&self) -> &'static str {
            "memory"
        }
        fn last_seq(&mut self) -> Result<u64, crate::StoreError> {
            self.0.lock().unwrap().last_seq()
        }
        fn head(&mut self) -> Result<Head, crate::StoreError> {
            self.0.lock().unwrap().head()
        }
        fn truncate_after(&mut self, seq: u64) -> Result<u64, crate::StoreError> {
            self.0.lock().unwrap().truncate_after(seq)
        }
        fn latest_snapshot(&mut self) -> Result<Option<(Head, Vec<u8>)>, crate::StoreError> {
            self.0.lock().unwrap().latest_snapshot()
        }
        fn save_snapshot(&mut self, head: Head, bytes: &[u8]) -> Result<(), crate::StoreError> {
            self.0.lock().unwrap().save_snapshot(head, bytes)
        }
        fn append(&mut self, rows: &[crate::RowToWrite]) -> Result<(), crate::StoreError> {
            self.0.lock().unwrap().append(rows)
        }
        fn scan(
            &mut self,
            after: u64,
            limit: Option<u64>,
            f: &mut dyn FnMut(crate::RawEvent<'_>) -> Result<(), crate::StoreError>,
        ) -> Result<(), crate::StoreError> {
            self.0.lock().unwrap().scan(after, limit, f)
        }
    }

    #[test]
    fn storage_story_in_memory() {
        let shared = Shared::default();
        run(move || Box::new(shared.clone()));
    }

    #[test]
    fn a_failed_append_is_reported_and_the_state_keeps_only_what_is_durable() {
        let shared = Shared::default();
        let journal = Journal::open(Box::new(shared.clone()), JournalOptions::default()).unwrap();
        journal.append(vec![new("a:b", "x", org("A"))]).unwrap();
        shared.0.lock().unwrap().fail_next_append = true;
        let r = journal.append(vec![new("a:b", "x", org("B"))]);
        assert!(matches!(r, Err(crate::JournalError::Unavailable { .. })), "{r:?}");
        assert_eq!(journal.state().organizations.len(), 1, "the undurable event was never visible");
        assert_eq!(journal.state().last_seq, 1);
        eventually("writes resume", || journal.health().is_ok());
        let c = journal.append(vec![new("a:b", "x", org("B"))]).unwrap();
        assert_eq!(c.first_seq(), Some(2), "no gap in the sequence");
    }

    /// Start-up refuses a journal whose events were altered, removed, or lost behind the recorded head, and says
    /// which sequence.
    #[test]
    fn damage_is_refused_at_open_with_its_sequence() {
        let dir = std::env::temp_dir().join(format!("vigie-story-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let head_file = dir.join("journal.head");
        let opts = || JournalOptions { head_file: Some(head_file.clone()), ..Default::default() };
        let shared = Shared::default();
        let journal = Journal::open(Box::new(shared.clone()), opts()).unwrap();
        for i in 0..5 {
            journal.append(vec![new("a:b", "x", org(&format!("O{i}")))]).unwrap();
        }
        journal.shutdown();
        assert_eq!(crate::HeadFile::read(&head_file).unwrap().unwrap().seq, 5, "the head is recorded");
        let refused = |s: &Shared| match Journal::open(Box::new(s.clone()), opts()) {
            Err(JournalError::Damaged { seq, problem }) => (seq, problem),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("a damaged journal was opened"),
        };

        // A payload altered.
        let altered = Shared(Arc::new(Mutex::new(MemoryStore::default())));
        altered.0.lock().unwrap().rows_mut().extend(shared.0.lock().unwrap().rows_mut().iter().cloned());
        {
            let mut a = altered.0.lock().unwrap();
            let row = &mut a.rows_mut()[2];
            row.payload = row.payload.replace("O2", "X2");
        }
        let (seq, problem) = refused(&altered);
        assert_eq!(seq, 3);
        assert!(problem.contains("event 3 does not match its chain hash"), "{problem}");

        // An event removed.
        let removed = Shared(Arc::new(Mutex::new(MemoryStore::default())));
        removed.0.lock().unwrap().rows_mut().extend(shared.0.lock().unwrap().rows_mut().iter().cloned());
        removed.0.lock().unwrap().rows_mut().remove(1);
        assert_eq!(refused(&removed).0, 2);

        // The last two lost (as a WAL that lost its last frames): only the head file knows.
        shared.0.lock().unwrap().truncate_after(3).unwrap();
        let (seq, problem) = refused(&shared);
        assert_eq!(seq, 4);
        assert!(problem.contains("events 4..=5 are missing"), "{problem}");
        // And a journal that vanished altogether.
        shared.0.lock().unwrap().truncate_after(0).unwrap();
        assert!(refused(&shared).1.contains("events 1..=5 are missing"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
