//! Live chat over HTTP: a chat session for the widget (`POST /api/v1/chat/session`), the out-of-hours message
//! form (`POST /api/v1/chat/offline`), a chat's transcript for those who may see it, and agent accounts for
//! admins (`POST /api/v1/agents`).

use super::service;
use crate::AppState;
use crate::auth::{Caller, customer_from_claims, hash_password_async};
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lifebuoy_domain::{AgentNo, Category, Email, Lang, Role};
use lifebuoy_store::{NewAgent, Principal};
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
    let (token, _csrf) = state.store.create_session("customer", &customer.id, ttl).await?;
    let lang = lang_of(r.lang.as_deref())?
        .or_else(|| customer.lang.as_deref().and_then(Lang::from_tag))
        .unwrap_or(Lang::ZhHans);
    let online = service::agents_online(&state).await;
    Ok((
        StatusCode::CREATED,
        ApiJson(json!({"token": token, "customer": {"id": customer.id, "name": customer.name, "email": customer.email,
            "kind": customer.kind, "lang": customer.lang}, "lang": lang.as_str(), "agents_online": online})),
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
    let (c, ch) = state.store.chat(&id).await?.ok_or_else(ApiError::not_found)?;
    let scope = caller.scope();
    if !scope.permits(&c) {
        return Err(ApiError::not_found());
    }
    let items = state.store.timeline(&id, scope.sees_internal()).await?;
    let frames: Vec<Value> = items.iter().map(|i| service::item_frame(i).0).collect();
    let view = service::chat_view(&state, &c, &ch).await;
    Ok(ApiJson(json!({"chat": view, "items": frames})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgentRequest {
    pub email: String,
    pub display_name: String,
    pub agent_no: String,
    pub role: Role,
    pub languages: Vec<String>,
    pub departments: Vec<String>,
    pub password: String,
}

/// `POST /api/v1/agents`: admins (and the exchange's backend) add agents.
pub async fn create_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(r): ApiJson<NewAgentRequest>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let allowed = match &caller.principal {
        Principal::Agent(a) => a.role == Role::Admin,
        Principal::Integration { .. } => true,
        Principal::Customer(_) => false,
    };
    if !allowed {
        return Err(ApiError::forbidden("admins only"));
    }
    let email = Email::parse(r.email.trim()).map_err(|e| ApiError::invalid("email", e))?;
    let display_name = crate::api::tickets::text_field("display_name", &r.display_name, 100)?;
    let agent_no = AgentNo::parse(r.agent_no.trim()).map_err(|e| ApiError::invalid("agent_no", e))?;
    if r.password.chars().count() < 8 {
        return Err(ApiError::invalid("password", "at least 8 characters"));
    }
    let languages = r
        .languages
        .iter()
        .map(|l| Lang::from_tag(l).ok_or_else(|| ApiError::invalid("languages", "zh-Hans, zh-Hant or en")))
        .collect::<Result<Vec<_>, _>>()?;
    if languages.is_empty() {
        return Err(ApiError::invalid("languages", "at least one"));
    }
    let known: Vec<String> = state.store.departments().await?.into_iter().map(|d| d.id).collect();
    if r.departments.is_empty() || r.departments.iter().any(|d| !known.contains(d)) {
        return Err(ApiError::invalid("departments", format!("one or more of {}", known.join(", "))));
    }
    let password = r.password.clone();
    let password_hash = hash_password_async(password).await;
    let a = state
        .store
        .create_agent(&NewAgent {
            email: email.as_str().to_string(),
            display_name,
            agent_no,
            role: r.role,
            languages,
            departments: r.departments.clone(),
            password_hash,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(json!({"id": a.id, "email": a.email, "display_name": a.display_name, "agent_no": a.agent_no.as_str(),
            "role": a.role, "departments": a.departments})),
    ))
}
