//! Conversations: create, read, list (the agent queue), reply, and every change a case goes through. Each
//! change is planned by a pure function and persisted with its timeline event in one transaction.

use crate::files::AttachmentMeta;
use crate::rows::CONVERSATION_COLS;
use crate::{Conflict, Conversation, Event, Message, Result, Store, StoreError, new_id, now_ms, on_read, on_write};
use lifebuoy_domain::{
    CaseNumber, Category, ConversationKind, Event as TimelineEvent, FieldChange, Invalid, Lang, Priority, Status,
    StatusError, Tier,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// Who did something, as written on the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Customer(String),
    Agent(String),
    Integration(String),
    System,
    /// The chat bot, answering from the knowledge base.
    Bot,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Customer(_) => "customer",
            Actor::Agent(_) => "agent",
            Actor::Integration(_) => "integration",
            Actor::System => "system",
            Actor::Bot => "bot",
        }
    }
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::Customer(i) | Actor::Agent(i) | Actor::Integration(i) => Some(i),
            Actor::System | Actor::Bot => None,
        }
    }
    fn is_staff(&self) -> bool {
        matches!(self, Actor::Agent(_) | Actor::Integration(_) | Actor::System | Actor::Bot)
    }
}

/// Which conversations a caller may see.
#[derive(Debug, Clone)]
pub enum Scope {
    /// A customer: their own, never internal notes.
    Customer(String),
    /// An agent: their departments' cases, and any case assigned to them.
    Agent { id: String, departments: Vec<String> },
    /// Supervisors, admins and integrations.
    All,
}

impl Scope {
    /// Whether this scope may see a conversation.
    pub fn permits(&self, c: &Conversation) -> bool {
        match self {
            Scope::Customer(id) => c.customer_id == *id,
            Scope::Agent { id, departments } => {
                departments.contains(&c.department_id) || c.assignee_id.as_deref() == Some(id)
            }
            Scope::All => true,
        }
    }
    pub fn sees_internal(&self) -> bool {
        !matches!(self, Scope::Customer(_))
    }
}

/// A new ticket (or, later, a chat or email thread) with its first message.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub kind: ConversationKind,
    pub customer_id: String,
    pub subject: String,
    pub body: String,
    pub category: Category,
    pub priority: Priority,
    pub department: Option<String>,
    pub lang: Lang,
    pub order_id: Option<String>,
    pub tx_hash: Option<String>,
    pub asset: Option<String>,
    pub amount: Option<String>,
    pub tags: Vec<String>,
    pub attachment_ids: Vec<String>,
}

impl NewTicket {
    /// A new case that carries on from `c`: its customer, subject, triage, language and what it is about, with
    /// `body` as its first message.
    pub fn from_case(c: &Conversation, kind: ConversationKind, body: &str) -> NewTicket {
        NewTicket {
            kind,
            customer_id: c.customer_id.clone(),
            subject: c.subject.clone(),
            body: body.to_string(),
            category: c.category(),
            priority: c.priority(),
            department: Some(c.department_id.clone()),
            lang: Lang::parse(&c.lang).unwrap_or(Lang::En),
            order_id: c.order_id.clone(),
            tx_hash: c.tx_hash.clone(),
            asset: c.asset.clone(),
            amount: c.amount.clone(),
            tags: vec![],
            attachment_ids: vec![],
        }
    }
}

/// A change to a case, each written to its timeline.
#[derive(Debug, Clone)]
pub enum TicketChange {
    Status(Status),
    Assign(Option<String>),
    Transfer {
        department: String,
        reason: String,
    },
    Escalate {
        reason: String,
    },
    Update {
        priority: Option<Priority>,
        category: Option<Category>,
        tags: Option<Vec<String>>,
        order_id: Option<String>,
        tx_hash: Option<String>,
        asset: Option<String>,
        amount: Option<String>,
    },
}

/// What a reply led to.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReplyOutcome {
    /// The message was added to the conversation it was sent to (or the one that conversation was merged into).
    Added { message: Message, conversation: Conversation },
    /// The conversation was closed: the customer's reply opened a follow-up case linked to it.
    FollowUp { message: Message, conversation: Conversation },
}

/// One entry of a conversation's timeline, in sequence order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineItem {
    Message {
        #[serde(flatten)]
        message: Message,
        attachments: Vec<AttachmentMeta>,
    },
    Event(Event),
}

impl TimelineItem {
    pub fn seq(&self) -> i64 {
        match self {
            TimelineItem::Message { message, .. } => message.seq,
            TimelineItem::Event(e) => e.seq,
        }
    }

    /// The typed event, for an event item whose kind this build knows; `None` for messages.
    pub fn event(&self) -> Option<TimelineEvent> {
        match self {
            TimelineItem::Message { .. } => None,
            TimelineItem::Event(e) => e.event(),
        }
    }
}

/// Filters of the agent queue (and of a customer's "my tickets").
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub statuses: Vec<Status>,
    pub department: Option<String>,
    /// `Some(None)`: unassigned only.
    pub assignee: Option<Option<String>>,
    pub priority: Option<Priority>,
    pub category: Option<Category>,
    /// `Ticket` is every case a customer filed, by the form or by mail (kinds `ticket` and `email`).
    pub kind: Option<ConversationKind>,
    pub customer_id: Option<String>,
    /// Case number, order id or tx hash exactly, or free text: the conversations in `text_ids` when given,
    /// otherwise words of the subject (`LIKE`).
    pub text: Option<String>,
    /// The conversations whose text matches `text`, as the search index found them (see `lifebuoy-search`'s
    /// `TicketIndex`). The other filters and the caller's scope still apply to them here.
    pub text_ids: Option<Vec<String>>,
}

/// Queue orderings. Each is a keyset over an index, so a page costs the same at any depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    #[default]
    UpdatedDesc,
    CreatedDesc,
    CreatedAsc,
    PriorityDesc,
    /// Time left on the SLA clock, least first (overdue cases on top; cases without a running clock last).
    DueAsc,
}

impl QueueSort {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Ok(match s {
            "updated" | "-updated" | "updated_desc" => QueueSort::UpdatedDesc,
            "-created" | "created_desc" | "newest" => QueueSort::CreatedDesc,
            "created" | "created_asc" | "oldest" => QueueSort::CreatedAsc,
            "priority" | "-priority" | "priority_desc" => QueueSort::PriorityDesc,
            "due" | "sla" | "time_left" => QueueSort::DueAsc,
            _ => return Err(Invalid::new("sort", "one of: updated, newest, oldest, priority, due")),
        })
    }
}

/// An opaque position in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    a: i64,
    b: i64,
    id: String,
}

