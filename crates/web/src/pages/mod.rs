//! Server-rendered pages: the customer portal, the agent console, the demo launcher. Templates, CSS and the
//! few lines of JavaScript are embedded in the binary; pages work without JavaScript, which only adds
//! keyboard shortcuts and local times.

pub mod account_pages;
pub mod alert_pages;
pub mod analytics_pages;
pub mod announce_pages;
pub mod appeal_pages;
pub mod chat_pages;
pub mod console;
pub mod help_pages;
pub mod jobs_console;
pub mod kb_console;
pub mod mail_console;
pub mod notify_pages;
pub mod portal;
pub mod privacy_console;
pub mod privacy_portal;
pub mod records_console;
pub mod records_portal;
pub mod routing_pages;
pub mod sla_pages;
pub mod trust_pages;

use crate::AppState;
use crate::auth::{Caller, SESSION_COOKIE, SESSION_TTL_MS};
use crate::error::ApiError;
use crate::i18n;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use lifebuoy_domain::Lang;
use minijinja::value::Kwargs;
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("demo.html", include_str!("../../templates/demo.html")),
    ("portal_home.html", include_str!("../../templates/portal_home.html")),
    ("portal_new.html", include_str!("../../templates/portal_new.html")),
    ("notices.html", include_str!("../../templates/notices.html")),
    ("portal_ticket.html", include_str!("../../templates/portal_ticket.html")),
    ("portal_sso.html", include_str!("../../templates/portal_sso.html")),
    ("console_login.html", include_str!("../../templates/console_login.html")),
    ("console_queue.html", include_str!("../../templates/console_queue.html")),
    ("console_ticket.html", include_str!("../../templates/console_ticket.html")),
    ("article.html", include_str!("../../templates/article.html")),
];

/// The template environment: autoescaping on for HTML, a `fill` filter for `{name}` placeholders in strings,
/// and `dt` for times. A missing variable renders as nothing.
pub fn templates() -> minijinja::Environment<'static> {
    templates_with(minijinja::UndefinedBehavior::Chainable)
}

/// [`templates`] with the given treatment of undefined variables (`SemiStrict` in tests: printing or iterating
/// a missing variable is an error, testing it in an `if` is not).
pub fn templates_with(undefined: minijinja::UndefinedBehavior) -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(undefined);
    for (name, src) in TEMPLATES
        .iter()
        .chain(chat_pages::TEMPLATES)
        .chain(help_pages::TEMPLATES)
        .chain(jobs_console::TEMPLATES)
        .chain(notify_pages::TEMPLATES)
        .chain(mail_console::TEMPLATES)
        .chain(records_console::TEMPLATES)
        .chain(records_portal::TEMPLATES)
        .chain(privacy_console::TEMPLATES)
        .chain(privacy_portal::TEMPLATES)
        .chain(trust_pages::TEMPLATES)
        .chain(appeal_pages::TEMPLATES)
        .chain(account_pages::TEMPLATES)
        .chain(announce_pages::TEMPLATES)
        .chain(analytics_pages::TEMPLATES)
        .chain(routing_pages::TEMPLATES)
        .chain(sla_pages::TEMPLATES)
        .chain(alert_pages::TEMPLATES)
    {
        env.add_template(name, src).expect("embedded templates compile (checked by a test)");
    }
    env.add_filter("fill", |s: String, kw: Kwargs| -> Result<String, minijinja::Error> {
        let mut out = s;
        for k in kw.args() {
            let v: minijinja::Value = kw.get(k)?;
            out = out.replace(&format!("{{{k}}}"), &v.to_string());
        }
        Ok(out)
    });
    // JSON for a `<script type="application/json">` block or a single-quoted attribute: `<`, `>`, `&` and `'`
    // escaped as JSON escapes, so the text can neither close the element nor the attribute.
    env.add_filter("tojson", |v: minijinja::Value| -> Result<minijinja::Value, minijinja::Error> {
        let s = serde_json::to_string(&v)
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))?;
        let s = s.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026").replace('\'', "\\u0027");
        Ok(minijinja::Value::from_safe_string(s))
    });
    env.add_filter("dt", |ms: i64| -> String {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    });
    env.add_filter("dt_text", |ms: i64| -> String {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    });
    env
}

