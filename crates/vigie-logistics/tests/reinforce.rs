//! Reinforce: sources by arrival, loads within payload and volume, unmet quantities reported.

mod common;

use common::{apply, d, q, world};
use std::collections::BTreeMap;
use vigie_domain::*;
use vigie_logistics::reinforce::{parse_need, reinforce};
use vigie_logistics::Travel;

fn vehicle(id: &str, site: &str, kind: &str, kg: f64, m3: f64, cond: Condition) -> Event {
    Event::VehicleUpserted(Vehicle {
        id: VehicleId::parse(id).unwrap(),
        site_id: SiteId::parse(site).unwrap(),
        kind: kind.into(),
        seats: 2,
        payload_kg: kg,
        cargo_m3: m3,
        speed_kmh: None,
        condition: cond,
        attributes: Default::default(),
    })
}

/// World plus a 60 kg truck at SA (70 km/h), a 50 kg light vehicle at SA1 (90 km/h), a broken truck at SA1.
fn fleet() -> State {
    let mut st = world();
    apply(
        &mut st,
        vec![
            vehicle("T1", "SA", "truck", 60.0, 40.0, Condition::Serviceable),
            vehicle("L1", "SA1", "light", 50.0, 1.5, Condition::Serviceable),
            vehicle("T9", "SA1", "truck", 10_000.0, 40.0, Condition::Unserviceable),
        ],
    );
    st
}

#[test]
fn sources_by_arrival_loads_within_limits_and_unmet_reported() {
    let st = fleet();
    let travel = Travel::default();
    let need = parse_need(&st, "PLATE=120").unwrap();
    let r = reinforce(&st, "SB", &need, d("2024-07-26"), Some(600.0), &travel, &vigie_logistics::Scope::everything())
        .unwrap();
    // SA1 is a little farther than SA but its light vehicle is faster: it arrives first.
    let order: Vec<&str> = r.sources.iter().map(|s| s.site_id.as_str()).collect();
    assert_eq!(order, vec!["SA1", "SA"]);
    let (sa1, sa) = (&r.sources[0], &r.sources[1]);
    assert!(sa1.distance_km > sa.distance_km);
    assert!((sa1.eta_min - sa1.distance_km * 1.3 / 90.0 * 60.0).abs() < 1e-9);
    assert!((sa.eta_min - sa.distance_km * 1.3 / 70.0 * 60.0).abs() < 1e-9);
    // SA1 sends its 40 plates (40 kg in a 50 kg vehicle); SA's truck takes 60 of the 80 still needed (60 kg).
    let loads: Vec<(&str, &str, Quantity)> = r
        .loads
        .iter()
        .map(|l| (l.vehicle_id.as_str(), l.from.as_str(), l.items[&ItemId::parse("PLATE").unwrap()]))
        .collect();
    assert_eq!(loads, vec![("L1", "SA1", q(40)), ("T1", "SA", q(60))]);
    let plate = ItemId::parse("PLATE").unwrap();
    assert_eq!((r.sent[&plate], r.unmet[&plate]), (q(100), q(20)));
    assert_eq!(r.eta_min, Some(sa.eta_min), "everything is there when the last load arrives");
    assert_eq!(r.meets_deadline, Some(false), "the truck arrives after 600 min");
    // The proposal is a plan ready to commit.
    assert_eq!(r.proposed_plan["destination"], "SB");
    assert_eq!(r.proposed_plan["movements"].as_array().unwrap().len(), 2);
}

#[test]
fn several_items_share_a_vehicle_and_held_vehicles_are_not_used() {
    let mut st = fleet();
    let need = parse_need(&st, "PLATE=30, RATION=25").unwrap();
    let r =
        reinforce(&st, "SB", &need, d("2024-07-26"), None, &Travel::default(), &vigie_logistics::Scope::everything())
            .unwrap();
    // L1 (50 kg) takes 30 plates then 20 rations; T1 takes the 5 rations left.
    let l1 = &r.loads[0];
    assert_eq!(l1.vehicle_id.as_str(), "L1");
    assert_eq!(
        (l1.items[&ItemId::parse("PLATE").unwrap()], l1.items[&ItemId::parse("RATION").unwrap()]),
        (q(30), q(20))
    );
    assert!(l1.mass_kg <= l1.payload_kg && l1.volume_m3 <= l1.cargo_m3);
    assert!(r.unmet.values().all(|u| *u == Quantity::ZERO));
    // Once a plan holds L1, the proposal does without it.
    apply(
        &mut st,
        vec![Event::PlanCommitted(Plan {
            id: PlanId("P1".into()),
            destination: SiteId::parse("SA").unwrap(),
            movements: vec![],
            vehicles: vec![VehicleId::parse("L1").unwrap()],
            purpose: String::new(),
            note: String::new(),
        })],
    );
    let r =
        reinforce(&st, "SB", &need, d("2024-07-26"), None, &Travel::default(), &vigie_logistics::Scope::everything())
            .unwrap();
    assert!(r.loads.iter().all(|l| l.vehicle_id.as_str() != "L1"));
}

