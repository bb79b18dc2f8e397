//! What the ticket search indexes (a ticket's row and the bodies of its messages), and the hook through which
//! it hears of every committed change to a ticket. The search index lives outside the store; the store only says
//! "this ticket changed" and answers the reads that rebuild it.

use crate::rows::CONVERSATION_COLS;
use crate::{Conversation, Result, Store, on_read};
use std::sync::{Arc, RwLock};

/// Called with a ticket's id after a change to it was committed.
pub type TicketListener = Arc<dyn Fn(&str) + Send + Sync>;

/// The listeners of a store (shared by its clones).
#[derive(Default)]
pub(crate) struct Listeners(RwLock<Vec<TicketListener>>);

/// A ticket with the text of its messages, as the search index reads it.
#[derive(Debug, Clone)]
pub struct TicketText {
    pub conversation: Conversation,
    /// Message bodies in sequence order, each with whether it is an internal note.
    pub messages: Vec<(String, bool)>,
}

impl Store {
    /// Calls `f` with a ticket's id after every committed change to it: creation, a message or note, any change
    /// of its columns (status, assignee, department, ...), a merge, a follow-up. `f` runs on the writing task,
    /// so it must only take note (queue the id) and do its work elsewhere.
    pub fn on_ticket_change(&self, f: impl Fn(&str) + Send + Sync + 'static) {
        let mut l = self.listeners.0.write().unwrap_or_else(|p| p.into_inner());
        l.push(Arc::new(f));
    }

    /// Tells the listeners that a ticket changed (after the commit).
    pub(crate) fn ticket_changed(&self, id: &str) {
        let l = self.listeners.0.read().unwrap_or_else(|p| p.into_inner());
        for f in l.iter() {
            f(id);
        }
    }

    /// Up to `limit` tickets with ids greater than `after_id`, in id order, with their messages: a page of a
    /// full rebuild of the search index.
    pub async fn ticket_texts(&self, after_id: Option<&str>, limit: usize) -> Result<Vec<TicketText>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLS} FROM conversations WHERE kind = 'ticket' AND id > $1 ORDER BY id LIMIT $2"
        );
        let after = after_id.unwrap_or("");
        let limit = limit.clamp(1, 1000) as i64;
        let convs: Vec<Conversation> =
            on_read!(self, |pool| sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(pool).await)?;
        self.with_messages(convs).await
    }

    /// One ticket with its messages; `None` when there is no such ticket (or the conversation is not a ticket).
    pub async fn ticket_text(&self, id: &str) -> Result<Option<TicketText>> {
        Ok(self.ticket_texts_of(&[id.to_string()]).await?.pop())
    }

    /// The tickets among `ids` with their messages, in no particular order; ids that are no tickets (or
    /// nothing) are left out.
    pub async fn ticket_texts_of(&self, ids: &[String]) -> Result<Vec<TicketText>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {CONVERSATION_COLS} FROM conversations WHERE kind = 'ticket' AND id IN ({})",
                marks.join(", ")
            );
            let convs: Vec<Conversation> = on_read!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(self.with_messages(convs).await?);
        }
        Ok(out)
    }

    async fn with_messages(&self, convs: Vec<Conversation>) -> Result<Vec<TicketText>> {
        if convs.is_empty() {
            return Ok(vec![]);
        }
        let marks: Vec<String> = (1..=convs.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT conversation_id, body, internal FROM messages WHERE conversation_id IN ({}) \
             ORDER BY conversation_id, seq",
            marks.join(", ")
        );
        let rows: Vec<(String, String, bool)> = on_read!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for c in &convs {
                q = q.bind(&c.id);
            }
            q.fetch_all(pool).await
        })?;
        let mut out: Vec<TicketText> =
            convs.into_iter().map(|conversation| TicketText { conversation, messages: vec![] }).collect();
        let at: std::collections::HashMap<String, usize> =
            out.iter().enumerate().map(|(i, t)| (t.conversation.id.clone(), i)).collect();
        for (cid, body, internal) in rows {
            if let Some(&i) = at.get(&cid) {
                out[i].messages.push((body, internal));
            }
        }
        Ok(out)
    }
}
