//! Durable jobs and a transactional outbox, on a table (`jobs`, migration `0006_jobs.sql`).
//!
//! A job is a row: a kind (`mail.send`, `sla.check`, ...), a JSON payload, a state, when it is due (`run_at`),
//! how many times it was tried and may be tried. It is written **in the same transaction as the change that
//! causes it** ([`insert_jobs`] inside any store transaction, or [`Store::enqueue_jobs`] on its own), so a
//! change and its follow-up work commit or vanish together. Runners (`lifebuoy_app::jobs`) claim due jobs in
//! batches with a lease: on PostgreSQL one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n)
//! RETURNING`, so two nodes never take the same row; on SQLite the same statement runs on the single writer
//! (through the group-commit writer), which serialises it. A running job whose lease ends unrenewed (its node
//! was killed) is due again and the next claim takes it. Completions are batched too: one statement per batch.
//!
//! **Why not apalis.** apalis (the maintained job crate with SQL backends) was the first choice and does not
//! fit: its current releases (`apalis-sqlite` / `apalis-postgres` 1.0) are built on sqlx 0.9, and a second
//! sqlx with its own `libsqlite3-sys` cannot be linked beside ours (0.8; SQLite's `links` key allows one); the
//! older `apalis-sql` 0.7 (sqlx 0.8) pushes a job through its own pool, not inside the caller's transaction
//! (no outbox), claims and acknowledges one job per statement and commit (with `synchronous=FULL` that is an
//! fsync per job, far below 2,000 jobs/s), keeps times in seconds, and on SQLite would write beside our single
//! group-commit writer instead of through it. Its migrations would also share sqlx's migration table with ours.
//! A table and a dozen statements that run unchanged on both backends were less than adapting it.
//!
//! Effects exactly once: a job may run more than once if its node dies after the work and before the
//! completion commits (the lease ends, another node runs it again): at-least-once. A handler makes its effect
//! exactly-once either by writing it in the completing transaction ([`JobDone::record`] into `job_runs`, and
//! [`JobDone::then`] jobs enqueued there), or by checking the job's id as an idempotency key.

use crate::chat::grouped_write;
use crate::{Conflict, Result, Store, StoreError, new_id, now_ms, on_read};
use lifebuoy_domain::Invalid;
use serde::Serialize;
use std::time::Duration;

/// The states a job can be in.
pub const JOB_STATES: &[&str] = &["queued", "running", "failed", "done", "dead"];

/// How many times a job is tried unless its enqueuer says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// Rows per INSERT or UPDATE ... IN (...) statement: well below both backends' limits on bound parameters.
const CHUNK: usize = 500;

const JOB_COLS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, due_at, locked_by, locked_until, \
    last_error, idem_key, created_at, updated_at, finished_at";

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Chosen by the enqueuer ([`NewJob::new`] makes a UUIDv7), so it is known before the commit.
    pub id: String,
    pub kind: String,
    /// JSON.
    pub payload: String,
    /// Not before this time (ms since the epoch).
    pub run_at: i64,
    pub max_attempts: i64,
    /// Enqueueing another job of the same kind with the same key is a no-op.
    pub idem_key: Option<String>,
}

