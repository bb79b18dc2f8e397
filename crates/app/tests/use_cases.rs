//! The application core's rules, exercised without HTTP: each use case is called with an [`Actor`] over a
//! real store (SQLite, then PostgreSQL), as an API handler, a WebSocket frame or a job would call it.

use lifebuoy_app::chat::service;
use lifebuoy_app::tickets::{self, CreateTicket, NewMessage, OnBehalfOf};
use lifebuoy_app::{Actor, App, AppError};
use lifebuoy_domain::{AgentNo, Category, Lang, Role, Status};
use lifebuoy_store::{Agent, Customer, FileStore, NewAgent, NewChat};
use lifebuoy_testkit::{Backend, fresh_store};

struct Fixture {
    app: App,
    dir: std::path::PathBuf,
}

async fn fixture(backend: Backend) -> Fixture {
    let dir = std::env::temp_dir().join(format!("lifebuoy-app-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (store, _pg) = fresh_store(backend, &dir).await;
    let app = App::new(store, FileStore::new(dir.join("files")), Default::default());
    Fixture { app, dir }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn agent(app: &App, no: &str, role: Role, departments: &[&str]) -> Agent {
    app.store
        .create_agent(&NewAgent {
            email: format!("{}@desk.example", no.to_lowercase()),
            display_name: format!("Agent {no}"),
            agent_no: AgentNo::parse(no).unwrap(),
            role,
            languages: vec![Lang::ZhHans],
            departments: departments.iter().map(|d| d.to_string()).collect(),
            password_hash: "x".into(),
        })
        .await
        .unwrap()
}

async fn customer(app: &App, sub: &str) -> Customer {
    app.store.upsert_exchange_customer(sub, Some(&format!("{sub}@example.com")), Some(sub), Some("en")).await.unwrap()
}

fn ticket(subject: &str) -> CreateTicket {
    serde_json::from_value(
        serde_json::json!({"subject": subject, "body": "my deposit has not arrived", "category": "deposit"}),
    )
    .unwrap()
}

fn assert_forbidden<T: std::fmt::Debug>(r: Result<T, AppError>, what: &str) {
    match r {
        Err(AppError::Forbidden(_)) => {}
        other => panic!("{what}: expected forbidden, got {other:?}"),
    }
}

async fn ticket_rules(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let alice = Actor::Customer(customer(app, "alice").await);
    let l1 = Actor::Agent(agent(app, "A101", Role::AgentL1, &["support"]).await);

    // Customers choose the category, never the triage fields.
    for field in [
        ("priority", serde_json::json!("urgent")),
        ("department", serde_json::json!("risk")),
        ("tags", serde_json::json!(["vip"])),
    ] {
        let mut body = serde_json::json!({"subject": "s", "body": "b", "category": "other"});
        body[field.0] = field.1;
        let input: CreateTicket = serde_json::from_value(body).unwrap();
        assert_forbidden(tickets::create(app, &alice, input, None).await, field.0);
    }
    let (t, fresh) = tickets::create(app, &alice, ticket("deposit missing"), None).await.unwrap();
    assert!(fresh);
    assert_eq!(t.priority, "normal");

    // Another customer cannot see it; the agent of its department can.
    let bob = Actor::Customer(customer(app, "bob").await);
    assert!(matches!(tickets::visible(app, &bob, &t.id).await, Err(AppError::NotFound)));
    assert!(tickets::visible(app, &l1, &t.id).await.is_ok());

    // Customers write no internal notes and change status only to solved.
    let note = NewMessage { body: "note".into(), internal: true, attachment_ids: vec![], status: None };
    assert_forbidden(tickets::reply(app, &alice, &t, note, None).await, "customer note");
    assert_forbidden(tickets::set_status(app, &alice, &t, Status::Pending).await, "customer sets pending");
    let solved = tickets::set_status(app, &alice, &t, Status::Solved).await.unwrap();
    assert_eq!(solved.status, "solved");

    // Staff filing on a customer's behalf never rewrites who an existing customer is...
    let mut onb = ticket("filed by an agent");
    onb.customer = Some(OnBehalfOf {
        external_id: "alice".into(),
        email: Some("attacker@evil.example".into()),
        name: Some("Mallory".into()),
        lang: None,
    });
    let (t2, _) = tickets::create(app, &l1, onb, None).await.unwrap();
    let a = app.store.customer(&t2.customer_id).await.unwrap().unwrap();
    assert_eq!(a.email.as_deref(), Some("alice@example.com"), "an agent changed a customer's email");
    assert_eq!(a.name.as_deref(), Some("alice"));
    // ...but may introduce one the desk has not seen yet.
    let mut onb = ticket("new customer");
    onb.customer = Some(OnBehalfOf {
        external_id: "carol".into(),
        email: Some("carol@example.com".into()),
        name: None,
        lang: None,
    });
    let (t3, _) = tickets::create(app, &l1, onb, None).await.unwrap();
    let c = app.store.customer(&t3.customer_id).await.unwrap().unwrap();
    assert_eq!(c.email.as_deref(), Some("carol@example.com"));
    // The exchange's integration speaks for its customers.
    let exchange = Actor::Integration { token_id: "t1".into(), name: "exchange".into() };
    let mut onb = ticket("from the exchange");
    onb.customer = Some(OnBehalfOf {
        external_id: "alice".into(),
        email: Some("alice@new.example".into()),
        name: None,
        lang: None,
    });
    let (t4, _) = tickets::create(app, &exchange, onb, None).await.unwrap();
    let a = app.store.customer(&t4.customer_id).await.unwrap().unwrap();
    assert_eq!(a.email.as_deref(), Some("alice@new.example"));
    // Customers file for themselves only.
    let mut onb = ticket("for someone else");
    onb.customer = Some(OnBehalfOf { external_id: "bob".into(), email: None, name: None, lang: None });
    assert_forbidden(tickets::create(app, &alice, onb, None).await, "customer on behalf");
}

async fn chat_rules(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let cust = customer(app, "dave").await;
    let holder = Actor::Agent(agent(app, "A201", Role::AgentL1, &["support"]).await);
    let other = Actor::Agent(agent(app, "A202", Role::AgentL1, &["support"]).await);
    let outsider = Actor::Agent(agent(app, "A203", Role::AgentL1, &["finance"]).await);
    let sup = Actor::Agent(agent(app, "S301", Role::Supervisor, &["support"]).await);
    let started = app
        .store
        .start_chat(&NewChat {
            customer_id: cust.id.clone(),
            lang: Lang::En,
            department: "support".into(),
            category: Category::Deposit,
            topic: None,
            body: "where is my deposit".into(),
            client_id: Some("c1".into()),
            attachment_ids: vec![],
        })
        .await
        .unwrap();
    let cid = started.conversation.id.clone();
    let me = Actor::Customer(cust.clone());
    service::handover(app, &me, &cid, "asked").await.unwrap();

    // Another customer and an agent of another department do not see the chat at all.
    let stranger = Actor::Customer(customer(app, "eve").await);
    assert!(matches!(service::handover(app, &stranger, &cid, "asked").await, Err(AppError::NotFound)));
    assert!(matches!(
        service::agent_send(app, &outsider, &cid, "x1", "hello", false, &[]).await,
        Err(AppError::NotFound)
    ));

    // Only a supervisor gives a chat to someone; an agent takes it for themselves.
    let holder_id = holder.agent().unwrap().id.clone();
    assert_forbidden(service::assign(app, &other, &cid, &holder_id, false).await, "agent assigns another");
    service::assign(app, &holder, &cid, &holder_id, false).await.unwrap();
    let other_id = other.agent().unwrap().id.clone();
    assert!(matches!(
        service::assign(app, &other, &cid, &other_id, false).await,
        Err(AppError::Conflict { code: "chat_taken", .. })
    ));

    // Someone else's chat: notes yes; public replies, transfer, conversion and ending no.
    service::agent_send(app, &other, &cid, "n1", "internal hint", true, &[]).await.unwrap();
    assert_forbidden(service::agent_send(app, &other, &cid, "p1", "hi, I am here", false, &[]).await, "public reply");
    assert_forbidden(service::to_ticket(app, &other, &cid).await, "to_ticket");
    assert_forbidden(service::end(app, &other, &cid).await, "end");
    assert_forbidden(service::transfer(app, &other, &cid, "tech", "x").await, "transfer");
    let timeline = app.store.timeline(&cid, false).await.unwrap();
    assert!(
        !timeline.iter().any(
            |i| matches!(i, lifebuoy_store::TimelineItem::Message { message, .. } if message.body == "hi, I am here")
        ),
        "the refused reply reached the customer's timeline"
    );

    // The holder and a supervisor may.
    service::agent_send(app, &holder, &cid, "p2", "hello from your agent", false, &[]).await.unwrap();
    service::agent_send(app, &sup, &cid, "p3", "a supervisor here", false, &[]).await.unwrap();
    let t = service::to_ticket(app, &holder, &cid).await.unwrap();
    assert_eq!(t.kind, "ticket");
}

#[tokio::test]
async fn ticket_rules_sqlite() {
    ticket_rules(Backend::Sqlite).await;
}

#[tokio::test]
async fn ticket_rules_postgres() {
    ticket_rules(Backend::Postgres).await;
}

#[tokio::test]
async fn chat_rules_sqlite() {
    chat_rules(Backend::Sqlite).await;
}

#[tokio::test]
async fn chat_rules_postgres() {
    chat_rules(Backend::Postgres).await;
}
