//! Retention and privacy in the console: each channel's retention and the purge's log (`/console/retention`:
//! admins edit, supervisors read), the deleted conversations with their purge dates and a restore button
//! (`/console/deleted`), the customers' open data requests with their due dates (`/console/data-requests`), and
//! the forms behind the hold, delete and restore buttons of the customer and case pages. The rules are
//! `lifebuoy_app::privacy` and `lifebuoy_app::records`; this module reads forms and renders.

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::{Caller, ConsoleAgent, check_form_token, check_same_origin};
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_app::{privacy, records};
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("console_retention.html", include_str!("../../templates/console_retention.html")),
    ("console_deleted.html", include_str!("../../templates/console_deleted.html")),
    ("console_data_requests.html", include_str!("../../templates/console_data_requests.html")),
    ("privacy_holds_box.html", include_str!("../../templates/privacy_holds_box.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/retention", get(retention).post(set_retention))
        .route("/console/deleted", get(deleted))
        .route("/console/data-requests", get(requests))
        .route("/console/data-requests/{id}/complete", post(complete))
        .route("/console/data-requests/{id}/refuse", post(refuse))
        .route("/console/records/holds", post(place_hold))
        .route("/console/records/holds/{id}/release", post(release_hold))
        .route("/console/records/conversations/{id}/delete", post(delete))
        .route("/console/records/conversations/{id}/restore", post(restore))
}

/// Checks a console form (same origin, the session's token), runs it, and goes back or shows the error.
async fn form_action<F>(state: &AppState, c: &Caller, headers: &HeaderMap, csrf: &str, to: String, run: F) -> Response
where
    F: std::future::Future<Output = Result<(), lifebuoy_app::AppError>>,
{
    let lang = lang_of(headers, c);
    let checked = check_same_origin(headers).and_then(|_| check_form_token(c, Some(csrf)));
    if let Err(e) = checked {
        return error_page(state, lang, Some(c), e);
    }
    match run.await {
        Ok(()) => Redirect::to(&to).into_response(),
        Err(e) => error_page(state, lang, Some(c), ApiError::from(e)),
    }
}

#[derive(Deserialize, Default)]
struct Saved {
    saved: Option<String>,
}

/// `GET /console/retention`: each channel's retention and the purge's log.
async fn retention(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(q): Query<Saved>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let (policies, log) = match privacy::retention_overview(&state, &c.actor()).await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let log: Vec<minijinja::Value> = log
        .into_iter()
        .map(|l| {
            let erased: Vec<String> = serde_json::from_str(&l.erased_ids).unwrap_or_default();
            let held: Vec<String> = serde_json::from_str(&l.held_ids).unwrap_or_default();
            minijinja::context! { at => l.at, rule => l.rule, erased => l.erased, held => l.held, erased_ids => erased, held_ids => held }
        })
        .collect();
    let base = Base::new(&state, lang, Some(&c), "console", "/console/retention");
    let saved = q.saved.filter(|s| privacy::CHANNELS.contains(&s.as_str()));
    render(
        &state,
        "console_retention.html",
        &base,
        minijinja::context! { policies, log, saved, max_days => privacy::MAX_KEEP_DAYS },
    )
}

#[derive(Deserialize)]
struct PolicyForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    channel: String,
    /// Empty: keep forever.
    keep_days: Option<String>,
}

/// `POST /console/retention`: sets a channel's retention (admins).
async fn set_retention(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<PolicyForm>,
) -> Response {
    let to = format!("/console/retention?saved={}", privacy::channel(&f.channel).unwrap_or(""));
    let run = async {
        let days = match f.keep_days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(d) => {
                Some(d.parse::<i64>().map_err(|_| lifebuoy_app::AppError::invalid("keep_days", "a number of days"))?)
            }
        };
        privacy::set_retention(&state, &c.actor(), &f.channel, days).await.map(|_| ())
    };
    form_action(&state, &c, &headers, &f.csrf, to, run).await
}

/// `GET /console/deleted`: deleted conversations, when each will be purged, and restore buttons (supervisors).
async fn deleted(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers, &c);
    let items = match privacy::deleted(&state, &c.actor()).await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let base = Base::new(&state, lang, Some(&c), "console", "/console/deleted");
    render(
        &state,
        "console_deleted.html",
        &base,
        minijinja::context! { items, recovery_days => records::RECOVERY_DAYS },
    )
}

/// `GET /console/data-requests`: every open request, the first due first, overdue ones marked (supervisors).
async fn requests(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers, &c);
    let items = match privacy::open_requests(&state, &c.actor()).await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let base = Base::new(&state, lang, Some(&c), "console", "/console/data-requests");
    render(&state, "console_data_requests.html", &base, minijinja::context! { items })
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    back: Option<String>,
}

/// `POST /console/data-requests/{id}/complete`: carries a request out.
async fn complete(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let run = async { privacy::complete_request(&state, &c.actor(), &id).await.map(|_| ()) };
    form_action(&state, &c, &headers, &f.csrf, "/console/data-requests".into(), run).await
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    reason: String,
}

/// `POST /console/data-requests/{id}/refuse`: refuses a request with a reason.
async fn refuse(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Response {
    let run = async { privacy::refuse_request(&state, &c.actor(), &id, &f.reason).await.map(|_| ()) };
    form_action(&state, &c, &headers, &f.csrf, "/console/data-requests".into(), run).await
}

#[derive(Deserialize)]
struct HoldForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    customer_id: Option<String>,
    conversation_id: Option<String>,
    reason: String,
    back: Option<String>,
}

/// `POST /console/records/holds`: places a legal hold on a customer or a conversation.
async fn place_hold(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<HoldForm>,
) -> Response {
    let keep = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let (customer, conversation) = (keep(&f.customer_id), keep(&f.conversation_id));
    let fallback = match (&customer, &conversation) {
        (_, Some(cid)) => format!("/console/tickets/{cid}"),
        (Some(k), None) => format!("/console/customers/{k}"),
        _ => "/console/customers".into(),
    };
    let to = back_to(f.back.as_deref(), &fallback);
    let run = async {
        records::place_hold(&state, &c.actor(), customer.as_deref(), conversation.as_deref(), &f.reason)
            .await
            .map(|_| ())
    };
    form_action(&state, &c, &headers, &f.csrf, to, run).await
}

/// A console page named by a form, else `fallback`.
fn back_to(to: Option<&str>, fallback: &str) -> String {
    let ok = |t: &&str| t.starts_with("/console/") && !t.contains("//") && !t.contains('\\');
    to.filter(ok).unwrap_or(fallback).to_string()
}

/// `POST /console/records/holds/{id}/release`: releases a hold.
async fn release_hold(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let to = back_to(f.back.as_deref(), "/console/customers");
    let run = async { records::release_hold(&state, &c.actor(), &id).await.map(|_| ()) };
    form_action(&state, &c, &headers, &f.csrf, to, run).await
}

/// `POST /console/records/conversations/{id}/delete`: deletes a conversation (restorable for 30 days).
async fn delete(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let to = back_to(f.back.as_deref(), &format!("/console/tickets/{id}"));
    let run = async { records::delete_conversation(&state, &c.actor(), &id).await };
    form_action(&state, &c, &headers, &f.csrf, to, run).await
}

/// `POST /console/records/conversations/{id}/restore`: restores a deleted conversation within its window.
async fn restore(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let to = back_to(f.back.as_deref(), "/console/deleted");
    let run = async { records::restore_conversation(&state, &c.actor(), &id).await };
    form_action(&state, &c, &headers, &f.csrf, to, run).await
}
