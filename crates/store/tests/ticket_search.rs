//! Ticket search at the store's level, on SQLite and on PostgreSQL: the store tells its listeners of every
//! committed ticket change, hands the index the text it needs (`ticket_texts`, `ticket_text`), and applies every
//! filter and permission to the ids the index (`lifebuoy-search`'s `TicketIndex`) finds.

use lifebuoy_domain::{Category, ConversationKind, Lang, Priority, Status};
// The product's own ticket→document mapping, so that this test indexes what the server indexes.
use lifebuoy_app::ticket_search::ticket_doc;
use lifebuoy_search::{TicketIndex, TicketQuery};
use lifebuoy_store::{Actor, Entry, NewTicket, QueueFilter, QueueSort, Scope, Store, TicketChange};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

fn ticket(customer: &str, subject: &str, body: &str, department: &str, kind: ConversationKind) -> NewTicket {
    NewTicket {
        kind,
        customer_id: customer.into(),
        subject: subject.into(),
        body: body.into(),
        category: Category::Withdrawal,
        priority: Priority::Normal,
        department: Some(department.into()),
        lang: Lang::ZhHans,
        order_id: None,
        tx_hash: None,
        asset: None,
        amount: None,
        tags: vec![],
        attachment_ids: vec![],
    }
}

fn found(idx: &TicketIndex, text: &str) -> BTreeSet<String> {
    idx.search(&TicketQuery { text: text.into(), limit: 100, ..Default::default() }).unwrap().ids.into_iter().collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

async fn index_from_store(store: &Store, idx: &TicketIndex) {
    idx.clear().unwrap();
    let mut after: Option<String> = None;
    // Pages of two, so that paging by id is exercised.
    loop {
        let page = store.ticket_texts(after.as_deref(), 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.conversation.id.clone());
        for t in &page {
            idx.upsert(&ticket_doc(t)).unwrap();
        }
    }
    idx.commit().unwrap();
}

async fn search_through_the_store(store: Store) {
    let changed: Arc<Mutex<Vec<String>>> = Default::default();
    let appended: Arc<Mutex<Vec<(String, Vec<i64>, Vec<&'static str>)>>> = Default::default();
    let (heard, entries) = (changed.clone(), appended.clone());
    store.on_commit(move |c| {
        heard.lock().unwrap().push(c.conversation_id.clone());
        let kinds = c
            .entries
            .iter()
            .map(|e| match e {
                Entry::Message { internal: false, .. } => "message",
                Entry::Message { internal: true, .. } => "note",
                Entry::Event { event, .. } => event.kind(),
            })
            .collect();
        let seqs = c.entries.iter().map(Entry::seq).collect();
        entries.lock().unwrap().push((c.conversation_id.clone(), seqs, kinds));
    });
    let cust = store.upsert_exchange_customer("u-search", None, None, None).await.unwrap();
    let me = Actor::Customer(cust.id.clone());
    let new = |subject: &str, body: &str, department: &str| {
        ticket(&cust.id, subject, body, department, ConversationKind::Ticket)
    };

    let (t1, _) = store
        .create_ticket(&new("提币三小时未到账", "USDT TRC20 withdrawal pending", "support"), &me, None)
        .await
        .unwrap();
    let (t2, _) = store.create_ticket(&new("我要提现", "请尽快处理", "finance"), &me, None).await.unwrap();
    let (t3, _) = store.create_ticket(&new("Account question", "hello", "support"), &me, None).await.unwrap();
    let (chat, _) = store
        .create_ticket(&ticket(&cust.id, "提币", "提币", "support", ConversationKind::Chat), &me, None)
        .await
        .unwrap();
    store
        .reply(&t3.id, &Actor::System, "Your withdrawal was sent to the wrong network", false, &[], None, None)
        .await
        .unwrap();
    store.reply(&t3.id, &Actor::System, "VIP customer, be quick", true, &[], None, None).await.unwrap();
    store.change_ticket(&t2.id, &TicketChange::Status(Status::Pending), &Actor::System).await.unwrap();
    assert_eq!(
        *changed.lock().unwrap(),
        vec![t1.id.clone(), t2.id.clone(), t3.id.clone(), chat.id.clone(), t3.id.clone(), t3.id.clone(), t2.id.clone()],
        "every committed change is heard, once"
    );
    // Each with what it appended, typed and numbered: the first message; a reply that opened the case; a note.
    let appended = appended.lock().unwrap().clone();
    assert_eq!(appended[0], (t1.id.clone(), vec![1], vec!["message"]));
    assert_eq!(appended[4], (t3.id.clone(), vec![2, 3], vec!["message", "status_changed"]));
    assert_eq!(appended[5], (t3.id.clone(), vec![4], vec!["note"]));
    assert_eq!(appended[6], (t2.id.clone(), vec![2], vec!["status_changed"]));

    // What the index reads: tickets only, messages in order with their internal flag.
    let t = store.ticket_text(&t3.id).await.unwrap().expect("a ticket");
    assert_eq!(
        t.messages,
        vec![
            ("hello".to_string(), false),
            ("Your withdrawal was sent to the wrong network".to_string(), false),
            ("VIP customer, be quick".to_string(), true)
        ]
    );
    assert!(store.ticket_text(&chat.id).await.unwrap().is_none(), "chats are not in the ticket index");
    assert!(store.ticket_text("no-such-id").await.unwrap().is_none());

    let idx = TicketIndex::open_in_ram().unwrap();
    index_from_store(&store, &idx).await;
    assert_eq!(idx.num_docs(), 3);
    assert_eq!(found(&idx, "三小時"), set(&[&t1.id]), "Traditional finds Simplified");
    assert!(found(&idx, "提幣").contains(&t1.id));
    assert_eq!(
        found(&idx, "withdrawl"),
        set(&[&t1.id, &t2.id, &t3.id]),
        "a typo finds a word of a reply, and reaches withdrawal's synonyms (提现, 提币) as the right spelling does"
    );
    assert_eq!(found(&idx, "出金"), set(&[&t1.id, &t2.id, &t3.id]), "synonyms: 提币, 提现, withdrawal");
    assert_eq!(found(&idx, "wrong network"), set(&[&t3.id]));
    assert_eq!(found(&idx, "vip"), set(&[&t3.id]), "agents search internal notes");

    // SQL applies scope and filters to what the index found: an agent of support never gets finance's case,
    // even when handed its id.
    let all: Vec<String> = found(&idx, "出金").into_iter().collect();
    let list = |scope: Scope, f: QueueFilter| {
        let store = store.clone();
        async move {
            let page = store.list_conversations(&scope, &f, QueueSort::UpdatedDesc, None, 50).await.unwrap();
            page.items.into_iter().map(|c| c.id).collect::<BTreeSet<_>>()
        }
    };
    let text =
        |ids: Vec<String>| QueueFilter { text: Some("出金".into()), text_ids: Some(ids), ..Default::default() };
    let support = Scope::Agent { id: "a-support".into(), departments: vec!["support".into()] };
    assert_eq!(list(support.clone(), text(all.clone())).await, set(&[&t1.id, &t3.id]));
    assert_eq!(list(Scope::All, text(all.clone())).await, set(&[&t1.id, &t2.id, &t3.id]));
    let pending = QueueFilter { statuses: vec![Status::Pending], ..text(all.clone()) };
    assert_eq!(list(Scope::All, pending).await, set(&[&t2.id]));
    assert_eq!(list(Scope::Customer("someone-else".into()), text(all)).await, set(&[]));
    // The exact references still match without the index.
    let case = t1.case_number.clone().unwrap();
    let by_case = QueueFilter { text: Some(case), text_ids: Some(vec![]), ..Default::default() };
    assert_eq!(list(support, by_case).await, set(&[&t1.id]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_through_the_store_on_both_backends() {
    lifebuoy_testkit::on_backends(lifebuoy_testkit::BOTH_BACKENDS, |store, _| search_through_the_store(store)).await;
}
