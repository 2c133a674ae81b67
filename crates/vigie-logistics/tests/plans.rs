//! Plans: commit reserves, ship puts on the road, receive delivers, cancel releases; nothing is created or lost.

mod common;

use common::{apply, d, q, world};
use vigie_domain::*;
use vigie_logistics::plans::{available_at, check_commit, check_step};
use vigie_logistics::{sufficiency, Figures, Scope};

fn plan(id: &str, from: &str, to: &str, item: &str, n: i64, vehicle: Option<&str>) -> Plan {
    Plan {
        id: PlanId(id.into()),
        destination: SiteId::parse(to).unwrap(),
        movements: vec![Movement {
            from: SiteId::parse(from).unwrap(),
            item_id: ItemId::parse(item).unwrap(),
            quantity: q(n),
            vehicle_id: vehicle.map(|v| VehicleId::parse(v).unwrap()),
        }],
        vehicles: vec![],
        purpose: "test".into(),
        note: String::new(),
    }
}

fn plates(st: &State) -> Figures {
    sufficiency(st, &ItemId::parse("PLATE").unwrap(), d("2024-07-26"), 1, &Scope::everything()).unwrap().figures
}

fn step(st: &mut State, id: &str, to: PlanStatus) {
    check_step(st, id, to).unwrap();
    let s = PlanStep { plan_id: PlanId(id.into()) };
    apply(
        st,
        vec![match to {
            PlanStatus::Shipped => Event::PlanShipped(s),
            PlanStatus::Received => Event::PlanReceived(s),
            PlanStatus::Cancelled => Event::PlanCancelled(s),
            PlanStatus::Committed => unreachable!("not a step"),
        }],
    );
}

#[test]
fn quantities_are_conserved_through_reserve_ship_receive() {
    let mut st = world();
    let on = d("2024-07-26");
    let sa = SiteId::parse("SA").unwrap();
    let plate = ItemId::parse("PLATE").unwrap();
    let before = plates(&st);
    assert_eq!((before.on_hand, before.serviceable, before.available), (q(155), q(145), q(145)));

    let p = plan("P1", "SA", "SB", "PLATE", 60, None);
    check_commit(&st, &p, on).unwrap();
    apply(&mut st, vec![Event::PlanCommitted(p)]);
    let f = plates(&st);
    assert_eq!((f.on_hand, f.reserved, f.available, f.in_transit), (q(155), q(60), q(85), q(0)));
    assert_eq!(available_at(&st, &plate, &sa, on), q(40));

    step(&mut st, "P1", PlanStatus::Shipped);
    let f = plates(&st);
    // Left SA, on the road to SB: on hand + in transit is what it was.
    assert_eq!((f.on_hand, f.reserved, f.in_transit, f.available), (q(95), q(0), q(60), q(85)));
    assert_eq!(f.on_hand + f.in_transit, before.on_hand);

    step(&mut st, "P1", PlanStatus::Received);
    let f = plates(&st);
    assert_eq!((f.on_hand, f.reserved, f.in_transit, f.available), (q(155), q(0), q(0), q(145)));
    assert_eq!(available_at(&st, &plate, &SiteId::parse("SB").unwrap(), on), q(65));

    // A new count at SA replaces what it held and every movement since.
    apply(
        &mut st,
        vec![Event::StockCounted(StockCount {
            site_id: sa.clone(),
            lines: vec![StockLine {
                item_id: plate.clone(),
                quantity: q(7),
                condition: Condition::Serviceable,
                lot: None,
                expires_on: None,
                counted_at: chrono::DateTime::from_timestamp(1_723_000_000, 0).unwrap(),
                attributes: Default::default(),
            }],
        })],
    );
    assert_eq!(available_at(&st, &plate, &sa, on), q(7));
}

