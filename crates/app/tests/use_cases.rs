//! The application core's rules, exercised without HTTP: each use case is called with an [`Actor`] over a
//! real store (SQLite, then PostgreSQL), as an API handler, a WebSocket frame or a job would call it.

use lifebuoy_app::chat::service;
use lifebuoy_app::tickets::{self, CreateTicket, NewMessage, OnBehalfOf};
use lifebuoy_app::{Actor, App, AppError};
use lifebuoy_domain::{Role, Status};
use lifebuoy_store::{Agent, Customer};
use lifebuoy_testkit::{AppFixture, Backend, app_fixture, test_agent};
use serde_json::Value;

async fn fixture(backend: Backend) -> AppFixture {
    app_fixture(backend).await
}

async fn agent(app: &App, no: &str, role: Role, departments: &[&str]) -> Agent {
    test_agent(app, no, role, departments).await
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

    // A reply and the status it sets commit together: a status the case cannot take loses the reply too, so
    // nothing half-done is left; a good one lands with its message.
    let (t5, _) = tickets::create(app, &alice, ticket("atomic reply"), None).await.unwrap();
    let before = app.store.timeline(&t5.id, true).await.unwrap().len();
    let closing: NewMessage =
        serde_json::from_value(serde_json::json!({"body": "closing unanswered", "status": "closed"})).unwrap();
    match tickets::reply(app, &l1, &t5, closing, None).await {
        Err(AppError::IllegalStatus(_)) => {}
        other => panic!("closing a new case by a reply: {other:?}"),
    }
    assert_eq!(app.store.timeline(&t5.id, true).await.unwrap().len(), before, "the refused reply left nothing");
    let pending: NewMessage =
        serde_json::from_value(serde_json::json!({"body": "please send the TxID", "status": "pending"})).unwrap();
    tickets::reply(app, &l1, &t5, pending, None).await.unwrap();
    let now = app.store.conversation(&t5.id).await.unwrap().unwrap();
    assert_eq!(now.status(), Status::Pending);
    assert!(app.store.timeline(&t5.id, true).await.unwrap().len() > before + 1, "the message and its events");
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
        .start_chat(&lifebuoy_testkit::deposit_chat(&cust.id, "where is my deposit", Some("c1")))
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

// ---------------------------------------------------------------------------------------------------------
// Accounts, the knowledge base's editing, attachments

async fn account_rules(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let admin_agent = agent(app, "D001", Role::Admin, &["support"]).await;
    let admin = Actor::Agent(admin_agent.clone());
    let sup = Actor::Agent(agent(app, "D002", Role::Supervisor, &["support"]).await);
    let l1_agent = agent(app, "D003", Role::AgentL1, &["support"]).await;
    let alice = Actor::Customer(customer(app, "alice").await);
    let exchange = Actor::Integration { token_id: "t".into(), name: "exchange".into() };

    // Only admins and the exchange manage accounts; an admin cannot deactivate themselves.
    assert_forbidden(app.set_agent_active(&sup, &l1_agent.id, false).await, "a supervisor deactivates");
    assert_forbidden(app.set_agent_active(&alice, &l1_agent.id, false).await, "a customer deactivates");
    assert_forbidden(app.unlock_agent(&sup, &l1_agent.id).await, "a supervisor unlocks");
    match app.set_agent_active(&admin, &admin_agent.id, false).await {
        Err(AppError::Conflict { code: "own_account", .. }) => {}
        other => panic!("an admin deactivating themselves: {other:?}"),
    }
    assert!(matches!(app.set_agent_active(&admin, "nobody", false).await, Err(AppError::NotFound)));
    let (s1, _) = app.store.create_session("agent", &l1_agent.id, 60_000).await.unwrap();
    app.set_agent_active(&exchange, &l1_agent.id, false).await.unwrap();
    assert!(app.store.session(&s1).await.unwrap().is_none(), "deactivation ends the agent's sessions");
    assert!(!app.store.agent(&l1_agent.id).await.unwrap().unwrap().active);
    app.set_agent_active(&admin, &l1_agent.id, true).await.unwrap();

    // New agents: admins only, a password of at least twelve characters, known departments.
    let mut input: lifebuoy_app::accounts::NewAgentInput = serde_json::from_value(serde_json::json!({
        "email": "new@desk.example", "display_name": "New", "agent_no": "D010", "role": "agent_l1",
        "languages": ["en"], "departments": ["support"], "password": "short"
    }))
    .unwrap();
    assert_forbidden(app.create_agent(&sup, &input).await, "a supervisor creates an agent");
    assert!(
        matches!(app.create_agent(&admin, &input).await, Err(AppError::Invalid { field, .. }) if field == "password")
    );
    input.password = "a passphrase long enough".into();
    input.departments = vec!["nowhere".into()];
    assert!(
        matches!(app.create_agent(&admin, &input).await, Err(AppError::Invalid { field, .. }) if field == "departments")
    );
    input.departments = vec!["support".into()];
    let created = app.create_agent(&admin, &input).await.unwrap();

    // Changing one's password: the current one must be right; the other sessions end, this one stays.
    let me = Actor::Agent(created.clone());
    let (here, _) = app.store.create_session("agent", &created.id, 60_000).await.unwrap();
    let (there, _) = app.store.create_session("agent", &created.id, 60_000).await.unwrap();
    assert_forbidden(app.change_password(&me, Some(&here), "wrong", "another long passphrase").await, "wrong current");
    assert_forbidden(app.change_password(&alice, None, "x", "another long passphrase").await, "a customer");
    assert!(matches!(
        app.change_password(&me, Some(&here), "a passphrase long enough", "short").await,
        Err(AppError::Invalid { .. })
    ));
    app.change_password(&me, Some(&here), "a passphrase long enough", "another long passphrase").await.unwrap();
    assert!(app.store.session(&here).await.unwrap().is_some(), "the session that changed it stays");
    assert!(app.store.session(&there).await.unwrap().is_none(), "the others end");
    let hash = app.store.agent_password_hash(&created.id).await.unwrap().unwrap();
    assert!(lifebuoy_app::accounts::verify_password("another long passphrase", &hash));

    // Guest codes: 8 digits; five wrong codes lock the address, and a new code does not unlock it.
    let (_, code) = app.issue_guest_code("198.51.100.7", "guest@example.com").await.unwrap();
    assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()));
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    for _ in 0..4 {
        match app.verify_guest_code("guest@example.com", wrong).await {
            Err(AppError::Unauthenticated { code: "invalid_code", .. }) => {}
            other => panic!("a wrong code: {other:?}"),
        }
    }
    match app.verify_guest_code("guest@example.com", wrong).await {
        Err(AppError::RateLimited { code: "locked", retry_after_s, .. }) => assert!(retry_after_s >= 14 * 60),
        other => panic!("the fifth wrong code: {other:?}"),
    }
    assert!(matches!(
        app.issue_guest_code("198.51.100.7", "guest@example.com").await,
        Err(AppError::RateLimited { code: "locked", .. })
    ));
    assert!(matches!(
        app.verify_guest_code("guest@example.com", &code).await,
        Err(AppError::RateLimited { code: "locked", .. })
    ));
}