impl Cursor {
    /// The position in the listing's order: `(updated_at, _)`, `(created_at, _)` or `(priority_rank,
    /// updated_at)`, as the sort of the listing that returned it.
    pub fn position(&self) -> (i64, i64) {
        (self.a, self.b)
    }

    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}|{}|{}", self.a, self.b, self.id))
    }
    pub fn decode(s: &str) -> Result<Self, Invalid> {
        use base64::Engine;
        let bad = || Invalid::new("cursor", "not a cursor returned by this API");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let mut it = raw.splitn(3, '|');
        let a = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let b = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let id = it.next().filter(|v| !v.is_empty() && v.len() <= 64).ok_or_else(bad)?.to_string();
        Ok(Cursor { a, b, id })
    }
}

/// A page of a listing.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A bind value for dynamically built SQL.
enum Bind {
    Text(String),
    Int(i64),
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

/// Appends a timeline event (a `&lifebuoy_domain::Event`) at the next sequence number of the conversation held
/// in `$conv` (mutably). The one place an event row is written: its kind, data and internal flag all come from
/// the typed value.
macro_rules! push_event {
    ($tx:expr, $conv:expr, $actor:expr, $event:expr) => {{
        let event: &lifebuoy_domain::Event = $event;
        $conv.last_seq += 1;
        let content = lifebuoy_records::Content::Event {
            actor_kind: $actor.kind().to_owned(),
            actor_id: $actor.id().map(str::to_owned),
            kind: event.kind().to_owned(),
            data: event.data(),
            internal: event.internal(),
        };
        let digest = $crate::records::chain_next!($tx, &$conv.id, $conv.last_seq, $conv.updated_at, &content);
        sqlx::query(
            "INSERT INTO events (id, conversation_id, seq, actor_kind, actor_id, kind, data, internal, created_at, digest) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(&$conv.id)
        .bind($conv.last_seq)
        .bind($actor.kind())
        .bind($actor.id())
        .bind(event.kind())
        .bind(event.data().to_string())
        .bind(event.internal())
        .bind($conv.updated_at)
        .bind(digest)
        .execute(&mut *$tx)
        .await?;
        $conv.appended.push($crate::Entry::Event {
            seq: $conv.last_seq,
            internal: event.internal(),
            by: $actor.kind(),
            event: event.clone(),
        });
    }};
}

/// Inserts a message at the next sequence number and links its attachments (which must be the author's own
/// and not yet used). Evaluates to the message id.
macro_rules! push_message {
    ($tx:expr, $conv:expr, $actor:expr, $body:expr, $internal:expr, $client_id:expr, $attachments:expr) => {{
        $conv.last_seq += 1;
        let mid = new_id();
        // The chain covers each file's name, type, size and SHA-256: read them (the author's own, not yet used)
        // before the message is written, claim them after (the claim checks again, inside the transaction).
        let mut files = Vec::new();
        for att in $attachments {
            let r: Option<(String, String, String, i64, String)> = sqlx::query_as(
                "SELECT id, filename, content_type, size, sha256 FROM attachments \
                 WHERE id = $1 AND owner_kind = $2 AND owner_id = $3 AND message_id IS NULL",
            )
            .bind(att)
            .bind($actor.kind())
            .bind($actor.id().unwrap_or(""))
            .fetch_optional(&mut *$tx)
            .await?;
            let Some((id, filename, content_type, size, sha256)) = r else {
                return Err(Invalid::new("attachment_ids", format!("attachment {att} is not one you uploaded, or is already used")).into());
            };
            files.push(lifebuoy_records::AttachmentRef { id, filename, content_type, size, sha256 });
        }
        // In id order: the order the files were given in is not kept, so the chain must not depend on it.
        files.sort_by(|a, b| a.id.cmp(&b.id));
        let attachments = files.len();
        let content = lifebuoy_records::Content::Message {
            author_kind: $actor.kind().to_owned(),
            author_id: $actor.id().map(str::to_owned),
            body: String::from($body),
            internal: $internal,
            attachments: files.clone(),
        };
        let digest = $crate::records::chain_next!($tx, &$conv.id, $conv.last_seq, $conv.updated_at, &content);
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, seq, author_kind, author_id, body, internal, client_id, created_at, digest) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&mid)
        .bind(&$conv.id)
        .bind($conv.last_seq)
        .bind($actor.kind())
        .bind($actor.id())
        .bind($body)
        .bind($internal)
        .bind($client_id)
        .bind($conv.updated_at)
        .bind(digest)
        .execute(&mut *$tx)
        .await?;
        for f in &files {
            let r = sqlx::query(
                "UPDATE attachments SET conversation_id = $1, message_id = $2 \
                 WHERE id = $3 AND owner_kind = $4 AND owner_id = $5 AND message_id IS NULL",
            )
            .bind(&$conv.id)
            .bind(&mid)
            .bind(&f.id)
            .bind($actor.kind())
            .bind($actor.id().unwrap_or(""))
            .execute(&mut *$tx)
            .await?;
            if r.rows_affected() != 1 {
                return Err(Invalid::new("attachment_ids", format!("attachment {} is not one you uploaded, or is already used", f.id)).into());
            }
        }
        $conv.appended.push($crate::Entry::Message { seq: $conv.last_seq, id: mid.clone(), internal: $internal, author: $actor.kind(), attachments });
        mid
    }};
}

/// Writes every mutable column of a conversation back.
macro_rules! save_conversation {
    ($tx:expr, $c:expr) => {
        sqlx::query(
            "UPDATE conversations SET status = $2, priority = $3, priority_rank = $4, category = $5, department_id = $6, \
             assignee_id = $7, tier = $8, order_id = $9, tx_hash = $10, asset = $11, amount = $12, merged_into = $13, \
             last_seq = $14, updated_at = $15, solved_at = $16, closed_at = $17 WHERE id = $1",
        )
        .bind(&$c.id)
        .bind(&$c.status)
        .bind(&$c.priority)
        .bind($c.priority().rank())
        .bind(&$c.category)
        .bind(&$c.department_id)
        .bind(&$c.assignee_id)
        .bind(&$c.tier)
        .bind(&$c.order_id)
        .bind(&$c.tx_hash)
        .bind(&$c.asset)
        .bind(&$c.amount)
        .bind(&$c.merged_into)
        .bind($c.last_seq)
        .bind($c.updated_at)
        .bind($c.solved_at)
        .bind($c.closed_at)
        .execute(&mut *$tx)
        .await?
    };
}

