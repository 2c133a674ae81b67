//! The PDF layout: A4 landscape, Helvetica and Helvetica-Bold (two of the fourteen fonts every reader has) in
//! WinAnsi, so nothing is embedded and the text extracts as written (French accents, `«»`, `’`, `–`, `…` included;
//! a character WinAnsi lacks is written `?`). Laid out in two passes: pages of drawing operations first, then each
//! page written with its number out of the total.

use crate::{Cell, Document, Section};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 842.0;
const HEIGHT: f32 = 595.0;
const MARGIN: f32 = 36.0;
const BOTTOM: f32 = 48.0;
const ROW: f32 = 11.0;
const TABLE_SIZE: f32 = 7.5;

enum Op {
    Text { x: f32, y: f32, size: f32, bold: bool, white: bool, text: String },
    Fill { x: f32, y: f32, w: f32, h: f32, rgb: (f32, f32, f32) },
}

struct Layout<'d> {
    doc: &'d Document,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'d> Layout<'d> {
    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = HEIGHT - MARGIN;
        if let Some(b) = &self.doc.banner {
            self.op(Op::Fill {
                x: MARGIN,
                y: self.y - 16.0,
                w: WIDTH - 2.0 * MARGIN,
                h: 18.0,
                rgb: (0.75, 0.05, 0.05),
            });
            let w = text_width(b, 12.0, true);
            self.op(Op::Text {
                x: (WIDTH - w) / 2.0,
                y: self.y - 12.0,
                size: 12.0,
                bold: true,
                white: true,
                text: b.clone(),
            });
            self.y -= 26.0;
        }
    }
    fn op(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }
    /// Room for `h` more points on this page, else a new page.
    fn room(&mut self, h: f32) -> bool {
        if self.y - h < BOTTOM {
            self.new_page();
            return false;
        }
        true
    }
    fn paragraph(&mut self, text: &str, size: f32, bold: bool) {
        for line in wrap(text, size, bold, WIDTH - 2.0 * MARGIN) {
            self.room(size * 1.3);
            self.y -= size * 1.3;
            self.op(Op::Text { x: MARGIN, y: self.y, size, bold, white: false, text: line });
        }
    }
    fn header(&mut self, section: &Section, xs: &[(f32, f32)]) {
        self.y -= ROW + 1.0;
        self.op(Op::Fill {
            x: MARGIN,
            y: self.y - 3.0,
            w: WIDTH - 2.0 * MARGIN,
            h: ROW + 1.0,
            rgb: (0.86, 0.86, 0.86),
        });
        for (col, &(x, w)) in section.columns.iter().zip(xs) {
            let text = fit(&col.title, TABLE_SIZE, true, w - 4.0);
            self.op(Op::Text { x: x + 2.0, y: self.y, size: TABLE_SIZE, bold: true, white: false, text });
        }
    }
    fn table(&mut self, section: &Section) {
        let total: f32 = section.columns.iter().map(|c| c.width.max(1.0)).sum::<f32>().max(1.0);
        let mut x = MARGIN;
        let xs: Vec<(f32, f32)> = section
            .columns
            .iter()
            .map(|c| {
                let w = c.width.max(1.0) / total * (WIDTH - 2.0 * MARGIN);
                let at = (x, w);
                x += w;
                at
            })
            .collect();
        self.room(3.0 * ROW);
        self.header(section, &xs);
        for row in &section.rows {
            if !self.room(ROW) {
                self.header(section, &xs);
            }
            self.y -= ROW;
            if row.flagged {
                self.op(Op::Fill {
                    x: MARGIN,
                    y: self.y - 3.0,
                    w: WIDTH - 2.0 * MARGIN,
                    h: ROW,
                    rgb: (1.0, 0.85, 0.66),
                });
            }
            for (cell, &(x, w)) in row.cells.iter().zip(&xs) {
                let text = fit(&cell.french(), TABLE_SIZE, false, w - 4.0);
                let at = match cell {
                    Cell::Number(..) => x + w - 2.0 - text_width(&text, TABLE_SIZE, false),
                    _ => x + 2.0,
                };
                self.op(Op::Text { x: at, y: self.y, size: TABLE_SIZE, bold: false, white: false, text });
            }
        }
    }
}

/// The document as a PDF.
pub fn to_pdf(doc: &Document) -> Vec<u8> {
    let mut l = Layout { doc, pages: Vec::new(), y: 0.0 };
    l.new_page();
    l.paragraph(&doc.title, 16.0, true);
    for line in &doc.lines {
        l.paragraph(line, 9.0, false);
    }
    l.y -= 4.0;
    l.paragraph(&doc.summary, 11.0, true);
    for section in &doc.sections {
        l.y -= 8.0;
        l.room(4.0 * ROW);
        l.paragraph(&section.title, 12.0, true);
        for n in &section.notes {
            l.paragraph(n, 8.0, false);
        }
        l.table(section);
    }
    render(doc, l.pages)
}

