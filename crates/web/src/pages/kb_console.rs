//! The knowledge base in the agent console: the article list (every agent; internal articles included), the
//! editor with a side-by-side preview per language, version history with restore, publish / unpublish (only
//! roles that edit the knowledge base: supervisors and admins, see `Role::edits_kb`), search analytics
//! (the same roles) and the synonym groups (admins, `Role::edits_synonyms`).

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::api::kb::{render_markdown, require_editor};
use crate::auth::{Caller, ConsoleAgent, check_form_token, check_same_origin};
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_domain::Lang;
use lifebuoy_store::{KbArticle, KbArticleInput, KbFilter, KbTranslation, split_keywords};
use serde::Deserialize;
use std::collections::HashMap;

const LANGS: [&str; 3] = ["zh-Hans", "zh-Hant", "en"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/kb", get(list))
        .route("/console/kb/new", get(new_form).post(create))
        .route("/console/kb/preview", post(preview))
        .route("/console/kb/analytics", get(analytics))
        .route("/console/kb/suggest", get(suggest))
        .route("/console/kb/synonyms", get(synonyms).post(add_synonyms))
        .route("/console/kb/synonyms/{id}/delete", post(delete_synonyms))
        .route("/console/kb/categories", get(categories).post(save_category))
        .route("/console/kb/a/{id}", get(edit_form).post(save))
        .route("/console/kb/a/{id}/status", post(set_status))
        .route("/console/kb/a/{id}/history", get(history))
        .route("/console/kb/a/{id}/restore", post(restore))
}

fn can_edit(c: &Caller) -> bool {
    c.agent().is_some_and(|a| a.role.edits_kb())
}

fn can_edit_synonyms(c: &Caller) -> bool {
    c.agent().is_some_and(|a| a.role.edits_synonyms())
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    category: Option<String>,
    lang: Option<String>,
    q: Option<String>,
}

