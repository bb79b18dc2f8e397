//! The reads behind the agents' chat inbox, the queue (a waiting customer's place and expected wait) and a
//! customer's chat history.

use super::{Chat, ChatState};
use crate::rows::CONVERSATION_COLS;
use crate::{Conversation, Result, Store, on_read};
use lifebuoy_domain::Lang;
use serde::Serialize;

/// One line of an agent's chat inbox.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InboxItem {
    pub conversation_id: String,
    pub case_number: Option<String>,
    pub subject: String,
    pub state: String,
    pub lang: String,
    pub department_id: String,
    pub assignee_id: Option<String>,
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub external_id: Option<String>,
    pub last_seq: i64,
    pub agent_read_seq: i64,
    pub unread: i64,
    pub queued_at: Option<i64>,
    pub updated_at: i64,
    pub category: String,
    pub priority: String,
    /// Since when the customer has waited on an agent: handed over and not yet answered, or wrote after the
    /// agent's last answer. `None`: the agent spoke last.
    pub waiting_since: Option<i64>,
    /// When that wait runs over the chat's SLA target (filled by `lifebuoy_app::chat::clocks`).
    #[sqlx(skip)]
    pub due_at: Option<i64>,
    /// When it turns to a warning.
    #[sqlx(skip)]
    pub warn_at: Option<i64>,
    /// The next-response target in ms: a customer who writes after the agent's answer waits at most this.
    #[sqlx(skip)]
    pub reply_ms: Option<i64>,
}

/// A canned reply, inserted in the console with `/shortcut`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CannedReply {
    pub id: String,
    pub shortcut: String,
    pub lang: String,
    pub title: String,
    pub body: String,
}

const INBOX_SELECT: &str = "SELECT c.id AS conversation_id, c.case_number, c.subject, ch.state, c.lang, \
    c.department_id, c.assignee_id, c.customer_id, k.name AS customer_name, k.email AS customer_email, k.external_id, \
    c.last_seq, ch.agent_read_seq, \
    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.author_kind = 'customer' \
     AND m.seq > ch.agent_read_seq) AS unread, ch.queued_at, c.updated_at, c.category, c.priority, \
    CASE WHEN ch.state = 'queued' THEN ch.queued_at ELSE COALESCE( \
      (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = c.id AND m.author_kind = 'customer' \
       AND m.seq > (SELECT MAX(a.seq) FROM messages a WHERE a.conversation_id = c.id AND a.author_kind = 'agent' \
       AND a.internal = FALSE)), \
      CASE WHEN EXISTS (SELECT 1 FROM messages a WHERE a.conversation_id = c.id AND a.author_kind = 'agent' \
       AND a.internal = FALSE) THEN NULL ELSE ch.queued_at END) END AS waiting_since \
    FROM chats ch JOIN conversations c ON c.id = ch.conversation_id JOIN customers k ON k.id = c.customer_id \
    WHERE 1 = 1";

