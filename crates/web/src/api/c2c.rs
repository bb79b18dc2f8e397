//! C2C orders, appeals and webhooks over HTTP (issue 14). The rules are `lifebuoy_app::c2c` and
//! `lifebuoy_app::webhooks`; these handlers only turn requests into their calls.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiJson, ApiResult};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use lifebuoy_app::c2c::{
    self, DecideInput, EvidenceRequest, OpenAppeal, OrderEventInput, OrderMessage, OrderView, RegisterOrder,
};
use lifebuoy_app::webhooks::{self, NewEndpoint};
use lifebuoy_store::{Appeal, Order, QueuedAppeal, WebhookDelivery, WebhookEndpoint};
use serde::Deserialize;
use serde_json::{Value, json};

/// `POST /api/v1/c2c/orders` (the exchange's integration): registers an order. `201` when new, `200` for a
/// repeat of the same order.
pub async fn register_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<RegisterOrder>,
) -> ApiResult<(StatusCode, ApiJson<Order>)> {
    let (o, new) = c2c::register_order(&state, &caller.actor(), b).await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, ApiJson(o)))
}

/// `POST /api/v1/c2c/orders/{id}/events` (the exchange's integration): `paid`, `released`, `cancelled`,
/// `expired`, `executed`; idempotent, in any order.
pub async fn order_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OrderEventInput>,
) -> ApiResult<ApiJson<c2c::OrderEventResult>> {
    Ok(ApiJson(c2c::order_event(&state, &caller.actor(), &id, b).await?))
}

/// `GET /api/v1/c2c/orders/{id}`: the order, its appeal and its conversation, for its two parties and the staff
/// who see it; `404` for anyone else.
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<OrderView>> {
    Ok(ApiJson(c2c::view_order(&state, &caller.actor(), &id).await?))
}

/// `POST /api/v1/c2c/orders/{id}/messages`: a message in the order chat (a party, or an agent; `internal` for
/// agents' notes).
pub async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OrderMessage>,
) -> ApiResult<(StatusCode, ApiJson<lifebuoy_store::Message>)> {
    caller.same_origin(&headers)?;
    Ok((StatusCode::CREATED, ApiJson(c2c::post_message(&state, &caller.actor(), &id, b).await?)))
}

/// `POST /api/v1/c2c/orders/{id}/appeal` (the buyer or the seller): `201 {"appeal_id", "status", "appeal"}`.
pub async fn open_appeal(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OpenAppeal>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    caller.same_origin(&headers)?;
    let a = c2c::open_appeal(&state, &caller.actor(), &id, b).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"appeal_id": a.id, "status": a.status, "appeal": a}))))
}

#[derive(Deserialize)]
pub struct QueueQuery {
    pub limit: Option<i64>,
}

/// `GET /api/v1/appeals`: the arbiters' queue, least time left first.
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> ApiResult<ApiJson<Vec<QueuedAppeal>>> {
    Ok(ApiJson(c2c::queue(&state, &caller.actor(), q.limit.unwrap_or(100)).await?))
}

/// `GET /api/v1/appeals/{id}`: an appeal with its order and timeline (staff).
pub async fn get_appeal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    caller.require_staff()?;
    let (a, order) = c2c::view_appeal(&state, &caller.actor(), &id).await?;
    Ok(ApiJson(json!({"appeal": a, "order": order})))
}

/// `POST /api/v1/appeals/{id}/take`: an arbiter takes it into review.
pub async fn take(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Appeal>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(c2c::take(&state, &caller.actor(), &id).await?))
}

/// `POST /api/v1/appeals/{id}/evidence`: asks a party for evidence by a deadline.
pub async fn request_evidence(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<EvidenceRequest>,
) -> ApiResult<ApiJson<Appeal>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(c2c::request_evidence(&state, &caller.actor(), &id, b).await?))
}

/// `POST /api/v1/appeals/{id}/decide`: the decision and its rationale (above the four-eyes amount: proposed).
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DecideInput>,
) -> ApiResult<ApiJson<Appeal>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(c2c::decide(&state, &caller.actor(), &id, b).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    pub approve: bool,
}

/// `POST /api/v1/appeals/{id}/approve`: the second arbiter approves (`{"approve": true}`) or sends it back.
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ApproveBody>,
) -> ApiResult<ApiJson<Appeal>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(c2c::approve(&state, &caller.actor(), &id, b.approve).await?))
}

/// `POST /api/v1/appeals/{id}/withdraw`: the party who opened it withdraws it.
pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Appeal>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(c2c::withdraw(&state, &caller.actor(), &id).await?))
}

/// `POST /api/v1/appeals/{id}/close`: an arbiter closes an executed appeal.
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Appeal>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(c2c::close(&state, &caller.actor(), &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    pub granted: bool,
}

/// `PUT /api/v1/agents/{id}/arbiter`: grants or takes back the arbiter permission (admins).
pub async fn set_arbiter(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<GrantBody>,
) -> ApiResult<StatusCode> {
    caller.same_origin(&headers)?;
    c2c::set_arbiter(&state, &caller.actor(), &id, b.granted).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/c2c/four-eyes`: the amounts above which a decision needs a second arbiter, per currency.
pub async fn four_eyes(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<Value>> {
    let all = c2c::four_eyes(&state, &caller.actor()).await?;
    let map: serde_json::Map<String, Value> = all.into_iter().map(|(c, a)| (c, Value::String(a))).collect();
    Ok(ApiJson(Value::Object(map)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FourEyesBody {
    /// The amount; `null` removes the rule for the currency.
    pub above: Option<String>,
}

/// `PUT /api/v1/c2c/four-eyes/{currency}`: sets (or, with `null`, removes) a currency's amount (admins).
pub async fn set_four_eyes(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(currency): Path<String>,
    ApiJson(b): ApiJson<FourEyesBody>,
) -> ApiResult<StatusCode> {
    caller.same_origin(&headers)?;
    c2c::set_four_eyes(&state, &caller.actor(), &currency, b.above.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/webhooks` (the exchange's integration, admins): registers an endpoint; every delivery is signed
/// with its secret (`Lifebuoy-Signature: t=…,v1=…`).
pub async fn register_webhook(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewEndpoint>,
) -> ApiResult<(StatusCode, ApiJson<WebhookEndpoint>)> {
    caller.same_origin(&headers)?;
    Ok((StatusCode::CREATED, ApiJson(webhooks::register(&state, &caller.actor(), b).await?)))
}

/// `GET /api/v1/webhooks`: the endpoints (their secrets are never shown).
pub async fn webhooks(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<Vec<WebhookEndpoint>>> {
    Ok(ApiJson(webhooks::endpoints(&state, &caller.actor()).await?))
}

/// `DELETE /api/v1/webhooks/{id}`: stops sending to an endpoint (its log stays).
pub async fn remove_webhook(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.same_origin(&headers)?;
    webhooks::remove(&state, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/webhooks/deliveries`: the delivery log, newest first.
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> ApiResult<ApiJson<Vec<WebhookDelivery>>> {
    Ok(ApiJson(webhooks::deliveries(&state, &caller.actor(), q.limit.unwrap_or(100)).await?))
}

/// `POST /api/v1/webhooks/deliveries/{id}/replay`: sends a delivery again.
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<WebhookDelivery>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(webhooks::replay(&state, &caller.actor(), &id).await?))
}