/// A clock's time left (or overdue) in the page's words: at most two units ("3 h 5 min", "2 天 4 小时").
pub(crate) fn sla_span(t: &serde_json::Value, ms: i64) -> String {
    let ms = ms.abs();
    let unit = |u: &str| t["sla"]["units"][u].as_str().unwrap_or(u).to_string();
    if ms < 60_000 {
        return t["sla"]["under_minute"].as_str().unwrap_or("<1 min").to_string();
    }
    let (d, h, m) = (ms / 86_400_000, ms % 86_400_000 / 3_600_000, ms % 3_600_000 / 60_000);
    let parts: Vec<String> = if d > 0 {
        vec![format!("{d}{}", unit("d")), format!("{h}{}", unit("h"))]
    } else if h > 0 {
        vec![format!("{h}{}", unit("h")), format!("{m}{}", unit("m"))]
    } else {
        vec![format!("{m}{}", unit("m"))]
    };
    parts.join(" ")
}

/// A target in whole units as a promise reads it: "30 minutes", "4 hours", "1 天".
pub(crate) fn sla_target(t: &serde_json::Value, minutes: i64) -> String {
    let n = &t["sla"]["n"];
    let word = |k: &str, v: i64| {
        let one = format!("{k}1");
        if v == 1 {
            n[one.as_str()].as_str().unwrap_or("1").to_string()
        } else {
            n[k].as_str().unwrap_or("{n}").replace("{n}", &v.to_string())
        }
    };
    if minutes % 1440 == 0 {
        word("d", minutes / 1440)
    } else if minutes % 60 == 0 {
        word("h", minutes / 60)
    } else {
        word("m", minutes)
    }
}

/// A kept clock as a list shows it: `{state, text, due}` (state as of `now`; text "25 min left"/"超时 3 分钟").
pub(crate) fn sla_cell(t: &serde_json::Value, k: &lifebuoy_store::KeptClock, now: i64) -> minijinja::Value {
    let state = k.state_at(now);
    let text = match state {
        "ok" | "warning" => t["sla"]["left"].as_str().unwrap_or("{t}").replace("{t}", &sla_span(t, k.due_at - now)),
        "breached" if k.due_at != lifebuoy_store::NO_CLOCK => {
            t["sla"]["over"].as_str().unwrap_or("{t}").replace("{t}", &sla_span(t, now - k.due_at))
        }
        s => t["sla"]["state"][s].as_str().unwrap_or(s).to_string(),
    };
    minijinja::context! { state => state, text => text, due => k.due_at }
}

/// Context every page gets.
#[derive(Serialize)]
pub struct Base<'a> {
    pub lang: &'static str,
    #[serde(rename = "T")]
    pub t: &'static serde_json::Value,
    pub csrf: Option<&'a str>,
    pub area: &'static str,
    pub user_name: Option<String>,
    pub demo: bool,
    pub path: String,
    /// An admin is signed in (the console shows the admins' pages in its menu).
    pub admin: bool,
    /// A supervisor or an admin is signed in (the access log is theirs).
    pub supervisor: bool,
    /// The console's menu offers the C2C appeal queue: to overseers and to the risk department (where arbiters
    /// are; the queue itself checks the permission).
    pub appeals: bool,
}

impl<'a> Base<'a> {
    pub fn new(state: &AppState, lang: Lang, caller: Option<&'a Caller>, area: &'static str, path: &str) -> Self {
        let user_name = caller.map(|c| match &c.principal {
            lifebuoy_store::Principal::Agent(a) => format!("{} · {}", a.display_name, a.agent_no),
            lifebuoy_store::Principal::Customer(c) => c.name.clone().or(c.email.clone()).unwrap_or_default(),
            lifebuoy_store::Principal::Integration { name, .. } => name.clone(),
        });
        Base {
            lang: lang.as_str(),
            t: i18n::dict(lang),
            csrf: caller.and_then(|c| c.csrf.as_deref()),
            area,
            user_name,
            demo: state.config.demo,
            path: path.to_string(),
            admin: caller.and_then(|c| c.agent()).is_some_and(|a| a.role == lifebuoy_domain::Role::Admin),
            supervisor: caller.and_then(|c| c.agent()).is_some_and(|a| a.role.sees_all()),
            appeals: caller
                .and_then(|c| c.agent())
                .is_some_and(|a| a.role.sees_all() || a.departments.iter().any(|d| d == "risk")),
        }
    }
}

