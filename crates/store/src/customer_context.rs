//! Where the exchange's account context comes from, and what the exchange pushed about its users (migration
//! `0022_customer_context.sql`). The lookup itself is `lifebuoy_app::customer_context`'s.

use crate::{Result, Store, now_ms, on_read, on_write};
use serde::Serialize;

/// The exchange's customer-context endpoint. The secret never leaves the store but to sign.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ContextSource {
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub timeout_ms: i64,
    pub cache_s: i64,
    pub updated_by: Option<String>,
    pub updated_at: i64,
}

/// What the exchange pushed about one of its users.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExchangeUserProfile {
    pub user_id: String,
    pub vip_tier: Option<String>,
    /// A JSON array of strings (served as the array).
    #[serde(serialize_with = "json_list")]
    pub flags: String,
    pub updated_at: i64,
}

fn json_list<S: serde::Serializer>(flags: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::Serialize;
    serde_json::from_str::<Vec<String>>(flags).unwrap_or_default().serialize(s)
}

impl ExchangeUserProfile {
    pub fn flag_list(&self) -> Vec<String> {
        serde_json::from_str(&self.flags).unwrap_or_default()
    }
}

impl Store {
    pub async fn context_source(&self) -> Result<Option<ContextSource>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT url, secret, timeout_ms, cache_s, updated_by, updated_at FROM customer_context_source \
             WHERE id = 'exchange'"
        )
        .fetch_optional(pool)
        .await)?)
    }

    /// Sets the source (or, with `None`, removes it).
    pub async fn set_context_source(
        &self,
        source: Option<(&str, &str, i64, i64)>,
        by: Option<&str>,
    ) -> Result<Option<ContextSource>> {
        match source {
            Some((url, secret, timeout_ms, cache_s)) => {
                on_write!(self, |pool, _l| sqlx::query(
                    "INSERT INTO customer_context_source (id, url, secret, timeout_ms, cache_s, updated_by, \
                     updated_at) VALUES ('exchange', $1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
                     url = excluded.url, secret = excluded.secret, timeout_ms = excluded.timeout_ms, \
                     cache_s = excluded.cache_s, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(url)
                .bind(secret)
                .bind(timeout_ms)
                .bind(cache_s)
                .bind(by)
                .bind(now_ms())
                .execute(pool)
                .await
                .map(|_| ()))?;
            }
            None => {
                on_write!(self, |pool, _l| sqlx::query("DELETE FROM customer_context_source WHERE id = 'exchange'")
                    .execute(pool)
                    .await
                    .map(|_| ()))?;
            }
        }
        self.context_source().await
    }

    pub async fn exchange_user_profile(&self, user_id: &str) -> Result<Option<ExchangeUserProfile>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT user_id, vip_tier, flags, updated_at FROM exchange_user_profiles WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await)?)
    }

    /// Replaces what the exchange said of a user.
    pub async fn put_exchange_user_profile(
        &self,
        user_id: &str,
        vip_tier: Option<&str>,
        flags: &[String],
    ) -> Result<ExchangeUserProfile> {
        let flags = serde_json::to_string(flags).expect("strings serialise");
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO exchange_user_profiles (user_id, vip_tier, flags, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET vip_tier = excluded.vip_tier, flags = excluded.flags, \
             updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(vip_tier)
        .bind(&flags)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(self.exchange_user_profile(user_id).await?.expect("just written"))
    }

    /// Forgets what the exchange pushed about a user (erasure).
    pub async fn forget_exchange_user_profile(&self, user_id: &str) -> Result<u64> {
        Ok(on_write!(self, |pool, _l| sqlx::query("DELETE FROM exchange_user_profiles WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }
}
