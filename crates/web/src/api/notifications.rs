//! The customer's notifications (站内信) over the API, so that the exchange's app shows the same inbox as the
//! portal and the widget: a customer (identity token or session) reads their own; the exchange's backend
//! (integration token) names the customer by its own user id (`?customer=`). The rules are
//! `lifebuoy_app::notify`.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiJson, ApiResult};
use axum::extract::{Query, State};
use lifebuoy_app::notify::{self, Kind};
use lifebuoy_store::Notification;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// The exchange's user id (integration tokens only).
    customer: Option<String>,
    /// Only notifications older than this (`created_at` of the last one seen), for the next page.
    before: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
pub struct NotificationView {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub conversation_id: Option<String>,
    pub link: Option<String>,
    pub read: bool,
    pub created_at: i64,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            read: n.read_at.is_some(),
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            conversation_id: n.conversation_id,
            link: n.link,
            created_at: n.created_at,
        }
    }
}

#[derive(Serialize)]
pub struct Inbox {
    pub items: Vec<NotificationView>,
    pub unread: i64,
    /// Pass as `before` for the next page (absent on the last page).
    pub next_before: Option<i64>,
}

/// `GET /api/v1/notifications`: the newest notifications first, and the unread count.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<ApiJson<Inbox>> {
    let customer = notify::for_customer(&state, &caller.actor(), q.customer.as_deref()).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let (items, unread) = notify::inbox(&state, &customer, q.before, limit).await?;
    let next_before = (items.len() as i64 == limit).then(|| items.last().map(|n| n.created_at)).flatten();
    Ok(ApiJson(Inbox { items: items.into_iter().map(Into::into).collect(), unread, next_before }))
}

#[derive(Deserialize, Default)]
pub struct ReadBody {
    /// The notifications to mark read; absent: all of them.
    ids: Option<Vec<String>>,
}

#[derive(Serialize)]
pub struct ReadResult {
    pub updated: u64,
    pub unread: i64,
}

/// `POST /api/v1/notifications/read`: marks notifications read (`{"ids": [...]}`, or `{}` for all).
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
    ApiJson(b): ApiJson<ReadBody>,
) -> ApiResult<ApiJson<ReadResult>> {
    let customer = notify::for_customer(&state, &caller.actor(), q.customer.as_deref()).await?;
    let (updated, unread) = notify::mark_read(&state, &customer, b.ids.as_deref()).await?;
    Ok(ApiJson(ReadResult { updated, unread }))
}

#[derive(Serialize, Deserialize)]
pub struct Pref {
    pub kind: Kind,
    pub email: bool,
}

/// `GET /api/v1/notifications/preferences`: for each kind, whether it also comes by mail.
pub async fn prefs(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<ApiJson<Vec<Pref>>> {
    let customer = notify::for_customer(&state, &caller.actor(), q.customer.as_deref()).await?;
    let p = notify::prefs(&state, &customer).await?;
    Ok(ApiJson(p.into_iter().map(|(kind, email)| Pref { kind, email }).collect()))
}

/// `PUT /api/v1/notifications/preferences`: `[{"kind": "status_changed", "email": false}, ...]`.
pub async fn set_prefs(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
    ApiJson(b): ApiJson<Vec<Pref>>,
) -> ApiResult<ApiJson<Vec<Pref>>> {
    let customer = notify::for_customer(&state, &caller.actor(), q.customer.as_deref()).await?;
    for p in &b {
        notify::set_pref(&state, &customer, p.kind, p.email).await?;
    }
    let p = notify::prefs(&state, &customer).await?;
    Ok(ApiJson(p.into_iter().map(|(kind, email)| Pref { kind, email }).collect()))
}
