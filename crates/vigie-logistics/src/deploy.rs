//! Deploy reinforcements that have neither equipment nor vehicles: what is near the departure and the deployment
//! zones, and the plan that has every person at the destination with the full kit soonest, then with the fewest
//! vehicle-kilometres.
//!
//! The kit of one person is every item's `person` allowance plus `days` × its `person_day` allowance; the force
//! needs that many times the headcount, in whole units (rounded up). What is already available at the destination
//! site counts first. The rest comes from depots, in the free serviceable vehicles that stand there (a vehicle loads
//! where it stands); the persons ride vehicles that fetch them at the departure zone. Each vehicle flies one
//! mission. [`solver`] holds the model and the exact search; this module maps the state onto it and back.

pub mod solver;

use crate::plans::available_by_slot;
use crate::{per_person, AskError, Near, Travel};
use chrono::NaiveDate;
use serde::Serialize;
use solver::{Carrier, Mission, Problem, Role, Unit};
use std::collections::BTreeMap;
use vigie_domain::*;

/// Nodes one question may visit before it settles for the best plan found (then `optimal` is false).
pub const SEARCH_BUDGET: u64 = 10_000;

/// A question: move `headcount` persons from `from` to `to`, equipped for `days` days.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub from: Near,
    pub to: Near,
    pub headcount: u32,
    pub days: u32,
    pub on: NaiveDate,
    /// Minutes from now the staff want everyone there by.
    pub deadline_min: Option<f64>,
    /// Radius of the lists of resources near each zone.
    pub within_km: f64,
    /// Whose stock and vehicles may be used (a tactical group: its own; the strategic centre: everything).
    pub sources: crate::Scope,
}

#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
    pub lat: f64,
    pub lon: f64,
}

/// One item of the kit.
#[derive(Debug, Clone, Serialize)]
pub struct KitLine {
    pub item_id: ItemId,
    pub name: String,
    pub unit: String,
    pub per_person: Quantity,
    /// For the whole force, in whole units.
    pub need: Quantity,
    /// Already available at the destination site.
    pub on_site: Quantity,
    /// What must be brought.
    pub to_bring: Quantity,
}

#[derive(Debug, Clone, Serialize)]
pub struct NearbyVehicle {
    pub vehicle_id: VehicleId,
    pub site_id: SiteId,
    pub kind: String,
    pub seats: u32,
    pub payload_kg: f64,
    pub cargo_m3: f64,
    pub distance_km: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NearbyStock {
    pub site_id: SiteId,
    pub name: String,
    pub distance_km: f64,
    /// Available quantity of each kit item the site holds.
    pub available: BTreeMap<ItemId, Quantity>,
}

/// Free serviceable vehicles and kit stock within `within_km` of a zone, nearest first.
#[derive(Debug, Clone, Serialize)]
pub struct Nearby {
    pub within_km: f64,
    pub vehicles: Vec<NearbyVehicle>,
    pub stock: Vec<NearbyStock>,
}

/// What one vehicle does in the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Leg {
    pub vehicle_id: VehicleId,
    pub kind: String,
    /// `persons` (fetches them at the departure zone) or `kit` (loads at the site it stands at).
    pub role: &'static str,
    /// Where it stands now.
    pub site_id: SiteId,
    /// Stops, in order, after it leaves.
    pub route: Vec<String>,
    pub km: f64,
    /// Minutes from now until it stands at the destination.
    pub eta_min: f64,
    pub persons: u32,
    pub items: BTreeMap<ItemId, Quantity>,
    pub mass_kg: f64,
    pub volume_m3: f64,
    pub seats: u32,
    pub payload_kg: f64,
    pub cargo_m3: f64,
}

