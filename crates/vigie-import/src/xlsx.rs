//! XLSX workbooks, read within bounds whatever the file holds.
//!
//! An XLSX file is a zip archive of XML parts: a few kilobytes can declare a sheet a million rows long, or inflate
//! to gigabytes. So a workbook is read in two passes:
//!
//! 1. **Inspection**, before calamine sees the file: the number of entries ([`MAX_ENTRIES`], counted from the
//!    archive's own signatures, not from what it declares); each part's declared size against its limit
//!    ([`MAX_PART_BYTES`], [`MAX_SHARED_STRINGS_BYTES`], [`MAX_META_PART_BYTES`]) and their sum
//!    ([`MAX_TOTAL_BYTES`]); then every part is inflated into one fixed buffer, and refused as soon as it holds more
//!    than it declares (declared sizes can lie). The XML parts calamine reads (the workbook, its relationships, the
//!    styles, the shared strings, the sheets) go through a tokenizer that holds no more than one tag: every tag, text
//!    or comment is at most [`MAX_XML_TOKEN_BYTES`], every shared string and every cell at most
//!    [`MAX_CELL_XML_BYTES`] of XML, at most [`MAX_SHARED_STRINGS`] shared strings, every cell reference within an
//!    Excel sheet; no `<!DOCTYPE`, no NUL byte (UTF-16). A cell of shared-string type must name, in plain digits, a
//!    shared string that calamine keeps (counted as calamine reads the shared strings part): calamine indexes its
//!    table of shared strings without checking (it would panic).
//! 2. **Reading**, sheet by sheet, with calamine's streaming cell reader: never a dense range. A value beyond
//!    [`MAX_COLUMNS`] columns or [`MAX_ROWS`] rows, or past [`MAX_CELLS`] in the workbook, is a located problem that
//!    stops the sheet. Empty cells are skipped wherever they are (formatting reaches far). calamine reads the archive
//!    through a budget of twice its size, so no part can be inflated again and again (two sheets naming one part).

use crate::text::{Cell, Row, MAX_COLUMNS};
use crate::Problem;
use calamine::{DataRef, Reader};
use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{self, Cursor, Read, Seek, SeekFrom};

/// The most entries (parts) in the archive. A workbook of every table has about 30.
pub const MAX_ENTRIES: usize = 1_000;
/// The largest part, uncompressed: a sheet of a million rows of a stock table (about 250 MB of XML).
pub const MAX_PART_BYTES: u64 = 256 << 20;
/// The most bytes of all parts together, uncompressed.
pub const MAX_TOTAL_BYTES: u64 = 512 << 20;
/// The largest shared-strings part, uncompressed (calamine keeps every shared string in memory).
pub const MAX_SHARED_STRINGS_BYTES: u64 = 32 << 20;
/// The most shared strings (distinct texts of the workbook).
pub const MAX_SHARED_STRINGS: usize = 1 << 20;
/// The largest workbook part, its relationships and styles, uncompressed (kept in memory by calamine).
pub const MAX_META_PART_BYTES: u64 = 16 << 20;
/// The longest XML token (a tag with its attributes, a text, a comment).
pub const MAX_XML_TOKEN_BYTES: u64 = 64 << 10;
/// The most XML of one cell (`<c>`) or one shared string (`<si>`), markup included: a cell holds at most
/// [`vigie_domain::text::MAX_FREE_TEXT_CHARS`] characters anyway.
pub const MAX_CELL_XML_BYTES: u64 = 64 << 10;
/// The most rows of a sheet: Excel's.
pub const MAX_ROWS: u32 = 1 << 20;
/// The most cells holding a value in a workbook.
pub const MAX_CELLS: usize = 10_000_000;
/// Excel's last column (XFD).
const EXCEL_COLUMNS: u32 = 16_384;

/// A problem of the whole file (`file: message`).
fn whole(file: &str, message: String) -> Problem {
    Problem::at(file, 0, 0, message)
}

/// Column letters and row number of a 0-based position: `XFD1048576`.
pub fn cell_ref(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = col + 1;
    while c > 0 {
        letters.push(b'A' + ((c - 1) % 26) as u8);
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row as u64 + 1)
}

/// What a part is, for its limit and whether it is tokenized.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    SharedStrings,
    /// The workbook, its relationships, the styles.
    Meta,
    /// Worksheets, chart sheets, dialog sheets (and their relationships).
    Sheet,
    /// Anything else: never read as XML by calamine, only inflated and counted.
    Other,
}

