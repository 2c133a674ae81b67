//! The definitions of docs/logistics.md, checked on a small data set whose answers are computed by hand.
//!
//! Organisations: ROOT (strategic) > A > A1, and ROOT > B. Day D = 2024-07-26.
//! Stock: SA (A): PLATE 100 serviceable + 10 unserviceable; RATION 50 expiring on D + 30 expired the day before.
//!        SA1 (A1): PLATE 40; RATION 20 (no expiry). SB (B): PLATE 5; WATER 1000.
//! Forces: F1 30 at SA (A), engaged 20–30 July; F2 10 at SA1 (A1), engaged on D only;
//!         F3 50 at SB (B) from the 27th; F4 5 at SR (ROOT), all summer.
//! Allowances: PLATE 2 per person; RATION 1 and WATER 2 per person and day.

use vigie_domain::*;
use vigie_logistics::*;

mod common;
use common::{d, world};

use common::q;

/// (need, on_hand, serviceable, available, shortfall)
fn figures(f: &Figures) -> (Quantity, Quantity, Quantity, Quantity, Quantity) {
    (f.need, f.on_hand, f.serviceable, f.available, f.shortfall)
}

fn ask(st: &State, item: &str, on: &str, days: u32, org: Option<&str>) -> Sufficiency {
    let scope = org.map_or_else(Scope::everything, |o| Scope::of(st, o).unwrap());
    sufficiency(st, &item_id(st, item).unwrap(), d(on), days, &scope).unwrap()
}

#[test]
fn person_allowances_count_engaged_forces_only() {
    let st = world();
    let s = ask(&st, "PLATE", "2024-07-26", 1, None);
    // Need: 2 × (30 + 10 + 5); F3 is not engaged yet. Unserviceable plates are on hand, not serviceable.
    assert_eq!(figures(&s.figures), (q(90), q(155), q(145), q(145), q(0)));
    assert_eq!(s.headcount, 45);
    assert!((s.figures.coverage.unwrap() - 145.0 / 90.0).abs() < 1e-9);
    // `days` does not multiply a per-person allowance.
    assert_eq!(ask(&st, "PLATE", "2024-07-26", 7, None).figures.need, q(90));
    // The next day F2 has left and F3 has arrived: 2 × (30 + 50 + 5).
    assert_eq!(ask(&st, "PLATE", "2024-07-27", 1, None).figures.need, q(170));
}

#[test]
fn person_day_allowances_and_the_expiry_boundary() {
    let st = world();
    // On D the lot expiring on D is still good; the one that expired the day before is not.
    let s = ask(&st, "RATION", "2024-07-26", 3, None);
    assert_eq!(figures(&s.figures), (q(135), q(100), q(70), q(70), q(65)));
    assert!((s.figures.coverage.unwrap() - 70.0 / 135.0).abs() < 1e-9);
    // The day after, that lot is expired too; the need is 1 × (30 + 50 + 5).
    let s = ask(&st, "RATION", "2024-07-27", 1, None);
    assert_eq!(figures(&s.figures), (q(85), q(100), q(20), q(20), q(65)));
}

#[test]
fn a_scope_is_an_organisation_and_its_children() {
    let st = world();
    let a = ask(&st, "PLATE", "2024-07-26", 1, Some("A"));
    assert_eq!(figures(&a.figures), (q(80), q(150), q(140), q(140), q(0)));
    let a1 = ask(&st, "PLATE", "2024-07-26", 1, Some("A1"));
    assert_eq!(figures(&a1.figures), (q(20), q(40), q(40), q(40), q(0)));
    let b = ask(&st, "PLATE", "2024-07-26", 1, Some("B"));
    assert_eq!(figures(&b.figures), (q(0), q(5), q(5), q(5), q(0)));
    assert_eq!(b.figures.coverage, None, "no need, no coverage ratio");
    assert_eq!(
        ask(&st, "PLATE", "2024-07-26", 1, Some("ROOT")).figures,
        ask(&st, "PLATE", "2024-07-26", 1, None).figures
    );
}

