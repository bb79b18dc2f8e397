//! The registry of official channels (migration `0018_trust.sql`): domains, addresses, phone numbers, handles
//! and agent numbers the exchange vouches for. The rules (normal forms, who may edit) are
//! `lifebuoy_app::trust`'s; this stores what they decided.

use crate::{Result, Store, new_id, now_ms, on_read, on_write};
use lifebuoy_domain::Invalid;
use serde::Serialize;

/// One official channel.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TrustChannel {
    pub id: String,
    /// `domain`, `email`, `phone`, `telegram`, `x`, `discord`, `wechat` or `agent_no`.
    pub kind: String,
    /// The normal form.
    pub value: String,
    /// What it is, as customers are told (`Official help center`, `官方客服邮箱`).
    pub label: String,
    pub added_by: Option<String>,
    pub created_at: i64,
}

const COLS: &str = "id, kind, value, label, added_by, created_at";

impl Store {
    /// Every official channel, by kind and value.
    pub async fn trust_channels(&self) -> Result<Vec<TrustChannel>> {
        let sql = format!("SELECT {COLS} FROM trust_channels ORDER BY kind, value");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// Adds an official channel (values already normal), or relabels it when it is listed already.
    pub async fn put_trust_channel(
        &self,
        kind: &str,
        value: &str,
        label: &str,
        added_by: Option<&str>,
    ) -> Result<TrustChannel> {
        let sql = format!(
            "INSERT INTO trust_channels ({COLS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (kind, value) DO UPDATE SET label = excluded.label RETURNING {COLS}"
        );
        let id = new_id();
        Ok(on_write!(self, |pool, _l| sqlx::query_as(&sql)
            .bind(&id)
            .bind(kind)
            .bind(value)
            .bind(label)
            .bind(added_by)
            .bind(now_ms())
            .fetch_one(pool)
            .await)?)
    }

    /// Removes an official channel; whether it was listed.
    pub async fn remove_trust_channel(&self, id: &str) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query("DELETE FROM trust_channels WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The active agent with this number (upper case), as `(display name, agent number)`.
    pub async fn active_agent_by_no(&self, agent_no: &str) -> Result<Option<(String, String)>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT display_name, agent_no FROM agents WHERE upper(agent_no) = $1 AND active = TRUE"
        )
        .bind(agent_no)
        .fetch_optional(pool)
        .await)?)
    }
}

impl Store {
    /// Appends one event to a conversation's timeline, in its own transaction, and announces it after the
    /// commit. For marks that follow a write they describe (the secret guard's `secret_redacted`, written
    /// right after the redacted message).
    pub async fn append_event(
        &self,
        conversation_id: &str,
        actor: &crate::Actor,
        event: &lifebuoy_domain::Event,
    ) -> Result<crate::Conversation> {
        use crate::conversations::push_event;
        let mut c: crate::Conversation = on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            let sql = format!("SELECT {} FROM conversations WHERE id = $1{lock}", crate::rows::CONVERSATION_COLS);
            let mut c: crate::Conversation = sqlx::query_as(&sql)
                .bind(conversation_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(crate::StoreError::NotFound)?;
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
            Ok::<_, crate::StoreError>(c)
        })?;
        self.committed(&mut c, None);
        Ok(c)
    }
}

/// Inside a transaction: locks a conversation, appends `$event` (and, when given, a public message by the
/// actor), saves its sequence and time, and runs the outbox rules; evaluates to the conversation.
macro_rules! append_in_tx {
    ($outbox:expr, $tx:expr, $lock:expr, $conversation_id:expr, $actor:expr, $event:expr, $message:expr, $now:expr) => {{
        use crate::conversations::{push_event, push_message};
        let sql = format!("SELECT {} FROM conversations WHERE id = $1{}", crate::rows::CONVERSATION_COLS, $lock);
        let mut c: crate::Conversation = sqlx::query_as(&sql)
            .bind($conversation_id)
            .fetch_optional(&mut *$tx)
            .await?
            .ok_or(crate::StoreError::NotFound)?;
        c.updated_at = $now;
        push_event!($tx, c, $actor, $event);
        if let Some(body) = $message {
            let none: &[String] = &[];
            let _ = push_message!($tx, c, $actor, body, false, None::<String>, none);
        }
        sqlx::query("UPDATE conversations SET last_seq = $2, updated_at = $3 WHERE id = $1")
            .bind(&c.id)
            .bind(c.last_seq)
            .bind(c.updated_at)
            .execute(&mut *$tx)
            .await?;
        crate::commits::enqueue_outbox!($outbox, $tx, c);
        c
    }};
}

