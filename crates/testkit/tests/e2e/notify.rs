//! Notifications against real peers: every change of a customer's case that the customer did not make produces
//! one in-site message (`GET /api/v1/notifications`, the portal inbox) and one mail to a real SMTP server
//! (aiosmtpd), in the customer's language, with the anti-phishing code from the identity token; the customer's
//! own changes produce none; a kind turned off by mail still reaches the inbox; the solved mail's rating link
//! records a rating; a job run twice writes one notification and sends one mail; admins edit templates (with a
//! preview and a clear error for a template that does not render), other agents may not; a chat that ends
//! mails its transcript.

use lifebuoy_domain::Role;
use lifebuoy_testkit::{Backend, SECRET, SmtpPeer, TestApp, spawn_app_configured};
use serde_json::{Value, json};
use std::time::Duration;

const SUPPORT: &str = "support@desk.example";

/// An identity token for an exchange user who set an anti-phishing code on the exchange.
fn token_with_code(sub: &str, lang: &str, code: Option<&str>) -> String {
    lifebuoy_web::auth::sign_identity(
        SECRET,
        &lifebuoy_web::auth::IdentityClaims {
            sub: sub.into(),
            email: Some(format!("{sub}@example.com")),
            name: Some(format!("客户{sub}")),
            lang: Some(lang.into()),
            exp: chrono::Utc::now().timestamp() + 3600,
            anti_phishing_code: code.map(str::to_string),
        },
    )
}

/// The mails aiosmtpd printed to `to`, parsed.
fn mails_to(sink: &SmtpPeer, to: &str) -> Vec<mail_parser::Message<'static>> {
    sink.received()
        .split("---------- MESSAGE FOLLOWS ----------")
        .skip(1)
        // Only whole mails: the peer prints a mail line by line, and a read can land in the middle of one.
        .filter_map(|m| m.split_once("------------ END MESSAGE ------------").map(|(m, _)| m))
        .map(|m| {
            m.trim_start_matches(['\r', '\n'])
                .lines()
                .skip_while(|l| l.starts_with("mail options:") || l.starts_with("rcpt options:"))
                .collect::<Vec<_>>()
                .join("\r\n")
        })
        .filter_map(|raw| mail_parser::MessageParser::default().parse(raw.as_bytes()).map(|m| m.into_owned()))
        .filter(|m| m.to().and_then(|a| a.first()).and_then(|a| a.address()) == Some(to))
        .collect()
}

