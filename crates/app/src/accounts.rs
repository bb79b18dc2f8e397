//! Accounts and sessions: email-verified guests' sign-in codes; unlocking an agent locked out by failed
//! sign-ins, deactivating and reactivating agents, changing one's password; ending sessions, which closes
//! their open WebSockets on every node. Passwords are hashed with argon2id on a small pool of threads of their
//! own.
//!
//! Guest codes: guessing is bounded per address across codes (the store counts wrong codes until a success:
//! five lock the address, each lock in a row twice as long), codes per address are capped and spaced out,
//! codes per client address are capped, and the address's owner is mailed when it locks. With 8-digit codes and
//! at most five guesses per lock period, a day of guessing at one address (about 35 guesses) succeeds with odds
//! of about 1 in 3 million.

use crate::chat::hub::{BusEvent, Control};
use crate::{Actor, App, AppError, AppResult};
use lifebuoy_domain::{AgentNo, Email, Lang, Role};
use lifebuoy_store::{Customer, GuestCodeIssue, GuestVerify, now_ms};

/// How long a guest code stays valid.
pub const CODE_TTL_MS: i64 = 15 * 60 * 1000;
/// Digits in a guest code.
pub const CODE_DIGITS: u32 = 8;
/// Guest codes one client address may ask for per hour, whatever the email addresses.
pub const CODES_PER_CLIENT_HOUR: i64 = 20;

fn wait(code: &'static str, until_ms: i64, message: String) -> AppError {
    let secs = ((until_ms - now_ms()).max(0) + 999) / 1000;
    AppError::RateLimited { code, retry_after_s: secs.max(1) as u64, message }
}

fn minutes(until_ms: i64) -> i64 {
    ((until_ms - now_ms()).max(0) + 59_999) / 60_000
}

fn locked(until: i64) -> AppError {
    wait("locked", until, format!("too many wrong codes for this address; try again in {} minutes", minutes(until)))
}

/// The shortest password an agent may choose.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A new agent account, as an admin fills it in.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgentInput {
    pub email: String,
    pub display_name: String,
    pub agent_no: String,
    pub role: Role,
    pub languages: Vec<String>,
    pub departments: Vec<String>,
    pub password: String,
}

