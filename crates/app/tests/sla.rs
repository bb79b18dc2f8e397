//! SLA clocks on tickets (issue 13) over a real store (SQLite, then PostgreSQL) and the real job runner: the
//! policy a case falls under, its due times, a pause while it waits on the customer, and a breach found by the
//! durable check that escalates the case once, however many times the check runs.

use lifebuoy_app::jobs::{Backoff, RunnerOptions};
use lifebuoy_app::tickets::{self, CreateTicket, NewMessage};
use lifebuoy_app::{Actor, App, sla};
use lifebuoy_domain::sla::SlaState;
use lifebuoy_domain::{Priority, Role, Status, Tier};
use lifebuoy_store::{FileStore, NO_CLOCK, NewJob, QueueFilter, QueueSort, Scope, Store, TimelineItem};
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

/// The kept clock of a case: (state, next deadline).
async fn kept(app: &App, id: &str) -> (String, i64) {
    let k = app.store.sla_clocks(&[id.to_string()]).await.unwrap();
    let k = k.first().unwrap_or_else(|| panic!("no kept clock for {id}"));
    (k.state.clone(), k.due_at)
}

/// The active queue by time left, as ids.
async fn by_time_left(app: &App) -> Vec<String> {
    let f = QueueFilter { statuses: Status::ACTIVE.to_vec(), ..QueueFilter::default() };
    let page = app.store.list_conversations(&Scope::All, &f, QueueSort::DueAsc, None, 50).await.unwrap();
    page.items.into_iter().map(|c| c.id).collect()
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

    // The lists keep each clock's next deadline: the queue by time left puts the withdrawal (30 minutes) before
    // a general question filed after it (a day), and the case waiting on the customer last.
    assert_eq!(kept(&app, &w.id).await, ("ok".to_string(), w.created_at + 30 * 60_000));
    assert_eq!(kept(&app, &other.id).await, ("paused".to_string(), NO_CLOCK));
    let (later, _) = tickets::create(&app, &alice, ticket("API key question", "account"), None).await.unwrap();
    assert_eq!(kept(&app, &later.id).await, ("ok".to_string(), later.created_at + 24 * 60 * 60_000));
    assert_eq!(by_time_left(&app).await, vec![w.id.clone(), later.id.clone(), other.id.clone()]);

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
    // The check kept the breach for the lists: overdue, on top of the queue.
    let (state, due) = kept(&app, &w.id).await;
    assert_eq!(state, "breached");
    assert!(due < lifebuoy_store::now_ms(), "the deadline passed: {due}");
    assert_eq!(by_time_left(&app).await.first(), Some(&w.id), "the overdue case leads the queue");
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

/// Runs the job runner until nothing is due or running.
async fn settle(app: &App) {
    for _ in 0..400 {
        let c = app.store.job_counts().await.unwrap();
        if c.due == 0 && c.running == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("jobs never settled");
}

async fn edited(store: Store, url: String) {
    use lifebuoy_app::sla_policies::{self, PolicyInput};
    let dir = std::env::temp_dir().join(format!("lifebuoy-sla-edit-{}", uuid::Uuid::new_v4().simple()));
    let app = App::new(store, FileStore::new(dir.join("files")), Default::default());
    let admin = Actor::Agent(test_agent(&app, "A900", Role::Admin, &["support"]).await);
    let agent = Actor::Agent(test_agent(&app, "A901", Role::AgentL1, &["support"]).await);
    let input = |v: serde_json::Value| -> PolicyInput { serde_json::from_value(v).unwrap() };
    let vip = json!({"name": "VIP funds", "position": 5, "kinds": ["ticket", "email"],
        "categories": ["deposit", "withdrawal"], "customer_tags": ["vip"], "first_response_min": 10,
        "resolution_min": 120, "breach_priority": "high", "breach_tier": "supervisor"});

    // Who may write, and what a policy must be.
    let err = sla_policies::save(&app, &agent, "vip", input(vip.clone())).await.unwrap_err();
    assert!(err.to_string().contains("admins"), "{err}");
    let bad_tz = json!({"name": "x", "first_response_min": 5, "resolution_min": 5,
        "calendar": {"tz": "Asia/Atlantis", "days": [[540, 1080], null, null, null, null, null, null]}});
    let err = sla_policies::save(&app, &admin, "x", input(bad_tz)).await.unwrap_err();
    assert!(err.to_string().contains("IANA"), "{err}");
    let bad_min = json!({"name": "x", "first_response_min": 0, "resolution_min": 5});
    assert!(sla_policies::save(&app, &admin, "x", input(bad_min)).await.is_err());
    let bad_kind = json!({"name": "x", "kinds": ["fax"], "first_response_min": 5, "resolution_min": 5});
    assert!(sla_policies::save(&app, &admin, "x", input(bad_kind)).await.is_err());
    assert!(sla_policies::save(&app, &admin, "Bad Id", input(vip.clone())).await.is_err());
    let saved = sla_policies::save(&app, &admin, "vip", input(vip)).await.unwrap();
    assert_eq!((saved.position, saved.customer_tags.clone()), (5, vec!["vip".to_string()]));
    // English account questions: a working-hours calendar in New York.
    let en = json!({"name": "English accounts", "position": 6, "langs": ["en"], "categories": ["account"],
        "first_response_min": 60, "resolution_min": 480,
        "calendar": {"tz": "America/New_York", "days": [[540, 1020], [540, 1020], [540, 1020], [540, 1020],
            [540, 1020], null, null], "holidays": ["2026-12-25"]}});
    sla_policies::save(&app, &admin, "en-accounts", input(en)).await.unwrap();
    let all = sla_policies::policies(&app, &agent).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(&ids[..3], ["vip", "en-accounts", "chat"], "in the order they are tried: {ids:?}");
    assert_eq!(all[1].calendar["tz"], "America/New_York");

    // A VIP's withdrawal gets ten minutes; anyone else's the shipped thirty.
    let bob = app.store.upsert_exchange_customer("sla-bob", None, None, Some("zh-Hans")).await.unwrap();
    app.store.set_customer_tags(&bob.id, &["vip".to_string()], "test").await.unwrap();
    let carol = app.store.upsert_exchange_customer("sla-carol", None, None, Some("en")).await.unwrap();
    let (vw, _) = tickets::create(&app, &Actor::Customer(bob), ticket("提币未到账", "withdrawal"), None).await.unwrap();
    let s = tickets::view(&app, vw.clone()).await.unwrap().sla.unwrap();
    assert_eq!((s.policy.as_str(), ms(&s.first_response_due_at) - vw.created_at), ("VIP funds", 10 * 60_000));
    let carol = Actor::Customer(carol);
    let (cw, _) = tickets::create(&app, &carol, ticket("withdrawal stuck", "withdrawal"), None).await.unwrap();
    assert_eq!(tickets::view(&app, cw).await.unwrap().sla.unwrap().policy, "Security and funds");
    // Carol writes in English about her account: the New York calendar's working hours.
    let (ca, _) = tickets::create(&app, &carol, ticket("change my email", "account"), None).await.unwrap();
    let s = tickets::view(&app, ca.clone()).await.unwrap().sla.unwrap();
    assert_eq!(s.policy, "English accounts");
    let due = chrono::DateTime::parse_from_rfc3339(&s.first_response_due_at).unwrap();
    let local = due.with_timezone(&chrono_tz::America::New_York);
    use chrono::{Datelike, Timelike};
    let minute = local.hour() * 60 + local.minute();
    assert!((540..=1020).contains(&minute), "due inside New York office hours: {local}");
    assert!(local.weekday().num_days_from_monday() < 5, "on a weekday: {local}");

    // The VIP case is held by A901; the funds desk has a supervisor.
    let sup = test_agent(&app, "A902", Role::Supervisor, &[vw.department_id.as_str()]).await;
    let held = tickets::StaffAction::Assign(Some(match &agent {
        Actor::Agent(a) => a.id.clone(),
        _ => unreachable!(),
    }));
    tickets::staff_action(&app, &admin, &vw, held).await.unwrap();
    // Another VIP withdrawal, 8 of its 10 minutes gone: in its last quarter, a warning.
    let bob = app.store.upsert_exchange_customer("sla-bob", None, None, None).await.unwrap();
    let (warned, _) =
        tickets::create(&app, &Actor::Customer(bob), ticket("还是没到账", "withdrawal"), None).await.unwrap();
    backdate(&url, &warned.id, 8).await;

    // The VIP case breaches: the policy's rule raises it to high and takes it to a supervisor, once.
    backdate(&url, &vw.id, 11).await;
    let fast = RunnerOptions {
        backoff: Backoff { base: Duration::from_millis(100), cap: Duration::from_millis(400) },
        poll: Duration::from_millis(100),
        ..RunnerOptions::default()
    };
    let runner = app.start_jobs_with(fast).await.unwrap();
    let check = |k: &str| NewJob::new(sla::CHECK_JOB, &json!({"conversation": vw.id})).key(format!("edit-{k}"));
    app.store.enqueue_jobs(&[check("a"), check("b")]).await.unwrap();
    let warn = |k: &str| NewJob::new(sla::CHECK_JOB, &json!({"conversation": warned.id})).key(format!("warn-{k}"));
    app.store.enqueue_jobs(&[warn("a"), warn("b")]).await.unwrap();
    settle(&app).await;
    // Alerts: the breach to the case's agent and the desk's supervisor; the warning (an unheld case) to the
    // supervisor only. Each once, though each check ran twice; each mailed.
    let holder_id = match &agent {
        Actor::Agent(a) => a.id.clone(),
        _ => unreachable!(),
    };
    let mine = app.store.staff_alerts(&holder_id, 10).await.unwrap();
    let kinds: Vec<(&str, Option<&str>)> =
        mine.iter().map(|a| (a.kind.as_str(), a.conversation_id.as_deref())).collect();
    assert_eq!(kinds, vec![("sla_breached", Some(vw.id.as_str()))]);
    let theirs = app.store.staff_alerts(&sup.id, 10).await.unwrap();
    let mut kinds: Vec<(&str, Option<&str>)> =
        theirs.iter().map(|a| (a.kind.as_str(), a.conversation_id.as_deref())).collect();
    kinds.sort();
    assert_eq!(kinds, vec![("sla_breached", Some(vw.id.as_str())), ("sla_warning", Some(warned.id.as_str()))]);
    assert!(theirs.iter().chain(&mine).all(|a| a.mailed_at.is_some()), "every alert mailed: {theirs:?}");
    assert_eq!(app.store.unread_staff_alerts(&sup.id).await.unwrap(), 2);
    app.store.read_staff_alerts(&sup.id).await.unwrap();
    assert_eq!(app.store.unread_staff_alerts(&sup.id).await.unwrap(), 0);
    let now = app.store.conversation(&vw.id).await.unwrap().unwrap();
    assert_eq!((now.priority(), now.tier()), (Priority::High, Tier::Supervisor), "the policy's breach rule");
    assert_eq!(breaches(&app, &vw.id).await, 1);

    // Saving a policy has every open case timed again by the keeping job: a shorter target shows at once in
    // the kept clock.
    let shorter = json!({"name": "English accounts", "position": 6, "langs": ["en"], "categories": ["account"],
        "first_response_min": 15, "resolution_min": 480});
    sla_policies::save(&app, &admin, "en-accounts", input(shorter)).await.unwrap();
    assert!(app.store.sla_clocks(std::slice::from_ref(&ca.id)).await.unwrap().is_empty(), "forgotten until read again");
    app.store.enqueue_jobs(&[sla::first_keep_link()]).await.unwrap();
    for _ in 0..200 {
        if !app.store.sla_clocks(std::slice::from_ref(&ca.id)).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kept(&app, &ca.id).await, ("ok".to_string(), ca.created_at + 15 * 60_000), "24/7 now, 15 minutes");
    let _ = runner.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn admins_edit_policies_on_both_backends() {
    on_backends(BOTH_BACKENDS, edited).await;
}
