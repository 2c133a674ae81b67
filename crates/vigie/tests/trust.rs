//! The trust boundary, attacked as an adversary would: each test replays a finding of the adversarial review
//! (issue 13) through the public HTTP API and checks it is refused, with nothing written.

mod common;

use common::{registry, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use vigie_domain::access::Role;

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn last_seq(app: &TestApp) -> u64 {
    app.get_json("/health").await["last_seq"].as_u64().unwrap()
}

/// The journal's events after `seq`, by kind.
async fn kinds_after(app: &TestApp, seq: u64) -> Vec<String> {
    let ev = app.get_json(&format!("/api/v1/events?after={seq}&limit=1000")).await;
    ev["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

const VEHICLES: &str = "id,kind,site_id,seats,payload_kg,cargo_m3,condition\n\
    V-IDF,VTL,DEP1,2,1000,6,serviceable\nV-MRS,VTL,MRS,2,1000,6,serviceable\n";
const FORCES: &str = "id,name,site_id,headcount,organization_id,starts_on,ends_on\n\
    F-IDF,Garde STA,STA,100,GS-IDF,2024-07-01,2024-08-31\n";

/// Marseille's group, by import and by plan, cannot change, move or hold what belongs to Île-de-France — judged on
/// the record as it is and as it would be — nor raise its own organisation; within its own tree it can.
#[tokio::test]
async fn a_tactical_group_cannot_change_move_or_hold_another_organisations_records() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.extend([("vehicles.csv", VEHICLES), ("forces.csv", FORCES)]);
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let refused = |name: &'static str, body: &'static str, who: &'static str| {
        let app = &app;
        async move {
            let before = last_seq(app).await;
            let (status, answer) = json_of(app.import(&[(name, body)], "", Some(who)).await).await;
            let written = kinds_after(app, before).await;
            (status, answer, written)
        }
    };
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "moving Paris's vehicle to a Marseille depot",
            "vehicles.csv",
            "id,kind,site_id,seats,payload_kg,cargo_m3,condition\nV-IDF,VTL,MRS,2,1000,6,serviceable\n",
            "mrs",
        ),
        (
            "rewriting Paris's force as Marseille's",
            "forces.csv",
            "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF-IDF,Garde,MRS,100,GS-MRS,2024-07-01,2024-08-31\n",
            "mrs",
        ),
        (
            "re-importing its own organisation as strategic, without a parent",
            "organizations.csv",
            "id,name,level,parent_id\nGS-MRS,Groupement Marseille,strategic,\n",
            "mrs",
        ),
        (
            "moving its own organisation under another parent",
            "organizations.csv",
            "id,name,level,parent_id\nGS-MRS,Groupement Marseille,tactical,GS-IDF\n",
            "mrs",
        ),
        (
            "creating an organisation under Paris",
            "organizations.csv",
            "id,name,level,parent_id\nGS-X,Intrus,tactical,GS-IDF\n",
            "mrs",
        ),
        (
            "Paris moving its own vehicle into Marseille's depot (out of its reach as it would be)",
            "vehicles.csv",
            "id,kind,site_id,seats,payload_kg,cargo_m3,condition\nV-IDF,VTL,MRS,2,1000,6,serviceable\n",
            "idf",
        ),
        (
            "Paris taking Marseille's stadium",
            "sites.csv",
            "id;name;kind;lat;lon;organization_id;city\nMRS;Stade de Marseille;venue;43,2698;5,3959;GS-IDF;Marseille\n",
            "idf",
        ),
    ];
    for (what, file, body, who) in cases {
        let (status, answer, written) = refused(file, body, who).await;
        assert_eq!(status, 403, "{what}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("outside your reach")
                || answer["message"].as_str().unwrap().contains("strategic centre"),
            "{what}: {answer}"
        );
        assert_eq!(written, ["access.denied"], "{what}: only the refusal is journalled");
    }
    assert_eq!(app.get_json("/api/v1/vehicles/V-IDF").await["site_id"], "DEP1");
    assert_eq!(app.get_json("/api/v1/forces/F-IDF").await["organization_id"], "GS-IDF");
    let mrs = app.get_json("/api/v1/organizations/GS-MRS").await;
    assert_eq!((mrs["level"].as_str(), mrs["parent_id"].as_str()), (Some("tactical"), Some("CPCO")));

    // Within its own tree, as it would be with the whole import: a new sub-group and a site of it.
    let own = [
        ("organizations.csv", "id,name,level,parent_id\nGS-MRS-N,Marseille Nord,tactical,GS-MRS\n"),
        (
            "sites.csv",
            "id;name;kind;lat;lon;organization_id;city\nMRS-N;Dépôt nord;depot;43,35;5,36;GS-MRS-N;Marseille\n",
        ),
    ];
    let (status, answer) = json_of(app.import(&own, "", Some("mrs")).await).await;
    assert_eq!(status, 200, "{answer}");
    let cycle = [("organizations.csv", "id,name,level,parent_id\nGS-MRS,Groupement Marseille,tactical,CPCO\nGS-MRS-N,Marseille Nord,tactical,GS-MRS-N\n")];
    let (status, body) = json_of(app.import(&cycle, "", Some("mrs")).await).await;
    assert_eq!(status, 422, "an organisation is not its own parent: {body}");

    // Plans: holding Paris's vehicle is refused; its own vehicle, granted.
    let mrs = app.client_as("mrs");
    let plan =
        |vehicle: &str| json!({"destination": "MRS", "vehicles": [vehicle], "purpose": "renfort", "on": "2024-07-26"});
    let (status, answer) = json_of(mrs.post(app.url("/api/v1/plans")).json(&plan("V-IDF")).send().await.unwrap()).await;
    assert_eq!(status, 403, "{answer}");
    assert!(app.get_json("/api/v1/plans").await["items"].as_array().unwrap().is_empty(), "nothing committed");
    let (status, answer) = json_of(mrs.post(app.url("/api/v1/plans")).json(&plan("V-MRS")).send().await.unwrap()).await;
    assert_eq!(status, 201, "{answer}");
    // Paris cannot cancel Marseille's plan, nor see it.
    let id = answer["id"].as_str().unwrap();
    let idf = app.client_as("idf");
    assert_eq!(idf.post(app.url(&format!("/api/v1/plans/{id}/cancel"))).send().await.unwrap().status(), 403);
    app.stop().await;
}

