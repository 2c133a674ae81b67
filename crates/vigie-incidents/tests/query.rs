//! Encoded queries on hand-made records: every operator, the precedence of `^OR` over `^`, `^NQ`, ordering, and
//! clear errors.

use std::collections::HashMap;
use vigie_incidents::query::{Op, Query};

fn record(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn matches(q: &str, r: &HashMap<String, String>) -> bool {
    Query::parse(q).unwrap_or_else(|e| panic!("{e}")).matches(&|f| r.get(f).cloned())
}

#[test]
fn every_operator() {
    let r = record(&[
        ("state", "2"),
        ("priority", "1"),
        ("short_description", "Panne réseau au Stade de France"),
        ("caller_id", ""),
        ("opened_at", "2024-07-26 19:30:00"),
        ("assignment_group", "ORANGE"),
    ]);
    let cases: &[(&str, bool)] = &[
        ("state=2", true),
        ("state=3", false),
        ("assignment_group=orange", true),
        ("state!=7", true),
        ("state!=2", false),
        ("priorityIN1,2", true),
        ("priorityIN3,4", false),
        ("stateNOT IN6,7,8", true),
        ("stateNOT IN1,2", false),
        ("short_descriptionLIKEréseau", true),
        ("short_descriptionLIKEdisque", false),
        ("short_descriptionNOT LIKEdisque", true),
        ("short_descriptionSTARTSWITHpanne", true),
        ("short_descriptionENDSWITHfrance", true),
        ("short_descriptionENDSWITHparis", false),
        ("caller_idISEMPTY", true),
        ("caller_idISNOTEMPTY", false),
        ("no_such_fieldISEMPTY", true),
        ("priority<2", true),
        ("priority<1", false),
        ("priority<=1", true),
        ("state>1", true),
        ("state>=3", false),
        ("opened_at>2024-07-26 00:00:00", true),
        ("opened_atBETWEEN2024-07-26 00:00:00@2024-07-26 23:59:59", true),
        ("opened_atBETWEEN2024-07-27 00:00:00@2024-07-28 00:00:00", false),
        ("stateBETWEEN1@2", true),
        ("", true),
    ];
    for (q, want) in cases {
        assert_eq!(matches(q, &r), *want, "{q}");
    }
}

#[test]
fn or_binds_tighter_than_and_and_nq_adds_queries() {
    let a = record(&[("state", "1"), ("priority", "3"), ("urgency", "1")]);
    // (priority=1 OR urgency=1) AND state=1
    assert!(matches("priority=1^ORurgency=1^state=1", &a));
    assert!(!matches("priority=1^ORurgency=2^state=1", &a));
    assert!(!matches("priority=1^ORurgency=1^state=2", &a));
    // (state=2) OR (priority=3 AND urgency=1)
    assert!(matches("state=2^NQpriority=3^urgency=1", &a));
    assert!(!matches("state=2^NQpriority=3^urgency=2", &a));
    let q = Query::parse("active=true^ORDERBYDESCopened_at^priorityIN1,2^ORDERBYnumber").unwrap();
    assert_eq!(q.order, [("opened_at".to_string(), true), ("number".to_string(), false)]);
    assert_eq!(q.groups[0].len(), 2);
    assert_eq!(q.groups[0][1][0].op, Op::In);
}

#[test]
fn ordering_by_numbers_then_text() {
    let q = Query::parse("ORDERBYpriority^ORDERBYDESCnumber").unwrap();
    let mut rows = [
        record(&[("priority", "10"), ("number", "INC0000001")]),
        record(&[("priority", "2"), ("number", "INC0000002")]),
        record(&[("priority", "2"), ("number", "INC0000003")]),
    ];
    rows.sort_by(|a, b| q.compare(&|f| a.get(f).cloned(), &|f| b.get(f).cloned()));
    let order: Vec<&str> = rows.iter().map(|r| r["number"].as_str()).collect();
    assert_eq!(order, ["INC0000003", "INC0000002", "INC0000001"], "2 < 10 as numbers; then number descending");
}

#[test]
fn bad_queries_say_where_and_why() {
    let e = Query::parse("state=1^Priority=2").unwrap_err();
    assert_eq!((e.term.as_str(), e.at), ("Priority=2", 9));
    assert!(e.to_string().contains("expected a field name"), "{e}");
    let e = Query::parse("state~1").unwrap_err();
    assert!(e.to_string().contains("expected an operator"), "{e}");
    assert!(Query::parse("caller_idISEMPTYx").unwrap_err().to_string().contains("no value"));
    assert!(Query::parse("stateBETWEEN1").unwrap_err().to_string().contains("low@high"));
    let e = Query::parse("a=1^NQb~2").unwrap_err();
    assert_eq!(e.at, 7, "positions count across ^NQ");
}
