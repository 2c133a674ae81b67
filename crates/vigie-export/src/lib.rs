//! Reports as files. A [`Document`] (a title, lines saying what it is, the answer in a sentence, then titled tables)
//! is written as **XLSX** (one sheet per table, numbers as numbers), **PDF** (A4 landscape, the standard Helvetica
//! in WinAnsi so no font is embedded and `pdftotext` reads it back, tables that repeat their header on every page)
//! or **CSV** the French way (`;`, decimal commas, a BOM so that Excel reads UTF-8).
//!
//! Pure: a document in, bytes out. What a report says is decided elsewhere (`vigie_app::reports`); this crate only
//! lays it out, the same way for every report.

mod pdf;

/// A report ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// "LOGSTAT — national".
    pub title: String,
    /// Shown above everything in red on every page and sheet (an exercise: "EXERCICE").
    pub banner: Option<String>,
    /// What it is: as of when, which journal position, its status and version.
    pub lines: Vec<String>,
    /// The answer in a sentence, figure first.
    pub summary: String,
    pub sections: Vec<Section>,
}

/// A titled table.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: String,
    /// The sheet's name in XLSX (at most 31 characters, none of `[]:*?/\`).
    pub sheet: String,
    /// Lines said before the table.
    pub notes: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub title: String,
    /// Relative width on paper and in the sheet.
    pub width: f32,
}

impl Column {
    pub fn new(title: &str, width: f32) -> Column {
        Column { title: title.to_string(), width }
    }
}

/// A row of cells; a flagged row stands out (its figures rest on something late or missing).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub flagged: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A number and how many decimals it is shown with.
    Number(f64, u8),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    /// `None` is an empty cell.
    pub fn number(v: Option<f64>, decimals: u8) -> Cell {
        v.filter(|v| v.is_finite()).map_or(Cell::Empty, |v| Cell::Number(v, decimals))
    }
    /// The cell as the French read it: `1 234,5`.
    pub fn french(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(v, d) => french_number(*v, *d),
            Cell::Empty => String::new(),
        }
    }
}

/// A number the French way: digits grouped by three with a space, a decimal comma, at most `decimals` decimals
/// (trailing zeros dropped).
pub fn french_number(v: f64, decimals: u8) -> String {
    let text = format!("{:.*}", decimals as usize, v);
    let (sign, text) = text.strip_prefix('-').map_or(("", text.as_str()), |t| ("-", t));
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    let sign = if grouped.chars().all(|c| c == '0' || c == ' ') && frac.is_empty() { "" } else { sign };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{frac}")
    }
}

/// Why a document could not be written (the XLSX writer's own errors).
#[derive(Debug)]
pub struct ExportError(pub String);

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ExportError {}

/// The document as an XLSX workbook: one sheet per section, the document's title, lines and sentence above each
/// table, the header frozen, numbers as numbers, flagged rows filled orange.
pub fn to_xlsx(doc: &Document) -> Result<Vec<u8>, ExportError> {
    use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| ExportError(e.to_string());
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let banner =
        Format::new().set_bold().set_font_size(14).set_font_color(Color::White).set_background_color(Color::Red);
    let header =
        Format::new().set_bold().set_background_color(Color::RGB(0xDDDDDD)).set_border_bottom(FormatBorder::Thin);
    let flagged = Format::new().set_background_color(Color::RGB(0xFFD8A8));
    let mut used: Vec<String> = Vec::new();
    for section in &doc.sections {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&section.sheet, &mut used)).map_err(err)?;
        let mut r: u32 = 0;
        if let Some(b) = &doc.banner {
            sheet.write_string_with_format(r, 0, b, &banner).map_err(err)?;
            r += 1;
        }
        sheet.write_string_with_format(r, 0, &doc.title, &title).map_err(err)?;
        r += 1;
        for l in &doc.lines {
            sheet.write_string(r, 0, l).map_err(err)?;
            r += 1;
        }
        sheet.write_string_with_format(r, 0, &doc.summary, &bold).map_err(err)?;
        r += 2;
        sheet.write_string_with_format(r, 0, &section.title, &bold).map_err(err)?;
        r += 1;
        for n in &section.notes {
            sheet.write_string(r, 0, n).map_err(err)?;
            r += 1;
        }
        for (c, col) in section.columns.iter().enumerate() {
            sheet.write_string_with_format(r, c as u16, &col.title, &header).map_err(err)?;
            sheet.set_column_width(c as u16, f64::from(col.width * 1.6).clamp(6.0, 60.0)).map_err(err)?;
        }
        sheet.set_freeze_panes(r + 1, 0).map_err(err)?;
        r += 1;
        let formats: Vec<Format> = (0..=6u8)
            .map(|d| {
                let code = if d == 0 { "#,##0".to_string() } else { format!("#,##0.{}", "#".repeat(d as usize)) };
                Format::new().set_num_format(code)
            })
            .collect();
        let flagged_formats: Vec<Format> =
            formats.iter().map(|f| f.clone().set_background_color(Color::RGB(0xFFD8A8))).collect();
        for row in &section.rows {
            for (c, cell) in row.cells.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) if row.flagged => sheet.write_string_with_format(r, c, s, &flagged).map(|_| ()),
                    Cell::Text(s) => sheet.write_string(r, c, s).map(|_| ()),
                    Cell::Number(v, d) => {
                        let set = if row.flagged { &flagged_formats } else { &formats };
                        sheet.write_number_with_format(r, c, *v, &set[(*d).min(6) as usize]).map(|_| ())
                    }
                    Cell::Empty if row.flagged => sheet.write_blank(r, c, &flagged).map(|_| ()),
                    Cell::Empty => Ok(()),
                }
                .map_err(err)?;
            }
            r += 1;
        }
    }
    if doc.sections.is_empty() {
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, &doc.title).map_err(err)?;
        sheet.write_string(1, 0, &doc.summary).map_err(err)?;
    }
    book.save_to_buffer().map_err(err)
}

