//! Exercises over HTTP (issue 18): a sandbox seeded from the live journal takes thousands of events while the live
//! journal keeps its last sequence and hash; injects fire as the clock reaches them; participants act in the
//! sandbox (here as an API client naming the exercise); the review says what was expected, what was done and how
//! long it took, and is exported marked EXERCICE; only those who may run exercises start them.

mod common;

use common::{pdftotext, registry, Backend, TestApp};
use serde_json::{json, Value};
use std::fmt::Write;

const TOC: [(&str, &str); 3] = [
    ("partners.csv", "id;name\nATOS;Atos\n"),
    ("applications.csv", "id;name;suite;criticality;partner_id;rollup\nODS-RES;Diffusion des résultats;ODS;critical;ATOS;worst\n"),
    (
        "checks.csv",
        "id;target;site_id;kind;interval_s;timeout_s;application_id;max_attempts\nPC-1;pc-1;STA;push;60;5;ODS-RES;1\nPC-2;pc-2;MRS;push;60;5;ODS-RES;1\n",
    ),
];

fn scenario() -> String {
    // 2,000 sites imported by the direction: thousands of events in the sandbox.
    let mut sites = String::from("id,name,kind,lat,lon,organization_id,city\n");
    for i in 0..2000 {
        writeln!(sites, "EX-{i:04},Site d'exercice {i},depot,{:.4},{:.4},GS-IDF,Paris", 48.0 + i as f64 / 10000.0, 2.0)
            .unwrap();
    }
    format!(
        r#"
name = "Exercice d'essai"
speed = 60.0

[[inject]]
id = "panne"
at = "00:01"
title = "PC-1 tombe"
kind = "checks"
results = [{{ check = "PC-1", status = "CRITICAL", output = "plus de réponse" }}]
  [inject.expect]
  what = "acknowledged"
  check = "PC-1"
  within = "00:30"

[[inject]]
id = "sites"
at = "00:01:30"
title = "Deux mille sites ouverts"
kind = "import"
  [inject.files]
  "sites.csv" = """{sites}"""

[[inject]]
id = "incident"
at = "00:02"
title = "Incident de l'animation"
kind = "incident"
short_description = "Écran des résultats figé"
impact = 2
urgency = 2
assignment_group = "ATOS"
  [inject.expect]
  what = "acknowledged"
  within = "00:10"

[[inject]]
id = "decision"
at = "00:02"
title = "Décision attendue"
kind = "message"
text = "Décidez de la bascule."
  [inject.expect]
  what = "decision"
  contains = "bascule"
  within = "02:00"
"#
    )
}

fn live_head(app: &TestApp) -> vigie_journal::chain::Head {
    vigie::open_store(&app.config).unwrap().head().unwrap()
}

