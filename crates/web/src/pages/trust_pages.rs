//! Trust and safety pages (issue 16): the public "is this official?" check in the help center
//! (`/help/{lang}/official`, with its one-click report to the risk department) and the registry of official
//! channels in the console (`/console/trust`: every agent reads it, admins edit it). The rules are
//! `lifebuoy_app::trust`.

use super::console_lang as lang_of;
use super::{Base, enc, error_page, render};
use crate::auth::{Caller, ConsoleAgent, MaybeCaller, PortalCustomer, check_form_token, check_same_origin};
use crate::error::ApiError;
use crate::{AppState, i18n};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_app::trust::emergency;
use lifebuoy_app::{AppError, trust};
use lifebuoy_domain::Lang;
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("help_official.html", include_str!("../../templates/help_official.html")),
    ("console_trust.html", include_str!("../../templates/console_trust.html")),
    ("portal_emergency.html", include_str!("../../templates/portal_emergency.html")),
];

/// Scripts served under `/static/`.
pub const STATIC: &[(&str, &str, &str)] = &[
    ("secret-guard.js", include_str!("../../static/secret-guard.js"), "text/javascript; charset=utf-8"),
    ("link-guard.js", include_str!("../../static/link-guard.js"), "text/javascript; charset=utf-8"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/trust/words.js", get(words_js))
        .route("/help/official", get(official_root))
        .route("/help/{lang}/official", get(official_page))
        .route("/help/{lang}/official/report", post(official_report))
        .route("/console/trust", get(console))
        .route("/console/trust/add", post(add))
        .route("/console/trust/remove", post(remove))
        .route("/portal/emergency", post(portal_emergency))
        .route("/portal/emergency/{id}", get(portal_emergency_page))
        .route("/portal/emergency/{id}/confirm", get(portal_emergency_confirm))
}

/// `GET /trust/words.js`: the BIP39 word lists for the browser's secret guard (built once, cached a day).
async fn words_js() -> Response {
    static JS: std::sync::LazyLock<String> = std::sync::LazyLock::new(trust::secrets::word_lists_js);
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        JS.as_str(),
    )
        .into_response()
}

/// `GET /help/official`: the check in the reader's language (what the widget and mails link to).
async fn official_root(headers: HeaderMap, Query(q): Query<CheckQuery>) -> Response {
    let lang = i18n::negotiate(&headers, None);
    let tail = q.value.map(|v| format!("?value={}", enc(&v))).unwrap_or_default();
    ([(header::VARY, "Accept-Language, Cookie")], Redirect::to(&format!("/help/{}/official{tail}", lang.as_str())))
        .into_response()
}

#[derive(Deserialize, Default)]
struct CheckQuery {
    value: Option<String>,
    reported: Option<String>,
}

/// `GET /help/{lang}/official?value=`: the check, its verdict, and the official channels listed.
async fn official_page(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(lang): Path<String>,
    Query(q): Query<CheckQuery>,
) -> Response {
    let Ok(lang) = Lang::parse(&lang) else {
        return error_page(&state, Lang::ZhHans, None, ApiError::not_found());
    };
    let value =
        q.value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| v.chars().take(512).collect::<String>());
    let (verdict, bad) = match &value {
        Some(v) => match trust::verify(&state, v).await {
            Ok(v) => (Some(v), false),
            Err(AppError::Invalid { .. }) => (None, true),
            Err(e) => return error_page(&state, lang, None, e.into()),
        },
        None => (None, false),
    };
    let listed = match trust::public_channels(&state).await {
        Ok(l) => l,
        Err(e) => return error_page(&state, lang, None, e.into()),
    };
    let groups: Vec<minijinja::Value> = trust::channels::ChannelKind::REGISTRY
        .iter()
        .filter_map(|k| {
            let items: Vec<&lifebuoy_store::TrustChannel> = listed.iter().filter(|e| e.kind == k.as_str()).collect();
            (!items.is_empty()).then(|| minijinja::context! { kind => k.as_str(), items })
        })
        .collect();
    let path = format!("/help/{}/official", lang.as_str());
    let base = Base::new(&state, lang, caller.as_ref(), "help", &path);
    render(
        &state,
        "help_official.html",
        &base,
        minijinja::context! {
            langs => super::help_pages::same_page_menu("/official"), hl => lang.as_str(),
            value, verdict, bad, groups, reported => q.reported.map(|r| r.chars().take(40).collect::<String>()),
        },
    )
}

#[derive(Deserialize)]
struct ReportForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
    value: String,
    note: Option<String>,
}

/// `POST /help/{lang}/official/report`: the one-click report; back to the check with the case number.
async fn official_report(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Path(lang): Path<String>,
    Form(f): Form<ReportForm>,
) -> Response {
    let lang = Lang::parse(&lang).unwrap_or(Lang::ZhHans);
    let run = async {
        check_same_origin(&headers)?;
        if let Some(c) = &caller {
            check_form_token(c, f.csrf.as_deref())?;
        }
        let actor = caller.as_ref().map(Caller::actor);
        Ok::<_, ApiError>(trust::report(&state, actor.as_ref(), &f.value, f.note.as_deref(), lang).await?)
    };
    match run.await {
        Ok((_, case)) => Redirect::to(&format!(
            "/help/{}/official?value={}&reported={}",
            lang.as_str(),
            enc(&f.value),
            enc(case.case_number.as_deref().unwrap_or("ok"))
        ))
        .into_response(),
        Err(e) => error_page(&state, lang, caller.as_ref(), e),
    }
}