impl Kind {
    fn of(norm: &str) -> Kind {
        match norm {
            "xl/sharedstrings.xml" => Kind::SharedStrings,
            "xl/workbook.xml" | "xl/_rels/workbook.xml.rels" | "xl/styles.xml" => Kind::Meta,
            _ if ["xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/"].iter().any(|p| norm.starts_with(p)) => {
                Kind::Sheet
            }
            _ => Kind::Other,
        }
    }
    fn limit(self) -> u64 {
        match self {
            Kind::SharedStrings => MAX_SHARED_STRINGS_BYTES,
            Kind::Meta => MAX_META_PART_BYTES,
            Kind::Sheet | Kind::Other => MAX_PART_BYTES,
        }
    }
}

/// Checks a workbook's archive before it is parsed (see the module's documentation).
pub fn inspect(file: &str, bytes: &[u8]) -> Result<(), Problem> {
    // Every entry the zip reader can list starts with this signature in the central directory.
    let entries = memchr::memmem::find_iter(bytes, b"PK\x01\x02").count();
    if entries > MAX_ENTRIES {
        return Err(whole(
            file,
            format!("the archive holds {entries} entries, more than the {MAX_ENTRIES} of a workbook"),
        ));
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| whole(file, format!("not a readable XLSX workbook: {e}")))?;
    let mut names = HashSet::new();
    let mut total = 0u64;
    let mut parts = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| whole(file, format!("not a readable XLSX workbook: {e}")))?;
        let name: String = f.name().chars().take(200).collect();
        let norm = f.name().replace('\\', "/").to_ascii_lowercase();
        if !names.insert(norm.clone()) {
            return Err(whole(file, format!("part {name} appears twice in the archive")));
        }
        let (kind, declared) = (Kind::of(&norm), f.size());
        if declared > kind.limit() {
            return Err(whole(
                file,
                format!("part {name} holds {declared} bytes uncompressed, more than the {} allowed", kind.limit()),
            ));
        }
        total += declared;
        if total > MAX_TOTAL_BYTES {
            return Err(whole(file, format!("the workbook holds more than {MAX_TOTAL_BYTES} bytes uncompressed")));
        }
        parts.push((name, kind, declared));
    }
    let mut buf = vec![0u8; 64 << 10];
    let mut scan = XmlScan::default();
    // Shared strings calamine will hold, and the largest index a cell names (with its part and cell).
    let mut kept = 0usize;
    let mut named: Option<(u64, String, String)> = None;
    for (i, (name, kind, declared)) in parts.into_iter().enumerate() {
        let mut f = zip.by_index(i).map_err(|e| whole(file, format!("part {name} cannot be read: {e}")))?;
        scan.reset();
        let mut n = 0u64;
        loop {
            let k = f.read(&mut buf).map_err(|e| whole(file, format!("part {name} cannot be read: {e}")))?;
            if k == 0 {
                break;
            }
            n += k as u64;
            if n > declared {
                return Err(whole(
                    file,
                    format!("part {name} inflates to more than the {declared} bytes it declares; it is not read"),
                ));
            }
            if kind != Kind::Other {
                scan.feed(&buf[..k]).map_err(|m| whole(file, format!("{name}: {m}")))?;
            }
        }
        if kind != Kind::Other {
            scan.finish().map_err(|m| whole(file, format!("{name}: {m}")))?;
        }
        match kind {
            Kind::SharedStrings => kept = scan.kept,
            Kind::Sheet => {
                if let Some((index, cell)) = scan.max_shared.take() {
                    if named.as_ref().is_none_or(|(max, _, _)| index > *max) {
                        named = Some((index, name, cell));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((index, part, cell)) = named {
        if index >= kept as u64 {
            return Err(whole(
                file,
                format!("{part}: {cell} names shared string {index}, but the workbook holds {kept} shared strings"),
            ));
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Text,
    Tag,
    Comment,
    CData,
    Pi,
}

/// Where calamine's reading of the shared strings part is.
#[derive(Default)]
enum Sst {
    #[default]
    Top,
    /// In an `<si>` of this qualified name: a rich run seen, inside `<rPh>`.
    InSi { name: Vec<u8>, rich: bool, phonetic: bool },
    /// Reading a `<t>` of the `<si>`, to the first end tag of its name.
    InT { si: Vec<u8>, t: Vec<u8>, rich: bool },
    /// After a plain `<t>`: skipping to the end of the `<si>` (nested `<si>` of the same name counted).
    SkipSi { name: Vec<u8>, depth: u32 },
    /// Past `</sst>`: calamine reads no further.
    Done,
}

/// An open `<si>` or `<c>`: where it starts, and which (shared string number or cell reference).
struct Span {
    start: u64,
    what: String,
}

/// A tokenizer of XML that keeps no more than one tag, checking the bounds of the module's documentation. It
/// splits tokens as quick-xml (calamine's parser) does: tags end at a `>` outside quotes, comments at `-->`, CDATA
/// at `]]>`, processing instructions at `?>`.
#[derive(Default)]
struct XmlScan {
    state: State,
    /// Bytes of the current token.
    token: u64,
    /// The current tag, `<` to `>`.
    tag: Vec<u8>,
    tag_start: u64,
    quote: u8,
    /// The last bytes of a comment, CDATA section or instruction, for its end.
    tail: u32,
    /// Bytes scanned before the current chunk.
    offset: u64,
    span: Option<Span>,
    strings: usize,
    /// The shared strings part as calamine reads it, and the strings it keeps.
    sst: Sst,
    kept: usize,
    /// A sheet: the cell of shared-string type open, and inside its `<v>`, the index named so far and the `<v>`'s
    /// qualified name. calamine reads a value up to the first end tag of that name, whatever comes between (the
    /// text of the next cells included, when `</v>` is missing), and so does this.
    shared_cell: Option<String>,
    shared_v: Option<(u64, Vec<u8>)>,
    /// The largest shared-string index a cell names, and that cell.
    max_shared: Option<(u64, String)>,
}

impl XmlScan {
    fn reset(&mut self) {
        *self = XmlScan { tag: std::mem::take(&mut self.tag), ..XmlScan::default() };
        self.tag.clear();
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), String> {
        if memchr::memchr(0, chunk).is_some() {
            return Err("a NUL byte: only UTF-8 XML is read".into());
        }
        let mut i = 0;
        while i < chunk.len() {
            match self.state {
                State::Text => match memchr::memchr(b'<', &chunk[i..]) {
                    None => {
                        self.shared_digits(&chunk[i..])?;
                        self.token += (chunk.len() - i) as u64;
                        i = chunk.len();
                    }
                    Some(k) => {
                        self.shared_digits(&chunk[i..i + k])?;
                        self.token += k as u64;
                        self.check_token("a text")?;
                        i += k;
                        self.state = State::Tag;
                        self.tag.clear();
                        self.tag_start = self.offset + i as u64;
                        self.quote = 0;
                        self.token = 0;
                    }
                },
                State::Tag => {
                    while i < chunk.len() {
                        let b = chunk[i];
                        i += 1;
                        self.token += 1;
                        self.tag.push(b);
                        if self.quote != 0 {
                            if b == self.quote {
                                self.quote = 0;
                            }
                        } else if b == b'"' || b == b'\'' {
                            self.quote = b;
                        } else if b == b'>' && self.tag.len() > 1 {
                            self.end_of_tag(self.offset + i as u64)?;
                            self.state = State::Text;
                            self.token = 0;
                            break;
                        }
                        if self.tag.len() <= 9 && self.tag.get(1).is_some_and(|&c| c == b'!' || c == b'?') {
                            if self.tag[1] == b'?' {
                                self.state = State::Pi;
                            } else if self.tag == b"<!--" {
                                self.state = State::Comment;
                            } else if self.tag == b"<![CDATA[" {
                                self.state = State::CData;
                            } else if !b"<!--".starts_with(&self.tag) && !b"<![CDATA[".starts_with(&self.tag) {
                                return Err("a declaration (<!DOCTYPE …>) is not allowed".into());
                            }
                            if self.state != State::Tag {
                                self.tail = 0;
                                break;
                            }
                        }
                        if self.token > MAX_XML_TOKEN_BYTES {
                            return Err(format!("a tag is longer than {MAX_XML_TOKEN_BYTES} bytes"));
                        }
                    }
                }
                State::Comment | State::CData | State::Pi => {
                    while i < chunk.len() {
                        self.tail = (self.tail << 8) | chunk[i] as u32;
                        i += 1;
                        self.token += 1;
                        let done = match self.state {
                            State::Comment => self.tail & 0xFF_FFFF == u32::from_be_bytes([0, b'-', b'-', b'>']),
                            State::CData => self.tail & 0xFF_FFFF == u32::from_be_bytes([0, b']', b']', b'>']),
                            _ => self.tail & 0xFFFF == u32::from_be_bytes([0, 0, b'?', b'>']),
                        };
                        if done {
                            self.state = State::Text;
                            self.token = 0;
                            break;
                        }
                        if self.token > MAX_XML_TOKEN_BYTES {
                            return Err(format!("a comment or section is longer than {MAX_XML_TOKEN_BYTES} bytes"));
                        }
                    }
                }
            }
        }
        self.offset += chunk.len() as u64;
        if let Some(s) = &self.span {
            if self.offset - s.start > MAX_CELL_XML_BYTES {
                return Err(format!("{} holds more than {MAX_CELL_XML_BYTES} bytes of XML", s.what));
            }
        }
        if self.state == State::Text {
            self.check_token("a text")?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), String> {
        self.check_token("a text")
    }

    /// Text inside the `<v>` of a cell of shared-string type: ASCII digits only (calamine reads anything else as
    /// index 0, an entity as its character).
    fn shared_digits(&mut self, text: &[u8]) -> Result<(), String> {
        let Some(v) = self.shared_v.as_mut() else { return Ok(()) };
        for &b in text {
            if !b.is_ascii_digit() {
                let cell = self.shared_cell.as_deref().unwrap_or("a cell");
                return Err(format!("{cell} names a shared string by something else than its number"));
            }
            v.0 = v.0.saturating_mul(10).saturating_add((b - b'0') as u64);
        }
        Ok(())
    }

    fn check_token(&self, what: &str) -> Result<(), String> {
        if self.token > MAX_XML_TOKEN_BYTES {
            return Err(format!("{what} is longer than {MAX_XML_TOKEN_BYTES} bytes"));
        }
        Ok(())
    }

    /// A tag ended at `end` (just past its `>`): counts shared strings, opens and closes spans, checks references.
    fn end_of_tag(&mut self, end: u64) -> Result<(), String> {
        let tag = std::mem::take(&mut self.tag);
        let r = self.tag_ended(&tag, end);
        self.tag = tag;
        r
    }

    fn tag_ended(&mut self, t: &[u8], end: u64) -> Result<(), String> {
        // Names as quick-xml reads them: a start tag's, to its first XML whitespace (a final `/` makes it empty); an
        // end tag's, all it holds but trailing whitespace (`</v t="s">` is not `</v>`); the local name, after the
        // first `:`.
        let xml_space = |b: &u8| matches!(b, b' ' | b'\r' | b'\n' | b'\t');
        let closing = t.get(1) == Some(&b'/');
        let (qualified, attrs, self_closing) = if closing {
            let content = &t[2..t.len() - 1];
            (&content[..content.iter().rposition(|b| !xml_space(b)).map_or(content.len(), |p| p + 1)], &[][..], false)
        } else {
            let content = &t[1..t.len() - 1];
            let self_closing = content.last() == Some(&b'/');
            let content = if self_closing { &content[..content.len() - 1] } else { content };
            let name_len = content.iter().position(xml_space).unwrap_or(content.len());
            (&content[..name_len], &content[name_len..], self_closing)
        };
        let local = memchr::memchr(b':', qualified).map_or(qualified, |i| &qualified[i + 1..]);
        match (closing, local) {
            (false, b"si") => {
                self.strings += 1;
                if self.strings > MAX_SHARED_STRINGS {
                    return Err(format!("more than {MAX_SHARED_STRINGS} shared strings"));
                }
                if !self_closing && self.span.is_none() {
                    self.span = Some(Span { start: self.tag_start, what: format!("shared string {}", self.strings) });
                }
            }
            (false, b"c") => {
                let r = attribute(attrs, b"r")?;
                let what = match r {
                    Some(r) => {
                        let (row, col) = parse_ref(r)?;
                        format!("cell {}", cell_ref(row, col))
                    }
                    None => "a cell".to_string(),
                };
                let shared = attribute(attrs, b"t")? == Some(b"s") && !self_closing;
                if self.shared_v.is_none() {
                    self.shared_cell = shared.then(|| what.clone());
                }
                if !self_closing && self.span.is_none() {
                    self.span = Some(Span { start: self.tag_start, what });
                }
            }
            (false, b"v") if self.shared_v.is_none() => {
                if let Some(cell) = &self.shared_cell {
                    if self_closing {
                        self.name_shared(0, cell.clone());
                    } else {
                        self.shared_v = Some((0, qualified.to_vec()));
                    }
                }
            }
            (true, b"v") if self.shared_v.as_ref().is_some_and(|(_, name)| name.as_slice() == qualified) => {
                if let (Some((v, _)), Some(cell)) = (self.shared_v.take(), &self.shared_cell) {
                    self.name_shared(v, cell.clone());
                }
            }
            (false, b"row") => {
                if let Some(r) = attribute(attrs, b"r")? {
                    match digits(r) {
                        Some(n) if (1..=MAX_ROWS).contains(&n) => {}
                        _ => return Err(format!("row {} is outside an Excel sheet", shown(r))),
                    }
                }
            }
            (false, b"dimension") => {
                if let Some(r) = attribute(attrs, b"ref")? {
                    for part in r.split(|&b| b == b':') {
                        parse_ref(part)?;
                    }
                }
            }
            (true, b"si") | (true, b"c") => {
                if let Some(s) = self.span.take() {
                    if end - s.start > MAX_CELL_XML_BYTES {
                        return Err(format!("{} holds more than {MAX_CELL_XML_BYTES} bytes of XML", s.what));
                    }
                }
                if local == b"c" && self.shared_v.is_none() {
                    self.shared_cell = None;
                }
            }
            _ => {}
        }
        // A self-closing tag is a start and an end to calamine (`expand_empty_elements`).
        if !closing {
            self.sst_tag(false, local, qualified);
        }
        if closing || self_closing {
            self.sst_tag(true, local, qualified);
        }
        Ok(())
    }

    /// Follows the shared strings as calamine's `read_shared_strings` and `read_string` read them, to count those
    /// it keeps: an `<si>` whose `<t>` (outside `<rPh>`) or rich run `<r>` is read, before `</sst>`. A `<t>` is
    /// read to the first end tag of its name, whatever comes between; after a plain `<t>` the rest of the `<si>` is
    /// skipped to its matching end.
    fn sst_tag(&mut self, end: bool, local: &[u8], qualified: &[u8]) {
        let sst = std::mem::replace(&mut self.sst, Sst::Done);
        self.sst = match (sst, end) {
            (Sst::Top, false) if local == b"si" => Sst::InSi { name: qualified.to_vec(), rich: false, phonetic: false },
            (Sst::Top, true) if local == b"sst" => Sst::Done,
            (Sst::InSi { name, phonetic, .. }, false) if local == b"r" => Sst::InSi { name, rich: true, phonetic },
            (Sst::InSi { name, rich, .. }, false) if local == b"rPh" => Sst::InSi { name, rich, phonetic: true },
            (Sst::InSi { name, rich, .. }, true) if qualified == name.as_slice() => {
                self.kept += usize::from(rich);
                Sst::Top
            }
            (Sst::InSi { name, rich, .. }, true) if local == b"rPh" => Sst::InSi { name, rich, phonetic: false },
            (Sst::InSi { name, rich, phonetic: false }, false) if local == b"t" => {
                Sst::InT { si: name, t: qualified.to_vec(), rich }
            }
            (Sst::InT { si, t, rich }, true) if qualified == t.as_slice() => {
                if rich {
                    Sst::InSi { name: si, rich, phonetic: false }
                } else {
                    self.kept += 1;
                    Sst::SkipSi { name: si, depth: 0 }
                }
            }
            (Sst::SkipSi { name, depth }, false) if qualified == name.as_slice() => {
                Sst::SkipSi { name, depth: depth + 1 }
            }
            (Sst::SkipSi { name, depth }, true) if qualified == name.as_slice() => match depth {
                0 => Sst::Top,
                d => Sst::SkipSi { name, depth: d - 1 },
            },
            (other, _) => other,
        };
    }

    /// A cell names shared string `index` (an empty `<v>` names 0, as calamine reads it).
    fn name_shared(&mut self, index: u64, cell: String) {
        if self.max_shared.as_ref().is_none_or(|(max, _)| index > *max) {
            self.max_shared = Some((index, cell));
        }
    }
}

/// At most 20 bytes of a reference, for a message.
fn shown(r: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(&r[..r.len().min(20)]))
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 7 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |n, &d| Some(n * 10 + (d - b'0') as u32))
}

/// A cell reference within an Excel sheet (`A1` to `XFD1048576`): its 0-based row and column.
fn parse_ref(r: &[u8]) -> Result<(u32, u32), String> {
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let col = r[..letters].iter().fold(0u32, |c, &b| c.saturating_mul(26) + (b.to_ascii_uppercase() - b'A' + 1) as u32);
    match digits(&r[letters..]) {
        Some(row)
            if (1..=3).contains(&letters) && (1..=EXCEL_COLUMNS).contains(&col) && (1..=MAX_ROWS).contains(&row) =>
        {
            Ok((row - 1, col - 1))
        }
        _ => Err(format!("cell reference {} is outside an Excel sheet (A1 to XFD1048576)", shown(r))),
    }
}

/// The value of an attribute in a tag's attribute text (`r="A1" s="2"`), as quick-xml reads it: `name = "value"`
/// or with single quotes. Anything else is refused: calamine must not read a reference this did not check.
fn attribute<'t>(mut s: &'t [u8], key: &[u8]) -> Result<Option<&'t [u8]>, String> {
    let bad = || "a tag's attributes cannot be read".to_string();
    loop {
        s = s.trim_ascii_start();
        if s.is_empty() || s == b"/" {
            return Ok(None);
        }
        let name_len = s.iter().position(|&b| b == b'=' || b.is_ascii_whitespace()).ok_or_else(bad)?;
        let name = &s[..name_len];
        s = s[name_len..].trim_ascii_start();
        s = s.strip_prefix(b"=").ok_or_else(bad)?.trim_ascii_start();
        let q = *s.first().filter(|&&q| q == b'"' || q == b'\'').ok_or_else(bad)?;
        let len = s[1..].iter().position(|&b| b == q).ok_or_else(bad)?;
        if name == key {
            return Ok(Some(&s[1..1 + len]));
        }
        s = &s[len + 2..];
    }
}

/// The archive as calamine reads it, with a budget of bytes: a workbook reads each part once, so twice the file
/// is ample; a part named by several sheets would otherwise be inflated again for each.
struct Budget<'b> {
    inner: Cursor<&'b [u8]>,
    left: u64,
}

impl Read for Budget<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 && !buf.is_empty() {
            return Err(io::Error::other("the workbook reads its parts more than once (do two sheets share one?)"));
        }
        let n = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let read = self.inner.read(&mut buf[..n])?;
        self.left -= read as u64;
        Ok(read)
    }
}

