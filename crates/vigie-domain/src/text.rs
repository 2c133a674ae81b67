//! Limits and character rules for the text a user gives Vigie: names, labels and free text. One pure place, so that
//! every entry point (imports, the HTTP API, the CLI) applies the same rules.
//!
//! - **Size.** A name or label holds at most [`MAX_NAME_CHARS`] characters, free text at most
//!   [`MAX_FREE_TEXT_CHARS`] (ServiceNow's description field holds 4,000); identifiers at most
//!   [`MAX_ID_CHARS`] (see [`crate::ids`]). Counts are in characters (Unicode scalar values), not bytes.
//! - **Characters.** Text is shown to every operator: it may hold any letter of any script, but no character that
//!   hides or reorders what is shown. Refused: control characters (free text keeps tab and line breaks), the
//!   bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), invisible characters (U+200B–U+200D,
//!   U+2060–U+2064, U+FEFF, the soft hyphen U+00AD, fillers, tag characters…), the line and paragraph separators
//!   U+2028/U+2029 and noncharacters. Every refusal names the character by its code point (and its name when it has
//!   one worth showing), never by the character itself: a right-to-left override in a message would reorder it.
//!
//! The checks are byte scans with no allocation unless they fail, so they are cheap on every cell of an import.

use std::fmt;

/// The most characters an identifier holds.
pub const MAX_ID_CHARS: usize = 64;
/// The most characters a name or short label holds (a site's or an item's name, a city, a category, a unit, a lot
/// number, a vehicle's or an asset's kind, a column name). The longest French commune name has 45 characters; a
/// long official unit name rarely passes 120.
pub const MAX_NAME_CHARS: usize = 200;
/// The most characters free text holds (descriptions, notes, comments, extra columns kept as attributes, a check's
/// target or expectation): ServiceNow's description limit.
pub const MAX_FREE_TEXT_CHARS: usize = 4_000;

/// Why a text is refused. `field` names the field as the user knows it (a column name, a JSON key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// A required text is empty or only white space.
    Empty { field: String },
    /// More than `max` characters.
    TooLong { field: String, chars: usize, max: usize },
    /// A refused character, at 1-based character `position`.
    BadCharacter { field: String, position: usize, ch: char },
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Empty { field } => write!(f, "`{field}` is required"),
            TextError::TooLong { field, chars, max } => {
                write!(f, "`{field}` holds at most {max} characters (this one has {chars})")
            }
            TextError::BadCharacter { field, position, ch } => {
                write!(f, "`{field}`: character {position} is {}, not allowed in text", describe_char(*ch))
            }
        }
    }
}

impl std::error::Error for TextError {}

/// Checks a one-line text (a name, a label, a code): at most `max_chars` characters, none refused (no control
/// character at all, not even a tab or a line break). Empty text is accepted: say so with [`check_name`].
pub fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), TextError> {
    check(field, value, max_chars, false)
}

/// Checks multi-line text: as [`check_text`], but tab, line feed and carriage return are allowed.
pub fn check_multiline_text(field: &str, value: &str, max_chars: usize) -> Result<(), TextError> {
    check(field, value, max_chars, true)
}

/// Checks a required name or label: not blank, at most [`MAX_NAME_CHARS`] characters, one line, no refused character.
pub fn check_name(field: &str, value: &str) -> Result<(), TextError> {
    if value.trim().is_empty() {
        return Err(TextError::Empty { field: field.to_string() });
    }
    check(field, value, MAX_NAME_CHARS, false)
}

/// Checks free text (may be empty): at most [`MAX_FREE_TEXT_CHARS`] characters, tabs and line breaks allowed, no
/// other refused character.
pub fn check_free_text(field: &str, value: &str) -> Result<(), TextError> {
    check(field, value, MAX_FREE_TEXT_CHARS, true)
}

fn check(field: &str, value: &str, max_chars: usize, multiline: bool) -> Result<(), TextError> {
    // A byte count bounds the character count: count characters only when the bytes could be too many.
    if value.len() > max_chars {
        let chars = value.chars().count();
        if chars > max_chars {
            return Err(TextError::TooLong { field: field.to_string(), chars, max: max_chars });
        }
    }
    if let Some((position, ch)) = first_refused(value, multiline) {
        return Err(TextError::BadCharacter { field: field.to_string(), position, ch });
    }
    Ok(())
}