/// Which sessions of a person end.
#[derive(Debug, Clone, Copy)]
pub enum Ending<'a> {
    /// One session (logout), by its token.
    One(&'a str),
    /// Every session (deactivation).
    All,
    /// Every session but the one that asked (a new password: the person who changed it stays signed in).
    AllBut(&'a str),
}

/// May this actor manage agent accounts? Admins, and the exchange's backend by its integration token.
fn manages_accounts(actor: &Actor) -> bool {
    match actor {
        Actor::Agent(a) => a.role == Role::Admin,
        Actor::Integration { .. } | Actor::System { .. } => true,
        Actor::Customer(_) => false,
    }
}

impl App {
    /// Ends sessions of an agent (`kind` "agent") or customer ("customer") and tells their open WebSockets:
    /// each connection of that person re-checks its own session on the hub's notice and closes if it has
    /// ended; nodes that miss the notice find out at their next periodic check.
    pub async fn end_sessions(&self, kind: &str, principal_id: &str, which: Ending<'_>) -> AppResult<u64> {
        let n = match which {
            Ending::One(t) => {
                self.store.delete_session(t).await?;
                1
            }
            Ending::All => self.store.delete_sessions_except(kind, principal_id, None).await?,
            Ending::AllBut(t) => self.store.delete_sessions_except(kind, principal_id, Some(t)).await?,
        };
        let topic = match kind {
            "agent" => format!("a:{principal_id}"),
            _ => format!("k:{principal_id}"),
        };
        self.hub.publish(BusEvent {
            topic,
            conversation_id: None,
            seq: None,
            internal: true,
            frame: r#"{"type":"session_check"}"#.into(),
            control: Some(Control::SessionEnded),
        });
        Ok(n)
    }

    /// Joins the chats a customer had as a visitor (the widget's pre-chat form, on this browser) to their
    /// account once they sign in: holding the visitor session's token is the proof that those chats are theirs
    /// (an email typed in the pre-chat form proves nothing). The visitor's sessions end and its open widget
    /// connections are told. A token that is no live visitor session joins nothing. Returns the conversations
    /// joined.
    pub async fn join_visitor(&self, actor: &Actor, visitor_token: &str) -> AppResult<Vec<String>> {
        let Actor::Customer(me) = actor else { return Err(AppError::forbidden("customers only")) };
        if me.kind == "visitor" {
            return Err(AppError::forbidden("sign in to join a visitor's chats to an account"));
        }
        let Some(s) = self.store.session(visitor_token).await?.filter(|s| s.principal_kind == "customer") else {
            return Ok(Vec::new());
        };
        let joined = self.store.join_visitor(&s.principal_id, &me.id).await?;
        if !joined.is_empty() {
            tracing::info!(visitor = %s.principal_id, customer = %me.id, conversations = joined.len(), "joined a visitor's chats to an account");
            self.end_sessions("customer", &s.principal_id, Ending::All).await?;
            // The ticket index keeps each case's customer: the join logged the change; read it now.
            self.tickets.changed();
        }
        Ok(joined)
    }

    /// Issues a guest sign-in code for an address and mails it. `client` is the asking client's address key
    /// (codes per client are capped). Returns the parsed address and the code (shown on screen in demo mode).
    pub async fn issue_guest_code(&self, client: &str, email: &str) -> AppResult<(Email, String)> {
        let email = Email::parse(email)?;
        let bucket = format!("guest-code:{client}");
        if let Err(t) = self.store.throttle_take(&bucket, CODES_PER_CLIENT_HOUR, 3600 * 1000).await? {
            let msg =
                format!("too many codes asked for from your address; try again in {} minutes", minutes(t.retry_at));
            return Err(wait("rate_limited", t.retry_at, msg));
        }
        let code = {
            use rand::Rng;
            let n = 10u64.pow(CODE_DIGITS);
            format!("{:0width$}", rand::rng().random_range(0..n), width = CODE_DIGITS as usize)
        };
        match self.store.put_guest_code(email.as_str(), &code, now_ms() + CODE_TTL_MS).await? {
            GuestCodeIssue::Issued => {}
            GuestCodeIssue::TooSoon { retry_at } => {
                let secs = ((retry_at - now_ms()).max(0) + 999) / 1000;
                let msg = format!("a code was sent to this address moments ago; you can ask for another in {secs} s");
                return Err(wait("rate_limited", retry_at, msg));
            }
            GuestCodeIssue::Locked { until } => return Err(locked(until)),
        }
        self.mailer.send_guest_code(email.as_str(), &code);
        Ok((email, code))
    }

    /// Checks a guest's code: the verified guest, or `invalid_code`, or `locked` (and, when this attempt locked
    /// the address, a mail to its owner).
    pub async fn verify_guest_code(&self, email: &str, code: &str) -> AppResult<Customer> {
        let email = Email::parse(email)?;
        match self.store.verify_guest_code(email.as_str(), code.trim()).await? {
            GuestVerify::Verified(c) => Ok(c),
            GuestVerify::Wrong { left } => Err(AppError::Unauthenticated {
                code: "invalid_code",
                message: format!(
                    "the code is wrong or expired; ask for a new one ({left} more wrong codes lock this address)"
                ),
            }),
            GuestVerify::Locked { until, just_locked } => {
                if just_locked {
                    tracing::warn!(email = email.as_str(), "guest sign-in locked after wrong codes");
                    self.mailer.send_guest_locked(email.as_str(), minutes(until));
                }
                Err(locked(until))
            }
        }
    }

    /// Creates an agent account (admins, and the exchange's backend).
    pub async fn create_agent(&self, actor: &Actor, r: &NewAgentInput) -> AppResult<lifebuoy_store::Agent> {
        if !manages_accounts(actor) {
            return Err(AppError::forbidden("admins only"));
        }
        let email = Email::parse(r.email.trim()).map_err(|e| AppError::invalid("email", e))?;
        let display_name = crate::tickets::text_field("display_name", &r.display_name, 100)?;
        let agent_no = AgentNo::parse(r.agent_no.trim()).map_err(|e| AppError::invalid("agent_no", e))?;
        if r.password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AppError::invalid("password", format!("at least {MIN_PASSWORD_CHARS} characters")));
        }
        let languages = r
            .languages
            .iter()
            .map(|l| Lang::from_tag(l).ok_or_else(|| AppError::invalid("languages", "zh-Hans, zh-Hant or en")))
            .collect::<Result<Vec<_>, _>>()?;
        if languages.is_empty() {
            return Err(AppError::invalid("languages", "at least one"));
        }
        let known: Vec<String> = self.store.departments().await?.into_iter().map(|d| d.id).collect();
        if r.departments.is_empty() || r.departments.iter().any(|d| !known.contains(d)) {
            return Err(AppError::invalid("departments", format!("one or more of {}", known.join(", "))));
        }
        let password_hash = hash_password_async(r.password.clone()).await;
        let a = self
            .store
            .create_agent(&lifebuoy_store::NewAgent {
                email: email.as_str().to_string(),
                display_name,
                agent_no,
                role: r.role,
                languages,
                departments: r.departments.clone(),
                password_hash,
            })
            .await?;
        tracing::info!(agent = %a.id, by = %actor.key(), "agent account created");
        Ok(a)
    }

    /// Lifts a sign-in lock at once instead of the agent waiting it out; the failure count starts again.
    pub async fn unlock_agent(&self, actor: &Actor, agent_id: &str) -> AppResult<()> {
        if !manages_accounts(actor) {
            return Err(AppError::forbidden("admins only"));
        }
        if !self.store.unlock_agent(agent_id).await? {
            return Err(AppError::NotFound);
        }
        tracing::info!(agent = %agent_id, by = %actor.key(), "agent sign-in unlocked");
        Ok(())
    }

    /// Deactivates an agent (they leave, or their account is suspected stolen): they can no longer sign in,
    /// every session of theirs ends and their open consoles close at once. Reactivating lets them sign in
    /// again; it brings back no session. An admin cannot deactivate themselves (someone must be left to undo it).
    pub async fn set_agent_active(&self, actor: &Actor, agent_id: &str, active: bool) -> AppResult<()> {
        if !manages_accounts(actor) {
            return Err(AppError::forbidden("admins only"));
        }
        if !active && matches!(actor, Actor::Agent(a) if a.id == agent_id) {
            return Err(AppError::conflict("own_account", "you cannot deactivate your own account"));
        }
        if !self.store.set_agent_active(agent_id, active).await? {
            return Err(AppError::NotFound);
        }
        if !active {
            self.end_sessions("agent", agent_id, Ending::All).await?;
        }
        tracing::info!(agent = %agent_id, active, by = %actor.key(), "agent account changed");
        Ok(())
    }

    /// An agent changes their own password: the current one must be right, the new one at least
    /// [`MIN_PASSWORD_CHARS`] characters. Every other session of theirs ends (a thief signed in elsewhere is
    /// signed out); `session` (the one asking, if any) stays.
    pub async fn change_password(
        &self,
        actor: &Actor,
        session: Option<&str>,
        current: &str,
        new: &str,
    ) -> AppResult<()> {
        let Actor::Agent(agent) = actor else {
            return Err(AppError::forbidden("only agents have passwords here"));
        };
        if new.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AppError::invalid("new_password", format!("at least {MIN_PASSWORD_CHARS} characters")));
        }
        if new == current {
            return Err(AppError::invalid("new_password", "must differ from the current password"));
        }
        let hash = self.store.agent_password_hash(&agent.id).await?.ok_or(AppError::NotFound)?;
        if !verify_password_async(current.to_string(), hash).await {
            return Err(AppError::forbidden("the current password is not right"));
        }
        let hash = hash_password_async(new.to_string()).await;
        if !self.store.set_agent_password(&agent.id, &hash).await? {
            return Err(AppError::NotFound);
        }
        let which = match session {
            Some(t) => Ending::AllBut(t),
            None => Ending::All,
        };
        self.end_sessions("agent", &agent.id, which).await?;
        tracing::info!(agent = %agent.id, "agent changed their password");
        Ok(())
    }
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("argon2 hashing")
        .to_string()
}

