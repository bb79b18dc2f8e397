//! Lifebuoy's storage. One [`Store`] speaks to SQLite (the default: a file in the data dir, WAL, a single
//! writer connection and a pool of readers) or to PostgreSQL (`postgres://...`). Both run the same portable
//! SQL; each backend owns its migrations, run on open. Every write that belongs together is one transaction.

mod accounts;
mod alerts;
pub mod analytics;
mod announcements;
mod c2c;
mod chat;
mod commits;
mod conversations;
mod customer_context;
mod customer_notes;
mod files;
mod idempotency;
pub mod index_log;
mod jobs;
mod kb;
mod mail;
mod notifications;
mod privacy;
mod records;
pub mod routing;
mod rows;
mod sla;
mod throttle;
mod ticket_routing;
mod ticket_text;
mod trust;
mod webhooks;
mod writer;

pub use accounts::{
    Agent, ApiTokenInfo, Customer, GUEST_CODE_BACKOFF_MS, GUEST_CODES_PER_HOUR, GUEST_LOCK_MS, GUEST_MAX_FAILURES,
    GuestCodeIssue, GuestVerify, NewAgent, Principal, Session,
};
pub use alerts::{NewAlert, StaffAlert, TopicCount, TopicExample};
pub use analytics::{FoldState, GroupBy, METRIC_COUNT, METRICS, Metrics, Part, RollupFilter, RollupKey};
pub use announcements::{Announcement, NewAnnouncement};
pub use c2c::{Appeal, AppealChange, NewOrder, Order, OrderEventOutcome, QueuedAppeal};
pub use chat::{
    Appended, CannedReply, Chat, ChatState, DEFAULT_CAPACITY, InboxItem, NewChat, Presence, Side, chat_status,
};
pub use commits::{CommitListener, Committed, Entry, OutboxRule};
pub use conversations::{
    Actor, Cursor, NewTicket, Page, QueueFilter, QueueSort, ReplyOutcome, ReplyParts, Scope, TicketChange,
    TimelineItem, clean_tags, default_department,
};
pub use customer_context::{ContextSource, ExchangeUserProfile};
pub use customer_notes::CustomerNote;
pub use files::{AttachmentMeta, FileStore};
pub use index_log::{ChangePage, IndexChange, Indexed, LogInfo, LogPos, LogReader};
pub use jobs::{DEFAULT_MAX_ATTEMPTS, JOB_STATES, Job, JobCounts, JobDone, JobFailed, JobRun, NewJob};
pub use kb::{
    KbArticle, KbArticleInput, KbAuthor, KbCategory, KbDeflection, KbFilter, KbImportReport, KbQueryCount, KbSearchLog,
    KbSynonymGroup, KbTranslation, KbVersion, KbVoteCount, clean_article, split_keywords, valid_slug,
};
pub use mail::{BlockedSender, InboundMail, MailContext, MailRecord, MailRejection, RefusalReason};
pub use notifications::{CaseRating, NewNotification, Notification, StoredTemplate};
pub use privacy::{DataRequest, DeletedRow, DeletionState, PurgeLogRow, RetentionPolicy};
pub use records::{AccessRow, ChainEntry, CustomerHit, HistoryFilter, HistoryRow, LegalHold, NewAccess};
pub use rows::{Conversation, Department, Event, Message, NO_CLOCK};
pub use sla::{KeptClock, SlaPolicy};
pub use throttle::Throttled;
pub use ticket_text::TicketText;
pub use trust::{Emergency, StepUp, TrustChannel};
pub use webhooks::{WebhookDelivery, WebhookEndpoint};

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// Everything a storage call can fail with. The web layer maps each to a status and a stable code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Invalid(#[from] lifebuoy_domain::Invalid),
    #[error("{0}")]
    Status(#[from] lifebuoy_domain::StatusError),
    #[error("{0}")]
    Conflict(#[from] Conflict),
    #[error("{0}")]
    Forbidden(String),
    /// The database did not take the write (the writer stopped, a commit failed): nothing was saved, and the
    /// caller may try again. Not a conflict with other data: HTTP 503, not 409.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// From the group writer's raw SQLite path (`writer.rs`).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Stored data breaks one of the store's own invariants (an unreadable saved version, a transition without
    /// its event): a defect to log, not the caller's fault. HTTP 500-class, never shown in detail.
    #[error("stored data is inconsistent: {0}")]
    Inconsistent(String),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("file storage: {0}")]
    Io(#[from] std::io::Error),
}

/// Why a change was refused by the data as it stands. Each has a stable [`Conflict::code`] that the web layer
/// translates for the person who sees it; the `Display` text is English, for logs and the REST API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("an agent with this email or agent number exists")]
    AgentExists,
    #[error("this chat has ended; start a new one")]
    ChatEnded,
    #[error("only an ended chat of yours can be rated")]
    NotRateable,
    #[error("the case already has this assignee")]
    SameAssignee,
    #[error("the case is already in this department")]
    SameDepartment,
    #[error("the case is already with a supervisor")]
    TopTier,
    #[error("nothing to change")]
    NothingToChange,
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    /// Only failed and dead jobs are retried; the job's state.
    #[error("a {0} job cannot be retried")]
    JobNotRetryable(String),
    /// The slug asked for.
    #[error("an article with the slug {0:?} exists")]
    SlugTaken(String),
    /// The version the editor started from, and the one saved since.
    #[error(
        "this article was saved by someone else meanwhile (version {saved} is newer than your {yours}); reload and edit again"
    )]
    StaleVersion { yours: i64, saved: i64 },
    /// A legal hold covers the customer or the conversation: nothing of it may be deleted or erased.
    #[error("a legal hold covers this customer or conversation: nothing of it may be deleted or erased while it lasts")]
    LegalHold,
    /// A one-time step taken already (an emergency confirmed, a step-up completed).
    #[error("this has already been done")]
    AlreadyDone,
    /// An order id registered already for another trade (other parties or amounts).
    #[error("an order with this id is registered with other parties or amounts")]
    OrderMismatch,
    /// The order has an appeal still open.
    #[error("this order has an appeal open already")]
    AppealOpen,
    /// The appeal moved meanwhile (someone else acted on it first).
    #[error("the appeal changed meanwhile; reload it")]
    AppealMoved,
}