/// `GET /console/kb`: every article, filterable by status, category and language.
async fn list(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        let status = q.status.clone().filter(|s| lifebuoy_domain::KbStatus::parse(s).is_ok());
        let l = q.lang.clone().filter(|l| LANGS.contains(&l.as_str()));
        let cats = state.store.kb_categories().await?;
        let category = q.category.clone().filter(|c| !c.is_empty());
        let mut articles = state.store.kb_articles(&KbFilter { status, category: None, lang: l }).await?;
        if let Some(cat) = &category {
            let tree = super::help_pages::subtree(&cats, cat);
            articles.retain(|a| tree.contains(&a.category));
        }
        if let Some(needle) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let n = lifebuoy_search::fold(needle);
            articles.retain(|a| {
                a.slug.contains(needle) || a.translations.iter().any(|t| lifebuoy_search::fold(&t.title).contains(&n))
            });
        }
        Ok::<_, ApiError>((cats, articles))
    };
    match run.await {
        Ok((cats, articles)) => {
            let rows: Vec<minijinja::Value> = articles
                .iter()
                .map(|a| {
                    let t = super::help_pages::pick(a, lang);
                    minijinja::context! {
                        id => a.id, slug => a.slug, status => a.status, category => a.category,
                        title => t.map(|t| t.title.clone()).unwrap_or_default(),
                        langs => a.translations.iter().map(|t| t.lang.clone()).collect::<Vec<_>>(),
                        version => a.version, updated_at => a.updated_at
                    }
                })
                .collect();
            let cat_names: HashMap<String, String> =
                cats.iter().map(|x| (x.slug.clone(), x.name(lang).to_string())).collect();
            let base = Base::new(&state, lang, Some(&c), "console", "/console/kb");
            render(
                &state,
                "console_kb.html",
                &base,
                minijinja::context! {
                    rows, cats => cat_options(&cats, lang), cat_names, statuses => lifebuoy_domain::KbStatus::ALL,
                    langs => LANGS, can_edit => can_edit(&c), can_edit_synonyms => can_edit_synonyms(&c),
                    q => minijinja::context! { status => q.status, category => q.category, lang => q.lang, q => q.q }
                },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct SuggestQuery {
    q: String,
    lang: Option<String>,
}

/// `GET /console/kb/suggest?q=…&lang=…`: the articles that answer what a customer wrote, for the agent beside
/// the conversation (JSON). Answered as agents are answered: internal playbooks too, marked as such, so the
/// agent never pastes an internal link to a customer. Not counted in the customers' search analytics.
async fn suggest(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    Query(q): Query<SuggestQuery>,
) -> Response {
    let run = async {
        if c.agent().is_none() {
            return Err(ApiError::forbidden("agents only"));
        }
        let question: String = q.q.trim().chars().take(2000).collect();
        if question.is_empty() {
            return Ok(serde_json::json!({"items": []}));
        }
        let lang = crate::api::kb::parse_lang(q.lang.as_deref())?;
        let kb = state.kb.clone();
        let answers = tokio::task::spawn_blocking(move || {
            kb.answer_for(&question, lang.map(|l| l.as_str()), lifebuoy_search::Audience::Agent)
        })
        .await
        .map_err(|_| ApiError::bad_request("suggestion aborted"))?
        .map_err(|e| {
            tracing::error!(error = %e, "suggestion failed");
            ApiError::bad_request("search failed; try again")
        })?;
        let items: Vec<serde_json::Value> = answers
            .into_iter()
            .map(|a| {
                let public = a.status == "published";
                serde_json::json!({"article_id": a.article_id, "slug": a.slug, "lang": a.lang, "title": a.title,
                    "internal": !public, "snippet": a.passage, "confidence": a.confidence,
                    "url": format!("/console/kb/a/{}", a.article_id),
                    "public_url": public.then(|| crate::api::kb::article_url(&a.lang, &a.slug))})
            })
            .collect();
        Ok::<_, ApiError>(serde_json::json!({"items": items}))
    };
    match run.await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Categories for a select, children indented under their parents.
fn cat_options(cats: &[lifebuoy_store::KbCategory], lang: Lang) -> Vec<minijinja::Value> {
    let mut out = Vec::new();
    for top in cats.iter().filter(|c| c.parent.is_none()) {
        out.push(minijinja::context! { slug => top.slug, name => top.name(lang) });
        for ch in cats.iter().filter(|c| c.parent.as_deref() == Some(top.slug.as_str())) {
            out.push(minijinja::context! { slug => ch.slug, name => format!("— {}", ch.name(lang)) });
        }
    }
    out
}

/// The editor's columns: one per language, with its preview.
fn columns(input: &KbArticleInput) -> Vec<minijinja::Value> {
    LANGS
        .iter()
        .map(|l| {
            let t = input.translations.iter().find(|t| t.lang == *l);
            let body = t.map(|t| t.body.clone()).unwrap_or_default();
            minijinja::context! {
                lang => l, label => super::help_pages::lang_label(l),
                title => t.map(|t| t.title.clone()).unwrap_or_default(),
                keywords => t.map(|t| t.keywords.join(", ")).unwrap_or_default(),
                preview_html => render_markdown(&body), body
            }
        })
        .collect()
}

struct EditorPage<'a> {
    article: Option<&'a KbArticle>,
    input: KbArticleInput,
    expected_version: Option<i64>,
    error: Option<String>,
    saved: bool,
}

async fn editor(state: &AppState, c: &Caller, lang: Lang, p: EditorPage<'_>) -> Response {
    let cats = match state.store.kb_categories().await {
        Ok(c) => c,
        Err(e) => return error_page(state, lang, Some(c), e.into()),
    };
    let path = match p.article {
        Some(a) => format!("/console/kb/a/{}", a.id),
        None => "/console/kb/new".to_string(),
    };
    let base = Base::new(state, lang, Some(c), "console", &path);
    let published_url = p
        .article
        .filter(|a| a.status == "published")
        .and_then(|a| a.translations.first().map(|t| crate::api::kb::article_url(&t.lang, &a.slug)));
    let mut r = render(
        state,
        "console_kb_edit.html",
        &base,
        minijinja::context! {
            article => p.article, columns => columns(&p.input), slug => p.input.slug, category => p.input.category,
            status => p.input.status, expected_version => p.expected_version, error => p.error, saved => p.saved,
            cats => cat_options(&cats, lang), statuses => lifebuoy_domain::KbStatus::ALL, can_edit => can_edit(c),
            action => path, published_url
        },
    );
    if p.error.is_some() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

async fn new_form(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers, &c);
    if let Err(e) = require_editor(&c) {
        return error_page(&state, lang, Some(&c), e);
    }
    let input =
        KbArticleInput { slug: String::new(), category: String::new(), status: "draft".into(), translations: vec![] };
    editor(&state, &c, lang, EditorPage { article: None, input, expected_version: None, error: None, saved: false })
        .await
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn edit_form(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(s): Query<Saved>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let a = match state.store.kb_article(&id).await {
        Ok(Some(a)) => a,
        Ok(None) => return error_page(&state, lang, Some(&c), ApiError::not_found()),
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let input = a.input();
    let v = a.version;
    editor(
        &state,
        &c,
        lang,
        EditorPage { article: Some(&a), input, expected_version: Some(v), error: None, saved: s.saved.is_some() },
    )
    .await
}

/// Reads the editor's form into an article.
fn form_input(f: &HashMap<String, String>) -> KbArticleInput {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    KbArticleInput {
        slug: get("slug").trim().to_string(),
        category: get("category"),
        status: get("status"),
        translations: LANGS
            .iter()
            .map(|l| KbTranslation {
                lang: l.to_string(),
                title: get(&format!("title_{l}")),
                body: get(&format!("body_{l}")),
                keywords: split_keywords(&get(&format!("keywords_{l}"))),
            })
            .collect(),
    }
}

fn check_form(c: &Caller, headers: &HeaderMap, f: &HashMap<String, String>) -> Result<(), ApiError> {
    check_same_origin(headers)?;
    check_form_token(c, f.get("_csrf").map(String::as_str))
}

async fn create(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers, &c);
    if let Err(e) = check_form(&c, &headers, &f).and_then(|_| require_editor(&c)) {
        return error_page(&state, lang, Some(&c), e);
    }
    let input = form_input(&f);
    if f.get("op").map(String::as_str) == Some("preview") {
        return editor(
            &state,
            &c,
            lang,
            EditorPage { article: None, input, expected_version: None, error: None, saved: false },
        )
        .await;
    }
    match state.app.create_article(&c.actor(), &input).await {
        Ok(a) => Redirect::to(&format!("/console/kb/a/{}?saved=1", a.id)).into_response(),
        Err(e) => {
            let error = Some(crate::error::human_message(lang, &e));
            editor(&state, &c, lang, EditorPage { article: None, input, expected_version: None, error, saved: false })
                .await
        }
    }
}

async fn save(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers, &c);
    if let Err(e) = check_form(&c, &headers, &f).and_then(|_| require_editor(&c)) {
        return error_page(&state, lang, Some(&c), e);
    }
    let cur = match state.store.kb_article(&id).await {
        Ok(Some(a)) => a,
        Ok(None) => return error_page(&state, lang, Some(&c), ApiError::not_found()),
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let input = form_input(&f);
    let expected = f.get("expected_version").and_then(|v| v.parse::<i64>().ok());
    if f.get("op").map(String::as_str) == Some("preview") {
        let page = EditorPage { article: Some(&cur), input, expected_version: expected, error: None, saved: false };
        return editor(&state, &c, lang, page).await;
    }
    match state.app.update_article(&c.actor(), &cur.id, &input, expected).await {
        Ok(a) => Redirect::to(&format!("/console/kb/a/{}?saved=1", a.id)).into_response(),
        Err(e) => {
            let page = EditorPage {
                article: Some(&cur),
                input,
                expected_version: expected,
                error: Some(crate::error::human_message(lang, &e)),
                saved: false,
            };
            editor(&state, &c, lang, page).await
        }
    }
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    status: String,
}

/// Publish, unpublish (back to draft) or make internal.
async fn set_status(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        Ok::<_, ApiError>(state.app.set_article_status(&c.actor(), &id, &f.status).await?)
    };
    match run.await {
        Ok(a) => Redirect::to(&format!("/console/kb/a/{}?saved=1", a.id)).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct HistoryQuery {
    v: Option<i64>,
}

/// `GET /console/kb/a/{id}/history[?v=N]`: every saved version: who, when, what; one version shown in full.
async fn history(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        let a = state.store.kb_article(&id).await?.ok_or_else(ApiError::not_found)?;
        let versions = state.store.kb_versions(&a.id).await?;
        Ok::<_, ApiError>((a, versions))
    };
    let (a, versions) = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e),
    };
    let shown_v = q.v.unwrap_or(a.version);
    let Some(shown) = versions.iter().find(|v| v.version == shown_v) else {
        return error_page(&state, lang, Some(&c), ApiError::not_found());
    };
    let shown_cols: Vec<minijinja::Value> = shown
        .content
        .translations
        .iter()
        .map(|t| {
            minijinja::context! {
                lang => t.lang, label => super::help_pages::lang_label(&t.lang), title => t.title,
                keywords => t.keywords.join(", "), html => render_markdown(&t.body)
            }
        })
        .collect();
    let title = super::help_pages::pick(&a, lang).map(|t| t.title.clone()).unwrap_or_default();
    let base = Base::new(&state, lang, Some(&c), "console", &format!("/console/kb/a/{id}/history"));
    render(
        &state,
        "console_kb_history.html",
        &base,
        minijinja::context! {
            a, title, versions, shown => minijinja::context! {
                version => shown.version, author_name => shown.author_name, note => shown.note,
                created_at => shown.created_at, status => shown.content.status, category => shown.content.category,
                slug => shown.content.slug
            },
            shown_cols, can_edit => can_edit(&c)
        },
    )
}

#[derive(Deserialize)]
struct RestoreForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    v: i64,
}

/// Saves an old version's content as the newest version.
async fn restore(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<RestoreForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        Ok::<_, ApiError>(state.app.restore_article(&c.actor(), &id, f.v).await?)
    };
    match run.await {
        Ok(a) => Redirect::to(&format!("/console/kb/a/{}?saved=1", a.id)).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct PreviewForm {
    body: String,
}

/// `POST /console/kb/preview`: the editor's live preview, rendered by the same sanitising renderer as the
/// article pages.
async fn preview(ConsoleAgent(c): ConsoleAgent, headers: HeaderMap, Form(f): Form<PreviewForm>) -> Response {
    if let Err(e) = check_same_origin(&headers) {
        return e.into_response();
    }
    if f.body.len() > 200_000 {
        return ApiError::invalid("body", "at most 200 KB").into_response();
    }
    let _ = c;
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], render_markdown(&f.body)).into_response()
}

