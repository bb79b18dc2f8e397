//! Group commit for SQLite. SQLite has one writer and, with `synchronous=FULL`, one fsync per commit; under
//! load that fsync, not the work, is the ceiling. The writer takes every write waiting in its queue, runs them
//! all in one transaction, commits once, and only then answers each caller: the same durability (nothing is
//! acknowledged before it is on disk), far fewer fsyncs.
//!
//! The fast path runs the writes back to back. If one fails, the batch is rolled back and run again with each
//! write in its own savepoint, so a bad write fails alone and the others still commit. Writes are therefore
//! closures that can run twice (`Fn`): they capture their input and do nothing but database work.
//!
//! Writes come in two forms. Most are sqlx code, where every statement is a round trip to the connection's
//! worker thread. The hottest (a chat message) is also written for the raw connection (`rusqlite` on the same
//! handle, locked away from sqlx's worker for the batch): a batch of only raw writes takes the handle once and
//! runs BEGIN, every write and COMMIT straight through, without a thread hand-off per statement. That is most
//! of what a chat message costs, so it is most of its latency.
//!
//! The writer runs on its own thread (a single-threaded runtime), so a batch's statements and its fsync never
//! hold up the threads that serve connections.

use crate::{Result, StoreError};
use futures::future::BoxFuture;
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// The most writes one commit carries.
const MAX_BATCH: usize = 256;

/// One queued write, type-erased.
trait Job: Send {
    /// Whether the write has a raw form ([`Job::run_raw`]).
    fn is_raw(&self) -> bool;
    /// Runs the write through sqlx; `true` when it succeeded.
    fn run<'a>(&'a mut self, conn: &'a mut SqliteConnection) -> BoxFuture<'a, bool>;
    /// Runs the write's raw form on the locked handle; `true` when it succeeded.
    fn run_raw(&mut self, c: &rusqlite::Connection) -> bool;
    /// Answers the caller once the batch's fate is known.
    fn finish(self: Box<Self>, committed: bool);
}

/// What a write's caller hears once its batch is over.
fn outcome<T>(outcome: Option<Result<T>>, committed: bool) -> Result<T> {
    match outcome {
        Some(Ok(_)) if !committed => {
            Err(StoreError::Unavailable("the write could not be committed; nothing was saved".into()))
        }
        Some(r) => r,
        None => Err(StoreError::Unavailable("the write was not run; nothing was saved".into())),
    }
}

struct TypedJob<T, F> {
    f: F,
    outcome: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send + 'static,
    F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
{
    fn is_raw(&self) -> bool {
        false
    }

    fn run<'a>(&'a mut self, conn: &'a mut SqliteConnection) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let r = (self.f)(conn).await;
            let ok = r.is_ok();
            self.outcome = Some(r);
            ok
        })
    }

    fn run_raw(&mut self, _: &rusqlite::Connection) -> bool {
        unreachable!("a sqlx write has no raw form")
    }

    fn finish(self: Box<Self>, committed: bool) {
        let _ = self.reply.send(outcome(self.outcome, committed));
    }
}

struct RawJob<T, F> {
    f: F,
    outcome: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for RawJob<T, F>
where
    T: Send + 'static,
    F: Fn(&rusqlite::Connection) -> Result<T> + Send + 'static,
{
    fn is_raw(&self) -> bool {
        true
    }

    /// In a batch with sqlx writes: the handle is taken for this write alone.
    fn run<'a>(&'a mut self, conn: &'a mut SqliteConnection) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            match conn.lock_handle().await {
                Ok(mut h) => with_raw(&mut h, |c| self.run_raw(c)),
                Err(e) => {
                    self.outcome = Some(Err(e.into()));
                    false
                }
            }
        })
    }

    fn run_raw(&mut self, c: &rusqlite::Connection) -> bool {
        let r = (self.f)(c);
        let ok = r.is_ok();
        self.outcome = Some(r);
        ok
    }

    fn finish(self: Box<Self>, committed: bool) {
        let _ = self.reply.send(outcome(self.outcome, committed));
    }
}

/// Runs `f` with a `rusqlite` connection on a handle locked away from sqlx's worker thread.
#[allow(unsafe_code)] // the one place the store touches SQLite's raw handle; the SAFETY note says why it holds
fn with_raw<R>(h: &mut sqlx::sqlite::LockedSqliteHandle<'_>, f: impl FnOnce(&rusqlite::Connection) -> R) -> R {
    // SAFETY: `h` keeps sqlx's worker thread off this handle until it is dropped, which is after `c` (and every
    // statement `c` prepared) is dropped at the end of this function. `from_handle` does not close the handle.
    let c = unsafe { rusqlite::Connection::from_handle(h.as_raw_handle().as_ptr()) }
        .expect("wrapping an open SQLite handle cannot fail");
    f(&c)
}

