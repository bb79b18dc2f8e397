//! Lifebuoy's application core: every use case (tickets, live chat with its bot and routing, the knowledge
//! base, ticket search, mail) as a function that takes an [`Actor`] — a customer, an agent with role and
//! departments, the exchange's integration, or a system job — instead of an HTTP caller. Each use case checks
//! its rules itself and answers with an [`AppError`] carrying a stable code. The web crate maps those to HTTP
//! statuses, the WebSocket handlers to frame codes; nothing here knows of HTTP.

pub mod accounts;
pub mod actor;
pub mod alerts;
pub mod analytics;
pub mod announcements;
pub mod attachments;
pub mod c2c;
pub mod chat;
pub mod customer_context;
pub mod customers;
pub mod error;
pub mod http_out;
pub mod index_dir;
pub mod jobs;
pub mod knowledge;
pub mod mail;
pub mod mail_admin;
pub mod mail_imap;
pub mod mail_in;
pub mod mail_out;
pub mod mail_text;
pub mod notify;
pub mod privacy;
pub mod records;
pub mod signing;
pub mod sla;
pub mod sla_policies;
pub mod ticket_routing;
pub mod ticket_search;
pub mod tickets;
pub mod tls;
pub mod trends;
pub mod trust;
pub mod webhooks;

pub use actor::Actor;
pub use error::{AppError, AppResult};

use lifebuoy_store::{FileStore, Store};
use std::sync::Arc;

impl App {
    /// What `serve` runs: the job runner with the built-in kinds and this application's (mail replies), and the
    /// built-in chains started.
    pub async fn start_jobs(&self) -> Result<jobs::RunnerHandle, jobs::JobError> {
        self.start_jobs_with(jobs::RunnerOptions::default()).await
    }