#[test]
fn breakdowns_add_up_to_the_total() {
    let st = world();
    let s = ask(&st, "PLATE", "2024-07-26", 1, None);
    let org = |id: &str| s.by_organization.iter().find(|o| o.organization_id.as_str() == id).unwrap();
    assert_eq!(figures(&org("A").figures), (q(60), q(110), q(100), q(100), q(0)));
    assert_eq!(figures(&org("A1").figures), (q(20), q(40), q(40), q(40), q(0)));
    assert_eq!(figures(&org("ROOT").figures), (q(10), q(0), q(0), q(0), q(10)));
    let sum = |f: fn(&Figures) -> Quantity| s.by_organization.iter().map(|o| f(&o.figures)).sum::<Quantity>();
    assert_eq!(sum(|f| f.need), s.figures.need);
    assert_eq!(sum(|f| f.on_hand), s.figures.on_hand);
    // Sites: worst shortfall first (SR: 10 plates needed, none held).
    assert_eq!(s.by_site[0].site_id.as_str(), "SR");
    assert_eq!(s.by_site.iter().map(|x| x.figures.on_hand).sum::<Quantity>(), s.figures.on_hand);
    assert_eq!(s.oldest_count, chrono::DateTime::from_timestamp(1_721_900_000, 0));
}

#[test]
fn all_items_sorted_by_worst_coverage() {
    let st = world();
    let all = sufficiency_all(&st, d("2024-07-26"), 1, &Scope::everything()).unwrap();
    let order: Vec<&str> = all.iter().map(|s| s.item.as_str()).collect();
    // RATION 70/45, PLATE 145/90, WATER 1000/90: worst first.
    assert_eq!(order, vec!["RATION", "PLATE", "WATER"]);
}

#[test]
fn locate_nearest_first_with_radius_and_autonomy() {
    let st = world();
    let ration = vec![ItemId::parse("RATION").unwrap()];
    let travel = Travel::default();
    let near = Near::parse(&st, "48.0,2.0");
    assert_eq!(near, Near::Point(LatLon::new(48.0, 2.0).unwrap()));
    let l = locate(&st, &ration, &near, None, Some(10), d("2024-07-26"), &Scope::everything(), &travel).unwrap();
    let sites: Vec<(&str, Quantity)> = l.sites.iter().map(|h| (h.site_id.as_str(), h.available[&ration[0]])).collect();
    assert_eq!(sites, vec![("SA", q(50)), ("SA1", q(20))]);
    assert!((l.sites[1].distance_km - 11.12).abs() < 0.05, "{}", l.sites[1].distance_km);
    // ETA: 11.12 km × 1.3 at 70 km/h ≈ 12.4 min.
    assert!((l.sites[1].eta_min - l.sites[1].distance_km * 1.3 / 70.0 * 60.0).abs() < 1e-9);
    assert_eq!(l.totals[&ration[0]], q(70));
    // 70 rations feed 10 persons for 7 days.
    assert_eq!(l.autonomy_days_min, Some(7.0));
    let near_sa =
        locate(&st, &ration, &Near::parse(&st, "SA"), Some(5.0), None, d("2024-07-26"), &Scope::everything(), &travel)
            .unwrap();
    assert_eq!(near_sa.sites.len(), 1, "within 5 km only SA");
    assert!(near_sa.autonomy_days.is_none());
    // Two items: the autonomy is that of the scarcer one.
    let both = vec![ItemId::parse("RATION").unwrap(), ItemId::parse("WATER").unwrap()];
    let l = locate(&st, &both, &near, None, Some(10), d("2024-07-26"), &Scope::everything(), &travel).unwrap();
    assert_eq!(l.autonomy_days.as_ref().unwrap()[&both[1]], Some(50.0));
    assert_eq!(l.autonomy_days_min, Some(7.0));
}