/// A sheet name Excel accepts, unique in the workbook.
fn sheet_name(wanted: &str, used: &mut Vec<String>) -> String {
    let clean: String = wanted.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(28).collect();
    let clean = if clean.trim().is_empty() { "Feuille".to_string() } else { clean.trim().to_string() };
    let mut name = clean.clone();
    let mut n = 2;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&name)) {
        name = format!("{clean} {n}");
        n += 1;
    }
    used.push(name.clone());
    name
}

/// The document as CSV the French way: `;` between fields, decimal commas, CRLF, a UTF-8 BOM; each section after
/// its title, sections separated by an empty line.
pub fn to_csv(doc: &Document) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let field = |s: &str| {
        if s.contains([';', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let line = |out: &mut String, cells: Vec<String>| {
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(";"));
        out.push_str("\r\n");
    };
    if let Some(b) = &doc.banner {
        line(&mut out, vec![b.clone()]);
    }
    line(&mut out, vec![doc.title.clone()]);
    for l in &doc.lines {
        line(&mut out, vec![l.clone()]);
    }
    line(&mut out, vec![doc.summary.clone()]);
    for s in &doc.sections {
        out.push_str("\r\n");
        line(&mut out, vec![s.title.clone()]);
        line(&mut out, s.columns.iter().map(|c| c.title.clone()).collect());
        for r in &s.rows {
            line(
                &mut out,
                r.cells
                    .iter()
                    .map(|c| match c {
                        // No grouping in a file a spreadsheet parses; the decimal comma stays.
                        Cell::Number(v, d) => french_number(*v, *d).replace(' ', ""),
                        Cell::Text(s) => inert(s),
                        Cell::Empty => String::new(),
                    })
                    .collect(),
            );
        }
    }
    out.into_bytes()
}

/// A text a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) kept a
/// text by a leading apostrophe, as OWASP advises against CSV injection; a number written as text stays as it is.
fn inert(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.trim().parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

pub use pdf::to_pdf;

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Document {
        Document {
            title: "LOGSTAT — national".into(),
            banner: Some("EXERCICE".into()),
            lines: vec!["Arrêté au 26/07/2024 à 14:00 (heure de Paris), événement n° 42".into()],
            summary: "2 articles sur 3 sont en déficit : rations, eau.".into(),
            sections: vec![Section {
                title: "Par organisation et article".into(),
                sheet: "LOGSTAT".into(),
                notes: vec!["* : chiffres reposant sur un comptage en retard".into()],
                columns: vec![
                    Column::new("Organisation", 20.0),
                    Column::new("Article", 20.0),
                    Column::new("Dispo", 8.0),
                ],
                rows: (0..120)
                    .map(|i| Row {
                        cells: vec![
                            Cell::text(format!("Groupement n° {i}")),
                            Cell::text("Ration de combat « RCIR »"),
                            Cell::Number(1234.5 + i as f64, 1),
                        ],
                        flagged: i % 7 == 0,
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn numbers_are_written_the_french_way() {
        for (v, d, want) in [
            (0.0, 0, "0"),
            (12.0, 2, "12"),
            (1234.5, 1, "1 234,5"),
            (-1234567.25, 2, "-1 234 567,25"),
            (999.999, 2, "1 000"),
            (-0.001, 1, "0"),
            (0.5, 0, "0"),
            (100000.0, 0, "100 000"),
        ] {
            assert_eq!(french_number(v, d), want, "{v} with {d} decimals");
        }
    }

    #[test]
    fn the_workbook_reads_back_with_its_figures_and_the_csv_is_french() {
        use calamine::{Data, Reader, Xlsx};
        let doc = sample();
        let bytes = to_xlsx(&doc).unwrap();
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("LOGSTAT").unwrap();
        let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        assert_eq!(rows[0][0], Data::String("EXERCICE".into()));
        let header = rows.iter().position(|r| r.first() == Some(&Data::String("Organisation".into()))).unwrap();
        assert_eq!(rows[header + 1][2], Data::Float(1234.5));
        assert_eq!(rows[header + 120][0], Data::String("Groupement n° 119".into()));
        let csv = String::from_utf8(to_csv(&doc)).unwrap();
        assert!(csv.starts_with("\u{feff}EXERCICE\r\n"));
        assert!(csv.contains("Groupement n° 3;Ration de combat « RCIR »;1237,5\r\n"), "{csv}");
        // A text a spreadsheet would run is kept a text; a negative number stays a number.
        let hostile = Document {
            sections: vec![Section {
                rows: vec![Row {
                    cells: vec![Cell::text("=HYPERLINK(\"x\")"), Cell::text("-12"), Cell::Number(-3.5, 1)],
                    flagged: false,
                }],
                ..doc.sections[0].clone()
            }],
            ..doc.clone()
        };
        let csv = String::from_utf8(to_csv(&hostile)).unwrap();
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\";-12;-3,5\r\n"), "{csv}");
    }

    #[test]
    fn sheet_names_are_cleaned_and_unique() {
        let mut used = vec![];
        assert_eq!(sheet_name("a/b", &mut used), "ab");
        assert_eq!(sheet_name("AB", &mut used), "AB 2");
        assert_eq!(sheet_name("???", &mut used), "Feuille");
        assert_eq!(sheet_name(&"x".repeat(40), &mut used).len(), 28);
    }
}
