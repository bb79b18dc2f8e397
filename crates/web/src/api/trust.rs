//! Trust and safety over HTTP (issue 16): "is this official?" for anyone (`GET /api/v1/verify?value=`), a report
//! of a channel that is not (`POST /api/v1/verify/report`, which opens a case for the risk department), and the
//! registry for staff (`/api/v1/trust/channels`). The rules are `lifebuoy_app::trust`.

use crate::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::error::{ApiJson, ApiResult};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use lifebuoy_app::trust::{self, Verdict, emergency};
use lifebuoy_store::TrustChannel;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct VerifyQuery {
    pub value: Option<String>,
}

/// `GET /api/v1/verify?value=`: whether a domain or link, address, phone number, handle or agent number is
/// official; a look-alike names the official channel it imitates. No sign-in.
pub async fn verify(State(state): State<AppState>, Query(q): Query<VerifyQuery>) -> ApiResult<ApiJson<Verdict>> {
    let value = q.value.unwrap_or_default();
    Ok(ApiJson(trust::verify(&state, &value).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    pub value: String,
    pub note: Option<String>,
    pub lang: Option<String>,
}

/// `POST /api/v1/verify/report`: reports a channel that is not official; opens a case for the risk department
/// (the signed-in customer's own, else an anonymous report). `201 {"case_number", "verdict"}`.
pub async fn report(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    ApiJson(b): ApiJson<ReportBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    if let Some(c) = &caller {
        c.same_origin(&headers)?;
    }
    let actor = caller.as_ref().map(Caller::actor);
    let profile = actor.as_ref().and_then(|a| a.customer()).and_then(|c| c.lang.clone());
    let lang = b
        .lang
        .as_deref()
        .and_then(lifebuoy_domain::Lang::from_tag)
        .unwrap_or_else(|| crate::i18n::negotiate(&headers, profile.as_deref()));
    let (verdict, case) = trust::report(&state, actor.as_ref(), &b.value, b.note.as_deref(), lang).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"case_number": case.case_number, "verdict": verdict}))))
}

/// `GET /api/v1/trust/channels`: the registry (staff).
pub async fn channels(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<Vec<TrustChannel>>> {
    Ok(ApiJson(trust::channels(&state, &caller.actor()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    pub kind: String,
    pub value: String,
    pub label: String,
}

/// `POST /api/v1/trust/channels`: adds (or relabels) an official channel (admins, the exchange's integration).
pub async fn add_channel(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(b): ApiJson<ChannelBody>,
) -> ApiResult<(StatusCode, ApiJson<TrustChannel>)> {
    caller.same_origin(&headers)?;
    let ch = trust::put_channel(&state, &caller.actor(), &b.kind, &b.value, &b.label).await?;
    Ok((StatusCode::CREATED, ApiJson(ch)))
}

/// `DELETE /api/v1/trust/channels/{id}`: removes an official channel (`204` also when it was not listed).
pub async fn remove_channel(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.same_origin(&headers)?;
    // Removing an entry that is not listed (any more) is no error: the second click of a double click.
    trust::remove_channel(&state, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EmergencyBody {
    pub note: Option<String>,
}

/// `POST /api/v1/trust/emergency`: "my account may be stolen" (the signed-in customer): an urgent case for the
/// risk department, awaiting the customer's confirmation. `201 {"emergency", "case_number"}`.
pub async fn open_emergency(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(b): ApiJson<EmergencyBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    caller.same_origin(&headers)?;
    let note = b.note;
    let (e, c) = emergency::open(&state, &caller.actor(), note.as_deref()).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"emergency": e, "case_number": c.case_number}))))
}

/// `GET /api/v1/trust/emergency/{id}`: the emergency's state and the exchange's answer (its customer, staff).
pub async fn get_emergency(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<lifebuoy_store::Emergency>> {
    Ok(ApiJson(emergency::view(&state, &caller.actor(), &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshBody {
    /// A fresh identity token from the exchange (its `auth_time` within five minutes).
    pub token: String,
}

/// `POST /api/v1/trust/emergency/{id}/confirm`: the customer confirms with a fresh identity token; the freeze
/// call goes out (a job).
pub async fn confirm_emergency(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<FreshBody>,
) -> ApiResult<ApiJson<lifebuoy_store::Emergency>> {
    caller.same_origin(&headers)?;
    let fresh = state.identity.verify_fresh(&b.token)?;
    Ok(ApiJson(emergency::confirm(&state, &caller.actor(), &id, &fresh).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepUpBody {
    pub conversation_id: String,
    /// `unlock`, `2fa_reset`, `whitelist_change` or `other`.
    pub action: String,
}

/// `POST /api/v1/trust/step-up`: staff ask the customer of a conversation to re-verify before an account action.
pub async fn request_step_up(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(b): ApiJson<StepUpBody>,
) -> ApiResult<(StatusCode, ApiJson<lifebuoy_store::StepUp>)> {
    caller.same_origin(&headers)?;
    let s = emergency::request_step_up(&state, &caller.actor(), &b.conversation_id, &b.action).await?;
    Ok((StatusCode::CREATED, ApiJson(s)))
}

/// `POST /api/v1/trust/step-up/{id}/complete`: the customer re-verifies with a fresh identity token.
pub async fn complete_step_up(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<FreshBody>,
) -> ApiResult<ApiJson<lifebuoy_store::StepUp>> {
    caller.same_origin(&headers)?;
    let fresh = state.identity.verify_fresh(&b.token)?;
    Ok(ApiJson(emergency::complete_step_up(&state, &caller.actor(), &id, &fresh).await?))
}
