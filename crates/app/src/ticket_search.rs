//! The agents' ticket search between the database and the index, on the knowledge base's pattern
//! (`knowledge.rs`): the database holds the tickets; each node keeps its own [`TicketIndex`] built from it at
//! start and kept in step with every change.
//!
//! - **Changes.** The post-commit stream ([`Store::on_commit`]) tells of every committed change to a case
//!   (creation, message, note, status, assignment, transfer, merge, follow-up). The id is queued; one indexer
//!   task per node re-reads queued tickets from the database in batches, replaces their documents and commits
//!   once per batch. Re-reading (rather than applying the change itself) makes every update idempotent and
//!   order-free. It then announces the ids on hub topic `tickets` (carried to other nodes by NATS); other nodes
//!   queue them the same way, minus the announcing. A node whose hub queue overflowed rebuilds its index.
//! - **Start.** The first build reads every ticket from the database in the background. Until it is done,
//!   a text search falls back to what the queue did before the index: `LIKE` on the subject (with the exact
//!   case number / order id / tx hash matches, which never need the index).
//! - **Searches** read their own writes: a search on a node first waits (up to [`CATCH_UP`]) until that node's
//!   indexer has taken in every change queued before it, so a message is found as soon as it is posted.
//!
//! [`Store::on_commit`]: lifebuoy_store::Store::on_commit

use crate::App;
use crate::chat::Inbox;
use lifebuoy_domain::ConversationKind;
use lifebuoy_search::{TicketDoc, TicketIndex, TicketMessage, TicketOrder, TicketQuery, TicketScope};
use lifebuoy_store::{Conversation, Cursor, Page, QueueFilter, QueueSort, Scope, StoreError, TicketText};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// The hub topic of ticket changes.
pub const TOPIC: &str = "tickets";

/// How long a search waits for this node's index to take in the changes committed before it.
pub const CATCH_UP: Duration = Duration::from_secs(2);

/// Tickets read from the database per step of a rebuild.
const REBUILD_PAGE: usize = 200;

/// The shortest time between two commits of the index: under a burst of changes, batches grow instead of
/// commits multiplying (each writes and syncs a segment; measured 5 ms in memory, 10 ms on disk in a debug
/// build). A change after a quiet spell is committed at once.
const MIN_COMMIT_GAP: Duration = Duration::from_millis(50);

/// Ticket ids per hub notice.
const NOTICE_IDS: usize = 256;

/// The most candidate ids one queue page asks the index for (and hands to SQL).
const MAX_CANDIDATES: usize = 5000;

/// This node's ticket index and what keeps it in step.
pub struct TicketSearch {
    index: Arc<TicketIndex>,
    /// Identifies this node's announcements, so it does not redo its own changes.
    node: String,
    started: AtomicBool,
    /// The first build is done: searches use the index.
    ready: AtomicBool,
    /// A rebuild is under way (searches do not wait for it).
    rebuilding: AtomicBool,
    pending: Mutex<Pending>,
    wake: Notify,
    /// The generation of [`Pending`] the index has taken in.
    applied: watch::Sender<u64>,
    /// The on-disk directory's lock, held as long as the index lives (declared after `index`, so dropped after).
    _dir: Option<NodeDir>,
}

