//! C2C orders, appeals and webhooks (issue 14), through the use cases over a real store (SQLite, then
//! PostgreSQL): idempotent and out-of-order order events, who sees an order, the appeal from submission to
//! closing with evidence, its deadline and four eyes, and signed webhooks to a real local HTTP receiver that
//! refuses its first two tries.

use lifebuoy_app::c2c::{self, DecideInput, EvidenceRequest, OpenAppeal, OrderEventInput, OrderMessage, RegisterOrder};
use lifebuoy_app::jobs::{Backoff, JobContext, RunnerOptions};
use lifebuoy_app::webhooks::{self, NewEndpoint};
use lifebuoy_app::{Actor, App, AppError};
use lifebuoy_domain::{AppealReason, AppealStatus, Decision, Party, Role};
use lifebuoy_store::{Agent, TimelineItem};
use lifebuoy_testkit::{AppFixture, Backend, HttpPeer, app_fixture, exchange_actor, test_agent};
use serde_json::{Value, json};
use std::time::Duration;

async fn fixture(backend: Backend) -> AppFixture {
    app_fixture(backend).await
}

async fn agent(app: &App, no: &str, role: Role, departments: &[&str]) -> Agent {
    test_agent(app, no, role, departments).await
}

async fn customer(app: &App, sub: &str) -> Actor {
    Actor::Customer(app.store.upsert_exchange_customer(sub, None, Some(sub), Some("zh-Hans")).await.unwrap())
}

fn exchange() -> Actor {
    exchange_actor()
}

fn order(id: &str, fiat: &str) -> RegisterOrder {
    serde_json::from_value(json!({
        "id": id, "buyer": "u-buyer", "seller": "u-seller", "asset": "usdt", "amount": "500",
        "fiat_amount": fiat, "fiat_currency": "cny", "payment_method": "bank_transfer"
    }))
    .unwrap()
}

fn event(e: &str) -> OrderEventInput {
    OrderEventInput { event: e.into(), at: None }
}

fn code<T: std::fmt::Debug>(r: Result<T, AppError>) -> String {
    match r {
        Err(e) => e.code().to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

fn events_of(timeline: &[TimelineItem]) -> Vec<String> {
    timeline
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Event(e) => Some(e.kind.clone()),
            _ => None,
        })
        .collect()
}

async fn orders_and_events(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let buyer = customer(app, "u-buyer").await;

    // Only the exchange registers; a repeat is no twin, the same id for another trade is refused.
    assert_eq!(code(c2c::register_order(app, &buyer, order("O-1", "3600")).await), "forbidden");
    let (o, new) = c2c::register_order(app, &exchange(), order("O-1", "3600")).await.unwrap();
    assert!(new);
    assert_eq!((o.state.as_str(), o.asset.as_str(), o.fiat_currency.as_str()), ("created", "USDT", "CNY"));
    let (_, new) = c2c::register_order(app, &exchange(), order("O-1", "3600")).await.unwrap();
    assert!(!new, "a repeat returns the order as registered");
    assert_eq!(code(c2c::register_order(app, &exchange(), order("O-1", "9999")).await), "order_mismatch");
    assert_eq!(code(c2c::register_order(app, &exchange(), order("O-2", "12,5")).await), "invalid");

    // Out of order: released before paid. The order ends released; the late `paid` is kept (its time) but
    // moves nothing back; repeats change nothing; a contradiction is refused and changes nothing.
    let r = c2c::order_event(app, &exchange(), "O-1", event("released")).await.unwrap();
    assert!(r.applied);
    assert_eq!(r.order.state, "released");
    let r = c2c::order_event(app, &exchange(), "O-1", OrderEventInput { event: "paid".into(), at: Some(1_000) })
        .await
        .unwrap();
    assert!(r.applied);
    assert_eq!((r.order.state.as_str(), r.order.paid_at), ("released", Some(1_000)));
    let r = c2c::order_event(app, &exchange(), "O-1", event("paid")).await.unwrap();
    assert!(!r.applied, "a repeat is no news");
    let r = c2c::order_event(app, &exchange(), "O-1", event("released")).await.unwrap();
    assert!(!r.applied);
    assert_eq!(code(c2c::order_event(app, &exchange(), "O-1", event("cancelled")).await), "invalid");
    assert_eq!(app.store.order("O-1").await.unwrap().unwrap().state, "released");
    assert_eq!(code(c2c::order_event(app, &exchange(), "O-1", event("teleported")).await), "invalid");
    assert_eq!(code(c2c::order_event(app, &exchange(), "O-9", event("paid")).await), "not_found");
    assert_eq!(code(c2c::order_event(app, &buyer, "O-1", event("paid")).await), "forbidden");
}

