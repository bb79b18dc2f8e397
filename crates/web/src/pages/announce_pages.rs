//! Announcements in the console (issue 13): the list and the publish form (`/console/announcements`), and one
//! notice with its linked cases, the form that links more, the answer sent to all of them, and withdraw
//! (`/console/announcements/{id}`). The rules are `lifebuoy_app::announcements`'s.

use super::console_lang as lang_of;
use super::{Base, enc, error_page, render};
use crate::AppState;
use crate::auth::{Caller, ConsoleAgent, check_form_token, check_same_origin};
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_app::announcements::{self, Publish, TimeIn};
use lifebuoy_domain::{Category, Lang, Status};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

pub const TEMPLATES: &[(&str, &str)] = &[
    ("console_announcements.html", include_str!("../../templates/console_announcements.html")),
    ("console_announcement.html", include_str!("../../templates/console_announcement.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/announcements", get(list).post(publish))
        .route("/console/announcements/{id}", get(show))
        .route("/console/announcements/{id}/withdraw", post(withdraw))
        .route("/console/announcements/{id}/cases", post(link))
        .route("/console/announcements/{id}/answer", post(answer))
}

#[derive(Deserialize, Default)]
struct Notice {
    done: Option<String>,
    bad: Option<String>,
    /// A trend alert's "draft an announcement": the topic's category and asset.
    draft_topic: Option<String>,
    draft_asset: Option<String>,
}

/// The publish form filled in for a trend (an incident on `topic`, perhaps one asset), in the three languages,
/// for six hours from now.
fn draft(topic: Option<&str>, asset: Option<&str>) -> Option<serde_json::Value> {
    let cat = Category::parse(topic?).ok()?;
    let asset: String = asset.unwrap_or_default().chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect();
    let asset = asset.to_ascii_uppercase();
    let mut title = serde_json::Map::new();
    let mut body = serde_json::Map::new();
    for lang in [Lang::ZhHans, Lang::ZhHant, Lang::En] {
        let d = crate::i18n::dict(lang);
        let name = d["category"][cat.as_str()].as_str().unwrap_or(cat.as_str());
        // Latin between Chinese characters is set off by spaces ("关于 USDT 提币问题"); in English, before the noun.
        let a = match (asset.is_empty(), lang) {
            (true, _) => String::new(),
            (false, Lang::En) => format!("{asset} "),
            (false, _) => format!(" {asset} "),
        };
        let fill =
            |k: &str| d["sla"]["alerts"][k].as_str().unwrap_or_default().replace("{asset}", &a).replace("{cat}", name);
        title.insert(lang.as_str().into(), fill("draft_title").into());
        body.insert(lang.as_str().into(), fill("draft_body").into());
    }
    let ends = chrono::Utc::now() + chrono::Duration::hours(6);
    Some(serde_json::json!({"topic": cat.as_str(), "title": title, "body": body, "severity": "incident",
        "ends": ends.format("%Y-%m-%dT%H:%M").to_string()}))
}

fn clip(s: Option<String>) -> Option<String> {
    s.map(|s| s.chars().take(300).collect())
}

/// `GET /console/announcements` (agents): every notice; overseers see the publish form.
async fn list(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang_of(&headers, &c);
    match announcements::all(&state, &c.actor()).await {
        Ok(items) => {
            let base = Base::new(&state, lang, Some(&c), "console", "/console/announcements");
            let can_publish = base.supervisor;
            let topics: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            render(
                &state,
                "console_announcements.html",
                &base,
                minijinja::context! {
                    items, can_publish, topics, severities => announcements::SEVERITIES, langs => ["zh-Hans", "zh-Hant", "en"],
                    done => clip(n.done), bad => clip(n.bad),
                    draft => draft(n.draft_topic.as_deref(), n.draft_asset.as_deref()),
                },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e.into()),
    }
}

/// A datetime-local field (`2026-11-30T08:00`), read as UTC.
fn local_time(v: Option<&String>) -> Option<TimeIn> {
    let v = v.map(|s| s.trim()).filter(|s| !s.is_empty())?;
    let with_seconds = if v.len() == 16 { format!("{v}:00Z") } else { format!("{v}Z") };
    Some(TimeIn::Text(with_seconds))
}

/// A refusal of the input goes back to the page with the reason; anything else is an error page.
fn back(state: &AppState, lang: Lang, c: &Caller, to: &str, r: Result<String, ApiError>) -> Response {
    super::after_form(state, lang, c, r.map(|done| format!("done={}", enc(&done))), to, "")
}

/// `POST /console/announcements` (overseers): publishes from the form's fields (`title.<lang>`, `body.<lang>`,
/// `starts`, `ends`, `topic.<category>`, `severity`).
async fn publish(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, f.get("_csrf").map(String::as_str))?;
        let pick = |prefix: &str| -> BTreeMap<String, String> {
            f.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|l| (l.to_string(), v.clone()))).collect()
        };
        let p = Publish {
            title: pick("title."),
            body: pick("body."),
            starts_at: local_time(f.get("starts")),
            ends_at: local_time(f.get("ends")).ok_or_else(|| {
                ApiError::from(lifebuoy_app::AppError::invalid("ends_at", "when does it stop showing?"))
            })?,
            topics: f.keys().filter_map(|k| k.strip_prefix("topic.")).map(String::from).collect(),
            severity: f.get("severity").cloned(),
        };
        let a = announcements::publish(&state, &c.actor(), p).await?;
        Ok(a.id)
    };
    match run.await {
        Ok(id) => Redirect::to(&format!("/console/announcements/{id}?done=published")).into_response(),
        Err(e) => back(&state, lang, &c, "/console/announcements", Err(e)),
    }
}

/// `GET /console/announcements/{id}` (agents).
async fn show(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang_of(&headers, &c);
    match announcements::one(&state, &c.actor(), &id).await {
        Ok((a, cases)) => {
            let base = Base::new(&state, lang, Some(&c), "console", &format!("/console/announcements/{id}"));
            let can_publish = base.supervisor;
            let statuses: Vec<&str> = [Status::Pending, Status::Solved].iter().map(|s| s.as_str()).collect();
            render(
                &state,
                "console_announcement.html",
                &base,
                minijinja::context! { a, cases, can_publish, statuses, done => clip(n.done), bad => clip(n.bad) },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e.into()),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(rename = "_csrf")]
    csrf: String,
}

/// `POST /console/announcements/{id}/withdraw` (overseers).
async fn withdraw(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        announcements::withdraw(&state, &c.actor(), &id).await?;
        Ok("withdrawn".to_string())
    };
    let r = run.await;
    back(&state, lang, &c, &format!("/console/announcements/{id}"), r)
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    cases: String,
}

/// `POST /console/announcements/{id}/cases` (agents): links the case numbers given, one a line.
async fn link(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<LinkForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        let cases: Vec<String> = f
            .cases
            .split(|ch: char| ch == ',' || ch.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let n = announcements::link(&state, &c.actor(), &id, &cases).await?;
        Ok(format!("linked:{n}"))
    };
    let r = run.await;
    back(&state, lang, &c, &format!("/console/announcements/{id}"), r)
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    body: String,
    status: Option<String>,
}

/// `POST /console/announcements/{id}/answer` (agents): one reply to every open linked case.
async fn answer(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        let status = f.status.as_deref().filter(|s| !s.is_empty()).map(Status::parse).transpose()?;
        let r = announcements::answer_all(&state, &c.actor(), &id, &f.body, status).await?;
        Ok(format!("answered:{}:{}", r.answered, r.skipped))
    };
    let r = run.await;
    back(&state, lang, &c, &format!("/console/announcements/{id}"), r)
}
