//! The operations log: 3×8 shifts in Paris time (summer and winter), and what a hand-over lists.

use chrono::{DateTime, Utc};
use vigie_domain::itsm::LogEntry;
use vigie_incidents::incident::{create, update, Changes};
use vigie_incidents::oplog::{handover, shift_of, shift_start};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn shifts_follow_paris_time() {
    let cases = [
        ("2024-07-26T03:59:59Z", "2024-07-25 nuit"), // 05:59:59 in Paris (UTC+2)
        ("2024-07-26T04:00:00Z", "2024-07-26 matin"),
        ("2024-07-26T11:59:59Z", "2024-07-26 matin"),
        ("2024-07-26T12:00:00Z", "2024-07-26 après-midi"),
        ("2024-07-26T20:00:00Z", "2024-07-26 nuit"),  // 22:00
        ("2024-07-26T23:30:00Z", "2024-07-26 nuit"),  // 01:30 the next day
        ("2024-01-15T05:00:00Z", "2024-01-15 matin"), // 06:00 in winter (UTC+1)
        ("2024-01-15T04:59:00Z", "2024-01-14 nuit"),
    ];
    for (at, want) in cases {
        assert_eq!(shift_of(t(at)), want, "{at}");
    }
    assert_eq!(shift_start("2024-07-26 nuit"), Some(t("2024-07-26T20:00:00Z")));
    assert_eq!(shift_start("2024-01-15 matin"), Some(t("2024-01-15T05:00:00Z")));
    assert_eq!(shift_start("2024-07-26 soir"), None);
    for at in ["2024-07-26T04:00:00Z", "2024-07-26T12:00:00Z", "2024-07-26T20:00:00Z"] {
        assert_eq!(shift_start(&shift_of(t(at))), Some(t(at)), "a shift starts where it is named");
    }
}

#[test]
fn a_handover_lists_open_incidents_breaches_pending_actions_and_the_shift_log() {
    let at = t("2024-07-26T10:00:00Z");
    let ch = |p: &[(&str, &str)]| -> Changes { p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
    let a = create(
        &ch(&[("short_description", "Réseau STA"), ("impact", "1"), ("urgency", "1")]),
        "1".repeat(32),
        1,
        at,
        "u",
    )
    .unwrap();
    let b = create(&ch(&[("short_description", "Imprimante")]), "2".repeat(32), 2, at, "u").unwrap();
    let b = update(&b, &ch(&[("state", "3"), ("hold_reason", "4")]), at, "u").unwrap();
    let c = create(&ch(&[("short_description", "Résolu")]), "3".repeat(32), 3, at, "u").unwrap();
    let c = update(&c, &ch(&[("state", "6"), ("close_code", "x"), ("close_notes", "y")]), at, "u").unwrap();
    let a = update(
        &a,
        &ch(&[("work_notes", "X rétabli. Toutes les alertes sont rétablies : résolution proposée.")]),
        at,
        "u",
    )
    .unwrap();
    let entry = |shift: &str, text: &str| LogEntry {
        id: "e".repeat(32),
        at,
        shift: shift.into(),
        by: "user:chef-de-quart".into(),
        kind: "note".into(),
        text: text.into(),
        incident: String::new(),
        site: String::new(),
        handover_of: String::new(),
    };
    // The afternoon's lead signs the morning's hand-over.
    let signed = LogEntry {
        shift: "2024-07-26 après-midi".into(),
        by: "user:chef-apres-midi".into(),
        kind: "signature".into(),
        handover_of: "2024-07-26 matin".into(),
        ..entry("2024-07-26 après-midi", "reçu")
    };
    let log = [entry("2024-07-26 matin", "prise de quart"), entry("2024-07-25 nuit", "hier"), signed];
    let h = handover("2024-07-26 matin", &[&b, &c, &a], &log, &|i| i.number == "INC0000001");
    let open: Vec<&str> = h.open_incidents.iter().map(|i| i.number.as_str()).collect();
    assert_eq!(open, ["INC0000001", "INC0000002"], "open only, most urgent first");
    assert_eq!(h.breaches, ["INC0000001"]);
    assert_eq!(h.pending_actions.len(), 2);
    assert!(h.pending_actions[0].starts_with("INC0000001 : résolution proposée"));
    assert!(h.pending_actions[1].starts_with("INC0000002 : en attente (motif 4)"));
    assert_eq!(h.entries.len(), 1);
    assert_eq!(h.entries[0].text, "prise de quart");
    assert_eq!(h.outgoing, ["user:chef-de-quart"], "who hands over");
    assert_eq!(h.signatures.iter().map(|s| s.by.as_str()).collect::<Vec<_>>(), ["user:chef-apres-midi"], "to whom");
    let night = handover("2024-07-25 nuit", &[&b, &c, &a], &log, &|_| false);
    assert!(night.signatures.is_empty(), "a signature signs one hand-over");
}
