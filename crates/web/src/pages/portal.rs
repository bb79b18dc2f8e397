//! The customer portal: sign in (from the exchange, or as an email-verified guest), file a ticket with
//! screenshots, follow "my tickets", reply, and say "my problem is solved".

use super::{Base, error_page, render, start_session};
use crate::api::tickets::{self, CreateTicket, NewMessage};
use crate::auth::{Caller, MaybeCaller, PortalCustomer, check_form_token};
use crate::error::ApiError;
use crate::{AppState, i18n};
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_domain::{Category, Lang, Status};
use lifebuoy_store::{Principal, QueueFilter, QueueSort};
use serde::Deserialize;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/sso", get(sso_page).post(sso))
        .route("/portal/guest/code", post(guest_code))
        .route("/portal/guest/verify", post(guest_verify))
        .route("/portal/tickets/new", get(new_form))
        .route("/portal/tickets", post(create))
        .route("/portal/tickets/{id}", get(show))
        .route("/portal/tickets/{id}/reply", post(reply))
        .route("/portal/tickets/{id}/solved", post(solved))
}

pub(super) fn lang_for(headers: &HeaderMap, caller: Option<&Caller>) -> Lang {
    let profile = match caller.map(|c| &c.principal) {
        Some(Principal::Customer(c)) => c.lang.as_deref(),
        _ => None,
    };
    i18n::negotiate(headers, profile)
}

#[derive(Deserialize, Default)]
struct Flash {
    created: Option<String>,
    followup: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
) -> Response {
    let lang = lang_for(&headers, caller.as_ref());
    match caller {
        Some(c) if matches!(c.principal, Principal::Customer(_)) => {
            let f = QueueFilter { kind: Some(lifebuoy_domain::ConversationKind::Ticket), ..Default::default() };
            let run = async {
                let page = state.store.list_conversations(&c.scope(), &f, QueueSort::UpdatedDesc, None, 100).await?;
                let orders = lifebuoy_app::c2c::my_orders(&state, &c.actor(), 20).await?;
                Ok::<_, ApiError>((page, orders))
            };
            let (page, orders) = match run.await {
                Ok(p) => p,
                Err(e) => return error_page(&state, lang, Some(&c), e),
            };
            let base = Base::new(&state, lang, Some(&c), "portal", "/portal");
            render(
                &state,
                "portal_home.html",
                &base,
                minijinja::context! { tickets => page.items, orders, signed_in => true, created => flash.created, notices => super::notices(&state, lang).await },
            )
        }
        Some(_) => Redirect::to("/console").into_response(),
        None => {
            let base = Base::new(&state, lang, None, "portal", "/portal");
            let notices = super::notices(&state, lang).await;
            render(&state, "portal_home.html", &base, minijinja::context! { signed_in => false, notices })
        }
    }
}

#[derive(Deserialize)]
struct Sso {
    token: String,
}

/// `GET /portal/sso?token=...`: the exchange links here with an identity token. A GET signs nobody in (a link
/// or an image on another site could otherwise sign a visitor in as someone else): the page shows whom the
/// token names and posts it back from this origin. It does so by itself (`static/sso.js`) when the browser
/// came from this site or straight from the address bar or the exchange on the same site; from another site
/// it waits for the click, so a hostile site cannot sign its visitors in to an account of its choosing.
async fn sso_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<Sso>) -> Response {
    let lang = i18n::negotiate(&headers, None);
    let claims = match state.identity.verify(&q.token) {
        Ok(c) => c,
        Err(e) => return error_page(&state, lang, None, e),
    };
    let auto = !matches!(headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()), Some("cross-site"));
    let base = Base::new(&state, lang, None, "portal", "/portal");
    let who = claims.name.clone().or(claims.email.clone()).unwrap_or_else(|| claims.sub.clone());
    let mut r = render(&state, "portal_sso.html", &base, minijinja::context! { token => q.token, who, auto });
    // The token is in this page's address: keep it out of caches and of the next page's Referer.
    r.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::REFERRER_POLICY, axum::http::HeaderValue::from_static("no-referrer"));
    r
}

