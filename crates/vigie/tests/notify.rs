//! Paging the people on duty, with a real SMTP server (Debian's python3-aiosmtpd, started by the test): an incident
//! assigned to a partner mails its level 1 on duty, in French, with a link to the incident; not acknowledged within
//! the delay, level 2 is mailed, once; an acknowledged incident does not escalate; the incident says who was told.

mod common;

use common::{registry, Backend, TestApp};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The SMTP server: killed when dropped.
struct Sink(Child, PathBuf);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sink(dir: &Path) -> (Sink, u16) {
    sink_refusing(dir, 0)
}

/// The SMTP server, refusing the first `refuse` messages (451, as a relay that is down) before it takes them.
fn sink_refusing(dir: &Path, refuse: u32) -> (Sink, u16) {
    sink_with(dir, &[("SINK_REFUSE", refuse.to_string())])
}

/// The SMTP server with its environment (`SINK_REFUSE`, `SINK_TLS`, `SINK_AUTH`: see the script).
fn sink_with(dir: &Path, env: &[(&str, String)]) -> (Sink, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = dir.join("mail");
    std::fs::create_dir_all(&out).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
    // Debian's interpreter, where python3-aiosmtpd is installed (scripts/test.sh installs it).
    let mut child = Command::new("/usr/bin/python3")
        .args([script, &port.to_string(), out.to_str().unwrap()])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("/usr/bin/python3 with python3-aiosmtpd: run `bash .ci/run`, which installs it");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    assert!(line.starts_with("ready"), "the SMTP server did not start (python3-aiosmtpd missing?): {line:?}");
    (Sink(child, out), port)
}

/// The messages received so far, in order: (recipient, whole text).
fn mails(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let n = p.file_name()?.to_str()?.strip_suffix(".eml")?.parse().ok()?;
            Some((n, p))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, p)| {
            let text = std::fs::read_to_string(p).unwrap();
            let to = text.lines().next().unwrap().trim_start_matches("X-Rcpt-To: ").to_string();
            (to, text)
        })
        .collect()
}

