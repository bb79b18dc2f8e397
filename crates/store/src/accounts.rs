//! Agents, customers, sessions and integration tokens.

use crate::{Conflict, Result, Store, StoreError, hash_secret, new_id, now_ms, on_read, on_write, random_secret};
use lifebuoy_domain::{Lang, Role};
use serde::Serialize;

/// An agent as the rest of the system sees them (no password hash).
#[derive(Debug, Clone, Serialize)]
pub struct Agent {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub agent_no: String,
    pub role: Role,
    pub languages: Vec<Lang>,
    pub departments: Vec<String>,
    pub active: bool,
}

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: String,
    email: String,
    display_name: String,
    agent_no: String,
    role: String,
    languages: String,
    active: bool,
    password_hash: String,
    failed_logins: i64,
    locked_until: Option<i64>,
}

impl AgentRow {
    fn into_agent(self, departments: Vec<String>) -> Agent {
        Agent {
            id: self.id,
            email: self.email,
            display_name: self.display_name,
            agent_no: self.agent_no,
            role: Role::parse(&self.role).unwrap_or(Role::AgentL1),
            languages: self.languages.split(',').filter_map(|l| Lang::parse(l).ok()).collect(),
            departments,
            active: self.active,
        }
    }
}

/// What `create_agent` needs. The password arrives already hashed (argon2, by the web layer).
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub email: String,
    pub display_name: String,
    pub agent_no: lifebuoy_domain::AgentNo,
    pub role: Role,
    pub languages: Vec<Lang>,
    pub departments: Vec<String>,
    pub password_hash: String,
}

/// What a login attempt needs to know about an agent.
pub struct LoginRecord {
    pub agent: Agent,
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
}

/// Wrong guest codes per address before it locks.
pub const GUEST_MAX_FAILURES: i64 = 5;
/// How long the first lock lasts; each further lock in a row lasts twice as long as the one before, up to a day.
pub const GUEST_LOCK_MS: i64 = 15 * 60 * 1000;
/// Codes an address may be sent per hour.
pub const GUEST_CODES_PER_HOUR: i64 = 5;
/// The wait before a second code; every further code waits twice as long as the one before.
pub const GUEST_CODE_BACKOFF_MS: i64 = 30 * 1000;
const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// What became of a guest's request for a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestCodeIssue {
    /// A new code is stored (and is to be sent).
    Issued,
    /// Too many codes for this address lately: the next one may be asked for at `retry_at`.
    TooSoon { retry_at: i64 },
    /// The address is locked after wrong codes until `until`.
    Locked { until: i64 },
}

/// What became of a guest's code.
#[derive(Debug, Clone)]
pub enum GuestVerify {
    Verified(Customer),
    /// Wrong or expired; `left` more wrong codes lock the address.
    Wrong {
        left: i64,
    },
    /// The address is locked until `until`; `just_locked` when this attempt locked it.
    Locked {
        until: i64,
        just_locked: bool,
    },
}

#[derive(sqlx::FromRow)]
struct GuardRow {
    failures: i64,
    locked_until: Option<i64>,
    lockouts: i64,
    last_lock_end: i64,
    codes_window: i64,
    codes: i64,
    last_code_at: i64,
}

const GUARD_COLS: &str = "failures, locked_until, lockouts, last_lock_end, codes_window, codes, last_code_at";

/// A customer: from the exchange's identity token (`kind = "exchange"`) or an email-verified guest.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Customer {
    pub id: String,
    pub external_id: Option<String>,
    pub kind: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub lang: Option<String>,
    pub created_at: i64,
}

/// An integration token as listed (`lifebuoy token list`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApiTokenInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A signed-in browser session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub principal_kind: String,
    pub principal_id: String,
    pub csrf: String,
    pub expires_at: i64,
}

/// Whoever is making a request, once authenticated.
#[derive(Debug, Clone)]
pub enum Principal {
    Agent(Agent),
    Customer(Customer),
    /// The exchange's backend, through an integration token: sees every department.
    Integration {
        token_id: String,
        name: String,
    },
}

