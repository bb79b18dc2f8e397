//! The runner: one claiming task, the running jobs (each its own task, at most `concurrency`), one task that
//! records outcomes in batches, one that renews leases.
//!
//! ```text
//!  claim loop ──claim_jobs(batch)──▶ spawn run ─┐ … ─▶ outcome ──▶ record loop ──complete_jobs / fail_jobs──▶ store
//!      ▲  waits on: a free slot, the store's     │
//!      │  wake-up (local enqueue), the next due  └── renew loop: extend_job_leases(in flight) every lease/3
//!      │  time, or the poll interval
//! ```

use super::{Backoff, JobContext, JobError, JobFailure, JobOutcome, Registry};
use futures::FutureExt;
use lifebuoy_store::{Job, JobDone, JobFailed, Store, now_ms};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};

/// Outcomes recorded per statement at most.
const RECORD_BATCH: usize = 512;

/// How a runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// This node's name in `locked_by`: unique per process (a restarted node is a new node).
    pub node: String,
    /// Jobs running at once.
    pub concurrency: usize,
    /// Jobs claimed per statement at most.
    pub batch: usize,
    /// How often an idle runner looks for due jobs enqueued by other processes (local enqueues wake it at
    /// once, and it sleeps no longer than until the next due job it knows of).
    pub poll: Duration,
    /// How long a claim holds a job; renewed every third of it while the job runs. A job whose node dies is
    /// claimed again this long after its last renewal.
    pub lease: Duration,
    /// A run taking longer fails (and is retried).
    pub job_timeout: Duration,
    pub backoff: Backoff,
    /// How long [`RunnerHandle::shutdown`] waits for running jobs before giving them back.
    pub grace: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            node: default_node_name(),
            concurrency: 64,
            batch: 64,
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            job_timeout: Duration::from_secs(600),
            backoff: Backoff::default(),
            grace: Duration::from_secs(20),
        }
    }
}

/// `<host>-<8 hex>`: readable in the console, and new at every start.
pub fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect::<String>())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// What a runner has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunnerStats {
    pub claimed: u64,
    pub succeeded: u64,
    /// Failed runs that will be retried.
    pub failed: u64,
    /// Runs after which the job was dead.
    pub dead: u64,
    /// Outcomes not recorded because the job was no longer this node's (its lease had ended).
    pub lost: u64,
    /// Jobs given back at shutdown.
    pub released: u64,
}

#[derive(Default)]
struct Counters {
    claimed: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    dead: AtomicU64,
    lost: AtomicU64,
    released: AtomicU64,
}

/// A job this node holds.
enum Held {
    /// Its handler is running.
    Running(AbortHandle),
    /// Its handler has finished; its outcome is on the way to the store.
    Finishing,
}

struct Shared {
    store: Store,
    registry: Registry,
    opts: RunnerOptions,
    node: Arc<str>,
    kinds: Vec<String>,
    held: Mutex<HashMap<String, Held>>,
    counters: Counters,
}

impl Shared {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One run's result, on its way to the record loop.
struct Finished {
    job: Job,
    result: Result<JobOutcome, JobFailure>,
}

/// Starts runners.
pub struct Runner;

impl Runner {
    /// Starts claiming and running jobs of the registry's kinds.
    pub fn start(store: Store, registry: Registry, opts: RunnerOptions) -> Result<RunnerHandle, JobError> {
        if registry.kinds().is_empty() {
            return Err(JobError::NoHandlers);
        }
        if opts.concurrency == 0 || opts.batch == 0 {
            return Err(JobError::Options("concurrency and batch must be at least 1"));
        }
        if opts.lease < Duration::from_millis(100) || opts.poll.is_zero() {
            return Err(JobError::Options("the lease must be at least 100 ms and the poll interval above zero"));
        }
        let shared = Arc::new(Shared {
            node: Arc::from(opts.node.as_str()),
            kinds: registry.kinds(),
            store,
            registry,
            opts,
            held: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        });
        let (stop, stopped) = watch::channel(false);
        let (tx, rx) = mpsc::channel(4 * RECORD_BATCH);
        let slots = Arc::new(Semaphore::new(shared.opts.concurrency));
        let claimer = tokio::spawn(claim_loop(shared.clone(), slots, tx, stopped.clone()));
        let recorder = tokio::spawn(record_loop(shared.clone(), rx));
        let renewer = tokio::spawn(renew_loop(shared.clone(), stopped));
        tracing::info!(node = %shared.node, kinds = ?shared.kinds, concurrency = shared.opts.concurrency, "job runner started");
        Ok(RunnerHandle { shared, stop, claimer, recorder, renewer })
    }
}

/// A running runner. Dropping it stops claiming; [`RunnerHandle::shutdown`] also waits for running jobs.
pub struct RunnerHandle {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    claimer: JoinHandle<()>,
    recorder: JoinHandle<()>,
    renewer: JoinHandle<()>,
}

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs that were still running after the grace period and were given back (due again at once).
    pub released: usize,
    /// Jobs that were neither finished nor given back (the store failed): their lease will end.
    pub abandoned: usize,
}

