//! Reports drafted, approved and published (journalled, versioned). A draft computes the report as of its instant,
//! seals its figures with a digest and records a new version of the report of that kind, shift and scope; a
//! version is approved, then published, by someone holding `reports:approve` other than its drafter (four eyes),
//! or rejected; only the latest version moves. A version's file is rebuilt from the journal at the position it
//! recorded and checked against its digest, so that what was approved is what is read.

use super::{logstat_document, logstat_of, scope_for, sitrep, sitrep_document, History, Logstat, Sitrep};
use crate::{AppError, Caller, Reason};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use vigie_domain::access::{Permission, Principal};
use vigie_domain::report::{ReportDrafted, ReportRecord, ReportReviewed, ReportVersion};
use vigie_domain::{Event, State};
use vigie_journal::Journal;

/// What a draft asks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    /// `logstat` or `sitrep`.
    pub kind: String,
    /// The instant (RFC 3339 or Paris `YYYY-MM-DD HH:MM`); now by default.
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub since: Option<String>,
    /// A LOGSTAT's organisation (with its children).
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A decision on a version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub version: u32,
    /// `approve`, `publish` or `reject`.
    pub decision: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// A report's figures, computed for a draft or rebuilt for its file.
pub enum Computed {
    Logstat(Logstat, String),
    Sitrep(Sitrep),
}

impl Computed {
    fn json(&self) -> String {
        match self {
            Computed::Logstat(l, _) => serde_json::to_string(l),
            Computed::Sitrep(s) => serde_json::to_string(s),
        }
        .unwrap_or_default()
    }
    fn digest(&self) -> String {
        blake3::hash(self.json().as_bytes()).to_hex().to_string()
    }
    /// The report laid out, with a line saying which version it is and where it stands.
    pub fn document(&self, banner: Option<&str>) -> vigie_export::Document {
        match self {
            Computed::Logstat(l, name) => logstat_document(l, name, banner),
            Computed::Sitrep(s) => sitrep_document(s, banner),
        }
    }
}

/// The SITREP's parts a principal may read.
fn parts_of(p: &Principal) -> Vec<String> {
    let mut parts = Vec::new();
    if p.may(Permission::MonitoringRead) {
        parts.extend(["it", "readiness"].map(String::from));
    }
    if p.may(Permission::IncidentsRead) {
        parts.extend(["incidents", "decisions"].map(String::from));
    }
    if p.may(Permission::LogisticsRead) {
        parts.push("logistics".into());
    }
    parts
}

/// Computes a report of `kind` on `st` (the journal as of `at`) over `scope` with the given parts, as Vigie
/// itself (the record says what the drafter could read; whoever reads it later must be able to read all of it).
fn compute(
    st: &State,
    kind: &str,
    at: DateTime<Utc>,
    org: Option<&str>,
    since: Option<DateTime<Utc>>,
    parts: &[String],
    count_every: Duration,
) -> Result<Computed, AppError> {
    let vigie = Caller::internal(vigie_domain::Actor::system("reports"), "reports");
    match kind {
        "logstat" => {
            let (scope, org) = scope_for(st, &vigie, org)?;
            let l = logstat_of(st, at, &scope, org.clone(), count_every);
            Ok(Computed::Logstat(l, super::scope_name(st, org.as_deref())))
        }
        _ => {
            let mut s = sitrep(st, &vigie, at, since, count_every)?;
            let has = |p: &str| parts.iter().any(|x| x == p);
            if !has("it") {
                s.it = None;
            }
            if !has("readiness") {
                s.readiness = None;
            }
            if !has("incidents") {
                s.incidents = None;
            }
            if !has("decisions") {
                s.decisions = None;
            }
            if !has("logistics") {
                s.logistics = None;
            }
            Ok(Computed::Sitrep(s))
        }
    }
}

/// The instant of the previous LOGSTAT of a scope before `at`: the latest published one, else the latest drafted
/// (rejected ones aside).
fn previous(st: &State, org: Option<&str>, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let versions = || {
        st.reports
            .values()
            .filter(|r| r.kind == "logstat")
            .flat_map(|r| &r.versions)
            .filter(|v| v.draft.organization_id.as_deref() == org && v.draft.at < at && v.status != "rejected")
    };
    versions()
        .filter(|v| v.status == "published")
        .map(|v| v.draft.at)
        .max()
        .or_else(|| versions().map(|v| v.draft.at).max())
}

