//! Reading files into rows of text cells with exact positions: CSV (`,` `;` or tab, auto-detected; UTF-8 with or
//! without BOM, Windows-1252 as a fallback) and XLSX workbooks (one sheet per table).

use crate::Problem;
use std::borrow::Cow;

/// One cell's text and its 1-based column: the character column in a CSV line, the column number in a sheet.
#[derive(Debug, Clone)]
pub struct Cell<'a> {
    pub text: Cow<'a, str>,
    /// The line the cell starts on (a quoted CSV field may span lines, so it can differ from the row's).
    pub line: u32,
    pub column: u32,
}

/// One data row: its 1-based line (CSV) or row number (sheet).
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub line: u32,
    pub cells: Vec<Cell<'a>>,
    /// Column just past the row's last cell, where a missing trailing cell is reported.
    pub end_column: u32,
}

/// Windows-1252 code points for bytes 0x80..=0x9F (the rest of the range is Latin-1).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’',
    '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// Decodes a text file: UTF-8 (a BOM is dropped), or Windows-1252 when the bytes are not UTF-8 (French Excel's
/// "CSV (point-virgule)" export).
pub fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(
            bytes
                .iter()
                .map(|&b| if (0x80..0xA0).contains(&b) { CP1252_HIGH[(b - 0x80) as usize] } else { b as char })
                .collect(),
        ),
    }
}

/// Picks the delimiter of the header line: the most frequent of `;`, `,` and tab outside quotes (`,` on a tie).
pub fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b';' if !quoted => counts[0] += 1,
            b',' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    if counts[0] > counts[1] && counts[0] >= counts[2] {
        b';'
    } else if counts[2] > counts[1] && counts[2] > counts[0] {
        b'\t'
    } else {
        b','
    }
}

/// A CSV scanner over decoded text that knows the line and character column of every field (RFC 4180 quoting,
/// quoted fields may span lines, CRLF or LF).
pub struct CsvScanner<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    col: u32,
    delim: u8,
}

impl<'a> CsvScanner<'a> {
    pub fn new(text: &'a str, delim: u8) -> Self {
        CsvScanner { text, pos: 0, line: 1, col: 1, delim }
    }

    /// Bytes consumed so far (for progress).
    pub fn position(&self) -> usize {
        self.pos
    }

    #[inline]
    fn advance(&mut self, b: u8) {
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if b & 0xC0 != 0x80 {
            self.col += 1;
        }
    }

    /// The next non-empty record, or `None` at the end.
    pub fn next_row(&mut self, file: &str) -> Result<Option<Row<'a>>, Problem> {
        let bytes = self.text.as_bytes();
        // Skip blank lines.
        loop {
            match bytes.get(self.pos) {
                None => return Ok(None),
                Some(b'\n') => self.advance(b'\n'),
                Some(b'\r') if bytes.get(self.pos + 1) == Some(&b'\n') => {
                    self.pos += 1;
                }
                Some(_) => break,
            }
        }
        let line = self.line;
        let mut cells = Vec::with_capacity(8);
        loop {
            let (cell_line, column) = (self.line, self.col);
            if bytes.get(self.pos) == Some(&b'"') {
                let (q_line, q_col) = (self.line, self.col);
                self.advance(b'"');
                let start = self.pos;
                let mut owned: Option<String> = None;
                let mut seg = start;
                loop {
                    match bytes.get(self.pos) {
                        None => {
                            return Err(Problem::at(file, q_line, q_col, "quoted field is never closed"));
                        }
                        Some(b'"') if bytes.get(self.pos + 1) == Some(&b'"') => {
                            let o = owned.get_or_insert_with(String::new);
                            o.push_str(&self.text[seg..self.pos + 1]);
                            self.advance(b'"');
                            self.advance(b'"');
                            seg = self.pos;
                        }
                        Some(b'"') => break,
                        Some(&b) => self.advance(b),
                    }
                }
                let text = match owned {
                    Some(mut o) => {
                        o.push_str(&self.text[seg..self.pos]);
                        Cow::Owned(o)
                    }
                    None => Cow::Borrowed(&self.text[start..self.pos]),
                };
                self.advance(b'"');
                cells.push(Cell { text, line: cell_line, column });
                match bytes.get(self.pos) {
                    None => break,
                    Some(&b) if b == self.delim => self.advance(b),
                    Some(b'\n') => {
                        self.advance(b'\n');
                        break;
                    }
                    Some(b'\r') if matches!(bytes.get(self.pos + 1), Some(b'\n') | None) => {
                        self.pos += 1;
                        if bytes.get(self.pos).is_some() {
                            self.advance(b'\n');
                        }
                        break;
                    }
                    Some(_) => {
                        return Err(Problem::at(
                            file,
                            self.line,
                            self.col,
                            "expected a delimiter or the end of the line after a closing quote",
                        ))
                    }
                }
            } else {
                let start = self.pos;
                let mut end_of_row = false;
                loop {
                    match bytes.get(self.pos) {
                        None => {
                            end_of_row = true;
                            break;
                        }
                        Some(&b) if b == self.delim => break,
                        Some(b'\n') => {
                            end_of_row = true;
                            break;
                        }
                        Some(&b) => self.advance(b),
                    }
                }
                let mut end = self.pos;
                if end_of_row && end > start && bytes[end - 1] == b'\r' {
                    end -= 1;
                }
                cells.push(Cell { text: Cow::Borrowed(&self.text[start..end]), line: cell_line, column });
                match bytes.get(self.pos) {
                    None => break,
                    Some(b'\n') => {
                        self.advance(b'\n');
                        break;
                    }
                    Some(&b) => self.advance(b),
                }
                let _ = end_of_row;
            }
        }
        let end_column = cells.last().map_or(1, |c| c.column + c.text.chars().count() as u32 + 1);
        Ok(Some(Row { line, cells, end_column }))
    }
}

