//! Shift of effort (and its dry run) and what-if scenarios, on the hand-computed world of definitions.rs.

mod common;

use common::{apply, d, q, world};
use vigie_domain::*;
use vigie_logistics::whatif::*;
use vigie_logistics::{sufficiency, Figures, Scope};

fn plates(st: &State, org: Option<&str>) -> Figures {
    let scope = org.map_or_else(Scope::everything, |o| Scope::of(st, o).unwrap());
    sufficiency(st, &ItemId::parse("PLATE").unwrap(), d("2024-07-26"), 1, &scope).unwrap().figures
}

#[test]
fn a_shift_moves_sites_and_their_forces_and_its_dry_run_says_so() {
    let mut st = world();
    // B can no longer support SB: A takes over (F3 at SB, not engaged on D, follows).
    let shift = propose_shift(&st, "B", "A", None, "GS B failing").unwrap();
    assert_eq!(shift.sites, vec![SiteId::parse("SB").unwrap()]);
    let effect = shift_effect(&st, &shift, d("2024-07-26"), 1).unwrap();
    let of = |org: &str| effect.iter().find(|e| e.organization_id.as_str() == org).unwrap();
    // Each organisation's own sites and forces (A1, A's child, is its own row).
    let a_plates = of("A").items.iter().find(|i| i.item.as_str() == "PLATE").unwrap();
    assert_eq!((a_plates.before.serviceable, a_plates.after.serviceable), (q(100), q(105)));
    let b_plates = of("B").items.iter().find(|i| i.item.as_str() == "PLATE").unwrap();
    assert_eq!((b_plates.before.serviceable, b_plates.after.serviceable), (q(5), q(0)));
    assert!(of("ROOT").items.is_empty(), "ROOT's own site is untouched");
    assert!(of("A1").items.is_empty());
    // What changes hands, by name: the site and the force on it.
    let (sites, forces) = shift_moves(&st, &shift);
    assert_eq!(sites.iter().map(|s| (s.id.as_str(), s.name.as_str())).collect::<Vec<_>>(), [("SB", "Site SB")]);
    assert_eq!(forces.iter().map(|f| (f.id.as_str(), f.headcount)).collect::<Vec<_>>(), [("F3", Some(50))]);
    assert_eq!(plates(&st, Some("A")).serviceable, q(140), "a dry run writes nothing");

    apply(&mut st, vec![Event::SupportShifted(shift)]);
    assert_eq!(plates(&st, Some("A")).serviceable, q(145));
    assert_eq!(st.sites[&SiteId::parse("SB").unwrap()].value.organization_id.as_str(), "A");
    assert_eq!(st.forces[&ForceId::parse("F3").unwrap()].value.organization_id.as_str(), "A");
    // The next day F3 is engaged: its need now counts for A.
    let a =
        sufficiency(&st, &ItemId::parse("PLATE").unwrap(), d("2024-07-27"), 1, &Scope::of(&st, "A").unwrap()).unwrap();
    assert_eq!(a.figures.need, q(2 * (30 + 50)));
}

/// A child's sites taken over by its parent: the parent's own figures move (a subtree view would hide it, the child
/// being already inside the parent's scope).
#[test]
fn a_parent_taking_over_its_child_sees_its_own_figures_move() {
    let st = world();
    let shift = propose_shift(&st, "A1", "A", None, "A1 failing").unwrap();
    let effect = shift_effect(&st, &shift, d("2024-07-26"), 1).unwrap();
    let plates = |org: &str| {
        let e = effect.iter().find(|e| e.organization_id.as_str() == org).unwrap();
        e.items.iter().find(|i| i.item.as_str() == "PLATE").map(|i| (i.before.need, i.after.need))
    };
    assert_eq!(plates("A"), Some((q(60), q(80))), "A takes F2's need");
    assert_eq!(plates("A1"), Some((q(20), q(0))));
}

#[test]
fn shifts_are_checked() {
    let st = world();
    assert_eq!(
        propose_shift(&st, "A", "A", None, "").unwrap_err().to_string(),
        "a shift of effort goes from one organization to another"
    );
    assert_eq!(propose_shift(&st, "A", "Z", None, "").unwrap_err().to_string(), "unknown organization Z");
    let e = propose_shift(&st, "A", "B", Some(&[SiteId::parse("SB").unwrap()]), "").unwrap_err();
    assert_eq!(e.to_string(), "site SB is supported by B, not A");
    let only = propose_shift(&st, "A", "B", Some(&[SiteId::parse("SA").unwrap()]), "").unwrap();
    assert_eq!(only.sites.len(), 1);
}

#[test]
fn scenarios_change_a_copy_only() {
    let st = world();
    let text = r#"{
        "name": "perte du dépôt SA et renfort",
        "changes": [
            {"lose_site": {"site": "SA"}},
            {"stock_unusable": {"site": "SA1", "item": "RATION"}},
            {"add_force": {"id": "F5", "name": "Renfort", "site_id": "SB", "headcount": 100, "organization_id": "B",
                           "starts_on": "2024-07-25", "ends_on": "2024-07-31"}},
            {"withdraw_force": {"force": "F1"}}
        ]
    }"#;
    let scenario: Scenario = serde_json::from_str(text).unwrap();
    let after = apply_scenario(&st, &scenario).unwrap();
    // Plates: SA's 100 + 10 are lost; need = 2 × (10 + 5 + 100) once F1 is withdrawn and F5 added.
    let f = plates(&after, None);
    assert_eq!((f.need, f.on_hand, f.serviceable), (q(230), q(45), q(45)));
    let rations =
        sufficiency(&after, &ItemId::parse("RATION").unwrap(), d("2024-07-26"), 1, &Scope::everything()).unwrap();
    assert_eq!(rations.figures.serviceable, q(0), "SA's rations are lost, SA1's unusable");
    assert_eq!(plates(&st, None).serviceable, q(145), "the real state is untouched");
    // Bad scenarios are refused with the reason.
    let bad: Scenario = serde_json::from_str(r#"{"changes": [{"lose_site": {"site": "NOPE"}}]}"#).unwrap();
    assert_eq!(apply_scenario(&st, &bad).unwrap_err().to_string(), "unknown site NOPE");
    assert!(serde_json::from_str::<Scenario>(r#"{"changes": [{"burn_site": {}}]}"#).is_err());
}