impl Seek for Budget<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// An inspected workbook, read sheet by sheet.
pub struct Workbook<'b> {
    file: String,
    xlsx: calamine::Xlsx<Budget<'b>>,
    sheets: Vec<String>,
    cells_left: usize,
}

impl<'b> Workbook<'b> {
    /// Inspects and opens a workbook.
    pub fn open(file: &str, bytes: &'b [u8]) -> Result<Workbook<'b>, Problem> {
        inspect(file, bytes)?;
        let budget = Budget { inner: Cursor::new(bytes), left: 2 * bytes.len() as u64 + (1 << 20) };
        let xlsx =
            calamine::Xlsx::new(budget).map_err(|e| whole(file, format!("not a readable XLSX workbook: {e}")))?;
        let sheets = xlsx.sheet_names();
        Ok(Workbook { file: file.to_string(), xlsx, sheets, cells_left: MAX_CELLS })
    }

    pub fn sheet_names(&self) -> &[String] {
        &self.sheets
    }

    /// The rows of a sheet that hold a value, as they are read.
    pub fn rows(&mut self, sheet: &str) -> Result<SheetRows<'_>, Problem> {
        let file = format!("{}[{}]", self.file, sheet);
        let mut reader = self
            .xlsx
            .worksheet_cells_reader(sheet)
            .map_err(|e| whole(&file, format!("the sheet cannot be read: {e}")))?;
        Ok(SheetRows {
            next: Box::new(move || reader.next_cell()),
            cells_left: &mut self.cells_left,
            file,
            pending: None,
            width: 0,
            done: false,
        })
    }
}