/// `POST /portal/sso`: the form of [`sso_page`], from this origin only; signs the customer in.
async fn sso(State(state): State<AppState>, headers: HeaderMap, Form(q): Form<Sso>) -> Response {
    let lang = i18n::negotiate(&headers, None);
    let run = async {
        crate::auth::check_same_origin(&headers)?;
        let claims = state.identity.verify(&q.token)?;
        let c = crate::auth::customer_from_claims(&state, &claims).await?;
        start_session(&state, "customer", &c.id).await
    };
    match run.await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/portal")).into_response(),
        Err(e) => error_page(&state, lang, None, e),
    }
}

#[derive(Deserialize)]
struct GuestCode {
    email: String,
}

async fn guest_code(
    State(state): State<AppState>,
    client: crate::security::ClientIp,
    headers: HeaderMap,
    Form(f): Form<GuestCode>,
) -> Response {
    let lang = i18n::negotiate(&headers, None);
    if let Err(e) = crate::auth::check_same_origin(&headers) {
        return error_page(&state, lang, None, e);
    }
    match crate::api::guests::issue_code(&state, &client, &f.email).await {
        Ok((email, code)) => {
            let base = Base::new(&state, lang, None, "portal", "/portal");
            let demo_code = state.config.demo.then_some(code);
            render(
                &state,
                "portal_home.html",
                &base,
                minijinja::context! { signed_in => false, code_sent_to => email.as_str(), demo_code },
            )
        }
        Err(e) => error_page(&state, lang, None, e),
    }
}

#[derive(Deserialize)]
struct GuestVerify {
    email: String,
    code: String,
}

async fn guest_verify(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<GuestVerify>) -> Response {
    let lang = i18n::negotiate(&headers, None);
    if let Err(e) = crate::auth::check_same_origin(&headers) {
        return error_page(&state, lang, None, e);
    }
    let run = async {
        let c = crate::api::guests::verify_code(&state, &f.email, &f.code).await.map_err(|e| {
            if e.code == "invalid_code" {
                ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "invalid_code", i18n::t(lang, "portal.bad_code"))
            } else {
                e
            }
        })?;
        start_session(&state, "customer", &c.id).await
    };
    match run.await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/portal")).into_response(),
        Err(e) => error_page(&state, lang, None, e),
    }
}

async fn new_form(State(state): State<AppState>, PortalCustomer(c): PortalCustomer, headers: HeaderMap) -> Response {
    let lang = lang_for(&headers, Some(&c));
    let base = Base::new(&state, lang, Some(&c), "portal", "/portal/tickets/new");
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let notices = super::notices(&state, lang).await;
    // What the desk promises for each category, shown under the category as it is chosen.
    let promises: std::collections::BTreeMap<&str, String> =
        match lifebuoy_app::sla::promises(&state, c.actor().customer().map_or("", |k| k.id.as_str()), lang.as_str())
            .await
        {
            Ok(list) => list
                .into_iter()
                .map(|(cat, min, hours)| {
                    let key = if hours { "promise_hours" } else { "promise" };
                    let text =
                        base.t["sla"][key].as_str().unwrap_or("{t}").replace("{t}", &super::sla_target(base.t, min));
                    (cat, text)
                })
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "the filing form's promises could not be read");
                Default::default()
            }
        };
    render(
        &state,
        "portal_new.html",
        &base,
        minijinja::context! { categories, form_id => lifebuoy_store::new_id(), notices, promises },
    )
}

/// A parsed multipart form: text fields, and files checked and stored as attachments.
pub(crate) struct UploadForm {
    pub fields: HashMap<String, String>,
    pub attachment_ids: Vec<String>,
}

/// Reads a multipart form, checking the CSRF token before any file is stored.
pub(crate) async fn read_upload_form(
    state: &AppState,
    caller: &Caller,
    mut form: Multipart,
) -> Result<UploadForm, ApiError> {
    let mut fields = HashMap::new();
    let mut files = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|e| crate::api::attachments::multipart_error(&e))? {
        let name = field.name().unwrap_or("").to_string();
        if name == "files" {
            let filename = field.file_name().unwrap_or("").to_string();
            let ct = field.content_type().map(str::to_string);
            let bytes = field.bytes().await.map_err(|e| crate::api::attachments::multipart_error(&e))?;
            if !bytes.is_empty() || !filename.is_empty() {
                files.push((filename, ct, bytes));
            }
        } else {
            let text = field.text().await.map_err(|e| crate::api::attachments::multipart_error(&e))?;
            fields.insert(name, text);
        }
    }
    check_form_token(caller, fields.get("_csrf").map(String::as_str))?;
    if files.len() > 10 {
        return Err(ApiError::invalid("files", "at most 10 attachments"));
    }
    let mut attachment_ids = Vec::new();
    for (name, ct, bytes) in files {
        attachment_ids.push(crate::api::attachments::accept(state, caller, &name, ct.as_deref(), &bytes).await?.id);
    }
    Ok(UploadForm { fields, attachment_ids })
}

