//! SLA policies (migration `0024_sla.sql`). The clocks are `lifebuoy_domain::sla`'s arithmetic over a case's
//! timeline, run by `lifebuoy_app::sla`.

use crate::{Result, Store, on_read};
use serde::Serialize;

/// A policy as stored: conditions as JSON lists, the calendar as JSON (or `always`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SlaPolicy {
    pub id: String,
    pub position: i64,
    pub name: String,
    pub kinds: String,
    pub categories: String,
    pub priorities: String,
    pub first_response_min: i64,
    pub resolution_min: i64,
    pub calendar: String,
    pub active: bool,
}

impl Store {
    /// The active policies, in the order they are tried.
    pub async fn sla_policies(&self) -> Result<Vec<SlaPolicy>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, position, name, kinds, categories, priorities, first_response_min, resolution_min, calendar, \
             active FROM sla_policies WHERE active = TRUE ORDER BY position, id"
        )
        .fetch_all(pool)
        .await)?)
    }
}
