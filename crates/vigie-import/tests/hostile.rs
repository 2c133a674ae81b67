//! Files an attacker would send, each read and planned as a dry run: every one must end in a clear, located
//! problem, with less than 100 MB of memory allocated on top of the input. Memory is measured by this binary's
//! allocator (peak live bytes); times are printed, never asserted.

use std::sync::Mutex;
use std::time::Instant;
use vigie_domain::{Actor, State};
use vigie_import::{plan, read, SourceFile, MAX_PROBLEMS};

mod fixtures;
use fixtures::*;

#[global_allocator]
static A: Counting = Counting;

/// One measurement at a time: tests of this binary run one after the other.
static SERIAL: Mutex<()> = Mutex::new(());

const MAX_EXTRA_BYTES: usize = 100 << 20;

/// Reads and plans `files` against an empty state as a dry run would; its problems, one per line, must be
/// `expect`. Prints the time and the peak of memory allocated on top of what was live before.
fn check(what: &str, files: Vec<SourceFile>, expect: &[&str]) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let input: usize = files.iter().map(|f| f.bytes.len()).sum();
    let base = fixtures::start();
    let t = Instant::now();
    let outcome = plan(&read(&files, &mut |_, _| {}), &State::new(), &Actor::parse("cli:test").unwrap());
    let elapsed = t.elapsed();
    let extra = fixtures::extra(base);
    let lines: Vec<String> = match outcome {
        Ok(p) => panic!("{what}: the import must fail, it planned {} events", p.events.len()),
        Err(problems) => problems.iter().map(|p| p.to_string()).collect(),
    };
    println!(
        "{what}: {input} bytes in, {} problem line(s) in {:.3} s, peak {:.1} MiB on top",
        lines.len(),
        elapsed.as_secs_f64(),
        extra as f64 / (1 << 20) as f64
    );
    assert_eq!(lines, expect, "{what}");
    assert!(extra < MAX_EXTRA_BYTES, "{what}: {extra} bytes allocated on top of the input");
}

fn file(name: &str, bytes: Vec<u8>) -> SourceFile {
    SourceFile { name: name.into(), bytes }
}

