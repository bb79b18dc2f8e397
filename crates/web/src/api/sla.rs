//! SLA policies over HTTP (issue 13): `GET /api/v1/sla-policies` (staff) and `PUT /api/v1/sla-policies/{id}`
//! (admins, the exchange's integration). The rules are `lifebuoy_app::sla_policies`'.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiJson, ApiResult};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use lifebuoy_app::sla_policies::{self, PolicyInput, PolicyView};
use serde::Serialize;

#[derive(Serialize)]
pub struct Policies {
    pub items: Vec<PolicyView>,
}

/// `GET /api/v1/sla-policies`.
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<Policies>> {
    Ok(ApiJson(Policies { items: sla_policies::policies(&state, &caller.actor()).await? }))
}

/// `PUT /api/v1/sla-policies/{id}`: creates or replaces the policy.
pub async fn save(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PolicyInput>,
) -> ApiResult<ApiJson<PolicyView>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(sla_policies::save(&state, &caller.actor(), &id, b).await?))
}
