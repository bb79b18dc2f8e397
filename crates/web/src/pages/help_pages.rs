//! The public help center: home with categories and search, category pages, article pages with votes and
//! related articles, search results, `sitemap.xml`; and (in [`super::kb_console`]) the knowledge-base pages
//! for agents. Readable URLs: `/help/{lang}`, `/help/{lang}/c/{category}`, `/help/{lang}/{slug}`,
//! `/help/{lang}/search?q=`. Only published articles are ever shown here; internal ones are for agents.

use super::{Base, error_page, render};
use crate::api::kb::{article_url, log_search, render_markdown};
use crate::error::ApiError;
use crate::{AppState, i18n};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use lifebuoy_domain::Lang;
use lifebuoy_store::{KbArticle, KbCategory, KbFilter, KbTranslation};
use serde::{Deserialize, Serialize};

/// Templates of the help-center and knowledge-base pages (registered with the others in [`super::templates`]).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("help_layout.html", include_str!("../../templates/help_layout.html")),
    ("help_home.html", include_str!("../../templates/help_home.html")),
    ("help_category.html", include_str!("../../templates/help_category.html")),
    ("help_search.html", include_str!("../../templates/help_search.html")),
    ("help_verify.html", include_str!("../../templates/help_verify.html")),
    ("console_kb.html", include_str!("../../templates/console_kb.html")),
    ("console_kb_edit.html", include_str!("../../templates/console_kb_edit.html")),
    ("console_kb_history.html", include_str!("../../templates/console_kb_history.html")),
    ("console_kb_analytics.html", include_str!("../../templates/console_kb_analytics.html")),
    ("console_kb_synonyms.html", include_str!("../../templates/console_kb_synonyms.html")),
    ("console_kb_categories.html", include_str!("../../templates/console_kb_categories.html")),
];

/// Files served under `/static/` by these pages: (name, body, content type).
pub const STATIC: &[(&str, &str, &str)] = &[
    ("help.css", include_str!("../../static/help.css"), "text/css; charset=utf-8"),
    ("kb.js", include_str!("../../static/kb.js"), "text/javascript; charset=utf-8"),
    ("verify-records.js", include_str!("../../static/verify-records.js"), "text/javascript; charset=utf-8"),
];

/// The cookie that identifies a reader for "was this helpful?" (one vote per reader and article).
pub const VISITOR_COOKIE: &str = "lb_visitor";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/help", get(help_root))
        .route("/help/{lang}", get(home))
        .route("/help/{lang}/search", get(search_page))
        .route("/help/{lang}/verify", get(verify_page))
        .route("/help/verify", get(verify_root))
        .route("/help/{lang}/c/{category}", get(category_page))
        .route("/help/{lang}/{slug}", get(article_page))
        .route("/help/{lang}/{slug}/vote", axum::routing::post(vote))
        .route("/sitemap.xml", get(sitemap))
        .merge(super::kb_console::router())
}

/// The languages to show an article in, best first, for a reader of `lang`.
pub fn fallbacks(lang: Lang) -> [&'static str; 3] {
    match lang {
        Lang::ZhHans => ["zh-Hans", "zh-Hant", "en"],
        Lang::ZhHant => ["zh-Hant", "zh-Hans", "en"],
        Lang::En => ["en", "zh-Hans", "zh-Hant"],
    }
}

/// The translation a reader of `lang` gets: theirs, else the nearest one written.
pub fn pick(a: &KbArticle, lang: Lang) -> Option<&KbTranslation> {
    fallbacks(lang).iter().find_map(|l| a.translation(l)).or(a.translations.first())
}

/// The name of a language in itself.
pub fn lang_label(l: &str) -> &'static str {
    match l {
        "zh-Hans" => "简体中文",
        "zh-Hant" => "繁體中文",
        _ => "English",
    }
}

fn help_lang(lang: &str) -> Option<Lang> {
    Lang::parse(lang).ok()
}

fn not_found(state: &AppState, lang: Lang) -> Response {
    error_page(state, lang, None, ApiError::not_found())
}

/// A category with what its page or tile shows.
#[derive(Serialize)]
struct CatView {
    slug: String,
    name: String,
    url: String,
    count: usize,
    children: Vec<CatLink>,
    top: Vec<ArticleLink>,
}

