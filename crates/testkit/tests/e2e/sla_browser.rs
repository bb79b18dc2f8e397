//! Chat clocks in real headless Chromium (issue 13): two customers wait in the queue; the one whose two
//! minutes are nearly up shows an amber clock, goes red when they run out, and stands above the chat that
//! changed more recently. The clock is the chat policy's (first answer within 2 minutes of the handover).

use fantoccini::{Client, Locator};
use lifebuoy_app::Actor;
use lifebuoy_app::chat::service;
use lifebuoy_domain::{Lang, Role};
use lifebuoy_testkit::{Backend, ChromeDriver, PASSWORD, TestApp, screenshot_dir, spawn_app_with};
use std::time::Duration;

async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
}

/// A customer asks the bot, then for a human; nobody is online, so the chat waits in the queue.
async fn queued_chat(app: &TestApp, external_id: &str, name: &str, body: &str) -> String {
    let customer = app.store.upsert_exchange_customer(external_id, None, Some(name), Some("zh-Hans")).await.unwrap();
    let a = service::customer_send(&app.app, &customer, None, Lang::ZhHans, Some("withdrawal"), "c-1", body, &[])
        .await
        .expect("the customer's message");
    let cid = a.conversation.id.clone();
    service::handover(&app.app, &Actor::Customer(customer), &cid, "customer").await.expect("handover");
    for _ in 0..100 {
        if let Some((_, ch)) = app.store.chat(&cid).await.unwrap()
            && ch.state == "queued"
        {
            return cid;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chat {cid} never reached the queue");
}

/// Moves a chat's handover back in time (straight in the database), as if the customer had waited longer.
async fn backdate_queue(app: &TestApp, cid: &str, ms: i64) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&app.db_url()).await.unwrap();
    sqlx::query("UPDATE chats SET queued_at = queued_at - $1 WHERE conversation_id = $2")
        .bind(ms)
        .bind(cid)
        .execute(&mut c)
        .await
        .unwrap();
}

