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

/// One span of one person's duty in a calendar.
#[derive(Debug, Clone, Serialize)]
pub struct Span {
    pub person_id: String,
    pub name: String,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Why, when an override put them there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The override's own start (its key, to take it back), when an override put them there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_from: Option<DateTime<Utc>>,
}

/// A person of a rotation.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: String,
    pub name: String,
}

/// A level of a team over a span of time: its rotation and who holds it when.
#[derive(Debug, Clone, Serialize)]
pub struct LevelCalendar {
    pub level: u8,
    /// `shift` (3×8), `daily`, `weekly`.
    pub period: String,
    /// The rotation's first hand-over.
    pub starts_at: DateTime<Utc>,
    /// The people taking turns, in order.
    pub people: Vec<Member>,
    pub spans: Vec<Span>,
    /// The spans stop before the end asked for (more than [`MAX_CALENDAR_STEPS`]): ask for fewer days.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// A team's calendar.
#[derive(Debug, Clone, Serialize)]
pub struct TeamCalendar {
    pub team_id: String,
    pub team: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// The chat channel its pages go to (a webhook of the configuration), if any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub webhook: String,
    pub levels: Vec<LevelCalendar>,
}

/// Longest calendar answered at once.
pub const MAX_CALENDAR_DAYS: i64 = 31;

/// Spans of one level answered at once, at most.
pub const MAX_CALENDAR_STEPS: usize = 2_000;

/// Who holds each level of each team the caller sees (or one team) from `from` to `until`, span by span: the
/// rotation's turns, cut where an override begins and ends. At most [`MAX_CALENDAR_DAYS`].
pub fn calendar(
    st: &State,
    caller: &Caller,
    team: Option<&str>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<TeamCalendar>, AppError> {
    on_duty(st, caller, &DutyQuery::default(), from)?; // the same right to read
    if until <= from || until - from > chrono::Duration::days(MAX_CALENDAR_DAYS) {
        return Err(AppError::field("days", format!("a span of 1 to {MAX_CALENDAR_DAYS} days")));
    }
    let view = caller.principal.view(st);
    let name =
        |id: &vigie_domain::PersonId| st.oncall.people.get(id).map_or_else(|| id.to_string(), |p| p.value.name.clone());
    let mut out: Vec<TeamCalendar> = Vec::new();
    for ((team_id, level), rotation) in &st.oncall.rotations {
        let Some(t) = st.oncall.teams.get(team_id).map(|t| &t.value) else { continue };
        if !view.roster(t.partner_id.as_ref(), t.organization_id.as_ref()) || team.is_some_and(|w| w != t.id.as_str()) {
            continue;
        }
        let overrides: Vec<&vigie_domain::oncall::Override> =
            st.oncall.overrides.values().filter(|o| &o.team_id == team_id && o.level == *level).collect();
        let mut spans: Vec<Span> = Vec::new();
        let mut at = from.max(rotation.value.starts_at);
        // Each step ends a span: at a turn's end, or where an override begins; bounded however the roster is made.
        let mut truncated = true;
        for _ in 0..MAX_CALENDAR_STEPS {
            if at >= until {
                truncated = false;
                break;
            }
            let Some(duty) = vigie_domain::oncall::on_duty(&rotation.value, overrides.iter().copied(), at) else {
                truncated = false;
                break;
            };
            let cut = overrides.iter().map(|o| o.from).filter(|f| *f > at && *f < duty.until).min();
            let end = cut.unwrap_or(duty.until).min(until);
            match spans.last_mut() {
                Some(last) if last.person_id == duty.person.as_str() && last.until == at && duty.reason.is_none() => {
                    last.until = end;
                }
                _ => spans.push(Span {
                    person_id: duty.person.to_string(),
                    name: name(duty.person),
                    from: at,
                    until: end,
                    reason: duty.reason.map(str::to_string),
                    override_from: duty.reason.map(|_| duty.from),
                }),
            }
            at = end;
        }
        let lc = LevelCalendar {
            truncated: truncated && at < until,
            level: *level,
            period: rotation.value.period.as_str().to_string(),
            starts_at: rotation.value.starts_at,
            people: rotation.value.people.iter().map(|p| Member { id: p.to_string(), name: name(p) }).collect(),
            spans,
        };
        match out.last_mut() {
            Some(tc) if tc.team_id == t.id.as_str() => tc.levels.push(lc),
            _ => out.push(TeamCalendar {
                team_id: t.id.to_string(),
                team: t.name.clone(),
                partner_id: t.partner_id.as_ref().map(|p| p.to_string()),
                organization_id: t.organization_id.as_ref().map(|o| o.to_string()),
                site_id: t.site_id.as_ref().map(|s| s.to_string()),
                webhook: t.attributes.get("webhook").cloned().unwrap_or_default(),
                levels: vec![lc],
            }),
        }
    }
    Ok(out)
}

/// An override asked for from the UI or the API: a person on duty for a span (a swap, a replacement), or one taken
/// back (`removed`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    pub team_id: String,
    pub level: u8,
    pub from: String,
    pub until: String,
    pub person_id: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub removed: bool,
}

/// Longest override.
pub const MAX_OVERRIDE_DAYS: i64 = 31;

/// Puts a person on duty for a span (or takes an override back), journalled with who did it: needs
/// `rosters:write` and a team the caller's roster reaches, a level the team has, a known person, a span of at most
/// [`MAX_OVERRIDE_DAYS`] days; a reason of at most 200 characters. Each problem is located at its field.
pub fn set_override(
    journal: &vigie_journal::Journal,
    caller: &Caller,
    req: OverrideRequest,
) -> Result<vigie_domain::oncall::Override, AppError> {
    caller.need(Permission::RostersWrite)?;
    let from =
        crate::when::parse_instant("from", Some(&req.from))?.ok_or_else(|| AppError::field("from", "required"))?;
    let from = crate::when::plausible("from", from)?;
    let until =
        crate::when::parse_instant("until", Some(&req.until))?.ok_or_else(|| AppError::field("until", "required"))?;
    let until = crate::when::plausible("until", until)?;
    if until <= from || until - from > chrono::Duration::days(MAX_OVERRIDE_DAYS) {
        return Err(AppError::field("until", format!("after `from`, within {MAX_OVERRIDE_DAYS} days of it")));
    }
    if req.reason.chars().count() > 200 {
        return Err(AppError::field("reason", "at most 200 characters"));
    }
    crate::limits::name("reason", &req.reason)?;
    let team_id =
        vigie_domain::ids::TeamId::parse(&req.team_id).map_err(|e| AppError::field("team_id", e.to_string()))?;
    let person_id =
        vigie_domain::PersonId::parse(&req.person_id).map_err(|e| AppError::field("person_id", e.to_string()))?;
    let caller = caller.clone();
    let (_, o) = journal.execute(move |st| {
        let team = st.oncall.teams.get(&team_id).map(|t| &t.value);
        let view = caller.principal.view(st);
        let Some(team) = team.filter(|t| view.roster(t.partner_id.as_ref(), t.organization_id.as_ref())) else {
            return Err(AppError::not_found("team", &team_id));
        };
        if !st.oncall.rotations.contains_key(&(team.id.clone(), req.level)) {
            return Err(AppError::field("level", format!("{} has no level {}", team.id, req.level)));
        }
        let Some(person) = st.oncall.people.get(&person_id) else {
            return Err(AppError::field("person_id", format!("unknown person {person_id}")));
        };
        if !vigie_domain::oncall::may_hold(st, team, &person.value) {
            return Err(AppError::field(
                "person_id",
                format!("{person_id} may not hold {}'s duty (another partner or organisation)", team.id),
            ));
        }
        let key = (team.id.clone(), req.level, from);
        if req.removed && !st.oncall.overrides.contains_key(&key) {
            return Err(AppError::not_found("override", format!("{} {} {}", team.id, req.level, req.from)));
        }
        let o = vigie_domain::oncall::Override {
            team_id: team.id.clone(),
            level: req.level,
            from,
            until,
            person_id,
            reason: req.reason.trim().to_string(),
            removed: req.removed,
        };
        Ok((vec![caller.event(vigie_domain::Event::OverrideSet(o.clone()))], o))
    })?;
    Ok(o)
}

/// A rotation set from the UI or the API: who takes turns at one level of a team, how often, from which hand-over.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationRequest {
    pub team_id: String,
    pub level: u8,
    /// `shift` (3×8), `daily`, `weekly`.
    pub period: String,
    /// The first hand-over (RFC 3339 or `YYYY-MM-DD HH:MM`, Paris).
    pub starts_at: String,
    /// Person ids, in the order they take turns.
    pub people: Vec<String>,
}

