//! What-if: hypothetical changes applied to a copy of the state, never written, so the staff can test a course of
//! action (a site lost, stock unusable, extra forces, a shift of effort) and ask any question of the result.
//! Also the shift of effort and its dry-run: the effect on every organisation's sufficiency before doing it.

use crate::{sufficiency_all, AskError, Figures, Scope};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use vigie_domain::*;

/// One hypothetical change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The site is lost: its stock and its vehicles can no longer be used.
    LoseSite { site: SiteId },
    /// Stock at a site (one item, or all) is unusable.
    StockUnusable {
        site: SiteId,
        #[serde(default)]
        item: Option<ItemId>,
    },
    /// Extra (or changed) forces.
    AddForce(Force),
    /// A force withdrawn: no longer engaged.
    WithdrawForce { force: ForceId },
    /// A shift of effort.
    ShiftSupport(SupportShift),
}

/// A named set of hypothetical changes (`--scenario FILE`, JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    #[serde(default)]
    pub name: String,
    pub changes: Vec<Change>,
}

fn site<'s>(state: &'s State, id: &SiteId) -> Result<&'s Site, AskError> {
    state.sites.get(id).map(|s| &s.value).ok_or_else(|| AskError::UnknownSite(id.to_string()))
}

/// The events a change stands for, given the state.
pub fn events_of(state: &State, change: &Change) -> Result<Vec<Event>, AskError> {
    Ok(match change {
        Change::LoseSite { site: id } => {
            site(state, id)?;
            let mut ev = vec![Event::StockCounted(StockCount { site_id: id.clone(), lines: vec![] })];
            for v in state.vehicles.values().filter(|v| &v.value.site_id == id) {
                let mut v = v.value.clone();
                v.condition = Condition::Unserviceable;
                ev.push(Event::VehicleUpserted(v));
            }
            ev
        }
        Change::StockUnusable { site: id, item } => {
            site(state, id)?;
            if let Some(i) = item {
                crate::item_id(state, i.as_str())?;
            }
            let lines = state
                .stock_of(id.as_str())
                .map(|s| s.lines.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|mut l| {
                    if item.as_ref().is_none_or(|i| *i == l.item_id) {
                        l.condition = Condition::Unserviceable;
                    }
                    l
                })
                .collect();
            vec![Event::StockCounted(StockCount { site_id: id.clone(), lines })]
        }
        Change::AddForce(f) => {
            site(state, &f.site_id)?;
            if !state.organizations.contains_key(&f.organization_id) {
                return Err(AskError::UnknownOrganization(f.organization_id.to_string()));
            }
            vec![Event::ForceUpserted(f.clone())]
        }
        Change::WithdrawForce { force } => {
            let f = state.forces.get(force).ok_or_else(|| AskError::BadArgument(format!("unknown force {force}")))?;
            let mut f = f.value.clone();
            f.ends_on = f.starts_on.pred_opt().unwrap_or(f.starts_on);
            f.starts_on = f.ends_on.succ_opt().unwrap_or(f.ends_on);
            vec![Event::ForceUpserted(f)]
        }
        Change::ShiftSupport(s) => {
            propose_shift(state, s.from.as_str(), s.to.as_str(), Some(&s.sites), &s.reason)?;
            vec![Event::SupportShifted(s.clone())]
        }
    })
}

/// A copy of `state` with `events` applied (nothing is written).
pub fn apply_events(state: &State, events: Vec<Event>) -> State {
    let mut copy = state.clone();
    apply_to(&mut copy, events);
    copy
}

/// `events` applied to a copy already made.
fn apply_to(copy: &mut State, events: Vec<Event>) {
    let time = chrono::Utc::now();
    for event in events {
        let seq = copy.last_seq + 1;
        copy.apply_owned(Envelope {
            seq,
            id: uuid_nil(),
            time,
            actor: Actor::system("what-if"),
            origin: "what-if".into(),
            source: "what-if".into(),
            event,
        });
    }
}

fn uuid_nil() -> uuid::Uuid {
    uuid::Uuid::nil()
}

/// The state as the scenario would make it.
pub fn apply_scenario(state: &State, scenario: &Scenario) -> Result<State, AskError> {
    apply_scenario_to(state.clone(), scenario)
}

/// The scenario applied to a copy already made (so that the copy can be taken under the state's lock, and the
/// scenario applied without it). The copy is changed in place: a scenario of many changes costs the state once,
/// not once per change.
pub fn apply_scenario_to(mut copy: State, scenario: &Scenario) -> Result<State, AskError> {
    for change in &scenario.changes {
        let events = events_of(&copy, change)?;
        apply_to(&mut copy, events);
    }
    Ok(copy)
}

