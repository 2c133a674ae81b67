//! PostgreSQL itself restarted under load (docs/cluster.md, "the database restarted"): a throwaway cluster of the
//! machine's PostgreSQL server (initdb in a temporary directory, a port of its own, so the shared server is left
//! alone), Vigie writing to it from two clients at once, then `pg_ctl restart -m fast`, which ends every
//! connection. Writes pause — 503 with `Retry-After`, nothing written — then resume by themselves, without
//! restarting Vigie; every acknowledged write is in the journal afterwards, once, and the sequence has no gap.
//!
//! The test needs PostgreSQL's server binaries (Debian's `postgresql`, which `scripts/test.sh` installs when
//! missing); without them it fails saying so, it never skips.

mod common;

use common::pg;
use std::path::PathBuf;

/// A PostgreSQL cluster of its own in a temporary directory, stopped when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn start() -> Cluster {
        // initdb refuses root: the cluster is the postgres user's.
        let c = Cluster { bin: pg::server_bin(), dir: pg::tempdir(), port: pg::free_port() };
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
        let out = pg::as_postgres(self.bin.join(program)).args(args).output().unwrap();
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
        let _ = pg::as_postgres(self.bin.join("pg_ctl")).args(["-D", &self.data(), "-m", "immediate", "stop"]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_load_pauses_writes_then_they_resume_and_nothing_is_lost() {
    let pg = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(common::Backend::Postgres, dir.path().to_path_buf());
    cfg.storage.database = pg.url();
    let pause = pg::writes_pause_and_resume(cfg, dir, "restart", || pg.pg_ctl("restart")).await;
    println!("writes resumed {:.1} s after PostgreSQL's restart", pause.as_secs_f64());
}
