//! Alerts for staff (migration `0028_staff_alerts.sql`): what the console's alert list shows and what is
//! mailed to agents. Raised by `lifebuoy_app::alerts`.

use crate::{Result, Store, new_id, now_ms, on_read, on_write};
use serde::Serialize;

/// An alert to raise: one per agent and cause.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub agent_id: String,
    pub kind: String,
    pub cause: String,
    pub conversation_id: Option<String>,
    /// JSON.
    pub data: String,
}

/// An alert as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StaffAlert {
    pub id: String,
    pub agent_id: String,
    pub kind: String,
    pub cause: String,
    pub conversation_id: Option<String>,
    pub data: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub mailed_at: Option<i64>,
}

const COLS: &str = "id, agent_id, kind, cause, conversation_id, data, created_at, read_at, mailed_at";

impl Store {
    /// Raises alerts; one already raised for the same agent and cause is left as it is. Returns how many are new.
    pub async fn add_staff_alerts(&self, alerts: &[NewAlert]) -> Result<u64> {
        let mut added = 0;
        for a in alerts {
            let n = on_write!(self, |pool, _l| sqlx::query(
                "INSERT INTO staff_alerts (id, agent_id, kind, cause, conversation_id, data, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agent_id, cause) DO NOTHING"
            )
            .bind(new_id())
            .bind(&a.agent_id)
            .bind(&a.kind)
            .bind(&a.cause)
            .bind(&a.conversation_id)
            .bind(&a.data)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
            added += n;
        }
        Ok(added)
    }

    /// An agent's latest alerts, newest first.
    pub async fn staff_alerts(&self, agent_id: &str, limit: i64) -> Result<Vec<StaffAlert>> {
        let sql = format!("SELECT {COLS} FROM staff_alerts WHERE agent_id = $1 ORDER BY created_at DESC, id LIMIT $2");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(agent_id).bind(limit).fetch_all(pool).await)?)
    }

    /// How many of an agent's alerts are unread.
    pub async fn unread_staff_alerts(&self, agent_id: &str) -> Result<i64> {
        let (n,): (i64,) = on_read!(self, |pool| sqlx::query_as(
            "SELECT COUNT(*) FROM staff_alerts WHERE agent_id = $1 AND read_at IS NULL"
        )
        .bind(agent_id)
        .fetch_one(pool)
        .await)?;
        Ok(n)
    }

    /// Marks all of an agent's alerts read.
    pub async fn read_staff_alerts(&self, agent_id: &str) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "UPDATE staff_alerts SET read_at = $2 WHERE agent_id = $1 AND read_at IS NULL"
        )
        .bind(agent_id)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Alerts not mailed yet, oldest first.
    pub async fn unmailed_staff_alerts(&self, limit: i64) -> Result<Vec<StaffAlert>> {
        let sql = format!("SELECT {COLS} FROM staff_alerts WHERE mailed_at IS NULL ORDER BY created_at, id LIMIT $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(limit).fetch_all(pool).await)?)
    }

    /// Notes that an alert's mail went out.
    pub async fn staff_alert_mailed(&self, id: &str) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query("UPDATE staff_alerts SET mailed_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// How many conversations a topic (category and asset) had in a window.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TopicCount {
    pub category: String,
    /// Upper case; empty when the case names none.
    pub asset: String,
    pub n: i64,
}

/// A conversation shown as an example of a topic.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TopicExample {
    pub id: String,
    pub kind: String,
    pub case_number: Option<String>,
    pub subject: String,
    pub created_at: i64,
}

impl Store {
    /// Conversations customers opened (tickets, mail, chats) per topic, created in `[since, until)`.
    pub async fn topic_counts(&self, since: i64, until: i64) -> Result<Vec<TopicCount>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT category, UPPER(COALESCE(asset, '')) AS asset, COUNT(*) AS n FROM conversations \
             WHERE created_at >= $1 AND created_at < $2 AND kind IN ('ticket', 'email', 'chat') \
             GROUP BY category, UPPER(COALESCE(asset, ''))"
        )
        .bind(since)
        .bind(until)
        .fetch_all(pool)
        .await)?)
    }

    /// The latest conversations of a topic since `since`.
    pub async fn topic_examples(
        &self,
        category: &str,
        asset: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<TopicExample>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, kind, case_number, subject, created_at FROM conversations \
             WHERE created_at >= $1 AND category = $2 AND UPPER(COALESCE(asset, '')) = $3 \
             AND kind IN ('ticket', 'email', 'chat') ORDER BY created_at DESC, id LIMIT $4"
        )
        .bind(since)
        .bind(category)
        .bind(asset)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }
}
