//! Retention and privacy (migration `0015_retention_policies.sql`): each channel's retention policy, the purge's
//! log, the conversations a retention rule or the recovery window makes due, what supervisors see of deleted
//! conversations, and the customers' data requests with the profile changes they lead to. Holds, deletion and
//! erasure themselves are in `records.rs`.

use crate::{Customer, Result, Store, StoreError, new_id, now_ms, on_read, on_write};
use serde::Serialize;

/// How long a channel keeps its finished conversations.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RetentionPolicy {
    /// `chat`, `ticket` or `email`.
    pub channel: String,
    /// Days after the last activity of a solved or closed conversation; `None`: kept forever.
    pub keep_days: Option<i64>,
    pub updated_by: String,
    pub updated_at: i64,
}

/// One rule's work in one run of the purge.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PurgeLogRow {
    pub id: String,
    pub at: i64,
    /// `recovery_window`, or `retention:<channel>:<days>d`.
    pub rule: String,
    pub erased: i64,
    /// JSON array of conversation ids.
    pub erased_ids: String,
    pub held: i64,
    /// JSON array of the conversation ids a legal hold kept.
    pub held_ids: String,
}

/// A deleted conversation not yet erased, as supervisors list them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeletedRow {
    pub id: String,
    pub kind: String,
    pub case_number: Option<String>,
    pub subject: String,
    pub customer_id: String,
    pub deleted_at: i64,
    pub deleted_by: Option<String>,
}

/// Where a conversation stands as to deletion.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct DeletionState {
    pub deleted_at: Option<i64>,
    pub deleted_by: Option<String>,
    pub erased_at: Option<i64>,
}

/// A customer's request about their data.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DataRequest {
    pub id: String,
    pub customer_id: String,
    /// `access`, `correction` or `erasure`.
    pub kind: String,
    /// A correction's field: `name`, `email` or `lang`.
    pub field: Option<String>,
    /// A correction's new value.
    pub value: Option<String>,
    /// The customer's own words.
    pub note: Option<String>,
    /// `open`, `done` or `refused`.
    pub status: String,
    pub filed_at: i64,
    pub due_at: i64,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<String>,
    /// Refused: why; done: what was done.
    pub outcome: Option<String>,
}

const REQUEST_COLS: &str =
    "id, customer_id, kind, field, value, note, status, filed_at, due_at, resolved_at, resolved_by, outcome";

/// A live legal hold covers the conversation `c` (an alias of `conversations`) or its customer.
pub(crate) const HELD_SQL: &str = "EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at IS NULL \
    AND (h.conversation_id = c.id OR h.customer_id = c.customer_id))";

