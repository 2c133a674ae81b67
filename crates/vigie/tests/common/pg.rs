//! PostgreSQL's own programs for the tests that start throwaway servers (`pg_restart.rs`, `pg_failover.rs`): the
//! server binaries of the machine's PostgreSQL (Debian's `postgresql`, which `scripts/test.sh` installs when
//! missing), run as the `postgres` user when the tests run as root (initdb and pg_autoctl refuse root).

use super::TestApp;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The directory of the newest installed server's binaries (`/usr/lib/postgresql/N/bin`).
pub fn server_bin() -> PathBuf {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|d| {
            d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).max()
        })
        .expect("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin, Debian's postgresql) are needed")
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// `program` as the `postgres` user when root, with the server's binaries first on the PATH.
pub fn as_postgres(program: impl Into<PathBuf>) -> Command {
    let path = format!("{}:{}", server_bin().display(), std::env::var("PATH").unwrap_or_default());
    let mut c = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "env", &format!("PATH={path}")]).arg(program.into());
        c
    } else {
        let mut c = Command::new(program.into());
        c.env("PATH", path);
        c
    };
    c.stdin(std::process::Stdio::null());
    c
}

/// A temporary directory the `postgres` user may write to.
pub fn tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if is_root() {
        assert!(Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().unwrap().success());
    }
    dir
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What one writer saw: the entries acknowledged, the refusals (each with its `Retry-After`).
#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    refused_texts: Vec<String>,
    refused: usize,
    refused_without_retry_after: usize,
    other: Vec<String>,
}

/// Vigie writing to PostgreSQL from two clients at once while `disrupt` restarts the database or fails it over:
/// writes pause — 503 with `Retry-After`, nothing written — then resume by themselves, without restarting Vigie;
/// every acknowledged write is in the journal afterwards, once, and the sequence has no gap. Returns how long after
/// the disruption writes resumed.
pub async fn writes_pause_and_resume(
    cfg: vigie::config::Config,
    dir: tempfile::TempDir,
    what: &str,
    disrupt: impl FnOnce() + Send,
) -> Duration {
    let options = vigie_server::ServerOptions { active_checks: false, ..Default::default() };
    let app = Arc::new(TestApp::spawn_with_options(cfg, dir, options).await);
    let start = app.get_json("/health").await["last_seq"].as_u64().unwrap();

    // Two operators write to the operations log, one entry after another, until told to stop.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut writers = Vec::new();
    for w in 0..2 {
        let (app, stop, seen) = (app.clone(), stop.clone(), seen.clone());
        writers.push(tokio::spawn(async move {
            let client = app.client_as("toc");
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let text = format!("relève {w}-{n}");
                let r = client.post(app.url("/api/v1/log")).json(&json!({"text": text, "kind": "note"})).send().await;
                {
                    let mut s = seen.lock().unwrap();
                    match r {
                        Ok(r) if r.status() == 200 => s.acknowledged.push(text),
                        Ok(r) if r.status() == 503 => {
                            s.refused += 1;
                            s.refused_texts.push(text);
                            if !r.headers().contains_key("retry-after") {
                                s.refused_without_retry_after += 1;
                            }
                        }
                        Ok(r) => s.other.push(format!("{}", r.status())),
                        Err(e) => s.other.push(e.to_string()),
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_restart = seen.lock().unwrap().acknowledged.len();
    assert!(before_restart > 10, "writes were acknowledged before the restart ({before_restart})");

    // The database restarts, or fails over: every connection ends.
    tokio::task::block_in_place(disrupt);
    let restarted_at = Instant::now();
    // Writes resume by themselves, Vigie untouched.
    let resumed = loop {
        let acknowledged = seen.lock().unwrap().acknowledged.len();
        tokio::time::sleep(Duration::from_millis(200)).await;
        if seen.lock().unwrap().acknowledged.len() > acknowledged + 5 {
            break restarted_at.elapsed();
        }
        if restarted_at.elapsed() > Duration::from_secs(60) {
            let health = app.get_json("/health").await;
            let s = seen.lock().unwrap();
            panic!(
                "writes did not resume within a minute: health {}; last refusals {:?}; other answers {:?}",
                health["degraded"],
                s.refused_texts.iter().rev().take(3).collect::<Vec<_>>(),
                s.other.iter().rev().take(3).collect::<Vec<_>>()
            );
        }
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    println!(
        "{} entries acknowledged, {} refused with 503 during the {what}; writes resumed {:.1} s after it",
        seen.acknowledged.len(),
        seen.refused,
        resumed.as_secs_f64()
    );
    assert!(seen.other.is_empty(), "every write was acknowledged or refused with 503: {:?}", seen.other);
    assert_eq!(seen.refused_without_retry_after, 0, "every 503 says when to try again");
    assert_eq!(app.get_json("/health").await["status"], "ok");

    // Nothing acknowledged was lost, nothing appears twice, and the sequence has no gap.
    let mut after = start;
    let mut texts = Vec::new();
    let mut seqs = Vec::new();
    loop {
        let page = app.get_json(&format!("/api/v1/events?after={after}&limit=1000")).await;
        let events = page["events"].as_array().unwrap().clone();
        if events.is_empty() {
            break;
        }
        for e in &events {
            seqs.push(e["seq"].as_u64().unwrap());
            if e["kind"] == "log.entry_added" {
                let payload: Value = match &e["payload"] {
                    Value::String(s) => serde_json::from_str(s).unwrap(),
                    v => v.clone(),
                };
                texts.push(payload["text"].as_str().unwrap_or_default().to_string());
            }
        }
        after = *seqs.last().unwrap();
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "the journal's sequence has no gap");
    let mut sorted = texts.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), texts.len(), "no entry was written twice");
    let missing: Vec<&String> = seen.acknowledged.iter().filter(|t| !texts.contains(t)).collect();
    assert!(missing.is_empty(), "acknowledged entries missing from the journal: {missing:?}");
    // Beyond what was acknowledged, the journal holds at most the write each writer had in flight when the
    // connection ended, if its COMMIT reached the database (docs/journal.md: answered *unavailable*, yet there).
    let extra: Vec<&String> = texts.iter().filter(|t| !seen.acknowledged.contains(t)).collect();
    assert!(
        extra.iter().all(|t| seen.refused_texts.contains(t)) && extra.len() <= 2,
        "the journal holds only what was acknowledged, or a write in flight at the restart: {extra:?}"
    );
    Arc::into_inner(app).expect("the writers are done").stop().await;
    resumed
}
