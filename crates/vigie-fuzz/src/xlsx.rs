//! The XLSX target: workbooks read by `vigie_import::read` (the archive's inspection, the bounded XML tokenizer,
//! calamine's streaming reader, typed rows) and planned, with the CSV target's properties.
//!
//! Seeds are workbooks that `rust_xlsxwriter` writes from the CSV corpus (one sheet per table, and one workbook of
//! every table; numbers as numbers, dates as dates). Mutations work where a reader would trip: on the XML of one or
//! more parts (cell references, values, types, shared-string indexes, duplicated rows, declarations, entities),
//! on the archive's entries (removed, renamed, duplicated, a part that inflates far beyond its size, stored or
//! deflated), on the header fields of the archive itself (sizes, offsets, counts that lie), and on the bytes.

use crate::mutate::{mutate, NUMBERS};
use crate::{Input, Limits, Payload, Rng, Target};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use std::io::{Cursor, Read, Write};
use vigie_domain::{Actor, State};
use vigie_import::{SourceFile, Table};

/// Tokens of SpreadsheetML and of zip archives.
pub const DICT: &[&[u8]] = &[
    b"<c r=\"A1\" t=\"s\"><v>0</v></c>",
    b"<c r=\"XFD1048576\"><v>1</v></c>",
    b"<c r=\"B1\" t=\"s\"><v>4294967296</v></c>",
    b"<c r=\"C1\" t=\"inlineStr\"><is><t>x</t></is></c>",
    b"<c r=\"D1\" t=\"e\"><v>#REF!</v></c>",
    b"<c r=\"E1\" t=\"d\"><v>2024-07-26T00:00:00</v></c>",
    b"<c r=\"F1\" s=\"99999\"><v>45500</v></c>",
    b"<c r=\"G1\" t=\"b\"><v>2</v></c>",
    b"<c><v>1</v></c>",
    b"<row r=\"1048576\">",
    b"<row r=\"0\">",
    b"<row>",
    b"</row>",
    b"<dimension ref=\"A1:XFD1048576\"/>",
    b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>",
    b"&a;",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
    b"&#0;",
    b"&#x110000;",
    b"&#65;",
    b"&amp;",
    b"&lt;",
    b"&unknown;",
    b"<f>SUM(A1:XFD1048576)</f>",
    b"<si><t>x</t></si>",
    b"<sheet name=\"stock\" sheetId=\"9\" r:id=\"rId1\"/>",
    b"xml:space=\"preserve\"",
    b"<numFmt numFmtId=\"164\" formatCode=\"yyyy-mm-dd\"/>",
    b"<xf numFmtId=\"14\"/>",
    b" r=\"",
    b" t=\"s\"",
    b"\"",
    b"<",
    b">",
    b"/>",
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"PK\x06\x06",
];

/// References at and beyond the edges of a sheet.
const REFS: &[&str] =
    &["A1", "A0", "XFD1048576", "XFE1", "A1048577", "ZZZZ1", "A99999999999", "", "1A", "a1", "BA7", "B"];

/// The XLSX target.
pub struct XlsxTarget {
    seeds: Vec<Vec<u8>>,
    states: [State; 2],
    actor: Actor,
    outcomes: crate::csv::Outcomes,
}

/// Cells of a simple CSV (the corpus has no quoted fields).
fn cells(file: &SourceFile) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(&file.bytes);
    let delim = vigie_import::text::detect_delimiter(&text) as char;
    text.lines().filter(|l| !l.is_empty()).map(|l| l.split(delim).map(str::to_string).collect()).collect()
}