#[derive(Deserialize)]
struct PeriodQuery {
    days: Option<i64>,
}

/// `GET /console/kb/analytics`: top queries, queries with no result, votes per article, deflection.
async fn analytics(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(p): Query<PeriodQuery>,
) -> Response {
    let lang = lang_of(&headers, &c);
    if let Err(e) = require_editor(&c) {
        return error_page(&state, lang, Some(&c), e);
    }
    let days = match p.days.unwrap_or(30) {
        d @ (1 | 7 | 30 | 90 | 365) => d,
        _ => 30,
    };
    let since = lifebuoy_store::now_ms() - days * 86_400_000;
    let run = async {
        let top = state.store.kb_top_queries(since, false, 20).await?;
        let none = state.store.kb_top_queries(since, true, 20).await?;
        let (searches, empty) = state.store.kb_search_totals(since).await?;
        let votes = state.store.kb_vote_counts().await?;
        let deflection = state.store.kb_deflection_stats(since).await?;
        let articles = state.store.kb_articles(&KbFilter::default()).await?;
        Ok::<_, ApiError>((top, none, searches, empty, votes, deflection, articles))
    };
    let (top, none, searches, empty, votes, deflection, articles) = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e),
    };
    let vote_rows: Vec<minijinja::Value> = votes
        .iter()
        .filter_map(|v| {
            let a = articles.iter().find(|a| a.id == v.article_id)?;
            let title = super::help_pages::pick(a, lang).map(|t| t.title.clone()).unwrap_or_default();
            let total = v.helpful + v.unhelpful;
            Some(minijinja::context! {
                id => a.id, slug => a.slug, title, helpful => v.helpful, unhelpful => v.unhelpful,
                share => if total > 0 { v.helpful * 100 / total } else { 0 }
            })
        })
        .collect();
    let pct = |n: i64, d: i64| if d > 0 { format!("{:.0}%", n as f64 * 100.0 / d as f64) } else { "—".into() };
    let base = Base::new(&state, lang, Some(&c), "console", "/console/kb/analytics");
    render(
        &state,
        "console_kb_analytics.html",
        &base,
        minijinja::context! {
            days, top, none, searches, empty, empty_rate => pct(empty, searches), vote_rows,
            shown => deflection.shown, filed => deflection.filed,
            deflected => deflection.shown - deflection.filed,
            deflection_rate => deflection.rate().map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_else(|| "—".into())
        },
    )
}

