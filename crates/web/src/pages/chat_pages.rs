//! Live-chat pages: the embeddable `/widget.js`, the chat window it opens (`/chat/widget`, in an iframe), the
//! demo exchange page that embeds it, and the agents' real-time chat console (`/console/chats`).
//! The pages are shells; they talk to the server over the WebSocket protocol of `docs/chat-protocol.md`.

use super::{Base, DEMO_CUSTOMERS, error_page, render};
use crate::auth::{Caller, ConsoleAgent};
use crate::error::ApiError;
use crate::{AppState, i18n};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lifebuoy_domain::{Category, Lang};
use lifebuoy_store::{Principal, QueueFilter};
use serde::Deserialize;
use serde_json::{Value, json};

/// Templates of the chat pages (registered with the others in [`super::templates`]).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("chat_widget.html", include_str!("../../templates/chat_widget.html")),
    ("demo_exchange.html", include_str!("../../templates/demo_exchange.html")),
    ("console_chats.html", include_str!("../../templates/console_chats.html")),
];

/// Files served under `/static/` by these pages: (name, body, content type).
pub const STATIC: &[(&str, &str, &str)] = &[
    ("chat.css", include_str!("../../static/chat.css"), "text/css; charset=utf-8"),
    // The WebSocket client both chat pages load before their own script.
    ("chat-client.js", include_str!("../../static/chat-client.js"), "text/javascript; charset=utf-8"),
    ("chat-widget.js", include_str!("../../static/chat-widget.js"), "text/javascript; charset=utf-8"),
    ("console-chat.js", include_str!("../../static/console-chat.js"), "text/javascript; charset=utf-8"),
    ("demo-exchange.js", include_str!("../../static/demo-exchange.js"), "text/javascript; charset=utf-8"),
];

/// The loader the exchange embeds with `<script src="https://SUPPORT-HOST/widget.js" async>`.
const WIDGET_JS: &str = include_str!("../../static/widget.js");

/// The chat window is the one page other sites may frame; everything else keeps `frame-ancestors 'none'`
/// and `X-Frame-Options: DENY` (see [`crate::app`]).
pub const WIDGET_CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; \
    connect-src 'self'; frame-ancestors *; form-action 'self'; base-uri 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(widget_js))
        .route("/chat/widget", get(widget_page))
        .route("/demo/exchange", get(demo_exchange))
        .route("/demo/exchange/reauth", get(demo_reauth))
        .route("/console/chats", get(console_chats))
        .route("/console/chats/{id}/context", get(chat_context))
}

/// The strings a script needs, as JSON that is safe inside a `<script type="application/json">` block.
fn strings_json(lang: Lang, extra: Value) -> minijinja::Value {
    let t = i18n::dict(lang);
    let mut v = json!({
        "lang": lang.as_str(),
        "chat": t.get("chat").cloned().unwrap_or(Value::Null),
        "category": t.get("category").cloned().unwrap_or(Value::Null),
        "status": t.get("status").cloned().unwrap_or(Value::Null),
        "channel": t.get("records").and_then(|r| r.get("channel")).cloned().unwrap_or(Value::Null),
        "trust": t.get("trust").cloned().unwrap_or(Value::Null),
        "c2c": t.get("c2c").cloned().unwrap_or(Value::Null),
    });
    if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
        m.extend(e);
    }
    let s = v.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    minijinja::Value::from_safe_string(s)
}

