//! Live chat: a chat is a conversation (`kind = 'chat'`) with a routing state (`bot → queued → active → ended`),
//! receipts and a rating. Messages share the conversation's gapless sequence with its events, so a client that
//! knows the last sequence it saw can always be brought up to date from here.
//!
//! Messages are the hot path (thousands a second): on SQLite they go through the group-commit writer, so one
//! fsync acknowledges a whole batch; a resent message (same client id) returns the stored one instead of a twin.
//!
//! By concern: this file holds a chat's messages and its routing state (every transition is one transaction,
//! [`Store::chat_transition`]; the choice of agent is the pure [`crate::routing::rank`]); `presence.rs` the
//! agents' availability and load; `receipts.rs` delivery and read receipts and the customer's rating;
//! `inbox.rs` the reads behind the agents' inbox, the queue and the customer's history.

use crate::conversations::default_department;
use crate::conversations::{Actor, NewTicket, insert_conversation, push_event, push_message};
use crate::rows::CONVERSATION_COLS;
use crate::{Conflict, Conversation, Message, Result, Store, StoreError, new_id, now_ms, on_read, on_write};
use lifebuoy_domain::{
    CaseNumber, Category, ConversationKind, Event as TimelineEvent, Invalid, Lang, Priority, Status, Tier,
};
use serde::Serialize;

mod inbox;
mod presence;
mod receipts;

pub use inbox::{CannedReply, InboxItem};
pub use presence::{DEFAULT_CAPACITY, Presence};
pub use receipts::Side;

/// Who a chat's conversation is assigned to after a transition.
#[derive(Debug, Clone)]
enum AssigneeChange {
    Keep,
    /// The router picks the agent inside the transaction.
    Route,
    Set(String),
    Clear,
}

/// A change of a chat's routing state (see [`Store::chat_transition`]).
#[derive(Debug, Clone)]
struct Transition {
    from: &'static [&'static str],
    to: &'static str,
    at_col: Option<&'static str>,
    assignee: AssigneeChange,
    within_capacity: bool,
    department: Option<String>,
    conv_status: Option<&'static str>,
    /// The event it writes. `None` only with [`AssigneeChange::Route`], whose event
    /// ([`TimelineEvent::ChatAssigned`]) names the agent the router picks inside the transaction.
    event: Option<TimelineEvent>,
}

pub use lifebuoy_domain::ChatState;

/// A chat's own columns.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Chat {
    pub conversation_id: String,
    pub customer_id: String,
    pub state: String,
    pub topic: Option<String>,
    pub bot_misses: i64,
    pub queued_at: Option<i64>,
    pub assigned_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub customer_delivered_seq: i64,
    pub customer_read_seq: i64,
    pub agent_delivered_seq: i64,
    pub agent_read_seq: i64,
    pub csat_score: Option<i64>,
    pub csat_comment: Option<String>,
    pub csat_at: Option<i64>,
    pub ticket_id: Option<String>,
}

const CHAT_COLS: &str = "conversation_id, customer_id, state, topic, bot_misses, queued_at, assigned_at, ended_at, \
    customer_delivered_seq, customer_read_seq, agent_delivered_seq, agent_read_seq, csat_score, csat_comment, csat_at, \
    ticket_id";

impl Chat {
    pub fn state(&self) -> ChatState {
        ChatState::parse(&self.state).unwrap_or(ChatState::Ended)
    }
}

/// A new chat, opened by the customer's first message.
#[derive(Debug, Clone)]
pub struct NewChat {
    pub customer_id: String,
    pub lang: Lang,
    pub department: String,
    pub category: Category,
    pub topic: Option<String>,
    pub body: String,
    pub client_id: Option<String>,
    pub attachment_ids: Vec<String>,
}

/// What a message append did.
#[derive(Debug, Clone)]
pub struct Appended {
    pub message: Message,
    pub conversation: Conversation,
    /// `true` when the client id was seen before: this is the message stored the first time.
    pub duplicate: bool,
    /// The chat's state when the message was stored (read in the same transaction); `None` for a duplicate.
    pub chat_state: Option<ChatState>,
}

/// A conversation row with its chat's state, as the message hot path's `UPDATE ... RETURNING` gives it.
#[derive(sqlx::FromRow)]
struct ConversationInState {
    #[sqlx(flatten)]
    conversation: Conversation,
    chat_state: String,
}

/// Runs a write on SQLite through the group-commit writer, on PostgreSQL in its own transaction. `$caps` are
/// cloned into the closure, which may run twice on SQLite (see `writer.rs`); `$conn` is a connection inside the
/// transaction.
macro_rules! grouped_write {
    ($s:expr, $t:ty, [$($cap:ident),*], |$conn:ident| $body:expr) => {
        match &*$s.db {
            crate::Db::Sqlite { group, .. } => {
                $(let $cap = $cap.clone();)*
                group
                    .run(move |$conn| {
                        $(let $cap = $cap.clone();)*
                        Box::pin(async move {
                            let r: Result<$t> = async { $body }.await;
                            r
                        })
                    })
                    .await
            }
            crate::Db::Postgres(pool) => {
                async {
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
                }
                .await
            }
        }
    };
}
pub(crate) use grouped_write;

