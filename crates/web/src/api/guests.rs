//! Email-verified guests: people without an exchange account get a one-time code by email, and a session
//! once they type it back.
//!
//! Guessing is bounded per address across codes (the store counts wrong codes until a success: five lock the
//! address, each lock in a row twice as long), codes per address are capped and spaced out, codes per client
//! address are capped, and the address's owner is mailed when it locks. With 8-digit codes and at most five
//! guesses per lock period, a day of guessing at one address (about 35 guesses) succeeds with odds of about
//! 1 in 3 million.

use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::security::ClientIp;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use lifebuoy_domain::Email;
use lifebuoy_store::{Customer, GuestCodeIssue, GuestVerify, now_ms};
use serde::Deserialize;
use serde_json::json;

/// How long a code stays valid.
pub const CODE_TTL_MS: i64 = 15 * 60 * 1000;
/// Digits in a code.
pub const CODE_DIGITS: u32 = 8;
/// Codes one client address may ask for per hour, whatever the email addresses.
pub const CODES_PER_CLIENT_HOUR: i64 = 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub email: String,
}

/// Why a guest must wait: `429` with `Retry-After`, code `locked` for an address locked after wrong codes.
pub fn wait_error(code: &'static str, until_ms: i64, message: String) -> ApiError {
    let secs = ((until_ms - now_ms()).max(0) + 999) / 1000;
    let mut e = ApiError::new(axum::http::StatusCode::TOO_MANY_REQUESTS, code, message);
    e.retry_after_s = Some(secs.max(1));
    e
}

fn minutes(until_ms: i64) -> i64 {
    ((until_ms - now_ms()).max(0) + 59_999) / 60_000
}

/// Issues a code for an address and hands it to the mailer. Returns the code only to the caller in demo mode.
pub async fn issue_code(state: &AppState, client: &ClientIp, email: &str) -> ApiResult<(Email, String)> {
    let email = Email::parse(email)?;
    if let Err(t) =
        state.store.throttle_take(&format!("guest-code:{}", client.key()), CODES_PER_CLIENT_HOUR, 3600 * 1000).await?
    {
        return Err(wait_error(
            "rate_limited",
            t.retry_at,
            format!("too many codes asked for from your address; try again in {} minutes", minutes(t.retry_at)),
        ));
    }
    let code = {
        use rand::Rng;
        let n = 10u64.pow(CODE_DIGITS);
        format!("{:0width$}", rand::rng().random_range(0..n), width = CODE_DIGITS as usize)
    };
    match state.store.put_guest_code(email.as_str(), &code, now_ms() + CODE_TTL_MS).await? {
        GuestCodeIssue::Issued => {}
        GuestCodeIssue::TooSoon { retry_at } => {
            let secs = ((retry_at - now_ms()).max(0) + 999) / 1000;
            return Err(wait_error(
                "rate_limited",
                retry_at,
                format!("a code was sent to this address moments ago; you can ask for another in {secs} s"),
            ));
        }
        GuestCodeIssue::Locked { until } => return Err(locked(until)),
    }
    state.mailer.send_guest_code(email.as_str(), &code);
    Ok((email, code))
}

fn locked(until: i64) -> ApiError {
    wait_error(
        "locked",
        until,
        format!("too many wrong codes for this address; try again in {} minutes", minutes(until)),
    )
}

/// Checks a guest's code: the verified guest, or `401 invalid_code`, or `429 locked` (and, when this attempt
/// locked the address, a mail to its owner).
pub async fn verify_code(state: &AppState, email: &str, code: &str) -> ApiResult<Customer> {
    let email = Email::parse(email)?;
    match state.store.verify_guest_code(email.as_str(), code.trim()).await? {
        GuestVerify::Verified(c) => Ok(c),
        GuestVerify::Wrong { left } => Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "invalid_code",
            format!("the code is wrong or expired; ask for a new one ({left} more wrong codes lock this address)"),
        )),
        GuestVerify::Locked { until, just_locked } => {
            if just_locked {
                tracing::warn!(email = email.as_str(), "guest sign-in locked after wrong codes");
                state.mailer.send_guest_locked(email.as_str(), minutes(until));
            }
            Err(locked(until))
        }
    }
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
