//! Access control, black-box: every route with every role (and no credentials), the reach of a tactical group and
//! of a partner (reads, writes, live streams), tokens (scopes, expiry, revocation), browser sessions (cookie, CSRF,
//! idle timeout), the sign-in rate limit, refusals in the audit, and HTTPS.

mod common;

use common::{Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use vigie_domain::access::Role;

/// Who may pass, per route: `*` everyone signed in, `-` no one but the public, or role letters: a admin,
/// s strategic, t tactical, o toc, p partner, v viewer. Written here independently of the server's policy table.
const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/health", "public"),
    ("GET", "/", "public"),
    ("GET", "/favicon.ico", "public"),
    ("GET", "/ack/{token}", "public"),
    ("POST", "/ack/{token}", "public"),
    ("GET", "/status/{token}", "public"),
    ("GET", "/ui/{*path}", "public"),
    ("GET", "/api/v1/openapi.json", "public"),
    ("POST", "/api/v1/session", "public"),
    ("GET", "/api/v1/session", "public"),
    ("DELETE", "/api/v1/session", "*"),
    ("GET", "/api/v1/users", "a"),
    ("POST", "/api/v1/users", "a"),
    ("GET", "/api/v1/tokens", "*"),
    // A wall screen's read-only account mints no token.
    ("POST", "/api/v1/tokens", "astop"),
    ("DELETE", "/api/v1/tokens/{id}", "*"),
    ("GET", "/api/v1/audit", "a"),
    ("GET", "/api/v1/events", "*"),
    ("GET", "/api/v1/events/stream", "*"),
    ("GET", "/api/v1/organizations", "ast"),
    ("GET", "/api/v1/organizations/{id}", "ast"),
    ("GET", "/api/v1/sites", "*"),
    ("GET", "/api/v1/sites/{id}", "*"),
    ("GET", "/api/v1/items", "ast"),
    ("GET", "/api/v1/items/{id}", "ast"),
    ("GET", "/api/v1/stock", "ast"),
    ("GET", "/api/v1/forces", "ast"),
    ("GET", "/api/v1/forces/{id}", "ast"),
    ("GET", "/api/v1/allowances", "ast"),
    ("GET", "/api/v1/vehicles", "ast"),
    ("GET", "/api/v1/vehicles/{id}", "ast"),
    ("POST", "/api/v1/import", "*"),
    ("POST", "/api/v1/import/previews/{id}", "*"),
    ("GET", "/api/v1/ask/sufficiency", "ast"),
    ("POST", "/api/v1/ask/sufficiency", "ast"),
    ("GET", "/api/v1/ask/locate", "ast"),
    ("POST", "/api/v1/ask/locate", "ast"),
    ("GET", "/api/v1/ask/reinforce", "ast"),
    ("POST", "/api/v1/ask/reinforce", "ast"),
    ("GET", "/api/v1/ask/deploy", "ast"),
    ("POST", "/api/v1/ask/deploy", "ast"),
    ("POST", "/api/v1/shift", "as"),
    ("GET", "/api/v1/plans", "ast"),
    ("POST", "/api/v1/plans", "ast"),
    ("GET", "/api/v1/plans/{id}", "ast"),
    ("POST", "/api/v1/plans/{id}/{action}", "ast"),
    ("GET", "/api/v1/readiness", "asopv"),
    ("GET", "/api/v1/readiness/sites/{id}", "asop"),
    ("GET", "/api/v1/readiness/blockers", "asopv"),
    ("GET", "/api/v1/readiness/tasks", "asop"),
    ("POST", "/api/v1/readiness/tasks/{id}/progress", "aop"),
    ("GET", "/api/v1/readiness/computers", "asop"),
    ("GET", "/api/v1/readiness/computers/noncompliant", "asop"),
    ("GET", "/api/v1/oncall", "astop"),
    ("GET", "/api/v1/reports/discipline", "ast"),
    ("GET", "/api/v1/reports/logstat", "ast"),
    ("GET", "/api/v1/reports/sitrep", "astop"),
    ("GET", "/api/v1/reports", "astop"),
    ("POST", "/api/v1/reports", "astop"),
    ("GET", "/api/v1/reports/{id}", "astop"),
    ("POST", "/api/v1/reports/{id}/review", "aso"),
    ("GET", "/api/v1/reports/{id}/file", "astop"),
    ("GET", "/api/v1/exercises/scenarios", "*"),
    ("GET", "/api/v1/exercises", "*"),
    ("POST", "/api/v1/exercises", "aso"),
    ("GET", "/api/v1/exercises/{id}", "*"),
    ("POST", "/api/v1/exercises/{id}/join", "*"),
    ("POST", "/api/v1/exercises/{id}/control", "aso"),
    ("GET", "/api/v1/exercises/{id}/review", "aso"),
    ("POST", "/api/v1/exercise/leave", "public"),
    ("GET", "/api/v1/oncall/calendar", "astop"),
    ("GET", "/api/v1/oncall/escalation", "astop"),
    ("POST", "/api/v1/oncall/overrides", "aso"),
    ("POST", "/api/v1/oncall/rotations", "aso"),
    ("GET", "/api/v1/oncall/people", "astop"),
    ("POST", "/api/v1/oncall/people", "aso"),
    ("POST", "/api/v1/oncall/teams", "aso"),
    ("GET", "/api/v1/notifications", "astop"),
    ("GET", "/metrics", "asop"),
    ("POST", "/api/v1/monitoring/results", "ao"),
    ("POST", "/api/v1/monitoring/alertmanager", "ao"),
    ("GET", "/api/v1/monitoring/state", "asopv"),
    ("GET", "/api/v1/monitoring/checks", "asop"),
    ("GET", "/api/v1/monitoring/checks/{id}", "asop"),
    ("POST", "/api/v1/monitoring/checks/{id}/ack", "ao"),
    ("GET", "/api/v1/monitoring/history", "asopv"),
    ("GET", "/api/v1/monitoring/maintenance", "asop"),
    ("POST", "/api/v1/monitoring/maintenance", "ao"),
    ("DELETE", "/api/v1/monitoring/maintenance/{id}", "ao"),
    ("GET", "/api/v1/monitoring/stream", "asopv"),
    ("GET", "/api/v1/incidents", "asopv"),
    ("GET", "/api/v1/incidents/{id}", "asop"),
    ("GET", "/api/v1/incidents/{id}/timeline", "asop"),
    ("POST", "/api/v1/incidents/{id}/acknowledge", "aop"),
    ("GET", "/api/v1/incidents/{id}/notifications", "asop"),
    // The operations log is the TOC's: a partner works its incidents through the Table API.
    ("GET", "/api/v1/log", "aso"),
    ("POST", "/api/v1/log", "ao"),
    ("GET", "/api/v1/log/handover", "aso"),
    ("GET", "/api/now/table/{table}", "asop"),
    ("POST", "/api/now/table/{table}", "aop"),
    ("GET", "/api/now/table/{table}/{sys_id}", "asop"),
    ("PUT", "/api/now/table/{table}/{sys_id}", "aop"),
    ("PATCH", "/api/now/table/{table}/{sys_id}", "aop"),
    // Deleting is the TOC's, not a partner's.
    ("DELETE", "/api/now/table/{table}/{sys_id}", "ao"),
];

