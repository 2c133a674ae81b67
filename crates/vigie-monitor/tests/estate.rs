//! The estate: dependencies (UNREACHABLE with its root cause instead of a storm of reds), redundancy groups,
//! maintenance windows, availability per check.

use std::sync::Arc;
use vigie_monitor::estate::*;
use vigie_monitor::*;

const S: i64 = 1000;
const H: i64 = 3600 * S;

fn check(id: &str, site: &str) -> CheckDef {
    CheckDef {
        id: id.into(),
        site: Some(site.into()),
        application: None,
        tags: Vec::new(),
        policy: Policy { max_attempts: 1, ..Policy::default() },
    }
}

/// A venue: two uplinks, a core switch behind either, `n` computers behind the switch.
fn venue(n: usize) -> Estate {
    let mut checks = vec![check("UPLINK-A", "STA"), check("UPLINK-B", "STA"), check("SW-CORE", "STA")];
    let mut deps: Vec<(Arc<str>, Parent)> =
        vec![("SW-CORE".into(), Parent::AnyOf(vec!["UPLINK-A".into(), "UPLINK-B".into()]))];
    for k in 0..n {
        let id = format!("PC-{k:04}");
        checks.push(check(&id, "STA"));
        deps.push((id.as_str().into(), Parent::Check("SW-CORE".into())));
    }
    Estate::new(checks, &deps, 0).unwrap()
}

fn shown_counts(e: &Estate) -> rollup::Counts {
    (0..e.len() as u32).map(|s| e.shown(s)).collect()
}

#[test]
fn a_power_cut_shows_the_cause_not_a_storm_of_reds() {
    let mut e = venue(2000);
    let slot = |e: &Estate, id: &str| e.slot(id).unwrap();
    // The computers' results arrive first, then the switch's, then the uplinks'.
    for k in 0..2000 {
        let s = slot(&e, &format!("PC-{k:04}"));
        e.ingest(s, Status::Critical, 10 * S);
    }
    assert_eq!(shown_counts(&e).critical, 2000, "before the cause is known, each is red");
    let sw = slot(&e, "SW-CORE");
    let out = e.ingest(sw, Status::Critical, 11 * S);
    assert_eq!(out.changes.len(), 2001, "a red switch: the computers behind it turn unreachable");
    assert_eq!(shown_counts(&e).unreachable, 2000);
    let out = e.ingest(slot(&e, "UPLINK-A"), Status::Critical, 12 * S);
    assert!(out.changes.len() == 1, "one uplink of two down changes nothing behind it");
    let out = e.ingest(slot(&e, "UPLINK-B"), Status::Critical, 13 * S);
    let c = shown_counts(&e);
    assert_eq!((c.critical, c.unreachable), (2, 2001), "two red uplinks, everything behind them unreachable");
    assert_eq!(out.changes.len(), 2, "the uplink turns red, the switch unreachable");
    assert_eq!(out.transitions.len(), 1, "one hard change to journal");
    assert_eq!(e.cause(sw).map(|c| &**c), Some("UPLINK-A"));
    assert_eq!(e.cause(slot(&e, "PC-1234")).map(|c| &**c), Some("UPLINK-A"), "the root cause, not the switch");

    // Power back on the B side: the switch, still failing by its own result, is red again; then it recovers and
    // the computers show their own (failed) state until their results come.
    e.ingest(slot(&e, "UPLINK-B"), Status::Ok, 20 * S);
    assert_eq!(e.shown(sw), Shown::Critical);
    assert_eq!(e.shown(slot(&e, "PC-0000")), Shown::Unreachable, "behind a red switch");
    e.ingest(sw, Status::Ok, 21 * S);
    assert_eq!(e.shown(slot(&e, "PC-0000")), Shown::Critical, "now its own state");
    let out = e.ingest(slot(&e, "PC-0000"), Status::Ok, 22 * S);
    assert_eq!(out.changes.len(), 1);
    // A computer that answers OK shows OK even behind a failed parent.
    e.ingest(sw, Status::Critical, 30 * S);
    assert_eq!(e.shown(slot(&e, "PC-0000")), Shown::Ok);
}

