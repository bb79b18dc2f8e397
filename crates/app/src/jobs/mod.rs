//! Durable jobs: the runner over the store's job table (`lifebuoy_store::jobs`; why a table and not apalis is
//! written there and in docs/ARCHITECTURE.md, "Durable jobs").
//!
//! - A job is enqueued in the same transaction as the change that causes it (the outbox), or on its own with
//!   [`Store::enqueue_jobs`](lifebuoy_store::Store::enqueue_jobs).
//! - A [`Runner`] claims due jobs of the kinds its [`Registry`] knows, in batches, with a lease it renews while
//!   a job runs; it runs up to `concurrency` at once and records their outcomes in batches. A job whose node
//!   died is claimed again once its lease has ended.
//! - A failed run is retried after an exponential [`Backoff`] with jitter; after `max_attempts` runs (or a
//!   [`JobFailure::permanent`]) the job is dead, and a supervisor can retry it from the console.
//! - A run's effect is exactly-once when it is written with the completion ([`JobOutcome::record`],
//!   [`JobOutcome::then`]) or checked against the job's id; otherwise a run is at-least-once.

mod backoff;
pub mod builtin;
mod runner;
pub mod supervise;

pub use backoff::Backoff;
pub use lifebuoy_store::{Job, JobCounts, NewJob};
pub use runner::{Runner, RunnerHandle, RunnerOptions, RunnerStats, ShutdownReport};

use futures::future::BoxFuture;
use lifebuoy_store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;

/// What can go wrong running jobs (not a job's own failure: that is a [`JobFailure`]).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("a handler for job kind {0:?} is already registered")]
    DuplicateKind(String),
    #[error("no handler is registered; the runner would have nothing to do")]
    NoHandlers,
    #[error("job runner options: {0}")]
    Options(&'static str),
}

/// Why a run failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    pub message: String,
    /// `false`: the job is dead at once (a payload that can never work), whatever attempts it has left.
    pub retry: bool,
}

impl JobFailure {
    /// A failure worth retrying after the backoff (a relay down, a timeout).
    pub fn retry(message: impl std::fmt::Display) -> JobFailure {
        JobFailure { message: message.to_string(), retry: true }
    }

    /// A failure no retry can fix: the job goes straight to the dead letters.
    pub fn permanent(message: impl std::fmt::Display) -> JobFailure {
        JobFailure { message: message.to_string(), retry: false }
    }
}

impl From<StoreError> for JobFailure {
    fn from(e: StoreError) -> Self {
        JobFailure::retry(e)
    }
}

impl From<serde_json::Error> for JobFailure {
    /// A payload that does not decode never will.
    fn from(e: serde_json::Error) -> Self {
        JobFailure::permanent(format!("payload: {e}"))
    }
}

/// What a successful run leaves behind, written in the same transaction as the job's completion: if the
/// completion does not commit (the node dies first, or its lease had ended), none of it is written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobOutcome {
    /// A row in `job_runs` (the audit of runs) with this note.
    pub record: Option<serde_json::Value>,
    /// Jobs to enqueue: the next link of a chain, follow-up work.
    pub then: Vec<NewJob>,
}

impl JobOutcome {
    pub fn done() -> JobOutcome {
        JobOutcome::default()
    }

    pub fn record(mut self, note: serde_json::Value) -> JobOutcome {
        self.record = Some(note);
        self
    }

    pub fn then(mut self, job: NewJob) -> JobOutcome {
        self.then.push(job);
        self
    }
}

/// What a handler is given besides its job.
#[derive(Clone)]
pub struct JobContext {
    pub store: Store,
    /// The node running the job.
    pub node: Arc<str>,
    /// When this run started (ms since the epoch).
    pub started_at: i64,
}

impl JobContext {
    /// The key an external effect should carry to be done once however often the job runs: the job's id.
    pub fn idempotency_key<'a>(&self, job: &'a Job) -> &'a str {
        &job.id
    }
}

/// Runs the jobs of one kind. Any `Fn(Job, JobContext) -> impl Future<Output = Result<JobOutcome,
/// JobFailure>>` is one.
pub trait JobHandler: Send + Sync + 'static {
    fn run(&self, job: Job, ctx: JobContext) -> BoxFuture<'static, Result<JobOutcome, JobFailure>>;
}

impl<F, Fut> JobHandler for F
where
    F: Fn(Job, JobContext) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<JobOutcome, JobFailure>> + Send + 'static,
{
    fn run(&self, job: Job, ctx: JobContext) -> BoxFuture<'static, Result<JobOutcome, JobFailure>> {
        Box::pin(self(job, ctx))
    }
}

/// The handlers a runner knows, by kind. A runner claims only these kinds, so nodes of different versions
/// never take each other's jobs.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn JobHandler>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers the handler of `kind`.
    pub fn register(&mut self, kind: &str, handler: impl JobHandler) -> Result<&mut Registry, JobError> {
        if self.handlers.contains_key(kind) {
            return Err(JobError::DuplicateKind(kind.into()));
        }
        self.handlers.insert(kind.into(), Arc::new(handler));
        Ok(self)
    }

    /// The kinds registered, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.handlers.keys().cloned().collect();
        k.sort();
        k
    }

    pub(crate) fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }
}
