//! What a use case can fail with. Every variant has a stable snake_case [`AppError::code`] the UI translates;
//! the web crate maps each to an HTTP status (one `From`), the WebSocket handlers to a frame code.

use lifebuoy_store::StoreError;

/// A use case's error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such thing, or not the actor's to see (never "forbidden", so ids cannot be probed).
    #[error("no such resource, or it is not yours to see")]
    NotFound,
    /// The actor is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A field of the input is wrong.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A value failed its domain rule (a status, a category, an email...).
    #[error("{0}")]
    Domain(#[from] lifebuoy_domain::Invalid),
    /// A status change the case's state machine does not allow.
    #[error("{0}")]
    IllegalStatus(#[from] lifebuoy_domain::StatusError),
    /// The change lost a race or contradicts the current state (someone else took the chat...).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Too many attempts (`rate_limited`), or locked after wrong guesses (`locked`): try again after
    /// `retry_after_s` seconds.
    #[error("{message}")]
    RateLimited { code: &'static str, retry_after_s: u64, message: String },
    /// A file refused: `file_too_large`, `unsupported_file_type`, `mislabelled_file`.
    #[error("{message}")]
    File { code: &'static str, message: String },
    /// The credentials offered (a sign-in code, a password) are wrong.
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    /// Storage or a dependency failed; nothing was changed.
    #[error("storage failed; nothing was changed, try again")]
    Unavailable(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        AppError::Invalid { field: field.to_string(), message: message.to_string() }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden(message.into())
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into() }
    }

    /// The stable code of the error, as the API and the chat protocol send it.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Forbidden(_) => "forbidden",
            AppError::Invalid { .. } | AppError::Domain(_) => "invalid",
            AppError::IllegalStatus(_) => "illegal_status_change",
            AppError::Conflict { code, .. } => code,
            AppError::RateLimited { code, .. }
            | AppError::Unauthenticated { code, .. }
            | AppError::File { code, .. } => code,
            AppError::Unavailable(_) => "storage_unavailable",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Invalid(i) => AppError::Domain(i),
            StoreError::Status(s) => AppError::IllegalStatus(s),
            StoreError::Conflict(c) => AppError::Conflict { code: c.code(), message: c.to_string() },
            StoreError::Forbidden(m) => AppError::Forbidden(m),
            e => {
                tracing::error!(error = %e, "storage failure");
                AppError::Unavailable(e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(AppError::NotFound.code(), "not_found");
        assert_eq!(AppError::invalid("body", "x").code(), "invalid");
        assert_eq!(AppError::conflict("chat_taken", "x").code(), "chat_taken");
        assert_eq!(AppError::from(StoreError::from(lifebuoy_store::Conflict::ChatEnded)).code(), "chat_ended");
        let broken = StoreError::Inconsistent("x".into());
        assert_eq!(AppError::from(broken).code(), "storage_unavailable", "a broken invariant is no conflict");
        assert_eq!(AppError::from(StoreError::Io(std::io::Error::other("disk"))).code(), "storage_unavailable");
        let stopped = StoreError::Unavailable("the store is shutting down".into());
        assert_eq!(AppError::from(stopped).code(), "storage_unavailable", "a writer that stopped is not a conflict");
    }
}
