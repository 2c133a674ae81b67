//! Deploy: the solver against an exhaustive search on small instances, and the answer on a hand-computed world.

mod common;

use common::{apply, d, q, world};
use vigie_domain::*;
use vigie_logistics::deploy::solver::{self, Assignment, Carrier, Mission, Problem, Role, Unit};
use vigie_logistics::deploy::{deploy, DeployRequest};
use vigie_logistics::plans::check_commit;
use vigie_logistics::{AskError, Near, Travel};

/// Every role for every carrier, every way to share each item's need among the freight carriers: the smallest
/// (makespan, km) of a plan that seats everyone and carries everything. Written for clarity, not speed.
fn exhaustive(p: &Problem) -> Option<(f64, f64)> {
    let n = p.carriers.len();
    let mut best: Option<(f64, f64)> = None;
    for code in 0..3usize.pow(n as u32) {
        let mut roles = Vec::with_capacity(n);
        let mut x = code;
        for _ in 0..n {
            roles.push([Role::Idle, Role::Troop, Role::Freight][x % 3]);
            x /= 3;
        }
        let mut missions = Vec::new();
        let mut valid = true;
        for (c, r) in roles.iter().enumerate() {
            let m = match r {
                Role::Idle => continue,
                Role::Troop => p.carriers[c].troop,
                Role::Freight => p.carriers[c].freight.filter(|_| p.carriers[c].depot.is_some()),
            };
            match m {
                Some(m) => missions.push(m),
                None => valid = false,
            }
        }
        if !valid {
            continue;
        }
        let seats: u32 = (0..n).filter(|&c| roles[c] == Role::Troop).map(|c| p.carriers[c].seats).sum();
        if seats < p.persons {
            continue;
        }
        let freight: Vec<usize> = (0..n).filter(|&c| roles[c] == Role::Freight).collect();
        let mut loads = vec![vec![0i64; p.need.len()]; n];
        if !share(p, &freight, 0, 0, p.need.first().copied().unwrap_or(0), &mut loads) {
            continue;
        }
        let makespan = missions.iter().map(|m| m.minutes).fold(0.0, f64::max);
        let km: f64 = missions.iter().map(|m| m.km).sum();
        let better = match best {
            None => true,
            Some((t, k)) => makespan < t - 1e-9 || (makespan < t + 1e-9 && km < k - 1e-9),
        };
        if better {
            best = Some((makespan, km));
        }
    }
    best
}

/// Gives `left` more units of item `i` to freight carriers from position `k` on, then goes to the next item;
/// at the end, checks every carrier's payload and volume and every depot's stock.
fn share(p: &Problem, freight: &[usize], i: usize, k: usize, left: i64, loads: &mut Vec<Vec<i64>>) -> bool {
    if i == p.need.len() {
        return freight.iter().all(|&c| {
            let mass: f64 = (0..p.need.len()).map(|j| loads[c][j] as f64 * p.units[j].mass_kg).sum();
            let vol: f64 = (0..p.need.len()).map(|j| loads[c][j] as f64 * p.units[j].volume_m3).sum();
            mass <= p.carriers[c].payload_kg + 1e-9 && vol <= p.carriers[c].cargo_m3 + 1e-9
        }) && (0..p.stock.len()).all(|dep| {
            (0..p.need.len()).all(|j| {
                freight.iter().filter(|&&c| p.carriers[c].depot == Some(dep)).map(|&c| loads[c][j]).sum::<i64>()
                    <= p.stock[dep][j]
            })
        });
    }
    let next = |loads: &mut Vec<Vec<i64>>| share(p, freight, i + 1, 0, p.need.get(i + 1).copied().unwrap_or(0), loads);
    if left <= 0 {
        return next(loads);
    }
    if k == freight.len() {
        return false;
    }
    let c = freight[k];
    for x in 0..=left {
        loads[c][i] = x;
        if share(p, freight, i, k + 1, left - x, loads) {
            loads[c][i] = 0;
            return true;
        }
    }
    loads[c][i] = 0;
    false
}

