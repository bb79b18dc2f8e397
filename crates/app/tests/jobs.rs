//! The job runner on SQLite and PostgreSQL: retries with backoff, the dead-letter state and a supervisor's
//! retry, scheduled jobs, recovery of a killed node's jobs, graceful shutdown, the local wake-up, and two nodes
//! on one PostgreSQL running 1,000 jobs with none run twice and none lost.

use lifebuoy_app::jobs::{
    Backoff, JobContext, JobFailure, JobOutcome, Registry, Runner, RunnerHandle, RunnerOptions, builtin,
};
use lifebuoy_store::{Job, NewJob, Store, StoreOptions, now_ms};
use lifebuoy_testkit::Backend;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn with_store<F, Fut>(backends: &[Backend], f: F)
where
    F: Fn(Store, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    lifebuoy_testkit::on_backends(backends, f).await;
}

const BOTH: &[Backend] = &[Backend::Sqlite, Backend::Postgres];

/// Fast options for tests: short polls and backoff, a short lease.
fn opts(node: &str) -> RunnerOptions {
    RunnerOptions {
        node: node.into(),
        concurrency: 8,
        batch: 16,
        poll: Duration::from_millis(50),
        lease: Duration::from_secs(5),
        backoff: Backoff { base: Duration::from_millis(40), cap: Duration::from_millis(200) },
        grace: Duration::from_secs(5),
        ..RunnerOptions::default()
    }
}

