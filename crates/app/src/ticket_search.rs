//! The agents' ticket search between the database and the index: the database holds the tickets; each node
//! keeps its own [`TicketIndex`] on disk, across restarts, stamped with how far it has read the database's
//! change log ([`lifebuoy_store::index_log`]).
//!
//! - **Changes.** Every committed change to a case (creation, message, note, status, assignment, transfer,
//!   merge, follow-up, erasure, a visitor's chats joined to an account) leaves a row in the change log in its
//!   own transaction. One indexer task per node reads the log on from its position, re-reads the changed
//!   tickets from the database, replaces their documents and commits them with the new position, in one index
//!   commit. Re-reading (rather than applying the change itself) makes every update idempotent and order-free.
//!   The indexer reads when this node commits a change ([`Store::on_commit`]), when another node says it did
//!   (hub topic `tickets`, carried by NATS), and every [`POLL`] regardless: a notice lost, or a hub queue
//!   overflowed, delays a change by at most that, never loses it.
//! - **Start.** The index in the node's directory is opened and serves searches at once; the indexer catches
//!   up from its stamped position (searches say how far behind it is: [`IndexState`]). It is rebuilt from the
//!   database, in the background, only when it is missing, cannot be opened, fails its checksums, was written
//!   by another schema or analyser version, from another database, or before the log's pruned floor. Until a
//!   rebuild is done, a text search matches subjects with `LIKE` and says that it does.
//! - **Searches** read their own writes: a search on a node first waits (up to [`CATCH_UP`]) until that node's
//!   indexer has taken in every change committed on it before the search.
//!
//! [`Store::on_commit`]: lifebuoy_store::Store::on_commit

use crate::App;
use crate::chat::Inbox;
use crate::index_dir::{NodeDir, Stamp};
use lifebuoy_domain::ConversationKind;
use lifebuoy_search::TICKET_INDEX_VERSION;
use lifebuoy_search::{TicketDoc, TicketIndex, TicketMessage, TicketOrder, TicketQuery, TicketScope};
use lifebuoy_store::{
    Conversation, Cursor, Indexed, LogPos, LogReader, Page, QueueFilter, QueueSort, Scope, StoreError, TicketText,
};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// The hub topic of ticket changes.
pub const TOPIC: &str = "tickets";

/// How long a search waits for this node's index to take in the changes committed before it.
pub const CATCH_UP: Duration = Duration::from_secs(2);

/// How often the indexer reads the change log when nobody told it of a change.
pub const POLL: Duration = Duration::from_secs(2);

/// Tickets read from the database per step of a rebuild.
const REBUILD_PAGE: usize = 500;

/// Change-log rows taken per index commit while catching up.
const LOG_BATCH: usize = 5000;

/// The shortest time between two commits of the index: under a burst of changes, batches grow instead of
/// commits multiplying (each writes and syncs a segment; measured 5 ms in memory, 10 ms on disk in a debug
/// build). A change after a quiet spell is committed at once.
const MIN_COMMIT_GAP: Duration = Duration::from_millis(50);

/// The most candidate ids one queue page asks the index for (and hands to SQL).
const MAX_CANDIDATES: usize = 5000;

/// How far behind an index may be counted (the count is shown, not used).
const BEHIND_CAP: i64 = 10_000_000;

/// Where a node's ticket index stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IndexState {
    /// Up to date: searches see every change committed before them.
    Ready,
    /// Serving searches while it reads the changes made since it last ran: about `behind` of them are not in
    /// the results yet.
    CatchingUp { behind: i64 },
    /// Being built from the database (`done` of `total` tickets); until then text matches subjects only.
    Building { done: u64, total: u64 },
}