    /// [`App::start_jobs`] with the runner's options (a test's quicker backoff).
    pub async fn start_jobs_with(&self, options: jobs::RunnerOptions) -> Result<jobs::RunnerHandle, jobs::JobError> {
        let mut registry = jobs::Registry::new();
        jobs::builtin::register(&mut registry)?;
        let app = self.clone();
        registry.register(mail_out::REPLY, move |job, ctx| {
            let app = app.clone();
            async move { mail_out::send_reply(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(notify::JOB, move |job, ctx| {
            let app = app.clone();
            async move { notify::run(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(trust::emergency::FREEZE_JOB, move |job, ctx| {
            let app = app.clone();
            async move { trust::emergency::run_freeze(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(c2c::EVIDENCE_JOB, move |job, ctx| {
            let app = app.clone();
            async move { c2c::run_deadline(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(webhooks::FANOUT_JOB, move |job, ctx| {
            let app = app.clone();
            async move { webhooks::run_fanout(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(webhooks::DELIVER_JOB, move |job, ctx| {
            let app = app.clone();
            async move { webhooks::run_deliver(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(sla::CHECK_JOB, move |job, ctx| {
            let app = app.clone();
            async move { sla::run_check(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(records::PURGE_JOB, move |job, ctx| {
            let app = app.clone();
            async move { records::purge(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(analytics::FOLD_JOB, move |job, ctx| {
            let app = app.clone();
            async move { analytics::run_fold(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(alerts::MAIL_JOB, move |job, ctx| {
            let app = app.clone();
            async move { alerts::run_mail(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(trends::SCAN_JOB, move |job, ctx| {
            let app = app.clone();
            async move { trends::run_scan(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(sla::KEEP_JOB, move |job, ctx| {
            let app = app.clone();
            async move { sla::run_keep(&app, job, ctx).await }
        })?;
        let app = self.clone();
        registry.register(ticket_routing::SWEEP_JOB, move |job, ctx| {
            let app = app.clone();
            async move { ticket_routing::run_sweep(&app, job, ctx).await }
        })?;
        let runner = jobs::Runner::start(self.store.clone(), registry, options)?;
        jobs::builtin::schedule(&self.store).await?;
        self.store
            .enqueue_jobs(&[jobs::builtin::next_in_chain(
                records::PURGE_JOB,
                serde_json::json!({"every_s": records::PURGE_EVERY_S, "recovery_days": records::RECOVERY_DAYS}),
                records::PURGE_EVERY_S,
                lifebuoy_store::now_ms(),
            )])
            .await?;
        self.store
            .enqueue_jobs(&[
                analytics::first_link(),
                ticket_routing::first_link(),
                sla::first_keep_link(),
                trends::first_link(),
            ])
            .await?;
        Ok(runner)
    }
}

/// Everything a use case can reach: storage, the indexes, the hub, the mailer. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub files: FileStore,
    pub mailer: mail::Mailer,
    /// The knowledge-base index (in memory; built from the database by [`App::load_kb`]).
    pub kb: Arc<lifebuoy_search::KbIndex>,
    /// Live-chat notifications between connections (and, with NATS, between nodes).
    pub hub: chat::Hub,
    /// Keeps this node's knowledge-base index in step with the database and the other nodes.
    pub kb_sync: Arc<knowledge::KbSync>,
    /// The agents' ticket search: this node's ticket index (in memory unless [`App::with_ticket_index_in`]
    /// put it on disk), built and kept in step by [`App::load_tickets`].
    pub tickets: Arc<ticket_search::TicketSearch>,
    /// Where customers reach this desk (`--public-url`), for links in mail; `http://localhost:8080` unset.
    pub public_url: Option<String>,
    /// The key that signs communication records (an ephemeral one unless [`App::with_signing_key_in`] set the
    /// node's own).
    pub signer: Arc<records::Signer>,
    /// The exchange's freeze endpoint for "my account may be stolen" (`--freeze-url`, `--freeze-secret`).
    pub freeze: Option<trust::emergency::FreezeEndpoint>,
    /// This node's answers from the exchange's customer-context source.
    pub account_cache: Arc<customer_context::Cache>,
    /// This node's copy of the SLA policies.
    pub sla_policies: Arc<sla::PolicyCache>,
    /// This node's copy of the ticket routing mode.
    pub ticket_routing: Arc<ticket_routing::ModeCache>,
}

impl App {
    /// The application over a store. Attaches the live-chat feed to the store's post-commit stream: make one
    /// `App` per store (clone it to share).
    pub fn new(store: Store, files: FileStore, mailer: mail::Mailer) -> Self {
        let hub = chat::Hub::new();
        chat::feed::attach(&store, &hub);
        store.add_outbox_rule(mail_out::outbox_rule);
        store.add_outbox_rule(notify::outbox_rule);
        store.add_outbox_rule(webhooks::outbox_rule);
        store.add_outbox_rule(sla::outbox_rule);
        App {
            store,
            files,
            mailer,
            kb: Arc::new(lifebuoy_search::KbIndex::open_in_ram().expect("an in-memory index opens")),
            hub,
            kb_sync: Default::default(),
            tickets: Arc::new(ticket_search::TicketSearch::in_ram().expect("an in-memory index opens")),
            public_url: None,
            signer: Arc::new(records::Signer::ephemeral()),
            freeze: None,
            account_cache: Default::default(),
            sla_policies: Default::default(),
            ticket_routing: Default::default(),
        }
    }

    /// Signs records with the node's key kept in `dir` (created there on first start).
    pub fn with_signing_key_in(mut self, dir: &std::path::Path) -> std::io::Result<Self> {
        self.signer = Arc::new(records::Signer::load_or_create(dir)?);
        Ok(self)
    }

    /// The desk's public address, without a trailing slash: where links in mail point.
    pub fn public_url(&self) -> String {
        self.public_url.as_deref().unwrap_or("http://localhost:8080").trim_end_matches('/').to_string()
    }

    /// Puts the ticket index on disk, in a directory of this node's own under `root` (call before
    /// [`App::load_tickets`]).
    pub fn with_ticket_index_in(mut self, root: &std::path::Path) -> Result<Self, ticket_search::TicketSearchError> {
        self.tickets = Arc::new(ticket_search::TicketSearch::on_disk(root)?);
        Ok(self)
    }

    /// Loads articles straight into the index, bypassing the database (benchmarks of the engine alone).
    pub fn with_kb(self, articles: &[lifebuoy_search::ArticleDoc]) -> Result<Self, lifebuoy_search::SearchError> {
        for a in articles {
            self.kb.upsert(a)?;
        }
        self.kb.commit()?;
        Ok(self)
    }
}

/// The public address of a help-center article.
pub fn article_url(lang: &str, slug: &str) -> String {
    format!("/help/{lang}/{slug}")
}
