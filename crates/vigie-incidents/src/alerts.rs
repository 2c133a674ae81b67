//! From alerts to incidents: when a check of a **critical** application goes hard CRITICAL, an incident is opened,
//! one per de-duplication key (`site|application`): a storm of alerts becomes one incident with the alerts
//! attached (work notes). A check shown UNREACHABLE (behind a failed dependency) never opens its own incident, nor
//! does a failure during maintenance (so silencing or maintenance leaves no orphan). A recovery adds a note; when
//! every attached alert has recovered, the note proposes the resolution (people resolve, with a close code).

use crate::incident::{create, update, Changes};
use chrono::{DateTime, Utc};
use vigie_domain::health::Status;
use vigie_domain::itsm::Incident;

/// A hard state change of a check, with what the rules need to know of it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertChange {
    pub check_id: String,
    pub site_id: Option<String>,
    pub site_name: String,
    pub application_id: Option<String>,
    pub application_name: String,
    pub critical: bool,
    /// The support group of the application.
    pub partner: Option<String>,
    pub to: Status,
    /// Shown UNREACHABLE (a parent failed).
    pub unreachable: bool,
    pub during_maintenance: bool,
    pub output: String,
    pub at: DateTime<Utc>,
}

/// The de-duplication key of an alert: its site and its application.
pub fn key(a: &AlertChange) -> Option<String> {
    Some(format!("{}|{}", a.site_id.as_deref().unwrap_or("-"), a.application_id.as_deref()?))
}

/// The incidents to record (new versions) for a batch of alerts. `open(key)` finds the open incident of a key,
/// `ok(check)` says whether a check is OK now; `next_number` and `sys_id()` give new incidents their identity.
pub fn decide(
    alerts: &[AlertChange],
    open: &dyn Fn(&str) -> Option<Incident>,
    ok: &dyn Fn(&str) -> bool,
    mut next_number: u64,
    sys_id: &mut dyn FnMut() -> String,
    by: &str,
) -> Vec<Incident> {
    let mut touched: Vec<Incident> = Vec::new();
    for a in alerts {
        let Some(k) = key(a) else { continue };
        let current =
            touched.iter().position(|i| i.correlation_id == k).map(|p| touched[p].clone()).or_else(|| open(&k));
        let note = |i: &Incident, text: String| -> Option<Incident> {
            let mut c = Changes::new();
            c.insert("work_notes".into(), text);
            update(i, &c, a.at, by).ok()
        };
        let next = match (a.to, current) {
            (Status::Critical, _) if a.unreachable || a.during_maintenance || !a.critical => None,
            (Status::Critical, Some(i)) => {
                note(&i, format!("Alerte rattachée : {} CRITICAL – {}", a.check_id, a.output)).map(|mut i| {
                    if !i.alerts.contains(&a.check_id) {
                        i.alerts.push(a.check_id.clone());
                    }
                    i
                })
            }
            (Status::Critical, None) => {
                let mut c = Changes::new();
                c.insert("short_description".into(), format!("{} en erreur – {}", a.application_name, a.site_name));
                c.insert("description".into(), format!("{} CRITICAL : {}", a.check_id, a.output));
                c.insert("impact".into(), "1".into());
                c.insert("urgency".into(), "1".into());
                c.insert("category".into(), "software".into());
                c.insert("caller_id".into(), "vigie:supervision".into());
                c.insert("cmdb_ci".into(), a.application_id.clone().unwrap_or_default());
                c.insert("location".into(), a.site_id.clone().unwrap_or_default());
                c.insert("assignment_group".into(), a.partner.clone().unwrap_or_default());
                c.insert("correlation_id".into(), k.clone());
                c.insert("work_notes".into(), format!("Ouvert par l'alerte {} CRITICAL – {}", a.check_id, a.output));
                next_number += 1;
                create(&c, sys_id(), next_number, a.at, by).ok().map(|mut i| {
                    i.alerts.push(a.check_id.clone());
                    i
                })
            }
            (Status::Ok, Some(i)) if i.alerts.contains(&a.check_id) => {
                let all_ok = i.alerts.iter().all(|c| c == &a.check_id || ok(c));
                let text = if all_ok {
                    format!("{} rétabli. Toutes les alertes sont rétablies : résolution proposée.", a.check_id)
                } else {
                    format!("{} rétabli.", a.check_id)
                };
                note(&i, text)
            }
            _ => None,
        };
        if let Some(i) = next {
            match touched.iter().position(|t| t.sys_id == i.sys_id) {
                Some(p) => touched[p] = i,
                None => touched.push(i),
            }
        }
    }
    touched
}