/// A LOGSTAT with its changes since `since` (computed on the journal as of then, over the same scope).
fn with_changes(
    c: Computed,
    journal: &Journal,
    history: &History,
    since: Option<DateTime<Utc>>,
    org: Option<&str>,
    count_every: Duration,
) -> Result<Computed, AppError> {
    let (mut l, name, since) = match (c, since) {
        (Computed::Logstat(l, name), Some(since)) => (l, name, since),
        (c, _) => return Ok(c),
    };
    let past = history.state_at(journal, since)?;
    let vigie = Caller::internal(vigie_domain::Actor::system("reports"), "reports");
    // An organisation that did not exist then has no earlier figures: every line is new.
    let before = match scope_for(&past.state, &vigie, org) {
        Ok((scope, o)) => logstat_of(&past.state, since, &scope, o, count_every),
        Err(_) => Logstat { lines: Vec::new(), at: since, seq: past.seq, ..l.clone() },
    };
    l.changes = Some(super::changes(&before, &l));
    Ok(Computed::Logstat(l, name))
}

/// A report's id: its kind, the shift of its instant, its scope (`LOGSTAT-2024-07-26-apres-midi-national`).
pub fn report_id(kind: &str, at: DateTime<Utc>, org: Option<&str>) -> String {
    let shift = vigie_incidents::oplog::shift_of(at).replace(' ', "-").replace("après", "apres");
    format!("{}-{shift}-{}", kind.to_uppercase(), org.unwrap_or("national"))
}

fn summary_of(c: &Computed) -> String {
    c.document(None).summary
}

/// Drafts a new version of a report as of `req.at` (now by default), for the caller's reach.
pub fn draft(
    journal: &Journal,
    history: &History,
    caller: &Caller,
    req: DraftRequest,
    count_every: Duration,
) -> Result<ReportVersion, AppError> {
    let kind = match req.kind.trim() {
        k @ ("logstat" | "sitrep") => k.to_string(),
        other => {
            let shown: String = other.chars().take(20).collect();
            return Err(AppError::field("kind", format!("expected logstat or sitrep, found {shown:?}")));
        }
    };
    let note = req.note.unwrap_or_default();
    crate::limits::free_text("note", &note)?;
    let at = crate::when::parse_instant("at", req.at.as_deref())?;
    let since = crate::when::parse_instant("since", req.since.as_deref())?;
    let now = Utc::now();
    if let Some(a) = at {
        crate::when::plausible("at", a)?;
        if a > now {
            return Err(AppError::field("at", "an instant in the past: a report says what was, not what will be"));
        }
    }
    if let Some(s) = since {
        crate::when::plausible("since", s)?;
        if s >= at.unwrap_or(now) {
            return Err(AppError::field("since", "an instant before the report's (`at`, or now)"));
        }
    }
    let (org, parts) = {
        let st = journal.state();
        match kind.as_str() {
            "logstat" => {
                caller.need(Permission::LogisticsRead)?;
                (scope_for(&st, caller, req.org.as_deref())?.1, Vec::new())
            }
            _ => {
                if !caller.principal.view(&st).is_all() {
                    return Err(AppError::Forbidden(Reason::new(
                        "forbidden.everywhere",
                        [("permission", "sitrep".to_string())],
                        "a SITREP covers everything: it is drafted by those who reach every organisation and partner"
                            .into(),
                    )));
                }
                let parts = parts_of(&caller.principal);
                if parts.is_empty() {
                    caller.need(Permission::MonitoringRead)?;
                }
                (None, parts)
            }
        }
    };
    // A LOGSTAT says what changed since the previous one of its scope (the latest published before it, else the
    // latest drafted), unless an instant is asked.
    let since = match (kind.as_str(), since) {
        ("logstat", None) => previous(&journal.state(), org.as_deref(), at.unwrap_or(now)),
        (_, s) => s,
    };
    let computed = match at {
        Some(at) => {
            let past = history.state_at(journal, at)?;
            compute(&past.state, &kind, at, org.as_deref(), since, &parts, count_every)?
        }
        None => compute(&journal.state(), &kind, now, org.as_deref(), since, &parts, count_every)?,
    };
    let computed = with_changes(computed, journal, history, since, org.as_deref(), count_every)?;
    let (at, seq, since) = match &computed {
        Computed::Logstat(l, _) => (l.at, l.seq, since),
        Computed::Sitrep(s) => (s.at, s.seq, Some(s.period_from)),
    };
    let id = report_id(&kind, at, org.as_deref());
    let digest = computed.digest();
    let summary = summary_of(&computed);
    let caller = caller.clone();
    let (_, v) = journal.execute(move |st| {
        let version = st.reports.get(&id).map_or(0, |r| r.versions.len() as u32) + 1;
        let d = ReportDrafted {
            id: id.clone(),
            version,
            kind,
            at,
            seq,
            organization_id: org,
            since,
            parts,
            digest,
            summary,
            note,
        };
        let v = ReportVersion::drafted(d.clone(), caller.actor().to_string(), Utc::now());
        Ok::<_, AppError>((vec![caller.event(Event::ReportDrafted(d))], v))
    })?;
    Ok(v)
}