/// This node's ticket index and what keeps it in step.
pub struct TicketSearch {
    index: Arc<TicketIndex>,
    /// Identifies this node's announcements, so it does not wake itself.
    node: String,
    started: AtomicBool,
    /// Searches use the index (it was opened in step, or the first build is done).
    ready: AtomicBool,
    /// The stamp the index was opened with (on disk), read once at start.
    opened: Mutex<Option<Stamp>>,
    /// The database this index is filled from (the log's epoch, known once started).
    epoch: Mutex<String>,
    /// How far the index has read the change log.
    log: Mutex<LogReader>,
    pending: Mutex<Pending>,
    wake: Notify,
    /// The generation of [`Pending`] the index has taken in.
    applied: watch::Sender<u64>,
    /// About how many logged changes the index has yet to take in.
    behind: AtomicI64,
    /// Progress of a rebuild: tickets read, of how many.
    built: AtomicU64,
    to_build: AtomicU64,
    /// Index commits since start (for `/metrics`).
    commits: AtomicU64,
    /// Full builds since start.
    rebuilds: AtomicU64,
    /// Held by the indexer for each pass ([`TicketSearch::hold_indexing`]).
    hold: Arc<tokio::sync::Mutex<()>>,
    /// The on-disk directory's lock, held as long as the index lives (declared after `index`, so dropped after).
    _dir: Option<NodeDir>,
}

/// What the indexer has been asked to do.
#[derive(Default)]
struct Pending {
    /// Rebuild from the database.
    rebuild: bool,
    /// Bumped by every change this node commits (and every rebuild asked for).
    generation: u64,
    /// This node committed changes since its last announcement.
    local: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Notice {
    node: String,
}

/// Errors of the ticket index.
#[derive(Debug, thiserror::Error)]
pub enum TicketSearchError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Search(#[from] lifebuoy_search::SearchError),
    #[error("ticket index directory {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    #[error("the index task stopped")]
    Join,
}

impl TicketSearch {
    /// A ticket search over an index in memory (tests, benchmarks, in-process servers): built at each start.
    pub fn in_ram() -> Result<TicketSearch, TicketSearchError> {
        Ok(TicketSearch::with(TicketIndex::open_in_ram()?, None, None))
    }

    /// A ticket search over an index on disk, in a directory of this node's own under `root`: the directory a
    /// node that stopped left (several nodes may share a data directory; each holds one by its lock), or a new
    /// one. An index there that cannot be opened is discarded, and rebuilt once started.
    pub fn on_disk(root: &Path) -> Result<TicketSearch, TicketSearchError> {
        let dir = NodeDir::claim(root, "tickets").map_err(|e| TicketSearchError::Dir(root.to_path_buf(), e))?;
        let (index, stamp) = match TicketIndex::open_in_dir(&dir.path) {
            Ok((index, payload)) => {
                let stamp = Stamp::parse(payload.as_deref());
                (index, stamp)
            }
            Err(e) => {
                tracing::warn!(dir = %dir.path.display(), error = %e, "the ticket index cannot be opened: discarding it, it will be rebuilt");
                (TicketIndex::create_in_dir(&dir.path)?, None)
            }
        };
        Ok(TicketSearch::with(index, stamp, Some(dir)))
    }

    fn with(index: TicketIndex, stamp: Option<Stamp>, dir: Option<NodeDir>) -> TicketSearch {
        TicketSearch {
            index: Arc::new(index),
            node: uuid::Uuid::new_v4().simple().to_string(),
            started: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            opened: Mutex::new(stamp),
            epoch: Mutex::new(String::new()),
            log: Mutex::new(LogReader::default()),
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            applied: watch::channel(0).0,
            behind: AtomicI64::new(0),
            built: AtomicU64::new(0),
            to_build: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            rebuilds: AtomicU64::new(0),
            hold: Arc::new(tokio::sync::Mutex::new(())),
            _dir: dir,
        }
    }

    /// The index.
    pub fn index(&self) -> &Arc<TicketIndex> {
        &self.index
    }

    /// The directory the index lives in (none in memory).
    pub fn dir(&self) -> Option<&Path> {
        self._dir.as_ref().map(|d| d.path.as_path())
    }

