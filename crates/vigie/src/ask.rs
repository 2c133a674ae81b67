//! `vigie ask …`: the logistics questions on the command line, as French tables or as JSON (`--json`, the same
//! documents as `/api/v1/ask/...`).

use anyhow::Context;
use chrono::NaiveDate;
use clap::Subcommand;
use std::fmt::Write;
use vigie_domain::{paris, ItemId, Quantity, State};
use vigie_logistics::{self as logistics, Figures, Near, Scope, Sufficiency, Travel};

#[derive(Debug, Subcommand)]
pub enum Question {
    /// Do we have enough? Need of the engaged forces against serviceable and available stock.
    Sufficiency {
        /// Item id (or --all for every item with an allowance).
        #[arg(long, required_unless_present = "all")]
        item: Option<String>,
        #[arg(long)]
        all: bool,
        /// Day (YYYY-MM-DD; default: today in Paris).
        #[arg(long)]
        on: Option<String>,
        /// Days of `person_day` allowances to cover.
        #[arg(long, default_value_t = 1)]
        days: u32,
        /// Only what this organisation and its children support.
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Where is it? Sites holding available quantity, nearest first.
    Locate {
        /// Item ids, comma-separated.
        #[arg(long)]
        item: String,
        /// A site id, `LAT,LON`, or a French commune (name or INSEE code).
        #[arg(long)]
        near: String,
        #[arg(long)]
        within_km: Option<f64>,
        /// Persons to feed: adds the days of autonomy.
        #[arg(long)]
        headcount: Option<u32>,
        #[arg(long)]
        on: Option<String>,
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reinforce a site: sources by arrival and a plan within the vehicles' payload and volume.
    Reinforce {
        #[arg(long)]
        site: String,
        /// ITEM=QTY[,ITEM=QTY…]
        #[arg(long)]
        need: String,
        /// Wanted by (Paris local time `YYYY-MM-DD HH:MM`, or RFC 3339).
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        on: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Deploy reinforcements without equipment or vehicles: what is near both zones, and the plan that has every
    /// person at the destination with the full kit soonest (then with the fewest vehicle-km).
    Deploy {
        /// Departure zone: a site id, `LAT,LON`, or a French commune.
        #[arg(long)]
        from: String,
        /// Deployment zone: a site id (the plan can then be committed), `LAT,LON`, or a French commune.
        #[arg(long)]
        to: String,
        #[arg(long)]
        headcount: u32,
        /// Days of `person_day` allowances in the kit.
        #[arg(long, default_value_t = 1)]
        days: u32,
        /// Wanted by (Paris local time `YYYY-MM-DD HH:MM`, or RFC 3339).
        #[arg(long)]
        by: Option<String>,
        /// Radius of the lists of resources near each zone.
        #[arg(long, default_value_t = 100.0)]
        within_km: f64,
        #[arg(long)]
        on: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// `2h05` from minutes.
fn hours(m: f64) -> String {
    let m = m.round() as i64;
    format!("{}h{:02}", m / 60, m % 60)
}

fn day(on: Option<&str>) -> anyhow::Result<NaiveDate> {
    match on {
        None => Ok(paris::today(chrono::Utc::now())),
        Some(s) => s.parse().with_context(|| format!("--on: expected a date YYYY-MM-DD, found {s:?}")),
    }
}

fn scope(st: &State, org: Option<&str>) -> anyhow::Result<Scope> {
    Ok(match org {
        Some(o) => Scope::of(st, o)?,
        None => Scope::everything(),
    })
}

/// `12 345,5` — French thousands and decimal separators.
pub fn fr(q: Quantity) -> String {
    let s = q.to_string();
    let (int, frac) = s.split_once('.').map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out},{f}"),
        None => format!("{sign}{out}"),
    }
}

fn coverage(f: &Figures) -> String {
    f.coverage.map_or("—".into(), |c| format!("{:.1} %", c * 100.0).replace('.', ","))
}

fn figures_line(f: &Figures) -> String {
    format!(
        "besoin {} | en stock {} | en état {} | réservé {} | en transit {} | disponible {} | manque {} | couverture {}",
        fr(f.need),
        fr(f.on_hand),
        fr(f.serviceable),
        fr(f.reserved),
        fr(f.in_transit),
        fr(f.available),
        fr(f.shortfall),
        coverage(f)
    )
}

fn render_sufficiency(s: &Sufficiency, out: &mut String) {
    let _ = writeln!(out, "{} ({}), le {}, sur {} jour(s)", s.item_name, s.item, s.on, s.days);
    let _ = writeln!(out, "  {}", figures_line(&s.figures));
    let oldest = s.oldest_count.map_or("aucun".into(), |t| paris::to_local(t).format("%d/%m/%Y %H:%M").to_string());
    let _ = writeln!(
        out,
        "  personnel engagé : {} ; comptage le plus ancien : {} (heure de Paris)",
        fr(Quantity::from_units(s.headcount as i64)),
        oldest
    );
    let _ = writeln!(out, "  Par organisation :");
    for o in &s.by_organization {
        let _ = writeln!(out, "    {:<12} {}", o.organization_id, figures_line(&o.figures));
    }
    let short: Vec<_> = s.by_site.iter().filter(|x| x.figures.shortfall > Quantity::ZERO).take(10).collect();
    if !short.is_empty() {
        let _ = writeln!(out, "  Sites en manque (les 10 premiers) :");
        for x in short {
            let _ = writeln!(out, "    {:<16} {:<40} manque {}", x.site_id, x.name, fr(x.figures.shortfall));
        }
    }
}

pub fn run(st: &State, travel: &Travel, q: Question) -> anyhow::Result<String> {
    match q {
        Question::Sufficiency { item, all, on, days, org, json } => {
            let on = day(on.as_deref())?;
            let scope = scope(st, org.as_deref())?;
            if all {
                let all = logistics::sufficiency_all(st, on, days, &scope)?;
                if json {
                    return Ok(serde_json::to_string_pretty(
                        &serde_json::json!({ "on": on, "days": days, "items": all }),
                    )?);
                }
                let mut out = format!("Suffisance de tous les articles dotés, le {on}, sur {days} jour(s), la plus faible couverture d'abord\n");
                for s in &all {
                    let _ = writeln!(out, "  {:<16} {}", s.item, figures_line(&s.figures));
                }
                return Ok(out);
            }
            let item = logistics::item_id(st, item.as_deref().unwrap_or_default())?;
            let s = logistics::sufficiency(st, &item, on, days, &scope)?;
            if json {
                return Ok(serde_json::to_string_pretty(&s)?);
            }
            let mut out = String::new();
            render_sufficiency(&s, &mut out);
            Ok(out)
        }
        Question::Reinforce { site, need, by, on, json } => {
            let on = day(on.as_deref())?;
            let deadline =
                vigie_app::when::deadline_minutes(by.as_deref()).map_err(|e| anyhow::anyhow!("--by: {e}"))?;
            let need = logistics::reinforce::parse_need(st, &need)?;
            let r = logistics::reinforce::reinforce(
                st,
                &site,
                &need,
                on,
                deadline,
                travel,
                &vigie_logistics::Scope::everything(),
            )?;
            if json {
                return Ok(serde_json::to_string_pretty(&r)?);
            }
            let mut out = format!(
                "Renforcer {} le {} (ETA estimées)\n  Sources, la plus tôt arrivée d'abord :\n",
                r.site_id, r.on
            );
            for s in r.sources.iter().take(10) {
                let avail: Vec<String> = s.available.iter().map(|(i, q)| format!("{i} {}", fr(*q))).collect();
                let _ = writeln!(
                    out,
                    "    {:<16} {:>7.1} km  {:>6}  {} véhicule(s) libre(s)  {}",
                    s.site_id,
                    s.distance_km,
                    hours(s.eta_min),
                    s.vehicles.len(),
                    avail.join(", ")
                );
            }
            let _ = writeln!(out, "  Plan proposé :");
            for l in &r.loads {
                let items: Vec<String> = l.items.iter().map(|(i, q)| format!("{i} {}", fr(*q))).collect();
                let _ = writeln!(
                    out,
                    "    {:<12} depuis {:<16} {:<40} {:>7.0}/{:.0} kg {:>6.1}/{:.1} m³  arrivée +{}",
                    l.vehicle_id,
                    l.from,
                    items.join(", "),
                    l.mass_kg,
                    l.payload_kg,
                    l.volume_m3,
                    l.cargo_m3,
                    hours(l.eta_min)
                );
            }
            for (i, u) in r.unmet.iter().filter(|(_, u)| **u > Quantity::ZERO) {
                let _ = writeln!(out, "  NON COUVERT : {i} {}", fr(*u));
            }
            if let Some(e) = r.eta_min {
                let _ = writeln!(out, "  Tout est arrivé dans {}", hours(e));
            }
            if let Some(ok) = r.meets_deadline {
                let _ = writeln!(out, "  Échéance tenue : {}", if ok { "oui" } else { "NON" });
            }
            let _ = writeln!(
                out,
                "  Pour engager : vigie ask reinforce … --json, puis le champ proposed_plan à POST /api/v1/plans"
            );
            Ok(out)
        }
        Question::Deploy { from, to, headcount, days, by, within_km, on, json } => {
            let request = logistics::deploy::DeployRequest {
                from: Near::parse(st, &from),
                to: Near::parse(st, &to),
                headcount,
                days,
                on: day(on.as_deref())?,
                deadline_min: vigie_app::when::deadline_minutes(by.as_deref())
                    .map_err(|e| anyhow::anyhow!("--by: {e}"))?,
                within_km,
                sources: vigie_logistics::Scope::everything(),
            };
            let r = logistics::deploy::deploy(st, &request, travel)?;
            if json {
                return Ok(serde_json::to_string_pretty(&r)?);
            }
            Ok(render_deployment(&r))
        }
        Question::Locate { item, near, within_km, headcount, on, org, json } => {
            let on = day(on.as_deref())?;
            let scope = scope(st, org.as_deref())?;
            let items =
                item.split(',').map(|i| logistics::item_id(st, i.trim())).collect::<Result<Vec<ItemId>, _>>()?;
            let near = Near::parse(st, &near);
            let l = logistics::locate(st, &items, &near, within_km, headcount, on, &scope, travel)?;
            if json {
                return Ok(serde_json::to_string_pretty(&l)?);
            }
            let mut out = format!(
                "Disponible près de {} le {}\n  (ETA estimées : distance orthodromique × {} à {} km/h, sans réseau routier)\n",
                l.near,
                l.on,
                travel.detour_factor.to_string().replace('.', ","),
                travel.default_speed_kmh
            );
            let _ = writeln!(
                out,
                "  {:<16} {:<40} {:<12} {:>9} {:>9}  disponible",
                "site", "nom", "organisation", "km", "ETA min"
            );
            for h in &l.sites {
                let avail: Vec<String> = h.available.iter().map(|(i, q)| format!("{i} {}", fr(*q))).collect();
                let _ = writeln!(
                    out,
                    "  {:<16} {:<40} {:<12} {:>9.1} {:>9.0}  {}",
                    h.site_id,
                    h.name.chars().take(40).collect::<String>(),
                    h.organization_id,
                    h.distance_km,
                    h.eta_min,
                    avail.join(", ")
                );
            }
            let totals: Vec<String> = l.totals.iter().map(|(i, q)| format!("{i} {}", fr(*q))).collect();
            let _ = writeln!(out, "  Total : {}", totals.join(", "));
            if let (Some(h), Some(days)) = (headcount, l.autonomy_days_min) {
                let days = format!("{days:.1}").replace('.', ",");
                let _ = writeln!(out, "  Autonomie pour {h} personnes : {days} jour(s)");
            }
            Ok(out)
        }
    }
}

fn render_deployment(r: &logistics::deploy::Deployment) -> String {
    let mut out = format!(
        "Déployer {} personnes de {} vers {}, dotées pour {} jour(s), le {} (ETA estimées)\n",
        fr(Quantity::from_units(r.headcount as i64)),
        r.from.label,
        r.to.label,
        r.days,
        r.on
    );
    let _ = writeln!(out, "  Dotation :");
    for k in &r.kit {
        let _ = writeln!(
            out,
            "    {:<16} besoin {:>8}  sur place {:>8}  à acheminer {:>8}",
            k.item_id,
            fr(k.need),
            fr(k.on_site),
            fr(k.to_bring)
        );
    }
    for (title, near) in [("départ", &r.near_departure), ("destination", &r.near_destination)] {
        let seats: u32 = near.vehicles.iter().map(|v| v.seats).sum();
        let _ = writeln!(
            out,
            "  Près de la zone de {title} ({} km) : {} véhicule(s) libre(s), {} places ; {} site(s) avec de la dotation",
            near.within_km,
            near.vehicles.len(),
            seats,
            near.stock.len()
        );
        for s in near.stock.iter().take(5) {
            let avail: Vec<String> = s.available.iter().map(|(i, q)| format!("{i} {}", fr(*q))).collect();
            let _ = writeln!(out, "    {:<16} {:>6.1} km  {}", s.site_id, s.distance_km, avail.join(", "));
        }
    }
    let _ = writeln!(
        out,
        "  Plan {} ({} véhicule(s), {:.0} km au total) :",
        if r.optimal {
            "optimal"
        } else if r.eta_optimal {
            "au plus tôt (prouvé ; kilométrage : le meilleur trouvé)"
        } else {
            "le meilleur trouvé (optimalité non prouvée)"
        },
        r.legs.len(),
        r.vehicle_km
    );
    for l in &r.legs {
        let what = if l.role == "persons" {
            format!("{} pers. ({} places)", l.persons, l.seats)
        } else {
            let items: Vec<String> = l.items.iter().map(|(i, q)| format!("{i} {}", fr(*q))).collect();
            format!(
                "{} ({:.0}/{:.0} kg, {:.1}/{:.1} m³)",
                items.join(", "),
                l.mass_kg,
                l.payload_kg,
                l.volume_m3,
                l.cargo_m3
            )
        };
        let _ = writeln!(
            out,
            "    {:<10} {:<6} depuis {:<16} → {:<40} {:>6.0} km  arrivée +{}  {}",
            l.vehicle_id,
            l.kind,
            l.site_id,
            l.route.join(" → "),
            l.km,
            hours(l.eta_min),
            what
        );
    }
    match r.eta_min {
        Some(e) => {
            let _ = writeln!(out, "  Tous sur place et équipés dans {}", hours(e));
            if let Some(lb) = r.eta_lower_bound_min.filter(|_| !r.eta_optimal) {
                let _ = writeln!(out, "  (aucun plan ne peut arriver avant {})", hours(lb));
            }
            if let Some(lb) = r.vehicle_km_lower_bound.filter(|_| !r.optimal) {
                let _ = writeln!(out, "  (aucun plan arrivant aussi tôt ne fait moins de {lb:.0} km)");
            }
        }
        None => {
            let _ = writeln!(out, "  Aucun plan ne les amène");
        }
    }
    if r.shortfall.persons > 0 {
        let _ = writeln!(out, "  NON ACHEMINÉS : {} personnes", fr(Quantity::from_units(r.shortfall.persons as i64)));
    }
    for (i, q) in &r.shortfall.items {
        let _ = writeln!(out, "  NON COUVERT : {i} {}", fr(*q));
    }
    if let Some(ok) = r.meets_deadline {
        let _ = writeln!(out, "  Échéance tenue : {}", if ok { "oui" } else { "NON" });
    }
    if r.proposed_plan.is_some() {
        let _ = writeln!(
            out,
            "  Pour engager : vigie ask deploy … --json, puis le champ proposed_plan à POST /api/v1/plans"
        );
    } else {
        let _ = writeln!(out, "  La destination n'est pas un site : déclarez-la comme site pour engager le plan");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers() {
        assert_eq!(fr(Quantity::from_units(38020)), "38\u{202f}020");
        assert_eq!(fr(Quantity::parse("1234567,5").unwrap()), "1\u{202f}234\u{202f}567,5");
        assert_eq!(fr(Quantity::from_units(-950)), "-950");
        assert_eq!(fr(Quantity::ZERO), "0");
    }
}
