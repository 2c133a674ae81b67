//! The monitoring model on hand-computed cases: state machine, roll-up rules, availability arithmetic.

use vigie_monitor::availability::{over, Durations};
use vigie_monitor::rollup::{roll_up, Counts, Rule};
use vigie_monitor::*;

const S: i64 = 1000;

fn policy(max_attempts: u8) -> Policy {
    Policy { max_attempts, ..Policy::default() }
}

/// Feeds statuses one second apart; returns the transitions as (second, from, to).
fn feed(st: &mut CheckState, p: &Policy, start: i64, statuses: &[Status]) -> Vec<(i64, Status, Status)> {
    statuses
        .iter()
        .enumerate()
        .filter_map(|(k, &s)| {
            let at = (start + k as i64) * S;
            st.ingest(s, at, p).filter(|t| t.hard_change).map(|t| (at / S, t.from, t.to))
        })
        .collect()
}

use Status::{Critical as C, Ok as O, Unknown as U, Warning as W};

#[test]
fn soft_then_hard_then_changes_between_problems_then_recovery() {
    let p = policy(3);
    let mut st = CheckState::new(0);
    assert_eq!(feed(&mut st, &p, 1, &[O, C, C]), []);
    assert_eq!((st.status, st.hard, st.state_type, st.attempt), (C, O, StateType::Soft, 2));
    assert_eq!(feed(&mut st, &p, 4, &[C]), [(4, O, C)], "the third problem in a row is hard");
    assert_eq!((st.hard, st.state_type, st.last_hard_change), (C, StateType::Hard, 4 * S));
    assert_eq!(feed(&mut st, &p, 5, &[W, W, O]), [(5, C, W), (7, W, O)], "hard at once between problems");
}

#[test]
fn soft_recovery_is_no_hard_change_and_mixed_problems_count_as_attempts() {
    let p = policy(3);
    let mut st = CheckState::new(0);
    assert_eq!(feed(&mut st, &p, 1, &[C, C, O]), []);
    assert_eq!((st.hard, st.state_type, st.attempt), (O, StateType::Hard, 1));
    assert_eq!(feed(&mut st, &p, 4, &[C, W, U]), [(6, O, U)], "any problem counts as an attempt");
    let mut once = CheckState::new(0);
    assert_eq!(feed(&mut once, &policy(1), 1, &[W]), [(1, O, W)], "max_attempts 1: hard at once");
}

#[test]
fn flapping_starts_at_the_weighted_threshold_damps_changes_and_stops_when_changes_age_out() {
    let p = policy(1);
    let mut st = CheckState::new(0);
    let mut started = None;
    let mut damped = 0;
    for k in 0..12 {
        let s = if k % 2 == 0 { O } else { C };
        if let Some(t) = st.ingest(s, k * S, &p) {
            if t.flapping == Some(true) {
                started = Some(k);
            }
            damped += t.damped as u32;
        }
    }
    // Six results hold five changes weighing 0.80 + 0.82 + 0.84 + 0.86 + 0.88 = 4.2 of 20: 21 % ≥ 20 %; five
    // results hold 3.32 of 20: 16.6 %.
    assert_eq!(started, Some(5));
    assert!(st.flapping);
    assert_eq!(damped, 6, "the six hard changes after the start are damped");
    // Steady OK: flapping stops when at most one change is left among the 21 results kept (one change weighs at
    // most 1.2 of 20, 6 %, and at least 0.8, 4 %; two weigh at least 8 %).
    let mut stopped = None;
    for k in 12..60 {
        if let Some(t) = st.ingest(O, k * S, &p) {
            if t.flapping == Some(false) {
                stopped = Some(k);
                break;
            }
        }
    }
    let k = stopped.expect("flapping stops");
    let changes = |h: &[Status]| h.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(changes(&st.history()), 1, "stopped at {k} with {:?}", st.history());
    assert!(st.percent_change() < 5.0);
    assert_eq!(st.history().len(), 21);
}

#[test]
fn a_push_check_without_result_within_its_ttl_is_unknown_until_the_next_result() {
    let p = Policy { ttl_ms: Some(60 * S), ..policy(3) };
    let mut st = CheckState::new(0);
    assert!(st.ingest(O, 0, &p).is_none());
    assert!(st.tick(60 * S, &p).is_none(), "exactly the TTL is still fresh");
    let t = st.tick(60 * S + 1, &p).expect("stale");
    assert_eq!((t.from, t.to, t.stale, t.hard_change), (O, U, true, true));
    assert!(st.stale && st.hard == U);
    assert!(st.tick(120 * S, &p).is_none(), "announced once");
    let t = st.ingest(O, 130 * S, &p).expect("recovery");
    assert_eq!((t.from, t.to, t.stale), (U, O, false));
    assert!(!st.stale);
    // A problem right after staleness is hard at once: the check was already in trouble.
    st.tick(200 * S, &p);
    assert_eq!(st.ingest(C, 201 * S, &p).map(|t| (t.from, t.to)), Some((U, C)));
}

