//! The technology operations centre's registry: partners (support groups), applications in suites, assets at sites,
//! checks, dependencies between checks, maintenance windows; and the facts the monitoring journals: hard state
//! changes, flapping, acknowledgements. Raw results are not journalled one by one (docs/monitoring.md).

use crate::health::Status;
use crate::ids::{ApplicationId, AssetId, CheckId, PartnerId, SiteId, WindowId};
use crate::registry::{Attributes, UnknownValue};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

fn is_empty(a: &Attributes) -> bool {
    a.is_empty()
}

text_enum!(/// How a check gets its results.
    CheckKind { Push = "push", Http = "http", Tcp = "tcp", Command = "command" });
text_enum!(/// How much an application matters to the Games.
    Criticality { Critical = "critical", High = "high", Medium = "medium", Low = "low" });

/// A technology partner or support group (the assignment group of incidents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: ApplicationId,
    pub name: String,
    /// The suite it belongs to (`OMS`, `ODS`…).
    pub suite: String,
    pub criticality: Criticality,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
    /// How its state rolls up from its checks (`worst`, `min_ok N`, `percent W C`); `worst` when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rollup: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

/// A computer, server, network device or printer at a site, optionally serving an application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub id: AssetId,
    pub name: String,
    pub kind: String,
    pub site_id: SiteId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<ApplicationId>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub id: CheckId,
    /// What is tested: a URL (http), `host:port` (tcp), a command line (command), a free name (push).
    pub target: String,
    pub kind: CheckKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<ApplicationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<AssetId>,
    pub interval_s: u32,
    pub timeout_s: u32,
    pub max_attempts: u8,
    /// Push checks: without a result for this long, UNKNOWN (default: 3 intervals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<u32>,
    /// http: the expected status code and/or a text the body must contain (`200`, `200 OK`, `~Welcome`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub expect: String,
    /// Alertmanager labels that select this check (`alertname=X,instance=Y`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

impl Check {
    /// The TTL in seconds: the one set, or three intervals for push checks.
    pub fn ttl(&self) -> Option<u32> {
        self.ttl_s.or((self.kind == CheckKind::Push).then(|| self.interval_s.saturating_mul(3)))
    }
}

/// A check (or every check of an asset) depends on parents; several parents in one group are redundant: the
/// dependency fails only when all of them fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// A check or asset id.
    pub child: String,
    /// The group's name (the parent's id for a single parent).
    pub group: String,
    /// Check or asset ids (an asset stands for its checks, failed when they all fail).
    pub parents: Vec<String>,
}

/// What a maintenance window covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "id", rename_all = "lowercase")]
pub enum WindowScope {
    Site(String),
    Application(String),
    Asset(String),
    Check(String),
    Tag(String),
}

/// A maintenance window, one-off or repeated every `every_hours` hours from its start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub id: WindowId,
    pub scope: WindowScope,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl MaintenanceWindow {
    /// Whether the window is open at `t` (a repeated one: in one of its repetitions).
    pub fn open_at(&self, t: DateTime<Utc>) -> bool {
        if t < self.starts_at {
            return false;
        }
        let span = self.ends_at - self.starts_at;
        match self.every_hours {
            Some(h) if h > 0 => {
                let every = chrono::Duration::hours(h as i64).num_seconds();
                chrono::Duration::seconds((t - self.starts_at).num_seconds() % every) < span
            }
            _ => t < self.ends_at,
        }
    }

    /// Whether it covers something named by its id (a site, an application, an asset or a check); a tag names
    /// nothing here.
    pub fn names(&self, id: &str) -> bool {
        match &self.scope {
            WindowScope::Site(s) | WindowScope::Application(s) | WindowScope::Asset(s) | WindowScope::Check(s) => {
                !id.is_empty() && s == id
            }
            WindowScope::Tag(_) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowCancelled {
    pub id: WindowId,
}

/// A hard state change of a check (or the start or end of its flapping), as the monitoring decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckStateChange {
    pub check_id: CheckId,
    pub from: Status,
    pub to: Status,
    pub at: DateTime<Utc>,
    /// The plugin's first line, or why (staleness, Alertmanager).
    #[serde(default)]
    pub output: String,
    #[serde(default)]
    pub during_maintenance: bool,
    /// `Some(true)`: flapping started; `Some(false)`: it stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flapping: Option<bool>,
    #[serde(default)]
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckAcknowledged {
    pub check_id: CheckId,
    #[serde(default)]
    pub comment: String,
}

/// Parses `a=1,b=2` label lists (spaces around tolerated); `None` on an item without `=` or with an empty name.
pub fn parse_labels(text: &str) -> Option<Vec<(String, String)>> {
    let mut v: Vec<(String, String)> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, val) = part.split_once('=')?;
        let k = k.trim();
        if k.is_empty() {
            return None;
        }
        v.push((k.to_string(), val.trim().trim_matches('"').to_string()));
    }
    v.sort();
    Some(v)
}
