//! Idempotency keys: a create retried with the same `Idempotency-Key` returns what the first call made.
//! The key is recorded in the same transaction as the thing it created, so the two never disagree.

use crate::{Conflict, Result, Store, on_read};

/// Records `(principal, key) -> resource id` inside the caller's transaction. A concurrent twin fails on the
/// primary key, rolls back whole, and then replays.
macro_rules! remember {
    ($tx:expr, $principal:expr, $key:expr, $hash:expr, $resource:expr) => {
        sqlx::query(
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, resource_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($principal)
        .bind($key)
        .bind($hash)
        .bind($resource)
        .bind($crate::now_ms())
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use remember;

impl Store {
    /// The resource an earlier call with this key created, if any. The same key with a different request is
    /// a client bug and is refused rather than silently answered with the wrong thing.
    pub async fn idempotent_replay(&self, principal: &str, key: &str, request_hash: &str) -> Result<Option<String>> {
        let row: Option<(String, String)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT request_hash, resource_id FROM idempotency_keys WHERE principal = $1 AND idem_key = $2"
        )
        .bind(principal)
        .bind(key)
        .fetch_optional(pool)
        .await)?;
        match row {
            Some((h, id)) if h == request_hash => Ok(Some(id)),
            Some(_) => Err(Conflict::IdempotencyKeyReused.into()),
            None => Ok(None),
        }
    }
}
