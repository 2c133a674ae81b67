//! The ServiceNow-compatible Table API, black-box: the envelope, errors, paging headers, optimistic locking, the
//! journal; then the real `pysnow` client (installed from PyPI into a virtual environment) driving it unchanged.

mod common;

use common::{Backend, TestApp};
use serde_json::{json, Value};
use vigie_domain::access::Role;

const USER: &str = "pysnow";
const PASSWORD: &str = "s3cret-pour-les-tests";

async fn spawn() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions { active_checks: false, ..Default::default() };
    let mut app = TestApp::spawn_with_options(cfg, dir, options).await;
    // The Table API's callers are Vigie users: a TOC operator with a password, as pysnow sends it.
    app.add_user(USER, Role::Toc, None, PASSWORD).await;
    app
}

fn req(app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    app.client.request(method, app.url(path)).basic_auth(USER, Some(PASSWORD))
}

#[tokio::test]
async fn the_table_api_speaks_servicenow() {
    let app = spawn().await;
    // No credentials: 401 in ServiceNow's error envelope.
    let r = reqwest::get(app.url("/api/now/table/incident")).await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["status"], "failure");
    assert_eq!(e["error"]["message"], "User Not Authenticated");
    let r = req(&app, reqwest::Method::GET, "/api/now/table/change_request").send().await.unwrap();
    assert_eq!(r.status(), 400);

    // Create 5, then page by 2.
    for k in 0..5 {
        let r = req(&app, reqwest::Method::POST, "/api/now/table/incident")
            .json(&json!({"short_description": format!("Incident {k}"), "impact": 2, "urgency": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["result"]["number"], format!("INC{:07}", k + 1));
        assert_eq!(body["result"]["priority"], "2", "impact 2 × urgency 1");
        assert_eq!(body["result"]["state"], "1");
    }
    let r = req(
        &app,
        reqwest::Method::GET,
        "/api/now/table/incident?sysparm_limit=2&sysparm_offset=2&sysparm_query=ORDERBYnumber",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.headers()["x-total-count"], "5");
    let link = r.headers()["link"].to_str().unwrap().to_string();
    assert!(link.contains("rel=\"next\"") && link.contains("rel=\"prev\"") && link.contains("rel=\"first\""), "{link}");
    assert!(link.starts_with(&format!("<http://{}/api/now/table/incident?", app.addr)), "absolute: {link}");
    assert!(link.contains("sysparm_offset=4"), "{link}");
    let page: Value = r.json().await.unwrap();
    let numbers: Vec<&str> = page["result"].as_array().unwrap().iter().map(|r| r["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["INC0000003", "INC0000004"]);
    let last = req(&app, reqwest::Method::GET, "/api/now/table/incident?sysparm_limit=2&sysparm_offset=4")
        .send()
        .await
        .unwrap();
    let link = last.headers()["link"].to_str().unwrap();
    assert!(!link.contains("rel=\"next\""), "no next on the last page: {link}");
    let r = req(&app, reqwest::Method::GET, "/api/now/table/incident?sysparm_query=state~1").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"]["detail"].as_str().unwrap().contains("expected an operator"));
    let r = req(&app, reqwest::Method::GET, "/api/now/table/incident?sysparm_limit=deux").send().await.unwrap();
    assert_eq!(r.status(), 400);

    // PATCH with the optimistic lock, then a stale one.
    let all: Value = req(
        &app,
        reqwest::Method::GET,
        "/api/now/table/incident?sysparm_query=number=INC0000001&sysparm_exclude_reference_link=True",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let sys_id = all["result"][0]["sys_id"].as_str().unwrap().to_string();
    let path = format!("/api/now/table/incident/{sys_id}");
    let r = req(&app, reqwest::Method::PATCH, &path)
        .json(&json!({"sys_mod_count": "0", "state": "2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = req(&app, reqwest::Method::PATCH, &path)
        .json(&json!({"sys_mod_count": "0", "state": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "optimistic locking");
    let r = req(&app, reqwest::Method::PUT, &path).json(&json!({"state": "6"})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["detail"], "close_code: required to resolve an incident");
    assert_eq!(req(&app, reqwest::Method::DELETE, &path).send().await.unwrap().status(), 204);
    assert_eq!(req(&app, reqwest::Method::GET, &path).send().await.unwrap().status(), 404);
    assert_eq!(req(&app, reqwest::Method::DELETE, &path).send().await.unwrap().status(), 404);

    // Every change is in the journal with the authenticated user.
    let events = app.get_json(&format!("/api/v1/events?after={}&limit=100", app.base)).await;
    let kinds: Vec<(&str, &str)> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .filter(|(k, _)| k.starts_with("incident."))
        .collect();
    assert_eq!(kinds.len(), 7);
    assert!(kinds.iter().all(|(_, a)| *a == "user:pysnow"), "{kinds:?}");
    assert_eq!(kinds.last().unwrap().0, "incident.deleted");
    app.stop().await;
}

/// A virtual environment with pysnow, made once per target directory.
fn pysnow_python() -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pysnow-venv");
    let python = venv.join("bin/python");
    let ready = python.exists()
        && std::process::Command::new(&python).args(["-c", "import pysnow"]).status().is_ok_and(|s| s.success());
    if !ready {
        let made =
            std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 runs");
        assert!(made.success(), "python3 -m venv failed (Debian: apt-get install python3-venv)");
        let pip = std::process::Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "pysnow==0.7.17"])
            .status()
            .expect("pip runs");
        assert!(pip.success(), "pip install pysnow failed: PyPI must be reachable");
    }
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_pysnow_client_works_unchanged() {
    let python = tokio::task::spawn_blocking(pysnow_python).await.unwrap();
    let app = spawn().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pysnow_client.py");
    let out = tokio::process::Command::new(&python)
        .arg(script)
        .env("VIGIE_HOST", app.addr.to_string())
        .env("VIGIE_USER", USER)
        .env("VIGIE_PASSWORD", PASSWORD)
        .output()
        .await
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "pysnow against Vigie:\n{text}");
    assert!(text.contains("pysnow: all checks passed"), "{text}");
    app.stop().await;
}

/// Vigie's incident view: SLA clocks follow the lifecycle (response achieved on leaving New, resolution paused
/// while On Hold), and the list filters open incidents, most urgent first.
#[tokio::test]
async fn incidents_show_their_sla_clocks() {
    let app = spawn().await;
    let create = |body: Value| {
        let app = &app;
        async move {
            let r = req(app, reqwest::Method::POST, "/api/now/table/incident").json(&body).send().await.unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()["result"]["sys_id"].as_str().unwrap().to_string()
        }
    };
    let p1 = create(json!({"short_description": "Résultats indisponibles", "impact": 1, "urgency": 1})).await;
    let p3 = create(json!({"short_description": "Imprimante", "impact": 2, "urgency": 2})).await;
    let patch = |id: String, body: Value| {
        let app = &app;
        async move {
            let r = req(app, reqwest::Method::PATCH, &format!("/api/now/table/incident/{id}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    };
    patch(p1.clone(), json!({"state": "2"})).await;
    patch(p1.clone(), json!({"state": "3", "hold_reason": "4"})).await;
    let one = app.get_json(&format!("/api/v1/incidents/{p1}")).await;
    assert_eq!(one["sla"]["priority"], 1);
    assert_eq!(one["sla"]["response"]["stage"], "achieved");
    assert_eq!(one["sla"]["response"]["target_ms"], 15 * 60_000);
    assert_eq!(one["sla"]["resolution"]["paused"], true);
    assert_eq!(one["sla"]["resolution"]["target_ms"], 240 * 60_000);
    assert_eq!(one["timeline"].as_array().unwrap().len(), 3, "opened, in progress, on hold");
    assert_eq!(app.get_json("/api/v1/incidents/INC0000002").await["incident"]["sys_id"], p3.as_str());
    let list = app.get_json("/api/v1/incidents").await;
    let numbers: Vec<&str> =
        list["incidents"].as_array().unwrap().iter().map(|i| i["incident"]["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["INC0000001", "INC0000002"], "priority 1 first");
    patch(p3.clone(), json!({"state": "6", "close_code": "Solved (Work Around)", "close_notes": "autre imprimante"}))
        .await;
    assert_eq!(app.get_json("/api/v1/incidents").await["incidents"].as_array().unwrap().len(), 1, "resolved: not open");
    let all = app.get_json("/api/v1/incidents?status=all").await;
    let resolved =
        all["incidents"].as_array().unwrap().iter().find(|i| i["incident"]["sys_id"] == p3.as_str()).unwrap().clone();
    assert_eq!(resolved["sla"]["resolution"]["stage"], "achieved");
    assert_eq!(app.get_json("/api/v1/incidents?sla=breached").await["incidents"].as_array().unwrap().len(), 0);
    assert_eq!(app.get("/api/v1/incidents?sla=late").await.status(), 400);
    assert_eq!(app.get("/api/v1/incidents/INC9999999").await.status(), 404);
    app.stop().await;
}

/// The operations log over HTTP: entries by the operator on duty in the current shift, and the hand-over.
#[tokio::test]
async fn the_operations_log_and_the_shift_handover() {
    let app = spawn().await;
    let r = req(&app, reqwest::Method::POST, "/api/now/table/incident")
        .json(&json!({"short_description": "Coupure Bercy", "impact": 1, "urgency": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let log = |body: Value| {
        let app = &app;
        async move { app.client_as("toc").post(app.url("/api/v1/log")).json(&body).send().await.unwrap() }
    };
    let r = log(json!({"text": "Prise de quart, RAS", "kind": "note"})).await;
    assert_eq!(r.status(), 200);
    let entry: Value = r.json().await.unwrap();
    let shift = entry["entry"]["shift"].as_str().unwrap().to_string();
    assert!(shift.ends_with("matin") || shift.ends_with("après-midi") || shift.ends_with("nuit"), "{shift}");
    assert!(entry["entry"]["by"].as_str().unwrap().starts_with("user:toc/token:"), "{entry}");
    assert_eq!(
        log(json!({"text": "Bascule sur le lien B", "kind": "decision", "incident": "INC0000001"})).await.status(),
        200
    );
    assert_eq!(log(json!({"text": "x", "incident": "INC0000099"})).await.status(), 404);
    assert_eq!(log(json!({"text": "x", "kind": "rumeur"})).await.status(), 422);
    assert_eq!(log(json!({"text": "  "})).await.status(), 422);
    // The entry's shift, not the current one: the test may straddle a change of shift.
    let h: Value = app
        .client
        .get(app.url("/api/v1/log/handover"))
        .query(&[("shift", shift.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["shift"], shift.as_str());
    assert_eq!(h["open_incidents"][0]["number"], "INC0000001");
    assert_eq!(h["entries"].as_array().unwrap().len(), 2);
    assert_eq!(h["entries"][1]["kind"], "decision");
    assert!(h["outgoing"][0].as_str().unwrap().starts_with("user:toc"), "who hands over: {h}");
    assert_eq!(h["signatures"], json!([]));
    // The incoming lead signs that hand-over: a journalled entry naming it; a shift to come cannot be signed.
    let sign = |of: &str| json!({"kind": "signature", "handover_of": of, "text": "Passation reçue"});
    assert_eq!(log(sign(&shift)).await.status(), 200);
    assert_eq!(log(sign("2999-01-01 matin")).await.status(), 422);
    assert_eq!(log(sign("demain")).await.status(), 422);
    assert_eq!(log(json!({"text": "x", "handover_of": shift.as_str()})).await.status(), 422, "only a signature");
    let h = app.get_json(&format!("/api/v1/log/handover?shift={}", shift.replace(' ', "%20"))).await;
    assert_eq!(h["signatures"].as_array().unwrap().len(), 1);
    assert_eq!(h["entries"].as_array().unwrap().len(), 2, "a signature is not an entry of the shift it signs");
    let other = app.get_json("/api/v1/log?shift=2024-07-26%20nuit").await;
    assert_eq!(other["entries"].as_array().unwrap().len(), 0);
    assert_eq!(app.get("/api/v1/log?shift=demain").await.status(), 400);
    app.stop().await;
}

/// Outbound sync against a second Vigie serving the Table API: creations and updates arrive, with the remote
/// sys_id recorded; while the remote is down nothing is lost, and it catches up once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_sync_to_a_remote_table_api_even_across_its_downtime() {
    let remote_options = || vigie_server::ServerOptions { active_checks: false, ..Default::default() };
    let rdir = tempfile::tempdir().unwrap();
    let rcfg = common::config(Backend::Sqlite, rdir.path().to_path_buf());
    let mut remote = TestApp::spawn_with_options(rcfg, rdir, remote_options()).await;
    remote.add_user("remote", Role::Toc, None, "pw-remote").await;
    let remote_addr = remote.addr;
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions {
        active_checks: false,
        sync: Some(vigie_server::sync::SyncOptions {
            url: format!("http://{remote_addr}"),
            user: "remote".into(),
            password: "pw-remote".into(),
            retry_max: std::time::Duration::from_millis(500),
        }),
        ..Default::default()
    };
    let mut local = TestApp::spawn_with_options(cfg, dir, options).await;
    local.add_user(USER, Role::Toc, None, PASSWORD).await;
    let remote_rows = |addr: std::net::SocketAddr| async move {
        let r = reqwest::Client::new()
            .get(format!("http://{addr}/api/now/table/incident?sysparm_query=correlation_idSTARTSWITHvigie:^ORDERBYcorrelation_id"))
            .basic_auth("remote", Some("pw-remote"))
            .send()
            .await;
        match r {
            Ok(r) if r.status().is_success() => r.json::<Value>().await.unwrap()["result"].as_array().unwrap().clone(),
            _ => Vec::new(),
        }
    };
    type Check = Box<dyn Fn(&[Value]) -> bool + Send>;
    let wait_for = |addr: std::net::SocketAddr, check: Check| async move {
        for _ in 0..100 {
            let rows = remote_rows(addr).await;
            if check(&rows) {
                return rows;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the remote did not get there: {:?}", remote_rows(addr).await);
    };
    let r = req(&local, reqwest::Method::POST, "/api/now/table/incident")
        .json(&json!({"short_description": "Panne ODS au Stade de France", "impact": 1, "urgency": 1}))
        .send()
        .await
        .unwrap();
    let local_id = r.json::<Value>().await.unwrap()["result"]["sys_id"].as_str().unwrap().to_string();
    let rows = wait_for(remote_addr, Box::new(|r| r.len() == 1)).await;
    assert_eq!(rows[0]["correlation_id"], "vigie:INC0000001");
    assert_eq!(rows[0]["priority"], "1");
    let remote_id = rows[0]["sys_id"].as_str().unwrap().to_string();
    // An update travels as an update of the same remote record.
    let r = req(&local, reqwest::Method::PATCH, &format!("/api/now/table/incident/{local_id}"))
        .json(&json!({"state": "2", "assigned_to": "chef-de-quart", "work_notes": "Pris en charge par le CTO"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rows = wait_for(remote_addr, Box::new(|r| r.len() == 1 && r[0]["state"] == "2")).await;
    assert_eq!(rows[0]["sys_id"], remote_id.as_str());
    assert_eq!(rows[0]["assigned_to"], "chef-de-quart");
    // The work note arrives once, even after a further update.
    let r = req(&local, reqwest::Method::PATCH, &format!("/api/now/table/incident/{local_id}"))
        .json(&json!({"category": "réseau"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for(remote_addr, Box::new(|r| r.len() == 1 && r[0]["category"] == "réseau")).await;
    let notes = reqwest::Client::new()
        .get(format!("http://{remote_addr}/api/v1/incidents/{remote_id}"))
        .basic_auth("remote", Some("pw-remote"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["incident"]["work_notes"]
        .clone();
    assert_eq!(notes.as_array().unwrap().len(), 1, "{notes}");
    assert!(notes[0]["text"].as_str().unwrap().ends_with("Pris en charge par le CTO"), "{notes}");
    let events = local.get_json("/api/v1/events?after=0&limit=100").await;
    let synced: Vec<&Value> =
        events["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "incident.synced").collect();
    assert!(synced.iter().all(|e| e["payload"]["remote_sys_id"] == remote_id.as_str()) && synced.len() >= 2);

    // The remote goes down; an incident opened meanwhile waits, then arrives when it is back.
    let (rcfg, rdir) = remote.stop().await;
    let r = req(&local, reqwest::Method::POST, "/api/now/table/incident")
        .json(&json!({"short_description": "Ouvert pendant la coupure", "impact": 2, "urgency": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await; // a few failed attempts
    let remote = TestApp::spawn_at(rcfg, rdir, remote_options(), &remote_addr.to_string()).await;
    let rows = wait_for(remote_addr, Box::new(|r| r.len() == 2)).await;
    assert_eq!(rows[1]["correlation_id"], "vigie:INC0000002");
    assert_eq!(rows[1]["short_description"], "Ouvert pendant la coupure");
    local.stop().await;
    remote.stop().await;
}

/// A crisis: a catering failure becomes a major incident, accepted with its lead, linked to the committed water and
/// rations plan; its timeline merges state changes, notes, the log's decisions and the plan's steps.
#[tokio::test]
async fn a_crisis_links_its_logistics_plan_and_has_one_timeline() {
    let app = spawn().await;
    assert_eq!(app.import(&common::registry(), "", None).await.status(), 200);
    let plan: Value = app
        .client
        .post(app.url("/api/v1/plans"))
        .json(&json!({"destination": "STA", "movements": [{"from": "DEP1", "item_id": "RATION", "quantity": 200}],
                      "purpose": "reinforce", "on": "2024-07-26"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().expect("a committed plan").to_string();
    let r = req(&app, reqwest::Method::POST, "/api/now/table/incident")
        .json(&json!({"short_description": "Rupture de canalisation : restauration arrêtée au Stade de France",
                      "impact": 2, "urgency": 1, "location": "STA", "major_incident_state": "proposed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let sys_id = r.json::<Value>().await.unwrap()["result"]["sys_id"].as_str().unwrap().to_string();
    let path = format!("/api/now/table/incident/{sys_id}");
    let bad = req(&app, reqwest::Method::PATCH, &path).json(&json!({"u_plan_id": "P-NOPE"})).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let r = req(&app, reqwest::Method::PATCH, &path)
        .json(&json!({"major_incident_state": "accepted", "u_crisis_lead": "COL Martin", "u_plan_id": plan_id,
                      "work_notes": "Cellule de crise activée"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rec = r.json::<Value>().await.unwrap()["result"].clone();
    assert_eq!((rec["major_incident_state"].as_str(), rec["priority"].as_str()), (Some("accepted"), Some("1")));
    let logged = app
        .client_as("toc")
        .post(app.url("/api/v1/log"))
        .json(&json!({"text": "Décision : rations et eau depuis Vincennes", "kind": "decision", "incident": "INC0000001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(logged.status(), 200);
    let t = app.get_json("/api/v1/incidents/INC0000001/timeline").await;
    assert_eq!(t["crisis_lead"], "COL Martin");
    assert_eq!(t["plan"]["id"], plan_id.as_str());
    let kinds: Vec<&str> = t["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in ["state", "work_note", "decision", "plan"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "one timeline, in time order");
    app.stop().await;
}

/// A breach is recorded in the journal once, when it happens (here a response target of 0 minutes).
#[tokio::test]
async fn sla_breaches_are_recorded_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions {
        active_checks: false,
        sla: vigie_incidents::sla::Targets { response_min: [0; 5], resolution_min: [600; 5] },
        ..Default::default()
    };
    let mut app = TestApp::spawn_with_options(cfg, dir, options).await;
    app.add_user(USER, Role::Toc, None, PASSWORD).await;
    let r = req(&app, reqwest::Method::POST, "/api/now/table/incident")
        .json(&json!({"short_description": "Personne ne répond", "impact": 1, "urgency": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let breaches = || {
        let app = &app;
        async move {
            let events = app.get_json("/api/v1/events?after=0&limit=100").await;
            events["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "incident.sla_breached")
                .cloned()
                .collect::<Vec<_>>()
        }
    };
    let mut found = Vec::new();
    for _ in 0..80 {
        found = breaches().await;
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["payload"]["clock"], "response");
    assert_eq!(found[0]["payload"]["number"], "INC0000001");
    assert_eq!(found[0]["actor"], "system:sla");
    tokio::time::sleep(std::time::Duration::from_millis(5500)).await; // another round
    assert_eq!(breaches().await.len(), 1, "recorded once");
    let h = app.get_json("/api/v1/log/handover").await;
    assert_eq!(h["breaches"], json!(["INC0000001"]));
    app.stop().await;
}
