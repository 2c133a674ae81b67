//! The journal's events. Every change to Vigie's state is one of these, wrapped in an [`Envelope`] that says who
//! made it, when, on which node and from which source. Stored as `kind` (a stable dotted name) plus `payload` (JSON).

use crate::registry::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

/// Who made a change: `user:NAME`, `token:NAME`, `cli:LOGIN`, `system:demo`…
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Actor(Arc<str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an actor is a non-empty text of at most 128 characters without control characters")]
pub struct ActorError;

impl Actor {
    pub fn parse(s: &str) -> Result<Actor, ActorError> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 128 || t.chars().any(char::is_control) {
            return Err(ActorError);
        }
        Ok(Actor(Arc::from(t)))
    }
    pub fn system(what: &str) -> Actor {
        Actor(Arc::from(format!("system:{what}")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Actor {
    type Error = ActorError;
    fn try_from(s: String) -> Result<Actor, ActorError> {
        Actor::parse(&s)
    }
}
impl From<Actor> for String {
    fn from(a: Actor) -> String {
        a.0.to_string()
    }
}
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event kind {0:?}")]
    UnknownKind(String),
    #[error("bad payload for {kind}: {source}")]
    Payload { kind: String, source: serde_json::Error },
}

macro_rules! events {
    ($($variant:ident($ty:ty) = $kind:literal),+ $(,)?) => {
        /// A change to the state. The variant names are past tense: the journal records facts.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event { $($variant($ty)),+ }

        impl Event {
            /// The stable name stored in the journal's `kind` column.
            pub fn kind(&self) -> &'static str {
                match self { $(Event::$variant(_) => $kind),+ }
            }
            /// Every kind this build knows.
            pub const KINDS: &'static [&'static str] = &[$($kind),+];
            /// The payload as JSON text.
            pub fn payload_json(&self) -> String {
                match self {
                    $(Event::$variant(p) => serde_json::to_string(p)),+
                }
                .expect("events always serialize")
            }
            /// The payload as a JSON value.
            pub fn payload_value(&self) -> serde_json::Value {
                match self {
                    $(Event::$variant(p) => serde_json::to_value(p)),+
                }
                .expect("events always serialize")
            }
            /// Rebuilds an event from its stored kind and payload.
            pub fn decode(kind: &str, payload: &str) -> Result<Event, DecodeError> {
                match kind {
                    $($kind => serde_json::from_str(payload).map(Event::$variant)
                        .map_err(|source| DecodeError::Payload { kind: kind.to_string(), source }),)+
                    other => Err(DecodeError::UnknownKind(other.to_string())),
                }
            }
        }
    };
}

events! {
    OrganizationUpserted(Organization) = "organization.upserted",
    SiteUpserted(Site) = "site.upserted",
    ItemUpserted(Item) = "item.upserted",
    StockCounted(StockCount) = "stock.counted",
    ForceUpserted(Force) = "force.upserted",
    AllowanceSet(Allowance) = "allowance.set",
    VehicleUpserted(Vehicle) = "vehicle.upserted",
    PlanCommitted(crate::plan::Plan) = "plan.committed",
    PlanShipped(crate::plan::PlanStep) = "plan.shipped",
    PlanReceived(crate::plan::PlanStep) = "plan.received",
    PlanCancelled(crate::plan::PlanStep) = "plan.cancelled",
    SupportShifted(crate::plan::SupportShift) = "support.shifted",
    PartnerUpserted(crate::toc::Partner) = "partner.upserted",
    ApplicationUpserted(crate::toc::Application) = "application.upserted",
    AssetUpserted(crate::toc::Asset) = "asset.upserted",
    CheckUpserted(crate::toc::Check) = "check.upserted",
    DependencySet(crate::toc::Dependency) = "dependency.set",
    MaintenanceScheduled(crate::toc::MaintenanceWindow) = "maintenance.scheduled",
    MaintenanceCancelled(crate::toc::WindowCancelled) = "maintenance.cancelled",
    CheckStateChanged(crate::toc::CheckStateChange) = "check.state_changed",
    CheckAcknowledged(crate::toc::CheckAcknowledged) = "check.acknowledged",
    IncidentRecorded(Box<crate::itsm::Incident>) = "incident.recorded",
    IncidentDeleted(crate::itsm::IncidentDeleted) = "incident.deleted",
    LogEntryAdded(crate::itsm::LogEntry) = "log.entry_added",
    IncidentSynced(crate::itsm::IncidentSynced) = "incident.synced",
    SlaBreached(crate::itsm::SlaBreached) = "incident.sla_breached",
    UserUpserted(crate::access::User) = "user.upserted",
    TokenIssued(crate::access::TokenIssued) = "token.issued",
    TokenRevoked(crate::access::TokenRevoked) = "token.revoked",
    SessionOpened(crate::access::SessionOpened) = "session.opened",
    SessionClosed(crate::access::SessionClosed) = "session.closed",
    AccessDenied(crate::access::AccessDenied) = "access.denied",
    ZoneUpserted(crate::readiness::Zone) = "zone.upserted",
    TaskUpserted(crate::readiness::Task) = "task.upserted",
    TaskLinked(crate::readiness::TaskLink) = "task.linked",
    TaskProgressed(crate::readiness::TaskProgress) = "task.progressed",
    ComputerUpserted(crate::readiness::Computer) = "computer.upserted",
    PersonUpserted(crate::oncall::Person) = "person.upserted",
    TeamUpserted(crate::oncall::Team) = "team.upserted",
    RotationSet(crate::oncall::Rotation) = "rotation.set",
    OverrideSet(crate::oncall::Override) = "override.set",
    NotificationQueued(crate::notify::Notification) = "notification.queued",
    NotificationSent(crate::notify::NotificationSent) = "notification.sent",
    NotificationFailed(crate::notify::NotificationFailed) = "notification.failed",
    IncidentAcknowledged(crate::notify::Acknowledged) = "incident.acknowledged",
    ReportDrafted(crate::report::ReportDrafted) = "report.drafted",
    ReportReviewed(crate::report::ReportReviewed) = "report.reviewed",
}

impl Event {
    /// The payload as shown outside the journal (HTTP, command line): password and token hashes are left out.
    pub fn shown_payload(&self) -> serde_json::Value {
        let mut v = self.payload_value();
        if let (Event::UserUpserted(_) | Event::TokenIssued(_), serde_json::Value::Object(m)) = (self, &mut v) {
            for secret in ["password_hash", "hash"] {
                if let Some(h) = m.get_mut(secret) {
                    *h = serde_json::Value::String("(hidden)".into());
                }
            }
        }
        v
    }

    /// Whether the event records a decision on the TOC's states (a hard state, an acknowledgement).
    pub fn changes_toc_states(&self) -> bool {
        matches!(self, Event::CheckStateChanged(_) | Event::CheckAcknowledged(_))
    }

    /// Whether the event changes the TOC's registry (what is supervised and how), as opposed to its states.
    pub fn changes_toc_registry(&self) -> bool {
        matches!(
            self,
            Event::PartnerUpserted(_)
                | Event::ApplicationUpserted(_)
                | Event::AssetUpserted(_)
                | Event::CheckUpserted(_)
                | Event::DependencySet(_)
                | Event::MaintenanceScheduled(_)
                | Event::MaintenanceCancelled(_)
                | Event::SiteUpserted(_)
        )
    }
}

/// An event on its way to the journal: the journal adds sequence, id, time and origin.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub actor: Actor,
    /// Which file or API call produced it, e.g. `import:stock.csv` or `POST /api/v1/import`.
    pub source: String,
    pub event: Event,
}