impl Principal {
    /// A stable key for per-caller state such as idempotency keys.
    pub fn key(&self) -> String {
        match self {
            Principal::Agent(a) => format!("agent:{}", a.id),
            Principal::Customer(c) => format!("customer:{}", c.id),
            Principal::Integration { token_id, .. } => format!("token:{token_id}"),
        }
    }
}

const AGENT_COLS: &str =
    "id, email, display_name, agent_no, role, languages, active, password_hash, failed_logins, locked_until";

/// The address's guard row inside the transaction `$tx`, created on first sight and (on PostgreSQL, with
/// `$lock`) locked, so counting and checking an attempt is one step.
macro_rules! guard_row {
    ($tx:ident, $email:expr, $lock:expr) => {{
        sqlx::query("INSERT INTO guest_guards (email) VALUES ($1) ON CONFLICT (email) DO NOTHING")
            .bind($email)
            .execute(&mut *$tx)
            .await?;
        sqlx::query_as(&format!("SELECT {GUARD_COLS} FROM guest_guards WHERE email = $1{}", $lock))
            .bind($email)
            .fetch_one(&mut *$tx)
            .await?
    }};
}

impl Store {
    /// Creates an agent with their departments, in one transaction.
    pub async fn create_agent(&self, a: &NewAgent) -> Result<Agent> {
        let id = new_id();
        let langs: Vec<&str> = a.languages.iter().map(|l| l.as_str()).collect();
        on_write!(self, |pool, _lock| {
            let mut tx = pool.begin().await?;
            let r = sqlx::query(
                "INSERT INTO agents (id, email, display_name, agent_no, role, languages, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(a.email.trim().to_lowercase())
            .bind(&a.display_name)
            .bind(a.agent_no.as_str())
            .bind(a.role.as_str())
            .bind(langs.join(","))
            .bind(&a.password_hash)
            .bind(now_ms())
            .execute(&mut *tx)
            .await;
            if let Err(e) = r {
                return Err(if crate::is_unique_violation(&e) { Conflict::AgentExists.into() } else { e.into() });
            }
            for d in &a.departments {
                sqlx::query("INSERT INTO agent_departments (agent_id, department_id) VALUES ($1, $2)")
                    .bind(&id)
                    .bind(d)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match e {
                        sqlx::Error::Database(ref d2) if d2.is_foreign_key_violation() => StoreError::Invalid(
                            lifebuoy_domain::Invalid::new("departments", format!("no department {d:?}")),
                        ),
                        e => e.into(),
                    })?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.agent(&id).await?.ok_or(StoreError::NotFound)
    }

    async fn agent_departments(&self, id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT department_id FROM agent_departments WHERE agent_id = $1 ORDER BY department_id"
        )
        .bind(id)
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// An agent by id.
    pub async fn agent(&self, id: &str) -> Result<Option<Agent>> {
        let sql = format!("SELECT {AGENT_COLS} FROM agents WHERE id = $1");
        let row: Option<AgentRow> = on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        match row {
            Some(r) => {
                let d = self.agent_departments(&r.id).await?;
                Ok(Some(r.into_agent(d)))
            }
            None => Ok(None),
        }
    }

    /// Every agent, by agent number.
    pub async fn agents(&self) -> Result<Vec<Agent>> {
        let sql = format!("SELECT {AGENT_COLS} FROM agents ORDER BY agent_no");
        let rows: Vec<AgentRow> = on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        let links: Vec<(String, String)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT agent_id, department_id FROM agent_departments ORDER BY department_id"
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let d = links.iter().filter(|(a, _)| *a == r.id).map(|(_, d)| d.clone()).collect();
                r.into_agent(d)
            })
            .collect())
    }

    /// What a login needs: the agent, their hash and their failure count.
    pub async fn agent_login_record(&self, email: &str) -> Result<Option<LoginRecord>> {
        let sql = format!("SELECT {AGENT_COLS} FROM agents WHERE email = $1");
        let row: Option<AgentRow> =
            on_read!(self, |pool| sqlx::query_as(&sql).bind(email.trim().to_lowercase()).fetch_optional(pool).await)?;
        let Some(r) = row else { return Ok(None) };
        let d = self.agent_departments(&r.id).await?;
        let (password_hash, failed_logins, locked_until) = (r.password_hash.clone(), r.failed_logins, r.locked_until);
        Ok(Some(LoginRecord { agent: r.into_agent(d), password_hash, failed_logins, locked_until }))
    }