/// A customer's "my account may be stolen" (migration `0019_emergencies.sql`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Emergency {
    pub id: String,
    /// The urgent security case opened for it.
    pub conversation_id: String,
    pub customer_id: String,
    /// `awaiting_confirmation`, `confirmed`, `frozen` or `failed`.
    pub state: String,
    /// When the customer last signed in on the exchange, per the fresh identity token that confirmed it (s).
    pub auth_time: Option<i64>,
    pub confirmed_at: Option<i64>,
    /// The exchange's answer to the freeze call: its HTTP status and (the start of) its body.
    pub answer_status: Option<i64>,
    pub answer: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const EMERGENCY_COLS: &str = "id, conversation_id, customer_id, state, auth_time, confirmed_at, answer_status, \
    answer, created_at, updated_at";

/// An agent's request that the customer re-verify before an account action.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StepUp {
    pub id: String,
    pub conversation_id: String,
    pub customer_id: String,
    /// `unlock`, `2fa_reset`, `whitelist_change` or `other`.
    pub action: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub completed_at: Option<i64>,
    pub auth_time: Option<i64>,
}

const STEP_UP_COLS: &str =
    "id, conversation_id, customer_id, action, requested_by, requested_at, completed_at, auth_time";

impl Store {
    /// Notes an emergency for a case just opened.
    pub async fn open_emergency(&self, conversation_id: &str, customer_id: &str) -> Result<Emergency> {
        let (id, now) = (new_id(), now_ms());
        let sql = format!(
            "INSERT INTO account_emergencies ({EMERGENCY_COLS}) \
             VALUES ($1, $2, $3, 'awaiting_confirmation', NULL, NULL, NULL, NULL, $4, $4) RETURNING {EMERGENCY_COLS}"
        );
        Ok(on_write!(self, |pool, _l| sqlx::query_as(&sql)
            .bind(&id)
            .bind(conversation_id)
            .bind(customer_id)
            .bind(now)
            .fetch_one(pool)
            .await)?)
    }

    pub async fn emergency(&self, id: &str) -> Result<Option<Emergency>> {
        let sql = format!("SELECT {EMERGENCY_COLS} FROM account_emergencies WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// Confirms an emergency awaiting it, in one transaction: its state, the event on its case, and the jobs
    /// (the freeze call). An emergency confirmed already is [`crate::Conflict::AlreadyDone`].
    pub async fn confirm_emergency(
        &self,
        id: &str,
        auth_time: i64,
        actor: &crate::Actor,
        event: &lifebuoy_domain::Event,
        jobs: &[crate::NewJob],
    ) -> Result<(Emergency, crate::Conversation)> {
        let now = now_ms();
        let (e, mut c) = on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            let upd = format!(
                "UPDATE account_emergencies SET state = 'confirmed', auth_time = $2, confirmed_at = $3, updated_at = $3 \
                 WHERE id = $1 AND state = 'awaiting_confirmation' RETURNING {EMERGENCY_COLS}"
            );
            let e: Option<Emergency> =
                sqlx::query_as(&upd).bind(id).bind(auth_time).bind(now).fetch_optional(&mut *tx).await?;
            let Some(e) = e else {
                return match self.emergency(id).await? {
                    Some(_) => Err(crate::StoreError::Conflict(crate::Conflict::AlreadyDone)),
                    None => Err(crate::StoreError::NotFound),
                };
            };
            let c = append_in_tx!(self.outbox, tx, lock, &e.conversation_id, actor, event, None::<&str>, now);
            crate::jobs::insert_jobs(&mut *tx, jobs, now).await?;
            tx.commit().await?;
            Ok::<_, crate::StoreError>((e, c))
        })?;
        c.enqueued |= !jobs.is_empty();
        self.committed(&mut c, None);
        Ok((e, c))
    }