/// The solver's plan keeps every rule of the model.
fn check_valid(p: &Problem, a: &Assignment) {
    let n = p.carriers.len();
    let mut seated = 0;
    let mut carried = vec![0i64; p.need.len()];
    let mut taken = vec![vec![0i64; p.need.len()]; p.stock.len()];
    let (mut makespan, mut km) = (0.0f64, 0.0);
    for c in 0..n {
        let carrier = &p.carriers[c];
        match a.roles[c] {
            Role::Idle => {
                assert_eq!(a.persons[c], 0);
                assert!(a.loads[c].iter().all(|&x| x == 0));
            }
            Role::Troop => {
                assert!(a.persons[c] <= carrier.seats, "seats");
                assert!(a.loads[c].iter().all(|&x| x == 0));
                let m = carrier.troop.expect("troop mission");
                makespan = makespan.max(m.minutes);
                km += m.km;
            }
            Role::Freight => {
                assert_eq!(a.persons[c], 0);
                let m = carrier.freight.expect("freight mission");
                makespan = makespan.max(m.minutes);
                km += m.km;
                let mass: f64 = (0..p.need.len()).map(|i| a.loads[c][i] as f64 * p.units[i].mass_kg).sum();
                let vol: f64 = (0..p.need.len()).map(|i| a.loads[c][i] as f64 * p.units[i].volume_m3).sum();
                assert!(mass <= carrier.payload_kg + 1e-9, "payload");
                assert!(vol <= carrier.cargo_m3 + 1e-9, "volume");
                for i in 0..p.need.len() {
                    carried[i] += a.loads[c][i];
                    taken[carrier.depot.expect("depot")][i] += a.loads[c][i];
                }
            }
        }
        seated += a.persons[c];
    }
    assert_eq!(seated, p.persons, "everyone rides");
    for (i, (c, n)) in carried.iter().zip(&p.need).enumerate() {
        assert!(c >= n, "item {i} carried");
    }
    for (dep, row) in taken.iter().enumerate() {
        for (i, &t) in row.iter().enumerate() {
            assert!(t <= p.stock[dep][i], "depot {dep} gives no more than it has");
        }
    }
    assert!((a.makespan_min - makespan).abs() < 1e-9);
    assert!((a.km - km).abs() < 1e-6);
}

mod optimality {
    use super::*;
    use proptest::prelude::*;

    fn mission() -> impl Strategy<Value = Mission> {
        // Small integer times make ties common; distance is drawn apart from time so that they can disagree.
        (1u32..12, 1u32..40).prop_map(|(t, k)| Mission { minutes: t as f64 * 10.0, km: k as f64 })
    }

