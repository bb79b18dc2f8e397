//! Live chat over HTTP: a chat session for the widget (`POST /api/v1/chat/session`), the out-of-hours message
//! form (`POST /api/v1/chat/offline`), a chat's transcript for those who may see it, and agent accounts for
//! admins (`POST /api/v1/agents`).

use super::service;
use crate::AppState;
use crate::auth::{Caller, customer_from_claims};
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lifebuoy_domain::{Category, Email, Lang};
use serde::Deserialize;
use serde_json::{Value, json};

/// How long a widget's chat session lasts.
pub(crate) const CHAT_SESSION_MS: i64 = 30 * 24 * 3600 * 1000;
/// How long a visitor's (pre-chat form) session lasts until they write their first message; then it lasts
/// [`CHAT_SESSION_MS`]. A visitor who never writes leaves no long-lived session behind.
pub const VISITOR_FIRST_SESSION_MS: i64 = 2 * 3600 * 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub identity_token: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub lang: Option<String>,
    pub topic: Option<String>,
    /// With `identity_token`: the token of the visitor session this browser had before the customer signed
    /// in. Its chats join the customer's account (holding the token proves they are theirs).
    pub visitor_token: Option<String>,
}

/// `POST /api/v1/chat/session`: a signed-in customer of the exchange (identity token) or a visitor (pre-chat
/// form) gets a token for the chat WebSocket and uploads.
pub async fn session(
    State(state): State<AppState>,
    ApiJson(r): ApiJson<SessionRequest>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let lang_of = |l: Option<&str>| -> Result<Option<Lang>, ApiError> {
        l.filter(|l| !l.is_empty())
            .map(|l| Lang::from_tag(l).ok_or_else(|| ApiError::invalid("lang", "zh-Hans, zh-Hant or en")))
            .transpose()
    };
    if let Some(t) = r.topic.as_deref().filter(|t| !t.is_empty()) {
        Category::parse(t).map_err(|_| {
            ApiError::invalid("topic", "deposit, withdrawal, account, security, kyc, trading, c2c, api or other")
        })?;
    }
    let mut ttl = CHAT_SESSION_MS;
    let customer = match r.identity_token.as_deref() {
        Some(token) => {
            let claims = state.identity.verify(token)?;
            customer_from_claims(&state, &claims).await?
        }
        None => {
            let email = r
                .email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .ok_or_else(|| ApiError::invalid("email", "is required"))?;
            let email = Email::parse(email).map_err(|e| ApiError::invalid("email", e))?;
            let name = r.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
            if name.is_some_and(|n| n.chars().count() > 100) {
                return Err(ApiError::invalid("name", "at most 100 characters"));
            }
            let lang = lang_of(r.lang.as_deref())?.unwrap_or(Lang::ZhHans);
            ttl = VISITOR_FIRST_SESSION_MS;
            state.store.create_visitor(Some(email.as_str()), name, lang).await?
        }
    };
    let mut joined = 0;
    if let (Some(_), Some(vt)) = (&r.identity_token, r.visitor_token.as_deref().filter(|t| !t.is_empty())) {
        joined = state.app.join_visitor(&lifebuoy_app::Actor::Customer(customer.clone()), vt).await?.len();
    } else if r.visitor_token.is_some() {
        return Err(ApiError::invalid("visitor_token", "goes with an identity_token"));
    }
    let (token, _csrf) = state.store.create_session("customer", &customer.id, ttl).await?;
    let lang = lang_of(r.lang.as_deref())?
        .or_else(|| customer.lang.as_deref().and_then(Lang::from_tag))
        .unwrap_or(Lang::ZhHans);
    let online = service::agents_online(&state).await;
    Ok((
        StatusCode::CREATED,
        ApiJson(json!({"token": token, "customer": {"id": customer.id, "name": customer.name, "email": customer.email,
            "kind": customer.kind, "lang": customer.lang}, "lang": lang.as_str(), "agents_online": online,
            "joined": joined})),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineRequest {
    pub body: String,
    pub topic: Option<String>,
    pub email: Option<String>,
}

/// `POST /api/v1/chat/offline`: when nobody is online, the widget's message form becomes a ticket.
pub async fn offline(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(r): ApiJson<OfflineRequest>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let t = service::offline_message(&state, &caller.actor(), &r.body, r.email.as_deref(), r.topic.as_deref()).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"ticket_id": t.id, "case_number": t.case_number}))))
}

/// `GET /api/v1/chats/{id}/messages`: a chat's whole transcript (customers: theirs, without internal notes).
pub async fn transcript(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    let (view, frames) = service::transcript(&state, &caller.actor(), &id).await?;
    Ok(ApiJson(json!({"chat": view, "items": frames})))
}

/// `POST /api/v1/agents`: an admin (or the exchange's backend) creates an agent account.
pub async fn create_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(r): ApiJson<lifebuoy_app::accounts::NewAgentInput>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let a = state.app.create_agent(&caller.actor(), &r).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(json!({"id": a.id, "email": a.email, "display_name": a.display_name, "agent_no": a.agent_no.as_str(),
            "role": a.role, "departments": a.departments})),
    ))
}
