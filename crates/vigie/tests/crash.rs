//! Durability: a server killed with SIGKILL while clients write loses nothing it acknowledged, and takes back
//! nothing a reader saw.
//!
//! The real binary runs `serve` on a temp data directory (SQLite, then PostgreSQL); eight clients import one
//! organisation each, as fast as they can, and remember every id the server acknowledged (HTTP 200), while a reader
//! polls `/health` for the state's `last_seq` and reads the event at that sequence. The process is killed
//! mid-flight. After a restart, every acknowledged organisation must be in the journal, with gap-free sequences, and
//! every sequence the reader saw must still be there, naming the same event id.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn vigie() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
}

fn postgres_url() -> String {
    std::env::var("VIGIE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_sigkill_on_sqlite() {
    crash(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_sigkill_on_postgres() {
    let schema = format!("crash_{}", uuid::Uuid::now_v7().simple());
    crash(Some(schema.clone())).await;
    tokio::task::spawn_blocking(move || vigie_journal_postgres::PostgresStore::drop_schema(&postgres_url(), &schema))
        .await
        .unwrap()
        .unwrap();
}

/// `schema`: PostgreSQL in this schema, else SQLite under the data directory.
async fn crash(schema: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let storage = move |c: &mut Command| {
        c.env_remove("VIGIE__STORAGE__DATABASE");
        if let Some(s) = &schema {
            c.env("VIGIE__STORAGE__DATABASE", postgres_url()).env("VIGIE__STORAGE__POSTGRES_SCHEMA", s);
        }
    };
    let mut serve = vigie();
    storage(&mut serve);
    let mut child = serve
        .args(["--data", &data, "serve", "--listen", "127.0.0.1:0"])
        .env("VIGIE_LOG", "warn")
        .env("VIGIE_ADMIN_PASSWORD", "crash-test-admin")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("vigie listening on ").expect("address line").to_string();

    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let client = reqwest::Client::new();
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, url, acked) = (client.clone(), url.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let id = format!("W{w}-{i}");
                let csv = format!("id,name,level,parent_id\n{id},Org {id},tactical,\n");
                let part = reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("organizations.csv");
                let form = reqwest::multipart::Form::new().part("file", part);
                let req = client.post(format!("{url}/api/v1/import")).basic_auth("admin", Some("crash-test-admin"));
                match req.multipart(form).send().await {
                    Ok(r) if r.status() == 200 => acked.lock().unwrap().push(id),
                    _ => break, // the server is gone
                }
            }
        }));
    }
    // A reader: the state's last sequence, and the event at it, as HTTP shows them.
    let seen: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (client, url, seen, stop) = (client.clone(), url.clone(), seen.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let Ok(r) = client.get(format!("{url}/health")).send().await else { break };
                let Ok(health) = r.json::<serde_json::Value>().await else { break };
                let seq = health["last_seq"].as_u64().unwrap();
                if seq == 0 {
                    continue;
                }
                let req = client
                    .get(format!("{url}/api/v1/events?after={}&limit=1", seq - 1))
                    .basic_auth("admin", Some("crash-test-admin"));
                let Ok(r) = req.send().await else { break };
                let Ok(page) = r.json::<serde_json::Value>().await else { break };
                let event = &page["events"][0];
                assert_eq!(event["seq"], seq, "the event at the sequence the state showed");
                seen.lock().unwrap().push((seq, event["id"].as_str().unwrap().to_string()));
            }
        })
    };
    // Let the writers run, then kill the server without warning.
    let start = Instant::now();
    while acked.lock().unwrap().len() < 300 && start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    reader.await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the reader saw some sequences");
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300, "the writers were acknowledged {} times", acked.len());

    // Restart on the same directory and read the whole journal back.
    let out = tokio::task::spawn_blocking(move || {
        let mut events = vigie();
        storage(&mut events);
        events
            .args(["--data", &data, "events", "--after", "0", "--limit", "1000000"])
            .env("VIGIE_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut seqs = Vec::new();
    let mut stored = HashSet::new();
    let mut ids = std::collections::HashMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        seqs.push(e["seq"].as_u64().unwrap());
        ids.insert(e["seq"].as_u64().unwrap(), e["id"].as_str().unwrap().to_string());
        if e["kind"] != "organization.upserted" {
            continue; // the first administrator
        }
        stored.insert(e["payload"]["id"].as_str().unwrap().to_string());
    }
    let missing: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(missing.is_empty(), "{} acknowledged events lost: {:?}", missing.len(), &missing[..missing.len().min(5)]);
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "sequences are gap-free");
    assert!(stored.len() >= acked.len());
    // Nothing a reader saw is taken back: the sequence is there and names the same event.
    for (seq, id) in &seen {
        assert_eq!(ids.get(seq), Some(id), "sequence {seq} was seen naming {id} before the kill");
    }
}