#[test]
fn maintenance_windows_repeat_mute_and_still_record_failures() {
    let mut e = venue(1);
    let pc = e.slot("PC-0000").unwrap();
    let sw = e.slot("SW-CORE").unwrap();
    // Every night 02:00–04:00 at the venue, from day 0.
    let w = Window {
        id: "NIGHT".into(),
        scope: Scope::Site("STA".into()),
        start: 2 * H,
        end: 4 * H,
        every_ms: Some(24 * H),
    };
    assert!(e.set_window(w, H).changes.is_empty());
    let out = e.tick(3 * H);
    assert_eq!(out.changes.len(), 4, "all four checks of the venue turn blue");
    assert_eq!(e.shown(pc), Shown::Maintenance);
    let out = e.ingest(sw, Status::Critical, 3 * H + S);
    assert!(out.transitions[0].1.during_maintenance, "failed during maintenance: recorded");
    assert_eq!(e.shown(sw), Shown::Maintenance, "but muted");
    e.tick(4 * H);
    assert_eq!(e.shown(sw), Shown::Critical, "the failure shows when the window closes");
    assert_eq!(e.shown(pc), Shown::Ok);
    e.tick(26 * H + H / 2);
    assert_eq!(e.shown(pc), Shown::Maintenance, "the next night");
    e.remove_window("NIGHT", 26 * H + H);
    assert_eq!(e.shown(pc), Shown::Ok);
    // Windows by application and tag cover only their checks.
    let mut tagged = check("APP-1", "X");
    tagged.tags = vec!["odf".into()];
    tagged.application = Some("ODS-RES".into());
    let mut e = Estate::new(vec![tagged, check("APP-2", "X")], &[], 0).unwrap();
    e.set_window(Window { id: "T".into(), scope: Scope::Tag("odf".into()), start: 0, end: H, every_ms: None }, 1);
    assert_eq!((e.shown(0), e.shown(1)), (Shown::Maintenance, Shown::Ok));
    e.set_window(
        Window { id: "T".into(), scope: Scope::Application("ODS-RES".into()), start: 0, end: H, every_ms: None },
        2,
    );
    assert_eq!(e.windows().len(), 1, "same id: replaced");
    e.tick(H);
    assert_eq!(e.shown(0), Shown::Ok, "a one-off window ends");
}

#[test]
fn availability_per_check_leaves_maintenance_out() {
    let mut e = venue(0);
    let a = e.slot("UPLINK-A").unwrap();
    e.ingest(a, Status::Critical, H);
    e.ingest(a, Status::Ok, 2 * H);
    e.set_window(
        Window { id: "W".into(), scope: Scope::Check("UPLINK-A".into()), start: 3 * H, end: 5 * H, every_ms: None },
        3 * H,
    );
    e.ingest(a, Status::Critical, 4 * H);
    e.tick(5 * H);
    e.ingest(a, Status::Ok, 6 * H);
    // Up 0–1, 2–3, 6–10 = 6 h; down 1–2 and 5–6 (the failure seen when the window closed) = 2 h; maintenance 2 h.
    let d = e.durations(a, 10 * H);
    assert_eq!((d.up_ms, d.down_ms, d.maintenance_ms), (6 * H, 2 * H, 2 * H));
    assert_eq!(d.availability(), Some(0.75));
    // A rebuilt estate (the registry changed) carries the counters on.
    let mut again = venue(0);
    let a2 = again.slot("UPLINK-A").unwrap();
    again.restore(a2, e.state(a).clone());
    again.carry_durations(a2, e.durations(a, 10 * H));
    again.settle(10 * H);
    again.ingest(a2, Status::Critical, 11 * H);
    let d = again.durations(a2, 12 * H);
    assert_eq!((d.up_ms, d.down_ms, d.maintenance_ms), (7 * H, 3 * H, 2 * H));
}

#[test]
fn bad_definitions_are_refused() {
    let deps = |a: &str, b: &str| (Arc::<str>::from(a), Parent::Check(b.into()));
    let two = || vec![check("A", "S"), check("B", "S")];
    assert_eq!(Estate::new(two(), &[deps("A", "B"), deps("B", "A")], 0).unwrap_err(), EstateError::Cycle("A".into()));
    assert_eq!(Estate::new(two(), &[deps("A", "Z")], 0).unwrap_err(), EstateError::UnknownCheck("Z".into()));
    assert_eq!(
        Estate::new(vec![check("A", "S"), check("A", "T")], &[], 0).unwrap_err(),
        EstateError::Duplicate("A".into())
    );
    assert!(Estate::new(two(), &[deps("A", "B")], 0).is_ok());
}

/// An Alertmanager alert is state: hard at once on a three-attempt push check, held through the TTL and through
/// better results pushed meanwhile, released by the resolved notification.
#[test]
fn a_firing_alert_holds_its_check_until_resolved() {
    let mut def = check("APP-OMS@STA", "STA");
    def.policy = Policy { max_attempts: 3, ttl_ms: Some(30 * S), ..Policy::default() };
    let mut e = Estate::new(vec![def], &[], 0).unwrap();
    let slot = e.slot("APP-OMS@STA").unwrap();

    let out = e.alert(slot, Some(Status::Critical), 10 * S);
    assert_eq!(out.transitions.len(), 1, "hard at the first notification, not after three");
    assert_eq!(e.state(slot).hard, Status::Critical);

    assert!(e.tick(10 * S + 2 * H).transitions.is_empty(), "no staleness while the alert fires");
    assert_eq!(e.state(slot).hard, Status::Critical);
    e.ingest(slot, Status::Ok, 10 * S + 2 * H);
    assert_eq!(e.state(slot).hard, Status::Critical, "a pushed OK does not hide a firing alert");
    e.alert(slot, Some(Status::Warning), 10 * S + 3 * H);
    assert_eq!(e.state(slot).hard, Status::Warning, "the alert's own severity moves it");

    let out = e.alert(slot, None, 10 * S + 4 * H);
    assert_eq!(out.transitions.len(), 1);
    assert_eq!(e.state(slot).hard, Status::Ok, "resolved: green at once");
    e.tick(10 * S + 4 * H + 31 * S);
    assert_eq!(e.state(slot).hard, Status::Unknown, "released: the TTL applies again");
}
