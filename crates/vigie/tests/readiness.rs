//! Venue readiness over HTTP, black-box (issue 16): "no table, no PC" as data. A results room at the Stade de
//! France: tables delivered by a logistics plan, then the computers installed, imaged and tested by Atos; a
//! network task blocked. The picture (projected dates, critical path, the root cause of what is held up), a task
//! moved before its predecessors (refused, naming them; overridden, and the override journalled), a partner trying
//! another's task, the plan received finishing the delivery and moving the dates after it, image compliance.

mod common;

use common::{registry, Backend, TestApp};
use serde_json::{json, Value};
use vigie_domain::readiness::*;
use vigie_domain::*;

fn task(id: &str, name: &str, trade: Trade, owner: &str, minutes: u32, plan: Option<&str>) -> Event {
    Event::TaskUpserted(Task {
        id: TaskId::parse(id).unwrap(),
        site_id: SiteId::parse("STA").unwrap(),
        zone_id: ZoneId::parse("STA-RES").unwrap(),
        name: name.into(),
        trade,
        owner: PartnerId::parse(owner).unwrap(),
        duration_min: minutes,
        due: None,
        plan_id: plan.map(|p| PlanId(p.into())),
        attributes: Default::default(),
    })
}

fn link(before: &str, after: &str) -> Event {
    Event::TaskLinked(TaskLink {
        before: TaskId::parse(before).unwrap(),
        after: TaskId::parse(after).unwrap(),
        lag_min: 0,
        removed: false,
    })
}

fn computer(id: &str, image: &str, version: &str) -> Event {
    Event::ComputerUpserted(Computer {
        id: ComputerId::parse(id).unwrap(),
        model: "HP EliteDesk 800".into(),
        site_id: SiteId::parse("STA").unwrap(),
        zone_id: Some(ZoneId::parse("STA-RES").unwrap()),
        role: ComputerRole::Critical,
        image: image.into(),
        image_version: version.into(),
        state: if image.is_empty() { DeploymentState::Installed } else { DeploymentState::Imaged },
        asset_id: None,
        attributes: Default::default(),
    })
}

