//! Ticket routing (issue 13) over a real store (SQLite, then PostgreSQL): off by default; least loaded and
//! round robin among online agents of the case's department, tier and language; an away agent skipped; a
//! case filed while nobody could take it routed by the sweep once someone is online; a taken case left alone.

use lifebuoy_app::tickets::{self, CreateTicket};
use lifebuoy_app::{Actor, App, AppError, ticket_routing};
use lifebuoy_domain::Role;
use lifebuoy_store::routing::TicketRouting;
use lifebuoy_store::{Conversation, Store, TicketChange};
use lifebuoy_testkit::{BOTH_BACKENDS, on_backends, test_agent};
use serde_json::json;
use std::time::Duration;

async fn file(app: &App, who: &Actor, category: &str, lang: &str) -> Conversation {
    let t: CreateTicket =
        serde_json::from_value(json!({"subject": "help", "body": "提币没到账", "category": category, "lang": lang}))
            .unwrap();
    tickets::create(app, who, t, None).await.unwrap().0
}

/// The case's agent once the quick route (a task) and a sweep have had their go.
async fn routed(app: &App, id: &str) -> Option<String> {
    for _ in 0..50 {
        ticket_routing::sweep(app).await.unwrap();
        let c = app.store.conversation(id).await.unwrap().unwrap();
        if c.assignee_id.is_some() {
            return c.assignee_id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn routes(store: Store, _url: String) {
    let dir = std::env::temp_dir().join(format!("lifebuoy-routing-test-{}", uuid::Uuid::new_v4().simple()));
    let app = App::new(store, lifebuoy_store::FileStore::new(dir.join("files")), Default::default());
    let alice =
        Actor::Customer(app.store.upsert_exchange_customer("rt-alice", None, None, Some("zh-Hans")).await.unwrap());
    let a = test_agent(&app, "A301", Role::AgentL1, &["support"]).await;
    let b = app
        .store
        .create_agent(&lifebuoy_store::NewAgent {
            email: "a302@desk.example".into(),
            display_name: "Agent A302".into(),
            agent_no: lifebuoy_domain::AgentNo::parse("A302").unwrap(),
            role: Role::AgentL1,
            languages: vec![lifebuoy_domain::Lang::ZhHans, lifebuoy_domain::Lang::En],
            departments: vec!["support".into()],
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    let away = test_agent(&app, "A303", Role::AgentL1, &["support"]).await;
    let fin = test_agent(&app, "A304", Role::AgentL1, &["finance"]).await;
    let l2 = test_agent(&app, "A305", Role::AgentL2, &["support"]).await;
    let admin = Actor::Agent(test_agent(&app, "ADM3", Role::Admin, &["support"]).await);
    for (agent, status) in [(&a, "online"), (&b, "online"), (&away, "away"), (&fin, "offline"), (&l2, "online")] {
        app.store.set_presence(&agent.id, status, None).await.unwrap();
    }

    // Off until an admin turns it on: a new ticket waits in the queue.
    assert_eq!(ticket_routing::mode(&app, &admin).await.unwrap(), TicketRouting::Off);
    let waiting = file(&app, &alice, "account", "zh-Hans").await;
    assert_eq!(ticket_routing::sweep(&app).await.unwrap(), 0);
    assert_eq!(app.store.conversation(&waiting.id).await.unwrap().unwrap().assignee_id, None);
    let l1 = Actor::Agent(a.clone());
    assert!(matches!(
        ticket_routing::set_mode(&app, &l1, TicketRouting::LeastLoaded).await,
        Err(AppError::Forbidden(_))
    ));
    // A holds two open cases (given by hand while routing was off), B none.
    for _ in 0..2 {
        let c = file(&app, &alice, "trading", "zh-Hans").await;
        let by = lifebuoy_store::Actor::System;
        app.store.change_ticket(&c.id, &TicketChange::Assign(Some(a.id.clone())), &by).await.unwrap();
    }
    ticket_routing::set_mode(&app, &admin, TicketRouting::LeastLoaded).await.unwrap();

    // Least loaded: the waiting case and the next go to B, then the load evens out; the away agent, the L2
    // agent and the finance agent get none.
    assert_eq!(routed(&app, &waiting.id).await.as_deref(), Some(b.id.as_str()), "the sweep routes the waiting case");
    let next = file(&app, &alice, "account", "zh-Hans").await;
    assert_eq!(routed(&app, &next.id).await.as_deref(), Some(b.id.as_str()), "B held one, A two");
    let third = file(&app, &alice, "account", "zh-Hans").await;
    assert!(routed(&app, &third.id).await.is_some());
    // An English case: only B speaks English.
    let en = file(&app, &alice, "account", "en").await;
    assert_eq!(routed(&app, &en.id).await.as_deref(), Some(b.id.as_str()));
    for agent in [&away, &l2, &fin] {
        assert!(
            app.store.open_case_counts().await.unwrap().iter().all(|(id, _)| id != &agent.id),
            "{} got a case",
            agent.agent_no
        );
    }

    // Round robin: whoever was given a ticket longest ago; two in a row go to two agents.
    ticket_routing::set_mode(&app, &admin, TicketRouting::RoundRobin).await.unwrap();
    let r1 = file(&app, &alice, "account", "zh-Hans").await;
    let r2 = file(&app, &alice, "account", "zh-Hans").await;
    let (x, y) = (routed(&app, &r1.id).await.unwrap(), routed(&app, &r2.id).await.unwrap());
    assert_ne!(x, y, "in turn");
    assert!([&a.id, &b.id].contains(&&x) && [&a.id, &b.id].contains(&&y));

    // Nobody of the department online (both away): the case waits; once one is back, the sweep gives it to
    // them.
    app.store.set_presence(&a.id, "away", None).await.unwrap();
    app.store.set_presence(&b.id, "away", None).await.unwrap();
    let later = file(&app, &alice, "account", "zh-Hans").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ticket_routing::sweep(&app).await.unwrap(), 0);
    assert_eq!(app.store.conversation(&later.id).await.unwrap().unwrap().assignee_id, None);
    app.store.set_presence(&b.id, "online", None).await.unwrap();
    assert_eq!(routed(&app, &later.id).await.as_deref(), Some(b.id.as_str()));

    // A case someone holds is left to them.
    let held = app.store.route_case_to(&later.id, &a.id, &lifebuoy_store::Actor::System).await.unwrap();
    assert!(held.is_none());
    assert_eq!(app.store.conversation(&later.id).await.unwrap().unwrap().assignee_id.as_deref(), Some(b.id.as_str()));

    // Skills: A is the withdrawal expert. Admins set skills; every category is checked first.
    let expert = vec![(a.id.clone(), vec!["withdrawal".to_string()])];
    assert!(matches!(ticket_routing::set_skills(&app, &l1, &expert).await, Err(AppError::Forbidden(_))));
    let bogus = vec![(a.id.clone(), vec!["withdrawal".to_string(), "bogus".to_string()])];
    assert!(ticket_routing::set_skills(&app, &admin, &bogus).await.is_err());
    assert!(app.store.agent_skills().await.unwrap().iter().all(|(_, s)| s.is_empty()), "nothing written");
    ticket_routing::set_skills(&app, &admin, &expert).await.unwrap();
    // A now holds far more open cases than B (given by hand, routing off); least loaded alone would pick B.
    ticket_routing::set_mode(&app, &admin, TicketRouting::Off).await.unwrap();
    app.store.set_presence(&a.id, "online", None).await.unwrap();
    for _ in 0..6 {
        let c = file(&app, &alice, "trading", "zh-Hans").await;
        app.store
            .change_ticket(&c.id, &TicketChange::Assign(Some(a.id.clone())), &lifebuoy_store::Actor::System)
            .await
            .unwrap();
    }
    ticket_routing::set_mode(&app, &admin, TicketRouting::LeastLoaded).await.unwrap();
    let w = file(&app, &alice, "withdrawal", "zh-Hans").await;
    assert_eq!(routed(&app, &w.id).await.as_deref(), Some(a.id.as_str()), "the skilled agent, though busier");
    let other = file(&app, &alice, "account", "zh-Hans").await;
    assert_eq!(routed(&app, &other.id).await.as_deref(), Some(b.id.as_str()), "no skill asked: the least loaded");
    // The expert away: a withdrawal goes to whoever can take it.
    app.store.set_presence(&a.id, "away", None).await.unwrap();
    let w2 = file(&app, &alice, "withdrawal", "zh-Hans").await;
    assert_eq!(routed(&app, &w2.id).await.as_deref(), Some(b.id.as_str()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_go_to_an_online_agent_who_can_take_them() {
    on_backends(BOTH_BACKENDS, routes).await;
}
