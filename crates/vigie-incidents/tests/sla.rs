//! SLA clocks on hand-computed timelines: pauses while On Hold, warning at 75 %, breach instant, re-targeting.

use vigie_incidents::sla::{evaluate, Point, Stage, Targets};

const MIN: i64 = 60_000;

fn p(minute: i64, state: u8, priority: u8) -> Point {
    Point {
        at: minute * MIN,
        state: vigie_domain::itsm::IncidentState::from_code(state).expect("a ServiceNow state"),
        priority,
    }
}

#[test]
fn the_resolution_clock_pauses_while_on_hold() {
    let t = Targets::default(); // P2: response 30 min, resolution 480 min
                                // Opened at 0 (P2), in progress at 10, on hold 60–180, in progress again, resolved at 500.
    let line = [p(0, 1, 2), p(10, 2, 2), p(60, 3, 2), p(180, 2, 2), p(500, 6, 2)];
    let s = evaluate(&line, &t, 600 * MIN).unwrap();
    assert_eq!(
        (s.response.stage, s.response.elapsed_ms, s.response.stopped_at),
        (Stage::Achieved, 10 * MIN, Some(10 * MIN))
    );
    // Counted: 0–60 and 180–500 = 380 minutes of 480: achieved.
    assert_eq!((s.resolution.stage, s.resolution.elapsed_ms), (Stage::Achieved, 380 * MIN));
    // Without the pause it would have been 500 minutes: missed at minute 480.
    let no_hold = [p(0, 1, 2), p(10, 2, 2), p(500, 6, 2)];
    let s = evaluate(&no_hold, &t, 600 * MIN).unwrap();
    assert_eq!((s.resolution.stage, s.resolution.breached_at), (Stage::Missed, Some(480 * MIN)));
}

#[test]
fn running_clocks_warn_at_75_percent_then_breach_at_a_known_instant_and_show_pauses() {
    let t = Targets::default();
    let line = [p(0, 1, 1), p(5, 2, 1)]; // P1: resolution 240 min
    let at = |m: i64| evaluate(&line, &t, m * MIN).unwrap().resolution;
    assert_eq!(at(179).stage, Stage::InProgress);
    assert_eq!(at(180).stage, Stage::Warning, "75 % of 240 minutes");
    let b = at(300);
    assert_eq!((b.stage, b.breached_at, b.elapsed_ms), (Stage::Breached, Some(240 * MIN), 300 * MIN));
    let held = [p(0, 1, 1), p(5, 2, 1), p(100, 3, 1)];
    let h = evaluate(&held, &t, 400 * MIN).unwrap().resolution;
    assert_eq!((h.paused, h.elapsed_ms, h.stage), (true, 100 * MIN, Stage::InProgress));
    // The response clock of a P1 still New after 20 minutes is breached at minute 15.
    let new = [p(0, 1, 1)];
    let r = evaluate(&new, &t, 20 * MIN).unwrap().response;
    assert_eq!((r.stage, r.breached_at), (Stage::Breached, Some(15 * MIN)));
}

#[test]
fn a_changed_priority_retargets_the_time_already_spent() {
    let t = Targets::default();
    // Opened P4 (resolution 4,320 min), raised to P1 (240 min) at minute 200: 300 minutes spent by minute 300.
    let line = [p(0, 2, 4), p(200, 2, 1)];
    let s = evaluate(&line, &t, 300 * MIN).unwrap();
    assert_eq!(s.priority, 1);
    assert_eq!(
        (s.resolution.target_ms, s.resolution.stage, s.resolution.breached_at),
        (240 * MIN, Stage::Breached, Some(240 * MIN))
    );
    let lowered = [p(0, 2, 1), p(200, 2, 4)];
    assert_eq!(evaluate(&lowered, &t, 300 * MIN).unwrap().resolution.stage, Stage::InProgress);
    assert!(evaluate(&[], &t, 0).is_none());
}
