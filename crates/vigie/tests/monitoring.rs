//! The TOC over HTTP, black-box: pushed results (Vigie's and Icinga's fields), the SSE stream of changes,
//! dependencies, acknowledgements, maintenance, staleness, Alertmanager webhooks, `/metrics`, and active checks
//! against a real HTTP server, a real TCP listener and real Nagios plugins (Debian `monitoring-plugins`).

mod common;

use common::{read_sse, registry, Backend, TestApp};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const PARTNERS: &str = "id;name\nATOS;Atos\n";
const APPLICATIONS: &str =
    "id;name;suite;criticality;partner_id;rollup\nODS-RES;Diffusion des résultats;ODS;critical;ATOS;worst\n";
const ASSETS: &str = "id;name;kind;site_id\nSTA-SW;Commutateur;network;STA\n";
const CHECKS: &str = "id;target;site_id;kind;interval_s;timeout_s;asset_id;application_id;max_attempts;ttl_s;labels\n\
    UPLINK;sta-uplink;STA;push;60;5;STA-SW;;1;;\n\
    PC-1;pc-1;STA;push;60;5;;ODS-RES;1;;alertname=HostDown,instance=pc-1\n\
    PC-2;pc-2;STA;push;60;5;;ODS-RES;2;;\n\
    BEAT;heartbeat;MRS;push;1;5;;;1;1;\n";
const DEPENDENCIES: &str = "child_id;parent_id\nPC-1;UPLINK\nPC-2;STA-SW\n";

fn toc() -> Vec<(&'static str, &'static str)> {
    let mut f = registry();
    f.extend([
        ("partners.csv", PARTNERS),
        ("applications.csv", APPLICATIONS),
        ("assets.csv", ASSETS),
        ("checks.csv", CHECKS),
        ("dependencies.csv", DEPENDENCIES),
    ]);
    f
}

async fn spawn(active: bool) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    // The tests run as root (CI does): plugins may run so here; `tests/plugins.rs` shows the refusal.
    let options = vigie_server::ServerOptions { active_checks: active, allow_root_plugins: true, ..Default::default() };
    TestApp::spawn_with_options(cfg, dir, options).await
}

async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.client_as("toc").post(app.url(path)).json(&body).send().await.unwrap()
}

async fn check(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/v1/monitoring/checks/{id}")).await
}

/// Parses the Prometheus text format: `name{labels} value` per sample; checks the HELP/TYPE lines.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    let mut typed = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, kind) = (it.next().unwrap(), it.next().unwrap());
            assert!(["gauge", "counter"].contains(&kind), "{line}");
            typed.insert(name.to_string());
        } else if line.starts_with("# HELP ") || line.is_empty() {
        } else {
            let (key, value) = line.rsplit_once(' ').expect("name value");
            let name = key.split('{').next().unwrap();
            assert!(typed.contains(name), "sample {name} without a TYPE line");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "bad name {name}");
            samples.insert(key.to_string(), value.parse::<f64>().expect("a number"));
        }
    }
    samples
}

