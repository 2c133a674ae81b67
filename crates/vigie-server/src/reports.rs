//! `/api/v1/reports`: reports for the chain of command, computed from the journal **as of an instant** (now, or
//! `at`: the state replayed up to it, [`vigie_app::reports::History`]), as JSON or as a file (PDF, XLSX, CSV) laid
//! out by `vigie-export`; and the reporting discipline.

use crate::access::Caller;
use crate::{ApiError, App};
use axum::extract::{Query, State as AxState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use vigie_app::reports::{self, History};
use vigie_app::AppError;
use vigie_domain::State;
use vigie_journal::Journal;

/// How a report is answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Format {
    Json,
    Pdf,
    Xlsx,
    Csv,
}

impl Format {
    pub(crate) fn parse(v: Option<&str>) -> Result<Format, AppError> {
        match v.map(str::trim).unwrap_or("json") {
            "" | "json" => Ok(Format::Json),
            "pdf" => Ok(Format::Pdf),
            "xlsx" => Ok(Format::Xlsx),
            "csv" => Ok(Format::Csv),
            other => {
                let shown: String = other.chars().take(20).collect();
                Err(AppError::field("format", format!("expected json, pdf, xlsx or csv, found {shown:?}")))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    at: Option<String>,
    since: Option<String>,
    org: Option<String>,
    format: Option<String>,
}

/// An instant given, or none.
type Instant = Option<DateTime<Utc>>;

impl ReportQuery {
    /// The format, the instant and the earlier one (before it), each checked at its field.
    fn read(&self) -> Result<(Format, Instant, Instant), AppError> {
        let format = Format::parse(self.format.as_deref())?;
        let at = vigie_app::when::parse_instant("at", self.at.as_deref())?;
        let since = vigie_app::when::parse_instant("since", self.since.as_deref())?;
        before(since, at)?;
        Ok((format, at, since))
    }
}

/// Runs `f` on the state as of `at` (the live state when absent): the instant must not be in the future.
fn as_of<T>(
    history: &History,
    journal: &Journal,
    at: Option<DateTime<Utc>>,
    f: impl FnOnce(&State, DateTime<Utc>) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let now = Utc::now();
    match at {
        Some(at) if at > now => {
            Err(AppError::field("at", "an instant in the past: a report says what was, not what will be"))
        }
        Some(at) => {
            vigie_app::when::plausible("at", at)?;
            let past = history.state_at(journal, at)?;
            f(&past.state, at)
        }
        None => f(&journal.state(), now),
    }
}

/// `since` must come before `at` (now by default).
fn before(since: Option<DateTime<Utc>>, at: Option<DateTime<Utc>>) -> Result<(), AppError> {
    match since {
        Some(s) if s >= at.unwrap_or_else(Utc::now) => {
            Err(AppError::field("since", "an instant before the report's (`at`, or now)"))
        }
        Some(s) => vigie_app::when::plausible("since", s).map(|_| ()),
        None => Ok(()),
    }
}

/// A file to download, named after the report and its instant (Paris).
pub(crate) fn file(bytes: Vec<u8>, format: Format, stem: &str, at: DateTime<Utc>) -> Response {
    let (mime, ext) = match format {
        Format::Pdf => ("application/pdf", "pdf"),
        Format::Xlsx => ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        _ => ("text/csv; charset=utf-8", "csv"),
    };
    let when = vigie_domain::paris::to_local(at).format("%Y%m%d-%H%M");
    let name = format!("{stem}-{when}.{ext}");
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// A report as JSON, or laid out as the file asked for.
fn respond<R: serde::Serialize>(
    report: R,
    format: Format,
    stem: &str,
    at: DateTime<Utc>,
    layout: impl FnOnce(&R) -> vigie_export::Document,
) -> Result<Response, ApiError> {
    if format == Format::Json {
        return Ok(axum::Json(report).into_response());
    }
    Ok(file(write(&layout(&report), format)?, format, stem, at))
}

pub(crate) fn write(doc: &vigie_export::Document, format: Format) -> Result<Vec<u8>, ApiError> {
    Ok(match format {
        Format::Pdf => vigie_export::to_pdf(doc),
        Format::Xlsx => vigie_export::to_xlsx(doc).map_err(|e| ApiError::Internal(e.to_string()))?,
        _ => vigie_export::to_csv(doc),
    })
}

/// `GET /api/v1/reports/logstat`: per organisation and item as of `at` (now by default), with the changes since
/// `since` when given.
pub async fn logstat(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let (format, at, since) = q.read()?;
    let every = app.count_every;
    let history = app.history.clone();
    let (report, scope_name) = app
        .blocking(move |j| {
            let org = q.org.as_deref();
            let compute = |st: &State, at| -> Result<_, AppError> {
                let r = reports::logstat(st, &caller.0, at, org, every)?;
                let name = reports::scope_name(st, r.organization_id.as_deref());
                Ok((r, name))
            };
            let (mut report, name) = as_of(&history, &j, at, compute)?;
            if let Some(since) = since {
                let (before, _) = as_of(&history, &j, Some(since), compute)?;
                report.changes = Some(reports::changes(&before, &report));
            }
            Ok((report, name))
        })
        .await?;
    let at = report.at;
    respond(report, format, "LOGSTAT", at, |r| reports::logstat_document(r, &scope_name, app.banner()))
}

/// `GET /api/v1/reports/sitrep`: the situation as of `at` (now by default) over the period since `since` (24 h
/// before by default).
pub async fn sitrep(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let (format, at, since) = q.read()?;
    let every = app.count_every;
    let history = app.history.clone();
    let report = app
        .blocking(move |j| Ok(as_of(&history, &j, at, |st, at| reports::sitrep(st, &caller.0, at, since, every))?))
        .await?;
    let at = report.at;
    respond(report, format, "SITREP", at, |r| reports::sitrep_document(r, app.banner()))
}

/// `GET /api/v1/reports/discipline`: per organisation and site, when stock was last counted against the expected
/// frequency; the late ones first.
pub async fn discipline(
    AxState(app): AxState<App>,
    caller: Caller,
) -> Result<axum::Json<reports::Discipline>, ApiError> {
    let st = app.journal.state();
    Ok(axum::Json(reports::discipline(&st, &caller.0, Utc::now(), app.count_every)?))
}

/// `GET /api/v1/reports`: the reports the caller may read.
pub async fn list(AxState(app): AxState<App>, caller: Caller) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let st = app.journal.state();
    Ok(axum::Json(serde_json::json!({ "items": reports::publish::list(&st, &caller.0) })))
}

/// `GET /api/v1/reports/{id}`.
pub async fn one(
    AxState(app): AxState<App>,
    caller: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let st = app.journal.state();
    let rec = reports::publish::record(&st, &caller.0, &id)?;
    serde_json::to_value(rec).map(axum::Json).map_err(|e| ApiError::Internal(e.to_string()))
}

/// `POST /api/v1/reports`: a new draft.
pub async fn draft(
    AxState(app): AxState<App>,
    caller: Caller,
    b: Result<axum::Json<reports::publish::DraftRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(axum::http::StatusCode, axum::Json<vigie_domain::report::ReportVersion>), ApiError> {
    let req = crate::access::body(b)?;
    let (history, every) = (app.history.clone(), app.count_every);
    let v = app.blocking(move |j| Ok(reports::publish::draft(&j, &history, &caller.0, req, every)?)).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(v)))
}

/// `POST /api/v1/reports/{id}/review`.
pub async fn review(
    AxState(app): AxState<App>,
    caller: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
    b: Result<axum::Json<reports::publish::ReviewRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<vigie_domain::report::ReportVersion>, ApiError> {
    let req = crate::access::body(b)?;
    let v = app.blocking(move |j| Ok(reports::publish::review(&j, &caller.0, &id, req)?)).await?;
    Ok(axum::Json(v))
}

#[derive(Debug, Deserialize)]
pub struct FileQuery {
    version: Option<u32>,
    format: Option<String>,
}

/// `GET /api/v1/reports/{id}/file`: a version rebuilt and checked.
pub async fn version_file(
    AxState(app): AxState<App>,
    caller: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
    Query(q): Query<FileQuery>,
) -> Result<Response, ApiError> {
    let format = Format::parse(Some(q.format.as_deref().unwrap_or("pdf")))?;
    let (history, every) = (app.history.clone(), app.count_every);
    let stem = id.clone();
    let (v, doc) =
        app.blocking(move |j| Ok(reports::publish::rebuild(&j, &history, &caller.0, &id, q.version, every)?)).await?;
    let mut doc = doc;
    doc.banner = app.banner().map(str::to_string);
    if format == Format::Json {
        return Ok(axum::Json(serde_json::json!({ "version": v, "document": { "title": doc.title, "lines": doc.lines, "summary": doc.summary } })).into_response());
    }
    Ok(file(write(&doc, format)?, format, &format!("{stem}-v{}", v.draft.version), v.draft.at))
}

/// On the leader, every minute: the reports of the current shift's hand-over, drafted once (their ids say the
/// shift, so a restart or another node drafts nothing twice; a late start drafts them as of the hand-over all the
/// same).
pub async fn handover_loop(app: App) {
    let mut every = crate::Every::new(&app, std::time::Duration::from_secs(60));
    while every.next().await {
        if !app.journal.role().writes() {
            continue;
        }
        let (history, count_every) = (app.history.clone(), app.count_every);
        let r = app
            .blocking(move |j| {
                let Some(first) = j.read_after(0, 1).map_err(vigie_app::AppError::from)?.first().map(|e| e.time) else {
                    return Ok(Vec::new());
                };
                Ok(reports::publish::draft_at_handover(&j, &history, Utc::now(), first, count_every)?)
            })
            .await;
        match r {
            Ok(drafted) if !drafted.is_empty() => tracing::info!(?drafted, "hand-over reports drafted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "hand-over reports not drafted"),
        }
    }
}