/// A committed plan is not a shortfall: what it will bring counts at its destination (incoming) from the commit to
/// the receipt, so the nation's figures do not move while the stock is on its way.
#[test]
fn what_a_plan_brings_covers_its_destination_from_commit_to_receipt() {
    let mut st = world();
    let sr = |st: &State| {
        let s = sufficiency(st, &ItemId::parse("PLATE").unwrap(), d("2024-07-26"), 1, &Scope::everything()).unwrap();
        let row = s.by_site.into_iter().find(|x| x.site_id.as_str() == "SR").unwrap();
        (row.figures.incoming, row.figures.shortfall, row.uncovered)
    };
    assert_eq!(sr(&st), (q(0), q(10), q(10)));
    let total = |st: &State| {
        let f = plates(st);
        (f.available + f.incoming, f.shortfall)
    };
    let before = total(&st);
    apply(&mut st, vec![Event::PlanCommitted(plan("P1", "SA", "SR", "PLATE", 10, None))]);
    assert_eq!(sr(&st), (q(10), q(0), q(0)), "reserved for SR: covered");
    assert_eq!(total(&st), before, "a reservation moves nothing nationally");
    step(&mut st, "P1", PlanStatus::Shipped);
    assert_eq!(sr(&st), (q(10), q(0), q(0)), "in transit to SR: covered");
    assert_eq!(total(&st), before);
    step(&mut st, "P1", PlanStatus::Received);
    assert_eq!(sr(&st), (q(0), q(0), q(0)), "held at SR");
    assert_eq!(total(&st), before);
}

#[test]
fn cancel_releases_and_steps_follow_the_order() {
    let mut st = world();
    let on = d("2024-07-26");
    let p = plan("P2", "SA1", "SA", "PLATE", 40, None);
    apply(&mut st, vec![Event::PlanCommitted(p)]);
    assert_eq!(plates(&st).reserved, q(40));
    assert_eq!(
        check_step(&st, "P2", PlanStatus::Received).unwrap_err().to_string(),
        "plan P2 is committed: it cannot become received"
    );
    step(&mut st, "P2", PlanStatus::Cancelled);
    assert_eq!(plates(&st), world_plates());
    assert!(check_step(&st, "P2", PlanStatus::Shipped).is_err(), "a cancelled plan stays cancelled");
    assert_eq!(check_step(&st, "NOPE", PlanStatus::Shipped).unwrap_err().to_string(), "unknown plan NOPE");
    // The same quantity can be committed again once released.
    check_commit(&st, &plan("P3", "SA1", "SA", "PLATE", 40, None), on).unwrap();
}

fn world_plates() -> Figures {
    plates(&world())
}

#[test]
fn a_plan_never_takes_more_than_is_available() {
    let mut st = world();
    let on = d("2024-07-26");
    // SA holds 100 serviceable plates (the 10 unserviceable do not count).
    let e = check_commit(&st, &plan("P4", "SA", "SB", "PLATE", 101, None), on).unwrap_err();
    assert_eq!(e.to_string(), "not available: 101 PLATE wanted from SA, 100 available");
    apply(&mut st, vec![Event::PlanCommitted(plan("P5", "SA", "SB", "PLATE", 70, None))]);
    let e = check_commit(&st, &plan("P6", "SA", "SB", "PLATE", 31, None), on).unwrap_err();
    assert_eq!(e.to_string(), "not available: 31 PLATE wanted from SA, 30 available");
    check_commit(&st, &plan("P7", "SA", "SB", "PLATE", 30, None), on).unwrap();
    // Expired stock is not available: of SA's 80 rations, 30 expired the day before.
    let e = check_commit(&st, &plan("P8", "SA", "SB", "RATION", 51, None), on).unwrap_err();
    assert_eq!(e.to_string(), "not available: 51 RATION wanted from SA, 50 available");
    // Two movements of the same item from the same site add up.
    let mut two = plan("P9", "SA1", "SA", "PLATE", 25, None);
    two.movements.push(two.movements[0].clone());
    assert!(check_commit(&st, &two, on).is_err(), "25 + 25 of 40");
}

