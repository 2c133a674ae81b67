//! Reports over HTTP (issue 18): a LOGSTAT as of a past instant answers what the sufficiency question answered at
//! that instant, whatever came after; its PDF (read back by poppler's `pdftotext`) and its XLSX (read back by
//! calamine) hold the same figures; a tactical group's report is its own; bad instants and formats are refused at
//! their field.

mod common;

use chrono::Utc;
use common::{pdftotext, registry, Backend, TestApp};
use serde_json::Value;

const FORCES: &str = "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF1,Compagnie,STA,300,GS-IDF,2024-01-01,2099-12-31\nF2,Section,MRS,40,GS-MRS,2024-01-01,2099-12-31\n";
const ALLOWANCES: &str = "item_id,basis,quantity\nPLATE,person,2\nRATION,person_day,3\n";

/// A LOGSTAT's line of an organisation and an item.
fn line(report: &Value, org: &str, item: &str) -> Value {
    let lines = report["lines"].as_array().unwrap();
    lines.iter().find(|l| l["organization_id"] == org && l["item_id"] == item).unwrap().clone()
}

fn french(v: &Value) -> String {
    vigie_export::french_number(v.as_f64().unwrap(), 3)
}

#[tokio::test]
async fn a_logstat_as_of_an_instant_says_what_was_answered_then_in_json_pdf_and_xlsx() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.push(("forces.csv", FORCES));
    files.push(("allowances.csv", ALLOWANCES));
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let then = Utc::now();
    let on = vigie_domain::paris::today(then);
    let answered = app.get_json(&format!("/api/v1/ask/sufficiency?all=true&catalogue=true&on={on}")).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // Afterwards: the plates at DEP1 counted again, far fewer; a new force.
    let later = "site_id,item_id,quantity,condition,lot,expires_on,counted_at\nDEP1,PLATE,100,serviceable,L1,,2024-07-21 08:00\nDEP1,RATION,500,serviceable,R1,2025-01-01,2024-07-20 08:00\n";
    assert_eq!(app.import(&[("stock.csv", later)], "", None).await.status(), 200);

    let at = then.to_rfc3339();
    let q = |extra: &str| format!("/api/v1/reports/logstat?at={}{extra}", urlencode(&at));
    let r = app.get_json(&q("")).await;
    let head = app.journal().state().last_seq;
    assert!(r["seq"].as_u64().unwrap() < head, "the report stands before the later count");
    // Every organisation's line is the sufficiency's answer at that instant.
    let mut compared = 0;
    for s in answered["items"].as_array().unwrap() {
        for o in s["by_organization"].as_array().unwrap() {
            let line = r["lines"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["organization_id"] == o["organization_id"] && l["item_id"] == s["item"])
                .unwrap_or_else(|| panic!("no line for {} {}", o["organization_id"], s["item"]));
            for f in [
                "need",
                "on_hand",
                "serviceable",
                "reserved",
                "in_transit",
                "available",
                "incoming",
                "shortfall",
                "coverage",
            ] {
                assert_eq!(line[f], o[f], "{f} of {} {}", o["organization_id"], s["item"]);
            }
            compared += 1;
        }
    }
    assert!(compared >= 4, "{compared}");
    let idf_plates = line(&r, "GS-IDF", "PLATE");
    assert_eq!(idf_plates["available"].as_f64(), Some(1200.0));
    assert_eq!(idf_plates["need"].as_f64(), Some(600.0));
    assert_eq!(idf_plates["balance_24h"].as_f64(), Some(600.0));
    assert_eq!(idf_plates["late_sites"][0], "DEP1", "counted in July 2024: late, and said on the line");
    // Now, the later count shows.
    let now = app.get_json("/api/v1/reports/logstat").await;
    let idf_now = line(&now, "GS-IDF", "PLATE");
    assert_eq!(idf_now["available"].as_f64(), Some(100.0));
    assert_eq!(idf_now["balance_24h"].as_f64(), Some(-500.0));
    // The changes since the earlier instant.
    let diff = app.get_json(&format!("/api/v1/reports/logstat?since={}", urlencode(&at))).await;
    let change = &diff["changes"]["lines"][0];
    assert_eq!(
        (change["item_id"].as_str(), change["available_before"].as_f64(), change["available"].as_f64()),
        (Some("PLATE"), Some(1200.0), Some(100.0))
    );

    // The same report as a PDF: its text holds the sentence and the figures.
    let pdf = app.get(&q("&format=pdf")).await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"LOGSTAT-"));
    let text = pdftotext(&pdf.bytes().await.unwrap());
    assert!(text.contains("LOGSTAT — national"), "{text}");
    assert!(text.contains(&format!("événement n° {}", r["seq"])), "{text}");
    for want in [
        french(&idf_plates["available"]),
        french(&idf_plates["need"]),
        "Groupement IDF".into(),
        "Plaque".into(),
        "DEP1".into(),
    ] {
        assert!(text.contains(&want), "{want:?} not in the PDF:\n{text}");
    }
    // As an XLSX: the figures are numbers.
    let xlsx = app.get(&q("&format=xlsx")).await;
    assert_eq!(xlsx.status(), 200);
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(xlsx.bytes().await.unwrap().to_vec())).unwrap();
    let sheet = book.worksheet_range("LOGSTAT").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    let header = rows.iter().position(|r| r.first() == Some(&Data::String("Organisation".into()))).unwrap();
    let col = |name: &str| rows[header].iter().position(|c| *c == Data::String(name.into())).unwrap();
    let row = rows
        .iter()
        .find(|r| r[0] == Data::String("Groupement IDF".into()) && r[1] == Data::String("Plaque".into()))
        .unwrap();
    assert_eq!(row[col("Disponible")], Data::Float(1200.0));
    assert_eq!(row[col("Besoin 24 h")], Data::Float(600.0));
    assert_eq!(row[col("Solde 72 h")], Data::Float(600.0));
    assert_eq!(row[col("Comptes en retard")], Data::String("DEP1".into()));
    // CSV, the French way.
    let csv = app.get(&q("&format=csv")).await.text().await.unwrap();
    assert!(csv.contains("Groupement IDF;Plaque;pièce;1200;1200;0;0;1200;600;200;"), "{csv}");

    // A tactical group's report is its own; another's organisation is refused; so are bad instants and formats.
    let idf = app.client_as("idf");
    let own: Value = idf.get(app.url("/api/v1/reports/logstat")).send().await.unwrap().json().await.unwrap();
    assert!(own["lines"].as_array().unwrap().iter().all(|l| l["organization_id"] == "GS-IDF"), "{own}");
    assert_eq!(idf.get(app.url("/api/v1/reports/logstat?org=GS-MRS")).send().await.unwrap().status(), 403);
    assert_eq!(app.client_as("toc").get(app.url("/api/v1/reports/logstat")).send().await.unwrap().status(), 403);
    for (query, field) in
        [("at=2999-01-01T00:00:00Z", "at"), ("at=hier", "at"), ("format=docx", "format"), ("since=x", "since")]
    {
        let r = app.get(&format!("/api/v1/reports/logstat?{query}")).await;
        assert_eq!(r.status(), 422, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["problems"][0]["file"], field, "{query}: {body}");
    }
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