#[derive(Serialize, Clone)]
struct CatLink {
    slug: String,
    name: String,
    url: String,
}

#[derive(Serialize, Clone)]
struct ArticleLink {
    id: String,
    title: String,
    url: String,
    lang: String,
    /// Set when the article is shown in another language than the reader's.
    other_lang: Option<&'static str>,
    category: String,
    excerpt: String,
}

fn link(a: &KbArticle, lang: Lang) -> Option<ArticleLink> {
    let t = pick(a, lang)?;
    let plain = lifebuoy_search::markdown::to_plain_text(&t.body);
    let mut excerpt: String = plain.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(110).collect();
    if plain.chars().count() > 110 {
        excerpt.push('…');
    }
    Some(ArticleLink {
        id: a.id.clone(),
        title: t.title.clone(),
        url: article_url(&t.lang, &a.slug),
        lang: t.lang.clone(),
        other_lang: (t.lang != lang.as_str()).then(|| lang_label(&t.lang)),
        category: a.category.clone(),
        excerpt,
    })
}

/// The category and every category under it.
pub(crate) fn subtree(cats: &[KbCategory], root: &str) -> Vec<String> {
    let mut out = vec![root.to_string()];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i].clone();
        out.extend(cats.iter().filter(|c| c.parent.as_deref() == Some(cur.as_str())).map(|c| c.slug.clone()));
        i += 1;
        if i > 256 {
            break;
        }
    }
    out
}

/// Root first: the category and its ancestors.
fn trail(cats: &[KbCategory], slug: &str, lang: Lang) -> Vec<CatLink> {
    let mut out = Vec::new();
    let mut cur = cats.iter().find(|c| c.slug == slug);
    while let Some(c) = cur {
        out.push(CatLink { slug: c.slug.clone(), name: c.name(lang).to_string(), url: cat_url(lang, &c.slug) });
        cur = c.parent.as_deref().and_then(|p| cats.iter().find(|x| x.slug == p));
        if out.len() > 16 {
            break;
        }
    }
    out.reverse();
    out
}

fn cat_url(lang: Lang, slug: &str) -> String {
    format!("/help/{}/c/{slug}", lang.as_str())
}

fn cat_views(cats: &[KbCategory], articles: &[KbArticle], lang: Lang, parent: Option<&str>) -> Vec<CatView> {
    cats.iter()
        .filter(|c| c.parent.as_deref() == parent)
        .map(|c| {
            let tree = subtree(cats, &c.slug);
            let mine: Vec<&KbArticle> = articles.iter().filter(|a| tree.contains(&a.category)).collect();
            CatView {
                slug: c.slug.clone(),
                name: c.name(lang).to_string(),
                url: cat_url(lang, &c.slug),
                count: mine.len(),
                children: cats
                    .iter()
                    .filter(|x| x.parent.as_deref() == Some(c.slug.as_str()))
                    .map(|x| CatLink {
                        slug: x.slug.clone(),
                        name: x.name(lang).to_string(),
                        url: cat_url(lang, &x.slug),
                    })
                    .collect(),
                top: mine.iter().filter_map(|a| link(a, lang)).take(4).collect(),
            }
        })
        .filter(|v| v.count > 0)
        .collect()
}

async fn published(state: &AppState) -> Result<Vec<KbArticle>, ApiError> {
    Ok(state.store.kb_articles(&KbFilter { status: Some("published".into()), ..Default::default() }).await?)
}

