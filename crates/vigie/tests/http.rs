//! Black-box HTTP tests: the app on a random port over a fresh store, driven by a real HTTP client.

mod common;

use common::{read_sse, registry, Backend, TestApp};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn health_answers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let h = app.get_json("/health").await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["storage"], "sqlite");
    assert_eq!(h["last_seq"], app.base, "only the test's users and tokens");
    app.stop().await;
}

#[tokio::test]
async fn import_then_read_the_registry_with_filters_and_paging() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.import(&registry(), "", Some("cpco")).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["report"]["events"], 3 + 3 + 2 + 2, "{body}");

    let sites = app.get("/api/v1/sites?kind=venue&limit=1").await;
    assert_eq!(sites.headers()["x-total-count"], "2");
    let sites: Value = sites.json().await.unwrap();
    assert_eq!(sites["total"], 2);
    assert_eq!(sites["items"].as_array().unwrap().len(), 1);
    assert_eq!(sites["items"][0]["id"], "MRS");
    let page2 = app.get_json("/api/v1/sites?kind=venue&limit=1&offset=1").await;
    assert_eq!(page2["items"][0]["id"], "STA");
    assert_eq!(page2["items"][0]["lat"], 48.924475);

    // Organisation filter includes children.
    assert_eq!(app.get_json("/api/v1/sites?organization_id=CPCO").await["total"], 3);
    assert_eq!(app.get_json("/api/v1/sites?organization_id=GS-MRS").await["total"], 1);
    assert_eq!(app.get_json("/api/v1/sites?q=vincennes").await["items"][0]["id"], "DEP1");

    let stock = app.get_json("/api/v1/stock?item_id=PLATE&condition=serviceable").await;
    assert_eq!(stock["total"], 1);
    assert_eq!(stock["items"][0]["quantity"], 1200);
    assert_eq!(stock["items"][0]["site_id"], "DEP1");
    assert_eq!(stock["items"][0]["counted_at"], "2024-07-20T06:00:00Z");
    assert_eq!(stock["items"][0]["_stamp"]["source"], "import:stock.csv");

    let expiring = app.get_json("/api/v1/stock?expires_before=2025-06-30").await;
    assert_eq!((expiring["total"].as_u64(), expiring["items"][0]["lot"].as_str()), (Some(1), Some("R1")));
    assert_eq!(app.get("/api/v1/stock?expires_before=bientot").await.status(), 400);

    let site = app.get_json("/api/v1/sites/STA").await;
    assert_eq!(site["name"], "Stade de France");
    assert_eq!(app.get("/api/v1/sites/NOPE").await.status(), 404);
    assert_eq!(app.get("/api/v1/items?limit=0").await.status(), 400);
    assert_eq!(app.get("/api/v1/sites?kind=stadium").await.status(), 400);
    assert_eq!(app.get("/api/v1/forces?active_on=demain").await.status(), 400);
    assert_eq!(app.get("/api/v1/nothing-here").await.status(), 404);

    // Every event carries the authenticated actor of the request (here through a token).
    let events = app.get_json(&format!("/api/v1/events?after={}&limit=100", app.base)).await;
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 10);
    assert!(events.iter().all(|e| e["actor"].as_str().unwrap().starts_with("user:cpco/token:")), "{events:?}");
    assert_eq!(events[0]["kind"], "organization.upserted");
    app.stop().await;
}

