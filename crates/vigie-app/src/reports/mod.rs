//! Reports for the chain of command (issue 18), computed from the journal as of an instant so that each is
//! reproducible (`history`): the LOGSTAT (`logstat`), laid out for PDF, XLSX and CSV (`documents`); and, here, the
//! reporting discipline: per organisation and site, when stock was last counted, against the expected frequency
//! (`[reports] count_every_h`); the late ones listed, flagged on the LOGSTAT's lines that rest on them, and reminded
//! through the notification channels (`notify::logistics_due`).

mod documents;
mod history;
mod logstat;
pub mod publish;
mod sitrep;

pub use documents::{logstat_document, paris, sitrep_document};
pub use history::{History, Past};
pub use logstat::{
    changes, logstat, logstat_of, scope_for, scope_name, Logstat, LogstatChange, LogstatChanges, LogstatLine,
};
pub use sitrep::{partner_applications, sitrep, Sitrep};

use crate::{AppError, Caller};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use vigie_domain::access::Permission;
use vigie_domain::State;

/// A site's last count.
#[derive(Debug, Clone, Serialize)]
pub struct SiteCount {
    pub site_id: String,
    pub name: String,
    pub last_count: DateTime<Utc>,
    /// Hours since the last count.
    pub age_hours: f64,
    pub late: bool,
}

/// An organisation's reporting: its sites that hold stock, when they were last counted, the late ones.
#[derive(Debug, Clone, Serialize)]
pub struct OrgReporting {
    pub organization_id: String,
    pub name: String,
    /// Its latest count (when it last reported), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_count: Option<DateTime<Utc>>,
    pub sites: Vec<SiteCount>,
    /// Sites counted longer ago than expected.
    pub late_sites: usize,
}

/// The reporting discipline at an instant.
#[derive(Debug, Clone, Serialize)]
pub struct Discipline {
    pub at: DateTime<Utc>,
    pub expected_hours: f64,
    /// Organisations with a late site, then the others; each one's sites, oldest count first.
    pub organizations: Vec<OrgReporting>,
    pub late_sites: usize,
    pub sites: usize,
}

/// When each site holding stock was last counted (the latest count of its counted lines), by site slot.
pub fn last_counts(st: &State) -> Vec<Option<DateTime<Utc>>> {
    let mut last: Vec<Option<DateTime<Utc>>> = vec![None; st.site_slots.len()];
    for item in st.items.keys() {
        for line in st.item_lines(item).iter().filter(|l| l.counted) {
            let at = line.counted_at();
            let slot = &mut last[line.site as usize];
            if slot.is_none_or(|s| s < at) {
                *slot = Some(at);
            }
        }
    }
    last
}

/// The reporting discipline at `now` for the organisations the caller reaches: each site holding stock, when it was
/// last counted, late past `every`.
pub fn discipline(st: &State, caller: &Caller, now: DateTime<Utc>, every: Duration) -> Result<Discipline, AppError> {
    caller.need(Permission::LogisticsRead)?;
    let view = caller.principal.view(st);
    Ok(discipline_of(st, now, every, |o| view.org(o)))
}

/// The reporting discipline of the organisations `reach` keeps (every one, for the reminders).
pub fn discipline_of(
    st: &State,
    now: DateTime<Utc>,
    every: Duration,
    reach: impl Fn(&vigie_domain::OrgId) -> bool,
) -> Discipline {
    let last = last_counts(st);
    let mut by_org: std::collections::BTreeMap<String, OrgReporting> = Default::default();
    for (slot, at) in last.iter().enumerate() {
        let Some(at) = at else { continue };
        let site_id = st.site_slots.id(slot as u32);
        let Some(site) = st.sites.get(site_id).map(|s| &s.value) else { continue };
        if !reach(&site.organization_id) {
            continue;
        }
        let age = now - *at;
        let org = by_org.entry(site.organization_id.to_string()).or_insert_with(|| OrgReporting {
            organization_id: site.organization_id.to_string(),
            name: st
                .organizations
                .get(&site.organization_id)
                .map_or_else(|| site.organization_id.to_string(), |o| o.value.name.clone()),
            last_count: None,
            sites: Vec::new(),
            late_sites: 0,
        });
        let late = age > every;
        org.late_sites += usize::from(late);
        org.last_count = org.last_count.max(Some(*at));
        org.sites.push(SiteCount {
            site_id: site.id.to_string(),
            name: site.name.clone(),
            last_count: *at,
            age_hours: (age.num_minutes() as f64 / 60.0 * 10.0).round() / 10.0,
            late,
        });
    }
    let mut organizations: Vec<OrgReporting> = by_org.into_values().collect();
    for o in &mut organizations {
        o.sites.sort_by(|a, b| a.last_count.cmp(&b.last_count).then_with(|| a.site_id.cmp(&b.site_id)));
    }
    organizations.sort_by(|a, b| {
        (b.late_sites > 0).cmp(&(a.late_sites > 0)).then_with(|| a.organization_id.cmp(&b.organization_id))
    });
    let late_sites = organizations.iter().map(|o| o.late_sites).sum();
    let sites = organizations.iter().map(|o| o.sites.len()).sum();
    Discipline { at: now, expected_hours: every.num_minutes() as f64 / 60.0, organizations, late_sites, sites }
}
