//! What agents keep about a customer (migration `0017_customer_notes.sql`): tags and internal notes. Never
//! shown to the customer, never part of an export.

use crate::{Result, Store, new_id, now_ms, on_read, on_write};
use lifebuoy_domain::Invalid;
use serde::Serialize;

/// A note an agent left on a customer.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CustomerNote {
    pub id: String,
    pub customer_id: String,
    pub author_id: String,
    pub author_name: Option<String>,
    pub agent_no: Option<String>,
    pub body: String,
    pub created_at: i64,
}

const NOTE_SELECT: &str = "SELECT n.id, n.customer_id, n.author_id, a.display_name AS author_name, a.agent_no, \
    n.body, n.created_at FROM customer_notes n LEFT JOIN agents a ON a.id = n.author_id";

impl Store {
    /// A customer's tags, sorted.
    pub async fn customer_tags(&self, customer_id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            on_read!(self, |pool| sqlx::query_as("SELECT tag FROM customer_tags WHERE customer_id = $1 ORDER BY tag")
                .bind(customer_id)
                .fetch_all(pool)
                .await)?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Replaces a customer's tags (cleaned as a case's tags are: trimmed, lower case, at most 20 of 40
    /// characters), in one transaction. Returns them as kept.
    pub async fn set_customer_tags(&self, customer_id: &str, tags: &[String], by: &str) -> Result<Vec<String>> {
        let tags = crate::clean_tags(tags)?;
        let now = now_ms();
        on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1").bind(customer_id).execute(&mut *tx).await?;
            for t in &tags {
                sqlx::query("INSERT INTO customer_tags (customer_id, tag, added_by, added_at) VALUES ($1, $2, $3, $4)")
                    .bind(customer_id)
                    .bind(t)
                    .bind(by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        let mut kept = tags;
        kept.sort();
        Ok(kept)
    }

    /// Adds a note on a customer by agent `author_id`.
    pub async fn add_customer_note(&self, customer_id: &str, author_id: &str, body: &str) -> Result<CustomerNote> {
        if body.trim().is_empty() {
            return Err(Invalid::new("body", "is empty").into());
        }
        let id = new_id();
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO customer_notes (id, customer_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&id)
        .bind(customer_id)
        .bind(author_id)
        .bind(body.trim())
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        let sql = format!("{NOTE_SELECT} WHERE n.id = $1");
        on_read!(self, |pool| sqlx::query_as(&sql).bind(&id).fetch_optional(pool).await)?
            .ok_or(crate::StoreError::NotFound)
    }

    /// A customer's notes, newest first, at most `limit`.
    pub async fn customer_notes(&self, customer_id: &str, limit: i64) -> Result<Vec<CustomerNote>> {
        let sql = format!("{NOTE_SELECT} WHERE n.customer_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT $2");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(customer_id).bind(limit).fetch_all(pool).await)?)
    }

    /// Removes what agents kept about a customer (tags and notes): part of erasing a customer's data.
    pub async fn forget_customer_notes(&self, customer_id: &str) -> Result<u64> {
        on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            let a = sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1")
                .bind(customer_id)
                .execute(&mut *tx)
                .await?;
            let b = sqlx::query("DELETE FROM customer_notes WHERE customer_id = $1")
                .bind(customer_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(a.rows_affected() + b.rows_affected())
        })
        .map_err(Into::into)
    }
}
