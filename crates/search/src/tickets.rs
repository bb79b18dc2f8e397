//! The ticket index: what the agents' queue search looks through.
//!
//! One document per ticket: its subject and message bodies, analysed by the
//! same `lb_text` and `lb_bigram` analysers as the knowledge base, plus the
//! columns the queue filters and sorts on. Nothing is stored but the ticket id
//! (a fast field), so the index stays small; the database remains the truth,
//! and the caller re-applies every filter and permission in SQL to the ids a
//! search returns.
//!
//! A search is a filter, not a ranking: every word of the query must match
//! (as written, through a synonym of its group, through its CJK bigrams, or,
//! for a longer English word, within one or two typos), and the matches come
//! back in the queue's own order, from a cursor position on.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tantivy::collector::TopDocs;
use tantivy::columnar::StrColumn;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur, Query, RangeQuery, RegexQuery, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::{BIGRAM_ANALYZER, TEXT_ANALYZER, Word, bigram_tokens, register, tokens, words};
use crate::error::{Result, SearchError};
use crate::fold::is_cjk;
use crate::index::KbIndex;
use crate::synonyms::Synonyms;

/// Indexing memory of the ticket index's single writer thread (tantivy's
/// minimum is 15 MB per thread): past it, the writer flushes a segment.
pub const TICKET_WRITER_HEAP: usize = 16_000_000;

/// The version of the ticket index's schema and of how it analyses text:
/// bump it when either changes. An index on disk stamped with another
/// version (with [`crate::analysis::ANALYSER_VERSION`]) is rebuilt.
pub const TICKET_INDEX_VERSION: u32 = 1;

/// Words of a query past this many are ignored (every word must match, so a
/// pasted paragraph would find nothing anyway).
const MAX_WORDS: usize = 32;

/// The assignee term of unassigned tickets.
const UNASSIGNED: &str = "-";

/// A ticket as indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketDoc {
    /// Conversation id.
    pub id: String,
    /// The customer it belongs to.
    pub customer_id: String,
    /// Department.
    pub department_id: String,
    /// Assigned agent, if any.
    pub assignee_id: Option<String>,
    /// Status (`new`, `open`, ...).
    pub status: String,
    /// Priority (`low`, `normal`, ...).
    pub priority: String,
    /// Rank of the priority (higher is more urgent), for the priority order.
    pub priority_rank: i64,
    /// Category.
    pub category: String,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
    /// Subject.
    pub subject: String,
    /// Message bodies, in order.
    pub messages: Vec<TicketMessage>,
}

/// One message of a ticket, as indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketMessage {
    /// The text.
    pub body: String,
    /// An internal note (found by staff only).
    pub internal: bool,
}

/// Whose tickets a search may return (the index's copy of the store's scope;
/// the store checks again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TicketScope {
    /// Every ticket (supervisors, admins, integrations).
    #[default]
    All,
    /// One customer's tickets; internal notes are not searched.
    Customer(String),
    /// An agent: their departments' tickets and any assigned to them.
    Agent {
        /// Agent id.
        id: String,
        /// The agent's departments.
        departments: Vec<String>,
    },
}

/// The orders of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketOrder {
    /// Last changed first.
    #[default]
    UpdatedDesc,
    /// Newest first.
    CreatedDesc,
    /// Oldest first.
    CreatedAsc,
    /// Most urgent first, then last changed first.
    PriorityDesc,
}

/// A ticket search: the text, the queue's filters, an order and where to
/// start in it.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    /// What the agent typed.
    pub text: String,
    /// Whose tickets.
    pub scope: TicketScope,
    /// Any of these statuses (empty: any).
    pub statuses: Vec<String>,
    /// Only this department.
    pub department: Option<String>,
    /// `Some(None)`: unassigned only; `Some(Some(id))`: assigned to `id`.
    pub assignee: Option<Option<String>>,
    /// Only this priority.
    pub priority: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Only this customer's.
    pub customer: Option<String>,
    /// The order of the results.
    pub order: TicketOrder,
    /// Only tickets at or past this position of the order, inclusive: the
    /// queue cursor's `(updated_at, _)`, `(created_at, _)` or
    /// `(priority_rank, updated_at)`.
    pub from: Option<(i64, i64)>,
    /// How many ids at most.
    pub limit: usize,
}

