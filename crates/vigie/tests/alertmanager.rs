//! The real Alertmanager (Debian `prometheus-alertmanager`) posting to Vigie: an alert is state. A firing alert
//! turns its check and its venue red at the first notification (not after three attempts), keeps them red past the
//! check's TTL while Alertmanager stays silent until its repeat interval, and the resolved notification turns them
//! green. The test fails, saying how to install it, when Alertmanager is missing: it never skips.

mod common;

use common::{registry, Backend, TestApp};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// A push check fed every 2 s (TTL 6 s), three attempts before a problem is hard, selected by three labels.
const TOC: &[(&str, &str)] = &[
    ("partners.csv", "id;name\nATOS;Atos\n"),
    (
        "applications.csv",
        "id;name;suite;criticality;partner_id;rollup\nODS-RES;Diffusion des résultats;ODS;critical;ATOS;worst\n",
    ),
    (
        "checks.csv",
        "id;target;site_id;kind;interval_s;timeout_s;asset_id;application_id;max_attempts;labels\n\
         APP-ODS-RES@STA;ods-res.sta;STA;push;2;5;;ODS-RES;3;\"alertname=AppDown,application=ODS-RES,site=STA\"\n",
    ),
];

/// Alertmanager, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts Alertmanager with one route to Vigie: group wait 1 s, repeat interval 4 h (so nothing is repeated
/// during the test), the agent token as the webhook's bearer credential.
fn start_alertmanager(dir: &std::path::Path, vigie: &str, token: &str) -> (Running, String) {
    assert!(
        std::path::Path::new(ALERTMANAGER).is_file(),
        "{ALERTMANAGER} is missing: run `bash scripts/test.sh`, which installs it, or apt-get install \
         prometheus-alertmanager"
    );
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: vigie\n  group_by: [alertname, site]\n  group_wait: 1s\n  group_interval: 1s\n  \
             repeat_interval: 4h\nreceivers:\n  - name: vigie\n    webhook_configs:\n      - url: \
             {vigie}/api/v1/monitoring/alertmanager\n        send_resolved: true\n        http_config:\n          \
             authorization:\n            credentials: {token}\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(ALERTMANAGER)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{ALERTMANAGER} cannot start: {e}"));
    (Running(child), format!("http://127.0.0.1:{port}"))
}

/// Waits for `what` to hold (polling every 100 ms, at most `limit`); returns how long it took.
async fn until<F, Fut>(limit: Duration, what: &str, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < limit, "never happened within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alertmanager_turns_its_check_and_venue_red_until_resolved() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.extend_from_slice(TOC);
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let (_am, am_url) = start_alertmanager(app.dir.path(), &app.url(""), &app.tokens["toc"]);
    let client = reqwest::Client::new();
    until(Duration::from_secs(30), "Alertmanager ready", || {
        let r = client.get(format!("{am_url}/-/ready")).send();
        async move { r.await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;

    let check = || async { app.get_json("/api/v1/monitoring/checks/APP-ODS-RES@STA").await };
    let venue = || async {
        let s = app.get_json("/api/v1/monitoring/state").await;
        s["sites"].as_array().unwrap().iter().find(|v| v["id"] == "STA").map(|v| v["state"].clone()).unwrap()
    };
    // Green to start with: a pushed OK.
    let ok = json!({"check": "APP-ODS-RES@STA", "status": "OK", "output": "répond"});
    let r = app.client_as("toc").post(app.url("/api/v1/monitoring/results")).json(&ok).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(check().await["shown"], "OK");

    let alert = |ends_at: Option<String>| {
        let mut a = json!([{"labels": {"alertname": "AppDown", "application": "ODS-RES", "site": "STA",
                                        "severity": "critical"},
                            "annotations": {"summary": "ODS-RES ne répond plus au Stade de France"}}]);
        if let Some(t) = ends_at {
            a[0]["endsAt"] = json!(t);
        }
        a
    };
    let r = client.post(format!("{am_url}/api/v2/alerts")).json(&alert(None)).send().await.unwrap();
    assert!(r.status().is_success(), "Alertmanager refused the alert: {}", r.text().await.unwrap());
    let took =
        until(Duration::from_secs(15), "the check turns red", || async { check().await["shown"] == "CRITICAL" }).await;
    println!("firing alert → check red in {took:?} (group wait 1 s)");
    let c = check().await;
    assert_eq!((c["hard"].as_str(), c["state_type"].as_str()), (Some("CRITICAL"), Some("hard")), "{c}");
    assert_eq!(c["alert"], "CRITICAL", "{c}");
    assert_eq!(venue().await, "CRITICAL", "the venue shows it");

    // Past the TTL (6 s) three times over, with no repeat from Alertmanager: still red, not grey.
    tokio::time::sleep(Duration::from_secs(18)).await;
    let c = check().await;
    assert_eq!((c["shown"].as_str(), c["stale"].as_bool()), (Some("CRITICAL"), Some(false)), "{c}");
    assert_eq!(venue().await, "CRITICAL");
    // A pushed OK meanwhile does not hide the firing alert.
    app.client_as("toc").post(app.url("/api/v1/monitoring/results")).json(&ok).send().await.unwrap();
    assert_eq!(check().await["shown"], "CRITICAL");

    // Resolved: Alertmanager notifies at the next group interval.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = client.post(format!("{am_url}/api/v2/alerts")).json(&alert(Some(now))).send().await.unwrap();
    assert!(r.status().is_success());
    let took =
        until(Duration::from_secs(15), "the check turns green", || async { check().await["shown"] == "OK" }).await;
    println!("resolved alert → check green in {took:?}");
    assert_eq!(venue().await, "OK");
    assert_eq!(check().await["alert"], Value::Null);
    app.stop().await;
}
