//! The PDF read back by poppler's `pdftotext` (Debian `poppler-utils`, installed by `scripts/test.sh`): what a
//! reader copies out of the report is what Vigie wrote, accents and figures included.

use vigie_export::{to_pdf, Cell, Column, Document, Row, Section};

#[test]
fn pdftotext_reads_back_the_title_the_sentence_and_every_figure() {
    let rows: Vec<Row> = (0..150)
        .map(|i| Row {
            cells: vec![
                Cell::text(format!("Groupement de soutien n° {i}")),
                Cell::text("Plaque balistique « SMB » réservée"),
                Cell::Number(1_000_000.0 + i as f64 * 1.25, 2),
            ],
            flagged: i % 2 == 0,
        })
        .collect();
    let doc = Document {
        title: "LOGSTAT — Île-de-France".into(),
        banner: Some("EXERCICE".into()),
        lines: vec!["Arrêté au 26/07/2024 à 14:00".into()],
        summary: "3 articles sur 12 sont en déficit : eau, rations, plaques.".into(),
        sections: vec![Section {
            title: "Détail".into(),
            sheet: "Détail".into(),
            notes: vec![],
            columns: vec![
                Column::new("Organisation", 30.0),
                Column::new("Article", 30.0),
                Column::new("Disponible", 10.0),
            ],
            rows: rows.clone(),
        }],
    };
    let dir = std::env::temp_dir().join(format!("vigie-pdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("r.pdf");
    std::fs::write(&file, to_pdf(&doc)).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed: scripts/test.sh installs it");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    for want in
        ["EXERCICE", "LOGSTAT — Île-de-France", "Arrêté au 26/07/2024 à 14:00", "3 articles sur 12 sont en déficit"]
    {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    for r in &rows {
        let Cell::Text(org) = &r.cells[0] else { unreachable!() };
        assert!(text.contains(org.as_str()), "{org}");
        assert!(text.contains(&r.cells[2].french()), "{}", r.cells[2].french());
    }
    assert!(text.contains("« SMB » réservée"));
}