/// The first refused character of `value` and its 1-based character position.
pub fn first_refused(value: &str, multiline: bool) -> Option<(usize, char)> {
    let bytes = value.as_bytes();
    // Fast path: printable ASCII (the common case) holds nothing to refuse.
    if bytes.iter().all(|&b| (0x20..0x7F).contains(&b)) {
        return None;
    }
    value.chars().enumerate().find(|&(_, c)| refused(c, multiline)).map(|(i, c)| (i + 1, c))
}

/// Whether text refuses `c` (see the module's documentation).
pub fn refused(c: char, multiline: bool) -> bool {
    match c {
        '\t' | '\n' | '\r' => !multiline,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' => true,
        ' '..='\u{7E}' => false,
        _ => invisible(c) || noncharacter(c),
    }
}

/// Bidirectional controls and invisible or zero-width characters, besides the C0 and C1 controls.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{AD}'                      // soft hyphen
        | '\u{34F}'                   // combining grapheme joiner
        | '\u{61C}'                   // Arabic letter mark
        | '\u{115F}' | '\u{1160}'     // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'     // Khmer inherent vowels
        | '\u{180B}'..='\u{180F}'     // Mongolian free variation selectors and vowel separator
        | '\u{200B}'..='\u{200F}'     // zero width space, non-joiner, joiner; LRM, RLM
        | '\u{2028}'..='\u{202E}'     // line and paragraph separators; LRE, RLE, PDF, LRO, RLO
        | '\u{2060}'..='\u{206F}'     // word joiner, invisible operators, isolates, deprecated format characters
        | '\u{3164}' | '\u{FFA0}'     // Hangul fillers
        | '\u{FEFF}'                  // zero width no-break space (BOM)
        | '\u{FFF9}'..='\u{FFFB}'     // interlinear annotation
        | '\u{1BCA0}'..='\u{1BCA3}'   // shorthand format controls
        | '\u{1D173}'..='\u{1D17A}'   // musical format controls
        | '\u{E0000}'..='\u{E007F}'   // tag characters
        | '\u{E0100}'..='\u{E01EF}' // variation selectors 17–256
    )
}

fn noncharacter(c: char) -> bool {
    let u = c as u32;
    (0xFDD0..=0xFDEF).contains(&u) || (u & 0xFFFE) == 0xFFFE
}

