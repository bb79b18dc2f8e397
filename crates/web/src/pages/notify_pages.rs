//! Notifications on the web: the customer's inbox (站内信) and mail choices in the portal, the satisfaction page
//! a solved case's mail links to, and the templates admins edit in the console (with a preview on sample data).
//! The rules are `lifebuoy_app::notify`; this module reads forms and renders.

use super::{Base, error_page, render};
use crate::auth::{Caller, ConsoleAgent, MaybeCaller, PortalCustomer, check_form_token, check_same_origin};
use crate::error::ApiError;
use crate::{AppState, i18n};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_app::notify::{self, Kind};
use lifebuoy_domain::Lang;
use serde::Deserialize;
use std::collections::HashMap;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("portal_inbox.html", include_str!("../../templates/portal_inbox.html")),
    ("portal_notify_prefs.html", include_str!("../../templates/portal_notify_prefs.html")),
    ("portal_rate.html", include_str!("../../templates/portal_rate.html")),
    ("console_templates.html", include_str!("../../templates/console_templates.html")),
    ("console_template_edit.html", include_str!("../../templates/console_template_edit.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/inbox", get(inbox))
        .route("/portal/inbox/read", post(read_all))
        .route("/portal/inbox/{id}", get(open))
        .route("/portal/settings/notifications", get(prefs_page).post(save_prefs))
        .route("/portal/rate/{id}", get(rate_page).post(rate))
        .route("/console/notifications", get(templates))
        .route("/console/notifications/{kind}/{lang}", get(edit).post(save))
        .route("/console/notifications/{kind}/{lang}/reset", post(reset))
}

fn customer_lang(headers: &HeaderMap, c: Option<&Caller>) -> Lang {
    let profile = c.and_then(|c| c.actor().customer().and_then(|k| k.lang.clone()));
    i18n::negotiate(headers, profile.as_deref())
}

fn agent_lang(headers: &HeaderMap, c: &Caller) -> Lang {
    let profile = c.agent().and_then(|a| a.languages.first()).map(|l| l.as_str());
    i18n::negotiate(headers, profile)
}

#[derive(Deserialize, Default)]
struct InboxQuery {
    before: Option<i64>,
}

/// Notifications per page of the inbox.
const PAGE: i64 = 30;