/// What the plan cannot bring: never hidden.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Shortfall {
    pub persons: u32,
    pub items: BTreeMap<ItemId, Quantity>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    pub from: Endpoint,
    pub to: Endpoint,
    pub headcount: u32,
    pub days: u32,
    pub on: NaiveDate,
    pub kit: Vec<KitLine>,
    pub near_departure: Nearby,
    pub near_destination: Nearby,
    /// The plan, latest arrival last.
    pub legs: Vec<Leg>,
    /// Minutes from now until every person carried stands at the destination with the kit brought.
    pub eta_min: Option<f64>,
    pub vehicle_km: f64,
    /// Proven: no plan for this group arrives sooner (equals `eta_min` when `optimal`).
    pub eta_lower_bound_min: Option<f64>,
    /// Proven: no plan arriving by `eta_min` covers fewer vehicle-kilometres (equals `vehicle_km` when `optimal`).
    pub vehicle_km_lower_bound: Option<f64>,
    /// The search proved that no plan arrives sooner, nor as soon with fewer vehicle-kilometres.
    pub optimal: bool,
    /// The search proved that no plan arrives sooner (the kilometres may not be the fewest).
    pub eta_optimal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meets_deadline: Option<bool>,
    pub shortfall: Shortfall,
    /// The plan in the form `POST /api/v1/plans` takes (`null` when the destination is not a site).
    pub proposed_plan: Option<serde_json::Value>,
    pub eta_basis: String,
    pub search_nodes: u64,
}

fn units_floor(q: Quantity) -> i64 {
    q.milli().max(0) / 1000
}

fn units_ceil(milli: i64) -> i64 {
    (milli.max(0) + 999) / 1000
}

fn endpoint(state: &State, near: &Near) -> Result<Endpoint, AskError> {
    let (p, label) = near.resolve(state)?;
    let site_id = match near {
        Near::Site(id) => Some(SiteId::parse(id).map_err(|_| AskError::UnknownSite(id.clone()))?),
        _ => None,
    };
    Ok(Endpoint { label, site_id, lat: p.lat, lon: p.lon })
}