/// Names of the characters refusals most often meet (Unicode names).
const NAMES: &[(u32, &str)] = &[
    (0x00, "NULL"),
    (0x01, "START OF HEADING"),
    (0x02, "START OF TEXT"),
    (0x03, "END OF TEXT"),
    (0x04, "END OF TRANSMISSION"),
    (0x05, "ENQUIRY"),
    (0x06, "ACKNOWLEDGE"),
    (0x07, "BELL"),
    (0x08, "BACKSPACE"),
    (0x09, "CHARACTER TABULATION"),
    (0x0A, "LINE FEED"),
    (0x0B, "LINE TABULATION"),
    (0x0C, "FORM FEED"),
    (0x0D, "CARRIAGE RETURN"),
    (0x0E, "SHIFT OUT"),
    (0x0F, "SHIFT IN"),
    (0x10, "DATA LINK ESCAPE"),
    (0x11, "DEVICE CONTROL ONE"),
    (0x12, "DEVICE CONTROL TWO"),
    (0x13, "DEVICE CONTROL THREE"),
    (0x14, "DEVICE CONTROL FOUR"),
    (0x15, "NEGATIVE ACKNOWLEDGE"),
    (0x16, "SYNCHRONOUS IDLE"),
    (0x17, "END OF TRANSMISSION BLOCK"),
    (0x18, "CANCEL"),
    (0x19, "END OF MEDIUM"),
    (0x1A, "SUBSTITUTE"),
    (0x1B, "ESCAPE"),
    (0x1C, "INFORMATION SEPARATOR FOUR"),
    (0x1D, "INFORMATION SEPARATOR THREE"),
    (0x1E, "INFORMATION SEPARATOR TWO"),
    (0x1F, "INFORMATION SEPARATOR ONE"),
    (0x20, "SPACE"),
    (0x7F, "DELETE"),
    (0x85, "NEXT LINE"),
    (0xA0, "NO-BREAK SPACE"),
    (0xAD, "SOFT HYPHEN"),
    (0x34F, "COMBINING GRAPHEME JOINER"),
    (0x61C, "ARABIC LETTER MARK"),
    (0x115F, "HANGUL CHOSEONG FILLER"),
    (0x1160, "HANGUL JUNGSEONG FILLER"),
    (0x17B4, "KHMER VOWEL INHERENT AQ"),
    (0x17B5, "KHMER VOWEL INHERENT AA"),
    (0x180E, "MONGOLIAN VOWEL SEPARATOR"),
    (0x2000, "EN QUAD"),
    (0x2001, "EM QUAD"),
    (0x2002, "EN SPACE"),
    (0x2003, "EM SPACE"),
    (0x2004, "THREE-PER-EM SPACE"),
    (0x2005, "FOUR-PER-EM SPACE"),
    (0x2006, "SIX-PER-EM SPACE"),
    (0x2007, "FIGURE SPACE"),
    (0x2008, "PUNCTUATION SPACE"),
    (0x2009, "THIN SPACE"),
    (0x200A, "HAIR SPACE"),
    (0x200B, "ZERO WIDTH SPACE"),
    (0x200C, "ZERO WIDTH NON-JOINER"),
    (0x200D, "ZERO WIDTH JOINER"),
    (0x200E, "LEFT-TO-RIGHT MARK"),
    (0x200F, "RIGHT-TO-LEFT MARK"),
    (0x2028, "LINE SEPARATOR"),
    (0x2029, "PARAGRAPH SEPARATOR"),
    (0x202A, "LEFT-TO-RIGHT EMBEDDING"),
    (0x202B, "RIGHT-TO-LEFT EMBEDDING"),
    (0x202C, "POP DIRECTIONAL FORMATTING"),
    (0x202D, "LEFT-TO-RIGHT OVERRIDE"),
    (0x202E, "RIGHT-TO-LEFT OVERRIDE"),
    (0x202F, "NARROW NO-BREAK SPACE"),
    (0x205F, "MEDIUM MATHEMATICAL SPACE"),
    (0x2060, "WORD JOINER"),
    (0x2061, "FUNCTION APPLICATION"),
    (0x2062, "INVISIBLE TIMES"),
    (0x2063, "INVISIBLE SEPARATOR"),
    (0x2064, "INVISIBLE PLUS"),
    (0x2066, "LEFT-TO-RIGHT ISOLATE"),
    (0x2067, "RIGHT-TO-LEFT ISOLATE"),
    (0x2068, "FIRST STRONG ISOLATE"),
    (0x2069, "POP DIRECTIONAL ISOLATE"),
    (0x3000, "IDEOGRAPHIC SPACE"),
    (0x3164, "HANGUL FILLER"),
    (0xFEFF, "ZERO WIDTH NO-BREAK SPACE"),
    (0xFFA0, "HALFWIDTH HANGUL FILLER"),
    (0xFFF9, "INTERLINEAR ANNOTATION ANCHOR"),
    (0xFFFA, "INTERLINEAR ANNOTATION SEPARATOR"),
    (0xFFFB, "INTERLINEAR ANNOTATION TERMINATOR"),
    (0xFFFD, "REPLACEMENT CHARACTER"),
];

