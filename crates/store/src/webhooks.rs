//! The exchange's webhook endpoints and the log of deliveries to them (migration `0021_c2c.sql`). Sending is
//! `lifebuoy_app::webhooks`'s, by durable jobs; this keeps the endpoints and what became of each delivery.

use crate::{Result, Store, StoreError, new_id, now_ms, on_read, on_write};
use serde::Serialize;

/// An endpoint: where the exchange takes events, and which. The secret never leaves the store but to sign.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    /// Event types, comma-separated (`appeal.opened,appeal.decided`).
    pub events: String,
    #[serde(skip)]
    pub secret: String,
    pub active: bool,
    pub created_by: Option<String>,
    pub created_at: i64,
}

impl WebhookEndpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        self.active && self.events.split(',').any(|e| e == event_type || e == "*")
    }
}

const ENDPOINT_COLS: &str = "id, url, events, secret, active, created_by, created_at";

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WebhookDelivery {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The body, sent byte for byte on every try and replay.
    pub body: String,
    /// `pending`, `delivered` or `failed` (given up after a day of tries).
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_try_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
}

const DELIVERY_COLS: &str = "id, endpoint_id, event_id, event_type, body, state, attempts, last_status, last_error, \
    last_try_at, delivered_at, created_at";

impl Store {
    pub async fn add_webhook_endpoint(
        &self,
        url: &str,
        events: &[String],
        secret: &str,
        created_by: Option<&str>,
    ) -> Result<WebhookEndpoint> {
        let sql = format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLS}) VALUES ($1, $2, $3, $4, TRUE, $5, $6) \
             RETURNING {ENDPOINT_COLS}"
        );
        Ok(on_write!(self, |pool, _l| sqlx::query_as(&sql)
            .bind(new_id())
            .bind(url)
            .bind(events.join(","))
            .bind(secret)
            .bind(created_by)
            .bind(now_ms())
            .fetch_one(pool)
            .await)?)
    }

    pub async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>> {
        let sql = format!("SELECT {ENDPOINT_COLS} FROM webhook_endpoints ORDER BY created_at, id");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    pub async fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>> {
        let sql = format!("SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// Stops sending to an endpoint (its deliveries stay in the log); whether it was active.
    pub async fn deactivate_webhook_endpoint(&self, id: &str) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query(
            "UPDATE webhook_endpoints SET active = FALSE WHERE id = $1 AND active = TRUE"
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The delivery of an event to an endpoint, made on first call: the same event and endpoint give the same
    /// delivery (a fan-out that runs twice sends once).
    pub async fn put_webhook_delivery(
        &self,
        endpoint_id: &str,
        event_id: &str,
        event_type: &str,
        body: &str,
    ) -> Result<WebhookDelivery> {
        let ins = "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, body, state, attempts, \
                   created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6) ON CONFLICT (endpoint_id, event_id) DO NOTHING";
        on_write!(self, |pool, _l| sqlx::query(ins)
            .bind(new_id())
            .bind(endpoint_id)
            .bind(event_id)
            .bind(event_type)
            .bind(body)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|_| ()))?;
        let sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2");
        let d: Option<WebhookDelivery> = on_write!(self, |pool, _l| sqlx::query_as(&sql)
            .bind(endpoint_id)
            .bind(event_id)
            .fetch_optional(pool)
            .await)?;
        d.ok_or(StoreError::NotFound)
    }

    pub async fn webhook_delivery(&self, id: &str) -> Result<Option<WebhookDelivery>> {
        let sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// The most recent deliveries, newest first.
    pub async fn webhook_deliveries(&self, limit: i64) -> Result<Vec<WebhookDelivery>> {
        let sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries ORDER BY created_at DESC, id DESC LIMIT $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(limit).fetch_all(pool).await)?)
    }

    /// Records a try: its HTTP status (`None`: no answer) and error, and the delivery's state after it.
    pub async fn record_webhook_try(
        &self,
        id: &str,
        state: &str,
        status: Option<i64>,
        error: Option<&str>,
    ) -> Result<()> {
        let now = now_ms();
        on_write!(self, |pool, _l| sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, state = $2, last_status = $3, last_error = $4, \
             last_try_at = $5, delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END WHERE id = $1"
        )
        .bind(id)
        .bind(state)
        .bind(status)
        .bind(error)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Sets a delivery pending again (a replay).
    pub async fn reset_webhook_delivery(&self, id: &str) -> Result<bool> {
        let n =
            on_write!(self, |pool, _l| sqlx::query("UPDATE webhook_deliveries SET state = 'pending' WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }
}