    /// Reserves a login attempt before the password is checked, in one statement: counts it as a failure
    /// (a good password clears the count, [`Store::record_login_success`]) and, when that makes
    /// `max_failures`, locks the account for `lock_ms` at once. A lock that has ended is forgotten first (the
    /// count starts again). Returns `None` for an unknown email and for a locked account alike, so that
    /// parallel attempts cannot all be checked before any is counted: at most `max_failures` passwords are
    /// ever checked per lock period.
    pub async fn reserve_login_attempt(
        &self,
        email: &str,
        max_failures: i64,
        lock_ms: i64,
    ) -> Result<Option<LoginRecord>> {
        let now = now_ms();
        let email = email.trim().to_lowercase();
        let reserved: Option<(String,)> = on_write!(self, |pool, _l| {
            sqlx::query_as(
            "UPDATE agents SET \
             failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 ELSE failed_logins + 1 END, \
             locked_until = CASE \
                 WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 ELSE failed_logins + 1 END) >= $3 \
                 THEN $4 ELSE NULL END \
             WHERE email = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING id"
        )
        .bind(&email)
        .bind(now)
        .bind(max_failures)
        .bind(now + lock_ms)
        .fetch_optional(pool)
        .await
        })?;
        if reserved.is_none() {
            return Ok(None);
        }
        self.agent_login_record(&email).await
    }

