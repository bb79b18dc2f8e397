//! Timeline events as the store writes them, on SQLite and on PostgreSQL: every kind a ticket and a chat go
//! through, read back from the rows as typed `lifebuoy_domain::Event`s, with each row's `kind`, `data` and
//! `internal` columns exactly what the event says (the stored form the API, pages and widgets read).

use lifebuoy_domain::{AgentNo, Category, ConversationKind, Event, FieldChange, Lang, Priority, Role, Status, Tier};
use lifebuoy_store::{Actor, NewAgent, NewTicket, ReplyOutcome, Store, TicketChange, TimelineItem};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn ticket(customer: &str) -> NewTicket {
    NewTicket {
        kind: ConversationKind::Ticket,
        customer_id: customer.into(),
        subject: "Deposit missing".into(),
        body: "my deposit has not arrived".into(),
        category: Category::Deposit,
        priority: Priority::Normal,
        department: Some("support".into()),
        lang: Lang::En,
        order_id: None,
        tx_hash: None,
        asset: None,
        amount: None,
        tags: vec![],
        attachment_ids: vec![],
    }
}

/// The conversation's events, typed, after checking each row's columns against its typed event.
async fn events(store: &Store, id: &str) -> Vec<(Event, Value)> {
    let mut out = Vec::new();
    for item in store.timeline(id, true).await.unwrap() {
        let TimelineItem::Event(row) = &item else {
            assert!(item.event().is_none(), "a message is no event");
            continue;
        };
        let event = item.event().unwrap_or_else(|| panic!("row {} {} does not parse", row.kind, row.data));
        assert_eq!(row.event().as_ref(), Some(&event));
        let data: Value = serde_json::from_str(&row.data).unwrap();
        assert_eq!((row.kind.as_str(), &data, row.internal), (event.kind(), &event.data(), event.internal()));
        out.push((event, data));
    }
    out
}

fn typed(events: Vec<(Event, Value)>) -> Vec<Event> {
    events.into_iter().map(|(e, _)| e).collect()
}

