//! Agent accounts: admins unlock an agent locked out by failed sign-ins, deactivate and reactivate agents;
//! agents change their own password. The rules live in [`lifebuoy_app::accounts`].

use crate::AppState;
use crate::auth::{Caller, SESSION_COOKIE};
use crate::error::{ApiJson, ApiResult};
use axum::extract::{Path, State};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use serde_json::{Value, json};

/// `POST /api/v1/agents/{id}/unlock`: admins (and the exchange's backend) lift a sign-in lock at once, instead
/// of the agent waiting it out. The failure count starts again from zero.
pub async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    state.app.unlock_agent(&caller.actor(), &id).await?;
    Ok(ApiJson(json!({"id": id, "unlocked": true})))
}

/// `POST /api/v1/agents/{id}/deactivate`: the agent can no longer sign in; their sessions end and their open
/// consoles close.
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    state.app.set_agent_active(&caller.actor(), &id, false).await?;
    Ok(ApiJson(json!({"id": id, "active": false})))
}

/// `POST /api/v1/agents/{id}/activate`: a deactivated agent may sign in again.
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    state.app.set_agent_active(&caller.actor(), &id, true).await?;
    Ok(ApiJson(json!({"id": id, "active": true})))
}

#[derive(Deserialize)]
pub struct NewPassword {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/me/password`: an agent changes their password. Every other session of theirs ends; this one
/// stays signed in.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    jar: CookieJar,
    ApiJson(body): ApiJson<NewPassword>,
) -> ApiResult<ApiJson<Value>> {
    let session = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    state.app.change_password(&caller.actor(), session.as_deref(), &body.current_password, &body.new_password).await?;
    Ok(ApiJson(json!({"changed": true})))
}