/// A shift of effort from `from` to `to`: the sites named, or every site `from` supports.
pub fn propose_shift(
    state: &State,
    from: &str,
    to: &str,
    sites: Option<&[SiteId]>,
    reason: &str,
) -> Result<SupportShift, AskError> {
    let org = |id: &str| -> Result<OrgId, AskError> {
        let o = OrgId::parse(id).map_err(|_| AskError::UnknownOrganization(id.to_string()))?;
        if !state.organizations.contains_key(&o) {
            return Err(AskError::UnknownOrganization(id.to_string()));
        }
        Ok(o)
    };
    let (from, to) = (org(from)?, org(to)?);
    if from == to {
        return Err(AskError::BadArgument("a shift of effort goes from one organization to another".into()));
    }
    let sites: Vec<SiteId> = match sites {
        Some(list) => {
            for s in list {
                let rec = site(state, s)?;
                if rec.organization_id != from {
                    return Err(AskError::BadArgument(format!(
                        "site {s} is supported by {}, not {from}",
                        rec.organization_id
                    )));
                }
            }
            list.to_vec()
        }
        None => state.sites.values().filter(|s| s.value.organization_id == from).map(|s| s.value.id.clone()).collect(),
    };
    if sites.is_empty() {
        return Err(AskError::BadArgument(format!("{from} supports no site to shift")));
    }
    Ok(SupportShift { from, to, sites, reason: reason.to_string() })
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemEffect {
    pub item: ItemId,
    pub before: Figures,
    pub after: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgEffect {
    pub organization_id: OrgId,
    pub name: String,
    /// Items whose figures change for this organisation's own sites and forces (children apart: a parent that
    /// receives its child's sites sees its own figures move).
    pub items: Vec<ItemEffect>,
}

/// What a shift would change: every organisation's own sufficiency (its own sites and forces, as sufficiency's
/// `by_organization` rows), before and after.
pub fn shift_effect(state: &State, shift: &SupportShift, on: NaiveDate, days: u32) -> Result<Vec<OrgEffect>, AskError> {
    let after = apply_events(state, vec![Event::SupportShifted(shift.clone())]);
    let b = sufficiency_all(state, on, days, &Scope::everything())?;
    let a = sufficiency_all(&after, on, days, &Scope::everything())?;
    let own = |all: &[crate::Sufficiency], item: &ItemId, org: &OrgId| -> Figures {
        all.iter()
            .find(|s| &s.item == item)
            .and_then(|s| s.by_organization.iter().find(|o| &o.organization_id == org))
            .map(|o| o.figures.clone())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for o in state.organizations.values() {
        let id = &o.value.id;
        let items: Vec<ItemEffect> = b
            .iter()
            .filter_map(|s| {
                let (before, after) = (own(&b, &s.item, id), own(&a, &s.item, id));
                (after != before).then(|| ItemEffect { item: s.item.clone(), before, after })
            })
            .collect();
        out.push(OrgEffect { organization_id: id.clone(), name: o.value.name.clone(), items });
    }
    Ok(out)
}

/// A site or force that changes hands, by name.
#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    pub id: String,
    pub name: String,
    pub site_id: SiteId,
    /// Persons (forces only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headcount: Option<u32>,
}

/// The sites a shift moves and the forces on them that go with them (those of the giving organisation).
pub fn shift_moves(state: &State, shift: &SupportShift) -> (Vec<Moved>, Vec<Moved>) {
    let sites = shift
        .sites
        .iter()
        .map(|s| Moved {
            id: s.to_string(),
            name: state.sites.get(s).map_or_else(|| s.to_string(), |r| r.value.name.clone()),
            site_id: s.clone(),
            headcount: None,
        })
        .collect();
    let mut forces: Vec<Moved> = state
        .forces
        .values()
        .map(|f| &f.value)
        .filter(|f| f.organization_id == shift.from && shift.sites.contains(&f.site_id))
        .map(|f| Moved {
            id: f.id.to_string(),
            name: f.name.clone(),
            site_id: f.site_id.clone(),
            headcount: Some(f.headcount),
        })
        .collect();
    forces.sort_by(|a, b| a.site_id.cmp(&b.site_id).then(a.id.cmp(&b.id)));
    (sites, forces)
}
