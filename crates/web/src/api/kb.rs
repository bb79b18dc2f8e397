//! The knowledge base over HTTP: search (`GET /api/v1/kb/search`), the answer engine (`POST /api/v1/answers`),
//! and the articles themselves for agents (`/api/v1/kb/articles`). Searches are logged for the analytics page
//! without holding up the answer. The public pages are in `pages::help_pages`.

use crate::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use lifebuoy_domain::Lang;
use lifebuoy_store::{KbArticle, KbArticleInput, KbAuthor, KbFilter, KbSearchLog, KbTranslation};
use serde::Deserialize;
use serde_json::json;

/// Where an article is read.
pub fn article_url(lang: &str, slug: &str) -> String {
    format!("/help/{lang}/{slug}")
}

/// Agents (not the exchange's backend, not customers) also find internal articles.
pub fn sees_internal(caller: Option<&Caller>) -> bool {
    caller.is_some_and(|c| c.agent().is_some())
}

/// Refuses everyone but agents whose role edits the knowledge base (see [`lifebuoy_app::knowledge::editor`]).
pub fn require_editor(c: &Caller) -> Result<KbAuthor, ApiError> {
    Ok(lifebuoy_app::knowledge::editor(&c.actor())?)
}

/// Logs a search in the background: the answer does not wait for the insert.
pub fn log_search(state: &AppState, query: &str, lang: Option<&str>, source: &str, results: usize, top: Option<&str>) {
    let store = state.store.clone();
    let e = KbSearchLog {
        query: query.to_string(),
        lang: lang.map(str::to_string),
        source: source.to_string(),
        results: results as i64,
        top_article: top.map(str::to_string),
    };
    tokio::spawn(async move {
        if let Err(e) = store.kb_log_search(&e).await {
            tracing::warn!(error = %e, "search log insert failed");
        }
    });
}

pub(crate) fn parse_lang(l: Option<&str>) -> ApiResult<Option<Lang>> {
    l.filter(|l| !l.is_empty())
        .map(|l| Lang::from_tag(l).ok_or_else(|| ApiError::invalid("lang", "zh-Hans, zh-Hant or en")))
        .transpose()
}

fn search_error(e: lifebuoy_search::SearchError) -> ApiError {
    tracing::error!(error = %e, "search failed");
    ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "search_unavailable", "search failed; try again")
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    pub q: String,
    pub lang: Option<String>,
    pub category: Option<String>,
    pub limit: Option<usize>,
}