/// Inserts a new conversation row with its first message and tags; evaluates to (conversation, message id).
macro_rules! insert_conversation {
    ($tx:expr, $t:expr, $actor:expr, $follow_up_of:expr) => {{
        let now = now_ms();
        let day = chrono::Utc::now().date_naive();
        let (serial,): (i64,) = sqlx::query_as(
            "INSERT INTO counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
        )
        .bind(CaseNumber::counter_for(day))
        .fetch_one(&mut *$tx)
        .await?;
        let mut conv = Conversation {
            id: new_id(),
            kind: $t.kind.as_str().into(),
            case_number: Some(CaseNumber::new(day, serial as u32).to_string()),
            customer_id: $t.customer_id.clone(),
            subject: $t.subject.clone(),
            status: Status::New.as_str().into(),
            priority: $t.priority.as_str().into(),
            category: $t.category.as_str().into(),
            department_id: $t.department.clone().unwrap_or_else(|| default_department($t.category).into()),
            assignee_id: None,
            tier: Tier::L1.as_str().into(),
            lang: $t.lang.as_str().into(),
            order_id: $t.order_id.clone(),
            tx_hash: $t.tx_hash.clone(),
            asset: $t.asset.clone(),
            amount: $t.amount.clone(),
            merged_into: None,
            follow_up_of: $follow_up_of,
            last_seq: 0,
            created_at: now,
            updated_at: now,
            solved_at: None,
            closed_at: None,
            sla_due_at: crate::NO_CLOCK,
            appended: Vec::new(),
            enqueued: false,
        };
        let r = sqlx::query(
            "INSERT INTO conversations (id, kind, case_number, customer_id, subject, status, priority, priority_rank, \
             category, department_id, assignee_id, tier, lang, order_id, tx_hash, asset, amount, merged_into, \
             follow_up_of, last_seq, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12, $13, $14, $15, $16, NULL, $17, 1, $18, $18)",
        )
        .bind(&conv.id)
        .bind(&conv.kind)
        .bind(&conv.case_number)
        .bind(&conv.customer_id)
        .bind(&conv.subject)
        .bind(&conv.status)
        .bind(&conv.priority)
        .bind($t.priority.rank())
        .bind(&conv.category)
        .bind(&conv.department_id)
        .bind(&conv.tier)
        .bind(&conv.lang)
        .bind(&conv.order_id)
        .bind(&conv.tx_hash)
        .bind(&conv.asset)
        .bind(&conv.amount)
        .bind(&conv.follow_up_of)
        .bind(now)
        .execute(&mut *$tx)
        .await;
        if let Err(e) = r {
            return Err(match e {
                sqlx::Error::Database(ref d) if d.is_foreign_key_violation() => {
                    Invalid::new("department", "no such department").into()
                }
                e => e.into(),
            });
        }
        // The first message is the creation record: who, when, what (no separate `created` event, which would
        // cost every new case another write).
        let mid = push_message!($tx, conv, $actor, &$t.body, false, None::<String>, &$t.attachment_ids);
        for tag in &$t.tags {
            sqlx::query("INSERT INTO conversation_tags (conversation_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(&conv.id)
                .bind(tag)
                .execute(&mut *$tx)
                .await?;
        }
        // The row was inserted with last_seq = 1: its first message, just written.
        debug_assert_eq!(conv.last_seq, 1);
        (conv, mid)
    }};
}

pub(crate) use {insert_conversation, push_event, push_message};

/// Where a new case goes when the form did not say: API questions to tech, everything else to first-line support.
pub fn default_department(c: Category) -> &'static str {
    match c {
        Category::Api => "tech",
        _ => "support",
    }
}

const MESSAGE_SELECT: &str = "SELECT m.id, m.conversation_id, m.seq, m.author_kind, m.author_id, \
    a.display_name AS author_name, a.agent_no, m.body, m.internal, m.client_id, m.created_at \
    FROM messages m LEFT JOIN agents a ON m.author_kind = 'agent' AND a.id = m.author_id";

const EVENT_SELECT: &str = "SELECT e.id, e.conversation_id, e.seq, e.actor_kind, e.actor_id, \
    a.display_name AS actor_name, e.kind, e.data, e.internal, e.created_at \
    FROM events e LEFT JOIN agents a ON e.actor_kind = 'agent' AND a.id = e.actor_id";

/// Normalises tags: trimmed, lower-cased, no empties or duplicates, at most 20 of 40 characters.
pub fn clean_tags(tags: &[String]) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 40 || t.contains(',') {
            return Err(Invalid::new("tags", "a tag is at most 40 characters, without commas"));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 20 {
        return Err(Invalid::new("tags", "at most 20 tags"));
    }
    Ok(out)
}

/// What a reply writes, besides who and where.
#[derive(Debug, Clone, Copy)]
pub struct ReplyParts<'a> {
    pub body: &'a str,
    pub internal: bool,
    pub attachment_ids: &'a [String],
    /// The sender's id for the message: a resend with the same id is answered with the stored message.
    pub client_id: Option<&'a str>,
    /// A status the staff's reply sets too, in the same transaction.
    pub status: Option<Status>,
    /// The mail this message came in as, noted in the same transaction (threading and duplicates read it).
    pub mail: Option<&'a crate::InboundMail>,
}

/// The writes of one reply (see [`Store::reply_with_status`]), over `$tx`: a transaction on PostgreSQL, the
/// group-commit writer's connection (inside its savepoint) on SQLite. Evaluates to the message's id, the
/// conversations written and whether outbox jobs were written with them.
macro_rules! write_reply {
    ($store:expr, $tx:expr, $lock:expr, $id:expr, $actor:expr, $parts:expr, $idem:expr) => {{
        let (actor, idem) = ($actor, $idem);
        let (body, internal, attachment_ids, client_id, requested, mail) = $parts;
        let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1{}", $lock);
        let mut c: Conversation =
            sqlx::query_as(&sql).bind($id).fetch_optional(&mut *$tx).await?.ok_or(StoreError::NotFound)?;
        if let Some(target) = c.merged_into.clone() {
            c = sqlx::query_as(&sql).bind(&target).fetch_optional(&mut *$tx).await?.ok_or(StoreError::NotFound)?;
        }
        let now = now_ms();
        c.updated_at = now;
        let followup = c.status() == Status::Closed;
        if followup && !matches!(actor, Actor::Customer(_)) {
            return Err(StatusError::Closed.into());
        }
        let mid;
        let mut written = Vec::with_capacity(2);
        if followup {
            let t = NewTicket {
                attachment_ids: attachment_ids.to_vec(),
                ..NewTicket::from_case(&c, ConversationKind::parse(&c.kind).unwrap_or(ConversationKind::Ticket), body)
            };
            let (nc, m) = insert_conversation!($tx, t, actor, Some(c.id.clone()));
            mid = m;
            let opened =
                TimelineEvent::FollowUpOpened { follow_up: nc.id.clone(), case_number: nc.case_number.clone() };
            push_event!($tx, c, actor, &opened);
            save_conversation!($tx, c);
            written.push(nc);
        } else {
            mid = push_message!($tx, c, actor, body, internal, client_id, attachment_ids);
            let from = c.status();
            let to = match actor {
                Actor::Customer(_) => from.after_customer_reply(),
                _ if !internal && from == Status::New => Some(Status::Open),
                _ => None,
            };
            if let Some(to) = to {
                c.status = to.as_str().into();
                if to == Status::Open {
                    c.solved_at = None;
                }
                push_event!($tx, c, actor, &TimelineEvent::StatusChanged { from, to, by_reply: Some(true) });
            }
            if let (Actor::Agent(aid), false, None) = (actor, internal, &c.assignee_id) {
                c.assignee_id = Some(aid.clone());
                let took = TimelineEvent::Assigned { from: None, to: Some(aid.clone()), by_reply: Some(true) };
                push_event!($tx, c, actor, &took);
            }
            if let Some(to) = requested.filter(|to| *to != c.status()) {
                let (planned, events) = plan_change(c, &TicketChange::Status(to), now)?;
                c = planned;
                for e in &events {
                    push_event!($tx, c, actor, e);
                }
            }
            save_conversation!($tx, c);
        }
        written.push(c);
        if let Some(m) = mail {
            // The case the message landed in: the follow-up when a closed case was answered.
            crate::mail::note_mail_in!($tx, m, &written[0].id, &mid, false);
        }
        if let Some((principal, key, hash)) = idem {
            crate::idempotency::remember!($tx, principal, key, hash, &mid);
        }
        let mut jobs = false;
        for c in written.iter_mut() {
            crate::commits::enqueue_outbox!($store.outbox, $tx, (*c));
            jobs |= c.enqueued;
        }
        (mid, written, jobs)
    }};
}