impl NewJob {
    /// A job due now, tried up to [`DEFAULT_MAX_ATTEMPTS`] times.
    pub fn new(kind: impl Into<String>, payload: &serde_json::Value) -> NewJob {
        NewJob {
            id: new_id(),
            kind: kind.into(),
            payload: payload.to_string(),
            run_at: now_ms(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            idem_key: None,
        }
    }

    /// Due at `run_at` (ms since the epoch).
    pub fn at(mut self, run_at: i64) -> NewJob {
        self.run_at = run_at;
        self
    }

    /// Due `d` from now.
    pub fn after(self, d: Duration) -> NewJob {
        self.at(now_ms() + d.as_millis() as i64)
    }

    /// An idempotency key: a second job of this kind with this key is not enqueued.
    pub fn key(mut self, key: impl Into<String>) -> NewJob {
        self.idem_key = Some(key.into());
        self
    }

    pub fn max_attempts(mut self, n: i64) -> NewJob {
        self.max_attempts = n;
        self
    }

    fn check(&self) -> Result<(), Invalid> {
        if self.kind.is_empty() || self.kind.len() > 100 {
            return Err(Invalid::new("kind", "a job kind is 1 to 100 characters"));
        }
        if self.max_attempts < 1 {
            return Err(Invalid::new("max_attempts", "a job is tried at least once"));
        }
        if serde_json::from_str::<serde_json::Value>(&self.payload).is_err() {
            return Err(Invalid::new("payload", "a job's payload is JSON"));
        }
        Ok(())
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub state: String,
    /// Runs started so far (a claim counts one, also when the run never finished).
    pub attempts: i64,
    pub max_attempts: i64,
    /// When the job is (or was last) due.
    pub run_at: i64,
    /// When a claimer should look at it next: `run_at` while waiting, `locked_until` while running.
    pub due_at: Option<i64>,
    /// The node that holds (or last held) the job.
    pub locked_by: Option<String>,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub idem_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl Job {
    /// The payload, decoded.
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.payload)
    }
}

/// A job that finished: what to write with its completion, in the same transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobDone {
    pub id: String,
    /// A `job_runs` row's note (JSON): the audit of the run, written only if this completion commits.
    pub record: Option<String>,
    /// Jobs to enqueue only if this completion commits (the next link of a chain, a follow-up).
    pub then: Vec<NewJob>,
}

impl JobDone {
    pub fn new(id: impl Into<String>) -> JobDone {
        JobDone { id: id.into(), ..Default::default() }
    }
}

/// A run that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailed {
    pub id: String,
    pub error: String,
    /// When to try again; `None` (or no attempts left) makes the job dead.
    pub retry_at: Option<i64>,
}

/// How many jobs are in each state, and the backlog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub failed: i64,
    pub dead: i64,
    /// Jobs due now and not being run (including runs whose lease ended): the backlog.
    pub due: i64,
    /// When the oldest of those became due.
    pub oldest_due_at: Option<i64>,
}

/// A recorded run (`job_runs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct JobRun {
    pub job_id: String,
    pub kind: String,
    pub node: String,
    pub attempt: i64,
    pub note: String,
    pub finished_at: i64,
}

/// `$from, $from+1, ...` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Parameter markers for the statements with hundreds of parameters (batch inserts and updates), bound in the
/// order they appear: `$1, $2, ...` on PostgreSQL, anonymous `?` on SQLite. sqlx's SQLite driver looks every
/// numbered marker's name up in SQLite's list of names, a linear search each, so a 4,000-parameter insert with
/// `$n` markers cost more than everything else in `bench jobs` together (a third of the CPU).
struct Marks {
    pg: bool,
    n: usize,
}

impl Marks {
    fn new(pg: bool) -> Marks {
        Marks { pg, n: 0 }
    }

    fn next(&mut self) -> String {
        self.n += 1;
        if self.pg { format!("${}", self.n) } else { "?".into() }
    }

    /// `k` markers, comma-separated.
    fn list(&mut self, k: usize) -> String {
        (0..k).map(|_| self.next()).collect::<Vec<_>>().join(", ")
    }
}

