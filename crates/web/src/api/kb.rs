//! The knowledge base over HTTP: search (`GET /api/v1/kb/search`), the answer engine (`POST /api/v1/answers`)
//! and a readable article page (`/help/{lang}/{slug}`). The index lives in memory, built from the knowledge
//! base at start.

use crate::error::{ApiError, ApiJson, ApiResult};
use crate::{AppState, i18n};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use lifebuoy_domain::Lang;
use serde::Deserialize;
use serde_json::json;

/// Where an article is read.
pub fn article_url(lang: &str, slug: &str) -> String {
    format!("/help/{lang}/{slug}")
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

/// `GET /api/v1/kb/search?q=&lang=&category=`: published articles, best first, with highlighted snippets.
pub async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    let text = q.q.trim();
    if text.is_empty() || text.chars().count() > 500 {
        return Err(ApiError::invalid("q", "1 to 500 characters"));
    }
    let lang = q
        .lang
        .as_deref()
        .map(|l| Lang::from_tag(l).ok_or_else(|| ApiError::invalid("lang", "zh-Hans, zh-Hant or en")))
        .transpose()?;
    let opts = lifebuoy_search::SearchOpts {
        lang: lang.map(|l| l.as_str().to_string()),
        category: q.category.clone().filter(|c| !c.is_empty()),
        include_internal: false,
        limit: q.limit.unwrap_or(10).clamp(1, 50),
    };
    let kb = state.kb.clone();
    let query = text.to_string();
    let hits = tokio::task::spawn_blocking(move || kb.search(&query, &opts))
        .await
        .map_err(|_| ApiError::bad_request("search aborted"))?
        .map_err(search_error)?;
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
}

/// `POST /api/v1/answers`: up to three articles that answer a question, or none rather than a wrong one.
pub async fn answers(
    State(state): State<AppState>,
    ApiJson(b): ApiJson<AnswerRequest>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    let question = crate::api::tickets::text_field("question", &b.question, 2000)?;
    let lang = b
        .lang
        .as_deref()
        .map(|l| Lang::from_tag(l).ok_or_else(|| ApiError::invalid("lang", "zh-Hans, zh-Hant or en")))
        .transpose()?;
    let kb = state.kb.clone();
    let answers = tokio::task::spawn_blocking(move || kb.answer(&question, lang.map(|l| l.as_str())))
        .await
        .map_err(|_| ApiError::bad_request("answer aborted"))?
        .map_err(search_error)?;
    let items: Vec<_> = answers
        .into_iter()
        .map(|a| {
            json!({"article_id": a.article_id, "slug": a.slug, "lang": a.lang, "title": a.title,
                        "url": article_url(&a.lang, &a.slug), "snippet": a.passage, "confidence": a.confidence})
        })
        .collect();
    Ok(ApiJson(json!({"answers": items})))
}

/// Renders an article's Markdown to HTML. Raw HTML in the source is dropped, so nothing but Markdown's own
/// markup reaches the page.
pub fn render_markdown(md: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let parser = Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
        .filter(|e| !matches!(e, Event::Html(_) | Event::InlineHtml(_)));
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// `GET /help/{lang}/{slug}`: a published article.
pub async fn article_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((lang, slug)): Path<(String, String)>,
) -> Response {
    let ui = i18n::negotiate(&headers, Some(&lang));
    let found = state
        .kb
        .all_articles()
        .ok()
        .and_then(|all| all.into_iter().find(|a| a.slug == slug && a.lang == lang && a.status == "published"));
    let Some(a) = found else { return crate::pages::error_page(&state, ui, None, ApiError::not_found()) };
    let base = crate::pages::Base::new(&state, ui, None, "portal", &format!("/help/{lang}/{slug}"));
    let body_html = render_markdown(&a.body_markdown);
    crate::pages::render(
        &state,
        "article.html",
        &base,
        minijinja::context! { title => a.title, body_html, lang => a.lang, category => a.category },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_drops_raw_html() {
        let h = super::render_markdown("# 标题\n\n<script>alert(1)</script>\n\n**粗体** <img src=x onerror=alert(2)>");
        assert!(h.contains("<h1>标题</h1>") && h.contains("<strong>粗体</strong>"), "{h}");
        assert!(!h.contains("<script") && !h.contains("<img"), "{h}");
    }
}