async fn widget_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            // Exchanges load it cross-site; it is public code.
            (header::HeaderName::from_static("cross-origin-resource-policy"), "cross-origin"),
        ],
        WIDGET_JS,
    )
        .into_response()
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// `GET /chat/widget`: the chat window, framed by the exchange's page (or opened on its own).
async fn widget_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let lang = q.lang.as_deref().and_then(Lang::from_tag).unwrap_or_else(|| i18n::negotiate(&headers, None));
    let base = Base::new(&state, lang, None, "widget", "/chat/widget");
    let topics: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let strings = strings_json(lang, json!({}));
    let mut r = render(&state, "chat_widget.html", &base, minijinja::context! { strings, topics });
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(WIDGET_CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /demo/exchange/reauth?as=U10001`: the demo exchange's fresh sign-in (a real exchange asks for the
/// password or a passkey here): an identity token with `auth_time` now, for step-up and the emergency's
/// confirmation. Demo mode only.
async fn demo_reauth(State(state): State<AppState>, Query(q): Query<AsQuery>) -> Response {
    if !state.config.demo {
        return error_page(&state, Lang::En, None, ApiError::not_found());
    }
    let Some((uid, name, email, l)) = DEMO_CUSTOMERS.iter().find(|(uid, ..)| Some(*uid) == q.who.as_deref()) else {
        return error_page(&state, Lang::En, None, ApiError::not_found());
    };
    let now = chrono::Utc::now().timestamp();
    let token = crate::auth::sign_fresh_identity(
        &state.config.identity_secret.clone().unwrap_or_default(),
        &crate::auth::IdentityClaims {
            sub: uid.to_string(),
            email: Some(email.to_string()),
            name: Some(name.to_string()),
            lang: Some(l.to_string()),
            exp: now + 600,
            anti_phishing_code: None,
        },
        now,
    );
    // From the portal's emergency page: back to where it confirms, with the fresh token.
    if let Some(back) = q.back.as_deref().filter(|b| b.starts_with("/portal/emergency/") && !b.contains("//")) {
        return axum::response::Redirect::to(&format!("{back}?token={token}")).into_response();
    }
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(json!({ "token": token }))).into_response()
}

#[derive(Deserialize)]
struct AsQuery {
    #[serde(rename = "as")]
    who: Option<String>,
    /// `/demo/exchange/reauth` only: where to send the fresh token.
    back: Option<String>,
}

/// `GET /demo/exchange`: a sample exchange page embedding the widget, as a demo customer or a visitor.
async fn demo_exchange(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<AsQuery>) -> Response {
    let lang = i18n::negotiate(&headers, None);
    if !state.config.demo {
        return error_page(&state, lang, None, ApiError::not_found());
    }
    let who = q.who.unwrap_or_else(|| DEMO_CUSTOMERS[0].0.to_string());
    let secret = state.config.identity_secret.clone().unwrap_or_default();
    let me = DEMO_CUSTOMERS.iter().find(|(uid, ..)| *uid == who);
    let token = me.map(|(uid, name, email, l)| {
        crate::auth::sign_identity(
            &secret,
            &crate::auth::IdentityClaims {
                sub: uid.to_string(),
                email: Some(email.to_string()),
                name: Some(name.to_string()),
                lang: Some(l.to_string()),
                exp: chrono::Utc::now().timestamp() + 3600,
                anti_phishing_code: Some(format!("DEMO-{}", &uid[uid.len().saturating_sub(4)..])),
            },
        )
    });
    // The widget speaks the customer's language; a visitor gets the page's.
    let widget_lang = me.map(|(.., l)| l.to_string()).unwrap_or_else(|| lang.as_str().to_string());
    let customers: Vec<_> = DEMO_CUSTOMERS
        .iter()
        .map(|(uid, name, ..)| minijinja::context! { uid, name, current => *uid == who })
        .collect();
    // The customer's C2C orders, as the exchange's own order list would show them.
    let orders = match me {
        Some((uid, ..)) => {
            let exchange = lifebuoy_app::Actor::Integration { token_id: "demo-exchange".into(), name: "demo".into() };
            lifebuoy_app::c2c::orders_of_user(&state, &exchange, uid, 10).await.unwrap_or_default()
        }
        None => Vec::new(),
    };
    let orders: Vec<_> = orders
        .into_iter()
        .map(|o| {
            let side = if me.is_some_and(|(uid, ..)| *uid == o.buyer) { "buy" } else { "sell" };
            minijinja::context! { id => o.id, side, amount => o.amount, asset => o.asset, fiat => format!("{} {}", o.fiat_amount, o.fiat_currency), state => o.state }
        })
        .collect();
    let base = Base::new(&state, lang, None, "exchange", "/demo/exchange");
    render(
        &state,
        "demo_exchange.html",
        &base,
        minijinja::context! { customers, token, widget_lang, visitor => me.is_none(), orders },
    )
}

/// `GET /console/chats`: the agents' real-time chat console.
async fn console_chats(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent, headers: HeaderMap) -> Response {
    let Some(agent) = c.agent().cloned() else {
        return error_page(&state, Lang::ZhHans, None, ApiError::forbidden("agents only"));
    };
    let lang = i18n::negotiate(&headers, agent.languages.first().map(|l| l.as_str()));
    let run = async {
        let departments = state.store.departments().await?;
        let agents = state.store.agents().await?;
        let mut canned = Vec::new();
        for l in Lang::ALL {
            canned.extend(state.store.canned_replies(*l).await?);
        }
        Ok::<_, ApiError>((departments, agents, canned))
    };
    let (departments, agents, canned) = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e),
    };
    let supervisor = agent.role.sees_all();
    let extra = json!({
        "me": {"id": agent.id, "name": agent.display_name, "agent_no": agent.agent_no.as_str(), "supervisor": supervisor,
               "departments": agent.departments},
        "departments": departments.iter().map(|d| json!({"id": d.id, "name": d.name(lang)})).collect::<Vec<_>>(),
        "agents": agents.iter().filter(|a| a.active).map(|a| json!({"id": a.id, "name": a.display_name,
               "agent_no": a.agent_no.as_str()})).collect::<Vec<_>>(),
        "canned": canned,
        "console": i18n::dict(lang).get("console").cloned().unwrap_or(Value::Null),
        "status_agent": i18n::dict(lang).get("status_agent").cloned().unwrap_or(Value::Null),
    });
    let strings = strings_json(lang, extra);
    let base = Base::new(&state, lang, Some(&c), "console", "/console/chats");
    render(&state, "console_chats.html", &base, minijinja::context! { strings })
}

/// `GET /console/chats/{id}/context`: the customer beside a chat: profile, what the chat is about, and their
/// other chats and tickets (as far as this agent may see them).
async fn chat_context(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    Path(id): Path<String>,
) -> Response {
    match context_of(&state, &c, &id).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn context_of(state: &AppState, c: &Caller, id: &str) -> Result<Value, ApiError> {
    if !matches!(c.principal, Principal::Agent(_)) {
        return Err(ApiError::forbidden("agents only"));
    }
    let (conv, ch) = state.store.chat(id).await?.ok_or_else(ApiError::not_found)?;
    if !c.scope().permits(&conv) {
        return Err(ApiError::not_found());
    }
    let customer = state.store.customer(&conv.customer_id).await?.ok_or_else(ApiError::not_found)?;
    let history = state
        .store
        .list_conversations(
            &c.scope(),
            &QueueFilter { customer_id: Some(conv.customer_id.clone()), ..Default::default() },
            Default::default(),
            None,
            20,
        )
        .await?;
    let past: Vec<Value> = history
        .items
        .iter()
        .filter(|h| h.id != conv.id)
        .map(|h| {
            json!({"id": h.id, "kind": h.kind, "case_number": h.case_number, "subject": h.subject, "status": h.status,
                "created_at": h.created_at})
        })
        .collect();
    Ok(json!({
        "customer": {"name": customer.name, "email": customer.email, "external_id": customer.external_id,
            "kind": customer.kind, "lang": customer.lang, "since": customer.created_at},
        "chat": {"case_number": conv.case_number, "department": conv.department_id, "lang": conv.lang,
            "topic": ch.topic, "order_id": conv.order_id, "tx_hash": conv.tx_hash, "state": ch.state,
            "started_at": conv.created_at, "ticket_id": ch.ticket_id,
            "customer_delivered": ch.customer_delivered_seq, "customer_read": ch.customer_read_seq},
        "history": past,
    }))
}
