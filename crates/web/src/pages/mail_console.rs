//! Incoming mail in the agent console (`/console/mail`), for admins: the sender blocklist (add an address or a
//! whole `@domain`, remove one) and the latest refused mails with their reasons. The rules are
//! `lifebuoy_app::mail_admin`; other agents get 403.

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::{ConsoleAgent, check_form_token, check_same_origin};
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_app::{AppError, mail_admin};
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] = &[("console_mail.html", include_str!("../../templates/console_mail.html"))];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/mail", get(overview))
        .route("/console/mail/block", post(block))
        .route("/console/mail/unblock", post(unblock))
}

#[derive(Deserialize, Default)]
struct Notice {
    blocked: Option<String>,
    unblocked: Option<String>,
    bad: Option<String>,
}

/// `GET /console/mail`: the blocklist and the refused mails.
async fn overview(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let (blocked, rejections) = match mail_admin::overview(&state.store, &c.actor()).await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let clip = |s: Option<String>| s.map(|s| s.chars().take(300).collect::<String>());
    let base = Base::new(&state, lang, Some(&c), "console", "/console/mail");
    render(
        &state,
        "console_mail.html",
        &base,
        minijinja::context! {
            blocked, rejections,
            notice_blocked => clip(n.blocked), notice_unblocked => clip(n.unblocked), bad => n.bad.is_some(),
        },
    )
}

#[derive(Deserialize)]
struct PatternForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    pattern: String,
    note: Option<String>,
}

fn back(key: &str, pattern: &str) -> Response {
    let q: String = url_encode(pattern);
    Redirect::to(&format!("/console/mail?{key}={q}")).into_response()
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /console/mail/block`: blocks an address or a domain.
async fn block(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<PatternForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        Ok::<_, ApiError>(mail_admin::block(&state.store, &c.actor(), &f.pattern, f.note.as_deref()).await)
    };
    match run.await {
        Ok(Ok(b)) => back("blocked", &b.pattern),
        Ok(Err(AppError::Invalid { .. })) => Redirect::to("/console/mail?bad=1").into_response(),
        Ok(Err(e)) => error_page(&state, lang, Some(&c), e.into()),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

/// `POST /console/mail/unblock`: removes an address or domain from the blocklist.
async fn unblock(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<PatternForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        Ok::<_, ApiError>(mail_admin::unblock(&state.store, &c.actor(), &f.pattern).await)
    };
    match run.await {
        Ok(Ok(_)) => back("unblocked", f.pattern.trim()),
        Ok(Err(AppError::Invalid { .. })) => Redirect::to("/console/mail?bad=1").into_response(),
        Ok(Err(e)) => error_page(&state, lang, Some(&c), e.into()),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}