/// Ticket ids waiting for the indexer.
#[derive(Default)]
struct Pending {
    /// Changed on this node: index, then announce.
    local: HashSet<String>,
    /// Announced by other nodes: index only.
    remote: HashSet<String>,
    rebuild: bool,
    /// Bumped by every change queued.
    generation: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Notice {
    node: String,
    ids: Vec<String>,
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
    /// A ticket search over an index in memory (tests, benchmarks, in-process servers).
    pub fn in_ram() -> Result<TicketSearch, TicketSearchError> {
        Ok(TicketSearch::with(TicketIndex::open_in_ram()?, None))
    }

    /// A ticket search over an index on disk: a directory of this node's own under `root` (several nodes may
    /// share a data directory), created empty. Directories left by nodes that are gone are removed.
    pub fn on_disk(root: &Path) -> Result<TicketSearch, TicketSearchError> {
        let node = uuid::Uuid::new_v4().simple().to_string();
        let dir = NodeDir::claim(root, &node).map_err(|e| TicketSearchError::Dir(root.to_path_buf(), e))?;
        let index = TicketIndex::create_in_dir(&dir.path)?;
        let mut s = TicketSearch::with(index, Some(dir));
        s.node = node;
        Ok(s)
    }

    fn with(index: TicketIndex, dir: Option<NodeDir>) -> TicketSearch {
        TicketSearch {
            index: Arc::new(index),
            node: uuid::Uuid::new_v4().simple().to_string(),
            started: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            rebuilding: AtomicBool::new(false),
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            applied: watch::channel(0).0,
            _dir: dir,
        }
    }

    /// The index.
    pub fn index(&self) -> &Arc<TicketIndex> {
        &self.index
    }

    /// Whether the first build is done (before it, text searches use the subject `LIKE`).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enqueue(&self, id: &str, local: bool) {
        let mut p = self.pending();
        if local {
            p.local.insert(id.to_string())
        } else {
            p.remote.insert(id.to_string())
        };
        p.generation += 1;
        drop(p);
        self.wake.notify_one();
    }

    fn request_rebuild(&self) {
        let mut p = self.pending();
        p.rebuild = true;
        p.generation += 1;
        drop(p);
        self.wake.notify_one();
    }

    /// Waits until the index has taken in every change queued so far (not during a rebuild, and at most
    /// [`CATCH_UP`]).
    async fn catch_up(&self) {
        if self.rebuilding.load(Ordering::SeqCst) {
            return;
        }
        let target = self.pending().generation;
        let mut rx = self.applied.subscribe();
        let _ = tokio::time::timeout(CATCH_UP, rx.wait_for(|g| *g >= target)).await;
    }
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
    /// Builds this node's ticket index from the database in the background and keeps it in step from then on
    /// (store callbacks, other nodes' notices on the hub). Returns at once; [`TicketSearch::is_ready`] says
    /// when the first build is done. Calling it again does nothing.
    pub fn load_tickets(&self) {
        let ts = &self.tickets;
        if ts.started.swap(true, Ordering::SeqCst) {
            return;
        }
        // Listen first, so that no change committed while the index builds is missed.
        let me = self.tickets.clone();
        self.store.on_commit(move |c| {
            // Live chats are not in the ticket index (a chat turned into a ticket is, as that ticket).
            if c.kind != ConversationKind::Chat {
                me.enqueue(&c.conversation_id, true);
            }
        });
        self.follow_ticket_changes();
        ts.request_rebuild();
        let state = self.clone();
        tokio::spawn(async move { state.run_ticket_indexer().await });
    }