/// Alternate-language links for the language menu: (code, label, href).
fn lang_menu(paths: [(&str, String); 3]) -> Vec<minijinja::Value> {
    paths
        .into_iter()
        .map(|(code, back)| {
            minijinja::context! { code, label => lang_label(code), href => format!("/lang/{code}?back={}", urlencode(&back)) }
        })
        .collect()
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn same_page_menu(suffix: &str) -> Vec<minijinja::Value> {
    lang_menu(["zh-Hans", "zh-Hant", "en"].map(|l| (l, format!("/help/{l}{suffix}"))))
}

/// `GET /help`: the reader's language's help center.
async fn help_root(headers: HeaderMap) -> Response {
    let lang = i18n::negotiate(&headers, None);
    ([(header::VARY, "Accept-Language, Cookie")], Redirect::to(&format!("/help/{}", lang.as_str()))).into_response()
}

/// `GET /help/verify`: the verification page in the reader's language (the address the exported documents give).
async fn verify_root(headers: HeaderMap) -> Response {
    let lang = i18n::negotiate(&headers, None);
    ([(header::VARY, "Accept-Language, Cookie")], Redirect::to(&format!("/help/{}/verify", lang.as_str())))
        .into_response()
}

/// `GET /help/{lang}/verify`: checks a records export in the browser (nothing is uploaded), against this desk's
/// published signing keys.
async fn verify_page(State(state): State<AppState>, Path(lang): Path<String>) -> Response {
    let Some(lang) = help_lang(&lang) else {
        return not_found(&state, i18n::negotiate(&HeaderMap::new(), None));
    };
    let keys = match lifebuoy_app::records::signing_keys(&state).await {
        Ok(k) => k,
        Err(e) => return error_page(&state, lang, None, e.into()),
    };
    // Inside a <script> element: no "</" may close it early.
    let keys_json = serde_json::json!({ "keys": keys }).to_string().replace("</", "<\\/");
    let base = Base::new(&state, lang, None, "help", &format!("/help/{}/verify", lang.as_str()));
    render(
        &state,
        "help_verify.html",
        &base,
        minijinja::context! { keys, keys_json, langs => same_page_menu("/verify"), hl => lang.as_str() },
    )
}

/// `GET /help/{lang}`: a big search box, popular articles, the category grid.
async fn home(State(state): State<AppState>, Path(lang): Path<String>) -> Response {
    let Some(lang) = help_lang(&lang) else {
        return not_found(&state, i18n::negotiate(&HeaderMap::new(), None));
    };
    let run = async {
        let cats = state.store.kb_categories().await?;
        let articles = published(&state).await?;
        let votes = state.store.kb_vote_counts().await?;
        Ok::<_, ApiError>((cats, articles, votes))
    };
    let (cats, articles, votes) = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, None, e),
    };
    let grid = cat_views(&cats, &articles, lang, None);
    // Popular: the most "helpful" articles, then the first of each category.
    let mut popular: Vec<ArticleLink> = Vec::new();
    let mut ranked: Vec<&lifebuoy_store::KbVoteCount> = votes.iter().filter(|v| v.helpful > v.unhelpful).collect();
    ranked.sort_by_key(|v| std::cmp::Reverse(v.helpful - v.unhelpful));
    for v in ranked {
        if let Some(l) = articles.iter().find(|a| a.id == v.article_id).and_then(|a| link(a, lang)) {
            popular.push(l);
        }
    }
    for c in &grid {
        for t in &c.top {
            if popular.len() < 6 && !popular.iter().any(|p| p.id == t.id) {
                popular.push(t.clone());
                break;
            }
        }
    }
    popular.truncate(6);
    let notices = super::notices(&state, lang).await;
    let base = Base::new(&state, lang, None, "help", &format!("/help/{}", lang.as_str()));
    render(
        &state,
        "help_home.html",
        &base,
        minijinja::context! { grid, popular, total => articles.len(), langs => same_page_menu(""), hl => lang.as_str(), notices },
    )
}

/// `GET /help/{lang}/c/{category}`: a category, its subcategories and its articles.
async fn category_page(State(state): State<AppState>, Path((lang, category)): Path<(String, String)>) -> Response {
    let Some(lang) = help_lang(&lang) else { return not_found(&state, Lang::En) };
    let run = async {
        let cats = state.store.kb_categories().await?;
        let articles = published(&state).await?;
        Ok::<_, ApiError>((cats, articles))
    };
    let (cats, articles) = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, None, e),
    };
    let Some(cat) = cats.iter().find(|c| c.slug == category) else { return not_found(&state, lang) };
    let children = cat_views(&cats, &articles, lang, Some(&cat.slug));
    let own: Vec<ArticleLink> =
        articles.iter().filter(|a| a.category == cat.slug).filter_map(|a| link(a, lang)).collect();
    let crumbs = trail(&cats, &cat.slug, lang);
    let siblings: Vec<CatLink> = cats
        .iter()
        .filter(|c| c.parent.is_none())
        .filter(|c| articles.iter().any(|a| subtree(&cats, &c.slug).contains(&a.category)))
        .map(|c| CatLink { slug: c.slug.clone(), name: c.name(lang).to_string(), url: cat_url(lang, &c.slug) })
        .collect();
    let base = Base::new(&state, lang, None, "help", &cat_url(lang, &cat.slug));
    render(
        &state,
        "help_category.html",
        &base,
        minijinja::context! {
            name => cat.name(lang), slug => cat.slug, crumbs, children, articles => own, siblings,
            langs => same_page_menu(&format!("/c/{}", cat.slug)), hl => lang.as_str()
        },
    )
}