/// What a receiver started by a test has received, once it holds `n` requests (or after five seconds).
async fn received_at_least<T: Clone>(received: &std::sync::Mutex<Vec<T>>, n: usize) -> Vec<T> {
    for _ in 0..100 {
        if received.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    received.lock().unwrap().clone()
}

async fn wait_for_mails(dir: &Path, n: usize) -> Vec<(String, String)> {
    for _ in 0..200 {
        let m = mails(dir);
        if m.len() >= n {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {n} messages, received {:?}", mails(dir).iter().map(|m| &m.0).collect::<Vec<_>>());
}

const ROSTERS: &[(&str, &str)] = &[
    ("partners.csv", "id;name\nATOS;Atos\n"),
    ("people.csv", "id;name;email;partner_id\nana;Ana Martin;ana@atos.example;ATOS\ncyr;Cyr Petit;cyr@atos.example;ATOS\n"),
    ("teams.csv", "id;name;partner_id\nATOS-SUPPORT;Atos — support;ATOS\n"),
    (
        "rotations.csv",
        "team_id;level;period;starts_at;people\nATOS-SUPPORT;1;daily;2024-01-01 08:00;ana\nATOS-SUPPORT;2;daily;2024-01-01 08:00;cyr\n",
    ),
];

async fn incident(app: &TestApp, text: &str) -> String {
    incident_for(app, text, "ATOS").await
}

fn options(port: u16, escalate_after: Duration) -> vigie_server::ServerOptions {
    vigie_server::ServerOptions {
        active_checks: false,
        public_url: Some("https://vigie.example".into()),
        notify: Some(vigie_server::notify::NotifyOptions {
            escalate_after,
            escalation_repeats: 0,
            tick: Duration::from_millis(200),
            link_key: Some("clé de test".into()),
            link_ttl: Duration::from_secs(3600),
            ..vigie_server::notify::NotifyOptions::relay("127.0.0.1", port, "Vigie <vigie@toc.example>")
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_incident_mails_level_one_then_escalates_once() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, port) = sink(dir.path());
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let options = options(port, Duration::from_secs(2));
    let app = TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), options).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let r = app.import(ROSTERS, "", None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // Opened and assigned to Atos: Ana, on duty at level 1, gets the mail, in French, with the link.
    let first = incident(&app, "Panne du système de résultats").await;
    let got = wait_for_mails(&sink.1, 1).await;
    let (to, text) = &got[0];
    assert_eq!(to, "ana@atos.example");
    assert!(text.contains(&format!("Subject: [Vigie] {first} P2 — Panne du système de résultats")), "{text}");
    assert!(text.contains("Bonjour Ana Martin"), "{text}");
    assert!(text.contains(&format!("https://vigie.example/#/incidents?id={first}")), "{text}");
    assert!(text.contains(&format!("Message-ID: <N-{first}-1@vigie>")), "{text}");

    // Not acknowledged within two seconds: Cyr, level 2, once.
    let got = wait_for_mails(&sink.1, 2).await;
    assert_eq!(got[1].0, "cyr@atos.example");
    assert!(got[1].1.contains("Escalade"), "{}", got[1].1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(mails(&sink.1).len(), 2, "no level 3, nothing twice");

    // A second incident, acknowledged at once with the link in Ana's message, without signing in: nobody else is
    // told. The page the link opens acknowledges nothing by itself (a mail client's preview); its button does, once.
    let second = incident(&app, "Imprimante hors service").await;
    let got = wait_for_mails(&sink.1, 3).await;
    assert_eq!(got[2].0, "ana@atos.example");
    let token = got[2].1.split("https://vigie.example/ack/").nth(1).expect("a link").split_whitespace().next().unwrap();
    let plain = reqwest::Client::new();
    let page = plain.get(app.url(&format!("/ack/{token}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    assert!(text.contains(&second) && text.contains("Ana Martin") && text.contains("Acquitter"), "{text}");
    assert!(app.journal().state().oncall.acknowledged.is_empty(), "opening the link acknowledges nothing");
    let in_journal = app.journal().state().oncall.outbox.values().any(|e| e.notification.body.contains("/ack/"));
    assert!(!in_journal, "the journal keeps no link: its readers cannot acknowledge in the person's name");
    let r = plain.post(app.url(&format!("/ack/{token}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(&format!("{second} est acquitté")));
    let ack = app.journal().read_after(app.journal().state().last_seq - 1, 1).unwrap();
    match &ack[0].event {
        vigie_domain::Event::IncidentAcknowledged(a) => {
            assert_eq!((a.person_id.as_ref().map(|p| p.as_str()), a.via.as_str()), (Some("ana"), "link"))
        }
        other => panic!("expected the acknowledgement, found {other:?}"),
    }
    assert_eq!(plain.post(app.url(&format!("/ack/{token}"))).send().await.unwrap().status(), 409, "used once");
    let other = if token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{other}", &token[..token.len() - 1]);
    assert_eq!(plain.post(app.url(&format!("/ack/{forged}"))).send().await.unwrap().status(), 404, "forged");
    let id = token.split('.').next().unwrap();
    let expired = vigie_app::notify::ack_token("clé de test", id, chrono::Utc::now() - chrono::Duration::minutes(1));
    assert_eq!(plain.post(app.url(&format!("/ack/{expired}"))).send().await.unwrap().status(), 410, "expired");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(mails(&sink.1).len(), 3, "acknowledged: no escalation");
    // From the API too (Atos, its own incident).
    let r =
        app.client_as("atos").post(app.url(&format!("/api/v1/incidents/{first}/acknowledge"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["acknowledged"], true);

    // The incident says who was told, when, how, and where it stands.
    let v = app.get_json(&format!("/api/v1/incidents/{first}/notifications")).await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for (item, (person, level)) in items.iter().zip([("ana", 1), ("cyr", 2)]) {
        assert_eq!(
            (item["notification"]["person_id"].as_str(), item["notification"]["level"].as_u64()),
            (Some(person), Some(level))
        );
        assert_eq!((item["status"].as_str(), item["notification"]["channel"].as_str()), (Some("sent"), Some("email")));
        assert!(item["detail"].as_str().unwrap().starts_with("250"), "{item}");
    }
    assert!(v["acknowledged"]["by"].as_str().unwrap().starts_with("user:atos"), "{v}");
    // …and its timeline says it among the rest, in order: told Ana, told Cyr, acknowledged.
    let tl = app.get_json(&format!("/api/v1/incidents/{first}/timeline")).await;
    let told: Vec<String> = tl["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "notified" || e["kind"] == "acknowledged")
        .map(|e| format!("{} {}", e["kind"].as_str().unwrap(), e["person"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(told, ["notified Ana Martin", "notified Cyr Petit", "acknowledged "], "{tl}");
    assert!(tl["acknowledged"]["at"].is_string(), "{tl}");
    app.stop().await;
}

/// A restart in the middle of an escalation neither loses nor repeats a step: level 1 was mailed before the stop and
/// is not mailed again; level 2 is mailed once, when its delay (counted from the journalled queueing) has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_an_escalation_neither_loses_nor_repeats_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, port) = sink(dir.path());
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let app =
        TestApp::spawn_with_options(cfg.clone(), tempfile::tempdir().unwrap(), options(port, Duration::from_secs(3)))
            .await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    assert_eq!(app.import(ROSTERS, "", None).await.status(), 200);
    let number = incident(&app, "Liaison coupée").await;
    let got = wait_for_mails(&sink.1, 1).await;
    assert_eq!(got[0].0, "ana@atos.example");
    // Stopped once the send is journalled: a stop between the SMTP server's acceptance and that record would send
    // the message again (at least once; the same Message-ID lets a mail client show it once).
    let sent = format!("N-{number}-1");
    let is_sent = |app: &TestApp| {
        let st = app.journal().state();
        st.oncall.outbox.get(&sent).is_some_and(|e| matches!(e.delivery, vigie_domain::notify::Delivery::Sent { .. }))
    };
    for _ in 0..100 {
        if is_sent(&app) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;

    let app =
        TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), options(port, Duration::from_secs(3))).await;
    let got = wait_for_mails(&sink.1, 2).await;
    assert_eq!(got[1].0, "cyr@atos.example", "level 2 after the restart");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = mails(&sink.1);
    assert_eq!(all.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), ["ana@atos.example", "cyr@atos.example"]);
    let sent: Vec<u32> = {
        let st = app.journal().state();
        st.oncall.outbox.values().filter(|e| e.notification.number == number).map(|e| e.attempts).collect()
    };
    assert_eq!(sent, [1, 1], "each message sent once");
    app.stop().await;
}

/// A storm of 500 failing checks of one critical application at one venue opens one incident and pages once; a
/// partner's people are never paged for another partner's incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_pages_once_and_a_partner_hears_only_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, port) = sink(dir.path());
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let app =
        TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), options(port, Duration::from_secs(3600))).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let mut checks = String::from("id;target;site_id;kind;interval_s;timeout_s;application_id;max_attempts\n");
    for k in 0..500 {
        checks += &format!("RES-{k:03};res{k}.sta;STA;push;60;5;ODS-RES;1\n");
    }
    let estate = [
        ("partners.csv", "id;name\nATOS;Atos\nORANGE;Orange\n"),
        ("applications.csv", "id;name;suite;criticality;partner_id\nODS-RES;Résultats;ODS;critical;ATOS\n"),
        ("checks.csv", checks.as_str()),
    ];
    let r = app.import(&estate, "", None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let mut rosters: Vec<(&str, &str)> = ROSTERS.to_vec();
    rosters[0] = ("partners.csv", "id;name\nATOS;Atos\nORANGE;Orange\n");
    let people = format!("{}ode;Odile Orange;ode@orange.example;ORANGE\n", ROSTERS[1].1);
    let teams = format!("{}ORANGE-NOC;Orange — réseau;ORANGE\n", ROSTERS[2].1);
    let rotations = format!("{}ORANGE-NOC;1;daily;2024-01-01 08:00;ode\n", ROSTERS[3].1);
    rosters[1] = ("people.csv", &people);
    rosters[2] = ("teams.csv", &teams);
    rosters[3] = ("rotations.csv", &rotations);
    let r = app.import(&rosters, "", None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // The storm: every check of the results application at the Stade fails at once.
    let results: Vec<Value> =
        (0..500).map(|k| json!({"check": format!("RES-{k:03}"), "status": "CRITICAL", "output": "timeout"})).collect();
    let r = app.client_as("toc").post(app.url("/api/v1/monitoring/results")).json(&results).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let got = wait_for_mails(&sink.1, 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = mails(&sink.1);
    assert_eq!(all.len(), 1, "one incident, one page: {:?}", all.iter().map(|m| &m.0).collect::<Vec<_>>());
    assert_eq!(got[0].0, "ana@atos.example");
    assert_eq!(app.journal().state().incidents.len(), 1);

    // Orange's incident pages Orange's person on duty, and nobody of Atos.
    incident_for(&app, "Lien montant coupé", "ORANGE").await;
    let got = wait_for_mails(&sink.1, 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&sink.1).len(), 2);
    assert_eq!(got[1].0, "ode@orange.example");

    // The notification log: the TOC sees both messages, Atos only its own.
    let all = app.get_json("/api/v1/notifications").await;
    assert_eq!((all["total"].as_u64(), all["sent"].as_u64()), (Some(2), Some(2)), "{all}");
    let r = app.client_as("atos").get(app.url("/api/v1/notifications")).send().await.unwrap();
    let atos: Value = r.json().await.unwrap();
    assert_eq!(atos["total"], 1, "{atos}");
    assert_eq!(atos["items"][0]["notification"]["person_id"], "ana");
    assert_eq!(atos["items"][0]["state"], "sent");
    let failed = app.get_json("/api/v1/notifications?status=failed").await;
    assert_eq!(failed["total"], 0);
    app.stop().await;
}

async fn incident_for(app: &TestApp, text: &str, group: &str) -> String {
    let r = app
        .client_as("toc")
        .post(app.url("/api/now/table/incident"))
        .json(&json!({"short_description": text, "impact": 1, "urgency": 2, "assignment_group": group, "location": "STA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["result"]["number"].as_str().unwrap().to_string()
}

/// The team's chat channel hears the page too: Mattermost/Slack-shaped JSON for one team, a Microsoft Teams
/// MessageCard for another, posted to webhook receivers on the premises (a real HTTP server started by the test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reaches_the_teams_chat_in_its_format() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let r2 = received.clone();
    let receiver = axum::Router::new().route(
        "/hooks/{name}",
        axum::routing::post(
            move |axum::extract::Path(name): axum::extract::Path<String>, axum::Json(v): axum::Json<Value>| {
                let r = r2.clone();
                async move {
                    r.lock().unwrap().push((name, v));
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hooks = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let (sink, port) = sink(dir.path());
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let mut opts = options(port, Duration::from_secs(3600));
    if let Some(n) = opts.notify.as_mut() {
        for (name, format) in [("atos-mm", "slack"), ("orange-teams", "teams")] {
            let url = format!("http://{hooks}/hooks/{name}");
            n.webhooks.insert(name.into(), vigie_server::notify::Webhook { url, format: format.into() });
        }
    }
    let app = TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), opts).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let files: [(&str, &str); 4] = [
        ("partners.csv", "id;name\nATOS;Atos\nORANGE;Orange\n"),
        ("people.csv", "id;name;email;chat;partner_id\nana;Ana Martin;ana@atos.example;ana.martin;ATOS\node;Odile Orange;ode@orange.example;;ORANGE\n"),
        ("teams.csv", "id;name;partner_id;webhook\nATOS-SUPPORT;Atos — support;ATOS;atos-mm\nORANGE-NOC;Orange — réseau;ORANGE;orange-teams\n"),
        ("rotations.csv", "team_id;level;period;starts_at;people\nATOS-SUPPORT;1;daily;2024-01-01 08:00;ana\nORANGE-NOC;1;daily;2024-01-01 08:00;ode\n"),
    ];
    let r = app.import(&files, "", None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let atos = incident_for(&app, "Panne des résultats", "ATOS").await;
    let orange = incident_for(&app, "Lien montant coupé", "ORANGE").await;
    wait_for_mails(&sink.1, 2).await;
    let got = received_at_least(&received, 2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    let mm = got.iter().find(|(n, _)| n == "atos-mm").map(|(_, v)| v).expect("Atos's channel");
    assert_eq!(mm["username"], "Vigie");
    let text = mm["text"].as_str().unwrap();
    assert!(text.contains(&atos) && text.contains("@ana.martin") && text.contains("niveau 1"), "{text}");
    let card = got.iter().find(|(n, _)| n == "orange-teams").map(|(_, v)| v).expect("Orange's channel");
    assert_eq!(
        (card["@type"].as_str(), card["@context"].as_str()),
        (Some("MessageCard"), Some("https://schema.org/extensions"))
    );
    assert!(card["title"].as_str().unwrap().contains(&orange), "{card}");
    assert!(card["text"].as_str().unwrap().contains("Odile Orange"), "{card}");
    let chat: Vec<String> = {
        let st = app.journal().state();
        let chat = st.oncall.outbox.values().filter(|e| e.notification.channel.as_str() == "chat");
        chat.map(|e| e.notification.id.clone()).collect()
    };
    assert_eq!(chat, [format!("N-{atos}-1-chat"), format!("N-{orange}-1-chat")]);
    app.stop().await;
}

/// An urgent page also goes by SMS through the gateways in order: the first fails (it answers 500), the next
/// takes the message, with the number and the text put into its template; a less urgent page goes by mail only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_gateway_that_fails_makes_the_next_one_send() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let r2 = received.clone();
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let c2 = calls.clone();
    let gateways = axum::Router::new()
        .route("/down/send", axum::routing::post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "panne") }))
        .route(
            "/voice/call",
            axum::routing::post(move |body: String| {
                let c = c2.clone();
                async move {
                    c.lock().unwrap().push(body);
                    "calling"
                }
            }),
        )
        .route(
            "/up/send",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let r = r2.clone();
                async move {
                    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    r.lock().unwrap().push((auth, body));
                    "queued"
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, gateways).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let (sink, port) = sink(dir.path());
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let mut opts = options(port, Duration::from_secs(3600));
    if let Some(n) = opts.notify.as_mut() {
        for (name, path, auth) in [("premier", "down", None), ("secours", "up", Some("Bearer secret-du-fournisseur"))] {
            n.sms.push(vigie_server::notify::SmsGateway {
                name: name.into(),
                url: format!("http://{at}/{path}/send"),
                content_type: "application/json".into(),
                body: r#"{"destinataire": "{to}", "message": "{text}"}"#.into(),
                authorization: auth.map(str::to_string),
            });
        }
        n.voice.push(vigie_server::notify::SmsGateway {
            name: "appels".into(),
            url: format!("http://{at}/voice/call"),
            content_type: "application/x-www-form-urlencoded".into(),
            body: "numero={to}&texte={text}".into(),
            authorization: None,
        });
    }
    let app = TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), opts).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let files: [(&str, &str); 4] = [
        ("partners.csv", "id;name\nATOS;Atos\n"),
        ("people.csv", "id;name;email;mobile;partner_id\nana;Ana Martin;ana@atos.example;06 12 34 56 78;ATOS\n"),
        ("teams.csv", "id;name;partner_id\nATOS-SUPPORT;Atos — support;ATOS\n"),
        ("rotations.csv", "team_id;level;period;starts_at;people\nATOS-SUPPORT;1;daily;2024-01-01 08:00;ana\n"),
    ];
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    let urgent = incident(&app, "Panne \"totale\" des résultats").await; // impact 1 × urgency 2: P2
    wait_for_mails(&sink.1, 1).await;
    let got = received_at_least(&received, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "Bearer secret-du-fournisseur");
    let v: Value = serde_json::from_str(&got[0].1).expect("the template, escaped for JSON");
    assert_eq!(v["destinataire"], "+33612345678");
    let text = v["message"].as_str().unwrap();
    assert!(text.starts_with(&format!("Vigie {urgent} P2 niveau 1 : Panne \"totale\"")), "{text}");
    assert!(text.contains("acquitter : https://vigie.example/ack/"), "{text}");
    let sms = {
        let st = app.journal().state();
        st.oncall.outbox.get(&format!("N-{urgent}-1-sms")).cloned().expect("the SMS's entry")
    };
    assert_eq!(sms.attempts, 1);
    assert!(
        matches!(&sms.delivery, vigie_domain::notify::Delivery::Sent { detail, .. } if detail == "200 secours"),
        "{sms:?}"
    );

    // A P4 incident: mail only.
    let r = app
        .client_as("toc")
        .post(app.url("/api/now/table/incident"))
        .json(&json!({"short_description": "Écran rayé", "impact": 3, "urgency": 3, "assignment_group": "ATOS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    wait_for_mails(&sink.1, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(received.lock().unwrap().len(), 1, "no SMS for a P4");
    assert!(calls.lock().unwrap().is_empty(), "no call below P1");

    // A P1: a call too, through the voice gateway, with the text its voice reads (form-encoded as configured).
    let r = app
        .client_as("toc")
        .post(app.url("/api/now/table/incident"))
        .json(&json!({"short_description": "Plus de réseau", "impact": 1, "urgency": 1, "assignment_group": "ATOS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let p1 = r.json::<Value>().await.unwrap()["result"]["number"].as_str().unwrap().to_string();
    let got = received_at_least(&calls, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let form: std::collections::HashMap<String, String> = url_decode(&got[0]);
    assert_eq!(form["numero"], "+33612345678");
    assert!(form["texte"].starts_with(&format!("Ici Vigie. Incident {p1}, priorité 1, niveau 1 : Plus de réseau.")));
    app.stop().await;
}

/// Switching paging on over a centre with an incident opened long ago pages nobody for it; a new incident is paged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_paging_on_does_not_page_old_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, port) = sink(dir.path());
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let quiet = vigie_server::ServerOptions { active_checks: false, ..Default::default() };
    let app = TestApp::spawn_with_options(cfg.clone(), tempfile::tempdir().unwrap(), quiet).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    assert_eq!(app.import(ROSTERS, "", None).await.status(), 200);
    let old = incident(&app, "Ancien incident").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.stop().await;

    let mut opts = options(port, Duration::from_secs(3600));
    if let Some(n) = opts.notify.as_mut() {
        n.page_within = Duration::from_secs(1);
    }
    let app = TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), opts).await;
    let new = incident(&app, "Nouvel incident").await;
    let got = wait_for_mails(&sink.1, 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&sink.1).len(), 1, "the old incident is not paged");
    assert!(got[0].1.contains(&new) && !got[0].1.contains(&old), "{}", got[0].1);
    app.stop().await;
}

/// A relay that refuses the first sends (451) takes the page on a later attempt, with back-off; each failure is
/// journalled with the relay's answer. Then the priority raised is told to whoever holds the incident, once, as an
/// answer to the first mail (`In-Reply-To`), so that a mail client threads the incident's messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_down_is_retried_and_a_raised_priority_is_told_in_the_thread() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, port) = sink_refusing(dir.path(), 2);
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let mut opts = options(port, Duration::from_secs(3600));
    if let Some(n) = opts.notify.as_mut() {
        n.first_retry = Duration::from_millis(300);
    }
    let app = TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), opts).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    assert_eq!(app.import(ROSTERS, "", None).await.status(), 200);
    let number = incident(&app, "Réseau des résultats instable").await;
    let got = wait_for_mails(&sink.1, 1).await;
    assert_eq!(got[0].0, "ana@atos.example");
    let id = format!("N-{number}-1");
    let entry = app.journal().state().oncall.outbox[&id].clone();
    assert_eq!(entry.attempts, 3, "two refusals, then taken: {entry:?}");
    assert!(matches!(entry.delivery, vigie_domain::notify::Delivery::Sent { .. }), "{entry:?}");
    let failures: Vec<String> = app
        .journal()
        .read_after(0, 10_000)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            vigie_domain::Event::NotificationFailed(f) if f.id == id => Some(f.error),
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures.iter().all(|f| f.contains("451")), "the relay's answer is kept: {failures:?}");

    // Raised to P1 through the Table API: Ana, who holds it, is told once, in the incident's thread.
    let sys_id =
        app.journal().state().incidents.values().find(|i| i.value.number == number).unwrap().value.sys_id.clone();
    let r = app
        .client_as("toc")
        .patch(app.url(&format!("/api/now/table/incident/{sys_id}")))
        .json(&json!({"impact": 1, "urgency": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let got = wait_for_mails(&sink.1, 2).await;
    let (to, text) = &got[1];
    assert_eq!(to, "ana@atos.example");
    assert!(text.contains(&format!("Subject: [Vigie] Priorité relevée : {number} P1")), "{text}");
    assert!(text.contains("Sa priorité est passée de P2 à P1."), "{text}");
    assert!(text.contains(&format!("In-Reply-To: <N-{number}-1@vigie>")), "{text}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&sink.1).len(), 2, "told once");
    app.stop().await;
}

/// A form body's fields, percent-decoded.
fn url_decode(body: &str) -> std::collections::HashMap<String, String> {
    let decode = |s: &str| {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' if i + 2 < b.len() => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

/// The logistics rules reach an organisation's duty officer: Marseille's engaged force has no serviceable plate
/// (coverage 0 % under a watch at 100 %), told once that day; a plan to Marseille committed and not shipped in time is
/// told once to the same officer; Paris, covered, hears nothing of plates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_plan_and_a_low_coverage_reach_the_organisations_duty_officer() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, port) = sink(dir.path());
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let mut opts = options(port, Duration::from_secs(3600));
    if let Some(n) = opts.notify.as_mut() {
        n.plan_ship_within = Duration::from_secs(1);
        n.logistics_every = Duration::from_millis(200);
        n.coverage = vec![vigie_app::notify::CoverageWatch { item: "PLATE".into(), days: 1, below: 1.0 }];
    }
    // The fixture's stock was counted in 2024: no reminder of late counts here (another test has them).
    opts.count_every = Duration::from_secs(100 * 365 * 24 * 3600);
    let app = TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), opts).await;
    let mut files = registry();
    files.push(("allowances.csv", "item_id,basis,quantity\nPLATE,person,1\n"));
    files.push((
        "forces.csv",
        "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF1,Renfort,MRS,40,GS-MRS,2024-01-01,2099-12-31\n\
         F2,Garde,STA,10,GS-IDF,2024-01-01,2099-12-31\n",
    ));
    files.push((
        "people.csv",
        "id;name;email;organization_id\nlt-mrs;Lt Roux;roux@gs-mrs.example;GS-MRS\nlt-idf;Lt Blanc;blanc@gs-idf.example;GS-IDF\n",
    ));
    files.push((
        "teams.csv",
        "id;name;organization_id\nGS-MRS-PERM;Permanence GS Marseille;GS-MRS\nGS-IDF-PERM;Permanence GS IDF;GS-IDF\n",
    ));
    files.push((
        "rotations.csv",
        "team_id;level;period;starts_at;people\nGS-MRS-PERM;1;daily;2024-01-01 08:00;lt-mrs\nGS-IDF-PERM;1;daily;2024-01-01 08:00;lt-idf\n",
    ));
    let r = app.import(&files, "", None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let got = wait_for_mails(&sink.1, 1).await;
    let (to, text) = &got[0];
    assert_eq!(to, "roux@gs-mrs.example");
    assert!(text.contains("Subject: [Vigie] Couverture Plaque 0 % — Groupement Marseille"), "{text}");
    assert!(text.contains("ne couvre que 0 % de son besoin sur 1 jour(s) (seuil 100 %)"), "{text}");
    assert!(text.contains("besoin 40 pièce"), "{text}");

    // A plan from Vincennes to Marseille, committed by the centre and left unshipped.
    let plan = json!({"destination": "MRS", "movements": [{"from": "DEP1", "item_id": "PLATE", "quantity": 40}],
                      "purpose": "reinforce"});
    let r = app.client_as("cpco").post(app.url("/api/v1/plans")).json(&plan).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let got = wait_for_mails(&sink.1, 2).await;
    let (to, text) = &got[1];
    assert_eq!(to, "roux@gs-mrs.example");
    assert!(text.contains("non expédié — Stade de Marseille"), "{text}");
    assert!(text.contains("n'est toujours pas expédié"), "{text}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = mails(&sink.1);
    assert_eq!(
        all.len(),
        2,
        "each once, Paris (covered) told nothing: {:?}",
        all.iter().map(|m| &m.0).collect::<Vec<_>>()
    );
    app.stop().await;
}

/// A relay that requires STARTTLS with a certificate of the premises' own authority (given in the configuration) and a
/// login: the page goes through encrypted and authenticated; with a wrong password, it is not sent and the refusal
/// is journalled, to be tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_with_starttls_and_a_login_takes_the_page() {
    let pki = tempfile::tempdir().unwrap();
    common::test_pki(pki.path(), 30);
    let tls = format!("{}:{}", pki.path().join("leaf.pem").display(), pki.path().join("leaf.key").display());
    let ca = std::fs::read(pki.path().join("ca.pem")).unwrap();
    for (password, delivered) in [("secret-du-relais", true), ("mauvais", false)] {
        let dir = tempfile::tempdir().unwrap();
        let (sink, port) =
            sink_with(dir.path(), &[("SINK_TLS", tls.clone()), ("SINK_AUTH", "vigie:secret-du-relais".into())]);
        let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
        let mut opts = options(port, Duration::from_secs(3600));
        if let Some(n) = opts.notify.as_mut() {
            n.smtp.host = "localhost".into();
            n.smtp.security = "starttls".into();
            n.smtp.user = Some("vigie".into());
            n.smtp.password = Some(password.into());
            n.smtp.ca_pem = Some(ca.clone());
        }
        let app = TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), opts).await;
        assert_eq!(app.import(&registry(), "", None).await.status(), 200);
        assert_eq!(app.import(ROSTERS, "", None).await.status(), 200);
        let number = incident(&app, "Messagerie du TOC").await;
        let id = format!("N-{number}-1");
        if delivered {
            let got = wait_for_mails(&sink.1, 1).await;
            assert!(got[0].1.contains("X-Sink-Session: tls=yes login=vigie"), "{}", got[0].1);
            assert_eq!(got[0].0, "ana@atos.example");
        } else {
            let mut error = None;
            for _ in 0..100 {
                let failed = match app.journal().state().oncall.outbox.get(&id).map(|e| &e.delivery) {
                    Some(vigie_domain::notify::Delivery::Failed { error: e, .. }) => Some(e.clone()),
                    _ => None,
                };
                if failed.is_some() {
                    error = failed;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let error = error.unwrap_or_else(|| {
                panic!("the failure is journalled: {:?}", app.journal().state().oncall.outbox.get(&id))
            });
            assert!(error.contains("AUTH"), "{error}");
            assert!(mails(&sink.1).is_empty(), "nothing delivered");
        }
        app.stop().await;
    }
}

/// The reporting discipline: the fixture's stock was counted in July 2024, long past the expected 24 hours. Each
/// group's duty officer is reminded once (its late sites named); the report lists them, a tactical group its own
/// only; a fresh count of Vincennes takes it off the late list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_counts_are_listed_and_remind_the_duty_officer_once() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, port) = sink(dir.path());
    let cfg = common::config(Backend::Sqlite, dir.path().join("data"));
    let mut opts = options(port, Duration::from_secs(3600));
    if let Some(n) = opts.notify.as_mut() {
        n.logistics_every = Duration::from_millis(200);
    }
    let app = TestApp::spawn_with_options(cfg, tempfile::tempdir().unwrap(), opts).await;
    let mut files = registry();
    files.push((
        "people.csv",
        "id;name;email;organization_id\nlt-mrs;Lt Roux;roux@gs-mrs.example;GS-MRS\nlt-idf;Lt Blanc;blanc@gs-idf.example;GS-IDF\n",
    ));
    files.push((
        "teams.csv",
        "id;name;organization_id\nGS-MRS-PERM;Permanence Marseille;GS-MRS\nGS-IDF-PERM;Permanence IDF;GS-IDF\n",
    ));
    files.push((
        "rotations.csv",
        "team_id;level;period;starts_at;people\nGS-MRS-PERM;1;daily;2024-01-01 08:00;lt-mrs\nGS-IDF-PERM;1;daily;2024-01-01 08:00;lt-idf\n",
    ));
    assert_eq!(app.import(&files, "", None).await.status(), 200);

    let got = wait_for_mails(&sink.1, 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&sink.1).len(), 2, "once each");
    let to_mrs = got.iter().find(|m| m.0 == "roux@gs-mrs.example").expect("Marseille's officer reminded");
    assert!(to_mrs.1.contains("Subject: [Vigie] Comptes en retard — Groupement Marseille : 1 site(s)"), "{}", to_mrs.1);
    assert!(to_mrs.1.contains("Stade de Marseille (dernier compte le 20/07/2024"), "{}", to_mrs.1);
    assert!(got.iter().any(|m| m.0 == "blanc@gs-idf.example"), "Paris's officer reminded");

    let all = app.get_json("/api/v1/reports/discipline").await;
    assert_eq!(
        (all["late_sites"].as_u64(), all["sites"].as_u64(), all["expected_hours"].as_f64()),
        (Some(2), Some(2), Some(24.0)),
        "{all}"
    );
    let idf: Value =
        app.client_as("idf").get(app.url("/api/v1/reports/discipline")).send().await.unwrap().json().await.unwrap();
    let orgs: Vec<&str> =
        idf["organizations"].as_array().unwrap().iter().map(|o| o["organization_id"].as_str().unwrap()).collect();
    assert_eq!(orgs, ["GS-IDF"], "a tactical group sees its own");

    let now = vigie_domain::paris::to_local(chrono::Utc::now()).format("%Y-%m-%d %H:%M").to_string();
    let count = format!(
        "site_id,item_id,quantity,condition,lot,expires_on,counted_at\nDEP1,PLATE,1190,serviceable,L1,,{now}\n"
    );
    assert_eq!(app.import(&[("stock.csv", count.as_str())], "", None).await.status(), 200);
    let after = app.get_json("/api/v1/reports/discipline").await;
    assert_eq!(after["late_sites"], 1, "{after}");
    let dep1 = after["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["sites"].as_array().unwrap())
        .find(|s| s["site_id"] == "DEP1")
        .unwrap();
    assert_eq!(dep1["late"], false, "{dep1}");
    app.stop().await;
}