/// People in one rotation, at most.
pub const MAX_ROTATION_PEOPLE: usize = 100;

/// Sets who takes turns at a level of a team (a new level, or a change of people, order, period or first
/// hand-over), journalled with who did it: needs `rosters:write`, a team the caller's roster reaches, a level from 1
/// to 9, known people (1 to [`MAX_ROTATION_PEOPLE`], each once). Each problem is located at its field.
pub fn set_rotation(
    journal: &vigie_journal::Journal,
    caller: &Caller,
    req: RotationRequest,
) -> Result<vigie_domain::oncall::Rotation, AppError> {
    caller.need(Permission::RostersWrite)?;
    let period = vigie_domain::oncall::Period::parse(&req.period).map_err(|e| {
        let shown: String = e.found.chars().take(40).collect();
        AppError::field("period", format!("{shown:?}: expected {}", e.expected))
    })?;
    let starts_at = crate::when::parse_instant("starts_at", Some(&req.starts_at))?
        .ok_or_else(|| AppError::field("starts_at", "required"))?;
    let starts_at = crate::when::plausible("starts_at", starts_at)?;
    if !(1..=9).contains(&req.level) {
        return Err(AppError::field("level", "from 1 to 9"));
    }
    if req.people.is_empty() || req.people.len() > MAX_ROTATION_PEOPLE {
        return Err(AppError::field("people", format!("from 1 to {MAX_ROTATION_PEOPLE} people")));
    }
    let mut people = Vec::with_capacity(req.people.len());
    for p in &req.people {
        let id = vigie_domain::PersonId::parse(p).map_err(|e| AppError::field("people", e.to_string()))?;
        if people.contains(&id) {
            return Err(AppError::field("people", format!("{id} is listed twice")));
        }
        people.push(id);
    }
    let team_id =
        vigie_domain::ids::TeamId::parse(&req.team_id).map_err(|e| AppError::field("team_id", e.to_string()))?;
    let caller = caller.clone();
    let (_, r) = journal.execute(move |st| {
        let team = st.oncall.teams.get(&team_id).map(|t| &t.value);
        let view = caller.principal.view(st);
        let Some(team) = team.filter(|t| view.roster(t.partner_id.as_ref(), t.organization_id.as_ref())) else {
            return Err(AppError::not_found("team", &team_id));
        };
        for p in &people {
            let Some(person) = st.oncall.people.get(p) else {
                return Err(AppError::field("people", format!("unknown person {p}")));
            };
            if !vigie_domain::oncall::may_hold(st, team, &person.value) {
                return Err(AppError::field(
                    "people",
                    format!("{p} may not hold {}'s duty (another partner or organisation)", team.id),
                ));
            }
        }
        let r =
            vigie_domain::oncall::Rotation { team_id: team.id.clone(), level: req.level, period, starts_at, people };
        Ok((vec![caller.event(vigie_domain::Event::RotationSet(r.clone()))], r))
    })?;
    Ok(r)
}

