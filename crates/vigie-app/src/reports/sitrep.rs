//! SITREP: the situation report for the chain of command as of an instant, each part for those who may read it:
//! the IT picture (states by suite and of the sites not OK, from the journalled hard states, as a follower rebuilds
//! them), incidents (open by priority, the major ones, SLA breaches, opened and resolved in the period), the
//! logistics picture (items short within 24 h, plans under way), the decisions of the operations log in the period,
//! and the venues' readiness. The period is the 24 hours before the instant, or since an earlier report.

use super::logstat::logstat_of;
use crate::{AppError, Caller};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::HashSet;
use vigie_domain::access::{Permission, Reach};
use vigie_domain::health::Shown;
use vigie_domain::{Quantity, State};

/// A suite's or a site's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupLine {
    pub id: String,
    pub name: String,
    pub state: Shown,
    pub since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItPicture {
    pub checks: usize,
    pub sites: usize,
    pub suites: Vec<GroupLine>,
    /// Sites not OK, worst first.
    pub sites_not_ok: Vec<GroupLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentLine {
    pub number: String,
    pub short_description: String,
    pub priority: u8,
    pub state: String,
    pub location: String,
    pub major: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub number: String,
    pub clock: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentPicture {
    /// Open incidents by priority, P1 to P5.
    pub open_by_priority: [usize; 5],
    pub open: usize,
    pub major: Vec<IncidentLine>,
    /// P1 and P2 open, then the major ones, at most 30.
    pub worst_open: Vec<IncidentLine>,
    pub opened_in_period: usize,
    pub resolved_in_period: usize,
    pub breaches_in_period: Vec<Breach>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shortfall {
    pub item_id: String,
    pub item: String,
    pub unit: String,
    /// How much is missing within 24 h (positive), and the organisations short.
    pub missing_24h: Quantity,
    pub organizations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanLine {
    pub id: String,
    pub status: String,
    pub destination: String,
    pub purpose: String,
    pub committed_at: DateTime<Utc>,
    pub shipped_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticsPicture {
    pub items_followed: usize,
    pub shortfalls: Vec<Shortfall>,
    pub plans_under_way: Vec<PlanLine>,
    pub lines_on_late_counts: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub at: DateTime<Utc>,
    pub by: String,
    pub text: String,
    pub incident: String,
    pub site: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadinessLine {
    pub site: String,
    pub percent: f64,
    pub state: &'static str,
    pub ready: Option<DateTime<Utc>>,
}

/// The SITREP as of an instant. A part the caller may not read is absent (`null`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sitrep {
    pub at: DateTime<Utc>,
    pub seq: u64,
    pub period_from: DateTime<Utc>,
    pub it: Option<ItPicture>,
    pub incidents: Option<IncidentPicture>,
    pub logistics: Option<LogisticsPicture>,
    pub decisions: Option<Vec<Decision>>,
    pub readiness: Option<Vec<ReadinessLine>>,
}

/// The applications a partner supports; `None`: every one.
pub fn partner_applications(st: &State, caller: &Caller) -> Option<HashSet<String>> {
    let Reach::Partner(p) = &caller.principal.reach else { return None };
    let mine = st.toc.applications.values().filter(|a| a.value.partner_id.as_ref() == Some(p));
    Some(mine.map(|a| a.value.id.to_string()).collect())
}

/// The SITREP of `st` (the journal as of `at`) for the caller, over the period from `since` (24 h before by default).
pub fn sitrep(
    st: &State,
    caller: &Caller,
    at: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    count_every: Duration,
) -> Result<Sitrep, AppError> {
    let p = &caller.principal;
    if !(p.may(Permission::MonitoringRead) || p.may(Permission::IncidentsRead) || p.may(Permission::LogisticsRead)) {
        caller.need(Permission::MonitoringRead)?;
    }
    let from = since.filter(|s| *s < at).unwrap_or(at - Duration::hours(24));
    let in_period = |t: DateTime<Utc>| t > from && t <= at;
    let view = p.view(st);
    let it = p.may(Permission::MonitoringRead).then(|| {
        let live = crate::monitoring::live::Live::new(st, crate::monitoring::live::millis(at));
        let only = partner_applications(st, caller);
        let s = live.lock().summary(crate::monitoring::live::millis(at), only.as_ref());
        let line = |g: &crate::monitoring::live::GroupState| GroupLine {
            id: g.id.to_string(),
            name: g.name.clone(),
            state: g.state,
            since: g.since,
        };
        let mut not_ok: Vec<GroupLine> = s.sites.iter().filter(|g| g.state != Shown::Ok).map(line).collect();
        not_ok.sort_by(|a, b| b.state.severity().cmp(&a.state.severity()).then_with(|| a.id.cmp(&b.id)));
        ItPicture {
            checks: s.checks,
            sites: s.sites.len(),
            suites: s.suites.iter().map(line).collect(),
            sites_not_ok: not_ok,
        }
    });
    let incidents = p.may(Permission::IncidentsRead).then(|| {
        let mut pic = IncidentPicture {
            open_by_priority: [0; 5],
            open: 0,
            major: vec![],
            worst_open: vec![],
            opened_in_period: 0,
            resolved_in_period: 0,
            breaches_in_period: vec![],
        };
        let mut seen = HashSet::new();
        for rec in st.incidents.values().filter(|r| view.incident(&r.value)) {
            let i = &rec.value;
            seen.insert(i.sys_id.as_str());
            let line = || IncidentLine {
                number: i.number.clone(),
                short_description: i.short_description.clone(),
                priority: i.priority,
                state: i.state.label_fr().to_string(),
                location: i.location.clone(),
                major: i.is_major(),
            };
            if let Some(timeline) = st.incident_timeline.get(&i.sys_id) {
                if timeline.first().is_some_and(|t| in_period(t.0)) {
                    pic.opened_in_period += 1;
                }
                let resolved = timeline.windows(2).any(|w| w[0].1.is_open() && !w[1].1.is_open() && in_period(w[1].0));
                pic.resolved_in_period += usize::from(resolved);
            }
            if i.is_major() {
                pic.major.push(line());
            }
            if i.state.is_open() {
                pic.open += 1;
                pic.open_by_priority[(i.priority.clamp(1, 5) - 1) as usize] += 1;
                if i.priority <= 2 || i.is_major() {
                    pic.worst_open.push(line());
                }
            }
        }
        let number = |sys_id: &str| st.incidents.get(sys_id).map(|r| r.value.number.clone()).unwrap_or_default();
        pic.breaches_in_period = st
            .sla_breaches
            .iter()
            .filter(|((sys_id, _), t)| seen.contains(sys_id.as_str()) && in_period(**t))
            .map(|((sys_id, clock), t)| Breach { number: number(sys_id), clock: clock.clone(), at: *t })
            .collect();
        pic.worst_open.sort_by(|a, b| (a.priority, &a.number).cmp(&(b.priority, &b.number)));
        pic.worst_open.truncate(30);
        pic
    });
    let logistics = if p.may(Permission::LogisticsRead) {
        let (scope, org) = super::logstat::scope_for(st, caller, None)?;
        let l = logstat_of(st, at, &scope, org, count_every);
        let mut shortfalls: Vec<Shortfall> = l
            .totals
            .iter()
            .filter(|t| t.balance_24h < Quantity::ZERO)
            .map(|t| Shortfall {
                item_id: t.item_id.clone(),
                item: t.item.clone(),
                unit: t.unit.clone(),
                missing_24h: Quantity::ZERO - t.balance_24h,
                organizations: l
                    .lines
                    .iter()
                    .filter(|x| x.item_id == t.item_id && x.balance_24h < Quantity::ZERO)
                    .map(|x| x.organization.clone())
                    .collect(),
            })
            .collect();
        shortfalls.sort_by(|a, b| a.item_id.cmp(&b.item_id));
        let plans_under_way = st
            .plans
            .values()
            .filter(|r| view.plan(st, &r.value.plan))
            .filter(|r| matches!(r.value.status.as_str(), "committed" | "shipped"))
            .map(|r| PlanLine {
                id: r.value.plan.id.to_string(),
                status: r.value.status.as_str().to_string(),
                destination: r.value.plan.destination.to_string(),
                purpose: r.value.plan.purpose.clone(),
                committed_at: r.value.committed_at,
                shipped_at: r.value.shipped_at,
            })
            .collect();
        Some(LogisticsPicture {
            items_followed: l.totals.len(),
            shortfalls,
            plans_under_way,
            lines_on_late_counts: l.lines_late,
        })
    } else {
        None
    };
    let decisions = (p.may(Permission::IncidentsRead) && view.is_all()).then(|| {
        st.log
            .iter()
            .filter(|e| e.kind == "decision" && in_period(e.at))
            .map(|e| Decision {
                at: e.at,
                by: e.by.clone(),
                text: e.text.clone(),
                incident: e.incident.clone(),
                site: e.site.clone(),
            })
            .collect()
    });
    let readiness = if p.may(Permission::MonitoringRead) && !st.readiness.tasks.is_empty() {
        let cache = crate::readiness::NetworkCache::default();
        let picture = crate::readiness::Picture::new(st, caller, at, &cache)?;
        Some(
            picture
                .summary("site")?
                .into_iter()
                .map(|r| ReadinessLine { site: r.key.clone(), percent: r.percent, state: r.state, ready: r.ready })
                .collect(),
        )
    } else {
        None
    };
    Ok(Sitrep { at, seq: st.last_seq, period_from: from, it, incidents, logistics, decisions, readiness })
}
