//! The HTTP layer's one error type, mapped to responses in one place. Internal errors are logged and never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use vigie_import::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("the import has problems")]
    Invalid(Vec<Problem>),
    #[error("{0}")]
    Conflict(String),
    /// Well-formed but unacceptable input: nothing was changed.
    #[error("{message}")]
    Unprocessable { message: String, problems: Vec<String> },
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials, not allowed.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("the server is shutting down")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, json!({"error": "bad_request", "message": m})),
            ApiError::NotFound(what) => {
                (StatusCode::NOT_FOUND, json!({"error": "not_found", "message": format!("{what} not found")}))
            }
            ApiError::Invalid(problems) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "error": "invalid",
                    "message": format!("{} problem(s); nothing was imported", problems.len()),
                    "problems": problems,
                    "lines": problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                }),
            ),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, json!({"error": "conflict", "message": m})),
            ApiError::Unprocessable { message, problems } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "invalid", "message": message, "problems": problems}),
            ),
            ApiError::Unauthenticated(m) => {
                (StatusCode::UNAUTHORIZED, json!({"error": "unauthenticated", "message": m}))
            }
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, json!({"error": "forbidden", "message": m})),
            ApiError::TooManyRequests(m) => {
                (StatusCode::TOO_MANY_REQUESTS, json!({"error": "too_many_requests", "message": m}))
            }
            ApiError::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, json!({"error": "unavailable", "message": self.to_string()}))
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal", "message": "internal error; see the server log"}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

impl From<vigie_logistics::AskError> for ApiError {
    fn from(e: vigie_logistics::AskError) -> ApiError {
        use vigie_logistics::AskError::*;
        match e {
            Unavailable(_) => ApiError::Conflict(e.to_string()),
            UnknownItem(_) | UnknownSite(_) | UnknownOrganization(_) | UnknownPlan(_) => ApiError::NotFound(
                // "unknown item X" → "item X"
                e.to_string().trim_start_matches("unknown ").to_string(),
            ),
            Place(_) | BadArgument(_) => ApiError::BadRequest(e.to_string()),
        }
    }
}

impl From<vigie_journal::ExecuteError<String>> for ApiError {
    fn from(e: vigie_journal::ExecuteError<String>) -> ApiError {
        match e {
            vigie_journal::ExecuteError::Refused(m) => ApiError::Conflict(m),
            vigie_journal::ExecuteError::Journal(e) => e.into(),
        }
    }
}

impl From<vigie_journal::JournalError> for ApiError {
    fn from(e: vigie_journal::JournalError) -> ApiError {
        match e {
            vigie_journal::JournalError::Stopped => ApiError::Unavailable,
            other => ApiError::Internal(other.to_string()),
        }
    }
}