#[tokio::test]
async fn pushed_results_move_states_stream_them_and_journal_the_hard_changes() {
    let app = spawn(false).await;
    assert_eq!(app.import(&toc(), "", None).await.status(), 200);
    let stream = app.client.get(app.url("/api/v1/monitoring/stream?site=STA")).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");

    // PC-1 fails (one attempt is enough), then its uplink: PC-1 turns from red to unreachable, cause UPLINK.
    let r = post(
        &app,
        "/api/v1/monitoring/results",
        json!({"check": "PC-1", "status": "CRITICAL", "output": "ping perdu"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"accepted": 1, "state_changes": 1}));
    // Icinga's fields, in a batch.
    let r = post(
        &app,
        "/api/v1/monitoring/results",
        json!({"results": [{"check_id": "UPLINK", "exit_status": 2, "plugin_output": "CRITICAL - lien coupé",
                            "performance_data": ["rta=0ms;100;200;0", "pl=100%;20;60;0;100"]}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let events = read_sse(stream, 3).await;
    let seen: Vec<(String, String, String)> = events
        .iter()
        .map(|(_, ev, d)| (ev.clone(), d["check_id"].as_str().unwrap().into(), d["to"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        seen,
        [
            ("state".into(), "PC-1".into(), "CRITICAL".into()),
            ("state".into(), "UPLINK".into(), "CRITICAL".into()),
            ("state".into(), "PC-1".into(), "UNREACHABLE".into()),
        ]
    );
    assert_eq!(events[2].2["cause"], "UPLINK");
    assert_eq!(events[0].2["suite"], "ODS");
    let up = check(&app, "UPLINK").await;
    assert_eq!(up["plugin"]["summary"], "CRITICAL - lien coupé");
    assert_eq!(up["plugin"]["perfdata"][1]["label"], "pl");
    assert_eq!(up["plugin"]["perfdata"][1]["max"], 100.0);
    assert_eq!(up["history"][0]["to"], "CRITICAL");

    // Soft then hard: PC-2 needs two results in a row.
    post(&app, "/api/v1/monitoring/results", json!([{"check": "PC-2", "status": 1}])).await;
    assert_eq!(check(&app, "PC-2").await["state_type"], "soft");
    assert_eq!(check(&app, "PC-2").await["shown"], "OK");
    post(&app, "/api/v1/monitoring/results", json!([{"check": "PC-2", "status": "warning"}])).await;
    let pc2 = check(&app, "PC-2").await;
    assert_eq!((pc2["hard"].as_str(), pc2["shown"].as_str()), (Some("WARNING"), Some("UNREACHABLE")));
    assert_eq!(pc2["cause"], "UPLINK", "its parent is the switch asset, whose check is the failed uplink");

    // A bad batch is refused whole.
    let before = app.get_json("/api/v1/monitoring/state").await["counts"].clone();
    let r = post(
        &app,
        "/api/v1/monitoring/results",
        json!([{"check": "PC-2", "status": "OK"}, {"check": "GHOST", "status": "OK"}, {"check": "PC-2", "status": "BAD"}]),
    )
    .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["lines"][0], "results[1]: unknown check \"GHOST\"", "each problem located: {body}");
    assert_eq!(body["problems"][1]["file"], "results[2]");
    assert!(body["problems"][1]["message"].as_str().unwrap().starts_with("expected `status`"));
    assert_eq!(app.get_json("/api/v1/monitoring/state").await["counts"], before, "nothing was taken");
    let raw = |kind: &'static str| {
        let r = app.client.post(app.url("/api/v1/monitoring/results")).header("content-type", kind).body("nope");
        async move { r.send().await.unwrap().status() }
    };
    assert_eq!(raw("application/json").await, 400, "not JSON");
    assert_eq!(raw("text/plain").await, 415, "a JSON route takes JSON only");

    // Roll-ups and the journal.
    let state = app.get_json("/api/v1/monitoring/state").await;
    assert_eq!(state["counts"]["critical"], 1);
    assert_eq!(state["counts"]["unreachable"], 2);
    let sta = state["sites"].as_array().unwrap().iter().find(|s| s["id"] == "STA").unwrap().clone();
    assert_eq!(sta["state"], "CRITICAL");
    assert!(sta["since"].is_string(), "a red site says since when: {sta}");
    assert_eq!(state["suites"][0]["id"], "ODS");
    assert_eq!(state["suites"][0]["state"], "UNREACHABLE", "both of its checks are behind the failed uplink");
    let history = app.get_json("/api/v1/monitoring/history?site=STA").await;
    let changes = history["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "PC-1, UPLINK, PC-2: hard changes only");
    let events = app.get_json("/api/v1/events?after=0&limit=1000").await;
    let journalled: Vec<&Value> =
        events["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "check.state_changed").collect();
    assert_eq!(journalled.len(), 3);
    assert!(journalled.iter().all(|e| e["actor"].as_str().unwrap().starts_with("user:toc/token:")));

    // Acknowledgement of a hard problem only.
    let ack = |id: &'static str| {
        let app = &app;
        async move { post(app, &format!("/api/v1/monitoring/checks/{id}/ack"), json!({"comment": "pris en compte"})).await }
    };
    assert_eq!(ack("UPLINK").await.status(), 200);
    let up = check(&app, "UPLINK").await;
    assert_eq!(up["acknowledged"], true);
    assert_eq!(up["acknowledgement"]["comment"], "pris en compte");
    assert!(up["acknowledgement"]["by"].as_str().unwrap().starts_with("user:toc"), "who: {up}");
    assert_eq!(ack("BEAT").await.status(), 409);
    assert_eq!(ack("GHOST").await.status(), 404);

    // Metrics.
    let text = app.get("/metrics").await;
    assert_eq!(text.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let m = parse_metrics(&text.text().await.unwrap());
    assert_eq!(m["vigie_checks{state=\"critical\"}"], 1.0);
    assert_eq!(m["vigie_checks{state=\"unreachable\"}"], 2.0);
    assert_eq!(m["vigie_checks_supervised"], 4.0, "a gauge does not end in _total");
    assert_eq!(m["vigie_results_total"], 4.0);
    assert_eq!(m["vigie_state_changes_total"], 3.0);
    app.stop().await;
}

/// A venue's outage shows at the venue: an application whose checks elsewhere are fine is not coloured by the checks
/// the outage makes unreachable, nor is its suite.
#[tokio::test]
async fn a_venue_outage_shows_at_the_venue_not_on_the_suites_it_hosts() {
    let app = spawn(false).await;
    let mut files = registry();
    files.extend([
        ("partners.csv", PARTNERS),
        ("applications.csv", APPLICATIONS),
        (
            "checks.csv",
            "id;target;site_id;kind;interval_s;timeout_s;application_id;max_attempts\n\
             UPLINK;sta-uplink;STA;push;60;5;;1\nPC-1;pc-1;STA;push;60;5;ODS-RES;1\nPC-2;pc-2;MRS;push;60;5;ODS-RES;1\n",
        ),
        ("dependencies.csv", "child_id;parent_id\nPC-1;UPLINK\n"),
    ]);
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let results = json!([{"check": "PC-1", "status": "CRITICAL"}, {"check": "UPLINK", "status": "CRITICAL"},
                         {"check": "PC-2", "status": "OK"}]);
    assert_eq!(post(&app, "/api/v1/monitoring/results", results).await.status(), 200);
    assert_eq!(check(&app, "PC-1").await["shown"], "UNREACHABLE");
    let state = app.get_json("/api/v1/monitoring/state").await;
    let find =
        |k: &str, id: &str| state[k].as_array().unwrap().iter().find(|g| g["id"] == id).unwrap()["state"].clone();
    assert_eq!(find("sites", "STA"), "CRITICAL", "the venue shows its outage");
    assert_eq!(find("applications", "ODS-RES"), "OK", "fine everywhere else");
    assert_eq!(find("suites", "ODS"), "OK");
    app.stop().await;
}

#[tokio::test]
async fn a_push_check_without_results_goes_unknown_and_states_survive_a_restart() {
    let app = spawn(false).await;
    app.import(&toc(), "", None).await;
    post(&app, "/api/v1/monitoring/results", json!({"check": "BEAT", "status": "OK"})).await;
    post(&app, "/api/v1/monitoring/results", json!({"check": "UPLINK", "status": "CRITICAL"})).await;
    // BEAT has a TTL of 1 s: the tick (every second) makes it UNKNOWN.
    let mut shown = Value::Null;
    for _ in 0..50 {
        shown = check(&app, "BEAT").await["shown"].clone();
        if shown == "UNKNOWN" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown, "UNKNOWN");
    assert_eq!(check(&app, "BEAT").await["stale"], true);
    let (cfg, dir) = app.stop().await;
    let app = TestApp::spawn_with_options(
        cfg,
        dir,
        vigie_server::ServerOptions { active_checks: false, ..Default::default() },
    )
    .await;
    assert_eq!(check(&app, "UPLINK").await["hard"], "CRITICAL", "rebuilt from the journal");
    assert_eq!(check(&app, "PC-1").await["shown"], "OK");
    app.stop().await;
}

#[tokio::test]
async fn maintenance_mutes_but_records_failures() {
    let app = spawn(false).await;
    app.import(&toc(), "", None).await;
    let now = chrono::Utc::now();
    let window = json!({"id": "MAINT-STA", "scope": {"by": "site", "id": "STA"},
        "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1),
        "reason": "bascule électrique"});
    assert_eq!(post(&app, "/api/v1/monitoring/maintenance", window).await.status(), 200);
    assert_eq!(check(&app, "PC-1").await["shown"], "MAINTENANCE");
    let r = post(&app, "/api/v1/monitoring/results", json!({"check": "PC-1", "status": "CRITICAL"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["state_changes"], 1, "recorded");
    assert_eq!(check(&app, "PC-1").await["shown"], "MAINTENANCE", "muted");
    let h = app.get_json("/api/v1/monitoring/history?check=PC-1").await;
    assert_eq!(h["changes"][0]["change"]["during_maintenance"], true, "failed during maintenance");
    let bad = json!({"id": "X", "scope": {"by": "site", "id": "NOWHERE"}, "starts_at": now, "ends_at": now + chrono::Duration::hours(1)});
    assert_eq!(post(&app, "/api/v1/monitoring/maintenance", bad).await.status(), 404);
    let backwards = json!({"id": "X", "scope": {"by": "tag", "id": "t"}, "starts_at": now, "ends_at": now});
    assert_eq!(post(&app, "/api/v1/monitoring/maintenance", backwards).await.status(), 422);
    let r = app.client.delete(app.url("/api/v1/monitoring/maintenance/MAINT-STA")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(check(&app, "PC-1").await["shown"], "CRITICAL", "the failure shows when the window ends");
    app.stop().await;
}

/// An Alertmanager v4 webhook, as Alertmanager posts it: firing, then resolved.
#[tokio::test]
async fn alertmanager_webhooks_drive_the_checks_they_match() {
    let app = spawn(false).await;
    app.import(&toc(), "", None).await;
    let payload = |status: &str| {
        json!({
            "version": "4", "groupKey": "{}:{alertname=\"HostDown\"}", "truncatedAlerts": 0, "status": status,
            "receiver": "vigie", "groupLabels": {"alertname": "HostDown"},
            "commonLabels": {"alertname": "HostDown"}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "alerts": [
                {"status": status, "labels": {"alertname": "HostDown", "instance": "pc-1", "severity": "critical"},
                 "annotations": {"summary": "pc-1 ne répond plus"}, "startsAt": "2024-07-26T17:00:00Z",
                 "endsAt": if status == "resolved" { "2024-07-26T17:05:00Z" } else { "0001-01-01T00:00:00Z" },
                 "generatorURL": "http://prometheus:9090", "fingerprint": "a1"},
                {"status": status, "labels": {"alertname": "Other", "instance": "x"}, "annotations": {},
                 "startsAt": "2024-07-26T17:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
                 "fingerprint": "b2"}
            ]
        })
    };
    let r = post(&app, "/api/v1/monitoring/alertmanager", payload("firing")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"alerts": 2, "checks": 1, "unmatched_alerts": 1, "state_changes": 1})
    );
    let pc = check(&app, "PC-1").await;
    assert_eq!(
        (pc["shown"].as_str(), pc["output"].as_str()),
        (Some("CRITICAL"), Some("[Alertmanager firing] pc-1 ne répond plus"))
    );
    post(&app, "/api/v1/monitoring/alertmanager", payload("resolved")).await;
    assert_eq!(check(&app, "PC-1").await["shown"], "OK");
    let mut v3 = payload("firing");
    v3["version"] = json!("3");
    assert_eq!(post(&app, "/api/v1/monitoring/alertmanager", v3).await.status(), 400);
    let m = parse_metrics(&app.get("/metrics").await.text().await.unwrap());
    assert_eq!((m["vigie_alerts_total"], m["vigie_alerts_unmatched_total"]), (4.0, 2.0));
    app.stop().await;
}

const PLUGINS: &str = "/usr/lib/nagios/plugins";

/// Active checks against real things: an HTTP server (status and body), a TCP listener, and the Debian
/// `monitoring-plugins` (`check_dummy`, `check_tcp`) run as command checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_checks_probe_real_servers_and_run_real_plugins() {
    assert!(
        std::path::Path::new(&format!("{PLUGINS}/check_dummy")).exists(),
        "the Debian package monitoring-plugins-basic is needed (bash .ci/run installs it)"
    );
    // A web server with a healthy page and a failing one, and a TCP listener.
    let web = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let web_addr = web.local_addr().unwrap();
    let router = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "Bienvenue au CTO" }))
        .route("/broken", axum::routing::get(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "panne") }));
    tokio::spawn(async move { axum::serve(web, router).await.unwrap() });
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tcp_addr = tcp.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let _ = tcp.accept().await;
        }
    });
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }; // dropped: nothing listens there
    let checks = format!(
        "id;target;site_id;kind;interval_s;timeout_s;max_attempts;expect\n\
         WEB-OK;http://{web_addr}/health;STA;http;1;5;1;200 ~Bienvenue\n\
         WEB-TEXT;http://{web_addr}/health;STA;http;1;5;1;~Absent\n\
         WEB-500;http://{web_addr}/broken;STA;http;1;5;1;\n\
         TCP-OK;{tcp_addr};STA;tcp;1;5;1;\n\
         TCP-KO;{closed};STA;tcp;1;2;1;\n\
         DUMMY-W;{PLUGINS}/check_dummy 1 'signal faible';STA;command;1;5;1;\n\
         PLUGIN-TCP;{PLUGINS}/check_tcp -H 127.0.0.1 -p {};STA;command;1;5;1;\n",
        tcp_addr.port()
    );
    let app = spawn(true).await;
    let mut files = registry();
    files.push(("checks.csv", Box::leak(checks.into_boxed_str())));
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let expect = [
        ("WEB-OK", "OK"),
        ("WEB-TEXT", "CRITICAL"),
        ("WEB-500", "CRITICAL"),
        ("TCP-OK", "OK"),
        ("TCP-KO", "CRITICAL"),
        ("DUMMY-W", "WARNING"),
        ("PLUGIN-TCP", "OK"),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut all = true;
        for (id, want) in expect {
            let c = check(&app, id).await;
            all &= c["last_result"] != Value::Null && c["hard"] == want;
        }
        if all {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "active checks did not settle: {:?}", {
            let mut v = Vec::new();
            for (id, _) in expect {
                let c = check(&app, id).await;
                v.push(format!("{id}: {} {}", c["hard"], c["output"]));
            }
            v
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let dummy = check(&app, "DUMMY-W").await;
    assert_eq!(dummy["output"], "WARNING: signal faible");
    let plugin = check(&app, "PLUGIN-TCP").await;
    assert!(plugin["output"].as_str().unwrap().starts_with("TCP OK"), "{plugin}");
    assert_eq!(plugin["plugin"]["perfdata"][0]["label"], "time", "perfdata parsed from the real plugin");
    assert_eq!(plugin["plugin"]["perfdata"][0]["uom"], "s");
    let web = check(&app, "WEB-TEXT").await;
    assert!(web["output"].as_str().unwrap().contains("string 'Absent' not found"), "{web}");
    let m = parse_metrics(&app.get("/metrics").await.text().await.unwrap());
    assert!(m["vigie_active_checks_runs_total"] >= 7.0);
    app.stop().await;
}

/// The TLS expiry of an http check, against a real TLS server (`openssl s_server`) whose certificate, signed by a
/// test CA given in the configuration, expires in 10 days.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_checks_report_the_tls_certificate_expiry() {
    let pki = tempfile::tempdir().unwrap();
    let d = pki.path();
    common::test_pki(d, 10);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = tokio::process::Command::new("openssl")
        .args([
            "s_server",
            "-cert",
            "leaf.pem",
            "-key",
            "leaf.key",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-www",
            "-quiet",
        ])
        .current_dir(d)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("openssl s_server starts");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions {
        check_ca_pem: Some(std::fs::read(d.join("ca.pem")).unwrap()),
        ..Default::default()
    };
    let app = TestApp::spawn_with_options(cfg, dir, options).await;
    let checks = format!(
        "id;target;site_id;kind;interval_s;timeout_s;max_attempts;expect\n\
         TLS-WARN;https://127.0.0.1:{port}/;STA;http;1;5;1;cert:30,5\n\
         TLS-OK;https://127.0.0.1:{port}/;STA;http;1;5;1;200 cert:7,3\n"
    );
    let mut files = registry();
    files.push(("checks.csv", Box::leak(checks.into_boxed_str())));
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (warn, ok) = loop {
        let (w, o) = (check(&app, "TLS-WARN").await, check(&app, "TLS-OK").await);
        if w["last_result"] != Value::Null && o["last_result"] != Value::Null {
            break (w, o);
        }
        assert!(tokio::time::Instant::now() < deadline, "no TLS results: {w} {o}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(warn["hard"], "WARNING", "{warn}");
    assert!(warn["output"].as_str().unwrap().contains("certificate expires soon"), "{warn}");
    assert_eq!(ok["hard"], "OK", "{ok}");
    let perf = &ok["plugin"]["perfdata"];
    let days = perf.as_array().unwrap().iter().find(|p| p["label"] == "cert_days").expect("cert_days perfdata");
    assert!((9.0..=10.0).contains(&days["value"].as_f64().unwrap()), "{days}");
    assert_eq!((days["warn"].as_str(), days["crit"].as_str()), (Some("7"), Some("3")));
    let _ = server.kill().await;
    app.stop().await;
}

/// Alerts of a critical application open one incident per site and application; a storm attaches to it; an
/// unreachable check or a failure in maintenance opens none; recoveries note it and propose the resolution.
#[tokio::test]
async fn alerts_of_critical_applications_open_one_incident_per_site_and_application() {
    let app = spawn(false).await;
    app.import(&toc(), "", None).await;
    let push = |check: &'static str, status: &'static str| {
        let app = &app;
        async move {
            let r = post(
                app,
                "/api/v1/monitoring/results",
                json!({"check": check, "status": status, "output": "HTTP 500"}),
            )
            .await;
            assert_eq!(r.status(), 200);
        }
    };
    let incidents = || {
        let app = &app;
        async move { app.get_json("/api/v1/incidents?status=all").await["incidents"].as_array().unwrap().clone() }
    };
    // Behind a failed uplink: unreachable, no incident (the uplink serves no application).
    push("UPLINK", "CRITICAL").await;
    push("PC-1", "CRITICAL").await;
    assert!(incidents().await.is_empty(), "an unreachable check opens nothing");
    // The uplink comes back but PC-1 still fails: now its own failure shows, and opens the incident.
    push("UPLINK", "OK").await;
    let list = incidents().await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["incident"]["alerts"], json!(["PC-1"]));
    push("PC-1", "OK").await;
    // The storm: PC-1 then PC-2 (two attempts) of ODS-RES at STA: the same incident, still open.
    push("PC-1", "CRITICAL").await;
    push("PC-2", "CRITICAL").await;
    push("PC-2", "CRITICAL").await;
    let list = incidents().await;
    assert_eq!(list.len(), 1, "{list:?}");
    let i = &list[0]["incident"];
    assert_eq!(i["number"], "INC0000001");
    assert_eq!(i["correlation_id"], "STA|ODS-RES");
    assert_eq!(i["alerts"], json!(["PC-1", "PC-2"]));
    assert_eq!((i["priority"].as_u64(), i["assignment_group"].as_str()), (Some(1), Some("ATOS")));
    assert_eq!(i["short_description"], "Diffusion des résultats en erreur – Stade de France");
    // Recoveries.
    push("PC-1", "OK").await;
    push("PC-2", "OK").await;
    let i = incidents().await[0]["incident"].clone();
    let notes: Vec<&str> = i["work_notes"].as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap()).collect();
    assert_eq!(notes.len(), 6, "{notes:?}");
    assert!(notes[1].ends_with("résolution proposée."), "PC-1 back, the only alert: {notes:?}");
    assert_eq!(notes[4], "PC-1 rétabli.");
    assert!(notes[5].ends_with("résolution proposée."), "{notes:?}");
    assert_eq!(i["state"], 1, "people resolve, with a close code");
    // In maintenance: recorded, no incident.
    let now = chrono::Utc::now();
    let window = json!({"id": "M", "scope": {"by": "site", "id": "STA"}, "starts_at": now - chrono::Duration::minutes(1),
                        "ends_at": now + chrono::Duration::hours(1)});
    assert_eq!(post(&app, "/api/v1/monitoring/maintenance", window).await.status(), 200);
    let before = incidents().await[0]["incident"]["work_notes"].as_array().unwrap().len();
    push("PC-1", "CRITICAL").await;
    let after = incidents().await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["incident"]["work_notes"].as_array().unwrap().len(), before, "nothing attached in maintenance");
    let events = app.get_json("/api/v1/events?after=0&limit=1000").await;
    assert!(events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "incident.recorded")
        .all(|e| e["actor"] == "system:supervision"));
    app.stop().await;
}

