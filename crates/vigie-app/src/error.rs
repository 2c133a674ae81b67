//! The application layer's one error type. Every command answers with an outcome or one of these; the edges map
//! them (HTTP in `vigie-server/src/error.rs`, the Table API in ServiceNow's envelope, the CLI as a message and an
//! exit code). A refusal never changed anything.

use std::fmt;

use vigie_import::Problem;
use vigie_journal::{ExecuteError, JournalError};

/// What a refusal says to people: a stable `code` that a user interface translates with its `params` (the web UI
/// does, in French and English), and the English `text` API clients and logs read. A reason made from a bare
/// string has no code of its own: the UI then says its kind (refused, conflict…) in the user's language.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reason {
    pub code: &'static str,
    pub params: Vec<(&'static str, String)>,
    pub text: String,
}

impl Reason {
    /// A coded reason: `Reason::new("plan.state", [("plan", id), ("state", s)], format!(…))`.
    pub fn new<const N: usize>(code: &'static str, params: [(&'static str, String); N], text: String) -> Reason {
        Reason { code, params: params.into(), text }
    }
}

impl From<String> for Reason {
    fn from(text: String) -> Reason {
        Reason { text, ..Reason::default() }
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Reason {
        text.to_string().into()
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppError {
    /// `what` names the record (`plan PLN-0001`, `incident INC0000042`), coded `not_found.<kind>` with its `id`.
    #[error("{what} not found")]
    NotFound { what: Reason },
    /// The caller may not do this, or not to this record (as it is or as it would be).
    #[error("{0}")]
    Forbidden(Reason),
    /// The state does not allow it now (a plan already shipped, a record changed since it was read).
    #[error("{0}")]
    Conflict(Reason),
    /// The input is wrong; every problem is located (`file:line:column`, or the field's name).
    #[error("{message}")]
    Invalid { message: String, problems: Vec<Problem> },
    /// Storage cannot take writes now; try again after `retry_after_s` seconds. Nothing was written.
    #[error("{reason}")]
    Unavailable { reason: Reason, retry_after_s: u64 },
    /// A fault of Vigie itself; the detail is for the log, not for the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A record of a kind (`plan`, `site`, `incident`…) that does not exist, or that the caller may not know of.
    pub fn not_found(kind: &'static str, id: impl fmt::Display) -> AppError {
        let id = id.to_string();
        let code = match kind {
            "plan" => "not_found.plan",
            "site" => "not_found.site",
            "item" => "not_found.item",
            "organisation" | "organization" => "not_found.organisation",
            "force" => "not_found.force",
            "vehicle" => "not_found.vehicle",
            "incident" => "not_found.incident",
            "check" => "not_found.check",
            "window" => "not_found.window",
            "user" => "not_found.user",
            "token" => "not_found.token",
            _ => "not_found",
        };
        AppError::NotFound { what: Reason::new(code, [("id", id.clone())], format!("{kind} {id}")) }
    }

    /// One problem with one field of the input.
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        let message = message.into();
        AppError::Invalid { message: format!("{field}: {message}"), problems: vec![problem(field, message)] }
    }

    /// Problems of an input; `message` sums them up.
    pub fn invalid(message: impl Into<String>, problems: Vec<Problem>) -> AppError {
        AppError::Invalid { message: message.into(), problems }
    }
}

/// A problem located at a field of a request (`short_description`, `movements[2].quantity`).
pub fn problem(field: &str, message: impl Into<String>) -> Problem {
    Problem::at(field, 0, 0, message).coded("invalid.field", [("field", field.to_string())])
}

impl From<JournalError> for AppError {
    fn from(e: JournalError) -> AppError {
        match e {
            JournalError::Stopped => AppError::Unavailable {
                reason: Reason::new("unavailable.stopping", [], "the server is shutting down".into()),
                retry_after_s: 5,
            },
            JournalError::NotLeader { leader } => AppError::Unavailable {
                reason: Reason::new(
                    "unavailable.not_leader",
                    [],
                    format!(
                        "this node follows the cluster's leader ({}) and the write reached it during a failover; \
                         nothing was written",
                        leader.as_deref().unwrap_or("none elected yet")
                    ),
                ),
                retry_after_s: 1,
            },
            JournalError::Unavailable { reason, retry_after_s } => AppError::Unavailable {
                reason: Reason::new(
                    "unavailable.journal",
                    [],
                    format!("the journal cannot write now ({reason}); nothing was written"),
                ),
                retry_after_s,
            },
            JournalError::Store(e) => AppError::Unavailable {
                reason: Reason::new(
                    "unavailable.journal",
                    [],
                    format!("the journal could not write ({e}); nothing was written"),
                ),
                retry_after_s: 5,
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<ExecuteError<AppError>> for AppError {
    fn from(e: ExecuteError<AppError>) -> AppError {
        match e {
            ExecuteError::Refused(e) => e,
            ExecuteError::Journal(e) => e.into(),
        }
    }
}

impl From<vigie_logistics::AskError> for AppError {
    fn from(e: vigie_logistics::AskError) -> AppError {
        use vigie_logistics::AskError::*;
        match e {
            Unavailable(_) => AppError::Conflict(e.to_string().into()),
            UnknownItem(id) => AppError::not_found("item", id),
            UnknownSite(id) => AppError::not_found("site", id),
            UnknownOrganization(id) => AppError::not_found("organisation", id),
            UnknownPlan(id) => AppError::not_found("plan", id),
            Place(_) | BadArgument(_) => AppError::Invalid { message: e.to_string(), problems: Vec::new() },
        }
    }
}

impl From<vigie_incidents::incident::IncidentError> for AppError {
    fn from(e: vigie_incidents::incident::IncidentError) -> AppError {
        use vigie_incidents::incident::IncidentError::*;
        match &e {
            Invalid { field, message } => AppError::field(field, message.clone()),
            Conflict { .. } => AppError::Conflict(Reason::new("conflict.stale", [], e.to_string())),
            Final { number, state } => AppError::Conflict(Reason::new(
                "conflict.final",
                [("number", number.clone()), ("state", state.to_string())],
                e.to_string(),
            )),
        }
    }
}
