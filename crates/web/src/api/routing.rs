//! Ticket routing over HTTP (issue 13): `GET`/`PUT /api/v1/ticket-routing`. The rules are
//! `lifebuoy_app::ticket_routing`'s.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiJson, ApiResult};
use axum::extract::State;
use axum::http::HeaderMap;
use lifebuoy_app::ticket_routing;
use lifebuoy_store::routing::TicketRouting;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct RoutingBody {
    /// `off`, `least_loaded` or `round_robin`.
    pub mode: TicketRouting,
}

/// `GET /api/v1/ticket-routing` (staff).
pub async fn get_mode(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<RoutingBody>> {
    Ok(ApiJson(RoutingBody { mode: ticket_routing::mode(&state, &caller.actor()).await? }))
}

/// `PUT /api/v1/ticket-routing` (admins, the exchange's integration).
pub async fn set_mode(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(b): ApiJson<RoutingBody>,
) -> ApiResult<ApiJson<RoutingBody>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(RoutingBody { mode: ticket_routing::set_mode(&state, &caller.actor(), b.mode).await? }))
}
