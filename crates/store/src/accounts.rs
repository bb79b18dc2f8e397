//! Agents, customers, sessions and integration tokens.

use crate::{Result, Store, StoreError, hash_secret, new_id, now_ms, on_read, on_write, random_secret};
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
                return Err(if crate::is_unique_violation(&e) {
                    StoreError::Conflict("an agent with this email or agent number exists".into())
                } else {
                    e.into()
                });
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

    /// Counts a failed login; after `max_failures` in a row the account locks until `lock_until`.
    pub async fn record_login_failure(&self, agent_id: &str, max_failures: i64, lock_until: i64) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "UPDATE agents SET failed_logins = failed_logins + 1, \
             locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END WHERE id = $1"
        )
        .bind(agent_id)
        .bind(max_failures)
        .bind(lock_until)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
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
    pub async fn upsert_exchange_customer(
        &self,
        external_id: &str,
        email: Option<&str>,
        name: Option<&str>,
        lang: Option<&str>,
    ) -> Result<Customer> {
        let existing: Option<Customer> = on_read!(self, |pool| sqlx::query_as(
            "SELECT id, external_id, kind, email, name, lang, created_at FROM customers WHERE external_id = $1"
        )
        .bind(external_id)
        .fetch_optional(pool)
        .await)?;
        if let Some(c) = &existing
            && c.email.as_deref() == email
            && c.name.as_deref() == name
            && c.lang.as_deref() == lang
        {
            return Ok(c.clone());
        }
        let now = now_ms();
        let c: Customer = on_write!(self, |pool, _l| sqlx::query_as(
            "INSERT INTO customers (id, external_id, kind, email, name, lang, created_at, updated_at) \
             VALUES ($1, $2, 'exchange', $3, $4, $5, $6, $6) \
             ON CONFLICT (external_id) DO UPDATE SET email = excluded.email, name = excluded.name, \
             lang = excluded.lang, updated_at = excluded.updated_at \
             RETURNING id, external_id, kind, email, name, lang, created_at"
        )
        .bind(new_id())
        .bind(external_id)
        .bind(email)
        .bind(name)
        .bind(lang)
        .bind(now)
        .fetch_one(pool)
        .await)?;
        Ok(c)
    }

    /// Stores a guest's one-time code (hashed), replacing any earlier one for that address.
    pub async fn put_guest_code(&self, email: &str, code: &str, expires_at: i64) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO guest_codes (email, code_hash, attempts, expires_at, created_at) VALUES ($1, $2, 0, $3, $4) \
             ON CONFLICT (email) DO UPDATE SET code_hash = excluded.code_hash, attempts = 0, \
             expires_at = excluded.expires_at, created_at = excluded.created_at"
        )
        .bind(email)
        .bind(hash_secret(&format!("{email}:{code}")))
        .bind(expires_at)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Checks a guest's code (five tries, then it is spent) and returns the verified guest customer.
    pub async fn verify_guest_code(&self, email: &str, code: &str) -> Result<Option<Customer>> {
        let now = now_ms();
        on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            let row: Option<(String, i64, i64)> =
                sqlx::query_as("SELECT code_hash, attempts, expires_at FROM guest_codes WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((hash, attempts, expires_at)) = row else { return Ok(None) };
            if attempts >= 5 || expires_at < now || hash != hash_secret(&format!("{email}:{code}")) {
                sqlx::query("UPDATE guest_codes SET attempts = attempts + 1 WHERE email = $1")
                    .bind(email)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(None);
            }
            sqlx::query("DELETE FROM guest_codes WHERE email = $1").bind(email).execute(&mut *tx).await?;
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
            Ok(Some(c))
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
}
