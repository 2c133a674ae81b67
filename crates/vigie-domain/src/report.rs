//! Reports for the chain of command as the journal holds them (issue 18). A report has an id per kind, shift and
//! scope (`LOGSTAT-2024-07-26-apres-midi-national`); each draft is a new **version**, computed as of an instant and
//! sealed by the digest of its figures, so that it can be rebuilt from the journal and checked at any time. A
//! version is approved, then published, by someone holding `reports:approve` other than its drafter; or rejected.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A new version of a report (`report.drafted`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportDrafted {
    pub id: String,
    pub version: u32,
    /// `logstat` or `sitrep`.
    pub kind: String,
    /// The instant it stands at, and the journal's last event then.
    pub at: DateTime<Utc>,
    pub seq: u64,
    /// The organisation it covers (with its children); none: national.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// The period's start (a SITREP), or the earlier instant changes are counted from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// The parts a SITREP holds (`it`, `incidents`, `logistics`, `decisions`, `readiness`): its drafter's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<String>,
    /// BLAKE3 of the report's figures (its JSON), hex.
    pub digest: String,
    /// Its answer in a sentence (French).
    pub summary: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A decision on a version (`report.reviewed`): `approved`, `published` or `rejected`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportReviewed {
    pub id: String,
    pub version: u32,
    pub decision: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// One version and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportVersion {
    #[serde(flatten)]
    pub draft: ReportDrafted,
    pub drafted_by: String,
    pub drafted_at: DateTime<Utc>,
    /// `draft`, `approved`, `published` or `rejected`.
    pub status: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub rejected_by: Option<String>,
    pub review_note: String,
}

/// A report and its versions, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRecord {
    pub id: String,
    pub kind: String,
    pub versions: Vec<ReportVersion>,
}

impl ReportVersion {
    /// A version as drafted by `by` at `at`: a draft, not reviewed.
    pub fn drafted(draft: ReportDrafted, by: String, at: DateTime<Utc>) -> ReportVersion {
        ReportVersion {
            draft,
            drafted_by: by,
            drafted_at: at,
            status: "draft".into(),
            approved_by: None,
            approved_at: None,
            published_by: None,
            published_at: None,
            rejected_by: None,
            review_note: String::new(),
        }
    }
}

impl ReportRecord {
    pub fn latest(&self) -> Option<&ReportVersion> {
        self.versions.last()
    }
}
