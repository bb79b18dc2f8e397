//! Announcements and the cases linked to them (migration `0023_announcements.sql`). What they say and who may
//! publish is `lifebuoy_app::announcements`'s.

use crate::{Result, Store, new_id, now_ms, on_read, on_write};
use serde::Serialize;

/// A notice as stored: title and body per language, topics, when it shows.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Announcement {
    pub id: String,
    /// JSON `{lang: text}`.
    pub title: String,
    /// JSON `{lang: text}`.
    pub body: String,
    /// JSON array of categories.
    pub topics: String,
    pub severity: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_by: String,
    pub created_at: i64,
    pub withdrawn_at: Option<i64>,
    pub withdrawn_by: Option<String>,
}

const COLS: &str =
    "id, title, body, topics, severity, starts_at, ends_at, created_by, created_at, withdrawn_at, withdrawn_by";

/// A new notice.
#[derive(Debug, Clone)]
pub struct NewAnnouncement {
    pub title: String,
    pub body: String,
    pub topics: String,
    pub severity: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_by: String,
}

impl Store {
    pub async fn add_announcement(&self, a: &NewAnnouncement) -> Result<Announcement> {
        let sql = format!(
            "INSERT INTO announcements ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL) RETURNING {COLS}"
        );
        Ok(on_write!(self, |pool, _l| sqlx::query_as(&sql)
            .bind(new_id())
            .bind(&a.title)
            .bind(&a.body)
            .bind(&a.topics)
            .bind(&a.severity)
            .bind(a.starts_at)
            .bind(a.ends_at)
            .bind(&a.created_by)
            .bind(now_ms())
            .fetch_one(pool)
            .await)?)
    }

    pub async fn announcement(&self, id: &str) -> Result<Option<Announcement>> {
        let sql = format!("SELECT {COLS} FROM announcements WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// The notices showing at `at`: started, not ended, not withdrawn; the latest first.
    pub async fn live_announcements(&self, at: i64) -> Result<Vec<Announcement>> {
        let sql = format!(
            "SELECT {COLS} FROM announcements WHERE withdrawn_at IS NULL AND ends_at > $1 AND starts_at <= $1 \
             ORDER BY starts_at DESC, id LIMIT 20"
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(at).fetch_all(pool).await)?)
    }

    /// Every notice, the latest first (staff).
    pub async fn announcements(&self, limit: i64) -> Result<Vec<Announcement>> {
        let sql = format!("SELECT {COLS} FROM announcements ORDER BY created_at DESC, id LIMIT $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(limit.clamp(1, 500)).fetch_all(pool).await)?)
    }

    /// Takes a notice down now. `false` when it was already withdrawn.
    pub async fn withdraw_announcement(&self, id: &str, by: &str) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query(
            "UPDATE announcements SET withdrawn_at = $2, withdrawn_by = $3 WHERE id = $1 AND withdrawn_at IS NULL"
        )
        .bind(id)
        .bind(now_ms())
        .bind(by)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Links a case to a notice and writes `event` (the `incident_linked` the customer sees) in the same
    /// transaction; `false`, and nothing written, when it already was linked.
    pub async fn link_announcement_case(
        &self,
        id: &str,
        conversation_id: &str,
        by: &str,
        actor: &crate::Actor,
        event: &lifebuoy_domain::Event,
    ) -> Result<bool> {
        use crate::conversations::push_event;
        let done: Option<crate::Conversation> = on_write!(self, |pool, lock| async {
            let mut tx = pool.begin().await?;
            let sql = format!("SELECT {} FROM conversations WHERE id = $1{lock}", crate::rows::CONVERSATION_COLS);
            let mut c: crate::Conversation = sqlx::query_as(&sql)
                .bind(conversation_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(crate::StoreError::NotFound)?;
            let n = sqlx::query(
                "INSERT INTO announcement_cases (announcement_id, conversation_id, linked_by, linked_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(conversation_id)
            .bind(by)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(None);
            }
            c.updated_at = now_ms();
            push_event!(tx, c, actor, event);
            sqlx::query("UPDATE conversations SET last_seq = $2, updated_at = $3 WHERE id = $1")
                .bind(&c.id)
                .bind(c.last_seq)
                .bind(c.updated_at)
                .execute(&mut *tx)
                .await?;
            crate::commits::enqueue_outbox!(self.outbox, tx, c);
            tx.commit().await?;
            Ok::<_, crate::StoreError>(Some(c))
        }
        .await)?;
        match done {
            Some(mut c) => {
                self.committed(&mut c, None);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The cases linked to a notice, oldest link first.
    pub async fn announcement_cases(&self, id: &str) -> Result<Vec<crate::Conversation>> {
        let cols = crate::rows::prefixed("c.", crate::rows::CONVERSATION_COLS);
        let sql = format!(
            "SELECT {cols} FROM announcement_cases l JOIN conversations c ON c.id = l.conversation_id \
             WHERE l.announcement_id = $1 AND c.deleted_at IS NULL ORDER BY l.linked_at, c.id"
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_all(pool).await)?)
    }
}