/// A workbook of these tables, one sheet each; numbers and dates typed as a spreadsheet types them.
pub fn workbook(tables: &[&SourceFile]) -> Vec<u8> {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for f in tables {
        let sheet = book.add_worksheet();
        let name = f.name.trim_end_matches(".csv");
        sheet.set_name(name).expect("a sheet name");
        for (r, row) in cells(f).iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                let iso = v.len() >= 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-';
                let number = v.replace(',', ".").replace(' ', "");
                let res = if r > 0 && iso && v.len() == 10 {
                    sheet.write_datetime_with_format(r, c, ExcelDateTime::parse_from_str(v).unwrap(), &date)
                } else if r > 0 && iso && v.len() == 16 && v.as_bytes()[10] == b' ' {
                    let dt = ExcelDateTime::parse_from_str(&v.replacen(' ', "T", 1)).unwrap();
                    sheet.write_datetime_with_format(r, c, dt, &datetime)
                } else if r > 0 && !number.is_empty() && number.parse::<f64>().is_ok() {
                    sheet.write_number(r, c, number.parse::<f64>().unwrap())
                } else {
                    sheet.write_string(r, c, v)
                };
                res.expect("a cell");
            }
        }
    }
    book.save_to_buffer().expect("a workbook")
}

/// A workbook with what the corpus lacks: a formula with an error, a boolean, a far cell, an unknown sheet.
fn odd_workbook() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("items").unwrap();
    for (c, h) in ["id", "name", "category", "unit", "unit_mass_kg", "unit_volume_m3", "note"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "X1").unwrap();
    sheet.write_formula(1, 1, Formula::new("=1/0").set_result("#DIV/0!")).unwrap();
    sheet.write_boolean(1, 2, true).unwrap();
    sheet.write_number(1, 4, 1e300).unwrap();
    sheet.write_string(2000, 63, "far").unwrap();
    let other = book.add_worksheet();
    other.set_name("Feuil2").unwrap();
    other.write_string(0, 0, "x").unwrap();
    book.save_to_buffer().unwrap()
}

impl XlsxTarget {
    /// Seeds written from the CSV corpus.
    pub fn new(csv: &[SourceFile]) -> XlsxTarget {
        let mut seeds: Vec<Vec<u8>> = csv.iter().map(|f| workbook(&[f])).collect();
        seeds.push(workbook(&csv.iter().collect::<Vec<_>>()));
        seeds.push(odd_workbook());
        let csv_target = crate::csv::CsvTarget::new(csv.to_vec());
        let full = csv_target.full_state().clone();
        XlsxTarget {
            seeds,
            states: [State::new(), full],
            actor: Actor::parse("fuzz:xlsx").unwrap(),
            outcomes: Default::default(),
        }
    }

    pub fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }
}

/// The entries of an archive: (name, bytes); `None` when the zip crate cannot read it.
pub fn entries(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).ok()?;
        let mut data = Vec::new();
        f.read_to_end(&mut data).ok()?;
        out.push((f.name().to_string(), data));
    }
    Some(out)
}

/// An archive of these entries, each stored or deflated; `None` when the zip crate refuses (a name twice).
pub fn archive(rng: &mut Rng, entries: &[(String, Vec<u8>)]) -> Option<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflate_all = rng.chance(80);
    for (name, data) in entries {
        let method = if deflate_all || rng.chance(50) {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = SimpleFileOptions::default().compression_method(method).large_file(data.len() >= u32::MAX as usize);
        w.start_file(name.as_str(), opts).ok()?;
        w.write_all(data).ok()?;
    }
    Some(w.finish().ok()?.into_inner())
}

/// Positions of every occurrence of `needle`.
fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len()).filter(|&i| &hay[i..i + needle.len()] == needle).take(100_000).collect()
}