#[derive(Deserialize)]
pub struct ArticleQuery {
    voted: Option<String>,
}

/// The reader's visitor id (cookie), and the `Set-Cookie` to send when it is new.
fn visitor(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    let jar = CookieJar::from_headers(headers);
    match jar.get(VISITOR_COOKIE).map(|c| c.value().to_string()).filter(|v| v.len() >= 16 && v.len() <= 64) {
        Some(v) => (v, None),
        None => {
            let v = lifebuoy_store::random_secret();
            let cookie = format!(
                "{VISITOR_COOKIE}={v}; Path=/help; HttpOnly; SameSite=Lax; Max-Age=31536000{}",
                if state.config.secure_cookies { "; Secure" } else { "" }
            );
            (v, Some(cookie))
        }
    }
}

/// `GET /help/{lang}/{slug}`: a published article with breadcrumbs, "was this helpful?", related articles and
/// the same article in the other languages.
pub async fn article_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((lang, slug)): Path<(String, String)>,
    Query(q): Query<ArticleQuery>,
) -> Response {
    let Some(lang) = help_lang(&lang) else { return not_found(&state, i18n::negotiate(&headers, None)) };
    let a = match state.store.kb_article_by_slug(&slug).await {
        Ok(Some(a)) if a.status == "published" => a,
        Ok(_) => return not_found(&state, lang),
        Err(e) => return error_page(&state, lang, None, e.into()),
    };
    let Some(t) = a.translation(lang.as_str()) else {
        // Not written in this language: the nearest translation.
        return match pick(&a, lang) {
            Some(t) => Redirect::to(&article_url(&t.lang, &a.slug)).into_response(),
            None => not_found(&state, lang),
        };
    };
    let (visitor_id, set_cookie) = visitor(&state, &headers);
    let run = async {
        let cats = state.store.kb_categories().await?;
        let my_vote = state.store.kb_vote_of(&a.id, &lifebuoy_store::hash_secret(&visitor_id)).await?;
        Ok::<_, ApiError>((cats, my_vote))
    };
    let (cats, my_vote) = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, None, e),
    };
    let related = related(&state, &a, t, lang).await;
    let crumbs = trail(&cats, &a.category, lang);
    let others: Vec<minijinja::Value> = a
        .translations
        .iter()
        .filter(|x| x.lang != t.lang)
        .map(|x| minijinja::context! { lang => x.lang, label => lang_label(&x.lang), url => article_url(&x.lang, &a.slug) })
        .collect();
    // The language menu keeps the reader on this article when it is written in that language.
    let langs = lang_menu(
        ["zh-Hans", "zh-Hant", "en"]
            .map(|l| (l, if a.translation(l).is_some() { article_url(l, &a.slug) } else { format!("/help/{l}") })),
    );
    let base = Base::new(&state, lang, None, "help", &article_url(lang.as_str(), &a.slug));
    let body_html = render_markdown(&t.body);
    let mut r = render(
        &state,
        "article.html",
        &base,
        minijinja::context! {
            id => a.id, slug => a.slug, title => t.title, body_html, lang => t.lang, category => a.category,
            crumbs, related, others, langs, updated_at => a.updated_at, my_vote, voted => q.voted.is_some(),
            hl => lang.as_str()
        },
    );
    if let Some(v) = set_cookie.and_then(|c| c.parse().ok()) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// Up to five articles close to this one: by its title and keywords, then from its category.
