//! Notifications benchmark (`cargo bench -p vigie --bench notify`), with the real HTTP server on loopback, the
//! SQLite journal and a real SMTP server (Debian's python3-aiosmtpd, `tests/support/smtp_sink.py`, which prints when
//! it accepts each message on the same clock):
//!
//! - latency from an incident's creation (the Table API's 201) to the SMTP server's acceptance of the page to the
//!   person on duty, p50 and p99 over 200 incidents one after another;
//! - fan-out: 1,000 incidents created at once (8 clients), time until the 1,000 pages are accepted;
//!
//! against a named baseline in the same run: Python's smtplib sending the same number of messages straight to the
//! same server, one connection each (`benches/notify_baseline.py`): the cost of SMTP alone, with no journal, no
//! rules, no roster.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigie_domain::Actor;

fn pct(v: &mut [f64], p: usize) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() * p / 100).min(v.len() - 1)]
}

fn now_ns() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn main() {
    let (latency_n, fanout_n) = (200usize, 1000usize);
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mail = dir.path().join("mail");
    std::fs::create_dir_all(&mail).unwrap();
    let sink = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
    let mut child = Command::new("/usr/bin/python3")
        .args([sink, &port.to_string(), mail.to_str().unwrap()])
        .env("SINK_PRINT", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 with python3-aiosmtpd");
    // Acceptance times by Message-ID, read as the server prints them.
    let accepted: Arc<Mutex<std::collections::HashMap<String, u128>>> = Arc::default();
    let out = child.stdout.take().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let acc = accepted.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if line.starts_with("ready") {
                let _ = ready_tx.send(());
            } else if let Some(rest) = line.strip_prefix("accepted ") {
                if let Some((id, t)) = rest.rsplit_once(' ') {
                    acc.lock().unwrap().insert(id.to_string(), t.parse().unwrap_or(0));
                }
            }
        }
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).expect("the SMTP server starts");

    let mut cfg = vigie::config::Config::default();
    cfg.storage.data_dir = dir.path().join("data");
    let (journal, _lock) = vigie::open(&cfg).unwrap();
    let bench = vigie_app::Caller::internal(Actor::system("bench"), "bench");
    let file = |name: &str, text: &str| vigie_import::SourceFile { name: name.into(), bytes: text.as_bytes().to_vec() };
    let files = vec![
        file("partners.csv", "id;name\nATOS;Atos\n"),
        file("people.csv", "id;name;email;partner_id\nana;Ana Martin;ana@atos.example;ATOS\n"),
        file("teams.csv", "id;name;partner_id\nATOS-SUPPORT;Atos — support;ATOS\n"),
        file("rotations.csv", "team_id;level;period;starts_at;people\nATOS-SUPPORT;1;daily;2024-01-01 08:00;ana\n"),
    ];
    vigie_app::imports::import(&journal, &bench, vigie_import::read(&files, &mut |_, _| {}), false)
        .unwrap_or_else(|_| panic!("the rosters import"));
    use vigie_app::accounts::{Password, UserChange};
    let toc = UserChange {
        name: vigie_domain::access::UserName::parse("toc").unwrap(),
        role: vigie_domain::access::Role::Toc,
        organization_id: None,
        partner_id: None,
        password: Password::Set("bench-toc-password".into()),
        disabled: false,
    };
    vigie_app::accounts::save_user(&journal, &bench, toc).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (lat, fan) = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let options = vigie_server::ServerOptions {
            active_checks: false,
            notify: Some(vigie_server::notify::NotifyOptions {
                escalate_after: Duration::from_secs(3600),
                ..vigie_server::notify::NotifyOptions::relay("127.0.0.1", port, "Vigie <vigie@toc.example>")
            }),
            ..Default::default()
        };
        let j = journal.clone();
        let server = tokio::spawn(async move {
            vigie_server::serve(listener, j, options, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let client = reqwest::Client::builder().pool_max_idle_per_host(16).build().unwrap();
        let create = move |client: reqwest::Client, k: usize| async move {
            let r = client
                .post(format!("http://{addr}/api/now/table/incident"))
                .basic_auth("toc", Some("bench-toc-password"))
                .json(&serde_json::json!({"short_description": format!("Incident {k}"), "impact": 1, "urgency": 2,
                                          "assignment_group": "ATOS"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let v: serde_json::Value = r.json().await.unwrap();
            (v["result"]["number"].as_str().unwrap().to_string(), now_ns())
        };
        let wait = |ids: Vec<String>| {
            let accepted = accepted.clone();
            async move {
                let deadline = Instant::now() + Duration::from_secs(300);
                loop {
                    let got: Vec<u128> = {
                        let a = accepted.lock().unwrap();
                        ids.iter().filter_map(|id| a.get(id).copied()).collect()
                    };
                    if got.len() == ids.len() {
                        return got;
                    }
                    assert!(Instant::now() < deadline, "{} of {} pages accepted", got.len(), ids.len());
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        };
        // Latency: one incident at a time, its page awaited.
        let mut lat = Vec::new();
        for k in 0..latency_n {
            let (number, created) = create(client.clone(), k).await;
            let at = wait(vec![format!("<N-{number}-1@vigie>")]).await[0];
            lat.push((at.saturating_sub(created)) as f64 / 1e6);
        }
        // Fan-out: 1,000 at once, 8 clients.
        let t = Instant::now();
        let mut numbers = Vec::new();
        let mut tasks = Vec::new();
        for c in 0..8 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                for k in (c..fanout_n).step_by(8) {
                    out.push(create(client.clone(), latency_n + k).await.0);
                }
                out
            }));
        }
        for t in tasks {
            numbers.extend(t.await.unwrap());
        }
        wait(numbers.iter().map(|n| format!("<N-{n}-1@vigie>")).collect()).await;
        let fan = t.elapsed().as_secs_f64();
        let _ = stop.send(());
        let _ = server.await;
        (lat, fan)
    });
    let mut lat = lat;
    let (p50, p99) = (pct(&mut lat, 50), pct(&mut lat, 99));
    println!("vigie: incident created → page accepted by the SMTP server: p50 {p50:.1} ms, p99 {p99:.1} ms ({latency_n} incidents)");
    println!(
        "vigie: {fanout_n} incidents at once → {fanout_n} pages accepted in {fan:.2} s ({:.0} pages/s)",
        fanout_n as f64 / fan
    );

    let base = Command::new("/usr/bin/python3")
        .args([
            concat!(env!("CARGO_MANIFEST_DIR"), "/benches/notify_baseline.py"),
            &port.to_string(),
            &fanout_n.to_string(),
        ])
        .output()
        .expect("the baseline runs");
    let text = String::from_utf8_lossy(&base.stdout);
    let v: Vec<f64> = text.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    assert_eq!(v.len(), 3, "baseline: {text} {}", String::from_utf8_lossy(&base.stderr));
    println!(
        "baseline (Python smtplib straight to the same server, one connection per message): p50 {:.1} ms, p99 {:.1} ms; \
         {fanout_n} messages in {:.2} s",
        v[0], v[1], v[2]
    );
    println!(
        "ratios: latency p50 {:.2}× the bare SMTP send, p99 {:.2}×; fan-out {:.2}× the bare sends' time",
        p50 / v[0],
        p99 / v[1],
        fan / v[2]
    );
    let _ = child.kill();
    let _ = child.wait();
}
