//! People, teams and their rosters (issue 17): who is on duty for a team, a site, a partner or an organisation at any
//! instant. A team's roster is one rotation per escalation level (1: first called, 2: next…): its people in order,
//! taking over from one another every shift of the 3×8 (06:00, 14:00, 22:00 Paris time), every day or every week at
//! the rotation's hand-over time; an override (a swap, a replacement) puts a person on duty for a span instead.
//!
//! Hand-overs follow Paris wall-clock time: a 06:00 hand-over stays at 06:00 across the changes of summer time.

use crate::ids::{OrgId, PartnerId, PersonId, SiteId, TeamId};
use crate::registry::{Attributes, UnknownValue};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

fn is_empty(a: &Attributes) -> bool {
    a.is_empty()
}

text_enum!(/// How often a rotation hands over: every shift of the 3×8 (eight hours), every day, every week.
    Period { Shift = "shift", Daily = "daily", Weekly = "weekly" });

impl Period {
    /// The length of one turn, in minutes of Paris wall-clock time.
    pub fn minutes(self) -> i64 {
        match self {
            Period::Shift => 8 * 60,
            Period::Daily => 24 * 60,
            Period::Weekly => 7 * 24 * 60,
        }
    }
}

/// A person who may be told or paged, with the contact points the channels use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    #[serde(default)]
    pub email: String,
    /// Mobile number, international form (+33…), for SMS and voice.
    #[serde(default)]
    pub mobile: String,
    /// A chat handle (Mattermost, Teams) to mention.
    #[serde(default)]
    pub chat: String,
    /// The partner the person works for, if any (they are told only of the partner's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
    /// The organisation of the support service the person belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrgId>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

/// A team with a roster: a partner's desk (its incidents' assignment group bears the partner's id), a TOC desk, a
/// venue's IT team (its site), a tactical group's duty officers (its organisation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrgId>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub attributes: Attributes,
}

/// One escalation level of a team's roster: its people take turns, the first from `starts_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rotation {
    pub team_id: TeamId,
    /// 1 is called first; 2 when 1 does not answer; and so on.
    pub level: u8,
    pub period: Period,
    /// The first hand-over: `people[0]` is on duty from then for one period, then `people[1]`…, round and round.
    pub starts_at: DateTime<Utc>,
    pub people: Vec<PersonId>,
}

/// A person on duty for a team's level over a span instead of the rotation's (a swap, a replacement, a reinforcement).
/// Keyed by team, level and start; `removed` takes it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub team_id: TeamId,
    pub level: u8,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub person_id: PersonId,
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

/// Who a rotation puts on duty at `at`, and the span of that turn (from, until), in Paris wall-clock turns; none
/// before its first hand-over or without people.
pub fn turn(rotation: &Rotation, at: DateTime<Utc>) -> Option<(&PersonId, DateTime<Utc>, DateTime<Utc>)> {
    if rotation.people.is_empty() || at < rotation.starts_at {
        return None;
    }
    let start: NaiveDateTime = crate::paris::to_local(rotation.starts_at);
    let now: NaiveDateTime = crate::paris::to_local(at);
    let len = rotation.period.minutes();
    let elapsed = (now - start).num_minutes();
    // A turn that begins in the hour summer time skips, or ends in the hour it repeats, is read on the wall clock.
    let n = elapsed.div_euclid(len).max(0);
    let from = start + chrono::Duration::minutes(n * len);
    let until = from + chrono::Duration::minutes(len);
    let who = &rotation.people[(n as usize) % rotation.people.len()];
    Some((who, crate::paris::from_local(from), crate::paris::from_local(until)))
}

/// Who is on duty at `at` for one level: an override covering `at` (the latest started) wins over the rotation.
/// Returns the person, the span of the duty, and the override's reason when one applies.
pub fn on_duty<'a>(
    rotation: &'a Rotation,
    overrides: impl IntoIterator<Item = &'a Override>,
    at: DateTime<Utc>,
) -> Option<Duty<'a>> {
    let covering = overrides
        .into_iter()
        .filter(|o| !o.removed && o.team_id == rotation.team_id && o.level == rotation.level)
        .filter(|o| o.from <= at && at < o.until)
        .max_by_key(|o| o.from);
    match covering {
        Some(o) => Some(Duty { person: &o.person_id, from: o.from, until: o.until, reason: Some(&o.reason) }),
        None => turn(rotation, at).map(|(person, from, until)| Duty { person, from, until, reason: None }),
    }
}

/// Whether a person may hold a team's duty: a partner's team, that partner's people only; an organisation's, its own
/// people or those of an organisation above it (the strategic centre may take a failing group's duty); a team of
/// neither (a TOC desk, a venue's IT team), anyone. So that one partner is never paged for another's incidents.
pub fn may_hold(st: &crate::State, team: &Team, person: &Person) -> bool {
    match (&team.partner_id, &team.organization_id) {
        (Some(p), _) => person.partner_id.as_ref() == Some(p),
        (None, Some(org)) => {
            let Some(theirs) = &person.organization_id else { return false };
            let mut at = Some(org.clone());
            for _ in 0..32 {
                let Some(o) = at else { break };
                if &o == theirs {
                    return true;
                }
                at = st.organizations.get(o.as_str()).and_then(|x| x.value.parent_id.clone());
            }
            false
        }
        (None, None) => true,
    }
}

