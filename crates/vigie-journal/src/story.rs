//! One storage story, run by every backend's tests (SQLite, PostgreSQL, memory): what the journal promises,
//! told once. `open` must return a store on the same underlying storage each time it is called.

use crate::{Journal, JournalOptions, JournalStore};
use chrono::{DateTime, NaiveDate};
use std::sync::{Arc, Mutex};
use vigie_domain::*;

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
    fn a_failed_append_is_reported_and_the_state_falls_back_to_what_is_durable() {
        let shared = Shared::default();
        let journal = Journal::open(Box::new(shared.clone()), JournalOptions::default()).unwrap();
        journal.append(vec![new("a:b", "x", org("A"))]).unwrap();
        shared.0.lock().unwrap().fail_next_append = true;
        let r = journal.append(vec![new("a:b", "x", org("B"))]);
        assert!(matches!(r, Err(crate::JournalError::Store(_))), "{r:?}");
        assert_eq!(journal.state().organizations.len(), 1, "the undurable event is gone from the state");
        assert_eq!(journal.state().last_seq, 1);
        let c = journal.append(vec![new("a:b", "x", org("B"))]).unwrap();
        assert_eq!(c.first_seq(), Some(2), "no gap in the sequence");
    }
}
