//! Status pages per audience (issue 17), black-box over HTTP without an account: a partner's page shows its own
//! incidents with their public updates (customer-visible comments, never the work notes) and not another partner's;
//! the organising committee's shows the sites too; French by default, English on request, JSON for machines; an
//! unknown or forged token is refused, and the token is what opens the page (no session needed, none used).

mod common;

use common::{registry, Backend, TestApp};
use serde_json::{json, Value};

fn audience(token: &str, title: &str, partner: Option<&str>, sites: bool) -> vigie_server::status::StatusAudience {
    vigie_server::status::StatusAudience {
        token: token.into(),
        audience: vigie_app::status::Audience {
            name: title.to_lowercase(),
            title: title.into(),
            show_suites: true,
            show_sites: sites,
            partner: partner.map(str::to_string),
            incidents: true,
            ..Default::default()
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_audience_sees_what_is_chosen_for_it_without_an_account() {
    let options = vigie_server::ServerOptions {
        active_checks: false,
        status: vec![
            audience("atos-0123456789abcdefghijklmn", "Atos", Some("ATOS"), false),
            audience("cojo-0123456789abcdefghijklmn", "Comité", None, true),
        ],
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let app = TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), options).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let estate = [
        ("partners.csv", "id;name\nATOS;Atos\nORANGE;Orange\n"),
        ("applications.csv", "id;name;suite;criticality;partner_id\nODS-RES;Résultats;ODS;critical;ATOS\nNET-STA;Réseau;INFRA;critical;ORANGE\n"),
        ("checks.csv", "id;target;site_id;kind;interval_s;timeout_s;application_id;max_attempts\nRES-1;res.sta;STA;push;60;5;ODS-RES;1\nNET-1;net.sta;STA;push;60;5;NET-STA;1\n"),
    ];
    assert_eq!(app.import(&estate, "", None).await.status(), 200);
    let toc = app.client_as("toc");
    let r = toc.post(app.url("/api/v1/monitoring/results")).json(&json!([{"check": "RES-1", "status": "CRITICAL", "output": "x"}, {"check": "NET-1", "status": "OK", "output": "ok"}])).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut numbers = Vec::new();
    for (text, group) in [("Résultats indisponibles au Stade", "ATOS"), ("Lien secondaire instable", "ORANGE")] {
        let r = toc
            .post(app.url("/api/now/table/incident"))
            .json(&json!({"short_description": text, "impact": 1, "urgency": 2, "assignment_group": group, "location": "STA", "cmdb_ci": if group == "ATOS" { "ODS-RES" } else { "NET-STA" }}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        numbers.push((
            v["result"]["sys_id"].as_str().unwrap().to_string(),
            v["result"]["number"].as_str().unwrap().to_string(),
        ));
    }
    let r = toc
        .patch(app.url(&format!("/api/now/table/incident/{}", numbers[0].0)))
        .json(&json!({"comments": "Les résultats sont republiés depuis le site de secours.", "work_notes": "redémarrage du nœud 3 (interne)"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // Without an account: a plain client, no cookie, no token.
    let plain = reqwest::Client::new();
    let atos = plain.get(app.url("/status/atos-0123456789abcdefghijklmn")).send().await.unwrap();
    assert_eq!(atos.status(), 200);
    let html = atos.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">") && html.contains("Résultats indisponibles au Stade"), "{html}");
    assert!(html.contains("Les résultats sont republiés depuis le site de secours."), "the public update");
    assert!(!html.contains("redémarrage du nœud 3"), "never the work notes");
    assert!(!html.contains("Lien secondaire instable"), "not another partner's incident");
    // The failing check opened an incident of its own (Atos's application): counted with the one opened by hand.
    let open = |group: Option<&str>| {
        let st = app.journal().state();
        st.incidents.values().filter(|i| group.is_none_or(|g| i.value.assignment_group == g)).count()
    };
    assert_eq!(open(Some("ATOS")), 2);
    let said = format!("1 sur 1 services perturbés : ODS (interrompu). {} incident(s) en cours.", open(Some("ATOS")));
    assert!(html.contains(&said), "{html}");
    assert!(!html.contains("INFRA"), "Orange's suite is not Atos's");

    let v: Value = plain
        .get(app.url("/status/cojo-0123456789abcdefghijklmn?format=json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = v["incidents"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), open(None), "the committee sees every one: {v}");
    assert!(titles.contains(&"Lien secondaire instable"), "{v}");
    let sites: Vec<&str> = v["sites"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(sites.contains(&"STA"), "{v}");
    let updates =
        &v["incidents"].as_array().unwrap().iter().find(|i| i["number"] == numbers[0].1.as_str()).unwrap()["updates"];
    assert_eq!(updates.as_array().unwrap().len(), 1, "{updates}");

    let en =
        plain.get(app.url("/status/cojo-0123456789abcdefghijklmn?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(en.contains("<html lang=\"en\">") && en.contains("disrupted") && en.contains("under way"), "{en}");

    // A wrong method on a page of a secret link is refused and recorded without the secret.
    let r = plain.post(app.url("/status/atos-0123456789abcdefghijklmn")).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let denied = app.journal().read_after(0, 100_000).unwrap().into_iter().rev().find_map(|e| match e.event {
        vigie_domain::Event::AccessDenied(d) => Some(d),
        _ => None,
    });
    let denied = denied.expect("the refusal is recorded");
    assert_eq!(denied.path, "/status/(hidden)", "{denied:?}");
    for bad in ["atos-0123456789abcdefghijklmX", "nope", "atos-0123456789abcdefghijklmn-and-more"] {
        let r = plain.get(app.url(&format!("/status/{bad}"))).send().await.unwrap();
        assert_eq!(r.status(), 404, "{bad}");
        assert!(r.text().await.unwrap().contains("Ce lien n'est pas valable"));
    }
    app.stop().await;
}