/// An optional identifier of a request (absent or blank: none), refused at its field when malformed.
fn optional_id<T, E: std::fmt::Display>(
    field: &str,
    value: &Option<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, AppError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => parse(v).map(Some).map_err(|e| AppError::field(field, e.to_string())),
        None => Ok(None),
    }
}

/// A person written from the UI or the API: their contact points and whom they work for.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRequest {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub email: String,
    /// As people write it (`06 12 34 56 78`): kept international (`+33612345678`).
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub chat: String,
    #[serde(default)]
    pub partner_id: Option<String>,
    #[serde(default)]
    pub organization_id: Option<String>,
}

/// The people the caller's roster reaches (a partner its own, a tactical group its organisations'), by name.
pub fn people<'s>(st: &'s State, caller: &Caller) -> Result<Vec<&'s vigie_domain::oncall::Person>, AppError> {
    on_duty(st, caller, &DutyQuery::default(), Utc::now())?; // the same right to read
    let view = caller.principal.view(st);
    let mut out: Vec<&vigie_domain::oncall::Person> = st
        .oncall
        .people
        .values()
        .map(|p| &p.value)
        .filter(|p| view.roster(p.partner_id.as_ref(), p.organization_id.as_ref()))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// Writes a person (new, or their contact points changed), journalled with who did it: needs `rosters:write` and