fn render(doc: &Document, pages: Vec<Vec<Op>>) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(6 + 2 * i as i32)).collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages.len() as i32);
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info).title(TextStr(&doc.title)).producer(TextStr("Vigie"));
    let n = pages.len();
    for (i, ops) in pages.into_iter().enumerate() {
        let id = page_ids[i];
        let content_id = Ref::new(id.get() + 1);
        let mut page = pdf.page(id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT)).parent(tree).contents(content_id);
        page.resources().fonts().pair(Name(b"F1"), regular).pair(Name(b"F2"), bold);
        page.finish();
        let mut c = Content::new();
        let footer = format!("{} — page {}/{}", doc.title, i + 1, n);
        let ops = ops.into_iter().chain(std::iter::once(Op::Text {
            x: MARGIN,
            y: 22.0,
            size: 7.0,
            bold: false,
            white: false,
            text: footer,
        }));
        for op in ops {
            match op {
                Op::Fill { x, y, w, h, rgb } => {
                    c.set_fill_rgb(rgb.0, rgb.1, rgb.2);
                    c.rect(x, y, w, h);
                    c.fill_nonzero();
                }
                Op::Text { x, y, size, bold, white, text } => {
                    let g = if white { 1.0 } else { 0.0 };
                    c.set_fill_rgb(g, g, g);
                    c.begin_text();
                    c.set_font(Name(if bold { b"F2" } else { b"F1" }), size);
                    c.next_line(x, y);
                    c.show(Str(&winansi(&text)));
                    c.end_text();
                }
            }
        }
        pdf.stream(content_id, &c.finish());
    }
    pdf.finish()
}

/// The text in WinAnsi (Windows-1252): Latin-1 as is, the typographic signs French uses at their places; anything
/// else `?`.
pub(crate) fn winansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '\u{202f}' | '\u{2009}' => 0xa0,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            'Œ' => 0x8c,
            'œ' => 0x9c,
            'Ÿ' => 0x9f,
            // Signs WinAnsi lacks, written as their nearest.
            '−' | '‐' | '‑' => b'-',
            '→' => b'>',
            _ => b'?',
        })
        .collect()
}

/// Helvetica's advance widths (per 1,000 of the size) of the printable ASCII characters, from Adobe's metrics.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 to ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ to O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P to _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` to o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p to ~
];

/// The width of a text in points (accented letters as their base letter; bold about 6 % wider).
pub(crate) fn text_width(s: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = s
        .chars()
        .map(|c| {
            let base = match c {
                'à' | 'â' | 'ä' => 'a',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'î' | 'ï' => 'i',
                'ô' | 'ö' => 'o',
                'ù' | 'û' | 'ü' => 'u',
                'ç' => 'c',
                'À' | 'Â' => 'A',
                'É' | 'È' | 'Ê' => 'E',
                'Ç' => 'C',
                '\u{a0}' | '\u{202f}' => ' ',
                other => other,
            };
            match base {
                ' '..='~' => u32::from(HELVETICA[(base as u8 - b' ') as usize]),
                '—' | 'œ' | 'Œ' => 1000,
                _ => 556,
            }
        })
        .sum();
    units as f32 / 1000.0 * size * if bold { 1.06 } else { 1.0 }
}

/// The text cut to `width` points, ending with `…` when cut.
fn fit(s: &str, size: f32, bold: bool, width: f32) -> String {
    if text_width(s, size, bold) <= width {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        out.push(c);
        if text_width(&out, size, bold) + text_width("…", size, bold) > width {
            out.pop();
            break;
        }
    }
    out.push('…');
    out
}

/// The text in lines of at most `width` points, cut between words (a word too long for a line is cut itself).
fn wrap(s: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split(' ') {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if text_width(&candidate, size, bold) <= width || line.is_empty() {
            line = candidate;
        } else {
            lines.push(std::mem::take(&mut line));
            line = word.to_string();
        }
        if text_width(&line, size, bold) > width {
            lines.push(fit(&line, size, bold, width));
            line.clear();
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_text_is_written_in_winansi() {
        assert_eq!(winansi("é à ç «x» ’ – …"), b"\xe9 \xe0 \xe7 \xabx\xbb \x92 \x96 \x85");
        assert_eq!(winansi("日"), b"?");
        assert_eq!(winansi("a − b → c"), b"a - b > c");
    }

    #[test]
    fn long_text_is_cut_and_wrapped_within_its_width() {
        let cut = fit(&"abcdefghij".repeat(20), 8.0, false, 100.0);
        assert!(cut.ends_with('…') && text_width(&cut, 8.0, false) <= 100.0, "{cut}");
        let lines = wrap(&"mot ".repeat(200), 10.0, false, 300.0);
        assert!(lines.len() > 3 && lines.iter().all(|l| text_width(l, 10.0, false) <= 300.0));
    }

    #[test]
    fn a_long_table_spans_pages_that_are_numbered() {
        let doc = crate::tests::sample();
        let pdf = to_pdf(&doc);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
        assert!(pages >= 3, "120 rows take several pages, not {pages}");
        assert!(text.contains(&format!("/Count {pages}")));
    }
}
