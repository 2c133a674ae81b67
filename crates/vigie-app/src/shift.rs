//! A shift of effort: the sites of one organisation (all, or those named) and the forces on them pass to another.
//! The strategic centre's decision (`logistics:shift` over every organisation); previewed by its effect on every
//! organisation's sufficiency, checked again inside the journal command when applied.

use crate::{limits, AppError, Caller};
use chrono::NaiveDate;
use vigie_domain::access::Permission;
use vigie_domain::{Event, SiteId, State, SupportShift};
use vigie_journal::Journal;
use vigie_logistics::whatif::{propose_shift, shift_effect, shift_moves, Moved, OrgEffect};

/// A shift as asked for.
#[derive(Debug, Clone)]
pub struct ShiftRequest {
    pub from: String,
    pub to: String,
    /// `None`: every site `from` supports.
    pub sites: Option<Vec<SiteId>>,
    pub reason: String,
    /// The day and horizon of the effect shown.
    pub on: NaiveDate,
    pub days: u32,
}

/// The shift and its effect on every organisation whose sufficiency it changes.
#[derive(Debug, Clone)]
pub struct ShiftPreview {
    pub shift: SupportShift,
    /// The sites that change hands, and the forces on them that go with them.
    pub sites: Vec<Moved>,
    pub forces: Vec<Moved>,
    pub effect: Vec<OrgEffect>,
}

fn checked(caller: &Caller, r: &ShiftRequest) -> Result<(), AppError> {
    caller.need_all(Permission::Shift)?;
    limits::free_text("reason", &r.reason)?;
    if let Some(s) = &r.sites {
        limits::list("sites", s, 100_000)?;
    }
    Ok(())
}

fn preview_on(st: &State, r: &ShiftRequest) -> Result<ShiftPreview, AppError> {
    let shift = propose_shift(st, &r.from, &r.to, r.sites.as_deref(), &r.reason)?;
    let effect = shift_effect(st, &shift, r.on, r.days.max(1))?;
    let (sites, forces) = shift_moves(st, &shift);
    Ok(ShiftPreview { shift, sites, forces, effect })
}

/// What the shift would change, without changing anything.
pub fn preview(journal: &Journal, caller: &Caller, r: &ShiftRequest) -> Result<ShiftPreview, AppError> {
    checked(caller, r)?;
    preview_on(&journal.state(), r)
}

/// Records the shift. Returns it with its effect as computed just before.
pub fn apply(journal: &Journal, caller: &Caller, r: ShiftRequest) -> Result<ShiftPreview, AppError> {
    checked(caller, &r)?;
    let before = preview_on(&journal.state(), &r)?;
    let c = caller.clone();
    let (_, shift) = journal.execute(move |st| {
        let shift = propose_shift(st, &r.from, &r.to, r.sites.as_deref(), &r.reason)?;
        Ok((vec![c.event(Event::SupportShifted(shift.clone()))], shift))
    })?;
    Ok(ShiftPreview { shift, ..before })
}
