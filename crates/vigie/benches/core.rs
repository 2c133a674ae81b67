//! Core benchmarks (not tests): `cargo bench -p vigie --bench core`. Each figure is printed next to a named
//! baseline measured in the same run, with the ratio.
//!
//! - import of the scale-1 stock file (1,000,000 lines) with validation; baseline: the `csv` crate parsing the same
//!   file into records with no validation at all;
//! - journal append, durable (SQLite, synchronous=FULL), batched and from concurrent writers (group commit);
//!   baseline: one event per transaction;
//! - replay of 10 million events, chain verified; baseline: a bare SQLite scan of the same rows (no decoding, no
//!   projection, no hashing);
//! - memory of the scale-1 projection, counted by the allocator; baseline: the CSV size on disk.
//!
//! `VIGIE_BENCH_REPLAY` sets the number of replayed events (default 10,000,000).

use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;
use vigie_domain::*;
use vigie_journal::{Journal, JournalOptions, JournalStore, RowToWrite};
use vigie_journal_sqlite::SqliteStore;

/// The binary's allocator (mimalloc), counting live bytes while memory is measured.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Counting is on only while memory is measured: a shared counter would slow multi-threaded parts down.
static COUNTING: AtomicBool = AtomicBool::new(false);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(l.size(), Ordering::Relaxed);
        }
        unsafe { MiMalloc.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        }
        unsafe { MiMalloc.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(n, Ordering::Relaxed);
            LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        }
        unsafe { MiMalloc.realloc(p, l, n) }
    }
}
#[global_allocator]
static A: Counting = Counting;

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn line(what: &str, value: f64, unit: &str, baseline_name: &str, baseline: f64, higher_is_better: bool) {
    let ratio = if higher_is_better { value / baseline } else { baseline / value };
    println!(
        "{what:<48} {value:>14.0} {unit:<10} | baseline {baseline_name}: {baseline:>12.0} {unit} | ratio {ratio:.2}×"
    );
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    if std::env::var("VIGIE_BENCH_ONLY").as_deref() == Ok("replay") {
        return replay(tmp.path());
    }
    let data = tmp.path().join("scale1");
    let t = Instant::now();
    let summary = vigie::generate::write(&data, 1.0, 2024).unwrap();
    println!("# {summary} in {:.1} s", t.elapsed().as_secs_f64());

    // ---- Import ----
    let files = vigie::cli::read_paths(std::slice::from_ref(&data)).unwrap();
    let stock = files.iter().find(|f| f.name.ends_with("stock.csv")).unwrap().clone();
    let others: Vec<_> = files.iter().filter(|f| !f.name.ends_with("stock.csv")).cloned().collect();
    let lines = summary.stock_lines as f64;

    let t = Instant::now();
    let mut rdr = csv::ReaderBuilder::new().delimiter(b';').from_reader(stock.bytes.as_slice());
    let mut rec = csv::StringRecord::new();
    let mut n = 0usize;
    while rdr.read_record(&mut rec).unwrap() {
        n += rec.len();
    }
    let csv_rate = lines / t.elapsed().as_secs_f64();
    assert!(n > 0);

    // Registry first (sites, items), then the stock file: parse + validate + plan, no storage.
    let store = SqliteStore::open_dir(&tmp.path().join("journal")).unwrap();
    let journal = Journal::open(Box::new(store), JournalOptions::default()).unwrap();
    let actor = Actor::system("bench");
    let caller = vigie_app::Caller::internal(actor.clone(), "bench");
    let batch = vigie_import::read(&others, &mut |_, _| {});
    vigie_app::imports::import(&journal, &caller, batch, false).map_err(|_| "registry import").unwrap();
    let t = Instant::now();
    let batch = vigie_import::read(std::slice::from_ref(&stock), &mut |_, _| {});
    let plan = vigie_import::plan(&batch, &journal.state(), &actor).unwrap();
    let validate_rate = lines / t.elapsed().as_secs_f64();
    drop(plan);
    line(
        "import: parse + validate + plan (lines/s)",
        validate_rate,
        "lines/s",
        "csv crate, no validation",
        csv_rate,
        true,
    );

    drop(batch);
    // End to end, as `vigie import` does it: read, validate, plan, append durably, apply.
    let t = Instant::now();
    let batch = vigie_import::read(std::slice::from_ref(&stock), &mut |_, _| {});
    let report = vigie_app::imports::import(&journal, &caller, batch, false).map_err(|_| "stock import").unwrap();
    let total_s = t.elapsed().as_secs_f64();
    println!(
        "{:<48} {:>14.0} lines/s    | {} stock events, {:.2} s end to end (goal ≥ 200,000 lines/s with validation)",
        "import: read + validate + durable append + apply",
        lines / total_s,
        report.events,
        total_s
    );
    journal.shutdown();
    drop(journal);

    // ---- Memory of the scale-1 projection ----
    // Counted from zero: frees of blocks allocated before counting started would wrap the counter, so it is
    // signed arithmetic on the difference, and only the projection's growth is measured.
    COUNTING.store(true, Ordering::SeqCst);
    let before = LIVE.load(Ordering::Relaxed);
    let store = SqliteStore::open_dir(&tmp.path().join("journal")).unwrap();
    let journal = Journal::open(Box::new(store), JournalOptions::default()).unwrap();
    let state_bytes = LIVE.load(Ordering::Relaxed).wrapping_sub(before);
    COUNTING.store(false, Ordering::SeqCst);
    let counts = journal.state().counts();
    let csv_bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    println!(
        "{:<48} {:>14.1} MiB        | baseline CSV files on disk: {:>9.1} MiB | {:.0} bytes per stock line | {} stock lines, {} sites",
        "memory: scale-1 projection",
        mib(state_bytes),
        mib(csv_bytes),
        state_bytes as f64 / counts.stock_lines as f64,
        counts.stock_lines,
        counts.sites
    );
    journal.shutdown();
    drop(journal);
    drop(files);
    drop(stock);
    drop(others);

    // ---- Journal append ----
    fn org(i: usize) -> NewEvent {
        NewEvent {
            actor: Actor::system("bench"),
            source: "bench".into(),
            event: Event::OrganizationUpserted(Organization {
                id: OrgId::parse(&format!("O{}", i % 1000)).unwrap(),
                name: format!("Organisation {i}"),
                level: OrgLevel::Tactical,
                parent_id: None,
                attributes: Default::default(),
            }),
        }
    }
    let open = |name: &str| {
        let store = SqliteStore::open_dir(&tmp.path().join(name)).unwrap();
        Journal::open(Box::new(store), JournalOptions::default()).unwrap()
    };
    let j = open("append-single");
    let n_single = 1000;
    let t = Instant::now();
    for i in 0..n_single {
        j.append(vec![org(i)]).unwrap();
    }
    let single_rate = n_single as f64 / t.elapsed().as_secs_f64();
    j.shutdown();

    let j = open("append-batch");
    let n_batch = 500_000;
    let t = Instant::now();
    for chunk in 0..(n_batch / 5000) {
        j.append((0..5000).map(|i| org(chunk * 5000 + i)).collect()).unwrap();
    }
    let batch_rate = n_batch as f64 / t.elapsed().as_secs_f64();
    j.shutdown();
    line(
        "journal append, batches of 5,000 (events/s)",
        batch_rate,
        "events/s",
        "1 event per commit",
        single_rate,
        true,
    );

    let j = open("append-concurrent");
    let per = 2_000;
    let t = Instant::now();
    let threads: Vec<_> = (0..64)
        .map(|w| {
            let j = j.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    j.append(vec![org(w * per + i)]).unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    let conc_rate = (64 * per) as f64 / t.elapsed().as_secs_f64();
    j.shutdown();
    line(
        "journal append, 64 writers × 1 event (group commit)",
        conc_rate,
        "events/s",
        "1 event per commit",
        single_rate,
        true,
    );

    replay(tmp.path());
}

/// Replay of `VIGIE_BENCH_REPLAY` events (default 10,000,000). `VIGIE_BENCH_REPLAY_DIR` keeps the written journal
/// there and reuses it when it already holds that many events (`VIGIE_BENCH_ONLY=replay` runs this part alone).
fn replay(tmp: &std::path::Path) {
    let n_replay: usize = std::env::var("VIGIE_BENCH_REPLAY").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    let dir = std::env::var_os("VIGIE_BENCH_REPLAY_DIR").map_or_else(|| tmp.join("replay"), std::path::PathBuf::from);
    let mut store = SqliteStore::open_dir(&dir).unwrap();
    let existing = store.last_seq().unwrap() as usize;
    let n_write = if existing == n_replay { 0 } else { n_replay };
    if n_write > 0 && existing > 0 {
        store.truncate_after(0).unwrap();
    }
    let t = Instant::now();
    let time_us = chrono::Utc::now().timestamp_micros();
    let mut head = vigie_journal::chain::Head::EMPTY;
    while (head.seq as usize) < n_write {
        let n = 100_000.min(n_write - head.seq as usize);
        let rows = bench_rows(&mut head, n, time_us);
        store.append(&rows).unwrap();
    }
    if n_write > 0 {
        println!("# wrote {n_replay} events for replay in {:.1} s", t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    let mut bytes = 0usize;
    store
        .scan(0, None, &mut |r| {
            bytes += r.payload.len() + r.kind.len() + r.actor.len();
            Ok(())
        })
        .unwrap();
    let scan_s = t.elapsed().as_secs_f64();
    drop(store);
    let t = Instant::now();
    let cpu = cpu_seconds();
    let full = JournalOptions { use_snapshots: false, ..JournalOptions::default() };
    let j = Journal::open(Box::new(SqliteStore::open_dir(&dir).unwrap()), full).unwrap();
    let replay_s = t.elapsed().as_secs_f64();
    let replay_cpu = cpu_seconds() - cpu;
    assert_eq!(j.state().last_seq, n_replay as u64);
    println!(
        "{:<48} {:>14.2} s          | baseline bare SQLite scan: {:>8.2} s | ratio {:.2}× | {:.0} events/s (goal < 10 s for 10M)",
        format!("replay of {n_replay} events into the projection"),
        replay_s,
        scan_s,
        scan_s / replay_s,
        n_replay as f64 / replay_s
    );
    println!(
        "{:<48} {:>14.2} s          | on a shared machine the CPU time (user + system, all threads) is steadier",
        "replay: CPU time", replay_cpu
    );
    let _ = bytes;

    // A start from a snapshot: saved at the head, then TAIL more events written after it (a node configured to
    // snapshot every 500,000 events replays at most that many).
    let tail: usize = std::env::var("VIGIE_BENCH_TAIL").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let t = Instant::now();
    let snapshot = vigie_domain::snapshot::encode(&j.state());
    let encode_s = t.elapsed().as_secs_f64();
    j.shutdown();
    drop(j);
    let mut store = SqliteStore::open_dir(&dir).unwrap();
    let mut head = store.head().unwrap();
    store.save_snapshot(head, &snapshot).unwrap();
    let time_us = chrono::Utc::now().timestamp_micros();
    while (head.seq as usize) < n_replay + tail {
        let n = 100_000.min(n_replay + tail - head.seq as usize);
        let rows = bench_rows(&mut head, n, time_us);
        store.append(&rows).unwrap();
    }
    drop(store);
    let t = Instant::now();
    let j = Journal::open(Box::new(SqliteStore::open_dir(&dir).unwrap()), JournalOptions::default()).unwrap();
    let start_s = t.elapsed().as_secs_f64();
    assert_eq!(j.replay_stats().from_snapshot, n_replay as u64, "the start used the snapshot");
    assert_eq!(j.state().last_seq, (n_replay + tail) as u64);
    j.shutdown();
    drop(j);
    println!(
        "{:<48} {:>14.2} s          | baseline full replay: {:>8.2} s | ratio {:.1}× (goal < 2 s for 10M; snapshot {:.1} MB, encoded in {:.2} s)",
        format!("start from a snapshot + {tail} events after it"),
        start_s,
        replay_s,
        replay_s / start_s,
        snapshot.len() as f64 / 1e6,
        encode_s
    );
    // Back to the journal the next run reuses.
    SqliteStore::open_dir(&dir).unwrap().truncate_after(n_replay as u64).unwrap();
}

/// `n` events after `head` (nine stock counts for one site upsert, over 2,000 sites and 1,000 items), chained.
fn bench_rows(head: &mut vigie_journal::chain::Head, n: usize, time_us: i64) -> Vec<RowToWrite> {
    let mut rows = Vec::with_capacity(n);
    for _ in 0..n {
        let seq = head.seq + 1;
        let site = SiteId::parse(&format!("S{}", seq % 2000)).unwrap();
        let event = if seq.is_multiple_of(10) {
            Event::SiteUpserted(Site {
                id: site,
                name: format!("Site {seq}"),
                kind: SiteKind::Depot,
                lat: 48.0,
                lon: 2.0,
                organization_id: OrgId::parse("ORG-1").unwrap(),
                city: "Paris".into(),
                attributes: Default::default(),
            })
        } else {
            Event::StockCounted(StockCount {
                site_id: site,
                lines: vec![StockLine {
                    item_id: ItemId::parse(&format!("I{}", seq % 1000)).unwrap(),
                    quantity: Quantity::from_units((seq % 5000) as i64),
                    condition: Condition::Serviceable,
                    lot: Some(format!("L{seq}")),
                    expires_on: None,
                    counted_at: chrono::DateTime::from_timestamp(1_722_000_000, 0).unwrap(),
                    attributes: Default::default(),
                }],
            })
        };
        let mut row = RowToWrite {
            seq,
            id: vigie_journal::new_event_id(),
            time_us,
            actor: "system:bench".into(),
            origin: "bench".into(),
            source: "bench".into(),
            kind: event.kind(),
            payload: event.payload_json(),
            hash: head.hash,
        };
        *head = vigie_journal::chain::Head { seq, hash: row.seal(&head.hash) };
        rows.push(row);
    }
    rows
}

/// CPU time of this process so far (user + system, every thread), from /proc/self/stat (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}