impl Store {
    /// A waiting chat's place in its department's queue (1 = next) and an estimate of the wait in ms from the
    /// last twenty chats of that department (None when there is no history yet).
    pub async fn queue_position(&self, conversation_id: &str) -> Result<Option<(i64, Option<i64>)>> {
        let Some((c, ch)) = self.chat(conversation_id).await? else { return Ok(None) };
        let Some(queued_at) = ch.queued_at.filter(|_| ch.state() == ChatState::Queued) else { return Ok(None) };
        let (ahead,): (i64,) = on_read!(self, |pool| sqlx::query_as(
            "SELECT COUNT(*) FROM chats ch JOIN conversations c ON c.id = ch.conversation_id \
             WHERE ch.state = 'queued' AND c.department_id = $1 AND ch.queued_at < $2"
        )
        .bind(&c.department_id)
        .bind(queued_at)
        .fetch_one(pool)
        .await)?;
        let waits: Vec<(i64,)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT ch.assigned_at - ch.queued_at FROM chats ch JOIN conversations c ON c.id = ch.conversation_id \
             WHERE c.department_id = $1 AND ch.assigned_at IS NOT NULL AND ch.queued_at IS NOT NULL \
             ORDER BY ch.assigned_at DESC LIMIT 20"
        )
        .bind(&c.department_id)
        .fetch_all(pool)
        .await)?;
        let est = if waits.is_empty() {
            None
        } else {
            let avg = waits.iter().map(|w| w.0.max(0)).sum::<i64>() / waits.len() as i64;
            Some(avg * (ahead + 1))
        };
        Ok(Some((ahead + 1, est)))
    }

    /// Queued chats (oldest first), optionally of some departments.
    pub async fn queued_chats(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT conversation_id FROM chats WHERE state = 'queued' ORDER BY queued_at LIMIT 500"
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// One chat as an inbox line.
    pub async fn inbox_item(&self, conversation_id: &str) -> Result<Option<InboxItem>> {
        let sql = format!("{INBOX_SELECT} AND c.id = $1");
        let row = on_read!(self, |pool| sqlx::query_as(&sql).bind(conversation_id).fetch_optional(pool).await)?;
        Ok(row)
    }

    /// An agent's chat inbox: chats assigned to them, and (unless `mine_only`) queued and active chats of their
    /// departments (every department for supervisors: `departments = None`), newest first.
    pub async fn chat_inbox(&self, agent_id: &str, departments: Option<&[String]>) -> Result<Vec<InboxItem>> {
        let base = format!("{INBOX_SELECT} AND ch.state IN ('queued', 'active') AND c.deleted_at IS NULL");
        let rows: Vec<InboxItem> = match departments {
            None => {
                let sql = format!("{base} ORDER BY c.updated_at DESC LIMIT 500");
                on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?
            }
            Some(ds) => {
                // Each department id is a bound parameter ($2, $3, ...), never spliced into the SQL.
                let marks: Vec<String> = (0..ds.len()).map(|i| format!("${}", i + 2)).collect();
                let depts = if marks.is_empty() { "NULL".to_string() } else { marks.join(", ") };
                let sql = format!(
                    "{base} AND (c.assignee_id = $1 OR c.department_id IN ({depts})) ORDER BY c.updated_at DESC LIMIT 500"
                );
                on_read!(self, |pool| {
                    let mut q = sqlx::query_as(&sql).bind(agent_id);
                    for d in ds {
                        q = q.bind(d);
                    }
                    q.fetch_all(pool).await
                })?
            }
        };
        Ok(rows)
    }

    /// A customer's chats, newest first (their history on any device).
    pub async fn customer_chats(&self, customer_id: &str, limit: i64) -> Result<Vec<(Conversation, Chat)>> {
        let sql = format!(
            "SELECT {} FROM conversations c WHERE c.customer_id = $1 AND c.kind = 'chat' ORDER BY c.created_at DESC LIMIT $2",
            CONVERSATION_COLS.split(", ").map(|col| format!("c.{col}")).collect::<Vec<_>>().join(", ")
        );
        let convs: Vec<Conversation> =
            on_read!(self, |pool| sqlx::query_as(&sql).bind(customer_id).bind(limit).fetch_all(pool).await)?;
        let mut out = Vec::with_capacity(convs.len());
        for c in convs {
            if let Some((_, ch)) = self.chat(&c.id).await? {
                out.push((c, ch));
            }
        }
        Ok(out)
    }

    /// Canned replies in a language.
    pub async fn canned_replies(&self, lang: Lang) -> Result<Vec<CannedReply>> {
        let rows = on_read!(self, |pool| sqlx::query_as(
            "SELECT id, shortcut, lang, title, body FROM canned_replies WHERE lang = $1 ORDER BY shortcut"
        )
        .bind(lang.as_str())
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }
}
