//! Reports laid out for the chain of command, in French: a [`vigie_export::Document`] per report, written as PDF,
//! XLSX or CSV by `vigie-export`. Every figure is the report's own; only words and layout are added here.

use super::logstat::{Logstat, LogstatLine};
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
            Cell::text(l.late_sites.join(", ")),
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