/// `GET /portal/inbox`: the customer's notifications, newest first, unread ones marked.
async fn inbox(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Query(q): Query<InboxQuery>,
) -> Response {
    let lang = customer_lang(&headers, Some(&c));
    let run = async {
        let k = notify::for_customer(&state, &c.actor(), None).await?;
        Ok::<_, ApiError>(notify::inbox(&state, &k, q.before, PAGE).await?)
    };
    match run.await {
        Ok((items, unread)) => {
            let next = (items.len() as i64 == PAGE).then(|| items.last().map(|n| n.created_at)).flatten();
            let base = Base::new(&state, lang, Some(&c), "portal", "/portal/inbox");
            render(&state, "portal_inbox.html", &base, minijinja::context! { items, unread, next })
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(rename = "_csrf")]
    csrf: String,
}

/// `POST /portal/inbox/read`: marks every notification read.
async fn read_all(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let lang = customer_lang(&headers, Some(&c));
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        let k = notify::for_customer(&state, &c.actor(), None).await?;
        Ok::<_, ApiError>(notify::mark_read(&state, &k, None).await?)
    };
    match run.await {
        Ok(_) => Redirect::to("/portal/inbox").into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

/// `GET /portal/inbox/{id}`: opens a notification: marks it read and goes to its case. (A GET that changes
/// only the reader's own read mark, which a forged link can at worst set early.)
async fn open(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = customer_lang(&headers, Some(&c));
    let run = async {
        let k = notify::for_customer(&state, &c.actor(), None).await?;
        Ok::<_, ApiError>(notify::open(&state, &k, &id).await?)
    };
    match run.await {
        Ok(n) => match (n.kind.as_str(), n.conversation_id) {
            // A data request's answer (`lifebuoy_app::privacy`) opens the request.
            (_, None) if n.link.as_deref().is_some_and(|l| l.starts_with("/portal/privacy/")) => {
                Redirect::to(n.link.as_deref().unwrap_or("/portal/inbox")).into_response()
            }
            ("transcript", _) | (_, None) => Redirect::to("/portal/inbox").into_response(),
            (_, Some(cid)) => Redirect::to(&format!("/portal/tickets/{cid}")).into_response(),
        },
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize, Default)]
struct Saved {
    saved: Option<String>,
}

/// `GET /portal/settings/notifications`: which kinds also come by mail.
async fn prefs_page(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Query(q): Query<Saved>,
) -> Response {
    let lang = customer_lang(&headers, Some(&c));
    let run = async {
        let k = notify::for_customer(&state, &c.actor(), None).await?;
        let p = notify::prefs(&state, &k).await?;
        Ok::<_, ApiError>((k, p))
    };
    match run.await {
        Ok((k, p)) => {
            let prefs: Vec<minijinja::Value> =
                p.into_iter().map(|(kind, email)| minijinja::context! { kind => kind.as_str(), email }).collect();
            let base = Base::new(&state, lang, Some(&c), "portal", "/portal/settings/notifications");
            let mailable = k.email.is_some() && k.kind != "visitor";
            render(
                &state,
                "portal_notify_prefs.html",
                &base,
                minijinja::context! { prefs, email => k.email, mailable, saved => q.saved.is_some() },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

/// `POST /portal/settings/notifications`: a checkbox per kind (checked: also by mail).
async fn save_prefs(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = customer_lang(&headers, Some(&c));
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, f.get("_csrf").map(String::as_str))?;
        let k = notify::for_customer(&state, &c.actor(), None).await?;
        for &kind in Kind::ALL {
            notify::set_pref(&state, &k, kind, f.contains_key(&format!("email_{kind}"))).await?;
        }
        Ok::<_, ApiError>(())
    };
    match run.await {
        Ok(()) => Redirect::to("/portal/settings/notifications?saved=1").into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize, Default)]
struct RateQuery {
    score: Option<i64>,
}

/// `GET /portal/rate/{id}?score=4`: the page a solved case's mail links to, the clicked score chosen. It shows
/// the case number only (a forwarded link shows nothing of the case). It records nothing by itself: mail scanners open every link of a mail, and five links would leave the last
/// score. The customer confirms (one more click, with an optional comment); the notification's id is the
/// token, so no sign-in is needed.
async fn rate_page(
    State(state): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RateQuery>,
) -> Response {
    let lang = customer_lang(&headers, c.as_ref());
    match notify::rating(&state, &id).await.map_err(ApiError::from) {
        Ok((t, rated)) => {
            let lang = Lang::parse(&t.lang).ok().filter(|_| c.is_none()).unwrap_or(lang);
            let base = Base::new(&state, lang, c.as_ref(), "portal", &format!("/portal/rate/{id}"));
            let score = q.score.filter(|s| (1..=5).contains(s)).or(rated.as_ref().map(|r| r.score));
            render(
                &state,
                "portal_rate.html",
                &base,
                minijinja::context! { id, case_number => t.case_number, score, rated, done => false },
            )
        }
        Err(e) => error_page(&state, lang, c.as_ref(), e),
    }
}

#[derive(Deserialize)]
struct RateForm {
    score: i64,
    comment: Option<String>,
}

/// `POST /portal/rate/{id}`: records the rating (rating again replaces it). From this site's own page only.
async fn rate(
    State(state): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<RateForm>,
) -> Response {
    let lang = customer_lang(&headers, c.as_ref());
    let run = async {
        check_same_origin(&headers)?;
        Ok::<_, ApiError>(notify::rate(&state, &id, f.score, f.comment.as_deref()).await?)
    };
    match run.await {
        Ok((t, rated)) => {
            let base = Base::new(&state, lang, c.as_ref(), "portal", &format!("/portal/rate/{id}"));
            render(
                &state,
                "portal_rate.html",
                &base,
                minijinja::context! { id, case_number => t.case_number, score => f.score, rated, done => true },
            )
        }
        Err(e) => error_page(&state, lang, c.as_ref(), e),
    }
}

/// `GET /console/notifications`: every template, by kind and language. Admins only.
async fn templates(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent, headers: HeaderMap) -> Response {
    let lang = agent_lang(&headers, &c);
    match notify::templates(&state, &c.actor()).await {
        Ok(list) => {
            let base = Base::new(&state, lang, Some(&c), "console", "/console/notifications");
            let kinds: Vec<minijinja::Value> = Kind::ALL
                .iter()
                .map(|k| {
                    let langs: Vec<&notify::Template> = list.iter().filter(|t| t.kind == *k).collect();
                    minijinja::context! { kind => k.as_str(), langs }
                })
                .collect();
            render(&state, "console_templates.html", &base, minijinja::context! { kinds })
        }
        Err(e) => error_page(&state, lang, Some(&c), e.into()),
    }
}

fn kind_lang(kind: &str, lang: &str) -> Result<(Kind, Lang), ApiError> {
    let k = Kind::parse(kind).map_err(|_| ApiError::not_found())?;
    let l = Lang::parse(lang).map_err(|_| ApiError::not_found())?;
    Ok((k, l))
}

/// `GET /console/notifications/{kind}/{lang}`: the editor, with the current text rendered on sample data.
async fn edit(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path((kind, tlang)): Path<(String, String)>,
    Query(q): Query<Saved>,
) -> Response {
    let lang = agent_lang(&headers, &c);
    let run = async {
        let (k, l) = kind_lang(&kind, &tlang)?;
        notify::templates(&state, &c.actor()).await?;
        let t = notify::template(&state, k, l).await?;
        let preview = notify::preview(&state, &c.actor(), l, &t.subject, &t.body)?;
        Ok::<_, ApiError>((t, preview))
    };
    match run.await {
        Ok((t, (ps, pb))) => editor(&state, &c, lang, &t, Some((ps, pb)), None, q.saved.is_some()),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[allow(clippy::too_many_arguments)]
fn editor(
    state: &AppState,
    c: &Caller,
    lang: Lang,
    t: &notify::Template,
    preview: Option<(String, String)>,
    problem: Option<String>,
    saved: bool,
) -> Response {
    let path = format!("/console/notifications/{}/{}", t.kind, t.lang);
    let base = Base::new(state, lang, Some(c), "console", &path);
    let builtin = notify::builtin(t.kind, t.lang);
    render(
        state,
        "console_template_edit.html",
        &base,
        minijinja::context! {
            t, path, saved, problem,
            preview_subject => preview.as_ref().map(|p| p.0.clone()),
            preview_body => preview.map(|p| p.1),
            builtin_subject => builtin.0, builtin_body => builtin.1,
        },
    )
}

#[derive(Deserialize)]
struct TemplateForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    subject: String,
    body: String,
    /// `preview` or `save`.
    action: String,
}

/// `POST /console/notifications/{kind}/{lang}`: previews (renders the edited text on sample data, saving
/// nothing) or saves. A text that does not render is shown back with the problem, unsaved and not lost.
async fn save(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path((kind, tlang)): Path<(String, String)>,
    Form(f): Form<TemplateForm>,
) -> Response {
    let lang = agent_lang(&headers, &c);
    let (k, l) = match kind_lang(&kind, &tlang) {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e),
    };
    if let Err(e) = check_same_origin(&headers).and_then(|_| check_form_token(&c, Some(&f.csrf))) {
        return error_page(&state, lang, Some(&c), e);
    }
    let current = match notify::template(&state, k, l).await {
        Ok(t) => t,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let edited = notify::Template { subject: f.subject.clone(), body: f.body.clone(), ..current };
    let actor = c.actor();
    if f.action == "save" {
        match notify::save_template(&state, &actor, k, l, &f.subject, &f.body).await {
            Ok(()) => return Redirect::to(&format!("/console/notifications/{k}/{l}?saved=1")).into_response(),
            Err(lifebuoy_app::AppError::Invalid { field, message }) => {
                return editor(&state, &c, lang, &edited, None, Some(format!("{field}: {message}")), false);
            }
            Err(e) => return error_page(&state, lang, Some(&c), e.into()),
        }
    }
    match notify::preview(&state, &actor, l, &f.subject, &f.body) {
        Ok(p) => editor(&state, &c, lang, &edited, Some(p), None, false),
        Err(lifebuoy_app::AppError::Invalid { field, message }) => {
            editor(&state, &c, lang, &edited, None, Some(format!("{field}: {message}")), false)
        }
        Err(e) => error_page(&state, lang, Some(&c), e.into()),
    }
}

/// `POST /console/notifications/{kind}/{lang}/reset`: back to the built-in text.
async fn reset(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path((kind, tlang)): Path<(String, String)>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let lang = agent_lang(&headers, &c);
    let run = async {
        let (k, l) = kind_lang(&kind, &tlang)?;
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        notify::reset_template(&state, &c.actor(), k, l).await?;
        Ok::<_, ApiError>((k, l))
    };
    match run.await {
        Ok((k, l)) => Redirect::to(&format!("/console/notifications/{k}/{l}?saved=1")).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}
