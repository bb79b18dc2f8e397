//! The customer's data requests in the portal (`/portal/privacy`): ask for a copy of all their data, for the
//! correction of a profile field, or for erasure; see each request's due date and status. The rules are
//! `lifebuoy_app::privacy`.

use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::{PortalCustomer, check_form_token, check_same_origin};
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use lifebuoy_app::privacy::{self, NewRequest};
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("portal_privacy.html", include_str!("../../templates/portal_privacy.html")),
    ("portal_privacy_request.html", include_str!("../../templates/portal_privacy_request.html")),
];

pub fn router() -> Router<AppState> {
    Router::new().route("/portal/privacy", get(page).post(file)).route("/portal/privacy/{id}", get(one))
}

#[derive(Deserialize, Default)]
struct Filed {
    filed: Option<String>,
}

/// `GET /portal/privacy`: the customer's requests and the forms to file one.
async fn page(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Query(q): Query<Filed>,
) -> Response {
    let lang = super::portal::lang_for(&headers, Some(&c));
    let items = match privacy::my_requests(&state, &c.actor()).await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let filed = q.filed.and_then(|id| items.iter().find(|r| r.request.id == id).map(|r| r.request.kind.clone()));
    let base = Base::new(&state, lang, Some(&c), "portal", "/portal/privacy");
    render(
        &state,
        "portal_privacy.html",
        &base,
        minijinja::context! { items, filed, due_days => privacy::REQUEST_DUE_DAYS },
    )
}

#[derive(Deserialize)]
struct RequestForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
    kind: String,
    field: Option<String>,
    value: Option<String>,
    note: Option<String>,
}

/// `POST /portal/privacy`: files a request.
async fn file(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Form(f): Form<RequestForm>,
) -> Response {
    let lang = super::portal::lang_for(&headers, Some(&c));
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, f.csrf.as_deref())?;
        let req = NewRequest { kind: f.kind, field: f.field, value: f.value, note: f.note };
        Ok::<_, ApiError>(privacy::file_request(&state, &c.actor(), &req).await?)
    };
    match run.await {
        Ok(r) => Redirect::to(&format!("/portal/privacy?filed={}", r.request.id)).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

/// `GET /portal/privacy/{id}`: one of the customer's requests (anyone else's: 404).
async fn one(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = super::portal::lang_for(&headers, Some(&c));
    let r = match privacy::request(&state, &c.actor(), &id).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let base = Base::new(&state, lang, Some(&c), "portal", &format!("/portal/privacy/{id}"));
    render(&state, "portal_privacy_request.html", &base, minijinja::context! { r })
}
