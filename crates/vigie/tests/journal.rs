//! A journal that proves itself: `vigie journal verify`, start-up refusing a journal that lost committed events
//! (a truncated, bit-flipped or deleted write-ahead log; a journal that vanished), and the repair by
//! `vigie journal accept`.

use std::path::Path;
use std::process::Command;
use vigie_journal::{HeadFile, Journal, JournalOptions};

fn vigie(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigie"));
    c.arg("--data").arg(data).env("VIGIE_LOG", "warn").env_remove("VIGIE__STORAGE__DATABASE");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn org(id: &str) -> vigie_domain::NewEvent {
    vigie_journal::story::an_organisation(id)
}

/// A data directory as a crash leaves it: ten batches committed, their frames still in `journal.db-wal` (copied while
/// the journal is open, so nothing was checkpointed), the head recorded at 10.
fn crashed_copy(to: &Path) {
    let live = tempfile::tempdir().unwrap();
    std::fs::write(live.path().join("node-id"), "node-test").unwrap();
    let store = vigie_journal_sqlite::SqliteStore::open_dir(live.path()).unwrap();
    let opts = JournalOptions { head_file: Some(live.path().join("journal.head")), ..Default::default() };
    let journal = Journal::open(Box::new(store), opts).unwrap();
    for i in 0..10 {
        journal.append(vec![org(&format!("O{i}"))]).unwrap();
    }
    std::fs::create_dir_all(to).unwrap();
    for f in ["journal.db", "journal.db-wal", "node-id", "journal.head"] {
        std::fs::copy(live.path().join(f), to.join(f)).unwrap();
    }
    assert_eq!(HeadFile::read(&to.join("journal.head")).unwrap().unwrap().seq, 10);
    journal.shutdown();
}

fn refused_at(data: &Path, seq: u64) {
    let csv = data.parent().unwrap().join("organizations.csv");
    std::fs::write(&csv, "id,name,level,parent_id\nNEW,New,tactical,\n").unwrap();
    for cmd in [vec!["import", csv.to_str().unwrap()], vec!["status"]] {
        let (code, _, err) = run(vigie(data).args(&cmd));
        assert_eq!(code, 2, "{cmd:?} must refuse: {err}");
        assert!(err.contains(&format!("the journal is damaged at sequence {seq}")), "{err}");
        assert!(err.contains("vigie journal accept --through"), "the refusal says how to repair: {err}");
    }
    let (code, out, _) = run(vigie(data).args(["journal", "verify"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("chain: BROKEN at sequence {seq}")), "{out}");
}

#[test]
fn a_damaged_write_ahead_log_is_refused_and_repaired_by_accepting_the_loss() {
    let root = tempfile::tempdir().unwrap();

    // Intact: verify says so.
    let intact = root.path().join("intact");
    crashed_copy(&intact);
    let (code, out, err) = run(vigie(&intact).args(["journal", "verify"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("10 events") && out.contains("chain: ok"), "{out}");
    let (code, out, _) = run(vigie(&intact).args(["journal", "verify", "--json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((v["events"].as_u64(), v["chain_ok"].as_bool()), (Some(10), Some(true)));
    assert_eq!(v["recorded_head"]["seq"], 10);

    // The WAL's last frame cut off: SQLite drops the last commit without a word; the recorded head notices.
    let truncated = root.path().join("truncated");
    crashed_copy(&truncated);
    let wal = truncated.join("journal.db-wal");
    let len = std::fs::metadata(&wal).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&wal).unwrap().set_len(len - 100).unwrap();
    refused_at(&truncated, 10);

    // One bit flipped in the WAL's last frame: its checksum fails, and SQLite ignores it and what follows.
    let flipped = root.path().join("flipped");
    crashed_copy(&flipped);
    let wal = flipped.join("journal.db-wal");
    let mut bytes = std::fs::read(&wal).unwrap();
    let at = bytes.len() - 50;
    bytes[at] ^= 0x01;
    std::fs::write(&wal, bytes).unwrap();
    refused_at(&flipped, 10);

    // The WAL deleted: every event is missing.
    let deleted = root.path().join("deleted");
    crashed_copy(&deleted);
    std::fs::remove_file(deleted.join("journal.db-wal")).unwrap();
    refused_at(&deleted, 1);

    // Repair: the operator accepts the loss; the journal then opens, and goes on from there.
    let (code, out, err) = run(vigie(&truncated).args(["journal", "accept", "--through", "10"]));
    assert_eq!(code, 2, "cannot accept beyond the journal's end: {out}");
    assert!(err.contains("the journal ends at sequence 9"), "{err}");
    let (code, out, err) = run(vigie(&truncated).args(["journal", "accept", "--through", "9"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("journal accepted through sequence 9"), "{out}");
    let (code, out, _) = run(vigie(&truncated).args(["journal", "verify"]));
    assert_eq!(code, 0, "{out}");
    let csv = root.path().join("organizations.csv");
    let (code, out, err) = run(vigie(&truncated).arg("import").arg(&csv));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("appended 1 event(s)"), "{out}");

    // Accepting less than the journal holds sets the later events aside in a file, then removes them.
    let (code, out, err) = run(vigie(&intact).args(["journal", "accept", "--through", "7"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("3 event(s) after sequence 7 set aside in"), "{out}");
    let set_aside = std::fs::read_dir(&intact)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("journal.rejected-"))
        .expect("the rejected events' file");
    assert_eq!(std::fs::read_to_string(set_aside.path()).unwrap().lines().count(), 3);
    let (_, status, _) = run(vigie(&intact).arg("status"));
    assert!(status.contains("\"last_seq\": 7"), "{status}");
}

#[test]
fn a_data_directory_whose_journal_vanished_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let csv = root.path().join("organizations.csv");
    std::fs::write(&csv, "id,name,level,parent_id\nA,A,tactical,\n").unwrap();
    let (code, _, err) = run(vigie(&data).arg("import").arg(&csv));
    assert_eq!(code, 0, "{err}");
    assert!(data.join("node-id").exists() && data.join("journal.head").exists());

    // The journal and its head gone, the node id left: an empty journal would start afresh with a new
    // administrator. Refused.
    for f in ["journal.db", "journal.db-wal", "journal.db-shm", "journal.head"] {
        let _ = std::fs::remove_file(data.join(f));
    }
    let (code, _, err) = run(vigie(&data).arg("import").arg(&csv));
    assert_eq!(code, 2);
    assert!(err.contains("the journal vanished"), "{err}");
    let (code, out, _) = run(vigie(&data).args(["journal", "verify"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the journal vanished"), "{out}");

    // The journal gone but its head left: the head says what is missing.
    let (code, _, err) = run(vigie(&data).args(["journal", "accept", "--through", "0"]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(vigie(&data).arg("import").arg(&csv));
    assert_eq!(code, 0, "after the accepted loss, a new journal starts: {err}");
    for f in ["journal.db", "journal.db-wal", "journal.db-shm"] {
        let _ = std::fs::remove_file(data.join(f));
    }
    let (code, _, err) = run(vigie(&data).arg("import").arg(&csv));
    assert_eq!(code, 2);
    assert!(err.contains("the journal is damaged at sequence 1: events 1..=1 are missing"), "{err}");
}
