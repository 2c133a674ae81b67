//! PostgreSQL itself restarted under load (docs/cluster.md, "the database restarted"): a throwaway cluster of the
//! machine's PostgreSQL server (initdb in a temporary directory, a port of its own, so the shared server is left
//! alone), Vigie writing to it from two clients at once, then `pg_ctl restart -m fast`, which ends every
//! connection. Writes pause — 503 with `Retry-After`, nothing written — then resume by themselves, without
//! restarting Vigie; every acknowledged write is in the journal afterwards, once, and the sequence has no gap.
//!
//! The test needs PostgreSQL's server binaries (Debian's `postgresql`, which `scripts/test.sh` installs when
//! missing); without them it fails saying so, it never skips.

mod common;

use common::TestApp;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A PostgreSQL cluster of its own in a temporary directory, stopped when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn start() -> Cluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| {
                d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).max()
            })
            .expect("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin, Debian's postgresql) are needed");
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let c = Cluster { bin, dir, port };
        if is_root() {
            // initdb refuses root: the cluster is the postgres user's.
            assert!(Command::new("chown").args(["-R", "postgres"]).arg(c.dir.path()).status().unwrap().success());
        }
        c.run("initdb", &["-D", &c.data(), "-A", "trust", "-U", "postgres"]);
        c.pg_ctl("start");
        c.run("createdb", &["-h", "127.0.0.1", "-p", &c.port.to_string(), "-U", "postgres", "vigie"]);
        c
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/vigie", self.port)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
            c
        } else {
            Command::new(self.bin.join(program))
        };
        let out = cmd.args(args).output().unwrap();
        assert!(out.status.success(), "{program}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `pg_ctl start|restart|stop`, waiting for it to be done.
    fn pg_ctl(&self, action: &str) {
        let (data, log) = (self.data(), self.dir.path().join("log").display().to_string());
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        let mut args = vec!["-D", &data, "-l", &log, "-w", "-o", &options];
        if action != "start" {
            // Fast: active transactions rolled back, every connection ended.
            args.extend(["-m", "fast"]);
        }
        args.push(action);
        self.run("pg_ctl", &args);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(if is_root() { "runuser" } else { "true" })
            .args(if is_root() { vec!["-u", "postgres", "--"] } else { vec![] })
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_load_pauses_writes_then_they_resume_and_nothing_is_lost() {
    let pg = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(common::Backend::Postgres, dir.path().to_path_buf());
    cfg.storage.database = pg.url();
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

    // The database restarts: every connection ends.
    tokio::task::block_in_place(|| pg.pg_ctl("restart"));
    let restarted_at = Instant::now();
    // Writes resume by themselves, Vigie untouched.
    let resumed = loop {
        let acknowledged = seen.lock().unwrap().acknowledged.len();
        tokio::time::sleep(Duration::from_millis(200)).await;
        if seen.lock().unwrap().acknowledged.len() > acknowledged + 5 {
            break restarted_at.elapsed();
        }
        assert!(restarted_at.elapsed() < Duration::from_secs(60), "writes did not resume within a minute");
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    println!(
        "{} entries acknowledged, {} refused with 503 while PostgreSQL restarted; writes resumed {:.1} s after the restart",
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
}