#[test]
fn a_sparse_sheet_reaching_the_last_cell_is_refused_without_a_dense_range() {
    let bytes = sparse_workbook();
    assert!(bytes.len() < 2048, "{} bytes", bytes.len());
    check(
        "sparse sheet",
        vec![file("sites.xlsx", bytes)],
        &["sites.xlsx[sites]:1048576:16384: cell XFD1048576 is beyond column 64 (a table has at most 64 columns)"],
    );
    // A value on the last row within the columns: the row is beyond nothing Excel allows, the record is read.
    check(
        "last row",
        vec![file(
            "sites.xlsx",
            workbook(sheet(r#"<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>S1</t></is></c></row>"#), vec![]),
        )],
        &[
            "sites.xlsx[sites]:1048576:2: `name` is required",
            "sites.xlsx[sites]:1048576:3: `kind` is required",
            "sites.xlsx[sites]:1048576:4: `lat` is required",
            "sites.xlsx[sites]:1048576:5: `lon` is required",
            "sites.xlsx[sites]:1048576:6: `organization_id` is required",
        ],
    );
    // Formatting that reaches the last cell holds no value: it is no problem.
    let formatted = workbook(sheet(r#"<row r="1048576"><c r="XFD1048576" s="1"/></row>"#), vec![]);
    let batch = read(&[file("sites.xlsx", formatted)], &mut |_, _| {});
    assert!(batch.problems.is_empty(), "{:?}", batch.problems.kept());
    // A reference outside any sheet never reaches calamine (its arithmetic would overflow).
    check(
        "reference beyond Excel",
        vec![file("sites.xlsx", workbook(sheet(r#"<row r="2"><c r="A99999999999"><v>1</v></c></row>"#), vec![]))],
        &[
            r#"sites.xlsx: xl/worksheets/sheet1.xml: cell reference "A99999999999" is outside an Excel sheet (A1 to XFD1048576)"#,
        ],
    );
}

/// Found by the fuzzer (crates/vigie-fuzz): calamine indexes its shared strings without checking, so a cell naming
/// one that does not exist made it panic (a 500 on `POST /api/v1/import`, a crash of `vigie import`).
#[test]
fn a_cell_naming_a_shared_string_that_does_not_exist_is_refused() {
    let strings = |xml: &str| stored("xl/sharedStrings.xml", &format!(r#"<?xml version="1.0"?><sst>{xml}</sst>"#));
    let book = |cell: &str, sst: Option<&str>| {
        let row = format!(r#"<row r="2"><c r="A2" t="s">{cell}</c></row>"#);
        vec![file("s.xlsx", workbook(sheet(&row), sst.map(strings).into_iter().collect()))]
    };
    let two = "<si><t>S1</t></si><si><r><t>Stade</t></r></si>";
    let beyond =
        |n: usize| format!("s.xlsx: xl/worksheets/sheet1.xml: cell A2 names shared string {n}, but the workbook holds");
    check("index beyond the table", book("<v>2015</v>", Some(two)), &[&format!("{} 2 shared strings", beyond(2015))]);
    check("index at the end", book("<v>2</v>", Some(two)), &[&format!("{} 2 shared strings", beyond(2))]);
    check("no shared strings part", book("<v>0</v>", None), &[&format!("{} 0 shared strings", beyond(0))]);
    // calamine keeps no string for an <si> without text, nor after </sst>; an empty <v> is index 0.
    let hollow = "<si></si><si/><si><rPh><t>ふ</t></rPh></si></sst><sst><si><t>late</t></si>";
    check("strings calamine does not keep", book("<v/>", Some(hollow)), &[&format!("{} 0 shared strings", beyond(0))]);
    check(
        "an index that is not digits",
        book("<v>&#49;</v>", Some(two)),
        &["s.xlsx: xl/worksheets/sheet1.xml: cell A2 names a shared string by something else than its number"],
    );
    // Without its `</v>`, calamine reads the value on, through the next cell's: "20" and "15" name string 2015.
    check(
        "a value without its end",
        vec![file(
            "s.xlsx",
            workbook(sheet(r#"<row r="2"><c r="A2" t="s"><v>20</c><c r="B2"><v>15</v></c></row>"#), vec![strings(two)]),
        )],
        &[&format!("{} 2 shared strings", beyond(2015))],
    );
    // An end tag with more than a name is not `</v>` to calamine: "14" and "15", each a string of the 16, name
    // string 1415.
    let sixteen: String = (0..16).map(|i| format!("<si><t>S{i}</t></si>")).collect();
    check(
        "an end tag with attributes",
        vec![file(
            "s.xlsx",
            workbook(
                sheet(r#"<row r="2"><c r="A2" t="s"><v>14</v t="s"></c><c r="B2" t="s"><v>15</v></c></row>"#),
                vec![strings(&sixteen)],
            ),
        )],
        &[&format!("{} 16 shared strings", beyond(1415))],
    );
    // Without its `</t>`, calamine reads a string on to the next `</t>`: two <si> make one string.
    let merged = "<si><t>S1</si><si><t>S2</t></si>";
    check("a string without its end", book("<v>1</v>", Some(merged)), &[&format!("{} 1 shared strings", beyond(1))]);
    // A string that exists is read.
    check(
        "index within the table",
        book("<v>1</v>", Some(two)),
        &[
            "s.xlsx[sites]:2:2: `name` is required",
            "s.xlsx[sites]:2:3: `kind` is required",
            "s.xlsx[sites]:2:4: `lat` is required",
            "s.xlsx[sites]:2:5: `lon` is required",
            "s.xlsx[sites]:2:6: `organization_id` is required",
        ],
    );
}

#[test]
fn a_huge_shared_string_is_refused_before_it_is_held() {
    let strings = |run: usize, lie: Option<u32>| vec![file("strings.xlsx", huge_shared_string_workbook(run, lie))];
    // A few hundred megabytes of one character: refused by the size it declares, before anything is inflated.
    let files = strings(1 + 258 * 1_200_000, None);
    assert!(files[0].bytes.len() < 2 << 20, "{} bytes", files[0].bytes.len());
    check(
        "huge shared string",
        files,
        &["strings.xlsx: part xl/sharedStrings.xml holds 309600066 bytes uncompressed, more than the 33554432 allowed"],
    );
    // The same, declaring a kilobyte: refused once it inflates past what it declares.
    check(
        "huge shared string, lying",
        strings(1 + 258 * 1_200_000, Some(1_000)),
        &["strings.xlsx: part xl/sharedStrings.xml inflates to more than the 1000 bytes it declares; it is not read"],
    );
    // Within the part's limit, one string of 10 MB: refused after its first 64 KiB.
    check(
        "long shared string",
        strings(1 + 258 * 40_000, None),
        &["strings.xlsx: xl/sharedStrings.xml: shared string 1 holds more than 65536 bytes of XML"],
    );
}

#[test]
fn a_zip_bomb_is_refused_however_it_declares_its_size() {
    let prefix = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData>{HEADER}<row r="2"><c r="B2" t="inlineStr"><is><t>"#
    );
    let suffix = "</t></is></c></row></sheetData></worksheet>";
    let bomb = |run: usize, lie: Option<u32>| {
        let (data, size) = deflate_run(&prefix, b' ', run, suffix);
        let declared = lie.unwrap_or(size as u32);
        let e = Entry { name: "xl/worksheets/sheet1.xml".into(), method: 8, data, crc: 0, declared };
        vec![file("bomb.xlsx", workbook(e, vec![]))]
    };
    // 300 MB of spaces in one cell, declaring 2 KB.
    let files = bomb(1 + 258 * 1_200_000, Some(2_000));
    println!("bomb: {} bytes inflating to about 300 MB", files[0].bytes.len());
    check(
        "zip bomb, lying",
        files,
        &["bomb.xlsx: part xl/worksheets/sheet1.xml inflates to more than the 2000 bytes it declares; it is not read"],
    );
    // The same declaring its size: refused before inflating.
    check(
        "zip bomb, honest",
        bomb(1 + 258 * 1_200_000, None),
        &["bomb.xlsx: part xl/worksheets/sheet1.xml holds 309600458 bytes uncompressed, more than the 268435456 allowed"],
    );
    // 200 MB, within the part's limit: the cell is refused after its first 64 KiB, as calamine would have held it.
    check(
        "inline string of 200 MB",
        bomb(1 + 258 * 812_800, None),
        &["bomb.xlsx: xl/worksheets/sheet1.xml: cell B2 holds more than 65536 bytes of XML"],
    );
    // An archive of many entries is refused before it is listed.
    let many: Vec<Entry> = (0..1_001).map(|i| stored(&format!("x/{i}"), "")).collect();
    check(
        "many entries",
        vec![file("many.xlsx", zip(&many))],
        &["many.xlsx: the archive holds 1001 entries, more than the 1000 of a workbook"],
    );
}

#[test]
fn a_huge_csv_field_stops_the_scan_and_a_long_name_is_refused() {
    let mut text = b"id;name;kind;lat;lon;organization_id\nS1;".to_vec();
    text.extend(std::iter::repeat_n(b'x', 10 << 20));
    text.extend_from_slice(b";depot;48;2;CPCO\n");
    check(
        "10 MB field",
        vec![file("sites.csv", text)],
        &["sites.csv:2:4: a field is longer than 65536 bytes; the rest of the file is not read"],
    );
    let name = "é".repeat(10_000);
    let text = format!("id;name;kind;lat;lon;organization_id;city;notes\nS1;{name};depot;48;2;CPCO;Paris;ok\nS2;B;depot;48;2;CPCO;{};{}\n", "V".repeat(201), "n".repeat(4_001));
    check(
        "long texts",
        vec![file("sites.csv", text.into_bytes())],
        &[
            "sites.csv:2:4: `name` holds at most 200 characters (this one has 10000)",
            "sites.csv:2:10016: unknown organization CPCO in `organization_id`",
            "sites.csv:3:17: unknown organization CPCO in `organization_id`",
            "sites.csv:3:22: `city` holds at most 200 characters (this one has 201)",
            "sites.csv:3:224: `notes` holds at most 4000 characters (this one has 4001)",
        ],
    );
}

#[test]
fn a_million_bad_rows_keep_a_thousand_problems_and_count_the_rest() {
    let row = b"DEP1;PLATE;douze;serviceable;;;2024-07-20 08:00\n";
    let mut text = b"site_id;item_id;quantity;condition;lot;expires_on;counted_at\n".to_vec();
    text.reserve(row.len() * 1_000_000);
    for _ in 0..1_000_000 {
        text.extend_from_slice(row);
    }
    let mut expect: Vec<String> = (2..2 + MAX_PROBLEMS)
        .map(|line| {
            format!(
                "stock.csv:{line}:12: `quantity`: expected a number (decimal point or decimal comma), found \"douze\""
            )
        })
        .collect();
    // A row read in error leaves nothing behind (its references are not noted): only the quantities are problems.
    expect.push("… and 999000 more problems".into());
    let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
    check("a million bad rows", vec![file("stock.csv", text)], &expect);
}

#[test]
fn invisible_and_lookalike_characters_are_named_where_they_are() {
    let text = "id;name;kind;lat;lon;organization_id\n\
                DEP-VINCENNES\u{200B};Dépôt;depot;48;2;CPCO\n\
                DEP-VINC\u{415}NNES;Dépôt;depot;48;2;CPCO\n\
                DEP-\u{202E}SENNECNIV;Dépôt;depot;48;2;CPCO\n\
                DEP-1;Dépôt\u{202E}gnp.exe;depot;48;2;C\u{200D}PCO\n";
    const SET: &str = "not allowed in an identifier (letters A-Z a-z, digits 0-9 and - _ . : / @ +)";
    check(
        "invisible and lookalike characters",
        vec![file("sites.csv", text.as_bytes().to_vec())],
        &[
            &format!("sites.csv:2:1: `id`: character 14 is U+200B ZERO WIDTH SPACE, {SET}"),
            "sites.csv:2:33: unknown organization CPCO in `organization_id`",
            &format!("sites.csv:3:1: `id`: character 9 is U+0415 'Е' (Cyrillic, looks like Latin E), {SET}"),
            "sites.csv:3:32: unknown organization CPCO in `organization_id`",
            &format!("sites.csv:4:1: `id`: character 5 is U+202E RIGHT-TO-LEFT OVERRIDE, {SET}"),
            "sites.csv:4:33: unknown organization CPCO in `organization_id`",
            "sites.csv:5:7: `name`: character 6 is U+202E RIGHT-TO-LEFT OVERRIDE, not allowed in text",
            &format!("sites.csv:5:32: `organization_id`: character 2 is U+200D ZERO WIDTH JOINER, {SET}"),
        ],
    );
}
