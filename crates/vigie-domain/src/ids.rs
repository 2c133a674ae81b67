//! Identifiers of registry records: parsed once, cheap to clone (shared `Arc<str>`), ordered, and never empty.
//!
//! An identifier is 1 to [`MAX_ID_CHARS`] characters among the ASCII letters `A`–`Z` `a`–`z`, the digits `0`–`9`
//! and `-` `_` `.` `:` `/` `@` `+`, and starts with a letter or a digit. Nothing else: no space, no accent, no
//! character of another script (a Cyrillic `Е` looks like a Latin `E`), no invisible or bidirectional character, so
//! that two identifiers that look alike are alike. The first character rule keeps an identifier from being read as
//! a formula (`+`, `-`, `@`) by a spreadsheet that opens an export, or as an option by a command line.

use crate::text::describe_char;
pub use crate::text::MAX_ID_CHARS;
use std::fmt;
use std::sync::Arc;

/// The characters an identifier may hold, besides ASCII letters and digits.
pub const ID_PUNCTUATION: &str = "-_.:/@+";

/// Why a text is not an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an identifier cannot be empty")]
    Empty,
    #[error("an identifier has at most 64 characters (this one has {0})")]
    TooLong(usize),
    /// A character outside the set, at its 1-based character position.
    #[error(
        "character {position} is {}, not allowed in an identifier (letters A-Z a-z, digits 0-9 and - _ . : / @ +)",
        describe_char(*ch)
    )]
    BadCharacter { position: usize, ch: char },
    /// A character of the set that cannot come first.
    #[error("an identifier starts with a letter or a digit, not '{0}'")]
    BadStart(char),
}

const fn id_bytes() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    let p = ID_PUNCTUATION.as_bytes();
    let mut i = 0;
    while i < p.len() {
        t[p[i] as usize] = true;
        i += 1;
    }
    t
}

/// Bytes allowed in an identifier (all ASCII: a byte ≥ 0x80 is part of a character outside the set).
static ID_BYTE: [bool; 256] = id_bytes();

/// Checks the rules every identifier follows (see the module's documentation).
pub fn check_id(s: &str) -> Result<(), IdError> {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(IdError::Empty);
    };
    if bytes.len() > MAX_ID_CHARS {
        let n = s.chars().count();
        if n > MAX_ID_CHARS {
            return Err(IdError::TooLong(n));
        }
    }
    // Every allowed character is one byte: the first refused byte starts the first refused character, and its
    // index is the number of characters before it.
    if let Some(i) = bytes.iter().position(|&b| !ID_BYTE[b as usize]) {
        let ch = s[i..].chars().next().unwrap_or('\u{FFFD}');
        return Err(IdError::BadCharacter { position: i + 1, ch });
    }
    if !first.is_ascii_alphanumeric() {
        return Err(IdError::BadStart(first as char));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Parses an identifier (see [`check_id`]).
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check_id(s)?;
                Ok(Self(Arc::from(s)))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// An identifier from a shared text the caller has checked ([`check_id`]): snapshots share one
            /// allocation per distinct id.
            pub(crate) fn from_checked(s: Arc<str>) -> Self {
                Self(s)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", &*self.0)
            }
        }
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(/// An organisation: the strategic centre or a tactical support group.
    OrgId);
id_type!(/// A site: depot, base, venue, village, airport…
    SiteId);
id_type!(/// An item of the catalogue.
    ItemId);
id_type!(/// An engaged force (unit).
    ForceId);
id_type!(/// A vehicle.
    VehicleId);
id_type!(/// A technology partner or support group.
    PartnerId);
id_type!(/// A supervised application (OMS, ODS…).
    ApplicationId);
id_type!(/// A computer, server, network device, printer… at a site.
    AssetId);
id_type!(/// A check: one thing tested, by push or actively.
    CheckId);
id_type!(/// A maintenance window.
    WindowId);
id_type!(/// A zone of a site fitted out as one (a results room, a press tribune).
    ZoneId);
id_type!(/// A readiness task.
    TaskId);
id_type!(/// A computer tracked through its deployment: its serial number.
    ComputerId);
id_type!(/// A person who may be told or paged (not only an account): an operator, a duty officer, a venue manager.
    PersonId);
id_type!(/// A team with a roster: a partner's desk, a TOC desk, a venue's IT team, a tactical group's duty officers.
    TeamId);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<(), &str>) {
        assert_eq!(
            SiteId::parse(input).map(|_| ()).map_err(|e| e.to_string()),
            expect.map_err(str::to_string),
            "input {input:?}"
        );
    }

    #[test]
    fn identifiers() {
        check("DEP-IDF-01", Ok(()));
        check("Stade_de_France", Ok(()));
        check("APP-ODS@STA", Ok(()));
        check("a.b:c/d+e", Ok(()));
        check("7e", Ok(()));
        check(&"x".repeat(64), Ok(()));
        check("", Err("an identifier cannot be empty"));
        check(&"x".repeat(65), Err("an identifier has at most 64 characters (this one has 65)"));
        check(&"é".repeat(65), Err("an identifier has at most 64 characters (this one has 65)"));
        const SET: &str = "not allowed in an identifier (letters A-Z a-z, digits 0-9 and - _ . : / @ +)";
        check("X 1", Err(&format!("character 2 is U+0020 SPACE, {SET}")));
        check("a\tb", Err(&format!("character 2 is U+0009 CHARACTER TABULATION, {SET}")));
        check("é", Err(&format!("character 1 is U+00E9 'é' (a Latin letter or sign beyond ASCII), {SET}")));
        // What an attacker sends: an invisible character, a lookalike letter, a right-to-left override.
        check("DEP-VINCENNES\u{200B}", Err(&format!("character 14 is U+200B ZERO WIDTH SPACE, {SET}")));
        check("DEP-VINC\u{415}NNES", Err(&format!("character 9 is U+0415 'Е' (Cyrillic, looks like Latin E), {SET}")));
        check("DEP-\u{202E}SENNECNIV", Err(&format!("character 5 is U+202E RIGHT-TO-LEFT OVERRIDE, {SET}")));
        // Positions count characters: the one before is one byte long, as every allowed character is.
        check("AB\u{FEFF}\u{200B}", Err(&format!("character 3 is U+FEFF ZERO WIDTH NO-BREAK SPACE, {SET}")));
        check("a,b", Err(&format!("character 2 is U+002C ',', {SET}")));
        check("=1+1", Err(&format!("character 1 is U+003D '=', {SET}")));
        check("+33612345678", Err("an identifier starts with a letter or a digit, not '+'"));
        check("-x", Err("an identifier starts with a letter or a digit, not '-'"));
        check("@SUM", Err("an identifier starts with a letter or a digit, not '@'"));
    }

    #[test]
    fn serde_round_trip_rejects_bad_ids() {
        let id: SiteId = serde_json::from_str("\"S1\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"S1\"");
        assert!(serde_json::from_str::<SiteId>("\"\"").is_err());
        let e = serde_json::from_str::<CheckId>("\"PC-1\\u200b\"").unwrap_err().to_string();
        assert!(e.starts_with("character 5 is U+200B ZERO WIDTH SPACE, not allowed in an identifier"), "{e}");
        assert!(serde_json::from_str::<WindowId>("\"MAINT-\\u0415\"").is_err());
    }
}