/// A report the caller may read, or not found (a report outside one's reach is not said to exist).
pub fn record<'s>(st: &'s State, caller: &Caller, id: &str) -> Result<&'s ReportRecord, AppError> {
    let view = caller.principal.view(st);
    st.reports
        .get(id)
        .filter(|r| r.latest().is_some_and(|v| view.report(&v.draft, |p| caller.principal.may(p))))
        .ok_or_else(|| AppError::not_found("report", id))
}

/// The reports the caller may read, the latest drafted first.
pub fn list<'s>(st: &'s State, caller: &Caller) -> Vec<&'s ReportRecord> {
    let view = caller.principal.view(st);
    let mut all: Vec<&ReportRecord> = st
        .reports
        .values()
        .filter(|r| r.latest().is_some_and(|v| view.report(&v.draft, |p| caller.principal.may(p))))
        .collect();
    all.sort_by(|a, b| {
        let t = |r: &ReportRecord| r.latest().map(|v| v.drafted_at);
        t(b).cmp(&t(a)).then_with(|| a.id.cmp(&b.id))
    });
    all
}

/// Approves, publishes or rejects the latest version of a report.
pub fn review(journal: &Journal, caller: &Caller, id: &str, req: ReviewRequest) -> Result<ReportVersion, AppError> {
    caller.need(Permission::ReportsApprove)?;
    let decision = match req.decision.trim() {
        "approve" => "approved",
        "publish" => "published",
        "reject" => "rejected",
        other => {
            let shown: String = other.chars().take(20).collect();
            return Err(AppError::field("decision", format!("expected approve, publish or reject, found {shown:?}")));
        }
    };
    let note = req.note.unwrap_or_default();
    crate::limits::free_text("note", &note)?;
    let caller = caller.clone();
    let id = id.to_string();
    let (_, v) = journal.execute(move |st| {
        let rec = record(st, &caller, &id)?;
        let latest = rec.latest().expect("a record has a version");
        let conflict = |text: String| {
            Err(AppError::Conflict(Reason::new(
                "conflict.report",
                [("id", id.clone()), ("version", req.version.to_string()), ("status", latest.status.clone())],
                text,
            )))
        };
        if !rec.versions.iter().any(|v| v.draft.version == req.version) {
            return Err(AppError::field("version", format!("report {id} has no version {}", req.version)));
        }
        if req.version != latest.draft.version {
            return conflict(format!(
                "report {id}: version {} is the latest; version {} can no longer be reviewed",
                latest.draft.version, req.version
            ));
        }
        let allowed = matches!(
            (latest.status.as_str(), decision),
            ("draft", "approved") | ("approved", "published") | ("draft" | "approved", "rejected")
        );
        if !allowed {
            return conflict(format!(
                "report {id} version {} is {}: it cannot be {decision}",
                req.version, latest.status
            ));
        }
        // The person, whatever credential they use (`user:NAME/token:…`, `user:NAME/session:…`).
        let person = |actor: &str| actor.split('/').next().unwrap_or_default().to_string();
        if decision == "approved" && person(&latest.drafted_by) == person(caller.actor().as_str()) {
            return Err(AppError::Forbidden(Reason::new(
                "forbidden.own_report",
                [("id", id.clone())],
                format!("report {id}: its drafter cannot approve it; another person with reports:approve must"),
            )));
        }
        let mut v = latest.clone();
        let by = Some(caller.actor().to_string());
        match decision {
            "approved" => (v.approved_by, v.approved_at) = (by, Some(Utc::now())),
            "published" => (v.published_by, v.published_at) = (by, Some(Utc::now())),
            _ => v.rejected_by = by,
        }
        v.status = decision.to_string();
        v.review_note = note.clone();
        let e = ReportReviewed { id: id.clone(), version: req.version, decision: decision.to_string(), note };
        Ok((vec![caller.event(Event::ReportReviewed(e))], v))
    })?;
    Ok(v)
}

