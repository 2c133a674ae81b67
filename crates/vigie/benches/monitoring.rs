//! Monitoring benchmark (`cargo bench -p vigie --bench monitoring`), on 1,000,000 checks behind the real HTTP
//! server on loopback, with the SQLite journal:
//!
//! - sustained ingestion of results over the batch API (goal ≥ 200,000 results/s), against two baselines in the
//!   same run: the same results one per request, and the in-process ingestion with no HTTP (the ceiling);
//! - p99 latency from a pushed result that changes a state to its SSE event, at 10,000 results/s (goal < 100 ms),
//!   against the POST's own round trip;
//! - memory per check (goal < 2 KiB): the resident memory of a `vigie serve` process that replayed the journal of
//!   1,000,000 checks and built the live picture, less that of the same process over an empty journal, per check;
//! - "current state of everything": `GET /api/v1/monitoring/state` (roll-ups of every site, application, suite),
//!   against SQLite counting the same states with `GROUP BY` over an indexed table of 1,000,000 rows.
//!
//! `VIGIE_BENCH_CHECKS` changes the number of checks (default 1,000,000).

use futures_util::StreamExt;
use std::time::{Duration, Instant};
use vigie_domain::Actor;

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = s.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// The administrator's password in the bench's data directories.
const ADMIN_PASSWORD: &str = "bench-admin-password";

/// Starts `vigie serve` on a data directory, waits until it answers with the live picture built, reads its
/// resident memory, stops it.
async fn server_rss(data: &std::path::Path, checks: usize) -> u64 {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .env("VIGIE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("vigie serve starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next_line().await.unwrap().expect("vigie prints where it listens");
        if let Some(a) = line.strip_prefix("vigie listening on ") {
            break a.to_string();
        }
    };
    let r =
        reqwest::Client::new().get(format!("{addr}/api/v1/monitoring/state")).basic_auth("admin", Some(ADMIN_PASSWORD));
    let s: serde_json::Value = r.send().await.unwrap().json().await.unwrap();
    assert_eq!(s["checks"].as_u64().unwrap() as usize, checks);
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id().unwrap())).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS");
    let _ = child.kill().await;
    kb * 1024
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// The registry: 63 sites, 150 applications in 6 suites, `n` push checks (the last 1,000 are the latency probes).
fn registry(n: usize) -> Vec<vigie_import::SourceFile> {
    let mut orgs = String::from("id,name,level,parent_id\nTOC,Centre des opérations technologiques,strategic,\n");
    orgs.push_str("");
    let mut sites = String::from("id,name,kind,lat,lon,organization_id\n");
    for s in 0..63 {
        sites.push_str(&format!("S{s},Site {s},venue,48.{s:02},2.3,TOC\n"));
    }
    let mut apps = String::from("id,name,suite,criticality,partner_id\n");
    for a in 0..150 {
        apps.push_str(&format!("A{a},Application {a},SUITE{},high,\n", a % 6));
    }
    let mut checks = String::with_capacity(n * 48);
    checks.push_str("id,target,site_id,kind,interval_s,timeout_s,application_id,max_attempts\n");
    for c in 0..n {
        checks.push_str(&format!("C{c},t{c},S{},push,60,10,A{},1\n", c % 63, c % 150));
    }
    let file = |name: &str, text: String| vigie_import::SourceFile { name: name.into(), bytes: text.into_bytes() };
    vec![
        file("organizations.csv", orgs),
        file("sites.csv", sites),
        file("applications.csv", apps),
        file("checks.csv", checks),
    ]
}

/// A batch body of results for checks `from..from+len` (all OK: no state changes).
fn batch(from: usize, len: usize, n: usize) -> Vec<u8> {
    let mut s = String::with_capacity(len * 60);
    s.push_str("{\"results\":[");
    for k in 0..len {
        if k > 0 {
            s.push(',');
        }
        let c = (from + k) % n;
        s.push_str(&format!("{{\"check\":\"C{c}\",\"status\":\"OK\",\"output\":\"OK - 12 ms\"}}"));
    }
    s.push_str("]}");
    s.into_bytes()
}