/// A concrete path for a pattern: ids that do not exist, so an allowed request changes nothing.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("{table}", "incident")
        .replace("{sys_id}", "0123456789abcdef0123456789abcdef")
        .replace("{action}", "ship")
        .replace("{id}", "NOPE")
        .replace("{*path}", "app.js")
}

const ROLES: &[(char, &str)] =
    &[('a', "admin"), ('s', "cpco"), ('t', "idf"), ('o', "toc"), ('p', "atos"), ('v', "mur")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_with_every_role_and_without_credentials() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // The table here covers exactly the server's routes.
    let ours: BTreeSet<(&str, &str)> = ROUTES.iter().map(|(m, p, _)| (*m, *p)).collect();
    let server: BTreeSet<(&str, &str)> = vigie_server::routes::ROUTES.iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(ours, server, "every route of the server is walked here, and only those");

    let anonymous = reqwest::Client::new();
    let mut wrong = Vec::new();
    for (method, pattern, who) in ROUTES {
        let path = concrete(pattern);
        let callers =
            std::iter::once(('-', anonymous.clone())).chain(ROLES.iter().map(|(c, u)| (*c, app.client_as(u))));
        for (letter, client) in callers {
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let mut req = client.request(m, app.url(&path));
            if *method != "GET" && *method != "DELETE" {
                req = req.json(&json!({}));
            }
            let status = req.send().await.unwrap().status().as_u16();
            let expected = match *who {
                "public" => true,
                "*" => letter != '-',
                roles => roles.contains(letter),
            };
            let passed = status != 401 && status != 403;
            if passed != expected {
                wrong.push(format!(
                    "{method} {path} as {letter}: {status}, expected {}",
                    if expected { "allowed" } else { "denied" }
                ));
            }
            if letter == '-' && !expected {
                assert_eq!(status, 401, "{method} {path} without credentials");
            }
        }
    }
    assert!(wrong.is_empty(), "{} mismatches:\n{}", wrong.len(), wrong.join("\n"));
    app.stop().await;
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A tactical group reads and changes its own organisation (and children), sees others only aggregated, and
/// cannot commit another organisation's plan.
#[tokio::test]
async fn a_tactical_group_reaches_its_own_organisation_only() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = common::registry();
    files.push(("allowances.csv", "item_id,basis,quantity\nPLATE,person,1\n"));
    files.push(("vehicles.csv", "id,kind,site_id,seats,payload_kg,cargo_m3,condition\nV1,VTL,DEP1,2,1000,6,serviceable\nV2,VTL,MRS,2,1000,6,serviceable\n"));
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let mrs = app.client_as("mrs");
    let get = |p: &str| {
        let (c, u) = (mrs.clone(), app.url(p));
        async move { json_of(c.get(u).send().await.unwrap()).await }
    };
    // Detailed reads: its own only.
    let (_, stock) = get("/api/v1/stock").await;
    let sites: Vec<&str> = stock["items"].as_array().unwrap().iter().map(|l| l["site_id"].as_str().unwrap()).collect();
    assert_eq!(sites, ["MRS"], "{stock}");
    assert_eq!(get("/api/v1/stock?site_id=DEP1").await.0, 403);
    assert_eq!(get("/api/v1/stock?organization_id=GS-IDF").await.0, 403);
    // A refusal carries a stable code and its parameters, which the UI says in French or English.
    let (status, refused) = get("/api/v1/sites/STA").await;
    assert_eq!((status, &refused["error"], &refused["code"]), (403, &json!("forbidden"), &json!("forbidden.outside")));
    assert_eq!(refused["params"], json!({"kind": "site", "id": "STA"}), "{refused}");
    let (status, missing) = get("/api/v1/plans/PLN-9999").await;
    assert_eq!(
        (status, &missing["code"], &missing["params"]["id"]),
        (404, &json!("not_found.plan"), &json!("PLN-9999"))
    );
    assert_eq!(get("/api/v1/sites/MRS").await.0, 200);
    assert_eq!(get("/api/v1/sites").await.1["total"], 1);
    let (_, vehicles) = get("/api/v1/vehicles").await;
    assert_eq!(vehicles["items"].as_array().unwrap().len(), 1);
    assert_eq!(get("/api/v1/vehicles/V1").await.0, 403);
    // Aggregated figures: everyone's.
    let (status, s) = get("/api/v1/ask/sufficiency?item=PLATE&on=2024-07-26").await;
    assert_eq!((status, s["serviceable"].as_i64()), (200, Some(1200)), "the national figure");
    let orgs: Vec<&str> =
        s["by_organization"].as_array().unwrap().iter().map(|o| o["organization_id"].as_str().unwrap()).collect();
    assert!(orgs.contains(&"GS-IDF"), "others aggregated by organisation: {orgs:?}");
    let sites: Vec<&str> = s["by_site"].as_array().unwrap().iter().map(|x| x["site_id"].as_str().unwrap()).collect();
    assert_eq!(sites, ["MRS"], "but not their sites");
    // Locating stock: within its reach only, and never another organisation's detail.
    let (status, located) = get("/api/v1/ask/locate?item=PLATE&near=MRS").await;
    assert_eq!(status, 200, "{located}");
    assert!(!located.to_string().contains("DEP1"), "{located}");
    assert_eq!(get("/api/v1/ask/locate?item=PLATE&near=MRS&org=GS-IDF").await.0, 403);
    let (status, reinforce) = get("/api/v1/ask/reinforce?site=MRS&need=PLATE=10").await;
    assert_eq!(status, 200, "{reinforce}");
    assert!(!reinforce.to_string().contains("DEP1"), "Paris's depot is not Marseille's to draw on: {reinforce}");
    assert_eq!(get("/api/v1/ask/reinforce?site=STA&need=PLATE=10").await.0, 403);
    let idf_view = app.client_as("idf").get(app.url("/api/v1/ask/reinforce?site=STA&need=PLATE=10")).send().await;
    assert!(json_of(idf_view.unwrap()).await.1.to_string().contains("DEP1"), "Paris draws on its own depot");

    // Plans: Marseille cannot commit Paris's plan; Paris can; Paris cannot send to Marseille.
    let plan = json!({"destination": "STA", "movements": [{"from": "DEP1", "item_id": "PLATE", "quantity": 10}],
                      "purpose": "reinforce", "on": "2024-07-26"});
    let seq = app.get_json("/health").await["last_seq"].clone();
    let (status, body) = json_of(mrs.post(app.url("/api/v1/plans")).json(&plan).send().await.unwrap()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "forbidden.plan_reach", "{body}");
    assert_eq!(app.get_json("/health").await["last_seq"].as_u64(), seq.as_u64().map(|s| s + 1), "only the refusal");
    let idf = app.client_as("idf");
    let (status, committed) = json_of(idf.post(app.url("/api/v1/plans")).json(&plan).send().await.unwrap()).await;
    assert_eq!(status, 201, "{committed}");
    let id = committed["id"].as_str().unwrap();
    assert_eq!(get(&format!("/api/v1/plans/{id}")).await.0, 403, "Marseille does not see it");
    assert_eq!(get("/api/v1/plans").await.1["total"], 0);
    let ship = mrs.post(app.url(&format!("/api/v1/plans/{id}/cancel"))).send().await.unwrap();
    assert_eq!(ship.status(), 403, "nor cancels it");
    let away = json!({"destination": "MRS", "movements": [{"from": "DEP1", "item_id": "PLATE", "quantity": 5}],
                      "on": "2024-07-26"});
    assert_eq!(idf.post(app.url("/api/v1/plans")).json(&away).send().await.unwrap().status(), 403);

    // Imports: its own rows only; the national catalogue is not its.
    let theirs =
        [("stock.csv", "site_id,item_id,quantity,condition,counted_at\nDEP1,PLATE,1,serviceable,2024-07-21 08:00\n")];
    let r = app.import(&theirs, "", Some("mrs")).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("stock at site DEP1 is outside your reach"));
    let items =
        [("items.csv", "id,name,category,unit,unit_mass_kg,unit_volume_m3\nNEW,Nouveau,divers,pièce,1,0.001\n")];
    assert_eq!(app.import(&items, "", Some("mrs")).await.status(), 403);
    let ours =
        [("stock.csv", "site_id,item_id,quantity,condition,counted_at\nMRS,PLATE,40,serviceable,2024-07-21 08:00\n")];
    assert_eq!(app.import(&ours, "", Some("mrs")).await.status(), 200);
    let (_, stock) = get("/api/v1/stock?site_id=MRS&item_id=PLATE").await;
    assert_eq!(stock["items"][0]["quantity"], 40);
    app.stop().await;
}

