//! The roster tables (issue 17, docs/data-format.md): `people`, `teams`, `rotations` and `overrides`. Read row by row
//! with located problems like every table; [`check`] checks what only the whole batch says (duplicates, an override
//! that ends before it starts is refused at its row already) and [`diff`] turns the batch into events.

use super::readiness::{optional, optional_instant};
use super::*;
use chrono::{DateTime, Utc};
use vigie_domain::oncall::{Override, Period, Person, Rotation, Team};
use vigie_domain::{PersonId, TeamId};

/// Records of the roster tables.
#[derive(Debug, Default)]
pub(crate) struct OnCallRecords {
    pub people: Vec<(Person, Loc)>,
    pub teams: Vec<(Team, Loc)>,
    pub rotations: Vec<(Rotation, Loc)>,
    pub overrides: Vec<(Override, Loc)>,
}

/// Escalation levels a team may have.
pub const MAX_LEVEL: u32 = 9;
/// People in one rotation.
pub const MAX_ROTATION_PEOPLE: usize = 200;

/// A level: 1 (called first) to [`MAX_LEVEL`].
fn level(r: &mut RowReader<'_, '_>) -> Option<u8> {
    let n = r.count("level")?;
    if !(1..=MAX_LEVEL).contains(&n) {
        r.problem("level", format!("`level`: from 1 (called first) to {MAX_LEVEL}, found {n}"));
        return None;
    }
    Some(n as u8)
}

/// Whether a text reads as an email address: `name@domain`, no space.
pub fn is_address(email: &str) -> bool {
    !email.contains(char::is_whitespace) && email.split('@').count() == 2
}