impl Store {
    /// Every channel's policy that admins set (a channel without one keeps everything).
    pub async fn retention_policies(&self) -> Result<Vec<RetentionPolicy>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT channel, keep_days, updated_by, updated_at FROM retention_policies ORDER BY channel"
        )
        .fetch_all(pool)
        .await)?)
    }

    /// Sets a channel's policy (`keep_days` `None`: keep forever).
    pub async fn set_retention_policy(&self, channel: &str, keep_days: Option<i64>, by: &str) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO retention_policies (channel, keep_days, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (channel) DO UPDATE SET keep_days = excluded.keep_days, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at"
        )
        .bind(channel)
        .bind(keep_days)
        .bind(by)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Solved or closed conversations of `kind` last active before `before`, not erased; with `held`, only
    /// those a live legal hold covers, else only those none covers. Oldest first, at most `limit` (the
    /// `conversations_retention` index).
    pub async fn due_for_retention(&self, kind: &str, before: i64, held: bool, limit: i64) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT c.id FROM conversations c WHERE c.kind = $1 AND (c.status = 'solved' OR c.status = 'closed') \
             AND c.erased_at IS NULL AND c.updated_at < $2 AND {}{HELD_SQL} ORDER BY c.updated_at LIMIT {}",
            if held { "" } else { "NOT " },
            limit.clamp(1, 1000)
        );
        Ok(on_read!(self, |pool| sqlx::query_scalar(&sql).bind(kind).bind(before).fetch_all(pool).await)?)
    }

    /// Deleted conversations past `before` that a live legal hold keeps from the purge (at most `limit`).
    pub async fn held_deleted(&self, before: i64, limit: i64) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT c.id FROM conversations c WHERE c.deleted_at IS NOT NULL AND c.deleted_at < $1 \
             AND c.erased_at IS NULL AND {HELD_SQL} ORDER BY c.deleted_at LIMIT {}",
            limit.clamp(1, 1000)
        );
        Ok(on_read!(self, |pool| sqlx::query_scalar(&sql).bind(before).fetch_all(pool).await)?)
    }

    /// Notes what one rule of the purge erased and what holds kept.
    pub async fn log_purge(&self, rule: &str, erased: &[String], held: &[String]) -> Result<PurgeLogRow> {
        let json = |ids: &[String]| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        let row = PurgeLogRow {
            id: new_id(),
            at: now_ms(),
            rule: rule.to_owned(),
            erased: erased.len() as i64,
            erased_ids: json(erased),
            held: held.len() as i64,
            held_ids: json(held),
        };
        let r = row.clone();
        on_write!(self, |pool, _l| {
            sqlx::query(
            "INSERT INTO purge_log (id, at, rule, erased, erased_ids, held, held_ids) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(&r.id)
        .bind(r.at)
        .bind(&r.rule)
        .bind(r.erased)
        .bind(&r.erased_ids)
        .bind(r.held)
        .bind(&r.held_ids)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(row)
    }

    /// The purge's log, newest first.
    pub async fn purge_log(&self, limit: i64) -> Result<Vec<PurgeLogRow>> {
        let sql = format!(
            "SELECT id, at, rule, erased, erased_ids, held, held_ids FROM purge_log ORDER BY at DESC, id LIMIT {}",
            limit.clamp(1, 500)
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// Deleted conversations not yet erased, the first to be purged first (the `conversations_deleted` index).
    pub async fn deleted_conversations(&self, limit: i64) -> Result<Vec<DeletedRow>> {
        let sql = format!(
            "SELECT id, kind, case_number, subject, customer_id, deleted_at, deleted_by FROM conversations \
             WHERE deleted_at IS NOT NULL AND erased_at IS NULL ORDER BY deleted_at LIMIT {}",
            limit.clamp(1, 500)
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// Whether a conversation is deleted or erased.
    pub async fn deletion_state(&self, id: &str) -> Result<DeletionState> {
        let row: Option<DeletionState> = on_read!(self, |pool| sqlx::query_as(
            "SELECT deleted_at, deleted_by, erased_at FROM conversations WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        row.ok_or(StoreError::NotFound)
    }

    /// The live holds on a conversation, or on its customer.
    pub async fn holds_of_conversation(&self, id: &str) -> Result<Vec<crate::LegalHold>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT h.id, h.customer_id, h.conversation_id, h.reason, h.placed_by, h.placed_at, h.released_by, \
             h.released_at FROM legal_holds h WHERE h.released_at IS NULL AND (h.conversation_id = $1 OR \
             h.customer_id = (SELECT customer_id FROM conversations WHERE id = $1)) ORDER BY h.placed_at"
        )
        .bind(id)
        .fetch_all(pool)
        .await)?)
    }

    /// A customer's conversations not yet erased, deleted ones too (erasure on request takes them all).
    pub async fn unerased_conversations_of(&self, customer_id: &str) -> Result<Vec<String>> {
        Ok(on_read!(self, |pool| sqlx::query_scalar(
            "SELECT id FROM conversations WHERE customer_id = $1 AND erased_at IS NULL ORDER BY created_at, id"
        )
        .bind(customer_id)
        .fetch_all(pool)
        .await)?)
    }

    /// A hold by id, live or released.
    pub async fn hold(&self, id: &str) -> Result<Option<crate::LegalHold>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, customer_id, conversation_id, reason, placed_by, placed_at, released_by, released_at \
             FROM legal_holds WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?)
    }

    /// Files a data request.
    pub async fn file_data_request(&self, r: &DataRequest) -> Result<()> {
        let r = r.clone();
        on_write!(self, |pool, _l| sqlx::query(&format!(
            "INSERT INTO data_requests ({REQUEST_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&r.id)
        .bind(&r.customer_id)
        .bind(&r.kind)
        .bind(&r.field)
        .bind(&r.value)
        .bind(&r.note)
        .bind(&r.status)
        .bind(r.filed_at)
        .bind(r.due_at)
        .bind(r.resolved_at)
        .bind(&r.resolved_by)
        .bind(&r.outcome)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// One data request.
    pub async fn data_request(&self, id: &str) -> Result<Option<DataRequest>> {
        let sql = format!("SELECT {REQUEST_COLS} FROM data_requests WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// A customer's data requests, newest first.
    pub async fn data_requests_of(&self, customer_id: &str) -> Result<Vec<DataRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLS} FROM data_requests WHERE customer_id = $1 ORDER BY filed_at DESC, id LIMIT 200"
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(customer_id).fetch_all(pool).await)?)
    }

    /// Every open data request, the first due first (the `data_requests_open` index).
    pub async fn open_data_requests(&self, limit: i64) -> Result<Vec<DataRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLS} FROM data_requests WHERE status = 'open' ORDER BY due_at, id LIMIT {}",
            limit.clamp(1, 1000)
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// Closes an open request as `done` or `refused` with what was done or why not; `false` when it was not
    /// open (someone closed it meanwhile).
    pub async fn resolve_data_request(&self, id: &str, status: &str, by: &str, outcome: &str) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query(
            "UPDATE data_requests SET status = $2, resolved_by = $3, resolved_at = $4, outcome = $5 \
             WHERE id = $1 AND status = 'open'"
        )
        .bind(id)
        .bind(status)
        .bind(by)
        .bind(now_ms())
        .bind(outcome)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Corrects one profile field of a customer (`name`, `email` or `lang`). A corrected email is no longer
    /// one the exchange vouched for.
    pub async fn correct_customer(&self, id: &str, field: &str, value: &str) -> Result<Customer> {
        let set = match field {
            "name" => "name = $2",
            "email" => "email = $2, email_verified_at = NULL",
            "lang" => "lang = $2",
            _ => return Err(lifebuoy_domain::Invalid::new("field", "name, email or lang").into()),
        };
        let sql = format!(
            "UPDATE customers SET {set}, updated_at = $3 WHERE id = $1 \
             RETURNING id, external_id, kind, email, name, lang, created_at"
        );
        let c: Option<Customer> = on_write!(self, |pool, _l| sqlx::query_as(&sql)
            .bind(id)
            .bind(value)
            .bind(now_ms())
            .fetch_optional(pool)
            .await)?;
        c.ok_or(StoreError::NotFound)
    }

    /// Blanks a customer's personal fields (name, email, anti-phishing code) for erasure. The id and the
    /// exchange's UID stay: holds, requests and the access log point at them.
    pub async fn blank_customer(&self, id: &str) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "UPDATE customers SET name = NULL, email = NULL, email_verified_at = NULL, anti_phishing_code = NULL, \
             updated_at = $2 WHERE id = $1"
        )
        .bind(id)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}
