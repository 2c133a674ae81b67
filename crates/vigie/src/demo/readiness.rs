//! The demo's readiness picture (issue 16): the TOC's 56 sites fitted out from two templates (a results room and a
//! press tribune at each venue, a workstation area elsewhere), the 10,000 computers in every deployment state (a
//! batch at the Centre Aquatique on last month's image), and at the Arena Bercy a results room whose computers wait
//! for tables still on the road from Vincennes: "no table, no PC", as data.
//!
//! Everything goes through the application layer: the tables' plan is committed and shipped
//! (`vigie_app::plans`), the tables are imported (`vigie_app::imports`), progress is recorded
//! (`vigie_app::readiness::progress_in_order`), each only once (a second `vigie demo` changes nothing).

use super::toc::Estate;
use super::{csv_field, file, VENUES};
use chrono::{DateTime, Duration, Utc};
use std::fmt::Write;
use vigie_app::readiness::ProgressRequest;
use vigie_app::Caller;
use vigie_domain::readiness::TaskStatus;
use vigie_domain::Actor;
use vigie_import::SourceFile;
use vigie_journal::Journal;
use vigie_readiness::{Template, TemplateTask};

/// The venue whose results room waits for its tables.
pub const WAITING_VENUE: &str = "BCY";
/// The venue whose results room's computers run last month's image.
pub const WRONG_IMAGE_VENUE: &str = "AQC";
/// The venue whose press tribune's network is blocked.
pub const BLOCKED_VENUE: &str = "DEF";
const RESULTS_IMAGE: (&str, &str) = ("ODS-RES", "4.2");
const PURPOSE: &str = "Tables de la salle des résultats";

fn task(key: &str, trade: &str, owner: &str, minutes: i64, after: &[&str], count: u32) -> TemplateTask {
    TemplateTask {
        key: key.into(),
        trade: trade.into(),
        owner: owner.into(),
        duration: minutes,
        after: after.iter().map(|a| (a.to_string(), 0)).collect(),
        count,
    }
}

/// What a kind of zone needs, in the order the work is done.
pub fn templates() -> Vec<(Template, &'static str)> {
    vec![
        (
            Template {
                kind: "results_room".into(),
                tasks: vec![
                    task("tables", "delivery", "PROXIMITE", 240, &[], 1),
                    task("power", "power", "PROXIMITE", 180, &[], 1),
                    task("network", "network", "RES-SITES", 240, &["power"], 1),
                    task("pc", "installation", "POSTES", 45, &["tables", "network"], 12),
                    task("image", "imaging", "ATOS", 30, &["pc"], 12),
                    task("test", "tests", "ATOS", 120, &["image"], 1),
                    task("results", "results", "OMEGA", 180, &["test"], 1),
                ],
            },
            "Salle des résultats",
        ),
        (
            Template {
                kind: "press_tribune".into(),
                tasks: vec![
                    task("tables", "furniture", "PROXIMITE", 180, &[], 1),
                    task("power", "power", "PROXIMITE", 120, &[], 1),
                    task("network", "network", "RES-SITES", 180, &["power"], 1),
                    task("pc", "installation", "POSTES", 45, &["tables", "network"], 4),
                    task("test", "tests", "PROXIMITE", 60, &["pc"], 1),
                ],
            },
            "Tribune de presse",
        ),
        (
            Template {
                kind: "workstations".into(),
                tasks: vec![
                    task("network", "network", "RES-SITES", 120, &[], 1),
                    task("pc", "installation", "POSTES", 60, &["network"], 4),
                    task("test", "tests", "PROXIMITE", 60, &["pc"], 1),
                ],
            },
            "Postes de travail",
        ),
    ]
}

fn trade_name(trade: &str) -> &'static str {
    match trade {
        "delivery" => "Livraison des tables",
        "furniture" => "Mise en place du mobilier",
        "power" => "Alimentation électrique",
        "network" => "Câblage et réseau",
        "installation" => "Installation d'un poste",
        "imaging" => "Imagerie d'un poste",
        "tests" => "Test de la zone",
        _ => "Mise en service des résultats",
    }
}

/// The zones of each site and the template each follows: (site, zone id, kind index, name).
fn zones(e: &Estate) -> Vec<(String, String, usize, String)> {
    let mut out = Vec::new();
    for s in &e.sites {
        if VENUES.iter().any(|v| v.0 == s) {
            out.push((s.clone(), format!("{s}-RES"), 0, "Salle des résultats".into()));
            out.push((s.clone(), format!("{s}-PRESSE"), 1, "Tribune de presse".into()));
        } else {
            out.push((s.clone(), format!("{s}-POSTES"), 2, "Postes de travail".into()));
        }
    }
    out
}