/// The inbox's lines in page order: (conversation id, clock class, line class).
async fn inbox_lines(c: &Client) -> Vec<(String, String, String)> {
    let got = c
        .execute(
            "return Array.from(document.querySelectorAll('#inbox .cc-item')).map(li => { \
               const k = li.querySelector('.cc-clock'); \
               return [li.dataset.cid, k ? k.className : '', li.className]; });",
            vec![],
        )
        .await
        .expect("read the inbox");
    serde_json::from_value(got).expect("lines")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_past_its_clock_turns_red_and_leads_the_queue() {
    let app = spawn_app_with(Backend::Sqlite, false).await;
    app.agent("sla.agent@x.dev", "A3001", Role::AgentL1, &["support"]).await;
    // 王芳 asked first, 李雷 a moment later: by latest change 李雷 would come first.
    let first = queued_chat(&app, "U-SLA-1", "王芳", "提币三个小时还没到账").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = queued_chat(&app, "U-SLA-2", "李雷", "充值地址填错了怎么办").await;
    // 王芳 has waited 1 min 40 s of her 2 minutes: 20 s left, under the quarter that warns.
    backdate_queue(&app, &first, 100_000).await;

    let driver = ChromeDriver::start().await;
    let agent = driver.session("zh-CN").await;
    agent.goto(&app.url("/console/login")).await.unwrap();
    agent.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("sla.agent@x.dev").await.unwrap();
    agent.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    agent.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_css(&agent, "#queue, .queue").await;
    agent.goto(&app.url("/console/chats")).await.unwrap();
    wait_css(&agent, "#conn.is-online").await;
    // The department's tab lists every chat; without clocks it would put the latest change first.
    wait_css(&agent, "#tab-dept").await.click().await.unwrap();
    wait_css(&agent, &format!("#inbox .cc-item[data-cid='{second}'] .cc-clock")).await;
    let lines = inbox_lines(&agent).await;
    let order: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(order, vec![first.as_str(), second.as_str()], "the nearer deadline first: {lines:?}");
    assert!(lines[0].1.contains("sla-warning"), "20 s left is a warning: {lines:?}");
    assert!(lines[1].1.contains("sla-ok"), "a fresh chat has its whole two minutes: {lines:?}");
    let text = agent
        .find(Locator::Css(&format!("#inbox .cc-item[data-cid='{first}'] .cc-clock")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("剩 0:"), "time left in words: {text:?}");

    // Her two minutes run out while the agent looks: the line turns red, still on top.
    wait_css(&agent, &format!("#inbox .cc-item.is-overdue[data-cid='{first}'] .cc-clock.sla-breached")).await;
    let lines = inbox_lines(&agent).await;
    assert_eq!(lines[0].0, first, "{lines:?}");
    assert!(lines[0].2.contains("is-overdue"), "{lines:?}");
    assert!(!lines[1].2.contains("is-overdue"), "the other chat still has time: {lines:?}");
    let text = agent
        .find(Locator::Css(&format!("#inbox .cc-item[data-cid='{first}'] .cc-clock")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("超时 0:"), "overdue in words: {text:?}");
    // Opened, the chat shows the same clock in its header.
    wait_css(&agent, &format!("#inbox .cc-item[data-cid='{first}']")).await.click().await.unwrap();
    let head = wait_css(&agent, "#chat-clock.sla-breached:not([hidden])").await.text().await.unwrap();
    assert!(head.starts_with("超时 "), "{head:?}");
    let png = agent.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join("sla-01-chat-overdue-zh-Hans.png"), png).unwrap();
    agent.close().await.unwrap();
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_shortens_a_target_in_the_console_and_sees_alerts() {
    let app = spawn_app_with(Backend::Sqlite, false).await;
    let admin_id = app.agent("sla.admin@x.dev", "ADM9", Role::Admin, &["support"]).await;
    let driver = ChromeDriver::start().await;
    let c = driver.session("zh-CN").await;
    c.goto(&app.url("/console/login")).await.unwrap();
    c.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("sla.admin@x.dev").await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_css(&c, "#queue, .queue").await;
    c.goto(&app.url("/console/sla")).await.unwrap();
    // Security and funds: first answer within 30 minutes, shipped; the admin makes it 20, in office hours.
    let funds = wait_css(&c, "#policy-funds").await;
    assert!(funds.text().await.unwrap().contains("首次回复 30 分钟"), "{}", funds.text().await.unwrap());
    wait_css(&c, "#policy-funds .sla-edit summary").await.click().await.unwrap();
    let first = wait_css(&c, "#policy-funds input[name=first_response_min]").await;
    first.clear().await.unwrap();
    first.send_keys("20").await.unwrap();
    wait_css(&c, "#policy-funds input[name=calendar][value=hours]").await.click().await.unwrap();
    let tz = wait_css(&c, "#policy-funds input[name=tz]").await;
    tz.clear().await.unwrap();
    tz.send_keys("Asia/Singapore").await.unwrap();
    wait_css(&c, "#policy-funds button[type=submit]").await.click().await.unwrap();
    wait_css(&c, "#notice").await;
    let funds = wait_css(&c, "#policy-funds").await.text().await.unwrap();
    assert!(funds.contains("首次回复 20 分钟") && funds.contains("Asia/Singapore"), "{funds}");
    // As the API has it: office hours Monday to Friday, 09:00–18:00.
    let token = app.integration_token().await;
    let all: serde_json::Value =
        app.http.get(app.url("/api/v1/sla-policies")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let p = all["items"].as_array().unwrap().iter().find(|p| p["id"] == "funds").unwrap().clone();
    assert_eq!(p["first_response_min"], 20);
    assert_eq!(p["calendar"]["tz"], "Asia/Singapore");
    assert_eq!(p["calendar"]["days"][0], serde_json::json!([540, 1080]));
    assert!(p["calendar"]["days"][5].is_null(), "Saturday off: {p}");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join("sla-02-policies-zh-Hans.png"), png).unwrap();

    // A bad zone is refused with the reason, and nothing changes.
    wait_css(&c, "#policy-funds .sla-edit summary").await.click().await.unwrap();
    let tz = wait_css(&c, "#policy-funds input[name=tz]").await;
    tz.clear().await.unwrap();
    tz.send_keys("Mars/Olympus").await.unwrap();
    wait_css(&c, "#policy-funds button[type=submit]").await.click().await.unwrap();
    let bad = wait_css(&c, "#bad-entry").await.text().await.unwrap();
    assert!(bad.contains("Mars/Olympus"), "{bad}");
    assert!(wait_css(&c, "#policy-funds").await.text().await.unwrap().contains("Asia/Singapore"));

    // An alert raised for this admin shows in the console, counted in the menu.
    let alert = lifebuoy_store::NewAlert {
        agent_id: admin_id.clone(),
        kind: "sla_warning".into(),
        cause: "test".into(),
        conversation_id: None,
        data: serde_json::json!({"case_number": "LB-261201-0042", "subject": "提币未到账", "due_at": 1_800_000_000_000i64})
            .to_string(),
    };
    app.store.add_staff_alerts(&[alert]).await.unwrap();
    c.goto(&app.url("/console/alerts")).await.unwrap();
    let item = wait_css(&c, "#alerts .alert-item.is-unread").await.text().await.unwrap();
    assert!(item.contains("即将超时") && item.contains("LB-261201-0042") && item.contains("提币未到账"), "{item}");
    wait_css(&c, "#nav-alerts-n:not([hidden])").await;
    assert_eq!(wait_css(&c, "#nav-alerts-n").await.text().await.unwrap(), "1");
    wait_css(&c, "#alerts-read").await.click().await.unwrap();
    wait_css(&c, "#alerts .alert-item:not(.is-unread)").await;

    // A trend alert: the topic, how far above usual, the latest cases, and a draft announcement in one click.
    let trend = lifebuoy_store::NewAlert {
        agent_id: admin_id.clone(),
        kind: "trend".into(),
        cause: "trend:withdrawal:USDT:1".into(),
        conversation_id: None,
        data: serde_json::json!({"category": "withdrawal", "asset": "USDT", "count": 12, "usual_per_hour": 0.4,
            "examples": [{"id": "x1", "kind": "ticket", "case_number": "LB-261201-0099", "subject": "USDT 提币卡住了"}]})
        .to_string(),
    };
    app.store.add_staff_alerts(&[trend]).await.unwrap();
    c.goto(&app.url("/console/alerts")).await.unwrap();
    let item = wait_css(&c, "#alerts .alert-trend-line").await.text().await.unwrap();
    assert_eq!(item, "提币 · USDT：过去一小时 12 个会话（平时每小时约 0.4 个）。");
    wait_css(&c, "#draft-withdrawal").await.click().await.unwrap();
    let title = wait_css(&c, "#publish-form input[name='title.zh-Hans']").await.prop("value").await.unwrap();
    assert_eq!(title.as_deref(), Some("关于 USDT 提币问题的说明"));
    let body = wait_css(&c, "#publish-form textarea[name='body.en']").await.prop("value").await.unwrap();
    assert!(body.unwrap_or_default().contains("USDT Withdrawal"), "the English draft names the topic");
    assert!(
        wait_css(&c, "#publish-form input[name='topic.withdrawal']").await.prop("checked").await.unwrap()
            == Some("true".into())
    );
    c.close().await.unwrap();
    app.cleanup().await;
}