#[test]
fn acknowledgement_holds_until_the_next_hard_change_and_maintenance_marks_failures() {
    let p = policy(1);
    let mut st = CheckState::new(0);
    assert!(!st.acknowledge(), "nothing to acknowledge while OK");
    st.ingest(C, S, &p);
    assert!(st.acknowledge() && st.acknowledged);
    st.ingest(C, 2 * S, &p);
    assert!(st.acknowledged, "same state: still acknowledged");
    st.ingest(W, 3 * S, &p);
    assert!(!st.acknowledged, "a hard change clears it");
    st.in_maintenance = true;
    let t = st.ingest(C, 4 * S, &p).expect("change");
    assert!(t.during_maintenance, "failed during maintenance: recorded and marked");
}

#[test]
fn roll_up_rules() {
    use Shown::*;
    let cases: &[(&str, &[Shown], Shown)] = &[
        ("worst", &[Ok, Warning, Ok], Warning),
        ("worst", &[Ok, Unknown, Warning], Unknown),
        ("worst", &[Unreachable, Unknown], Unreachable),
        ("worst", &[Unreachable, Critical], Critical),
        ("worst", &[Ok, Maintenance], Ok),
        ("worst", &[Maintenance, Maintenance], Maintenance),
        ("worst", &[Critical, Maintenance], Critical),
        ("worst", &[], Unknown),
        // Two redundant uplinks: one is enough.
        ("min_ok 1", &[Critical, Ok], Ok),
        ("min_ok 1", &[Critical, Warning], Warning),
        ("min_ok 1", &[Critical, Critical], Critical),
        ("min_ok 2", &[Ok, Warning, Critical], Warning),
        ("min_ok 3", &[Ok, Ok, Maintenance], Critical),
        // 10 computers: 1 down (10 %) is fine, 3 down (30 %) orange, 6 down (60 %) red.
        ("percent 25 50", &[&[Critical; 1][..], &[Ok; 9][..]].concat(), Ok),
        ("percent 25 50", &[&[Critical; 3][..], &[Ok; 7][..]].concat(), Warning),
        ("percent 25 50", &[&[Critical; 2][..], &[Warning; 1][..], &[Ok; 7][..]].concat(), Warning),
        ("percent 25 50", &[&[Unreachable; 5][..], &[Ok; 5][..]].concat(), Critical),
        ("percent 25 50", &[&[Critical; 4][..], &[Maintenance; 4][..], &[Ok; 4][..]].concat(), Critical),
    ];
    for (rule, members, expected) in cases {
        let r: Rule = rule.parse().unwrap();
        let c: Counts = members.iter().copied().collect();
        assert_eq!(roll_up(r, &c), *expected, "{rule} over {members:?}");
    }
    for bad in ["best", "min_ok 0", "min_ok x", "percent 60 50", "percent 10", "percent 10 200"] {
        let e = bad.parse::<Rule>().unwrap_err();
        assert!(e.to_string().contains("expected a roll-up rule"), "{e}");
    }
    assert_eq!("percent:25:50".parse::<Rule>().unwrap().to_string(), "percent 25 50");
}

#[test]
fn availability_on_a_hand_computed_day() {
    use Shown::*;
    let h = 3600 * S;
    // 00:00 OK, 06:00 CRITICAL, 07:00 maintenance, 09:00 OK, 12:00 UNKNOWN, 13:00 WARNING, 18:00 UNREACHABLE,
    // 18:30 OK.
    let day = [
        (0, Ok),
        (6 * h, Critical),
        (7 * h, Maintenance),
        (9 * h, Ok),
        (12 * h, Unknown),
        (13 * h, Warning),
        (18 * h, Unreachable),
        (18 * h + h / 2, Ok),
    ];
    let d = over(&day, 0, 24 * h);
    // Up: 6 + 3 + 5 + 5.5 = 19.5 h; down: 1 + 0.5 = 1.5 h; unknown 1 h; maintenance 2 h.
    assert_eq!(d, Durations { up_ms: 39 * h / 2, down_ms: 3 * h / 2, unknown_ms: h, maintenance_ms: 2 * h });
    assert_eq!(d.availability(), Some(19.5 / 21.0));
    // A window that starts mid-way takes the state in force; before any change, nothing is known.
    let d = over(&day, 6 * h + h / 2, 8 * h);
    assert_eq!((d.down_ms, d.maintenance_ms, d.availability()), (h / 2, h, Some(0.0)));
    let d = over(&day[1..], 0, 6 * h);
    assert_eq!((d.unknown_ms, d.availability()), (6 * h, None), "no data is not 100 %");
    assert_eq!(over(&day, 5, 5), Durations::default());
}
