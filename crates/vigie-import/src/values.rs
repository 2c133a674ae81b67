//! Parsing of cell values: dates, instants, numbers, in the forms French exports use.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use vigie_domain::paris;

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `2024-07-26` or `26/07/2024`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if let Some((y, rest)) = t.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        if y.len() != 4 {
            return None;
        }
        return NaiveDate::from_ymd_opt(digits(y)? as i32, digits(m)?, digits(d)?);
    }
    let mut parts = t.split('/');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(digits(y)? as i32, digits(m)?, digits(d)?)
}

fn parse_time(t: &str) -> Option<NaiveTime> {
    let mut parts = t.split(':');
    let h = digits(parts.next()?)?;
    let m = digits(parts.next()?)?;
    let s = match parts.next() {
        Some(s) => {
            let whole = s.split('.').next()?;
            digits(whole)?
        }
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, s)
}

/// An instant: RFC 3339 (`2024-07-26T19:30:00+02:00`, `…Z`), or a Paris local time `2024-07-26 19:30[:00]`,
/// `2024-07-26T19:30`, `26/07/2024 19:30`; a bare date means midnight, Paris time.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    let (d, time) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], Some(t[i + 1..].trim())),
        None => (t, None),
    };
    let date = parse_date(d)?;
    let time = match time {
        Some(tm) => parse_time(tm)?,
        None => NaiveTime::MIN,
    };
    Some(paris::from_local(NaiveDateTime::new(date, time)))
}

/// A whole number ≥ 0 (spaces as thousands separators allowed; `12,0` accepted).
pub fn parse_count(text: &str) -> Option<u32> {
    let q = vigie_domain::Quantity::parse(text).ok()?;
    if q.is_negative() || q.milli() % 1000 != 0 {
        return None;
    }
    u32::try_from(q.milli() / 1000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2024, 7, 26);
        assert_eq!(parse_date("2024-07-26"), d);
        assert_eq!(parse_date("26/07/2024"), d);
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("24-07-26"), None);
        assert_eq!(parse_date("demain"), None);
    }

    #[test]
    fn instants() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(parse_instant("2024-07-26T19:30:00+02:00"), Some(utc("2024-07-26T17:30:00Z")));
        assert_eq!(parse_instant("2024-07-26 19:30"), Some(utc("2024-07-26T17:30:00Z")));
        assert_eq!(parse_instant("26/07/2024 19:30:15"), Some(utc("2024-07-26T17:30:15Z")));
        assert_eq!(parse_instant("2024-12-01"), Some(utc("2024-11-30T23:00:00Z")));
        assert_eq!(parse_instant("2024-07-26 25:00"), None);
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("1 200"), Some(1200));
        assert_eq!(parse_count("12,0"), Some(12));
        assert_eq!(parse_count("-1"), None);
        assert_eq!(parse_count("1,5"), None);
    }
}