async fn wait_mails(sink: &SmtpPeer, to: &str, n: usize) -> Vec<mail_parser::Message<'static>> {
    for _ in 0..200 {
        let m = mails_to(sink, to);
        if m.len() >= n {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {n} mails to {to}, got {}: {}", mails_to(sink, to).len(), sink.received());
}

async fn inbox(app: &TestApp, token: &str) -> Value {
    let r = app.http.get(app.url("/api/v1/notifications")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn wait_inbox(app: &TestApp, token: &str, n: usize) -> Value {
    for _ in 0..200 {
        let v = inbox(app, token).await;
        if v["items"].as_array().unwrap().len() >= n {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {n} notifications, got {}", inbox(app, token).await);
}

/// Waits until no job is due or running (the runner has done everything the changes caused).
async fn settle(app: &TestApp) {
    for _ in 0..200 {
        let c = app.store.job_counts().await.unwrap();
        if c.due == 0 && c.running == 0 && c.failed == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("jobs did not settle: {:?}", app.store.job_counts().await.unwrap());
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.http.post(app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

async fn every_change_tells_the_customer_once(backend: Backend) {
    let sink = SmtpPeer::start().await;
    let url = sink.url.clone();
    let app = spawn_app_configured(backend, |c| {
        c.smtp = Some((url, format!("Lifebuoy Support <{SUPPORT}>")));
        c.support_address = Some(SUPPORT.into());
        c.public_url = Some("https://support.example".into());
    })
    .await;
    let jobs = app.app.start_jobs().await.unwrap();
    let integration = app.integration_token().await;
    let alice = token_with_code("n-alice", "zh-Hans", Some("蓝色海洋42"));
    let to = "n-alice@example.com";

    // Filed: "received", in Chinese, with the case number, the expected response time and the anti-phishing code.
    let t = post(
        &app,
        &alice,
        "/api/v1/tickets",
        json!({"subject": "提现未到账", "body": "三小时了还没到", "category": "withdrawal"}),
    )
    .await;
    let id = t["id"].as_str().unwrap().to_string();
    let case = t["case_number"].as_str().unwrap().to_string();
    let m = wait_mails(&sink, to, 1).await;
    let subject = m[0].subject().unwrap_or_default().to_string();
    assert!(subject.contains("我们已收到您的工单") && subject.contains(&case), "{subject}");
    let text = m[0].body_text(0).unwrap_or_default().to_string();
    assert!(text.contains("防钓鱼码：蓝色海洋42"), "the anti-phishing code is in every genuine mail: {text}");
    assert!(
        text.contains("24 小时") && text.contains(&format!("https://support.example/portal/tickets/{id}")),
        "{text}"
    );
    assert_eq!(m[0].header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"), "machine-made mail says so");
    assert_eq!(m[0].from().and_then(|a| a.first()).and_then(|a| a.address()), Some(SUPPORT));
    let v = wait_inbox(&app, &alice, 1).await;
    assert_eq!((v["unread"].as_i64(), v["items"][0]["kind"].as_str()), (Some(1), Some("received")), "{v}");

    // An agent's reply: "replied", carrying the reply; answerable by mail (threaded to the case).
    post(
        &app,
        &integration,
        &format!("/api/v1/tickets/{id}/messages"),
        json!({"body": "您好，我们正在核实您的提现。"}),
    )
    .await;
    let m = wait_mails(&sink, to, 2).await;
    let text = m[1].body_text(0).unwrap_or_default().to_string();
    assert!(text.contains("您好，我们正在核实您的提现。") && text.contains("防钓鱼码：蓝色海洋42"), "{text}");
    assert!(m[1].header_raw("Auto-Submitted").is_none(), "a person's reply is not auto-generated");

    // Status changes by staff: more information needed, on hold (a plain status change), solved.
    for (status, needle) in [("pending", "需要您补充信息"), ("on_hold", "等待其他部门"), ("solved", "您的工单已解决")]
    {
        let n = mails_to(&sink, to).len();
        post(&app, &integration, &format!("/api/v1/tickets/{id}/status"), json!({"status": status})).await;
        let m = wait_mails(&sink, to, n + 1).await;
        let subject = m[n].subject().unwrap_or_default();
        assert!(subject.contains(needle), "{status}: {subject}");
    }
    settle(&app).await;
    let m = mails_to(&sink, to);
    assert_eq!(m.len(), 5, "one mail per change");
    let v = inbox(&app, &alice).await;
    let kinds: Vec<&str> = v["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["solved", "status_changed", "more_info", "replied", "received"],
        "one in-site message per change"
    );
    assert_eq!(v["unread"], 5);

    // The solved mail's rating link: the page shows the clicked score and records nothing until confirmed.
    let solved = m[4].body_text(0).unwrap_or_default().to_string();
    let link = solved
        .split_whitespace()
        .find(|w| w.contains("/portal/rate/") && w.ends_with("score=4"))
        .unwrap_or_else(|| panic!("a rating link for 4 stars: {solved}"))
        .to_string();
    let path =
        &link[link.find("https://support.example/").expect("an absolute link") + "https://support.example".len()..];
    let page = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(r#"value="4" required checked"#), "the clicked score is chosen");
    assert!(
        app.store.case_rating(&id).await.unwrap().is_none(),
        "opening the link rates nothing (mail scanners open links)"
    );
    let form_path = path.split('?').next().unwrap();
    let r = app
        .http
        .post(app.url(form_path))
        .header("origin", app.base.as_str())
        .form(&[("score", "4"), ("comment", "很快解决了")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rating = app.store.case_rating(&id).await.unwrap().expect("rated");
    assert_eq!((rating.score, rating.comment.as_deref()), (4, Some("很快解决了")));
    let r = app
        .http
        .post(app.url(form_path))
        .header("origin", "https://evil.example")
        .form(&[("score", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a rating posted from another site is refused");
    assert_eq!(app.store.case_rating(&id).await.unwrap().unwrap().score, 4);
    let r = app.http.get(app.url("/portal/rate/not-a-notification?score=5")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // The customer's own change (a reply, which reopens the solved case) tells them nothing.
    post(&app, &alice, &format!("/api/v1/tickets/{id}/messages"), json!({"body": "谢谢，已经到账了"})).await;
    settle(&app).await;
    assert_eq!(inbox(&app, &alice).await["items"].as_array().unwrap().len(), 5);
    assert_eq!(mails_to(&sink, to).len(), 5);

    // Status changes turned off by mail still reach the inbox.
    let r = app
        .http
        .put(app.url("/api/v1/notifications/preferences"))
        .bearer_auth(&alice)
        .json(&json!([{"kind": "status_changed", "email": false}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let prefs: Value = r.json().await.unwrap();
    assert!(prefs.as_array().unwrap().iter().any(|p| p["kind"] == "status_changed" && p["email"] == false), "{prefs}");
    post(&app, &integration, &format!("/api/v1/tickets/{id}/status"), json!({"status": "on_hold"})).await;
    let v = wait_inbox(&app, &alice, 6).await;
    settle(&app).await;
    assert_eq!(v["items"][0]["kind"], "status_changed");
    assert_eq!(mails_to(&sink, to).len(), 5, "no mail for a kind the customer turned off");
    let row = app.store.notification(v["items"][0]["id"].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(row.email.as_deref(), Some("off"));

    // The exchange's backend reads the same inbox by its own user id; nobody else sees it.
    let r =
        app.http.get(app.url("/api/v1/notifications?customer=n-alice")).bearer_auth(&integration).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 6, "{v}");
    let r = app.http.get(app.url("/api/v1/notifications")).bearer_auth(&integration).send().await.unwrap();
    assert_eq!(r.status(), 422, "the integration must name the customer");
    let bob = token_with_code("n-bob", "en", None);
    assert_eq!(inbox(&app, &bob).await["items"].as_array().unwrap().len(), 0, "another customer sees none of it");

    // Read marks.
    let first = inbox(&app, &alice).await["items"][0]["id"].as_str().unwrap().to_string();
    let v = post(&app, &alice, "/api/v1/notifications/read", json!({"ids": [first]})).await;
    assert_eq!((v["updated"].as_i64(), v["unread"].as_i64()), (Some(1), Some(5)), "{v}");
    let v = post(&app, &alice, "/api/v1/notifications/read", json!({})).await;
    assert_eq!(v["unread"], 0);

    // A notify job that runs again (a node killed after the send, before the ack) writes nothing new and mails
    // nothing more: the same cause is one notification, its mail marked sent.
    let last = app.store.conversation(&id).await.unwrap().unwrap();
    let done_before = app.store.job_counts().await.unwrap();
    let again = lifebuoy_store::NewJob::new(
        lifebuoy_app::notify::JOB,
        &json!({"conversation": id, "seq": last.last_seq, "kind": "status_changed", "status": "on_hold"}),
    );
    app.store.enqueue_jobs(&[again]).await.unwrap();
    settle(&app).await;
    assert!(app.store.job_counts().await.unwrap().dead == done_before.dead);
    assert_eq!(inbox(&app, &alice).await["items"].as_array().unwrap().len(), 6);
    assert_eq!(mails_to(&sink, to).len(), 5);

    jobs.shutdown().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_tells_the_customer_once_sqlite() {
    every_change_tells_the_customer_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_tells_the_customer_once_postgres() {
    every_change_tells_the_customer_once(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_edit_templates_with_a_preview_and_the_next_notification_uses_them() {
    let sink = SmtpPeer::start().await;
    let url = sink.url.clone();
    let app = spawn_app_configured(Backend::Sqlite, |c| {
        c.smtp = Some((url, format!("Lifebuoy Support <{SUPPORT}>")));
        c.support_address = Some(SUPPORT.into());
    })
    .await;
    let jobs = app.app.start_jobs().await.unwrap();
    app.agent("admin@desk.example", "AD01", Role::Admin, &["support"]).await;
    app.agent("l1@desk.example", "L101", Role::AgentL1, &["support"]).await;
    let admin = app.agent_client("admin@desk.example").await;
    let l1 = app.agent_client("l1@desk.example").await;

    let r = l1.get(app.url("/console/notifications")).send().await.unwrap();
    assert_eq!(r.status(), 403, "templates are for admins");
    let r = admin.get(app.url("/console/notifications")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("/console/notifications/received/en")
            && page.contains("/console/notifications/transcript/zh-Hant")
    );

    let r = admin.get(app.url("/console/notifications/received/en")).send().await.unwrap();
    let page = r.text().await.unwrap();
    let csrf = page.split(r#"name="_csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(page.contains("LB-20261130-0042"), "the preview renders the built-in text on sample data");

    // A template that does not render: shown back with the problem, nothing saved, the text kept.
    let broken = "Dear {{ customer_name\nYour case {{ case_number }}";
    let r = admin
        .post(app.url("/console/notifications/received/en"))
        .header("origin", app.base.as_str())
        .form(&[
            ("_csrf", csrf.as_str()),
            ("subject", "Got it {{ case_number }}"),
            ("body", broken),
            ("action", "save"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"id="problem""#) && page.contains("Dear {{ customer_name"), "{page}");
    assert!(app.store.notification_template("received", "en").await.unwrap().is_none(), "nothing saved");

    // Preview of an edited text, then save.
    let body = "Hi {{ customer_name }}, we have your case {{ case_number }}. Expect us within {{ expected_response }}.";
    let r = admin
        .post(app.url("/console/notifications/received/en"))
        .header("origin", app.base.as_str())
        .form(&[
            ("_csrf", csrf.as_str()),
            ("subject", "Got it: {{ case_number }}"),
            ("body", body),
            ("action", "preview"),
        ])
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("Hi Alex, we have your case LB-20261130-0042. Expect us within 24 hours."), "{page}");
    assert!(app.store.notification_template("received", "en").await.unwrap().is_none(), "a preview saves nothing");
    let r = admin
        .post(app.url("/console/notifications/received/en"))
        .header("origin", app.base.as_str())
        .form(&[("_csrf", csrf.as_str()), ("subject", "Got it: {{ case_number }}"), ("body", body), ("action", "save")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = l1
        .post(app.url("/console/notifications/received/en"))
        .header("origin", app.base.as_str())
        .form(&[("_csrf", csrf.as_str()), ("subject", "x"), ("body", "x"), ("action", "save")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a front-line agent cannot save a template");

    // The next English customer's "received" uses the admin's text, with the safety footer still added.
    let bob = token_with_code("t-bob", "en", Some("OWL-7"));
    post(&app, &bob, "/api/v1/tickets", json!({"subject": "KYC stuck", "body": "since Monday", "category": "kyc"}))
        .await;
    let m = wait_mails(&sink, "t-bob@example.com", 1).await;
    let text = m[0].body_text(0).unwrap_or_default().to_string();
    assert!(m[0].subject().unwrap_or_default().starts_with("Got it: "), "{:?}", m[0].subject());
    assert!(text.contains("Hi 客户t-bob, we have your case") && text.contains("Anti-phishing code: OWL-7"), "{text}");
    assert!(text.contains("never ask for your password"), "{text}");

    jobs.shutdown().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_that_ends_mails_its_transcript_to_a_verified_address_only() {
    let sink = SmtpPeer::start().await;
    let url = sink.url.clone();
    let app = spawn_app_configured(Backend::Sqlite, |c| {
        c.smtp = Some((url, format!("Lifebuoy Support <{SUPPORT}>")));
        c.support_address = Some(SUPPORT.into());
    })
    .await;
    let jobs = app.app.start_jobs().await.unwrap();
    // An exchange customer (the exchange vouches for the address) and a widget visitor (who typed any address).
    let carol = app
        .store
        .upsert_exchange_customer("c-carol", Some("carol@example.com"), Some("Carol"), Some("zh-Hant"))
        .await
        .unwrap();
    let visitor = app.store.create_visitor(Some("victim@example.com"), None, lifebuoy_domain::Lang::En).await.unwrap();
    for k in [&carol, &visitor] {
        let chat =
            app.store.start_chat(&lifebuoy_testkit::deposit_chat(&k.id, "我的充值還沒到帳", None)).await.unwrap();
        app.store.end_chat(&chat.conversation.id, &lifebuoy_store::Actor::System).await.unwrap();
    }
    let m = wait_mails(&sink, "carol@example.com", 1).await;
    assert!(m[0].subject().unwrap_or_default().contains("線上諮詢"), "{:?}", m[0].subject());
    assert!(m[0].body_text(0).unwrap_or_default().contains("我的充值還沒到帳"), "the transcript is in the mail");
    settle(&app).await;
    assert!(mails_to(&sink, "victim@example.com").is_empty(), "an address a visitor typed is never mailed");
    let (items, _) = app.store.notifications(&visitor.id, None, 10).await.unwrap();
    assert_eq!((items.len(), items[0].email.as_deref()), (1, Some("none")), "the visitor still has it in-site");
    jobs.shutdown().await;
    app.cleanup().await;
}

/// An appeal is news to both sides of the order: each party gets one mail (in their own language, with their own
/// anti-phishing code and a link to the order) and one in-site message, though the order's conversation is the
/// buyer's; the exchange's own events stay silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appeal_mails_both_parties() {
    let sink = SmtpPeer::start().await;
    let url = sink.url.clone();
    let app = spawn_app_configured(Backend::Sqlite, |c| {
        c.smtp = Some((url, format!("Lifebuoy Support <{SUPPORT}>")));
        c.support_address = Some(SUPPORT.into());
        c.public_url = Some("https://support.example".into());
    })
    .await;
    let jobs = app.app.start_jobs().await.unwrap();
    let integration = app.integration_token().await;
    let buyer = token_with_code("n-buyer", "zh-Hans", Some("买家暗号7"));
    let seller = token_with_code("n-seller", "zh-Hant", Some("賣家暗號8"));
    // Both have used the desk before (the exchange's token makes them customers with their email).
    for t in [&buyer, &seller] {
        inbox(&app, t).await;
    }
    let order = json!({"id": "N-C2C-1", "buyer": "n-buyer", "seller": "n-seller", "asset": "USDT", "amount": "200",
                       "fiat_amount": "1440.00", "fiat_currency": "CNY", "payment_method": "bank_transfer"});
    post(&app, &integration, "/api/v1/c2c/orders", order).await;
    post(&app, &integration, "/api/v1/c2c/orders/N-C2C-1/events", json!({"event": "paid"})).await;
    settle(&app).await;
    assert!(mails_to(&sink, "n-buyer@example.com").is_empty(), "the exchange's own events are no news");

    post(
        &app,
        &buyer,
        "/api/v1/c2c/orders/N-C2C-1/appeal",
        json!({"reason": "paid_not_released", "body": "已付款 1440 元，卖家未放币"}),
    )
    .await;
    let b = wait_mails(&sink, "n-buyer@example.com", 1).await;
    let s = wait_mails(&sink, "n-seller@example.com", 1).await;
    let (bs, ss) = (b[0].subject().unwrap_or_default().to_string(), s[0].subject().unwrap_or_default().to_string());
    assert!(bs.contains("C2C 订单申诉") && bs.contains("已提交"), "the buyer's, in Simplified Chinese: {bs}");
    assert!(ss.contains("C2C 訂單申訴"), "the seller's, in Traditional Chinese: {ss}");
    let (bt, st) =
        (b[0].body_text(0).unwrap_or_default().to_string(), s[0].body_text(0).unwrap_or_default().to_string());
    assert!(bt.contains("买家暗号7") && !bt.contains("賣家暗號8"), "each with their own anti-phishing code: {bt}");
    assert!(st.contains("賣家暗號8") && !st.contains("买家暗号7"), "{st}");
    for t in [&bt, &st] {
        assert!(t.contains("https://support.example/portal/orders/N-C2C-1"), "a link to the order: {t}");
    }
    assert_eq!(wait_inbox(&app, &seller, 1).await["items"][0]["kind"], "appeal");
    settle(&app).await;
    assert_eq!(mails_to(&sink, "n-seller@example.com").len(), 1, "one mail per party");
    jobs.shutdown().await;
}
