//! Active checks: `http` (status, body match, response time, TLS certificate expiry), `tcp` (connect time) and
//! `command` (Nagios-compatible plugins from the configured plugin directories, without a shell: `plugins.rs`; exit
//! code 0–3, `TEXT | perfdata`), run on a bounded pool of workers, each check
//! every `interval_s` with a random first delay (jitter) so that a thousand checks do not fire at once.
//! Their results go through the same path as pushed ones.

use super::live::Result1;
use super::now_ms;
use super::plugins::Plugins;
use crate::App;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};
use vigie_domain::health::Status;
use vigie_domain::toc::{Check, CheckKind};
use vigie_domain::Actor;

/// What a probe found.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub status: Status,
    /// `TEXT | perfdata`, as a plugin writes it.
    pub output: String,
}

fn probe(status: Status, output: impl Into<String>) -> Probe {
    Probe { status, output: output.into() }
}

/// Runs one check now.
pub async fn run_check(client: &reqwest::Client, plugins: &Plugins, check: &Check) -> Probe {
    let timeout = Duration::from_secs(check.timeout_s.max(1) as u64);
    match check.kind {
        CheckKind::Tcp => tcp(&check.target, timeout).await,
        CheckKind::Http => http(client, &check.target, &check.expect, timeout).await,
        CheckKind::Command => plugins.run(check.id.as_str(), &check.target, timeout).await,
        CheckKind::Push => probe(Status::Unknown, "push checks are not run"),
    }
}

async fn tcp(target: &str, timeout: Duration) -> Probe {
    let started = Instant::now();
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(target)).await {
        Ok(Ok(_)) => {
            let s = started.elapsed().as_secs_f64();
            probe(Status::Ok, format!("TCP OK - {s:.3} second response time on {target} | time={s:.6}s;;;0.000000"))
        }
        Ok(Err(e)) => probe(Status::Critical, format!("TCP CRITICAL - {target}: {e}")),
        Err(_) => {
            probe(Status::Critical, format!("TCP CRITICAL - no answer from {target} within {}s", timeout.as_secs()))
        }
    }
}

/// `expect`: an expected status code, `cert:W[,C]` (the TLS certificate must stay valid more than W days, WARNING,
/// and C days, CRITICAL), and/or `~text` the body must contain, last (`200`, `200 cert:30,14 ~OK`, `~Welcome`).
async fn http(client: &reqwest::Client, url: &str, expect: &str, timeout: Duration) -> Probe {
    let mut code: Option<u16> = None;
    let mut needle: Option<&str> = None;
    let mut cert_days: Option<(i64, i64)> = None;
    for part in expect.split('~').next().unwrap_or("").split_whitespace() {
        if let Some(days) = part.strip_prefix("cert:") {
            let mut d = days.split(',').filter_map(|x| x.trim().parse::<i64>().ok());
            let w = d.next().unwrap_or(30);
            cert_days = Some((w, d.next().unwrap_or(0)));
        } else {
            code = part.parse().ok();
        }
    }
    // A needle with spaces: everything after the first `~`.
    if let Some(i) = expect.find('~') {
        needle = Some(expect[i + 1..].trim());
    }
    let started = Instant::now();
    let resp = match client.get(url).timeout(timeout).send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return probe(
                Status::Critical,
                format!("HTTP CRITICAL - no answer within {}s from {url}", timeout.as_secs()),
            )
        }
        Err(e) => return probe(Status::Critical, format!("HTTP CRITICAL - {url}: {}", error_chain(&e))),
    };
    let status = resp.status();
    // Days the peer's certificate stays valid (https only).
    let cert = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|t| t.peer_certificate())
        .and_then(vigie_monitor::x509::not_after)
        .map(|t| (t, (t - now_ms() / 1000).div_euclid(86_400)));
    let body = match resp.text().await {
        Ok(b) => b,
        Err(e) => return probe(Status::Critical, format!("HTTP CRITICAL - reading the body of {url}: {e}")),
    };
    let s = started.elapsed().as_secs_f64();
    let mut perf = format!("time={s:.6}s;;;0.000000 size={}B;;;0", body.len());
    let mut line = format!("HTTP/1.1 {status} - {} bytes in {s:.3} second response time", body.len());
    if let Some((until, days)) = cert {
        let date =
            chrono::DateTime::from_timestamp(until, 0).map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string());
        line += &format!(" - certificate valid until {date} ({days} days)");
        let (w, c) = cert_days.map_or((String::new(), String::new()), |(w, c)| (w.to_string(), c.to_string()));
        perf += &format!(" cert_days={days};{w};{c};0");
    }
    let code_ok = match code {
        Some(c) => status.as_u16() == c,
        None => !(status.is_client_error() || status.is_server_error()),
    };
    if !code_ok {
        let want = code.map_or("not 4xx or 5xx".to_string(), |c| c.to_string());
        return probe(Status::Critical, format!("HTTP CRITICAL: {line} (expected {want}) | {perf}"));
    }
    if let Some(n) = needle.filter(|n| !n.is_empty()) {
        if !body.contains(n) {
            return probe(Status::Critical, format!("HTTP CRITICAL: {line} - string '{n}' not found | {perf}"));
        }
    }
    if let Some((warn, crit)) = cert_days {
        match cert {
            None => {
                return probe(Status::Critical, format!("HTTP CRITICAL: {line} - no TLS certificate to check | {perf}"))
            }
            Some((_, days)) if days < crit => {
                return probe(Status::Critical, format!("HTTP CRITICAL: {line} - certificate expires soon | {perf}"))
            }
            Some((_, days)) if days < warn => {
                return probe(Status::Warning, format!("HTTP WARNING: {line} - certificate expires soon | {perf}"))
            }
            _ => {}
        }
    }
    probe(Status::Ok, format!("HTTP OK: {line} | {perf}"))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// An output kept as a pushed one is: its first [`super::MAX_OUTPUT`] bytes.