/// Answers the deploy question.
pub fn deploy(state: &State, q: &DeployRequest, travel: &Travel) -> Result<Deployment, AskError> {
    if q.headcount == 0 {
        return Err(AskError::BadArgument("the headcount must be at least 1".into()));
    }
    if q.days == 0 {
        return Err(AskError::BadArgument("days must be at least 1".into()));
    }
    let from = endpoint(state, &q.from)?;
    let to = endpoint(state, &q.to)?;
    let (a, b) = (LatLon { lat: from.lat, lon: from.lon }, LatLon { lat: to.lat, lon: to.lon });
    let dest_slot = to.site_id.as_ref().and_then(|s| state.site_slots.get(s.as_str()));

    // The kit, for the whole force, less what the destination already has.
    let mut items: Vec<&ItemId> = state.allowances.keys().map(|(i, _)| i).collect();
    items.dedup();
    let mut kit = Vec::new();
    // Available quantity of each kit item by site slot, in one pass over the item's lines.
    let mut held: Vec<Vec<(u32, Quantity)>> = Vec::new();
    for item in items {
        let Some(it) = state.items.get(item).map(|i| &i.value) else { continue };
        let per = per_person(state, item, q.days);
        let need = units_ceil(per.milli() * q.headcount as i64);
        if need == 0 {
            continue;
        }
        let mut avail = available_by_slot(state, item, q.on);
        avail.retain(|&(slot, _)| q.sources.includes_site(state, slot));
        let at_dest =
            dest_slot.and_then(|d| avail.iter().find(|(slot, _)| *slot == d)).map_or(0, |(_, q)| units_floor(*q));
        let on_site = at_dest.min(need);
        held.push(avail);
        kit.push(KitLine {
            item_id: item.clone(),
            name: it.name.clone(),
            unit: it.unit.clone(),
            per_person: per,
            need: Quantity::from_units(need),
            on_site: Quantity::from_units(on_site),
            to_bring: Quantity::from_units(need - on_site),
        });
    }

    // Free serviceable vehicles, and the kit each site can give (the destination's own counts as on site).
    let free: Vec<(&Vehicle, u32)> = state
        .vehicles
        .values()
        .map(|v| &v.value)
        .filter(|v| v.condition == Condition::Serviceable && !state.vehicle_holds.contains_key(&v.id))
        .map(|v| (v, state.site_slots.get(v.site_id.as_str()).expect("vehicles stand at known sites")))
        .filter(|&(_, slot)| q.sources.includes_site(state, slot))
        .collect();
    let offers = Offers::of(state.site_slots.len(), kit.len(), held, dest_slot);
    // Great-circle distances from each site involved to both zones, once per site rather than per vehicle.
    let mut zones: Vec<Option<(f64, f64)>> = vec![None; state.site_slots.len()];
    let mut zone = |slot: u32| {
        *zones[slot as usize].get_or_insert_with(|| {
            let here = state.site_facts[slot as usize].as_ref().expect("sites in use have facts").position;
            (here.distance_km(a), here.distance_km(b))
        })
    };
    for (_, slot) in &free {
        zone(*slot);
    }
    for slot in offers.slots() {
        zone(slot);
    }

    // The problem: depots are sites holding kit with a vehicle that can load.
    let ab_km = travel.road_km(a, b);
    let persons_travel = ab_km >= 0.5;
    let mut depot_of: Vec<Option<usize>> = vec![None; state.site_slots.len()];
    let mut stock: Vec<Vec<i64>> = Vec::new();
    let mut carriers = Vec::with_capacity(free.len());
    for &(v, slot) in &free {
        let (to_a, to_b) = zones[slot as usize].expect("computed for every free vehicle");
        let speed = travel.speed_of(v);
        let troop = (persons_travel && v.seats > 0).then(|| {
            let km = to_a * travel.detour_factor + ab_km;
            Mission { minutes: Travel::minutes(km, speed), km }
        });
        let depot = match offers.row(slot) {
            Some(row) if v.payload_kg > 0.0 && v.cargo_m3 > 0.0 => {
                Some(*depot_of[slot as usize].get_or_insert_with(|| {
                    stock.push(row.to_vec());
                    stock.len() - 1
                }))
            }
            _ => None,
        };
        let freight = depot.map(|_| {
            let km = to_b * travel.detour_factor;
            Mission { minutes: Travel::minutes(km, speed), km }
        });
        carriers.push(Carrier {
            seats: v.seats,
            payload_kg: v.payload_kg,
            cargo_m3: v.cargo_m3,
            depot,
            troop,
            freight,
        });
    }
    let problem = Problem {
        persons: if persons_travel { q.headcount } else { 0 },
        units: kit
            .iter()
            .map(|k| {
                let it = &state.items[&k.item_id].value;
                Unit { mass_kg: it.unit_mass_kg, volume_m3: it.unit_volume_m3 }
            })
            .collect(),
        need: kit.iter().map(|k| units_floor(k.to_bring)).collect(),
        stock,
        carriers,
    };

    // The best plan for everything; else for the largest group that can arrive with its kit (as far as depots with
    // a vehicle hold it): feasibility only shrinks as the group grows, so bisect on its size.
    let orders = solver::Orders::of(&problem);
    let mut outcome = solver::solve_with(&problem, &orders, SEARCH_BUDGET);
    let mut search_nodes = outcome.nodes;
    if outcome.best.is_none() {
        let reach = solver::reachable(&problem);
        let at_dest: Vec<i64> = kit.iter().map(|k| units_floor(k.on_site)).collect();
        let group = |k: u32| {
            let mut p = problem.clone();
            p.persons = if persons_travel { k } else { 0 };
            for (i, line) in kit.iter().enumerate() {
                let need = units_ceil(line.per_person.milli() * k as i64);
                p.need[i] = (need - at_dest[i]).max(0).min(reach.need[i]);
            }
            p
        };
        let (mut lo, mut hi) = (0u32, if persons_travel { reach.persons } else { q.headcount });
        outcome = solver::solve_with(&group(0), &orders, SEARCH_BUDGET);
        search_nodes += outcome.nodes;
        while lo < hi {
            if search_nodes >= 2 * SEARCH_BUDGET {
                outcome.proven = false; // out of time: the largest group found so far
                break;
            }
            let mid = lo + (hi - lo).div_ceil(2);
            let o = solver::solve_with(&group(mid), &orders, SEARCH_BUDGET);
            search_nodes += o.nodes;
            if o.best.is_some() {
                lo = mid;
                outcome = o;
            } else {
                hi = mid - 1;
            }
        }
    }
    let optimal = outcome.proven;
    let eta_lower_bound_min = outcome.makespan_lower_bound;
    let vehicle_km_lower_bound = outcome.km_lower_bound;
    let assignment = outcome.best.expect("a group of none with the kit at hand always has a plan");

    // Back to vehicles and items.
    let label_from = from.label.clone();
    let label_to = to.label.clone();
    let mut legs = Vec::new();
    let mut carried = vec![0i64; kit.len()];
    let mut seated = 0u32;
    for (c, role) in assignment.roles.iter().enumerate() {
        let v = free[c].0;
        let carrier = &problem.carriers[c];
        let (mission, route) = match role {
            Role::Idle => continue,
            Role::Troop => (carrier.troop, vec![label_from.clone(), label_to.clone()]),
            Role::Freight => (carrier.freight, vec![label_to.clone()]),
        };
        let mission = mission.expect("a role has its mission");
        let load = assignment.loads.get(c).cloned().unwrap_or_default();
        let mut leg = Leg {
            vehicle_id: v.id.clone(),
            kind: v.kind.clone(),
            role: if *role == Role::Troop { "persons" } else { "kit" },
            site_id: v.site_id.clone(),
            route,
            km: mission.km,
            eta_min: mission.minutes,
            persons: assignment.persons[c],
            items: BTreeMap::new(),
            mass_kg: 0.0,
            volume_m3: 0.0,
            seats: v.seats,
            payload_kg: v.payload_kg,
            cargo_m3: v.cargo_m3,
        };
        for (i, &n) in load.iter().enumerate().filter(|(_, n)| **n > 0) {
            leg.items.insert(kit[i].item_id.clone(), Quantity::from_units(n));
            leg.mass_kg += n as f64 * problem.units[i].mass_kg;
            leg.volume_m3 += n as f64 * problem.units[i].volume_m3;
            carried[i] += n;
        }
        seated += leg.persons;
        legs.push(leg);
    }
    legs.sort_by(|x, y| x.eta_min.total_cmp(&y.eta_min).then(x.vehicle_id.cmp(&y.vehicle_id)));
    let shortfall = Shortfall {
        persons: problem.persons - seated.min(problem.persons),
        items: kit
            .iter()
            .enumerate()
            .filter(|(i, _)| carried[*i] < problem.need[*i])
            .map(|(i, k)| (k.item_id.clone(), Quantity::from_units(problem.need[i] - carried[i])))
            .collect(),
    };
    let eta_min = if legs.is_empty() {
        (shortfall.persons == 0 && shortfall.items.is_empty()).then_some(0.0)
    } else {
        legs.iter().map(|l| l.eta_min).reduce(f64::max)
    };
    let vehicle_km = legs.iter().map(|l| l.km).sum();
    let proposed_plan = to.site_id.as_ref().filter(|_| !legs.is_empty()).map(|dest| {
        let movements: Vec<serde_json::Value> = legs
            .iter()
            .flat_map(|l| {
                l.items.iter().map(move |(i, q)| {
                    serde_json::json!({"from": l.site_id, "item_id": i, "quantity": q, "vehicle_id": l.vehicle_id})
                })
            })
            .collect();
        let troop: Vec<&VehicleId> = legs.iter().filter(|l| l.role == "persons").map(|l| &l.vehicle_id).collect();
        serde_json::json!({
            "destination": dest,
            "movements": movements,
            "vehicles": troop,
            "purpose": "deploy",
            "note": format!("{} persons from {} to {}, kit for {} days", seated, label_from, label_to, q.days),
            "on": q.on,
        })
    });
    let nearby = |zone: usize| nearby(state, &zones, zone, q.within_km, &free, &offers, &kit);
    Ok(Deployment {
        near_departure: nearby(0),
        near_destination: nearby(1),
        meets_deadline: q.deadline_min.map(|d| eta_min.is_some_and(|e| e <= d)),
        from,
        to,
        headcount: q.headcount,
        days: q.days,
        on: q.on,
        kit,
        legs,
        eta_min,
        vehicle_km,
        eta_lower_bound_min,
        vehicle_km_lower_bound,
        eta_optimal: optimal || eta_min.zip(eta_lower_bound_min).is_some_and(|(e, lb)| e <= lb + 1e-9),
        optimal: optimal && eta_min.is_some(),
        shortfall,
        proposed_plan,
        eta_basis: travel.basis(),
        search_nodes,
    })
}

