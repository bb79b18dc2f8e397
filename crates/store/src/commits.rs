//! The post-commit stream: what each committed write appended to a conversation's timeline, handed to whoever
//! listens (the live-chat hub, the ticket search index; notifications and records to come) after the commit,
//! never before. The writes themselves need not know who listens: every timeline row goes through
//! `push_message!`/`push_event!` (or the chat hot path's raw insert), which note the entry on the conversation
//! value ([`Conversation::appended`]); the store method that committed hands that value to [`Store::committed`].
//!
//! Listeners run on the writing task, synchronously, right after the commit: they take note (queue an id,
//! publish a frame they can build from what they are given) and do anything slow elsewhere. A listener sees
//! each commit once, on the node that wrote it; other nodes hear of it through their own channels (NATS for
//! the hub, the change log for the indexes).

use crate::{Conversation, Message, Store};
use lifebuoy_domain::ConversationKind;
use std::sync::{Arc, RwLock};

/// One timeline entry a write appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A message (or internal note), by id, with its author's kind (`customer`, `agent`, `bot`, `system`,
    /// `integration`); `attachments` is how many files it carries.
    Message { seq: i64, id: String, internal: bool, author: &'static str, attachments: usize },
    /// An event, typed, with its actor's kind (`customer`, `agent`, `bot`, `system`, `integration`).
    Event { seq: i64, internal: bool, by: &'static str, event: lifebuoy_domain::Event },
}

impl Entry {
    pub fn seq(&self) -> i64 {
        match self {
            Entry::Message { seq, .. } | Entry::Event { seq, .. } => *seq,
        }
    }
}

/// What one committed write appended to one conversation.
#[derive(Debug, Clone)]
pub struct Committed {
    pub conversation_id: String,
    pub kind: ConversationKind,
    /// The entries, in sequence order.
    pub entries: Vec<Entry>,
    /// The message of the write, whole, where the write had it whole (the chat message path): a listener that
    /// shows it needs no read.
    pub message: Option<Message>,
}

/// Called with every [`Committed`] of this process.
pub type CommitListener = Arc<dyn Fn(&Committed) + Send + Sync>;

/// The listeners of a store (shared by its clones).
#[derive(Default)]
pub(crate) struct Listeners(RwLock<Vec<CommitListener>>);

/// Decides, inside a write's transaction, which durable jobs what it appended causes (a reply sent by mail, a
/// notification): the transactional outbox. Pure and quick: it sees the conversation as written and its new
/// entries, and answers jobs, which the write inserts before it commits, so the change and its effects commit
/// together or not at all.
pub type OutboxRule = Arc<dyn Fn(&Conversation, &[Entry]) -> Vec<crate::NewJob> + Send + Sync>;

/// The outbox rules of a store (shared by its clones).
#[derive(Default)]
pub(crate) struct Outbox(RwLock<Vec<OutboxRule>>);

impl Outbox {
    /// The jobs the rules ask for, for conversations as a write is about to commit them.
    pub(crate) fn jobs(&self, written: &[&Conversation]) -> Vec<crate::NewJob> {
        let r = self.0.read().unwrap_or_else(|p| p.into_inner());
        let mut jobs = Vec::new();
        for c in written.iter().filter(|c| !c.appended.is_empty()) {
            for rule in r.iter() {
                jobs.extend(rule(c, &c.appended));
            }
        }
        jobs
    }
}

/// Inside a write's transaction (`$tx`, a connection or transaction), after its timeline rows: logs the change
/// for the search indexes ([`crate::index_log`]), inserts the jobs the outbox rules ask for the conversations written, and marks them [`Conversation::enqueued`] so that
/// [`Store::committed`] wakes the job runners once the transaction has committed. `$outbox` is the store's
/// `Arc<Outbox>` (cloned into writes that run on the group-commit writer).
macro_rules! enqueue_outbox {
    ($outbox:expr, $tx:expr, $($c:expr),+ $(,)?) => {{
        // The search indexes' change log rides along: whatever appended to a case's timeline changed its
        // indexed text or columns.
        $crate::index_log::log_conversation_changes!($tx, $($c),+);
        let jobs = $outbox.jobs(&[$(&$c),+]);
        if !jobs.is_empty() {
            $crate::jobs::insert_jobs(&mut *$tx, &jobs, $crate::now_ms()).await?;
            $($c.enqueued = true;)+
        }
    }};
}
pub(crate) use enqueue_outbox;

impl Store {
    /// Calls `f` after every committed write that appended to a timeline: a new case or chat, a message or
    /// note, a status change, an assignment, a transfer, an escalation, a merge (once per conversation), a
    /// follow-up. `f` runs on the writing task right after the commit, so it must only take note.
    pub fn on_commit(&self, f: impl Fn(&Committed) + Send + Sync + 'static) {
        let mut l = self.listeners.0.write().unwrap_or_else(|p| p.into_inner());
        l.push(Arc::new(f));
    }

    /// Adds an outbox rule (see [`OutboxRule`]). Every write that appends to a timeline applies the rules (new
    /// cases and chats, replies and notes, changes, merges, chat transitions, chat-to-ticket) but the chat
    /// message hot path (a chat's effects follow its events, such as its end).
    pub fn add_outbox_rule(&self, f: impl Fn(&Conversation, &[Entry]) -> Vec<crate::NewJob> + Send + Sync + 'static) {
        let mut r = self.outbox.0.write().unwrap_or_else(|p| p.into_inner());
        r.push(Arc::new(f));
    }

    /// Hands what a committed write appended to `c` (its [`Conversation::appended`]) to the listeners, with the
    /// message when the write has it whole. Nothing appended, nothing said.
    pub(crate) fn committed(&self, c: &mut Conversation, message: Option<&Message>) {
        if std::mem::take(&mut c.enqueued) {
            self.wake_runners();
        }
        if c.appended.is_empty() {
            return;
        }
        let entries = std::mem::take(&mut c.appended);
        self.emit(Committed {
            conversation_id: c.id.clone(),
            kind: ConversationKind::parse(&c.kind).unwrap_or(ConversationKind::Ticket),
            entries,
            message: message.cloned(),
        });
    }

    /// Hands one [`Committed`] to every listener.
    pub(crate) fn emit(&self, done: Committed) {
        let l = self.listeners.0.read().unwrap_or_else(|p| p.into_inner());
        for f in l.iter() {
            f(&done);
        }
    }
}
