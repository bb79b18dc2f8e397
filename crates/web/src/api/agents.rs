//! Agent accounts for admins: unlocking an agent locked out by failed sign-ins.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::extract::{Path, State};
use lifebuoy_domain::Role;
use lifebuoy_store::Principal;
use serde_json::{Value, json};

/// `POST /api/v1/agents/{id}/unlock`: admins (and the exchange's backend) lift a sign-in lock at once, instead
/// of the agent waiting it out. The failure count starts again from zero.
pub async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    let allowed = match &caller.principal {
        Principal::Agent(a) => a.role == Role::Admin,
        Principal::Integration { .. } => true,
        Principal::Customer(_) => false,
    };
    if !allowed {
        return Err(ApiError::forbidden("admins only"));
    }
    if !state.store.unlock_agent(&id).await? {
        return Err(ApiError::not_found());
    }
    tracing::info!(agent = %id, by = %caller.principal.key(), "agent sign-in unlocked");
    Ok(ApiJson(json!({"id": id, "unlocked": true})))
}
