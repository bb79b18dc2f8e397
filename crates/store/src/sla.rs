//! SLA policies (migration `0024_sla.sql`). The clocks are `lifebuoy_domain::sla`'s arithmetic over a case's
//! timeline, run by `lifebuoy_app::sla`.

use crate::{Result, Store, on_read, on_write};
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
    pub langs: String,
    pub customer_tags: String,
    pub first_response_min: i64,
    pub resolution_min: i64,
    /// The customer wrote again: how long until the desk's next answer (`None`: the first-response target).
    pub next_response_min: Option<i64>,
    pub calendar: String,
    pub active: bool,
    /// On a breach: `keep`, `high` or `urgent`.
    pub breach_priority: String,
    /// On a breach: `keep`, `l2` or `supervisor`.
    pub breach_tier: String,
}

const POLICY_COLS: &str = "id, position, name, kinds, categories, priorities, langs, customer_tags, \
    first_response_min, resolution_min, next_response_min, calendar, active, breach_priority, breach_tier";

impl Store {
    /// The active policies, in the order they are tried.
    pub async fn sla_policies(&self) -> Result<Vec<SlaPolicy>> {
        let sql = format!("SELECT {POLICY_COLS} FROM sla_policies WHERE active = TRUE ORDER BY position, id");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// Every policy, switched off ones too, in the order they are tried.
    pub async fn all_sla_policies(&self) -> Result<Vec<SlaPolicy>> {
        let sql = format!("SELECT {POLICY_COLS} FROM sla_policies ORDER BY position, id");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// Writes a policy (new or changed), checked by the caller.
    pub async fn save_sla_policy(&self, p: &SlaPolicy, by: &str) -> Result<()> {
        on_write!(self, |pool, _l| {
            sqlx::query(
            "INSERT INTO sla_policies (id, position, name, kinds, categories, priorities, langs, customer_tags, \
             first_response_min, resolution_min, next_response_min, calendar, active, breach_priority, breach_tier, \
             updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (id) DO UPDATE SET position = $2, name = $3, kinds = $4, categories = $5, priorities = $6, \
             langs = $7, customer_tags = $8, first_response_min = $9, resolution_min = $10, next_response_min = $11, \
             calendar = $12, active = $13, breach_priority = $14, breach_tier = $15, updated_by = $16, updated_at = $17"
        )
        .bind(&p.id)
        .bind(p.position)
        .bind(&p.name)
        .bind(&p.kinds)
        .bind(&p.categories)
        .bind(&p.priorities)
        .bind(&p.langs)
        .bind(&p.customer_tags)
        .bind(p.first_response_min)
        .bind(p.resolution_min)
        .bind(p.next_response_min)
        .bind(&p.calendar)
        .bind(p.active)
        .bind(&p.breach_priority)
        .bind(&p.breach_tier)
        .bind(by)
        .bind(crate::now_ms())
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// Keeps a case's clock as last read (`due_at`: the running clock's next deadline, `None` for none), for the
    /// lists. Not a change of the case: `updated_at` stays.
    pub async fn set_sla_clock(&self, id: &str, due_at: Option<i64>, warn_at: Option<i64>, state: &str) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "UPDATE conversations SET sla_due_at = $2, sla_warn_at = $3, sla_state = $4 WHERE id = $1"
        )
        .bind(id)
        .bind(due_at.unwrap_or(crate::NO_CLOCK))
        .bind(warn_at)
        .bind(state)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The kept clocks of some cases: (id, next deadline, warning from, state), for those that have one.
    pub async fn sla_clocks(&self, ids: &[String]) -> Result<Vec<KeptClock>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, sla_due_at, sla_warn_at, sla_state FROM conversations WHERE id IN ({}) AND sla_state IS NOT NULL",
            marks.join(", ")
        );
        Ok(on_read!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?)
    }

    /// Has every active case's clock read again (the policies changed): the `sla.keep` job does it.
    pub async fn forget_kept_clocks(&self) -> Result<u64> {
        let n = on_write!(self, |pool, _l| sqlx::query(
            "UPDATE conversations SET sla_state = NULL WHERE status IN ('new', 'open', 'pending', 'on_hold') \
             AND kind IN ('ticket', 'email') AND sla_state IS NOT NULL"
        )
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// Active cases with clocks whose clock has not been kept yet (cases from before migration 0027, or whose
    /// refresh failed), up to `limit`.
    pub async fn cases_without_kept_clock(&self, limit: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT id FROM conversations WHERE status IN ('new', 'open', 'pending', 'on_hold') \
             AND kind IN ('ticket', 'email') AND sla_state IS NULL ORDER BY id LIMIT $1"
        )
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

/// A case's clock as kept for the lists.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KeptClock {
    pub id: String,
    #[sqlx(rename = "sla_due_at")]
    pub due_at: i64,
    #[sqlx(rename = "sla_warn_at")]
    pub warn_at: Option<i64>,
    #[sqlx(rename = "sla_state")]
    pub state: String,
}

impl KeptClock {
    /// The state at `now`: a running clock turns to warning and breached as time passes.
    pub fn state_at(&self, now: i64) -> &str {
        match self.state.as_str() {
            "ok" | "warning" if self.due_at != crate::NO_CLOCK && now > self.due_at => "breached",
            "ok" if self.warn_at.is_some_and(|w| now >= w) => "warning",
            s => s,
        }
    }
}