    fn problem() -> impl Strategy<Value = Problem> {
        (1usize..=2, 1usize..=2, 1usize..=5).prop_flat_map(|(items, depots, carriers)| {
            let carrier = (
                prop::sample::select(vec![0u32, 1, 2, 4]),
                0u32..12,
                0u32..6,
                prop::option::weighted(0.7, 0..depots),
                prop::option::weighted(0.8, mission()),
                mission(),
            )
                .prop_map(|(seats, kg, m3, depot, troop, freight)| Carrier {
                    seats,
                    payload_kg: kg as f64,
                    cargo_m3: m3 as f64 * 0.5,
                    depot,
                    troop,
                    freight: depot.map(|_| freight),
                });
            (
                0u32..=6,
                prop::collection::vec((1u32..4, 1u32..4), items),
                prop::collection::vec(0i64..=3, items),
                prop::collection::vec(prop::collection::vec(0i64..=4, items), depots),
                prop::collection::vec(carrier, carriers),
            )
                .prop_map(|(persons, units, need, stock, carriers)| Problem {
                    persons,
                    units: units
                        .into_iter()
                        .map(|(m, v)| Unit { mass_kg: m as f64, volume_m3: v as f64 * 0.25 })
                        .collect(),
                    need,
                    stock,
                    carriers,
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// Soonest, then shortest: the solver finds the exhaustive optimum, proves it, and its plan keeps the rules.
        #[test]
        fn solver_matches_exhaustive_search(p in problem()) {
            let expected = exhaustive(&p);
            let got = solver::solve(&p, 1_000_000);
            prop_assert!(got.proven, "small instances are searched to the end");
            match (&got.best, expected) {
                (None, None) => {}
                (Some(a), Some((t, km))) => {
                    check_valid(&p, a);
                    prop_assert!((a.makespan_min - t).abs() < 1e-9, "makespan {} vs exhaustive {t}", a.makespan_min);
                    prop_assert!((a.km - km).abs() < 1e-6, "km {} vs exhaustive {km}", a.km);
                    prop_assert_eq!(got.makespan_lower_bound, Some(a.makespan_min), "proven: the bound is reached");
                    prop_assert_eq!(got.km_lower_bound, Some(a.km), "proven: the bound is reached");
                }
                (got, expected) => prop_assert!(false, "solver {got:?} vs exhaustive {expected:?}"),
            }
        }

        /// Without any search budget, only the quick plan is built: whatever comes back keeps the rules, its bounds
        /// never exceed the exhaustive optimum, and it claims a proof only where it has one.
        #[test]
        fn a_starved_search_never_claims_more_than_it_knows(p in problem()) {
            let expected = exhaustive(&p);
            let got = solver::solve(&p, 0);
            if let (Some(lb), Some((t, _))) = (got.makespan_lower_bound, expected) {
                prop_assert!(lb <= t + 1e-9, "makespan bound {lb} above the optimum {t}");
            }
            if expected.is_some() && got.proven {
                prop_assert!(got.best.is_some(), "a proof that no plan exists, where one does");
            }
            if let Some(a) = &got.best {
                check_valid(&p, a);
                let (t, km) = expected.expect("a valid plan exists, so the exhaustive search finds one");
                prop_assert!(a.makespan_min >= t - 1e-9);
                if (a.makespan_min - t).abs() < 1e-9 {
                    let lb = got.km_lower_bound.expect("a plan has a distance bound");
                    prop_assert!(lb <= km + 1e-6 && lb <= a.km + 1e-6, "km bound {lb}, optimum {km}, plan {}", a.km);
                }
                if got.proven {
                    prop_assert!((a.makespan_min - t).abs() < 1e-9 && (a.km - km).abs() < 1e-6);
                }
            }
        }
    }

    /// Large needs (packing only greedy): a fleet where every depot holds the whole need and one carrier there
    /// could take it all gets a valid plan, with the budget spent or not, and its bounds hold.
    #[test]
    fn large_needs_always_get_a_plan_when_the_fleet_obviously_suffices() {
        let mut rng = 0x9e3779b97f4a7c15u64;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        for _ in 0..200 {
            let items = 1 + next(4) as usize;
            let depots = 1 + next(5) as usize;
            let units: Vec<Unit> = (0..items)
                .map(|_| Unit { mass_kg: 1.0 + next(20) as f64, volume_m3: 0.01 * (1 + next(10)) as f64 })
                .collect();
            let need: Vec<i64> = (0..items).map(|_| 101 + next(300) as i64).collect();
            let (kg, m3): (f64, f64) = need
                .iter()
                .zip(&units)
                .map(|(&n, u)| (n as f64 * u.mass_kg, n as f64 * u.volume_m3))
                .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
            let persons = next(120) as u32;
            let mut carriers = Vec::new();
            for d in 0..depots {
                let t = 10.0 + next(300) as f64;
                // One carrier that takes everything, and smaller ones.
                carriers.push(Carrier {
                    seats: 2,
                    payload_kg: kg,
                    cargo_m3: m3,
                    depot: Some(d),
                    troop: Some(Mission { minutes: t + 30.0, km: t }),
                    freight: Some(Mission { minutes: t, km: t }),
                });
                for _ in 0..next(6) {
                    let t = 10.0 + next(300) as f64;
                    carriers.push(Carrier {
                        seats: 4,
                        payload_kg: 1.0 + next(800) as f64,
                        cargo_m3: 0.1 + next(30) as f64 * 0.1,
                        depot: Some(d),
                        troop: Some(Mission { minutes: t + 20.0, km: t }),
                        freight: Some(Mission { minutes: t, km: t }),
                    });
                }
            }
            for _ in 0..(persons / 40 + 1) {
                let t = 10.0 + next(300) as f64;
                carriers.push(Carrier {
                    seats: 50,
                    payload_kg: 0.0,
                    cargo_m3: 0.0,
                    depot: None,
                    troop: Some(Mission { minutes: t, km: t }),
                    freight: None,
                });
            }
            let p = Problem { persons, units, need: need.clone(), stock: vec![need; depots], carriers };
            for budget in [0, 10_000] {
                let got = solver::solve(&p, budget);
                let a = got.best.as_ref().expect("the fleet obviously suffices");
                check_valid(&p, a);
                assert!(got.makespan_lower_bound.unwrap() <= a.makespan_min + 1e-9);
                assert!(got.km_lower_bound.unwrap() <= a.km + 1e-6);
                assert!(!got.proven, "greedy packing proves nothing about the distance");
            }
        }
    }
}

/// A small case the search must get right even though the nearest truck is the wrong choice: the near truck's
/// depot lacks what the far one holds.
#[test]
fn the_depot_that_holds_the_kit_wins_over_the_nearest() {
    let m = |minutes: f64, km: f64| Some(Mission { minutes, km });
    let p = Problem {
        persons: 3,
        units: vec![Unit { mass_kg: 2.0, volume_m3: 0.1 }, Unit { mass_kg: 1.0, volume_m3: 0.1 }],
        need: vec![3, 4],
        stock: vec![vec![3, 0], vec![5, 5]],
        carriers: vec![
            Carrier {
                seats: 2,
                payload_kg: 100.0,
                cargo_m3: 10.0,
                depot: Some(0),
                troop: m(30.0, 30.0),
                freight: m(20.0, 20.0),
            },
            Carrier {
                seats: 2,
                payload_kg: 100.0,
                cargo_m3: 10.0,
                depot: Some(1),
                troop: m(90.0, 90.0),
                freight: m(60.0, 60.0),
            },
            Carrier { seats: 4, payload_kg: 0.0, cargo_m3: 0.0, depot: None, troop: m(50.0, 45.0), freight: None },
            Carrier { seats: 4, payload_kg: 0.0, cargo_m3: 0.0, depot: None, troop: m(40.0, 80.0), freight: None },
        ],
    };
    let out = solver::solve(&p, 100_000);
    let a = out.best.expect("a plan");
    check_valid(&p, &a);
    // Depot 1 must send (item 1 is only there): 60 min. By then the bus at 45 km (50 min) is the shortest way to
    // carry the 3 persons; carrier 0 stays idle (its freight alone is not enough, the bus covers the persons).
    assert_eq!(a.roles, vec![Role::Idle, Role::Freight, Role::Troop, Role::Idle]);
    assert_eq!((a.makespan_min, a.km), (60.0, 105.0));
    assert_eq!(a.loads[1], vec![3, 4]);
    assert!(out.proven);
    assert_eq!(exhaustive(&p), Some((60.0, 105.0)));
}

fn vehicle(id: &str, site: &str, kind: &str, seats: u32, kg: f64, m3: f64) -> Event {
    Event::VehicleUpserted(Vehicle {
        id: VehicleId::parse(id).unwrap(),
        site_id: SiteId::parse(site).unwrap(),
        kind: kind.into(),
        seats,
        payload_kg: kg,
        cargo_m3: m3,
        speed_kmh: None,
        condition: Condition::Serviceable,
        attributes: Default::default(),
    })
}

fn request(st: &State, from: &str, to: &str, headcount: u32) -> DeployRequest {
    DeployRequest {
        from: Near::parse(st, from),
        to: Near::parse(st, to),
        headcount,
        days: 1,
        on: d("2024-07-26"),
        deadline_min: None,
        within_km: 150.0,
        sources: vigie_logistics::Scope::everything(),
    }
}

/// The world of definitions.rs with: a 4-seat bus at SA1, a 60 kg truck at SA, a 100 kg truck at SB (water is only
/// there), a 4-seat light vehicle at SR. Four persons deploy from SA to SR for one day.
#[test]
fn hand_computed_deployment_from_sa_to_sr() {
    let mut st = world();
    apply(
        &mut st,
        vec![
            vehicle("B1", "SA1", "bus", 4, 0.0, 0.0),
            vehicle("T1", "SA", "truck", 2, 60.0, 40.0),
            vehicle("T2", "SB", "truck", 2, 100.0, 40.0),
            vehicle("L1", "SR", "light", 4, 50.0, 1.5),
        ],
    );
    let travel = Travel::default();
    let r = deploy(&st, &request(&st, "SA", "SR", 4), &travel).unwrap();
    // Kit for 4 persons and 1 day: 8 plates, 4 rations, 8 bottles of water; SR holds none.
    let kit: Vec<(&str, Quantity, Quantity)> = r.kit.iter().map(|k| (k.item_id.as_str(), k.need, k.to_bring)).collect();
    assert_eq!(kit, vec![("PLATE", q(8), q(8)), ("RATION", q(4), q(4)), ("WATER", q(8), q(8))]);
    let pos = |s: &str| st.sites[s].value.position();
    let road = |a: &str, b: &str| pos(a).distance_km(pos(b)) * 1.3;
    // Water is only at SB: T2 brings it (70 km/h), and that sets the arrival. Rations are only at SA and SA1, and
    // only T1 can load there. The persons: B1 (SA1 → SA → SR) covers fewer km than L1 (SR → SA → SR) or T1.
    let roles: Vec<(&str, &str)> = r.legs.iter().map(|l| (l.vehicle_id.as_str(), l.role)).collect();
    assert_eq!(roles, vec![("B1", "persons"), ("T1", "kit"), ("T2", "kit")]);
    let t2 = &r.legs[2];
    assert_eq!(t2.items[&ItemId::parse("WATER").unwrap()], q(8));
    assert!((t2.eta_min - road("SB", "SR") / 70.0 * 60.0).abs() < 1e-9);
    assert_eq!(r.eta_min, Some(t2.eta_min));
    let t1 = &r.legs[1];
    assert_eq!(t1.items.get(&ItemId::parse("RATION").unwrap()), Some(&q(4)));
    // Plates: T1 takes the 8 from SA, or T2 takes 5 from SB and T1 the rest: either way 8 arrive.
    let plates: Quantity = r.legs.iter().filter_map(|l| l.items.get(&ItemId::parse("PLATE").unwrap())).copied().sum();
    assert_eq!(plates, q(8));
    let b1 = &r.legs[0];
    assert_eq!(b1.persons, 4);
    assert_eq!(b1.route.len(), 2);
    let km = road("SA1", "SA") + road("SA", "SR") + road("SA", "SR") + road("SB", "SR");
    assert!((r.vehicle_km - km).abs() < 1e-6, "{} vs {km}", r.vehicle_km);
    assert!(r.optimal);
    assert_eq!(r.shortfall.persons, 0);
    assert!(r.shortfall.items.is_empty());
    // Near the departure: SA's and SA1's stock and vehicles; the truck at SB is 600 km away.
    let near: Vec<&str> = r.near_departure.vehicles.iter().map(|v| v.vehicle_id.as_str()).collect();
    assert_eq!(near, vec!["T1", "B1", "L1"]);
    assert_eq!(r.near_departure.stock[0].site_id.as_str(), "SA");
    // The proposal commits as it is: troop vehicles are held wherever they stand.
    let plan: Plan = serde_json::from_value({
        let mut v = r.proposed_plan.clone().expect("destination is a site");
        v["id"] = "P-DEPLOY".into();
        v
    })
    .unwrap();
    assert_eq!(plan.vehicles, vec![VehicleId::parse("B1").unwrap()]);
    check_commit(&st, &plan, d("2024-07-26")).unwrap();
}

#[test]
fn what_cannot_be_brought_is_a_shortfall_and_the_destination_stock_counts() {
    let mut st = world();
    apply(&mut st, vec![vehicle("B1", "SA1", "bus", 3, 0.0, 0.0), vehicle("T1", "SA", "truck", 2, 60.0, 40.0)]);
    let travel = Travel::default();
    // To SR: no vehicle at SB, so no water at all. T1 alone can load plates and rations (at SA), so it cannot seat
    // persons: the largest group that arrives with its kit is B1's 3 persons, with 6 plates and 3 rations.
    let r = deploy(&st, &request(&st, "SA", "SR", 6), &travel).unwrap();
    let short: Vec<(&str, Quantity)> = r.shortfall.items.iter().map(|(i, q)| (i.as_str(), *q)).collect();
    assert_eq!(short, vec![("PLATE", q(6)), ("RATION", q(3)), ("WATER", q(12))]);
    assert_eq!(r.shortfall.persons, 3);
    let roles: Vec<(&str, &str, u32)> = r.legs.iter().map(|l| (l.vehicle_id.as_str(), l.role, l.persons)).collect();
    assert_eq!(roles, vec![("B1", "persons", 3), ("T1", "kit", 0)]);
    assert!(r.optimal, "the best plan for the group that can go");
    // To SB, which holds 5 plates and the water: only 7 plates, 6 rations remain to bring.
    let r = deploy(&st, &request(&st, "SA", "SB", 6), &travel).unwrap();
    let to_bring: Vec<(&str, Quantity, Quantity)> =
        r.kit.iter().map(|k| (k.item_id.as_str(), k.on_site, k.to_bring)).collect();
    assert_eq!(to_bring, vec![("PLATE", q(5), q(7)), ("RATION", q(0), q(6)), ("WATER", q(12), q(0))]);
}

#[test]
fn bad_questions_get_clear_errors() {
    let st = world();
    let travel = Travel::default();
    let e = deploy(&st, &request(&st, "SA", "SR", 0), &travel).unwrap_err();
    assert_eq!(e.to_string(), "the headcount must be at least 1");
    let e = deploy(&st, &request(&st, "SA", "Nowhere-sur-Mer", 5), &travel).unwrap_err();
    assert!(matches!(e, AskError::Place(_)), "{e}");
}