impl Conflict {
    /// The stable snake_case code, as the API and the UI's translations name it.
    pub fn code(&self) -> &'static str {
        match self {
            Conflict::AgentExists => "agent_exists",
            Conflict::AlreadyDone => "already_done",
            Conflict::ChatEnded => "chat_ended",
            Conflict::NotRateable => "not_rateable",
            Conflict::SameAssignee => "same_assignee",
            Conflict::SameDepartment => "same_department",
            Conflict::TopTier => "top_tier",
            Conflict::NothingToChange => "nothing_to_change",
            Conflict::IdempotencyKeyReused => "idempotency_key_reused",
            Conflict::JobNotRetryable(_) => "job_not_retryable",
            Conflict::SlugTaken(_) => "slug_taken",
            Conflict::StaleVersion { .. } => "stale_version",
            Conflict::LegalHold => "legal_hold",
            Conflict::OrderMismatch => "order_mismatch",
            Conflict::AppealOpen => "appeal_open",
            Conflict::AppealMoved => "appeal_moved",
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) enum Db {
    /// SQLite allows one writer at a time: writes go through a pool of one connection so they queue in
    /// process instead of failing with SQLITE_BUSY; readers use WAL snapshots in parallel.
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        group: writer::GroupWriter,
        /// Dropped with the store: stops the checkpointer.
        _checkpointer: tokio::sync::oneshot::Sender<()>,
    },
    Postgres(PgPool),
}

/// The handle every part of Lifebuoy stores through. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: std::sync::Arc<Db>,
    /// Who hears of committed writes ([`Store::on_commit`]).
    pub(crate) listeners: std::sync::Arc<commits::Listeners>,
    /// What writes enqueue in their own transaction ([`Store::add_outbox_rule`]).
    pub(crate) outbox: std::sync::Arc<commits::Outbox>,
    /// Wakes this process's job runners after a commit that enqueued jobs ([`Store::wake_runners`]).
    pub(crate) jobs_wake: std::sync::Arc<tokio::sync::Notify>,
}

/// A handle on a [`Store`] that does not keep it open: for what the store itself holds (a post-commit listener
/// that reads from the store would otherwise keep it, its pools and every other listener alive forever).
#[derive(Clone)]
pub struct WeakStore {
    db: std::sync::Weak<Db>,
    listeners: std::sync::Weak<commits::Listeners>,
    outbox: std::sync::Weak<commits::Outbox>,
    jobs_wake: std::sync::Weak<tokio::sync::Notify>,
}

impl WeakStore {
    /// The store, while anything else still holds it.
    pub fn upgrade(&self) -> Option<Store> {
        Some(Store {
            db: self.db.upgrade()?,
            listeners: self.listeners.upgrade()?,
            outbox: self.outbox.upgrade()?,
            jobs_wake: self.jobs_wake.upgrade()?,
        })
    }
}

