//! `vigie oncall`: who is on duty, from the command line, in French (read-only: it works beside a running server).

use chrono::{DateTime, Utc};
use std::fmt::Write;
use vigie_app::oncall::{on_duty, DutyQuery};
use vigie_app::Caller;
use vigie_domain::{Actor, State};

fn paris(t: DateTime<Utc>) -> String {
    vigie_domain::paris::to_local(t).format("%d/%m %H:%M").to_string()
}

/// The text `vigie oncall` prints (or its JSON with `json`).
pub fn run(st: &State, q: &DutyQuery, at: DateTime<Utc>, json: bool) -> anyhow::Result<String> {
    let caller = Caller::internal(Actor::system("cli"), "cli");
    let items = on_duty(st, &caller, q, at).map_err(|e| anyhow::anyhow!("{e}"))?;
    if json {
        return Ok(serde_json::to_string_pretty(&serde_json::json!({"at": at, "items": items}))?);
    }
    let mut out = String::new();
    let _ = writeln!(out, "De permanence le {} : {} équipe(s)-niveau(x).", paris(at), items.len());
    for d in &items {
        let contact: Vec<&str> = [d.mobile.as_str(), d.email.as_str()].into_iter().filter(|c| !c.is_empty()).collect();
        let _ = writeln!(
            out,
            "  {} ({}) niveau {} : {}{} — du {} au {}{}",
            d.team,
            d.team_id,
            d.level,
            d.name,
            if contact.is_empty() { String::new() } else { format!(" [{}]", contact.join(", ")) },
            paris(d.from),
            paris(d.until),
            d.override_reason.as_ref().map_or(String::new(), |r| format!(" (remplacement : {r})"))
        );
    }
    Ok(out)
}
