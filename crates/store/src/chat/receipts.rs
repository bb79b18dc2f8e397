//! How far each side of a chat has received and read (receipts never move backwards), and the customer's
//! rating of an ended chat.

use super::grouped_write;
use crate::{Conflict, Result, Store, now_ms, on_read, on_write};
use lifebuoy_domain::Invalid;

/// Which side of a chat a receipt is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Customer,
    Agent,
}

impl Store {
    /// The customer's rating of an ended chat (1–5, optional comment). Rating again replaces it.
    pub async fn rate_chat(
        &self,
        conversation_id: &str,
        customer_id: &str,
        score: i64,
        comment: Option<&str>,
    ) -> Result<()> {
        if !(1..=5).contains(&score) {
            return Err(Invalid::new("score", "1 to 5").into());
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > 2000) {
            return Err(Invalid::new("comment", "at most 2000 characters").into());
        }
        // The analytics fold reads the chat again (its change-log row, in the rating's transaction).
        let r = on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            let r = sqlx::query(
                "UPDATE chats SET csat_score = $3, csat_comment = $4, csat_at = $5 \
                 WHERE conversation_id = $1 AND customer_id = $2 AND state = 'ended'",
            )
            .bind(conversation_id)
            .bind(customer_id)
            .bind(score)
            .bind(comment)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if r > 0 {
                crate::index_log::log_changes(&mut *tx, crate::Indexed::Chat, &[conversation_id]).await?;
            }
            tx.commit().await?;
            Ok::<_, crate::StoreError>(r)
        })?;
        if r == 0 {
            return Err(Conflict::NotRateable.into());
        }
        Ok(())
    }

    /// Average rating and count per agent over ended chats.
    pub async fn csat_by_agent(&self) -> Result<Vec<(String, f64, i64)>> {
        let rows: Vec<(String, f64, i64)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT c.assignee_id, CAST(AVG(ch.csat_score) AS DOUBLE PRECISION), COUNT(*) FROM chats ch \
             JOIN conversations c ON c.id = ch.conversation_id \
             WHERE ch.csat_score IS NOT NULL AND c.assignee_id IS NOT NULL GROUP BY c.assignee_id"
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Records how far one side has received or read. Never moves backwards.
    pub async fn chat_receipt(&self, conversation_id: &str, side: Side, delivered: i64, read: i64) -> Result<()> {
        let sql = match side {
            Side::Customer => {
                "UPDATE chats SET customer_delivered_seq = CASE WHEN customer_delivered_seq < $2 THEN $2 ELSE customer_delivered_seq END, \
                 customer_read_seq = CASE WHEN customer_read_seq < $3 THEN $3 ELSE customer_read_seq END WHERE conversation_id = $1"
            }
            Side::Agent => {
                "UPDATE chats SET agent_delivered_seq = CASE WHEN agent_delivered_seq < $2 THEN $2 ELSE agent_delivered_seq END, \
                 agent_read_seq = CASE WHEN agent_read_seq < $3 THEN $3 ELSE agent_read_seq END WHERE conversation_id = $1"
            }
        };
        let (cid, sql) = (conversation_id.to_string(), sql.to_string());
        let delivered = delivered.max(read);
        grouped_write!(self, (), [cid, sql], |conn| {
            sqlx::query(&sql).bind(&cid).bind(delivered).bind(read).execute(&mut *conn).await?;
            Ok(())
        })
    }
}
