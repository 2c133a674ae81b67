//! PostgreSQL's own availability, by an existing tool (docs/cluster.md): a pg_auto_failover formation of this
//! machine's PostgreSQL (Debian's `postgresql-N-auto-failover`: a monitor, a primary and a synchronous secondary, in
//! temporary directories on ports of their own), Vigie given the multi-host URL `pg_autoctl show uri` prints, writing
//! from two clients, then `pg_autoctl perform failover`: the secondary becomes the primary. Writes pause — 503 with
//! `Retry-After` — then resume on the new primary by themselves; every acknowledged write is in the journal, once,
//! and the sequence has no gap.
//!
//! `scripts/test.sh` installs pg_auto_failover when missing; without it the test fails saying so, it never skips.

mod common;

use common::pg;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A formation: the monitor and two nodes, each `pg_autoctl` run in the background; stopped when dropped.
struct Formation {
    dir: tempfile::TempDir,
    monitor_port: u16,
    children: Vec<Child>,
}

fn autoctl() -> PathBuf {
    ["/usr/bin/pg_autoctl"]
        .into_iter()
        .map(PathBuf::from)
        .chain(std::iter::once(pg::server_bin().join("pg_autoctl")))
        .find(|p| p.exists())
        .expect("pg_autoctl (Debian's postgresql-N-auto-failover) is needed: scripts/test.sh installs it")
}

impl Formation {
    fn pgdata(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> String {
        let out = pg::as_postgres(autoctl()).args(args).output().unwrap();
        assert!(out.status.success(), "pg_autoctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn spawn(&mut self, args: &[&str], log: &str) {
        let log = std::fs::File::create(self.dir.path().join(log)).unwrap();
        let child = pg::as_postgres(autoctl()).args(args).stdout(log.try_clone().unwrap()).stderr(log).spawn().unwrap();
        self.children.push(child);
    }

    fn start() -> Formation {
        let mut f = Formation { dir: pg::tempdir(), monitor_port: pg::free_port(), children: Vec::new() };
        let mon = f.pgdata("monitor").display().to_string();
        let port = f.monitor_port.to_string();
        f.run(&[
            "create",
            "monitor",
            "--pgdata",
            &mon,
            "--pgport",
            &port,
            "--hostname",
            "127.0.0.1",
            "--auth",
            "trust",
            "--no-ssl",
        ]);
        f.spawn(&["run", "--pgdata", &mon], "monitor.log");
        let monitor = format!("postgres://autoctl_node@127.0.0.1:{port}/pg_auto_failover");
        for name in ["a", "b"] {
            let (data, port) = (f.pgdata(name).display().to_string(), pg::free_port().to_string());
            f.spawn(
                &[
                    "create",
                    "postgres",
                    "--pgdata",
                    &data,
                    "--pgport",
                    &port,
                    "--hostname",
                    "127.0.0.1",
                    "--auth",
                    "trust",
                    "--no-ssl",
                    "--dbname",
                    "vigie",
                    "--monitor",
                    &monitor,
                    "--run",
                ],
                &format!("{name}.log"),
            );
            // The first node is up (alone) before the second asks for its base backup.
            f.wait(if name == "a" { &["wait_primary", "single"][..] } else { &["secondary"][..] }, &port);
        }
        f.wait(&["primary"], "");
        f
    }

    /// Waits until a node (on `port`, or any) reports one of `states` as assigned; meanwhile asks the nodes for a
    /// checkpoint, which a base backup otherwise waits minutes for.
    fn wait(&self, states: &[&str], port: &str) {
        let until = Instant::now() + Duration::from_secs(180);
        loop {
            let out = pg::as_postgres(autoctl())
                .args(["show", "state", "--json", "--pgdata"])
                .arg(self.pgdata("monitor"))
                .output()
                .unwrap();
            let nodes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            let found = nodes.as_array().into_iter().flatten().find(|n| {
                (port.is_empty() || n["nodeport"].as_u64() == port.parse().ok())
                    && states.iter().any(|s| n["current_group_state"] == *s && n["assigned_group_state"] == *s)
            });
            if found.is_some() {
                return;
            }
            for n in nodes.as_array().into_iter().flatten() {
                let _ = std::process::Command::new("psql")
                    .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", "CHECKPOINT", "-p"])
                    .arg(n["nodeport"].to_string())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
            assert!(
                Instant::now() < until,
                "pg_auto_failover did not reach {states:?} (logs in {:?})",
                self.dir.path()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn uri(&self) -> String {
        let mon = self.pgdata("monitor").display().to_string();
        let uri = self.run(&["show", "uri", "--formation", "default", "--pgdata", &mon]);
        // postgres://host:port,host:port/vigie?target_session_attrs=read-write&sslmode=prefer, as the server's
        // superuser (the formation trusts local connections).
        uri.trim().replacen("postgres://", "postgres://postgres@", 1)
    }
}

impl Drop for Formation {
    fn drop(&mut self) {
        for name in ["b", "a", "monitor"] {
            let _ =
                pg::as_postgres(autoctl()).args(["stop", "--immediate", "--pgdata"]).arg(self.pgdata(name)).output();
        }
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_auto_failover_failover_under_load_pauses_writes_then_they_resume_and_nothing_is_lost() {
    let formation = tokio::task::block_in_place(Formation::start);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(common::Backend::Postgres, dir.path().to_path_buf());
    cfg.storage.database = formation.uri();
    let mon = formation.pgdata("monitor").display().to_string();
    let failover = || {
        formation.run(&["perform", "failover", "--formation", "default", "--pgdata", &mon]);
    };
    let pause = pg::writes_pause_and_resume(cfg, dir, "failover", failover).await;
    println!("writes resumed {:.1} s after pg_autoctl perform failover returned", pause.as_secs_f64());
}
