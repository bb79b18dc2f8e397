//! The knowledge-base index.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analysis::{BIGRAM_ANALYZER, TEXT_ANALYZER, bigram_tokens, register, tokens, words};
use crate::error::{Result, SearchError};
use crate::fold::{fold, is_cjk};
use crate::highlight::{Needles, snippet_html};
use crate::markdown::to_plain_text;
use crate::synonyms::{Expansion, Synonyms};

/// The version of the knowledge-base index's schema: bump it when the schema
/// changes. An index on disk stamped with another version (or with another
/// [`crate::analysis::ANALYSER_VERSION`]) is rebuilt.
pub const KB_INDEX_VERSION: u32 = 1;

/// Languages an article can be written in.
pub const LANGS: &[&str] = &["zh-Hans", "zh-Hant", "en"];
/// Statuses an article can have.
pub const STATUSES: &[&str] = &["draft", "published", "internal"];

/// Field weights and other knobs of the ranking. Public so that other
/// indexes can stay consistent; [`Weights::default`] is what `KbIndex` uses.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    /// Boost of a word match in the title.
    pub title: f32,
    /// Boost of a word match in the keywords.
    pub keywords: f32,
    /// Boost of a word match in the body.
    pub body: f32,
    /// Boost of a bigram match in title + keywords.
    pub title_bigram: f32,
    /// Boost of a bigram match in the body.
    pub body_bigram: f32,
    /// Multiplier for terms added by synonym expansion.
    pub synonym: f32,
    /// Boost of a fuzzy (typo-tolerant) English match.
    pub fuzzy: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { title: 2.5, keywords: 2.0, body: 1.0, title_bigram: 0.8, body_bigram: 0.3, synonym: 0.6, fuzzy: 0.6 }
    }
}

/// An article as indexed: one language version of a knowledge-base article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleDoc {
    /// Article id, shared by the language versions of one article (the slug
    /// for file-based articles, a database id in the app).
    pub article_id: String,
    /// URL slug, shared by the language versions.
    pub slug: String,
    /// `"zh-Hans"`, `"zh-Hant"` or `"en"`.
    pub lang: String,
    /// Title.
    pub title: String,
    /// Body, Markdown.
    pub body_markdown: String,
    /// Category (e.g. `"withdrawal"`).
    pub category: String,
    /// Search keywords (not shown to readers).
    pub keywords: Vec<String>,
    /// `"draft"`, `"published"` or `"internal"` (agents only).
    pub status: String,
}

impl ArticleDoc {
    /// Checks that the language and status are known and ids are present.
    pub fn validate(&self) -> Result<()> {
        if self.article_id.trim().is_empty() {
            return Err(SearchError::InvalidArticle("empty article_id".into()));
        }
        if self.slug.trim().is_empty() {
            return Err(SearchError::InvalidArticle(format!("{}: empty slug", self.article_id)));
        }
        if !LANGS.contains(&self.lang.as_str()) {
            return Err(SearchError::InvalidArticle(format!(
                "{}: unknown lang {:?} (expected one of {LANGS:?})",
                self.article_id, self.lang
            )));
        }
        if !STATUSES.contains(&self.status.as_str()) {
            return Err(SearchError::InvalidArticle(format!(
                "{}: unknown status {:?} (expected one of {STATUSES:?})",
                self.article_id, self.status
            )));
        }
        Ok(())
    }
}

/// Options of [`KbIndex::search`].
#[derive(Debug, Clone)]
pub struct SearchOpts {
    /// Only this language (`None`: all).
    pub lang: Option<String>,
    /// Only this category (`None`: all).
    pub category: Option<String>,
    /// Also return `internal` articles (for agents). Drafts are never
    /// returned.
    pub include_internal: bool,
    /// Maximum number of hits.
    pub limit: usize,
}

impl Default for SearchOpts {
    fn default() -> Self {
        SearchOpts { lang: None, category: None, include_internal: false, limit: 10 }
    }
}