/// What a ticket search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketHits {
    /// Ticket ids, in the query's order.
    pub ids: Vec<String>,
    /// More tickets match past the last one returned.
    pub more: bool,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    customer: Field,
    department: Field,
    assignee: Field,
    status: Field,
    priority: Field,
    category: Field,
    public: Field,
    notes: Field,
    public_bi: Field,
    notes_bi: Field,
    updated: Field,
    created: Field,
    prio: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // Documents only need to be found, not ranked: no frequencies, no positions.
    let text = |analyzer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::Basic),
        )
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | FAST),
        customer: b.add_text_field("customer", STRING),
        department: b.add_text_field("department", STRING),
        assignee: b.add_text_field("assignee", STRING),
        status: b.add_text_field("status", STRING),
        priority: b.add_text_field("priority", STRING),
        category: b.add_text_field("category", STRING),
        public: b.add_text_field("public", text(TEXT_ANALYZER)),
        notes: b.add_text_field("notes", text(TEXT_ANALYZER)),
        public_bi: b.add_text_field("public_bi", text(BIGRAM_ANALYZER)),
        notes_bi: b.add_text_field("notes_bi", text(BIGRAM_ANALYZER)),
        updated: b.add_i64_field("updated", FAST),
        created: b.add_i64_field("created", FAST),
        prio: b.add_i64_field("prio", FAST),
    };
    (b.build(), fields)
}

/// The priority order's one sort key: rank in the high bits, `updated_at`
/// (milliseconds, good until the year 2527) in the low 44.
fn prio_key(rank: i64, updated_at: i64) -> i64 {
    (rank.clamp(0, 1 << 18) << 44) | updated_at.clamp(0, (1 << 44) - 1)
}

/// The ticket index (tantivy), with one writer thread and a reader reloaded
/// on [`TicketIndex::commit`].
pub struct TicketIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    synonyms: crate::synonyms::SynonymCell,
}

impl std::fmt::Debug for TicketIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketIndex").field("docs", &self.num_docs()).finish()
    }
}

impl TicketIndex {
    /// An index held in memory.
    pub fn open_in_ram() -> Result<TicketIndex> {
        let (schema, fields) = schema();
        TicketIndex::from_index(Index::create_in_ram(schema), fields)
    }

    /// The index kept in directory `path` from an earlier run, with the
    /// payload of its last commit ([`TicketIndex::commit_with`]): the caller's
    /// stamp of what it holds. A directory without an index gets a new, empty
    /// one (payload `None`). An index that cannot be opened, or whose schema
    /// is not this build's, is an error: the caller discards it
    /// ([`TicketIndex::create_in_dir`]) and rebuilds.
    pub fn open_in_dir(path: impl AsRef<Path>) -> Result<(TicketIndex, Option<String>)> {
        let path = path.as_ref();
        let io = |source| SearchError::Io { path: path.to_path_buf(), source };
        std::fs::create_dir_all(path).map_err(io)?;
        let dir = MmapDirectory::open(path)?;
        let (schema, fields) = schema();
        if !Index::exists(&dir).map_err(|e| SearchError::Index(e.into()))? {
            return Ok((TicketIndex::create_in_dir(path)?, None));
        }
        let index = Index::open(dir)?;
        if index.schema() != schema {
            return Err(SearchError::SchemaChanged(path.to_path_buf()));
        }
        let payload = index.load_metas()?.payload;
        Ok((TicketIndex::from_index(index, fields)?, payload))
    }

    /// Whether every file of the index matches its checksum (reads the whole
    /// index: run it in the background).
    pub fn is_intact(&self) -> Result<bool> {
        Ok(self.index.validate_checksum()?.is_empty())
    }

