//! Decisions on plans: whether a plan can be committed, shipped, received or cancelled, given the state.
//! Run inside the journal's command, so that concurrent commits are decided one after another and can never
//! reserve more than is available.

use crate::AskError;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use vigie_domain::*;

/// Quantity of an item available at a site on a day: serviceable (not expired) minus reserved.
pub fn available_at(state: &State, item: &ItemId, site: &SiteId, on: NaiveDate) -> Quantity {
    let Some(slot) = state.site_slots.get(site.as_str()) else { return Quantity::ZERO };
    let serviceable: Quantity =
        state.item_lines(item).iter().filter(|l| l.site == slot && l.serviceable_on(on)).map(|l| l.quantity).sum();
    serviceable - state.reserved_at(item, slot)
}

/// Available quantity of an item at every site slot holding some, by slot (one pass over the item's index).
pub fn available_by_slot(state: &State, item: &ItemId, on: NaiveDate) -> Vec<(u32, Quantity)> {
    let mut sums: Vec<Quantity> = vec![Quantity::ZERO; state.site_slots.len()];
    let mut touched: Vec<u32> = Vec::new();
    for l in state.item_lines(item).iter().filter(|l| l.serviceable_on(on)) {
        let q = &mut sums[l.site as usize];
        if *q == Quantity::ZERO {
            touched.push(l.site);
        }
        *q += l.quantity;
    }
    touched.sort_unstable();
    touched.dedup();
    touched
        .into_iter()
        .map(|slot| (slot, sums[slot as usize] - state.reserved_at(item, slot)))
        .filter(|(_, q)| *q > Quantity::ZERO)
        .collect()
}

/// Checks a plan against the state: sites, items and vehicles exist; quantities are positive and available at
/// their origin on `on`; vehicles are serviceable and held by no other active plan; a vehicle that carries a
/// movement stands at its origin (others, such as those carrying persons, may stand anywhere).
pub fn check_commit(state: &State, plan: &Plan, on: NaiveDate) -> Result<(), AskError> {
    if state.plans.contains_key(&plan.id) {
        return Err(AskError::BadArgument(format!("plan {} exists already", plan.id)));
    }
    if !state.sites.contains_key(&plan.destination) {
        return Err(AskError::UnknownSite(plan.destination.to_string()));
    }
    if plan.movements.is_empty() && plan.vehicles.is_empty() {
        return Err(AskError::BadArgument("a plan moves something or holds a vehicle".into()));
    }
    let mut wanted: BTreeMap<(&SiteId, &ItemId), Quantity> = BTreeMap::new();
    for m in &plan.movements {
        if !state.sites.contains_key(&m.from) {
            return Err(AskError::UnknownSite(m.from.to_string()));
        }
        if !state.items.contains_key(&m.item_id) {
            return Err(AskError::UnknownItem(m.item_id.to_string()));
        }
        if m.quantity <= Quantity::ZERO {
            return Err(AskError::BadArgument(format!("quantity of {} from {} must be above 0", m.item_id, m.from)));
        }
        if m.from == plan.destination {
            return Err(AskError::BadArgument(format!("{} is both origin and destination", m.from)));
        }
        *wanted.entry((&m.from, &m.item_id)).or_default() += m.quantity;
    }
    for ((site, item), q) in wanted {
        let available = available_at(state, item, site, on);
        if q > available {
            return Err(AskError::Unavailable(format!(
                "{q} {item} wanted from {site}, {} available",
                available.max(Quantity::ZERO)
            )));
        }
    }
    let carrying = plan.movements.iter().filter_map(|m| m.vehicle_id.as_ref().map(|v| (v, Some(&m.from))));
    for (v, origin) in carrying.chain(plan.vehicles.iter().map(|v| (v, None))) {
        let Some(rec) = state.vehicles.get(v) else {
            return Err(AskError::BadArgument(format!("unknown vehicle {v}")));
        };
        if rec.value.condition != Condition::Serviceable {
            return Err(AskError::Unavailable(format!("vehicle {v} is unserviceable")));
        }
        if let Some(other) = state.vehicle_holds.get(v) {
            return Err(AskError::Unavailable(format!("vehicle {v} is held by plan {other}")));
        }
        if let Some(origin) = origin.filter(|o| **o != rec.value.site_id) {
            return Err(AskError::BadArgument(format!(
                "vehicle {v} stands at {}, not at {origin} where it would load",
                rec.value.site_id
            )));
        }
    }
    Ok(())
}

/// Checks a step of a plan's life: ship a committed plan, receive a shipped one, cancel a committed one.
pub fn check_step(state: &State, id: &str, to: PlanStatus) -> Result<(), AskError> {
    let rec = state.plans.get(id).ok_or_else(|| AskError::UnknownPlan(id.to_string()))?;
    let from = rec.value.status;
    let ok = matches!(
        (from, to),
        (PlanStatus::Committed, PlanStatus::Shipped)
            | (PlanStatus::Shipped, PlanStatus::Received)
            | (PlanStatus::Committed, PlanStatus::Cancelled)
    );
    if ok {
        Ok(())
    } else {
        Err(AskError::BadArgument(format!("plan {id} is {}: it cannot become {}", from.as_str(), to.as_str())))
    }
}
