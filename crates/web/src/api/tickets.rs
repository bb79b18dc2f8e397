//! `/api/v1/tickets`: the ticket API. Each handler checks who may see what, calls the store, answers. The
//! helpers here are shared with the server-rendered pages, so a form and an API call take the same path.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lifebuoy_domain::{Category, ConversationKind, Priority, Status};
use lifebuoy_store::{Conversation, Cursor, Page, Principal, QueueFilter, QueueSort, TimelineItem};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The helpers the pages share with the API: each runs the application core's use case for the caller.
pub use lifebuoy_app::tickets::{
    CreateTicket, NewMessage, OnBehalfOf, StaffAction, TicketView, UpdateTicket as UpdateBody, text_field,
};

/// Files a ticket for a caller (see [`lifebuoy_app::tickets::create`]). Returns the ticket and whether it is new.
pub async fn create_for(
    state: &AppState,
    caller: &Caller,
    input: CreateTicket,
    idem: Option<(&str, &str)>,
) -> ApiResult<(Conversation, bool)> {
    Ok(lifebuoy_app::tickets::create(state, &caller.actor(), input, idem).await?)
}

/// Loads a ticket the caller may see, by id or case number; anything else is 404.
pub async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Conversation> {
    Ok(lifebuoy_app::tickets::visible(state, &caller.actor(), id).await?)
}

pub async fn view(state: &AppState, c: Conversation) -> ApiResult<TicketView> {
    Ok(lifebuoy_app::tickets::view(state, c).await?)
}

fn idem_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let k = v.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be ASCII"))?.trim();
            if k.is_empty() || k.len() > 255 {
                return Err(ApiError::bad_request("Idempotency-Key must be 1 to 255 characters"));
            }
            Ok(Some(k.to_string()))
        }
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> ApiResult<T> {
    let ct = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {e}"))
        } else {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
        }
    })
}

fn body_hash(body: &Bytes) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(body))
}

/// `POST /api/v1/tickets`
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateTicket = parse_json(&headers, &body)?;
    let key = idem_key(&headers)?;
    let hash = body_hash(&body);
    let tags = lifebuoy_store::clean_tags(&input.tags)?;
    let (c, fresh) = create_for(&state, &caller, input, key.as_deref().map(|k| (k, hash.as_str()))).await?;
    // A fresh ticket's tags are the ones just written; a replay reads them back.
    let view = if fresh {
        let sla = lifebuoy_app::sla::view(&state, &c, Some(&[])).await?;
        TicketView { conversation: c, tags, sla }
    } else {
        view(&state, c).await?
    };
    let mut res = (StatusCode::CREATED, ApiJson(view)).into_response();
    if !fresh {
        res.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// Query parameters of `GET /api/v1/tickets`.
#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    pub status: Option<String>,
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

impl ListQuery {
    /// Turns query parameters into a filter; `me` means the calling agent.
    pub fn filter(&self, caller: &Caller) -> ApiResult<(QueueFilter, QueueSort, Option<Cursor>)> {
        let none_if_empty =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut f = QueueFilter::default();
        if let Some(s) = none_if_empty(&self.status) {
            f.statuses = match s.as_str() {
                "active" => Status::ACTIVE.to_vec(),
                "all" => vec![],
                _ => s.split(',').map(|x| Status::parse(x.trim())).collect::<Result<_, _>>()?,
            };
        }
        f.department = none_if_empty(&self.department);
        f.assignee = match none_if_empty(&self.assignee).as_deref() {
            None => None,
            Some("none") => Some(None),
            Some("me") => Some(Some(
                caller
                    .agent()
                    .map(|a| a.id.clone())
                    .ok_or_else(|| ApiError::invalid("assignee", "`me` is for agents"))?,
            )),
            Some(id) => Some(Some(id.to_string())),
        };
        f.priority = none_if_empty(&self.priority).map(|p| Priority::parse(&p)).transpose()?;
        f.category = none_if_empty(&self.category).map(|p| Category::parse(&p)).transpose()?;
        f.text = none_if_empty(&self.q);
        f.kind = Some(ConversationKind::Ticket);
        let sort = none_if_empty(&self.sort).map(|s| QueueSort::parse(&s)).transpose()?.unwrap_or_default();
        let cursor = none_if_empty(&self.cursor).map(|c| Cursor::decode(&c)).transpose()?;
        Ok((f, sort, cursor))
    }
}

/// A page of tickets; with a text search, where the search index stands (`ready`, `catching_up` with about how
/// many changes are not in the results yet, or `building`, when only subjects are matched).
#[derive(Debug, Serialize)]
pub struct TicketList {
    #[serde(flatten)]
    pub page: Page<Conversation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<lifebuoy_app::ticket_search::IndexState>,
}

/// `GET /api/v1/tickets`: a customer's own tickets, or the agent queue.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<ApiJson<TicketList>> {
    let (f, sort, cursor) = q.filter(&caller)?;
    let page = state.list_conversations(&caller.scope(), &f, sort, cursor.as_ref(), q.limit.unwrap_or(50)).await?;
    let search = f.text.as_deref().filter(|t| !t.trim().is_empty()).map(|_| state.tickets.state());
    Ok(ApiJson(TicketList { page, search }))
}