fn main() {
    let n: usize = std::env::var("VIGIE_BENCH_CHECKS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = vigie::config::Config::default();
    cfg.storage.data_dir = dir.path().to_path_buf();

    let rss0 = rss_bytes();
    let (journal, lock) = vigie::open(&cfg).unwrap();
    let t = Instant::now();
    let batch_in = vigie_import::read(&registry(n), &mut |_, _| {});
    let bench = vigie_app::Caller::internal(Actor::system("bench"), "bench");
    let report = vigie_app::imports::import(&journal, &bench, batch_in, false)
        .unwrap_or_else(|_| panic!("the generated registry imports"));
    let import_s = t.elapsed().as_secs_f64();
    println!("# {n} checks imported and journalled in {import_s:.1} s ({} events)", report.events);
    // The agents push with a token of a TOC user, as in production; the administrator reads the state.
    use vigie_app::accounts::{Password, UserChange};
    let user = |name: &str, role, password: Password| UserChange {
        name: vigie_domain::access::UserName::parse(name).unwrap(),
        role,
        organization_id: None,
        partner_id: None,
        password,
        disabled: false,
    };
    for u in [
        user("admin", vigie_domain::access::Role::Admin, Password::Set(ADMIN_PASSWORD.into())),
        user("agents", vigie_domain::access::Role::Toc, Password::Generate),
    ] {
        vigie_app::accounts::save_user(&journal, &bench, u).unwrap();
    }
    let request = vigie_app::accounts::TokenRequest {
        user: Some(vigie_domain::access::UserName::parse("agents").unwrap()),
        label: "bench".into(),
        scopes: Vec::new(),
        expires_at: None,
    };
    let token = vigie_app::accounts::issue_token(&journal, &bench, request, chrono::Utc::now()).unwrap().token;

    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let j = journal.clone();
        let options = vigie_server::ServerOptions { active_checks: false, ..Default::default() };
        let server = tokio::spawn(async move {
            vigie_server::serve(listener, j, options, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let url = |p: &str| format!("http://{addr}{p}");
        let mut auth = reqwest::header::HeaderMap::new();
        auth.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        let client = reqwest::Client::builder().default_headers(auth).pool_max_idle_per_host(16).build().unwrap();
        // The first request builds the live estate.
        let t = Instant::now();
        let s: serde_json::Value = client.get(url("/api/v1/monitoring/state")).send().await.unwrap().json().await.unwrap();
        assert_eq!(s["checks"].as_u64().unwrap() as usize, n);
        println!("# live estate built in {:.2} s", t.elapsed().as_secs_f64());
        let in_process = rss_bytes().saturating_sub(rss0) as f64 / n as f64;

        // Ingestion over the batch API: 4 connections, batches of 1,000.
        let total = n.clamp(2_000_000, 4_000_000);
        let bodies: Vec<Vec<u8>> = (0..total / 1000).map(|b| batch(b * 1000, 1000, n)).collect();
        let t = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..4 {
            let (client, mine): (reqwest::Client, Vec<Vec<u8>>) =
                (client.clone(), bodies.iter().skip(w).step_by(4).cloned().collect());
            let u = url("/api/v1/monitoring/results");
            tasks.push(tokio::spawn(async move {
                for body in mine {
                    let r = client.post(&u).header("content-type", "application/json").body(body).send().await.unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let batch_rate = total as f64 / t.elapsed().as_secs_f64();
        let metrics = client.get(url("/metrics")).send().await.unwrap().text().await.unwrap();
        let taken: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("vigie_results_total "))
            .and_then(|v| v.parse().ok())
            .expect("the results counter");
        assert_eq!(taken as usize, total, "every result was taken");

        // Baseline 1: one result per request (20,000 of them, 4 connections).
        let singles = 20_000;
        let t = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..4 {
            let client = client.clone();
            let u = url("/api/v1/monitoring/results");
            tasks.push(tokio::spawn(async move {
                for k in (w..singles).step_by(4) {
                    let body = format!("{{\"check\":\"C{}\",\"status\":\"OK\",\"output\":\"OK - 12 ms\"}}", k % n);
                    let r = client.post(&u).header("content-type", "application/json").body(body).send().await.unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let single_rate = singles as f64 / t.elapsed().as_secs_f64();

        // Latency: 10,000 results/s (batches of 100 every 10 ms); in each batch one probe check flips, and the
        // time from sending to its SSE event is measured.
        let sse = client.get(url("/api/v1/monitoring/stream")).send().await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String, Instant)>();
        let reader = tokio::spawn(async move {
            let mut stream = sse.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = stream.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let msg: String = buf.drain(..end + 2).collect();
                    if let Some(data) = msg.lines().find_map(|l| l.strip_prefix("data:")) {
                        if let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) {
                            let id = v["check_id"].as_str().unwrap_or("").to_string();
                            let to = v["to"].as_str().unwrap_or("").to_string();
                            let _ = tx.send((id, to, Instant::now()));
                        }
                    }
                }
            }
        });
        let seconds = 10;
        let mut sent: Vec<(String, String, Instant)> = Vec::new();
        let mut round_trips = Vec::new();
        let mut every = tokio::time::interval(Duration::from_millis(10));
        let probes = 1000.min(n);
        for k in 0..seconds * 100 {
            every.tick().await;
            let probe = n - probes + (k % probes);
            let to = if (k / probes) % 2 == 0 { "CRITICAL" } else { "OK" };
            let mut s = String::from("{\"results\":[");
            for j in 0..99 {
                s.push_str(&format!("{{\"check\":\"C{}\",\"status\":\"OK\"}},", (k * 99 + j) % (n - probes)));
            }
            s.push_str(&format!("{{\"check\":\"C{probe}\",\"status\":\"{to}\",\"output\":\"bascule\"}}]}}"));
            let t0 = Instant::now();
            let r = client.post(url("/api/v1/monitoring/results")).header("content-type", "application/json").body(s).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
            round_trips.push(t0.elapsed().as_secs_f64());
            sent.push((format!("C{probe}"), to.to_string(), t0));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        reader.abort();
        let mut seen = std::collections::HashMap::new();
        while let Ok((id, to, at)) = rx.try_recv() {
            seen.entry((id, to)).or_insert_with(Vec::new).push(at);
        }
        let mut lat = Vec::new();
        for (id, to, t0) in &sent {
            if let Some(ats) = seen.get_mut(&(id.clone(), to.clone())) {
                if !ats.is_empty() {
                    lat.push(ats.remove(0).duration_since(*t0).as_secs_f64());
                }
            }
        }
        let received = lat.len();

        // Current state of everything, over HTTP, against SQLite GROUP BY over the same states.
        let mut state_times = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let body = client.get(url("/api/v1/monitoring/state")).send().await.unwrap().bytes().await.unwrap();
            state_times.push(t.elapsed().as_secs_f64());
            assert!(body.len() > 1000);
        }
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE checks(id TEXT PRIMARY KEY, site TEXT, app TEXT, suite TEXT, state TEXT); CREATE INDEX by_state ON checks(state);").unwrap();
        {
            let tx = db.unchecked_transaction().unwrap();
            let mut ins = tx.prepare("INSERT INTO checks VALUES (?1, ?2, ?3, ?4, 'OK')").unwrap();
            for c in 0..n {
                ins.execute((format!("C{c}"), format!("S{}", c % 63), format!("A{}", c % 150), format!("SUITE{}", c % 150 % 6))).unwrap();
            }
            drop(ins);
            tx.commit().unwrap();
        }
        let mut sql_times = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let mut q = db.prepare_cached("SELECT site, app, suite, state, count(*) FROM checks GROUP BY site, app, suite, state").unwrap();
            let rows: Vec<(String, i64)> = q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(4)?))).unwrap().map(|r| r.unwrap()).collect();
            assert!(!rows.is_empty());
            sql_times.push(t.elapsed().as_secs_f64());
        }

        let _ = stop.send(());
        server.await.unwrap();
        journal.shutdown();
        drop(lock);
        // Memory of a real server process: this journal, against an empty one.
        let empty = tempfile::tempdir().unwrap();
        let full_rss = server_rss(dir.path(), n).await;
        let empty_rss = server_rss(empty.path(), 0).await;
        let per_check = full_rss.saturating_sub(empty_rss) as f64 / n as f64;

        let ms = |s: f64| s * 1000.0;
        println!(
            "ingestion, batch API (1,000 per POST)   {:>10.0} results/s (goal ≥ 200,000) | baseline one result per POST: {:>8.0} results/s | ratio {:.0}×",
            batch_rate, single_rate, batch_rate / single_rate
        );
        let (l50, l99) = (percentile(&mut lat.clone(), 0.5), percentile(&mut lat, 0.99));
        let (r50, r99) = (percentile(&mut round_trips.clone(), 0.5), percentile(&mut round_trips, 0.99));
        println!(
            "push → SSE at 10,000 results/s          p50 {:>7.2} ms  p99 {:>7.2} ms (goal p99 < 100 ms; {received}/{} changes received) | baseline the POST's round trip: p50 {:>6.2} ms p99 {:>6.2} ms",
            ms(l50), ms(l99), sent.len(), ms(r50), ms(r99)
        );
        println!(
            "memory per check                         {:>10.0} bytes (goal < 2,048) | `vigie serve` after replaying {n} checks: {:.0} MB, over an empty journal: {:.0} MB; in this process, with the import's buffers: {:.0} bytes",
            per_check,
            full_rss as f64 / 1e6,
            empty_rss as f64 / 1e6,
            in_process
        );
        let (s50, s99) = (percentile(&mut state_times.clone(), 0.5), percentile(&mut state_times, 0.99));
        let (q50, q99) = (percentile(&mut sql_times.clone(), 0.5), percentile(&mut sql_times, 0.99));
        println!(
            "current state of everything ({n} checks) p50 {:>7.1} ms  p99 {:>7.1} ms over HTTP with every roll-up | baseline SQLite GROUP BY (counts only): p50 {:>7.1} ms p99 {:>7.1} ms | ratio p50 {:.1}×",
            ms(s50), ms(s99), ms(q50), ms(q99), q50 / s50
        );
    });
}
