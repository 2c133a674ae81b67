//! The incident lifecycle: priority matrix, what each state needs, final states, optimistic locking, journals.

use chrono::{DateTime, Duration, Utc};
use vigie_domain::itsm::IncidentState;
use vigie_incidents::incident::{create, display, priority, update, Changes, IncidentError};

fn ch(pairs: &[(&str, &str)]) -> Changes {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-07-26T17:30:00Z").unwrap().with_timezone(&Utc)
}

#[test]
fn the_priority_matrix() {
    let want = [[1, 2, 3], [2, 3, 4], [3, 4, 5]];
    for impact in 1..=3u8 {
        for urgency in 1..=3u8 {
            assert_eq!(
                priority(impact, urgency),
                want[impact as usize - 1][urgency as usize - 1],
                "{impact}×{urgency}"
            );
        }
    }
    assert_eq!(display("priority", "1").as_deref(), Some("1 - Critical"));
    assert_eq!(display("state", "3").as_deref(), Some("On Hold"));
    assert_eq!(display("impact", "2").as_deref(), Some("2 - Medium"));
    assert_eq!(display("state", "4"), None);
}

#[test]
fn an_incident_opens_new_with_its_number_and_priority() {
    let i = create(
        &ch(&[("short_description", "Panne réseau STA"), ("impact", "1"), ("urgency", "2"), ("number", "INC9")]),
        "a".repeat(32),
        42,
        t0(),
        "user:op",
    )
    .unwrap();
    assert_eq!((i.number.as_str(), i.state, i.priority, i.sys_mod_count), ("INC0000042", IncidentState::New, 2, 0));
    assert_eq!(i.opened_at, t0());
    let e = create(&ch(&[("impact", "1")]), "b".repeat(32), 43, t0(), "user:op").unwrap_err();
    assert_eq!(e.to_string(), "short_description: required to open an incident");
    let e = create(&ch(&[("short_description", "x"), ("impact", "4")]), "c".repeat(32), 44, t0(), "u").unwrap_err();
    assert_eq!(e.to_string(), "impact: expected one of 1, 2, 3, found \"4\"");
}

#[test]
fn resolving_needs_close_code_and_notes_and_closed_is_final() {
    let i = create(&ch(&[("short_description", "Imprimante PRD")]), "d".repeat(32), 1, t0(), "u").unwrap();
    let later = t0() + Duration::minutes(30);
    let e = update(&i, &ch(&[("state", "6")]), later, "u").unwrap_err();
    assert_eq!(e.to_string(), "close_code: required to resolve an incident");
    let e = update(&i, &ch(&[("state", "6"), ("close_code", "Solved (Permanently)")]), later, "u").unwrap_err();
    assert_eq!(e.to_string(), "close_notes: required to resolve an incident");
    let r = update(
        &i,
        &ch(&[("state", "Resolved"), ("close_code", "Solved (Permanently)"), ("close_notes", "bourrage")]),
        later,
        "u",
    )
    .unwrap();
    assert_eq!((r.state, r.resolved_at, r.sys_mod_count), (IncidentState::Resolved, Some(later), 1));
    // Reopened: the resolution time goes.
    let reopened = update(&r, &ch(&[("state", "2")]), later + Duration::minutes(5), "u").unwrap();
    assert_eq!((reopened.state, reopened.resolved_at), (IncidentState::InProgress, None));
    let closed = update(&r, &ch(&[("state", "7")]), later + Duration::hours(1), "u").unwrap();
    assert_eq!((closed.closed_at, closed.resolved_at), (Some(later + Duration::hours(1)), Some(later)));
    let e = update(&closed, &ch(&[("state", "2")]), later + Duration::hours(2), "u").unwrap_err();
    assert_eq!(e, IncidentError::Final { number: "INC0000001".into(), state: "Closed" });
    let noted =
        update(&closed, &ch(&[("work_notes", "clos après vérification")]), later + Duration::hours(2), "u:chef")
            .unwrap();
    assert_eq!(noted.work_notes.len(), 1, "journals stay open");
    assert_eq!(noted.work_notes[0].by, "u:chef");
}