    /// Whether searches use the index (before it is, text searches use the subject `LIKE`).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Where the index stands.
    pub fn state(&self) -> IndexState {
        if !self.is_ready() {
            return IndexState::Building {
                done: self.built.load(Ordering::Relaxed),
                total: self.to_build.load(Ordering::Relaxed),
            };
        }
        match self.behind.load(Ordering::Relaxed) {
            0 => IndexState::Ready,
            n => IndexState::CatchingUp { behind: n.max(0) },
        }
    }

    /// The stamp the index was opened with, if it was opened from disk with one.
    pub fn opened_stamp(&self) -> Option<Stamp> {
        lock(&self.opened).clone()
    }

    /// How far the index has read the change log.
    pub fn position(&self) -> LogPos {
        lock(&self.log).pos
    }

    /// Index commits since start.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Full builds from the database since start.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::Relaxed)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        lock(&self.pending)
    }

    /// Keeps the indexer from taking in changes until the guard is dropped (it finishes the pass under way
    /// first): what searches say while an index is behind, seen in tests, or a maintenance window.
    pub async fn hold_indexing(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.hold.clone().lock_owned().await
    }

    /// Something changed in the database (this node committed it): read the change log now.
    pub fn changed(&self) {
        self.behind.fetch_add(1, Ordering::Relaxed);
        let mut p = self.pending();
        p.generation += 1;
        p.local = true;
        drop(p);
        self.wake.notify_one();
    }

    fn request_rebuild(&self) {
        self.ready.store(false, Ordering::SeqCst);
        let mut p = self.pending();
        p.rebuild = true;
        p.generation += 1;
        drop(p);
        self.wake.notify_one();
    }