/// Plans a change: the conversation after it, and the events to write. Pure, so every rule is testable.
pub(crate) fn plan_change(
    mut c: Conversation,
    change: &TicketChange,
    now: i64,
) -> Result<(Conversation, Vec<TimelineEvent>)> {
    let mut events = Vec::new();
    match change {
        TicketChange::Status(to) => {
            let from = c.status();
            from.transition(*to)?;
            c.status = to.as_str().into();
            match to {
                Status::Solved => c.solved_at = Some(now),
                Status::Closed => c.closed_at = Some(now),
                Status::Open => c.solved_at = None,
                _ => {}
            }
            events.push(TimelineEvent::StatusChanged { from, to: *to, by_reply: None });
        }
        TicketChange::Assign(to) => {
            if c.status() == Status::Closed {
                return Err(StatusError::Closed.into());
            }
            if c.assignee_id == *to {
                return Err(Conflict::SameAssignee.into());
            }
            events.push(TimelineEvent::Assigned { from: c.assignee_id.clone(), to: to.clone(), by_reply: None });
            c.assignee_id = to.clone();
        }
        TicketChange::Transfer { department, reason } => {
            if c.status() == Status::Closed {
                return Err(StatusError::Closed.into());
            }
            if c.department_id == *department {
                return Err(Conflict::SameDepartment.into());
            }
            require_reason(reason)?;
            events.push(TimelineEvent::Transferred {
                from: c.department_id.clone(),
                to: department.clone(),
                reason: reason.clone(),
            });
            c.department_id = department.clone();
            c.assignee_id = None;
        }
        TicketChange::Escalate { reason } => {
            if c.status() == Status::Closed {
                return Err(StatusError::Closed.into());
            }
            require_reason(reason)?;
            let from = c.tier();
            let to = from.escalated().ok_or_else(|| StoreError::from(Conflict::TopTier))?;
            c.tier = to.as_str().into();
            c.assignee_id = None;
            events.push(TimelineEvent::Escalated { from, to, reason: reason.clone() });
        }
        TicketChange::Update { priority, category, tags: _, order_id, tx_hash, asset, amount } => {
            let mut changed = BTreeMap::new();
            if let Some(p) = priority.filter(|p| *p != c.priority()) {
                changed
                    .insert("priority".into(), FieldChange { from: Some(c.priority.clone()), to: Some(p.to_string()) });
                c.priority = p.as_str().into();
            }
            if let Some(k) = category.filter(|k| *k != c.category()) {
                changed
                    .insert("category".into(), FieldChange { from: Some(c.category.clone()), to: Some(k.to_string()) });
                c.category = k.as_str().into();
            }
            for (name, new, field) in [
                ("order_id", order_id, &mut c.order_id),
                ("tx_hash", tx_hash, &mut c.tx_hash),
                ("asset", asset, &mut c.asset),
                ("amount", amount, &mut c.amount),
            ] {
                if let Some(v) = new {
                    let v = Some(v.trim().to_string()).filter(|v| !v.is_empty());
                    if *field != v {
                        changed.insert(name.into(), FieldChange { from: field.clone(), to: v.clone() });
                        *field = v;
                    }
                }
            }
            if !changed.is_empty() {
                events.push(TimelineEvent::Updated(changed));
            }
        }
    }
    c.updated_at = now;
    Ok((c, events))
}

fn require_reason(reason: &str) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(Invalid::new("reason", "say why, so the next person knows").into());
    }
    Ok(())
}

impl Store {
    /// Creates a ticket with its first message. With an idempotency key, a retry returns the ticket the first
    /// call created (`false` in the second place) instead of a twin; the same key with another body is refused.
    pub async fn create_ticket(
        &self,
        t: &NewTicket,
        actor: &Actor,
        idem: Option<(&str, &str, &str)>,
    ) -> Result<(Conversation, bool)> {
        self.open_case(t, actor, idem, None).await
    }

    /// [`Store::create_ticket`] for a case opened by a mail: the mail is noted in the same transaction, so
    /// whatever the new case sets off (its acknowledgement) finds it to thread under.
    pub async fn create_ticket_from_mail(
        &self,
        t: &NewTicket,
        actor: &Actor,
        idem: Option<(&str, &str, &str)>,
        mail: &crate::InboundMail,
    ) -> Result<(Conversation, bool)> {
        self.open_case(t, actor, idem, Some(mail)).await
    }

    async fn open_case(
        &self,
        t: &NewTicket,
        actor: &Actor,
        idem: Option<(&str, &str, &str)>,
        mail: Option<&crate::InboundMail>,
    ) -> Result<(Conversation, bool)> {
        if let Some((principal, key, hash)) = idem
            && let Some(id) = self.idempotent_replay(principal, key, hash).await?
        {
            return Ok((self.conversation(&id).await?.ok_or(StoreError::NotFound)?, false));
        }
        let tags = clean_tags(&t.tags)?;
        let t = NewTicket { tags, ..t.clone() };
        // The body runs in its own async block so that `?` lands in `res`, where a lost idempotency race
        // becomes a replay instead of an error.
        let res: Result<Conversation> = match &*self.db {
            // SQLite: through the group-commit writer, in a savepoint of a shared transaction.
            crate::Db::Sqlite { group, .. } => {
                let (actor, mail) = (actor.clone(), mail.cloned());
                let idem = idem.map(|(p, k, h)| (p.to_string(), k.to_string(), h.to_string()));
                let outbox = self.outbox.clone();
                group
                    .run(move |conn| {
                        let (t, actor, idem, outbox) = (t.clone(), actor.clone(), idem.clone(), outbox.clone());
                        let mail = mail.clone();
                        Box::pin(async move {
                            let (mut conv, mid) = insert_conversation!(conn, t, actor, None::<String>);
                            if let Some(m) = &mail {
                                crate::mail::note_mail_in!(conn, m, &conv.id, &mid, true);
                            }
                            if let Some((principal, key, hash)) = &idem {
                                crate::idempotency::remember!(conn, principal, key, hash, &conv.id);
                            }
                            crate::commits::enqueue_outbox!(outbox, conn, conv);
                            Ok(conv)
                        })
                    })
                    .await
            }
            crate::Db::Postgres(pool) => {
                async {
                    let mut tx = pool.begin().await?;
                    let (mut conv, mid) = insert_conversation!(tx, t, actor, None::<String>);
                    if let Some(m) = mail {
                        crate::mail::note_mail_in!(tx, m, &conv.id, &mid, true);
                    }
                    if let Some((principal, key, hash)) = idem {
                        crate::idempotency::remember!(tx, principal, key, hash, &conv.id);
                    }
                    crate::commits::enqueue_outbox!(self.outbox, tx, conv);
                    tx.commit().await?;
                    Ok(conv)
                }
                .await
            }
        };
        match (res, idem) {
            (Err(e), Some((principal, key, hash))) if is_idem_race(&e) => {
                let id = self.idempotent_replay(principal, key, hash).await?.ok_or(e)?;
                Ok((self.conversation(&id).await?.ok_or(StoreError::NotFound)?, false))
            }
            (r, _) => {
                let mut c = r?;
                self.committed(&mut c, None);
                Ok((c, true))
            }
        }
    }