async fn knowledge_and_attachment_rules(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let sup = Actor::Agent(agent(app, "K001", Role::Supervisor, &["support"]).await);
    let admin = Actor::Agent(agent(app, "K002", Role::Admin, &["support"]).await);
    let l2 = Actor::Agent(agent(app, "K003", Role::AgentL2, &["support"]).await);
    let exchange = Actor::Integration { token_id: "t".into(), name: "exchange".into() };
    let cat = lifebuoy_store::KbCategory {
        slug: "account".into(),
        parent: None,
        name_zh_hans: "账户".into(),
        name_zh_hant: "帳戶".into(),
        name_en: "Account".into(),
        position: 1,
    };
    assert_forbidden(app.save_category(&l2, &cat).await, "an L2 agent saves a category");
    app.save_category(&sup, &cat).await.unwrap();
    let input = |slug: &str, category: &str| lifebuoy_store::KbArticleInput {
        slug: slug.into(),
        category: category.into(),
        status: "published".into(),
        translations: vec![lifebuoy_store::KbTranslation {
            lang: "en".into(),
            title: "Resetting 2FA".into(),
            body: "Open Security, then 2FA.".into(),
            keywords: vec![],
        }],
    };
    assert_forbidden(app.create_article(&l2, &input("reset-2fa", "account")).await, "an L2 agent writes");
    assert_forbidden(app.create_article(&exchange, &input("reset-2fa", "account")).await, "the exchange writes");
    assert!(
        matches!(app.create_article(&sup, &input("search", "account")).await, Err(AppError::Invalid { field, .. }) if field == "slug")
    );
    assert!(
        matches!(app.create_article(&sup, &input("reset-2fa", "nope")).await, Err(AppError::Invalid { field, .. }) if field == "category")
    );
    let a = app.create_article(&sup, &input("reset-2fa", "account")).await.unwrap();
    assert_eq!(app.find_article("reset-2fa").await.unwrap().id, a.id, "found by slug");
    // A stale edit is a conflict, not an overwrite; a status outside the three is refused.
    let mut changed = input("reset-2fa", "account");
    changed.translations[0].title = "Resetting two-factor authentication".into();
    let v1 = app.update_article(&sup, &a.id, &changed, Some(a.version)).await.unwrap();
    assert_eq!(v1.version, a.version + 1);
    changed.translations[0].title = "Another title".into();
    assert!(matches!(
        app.update_article(&admin, &a.id, &changed, Some(a.version)).await,
        Err(AppError::Conflict { .. })
    ));
    assert!(matches!(app.set_article_status(&sup, &a.id, "gone").await, Err(AppError::Invalid { .. })));
    app.restore_article(&admin, &a.id, 1).await.unwrap();
    assert!(app.find_article(&a.id).await.unwrap().version > v1.version);
    // Synonyms change every search: admins only.
    assert_forbidden(app.add_synonyms(&sup, &["提币".into(), "提现".into()]).await, "a supervisor adds synonyms");
    app.add_synonyms(&admin, &["提币".into(), "提现".into()]).await.unwrap();

    // Attachments are judged by their bytes, not their names.
    let alice = Actor::Customer(customer(app, "alice").await);
    let bob = Actor::Customer(customer(app, "bob").await);
    let png = lifebuoy_testkit::png_bytes();
    match app.accept_attachment(&alice, "x.pdf", None, &png).await {
        Err(AppError::File { code: "mislabelled_file", .. }) => {}
        other => panic!("a PNG named .pdf: {other:?}"),
    }
    match app.accept_attachment(&alice, "x.exe", None, b"MZ\x90\x00 not an image").await {
        Err(AppError::File { code: "unsupported_file_type", .. }) => {}
        other => panic!("a program: {other:?}"),
    }
    let meta = app.accept_attachment(&alice, "shot.png", Some("image/png"), &png).await.unwrap();
    let (_, bytes) = app.open_attachment(&alice, &meta.id).await.unwrap();
    assert_eq!(bytes, png, "the uploader opens their file");
    assert!(matches!(app.open_attachment(&bob, &meta.id).await, Err(AppError::NotFound)), "another customer");
}

