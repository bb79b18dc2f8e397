//! Agents' availability for chats: online, away or offline, how many chats each takes at once, and the count of
//! active chats routing reads (kept in step by every transition, recounted at start).

use crate::{Result, Store, now_ms, on_read, on_write};
use lifebuoy_domain::Invalid;
use serde::Serialize;

/// An agent's availability for chats.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Presence {
    pub agent_id: String,
    pub status: String,
    pub capacity: i64,
    pub updated_at: i64,
}

/// The default number of chats an agent takes at once.
pub const DEFAULT_CAPACITY: i64 = 5;

impl Store {
    /// Counts each agent's active chats afresh (at start-up: the counters routing reads are kept in step by
    /// every transition, this repairs them should anything ever have been written around it).
    pub async fn recount_chat_load(&self) -> Result<()> {
        on_write!(self, |pool, lock| sqlx::query(
            "UPDATE agent_presence SET active_chats = (SELECT COUNT(*) FROM chats ch \
             JOIN conversations c ON c.id = ch.conversation_id \
             WHERE ch.state = 'active' AND c.assignee_id = agent_presence.agent_id)"
        )
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sets an agent's presence and capacity.
    pub async fn set_presence(&self, agent_id: &str, status: &str, capacity: Option<i64>) -> Result<Presence> {
        if !matches!(status, "online" | "away" | "offline") {
            return Err(Invalid::new("status", "online, away or offline").into());
        }
        if let Some(c) = capacity
            && !(1..=1000).contains(&c)
        {
            return Err(Invalid::new("capacity", "1 to 1000 chats").into());
        }
        let now = now_ms();
        on_write!(self, |pool, lock| {
            sqlx::query(
            "INSERT INTO agent_presence (agent_id, status, capacity, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (agent_id) DO UPDATE SET status = $2, capacity = COALESCE($5, agent_presence.capacity), updated_at = $4"
        )
        .bind(agent_id)
        .bind(status)
        .bind(capacity.unwrap_or(DEFAULT_CAPACITY))
        .bind(now)
        .bind(capacity)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        self.presence(agent_id).await
    }

    /// An agent's presence (offline with the default capacity when never set).
    pub async fn presence(&self, agent_id: &str) -> Result<Presence> {
        let p: Option<Presence> = on_read!(self, |pool| sqlx::query_as(
            "SELECT agent_id, status, capacity, updated_at FROM agent_presence WHERE agent_id = $1"
        )
        .bind(agent_id)
        .fetch_optional(pool)
        .await)?;
        Ok(p.unwrap_or(Presence {
            agent_id: agent_id.into(),
            status: "offline".into(),
            capacity: DEFAULT_CAPACITY,
            updated_at: 0,
        }))
    }

    /// Online agents with their active chat counts.
    pub async fn online_agents(&self) -> Result<Vec<(Presence, i64)>> {
        let rows: Vec<(String, String, i64, i64, i64)> = on_read!(self, |pool| {
            sqlx::query_as(
            "SELECT agent_id, status, capacity, updated_at, active_chats FROM agent_presence WHERE status = 'online'"
        )
        .fetch_all(pool)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(agent_id, status, capacity, updated_at, n)| (Presence { agent_id, status, capacity, updated_at }, n))
            .collect())
    }

    /// Whether any agent is online (the widget offers the message form when not). The `1` is cast to BIGINT:
    /// PostgreSQL's plain `1` is an INT4, which does not decode as the `i64` asked for (the answer was an error,
    /// read as "nobody online", on PostgreSQL only).
    pub async fn any_agent_online(&self) -> Result<bool> {
        let r: Option<(i64,)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT CAST(1 AS BIGINT) FROM agent_presence WHERE status = 'online' LIMIT 1"
        )
        .fetch_optional(pool)
        .await)?;
        Ok(r.is_some())
    }

    /// Whether some online agent has room for another chat (the queue sweeper asks before trying).
    pub async fn any_agent_with_room(&self) -> Result<bool> {
        let r: Option<(i64,)> = on_read!(self, |pool| {
            sqlx::query_as(
            "SELECT CAST(1 AS BIGINT) FROM agent_presence WHERE status = 'online' AND active_chats < capacity LIMIT 1"
        )
        .fetch_optional(pool)
        .await
        })?;
        Ok(r.is_some())
    }
}