    /// A conversation by id (no access check: callers check [`Scope::permits`]).
    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>> {
        let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// A conversation by case number.
    pub async fn conversation_by_case(&self, case: &CaseNumber) -> Result<Option<Conversation>> {
        let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE case_number = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(case.to_string()).fetch_optional(pool).await)?)
    }

    /// A conversation's tags.
    pub async fn tags(&self, id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT tag FROM conversation_tags WHERE conversation_id = $1 ORDER BY tag"
        )
        .bind(id)
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The timeline: messages and events in sequence order; internal ones only when `internal` is true.
    pub async fn timeline(&self, id: &str, internal: bool) -> Result<Vec<TimelineItem>> {
        self.timeline_after(id, internal, 0).await
    }

    /// Everything on a conversation's timeline after `after_seq`, oldest first (for resuming: reads only what
    /// is missing, through the `(conversation_id, seq)` keys).
    pub async fn timeline_after(&self, id: &str, internal: bool, after_seq: i64) -> Result<Vec<TimelineItem>> {
        let filter = if internal { " AND seq > $2" } else { " AND seq > $2 AND internal = FALSE" };
        let msql = format!(
            "{MESSAGE_SELECT} WHERE m.conversation_id = $1{} ORDER BY m.seq",
            filter.replace("internal", "m.internal").replace("seq", "m.seq")
        );
        let esql = format!(
            "{EVENT_SELECT} WHERE e.conversation_id = $1{} ORDER BY e.seq",
            filter.replace("internal", "e.internal").replace("seq", "e.seq")
        );
        let (messages, events): (Vec<Message>, Vec<Event>) = on_read!(self, |pool| {
            let m = sqlx::query_as(&msql).bind(id).bind(after_seq).fetch_all(pool).await?;
            let e = sqlx::query_as(&esql).bind(id).bind(after_seq).fetch_all(pool).await?;
            Ok::<_, sqlx::Error>((m, e))
        })?;
        let mut atts = if messages.is_empty() { vec![] } else { self.attachments_of(id).await? };
        let mut out: Vec<TimelineItem> = messages
            .into_iter()
            .map(|m| {
                let mine: Vec<AttachmentMeta> =
                    atts.extract_if(.., |a| a.message_id.as_deref() == Some(&m.id)).collect();
                TimelineItem::Message { message: m, attachments: mine }
            })
            .chain(events.into_iter().map(TimelineItem::Event))
            .collect();
        out.sort_by_key(|i| i.seq());
        Ok(out)
    }

    /// A page of conversations visible in `scope`, filtered and sorted.
    pub async fn list_conversations(
        &self,
        scope: &Scope,
        f: &QueueFilter,
        sort: QueueSort,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Conversation>> {
        let limit = limit.clamp(1, 200);
        // A deleted conversation (migration 0014) leaves every listing at once. A residual filter on the rows each
        // index range yields: the queue's indexes and their partial predicates are used as before.
        let mut w: Vec<String> = vec!["deleted_at IS NULL".into()];
        let mut b: Vec<Bind> = Vec::new();
        let p = |b: &mut Vec<Bind>, v: Bind| {
            b.push(v);
            format!("${}", b.len())
        };
        match scope {
            Scope::Customer(id) => {
                let x = p(&mut b, Bind::Text(id.clone()));
                w.push(format!("customer_id = {x}"));
            }
            Scope::Agent { id, departments } => {
                let mut alts: Vec<String> = departments.iter().map(|d| p(&mut b, Bind::Text(d.clone()))).collect();
                let me = p(&mut b, Bind::Text(id.clone()));
                let dep = if alts.is_empty() {
                    "FALSE".to_string()
                } else {
                    format!("department_id IN ({})", alts.join(", "))
                };
                alts.clear();
                w.push(format!("({dep} OR assignee_id = {me})"));
            }
            Scope::All => {}
        }
        if !f.statuses.is_empty() {
            // Statuses come from a closed enum, so they are written inline, in one order: the active set then
            // matches the partial indexes' predicate word for word, which SQLite needs to use them.
            let mut st: Vec<Status> = f.statuses.clone();
            st.sort();
            st.dedup();
            let xs: Vec<String> = st.iter().map(|s| format!("'{}'", s.as_str())).collect();
            w.push(format!("status IN ({})", xs.join(", ")));
        }
        if let Some(d) = &f.department {
            let x = p(&mut b, Bind::Text(d.clone()));
            w.push(format!("department_id = {x}"));
        }
        match &f.assignee {
            Some(Some(a)) => {
                let x = p(&mut b, Bind::Text(a.clone()));
                w.push(format!("assignee_id = {x}"));
            }
            Some(None) => w.push("assignee_id IS NULL".into()),
            None => {}
        }
        if let Some(v) = f.priority {
            let x = p(&mut b, Bind::Text(v.as_str().into()));
            w.push(format!("priority = {x}"));
        }
        if let Some(v) = f.category {
            let x = p(&mut b, Bind::Text(v.as_str().into()));
            w.push(format!("category = {x}"));
        }
        match f.kind {
            // The ticket queue holds every case a customer filed, whichever way it came: the form or a mail.
            Some(ConversationKind::Ticket) => w.push(crate::rows::CASE_KINDS_SQL.to_string()),
            Some(v) => {
                let x = p(&mut b, Bind::Text(v.as_str().into()));
                w.push(format!("kind = {x}"));
            }
            None => {}
        }
        if let Some(v) = &f.customer_id {
            let x = p(&mut b, Bind::Text(v.clone()));
            w.push(format!("customer_id = {x}"));
        }
        if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let exact = p(&mut b, Bind::Text(text.to_string()));
            let upper = p(&mut b, Bind::Text(text.to_ascii_uppercase()));
            let words = match &f.text_ids {
                // The search index's matches, checked here like any other row.
                Some(ids) if ids.is_empty() => "FALSE".to_string(),
                Some(ids) => {
                    let xs: Vec<String> = ids.iter().map(|id| p(&mut b, Bind::Text(id.clone()))).collect();
                    format!("id IN ({})", xs.join(", "))
                }
                None => {
                    let like = p(&mut b, Bind::Text(format!("%{}%", text.to_lowercase().replace(['%', '_'], ""))));
                    format!("LOWER(subject) LIKE {like}")
                }
            };
            w.push(format!("(case_number = {upper} OR order_id = {exact} OR tx_hash = {exact} OR {words})"));
        }
        let order = match sort {
            QueueSort::UpdatedDesc => "updated_at DESC, id DESC",
            QueueSort::CreatedDesc => "created_at DESC, id DESC",
            QueueSort::CreatedAsc => "created_at ASC, id ASC",
            QueueSort::PriorityDesc => "priority_rank DESC, updated_at DESC, id DESC",
            QueueSort::DueAsc => "sla_due_at ASC, id ASC",
        };
        if let Some(c) = after {
            // Spelled as a plain range on the leading column plus a tie-break, which every planner turns into
            // an index seek in the order's direction (a row-value comparison made SQLite sort instead).
            let (x, z) = (p(&mut b, Bind::Int(c.a)), p(&mut b, Bind::Text(c.id.clone())));
            w.push(match sort {
                QueueSort::UpdatedDesc => format!("updated_at <= {x} AND (updated_at < {x} OR id < {z})"),
                QueueSort::CreatedDesc => format!("created_at <= {x} AND (created_at < {x} OR id < {z})"),
                QueueSort::CreatedAsc => format!("created_at >= {x} AND (created_at > {x} OR id > {z})"),
                QueueSort::DueAsc => format!("sla_due_at >= {x} AND (sla_due_at > {x} OR id > {z})"),
                QueueSort::PriorityDesc => {
                    let y = p(&mut b, Bind::Int(c.b));
                    format!(
                        "priority_rank <= {x} AND (priority_rank < {x} OR updated_at < {y} OR (updated_at = {y} AND id < {z}))"
                    )
                }
            });
        }
        let sql = format!(
            "SELECT {CONVERSATION_COLS} FROM conversations WHERE {} ORDER BY {order} LIMIT {}",
            w.join(" AND "),
            limit + 1
        );
        let mut items: Vec<Conversation> =
            on_read!(self, |pool| bind_all!(sqlx::query_as(&sql), &b).fetch_all(pool).await)?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|c| {
                let (a, bb) = match sort {
                    QueueSort::UpdatedDesc => (c.updated_at, c.updated_at),
                    QueueSort::CreatedDesc | QueueSort::CreatedAsc => (c.created_at, c.created_at),
                    QueueSort::PriorityDesc => (c.priority().rank(), c.updated_at),
                    QueueSort::DueAsc => (c.sla_due_at, c.sla_due_at),
                };
                Cursor { a, b: bb, id: c.id.clone() }.encode()
            })
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Applies a change to a case, with its timeline events, in one transaction.
    pub async fn change_ticket(&self, id: &str, change: &TicketChange, actor: &Actor) -> Result<Conversation> {
        let mut c = self.change_ticket_tx(id, change, actor, None).await?.ok_or(StoreError::NotFound)?;
        self.committed(&mut c, None);
        Ok(c)
    }

    /// [`Store::change_ticket`] only if the case, as read in the change's transaction (locked on PostgreSQL),
    /// passes `only_if`; `None` (nothing written) when it does not.
    pub async fn change_ticket_if(
        &self,
        id: &str,
        change: &TicketChange,
        actor: &Actor,
        only_if: &(dyn Fn(&Conversation) -> bool + Sync),
    ) -> Result<Option<Conversation>> {
        let Some(mut c) = self.change_ticket_tx(id, change, actor, Some(only_if)).await? else { return Ok(None) };
        self.committed(&mut c, None);
        Ok(Some(c))
    }

    async fn change_ticket_tx(
        &self,
        id: &str,
        change: &TicketChange,
        actor: &Actor,
        only_if: Option<&(dyn Fn(&Conversation) -> bool + Sync)>,
    ) -> Result<Option<Conversation>> {
        let tags = match change {
            TicketChange::Update { tags: Some(t), .. } => Some(clean_tags(t)?),
            _ => None,
        };
        if let TicketChange::Assign(Some(a)) = change {
            self.agent(a).await?.ok_or_else(|| Invalid::new("assignee_id", "no such agent"))?;
        }
        on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1{lock}");
            let c: Conversation =
                sqlx::query_as(&sql).bind(id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
            if only_if.is_some_and(|ok| !ok(&c)) {
                return Ok(None);
            }
            let (mut c, events) = plan_change(c, change, now_ms())?;
            let mut wrote = !events.is_empty();
            if let Some(tags) = &tags {
                let old: Vec<(String,)> =
                    sqlx::query_as("SELECT tag FROM conversation_tags WHERE conversation_id = $1 ORDER BY tag")
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await?;
                let old: Vec<String> = old.into_iter().map(|r| r.0).collect();
                let mut sorted = tags.clone();
                sorted.sort();
                if old != sorted {
                    sqlx::query("DELETE FROM conversation_tags WHERE conversation_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    for t in tags {
                        sqlx::query("INSERT INTO conversation_tags (conversation_id, tag) VALUES ($1, $2)")
                            .bind(id)
                            .bind(t)
                            .execute(&mut *tx)
                            .await?;
                    }
                    push_event!(tx, c, actor, &TimelineEvent::TagsChanged { from: old, to: sorted });
                    wrote = true;
                }
            }
            if !wrote {
                return Err(Conflict::NothingToChange.into());
            }
            for event in &events {
                push_event!(tx, c, actor, event);
            }
            if matches!(change, TicketChange::Transfer { .. }) {
                sqlx::query("SELECT id FROM departments WHERE id = $1")
                    .bind(&c.department_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| Invalid::new("department", "no such department"))?;
            }
            save_conversation!(tx, c);
            crate::commits::enqueue_outbox!(self.outbox, tx, c);
            tx.commit().await?;
            Ok(Some(c))
        })
    }

    /// Merges a duplicate case into another case of the same customer: the duplicate is closed and points to
    /// the target, and both timelines say so. Returns the target.
    pub async fn merge_ticket(&self, source: &str, target: &str, actor: &Actor) -> Result<Conversation> {
        let (mut src, mut dst) = self.merge_ticket_tx(source, target, actor).await?;
        self.committed(&mut src, None);
        self.committed(&mut dst, None);
        Ok(dst)
    }

    /// The merge's transaction: the duplicate and the target, as written.
    async fn merge_ticket_tx(&self, source: &str, target: &str, actor: &Actor) -> Result<(Conversation, Conversation)> {
        if source == target {
            return Err(Invalid::new("into", "a case cannot be merged into itself").into());
        }
        on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            // Lock in id order so two opposite merges cannot deadlock.
            let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id IN ($1, $2) ORDER BY id{lock}");
            let rows: Vec<Conversation> = sqlx::query_as(&sql).bind(source).bind(target).fetch_all(&mut *tx).await?;
            let mut src = rows.iter().find(|c| c.id == source).cloned().ok_or(StoreError::NotFound)?;
            let mut dst = rows
                .iter()
                .find(|c| c.id == target)
                .cloned()
                .ok_or_else(|| Invalid::new("into", "no such case to merge into"))?;
            if src.customer_id != dst.customer_id {
                return Err(Invalid::new("into", "only cases of the same customer can be merged").into());
            }
            if src.status() == Status::Closed {
                return Err(StatusError::Closed.into());
            }
            if dst.status() == Status::Closed || dst.merged_into.is_some() {
                return Err(Invalid::new("into", "the target case is closed").into());
            }
            let now = now_ms();
            src.status = Status::Closed.as_str().into();
            src.closed_at = Some(now);
            src.merged_into = Some(dst.id.clone());
            src.updated_at = now;
            dst.updated_at = now;
            let into = TimelineEvent::MergedInto { into: dst.id.clone(), case_number: dst.case_number.clone() };
            push_event!(tx, src, actor, &into);
            let from = TimelineEvent::MergedFrom { from: src.id.clone(), case_number: src.case_number.clone() };
            push_event!(tx, dst, actor, &from);
            save_conversation!(tx, src);
            save_conversation!(tx, dst);
            crate::commits::enqueue_outbox!(self.outbox, tx, src, dst);
            tx.commit().await?;
            Ok((src, dst))
        })
    }

    /// Adds a message. A customer's reply reopens a solved or pending case; a reply to a merged case lands on the
    /// case it was merged into; a customer's reply to a closed case opens a linked follow-up. An agent's first
    /// public reply opens a new case and takes it if nobody has. With `client_id`, a resent message is returned
    /// as it was stored the first time.
    #[allow(clippy::too_many_arguments)] // one call site per channel; a struct would only rename the arguments
    pub async fn reply(
        &self,
        id: &str,
        actor: &Actor,
        body: &str,
        internal: bool,
        attachment_ids: &[String],
        client_id: Option<&str>,
        idem: Option<(&str, &str, &str)>,
    ) -> Result<ReplyOutcome> {
        let parts = ReplyParts { body, internal, attachment_ids, client_id, status: None, mail: None };
        self.reply_inner(id, actor, &parts, idem).await
    }

    /// A staff reply and a status change in one transaction (answer and mark pending, say): both are written, or
    /// neither. The status change follows the same rules as [`Store::change_ticket`]; it does not apply to a
    /// closed case's follow-up.
    pub async fn reply_with_status(
        &self,
        id: &str,
        actor: &Actor,
        parts: &ReplyParts<'_>,
        idem: Option<(&str, &str, &str)>,
    ) -> Result<ReplyOutcome> {
        self.reply_inner(id, actor, parts, idem).await
    }

    async fn reply_inner(
        &self,
        id: &str,
        actor: &Actor,
        parts: &ReplyParts<'_>,
        idem: Option<(&str, &str, &str)>,
    ) -> Result<ReplyOutcome> {
        let ReplyParts { body, internal, attachment_ids, client_id, status: requested, mail } = *parts;
        if internal && !actor.is_staff() {
            return Err(StoreError::Forbidden("only agents write internal notes".into()));
        }
        if let Some((principal, key, hash)) = idem
            && let Some(mid) = self.idempotent_replay(principal, key, hash).await?
        {
            return self.replay_outcome(&mid).await;
        }
        if let Some(cid) = client_id {
            let sql = format!("{MESSAGE_SELECT} WHERE m.conversation_id = $1 AND m.client_id = $2");
            let found: Option<Message> =
                on_read!(self, |pool| sqlx::query_as(&sql).bind(id).bind(cid).fetch_optional(pool).await)?;
            if let Some(m) = found {
                return self.replay_outcome(&m.id).await;
            }
        }
        // The message's id, the conversations written (whose appended entries go to the post-commit stream), and
        // whether the outbox rules wrote jobs. On SQLite the reply runs in the group-commit writer, sharing one
        // fsync with every write queued meanwhile: a mail desk's agents reply in bursts, and each reply on its
        // own commit would cap replies (and their mails) at one per fsync.
        let parts = (body, internal, attachment_ids, client_id, requested, mail);
        let res: Result<(String, Vec<Conversation>, bool)> = match &*self.db {
            crate::Db::Sqlite { group, .. } => {
                let (store, id, actor) = (self.clone(), id.to_string(), actor.clone());
                let (body, attachment_ids) = (body.to_string(), attachment_ids.to_vec());
                let (client_id, mail) = (client_id.map(str::to_string), mail.cloned());
                let idem = idem.map(|(p, k, h)| (p.to_string(), k.to_string(), h.to_string()));
                group
                    .run(move |conn| {
                        let (store, id, actor, body) = (store.clone(), id.clone(), actor.clone(), body.clone());
                        let (attachment_ids, client_id, idem, mail) =
                            (attachment_ids.clone(), client_id.clone(), idem.clone(), mail.clone());
                        Box::pin(async move {
                            let idem = idem.as_ref().map(|(p, k, h)| (p.as_str(), k.as_str(), h.as_str()));
                            let parts = (
                                body.as_str(),
                                internal,
                                &attachment_ids[..],
                                client_id.as_deref(),
                                requested,
                                mail.as_ref(),
                            );
                            Ok(write_reply!(store, conn, "", id.as_str(), &actor, parts, idem))
                        })
                    })
                    .await
            }
            crate::Db::Postgres(pool) => {
                async {
                    let mut tx = pool.begin().await?;
                    let r = write_reply!(self, tx, " FOR UPDATE", id, actor, parts, idem);
                    tx.commit().await?;
                    Ok(r)
                }
                .await
            }
        };
        let res = res.map(|(mid, written, jobs)| {
            if jobs {
                self.wake_runners();
            }
            (mid, written)
        });
        let (mid, mut written) = match (res, idem) {
            (Err(e), Some((principal, key, hash))) if is_idem_race(&e) => {
                let mid = self.idempotent_replay(principal, key, hash).await?.ok_or(e)?;
                return self.replay_outcome(&mid).await;
            }
            (r, _) => r?,
        };
        let out = self.replay_outcome(&mid).await?;
        let (ReplyOutcome::Added { message, .. } | ReplyOutcome::FollowUp { message, .. }) = &out;
        // The case written to, and the closed one a follow-up was opened from.
        for c in &mut written {
            let whole = (c.id == message.conversation_id).then_some(message);
            self.committed(c, whole);
        }
        Ok(out)
    }

    /// The outcome of a stored message, as the reply that stored it reported it.
    async fn replay_outcome(&self, mid: &str) -> Result<ReplyOutcome> {
        let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
        let m: Message = on_read!(self, |pool| sqlx::query_as(&sql).bind(mid).fetch_optional(pool).await)?
            .ok_or(StoreError::NotFound)?;
        let c = self.conversation(&m.conversation_id).await?.ok_or(StoreError::NotFound)?;
        // A follow-up's first message is its creation.
        Ok(if c.follow_up_of.is_some() && m.seq == 1 {
            ReplyOutcome::FollowUp { message: m, conversation: c }
        } else {
            ReplyOutcome::Added { message: m, conversation: c }
        })
    }

    /// Inserts conversations in bulk for benchmarks and demos: one transaction per call.
    pub async fn bulk_insert_conversations(&self, rows: &[Conversation]) -> Result<()> {
        on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            for c in rows {
                sqlx::query(
                    "INSERT INTO conversations (id, kind, case_number, customer_id, subject, status, priority, \
                     priority_rank, category, department_id, assignee_id, tier, lang, last_seq, created_at, updated_at, \
                     order_id, tx_hash, sla_due_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $16, $17, $18)",
                )
                .bind(&c.id)
                .bind(&c.kind)
                .bind(&c.case_number)
                .bind(&c.customer_id)
                .bind(&c.subject)
                .bind(&c.status)
                .bind(&c.priority)
                .bind(c.priority().rank())
                .bind(&c.category)
                .bind(&c.department_id)
                .bind(&c.assignee_id)
                .bind(&c.tier)
                .bind(&c.lang)
                .bind(c.created_at)
                .bind(c.updated_at)
                .bind(&c.order_id)
                .bind(&c.tx_hash)
                .bind(c.sla_due_at)
                .execute(&mut *tx)
                .await?;
            }
            let ids: Vec<&str> = rows.iter().filter(|c| c.kind != "chat").map(|c| c.id.as_str()).collect();
            crate::index_log::log_changes(&mut *tx, crate::Indexed::Ticket, &ids).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        for c in rows {
            // No timeline (benchmark and demo rows), but new cases all the same: the indexes take them.
            self.emit(crate::Committed {
                conversation_id: c.id.clone(),
                kind: ConversationKind::parse(&c.kind).unwrap_or(ConversationKind::Ticket),
                entries: Vec::new(),
                message: None,
            });
        }
        Ok(())
    }

    /// Refreshes the planner's statistics after a bulk load.
    pub async fn analyze(&self) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query("ANALYZE").execute(pool).await.map(|_| ()))?;
        Ok(())
    }
}

