//! The job kinds every node runs.
//!
//! - `system.heartbeat`: the job system's own canary. Each run writes a `job_runs` row (node, attempt, how
//!   late it started) in the same transaction as its completion, so the row exists exactly when the job
//!   completed, once. With `{"every_s": n}` it schedules the next beat `n` seconds on, in that same
//!   transaction, under an idempotency key naming its time slot: any number of nodes keep one chain. `serve`
//!   starts the chain (every 5 minutes); the console shows the latest beat.
//! - `jobs.purge`: deletes done jobs and recorded runs past their retention, and the search indexes' change log
//!   past a week, then schedules itself again the same way (hourly).

use super::{JobContext, JobError, JobFailure, JobOutcome, Registry, Runner, RunnerHandle, RunnerOptions};
use lifebuoy_store::{Job, NewJob, Store, now_ms};
use serde::Deserialize;
use serde_json::json;

pub const HEARTBEAT: &str = "system.heartbeat";
pub const PURGE: &str = "jobs.purge";

/// How often `serve` beats.
pub const HEARTBEAT_EVERY_S: i64 = 300;
/// How often done jobs are purged, and how long they and recorded runs are kept.
pub const PURGE_EVERY_S: i64 = 3600;
pub const KEEP_DONE_DAYS: i64 = 7;
pub const KEEP_RUNS_DAYS: i64 = 30;
/// How long the search indexes' change log is kept: a node stopped for longer rebuilds its indexes on start.
pub const KEEP_INDEX_CHANGES_DAYS: i64 = 7;

#[derive(Debug, Default, Deserialize)]
struct Every {
    every_s: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct PurgeArgs {
    every_s: Option<i64>,
    #[serde(default = "keep_done")]
    keep_done_days: i64,
    #[serde(default = "keep_runs")]
    keep_runs_days: i64,
}

fn keep_done() -> i64 {
    KEEP_DONE_DAYS
}

fn keep_runs() -> i64 {
    KEEP_RUNS_DAYS
}

/// The next job of a chain: due at the start of the slot after `now`, keyed by that slot, so whichever node
/// enqueues it first wins and the others' enqueues are no-ops.
pub fn next_in_chain(kind: &str, payload: serde_json::Value, every_s: i64, now: i64) -> NewJob {
    let every_ms = every_s.max(1) * 1000;
    let slot = now.div_euclid(every_ms) + 1;
    NewJob::new(kind, &payload).at(slot * every_ms).key(format!("slot-{every_s}-{slot}"))
}

async fn heartbeat(job: Job, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: Every = job.payload_as()?;
    let mut out = JobOutcome::done().record(json!({
        "node": &*ctx.node,
        "attempt": job.attempts,
        "lag_ms": ctx.started_at - job.run_at,
    }));
    if let Some(every) = args.every_s.filter(|s| *s > 0) {
        out = out.then(next_in_chain(HEARTBEAT, json!({"every_s": every}), every, now_ms()));
    }
    Ok(out)
}

async fn purge(job: Job, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: PurgeArgs = job.payload_as()?;
    let now = now_ms();
    let day = 86_400_000;
    let deleted =
        ctx.store.purge_jobs(now - args.keep_done_days.max(1) * day, now - args.keep_runs_days.max(1) * day).await?;
    if deleted > 0 {
        tracing::info!(deleted, "purged old jobs");
    }
    // The search indexes' change log: a node down for longer than this rebuilds its indexes.
    let pruned = ctx.store.prune_index_changes(now - KEEP_INDEX_CHANGES_DAYS * day).await?;
    if pruned > 0 {
        tracing::info!(pruned, "pruned the index change log");
    }
    let mut out = JobOutcome::done();
    if let Some(every) = args.every_s.filter(|s| *s > 0) {
        let next =
            json!({"every_s": every, "keep_done_days": args.keep_done_days, "keep_runs_days": args.keep_runs_days});
        out = out.then(next_in_chain(PURGE, next, every, now));
    }
    Ok(out)
}

/// Registers the built-in kinds.
pub fn register(registry: &mut Registry) -> Result<(), JobError> {
    registry.register(HEARTBEAT, heartbeat)?;
    registry.register(PURGE, purge)?;
    Ok(())
}

/// Starts the built-in chains if they are not running (a no-op when another node or an earlier start already
/// enqueued their next link).
pub async fn schedule(store: &Store) -> Result<(), JobError> {
    let now = now_ms();
    store
        .enqueue_jobs(&[
            next_in_chain(HEARTBEAT, json!({"every_s": HEARTBEAT_EVERY_S}), HEARTBEAT_EVERY_S, now),
            next_in_chain(
                PURGE,
                json!({"every_s": PURGE_EVERY_S, "keep_done_days": KEEP_DONE_DAYS, "keep_runs_days": KEEP_RUNS_DAYS}),
                PURGE_EVERY_S,
                now,
            ),
        ])
        .await?;
    Ok(())
}

/// What `serve` runs: a runner with the built-in kinds and default options, and the built-in chains started.
pub async fn start(store: &Store) -> Result<RunnerHandle, JobError> {
    let mut registry = Registry::new();
    register(&mut registry)?;
    let runner = Runner::start(store.clone(), registry, RunnerOptions::default())?;
    schedule(store).await?;
    Ok(runner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_links_fall_on_slot_boundaries_with_one_key_per_slot() {
        let a = next_in_chain(HEARTBEAT, json!({}), 300, 1_000_000_123);
        let b = next_in_chain(HEARTBEAT, json!({}), 300, 1_000_000_999);
        assert_eq!(a.run_at % 300_000, 0);
        assert!(a.run_at > 1_000_000_123 && a.run_at <= 1_000_000_123 + 300_000);
        assert_eq!((a.run_at, &a.idem_key), (b.run_at, &b.idem_key), "two nodes in one slot agree");
        let c = next_in_chain(HEARTBEAT, json!({}), 300, a.run_at);
        assert_eq!(c.run_at, a.run_at + 300_000, "the link run at its slot schedules the next slot");
        assert_ne!(c.idem_key, a.idem_key);
    }
}
