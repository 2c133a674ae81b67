//! The hand-computed data set shared by the logistics tests (see definitions.rs for the story).

#![allow(dead_code)]

use chrono::NaiveDate;
use vigie_domain::*;

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn world() -> State {
    let mut st = State::new();
    let apply = |st: &mut State, event: Event| {
        let seq = st.last_seq + 1;
        st.apply(&Envelope {
            seq,
            id: uuid::Uuid::from_u128(seq as u128),
            time: chrono::DateTime::from_timestamp(1_721_000_000, 0).unwrap(),
            actor: Actor::system("test"),
            origin: "t".into(),
            source: "test".into(),
            event,
        });
    };
    for (id, level, parent) in [
        ("ROOT", OrgLevel::Strategic, None),
        ("A", OrgLevel::Tactical, Some("ROOT")),
        ("A1", OrgLevel::Tactical, Some("A")),
        ("B", OrgLevel::Tactical, Some("ROOT")),
    ] {
        apply(
            &mut st,
            Event::OrganizationUpserted(Organization {
                id: OrgId::parse(id).unwrap(),
                name: format!("Org {id}"),
                level,
                parent_id: parent.map(|p| OrgId::parse(p).unwrap()),
                attributes: Default::default(),
            }),
        );
    }
    for (id, org, lat, lon) in
        [("SA", "A", 48.0, 2.0), ("SA1", "A1", 48.1, 2.0), ("SB", "B", 43.3, 5.4), ("SR", "ROOT", 48.8, 2.3)]
    {
        apply(
            &mut st,
            Event::SiteUpserted(Site {
                id: SiteId::parse(id).unwrap(),
                name: format!("Site {id}"),
                kind: SiteKind::Depot,
                lat,
                lon,
                organization_id: OrgId::parse(org).unwrap(),
                city: String::new(),
                attributes: Default::default(),
            }),
        );
    }
    for id in ["PLATE", "RATION", "WATER", "TENT"] {
        apply(
            &mut st,
            Event::ItemUpserted(Item {
                id: ItemId::parse(id).unwrap(),
                name: id.to_lowercase(),
                category: "c".into(),
                unit: "each".into(),
                unit_mass_kg: 1.0,
                unit_volume_m3: 0.01,
                attributes: Default::default(),
            }),
        );
    }
    for (item, basis, q) in [
        ("PLATE", AllowanceBasis::Person, 2),
        ("RATION", AllowanceBasis::PersonDay, 1),
        ("WATER", AllowanceBasis::PersonDay, 2),
    ] {
        apply(
            &mut st,
            Event::AllowanceSet(Allowance {
                item_id: ItemId::parse(item).unwrap(),
                basis,
                quantity: Quantity::from_units(q),
                attributes: Default::default(),
            }),
        );
    }
    let line = |item: &str, q: i64, cond: Condition, exp: Option<&str>| StockLine {
        item_id: ItemId::parse(item).unwrap(),
        quantity: Quantity::from_units(q),
        condition: cond,
        lot: None,
        expires_on: exp.map(d),
        counted_at: chrono::DateTime::from_timestamp(1_721_900_000, 0).unwrap(),
        attributes: Default::default(),
    };
    use Condition::*;
    for (site, lines) in [
        (
            "SA",
            vec![
                line("PLATE", 100, Serviceable, None),
                line("PLATE", 10, Unserviceable, None),
                line("RATION", 50, Serviceable, Some("2024-07-26")),
                line("RATION", 30, Serviceable, Some("2024-07-25")),
            ],
        ),
        ("SA1", vec![line("PLATE", 40, Serviceable, None), line("RATION", 20, Serviceable, None)]),
        ("SB", vec![line("PLATE", 5, Serviceable, None), line("WATER", 1000, Serviceable, None)]),
    ] {
        apply(&mut st, Event::StockCounted(StockCount { site_id: SiteId::parse(site).unwrap(), lines }));
    }
    for (id, site, org, n, from, to) in [
        ("F1", "SA", "A", 30, "2024-07-20", "2024-07-30"),
        ("F2", "SA1", "A1", 10, "2024-07-26", "2024-07-26"),
        ("F3", "SB", "B", 50, "2024-07-27", "2024-08-01"),
        ("F4", "SR", "ROOT", 5, "2024-07-01", "2024-08-31"),
    ] {
        apply(
            &mut st,
            Event::ForceUpserted(Force {
                id: ForceId::parse(id).unwrap(),
                name: id.into(),
                site_id: SiteId::parse(site).unwrap(),
                headcount: n,
                organization_id: OrgId::parse(org).unwrap(),
                starts_on: d(from),
                ends_on: d(to),
                attributes: Default::default(),
            }),
        );
    }
    st
}

/// Applies events as the journal would, after the state's last sequence.
pub fn apply(st: &mut State, events: Vec<Event>) {
    for event in events {
        let seq = st.last_seq + 1;
        st.apply(&Envelope {
            seq,
            id: uuid::Uuid::from_u128(seq as u128),
            time: chrono::DateTime::from_timestamp(1_722_000_000 + seq as i64, 0).unwrap(),
            actor: Actor::system("test"),
            origin: "t".into(),
            source: "test".into(),
            event,
        });
    }
}

pub fn q(n: i64) -> Quantity {
    Quantity::from_units(n)
}