/// Checks a password against an argon2 hash, in constant time.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Password hashing off the async workers, on a small fixed pool of threads. Argon2 takes ~19 MiB and tens of
/// milliseconds per hash: run on the runtime it would stall every connection of that worker; run on
/// arbitrary blocking threads, each thread's malloc arena keeps its own 19 MiB after a burst of sign-ins (we
/// measured 320 MB resident after 12 parallel logins). Two threads bound both the CPU and the memory, and
/// queue the rest: a burst of guesses waits its turn instead of starving the server.
mod hasher {
    use std::sync::{LazyLock, Mutex, mpsc};
    type Job = Box<dyn FnOnce() + Send>;
    static POOL: LazyLock<Mutex<mpsc::Sender<Job>>> = LazyLock::new(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for i in 0..2 {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("lb-argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("spawning a hashing thread");
        }
        Mutex::new(tx)
    });

    pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        POOL.lock().expect("hasher pool").send(job).expect("hashing threads run for the process's life");
        rx.await.expect("a hashing job always answers")
    }
}

/// [`hash_password`] on the hashing threads.
pub async fn hash_password_async(password: String) -> String {
    hasher::run(move || hash_password(&password)).await
}

/// [`verify_password`] on the hashing threads.
pub async fn verify_password_async(password: String, hash: String) -> bool {
    hasher::run(move || verify_password(&password, &hash)).await
}
