//! Plans: movements of stock (and the vehicles that carry them) that Vigie has committed. A plan goes
//! `committed` (quantities and vehicles reserved) → `shipped` (in transit) → `received` (at the destination),
//! or `committed` → `cancelled`. Plans move quantities of items between sites; lots are not tracked.

use crate::ids::{ItemId, SiteId, VehicleId};
use crate::quantity::Quantity;
use serde::{Deserialize, Serialize};

/// `P-` followed by the time-ordered id of the event that committed it. Read from JSON, it follows the rules of
/// every identifier ([`crate::ids::check_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PlanId(pub String);

impl<'de> Deserialize<'de> for PlanId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::ids::check_id(&s).map_err(serde::de::Error::custom)?;
        Ok(PlanId(s))
    }
}

impl std::borrow::Borrow<str> for PlanId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PlanId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&self.0)
    }
}

/// One item moved from one site to the plan's destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movement {
    pub from: SiteId,
    pub item_id: ItemId,
    pub quantity: Quantity,
    /// The vehicle that carries it, when the plan says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_id: Option<VehicleId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Committed,
    Shipped,
    Received,
    Cancelled,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Committed => "committed",
            PlanStatus::Shipped => "shipped",
            PlanStatus::Received => "received",
            PlanStatus::Cancelled => "cancelled",
        }
    }
    /// Whether the plan still holds its vehicles (committed or on the road).
    pub fn is_active(self) -> bool {
        matches!(self, PlanStatus::Committed | PlanStatus::Shipped)
    }
}

/// A committed plan, as the journal records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub id: PlanId,
    pub destination: SiteId,
    pub movements: Vec<Movement>,
    /// Vehicles reserved by the plan (those of the movements, and any others it names).
    #[serde(default)]
    pub vehicles: Vec<VehicleId>,
    /// What it is for (`reinforce`, `deploy`, `manual`…).
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub note: String,
}

/// A step of a plan's life after its commitment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    pub plan_id: PlanId,
}

/// A shift of effort: the sites named (and the forces on them that `from` supported) are supported by `to` from now on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportShift {
    pub from: crate::ids::OrgId,
    pub to: crate::ids::OrgId,
    pub sites: Vec<SiteId>,
    #[serde(default)]
    pub reason: String,
}