impl RunnerHandle {
    /// This runner's node name.
    pub fn node(&self) -> &str {
        &self.shared.node
    }

    pub fn stats(&self) -> RunnerStats {
        let c = &self.shared.counters;
        RunnerStats {
            claimed: c.claimed.load(Ordering::Relaxed),
            succeeded: c.succeeded.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            dead: c.dead.load(Ordering::Relaxed),
            lost: c.lost.load(Ordering::Relaxed),
            released: c.released.load(Ordering::Relaxed),
        }
    }

    /// Jobs this runner holds now (running, or finished and being recorded).
    pub fn in_flight(&self) -> usize {
        self.shared.held().len()
    }

    /// Stops claiming, waits up to the grace period for running jobs to finish and their outcomes to be
    /// recorded, then gives back the ones still running so another node (or the next start) runs them at once
    /// instead of after their lease.
    pub async fn shutdown(mut self) -> ShutdownReport {
        let sh = self.shared.clone();
        self.stop.send_replace(true);
        let _ = (&mut self.claimer).await;
        let deadline = Instant::now() + sh.opts.grace;
        while !sh.held().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Past the grace period: stop the handlers still running and give their jobs back.
        let aborted: Vec<String> = {
            let mut held = sh.held();
            let ids: Vec<String> =
                held.iter().filter(|(_, h)| matches!(h, Held::Running(_))).map(|(id, _)| id.clone()).collect();
            for id in &ids {
                if let Some(Held::Running(h)) = held.remove(id) {
                    h.abort();
                }
            }
            ids
        };
        let mut released = 0;
        if !aborted.is_empty() {
            match sh.store.release_jobs(&sh.node, &aborted).await {
                Ok(ids) => released = ids.len(),
                Err(e) => {
                    tracing::error!(error = %e, jobs = aborted.len(), "could not give back running jobs; their lease will end")
                }
            }
            sh.counters.released.fetch_add(released as u64, Ordering::Relaxed);
        }
        // Outcomes already on their way are recorded: the record loop ends once every run has ended.
        if tokio::time::timeout(Duration::from_secs(30), &mut self.recorder).await.is_err() {
            tracing::error!("recording the last job outcomes took over 30 s; their leases will end");
        }
        let abandoned = sh.held().len() + (aborted.len() - released);
        self.renewer.abort();
        tracing::info!(node = %sh.node, released, abandoned, "job runner stopped");
        ShutdownReport { released, abandoned }
    }
}

impl Drop for RunnerHandle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