/// Waits (up to 20 s) until `id` is in `state`.
async fn wait_state(s: &Store, id: &str, state: &str) -> Job {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let j = s.job(id).await.unwrap().expect("job");
        if j.state == state {
            return j;
        }
        assert!(Instant::now() < deadline, "job {id} never reached {state}: {j:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A handler that counts its runs per job and fails the first `fail_first` runs of each.
fn flaky(
    runs: Arc<Mutex<HashMap<String, u32>>>,
    fail_first: u32,
) -> impl Fn(Job, JobContext) -> futures::future::BoxFuture<'static, Result<JobOutcome, JobFailure>> + Send + Sync + 'static
{
    move |job: Job, _ctx: JobContext| {
        let runs = runs.clone();
        Box::pin(async move {
            let n = {
                let mut r = runs.lock().unwrap();
                let c = r.entry(job.id.clone()).or_insert(0);
                *c += 1;
                *c
            };
            if n <= fail_first {
                Err(JobFailure::retry(format!("relay down (run {n})")))
            } else {
                Ok(JobOutcome::done())
            }
        })
    }
}

fn start(s: &Store, kind: &str, handler: impl lifebuoy_app::jobs::JobHandler, o: RunnerOptions) -> RunnerHandle {
    let mut r = Registry::new();
    r.register(kind, handler).unwrap();
    Runner::start(s.clone(), r, o).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_failing_twice_then_succeeding() {
    with_store(BOTH, |s, _| async move {
        let runs = Arc::new(Mutex::new(HashMap::new()));
        let runner = start(&s, "t.flaky", flaky(runs.clone(), 2), opts("node-a"));
        let j = NewJob::new("t.flaky", &json!({}));
        let enqueued = now_ms();
        s.enqueue_job(&j).await.unwrap();
        let done = wait_state(&s, &j.id, "done").await;
        assert_eq!(done.attempts, 3);
        assert_eq!(runs.lock().unwrap()[&j.id], 3, "ran three times, no more");
        assert_eq!(done.last_error.as_deref(), Some("relay down (run 2)"), "the last failure stays for the record");
        // Two backoffs of at least half a step each (20 ms, then 40 ms) passed between the runs.
        assert!(done.finished_at.unwrap() - enqueued >= 60);
        // The runner counts a success once its completion has committed, just after the row reads `done`.
        let deadline = Instant::now() + Duration::from_secs(5);
        while runner.stats().succeeded == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let st = runner.stats();
        assert_eq!((st.succeeded, st.failed, st.dead, st.lost), (1, 2, 0, 0));
        runner.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_reaching_the_dead_letters_and_retried_by_a_supervisor() {
    with_store(BOTH, |s, _| async move {
        let broken = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let runs = Arc::new(AtomicU32::new(0));
        let (b, r) = (broken.clone(), runs.clone());
        let handler = move |_job: Job, _ctx: JobContext| {
            let (b, r) = (b.clone(), r.clone());
            async move {
                r.fetch_add(1, Ordering::SeqCst);
                if b.load(Ordering::SeqCst) {
                    Err(JobFailure::retry("the exchange's API answers 503"))
                } else {
                    Ok(JobOutcome::done())
                }
            }
        };
        let runner = start(&s, "t.doomed", handler, opts("node-a"));
        let j = NewJob::new("t.doomed", &json!({})).max_attempts(3);
        let permanent = NewJob::new("t.doomed", &json!({"bad": true}));
        s.enqueue_job(&j).await.unwrap();
        let dead = wait_state(&s, &j.id, "dead").await;
        assert_eq!((dead.attempts, dead.last_error.as_deref()), (3, Some("the exchange's API answers 503")));
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "a dead job is not run again by itself");
        assert_eq!(s.job_counts().await.unwrap().dead, 1);

        // The cause is fixed; a supervisor retries it.
        broken.store(false, Ordering::SeqCst);
        s.retry_job(&j.id).await.unwrap();
        let done = wait_state(&s, &j.id, "done").await;
        assert_eq!(done.attempts, 1, "a retried job starts its attempts afresh");
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        assert_eq!(s.job_counts().await.unwrap().dead, 0);
        runner.shutdown().await;

        // A permanent failure is dead at once, with attempts left.
        let handler =
            |_job: Job, _ctx: JobContext| async { Err::<JobOutcome, _>(JobFailure::permanent("no such account")) };
        let runner = start(&s, "t.permanent", handler, opts("node-b"));
        let p = NewJob { kind: "t.permanent".into(), ..permanent };
        s.enqueue_job(&p).await.unwrap();
        let dead = wait_state(&s, &p.id, "dead").await;
        assert_eq!((dead.attempts, dead.max_attempts), (1, 5));
        runner.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_jobs_run_at_their_time_and_panics_are_failures() {
    with_store(BOTH, |s, _| async move {
        let started: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
        let st = started.clone();
        let handler = move |job: Job, ctx: JobContext| {
            let st = st.clone();
            async move {
                st.lock().unwrap().push((job.id.clone(), ctx.started_at));
                if job.payload.contains("panic") && job.attempts == 1 {
                    panic!("handler bug");
                }
                Ok(JobOutcome::done())
            }
        };
        let runner = start(&s, "t.sla", handler, opts("node-a"));
        let at = now_ms() + 700;
        let j = NewJob::new("t.sla", &json!({})).at(at);
        let p = NewJob::new("t.sla", &json!({"panic": true}));
        s.enqueue_jobs(&[j.clone(), p.clone()]).await.unwrap();
        let done = wait_state(&s, &j.id, "done").await;
        let ran: Vec<i64> = started.lock().unwrap().iter().filter(|(id, _)| *id == j.id).map(|(_, t)| *t).collect();
        assert_eq!(ran.len(), 1);
        assert!(ran[0] >= at, "ran {} ms before its time", at - ran[0]);
        assert_eq!(done.attempts, 1);
        let p = wait_state(&s, &p.id, "done").await;
        assert_eq!(p.attempts, 2);
        assert!(p.last_error.unwrap().contains("handler bug"));
        runner.shutdown().await;
    })
    .await;
}

/// A node that claimed jobs and died: its jobs run once their lease ends; one whose every run died is dead
/// without being run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_a_killed_node_run_after_their_lease() {
    with_store(BOTH, |s, _| async move {
        let j = NewJob::new("t.work", &json!({}));
        let exhausted = NewJob::new("t.work", &json!({})).max_attempts(1);
        s.enqueue_jobs(&[j.clone(), exhausted.clone()]).await.unwrap();
        let lease = Duration::from_millis(800);
        // Taken before the claim: the lease starts during the claim, so it ends no earlier than this + lease
        // (taken after, a claim slowed by a busy machine would make the bound too strict).
        let claimed_at = now_ms();
        assert_eq!(s.claim_jobs("killed-node", &[], 10, lease).await.unwrap().len(), 2);
        let runs: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let runner = start(&s, "t.work", flaky(runs.clone(), 0), opts("node-b"));
        let done = wait_state(&s, &j.id, "done").await;
        assert!(done.finished_at.unwrap() >= claimed_at + lease.as_millis() as i64 - 5, "not before the lease ended");
        assert_eq!((done.attempts, done.locked_by.as_deref()), (2, Some("node-b")));
        let dead = wait_state(&s, &exhausted.id, "dead").await;
        assert!(dead.last_error.unwrap().contains("without an outcome"));
        assert_eq!(*runs.lock().unwrap(), HashMap::from([(j.id.clone(), 1)]), "the exhausted job was not run");
        runner.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_running_jobs_and_gives_back_the_slow_ones() {
    with_store(BOTH, |s, _| async move {
        let handler = |job: Job, _ctx: JobContext| async move {
            let ms = job.payload_as::<serde_json::Value>()?["ms"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(JobOutcome::done())
        };
        let mut o = opts("node-a");
        o.grace = Duration::from_millis(1500);
        // Renewals every third of the lease keep the slow job ours while it runs.
        o.lease = Duration::from_millis(600);
        let runner = start(&s, "t.slow", handler, o);
        let quick = NewJob::new("t.slow", &json!({"ms": 300}));
        let slow = NewJob::new("t.slow", &json!({"ms": 60_000}));
        s.enqueue_jobs(&[quick.clone(), slow.clone()]).await.unwrap();
        wait_state(&s, &slow.id, "running").await;
        wait_state(&s, &quick.id, "running").await;
        let report = runner.shutdown().await;
        assert_eq!((report.released, report.abandoned), (1, 0));
        assert_eq!(s.job(&quick.id).await.unwrap().unwrap().state, "done", "the running quick job finished first");
        let back = s.job(&slow.id).await.unwrap().unwrap();
        assert_eq!(
            (back.state.as_str(), back.attempts),
            ("queued", 0),
            "the slow one is given back, its run not counted"
        );
        assert!(back.due_at.unwrap() <= now_ms());
        // Nothing is claimed after the shutdown.
        let j = NewJob::new("t.slow", &json!({"ms": 0}));
        s.enqueue_job(&j).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(s.job(&j.id).await.unwrap().unwrap().state, "queued");
    })
    .await;
}

/// With a poll of a minute, only the wake-up of a local enqueue can start the job within the test's wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_enqueue_wakes_an_idle_runner() {
    with_store(BOTH, |s, _| async move {
        let runs: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let mut o = opts("node-a");
        o.poll = Duration::from_secs(60);
        let runner = start(&s, "t.wake", flaky(runs.clone(), 0), o);
        // Let it go idle first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for _ in 0..3 {
            let j = NewJob::new("t.wake", &json!({}));
            s.enqueue_job(&j).await.unwrap();
            wait_state(&s, &j.id, "done").await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        runner.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_records_its_run_and_schedules_the_next_once() {
    with_store(BOTH, |s, _| async move {
        let mut r = Registry::new();
        builtin::register(&mut r).unwrap();
        let runner = Runner::start(s.clone(), r, opts("node-a")).unwrap();
        let beat = NewJob::new(builtin::HEARTBEAT, &json!({"every_s": 3600}));
        s.enqueue_job(&beat).await.unwrap();
        let done = wait_state(&s, &beat.id, "done").await;
        let run = s.job_run(&beat.id).await.unwrap().expect("recorded");
        let note: serde_json::Value = serde_json::from_str(&run.note).unwrap();
        assert_eq!((run.node.as_str(), note["node"].as_str(), run.attempt), ("node-a", Some("node-a"), done.attempts));
        assert!(note["lag_ms"].as_i64().unwrap() >= 0);
        // The next beat waits in the next hour's slot; starting the chain again adds nothing.
        let next = s.list_jobs("queued", None, 10).await.unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].run_at % 3_600_000, 0);
        assert!(
            !s.enqueue_job(&builtin::next_in_chain(builtin::HEARTBEAT, json!({"every_s": 3600}), 3600, now_ms()))
                .await
                .unwrap()
        );
        runner.shutdown().await;
    })
    .await;
}

/// Two nodes (two store handles, two runners) on one PostgreSQL database run 1,000 jobs: each exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgresql_run_1000_jobs_once_each() {
    with_store(&[Backend::Postgres], |s, url| async move {
        let mut o = StoreOptions::new(url);
        o.max_connections = 5;
        let other = Store::open(&o).await.unwrap();
        let runs: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let handler = |runs: Arc<Mutex<HashMap<String, Vec<String>>>>| {
            move |job: Job, ctx: JobContext| {
                let runs = runs.clone();
                async move {
                    runs.lock().unwrap().entry(job.id.clone()).or_default().push(ctx.node.to_string());
                    // A little work, so that the nodes' claims interleave.
                    tokio::time::sleep(Duration::from_millis(rand_ms())).await;
                    Ok(JobOutcome::done())
                }
            }
        };
        let a = start(&s, "t.race", handler(runs.clone()), RunnerOptions { batch: 32, ..opts("node-a") });
        let b = start(&other, "t.race", handler(runs.clone()), RunnerOptions { batch: 32, ..opts("node-b") });
        let jobs: Vec<NewJob> = (0..1000).map(|i| NewJob::new("t.race", &json!({ "i": i }))).collect();
        // Enqueued through both handles, in batches, while the runners run.
        for (i, chunk) in jobs.chunks(100).enumerate() {
            let h = if i % 2 == 0 { &s } else { &other };
            assert_eq!(h.enqueue_jobs(chunk).await.unwrap(), chunk.len());
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while a.stats().succeeded + b.stats().succeeded < 1000 {
            assert!(Instant::now() < deadline, "not all jobs done in 60 s: {:?} {:?}", a.stats(), b.stats());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (sa, sb) = (a.stats(), b.stats());
        a.shutdown().await;
        b.shutdown().await;
        let runs = std::mem::take(&mut *runs.lock().unwrap());
        let twice: Vec<_> = runs.iter().filter(|(_, n)| n.len() > 1).collect();
        assert!(twice.is_empty(), "jobs run twice: {twice:?}");
        assert_eq!(runs.len(), 1000, "jobs lost: {}", 1000 - runs.len());
        assert!(jobs.iter().all(|j| runs.contains_key(&j.id)));
        let c = s.job_counts().await.unwrap();
        assert_eq!((c.queued, c.running, c.failed, c.dead), (0, 0, 0, 0));
        assert_eq!(sa.succeeded + sb.succeeded, 1000);
        assert_eq!(sa.lost + sb.lost, 0);
        let by_a = runs.values().filter(|n| n[0] == "node-a").count();
        eprintln!("node-a ran {by_a}, node-b {}", 1000 - by_a);
        other.close().await;
    })
    .await;
}

fn rand_ms() -> u64 {
    (uuid::Uuid::new_v4().as_u128() % 4) as u64
}

/// The console's use cases: supervisors and admins (and the system) see and retry jobs; L1 agents and
/// integration tokens are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_supervisors_see_and_retry_jobs() {
    use lifebuoy_app::jobs::supervise;
    use lifebuoy_app::{Actor, AppError};
    use lifebuoy_domain::{AgentNo, Lang, Role};
    with_store(&[Backend::Sqlite], |s, _| async move {
        let agent = |no: &'static str, role: Role| {
            let s = s.clone();
            async move {
                s.create_agent(&lifebuoy_store::NewAgent {
                    email: format!("{}@desk.example", no.to_lowercase()),
                    display_name: no.into(),
                    agent_no: AgentNo::parse(no).unwrap(),
                    role,
                    languages: vec![Lang::En],
                    departments: vec!["support".into()],
                    password_hash: "x".into(),
                })
                .await
                .unwrap()
            }
        };
        let sup = Actor::Agent(agent("S200", Role::Supervisor).await);
        let l1 = Actor::Agent(agent("A200", Role::AgentL1).await);
        let token = Actor::Integration { token_id: "t".into(), name: "exchange".into() };
        let j = NewJob::new("t.dead", &json!({})).max_attempts(1);
        s.enqueue_job(&j).await.unwrap();
        s.claim_jobs("n", &[], 1, Duration::from_secs(30)).await.unwrap();
        s.fail_jobs("n", &[lifebuoy_store::JobFailed { id: j.id.clone(), error: "boom".into(), retry_at: None }])
            .await
            .unwrap();
        for who in [&l1, &token] {
            assert!(matches!(supervise::overview(&s, who).await, Err(AppError::Forbidden(_))));
            assert!(matches!(supervise::list(&s, who, "dead", None, 10).await, Err(AppError::Forbidden(_))));
            assert!(matches!(supervise::retry(&s, who, &j.id).await, Err(AppError::Forbidden(_))));
        }
        assert_eq!(s.job(&j.id).await.unwrap().unwrap().state, "dead");
        let o = supervise::overview(&s, &sup).await.unwrap();
        assert_eq!((o.counts.dead, o.last_heartbeat.is_none()), (1, true));
        let page = supervise::list(&s, &sup, "dead", None, 10).await.unwrap();
        assert_eq!(page.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [j.id.as_str()]);
        let cursor = supervise::cursor_of(&page[0]);
        assert!(supervise::list(&s, &sup, "dead", Some(&cursor), 10).await.unwrap().is_empty());
        assert!(matches!(supervise::list(&s, &sup, "done", None, 10).await, Err(AppError::Invalid { .. })));
        assert!(matches!(supervise::list(&s, &sup, "dead", Some("x"), 10).await, Err(AppError::Invalid { .. })));
        assert_eq!(supervise::retry(&s, &sup, &j.id).await.unwrap().state, "queued");
        let again = supervise::retry(&s, &sup, &j.id).await.unwrap_err();
        assert_eq!(again.code(), "job_not_retryable");
        assert!(matches!(supervise::retry(&s, &Actor::system("ops"), "nope").await, Err(AppError::NotFound)));
    })
    .await;
}
