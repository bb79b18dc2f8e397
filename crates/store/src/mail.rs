//! The email channel's own records: which mails (by Message-ID) belong to which conversation, in and out, the
//! customer a sender's address stands for, and the mails refused at the door with their reason.

use crate::chat::grouped_write;
use crate::{Customer, Result, Store, new_id, now_ms, on_read};

/// One mail of a conversation's thread.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MailRecord {
    /// Without angle brackets.
    pub message_id: String,
    pub conversation_id: String,
    /// `in` or `out`.
    pub direction: String,
    pub message_row_id: Option<String>,
    pub created_at: i64,
}

/// A refused mail, as the console lists it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct MailRejection {
    pub id: String,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub reason: String,
    pub created_at: i64,
}

impl Store {
    /// The customer a mail's sender stands for: the one customer of that address who reached support without
    /// an exchange account (a guest, who sees the same cases after signing in to the portal with a code sent
    /// there), created on first contact. The name is kept from the first mail that gave one.
    pub async fn mail_customer(&self, email: &str, name: Option<&str>) -> Result<Customer> {
        let email = email.trim().to_lowercase();
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let now = now_ms();
        let id = new_id();
        let name = name.map(str::to_string);
        // Through the group-commit writer on SQLite, as are the other mail records here: a mail taken in writes its
        // sender, its case and its Message-ID, and each on its own commit would be an fsync (2.7 ms on the
        // benchmark's disk), capping mail in near 180 a second; in the writer's batch they share one.
        let c: Customer = grouped_write!(self, Customer, [id, email, name], |conn| {
            Ok(sqlx::query_as(
                "INSERT INTO customers (id, kind, email, name, created_at, updated_at) VALUES ($1, 'guest', $2, $3, $4, $4) \
                 ON CONFLICT (email) WHERE kind = 'guest' DO UPDATE SET name = COALESCE(customers.name, excluded.name) \
                 RETURNING id, external_id, kind, email, name, lang, created_at",
            )
            .bind(id)
            .bind(email)
            .bind(name)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?)
        })?;
        Ok(c)
    }

    /// The conversation a mail of `ids` (Message-IDs from In-Reply-To and References, any order) belongs to,
    /// if any: the one of the most recent such mail.
    pub async fn mail_thread(&self, ids: &[String]) -> Result<Option<String>> {
        if ids.is_empty() {
            return Ok(None);
        }
        let ids: Vec<String> = ids.iter().take(100).cloned().collect();
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT conversation_id FROM mail_messages WHERE message_id IN ({}) ORDER BY created_at DESC LIMIT 1",
            marks.join(", ")
        );
        let row: Option<(String,)> = on_read!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_optional(pool).await
        })?;
        Ok(row.map(|r| r.0))
    }

    /// Whether a mail with this Message-ID was taken already.
    pub async fn mail_known(&self, message_id: &str) -> Result<Option<MailRecord>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT message_id, conversation_id, direction, message_row_id, created_at FROM mail_messages \
             WHERE message_id = $1"
        )
        .bind(message_id)
        .fetch_optional(pool)
        .await)?)
    }

    /// Notes a mail of a conversation (a second note of the same Message-ID is a no-op).
    pub async fn record_mail(
        &self,
        message_id: &str,
        conversation_id: &str,
        direction: &str,
        message_row_id: Option<&str>,
    ) -> Result<()> {
        let (message_id, conversation_id, direction) =
            (message_id.to_string(), conversation_id.to_string(), direction.to_string());
        let row_id = message_row_id.map(str::to_string);
        let now = now_ms();
        grouped_write!(self, u64, [message_id, conversation_id, direction, row_id], |conn| {
            Ok(sqlx::query(
                "INSERT INTO mail_messages (message_id, conversation_id, direction, message_row_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING",
            )
            .bind(message_id)
            .bind(conversation_id)
            .bind(direction)
            .bind(row_id)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected())
        })?;
        Ok(())
    }

    /// A conversation's mails, oldest first (the References of a reply).
    pub async fn mail_thread_records(&self, conversation_id: &str) -> Result<Vec<MailRecord>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT message_id, conversation_id, direction, message_row_id, created_at FROM mail_messages \
             WHERE conversation_id = $1 ORDER BY created_at, message_id LIMIT 200"
        )
        .bind(conversation_id)
        .fetch_all(pool)
        .await)?)
    }

    /// Notes a mail refused at the door, with why.
    pub async fn record_mail_rejection(
        &self,
        message_id: Option<&str>,
        sender: Option<&str>,
        subject: Option<&str>,
        reason: &str,
    ) -> Result<()> {
        let (id, message_id, sender) = (new_id(), message_id.map(str::to_string), sender.map(str::to_string));
        let subject = subject.map(|s| s.chars().take(300).collect::<String>());
        let (reason, now) = (reason.to_string(), now_ms());
        grouped_write!(self, u64, [id, message_id, sender, subject, reason], |conn| {
            Ok(sqlx::query(
                "INSERT INTO mail_rejections (id, message_id, sender, subject, reason, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(message_id)
            .bind(sender)
            .bind(subject)
            .bind(reason)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected())
        })?;
        Ok(())
    }

    /// The latest refused mails, newest first.
    pub async fn mail_rejections(&self, limit: i64) -> Result<Vec<MailRejection>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, message_id, sender, subject, reason, created_at FROM mail_rejections \
             ORDER BY created_at DESC LIMIT $1"
        )
        .bind(limit.clamp(1, 1000))
        .fetch_all(pool)
        .await)?)
    }
}
