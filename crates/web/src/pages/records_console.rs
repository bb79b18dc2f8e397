//! The console's customer records: find a customer (`/console/customers?q=`: UID, email, name, case number,
//! order id, tx hash), a customer's page with every conversation across channels and the exports on their
//! behalf (`/console/customers/{id}`), with the tags and notes agents keep about them, and the access log for supervisors (`/console/audit`). The rules and the
//! logging of who opened what are `lifebuoy_app::records`.

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::{ConsoleAgent, check_form_token, check_same_origin};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_app::records;
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("console_customers.html", include_str!("../../templates/console_customers.html")),
    ("console_customer.html", include_str!("../../templates/console_customer.html")),
    ("console_audit.html", include_str!("../../templates/console_audit.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/customers", get(find))
        .route("/console/customers/{id}", get(customer))
        .route("/console/customers/{id}/tags", post(set_tags))
        .route("/console/customers/{id}/notes", post(add_note))
        .route("/console/audit", get(audit))
}

#[derive(Deserialize, Default)]
struct Find {
    q: Option<String>,
}

/// `GET /console/customers?q=`: customers by UID, email, name, case number, order id or tx hash.
async fn find(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(f): Query<Find>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let q = f.q.unwrap_or_default();
    let hits = if q.trim().is_empty() {
        Vec::new()
    } else {
        match records::find_customers(&state, &c.actor(), &q).await {
            Ok(h) => h,
            Err(e) => return error_page(&state, lang, Some(&c), e.into()),
        }
    };
    let base = Base::new(&state, lang, Some(&c), "console", "/console/customers");
    render(&state, "console_customers.html", &base, minijinja::context! { q, hits, searched => !q.trim().is_empty() })
}

/// `GET /console/customers/{id}`: the customer's profile and every conversation the agent may see.
async fn customer(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let page = match records::customer_page(&state, &c.actor(), &id, "console.customer").await {
        Ok(p) => p,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    // The page already has the customer's conversations: only the tags and notes are read here.
    let (tags, notes) =
        match lifebuoy_app::customers::kept(&state, &c.actor(), &id, lifebuoy_app::customers::NOTES_SHOWN).await {
            Ok(kept) => kept,
            Err(e) => return error_page(&state, lang, Some(&c), e.into()),
        };
    let holds = match lifebuoy_app::privacy::customer_holds(&state, &c.actor(), &id).await {
        Ok(h) => h,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let back = format!("/console/customers/{id}");
    let base = Base::new(&state, lang, Some(&c), "console", &back);
    render(
        &state,
        "console_customer.html",
        &base,
        minijinja::context! {
            customer => page.customer, conversations => page.conversations, hidden => page.hidden,
            tags, notes,
            holds, hold_customer => id, back,
        },
    )
}

#[derive(Deserialize)]
struct TagsForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    tags: String,
}

/// `POST /console/customers/{id}/tags`: the customer's tags, comma-separated (agents).
async fn set_tags(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<TagsForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let tags: Vec<String> = f.tags.split([',', '，', '、']).map(str::to_string).collect();
    let done = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        lifebuoy_app::customers::set_tags(&state, &c.actor(), &id, &tags).await.map_err(crate::error::ApiError::from)
    };
    match done.await {
        Ok(_) => Redirect::to(&format!("/console/customers/{id}")).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct NoteForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    body: String,
}

/// `POST /console/customers/{id}/notes`: a note on the customer (agents).
async fn add_note(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let done = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        lifebuoy_app::customers::add_note(&state, &c.actor(), &id, &f.body).await.map_err(crate::error::ApiError::from)
    };
    match done.await {
        Ok(_) => Redirect::to(&format!("/console/customers/{id}#customer-notes")).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    customer: Option<String>,
    agent: Option<String>,
    before: Option<i64>,
}

/// `GET /console/audit`: who opened which customer's page, conversation or export (supervisors and admins).
async fn audit(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let customer = q.customer.filter(|s| !s.is_empty());
    let agent = q.agent.filter(|s| !s.is_empty());
    let (rows, broken) =
        match records::access_log(&state, &c.actor(), customer.as_deref(), agent.as_deref(), q.before).await {
            Ok(v) => v,
            Err(e) => return error_page(&state, lang, Some(&c), e.into()),
        };
    let next = (rows.len() == 100).then(|| rows.last().map(|r| r.seq)).flatten();
    let base = Base::new(&state, lang, Some(&c), "console", "/console/audit");
    render(&state, "console_audit.html", &base, minijinja::context! { rows, broken, customer, agent, next })
}