const TOC: &[(&str, &str)] = &[
    ("partners.csv", "id;name\nATOS;Atos\nCISCO;Cisco\n"),
    (
        "applications.csv",
        "id;name;suite;criticality;partner_id;rollup\nODS-RES;Diffusion des résultats;ODS;critical;ATOS;worst\n\
         NET-CORE;Cœur de réseau;INF;critical;CISCO;worst\n",
    ),
    (
        "checks.csv",
        "id;target;site_id;kind;interval_s;timeout_s;application_id;max_attempts\nODS-STA;ods-sta;STA;push;60;5;ODS-RES;1\n\
         ODS-MRS;ods-mrs;MRS;push;60;5;ODS-RES;1\nNET-STA;net-sta;STA;push;60;5;NET-CORE;1\n\
         NET-MRS;net-mrs;MRS;push;60;5;NET-CORE;1\nNET-DEP;net-dep;DEP1;push;60;5;NET-CORE;1\n",
    ),
];

fn toc() -> Vec<(&'static str, &'static str)> {
    let mut f = registry();
    f.extend(TOC.iter().copied());
    f
}

/// A token scoped `monitoring:write` (the agents' token the docs recommend) cannot create or change a check that
/// runs a program; an administrator can, and only an administrator changes one back.
#[tokio::test]
async fn the_monitoring_token_cannot_create_a_command_check() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&toc(), "", None).await.status(), 200);
    let issued = app
        .client_as("toc")
        .post(app.url("/api/v1/tokens"))
        .json(&json!({"label": "agent", "scopes": ["monitoring:write"]}))
        .send()
        .await
        .unwrap();
    let (status, t) = json_of(issued).await;
    assert_eq!(status, 201, "{t}");
    let agent = common::client_with(t["token"].as_str().unwrap());
    let evil = "id;target;site_id;kind;interval_s;timeout_s\nPWN;/usr/bin/touch /tmp/vigie-pwned;STA;command;1;5\n";
    let mut form = reqwest::multipart::Form::new();
    form = form.part("file", reqwest::multipart::Part::bytes(evil.as_bytes().to_vec()).file_name("checks.csv"));
    let before = last_seq(&app).await;
    let (status, answer) = json_of(agent.post(app.url("/api/v1/import")).multipart(form).send().await.unwrap()).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("monitoring:commands"), "{answer}");
    assert_eq!(kinds_after(&app, before).await, ["access.denied"]);
    // Nor can the TOC operator itself, whatever its token.
    assert_eq!(app.import(&[("checks.csv", evil)], "", Some("toc")).await.status(), 403);

    // A target a shell would act on is refused where it is written, whoever writes it, the cell located.
    let shell = "id;target;site_id;kind;interval_s;timeout_s\nPWN;id > /tmp/vigie-pwned;STA;command;1;5\n";
    let (status, answer) = json_of(app.import(&[("checks.csv", shell)], "", None).await).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["lines"][0].as_str().unwrap().starts_with("checks.csv:2:"), "{answer}");
    // An administrator configures one (a real plugin, under the allowed directory)…
    let good = "id;target;site_id;kind;interval_s;timeout_s\nDUMMY;/usr/lib/nagios/plugins/check_dummy 0 ok;STA;command;60;5\n";
    let (status, answer) = json_of(app.import(&[("checks.csv", good)], "", None).await).await;
    assert_eq!(status, 200, "{answer}");
    // …and the TOC cannot turn it into anything else, nor change its target.
    let push = "id;target;site_id;kind;interval_s;timeout_s\nDUMMY;dummy;STA;push;60;5\n";
    assert_eq!(app.import(&[("checks.csv", push)], "", Some("toc")).await.status(), 403, "as it is: a command");
    app.stop().await;
}