/// The rows of one sheet, read cell by cell: each row is padded from column A to its last value (and to the
/// header's width), never more than [`MAX_COLUMNS`] cells.
pub struct SheetRows<'a> {
    /// calamine's streaming cell reader (its type is not public).
    #[allow(clippy::type_complexity)]
    next: Box<dyn FnMut() -> Result<Option<calamine::Cell<DataRef<'a>>>, calamine::XlsxError> + 'a>,
    cells_left: &'a mut usize,
    file: String,
    /// A cell read past the end of the previous row: (row, column, text).
    pending: Option<(u32, u32, Cow<'a, str>)>,
    /// The header row's width.
    width: u32,
    done: bool,
}

impl<'a> SheetRows<'a> {
    /// The next cell holding a value: (0-based row, 0-based column, text).
    fn next_cell(&mut self) -> Result<Option<(u32, u32, Cow<'a, str>)>, Problem> {
        if let Some(c) = self.pending.take() {
            return Ok(Some(c));
        }
        loop {
            let cell = (self.next)().map_err(|e| whole(&self.file, format!("the sheet cannot be read: {e}")))?;
            let Some(cell) = cell else { return Ok(None) };
            let (row, col) = cell.get_position();
            let at = |m: String| Problem::at(&self.file, row.saturating_add(1), col.saturating_add(1), m);
            let text = match text_of(cell.get_value()) {
                Ok(t) if t.trim().is_empty() => continue,
                Ok(t) => t,
                Err(m) => return Err(at(m)),
            };
            if col >= MAX_COLUMNS as u32 {
                return Err(at(format!(
                    "cell {} is beyond column {MAX_COLUMNS} (a table has at most {MAX_COLUMNS} columns)",
                    cell_ref(row, col)
                )));
            }
            if row >= MAX_ROWS {
                return Err(at(format!("cell {} is beyond row {MAX_ROWS}", cell_ref(row, col))));
            }
            if *self.cells_left == 0 {
                return Err(at(format!("the workbook holds more than {MAX_CELLS} cells; import it as CSV files")));
            }
            *self.cells_left -= 1;
            return Ok(Some((row, col, text)));
        }
    }
}

