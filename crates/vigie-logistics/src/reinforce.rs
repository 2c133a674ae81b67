//! Reinforce a site: which sources can send what, ranked by estimated arrival, and a plan that meets the need as
//! soon as it can with the sources' own vehicles, within each vehicle's payload and volume.
//!
//! The plan takes sources in order of arrival (nearest in time first): the time at which everything has arrived is
//! the latest arrival among the sources used, and taking sources in that order uses the fewest late ones. Each
//! source loads its serviceable vehicles that no plan holds, largest first, item after item, never beyond a
//! vehicle's payload or volume. Whatever cannot be sent is reported as unmet.

use crate::{plans::available_by_slot, AskError, Travel};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use vigie_domain::*;

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub site_id: SiteId,
    pub name: String,
    pub organization_id: OrgId,
    pub distance_km: f64,
    /// Estimated minutes to the site, at the speed of the slowest vehicle it would use.
    pub eta_min: f64,
    pub available: BTreeMap<ItemId, Quantity>,
    /// Free serviceable vehicles at the source.
    pub vehicles: Vec<VehicleId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Load {
    pub vehicle_id: VehicleId,
    pub from: SiteId,
    pub items: BTreeMap<ItemId, Quantity>,
    pub mass_kg: f64,
    pub volume_m3: f64,
    pub payload_kg: f64,
    pub cargo_m3: f64,
    pub eta_min: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reinforcement {
    pub site_id: SiteId,
    pub on: NaiveDate,
    pub need: BTreeMap<ItemId, Quantity>,
    /// Every site that can send something, soonest first.
    pub sources: Vec<Source>,
    /// The proposed plan: what each vehicle carries.
    pub loads: Vec<Load>,
    /// Sent per item.
    pub sent: BTreeMap<ItemId, Quantity>,
    /// Not met per item (0 when met): never hidden.
    pub unmet: BTreeMap<ItemId, Quantity>,
    /// Minutes until everything sent has arrived (the latest load).
    pub eta_min: Option<f64>,
    /// With a deadline: whether the last load arrives in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meets_deadline: Option<bool>,
    /// The plan in the form `POST /api/v1/plans` takes, to commit it as it is.
    pub proposed_plan: serde_json::Value,
    pub eta_basis: String,
}

/// Parses `ITEM=QTY[,ITEM=QTY…]`.
pub fn parse_need(state: &State, text: &str) -> Result<BTreeMap<ItemId, Quantity>, AskError> {
    let mut need = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (item, qty) = part
            .split_once('=')
            .ok_or_else(|| AskError::BadArgument(format!("expected ITEM=QUANTITY, found {part:?}")))?;
        let id = crate::item_id(state, item.trim())?;
        let q = Quantity::parse(qty).map_err(|e| AskError::BadArgument(format!("{item}: {e}")))?;
        if q <= Quantity::ZERO {
            return Err(AskError::BadArgument(format!("{item}: the quantity must be above 0")));
        }
        *need.entry(id).or_default() += q;
    }
    if need.is_empty() {
        return Err(AskError::BadArgument("name at least one ITEM=QUANTITY".into()));
    }
    Ok(need)
}