/// the caller's roster to reach the person as they are and as they would be; a known partner or organisation; an
/// address `name@domain`; a mobile number read as people write it and kept international. Each problem is located at
/// its field.
pub fn set_person(
    journal: &vigie_journal::Journal,
    caller: &Caller,
    req: PersonRequest,
) -> Result<vigie_domain::oncall::Person, AppError> {
    caller.need(Permission::RostersWrite)?;
    let id = vigie_domain::PersonId::parse(&req.id).map_err(|e| AppError::field("id", e.to_string()))?;
    let name = req.name.trim().to_string();
    if name.is_empty() {
        return Err(AppError::field("name", "required"));
    }
    crate::limits::name("name", &name)?;
    let email = req.email.trim().to_string();
    crate::limits::name("email", &email)?;
    if !email.is_empty() && !vigie_import::is_address(&email) {
        return Err(AppError::field("email", "expected an address name@domain"));
    }
    let mobile = match req.mobile.trim() {
        "" => String::new(),
        m => vigie_import::international(m).ok_or_else(|| {
            AppError::field("mobile", "expected a telephone number (+33 6 12 34 56 78, 06 12 34 56 78)")
        })?,
    };
    let chat = req.chat.trim().to_string();
    crate::limits::name("chat", &chat)?;
    let partner_id = optional_id("partner_id", &req.partner_id, vigie_domain::PartnerId::parse)?;
    let organization_id = optional_id("organization_id", &req.organization_id, vigie_domain::OrgId::parse)?;
    let caller = caller.clone();
    let (_, p) = journal.execute(move |st| {
        if let Some(p) = &partner_id {
            if !st.toc.partners.contains_key(p) {
                return Err(AppError::field("partner_id", format!("unknown partner {p}")));
            }
        }
        if let Some(o) = &organization_id {
            if !st.organizations.contains_key(o) {
                return Err(AppError::field("organization_id", format!("unknown organisation {o}")));
            }
        }
        let view = caller.principal.view(st);
        let before = st.oncall.people.get(&id).map(|p| &p.value);
        let reaches = |p: Option<&vigie_domain::PartnerId>, o: Option<&vigie_domain::OrgId>| view.roster(p, o);
        if before.is_some_and(|b| !reaches(b.partner_id.as_ref(), b.organization_id.as_ref()))
            || !reaches(partner_id.as_ref(), organization_id.as_ref())
        {
            return Err(AppError::Forbidden(crate::Reason::new(
                "forbidden.outside",
                [("kind", "person".to_string()), ("id", id.to_string())],
                format!("person {id} is outside your reach (as they are, or as they would be)"),
            )));
        }
        let attributes = before.map(|b| b.attributes.clone()).unwrap_or_default();
        let p = vigie_domain::oncall::Person { id, name, email, mobile, chat, partner_id, organization_id, attributes };
        Ok((vec![caller.event(vigie_domain::Event::PersonUpserted(p.clone()))], p))
    })?;
    Ok(p)
}