/// A search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Article id.
    pub article_id: String,
    /// Slug.
    pub slug: String,
    /// Language of this version.
    pub lang: String,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Excerpt of the body as HTML: matches in `<mark>`, the rest escaped.
    pub snippet_html: String,
    /// Relevance score (BM25-based; only comparable within one query).
    pub score: f32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub key: Field,
    pub article_id: Field,
    pub slug: Field,
    pub lang: Field,
    pub category: Field,
    pub status: Field,
    pub title: Field,
    pub keywords: Field,
    pub body: Field,
    pub title_bi: Field,
    pub body_bi: Field,
    pub body_md: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |analyzer: &str, stored: bool| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqs),
        );
        if stored { o.set_stored() } else { o }
    };
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        article_id: b.add_text_field("article_id", STRING | STORED),
        slug: b.add_text_field("slug", STRING | STORED),
        lang: b.add_text_field("lang", STRING | STORED),
        category: b.add_text_field("category", STRING | STORED),
        status: b.add_text_field("status", STRING | STORED),
        title: b.add_text_field("title", text(TEXT_ANALYZER, true)),
        keywords: b.add_text_field("keywords", text(TEXT_ANALYZER, true)),
        body: b.add_text_field("body", text(TEXT_ANALYZER, true)),
        title_bi: b.add_text_field("title_bi", text(BIGRAM_ANALYZER, false)),
        body_bi: b.add_text_field("body_bi", text(BIGRAM_ANALYZER, false)),
        body_md: b.add_text_field("body_md", STORED),
    };
    (b.build(), fields)
}

fn doc_key(article_id: &str, lang: &str) -> String {
    format!("{article_id}\u{1f}{lang}")
}

/// The analysed query: everything needed to build the tantivy query, the
/// highlighter and the answer engine's coverage.
#[derive(Debug, Clone)]
pub(crate) struct Analysed {
    pub folded: String,
    /// Search-mode `lb_text` tokens (deduplicated).
    pub tokens: Vec<String>,
    /// Words (default mode) with their surface.
    pub words: Vec<crate::analysis::Word>,
    /// CJK bigrams.
    pub bigrams: Vec<String>,
    /// Synonym expansions.
    pub expansions: Vec<Expansion>,
}

/// A knowledge-base search index (tantivy), with a long-lived writer and a
/// reader reloaded on [`KbIndex::commit`].
pub struct KbIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    pub(crate) fields: Fields,
    synonyms: crate::synonyms::SynonymCell,
    weights: Weights,
}

impl std::fmt::Debug for KbIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbIndex").field("docs", &self.num_docs()).finish()
    }
}

const WRITER_HEAP: usize = 100_000_000;

