//! Days and instants as users write them: `YYYY-MM-DD`, RFC 3339, or a Paris local time `YYYY-MM-DD HH:MM`.

use crate::AppError;
use chrono::{DateTime, NaiveDate, Utc};

/// `on=YYYY-MM-DD`, by default today in Paris.
pub fn parse_day(on: Option<&str>) -> Result<NaiveDate, AppError> {
    match on {
        None => Ok(vigie_domain::paris::today(Utc::now())),
        Some(s) => s.parse().map_err(|_| AppError::field("on", format!("expected a date YYYY-MM-DD, found {s:?}"))),
    }
}

/// An instant given as RFC 3339 or Paris local time; `None` when absent or blank.
pub fn parse_instant(field: &str, v: Option<&str>) -> Result<Option<DateTime<Utc>>, AppError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(t) => vigie_import::values::parse_instant(t).map(Some).ok_or_else(|| {
            let shown: String = t.chars().take(40).collect();
            AppError::field(
                field,
                format!("expected a date and time (RFC 3339 or `YYYY-MM-DD HH:MM`, Paris), found {shown:?}"),
            )
        }),
    }
}

/// Minutes from now until a deadline given as RFC 3339 or Paris local time.
pub fn deadline_minutes(by: Option<&str>) -> Result<Option<f64>, AppError> {
    Ok(parse_instant("by", by)?.map(|at| (at - Utc::now()).num_seconds() as f64 / 60.0))
}

/// Refuses an instant outside the years a roster or a plan can mean (2000 to 2100), at its field: a typo of a year
/// (9999, 0001) is caught, and no date arithmetic runs out of range.
pub fn plausible(field: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    use chrono::Datelike;
    if (2000..=2100).contains(&t.year()) {
        Ok(t)
    } else {
        Err(AppError::field(field, format!("a date between 2000 and 2100, found the year {}", t.year())))
    }
}
