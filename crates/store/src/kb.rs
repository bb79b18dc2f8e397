//! The knowledge base: articles (slug, category, status) with one translation per language, every saved
//! version, the category tree, readers' votes, the search log, ticket-form deflection and the synonym groups.
//! The search index is built from here; the store only keeps the truth.

use crate::{Conflict, Result, Store, StoreError, new_id, now_ms, on_read, on_write};
use lifebuoy_domain::{Invalid, Lang};
use serde::{Deserialize, Serialize};

/// One language version of an article, as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbTranslation {
    pub lang: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// What an editor saves: the whole article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbArticleInput {
    pub slug: String,
    pub category: String,
    pub status: String,
    pub translations: Vec<KbTranslation>,
}

/// An article as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KbArticle {
    pub id: String,
    pub slug: String,
    pub category: String,
    pub status: String,
    /// Bumped by every save; the number of the latest version.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Ordered zh-Hans, zh-Hant, en.
    pub translations: Vec<KbTranslation>,
}

impl KbArticle {
    /// The translation in `lang`, if written.
    pub fn translation(&self, lang: &str) -> Option<&KbTranslation> {
        self.translations.iter().find(|t| t.lang == lang)
    }

    /// The article as an editor would save it again.
    pub fn input(&self) -> KbArticleInput {
        KbArticleInput {
            slug: self.slug.clone(),
            category: self.category.clone(),
            status: self.status.clone(),
            translations: self.translations.clone(),
        }
    }
}

/// A saved version of an article.
#[derive(Debug, Clone, Serialize)]
pub struct KbVersion {
    pub article_id: String,
    pub version: i64,
    pub author_id: Option<String>,
    pub author_name: String,
    /// What the save was: `created`, `edited`, `published`, `unpublished`, `imported`, ...
    pub note: String,
    pub created_at: i64,
    pub content: KbArticleInput,
}

/// Who saves: an agent, or a tool (`import`).
#[derive(Debug, Clone)]
pub struct KbAuthor {
    pub id: Option<String>,
    pub name: String,
}

/// A help-center category; `parent` makes the tree.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KbCategory {
    pub slug: String,
    pub parent: Option<String>,
    pub name_zh_hans: String,
    pub name_zh_hant: String,
    pub name_en: String,
    pub position: i64,
}

impl KbCategory {
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhHans => &self.name_zh_hans,
            Lang::ZhHant => &self.name_zh_hant,
            Lang::En => &self.name_en,
        }
    }
}

/// Filters of [`Store::kb_articles`].
#[derive(Debug, Clone, Default)]
pub struct KbFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    /// Only articles with a translation in this language.
    pub lang: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KbImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Ids of the articles created or updated (for reindexing).
    pub changed_ids: Vec<String>,
}

/// One logged search.
#[derive(Debug, Clone)]
pub struct KbSearchLog {
    pub query: String,
    pub lang: Option<String>,
    /// `api`, `help` or `answers`.
    pub source: String,
    pub results: i64,
    pub top_article: Option<String>,
}

/// A query and how often it was asked.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KbQueryCount {
    pub query: String,
    pub count: i64,
    /// Results of the most recent time (0 for no-result queries).
    pub results: i64,
}

/// Votes on one article.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KbVoteCount {
    pub article_id: String,
    pub helpful: i64,
    pub unhelpful: i64,
}

/// Ticket forms that showed suggestions, and how many still ended in a ticket.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct KbDeflection {
    pub shown: i64,
    pub filed: i64,
}

impl KbDeflection {
    /// Share of forms with suggestions that did not end in a ticket (`None` before any was shown).
    pub fn rate(&self) -> Option<f64> {
        (self.shown > 0).then(|| (self.shown - self.filed) as f64 / self.shown as f64)
    }
}

