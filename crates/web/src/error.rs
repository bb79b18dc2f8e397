//! Errors as the API answers them: `{"error": {"code", "message"}}` with a stable snake_case code the UI can
//! translate, and the HTTP status that fits.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lifebuoy_store::StoreError;
use serde_json::json;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for `429`s.
    pub retry_after_s: Option<i64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after_s: None }
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource, or it is not yours to see")
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in, or send a valid bearer token")
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", msg)
    }
    pub fn invalid(field: &str, msg: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("{field}: {msg}"))
    }
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", msg)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Invalid(i) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", i.to_string()),
            StoreError::Status(s) => ApiError::new(StatusCode::CONFLICT, "illegal_status_change", s.to_string()),
            StoreError::Conflict(c) => ApiError::new(StatusCode::CONFLICT, c.code(), c.to_string()),
            StoreError::Forbidden(m) => ApiError::forbidden(m),
            e => {
                tracing::error!(error = %e, "storage failure");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "storage failed; nothing was changed, try again",
                )
            }
        }
    }
}

impl From<lifebuoy_domain::Invalid> for ApiError {
    fn from(i: lifebuoy_domain::Invalid) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", i.to_string())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection::*;
        let (code, status) = match &r {
            JsonSyntaxError(_) => ("malformed_json", StatusCode::BAD_REQUEST),
            JsonDataError(_) => ("invalid", StatusCode::UNPROCESSABLE_ENTITY),
            MissingJsonContentType(_) => ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            _ => ("bad_request", StatusCode::BAD_REQUEST),
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(json!({"error": {"code": self.code, "message": self.message}}))).into_response();
        if let Some(s) = self.retry_after_s {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, s.max(1).into());
        }
        r
    }
}

/// A use case's error as a sentence for the person who sees it (a customer in the widget, an agent in the
/// console), in their language: the translation of its stable code (`errors.<code>` in `i18n/`), with the
/// field and reason for a refused input. Codes without a translation fall back to the error's own English text.
pub fn human_message(lang: lifebuoy_domain::Lang, e: &lifebuoy_app::AppError) -> String {
    translate(lang, e.code(), &e.to_string())
}

/// The sentence for an error code in a language (`errors.<code>`), with `detail` (the error's own English
/// text: a refused field and its reason) where the sentence has a `{detail}`; `detail` itself for a code
/// without a translation.
pub fn translate(lang: lifebuoy_domain::Lang, code: &str, detail: &str) -> String {
    let key = format!("errors.{code}");
    match crate::i18n::t(lang, &key) {
        t if t == key => detail.to_string(),
        t => t.replace("{detail}", detail),
    }
}

/// A JSON body extractor whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

impl From<lifebuoy_app::AppError> for ApiError {
    fn from(e: lifebuoy_app::AppError) -> Self {
        use lifebuoy_app::AppError as E;
        let status = match &e {
            E::NotFound => StatusCode::NOT_FOUND,
            E::Forbidden(_) => StatusCode::FORBIDDEN,
            E::Invalid { .. } | E::Domain(_) => StatusCode::UNPROCESSABLE_ENTITY,
            E::IllegalStatus(_) | E::Conflict { .. } => StatusCode::CONFLICT,
            E::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            E::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            E::File { code: "file_too_large", .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::File { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        let message = match &e {
            E::NotFound => "no such resource, or it is not yours to see".to_string(),
            E::Unavailable(_) => "storage failed; nothing was changed, try again".to_string(),
            e => e.to_string(),
        };
        let mut out = ApiError::new(status, e.code(), message);
        if let E::RateLimited { retry_after_s, .. } = e {
            out.retry_after_s = Some(retry_after_s.max(1) as i64);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::human_message;
    use lifebuoy_app::AppError;
    use lifebuoy_domain::Lang;
    use lifebuoy_store::{Conflict, StoreError};

    /// Every refusal a person can meet is said in each language, never as the English text of the store.
    #[test]
    fn every_error_code_is_translated() {
        let conflicts = [
            Conflict::AgentExists,
            Conflict::ChatEnded,
            Conflict::NotRateable,
            Conflict::SameAssignee,
            Conflict::SameDepartment,
            Conflict::TopTier,
            Conflict::NothingToChange,
            Conflict::IdempotencyKeyReused,
            Conflict::JobNotRetryable("done".into()),
            Conflict::SlugTaken("x".into()),
            Conflict::StaleVersion { yours: 1, saved: 2 },
            Conflict::LegalHold,
        ];
        let mut errors: Vec<AppError> = conflicts.into_iter().map(|c| StoreError::Conflict(c).into()).collect();
        errors.extend([
            AppError::NotFound,
            AppError::forbidden("no"),
            AppError::invalid("body", "must not be empty"),
            AppError::IllegalStatus(lifebuoy_domain::StatusError::Closed),
            AppError::conflict("chat_taken", "taken"),
            AppError::conflict("own_account", "own"),
            AppError::conflict("not_restorable", "gone"),
            AppError::conflict("request_open", "open"),
            AppError::conflict("request_closed", "closed"),
            AppError::conflict("customer_on_hold", "仲裁进行中"),
            AppError::RateLimited { code: "rate_limited", retry_after_s: 1, message: "slow".into() },
            AppError::RateLimited { code: "locked", retry_after_s: 1, message: "locked".into() },
            AppError::Unauthenticated { code: "invalid_code", message: "wrong".into() },
            AppError::File { code: "file_too_large", message: "big".into() },
            AppError::File { code: "unsupported_file_type", message: "type".into() },
            AppError::File { code: "mislabelled_file", message: "label".into() },
            AppError::Unavailable("disk".into()),
        ]);
        for lang in [Lang::ZhHans, Lang::ZhHant, Lang::En] {
            for e in &errors {
                let m = human_message(lang, e);
                assert!(!m.is_empty() && m != e.to_string(), "{lang:?}: {} is not translated ({m})", e.code());
                if lang != Lang::En {
                    assert!(!m.is_ascii(), "{lang:?}: {} reads as English: {m}", e.code());
                }
            }
        }
        let m = human_message(Lang::ZhHans, &AppError::invalid("body", "must not be empty"));
        assert!(m.starts_with("请检查") && m.contains("body"), "{m}");
        assert_eq!(
            human_message(Lang::ZhHant, &StoreError::Conflict(Conflict::ChatEnded).into()).chars().next(),
            Some('本')
        );
    }
}