/// Proposes how to bring `need` to `site`. `deadline_min`: minutes from now the staff want it by.
pub fn reinforce(
    state: &State,
    site: &str,
    need: &BTreeMap<ItemId, Quantity>,
    on: NaiveDate,
    deadline_min: Option<f64>,
    travel: &Travel,
    sources: &crate::Scope,
) -> Result<Reinforcement, AskError> {
    let target = state.sites.get(site).ok_or_else(|| AskError::UnknownSite(site.to_string()))?;
    let dest = target.value.position();
    let mut vehicles_at: BTreeMap<&SiteId, Vec<&Vehicle>> = BTreeMap::new();
    for v in state.vehicles.values() {
        let v = &v.value;
        let here = state.site_slots.get(v.site_id.as_str()).is_some_and(|s| sources.includes_site(state, s));
        if here && v.condition == Condition::Serviceable && !state.vehicle_holds.contains_key(&v.id) {
            vehicles_at.entry(&v.site_id).or_default().push(v);
        }
    }
    // What each site can give, in one pass per item.
    let mut offers: BTreeMap<u32, BTreeMap<ItemId, Quantity>> = BTreeMap::new();
    for item in need.keys() {
        for (slot, q) in
            available_by_slot(state, item, on).into_iter().filter(|&(s, _)| sources.includes_site(state, s))
        {
            offers.entry(slot).or_default().insert(item.clone(), q);
        }
    }
    let mut sources: Vec<Source> = Vec::new();
    for (slot, available) in offers {
        let Some(s) = state.sites.get(state.site_slots.id(slot)).map(|s| &s.value) else { continue };
        if s.id == target.value.id {
            continue;
        }
        let mut vs = vehicles_at.get(&s.id).cloned().unwrap_or_default();
        vs.sort_by(|a, b| b.payload_kg.total_cmp(&a.payload_kg).then(a.id.cmp(&b.id)));
        let slowest = vs.iter().map(|v| travel.speed_of(v)).reduce(f64::min).unwrap_or(travel.default_speed_kmh);
        let distance_km = s.position().distance_km(dest);
        sources.push(Source {
            site_id: s.id.clone(),
            name: s.name.clone(),
            organization_id: s.organization_id.clone(),
            distance_km,
            eta_min: Travel::minutes(distance_km * travel.detour_factor, slowest),
            available,
            vehicles: vs.iter().map(|v| v.id.clone()).collect(),
        });
    }
    sources.sort_by(|a, b| a.eta_min.total_cmp(&b.eta_min).then(a.site_id.cmp(&b.site_id)));

    let mut remaining = need.clone();
    let mut loads: Vec<Load> = Vec::new();
    for src in &sources {
        if remaining.values().all(|q| *q <= Quantity::ZERO) {
            break;
        }
        let mut left: BTreeMap<ItemId, Quantity> = src.available.clone();
        for vid in &src.vehicles {
            let Some(v) = state.vehicles.get(vid).map(|v| &v.value) else { continue };
            let mut load = Load {
                vehicle_id: v.id.clone(),
                from: src.site_id.clone(),
                items: BTreeMap::new(),
                mass_kg: 0.0,
                volume_m3: 0.0,
                payload_kg: v.payload_kg,
                cargo_m3: v.cargo_m3,
                eta_min: Travel::minutes(src.distance_km * travel.detour_factor, travel.speed_of(v)),
            };
            for (item, want) in remaining.iter_mut() {
                let have = left.get(item).copied().unwrap_or_default();
                let Some(it) = state.items.get(item).map(|i| &i.value) else { continue };
                let mut n = (*want).min(have).milli() / 1000; // whole units per vehicle
                if it.unit_mass_kg > 0.0 {
                    n = n.min(((v.payload_kg - load.mass_kg) / it.unit_mass_kg + 1e-9).floor() as i64);
                }
                if it.unit_volume_m3 > 0.0 {
                    n = n.min(((v.cargo_m3 - load.volume_m3) / it.unit_volume_m3 + 1e-9).floor() as i64);
                }
                if n <= 0 {
                    continue;
                }
                let q = Quantity::from_units(n);
                *load.items.entry(item.clone()).or_default() += q;
                load.mass_kg += n as f64 * it.unit_mass_kg;
                load.volume_m3 += n as f64 * it.unit_volume_m3;
                *want -= q;
                *left.entry(item.clone()).or_default() -= q;
            }
            if !load.items.is_empty() {
                loads.push(load);
            }
            if remaining.values().all(|q| *q <= Quantity::ZERO) {
                break;
            }
        }
    }
    let sent: BTreeMap<ItemId, Quantity> =
        need.keys().map(|i| (i.clone(), loads.iter().filter_map(|l| l.items.get(i)).copied().sum())).collect();
    let unmet: BTreeMap<ItemId, Quantity> = remaining.into_iter().map(|(i, q)| (i, q.max(Quantity::ZERO))).collect();
    let eta_min = loads.iter().map(|l| l.eta_min).reduce(f64::max);
    let movements: Vec<serde_json::Value> = loads
        .iter()
        .flat_map(|l| {
            l.items.iter().map(move |(i, q)| {
                serde_json::json!({"from": l.from, "item_id": i, "quantity": q, "vehicle_id": l.vehicle_id})
            })
        })
        .collect();
    Ok(Reinforcement {
        site_id: target.value.id.clone(),
        on,
        need: need.clone(),
        sources,
        loads,
        sent,
        unmet,
        eta_min,
        meets_deadline: deadline_min.map(|d| eta_min.is_some_and(|e| e <= d)),
        proposed_plan: serde_json::json!({
            "destination": target.value.id,
            "movements": movements,
            "purpose": "reinforce",
            "on": on,
        }),
        eta_basis: travel.basis(),
    })
}
