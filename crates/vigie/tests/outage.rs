//! A PostgreSQL outage through the HTTP API, played for real: a TCP proxy between Vigie and the database is cut for
//! five seconds, then restored. While it is cut, writes answer 503 with `Retry-After` and a clear message, reads keep
//! working, `/health` says `degraded` and why, and no screen shows a state change the journal did not take; once it
//! is back, writes resume without a restart and nothing acknowledged is lost.

mod common;

#[path = "../../vigie-journal-postgres/src/test_proxy.rs"]
mod proxy;

use common::{registry, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

const TOC: &[(&str, &str)] = &[
    ("partners.csv", "id;name\nATOS;Atos\n"),
    ("applications.csv", "id;name;suite;criticality;partner_id;rollup\nODS-RES;Diffusion des résultats;ODS;critical;ATOS;worst\n"),
    ("checks.csv", "id;target;site_id;kind;interval_s;timeout_s;application_id;max_attempts\nODS-STA;ods-sta;STA;push;60;5;ODS-RES;1\n"),
];

fn upstream() -> std::net::SocketAddr {
    let url = std::env::var("VIGIE_TEST_POSTGRES").unwrap_or_else(|_| common::PG_DEFAULT.into());
    let rest = url.split('@').next_back().unwrap();
    let hostport = rest.split('/').next().unwrap();
    let hostport = if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:5432") };
    std::net::ToSocketAddrs::to_socket_addrs(&hostport).unwrap().next().unwrap()
}

async fn push(app: &TestApp, status: &str) -> reqwest::Response {
    let body = json!({"check": "ODS-STA", "status": status, "output": format!("{status} - test")});
    app.client_as("toc").post(app.url("/api/v1/monitoring/results")).json(&body).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_degrades_then_resumes_without_restart() {
    let proxy = proxy::Proxy::start(upstream());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(common::Backend::Postgres, dir.path().to_path_buf());
    let url = cfg.storage.database.clone();
    let user = url.split("://").nth(1).unwrap().split('@').next().unwrap().to_string();
    let db = url.rsplit('/').next().unwrap().to_string();
    cfg.storage.database = format!("postgres://{user}@{}/{db}", proxy.addr);
    let options = vigie_server::ServerOptions { active_checks: false, ..Default::default() };
    let app = TestApp::spawn_with_options(cfg, dir, options).await;
    let mut files = registry();
    files.extend(TOC.iter().copied());
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    assert_eq!(push(&app, "OK").await.status(), 200);
    let health = app.get_json("/health").await;
    assert_eq!(health["status"], "ok", "{health}");
    let before = health["last_seq"].as_u64().unwrap();

    proxy.cut();
    // A write: refused with 503, Retry-After and a clear message; nothing written.
    let entry = json!({"text": "relève pendant la coupure", "kind": "note"});
    let mut refused = None;
    for _ in 0..50 {
        let r = app.client_as("toc").post(app.url("/api/v1/log")).json(&entry).send().await.unwrap();
        if r.status() == 503 {
            refused = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = refused.expect("writes answer 503 while the database is out of reach");
    assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unavailable", "{body}");
    assert!(body["message"].as_str().unwrap().contains("nothing was written"), "{body}");
    // Health says degraded and why; reads keep working.
    let health = app.get_json("/health").await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(!health["degraded"]["reason"].as_str().unwrap().is_empty(), "{health}");
    assert_eq!(app.get_json("/api/v1/sites").await["total"], 3, "reads answer from memory");
    // A result that would change a hard state is refused, and no screen shows it.
    let r = push(&app, "CRITICAL").await;
    assert_eq!(r.status(), 503);
    let check = app.get_json("/api/v1/monitoring/checks/ODS-STA").await;
    assert_eq!((check["hard"].as_str(), check["shown"].as_str()), (Some("OK"), Some("OK")), "{check}");
    let state = app.get_json("/api/v1/monitoring/state").await;
    assert_eq!(state["counts"]["critical"], 0, "the journal did not take it: {state}");
    let incidents = app.get_json("/api/v1/incidents").await;
    assert!(incidents["incidents"].as_array().unwrap().is_empty(), "no incident from an unjournalled alert");
    tokio::time::sleep(Duration::from_secs(5)).await;

    proxy.restore();
    // Writes resume without a restart.
    let mut resumed = false;
    for _ in 0..100 {
        let r = app.client_as("toc").post(app.url("/api/v1/log")).json(&entry).send().await.unwrap();
        if r.status() == 200 {
            resumed = true;
            break;
        }
        assert_eq!(r.status(), 503, "until it is back, unavailable");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(resumed, "writes resumed once the database was back");
    assert_eq!(app.get_json("/health").await["status"], "ok");
    let r = push(&app, "CRITICAL").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["state_changes"], 1, "the change is taken now");
    // Nothing acknowledged was lost, nothing refused appeared: the journal holds the entry once, the change once.
    let ev = app.get_json(&format!("/api/v1/events?after={before}&limit=1000")).await;
    let kinds: Vec<&str> = ev["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "log.entry_added").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "check.state_changed").count(), 1, "{kinds:?}");
    let journal = app.journal().clone();
    app.stop().await;
    drop(journal);
}
