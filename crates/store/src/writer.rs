//! Group commit for SQLite. SQLite has one writer and, with `synchronous=FULL`, one fsync per commit; under
//! load that fsync, not the work, is the ceiling. The writer task takes every write waiting in its queue,
//! runs them all in one transaction, commits once, and only then answers each caller: the same durability
//! (nothing is acknowledged before it is on disk), far fewer fsyncs.
//!
//! The fast path runs the writes back to back. If one fails, the batch is rolled back and run again with each
//! write in its own savepoint, so a bad write fails alone and the others still commit. Writes are therefore
//! closures that can run twice (`Fn`): they capture their input and do nothing but database work.

use crate::{Result, StoreError};
use futures::future::BoxFuture;
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// The most writes one commit carries.
const MAX_BATCH: usize = 256;

/// One queued write, type-erased.
trait Job: Send {
    /// Runs the write; `true` when it succeeded.
    fn run<'a>(&'a mut self, conn: &'a mut SqliteConnection) -> BoxFuture<'a, bool>;
    /// Answers the caller once the batch's fate is known.
    fn finish(self: Box<Self>, committed: bool);
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
    fn run<'a>(&'a mut self, conn: &'a mut SqliteConnection) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let r = (self.f)(conn).await;
            let ok = r.is_ok();
            self.outcome = Some(r);
            ok
        })
    }

    fn finish(self: Box<Self>, committed: bool) {
        let r = match self.outcome {
            Some(Ok(_)) if !committed => {
                Err(StoreError::Conflict("the write could not be committed; nothing was saved".into()))
            }
            Some(r) => r,
            None => Err(StoreError::Conflict("the write was not run; nothing was saved".into())),
        };
        let _ = self.reply.send(r);
    }
}

/// A handle to the writer task.
#[derive(Clone)]
pub(crate) struct GroupWriter {
    tx: mpsc::Sender<Box<dyn Job>>,
}

impl GroupWriter {
    pub(crate) fn spawn(pool: SqlitePool) -> Self {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>(4096);
        tokio::spawn(writer_loop(pool, rx));
        GroupWriter { tx }
    }

    /// Runs `f` in the next batch and returns its result once the batch is committed.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T>>();
        let job: Box<dyn Job> = Box::new(TypedJob { f, outcome: None, reply });
        self.tx.send(job).await.map_err(|_| StoreError::Conflict("the store is shutting down".into()))?;
        answer.await.map_err(|_| StoreError::Conflict("the writer stopped before answering".into()))?
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