async fn appeal_lifecycle(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let buyer = customer(app, "u-buyer").await;
    let seller = customer(app, "u-seller").await;
    let stranger = customer(app, "u-stranger").await;
    let support = Actor::Agent(agent(app, "A201", Role::AgentL1, &["support"]).await);
    let risk_agent = agent(app, "A301", Role::AgentL2, &["risk"]).await;
    let arb1 = agent(app, "A302", Role::AgentL2, &["risk"]).await;
    let arb2 = agent(app, "A303", Role::AgentL2, &["risk"]).await;
    let admin = Actor::Agent(agent(app, "A001", Role::Admin, &["support"]).await);
    for a in [&arb1, &arb2] {
        c2c::set_arbiter(app, &admin, &a.id, true).await.unwrap();
    }
    assert_eq!(code(c2c::set_arbiter(app, &Actor::Agent(arb1.clone()), &risk_agent.id, true).await), "forbidden");
    let (risk_agent, arb1, arb2) = (Actor::Agent(risk_agent), Actor::Agent(arb1), Actor::Agent(arb2));

    // The exchange's window: an appeal opens 15 minutes after payment.
    for id in ["O-6", "O-7"] {
        let mut o = order(id, "3600");
        o.appeal_after_s = Some(900);
        c2c::register_order(app, &exchange(), o).await.unwrap();
    }
    c2c::register_order(app, &exchange(), order("O-8", "80000")).await.unwrap();
    let appeal_input =
        |body: &str| OpenAppeal { reason: AppealReason::PaidNotReleased, body: body.into(), attachment_ids: vec![] };

    // Before payment there is nothing to appeal; within the exchange's window, not yet.
    assert_eq!(code(c2c::open_appeal(app, &buyer, "O-6", appeal_input("x")).await), "order_not_paid");
    c2c::order_event(app, &exchange(), "O-6", event("paid")).await.unwrap();
    assert_eq!(code(c2c::open_appeal(app, &buyer, "O-6", appeal_input("x")).await), "appeal_too_early");
    // O-7 was paid 20 minutes ago: its window has passed.
    let twenty_min_ago = lifebuoy_store::now_ms() - 1_200_000;
    c2c::order_event(app, &exchange(), "O-7", OrderEventInput { event: "paid".into(), at: Some(twenty_min_ago) })
        .await
        .unwrap();

    // The order chat: both parties, each other's messages; a stranger and another department see nothing.
    let m = |b: &str| OrderMessage { body: b.into(), attachment_ids: vec![], internal: false };
    c2c::post_message(app, &buyer, "O-7", m("我已经转账了，请放币")).await.unwrap();
    c2c::post_message(app, &seller, "O-7", m("还没到账，我再查一下")).await.unwrap();
    assert!(matches!(c2c::view_order(app, &stranger, "O-7").await, Err(AppError::NotFound)));
    assert!(matches!(c2c::post_message(app, &stranger, "O-7", m("hi")).await, Err(AppError::NotFound)));
    assert!(matches!(c2c::view_order(app, &support, "O-7").await, Err(AppError::NotFound)));
    let seen = c2c::view_order(app, &seller, "O-7").await.unwrap();
    assert_eq!(seen.party, Some(Party::Seller));
    let bodies: Vec<String> = seen
        .timeline
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Message { message, .. } => Some(message.body.clone()),
            _ => None,
        })
        .collect();
    assert!(bodies[0].contains("O-7") && bodies[0].contains("骗子"), "the chat opens with the standing warning");
    assert!(bodies.iter().any(|b| b.contains("请放币")), "the seller reads the buyer: {bodies:?}");
    // A party's note is never internal; staff notes are hidden from both parties.
    let note = OrderMessage { body: "seller has 3 prior disputes".into(), attachment_ids: vec![], internal: true };
    assert_eq!(code(c2c::post_message(app, &buyer, "O-7", note.clone()).await), "forbidden");
    c2c::post_message(app, &risk_agent, "O-7", note).await.unwrap();
    for p in [&buyer, &seller] {
        let v = c2c::view_order(app, p, "O-7").await.unwrap();
        assert!(!serde_json::to_string(&v.timeline).unwrap().contains("prior disputes"), "a party reads a note");
    }
    let staff_view = c2c::view_order(app, &risk_agent, "O-7").await.unwrap();
    assert!(serde_json::to_string(&staff_view.timeline).unwrap().contains("prior disputes"));

    // The buyer appeals; one appeal at a time.
    let a = c2c::open_appeal(app, &buyer, "O-7", appeal_input("我已付款3600元，卖家30分钟未放币")).await.unwrap();
    assert_eq!((a.status.as_str(), a.opened_by.as_str()), ("submitted", "buyer"));
    assert_eq!(code(c2c::open_appeal(app, &seller, "O-7", appeal_input("again")).await), "appeal_open");
    assert!(matches!(c2c::open_appeal(app, &stranger, "O-7", appeal_input("me too")).await, Err(AppError::NotFound)));

    // Only arbiters work the queue and decide: a risk agent without the permission is refused.
    assert_eq!(code(c2c::queue(app, &risk_agent, 10).await), "forbidden");
    assert_eq!(code(c2c::take(app, &risk_agent, &a.id).await), "forbidden");
    assert_eq!(code(c2c::take(app, &buyer, &a.id).await), "forbidden");
    let q = c2c::queue(app, &arb1, 10).await.unwrap();
    assert_eq!(q.iter().map(|x| x.appeal.id.as_str()).collect::<Vec<_>>(), vec![a.id.as_str()]);
    let a = c2c::take(app, &arb1, &a.id).await.unwrap();
    assert_eq!(a.status, "in_review");

    // Evidence from the seller, by a deadline: a durable job is due then.
    let ask = EvidenceRequest {
        party: Party::Seller, note: "请上传近24小时的银行流水截图".into(), hours: Some(2)
    };
    let a = c2c::request_evidence(app, &arb1, &a.id, ask).await.unwrap();
    let due = a.evidence_due_at.unwrap();
    assert_eq!((a.status.as_str(), a.awaiting_party.as_deref()), ("awaiting_evidence", Some("seller")));
    let job = app.store.job_by_key(c2c::EVIDENCE_JOB, &format!("evidence-{}-{due}", a.id)).await.unwrap().unwrap();
    assert_eq!(job.run_at, due, "the deadline job is due at the deadline");
    // The buyer's message is not the evidence asked for; the seller's is.
    c2c::post_message(app, &buyer, "O-7", m("卖家还没回复")).await.unwrap();
    assert_eq!(app.store.appeal(&a.id).await.unwrap().unwrap().status, "awaiting_evidence");
    c2c::post_message(app, &seller, "O-7", m("流水见附件，确实没有到账")).await.unwrap();
    let a = app.store.appeal(&a.id).await.unwrap().unwrap();
    assert_eq!(a.status, "in_review");
    // The deadline job, run now, finds the evidence came and moves nothing.
    let ctx = JobContext { store: app.store.clone(), node: "test".into(), started_at: 0 };
    c2c::run_deadline(app, job, ctx.clone()).await.unwrap();
    assert_eq!(app.store.appeal(&a.id).await.unwrap().unwrap().status, "in_review");

    // A deadline that passes: asked again, nobody answers, the job moves it back to review, first in the queue.
    let ask = EvidenceRequest { party: Party::Buyer, note: "请提供付款回单".into(), hours: None };
    let a = c2c::request_evidence(app, &arb1, &a.id, ask).await.unwrap();
    let due = a.evidence_due_at.unwrap();
    let job = app.store.job_by_key(c2c::EVIDENCE_JOB, &format!("evidence-{}-{due}", a.id)).await.unwrap().unwrap();
    c2c::run_deadline(app, job, ctx.clone()).await.unwrap();
    let a = app.store.appeal(&a.id).await.unwrap().unwrap();
    assert_eq!(a.status, "in_review", "the deadline passed: back to the arbiter");
    let timeline = app.store.timeline(&a.conversation_id, true).await.unwrap();
    assert!(serde_json::to_string(&timeline).unwrap().contains("deadline_passed"));

    // Below the four-eyes amount one arbiter decides; the rationale is the parties' to read.
    c2c::set_four_eyes(app, &admin, "cny", Some("50000")).await.unwrap();
    assert_eq!(code(c2c::set_four_eyes(app, &arb1, "CNY", Some("1")).await), "forbidden");
    let decision =
        DecideInput { decision: Decision::ReleaseToBuyer, rationale: "银行流水显示买家已付款".into() };
    let a = c2c::decide(app, &arb1, &a.id, decision).await.unwrap();
    assert_eq!((a.status.as_str(), a.decision.as_deref()), ("decided", Some("release_to_buyer")));
    assert!(a.queue_at.is_none(), "a decided appeal leaves the queue");
    let seen = c2c::view_order(app, &seller, "O-7").await.unwrap();
    assert!(serde_json::to_string(&seen.timeline).unwrap().contains("银行流水显示买家已付款"));
    assert_eq!(code(c2c::withdraw(app, &buyer, &a.id).await), "illegal_appeal_change");

    // The exchange executes (it releases the coins): the appeal is executed; the arbiter closes it.
    let r = c2c::order_event(app, &exchange(), "O-7", event("released")).await.unwrap();
    assert_eq!(r.appeal.map(|a| a.status), Some("executed".into()));
    let a = c2c::close(app, &arb1, &a.id).await.unwrap();
    assert_eq!(a.status, "closed");
    let kinds = events_of(&app.store.timeline(&a.conversation_id, false).await.unwrap());
    for k in ["appeal_opened", "appeal_status_changed", "appeal_decided", "order_updated"] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }

    // Four eyes above 50,000 CNY: the decision is proposed (internal), the proposer cannot approve it, a
    // second arbiter can; a refusal sends it back.
    c2c::order_event(app, &exchange(), "O-8", event("paid")).await.unwrap();
    let a8 = c2c::open_appeal(app, &seller, "O-8", appeal_input("买家付款人姓名与实名不一致")).await.unwrap();
    let d = |r: &str| DecideInput { decision: Decision::ReturnToSeller, rationale: r.into() };
    let p = c2c::decide(app, &arb1, &a8.id, d("第三方付款")).await.unwrap();
    assert_eq!(p.status, "awaiting_approval");
    let v = c2c::view_order(app, &buyer, "O-8").await.unwrap();
    assert!(
        !serde_json::to_string(&v.timeline).unwrap().contains("appeal_decision_proposed"),
        "proposals are internal"
    );
    assert_eq!(code(c2c::approve(app, &arb1, &a8.id, true).await), "forbidden");
    let back = c2c::approve(app, &arb2, &a8.id, false).await.unwrap();
    assert_eq!(back.status, "in_review");
    c2c::decide(app, &arb1, &a8.id, d("第三方付款，退回卖家")).await.unwrap();
    let done = c2c::approve(app, &arb2, &a8.id, true).await.unwrap();
    assert_eq!(done.status, "decided");
    let arb2_id = arb2.agent().unwrap().id.clone();
    assert_eq!(done.approved_by.as_deref(), Some(arb2_id.as_str()));
    let t = serde_json::to_string(&app.store.timeline(&done.conversation_id, false).await.unwrap()).unwrap();
    assert!(t.contains(&format!("\"approved_by\":\"{arb2_id}\"")), "the approval is on the timeline");
    // The explicit `executed` report works too, once.
    let r = c2c::order_event(app, &exchange(), "O-8", event("executed")).await.unwrap();
    assert!(r.applied);
    let r = c2c::order_event(app, &exchange(), "O-8", event("executed")).await.unwrap();
    assert!(!r.applied);

    // The opener withdraws an undecided appeal; the other party cannot.
    c2c::register_order(app, &exchange(), order("O-9", "100")).await.unwrap();
    c2c::order_event(app, &exchange(), "O-9", event("paid")).await.unwrap();
    let a9 = c2c::open_appeal(app, &buyer, "O-9", appeal_input("误操作")).await.unwrap();
    assert_eq!(code(c2c::withdraw(app, &seller, &a9.id).await), "forbidden");
    assert_eq!(c2c::withdraw(app, &buyer, &a9.id).await.unwrap().status, "withdrawn");
    // Room for a new appeal once it is withdrawn.
    c2c::open_appeal(app, &seller, "O-9", appeal_input("买家要求线下交易")).await.unwrap();
    assert!(AppealStatus::Withdrawn.is_final());
}

