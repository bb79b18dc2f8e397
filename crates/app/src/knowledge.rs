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
