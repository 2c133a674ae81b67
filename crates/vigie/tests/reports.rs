//! Reports over HTTP (issue 18): a LOGSTAT as of a past instant answers what the sufficiency question answered at
//! that instant, whatever came after; its PDF (read back by poppler's `pdftotext`) and its XLSX (read back by
//! calamine) hold the same figures; a tactical group's report is its own; bad instants and formats are refused at
//! their field.

mod common;

use chrono::Utc;
use common::{registry, Backend, TestApp};
use serde_json::Value;

const FORCES: &str = "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF1,Compagnie,STA,300,GS-IDF,2024-01-01,2099-12-31\nF2,Section,MRS,40,GS-MRS,2024-01-01,2099-12-31\n";
const ALLOWANCES: &str = "item_id,basis,quantity\nPLATE,person,2\nRATION,person_day,3\n";

fn pdftotext(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed: scripts/test.sh installs it");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
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
    let idf_plates = r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["organization_id"] == "GS-IDF" && l["item_id"] == "PLATE")
        .unwrap()
        .clone();
    assert_eq!(idf_plates["available"].as_f64(), Some(1200.0));
    assert_eq!(idf_plates["need"].as_f64(), Some(600.0));
    assert_eq!(idf_plates["balance_24h"].as_f64(), Some(600.0));
    assert_eq!(idf_plates["late_sites"][0], "DEP1", "counted in July 2024: late, and said on the line");
    // Now, the later count shows.
    let now = app.get_json("/api/v1/reports/logstat").await;
    let idf_now = now["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["organization_id"] == "GS-IDF" && l["item_id"] == "PLATE")
        .unwrap()
        .clone();
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