/// A handle to the writer.
#[derive(Clone)]
pub(crate) struct GroupWriter {
    tx: mpsc::Sender<Box<dyn Job>>,
}

impl GroupWriter {
    /// Starts the writer thread; it ends when the last handle is dropped.
    pub(crate) fn spawn(pool: SqlitePool) -> Self {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>(4096);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("the writer's runtime");
        std::thread::Builder::new()
            .name("lifebuoy-writer".into())
            .spawn(move || rt.block_on(writer_loop(pool, rx)))
            .expect("the writer thread");
        GroupWriter { tx }
    }

    /// Runs `f` in the next batch and returns its result once the batch is committed.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T>>();
        self.submit(Box::new(TypedJob { f, outcome: None, reply }), answer).await
    }

    /// Like [`GroupWriter::run`], for a write on the raw connection.
    pub(crate) async fn run_raw<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T>>();
        self.submit(Box::new(RawJob { f, outcome: None, reply }), answer).await
    }

    async fn submit<T>(&self, job: Box<dyn Job>, answer: oneshot::Receiver<Result<T>>) -> Result<T> {
        self.tx.send(job).await.map_err(|_| StoreError::Unavailable("the store is shutting down".into()))?;
        answer.await.map_err(|_| StoreError::Unavailable("the writer stopped before answering".into()))?
    }
}

async fn writer_loop(pool: SqlitePool, mut rx: mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let committed = run_batch(&pool, &mut jobs).await;
        if let Err(e) = &committed {
            tracing::error!(error = %e, writes = jobs.len(), "group commit failed");
        }
        let ok = committed.is_ok();
        for j in jobs {
            j.finish(ok);
        }
    }
}

async fn run_batch(pool: &SqlitePool, jobs: &mut [Box<dyn Job>]) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    if jobs.iter().all(|j| j.is_raw()) {
        let mut h = conn.lock_handle().await?;
        return with_raw(&mut h, |c| raw_batch(c, jobs)).map_err(|e| sqlx::Error::Protocol(format!("sqlite: {e}")));
    }
    let mut tx = conn.begin().await?;
    let mut all_ok = true;
    for j in jobs.iter_mut() {
        if !j.run(&mut tx).await {
            all_ok = false;
            break;
        }
    }
    if all_ok {
        return tx.commit().await;
    }
    // Slow path: start over with each write in its own savepoint.
    tx.rollback().await?;
    let mut tx = conn.begin().await?;
    for j in jobs.iter_mut() {
        let mut sp = tx.begin().await?;
        if j.run(&mut sp).await {
            sp.commit().await?;
        } else {
            sp.rollback().await?;
        }
    }
    tx.commit().await
}

/// A batch of raw writes, on the locked handle: the same two paths as [`run_batch`]. Whatever happens, the
/// connection is left outside any transaction for sqlx.
fn raw_batch(c: &rusqlite::Connection, jobs: &mut [Box<dyn Job>]) -> rusqlite::Result<()> {
    let r = (|| {
        c.execute_batch("BEGIN IMMEDIATE")?;
        if jobs.iter_mut().all(|j| j.run_raw(c)) {
            return c.execute_batch("COMMIT");
        }
        c.execute_batch("ROLLBACK; BEGIN IMMEDIATE")?;
        for j in jobs.iter_mut() {
            c.execute_batch("SAVEPOINT job")?;
            if j.run_raw(c) {
                c.execute_batch("RELEASE job")?;
            } else {
                c.execute_batch("ROLLBACK TO job; RELEASE job")?;
            }
        }
        c.execute_batch("COMMIT")
    })();
    if r.is_err() && !c.is_autocommit() {
        let _ = c.execute_batch("ROLLBACK");
    }
    r
}

/// How often the checkpointer looks at the WAL.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Copies the WAL back into the database file from its own connection, so the writer's commits never wait for
/// a checkpoint (the writer runs with `wal_autocheckpoint=0`). PASSIVE: it never waits for readers or the
/// writer, and does what it can; the next round does the rest. Ends when the store is dropped, after one last
/// round.
pub(crate) async fn checkpointer(pool: SqlitePool, mut stop: oneshot::Receiver<()>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let last = tokio::select! {
            _ = tick.tick() => false,
            _ = &mut stop => true,
        };
        let r: std::result::Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
        if last {
            pool.close().await;
            return;
        }
    }
}