/// A validated import is confirmed without a second upload: its dry run's `preview`, for whoever made it, once; a
/// recount says what it takes away.
#[tokio::test]
async fn a_validated_import_is_confirmed_without_sending_the_files_again() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dry: Value = app.import(&registry(), "?dry_run=true", Some("cpco")).await.json().await.unwrap();
    assert_eq!(dry["valid"], true, "{dry}");
    let id = dry["preview"].as_str().unwrap().to_string();
    assert_eq!(app.get_json("/api/v1/sites").await["total"], 0, "a dry run writes nothing");
    let confirm = |user: &'static str| {
        let (app, id) = (&app, id.clone());
        async move { app.client_as(user).post(app.url(&format!("/api/v1/import/previews/{id}"))).send().await.unwrap() }
    };
    assert_eq!(confirm("idf").await.status(), 404, "another caller's preview");
    let done = confirm("cpco").await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.json::<Value>().await.unwrap()["report"]["events"], 10);
    assert_eq!(app.get_json("/api/v1/sites").await["total"], 3, "committed from what the dry run read");
    assert_eq!(confirm("cpco").await.status(), 404, "once");
    // A recount of DEP1 without its rations: the preview says what disappears.
    let recount = "site_id;item_id;quantity;condition;lot;expires_on;counted_at\nDEP1;PLATE;1000;serviceable;L1;;2024-07-21 08:00\n";
    let dry: Value = app.import(&[("stock.csv", recount)], "?dry_run=true", Some("cpco")).await.json().await.unwrap();
    let reductions = dry["report"]["reductions"].as_array().unwrap();
    let rations = reductions.iter().find(|r| r["item_id"] == "RATION").unwrap_or_else(|| panic!("{dry}"));
    assert_eq!((rations["site_id"].as_str(), rations["after"].as_f64()), (Some("DEP1"), Some(0.0)));
    app.stop().await;
}

#[tokio::test]
async fn a_bad_import_is_refused_whole_with_located_problems() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.push((
        "forces.csv",
        "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF1,Un,NOWHERE,10,GS-IDF,2024-07-01,2024-08-01\n",
    ));
    let r = app.import(&files, "", None).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["lines"][0], "forces.csv:2:7: unknown site NOWHERE in `site_id`");
    assert_eq!(body["problems"][0]["line"], 2);
    assert_eq!(app.get_json("/health").await["last_seq"], app.base, "nothing was written");

    // A dry run is a validation: the same problems, answered as a report (200), nothing written.
    let r = app.import(&files, "?dry_run=true", None).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["valid"].as_bool(), body["lines"][0].as_str()),
        (Some(false), Some("forces.csv:2:7: unknown site NOWHERE in `site_id`"))
    );
    assert_eq!(app.get_json("/health").await["last_seq"], app.base, "nothing was written");

    // A dry run reports without writing; the same import twice writes once.
    let r: Value = app.import(&registry(), "?dry_run=true", None).await.json().await.unwrap();
    assert_eq!(r["report"]["events"], 10);
    assert_eq!(app.get_json("/health").await["last_seq"], app.base);
    let first: Value = app.import(&registry(), "", None).await.json().await.unwrap();
    let second: Value = app.import(&registry(), "", None).await.json().await.unwrap();
    assert_eq!((first["report"]["events"].as_u64(), second["report"]["events"].as_u64()), (Some(10), Some(0)));
    assert_eq!(app.get_json("/health").await["last_seq"], app.base + 10);
    // Without credentials, nothing is imported.
    let anonymous = reqwest::Client::new();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(common::ORGS.as_bytes().to_vec()).file_name("organizations.csv"));
    let r = anonymous.post(app.url("/api/v1/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(app.get_json("/health").await["last_seq"], app.base + 10 + 1, "the refusal alone is recorded");
    app.stop().await;
}

#[tokio::test]
async fn the_event_stream_follows_the_journal_live_and_resumes() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let live = app.client.get(app.url("/api/v1/events/stream")).send().await.unwrap();
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    let reader = tokio::spawn(read_sse(live, 10));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.import(&registry(), "", Some("cpco")).await.status(), 200);
    let got = reader.await.unwrap();
    let b = app.base;
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), (b + 1..=b + 10).collect::<Vec<_>>());
    assert_eq!(got[0].1, "organization.upserted");
    assert!(got[0].2["actor"].as_str().unwrap().starts_with("user:cpco/"));
    assert_eq!(got[9].1, "stock.counted");

    // A reconnecting client sends Last-Event-ID and gets what it missed, then only new kinds it asked for.
    let resumed = app
        .client
        .get(app.url("/api/v1/events/stream?kinds=stock.counted"))
        .header("last-event-id", (b + 7).to_string())
        .send()
        .await
        .unwrap();
    let got = read_sse(resumed, 2).await;
    assert_eq!(
        got.iter().map(|g| (g.0, g.1.as_str())).collect::<Vec<_>>(),
        vec![(b + 9, "stock.counted"), (b + 10, "stock.counted")]
    );
    app.stop().await;
}

