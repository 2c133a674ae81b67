//! Bounds on what a request may carry, checked before anything is decided: every text field has a size limit and
//! refuses control, invisible and bidirectional characters (the rules of `vigie_domain::text`, the same as the
//! imports'), every list a length.

use crate::AppError;

/// Characters in a name, a label, a reference.
pub const MAX_NAME: usize = 200;
/// Characters in a free text (ServiceNow's description).
pub const MAX_FREE_TEXT: usize = 4000;

fn check(field: &str, value: &str, max: usize, lines: bool) -> Result<(), AppError> {
    let n = value.chars().count();
    if n > max {
        return Err(AppError::field(field, format!("at most {max} characters, found {n}")));
    }
    if let Some((i, c)) = value.char_indices().find(|(_, c)| {
        (c.is_control() && !(lines && matches!(c, '\n' | '\r' | '\t')))
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}' | '\u{00AD}')
    }) {
        let at = value[..i].chars().count() + 1;
        return Err(AppError::field(field, format!("character {at} is U+{:04X}, not allowed", c as u32)));
    }
    Ok(())
}

/// A short text (a name, a label, a reference): at most [`MAX_NAME`] characters, no line breaks.
pub fn name(field: &str, value: &str) -> Result<(), AppError> {
    check(field, value, MAX_NAME, false)
}

/// A free text (a description, a note, a log entry): at most [`MAX_FREE_TEXT`] characters; tabs and line breaks
/// allowed.
pub fn free_text(field: &str, value: &str) -> Result<(), AppError> {
    check(field, value, MAX_FREE_TEXT, true)
}

/// A list of at most `max` entries.
pub fn list<T>(field: &str, values: &[T], max: usize) -> Result<(), AppError> {
    if values.len() > max {
        return Err(AppError::field(field, format!("at most {max} entries, found {}", values.len())));
    }
    Ok(())
}
