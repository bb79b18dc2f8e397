//! What the ticket search indexes: a ticket's row and the bodies of its messages. The search index lives outside
//! the store; it hears of changes through the post-commit stream ([`Store::on_commit`]) and reads here what it
//! (re)builds from.

use crate::rows::{CASE_KINDS_SQL, CONVERSATION_COLS};
use crate::{Conversation, Result, Store, on_read};

/// A ticket with the text of its messages, as the search index reads it.
#[derive(Debug, Clone)]
pub struct TicketText {
    pub conversation: Conversation,
    /// Message bodies in sequence order, each with whether it is an internal note.
    pub messages: Vec<(String, bool)>,
}

impl Store {
    /// Up to `limit` tickets with ids greater than `after_id`, in id order, with their messages: a page of a
    /// full rebuild of the search index.
    pub async fn ticket_texts(&self, after_id: Option<&str>, limit: usize) -> Result<Vec<TicketText>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLS} FROM conversations WHERE {CASE_KINDS_SQL} AND id > $1 ORDER BY id LIMIT $2"
        );
        let after = after_id.unwrap_or("");
        let limit = limit.clamp(1, 1000) as i64;
        let convs: Vec<Conversation> =
            on_read!(self, |pool| sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(pool).await)?;
        self.with_messages(convs).await
    }

    /// How many tickets there are (what a full build of the ticket index reads).
    pub async fn count_tickets(&self) -> Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM conversations WHERE {CASE_KINDS_SQL}");
        let n: i64 = on_read!(self, |pool| sqlx::query_scalar(&sql).fetch_one(pool).await)?;
        Ok(n.max(0) as u64)
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
                "SELECT {CONVERSATION_COLS} FROM conversations WHERE {CASE_KINDS_SQL} AND id IN ({})",
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