async fn post(app: &TestApp, user: &str, path: &str, body: Value) -> (u16, Value) {
    let r = app.client_as(user).post(app.url(path)).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, user: &str, path: &str) -> Value {
    let r = app.client_as(user).get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

fn ids(tasks: &Value) -> Vec<String> {
    tasks.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect()
}

/// A test app with the registry, and the tables for the Stade de France on the road: their plan, committed and
/// shipped.
async fn tables_on_the_road() -> (TestApp, String) {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let plan = json!({"destination": "STA", "movements": [{"from": "DEP1", "item_id": "PLATE", "quantity": 10}],
                      "purpose": "tables de la salle des résultats", "on": "2024-07-26"});
    let (code, committed) = post(&app, "admin", "/api/v1/plans", plan).await;
    assert_eq!(code, 201, "{committed}");
    let plan_id = committed["id"].as_str().unwrap().to_string();
    assert_eq!(post(&app, "admin", &format!("/api/v1/plans/{plan_id}/ship"), json!({})).await.0, 200);
    (app, plan_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_table_no_pc_the_chain_from_untested_computers_to_the_plan_in_transit() {
    // The tables come from Vincennes by a plan, committed and on the road.
    let (app, plan_id) = tables_on_the_road().await;

    let deadline = chrono::Utc::now() + chrono::Duration::days(3);
    let events = vec![
        Event::ZoneUpserted(Zone {
            id: ZoneId::parse("STA-RES").unwrap(),
            site_id: SiteId::parse("STA").unwrap(),
            name: "Salle des résultats".into(),
            kind: "results_room".into(),
            image: "ODS-RES 4.2".into(),
            deadline: Some(deadline),
            attributes: Default::default(),
        }),
        task("STA-TABLES", "Livraison des tables", Trade::Delivery, "LOGI", 240, Some(&plan_id)),
        task("STA-POWER", "Alimentation électrique", Trade::Power, "ELEC", 120, None),
        task("STA-PC", "Installation des PC", Trade::Installation, "ATOS", 180, None),
        task("STA-IMG", "Imagerie ODS-RES", Trade::Imaging, "ATOS", 120, None),
        task("STA-TEST", "Test de la salle", Trade::Tests, "ATOS", 60, None),
        task("STA-NET", "Réseau de la tribune", Trade::Network, "ORANGE", 90, None),
        task("STA-TRIB", "PC de la tribune", Trade::Installation, "ATOS", 60, None),
        task("STA-GAINE", "Gaine technique", Trade::Power, "ELEC", 30, None),
        task("STA-SIGN", "Signalétique", Trade::Furniture, "ELEC", 30, None),
        link("STA-TABLES", "STA-PC"),
        link("STA-POWER", "STA-PC"),
        link("STA-PC", "STA-IMG"),
        link("STA-IMG", "STA-TEST"),
        link("STA-NET", "STA-TRIB"),
        link("STA-GAINE", "STA-NET"),
        computer("SN-1", "ODS-RES", "4.2"),
        computer("SN-2", "ODS-RES", "4.1"),
        computer("SN-3", "", ""),
    ];
    let events = events
        .into_iter()
        .map(|event| NewEvent { actor: Actor::system("test"), source: "test".into(), event })
        .collect();
    app.journal().append(events).unwrap();

    // The network task is blocked: it holds up the stand's PCs, and says why.
    let (code, body) = post(
        &app,
        "atos",
        "/api/v1/readiness/tasks/STA-NET/progress",
        json!({"status": "blocked", "reason": "fibre coupée"}),
    )
    .await;
    assert_eq!(code, 403, "ORANGE's task is not Atos's: {body}");
    assert_eq!(body["code"], "forbidden.task");
    let (code, body) =
        post(&app, "toc", "/api/v1/readiness/tasks/STA-NET/progress", json!({"status": "blocked"})).await;
    assert_eq!(code, 422, "a blocked task needs a reason: {body}");
    let (code, _) = post(
        &app,
        "toc",
        "/api/v1/readiness/tasks/STA-NET/progress",
        json!({"status": "blocked", "reason": "fibre coupée"}),
    )
    .await;
    assert_eq!(code, 200);

    // The picture: tables and power first, then PCs, imaging, the test; the critical path runs through the tables
    // (four hours) rather than the power (two).
    let site = get(&app, "toc", "/api/v1/readiness/sites/STA").await;
    let picture = &site["picture"];
    let order = ids(&picture["tasks"]);
    let at = |id: &str| order.iter().position(|x| x == id).unwrap();
    assert!(at("STA-TABLES") < at("STA-PC") && at("STA-POWER") < at("STA-PC") && at("STA-PC") < at("STA-IMG"));
    assert_eq!(
        picture["critical_path"],
        json!(["STA-TABLES", "STA-PC", "STA-IMG", "STA-TEST"]),
        "the longest chain to the site's ready date"
    );
    let pc = picture["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "STA-PC").unwrap().clone();
    assert_eq!(pc["after"], json!(["STA-POWER", "STA-TABLES"]));
    let trib = picture["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "STA-TRIB").unwrap().clone();
    assert_eq!(trib["blocked_by"], "STA-NET", "the root cause, as UNREACHABLE names its parent");
    let blockers = get(&app, "toc", "/api/v1/readiness/blockers").await;
    assert_eq!(blockers["items"][0]["task"]["id"], "STA-NET");
    assert_eq!(blockers["items"][0]["task"]["reason"], "fibre coupée");
    assert!(blockers["items"][0]["task"]["moved_by"].as_str().unwrap().starts_with("user:toc"), "who blocked it");
    assert_eq!(blockers["items"][0]["blocks"], json!(["STA-TRIB"]));

    // Atos starts installing before the tables are there: refused, naming what it waits for; overridden, the
    // override is journalled with their names.
    let (code, body) =
        post(&app, "atos", "/api/v1/readiness/tasks/STA-PC/progress", json!({"status": "in_progress"})).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["code"], "conflict.predecessors");
    assert_eq!(body["params"]["waiting_for"], "STA-POWER, STA-TABLES");
    let (code, _) = post(
        &app,
        "atos",
        "/api/v1/readiness/tasks/STA-PC/progress",
        json!({"status": "in_progress", "override": true, "reason": "tables de secours"}),
    )
    .await;
    assert_eq!(code, 200);
    let last = app.journal().read_after(app.journal().state().last_seq - 1, 1).unwrap();
    match &last[0].event {
        Event::TaskProgressed(p) => {
            assert_eq!(p.overridden.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["STA-POWER", "STA-TABLES"]);
            assert_eq!(last[0].actor.as_str().split('/').next(), Some("user:atos"));
        }
        other => panic!("expected the task's progress, found {other:?}"),
    }
    // A partner sees its own tasks, everything they wait for (to the root cause, whoever owns it) and what waits
    // for them; and the root cause that holds its work up.
    let seen = ids(&get(&app, "atos", "/api/v1/readiness/sites/STA").await["picture"]["tasks"]);
    for t in ["STA-PC", "STA-IMG", "STA-TEST", "STA-TRIB", "STA-TABLES", "STA-POWER", "STA-NET", "STA-GAINE"] {
        assert!(seen.contains(&t.to_string()), "atos sees {t}: {seen:?}");
    }
    let theirs = get(&app, "atos", "/api/v1/readiness/blockers").await;
    assert_eq!(theirs["items"][0]["task"]["id"], "STA-NET", "ORANGE's network, which holds Atos's stand up");
    assert!(!seen.contains(&"STA-SIGN".to_string()), "nothing of Atos's waits for the signs, nor they for it");
    assert_eq!(ids(&get(&app, "admin", "/api/v1/readiness/sites/STA").await["picture"]["tasks"]).len(), 9);
    let mine = get(&app, "atos", "/api/v1/readiness/tasks?until=2099-01-01T00:00:00Z").await;
    assert!(ids(&mine["items"]).iter().all(|t| ["STA-PC", "STA-IMG", "STA-TEST", "STA-TRIB"].contains(&t.as_str())));

    // The tables arrive: receiving the plan finishes the delivery task, with the plan as evidence.
    let before = get(&app, "toc", "/api/v1/readiness/sites/STA").await;
    assert_eq!(post(&app, "admin", &format!("/api/v1/plans/{plan_id}/receive"), json!({})).await.0, 200);
    let after = get(&app, "toc", "/api/v1/readiness/sites/STA").await;
    let find = |v: &Value, id: &str| v["picture"]["tasks"].as_array().unwrap().iter().find(|t| t["id"] == id).cloned();
    let tables = find(&after, "STA-TABLES").unwrap();
    assert_eq!(tables["status"], "done");
    assert_eq!(tables["evidence"], format!("plan {plan_id} received"));
    assert!(
        find(&after, "STA-TABLES").unwrap()["finish"].as_str()
            < find(&before, "STA-TABLES").unwrap()["finish"].as_str(),
        "the delivery finished now rather than four hours from now"
    );
    let done_share = |v: &Value| v["picture"]["site"]["percent"].as_f64().unwrap();
    assert!(done_share(&after) > done_share(&before));
    // Verified says what proves it.
    let (code, body) =
        post(&app, "toc", "/api/v1/readiness/tasks/STA-TABLES/progress", json!({"status": "verified"})).await;
    assert_eq!((code, body["problems"][0]["params"]["field"].as_str()), (422, Some("evidence")), "{body}");
    let proof = json!({"status": "verified", "evidence": "bon de livraison signé"});
    assert_eq!(post(&app, "toc", "/api/v1/readiness/tasks/STA-TABLES/progress", proof).await.0, 200);

    // Image compliance: the 4.1 computer, not the one on 4.2 nor the one not imaged yet.
    let nc = get(&app, "toc", "/api/v1/readiness/computers/noncompliant").await;
    assert_eq!(
        nc["items"],
        json!([{"computer": "SN-2", "site_id": "STA", "zone_id": "STA-RES", "runs": "ODS-RES 4.1", "required": "ODS-RES 4.2"}])
    );
    // A computer in service is in service only while its checks pass; a passing check is its test evidence.
    let toc = [
        ("assets.csv", "id;name;kind;site_id\nPC-STA-9;Poste 9;computer;STA\n"),
        (
            "checks.csv",
            "id;target;site_id;kind;interval_s;timeout_s;asset_id;max_attempts\nCHK-PC9;pc9;STA;push;60;5;PC-STA-9;1\n",
        ),
    ];
    assert_eq!(app.import(&toc, "", None).await.status(), 200);
    let mut sn9 = match computer("SN-9", "ODS-RES", "4.2") {
        Event::ComputerUpserted(c) => c,
        _ => unreachable!(),
    };
    sn9.state = DeploymentState::InService;
    sn9.asset_id = Some(AssetId::parse("PC-STA-9").unwrap());
    let e = NewEvent { actor: Actor::system("test"), source: "test".into(), event: Event::ComputerUpserted(sn9) };
    app.journal().append(vec![e]).unwrap();
    let sn9_now = |v: Value| v["items"].as_array().unwrap().iter().find(|c| c["id"] == "SN-9").cloned().unwrap();
    for (status, effective, failing, tested) in
        [("CRITICAL", "failing", json!(["CHK-PC9"]), false), ("OK", "in_service", json!([]), true)]
    {
        let (code, _) = post(
            &app,
            "toc",
            "/api/v1/monitoring/results",
            json!({"check": "CHK-PC9", "status": status, "output": "x"}),
        )
        .await;
        assert_eq!(code, 200);
        let c = sn9_now(get(&app, "toc", "/api/v1/readiness/computers?site=STA").await);
        assert_eq!((c["state"].as_str(), c["effective"].as_str()), (Some("in_service"), Some(effective)), "{c}");
        assert_eq!((c["failing_checks"].clone(), c["tested_by_check"].as_bool()), (failing, Some(tested)), "{c}");
    }
    // Recorded imaged, its check passing: tested, the check its evidence; the check failing: imaged only.
    let mut sn9 = match computer("SN-9", "ODS-RES", "4.2") {
        Event::ComputerUpserted(c) => c,
        _ => unreachable!(),
    };
    sn9.asset_id = Some(AssetId::parse("PC-STA-9").unwrap());
    let e = NewEvent { actor: Actor::system("test"), source: "test".into(), event: Event::ComputerUpserted(sn9) };
    app.journal().append(vec![e]).unwrap();
    for (status, effective) in [("OK", "tested"), ("CRITICAL", "imaged")] {
        let body = json!({"check": "CHK-PC9", "status": status, "output": "x"});
        assert_eq!(post(&app, "toc", "/api/v1/monitoring/results", body).await.0, 200);
        let c = sn9_now(get(&app, "toc", "/api/v1/readiness/computers?site=STA").await);
        assert_eq!((c["state"].as_str(), c["effective"].as_str()), (Some("imaged"), Some(effective)), "{c}");
    }
    // The roll-up per site says the same figures.
    let summary = get(&app, "toc", "/api/v1/readiness?by=site").await;
    assert_eq!(summary["items"][0]["key"], "STA");
    assert_eq!(summary["items"][0]["blocked"], 2, "the blocked task and the one it holds up");
    assert_eq!(summary["items"][0]["state"], "at_risk", "in time, but blocked");
    app.stop().await;
}

/// A delivery's task runs from the plan's shipping for its duration (the transit time); past that, still on the road,
/// it is overdue: it and every task that waits for it in time are late, the delivery is named as why, and the
/// blockers' answer lists it with what it delays. Receiving the plan ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_overdue_on_the_road_makes_what_follows_it_late() {
    use vigie_app::readiness::{NetworkCache, Picture};
    let (app, plan_id) = tables_on_the_road().await;
    let shipped: chrono::DateTime<chrono::Utc> =
        app.journal().state().plans.get(plan_id.as_str()).unwrap().value.shipped_at.unwrap();
    let mut pc = match task("STA-PC", "Installation des PC", Trade::Installation, "ATOS", 180, None) {
        Event::TaskUpserted(t) => t,
        _ => unreachable!(),
    };
    pc.due = Some(shipped + chrono::Duration::hours(8));
    let events = vec![
        task("STA-TABLES", "Livraison des tables", Trade::Delivery, "LOGI", 240, Some(&plan_id)),
        Event::TaskUpserted(pc),
        task("STA-POWER", "Alimentation électrique", Trade::Power, "ELEC", 120, None),
        link("STA-TABLES", "STA-PC"),
    ];
    let events = events
        .into_iter()
        .map(|event| NewEvent { actor: Actor::system("test"), source: "test".into(), event })
        .collect();
    app.journal().append(events).unwrap();

    let caller = vigie_app::Caller::internal(Actor::system("test"), "test");
    let cache = NetworkCache::default();
    let at = |hours: i64| {
        let st = app.journal().state();
        let picture = Picture::new(&st, &caller, shipped + chrono::Duration::hours(hours), &cache).unwrap();
        let site = serde_json::to_value(picture.site("STA").unwrap()).unwrap();
        let late = serde_json::to_value(picture.late_deliveries()).unwrap();
        let word = picture.summary("site").unwrap()[0].state;
        let tasks: std::collections::BTreeMap<String, Value> = site["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["id"].as_str().unwrap().to_string(), t.clone()))
            .collect();
        (tasks, late, word)
    };
    let minute = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().timestamp() / 60;
    let m = |t: chrono::DateTime<chrono::Utc>| t.timestamp() / 60;

    // On time: under way since the shipping, expected four hours after it; the installation follows and is in time.
    let (tasks, late, word) = at(1);
    assert_eq!(word, "on_time");
    let tables = &tasks["STA-TABLES"];
    assert_eq!(tables["status"], "in_progress", "a delivery on the road is under way");
    assert_eq!(minute(&tables["plan"]["expected_at"]), m(shipped) + 240);
    assert_eq!((tables["plan"]["overdue"].as_bool(), tables["late"].as_bool()), (Some(false), Some(false)));
    assert_eq!(minute(&tasks["STA-PC"]["start"]), m(shipped) + 240);
    assert_eq!(tasks["STA-PC"]["late"], false);
    assert_eq!(late, json!([]));

    // Six hours after the shipping the tables are still on the road: overdue, they arrive at the earliest now; the
    // installation starts then, finishes past its due date, and names the delivery as why. The power is untouched.
    let (tasks, late, word) = at(6);
    assert_eq!(word, "at_risk", "in time for no deadline, but two tasks late");
    let tables = &tasks["STA-TABLES"];
    assert_eq!((tables["plan"]["overdue"].as_bool(), tables["late"].as_bool()), (Some(true), Some(true)));
    assert_eq!(minute(&tables["finish"]), m(shipped) + 360);
    assert_eq!(minute(&tasks["STA-PC"]["finish"]), m(shipped) + 360 + 180);
    assert_eq!(
        (tasks["STA-PC"]["late"].as_bool(), tasks["STA-PC"]["delayed_by"].as_str()),
        (Some(true), Some("STA-TABLES"))
    );
    assert_eq!(tasks["STA-POWER"]["late"], false);
    assert!(tasks["STA-POWER"].get("delayed_by").is_none());
    assert_eq!(late.as_array().unwrap().len(), 1);
    assert_eq!((&late[0]["task"]["id"], &late[0]["blocks"]), (&json!("STA-TABLES"), &json!(["STA-PC"])));
    // The same through the API, as of now (the tables are not overdue yet).
    let blockers = get(&app, "toc", "/api/v1/readiness/blockers").await;
    assert_eq!(blockers["late_deliveries"], json!([]));

    // Received: the delivery is done, nothing is delayed any more.
    assert_eq!(post(&app, "admin", &format!("/api/v1/plans/{plan_id}/receive"), json!({})).await.0, 200);
    let (tasks, late, word) = at(6);
    assert_eq!(word, "at_risk", "the installation, starting only now, still ends past its due date");
    assert_eq!(tasks["STA-PC"]["late"], true);
    assert_eq!(tasks["STA-TABLES"]["status"], "done");
    assert!(tasks["STA-TABLES"]["plan"].get("expected_at").is_none());
    assert!(tasks["STA-PC"].get("delayed_by").is_none());
    assert_eq!(late, json!([]));
    app.stop().await;
}