/// A ticket with its timeline.
#[derive(Debug, Serialize)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketView,
    pub timeline: Vec<TimelineItem>,
}

/// `GET /api/v1/tickets/{id}` (id or case number)
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<TicketDetail>> {
    let c = visible(&state, &caller, &id).await?;
    let timeline = state.store.timeline(&c.id, caller.scope().sees_internal()).await?;
    let ticket = lifebuoy_app::tickets::view_with(&state, c, Some(&timeline)).await?;
    Ok(ApiJson(TicketDetail { ticket, timeline }))
}

/// Posts a message for a caller, then the optional status change. Shared with the pages.
pub async fn reply_for(
    state: &AppState,
    caller: &Caller,
    c: &Conversation,
    m: NewMessage,
    idem: Option<(&str, &str)>,
) -> ApiResult<lifebuoy_store::ReplyOutcome> {
    Ok(lifebuoy_app::tickets::reply(state, &caller.actor(), c, m, idem).await?)
}

/// `POST /api/v1/tickets/{id}/messages`
pub async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let m: NewMessage = parse_json(&headers, &body)?;
    let c = visible(&state, &caller, &id).await?;
    let key = idem_key(&headers)?;
    let hash = body_hash(&body);
    let out = reply_for(&state, &caller, &c, m, key.as_deref().map(|k| (k, hash.as_str()))).await?;
    Ok((StatusCode::CREATED, ApiJson(out)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    pub status: Status,
}

/// Changes status for a caller: customers may only mark their case solved.
pub async fn set_status_for(
    state: &AppState,
    caller: &Caller,
    c: &Conversation,
    to: Status,
) -> ApiResult<Conversation> {
    Ok(lifebuoy_app::tickets::set_status(state, &caller.actor(), c, to).await?)
}

/// `POST /api/v1/tickets/{id}/status`
pub async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StatusBody>,
) -> ApiResult<ApiJson<TicketView>> {
    let c = visible(&state, &caller, &id).await?;
    let c = set_status_for(&state, &caller, &c, b.status).await?;
    Ok(ApiJson(view(&state, c).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// An agent id, `"me"`, or null to unassign.
    pub assignee_id: Option<String>,
}

/// Runs a staff action on a visible ticket.
pub async fn staff_action(
    state: &AppState,
    caller: &Caller,
    c: &Conversation,
    action: StaffAction,
) -> ApiResult<Conversation> {
    Ok(lifebuoy_app::tickets::staff_action(state, &caller.actor(), c, action).await?)
}

async fn act(state: AppState, caller: Caller, id: String, action: StaffAction) -> ApiResult<ApiJson<TicketView>> {
    caller.require_staff()?;
    let c = visible(&state, &caller, &id).await?;
    let c = staff_action(&state, &caller, &c, action).await?;
    Ok(ApiJson(view(&state, c).await?))
}

/// `POST /api/v1/tickets/{id}/assign`
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AssignBody>,
) -> ApiResult<ApiJson<TicketView>> {
    act(state, caller, id, StaffAction::Assign(b.assignee_id)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    pub department: String,
    pub reason: String,
}

/// `POST /api/v1/tickets/{id}/transfer`
pub async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TransferBody>,
) -> ApiResult<ApiJson<TicketView>> {
    act(state, caller, id, StaffAction::Transfer { department: b.department, reason: b.reason }).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

/// `POST /api/v1/tickets/{id}/escalate`
pub async fn escalate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReasonBody>,
) -> ApiResult<ApiJson<TicketView>> {
    act(state, caller, id, StaffAction::Escalate { reason: b.reason }).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The id or case number of the case to merge into.
    pub into: String,
}

/// `POST /api/v1/tickets/{id}/merge`
pub async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MergeBody>,
) -> ApiResult<ApiJson<TicketView>> {
    act(state, caller, id, StaffAction::Merge { into: b.into }).await
}

/// `PATCH /api/v1/tickets/{id}`
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<UpdateBody>,
) -> ApiResult<ApiJson<TicketView>> {
    act(state, caller, id, StaffAction::Update(b)).await
}

/// `GET /api/v1/me`
pub async fn me(caller: Caller) -> ApiJson<serde_json::Value> {
    ApiJson(match &caller.principal {
        Principal::Agent(a) => json!({"kind": "agent", "agent": a}),
        Principal::Customer(c) => json!({"kind": "customer", "customer": c}),
        Principal::Integration { name, .. } => json!({"kind": "integration", "name": name}),
    })
}

/// `GET /api/v1/departments`
pub async fn departments(State(state): State<AppState>, _caller: Caller) -> ApiResult<ApiJson<serde_json::Value>> {
    Ok(ApiJson(json!({"items": state.store.departments().await?})))
}

/// `GET /api/v1/agents` (staff)
pub async fn agents(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<serde_json::Value>> {
    caller.require_staff()?;
    Ok(ApiJson(json!({"items": state.store.agents().await?})))
}