/// zones.csv, zone_templates.csv (a few lines that give the zones their thousands of tasks), tasks.csv (the one task
/// that differs from its template: Bercy's tables, done by `plan`) and computers.csv.
pub fn files(now: DateTime<Utc>, plan: &str) -> Vec<SourceFile> {
    let e = Estate::build();
    let templates = templates();
    let midnight =
        vigie_domain::paris::from_local(vigie_domain::paris::today(now).and_hms_opt(0, 0, 0).expect("midnight"));
    let mut zones_csv = String::from("id,site_id,name,kind,image,deadline\n");
    let mut templates_csv = String::from("kind,key,name,trade,owner,duration_min,after,lag_min,count\n");
    for (template, _) in &templates {
        for t in &template.tasks {
            let after: Vec<&str> = t.after.iter().map(|(k, _)| k.as_str()).collect();
            let lag = t.after.first().map_or(0, |(_, lag)| *lag);
            writeln!(
                templates_csv,
                "{},{},{},{},{},{},{},{lag},{}",
                template.kind,
                t.key,
                csv_field(trade_name(&t.trade)),
                t.trade,
                t.owner,
                t.duration,
                after.join("|"),
                t.count
            )
            .unwrap();
        }
    }
    let mut tasks_csv = String::from("id,site_id,zone_id,name,trade,owner,duration_min,due,plan_id\n");
    for (i, (site, zone, kind, name)) in zones(&e).into_iter().enumerate() {
        // Test events spread over the coming days: each zone must be ready by 08:00 that day.
        let deadline = midnight + Duration::days(2 + (i % 9) as i64) + Duration::hours(6);
        let image = if kind == 0 { format!("{} {}", RESULTS_IMAGE.0, RESULTS_IMAGE.1) } else { String::new() };
        let (template, _) = &templates[kind];
        writeln!(
            zones_csv,
            "{zone},{site},{},{},{image},{}",
            csv_field(&name),
            template.kind,
            deadline.format("%Y-%m-%dT%H:%M:00Z")
        )
        .unwrap();
        if zone == format!("{WAITING_VENUE}-RES") {
            let t = template.tasks.iter().find(|t| t.key == "tables").expect("a results room has its tables");
            writeln!(
                tasks_csv,
                "{site}/{zone}/tables,{site},{zone},{},{},{},{},{},{plan}",
                csv_field(trade_name(&t.trade)),
                t.trade,
                t.owner,
                t.duration,
                deadline.format("%Y-%m-%dT%H:%M:00Z")
            )
            .unwrap();
        }
    }
    // Computers: each TOC computer, serial SN-…; the first twelve of a venue serve its results room, the next four
    // its press tribune. States cycle through the deployment so that every state is seen, most in service.
    let mut computers = String::from("id,model,site_id,zone_id,role,image,image_version,state,asset_id\n");
    let states = ["in_service"; 6]
        .into_iter()
        .chain(["tested", "imaged", "installed", "delivered", "in_depot"])
        .collect::<Vec<_>>();
    for (s, n) in &e.computers {
        let venue = VENUES.iter().any(|v| v.0 == s);
        for k in 1..=*n {
            let zone = match (venue, k) {
                (true, 1..=12) => format!("{s}-RES"),
                (true, 13..=16) => format!("{s}-PRESSE"),
                (false, 1..=4) => format!("{s}-POSTES"),
                _ => String::new(),
            };
            let critical = zone.ends_with("-RES") || k % 3 == 0;
            let state = if zone.is_empty() { states[(k * 7 + s.len()) % states.len()] } else { "in_service" };
            let state = if s == WAITING_VENUE && zone.ends_with("-RES") { "delivered" } else { state };
            let imaged = matches!(state, "imaged" | "tested" | "in_service");
            let (image, version) = match (imaged, critical) {
                (false, _) => ("", ""),
                (true, true) if s == WRONG_IMAGE_VENUE && zone.ends_with("-RES") => (RESULTS_IMAGE.0, "4.1"),
                (true, true) => (RESULTS_IMAGE.0, RESULTS_IMAGE.1),
                (true, false) => ("POSTE-STD", "2024.06"),
            };
            let model = if critical { "HP EliteDesk 800 G9" } else { "Lenovo ThinkCentre M70q" };
            writeln!(
                computers,
                "SN-{s}-{k:04},{model},{s},{zone},{},{image},{version},{state},PC-{s}-{k:03}",
                if critical { "critical" } else { "provider" }
            )
            .unwrap();
        }
    }
    vec![
        file("zones.csv", zones_csv),
        file("zone_templates.csv", templates_csv),
        file("tasks.csv", tasks_csv),
        file("computers.csv", computers),
    ]
}

