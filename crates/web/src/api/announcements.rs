//! Announcements over HTTP (issue 13). The rules are `lifebuoy_app::announcements`'s.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiJson, ApiResult};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lifebuoy_app::announcements::{self, Answered, Managed, Publish};
use lifebuoy_domain::{Lang, Status};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// `GET /api/v1/announcements?lang=`: the notices showing now, in that language (no sign-in).
pub async fn live(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> ApiResult<Response> {
    let lang = q.lang.as_deref().and_then(Lang::from_tag).unwrap_or_else(|| crate::i18n::negotiate(&headers, None));
    let items = announcements::live(&state, lang).await?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=30")], ApiJson(json!({"announcements": items}))).into_response())
}

/// `POST /api/v1/announcements` (supervisors, admins, the exchange): publishes a notice.
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(b): ApiJson<Publish>,
) -> ApiResult<(StatusCode, ApiJson<Managed>)> {
    caller.same_origin(&headers)?;
    Ok((StatusCode::CREATED, ApiJson(announcements::publish(&state, &caller.actor(), b).await?)))
}

/// `GET /api/v1/announcements/all` (staff): every notice, the latest first.
pub async fn all(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<Vec<Managed>>> {
    Ok(ApiJson(announcements::all(&state, &caller.actor()).await?))
}

/// `GET /api/v1/announcements/{id}` (staff): a notice and the linked cases the caller sees.
pub async fn one(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<ApiJson<Value>> {
    let (a, cases) = announcements::one(&state, &caller.actor(), &id).await?;
    Ok(ApiJson(json!({"announcement": a, "cases": cases})))
}

/// `DELETE /api/v1/announcements/{id}` (supervisors, admins, the exchange): takes it down now.
pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Managed>> {
    caller.same_origin(&headers)?;
    Ok(ApiJson(announcements::withdraw(&state, &caller.actor(), &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// Case ids or case numbers.
    pub cases: Vec<String>,
}

/// `POST /api/v1/announcements/{id}/cases` (agents): links cases to the notice.
pub async fn link(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<LinkBody>,
) -> ApiResult<ApiJson<Value>> {
    caller.same_origin(&headers)?;
    let n = announcements::link(&state, &caller.actor(), &id, &b.cases).await?;
    Ok(ApiJson(json!({"linked": n})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    pub body: String,
    pub status: Option<String>,
}

/// `POST /api/v1/announcements/{id}/answer` (agents): one reply to every open linked case.
pub async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AnswerBody>,
) -> ApiResult<ApiJson<Answered>> {
    caller.same_origin(&headers)?;
    let status = b.status.as_deref().filter(|s| !s.is_empty()).map(Status::parse).transpose()?;
    Ok(ApiJson(announcements::answer_all(&state, &caller.actor(), &id, &b.body, status).await?))
}