fn is_idem_race(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(d) if crate::is_unique_violation(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv() -> Conversation {
        Conversation {
            appended: Vec::new(),
            enqueued: false,
            id: "c1".into(),
            kind: "ticket".into(),
            case_number: Some("LB-260101-0001".into()),
            customer_id: "u1".into(),
            subject: "s".into(),
            status: "open".into(),
            priority: "normal".into(),
            category: "deposit".into(),
            department_id: "support".into(),
            assignee_id: Some("a1".into()),
            tier: "l1".into(),
            lang: "en".into(),
            order_id: None,
            tx_hash: None,
            asset: None,
            amount: None,
            merged_into: None,
            follow_up_of: None,
            last_seq: 2,
            created_at: 1,
            updated_at: 1,
            solved_at: None,
            closed_at: None,
            sla_due_at: crate::NO_CLOCK,
        }
    }

    #[test]
    fn escalation_climbs_and_unassigns() {
        let (c, ev) = plan_change(conv(), &TicketChange::Escalate { reason: "needs L2".into() }, 5).unwrap();
        assert_eq!((c.tier.as_str(), c.assignee_id.as_deref(), c.updated_at), ("l2", None, 5));
        assert_eq!(ev, [TimelineEvent::Escalated { from: Tier::L1, to: Tier::L2, reason: "needs L2".into() }]);
        let (c, _) = plan_change(c, &TicketChange::Escalate { reason: "x".into() }, 6).unwrap();
        assert_eq!(c.tier, "supervisor");
        assert!(plan_change(c, &TicketChange::Escalate { reason: "x".into() }, 7).is_err());
        assert!(plan_change(conv(), &TicketChange::Escalate { reason: "  ".into() }, 7).is_err());
    }

    #[test]
    fn transfer_needs_a_reason_and_a_new_department() {
        let t = |d: &str, r: &str| TicketChange::Transfer { department: d.into(), reason: r.into() };
        assert!(plan_change(conv(), &t("support", "x"), 1).is_err());
        assert!(plan_change(conv(), &t("finance", ""), 1).is_err());
        let (c, ev) = plan_change(conv(), &t("finance", "refund"), 1).unwrap();
        assert_eq!((c.department_id.as_str(), c.assignee_id.clone()), ("finance", None));
        assert_eq!(
            ev,
            [TimelineEvent::Transferred { from: "support".into(), to: "finance".into(), reason: "refund".into() }]
        );
        assert!(ev[0].internal(), "transfers are internal events");
    }

    #[test]
    fn status_changes_follow_the_machine_and_stamp_times() {
        let (c, _) = plan_change(conv(), &TicketChange::Status(Status::Solved), 9).unwrap();
        assert_eq!(c.solved_at, Some(9));
        let (c, _) = plan_change(c, &TicketChange::Status(Status::Closed), 10).unwrap();
        assert_eq!(c.closed_at, Some(10));
        assert!(plan_change(c.clone(), &TicketChange::Status(Status::Open), 11).is_err());
        assert!(plan_change(c, &TicketChange::Assign(None), 11).is_err());
    }

    #[test]
    fn planned_events_store_what_they_always_stored() {
        let data = |c: &TicketChange| {
            let (_, ev) = plan_change(conv(), c, 1).unwrap();
            ev.iter().map(|e| (e.kind(), e.data(), e.internal())).collect::<Vec<_>>()
        };
        assert_eq!(
            data(&TicketChange::Status(Status::Solved)),
            [("status_changed", serde_json::json!({"from": "open", "to": "solved"}), false)]
        );
        assert_eq!(
            data(&TicketChange::Assign(None)),
            [("assigned", serde_json::json!({"from": "a1", "to": null}), true)]
        );
        let update = TicketChange::Update {
            priority: Some(Priority::Urgent),
            category: None,
            tags: None,
            order_id: Some(" o-1 ".into()),
            tx_hash: Some("".into()),
            asset: None,
            amount: None,
        };
        assert_eq!(
            data(&update),
            [(
                "updated",
                serde_json::json!({"priority": {"from": "normal", "to": "urgent"}, "order_id": {"from": null, "to": "o-1"}}),
                true
            )]
        );
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor { a: 5, b: 7, id: "abc".into() };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("!!").is_err());
        assert!(Cursor::decode("eA").is_err());
    }

    #[test]
    fn tags_are_cleaned() {
        let t = clean_tags(&[" VIP ".into(), "vip".into(), "".into(), "c2c".into()]).unwrap();
        assert_eq!(t, vec!["vip", "c2c"]);
        assert!(clean_tags(&["a,b".into()]).is_err());
    }
}