/// Issues a token as `client` (a session needs its CSRF token and same-origin headers: given in `headers`).
async fn issue(app: &TestApp, client: &reqwest::Client, headers: &[(&str, String)], body: Value) -> (u16, Value) {
    let mut r = client.post(app.url("/api/v1/tokens")).json(&body);
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    json_of(r.send().await.unwrap()).await
}

async fn status_with(app: &TestApp, token: &str) -> StatusCode {
    common::client_with(token).get(app.url("/api/v1/monitoring/state")).send().await.unwrap().status()
}

/// A token cannot outlive or outreach the token or session that issued it, and dies with it; a wall screen's account
/// mints none.
#[tokio::test]
async fn tokens_die_with_what_issued_them_and_never_outreach_it() {
    let mut app = TestApp::spawn(Backend::Sqlite).await;
    app.add_user("ops", Role::Toc, None, "un mot de passe solide").await;
    let basic = reqwest::Client::new();
    let as_ops = |b: reqwest::RequestBuilder| b.basic_auth("ops", Some("un mot de passe solide"));

    // A parent token, issued with a password (free-standing), allowed to issue, for an hour.
    let hour = chrono::Utc::now() + chrono::Duration::hours(1);
    let r = as_ops(basic.post(app.url("/api/v1/tokens")))
        .json(&json!({"label": "parent", "scopes": ["monitoring:read", "tokens:issue"], "expires_at": hour}))
        .send()
        .await
        .unwrap();
    let (status, parent) = json_of(r).await;
    assert_eq!(status, 201, "{parent}");
    assert!(parent["issued_through"].is_null(), "a password issues free-standing tokens");
    let parent_client = common::client_with(parent["token"].as_str().unwrap());

    // A child asks for ten days and a scope its parent lacks: refused; within the parent, granted but capped.
    let days = json!({"label": "enfant", "scopes": ["monitoring:read"], "expires_in_days": 10});
    let (status, body) =
        issue(&app, &parent_client, &[], json!({"scopes": ["monitoring:write"], "label": "plus large"})).await;
    assert_eq!(status, 403, "a child cannot outreach its parent: {body}");
    let (status, child) = issue(&app, &parent_client, &[], days).await;
    assert_eq!(status, 201, "{child}");
    let capped: chrono::DateTime<chrono::Utc> = serde_json::from_value(child["expires_at"].clone()).unwrap();
    assert!(capped <= hour, "a child never outlives its parent: {capped} > {hour}");
    assert_eq!(child["issued_through"]["token"], parent["id"]);
    let child_token = child["token"].as_str().unwrap().to_string();
    assert_eq!(status_with(&app, &child_token).await, 200);
    // A grandchild, through the child (which cannot issue: it was not given tokens:issue).
    let child_client = common::client_with(&child_token);
    assert_eq!(issue(&app, &child_client, &[], json!({"label": "petit-enfant"})).await.0, 403);

    // The parent revoked: the child dies with it, at once.
    let revoke = as_ops(basic.delete(app.url(&format!("/api/v1/tokens/{}", parent["id"].as_str().unwrap()))));
    assert_eq!(revoke.send().await.unwrap().status(), 204);
    assert_eq!(status_with(&app, &child_token).await, 401, "the child died with its parent");

    // A token issued in a browser session dies when the session ends.
    let browser = reqwest::Client::new();
    let signed = browser
        .post(app.url("/api/v1/session"))
        .json(&json!({"user": "ops", "password": "un mot de passe solide"}))
        .send()
        .await
        .unwrap();
    let set = signed.headers()["set-cookie"].to_str().unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    let (status, me) = json_of(signed).await;
    assert_eq!(status, 200, "{me}");
    let same_origin = vec![
        ("cookie", cookie),
        ("x-csrf-token", me["csrf_token"].as_str().unwrap().to_string()),
        ("origin", format!("http://{}", app.addr)),
        ("sec-fetch-site", "same-origin".to_string()),
    ];
    let (status, from_session) = issue(&app, &browser, &same_origin, json!({"scopes": ["monitoring:read"]})).await;
    assert_eq!(status, 201, "{from_session}");
    assert!(from_session["expires_at"].is_string(), "capped at the session's end: {from_session}");
    let t = from_session["token"].as_str().unwrap().to_string();
    assert_eq!(status_with(&app, &t).await, 200);
    let mut out = browser.delete(app.url("/api/v1/session"));
    for (k, v) in &same_origin {
        out = out.header(*k, v);
    }
    assert_eq!(out.send().await.unwrap().status(), 204);
    assert_eq!(status_with(&app, &t).await, 401, "signed out: the session's token died with it");

    // The read-only wall account mints nothing.
    let (status, body) = issue(&app, &app.client_as("mur"), &[], json!({"label": "mur"})).await;
    assert_eq!(status, 403, "{body}");
    app.stop().await;
}