#[tokio::test]
async fn account_rules_sqlite() {
    account_rules(Backend::Sqlite).await;
}

#[tokio::test]
async fn account_rules_postgres() {
    account_rules(Backend::Postgres).await;
}

#[tokio::test]
async fn knowledge_and_attachment_rules_sqlite() {
    knowledge_and_attachment_rules(Backend::Sqlite).await;
}

#[tokio::test]
async fn knowledge_and_attachment_rules_postgres() {
    knowledge_and_attachment_rules(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------------------------
// The post-commit stream: what a write appends to a chat reaches the hub, whoever made the write

async fn next_frame(
    rx: &mut tokio::sync::mpsc::Receiver<std::sync::Arc<lifebuoy_app::chat::BusEvent>>,
) -> (i64, Value) {
    let ev = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("a frame within 5 s")
        .expect("the hub is open");
    (ev.seq.expect("a timeline frame has its sequence number"), serde_json::from_str(&ev.frame).unwrap())
}

async fn chat_entries_reach_the_hub(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let cust = customer(app, "frank").await;
    let holder = agent(app, "A401", Role::AgentL1, &["support"]).await;
    let started = app.store.start_chat(&lifebuoy_testkit::deposit_chat(&cust.id, "first", Some("f1"))).await.unwrap();
    let cid = started.conversation.id.clone();
    let (inbox, mut rx) = lifebuoy_app::chat::Inbox::new();
    app.hub.subscribe(&format!("c:{cid}"), &inbox);

    // Straight to the store, as a job or another node's sweeper would write: no use case publishes anything.
    let author = lifebuoy_store::Actor::Customer(cust.id.clone());
    app.store.append_chat_message(&cid, &author, "second", false, Some("f2"), &[]).await.unwrap();
    let (seq, frame) = next_frame(&mut rx).await;
    assert_eq!((seq, frame["type"].as_str(), frame["body"].as_str()), (2, Some("msg"), Some("second")));

    // A resend stores nothing and so says nothing.
    app.store.append_chat_message(&cid, &author, "second", false, Some("f2"), &[]).await.unwrap();
    // An agent's note (internal), then events: each once, in its own frame, with the actor's name.
    let agent_author = lifebuoy_store::Actor::Agent(holder.id.clone());
    app.store.append_chat_message(&cid, &agent_author, "VIP", true, Some("n1"), &[]).await.unwrap();
    let (seq, frame) = next_frame(&mut rx).await;
    assert_eq!(
        (seq, frame["internal"].as_bool(), frame["author"]["name"].as_str()),
        (3, Some(true), Some("Agent A401"))
    );
    app.store.chat_handover(&cid, &author, "asked").await.unwrap();
    app.store.assign_chat(&cid, &holder.id, &agent_author, false).await.unwrap();
    app.store.end_chat(&cid, &agent_author).await.unwrap();
    let mut events = vec![];
    for _ in 0..3 {
        let (seq, frame) = next_frame(&mut rx).await;
        events.push((
            seq,
            frame["kind"].as_str().unwrap_or("?").to_string(),
            frame["actor"]["kind"].as_str().unwrap_or("?").to_string(),
        ));
    }
    events.sort();
    assert_eq!(
        events,
        [
            (4, "handover".into(), "customer".into()),
            (5, "assigned".into(), "agent".into()),
            (6, "chat_ended".into(), "agent".into())
        ]
    );
    // Nothing else was published: every entry exactly once.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(rx.try_recv().is_err(), "no frame twice, none extra");
}

#[tokio::test]
async fn chat_entries_reach_the_hub_sqlite() {
    chat_entries_reach_the_hub(Backend::Sqlite).await;
}

#[tokio::test]
async fn chat_entries_reach_the_hub_postgres() {
    chat_entries_reach_the_hub(Backend::Postgres).await;
}

/// Rotating the records signing key: exports signed before still verify against the published keys (the old
/// one now marked retired), a restarted node signs with the new key, and a data directory without a key has
/// nothing to rotate.
async fn signing_key_rotation(backend: Backend) {
    use lifebuoy_app::records::{self, ExportRequest};
    let f = fixture(backend).await;
    let keys_dir = f.dir.join("keys");
    let nothing = records::rotate_signing_key(&f.app.store, &keys_dir).await;
    assert!(matches!(nothing, Err(AppError::Conflict { code: "no_key", .. })), "{nothing:?}");

    let app = f.app.clone().with_signing_key_in(&keys_dir).unwrap();
    let alice = customer(&app, "alice").await;
    let alice = Actor::Customer(alice);
    tickets::create(&app, &alice, ticket("withdrawal stuck"), None).await.unwrap();
    let before = records::export(&app, &alice, &ExportRequest::default()).await.unwrap();
    let first_key = before.signature.as_ref().unwrap().key_id.clone();

    let (old, new) = records::rotate_signing_key(&app.store, &keys_dir).await.unwrap();
    assert_eq!(old.id, first_key);
    assert!(old.retired_at.is_some(), "the old key is marked retired");
    assert_ne!(new.id, old.id);
    let secret = std::fs::read_to_string(keys_dir.join("records-signing.key")).unwrap();

    // The node restarted: it signs with the new key.
    let restarted = f.app.clone().with_signing_key_in(&keys_dir).unwrap();
    let after = records::export(&restarted, &alice, &ExportRequest::default()).await.unwrap();
    assert_eq!(after.signature.as_ref().unwrap().key_id, new.id);

    let published = records::signing_keys(&restarted).await.unwrap();
    let ids: Vec<(&str, bool)> = published.iter().map(|k| (k.id.as_str(), k.retired_at.is_some())).collect();
    assert!(ids.contains(&(old.id.as_str(), true)) && ids.contains(&(new.id.as_str(), false)), "{ids:?}");
    for export in [&before, &after] {
        lifebuoy_records::verify(export, Some(&published)).expect("verifies against the published keys");
    }
    // Only the old key trusted: the new export is not vouched for by it.
    let only_old: Vec<_> = published.iter().filter(|k| k.id == old.id).cloned().collect();
    assert!(lifebuoy_records::verify(&after, Some(&only_old)).is_err());
    // Rotating again retires the second key and leaves the file with a third.
    let (second, third) = records::rotate_signing_key(&restarted.store, &keys_dir).await.unwrap();
    assert_eq!(second.id, new.id);
    assert_ne!(std::fs::read_to_string(keys_dir.join("records-signing.key")).unwrap(), secret);
    assert_eq!(records::signing_keys(&restarted).await.unwrap().iter().filter(|k| k.retired_at.is_none()).count(), 1);
    assert!(third.retired_at.is_none());
}

#[tokio::test]
async fn signing_key_rotation_sqlite() {
    signing_key_rotation(Backend::Sqlite).await;
}

#[tokio::test]
async fn signing_key_rotation_postgres() {
    signing_key_rotation(Backend::Postgres).await;
}

/// What agents keep about a customer: tags cleaned as a case's are, notes by agents only, and the card beside a
/// case lists the customer's other conversations the agent's departments reach, never the case itself.
async fn customer_tags_notes_and_card(backend: Backend) {
    use lifebuoy_app::customers;
    let f = fixture(backend).await;
    let app = &f.app;
    let k = customer(app, "carol").await;
    let carol = Actor::Customer(k.clone());
    let l1 = Actor::Agent(agent(app, "A201", Role::AgentL1, &["support"]).await);
    let sup = Actor::Agent(agent(app, "S201", Role::Supervisor, &["support"]).await);

    let tags = customers::set_tags(app, &l1, &k.id, &[" VIP ".into(), "otc".into(), "vip".into()]).await.unwrap();
    assert_eq!(tags, ["otc", "vip"]);
    assert_forbidden(customers::set_tags(app, &carol, &k.id, &["x".into()]).await, "a customer tags");
    assert!(matches!(customers::set_tags(app, &l1, "nobody", &[]).await, Err(AppError::NotFound)));
    let note = customers::add_note(app, &l1, &k.id, "  Asked twice about the same TRC20 deposit.  ").await.unwrap();
    assert_eq!(
        (note.body.as_str(), note.agent_no.as_deref()),
        ("Asked twice about the same TRC20 deposit.", Some("A201"))
    );
    assert_forbidden(customers::add_note(app, &carol, &k.id, "hi").await, "a customer writes a note");
    assert!(matches!(customers::add_note(app, &l1, &k.id, "   ").await, Err(AppError::Invalid { .. })));

    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(tickets::create(app, &carol, ticket(&format!("case {i}")), None).await.unwrap().0.id);
    }
    // One in a department the L1 agent does not reach.
    let risk = tickets::create(app, &carol, ticket("frozen"), None).await.unwrap().0;
    let to_risk = tickets::StaffAction::Transfer { department: "risk".into(), reason: "frozen account".into() };
    tickets::staff_action(app, &sup, &risk, to_risk).await.unwrap();
    let card = customers::card(app, &l1, &k.id, Some(&ids[6])).await.unwrap();
    let recent: Vec<&str> = card.recent.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(recent.len(), customers::RECENT_SHOWN);
    assert!(!recent.contains(&ids[6].as_str()) && !recent.contains(&risk.id.as_str()), "{recent:?}");
    assert_eq!(card.more, 1, "seven of theirs in reach, one shown beside: five listed and one more");
    assert_eq!((card.tags.len(), card.notes.len()), (2, 1));
    assert_forbidden(customers::card(app, &carol, &k.id, None).await, "a customer reads agents' notes");
}

#[tokio::test]
async fn customer_tags_notes_and_card_sqlite() {
    customer_tags_notes_and_card(Backend::Sqlite).await;
}

#[tokio::test]
async fn customer_tags_notes_and_card_postgres() {
    customer_tags_notes_and_card(Backend::Postgres).await;
}