async fn related(state: &AppState, a: &KbArticle, t: &KbTranslation, lang: Lang) -> Vec<ArticleLink> {
    let mut query = t.title.clone();
    for k in t.keywords.iter().take(6) {
        query.push(' ');
        query.push_str(k);
    }
    let kb = state.kb.clone();
    let opts =
        lifebuoy_search::SearchOpts { lang: Some(t.lang.clone()), category: None, include_internal: false, limit: 8 };
    let hits = tokio::task::spawn_blocking(move || kb.search(&query, &opts)).await.ok().and_then(|r| r.ok());
    let mut out: Vec<ArticleLink> = Vec::new();
    for h in hits.unwrap_or_default() {
        if h.article_id != a.id && !out.iter().any(|o| o.id == h.article_id) {
            out.push(ArticleLink {
                id: h.article_id,
                title: h.title,
                url: article_url(&h.lang, &h.slug),
                lang: h.lang,
                other_lang: None,
                category: h.category,
                excerpt: String::new(),
            });
        }
        if out.len() >= 5 {
            return out;
        }
    }
    if out.len() < 3 {
        let same = state
            .store
            .kb_articles(&KbFilter {
                status: Some("published".into()),
                category: Some(a.category.clone()),
                ..Default::default()
            })
            .await
            .unwrap_or_default();
        for x in same.iter().filter(|x| x.id != a.id) {
            if out.len() >= 5 {
                break;
            }
            if !out.iter().any(|o| o.id == x.id)
                && let Some(l) = link(x, lang)
            {
                out.push(l);
            }
        }
    }
    out
}

#[derive(Deserialize)]
struct VoteForm {
    helpful: String,
}

/// `POST /help/{lang}/{slug}/vote`: "was this helpful?" without JavaScript; one vote per reader and article
/// (voting again replaces the vote).
async fn vote(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((lang, slug)): Path<(String, String)>,
    Form(f): Form<VoteForm>,
) -> Response {
    let Some(lang) = help_lang(&lang) else { return not_found(&state, Lang::En) };
    let run = async {
        crate::auth::check_same_origin(&headers)?;
        let helpful = match f.helpful.as_str() {
            "yes" => true,
            "no" => false,
            _ => return Err(ApiError::invalid("helpful", "yes or no")),
        };
        let a = state.store.kb_article_by_slug(&slug).await?.filter(|a| a.status == "published");
        let a = a.ok_or_else(ApiError::not_found)?;
        let (visitor_id, set_cookie) = visitor(&state, &headers);
        state.store.kb_vote(&a.id, lang.as_str(), &lifebuoy_store::hash_secret(&visitor_id), helpful).await?;
        Ok(set_cookie)
    };
    match run.await {
        Ok(cookie) => {
            let mut r =
                Redirect::to(&format!("{}?voted=1#feedback", article_url(lang.as_str(), &slug))).into_response();
            if let Some(c) = cookie.and_then(|c| c.parse().ok()) {
                r.headers_mut().append(header::SET_COOKIE, c);
            }
            r
        }
        Err(e) => error_page(&state, lang, None, e),
    }
}

#[derive(Deserialize)]
pub struct SearchPageQuery {
    q: Option<String>,
    category: Option<String>,
}

#[derive(Serialize)]
struct ResultView {
    title: String,
    url: String,
    snippet_html: String,
    category: String,
    category_name: String,
    other_lang: Option<&'static str>,
}