/// An event as the journal holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Position in the journal, from 1, without gaps.
    pub seq: u64,
    /// UUIDv7: unique across nodes, ordered by time.
    pub id: Uuid,
    /// When it was appended.
    pub time: DateTime<Utc>,
    pub actor: Actor,
    /// The node that appended it.
    pub origin: Arc<str>,
    pub source: Arc<str>,
    pub event: Event,
}

impl Serialize for Envelope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Envelope", 8)?;
        st.serialize_field("seq", &self.seq)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("time", &self.time)?;
        st.serialize_field("actor", &self.actor)?;
        st.serialize_field("origin", &self.origin)?;
        st.serialize_field("source", &self.source)?;
        st.serialize_field("kind", self.event.kind())?;
        st.serialize_field("payload", &self.event.shown_payload())?;
        st.end()
    }
}

/// Which journal events an audit question asks for: by whom, about what, when (every part optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// This actor (`user:alice`, `system:demo`…), and what it did through its tokens (`user:alice/token:ID`).
    pub actor: Option<String>,
    /// Events whose payload names this object: a field whose value is exactly it (a site, an item, a check, an
    /// incident number or sys_id, a plan…).
    pub object: Option<String>,
    /// From this instant on, included.
    pub since: Option<DateTime<Utc>>,
    /// Before this instant, excluded.
    pub until: Option<DateTime<Utc>>,
}