    /// The indexer task: takes the queued ids (or a rebuild) in batches, one commit per batch.
    async fn run_ticket_indexer(self) {
        let ts = self.tickets.clone();
        let mut last_commit: Option<tokio::time::Instant> = None;
        loop {
            ts.wake.notified().await;
            loop {
                if let Some(gap) = last_commit.map(|t| t.elapsed()).filter(|g| *g < MIN_COMMIT_GAP) {
                    tokio::time::sleep(MIN_COMMIT_GAP - gap).await;
                }
                let (local, remote, rebuild, generation) = {
                    let mut p = ts.pending();
                    if p.local.is_empty() && p.remote.is_empty() && !p.rebuild {
                        break;
                    }
                    let taken = (std::mem::take(&mut p.local), std::mem::take(&mut p.remote), p.rebuild, p.generation);
                    p.rebuild = false;
                    taken
                };
                let done = if rebuild {
                    // Reads every ticket after the ids above were queued: they are covered.
                    self.rebuild_tickets().await.map(|n| tracing::info!(tickets = n, "ticket index built"))
                } else {
                    let ids: Vec<String> = local.iter().chain(remote.iter()).cloned().collect();
                    self.reindex_tickets(&ids).await
                };
                if let Err(e) = done {
                    tracing::error!(error = %e, "ticket index update failed; retrying");
                    {
                        let mut p = ts.pending();
                        p.rebuild |= rebuild;
                        p.local.extend(local);
                        p.remote.extend(remote);
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                last_commit = Some(tokio::time::Instant::now());
                ts.applied.send_replace(generation);
                self.announce_tickets(local);
            }
        }
    }

    /// Rebuilds the whole index from the database, in one commit (searches see the old index until then).
    pub async fn rebuild_tickets(&self) -> Result<u64, TicketSearchError> {
        let ts = self.tickets.clone();
        ts.rebuilding.store(true, Ordering::SeqCst);
        let r = async {
            let index = ts.index.clone();
            tokio::task::spawn_blocking(move || index.clear()).await.map_err(|_| TicketSearchError::Join)??;
            let mut after: Option<String> = None;
            loop {
                let page = self.store.ticket_texts(after.as_deref(), REBUILD_PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.conversation.id.clone());
                let index = ts.index.clone();
                tokio::task::spawn_blocking(move || page.iter().try_for_each(|t| index.upsert(&ticket_doc(t))))
                    .await
                    .map_err(|_| TicketSearchError::Join)??;
            }
            let index = ts.index.clone();
            tokio::task::spawn_blocking(move || index.commit().map(|_| index.num_docs()))
                .await
                .map_err(|_| TicketSearchError::Join)?
                .map_err(TicketSearchError::from)
        }
        .await;
        ts.rebuilding.store(false, Ordering::SeqCst);
        if r.is_ok() {
            ts.ready.store(true, Ordering::SeqCst);
        }
        r
    }

    /// Re-reads tickets from the database into the index (removing those that are gone or are no tickets).
    pub async fn reindex_tickets(&self, ids: &[String]) -> Result<(), TicketSearchError> {
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
            index.commit()?;
            Ok(())
        })
        .await
        .map_err(|_| TicketSearchError::Join)?
    }

    /// Tells the other nodes which tickets changed here.
    fn announce_tickets(&self, ids: HashSet<String>) {
        let ids: Vec<String> = ids.into_iter().collect();
        for chunk in ids.chunks(NOTICE_IDS) {
            self.hub.announce(TOPIC, &Notice { node: self.tickets.node.clone(), ids: chunk.to_vec() });
        }
    }

    /// Listens for other nodes' ticket changes.
    fn follow_ticket_changes(&self) {
        let (inbox, mut rx) = Inbox::new();
        self.hub.subscribe(TOPIC, &inbox);
        let ts = self.tickets.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                if inbox.lagged.swap(false, Ordering::Relaxed) {
                    // Some notices were lost: the database has the truth.
                    ts.request_rebuild();
                    continue;
                }
                match serde_json::from_str::<Notice>(&ev.frame) {
                    Ok(n) if n.node == ts.node => {}
                    Ok(n) => n.ids.iter().for_each(|id| ts.enqueue(id, false)),
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
            },
            from: after.map(Cursor::position),
            // The index mirrors the filters, so nearly every candidate is on the page; the margin covers
            // tickets whose latest change the index has not taken in yet.
            limit: (limit + 1) * 2 + 50,
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

/// This node's directory under the index root, and the lock that says it is in use.
struct NodeDir {
    path: PathBuf,
    lock_path: PathBuf,
    _lock: std::fs::File,
}

impl NodeDir {
    fn claim(root: &Path, node: &str) -> std::io::Result<NodeDir> {
        std::fs::create_dir_all(root)?;
        // A node that is gone left its directory behind with a lock file nobody holds.
        for entry in std::fs::read_dir(root)?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(stem) = name.strip_prefix("tickets-").and_then(|n| n.strip_suffix(".lock")) else { continue };
            let Ok(f) = std::fs::File::open(entry.path()) else { continue };
            if f.try_lock().is_ok() {
                let _ = std::fs::remove_dir_all(root.join(format!("tickets-{stem}")));
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let lock_path = root.join(format!("tickets-{node}.lock"));
        let lock = std::fs::File::create(&lock_path)?;
        lock.try_lock().map_err(std::io::Error::other)?;
        Ok(NodeDir { path: root.join(format!("tickets-{node}")), lock_path, _lock: lock })
    }
}

impl Drop for NodeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}
