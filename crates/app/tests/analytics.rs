//! Supervisors' analytics (issue 13) over a real store (SQLite, then PostgreSQL): the fold's first full pass over
//! conversations it never saw, the change log after it, a reopened case leaving the resolved count, two folds
//! at once counting each conversation once, a pruned log passed over again, and who may read the dashboard.

use lifebuoy_app::analytics::{self, DashQuery};
use lifebuoy_app::tickets::{self, CreateTicket, NewMessage};
use lifebuoy_app::{Actor, App, AppError};
use lifebuoy_domain::{Role, Status};
use lifebuoy_store::analytics::metric;
use lifebuoy_store::{Metrics, Store, now_ms};
use lifebuoy_testkit::{BOTH_BACKENDS, deposit_chat, on_backends, test_agent};
use serde_json::json;

fn ticket(subject: &str, category: &str) -> CreateTicket {
    serde_json::from_value(json!({"subject": subject, "body": "提币两小时没到账", "category": category})).unwrap()
}

fn answer(status: Option<Status>) -> NewMessage {
    NewMessage { body: "We are checking it.".into(), internal: false, attachment_ids: vec![], status }
}

async fn totals(app: &App, who: &Actor) -> Metrics {
    let q = DashQuery { offset_hours: 0, ..DashQuery::last_days(7, now_ms()) };
    analytics::dashboard(app, who, q, "en").await.unwrap().totals
}

fn get(m: &Metrics, name: &str) -> i64 {
    m[metric(name)]
}

