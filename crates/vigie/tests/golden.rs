//! The golden journal: every later version must replay it to the same state.
//!
//! `fixtures/golden/journal-v1.db` is a SQLite journal as Vigie wrote it before the chain (schema 1: no hash column):
//! a cut of the demo (registry, TOC estate, users, tokens issued and revoked, a maintenance window, check state
//! changes from the simulator, incidents recorded and deleted, the operations log). `journal.jsonl` holds the same
//! rows as JSON lines (payloads as written), readable whatever the storage becomes. The test replays both (the SQLite
//! file through its migrations, the lines imported into fresh stores on SQLite and PostgreSQL) and compares the
//! projection with `expected.json`, a JSON rendering of its records. To accept a deliberate change of the
//! projection, run with `VIGIE_BLESS=1` and review the diff of `expected.json`.

use serde_json::{json, Value};
use std::path::PathBuf;
use vigie_journal::{chain, Journal, JournalOptions, JournalStore};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden")
}

/// The projection's records as JSON (ordered maps, so the rendering is stable).
fn summary(journal: &Journal) -> Value {
    let st = journal.state();
    let toc = &st.toc;
    let users: Value = st
        .accounts
        .users
        .iter()
        .map(|(k, u)| (k.as_str().to_string(), serde_json::to_value(u).unwrap()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let tokens: Value = st
        .accounts
        .tokens
        .iter()
        .map(|(k, t)| {
            let v = json!({"token": t.token, "issued_at": t.issued_at, "revoked_at": t.revoked_at});
            (k.clone(), v)
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    let stock: Vec<Value> = st.stock_iter().map(|(site, s)| json!({"site": site, "stock": s})).collect();
    let mut hard: Vec<(String, Value)> =
        toc.hard.iter().map(|(k, h)| (k.as_str().to_string(), serde_json::to_value(h).unwrap())).collect();
    hard.sort_by(|a, b| a.0.cmp(&b.0));
    json!({
        "last_seq": st.last_seq,
        "counts": st.counts(),
        "organizations": st.organizations,
        "sites": st.sites,
        "items": st.items,
        "stock": stock,
        "forces": st.forces,
        "allowances": st.allowances.values().collect::<Vec<_>>(),
        "vehicles": st.vehicles,
        "plans": st.plans,
        "partners": toc.partners,
        "applications": toc.applications,
        "assets": toc.assets,
        "checks": toc.checks,
        "dependencies": toc.dependencies.values().collect::<Vec<_>>(),
        "windows": toc.windows,
        "hard_states": hard,
        "history": toc.history,
        "users": users,
        "tokens": tokens,
        "incidents": st.incidents,
        "incident_timeline": st.incident_timeline,
        "log": st.log,
        "last_incident_number": st.last_incident_number,
    })
}

fn replay(store: Box<dyn JournalStore>) -> Value {
    let journal = Journal::open(store, JournalOptions { read_only: true, ..Default::default() }).unwrap();
    let s = summary(&journal);
    journal.shutdown();
    s
}

fn compare(what: &str, got: &Value) {
    let path = fixtures().join("expected.json");
    let text = serde_json::to_string_pretty(got).unwrap() + "\n";
    if std::env::var_os("VIGIE_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (write it with VIGIE_BLESS=1 and review it)", path.display()));
    if expected != text {
        let exp: Vec<&str> = expected.lines().collect();
        let line = text.lines().zip(&exp).position(|(a, b)| a != *b).unwrap_or(exp.len().min(text.lines().count()));
        panic!(
            "{what}: the golden journal replays to a different state (first difference at line {} of expected.json: \
             expected {:?}, got {:?})",
            line + 1,
            exp.get(line),
            text.lines().nth(line)
        );
    }
}

#[test]
fn the_golden_journal_replays_to_the_same_state() {
    let jsonl = std::fs::read_to_string(fixtures().join("journal.jsonl")).unwrap();
    let rows = jsonl.lines().count() as u64;

    // The SQLite file written before the chain: migrated (hashes computed), verified, replayed.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("journal-v1.db"), dir.path().join("journal.db")).unwrap();
    let mut store = vigie_journal_sqlite::SqliteStore::open_dir(dir.path()).unwrap();
    let v = chain::verify(&mut store, None).unwrap();
    assert!(v.ok(), "{:?}", v.problem);
    assert_eq!(v.events, rows);
    let from_sqlite_file = replay(Box::new(store));
    assert_eq!(from_sqlite_file["last_seq"], rows);
    compare("the SQLite file of schema 1", &from_sqlite_file);

    // The JSON lines, imported into a fresh SQLite store: the same chain, the same state.
    let fresh = tempfile::tempdir().unwrap();
    let mut store = vigie_journal_sqlite::SqliteStore::open_dir(fresh.path()).unwrap();
    let head = vigie::journal::import_rows(&mut store, &jsonl).unwrap();
    assert_eq!(head, v.verified, "the migration and a fresh import compute the same chain");
    compare("the JSON lines on SQLite", &replay(Box::new(store)));

    // And on PostgreSQL.
    let url = std::env::var("VIGIE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("golden_{}", uuid::Uuid::now_v7().simple());
    let mut store = vigie_journal_postgres::PostgresStore::connect(&url, &schema).unwrap_or_else(|e| {
        panic!("PostgreSQL is needed at {} ({e}); run `bash .ci/run`", vigie_journal_postgres::redact_url(&url))
    });
    assert_eq!(vigie::journal::import_rows(&mut store, &jsonl).unwrap(), head);
    compare("the JSON lines on PostgreSQL", &replay(Box::new(store)));
    vigie_journal_postgres::PostgresStore::drop_schema(&url, &schema).unwrap();
}
