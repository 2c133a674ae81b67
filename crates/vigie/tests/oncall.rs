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

/// The calendar: Atos's 3×8 on 2 July, turn by turn, with the imported override in its place; an override made
/// through the API (a swap on 3 July, 10:00–12:00) cuts Ana's morning in three, journalled with who made it; taken
/// back, the morning is whole again. A partner cannot make one (no `rosters:write`); bad spans and unknown people
/// are refused at their field; another partner's team is unknown to a tactical group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_shows_turns_and_overrides_made_in_the_ui() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let files = [
        ("partners.csv", PARTNERS),
        ("people.csv", PEOPLE),
        ("teams.csv", TEAMS),
        ("rotations.csv", ROTATIONS),
        ("overrides.csv", OVERRIDES),
    ];
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let spans = |v: &Value, level: u64| -> Vec<String> {
        let team = v["teams"].as_array().unwrap().iter().find(|t| t["team_id"] == "ATOS-N1").expect("Atos's team");
        let l = team["levels"].as_array().unwrap().iter().find(|l| l["level"] == level).unwrap();
        l["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let local = |k: &str| {
                    let t = chrono::DateTime::parse_from_rfc3339(s[k].as_str().unwrap())
                        .unwrap()
                        .with_timezone(&chrono::Utc);
                    vigie_domain::paris::to_local(t).format("%d %H:%M").to_string()
                };
                format!("{}–{} {}", local("from"), local("until"), s["person_id"].as_str().unwrap())
            })
            .collect()
    };
    let v = app.get_json("/api/v1/oncall/calendar?team=ATOS-N1&from=2024-07-02&days=1").await;
    assert_eq!(
        spans(&v, 1),
        ["02 00:00–02 06:00 cyr", "02 06:00–02 14:00 cyr", "02 14:00–02 22:00 bob", "02 22:00–03 00:00 cyr"],
        "the night from the 1st (Cyr), the override (Cyr for Ana, apart: it has its reason), then the turns"
    );
    assert_eq!(v["teams"][0]["levels"][0]["period"], "shift");

    let swap = serde_json::json!({"team_id": "ATOS-N1", "level": 1, "from": "2024-07-03 10:00", "until": "2024-07-03 12:00",
                                  "person_id": "bob", "reason": "échange avec Ana"});
    let r = app.client_as("atos").post(app.url("/api/v1/oncall/overrides")).json(&swap).send().await.unwrap();
    assert_eq!(r.status(), 403, "a partner does not edit rosters");
    let r = app.client_as("toc").post(app.url("/api/v1/oncall/overrides")).json(&swap).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v = app.get_json("/api/v1/oncall/calendar?team=ATOS-N1&from=2024-07-03&days=1").await;
    let day = spans(&v, 1);
    assert_eq!(&day[1..4], ["03 06:00–03 10:00 ana", "03 10:00–03 12:00 bob", "03 12:00–03 14:00 ana"], "{day:?}");
    let last = app.journal().read_after(app.journal().state().last_seq - 1, 1).unwrap();
    assert!(last[0].actor.to_string().starts_with("user:toc"), "journalled with who: {}", last[0].actor);

    let back = serde_json::json!({"team_id": "ATOS-N1", "level": 1, "from": "2024-07-03 10:00", "until": "2024-07-03 12:00",
                                  "person_id": "bob", "removed": true});
    let r = app.client_as("toc").post(app.url("/api/v1/oncall/overrides")).json(&back).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v = app.get_json("/api/v1/oncall/calendar?team=ATOS-N1&from=2024-07-03&days=1").await;
    assert_eq!(spans(&v, 1)[1], "03 06:00–03 14:00 ana");

    let seq = app.journal().state().last_seq;
    for (field, body) in [
        (
            "until",
            serde_json::json!({"team_id": "ATOS-N1", "level": 1, "from": "2024-07-03 10:00", "until": "2024-07-03 09:00", "person_id": "bob"}),
        ),
        (
            "until",
            serde_json::json!({"team_id": "ATOS-N1", "level": 1, "from": "2024-07-03 10:00", "until": "2024-09-03 09:00", "person_id": "bob"}),
        ),
        (
            "person_id",
            serde_json::json!({"team_id": "ATOS-N1", "level": 1, "from": "2024-07-03 10:00", "until": "2024-07-03 12:00", "person_id": "zoe"}),
        ),
        (
            // Orange's Ode may not hold Atos's desk: Atos's incidents would page another partner.
            "person_id",
            serde_json::json!({"team_id": "ATOS-N1", "level": 1, "from": "2024-07-03 10:00", "until": "2024-07-03 12:00", "person_id": "ode"}),
        ),
        (
            "level",
            serde_json::json!({"team_id": "ATOS-N1", "level": 7, "from": "2024-07-03 10:00", "until": "2024-07-03 12:00", "person_id": "bob"}),
        ),
        (
            "from",
            serde_json::json!({"team_id": "ATOS-N1", "level": 1, "from": "demain", "until": "2024-07-03 12:00", "person_id": "bob"}),
        ),
        (
            "reason",
            serde_json::json!({"team_id": "ATOS-N1", "level": 1, "from": "2024-07-03 10:00", "until": "2024-07-03 12:00", "person_id": "bob", "reason": "échange\u{202e}gnirts"}),
        ),
    ] {
        let r = app.client_as("toc").post(app.url("/api/v1/oncall/overrides")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["problems"][0]["params"]["field"], field, "{v}");
    }
    assert_eq!(app.journal().state().last_seq, seq, "nothing written");
    let r = app
        .client_as("idf")
        .post(app.url("/api/v1/oncall/overrides"))
        .json(&serde_json::json!({"team_id": "ATOS-N1", "level": 1, "from": "2024-07-03 10:00", "until": "2024-07-03 12:00", "person_id": "bob"}))
        .send()
        .await
        .unwrap();
    assert!(matches!(r.status().as_u16(), 403 | 404), "{}", r.status());
    let r = app.client_as("toc").get(app.url("/api/v1/oncall/calendar?days=40")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    // Days at the edge of what a date can hold are refused at their field, not a crash (found by an adversarial pass).
    for from in ["%2B262142-12-31", "-262143-01-01", "0000-01-01", "26/07/2024"] {
        let r =
            app.client_as("atos").get(app.url(&format!("/api/v1/oncall/calendar?from={from}"))).send().await.unwrap();
        assert_eq!(r.status(), 422, "{from}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["problems"][0]["params"]["field"], "from", "{v}");
    }

    // A rotation set through the API: Atos's desk day by day from the 3rd, Cyr then Bob; refused at their field when
    // wrong (Orange's Ode on Atos's desk among them), nothing written; not by a partner.
    let rotation = serde_json::json!({"team_id": "ATOS-N1", "level": 1, "period": "daily", "starts_at": "2024-07-03 06:00", "people": ["cyr", "bob"]});
    let r = app.client_as("atos").post(app.url("/api/v1/oncall/rotations")).json(&rotation).send().await.unwrap();
    assert_eq!(r.status(), 403, "a partner does not edit rosters");
    let r = app.client_as("toc").post(app.url("/api/v1/oncall/rotations")).json(&rotation).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, v) = duty(&app, "toc", "team=ATOS-N1&at=2024-07-04%2015:00").await;
    assert_eq!(who(&v), ["ATOS-N1/1:bob", "ATOS-N1/2:cyr"], "the second day is the second's");
    let seq = app.journal().state().last_seq;
    for (field, change) in [
        ("people", serde_json::json!({"people": ["ode", "ode"]})),
        ("people", serde_json::json!({"people": ["zoe"]})),
        ("people", serde_json::json!({"people": ["cyr", "ode"]})),
        ("people", serde_json::json!({"people": ["lt-roux"]})),
        ("people", serde_json::json!({"people": []})),
        ("period", serde_json::json!({"period": "monthly"})),
        ("level", serde_json::json!({"level": 12})),
        ("starts_at", serde_json::json!({"starts_at": "bientôt"})),
        ("starts_at", serde_json::json!({"starts_at": "9999-12-31 08:00"})),
    ] {
        let mut body = rotation.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.client_as("toc").post(app.url("/api/v1/oncall/rotations")).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        assert!(status == 422 || status == 400, "{body}: {status}");
        if status == 422 && v["problems"][0]["params"]["field"].is_string() {
            assert_eq!(v["problems"][0]["params"]["field"], field, "{v}");
        }
    }
    assert_eq!(app.journal().state().last_seq, seq, "nothing written");

    // An import cannot do what the API refuses: Orange's Ode on Atos's desk.
    let seq = app.journal().state().last_seq;
    let r = app
        .import(
            &[(
                "overrides.csv",
                "team_id;level;from;until;person_id\nATOS-N1;1;2024-07-05 06:00;2024-07-05 14:00;ode\n",
            )],
            "",
            None,
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("ode may not hold ATOS-N1's duty"));
    assert_eq!(app.journal().state().last_seq, seq, "nothing imported");

    // People written through the API: a new one for Atos, the mobile kept international; a partner sees its own
    // people only and writes none; moving a person out of the caller's reach is refused (a tactical group's
    // officer made Atos's); located refusals.
    let dan = serde_json::json!({"id": "dan", "name": "Dan Leroy", "email": "dan@atos.example", "mobile": "06 12 34 56 99", "partner_id": "ATOS"});
    let r = app.client_as("atos").post(app.url("/api/v1/oncall/people")).json(&dan).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = app.client_as("toc").post(app.url("/api/v1/oncall/people")).json(&dan).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value =
        app.client_as("atos").get(app.url("/api/v1/oncall/people")).send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = v["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"dan") && !ids.contains(&"ode") && !ids.contains(&"lt-roux"), "{ids:?}");
    let d = v["items"].as_array().unwrap().iter().find(|p| p["id"] == "dan").unwrap();
    assert_eq!(d["mobile"], "+33612345699");
    let moved = serde_json::json!({"id": "lt-roux", "name": "Lieutenant Roux", "partner_id": "ATOS"});
    let r = app.client_as("idf").post(app.url("/api/v1/oncall/people")).json(&moved).send().await.unwrap();
    assert_eq!(r.status(), 403, "a tactical group does not write rosters");
    let seq = app.journal().state().last_seq;
    for (field, body) in [
        ("mobile", serde_json::json!({"id": "dan", "name": "Dan", "mobile": "12"})),
        ("email", serde_json::json!({"id": "dan", "name": "Dan", "email": "pas une adresse"})),
        ("partner_id", serde_json::json!({"id": "dan", "name": "Dan", "partner_id": "NOWHERE"})),
        ("name", serde_json::json!({"id": "dan", "name": "  "})),
        ("name", serde_json::json!({"id": "dan", "name": "Dan\u{200b}"})),
    ] {
        let r = app.client_as("toc").post(app.url("/api/v1/oncall/people")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["problems"][0]["params"]["field"], field, "{v}");
    }
    assert_eq!(app.journal().state().last_seq, seq, "nothing written");

    // Teams written through the API: a venue's new IT team with its chat channel; Atos's desk cannot be moved to
    // Orange while its rotations hold Atos's people; a partner writes none; located refusals.
    let team =
        serde_json::json!({"id": "STA-IT", "name": "Informatique du Stade", "site_id": "STA", "webhook": "stade"});
    let r = app.client_as("atos").post(app.url("/api/v1/oncall/teams")).json(&team).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = app.client_as("toc").post(app.url("/api/v1/oncall/teams")).json(&team).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        app.journal().state().oncall.teams["STA-IT"].value.attributes.get("webhook").map(String::as_str),
        Some("stade")
    );
    let seq = app.journal().state().last_seq;
    for (field, body) in [
        ("partner_id", serde_json::json!({"id": "ATOS-N1", "name": "Atos", "partner_id": "ORANGE"})),
        ("site_id", serde_json::json!({"id": "STA-IT", "name": "Stade", "site_id": "NOWHERE"})),
        ("name", serde_json::json!({"id": "STA-IT", "name": ""})),
    ] {
        let r = app.client_as("toc").post(app.url("/api/v1/oncall/teams")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["problems"][0]["params"]["field"], field, "{v}");
    }
    assert_eq!(app.journal().state().last_seq, seq, "nothing written");

    // The escalation policy: paging off here, the chains still shown (Atos: levels 1 and 2).
    let v = app.get_json("/api/v1/oncall/escalation").await;
    assert!(v["paging"].is_null(), "{v}");
    let atos = v["teams"].as_array().unwrap().iter().find(|t| t["team_id"] == "ATOS-N1").unwrap();
    assert_eq!(atos["levels"].as_array().unwrap().len(), 2);
    app.stop().await;
}
