//! Cluster benchmark (`cargo bench -p vigie --bench cluster`), three `vigie serve` processes on one PostgreSQL
//! journal (the test command's, or `VIGIE_TEST_POSTGRES`) behind Debian's HAProxy (`deploy/haproxy.cfg`), everything
//! on this machine:
//!
//! - ingestion of monitoring results over the batch API through a follower (forwarded to the leader; goal ≥ 500,000
//!   results/s), against the same batches sent to the leader itself in the same run;
//! - read throughput (`GET /api/v1/monitoring/state`, 8 clients) through HAProxy over three nodes, against one node
//!   read directly. Every process shares the machine's cores (two here): three nodes cannot read faster than the
//!   cores allow, so the figure says what a cluster costs or gains on this machine, not on three.
//!
//! Failover times are measured by `tests/cluster.rs` (printed: p50, p99 over ten kills).
//! `VIGIE_BENCH_CHECKS` sets the number of checks (default 100,000).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-admin-password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn batch(from: usize, len: usize, n: usize) -> Vec<u8> {
    let mut s = String::with_capacity(len * 60);
    s.push_str("{\"results\":[");
    for k in 0..len {
        if k > 0 {
            s.push(',');
        }
        s.push_str(&format!("{{\"check\":\"C{}\",\"status\":\"OK\",\"output\":\"OK - 12 ms\"}}", (from + k) % n));
    }
    s.push_str("]}");
    s.into_bytes()
}

async fn ingest(client: &reqwest::Client, url: &str, bodies: &[Vec<u8>]) -> f64 {
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (client, url) = (client.clone(), url.to_string());
        let mine: Vec<Vec<u8>> = bodies.iter().skip(w).step_by(4).cloned().collect();
        tasks.push(tokio::spawn(async move {
            for body in mine {
                let r = client.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (bodies.len() * 1000) as f64 / t.elapsed().as_secs_f64()
}

async fn reads(client: &reqwest::Client, url: &str, seconds: f64) -> f64 {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                let r = client.get(&url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("VIGIE_BENCH_CHECKS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let db = std::env::var("VIGIE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}", vigie_journal::new_event_id().simple());
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut procs = Procs(Vec::new());
    for (i, (dir, port)) in dirs.iter().zip(&ports).enumerate() {
        procs.0.push(
            Command::new(env!("CARGO_BIN_EXE_vigie"))
                .arg("--data")
                .arg(dir.path())
                .args(["--database", &db, "serve", "--listen", &format!("127.0.0.1:{port}")])
                .env("VIGIE__STORAGE__POSTGRES_SCHEMA", &schema)
                .env("VIGIE__NODE__ID", format!("b{}", i + 1))
                .env("VIGIE_ADMIN_PASSWORD", PASSWORD)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // The first node leads: the others start once it does.
        std::thread::sleep(Duration::from_millis(if i == 0 { 1500 } else { 300 }));
    }
    let proxy_port = free_port();
    let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].into_iter().find(|p| std::path::Path::new(p).exists());
    let mut cmd = Command::new(haproxy.expect("HAProxy (Debian's haproxy)"));
    cmd.args(["-f", concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/haproxy.cfg"), "-db"])
        .env("VIGIE_LISTEN", format!("127.0.0.1:{proxy_port}"));
    for (i, p) in ports.iter().enumerate() {
        cmd.env(format!("VIGIE_NODE{}", i + 1), format!("127.0.0.1:{p}"));
    }
    procs.0.push(cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().build().unwrap();
        let node = |i: usize, path: &str| format!("http://127.0.0.1:{}{path}", ports[i]);
        let mut leader = None;
        for _ in 0..200 {
            for i in 0..3 {
                if let Ok(r) = client.get(node(i, "/health")).send().await {
                    let h: serde_json::Value = r.json().await.unwrap_or_default();
                    if h["cluster"]["role"] == "leader" {
                        leader = Some(i);
                    }
                }
            }
            if leader.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let leader = leader.expect("a leader");
        let follower = (leader + 1) % 3;
        let admin = {
            let mut h = reqwest::header::HeaderMap::new();
            use base64::Engine;
            let b = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"));
            h.insert(reqwest::header::AUTHORIZATION, format!("Basic {b}").parse().unwrap());
            reqwest::Client::builder().default_headers(h).pool_max_idle_per_host(16).build().unwrap()
        };
        // A token: Basic passwords are hashed with argon2 on every request, a token is not.
        let token: serde_json::Value = admin
            .post(node(leader, "/api/v1/tokens"))
            .json(&serde_json::json!({"label": "bench", "scopes": ["monitoring:read", "monitoring:write", "logistics:read"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["token"].as_str().expect("a token").to_string();
        let client = {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
            reqwest::Client::builder().default_headers(h).pool_max_idle_per_host(16).build().unwrap()
        };
        let mut checks = String::from("id,target,site_id,kind,interval_s,timeout_s,max_attempts\n");
        let mut sites = String::from("id,name,kind,lat,lon,organization_id\n");
        for s in 0..63 {
            sites.push_str(&format!("S{s},Site {s},venue,48.{s:02},2.3,TOC\n"));
        }
        for c in 0..n {
            checks.push_str(&format!("C{c},t{c},S{},push,60,10,1\n", c % 63));
        }
        let orgs = "id,name,level,parent_id\nTOC,Centre,strategic,\n".to_string();
        let mut form = reqwest::multipart::Form::new();
        for (name, body) in [("organizations.csv", orgs), ("sites.csv", sites), ("checks.csv", checks)] {
            form = form.part("file", reqwest::multipart::Part::bytes(body.into_bytes()).file_name(name));
        }
        let r = admin.post(node(follower, "/api/v1/import")).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        // The followers rebuild their estate from the journal.
        tokio::time::sleep(Duration::from_secs(2)).await;

        let total = 1_000_000usize;
        let bodies: Vec<Vec<u8>> = (0..total / 1000).map(|b| batch(b * 1000, 1000, n)).collect();
        // Warm-up, then each twice, alternating; the best of each.
        ingest(&client, &node(leader, "/api/v1/monitoring/results"), &bodies[..100]).await;
        let (mut direct, mut forwarded) = (0f64, 0f64);
        for _ in 0..2 {
            direct = direct.max(ingest(&client, &node(leader, "/api/v1/monitoring/results"), &bodies).await);
            forwarded = forwarded.max(ingest(&client, &node(follower, "/api/v1/monitoring/results"), &bodies).await);
        }
        println!(
            "ingestion through a follower (1,000 per POST) {forwarded:>10.0} results/s (goal ≥ 500,000) | baseline \
             straight to the leader: {direct:>10.0} results/s | ratio {:.2}×",
            forwarded / direct
        );

        let path = "/api/v1/monitoring/state";
        reads(&client, &node(follower, path), 1.0).await;
        let (mut one, mut three) = (0f64, 0f64);
        for _ in 0..2 {
            one = one.max(reads(&client, &node(follower, path), 5.0).await);
            three = three.max(reads(&client, &format!("http://127.0.0.1:{proxy_port}{path}"), 5.0).await);
        }
        println!(
            "reads of {path} (8 clients), 3 nodes via HAProxy {three:>8.0} req/s | baseline one node directly: \
             {one:>8.0} req/s | ratio {:.2}× ({} cores shared by the nodes, HAProxy and the clients)",
            three / one,
            std::thread::available_parallelism().map_or(0, |p| p.get())
        );
    });
    drop(procs);
    let _ = vigie_journal_postgres::PostgresStore::drop_schema(&db, &schema);
}
