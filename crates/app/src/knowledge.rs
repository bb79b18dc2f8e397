//! The knowledge base between the database and the search index. The database holds the articles; each node
//! keeps an index of them, in memory or, with [`App::with_kb_index_in`], on disk across restarts, stamped with
//! how far it has read the database's change log ([`lifebuoy_store::index_log`]).
//!
//! Every save of an article, and every edit of the synonym groups, leaves a row in the change log in its own
//! transaction. The saving node re-reads the article into its index at once, then announces the change on the
//! hub (topic `kb`, carried to other nodes by NATS); every node reads the log on when it hears a notice and
//! every [`KB_POLL`] regardless, re-reading the articles named there (and the synonyms, when they changed). So
//! a save made while a node was down, by `lifebuoy kb import` beside a running server, or whose notice was lost,
//! reaches every index. At start a kept index in step (same build, same database, not older than the log's
//! pruned floor) is caught up from its stamp; any other is rebuilt from the database.

use crate::App;
use crate::chat::Inbox;
use crate::index_dir::{NodeDir, Stamp};
use lifebuoy_search::KB_INDEX_VERSION;
use lifebuoy_search::{ArticleDoc, Synonyms};
use lifebuoy_store::{Indexed, KbArticle, KbArticleInput, KbAuthor, KbFilter, KbTranslation, LogPos, LogReader};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The hub topic of knowledge-base changes.
pub const TOPIC: &str = "kb";

/// How often a node reads the change log when nobody told it of a change.
pub const KB_POLL: std::time::Duration = std::time::Duration::from_secs(5);

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
    /// No periodic read of the change log (notices only).
    no_polling: AtomicBool,
    /// How far the index has read the change log.
    log: Mutex<LogReader>,
    /// The database the index is filled from (the log's epoch).
    epoch: Mutex<String>,
    /// The stamp a kept index was opened with.
    opened: Mutex<Option<Stamp>>,
    /// The kept index's directory and its lock (none in memory).
    dir: Mutex<Option<NodeDir>>,
    /// Serialises reading the log (the poller, notices and the start's catch-up).
    reading: tokio::sync::Mutex<()>,
    /// A notice or a save asks for a read of the log.
    wake: tokio::sync::Notify,
    /// Full builds since start.
    rebuilds: std::sync::atomic::AtomicU64,
}

impl KbSync {
    /// Keeps this node from reading the change log but when told of a change on the hub ([`App::load_kb`] then
    /// starts no poller): for a test that must see the hub alone carry a change from node to node.
    pub fn without_polling(&self) {
        self.no_polling.store(true, Ordering::SeqCst);
    }

    /// How far the index has read the change log.
    pub fn position(&self) -> LogPos {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).pos
    }

    /// Full builds from the database since start.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::Relaxed)
    }
}

