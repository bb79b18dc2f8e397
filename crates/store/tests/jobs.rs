//! Durable jobs in the store, on SQLite and on PostgreSQL: enqueue with idempotency keys, batch claims with
//! leases, recovery of expired leases, retries, the dead-letter state and a supervisor's retry, completions
//! that carry their effects, keyset lists, counts, and two store handles claiming from one PostgreSQL database.

use lifebuoy_store::{Conflict, Job, JobDone, JobFailed, NewJob, Store, StoreError, StoreOptions, now_ms};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(30);

/// Runs `f` on a fresh store of each backend; also hands it the database URL (for a second handle).
async fn with_store<F, Fut>(f: F)
where
    F: Fn(Store, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    lifebuoy_testkit::on_backends(lifebuoy_testkit::BOTH_BACKENDS, f).await;
}

fn job(kind: &str, n: i64) -> NewJob {
    NewJob::new(kind, &json!({ "n": n }))
}

fn kinds(k: &[&str]) -> Vec<String> {
    k.iter().map(|s| s.to_string()).collect()
}

async fn get(s: &Store, id: &str) -> Job {
    s.job(id).await.unwrap().expect("the job exists")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_claim_complete_with_keys_and_schedules() {
    with_store(|s, _| async move {
        let now = now_ms();
        let a = job("t.mail", 1);
        let b = job("t.mail", 2).key("welcome-42");
        let later = job("t.mail", 3).at(now + 60_000);
        let other = job("t.other", 4);
        assert_eq!(s.enqueue_jobs(&[a.clone(), b.clone(), later.clone(), other.clone()]).await.unwrap(), 4);
        // The same key again, even with another payload, is a no-op; another kind may use the key.
        assert!(!s.enqueue_job(&job("t.mail", 99).key("welcome-42")).await.unwrap());
        assert!(s.enqueue_job(&job("t.other", 5).key("welcome-42")).await.unwrap());
        assert_eq!(s.job_by_key("t.mail", "welcome-42").await.unwrap().unwrap().id, b.id);
        assert!(matches!(
            s.enqueue_job(&NewJob { payload: "{not json".into(), ..job("t.mail", 0) }).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(s.enqueue_job(&job("t.mail", 0).max_attempts(0)).await, Err(StoreError::Invalid(_))));

        let c = s.job_counts().await.unwrap();
        assert_eq!((c.queued, c.running, c.due), (5, 0, 4));
        assert!(c.oldest_due_at.unwrap() <= now_ms());
        assert_eq!(s.next_job_due(&kinds(&["t.mail"])).await.unwrap(), Some(a.run_at.min(b.run_at)));

        // Only due jobs of the asked kinds, each with an attempt counted and a lease.
        let got = s.claim_jobs("node-a", &kinds(&["t.mail"]), 10, LEASE).await.unwrap();
        let ids: HashSet<&str> = got.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, HashSet::from([a.id.as_str(), b.id.as_str()]));
        for j in &got {
            assert_eq!((j.state.as_str(), j.attempts, j.locked_by.as_deref()), ("running", 1, Some("node-a")));
            let until = j.locked_until.unwrap();
            assert!(until >= now + LEASE.as_millis() as i64 && until == j.due_at.unwrap());
        }
        // Nobody else gets them while the lease lasts; the scheduled one is not due.
        assert!(s.claim_jobs("node-b", &kinds(&["t.mail"]), 10, LEASE).await.unwrap().is_empty());
        assert_eq!(s.job_counts().await.unwrap().running, 2);

        // Another node cannot complete them; the holder can.
        assert!(s.complete_jobs("node-b", &[JobDone::new(&a.id)]).await.unwrap().is_empty());
        assert_eq!(s.complete_jobs("node-a", &[JobDone::new(&a.id), JobDone::new(&b.id)]).await.unwrap().len(), 2);
        let done = get(&s, &a.id).await;
        assert_eq!((done.state.as_str(), done.due_at, done.attempts), ("done", None, 1));
        assert!(done.finished_at.is_some());
        // Completing twice changes nothing.
        assert!(s.complete_jobs("node-a", &[JobDone::new(&a.id)]).await.unwrap().is_empty());
        // Any kind, when none is named.
        let rest = s.claim_jobs("node-a", &[], 10, LEASE).await.unwrap();
        assert_eq!(rest.len(), 2);
        assert!(rest.iter().all(|j| j.kind == "t.other"));
        assert_eq!(get(&s, &later.id).await.state, "queued");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_that_ends_unrenewed_is_claimed_again_and_the_old_holder_is_refused() {
    with_store(|s, _| async move {
        let j = job("t.lease", 1);
        let kept = job("t.lease", 2);
        s.enqueue_jobs(&[j.clone(), kept.clone()]).await.unwrap();
        let short = Duration::from_millis(300);
        assert_eq!(s.claim_jobs("dead-node", &[], 10, short).await.unwrap().len(), 2);
        // The live holder of `kept` renews it; `j`'s node is gone and never does.
        assert!(s.claim_jobs("node-b", &[], 10, short).await.unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(
            s.extend_job_leases("dead-node", std::slice::from_ref(&kept.id), LEASE).await.unwrap(),
            std::slice::from_ref(&kept.id)
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(s.job_counts().await.unwrap().due, 1, "the expired lease is backlog");
        let again = s.claim_jobs("node-b", &[], 10, LEASE).await.unwrap();
        assert_eq!(again.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [j.id.as_str()]);
        assert_eq!((again[0].attempts, again[0].locked_by.as_deref()), (2, Some("node-b")));
        // The old holder's late outcome is refused, whole.
        let late = JobDone { id: j.id.clone(), record: Some("{}".into()), then: vec![job("t.follow", 1)] };
        assert!(s.complete_jobs("dead-node", &[late]).await.unwrap().is_empty());
        assert!(
            s.fail_jobs("dead-node", &[JobFailed { id: j.id.clone(), error: "x".into(), retry_at: None }])
                .await
                .unwrap()
                .is_empty()
        );
        assert!(s.extend_job_leases("dead-node", std::slice::from_ref(&j.id), LEASE).await.unwrap().is_empty());
        assert!(s.job_run(&j.id).await.unwrap().is_none());
        assert_eq!(s.job_counts().await.unwrap().queued, 0, "no follow-up from a refused completion");
        assert_eq!(s.complete_jobs("node-b", &[JobDone::new(&j.id)]).await.unwrap().len(), 1);
        assert_eq!(get(&s, &j.id).await.state, "done");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_twice_then_succeeding() {
    with_store(|s, _| async move {
        let j = job("t.flaky", 1);
        s.enqueue_job(&j).await.unwrap();
        for attempt in 1..=2 {
            let got = s.claim_jobs("n", &[], 10, LEASE).await.unwrap();
            assert_eq!((got.len(), got[0].attempts), (1, attempt));
            let retry_at = now_ms() + 200;
            let states = s
                .fail_jobs(
                    "n",
                    &[JobFailed {
                        id: j.id.clone(),
                        error: format!("relay down #{attempt}"),
                        retry_at: Some(retry_at),
                    }],
                )
                .await
                .unwrap();
            assert_eq!(states, [(j.id.clone(), "failed".to_string())]);
            let f = get(&s, &j.id).await;
            assert_eq!((f.state.as_str(), f.run_at, f.due_at), ("failed", retry_at, Some(retry_at)));
            assert_eq!(f.last_error.as_deref(), Some(format!("relay down #{attempt}").as_str()));
            assert_eq!(s.job_counts().await.unwrap().failed, 1);
            // Not before its retry time.
            assert!(s.claim_jobs("n", &[], 10, LEASE).await.unwrap().is_empty());
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let got = s.claim_jobs("n", &[], 10, LEASE).await.unwrap();
        assert_eq!(got[0].attempts, 3);
        let done = JobDone { id: j.id.clone(), record: Some(r#"{"sent":true}"#.into()), then: vec![] };
        assert_eq!(s.complete_jobs("n", &[done]).await.unwrap(), std::slice::from_ref(&j.id));
        let f = get(&s, &j.id).await;
        assert_eq!((f.state.as_str(), f.attempts), ("done", 3));
        let run = s.job_run(&j.id).await.unwrap().expect("the run is recorded with the completion");
        assert_eq!(
            (run.kind.as_str(), run.node.as_str(), run.attempt, run.note.as_str()),
            ("t.flaky", "n", 3, r#"{"sent":true}"#)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_and_a_supervisors_retry() {
    with_store(|s, _| async move {
        let j = job("t.doomed", 1).max_attempts(2);
        let permanent = job("t.doomed", 2);
        s.enqueue_jobs(&[j.clone(), permanent.clone()]).await.unwrap();
        s.claim_jobs("n", &[], 10, LEASE).await.unwrap();
        let out = s
            .fail_jobs(
                "n",
                &[
                    JobFailed { id: j.id.clone(), error: "first".into(), retry_at: Some(now_ms()) },
                    // No retry: dead at once, with attempts left.
                    JobFailed { id: permanent.id.clone(), error: "bad address".into(), retry_at: None },
                ],
            )
            .await
            .unwrap();
        assert_eq!(out, [(j.id.clone(), "failed".into()), (permanent.id.clone(), "dead".into())]);
        let got = s.claim_jobs("n", &[], 10, LEASE).await.unwrap();
        assert_eq!((got.len(), got[0].attempts), (1, 2));
        // A retry time is ignored once the attempts are used up.
        let out = s
            .fail_jobs("n", &[JobFailed { id: j.id.clone(), error: "second".into(), retry_at: Some(now_ms()) }])
            .await
            .unwrap();
        assert_eq!(out[0].1, "dead");
        let dead = get(&s, &j.id).await;
        assert_eq!((dead.due_at, dead.last_error.as_deref(), dead.attempts), (None, Some("second"), 2));
        assert!(dead.finished_at.is_some());
        assert!(s.claim_jobs("n", &[], 10, LEASE).await.unwrap().is_empty(), "dead jobs are not claimed");
        let c = s.job_counts().await.unwrap();
        assert_eq!((c.dead, c.failed, c.queued, c.due), (2, 0, 0, 0));
        let listed: Vec<String> = s.list_jobs("dead", None, 10).await.unwrap().into_iter().map(|j| j.id).collect();
        assert_eq!(listed.len(), 2);
        assert!(listed.contains(&j.id) && listed.contains(&permanent.id));

        // The supervisor's retry: queued again with all its attempts, due now; it runs and completes.
        let r = s.retry_job(&j.id).await.unwrap();
        assert_eq!((r.state.as_str(), r.attempts, r.last_error.as_deref()), ("queued", 0, Some("second")));
        assert!(r.due_at.is_some() && r.finished_at.is_none());
        let got = s.claim_jobs("n", &[], 10, LEASE).await.unwrap();
        assert_eq!((got.len(), got[0].id.as_str(), got[0].attempts), (1, j.id.as_str(), 1));
        let running = s.retry_job(&j.id).await;
        assert!(
            matches!(&running, Err(StoreError::Conflict(Conflict::JobNotRetryable(st))) if st == "running"),
            "a running job is not retried: {running:?}"
        );
        s.complete_jobs("n", &[JobDone::new(&j.id)]).await.unwrap();
        let done = s.retry_job(&j.id).await;
        assert!(
            matches!(&done, Err(StoreError::Conflict(Conflict::JobNotRetryable(st))) if st == "done"),
            "nor a done one: {done:?}"
        );
        assert!(matches!(s.retry_job("no-such-job").await, Err(StoreError::NotFound)));
        assert_eq!(s.job_counts().await.unwrap().dead, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_writes_its_record_and_follow_ups_in_the_same_transaction() {
    with_store(|s, _| async move {
        let j = job("t.chain", 1);
        s.enqueue_job(&j).await.unwrap();
        s.claim_jobs("n", &[], 10, LEASE).await.unwrap();
        let next = job("t.chain", 2).at(now_ms() + 60_000).key("slot-7");
        let done =
            JobDone { id: j.id.clone(), record: Some(r#"{"ok":1}"#.into()), then: vec![next.clone(), next.clone()] };
        assert_eq!(s.complete_jobs("n", &[done]).await.unwrap(), std::slice::from_ref(&j.id));
        let n = get(&s, &next.id).await;
        assert_eq!((n.state.as_str(), n.run_at, n.idem_key.as_deref()), ("queued", next.run_at, Some("slot-7")));
        assert_eq!(s.job_run(&j.id).await.unwrap().unwrap().note, r#"{"ok":1}"#);
        assert_eq!(s.recent_job_runs("t.chain", 5).await.unwrap().len(), 1);
        assert_eq!(s.job_counts().await.unwrap().queued, 1, "the key kept the follow-up single");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_gives_a_job_back_without_counting_the_run() {
    with_store(|s, _| async move {
        let j = job("t.release", 1);
        s.enqueue_job(&j).await.unwrap();
        s.claim_jobs("n", &[], 10, LEASE).await.unwrap();
        assert!(s.release_jobs("other", std::slice::from_ref(&j.id)).await.unwrap().is_empty());
        assert_eq!(s.release_jobs("n", std::slice::from_ref(&j.id)).await.unwrap(), std::slice::from_ref(&j.id));
        let r = get(&s, &j.id).await;
        assert_eq!((r.state.as_str(), r.attempts, r.locked_until), ("queued", 0, None));
        assert!(r.due_at.unwrap() <= now_ms());
        assert_eq!(s.claim_jobs("m", &[], 10, LEASE).await.unwrap()[0].attempts, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_by_keyset_and_purge_removes_old_done_jobs() {
    with_store(|s, _| async move {
        let base = now_ms() + 3_600_000;
        // Three jobs share a run_at, so the id breaks the tie across a page boundary.
        let jobs: Vec<NewJob> = (0..25).map(|i| job("t.list", i).at(base + (i / 3) * 1000)).collect();
        s.enqueue_jobs(&jobs).await.unwrap();
        let mut seen = Vec::new();
        let mut after: Option<(i64, String)> = None;
        loop {
            let page = s.list_jobs("queued", after.as_ref().map(|(t, id)| (*t, id.as_str())), 10).await.unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|j| (j.run_at, j.id.clone()));
            seen.extend(page.into_iter().map(|j| (j.run_at, j.id)));
        }
        let mut expected: Vec<(i64, String)> = jobs.iter().map(|j| (j.run_at, j.id.clone())).collect();
        expected.sort();
        assert_eq!(seen, expected, "every queued job once, soonest first");
        assert!(matches!(s.list_jobs("asleep", None, 10).await, Err(StoreError::Invalid(_))));

        // Done jobs are listed latest first; the purge takes those due before the cut-off, and old runs.
        let old = job("t.list", 100).at(now_ms() - 10_000);
        let recent = job("t.list", 101);
        s.enqueue_jobs(&[old.clone(), recent.clone()]).await.unwrap();
        let got = s.claim_jobs("n", &[], 10, LEASE).await.unwrap();
        assert_eq!(got.len(), 2);
        let done: Vec<JobDone> =
            got.iter().map(|j| JobDone { id: j.id.clone(), record: Some("{}".into()), then: vec![] }).collect();
        s.complete_jobs("n", &done).await.unwrap();
        let listed: Vec<String> = s.list_jobs("done", None, 10).await.unwrap().into_iter().map(|j| j.id).collect();
        assert_eq!(listed, [recent.id.clone(), old.id.clone()]);
        let deleted = s.purge_jobs(now_ms() - 5_000, now_ms() + 1).await.unwrap();
        assert_eq!(deleted, 3, "one old done job and two recorded runs");
        assert!(s.job(&old.id).await.unwrap().is_none());
        assert_eq!(get(&s, &recent.id).await.state, "done");
        assert_eq!(s.list_jobs("queued", None, 100).await.unwrap().len(), 25, "only done jobs are purged");
    })
    .await;
}

/// Two store handles (two pools: as two nodes have) claim from one database at once: every job is claimed
/// exactly once. On PostgreSQL the claims run in parallel with SKIP LOCKED; on SQLite two handles in one
/// process are two writers on one file, serialised by SQLite's lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_claim_every_job_once() {
    with_store(|s, url| async move {
        let mut opts = StoreOptions::new(url);
        opts.max_connections = 5;
        let other = Store::open(&opts).await.unwrap();
        let jobs: Vec<NewJob> = (0..1000).map(|i| job("t.race", i)).collect();
        s.enqueue_jobs(&jobs).await.unwrap();
        let claimer = |store: Store, node: &'static str| async move {
            let mut mine = Vec::new();
            loop {
                let got = store.claim_jobs(node, &[], 37, LEASE).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                let done: Vec<JobDone> = got.iter().map(|j| JobDone::new(&j.id)).collect();
                assert_eq!(store.complete_jobs(node, &done).await.unwrap().len(), got.len());
                mine.extend(got.into_iter().map(|j| j.id));
            }
        };
        let (a, b) =
            tokio::join!(tokio::spawn(claimer(s.clone(), "node-a")), tokio::spawn(claimer(other.clone(), "node-b")));
        let (a, b) = (a.unwrap(), b.unwrap());
        let all: HashSet<&String> = a.iter().chain(b.iter()).collect();
        assert_eq!(a.len() + b.len(), 1000, "no job claimed twice");
        assert_eq!(all.len(), 1000, "no job lost");
        assert!(jobs.iter().all(|j| all.contains(&j.id)));
        let c = s.job_counts().await.unwrap();
        assert_eq!((c.queued, c.running, c.due), (0, 0, 0));
        other.close().await;
    })
    .await;
}