#[tokio::test]
async fn shutdown_is_graceful_even_with_a_live_stream_open() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let live = app.client.get(app.url("/api/v1/events/stream")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    // `stop` waits (with a timeout) for the server task to finish: an open stream must not hold it.
    app.stop().await;
    let mut s = live.bytes_stream();
    let end = tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = s.next().await {} }).await;
    assert!(end.is_ok(), "the stream was closed by the shutdown");
}

#[tokio::test]
async fn openapi_lists_the_routes() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    // Every route of the table is described, with its method and its path parameters.
    for r in vigie_server::routes::ROUTES {
        let (method, path) = (r.method, r.path);
        let path = path.replace("{*path}", "{path}");
        let op = doc["paths"].get(&path).and_then(|p| p.get(method.to_lowercase()));
        assert!(op.is_some(), "{method} {path} is not in the OpenAPI document");
        // Each of its path parameters is declared (openapi-spec-validator refuses an undeclared one).
        for name in path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
            let declared = op.unwrap()["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true));
            assert!(declared, "{method} {path}: the path parameter {name} is not declared");
        }
    }
    app.stop().await;
}

/// The same story on both backends: import, restart, the state is rebuilt from the journal.
async fn restart_story(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(
        app.get_json("/health").await["storage"],
        if backend == Backend::Sqlite { "sqlite" } else { "postgres" }
    );
    assert_eq!(app.import(&registry(), "", Some("cpco")).await.status(), 200);
    let before = app.get_json("/api/v1/stock?limit=100").await;
    let first_base = app.base;
    let (cfg, dir) = app.stop().await;
    let app = TestApp::spawn_with(cfg, dir).await;
    // The users came back from the journal (only fresh tokens were added); nothing else was written.
    assert_eq!(app.base, first_base + 10 + common::USERS.len() as u64);
    assert_eq!(app.get_json("/health").await["last_seq"], app.base);
    assert_eq!(app.get_json("/api/v1/stock?limit=100").await, before);
    let again: Value = app.import(&registry(), "", None).await.json().await.unwrap();
    assert_eq!(again["report"]["events"], 0, "idempotent across restarts");
    let cfg = app.config.clone();
    app.stop().await;
    if backend == Backend::Postgres {
        tokio::task::spawn_blocking(move || {
            vigie_journal_postgres::PostgresStore::drop_schema(&cfg.storage.database, &cfg.storage.postgres_schema)
        })
        .await
        .unwrap()
        .unwrap();
    }
}