impl Store {
    /// A handle that does not keep the store open ([`WeakStore`]).
    pub fn downgrade(&self) -> WeakStore {
        WeakStore {
            db: std::sync::Arc::downgrade(&self.db),
            listeners: std::sync::Arc::downgrade(&self.listeners),
            outbox: std::sync::Arc::downgrade(&self.outbox),
            jobs_wake: std::sync::Arc::downgrade(&self.jobs_wake),
        }
    }
}

/// Runs `$body` with `$pool` bound to the writer pool of whichever backend this is, and `$lock` to the row-lock
/// suffix of a SELECT (`FOR UPDATE` on PostgreSQL; SQLite's single writer already serialises).
macro_rules! on_write {
    ($s:expr, |$pool:ident, $lock:ident| $body:expr) => {
        match &*$s.db {
            $crate::Db::Sqlite { write, .. } => {
                let $pool = write;
                #[allow(unused_variables)]
                let $lock = "";
                $body
            }
            $crate::Db::Postgres(p) => {
                let $pool = p;
                #[allow(unused_variables)]
                let $lock = " FOR UPDATE";
                $body
            }
        }
    };
}

/// Runs `$body` with `$pool` bound to a reader pool.
macro_rules! on_read {
    ($s:expr, |$pool:ident| $body:expr) => {
        match &*$s.db {
            $crate::Db::Sqlite { read, .. } => {
                let $pool = read;
                $body
            }
            $crate::Db::Postgres(p) => {
                let $pool = p;
                $body
            }
        }
    };
}
pub(crate) use {on_read, on_write};

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path`, a bare file path, or `postgres://...`.
    pub url: String,
    /// SQLite only: fsync every commit (`FULL`, the default: acknowledged means on disk) or only at checkpoints
    /// (`NORMAL`: survives a crashed process, not a lost machine).
    pub sqlite_sync_full: bool,
    /// PostgreSQL pool size.
    pub max_connections: u32,
}

impl StoreOptions {
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions { url: url.into(), sqlite_sync_full: true, max_connections: 16 }
    }
}

impl Store {
    /// Opens (creating if needed) the database and runs its migrations.
    pub async fn open(opts: &StoreOptions) -> Result<Store> {
        let store = Store::connect(opts).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(opts: &StoreOptions) -> Result<Store> {
        let url = opts.url.as_str();
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Db::Postgres(pool)
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            let base = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(if opts.sqlite_sync_full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal })
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Page cache: 16 MiB for the writer, 4 MiB per reader (set below); the OS page cache holds the
                // rest, shared, instead of nine private copies of the hot pages.
                .pragma("cache_size", "-16384")
                .pragma("temp_store", "memory")
                // A WAL that grew under a burst is cut back to 64 MiB when it is next reset.
                .pragma("journal_size_limit", "67108864");
            // The writer never checkpoints: an automatic checkpoint runs inside the commit that crosses the WAL
            // threshold and holds every queued write behind it (tens of milliseconds with fsync). A separate
            // connection checkpoints instead, beside the writer (WAL lets them run at once).
            // No ping before each use (`test_before_acquire`): a local file's connection cannot go stale, and on
            // SQLite the ping is one more round trip to the connection's worker thread for every query.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(base.clone().pragma("wal_autocheckpoint", "0"))
                .await?;
            let checkpoint = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(base.clone().pragma("cache_size", "-256"))
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(base.read_only(true).pragma("cache_size", "-4096"))
                .await?;
            let group = writer::GroupWriter::spawn(write.clone());
            let (stop, stopped) = tokio::sync::oneshot::channel();
            tokio::spawn(writer::checkpointer(checkpoint, stopped));
            Db::Sqlite { write, read, group, _checkpointer: stop }
        };
        Ok(Store {
            db: std::sync::Arc::new(db),
            listeners: Default::default(),
            outbox: Default::default(),
            jobs_wake: Default::default(),
        })
    }

    /// Runs this backend's migrations.
    pub async fn migrate(&self) -> Result<()> {
        match &*self.db {
            Db::Sqlite { write, .. } => sqlx::migrate!("migrations/sqlite").run(write).await?,
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        self.recount_chat_load().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match &*self.db {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match &*self.db {
            Db::Sqlite { write, read, .. } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }

    /// A cheap liveness probe.
    pub async fn ping(&self) -> Result<()> {
        on_read!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }
}

/// Milliseconds since the Unix epoch: the one time representation in storage.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A new time-ordered id (UUIDv7), so ids also sort by creation.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// SHA-256 hex of a secret: tokens and session ids are stored only as hashes.
pub fn hash_secret(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// A random URL-safe secret of 32 bytes.
pub fn random_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Compares two secrets' hashes without an early exit.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    // SQLite reports a primary-key clash as code 1555, which sqlx does not classify as a unique violation.
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation() || matches!(d.code().as_deref(), Some("1555" | "2067")))
}
