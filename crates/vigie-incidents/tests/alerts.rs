//! Alerts to incidents: a storm becomes one incident, unreachable and maintenance open none, recovery proposes
//! the resolution once every attached alert is back.

use chrono::{DateTime, Utc};
use std::cell::RefCell;
use std::collections::BTreeMap;
use vigie_domain::health::Status;
use vigie_domain::itsm::Incident;
use vigie_incidents::alerts::{decide, AlertChange};

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-07-26T19:00:00Z").unwrap().with_timezone(&Utc)
}

fn alert(check: &str, site: &str, to: Status) -> AlertChange {
    AlertChange {
        check_id: check.into(),
        site_id: Some(site.into()),
        site_name: format!("Site {site}"),
        application_id: Some("ODS-RDS".into()),
        application_name: "Diffusion des résultats".into(),
        critical: true,
        partner: Some("ATOS".into()),
        to,
        unreachable: false,
        during_maintenance: false,
        output: "HTTP 500".into(),
        at: at(),
    }
}

/// Open incidents by correlation key, as the journal would hold them after each batch.
struct Desk {
    open: RefCell<BTreeMap<String, Incident>>,
    number: RefCell<u64>,
    ids: RefCell<u32>,
}

impl Desk {
    fn new() -> Desk {
        Desk { open: RefCell::default(), number: RefCell::new(0), ids: RefCell::new(0) }
    }
    fn run(&self, alerts: &[AlertChange], ok: &dyn Fn(&str) -> bool) -> Vec<Incident> {
        let snapshot = self.open.borrow().clone();
        let mut next_id = || {
            *self.ids.borrow_mut() += 1;
            format!("{:032x}", *self.ids.borrow())
        };
        let out = decide(
            alerts,
            &|k| snapshot.get(k).cloned(),
            ok,
            *self.number.borrow(),
            &mut next_id,
            "system:supervision",
        );
        for i in &out {
            let n: u64 = i.number[3..].parse().unwrap();
            let cur = *self.number.borrow();
            *self.number.borrow_mut() = cur.max(n);
            self.open.borrow_mut().insert(i.correlation_id.clone(), i.clone());
        }
        out
    }
}

#[test]
fn an_alert_storm_becomes_one_incident_per_site_and_application() {
    let desk = Desk::new();
    let storm: Vec<AlertChange> =
        (0..50).map(|k| alert(&format!("APP-ODS-RDS-{k}@STA"), "STA", Status::Critical)).collect();
    let out = desk.run(&storm, &|_| false);
    assert_eq!(out.len(), 1);
    let i = &out[0];
    assert_eq!((i.number.as_str(), i.priority, i.correlation_id.as_str()), ("INC0000001", 1, "STA|ODS-RDS"));
    assert_eq!((i.location.as_str(), i.cmdb_ci.as_str(), i.assignment_group.as_str()), ("STA", "ODS-RDS", "ATOS"));
    assert_eq!(i.alerts.len(), 50);
    assert_eq!(i.work_notes.len(), 50, "the opening alert and 49 attached");
    // A later alert at the same place attaches; another site opens its own.
    let out = desk
        .run(&[alert("APP-X@STA", "STA", Status::Critical), alert("APP-Y@BCY", "BCY", Status::Critical)], &|_| false);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].number, "INC0000001");
    assert_eq!(out[1].number, "INC0000002");
}

#[test]
fn unreachable_maintenance_and_non_critical_alerts_open_nothing() {
    let desk = Desk::new();
    let mut behind = alert("PC@STA", "STA", Status::Critical);
    behind.unreachable = true;
    let mut muted = alert("APP@VER", "VER", Status::Critical);
    muted.during_maintenance = true;
    let mut minor = alert("APP@LYO", "LYO", Status::Critical);
    minor.critical = false;
    let mut central = alert("NET@STA", "STA", Status::Critical);
    central.application_id = None;
    assert!(desk.run(&[behind, muted, minor, central], &|_| false).is_empty());
    assert!(desk.run(&[alert("APP@STA", "STA", Status::Warning)], &|_| false).is_empty(), "warnings open nothing");
}

#[test]
fn recovery_notes_then_proposes_resolution_when_every_alert_is_back() {
    let desk = Desk::new();
    desk.run(&[alert("A@STA", "STA", Status::Critical), alert("B@STA", "STA", Status::Critical)], &|_| false);
    let out = desk.run(&[alert("A@STA", "STA", Status::Ok)], &|c| c == "A@STA");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].work_notes.last().unwrap().text, "A@STA rétabli.");
    assert_eq!(out[0].state, vigie_domain::itsm::IncidentState::New, "never resolved automatically");
    let out = desk.run(&[alert("B@STA", "STA", Status::Ok)], &|_| true);
    assert!(out[0].work_notes.last().unwrap().text.ends_with("résolution proposée."), "{:?}", out[0].work_notes);
    // A recovery of a check that was never attached changes nothing.
    assert!(desk.run(&[alert("Z@STA", "STA", Status::Ok)], &|_| true).is_empty());
}
