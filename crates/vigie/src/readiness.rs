//! `vigie readiness`: venue readiness from the command line, in French like the screen (read-only: it works beside
//! a running server). Without `--site`: every site worst first (late, blocked, least done) and the root causes with
//! what each holds up; with `--site`: that site's tasks in projected order, the critical path and root causes.

use chrono::{DateTime, Utc};
use std::fmt::Write;
use vigie_app::readiness::{NetworkCache, Picture};
use vigie_app::Caller;
use vigie_domain::{Actor, State};

fn paris(t: DateTime<Utc>) -> String {
    vigie_domain::paris::to_local(t).format("%d/%m %H:%M").to_string()
}

fn pct(p: f64) -> String {
    format!("{p:.1} %").replace('.', ",")
}

/// The text `vigie readiness` prints (or its JSON with `json`).
pub fn run(st: &State, site: Option<&str>, json: bool, now: DateTime<Utc>) -> anyhow::Result<String> {
    let caller = Caller::internal(Actor::system("cli"), "cli");
    let cache = NetworkCache::default();
    let picture = Picture::new(st, &caller, now, &cache).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = String::new();
    match site {
        Some(site) => {
            let p = picture.site(site).map_err(|e| anyhow::anyhow!("{e}"))?;
            if json {
                return Ok(serde_json::to_string_pretty(&p)?);
            }
            let s = &p.site;
            let name = st.sites.get(site).map_or(site.to_string(), |r| r.value.name.clone());
            let _ = writeln!(
                out,
                "{name} ({site}) : {} fait ({} tâches sur {}){}{}",
                pct(s.percent),
                s.tasks_done,
                s.tasks,
                s.ready.map_or(String::new(), |r| format!(", prêt le {} (projeté)", paris(r))),
                match (s.deadline, s.late) {
                    (Some(d), true) => format!(", APRÈS l'échéance du {}", paris(d)),
                    (Some(d), false) => format!(", avant l'échéance du {}", paris(d)),
                    _ => String::new(),
                }
            );
            let _ = writeln!(out, "chemin critique : {}", p.critical_path.join(" → "));
            for t in &p.tasks {
                let held = match (&t.blocked_by, &t.delayed_by) {
                    (Some(b), _) if b != &t.id => format!("  ⟵ retenue par {b}"),
                    (_, Some(d)) if d != &t.id => format!("  ⟵ retardée par la livraison {d}"),
                    _ => String::new(),
                };
                let plan = t.plan.as_ref().map_or(String::new(), |p| {
                    let st = match p.status {
                        "committed" => "engagé",
                        "shipped" => "expédié, en route",
                        "received" => "réceptionné",
                        _ => "annulé",
                    };
                    let when = match (p.expected_at, p.overdue) {
                        (Some(at), true) => format!(", attendu le {}, EN RETARD", paris(at)),
                        (Some(at), false) => format!(", attendu le {}", paris(at)),
                        _ => String::new(),
                    };
                    format!("  [plan {} : {st}{when}]", p.id)
                });
                let _ = writeln!(
                    out,
                    "  {} → {}  {:<11} {}  ({}){}{}{}",
                    paris(t.start),
                    paris(t.finish),
                    status(t.status),
                    t.name,
                    t.owner,
                    if t.reason.is_empty() { String::new() } else { format!(" — {}", t.reason) },
                    held,
                    plan
                );
            }
        }
        None => {
            let mut sites = picture.summary("site").map_err(|e| anyhow::anyhow!("{e}"))?;
            let blockers = picture.blockers();
            let deliveries = picture.late_deliveries();
            if json {
                return Ok(serde_json::to_string_pretty(
                    &serde_json::json!({"sites": sites, "blockers": blockers, "late_deliveries": deliveries}),
                )?);
            }
            sites.sort_by(|a, b| {
                let rank = |s: &str| ["late", "at_risk", "on_time", "ready"].iter().position(|w| *w == s);
                (rank(a.state), a.percent as i64).cmp(&(rank(b.state), b.percent as i64))
            });
            let late = sites.iter().filter(|s| s.late).count();
            let _ = writeln!(
                out,
                "{} sites sur {} prêts à temps ; {late} en retard ; {} cause(s) de blocage.",
                sites.len() - late,
                sites.len(),
                blockers.len()
            );
            for b in &blockers {
                let _ = writeln!(
                    out,
                    "  bloqué : {} ({}) — {} ; retient {} tâche(s)",
                    b.task.id,
                    b.task.owner,
                    if b.task.reason.is_empty() { "sans motif" } else { b.task.reason.as_str() },
                    b.blocks.len()
                );
            }
            for d in &deliveries {
                let _ = writeln!(
                    out,
                    "  livraison en retard : {} (plan {}, attendue le {}) ; retarde {} tâche(s)",
                    d.task.id,
                    d.task.plan_id.as_deref().unwrap_or("?"),
                    d.task.plan.as_ref().and_then(|p| p.expected_at).map_or("—".into(), paris),
                    d.blocks.len()
                );
            }
            for s in &sites {
                let _ = writeln!(
                    out,
                    "  {:<10} {:>8}  prêt le {:<11}  échéance {:<11} {}",
                    s.key,
                    pct(s.percent),
                    s.ready.map_or("—".into(), paris),
                    s.deadline.map_or("—".into(), paris),
                    match s.state {
                        "late" => "EN RETARD",
                        "at_risk" => "à risque (bloqué ou tâches en retard)",
                        "ready" => "prêt",
                        _ => "à temps",
                    }
                );
            }
        }
    }
    Ok(out)
}

fn status(s: &str) -> &'static str {
    match s {
        "todo" => "à faire",
        "in_progress" => "en cours",
        "blocked" => "BLOQUÉE",
        "done" => "terminée",
        _ => "vérifiée",
    }
}