/// An editable synonym group.
#[derive(Debug, Clone, Serialize)]
pub struct KbSynonymGroup {
    pub id: String,
    pub terms: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: String,
    slug: String,
    category: String,
    status: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct TranslationRow {
    article_id: String,
    lang: String,
    title: String,
    body: String,
    keywords: String,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    article_id: String,
    version: i64,
    author_id: Option<String>,
    author_name: String,
    note: String,
    content: String,
    created_at: i64,
}

const ARTICLE_COLS: &str = "id, slug, category, status, version, created_at, updated_at";

fn lang_order(l: &str) -> usize {
    match l {
        "zh-Hans" => 0,
        "zh-Hant" => 1,
        _ => 2,
    }
}

/// A slug: 1–100 lowercase ASCII letters, digits and single hyphens, e.g. `withdrawal-delayed`.
pub fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// Checks and normalises an article before it is saved.
pub fn clean_article(input: &KbArticleInput) -> Result<KbArticleInput, Invalid> {
    let slug = input.slug.trim().to_string();
    if !valid_slug(&slug) {
        return Err(Invalid::new("slug", "1 to 100 lowercase letters, digits and hyphens, e.g. withdrawal-delayed"));
    }
    let category = input.category.trim().to_string();
    if category.is_empty() {
        return Err(Invalid::new("category", "choose a category"));
    }
    let status = input.status.trim().to_string();
    lifebuoy_domain::KbStatus::parse(&status).map_err(|_| Invalid::new("status", "draft, published or internal"))?;
    let mut translations: Vec<KbTranslation> = Vec::new();
    for t in &input.translations {
        let lang = Lang::parse(t.lang.trim()).map_err(|_| Invalid::new("lang", "zh-Hans, zh-Hant or en"))?;
        let title = t.title.trim().to_string();
        let body = t.body.replace("\r\n", "\n");
        if title.is_empty() && body.trim().is_empty() {
            // An empty column in the editor: that language is not written.
            continue;
        }
        if title.is_empty() || title.chars().count() > 200 {
            return Err(Invalid::new("title", format!("{}: 1 to 200 characters", lang.as_str())));
        }
        if body.trim().is_empty() || body.len() > 200_000 {
            return Err(Invalid::new("body", format!("{}: write the article (at most 200 KB)", lang.as_str())));
        }
        let mut keywords: Vec<String> = Vec::new();
        for k in &t.keywords {
            let k = k.trim();
            if k.is_empty() || keywords.iter().any(|x| x == k) {
                continue;
            }
            if k.chars().count() > 60 {
                return Err(Invalid::new("keywords", "each keyword at most 60 characters"));
            }
            keywords.push(k.to_string());
        }
        if keywords.len() > 50 {
            return Err(Invalid::new("keywords", "at most 50 keywords per language"));
        }
        if translations.iter().any(|x| x.lang == lang.as_str()) {
            return Err(Invalid::new("lang", format!("{} is given twice", lang.as_str())));
        }
        translations.push(KbTranslation { lang: lang.as_str().to_string(), title, body, keywords });
    }
    if translations.is_empty() {
        return Err(Invalid::new("translations", "write the article in at least one language"));
    }
    translations.sort_by_key(|t| lang_order(&t.lang));
    Ok(KbArticleInput { slug, category, status, translations })
}

/// Splits a keyword list as typed in a form: commas (`,` `，` `、`) or new lines.
pub fn split_keywords(s: &str) -> Vec<String> {
    s.split([',', '，', '、', '\n']).map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect()
}

/// Runs `$body` in a transaction on the writer; `$conn` is the transaction's connection.
macro_rules! in_tx {
    ($s:expr, $t:ty, |$conn:ident| $body:expr) => {
        on_write!($s, |pool, _lock| {
            let mut tx = pool.begin().await?;
            let r: Result<$t> = async {
                let $conn = &mut *tx;
                $body
            }
            .await;
            match r {
                Ok(v) => {
                    tx.commit().await?;
                    Ok(v)
                }
                Err(e) => Err(e),
            }
        })
    };
}

/// Writes the article's current row, translations and a new version inside a transaction.
macro_rules! save_article {
    ($conn:expr, $id:expr, $a:expr, $version:expr, $author:expr, $note:expr, $now:expr) => {{
        let (id, a, version, author, note, now): (&str, &KbArticleInput, i64, &KbAuthor, &str, i64) =
            ($id, $a, $version, $author, $note, $now);
        sqlx::query("DELETE FROM kb_translations WHERE article_id = $1").bind(id).execute(&mut *$conn).await?;
        // Every node's knowledge-base index reads the save from the change log.
        crate::index_log::log_changes(&mut *$conn, crate::Indexed::Article, &[id]).await?;
        for t in &a.translations {
            let kw = serde_json::to_string(&t.keywords).unwrap_or_else(|_| "[]".into());
            sqlx::query(
                "INSERT INTO kb_translations (article_id, lang, title, body, keywords, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(&t.lang)
            .bind(&t.title)
            .bind(&t.body)
            .bind(kw)
            .bind(now)
            .execute(&mut *$conn)
            .await?;
        }
        let content = serde_json::to_string(a).unwrap_or_default();
        sqlx::query(
            "INSERT INTO kb_versions (article_id, version, author_id, author_name, note, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(version)
        .bind(&author.id)
        .bind(&author.name)
        .bind(note)
        .bind(content)
        .bind(now)
        .execute(&mut *$conn)
        .await?;
    }};
}

/// Makes sure a category exists: known ones are kept, unknown ones are created at the top level named by
/// their slug (an editor can rename them later).
macro_rules! ensure_category {
    ($conn:expr, $slug:expr) => {{
        let slug: &str = $slug;
        let found: Option<(String,)> = sqlx::query_as("SELECT slug FROM kb_categories WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut *$conn)
            .await?;
        if found.is_none() {
            if !valid_slug(slug) {
                return Err(Invalid::new("category", "lowercase letters, digits and hyphens").into());
            }
            sqlx::query(
                "INSERT INTO kb_categories (slug, parent, name_zh_hans, name_zh_hant, name_en, position) \
                 VALUES ($1, NULL, $1, $1, $1, 1000)",
            )
            .bind(slug)
            .execute(&mut *$conn)
            .await?;
        }
    }};
}

impl Store {
    // ----- articles -----

    /// Every article matching the filter, with its translations, by slug.
    pub async fn kb_articles(&self, f: &KbFilter) -> Result<Vec<KbArticle>> {
        let mut sql = format!("SELECT {ARTICLE_COLS} FROM kb_articles WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        if let Some(s) = &f.status {
            args.push(s.clone());
            sql.push_str(&format!(" AND status = ${}", args.len()));
        }
        if let Some(c) = &f.category {
            args.push(c.clone());
            sql.push_str(&format!(" AND category = ${}", args.len()));
        }
        if let Some(l) = &f.lang {
            args.push(l.clone());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM kb_translations t WHERE t.article_id = kb_articles.id AND t.lang = ${})",
                args.len()
            ));
        }
        sql.push_str(" ORDER BY slug");
        let rows: Vec<ArticleRow> = on_read!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })?;
        let trs: Vec<TranslationRow> = on_read!(self, |pool| sqlx::query_as(
            "SELECT article_id, lang, title, body, keywords FROM kb_translations"
        )
        .fetch_all(pool)
        .await)?;
        let mut by_article: std::collections::HashMap<String, Vec<KbTranslation>> = Default::default();
        for t in trs {
            by_article.entry(t.article_id.clone()).or_default().push(translation(t));
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut ts = by_article.remove(&r.id).unwrap_or_default();
                ts.sort_by_key(|t| lang_order(&t.lang));
                article(r, ts)
            })
            .collect())
    }

    /// One article by id.
    pub async fn kb_article(&self, id: &str) -> Result<Option<KbArticle>> {
        self.kb_article_where("id", id).await
    }

    /// One article by slug.
    pub async fn kb_article_by_slug(&self, slug: &str) -> Result<Option<KbArticle>> {
        self.kb_article_where("slug", slug).await
    }

    async fn kb_article_where(&self, col: &str, v: &str) -> Result<Option<KbArticle>> {
        let sql = format!("SELECT {ARTICLE_COLS} FROM kb_articles WHERE {col} = $1");
        let row: Option<ArticleRow> = on_read!(self, |pool| sqlx::query_as(&sql).bind(v).fetch_optional(pool).await)?;
        let Some(row) = row else { return Ok(None) };
        let trs: Vec<TranslationRow> = on_read!(self, |pool| sqlx::query_as(
            "SELECT article_id, lang, title, body, keywords FROM kb_translations WHERE article_id = $1"
        )
        .bind(&row.id)
        .fetch_all(pool)
        .await)?;
        let mut ts: Vec<KbTranslation> = trs.into_iter().map(translation).collect();
        ts.sort_by_key(|t| lang_order(&t.lang));
        Ok(Some(article(row, ts)))
    }

    /// True when no article has been saved yet.
    pub async fn kb_is_empty(&self) -> Result<bool> {
        let (n,): (i64,) =
            on_read!(self, |pool| sqlx::query_as("SELECT COUNT(*) FROM kb_articles").fetch_one(pool).await)?;
        Ok(n == 0)
    }

    /// Creates an article (version 1). A slug in use is a conflict; an unknown category is created.
    pub async fn kb_create_article(&self, input: &KbArticleInput, author: &KbAuthor) -> Result<KbArticle> {
        let a = clean_article(input)?;
        let id = new_id();
        let now = now_ms();
        let res = in_tx!(self, (), |conn| {
            ensure_category!(conn, &a.category);
            sqlx::query(
                "INSERT INTO kb_articles (id, slug, category, status, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 1, $5, $5)",
            )
            .bind(&id)
            .bind(&a.slug)
            .bind(&a.category)
            .bind(&a.status)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            save_article!(conn, &id, &a, 1, author, "created", now);
            Ok(())
        });
        match res {
            Err(StoreError::Db(e)) if crate::is_unique_violation(&e) => {
                return Err(Conflict::SlugTaken(a.slug.clone()).into());
            }
            r => r?,
        }
        self.kb_article(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Saves a new version of an article. With `expected_version`, a save over someone else's newer version is a
    /// conflict (the editor shows the version it started from). Saving identical content changes nothing.
    pub async fn kb_update_article(
        &self,
        id: &str,
        input: &KbArticleInput,
        expected_version: Option<i64>,
        author: &KbAuthor,
        note: &str,
    ) -> Result<KbArticle> {
        let a = clean_article(input)?;
        let cur = self.kb_article(id).await?.ok_or(StoreError::NotFound)?;
        if let Some(v) = expected_version
            && v != cur.version
        {
            return Err(Conflict::StaleVersion { yours: v, saved: cur.version }.into());
        }
        if cur.input() == a {
            return Ok(cur);
        }
        let now = now_ms();
        let (id, note) = (id.to_string(), note.to_string());
        let res = in_tx!(self, (), |conn| {
            ensure_category!(conn, &a.category);
            let (v,): (i64,) =
                sqlx::query_as("SELECT version FROM kb_articles WHERE id = $1").bind(&id).fetch_one(&mut *conn).await?;
            if v != cur.version {
                return Err(Conflict::StaleVersion { yours: cur.version, saved: v }.into());
            }
            sqlx::query(
                "UPDATE kb_articles SET slug = $2, category = $3, status = $4, version = $5, updated_at = $6 \
                 WHERE id = $1",
            )
            .bind(&id)
            .bind(&a.slug)
            .bind(&a.category)
            .bind(&a.status)
            .bind(v + 1)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            save_article!(conn, &id, &a, v + 1, author, &note, now);
            Ok(())
        });
        match res {
            Err(StoreError::Db(e)) if crate::is_unique_violation(&e) => {
                return Err(Conflict::SlugTaken(a.slug.clone()).into());
            }
            r => r?,
        }
        self.kb_article(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Publishes, unpublishes (back to draft) or makes internal: a save like any other, so it is in the history.
    pub async fn kb_set_status(&self, id: &str, status: &str, author: &KbAuthor) -> Result<KbArticle> {
        let cur = self.kb_article(id).await?.ok_or(StoreError::NotFound)?;
        let mut input = cur.input();
        input.status = status.to_string();
        let note = match status {
            "published" => "published",
            "draft" => "unpublished",
            _ => "status",
        };
        self.kb_update_article(id, &input, None, author, note).await
    }

    /// Every saved version of an article, newest first.
    pub async fn kb_versions(&self, article_id: &str) -> Result<Vec<KbVersion>> {
        let rows: Vec<VersionRow> = on_read!(self, |pool| sqlx::query_as(
            "SELECT article_id, version, author_id, author_name, note, content, created_at FROM kb_versions \
             WHERE article_id = $1 ORDER BY version DESC"
        )
        .bind(article_id)
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(version).collect()
    }

    /// One saved version.
    pub async fn kb_version(&self, article_id: &str, v: i64) -> Result<Option<KbVersion>> {
        let row: Option<VersionRow> = on_read!(self, |pool| sqlx::query_as(
            "SELECT article_id, version, author_id, author_name, note, content, created_at FROM kb_versions \
             WHERE article_id = $1 AND version = $2"
        )
        .bind(article_id)
        .bind(v)
        .fetch_optional(pool)
        .await)?;
        row.map(version).transpose()
    }

    /// Imports articles (from files): matched by slug, created when new, saved as a new version when different,
    /// left alone when identical. Every article is checked before anything is written.
    pub async fn kb_import(&self, articles: &[KbArticleInput], author: &KbAuthor) -> Result<KbImportReport> {
        let cleaned: Vec<KbArticleInput> = articles.iter().map(clean_article).collect::<Result<_, _>>()?;
        let mut report = KbImportReport::default();
        for a in &cleaned {
            match self.kb_article_by_slug(&a.slug).await? {
                None => {
                    let created = self.kb_create_article(a, author).await?;
                    report.created += 1;
                    report.changed_ids.push(created.id);
                }
                Some(cur) if cur.input() == *a => report.unchanged += 1,
                Some(cur) => {
                    self.kb_update_article(&cur.id, a, Some(cur.version), author, "imported").await?;
                    report.updated += 1;
                    report.changed_ids.push(cur.id);
                }
            }
        }
        Ok(report)
    }

    // ----- categories -----

    /// Every category, in display order.
    pub async fn kb_categories(&self) -> Result<Vec<KbCategory>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT slug, parent, name_zh_hans, name_zh_hant, name_en, position FROM kb_categories \
             ORDER BY position, slug"
        )
        .fetch_all(pool)
        .await)?)
    }

    /// Creates or renames a category. A parent must exist and must not make a loop.
    pub async fn kb_save_category(&self, c: &KbCategory) -> Result<()> {
        if !valid_slug(&c.slug) {
            return Err(Invalid::new("slug", "lowercase letters, digits and hyphens").into());
        }
        for n in [&c.name_zh_hans, &c.name_zh_hant, &c.name_en] {
            if n.trim().is_empty() || n.chars().count() > 80 {
                return Err(Invalid::new("name", "1 to 80 characters in each language").into());
            }
        }
        if let Some(p) = &c.parent {
            let all = self.kb_categories().await?;
            let mut cur = Some(p.clone());
            let mut steps = 0;
            while let Some(s) = cur {
                if s == c.slug || steps > 32 {
                    return Err(Invalid::new("parent", "a category cannot sit under itself").into());
                }
                let Some(found) = all.iter().find(|x| x.slug == s) else {
                    return Err(Invalid::new("parent", "no such category").into());
                };
                cur = found.parent.clone();
                steps += 1;
            }
        }
        let c = c.clone();
        in_tx!(self, (), |conn| {
            sqlx::query(
                "INSERT INTO kb_categories (slug, parent, name_zh_hans, name_zh_hant, name_en, position) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (slug) DO UPDATE SET parent = excluded.parent, \
                 name_zh_hans = excluded.name_zh_hans, name_zh_hant = excluded.name_zh_hant, \
                 name_en = excluded.name_en, position = excluded.position",
            )
            .bind(&c.slug)
            .bind(&c.parent)
            .bind(c.name_zh_hans.trim())
            .bind(c.name_zh_hant.trim())
            .bind(c.name_en.trim())
            .bind(c.position)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    // ----- votes -----

    /// Records a reader's vote; a second vote by the same voter replaces the first.
    pub async fn kb_vote(&self, article_id: &str, lang: &str, voter: &str, helpful: bool) -> Result<()> {
        let lang = Lang::parse(lang)?;
        if voter.is_empty() || voter.len() > 128 {
            return Err(Invalid::new("voter", "missing").into());
        }
        let (article_id, voter) = (article_id.to_string(), voter.to_string());
        let now = now_ms();
        let res = crate::chat::grouped_write!(self, (), [article_id, voter], |conn| {
            sqlx::query(
                "INSERT INTO kb_votes (article_id, voter, lang, helpful, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (article_id, voter) DO UPDATE SET helpful = excluded.helpful, lang = excluded.lang, \
                 created_at = excluded.created_at",
            )
            .bind(&article_id)
            .bind(&voter)
            .bind(lang.as_str())
            .bind(helpful)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            Ok(())
        });
        match res {
            Err(StoreError::Db(sqlx::Error::Database(d))) if d.is_foreign_key_violation() => Err(StoreError::NotFound),
            r => r,
        }
    }

    /// The vote a voter gave an article, if any.
    pub async fn kb_vote_of(&self, article_id: &str, voter: &str) -> Result<Option<bool>> {
        let r: Option<(bool,)> =
            on_read!(self, |pool| sqlx::query_as("SELECT helpful FROM kb_votes WHERE article_id = $1 AND voter = $2")
                .bind(article_id)
                .bind(voter)
                .fetch_optional(pool)
                .await)?;
        Ok(r.map(|(h,)| h))
    }

    /// Helpful and unhelpful votes per article, most voted first.
    pub async fn kb_vote_counts(&self) -> Result<Vec<KbVoteCount>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT article_id, SUM(CASE WHEN helpful THEN 1 ELSE 0 END) AS helpful, \
             SUM(CASE WHEN helpful THEN 0 ELSE 1 END) AS unhelpful FROM kb_votes GROUP BY article_id \
             ORDER BY COUNT(*) DESC, article_id"
        )
        .fetch_all(pool)
        .await)?)
    }

    // ----- search log and deflection -----

    /// Logs a search. On SQLite it rides the group-commit writer, so a burst of searches costs one fsync.
    pub async fn kb_log_search(&self, e: &KbSearchLog) -> Result<()> {
        let e = e.clone();
        let query: String = e.query.trim().chars().take(200).collect();
        let (id, now) = (new_id(), now_ms());
        crate::chat::grouped_write!(self, (), [e, query, id], |conn| {
            sqlx::query(
                "INSERT INTO kb_searches (id, query, lang, source, results, top_article, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(&query)
            .bind(&e.lang)
            .bind(&e.source)
            .bind(e.results)
            .bind(&e.top_article)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    /// The most asked queries since `since_ms` (case-folded), with or without results.
    pub async fn kb_top_queries(&self, since_ms: i64, zero_results: bool, limit: i64) -> Result<Vec<KbQueryCount>> {
        let cond = if zero_results { "AND results = 0" } else { "" };
        let sql = format!(
            "SELECT LOWER(query) AS query, COUNT(*) AS count, MIN(results) AS results FROM kb_searches \
             WHERE created_at >= $1 {cond} GROUP BY LOWER(query) ORDER BY COUNT(*) DESC, LOWER(query) LIMIT $2"
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(since_ms).bind(limit).fetch_all(pool).await)?)
    }

    /// Number of searches since `since_ms`, and how many found nothing.
    pub async fn kb_search_totals(&self, since_ms: i64) -> Result<(i64, i64)> {
        let r: (i64, Option<i64>) = on_read!(self, |pool| sqlx::query_as(
            "SELECT COUNT(*), SUM(CASE WHEN results = 0 THEN 1 ELSE 0 END) FROM kb_searches WHERE created_at >= $1"
        )
        .bind(since_ms)
        .fetch_one(pool)
        .await)?;
        Ok((r.0, r.1.unwrap_or(0)))
    }

    /// A ticket form showed suggested articles (once per form).
    pub async fn kb_deflection_shown(
        &self,
        form_id: &str,
        customer_id: Option<&str>,
        lang: Option<&str>,
        top_article: Option<&str>,
    ) -> Result<()> {
        let (form_id, customer_id, lang, top) = (
            form_id.to_string(),
            customer_id.map(str::to_string),
            lang.map(str::to_string),
            top_article.map(str::to_string),
        );
        let now = now_ms();
        crate::chat::grouped_write!(self, (), [form_id, customer_id, lang, top], |conn| {
            sqlx::query(
                "INSERT INTO kb_deflections (form_id, customer_id, lang, top_article, shown_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (form_id) DO NOTHING",
            )
            .bind(&form_id)
            .bind(&customer_id)
            .bind(&lang)
            .bind(&top)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    /// The form was submitted anyway: a ticket was filed. No-op for forms that showed nothing.
    pub async fn kb_deflection_filed(&self, form_id: &str, ticket_id: &str) -> Result<()> {
        let now = now_ms();
        on_write!(self, |pool, _lock| sqlx::query(
            "UPDATE kb_deflections SET ticket_id = $2, filed_at = $3 WHERE form_id = $1 AND ticket_id IS NULL"
        )
        .bind(form_id)
        .bind(ticket_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Forms with suggestions since `since_ms`, and how many still filed a ticket.
    pub async fn kb_deflection_stats(&self, since_ms: i64) -> Result<KbDeflection> {
        let (shown, filed): (i64, i64) = on_read!(self, |pool| sqlx::query_as(
            "SELECT COUNT(*), COUNT(ticket_id) FROM kb_deflections WHERE shown_at >= $1"
        )
        .bind(since_ms)
        .fetch_one(pool)
        .await)?;
        Ok(KbDeflection { shown, filed })
    }

    // ----- synonyms -----

    /// Seeds the synonym groups once (the first start after the migration); later edits are never overwritten.
    pub async fn kb_seed_synonyms(&self, groups: &[Vec<String>]) -> Result<bool> {
        let groups = groups.to_vec();
        let now = now_ms();
        in_tx!(self, bool, |conn| {
            let done: Option<(String,)> = sqlx::query_as("SELECT value FROM kb_settings WHERE key = 'synonyms_seeded'")
                .fetch_optional(&mut *conn)
                .await?;
            if done.is_some() {
                return Ok(false);
            }
            for (i, g) in groups.iter().enumerate() {
                sqlx::query("INSERT INTO kb_synonyms (id, terms, created_at) VALUES ($1, $2, $3)")
                    .bind(new_id())
                    .bind(g.join(", "))
                    .bind(now + i as i64)
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query("INSERT INTO kb_settings (key, value) VALUES ('synonyms_seeded', '1')")
                .execute(&mut *conn)
                .await?;
            Ok(true)
        })
    }

    /// The synonym groups, oldest first.
    pub async fn kb_synonyms(&self) -> Result<Vec<KbSynonymGroup>> {
        let rows: Vec<(String, String)> =
            on_read!(self, |pool| sqlx::query_as("SELECT id, terms FROM kb_synonyms ORDER BY created_at, id")
                .fetch_all(pool)
                .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, terms)| KbSynonymGroup {
                id,
                terms: terms.split(", ").map(str::to_string).filter(|t| !t.is_empty()).collect(),
            })
            .collect())
    }

    /// Adds a group of at least two distinct terms.
    pub async fn kb_add_synonyms(&self, terms: &[String]) -> Result<KbSynonymGroup> {
        let mut clean: Vec<String> = Vec::new();
        for t in terms {
            let t = t.trim();
            if t.is_empty() {
                continue;
            }
            if t.chars().count() > 60 || t.contains([',', '，', '/', '、', '\n', '#']) {
                return Err(Invalid::new("terms", "each term at most 60 characters, without , / 、 or #").into());
            }
            if !clean.iter().any(|c| c.to_lowercase() == t.to_lowercase()) {
                clean.push(t.to_string());
            }
        }
        if clean.len() < 2 || clean.len() > 30 {
            return Err(Invalid::new("terms", "2 to 30 different terms, separated by commas").into());
        }
        let id = new_id();
        let terms = clean.join(", ");
        let now = now_ms();
        in_tx!(self, (), |conn| {
            sqlx::query("INSERT INTO kb_synonyms (id, terms, created_at) VALUES ($1, $2, $3)")
                .bind(&id)
                .bind(&terms)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            crate::index_log::log_changes(&mut *conn, crate::Indexed::Synonyms, &[id.as_str()]).await?;
            Ok(())
        })?;
        Ok(KbSynonymGroup { id, terms: clean })
    }

    /// Removes a group.
    pub async fn kb_delete_synonyms(&self, id: &str) -> Result<()> {
        let id = id.to_string();
        in_tx!(self, (), |conn| {
            let r = sqlx::query("DELETE FROM kb_synonyms WHERE id = $1").bind(&id).execute(&mut *conn).await?;
            if r.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            crate::index_log::log_changes(&mut *conn, crate::Indexed::Synonyms, &[id.as_str()]).await?;
            Ok(())
        })
    }
}

fn translation(t: TranslationRow) -> KbTranslation {
    KbTranslation {
        lang: t.lang,
        title: t.title,
        body: t.body,
        keywords: serde_json::from_str(&t.keywords).unwrap_or_default(),
    }
}

fn article(r: ArticleRow, translations: Vec<KbTranslation>) -> KbArticle {
    KbArticle {
        id: r.id,
        slug: r.slug,
        category: r.category,
        status: r.status,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
        translations,
    }
}

fn version(r: VersionRow) -> Result<KbVersion> {
    let content: KbArticleInput = serde_json::from_str(&r.content).map_err(|e| {
        StoreError::Inconsistent(format!("version {} of {} is unreadable: {e}", r.version, r.article_id))
    })?;
    Ok(KbVersion {
        article_id: r.article_id,
        version: r.version,
        author_id: r.author_id,
        author_name: r.author_name,
        note: r.note,
        created_at: r.created_at,
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_cleaning() {
        assert!(valid_slug("withdrawal-delayed") && valid_slug("2fa"));
        assert!(
            !valid_slug("Bad") && !valid_slug("a--b") && !valid_slug("-a") && !valid_slug("") && !valid_slug("a/b")
        );
        let t = |lang: &str, title: &str, body: &str| KbTranslation {
            lang: lang.into(),
            title: title.into(),
            body: body.into(),
            keywords: vec![" a ".into(), "a".into(), "".into()],
        };
        let a = KbArticleInput {
            slug: "x".into(),
            category: "deposit".into(),
            status: "published".into(),
            translations: vec![t("en", "T", "B"), t("zh-Hant", "", " "), t("zh-Hans", "标题", "正文")],
        };
        let c = clean_article(&a).unwrap();
        assert_eq!(c.translations.iter().map(|t| t.lang.as_str()).collect::<Vec<_>>(), ["zh-Hans", "en"]);
        assert_eq!(c.translations[0].keywords, ["a"]);
        let mut bad = a.clone();
        bad.status = "live".into();
        assert!(clean_article(&bad).is_err());
        let mut bad = a.clone();
        bad.translations = vec![t("en", "", "body only")];
        assert!(clean_article(&bad).unwrap_err().to_string().contains("title"));
        assert_eq!(split_keywords("提币，提现、 withdraw,\nfee"), ["提币", "提现", "withdraw", "fee"]);
    }
}
