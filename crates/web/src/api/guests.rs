//! Email-verified guests: people without an exchange account get a one-time code by email, and a session
//! once they type it back. The rules (caps, back-off, locks, the lockout mail) are the application core's:
//! [`lifebuoy_app::App::issue_guest_code`] and [`lifebuoy_app::App::verify_guest_code`].

use crate::AppState;
use crate::error::{ApiJson, ApiResult};
use crate::security::ClientIp;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use lifebuoy_domain::Email;
use lifebuoy_store::Customer;
use serde::Deserialize;
use serde_json::json;

pub use lifebuoy_app::accounts::{CODE_DIGITS, CODE_TTL_MS, CODES_PER_CLIENT_HOUR};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub email: String,
}

/// Issues a code for an address and hands it to the mailer. Returns the code only to the caller in demo mode.
pub async fn issue_code(state: &AppState, client: &ClientIp, email: &str) -> ApiResult<(Email, String)> {
    Ok(state.app.issue_guest_code(&client.key(), email).await?)
}

/// Checks a guest's code: the verified guest, or `401 invalid_code`, or `429 locked`.
pub async fn verify_code(state: &AppState, email: &str, code: &str) -> ApiResult<Customer> {
    Ok(state.app.verify_guest_code(email, code).await?)
}

/// `POST /api/v1/guest/code`
pub async fn request_code(
    State(state): State<AppState>,
    client: ClientIp,
    ApiJson(b): ApiJson<CodeRequest>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    let (email, code) = issue_code(&state, &client, &b.email).await?;
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
    let customer = verify_code(&state, &b.email, &b.code).await?;
    let cookie = crate::pages::start_session(&state, "customer", &customer.id).await?;
    Ok(([(axum::http::header::SET_COOKIE, cookie)], ApiJson(json!({"customer": customer}))).into_response())
}