/// `GET /console/kb/synonyms`: the synonym groups every search expands with (admins).
async fn synonyms(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers, &c);
    synonyms_page(&state, &c, lang, None, String::new()).await
}

async fn synonyms_page(state: &AppState, c: &Caller, lang: Lang, error: Option<String>, terms: String) -> Response {
    if !can_edit_synonyms(c) {
        return error_page(state, lang, Some(c), ApiError::forbidden("only admins edit the search synonyms"));
    }
    let groups = match state.store.kb_synonyms().await {
        Ok(g) => g,
        Err(e) => return error_page(state, lang, Some(c), e.into()),
    };
    let base = Base::new(state, lang, Some(c), "console", "/console/kb/synonyms");
    let failed = error.is_some();
    let mut r = render(state, "console_kb_synonyms.html", &base, minijinja::context! { groups, error, terms });
    if failed {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

#[derive(Deserialize)]
struct SynonymForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    terms: String,
}

async fn add_synonyms(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<SynonymForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    if let Err(e) = check_same_origin(&headers).and_then(|_| check_form_token(&c, Some(&f.csrf))) {
        return error_page(&state, lang, Some(&c), e);
    }
    let terms: Vec<String> = f.terms.split([',', '，', '、', '\n']).map(str::to_string).collect();
    match state.app.add_synonyms(&c.actor(), &terms).await {
        Ok(()) => Redirect::to("/console/kb/synonyms").into_response(),
        Err(e @ lifebuoy_app::AppError::Forbidden(_)) => error_page(&state, lang, Some(&c), e.into()),
        Err(e) => synonyms_page(&state, &c, lang, Some(crate::error::human_message(lang, &e)), f.terms).await,
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn delete_synonyms(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        Ok::<_, ApiError>(state.app.delete_synonyms(&c.actor(), &id).await?)
    };
    match run.await {
        Ok(()) => Redirect::to("/console/kb/synonyms").into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

/// `GET /console/kb/categories`: the category tree, with a form to add or rename (supervisors and admins).
async fn categories(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers, &c);
    categories_page(&state, &c, lang, None).await
}

async fn categories_page(state: &AppState, c: &Caller, lang: Lang, error: Option<String>) -> Response {
    if let Err(e) = require_editor(c) {
        return error_page(state, lang, Some(c), e);
    }
    let run = async {
        let cats = state.store.kb_categories().await?;
        let articles = state.store.kb_articles(&KbFilter::default()).await?;
        Ok::<_, ApiError>((cats, articles))
    };
    let (cats, articles) = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(state, lang, Some(c), e),
    };
    let mut rows = Vec::new();
    for top in cats.iter().filter(|x| x.parent.is_none()) {
        for x in std::iter::once(top).chain(cats.iter().filter(|x| x.parent.as_deref() == Some(top.slug.as_str()))) {
            let count = articles.iter().filter(|a| a.category == x.slug).count();
            rows.push(minijinja::context! { c => x, child => x.parent.is_some(), count });
        }
    }
    let tops: Vec<&lifebuoy_store::KbCategory> = cats.iter().filter(|x| x.parent.is_none()).collect();
    let base = Base::new(state, lang, Some(c), "console", "/console/kb/categories");
    let failed = error.is_some();
    let mut r = render(
        state,
        "console_kb_categories.html",
        &base,
        minijinja::context! { rows, tops, error, can_edit_synonyms => can_edit_synonyms(c) },
    );
    if failed {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

#[derive(Deserialize)]
struct CategoryForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    slug: String,
    parent: Option<String>,
    name_zh_hans: String,
    name_zh_hant: String,
    name_en: String,
    position: Option<String>,
}

/// Creates a category, or renames / moves / reorders the one with that slug.
async fn save_category(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<CategoryForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    if let Err(e) = check_same_origin(&headers).and_then(|_| check_form_token(&c, Some(&f.csrf))) {
        return error_page(&state, lang, Some(&c), e);
    }
    if let Err(e) = require_editor(&c) {
        return error_page(&state, lang, Some(&c), e);
    }
    let position = match f.position.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 100,
        Some(p) => match p.parse::<i64>() {
            Ok(n) if (0..=100_000).contains(&n) => n,
            _ => return categories_page(&state, &c, lang, Some("position: a whole number, 0 to 100000".into())).await,
        },
    };
    let cat = lifebuoy_store::KbCategory {
        slug: f.slug.trim().to_string(),
        parent: f.parent.filter(|p| !p.is_empty()),
        name_zh_hans: f.name_zh_hans,
        name_zh_hant: f.name_zh_hant,
        name_en: f.name_en,
        position,
    };
    match state.app.save_category(&c.actor(), &cat).await {
        Ok(()) => Redirect::to("/console/kb/categories").into_response(),
        Err(e @ lifebuoy_app::AppError::Forbidden(_)) => error_page(&state, lang, Some(&c), e.into()),
        Err(e) => categories_page(&state, &c, lang, Some(crate::error::human_message(lang, &e))).await,
    }
}
