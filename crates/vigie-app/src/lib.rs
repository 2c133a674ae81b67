//! Vigie's application layer: the one trust boundary every write passes.
//!
//! Each command is a function taking the journal, the [`Caller`] (who, through what credential, from where) and a
//! typed input, and returning a typed outcome or an [`AppError`]. It checks the caller's permission and reach
//! **on the record as it is and as it would be** (through the pure [`vigie_domain::access::View`]), bounds every
//! text, then decides inside a journal command so that the decision and its append cannot be interleaved with
//! another's. HTTP (`vigie-server`) and the command line (`vigie`) only translate requests into these calls and
//! outcomes into answers.
//!
//! - [`imports`]: CSV/XLSX imports, all or nothing.
//! - [`plans`]: commit a logistics plan, then ship, receive or cancel it; [`shift`]: a shift of effort.
//! - [`accounts`]: users, API tokens (bound to the credential that issued them), sessions, refusals.
//! - [`incidents`]: incidents with ServiceNow's lifecycle, the operations log, SLA breaches, the outbound sync.
//! - [`monitoring`]: the live estate, results in, acknowledgements, maintenance windows, alert incidents.
//! - [`readiness`]: venue readiness: the picture as of now (dates, blockers, critical paths, roll-ups), a task's
//!   progress (its predecessors first, unless overridden and journalled), computers' image compliance.
//! - [`credentials`]: password and token hashing; [`audit`]: the journal by actor, object and time; [`when`]: days
//!   and instants as users write them.
//!
//! Invariant: a command that returns an error appended nothing.

pub mod accounts;
pub mod audit;
pub mod credentials;
mod error;
pub mod exercise;
pub mod imports;
pub mod incidents;
pub mod limits;
pub mod monitoring;
pub mod notify;
pub mod oncall;
pub mod plans;
pub mod readiness;
pub mod reports;
pub mod shift;
pub mod status;
pub mod when;

pub use error::{problem, AppError, Reason};

use vigie_domain::access::{Permission, Principal};
use vigie_domain::{Actor, Event, NewEvent};

/// Who asks, and through what: the authenticated principal, and the source every event it causes records (the HTTP
/// route, the command line's command).
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub source: String,
}

impl Caller {
    pub fn new(principal: Principal, source: impl Into<String>) -> Caller {
        Caller { principal, source: source.into() }
    }

    /// The local operator or Vigie itself, as `actor` (the command line on the data directory, background work).
    pub fn internal(actor: Actor, source: impl Into<String>) -> Caller {
        Caller::new(Principal::internal(actor), source)
    }

    pub fn actor(&self) -> &Actor {
        &self.principal.actor
    }

    /// An event caused by this caller.
    pub fn event(&self, event: Event) -> NewEvent {
        NewEvent { actor: self.principal.actor.clone(), source: self.source.clone(), event }
    }

    /// Refuses unless the caller holds `p`.
    pub fn need(&self, p: Permission) -> Result<(), AppError> {
        if self.principal.may(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden(Reason::new(
                "forbidden.permission",
                [("permission", p.to_string())],
                format!("this needs the permission {p}, which your role or token does not grant"),
            )))
        }
    }

    /// Refuses unless the caller holds `p` over every organisation and partner.
    pub fn need_all(&self, p: Permission) -> Result<(), AppError> {
        self.need(p)?;
        if self.principal.reach == vigie_domain::access::Reach::All {
            Ok(())
        } else {
            Err(AppError::Forbidden(Reason::new(
                "forbidden.everywhere",
                [("permission", p.to_string())],
                format!("this needs the permission {p} over every organisation and partner"),
            )))
        }
    }
}

/// A new record id (32 lower-case hexadecimal digits, ordered by time).
pub fn new_id() -> String {
    vigie_journal::new_event_id().simple().to_string()
}
