//! Announcements (issue 13), through the use cases over a real store (SQLite, then PostgreSQL): who publishes,
//! what input is refused, what shows when and in which language, the bot's mention to a customer asking about
//! the topic (once a chat), and cases linked to an incident and answered all at once.

use lifebuoy_app::announcements::{self, Publish};
use lifebuoy_app::chat::service;
use lifebuoy_app::tickets::{self, CreateTicket};
use lifebuoy_app::{Actor, AppError};
use lifebuoy_domain::{Lang, Role, Status};
use lifebuoy_store::TimelineItem;
use lifebuoy_testkit::{Backend, app_fixture, exchange_actor, test_agent};
use serde_json::{Value, json};
use std::time::Duration;

fn notice(v: Value) -> Publish {
    serde_json::from_value(v).unwrap()
}

fn in_hours(h: i64) -> i64 {
    lifebuoy_store::now_ms() + h * 3_600_000
}

fn code<T: std::fmt::Debug>(r: Result<T, AppError>) -> String {
    match r {
        Err(e) => e.code().to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

async fn bot_lines(app: &lifebuoy_app::App, cid: &str, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let lines: Vec<String> = app
            .store
            .timeline(cid, false)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|i| match i {
                TimelineItem::Message { message, .. } if message.author_kind == "bot" => Some(message.body),
                _ => None,
            })
            .collect();
        if lines.len() >= n {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the bot did not answer {n} times in {cid}");
}

async fn announcements_flow(backend: Backend) {
    let f = app_fixture(backend).await;
    let app = &f.app;
    let sup = Actor::Agent(test_agent(app, "S101", Role::Supervisor, &["support"]).await);
    let l1 = Actor::Agent(test_agent(app, "A101", Role::AgentL1, &["support"]).await);
    let finance = Actor::Agent(test_agent(app, "F101", Role::AgentL1, &["finance"]).await);
    let alice = app.store.upsert_exchange_customer("an-alice", None, Some("Alice"), Some("zh-Hant")).await.unwrap();
    let customer = Actor::Customer(alice.clone());
    let good = || {
        notice(json!({
            "title": {"zh-Hans": "BTC 提币延迟", "en": "BTC withdrawals delayed"},
            "body": {"zh-Hans": "比特币网络拥堵，提币预计延迟 2 小时。", "en": "The Bitcoin network is congested: about 2 hours."},
            "ends_at": in_hours(3), "topics": ["withdrawal"], "severity": "incident"
        }))
    };

    // Who publishes: supervisors, admins, the exchange; not first-line agents nor customers.
    assert_eq!(code(announcements::publish(app, &l1, good()).await), "forbidden");
    assert_eq!(code(announcements::publish(app, &customer, good()).await), "forbidden");
    // Bad input is refused with its field, and nothing is stored.
    for (bad, field) in [
        (json!({"title": {}, "body": {}, "ends_at": in_hours(1)}), "title"),
        (json!({"title": {"fr": "x"}, "body": {"fr": "x"}, "ends_at": in_hours(1)}), "title"),
        (json!({"title": {"en": "x"}, "body": {"zh-Hans": "x"}, "ends_at": in_hours(1)}), "body"),
        (json!({"title": {"en": "x"}, "body": {"en": "x"}, "ends_at": in_hours(-1)}), "ends_at"),
        (
            json!({"title": {"en": "x"}, "body": {"en": "x"}, "starts_at": in_hours(2), "ends_at": in_hours(1)}),
            "ends_at",
        ),
        (json!({"title": {"en": "x"}, "body": {"en": "x"}, "ends_at": in_hours(24 * 91)}), "ends_at"),
        (json!({"title": {"en": "x"}, "body": {"en": "x"}, "ends_at": "soon"}), "ends_at"),
        (json!({"title": {"en": "x"}, "body": {"en": "x"}, "ends_at": in_hours(1), "severity": "panic"}), "severity"),
        (json!({"title": {"en": "x"}, "body": {"en": "x"}, "ends_at": in_hours(1), "topics": ["weather"]}), "category"),
    ] {
        let e = announcements::publish(app, &sup, notice(bad.clone())).await.expect_err(&bad.to_string());
        let msg = e.to_string();
        assert!(matches!(e, AppError::Invalid { .. } | AppError::Domain(_)), "{bad}: {e:?}");
        assert!(msg.contains(field), "{bad}: {msg}");
    }
    assert!(announcements::all(app, &sup).await.unwrap().is_empty());

    // Published: live now, in the reader's language, else Simplified Chinese, else English.
    let a = announcements::publish(app, &exchange_actor(), good()).await.unwrap();
    assert_eq!(a.state, "live");
    let later = notice(json!({"title": {"en": "Maintenance tonight"}, "body": {"en": "From 02:00 UTC."},
                              "starts_at": in_hours(5), "ends_at": in_hours(6), "severity": "maintenance"}));
    let scheduled = announcements::publish(app, &sup, later).await.unwrap();
    assert_eq!(scheduled.state, "scheduled");
    let en = announcements::live(app, Lang::En).await.unwrap();
    assert_eq!(en.len(), 1, "only what has started shows");
    assert_eq!((en[0].title.as_str(), en[0].lang.as_str()), ("BTC withdrawals delayed", "en"));
    let hant = announcements::live(app, Lang::ZhHant).await.unwrap();
    assert_eq!(hant[0].title, "BTC 提币延迟", "no zh-Hant text: Simplified Chinese next");

    // The bot tells a customer who asks about a withdrawal, once a chat, before its answer; a deposit question
    // in another chat hears nothing of it.
    let said = |s: &str| s.contains("BTC 提币延迟") && s.contains("官方公告");
    let a1 = service::customer_send(app, &alice, None, Lang::ZhHans, None, "c1", "我的 BTC 提币还没到账", &[])
        .await
        .unwrap();
    let cid = a1.conversation.id.clone();
    let lines = bot_lines(app, &cid, 2).await;
    assert!(said(&lines[0]), "the notice first: {lines:?}");
    service::customer_send(app, &alice, Some(&cid), Lang::ZhHans, None, "c2", "提币要多久", &[]).await.unwrap();
    let lines = bot_lines(app, &cid, 3).await;
    assert_eq!(lines.iter().filter(|l| said(l)).count(), 1, "once a chat: {lines:?}");
    service::end(app, &customer, &cid).await.unwrap();
    let a2 = service::customer_send(app, &alice, None, Lang::ZhHans, Some("deposit"), "c3", "充值没到账", &[])
        .await
        .unwrap();
    let lines = bot_lines(app, &a2.conversation.id, 1).await;
    assert!(!lines.iter().any(|l| said(l)), "a deposit question is not about BTC withdrawals: {lines:?}");

    // Cases linked to the incident and answered at once.
    let ticket = |s: &str| -> CreateTicket {
        serde_json::from_value(json!({"subject": s, "body": "BTC 提币未到账", "category": "withdrawal"})).unwrap()
    };
    let (t1, _) = tickets::create(app, &customer, ticket("提币一"), None).await.unwrap();
    let (t2, _) = tickets::create(app, &customer, ticket("提币二"), None).await.unwrap();
    let (t3, _) = tickets::create(app, &customer, ticket("提币三"), None).await.unwrap();
    let t3 = tickets::set_status(app, &sup, &t3, Status::Solved).await.unwrap();
    tickets::set_status(app, &sup, &t3, Status::Closed).await.unwrap();
    let by_number = t2.case_number.clone().unwrap();
    assert_eq!(
        code(announcements::link(app, &finance, &a.id, std::slice::from_ref(&t1.id)).await),
        "invalid",
        "a case outside the agent's departments"
    );
    assert_eq!(code(announcements::link(app, &customer, &a.id, std::slice::from_ref(&t1.id)).await), "forbidden");
    let n = announcements::link(app, &l1, &a.id, &[t1.id.clone(), by_number.clone(), t3.id.clone()]).await.unwrap();
    assert_eq!(n, 3);
    assert_eq!(announcements::link(app, &l1, &a.id, &[by_number]).await.unwrap(), 0, "linked once");
    let seen = app.store.timeline(&t1.id, false).await.unwrap();
    assert!(
        seen.iter().any(|i| matches!(i, TimelineItem::Event(e) if e.kind == "incident_linked")),
        "the customer sees the link"
    );
    let done = announcements::answer_all(app, &l1, &a.id, "BTC 网络拥堵，预计两小时内到账。", Some(Status::Pending))
        .await
        .unwrap();
    assert_eq!((done.answered, done.skipped), (2, 1), "the closed case is skipped");
    for t in [&t1, &t2] {
        let now = app.store.conversation(&t.id).await.unwrap().unwrap();
        assert_eq!(now.status(), Status::Pending);
        let tl = app.store.timeline(&t.id, false).await.unwrap();
        assert!(
            tl.iter()
                .any(|i| matches!(i, TimelineItem::Message { message, .. } if message.body.contains("预计两小时")))
        );
    }
    let (_, linked) = announcements::one(app, &finance, &a.id).await.unwrap();
    assert!(linked.is_empty(), "staff see only the linked cases their departments reach");

    // Withdrawn: gone from what customers see, at once.
    assert_eq!(code(announcements::withdraw(app, &l1, &a.id).await), "forbidden");
    assert_eq!(announcements::withdraw(app, &sup, &a.id).await.unwrap().state, "withdrawn");
    assert!(announcements::live(app, Lang::En).await.unwrap().is_empty());
}

#[tokio::test]
async fn announcements_sqlite() {
    announcements_flow(Backend::Sqlite).await;
}

#[tokio::test]
async fn announcements_postgres() {
    announcements_flow(Backend::Postgres).await;
}
