//! Reports laid out for the chain of command, in French: a [`vigie_export::Document`] per report, written as PDF,
//! XLSX or CSV by `vigie-export`. Every figure is the report's own; only words and layout are added here.

use super::logstat::{Logstat, LogstatLine};
use super::sitrep::{GroupLine, Sitrep};
use chrono::{DateTime, Utc};
use vigie_domain::Quantity;
use vigie_export::{Cell, Column, Document, Row, Section};

/// `26/07/2024 14:00` in Paris.
pub fn paris(at: DateTime<Utc>) -> String {
    vigie_domain::paris::to_local(at).format("%d/%m/%Y %H:%M").to_string()
}

fn q(v: Quantity) -> Cell {
    Cell::Number(v.as_f64(), 3)
}

/// The LOGSTAT as a document: the answer first (items short within 24 h, lines resting on late counts), then per
/// organisation and item, then the totals per item.
pub fn logstat_document(r: &Logstat, scope_name: &str, banner: Option<&str>) -> Document {
    let short: Vec<&str> =
        r.totals.iter().filter(|t| t.balance_24h < Quantity::ZERO).map(|t| t.item.as_str()).collect();
    let mut summary = if short.is_empty() {
        format!("Aucun article en déficit sous 24 h ({} article(s) suivis).", r.totals.len())
    } else {
        format!(
            "{} article(s) sur {} en déficit sous 24 h : {}.",
            short.len(),
            r.totals.len(),
            short.iter().take(8).copied().collect::<Vec<_>>().join(", ")
        )
    };
    if r.lines_late > 0 {
        summary.push_str(&format!(
            " {} ligne(s) reposent sur un comptage en retard (plus de {} h).",
            r.lines_late, r.expected_count_hours
        ));
    }
    let columns = || {
        vec![
            Column::new("Organisation", 16.0),
            Column::new("Article", 16.0),
            Column::new("Unité", 5.0),
            Column::new("Détenu", 6.0),
            Column::new("En état", 6.0),
            Column::new("Réservé", 6.0),
            Column::new("En route", 6.0),
            Column::new("Disponible", 6.0),
            Column::new("Besoin 24 h", 6.0),
            Column::new("Couverture %", 6.0),
            Column::new("Jours d'autonomie", 6.0),
            Column::new("Solde 24 h", 6.0),
            Column::new("Solde 48 h", 6.0),
            Column::new("Solde 72 h", 6.0),
            Column::new("Compté le", 9.0),
            Column::new("Source", 10.0),
            Column::new("Comptes en retard", 9.0),
        ]
    };
    let row = |l: &LogstatLine| Row {
        flagged: !l.late_sites.is_empty(),
        cells: vec![
            Cell::text(&l.organization),
            Cell::text(&l.item),
            Cell::text(&l.unit),
            q(l.figures.on_hand),
            q(l.figures.serviceable),
            q(l.figures.reserved),
            q(l.figures.in_transit),
            q(l.figures.available),
            q(l.figures.need),
            Cell::number(l.figures.coverage.map(|c| c * 100.0), 0),
            Cell::number(l.days_of_supply, 1),
            q(l.balance_24h),
            q(l.balance_48h),
            q(l.balance_72h),
            l.oldest_count.map_or(Cell::Empty, |t| Cell::text(paris(t))),
            Cell::text(l.sources.join(", ")),
            Cell::text(match l.late_site_count.saturating_sub(l.late_sites.len()) {
                0 => l.late_sites.join(", "),
                more => format!("{}… (+{more})", l.late_sites.join(", ")),
            }),
        ],
    };
    let mut sections = vec![
        Section {
            title: "Par organisation et article".into(),
            sheet: "LOGSTAT".into(),
            notes: vec![],
            columns: columns(),
            rows: r.lines.iter().map(row).collect(),
        },
        Section {
            title: "Total par article".into(),
            sheet: "Totaux".into(),
            notes: vec![],
            columns: columns(),
            rows: r.totals.iter().map(row).collect(),
        },
    ];
    if let Some(c) = &r.changes {
        sections.push(Section {
            title: format!("Évolution depuis le {} (événement n° {})", paris(c.since), c.since_seq),
            sheet: "Évolution".into(),
            notes: vec![format!("{} ligne(s) ont changé ; la plus forte baisse du solde d'abord.", c.lines.len())],
            columns: vec![
                Column::new("Organisation", 16.0),
                Column::new("Article", 16.0),
                Column::new("Unité", 5.0),
                Column::new("Disponible avant", 7.0),
                Column::new("Disponible", 7.0),
                Column::new("Besoin avant", 7.0),
                Column::new("Besoin", 7.0),
                Column::new("Solde 24 h avant", 7.0),
                Column::new("Solde 24 h", 7.0),
            ],
            rows: c
                .lines
                .iter()
                .map(|l| Row {
                    flagged: l.balance_24h < l.balance_24h_before,
                    cells: vec![
                        Cell::text(&l.organization),
                        Cell::text(&l.item),
                        Cell::text(&l.unit),
                        q(l.available_before),
                        q(l.available),
                        q(l.need_before),
                        q(l.need),
                        q(l.balance_24h_before),
                        q(l.balance_24h),
                    ],
                })
                .collect(),
        });
    }
    Document {
        title: format!("LOGSTAT — {scope_name}"),
        banner: banner.map(str::to_string),
        lines: vec![
            format!(
                "Arrêté au {} (heure de Paris), journal jusqu'à l'événement n° {} ; besoins du {}.",
                paris(r.at),
                r.seq,
                r.on.format("%d/%m/%Y")
            ),
            "Solde = disponible + attendu − besoin sur 1, 2 ou 3 jours (négatif : manque). Lignes en couleur : chiffres \
             reposant sur un comptage en retard."
                .to_string(),
        ],
        summary,
        sections,
    }
}