/// Loads the readiness picture into `journal` once: the tables' plan committed and shipped, the tables imported,
/// progress recorded (most sites well under way, one blocked, one waiting for its tables).
pub fn setup(journal: &Journal, now: DateTime<Utc>) -> anyhow::Result<()> {
    let caller = Caller::internal(Actor::system("demo"), "demo");
    let existing =
        journal.state().plans.values().find(|p| p.value.plan.purpose == PURPOSE).map(|p| p.value.plan.id.0.clone());
    let plan = match existing {
        Some(id) => id,
        None => {
            let proposed = vigie_app::plans::ProposedPlan {
                destination: vigie_domain::SiteId::parse(WAITING_VENUE)?,
                movements: vec![movement("TABLE-PLIANTE", 40)?, movement("CHAISE", 120)?],
                vehicles: Vec::new(),
                purpose: PURPOSE.into(),
                note: "Salle des résultats de l'Arena Bercy".into(),
                on: None,
            };
            let rec = vigie_app::plans::commit(journal, &caller, proposed).map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = rec.value.plan.id.0.clone();
            vigie_app::plans::step(journal, &caller, &id, vigie_app::plans::Step::Ship)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            id
        }
    };
    let batch = vigie_import::read(&files(now, &plan), &mut |_, _| {});
    vigie_app::imports::import(journal, &caller, batch, false).map_err(|e| match e {
        vigie_app::AppError::Invalid { problems, .. } => anyhow::anyhow!(
            "the demo's readiness tables are invalid:\n{}",
            problems.iter().take(10).map(|p| p.to_string()).collect::<Vec<_>>().join("\n")
        ),
        e => anyhow::anyhow!("{e}"),
    })?;
    if !journal.state().readiness.progress.is_empty() {
        return Ok(());
    }
    vigie_app::readiness::progress_in_order(journal, &caller, moves(journal, &plan))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

fn movement(item: &str, quantity: i64) -> anyhow::Result<vigie_domain::Movement> {
    Ok(vigie_domain::Movement {
        from: vigie_domain::SiteId::parse("DEP-VINCENNES")?,
        item_id: vigie_domain::ItemId::parse(item)?,
        quantity: vigie_domain::Quantity::from_units(quantity),
        vehicle_id: None,
    })
}

/// Progress: each zone's tasks in order, done up to a share that varies by site, the next one in progress; the
/// blocked venue's press network blocked; the waiting venue's results room stops at its tables.
fn moves(journal: &Journal, plan: &str) -> Vec<(String, ProgressRequest)> {
    let st = journal.state();
    let mut by_zone: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    let net = vigie_app::readiness::network(&st).expect("the demo's network is valid");
    for t in net.tasks() {
        by_zone.entry(t.zone.clone()).or_default().push(t.id.clone());
    }
    // A task starts after its predecessors finish (durations are positive): by projected start is an order of work.
    let sched = net.schedule(vigie_app::readiness::minutes(Utc::now()));
    let start = |id: &str| sched.dates(&net, id).map_or(i64::MAX, |d| d.0);
    let mut out = Vec::new();
    let done = |evidence: &str| ProgressRequest {
        status: TaskStatus::Done,
        reason: String::new(),
        evidence: evidence.into(),
        overriding: false,
    };
    for (i, (zone, mut tasks)) in by_zone.into_iter().enumerate() {
        tasks.sort_by(|a, b| (start(a), a).cmp(&(start(b), b)));
        let share = [100, 100, 90, 75, 60, 40, 100, 85][i % 8];
        let mut n = tasks.len() * share / 100;
        if zone == format!("{WAITING_VENUE}-RES") {
            // Power and network done; the tables are on the road: nothing after them.
            n = 0;
            for t in &tasks {
                if t.ends_with("/power") || t.ends_with("/network") {
                    out.push((t.clone(), done("relevé de l'électricien")));
                }
            }
            out.push((
                format!("{WAITING_VENUE}/{zone}/tables"),
                ProgressRequest {
                    status: TaskStatus::Blocked,
                    reason: format!("tables en route depuis Vincennes (plan {plan}) : pas de table, pas de PC"),
                    evidence: String::new(),
                    overriding: false,
                },
            ));
        }
        for t in tasks.iter().take(n) {
            let evidence = if t.ends_with("/test") { "procès-verbal de test signé" } else { "" };
            out.push((t.clone(), done(evidence)));
        }
        if let Some(next) = tasks.get(n).filter(|_| n > 0) {
            out.push((
                next.clone(),
                ProgressRequest {
                    status: TaskStatus::InProgress,
                    reason: String::new(),
                    evidence: String::new(),
                    overriding: false,
                },
            ));
        }
        if zone == format!("{BLOCKED_VENUE}-PRESSE") {
            out.retain(|(t, _)| !t.starts_with(&format!("{BLOCKED_VENUE}/{zone}/")));
            out.push((format!("{BLOCKED_VENUE}/{zone}/power"), done("")));
            out.push((
                format!("{BLOCKED_VENUE}/{zone}/network"),
                ProgressRequest {
                    status: TaskStatus::Blocked,
                    reason: "fourreau endommagé sous la tribune : passage de câble impossible".into(),
                    evidence: String::new(),
                    overriding: false,
                },
            ));
        }
    }
    out
}