#[test]
fn on_hold_needs_a_reason_which_goes_when_it_resumes() {
    let i = create(&ch(&[("short_description", "Attente fournisseur")]), "e".repeat(32), 2, t0(), "u").unwrap();
    assert_eq!(
        update(&i, &ch(&[("state", "3")]), t0(), "u").unwrap_err().to_string(),
        "hold_reason: required to put an incident On Hold (1 Awaiting Caller … 5 Awaiting Evidence)"
    );
    let held = update(&i, &ch(&[("state", "3"), ("hold_reason", "4")]), t0(), "u").unwrap();
    assert_eq!(held.hold_reason, "4");
    let resumed = update(&held, &ch(&[("state", "2")]), t0(), "u").unwrap();
    assert_eq!(resumed.hold_reason, "");
}

#[test]
fn priority_is_editable_until_impact_or_urgency_move_and_locks_are_optimistic() {
    let i = create(&ch(&[("short_description", "x"), ("impact", "3"), ("urgency", "3")]), "f".repeat(32), 3, t0(), "u")
        .unwrap();
    let p = update(&i, &ch(&[("priority", "1")]), t0(), "u").unwrap();
    assert_eq!(p.priority, 1, "set by hand");
    let p2 = update(&p, &ch(&[("description", "détails")]), t0(), "u").unwrap();
    assert_eq!(p2.priority, 1, "kept");
    let p3 = update(&p2, &ch(&[("urgency", "2")]), t0(), "u").unwrap();
    assert_eq!(p3.priority, 4, "the matrix again: impact 3 × urgency 2");
    assert_eq!(p3.sys_mod_count, 3);
    let e = update(&p3, &ch(&[("sys_mod_count", "2"), ("description", "ancienne version")]), t0(), "u").unwrap_err();
    assert_eq!(e, IncidentError::Conflict { current: 3, given: "2".into() });
    assert!(update(&p3, &ch(&[("sys_mod_count", "3"), ("description", "à jour")]), t0(), "u").is_ok());
}

#[test]
fn a_major_incident_is_proposed_then_accepted_with_its_lead_and_reviewed() {
    let i = create(
        &ch(&[("short_description", "Rupture d'eau au village"), ("impact", "2"), ("urgency", "2")]),
        "9".repeat(32),
        9,
        t0(),
        "u",
    )
    .unwrap();
    let e = update(&i, &ch(&[("major_incident_state", "accepted")]), t0(), "u").unwrap_err();
    assert!(e.to_string().starts_with("major_incident_state: cannot go from none to \"accepted\""), "{e}");
    let p = update(&i, &ch(&[("major_incident_state", "proposed")]), t0(), "u").unwrap();
    let e = update(&p, &ch(&[("major_incident_state", "accepted")]), t0(), "u").unwrap_err();
    assert_eq!(e.to_string(), "u_crisis_lead: required to accept a major incident (who leads the crisis cell)");
    let a = update(
        &p,
        &ch(&[
            ("major_incident_state", "accepted"),
            ("u_crisis_lead", "COL Martin"),
            ("u_communication_lead", "CNE Durand"),
        ]),
        t0(),
        "u",
    )
    .unwrap();
    assert_eq!((a.major_incident_state.as_str(), a.priority, a.crisis_lead.as_str()), ("accepted", 1, "COL Martin"));
    assert!(update(&a, &ch(&[("major_incident_state", "proposed")]), t0(), "u").is_err(), "no way back");
    let r = update(
        &a,
        &ch(&[("u_review", "Canalisation rompue"), ("u_review_action", "GSBdD IDF: stock tampon d'eau au village")]),
        t0(),
        "u",
    )
    .unwrap();
    assert_eq!(r.review_actions.len(), 1);
    assert_eq!((r.review_actions[0].owner.as_str(), r.review_actions[0].done), ("GSBdD IDF", false));
    let d = update(&r, &ch(&[("u_review_action_done", "1")]), t0(), "u").unwrap();
    assert!(d.review_actions[0].done);
    assert!(update(&d, &ch(&[("u_review_action_done", "2")]), t0(), "u")
        .unwrap_err()
        .to_string()
        .contains("no action 2"));
}