fn when(t: Option<DateTime<Utc>>) -> Cell {
    t.map_or(Cell::Empty, |t| Cell::text(paris(t)))
}

fn section(title: &str, sheet: &str, notes: Vec<String>, columns: &[(&str, f32)], rows: Vec<Row>) -> Section {
    Section {
        title: title.into(),
        sheet: sheet.into(),
        notes,
        columns: columns.iter().map(|(t, w)| Column::new(t, *w)).collect(),
        rows,
    }
}

fn row(cells: Vec<Cell>) -> Row {
    Row { cells, flagged: false }
}

/// The SITREP as a document: the situation in a sentence, then each part the report holds.
pub fn sitrep_document(r: &Sitrep, banner: Option<&str>) -> Document {
    let mut said: Vec<String> = Vec::new();
    let mut sections = Vec::new();
    if let Some(it) = &r.it {
        said.push(format!("{} site(s) perturbé(s) sur {}", it.sites_not_ok.len(), it.sites));
        let line = |g: &GroupLine| row(vec![Cell::text(&g.name), Cell::text(g.state.label_fr()), when(g.since)]);
        sections.push(section(
            "Informatique — suites",
            "Suites",
            vec![format!("{} contrôle(s) supervisé(s).", it.checks)],
            &[("Suite", 30.0), ("État", 15.0), ("Depuis", 15.0)],
            it.suites.iter().map(line).collect(),
        ));
        sections.push(section(
            "Informatique — sites perturbés",
            "Sites perturbés",
            vec![],
            &[("Site", 30.0), ("État", 15.0), ("Depuis", 15.0)],
            it.sites_not_ok.iter().map(line).collect(),
        ));
    }
    if let Some(i) = &r.incidents {
        said.push(format!("{} incident(s) ouvert(s) dont {} P1", i.open, i.open_by_priority[0]));
        let by_priority =
            (0..5).map(|p| format!("P{} : {}", p + 1, i.open_by_priority[p])).collect::<Vec<_>>().join(", ");
        sections.push(section(
            "Incidents ouverts P1-P2 et majeurs",
            "Incidents",
            vec![
                format!("Ouverts par priorité — {by_priority}."),
                format!(
                    "Sur la période : {} ouvert(s), {} résolu(s), {} dépassement(s) de SLA, {} incident(s) majeur(s).",
                    i.opened_in_period,
                    i.resolved_in_period,
                    i.breaches_in_period.len(),
                    i.major.len()
                ),
            ],
            &[("Numéro", 10.0), ("Priorité", 6.0), ("État", 8.0), ("Lieu", 14.0), ("Résumé", 40.0), ("Majeur", 6.0)],
            i.worst_open
                .iter()
                .map(|x| Row {
                    flagged: x.major,
                    cells: vec![
                        Cell::text(&x.number),
                        Cell::text(format!("P{}", x.priority)),
                        Cell::text(&x.state),
                        Cell::text(&x.location),
                        Cell::text(&x.short_description),
                        Cell::text(if x.major { "oui" } else { "" }),
                    ],
                })
                .collect(),
        ));
        sections.push(section(
            "Dépassements de SLA sur la période",
            "SLA",
            vec![],
            &[("Numéro", 12.0), ("Délai", 12.0), ("Dépassé le", 15.0)],
            i.breaches_in_period
                .iter()
                .map(|b| {
                    let clock = if b.clock == "response" { "prise en charge" } else { "résolution" };
                    row(vec![Cell::text(&b.number), Cell::text(clock), when(Some(b.at))])
                })
                .collect(),
        ));
    }
    if let Some(l) = &r.logistics {
        said.push(format!("{} article(s) en déficit sous 24 h sur {}", l.shortfalls.len(), l.items_followed));
        sections.push(section(
            "Logistique — déficits sous 24 h",
            "Déficits",
            if l.lines_on_late_counts > 0 {
                vec![format!("{} ligne(s) du LOGSTAT reposent sur un comptage en retard.", l.lines_on_late_counts)]
            } else {
                vec![]
            },
            &[("Article", 20.0), ("Manque", 8.0), ("Unité", 6.0), ("Organisations", 30.0)],
            l.shortfalls
                .iter()
                .map(|s| {
                    row(vec![
                        Cell::text(&s.item),
                        q(s.missing_24h),
                        Cell::text(&s.unit),
                        Cell::text(s.organizations.join(", ")),
                    ])
                })
                .collect(),
        ));
        sections.push(section(
            "Logistique — plans en cours",
            "Plans",
            vec![],
            &[
                ("Plan", 10.0),
                ("Statut", 8.0),
                ("Destination", 12.0),
                ("Objet", 30.0),
                ("Engagé le", 12.0),
                ("Expédié le", 12.0),
            ],
            l.plans_under_way
                .iter()
                .map(|p| {
                    let status = if p.status == "shipped" { "en route" } else { "engagé" };
                    row(vec![
                        Cell::text(&p.id),
                        Cell::text(status),
                        Cell::text(&p.destination),
                        Cell::text(&p.purpose),
                        when(Some(p.committed_at)),
                        when(p.shipped_at),
                    ])
                })
                .collect(),
        ));
    }
    if let Some(d) = &r.decisions {
        said.push(format!("{} décision(s) sur la période", d.len()));
        sections.push(section(
            "Décisions de la main courante",
            "Décisions",
            vec![],
            &[("Heure", 12.0), ("Par", 10.0), ("Décision", 50.0), ("Incident", 10.0), ("Site", 10.0)],
            d.iter()
                .map(|x| {
                    row(vec![
                        when(Some(x.at)),
                        Cell::text(&x.by),
                        Cell::text(&x.text),
                        Cell::text(&x.incident),
                        Cell::text(&x.site),
                    ])
                })
                .collect(),
        ));
    }
    if let Some(rd) = &r.readiness {
        let late = rd.iter().filter(|x| x.state == "late").count();
        said.push(format!("{late} site(s) en retard de préparation sur {}", rd.len()));
        sections.push(section(
            "Préparation des sites",
            "Préparation",
            vec![],
            &[("Site", 20.0), ("Avancement %", 10.0), ("État", 10.0), ("Prêt le", 14.0)],
            rd.iter()
                .map(|x| {
                    let state = match x.state {
                        "late" => "en retard",
                        "at_risk" => "à risque",
                        "ready" => "prêt",
                        _ => "dans les temps",
                    };
                    Row {
                        flagged: x.state == "late",
                        cells: vec![Cell::text(&x.site), Cell::Number(x.percent, 1), Cell::text(state), when(x.ready)],
                    }
                })
                .collect(),
        ));
    }
    let mut summary = said.join(" ; ");
    summary.push('.');
    if let Some(first) = summary.get(0..1) {
        summary = first.to_uppercase() + &summary[1..];
    }
    Document {
        title: "SITREP".into(),
        banner: banner.map(str::to_string),
        lines: vec![format!(
            "Arrêté au {} (heure de Paris), journal jusqu'à l'événement n° {} ; période depuis le {}.",
            paris(r.at),
            r.seq,
            paris(r.period_from)
        )],
        summary,
        sections,
    }
}