/// Reads every sheet of an XLSX workbook as rows of text cells.
pub fn read_xlsx(file: &str, bytes: &[u8]) -> Result<Vec<(String, Vec<Row<'static>>)>, Problem> {
    use calamine::{Data, Reader};
    let mut wb = calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(bytes))
        .map_err(|e| Problem::at(file, 1, 1, format!("not a readable XLSX workbook: {e}")))?;
    let mut out = Vec::new();
    for name in wb.sheet_names().to_vec() {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| Problem::at(file, 1, 1, format!("sheet {name:?} cannot be read: {e}")))?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut rows = Vec::new();
        for (i, r) in range.rows().enumerate() {
            let line = r0 + i as u32 + 1;
            let mut cells = Vec::with_capacity(r.len());
            for (j, d) in r.iter().enumerate() {
                let column = c0 + j as u32 + 1;
                let text = match d {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{}", *f as i64)
                    }
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Bool(b) => b.to_string(),
                    Data::DateTime(dt) => match dt.as_datetime() {
                        Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().format("%Y-%m-%d").to_string(),
                        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
                        None => dt.as_f64().to_string(),
                    },
                    Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                    Data::Error(e) => {
                        return Err(Problem::at(
                            &format!("{file}[{name}]"),
                            line,
                            column,
                            format!("the cell holds a spreadsheet error ({e:?})"),
                        ))
                    }
                };
                cells.push(Cell { text: Cow::Owned(text), line, column });
            }
            if cells.iter().all(|c| c.text.trim().is_empty()) {
                continue;
            }
            let end_column = c0 + r.len() as u32 + 1;
            rows.push(Row { line, cells, end_column });
        }
        out.push((name, rows));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (text, line, column) of a cell.
    type Cells = Vec<(String, u32, u32)>;

    fn rows(text: &str) -> Vec<(u32, Cells)> {
        let d = detect_delimiter(text);
        let mut s = CsvScanner::new(text, d);
        let mut out = vec![];
        while let Some(r) = s.next_row("f.csv").unwrap() {
            out.push((r.line, r.cells.into_iter().map(|c| (c.text.into_owned(), c.line, c.column)).collect()));
        }
        out
    }

    fn cells(line: u32, v: &[(&str, u32)]) -> Cells {
        v.iter().map(|(s, c)| (s.to_string(), line, *c)).collect()
    }

    #[test]
    fn scans_fields_with_positions() {
        assert_eq!(
            rows("a;b;c\r\n1;é;\"x;y\"\r\n\r\n2;\"multi\nline\";\"q\"\"q\"\n"),
            vec![
                (1, cells(1, &[("a", 1), ("b", 3), ("c", 5)])),
                (2, cells(2, &[("1", 1), ("é", 3), ("x;y", 5)])),
                // The third field starts on line 5, after the quoted field that spans two lines.
                (4, [cells(4, &[("2", 1), ("multi\nline", 3)]), cells(5, &[("q\"q", 7)])].concat()),
            ]
        );
        assert_eq!(rows("a,b\n1,2"), vec![(1, cells(1, &[("a", 1), ("b", 3)])), (2, cells(2, &[("1", 1), ("2", 3)]))]);
        assert_eq!(rows("a,b\n1,\n"), vec![(1, cells(1, &[("a", 1), ("b", 3)])), (2, cells(2, &[("1", 1), ("", 3)]))]);
    }

    #[test]
    fn bad_quotes_are_located() {
        let mut s = CsvScanner::new("a,b\n1,\"open\n", b',');
        s.next_row("f.csv").unwrap();
        assert_eq!(s.next_row("f.csv").unwrap_err().to_string(), "f.csv:2:3: quoted field is never closed");
        let mut s = CsvScanner::new("\"a\"x,b\n", b',');
        assert_eq!(
            s.next_row("f.csv").unwrap_err().to_string(),
            "f.csv:1:4: expected a delimiter or the end of the line after a closing quote"
        );
    }

    #[test]
    fn delimiters_and_encodings() {
        assert_eq!(detect_delimiter("id;name;lat\n"), b';');
        assert_eq!(detect_delimiter("id,name,\"a;b;c\"\n"), b',');
        assert_eq!(detect_delimiter("id\tname\n"), b'\t');
        assert_eq!(decode_text(b"\xEF\xBB\xBFid"), "id");
        assert_eq!(decode_text(b"Entr\xe9e \x80"), "Entrée €");
    }
}
