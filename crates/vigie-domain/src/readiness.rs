//! Venue readiness before the Games (issue 16): the zones of a site (a results room, a press tribune), the tasks
//! that fit them out across trades and owners, the finish-to-start links between tasks ("no table, no PC"), the
//! progress of each task as the journal records it, and computers as tracked assets with their image and deployment
//! state. The records and the facts; scheduling (projected dates, blocking, critical paths) is `vigie-readiness`'s.

use crate::ids::{AssetId, ComputerId, PartnerId, SiteId, TaskId, ZoneId};
use crate::plan::PlanId;
use crate::registry::{Attributes, UnknownValue};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

fn is_empty(a: &Attributes) -> bool {
    a.is_empty()
}

text_enum!(/// The trade a task belongs to.
Trade {
    Furniture = "furniture",
    Power = "power",
    Network = "network",
    Delivery = "delivery",
    Installation = "installation",
    Imaging = "imaging",
    Tests = "tests",
    Results = "results"
});
text_enum!(/// Where a task stands: à faire, en cours, bloquée (with a reason), terminée, vérifiée.
    TaskStatus { Todo = "todo", InProgress = "in_progress", Blocked = "blocked", Done = "done", Verified = "verified" });
text_enum!(/// Who images and supports a computer: the critical systems' integrator (Atos) or another provider.
    ComputerRole { Critical = "critical", Provider = "provider" });
text_enum!(/// A computer's way from the depot to service: en dépôt → livré → installé → imagé → testé → en service.
DeploymentState {
    InDepot = "in_depot",
    Delivered = "delivered",
    Installed = "installed",
    Imaged = "imaged",
    Tested = "tested",
    InService = "in_service"
});

impl TaskStatus {
    /// Finished: done or verified.
    pub fn finished(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Verified)
    }
}

/// A part of a site fitted out as one: a results room, a press tribune, a competition management area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    pub id: ZoneId,
    pub site_id: SiteId,
    pub name: String,
    /// Its kind, which names the template its tasks came from (`results_room`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The image its computers must run (`ODS-RES 4.2`); empty when any will do.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    /// When it must be ready (a test event's date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

/// One task of a zone's fitting-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub site_id: SiteId,
    pub zone_id: ZoneId,
    pub name: String,
    pub trade: Trade,
    /// Who does it: a partner or a team (as a partner of the registry).
    pub owner: PartnerId,
    /// Planned duration, in minutes.
    pub duration_min: u32,
    /// When it must be finished, if it must.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
    /// A delivery done by a logistics plan: receiving the plan finishes the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<PlanId>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

/// `after` cannot start before `before` has finished, plus `lag_min` (finish-to-start). Recorded with `removed` to
/// take a link away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskLink {
    pub before: TaskId,
    pub after: TaskId,
    #[serde(default)]
    pub lag_min: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

/// A task moved: its new status, why (a blocked task's reason), its evidence, and the unfinished predecessors it
/// was moved past when someone overrode the dependencies (journalled, so the override is never silent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskProgress {
    pub task_id: TaskId,
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub evidence: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<TaskId>,
}

/// A task's progress as the journal has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub status: TaskStatus,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub evidence: String,
    /// When it last changed, and by whom.
    pub since: DateTime<Utc>,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

/// A computer delivered, installed and imaged for the Games.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Computer {
    /// Its serial number.
    pub id: ComputerId,
    pub model: String,
    pub site_id: SiteId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<ZoneId>,
    pub role: ComputerRole,
    /// The image it runs, and its version (empty until imaged).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_version: String,
    pub state: DeploymentState,
    /// The monitoring's asset for it, whose checks say whether it is in service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<AssetId>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

impl Computer {
    /// `image version`, as a zone states the image its computers must run.
    pub fn image_label(&self) -> String {
        match (self.image.is_empty(), self.image_version.is_empty()) {
            (true, _) => String::new(),
            (false, true) => self.image.clone(),
            (false, false) => format!("{} {}", self.image, self.image_version),
        }
    }
}

/// Whether `computer` runs what its zone requires: `None` when the zone requires nothing (or it has no zone) or the
/// computer is not imaged yet, else `Some(true)` when its image (with its version when the zone gives one) matches.
pub fn image_compliant(computer: &Computer, zone: Option<&Zone>) -> Option<bool> {
    let required = zone.map(|z| z.image.trim()).filter(|i| !i.is_empty())?;
    if computer.image.is_empty() {
        return None;
    }
    let runs = computer.image_label();
    let same = if required.contains(' ') {
        runs.eq_ignore_ascii_case(required)
    } else {
        computer.image.eq_ignore_ascii_case(required)
    };
    Some(same)
}
