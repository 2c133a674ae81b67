//! Identifiers of registry records: parsed once, cheap to clone (shared `Arc<str>`), ordered, and never empty.

use std::fmt;
use std::sync::Arc;

/// Why a text is not an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an identifier cannot be empty")]
    Empty,
    #[error("an identifier has at most 64 characters (this one has {0})")]
    TooLong(usize),
    #[error("an identifier cannot contain spaces or control characters")]
    BadCharacter,
}

/// Checks the rules every identifier follows: 1 to 64 characters, no white space, no control character.
pub fn check_id(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    let n = s.chars().count();
    if n > 64 {
        return Err(IdError::TooLong(n));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdError::BadCharacter);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<(), IdError>) {
        assert_eq!(SiteId::parse(input).map(|_| ()), expect, "input {input:?}");
    }

    #[test]
    fn identifiers() {
        check("DEP-IDF-01", Ok(()));
        check("Stade_de_France", Ok(()));
        check("é", Ok(()));
        check("", Err(IdError::Empty));
        check("a b", Err(IdError::BadCharacter));
        check("a\tb", Err(IdError::BadCharacter));
        check(&"x".repeat(65), Err(IdError::TooLong(65)));
        check(&"x".repeat(64), Ok(()));
    }

    #[test]
    fn serde_round_trip_rejects_bad_ids() {
        let id: SiteId = serde_json::from_str("\"S1\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"S1\"");
        assert!(serde_json::from_str::<SiteId>("\"\"").is_err());
    }
}