/// A team written from the UI or the API: its name, whom it belongs to, its chat channel.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub partner_id: Option<String>,
    #[serde(default)]
    pub site_id: Option<String>,
    #[serde(default)]
    pub organization_id: Option<String>,
    /// A webhook of the configuration its pages also go to (empty: none).
    #[serde(default)]
    pub webhook: String,
}

/// Writes a team (new, or renamed, moved, its chat channel changed), journalled with who did it: needs
/// `rosters:write` and the caller's roster to reach the team as it is and as it would be; a known partner, site and
/// organisation. Each problem is located at its field.
pub fn set_team(
    journal: &vigie_journal::Journal,
    caller: &Caller,
    req: TeamRequest,
) -> Result<vigie_domain::oncall::Team, AppError> {
    caller.need(Permission::RostersWrite)?;
    let id = vigie_domain::ids::TeamId::parse(&req.id).map_err(|e| AppError::field("id", e.to_string()))?;
    let name = req.name.trim().to_string();
    if name.is_empty() {
        return Err(AppError::field("name", "required"));
    }
    crate::limits::name("name", &name)?;
    let webhook = req.webhook.trim().to_string();
    crate::limits::name("webhook", &webhook)?;
    let partner_id = optional_id("partner_id", &req.partner_id, vigie_domain::PartnerId::parse)?;
    let site_id = optional_id("site_id", &req.site_id, vigie_domain::SiteId::parse)?;
    let organization_id = optional_id("organization_id", &req.organization_id, vigie_domain::OrgId::parse)?;
    let caller = caller.clone();
    let (_, t) = journal.execute(move |st| {
        if let Some(p) = partner_id.as_ref().filter(|p| !st.toc.partners.contains_key(*p)) {
            return Err(AppError::field("partner_id", format!("unknown partner {p}")));
        }
        if let Some(s) = site_id.as_ref().filter(|s| !st.sites.contains_key(*s)) {
            return Err(AppError::field("site_id", format!("unknown site {s}")));
        }
        if let Some(o) = organization_id.as_ref().filter(|o| !st.organizations.contains_key(*o)) {
            return Err(AppError::field("organization_id", format!("unknown organisation {o}")));
        }
        let view = caller.principal.view(st);
        let before = st.oncall.teams.get(&id).map(|t| &t.value);
        if before.is_some_and(|b| !view.roster(b.partner_id.as_ref(), b.organization_id.as_ref()))
            || !view.roster(partner_id.as_ref(), organization_id.as_ref())
        {
            return Err(AppError::Forbidden(crate::Reason::new(
                "forbidden.outside",
                [("kind", "team".to_string()), ("id", id.to_string())],
                format!("team {id} is outside your reach (as it is, or as it would be)"),
            )));
        }
        let mut attributes = before.map(|b| b.attributes.clone()).unwrap_or_default();
        if webhook.is_empty() {
            attributes.remove("webhook");
        } else {
            attributes.insert("webhook".to_string(), webhook);
        }
        let t = vigie_domain::oncall::Team { id, name, partner_id, site_id, organization_id, attributes };
        // Moved to another partner or organisation, its rotations must still hold people who may hold its duty.
        let events = [vigie_domain::Event::TeamUpserted(t.clone())];
        let rosters =
            st.oncall.rotations.range((t.id.clone(), 0)..=(t.id.clone(), u8::MAX)).map(|(_, r)| r.value.clone());
        let rosters: Vec<vigie_domain::Event> = rosters.map(vigie_domain::Event::RotationSet).collect();
        vigie_domain::oncall::check_holders(st, events.iter().chain(&rosters)).map_err(|why| {
            AppError::field(if t.partner_id.is_some() { "partner_id" } else { "organization_id" }, why)
        })?;
        let [event] = events;
        Ok((vec![caller.event(event)], t))
    })?;
    Ok(t)
}