/// Whole units of each kit item each site other than the destination can give, by site slot.
struct Offers {
    width: usize,
    /// Row of each slot in `units` (`u32::MAX`: none).
    row_of: Vec<u32>,
    units: Vec<i64>,
}

impl Offers {
    fn of(slots: usize, width: usize, held: Vec<Vec<(u32, Quantity)>>, dest: Option<u32>) -> Offers {
        let mut o = Offers { width, row_of: vec![u32::MAX; slots], units: Vec::new() };
        for (i, avail) in held.into_iter().enumerate() {
            for (slot, avail) in avail.into_iter().filter(|(slot, _)| Some(*slot) != dest) {
                let row = &mut o.row_of[slot as usize];
                if *row == u32::MAX {
                    *row = (o.units.len() / width) as u32;
                    o.units.resize(o.units.len() + width, 0);
                }
                o.units[*row as usize * width + i] = units_floor(avail);
            }
        }
        o
    }
    fn row(&self, slot: u32) -> Option<&[i64]> {
        let r = *self.row_of.get(slot as usize)?;
        (r != u32::MAX).then(|| &self.units[r as usize * self.width..(r as usize + 1) * self.width])
    }
    fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.row_of.len() as u32).filter(|&s| self.row_of[s as usize] != u32::MAX)
    }
}

