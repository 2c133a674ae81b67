//! Bounds on what a request may carry, checked before anything is decided: every text field has a size limit and
//! refuses control, invisible and bidirectional characters (the rules of [`vigie_domain::text`], the same as the
//! imports'), every list a length.

use crate::AppError;
use vigie_domain::text;

pub use vigie_domain::text::{MAX_FREE_TEXT_CHARS, MAX_NAME_CHARS};

fn located(e: text::TextError) -> AppError {
    let field = match &e {
        text::TextError::Empty { field } | text::TextError::TooLong { field, .. } => field.clone(),
        text::TextError::BadCharacter { field, .. } => field.clone(),
    };
    AppError::invalid(e.to_string(), vec![crate::problem(&field, e.to_string())])
}

/// A short text (a name, a label, a reference), possibly empty: at most [`MAX_NAME_CHARS`] characters, one line.
pub fn name(field: &str, value: &str) -> Result<(), AppError> {
    text::check_text(field, value, MAX_NAME_CHARS).map_err(located)
}

/// A free text (a description, a note, a log entry): at most [`MAX_FREE_TEXT_CHARS`] characters; tabs and line
/// breaks allowed.
pub fn free_text(field: &str, value: &str) -> Result<(), AppError> {
    text::check_free_text(field, value).map_err(located)
}

/// A list of at most `max` entries.
pub fn list<T>(field: &str, values: &[T], max: usize) -> Result<(), AppError> {
    if values.len() > max {
        return Err(AppError::field(field, format!("at most {max} entries, found {}", values.len())));
    }
    Ok(())
}
