//! Email-verified guests: people without an exchange account get a one-time code by email, and a session
//! once they type it back.

use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use lifebuoy_domain::Email;
use serde::Deserialize;
use serde_json::json;

/// How long a code stays valid.
pub const CODE_TTL_MS: i64 = 15 * 60 * 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub email: String,
}

/// Issues a code for an address and hands it to the mailer. Returns the code only to the caller in demo mode.
pub async fn issue_code(state: &AppState, email: &str) -> ApiResult<(Email, String)> {
    let email = Email::parse(email)?;
    let code = {
        use rand::Rng;
        format!("{:06}", rand::rng().random_range(0..1_000_000))
    };
    state.store.put_guest_code(email.as_str(), &code, lifebuoy_store::now_ms() + CODE_TTL_MS).await?;
    state.mailer.send_guest_code(email.as_str(), &code);
    Ok((email, code))
}

/// `POST /api/v1/guest/code`
pub async fn request_code(
    State(state): State<AppState>,
    ApiJson(b): ApiJson<CodeRequest>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    let (email, code) = issue_code(&state, &b.email).await?;
    let mut out = json!({"sent_to": email.as_str(), "expires_in_s": CODE_TTL_MS / 1000});
    if state.config.demo {
        out["demo_code"] = json!(code);
    }
    Ok(ApiJson(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub email: String,
    pub code: String,
}

/// `POST /api/v1/guest/verify`: on success sets the session cookie and returns the customer.
pub async fn verify(State(state): State<AppState>, ApiJson(b): ApiJson<VerifyRequest>) -> ApiResult<Response> {
    let email = Email::parse(&b.email)?;
    let customer = state.store.verify_guest_code(email.as_str(), b.code.trim()).await?.ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "invalid_code",
            "the code is wrong or expired; ask for a new one",
        )
    })?;
    let cookie = crate::pages::start_session(&state, "customer", &customer.id).await?;
    Ok(([(axum::http::header::SET_COOKIE, cookie)], ApiJson(json!({"customer": customer}))).into_response())
}