/// Cyrillic and Greek letters that look like Latin ones (the usual spoofs of an identifier).
const LOOKALIKES: &[(char, char)] = &[
    ('А', 'A'),
    ('В', 'B'),
    ('Е', 'E'),
    ('Ѕ', 'S'),
    ('І', 'I'),
    ('Ј', 'J'),
    ('К', 'K'),
    ('М', 'M'),
    ('Н', 'H'),
    ('О', 'O'),
    ('Р', 'P'),
    ('С', 'C'),
    ('Т', 'T'),
    ('Х', 'X'),
    ('Ү', 'Y'),
    ('а', 'a'),
    ('с', 'c'),
    ('е', 'e'),
    ('һ', 'h'),
    ('і', 'i'),
    ('ј', 'j'),
    ('о', 'o'),
    ('р', 'p'),
    ('ѕ', 's'),
    ('х', 'x'),
    ('у', 'y'),
    ('Α', 'A'),
    ('Β', 'B'),
    ('Ε', 'E'),
    ('Ζ', 'Z'),
    ('Η', 'H'),
    ('Ι', 'I'),
    ('Κ', 'K'),
    ('Μ', 'M'),
    ('Ν', 'N'),
    ('Ο', 'O'),
    ('Ρ', 'P'),
    ('Τ', 'T'),
    ('Υ', 'Y'),
    ('Χ', 'X'),
    ('ο', 'o'),
    ('ν', 'v'),
];

/// The script or block of a character, for characters without a name here.
fn block(c: char) -> Option<&'static str> {
    Some(match c as u32 {
        0x80..=0x9F => "a C1 control character",
        0xA0..=0x24F | 0x1E00..=0x1EFF => "a Latin letter or sign beyond ASCII",
        0x300..=0x36F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F => "a combining mark",
        0x370..=0x3FF | 0x1F00..=0x1FFF => "Greek",
        0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => "Cyrillic",
        0x530..=0x58F => "Armenian",
        0x590..=0x5FF => "Hebrew",
        0x600..=0x6FF | 0x750..=0x77F => "Arabic",
        0x2000..=0x206F => "general punctuation",
        0xFE00..=0xFE0F | 0xE0100..=0xE01EF => "a variation selector",
        0xFF00..=0xFFEF => "a fullwidth or halfwidth form",
        0x1D400..=0x1D7FF => "a mathematical letter",
        0xE000..=0xF8FF | 0xF0000..=0x10FFFF => "private use",
        0xE0000..=0xE007F => "an invisible tag character",
        _ => return None,
    })
}

