//! Outbound sync of incidents to an external ServiceNow (its Table API): every incident version not yet pushed is
//! created there (POST, the remote `sys_id` recorded) or updated (PATCH). What is pushed is journalled
//! (`incident.synced`), so the backlog (recorded versions newer than the pushed ones) survives restarts and a
//! remote that is down loses nothing: attempts back off (1 s, 2 s, 4 s… up to a ceiling) and resume.

use crate::App;
use serde_json::{json, Value};
use std::time::Duration;
use vigie_domain::itsm::{Incident, IncidentSynced};

/// Where to push incidents.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Base URL of the instance, e.g. `https://example.service-now.com`.
    pub url: String,
    pub user: String,
    pub password: String,
    /// Longest wait between attempts.
    pub retry_max: Duration,
}

/// The fields pushed: the record as ServiceNow takes it, our number as the correlation, and the work notes and
/// comments not pushed yet (the remote appends them).
fn payload(i: &Incident, done: Option<&IncidentSynced>) -> Value {
    let fresh = |entries: &[vigie_domain::itsm::Entry], pushed: u32| -> String {
        entries
            .iter()
            .skip(pushed as usize)
            .map(|e| format!("[{} – {}] {}", e.at.format("%Y-%m-%d %H:%M:%S"), e.by, e.text))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let notes = fresh(&i.work_notes, done.map_or(0, |d| d.work_notes_pushed));
    let comments = fresh(&i.comments, done.map_or(0, |d| d.comments_pushed));
    let mut v = json!({
        "short_description": i.short_description,
        "description": i.description,
        "state": i.state.to_string(),
        "hold_reason": i.hold_reason,
        "impact": i.impact.to_string(),
        "urgency": i.urgency.to_string(),
        "priority": i.priority.to_string(),
        "category": i.category,
        "assignment_group": i.assignment_group,
        "assigned_to": i.assigned_to,
        "caller_id": i.caller_id,
        "cmdb_ci": i.cmdb_ci,
        "location": i.location,
        "close_code": i.close_code,
        "close_notes": i.close_notes,
        "correlation_id": format!("vigie:{}", i.number),
    });
    if !notes.is_empty() {
        v["work_notes"] = json!(notes);
    }
    if !comments.is_empty() {
        v["comments"] = json!(comments);
    }
    v
}

/// Versions to push, oldest change first: (incident, what the remote holds of it).
fn backlog(app: &App) -> Vec<(Incident, Option<IncidentSynced>)> {
    let st = app.journal.state();
    let mut v: Vec<(Incident, Option<IncidentSynced>)> = st
        .incidents
        .values()
        .map(|s| &s.value)
        .filter(|i| st.incident_sync.get(&i.sys_id).is_none_or(|s| s.sys_mod_count < i.sys_mod_count))
        .map(|i| (i.clone(), st.incident_sync.get(&i.sys_id).cloned()))
        .collect();
    v.sort_by_key(|a| a.0.sys_updated_on);
    v
}

async fn push(
    client: &reqwest::Client,
    o: &SyncOptions,
    i: &Incident,
    done: Option<&IncidentSynced>,
) -> Result<String, String> {
    let base = format!("{}/api/now/table/incident", o.url.trim_end_matches('/'));
    let req = match done {
        None => client.post(&base),
        Some(d) => client.patch(format!("{base}/{}", d.remote_sys_id)),
    };
    let r = req
        .basic_auth(&o.user, Some(&o.password))
        .header("accept", "application/json")
        .json(&payload(i, done))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!(
            "{status}: {}",
            body["error"]["detail"].as_str().or(body["error"]["message"].as_str()).unwrap_or("")
        ));
    }
    body["result"]["sys_id"].as_str().map(str::to_string).ok_or_else(|| "no sys_id in the answer".to_string())
}

/// Pushes the backlog until shutdown.
pub async fn run(app: App, o: SyncOptions) {
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(30)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "incident sync not started");
            return;
        }
    };
    let mut shutdown = app.shutdown.clone();
    let mut wait = Duration::from_secs(1);
    loop {
        let mut failed = false;
        // In a cluster the leader pushes (a follower's backlog would race it).
        let backlog = if app.journal.role().writes() { backlog(&app) } else { Vec::new() };
        for (i, done) in backlog {
            match push(&client, &o, &i, done.as_ref()).await {
                Ok(remote_sys_id) => {
                    let synced = IncidentSynced {
                        sys_id: i.sys_id.clone(),
                        remote_sys_id,
                        sys_mod_count: i.sys_mod_count,
                        work_notes_pushed: i.work_notes.len() as u32,
                        comments_pushed: i.comments.len() as u32,
                    };
                    let source = format!("sync:{}", o.url);
                    let recorded =
                        app.blocking(move |j| Ok(vigie_app::incidents::record_synced(&j, synced, source)?)).await;
                    if let Err(e) = recorded {
                        tracing::warn!(error = %e, "incident sync: not journalled");
                        failed = true;
                        break;
                    }
                }
                Err(e) => {
                    // The others are still tried: one record the remote refuses does not hold the rest back.
                    tracing::warn!(incident = %i.number, error = %e, retry_in = ?wait, "incident sync: the remote refused or is down");
                    failed = true;
                }
            }
        }
        let pause = if failed {
            let w = wait;
            wait = (wait * 2).min(o.retry_max);
            w
        } else {
            wait = Duration::from_secs(1);
            Duration::from_millis(500)
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}