#[tokio::test]
async fn restart_rebuilds_the_state_on_sqlite() {
    restart_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn restart_rebuilds_the_state_on_postgres() {
    restart_story(Backend::Postgres).await;
}

#[tokio::test]
async fn ask_endpoints_answer_from_the_projection() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.push(("allowances.csv", "item_id,basis,quantity\nPLATE,person,2\nRATION,person_day,1\n"));
    files.push((
        "forces.csv",
        "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF1,Garde STA,STA,100,GS-IDF,2024-07-01,2024-08-31\n",
    ));
    assert_eq!(app.import(&files, "", None).await.status(), 200);

    // 2 plates × 100 persons; 1,200 serviceable at DEP1, 30 unserviceable at MRS.
    let s = app.get_json("/api/v1/ask/sufficiency?item=PLATE&on=2024-07-26").await;
    assert_eq!(
        (s["need"].as_i64(), s["on_hand"].as_i64(), s["serviceable"].as_i64()),
        (Some(200), Some(1230), Some(1200))
    );
    assert_eq!(
        (s["available"].as_i64(), s["shortfall"].as_i64(), s["coverage"].as_f64()),
        (Some(1200), Some(0), Some(6.0))
    );
    assert_eq!(s["by_organization"].as_array().unwrap().len(), 2);
    let mrs = app.get_json("/api/v1/ask/sufficiency?item=PLATE&on=2024-07-26&org=GS-MRS").await;
    assert_eq!(
        (mrs["need"].as_i64(), mrs["serviceable"].as_i64(), mrs["coverage"].is_null()),
        (Some(0), Some(0), true)
    );
    // Rations over 10 days: 1,000 needed, 500 held.
    let r = app.get_json("/api/v1/ask/sufficiency?item=RATION&on=2024-07-26&days=10").await;
    assert_eq!((r["need"].as_i64(), r["shortfall"].as_i64()), (Some(1000), Some(500)));
    let all = app.get_json("/api/v1/ask/sufficiency?all=true&on=2024-07-26").await;
    assert_eq!(all["items"][0]["item"], "RATION", "worst coverage first");

    let l = app.get_json("/api/v1/ask/locate?item=RATION&near=DEP1&headcount=100&on=2024-07-26").await;
    assert_eq!(l["sites"][0]["site_id"], "DEP1");
    assert_eq!(l["sites"][0]["distance_km"], 0.0);
    assert_eq!(l["totals"]["RATION"], 500);
    assert_eq!(l["autonomy_days_min"], 5.0);
    assert!(l["eta_basis"].as_str().unwrap().starts_with("estimate"));
    let l = app.get_json("/api/v1/ask/locate?item=PLATE&near=Marseille&on=2024-07-26").await;
    assert!(l["near"].as_str().unwrap().starts_with("Marseille (13"), "{}", l["near"]);
    assert_eq!(l["sites"][0]["site_id"], "DEP1", "only serviceable stock is located");

    // Bad questions: clear errors, the right status.
    let r = app.get("/api/v1/ask/sufficiency?item=NOPE").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "item NOPE not found");
    assert_eq!(app.get("/api/v1/ask/sufficiency?item=PLATE&on=demain").await.status(), 400);
    assert_eq!(app.get("/api/v1/ask/sufficiency?item=PLATE&org=NOPE").await.status(), 404);
    let r = app.get("/api/v1/ask/locate?item=PLATE&near=Nantess").await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("no French commune"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_plan_commits_never_reserve_more_than_is_available() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    // DEP1 holds 1,200 serviceable plates: 40 clients race to take 100 each.
    let body = serde_json::json!({
        "destination": "STA",
        "movements": [{"from": "DEP1", "item_id": "PLATE", "quantity": 100}],
        "purpose": "reinforce",
        "on": "2024-07-26"
    });
    let mut tasks = Vec::new();
    // The racers are the Île-de-France group: both sites are its own.
    let idf = app.client_as("idf");
    for _ in 0..40 {
        let (client, url, body) = (idf.clone(), app.url("/api/v1/plans"), body.clone());
        tasks.push(tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status().as_u16() }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|&&c| c == 201).count(), 12, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 409).count(), 28, "{codes:?}");
    let s = app.get_json("/api/v1/ask/sufficiency?item=PLATE&on=2024-07-26").await;
    assert_eq!((s["reserved"].as_i64(), s["available"].as_i64()), (Some(1200), Some(0)));

    // Ship one, receive it: stock moves from DEP1 to STA; cancel another: its reservation is released.
    let plans = app.get_json("/api/v1/plans?status=committed").await;
    let ids: Vec<String> =
        plans["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 12);
    // Plans are numbered in commit order, short enough to say on the radio: PLN-0001 … PLN-0012.
    let mut numbers = ids.clone();
    numbers.sort();
    assert_eq!(numbers, (1..=12).map(|n| format!("PLN-{n:04}")).collect::<Vec<_>>());
    let post = |path: String| {
        let c = app.client.clone();
        async move { c.post(path).send().await.unwrap() }
    };
    let r = post(app.url(&format!("/api/v1/plans/{}/ship", ids[0]))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "shipped");
    let s = app.get_json("/api/v1/ask/sufficiency?item=PLATE&on=2024-07-26").await;
    assert_eq!(
        (s["on_hand"].as_i64(), s["in_transit"].as_i64(), s["reserved"].as_i64()),
        (Some(1130), Some(100), Some(1100))
    );
    assert_eq!(post(app.url(&format!("/api/v1/plans/{}/receive", ids[0]))).await.status(), 200);
    assert_eq!(post(app.url(&format!("/api/v1/plans/{}/cancel", ids[1]))).await.status(), 200);
    let s = app.get_json("/api/v1/ask/sufficiency?item=PLATE&on=2024-07-26").await;
    assert_eq!(
        (s["on_hand"].as_i64(), s["in_transit"].as_i64(), s["available"].as_i64()),
        (Some(1230), Some(0), Some(200))
    );
    let sta = s["by_site"].as_array().unwrap().iter().find(|x| x["site_id"] == "STA").unwrap();
    assert_eq!(sta["on_hand"], 100, "received at the destination");
    // One site's holdings, item by item, every catalogue item included: the receipt is there.
    let here = app.get_json("/api/v1/ask/sufficiency?all=true&catalogue=true&site=STA&on=2024-07-26").await;
    let items = here["items"].as_array().unwrap();
    let catalogue = app.journal().state().items.len();
    assert_eq!(items.len(), catalogue, "every item of the catalogue, with or without an allowance");
    assert!(items.iter().all(|i| i["by_site"].as_array().unwrap().iter().all(|x| x["site_id"] == "STA")));
    let plate = items.iter().find(|i| i["item"] == "PLATE").unwrap();
    assert_eq!(plate["by_site"][0]["on_hand"], 100);
    // Wrong steps and unknown plans are refused clearly.
    assert_eq!(post(app.url(&format!("/api/v1/plans/{}/receive", ids[2]))).await.status(), 409, "not shipped yet");
    assert_eq!(post(app.url("/api/v1/plans/P-nope/ship")).await.status(), 404);
    let bad = app
        .client
        .post(app.url("/api/v1/plans"))
        .json(&serde_json::json!({"destination": "NOWHERE", "movements": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
    let events = app.get_json(&format!("/api/v1/events?after={}&limit=100", app.base + 10)).await;
    assert!(events["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "plan.committed" && e["actor"].as_str().unwrap().starts_with("user:idf/token:")));
    app.stop().await;
}

#[tokio::test]
async fn a_reinforcement_answer_commits_as_it_is() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.push((
        "vehicles.csv",
        "id,site_id,kind,seats,payload_kg,cargo_m3,speed_kmh,condition\nT1,DEP1,truck,2,1000,10,,serviceable\n",
    ));
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    // 400 plates of 2.9 kg weigh 1,160 kg: the 1,000 kg truck takes 344, the rest is unmet and said so.
    let r = app.get_json("/api/v1/ask/reinforce?site=STA&need=PLATE=400&on=2024-07-26&by=2099-01-01%2012:00").await;
    assert_eq!(r["loads"][0]["vehicle_id"], "T1");
    assert_eq!(r["sent"]["PLATE"], 344);
    assert_eq!(r["unmet"]["PLATE"], 56);
    assert_eq!(r["meets_deadline"], true);
    let committed = app.client.post(app.url("/api/v1/plans")).json(&r["proposed_plan"]).send().await.unwrap();
    assert_eq!(committed.status(), 201);
    let plan: Value = committed.json().await.unwrap();
    assert_eq!((plan["status"].as_str(), plan["purpose"].as_str()), (Some("committed"), Some("reinforce")));
    // The truck is now held: asking again, nothing can carry the plates.
    let again = app.get_json("/api/v1/ask/reinforce?site=STA&need=PLATE=10&on=2024-07-26").await;
    assert_eq!((again["loads"].as_array().unwrap().len(), again["unmet"]["PLATE"].as_i64()), (0, Some(10)));
    assert_eq!(app.get("/api/v1/ask/reinforce?site=STA&need=PLATE").await.status(), 400);
    assert_eq!(app.get("/api/v1/ask/reinforce?site=STA&need=PLATE=1&by=tomorrow").await.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn a_deployment_answer_commits_as_it_is_and_holds_its_vehicles() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.push(("allowances.csv", "item_id,basis,quantity\nPLATE,person,2\nRATION,person_day,1\n"));
    files.push((
        "vehicles.csv",
        "id,site_id,kind,seats,payload_kg,cargo_m3,speed_kmh,condition\nT1,DEP1,truck,2,1000,10,,serviceable\nB1,DEP1,bus,40,0,0,,serviceable\n",
    ));
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    // 10 persons for 2 days: 20 plates, 20 rations. The bus carries the persons, the truck the kit (it alone can).
    let r = app.get_json("/api/v1/ask/deploy?from=DEP1&to=STA&headcount=10&days=2&on=2024-07-26").await;
    let kit: Vec<(&str, i64)> = r["kit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["item_id"].as_str().unwrap(), k["need"].as_i64().unwrap()))
        .collect();
    assert_eq!(kit, vec![("PLATE", 20), ("RATION", 20)]);
    let legs = r["legs"].as_array().unwrap();
    let roles: Vec<(&str, &str)> =
        legs.iter().map(|l| (l["vehicle_id"].as_str().unwrap(), l["role"].as_str().unwrap())).collect();
    assert_eq!(roles, vec![("B1", "persons"), ("T1", "kit")], "the bus (80 km/h) arrives before the truck (70)");
    assert_eq!((legs[0]["persons"].as_i64(), legs[1]["items"]["PLATE"].as_i64()), (Some(10), Some(20)));
    assert_eq!(r["eta_min"], legs[1]["eta_min"]);
    assert_eq!(r["optimal"], true);
    assert!(r["eta_basis"].as_str().unwrap().starts_with("estimate"));
    let committed = app.client.post(app.url("/api/v1/plans")).json(&r["proposed_plan"]).send().await.unwrap();
    assert_eq!(committed.status(), 201);
    let plan: Value = committed.json().await.unwrap();
    assert_eq!((plan["purpose"].as_str(), plan["vehicles"][0].as_str()), (Some("deploy"), Some("B1")));
    // Both vehicles are held now: nothing can move anyone, and that is said.
    let again = app.get_json("/api/v1/ask/deploy?from=DEP1&to=STA&headcount=10&on=2024-07-26").await;
    assert_eq!((again["shortfall"]["persons"].as_i64(), again["legs"].as_array().unwrap().len()), (Some(10), 0));
    assert_eq!(again["shortfall"]["items"]["PLATE"], 20);
    // A commune works as a zone; the plan can only be committed to a site.
    let place = app.get_json("/api/v1/ask/deploy?from=Vincennes&to=Saint-Denis%2093&headcount=1&on=2024-07-26").await;
    assert!(place["from"]["label"].as_str().unwrap().starts_with("Vincennes"));
    assert!(place["proposed_plan"].is_null());
    assert_eq!(app.get("/api/v1/ask/deploy?from=DEP1&to=STA&headcount=0").await.status(), 400);
    assert_eq!(app.get("/api/v1/ask/deploy?from=Nulle-Part-sur-Mer&to=STA&headcount=5").await.status(), 400);
    assert_eq!(app.get("/api/v1/ask/deploy?from=DEP1&to=STA&headcount=5&on=hier").await.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn shift_of_effort_with_its_dry_run_and_what_if_questions() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.push(("allowances.csv", "item_id,basis,quantity\nPLATE,person,2\n"));
    files.push(("forces.csv", "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF1,Garde MRS,MRS,10,GS-MRS,2024-07-01,2024-08-31\n"));
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let before = app.get_json("/api/v1/ask/sufficiency?item=PLATE&on=2024-07-26&org=GS-IDF").await;
    assert_eq!(before["need"], 0);

    // Dry run: GS-IDF would take MRS (and F1): its need becomes 20 plates; nothing is written.
    let dry = serde_json::json!({"from": "GS-MRS", "to": "GS-IDF", "dry_run": true, "on": "2024-07-26"});
    let r: Value = app.client.post(app.url("/api/v1/shift")).json(&dry).send().await.unwrap().json().await.unwrap();
    let idf = r["effect"].as_array().unwrap().iter().find(|e| e["organization_id"] == "GS-IDF").unwrap();
    assert_eq!(
        (idf["items"][0]["before"]["need"].as_i64(), idf["items"][0]["after"]["need"].as_i64()),
        (Some(0), Some(20))
    );
    let seq = app.get_json("/health").await["last_seq"].clone();

    // What-if on any question: the same shift as a scenario, answered on a copy.
    let scenario = serde_json::json!({"scenario": {"name": "bascule", "changes": [
        {"shift_support": {"from": "GS-MRS", "to": "GS-IDF", "sites": ["MRS"]}}]}});
    let w: Value = app
        .client
        .post(app.url("/api/v1/ask/sufficiency?item=PLATE&on=2024-07-26&org=GS-IDF"))
        .json(&scenario)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((w["need"].as_i64(), w["what_if"]["name"].as_str()), (Some(20), Some("bascule")));
    assert_eq!(app.get_json("/health").await["last_seq"], seq, "what-if writes nothing");
    let bad = serde_json::json!({"scenario": {"changes": [{"lose_site": {"site": "NOPE"}}]}});
    let r = app.client.post(app.url("/api/v1/ask/locate?item=PLATE&near=DEP1")).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // The shift itself: an event with its actor; answers follow the new responsibility.
    let go = serde_json::json!({"from": "GS-MRS", "to": "GS-IDF", "reason": "GS Marseille saturé", "on": "2024-07-26"});
    let tactical = app.client_as("mrs").post(app.url("/api/v1/shift")).json(&go).send().await.unwrap();
    assert_eq!(tactical.status(), 403, "a tactical group does not shift effort");
    let r = app.client_as("cpco").post(app.url("/api/v1/shift")).json(&go).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let after = app.get_json("/api/v1/ask/sufficiency?item=PLATE&on=2024-07-26&org=GS-IDF").await;
    assert_eq!((after["need"].as_i64(), after["serviceable"].as_i64()), (Some(20), Some(1200)));
    assert_eq!(app.get_json("/api/v1/sites/MRS").await["organization_id"], "GS-IDF");
    let ev = app.get_json(&format!("/api/v1/events?after={seq}&kinds=support.shifted")).await;
    let shifted = ev["events"].as_array().unwrap().iter().find(|e| e["kind"] == "support.shifted").unwrap();
    assert!(shifted["actor"].as_str().unwrap().starts_with("user:cpco/token:"));
    // Nothing left to shift from GS-MRS.
    let again = app.client.post(app.url("/api/v1/shift")).json(&go).send().await.unwrap();
    assert_eq!(again.status(), 422);
    app.stop().await;
}

#[tokio::test]
async fn a_stream_that_falls_behind_catches_up_from_storage() {
    // A live buffer of 2 events: a batch of 10 makes the client lag, and it must still get all of them, in order.
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions { live_buffer: 2, ..Default::default() };
    let app = TestApp::spawn_with_options(cfg, dir, options).await;
    let live = app.client.get(app.url("/api/v1/events/stream")).send().await.unwrap();
    let reader = tokio::spawn(read_sse(live, 10));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let got = reader.await.unwrap();
    let b = app.base;
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        (b + 1..=b + 10).collect::<Vec<_>>(),
        "no event lost or repeated"
    );
    app.stop().await;
}

/// Who changed what, when: the audit trail by actor, object and time, over HTTP and from the command line.
#[tokio::test]
async fn the_audit_trail_answers_by_actor_object_and_time() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&registry(), "", Some("cpco")).await.status(), 200);
    let r = app
        .client_as("idf")
        .post(app.url("/api/v1/plans"))
        .json(&serde_json::json!({"destination": "STA", "movements": [{"from": "DEP1", "item_id": "PLATE", "quantity": 10}],
                                   "purpose": "reinforce", "on": "2024-07-26"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let bob = app.get_json("/api/v1/audit?actor=user:idf").await;
    let kinds: Vec<&str> = bob["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["plan.committed"]);
    let dep1 = app.get_json("/api/v1/audit?object=DEP1").await;
    let kinds: Vec<&str> = dep1["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["site.upserted", "stock.counted", "plan.committed"], "every event that names DEP1");
    let paged = app.get_json("/api/v1/audit?actor=user:cpco&limit=3").await;
    assert_eq!(paged["events"].as_array().unwrap().len(), 3);
    let rest = app.get_json(&format!("/api/v1/audit?actor=user:cpco&after={}", paged["next_after"])).await;
    assert_eq!(rest["events"].as_array().unwrap().len(), 10 - 3, "the import wrote 10 events");
    assert_eq!(app.get_json("/api/v1/audit?since=2100-01-01T00:00:00Z").await["events"].as_array().unwrap().len(), 0);
    assert_eq!(app.get("/api/v1/audit?since=hier").await.status(), 400);
    // The same from the command line, read-only beside the running server.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--data")
        .arg(app.dir.path())
        .args(["audit", "--actor", "user:idf"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], "plan.committed");
    app.stop().await;
}

/// Every answer carries the security headers; a request body past the bound is refused before it is read whole.
#[tokio::test]
async fn answers_carry_security_headers_and_bodies_are_bounded() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for path in ["/health", "/api/v1/sites", "/nothing"] {
        let r = app.get(path).await;
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("default-src 'self'"), "{path}");
    }
    let huge = format!("[{}]", vec!["{\"check\":\"X\",\"status\":\"OK\"}"; 400_000].join(","));
    assert!(huge.len() > 8 * 1024 * 1024);
    let r = app
        .client
        .post(app.url("/api/v1/monitoring/results"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    app.stop().await;
}

/// Found by the fuzzer (crates/vigie-fuzz): what axum's extractors refuse themselves (a body that is not the JSON
/// a what-if question or an acknowledgement takes, a path segment that is not UTF-8, a query that cannot be read,
/// a body over the limit) was answered in plain text. Every error is JSON: `{error, message}`, or ServiceNow's
/// envelope under `/api/now/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_answered_in_json_whatever_refuses_the_request() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let send = |method: reqwest::Method, path: &str, ct: Option<&str>, body: Vec<u8>| {
        let mut b = app.client.request(method, app.url(path)).body(body);
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        async move {
            let r = b.send().await.unwrap();
            let status = r.status().as_u16();
            let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            (status, ct, r.bytes().await.unwrap())
        }
    };
    use reqwest::Method as M;
    let json = Some("application/json");
    let vigie = [
        (M::POST, "/api/v1/ask/sufficiency?item=X", json, b"{".to_vec(), 400, "bad_request"),
        (M::POST, "/api/v1/ask/locate?item=X&near=Y", json, b"{\"scenario\": 1}".to_vec(), 422, "invalid"),
        (
            M::POST,
            "/api/v1/ask/deploy?from=X&to=Y&headcount=1",
            Some("text/plain"),
            b"{}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (M::POST, "/api/v1/monitoring/checks/X/ack", json, b"[]]".to_vec(), 400, "bad_request"),
        (M::POST, "/api/v1/monitoring/checks/X/ack", json, b"{\"comment\": 5}".to_vec(), 422, "invalid"),
        (M::GET, "/api/v1/sites?limit=many", None, vec![], 400, "bad_request"),
        (M::GET, "/api/v1/sites/%C3%28", None, vec![], 400, "bad_request"),
        (M::POST, "/api/v1/monitoring/results", json, vec![b' '; 9 << 20], 413, "payload_too_large"),
    ];
    for (method, path, ct, body, status, code) in vigie {
        let (s, content_type, bytes) = send(method.clone(), path, ct, body).await;
        let v: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{method} {path}: {s} {content_type}: {}", String::from_utf8_lossy(&bytes)));
        assert_eq!((s, v["error"].as_str()), (status, Some(code)), "{method} {path}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{method} {path}: {v}");
    }
    let (s, _, bytes) = send(M::PUT, "/api/now/table/incident/%C3%28", json, b"{}".to_vec()).await;
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(s, 400);
    assert_eq!(v["status"], "failure", "{v}");
    assert!(v["error"]["message"].is_string() && v["error"]["detail"].is_string(), "{v}");
    app.stop().await;
}
