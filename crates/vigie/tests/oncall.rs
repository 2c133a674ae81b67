//! Who is on duty, black-box over HTTP (issue 17): rosters imported like every table, the 3×8 taking turns on Paris
//! time, an override winning for its span, each caller seeing only the teams it may (a partner its own, a tactical
//! group its organisation's), the wall account none.

mod common;

use common::{registry, Backend, TestApp};
use serde_json::Value;

const PARTNERS: &str = "id;name\nATOS;Atos\nORANGE;Orange\n";
const PEOPLE: &str = "id;name;email;mobile;partner_id;organization_id\n\
    ana;Ana Martin;ana@atos.example;06 12 34 56 78;ATOS;\n\
    bob;Bob Durand;bob@atos.example;+33 6 12 34 56 79;ATOS;\n\
    cyr;Cyr Petit;cyr@atos.example;;ATOS;\n\
    ode;Odile Orange;ode@orange.example;;ORANGE;\n\
    lt-roux;Lieutenant Roux;roux@def.example;;;GS-IDF\n\
    cne-blanc;Capitaine Blanc;blanc@def.example;;;GS-MRS\n";
const TEAMS: &str = "id;name;partner_id;site_id;organization_id\n\
    ATOS-N1;Atos, support;ATOS;;\n\
    ORANGE-NOC;Orange, réseau;ORANGE;STA;\n\
    GS-IDF-PERM;Permanence GSBdD Île-de-France;;;GS-IDF\n\
    GS-MRS-PERM;Permanence GSBdD Marseille;;;GS-MRS\n";
const ROTATIONS: &str = "team_id;level;period;starts_at;people\n\
    ATOS-N1;1;shift;2024-07-01 06:00;ana|bob|cyr\n\
    ATOS-N1;2;weekly;2024-07-01 08:00;cyr\n\
    ORANGE-NOC;1;daily;2024-07-01 08:00;ode\n\
    GS-IDF-PERM;1;daily;2024-07-01 08:00;lt-roux\n\
    GS-MRS-PERM;1;daily;2024-07-01 08:00;cne-blanc\n";
const OVERRIDES: &str =
    "team_id;level;from;until;person_id;reason\nATOS-N1;1;2024-07-02 06:00;2024-07-02 14:00;cyr;ana en formation\n";

async fn duty(app: &TestApp, user: &str, query: &str) -> (u16, Value) {
    let r = app.client_as(user).get(app.url(&format!("/api/v1/oncall?{query}"))).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn who(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{}/{}:{}", d["team_id"].as_str().unwrap(), d["level"], d["person_id"].as_str().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_is_on_duty_for_a_team_a_partner_an_organisation() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let files = [
        ("partners.csv", PARTNERS),
        ("people.csv", PEOPLE),
        ("teams.csv", TEAMS),
        ("rotations.csv", ROTATIONS),
        ("overrides.csv", OVERRIDES),
    ];
    let r = app.import(&files, "", None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // Monday 1 July, 15:00 Paris: Atos's afternoon shift is Bob's; its second level is Cyr's week.
    let (code, all) = duty(&app, "toc", "at=2024-07-01%2015:00").await;
    assert_eq!(code, 200, "{all}");
    assert_eq!(
        who(&all),
        ["ATOS-N1/1:bob", "ATOS-N1/2:cyr", "GS-IDF-PERM/1:lt-roux", "GS-MRS-PERM/1:cne-blanc", "ORANGE-NOC/1:ode"]
    );
    let bob = &all["items"][0];
    assert_eq!((bob["name"].as_str(), bob["mobile"].as_str()), (Some("Bob Durand"), Some("+33612345679")));
    assert_eq!(bob["from"], "2024-07-01T12:00:00Z", "14:00 Paris");
    assert_eq!(bob["until"], "2024-07-01T20:00:00Z", "22:00 Paris");
    // The night shift is Cyr's; Tuesday morning would be Ana's, but Cyr took it over.
    assert_eq!(who(&duty(&app, "toc", "team=ATOS-N1&at=2024-07-02%2003:00").await.1)[0], "ATOS-N1/1:cyr");
    let (_, swapped) = duty(&app, "toc", "team=ATOS-N1&at=2024-07-02%2009:00").await;
    assert_eq!(who(&swapped)[0], "ATOS-N1/1:cyr");
    assert_eq!(swapped["items"][0]["override_reason"], "ana en formation");
    assert_eq!(who(&duty(&app, "toc", "team=ATOS-N1&at=2024-07-02%2014:00").await.1)[0], "ATOS-N1/1:bob");
    // By site, by partner, by organisation.
    assert_eq!(who(&duty(&app, "toc", "site=STA&at=2024-07-01%2015:00").await.1), ["ORANGE-NOC/1:ode"]);
    assert_eq!(
        who(&duty(&app, "cpco", "organization=GS-MRS&at=2024-07-01%2015:00").await.1),
        ["GS-MRS-PERM/1:cne-blanc"]
    );

    // Atos sees its own team only, whatever it asks; Île-de-France its own duty officers; the wall account nothing.
    let (code, atos) = duty(&app, "atos", "at=2024-07-01%2015:00").await;
    assert_eq!(code, 200);
    assert_eq!(who(&atos), ["ATOS-N1/1:bob", "ATOS-N1/2:cyr"]);
    assert!(who(&duty(&app, "atos", "partner=ORANGE&at=2024-07-01%2015:00").await.1).is_empty());
    assert_eq!(who(&duty(&app, "idf", "at=2024-07-01%2015:00").await.1), ["GS-IDF-PERM/1:lt-roux"]);
    assert_eq!(duty(&app, "mur", "").await.0, 403);
    // Before the first hand-over, nobody; a bad instant is refused, located.
    assert!(who(&duty(&app, "toc", "team=ATOS-N1&at=2024-06-30%2012:00").await.1).is_empty());
    let (code, bad) = duty(&app, "toc", "at=demain").await;
    assert_eq!((code, bad["problems"][0]["params"]["field"].as_str()), (422, Some("at")), "{bad}");
    app.stop().await;
}

/// The hand-over of a shift names who hands over to whom at the centre's own desks, from the roster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hand_over_names_who_hands_over_to_whom() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let files = [
        ("people.csv", "id;name\nana;Ana Martin\nbob;Bob Durand\n"),
        ("teams.csv", "id;name\nTOC-DESK;Pupitre du TOC\n"),
        ("rotations.csv", "team_id;level;period;starts_at;people\nTOC-DESK;1;shift;2024-07-01 06:00;ana|bob\n"),
    ];
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let r = app.client_as("toc").get(app.url("/api/v1/log/handover?shift=2024-07-01%20matin")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["reliefs"],
        serde_json::json!([{"team_id": "TOC-DESK", "team": "Pupitre du TOC", "outgoing": "Ana Martin", "incoming": "Bob Durand"}])
    );
    app.stop().await;
}