/// One structured change to an XML part.
fn mutate_xml(rng: &mut Rng, xml: &mut Vec<u8>, limits: &Limits) {
    match rng.below(8) {
        0 => {
            // A cell reference (or a row number) moved, often out of the sheet.
            let at = find_all(xml, b" r=\"");
            if at.is_empty() {
                return;
            }
            let a = *rng.pick(&at) + 4;
            let b = a + xml[a..].iter().position(|&c| c == b'"').unwrap_or(0);
            let new = if rng.chance(50) {
                rng.pick(REFS).to_string()
            } else {
                crate::xlsx::reference(rng.below(1_100_000) as u32, rng.below(17_000) as u32)
            };
            xml.splice(a..b, new.into_bytes());
        }
        1 => {
            // A value (a number, a shared-string index, a date serial) at the edges.
            let at = find_all(xml, b"<v>");
            if at.is_empty() {
                return;
            }
            let a = *rng.pick(&at) + 3;
            let b = a + xml[a..].iter().position(|&c| c == b'<').unwrap_or(0);
            xml.splice(a..b, rng.pick(NUMBERS).iter().copied());
        }
        2 => {
            // A cell's type.
            let at = find_all(xml, b" t=\"");
            if at.is_empty() {
                return;
            }
            let a = *rng.pick(&at) + 4;
            let b = a + xml[a..].iter().position(|&c| c == b'"').unwrap_or(0);
            let t = *rng.pick(&["s", "str", "inlineStr", "n", "b", "e", "d", "x", ""]);
            xml.splice(a..b, t.bytes());
        }
        3 => {
            // A row, a cell or a shared string repeated many times.
            let (open, close): (&[u8], &[u8]) = *rng.pick(&[
                (&b"<row"[..], &b"</row>"[..]),
                (&b"<c "[..], &b"</c>"[..]),
                (&b"<si>"[..], &b"</si>"[..]),
            ]);
            let starts = find_all(xml, open);
            if starts.is_empty() {
                return;
            }
            let a = *rng.pick(&starts);
            let Some(len) = xml[a..].windows(close.len()).position(|w| w == close) else { return };
            let piece = xml[a..a + len + close.len()].to_vec();
            let times = 1 + rng.size(limits.max_inflated / piece.len().max(1));
            let repeated = piece.repeat(times.min(1 << 20));
            xml.splice(a..a, repeated);
        }
        4 => {
            // A closing tag dropped.
            let at = find_all(xml, b"</");
            if at.is_empty() {
                return;
            }
            let a = *rng.pick(&at);
            let b = a + xml[a..].iter().position(|&c| c == b'>').map_or(0, |p| p + 1);
            xml.drain(a..b);
        }
        5 => {
            // A sheet renamed (workbook.xml), to another table or to nothing known.
            let at = find_all(xml, b"name=\"");
            if at.is_empty() {
                return;
            }
            let a = *rng.pick(&at) + 6;
            let b = a + xml[a..].iter().position(|&c| c == b'"').unwrap_or(0);
            let name = if rng.chance(70) { rng.pick(&Table::ALL).name().to_string() } else { "Feuil1".into() };
            xml.splice(a..b, name.into_bytes());
        }
        6 => {
            // Deep nesting.
            let depth = rng.size(100_000);
            let at = rng.below(xml.len() + 1);
            let mut deep = b"<a>".repeat(depth);
            if rng.chance(50) {
                deep.extend(b"</a>".repeat(depth));
            }
            xml.splice(at..at, deep);
        }
        _ => mutate(rng, xml, DICT, &[], limits.max_inflated.max(xml.len())),
    }
}

/// `A1`-style reference of a 0-based position.
pub fn reference(row: u32, col: u32) -> String {
    vigie_import::xlsx::cell_ref(row, col)
}

/// Overwrites a header field of the archive (a size, a count, an offset, a method, a name length) with a value
/// at the edges: sizes that lie.
fn lie_in_headers(rng: &mut Rng, bytes: &mut [u8]) {
    // (signature, offsets of u16 fields, offsets of u32 fields)
    const HEADERS: &[(&[u8], &[usize], &[usize])] = &[
        (b"PK\x03\x04", &[6, 8, 26, 28], &[14, 18, 22]),
        (b"PK\x01\x02", &[8, 10, 28, 30, 32], &[16, 20, 24, 42]),
        (b"PK\x05\x06", &[8, 10, 20], &[12, 16]),
    ];
    let (sig, u16s, u32s) = *rng.pick(HEADERS);
    let at = find_all(bytes, sig);
    if at.is_empty() {
        return;
    }
    let base = *rng.pick(&at);
    let values: [u32; 8] = [0, 1, 0xFFFF, 0xFFFF_FFFF, 0x7FFF_FFFF, 1 << 20, 1 << 30, rng.next_u64() as u32];
    let v = *rng.pick(&values);
    if rng.chance(50) {
        let off = base + *rng.pick(u16s);
        if off + 2 <= bytes.len() {
            bytes[off..off + 2].copy_from_slice(&(v as u16).to_le_bytes());
        }
    } else {
        let off = base + *rng.pick(u32s);
        if off + 4 <= bytes.len() {
            bytes[off..off + 4].copy_from_slice(&v.to_le_bytes());
        }
    }
}

