//! The customer's account beside a case over HTTP (issue 14, item 6). The rules are
//! `lifebuoy_app::customer_context`'s; these handlers only turn requests into its calls.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiJson, ApiResult};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use lifebuoy_app::customer_context::{self, AccountContext, ProfilePush, SourceInput};
use lifebuoy_domain::Party;
use lifebuoy_store::{ContextSource, ExchangeUserProfile};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct PartyQuery {
    /// On an order's case: `buyer` (the default) or `seller`.
    pub party: Option<String>,
}

/// `GET /api/v1/conversations/{id}/account`: what the exchange says of the customer behind the case (agents who
/// see the case).
pub async fn for_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PartyQuery>,
) -> ApiResult<ApiJson<AccountContext>> {
    let party = q.party.as_deref().filter(|p| !p.is_empty()).map(Party::parse).transpose()?;
    Ok(ApiJson(customer_context::for_case(&state, &caller.actor(), &id, party).await?))
}

/// `GET /api/v1/customer-context`: the source, if set (never its secret).
pub async fn source(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<Option<ContextSource>>> {
    Ok(ApiJson(customer_context::source(&state, &caller.actor()).await?))
}

/// `PUT /api/v1/customer-context` (admins, the exchange's integration): sets the source.
pub async fn set_source(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(b): ApiJson<SourceInput>,
) -> ApiResult<ApiJson<ContextSource>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(customer_context::set_source(&state, &caller.actor(), b).await?))
}

/// `DELETE /api/v1/customer-context`: stops asking the exchange.
pub async fn remove_source(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> ApiResult<StatusCode> {
    caller.same_origin(&headers)?;
    customer_context::remove_source(&state, &caller.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/exchange-users/{user_id}/profile` (the exchange's integration): a user's tier and flags.
pub async fn push_profile(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    ApiJson(b): ApiJson<ProfilePush>,
) -> ApiResult<ApiJson<ExchangeUserProfile>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(customer_context::push_profile(&state, &caller.actor(), &user_id, b).await?))
}