/// Checks that events (an import's) put on duty only people who may hold each duty ([`may_hold`]), the people and
/// teams as the events leave them; the first that does not, said.
pub fn check_holders<'e>(
    st: &crate::State,
    events: impl IntoIterator<Item = &'e crate::Event> + Clone,
) -> Result<(), String> {
    use std::collections::HashMap;
    let mut people: HashMap<&PersonId, &Person> = HashMap::new();
    let mut teams: HashMap<&TeamId, &Team> = HashMap::new();
    for e in events.clone() {
        match e {
            crate::Event::PersonUpserted(p) => {
                people.insert(&p.id, p);
            }
            crate::Event::TeamUpserted(t) => {
                teams.insert(&t.id, t);
            }
            _ => {}
        }
    }
    let person = |id: &PersonId| people.get(id).copied().or_else(|| st.oncall.people.get(id).map(|p| &p.value));
    let team = |id: &TeamId| teams.get(id).copied().or_else(|| st.oncall.teams.get(id).map(|t| &t.value));
    for e in events {
        let (team_id, level, holders): (&TeamId, u8, Vec<&PersonId>) = match e {
            crate::Event::RotationSet(r) => (&r.team_id, r.level, r.people.iter().collect()),
            crate::Event::OverrideSet(o) if !o.removed => (&o.team_id, o.level, vec![&o.person_id]),
            _ => continue,
        };
        let Some(t) = team(team_id) else { continue };
        for id in holders {
            if let Some(p) = person(id) {
                if !may_hold(st, t, p) {
                    return Err(format!(
                        "{id} may not hold {team_id}'s duty (level {level}): another partner's or organisation's person"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A person on duty: from when, until when, and why when an override put them there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duty<'a> {
    pub person: &'a PersonId,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub reason: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        crate::paris::from_local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    fn rotation(period: Period, start: &str, people: &[&str]) -> Rotation {
        Rotation {
            team_id: TeamId::parse("ATOS-N1").unwrap(),
            level: 1,
            period,
            starts_at: at(start),
            people: people.iter().map(|p| PersonId::parse(p).unwrap()).collect(),
        }
    }

    fn who(r: &Rotation, overrides: &[Override], when: &str) -> Option<String> {
        on_duty(r, overrides, at(when)).map(|d| d.person.to_string())
    }

    #[test]
    fn the_three_shifts_take_turns_at_six_two_and_ten_paris_time() {
        let r = rotation(Period::Shift, "2024-07-01 06:00", &["ana", "bob", "cyr"]);
        assert_eq!(who(&r, &[], "2024-07-01 05:59"), None, "before the first hand-over");
        assert_eq!(who(&r, &[], "2024-07-01 06:00").as_deref(), Some("ana"));
        assert_eq!(who(&r, &[], "2024-07-01 13:59").as_deref(), Some("ana"));
        assert_eq!(who(&r, &[], "2024-07-01 14:00").as_deref(), Some("bob"));
        assert_eq!(who(&r, &[], "2024-07-02 03:00").as_deref(), Some("cyr"), "the night shift runs past midnight");
        assert_eq!(who(&r, &[], "2024-07-02 06:00").as_deref(), Some("ana"), "round and round");
        let d = on_duty(&r, &[], at("2024-07-01 15:00")).unwrap();
        assert_eq!((d.from, d.until), (at("2024-07-01 14:00"), at("2024-07-01 22:00")));
    }

    #[test]
    fn hand_overs_stay_on_the_wall_clock_across_summer_time() {
        // Summer time ends on 27 October 2024 at 03:00 (back to 02:00): the night shift lasts nine hours, and the
        // morning one still starts at 06:00.
        let r = rotation(Period::Shift, "2024-10-26 06:00", &["ana", "bob", "cyr"]);
        let night = on_duty(&r, &[], at("2024-10-27 01:00")).unwrap();
        assert_eq!(night.person.as_str(), "cyr");
        assert_eq!(night.until - night.from, chrono::Duration::hours(9));
        assert_eq!(who(&r, &[], "2024-10-27 06:00").as_deref(), Some("ana"));
        let weekly = rotation(Period::Weekly, "2024-03-25 08:00", &["ana", "bob"]);
        assert_eq!(who(&weekly, &[], "2024-04-01 07:59").as_deref(), Some("ana"), "the week spans the change");
        assert_eq!(who(&weekly, &[], "2024-04-01 08:00").as_deref(), Some("bob"));
    }

    #[test]
    fn an_override_wins_over_the_rotation_for_its_span_and_can_be_taken_back() {
        let r = rotation(Period::Daily, "2024-07-01 08:00", &["ana", "bob"]);
        let swap = Override {
            team_id: r.team_id.clone(),
            level: 1,
            from: at("2024-07-01 12:00"),
            until: at("2024-07-01 18:00"),
            person_id: PersonId::parse("dan").unwrap(),
            reason: "rendez-vous médical d'ana".into(),
            removed: false,
        };
        let other_level = Override { level: 2, person_id: PersonId::parse("eve").unwrap(), ..swap.clone() };
        let overrides = [swap.clone(), other_level];
        assert_eq!(who(&r, &overrides, "2024-07-01 11:59").as_deref(), Some("ana"));
        let d = on_duty(&r, &overrides, at("2024-07-01 12:00")).unwrap();
        assert_eq!((d.person.as_str(), d.reason), ("dan", Some("rendez-vous médical d'ana")));
        assert_eq!(who(&r, &overrides, "2024-07-01 18:00").as_deref(), Some("ana"), "the span ends");
        let removed = Override { removed: true, ..swap };
        assert_eq!(who(&r, &[removed], "2024-07-01 13:00").as_deref(), Some("ana"), "taken back");
    }
}
