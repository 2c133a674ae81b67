//! Incidents, with the field names ServiceNow gives them (docs/incidents.md): the journal records each version of
//! an incident whole, so that replay needs no merge logic and the history is the journal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An append-only journal line of an incident (work note or comment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub by: String,
    pub text: String,
}

/// An incident's state, as ServiceNow numbers it at the edge (the Table API, the journal's payloads): 1 New,
/// 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IncidentState {
    New,
    InProgress,
    OnHold,
    Resolved,
    Closed,
    Canceled,
}

impl IncidentState {
    pub const ALL: [IncidentState; 6] = [
        IncidentState::New,
        IncidentState::InProgress,
        IncidentState::OnHold,
        IncidentState::Resolved,
        IncidentState::Closed,
        IncidentState::Canceled,
    ];

    /// ServiceNow's number.
    pub fn code(self) -> u8 {
        match self {
            IncidentState::New => 1,
            IncidentState::InProgress => 2,
            IncidentState::OnHold => 3,
            IncidentState::Resolved => 6,
            IncidentState::Closed => 7,
            IncidentState::Canceled => 8,
        }
    }

    pub fn from_code(code: u8) -> Option<IncidentState> {
        IncidentState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// ServiceNow's (English) label.
    pub fn label(self) -> &'static str {
        match self {
            IncidentState::New => "New",
            IncidentState::InProgress => "In Progress",
            IncidentState::OnHold => "On Hold",
            IncidentState::Resolved => "Resolved",
            IncidentState::Closed => "Closed",
            IncidentState::Canceled => "Canceled",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            IncidentState::New => "Nouveau",
            IncidentState::InProgress => "En cours",
            IncidentState::OnHold => "En attente",
            IncidentState::Resolved => "Résolu",
            IncidentState::Closed => "Clos",
            IncidentState::Canceled => "Annulé",
        }
    }

    /// New, In Progress or On Hold: someone still has to act.
    pub fn is_open(self) -> bool {
        matches!(self, IncidentState::New | IncidentState::InProgress | IncidentState::OnHold)
    }

    /// Closed or Canceled: only work notes and comments may still be added.
    pub fn is_final(self) -> bool {
        matches!(self, IncidentState::Closed | IncidentState::Canceled)
    }
}

impl std::fmt::Display for IncidentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl Serialize for IncidentState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for IncidentState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = u8::deserialize(d)?;
        IncidentState::from_code(code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown incident state {code} (1, 2, 3, 6, 7 or 8)")))
    }
}

/// An incident record. Codes are ServiceNow's: `state` (see [`IncidentState`]); `impact`, `urgency` 1 High … 3 Low;
/// `priority` 1 Critical … 5 Planning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// 32 lower-case hexadecimal digits.
    pub sys_id: String,
    /// `INC` and 7 digits.
    pub number: String,
    pub short_description: String,
    #[serde(default)]
    pub description: String,
    pub state: IncidentState,
    /// 1 Awaiting Caller, 2 Awaiting Change, 3 Awaiting Problem, 4 Awaiting Vendor, 5 Awaiting Evidence.
    #[serde(default)]
    pub hold_reason: String,
    pub impact: u8,
    pub urgency: u8,
    pub priority: u8,
    #[serde(default)]
    pub category: String,
    /// A partner or support group.
    #[serde(default)]
    pub assignment_group: String,
    #[serde(default)]
    pub assigned_to: String,
    #[serde(default)]
    pub caller_id: String,
    /// An application, asset or check.
    #[serde(default)]
    pub cmdb_ci: String,
    /// A site.
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub parent_incident: String,
    /// The de-duplication key of incidents opened from alerts (`site|application`), as ServiceNow's field.
    #[serde(default)]
    pub correlation_id: String,
    /// Checks whose alerts are attached to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<String>,
    /// Major incident (crisis): `""`, `proposed`, `accepted`, `rejected`.
    #[serde(default)]
    pub major_incident_state: String,
    #[serde(default)]
    pub crisis_lead: String,
    #[serde(default)]
    pub communication_lead: String,
    /// A committed logistics plan the crisis relies on (e.g. water and rations after a catering failure).
    #[serde(default)]
    pub plan_id: String,
    /// Post-incident review.
    #[serde(default)]
    pub review_summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub review_actions: Vec<ReviewAction>,
    #[serde(default)]
    pub close_code: String,
    #[serde(default)]
    pub close_notes: String,
    pub opened_at: DateTime<Utc>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    pub sys_mod_count: u32,
    pub sys_created_on: DateTime<Utc>,
    pub sys_created_by: String,
    pub sys_updated_on: DateTime<Utc>,
    pub sys_updated_by: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub work_notes: Vec<Entry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<Entry>,
}

impl Incident {
    /// A major incident, for the crisis view and the wall alike: proposed or accepted as major, or priority 1.
    pub fn is_major(&self) -> bool {
        matches!(self.major_incident_state.as_str(), "proposed" | "accepted") || self.priority == 1
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDeleted {
    pub sys_id: String,
    pub number: String,
}

/// A line of the operations log (main courante).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// 32 hex.
    pub id: String,
    pub at: DateTime<Utc>,
    /// The shift it belongs to (`2024-07-26 matin`, `… après-midi`, `… nuit`), Europe/Paris 3×8.
    pub shift: String,
    /// The operator on duty who wrote it.
    pub by: String,
    /// `note`, `decision`, `handover`, `signature` (the incoming lead signs the hand-over of `handover_of`).
    pub kind: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub incident: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub site: String,
    /// The shift whose hand-over a `signature` entry signs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub handover_of: String,
}

/// An incident version pushed to the external ServiceNow: the remote record and the version it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSynced {
    pub sys_id: String,
    pub remote_sys_id: String,
    pub sys_mod_count: u32,
    /// Work notes and comments pushed so far (each is sent once, the remote appends it).
    #[serde(default)]
    pub work_notes_pushed: u32,
    #[serde(default)]
    pub comments_pushed: u32,
}

/// An action of a post-incident review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewAction {
    pub text: String,
    pub owner: String,
    pub done: bool,
}

/// An SLA clock of an incident went past its target (recorded once per clock).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaBreached {
    pub sys_id: String,
    pub number: String,
    /// `response` or `resolution`.
    pub clock: String,
    /// When the target was passed.
    pub at: DateTime<Utc>,
    pub priority: u8,
}