async fn create(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let lang = lang_for(&headers, Some(&c));
    let run = async {
        crate::auth::check_same_origin(&headers)?;
        let f = read_upload_form(&state, &c, form).await?;
        let get = |k: &str| f.fields.get(k).cloned().unwrap_or_default();
        let some = |k: &str| f.fields.get(k).cloned().filter(|v| !v.trim().is_empty());
        let input = CreateTicket {
            subject: get("subject"),
            body: get("body"),
            category: Category::parse(&get("category"))?,
            priority: None,
            department: None,
            lang: Some(lang.as_str().to_string()),
            order_id: some("order_id"),
            tx_hash: some("tx_hash"),
            asset: some("asset"),
            amount: some("amount"),
            tags: vec![],
            attachment_ids: f.attachment_ids,
            customer: None,
        };
        let idem = f.fields.get("_form_id").cloned().filter(|v| !v.is_empty());
        let (t, _) = tickets::create_for(&state, &c, input, idem.as_deref().map(|k| (k, "portal-form"))).await?;
        // The form's suggestions (if it showed any) did not deflect this one: count it for the analytics.
        if let Some(form_id) = &idem
            && let Err(e) = state.store.kb_deflection_filed(form_id, &t.id).await
        {
            tracing::warn!(error = %e, "deflection update failed");
        }
        Ok::<_, ApiError>(t)
    };
    match run.await {
        Ok(t) => Redirect::to(&format!("/portal/tickets/{}?created=1", t.id)).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

async fn show(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let lang = lang_for(&headers, Some(&c));
    let run = async {
        let t = tickets::visible(&state, &c, &id).await?;
        let timeline = state.store.timeline(&t.id, false).await?;
        let merged_case = match &t.merged_into {
            Some(m) => state.store.conversation(m).await?.and_then(|x| x.case_number),
            None => None,
        };
        let mail = lifebuoy_app::mail_text::thread_views(&state.store, &t, &timeline).await?;
        let sla = lifebuoy_app::sla::view(&state, &t, Some(&timeline)).await?;
        Ok::<_, ApiError>((t, timeline, merged_case, mail, sla))
    };
    match run.await {
        Ok((t, timeline, merged_case, mail, sla)) => {
            let base = Base::new(&state, lang, Some(&c), "portal", &format!("/portal/tickets/{id}"));
            let can_solve = t.status().customer_may_set(Status::Solved);
            render(
                &state,
                "portal_ticket.html",
                &base,
                minijinja::context! { t, timeline, mail, can_solve, merged_case, created => flash.created, followup => flash.followup, sla },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

async fn reply(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Multipart,
) -> Response {
    let lang = lang_for(&headers, Some(&c));
    let run = async {
        crate::auth::check_same_origin(&headers)?;
        let t = tickets::visible(&state, &c, &id).await?;
        let f = read_upload_form(&state, &c, form).await?;
        let m = NewMessage {
            body: f.fields.get("body").cloned().unwrap_or_default(),
            internal: false,
            attachment_ids: f.attachment_ids,
            status: None,
        };
        tickets::reply_for(&state, &c, &t, m, None).await
    };
    match run.await {
        Ok(lifebuoy_store::ReplyOutcome::FollowUp { conversation, .. }) => {
            Redirect::to(&format!("/portal/tickets/{}?followup=1", conversation.id)).into_response()
        }
        Ok(lifebuoy_store::ReplyOutcome::Added { conversation, .. }) => {
            Redirect::to(&format!("/portal/tickets/{}#latest", conversation.id)).into_response()
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn solved(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let lang = lang_for(&headers, Some(&c));
    let run = async {
        crate::auth::check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        let t = tickets::visible(&state, &c, &id).await?;
        tickets::set_status_for(&state, &c, &t, Status::Solved).await
    };
    match run.await {
        Ok(t) => Redirect::to(&format!("/portal/tickets/{}", t.id)).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}
