//! Fast reading of the instants Vigie writes itself (`2024-07-26T17:30:00Z`, as chrono serializes a whole-second
//! UTC time), with chrono's full RFC 3339 parser as the fallback. Replaying millions of stock lines reads as many.

use chrono::{DateTime, NaiveDate, Utc};

fn two(b: &[u8]) -> Option<u32> {
    let (a, c) = (b[0].wrapping_sub(b'0'), b[1].wrapping_sub(b'0'));
    (a < 10 && c < 10).then(|| (a * 10 + c) as u32)
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` quickly; anything else goes to chrono.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() == 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'Z'
    {
        let year = two(&b[0..2])? * 100 + two(&b[2..4])?;
        let date = NaiveDate::from_ymd_opt(year as i32, two(&b[5..7])?, two(&b[8..10])?)?;
        let t = date.and_hms_opt(two(&b[11..13])?, two(&b[14..16])?, two(&b[17..19])?)?;
        return Some(t.and_utc());
    }
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    parse(&s).ok_or_else(|| serde::de::Error::custom(format!("expected an RFC 3339 instant, found {s:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in ["2024-07-26T17:30:00Z", "1999-12-31T23:59:59Z", "2024-02-29T00:00:00Z"] {
            assert_eq!(parse(s), DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc)), "{s}");
            let back = parse(s).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), format!("\"{s}\""), "chrono writes this form");
        }
        assert_eq!(parse("2024-07-26T19:30:00+02:00"), parse("2024-07-26T17:30:00Z"));
        assert_eq!(parse("2024-07-26T17:30:00.5Z").unwrap().timestamp_subsec_millis(), 500);
        assert_eq!(parse("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse("2024-07-26T25:00:00Z"), None);
        assert_eq!(parse("2024-07-26Tx7:30:00Z"), None);
    }
}
