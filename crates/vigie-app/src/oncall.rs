//! Who is on duty (issue 17): for every team the caller sees (a partner its own, a tactical group its organisations'),
//! each escalation level's person at an instant — an override first, else the rotation's turn — with their contact
//! points and the span of their duty. Filtered by team, site, partner or organisation.

use crate::{AppError, Caller};
use chrono::{DateTime, Utc};
use serde::Serialize;
use vigie_domain::access::Permission;
use vigie_domain::State;

/// What is asked: at an instant, optionally one team, a site's, a partner's or an organisation's teams.
#[derive(Debug, Clone, Default)]
pub struct DutyQuery {
    pub team: Option<String>,
    pub site: Option<String>,
    pub partner: Option<String>,
    pub organization: Option<String>,
}

/// One person on duty for one level of one team.
#[derive(Debug, Clone, Serialize)]
pub struct OnDuty {
    pub team_id: String,
    pub team: String,
    pub level: u8,
    pub person_id: String,
    /// The person's name (the id when the person is not in the registry).
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mobile: String,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Why, when an override put them there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
}

/// Who is on duty at `at` for the teams the caller sees and the query keeps, by team then level. A level with nobody
/// on duty (its rotation not started, no people) is left out.
pub fn on_duty(st: &State, caller: &Caller, q: &DutyQuery, at: DateTime<Utc>) -> Result<Vec<OnDuty>, AppError> {
    let may = |p| caller.principal.may(p);
    if !(may(Permission::LogisticsRead) || may(Permission::MonitoringRead) || may(Permission::IncidentsRead)) {
        caller.need(Permission::IncidentsRead)?;
    }
    let view = caller.principal.view(st);
    let is = |v: Option<&str>, want: &Option<String>| want.as_deref().is_none_or(|w| v == Some(w));
    let mut out = Vec::new();
    for ((team_id, _), rotation) in &st.oncall.rotations {
        let Some(team) = st.oncall.teams.get(team_id).map(|t| &t.value) else { continue };
        if !view.roster(team.partner_id.as_ref(), team.organization_id.as_ref())
            || !is(Some(team.id.as_str()), &q.team)
            || !is(team.site_id.as_ref().map(|s| s.as_str()), &q.site)
            || !is(team.partner_id.as_ref().map(|p| p.as_str()), &q.partner)
            || !is(team.organization_id.as_ref().map(|o| o.as_str()), &q.organization)
        {
            continue;
        }
        let overrides = st
            .oncall
            .overrides
            .range((team_id.clone(), rotation.value.level, DateTime::<Utc>::MIN_UTC)..)
            .take_while(|((t, l, _), _)| t == team_id && *l == rotation.value.level)
            .map(|(_, o)| o);
        let Some(duty) = vigie_domain::oncall::on_duty(&rotation.value, overrides, at) else { continue };
        let person = st.oncall.people.get(duty.person).map(|p| &p.value);
        out.push(OnDuty {
            team_id: team.id.to_string(),
            team: team.name.clone(),
            level: rotation.value.level,
            person_id: duty.person.to_string(),
            name: person.map_or_else(|| duty.person.to_string(), |p| p.name.clone()),
            email: person.map(|p| p.email.clone()).unwrap_or_default(),
            mobile: person.map(|p| p.mobile.clone()).unwrap_or_default(),
            from: duty.from,
            until: duty.until,
            override_reason: duty.reason.map(str::to_string),
            partner_id: team.partner_id.as_ref().map(|p| p.to_string()),
            site_id: team.site_id.as_ref().map(|s| s.to_string()),
            organization_id: team.organization_id.as_ref().map(|o| o.to_string()),
        });
    }
    Ok(out)
}

/// One desk's relief at a hand-over: who hands over to whom, from the roster.
#[derive(Debug, Clone, Serialize)]
pub struct Relief {
    pub team_id: String,
    pub team: String,
    pub outgoing: String,
    pub incoming: String,
}

/// The reliefs at the instant `at` for the operations centre's own desks (teams of no partner), level 1: who was on
/// duty a minute before and who is on duty from then, as the roster has it (the hand-over names them).
pub fn reliefs(st: &State, at: DateTime<Utc>) -> Vec<Relief> {
    let name =
        |id: &vigie_domain::PersonId| st.oncall.people.get(id).map_or_else(|| id.to_string(), |p| p.value.name.clone());
    let mut out = Vec::new();
    for ((team_id, level), rotation) in &st.oncall.rotations {
        let Some(team) = st.oncall.teams.get(team_id).map(|t| &t.value) else { continue };
        if *level != 1 || team.partner_id.is_some() {
            continue;
        }
        let overrides = || st.oncall.overrides.values().filter(|o| &o.team_id == team_id && o.level == 1);
        let before = vigie_domain::oncall::on_duty(&rotation.value, overrides(), at - chrono::Duration::minutes(1));
        let after = vigie_domain::oncall::on_duty(&rotation.value, overrides(), at);
        if let (Some(b), Some(a)) = (before, after) {
            if b.person == a.person {
                continue; // no relief at this desk then
            }
            out.push(Relief {
                team_id: team.id.to_string(),
                team: team.name.clone(),
                outgoing: name(b.person),
                incoming: name(a.person),
            });
        }
    }
    out
}