/// A phone number in its international form (+33612345678): spaces, dots and dashes dropped; `00` is `+`; a French
/// national number (0 and nine digits) gets +33; digits alone (a spreadsheet drops the `+` of a number) get a `+`.
pub fn international(written: &str) -> Option<String> {
    let s: String = written.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '\u{a0}' | '(' | ')')).collect();
    let digits = if let Some(d) = s.strip_prefix('+') {
        d.to_string()
    } else if let Some(d) = s.strip_prefix("00") {
        d.to_string()
    } else if s.len() == 10 && s.starts_with('0') {
        format!("33{}", &s[1..])
    } else {
        s
    };
    ((8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+{digits}"))
}

/// A required instant.
fn instant(r: &mut RowReader<'_, '_>, name: &str) -> Option<DateTime<Utc>> {
    match optional_instant(r, name)? {
        Some(t) => Some(t),
        None => {
            r.problem(name, format!("`{name}` is required"));
            None
        }
    }
}

/// Reads one row of a roster table into `batch`.
pub(crate) fn read_row(batch: &mut OnCallRecords, table: Table, r: &mut RowReader<'_, '_>, f: u16) {
    match table {
        Table::People => {
            r.reference(RefKind::Partner, "partner_id");
            r.reference(RefKind::Organization, "organization_id");
            let id = r.id("id", PersonId::parse);
            let name = r.string("name");
            let email = r.optional("email", MAX_NAME_CHARS).unwrap_or_default();
            if !email.is_empty() && !is_address(&email) {
                r.problem("email", format!("`email`: expected an address name@domain, found {email:?}"));
            }
            let written = r.optional("mobile", MAX_NAME_CHARS).unwrap_or_default();
            let mobile = if written.is_empty() { Some(String::new()) } else { international(&written) };
            if mobile.is_none() {
                r.problem(
                    "mobile",
                    format!("`mobile`: expected a phone number (+33 6 12 34 56 78, 06 12 34 56 78), found {written:?}"),
                );
            }
            let mobile = mobile.unwrap_or_default();
            let chat = r.optional("chat", MAX_NAME_CHARS).unwrap_or_default();
            let partner_id = optional(r, "partner_id", PartnerId::parse);
            let organization_id = optional(r, "organization_id", OrgId::parse);
            if let (Some(id), Some(name), Some(partner_id), Some(organization_id), true) =
                (id, name, partner_id, organization_id, r.ok)
            {
                let loc = r.loc(f, "id", "partner_id", "organization_id");
                let attributes = r.attributes();
                let p = Person { id, name, email, mobile, chat, partner_id, organization_id, attributes };
                batch.people.push((p, loc));
            }
        }
        Table::Teams => {
            r.reference(RefKind::Partner, "partner_id");
            r.reference(RefKind::Site, "site_id");
            r.reference(RefKind::Organization, "organization_id");
            let id = r.id("id", TeamId::parse);
            let name = r.string("name");
            let partner_id = optional(r, "partner_id", PartnerId::parse);
            let site_id = optional(r, "site_id", SiteId::parse);
            let organization_id = optional(r, "organization_id", OrgId::parse);
            if let (Some(id), Some(name), Some(partner_id), Some(site_id), Some(organization_id), true) =
                (id, name, partner_id, site_id, organization_id, r.ok)
            {
                let loc = r.loc(f, "id", "partner_id", "site_id");
                let attributes = r.attributes();
                batch.teams.push((Team { id, name, partner_id, site_id, organization_id, attributes }, loc));
            }
        }
        Table::Rotations => {
            r.reference(RefKind::Team, "team_id");
            let team_id = r.id("team_id", TeamId::parse);
            let level = level(r);
            let period = r.choice("period", Period::parse);
            let starts_at = instant(r, "starts_at");
            let names: Vec<String> = r
                .text("people")
                .split([',', '|', ' '])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
            let mut people = Vec::new();
            for p in &names {
                match PersonId::parse(p) {
                    Ok(id) => people.push(id),
                    Err(e) => r.problem("people", format!("`people`: {p:?}: {e}")),
                }
            }
            if names.is_empty() || names.len() > MAX_ROTATION_PEOPLE {
                r.problem("people", format!("`people`: from 1 to {MAX_ROTATION_PEOPLE} people, found {}", names.len()));
            }
            for p in &names {
                r.reference_value(RefKind::Person, "people", p);
            }
            if let (Some(team_id), Some(level), Some(period), Some(starts_at), true) =
                (team_id, level, period, starts_at, r.ok)
            {
                let loc = r.loc(f, "team_id", "team_id", "people");
                batch.rotations.push((Rotation { team_id, level, period, starts_at, people }, loc));
            }
        }
        Table::Overrides => {
            r.reference(RefKind::Team, "team_id");
            r.reference(RefKind::Person, "person_id");
            let team_id = r.id("team_id", TeamId::parse);
            let level = level(r);
            let from = instant(r, "from");
            let until = instant(r, "until");
            if let (Some(from), Some(until)) = (from, until) {
                if until <= from {
                    r.problem("until", "`until`: an override ends after it starts".into());
                }
            }
            let person_id = r.id("person_id", PersonId::parse);
            let reason = r.optional("reason", MAX_NAME_CHARS).unwrap_or_default();
            let removed = match r.text("removed").trim() {
                "" | "0" | "non" | "no" | "false" => false,
                "1" | "oui" | "yes" | "true" => true,
                other => {
                    let other = other.to_string();
                    r.problem("removed", format!("`removed`: expected oui or non, found {other:?}"));
                    false
                }
            };
            if let (Some(team_id), Some(level), Some(from), Some(until), Some(person_id), true) =
                (team_id, level, from, until, person_id, r.ok)
            {
                let loc = r.loc(f, "team_id", "team_id", "person_id");
                batch.overrides.push((Override { team_id, level, from, until, person_id, reason, removed }, loc));
            }
        }
        _ => unreachable!("not a roster table"),
    }
}

/// What only the whole batch says: the same person, team, rotation (team and level) or override (team, level and
/// start) twice.
pub(crate) fn check(c: &mut Checker<'_>) {
    let batch: &Batch = c.batch;
    let b = &batch.oncall;
    dups(c, "person id", &b.people, |p| p.id.clone());
    dups(c, "team id", &b.teams, |t| t.id.clone());
    dups(c, "rotation", &b.rotations, |x| format!("{} level {}", x.team_id, x.level));
    dups(c, "override", &b.overrides, |o| format!("{} level {} from {}", o.team_id, o.level, o.from));
}

/// The events that bring the state up to the batch's rosters.
pub(crate) fn diff(d: &mut Differ<'_>, state: &State) {
    let r = &state.oncall;
    let batch: &Batch = d.batch;
    let b = &batch.oncall;
    d.diff(Table::People, &b.people, |p| r.people.get(&p.id).map(|x| &x.value), Event::PersonUpserted);
    d.diff(Table::Teams, &b.teams, |t| r.teams.get(&t.id).map(|x| &x.value), Event::TeamUpserted);
    d.diff(
        Table::Rotations,
        &b.rotations,
        |x| r.rotations.get(&(x.team_id.clone(), x.level)).map(|x| &x.value),
        Event::RotationSet,
    );
    // An override taken back that the state does not hold changes nothing.
    let key = |o: &Override| (o.team_id.clone(), o.level, o.from);
    let overrides: Vec<(Override, Loc)> =
        b.overrides.iter().filter(|(o, _)| !o.removed || r.overrides.contains_key(&key(o))).cloned().collect();
    d.diff(Table::Overrides, &overrides, |o| r.overrides.get(&key(o)), Event::OverrideSet);
}

#[cfg(test)]
mod tests {
    #[test]
    fn phone_numbers_are_read_as_people_write_them() {
        for (written, read) in [
            ("+33612345678", Some("+33612345678")),
            ("+33 6 12 34 56 78", Some("+33612345678")),
            ("06 12 34 56 78", Some("+33612345678")),
            ("06.12.34.56.78", Some("+33612345678")),
            ("0033612345678", Some("+33612345678")),
            ("33612345678", Some("+33612345678")),
            ("12", None),
            ("06 12 AB", None),
        ] {
            assert_eq!(super::international(written).as_deref(), read, "{written}");
        }
    }
}