/// Inserts jobs inside the caller's transaction (any store transaction on either backend, or a group-writer
/// write on SQLite): the outbox. A job whose `(kind, idem_key)` is already taken is skipped. Returns the ids
/// inserted. The caller wakes local runners after its commit ([`Store::wake_runners`]).
pub(crate) async fn insert_jobs<C, DB>(conn: &mut C, jobs: &[NewJob], now: i64) -> Result<Vec<String>>
where
    C: Send,
    DB: sqlx::Database,
    for<'e> &'e mut C: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    (String,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let mut ids = Vec::with_capacity(jobs.len());
    for j in jobs {
        j.check()?;
    }
    let pg = DB::NAME == "PostgreSQL";
    for chunk in jobs.chunks(CHUNK) {
        let mut m = Marks::new(pg);
        let rows: Vec<String> = chunk
            .iter()
            .map(|_| {
                let (id, kind, payload, max, run_at, due_at) =
                    (m.next(), m.next(), m.next(), m.next(), m.next(), m.next());
                let (key, created, updated) = (m.next(), m.next(), m.next());
                format!(
                    "({id}, {kind}, {payload}, 'queued', 0, {max}, {run_at}, {due_at}, {key}, {created}, {updated})"
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, due_at, idem_key, \
             created_at, updated_at) VALUES {} ON CONFLICT (kind, idem_key) DO NOTHING RETURNING id",
            rows.join(", ")
        );
        let mut q = sqlx::query_as::<DB, (String,)>(&sql);
        for j in chunk {
            q = q
                .bind(j.id.as_str())
                .bind(j.kind.as_str())
                .bind(j.payload.as_str())
                .bind(j.max_attempts)
                .bind(j.run_at)
                .bind(j.run_at)
                .bind(j.idem_key.as_deref())
                .bind(now)
                .bind(now);
        }
        ids.extend(q.fetch_all(&mut *conn).await?.into_iter().map(|r| r.0));
    }
    Ok(ids)
}

/// The ` AND kind IN (...)` filter of a claim, its placeholders starting at `$from`; empty for any kind.
fn kind_filter(kinds: &[String], from: usize) -> String {
    if kinds.is_empty() { String::new() } else { format!(" AND kind IN ({})", placeholders(from, kinds.len())) }
}

impl Store {
    /// Wakes this process's runners at once (after a commit that enqueued due jobs) instead of at their next
    /// poll. Other nodes find the jobs at their next poll.
    pub fn wake_runners(&self) {
        self.jobs_wake.notify_waiters();
    }

    /// What [`Store::wake_runners`] notifies: a runner enables a `notified()` before it claims, then waits on it.
    pub fn runner_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.jobs_wake.clone()
    }

    /// Enqueues jobs in one transaction (on SQLite through the group-commit writer). Returns how many were
    /// new (a job whose idempotency key was already used is skipped).
    pub async fn enqueue_jobs(&self, jobs: &[NewJob]) -> Result<usize> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let jobs = jobs.to_vec();
        let ids = grouped_write!(self, Vec<String>, [jobs], |conn| insert_jobs(conn, &jobs, now_ms()).await)?;
        if !ids.is_empty() {
            self.wake_runners();
        }
        Ok(ids.len())
    }

    /// Enqueues one job; `false` when its idempotency key was already used (see [`Store::job_by_key`]).
    pub async fn enqueue_job(&self, job: &NewJob) -> Result<bool> {
        Ok(self.enqueue_jobs(std::slice::from_ref(job)).await? == 1)
    }

    /// Claims up to `limit` due jobs of the given kinds (any kind if empty) for `node`, leased for `lease`:
    /// queued and failed jobs whose time has come, and running jobs whose lease has ended (their node died).
    /// Each claim counts an attempt. One statement; on PostgreSQL rows other claimers hold are skipped.
    pub async fn claim_jobs(&self, node: &str, kinds: &[String], limit: usize, lease: Duration) -> Result<Vec<Job>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let skip = match self.backend() {
            crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, \
             due_at = $2, updated_at = $3 \
             WHERE id IN (SELECT id FROM jobs WHERE due_at IS NOT NULL AND due_at <= $3{} \
             ORDER BY due_at LIMIT $4{skip}) RETURNING {JOB_COLS}",
            kind_filter(kinds, 5)
        );
        let (node, kinds) = (node.to_string(), kinds.to_vec());
        let lease_ms = lease.as_millis() as i64;
        let mut jobs = grouped_write!(self, Vec<Job>, [sql, node, kinds], |conn| {
            let now = now_ms();
            let mut q = sqlx::query_as(&sql).bind(&node).bind(now + lease_ms).bind(now).bind(limit as i64);
            for k in &kinds {
                q = q.bind(k);
            }
            Ok(q.fetch_all(&mut *conn).await?)
        })?;
        jobs.sort_by(|a: &Job, b: &Job| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
        Ok(jobs)
    }

    /// When the next job of these kinds (any if empty) is due, running ones' lease ends included.
    pub async fn next_job_due(&self, kinds: &[String]) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT due_at FROM jobs WHERE due_at IS NOT NULL{} ORDER BY due_at LIMIT 1",
            kind_filter(kinds, 1)
        );
        let row: Option<(i64,)> = on_read!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for k in kinds {
                q = q.bind(k);
            }
            q.fetch_optional(pool).await
        })?;
        Ok(row.map(|r| r.0))
    }

    /// Marks jobs done that `node` still holds, each with its `job_runs` record and follow-up jobs, in one
    /// transaction. Returns the ids completed: a job missing from it was no longer this node's (its lease had
    /// ended and another node took it), and nothing of its completion was written.
    pub async fn complete_jobs(&self, node: &str, done: &[JobDone]) -> Result<Vec<String>> {
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let (node, done) = (node.to_string(), done.to_vec());
        let pg = self.backend() == crate::Backend::Postgres;
        let (ids, woke) = grouped_write!(self, (Vec<String>, bool), [node, done], |conn| {
            let now = now_ms();
            let mut completed: Vec<(String, String, i64)> = Vec::with_capacity(done.len());
            for chunk in done.chunks(CHUNK) {
                let mut m = Marks::new(pg);
                let sql = format!(
                    "UPDATE jobs SET state = 'done', due_at = NULL, locked_until = NULL, finished_at = {}, \
                     updated_at = {} WHERE state = 'running' AND locked_by = {} AND id IN ({}) \
                     RETURNING id, kind, attempts",
                    m.next(),
                    m.next(),
                    m.next(),
                    m.list(chunk.len())
                );
                let mut q = sqlx::query_as(&sql).bind(now).bind(now).bind(&node);
                for d in chunk {
                    q = q.bind(&d.id);
                }
                completed.extend(q.fetch_all(&mut *conn).await?);
            }
            let mut woke = false;
            if done.iter().any(|d| d.record.is_some() || !d.then.is_empty()) {
                let by_id: std::collections::HashMap<&str, &JobDone> =
                    done.iter().map(|d| (d.id.as_str(), d)).collect();
                for (id, kind, attempt) in &completed {
                    let d = by_id[id.as_str()];
                    if let Some(note) = &d.record {
                        sqlx::query(
                            "INSERT INTO job_runs (job_id, kind, node, attempt, note, finished_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(id)
                        .bind(kind)
                        .bind(&node)
                        .bind(attempt)
                        .bind(note)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    }
                    if !d.then.is_empty() {
                        woke |= !insert_jobs(&mut *conn, &d.then, now).await?.is_empty();
                    }
                }
            }
            Ok((completed.into_iter().map(|c| c.0).collect::<Vec<_>>(), woke))
        })?;
        if woke {
            self.wake_runners();
        }
        Ok(ids)
    }

    /// Records failed runs of jobs `node` holds: each waits for its retry (`failed`), or is `dead` when it has
    /// no attempts left or no `retry_at`. Returns `(id, new state)` for the jobs this node still held.
    pub async fn fail_jobs(&self, node: &str, failed: &[JobFailed]) -> Result<Vec<(String, String)>> {
        if failed.is_empty() {
            return Ok(Vec::new());
        }
        let (node, failed) = (node.to_string(), failed.to_vec());
        grouped_write!(self, Vec<(String, String)>, [node, failed], |conn| {
            let now = now_ms();
            let mut out = Vec::with_capacity(failed.len());
            for f in &failed {
                // Dead when there is no retry or no attempt left; otherwise due again at retry_at.
                let row: Option<(String, String)> = sqlx::query_as(
                    "UPDATE jobs SET \
                       state = CASE WHEN $3 IS NULL OR attempts >= max_attempts THEN 'dead' ELSE 'failed' END, \
                       due_at = CASE WHEN $3 IS NULL OR attempts >= max_attempts THEN NULL ELSE $3 END, \
                       run_at = CASE WHEN $3 IS NULL OR attempts >= max_attempts THEN run_at ELSE $3 END, \
                       finished_at = CASE WHEN $3 IS NULL OR attempts >= max_attempts THEN $4 ELSE NULL END, \
                       last_error = $5, locked_until = NULL, updated_at = $4 \
                     WHERE id = $1 AND state = 'running' AND locked_by = $2 RETURNING id, state",
                )
                .bind(&f.id)
                .bind(&node)
                .bind(f.retry_at)
                .bind(now)
                .bind(truncate(&f.error, 2000))
                .fetch_optional(&mut *conn)
                .await?;
                out.extend(row);
            }
            Ok(out)
        })
    }

    /// Renews `node`'s lease on running jobs to `lease` from now. Returns the ids it still holds.
    pub async fn extend_job_leases(&self, node: &str, ids: &[String], lease: Duration) -> Result<Vec<String>> {
        self.lease_update(node, ids, Some(lease)).await
    }

    /// Gives back jobs `node` holds but will not finish (a shutdown that could not wait for them): they are due
    /// again at once, and the interrupted run is not counted as an attempt. Returns the ids given back.
    pub async fn release_jobs(&self, node: &str, ids: &[String]) -> Result<Vec<String>> {
        self.lease_update(node, ids, None).await
    }

    async fn lease_update(&self, node: &str, ids: &[String], lease: Option<Duration>) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (node, ids) = (node.to_string(), ids.to_vec());
        let pg = self.backend() == crate::Backend::Postgres;
        let lease_ms = lease.map(|l| l.as_millis() as i64);
        grouped_write!(self, Vec<String>, [node, ids], |conn| {
            let now = now_ms();
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(CHUNK) {
                let mut m = Marks::new(pg);
                let set = match lease_ms {
                    Some(_) => format!(
                        "locked_until = {a}, due_at = {b}, updated_at = {c}",
                        a = m.next(),
                        b = m.next(),
                        c = m.next()
                    ),
                    None => format!(
                        "state = 'queued', attempts = attempts - 1, locked_until = NULL, due_at = {a}, updated_at = {b}",
                        a = m.next(),
                        b = m.next()
                    ),
                };
                let sql = format!(
                    "UPDATE jobs SET {set} WHERE state = 'running' AND locked_by = {} AND id IN ({}) RETURNING id",
                    m.next(),
                    m.list(chunk.len())
                );
                let mut q = sqlx::query_as::<_, (String,)>(&sql);
                q = match lease_ms {
                    Some(l) => q.bind(now + l).bind(now + l).bind(now),
                    None => q.bind(now).bind(now),
                };
                q = q.bind(&node);
                for id in chunk {
                    q = q.bind(id);
                }
                out.extend(q.fetch_all(&mut *conn).await?.into_iter().map(|r| r.0));
            }
            Ok(out)
        })
    }

    /// A supervisor's retry of a dead or failed job: queued again, due now, with all its attempts. The last
    /// error stays until the next run. A job in another state is a conflict.
    pub async fn retry_job(&self, id: &str) -> Result<Job> {
        let sql = format!(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, due_at = $2, finished_at = NULL, \
             locked_until = NULL, updated_at = $2 WHERE id = $1 AND state IN ('dead', 'failed') RETURNING {JOB_COLS}"
        );
        let id = id.to_string();
        let job = grouped_write!(self, Option<Job>, [sql, id], |conn| {
            Ok(sqlx::query_as(&sql).bind(&id).bind(now_ms()).fetch_optional(&mut *conn).await?)
        })?;
        match job {
            Some(j) => {
                self.wake_runners();
                Ok(j)
            }
            None => match self.job(&id).await? {
                Some(j) => Err(Conflict::JobNotRetryable(j.state).into()),
                None => Err(StoreError::NotFound),
            },
        }
    }

    /// A job by id.
    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// The job of `kind` enqueued with idempotency key `key`.
    pub async fn job_by_key(&self, kind: &str, key: &str) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE kind = $1 AND idem_key = $2");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(kind).bind(key).fetch_optional(pool).await)?)
    }

    /// A page of jobs in `state`, keyset-paged on `(run_at, id)`: waiting and running jobs soonest first, done
    /// and dead ones latest first. `after` is the last row of the previous page.
    pub async fn list_jobs(&self, state: &str, after: Option<(i64, &str)>, limit: i64) -> Result<Vec<Job>> {
        if !JOB_STATES.contains(&state) {
            return Err(Invalid::new("state", "no such job state").into());
        }
        let (cmp, dir) = if matches!(state, "done" | "dead") { ("<", "DESC") } else { (">", "ASC") };
        let cursor = if after.is_some() {
            format!(" AND (run_at {cmp} $3 OR (run_at = $3 AND id {cmp} $4))")
        } else {
            String::new()
        };
        let sql =
            format!("SELECT {JOB_COLS} FROM jobs WHERE state = $1{cursor} ORDER BY run_at {dir}, id {dir} LIMIT $2");
        Ok(on_read!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(state).bind(limit.clamp(1, 1000));
            if let Some((run_at, id)) = after {
                q = q.bind(run_at).bind(id);
            }
            q.fetch_all(pool).await
        })?)
    }

    /// Jobs per state (done ones are not counted: they are history) and the backlog, for `/metrics` and the
    /// console.
    pub async fn job_counts(&self) -> Result<JobCounts> {
        let now = now_ms();
        type Counts = (Vec<(String, i64)>, (i64, Option<i64>));
        let (states, due): Counts = on_read!(self, |pool| {
            async {
            let states = sqlx::query_as(
                "SELECT state, COUNT(*) FROM jobs WHERE state IN ('queued', 'running', 'failed', 'dead') GROUP BY state",
            )
            .fetch_all(pool)
            .await?;
            let due = sqlx::query_as("SELECT COUNT(*), MIN(due_at) FROM jobs WHERE due_at IS NOT NULL AND due_at <= $1")
                .bind(now)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((states, due))
        }
        .await
        })?;
        let mut c = JobCounts { due: due.0, oldest_due_at: due.1, ..Default::default() };
        for (state, n) in states {
            match state.as_str() {
                "queued" => c.queued = n,
                "running" => c.running = n,
                "failed" => c.failed = n,
                "dead" => c.dead = n,
                _ => {}
            }
        }
        Ok(c)
    }

    /// The recorded run of a job, if it completed with a record.
    pub async fn job_run(&self, job_id: &str) -> Result<Option<JobRun>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT job_id, kind, node, attempt, note, finished_at FROM job_runs WHERE job_id = $1"
        )
        .bind(job_id)
        .fetch_optional(pool)
        .await)?)
    }

    /// The latest recorded runs of a kind.
    pub async fn recent_job_runs(&self, kind: &str, limit: i64) -> Result<Vec<JobRun>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT job_id, kind, node, attempt, note, finished_at FROM job_runs WHERE kind = $1 \
             ORDER BY finished_at DESC LIMIT $2"
        )
        .bind(kind)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }

    /// Deletes done jobs due before `jobs_before` and recorded runs finished before `runs_before`, a bounded
    /// batch per statement so a large purge never holds the writer long. Returns the rows deleted.
    pub async fn purge_jobs(&self, jobs_before: i64, runs_before: i64) -> Result<u64> {
        let mut total = 0u64;
        loop {
            let n = grouped_write!(self, u64, [], |conn| {
                let a = sqlx::query(
                    "DELETE FROM jobs WHERE id IN \
                     (SELECT id FROM jobs WHERE state = 'done' AND run_at < $1 LIMIT 2000)",
                )
                .bind(jobs_before)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                let b = sqlx::query(
                    "DELETE FROM job_runs WHERE job_id IN \
                     (SELECT job_id FROM job_runs WHERE finished_at < $1 LIMIT 2000)",
                )
                .bind(runs_before)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                Ok(a + b)
            })?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    //! The outbox itself: `insert_jobs` inside a store transaction commits and rolls back with it, on both
    //! backends (the public API's tests are in `tests/jobs.rs`).
    use super::*;
    use crate::{StoreOptions, on_write};

    /// A fresh SQLite store and a fresh PostgreSQL one (`LIFEBUOY_TEST_PG`, default the local server), with the
    /// PostgreSQL admin URL and database name to drop.
    async fn stores(dir: &std::path::Path) -> Vec<(Store, Option<(String, String)>)> {
        use sqlx::Connection;
        let sqlite = Store::open(&StoreOptions::new(format!("sqlite://{}", dir.join("t.db").display()))).await.unwrap();
        let admin =
            std::env::var("LIFEBUOY_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("lb_test_{}", uuid::Uuid::new_v4().simple());
        let mut c = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL for the PostgreSQL half");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
        let pg = Store::open(&StoreOptions::new(format!("{base}/{name}"))).await.unwrap();
        vec![(sqlite, None), (pg, Some((admin, name)))]
    }

    async fn department(s: &Store, id: &str) -> bool {
        let row: Option<(String,)> = on_read!(s, |pool| sqlx::query_as("SELECT id FROM departments WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await)
        .unwrap();
        row.is_some()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_commit_and_roll_back_with_the_change_that_causes_them() {
        let dir = std::env::temp_dir().join(format!("lb-outbox-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        for (s, pg) in stores(&dir).await {
            let (rolled, committed, failed) = (
                NewJob::new("t.outbox", &serde_json::json!({"n": 1})),
                NewJob::new("t.outbox", &serde_json::json!({"n": 2})),
                NewJob::new("t.outbox", &serde_json::json!({"n": 3})),
            );
            let dept = "INSERT INTO departments (id, name_en, name_zh_hans, name_zh_hant) VALUES ($1, $1, $1, $1)";
            let (r, c) = (rolled.clone(), committed.clone());
            on_write!(s, |pool, _l| async {
                let mut tx = pool.begin().await?;
                sqlx::query(dept).bind("outbox-rolled").execute(&mut *tx).await?;
                assert_eq!(
                    insert_jobs(&mut *tx, std::slice::from_ref(&r), now_ms()).await?,
                    std::slice::from_ref(&r.id)
                );
                tx.rollback().await?;
                let mut tx = pool.begin().await?;
                sqlx::query(dept).bind("outbox-committed").execute(&mut *tx).await?;
                insert_jobs(&mut *tx, std::slice::from_ref(&c), now_ms()).await?;
                tx.commit().await?;
                Ok::<_, StoreError>(())
            }
            .await)
            .unwrap();
            // A grouped write (the group-commit writer on SQLite) that fails after enqueueing leaves nothing.
            let f = failed.clone();
            let r: Result<()> = grouped_write!(s, (), [f], |conn| {
                sqlx::query(dept).bind("outbox-failed").execute(&mut *conn).await?;
                insert_jobs(&mut *conn, std::slice::from_ref(&f), now_ms()).await?;
                Err(Conflict::NothingToChange.into())
            });
            assert!(matches!(r, Err(StoreError::Conflict(_))));
            assert!(s.job(&rolled.id).await.unwrap().is_none() && !department(&s, "outbox-rolled").await);
            assert!(s.job(&failed.id).await.unwrap().is_none() && !department(&s, "outbox-failed").await);
            let j = s.job(&committed.id).await.unwrap().expect("the committed job");
            assert!(department(&s, "outbox-committed").await);
            assert_eq!((j.state.as_str(), j.attempts, j.payload.as_str()), ("queued", 0, r#"{"n":2}"#));
            s.close().await;
            if let Some((admin, name)) = pg {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await.unwrap();
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