    /// Records the exchange's answer to the freeze call: the emergency's state, the event, and a message to the
    /// customer on its case (what happened, what to do next), in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn answer_emergency(
        &self,
        id: &str,
        state: &str,
        status: Option<i64>,
        answer: &str,
        event: &lifebuoy_domain::Event,
        message: &str,
    ) -> Result<Emergency> {
        let now = now_ms();
        let (e, mut c) = on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            let upd = format!(
                "UPDATE account_emergencies SET state = $2, answer_status = $3, answer = $4, updated_at = $5 \
                 WHERE id = $1 AND state = 'confirmed' RETURNING {EMERGENCY_COLS}"
            );
            let e: Option<Emergency> = sqlx::query_as(&upd)
                .bind(id)
                .bind(state)
                .bind(status)
                .bind(answer)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(e) = e else { return Err(crate::StoreError::Conflict(crate::Conflict::AlreadyDone)) };
            let c = append_in_tx!(
                self.outbox,
                tx,
                lock,
                &e.conversation_id,
                &crate::Actor::System,
                event,
                Some(message),
                now
            );
            tx.commit().await?;
            Ok::<_, crate::StoreError>((e, c))
        })?;
        self.committed(&mut c, None);
        Ok(e)
    }

    /// An agent asks the customer of a conversation to re-verify; the event is written with the request.
    pub async fn request_step_up(
        &self,
        conversation_id: &str,
        customer_id: &str,
        action: &str,
        actor: &crate::Actor,
        event_of: impl FnOnce(&str) -> lifebuoy_domain::Event,
    ) -> Result<StepUp> {
        let (id, now) = (new_id(), now_ms());
        let event = event_of(&id);
        let by = actor.id().unwrap_or("system").to_string();
        let (s, mut c) = on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            let ins = format!(
                "INSERT INTO step_ups ({STEP_UP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL) RETURNING {STEP_UP_COLS}"
            );
            let s: StepUp = sqlx::query_as(&ins)
                .bind(&id)
                .bind(conversation_id)
                .bind(customer_id)
                .bind(action)
                .bind(&by)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            let c = append_in_tx!(self.outbox, tx, lock, conversation_id, actor, &event, None::<&str>, now);
            tx.commit().await?;
            Ok::<_, crate::StoreError>((s, c))
        })?;
        self.committed(&mut c, None);
        Ok(s)
    }

    pub async fn step_up(&self, id: &str) -> Result<Option<StepUp>> {
        let sql = format!("SELECT {STEP_UP_COLS} FROM step_ups WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// The customer completed a step-up with a fresh token: when, and the token's `auth_time`, with the event.
    pub async fn complete_step_up(
        &self,
        id: &str,
        auth_time: i64,
        actor: &crate::Actor,
        event: &lifebuoy_domain::Event,
    ) -> Result<StepUp> {
        let now = now_ms();
        let (s, mut c) = on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            let upd = format!(
                "UPDATE step_ups SET completed_at = $2, auth_time = $3 WHERE id = $1 AND completed_at IS NULL \
                 RETURNING {STEP_UP_COLS}"
            );
            let s: Option<StepUp> =
                sqlx::query_as(&upd).bind(id).bind(now).bind(auth_time).fetch_optional(&mut *tx).await?;
            let Some(s) = s else { return Err(crate::StoreError::Conflict(crate::Conflict::AlreadyDone)) };
            let c = append_in_tx!(self.outbox, tx, lock, &s.conversation_id, actor, event, None::<&str>, now);
            tx.commit().await?;
            Ok::<_, crate::StoreError>((s, c))
        })?;
        self.committed(&mut c, None);
        Ok(s)
    }
}