impl KbIndex {
    /// An index held in memory (tests, small deployments).
    pub fn open_in_ram() -> Result<KbIndex> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        KbIndex::from_index(index, fields)
    }

    /// Opens the index in `path`, creating the directory and the index if
    /// missing.
    pub fn open_in_dir(path: impl AsRef<Path>) -> Result<KbIndex> {
        let path = path.as_ref();
        std::fs::create_dir_all(path).map_err(|source| SearchError::Io { path: path.to_path_buf(), source })?;
        let (schema, fields) = schema();
        let dir = MmapDirectory::open(path)?;
        let index = Index::open_or_create(dir, schema)?;
        KbIndex::from_index(index, fields)
    }

    /// The index kept in directory `path` from an earlier run, with the
    /// payload of its last commit (`None` for a new, empty index). One that
    /// cannot be opened, or has another schema, is discarded and made anew
    /// (payload `None`: the caller rebuilds it), with a warning.
    pub fn open_kept(path: impl AsRef<Path>) -> Result<(KbIndex, Option<String>)> {
        let path = path.as_ref();
        let io = |source| SearchError::Io { path: path.to_path_buf(), source };
        match KbIndex::open_in_dir(path) {
            Ok(kb) => {
                let payload = kb.index.load_metas()?.payload;
                Ok((kb, payload))
            }
            Err(e) => {
                tracing::warn!(dir = %path.display(), error = %e, "the knowledge-base index cannot be opened: discarding it");
                std::fs::remove_dir_all(path).map_err(io)?;
                Ok((KbIndex::open_in_dir(path)?, None))
            }
        }
    }

    fn from_index(index: Index, fields: Fields) -> Result<KbIndex> {
        register(&index);
        let writer: IndexWriter = index.writer(WRITER_HEAP)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(KbIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            synonyms: crate::synonyms::SynonymCell::new(),
            weights: Weights::default(),
        })
    }

    /// The underlying tantivy index.
    pub fn tantivy_index(&self) -> &Index {
        &self.index
    }

    /// Replaces the synonym set (takes effect on the next query; no reindex).
    pub fn set_synonyms(&self, synonyms: Synonyms) {
        self.synonyms.set(synonyms);
    }

    /// The synonym set in use.
    pub fn synonyms(&self) -> Arc<Synonyms> {
        self.synonyms.get()
    }

    /// Replaces the ranking weights.
    pub fn set_weights(&mut self, weights: Weights) {
        self.weights = weights;
    }

    /// Number of documents visible to searches (as of the last commit).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>> {
        self.writer.lock().map_err(|_| SearchError::Poisoned)
    }

    /// Adds or replaces the `(article_id, lang)` version of an article.
    /// Visible after [`KbIndex::commit`].
    pub fn upsert(&self, article: &ArticleDoc) -> Result<()> {
        article.validate()?;
        let f = &self.fields;
        let key = doc_key(&article.article_id, &article.lang);
        let body = to_plain_text(&article.body_markdown);
        let mut doc = TantivyDocument::default();
        doc.add_text(f.key, &key);
        doc.add_text(f.article_id, &article.article_id);
        doc.add_text(f.slug, &article.slug);
        doc.add_text(f.lang, &article.lang);
        doc.add_text(f.category, &article.category);
        doc.add_text(f.status, &article.status);
        doc.add_text(f.title, &article.title);
        for k in &article.keywords {
            doc.add_text(f.keywords, k);
        }
        doc.add_text(f.body, &body);
        let mut title_kw = article.title.clone();
        for k in &article.keywords {
            title_kw.push('\n');
            title_kw.push_str(k);
        }
        doc.add_text(f.title_bi, &title_kw);
        doc.add_text(f.body_bi, &body);
        doc.add_text(f.body_md, &article.body_markdown);
        let w = self.writer()?;
        w.delete_term(Term::from_field_text(f.key, &key));
        w.add_document(doc)?;
        Ok(())
    }

    /// Deletes the `(article_id, lang)` version. Visible after commit.
    pub fn delete(&self, article_id: &str, lang: &str) -> Result<()> {
        let w = self.writer()?;
        w.delete_term(Term::from_field_text(self.fields.key, &doc_key(article_id, lang)));
        Ok(())
    }

    /// Deletes every document. Visible after commit.
    pub fn clear(&self) -> Result<()> {
        let w = self.writer()?;
        w.delete_all_documents()?;
        Ok(())
    }

    /// Commits pending changes (keeping the payload of the last commit) and
    /// reloads the reader.
    pub fn commit(&self) -> Result<()> {
        let payload = self.index.load_metas()?.payload;
        self.commit_payload(payload.as_deref())
    }

    /// Commits pending changes with `payload` (the caller's stamp of what the
    /// index holds, given back by [`KbIndex::open_kept`]) and reloads the
    /// reader.
    pub fn commit_with(&self, payload: &str) -> Result<()> {
        self.commit_payload(Some(payload))
    }

    fn commit_payload(&self, payload: Option<&str>) -> Result<()> {
        let mut w = self.writer()?;
        let mut prepared = w.prepare_commit()?;
        if let Some(p) = payload {
            prepared.set_payload(p);
        }
        prepared.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// Whether every file of the index matches its checksum (reads the whole
    /// index).
    pub fn is_intact(&self) -> Result<bool> {
        Ok(self.index.validate_checksum()?.is_empty())
    }

    pub(crate) fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Analyses a query string.
    pub(crate) fn analyse(&self, q: &str) -> Analysed {
        let folded = fold(q);
        let mut seen = HashSet::new();
        let toks: Vec<String> = tokens(q).into_iter().filter(|t| seen.insert(t.clone())).collect();
        let words = words(q);
        let mut seen = HashSet::new();
        let bigrams: Vec<String> = bigram_tokens(q).into_iter().filter(|t| seen.insert(t.clone())).collect();
        let terms: Vec<String> = words.iter().map(|w| w.term.clone()).collect();
        let syn = self.synonyms();
        let mut expansions: Vec<Expansion> = syn
            .expand_prepared(&folded, &terms)
            .into_iter()
            .filter(|e| !(e.tokens.len() == 1 && toks.contains(&e.tokens[0])))
            .collect();
        // A misspelt word reaches the synonyms of the word it misspells, as the right spelling does.
        for t in &terms {
            for gi in syn.near_groups(t, Self::fuzzy_distance(t)) {
                for (_, group_tokens, _) in syn.group_terms(gi) {
                    let known = group_tokens.is_empty()
                        || (group_tokens.len() == 1 && toks.contains(&group_tokens[0]))
                        || expansions.iter().any(|e| e.tokens == group_tokens);
                    if !known {
                        expansions.push(Expansion { term: group_tokens.join(" "), tokens: group_tokens });
                    }
                }
            }
        }
        Analysed { folded, tokens: toks, words, bigrams, expansions }
    }

    fn term_query(&self, field: Field, text: &str, boost: f32) -> Box<dyn Query> {
        let q = TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs);
        Box::new(BoostQuery::new(Box::new(q), boost))
    }

    /// Document frequency of a token over the word fields.
    pub(crate) fn word_df(&self, searcher: &Searcher, token: &str) -> u64 {
        let f = &self.fields;
        [f.title, f.keywords, f.body]
            .iter()
            .map(|&fld| searcher.doc_freq(&Term::from_field_text(fld, token)).unwrap_or(0))
            .max()
            .unwrap_or(0)
    }

    /// Fuzzy distance allowed for an English token (0: none).
    pub(crate) fn fuzzy_distance(token: &str) -> u8 {
        if !token.bytes().all(|b| b.is_ascii_alphabetic()) {
            return 0;
        }
        match token.len() {
            0..=4 => 0,
            5..=8 => 1,
            _ => 2,
        }
    }

    /// Builds the text-matching part of a query. Returns `None` when the
    /// query has nothing searchable. Also returns the tokens to fuzzy-match
    /// (for highlighting).
    pub(crate) fn text_query(
        &self,
        searcher: &Searcher,
        a: &Analysed,
    ) -> (Option<Box<dyn Query>>, Vec<(String, usize)>) {
        let f = &self.fields;
        let w = &self.weights;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut fuzzy = Vec::new();
        for t in &a.tokens {
            clauses.push((Occur::Should, self.term_query(f.title, t, w.title)));
            clauses.push((Occur::Should, self.term_query(f.keywords, t, w.keywords)));
            clauses.push((Occur::Should, self.term_query(f.body, t, w.body)));
            let d = Self::fuzzy_distance(t);
            if d > 0 && self.word_df(searcher, t) == 0 {
                fuzzy.push((t.clone(), d as usize));
                for (fld, boost) in [(f.title, w.fuzzy * 1.5), (f.keywords, w.fuzzy * 1.2), (f.body, w.fuzzy)] {
                    let q = FuzzyTermQuery::new(Term::from_field_text(fld, t), d, true);
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
                }
            }
        }
        for b in &a.bigrams {
            clauses.push((Occur::Should, self.term_query(f.title_bi, b, w.title_bigram)));
            clauses.push((Occur::Should, self.term_query(f.body_bi, b, w.body_bigram)));
        }
        // A word of one Chinese character (币, 冻) also finds the words that hold it, scored below a whole-word
        // match (a constant, small score per field).
        for word in a.words.iter().filter(|x| x.term.chars().count() == 1) {
            for (fld, boost) in [(f.title_bi, w.title_bigram * 0.25), (f.body_bi, w.body_bigram * 0.25)] {
                if let Some(q) = crate::tickets::single_char_query(fld, &word.term) {
                    clauses.push((Occur::Should, Box::new(ConstScoreQuery::new(q, boost))));
                }
            }
        }
        for e in &a.expansions {
            if e.tokens.len() == 1 {
                let t = &e.tokens[0];
                clauses.push((Occur::Should, self.term_query(f.title, t, w.title * w.synonym)));
                clauses.push((Occur::Should, self.term_query(f.keywords, t, w.keywords * w.synonym)));
                clauses.push((Occur::Should, self.term_query(f.body, t, w.body * w.synonym)));
            } else {
                for (fld, boost) in [(f.title, w.title), (f.keywords, w.keywords), (f.body, w.body)] {
                    let all: Vec<(Occur, Box<dyn Query>)> =
                        e.tokens.iter().map(|t| (Occur::Must, self.term_query(fld, t, 1.0))).collect();
                    let q = BooleanQuery::new(all);
                    clauses.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(q), boost * w.synonym / e.tokens.len() as f32)),
                    ));
                }
            }
        }
        if clauses.is_empty() {
            return (None, fuzzy);
        }
        (Some(Box::new(BooleanQuery::new(clauses))), fuzzy)
    }

    fn filter_query(
        &self,
        lang: Option<&str>,
        category: Option<&str>,
        statuses: &[&str],
    ) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let exact = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic))
        };
        if let Some(l) = lang {
            out.push((Occur::Must, Box::new(ConstScoreQuery::new(exact(f.lang, l), 0.0))));
        }
        if let Some(c) = category {
            out.push((Occur::Must, Box::new(ConstScoreQuery::new(exact(f.category, c), 0.0))));
        }
        let st: Vec<(Occur, Box<dyn Query>)> = statuses.iter().map(|s| (Occur::Should, exact(f.status, s))).collect();
        out.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(st)), 0.0))));
        out
    }

    /// Runs the ranking query; returns `(score, address)` best first.
    pub(crate) fn ranked(
        &self,
        searcher: &Searcher,
        a: &Analysed,
        lang: Option<&str>,
        category: Option<&str>,
        statuses: &[&str],
        limit: usize,
    ) -> Result<(Vec<(f32, DocAddress)>, Vec<(String, usize)>)> {
        let (text, fuzzy) = self.text_query(searcher, a);
        let Some(text) = text else { return Ok((Vec::new(), fuzzy)) };
        if limit == 0 {
            return Ok((Vec::new(), fuzzy));
        }
        let mut clauses = self.filter_query(lang, category, statuses);
        clauses.push((Occur::Must, text));
        let q = BooleanQuery::new(clauses);
        let top = searcher.search(&q, &TopDocs::with_limit(limit).order_by_score())?;
        Ok((top, fuzzy))
    }

    /// Full-text search.
    pub fn search(&self, query: &str, opts: &SearchOpts) -> Result<Vec<Hit>> {
        let searcher = self.searcher();
        let a = self.analyse(query);
        let statuses: &[&str] = if opts.include_internal { &["published", "internal"] } else { &["published"] };
        let (top, fuzzy) =
            self.ranked(&searcher, &a, opts.lang.as_deref(), opts.category.as_deref(), statuses, opts.limit)?;
        let needles = self.needles(&a, fuzzy);
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let s = StoredDoc::from_doc(&doc, &self.fields);
            hits.push(Hit {
                snippet_html: snippet_html(&s.body, &needles, 160),
                article_id: s.article_id,
                slug: s.slug,
                lang: s.lang,
                title: s.title,
                category: s.category,
                score,
            });
        }
        Ok(hits)
    }

    pub(crate) fn needles(&self, a: &Analysed, fuzzy: Vec<(String, usize)>) -> Needles {
        let mut n = Needles::default();
        for t in &a.tokens {
            if !t.chars().any(is_cjk) {
                n.tokens.insert(t.clone());
            } else if t.chars().count() >= 2 {
                n.substrings.push(t.clone());
            }
        }
        for w in &a.words {
            if w.surface.chars().any(is_cjk) && w.surface.chars().count() == 1 {
                // single characters are too noisy to highlight
                continue;
            }
        }
        for e in &a.expansions {
            for t in &e.tokens {
                if t.chars().any(is_cjk) {
                    if t.chars().count() >= 2 {
                        n.substrings.push(t.clone());
                    }
                } else {
                    n.tokens.insert(t.clone());
                }
            }
        }
        n.fuzzy = fuzzy;
        n
    }

    /// Returns every stored version of every article (e.g. to export).
    pub fn all_articles(&self) -> Result<Vec<ArticleDoc>> {
        let searcher = self.searcher();
        let mut out = Vec::new();
        for (ord, seg) in searcher.segment_readers().iter().enumerate() {
            let alive = seg.alive_bitset();
            for doc_id in 0..seg.max_doc() {
                if alive.is_some_and(|b| !b.is_alive(doc_id)) {
                    continue;
                }
                let doc: TantivyDocument = searcher.doc(DocAddress::new(ord as u32, doc_id))?;
                out.push(StoredDoc::from_doc(&doc, &self.fields).into_article());
            }
        }
        out.sort_by(|a, b| (&a.slug, &a.lang).cmp(&(&b.slug, &b.lang)));
        Ok(out)
    }

    /// Stored versions of one slug, keyed by language (published only
    /// unless `include_internal`).
    pub(crate) fn versions(
        &self,
        searcher: &Searcher,
        slug: &str,
        statuses: &[&str],
    ) -> Result<HashMap<String, StoredDoc>> {
        let f = &self.fields;
        let mut clauses = self.filter_query(None, None, statuses);
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(Term::from_field_text(f.slug, slug), IndexRecordOption::Basic)),
        ));
        let q = BooleanQuery::new(clauses);
        let top = searcher.search(&q, &TopDocs::with_limit(16).order_by_score())?;
        let mut out = HashMap::new();
        for (_, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let s = StoredDoc::from_doc(&doc, f);
            out.insert(s.lang.clone(), s);
        }
        Ok(out)
    }
}

/// The stored fields of one document.
#[derive(Debug, Clone)]
pub(crate) struct StoredDoc {
    pub article_id: String,
    pub slug: String,
    pub lang: String,
    pub category: String,
    pub status: String,
    pub title: String,
    pub keywords: Vec<String>,
    pub body: String,
    pub body_md: String,
}

impl StoredDoc {
    pub(crate) fn from_doc(doc: &TantivyDocument, f: &Fields) -> StoredDoc {
        let one =
            |field: Field| -> String { doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string() };
        StoredDoc {
            article_id: one(f.article_id),
            slug: one(f.slug),
            lang: one(f.lang),
            category: one(f.category),
            status: one(f.status),
            title: one(f.title),
            keywords: doc.get_all(f.keywords).filter_map(|v| v.as_str().map(str::to_string)).collect(),
            body: one(f.body),
            body_md: one(f.body_md),
        }
    }

    pub(crate) fn into_article(self) -> ArticleDoc {
        ArticleDoc {
            article_id: self.article_id,
            slug: self.slug,
            lang: self.lang,
            title: self.title,
            body_markdown: self.body_md,
            category: self.category,
            keywords: self.keywords,
            status: self.status,
        }
    }
}
