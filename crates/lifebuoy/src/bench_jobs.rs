//! `lifebuoy bench jobs`: N no-op jobs through the durable queue (`lifebuoy_app::jobs`) on a fresh database,
//! enqueued in batches while one runner claims and completes them. Every execution is counted per job, so a
//! job run twice or never is seen; the database is checked at the end too. Prints human figures, then one JSON
//! line: `{"jobs", "per_s", "p99_lag_ms", "duplicates", "lost", ...}`. Lag is a run's start minus its `run_at`.

use lifebuoy_app::jobs::{JobOutcome, Registry, Runner, RunnerOptions};
use lifebuoy_store::{NewJob, Store, StoreOptions};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::{Duration, Instant};

const KIND: &str = "bench.noop";

pub struct JobsBench {
    pub database: Option<String>,
    pub jobs: usize,
    pub concurrency: usize,
    pub batch: usize,
    /// Jobs per enqueueing transaction.
    pub enqueue_batch: usize,
    pub sqlite_sync_full: bool,
}

pub async fn run(b: JobsBench) -> anyhow::Result<()> {
    anyhow::ensure!(b.jobs > 0, "--jobs must be at least 1");
    let tmp = crate::bench::tempdir()?;
    let (url, admin) = crate::bench::fresh_database(b.database.clone(), &tmp).await?;
    let backend = crate::bench::backend_name(&url);
    let result = measure(&b, &url, backend).await;
    crate::bench::drop_database(admin).await;
    let _ = std::fs::remove_dir_all(&tmp);
    let line = result?;
    println!("{line}");
    // The figures are printed either way; a run that lost or doubled a job fails.
    let (lost, duplicates) = (line["lost"].as_u64().unwrap_or(0), line["duplicates"].as_u64().unwrap_or(0));
    anyhow::ensure!(lost == 0 && duplicates == 0, "{lost} jobs were lost and {duplicates} ran twice");
    anyhow::ensure!(line["timed_out"] != true, "not every job was done in time");
    Ok(())
}

async fn measure(b: &JobsBench, url: &str, backend: &str) -> anyhow::Result<serde_json::Value> {
    let mut opts = StoreOptions::new(url);
    opts.sqlite_sync_full = b.sqlite_sync_full;
    let store = Store::open(&opts).await?;
    let n = b.jobs;
    // Per job: how many times it ran, and the lag of its first run.
    let runs: Arc<Vec<AtomicU32>> = Arc::new((0..n).map(|_| AtomicU32::new(0)).collect());
    let lags: Arc<Vec<AtomicI64>> = Arc::new((0..n).map(|_| AtomicI64::new(-1)).collect());
    let mut registry = Registry::new();
    {
        let (runs, lags) = (runs.clone(), lags.clone());
        registry.register(KIND, move |job: lifebuoy_store::Job, ctx: lifebuoy_app::jobs::JobContext| {
            let (runs, lags) = (runs.clone(), lags.clone());
            async move {
                let i = job.payload_as::<serde_json::Value>()?["i"].as_u64().unwrap_or(u64::MAX) as usize;
                if let (Some(r), Some(l)) = (runs.get(i), lags.get(i))
                    && r.fetch_add(1, Ordering::Relaxed) == 0
                {
                    l.store(ctx.started_at - job.run_at, Ordering::Relaxed);
                }
                Ok(JobOutcome::done())
            }
        })?;
    }
    let runner = Runner::start(
        store.clone(),
        registry,
        RunnerOptions {
            concurrency: b.concurrency,
            batch: b.batch,
            poll: Duration::from_millis(200),
            ..RunnerOptions::default()
        },
    )?;
    eprintln!(
        "bench jobs: {n} no-op jobs on {backend} (enqueued {} per transaction; runner: {} at once, claims of up to {})",
        b.enqueue_batch, b.concurrency, b.batch
    );
    let started = Instant::now();
    let mut enqueued = 0;
    for chunk_start in (0..n).step_by(b.enqueue_batch.max(1)) {
        let end = (chunk_start + b.enqueue_batch.max(1)).min(n);
        let jobs: Vec<NewJob> = (chunk_start..end).map(|i| NewJob::new(KIND, &json!({ "i": i }))).collect();
        enqueued += store.enqueue_jobs(&jobs).await?;
    }
    let enqueue_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(enqueued == n, "only {enqueued} of {n} jobs were enqueued");
    let deadline = Instant::now() + Duration::from_secs(60).max(Duration::from_millis(n as u64 * 5));
    while (runner.stats().succeeded as usize) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats = runner.stats();
    let timed_out = (stats.succeeded as usize) < n;
    // Give a duplicate every chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    runner.shutdown().await;
    let counts = store.job_counts().await?;
    let not_done = (counts.queued + counts.running + counts.failed + counts.dead) as usize;
    let mut duplicates = 0u64;
    let mut never_ran = 0usize;
    for r in runs.iter() {
        match r.load(Ordering::Relaxed) {
            0 => never_ran += 1,
            c => duplicates += u64::from(c - 1),
        }
    }
    let lost = never_ran.max(not_done);
    let mut lag: Vec<i64> = lags.iter().map(|l| l.load(Ordering::Relaxed)).filter(|l| *l >= 0).collect();
    lag.sort_unstable();
    let pct = |p: f64| -> i64 {
        if lag.is_empty() { 0 } else { lag[((lag.len() as f64 * p).ceil() as usize).clamp(1, lag.len()) - 1] }
    };
    let per_s = n as f64 / elapsed;
    eprintln!(
        "enqueued {n} in {enqueue_s:.2} s; all done after {elapsed:.2} s: {per_s:.0} jobs/s; lag p50 {} ms, p99 {} ms, \
         max {} ms; duplicates {duplicates}, lost {lost}{}",
        pct(0.5),
        pct(0.99),
        lag.last().copied().unwrap_or(0),
        if timed_out { " (TIMED OUT)" } else { "" }
    );
    store.close().await;
    Ok(json!({
        "bench": "jobs",
        "backend": backend,
        "jobs": n,
        "per_s": (per_s * 10.0).round() / 10.0,
        "p50_lag_ms": pct(0.5),
        "p99_lag_ms": pct(0.99),
        "max_lag_ms": lag.last().copied().unwrap_or(0),
        "duplicates": duplicates,
        "lost": lost,
        "enqueue_s": (enqueue_s * 1000.0).round() / 1000.0,
        "concurrency": b.concurrency,
        "batch": b.batch,
        "timed_out": timed_out,
    }))
}