/// `GET /api/v1/kb/search?q=&lang=&category=`: published articles, best first, with highlighted snippets;
/// signed-in agents also find internal ones.
pub async fn search(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<SearchQuery>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    let text = q.q.trim();
    if text.is_empty() || text.chars().count() > 500 {
        return Err(ApiError::invalid("q", "1 to 500 characters"));
    }
    let lang = parse_lang(q.lang.as_deref())?;
    let internal = sees_internal(caller.as_ref());
    let opts = lifebuoy_search::SearchOpts {
        lang: lang.map(|l| l.as_str().to_string()),
        category: q.category.clone().filter(|c| !c.is_empty()),
        include_internal: internal,
        limit: q.limit.unwrap_or(10).clamp(1, 50),
    };
    let kb = state.kb.clone();
    let query = text.to_string();
    let hits = tokio::task::spawn_blocking(move || kb.search(&query, &opts))
        .await
        .map_err(|_| ApiError::bad_request("search aborted"))?
        .map_err(search_error)?;
    // Agents' searches are work, not customer demand: only customers' and visitors' are logged.
    if !internal {
        log_search(
            &state,
            text,
            lang.map(|l| l.as_str()),
            "api",
            hits.len(),
            hits.first().map(|h| h.article_id.as_str()),
        );
    }
    let items: Vec<_> = hits
        .into_iter()
        .map(|h| {
            json!({"article_id": h.article_id, "slug": h.slug, "lang": h.lang, "title": h.title, "category": h.category,
                        "url": article_url(&h.lang, &h.slug), "snippet": h.snippet_html})
        })
        .collect();
    Ok(ApiJson(json!({"items": items})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub question: String,
    pub lang: Option<String>,
    /// The ticket form asking (its `_form_id`): answers shown to it count towards deflection.
    pub form_id: Option<String>,
}

/// `POST /api/v1/answers`: up to three articles that answer a question, or none rather than a wrong one.
pub async fn answers(
    State(state): State<AppState>,
    ApiJson(b): ApiJson<AnswerRequest>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    let question = crate::api::tickets::text_field("question", &b.question, 2000)?;
    let lang = parse_lang(b.lang.as_deref())?;
    let form_id = b.form_id.filter(|f| !f.is_empty());
    if form_id.as_ref().is_some_and(|f| f.len() > 64 || !f.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')) {
        return Err(ApiError::invalid("form_id", "the id of the ticket form"));
    }
    let kb = state.kb.clone();
    let q = question.clone();
    let answers = tokio::task::spawn_blocking(move || kb.answer(&q, lang.map(|l| l.as_str())))
        .await
        .map_err(|_| ApiError::bad_request("answer aborted"))?
        .map_err(search_error)?;
    let top = answers.first().map(|a| a.article_id.clone());
    log_search(&state, &question, lang.map(|l| l.as_str()), "answers", answers.len(), top.as_deref());
    if let (Some(form_id), Some(top)) = (form_id, top) {
        let store = state.store.clone();
        let lang = lang.map(|l| l.as_str());
        tokio::spawn(async move {
            if let Err(e) = store.kb_deflection_shown(&form_id, None, lang, Some(&top)).await {
                tracing::warn!(error = %e, "deflection record failed");
            }
        });
    }
    let items: Vec<_> = answers
        .into_iter()
        .map(|a| {
            json!({"article_id": a.article_id, "slug": a.slug, "lang": a.lang, "title": a.title,
                        "url": article_url(&a.lang, &a.slug), "snippet": a.passage, "confidence": a.confidence})
        })
        .collect();
    Ok(ApiJson(json!({"answers": items})))
}

/// Renders an article's Markdown to HTML. Raw HTML in the source is dropped and links or images with a
/// scheme other than http(s)/mailto (e.g. `javascript:`) lose it, so nothing but Markdown's own markup reaches
/// the page. Used by the article pages and the editor's preview alike.
pub fn render_markdown(md: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, html};
    fn safe(url: &str) -> bool {
        let u = url.trim().to_ascii_lowercase();
        match u.find(':') {
            Some(i) if !u[..i].contains(['/', '?', '#']) => ["http", "https", "mailto"].contains(&&u[..i]),
            _ => true,
        }
    }
    let parser = Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
        .filter(|e| !matches!(e, Event::Html(_) | Event::InlineHtml(_)))
        .map(|e| match e {
            Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe(&dest_url) => {
                Event::Start(Tag::Link { link_type, dest_url: "#".into(), title, id })
            }
            Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe(&dest_url) => {
                Event::Start(Tag::Image { link_type, dest_url: "#".into(), title, id })
            }
            e => e,
        });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

#[derive(Debug, Deserialize)]
pub struct ArticleListQuery {
    pub status: Option<String>,
    pub category: Option<String>,
    pub lang: Option<String>,
}

/// `GET /api/v1/kb/articles?status=&category=&lang=`: every article with its translations (agents and the
/// exchange's backend).
pub async fn list_articles(
    State(state): State<AppState>,
    c: Caller,
    Query(q): Query<ArticleListQuery>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    c.require_staff()?;
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty())
        && lifebuoy_domain::KbStatus::parse(s).is_err()
    {
        return Err(ApiError::invalid("status", "draft, published or internal"));
    }
    let f = KbFilter {
        status: q.status.filter(|s| !s.is_empty()),
        category: q.category.filter(|s| !s.is_empty()),
        lang: parse_lang(q.lang.as_deref())?.map(|l| l.as_str().to_string()),
    };
    let items = state.store.kb_articles(&f).await?;
    Ok(ApiJson(json!({ "items": items })))
}

/// `GET /api/v1/kb/articles/{id}` (an id or a slug).
pub async fn get_article(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<KbArticle>> {
    c.require_staff()?;
    Ok(ApiJson(find_article(&state, &id).await?))
}

/// An article by id, or failing that by slug.
pub async fn find_article(state: &AppState, id_or_slug: &str) -> ApiResult<KbArticle> {
    Ok(state.app.find_article(id_or_slug).await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleBody {
    pub slug: String,
    pub category: String,
    pub status: String,
    pub translations: Vec<KbTranslation>,
    /// `PUT` only: the version the edit started from; a newer saved version makes the save a conflict.
    pub expected_version: Option<i64>,
}

impl ArticleBody {
    fn input(&self) -> KbArticleInput {
        KbArticleInput {
            slug: self.slug.clone(),
            category: self.category.clone(),
            status: self.status.clone(),
            translations: self.translations.clone(),
        }
    }
}

pub use lifebuoy_app::knowledge::RESERVED_SLUGS;

/// `POST /api/v1/kb/articles`: creates an article (supervisors and admins).
pub async fn create_article(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(b): ApiJson<ArticleBody>,
) -> ApiResult<(StatusCode, ApiJson<KbArticle>)> {
    let a = state.app.create_article(&c.actor(), &b.input()).await?;
    Ok((StatusCode::CREATED, ApiJson(a)))
}

/// `PUT /api/v1/kb/articles/{id}`: saves a new version (supervisors and admins).
pub async fn update_article(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ArticleBody>,
) -> ApiResult<ApiJson<KbArticle>> {
    Ok(ApiJson(state.app.update_article(&c.actor(), &id, &b.input(), b.expected_version).await?))
}

/// `GET /api/v1/kb/articles/{id}/versions`: the saved versions, newest first.
pub async fn article_versions(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    c.require_staff()?;
    let a = find_article(&state, &id).await?;
    let items = state.store.kb_versions(&a.id).await?;
    Ok(ApiJson(json!({ "items": items })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_drops_raw_html() {
        let h = super::render_markdown("# 标题\n\n<script>alert(1)</script>\n\n**粗体** <img src=x onerror=alert(2)>");
        assert!(h.contains("<h1>标题</h1>") && h.contains("<strong>粗体</strong>"), "{h}");
        assert!(!h.contains("<script") && !h.contains("<img"), "{h}");
        let h = super::render_markdown("[x](javascript:alert(1)) [y](https://ok.example/a:b) [z](/help/en/a)");
        assert!(!h.contains("javascript") && h.contains("https://ok.example/a:b") && h.contains("/help/en/a"), "{h}");
    }
}