async fn folds(store: Store, _url: String) {
    let dir = std::env::temp_dir().join(format!("lifebuoy-analytics-test-{}", uuid::Uuid::new_v4().simple()));
    let app = App::new(store, lifebuoy_store::FileStore::new(dir.join("files")), Default::default());
    let alice = Actor::Customer(app.store.upsert_exchange_customer("an-alice", None, None, Some("en")).await.unwrap());
    let bob = app.store.upsert_exchange_customer("an-bob", None, None, Some("en")).await.unwrap();
    let agent = Actor::Agent(test_agent(&app, "A201", Role::AgentL1, &["support", "finance"]).await);
    let boss = Actor::Agent(test_agent(&app, "S201", Role::Supervisor, &["support"]).await);

    // Three cases and a chat before the fold ever ran: its first pass reads them all.
    let (w1, _) = tickets::create(&app, &alice, ticket("USDT withdrawal stuck", "withdrawal"), None).await.unwrap();
    let (w2, _) = tickets::create(&app, &alice, ticket("BTC withdrawal stuck", "withdrawal"), None).await.unwrap();
    let (acc, _) = tickets::create(&app, &alice, ticket("change my nickname", "account"), None).await.unwrap();
    tickets::reply(&app, &agent, &w1, answer(None), None).await.unwrap();
    tickets::reply(&app, &agent, &w2, answer(Some(Status::Solved)), None).await.unwrap();
    app.store.rate_case(&w2.id, &w2.customer_id, 5, Some("fast")).await.unwrap();
    let chat = app.store.start_chat(&deposit_chat(&bob.id, "where is my deposit", None)).await.unwrap().conversation;
    app.store.end_chat(&chat.id, &lifebuoy_store::Actor::Customer(bob.id.clone())).await.unwrap();
    app.store.rate_chat(&chat.id, &bob.id, 2, None).await.unwrap();

    let first = analytics::fold(&app).await.unwrap();
    assert!(first.caught_up && first.folded >= 4, "{first:?}");
    let t = totals(&app, &boss).await;
    assert_eq!(get(&t, "opened"), 4);
    assert_eq!(get(&t, "responded"), 2, "two cases answered");
    assert_eq!(get(&t, "resolved"), 2, "one case solved, one chat ended");
    assert_eq!(get(&t, "sla_met"), 1, "the solved withdrawal was answered within 30 minutes");
    assert_eq!((get(&t, "csat_n"), get(&t, "csat_sum"), get(&t, "csat_good")), (2, 7, 1));
    assert_eq!((get(&t, "bot_chats"), get(&t, "bot_solved")), (1, 1), "the chat ended with the bot alone");

    // Folding again with nothing new changes nothing.
    analytics::fold(&app).await.unwrap();
    assert_eq!(totals(&app, &boss).await, t);

    // The change log after the first pass: an answer, a reopened case, a new case.
    tickets::reply(&app, &agent, &acc, answer(None), None).await.unwrap();
    let w2 = app.store.conversation(&w2.id).await.unwrap().unwrap();
    tickets::set_status(&app, &agent, &w2, Status::Open).await.unwrap();
    tickets::create(&app, &alice, ticket("KYC rejected", "kyc"), None).await.unwrap();
    // Two folds at once (two nodes): each change counts once.
    let (a, b) = tokio::join!(analytics::fold(&app), analytics::fold(&app));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.caught_up || b.caught_up, "{a:?} {b:?}");
    analytics::fold(&app).await.unwrap();
    let t = totals(&app, &boss).await;
    assert_eq!(get(&t, "opened"), 5);
    assert_eq!(get(&t, "responded"), 3);
    assert_eq!(get(&t, "resolved"), 1, "the reopened case left the resolved count; the chat stays");
    assert_eq!(get(&t, "sla_met"), 0, "a reopened case has no outcome yet");
    assert_eq!(get(&t, "csat_n"), 2, "its rating stays");

    // By department: the withdrawals' (finance) and the account question's (support).
    let q = DashQuery { offset_hours: 0, ..DashQuery::last_days(7, now_ms()) };
    let d = analytics::dashboard(&app, &boss, q.clone(), "en").await.unwrap();
    let opened: Vec<(String, i64)> = d.by_category.iter().map(|(c, m)| (c.clone(), get(m, "opened"))).collect();
    assert!(opened.contains(&("withdrawal".into(), 2)) && opened.contains(&("kyc".into(), 1)), "{opened:?}");
    assert_eq!(d.by_hour.iter().sum::<i64>(), 5, "every new conversation in some hour of the day");
    assert_eq!(*d.backlog.last().unwrap(), 4, "five opened, one (the chat) resolved");
    let filtered = DashQuery { kind: Some("chat".into()), ..q.clone() };
    assert_eq!(get(&analytics::dashboard(&app, &boss, filtered, "en").await.unwrap().totals, "opened"), 1);

    // A long range reads whole months from the monthly rollup (this month whole: the range ends after it) and
    // charts by month: the same numbers.
    let today = now_ms() / 86_400_000;
    let next_month = lifebuoy_store::analytics::month_of(today + 31);
    let long = DashQuery { from_day: today - 200, to_day: next_month + 1, ..q.clone() };
    let dl = analytics::dashboard(&app, &boss, long, "en").await.unwrap();
    assert!(dl.monthly && dl.days.len() >= 7, "{:?}", dl.days);
    assert_eq!(dl.totals, d.totals);
    assert_eq!(dl.by_hour, d.by_hour);
    assert_eq!(*dl.backlog.last().unwrap(), 4);
    assert_eq!(dl.volume.iter().map(|(_, v)| v.iter().sum::<i64>()).sum::<i64>(), 5);

    // This month by day (a whole month: the monthly rollup must not stand in for its days): everything
    // opened today counts today.
    let month = lifebuoy_store::analytics::month_of(today);
    let this_month = DashQuery { from_day: month, to_day: next_month, ..q.clone() };
    let dm = analytics::dashboard(&app, &boss, this_month, "en").await.unwrap();
    assert!(!dm.monthly);
    let at = dm.days.iter().position(|d| *d == today).unwrap();
    assert_eq!(dm.volume.iter().map(|(_, v)| v[at]).sum::<i64>(), 5, "{:?}", dm.volume);
    assert_eq!(get(&dm.by_day[at], "opened"), 5);

    // The log pruned past the fold's position: the fold passes over every conversation again, and the
    // numbers stay exact.
    app.store.prune_index_changes(now_ms() + 1).await.unwrap();
    tickets::create(&app, &alice, ticket("deposit missing", "deposit"), None).await.unwrap();
    app.store.prune_index_changes(now_ms() + 1).await.unwrap();
    while !analytics::fold(&app).await.unwrap().caught_up {}
    let t = totals(&app, &boss).await;
    assert_eq!((get(&t, "opened"), get(&t, "responded"), get(&t, "resolved")), (6, 3, 1));
    assert!(app.store.analytics_state().await.unwrap().rebuilt);

    // Who reads it: supervisors and admins, not agents; a bad range is refused.
    let refused = analytics::dashboard(&app, &agent, q.clone(), "en").await;
    assert!(matches!(refused, Err(AppError::Forbidden(_))), "{refused:?}");
    let backwards = DashQuery { to_day: q.from_day, ..q.clone() };
    assert!(matches!(analytics::dashboard(&app, &boss, backwards, "en").await, Err(AppError::Invalid { .. })));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_fold_keeps_the_rollups_exact() {
    on_backends(BOTH_BACKENDS, folds).await;
}