    /// A new, empty index in directory `path` (created if missing; an index
    /// already there is discarded).
    pub fn create_in_dir(path: impl AsRef<Path>) -> Result<TicketIndex> {
        let path = path.as_ref();
        let io = |source| SearchError::Io { path: path.to_path_buf(), source };
        if path.exists() {
            std::fs::remove_dir_all(path).map_err(io)?;
        }
        std::fs::create_dir_all(path).map_err(io)?;
        let (schema, fields) = schema();
        let index = Index::create(MmapDirectory::open(path)?, schema, IndexSettings::default())?;
        TicketIndex::from_index(index, fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<TicketIndex> {
        register(&index);
        let writer: IndexWriter = index.writer_with_num_threads(1, TICKET_WRITER_HEAP)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(TicketIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            synonyms: crate::synonyms::SynonymCell::new(),
        })
    }

    /// The underlying tantivy index.
    pub fn tantivy_index(&self) -> &Index {
        &self.index
    }

    /// Replaces the synonym set (takes effect on the next search; no reindex).
    pub fn set_synonyms(&self, synonyms: Synonyms) {
        self.synonyms.set(synonyms);
    }

    fn synonyms(&self) -> Arc<Synonyms> {
        self.synonyms.get()
    }

    /// Number of tickets visible to searches (as of the last commit).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>> {
        self.writer.lock().map_err(|_| SearchError::Poisoned)
    }