#[test]
fn without_vehicles_everything_is_unmet_and_said_so() {
    let st = world();
    let need = parse_need(&st, "PLATE=10").unwrap();
    let r = reinforce(
        &st,
        "SB",
        &need,
        d("2024-07-26"),
        Some(60.0),
        &Travel::default(),
        &vigie_logistics::Scope::everything(),
    )
    .unwrap();
    assert_eq!(r.sources.len(), 2, "sources are listed even when nothing can carry their stock");
    assert!(r.loads.is_empty());
    assert_eq!(r.unmet[&ItemId::parse("PLATE").unwrap()], q(10));
    assert_eq!((r.eta_min, r.meets_deadline), (None, Some(false)));
}

#[test]
fn bad_requests() {
    let st = fleet();
    assert_eq!(parse_need(&st, "CASQUE=3").unwrap_err().to_string(), "unknown item CASQUE");
    assert_eq!(parse_need(&st, "PLATE").unwrap_err().to_string(), "expected ITEM=QUANTITY, found \"PLATE\"");
    assert_eq!(parse_need(&st, "PLATE=-2").unwrap_err().to_string(), "PLATE: the quantity must be above 0");
    let need = parse_need(&st, "PLATE=1").unwrap();
    assert_eq!(
        reinforce(&st, "NOPE", &need, d("2024-07-26"), None, &Travel::default(), &vigie_logistics::Scope::everything())
            .unwrap_err()
            .to_string(),
        "unknown site NOPE"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Whatever the fleet and the need: no load exceeds its vehicle's payload or volume, no vehicle is used
        /// twice, nothing sent exceeds the need or a source's availability, and sent + unmet = need.
        #[test]
        fn loads_respect_every_limit(
            fleet in proptest::collection::vec((0..4usize, 1.0..300.0f64, 0.05..3.0f64), 0..8),
            plates in 1..200i64, rations in 1..200i64, water in 1..1500i64, to in 0..4usize,
        ) {
            let sites = ["SA", "SA1", "SB", "SR"];
            let mut st = world();
            let events = fleet.iter().enumerate()
                .map(|(i, (s, kg, m3))| vehicle(&format!("V{i}"), sites[*s], "truck", *kg, *m3, Condition::Serviceable))
                .collect();
            apply(&mut st, events);
            let need = parse_need(&st, &format!("PLATE={plates},RATION={rations},WATER={water}")).unwrap();
            let on = d("2024-07-26");
            let r = reinforce(&st, sites[to], &need, on, None, &Travel::default(), &vigie_logistics::Scope::everything()).unwrap();
            let mut used = std::collections::HashSet::new();
            let mut from: BTreeMap<(SiteId, ItemId), Quantity> = BTreeMap::new();
            for l in &r.loads {
                prop_assert!(used.insert(l.vehicle_id.clone()), "vehicle used twice");
                prop_assert!(l.mass_kg <= l.payload_kg + 1e-6, "{} kg in {}", l.mass_kg, l.payload_kg);
                prop_assert!(l.volume_m3 <= l.cargo_m3 + 1e-6, "{} m3 in {}", l.volume_m3, l.cargo_m3);
                prop_assert!(l.from.as_str() != sites[to]);
                for (i, q) in &l.items {
                    *from.entry((l.from.clone(), i.clone())).or_default() += *q;
                }
            }
            for ((site, item), q) in &from {
                prop_assert!(*q <= vigie_logistics::plans::available_at(&st, item, site, on));
            }
            for (item, n) in &need {
                prop_assert!(r.sent[item] <= *n);
                prop_assert_eq!(r.sent[item] + r.unmet[item], *n);
            }
        }
    }
}