/// A local HTTP receiver ([`HttpPeer`]) that refuses its first `refuse` requests with 503, then takes them.
async fn receiver(refuse: usize, secret: &'static str) -> HttpPeer {
    HttpPeer::start(secret, move |n, _| if n <= refuse { (503, "busy".into()) } else { (200, "ok".into()) }).await
}

/// The requests the receiver took (answered 200): whether each was signed, and its body.
fn taken(peer: &HttpPeer) -> Vec<(bool, Value)> {
    peer.requests().into_iter().filter(|r| r.status == 200).map(|r| (r.signed, r.json())).collect()
}

async fn signed_webhooks(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let buyer = customer(app, "u-buyer").await;
    let got = receiver(2, "exchange-hook-secret-1").await;
    let other = receiver(0, "another-secret-0000").await;
    let (url, other_url) = (got.url.clone(), other.url.clone());
    let reg = |url: &str, events: &[&str], secret: &str| NewEndpoint {
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: secret.into(),
    };
    // Who may register, and what is refused.
    assert_eq!(
        code(webhooks::register(app, &buyer, reg(&url, &["appeal.opened"], "exchange-hook-secret-1")).await),
        "forbidden"
    );
    assert_eq!(
        code(webhooks::register(app, &exchange(), reg("ftp://x/", &["appeal.opened"], "exchange-hook-secret-1")).await),
        "invalid"
    );
    assert_eq!(
        code(webhooks::register(app, &exchange(), reg(&url, &["appeal.eaten"], "exchange-hook-secret-1")).await),
        "invalid"
    );
    assert_eq!(code(webhooks::register(app, &exchange(), reg(&url, &["appeal.opened"], "short")).await), "invalid");
    let ep =
        webhooks::register(app, &exchange(), reg(&url, &["appeal.opened", "appeal.decided"], "exchange-hook-secret-1"))
            .await
            .unwrap();
    assert!(!serde_json::to_string(&ep).unwrap().contains("exchange-hook-secret-1"), "the secret is never shown");
    webhooks::register(app, &exchange(), reg(&other_url, &["ticket.status_changed"], "another-secret-0000"))
        .await
        .unwrap();

    let fast = RunnerOptions {
        backoff: Backoff { base: Duration::from_millis(100), cap: Duration::from_millis(400) },
        poll: Duration::from_millis(100),
        ..RunnerOptions::default()
    };
    let runner = app.start_jobs_with(fast).await.unwrap();
    c2c::register_order(app, &exchange(), order("O-W", "3600")).await.unwrap();
    c2c::order_event(app, &exchange(), "O-W", event("paid")).await.unwrap();
    let input =
        OpenAppeal { reason: AppealReason::PaidNotReleased, body: "已付款未放币".into(), attachment_ids: vec![] };
    let a = c2c::open_appeal(app, &buyer, "O-W", input).await.unwrap();

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while taken(&got).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let received = taken(&got);
    assert_eq!(received.len(), 1, "one delivery, after two refused tries: {received:?}");
    let (valid, body) = &received[0];
    assert!(valid, "the receiver checks the signature with the endpoint's secret");
    assert_eq!(body["type"], "appeal.opened");
    assert_eq!(body["data"]["order"]["id"], "O-W");
    assert_eq!(body["data"]["appeal"]["id"], a.id.as_str());
    assert!(other.requests().is_empty(), "an endpoint hears only the types it asked for");
    let log = webhooks::deliveries(app, &exchange(), 10).await.unwrap();
    let d = log.iter().find(|d| d.endpoint_id == ep.id).unwrap();
    assert_eq!((d.state.as_str(), d.attempts, d.last_status), ("delivered", 3, Some(200)));

    // Both parties hear of the appeal in their inbox (the order's conversation is the buyer's; the seller too),
    // each in their own language, with a link to the order.
    let seller = app.store.exchange_customer("u-seller").await.unwrap().expect("the seller is known");
    let buyer_id = buyer.customer().unwrap().id.clone();
    let mut inboxes = Vec::new();
    for who in [&buyer_id, &seller.id] {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let found = loop {
            let (items, _) = app.store.notifications(who, None, 10).await.unwrap();
            if let Some(n) = items.into_iter().find(|n| n.kind == "appeal") {
                break n;
            }
            if std::time::Instant::now() >= deadline {
                for st in ["dead", "failed", "queued", "done"] {
                    eprintln!(
                        "{st}: {:?}",
                        app.store
                            .list_jobs(st, None, 50)
                            .await
                            .unwrap()
                            .iter()
                            .map(|j| (j.kind.clone(), j.payload.clone(), j.last_error.clone()))
                            .collect::<Vec<_>>()
                    );
                }
            }
            assert!(std::time::Instant::now() < deadline, "no appeal notice for {who}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        inboxes.push(found);
    }
    for n in &inboxes {
        assert!(n.title.contains("已提交"), "{}", n.title);
        assert!(n.body.contains("申诉原因：已付款，卖家未放币"), "{}", n.body);
        assert!(n.link.as_deref().unwrap_or("").ends_with("/portal/orders/O-W"));
    }
    assert_ne!(inboxes[0].cause, inboxes[1].cause, "one notice per party");

    // A replay sends the same body again (receivers deduplicate on its id).
    webhooks::replay(app, &exchange(), &d.id).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while taken(&got).len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let received = taken(&got);
    assert_eq!(received.len(), 2, "the replay arrived");
    assert_eq!(received[1].1["id"], received[0].1["id"]);
    let _ = runner.shutdown().await;
}

/// The order's conversation is the buyer's, and in the seller's records too: their history lists it (linking
/// the order), their export holds it under their own name, and no one else's does.
async fn both_parties_records(backend: Backend) {
    use lifebuoy_app::records::{self, ExportRequest};
    let f = fixture(backend).await;
    let app = &f.app;
    let buyer = customer(app, "u-buyer").await;
    let seller = customer(app, "u-seller").await;
    let stranger = customer(app, "u-stranger").await;
    c2c::register_order(app, &exchange(), order("O-R", "3600")).await.unwrap();
    let say = |b: &str| OrderMessage { body: b.into(), attachment_ids: vec![], internal: false };
    c2c::post_message(app, &buyer, "O-R", say("已付款 3600 元")).await.unwrap();
    c2c::post_message(app, &seller, "O-R", say("還沒到帳")).await.unwrap();
    let conv = app.store.order("O-R").await.unwrap().unwrap().conversation_id.unwrap();

    let filter = lifebuoy_store::HistoryFilter::default();
    for who in [&buyer, &seller] {
        let h = records::history(app, who, &filter).await.unwrap();
        let row = h.iter().find(|r| r.id == conv).expect("the order chat is in each party's history");
        assert_eq!((row.kind.as_str(), row.order_id.as_deref()), ("appeal", Some("O-R")));
        assert!(row.entries >= 2, "both messages: {}", row.entries);
    }
    let words = lifebuoy_store::HistoryFilter { text: Some("還沒到帳".into()), ..Default::default() };
    assert_eq!(records::history(app, &seller, &words).await.unwrap().len(), 1, "the seller finds it by its words");
    assert!(records::history(app, &stranger, &filter).await.unwrap().is_empty());

    let all = ExportRequest { customer: None, conversation: None, lang: None };
    let one = ExportRequest { customer: None, conversation: Some(conv.clone()), lang: None };
    let seller_id = seller.customer().unwrap().id.clone();
    for req in [&all, &one] {
        let e = records::export(app, &seller, req).await.unwrap();
        assert!(e.conversations.iter().any(|c| c.id == conv), "the seller's export holds the order chat");
        assert_eq!(e.customer.id, seller_id, "under the seller's own name, not the buyer's");
    }
    assert!(matches!(records::export(app, &stranger, &one).await, Err(AppError::NotFound)));
    assert!(records::export(app, &stranger, &all).await.unwrap().conversations.is_empty());
    // Staff exporting on the seller's behalf get it too.
    let admin = Actor::Agent(agent(app, "A009", Role::Admin, &["support"]).await);
    let behalf = ExportRequest { customer: Some(seller_id), conversation: None, lang: None };
    assert!(records::export(app, &admin, &behalf).await.unwrap().conversations.iter().any(|c| c.id == conv));
}

#[tokio::test]
async fn both_parties_records_sqlite() {
    both_parties_records(Backend::Sqlite).await;
}

#[tokio::test]
async fn both_parties_records_postgres() {
    both_parties_records(Backend::Postgres).await;
}

#[tokio::test]
async fn orders_and_events_sqlite() {
    orders_and_events(Backend::Sqlite).await;
}

#[tokio::test]
async fn orders_and_events_postgres() {
    orders_and_events(Backend::Postgres).await;
}

#[tokio::test]
async fn appeal_lifecycle_sqlite() {
    appeal_lifecycle(Backend::Sqlite).await;
}

#[tokio::test]
async fn appeal_lifecycle_postgres() {
    appeal_lifecycle(Backend::Postgres).await;
}

#[tokio::test]
async fn signed_webhooks_sqlite() {
    signed_webhooks(Backend::Sqlite).await;
}

#[tokio::test]
async fn signed_webhooks_postgres() {
    signed_webhooks(Backend::Postgres).await;
}