/// The announcements showing now, in `lang`, for a page's `notices.html` (none, logged, if they cannot be read:
/// a notice never keeps a page from showing).
pub async fn notices(state: &AppState, lang: Lang) -> Vec<lifebuoy_app::announcements::Shown> {
    lifebuoy_app::announcements::live(state, lang).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "announcements could not be read");
        Vec::new()
    })
}

/// The language of a console page: the switcher's cookie, then the agent's first language, then the browser's.
pub fn console_lang(headers: &HeaderMap, c: &Caller) -> Lang {
    let profile = c.agent().and_then(|a| a.languages.first()).map(|l| l.as_str());
    i18n::negotiate(headers, profile)
}

/// After a console form: back to `to` with `query` (`saved=1`, `done=…`) when it worked; a refusal of the
/// input goes back with `bad=` and the reason in the reader's language; anything else is an error page.
/// `anchor` (may be empty) is the part of the page to show.
pub fn after_form(
    state: &AppState,
    lang: Lang,
    c: &Caller,
    r: Result<String, ApiError>,
    to: &str,
    anchor: &str,
) -> Response {
    let hash = if anchor.is_empty() { String::new() } else { format!("#{anchor}") };
    match r {
        Ok(query) => Redirect::to(&format!("{to}?{query}{hash}")).into_response(),
        Err(e) if e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let msg = crate::error::translate(lang, e.code, &e.message);
            Redirect::to(&format!("{to}?bad={}{hash}", enc(&msg))).into_response()
        }
        Err(e) => error_page(state, lang, Some(c), e),
    }
}

/// Percent-encodes a value for a URL's query (every byte but the unreserved ones).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Renders a template with the base context merged in.
pub fn render(state: &AppState, name: &str, base: &Base, ctx: minijinja::Value) -> Response {
    let tpl = match state.templates.get_template(name) {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    match tpl.render(minijinja::context! { base => base, ..ctx }) {
        Ok(html) => Html(html).into_response(),
        Err(e) => internal(e),
    }
}

fn internal(e: minijinja::Error) -> Response {
    tracing::error!(error = %e, "template failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
}

/// An error shown as a page, in the reader's language.
pub fn error_page(state: &AppState, lang: Lang, caller: Option<&Caller>, e: ApiError) -> Response {
    let base = Base::new(state, lang, caller, "portal", "");
    let message = crate::error::translate(lang, e.code, &e.message);
    let mut r = render(state, "error.html", &base, minijinja::context! { code => e.code, message => message });
    *r.status_mut() = e.status;
    if let Some(s) = e.retry_after_s {
        r.headers_mut().insert(header::RETRY_AFTER, s.max(1).into());
    }
    r
}

/// Starts a browser session and returns its `Set-Cookie` value.
pub async fn start_session(state: &AppState, kind: &str, id: &str) -> Result<String, ApiError> {
    let (token, _csrf) = state.store.create_session(kind, id, SESSION_TTL_MS).await?;
    Ok(session_cookie(state, &token, SESSION_TTL_MS / 1000))
}

fn session_cookie(state: &AppState, value: &str, max_age_s: i64) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{}",
        if state.config.https() { "; Secure" } else { "" }
    )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/portal") }))
        .route("/static/{file}", get(static_file))
        .route("/lang/{code}", get(switch_lang))
        .route("/logout", axum::routing::post(logout))
        .route("/demo", get(demo))
        .route("/demo/exchange/webhook", axum::routing::post(demo_webhook))
        .route("/demo/exchange/customer-context", axum::routing::post(demo_customer_context))
        .merge(portal::router())
        .merge(console::router())
        .merge(chat_pages::router())
        .merge(help_pages::router())
        .merge(jobs_console::router())
        .merge(notify_pages::router())
        .merge(mail_console::router())
        .merge(records_console::router())
        .merge(records_portal::router())
        .merge(privacy_console::router())
        .merge(privacy_portal::router())
        .merge(trust_pages::router())
        .merge(appeal_pages::router())
        .merge(account_pages::router())
        .merge(announce_pages::router())
        .merge(analytics_pages::router())
        .merge(routing_pages::router())
        .merge(sla_pages::router())
        .merge(alert_pages::router())
}