#[derive(Deserialize, Default)]
struct Notice {
    added: Option<String>,
    removed: Option<String>,
    bad: Option<String>,
    check: Option<String>,
}

/// `GET /console/trust`: the registry; admins see the forms that edit it. A quick check box for every agent.
async fn console(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let listed = match trust::channels(&state, &c.actor()).await {
        Ok(l) => l,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let check =
        n.check.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| v.chars().take(512).collect::<String>());
    let verdict = match &check {
        Some(v) => trust::verify(&state, v).await.ok(),
        None => None,
    };
    let clip = |s: Option<String>| s.map(|s| s.chars().take(300).collect::<String>());
    let base = Base::new(&state, lang, Some(&c), "console", "/console/trust");
    let can_edit = base.admin;
    render(
        &state,
        "console_trust.html",
        &base,
        minijinja::context! {
            listed, can_edit, kinds => trust::channels::ChannelKind::REGISTRY.map(|k| k.as_str()),
            added => clip(n.added), removed => clip(n.removed), bad => n.bad.is_some(), check, verdict,
        },
    )
}

#[derive(Deserialize)]
struct AddForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    kind: String,
    value: String,
    label: String,
}

/// `POST /console/trust/add`: adds an official channel (admins).
async fn add(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<AddForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        Ok::<_, ApiError>(trust::put_channel(&state, &c.actor(), &f.kind, &f.value, &f.label).await)
    };
    match run.await {
        Ok(Ok(ch)) => Redirect::to(&format!("/console/trust?added={}", enc(&ch.value))).into_response(),
        Ok(Err(AppError::Invalid { .. })) => Redirect::to("/console/trust?bad=1").into_response(),
        Ok(Err(e)) => error_page(&state, lang, Some(&c), e.into()),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    id: String,
    value: Option<String>,
}

/// `POST /console/trust/remove`: removes an official channel (admins).
async fn remove(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<RemoveForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        Ok::<_, ApiError>(trust::remove_channel(&state, &c.actor(), &f.id).await?)
    };
    match run.await {
        Ok(_) => {
            Redirect::to(&format!("/console/trust?removed={}", enc(f.value.as_deref().unwrap_or("")))).into_response()
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(rename = "_csrf")]
    csrf: String,
}

fn portal_lang(headers: &HeaderMap, c: &Caller) -> Lang {
    let profile = match &c.principal {
        lifebuoy_store::Principal::Customer(k) => k.lang.clone(),
        _ => None,
    };
    i18n::negotiate(headers, profile.as_deref())
}

/// `POST /portal/emergency`: "my account may be stolen" from the portal: the urgent case, then its page.
async fn portal_emergency(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let lang = portal_lang(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        Ok::<_, ApiError>(emergency::open(&state, &c.actor(), None).await?)
    };
    match run.await {
        Ok((e, _)) => Redirect::to(&format!("/portal/emergency/{}", e.id)).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

/// `GET /portal/emergency/{id}`: the emergency's state; while it waits, how to confirm (in demo mode, the demo
/// exchange's sign-in, which comes back to `/confirm` with a fresh token).
async fn portal_emergency_page(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = portal_lang(&headers, &c);
    let run = async {
        let e = emergency::view(&state, &c.actor(), &id).await?;
        let conv = lifebuoy_app::tickets::visible(&state, &c.actor(), &e.conversation_id).await?;
        Ok::<_, AppError>((e, conv.case_number))
    };
    let (e, case_number) = match run.await {
        Ok(v) => v,
        Err(err) => return error_page(&state, lang, Some(&c), err.into()),
    };
    let external = c.actor().customer().and_then(|k| k.external_id.clone());
    let reauth_url = match (state.config.demo, external) {
        (true, Some(uid)) => Some(format!(
            "/demo/exchange/reauth?as={}&back={}",
            enc(&uid),
            enc(&format!("/portal/emergency/{}/confirm", e.id))
        )),
        _ => None,
    };
    let base = Base::new(&state, lang, Some(&c), "portal", &format!("/portal/emergency/{id}"));
    render(&state, "portal_emergency.html", &base, minijinja::context! { e, case_number, reauth_url })
}

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

/// `GET /portal/emergency/{id}/confirm?token=`: where the exchange's sign-in sends the customer back with a fresh
/// identity token; confirms the emergency and shows its page.
async fn portal_emergency_confirm(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let lang = portal_lang(&headers, &c);
    let run = async {
        let fresh = state.identity.verify_fresh(&q.token)?;
        Ok::<_, ApiError>(emergency::confirm(&state, &c.actor(), &id, &fresh).await?)
    };
    match run.await {
        Ok(_) => Redirect::to(&format!("/portal/emergency/{id}")).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}
