//! The customer's account beside a case (issue 14, item 6), through the use cases over a real store (SQLite,
//! then PostgreSQL) against a real local HTTP server standing for the exchange: who sets the source, a signed
//! lookup and its cache, what the exchange pushed, the order's two parties, an exchange that is down, slow or
//! does not know the user, who may look, and the access log's note of each look.

use lifebuoy_app::customer_context::{self, Lookup, ProfilePush, SourceInput};
use lifebuoy_app::tickets::{self, CreateTicket};
use lifebuoy_app::{Actor, AppError, c2c};
use lifebuoy_domain::{Party, Role};
use lifebuoy_testkit::{Backend, HttpPeer, app_fixture, exchange_actor, test_agent};
use serde_json::json;

const SECRET: &str = "exchange-context-secret-1";

fn source(url: &str, timeout_ms: Option<i64>) -> SourceInput {
    SourceInput { url: url.into(), secret: Some(SECRET.into()), timeout_ms, cache_s: Some(60) }
}

fn ticket(subject: &str) -> CreateTicket {
    serde_json::from_value(json!({"subject": subject, "body": "my withdrawal is stuck", "category": "withdrawal"}))
        .unwrap()
}

/// What the exchange answers for `u-1`, `u-buyer` and `u-seller`; 404 for anyone else.
fn answer(_n: usize, body: &[u8]) -> (u16, String) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    match v["user_id"].as_str().unwrap_or("") {
        "u-1" => (
            200,
            json!({
                "user_id": "u-1", "kyc_level": "L2", "account_state": "frozen", "state_reason": "risk review",
                "deposits": [{"asset": "USDT", "amount": 100.5, "status": "credited", "tx_hash": "0xabc", "at": 1_700_000_000_000i64}],
                "withdrawals": [], "unknown_field": {"kept": "out"}
            })
            .to_string(),
        ),
        "u-buyer" => (200, json!({"kyc_level": "L1"}).to_string()),
        "u-seller" => (200, json!({"kyc_level": "L3", "account_state": "restricted"}).to_string()),
        _ => (404, "{}".into()),
    }
}