/// A version rebuilt from the journal at the position it recorded, checked against its digest, laid out with
/// where it stands (drafted, approved, published: by whom and when).
pub fn rebuild(
    journal: &Journal,
    history: &History,
    caller: &Caller,
    id: &str,
    version: Option<u32>,
    count_every: Duration,
) -> Result<(ReportVersion, vigie_export::Document), AppError> {
    let v = {
        let st = journal.state();
        let rec = record(&st, caller, id)?;
        match version {
            None => rec.latest().cloned(),
            Some(n) => rec.versions.iter().find(|v| v.draft.version == n).cloned(),
        }
        .ok_or_else(|| AppError::field("version", format!("report {id} has no version {}", version.unwrap_or(0))))?
    };
    let d = &v.draft;
    let st = history.state_through(journal, d.seq)?;
    let computed = compute(&st, &d.kind, d.at, d.organization_id.as_deref(), d.since, &d.parts, count_every)?;
    let computed = with_changes(computed, journal, history, d.since, d.organization_id.as_deref(), count_every)?;
    if computed.digest() != d.digest {
        return Err(AppError::Internal(format!(
            "report {id} version {}: the journal no longer gives its figures",
            d.version
        )));
    }
    let mut doc = computed.document(None);
    let p = |t: DateTime<Utc>| super::paris(t);
    let mut line = format!("{id}, version {} — rédigée par {} le {}", d.version, v.drafted_by, p(v.drafted_at));
    if let (Some(by), Some(at)) = (&v.approved_by, v.approved_at) {
        line.push_str(&format!(" ; approuvée par {by} le {}", p(at)));
    }
    if let (Some(by), Some(at)) = (&v.published_by, v.published_at) {
        line.push_str(&format!(" ; publiée par {by} le {}", p(at)));
    }
    line.push_str(match v.status.as_str() {
        "draft" => " — PROJET, non approuvé.",
        "approved" => " — approuvée, non publiée.",
        "rejected" => " — REJETÉE.",
        _ => " — publiée.",
    });
    doc.lines.insert(0, line);
    if !d.note.is_empty() {
        doc.lines.push(format!("Note : {}", d.note));
    }
    Ok((v, doc))
}

/// The reports of the hand-over that began the shift of `now` (06:00, 14:00 or 22:00, Paris): the national LOGSTAT
/// and the SITREP as of the hand-over, drafted by Vigie (`system:reports`) unless they exist or the journal `begun`
/// after the hand-over; returns the ids drafted.
pub fn draft_at_handover(
    journal: &Journal,
    history: &History,
    now: DateTime<Utc>,
    begun: DateTime<Utc>,
    count_every: Duration,
) -> Result<Vec<String>, AppError> {
    let shift = vigie_incidents::oplog::shift_of(now);
    let Some(start) = vigie_incidents::oplog::shift_start(&shift) else { return Ok(Vec::new()) };
    // A hand-over before the journal began has nothing to report (a data directory started since).
    if start < begun {
        return Ok(Vec::new());
    }
    let vigie = Caller::internal(vigie_domain::Actor::system("reports"), "reports:handover");
    let mut drafted = Vec::new();
    for kind in ["logstat", "sitrep"] {
        let id = report_id(kind, start, None);
        if journal.state().reports.contains_key(&id) {
            continue;
        }
        let req = DraftRequest {
            kind: kind.into(),
            at: Some(start.to_rfc3339()),
            note: Some(format!("Rédigé par Vigie à la relève ({shift}).")),
            ..Default::default()
        };
        draft(journal, history, &vigie, req, count_every)?;
        drafted.push(id);
    }
    Ok(drafted)
}