    /// Adds or replaces a ticket. Visible after [`TicketIndex::commit`].
    pub fn upsert(&self, t: &TicketDoc) -> Result<()> {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &t.id);
        doc.add_text(f.customer, &t.customer_id);
        doc.add_text(f.department, &t.department_id);
        doc.add_text(f.assignee, t.assignee_id.as_deref().unwrap_or(UNASSIGNED));
        doc.add_text(f.status, &t.status);
        doc.add_text(f.priority, &t.priority);
        doc.add_text(f.category, &t.category);
        doc.add_text(f.public, &t.subject);
        doc.add_text(f.public_bi, &t.subject);
        for m in &t.messages {
            let (words, bigrams) = if m.internal { (f.notes, f.notes_bi) } else { (f.public, f.public_bi) };
            doc.add_text(words, &m.body);
            doc.add_text(bigrams, &m.body);
        }
        doc.add_i64(f.updated, t.updated_at);
        doc.add_i64(f.created, t.created_at);
        doc.add_i64(f.prio, prio_key(t.priority_rank, t.updated_at));
        let w = self.writer()?;
        w.delete_term(Term::from_field_text(f.id, &t.id));
        w.add_document(doc)?;
        Ok(())
    }

    /// Removes a ticket. Visible after commit.
    pub fn delete(&self, id: &str) -> Result<()> {
        self.writer()?.delete_term(Term::from_field_text(self.fields.id, id));
        Ok(())
    }

    /// Removes every ticket. Visible after commit.
    pub fn clear(&self) -> Result<()> {
        self.writer()?.delete_all_documents()?;
        Ok(())
    }

    /// Commits pending changes (keeping the payload of the last commit) and
    /// reloads the reader.
    pub fn commit(&self) -> Result<()> {
        let payload = self.index.load_metas()?.payload;
        self.commit_payload(payload.as_deref())
    }

    /// Commits pending changes with `payload` (what the caller stamps the
    /// index with: which changes it holds; given back by
    /// [`TicketIndex::open_in_dir`]) and reloads the reader.
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

    /// The payload of the last commit.
    pub fn payload(&self) -> Result<Option<String>> {
        Ok(self.index.load_metas()?.payload)
    }

    /// The tickets whose text matches `q.text` and that pass `q`'s filters, in
    /// `q.order` from `q.from` on, at most `q.limit`. A query without a
    /// searchable word (empty, only stop words or punctuation) finds nothing.
    pub fn search(&self, q: &TicketQuery) -> Result<TicketHits> {
        let searcher = self.reader.searcher();
        let staff = !matches!(q.scope, TicketScope::Customer(_));
        let Some(text) = self.text_query(&q.text, staff) else { return Ok(TicketHits::default()) };
        if q.limit == 0 {
            return Ok(TicketHits::default());
        }
        let f = &self.fields;
        let mut must: Vec<Box<dyn Query>> = vec![text];
        match &q.scope {
            TicketScope::All => {}
            TicketScope::Customer(c) => must.push(exact(f.customer, c)),
            TicketScope::Agent { id, departments } => {
                let mut any: Vec<Box<dyn Query>> = departments.iter().map(|d| exact(f.department, d)).collect();
                any.push(exact(f.assignee, id));
                must.push(any_of(any));
            }
        }
        if !q.statuses.is_empty() {
            must.push(any_of(q.statuses.iter().map(|s| exact(f.status, s)).collect()));
        }
        if let Some(d) = &q.department {
            must.push(exact(f.department, d));
        }
        if let Some(a) = &q.assignee {
            must.push(exact(f.assignee, a.as_deref().unwrap_or(UNASSIGNED)));
        }
        if let Some(p) = &q.priority {
            must.push(exact(f.priority, p));
        }
        if let Some(c) = &q.category {
            must.push(exact(f.category, c));
        }
        if let Some(c) = &q.customer {
            must.push(exact(f.customer, c));
        }
        let (field, name, order) = match q.order {
            TicketOrder::UpdatedDesc => (f.updated, "updated", Order::Desc),
            TicketOrder::CreatedDesc => (f.created, "created", Order::Desc),
            TicketOrder::CreatedAsc => (f.created, "created", Order::Asc),
            TicketOrder::PriorityDesc => (f.prio, "prio", Order::Desc),
        };
        if let Some((a, b)) = q.from {
            let key = if q.order == TicketOrder::PriorityDesc { prio_key(a, b) } else { a };
            let at = Bound::Included(Term::from_field_i64(field, key));
            must.push(Box::new(match order {
                Order::Desc => RangeQuery::new(Bound::Unbounded, at),
                Order::Asc => RangeQuery::new(at, Bound::Unbounded),
            }));
        }
        let query = BooleanQuery::new(must.into_iter().map(|m| (Occur::Must, m)).collect());
        // One more than asked, to know whether there are more.
        let top: Vec<(Option<i64>, tantivy::DocAddress)> =
            searcher.search(&query, &TopDocs::with_limit(q.limit + 1).order_by_fast_field::<i64>(name, order))?;
        let more = top.len() > q.limit;
        let mut columns: HashMap<u32, StrColumn> = HashMap::new();
        let mut ids = Vec::with_capacity(top.len().min(q.limit));
        for (_, addr) in top.into_iter().take(q.limit) {
            let column = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let Some(c) = searcher.segment_reader(addr.segment_ord).fast_fields().str("id")? else {
                        continue;
                    };
                    e.insert(c)
                }
            };
            if let Some(ord) = column.ords().first(addr.doc_id) {
                let mut id = String::new();
                column.ord_to_str(ord, &mut id).map_err(tantivy::TantivyError::from)?;
                ids.push(id);
            }
        }
        Ok(TicketHits { ids, more })
    }

    /// The text part of a search: every word (or synonym term spanning several
    /// words) must match. `None` when the text has no searchable word.
    fn text_query(&self, text: &str, staff: bool) -> Option<Box<dyn Query>> {
        let mut words = words(text);
        words.truncate(MAX_WORDS);
        if words.is_empty() {
            return None;
        }
        let f = &self.fields;
        let (wf, bf): (&[Field], &[Field]) =
            if staff { (&[f.public, f.notes], &[f.public_bi, f.notes_bi]) } else { (&[f.public], &[f.public_bi]) };
        let syn = self.synonyms();
        let mut spans = syn.spans(&words).into_iter().peekable();
        let mut concepts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let mut alts = Vec::new();
            let mut end = i + 1;
            if let Some((_, e, gi)) = spans.next_if(|&(s, _, _)| s == i) {
                end = e;
                alts.extend(group_alternatives(&syn, gi, wf, bf));
            }
            if end == i + 1 {
                alts.extend(self.word_alternatives(&words[i], wf, bf));
                // A misspelt word reaches the synonyms of the word it misspells.
                for gi in syn.near_groups(&words[i].term, KbIndex::fuzzy_distance(&words[i].term)) {
                    alts.extend(group_alternatives(&syn, gi, wf, bf));
                }
            }
            concepts.push((Occur::Must, any_of(alts)));
            i = end;
        }
        Some(Box::new(BooleanQuery::new(concepts)))
    }

    /// The ways one query word can match: as analysed; as its sub-words; by
    /// its CJK bigrams (when segmentation cut the document differently); or,
    /// for an English word of five letters or more, within one typo (two from
    /// nine letters on).
    fn word_alternatives(&self, w: &Word, wf: &[Field], bf: &[Field]) -> Vec<Box<dyn Query>> {
        let mut alts = vec![all_of(wf, std::slice::from_ref(&w.term))];
        let mut subs: Vec<String> = tokens(&w.surface).into_iter().filter(|t| *t != w.term).collect();
        subs.dedup();
        if subs.len() >= 2 {
            alts.push(all_of(wf, &subs));
        }
        let cjk = w.surface.chars().filter(|&c| is_cjk(c)).count();
        if cjk >= 2 {
            let bi = bigram_tokens(&w.surface);
            if !bi.is_empty() {
                alts.push(all_of(bf, &bi));
            }
        }
        // One Chinese character (币, 冻) finds the words that contain it: every bigram it starts or ends.
        if cjk == 1 && w.term.chars().count() == 1 {
            for &fld in bf {
                if let Some(q) = single_char_query(fld, &w.term) {
                    alts.push(q);
                }
            }
        }
        // Unlike the knowledge base, which tries typos only for words no article contains, always: whether some
        // ticket contains a word must not show through a search that may only look at some tickets.
        let d = KbIndex::fuzzy_distance(&w.term);
        if d > 0 {
            for &fld in wf {
                alts.push(Box::new(FuzzyTermQuery::new(Term::from_field_text(fld, &w.term), d, true)));
            }
        }
        alts
    }
}

