//! The registry: what the operations centre knows about organisations, sites, the catalogue, stock, engaged forces,
//! allowances and vehicles. Each record is a plain value; the interchange format (docs/data-format.md) maps one
//! table to each type here.

use crate::geo::LatLon;
use crate::ids::{ForceId, ItemId, OrgId, SiteId, VehicleId};
use crate::quantity::Quantity;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Columns of an imported row that the format does not name: kept, shown, never interpreted.
pub type Attributes = BTreeMap<String, String>;

/// A text that is not one of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected one of {expected}, found {found:?}")]
pub struct UnknownValue {
    pub found: String,
    pub expected: String,
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Parses the value, ignoring case and surrounding spaces.
            pub fn parse(s: &str) -> Result<$name, UnknownValue> {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($text) { return Ok($name::$variant); })+
                Err(UnknownValue {
                    found: s.to_string(),
                    expected: [$($text),+].join(", "),
                })
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_enum!(/// Level of an organisation: the strategic operations centre or a tactical (regional) support group.
    OrgLevel { Strategic = "strategic", Tactical = "tactical" });
text_enum!(/// What a site is.
    SiteKind { Depot = "depot", Base = "base", Venue = "venue", Village = "village", Airport = "airport",
               Hq = "hq", Camp = "camp", Other = "other" });
text_enum!(/// Whether stock or a vehicle can be used.
    Condition { Serviceable = "serviceable", Unserviceable = "unserviceable" });
text_enum!(/// What an allowance is counted per: per person (e.g. 2 plates) or per person and day (e.g. 1 ration).
    AllowanceBasis { Person = "person", PersonDay = "person_day" });

fn is_empty(a: &Attributes) -> bool {
    a.is_empty()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub level: OrgLevel,
    #[serde(default)]
    pub parent_id: Option<OrgId>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub kind: SiteKind,
    pub lat: f64,
    pub lon: f64,
    /// The organisation that supports the site.
    pub organization_id: OrgId,
    #[serde(default)]
    pub city: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

impl Site {
    pub fn position(&self) -> LatLon {
        LatLon { lat: self.lat, lon: self.lon }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: ItemId,
    pub name: String,
    pub category: String,
    pub unit: String,
    pub unit_mass_kg: f64,
    pub unit_volume_m3: f64,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

/// One counted line of stock at a site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockLine {
    pub item_id: ItemId,
    pub quantity: Quantity,
    pub condition: Condition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
    #[serde(deserialize_with = "crate::instant::deserialize")]
    pub counted_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

/// A count of a site's stock: it replaces every line previously counted at that site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockCount {
    pub site_id: SiteId,
    pub lines: Vec<StockLine>,
}

/// An engaged unit and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Force {
    pub id: ForceId,
    pub name: String,
    pub site_id: SiteId,
    pub headcount: u32,
    pub organization_id: OrgId,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

impl Force {
    /// Whether the force is engaged on `day` (both ends included).
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }
}

/// How much of an item each person (or each person and day) is allotted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allowance {
    pub item_id: ItemId,
    pub basis: AllowanceBasis,
    pub quantity: Quantity,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub id: VehicleId,
    pub site_id: SiteId,
    /// Free text in lower case (`truck`, `bus`, `light`…); the travel speed defaults per kind.
    pub kind: String,
    pub seats: u32,
    pub payload_kg: f64,
    pub cargo_m3: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_kmh: Option<f64>,
    pub condition: Condition,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_case_insensitively_and_list_expected_values() {
        assert_eq!(SiteKind::parse(" Venue "), Ok(SiteKind::Venue));
        assert_eq!(AllowanceBasis::parse("person_day"), Ok(AllowanceBasis::PersonDay));
        let err = SiteKind::parse("stadium").unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected one of depot, base, venue, village, airport, hq, camp, other, found \"stadium\""
        );
    }
}