/// A browser sends cached Basic credentials (and cookies) to any page's request: a write must prove it comes from
/// Vigie's own pages, and a JSON route takes JSON only (a form or `text/plain` is what another site can send).
#[tokio::test]
async fn browser_borne_writes_need_vigies_own_origin_whatever_the_credential() {
    let mut app = TestApp::spawn(Backend::Sqlite).await;
    app.add_user("chef", Role::Toc, None, "un mot de passe solide").await;
    let basic = reqwest::Client::new();
    let entry = json!({"text": "relève : RAS", "kind": "note"});
    let log = |origin: Option<&str>, site: Option<&str>| {
        let mut r = basic.post(app.url("/api/v1/log")).basic_auth("chef", Some("un mot de passe solide")).json(&entry);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        if let Some(s) = site {
            r = r.header("sec-fetch-site", s);
        }
        async move { r.send().await.unwrap().status() }
    };
    let before = last_seq(&app).await;
    assert_eq!(log(Some("https://evil.example"), None).await, 403, "another site's page");
    assert_eq!(log(None, Some("cross-site")).await, 403);
    assert_eq!(log(Some("null"), None).await, 403, "a sandboxed page");
    assert_eq!(kinds_after(&app, before).await, ["access.denied"; 3], "only the refusals are journalled");
    let ours = format!("http://{}", app.addr);
    assert_eq!(log(Some(&ours), Some("same-origin")).await, 200, "Vigie's own page");
    assert_eq!(log(None, None).await, 200, "a script (no browser headers)");
    // Reading stays open to any origin (nothing changes).
    let read = basic.get(app.url("/api/v1/log")).basic_auth("chef", Some("un mot de passe solide"));
    assert_eq!(read.header("origin", "https://evil.example").send().await.unwrap().status(), 200);

    // The Table API takes JSON only: the `text/plain` a cross-site form can send is refused, nothing written.
    let before = last_seq(&app).await;
    let r = basic
        .post(app.url("/api/now/table/incident"))
        .basic_auth("chef", Some("un mot de passe solide"))
        .header("content-type", "text/plain")
        .body(r#"{"short_description": "faux incident"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "failure", "in ServiceNow's envelope: {body}");
    assert_eq!(last_seq(&app).await, before, "nothing written");
    app.stop().await;
}

/// Metric names and values of the exposition format.
fn metrics(text: &str) -> std::collections::HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// A partner sees its applications' checks only, on every monitoring route: the state, the checks and `/metrics`.
#[tokio::test]
async fn a_partner_sees_only_its_applications_everywhere() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&toc(), "", None).await.status(), 200);
    let push = json!([{"check": "NET-STA", "status": "CRITICAL"}, {"check": "ODS-STA", "status": "OK"}]);
    let r = app.client_as("toc").post(app.url("/api/v1/monitoring/results")).json(&push).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let atos = app.client_as("atos");
    let get = |p: &str| {
        let r = atos.get(app.url(p));
        async move { r.send().await.unwrap() }
    };
    let state: Value = get("/api/v1/monitoring/state").await.json().await.unwrap();
    assert_eq!(state["checks"], 2, "Atos's two checks: {state}");
    let apps: Vec<&str> = state["applications"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(apps, ["ODS-RES"]);
    assert_eq!(state["counts"]["critical"], 0, "Cisco's failure is not Atos's to see: {state}");
    assert!(!state.to_string().contains("NET-"), "{state}");
    assert!(!state.to_string().contains("DEP1"), "a site where Atos has nothing: {state}");
    let checks: Value = get("/api/v1/monitoring/checks").await.json().await.unwrap();
    assert_eq!(checks["total"], 2);
    assert_eq!(get("/api/v1/monitoring/checks/NET-STA").await.status(), 403);

    let m = metrics(&get("/metrics").await.text().await.unwrap());
    assert_eq!(m["vigie_checks_supervised"], 2.0);
    assert_eq!(m["vigie_checks{state=\"critical\"}"], 0.0);
    assert!(!m.contains_key("vigie_results_total"), "the estate's activity is not a partner's: {m:?}");
    assert!(!m.contains_key("vigie_journal_last_seq"));
    // The TOC sees everything.
    let m = metrics(&app.client_as("toc").get(app.url("/metrics")).send().await.unwrap().text().await.unwrap());
    assert_eq!(m["vigie_checks_supervised"], 5.0);
    assert_eq!(m["vigie_checks{state=\"critical\"}"], 1.0);
    app.stop().await;
}

