//! Live chat over the WebSocket protocol (docs/chat-protocol.md), on SQLite and PostgreSQL: the bot's first
//! line, hand-over and routing, messages both ways, acknowledgements after storage, resends that do not double,
//! resume after a dropped connection (customer and agent), internal notes that never reach the customer,
//! access rules, ending and rating.

use lifebuoy_domain::Role;
use lifebuoy_testkit::{TestApp, WsClient, on_both_backends};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn is_msg_with(body: &'static str) -> impl Fn(&Value) -> bool {
    move |v: &Value| v["type"] == "msg" && v["body"].as_str().is_some_and(|b| b.contains(body))
}

/// Adds every acknowledgement `ws` received for conversation `cid` to `acks` (client id → sequence number); a
/// client id acknowledged twice (a resend) must carry the same sequence number both times.
fn harvest_acks(acks: &mut BTreeMap<String, i64>, ws: &WsClient, cid: &str) {
    for f in ws.seen.iter().filter(|f| f["type"] == "ack" && f["conversation_id"] == cid) {
        let (c, seq) = (f["client_id"].as_str().unwrap().to_string(), f["seq"].as_i64().unwrap());
        let before = acks.insert(c.clone(), seq);
        assert!(before.is_none_or(|b| b == seq), "{c} acknowledged as {before:?} and as {seq}");
    }
}

async fn send(ws: &mut WsClient, client_id: &str, body: &str) -> Value {
    ws.send(json!({"type": "send", "client_id": client_id, "body": body})).await;
    ws.recv_until("ack", |v| v["type"] == "ack" && v["client_id"] == client_id).await
}