/// Live streams carry only what the caller may see: a tactical group its organisation's events, a partner its
/// incidents; neither sees accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_are_narrowed_to_the_callers_reach() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let open = |user: &str| {
        let (c, u) = (app.client_as(user), app.url("/api/v1/events/stream"));
        async move { c.get(u).send().await.unwrap() }
    };
    let mrs_stream = open("mrs").await;
    let atos_stream = open("atos").await;
    let mrs_reader = tokio::spawn(common::read_sse(mrs_stream, 7));
    let atos_reader = tokio::spawn(common::read_sse(atos_stream, 1));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.import(&common::registry(), "", None).await.status(), 200);
    // A marker Marseille may see: if anything outside its reach had leaked, it would come before.
    let marker =
        [("stock.csv", "site_id,item_id,quantity,condition,counted_at\nMRS,RATION,5,serviceable,2024-07-21 08:00\n")];
    assert_eq!(app.import(&marker, "", None).await.status(), 200);
    let got = mrs_reader.await.unwrap();
    let seen: Vec<(String, String)> = got
        .iter()
        .map(|(_, kind, e)| {
            let p = &e["payload"];
            (kind.clone(), p["site_id"].as_str().or(p["id"].as_str()).unwrap_or("").to_string())
        })
        .collect();
    let kinds: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "organization.upserted",
            "organization.upserted",
            "organization.upserted",
            "site.upserted",
            "item.upserted",
            "item.upserted",
            "stock.counted"
        ],
        "{seen:?}"
    );
    assert_eq!(seen[3].1, "MRS");
    assert_eq!(seen[6].1, "MRS");
    assert!(!seen.iter().any(|(_, id)| id == "DEP1" || id == "STA"), "{seen:?}");

    // Two incidents, for two support groups: the partner receives its own only.
    let toc = app.client_as("toc");
    for group in ["ORANGE", "ATOS"] {
        let body = json!({"short_description": format!("Panne {group}"), "assignment_group": group, "impact": 2, "urgency": 2});
        assert_eq!(toc.post(app.url("/api/now/table/incident")).json(&body).send().await.unwrap().status(), 201);
    }
    let got = atos_reader.await.unwrap();
    assert_eq!(got[0].1, "incident.recorded");
    assert_eq!(got[0].2["payload"]["assignment_group"], "ATOS");
    // The same through the Table API and the incident list.
    let atos = app.client_as("atos");
    let (_, list) = json_of(atos.get(app.url("/api/now/table/incident")).send().await.unwrap()).await;
    let groups: Vec<&str> =
        list["result"].as_array().unwrap().iter().map(|i| i["assignment_group"].as_str().unwrap()).collect();
    assert_eq!(groups, ["ATOS"]);
    let (_, all) = json_of(toc.get(app.url("/api/now/table/incident")).send().await.unwrap()).await;
    let orange = all["result"].as_array().unwrap().iter().find(|i| i["assignment_group"] == "ORANGE").unwrap();
    let path = format!("/api/now/table/incident/{}", orange["sys_id"].as_str().unwrap());
    assert_eq!(atos.get(app.url(&path)).send().await.unwrap().status(), 404);
    let patch = atos.patch(app.url(&path)).json(&json!({"state": "2"})).send().await.unwrap();
    assert_eq!(patch.status(), 404, "nor changes it");
    let (_, incidents) = json_of(atos.get(app.url("/api/v1/incidents")).send().await.unwrap()).await;
    assert_eq!(incidents["incidents"].as_array().unwrap().len(), 1);
    // A partner cannot hand its incident to another group.
    let mine = list["result"][0]["sys_id"].as_str().unwrap();
    let away = atos
        .patch(app.url(&format!("/api/now/table/incident/{mine}")))
        .json(&json!({"assignment_group": "ORANGE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(away.status(), 403);
    // Accounts are for administrators only, and hashes are never shown.
    let (_, events) =
        json_of(app.client_as("cpco").get(app.url("/api/v1/events?limit=1000")).send().await.unwrap()).await;
    assert!(!events["events"].as_array().unwrap().iter().any(|e| e["kind"] == "token.issued"));
    let (_, events) = json_of(app.client.get(app.url("/api/v1/events?limit=1000")).send().await.unwrap()).await;
    let issued: Vec<&Value> =
        events["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "token.issued").collect();
    assert!(!issued.is_empty() && issued.iter().all(|e| e["payload"]["hash"] == "(hidden)"));
    app.stop().await;
}

/// Tokens carry a subset of their user's permissions, expire, and stop working once revoked.
#[tokio::test]
async fn tokens_have_scopes_expire_and_can_be_revoked() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let toc = app.client_as("toc");
    let issue = |body: Value| {
        let (c, u) = (toc.clone(), app.url("/api/v1/tokens"));
        async move { json_of(c.post(u).json(&body).send().await.unwrap()).await }
    };
    // A read-only token for a dashboard: it reads, it does not write.
    let (status, t) = issue(json!({"label": "tableau", "scopes": ["monitoring:read"]})).await;
    assert_eq!(status, 201, "{t}");
    let reader = common::client_with(t["token"].as_str().unwrap());
    assert_eq!(reader.get(app.url("/api/v1/monitoring/state")).send().await.unwrap().status(), 200);
    let write = reader.post(app.url("/api/v1/monitoring/results")).json(&json!({"check": "X", "status": "OK"}));
    assert_eq!(write.send().await.unwrap().status(), 403);
    assert_eq!(reader.get(app.url("/api/v1/incidents")).send().await.unwrap().status(), 403, "not in its scopes");
    // Never more than the role grants, never for someone else.
    assert_eq!(issue(json!({"scopes": ["logistics:read"]})).await.0, 403);
    assert_eq!(issue(json!({"user": "admin"})).await.0, 403);
    assert_eq!(issue(json!({"scopes": ["nope"]})).await.0, 422);

    // Expiry: a token valid for two seconds.
    let soon = chrono::Utc::now() + chrono::Duration::seconds(2);
    let (status, short) = issue(json!({"scopes": ["monitoring:read"], "expires_at": soon})).await;
    assert_eq!(status, 201);
    let short = common::client_with(short["token"].as_str().unwrap());
    assert_eq!(short.get(app.url("/api/v1/monitoring/state")).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let expired = short.get(app.url("/api/v1/monitoring/state")).send().await.unwrap();
    assert_eq!(expired.status(), 401);
    assert!(expired.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));

    // Revocation: at once; only its owner (or an administrator) may revoke it.
    let id = t["id"].as_str().unwrap();
    let other = app.client_as("mur").delete(app.url(&format!("/api/v1/tokens/{id}"))).send().await.unwrap();
    assert_eq!(other.status(), 404, "not the viewer's token");
    assert_eq!(toc.delete(app.url(&format!("/api/v1/tokens/{id}"))).send().await.unwrap().status(), 204);
    assert_eq!(reader.get(app.url("/api/v1/monitoring/state")).send().await.unwrap().status(), 401);
    let (_, listed) = json_of(toc.get(app.url("/api/v1/tokens")).send().await.unwrap()).await;
    let listed = listed["tokens"].as_array().unwrap();
    assert!(listed.iter().all(|t| t["user"] == "toc"), "its own tokens only");
    assert!(listed.iter().any(|t| t["id"] == id && t["valid"] == false && !t["revoked_at"].is_null()));
    assert!(!listed.iter().any(|t| t.get("hash").is_some() || t.get("token").is_some()), "no secret listed");

    // The audit names the token behind each change.
    let r = app.client.get(app.url(&format!("/api/v1/audit?actor=user:toc&object={id}"))).send().await.unwrap();
    let (_, audit) = json_of(r).await;
    let kinds: Vec<&str> = audit["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["token.issued", "token.revoked"]);
    app.stop().await;
}

fn cookie_of(r: &reqwest::Response) -> String {
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    set.split(';').next().unwrap().to_string()
}

/// Browser sessions: an HttpOnly, SameSite cookie; writes need the session's CSRF token; sign-out and idle time
/// end it.
#[tokio::test]
async fn sessions_need_their_csrf_token_to_write_and_end_when_idle() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions {
        active_checks: false,
        sessions: vigie_server::auth::SessionLimits { idle: Duration::from_millis(1500), max: Duration::from_secs(60) },
        ..Default::default()
    };
    let mut app = TestApp::spawn_with_options(cfg, dir, options).await;
    app.add_user("alice", Role::Toc, None, "mot-de-passe-alice").await;
    let browser = reqwest::Client::new();
    let login = |password: &'static str| {
        let (c, u) = (browser.clone(), app.url("/api/v1/session"));
        async move { c.post(u).json(&json!({"user": "alice", "password": password})).send().await.unwrap() }
    };
    let r = login("mot-de-passe-alice").await;
    assert_eq!(r.status(), 200);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP here: the browser would drop a Secure cookie");
    let cookie = cookie_of(&r);
    let me: Value = r.json().await.unwrap();
    assert_eq!((me["user"].as_str(), me["role"].as_str()), (Some("alice"), Some("toc")));
    let csrf = me["csrf_token"].as_str().unwrap().to_string();

    let entry = json!({"text": "Prise de quart", "kind": "note"});
    let with_cookie = |m: Method, p: &str| browser.request(m, app.url(p)).header("cookie", &cookie);
    assert_eq!(with_cookie(Method::GET, "/api/v1/session").send().await.unwrap().status(), 200);
    let forged = with_cookie(Method::POST, "/api/v1/log").json(&entry).send().await.unwrap();
    assert_eq!(forged.status(), 403, "a cross-site form has the cookie, not the token");
    let wrong = with_cookie(Method::POST, "/api/v1/log").header("x-csrf-token", "devine").json(&entry).send().await;
    assert_eq!(wrong.unwrap().status(), 403);
    let ok = with_cookie(Method::POST, "/api/v1/log").header("x-csrf-token", &csrf).json(&entry).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap()["entry"]["by"], "user:alice");

    // Idle past the timeout: the session has ended.
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let ended = with_cookie(Method::GET, "/api/v1/session").send().await.unwrap();
    assert_eq!(ended.json::<Value>().await.unwrap()["user"], Value::Null, "nobody signed in any more");
    let write = with_cookie(Method::POST, "/api/v1/log").header("x-csrf-token", &csrf).json(&entry).send().await;
    assert_eq!(write.unwrap().status(), 401);
    // Sign-out ends a session at once.
    let r = login("mot-de-passe-alice").await;
    let cookie = cookie_of(&r);
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let out = browser.delete(app.url("/api/v1/session")).header("cookie", &cookie).header("x-csrf-token", &csrf);
    assert_eq!(out.send().await.unwrap().status(), 204);
    let after = browser.get(app.url("/api/v1/tokens")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(after.status(), 401);

    // Sessions opened are in the audit.
    let audit = app.get_json("/api/v1/audit?actor=user:alice").await;
    let kinds: Vec<&str> = audit["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.iter().filter(|k| **k == "session.opened").count() == 2, "{kinds:?}");
    app.stop().await;
}

/// Repeated wrong passwords: the sign-in is refused for a while (even with the right password), and every failure
/// is in the audit.
#[tokio::test]
async fn sign_ins_are_rate_limited_and_failures_audited() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions { active_checks: false, login_max_failures: 3, ..Default::default() };
    let mut app = TestApp::spawn_with_options(cfg, dir, options).await;
    app.add_user("bob", Role::Viewer, None, "le-bon-mot-de-passe").await;
    let c = reqwest::Client::new();
    let try_login = |password: &'static str| {
        let (c, u) = (c.clone(), app.url("/api/v1/session"));
        async move { c.post(u).json(&json!({"user": "bob", "password": password})).send().await.unwrap() }
    };
    for _ in 0..3 {
        let r = try_login("faux").await;
        assert_eq!(r.status(), 401);
        let body = r.text().await.unwrap();
        assert!(body.contains("wrong user name or password") && !body.contains("faux"), "{body}");
    }
    let blocked = try_login("le-bon-mot-de-passe").await;
    assert_eq!(blocked.status(), 429, "the limit holds even for the right password");
    let wait: u64 = blocked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    // Basic credentials count against the same limit.
    let basic = c.get(app.url("/api/v1/sites")).basic_auth("bob", Some("le-bon-mot-de-passe")).send().await.unwrap();
    assert_eq!(basic.status(), 429);
    // Another user is not blocked by bob's failures from another address… but this address is: 3 failures.
    let audit = app.get_json("/api/v1/audit?actor=user:bob").await;
    let reasons: Vec<&str> =
        audit["events"].as_array().unwrap().iter().filter_map(|e| e["payload"]["reason"].as_str()).collect();
    assert_eq!(reasons, ["login failed", "login failed", "login failed", "rate limited", "rate limited"]);
    // A refused request is audited with who made it.
    let denied = app.client_as("mur").get(app.url("/api/v1/audit")).send().await.unwrap();
    assert_eq!(denied.status(), 403);
    let audit = app.get_json("/api/v1/audit?actor=user:mur").await;
    let e = audit["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((e["kind"].as_str(), e["payload"]["reason"].as_str()), (Some("access.denied"), Some("forbidden")));
    assert_eq!(e["payload"]["path"], "/api/v1/audit");
    app.stop().await;
}

/// Administrators manage users over HTTP; a new user without a password gets one, shown once.
#[tokio::test]
async fn administrators_create_users_with_their_reach() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&common::registry(), "", None).await.status(), 200);
    let post = |body: Value| {
        let (c, u) = (app.client.clone(), app.url("/api/v1/users"));
        async move { json_of(c.post(u).json(&body).send().await.unwrap()).await }
    };
    let (status, created) = post(json!({"name": "chef-idf", "role": "tactical", "organization_id": "GS-IDF"})).await;
    assert_eq!(status, 201, "{created}");
    let password = created["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 32);
    assert!(created["user"].get("password_hash").is_none());
    let (status, _) = post(json!({"name": "sans-org", "role": "tactical"})).await;
    assert_eq!(status, 422, "a tactical user needs an organisation");
    let (status, body) = post(json!({"name": "x", "role": "tactical", "organization_id": "GS-NOPE"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["problems"][0]["file"], "organization_id", "located at the field: {body}");
    assert_eq!(post(json!({"name": "Majuscule", "role": "viewer"})).await.0, 422);
    // The new user signs in with the password it was given, and reaches its organisation.
    let c = reqwest::Client::new();
    let sites = c.get(app.url("/api/v1/sites")).basic_auth("chef-idf", Some(&password)).send().await.unwrap();
    assert_eq!(json_of(sites).await.1["total"], 2);
    // Disabled: refused at once.
    let (status, _) =
        post(json!({"name": "chef-idf", "role": "tactical", "organization_id": "GS-IDF", "disabled": true})).await;
    assert_eq!(status, 200);
    let r = c.get(app.url("/api/v1/sites")).basic_auth("chef-idf", Some(&password)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (_, users) = json_of(app.client.get(app.url("/api/v1/users")).send().await.unwrap()).await;
    assert!(!users.to_string().contains("argon2"), "no hash is listed");
    app.stop().await;
}

/// HTTPS with rustls: the certificate and key of `--tls-cert`/`--tls-key`; the session cookie is then Secure.
#[tokio::test]
async fn https_serves_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    common::test_pki(dir.path(), 1);
    let (cert, key, ca) = (dir.path().join("leaf.pem"), dir.path().join("leaf.key"), dir.path().join("ca.pem"));
    let files =
        vigie_server::tls::TlsFiles { cert_pem: std::fs::read(&cert).unwrap(), key_pem: std::fs::read(&key).unwrap() };
    let data = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, data.path().to_path_buf());
    let options = vigie_server::ServerOptions { active_checks: false, tls: Some(files), ..Default::default() };
    let mut app = TestApp::spawn_with_options(cfg, data, options).await;
    app.add_user("alice", Role::Viewer, None, "mot-de-passe-alice").await;
    let root = reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap();
    let c = reqwest::Client::builder().add_root_certificate(root).build().unwrap();
    let url = |p: &str| format!("https://{}{p}", app.addr);
    assert_eq!(c.get(url("/health")).send().await.unwrap().status(), 200);
    let r = c.post(url("/api/v1/session")).json(&json!({"user": "alice", "password": "mot-de-passe-alice"})).send();
    let r = r.await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("; Secure"));
    // Plain HTTP on the same port gets no answer.
    assert!(reqwest::get(app.url("/health")).await.is_err());
    // A client that does not trust the certificate is refused by its own TLS check.
    assert!(reqwest::get(url("/health")).await.is_err());
    // A key that is not one is refused at start with a clear error.
    let bad = vigie_server::tls::TlsFiles { cert_pem: std::fs::read(&cert).unwrap(), key_pem: b"nope".to_vec() };
    assert!(bad.config().unwrap_err().to_string().contains("no private key"));
    app.stop().await;
}

