//! The application layer's one error type. Every command answers with an outcome or one of these; the edges map
//! them (HTTP in `vigie-server/src/error.rs`, the Table API in ServiceNow's envelope, the CLI as a message and an
//! exit code). A refusal never changed anything.

use vigie_import::Problem;
use vigie_journal::{ExecuteError, JournalError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppError {
    /// `what` names the record: `plan P-…`, `incident INC0000042`.
    #[error("{what} not found")]
    NotFound { what: String },
    /// The caller may not do this, or not to this record (as it is or as it would be).
    #[error("{0}")]
    Forbidden(String),
    /// The state does not allow it now (a plan already shipped, a record changed since it was read).
    #[error("{0}")]
    Conflict(String),
    /// The input is wrong; every problem is located (`file:line:column`, or the field's name).
    #[error("{message}")]
    Invalid { message: String, problems: Vec<Problem> },
    /// Storage cannot take writes now; try again after `retry_after_s` seconds. Nothing was written.
    #[error("{reason}")]
    Unavailable { reason: String, retry_after_s: u64 },
    /// A fault of Vigie itself; the detail is for the log, not for the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::NotFound { what: what.into() }
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
    Problem::at(field, 0, 0, message)
}

impl From<JournalError> for AppError {
    fn from(e: JournalError) -> AppError {
        match e {
            JournalError::Stopped => {
                AppError::Unavailable { reason: "the server is shutting down".into(), retry_after_s: 5 }
            }
            JournalError::Unavailable { reason, retry_after_s } => AppError::Unavailable {
                reason: format!("the journal cannot write now ({reason}); nothing was written"),
                retry_after_s,
            },
            JournalError::Store(e) => AppError::Unavailable {
                reason: format!("the journal could not write ({e}); nothing was written"),
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
            Unavailable(_) => AppError::Conflict(e.to_string()),
            UnknownItem(id) => AppError::not_found(format!("item {id}")),
            UnknownSite(id) => AppError::not_found(format!("site {id}")),
            UnknownOrganization(id) => AppError::not_found(format!("organisation {id}")),
            UnknownPlan(id) => AppError::not_found(format!("plan {id}")),
            Place(_) | BadArgument(_) => AppError::Invalid { message: e.to_string(), problems: Vec::new() },
        }
    }
}

impl From<vigie_incidents::incident::IncidentError> for AppError {
    fn from(e: vigie_incidents::incident::IncidentError) -> AppError {
        use vigie_incidents::incident::IncidentError::*;
        match &e {
            Invalid { field, message } => AppError::field(field, message.clone()),
            Conflict { .. } | Final { .. } => AppError::Conflict(e.to_string()),
        }
    }
}