impl Default for KbSync {
    fn default() -> Self {
        KbSync {
            node: uuid::Uuid::new_v4().simple().to_string(),
            listening: AtomicBool::new(false),
            watching: AtomicBool::new(false),
            no_polling: AtomicBool::new(false),
            log: Mutex::new(LogReader::default()),
            epoch: Mutex::new(String::new()),
            opened: Mutex::new(None),
            dir: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
            rebuilds: Default::default(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Keeps the knowledge-base index on disk, in a directory of this node's own under `root`, across restarts
    /// (call before [`App::load_kb`]).
    pub fn with_kb_index_in(mut self, root: &std::path::Path) -> Result<Self, KbError> {
        let dir = NodeDir::claim(root, "kb").map_err(|e| KbError::Files(format!("{}: {e}", root.display())))?;
        let (kb, payload) = lifebuoy_search::KbIndex::open_kept(&dir.path)?;
        self.kb = std::sync::Arc::new(kb);
        *lock(&self.kb_sync.opened) = Stamp::parse(payload.as_deref());
        *lock(&self.kb_sync.dir) = Some(dir);
        Ok(self)
    }

    /// Makes this node's index current (synonyms included, seeded once from the built-in set): a kept index in
    /// step is caught up from its stamp, any other is rebuilt from the database. Then follows every change
    /// (notices, the change log). Returns the number of indexed documents.
    pub async fn load_kb(&self) -> Result<u64, KbError> {
        self.follow_kb_changes();
        self.store.kb_seed_synonyms(&default_synonym_groups()).await?;
        self.reload_synonyms().await?;
        let info = self.store.index_log_info().await?;
        *lock(&self.kb_sync.epoch) = info.epoch.clone();
        let kept = Stamp::resume_at(lock(&self.kb_sync.opened).as_ref(), KB_INDEX_VERSION, &info);
        match kept {
            Ok(pos) => {
                *lock(&self.kb_sync.log) = LogReader::starting_at(pos);
                let n = self.apply_kb_log().await?;
                tracing::info!(documents = self.kb.num_docs(), changes = n, "knowledge-base index kept; caught up");
            }
            Err(why) => {
                tracing::info!(reason = %why, "building the knowledge-base index from the database");
                self.rebuild_kb().await?;
            }
        }
        self.watch_kb_log();
        Ok(self.kb.num_docs())
    }

    /// Rebuilds the whole index from the database in one commit, stamped with the change log's head as it was
    /// before the articles were read (saves made meanwhile are read from the log afterwards).
    pub async fn rebuild_kb(&self) -> Result<u64, KbError> {
        let _reading = self.kb_sync.reading.lock().await;
        self.kb_sync.rebuilds.fetch_add(1, Ordering::Relaxed);
        let head = self.store.index_log_head().await?;
        let articles = self.store.kb_articles(&KbFilter::default()).await?;
        let kb = self.kb.clone();
        let stamp = Stamp::payload(KB_INDEX_VERSION, &lock(&self.kb_sync.epoch), head);
        let n = tokio::task::spawn_blocking(move || -> Result<u64, KbError> {
            kb.clear()?;
            for a in &articles {
                for d in index_docs(a) {
                    kb.upsert(&d)?;
                }
            }
            kb.commit_with(&stamp)?;
            Ok(kb.num_docs())
        })
        .await
        .map_err(|_| KbError::Join)??;
        *lock(&self.kb_sync.log) = LogReader::starting_at(head);
        Ok(n)
    }

    /// Reads the change log on from the index's position: the articles saved since re-read (the synonyms
    /// reloaded when they changed), committed with the new position. Answers how many changes it took.
    pub async fn apply_kb_log(&self) -> Result<usize, KbError> {
        let _reading = self.kb_sync.reading.lock().await;
        let mut total = 0;
        loop {
            let reader = lock(&self.kb_sync.log).clone();
            let (changes, keep, more) = reader.read(&self.store, &[Indexed::Article, Indexed::Synonyms], 2000).await?;
            if changes.iter().any(|c| c.entity == Indexed::Synonyms.as_str()) {
                self.reload_synonyms().await?;
            }
            let mut ids: Vec<String> =
                changes.iter().filter(|c| c.entity == Indexed::Article.as_str()).map(|c| c.entity_id.clone()).collect();
            ids.sort();
            ids.dedup();
            if !changes.is_empty() {
                let mut found = Vec::with_capacity(ids.len());
                for id in &ids {
                    found.push((id.clone(), self.store.kb_article(id).await?));
                }
                let kb = self.kb.clone();
                let stamp = Stamp::payload(KB_INDEX_VERSION, &lock(&self.kb_sync.epoch), keep);
                tokio::task::spawn_blocking(move || -> Result<(), KbError> {
                    for (id, a) in &found {
                        for l in lifebuoy_search::LANGS {
                            kb.delete(id, l)?;
                        }
                        if let Some(a) = a {
                            for d in index_docs(a) {
                                kb.upsert(&d)?;
                            }
                        }
                    }
                    kb.commit_with(&stamp)?;
                    Ok(())
                })
                .await
                .map_err(|_| KbError::Join)??;
            }
            total += changes.len();
            lock(&self.kb_sync.log).advance(&changes, keep);
            if !more {
                return Ok(total);
            }
        }
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

    /// Reads the change log when told to (another node's notice) and, unless [`KbSync::without_polling`], every
    /// [`KB_POLL`]: saves nobody announced (`lifebuoy kb import` beside this server, a lost notice) are found.
    fn watch_kb_log(&self) {
        if self.kb_sync.watching.swap(true, Ordering::SeqCst) {
            return;
        }
        let state = self.clone();
        tokio::spawn(async move {
            loop {
                if state.kb_sync.no_polling.load(Ordering::SeqCst) {
                    state.kb_sync.wake.notified().await;
                } else {
                    let _ = tokio::time::timeout(KB_POLL, state.kb_sync.wake.notified()).await;
                }
                if let Err(e) = state.apply_kb_log().await {
                    tracing::error!(error = %e, "reading knowledge-base changes failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    state.kb_sync.wake.notify_one();
                }
            }
        });
    }

    /// Listens (once per node) for other nodes' knowledge-base notices: each is a reason to read the log now.
    fn follow_kb_changes(&self) {
        if self.kb_sync.listening.swap(true, Ordering::SeqCst) {
            return;
        }
        let (inbox, mut rx) = Inbox::new();
        self.hub.subscribe(TOPIC, &inbox);
        let state = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                // Lost notices cost nothing: the log has every save, and the next read takes them.
                inbox.lagged.swap(false, Ordering::Relaxed);
                match serde_json::from_str::<Notice>(&ev.frame) {
                    Ok(n) if n.node == state.kb_sync.node => {}
                    Ok(_) => state.kb_sync.wake.notify_one(),
                    Err(_) => tracing::warn!("unreadable knowledge-base notice"),
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
