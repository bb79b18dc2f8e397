//! Retention and privacy over the API, for the exchange's backend and supervisors: legal holds, soft deletion and
//! restoration of a conversation, each channel's retention, and the customers' data requests (customers file and
//! read their own; supervisors and the exchange list open ones and complete or refuse them). The rules are
//! `lifebuoy_app::records` and `lifebuoy_app::privacy`.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiJson, ApiResult};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lifebuoy_app::privacy::{self, NewRequest, PolicyView, RequestView};
use lifebuoy_app::records;
use lifebuoy_store::{LegalHold, PurgeLogRow};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct HoldBody {
    /// Our id of the customer: a hold on all their conversations.
    customer_id: Option<String>,
    /// Or one conversation.
    conversation_id: Option<String>,
    reason: String,
}

/// `POST /api/v1/records/holds`: places a legal hold on a customer or a conversation.
pub async fn place_hold(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<HoldBody>,
) -> ApiResult<Response> {
    let h =
        records::place_hold(&state, &caller.actor(), b.customer_id.as_deref(), b.conversation_id.as_deref(), &b.reason)
            .await?;
    Ok((StatusCode::CREATED, ApiJson(h)).into_response())
}

/// `DELETE /api/v1/records/holds/{id}`: releases a hold (again: no change).
pub async fn release_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<LegalHold>> {
    Ok(ApiJson(records::release_hold(&state, &caller.actor(), &id).await?))
}

/// `DELETE /api/v1/records/conversations/{id}`: deletes a conversation (soft: restorable for 30 days).
pub async fn delete_conversation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    records::delete_conversation(&state, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/records/conversations/{id}/restore`: restores a deleted conversation within its window.
pub async fn restore_conversation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    records::restore_conversation(&state, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub struct Retention {
    pub policies: Vec<PolicyView>,
    /// The purge's latest runs per rule, newest first.
    pub purge_log: Vec<PurgeLogRow>,
}

/// `GET /api/v1/records/retention`: each channel's policy and the purge's log.
pub async fn retention(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<Retention>> {
    let (policies, purge_log) = privacy::retention_overview(&state, &caller.actor()).await?;
    Ok(ApiJson(Retention { policies, purge_log }))
}

#[derive(Deserialize)]
pub struct PolicyBody {
    /// Days after a solved or closed conversation's last activity; `null`: keep forever.
    keep_days: Option<i64>,
}

/// `PUT /api/v1/records/retention/{channel}`: sets a channel's retention (admins).
pub async fn set_retention(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel): Path<String>,
    ApiJson(b): ApiJson<PolicyBody>,
) -> ApiResult<ApiJson<PolicyView>> {
    Ok(ApiJson(privacy::set_retention(&state, &caller.actor(), &channel, b.keep_days).await?))
}

#[derive(Serialize)]
pub struct Requests {
    pub items: Vec<RequestView>,
}

/// `GET /api/v1/records/requests`: a customer's own requests; for supervisors and the exchange, every open one.
pub async fn requests(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<Requests>> {
    let actor = caller.actor();
    let items = if actor.customer().is_some() {
        privacy::my_requests(&state, &actor).await?
    } else {
        privacy::open_requests(&state, &actor).await?
    };
    Ok(ApiJson(Requests { items }))
}

/// `POST /api/v1/records/requests`: a customer asks for their data, a correction, or erasure.
pub async fn file_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewRequest>,
) -> ApiResult<Response> {
    let r = privacy::file_request(&state, &caller.actor(), &b).await?;
    Ok((StatusCode::CREATED, ApiJson(r)).into_response())
}

/// `GET /api/v1/records/requests/{id}`: one request (the customer's own, or any for supervisors).
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<RequestView>> {
    Ok(ApiJson(privacy::request(&state, &caller.actor(), &id).await?))
}

/// `POST /api/v1/records/requests/{id}/complete`: carries the request out.
pub async fn complete_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<RequestView>> {
    Ok(ApiJson(privacy::complete_request(&state, &caller.actor(), &id).await?))
}

#[derive(Deserialize)]
pub struct RefuseBody {
    reason: String,
}

/// `POST /api/v1/records/requests/{id}/refuse`: refuses it, with a reason the customer reads.
pub async fn refuse_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RefuseBody>,
) -> ApiResult<ApiJson<RequestView>> {
    Ok(ApiJson(privacy::refuse_request(&state, &caller.actor(), &id, &b.reason).await?))
}