async fn conversation(app: &TestApp) {
    let support = app.agent("chat.l1@example.com", "C1001", Role::AgentL1, &["support"]).await;
    app.agent("risk.l1@example.com", "R1001", Role::AgentL1, &["risk"]).await;
    let token = app.visitor_token("visitor@example.com", "zh-Hans").await;
    let (mut cust, welcome) = app.customer_ws(&token, None).await;
    assert!(welcome["chat"].is_null(), "{welcome}");
    assert_eq!(welcome["agents_online"], false);

    // The first message opens a chat; the ack carries the stored sequence number.
    let ack = send(&mut cust, "c-1", "我的提币还没到账").await;
    assert_eq!(ack["seq"], 1);
    assert_eq!(ack["duplicate"], false);
    let cid = ack["conversation_id"].as_str().unwrap().to_string();
    cust.recv_until("own message echoed", |v| v["type"] == "msg" && v["seq"] == 1).await;
    // No knowledge base in this app: the bot says it found nothing; the second miss hands over.
    cust.recv_until("bot apology", |v| v["type"] == "msg" && v["author"]["kind"] == "bot").await;
    send(&mut cust, "c-2", "还是不行").await;
    cust.recv_until("handover event", |v| v["type"] == "event" && v["kind"] == "handover").await;
    cust.recv_until("nobody online", |v| v["type"] == "msg" && v["body"].as_str().unwrap().contains("没有在线")).await;
    let st = cust.recv_until("queued", |v| v["type"] == "chat" && v["chat"]["state"] == "queued").await;
    assert_eq!(st["chat"]["queue"]["position"], 1, "{st}");

    // A resend with the same client id is answered with the stored message, not a twin.
    let again = send(&mut cust, "c-2", "还是不行").await;
    assert_eq!(again["duplicate"], true);
    let first_c2 = cust.seen.iter().find(|v| v["type"] == "ack" && v["client_id"] == "c-2").unwrap()["seq"].clone();
    assert_eq!(again["seq"], first_c2);

    // The agent comes online: the waiting chat is routed to them with its whole history.
    let cookie = app.agent_cookie("chat.l1@example.com").await;
    let mut agent = app.agent_ws(&cookie, json!({})).await;
    agent.recv_type("inbox").await;
    agent.send(json!({"type": "presence", "status": "online", "capacity": 3})).await;
    agent.recv_until("assigned", |v| v["type"] == "assigned" && v["conversation_id"] == cid).await;
    agent.recv_until("history replayed", |v| v["type"] == "msg" && v["seq"] == 1).await;
    let joined = cust.recv_until("agent joined", |v| v["type"] == "chat" && v["chat"]["state"] == "active").await;
    assert_eq!(joined["chat"]["agent"]["agent_no"], "C1001");

    // Messages both ways; the customer sees the agent's number, never an internal note.
    agent.send(json!({"type": "send", "conversation_id": cid, "client_id": "a-1", "body": "内部备注：先查链上记录", "internal": true})).await;
    agent.recv_until("note ack", |v| v["type"] == "ack" && v["client_id"] == "a-1").await;
    agent.send(json!({"type": "send", "conversation_id": cid, "client_id": "a-2", "body": "您好，请提供 TxID"})).await;
    let reply = cust.recv_until("agent reply", is_msg_with("请提供 TxID")).await;
    assert_eq!(reply["author"]["agent_no"], "C1001");
    assert_eq!(reply["author"]["kind"], "agent");
    let hash = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060";
    send(&mut cust, "c-3", &format!("TxID 是 {hash}")).await;
    agent.recv_until("customer reply", is_msg_with("TxID 是")).await;
    assert!(!cust.seen.iter().any(|v| v.to_string().contains("内部备注")), "a note reached the customer");
    let c = app.store.conversation(&cid).await.unwrap().unwrap();
    assert_eq!(c.tx_hash.as_deref(), Some(&hash[2..]), "the tx hash is picked out for the agent");

    // Typing and receipts pass through.
    cust.send(json!({"type": "typing", "on": true})).await;
    agent.recv_until("typing", |v| v["type"] == "typing" && v["from"] == "customer").await;
    agent.send(json!({"type": "receipt", "conversation_id": cid, "delivered": 9, "read": 9})).await;
    cust.recv_until("read receipt", |v| v["type"] == "receipt" && v["side"] == "agent" && v["read"] == 9).await;

    // The customer's connection drops; what the agent says meanwhile arrives on resume, exactly once.
    let last = cust.seen.iter().filter_map(|v| v["seq"].as_i64()).max().unwrap();
    let mut acks = BTreeMap::new();
    harvest_acks(&mut acks, &cust, &cid);
    cust.close().await;
    agent.send(json!({"type": "send", "conversation_id": cid, "client_id": "a-3", "body": "收到，正在查询"})).await;
    agent.send(json!({"type": "send", "conversation_id": cid, "client_id": "a-4", "body": "已确认到账"})).await;
    agent.recv_until("a-4 ack", |v| v["type"] == "ack" && v["client_id"] == "a-4").await;
    let (mut cust, welcome) = app.customer_ws(&token, Some((&cid, last))).await;
    assert_eq!(welcome["chat"]["conversation_id"], cid.as_str());
    cust.recv_until("missed 2", is_msg_with("已确认到账")).await;
    cust.drain(300).await;
    let all: Vec<&Value> = cust.seen.iter().collect();
    let seqs: Vec<i64> = all.iter().filter(|v| v["type"] == "msg").filter_map(|v| v["seq"].as_i64()).collect();
    let mut dedup = seqs.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(seqs.len(), dedup.len(), "no frame twice: {seqs:?}");
    assert!(seqs.iter().all(|s| *s > last), "only what was missed: {seqs:?} after {last}");
    assert_eq!(all.iter().filter(|v| v["type"] == "msg").count(), 2, "{all:?}");

    // The agent's connection drops; a customer message meanwhile arrives when the agent resumes.
    let agent_last =
        agent.seen.iter().filter(|v| v["conversation_id"] == cid).filter_map(|v| v["seq"].as_i64()).max().unwrap();
    harvest_acks(&mut acks, &agent, &cid);
    agent.close().await;
    send(&mut cust, "c-4", "好的谢谢").await;
    let mut agent = app.agent_ws(&cookie, json!({ cid.clone(): agent_last })).await;
    agent.recv_until("missed customer message", is_msg_with("好的谢谢")).await;

    // Access: another customer cannot resume this chat; an agent of another department cannot open it.
    // Nothing refused from here to the end of the bad frames may reach the timeline.
    let stored_before = app.store.timeline(&cid, true).await.unwrap().len();
    let other = app.visitor_token("other@example.com", "en").await;
    let (mut stranger, _) = app.customer_ws(&other, None).await;
    stranger.send(json!({"type": "resume", "conversation_id": cid, "last_seq": 0})).await;
    let e = stranger.recv_type("error").await;
    assert_eq!(e["code"], "not_found");
    assert!(!stranger.seen.iter().any(|v| v["type"] == "msg"));
    let risk_cookie = app.agent_cookie("risk.l1@example.com").await;
    let mut risk = app.agent_ws(&risk_cookie, json!({})).await;
    risk.send(json!({"type": "open", "conversation_id": cid, "last_seq": 0})).await;
    assert_eq!(risk.recv_type("error").await["code"], "not_found");
    risk.send(json!({"type": "send", "conversation_id": cid, "client_id": "x", "body": "hi"})).await;
    assert_eq!(risk.recv_type("error").await["code"], "not_found");
    // A console socket from another site is refused before the upgrade.
    let cross = WsClient::try_connect(
        &format!("ws://{}/ws/console", app.addr),
        &[("cookie", &cookie), ("origin", "https://evil.example")],
    )
    .await;
    assert!(cross.is_err(), "cross-site console socket must be refused");
    // Bad frames get clear errors and store nothing.
    cust.send(json!({"type": "send", "client_id": "", "body": "x"})).await;
    assert_eq!(cust.recv_type("error").await["code"], "invalid");
    cust.send(json!({"type": "send", "client_id": "c-big", "body": "字".repeat(5001)})).await;
    assert_eq!(
        cust.recv_until("too long", |v| v["type"] == "error" && v["client_id"] == "c-big").await["code"],
        "invalid"
    );
    // Positive control: a good frame after the bad ones is stored, and is the only thing stored since.
    let ok = send(&mut cust, "c-after-bad", "这条可以").await;
    assert_eq!(ok["conversation_id"], cid.as_str(), "{ok}");
    let items = app.store.timeline(&cid, true).await.unwrap();
    assert_eq!(items.len(), stored_before + 1, "refused frames stored nothing: {items:#?}");
    assert_eq!(items.last().unwrap().seq(), ok["seq"].as_i64().unwrap());

    // The agent ends the chat; the customer rates it; a bad score is refused.
    agent.send(json!({"type": "end", "conversation_id": cid})).await;
    cust.recv_until("ended", |v| v["type"] == "chat" && v["chat"]["state"] == "ended").await;
    cust.send(json!({"type": "rate", "conversation_id": cid, "score": 9})).await;
    assert_eq!(cust.recv_type("error").await["code"], "invalid");
    cust.send(json!({"type": "rate", "conversation_id": cid, "score": 5, "comment": "很快就解决了"})).await;
    cust.recv_type("rated").await;
    let csat = app.store.csat_by_agent().await.unwrap();
    assert_eq!(csat, vec![(support.clone(), 5.0, 1)]);

    // Everything acknowledged is stored exactly once, in one gapless sequence: the acknowledgements' client id →
    // sequence number map is exactly the stored messages' one.
    harvest_acks(&mut acks, &cust, &cid);
    harvest_acks(&mut acks, &agent, &cid);
    let items = app.store.timeline(&cid, true).await.unwrap();
    let stored: BTreeMap<String, i64> = items
        .iter()
        .filter_map(|i| match i {
            lifebuoy_store::TimelineItem::Message { message, .. } => {
                message.client_id.clone().map(|c| (c, message.seq))
            }
            _ => None,
        })
        .collect();
    assert_eq!(acks, stored, "every acknowledgement is one stored message with its sequence number");
    let sent = ["a-1", "a-2", "a-3", "a-4", "c-1", "c-2", "c-3", "c-4", "c-after-bad"];
    assert_eq!(acks.keys().collect::<Vec<_>>(), sent, "what the customer and the agent sent was acknowledged");
    let seqs: Vec<i64> = items.iter().map(|i| i.seq()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let bodies: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            lifebuoy_store::TimelineItem::Message { message, .. } => Some(message.body.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(bodies.iter().filter(|b| *b == "还是不行").count(), 1);
    assert_eq!(bodies.iter().filter(|b| *b == "已确认到账").count(), 1);

    // A new message after the end starts a new chat.
    let ack = send(&mut cust, "c-5", "another question").await;
    assert_ne!(ack["conversation_id"], cid.as_str());
    cust.close().await;
}
on_both_backends!(chat_conversation, conversation);

/// The bot answers from the starter knowledge base with article links; "转人工" hands over; the transcript API
/// and conversion to a ticket keep the whole conversation.
async fn bot_answers_then_hands_over(app: &TestApp) {
    app.agent("bot.l1@example.com", "C2001", Role::AgentL1, &["support"]).await;
    let cookie = app.agent_cookie("bot.l1@example.com").await;
    let mut agent = app.agent_ws(&cookie, json!({})).await;
    agent.send(json!({"type": "presence", "status": "online"})).await;
    // The answer: the agent is online, as saved.
    agent.recv_until("online", |v| v["type"] == "presence" && v["presence"]["status"] == "online").await;

    let token = app.visitor_token("asker@example.com", "zh-Hans").await;
    let (mut cust, welcome) = app.customer_ws(&token, None).await;
    assert_eq!(welcome["agents_online"], true);
    let ack = send(&mut cust, "q-1", "提币一直没到账怎么办").await;
    let cid = ack["conversation_id"].as_str().unwrap().to_string();
    let bot = cust.recv_until("bot answer", |v| v["type"] == "msg" && v["author"]["kind"] == "bot").await;
    let body = bot["body"].as_str().unwrap();
    assert!(body.contains("/help/zh-Hans/"), "an article link: {body}");
    assert!(body.contains("转人工"), "{body}");

    cust.send(json!({"type": "handover"})).await;
    cust.recv_until("handover", |v| v["type"] == "event" && v["kind"] == "handover").await;
    agent.recv_until("assigned", |v| v["type"] == "assigned" && v["conversation_id"] == cid).await;
    agent.recv_until("question in history", is_msg_with("提币一直没到账")).await;

    // The transcript over HTTP: the customer's own (with their token), and 404 for someone else's.
    let r = app.http.get(app.url(&format!("/api/v1/chats/{cid}/messages"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert!(t["items"].as_array().unwrap().len() >= 4, "{t}");
    let other = app.visitor_token("nosy@example.com", "en").await;
    let r = app.http.get(app.url(&format!("/api/v1/chats/{cid}/messages"))).bearer_auth(&other).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // The agent turns the chat into a ticket that carries the whole transcript.
    agent.send(json!({"type": "to_ticket", "conversation_id": cid})).await;
    let t = agent.recv_type("ticket").await;
    let ticket = app.store.conversation(t["ticket_id"].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(ticket.kind, "ticket");
    let items = app.store.timeline(&ticket.id, false).await.unwrap();
    let first = match &items[0] {
        lifebuoy_store::TimelineItem::Message { message, .. } => message.body.clone(),
        _ => panic!("a ticket starts with a message"),
    };
    // Written in the chat's language: the customer reads it in the portal.
    assert!(first.contains("提币一直没到账怎么办") && first.contains("机器人:") && first.contains("客户:"), "{first}");
    assert!(first.starts_with("在线咨询 LB-"), "{first}");
}
on_both_backends!(bot_answers_then_hands_over_on, bot_answers_then_hands_over, demo);

/// Out of hours: the widget's message form becomes a ticket; the pre-chat form refuses bad input.
async fn offline_form_and_prechat_validation(app: &TestApp) {
    // Each refusal names its reason: the field at fault, or a forged token's code.
    for (body, status, code, field) in [
        (json!({"lang": "en"}), 422, "invalid", "email"),
        (json!({"email": "not-an-email", "lang": "en"}), 422, "invalid", "email"),
        (json!({"email": "a@example.com", "lang": "fr"}), 422, "invalid", "lang"),
        (json!({"email": "a@example.com", "topic": "lunch"}), 422, "invalid", "topic"),
        (json!({"identity_token": "forged.token.value"}), 401, "invalid_identity_token", "token"),
    ] {
        let r = app.http.post(app.url("/api/v1/chat/session")).json(&body).send().await.unwrap();
        let got = r.status().as_u16();
        let e: Value = r.json().await.unwrap();
        assert_eq!((got, e["error"]["code"].as_str()), (status, Some(code)), "{body} → {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(field), "{body} → {e}");
    }
    // Positive control: the same form filled in well opens a session.
    let r = app
        .http
        .post(app.url("/api/v1/chat/session"))
        .json(&json!({"email": "a@example.com", "lang": "en", "topic": "deposit"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = app.visitor_token("late@example.com", "en").await;
    let r = app
        .http
        .post(app.url("/api/v1/chat/offline"))
        .bearer_auth(&token)
        .json(&json!({"body": "My withdrawal 202611230001234 is stuck", "topic": "withdrawal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let t = app.store.conversation(v["ticket_id"].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(t.category, "withdrawal");
    assert_eq!(t.order_id.as_deref(), Some("202611230001234"));
    let r = app.http.post(app.url("/api/v1/chat/offline")).json(&json!({"body": "x"})).send().await.unwrap();
    assert_eq!(r.status(), 401);
}
on_both_backends!(offline_form_and_prechat_validation_on, offline_form_and_prechat_validation);

/// A visitor who signs in on the same browser: the widget sends the visitor session's token with the identity
/// token, and the visitor's chat joins the account (history, export, the open chat). Holding the token is the
/// proof: someone else's token, a made-up one or one already used joins nothing, and the visitor session ends.
async fn visitor_chats_join_the_account(app: &TestApp) {
    let visitor = app.visitor_token("walk.in@example.com", "zh-Hans").await;
    let (mut ws, _) = app.customer_ws(&visitor, None).await;
    let cid = send(&mut ws, "v-1", "我充值的USDT还没到账").await["conversation_id"].as_str().unwrap().to_string();
    drop(ws);
    let session = |body: Value| async move {
        let r = app.http.post(app.url("/api/v1/chat/session")).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    let (s, e) = session(json!({"email": "x@example.com", "lang": "en", "visitor_token": visitor})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("invalid")), "{e}");

    let bob = lifebuoy_testkit::identity_token("bob-join", "en", 600);
    let (_, b) = session(json!({"identity_token": bob})).await;
    let alice = lifebuoy_testkit::identity_token("alice-join", "zh-Hans", 600);
    for not_a_visitor in [b["token"].as_str().unwrap(), "made-up-token"] {
        let (s, a) = session(json!({"identity_token": alice, "visitor_token": not_a_visitor})).await;
        assert_eq!((s, a["joined"].as_i64()), (201, Some(0)), "{a}");
    }
    let (s, a) = session(json!({"identity_token": alice, "visitor_token": visitor})).await;
    assert_eq!((s, a["joined"].as_i64()), (201, Some(1)), "{a}");
    let (alice_id, alice_token) = (a["customer"]["id"].as_str().unwrap(), a["token"].as_str().unwrap());
    assert_eq!(app.store.conversation(&cid).await.unwrap().unwrap().customer_id, alice_id);

    // Hers now: the open chat in her widget, and in her export.
    let (_ws, welcome) = app.customer_ws(alice_token, None).await;
    assert_eq!(welcome["chat"]["conversation_id"], cid.as_str(), "{welcome}");
    let r = app.http.get(app.url("/api/v1/records/export?format=json")).bearer_auth(alice_token).send().await.unwrap();
    let export: Value = r.json().await.unwrap();
    let ids: Vec<&str> =
        export["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [cid.as_str()]);

    // The visitor session has ended; presented again, it joins nothing.
    let r = app.http.get(app.url("/api/v1/records/export?format=json")).bearer_auth(&visitor).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (s, again) = session(json!({"identity_token": bob, "visitor_token": visitor})).await;
    assert_eq!((s, again["joined"].as_i64()), (201, Some(0)), "{again}");
    assert_eq!(app.store.conversation(&cid).await.unwrap().unwrap().customer_id, alice_id);
}
on_both_backends!(visitor_chats_join_the_account_on, visitor_chats_join_the_account);