impl AuditFilter {
    pub fn matches(&self, e: &Envelope) -> bool {
        self.actor.as_deref().is_none_or(|a| {
            let actor = e.actor.as_str();
            actor == a || actor.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'))
        }) && self.since.is_none_or(|t| e.time >= t)
            && self.until.is_none_or(|t| e.time < t)
            && self.object.as_deref().is_none_or(|o| mentions(&e.event.payload_value(), o))
    }
}

fn mentions(v: &serde_json::Value, object: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s == object,
        serde_json::Value::Array(a) => a.iter().any(|x| mentions(x, object)),
        serde_json::Value::Object(m) => m.values().any(|x| mentions(x, object)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::*;

    #[test]
    fn events_round_trip_through_kind_and_payload() {
        let e = Event::OrganizationUpserted(Organization {
            id: OrgId::parse("GSBDD-IDF").unwrap(),
            name: "GSBdD Île-de-France".into(),
            level: OrgLevel::Tactical,
            parent_id: Some(OrgId::parse("CPCO").unwrap()),
            attributes: Attributes::new(),
        });
        let back = Event::decode(e.kind(), &e.payload_json()).unwrap();
        assert_eq!(back, e);
        assert!(matches!(Event::decode("nope", "{}"), Err(DecodeError::UnknownKind(_))));
        assert!(matches!(Event::decode("site.upserted", "{}"), Err(DecodeError::Payload { .. })));
    }

    #[test]
    fn audit_filters_by_actor_object_and_time() {
        let site = |id: &str| {
            Event::SiteUpserted(Site {
                id: crate::ids::SiteId::parse(id).unwrap(),
                name: "Stade".into(),
                kind: SiteKind::Venue,
                lat: 48.9,
                lon: 2.36,
                organization_id: OrgId::parse("GS-IDF").unwrap(),
                city: String::new(),
                attributes: Attributes::new(),
            })
        };
        let t = |h: u32| chrono::NaiveDate::from_ymd_opt(2024, 7, 26).unwrap().and_hms_opt(h, 0, 0).unwrap().and_utc();
        let env = |seq: u64, actor: &str, hour: u32, event: Event| Envelope {
            seq,
            id: Uuid::nil(),
            time: t(hour),
            actor: Actor::parse(actor).unwrap(),
            origin: "n".into(),
            source: "s".into(),
            event,
        };
        let events = [
            env(1, "user:alice", 8, site("STA")),
            env(2, "user:bob", 9, site("STA-PC")),
            env(3, "user:bob", 10, site("MRS")),
            env(4, "user:bob/token:t1", 11, site("MRS")),
        ];
        let ask = |f: AuditFilter| events.iter().filter(|e| f.matches(e)).map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(ask(AuditFilter::default()), [1, 2, 3, 4]);
        assert_eq!(ask(AuditFilter { actor: Some("user:bob".into()), ..Default::default() }), [2, 3, 4]);
        assert_eq!(ask(AuditFilter { actor: Some("user:bob/token:t1".into()), ..Default::default() }), [4]);
        assert_eq!(
            ask(AuditFilter { actor: Some("user:bo".into()), ..Default::default() }),
            Vec::<u64>::new(),
            "whole names"
        );
        assert_eq!(ask(AuditFilter { object: Some("STA".into()), ..Default::default() }), [1], "exact values only");
        assert_eq!(ask(AuditFilter { object: Some("GS-IDF".into()), ..Default::default() }), [1, 2, 3, 4]);
        assert_eq!(ask(AuditFilter { since: Some(t(9)), until: Some(t(10)), ..Default::default() }), [2]);
    }

    #[test]
    fn actors() {
        assert!(Actor::parse("user:alice").is_ok());
        assert!(Actor::parse("  ").is_err());
        assert!(Actor::parse("a\nb").is_err());
    }
}
