//! Europe/Paris civil time without a time-zone database: CET (UTC+1) in winter, CEST (UTC+2) from the last Sunday of
//! March 01:00 UTC to the last Sunday of October 01:00 UTC (the EU rule, in force since 1996). Exports from French
//! systems carry local times without an offset; this turns them into instants and back.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let first_next =
        if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) }
            .expect("valid date");
    let last = first_next.pred_opt().expect("valid date");
    let back = last.weekday().num_days_from_sunday();
    last - Duration::days(back as i64)
}

fn summer_bounds_utc(year: i32) -> (NaiveDateTime, NaiveDateTime) {
    let start = last_sunday(year, 3).and_hms_opt(1, 0, 0).expect("valid time");
    let end = last_sunday(year, 10).and_hms_opt(1, 0, 0).expect("valid time");
    (start, end)
}

/// The offset from UTC, in hours, at an instant.
pub fn offset_hours(at: DateTime<Utc>) -> i64 {
    let n = at.naive_utc();
    let (s, e) = summer_bounds_utc(n.year());
    if n >= s && n < e {
        2
    } else {
        1
    }
}

/// Paris wall-clock time of an instant.
pub fn to_local(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc() + Duration::hours(offset_hours(at))
}

/// The instant of a Paris wall-clock time. In the autumn hour that happens twice the earlier (summer) instant is
/// chosen; a spring time that does not exist (02:30 on the change day) is read as winter time, i.e. one hour later
/// in summer time, as most systems do.
pub fn from_local(local: NaiveDateTime) -> DateTime<Utc> {
    let summer = Utc.from_utc_datetime(&(local - Duration::hours(2)));
    if offset_hours(summer) == 2 {
        return summer;
    }
    Utc.from_utc_datetime(&(local - Duration::hours(1)))
}

/// Today's date in Paris.
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    to_local(now).date()
}

#[cfg(test)]
fn is_sunday(d: NaiveDate) -> bool {
    d.weekday() == chrono::Weekday::Sun
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn offsets_around_the_changes() {
        // 2024: summer time from 31 March 01:00 UTC to 27 October 01:00 UTC.
        assert!(is_sunday(last_sunday(2024, 3)) && last_sunday(2024, 3).day() == 31);
        assert_eq!(last_sunday(2024, 10).day(), 27);
        assert_eq!(offset_hours(utc("2024-03-31T00:59:59Z")), 1);
        assert_eq!(offset_hours(utc("2024-03-31T01:00:00Z")), 2);
        assert_eq!(offset_hours(utc("2024-10-27T00:59:59Z")), 2);
        assert_eq!(offset_hours(utc("2024-10-27T01:00:00Z")), 1);
        assert_eq!(offset_hours(utc("2024-07-26T17:30:00Z")), 2);
        assert_eq!(offset_hours(utc("2024-12-25T12:00:00Z")), 1);
    }

    #[test]
    fn local_round_trips() {
        // Opening ceremony: 26 July 2024, 19:30 in Paris = 17:30 UTC.
        assert_eq!(from_local(local("2024-07-26 19:30")), utc("2024-07-26T17:30:00Z"));
        assert_eq!(to_local(utc("2024-07-26T17:30:00Z")), local("2024-07-26 19:30"));
        assert_eq!(from_local(local("2024-01-10 08:00")), utc("2024-01-10T07:00:00Z"));
        // Repeated hour in October: the earlier instant.
        assert_eq!(from_local(local("2024-10-27 02:30")), utc("2024-10-27T00:30:00Z"));
        // Missing hour in March: read as winter time.
        assert_eq!(from_local(local("2024-03-31 02:30")), utc("2024-03-31T01:30:00Z"));
    }
}