async fn every_kind(store: Store) {
    let cust = store.upsert_exchange_customer("u-events", None, None, None).await.unwrap();
    let customer = Actor::Customer(cust.id.clone());
    let agent = store
        .create_agent(&NewAgent {
            email: "ann@example.com".into(),
            display_name: "Ann".into(),
            agent_no: AgentNo::parse("A1024").unwrap(),
            role: Role::AgentL1,
            languages: vec![Lang::En],
            departments: vec!["support".into()],
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    let ann = Actor::Agent(agent.id.clone());
    let some = |s: &str| Some(s.to_string());

    // A ticket through replies and every change.
    let (t1, _) = store.create_ticket(&ticket(&cust.id), &customer, None).await.unwrap();
    store.reply(&t1.id, &ann, "looking into it", false, &[], None, None).await.unwrap();
    store.change_ticket(&t1.id, &TicketChange::Status(Status::Pending), &ann).await.unwrap();
    store.reply(&t1.id, &customer, "here is the tx", false, &[], None, None).await.unwrap();
    store.change_ticket(&t1.id, &TicketChange::Assign(None), &ann).await.unwrap();
    let transfer = TicketChange::Transfer { department: "finance".into(), reason: "refund".into() };
    store.change_ticket(&t1.id, &transfer, &ann).await.unwrap();
    store.change_ticket(&t1.id, &TicketChange::Escalate { reason: "needs L2".into() }, &Actor::System).await.unwrap();
    let update = TicketChange::Update {
        priority: Some(Priority::Urgent),
        category: None,
        tags: Some(vec!["vip".into()]),
        order_id: Some("o-1".into()),
        tx_hash: None,
        asset: None,
        amount: None,
    };
    store.change_ticket(&t1.id, &update, &Actor::System).await.unwrap();
    let (t2, _) = store.create_ticket(&ticket(&cust.id), &customer, None).await.unwrap();
    store.merge_ticket(&t2.id, &t1.id, &ann).await.unwrap();

    let t1_events = events(&store, &t1.id).await;
    // The reply path's two events, in their stored form, literally.
    assert_eq!(t1_events[0].1, json!({"from": "new", "to": "open", "by_reply": true}));
    assert_eq!(t1_events[1].1, json!({"from": null, "to": agent.id, "by_reply": true}));
    assert_eq!(t1_events[4].1, json!({"from": agent.id, "to": null}), "no by_reply key when set by hand");
    assert_eq!(
        typed(t1_events),
        vec![
            Event::StatusChanged { from: Status::New, to: Status::Open, by_reply: Some(true) },
            Event::Assigned { from: None, to: some(&agent.id), by_reply: Some(true) },
            Event::StatusChanged { from: Status::Open, to: Status::Pending, by_reply: None },
            Event::StatusChanged { from: Status::Pending, to: Status::Open, by_reply: Some(true) },
            Event::Assigned { from: some(&agent.id), to: None, by_reply: None },
            Event::Transferred { from: "support".into(), to: "finance".into(), reason: "refund".into() },
            Event::Escalated { from: Tier::L1, to: Tier::L2, reason: "needs L2".into() },
            Event::TagsChanged { from: vec![], to: vec!["vip".into()] },
            Event::Updated(BTreeMap::from([
                ("order_id".to_string(), FieldChange { from: None, to: some("o-1") }),
                ("priority".to_string(), FieldChange { from: some("normal"), to: some("urgent") }),
            ])),
            Event::MergedFrom { from: t2.id.clone(), case_number: t2.case_number.clone() },
        ]
    );
    assert_eq!(
        typed(events(&store, &t2.id).await),
        vec![Event::MergedInto { into: t1.id.clone(), case_number: t1.case_number.clone() }]
    );

    // A closed case the customer writes to again.
    let (t3, _) = store.create_ticket(&ticket(&cust.id), &customer, None).await.unwrap();
    store.change_ticket(&t3.id, &TicketChange::Status(Status::Solved), &ann).await.unwrap();
    store.change_ticket(&t3.id, &TicketChange::Status(Status::Closed), &ann).await.unwrap();
    let out = store.reply(&t3.id, &customer, "it happened again", false, &[], None, None).await.unwrap();
    let ReplyOutcome::FollowUp { conversation: follow_up, .. } = out else { panic!("a follow-up: {out:?}") };
    assert_eq!(
        typed(events(&store, &t3.id).await),
        vec![
            Event::StatusChanged { from: Status::New, to: Status::Solved, by_reply: None },
            Event::StatusChanged { from: Status::Solved, to: Status::Closed, by_reply: None },
            Event::FollowUpOpened { follow_up: follow_up.id.clone(), case_number: follow_up.case_number.clone() },
        ]
    );

    // A chat from the bot to an agent, to another department, ended, and made a ticket.
    let chat = store.start_chat(&lifebuoy_testkit::deposit_chat(&cust.id, "hello", None)).await.unwrap().conversation;
    store.chat_handover(&chat.id, &customer, "asked").await.unwrap().expect("with the bot");
    store.set_presence(&agent.id, "online", Some(5)).await.unwrap();
    assert_eq!(store.route_chat(&chat.id).await.unwrap(), Some(agent.id.clone()));
    store.transfer_chat(&chat.id, "tech", "API keys", &ann).await.unwrap();
    assert!(store.assign_chat(&chat.id, &agent.id, &Actor::System, true).await.unwrap());
    store.end_chat(&chat.id, &ann).await.unwrap().expect("not ended before");
    let made = store.chat_to_ticket(&chat.id, &ann, "Chat transcript").await.unwrap();
    let chat_events = events(&store, &chat.id).await;
    assert_eq!(chat_events[1].1, json!({"to": agent.id, "name": "Ann", "agent_no": "A1024"}));
    assert_eq!(chat_events[4].1, json!({}));
    let assigned = Event::ChatAssigned { to: agent.id.clone(), name: "Ann".into(), agent_no: "A1024".into() };
    assert_eq!(
        typed(chat_events),
        vec![
            Event::Handover { reason: "asked".into() },
            assigned.clone(),
            Event::ChatTransferred { to_department: "tech".into(), note: "API keys".into() },
            assigned,
            Event::ChatEnded,
            Event::ConvertedToTicket { ticket: made.id.clone(), case_number: made.case_number.clone() },
        ]
    );
    // Customers see the public ones only, as before.
    let public: Vec<String> = store
        .timeline(&chat.id, false)
        .await
        .unwrap()
        .iter()
        .filter_map(|i| i.event().map(|e| e.kind().to_string()))
        .collect();
    assert_eq!(public, ["handover", "assigned", "assigned", "chat_ended", "converted_to_ticket"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_reads_back_typed_on_both_backends() {
    lifebuoy_testkit::on_backends(lifebuoy_testkit::BOTH_BACKENDS, |store, _| every_kind(store)).await;
}
