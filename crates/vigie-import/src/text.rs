//! Reading files into rows of text cells with exact positions: CSV (`,` `;` or tab, auto-detected; UTF-8 with or
//! without BOM, Windows-1252 as a fallback); XLSX workbooks are read by [`crate::xlsx`].

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

/// The longest field of a CSV file, in bytes: room for the longest text Vigie keeps
/// ([`vigie_domain::text::MAX_FREE_TEXT_CHARS`] characters of up to 4 bytes each) and more.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;
/// The longest record of a CSV file, in bytes (its line, or its lines when a quoted field spans several).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// The most columns a table has, extra columns (kept as attributes) included. Empty cells beyond it are ignored
/// (spreadsheets export trailing empty columns); a value beyond it is a problem.
pub const MAX_COLUMNS: usize = 64;

/// Characters (not bytes) in a slice of UTF-8: the bytes that do not continue a character.
#[inline]
fn count_chars(bytes: &[u8]) -> u32 {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u32
}

/// A CSV scanner over decoded text that knows the line and character column of every field (RFC 4180 quoting,
/// quoted fields may span lines, CRLF or LF). It never holds more than one record, and stops at the first field
/// longer than [`MAX_FIELD_BYTES`], record longer than [`MAX_RECORD_BYTES`] or value beyond [`MAX_COLUMNS`].
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

    /// Moves over `n` bytes known to hold no line feed.
    #[inline]
    fn advance_in_line(&mut self, n: usize) {
        self.col += count_chars(&self.text.as_bytes()[self.pos..self.pos + n]);
        self.pos += n;
    }

    /// Moves over `n` bytes that may hold line feeds.
    fn advance_lines(&mut self, n: usize) {
        let seg = &self.text.as_bytes()[self.pos..self.pos + n];
        match memchr::memrchr(b'\n', seg) {
            None => self.col += count_chars(seg),
            Some(last) => {
                self.line += memchr::memchr_iter(b'\n', seg).count() as u32;
                self.col = 1 + count_chars(&seg[last + 1..]);
            }
        }
        self.pos += n;
    }

    /// Moves past a line feed.
    #[inline]
    fn newline(&mut self) {
        self.pos += 1;
        self.line += 1;
        self.col = 1;
    }

    /// The next non-empty record, or `None` at the end.
    pub fn next_row(&mut self, file: &str) -> Result<Option<Row<'a>>, Problem> {
        let bytes = self.text.as_bytes();
        // Skip blank lines.
        loop {
            match bytes.get(self.pos) {
                None => return Ok(None),
                Some(b'\n') => self.newline(),
                Some(b'\r') if bytes.get(self.pos + 1) == Some(&b'\n') => {
                    self.pos += 1;
                }
                Some(_) => break,
            }
        }
        let (line, start) = (self.line, self.pos);
        let mut cells = Vec::with_capacity(8);
        let mut fields = 0usize;
        loop {
            fields += 1;
            let (cell_line, column) = (self.line, self.col);
            let too_long = || {
                Problem::at(
                    file,
                    cell_line,
                    column,
                    format!("a field is longer than {MAX_FIELD_BYTES} bytes; the rest of the file is not read"),
                )
            };
            let (text, end_of_row) = if bytes.get(self.pos) == Some(&b'"') {
                let (q_line, q_col) = (self.line, self.col);
                self.advance_in_line(1);
                let content = self.pos;
                // The closing quote must come within the field's limit.
                let limit = (content + MAX_FIELD_BYTES + 1).min(bytes.len());
                let mut owned: Option<String> = None;
                let mut seg = content;
                loop {
                    match memchr::memchr(b'"', &bytes[self.pos.min(limit)..limit]) {
                        None if limit == bytes.len() => {
                            return Err(Problem::at(file, q_line, q_col, "quoted field is never closed"));
                        }
                        None => return Err(too_long()),
                        Some(k) => {
                            self.advance_lines(k);
                            if bytes.get(self.pos + 1) == Some(&b'"') {
                                let o = owned.get_or_insert_with(String::new);
                                o.push_str(&self.text[seg..self.pos + 1]);
                                self.advance_in_line(2);
                                seg = self.pos;
                            } else {
                                break;
                            }
                        }
                    }
                }
                let text = match owned {
                    Some(mut o) => {
                        o.push_str(&self.text[seg..self.pos]);
                        Cow::Owned(o)
                    }
                    None => Cow::Borrowed(&self.text[content..self.pos]),
                };
                self.advance_in_line(1);
                let end_of_row = match bytes.get(self.pos) {
                    None => true,
                    Some(&b) if b == self.delim => {
                        self.advance_in_line(1);
                        false
                    }
                    Some(b'\n') => {
                        self.newline();
                        true
                    }
                    Some(b'\r') if matches!(bytes.get(self.pos + 1), Some(b'\n') | None) => {
                        self.pos += 1;
                        if bytes.get(self.pos).is_some() {
                            self.newline();
                        }
                        true
                    }
                    Some(_) => {
                        return Err(Problem::at(
                            file,
                            self.line,
                            self.col,
                            "expected a delimiter or the end of the line after a closing quote",
                        ))
                    }
                };
                (text, end_of_row)
            } else {
                let from = self.pos;
                let limit = (from + MAX_FIELD_BYTES + 1).min(bytes.len());
                let (len, end_of_row) = match memchr::memchr2(self.delim, b'\n', &bytes[from..limit]) {
                    Some(k) => (k, bytes[from + k] == b'\n'),
                    None if limit == bytes.len() => (limit - from, true),
                    None => return Err(too_long()),
                };
                if len > MAX_FIELD_BYTES {
                    return Err(too_long());
                }
                self.advance_in_line(len);
                let mut end = self.pos;
                if end_of_row && end > from && bytes[end - 1] == b'\r' {
                    end -= 1;
                }
                match bytes.get(self.pos) {
                    None => {}
                    Some(b'\n') => self.newline(),
                    Some(_) => self.advance_in_line(1),
                }
                (Cow::Borrowed(&self.text[from..end]), end_of_row)
            };
            if fields <= MAX_COLUMNS {
                cells.push(Cell { text, line: cell_line, column });
            } else if !text.trim().is_empty() {
                return Err(Problem::at(
                    file,
                    cell_line,
                    column,
                    format!(
                        "field {fields} is beyond column {MAX_COLUMNS} (a table has at most {MAX_COLUMNS} columns); \
                         the rest of the file is not read"
                    ),
                ));
            }
            if self.pos - start > MAX_RECORD_BYTES {
                return Err(Problem::at(
                    file,
                    line,
                    1,
                    format!("the record is longer than {MAX_RECORD_BYTES} bytes; the rest of the file is not read"),
                ));
            }
            if end_of_row {
                break;
            }
        }
        let end_column = cells.last().map_or(1, |c| c.column + c.text.chars().count() as u32 + 1);
        Ok(Some(Row { line, cells, end_column }))
    }
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

    /// The first error of a scan, or the number of rows.
    fn scan(text: &str) -> Result<usize, String> {
        let mut s = CsvScanner::new(text, b';');
        let mut n = 0;
        while s.next_row("f.csv").map_err(|p| p.to_string())?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    #[test]
    fn fields_records_and_columns_are_bounded() {
        let big = "x".repeat(MAX_FIELD_BYTES);
        assert_eq!(scan(&format!("a;b\n1;{big}\n2;\"{big}\"\n")), Ok(3));
        let too = "é".repeat(MAX_FIELD_BYTES / 2 + 1);
        let stop = "a field is longer than 65536 bytes; the rest of the file is not read";
        assert_eq!(scan(&format!("a;b\n1;{too};3\n")), Err(format!("f.csv:2:3: {stop}")));
        assert_eq!(scan(&format!("a;b\n1;{too}")), Err(format!("f.csv:2:3: {stop}")));
        assert_eq!(scan(&format!("a;b\n1;\"{too}\"\n")), Err(format!("f.csv:2:3: {stop}")));
        assert_eq!(scan(&format!("a;b\n1;\"{too}")), Err(format!("f.csv:2:3: {stop}")));
        // Trailing empty columns beyond the limit are ignored, a value is not.
        let empties = ";".repeat(500);
        assert_eq!(scan(&format!("a;b{empties}\n1;2{empties}\n")), Ok(2));
        let cells = (1..=65).map(|i| i.to_string()).collect::<Vec<_>>().join(";");
        assert_eq!(
            scan(&format!("a\n{cells}\n")),
            Err("f.csv:2:184: field 65 is beyond column 64 (a table has at most 64 columns); the rest of the file is not read"
                .into())
        );
        let row = vec!["x".repeat(60_000); 18].join(";");
        assert_eq!(
            scan(&format!("a\n{row}\n")),
            Err("f.csv:2:1: the record is longer than 1048576 bytes; the rest of the file is not read".into())
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