/// The ways a synonym group can match: each term by its words, and a Chinese term also by its bigrams.
fn group_alternatives(syn: &Synonyms, gi: usize, wf: &[Field], bf: &[Field]) -> Vec<Box<dyn Query>> {
    let mut alts = Vec::new();
    for (folded, toks, cjk) in syn.group_terms(gi) {
        if !toks.is_empty() {
            alts.push(all_of(wf, &toks));
        }
        if cjk && folded.chars().filter(|&c| is_cjk(c)).count() >= 2 {
            let bi = bigram_tokens(&folded);
            if !bi.is_empty() {
                alts.push(all_of(bf, &bi));
            }
        }
    }
    alts
}

/// The bigrams of `field` that start or end with the one character `c` (a walk of the term dictionary's
/// automaton, not a scan of documents).
pub(crate) fn single_char_query(field: Field, c: &str) -> Option<Box<dyn Query>> {
    let ch = c.chars().next().filter(|ch| is_cjk(*ch))?;
    RegexQuery::from_pattern(&format!("{ch}.|.{ch}"), field).ok().map(|q| Box::new(q) as Box<dyn Query>)
}

fn exact(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

fn any_of(mut alts: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if alts.len() == 1 {
        return alts.pop().expect("one alternative");
    }
    Box::new(BooleanQuery::new(alts.into_iter().map(|q| (Occur::Should, q)).collect()))
}

/// Every token present, each in any of `fields`.
fn all_of(fields: &[Field], toks: &[String]) -> Box<dyn Query> {
    let each: Vec<(Occur, Box<dyn Query>)> =
        toks.iter().map(|t| (Occur::Must, any_of(fields.iter().map(|&fld| exact(fld, t)).collect()))).collect();
    Box::new(BooleanQuery::new(each))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: &str, department: &str, updated_at: i64, subject: &str, messages: &[(&str, bool)]) -> TicketDoc {
        TicketDoc {
            id: id.into(),
            customer_id: format!("cust-{id}"),
            department_id: department.into(),
            assignee_id: None,
            status: "open".into(),
            priority: "normal".into(),
            priority_rank: 1,
            category: "withdrawal".into(),
            created_at: updated_at,
            updated_at,
            subject: subject.into(),
            messages: messages.iter().map(|(b, i)| TicketMessage { body: b.to_string(), internal: *i }).collect(),
        }
    }

    fn index() -> TicketIndex {
        let idx = TicketIndex::open_in_ram().unwrap();
        idx.upsert(&ticket("t1", "support", 10, "提币三小时未到账", &[("USDT TRC20 withdrawal pending", false)]))
            .unwrap();
        idx.upsert(&ticket(
            "t2",
            "support",
            20,
            "KYC rejected",
            &[("我的身份证照片被拒绝", false), ("VIP 客户", true)],
        ))
        .unwrap();
        idx.upsert(&ticket("t3", "finance", 30, "我要提现", &[("请尽快处理", false)])).unwrap();
        idx.upsert(&ticket("t4", "support", 40, "登錄不了", &[("password reset please", false)])).unwrap();
        idx.commit().unwrap();
        idx
    }

    fn find(idx: &TicketIndex, text: &str) -> Vec<String> {
        idx.search(&TicketQuery { text: text.into(), limit: 10, ..Default::default() }).unwrap().ids
    }

    #[test]
    fn every_word_must_match_through_the_shared_analyser() {
        let idx = index();
        assert_eq!(find(&idx, "三小時"), vec!["t1"], "Traditional finds Simplified");
        assert_eq!(find(&idx, "提幣"), vec!["t3", "t1"], "提币 and its synonym 提现");
        assert_eq!(find(&idx, "withdrawl"), vec!["t3", "t1"], "a typo, and through withdrawal's group 提现");
        assert_eq!(find(&idx, "币"), vec!["t1"], "one character finds the word 提币 that holds it");
        assert_eq!(find(&idx, "幣"), vec!["t1"], "in either script");
        assert_eq!(find(&idx, "拒"), vec!["t2"], "被拒绝");
        assert_eq!(find(&idx, "鑫"), Vec::<String>::new(), "a character no ticket holds finds nothing");
        assert_eq!(find(&idx, "withdrawal"), vec!["t3", "t1"], "提现 is in withdrawal's synonym group");
        assert_eq!(find(&idx, "出金"), vec!["t3", "t1"], "synonyms of the group");
        assert_eq!(find(&idx, "登录"), vec!["t4"], "Simplified finds Traditional");
        assert_eq!(find(&idx, "身份证 照片"), vec!["t2"]);
        assert_eq!(find(&idx, "身份证 usdt"), Vec::<String>::new(), "all words must match");
        assert_eq!(find(&idx, "the"), Vec::<String>::new(), "stop words alone find nothing");
        assert_eq!(find(&idx, "resetting passwords"), vec!["t4"], "stemming");
    }

    #[test]
    fn notes_scope_filters_and_order() {
        let idx = index();
        assert_eq!(find(&idx, "vip"), vec!["t2"], "staff search notes");
        let cust = TicketQuery {
            text: "vip".into(),
            scope: TicketScope::Customer("cust-t2".into()),
            limit: 10,
            ..Default::default()
        };
        assert!(idx.search(&cust).unwrap().ids.is_empty(), "customers do not");
        let agent = |text: &str| TicketQuery {
            text: text.into(),
            scope: TicketScope::Agent { id: "a1".into(), departments: vec!["support".into()] },
            limit: 10,
            ..Default::default()
        };
        assert_eq!(idx.search(&agent("出金")).unwrap().ids, vec!["t1"], "finance's ticket is not the agent's");
        let mut t3 = ticket("t3", "finance", 31, "我要提现", &[("请尽快处理", false)]);
        t3.assignee_id = Some("a1".into());
        idx.upsert(&t3).unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.search(&agent("出金")).unwrap().ids, vec!["t3", "t1"], "unless assigned to them");

        let page = |from, order| {
            idx.search(&TicketQuery { text: "出金".into(), order, from, limit: 1, ..Default::default() }).unwrap()
        };
        assert_eq!(page(None, TicketOrder::UpdatedDesc), TicketHits { ids: vec!["t3".into()], more: true });
        assert_eq!(page(Some((30, 0)), TicketOrder::UpdatedDesc), TicketHits { ids: vec!["t1".into()], more: false });
        assert_eq!(page(None, TicketOrder::CreatedAsc).ids, vec!["t1"]);
        assert_eq!(page(Some((11, 0)), TicketOrder::CreatedAsc).ids, vec!["t3"]);
        assert_eq!(page(Some((1, 31)), TicketOrder::PriorityDesc).ids, vec!["t3"], "inclusive");
        let unassigned = TicketQuery { text: "出金".into(), assignee: Some(None), limit: 10, ..Default::default() };
        assert_eq!(idx.search(&unassigned).unwrap().ids, vec!["t1"]);
        idx.delete("t1").unwrap();
        idx.commit().unwrap();
        assert_eq!(find(&idx, "出金"), vec!["t3"]);
    }

    #[test]
    fn synonym_spans_cover_several_words() {
        let s = Synonyms::default_exchange().prepared();
        let w = words("my cash out failed");
        let spans = s.spans(&w);
        assert_eq!(spans.len(), 1, "{spans:?} over {w:?}");
        let (a, b, g) = spans[0];
        assert_eq!(b - a, 2);
        assert!(s.group_terms(g).iter().any(|(f, _, _)| f == "提现"));
    }
}