#[tokio::test]
async fn an_exercise_plays_its_injects_on_a_sandbox_scores_the_answers_and_leaves_the_live_journal_as_it_was() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.extend(TOC);
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let toc = app.client_as("toc");

    // Who may start one: not a partner, not a tactical group; a scenario's problems located.
    let start = |c: &reqwest::Client, body: Value| c.post(app.url("/api/v1/exercises")).json(&body).send();
    assert_eq!(start(&app.client_as("atos"), json!({"toml": scenario()})).await.unwrap().status(), 403);
    assert_eq!(start(&app.client_as("idf"), json!({"toml": scenario()})).await.unwrap().status(), 403);
    let bad = start(&toc, json!({"toml": "name = \"x\"\n[[inject]]\nid = \"a\"\nat = \"demain\"\ntitle = \"t\"\nkind = \"message\"\ntext = \"m\"\n"})).await.unwrap();
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.json::<Value>().await.unwrap()["problems"][0]["file"], "inject[0].at");

    // (The refusals above are the live Vigie's own: journalled there. From here on, nothing reaches it.)
    let before = live_head(&app);
    let r = start(&toc, json!({"toml": scenario()})).await.unwrap();
    assert_eq!(r.status(), 201);
    let ex: Value = r.json().await.unwrap();
    let id = ex["id"].as_str().unwrap().to_string();
    assert_eq!(ex["injects_total"], 4);
    // Joining sets the exercise's cookies, a session of the sandbox's own; the live session is untouched.
    let joined = toc.post(app.url(&format!("/api/v1/exercises/{id}/join"))).send().await.unwrap();
    assert_eq!(joined.status(), 200);
    let cookies: Vec<String> =
        joined.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(cookies.iter().any(|c| c.starts_with(&format!("vigie_exercise={id};"))), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("vigie_exercise_session=")), "{cookies:?}");
    assert!(!cookies.iter().any(|c| c.starts_with("vigie_session=")), "{cookies:?}");

    // In the exercise (an API client names it): the sandbox answers and says so.
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-vigie-exercise", id.parse().unwrap());
    h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {}", app.tokens["toc"]).parse().unwrap());
    let inside = reqwest::Client::builder().default_headers(h).build().unwrap();
    let me: Value = inside.get(app.url("/api/v1/session")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["exercise"]["id"], id.as_str(), "{me}");
    let outside: Value = toc.get(app.url("/api/v1/session")).send().await.unwrap().json().await.unwrap();
    assert!(outside["exercise"].is_null());

    // At 60×, the injects fire within a few seconds of wall time.
    let mut status = Value::Null;
    for _ in 0..100 {
        status = app.get_json(&format!("/api/v1/exercises/{id}")).await;
        if status["fired"] == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status["fired"], 4, "{status}");
    assert!(status["injects"].as_array().unwrap().iter().all(|i| i["error"].is_null()), "{status}");
    assert!(status["sandbox_events"].as_u64().unwrap() > 2000, "{status}");
    // The participants act in the sandbox: the check acknowledged, a decision logged; the incident left alone.
    let check: Value =
        inside.get(app.url("/api/v1/monitoring/checks/PC-1")).send().await.unwrap().json().await.unwrap();
    assert_eq!(check["hard"], "CRITICAL", "in the exercise: {check}");
    let ack = inside
        .post(app.url("/api/v1/monitoring/checks/PC-1/ack"))
        .json(&json!({"comment": "pris en compte"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), 200);
    let d = inside
        .post(app.url("/api/v1/log"))
        .json(&json!({"text": "Bascule sur le site de secours", "kind": "decision"}))
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), 200);
    // A report drafted in the exercise says EXERCICE.
    let pdf = inside.get(app.url("/api/v1/reports/sitrep?format=pdf")).send().await.unwrap().bytes().await.unwrap();
    assert!(pdftotext(&pdf).contains("EXERCICE"));

    // The live Vigie saw none of it.
    let live_check = app.get_json("/api/v1/monitoring/checks/PC-1").await;
    assert_ne!(live_check["hard"], "CRITICAL", "{live_check}");
    let live_incidents = app.get_json("/api/v1/incidents").await;
    assert_eq!(live_incidents["incidents"].as_array().unwrap().len(), 0, "{live_incidents}");

    // End it; the review: two of three answers given, the incident's acknowledgement missed.
    let end = toc
        .post(app.url(&format!("/api/v1/exercises/{id}/control")))
        .json(&json!({"action": "end"}))
        .send()
        .await
        .unwrap();
    assert_eq!(end.status(), 200);
    let review = app.get_json(&format!("/api/v1/exercises/{id}/review")).await;
    assert_eq!((review["expected"].as_u64(), review["done"].as_u64()), (Some(3), Some(2)), "{review}");
    let by_id = |x: &str| review["injects"].as_array().unwrap().iter().find(|i| i["id"] == x).unwrap().clone();
    assert_eq!(by_id("panne")["done"], true);
    assert!(by_id("panne")["by"].as_str().unwrap().starts_with("user:toc/"));
    assert_eq!(by_id("decision")["done"], true);
    assert_eq!(by_id("incident")["done"], false);
    assert_eq!(review["missed"].as_array().unwrap().len(), 1);
    assert!(review["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["what"].as_str().unwrap().contains("acquittement de PC-1")));
    let pdf = app.get(&format!("/api/v1/exercises/{id}/review?format=pdf")).await.bytes().await.unwrap();
    let text = pdftotext(&pdf);
    for want in [
        "EXERCICE",
        "Retour d'expérience — Exercice d'essai",
        "2 action(s) attendue(s) sur 3 faite(s)",
        "PC-1 tombe",
        "manqué",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    // Once ended, naming the exercise is refused, never carried out on the live Vigie instead; so is naming one
    // that never was.
    let after = inside.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(after.status(), 409);
    assert_eq!(after.json::<Value>().await.unwrap()["code"], "exercise.not_running");
    let stray = inside
        .post(app.url("/api/v1/log"))
        .json(&json!({"text": "écrit pour l'exercice", "kind": "note"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stray.status(), 409);
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-vigie-exercise", "EX-NONE".parse().unwrap());
    h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {}", app.tokens["toc"]).parse().unwrap());
    let nowhere = reqwest::Client::builder().default_headers(h).build().unwrap();
    let r = nowhere
        .post(app.url("/api/v1/log"))
        .json(&json!({"text": "écrit pour l'exercice", "kind": "note"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    // A browser that still holds an ended exercise's cookie reads the live Vigie, and forgets the exercise.
    let r = toc.get(app.url("/api/v1/session")).header("cookie", format!("vigie_exercise={id}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("vigie_exercise=;")));
    let after_head = live_head(&app);
    assert_eq!((after_head.seq, after_head.hash), (before.seq, before.hash), "the live journal is as it was");
    // Reviews are for whoever runs exercises (they name every participant's actions); the refusal is the live
    // Vigie's own, journalled there.
    assert_eq!(
        app.client_as("atos").get(app.url(&format!("/api/v1/exercises/{id}/review"))).send().await.unwrap().status(),
        403
    );
    app.stop().await;
}

#[tokio::test]
async fn a_sandbox_answers_only_its_own_sessions_and_callers_the_live_vigie_still_lets_in() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.extend(TOC);
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let toc = app.client_as("toc");
    let r = toc.post(app.url("/api/v1/exercises")).json(&json!({"scenario": "coupure-bercy"})).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = app.get_json("/api/v1/exercises").await["items"][0]["id"].as_str().unwrap().to_string();
    let joined = toc.post(app.url(&format!("/api/v1/exercises/{id}/join"))).send().await.unwrap();
    let session = joined
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().unwrap().strip_prefix("vigie_exercise_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
        .next()
        .unwrap();
    let csrf = joined.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let browser = reqwest::Client::new();
    let cookies = format!("vigie_exercise={id}; vigie_exercise_session={session}");
    let me: Value =
        browser.get(app.url("/api/v1/session")).header("cookie", &cookies).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["exercise"]["id"], id.as_str(), "{me}");
    // Steering is the live Vigie's, even for a director inside.
    let inside = browser
        .post(app.url(&format!("/api/v1/exercises/{id}/control")))
        .header("cookie", &cookies)
        .header("x-csrf-token", &csrf)
        .json(&json!({"action": "pause"}))
        .send()
        .await
        .unwrap();
    assert_eq!(inside.status(), 409);
    assert_eq!(inside.json::<Value>().await.unwrap()["code"], "exercise.from_live");
    // A session the sandbox did not open (any other value) is refused.
    let forged = browser
        .get(app.url("/api/v1/session"))
        .header("cookie", format!("vigie_exercise={id}; vigie_exercise_session=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // Leaving ends the sandbox's session for good.
    let left = browser.post(app.url("/api/v1/exercise/leave")).header("cookie", &cookies).send().await.unwrap();
    assert_eq!(left.status(), 204);
    let again = browser.get(app.url("/api/v1/session")).header("cookie", &cookies).send().await.unwrap();
    assert_eq!(again.status(), 401, "the session left is not brought back");
    // A user disabled on the live Vigie since the exercise began is refused inside it too, token or password.
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-vigie-exercise", id.parse().unwrap());
    h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {}", app.tokens["atos"]).parse().unwrap());
    let atos = reqwest::Client::builder().default_headers(h).build().unwrap();
    assert_eq!(atos.get(app.url("/api/v1/incidents")).send().await.unwrap().status(), 200);
    let disable = json!({"name": "atos", "role": "partner", "partner_id": "ATOS", "disabled": true});
    assert!(app.client.post(app.url("/api/v1/users")).json(&disable).send().await.unwrap().status().is_success());
    assert_eq!(atos.get(app.url("/api/v1/incidents")).send().await.unwrap().status(), 401);
    app.stop().await;
}