#[test]
fn vehicles_are_held_by_one_active_plan_at_a_time() {
    let mut st = world();
    let on = d("2024-07-26");
    let truck = |id: &str, site: &str, cond: Condition| {
        Event::VehicleUpserted(Vehicle {
            id: VehicleId::parse(id).unwrap(),
            site_id: SiteId::parse(site).unwrap(),
            kind: "truck".into(),
            seats: 2,
            payload_kg: 10_000.0,
            cargo_m3: 40.0,
            speed_kmh: None,
            condition: cond,
            attributes: Default::default(),
        })
    };
    apply(&mut st, vec![truck("T1", "SA", Condition::Serviceable), truck("T2", "SA", Condition::Unserviceable)]);
    apply(&mut st, vec![Event::PlanCommitted(plan("P10", "SA", "SB", "PLATE", 10, Some("T1")))]);
    let e = check_commit(&st, &plan("P11", "SA", "SB", "PLATE", 10, Some("T1")), on).unwrap_err();
    assert_eq!(e.to_string(), "not available: vehicle T1 is held by plan P10");
    let e = check_commit(&st, &plan("P12", "SA", "SB", "PLATE", 10, Some("T2")), on).unwrap_err();
    assert_eq!(e.to_string(), "not available: vehicle T2 is unserviceable");
    let e = check_commit(&st, &plan("P13", "SA1", "SB", "PLATE", 10, Some("T1")), on).unwrap_err();
    assert!(e.to_string().contains("held by plan P10"), "{e}");
    step(&mut st, "P10", PlanStatus::Shipped);
    assert!(check_commit(&st, &plan("P14", "SA", "SB", "PLATE", 10, Some("T1")), on).is_err(), "still on the road");
    step(&mut st, "P10", PlanStatus::Received);
    check_commit(&st, &plan("P15", "SA", "SB", "PLATE", 10, Some("T1")), on).unwrap();
    let e = check_commit(&st, &plan("P16", "SA1", "SB", "PLATE", 10, Some("T1")), on).unwrap_err();
    assert_eq!(e.to_string(), "vehicle T1 stands at SA, not at SA1 where it would load");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Commit { from: usize, to: usize, item: usize, n: i64 },
        Ship(usize),
        Receive(usize),
        Cancel(usize),
    }

    const SITES: [&str; 4] = ["SA", "SA1", "SB", "SR"];
    const ITEMS: [&str; 3] = ["PLATE", "RATION", "WATER"];

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..4usize, 0..4usize, 0..3usize, 1..120i64).prop_map(|(from, to, item, n)| Op::Commit {
                from,
                to,
                item,
                n
            }),
            (0..12usize).prop_map(Op::Ship),
            (0..12usize).prop_map(Op::Receive),
            (0..12usize).prop_map(Op::Cancel),
        ]
    }

    fn totals(st: &State, item: &str) -> (Quantity, Quantity) {
        let f =
            sufficiency(st, &ItemId::parse(item).unwrap(), d("2024-07-26"), 1, &Scope::everything()).unwrap().figures;
        (f.on_hand + f.in_transit, f.reserved)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Whatever the order of commits and steps: a commit that passes never leaves a site with more reserved
        /// than serviceable, refused steps change nothing, and on hand + in transit of every item is conserved.
        #[test]
        fn plans_conserve_and_never_oversubscribe(ops in proptest::collection::vec(op(), 1..40)) {
            let mut st = world();
            let on = d("2024-07-26");
            let start: Vec<_> = ITEMS.iter().map(|i| totals(&st, i).0).collect();
            let mut ids = Vec::new();
            for (k, o) in ops.into_iter().enumerate() {
                match o {
                    Op::Commit { from, to, item, n } => {
                        let p = plan(&format!("P{k}"), SITES[from], SITES[to], ITEMS[item], n, None);
                        if check_commit(&st, &p, on).is_ok() {
                            ids.push(p.id.0.clone());
                            apply(&mut st, vec![Event::PlanCommitted(p)]);
                        }
                    }
                    Op::Ship(i) | Op::Receive(i) | Op::Cancel(i) => {
                        let Some(id) = ids.get(i).cloned() else { continue };
                        let (to, make): (PlanStatus, fn(PlanStep) -> Event) = match o {
                            Op::Ship(_) => (PlanStatus::Shipped, Event::PlanShipped),
                            Op::Receive(_) => (PlanStatus::Received, Event::PlanReceived),
                            _ => (PlanStatus::Cancelled, Event::PlanCancelled),
                        };
                        if check_step(&st, &id, to).is_ok() {
                            apply(&mut st, vec![make(PlanStep { plan_id: PlanId(id) })]);
                        }
                    }
                }
                for (i, item) in ITEMS.iter().enumerate() {
                    prop_assert_eq!(totals(&st, item).0, start[i], "{} conserved", item);
                    for site in SITES {
                        let a = available_at(&st, &ItemId::parse(item).unwrap(), &SiteId::parse(site).unwrap(), on);
                        prop_assert!(a >= Quantity::ZERO, "{} at {}: available {:?}", item, site, a);
                    }
                }
            }
        }
    }
}