impl<'a> Iterator for SheetRows<'a> {
    type Item = Result<Row<'a>, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut cells: Vec<(u32, Cow<'a, str>)> = Vec::new();
        let mut line = 0;
        loop {
            match self.next_cell() {
                Err(p) => {
                    self.done = true;
                    return Some(Err(p));
                }
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Ok(Some((row, col, text))) => {
                    if !cells.is_empty() && row + 1 != line {
                        self.pending = Some((row, col, text));
                        break;
                    }
                    line = row + 1;
                    cells.push((col, text));
                }
            }
        }
        let last = cells.iter().map(|(c, _)| *c).max()?;
        if self.width == 0 {
            self.width = last + 1;
        }
        let width = self.width.max(last + 1);
        let mut row: Vec<Cell<'a>> =
            (0..width).map(|j| Cell { text: Cow::Borrowed(""), line, column: j + 1 }).collect();
        for (c, text) in cells {
            row[c as usize].text = text;
        }
        Some(Ok(Row { line, cells: row, end_column: width + 1 }))
    }
}

/// A cell's value as the text the import reads (a whole number without decimals, a date as `YYYY-MM-DD`).
fn text_of<'a>(d: &DataRef<'a>) -> Result<Cow<'a, str>, String> {
    Ok(match d {
        DataRef::Empty => Cow::Borrowed(""),
        DataRef::SharedString(s) => Cow::Borrowed(*s),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cow::Owned(s.clone()),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Cow::Owned(format!("{}", *f as i64)),
        DataRef::Float(f) => Cow::Owned(f.to_string()),
        DataRef::Int(i) => Cow::Owned(i.to_string()),
        DataRef::Bool(b) => Cow::Owned(b.to_string()),
        DataRef::DateTime(dt) => {
            let v = dt.as_f64();
            // Within Excel's calendar (to 9999-12-31): calamine's conversion must not meet an absurd number.
            let t = if (-1.0..=2_958_466.0).contains(&v) { dt.as_datetime() } else { None };
            match t {
                Some(t) if t.time() == chrono::NaiveTime::MIN => Cow::Owned(t.date().format("%Y-%m-%d").to_string()),
                Some(t) => Cow::Owned(t.format("%Y-%m-%d %H:%M:%S").to_string()),
                None => Cow::Owned(v.to_string()),
            }
        }
        DataRef::Error(e) => return Err(format!("the cell holds a spreadsheet error ({e:?})")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scans XML given in chunks of `chunk` bytes; the first error.
    fn scan(xml: &str, chunk: usize) -> Result<(), String> {
        let mut s = XmlScan::default();
        s.reset();
        for c in xml.as_bytes().chunks(chunk) {
            s.feed(c)?;
        }
        s.finish()
    }

    fn check(xml: &str, expect: Result<(), &str>) {
        for chunk in [1, 3, 7, 4096] {
            assert_eq!(scan(xml, chunk), expect.map_err(str::to_string), "{xml:.80} in chunks of {chunk}");
        }
    }

    #[test]
    fn references() {
        assert_eq!(cell_ref(0, 0), "A1");
        assert_eq!(cell_ref(1_048_575, 16_383), "XFD1048576");
        assert_eq!(cell_ref(9, 26), "AA10");
        assert_eq!(parse_ref(b"XFD1048576"), Ok((1_048_575, 16_383)));
        assert_eq!(parse_ref(b"b7"), Ok((6, 1)));
        for bad in ["XFE1", "A1048577", "A0", "A", "1", "AAAA1", "A99999999999", "A1B"] {
            assert!(parse_ref(bad.as_bytes()).is_err(), "{bad}");
        }
        assert_eq!(attribute(b" r=\"A1\" s='2'/", b"s"), Ok(Some(&b"2"[..])));
        assert_eq!(attribute(b" t = \"s\" r = 'B2'", b"r"), Ok(Some(&b"B2"[..])));
        assert_eq!(attribute(b" s=\"1\"", b"r"), Ok(None));
        assert!(attribute(b" r=A1", b"r").is_err());
    }

    #[test]
    fn xml_is_tokenized_within_bounds() {
        let big = "x".repeat(MAX_XML_TOKEN_BYTES as usize + 1);
        check(
            r#"<?xml version="1.0"?><worksheet><!-- a > b --><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"/></row></sheetData></worksheet>"#,
            Ok(()),
        );
        check(r#"<x a="1>2" b='>'><![CDATA[ <c r="ZZZZ9"> ]]></x>"#, Ok(()));
        check(&format!("<v>{big}</v>"), Err("a text is longer than 65536 bytes"));
        check(&format!("<!--{big}-->"), Err("a comment or section is longer than 65536 bytes"));
        check(&format!("<c r=\"A1\" x=\"{big}\">"), Err("a tag is longer than 65536 bytes"));
        check(r#"<!DOCTYPE x [<!ENTITY a "b">]><x/>"#, Err("a declaration (<!DOCTYPE …>) is not allowed"));
        check(
            r#"<c r="XFE1"><v>1</v></c>"#,
            Err(r#"cell reference "XFE1" is outside an Excel sheet (A1 to XFD1048576)"#),
        );
        check(
            r#"<c r="A4294967297"/>"#,
            Err(r#"cell reference "A4294967297" is outside an Excel sheet (A1 to XFD1048576)"#),
        );
        check(r#"<row r="99999999999">"#, Err(r#"row "99999999999" is outside an Excel sheet"#));
        check(
            r#"<dimension ref="A1:XFD1048577"/>"#,
            Err(r#"cell reference "XFD1048577" is outside an Excel sheet (A1 to XFD1048576)"#),
        );
        check(r#"<c r=A1>"#, Err("a tag's attributes cannot be read"));
        // Many small texts in one cell: each token is short, the cell is not.
        let runs = "<r><t>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</t></r>".repeat(1000);
        check(
            &format!("<c r=\"B7\" t=\"inlineStr\"><is>{runs}</is></c>"),
            Err("cell B7 holds more than 65536 bytes of XML"),
        );
        check(&format!("<sst><si>{runs}</si></sst>"), Err("shared string 1 holds more than 65536 bytes of XML"));
        check(&format!("<sst><si>{}</si></sst>", &runs[..800 * 78]), Ok(()));
        assert_eq!(scan("<a>\0</a>", 4096), Err("a NUL byte: only UTF-8 XML is read".into()));
    }
}
