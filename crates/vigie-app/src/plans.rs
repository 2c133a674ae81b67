//! Logistics plans: commit one (reserving quantities and vehicles), then ship, receive or cancel it. Each is decided
//! by `vigie_logistics::plans` inside the journal's command, so concurrent commits are decided one after another and
//! never reserve more than is available. A scoped caller commits or steps a plan only when its destination, every
//! origin and every vehicle it holds are within its reach.

use crate::{limits, AppError, Caller};
use serde::Deserialize;
use vigie_domain::access::Permission;
use vigie_domain::state::{PlanRecord, Stamped};
use vigie_domain::*;
use vigie_journal::Journal;
use vigie_logistics::plans::{check_commit, check_step};

/// A plan as a client proposes it; Vigie gives it its id.
#[derive(Debug, Clone, Deserialize)]
pub struct ProposedPlan {
    pub destination: SiteId,
    #[serde(default)]
    pub movements: Vec<Movement>,
    #[serde(default)]
    pub vehicles: Vec<VehicleId>,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub note: String,
    /// Day on which availability is judged (default: today in Paris).
    pub on: Option<String>,
}

/// A step of a committed plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Ship,
    Receive,
    Cancel,
}

impl Step {
    pub fn parse(s: &str) -> Option<Step> {
        match s {
            "ship" => Some(Step::Ship),
            "receive" => Some(Step::Receive),
            "cancel" => Some(Step::Cancel),
            _ => None,
        }
    }
    fn status(self) -> PlanStatus {
        match self {
            Step::Ship => PlanStatus::Shipped,
            Step::Receive => PlanStatus::Received,
            Step::Cancel => PlanStatus::Cancelled,
        }
    }
    fn event(self, s: PlanStep) -> Event {
        match self {
            Step::Ship => Event::PlanShipped(s),
            Step::Receive => Event::PlanReceived(s),
            Step::Cancel => Event::PlanCancelled(s),
        }
    }
}

/// Movements and vehicles a plan may hold.
pub const MAX_MOVEMENTS: usize = 10_000;

fn outside(id: &str) -> AppError {
    AppError::Forbidden(crate::Reason::new(
        "forbidden.plan_reach",
        [("plan", id.to_string())],
        format!(
            "plan {id} moves stock or vehicles to or from sites outside your organisation: the strategic centre \
             commits it"
        ),
    ))
}

/// The caller's plan must stay within its reach (destination, every origin, every vehicle), as the state is now.
fn within(st: &State, caller: &Caller, plan: &Plan) -> Result<(), AppError> {
    if caller.principal.view(st).plan(st, plan) {
        Ok(())
    } else {
        Err(outside(&plan.id.0))
    }
}

/// Commits a proposed plan: checked first for a precise error, then decided again inside the journal command,
/// where commits are decided one after another. Returns the plan as recorded.
pub fn commit(journal: &Journal, caller: &Caller, p: ProposedPlan) -> Result<Stamped<PlanRecord>, AppError> {
    caller.need(Permission::LogisticsWrite)?;
    limits::name("purpose", &p.purpose)?;
    limits::free_text("note", &p.note)?;
    limits::list("movements", &p.movements, MAX_MOVEMENTS)?;
    limits::list("vehicles", &p.vehicles, MAX_MOVEMENTS)?;
    let on = crate::when::parse_day(p.on.as_deref())?;
    let mut plan = Plan {
        id: PlanId(String::new()),
        destination: p.destination,
        movements: p.movements,
        vehicles: p.vehicles,
        purpose: p.purpose,
        note: p.note,
    };
    {
        let st = journal.state();
        within(&st, caller, &plan)?;
        check_commit(&st, &plan, on)?;
    }
    let c = caller.clone();
    let (_, id) = journal.execute(move |st| {
        within(st, &c, &plan)?;
        check_commit(st, &plan, on)?;
        // A short number people can say on the radio, given in commit order by the single writer: PLN-0007.
        plan.id = next_number(st);
        let id = plan.id.clone();
        Ok((vec![c.event(Event::PlanCommitted(plan))], id))
    })?;
    record(journal, &id.0)
}

/// The next free plan number, `PLN-0001` onwards (more digits past 9,999).
fn next_number(st: &State) -> PlanId {
    let mut n = st.plans.len() + 1;
    loop {
        let id = PlanId(format!("PLN-{n:04}"));
        if !st.plans.contains_key(&id) {
            return id;
        }
        n += 1;
    }
}

/// Ships, receives or cancels a plan the caller reaches. Returns the plan as recorded.
pub fn step(journal: &Journal, caller: &Caller, id: &str, step: Step) -> Result<Stamped<PlanRecord>, AppError> {
    caller.need(Permission::LogisticsWrite)?;
    let plan_id = PlanId(id.to_string());
    let c = caller.clone();
    let to = step.status();
    journal.execute(move |st| {
        let rec = st.plans.get(&plan_id).ok_or_else(|| AppError::not_found("plan", &plan_id.0))?;
        within(st, &c, &rec.value.plan)?;
        // A plan not in the state for this step: a conflict with where it stands.
        check_step(st, &plan_id.0, to).map_err(|e| match e {
            vigie_logistics::AskError::BadArgument(m) => AppError::Conflict(m.into()),
            e => e.into(),
        })?;
        let mut events = Vec::new();
        if to == PlanStatus::Received {
            // Receiving a delivery finishes the readiness tasks it satisfies, and releases what follows them.
            events.extend(crate::readiness::finished_by_plan(st, &plan_id).into_iter().map(|e| c.event(e)));
        }
        events.insert(0, c.event(step.event(PlanStep { plan_id })));
        Ok((events, ()))
    })?;
    record(journal, id)
}

fn record(journal: &Journal, id: &str) -> Result<Stamped<PlanRecord>, AppError> {
    journal.state().plans.get(id).cloned().ok_or_else(|| AppError::not_found("plan", id))
}