fn bounded(mut output: String) -> String {
    if output.len() > super::MAX_OUTPUT {
        let mut cut = super::MAX_OUTPUT;
        while !output.is_char_boundary(cut) {
            cut -= 1;
        }
        output.truncate(cut);
    }
    output
}

/// A small deterministic jitter source (no need for a random crate).
fn jitter(seed: &mut u64, below_ms: u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    if below_ms == 0 {
        0
    } else {
        *seed % below_ms
    }
}

/// The HTTP client of the checks: TLS with the bundled web roots plus the operator's own CAs (PEM), and the peer
/// certificate kept for its expiry.
pub fn client(extra_roots_pem: Option<&[u8]>) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().user_agent(concat!("vigie/", env!("CARGO_PKG_VERSION"))).tls_info(true);
    if let Some(pem) = extra_roots_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("the CA file: {e}"))?;
        if certs.is_empty() {
            return Err("the CA file holds no certificate".into());
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    b.build().map_err(|e| e.to_string())
}

/// Runs every active check on schedule until shutdown, at most `workers` at a time.
pub async fn run(app: App, workers: usize, extra_roots_pem: Option<Vec<u8>>, plugins: Plugins) {
    let plugins = Arc::new(plugins);
    let client = client(extra_roots_pem.as_deref());
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "active checks not started: no HTTP client");
            return;
        }
    };
    let pool = Arc::new(Semaphore::new(workers.max(1)));
    let (tx, mut rx) = mpsc::channel::<(String, Probe, i64)>(4096);
    // Results are taken in batches, like pushed ones.
    let collector = {
        let app = app.clone();
        tokio::spawn(async move {
            let caller = vigie_app::Caller::internal(Actor::system("active-checks"), "active-checks");
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = rx.try_recv() {
                    batch.push(more);
                    if batch.len() >= 1000 {
                        break;
                    }
                }
                let live = app.live.clone();
                let c = caller.clone();
                let taken = app
                    .blocking(move |j| {
                        Ok(vigie_app::monitoring::ingest(&j, &live, &c, |g| {
                            Ok(batch
                                .into_iter()
                                .filter_map(|(id, p, at)| {
                                    g.estate.slot(&id).map(|slot| Result1 {
                                        slot,
                                        status: p.status,
                                        output: bounded(p.output),
                                        at,
                                        alert: false,
                                    })
                                })
                                .collect())
                        })?)
                    })
                    .await;
                if let Err(e) = taken {
                    tracing::warn!(error = %e, "active checks: state changes not journalled");
                }
            }
        })
    };
    let mut shutdown = app.shutdown.clone();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64 ^ now_ms() as u64;
    let mut version = u64::MAX;
    let mut checks: HashMap<String, Arc<Check>> = HashMap::new();
    let mut due: BinaryHeap<Reverse<(i64, String)>> = BinaryHeap::new();
    loop {
        // Follow the registry: new checks start after a jitter within their interval, removed ones stop.
        let v = app.journal.state().toc.version;
        if v != version {
            version = v;
            let st = app.journal.state();
            let now = now_ms();
            let fresh: HashMap<String, Arc<Check>> = st
                .toc
                .checks
                .values()
                .filter(|c| c.value.kind != CheckKind::Push)
                .map(|c| (c.value.id.to_string(), Arc::new(c.value.clone())))
                .collect();
            for (id, c) in &fresh {
                if !checks.contains_key(id) {
                    let first = now + jitter(&mut seed, c.interval_s as u64 * 1000) as i64;
                    due.push(Reverse((first, id.clone())));
                }
            }
            checks = fresh;
        }
        let now = now_ms();
        // In a cluster only the leader runs the checks (it owns the live estate); a follower's turn comes if it
        // takes over.
        let leads = app.journal.role().writes();
        while leads && due.peek().is_some_and(|Reverse((t, _))| *t <= now) {
            let Reverse((t, id)) = due.pop().expect("peeked");
            let Some(check) = checks.get(&id).cloned() else { continue }; // removed
            let next = (t + check.interval_s as i64 * 1000).max(now);
            due.push(Reverse((next, id.clone())));
            let Ok(permit) = pool.clone().acquire_owned().await else { return };
            let (client, tx, live, plugins) = (client.clone(), tx.clone(), app.live.clone(), plugins.clone());
            live.counters.active_running.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let p = run_check(&client, &plugins, &check).await;
                live.counters.active_running.fetch_sub(1, Ordering::Relaxed);
                live.counters.active_runs.fetch_add(1, Ordering::Relaxed);
                drop(permit);
                let _ = tx.send((id, p, now_ms())).await;
            });
        }
        let wait = due.peek().map_or(1000, |Reverse((t, _))| (t - now_ms()).clamp(1, 1000)) as u64;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    drop(tx);
    collector.abort();
}