/// Describes a character for a message: `U+202E RIGHT-TO-LEFT OVERRIDE`, `U+0415 'Е' (Cyrillic, looks like Latin
/// E)`. Invisible, control and formatting characters are never shown themselves.
pub fn describe_char(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    if let Some((_, name)) = NAMES.iter().find(|(u, _)| *u == c as u32) {
        return format!("{code} {name}");
    }
    let shown = !(c.is_control() || refused(c, true) || matches!(block(c), Some("a combining mark")));
    let mut hint: Vec<String> = Vec::new();
    if noncharacter(c) {
        hint.push("a noncharacter".to_string());
    } else if let Some(b) = block(c) {
        hint.push(b.to_string());
    }
    if let Some((_, latin)) = LOOKALIKES.iter().find(|(x, _)| *x == c) {
        hint.push(format!("looks like Latin {latin}"));
    } else if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        let ascii = char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or('?');
        hint.push(format!("looks like {ascii}"));
    }
    match (shown, hint.is_empty()) {
        (true, true) => format!("{code} '{c}'"),
        (true, false) => format!("{code} '{c}' ({})", hint.join(", ")),
        (false, true) => format!("{code} (an invisible or formatting character)"),
        (false, false) => format!("{code} ({})", hint.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(got: Result<(), TextError>, expect: Result<(), &str>) {
        assert_eq!(got.map_err(|e| e.to_string()), expect.map_err(str::to_string));
    }

    #[test]
    fn names() {
        check(check_name("name", "Dépôt de Vincennes – magasin n° 2"), Ok(()));
        check(check_name("name", "Θεσσαλονίκη Москва 東京"), Ok(()));
        check(check_name("name", "Stade\u{A0}: tribune\u{202F}!"), Ok(()));
        check(check_name("name", "  "), Err("`name` is required"));
        check(check_name("name", &"é".repeat(200)), Ok(()));
        check(check_name("name", &"é".repeat(201)), Err("`name` holds at most 200 characters (this one has 201)"));
        check(
            check_name("name", &"x".repeat(10 << 20)),
            Err("`name` holds at most 200 characters (this one has 10485760)"),
        );
        check(
            check_name("name", "Dépôt\u{202E}txt.exe"),
            Err("`name`: character 6 is U+202E RIGHT-TO-LEFT OVERRIDE, not allowed in text"),
        );
        check(
            check_name("name", "a\u{200B}b"),
            Err("`name`: character 2 is U+200B ZERO WIDTH SPACE, not allowed in text"),
        );
        check(
            check_name("city", "a\tb"),
            Err("`city`: character 2 is U+0009 CHARACTER TABULATION, not allowed in text"),
        );
        check(check_name("city", "a\nb"), Err("`city`: character 2 is U+000A LINE FEED, not allowed in text"));
        check(check_name("x", "soft\u{AD}hyphen"), Err("`x`: character 5 is U+00AD SOFT HYPHEN, not allowed in text"));
        check(
            check_name("x", "\u{2066}a"),
            Err("`x`: character 1 is U+2066 LEFT-TO-RIGHT ISOLATE, not allowed in text"),
        );
        check(check_name("x", "a\u{61C}"), Err("`x`: character 2 is U+061C ARABIC LETTER MARK, not allowed in text"));
        check(
            check_name("x", "\u{FEFF}a"),
            Err("`x`: character 1 is U+FEFF ZERO WIDTH NO-BREAK SPACE, not allowed in text"),
        );
        check(check_name("x", "a\u{1B}[31m"), Err("`x`: character 2 is U+001B ESCAPE, not allowed in text"));
        check(
            check_name("x", "a\u{90}"),
            Err("`x`: character 2 is U+0090 (a C1 control character), not allowed in text"),
        );
        check(
            check_name("x", "ok\u{E0041}"),
            Err("`x`: character 3 is U+E0041 (an invisible tag character), not allowed in text"),
        );
        check(check_name("x", "a\u{FFFF}"), Err("`x`: character 2 is U+FFFF (a noncharacter), not allowed in text"));
    }

    #[test]
    fn free_text() {
        check(check_free_text("notes", ""), Ok(()));
        check(check_free_text("notes", "ligne 1\r\n\tligne 2 ⚠️ 👍🏽"), Ok(()));
        check(check_free_text("notes", &"a".repeat(4000)), Ok(()));
        check(
            check_free_text("notes", &"a".repeat(4001)),
            Err("`notes` holds at most 4000 characters (this one has 4001)"),
        );
        check(
            check_free_text("notes", "ok\u{200F}"),
            Err("`notes`: character 3 is U+200F RIGHT-TO-LEFT MARK, not allowed in text"),
        );
        check(check_free_text("notes", "a\u{0}"), Err("`notes`: character 2 is U+0000 NULL, not allowed in text"));
        check(
            check_free_text("notes", "a\u{2028}b"),
            Err("`notes`: character 2 is U+2028 LINE SEPARATOR, not allowed in text"),
        );
        check(
            check_text("target", "a\tb", 10),
            Err("`target`: character 2 is U+0009 CHARACTER TABULATION, not allowed in text"),
        );
        check(check_multiline_text("target", "a\tb", 10), Ok(()));
    }

    #[test]
    fn characters_are_described_without_being_shown_when_invisible() {
        assert_eq!(describe_char('Е'), "U+0415 'Е' (Cyrillic, looks like Latin E)");
        assert_eq!(describe_char('ο'), "U+03BF 'ο' (Greek, looks like Latin o)");
        assert_eq!(describe_char('Ａ'), "U+FF21 'Ａ' (a fullwidth or halfwidth form, looks like A)");
        assert_eq!(describe_char('é'), "U+00E9 'é' (a Latin letter or sign beyond ASCII)");
        assert_eq!(describe_char('#'), "U+0023 '#'");
        assert_eq!(describe_char('\u{301}'), "U+0301 (a combining mark)");
        assert_eq!(describe_char('\u{202E}'), "U+202E RIGHT-TO-LEFT OVERRIDE");
        assert_eq!(describe_char(' '), "U+0020 SPACE");
    }
}