async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ct): (&'static str, &str) = match file.as_str() {
        "app.css" => (include_str!("../../static/app.css"), "text/css; charset=utf-8"),
        "app.js" => (include_str!("../../static/app.js"), "text/javascript; charset=utf-8"),
        "sso.js" => (include_str!("../../static/sso.js"), "text/javascript; charset=utf-8"),
        other => match chat_pages::STATIC
            .iter()
            .chain(help_pages::STATIC)
            .chain(trust_pages::STATIC)
            .find(|(n, _, _)| *n == other)
        {
            Some((_, body, ct)) => (body, ct),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    ([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, "public, max-age=300")], body).into_response()
}

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// Only local paths are followed after a switch, so the switcher cannot be used as an open redirect: one `/`
/// and then not another `/` (nor a `\\`), no backslashes, no control characters or spaces (browsers drop tabs
/// and newlines, so `/\t/evil.example` would become `//evil.example`). Other characters outside ASCII are
/// percent-encoded.
fn local_path(p: Option<&str>) -> String {
    let Some(p) = p else { return "/".into() };
    let ok = p.starts_with('/')
        && !p[1..].starts_with(['/', '\\'])
        && !p.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    if !ok {
        return "/".into();
    }
    let mut out = String::with_capacity(p.len());
    for c in p.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

async fn switch_lang(State(state): State<AppState>, Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    let Ok(lang) = Lang::parse(&code) else { return StatusCode::NOT_FOUND.into_response() };
    (
        [(
            header::SET_COOKIE,
            format!(
                "{}={}; Path=/; SameSite=Lax; Max-Age=31536000{}",
                i18n::LANG_COOKIE,
                lang.as_str(),
                if state.config.https() { "; Secure" } else { "" }
            ),
        )],
        Redirect::to(&local_path(q.back.as_deref())),
    )
        .into_response()
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(&headers);
    let caller = crate::auth::resolve(&state, &headers).await.ok().flatten();
    let was_agent = caller.as_ref().is_some_and(|c| c.is_staff());
    if crate::auth::check_same_origin(&headers).is_ok()
        && let Some(c) = jar.get(SESSION_COOKIE)
    {
        // Ends the session and closes the WebSockets it opened (the console's live chat).
        let who = caller.as_ref().and_then(|c| match &c.principal {
            lifebuoy_store::Principal::Agent(a) => Some(("agent", a.id.clone())),
            lifebuoy_store::Principal::Customer(k) => Some(("customer", k.id.clone())),
            lifebuoy_store::Principal::Integration { .. } => None,
        });
        let ended = match &who {
            Some((kind, id)) => {
                let one = lifebuoy_app::accounts::Ending::One(c.value());
                state.app.end_sessions(kind, id, one).await.map(|_| ()).map_err(ApiError::from)
            }
            None => state.store.delete_session(c.value()).await.map_err(ApiError::from),
        };
        if let Err(e) = ended {
            // The session may still stand: say so rather than pretend the sign-out worked.
            let lang = i18n::negotiate(&headers, None);
            return error_page(&state, lang, caller.as_ref(), e);
        }
    }
    (
        [(header::SET_COOKIE, session_cookie(&state, "", 0))],
        Redirect::to(if was_agent { "/console/login" } else { "/portal" }),
    )
        .into_response()
}

/// Demo customers, whose sign-in links the demo page shows: (exchange uid, name, email, lang).
pub const DEMO_CUSTOMERS: &[(&str, &str, &str, &str)] = &[
    ("U10001", "张伟", "zhangwei@demo.lifebuoy.dev", "zh-Hans"),
    ("U10002", "陳美玲", "meiling@demo.lifebuoy.dev", "zh-Hant"),
    ("U10003", "Alex Morgan", "alex@demo.lifebuoy.dev", "en"),
];

/// The secret the demo exchange's webhook endpoint is registered with (`serve --demo`).
pub const DEMO_WEBHOOK_SECRET: &str = "demo-exchange-webhook-secret";

/// `POST /demo/exchange/webhook` (`serve --demo` only): the demo exchange's receiver. It checks the signature as an
/// exchange would, logs the event, and carries out an appeal's decision a moment later, reporting it back through
/// the order-event use case as the exchange's core would (`released` for the buyer, `cancelled` otherwise).
async fn demo_webhook(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if !state.config.demo {
        return StatusCode::NOT_FOUND.into_response();
    }
    let sig = headers.get(lifebuoy_app::signing::HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let now = lifebuoy_store::now_ms() / 1000;
    if !lifebuoy_app::signing::verify(DEMO_WEBHOOK_SECRET.as_bytes(), sig, &body, now, 300) {
        tracing::warn!("demo exchange: a webhook with a bad signature was refused");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let kind = v["type"].as_str().unwrap_or("").to_string();
    tracing::info!(event = %kind, id = v["id"].as_str().unwrap_or(""), "demo exchange: signed webhook received");
    if kind == "appeal.decided"
        && let (Some(order), Some(decision)) =
            (v["data"]["order"]["id"].as_str(), v["data"]["appeal"]["decision"].as_str())
    {
        let (app, order) = (state.app.clone(), order.to_string());
        let event = if decision == "release_to_buyer" { "released" } else { "cancelled" };
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            let exchange = lifebuoy_app::Actor::Integration { token_id: "demo-exchange".into(), name: "demo".into() };
            let input = lifebuoy_app::c2c::OrderEventInput { event: event.into(), at: None };
            match lifebuoy_app::c2c::order_event(&app, &exchange, &order, input).await {
                Ok(r) => {
                    tracing::info!(%order, %event, executed = r.appeal.is_some(), "demo exchange: decision carried out")
                }
                Err(e) => tracing::warn!(%order, error = %e, "demo exchange: could not report the decision"),
            }
        });
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The secret the demo exchange's customer-context endpoint checks (`serve --demo`).
pub const DEMO_CONTEXT_SECRET: &str = "demo-exchange-context-secret";

/// `POST /demo/exchange/customer-context` (`serve --demo` only): the demo exchange's answer to the account lookup
/// (docs/customer-context.md). It checks the signature as an exchange would and answers for the demo's three
/// users, with their C2C orders as the desk knows them; `404` for anyone else.
async fn demo_customer_context(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    use serde_json::json;
    if !state.config.demo {
        return StatusCode::NOT_FOUND.into_response();
    }
    let sig = headers.get(lifebuoy_app::signing::HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let now_s = lifebuoy_store::now_ms() / 1000;
    if !lifebuoy_app::signing::verify(DEMO_CONTEXT_SECRET.as_bytes(), sig, &body, now_s, 300) {
        tracing::warn!("demo exchange: a customer-context lookup with a bad signature was refused");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let uid = v["user_id"].as_str().unwrap_or("");
    let now = lifebuoy_store::now_ms();
    let (h, d) = (3_600_000i64, 86_400_000i64);
    let tx = |seed: &str| {
        use sha2::Digest;
        format!("0x{}", hex::encode(sha2::Sha256::digest(format!("{uid}{seed}").as_bytes())))
    };
    let (kyc, vip, account_state, reason, registered, deposits, withdrawals) = match uid {
        "U10001" => (
            "L2",
            "VIP1",
            "normal",
            None,
            now - 420 * d,
            json!([
                {"asset": "USDT", "amount": "1200", "network": "TRC20", "status": "credited", "tx_hash": tx("d1"), "at": now - 2 * d},
                {"asset": "BTC", "amount": "0.015", "network": "Bitcoin", "status": "confirming (2/3)", "tx_hash": tx("d2"), "at": now - h},
            ]),
            json!([
                {"asset": "USDT", "amount": "500", "network": "ERC20", "status": "completed", "tx_hash": tx("w1"), "at": now - 9 * d},
            ]),
        ),
        "U10002" => (
            "L3",
            "VIP2",
            "restricted",
            Some("C2C 申訴處理中：暫停提幣，其他功能正常"),
            now - 900 * d,
            json!([
                {"asset": "USDT", "amount": "25000", "network": "TRC20", "status": "credited", "tx_hash": tx("d1"), "at": now - 5 * d},
            ]),
            json!([
                {"asset": "USDT", "amount": "3000", "network": "TRC20", "status": "on hold", "tx_hash": null, "at": now - 3 * h},
            ]),
        ),
        "U10003" => ("L1", "VIP0", "normal", None, now - 30 * d, json!([]), json!([])),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let exchange = lifebuoy_app::Actor::Integration { token_id: "demo-exchange".into(), name: "demo".into() };
    let orders: Vec<serde_json::Value> = lifebuoy_app::c2c::orders_of_user(&state, &exchange, uid, 20)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| !o.state().is_final())
        .map(|o| {
            json!({
                "id": o.id, "side": if o.buyer == uid { "buy" } else { "sell" }, "asset": o.asset, "amount": o.amount,
                "fiat_amount": o.fiat_amount, "fiat_currency": o.fiat_currency, "state": o.state,
            })
        })
        .collect();
    let mut answer = json!({
        "user_id": uid, "kyc_level": kyc, "vip_tier": vip, "account_state": account_state,
        "registered_at": registered, "deposits": deposits, "withdrawals": withdrawals, "c2c_orders": orders,
    });
    if let Some(r) = reason {
        answer["state_reason"] = json!(r);
    }
    (StatusCode::OK, axum::Json(answer)).into_response()
}

async fn demo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = i18n::negotiate(&headers, None);
    if !state.config.demo {
        return error_page(&state, lang, None, ApiError::not_found());
    }
    let secret = state.config.identity_secret.clone().unwrap_or_default();
    let exp = chrono::Utc::now().timestamp() + 3600;
    let customers: Vec<_> = DEMO_CUSTOMERS
        .iter()
        .map(|(uid, name, email, l)| {
            let token = crate::auth::sign_identity(
                &secret,
                &crate::auth::IdentityClaims {
                    sub: uid.to_string(),
                    email: Some(email.to_string()),
                    name: Some(name.to_string()),
                    lang: Some(l.to_string()),
                    exp,
                    anti_phishing_code: Some(format!("DEMO-{}", &uid[uid.len().saturating_sub(4)..])),
                },
            );
            minijinja::context! { uid, name, email, token }
        })
        .collect();
    let agents = state.store.agents().await.unwrap_or_default();
    let base = Base::new(&state, lang, None, "portal", "/demo");
    render(&state, "demo.html", &base, minijinja::context! { customers, agents })
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_compile() {
        let env = super::templates();
        let all = super::TEMPLATES.len()
            + super::chat_pages::TEMPLATES.len()
            + super::help_pages::TEMPLATES.len()
            + super::jobs_console::TEMPLATES.len()
            + super::notify_pages::TEMPLATES.len()
            + super::mail_console::TEMPLATES.len()
            + super::records_console::TEMPLATES.len()
            + super::records_portal::TEMPLATES.len()
            + super::privacy_console::TEMPLATES.len()
            + super::privacy_portal::TEMPLATES.len()
            + super::trust_pages::TEMPLATES.len()
            + super::appeal_pages::TEMPLATES.len()
            + super::account_pages::TEMPLATES.len()
            + super::announce_pages::TEMPLATES.len()
            + super::analytics_pages::TEMPLATES.len()
            + super::routing_pages::TEMPLATES.len()
            + super::sla_pages::TEMPLATES.len()
            + super::alert_pages::TEMPLATES.len();
        assert_eq!(env.templates().count(), all);
    }

    #[test]
    fn switcher_follows_only_local_paths() {
        assert_eq!(super::local_path(Some("/portal?x=1")), "/portal?x=1");
        assert_eq!(super::local_path(Some("//evil.example")), "/");
        assert_eq!(super::local_path(Some("https://evil.example")), "/");
        for bad in ["/\t/evil.example", "/\\evil.example", "/\n/evil.example", "/ /evil.example", "\\/evil.example"] {
            assert_eq!(super::local_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(super::local_path(None), "/");
        assert_eq!(super::local_path(Some("/help/zh-Hans/搜")), "/help/zh-Hans/%E6%90%9C");
    }
}