/// A partner sees the checks of the applications it supports, and only their changes on the live stream.
#[tokio::test]
async fn a_partner_sees_its_applications_checks_only() {
    let app = spawn(false).await;
    assert_eq!(app.import(&toc(), "", None).await.status(), 200);
    let atos = app.client_as("atos");
    let stream = atos.get(app.url("/api/v1/monitoring/stream")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let reader = tokio::spawn(read_sse(stream, 1));
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Changes of checks that are not Atos's first, then one of its application's.
    for (check, status) in [("UPLINK", "CRITICAL"), ("BEAT", "CRITICAL"), ("PC-2", "WARNING"), ("PC-2", "WARNING")] {
        let r = post(&app, "/api/v1/monitoring/results", json!({"check": check, "status": status})).await;
        assert_eq!(r.status(), 200);
    }
    let got = reader.await.unwrap();
    assert_eq!((got[0].1.as_str(), got[0].2["check_id"].as_str()), ("state", Some("PC-2")), "{got:?}");
    let list: Value = atos.get(app.url("/api/v1/monitoring/checks")).send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = list["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["PC-1", "PC-2"]);
    assert_eq!(atos.get(app.url("/api/v1/monitoring/checks/UPLINK")).send().await.unwrap().status(), 403);
    let history: Value = atos.get(app.url("/api/v1/monitoring/history")).send().await.unwrap().json().await.unwrap();
    let changes = history["changes"].as_array().unwrap();
    assert!(!changes.is_empty() && changes.iter().all(|c| c["change"]["check_id"] == "PC-2"), "{history}");
    // Its pushes are refused: monitoring writes are the TOC's.
    let r = atos.post(app.url("/api/v1/monitoring/results")).json(&json!({"check": "PC-1", "status": "OK"}));
    assert_eq!(r.send().await.unwrap().status(), 403);
    app.stop().await;
}