async fn lookups(backend: Backend) {
    let f = app_fixture(backend).await;
    let app = &f.app;
    let admin = Actor::Agent(test_agent(app, "A900", Role::Admin, &["support"]).await);
    let l1 = Actor::Agent(test_agent(app, "A101", Role::AgentL1, &["support"]).await);
    let tech = Actor::Agent(test_agent(app, "T201", Role::AgentL1, &["tech"]).await);
    let u1 = Actor::Customer(app.store.upsert_exchange_customer("u-1", None, Some("u1"), Some("en")).await.unwrap());
    let (t, _) = tickets::create(app, &u1, ticket("withdrawal stuck"), None).await.unwrap();

    // Before a source is set the case shows what there is: the user id, and nothing asked.
    let ctx = customer_context::for_case(app, &l1, &t.id, None).await.unwrap();
    assert_eq!((ctx.lookup, ctx.user_id.as_deref()), (Lookup::NotConfigured, Some("u-1")));

    // Only admins and the exchange set the source; the secret has a floor.
    let peer = HttpPeer::start(SECRET, answer).await;
    assert!(matches!(
        customer_context::set_source(app, &l1, source(&peer.url, None)).await,
        Err(AppError::Forbidden(_))
    ));
    let short = SourceInput { secret: Some("short".into()), ..source(&peer.url, None) };
    assert!(matches!(customer_context::set_source(app, &admin, short).await, Err(AppError::Invalid { .. })));
    let ftp = source("ftp://exchange.example/ctx", None);
    assert!(matches!(customer_context::set_source(app, &admin, ftp).await, Err(AppError::Invalid { .. })));
    customer_context::set_source(app, &admin, source(&peer.url, None)).await.unwrap();

    // A signed lookup names the user and the case; what the answer has is shown, what it lacks is not.
    let ctx = customer_context::for_case(app, &l1, &t.id, None).await.unwrap();
    assert_eq!(ctx.lookup, Lookup::Fresh, "{ctx:?}");
    let a = ctx.account.clone().unwrap();
    assert_eq!(a.kyc_level.as_deref(), Some("L2"));
    assert_eq!(a.account_state, Some(customer_context::AccountState::Frozen));
    assert_eq!(a.deposits.as_ref().unwrap()[0].amount.as_deref(), Some("100.5"));
    assert_eq!(a.withdrawals.as_deref(), Some(&[][..]));
    assert_eq!((a.vip_tier.as_ref(), a.c2c_orders.as_ref()), (None, None));
    let asked = peer.requests();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].signed, "the exchange checks the lookup's signature with the secret");
    assert_eq!(asked[0].json()["user_id"], "u-1");
    assert_eq!(asked[0].json()["case_number"], json!(t.case_number));
    assert_eq!(asked[0].json()["agent_no"], "A101");

    // The next look within the cache time is this node's copy.
    let again = customer_context::for_case(app, &l1, &t.id, None).await.unwrap();
    assert_eq!((again.lookup, again.account.as_ref()), (Lookup::Cached, Some(&a)));
    assert_eq!(peer.requests().len(), 1);

    // The exchange pushes tier and flags (only it may); the push drops the cached answer.
    let push = || ProfilePush { vip_tier: Some("VIP3".into()), flags: vec!["otc".into(), "otc".into(), "vip".into()] };
    assert!(matches!(customer_context::push_profile(app, &admin, "u-1", push()).await, Err(AppError::Forbidden(_))));
    let bad = ProfilePush { vip_tier: None, flags: vec!["".into()] };
    assert!(matches!(
        customer_context::push_profile(app, &exchange_actor(), "u-1", bad).await,
        Err(AppError::Invalid { .. })
    ));
    customer_context::push_profile(app, &exchange_actor(), "u-1", push()).await.unwrap();
    let ctx = customer_context::for_case(app, &l1, &t.id, None).await.unwrap();
    assert_eq!(ctx.lookup, Lookup::Fresh);
    let pushed = ctx.pushed.unwrap();
    assert_eq!((pushed.vip_tier.as_deref(), pushed.flag_list()), (Some("VIP3"), vec!["otc".to_string(), "vip".into()]));
    assert_eq!(peer.requests().len(), 2);

    // Who may look: agents who see the case; not another department's agent, not a customer.
    assert!(matches!(customer_context::for_case(app, &tech, &t.id, None).await, Err(AppError::NotFound)));
    assert!(matches!(customer_context::for_case(app, &u1, &t.id, None).await, Err(AppError::Forbidden(_))));
    assert!(matches!(
        customer_context::for_case(app, &l1, &t.id, Some(Party::Seller)).await,
        Err(AppError::Invalid { .. })
    ));
    // Each look is in the access log, as the case's customer's: before the source was set, fresh, cached and
    // after the push (the refused ones are not looks).
    let l1_id = l1.agent().unwrap().id.clone();
    let log = app.store.access_log(Some(&t.customer_id), Some(&l1_id), None, 50).await.unwrap();
    assert_eq!(log.iter().filter(|r| r.what == "account" && r.conversation_id.as_deref() == Some(&t.id)).count(), 4);

    // An order's case has two accounts: the buyer's by default, the seller's when asked.
    c2c::register_order(
        app,
        &exchange_actor(),
        serde_json::from_value(json!({
            "id": "o-1", "buyer": "u-buyer", "seller": "u-seller", "asset": "USDT", "amount": "10",
            "fiat_amount": "72", "fiat_currency": "CNY", "payment_method": "bank_transfer"
        }))
        .unwrap(),
    )
    .await
    .unwrap();
    let buyer =
        Actor::Customer(app.store.upsert_exchange_customer("u-buyer", None, Some("b"), Some("en")).await.unwrap());
    let say = c2c::OrderMessage { body: "paid".into(), attachment_ids: vec![], internal: false };
    c2c::post_message(app, &buyer, "o-1", say).await.unwrap();
    let conv = app.store.order("o-1").await.unwrap().unwrap().conversation_id.unwrap();
    let b = customer_context::for_case(app, &admin, &conv, None).await.unwrap();
    let s = customer_context::for_case(app, &admin, &conv, Some(Party::Seller)).await.unwrap();
    assert_eq!((b.user_id.as_deref(), b.party), (Some("u-buyer"), Some(Party::Buyer)));
    assert_eq!(b.account.unwrap().kyc_level.as_deref(), Some("L1"));
    assert_eq!((s.user_id.as_deref(), s.party), (Some("u-seller"), Some(Party::Seller)));
    assert_eq!(s.account.unwrap().account_state, Some(customer_context::AccountState::Restricted));

    // A user the exchange does not know.
    let u2 = Actor::Customer(app.store.upsert_exchange_customer("u-2", None, Some("u2"), Some("en")).await.unwrap());
    let (t2, _) = tickets::create(app, &u2, ticket("who am I"), None).await.unwrap();
    let ctx = customer_context::for_case(app, &l1, &t2.id, None).await.unwrap();
    assert_eq!((ctx.lookup, ctx.account.is_none()), (Lookup::UnknownUser, true));

    // An exchange that is down: the case still opens, saying so, with what was pushed.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/ctx", l.local_addr().unwrap())
    };
    customer_context::set_source(app, &admin, source(&closed, Some(300))).await.unwrap();
    let ctx = customer_context::for_case(app, &l1, &t.id, None).await.unwrap();
    assert_eq!(ctx.lookup, Lookup::Unreachable, "a new source forgets the old one's answers");
    assert!(ctx.error.is_some() && ctx.account.is_none());
    assert_eq!(ctx.pushed.unwrap().vip_tier.as_deref(), Some("VIP3"));

    // An exchange that is slow: the lookup gives up at the source's time limit.
    let slow = HttpPeer::start_with(SECRET, std::time::Duration::from_millis(1500), |_, _| (200, "{}".into())).await;
    // The secret may be left out to keep the one set.
    let keep = SourceInput { secret: None, ..source(&slow.url, Some(300)) };
    customer_context::set_source(app, &admin, keep).await.unwrap();
    let ctx = customer_context::for_case(app, &l1, &t.id, None).await.unwrap();
    assert_eq!(ctx.lookup, Lookup::Unreachable);
    assert_eq!(ctx.error.as_deref(), Some("timed out"));

    // A guest (signed in by email) has no exchange account: nothing is asked.
    app.store.put_guest_code("guest@example.com", "123456", lifebuoy_store::now_ms() + 600_000).await.unwrap();
    let lifebuoy_store::GuestVerify::Verified(g) =
        app.store.verify_guest_code("guest@example.com", "123456").await.unwrap()
    else {
        panic!("the guest's code verifies")
    };
    let guest = Actor::Customer(g);
    let (t3, _) = tickets::create(app, &guest, ticket("guest question"), None).await.unwrap();
    customer_context::set_source(app, &admin, source(&peer.url, None)).await.unwrap();
    let before = peer.requests().len();
    let ctx = customer_context::for_case(app, &l1, &t3.id, None).await.unwrap();
    assert_eq!((ctx.lookup, ctx.user_id), (Lookup::NoExchangeUser, None));
    assert_eq!(peer.requests().len(), before);

    // Removing the source stops the lookups.
    customer_context::remove_source(app, &admin).await.unwrap();
    let ctx = customer_context::for_case(app, &l1, &t.id, None).await.unwrap();
    assert_eq!(ctx.lookup, Lookup::NotConfigured);
}

#[tokio::test]
async fn lookups_sqlite() {
    lookups(Backend::Sqlite).await;
}

#[tokio::test]
async fn lookups_postgres() {
    lookups(Backend::Postgres).await;
}