const TOC: [(&str, &str); 3] = [
    ("partners.csv", "id;name\nATOS;Atos\n"),
    ("applications.csv", "id;name;suite;criticality;partner_id;rollup\nODS-RES;Diffusion des résultats;ODS;critical;ATOS;worst\n"),
    (
        "checks.csv",
        "id;target;site_id;kind;interval_s;timeout_s;application_id;max_attempts\nPC-1;pc-1;STA;push;60;5;ODS-RES;1\nPC-2;pc-2;MRS;push;60;5;ODS-RES;1\n",
    ),
];

#[tokio::test]
async fn a_sitrep_as_of_an_instant_holds_the_it_incidents_logistics_and_decisions_of_then() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.push(("forces.csv", FORCES));
    files.push(("allowances.csv", ALLOWANCES));
    files.extend(TOC);
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let toc = app.client_as("toc");
    let push = |check: &str, status: &str| {
        let body = serde_json::json!([{"check": check, "status": status}]);
        toc.post(app.url("/api/v1/monitoring/results")).json(&body).send()
    };
    assert_eq!(push("PC-1", "CRITICAL").await.unwrap().status(), 200);
    assert_eq!(push("PC-2", "OK").await.unwrap().status(), 200);
    let body = serde_json::json!({"short_description": "Panne du tableau des résultats", "assignment_group": "ATOS", "impact": 1, "urgency": 1, "location": "STA"});
    assert_eq!(toc.post(app.url("/api/now/table/incident")).json(&body).send().await.unwrap().status(), 201);
    let decision =
        serde_json::json!({"text": "Bascule sur le lien de secours", "kind": "decision", "incident": "INC0000001"});
    assert_eq!(toc.post(app.url("/api/v1/log")).json(&decision).send().await.unwrap().status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let then = Utc::now().to_rfc3339();
    // What the incident list said then: the one opened by hand, and the one the critical application's alert opened.
    let listed = app.get_json("/api/v1/incidents?limit=100").await;
    let open_p1 = listed["incidents"].as_array().unwrap().iter().filter(|i| i["incident"]["priority"] == 1).count();
    assert_eq!(open_p1, 2, "{listed}");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // Afterwards the venue recovers.
    assert_eq!(push("PC-1", "OK").await.unwrap().status(), 200);

    let past = app.get_json(&format!("/api/v1/reports/sitrep?at={}", urlencode(&then))).await;
    let it = &past["it"];
    assert_eq!(it["sites_not_ok"][0]["id"], "STA", "{past}");
    assert_eq!(it["sites_not_ok"][0]["state"], "CRITICAL");
    assert_eq!(past["incidents"]["open_by_priority"][0], open_p1);
    assert_eq!(past["incidents"]["worst_open"][0]["number"], "INC0000001");
    assert_eq!(past["decisions"][0]["text"], "Bascule sur le lien de secours");
    assert_eq!(past["logistics"]["shortfalls"].as_array().unwrap().len(), 1, "the rations: {past}");
    assert_eq!(past["logistics"]["shortfalls"][0]["item_id"], "RATION");
    let now = app.get_json("/api/v1/reports/sitrep").await;
    assert_eq!(now["it"]["sites_not_ok"].as_array().unwrap().len(), 0, "recovered since: {now}");

    let pdf = app.get(&format!("/api/v1/reports/sitrep?at={}&format=pdf", urlencode(&then))).await;
    assert_eq!(pdf.status(), 200);
    let text = pdftotext(&pdf.bytes().await.unwrap());
    for want in [
        "SITREP",
        "1 site(s) perturbé(s) sur 2",
        "2 incident(s) ouvert(s) dont 2 P1",
        "INC0000001",
        "Bascule sur le lien de secours",
        "Stade de France",
        "En erreur",
        "Ration",
    ] {
        assert!(text.contains(want), "{want:?} not in the PDF:\n{text}");
    }
    // Each part for those who may read it: a tactical group gets its logistics only; a partner its incidents.
    let idf: Value =
        app.client_as("idf").get(app.url("/api/v1/reports/sitrep")).send().await.unwrap().json().await.unwrap();
    assert!(
        idf["it"].is_null() && idf["incidents"].is_null() && idf["decisions"].is_null() && idf["logistics"].is_object(),
        "{idf}"
    );
    let atos: Value = app
        .client_as("atos")
        .get(app.url(&format!("/api/v1/reports/sitrep?at={}", urlencode(&then))))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(atos["logistics"].is_null() && atos["decisions"].is_null(), "{atos}");
    assert_eq!(atos["incidents"]["open"], 2, "both are Atos's: {atos}");
    assert_eq!(app.client_as("mur").get(app.url("/api/v1/reports/sitrep")).send().await.unwrap().status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn a_report_is_drafted_then_approved_and_published_by_another_person_with_the_role_and_rebuilt_as_sealed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.push(("forces.csv", FORCES));
    files.push(("allowances.csv", ALLOWANCES));
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let (idf, cpco, admin) = (app.client_as("idf"), app.client_as("cpco"), app.client.clone());
    let post = |c: &reqwest::Client, path: &str, body: Value| c.post(app.url(path)).json(&body).send();

    // The tactical group drafts its own LOGSTAT (a national one is outside its reach).
    let r = post(&idf, "/api/v1/reports", serde_json::json!({"kind": "logstat", "note": "Point du groupement"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v1: Value = r.json().await.unwrap();
    let id = v1["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("LOGSTAT-") && id.ends_with("-GS-IDF"), "{id}");
    assert_eq!((v1["version"].as_u64(), v1["status"].as_str()), (Some(1), Some("draft")));
    assert_eq!(v1["organization_id"], "GS-IDF");
    // It cannot approve: the role is missing; the strategic centre can, the drafter could not.
    let approve = |version: u64| serde_json::json!({"version": version, "decision": "approve"});
    assert_eq!(post(&idf, &format!("/api/v1/reports/{id}/review"), approve(1)).await.unwrap().status(), 403);
    // A second draft: version 2; the first can no longer be approved.
    let later = "site_id,item_id,quantity,condition,lot,expires_on,counted_at\nDEP1,PLATE,900,serviceable,L1,,2024-07-21 08:00\n";
    assert_eq!(app.import(&[("stock.csv", later)], "", None).await.status(), 200);
    let v2: Value =
        post(&idf, "/api/v1/reports", serde_json::json!({"kind": "logstat"})).await.unwrap().json().await.unwrap();
    assert_eq!((v2["id"].as_str(), v2["version"].as_u64()), (Some(id.as_str()), Some(2)));
    assert_ne!(v1["digest"], v2["digest"], "other figures, another seal");
    assert_eq!(v2["since"], v1["at"], "a LOGSTAT says what changed since the previous one of its scope");
    assert_eq!(post(&cpco, &format!("/api/v1/reports/{id}/review"), approve(1)).await.unwrap().status(), 409);
    let publish = serde_json::json!({"version": 2, "decision": "publish"});
    assert_eq!(
        post(&cpco, &format!("/api/v1/reports/{id}/review"), publish.clone()).await.unwrap().status(),
        409,
        "approved first"
    );
    let ok = post(&cpco, &format!("/api/v1/reports/{id}/review"), approve(2)).await.unwrap();
    assert_eq!(ok.status(), 200);
    let ok = post(&admin, &format!("/api/v1/reports/{id}/review"), publish).await.unwrap();
    assert_eq!(ok.status(), 200);
    let rec = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let v = &rec["versions"][1];
    assert_eq!(v["status"], "published", "{rec}");
    assert!(v["approved_by"].as_str().unwrap().starts_with("user:cpco/"), "{rec}");
    assert!(v["published_by"].as_str().unwrap().starts_with("user:admin/"), "{rec}");
    assert_eq!(rec["versions"][0]["status"], "draft");
    // Every step is in the journal, with its actor.
    let events = app.get_json("/api/v1/events?after=0&limit=1000").await;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| k.starts_with("report."))
        .collect();
    assert_eq!(kinds, ["report.drafted", "report.drafted", "report.reviewed", "report.reviewed"]);

    // A drafter cannot approve their own draft, even with the role.
    let s: Value =
        post(&cpco, "/api/v1/reports", serde_json::json!({"kind": "sitrep"})).await.unwrap().json().await.unwrap();
    let sid = s["id"].as_str().unwrap();
    let own = post(&cpco, &format!("/api/v1/reports/{sid}/review"), approve(1)).await.unwrap();
    assert_eq!(own.status(), 403);
    assert_eq!(own.json::<Value>().await.unwrap()["code"], "forbidden.own_report");
    // Who sees what: the other group sees neither; the TOC (no logistics) does not see the SITREP that holds them.
    let mrs: Value = app.client_as("mrs").get(app.url("/api/v1/reports")).send().await.unwrap().json().await.unwrap();
    assert_eq!(mrs["items"].as_array().unwrap().len(), 0, "{mrs}");
    assert_eq!(app.client_as("mrs").get(app.url(&format!("/api/v1/reports/{id}"))).send().await.unwrap().status(), 404);
    let toc: Value = app.client_as("toc").get(app.url("/api/v1/reports")).send().await.unwrap().json().await.unwrap();
    assert_eq!(toc["items"].as_array().unwrap().len(), 0, "{toc}");

    // The published version rebuilt from the journal: its figures, and who drafted, approved and published it.
    let pdf = idf.get(app.url(&format!("/api/v1/reports/{id}/file?version=2&format=pdf"))).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    let text = pdftotext(&pdf.bytes().await.unwrap());
    for want in [
        format!("{id}, version 2"),
        "approuvée par user:cpco/".into(),
        "publiée".into(),
        "900".into(),
        "Groupement IDF".into(),
        "Évolution depuis le".into(),
    ] {
        assert!(text.contains(&want), "{want:?} not in:\n{text}");
    }
    let draft1 = idf.get(app.url(&format!("/api/v1/reports/{id}/file?version=1&format=pdf"))).send().await.unwrap();
    let text1 = pdftotext(&draft1.bytes().await.unwrap());
    assert!(
        text1.contains("PROJET, non approuvé")
            && text1.contains("1 200")
            && text1.contains("Note : Point du groupement"),
        "{text1}"
    );
    app.stop().await;
}
