//! SLA clocks on tickets (issue 13) over a real store (SQLite, then PostgreSQL) and the real job runner: the
//! policy a case falls under, its due times, a pause while it waits on the customer, and a breach found by the
//! durable check that escalates the case once, however many times the check runs.

use lifebuoy_app::jobs::{Backoff, RunnerOptions};
use lifebuoy_app::tickets::{self, CreateTicket, NewMessage};
use lifebuoy_app::{Actor, App, sla};
use lifebuoy_domain::sla::SlaState;
use lifebuoy_domain::{Priority, Role, Status, Tier};
use lifebuoy_store::{FileStore, NewJob, Store, TimelineItem};
use lifebuoy_testkit::{BOTH_BACKENDS, on_backends, test_agent};
use serde_json::json;
use std::time::Duration;

fn ticket(subject: &str, category: &str) -> CreateTicket {
    serde_json::from_value(json!({"subject": subject, "body": "提币两小时没到账", "category": category})).unwrap()
}

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
}

/// Moves a case's creation back in time, as if it had waited `minutes` (straight in the database).
async fn backdate(url: &str, id: &str, minutes: i64) {
    use sqlx::Connection;
    let sql = "UPDATE conversations SET created_at = created_at - $1 WHERE id = $2";
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).bind(minutes * 60_000).bind(id).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).bind(minutes * 60_000).bind(id).execute(&mut c).await.unwrap();
    }
}

async fn breaches(app: &App, id: &str) -> usize {
    app.store
        .timeline(id, true)
        .await
        .unwrap()
        .iter()
        .filter(|i| matches!(i, TimelineItem::Event(e) if e.kind == "sla_breached"))
        .count()
}

async fn clocks(store: Store, url: String) {
    let dir = std::env::temp_dir().join(format!("lifebuoy-sla-test-{}", uuid::Uuid::new_v4().simple()));
    let app = App::new(store, FileStore::new(dir.join("files")), Default::default());
    let alice = Actor::Customer(app.store.upsert_exchange_customer("sla-alice", None, None, Some("en")).await.unwrap());
    let agent = Actor::Agent(test_agent(&app, "A101", Role::AgentL1, &["support"]).await);

    // The shipped policies: a withdrawal gets 30 minutes to its first answer; an account question a day.
    let (w, _) = tickets::create(&app, &alice, ticket("USDT withdrawal stuck", "withdrawal"), None).await.unwrap();
    let s = tickets::view(&app, w.clone()).await.unwrap().sla.expect("a ticket has clocks");
    assert_eq!((s.state, s.policy.as_str()), (SlaState::Ok, "Security and funds"));
    assert_eq!(ms(&s.first_response_due_at) - w.created_at, 30 * 60_000);
    assert_eq!(ms(&s.resolution_due_at) - w.created_at, 24 * 60 * 60_000);
    let (other, _) = tickets::create(&app, &alice, ticket("change my nickname", "account"), None).await.unwrap();
    let s = tickets::view(&app, other.clone()).await.unwrap().sla.unwrap();
    assert_eq!(ms(&s.first_response_due_at) - other.created_at, 24 * 60 * 60_000);
    // Creating wrote the check in the same transaction.
    let queued = app.store.list_jobs("queued", None, 100).await.unwrap();
    assert!(queued.iter().any(|j| j.kind == sla::CHECK_JOB && j.payload.contains(&w.id)), "{queued:?}");

    // An answer, then waiting on the customer: the clock pauses.
    let m = NewMessage {
        body: "Please send the TxID.".into(),
        internal: false,
        attachment_ids: vec![],
        status: Some(Status::Pending),
    };
    tickets::reply(&app, &agent, &other, m, None).await.unwrap();
    let s = tickets::view(&app, app.store.conversation(&other.id).await.unwrap().unwrap()).await.unwrap().sla.unwrap();
    assert_eq!(s.state, SlaState::Paused);

    // 31 minutes without an answer: breached; the check escalates it once.
    backdate(&url, &w.id, 31).await;
    let w = app.store.conversation(&w.id).await.unwrap().unwrap();
    assert_eq!(tickets::view(&app, w.clone()).await.unwrap().sla.unwrap().state, SlaState::Breached);
    let fast = RunnerOptions {
        backoff: Backoff { base: Duration::from_millis(100), cap: Duration::from_millis(400) },
        poll: Duration::from_millis(100),
        ..RunnerOptions::default()
    };
    let runner = app.start_jobs_with(fast).await.unwrap();
    let check = |k: &str| NewJob::new(sla::CHECK_JOB, &json!({"conversation": w.id})).key(format!("test-{k}"));
    app.store.enqueue_jobs(&[check("a")]).await.unwrap();
    for _ in 0..200 {
        if breaches(&app, &w.id).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = app.store.conversation(&w.id).await.unwrap().unwrap();
    assert_eq!(breaches(&app, &w.id).await, 1, "the breach is noted");
    assert_eq!((now.priority(), now.tier()), (Priority::Urgent, Tier::L2), "raised and moved to L2");
    // Run again (a retry, another node): nothing more.
    app.store.enqueue_jobs(&[check("b"), check("c")]).await.unwrap();
    for _ in 0..200 {
        let c = app.store.job_counts().await.unwrap();
        if c.due == 0 && c.running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = app.store.conversation(&w.id).await.unwrap().unwrap();
    assert_eq!(breaches(&app, &w.id).await, 1, "escalated once");
    assert_eq!(again.tier(), Tier::L2, "not on to the supervisors");
    let _ = runner.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn clocks_on_both_backends() {
    on_backends(BOTH_BACKENDS, clocks).await;
}
