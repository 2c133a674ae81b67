//! Notifications (issue 17): every message Vigie sends is an entry of an outbox in the journal — queued, then sent or
//! failed (with the reason and when to try again), and the incident it is about acknowledged — so that a restart
//! resumes what was pending, and an incident's timeline says who was told, when, by which channel, and who
//! acknowledged.

use crate::ids::{PersonId, TeamId};
use crate::registry::UnknownValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum!(/// How a message goes out: by email to the person, to the team's chat channel (an incoming webhook), by SMS
/// or a voice call through the configured gateways.
    Channel { Email = "email", Chat = "chat", Sms = "sms", Voice = "voice" });

/// A message to one person about one incident, at one escalation level (`notification.queued`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// `N-` and the incident's number and level: one message per incident and level, never two.
    pub id: String,
    pub sys_id: String,
    pub number: String,
    pub team_id: TeamId,
    pub level: u8,
    pub person_id: PersonId,
    pub channel: Channel,
    /// The address it goes to.
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Why: a page — `opened` (the incident reached a team), `escalated` (the level before did not acknowledge in
    /// time), `assigned` (it moved to another team), `repeated` (the chain starts again) —, an update to whoever holds it — `priority` (raised),
    /// `sla_warning`, `sla_breach`, `major_proposed`, `major_accepted` —, or `shift` (a warning before a person's
    /// duty starts; no incident).
    pub why: String,
}

/// The channel took the message (`notification.sent`): the SMTP server's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationSent {
    pub id: String,
    #[serde(default)]
    pub detail: String,
}

/// The channel did not take it (`notification.failed`): why, and when to try again (none: given up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationFailed {
    pub id: String,
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
}

/// Someone took the incident in hand (`incident.acknowledged`): escalation stops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledged {
    pub sys_id: String,
    /// The person, when known (a link in a message names them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    /// `ui`, `api`, `link`.
    #[serde(default)]
    pub via: String,
}

/// Where an outbox entry stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Delivery {
    Queued,
    Sent { at: DateTime<Utc>, detail: String },
    Failed { at: DateTime<Utc>, error: String, retry_at: Option<DateTime<Utc>> },
}

/// One outbox entry as the journal leaves it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub notification: Notification,
    pub queued_at: DateTime<Utc>,
    pub attempts: u32,
    #[serde(flatten)]
    pub delivery: Delivery,
}

impl OutboxEntry {
    /// Whether it is to be sent at `now`: queued, or failed with a retry due.
    pub fn due(&self, now: DateTime<Utc>) -> bool {
        match &self.delivery {
            Delivery::Queued => true,
            Delivery::Sent { .. } => false,
            Delivery::Failed { retry_at, .. } => retry_at.is_some_and(|r| r <= now),
        }
    }
}

/// The id of the message about incident `number` at `level` (by email; the chat channel's bears `-chat`).
pub fn notification_id(number: &str, level: u8) -> String {
    format!("N-{number}-{level}")
}
