//! Fixed-window counters in the database, shared by every node: how many guest codes a client address asked
//! for this hour, how many failed logins came from it. Each take is one statement, so parallel requests
//! cannot all pass a limit they together exceed.

use crate::{Result, Store, now_ms, on_read, on_write};
use std::sync::atomic::{AtomicU64, Ordering};

/// A limit reached: the window ends at `retry_at` (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_at: i64,
}

/// Windows that ended longer ago than this are deleted now and then.
const KEEP_MS: i64 = 24 * 3600 * 1000;
static TAKES: AtomicU64 = AtomicU64::new(0);

impl Store {
    /// Counts one hit in `bucket`'s current window of `window_ms`, unless it already holds `limit` hits: then
    /// nothing is counted and the answer says when the window ends.
    pub async fn throttle_take(&self, bucket: &str, limit: i64, window_ms: i64) -> Result<Result<(), Throttled>> {
        let now = now_ms();
        if TAKES.fetch_add(1, Ordering::Relaxed) % 512 == 511 {
            on_write!(self, |pool, _l| sqlx::query("DELETE FROM throttle WHERE window_start < $1")
                .bind(now - KEEP_MS)
                .execute(pool)
                .await
                .map(|_| ()))?;
        }
        let taken: Option<(i64,)> = on_write!(self, |pool, _l| sqlx::query_as(
            "INSERT INTO throttle (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket) DO UPDATE SET \
             hits = CASE WHEN throttle.window_start + $3 <= $2 THEN 1 ELSE throttle.hits + 1 END, \
             window_start = CASE WHEN throttle.window_start + $3 <= $2 THEN $2 ELSE throttle.window_start END \
             WHERE throttle.window_start + $3 <= $2 OR throttle.hits < $4 RETURNING hits"
        )
        .bind(bucket)
        .bind(now)
        .bind(window_ms)
        .bind(limit)
        .fetch_optional(pool)
        .await)?;
        if taken.is_some() {
            return Ok(Ok(()));
        }
        let start: Option<(i64,)> =
            on_read!(self, |pool| sqlx::query_as("SELECT window_start FROM throttle WHERE bucket = $1")
                .bind(bucket)
                .fetch_optional(pool)
                .await)?;
        Ok(Err(Throttled { retry_at: start.map_or(now, |(s,)| s) + window_ms }))
    }

    /// Gives back a hit taken with [`Store::throttle_take`] (a login that turned out good).
    pub async fn throttle_give_back(&self, bucket: &str) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query("UPDATE throttle SET hits = hits - 1 WHERE bucket = $1 AND hits > 0")
            .bind(bucket)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
