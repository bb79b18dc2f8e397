//! The knowledge base between the database and the search index. The database holds the articles; each node
//! keeps an in-memory index built from it at start ([`App::load_kb`]). After a save the saving node
//! re-reads the article and updates its index at once, then announces the change on the hub (topic `kb`, carried
//! to other nodes by NATS); every other node re-reads that article from the database and updates its own index.
//! Synonym edits travel the same way. A node whose hub queue overflowed rebuilds its whole index.

use crate::App;
use crate::chat::Inbox;
use lifebuoy_search::{ArticleDoc, Synonyms};
use lifebuoy_store::{KbArticle, KbArticleInput, KbAuthor, KbFilter, KbTranslation};
use std::sync::atomic::{AtomicBool, Ordering};

/// The hub topic of knowledge-base changes.
pub const TOPIC: &str = "kb";

/// Errors of loading or syncing the knowledge base.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("{0}")]
    Store(#[from] lifebuoy_store::StoreError),
    #[error("{0}")]
    Search(#[from] lifebuoy_search::SearchError),
    #[error("{0}")]
    Files(String),
    #[error("the index task stopped")]
    Join,
}

/// This node's part in keeping indexes in step.
pub struct KbSync {
    /// Identifies this node's announcements, so it does not redo its own changes.
    node: String,
    listening: AtomicBool,
    watching: AtomicBool,
}

impl KbSync {
    /// Keeps this node from looking in the database for saves it was not told of ([`App::load_kb`] then
    /// starts no poller): for a test that must see the hub alone carry a change from node to node.
    pub fn without_polling(&self) {
        self.watching.store(true, Ordering::SeqCst);
    }
}

impl Default for KbSync {
    fn default() -> Self {
        KbSync {
            node: uuid::Uuid::new_v4().simple().to_string(),
            listening: AtomicBool::new(false),
            watching: AtomicBool::new(false),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Notice {
    node: String,
    #[serde(default)]
    article: Option<String>,
    #[serde(default)]
    synonyms: bool,
}

/// The index documents of a stored article: one per language, identified by the article's database id.
/// Drafts are not indexed (nobody searches them).
pub fn index_docs(a: &KbArticle) -> Vec<ArticleDoc> {
    if a.status == "draft" {
        return vec![];
    }
    file_docs(a)
        .into_iter()
        .map(|mut d| {
            d.article_id = a.id.clone();
            d
        })
        .collect()
}

/// The article as Markdown files would hold it: one document per language, identified by the slug.
pub fn file_docs(a: &KbArticle) -> Vec<ArticleDoc> {
    a.translations
        .iter()
        .map(|t| ArticleDoc {
            article_id: a.slug.clone(),
            slug: a.slug.clone(),
            lang: t.lang.clone(),
            title: t.title.clone(),
            body_markdown: t.body.clone(),
            category: a.category.clone(),
            keywords: t.keywords.clone(),
            status: a.status.clone(),
        })
        .collect()
}

/// Groups article files (one per language) into articles. The language files of one slug must agree on its
/// category and status.
pub fn inputs_from_docs(docs: &[ArticleDoc]) -> Result<Vec<KbArticleInput>, KbError> {
    let mut out: Vec<KbArticleInput> = Vec::new();
    for d in docs {
        let t = KbTranslation {
            lang: d.lang.clone(),
            title: d.title.clone(),
            body: d.body_markdown.clone(),
            keywords: d.keywords.clone(),
        };
        match out.iter_mut().find(|a| a.slug == d.slug) {
            Some(a) => {
                if a.category != d.category || a.status != d.status {
                    return Err(KbError::Files(format!(
                        "{}/{}.md: category {:?} and status {:?} differ from the other languages ({:?}, {:?})",
                        d.slug, d.lang, d.category, d.status, a.category, a.status
                    )));
                }
                a.translations.push(t);
            }
            None => out.push(KbArticleInput {
                slug: d.slug.clone(),
                category: d.category.clone(),
                status: d.status.clone(),
                translations: vec![t],
            }),
        }
    }
    Ok(out)
}

/// The built-in synonym groups, to seed the database with.
pub fn default_synonym_groups() -> Vec<Vec<String>> {
    Synonyms::default_exchange().groups()
}

impl App {
    /// Imports articles (files, or the starter set) when the knowledge base is still empty; returns how many
    /// articles were created.
    pub async fn import_kb_if_empty(&self, docs: &[ArticleDoc]) -> Result<usize, KbError> {
        if docs.is_empty() || !self.store.kb_is_empty().await? {
            return Ok(0);
        }
        let inputs = inputs_from_docs(docs)?;
        let r = self.store.kb_import(&inputs, &KbAuthor { id: None, name: "import".into() }).await?;
        Ok(r.created)
    }

    /// Builds this node's index from the database (synonyms included, seeded once from the built-in set) and
    /// starts following other nodes' changes. Returns the number of indexed documents.
    pub async fn load_kb(&self) -> Result<u64, KbError> {
        // Follow first, so that no change saved on another node while this one builds is missed.
        self.follow_kb_changes();
        self.watch_kb_saves();
        self.store.kb_seed_synonyms(&default_synonym_groups()).await?;
        self.reload_synonyms().await?;
        self.rebuild_kb().await
    }

    /// Rebuilds the whole index from the database in one commit.
    pub async fn rebuild_kb(&self) -> Result<u64, KbError> {
        let articles = self.store.kb_articles(&KbFilter::default()).await?;
        let kb = self.kb.clone();
        tokio::task::spawn_blocking(move || -> Result<u64, KbError> {
            kb.clear()?;
            for a in &articles {
                for d in index_docs(a) {
                    kb.upsert(&d)?;
                }
            }
            kb.commit()?;
            Ok(kb.num_docs())
        })
        .await
        .map_err(|_| KbError::Join)?
    }

    /// Re-reads one article from the database into this node's index (removing what is no longer there).
    pub async fn reindex_article(&self, id: &str) -> Result<(), KbError> {
        let a = self.store.kb_article(id).await?;
        let kb = self.kb.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || -> Result<(), KbError> {
            for l in lifebuoy_search::LANGS {
                kb.delete(&id, l)?;
            }
            if let Some(a) = &a {
                for d in index_docs(a) {
                    kb.upsert(&d)?;
                }
            }
            kb.commit()?;
            Ok(())
        })
        .await
        .map_err(|_| KbError::Join)?
    }

    /// Applies the database's synonym groups to this node's indexes (knowledge base and tickets).
    pub async fn reload_synonyms(&self) -> Result<(), KbError> {
        let groups = self.store.kb_synonyms().await?;
        let text: String = groups.iter().map(|g| g.terms.join(", ") + "\n").collect();
        let (kb, tickets) = (self.kb.clone(), self.tickets.index().clone());
        tokio::task::spawn_blocking(move || {
            let synonyms = Synonyms::parse(&text);
            tickets.set_synonyms(synonyms.clone());
            kb.set_synonyms(synonyms)
        })
        .await
        .map_err(|_| KbError::Join)
    }

    /// After an article was saved: update this node's index now, then tell the other nodes.
    pub async fn kb_article_changed(&self, id: &str) -> Result<(), KbError> {
        self.reindex_article(id).await?;
        self.announce(Notice { node: self.kb_sync.node.clone(), article: Some(id.to_string()), synonyms: false });
        Ok(())
    }

    /// After the synonym groups changed: apply them here now, then tell the other nodes.
    pub async fn kb_synonyms_changed(&self) -> Result<(), KbError> {
        self.reload_synonyms().await?;
        self.announce(Notice { node: self.kb_sync.node.clone(), article: None, synonyms: true });
        Ok(())
    }

    fn announce(&self, n: Notice) {
        self.hub.announce(TOPIC, &n);
    }

    /// Looks at the database every few seconds for articles saved without an announcement on the hub: a
    /// `lifebuoy kb import` run beside this server, or a node without NATS next to others. Re-reads only those
    /// (a save this node already indexed is re-read once more; that is harmless). A short overlap absorbs
    /// small clock differences between processes.
    fn watch_kb_saves(&self) {
        if self.kb_sync.watching.swap(true, Ordering::SeqCst) {
            return;
        }
        let state = self.clone();
        tokio::spawn(async move {
            const EVERY: std::time::Duration = std::time::Duration::from_secs(5);
            const OVERLAP_MS: i64 = 5_000;
            let mut since = lifebuoy_store::now_ms();
            let mut done: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
            loop {
                tokio::time::sleep(EVERY).await;
                let saved = match state.store.kb_saved_since(since - OVERLAP_MS).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "looking for knowledge-base saves failed");
                        continue;
                    }
                };
                for (id, at) in saved {
                    since = since.max(at);
                    if done.get(&id) == Some(&at) {
                        continue;
                    }
                    match state.reindex_article(&id).await {
                        Ok(()) => {
                            done.insert(id, at);
                        }
                        Err(e) => tracing::error!(error = %e, article = %id, "re-reading a saved article failed"),
                    }
                }
                done.retain(|_, at| *at >= since - OVERLAP_MS);
            }
        });
    }

    /// Listens (once per node) for other nodes' knowledge-base changes.
    fn follow_kb_changes(&self) {
        if self.kb_sync.listening.swap(true, Ordering::SeqCst) {
            return;
        }
        let (inbox, mut rx) = Inbox::new();
        self.hub.subscribe(TOPIC, &inbox);
        let state = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                if inbox.lagged.swap(false, Ordering::Relaxed) {
                    // Some notices were lost: the database has the truth.
                    let r = state.reload_synonyms().await;
                    let r = r.and(state.rebuild_kb().await.map(|_| ()));
                    if let Err(e) = r {
                        tracing::error!(error = %e, "knowledge-base rebuild failed");
                    }
                    continue;
                }
                let Ok(n) = serde_json::from_str::<Notice>(&ev.frame) else {
                    tracing::warn!("unreadable knowledge-base notice");
                    continue;
                };
                if n.node == state.kb_sync.node {
                    continue;
                }
                let r = match (&n.article, n.synonyms) {
                    (Some(id), _) => state.reindex_article(id).await,
                    (None, true) => state.reload_synonyms().await,
                    (None, false) => Ok(()),
                };
                if let Err(e) = r {
                    tracing::error!(error = %e, "applying a knowledge-base change from another node failed");
                }
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------------------
// Editing the knowledge base: every rule here, whichever door (the API, the console's forms) it came through.

/// Slugs that would collide with the help center's own pages.
pub const RESERVED_SLUGS: &[&str] = &["search", "c", "vote"];

/// The author an edit is recorded under, if the actor may edit the knowledge base (supervisors and admins).
pub fn editor(actor: &crate::Actor) -> crate::AppResult<KbAuthor> {
    match actor {
        crate::Actor::Agent(a) if a.role.edits_kb() => {
            Ok(KbAuthor { id: Some(a.id.clone()), name: format!("{} · {}", a.display_name, a.agent_no) })
        }
        crate::Actor::Agent(_) => {
            Err(crate::AppError::forbidden("only supervisors and admins edit the knowledge base"))
        }
        _ => Err(crate::AppError::forbidden("agents only")),
    }
}

/// Search synonyms change every search: admins only.
pub fn edits_synonyms(actor: &crate::Actor) -> bool {
    matches!(actor, crate::Actor::Agent(a) if a.role.edits_synonyms())
}

impl App {
    /// An article by id, or failing that by slug.
    pub async fn find_article(&self, id_or_slug: &str) -> crate::AppResult<KbArticle> {
        if let Some(a) = self.store.kb_article(id_or_slug).await? {
            return Ok(a);
        }
        self.store.kb_article_by_slug(id_or_slug).await?.ok_or(crate::AppError::NotFound)
    }

    /// The slug is not one of the help center's own pages, and the category exists.
    async fn check_article(&self, input: &KbArticleInput) -> crate::AppResult<()> {
        if RESERVED_SLUGS.contains(&input.slug.trim()) {
            let msg = format!("{:?} is reserved by the help center", input.slug.trim());
            return Err(crate::AppError::invalid("slug", msg));
        }
        let cats = self.store.kb_categories().await?;
        if !cats.iter().any(|c| c.slug == input.category.trim()) {
            return Err(crate::AppError::invalid("category", "no such category"));
        }
        Ok(())
    }

    /// After a save: this node's index now, the others through the hub. The article is saved whatever happens
    /// here; a failed reindex is logged and repaired by the next rebuild.
    async fn article_saved(&self, id: &str) {
        if let Err(e) = self.kb_article_changed(id).await {
            tracing::error!(error = %e, article = id, "reindexing a saved article failed");
        }
    }

    /// Creates an article (supervisors and admins).
    pub async fn create_article(&self, actor: &crate::Actor, input: &KbArticleInput) -> crate::AppResult<KbArticle> {
        let author = editor(actor)?;
        self.check_article(input).await?;
        let a = self.store.kb_create_article(input, &author).await?;
        self.article_saved(&a.id).await;
        Ok(a)
    }

    /// Saves a new version of an article. With `expected_version`, a newer saved version (someone else's
    /// edit) makes the save a conflict instead of overwriting it.
    pub async fn update_article(
        &self,
        actor: &crate::Actor,
        id_or_slug: &str,
        input: &KbArticleInput,
        expected_version: Option<i64>,
    ) -> crate::AppResult<KbArticle> {
        let author = editor(actor)?;
        let cur = self.find_article(id_or_slug).await?;
        self.check_article(input).await?;
        let a = self.store.kb_update_article(&cur.id, input, expected_version, &author, "edited").await?;
        self.article_saved(&a.id).await;
        Ok(a)
    }

    /// Publishes, unpublishes (back to draft) or makes an article internal.
    pub async fn set_article_status(
        &self,
        actor: &crate::Actor,
        id: &str,
        status: &str,
    ) -> crate::AppResult<KbArticle> {
        let author = editor(actor)?;
        if lifebuoy_domain::KbStatus::parse(status).is_err() {
            return Err(crate::AppError::invalid("status", "draft, published or internal"));
        }
        let a = self.store.kb_set_status(id, status, &author).await?;
        self.article_saved(&a.id).await;
        Ok(a)
    }

    /// Saves an old version's content as the newest version.
    pub async fn restore_article(&self, actor: &crate::Actor, id: &str, version: i64) -> crate::AppResult<KbArticle> {
        let author = editor(actor)?;
        let v = self.store.kb_version(id, version).await?.ok_or(crate::AppError::NotFound)?;
        self.check_article(&v.content).await?;
        let a = self.store.kb_update_article(id, &v.content, None, &author, "restored").await?;
        self.article_saved(&a.id).await;
        Ok(a)
    }

    /// Adds a group of search synonyms (admins) and applies it to every node's index.
    pub async fn add_synonyms(&self, actor: &crate::Actor, terms: &[String]) -> crate::AppResult<()> {
        if !edits_synonyms(actor) {
            return Err(crate::AppError::forbidden("only admins edit the search synonyms"));
        }
        self.store.kb_add_synonyms(terms).await?;
        if let Err(e) = self.kb_synonyms_changed().await {
            tracing::error!(error = %e, "applying synonyms failed");
        }
        Ok(())
    }

    /// Deletes a group of search synonyms (admins).
    pub async fn delete_synonyms(&self, actor: &crate::Actor, id: &str) -> crate::AppResult<()> {
        if !edits_synonyms(actor) {
            return Err(crate::AppError::forbidden("only admins edit the search synonyms"));
        }
        self.store.kb_delete_synonyms(id).await?;
        if let Err(e) = self.kb_synonyms_changed().await {
            tracing::error!(error = %e, "applying synonyms failed");
        }
        Ok(())
    }

    /// Creates or renames a help-center category (supervisors and admins).
    pub async fn save_category(&self, actor: &crate::Actor, c: &lifebuoy_store::KbCategory) -> crate::AppResult<()> {
        editor(actor)?;
        if !(0..=100_000).contains(&c.position) {
            return Err(crate::AppError::invalid("position", "a whole number, 0 to 100000"));
        }
        self.store.kb_save_category(c).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(slug: &str, lang: &str, status: &str) -> ArticleDoc {
        ArticleDoc {
            article_id: slug.into(),
            slug: slug.into(),
            lang: lang.into(),
            title: "T".into(),
            body_markdown: "B".into(),
            category: "deposit".into(),
            keywords: vec![],
            status: status.into(),
        }
    }

    #[test]
    fn files_group_into_articles_and_must_agree() {
        let a = inputs_from_docs(&[
            doc("a", "en", "published"),
            doc("a", "zh-Hans", "published"),
            doc("b", "en", "internal"),
        ])
        .unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].translations.len(), 2);
        let e = inputs_from_docs(&[doc("a", "en", "published"), doc("a", "zh-Hans", "draft")]).unwrap_err();
        assert!(e.to_string().contains("a/zh-Hans.md"), "{e}");
    }
}