    /// Waits until the index has taken in every change this node committed so far (not during a rebuild, and
    /// at most [`CATCH_UP`]).
    async fn catch_up(&self) {
        if !self.is_ready() {
            return;
        }
        let target = self.pending().generation;
        let mut rx = self.applied.subscribe();
        let _ = tokio::time::timeout(CATCH_UP, rx.wait_for(|g| *g >= target)).await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A ticket as the index takes it.
pub fn ticket_doc(t: &TicketText) -> TicketDoc {
    let c = &t.conversation;
    TicketDoc {
        id: c.id.clone(),
        customer_id: c.customer_id.clone(),
        department_id: c.department_id.clone(),
        assignee_id: c.assignee_id.clone(),
        status: c.status.clone(),
        priority: c.priority.clone(),
        priority_rank: c.priority().rank(),
        category: c.category.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        subject: c.subject.clone(),
        messages: t
            .messages
            .iter()
            .map(|(body, internal)| TicketMessage { body: body.clone(), internal: *internal })
            .collect(),
    }
}

impl App {
    /// Starts this node's ticket index: opened in step, it serves searches at once and catches up from its
    /// stamp; otherwise it is built from the database in the background. Keeps it in step from then on (this
    /// node's commits, other nodes' notices, the change log). Returns at once; [`TicketSearch::state`] says
    /// where it stands. Calling it again does nothing.
    pub fn load_tickets(&self) {
        let ts = &self.tickets;
        if ts.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.tickets.clone();
        self.store.on_commit(move |c| {
            // Live chats are not in the ticket index (a chat turned into a ticket is, as that ticket).
            if c.kind != ConversationKind::Chat {
                me.changed();
            }
        });
        self.follow_ticket_changes();
        let state = self.clone();
        tokio::spawn(async move {
            state.open_tickets().await;
            state.run_ticket_indexer().await
        });
    }

    /// Decides, once at start, whether the index opened from disk can serve: same build, same database, and
    /// its position not before the log's pruned floor. Otherwise asks for a rebuild. Then checks the index's
    /// files in the background (a damaged one means a rebuild).
    async fn open_tickets(&self) {
        let ts = self.tickets.clone();
        let info = loop {
            match self.store.index_log_info().await {
                Ok(i) => break i,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the index change log; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        *lock(&ts.epoch) = info.epoch.clone();
        let stamp = ts.opened_stamp();
        let usable = Stamp::resume_at(stamp.as_ref(), TICKET_INDEX_VERSION, &info);
        match usable {
            Ok(pos) => {
                *lock(&ts.log) = LogReader::starting_at(pos);
                let behind = self.store.index_changes_behind(&[Indexed::Ticket], pos, BEHIND_CAP).await.unwrap_or(0);
                ts.behind.store(behind, Ordering::SeqCst);
                ts.ready.store(true, Ordering::SeqCst);
                tracing::info!(tickets = ts.index.num_docs(), behind, "ticket index opened; catching up");
                let check = ts.clone();
                tokio::spawn(async move {
                    let index = check.index.clone();
                    match tokio::task::spawn_blocking(move || index.is_intact()).await {
                        Ok(Ok(true)) => {}
                        Ok(Ok(false)) => {
                            tracing::error!("the ticket index failed its checksums: rebuilding it");
                            check.request_rebuild();
                        }
                        Ok(Err(e)) => {
                            tracing::error!(error = %e, "the ticket index cannot be checked: rebuilding it");
                            check.request_rebuild();
                        }
                        Err(_) => {}
                    }
                });
                ts.wake.notify_one();
            }
            Err(why) => {
                tracing::info!(reason = %why, "building the ticket index from the database");
                ts.request_rebuild();
            }
        }
    }

    /// The indexer task: rebuilds when asked, otherwise reads the change log on and applies it, one index
    /// commit per batch.
    async fn run_ticket_indexer(self) {
        let ts = self.tickets.clone();
        let mut last_commit: Option<tokio::time::Instant> = None;
        loop {
            let _ = tokio::time::timeout(POLL, ts.wake.notified()).await;
            loop {
                if let Some(gap) = last_commit.map(|t| t.elapsed()).filter(|g| *g < MIN_COMMIT_GAP) {
                    tokio::time::sleep(MIN_COMMIT_GAP - gap).await;
                }
                let held = ts.hold.clone().lock_owned().await;
                let (rebuild, generation, local) = {
                    let mut p = ts.pending();
                    let taken = (p.rebuild, p.generation, p.local);
                    p.rebuild = false;
                    p.local = false;
                    taken
                };
                let done = if rebuild {
                    self.rebuild_tickets().await.map(|n| {
                        tracing::info!(tickets = n, "ticket index built");
                        (n, true)
                    })
                } else {
                    self.apply_ticket_log().await
                };
                drop(held);
                let (n, more) = match done {
                    Ok(d) => d,
                    Err(e) => {
                        tracing::error!(error = %e, "ticket index update failed; retrying");
                        {
                            let mut p = ts.pending();
                            p.rebuild |= rebuild;
                            p.local |= local;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if n > 0 {
                    last_commit = Some(tokio::time::Instant::now());
                }
                ts.applied.send_replace(generation);
                if local {
                    self.hub.announce(TOPIC, &Notice { node: ts.node.clone() });
                }
                let settled = {
                    let p = ts.pending();
                    !more && !p.rebuild && p.generation == generation
                };
                if settled {
                    break;
                }
            }
        }
    }

    /// Reads the change log on from the index's position and applies it: the changed tickets re-read, the
    /// index committed with the new position. Answers how many changes it took and whether more wait.
    async fn apply_ticket_log(&self) -> Result<(u64, bool), TicketSearchError> {
        let ts = self.tickets.clone();
        let reader = lock(&ts.log).clone();
        let (changes, keep, more) = reader.read(&self.store, &[Indexed::Ticket], LOG_BATCH).await?;
        if changes.is_empty() {
            lock(&ts.log).advance(&changes, keep);
            ts.behind.store(0, Ordering::Relaxed);
            return Ok((0, more));
        }
        let ids: Vec<String> =
            changes.iter().map(|c| c.entity_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        self.reindex_docs(&ids).await?;
        let stamp = Stamp::payload(TICKET_INDEX_VERSION, &lock(&ts.epoch), keep);
        let index = ts.index.clone();
        tokio::task::spawn_blocking(move || index.commit_with(&stamp)).await.map_err(|_| TicketSearchError::Join)??;
        ts.commits.fetch_add(1, Ordering::Relaxed);
        lock(&ts.log).advance(&changes, keep);
        let left = if more { (ts.behind.load(Ordering::Relaxed) - changes.len() as i64).max(1) } else { 0 };
        ts.behind.store(left, Ordering::Relaxed);
        Ok((changes.len() as u64, more))
    }

    /// Rebuilds the whole index from the database, in one commit, stamped with the change log's head as it was
    /// before the first ticket was read (what changes during the build is read from the log afterwards).
    pub async fn rebuild_tickets(&self) -> Result<u64, TicketSearchError> {
        let ts = self.tickets.clone();
        ts.ready.store(false, Ordering::SeqCst);
        ts.rebuilds.fetch_add(1, Ordering::Relaxed);
        let head = self.store.index_log_head().await?;
        let total = self.store.count_tickets().await.unwrap_or(0);
        ts.to_build.store(total, Ordering::Relaxed);
        ts.built.store(0, Ordering::Relaxed);
        let index = ts.index.clone();
        tokio::task::spawn_blocking(move || index.clear()).await.map_err(|_| TicketSearchError::Join)??;
        let mut after: Option<String> = None;
        let mut next_log = 100_000;
        loop {
            let page = self.store.ticket_texts(after.as_deref(), REBUILD_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.conversation.id.clone());
            let n = page.len() as u64;
            let index = ts.index.clone();
            tokio::task::spawn_blocking(move || page.iter().try_for_each(|t| index.upsert(&ticket_doc(t))))
                .await
                .map_err(|_| TicketSearchError::Join)??;
            let done = ts.built.fetch_add(n, Ordering::Relaxed) + n;
            if done >= next_log {
                tracing::info!(done, total, "building the ticket index");
                next_log += 100_000;
            }
        }
        let stamp = Stamp::payload(TICKET_INDEX_VERSION, &lock(&ts.epoch), head);
        let index = ts.index.clone();
        let n = tokio::task::spawn_blocking(move || index.commit_with(&stamp).map(|_| index.num_docs()))
            .await
            .map_err(|_| TicketSearchError::Join)??;
        ts.commits.fetch_add(1, Ordering::Relaxed);
        *lock(&ts.log) = LogReader::starting_at(head);
        ts.behind.store(0, Ordering::Relaxed);
        ts.ready.store(true, Ordering::SeqCst);
        Ok(n)
    }

    /// Re-reads tickets from the database into the index, uncommitted (removing those that are gone or are no
    /// tickets).
    async fn reindex_docs(&self, ids: &[String]) -> Result<(), TicketSearchError> {
        let found = self.store.ticket_texts_of(ids).await?;
        let present: HashSet<&str> = found.iter().map(|t| t.conversation.id.as_str()).collect();
        let gone: Vec<String> = ids.iter().filter(|id| !present.contains(id.as_str())).cloned().collect();
        let index = self.tickets.index.clone();
        tokio::task::spawn_blocking(move || -> Result<(), TicketSearchError> {
            for id in &gone {
                index.delete(id)?;
            }
            for t in &found {
                index.upsert(&ticket_doc(t))?;
            }
            Ok(())
        })
        .await
        .map_err(|_| TicketSearchError::Join)?
    }

    /// Listens for other nodes' ticket changes: each notice is a reason to read the change log now.
    fn follow_ticket_changes(&self) {
        let (inbox, mut rx) = Inbox::new();
        self.hub.subscribe(TOPIC, &inbox);
        let ts = self.tickets.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                // Notices lost to an overflowed queue cost nothing: the log has every change, and the next
                // read (at the latest after `POLL`) takes them.
                inbox.lagged.swap(false, Ordering::Relaxed);
                match serde_json::from_str::<Notice>(&ev.frame) {
                    Ok(n) if n.node == ts.node => {}
                    Ok(_) => ts.wake.notify_one(),
                    Err(_) => tracing::warn!("unreadable ticket notice"),
                }
            }
        });
    }

    /// A page of the queue (or of a customer's tickets). Free text goes through the ticket index, which finds
    /// the candidate tickets in the listing's own order from the cursor on; SQL then applies every filter and
    /// the caller's scope to them, exactly as without text, so nobody sees a ticket they could not see
    /// otherwise. The order stays the one asked for (text narrows the list, it does not rank it), and the
    /// keyset cursor works as usual. Before the index is built, and for kinds the index does not hold, text
    /// matches the subject with `LIKE`, as before.
    pub async fn list_conversations(
        &self,
        scope: &Scope,
        f: &QueueFilter,
        sort: QueueSort,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Conversation>, StoreError> {
        let text = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let tickets = matches!(f.kind, None | Some(ConversationKind::Ticket));
        let (Some(text), true, true) = (text, tickets, self.tickets.is_ready()) else {
            return self.store.list_conversations(scope, f, sort, after, limit).await;
        };
        let limit = limit.clamp(1, 200);
        self.tickets.catch_up().await;
        let mut q = TicketQuery {
            text: text.to_string(),
            scope: match scope {
                Scope::All => TicketScope::All,
                Scope::Customer(c) => TicketScope::Customer(c.clone()),
                Scope::Agent { id, departments } => {
                    TicketScope::Agent { id: id.clone(), departments: departments.clone() }
                }
            },
            statuses: f.statuses.iter().map(|s| s.as_str().to_string()).collect(),
            department: f.department.clone(),
            assignee: f.assignee.clone(),
            priority: f.priority.map(|p| p.as_str().to_string()),
            category: f.category.map(|c| c.as_str().to_string()),
            customer: f.customer_id.clone(),
            order: match sort {
                QueueSort::UpdatedDesc => TicketOrder::UpdatedDesc,
                QueueSort::CreatedDesc => TicketOrder::CreatedDesc,
                QueueSort::CreatedAsc => TicketOrder::CreatedAsc,
                QueueSort::PriorityDesc => TicketOrder::PriorityDesc,
                // The index does not keep clocks: the freshest matches, ordered by time left in SQL.
                QueueSort::DueAsc => TicketOrder::UpdatedDesc,
            },
            from: after.filter(|_| sort != QueueSort::DueAsc).map(Cursor::position),
            // The index mirrors the filters, so nearly every candidate is on the page; the margin covers
            // tickets whose latest change the index has not taken in yet.
            limit: if sort == QueueSort::DueAsc { MAX_CANDIDATES } else { (limit + 1) * 2 + 50 },
        };
        loop {
            let index = self.tickets.index.clone();
            let query = q.clone();
            let hits = match tokio::task::spawn_blocking(move || index.search(&query)).await {
                Ok(Ok(h)) => h,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "ticket search failed; matching subjects instead");
                    return self.store.list_conversations(scope, f, sort, after, limit).await;
                }
                Err(_) => return Err(StoreError::Unavailable("the search task stopped".into())),
            };
            let f = QueueFilter { text_ids: Some(hits.ids), ..f.clone() };
            let page = self.store.list_conversations(scope, &f, sort, after, limit).await?;
            // A short page while the index had more: SQL turned candidates down (the index was behind); look
            // further.
            if page.next_cursor.is_some() || !hits.more || q.limit >= MAX_CANDIDATES {
                return Ok(page);
            }
            q.limit = (q.limit * 4).min(MAX_CANDIDATES);
        }
    }
}