    /// Unlocks an agent locked out by failed logins (an admin's action). `false` when there is no such agent.
    pub async fn unlock_agent(&self, agent_id: &str) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query(
            "UPDATE agents SET failed_logins = 0, locked_until = NULL WHERE id = $1"
        )
        .bind(agent_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Deactivates (or reactivates) an agent: a deactivated agent cannot sign in and is routed no chats.
    /// `false` when there is no such agent.
    pub async fn set_agent_active(&self, agent_id: &str, active: bool) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query("UPDATE agents SET active = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(active)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Replaces an agent's password hash. `false` when there is no such agent.
    pub async fn set_agent_password(&self, agent_id: &str, password_hash: &str) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query(
            "UPDATE agents SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1"
        )
        .bind(agent_id)
        .bind(password_hash)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The argon2 hash of an agent's password, to check the current one before it is changed.
    pub async fn agent_password_hash(&self, agent_id: &str) -> Result<Option<String>> {
        Ok(on_read!(self, |pool| sqlx::query_scalar::<_, String>("SELECT password_hash FROM agents WHERE id = $1")
            .bind(agent_id)
            .fetch_optional(pool)
            .await)?)
    }

    /// Clears the failure count after a good login.
    pub async fn record_login_success(&self, agent_id: &str) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "UPDATE agents SET failed_logins = 0, locked_until = NULL WHERE id = $1"
        )
        .bind(agent_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The seeded and added departments, in display order.
    pub async fn departments(&self) -> Result<Vec<crate::Department>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, name_en, name_zh_hans, name_zh_hant FROM departments ORDER BY position, id"
        )
        .fetch_all(pool)
        .await)?)
    }

    /// A customer by id.
    pub async fn customer(&self, id: &str) -> Result<Option<Customer>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, external_id, kind, email, name, lang, created_at FROM customers WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?)
    }

    /// The exchange's customer `external_id`, created from what staff typed when the exchange has not yet
    /// introduced them; an existing customer is returned unchanged. Only the exchange's signed word
    /// ([`Store::upsert_exchange_customer`]) changes who a customer is.
    pub async fn exchange_customer_or_insert(
        &self,
        external_id: &str,
        email: Option<&str>,
        name: Option<&str>,
        lang: Option<&str>,
    ) -> Result<Customer> {
        let now = now_ms();
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO customers (id, external_id, kind, email, name, lang, created_at, updated_at) \
             VALUES ($1, $2, 'exchange', $3, $4, $5, $6, $6) ON CONFLICT (external_id) DO NOTHING"
        )
        .bind(new_id())
        .bind(external_id)
        .bind(email)
        .bind(name)
        .bind(lang)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        let c: Option<Customer> = on_write!(self, |pool, _l| sqlx::query_as(
            "SELECT id, external_id, kind, email, name, lang, created_at FROM customers WHERE external_id = $1"
        )
        .bind(external_id)
        .fetch_optional(pool)
        .await)?;
        c.ok_or(StoreError::NotFound)
    }

    /// The customer for an exchange user id, created on first sight and kept in step with the token's claims.
    /// The token's email is the exchange's signed word for the account's address (the exchange confirmed it when
    /// the account was opened), so it is marked verified (`email_verified_at`): mail from that address joins
    /// this customer ([`Store::mail_customer`]). An address typed by staff
    /// ([`Store::exchange_customer_or_insert`]) is never marked.
    pub async fn upsert_exchange_customer(
        &self,
        external_id: &str,
        email: Option<&str>,
        name: Option<&str>,
        lang: Option<&str>,
    ) -> Result<Customer> {
        #[derive(sqlx::FromRow)]
        struct Known {
            #[sqlx(flatten)]
            customer: Customer,
            verified: bool,
        }
        let existing: Option<Known> = on_read!(self, |pool| sqlx::query_as(
            "SELECT id, external_id, kind, email, name, lang, created_at, \
             (email_verified_at IS NOT NULL OR email IS NULL) AS verified FROM customers WHERE external_id = $1"
        )
        .bind(external_id)
        .fetch_optional(pool)
        .await)?;
        if let Some(Known { customer: c, verified: true }) = &existing
            && c.email.as_deref() == email
            && c.name.as_deref() == name
            && c.lang.as_deref() == lang
        {
            return Ok(c.clone());
        }
        let now = now_ms();
        let c: Customer = on_write!(self, |pool, _l| {
            sqlx::query_as(
            "INSERT INTO customers (id, external_id, kind, email, name, lang, email_verified_at, created_at, updated_at) \
             VALUES ($1, $2, 'exchange', $3, $4, $5, $7, $6, $6) \
             ON CONFLICT (external_id) DO UPDATE SET email = excluded.email, name = excluded.name, \
             lang = excluded.lang, updated_at = excluded.updated_at, \
             email_verified_at = CASE WHEN excluded.email IS NULL THEN NULL \
               WHEN customers.email = excluded.email AND customers.email_verified_at IS NOT NULL \
               THEN customers.email_verified_at ELSE excluded.email_verified_at END \
             RETURNING id, external_id, kind, email, name, lang, created_at"
        )
        .bind(new_id())
        .bind(external_id)
        .bind(email)
        .bind(name)
        .bind(lang)
        .bind(now)
        .bind(email.map(|_| now))
        .fetch_one(pool)
        .await
        })?;
        Ok(c)
    }

    /// Issues a guest's one-time code (stored hashed, replacing any earlier one for that address), unless the
    /// address is locked after wrong codes or has had its codes for now: at most [`GUEST_CODES_PER_HOUR`] an
    /// hour, each after twice the wait of the one before ([`GUEST_CODE_BACKOFF_MS`], 2×, 4×...). A new code
    /// does not reset the count of wrong codes: only a success, or the end of a lock, does.
    pub async fn put_guest_code(&self, email: &str, code: &str, expires_at: i64) -> Result<GuestCodeIssue> {
        let now = now_ms();
        on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            let g: GuardRow = guard_row!(tx, email, lock);
            if let Some(until) = g.locked_until.filter(|t| *t > now) {
                return Ok(GuestCodeIssue::Locked { until });
            }
            let (window, codes) = if g.codes_window + HOUR_MS <= now { (now, 0) } else { (g.codes_window, g.codes) };
            if codes >= GUEST_CODES_PER_HOUR {
                return Ok(GuestCodeIssue::TooSoon { retry_at: window + HOUR_MS });
            }
            let wait = if codes == 0 { 0 } else { GUEST_CODE_BACKOFF_MS << (codes - 1).min(16) };
            if g.last_code_at + wait > now {
                return Ok(GuestCodeIssue::TooSoon { retry_at: g.last_code_at + wait });
            }
            // A lock that has ended: its wrong codes are forgiven (the count of locks in a row is not).
            let lock_ended = g.locked_until.is_some();
            sqlx::query(
                "UPDATE guest_guards SET codes_window = $2, codes = $3, last_code_at = $4, \
                 failures = CASE WHEN $5 THEN 0 ELSE failures END, \
                 last_lock_end = CASE WHEN $5 THEN locked_until ELSE last_lock_end END, \
                 locked_until = CASE WHEN $5 THEN NULL ELSE locked_until END WHERE email = $1",
            )
            .bind(email)
            .bind(window)
            .bind(codes + 1)
            .bind(now)
            .bind(lock_ended)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO guest_codes (email, code_hash, attempts, expires_at, created_at) VALUES ($1, $2, 0, $3, $4) \
                 ON CONFLICT (email) DO UPDATE SET code_hash = excluded.code_hash, attempts = 0, \
                 expires_at = excluded.expires_at, created_at = excluded.created_at",
            )
            .bind(email)
            .bind(hash_secret(&format!("{email}:{code}")))
            .bind(expires_at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(GuestCodeIssue::Issued)
        })
    }

    /// Checks a guest's code. Wrong codes count per address across codes; the [`GUEST_MAX_FAILURES`]th locks the
    /// address for [`GUEST_LOCK_MS`] (doubled for each further lock in a row, up to a day) and spends the code;
    /// while locked nothing is checked. The attempt is counted and checked in one transaction (on PostgreSQL
    /// the address's row is locked), so parallel guesses cannot slip past the count.
    pub async fn verify_guest_code(&self, email: &str, code: &str) -> Result<GuestVerify> {
        let now = now_ms();
        on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            let g: GuardRow = guard_row!(tx, email, lock);
            if let Some(until) = g.locked_until.filter(|t| *t > now) {
                return Ok(GuestVerify::Locked { until, just_locked: false });
            }
            let (failures, last_lock_end) = match g.locked_until {
                Some(ended) => (0, ended),
                None => (g.failures, g.last_lock_end),
            };
            let row: Option<(String, i64)> =
                sqlx::query_as("SELECT code_hash, expires_at FROM guest_codes WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&mut *tx)
                    .await?;
            let good = row.is_some_and(|(hash, expires_at)| {
                expires_at >= now && crate::constant_time_eq(&hash, &hash_secret(&format!("{email}:{code}")))
            });
            if !good {
                let failures = failures + 1;
                if failures >= GUEST_MAX_FAILURES {
                    // Locks in a row are forgotten a day after the last one ended.
                    let lockouts = if last_lock_end + DAY_MS < now { 1 } else { g.lockouts + 1 };
                    let until = now + (GUEST_LOCK_MS << (lockouts - 1).clamp(0, 6)).min(DAY_MS);
                    sqlx::query(
                        "UPDATE guest_guards SET failures = $2, locked_until = $3, lockouts = $4, last_lock_end = $5 \
                         WHERE email = $1",
                    )
                    .bind(email)
                    .bind(failures)
                    .bind(until)
                    .bind(lockouts)
                    .bind(last_lock_end)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM guest_codes WHERE email = $1").bind(email).execute(&mut *tx).await?;
                    tx.commit().await?;
                    return Ok(GuestVerify::Locked { until, just_locked: true });
                }
                sqlx::query(
                    "UPDATE guest_guards SET failures = $2, locked_until = NULL, last_lock_end = $3 WHERE email = $1",
                )
                .bind(email)
                .bind(failures)
                .bind(last_lock_end)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                return Ok(GuestVerify::Wrong { left: GUEST_MAX_FAILURES - failures });
            }
            sqlx::query("DELETE FROM guest_codes WHERE email = $1").bind(email).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE guest_guards SET failures = 0, locked_until = NULL, lockouts = 0, last_lock_end = 0 \
                 WHERE email = $1",
            )
            .bind(email)
            .execute(&mut *tx)
            .await?;
            let c: Customer = sqlx::query_as(
                "INSERT INTO customers (id, kind, email, email_verified_at, created_at, updated_at) \
                 VALUES ($1, 'guest', $2, $3, $3, $3) \
                 ON CONFLICT (email) WHERE kind = 'guest' DO UPDATE SET email_verified_at = excluded.email_verified_at \
                 RETURNING id, external_id, kind, email, name, lang, created_at",
            )
            .bind(new_id())
            .bind(email)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(GuestVerify::Verified(c))
        })
    }

    /// Opens a browser session; returns the secret for the cookie and the CSRF token of the session.
    pub async fn create_session(&self, kind: &str, principal_id: &str, ttl_ms: i64) -> Result<(String, String)> {
        let token = random_secret();
        let csrf = random_secret();
        let now = now_ms();
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO sessions (token_hash, principal_kind, principal_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(hash_secret(&token))
        .bind(kind)
        .bind(principal_id)
        .bind(&csrf)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok((token, csrf))
    }

    /// A live session by its cookie secret.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let s: Option<Session> = on_read!(self, |pool| sqlx::query_as(
            "SELECT principal_kind, principal_id, csrf, expires_at FROM sessions WHERE token_hash = $1"
        )
        .bind(hash_secret(token))
        .fetch_optional(pool)
        .await)?;
        Ok(s.filter(|s| s.expires_at > now_ms()))
    }

    /// Ends a session (logout).
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash_secret(token))
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Ends every session of an agent or customer (deactivation), or every one but `keep` (a token: the session
    /// that changed the password stays signed in). Returns how many ended.
    pub async fn delete_sessions_except(&self, kind: &str, principal_id: &str, keep: Option<&str>) -> Result<u64> {
        let keep = keep.map(hash_secret).unwrap_or_default();
        Ok(on_write!(self, |pool, _l| sqlx::query(
            "DELETE FROM sessions WHERE principal_kind = $1 AND principal_id = $2 AND token_hash <> $3"
        )
        .bind(kind)
        .bind(principal_id)
        .bind(&keep)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Moves a live session's end to `expires_at` if that is later (a visitor's short first session, once they
    /// write). `false` when the session has ended or does not exist.
    /// Through the group-commit writer on SQLite: thousands of visitors writing their first message at once
    /// must not each take the database's write lock beside the chat messages' batches.
    pub async fn extend_session(&self, token: &str, expires_at: i64) -> Result<bool> {
        let (hash, now) = (hash_secret(token), now_ms());
        let n = crate::chat::grouped_write!(self, u64, [hash], |conn| {
            Ok(sqlx::query(
                "UPDATE sessions SET expires_at = CASE WHEN expires_at < $2 THEN $2 ELSE expires_at END \
                 WHERE token_hash = $1 AND expires_at > $3",
            )
            .bind(&hash)
            .bind(expires_at)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Creates an integration token for the exchange's backend; the secret is shown once and stored hashed.
    pub async fn create_api_token(&self, name: &str) -> Result<String> {
        let name = name.trim();
        if name.is_empty() {
            return Err(lifebuoy_domain::Invalid::new("name", "a token needs a name").into());
        }
        let token = format!("lbt_{}", random_secret());
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(new_id())
        .bind(name)
        .bind(hash_secret(&token))
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(token)
    }

    /// The integration token behind a secret, if it exists and is not revoked: `(id, name)`.
    pub async fn api_token(&self, token: &str) -> Result<Option<(String, String)>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, name FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        )
        .bind(hash_secret(token))
        .fetch_optional(pool)
        .await)?)
    }

    /// Every integration token, newest first, revoked ones included (never the secret: it is stored hashed).
    pub async fn api_tokens(&self) -> Result<Vec<ApiTokenInfo>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_tokens ORDER BY created_at DESC, id"
        )
        .fetch_all(pool)
        .await)?)
    }

    /// Revokes integration tokens by id, or by name (every live token of that name). Returns the tokens revoked;
    /// none when nothing live matched.
    pub async fn revoke_api_token(&self, id_or_name: &str) -> Result<Vec<ApiTokenInfo>> {
        let key = id_or_name.trim();
        if key.is_empty() {
            return Err(lifebuoy_domain::Invalid::new("token", "name the token to revoke (its id or name)").into());
        }
        Ok(on_write!(self, |pool, _l| sqlx::query_as(
            "UPDATE api_tokens SET revoked_at = $2 WHERE (id = $1 OR name = $1) AND revoked_at IS NULL \
             RETURNING id, name, created_at, revoked_at"
        )
        .bind(key)
        .bind(now_ms())
        .fetch_all(pool)
        .await)?)
    }
}