pub(crate) const MESSAGE_SELECT: &str = "SELECT m.id, m.conversation_id, m.seq, m.author_kind, m.author_id, \
    a.display_name AS author_name, a.agent_no, m.body, m.internal, m.client_id, m.created_at \
    FROM messages m LEFT JOIN agents a ON m.author_kind = 'agent' AND a.id = m.author_id";

fn is_unique_violation(e: &StoreError) -> bool {
    match e {
        StoreError::Db(sqlx::Error::Database(d)) => {
            d.is_unique_violation() || d.code().as_deref() == Some("1555") || d.code().as_deref() == Some("2067")
        }
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(f.extended_code, 1555 | 2067),
        _ => false,
    }
}

/// A conversation row from the raw connection, columns in [`CONVERSATION_COLS`] order.
fn conversation_from_raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        appended: Vec::new(),
        enqueued: false,
        id: r.get(0)?,
        kind: r.get(1)?,
        case_number: r.get(2)?,
        customer_id: r.get(3)?,
        subject: r.get(4)?,
        status: r.get(5)?,
        priority: r.get(6)?,
        category: r.get(7)?,
        department_id: r.get(8)?,
        assignee_id: r.get(9)?,
        tier: r.get(10)?,
        lang: r.get(11)?,
        order_id: r.get(12)?,
        tx_hash: r.get(13)?,
        asset: r.get(14)?,
        amount: r.get(15)?,
        merged_into: r.get(16)?,
        follow_up_of: r.get(17)?,
        last_seq: r.get(18)?,
        created_at: r.get(19)?,
        updated_at: r.get(20)?,
        solved_at: r.get(21)?,
        closed_at: r.get(22)?,
        sla_due_at: r.get(23)?,
    })
}