#[test]
fn bad_questions_get_clear_errors() {
    let st = world();
    assert_eq!(item_id(&st, "CASQUE").unwrap_err().to_string(), "unknown item CASQUE");
    assert_eq!(Scope::of(&st, "Z").unwrap_err().to_string(), "unknown organization Z");
    let r = locate(
        &st,
        &[ItemId::parse("RATION").unwrap()],
        &Near::parse(&st, "Nantess"),
        None,
        None,
        d("2024-07-26"),
        &Scope::everything(),
        &Travel::default(),
    );
    assert!(r.unwrap_err().to_string().starts_with("no French commune is called \"Nantess\""));
    let s = sufficiency(&st, &ItemId::parse("PLATE").unwrap(), d("2024-07-26"), 0, &Scope::everything());
    assert_eq!(s.unwrap_err().to_string(), "days must be at least 1");
    // A commune resolves through the gazetteer.
    let l = locate(
        &st,
        &[ItemId::parse("WATER").unwrap()],
        &Near::parse(&st, "Marseille"),
        None,
        None,
        d("2024-07-26"),
        &Scope::everything(),
        &Travel::default(),
    )
    .unwrap();
    assert!(l.near.starts_with("Marseille (13, INSEE 13055"), "{}", l.near);
    assert_eq!(l.sites[0].site_id.as_str(), "SB");
}

/// A site's uncovered need: its organisation's surplus goes to its other sites' needs nearest first; another
/// organisation's surplus never covers it.
#[test]
fn uncovered_need_is_what_the_organisation_cannot_cover_nearest_first() {
    let mut st = world();
    let s = ask(&st, "PLATE", "2024-07-26", 1, None);
    let uncovered = |s: &Sufficiency, id: &str| s.by_site.iter().find(|x| x.site_id.as_str() == id).unwrap().uncovered;
    // SR (ROOT) needs 10 and holds none; A's 40 spare plates are another organisation's: SR stays uncovered,
    // although the nation has 55 to spare.
    assert_eq!((uncovered(&s, "SR"), s.figures.shortfall, s.figures.surplus), (q(10), q(0), q(55)));
    assert_eq!((uncovered(&s, "SA"), uncovered(&s, "SA1")), (q(0), q(0)));
    assert_eq!(s.by_site[0].site_id.as_str(), "SR", "most uncovered first");

    // Two venues of A, 40 soldiers each (80 plates): one 1 km from SA, one 110 km away. SA has 40 to spare.
    let site = |id: &str, lat: f64| {
        Event::SiteUpserted(Site {
            id: SiteId::parse(id).unwrap(),
            name: id.into(),
            kind: SiteKind::Venue,
            lat,
            lon: 2.0,
            organization_id: OrgId::parse("A").unwrap(),
            city: String::new(),
            attributes: Default::default(),
        })
    };
    let force = |id: &str, at: &str| {
        Event::ForceUpserted(Force {
            id: ForceId::parse(id).unwrap(),
            name: id.into(),
            site_id: SiteId::parse(at).unwrap(),
            headcount: 40,
            organization_id: OrgId::parse("A").unwrap(),
            starts_on: d("2024-07-01"),
            ends_on: d("2024-08-31"),
            attributes: Default::default(),
        })
    };
    common::apply(
        &mut st,
        vec![site("V-FAR", 47.0), site("V-NEAR", 48.01), force("FF", "V-FAR"), force("FN", "V-NEAR")],
    );
    let s = ask(&st, "PLATE", "2024-07-26", 1, None);
    let row = |id: &str| s.by_site.iter().find(|x| x.site_id.as_str() == id).unwrap();
    assert_eq!((row("V-NEAR").figures.shortfall, row("V-NEAR").uncovered), (q(80), q(40)));
    assert_eq!((row("V-FAR").figures.shortfall, row("V-FAR").uncovered), (q(80), q(80)));
    // A's uncovered needs add up to A's own shortfall: 60 + 80 + 80 needed, 100 held.
    let a = s.by_organization.iter().find(|o| o.organization_id.as_str() == "A").unwrap();
    assert_eq!(a.figures.shortfall, q(120));
    let a_sites = s.by_site.iter().filter(|x| x.organization_id.as_str() == "A").map(|x| x.uncovered);
    assert_eq!(a_sites.sum::<Quantity>(), q(120));
    let order: Vec<&str> = s.by_site.iter().take(3).map(|x| x.site_id.as_str()).collect();
    assert_eq!(order, ["V-FAR", "V-NEAR", "SR"], "most uncovered first");
}