async fn claim_loop(
    sh: Arc<Shared>,
    slots: Arc<Semaphore>,
    tx: mpsc::Sender<Finished>,
    mut stop: watch::Receiver<bool>,
) {
    let signal = sh.store.runner_signal();
    // Whether the last claim was full (so more may be due); at start, look at once.
    let mut more = true;
    let mut empty_claims = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        let first = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.changed() => return,
        };
        if !more {
            // Idle: enable the wake-up before looking, so an enqueue committed after the look still wakes us.
            let notified = signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait = match sh.store.next_job_due(&sh.kinds).await {
                Ok(Some(due)) if due <= now_ms() => {
                    // Due, but the last claim found nothing: other nodes hold those rows. Do not spin.
                    if empty_claims > 0 {
                        Some(sh.opts.poll.min(Duration::from_millis(100 << empty_claims.min(3))))
                    } else {
                        None
                    }
                }
                Ok(Some(due)) => Some(Duration::from_millis((due - now_ms()) as u64).min(sh.opts.poll)),
                Ok(None) => Some(sh.opts.poll),
                Err(e) => {
                    tracing::warn!(error = %e, "looking for due jobs failed");
                    Some(sh.opts.poll)
                }
            };
            if let Some(wait) = wait {
                drop(first);
                tokio::select! {
                    _ = &mut notified => empty_claims = 0,
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return,
                }
                // After a pause for rows other nodes held, claim again; otherwise look again first.
                more = empty_claims > 0;
                continue;
            }
        }
        let extra = slots.available_permits().min(sh.opts.batch - 1);
        let mut permit = first;
        if let Ok(p) = slots.clone().try_acquire_many_owned(extra as u32) {
            permit.merge(p);
        }
        let want = permit.num_permits();
        match sh.store.claim_jobs(&sh.node, &sh.kinds, want, sh.opts.lease).await {
            Ok(jobs) => {
                more = jobs.len() == want;
                empty_claims = if jobs.is_empty() { empty_claims + 1 } else { 0 };
                sh.counters.claimed.fetch_add(jobs.len() as u64, Ordering::Relaxed);
                for job in jobs {
                    let one = permit.split(1).expect("one permit per claimed job");
                    spawn_run(&sh, job, one, &tx);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming jobs failed");
                more = false;
                drop(permit);
                tokio::select! {
                    _ = tokio::time::sleep(sh.opts.poll) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

fn spawn_run(sh: &Arc<Shared>, job: Job, permit: OwnedSemaphorePermit, tx: &mpsc::Sender<Finished>) {
    let mut held = sh.held();
    if held.contains_key(&job.id) {
        // Our own job, claimed again because its lease lapsed while it ran here: the run in progress records
        // it (the row is still ours).
        tracing::warn!(job = %job.id, kind = %job.kind, "a job's lease lapsed while it ran; renewals are late");
        return;
    }
    let id = job.id.clone();
    let task = tokio::spawn(run_one(sh.clone(), job, permit, tx.clone()));
    held.insert(id, Held::Running(task.abort_handle()));
}

async fn run_one(sh: Arc<Shared>, job: Job, permit: OwnedSemaphorePermit, tx: mpsc::Sender<Finished>) {
    let result = if job.attempts > job.max_attempts {
        // Claimed again after its last allowed run never reported: the node running it died each time.
        Err(JobFailure::permanent(format!(
            "{} runs ended without an outcome (their node stopped before finishing)",
            job.attempts - 1
        )))
    } else {
        match sh.registry.get(&job.kind) {
            None => Err(JobFailure::retry(format!("no handler for {:?} on node {}", job.kind, sh.node))),
            Some(h) => {
                let ctx = JobContext { store: sh.store.clone(), node: sh.node.clone(), started_at: now_ms() };
                let run = std::panic::AssertUnwindSafe(h.run(job.clone(), ctx)).catch_unwind();
                match tokio::time::timeout(sh.opts.job_timeout, run).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(panic)) => Err(JobFailure::retry(format!("the handler panicked: {}", panic_text(&*panic)))),
                    Err(_) => Err(JobFailure::retry(format!("timed out after {:?}", sh.opts.job_timeout))),
                }
            }
        }
    };
    drop(permit);
    {
        let mut held = sh.held();
        match held.get_mut(&job.id) {
            Some(h) => *h = Held::Finishing,
            // Given back at shutdown: it is no longer ours to record.
            None => return,
        }
    }
    let id = job.id.clone();
    if tx.send(Finished { job, result }).await.is_err() {
        sh.held().remove(&id);
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

async fn record_loop(sh: Arc<Shared>, mut rx: mpsc::Receiver<Finished>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while let Some(f) = rx.recv().await {
        batch.push(f);
        while batch.len() < RECORD_BATCH {
            match rx.try_recv() {
                Ok(f) => batch.push(f),
                Err(_) => break,
            }
        }
        record(&sh, std::mem::take(&mut batch)).await;
    }
}

/// Writes a batch of outcomes: completions in one statement, failures beside them.
async fn record(sh: &Shared, batch: Vec<Finished>) {
    let now = now_ms();
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for f in &batch {
        match &f.result {
            Ok(o) => done.push(JobDone {
                id: f.job.id.clone(),
                record: o.record.as_ref().map(|v| v.to_string()),
                then: o.then.clone(),
            }),
            Err(e) => {
                let retry_at = (e.retry && f.job.attempts < f.job.max_attempts)
                    .then(|| now + sh.opts.backoff.delay_random(f.job.attempts).as_millis() as i64);
                failed.push(JobFailed { id: f.job.id.clone(), error: e.message.clone(), retry_at });
            }
        }
    }
    if !done.is_empty()
        && let Some(ids) = persist("completing jobs", || sh.store.complete_jobs(&sh.node, &done)).await
    {
        sh.counters.succeeded.fetch_add(ids.len() as u64, Ordering::Relaxed);
        let lost = done.len() - ids.len();
        if lost > 0 {
            sh.counters.lost.fetch_add(lost as u64, Ordering::Relaxed);
            tracing::warn!(jobs = lost, "finished jobs were no longer this node's (lease ended): not recorded");
        }
    }
    if !failed.is_empty()
        && let Some(states) = persist("recording failed jobs", || sh.store.fail_jobs(&sh.node, &failed)).await
    {
        let by_id: HashMap<&str, &Finished> = batch.iter().map(|f| (f.job.id.as_str(), f)).collect();
        for (id, state) in &states {
            let f = by_id[id.as_str()];
            let error = f.result.as_ref().err().map(|e| e.message.as_str()).unwrap_or("");
            if state == "dead" {
                sh.counters.dead.fetch_add(1, Ordering::Relaxed);
                tracing::error!(job = %id, kind = %f.job.kind, attempts = f.job.attempts, error, "job is dead");
            } else {
                sh.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(job = %id, kind = %f.job.kind, attempt = f.job.attempts, error, "job failed; will retry");
            }
        }
        sh.counters.lost.fetch_add((failed.len() - states.len()) as u64, Ordering::Relaxed);
    }
    let mut held = sh.held();
    for f in &batch {
        held.remove(&f.job.id);
    }
}

/// Retries a store write for about half a minute: an outcome that cannot be written leaves the job to be run
/// again when its lease ends.
async fn persist<T, F, Fut>(what: &str, mut write: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = lifebuoy_store::Result<T>>,
{
    let mut wait = Duration::from_millis(100);
    for attempt in 1..=8 {
        match write().await {
            Ok(v) => return Some(v),
            Err(e) if attempt < 8 => {
                tracing::warn!(error = %e, attempt, "{what} failed; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(8));
            }
            Err(e) => tracing::error!(error = %e, "{what} failed; the jobs will run again when their lease ends"),
        }
    }
    None
}

async fn renew_loop(sh: Arc<Shared>, stop: watch::Receiver<bool>) {
    let every = sh.opts.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let ids: Vec<String> = sh.held().keys().cloned().collect();
        if ids.is_empty() {
            if *stop.borrow() {
                return;
            }
            continue;
        }
        match sh.store.extend_job_leases(&sh.node, &ids, sh.opts.lease).await {
            Ok(kept) if kept.len() < ids.len() => {
                // Finished (and recorded) meanwhile, or lost: only the ones still held matter.
                let kept: std::collections::HashSet<&String> = kept.iter().collect();
                let held = sh.held();
                let lost: Vec<&String> = ids
                    .iter()
                    .filter(|id| !kept.contains(id) && matches!(held.get(*id), Some(Held::Running(_))))
                    .collect();
                if !lost.is_empty() {
                    tracing::warn!(jobs = ?lost, "leases ended before they were renewed; another node may run these jobs");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "renewing job leases failed"),
        }
    }
}