/// A session outlives a restart (a wall screen reconnects by itself), with the same CSRF token; once signed out, it
/// does not come back.
#[tokio::test]
async fn a_session_outlives_a_restart_until_signed_out() {
    let mut app = TestApp::spawn(Backend::Sqlite).await;
    app.add_user("mur2", Role::Viewer, None, "mot-de-passe-mur").await;
    let c = reqwest::Client::new();
    let login = |app: &TestApp| {
        let r =
            c.post(app.url("/api/v1/session")).json(&json!({"user": "mur2", "password": "mot-de-passe-mur"})).send();
        async move { r.await.unwrap() }
    };
    let r = login(&app).await;
    let cookie = cookie_of(&r);
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let (cfg, dir) = app.stop().await;
    let app = TestApp::spawn_with(cfg, dir).await;
    let me: Value =
        c.get(app.url("/api/v1/session")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!((me["user"].as_str(), me["csrf_token"].as_str()), (Some("mur2"), Some(csrf.as_str())));
    let state = c.get(app.url("/api/v1/monitoring/state")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(state.status(), 200);
    let out = c.delete(app.url("/api/v1/session")).header("cookie", &cookie).header("x-csrf-token", &csrf);
    assert_eq!(out.send().await.unwrap().status(), 204);
    let (cfg, dir) = app.stop().await;
    let app = TestApp::spawn_with(cfg, dir).await;
    let state = c.get(app.url("/api/v1/monitoring/state")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(state.status(), 401, "signed out before the restart: gone for good");
    app.stop().await;
}

/// The wall screen's account reads the wall and nothing else: the states and their changes, and of the incidents
/// only the major ones' headlines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_account_reads_the_wall_and_nothing_else() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let toc = app.client_as("toc");
    for (text, impact) in [("Coupure Bercy", 1), ("Imprimante", 3)] {
        let r = toc
            .post(app.url("/api/now/table/incident"))
            .json(&serde_json::json!({"short_description": text, "impact": impact, "urgency": impact,
                                      "description": "détail interne"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let wall = app.client_as("mur");
    let get = |path: &'static str| {
        let (wall, url) = (wall.clone(), app.url(path));
        async move { wall.get(url).send().await.unwrap() }
    };
    let list: serde_json::Value = get("/api/v1/incidents").await.json().await.unwrap();
    let rows = list["incidents"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "the major one only: {list}");
    assert_eq!(rows[0]["incident"]["short_description"], "Coupure Bercy");
    assert!(rows[0]["incident"]["description"].is_null() && rows[0]["sla"].is_null(), "a headline: {list}");
    for path in ["/api/v1/monitoring/state", "/api/v1/monitoring/history"] {
        assert_eq!(get(path).await.status(), 200, "{path}");
    }
    for path in ["/api/v1/stock", "/api/v1/log", "/api/v1/monitoring/checks", "/api/v1/incidents/INC0000001"] {
        assert_eq!(get(path).await.status(), 403, "{path}");
    }
    app.stop().await;
}