impl Target for XlsxTarget {
    fn name(&self) -> &'static str {
        "xlsx"
    }

    fn generate(&self, rng: &mut Rng, limits: &Limits) -> Input {
        let seed = rng.pick(&self.seeds);
        let (kind, bytes) = match rng.below(100) {
            0..=59 => {
                let mut parts = entries(seed).expect("seeds are archives");
                for _ in 0..1 + rng.below(3) {
                    // Mostly the parts a reader reads: sheets, shared strings, the workbook and its relationships.
                    let xml: Vec<usize> = (0..parts.len())
                        .filter(|&i| parts[i].0.ends_with(".xml") || parts[i].0.ends_with(".rels"))
                        .collect();
                    let i = if rng.chance(85) && !xml.is_empty() { *rng.pick(&xml) } else { rng.below(parts.len()) };
                    mutate_xml(rng, &mut parts[i].1, limits);
                }
                match rng.below(12) {
                    0 => {
                        let i = rng.below(parts.len());
                        parts.remove(i);
                    }
                    1 => {
                        let i = rng.below(parts.len());
                        parts[i].0 = rng
                            .pick(&["xl/worksheets/sheet9.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "../x", ""])
                            .to_string();
                    }
                    2 => {
                        // A part that inflates far beyond the archive's size (a small bomb).
                        let n = rng.size(limits.max_inflated);
                        let name = rng.pick(&parts).0.clone();
                        parts.retain(|p| p.0 != name);
                        let fill = *rng.pick(&[&b"\0"[..], b"<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>", b"a"]);
                        parts.push((name, fill.repeat(n / fill.len() + 1)));
                    }
                    3 => parts.reverse(),
                    _ => {}
                }
                match archive(rng, &parts) {
                    Some(b) => ("structured", b),
                    None => ("structured", seed.clone()),
                }
            }
            60..=74 => {
                let mut b = seed.clone();
                for _ in 0..1 + rng.below(3) {
                    lie_in_headers(rng, &mut b);
                }
                ("headers", b)
            }
            75..=89 => {
                let mut b = seed.clone();
                let others: Vec<&[u8]> = self.seeds.iter().map(|s| s.as_slice()).collect();
                mutate(rng, &mut b, DICT, &others, limits.max_input);
                ("bytes", b)
            }
            _ => {
                let len = rng.size(limits.max_input.min(1 << 16));
                let mut b = rng.bytes(len);
                if rng.chance(50) {
                    b.splice(0..0, b"PK\x03\x04".iter().copied());
                }
                ("arbitrary", b)
            }
        };
        let name = if rng.chance(90) { "book.xlsx" } else { "book.XLSM" };
        Input { kind, payload: Payload::Files(vec![SourceFile { name: name.into(), bytes }]) }
    }

    fn run(&self, input: &Input) -> Result<(), String> {
        let Payload::Files(files) = &input.payload else { return Err("not files".into()) };
        crate::csv::check_import(files, &self.states, &self.actor, &self.outcomes)
    }

    fn stats(&self) -> String {
        self.outcomes.show()
    }

    /// An import holds its records until it is planned: some 500 bytes for a 7-byte row of `dependencies.csv`.
    fn memory_per_input_byte(&self) -> usize {
        128
    }
}