/// Failed sign-ins slow the address they come from down; the real owner, from elsewhere, still signs in.
#[tokio::test]
async fn failed_sign_ins_from_one_address_do_not_lock_the_owner_out() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions { active_checks: false, login_max_failures: 3, ..Default::default() };
    let mut app = TestApp::spawn_with_options(cfg, dir, options).await;
    app.add_user("chef", Role::Toc, None, "le bon mot de passe").await;
    // Loopback has many addresses: the attacker is 127.0.0.2, the owner 127.0.0.1.
    let attacker =
        reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let owner = reqwest::Client::new();
    let sign_in = |c: &reqwest::Client, password: &str| {
        let r = c.post(app.url("/api/v1/session")).json(&json!({"user": "chef", "password": password}));
        async move { r.send().await.unwrap() }
    };
    for _ in 0..3 {
        assert_eq!(sign_in(&attacker, "devine").await.status(), 401);
    }
    let limited = sign_in(&attacker, "le bon mot de passe").await;
    assert_eq!(limited.status(), 429, "the attacking address waits, even with the right password");
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(sign_in(&owner, "le bon mot de passe").await.status(), 200, "the owner is not locked out");
    app.stop().await;
}

/// Oversized or deceptive text is refused where it enters, located, and nothing is written.
#[tokio::test]
async fn oversized_and_deceptive_text_is_refused_where_it_enters() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let toc = app.client_as("toc");
    // A description of 7 MB, then of 5,000 characters: refused, the field named.
    let before = last_seq(&app).await;
    for size in [7 * 1024 * 1024, 5_000] {
        let body = json!({"short_description": "panne", "description": "x".repeat(size)});
        let r = toc.post(app.url("/api/now/table/incident")).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        assert!(status == 400 || status == 413, "{size}: {status}");
        if size == 5_000 {
            let body: Value = r.json().await.unwrap();
            assert!(body["error"]["detail"].as_str().unwrap().contains("description"), "{body}");
        }
    }
    assert_eq!(last_seq(&app).await, before);
    // An incident, then a PATCH that would re-journal a huge description: refused.
    let r = toc.post(app.url("/api/now/table/incident")).json(&json!({"short_description": "panne"})).send().await;
    let (status, created) = json_of(r.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    let sys_id = created["result"]["sys_id"].as_str().unwrap();
    let before = last_seq(&app).await;
    let patch = toc
        .patch(app.url(&format!("/api/now/table/incident/{sys_id}")))
        .json(&json!({"description": "y".repeat(4_001)}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 400);
    assert_eq!(last_seq(&app).await, before);
    // Bidirectional overrides in a log entry; invisible and lookalike identifiers in an import.
    let r = toc.post(app.url("/api/v1/log")).json(&json!({"text": "ok \u{202E}cod.exe"})).send().await.unwrap();
    let (status, body) = json_of(r).await;
    assert_eq!((status, body["problems"][0]["file"].as_str()), (422, Some("text")), "{body}");
    for id in ["DEP-VINCENNES\u{200B}", "DEP-VINC\u{0415}NNES", "DEP\u{202E}1"] {
        let sites =
            format!("id;name;kind;lat;lon;organization_id;city\n{id};Dépôt;depot;48,84;2,43;GS-IDF;Vincennes\n");
        let (status, body) = json_of(app.import(&[("sites.csv", &sites)], "", None).await).await;
        assert_eq!(status, 422, "{id:?}: {body}");
        assert!(body["lines"][0].as_str().unwrap().starts_with("sites.csv:2:"), "located: {body}");
        assert!(body["lines"][0].as_str().unwrap().contains("U+"), "the character is named: {body}");
    }
    assert_eq!(last_seq(&app).await, before, "nothing written, and invalid input is no access refusal");
    app.stop().await;
}

/// Absolute links come from the configured public URL, or from a `Host` that is a plain host name; never from
/// whatever a client slipped into `Host`.
#[tokio::test]
async fn links_are_built_from_the_public_url_or_a_valid_host() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let toc = app.client_as("toc");
    for _ in 0..3 {
        let r = toc.post(app.url("/api/now/table/incident")).json(&json!({"short_description": "x"})).send().await;
        assert_eq!(r.unwrap().status(), 201);
    }
    let list = |host: &str| {
        let r = toc.get(app.url("/api/now/table/incident?sysparm_limit=1")).header("host", host);
        async move { r.send().await.unwrap() }
    };
    let r = list("vigie.example:8080").await;
    assert!(r.headers()["link"].to_str().unwrap().starts_with("<http://vigie.example:8080/api/now/table/incident?"));
    for bad in ["evil.example/phish?x=", "a@evil.example", "vigie:80x"] {
        let r = list(bad).await;
        assert_eq!(r.status(), 200, "{bad}");
        assert!(r.headers().get("link").is_none(), "{bad}: {:?}", r.headers().get("link"));
    }
    app.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions {
        active_checks: false,
        public_url: Some("https://vigie.jo2024.example/".into()),
        ..Default::default()
    };
    let app = TestApp::spawn_with_options(cfg, dir, options).await;
    let toc = app.client_as("toc");
    let r = toc
        .post(app.url("/api/now/table/incident"))
        .header("host", "evil.example")
        .json(&json!({"short_description": "x"}));
    let r = r.send().await.unwrap();
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("https://vigie.jo2024.example/api/now/table/incident/"));
    app.stop().await;
}
