//! The exchange beside the console (issue 14): the customer's account as a fragment every case page loads
//! (`/console/cases/{id}/account`), and the admins' integration page (`/console/integrations`: the account
//! lookup's source, webhook endpoints and their delivery log with replay, four-eyes amounts). The rules are
//! `lifebuoy_app::{customer_context, webhooks, c2c}`; these handlers only turn forms into their calls.

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::{Caller, ConsoleAgent, check_form_token, check_same_origin};
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lifebuoy_app::customer_context::{self, SourceInput};
use lifebuoy_app::webhooks::{self, NewEndpoint};
use lifebuoy_app::{AppError, c2c};
use lifebuoy_domain::{Lang, Party};
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("console_account.html", include_str!("../../templates/console_account.html")),
    ("console_integrations.html", include_str!("../../templates/console_integrations.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/cases/{id}/account", get(account))
        .route("/console/integrations", get(integrations))
        .route("/console/integrations/context", post(save_context))
        .route("/console/integrations/webhooks", post(add_webhook))
        .route("/console/integrations/webhooks/{id}/remove", post(remove_webhook))
        .route("/console/integrations/deliveries/{id}/replay", post(replay))
        .route("/console/integrations/four-eyes", post(four_eyes))
}

#[derive(Deserialize)]
struct PartyQuery {
    party: Option<String>,
}

/// `GET /console/cases/{id}/account[?party=seller]`: the account fragment (agents who see the case). The case
/// page loads it after it shows, so a slow exchange never holds the case.
async fn account(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PartyQuery>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        let party = q.party.as_deref().filter(|p| !p.is_empty()).map(Party::parse).transpose()?;
        Ok::<_, ApiError>(customer_context::for_case(&state, &c.actor(), &id, party).await?)
    };
    match run.await {
        Ok(ctx) => {
            let base = Base::new(&state, lang, Some(&c), "console", &format!("/console/cases/{id}/account"));
            let mut r = render(&state, "console_account.html", &base, minijinja::context! { ctx });
            r.headers_mut().insert(axum::http::header::CACHE_CONTROL, "no-store".parse().expect("a header value"));
            r
        }
        Err(e) => {
            let (status, message) = (e.status, crate::error::translate(lang, e.code, &e.message));
            (status, message).into_response()
        }
    }
}

#[derive(Deserialize, Default)]
struct Notice {
    saved: Option<String>,
    bad: Option<String>,
}

/// `GET /console/integrations` (admins).
async fn integrations(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let actor = c.actor();
    let run = async {
        // The use cases say who may: admins (the exchange's integration has no console).
        let source = customer_context::source(&state, &actor).await?;
        let endpoints = webhooks::endpoints(&state, &actor).await?;
        let deliveries = webhooks::deliveries(&state, &actor, 50).await?;
        let four_eyes = c2c::four_eyes(&state, &actor).await?;
        Ok::<_, ApiError>((source, endpoints, deliveries, four_eyes))
    };
    match run.await {
        Ok((source, endpoints, deliveries, four_eyes)) => {
            let base = Base::new(&state, lang, Some(&c), "console", "/console/integrations");
            let endpoint_urls: std::collections::HashMap<String, String> =
                endpoints.iter().map(|e| (e.id.clone(), e.url.clone())).collect();
            let bad = n.bad.map(|s| s.chars().take(300).collect::<String>());
            render(
                &state,
                "console_integrations.html",
                &base,
                minijinja::context! {
                    source, endpoints, deliveries, four_eyes, endpoint_urls, saved => n.saved.is_some(), bad,
                    event_types => webhooks::EVENT_TYPES,
                    timeout_default => customer_context::DEFAULT_TIMEOUT_MS, cache_default => customer_context::DEFAULT_CACHE_S,
                },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

/// After a form: back to the page at `anchor`, saying it was saved, or what was wrong with the input (in the
/// reader's language); any other failure is an error page.
fn finish(state: &AppState, lang: Lang, c: &Caller, r: Result<(), ApiError>, anchor: &str) -> Response {
    super::after_form(state, lang, c, r.map(|()| "saved=1".to_string()), "/console/integrations", anchor)
}

fn form_checks(headers: &HeaderMap, c: &Caller, csrf: &str) -> Result<(), ApiError> {
    check_same_origin(headers)?;
    check_form_token(c, Some(csrf))
}

#[derive(Deserialize)]
struct ContextForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    op: String,
    url: Option<String>,
    secret: Option<String>,
    timeout_ms: Option<String>,
    cache_s: Option<String>,
}

fn number(field: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| AppError::invalid(field, "a whole number").into()),
    }
}

/// `POST /console/integrations/context`: saves or removes the account lookup's source.
async fn save_context(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<ContextForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        form_checks(&headers, &c, &f.csrf)?;
        if f.op == "remove" {
            return Ok(customer_context::remove_source(&state, &c.actor()).await?);
        }
        let input = SourceInput {
            url: f.url.clone().unwrap_or_default(),
            secret: f.secret.clone(),
            timeout_ms: number("timeout_ms", f.timeout_ms.as_deref())?,
            cache_s: number("cache_s", f.cache_s.as_deref())?,
        };
        customer_context::set_source(&state, &c.actor(), input).await?;
        Ok(())
    };
    let r = run.await;
    finish(&state, lang, &c, r, "context")
}

#[derive(Deserialize)]
struct WebhookForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    url: String,
    events: String,
    secret: String,
}

/// `POST /console/integrations/webhooks`: adds an endpoint.
async fn add_webhook(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<WebhookForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        form_checks(&headers, &c, &f.csrf)?;
        let events = f.events.split([',', ' ', '\n']).map(str::trim).filter(|e| !e.is_empty()).map(String::from);
        let input = NewEndpoint { url: f.url.clone(), events: events.collect(), secret: f.secret.clone() };
        webhooks::register(&state, &c.actor(), input).await?;
        Ok(())
    };
    let r = run.await;
    finish(&state, lang, &c, r, "webhooks")
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(rename = "_csrf")]
    csrf: String,
}

/// `POST /console/integrations/webhooks/{id}/remove`: stops sending to an endpoint.
async fn remove_webhook(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        form_checks(&headers, &c, &f.csrf)?;
        Ok(webhooks::remove(&state, &c.actor(), &id).await?)
    };
    let r = run.await;
    finish(&state, lang, &c, r, "webhooks")
}

/// `POST /console/integrations/deliveries/{id}/replay`: sends a delivery again.
async fn replay(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        form_checks(&headers, &c, &f.csrf)?;
        webhooks::replay(&state, &c.actor(), &id).await?;
        Ok(())
    };
    let r = run.await;
    finish(&state, lang, &c, r, "deliveries")
}

#[derive(Deserialize)]
struct FourEyesForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    currency: String,
    above: String,
}

/// `POST /console/integrations/four-eyes`: sets (or, with no amount, removes) a currency's four-eyes amount.
async fn four_eyes(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<FourEyesForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        form_checks(&headers, &c, &f.csrf)?;
        let above = Some(f.above.trim()).filter(|a| !a.is_empty());
        Ok(c2c::set_four_eyes(&state, &c.actor(), f.currency.trim(), above).await?)
    };
    let r = run.await;
    finish(&state, lang, &c, r, "four-eyes")
}
