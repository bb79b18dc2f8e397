//! Group commit for SQLite. SQLite has one writer and, with `synchronous=FULL`, one fsync per commit; under
//! load that fsync, not the work, is the ceiling. The writer task takes every write waiting in its queue,
//! runs each in its own savepoint inside one transaction, commits once, and only then answers each caller:
//! the same durability (nothing is acknowledged before it is on disk), far fewer fsyncs. A write that fails
//! rolls back to its savepoint alone; a commit that fails fails every write of the batch.

use crate::{Result, StoreError};
use futures::future::BoxFuture;
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// Called after the batch's commit with whether it succeeded.
type Finisher = Box<dyn FnOnce(bool) + Send>;
type Job = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Finisher> + Send>;

/// The most writes one commit carries.
const MAX_BATCH: usize = 256;

/// A handle to the writer task.
#[derive(Clone)]
pub(crate) struct GroupWriter {
    tx: mpsc::Sender<Job>,
}

impl GroupWriter {
    pub(crate) fn spawn(pool: SqlitePool) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(writer_loop(pool, rx));
        GroupWriter { tx }
    }

    /// Runs `f` inside a savepoint of the next batch and returns its result once the batch is committed.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn: &mut SqliteConnection| {
            Box::pin(async move {
                let outcome = async {
                    let mut sp = conn.begin().await?;
                    let v = f(&mut sp).await?;
                    sp.commit().await?;
                    Ok::<T, StoreError>(v)
                }
                .await;
                Box::new(move |committed: bool| {
                    let r = match outcome {
                        Ok(_) if !committed => {
                            Err(StoreError::Conflict("the write could not be committed; nothing was saved".into()))
                        }
                        r => r,
                    };
                    let _ = reply.send(r);
                }) as Finisher
            })
        });
        self.tx.send(job).await.map_err(|_| StoreError::Conflict("the store is shutting down".into()))?;
        answer.await.map_err(|_| StoreError::Conflict("the writer stopped before answering".into()))?
    }
}

async fn writer_loop(pool: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let mut finishers = Vec::with_capacity(jobs.len());
        let committed = async {
            let mut conn = pool.acquire().await?;
            let mut tx = conn.begin().await?;
            for job in jobs.drain(..) {
                finishers.push(job(&mut tx).await);
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = &committed {
            tracing::error!(error = %e, writes = finishers.len() + jobs.len(), "group commit failed");
        }
        // Jobs that never ran (the connection could not be had) are told so by dropping their reply.
        drop(jobs);
        for f in finishers {
            f(committed.is_ok());
        }
    }
}
