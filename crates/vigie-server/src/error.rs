//! The HTTP layer's one error type, mapped to responses in one place. The application layer's errors
//! ([`vigie_app::AppError`]) become these; internal errors are logged and never shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use vigie_app::{AppError, Reason};
use vigie_import::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be read (a query parameter, a body that is not the JSON expected).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0} not found")]
    NotFound(Reason),
    /// Well-formed but unacceptable input, every problem located: nothing was changed.
    #[error("{message}")]
    Invalid { message: String, problems: Vec<Problem> },
    #[error("{0}")]
    Conflict(Reason),
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials, not allowed.
    #[error("{0}")]
    Forbidden(Reason),
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_s: u64 },
    /// The body is not of the type the route takes (JSON).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Storage cannot take writes now, or the server is stopping: try again later.
    #[error("{reason}")]
    Unavailable { reason: Reason, retry_after_s: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The short code of the body's `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::NotFound(_) => "not_found",
            ApiError::Invalid { .. } => "invalid",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The message shown to the caller (an internal error's detail is not).
    pub fn message(&self) -> String {
        match self {
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "internal error; see the server log".into()
            }
            other => other.to_string(),
        }
    }

    /// The stable code of what exactly went wrong, with its parameters, for a user interface to say it in the
    /// user's language: the reason's own code when it has one, else the kind's (`forbidden`, `conflict`…).
    pub fn reason(&self) -> (&'static str, serde_json::Map<String, serde_json::Value>) {
        let mut params = serde_json::Map::new();
        let code = match self {
            ApiError::NotFound(r)
            | ApiError::Conflict(r)
            | ApiError::Forbidden(r)
            | ApiError::Unavailable { reason: r, .. }
                if !r.code.is_empty() =>
            {
                for (k, v) in &r.params {
                    params.insert((*k).to_string(), json!(v));
                }
                r.code
            }
            _ => self.code(),
        };
        if let Some(s) = self.retry_after() {
            params.insert("retry_after_s".into(), json!(s));
        }
        (code, params)
    }

    /// Seconds after which to try again, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests { retry_after_s, .. } | ApiError::Unavailable { retry_after_s, .. } => {
                Some(*retry_after_s)
            }
            _ => None,
        }
    }
}

impl ApiError {
    /// An application error about a query parameter: a bad request.
    pub fn in_query(e: AppError) -> ApiError {
        match e {
            AppError::Invalid { message, .. } => ApiError::BadRequest(message),
            e => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (code, params) = self.reason();
        let mut body = json!({"error": self.code(), "code": code, "params": params, "message": self.message()});
        if let ApiError::Invalid { problems, .. } = &self {
            body["problems"] = json!(problems);
            body["lines"] = json!(problems.iter().map(|p| p.to_string()).collect::<Vec<_>>());
        }
        let retry = self.retry_after();
        let mut r = (status, Json(body)).into_response();
        if let Some(s) = retry {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::NotFound { what } => ApiError::NotFound(what),
            AppError::Forbidden(m) => ApiError::Forbidden(m),
            AppError::Conflict(m) => ApiError::Conflict(m),
            AppError::Invalid { message, problems } => ApiError::Invalid { message, problems },
            AppError::Unavailable { reason, retry_after_s } => ApiError::Unavailable { reason, retry_after_s },
            AppError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<vigie_journal::JournalError> for ApiError {
    fn from(e: vigie_journal::JournalError) -> ApiError {
        AppError::from(e).into()
    }
}

impl From<vigie_logistics::AskError> for ApiError {
    fn from(e: vigie_logistics::AskError) -> ApiError {
        use vigie_logistics::AskError::*;
        match e {
            // A question's arguments come in the query: an unreadable one is a bad request.
            Place(_) | BadArgument(_) => ApiError::BadRequest(e.to_string()),
            e => AppError::from(e).into(),
        }
    }
}

/// The `error` code of an answer's status, for errors that come from no [`ApiError`].
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid",
        429 => "too_many_requests",
        500..=599 => "internal",
        _ => "error",
    }
}

/// What axum's extractors refuse themselves (a path or query they cannot read, a body that is not the JSON a
/// handler takes, a body over the limit) comes as plain text: it is put in the JSON envelope every other error
/// has, `{error, message}`, or ServiceNow's under `/api/now/`. Status and headers are kept.
pub(crate) async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let servicenow = req.uri().path().starts_with("/api/now/");
    let r = next.run(req).await;
    let plain = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"));
    if !plain || !(r.status().is_client_error() || r.status().is_server_error()) {
        return r;
    }
    let (parts, body) = r.into_parts();
    let text = match axum::body::to_bytes(body, 64 << 10).await {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
        _ => parts.status.canonical_reason().unwrap_or("error").to_string(),
    };
    let mut out = if servicenow {
        crate::servicenow::sn(parts.status, "Invalid request", text).into_response()
    } else {
        (parts.status, Json(json!({"error": code_of(parts.status), "message": text}))).into_response()
    };
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k, v.clone());
        }
    }
    out
}