/// What lies within `within_km` of zone 0 (departure) or 1 (destination), from the distances computed per site.
fn nearby(
    state: &State,
    zones: &[Option<(f64, f64)>],
    zone: usize,
    within_km: f64,
    free: &[(&Vehicle, u32)],
    offers: &Offers,
    kit: &[KitLine],
) -> Nearby {
    let distance = |slot: u32| zones[slot as usize].map(|(a, b)| if zone == 0 { a } else { b });
    let mut vehicles: Vec<NearbyVehicle> = free
        .iter()
        .filter_map(|&(v, slot)| {
            let d = distance(slot)?;
            (d <= within_km).then(|| NearbyVehicle {
                vehicle_id: v.id.clone(),
                site_id: v.site_id.clone(),
                kind: v.kind.clone(),
                seats: v.seats,
                payload_kg: v.payload_kg,
                cargo_m3: v.cargo_m3,
                distance_km: d,
            })
        })
        .collect();
    vehicles.sort_by(|a, b| a.distance_km.total_cmp(&b.distance_km).then(a.vehicle_id.cmp(&b.vehicle_id)));
    let mut stock: Vec<NearbyStock> = offers
        .slots()
        .filter_map(|slot| {
            let d = distance(slot)?;
            let row = offers.row(slot)?;
            (d <= within_km).then(|| NearbyStock {
                site_id: state.site_slots.id(slot).clone(),
                name: state.site_facts[slot as usize].as_ref().map_or(String::new(), |f| f.name.to_string()),
                distance_km: d,
                available: row
                    .iter()
                    .enumerate()
                    .filter(|(_, &n)| n > 0)
                    .map(|(i, &n)| (kit[i].item_id.clone(), Quantity::from_units(n)))
                    .collect(),
            })
        })
        .collect();
    stock.sort_by(|a, b| a.distance_km.total_cmp(&b.distance_km).then(a.site_id.cmp(&b.site_id)));
    Nearby { within_km, vehicles, stock }
}