/// [`Store::append_chat_message`]'s write on SQLite's raw connection, statement for statement what the sqlx
/// form does on PostgreSQL (tests run both): take the next sequence number if the chat is open, insert the
/// message, claim the attachments. Returns the message id, the chat's state (`None`: a resend of a message
/// stored before the chat ended) and the conversation.
fn append_raw(
    c: &rusqlite::Connection,
    cid: &str,
    actor: &Actor,
    body: &str,
    internal: bool,
    client_id: Option<&str>,
    atts: &[String],
) -> Result<(String, Option<ChatState>, Conversation)> {
    use rusqlite::{OptionalExtension, named_params};
    let now = now_ms();
    let sql = format!(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2 WHERE id = $1 \
         AND EXISTS (SELECT 1 FROM chats WHERE conversation_id = $1 AND state <> 'ended') \
         RETURNING {CONVERSATION_COLS}, (SELECT state FROM chats WHERE conversation_id = $1) AS chat_state"
    );
    let row = c
        .prepare_cached(&sql)?
        .query_row(named_params! {"$1": cid, "$2": now}, |r| {
            // The chat's state comes right after the conversation's columns.
            Ok((conversation_from_raw(r)?, r.get::<_, String>(CONVERSATION_COLS.split(',').count())?))
        })
        .optional()?;
    let Some((mut conv, state)) = row else {
        if let Some(k) = client_id {
            let found: Option<String> = c
                .prepare_cached("SELECT id FROM messages WHERE conversation_id = $1 AND client_id = $2")?
                .query_row(named_params! {"$1": cid, "$2": k}, |r| r.get(0))
                .optional()?;
            if let Some(mid) = found {
                let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1");
                let conv = c.prepare_cached(&sql)?.query_row(named_params! {"$1": cid}, conversation_from_raw)?;
                return Ok((mid, None, conv));
            }
        }
        let state: Option<String> = c
            .prepare_cached("SELECT state FROM chats WHERE conversation_id = $1")?
            .query_row(named_params! {"$1": cid}, |r| r.get(0))
            .optional()?;
        return Err(match state {
            None => StoreError::NotFound,
            Some(_) => Conflict::ChatEnded.into(),
        });
    };
    let mid = new_id();
    // The chain covers each file's name, type, size and SHA-256: read them before the message is written, claim
    // them after (the claim checks again).
    let mut files = Vec::with_capacity(atts.len());
    for att in atts {
        let f = c
            .prepare_cached(
                "SELECT id, filename, content_type, size, sha256 FROM attachments \
                 WHERE id = $1 AND owner_kind = $2 AND owner_id = $3 AND message_id IS NULL",
            )?
            .query_row(named_params! {"$1": att, "$2": actor.kind(), "$3": actor.id().unwrap_or("")}, |r| {
                Ok(lifebuoy_records::AttachmentRef {
                    id: r.get(0)?,
                    filename: r.get(1)?,
                    content_type: r.get(2)?,
                    size: r.get(3)?,
                    sha256: r.get(4)?,
                })
            })
            .optional()?;
        let Some(f) = f else {
            return Err(Invalid::new(
                "attachment_ids",
                format!("attachment {att} is not one you uploaded, or is already used"),
            )
            .into());
        };
        files.push(f);
    }
    files.sort_by(|a, b| a.id.cmp(&b.id));
    let content = lifebuoy_records::Content::Message {
        author_kind: actor.kind().to_owned(),
        author_id: actor.id().map(str::to_owned),
        body: body.to_owned(),
        internal,
        attachments: files,
    };
    let digest = crate::records::chain_next_raw(c, cid, conv.last_seq, conv.updated_at, &content)?;
    c.prepare_cached(
        "INSERT INTO messages (id, conversation_id, seq, author_kind, author_id, body, internal, client_id, created_at, digest) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )?
    .execute(named_params! {"$1": mid, "$2": cid, "$3": conv.last_seq, "$4": actor.kind(), "$5": actor.id(),
        "$6": body, "$7": internal, "$8": client_id, "$9": conv.updated_at, "$10": digest})?;
    for att in atts {
        let n = c
            .prepare_cached(
                "UPDATE attachments SET conversation_id = $1, message_id = $2 \
                 WHERE id = $3 AND owner_kind = $4 AND owner_id = $5 AND message_id IS NULL",
            )?
            .execute(
                named_params! {"$1": cid, "$2": mid, "$3": att, "$4": actor.kind(), "$5": actor.id().unwrap_or("")},
            )?;
        if n != 1 {
            return Err(Invalid::new(
                "attachment_ids",
                format!("attachment {att} is not one you uploaded, or is already used"),
            )
            .into());
        }
    }
    conv.appended.push(crate::Entry::Message {
        seq: conv.last_seq,
        id: mid.clone(),
        internal,
        author: actor.kind(),
        attachments: atts.len(),
    });
    Ok((mid, Some(ChatState::parse(&state).unwrap_or(ChatState::Ended)), conv))
}

/// The subject a chat is listed under: its topic, or the start of its first message.
fn chat_subject(topic: Option<&str>, body: &str) -> String {
    let src = topic.filter(|t| !t.trim().is_empty()).unwrap_or(body).trim();
    let mut s: String = src.chars().take(80).collect();
    if src.chars().count() > 80 {
        s.push('…');
    }
    if s.is_empty() { "Chat".into() } else { s }
}

impl Store {
    /// The customer's open chat (not ended), if any.
    pub async fn open_chat_of(&self, customer_id: &str) -> Result<Option<(Conversation, Chat)>> {
        let sql = format!("SELECT {CHAT_COLS} FROM chats WHERE customer_id = $1 AND state <> 'ended'");
        let chat: Option<Chat> =
            on_read!(self, |pool| sqlx::query_as(&sql).bind(customer_id).fetch_optional(pool).await)?;
        match chat {
            Some(ch) => {
                let c = self.conversation(&ch.conversation_id).await?.ok_or(StoreError::NotFound)?;
                Ok(Some((c, ch)))
            }
            None => Ok(None),
        }
    }

    /// A chat by conversation id.
    pub async fn chat(&self, conversation_id: &str) -> Result<Option<(Conversation, Chat)>> {
        let sql = format!("SELECT {CHAT_COLS} FROM chats WHERE conversation_id = $1");
        let chat: Option<Chat> =
            on_read!(self, |pool| sqlx::query_as(&sql).bind(conversation_id).fetch_optional(pool).await)?;
        match chat {
            Some(ch) => {
                let c = self.conversation(&ch.conversation_id).await?.ok_or(StoreError::NotFound)?;
                Ok(Some((c, ch)))
            }
            None => Ok(None),
        }
    }

    /// Starts a chat with the customer's first message, or, when the customer already has an open chat (another
    /// tab, a race), appends the message to that one.
    pub async fn start_chat(&self, n: &NewChat) -> Result<Appended> {
        if n.body.trim().is_empty() && n.attachment_ids.is_empty() {
            return Err(Invalid::new("body", "write a message").into());
        }
        if let Some((c, _)) = self.open_chat_of(&n.customer_id).await? {
            return self
                .append_chat_message(
                    &c.id,
                    &Actor::Customer(n.customer_id.clone()),
                    &n.body,
                    false,
                    n.client_id.as_deref(),
                    &n.attachment_ids,
                )
                .await;
        }
        let n = n.clone();
        let res = grouped_write!(self, (Conversation, String), [n], |conn| {
            let t = NewTicket {
                kind: ConversationKind::Chat,
                customer_id: n.customer_id.clone(),
                subject: chat_subject(n.topic.as_deref(), &n.body),
                body: n.body.clone(),
                category: n.category,
                priority: Priority::Normal,
                department: Some(n.department.clone()),
                lang: n.lang,
                order_id: None,
                tx_hash: None,
                asset: None,
                amount: None,
                tags: vec![],
                attachment_ids: n.attachment_ids.clone(),
            };
            let actor = Actor::Customer(n.customer_id.clone());
            let (conv, mid) = crate::conversations::insert_conversation!(conn, t, actor, None::<String>);
            if let Some(cid) = &n.client_id {
                sqlx::query("UPDATE messages SET client_id = $1 WHERE id = $2")
                    .bind(cid)
                    .bind(&mid)
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query("INSERT INTO chats (conversation_id, customer_id, state, topic) VALUES ($1, $2, 'bot', $3)")
                .bind(&conv.id)
                .bind(&n.customer_id)
                .bind(&n.topic)
                .execute(&mut *conn)
                .await?;
            Ok((conv, mid))
        });
        match res {
            Ok((mut conversation, mid)) => {
                let message = self.message(&mid).await?;
                self.committed(&mut conversation, Some(&message));
                Ok(Appended { message, conversation, duplicate: false, chat_state: Some(ChatState::Bot) })
            }
            // Another tab opened the chat first: join it.
            Err(e) if is_unique_violation(&e) => match self.open_chat_of(&n.customer_id).await? {
                Some((c, _)) => {
                    self.append_chat_message(
                        &c.id,
                        &Actor::Customer(n.customer_id.clone()),
                        &n.body,
                        false,
                        n.client_id.as_deref(),
                        &n.attachment_ids,
                    )
                    .await
                }
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// A message by id.
    pub async fn message(&self, id: &str) -> Result<Message> {
        let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
        on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?.ok_or(StoreError::NotFound)
    }

    /// Appends a message to a chat at its next sequence number, durably, and returns it. A client id seen before
    /// returns the stored message (`duplicate`). Ended chats take no more messages.
    pub async fn append_chat_message(
        &self,
        conversation_id: &str,
        actor: &Actor,
        body: &str,
        internal: bool,
        client_id: Option<&str>,
        attachment_ids: &[String],
    ) -> Result<Appended> {
        if internal && matches!(actor, Actor::Customer(_)) {
            return Err(StoreError::Forbidden("only agents write internal notes".into()));
        }
        if body.trim().is_empty() && attachment_ids.is_empty() {
            return Err(Invalid::new("body", "write a message").into());
        }
        let (actor_kind, body_out, client_out) = (actor.clone(), body.to_string(), client_id.map(str::to_string));
        let (cid, actor, body, client_id, atts) = (
            conversation_id.to_string(),
            actor.clone(),
            body.to_string(),
            client_id.map(str::to_string),
            attachment_ids.to_vec(),
        );
        let res = match &*self.db {
            // The hot path on SQLite: the same statements on the raw connection (see `writer.rs`).
            crate::Db::Sqlite { group, .. } => {
                let (cid, actor, body, client_id, atts) =
                    (cid.clone(), actor.clone(), body.clone(), client_id.clone(), atts.clone());
                group.run_raw(move |c| append_raw(c, &cid, &actor, &body, internal, client_id.as_deref(), &atts)).await
            }
            crate::Db::Postgres(_) => grouped_write!(
                self,
                (String, Option<ChatState>, Conversation),
                [cid, actor, body, client_id, atts],
                |conn| {
                    // Two statements on the hot path. A resent client id is caught by the unique index
                    // `(conversation_id, client_id)` (handled below), not by a lookup before every insert; the chat's
                    // state is checked, and returned, by the same statement that takes the sequence number.
                    let now = now_ms();
                    let sql = format!(
                        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2 WHERE id = $1 \
                 AND EXISTS (SELECT 1 FROM chats WHERE conversation_id = $1 AND state <> 'ended') \
                 RETURNING {CONVERSATION_COLS}, (SELECT state FROM chats WHERE conversation_id = $1) AS chat_state"
                    );
                    let c: Option<ConversationInState> =
                        sqlx::query_as(&sql).bind(&cid).bind(now).fetch_optional(&mut *conn).await?;
                    let Some(ConversationInState { conversation: mut c, chat_state }) = c else {
                        // Not writable: a resend of a message stored before the chat ended still gets its ack.
                        if let Some(k) = &client_id {
                            let found: Option<(String,)> =
                                sqlx::query_as("SELECT id FROM messages WHERE conversation_id = $1 AND client_id = $2")
                                    .bind(&cid)
                                    .bind(k)
                                    .fetch_optional(&mut *conn)
                                    .await?;
                            if let Some((mid,)) = found {
                                let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1");
                                let c: Conversation = sqlx::query_as(&sql).bind(&cid).fetch_one(&mut *conn).await?;
                                return Ok((mid, None, c));
                            }
                        }
                        let state: Option<(String,)> =
                            sqlx::query_as("SELECT state FROM chats WHERE conversation_id = $1")
                                .bind(&cid)
                                .fetch_optional(&mut *conn)
                                .await?;
                        return Err(match state {
                            None => StoreError::NotFound,
                            Some(_) => Conflict::ChatEnded.into(),
                        });
                    };
                    // push_message! increments last_seq itself: start from the value before our increment.
                    c.last_seq -= 1;
                    let mid = push_message!(conn, c, actor, &body, internal, client_id.as_deref(), &atts);
                    Ok((mid, Some(ChatState::parse(&chat_state).unwrap_or(ChatState::Ended)), c))
                }
            ),
        };
        let (mid, chat_state, mut conversation) = match res {
            Ok(v) => v,
            // A resent message (or two connections resending it at once): the stored one answers.
            Err(e) if is_unique_violation(&e) && client_id.is_some() => {
                let sql = format!("{MESSAGE_SELECT} WHERE m.conversation_id = $1 AND m.client_id = $2");
                let m: Message = on_read!(self, |pool| sqlx::query_as(&sql)
                    .bind(conversation_id)
                    .bind(client_id.as_deref())
                    .fetch_optional(pool)
                    .await)?
                .ok_or(e)?;
                let c = self.conversation(conversation_id).await?.ok_or(StoreError::NotFound)?;
                return Ok(Appended { message: m, conversation: c, duplicate: true, chat_state: None });
            }
            Err(e) => return Err(e),
        };
        let duplicate = chat_state.is_none();
        // The hot path: a customer's or the bot's new message is known in full without reading it back.
        let message = match (&actor_kind, duplicate) {
            (Actor::Customer(_) | Actor::Bot | Actor::System, false) => Message {
                id: mid,
                conversation_id: conversation.id.clone(),
                seq: conversation.last_seq,
                author_kind: actor_kind.kind().to_string(),
                author_id: actor_kind.id().map(str::to_string),
                author_name: None,
                agent_no: None,
                body: body_out,
                internal,
                client_id: client_out,
                created_at: conversation.updated_at,
            },
            _ => self.message(&mid).await?,
        };
        self.committed(&mut conversation, Some(&message));
        Ok(Appended { message, conversation, duplicate, chat_state })
    }

    /// The customer's open chat: its id and state (one indexed read, for the message hot path).
    pub async fn open_chat_state(&self, customer_id: &str) -> Result<Option<(String, ChatState)>> {
        let r: Option<(String, String)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT conversation_id, state FROM chats WHERE customer_id = $1 AND state <> 'ended'"
        )
        .bind(customer_id)
        .fetch_optional(pool)
        .await)?;
        Ok(r.map(|(id, s)| (id, ChatState::parse(&s).unwrap_or(ChatState::Ended))))
    }

    /// Counts a question the bot could not answer; returns the new count.
    pub async fn chat_bot_missed(&self, conversation_id: &str) -> Result<i64> {
        let n: (i64,) = on_write!(self, |pool, lock| sqlx::query_as(
            "UPDATE chats SET bot_misses = bot_misses + 1 WHERE conversation_id = $1 RETURNING bot_misses"
        )
        .bind(conversation_id)
        .fetch_one(pool)
        .await)?;
        Ok(n.0)
    }

    /// Hands a chat from the bot to the human queue. Returns `None` when it was no longer with the bot.
    pub async fn chat_handover(
        &self,
        conversation_id: &str,
        actor: &Actor,
        reason: &str,
    ) -> Result<Option<Conversation>> {
        self.chat_transition(
            conversation_id,
            actor,
            Transition {
                from: &["bot"],
                to: "queued",
                at_col: Some("queued_at"),
                assignee: AssigneeChange::Keep,
                within_capacity: false,
                department: None,
                conv_status: None,
                event: Some(TimelineEvent::Handover { reason: reason.to_string() }),
            },
        )
        .await
    }

    /// One change of a chat's routing state, in one transaction: the chat row (only from the states allowed),
    /// the agents' load counters, the conversation row and the event that tells everyone, at the next sequence
    /// number. Returns `None` when the chat was not in an allowed state, or (with `within_capacity`) the agent
    /// had no room left or was not online.
    async fn chat_transition(
        &self,
        conversation_id: &str,
        actor: &Actor,
        t: Transition,
    ) -> Result<Option<Conversation>> {
        let mut c = self.chat_transition_tx(conversation_id, actor, t).await?;
        if let Some(c) = &mut c {
            self.committed(c, None);
        }
        Ok(c)
    }

    async fn chat_transition_tx(
        &self,
        conversation_id: &str,
        actor: &Actor,
        t: Transition,
    ) -> Result<Option<Conversation>> {
        let lock = if matches!(&*self.db, crate::Db::Postgres(_)) { " FOR UPDATE" } else { "" };
        let (cid, actor, outbox) = (conversation_id.to_string(), actor.clone(), self.outbox.clone());
        grouped_write!(self, Option<Conversation>, [cid, actor, t, outbox], |conn| {
            let now = now_ms();
            let row: Option<(String, Option<String>)> = sqlx::query_as(&format!(
                "SELECT ch.state, c.assignee_id FROM chats ch JOIN conversations c ON c.id = ch.conversation_id \
                 WHERE ch.conversation_id = $1{lock}"
            ))
            .bind(&cid)
            .fetch_optional(&mut *conn)
            .await?;
            let Some((state, old)) = row else { return Err(StoreError::NotFound) };
            if !t.from.contains(&state.as_str()) {
                return Ok(None);
            }
            let mut event = t.event.clone();
            let mut counted = false;
            let assignee = match &t.assignee {
                AssigneeChange::Keep => old.clone(),
                AssigneeChange::Set(a) => Some(a.clone()),
                AssigneeChange::Clear => None,
                AssigneeChange::Route => {
                    // Chosen here, inside the transaction, from the counters as they are now: the least-busy
                    // online agent of the department who speaks the chat's language and has room. Front-line
                    // agents first; supervisors take chats only when nobody else can.
                    let (dept, lang): (String, String) =
                        sqlx::query_as("SELECT department_id, lang FROM conversations WHERE id = $1")
                            .bind(&cid)
                            .fetch_one(&mut *conn)
                            .await?;
                    let rows: Vec<(String, String, String, i64, i64, String, String)> = sqlx::query_as(
                        "SELECT a.id, a.role, a.languages, p.capacity, p.active_chats, a.display_name, a.agent_no \
                         FROM agent_presence p JOIN agents a ON a.id = p.agent_id \
                         WHERE p.status = 'online' AND p.active_chats < p.capacity AND a.active AND \
                           (EXISTS (SELECT 1 FROM agent_departments d WHERE d.agent_id = a.id AND d.department_id = $1) \
                            OR a.role IN ('supervisor', 'admin'))",
                    )
                    .bind(&dept)
                    .fetch_all(&mut *conn)
                    .await?;
                    let candidates = crate::routing::rank(
                        rows.into_iter()
                            .map(|(id, role, languages, capacity, active_chats, name, agent_no)| {
                                crate::routing::Candidate {
                                    id,
                                    role,
                                    languages,
                                    capacity,
                                    active_chats,
                                    name,
                                    agent_no,
                                }
                            })
                            .collect(),
                        &lang,
                    );
                    let mut chosen = None;
                    for crate::routing::Candidate { id, name, agent_no: no, .. } in candidates {
                        // On PostgreSQL another node may fill this agent meanwhile: the guarded increment says.
                        let r = sqlx::query(
                            "UPDATE agent_presence SET active_chats = active_chats + 1 \
                             WHERE agent_id = $1 AND status = 'online' AND active_chats < capacity",
                        )
                        .bind(&id)
                        .execute(&mut *conn)
                        .await?;
                        if r.rows_affected() == 1 {
                            event = Some(TimelineEvent::ChatAssigned { to: id.clone(), name, agent_no: no });
                            chosen = Some(id);
                            break;
                        }
                    }
                    let Some(a) = chosen else { return Ok(None) };
                    counted = true;
                    Some(a)
                }
            };
            let was_busy = if state == "active" { old.clone() } else { None };
            let now_busy = if t.to == "active" { assignee.clone() } else { None };
            if was_busy != now_busy {
                if let Some(a) = now_busy.as_ref().filter(|_| !counted) {
                    if t.within_capacity {
                        let r = sqlx::query(
                            "UPDATE agent_presence SET active_chats = active_chats + 1 \
                             WHERE agent_id = $1 AND status = 'online' AND active_chats < capacity",
                        )
                        .bind(a)
                        .execute(&mut *conn)
                        .await?;
                        if r.rows_affected() == 0 {
                            return Ok(None);
                        }
                    } else {
                        sqlx::query(
                            "INSERT INTO agent_presence (agent_id, status, capacity, updated_at, active_chats) \
                             VALUES ($1, 'offline', $2, $3, 1) \
                             ON CONFLICT (agent_id) DO UPDATE SET active_chats = agent_presence.active_chats + 1",
                        )
                        .bind(a)
                        .bind(DEFAULT_CAPACITY)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    }
                }
                if let Some(a) = &was_busy {
                    sqlx::query(
                        "UPDATE agent_presence SET active_chats = CASE WHEN active_chats > 0 THEN active_chats - 1 ELSE 0 END \
                         WHERE agent_id = $1",
                    )
                    .bind(a)
                    .execute(&mut *conn)
                    .await?;
                }
            }
            let at = t.at_col.map(|c| format!(", {c} = $3")).unwrap_or_default();
            sqlx::query(&format!("UPDATE chats SET state = $2{at} WHERE conversation_id = $1"))
                .bind(&cid)
                .bind(t.to)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            let sql = format!(
                "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2, assignee_id = $3, \
                 department_id = COALESCE($4, department_id), status = COALESCE($5, status), \
                 closed_at = CASE WHEN $6 THEN $2 ELSE closed_at END WHERE id = $1 RETURNING {CONVERSATION_COLS}"
            );
            let mut c: Conversation = sqlx::query_as(&sql)
                .bind(&cid)
                .bind(now)
                .bind(&assignee)
                .bind(&t.department)
                .bind(t.conv_status)
                .bind(t.conv_status == Some("closed"))
                .fetch_one(&mut *conn)
                .await?;
            // push_event! takes the next number itself: start from the value before our increment.
            c.last_seq -= 1;
            let event = event.ok_or_else(|| StoreError::Inconsistent("a chat transition without its event".into()))?;
            push_event!(conn, c, actor, &event);
            crate::commits::enqueue_outbox!(outbox, conn, c);
            Ok(Some(c))
        })
    }

    /// Sets what the customer's chat is about, and the order id or tx hash when the customer gave one.
    pub async fn chat_context(
        &self,
        conversation_id: &str,
        topic: Option<&str>,
        order_id: Option<&str>,
        tx_hash: Option<&str>,
    ) -> Result<()> {
        on_write!(self, |pool, lock| sqlx::query(
            "UPDATE conversations SET order_id = COALESCE($2, order_id), tx_hash = COALESCE($3, tx_hash) WHERE id = $1"
        )
        .bind(conversation_id)
        .bind(order_id)
        .bind(tx_hash)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if let Some(t) = topic {
            on_write!(self, |pool, lock| sqlx::query("UPDATE chats SET topic = $2 WHERE conversation_id = $1")
                .bind(conversation_id)
                .bind(t)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Routes a queued chat to the least-busy online agent of its department who speaks its language and has
    /// room. Returns the agent id, or `None` when nobody eligible has room (the chat stays queued). Loads are
    /// counters kept by every transition, so routing costs the same with ten chats or ten thousand; the
    /// assignment re-checks the room inside its transaction, so two nodes routing at once cannot overfill an
    /// agent (the loser tries the next candidate).
    pub async fn route_chat(&self, conversation_id: &str) -> Result<Option<String>> {
        let c = self
            .chat_transition(
                conversation_id,
                &Actor::System,
                Transition {
                    from: &["queued"],
                    to: "active",
                    at_col: Some("assigned_at"),
                    assignee: AssigneeChange::Route,
                    within_capacity: true,
                    department: None,
                    conv_status: Some("open"),
                    event: None,
                },
            )
            .await?;
        Ok(c.and_then(|c| c.assignee_id))
    }

    /// Gives a chat to an agent. With `reassign`, an active chat moves (a transfer, or a supervisor's
    /// reassignment); without, only a queued chat is taken. Returns whether it moved. Capacity is the router's
    /// rule: an agent accepting a chat, or a supervisor assigning one, may go over it.
    pub async fn assign_chat(
        &self,
        conversation_id: &str,
        agent_id: &str,
        actor: &Actor,
        reassign: bool,
    ) -> Result<bool> {
        let from: &'static [&'static str] = if reassign { &["bot", "queued", "active"] } else { &["queued"] };
        Ok(self.assign_inner(conversation_id, agent_id, actor, from, false).await?.is_some())
    }

    async fn assign_inner(
        &self,
        conversation_id: &str,
        agent_id: &str,
        actor: &Actor,
        from: &'static [&'static str],
        within_capacity: bool,
    ) -> Result<Option<Conversation>> {
        let agent = self.agent(agent_id).await?.ok_or_else(|| Invalid::new("agent_id", "no such agent"))?;
        self.chat_transition(
            conversation_id,
            actor,
            Transition {
                from,
                to: "active",
                at_col: Some("assigned_at"),
                assignee: AssigneeChange::Set(agent_id.to_string()),
                within_capacity,
                department: None,
                conv_status: Some("open"),
                event: Some(TimelineEvent::ChatAssigned {
                    to: agent_id.to_string(),
                    name: agent.display_name,
                    agent_no: agent.agent_no.as_str().to_string(),
                }),
            },
        )
        .await
    }

    /// Moves a chat to another department's queue (with a note for the next agent).
    pub async fn transfer_chat(
        &self,
        conversation_id: &str,
        department: &str,
        note: &str,
        actor: &Actor,
    ) -> Result<Conversation> {
        if note.trim().is_empty() {
            return Err(Invalid::new("note", "say why, so the next agent knows").into());
        }
        let depts = self.departments().await?;
        if !depts.iter().any(|d| d.id == department) {
            return Err(Invalid::new("department", "no such department").into());
        }
        self.chat_transition(
            conversation_id,
            actor,
            Transition {
                from: &["bot", "queued", "active"],
                to: "queued",
                at_col: Some("queued_at"),
                assignee: AssigneeChange::Clear,
                within_capacity: false,
                department: Some(department.to_string()),
                conv_status: None,
                event: Some(TimelineEvent::ChatTransferred {
                    to_department: department.to_string(),
                    note: note.to_string(),
                }),
            },
        )
        .await?
        .ok_or_else(|| StoreError::from(Conflict::ChatEnded))
    }

    /// Ends a chat. Returns `None` when it had already ended.
    pub async fn end_chat(&self, conversation_id: &str, actor: &Actor) -> Result<Option<Conversation>> {
        self.chat_transition(
            conversation_id,
            actor,
            Transition {
                from: &["bot", "queued", "active"],
                to: "ended",
                at_col: Some("ended_at"),
                assignee: AssigneeChange::Keep,
                within_capacity: false,
                department: None,
                conv_status: Some("closed"),
                event: Some(TimelineEvent::ChatEnded),
            },
        )
        .await
    }

    /// A visitor from the widget's pre-chat form. Each is a new customer: an email anyone can type proves nothing,
    /// so a visitor's history follows their session, not the address.
    pub async fn create_visitor(&self, email: Option<&str>, name: Option<&str>, lang: Lang) -> Result<crate::Customer> {
        let id = new_id();
        let now = now_ms();
        on_write!(self, |pool, lock| {
            sqlx::query(
            "INSERT INTO customers (id, kind, email, name, lang, created_at, updated_at) VALUES ($1, 'visitor', $2, $3, $4, $5, $5)"
        )
        .bind(&id)
        .bind(email)
        .bind(name)
        .bind(lang.as_str())
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        self.customer(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Joins a visitor's conversations to a signed-in customer (the visitor proved the visitor session theirs
    /// by holding its token), in one transaction: the conversations, their chats, notifications and ratings
    /// move to `customer_id`, and every session of the visitor ends. Returns the ids of the conversations moved.
    /// Only a visitor is joined: a customer of the exchange is never folded into another.
    pub async fn join_visitor(&self, visitor_id: &str, customer_id: &str) -> Result<Vec<String>> {
        on_write!(self, |pool, _lock| {
            let mut tx = pool.begin().await?;
            let kind: Option<(String,)> = sqlx::query_as("SELECT kind FROM customers WHERE id = $1")
                .bind(visitor_id)
                .fetch_optional(&mut *tx)
                .await?;
            if kind.is_none_or(|(k,)| k != "visitor") || visitor_id == customer_id {
                return Ok(Vec::new());
            }
            let moved: Vec<(String,)> =
                sqlx::query_as("UPDATE conversations SET customer_id = $2 WHERE customer_id = $1 RETURNING id")
                    .bind(visitor_id)
                    .bind(customer_id)
                    .fetch_all(&mut *tx)
                    .await?;
            for table in ["chats", "notifications", "case_ratings"] {
                sqlx::query(&format!("UPDATE {table} SET customer_id = $2 WHERE customer_id = $1"))
                    .bind(visitor_id)
                    .bind(customer_id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM sessions WHERE principal_kind = 'customer' AND principal_id = $1")
                .bind(visitor_id)
                .execute(&mut *tx)
                .await?;
            // The ticket index keeps each case's customer.
            let ids: Vec<&str> = moved.iter().map(|(id,)| id.as_str()).collect();
            crate::index_log::log_changes(&mut *tx, crate::Indexed::Ticket, &ids).await?;
            tx.commit().await?;
            Ok(moved.into_iter().map(|(id,)| id).collect())
        })
    }

    /// Turns a chat into a ticket, in one transaction: the ticket (its first message `body`, the transcript the
    /// caller wrote in the customer's language), the chat's link to it and the chat's `converted_to_ticket`
    /// event all commit together or not at all. Converting again returns the ticket made the first time.
    pub async fn chat_to_ticket(&self, conversation_id: &str, actor: &Actor, body: &str) -> Result<Conversation> {
        let Some((c, ch)) = self.chat(conversation_id).await? else { return Err(StoreError::NotFound) };
        if let Some(t) = &ch.ticket_id {
            return self.conversation(t).await?.ok_or(StoreError::NotFound);
        }
        let t = NewTicket {
            tags: crate::clean_tags(&["from-chat".to_string()])?,
            ..NewTicket::from_case(&c, ConversationKind::Ticket, body)
        };
        let res = on_write!(self, |pool, lock| async {
            let mut tx = pool.begin().await?;
            // The chat first, locked: of two conversions at once, the second waits and then finds the link.
            let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1{lock}");
            let mut chat: Conversation = sqlx::query_as(&sql)
                .bind(conversation_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
            let (ticket, _mid) = insert_conversation!(tx, t, actor, None::<String>);
            let linked =
                sqlx::query("UPDATE chats SET ticket_id = $2 WHERE conversation_id = $1 AND ticket_id IS NULL")
                    .bind(conversation_id)
                    .bind(&ticket.id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if linked == 0 {
                // Converted meanwhile: roll back, and answer with the ticket that won.
                return Ok::<_, StoreError>(None);
            }
            chat.updated_at = now_ms();
            let event =
                TimelineEvent::ConvertedToTicket { ticket: ticket.id.clone(), case_number: ticket.case_number.clone() };
            push_event!(tx, chat, actor, &event);
            sqlx::query("UPDATE conversations SET last_seq = $2, updated_at = $3 WHERE id = $1")
                .bind(&chat.id)
                .bind(chat.last_seq)
                .bind(chat.updated_at)
                .execute(&mut *tx)
                .await?;
            let mut ticket = ticket;
            crate::commits::enqueue_outbox!(self.outbox, tx, ticket, chat);
            tx.commit().await?;
            Ok(Some((ticket, chat)))
        }
        .await)?;
        match res {
            Some((mut ticket, mut chat)) => {
                self.committed(&mut ticket, None);
                self.committed(&mut chat, None);
                Ok(ticket)
            }
            None => {
                let (_, ch) = self.chat(conversation_id).await?.ok_or(StoreError::NotFound)?;
                let id = ch
                    .ticket_id
                    .ok_or_else(|| StoreError::Inconsistent("a converted chat without its ticket".into()))?;
                self.conversation(&id).await?.ok_or(StoreError::NotFound)
            }
        }
    }
}

/// A status a chat's conversation row takes, for the queue views shared with tickets.
pub fn chat_status(state: ChatState) -> Status {
    match state {
        ChatState::Bot | ChatState::Queued => Status::New,
        ChatState::Active => Status::Open,
        ChatState::Ended => Status::Closed,
    }
}
