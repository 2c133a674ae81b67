//! Status pages per audience (issue 17): what one audience — the partners, the organising committee, the venue
//! managers — is shown without an account, by a link token: the state of the suites and sites chosen for it, and the
//! public updates of the incidents that concern it (their customer-visible comments, never the work notes), in
//! French or English. Decided here from the journal's state and the live monitoring picture; the server renders it.

use crate::monitoring::live::Summary;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use vigie_domain::health::Shown;
use vigie_domain::State;

/// What one audience is shown (from the configuration).
#[derive(Debug, Clone, Default)]
pub struct Audience {
    /// Its name in the configuration (`partenaires`, `cojo`, `sites`).
    pub name: String,
    /// The page's title.
    pub title: String,
    /// Suites shown (none listed: every suite; `show_suites` false: none).
    pub suites: Vec<String>,
    pub show_suites: bool,
    /// Sites shown (none listed: every site; `show_sites` false: none).
    pub sites: Vec<String>,
    pub show_sites: bool,
    /// Only this partner's applications and incidents, when set.
    pub partner: Option<String>,
    /// Whether incidents and their public updates are shown.
    pub incidents: bool,
}

/// A suite or a site on the page.
#[derive(Debug, Clone, Serialize)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub state: Shown,
    /// Since when it is not operational.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
}

/// A public update of an incident.
#[derive(Debug, Clone, Serialize)]
pub struct Update {
    pub at: DateTime<Utc>,
    pub text: String,
}

/// An incident as an audience sees it: its title, where, its priority, since when, resolved when, its public updates.
#[derive(Debug, Clone, Serialize)]
pub struct PublicIncident {
    pub number: String,
    pub title: String,
    pub priority: u8,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub site: String,
    pub opened_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    pub major: bool,
    pub updates: Vec<Update>,
}

/// One audience's page.
#[derive(Debug, Clone, Serialize)]
pub struct StatusPage {
    pub title: String,
    pub at: DateTime<Utc>,
    pub suites: Vec<Component>,
    pub sites: Vec<Component>,
    /// Open incidents, then those resolved in the last 24 hours; most urgent first.
    pub incidents: Vec<PublicIncident>,
}

/// Public updates kept per incident, newest first.
pub const UPDATES_SHOWN: usize = 5;

/// The page of `audience` at `now`, from the state and the live picture.
pub fn page(st: &State, live: &Summary, audience: &Audience, now: DateTime<Utc>) -> StatusPage {
    let listed = |list: &[String], id: &str| list.is_empty() || list.iter().any(|x| x == id);
    let partner_apps: Option<std::collections::HashSet<&str>> = audience.partner.as_deref().map(|p| {
        st.toc
            .applications
            .values()
            .filter(|a| a.value.partner_id.as_ref().is_some_and(|x| x.as_str() == p))
            .map(|a| a.value.id.as_str())
            .collect()
    });
    // A partner's audience: its own suites' states come from its applications.
    let suites: Vec<Component> = if !audience.show_suites {
        Vec::new()
    } else if let Some(apps) = &partner_apps {
        let mut by_suite: std::collections::BTreeMap<&str, Shown> = Default::default();
        for a in live.applications.iter().filter(|a| apps.contains(&*a.id)) {
            let suite = a.suite.as_deref().unwrap_or("");
            if listed(&audience.suites, suite) {
                let e = by_suite.entry(suite).or_insert(Shown::Ok);
                *e = worst(*e, a.state);
            }
        }
        by_suite
            .into_iter()
            .map(|(s, state)| Component { id: s.to_string(), name: s.to_string(), state, since: None })
            .collect()
    } else {
        live.suites
            .iter()
            .filter(|s| listed(&audience.suites, &s.id))
            .map(|s| Component { id: s.id.to_string(), name: s.name.clone(), state: s.state, since: s.since })
            .collect()
    };
    let sites: Vec<Component> = if audience.show_sites {
        live.sites
            .iter()
            .filter(|s| listed(&audience.sites, &s.id))
            .map(|s| Component { id: s.id.to_string(), name: s.name.clone(), state: s.state, since: s.since })
            .collect()
    } else {
        Vec::new()
    };
    let mut incidents: Vec<PublicIncident> = Vec::new();
    if audience.incidents {
        for i in st.incidents.values().map(|i| &i.value) {
            let recent = i.resolved_at.or(i.closed_at).is_some_and(|r| now - r <= Duration::hours(24));
            if !(i.state.is_open() || recent) {
                continue;
            }
            if audience.partner.as_deref().is_some_and(|p| i.assignment_group != p) {
                continue;
            }
            if !audience.sites.is_empty() && !listed(&audience.sites, &i.location) {
                continue;
            }
            if !audience.suites.is_empty() {
                let suite = st.toc.applications.get(i.cmdb_ci.as_str()).map(|a| a.value.suite.as_str());
                if !suite.is_some_and(|s| listed(&audience.suites, s)) {
                    continue;
                }
            }
            let site = st.sites.get(i.location.as_str()).map_or_else(|| i.location.clone(), |s| s.value.name.clone());
            incidents.push(PublicIncident {
                number: i.number.clone(),
                title: i.short_description.clone(),
                priority: i.priority,
                site,
                opened_at: i.opened_at,
                resolved_at: if i.state.is_open() { None } else { i.resolved_at.or(i.closed_at) },
                major: i.is_major(),
                updates: i
                    .comments
                    .iter()
                    .rev()
                    .take(UPDATES_SHOWN)
                    .map(|c| Update { at: c.at, text: c.text.clone() })
                    .collect(),
            });
        }
    }
    incidents.sort_by(|a, b| {
        (a.resolved_at.is_some(), a.priority, std::cmp::Reverse(a.opened_at)).cmp(&(
            b.resolved_at.is_some(),
            b.priority,
            std::cmp::Reverse(b.opened_at),
        ))
    });
    StatusPage { title: audience.title.clone(), at: now, suites, sites, incidents }
}

/// How bad a state reads on a page: down, then degraded, unknown, maintenance, operational.
pub fn severity(s: Shown) -> u8 {
    match s {
        Shown::Critical | Shown::Unreachable => 4,
        Shown::Warning => 3,
        Shown::Unknown => 2,
        Shown::Maintenance => 1,
        Shown::Ok => 0,
    }
}

fn worst(a: Shown, b: Shown) -> Shown {
    if severity(b) > severity(a) {
        b
    } else {
        a
    }
}