/// `GET /help/{lang}/search?q=&category=`: results with highlighted snippets, filterable by category. A query
/// in any script finds articles in every script (提幣 finds 提币); each article is shown once, in the reader's
/// language when written in it.
async fn search_page(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    Query(sq): Query<SearchPageQuery>,
) -> Response {
    let Some(lang) = help_lang(&lang) else { return not_found(&state, Lang::En) };
    let q = sq.q.unwrap_or_default().trim().to_string();
    let category = sq.category.filter(|c| !c.is_empty());
    let cats = match state.store.kb_categories().await {
        Ok(c) => c,
        Err(e) => return error_page(&state, lang, None, e.into()),
    };
    let too_long = q.chars().count() > 200;
    let mut results: Vec<ResultView> = Vec::new();
    let mut facets: Vec<minijinja::Value> = Vec::new();
    let mut total = 0;
    if !q.is_empty() && !too_long {
        let kb = state.kb.clone();
        let query = q.clone();
        let opts = lifebuoy_search::SearchOpts { lang: None, category: None, include_internal: false, limit: 60 };
        let hits = match tokio::task::spawn_blocking(move || kb.search(&query, &opts)).await {
            Ok(Ok(h)) => h,
            _ => return error_page(&state, lang, None, ApiError::bad_request("search failed; try again")),
        };
        // One hit per article: the reader's language when it matched, else the best-ranked version.
        let order = fallbacks(lang);
        let mut best: Vec<lifebuoy_search::Hit> = Vec::new();
        for h in hits {
            match best.iter_mut().find(|b| b.article_id == h.article_id) {
                Some(b) => {
                    let rank = |l: &str| order.iter().position(|x| *x == l).unwrap_or(9);
                    if rank(&h.lang) < rank(&b.lang) {
                        let score = b.score;
                        *b = h;
                        b.score = score;
                    }
                }
                None => best.push(h),
            }
        }
        // Category counts over every result (top-level categories), then the filter.
        let tops: Vec<&KbCategory> = cats.iter().filter(|c| c.parent.is_none()).collect();
        for c in tops {
            let tree = subtree(&cats, &c.slug);
            let n = best.iter().filter(|h| tree.contains(&h.category)).count();
            if n > 0 {
                facets.push(minijinja::context! { slug => c.slug, name => c.name(lang), count => n });
            }
        }
        if let Some(cat) = &category {
            let tree = subtree(&cats, cat);
            best.retain(|h| tree.contains(&h.category));
        }
        total = best.len();
        let top = best.first().map(|h| h.article_id.clone());
        log_search(&state, &q, Some(lang.as_str()), "help", best.len(), top.as_deref());
        results = best
            .into_iter()
            .take(20)
            .map(|h| ResultView {
                url: article_url(&h.lang, &h.slug),
                category_name: cats
                    .iter()
                    .find(|c| c.slug == h.category)
                    .map(|c| c.name(lang).to_string())
                    .unwrap_or_else(|| h.category.clone()),
                other_lang: (h.lang != lang.as_str()).then(|| lang_label(&h.lang)),
                title: h.title,
                snippet_html: h.snippet_html,
                category: h.category,
            })
            .collect();
    }
    let suffix = format!("/search?q={}", urlencode(&q));
    let base = Base::new(&state, lang, None, "help", &format!("/help/{}{suffix}", lang.as_str()));
    render(
        &state,
        "help_search.html",
        &base,
        minijinja::context! {
            searched => !q.is_empty() && !too_long, q, category, results, total, facets, too_long,
            langs => same_page_menu(&suffix), hl => lang.as_str()
        },
    )
}

/// `GET /sitemap.xml`: every published article in every language it is written in, with its alternates.
async fn sitemap(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let host: String =
        host.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')).collect();
    let origin = format!("{}://{host}", if state.config.secure_cookies { "https" } else { "http" });
    let articles = match published(&state).await {
        Ok(a) => a,
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let esc = lifebuoy_search::escape_html;
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for l in ["zh-Hans", "zh-Hant", "en"] {
        x.push_str(&format!("<url><loc>{origin}/help/{l}</loc></url>\n"));
    }
    for a in &articles {
        let lastmod = chrono::DateTime::from_timestamp_millis(a.updated_at)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        for t in &a.translations {
            x.push_str(&format!(
                "<url><loc>{}</loc><lastmod>{lastmod}</lastmod>",
                esc(&format!("{origin}{}", article_url(&t.lang, &a.slug)))
            ));
            for o in &a.translations {
                x.push_str(&format!(
                    "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                    o.lang,
                    esc(&format!("{origin}{}", article_url(&o.lang, &a.slug)))
                ));
            }
            x.push_str("</url>\n");
        }
    }
    x.push_str("</urlset>\n");
    ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], x).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(slug: &str, parent: Option<&str>) -> KbCategory {
        KbCategory {
            slug: slug.into(),
            parent: parent.map(str::to_string),
            name_zh_hans: slug.into(),
            name_zh_hant: slug.into(),
            name_en: slug.into(),
            position: 0,
        }
    }

    #[test]
    fn category_tree_helpers() {
        let cats =
            vec![cat("funds", None), cat("deposit", Some("funds")), cat("withdrawal", Some("funds")), cat("kyc", None)];
        assert_eq!(subtree(&cats, "funds"), ["funds", "deposit", "withdrawal"]);
        let t = trail(&cats, "deposit", Lang::En);
        assert_eq!(t.iter().map(|c| c.slug.as_str()).collect::<Vec<_>>(), ["funds", "deposit"]);
        assert_eq!(t[1].url, "/help/en/c/deposit");
        assert_eq!(urlencode("/help/en/search?q=提"), "/help/en/search%3Fq%3D%E6%8F%90");
    }
}
