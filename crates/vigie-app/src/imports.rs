//! Imports (docs/data-format.md): files already read into a [`Batch`] are planned against the state and appended
//! atomically, or only reported with `dry_run`. Every row must be within the caller's permissions and reach, as the
//! record is and as it would be, or nothing is written.

use crate::{AppError, Caller};
use vigie_import::{Batch, Problem, Report};
use vigie_journal::Journal;

/// How a refusal of reach reads among an import's problems.
fn refused(why: String) -> AppError {
    AppError::Forbidden(crate::Reason::new("forbidden.import", [], format!("{why}: nothing was imported")))
}

fn invalid(problems: Vec<Problem>) -> AppError {
    let n = vigie_import::problem_count(&problems);
    AppError::invalid(format!("{n} problem(s); nothing was imported"), problems)
}

/// Plans `batch` against the current state and appends its events in one transaction; with `dry_run`, only
/// reports. Planning runs inside the journal's command, so the state cannot change between validation and append.
pub fn import(
    journal: &Journal,
    caller: &Caller,
    batch: impl Into<std::sync::Arc<Batch>>,
    dry_run: bool,
) -> Result<Report, AppError> {
    let batch = batch.into();
    let p = caller.principal.clone();
    let actor = caller.actor().clone();
    let allowed = move |st: &vigie_domain::State, events: &[vigie_domain::NewEvent]| -> Result<(), AppError> {
        let view = p.view(st);
        view.may_write_all(st, events.iter().map(|e| &e.event), |x| p.may(x)).map_err(refused)?;
        vigie_domain::oncall::check_holders(st, events.iter().map(|e| &e.event)).map_err(|why| {
            AppError::invalid(format!("{why}: nothing was imported"), vec![crate::problem("rosters", why)])
        })
    };
    if dry_run {
        let st = journal.state();
        let plan = vigie_import::plan(&batch, &st, &actor).map_err(invalid)?;
        allowed(&st, &plan.events)?;
        return Ok(plan.report);
    }
    let (_, report) = journal.execute(move |st| {
        let p = vigie_import::plan(&batch, st, &actor).map_err(invalid)?;
        allowed(st, &p.events)?;
        Ok((p.events, p.report))
    })?;
    Ok(report)
}
